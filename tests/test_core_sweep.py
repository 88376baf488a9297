import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pytest

import analysis_lib as al


def noisy_eig_radius(n, seed):
    """A deterministic function of its arguments that does real BLAS work."""
    rng = np.random.default_rng(seed)
    return float(np.abs(np.linalg.eigvals(rng.standard_normal((n, n)) / np.sqrt(n))).max())


GRID = {"n": [8, 16, 32], "seed": [0, 1, 2]}


@pytest.fixture(scope="module")
def serial():
    return al.sweep(noisy_eig_radius, GRID, executor="serial", progress=False)


def test_grid_order_and_product():
    assert al.grid_product(a=[1, 2], b=["x", "y"]) == [
        {"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 2, "b": "x"}, {"a": 2, "b": "y"}]
    assert al.sweep(lambda x: x * x, [3, 1, 2], executor="serial", progress=False) == [9, 1, 4]


def test_default_process_pool(serial):
    assert al.sweep(noisy_eig_radius, GRID, progress=False) == serial


def test_thread_pool(serial):
    with ThreadPoolExecutor(2) as ex:
        assert al.sweep(noisy_eig_radius, GRID, executor=ex, progress=False) == serial


def test_process_pool(serial):
    with ProcessPoolExecutor(2) as ex:
        assert al.sweep(noisy_eig_radius, GRID, executor=ex, progress=False) == serial


def test_dask_local_cluster(serial):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        assert al.sweep(noisy_eig_radius, GRID, executor=client.get_executor(), progress=False) == serial


def test_results_follow_grid_order_not_completion_order():
    import time

    def slow_first(i):
        time.sleep(0.2 if i == 0 else 0.0)
        return i

    with ThreadPoolExecutor(4) as ex:
        assert al.sweep(slow_first, list(range(6)), executor=ex, progress=False) == list(range(6))


@pytest.mark.parametrize("kw, message", [
    (dict(executor="dask"), "executor must be None, 'serial'"),
    (dict(executor=object()), "submit"),
    (dict(max_workers=0), "max_workers must be a positive integer"),
])
def test_bad_arguments(kw, message):
    with pytest.raises(ValueError, match=message):
        al.sweep(abs, [1], progress=False, **kw)


def test_bad_grid_axis():
    with pytest.raises(ValueError, match="grid axis 'n'"):
        al.grid_product(n=5)


def _alive(pid: int) -> bool:
    """Running (a zombie left for an init that does not reap counts as gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            return not any(line.startswith("State:") and "Z" in line for line in f)
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal is Linux only")
def test_workers_stop_when_their_parent_dies():
    """A killed notebook kernel must not leave its sweep workers computing as orphans."""
    script = ("import os, time\n"
              "from analysis_lib.sweep import default_executor\n"
              "ex = default_executor(1)\n"
              "print(ex.submit(os.getpid).result(), flush=True)\n"
              "ex.submit(time.sleep, 120)\n"
              "time.sleep(120)\n")
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        worker = int(parent.stdout.readline())
        assert _alive(worker)
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 10
        while _alive(worker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(worker), "the worker outlived its parent"
    finally:
        parent.kill()
