"""Benchmarks for the PRX gated RNN (issue 4, spec gating_theory.md §4.5-4.7).

1. Top-50 Lyapunov exponents at N = 300 (state dimension 900): blockwise Jacobian-times-matrix
   (`prx.jmp`, never forms the Jacobian) vs a baseline that forms the dense 900 × 900 Jacobian at
   every RK4 stage and multiplies it with Q. Same initial state, same tangent vectors, same
   trajectory; the exponents must agree to 1e-6 and the blockwise path must be >= 3x faster.
2. Seconds per DMFT solve: Fourier solver (alpha_z = 0) and Monte-Carlo solver at the QUICK
   point (g_h, alpha_r) = (3, 2), tau_r = 1 (Fourier must converge in <= 30 s; MC: reported).
3. MLE runs that share one network (notebook 02's F9/F10 batches): 6 parameter sets at N = 1000 as
   columns of one `prx.SharedCouplingStepper` (`lyapunov.mle_runs`) vs six `mle_run` calls; same
   MLEs to 1e-8 (short window), reported as a speed ratio (INFO: it set the FULL run's plan).

Usage: .venv/bin/python benchmarks/bench_prx.py [--quick]
Timings are wall-clock on one BLAS thread (shared 2-core machine: expect ~2x contention noise).
"""
from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from analysis_lib import limit_threads
from analysis_lib.gating.prx import dmft, lyapunov
from analysis_lib.gating.prx import model as prx


def bench_lyapunov(T: float, repeats: int) -> bool:
    p = prx.PRXParams(g_h=4.0, alpha_z=5.0, alpha_r=2.0, tau_z=1.0, tau_r=1.0)
    N, k = 300, 50
    J = prx.make_couplings(N, 0)
    x0 = prx.initial_state(p, N, 1)
    for _ in range(200):  # a short transient shared by both runs
        x0 = prx.rk4_step(x0, 0.05, p, J)
    times = {}
    exps = {}
    for name, dense in (("blockwise", False), ("dense", True)):
        best = np.inf
        for _ in range(repeats):
            t0 = time.perf_counter()
            res = lyapunov.lyapunov_qr(p, J, k=k, T=T, dt=0.05, transient=0.0, x0=x0, seed=0, dense=dense)
            best = min(best, time.perf_counter() - t0)
        times[name], exps[name] = best, res.exponents
    err = float(np.max(np.abs(exps["blockwise"] - exps["dense"])))
    ratio = times["dense"] / times["blockwise"]
    ok = ratio >= 3.0 and err <= 1e-6
    print(f"lyapunov_top50_N300: ratio {ratio:.1f}x (need >= 3x; blockwise {times['blockwise']:.2f} s, "
          f"dense {times['dense']:.2f} s, T = {T}, max |diff| = {err:.1e} <= 1e-6) {'PASS' if ok else 'FAIL'}")
    return ok


def bench_dmft() -> bool:
    p = prx.PRXParams(g_h=3.0, alpha_r=2.0, alpha_z=0.0, tau_r=1.0)
    f = dmft.dmft_fourier(p)
    ok = f.converged and f.seconds <= 30.0
    print(f"dmft_fourier_quick_point: {f.seconds:.1f} s per solve (need <= 30 s, {f.n_iter} Anderson iterations, "
          f"converged={f.converged}, C_h(0) = {f.C_h[0]:.5f}) {'PASS' if ok else 'FAIL'}")
    m = dmft.dmft_mc(p.replace(alpha_z=5.0), seed=0)
    print(f"dmft_mc_quick_point: {m.seconds:.1f} s per solve (alpha_z = 5, M = 200 paths x 4096 steps, "
          f"30 iterations, C_h(0) = {m.C_h[0]:.5f}) INFO")
    return ok


def bench_shared_network(T: float) -> bool:
    ps = [prx.PRXParams(g_h=1.8, alpha_r=a) for a in (5.0, 10.0, 20.0, 30.0, 50.0, 80.0)]
    kw = dict(T=T, dt=0.05, transient=0.0, record_every=10)
    t0 = time.perf_counter()
    single = [lyapunov.mle_run(p, 1000, 0, **kw)["mle"] for p in ps]
    t_single = time.perf_counter() - t0
    t0 = time.perf_counter()
    batch = [r["mle"] for r in lyapunov.mle_runs(ps, 1000, 0, **kw)]
    t_batch = time.perf_counter() - t0
    err = float(np.max(np.abs(np.subtract(single, batch))))
    ok = err <= 1e-8
    print(f"mle_runs_shared_network_N1000_x6: ratio {t_single / t_batch:.1f}x (one by one {t_single:.2f} s, batched "
          f"{t_batch:.2f} s, T = {T}, max |diff| = {err:.1e} <= 1e-8) {'INFO' if ok else 'FAIL'}")
    return ok


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="shorter Lyapunov window, fewer repeats")
    args = ap.parse_args(argv)
    limit_threads(1)
    # best of several repeats: the shared machine adds contention noise to single timings
    ok = bench_lyapunov(T=5.0 if args.quick else 10.0, repeats=2 if args.quick else 3)
    ok &= bench_dmft()
    ok &= bench_shared_network(T=5.0 if args.quick else 10.0)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
