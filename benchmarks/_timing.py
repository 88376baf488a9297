"""Shared timing helper of the benchmark scripts (imported from the scripts' own folder)."""
from __future__ import annotations

import time
from typing import Any, Callable


def best_of(fn: Callable[[], Any], repeats: int, clock: Callable[[], float] = time.perf_counter) -> tuple[float, Any]:
    """Best time of `repeats` calls of `fn()` (the least disturbed by other load) and the last result.
    `clock`: wall (`time.perf_counter`, the default: right for work that waits on I/O or threads)
    or `time.process_time` (CPU seconds of this process: single-threaded compute on a shared
    machine, where wall time includes the other jobs' turns)."""
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1; got {repeats}")
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = clock()
        out = fn()
        best = min(best, clock() - t0)
    return best, out
