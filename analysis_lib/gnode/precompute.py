"""Precompute the expensive FULL results of notebook 03 into its cache, e.g. on a larger machine.

    python -m analysis_lib.gnode.precompute                       # everything, local CPU
    python -m analysis_lib.gnode.precompute --workers 13 --expr-device cuda
    python -m analysis_lib.gnode.precompute --what c1 --workers 16   # only the C1 grid (issue 17)

'c1' trains every cell of the C1 grid (`attractor.c1_grid_runs`: 48 runs of ≥ 10,000 AdamW steps
for the default 'subset', `--c1-grid released` for the whole 27-point grid), then runs the graded
attractor measures on every seed of the configuration selected per (model, N) (cached per run, the
same keys as the notebook's). Every flip-flop and synthetic-proxy run of the FULL notebook (the same run lists, so the same cache keys) is trained
with `al.sweep`, longest first, and every FULL expressivity ensemble is fitted, one process per
depth (on a GPU these are launch-bound, so three processes keep it busier than one). Results land
in `reports/cache/full/03_gated_neural_odes/` (or `--cache-dir`), where `make reproduce MODE=full
ONLY=03` finds them; runs cut short leave checkpoints there and resume on the next call. Each
result records where it was computed (device, torch version), and the notebook reports it.
Cache keys (`analysis_lib._cache`) are the function, the run's or ensemble's parameters and the code
fingerprint, which includes the Python, numpy, scipy and torch versions but not the device: results
made elsewhere are served only when that machine ran the same code with the same library versions.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from .experiments import ff2_runs, ff2v_runs, ff3f_runs, ff3v_runs, init_ablation_runs, run_jobs, set_smoke
from .proxy import proxy_runs

WHAT: tuple[str, ...] = ("training", "c1", "expressivity", "proxy")


def full_training_runs(seed: int = 0) -> list:
    """Every flip-flop run the FULL notebook trains, longest first (epochs, then MLP size)."""
    runs = ff2_runs("full", seed) + ff3v_runs(seed) + ff3f_runs(seed) + init_ablation_runs(seed) + ff2v_runs(seed)
    return sorted(runs, key=lambda r: (-r.config.epochs, -sum(r.hidden)))


def default_cache_dir() -> Path:
    """The FULL cache the notebook reads (its own `NotebookConfig.cache_dir`)."""
    from .._paths import repo_root
    from ..notebook import NotebookConfig

    return NotebookConfig(mode="full", seed=0, notebook="03_gated_neural_odes", device="cpu", threads=1,
                          root=repo_root()).cache_dir


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m analysis_lib.gnode.precompute", description=__doc__.split("\n")[0])
    ap.add_argument("--cache-dir", type=Path, default=None, help="default: the FULL cache of notebook 03")
    ap.add_argument("--seed", type=int, default=0, help="the notebook's SEED (default 0)")
    ap.add_argument("--what", default=",".join(WHAT),
                    help=f"comma-separated subset of {', '.join(WHAT)} (default: all; 'training' is the flip-flop "
                         "runs, 'c1' the C1 grid and its graded measures, 'proxy' the synthetic-proxy runs)")
    ap.add_argument("--c1-grid", default="subset", help="C1 training grid: subset (default, the notebook's) or released")
    ap.add_argument("--workers", type=int, default=2, help="processes for flip-flop training (default 2)")
    ap.add_argument("--expr-device", default="cpu", help="device for the expressivity fits, e.g. cuda (default cpu)")
    ap.add_argument("--depths", default="1,2,3", help="expressivity depths, comma-separated (default 1,2,3)")
    ap.add_argument("--smoke", action="store_true", help="toy sizes (plumbing check; results meaningless)")
    args = ap.parse_args(argv)
    what = [w for w in args.what.split(",") if w]
    bad = [w for w in what if w not in WHAT]
    if bad or not what:
        ap.error(f"--what must be a comma-separated subset of {', '.join(WHAT)}; got {args.what!r}")
    if args.workers < 1:
        ap.error(f"--workers must be a positive integer; got {args.workers}")
    try:
        depths = tuple(int(d) for d in args.depths.split(","))
    except ValueError:
        ap.error(f"--depths must be comma-separated integers from 1, 2, 3; got {args.depths!r}")
    if not depths or any(d not in (1, 2, 3) for d in depths):
        ap.error(f"--depths must be comma-separated integers from 1, 2, 3; got {args.depths!r}")
    if args.expr_device.startswith("cuda") and len(depths) == 1:  # (the parent of per-depth children stays CUDA-free)
        import torch

        if not torch.cuda.is_available():
            ap.error(f"--expr-device {args.expr_device}: CUDA is not available on this machine")
    from .attractor import GRID_NAMES, c1_grid_runs

    if args.c1_grid not in GRID_NAMES:
        ap.error(f"--c1-grid must be one of {', '.join(GRID_NAMES)}; got {args.c1_grid!r}")
    cache = args.cache_dir or default_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    set_smoke(args.smoke)
    t0 = time.perf_counter()
    procs = []
    if "expressivity" in what:
        if len(depths) > 1:  # one child process per depth, running beside the training below
            for d in depths:
                cmd = [sys.executable, "-m", "analysis_lib.gnode.precompute", "--what", "expressivity",
                       "--depths", str(d), "--expr-device", args.expr_device, "--cache-dir", str(cache)]
                procs.append(subprocess.Popen(cmd + (["--smoke"] if args.smoke else [])))
        else:
            from .experiments import full_expressivity

            res = full_expressivity(device=args.expr_device, cache_dir=cache, depths=depths, progress=False)
            for p in res["provenance"]:
                print(f"expressivity {p['ensemble']}: {p['wall_s']:.0f} s on {p['device']}", flush=True)
    c1_runs = c1_grid_runs(args.c1_grid, args.seed) if "c1" in what else []
    runs = c1_runs + (full_training_runs(args.seed) if "training" in what else []) + (
        proxy_runs(args.seed) if "proxy" in what else [])  # the C1 runs are the longest: first
    if runs:
        print(f"training {len(runs)} runs ({' and '.join(w for w in ('c1', 'training', 'proxy') if w in what)}) on "
              f"{args.workers} worker(s) into {cache}", flush=True)
        outs = run_jobs(runs, device="cpu", cache_dir=cache, workers=args.workers)
        print(f"training done: {len(outs)} runs, {time.perf_counter() - t0:.0f} s", flush=True)
        if c1_runs:
            from .experiments import c1_analyse

            res = c1_analyse(outs[:len(c1_runs)], "full", cache_dir=cache, workers=args.workers)
            print(f"C1 graded measures done ({len(res['analyses'])} runs); selected: {res['selected']}; "
                  f"verdict: {res['verdict'].label}", flush=True)
    rc = max([p.wait() for p in procs], default=0)
    print(f"precompute finished in {time.perf_counter() - t0:.0f} s (exit {rc})", flush=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
