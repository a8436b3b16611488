"""`make bench`: run every benchmark module and write docs/benchmarks.md.

Each module qijia/bench/<topic>.py exposes ``run(args) -> str`` returning a Markdown section that
states the machine, the data size, the baseline measured in the same run and the ratio. Sections
are written between ``<!-- section:<topic> -->`` markers, so running one topic
(``make bench BENCH_ARGS="--only registry"``) replaces that section and keeps the others.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import os
import pkgutil
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

import qijia.bench

DOC = Path(__file__).resolve().parents[2] / "docs" / "benchmarks.md"
HEADER = """# Benchmarks

Written by `make bench` (`python -m qijia.bench`). Every number below was measured on the machine
named in its section, against the baseline measured in the same run. Targets come from the issues;
tests never assert timings.
"""


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB RAM, Python {platform.python_version()}, {platform.system()}"


def topics() -> list[str]:
    return sorted(
        m.name for m in pkgutil.iter_modules(qijia.bench.__path__) if not m.name.startswith("_")
    )


def replace_section(text: str, topic: str, body: str) -> str:
    block = f"<!-- section:{topic} -->\n{body.strip()}\n<!-- /section:{topic} -->"
    pattern = re.compile(
        rf"<!-- section:{re.escape(topic)} -->.*?<!-- /section:{re.escape(topic)} -->", re.S
    )
    if pattern.search(text):
        return pattern.sub(lambda _m: block, text)
    return text.rstrip() + "\n\n" + block + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qijia.bench")
    parser.add_argument("--only", action="append", help="run only these topics (repeatable)")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--data-dir", default=str(DOC.parent.parent / "bench-data"))
    parser.add_argument("--topic", help=argparse.SUPPRESS)  # run one topic in this process
    args, _ = parser.parse_known_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    Path(args.data_dir).mkdir(parents=True, exist_ok=True)
    if args.topic:
        return _run_topic(args.topic, args)
    # Each topic in a fresh process: a child spawned by a large process starts with that
    # process's peak RSS in its own ru_maxrss (Linux keeps it across exec), and one topic's heap
    # and garbage would otherwise be measured in the next one's memory and time.
    failures = 0
    for topic in args.only or topics():
        print(f"== {topic}", file=sys.stderr, flush=True)
        cmd = [sys.executable, "-m", "qijia.bench", "--topic", topic, "--data-dir", args.data_dir]
        failures += (
            subprocess.run(cmd + (["--quick"] if args.quick else []), check=False).returncode != 0
        )
    print(f"wrote {DOC}", file=sys.stderr)
    return 1 if failures else 0


def _run_topic(topic: str, args: argparse.Namespace) -> int:
    module = importlib.import_module(f"qijia.bench.{topic}")
    if not hasattr(module, "run"):
        return 0
    started = time.perf_counter()
    failed = False
    try:
        body = module.run(args)
    except Exception as exc:  # a failed benchmark is reported in its section
        failed = True
        body = f"## {topic}\n\nFAILED: `{type(exc).__name__}: {exc}`"
    elapsed = time.perf_counter() - started
    body += f"\n\n_Run {dt.datetime.now():%Y-%m-%d %H:%M}, {elapsed:.0f} s, on {machine()}._"
    # Read again now: a benchmark runs for minutes and other sections may have changed meanwhile.
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else HEADER
    if not text.startswith("# Benchmarks"):
        text = HEADER + "\n" + text
    DOC.write_text(replace_section(text, topic, body), encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
