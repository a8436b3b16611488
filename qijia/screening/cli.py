"""``qijia screen`` and ``qijia gen-bundle`` (dispatched from :mod:`qijia.cli`, no Django).

    qijia screen BUNDLE [--as-of YYYY-MM-DD] --out findings.json [--report report.html]
                        [--truth truth.json]
    qijia gen-bundle OUT --scale small|city [--seed N]

Exit codes: 0 screened (findings or not), 2 invalid bundle or arguments (every problem printed,
nothing written), 1 an unexpected failure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any, NoReturn


def _progress(enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm

    def bar(iterable, **kwargs):
        return tqdm(iterable, file=sys.stderr, leave=False, mininterval=0.5, **kwargs)

    return bar


def _write_atomic(path: Path, text: str) -> None:
    """Write through a temporary file in the same folder, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file the usual permissions
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期“{value}”格式错误，应为 YYYY-MM-DD") from None


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # exit 2 with a Chinese lead-in
        self.print_usage(sys.stderr)
        print(f"参数错误：{message}", file=sys.stderr)
        raise SystemExit(2)


def _screen_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="qijia screen", description="对诚信核查数据包进行筛查，输出 findings.json")
    p.add_argument("bundle", type=Path, help="数据包文件夹或 .zip 文件")
    p.add_argument("--as-of", type=_date, default=None, help="核查日（YYYY-MM-DD，默认今天）")
    p.add_argument("--out", type=Path, required=True, help="输出 findings.json 的路径")
    p.add_argument("--report", type=Path, default=None, help="输出 HTML 审核报告的路径")
    p.add_argument(
        "--truth", type=Path, default=None, help="标准答案 truth.json，打印各类查准率与查全率"
    )
    p.add_argument("--cache", type=Path, default=None, help="照片指纹缓存目录")
    p.add_argument("--no-progress", action="store_true", help="不显示进度条")
    p.add_argument("--show-misses", action="store_true", help="与 --truth 一起：列出漏报与误报")
    p.add_argument(
        "--stats",
        type=Path,
        default=None,
        help="把各阶段用时、条数（及与 --truth 的评分）写入此 JSON 文件",
    )
    return p


def screen_command(argv: list[str]) -> int:
    args = _screen_parser().parse_args(argv)
    from qijia.core.memory import peak_rss_mib
    from qijia.screening import scoring
    from qijia.screening.bundle import BundleError
    from qijia.screening.engine import findings_document, load_for_screening, screen

    as_of = args.as_of or dt.date.today()
    progress = _progress(not args.no_progress)
    truth = None
    truth_as_of = None
    if args.truth is not None:
        try:
            truth = scoring.load_truth(args.truth)
            truth_as_of = scoring.truth_as_of(args.truth)
        except scoring.TruthError as exc:
            print(str(exc), file=sys.stderr)
            return 2
    started = time.perf_counter()
    timings: dict[str, float] = {}
    try:
        if progress:
            print(f"正在读取并校验数据包 {args.bundle} …", file=sys.stderr, flush=True)
        bundle, prints, digests = load_for_screening(
            args.bundle, cache_dir=args.cache, progress=progress, timings=timings
        )
        if truth_as_of and truth_as_of != as_of.isoformat():
            print(
                f"注意：标准答案按核查日 {truth_as_of} 计算，本次核查日为 {as_of.isoformat()}",
                file=sys.stderr,
            )
        if progress:
            print("正在筛查：名单、发票、关联关系、照片 …", file=sys.stderr, flush=True)
        # (a photo changed on disk while being screened is a BundleError here too)
        findings = screen(
            bundle, as_of, prints=prints, digests=digests, progress=progress, timings=timings
        )
    except BundleError as exc:
        print(
            f"数据包“{args.bundle}”无效，共{len(exc.problems)}处问题，未写出任何结果：",
            file=sys.stderr,
        )
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    document = findings_document(findings, as_of)
    report_html = None
    if args.report is not None:
        from qijia.screening.report import render_report

        report_html = render_report(bundle, findings, as_of)
    _write_atomic(args.out, json.dumps(document, ensure_ascii=False, indent=1) + "\n")
    if report_html is not None:
        _write_atomic(args.report, report_html)
    elapsed = time.perf_counter() - started
    counts = Counter(f.kind for f in findings)
    print(
        f"已筛查 {len(bundle.applications)} 个申报，发现 {len(findings)} 条问题"
        f"（{elapsed:.1f} 秒）：" + "，".join(f"{k} {n}" for k, n in sorted(counts.items())),
        file=sys.stderr,
    )
    stats: dict[str, Any] = {
        "seconds": {**timings, "total": round(elapsed, 3)},
        "applications": len(bundle.applications),
        "photos": len(bundle.photos),
        "counts": dict(sorted(counts.items())),
        "peak_rss_mib": peak_rss_mib(),
    }
    if truth is not None:
        predicted = scoring.finding_keys(findings)
        scores = scoring.score(predicted, truth)
        print(scoring.format_scores(scores))
        if args.show_misses:
            print(scoring.missed_and_extra(predicted, truth))
        stats["scores"] = {
            s.kind: {
                "precision": s.precision,
                "recall": s.recall,
                "tp": s.true_positives,
                "found": s.predicted,
                "truth": s.expected,
            }
            for s in scores
        }
    if args.stats is not None:
        _write_atomic(args.stats, json.dumps(stats, ensure_ascii=False, indent=1) + "\n")
    return 0


def gen_bundle_command(argv: list[str]) -> int:
    p = _Parser(prog="qijia gen-bundle", description="生成带有预置问题与干扰项的合成数据包")
    p.add_argument("out", type=Path, help="输出文件夹")
    p.add_argument("--scale", choices=("small", "city"), default="small")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    from qijia.screening.generator import GeneratorError, generate_bundle

    started = time.perf_counter()
    try:
        summary: dict[str, Any] = generate_bundle(args.out, args.scale, args.seed) or {}
    except GeneratorError as exc:
        print(f"无法生成数据包：{exc}", file=sys.stderr)
        return 2
    print(
        f"已生成数据包 {args.out}（规模 {args.scale}，种子 {args.seed}，"
        f"{time.perf_counter() - started:.1f} 秒）",
        file=sys.stderr,
    )
    if summary:
        print(json.dumps(summary, ensure_ascii=False, indent=1, default=str))
    return 0


def main(argv: list[str]) -> int:
    """``argv`` starts with the command name ("screen" or "gen-bundle")."""
    if not argv:
        print("用法：qijia screen … | qijia gen-bundle …", file=sys.stderr)
        return 2
    command, rest = argv[0], list(argv[1:])
    try:
        if command == "screen":
            return screen_command(rest)
        if command == "gen-bundle":
            return gen_bundle_command(rest)
    except SystemExit as exc:
        return int(exc.code or 0)
    print(f"未知命令“{command}”，应为 screen 或 gen-bundle", file=sys.stderr)
    return 2
