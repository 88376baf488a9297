"""Figure-level computations of notebook 02 (Krishnamurthy, Can & Schwab, PRX 2022; spec
`gating_theory.md` §5-§6). Each public function computes what one figure (or one claim table)
needs, from the library modules `model`, `meanfield`, `dmft`, `lyapunov`; plotting lives in
`plots`.

The expensive simulations of all figures (DMFT solves, network simulations, Lyapunov runs) are
independent, so `run_simulations` puts them in ONE `al.sweep` (balanced over the worker
processes: on 2 cores per-figure sweeps would leave a worker idle at the end of every figure)
and returns them grouped by figure; in FULL mode each job is cached on its own under
`cfg.cache_dir / "jobs"` (`sweep(..., cache_dir=)`: keyed by `run_job`, the job's arguments and the
code's fingerprint), so a failed long run loses nothing and changed code recomputes. Sizes are in
`Sizes` (`sizes(cfg)`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import census, dmft
from . import lyapunov as ly
from . import model as prx
from . import meanfield as mf
from ..params import check_float, check_positive_int, check_seed

P = prx.PRXParams


# ----------------------------------------------------------------------------- sizes
@dataclass(frozen=True)
class Sizes:
    """All run sizes of notebook 02 (QUICK defaults; `sizes(cfg)` picks FULL)."""

    full: bool = False
    N_zero: int = 400                       # zero-FP h-block (F4)
    N_frozen: int = 500                     # frozen-state (h, r) block spectra (F2, F3)
    N_ac0: int = 1000                       # C_h simulation at α_z = 0 (F5)
    T_ac0: float = 600.0
    N_acz: int = 500                        # C_h simulations at α_z ∈ {5, 20} (F5)
    T_acz: float = 400.0
    M_mc: int = 200                         # DMFT-MC paths
    N_lyap: int = 60                        # full Lyapunov spectra (F6), k = 3N
    T_lyap: float = 150.0
    az_lyap: tuple = (0.0, 15.0)
    N_mle: int = 300                        # MLE vs α_z (F7a), F1 traces
    T_mle: float = 300.0
    az_mle: tuple = (0.0, 5.0, 50.0)
    N_dmft_mle: int = 800                   # simulated MLE vs DMFT (F7c)
    T_dmft_mle: float = 400.0
    dmft_mle_points: tuple = ((4.0, 2.0),)  # (g_h, α_r); FULL adds (3, 2), (6, 5)
    N_pr: int = 300                         # PR and MLE vs α_r (F8)
    T_pr: float = 200.0
    gh_pr: tuple = (3.0,)
    ar_pr: tuple = (0.0, 2.0, 5.0, 10.0, 20.0)
    N_tr: int = 300                         # transition runs (F9)
    T_tr: float = 300.0
    dt_mle: float = 0.1                     # RK4 step of the MLE runs (spec §9: 0.1 in QUICK)
    dtype_dmft_mle: str = "float32"         # couplings of the F7c runs: float32 is ~6× faster at N = 800
                                            # (memory-bound); the 3-seed means differ by finite-T scatter only
                                            # (1.1 % at N = 800, a fifth of FULL's 5 % tolerance;
                                            # tests/test_prx_lyapunov.py), as in F7d's finite-size runs
    dtype_mle: str = "float64"              # couplings of the F8, F9 and F10 runs (float32 in FULL, N = 500-1000:
                                            # ~2.5x faster; state and tangents stay float64, so a step agrees to
                                            # float32 round-off and these figures' statistics with it)
    seeds: tuple = (0, 1, 2)                # MLE seeds (always 3: finite-N scatter ~10 %)
    seeds_tr: tuple = (0,)                  # transition runs: pinned seed in QUICK
    N_mem: int = 300                        # integrator / reset (F11)
    phase_grid: tuple | None = None         # FULL chaos-line grid: (g_h values, α_r values)
    N_phase: int = 500
    T_phase: float = 300.0
    adjoint: bool = True                    # F12 (optional; ~1 s, so QUICK too)
    fs_N: tuple = ()                        # FULL: finite-size study of the simulated MLE (F7d), sizes
    fs_seeds: tuple = ()                    # ... and the number of seeds at each size: the seed spread falls like
                                            # 1/√N, so N·seeds ≈ const gives SE ≈ 2 % at every N (cost ∝ N²·seeds)
    fs_T: float = 400.0
    dmft_line_g: tuple = (1.8,)             # F10: DMFT existence line of the chaotic solution (α_z = 0); ~15 s per g_h
    dmft_line_bisect: int = 5               # bisection steps in log α_r on [1, 200]: bracket ratio 200^(1/2^5) ≈ 1.18
    az_panel: tuple = (0.0, 5.0, 20.0)      # F10b: large-init runs at g_h = 1.8, α_r ∈ AR_TR, these α_z
    N_visited: int = 500                    # F3b: Jacobians at visited states, (g_h, α_r) = (3, 2), α_z ∈ VISITED_AZ
    seeds_visited: tuple = (0,)
    N_fixed_point: int = 300                # F3c: Jacobians at a nonzero fixed point, (g_h, α_r) = (3, 2), α_z ∈ VISITED_AZ
    seeds_fixed_point: tuple = (0, 1, 2)    # LM at N = 300: ~4 s per network (4 starts); at N = 500 ~3 s per start,
    starts_fixed_point: int = 4             # 1 start in 12 reaches a root: up to 48 starts (P(none) ≈ 2 %); N = 600:
                                            # none of 16, so FULL stays at the F3 edge test's N = 500


def sizes(cfg) -> Sizes:
    """QUICK sizes of spec §5, or the FULL (paper-scale) ones."""
    if not cfg.full:
        return Sizes()
    return Sizes(full=True, N_zero=1000, N_frozen=1000, N_ac0=2000, T_ac0=1200.0, N_acz=2000, T_acz=800.0,
                 M_mc=500, N_lyap=150, T_lyap=400.0, az_lyap=(0.0, 5.0, 15.0), N_mle=500, T_mle=500.0,
                 az_mle=(0.0, 2.0, 5.0, 15.0, 50.0), N_dmft_mle=2000, T_dmft_mle=400.0,
                 dmft_mle_points=((4.0, 2.0), (3.0, 2.0), (6.0, 5.0)), N_pr=1000, T_pr=400.0, gh_pr=(3.0, 5.0),
                 N_tr=1000, T_tr=1000.0, dt_mle=0.05, dtype_mle="float32", seeds_tr=(0, 1, 2),
                 phase_grid=(tuple(np.round(np.linspace(1.45, 1.99, 15), 3)),
                             tuple(np.round(np.geomspace(3.0, 60.0, 15), 2))), adjoint=True,
                 fs_N=(500, 1000, 2000, 4000), fs_seeds=(16, 8, 4, 2), fs_T=400.0,
                 dmft_line_g=tuple(sorted(set(np.round(np.linspace(1.45, 1.99, 15), 3).tolist()) | {1.8})),  # + G_TR
                 dmft_line_bisect=9,
                 az_panel=(0.0, 5.0, 20.0), N_visited=1000, seeds_visited=(0, 1, 2),
                 N_fixed_point=500, seeds_fixed_point=(0, 1, 2, 3, 4, 5), starts_fixed_point=48)


# ----------------------------------------------------------------------------- job dispatcher
def _frozen_job(g_h, alpha_r, alpha_z, N, seed, Delta_h=None):
    out = mf.frozen_spectrum_summary(g_h, alpha_r, alpha_z, N=N, seed=seed, Delta_h=Delta_h)
    out["params"] = P(g_h=g_h, alpha_r=alpha_r, alpha_z=alpha_z)
    out["Delta_h"] = Delta_h
    return out


def _dmft_mle_job(g_h, alpha_r, rtol):
    """The DMFT solve with its quadrature converged for λ_max to `rtol` (the expensive part, cached
    in FULL); `dmft_vs_sim` takes λ_max from the solution, so a change of the cheap Schrödinger step
    never reads a stale value from the cache."""
    res, _ = dmft.dmft_mle_converged(P(g_h=g_h, alpha_r=alpha_r, tau_r=0.0), rtol=rtol)
    return dict(result=res)


def _lyap_full_job(alpha_z, N, T, seed):
    p = P(g_h=5.0, alpha_r=2.0, alpha_z=alpha_z)
    res = ly.lyapunov_qr(p, prx.make_couplings(N, seed), k=3 * N, T=T, dt=0.05, transient=50.0, seed=seed)
    return res.exponents


def _mle_batch_job(runs):
    """Several `mle` jobs on one network (same N, seed, T, dt, recording, input protocol) as the
    columns of one `ly.mle_runs`; returns their results in order."""
    r0 = runs[0]
    return ly.mle_runs([P(**r["params"]) for r in runs], r0["N"], r0["seed"], T=r0["T"], dt=r0["dt"],
                       init_scales=[r.get("init_scale", 1.0) for r in runs], record_every=r0["record_every"],
                       beta_h_after=r0.get("beta_h_after"), n_trace_units=[r.get("n_trace_units", 0) for r in runs],
                       dtype=r0.get("dtype", "float64"))


def run_job(kind: str, **kw):
    """One independent computation (a point of the notebook's single `al.sweep`)."""
    if kind == "frozen":
        return _frozen_job(**kw)
    if kind == "fourier":
        return dmft.dmft_fourier(P(**kw))
    if kind == "dmft_mle":
        return _dmft_mle_job(**kw)
    if kind == "mc":
        M, seed = kw.pop("M"), kw.pop("seed")
        return dmft.dmft_mc(P(**kw), M=M, seed=seed)
    if kind == "autocorr":
        p = P(**kw.pop("params"))
        return dmft.network_autocorr(p, **kw)
    if kind == "mle":
        p = P(**kw.pop("params"))
        return ly.mle_run(p, **kw)
    if kind == "mle_batch":
        return _mle_batch_job(**kw)
    if kind == "lyap_full":
        return _lyap_full_job(**kw)
    if kind == "dmft_onset":
        return dmft_chaos_onset(**kw)
    if kind == "visited":
        return mf.visited_spectrum_summary(**kw)
    if kind == "fixed_point":
        return census.fixed_point_spectrum_summary(**kw)
    if kind == "memory":
        p = P(**kw.pop("params"))
        return prx.memory_pulse(p, **kw)
    if kind == "adjoint":
        p = P(**kw.pop("params"))
        return ly.adjoint_growth(p, prx.make_couplings(kw["N"], kw["seed"]), T=kw["T"], dt=0.05, seed=kw["seed"])
    raise ValueError(f"kind must be one of frozen, fourier, dmft_mle, mc, autocorr, mle, mle_batch, lyap_full, "
                     f"dmft_onset, visited, fixed_point, memory, adjoint; got {kind!r}")


# the frozen-state test cases of spec §6 (name → g_h, α_r, α_z, Δ_h). g1p5_ar10_az10 has no static
# solution (α_r,FP(1.5) ≈ 68 > 10), so it uses a frozen i.i.d. state with Δ_h = 1 (our choice)
RMT_CASES = {"g3_ar0_az0": (3.0, 0.0, 0.0, None), "g3_ar2_az0": (3.0, 2.0, 0.0, None),
             "g3_ar2_az5": (3.0, 2.0, 5.0, None), "g1p5_ar10_az10": (1.5, 10.0, 10.0, 1.0)}
SLOW_AZ = (0.0, 5.0, 20.0, 100.0)           # F2 / slow_modes.monotone at (g_h, α_r) = (3, 2)
VISITED_AZ = (0.0, 20.0, 100.0)             # F3b: Jacobians at visited states of (g_h, α_r) = (3, 2)
AC_AZ = (0.0, 5.0, 20.0)                    # F5 α_z values (g_h = 3, α_r = 2, τ_r = 1)
G_TR = 1.8                                  # transition runs (spec §4.9)
AR_TR = (10.0, 20.0, 50.0)
TRACE_UNITS = 5


def _n_windows(T: float, transient: float = 100.0, max_lag: float = 40.0) -> int:
    """Windows of a C_h run for its error bar: 5, each ≥ 1.5 max_lag long (fewer for short test runs)."""
    return int(max(1, min(5, (T - transient) // (1.5 * max_lag))))


def simulation_jobs(sz: Sizes, seed: int = 0) -> list[tuple[str, str, dict]]:
    """(figure, name, job) for every expensive computation (`run_simulations` runs them longest
    first, by `job_cost`)."""
    s0 = check_seed(seed)
    J: list[tuple[str, str, dict]] = []
    for (g, a) in sz.dmft_mle_points:
        for s in sz.seeds:
            J.append(("f7c", f"sim_{g:g}_{a:g}_s{s}", dict(kind="mle", params=dict(g_h=g, alpha_r=a, tau_r=0.0),
                                                           N=sz.N_dmft_mle, seed=s0 + s, T=sz.T_dmft_mle,
                                                           dt=sz.dt_mle, record_every=None,
                                                           dtype=sz.dtype_dmft_mle)))
        J.append(("f7c", f"dmft_{g:g}_{a:g}", dict(kind="dmft_mle", g_h=g, alpha_r=a, rtol=1e-3)))
        for n, n_seeds in zip(sz.fs_N, sz.fs_seeds):  # FULL: finite-size study; float32 couplings (a statistic is compared)
            for s in range(100, 100 + n_seeds):
                J.append(("f7d", f"fs_{g:g}_{a:g}_N{n}_s{s}", dict(kind="mle", params=dict(g_h=g, alpha_r=a, tau_r=0.0),
                                                                   N=n, seed=s0 + s, T=sz.fs_T, dt=sz.dt_mle,
                                                                   record_every=None, dtype="float32")))
    J.append(("f5", "sim_az0", dict(kind="autocorr", params=dict(g_h=3.0, alpha_r=2.0, alpha_z=0.0), N=sz.N_ac0,
                                    seed=s0, T=sz.T_ac0, dt=0.1, transient=100.0, max_lag=40.0,
                                    n_blocks=_n_windows(sz.T_ac0))))
    for az in AC_AZ[1:]:
        J.append(("f5", f"sim_az{az:g}", dict(kind="autocorr", params=dict(g_h=3.0, alpha_r=2.0, alpha_z=az),
                                               N=sz.N_acz, seed=s0, T=sz.T_acz, dt=0.1, transient=100.0,
                                               max_lag=40.0, n_blocks=_n_windows(sz.T_acz))))
    for az in AC_AZ:
        J.append(("f5", f"mc_az{az:g}", dict(kind="mc", g_h=3.0, alpha_r=2.0, alpha_z=az, M=sz.M_mc, seed=s0)))
    J.append(("f5", "fourier", dict(kind="fourier", g_h=3.0, alpha_r=2.0)))
    for az in sz.az_lyap:
        J.append(("f6", f"az{az:g}", dict(kind="lyap_full", alpha_z=az, N=sz.N_lyap, T=sz.T_lyap, seed=s0)))
    for az in sz.az_mle:
        J.append(("f7a", f"az{az:g}", dict(kind="mle", params=dict(g_h=5.0, alpha_r=0.0, alpha_z=az), N=sz.N_mle,
                                           seed=s0, T=sz.T_mle, dt=sz.dt_mle, record_every=10,
                                           n_trace_units=TRACE_UNITS)))
    for g in sz.gh_pr:
        for a in sz.ar_pr:
            for s in sz.seeds:
                J.append(("f8", f"g{g:g}_ar{a:g}_s{s}", dict(kind="mle", params=dict(g_h=g, alpha_r=a), N=sz.N_pr,
                                                            seed=s0 + s, T=sz.T_pr, dt=sz.dt_mle, record_every=10,
                                                            dtype=sz.dtype_mle)))
    tr = dict(N=sz.N_tr, T=sz.T_tr, dt=sz.dt_mle, record_every=10, dtype=sz.dtype_mle)
    for s in sz.seeds_tr:
        J.append(("f9", f"small_ar50_s{s}", dict(kind="mle", params=dict(g_h=G_TR, alpha_r=50.0), seed=s0 + s,
                                                  init_scale=0.01, n_trace_units=TRACE_UNITS, **tr)))
        J.append(("f9", f"input_ar50_s{s}", dict(kind="mle", params=dict(g_h=G_TR, alpha_r=50.0), seed=s0 + s,
                                                  init_scale=0.01, beta_h_after=0.2, n_trace_units=TRACE_UNITS,
                                                  **tr)))
        for a in AR_TR:
            J.append(("f9", f"large_ar{a:g}_s{s}", dict(kind="mle", params=dict(g_h=G_TR, alpha_r=a), seed=s0 + s,
                                                         init_scale=1.0, **tr)))
            for az in sz.az_panel:  # F10b: the same network and initial condition with the z gate on
                if az:
                    J.append(("f9", f"large_ar{a:g}_az{az:g}_s{s}",
                              dict(kind="mle", params=dict(g_h=G_TR, alpha_r=a, alpha_z=az), seed=s0 + s,
                                   init_scale=1.0, **tr)))
        if sz.full:  # the other two input cases of spec §6 (FULL)
            for g, a in ((1.8, 20.0), (1.5, 50.0)):
                J.append(("f9", f"small_g{g:g}_ar{a:g}_s{s}", dict(kind="mle", params=dict(g_h=g, alpha_r=a),
                                                                   seed=s0 + s, init_scale=0.01, **tr)))
                J.append(("f9", f"input_g{g:g}_ar{a:g}_s{s}", dict(kind="mle", params=dict(g_h=g, alpha_r=a),
                                                                   seed=s0 + s, init_scale=0.01, beta_h_after=0.2,
                                                                   **tr)))
    for name, (g, a, az, D) in RMT_CASES.items():
        J.append(("rmt", name, dict(kind="frozen", g_h=g, alpha_r=a, alpha_z=az, N=sz.N_frozen, seed=s0, Delta_h=D)))
    for az in SLOW_AZ:
        if az not in (0.0, 5.0):  # (3, 2, 0) and (3, 2, 5) are RMT cases already
            J.append(("rmt", f"g3_ar2_az{az:g}", dict(kind="frozen", g_h=3.0, alpha_r=2.0, alpha_z=az,
                                                      N=sz.N_frozen, seed=s0)))
    for name, kw in memory_protocols().items():
        J.append(("f11", name, dict(kind="memory", N=sz.N_mem, seed=s0, **kw)))
    if sz.adjoint:
        J.append(("f12", "adjoint", dict(kind="adjoint", params=dict(g_h=5.0, alpha_r=2.0), N=300, seed=s0, T=60.0)))
    for az in VISITED_AZ:
        for s in sz.seeds_visited:
            J.append(("visited", f"az{az:g}_s{s}", dict(kind="visited", g_h=3.0, alpha_r=2.0, alpha_z=az, N=sz.N_visited,
                                                        seed=s0 + s, T=200.0)))
    for s in sz.seeds_fixed_point:
        J.append(("fixed_point", f"s{s}", dict(kind="fixed_point", g_h=3.0, alpha_r=2.0, alpha_z=VISITED_AZ,
                                                N=sz.N_fixed_point, seed=s0 + s, n_starts=sz.starts_fixed_point)))
    for g in sz.dmft_line_g:
        J.append(("f10d", f"g{g:g}", dict(kind="dmft_onset", g_h=float(g), n_bisect=sz.dmft_line_bisect)))
    if sz.phase_grid is not None:
        for g in sz.phase_grid[0]:
            for a in sz.phase_grid[1]:
                J.append(("f10", f"g{g:g}_ar{a:g}", dict(kind="mle", params=dict(g_h=g, alpha_r=a), N=sz.N_phase,
                                                         seed=s0, T=sz.T_phase, dt=sz.dt_mle, record_every=10,
                                                         dtype=sz.dtype_mle)))
    return J


def _rk4_seconds(N: int, steps: float, runs: int, itemsize: int, tangent: bool) -> float:
    """Rough seconds of `steps` RK4 steps (4 stages) of `runs` runs on one network, on one core.

    A stage multiplies the 3N² couplings by c columns (c = runs for the state, 2·runs with the tangent)
    and does ~6e-8 s (state) or ~1.2e-7 s (with tangent) of elementwise work per unit and column. The
    product streams the couplings at ~50 GB/s while they fit in the L3 cache (< 16 MB), ~27 GB/s up
    to 100 MB, ~16 GB/s beyond; OpenBLAS then handles up to 3 columns for about the cost of one each
    and every further column for ~5 % of one (measured: `np.matmul` of a 2N × N matrix by 1-12
    columns, N = 1000-4000, float64/32). Fitted to `lyapunov.mle_runs` at N = 500-4000 and 1-60 runs
    on a 2-core EPYC VM, mostly within ~30 % and always within a factor 1.8 (e.g. 18 ms per tangent
    step at N = 1000 with 12 runs, 100 ms at N = 4000 float32 with one run). Two workers share the
    memory bandwidth, so a sweep on both cores takes longer per job than this."""
    nbytes = 3.0 * N * N * itemsize
    c = (2 if tangent else 1) * runs
    stream = nbytes / (50e9 if nbytes < 16e6 else 27e9 if nbytes < 100e6 else 16e9)
    elementwise = (1.2e-7 if tangent else 6e-8) * N * c
    return steps * 4 * (stream * (min(c, 3) + 0.05 * max(c - 3, 0)) + elementwise)


def job_cost(job: dict) -> float:
    """Estimated seconds of one `run_job` job (a rough model; it only orders the sweep, longest
    first, so that no long job starts last and leaves the other worker idle at the end)."""
    kind = job["kind"]
    if kind in ("mle", "mle_batch"):
        runs = job["runs"] if kind == "mle_batch" else (job,)
        r0 = runs[0]
        n_tr = (2 if r0.get("beta_h_after") is not None else 1) * 100.0 / r0["dt"]
        size = np.dtype(r0.get("dtype", "float64")).itemsize
        return (_rk4_seconds(r0["N"], n_tr, len(runs), size, tangent=False)
                + _rk4_seconds(r0["N"], r0["T"] / r0["dt"], len(runs), size, tangent=True))
    if kind == "autocorr":
        return _rk4_seconds(job["N"], job["T"] / job["dt"], 1, np.dtype(job.get("dtype", "float64")).itemsize, tangent=False)
    if kind == "lyap_full":  # k = 3N tangents: compute-bound products, 2·3N²·3N flops per stage at ~20 GFLOP/s
        return (job["T"] + 50.0) / 0.05 * 4 * (25e-6 + 18.0 * job["N"] ** 3 / 20e9)
    fixed = dict(dmft_mle=8.0, dmft_onset=1.0 * (job.get("n_bisect", 6) + 2), visited=4.0 * (job.get("N", 500) / 500) ** 3,
                 # ~1 s per LM start at N = 300, scaled as N³; at N = 500 about 12 starts run before one finds a root
                 fixed_point=1.0 * min(job.get("n_starts", 4), 12) * (job.get("N", 300) / 300) ** 3,
                 fourier=2.0, mc=4.0 * job.get("M", 200) / 200, memory=0.2,
                 adjoint=0.5 * (job.get("N", 300) / 300) ** 2, frozen=0.4 * (job.get("N", 500) / 500) ** 3)
    return fixed.get(kind, 1.0)


BATCHED_FIGURES = ("f7c", "f7d", "f8", "f9", "f10")  # their MLE runs share networks (one seed, several parameter
                                                     # points): batched (`batch_shared_networks`)
MAX_BATCH = 60                     # runs per batch: 4 batches for the FULL 15 × 15 grid (2 workers, resumable)


def batch_shared_networks(jobs, figures=BATCHED_FIGURES, max_batch: int = MAX_BATCH):
    """Merge the `mle` jobs of `figures` that run on the same network with the same protocol
    (N, seed, T, dt, record_every, β_h step) into `mle_batch` jobs of at most `max_batch` runs.

    A single run at N ≥ 500 is memory-bound (it streams the 3N² couplings at every RK4 stage for two
    columns), so a batch of runs on one network costs a fraction of the runs one by one (benchmark
    `benchmarks/bench_prx.py`). Returns (figure, names, job) with names a tuple (one name per run)
    for batches and a str otherwise, in the order of the first member of each batch.
    """
    max_batch = check_positive_int("max_batch", max_batch)
    groups: dict = {}
    out: list = []
    for fig, name, job in jobs:
        if fig not in figures or job["kind"] != "mle" or job.get("k", 1) != 1:
            out.append((fig, name, job))
            continue
        key = (fig, job["N"], job["seed"], job["T"], job["dt"], job["record_every"], job.get("beta_h_after"),
               job.get("dtype", "float64"))
        if key not in groups or len(groups[key][1]) == max_batch:
            groups[key] = (len(out), [], [])
            out.append(None)
        slot, names, runs = groups[key]
        names.append(name), runs.append(job)
        out[slot] = (fig, tuple(names), dict(kind="mle_batch", runs=tuple(runs)))
    return out


def memory_protocols() -> dict[str, dict]:
    """F11 (our operationalisation, not prototyped): a subcritical network (g_h = 1.5, so the zero
    state is stable) with fast gates (σ_z(0) = ½) vs a slow regime (β_z = 4: σ_z(0) ≈ 0.018, α_z = 8);
    a pulse is stored as m(t) = ⟨h, u⟩/N; the reset run drives the z pre-activation (I_z = +1.5),
    which opens the gates (σ_z(8·1.5 − 4) ≈ 1) for the last 10 time units of the hold."""
    fast = dict(g_h=1.5, alpha_r=2.0, alpha_z=8.0, beta_z=0.0)
    slow = dict(g_h=1.5, alpha_r=2.0, alpha_z=8.0, beta_z=4.0)
    base = dict(pulse_amp=1.0, pulse_time=5.0, hold_time=50.0)
    return {"fast": dict(params=fast, **base), "slow": dict(params=slow, **base),
            "slow_reset": dict(params=slow, reset_drive=1.5, reset_time=10.0, **base)}


def run_simulations(cfg, sz: Sizes | None = None, progress: bool = False, max_workers: int | None = None,
                    cache_dir=None) -> dict:
    """Every expensive computation of the notebook in one `al.sweep`; returns {figure: {name: result}}.
    FULL: each job's result is cached under `(cache_dir or cfg.cache_dir) / "jobs"` as soon as it finishes, keyed by
    `run_job`, the job's arguments and the fingerprint of the code (`_cache.cached_call` through
    `sweep(..., cache_dir=)`), so an interrupted FULL run resumes and a changed job or changed code is
    recomputed. There is no cache of the whole dict: it would hand back stale entries after a job changes."""
    from ...sweep import sweep

    sz = sizes(cfg) if sz is None else sz
    # longest first (stable: ties keep the listed order): a long job started last would leave the
    # other worker idle; the order changes no result (each job is independent and seeded)
    jobs = sorted(batch_shared_networks(simulation_jobs(sz, cfg.seed)), key=lambda j: -job_cost(j[2]))
    job_dir = Path(cache_dir or cfg.cache_dir) / "jobs" if cfg.full else None
    res = sweep(run_job, [dict(j) for _, _, j in jobs], progress=progress, max_workers=max_workers,
                desc="notebook 02 simulations", cache_dir=job_dir)
    out: dict = {}
    for (fig, names, _), r in zip(jobs, res):
        if isinstance(names, str):
            out.setdefault(fig, {})[names] = r
        else:
            out.setdefault(fig, {}).update(zip(names, r))
    return out


# ----------------------------------------------------------------------------- cheap theory (serial)
def zero_fp_scan(N: int, seed: int = 0, betas=(0.0, 1.0), factors=(0.9, 1.1, 1.2),
                 fine=np.linspace(0.5, 1.5, 11)) -> dict:
    """Zero fixed point (F4, C1): g_c, the rightmost Re λ of the N × N h-block at g_h = factor·g_c
    (claim factors and a fine scan) and the theory edge σ_z(0)(g_h σ_r(0) − 1)."""
    check_positive_int("N", N)
    out = {}
    for br in betas:
        gc = mf.zero_fp_threshold(br)
        fs = np.unique(np.concatenate([np.asarray(fine, float), np.asarray(factors, float)]))
        edge = np.array([float(mf.zero_fp_hblock_eigs(P(g_h=f * gc, beta_r=br), N, seed).real.max()) for f in fs])
        theory = np.array([mf.zero_fp_edge(P(g_h=f * gc, beta_r=br)) for f in fs])
        radius = np.array([P(g_h=f * gc, beta_r=br).sigma_z0 * P(beta_r=br).sigma_r0 * f * gc for f in fs])
        out[br] = dict(g_c=gc, factors=fs, edge=edge, theory=theory, radius=radius)
    return out


def static_mf_checks(g_line=(1.3, 1.4, 1.6, 1.8, 1.9, 1.95, 1.99)) -> dict:
    """Static mean field (F9a, C8): R(Δ = 1e-3) signs at g_h = 2, the subcritical α_r root, the
    Heaviside g_h, the FP-birth line, and Δ_h branches vs g_h for α_r below / above √8."""
    g_line = np.asarray(g_line, float)
    sign = {a: float(mf.mf_residual(1e-3, P(g_h=2.0, alpha_r=a))) for a in (2.7, 3.0)}
    g_grid = np.linspace(1.3, 3.0, 69)
    branches = {}
    for a in (2.0, 5.0, 20.0):
        sols = [mf.mf_solutions(P(g_h=g, alpha_r=a)) for g in g_grid]
        branches[a] = [(g, s) for g, s in zip(g_grid, sols)]
    return dict(sign=sign, subcritical=mf.subcritical_alpha_r(), heaviside=mf.heaviside_min_gh(),
                g_line=g_line, fp_line=mf.fp_line(g_line), branches=branches, small_coeff=mf.small_delta_coeff)


def pinning_table(cases=((3.0, 2.0), (5.0, 5.0), (8.0, 10.0)), alpha_z=(0.0, 10.0, 100.0, 1000.0)) -> dict:
    """Theory right edge λ_e vs α_z (C2, F3) and ½K(0) (pinned iff ½K(0) < 1, spec §4.4)."""
    out = {}
    for g, a in cases:
        out[(g, a)] = dict(edge=np.array([mf.right_edge_theory(P(g_h=g, alpha_r=a, alpha_z=z)) for z in alpha_z]),
                           half_K0=0.5 * mf.population_moments(P(g_h=g, alpha_r=a)).K0, alpha_z=np.array(alpha_z))
    return out


def alpha_r_widening(g_h: float = 3.0, alpha_r=(0.0, 2.0, 5.0, 10.0)) -> dict:
    """Theory λ_e and K(0) vs α_r at α_z = 0 (C3, F3)."""
    alpha_r = np.asarray(alpha_r, float)
    return dict(alpha_r=alpha_r, edge=np.array([mf.right_edge_theory(P(g_h=g_h, alpha_r=a)) for a in alpha_r]),
                K0=np.array([mf.population_moments(P(g_h=g_h, alpha_r=a)).K0 for a in alpha_r]))


def frozen_stats(g_h: float, alpha_r: float, alpha_z: float, N: int, seed: int = 0, Delta_h: float | None = None):
    """DiagStats of the same frozen state as `frozen_spectrum_summary` (for the curve F = 1)."""
    p = P(g_h=g_h, alpha_r=alpha_r, alpha_z=alpha_z)
    st = mf.frozen_state(p, N, seed, Delta_h)
    return mf.prx_diag_stats(st.h, st.z, st.r, p)


def phase_lines(g_grid=None, alpha_max: float = 200.0) -> dict:
    """Exact lines of the (α_r, g_h) phase diagram (C10): g_h = 2 and α_r,FP(g_h)."""
    g = np.linspace(1.42, 1.995, 24) if g_grid is None else np.asarray(g_grid, float)
    return dict(g=g, fp=mf.fp_line(g, alpha_max=alpha_max), g_c=mf.zero_fp_threshold(0.0))


# ----------------------------------------------------------------------------- summaries of sweep results
def seed_means(runs: dict, prefix: str, key: str, seeds) -> tuple[float, np.ndarray]:
    """Mean and per-seed values of `key` over runs named f"{prefix}_s{seed}"."""
    vals = np.array([runs[f"{prefix}_s{s}"][key] for s in seeds], dtype=float)
    return float(vals.mean()), vals


def alpha_r_table(runs: dict, sz: Sizes, g_h: float = 3.0) -> dict:
    """MLE and PR vs α_r (3-seed means and per-seed arrays), F7b/F8."""
    mle = np.array([[runs[f"g{g_h:g}_ar{a:g}_s{s}"]["mle"] for s in sz.seeds] for a in sz.ar_pr])
    pr = np.array([[runs[f"g{g_h:g}_ar{a:g}_s{s}"]["pr"] for s in sz.seeds] for a in sz.ar_pr])
    return dict(alpha_r=np.array(sz.ar_pr), mle=mle, pr=pr, mle_mean=mle.mean(1), pr_mean=pr.mean(1))


def dmft_vs_sim(runs: dict, sz: Sizes) -> dict:
    """F7c: {(g_h, α_r): dict(dmft=λ_max, E0, E0_doubled, n_nodes, sims=per-seed MLEs, sim_mean, rel)}."""
    out = {}
    for g, a in sz.dmft_mle_points:
        sims = np.array([runs[f"sim_{g:g}_{a:g}_s{s}"]["mle"] for s in sz.seeds])
        L = dmft.mle_dmft(runs[f"dmft_{g:g}_{a:g}"]["result"])
        out[(g, a)] = dict(dmft=float(L.lam_max), E0=L.E0, E0_doubled=L.E0_doubled, n_nodes=L.n_nodes, sims=sims,
                           sim_mean=float(sims.mean()), converged=runs[f"dmft_{g:g}_{a:g}"]["result"].converged,
                           rel=abs(float(L.lam_max) - sims.mean()) / abs(sims.mean()))
    return out


def extrapolate_inv_N(N, mean, se) -> tuple[float, float, float]:
    """Weighted least squares of mean(N) = λ_∞ + c/N (weights 1/se²): returns (λ_∞, its standard error
    (scaled up by √(χ²/dof) when the fit is worse than the error bars), c). The 1/N form is fixed in
    advance: the leading finite-size correction of a self-averaging mean-field quantity."""
    N, y, e = (np.asarray(v, dtype=float) for v in (N, mean, se))
    if N.size < 3:
        raise ValueError("extrapolate_inv_N needs at least three sizes")
    A = np.stack([np.ones_like(N), 1.0 / N], axis=1) / e[:, None]
    coef, *_ = np.linalg.lstsq(A, y / e, rcond=None)
    cov = np.linalg.inv(A.T @ A)
    chi2 = float(np.sum(((A @ coef) - y / e) ** 2)) / max(N.size - 2, 1)
    return float(coef[0]), float(np.sqrt(cov[0, 0] * max(chi2, 1.0))), float(coef[1])


def finite_size_mle(runs: dict, sz: Sizes) -> dict:
    """F7d: {(g_h, α_r): dict(N, mean, se, sims, lam_inf, se_inf, c)} from the FULL finite-size runs."""
    out = {}
    for g, a in sz.dmft_mle_points:
        sims = [np.array([runs[f"fs_{g:g}_{a:g}_N{n}_s{s}"]["mle"] for s in range(100, 100 + k)])
                for n, k in zip(sz.fs_N, sz.fs_seeds)]
        mean = np.array([v.mean() for v in sims])
        se = np.array([v.std(ddof=1) / np.sqrt(v.size) for v in sims])
        lam, se_inf, c = extrapolate_inv_N(sz.fs_N, mean, se)
        out[(g, a)] = dict(N=np.array(sz.fs_N), mean=mean, se=se, sims=sims, lam_inf=lam, se_inf=se_inf, c=c)
    return out


def dmft_has_chaos(p: prx.PRXParams, starts=(1.0, 0.1), n_tau: int = 400, dtau: float = 0.25,
                   max_iter: int = 400, tol: float = 1e-7) -> dict:
    """Whether the α_z = 0 Fourier DMFT (`dmft.dmft_fourier`) has a time-dependent solution at `p`:
    a C_h(τ) with C_h(0) > 1e-6 that decays, |C_h(τ_max)| < 0.05 C_h(0) (a static solution would
    keep C_h ≡ Δ_h). The self-consistent iteration is started from C_h = c·exp(−τ²/8) for each c in
    `starts` (large first): a chaotic solution born in a saddle-node need not attract every start.
    τ_max = n_tau·dtau = 100 ≫ the correlation time near the onset. Returns dict(exists, C0,
    undecided): `undecided` counts starts that neither converged nor collapsed within max_iter.
    Limitation: a solution with C_h(0) < 1e-4 counts as collapsed, so a continuous (small-amplitude)
    onset, as just above g_h = 2 or near (α_r, g_h) = (√8, 2), is seen late."""
    undecided = 0
    for c in starts:
        # C_h(0) below 1e-4 counts as collapsed: the chaotic branch near the onset has C_h(0) ≳ 5e-3
        r = dmft.dmft_fourier(p, n_tau=n_tau, dtau=dtau, max_iter=max_iter, tol=tol, C0_guess=float(c),
                              collapse_below=1e-4)
        if r.converged and r.C_h[0] > 1e-6 and abs(r.C_h[-1]) < 0.05 * r.C_h[0]:
            return dict(exists=True, C0=float(r.C_h[0]), undecided=undecided)
        undecided += int(not r.converged and r.C_h[0] > 0)
    return dict(exists=False, C0=0.0, undecided=undecided)


def dmft_chaos_onset(g_h: float, alpha_lo: float = 1.0, alpha_hi: float = 200.0, n_bisect: int = 6,
                     tau_r: float = 1.0) -> dict:
    """DMFT chaos line (F10, C10): the smallest α_r at which the Fourier DMFT (α_z = 0, β = 0,
    τ_r = `tau_r`, the simulations' value) has a time-dependent solution (`dmft_has_chaos`), by
    bisection in log α_r on [alpha_lo, alpha_hi] (assumes one crossing: checked at both ends, and every
    evaluation is returned). NaN when there is none at alpha_hi (g_h → √2: the line diverges) or
    already one at alpha_lo (g_h ≥ 2: the zero FP is unstable). Returns dict(g_h, onset, lo, hi,
    evaluated = [(α_r, exists, C_h(0))], undecided)."""
    g_h = check_float("g_h", g_h, 0.0, lo_open=True)
    n_bisect = check_positive_int("n_bisect", n_bisect)
    ev, und = [], 0

    def test(a):
        nonlocal und
        r = dmft_has_chaos(P(g_h=g_h, alpha_r=float(a), tau_r=tau_r))
        ev.append((float(a), r["exists"], r["C0"]))
        und += r["undecided"]
        return r["exists"]

    lo, hi = float(alpha_lo), float(alpha_hi)
    if test(lo) or not test(hi):
        return dict(g_h=g_h, onset=float("nan"), lo=lo, hi=hi, evaluated=ev, undecided=und)
    for _ in range(n_bisect):
        mid = math.sqrt(lo * hi)
        if test(mid):
            hi = mid
        else:
            lo = mid
    return dict(g_h=g_h, onset=hi, lo=lo, hi=hi, evaluated=ev, undecided=und)


def dmft_line(runs: dict, sz: Sizes) -> dict:
    """The DMFT chaos line from the sweep's `f10d` jobs: g, onset (upper bracket), lo, hi arrays."""
    rs = [runs[f"g{g:g}"] for g in sz.dmft_line_g]
    return dict(g=np.array([r["g_h"] for r in rs]), alpha_r=np.array([r["onset"] for r in rs]),
                lo=np.array([r["lo"] for r in rs]), hi=np.array([r["hi"] for r in rs]),
                undecided=int(sum(r["undecided"] for r in rs)), runs=rs)


def compare_chaos_lines(dmft_line: dict, chaos: dict, grid, alpha_max: float) -> dict:
    """FULL: the simulated chaos line (first grid α_r with chaos, `chaos_line`) against the DMFT line at
    the common g_h. The simulated onset is quantised by the α_r grid (ratio q between neighbours), so
    they agree at g_h when the simulated onset lies in [lo/q, hi·q] of the DMFT bracket, or when
    neither has chaos up to the grid's end (DMFT onset > alpha_max/q or none). Returns dict(g, agree)."""
    grid = np.asarray(grid, float)
    q = float(np.max(grid[1:] / grid[:-1]))
    g_d = {round(float(g), 6): i for i, g in enumerate(dmft_line["g"])}
    g_out, agree = [], []
    for g, a_sim in zip(chaos["g"], chaos["alpha_r"]):
        i = g_d.get(round(float(g), 6))
        if i is None:
            continue
        lo, hi, on = dmft_line["lo"][i], dmft_line["hi"][i], dmft_line["alpha_r"][i]
        if np.isfinite(a_sim):
            ok = bool(np.isfinite(on) and lo / q <= a_sim <= hi * q)
        else:
            ok = bool(not np.isfinite(on) or lo > alpha_max / q)
        g_out.append(float(g)), agree.append(ok)
    return dict(g=np.array(g_out), agree=np.array(agree, dtype=bool), q=q)


def is_chaotic(run: dict, mle_min: float = 0.03, var_min: float = 0.02) -> bool:
    """Sustained chaos (spec §6 bounds): MLE > 0.03 and var_h > 0.02."""
    return bool(run["mle"] > mle_min and run["var_h"] > var_min)


def is_decayed(run: dict, var_max: float = 1e-6) -> bool:
    return bool(run["var_h"] < var_max)


def chaos_line(runs: dict, sz: Sizes) -> dict:
    """FULL: smallest α_r on the grid with sustained chaos from large init, per g_h (NaN if none)."""
    if sz.phase_grid is None:
        raise ValueError("chaos_line needs the FULL phase grid (sz.phase_grid is None)")
    gs, ars = sz.phase_grid
    line = []
    for g in gs:
        hit = [a for a in ars if is_chaotic(runs[f"g{g:g}_ar{a:g}"])]
        line.append(min(hit) if hit else float("nan"))
    return dict(g=np.array(gs), alpha_r=np.array(line))


def monotone(values, increasing: bool = True, strict: bool = False, slack: float = 0.0) -> bool:
    """Whether successive values rise (or fall) — with an absolute `slack` allowed against the trend."""
    v = np.asarray(values, dtype=float)
    d = np.diff(v) if increasing else -np.diff(v)
    if not np.all(np.isfinite(v)):
        return False
    return bool(np.all(d > 0)) if strict else bool(np.all(d >= -check_float("slack", slack, 0.0)))
