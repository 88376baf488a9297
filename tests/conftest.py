"""Shared pytest set-up: headless plotting, one BLAS thread in the test process, and one QUICK
execution per notebook shared by every test that needs it, started in the background as the session
begins so the notebooks run beside the unit tests."""
import os
from pathlib import Path

# Unit tests only: notebooks executed by the runner keep the inline backend.
os.environ.setdefault("MPLBACKEND", "Agg")
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import pytest

from analysis_lib import _kernel_poll

# Notebook clients in this process (tests that run papermill or nbclient directly): a missed zmq
# wakeup costs one 1-s slice instead of the cell's whole timeout, as in the runner's workers.
_kernel_poll.install()

_NEEDED: list[str] = []


def _notebooks_of(item) -> list[str]:
    """Notebooks a selected `notebook`-marked test executes through `quick_run`: its `name`
    parameter, or its module's `QUICK_NOTEBOOKS`."""
    if item.get_closest_marker("notebook") is None:
        return []
    params = getattr(getattr(item, "callspec", None), "params", {})
    if "name" in params:
        return [params["name"]]
    return list(getattr(item.module, "QUICK_NOTEBOOKS", ()))


def pytest_collection_modifyitems(session, config, items):
    # Tests that read a QUICK execution go last (in their order), so the unit tests run while the
    # notebooks execute in the background instead of waiting for them.
    items.sort(key=lambda item: item.get_closest_marker("notebook") is not None)


def pytest_collection_finish(session):
    # after -m / -k deselection: only the notebooks the selected tests need
    for item in session.items:
        for name in _notebooks_of(item):
            if name not in _NEEDED:
                _NEEDED.append(name)


@pytest.fixture(scope="session", autouse=True)
def _start_quick_runs(quick_run):
    """Start the background QUICK executions as the session begins."""


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory):
    """`quick_run(name)` → the runner's NotebookResult of `name` in QUICK, executed once per session.

    Every notebook the selected tests need starts at the beginning of the session in a background
    pool on `QUICK_JOBS` cores (default: all), scheduled as the runner schedules them
    (`reproduce.schedule` on a `reproduce.CorePool`: one core each, a notebook that `uses_all_cores`
    alone; wide ones first, then longest first), while the unit tests run (notebook tests are
    sorted last); a test waits only for its own notebook. One per core, not one fewer: the unit
    tests are ≈ 240 CPU-s against ≈ 800 CPU-s of QUICK notebooks, so a single notebook worker was
    the critical path (pytest 891 s on 2 cores) while the unit-test core idled after 4 minutes.
    The generic notebook test and the per-paper checks of an executed notebook (e.g. the privacy
    scan of notebook 05) share one execution instead of running the notebook twice.
    """
    from analysis_lib import reproduce

    out = tmp_path_factory.mktemp("quick_runs")
    jobs = int(os.environ.get("QUICK_JOBS", reproduce.default_jobs()))
    pool = reproduce.CorePool(jobs)
    order = reproduce.schedule(_NEEDED, "quick", jobs)
    cores = {start.name: start.cores for start in order}
    futures = {}

    def submit(name):
        if name not in futures:
            futures[name] = pool.submit(cores.get(name, 1), reproduce.run_notebook, name, "quick", out_dir=out)
        return futures[name]

    for start in order:
        submit(start.name)

    def run(name):
        return submit(name).result()

    yield run
    pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="session")
def free_port():
    """`free_port()` → a TCP port on 127.0.0.1 that nothing listens on now (for test servers)."""
    import socket

    def pick() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    return pick


@pytest.fixture(scope="session")
def wait_for_http():
    """`wait_for_http(url, proc, timeout, log, what)`: poll `url` until it answers; fail the test with
    the tail of `log` if `proc` (a test server) exits first or `timeout` seconds pass."""
    import time
    import urllib.request

    def wait(url: str, proc, timeout: float, log, what: str) -> None:
        deadline = time.time() + timeout
        while True:
            try:
                urllib.request.urlopen(url, timeout=2).read()
                return
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    state = "exited" if proc.poll() is not None else f"did not start within {timeout:g} s"
                    pytest.fail(f"{what} {state}: {Path(log).read_text()[-2000:]}")
                time.sleep(0.5)

    return wait
