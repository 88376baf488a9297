"""Benchmark (notebook 04): one batched sweep over (η, β, ε, seed) vs a per-configuration loop.

Both compute the same label-noise SGDM chains on the toy model (same noise streams) and must give
identical results (final states and occupation times, bit for bit). Target: >= 10x on 2 cores.

    .venv/bin/python benchmarks/bench_momentum.py [--quick]
"""
from __future__ import annotations

import argparse
import itertools
import sys

import numpy as np

from _timing import best_of

from analysis_lib import limit_threads
from analysis_lib.momentum.dynamics import Occupation, sgdm_label_noise
from analysis_lib.momentum.models import ToyUV


def configs():
    """2 η × 4 β × 2 ε × 4 seeds = 64 configurations."""
    return np.array(list(itertools.product([0.05, 0.02], [0.0, 0.9, 0.97, 0.99], [0.1, 0.2], range(4))))


def batched(cf, n_steps, toy, w0):
    run = sgdm_label_noise(toy, w0, cf[:, 0], cf[:, 1], cf[:, 2], n_steps, noise_keys=cf[:, 3].astype(int), every=5,
                           observers={"T": Occupation(toy.distance, 0.2)})
    return run.W, run.observed["T"]


def loop(cf, n_steps, toy, w0):
    Ws, Ts = [], []
    for eta, beta, eps, seed in cf:
        run = sgdm_label_noise(toy, w0, eta, beta, eps, n_steps, noise_keys=[int(seed)], every=5,
                               observers={"T": Occupation(toy.distance, 0.2)})
        Ws.append(run.W[0])
        Ts.append(run.observed["T"][0])
    return np.array(Ws), np.array(Ts)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer steps (CI)")
    args = ap.parse_args(argv)
    limit_threads(1)
    n_steps = 1000 if args.quick else 5000
    toy, cf = ToyUV(), configs()
    w0 = toy.on_manifold(np.log(3.0))
    t_batch, (Wb, Tb) = best_of(lambda: batched(cf, n_steps, toy, w0), 3)
    t_loop, (Wl, Tl) = best_of(lambda: loop(cf, n_steps, toy, w0), 1)
    identical = bool(np.array_equal(Wb, Wl) and np.array_equal(Tb, Tl))
    ratio = t_loop / t_batch
    ok = identical and ratio >= 10
    print(f"momentum_batched_sweep_{len(cf)}_configs_{n_steps}_steps: loop {t_loop:.2f}s, batched {t_batch:.3f}s, "
          f"identical results: {identical}")
    print(f"momentum_batched_sweep: ratio {ratio:.1f}x (need >= 10x) {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
