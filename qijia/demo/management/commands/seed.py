"""``qijia seed --scale demo|city [--seed N] [--if-empty]``: load the demo city."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import IO, Any, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser

from qijia.core.errors import DomainError
from qijia.core.memory import peak_rss_mib
from qijia.demo import generator
from qijia.demo.steps import SCALES, SeedContext, SeedStepError, registered_steps, run_steps
from qijia.enterprises.models import Enterprise


def _month(value: str) -> dt.date:
    try:
        return dt.datetime.strptime(value, "%Y-%m").date()
    except ValueError:
        raise CommandError(f"--end-month 应为 YYYY-MM 格式，实际为“{value}”") from None


class Command(BaseCommand):
    help = "生成演示城市数据（企业、自然人、职务、持股、月度指标），同一种子结果相同。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", choices=SCALES, default="demo")
        parser.add_argument("--seed", type=int, default=2026, help="随机种子（默认 2026）")
        parser.add_argument(
            "--if-empty", action="store_true", help="已有企业数据时什么也不做（make demo 用）"
        )
        parser.add_argument(
            "--end-month", type=_month, default=None,
            help="指标窗口的最后一个月 YYYY-MM（默认去年12月）",
        )  # fmt: skip
        parser.add_argument("--workers", type=int, default=None, help="生成用的进程数")
        parser.add_argument("--no-progress", action="store_true", help="不显示进度条")
        parser.add_argument(
            "--enterprises", type=int, default=None,
            help="按比例缩放该规模（企业数；自然人、持股随之缩放），用于快速试跑",
        )  # fmt: skip
        parser.add_argument(
            "--step", action="append", dest="steps", default=None, metavar="NAME",
            help="只运行这些步骤（可重复；默认全部已注册步骤）",
        )  # fmt: skip
        parser.add_argument(
            "--report-json",
            default=None,
            help="把用时、峰值内存和行数写入此 JSON 文件（基准测试用）",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        existing = Enterprise.objects.count()
        if existing:
            if options["if_empty"]:
                self.stdout.write(f"已有 {existing:,} 家企业，跳过演示数据生成（--if-empty）。")
                return
            raise CommandError(
                f"数据库中已有 {existing:,} 家企业；演示数据只能生成到空库中"
                "（使用 --if-empty 跳过，或换一个空数据库）。"
            )
        ctx = SeedContext(
            scale=options["scale"],
            seed=options["seed"],
            stdout=cast(IO[str], self.stdout._out),  # raw stream: tqdm redraws with \r
            show_progress=not options["no_progress"],
            end_month=options["end_month"],
            workers=options["workers"],
        )
        if options["enterprises"] is not None:
            if options["enterprises"] < 1:
                raise CommandError("--enterprises 必须是正整数")
            ctx.shared["plan"] = generator.scaled_plan(ctx.scale, options["enterprises"])
        steps = registered_steps()
        if options["steps"]:
            known = {step.name for step in steps}
            unknown = [name for name in options["steps"] if name not in known]
            if unknown:
                raise CommandError(
                    f"未知的步骤：{', '.join(unknown)}；已注册：{', '.join(sorted(known))}"
                )
            steps = [step for step in steps if step.name in options["steps"]]
        names = ", ".join(step.name for step in steps)
        self.stdout.write(
            f"生成演示城市：规模 {ctx.scale}，种子 {ctx.seed}，指标截至 {ctx.end_month:%Y-%m}；"
            f"步骤：{names}"
        )
        started = time.perf_counter()
        try:
            results = run_steps(ctx, steps=steps)
        except SeedStepError as exc:
            cause = exc.__cause__
            message = cause.message if isinstance(cause, DomainError) else str(cause)
            raise CommandError(f"种子数据步骤 {exc.step} 失败，已全部回滚：{message}") from exc
        elapsed = time.perf_counter() - started
        peak = peak_rss_mib()
        own, children = peak["main"], peak["largest_worker"]
        self.stdout.write(
            self.style.SUCCESS(
                f"完成，用时 {elapsed:.1f} 秒；峰值内存 {own:.0f} MiB（子进程峰值 {children:.0f} MiB）。"
            )
        )
        if options["report_json"]:
            report = {
                "scale": ctx.scale,
                "seed": ctx.seed,
                "seconds": elapsed,
                "maxrss_mib": own,
                "children_maxrss_mib": children,
                "steps": {r.name: r.seconds for r in results},
                "counts": ctx.shared.get("demo.registry", {}).get("counts", {}),
            }
            Path(options["report_json"]).write_text(json.dumps(report, indent=2))
