"""The benchmarks' shared timing helper and the Lyapunov benchmark's floor (cheap: no benchmark is run)."""
import sys
import time
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from _timing import best_of  # noqa: E402


def test_best_of_returns_the_least_time_and_the_last_result():
    calls = []

    def fn():
        calls.append(1)
        return len(calls)

    for clock in (time.perf_counter, time.process_time):
        calls.clear()
        t, out = best_of(fn, 3, clock)
        assert out == 3 and len(calls) == 3 and 0.0 <= t < 1.0
    with pytest.raises(ValueError, match="repeats"):
        best_of(fn, 0)


def test_best_of_cpu_clock_ignores_sleeping():
    # process_time counts this process's CPU only: the benchmarks' compute timings use it so that
    # the other jobs on a shared machine do not inflate them
    t, _ = best_of(lambda: time.sleep(0.05), 1, time.process_time)
    assert t < 0.04


def test_lyapunov_floor_runs_in_both_precisions():
    import bench_prx

    for dtype, gemv in ((np.float64, False), (np.float32, True)):
        run = bench_prx._gemm_floor(20, 5, 3, dtype, gemv)
        assert run() is None
