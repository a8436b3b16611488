"""`make bench`: each module in this package with a ``run(args) -> str`` (a Markdown section)
contributes to docs/benchmarks.md. See __main__.py."""


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
