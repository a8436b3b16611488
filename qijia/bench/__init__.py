"""`make bench`: each module in this package with a ``run(args) -> str`` (a Markdown section)
contributes to docs/benchmarks.md. See __main__.py."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]


def host_speed() -> float:
    """Seconds this host takes for a fixed pure-Python loop (best of 3), printed beside timings.

    The bench machines are virtual and share their physical cores: the same code measured an hour
    apart differed by 2x while the machine itself was idle. This number, taken in the same run,
    says which kind of moment a result comes from.
    """
    import time

    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for i in range(5_000_000):
            total += i
        best = min(best, time.perf_counter() - started)
    return best


@contextlib.contextmanager
def scratch_database(tag: str) -> Iterator[dict[str, str]]:
    """A PostgreSQL database ``qijia_bench_<tag>_<pid>`` for one benchmark, created empty and
    dropped afterwards; yields the environment for subprocesses that use it (Django settings,
    DATABASE_URL, no Redis: tasks run in process). The server is QIJIA_BENCH_DATABASE_URL's, or
    DATABASE_URL's when that is PostgreSQL, or the local default."""
    import psycopg

    admin = os.environ.get("QIJIA_BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL", "")
    if not admin.startswith(("postgres://", "postgresql://")):
        admin = "postgres://postgres@127.0.0.1:5432/postgres"
    name = f"qijia_bench_{tag}_{os.getpid()}"

    def on(database: str) -> str:
        return urlunsplit(urlsplit(admin)._replace(path="/" + database))

    def sql(statement: str) -> None:
        with psycopg.connect(on("postgres"), autocommit=True) as conn:
            conn.execute(statement)

    sql(f'DROP DATABASE IF EXISTS "{name}"')
    sql(f'CREATE DATABASE "{name}"')
    env = {
        **os.environ,
        "DATABASE_URL": on(name),
        "QIJIA_TESTING": "1",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("REDIS_URL", None)
    try:
        yield env
    finally:
        sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
