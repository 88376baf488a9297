"""Shared timing helper of the benchmark scripts (imported from the scripts' own folder)."""
from __future__ import annotations

import time
from typing import Any, Callable


def best_of(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Best wall time of `repeats` calls of `fn()` (the least disturbed by other load) and the last result."""
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1; got {repeats}")
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out
