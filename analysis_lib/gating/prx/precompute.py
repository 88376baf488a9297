"""Precompute the expensive FULL results of notebook 02 into its cache, e.g. on a machine with many cores.

    python -m analysis_lib.gating.prx.precompute --estimate      # the jobs and their estimated CPU time; runs nothing
    python -m analysis_lib.gating.prx.precompute --workers 16    # every simulation job, then the fixed-point census

The jobs are those of the FULL notebook (`experiments.run_simulations` over `experiments.sizes`, and
`census.run_prx_census` over `census.prx_census_sizes`), so the cache keys are the notebook's: results
land in `reports/cache/full/02_gating_theory/` (or `--cache-dir`), where `make reproduce MODE=full
ONLY=02_gating_theory` finds them; an interrupted run keeps every finished job. Cache keys include
the code fingerprint and the library versions, so a cache made elsewhere is served only for the same
code and versions. The estimate is `experiments.job_cost` (calibrated on a 2-core EPYC VM; the
census is not included in it).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

NOTEBOOK = "02_gating_theory"


def full_config(seed: int = 0):
    """The notebook's own FULL `NotebookConfig`: its `pick` gives the FULL sizes and its `cache_dir`
    the cache `make reproduce MODE=full` reads."""
    from ..._paths import repo_root
    from ...notebook import NotebookConfig

    return NotebookConfig(mode="full", seed=seed, notebook=NOTEBOOK, device="cpu", threads=1, root=repo_root())


def estimate(seed: int = 0) -> dict:
    """{figure: (jobs, estimated CPU seconds)} of the FULL simulation sweep, and the total."""
    from . import experiments as ex

    jobs = ex.batch_shared_networks(ex.simulation_jobs(ex.sizes(full_config(seed)), seed))
    out: dict = {}
    for fig, _, job in jobs:
        n, c = out.get(fig, (0, 0.0))
        out[fig] = (n + 1, c + ex.job_cost(job))
    out["total"] = (len(jobs), sum(c for _, c in out.values()))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m analysis_lib.gating.prx.precompute", description=__doc__.split("\n")[0])
    ap.add_argument("--cache-dir", type=Path, default=None, help="default: the FULL cache of notebook 02")
    ap.add_argument("--seed", type=int, default=0, help="the notebook's SEED (default 0)")
    ap.add_argument("--workers", type=int, default=None, help="processes (default: one per core)")
    ap.add_argument("--estimate", action="store_true", help="print the jobs and their estimated CPU time, run nothing")
    args = ap.parse_args(argv)
    if args.workers is not None and args.workers < 1:
        ap.error(f"--workers must be >= 1; got {args.workers}")
    if args.estimate:
        for fig, (n, c) in sorted(estimate(args.seed).items(), key=lambda kv: -kv[1][1]):
            print(f"{fig:>12}: {n:4d} jobs, ≈ {c / 3600:.2f} CPU-h")
        return 0
    from . import census
    from . import experiments as ex

    cfg = full_config(args.seed)
    cache_dir = args.cache_dir or cfg.cache_dir
    t0 = time.perf_counter()
    ex.run_simulations(cfg, progress=True, max_workers=args.workers, cache_dir=cache_dir)
    print(f"simulations done in {time.perf_counter() - t0:.0f} s")
    census.run_prx_census(census.prx_census_sizes(cfg), args.seed, cache_dir=cache_dir / "census", progress=True)
    print(f"census done; {time.perf_counter() - t0:.0f} s in all; cache: {cache_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
