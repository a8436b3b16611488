"""``qijia gen-bundle``: synthetic integrity bundles with planted cases, decoys and a truth file.

    generate_bundle(Path("out"), "small", seed=1)   # a few hundred applications, < 1 minute
    generate_bundle(Path("out"), "city", seed=1)    # 200,000 enterprises ... 20,000 photo files

The bundle follows shared/specs/integrity-bundle.md; ``truth.json`` inside it lists every finding
the rules imply (``qijia screen ... --truth truth.json`` scores against it), each with the planted
case that caused it, plus the decoys that must not be found. Output is deterministic for a seed:
same seed, byte-identical files. The folder appears complete or not at all (it is built under a
temporary name and renamed at the end).

No Django imports: this runs with the engine's dependencies only.
"""

from __future__ import annotations

import csv
import json
import os
import random
import shutil
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qijia.core.memory import peak_rss_mib
from qijia.screening.bundle import COLUMNS as BUNDLE_COLUMNS
from qijia.screening.model import KINDS

from .background import (
    build_applications,
    build_firms,
    build_hubs,
    build_suppliers,
    top_up_invoices,
    top_up_persons,
)
from .cases import Planter
from .photoset import PhotoPlanner, render_all
from .truth import GeneratorBug, check_expectations, compute_truth
from .vocab import load_reference
from .world import AS_OF, Application, World

if TYPE_CHECKING:
    from tqdm import tqdm

__all__ = [
    "GENERATOR_VERSION",
    "SCALES",
    "GeneratorBug",
    "GeneratorError",
    "Scale",
    "ensure_bundle",
    "generate_bundle",
]

# Bumped whenever the same seed would give different files; ensure_bundle regenerates then.
GENERATOR_VERSION = 5


class GeneratorError(ValueError):
    """Bad arguments (unknown scale, an output folder that is in the way). Chinese message."""


@dataclass(frozen=True)
class Scale:
    enterprises: int
    persons: int
    applications: int
    invoices: int
    photo_files: int
    plant_multiplier: int  # how many instances of every planted case and decoy
    photo_size: tuple[int, int]
    scene_scale: float  # photogen scene pixels per photo pixel (lower renders faster)
    index_hashes: int  # precomputed photo hashes for the index benchmark (0: none)


SCALES: dict[str, Scale] = {
    "small": Scale(900, 1_900, 320, 1_100, 340, 2, (480, 360), 0.8, 0),
    "city": Scale(200_000, 400_000, 50_000, 150_000, 20_000, 40, (400, 300), 0.75, 1_000_000),
}

#: The spec's columns (one definition, in the loader) plus one unknown column, which the loader
#: must ignore.
CSV_COLUMNS = {
    **BUNDLE_COLUMNS,
    "enterprises.csv": (*BUNDLE_COLUMNS["enterprises.csv"], "registered_capital"),
}


def generate_bundle(
    out: Path | str,
    scale: str,
    seed: int = 1,
    progress: bool = True,
    *,
    overwrite: bool = False,
    workers: int | None = None,
) -> dict[str, Any]:
    """Write a bundle with planted cases of every kind and ``truth.json``; return counts/timings.

    ``overwrite`` replaces an existing folder only when it holds a bundle this generator wrote
    (it has our truth.json); anything else in the way is refused, never deleted.
    """
    if scale not in SCALES:
        raise GeneratorError(f"未知的规模“{scale}”，应为 {'、'.join(SCALES)} 之一")
    out = Path(out)
    _check_target(out, overwrite)
    spec = SCALES[scale]
    timings: dict[str, float] = {}
    started = time.perf_counter()

    @contextmanager
    def phase(name: str):
        t0 = time.perf_counter()
        yield
        timings[name] = round(time.perf_counter() - t0, 2)

    bar = _Progress(progress)
    with phase("build"):
        w, planter, planner = _build(spec, seed, bar)
    with phase("truth"):
        photo_keys = [
            (e.application_id, e.kind, e.subject)
            for e in w.expectations
            if e.kind == "duplicate_photo" and e.present
        ]
        truth = compute_truth(w, AS_OF, photo_keys)
        check_expectations(w, truth)
    tmp = out.with_name(f".{out.name}.tmp-{seed}-{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    try:
        with phase("write_csv"):
            _write_csvs(w, planner, tmp, seed)
        with phase("photos"):
            tick = bar.start("照片", len(planner.rows))
            render_all(planner.jobs, tmp, workers=workers, tick=tick)
            bar.stop()
        index_info: dict[str, Any] = {}
        if spec.index_hashes:
            from .hashes import write_index_hashes

            with phase("index_hashes"):
                index_info = write_index_hashes(tmp, spec.index_hashes, seed)
        cases = Counter(planter.case_counts) + Counter(planner.case_counts)
        with phase("write_truth"):
            _write_manifest(tmp, scale, seed)
            truth_counts = _write_truth(tmp, w, truth, scale, seed, dict(cases))
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    total = round(time.perf_counter() - started, 2)
    summary = {
        "out": str(out),
        "scale": scale,
        "seed": seed,
        "as_of": AS_OF.isoformat(),
        "rows": {
            "enterprises": sum(1 for f in w.firms if f.listed),
            "persons": len(w.persons),
            "roles": len(w.roles),
            "holdings": len(w.holdings),
            "registry": len(w.registry),
            "applications": len(w.applications),
            "invoices": len(w.invoices),
            "photo_files": len(planner.rows),
        },
        "truth": truth_counts,
        "planted_cases": len([e for e in w.expectations if e.present]),
        "decoys": len([e for e in w.expectations if not e.present]),
        "index_hashes": index_info,
        "seconds": {**timings, "total": total},
        "peak_rss_mib": peak_rss_mib(),
    }
    if progress:
        print(
            f"生成用时 {total:.1f} 秒（{json.dumps(timings, ensure_ascii=False)}）", file=sys.stderr
        )
    return summary


def ensure_bundle(
    folder: Path | str, scale: str = "city", seed: int = 1, progress: bool = True
) -> Path:
    """``folder/<scale>-seed<seed>``, generated only when missing or stale (for benchmarks).

    A bundle is reused when its truth.json names the same scale, seed and generator version:
    generation is deterministic, so it would come out byte-identical anyway.
    """
    target = Path(folder) / f"{scale}-seed{seed}"
    truth = target / "truth.json"
    if truth.is_file():
        try:
            doc = json.loads(truth.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            doc = {}
        if (doc.get("scale"), doc.get("seed"), doc.get("generator_version")) == (
            scale,
            seed,
            GENERATOR_VERSION,
        ):
            return target
    summary = generate_bundle(target, scale, seed, progress=progress, overwrite=True)
    # Timings are not part of the bundle (it must be byte-identical for a seed): a sidecar.
    sidecar = target.with_name(target.name + ".generation.json")
    sidecar.write_text(json.dumps(summary, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return target


def _check_target(out: Path, overwrite: bool) -> None:
    if not out.exists():
        return
    if not out.is_dir():
        raise GeneratorError(f"输出路径“{out}”已存在且不是文件夹")
    if not any(out.iterdir()):
        out.rmdir()
        return
    truth = out / "truth.json"
    ours = False
    if truth.is_file():
        try:
            ours = json.loads(truth.read_text(encoding="utf-8")).get("format") == "qijia-truth"
        except (OSError, ValueError):
            ours = False
    if not overwrite or not ours:
        raise GeneratorError(
            f"输出文件夹“{out}”已存在且不为空"
            + ("（可使用 overwrite 覆盖此前生成的数据包）" if ours else "，请指定新的文件夹")
        )


class _Progress:
    """tqdm bars on stderr, one per phase (or nothing when progress is off)."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self._bar: tqdm | None = None

    def start(self, desc: str, total: int) -> Callable[[int], None] | None:
        if not self.enabled:
            return None
        from tqdm import tqdm

        self._bar = tqdm(
            total=total, desc=desc, file=sys.stderr, leave=False, mininterval=0.5, unit=""
        )
        return self._bar.update

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _build(spec: Scale, seed: int, bar: _Progress) -> tuple[World, Planter, PhotoPlanner]:
    w = World(seed, load_reference())
    mult = spec.plant_multiplier
    n_suppliers = max(40, spec.enterprises * 6 // 100)
    suppliers = build_suppliers(w, n_suppliers, max(20, spec.enterprises * 25 // 1000))
    planter = Planter(w, suppliers, mult)
    planter.relations()
    plant_apps = len(w.applications)
    reserved_apps = 4 * mult  # applicants with broken codes, added after the background

    firms_left = spec.enterprises - sum(1 for f in w.firms if f.listed)
    hub_firms = int(firms_left * 0.1 / 45) + 2
    tick = bar.start("企业", firms_left)
    makers = build_firms(w, max(50, firms_left - hub_firms - 20 * mult), tick)
    bar.stop()
    build_hubs(w, makers, agency_share=0.06, park_share=0.04)
    tick = bar.start("申报", spec.applications)
    if tick:
        tick(plant_apps)
    apps = build_applications(
        w,
        makers,
        suppliers,
        spec.applications - plant_apps - reserved_apps,
        invoices_per_app=max(1.0, (spec.invoices * 0.93 - len(w.invoices)) / spec.applications),
        tick=tick,
    )
    bar.stop()
    by_firm: dict[int, list[Application]] = defaultdict(list)
    for app in apps:
        by_firm[id(app.firm)].append(app)
    multi = [group for group in by_firm.values() if len(group) >= 2]
    single = [group[0] for group in by_firm.values() if len(group) == 1]

    planter.invalid_codes(apps)
    planter.sellers_elsewhere(apps)
    planter.registry(single)
    applicant_firms = {id(a.firm) for a in w.applications}
    planter.registry_background(
        makers + suppliers, applicant_firms, max(10, spec.enterprises // 100)
    )
    planter.invoices(apps, multi)

    planner = PhotoPlanner(w, seed, spec.photo_size, spec.scene_scale)
    planner.plant(apps, multi, mult)
    planner.fill(apps, spec.photo_files)

    # Exact sizes: standalone firms, contacts and invoices that change no finding.
    listed = sum(1 for f in w.firms if f.listed)
    if listed < spec.enterprises:
        makers += build_firms(w, spec.enterprises - listed)
    top_up_persons(w, makers, spec.persons)
    top_up_invoices(w, apps, spec.invoices)
    w.finish_amounts()
    return w, planter, planner


def _write_csv(path: Path, name: str, rows) -> None:
    with (path / name).open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(CSV_COLUMNS[name])
        writer.writerows(rows)


def _write_csvs(w: World, planner: PhotoPlanner, root: Path, seed: int) -> None:
    rng = random.Random(f"qijia-gen:{seed}:order")
    firms = [f for f in w.firms if f.listed]
    rng.shuffle(firms)
    _write_csv(
        root,
        "enterprises.csv",
        (
            (
                f.uscc,
                f.name,
                f.town,
                f.industry,
                f.address,
                f.phone,
                f.email,
                f.established.isoformat(),
                registered_capital(f.uscc),
            )
            for f in firms
        ),
    )
    _write_csv(
        root,
        "persons.csv",
        sorted((p.key, p.name, p.id_number, p.phone, p.email) for p in w.persons),
    )
    _write_csv(root, "roles.csv", sorted(w.roles, key=lambda r: (r[1], r[0], r[2])))
    _write_csv(root, "holdings.csv", sorted(w.holdings))
    _write_csv(root, "registry.csv", sorted(w.registry))
    _write_csv(
        root,
        "applications.csv",
        sorted(
            (
                a.app_id,
                a.uscc,
                a.programme,
                a.title,
                a.period_start.isoformat(),
                a.period_end.isoformat(),
                a.submitted_on.isoformat(),
                f"{a.amount_requested:.2f}",
            )
            for a in w.applications
        ),
    )
    rows = []
    for app_id in sorted(w.invoices_by_app):
        for i in w.invoices_by_app[app_id]:
            inv = w.invoices[i]
            rows.append(
                (
                    inv.app_id,
                    inv.code,
                    inv.number,
                    inv.issued_on.isoformat(),
                    inv.seller_tax_id,
                    inv.seller_name,
                    inv.buyer_tax_id,
                    inv.buyer_name,
                    f"{inv.amount:.2f}",
                    f"{inv.tax:.2f}",
                )
            )
    _write_csv(root, "invoices.csv", rows)
    _write_csv(root, "photos.csv", sorted(planner.rows))


def registered_capital(uscc: str) -> str:
    """Registered capital in 10,000 yuan: an extra column the screening must ignore."""
    value = sum(ord(c) * (i + 7) for i, c in enumerate(uscc)) % 4990 + 10
    return f"{value}万元"


def _write_manifest(root: Path, scale: str, seed: int) -> None:
    manifest = {
        "format": "qijia-integrity-bundle",
        "version": 1,
        "title": f"合成诚信核查数据包（规模 {scale}，种子 {seed}，核查日 {AS_OF.isoformat()}）",
    }
    (root / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )


def _write_truth(
    root: Path, w: World, truth: set, scale: str, seed: int, cases: dict[str, int]
) -> dict[str, int]:
    case_of: dict[tuple[str, str, str], str] = {}
    for e in w.expectations:
        if e.present:
            case_of.setdefault((e.application_id, e.kind, e.subject), e.case)
    findings = [
        {
            "application_id": a,
            "kind": k,
            "subject": s,
            "case": case_of.get((a, k, s), "follows_from_another_case"),
        }
        for a, k, s in sorted(truth)
    ]
    decoys = [
        {"application_id": e.application_id, "kind": e.kind, "subject": e.subject, "case": e.case}
        for e in sorted(w.expectations, key=lambda e: (e.application_id, e.kind, e.subject))
        if not e.present
    ]
    counts = {kind: 0 for kind in KINDS}
    for item in findings:
        counts[item["kind"]] += 1
    doc = {
        "format": "qijia-truth",
        "version": 1,
        "as_of": AS_OF.isoformat(),
        "scale": scale,
        "seed": seed,
        "generator_version": GENERATOR_VERSION,
        "counts": counts,
        "cases": dict(sorted(cases.items())),
        "findings": findings,
        "decoys": decoys,
    }
    (root / "truth.json").write_text(
        json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    return counts
