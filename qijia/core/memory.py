"""Peak memory of this process and of its children, as the benchmarks and reports state it."""

from __future__ import annotations

import resource
from pathlib import Path


def peak_rss_mib() -> dict[str, float]:
    """Peak resident memory of this process ("main") and of its largest finished child (MiB).

    The process's own figure is VmHWM where Linux gives it: ``ru_maxrss`` of a process started by
    a large one begins at the starter's peak (Linux keeps it across exec), so a command started
    from a benchmark that had 2 GB resident would report 2 GB whatever it used itself.
    """
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                own = int(line.split()[1]) / 1024
                break
    except OSError:
        pass
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"main": round(own, 1), "largest_worker": round(children, 1)}
