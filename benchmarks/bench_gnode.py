"""Benchmarks of analysis_lib.gnode (notebook 03), single-threaded CPU.

1. Seconds per epoch of each model at the released 3-bit variable-amplitude configuration
   (500 training trials, batch 100, validation on 100 trials after every iteration; gnODE N = 6
   [100, 100, 100]; GRU/mGRU/RNN/nODE at N = 100 and N = 6). Informational.
2. The expressivity fits as one batched, masked ensemble vs the same fits one after another:
   need >= 3x.
3. The hand-written Euler recurrence vs `torchdiffeq.odeint(method="euler")` (one bin per call,
   as in the re-integration) on the same model and inputs: the hand-written one must not be slower
   (ratio odeint / hand >= 1).

Usage: python benchmarks/bench_gnode.py [--full] (default: 1 epoch on 200 trials scaled to 500, 3 Adam
steps, 3 repeats; `--full`: the long version). Prints one line per target and exits 1 if one fails.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np
import torch
from _timing import best_of


def _best_of(fn, repeats):
    return best_of(fn, repeats)[0]


def bench_epochs(quick: bool) -> list[str]:
    from analysis_lib.gnode import TrainConfig, build_model, make_flipflop, splits, train

    x, y = make_flipflop(3, 600, "variable", seed=0)
    tr, va = splits(x, y, 500, 100)
    if quick:  # one epoch = 5 iterations; QUICK times 1 epoch on 200 trials and scales to 500
        tr = (tr[0][:200], tr[1][:200])
    scale = 500 / tr[0].shape[0]
    lines = []
    models = [("gnode", 6)] + [(k, n) for n in (100, 6) for k in ("gru", "mgru", "rnn", "node")]
    for kind, N in models:
        m = build_model(kind, N, 3, hidden=(100, 100, 100), h0_mode="fixed", seed=0)
        cfg = TrainConfig(epochs=1, lr=1e-3, weight_decay=0.1, batch_size=100, val_every="iter")
        res = train(m, tr, va, cfg, progress=False)
        lines.append(f"epoch_seconds_{kind}_N{N}: {res.wall_s * scale:.2f} s/epoch (released 3-bit config, CPU, "
                     f"1 thread{', scaled from 200 trials' if quick else ''}) INFO")
    return lines


def bench_ensemble(quick: bool) -> tuple[str, bool]:
    from analysis_lib.gnode import fit_ensemble, fit_sequential, quick_grid

    specs, targets, _ = quick_grid(0)
    steps = 3 if quick else 10
    fit_ensemble(specs[:1], targets[:1], steps=1, progress=False)  # warm-up (imports, allocator)
    t_ens = _best_of(lambda: fit_ensemble(specs, targets, steps=steps, progress=False), 1)
    t_seq = _best_of(lambda: fit_sequential(specs, targets, steps=steps), 1)
    ratio = t_seq / t_ens
    ok = ratio >= 3.0
    return (f"expressivity_ensemble_vs_sequential: ratio {ratio:.1f}x (need >= 3x; {len(specs)} fits, {steps} Adam "
            f"steps, ensemble {t_ens:.1f} s vs sequential {t_seq:.1f} s) {'PASS' if ok else 'FAIL'}"), ok


def bench_euler(quick: bool) -> tuple[str, bool]:
    from analysis_lib.gnode import build_model, make_flipflop, reintegrate

    x, _ = make_flipflop(3, 100, "variable", seed=0)
    m = build_model("gnode", 6, 3, hidden=(100, 100, 100), h0_mode="fixed", seed=0)
    xt = torch.as_tensor(x)

    def hand():
        with torch.no_grad():
            return m(xt)[0]

    def ode():
        return reintegrate(m, x, substeps=1, method="euler")[0]

    err = float(np.abs(hand().numpy() - ode()).max())
    reps = 3 if quick else 5
    t_hand = _best_of(hand, reps)
    t_ode = _best_of(ode, reps)
    ratio = t_ode / t_hand
    ok = ratio >= 1.0 and err < 1e-5
    return (f"euler_hand_vs_torchdiffeq: ratio {ratio:.1f}x (need >= 1x: hand-written not slower; hand {t_hand * 1e3:.1f} ms "
            f"vs odeint {t_ode * 1e3:.1f} ms; max |diff| {err:.1e}) {'PASS' if ok else 'FAIL'}"), ok


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true", help="the long version: whole 500-trial epochs, 10 Adam steps, 5 repeats")
    ap.add_argument("--quick", action="store_true", help="the default (kept for old command lines)")
    args = ap.parse_args(argv)
    args.quick = not args.full  # the default fits `make bench`'s 5 minutes (19 s CPU vs 50 s for --full)
    from analysis_lib import limit_threads

    limit_threads(1)
    ok_all = True
    for line in bench_epochs(args.quick):
        print(line, flush=True)
    for fn in (bench_ensemble, bench_euler):
        line, ok = fn(args.quick)
        ok_all &= ok
        print(line, flush=True)
    return 0 if ok_all else 1


if __name__ == "__main__":
    sys.exit(main())
