"""Benchmark: ``qijia seed --scale city`` into a scratch PostgreSQL database.

Creates ``qijia_bench_seed_<pid>``, migrates it, measures a naive baseline (one ORM ``save()`` per
row on a sample, extrapolated to the city's row counts), empties the tables, runs the real seed
in a subprocess (COPY, worker processes), reports time, peak memory and rows per second, and
drops the database. ``--quick`` seeds a 20,000-enterprise city instead of 200,000.

Run: ``python -m qijia.bench --only seed_city`` (writes docs/benchmarks.md) or
``python -m qijia.bench.seed_city [--quick]`` (prints the section).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from qijia.bench import ROOT, scratch_database

#: The steps measured: the registry city every later benchmark runs on. Other contexts' demo
#: steps (registry lists, programmes...) are small and benchmarked by their own topics.
FOUNDATION_STEPS = ("demo.org_units", "demo.registry")
BASELINE_SAMPLE = 100  # enterprises; with their persons, roles, holdings and 60 months each


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )


def baseline(sample: int) -> dict[str, Any]:
    """Rows per second with one ORM ``save()`` per row (each its own autocommit transaction, as
    a naive loader would do), per table, on the first ``sample`` enterprises of the city plan."""
    import django

    django.setup()
    import datetime as dt

    from qijia.core.reference import load_reference
    from qijia.demo import generator, loader
    from qijia.enterprises.models import (
        Enterprise,
        Holding,
        Industry,
        MonthlyIndicator,
        Person,
        PersonRole,
    )
    from qijia.identity.models import OrgUnit
    from qijia.identity.roles import TOWN_KINDS

    load_reference()
    plan = generator.scaled_plan("city", sample)
    months = generator.month_list(dt.date(2025, 12, 1), plan.months)
    towns = list(
        OrgUnit.objects.filter(kind__in=TOWN_KINDS).order_by("code").values_list("id", "name")
    )
    industries = list(Industry.objects.order_by("code").values_list("code", flat=True))
    enterprises = generator.generate_enterprises(plan, 1, towns, industries, months)
    result: dict[str, Any] = {}

    started = time.perf_counter()
    saved = []
    for e in enterprises:
        obj = Enterprise(
            uscc=e.uscc, name=e.name, town_id=e.town_id, industry_id=e.industry,
            address=e.address, phone=e.phone, email=e.email, established_on=e.established_on,
            size_class=e.size_class, status=e.status,
        )  # fmt: skip
        obj.save()
        saved.append(obj.pk)
    result["enterprises"] = len(saved) / (time.perf_counter() - started)

    started = time.perf_counter()
    person_ids = []
    for chunk in generator.generate_persons(plan, 1):
        for p in chunk:
            (h, enc, masked) = loader.protect_id_numbers([p.id_number])[0]
            row = Person(
                name=p.name, id_number_hash=h, id_number_encrypted=enc, id_number_masked=masked,
                phone=p.phone, email=p.email,
            )  # fmt: skip
            row.save()
            person_ids.append(row.pk)
    result["persons"] = len(person_ids) / (time.perf_counter() - started)

    ownership = generator.generate_ownership(plan, 1, enterprises)
    offsets = generator.allocate_people(plan, 1, enterprises)
    roles = generator.generate_roles(plan, 1, enterprises, offsets, ownership, 0, len(enterprises))
    started = time.perf_counter()
    for person, ent, role, share in roles:
        PersonRole(
            person_id=person_ids[person], enterprise_id=saved[ent], role=role, share_pct=share
        ).save()
    for holder, held, share in ownership.holdings:
        Holding(holder_id=saved[holder], held_id=saved[held], share_pct=share).save()
    count = len(roles) + len(ownership.holdings)
    result["roles_and_holdings"] = count / (time.perf_counter() - started)

    season = generator.seasonality(months)
    blocks = generator.indicator_blocks(1, enterprises, saved)
    started = time.perf_counter()
    count = 0
    for block in blocks:
        for values in generator.indicator_rows(block, months, season):
            MonthlyIndicator(**dict(zip(generator.INDICATOR_COLUMNS, values, strict=True))).save()
            count += 1
    result["indicators"] = count / (time.perf_counter() - started)
    return result


def run(args: argparse.Namespace) -> str:
    quick = bool(getattr(args, "quick", False))
    enterprises = 20_000 if quick else 200_000
    with scratch_database("seed") as env:
        started = time.perf_counter()
        _manage(env, "migrate", "--noinput", "-v", "0")
        migrate_seconds = time.perf_counter() - started

        with tempfile.TemporaryDirectory() as tmp:
            baseline_json = Path(tmp) / "baseline.json"
            subprocess.run(
                [sys.executable, "-m", "qijia.bench.seed_city", "--baseline", str(BASELINE_SAMPLE),
                 "--json", str(baseline_json)],
                env=env, cwd=ROOT, check=True, capture_output=True, text=True,
            )  # fmt: skip
            naive = json.loads(baseline_json.read_text())
            _manage(env, "flush", "--noinput", "-v", "0")

            report_json = Path(tmp) / "seed.json"
            seed_args = [
                "seed",
                "--scale",
                "city",
                "--no-progress",
                "--report-json",
                str(report_json),
            ]
            seed_args += [arg for step in FOUNDATION_STEPS for arg in ("--step", step)]
            if quick:
                seed_args += ["--enterprises", str(enterprises)]
            started = time.perf_counter()
            proc = subprocess.Popen(
                [sys.executable, str(ROOT / "manage.py"), *seed_args],
                env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            )  # fmt: skip
            output, _ = proc.communicate()
            wall = time.perf_counter() - started
            if proc.returncode:
                raise RuntimeError(f"seed failed ({proc.returncode}): {output[-2000:]}")
            report = json.loads(report_json.read_text())
    return _section(report, naive, wall, migrate_seconds, quick)


def _section(
    report: dict[str, Any], naive: dict[str, float], wall: float, migrate: float, quick: bool
) -> str:
    counts = report["counts"]
    rows = sum(v for k, v in counts.items() if k != "groups")
    seconds = report["seconds"]
    naive_seconds = (
        counts["enterprises"] / naive["enterprises"]
        + counts["persons"] / naive["persons"]
        + (counts["person_roles"] + counts["holdings"]) / naive["roles_and_holdings"]
        + counts["indicators"] / naive["indicators"]
    )
    size = "quick run, 1/10 of the city" if quick else "full city"
    lines = [
        "## Demo city (qijia seed --scale city)",
        "",
        f"`qijia seed --scale city --step demo.org_units --step demo.registry` ({size}: the "
        "registry city later benchmarks run on; other contexts' demo steps are theirs to measure) "
        "into a scratch PostgreSQL database, created, "
        "migrated and dropped by `qijia/bench/seed_city.py`. One transaction; PostgreSQL `COPY` "
        "(psycopg 3) for every table; persons' identity numbers hashed and encrypted and the "
        "monthly figures formatted in worker processes (one per core).",
        "",
        "| table | rows |",
        "|---|---:|",
        f"| enterprises | {counts['enterprises']:,} |",
        f"| persons | {counts['persons']:,} |",
        f"| person roles | {counts['person_roles']:,} |",
        f"| holdings | {counts['holdings']:,} |",
        f"| monthly indicators | {counts['indicators']:,} |",
        f"| **total** | **{rows:,}** |",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| seed time (all steps, incl. commit) | {seconds:,.0f} s ({seconds / 60:.1f} min) |",
        f"| wall time of the command (incl. Django start) | {wall:,.0f} s |",
        f"| rows per second | {rows / seconds:,.0f} |",
        f"| peak memory, seed process (VmHWM) | {report['maxrss_mib']:,.0f} MiB |",
        f"| peak memory, largest worker (ru_maxrss, children) | "
        f"{report['children_maxrss_mib']:,.0f} MiB |",
        f"| migrate (not included above) | {migrate:,.0f} s |",
        "",
        f"Baseline in the same run: one ORM `save()` per row on a {BASELINE_SAMPLE}-enterprise "
        "sample of the same plan (enterprises "
        f"{naive['enterprises']:,.0f} rows/s, persons {naive['persons']:,.0f} rows/s, roles and "
        f"holdings {naive['roles_and_holdings']:,.0f} rows/s, indicators "
        f"{naive['indicators']:,.0f} rows/s), extrapolated to these row counts: "
        f"**{naive_seconds:,.0f} s ({naive_seconds / 3600:.1f} h)**, "
        f"{naive_seconds / seconds:,.0f}× the seed's time.",
        "",
        "Step times: "
        + ", ".join(f"{name} {sec:,.0f} s" for name, sec in report["steps"].items())
        + ". Foreign keys, unique constraints and indexes of the five tables are lifted during "
        "the load and rebuilt once at its end (one validating pass, one sorted index build); what "
        "the step times leave of the seed time is the commit.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qijia.bench.seed_city")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--baseline", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--json", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.baseline:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        Path(args.json).write_text(json.dumps(baseline(args.baseline)))
        return 0
    print(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
