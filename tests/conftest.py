"""Shared pytest set-up: headless plotting and one BLAS thread in the test process."""
import os

# Unit tests only: notebooks executed by the runner keep the inline backend.
os.environ.setdefault("MPLBACKEND", "Agg")
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import pytest


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory):
    """`quick_run(name)` → the runner's NotebookResult of `name` in QUICK, executed once per session.

    The generic notebook test and the per-paper checks of an executed notebook (e.g. the privacy scan
    of notebook 05) share one execution instead of running the notebook twice.
    """
    from analysis_lib import reproduce

    out = tmp_path_factory.mktemp("quick_runs")
    results = {}

    def run(name):
        if name not in results:
            results[name] = reproduce.run_notebook(name, "quick", out_dir=out)
        return results[name]

    return run
