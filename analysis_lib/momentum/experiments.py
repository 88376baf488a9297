"""Experiments of notebook 04: parameter presets (QUICK / FULL) as frozen dataclasses and one
run function per figure. Every sweep over (η, β, ε, seed) is ONE batched call of
`sgdm_label_noise` (configurations along the batch axis); seeds share noise streams across the
β grid (common random numbers). Sizes and settings marked "our operationalisation" are not the
paper's (its hyper-parameters are unknown)."""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .._cache import cached_call
from . import metrics, theory
from ._validate import in_range, positive, positive_int
from .dynamics import MeanSquare, Occupation, Record, sgdm_label_noise
from .models import MatrixSensing, QuadraticMode, TeacherStudentTanh, ToyUV, gauss_newton_polish, gradient_descent


def run_cached(run, p, cache_dir: str | Path | None, **not_in_key):
    """`run(p, **not_in_key)` for one of this module's `run_*` functions of a frozen parameter
    dataclass `p`, cached under `cache_dir` by `p` and the code (`cached_call`; None: computed).
    `not_in_key`: arguments that never change the result (`progress`). In FULL these batches cost
    minutes (F1 71 s, F2 36 s, F3 22 s, the β = 0 baseline 8 s on one core): cached, a warm FULL
    run reads them instead of recomputing."""
    return cached_call(run, {"p": p}, cache_dir=cache_dir, not_in_key=not_in_key)


def _preset(cls, quick: bool, presets: dict, overrides: dict):
    """QUICK or FULL preset with overrides; `base_seed` (the notebook SEED) shifts the preset's own
    noise seed, so SEED = 0 gives the calibrated default streams and other SEEDs independent ones."""
    base_seed = overrides.pop("base_seed", 0)
    if isinstance(base_seed, bool) or not isinstance(base_seed, (int, np.integer)) or base_seed < 0:
        raise ValueError(f"base_seed must be a non-negative integer; got {base_seed!r}")
    base = presets["quick" if quick else "full"]
    unknown = set(overrides) - set(cls.__dataclass_fields__)
    if unknown:
        raise ValueError(f"unknown {cls.__name__} fields: {sorted(unknown)}")
    params = cls(**{**base, **overrides})
    if base_seed and "seed" in cls.__dataclass_fields__:
        params = replace(params, seed=params.seed + 1009 * int(base_seed))
    return params


# ====================================================================== F1: effective learning rate
@dataclass(frozen=True)
class VarianceParams:
    """F1: AR(2) normal modes, s² = 1, over a 1−β grid and two curvatures."""

    eta: float = 0.1
    lams: tuple = (1.0, 2.0)
    one_minus_betas: tuple = tuple(np.geomspace(0.01, 1, 9))
    n_chains: int = 500
    n_steps: int = 10_000
    seed: int = 1


def variance_params(quick: bool = True, **overrides) -> VarianceParams:
    full = dict(one_minus_betas=tuple(np.geomspace(1e-3, 1, 13)), n_chains=4000, n_steps=60_000)
    return _preset(VarianceParams, quick, {"quick": {}, "full": full}, overrides)


@dataclass
class VarianceResult:
    params: VarianceParams
    simulated: np.ndarray  # (n_lam, n_beta)
    exact: np.ndarray
    stderr: np.ndarray


def run_variance(p: VarianceParams) -> VarianceResult:
    """Simulated stationary variance (second half of the run) vs M2, all modes in one batch.

    β = 1 − (1−β) with 1−β = 1 means plain SGD. Burn-in = n_steps/2 (≥ 5 relaxation times at the
    smallest 1−β of the presets)."""
    positive_int("n_chains", p.n_chains)
    omb = np.asarray(p.one_minus_betas, float)
    in_range("one_minus_betas", omb, 0.0, 1.0, lo_open=True)
    lams = np.asarray(p.lams, float)
    sim, err = np.zeros((len(lams), len(omb))), np.zeros((len(lams), len(omb)))
    # one batch per curvature (the model fixes λ); inside, all β and chains at once
    for a, lam in enumerate(lams):
        model = QuadraticMode(float(lam))
        beta = np.repeat(1 - omb, p.n_chains)
        # common random numbers across the β grid: chain c of every β sees noise stream c
        run = sgdm_label_noise(model, np.zeros(1), p.eta, beta, 1 / np.sqrt(lam), p.n_steps, every=1,
                               noise_keys=np.tile(np.arange(p.n_chains), len(omb)), seed=p.seed + 1000 * a,
                               observers={"ms": MeanSquare(p.n_steps // 2)})
        per_chain = run.observed["ms"][:, 0].reshape(len(omb), p.n_chains)
        sim[a] = per_chain.mean(axis=1)
        err[a] = per_chain.std(axis=1, ddof=1) / np.sqrt(p.n_chains)
    exact = theory.ar2_stationary_variance(p.eta, lams[:, None], 1 - omb[None, :])
    return VarianceResult(p, sim, exact, err)


# ====================================================================== F2: drift collapse
@dataclass(frozen=True)
class DriftParams:
    """F2: toy trajectories along Γ for several (η, β), compared in flow time t = kη²/(1−β)²."""

    eps: float = 0.2
    s0: float = float(np.log(3.0))
    t_end: float = 16.0
    configs: tuple = ((0.005, 0.9), (0.002, 0.95), (0.001, 0.98), (0.02, 0.9), (0.02, 0.0), (0.01, 0.0))
    n_chains: int = 256
    n_points: int = 64
    seed: int = 2


def drift_params(quick: bool = True, **overrides) -> DriftParams:
    full = dict(n_chains=1024, configs=DriftParams.configs + ((0.005, 0.0),))
    return _preset(DriftParams, quick, {"quick": {}, "full": full}, overrides)


@dataclass
class DriftResult:
    params: DriftParams
    t: list  # per config: flow times of the recorded points
    mean_s: list  # per config: mean s over chains
    final_s: np.ndarray  # mean s at t_end per config
    steps: np.ndarray
    diverged: np.ndarray


def run_drift(p: DriftParams, progress: bool = False) -> DriftResult:
    """Mean s(k) of `n_chains` toy chains from s0 on Γ, per (η, β) config (each config its own batch:
    horizons differ by 400×). Flow-time law (M4): all curves follow `toy_flow_s(t)`."""
    toy = ToyUV()
    ts, ss, finals, steps, divs = [], [], [], [], []
    for c, (eta, beta) in enumerate(p.configs):
        k_end = int(theory.steps_for_flow_time(p.t_end, eta, beta))
        every = max(1, k_end // p.n_points)
        k_end = every * (k_end // every) if k_end % every else k_end
        run = sgdm_label_noise(toy, toy.on_manifold(p.s0), eta, beta, p.eps, k_end, every=every,
                               noise_keys=np.arange(p.n_chains), seed=p.seed + 7919 * c,
                               observers={"s": Record(toy.s)}, progress=progress)
        k, s = run.observed["s"]
        ts.append(theory.flow_time(k, eta, beta))
        ss.append(np.nanmean(s, axis=1))
        finals.append(float(np.nanmean(toy.s(run.W))))
        steps.append(k_end)
        divs.append(run.diverged.mean())
    return DriftResult(p, ts, ss, np.array(finals), np.array(steps), np.array(divs))


# ====================================================================== F3/F4: the 2/3 law on the toy
@dataclass(frozen=True)
class ToyGridParams:
    """F3: T_occ over (η, ε) settings × 1−β grid × seeds, one batched run.

    `settings`: (η, ε) pairs (η scan at ε = 0.1 plus an ε scan at η = 0.02); horizon per setting
    = horizon_factor/(ηε)^{2/3} steps; threshold |ln(u/v)| ≥ thr checked every `every` steps."""

    settings: tuple = ((0.1, 0.1), (0.05, 0.1), (0.025, 0.1), (0.0125, 0.1), (0.00625, 0.1),
                       (0.02, 0.2), (0.02, 0.1), (0.02, 0.05), (0.02, 0.025))
    one_minus_betas: tuple = tuple(np.geomspace(1e-3, 0.3, 21))
    n_seeds: int = 32
    horizon_factor: float = 400.0
    s0: float = float(np.log(3.0))
    thr: float = 0.2
    every: int = 5
    seed: int = 3


def toy_params(quick: bool = True, **overrides) -> ToyGridParams:
    etas = tuple(float(e) for e in 0.1 * 2.0 ** -np.arange(0, 7.5, 1.0))  # 8 η over 2 decades
    full = dict(settings=tuple((e, 0.1) for e in etas) + ((0.02, 0.2), (0.02, 0.1), (0.02, 0.05), (0.02, 0.025)),
                n_seeds=64)
    return _preset(ToyGridParams, quick, {"quick": {}, "full": full}, overrides)


@dataclass
class ToyGridResult:
    params: ToyGridParams
    T_seed: np.ndarray  # (n_settings, n_beta, n_seed) occupation times
    diverged: np.ndarray  # (n_settings, n_beta) diverged fraction
    horizons: np.ndarray  # (n_settings,)

    @property
    def x(self) -> np.ndarray:
        return np.asarray(self.params.one_minus_betas, float)

    @property
    def T(self) -> np.ndarray:
        return self.T_seed.mean(axis=-1)

    def rows(self, *, eps=None, eta=None) -> np.ndarray:
        """Indices of settings with the given ε (or η)."""
        st = np.asarray(self.params.settings, float)
        sel = np.ones(len(st), bool)
        if eps is not None:
            sel &= np.isclose(st[:, 1], eps)
        if eta is not None:
            sel &= np.isclose(st[:, 0], eta)
        return np.flatnonzero(sel)


def toy_horizon(eta, eps, factor: float = 400.0) -> int:
    """Horizon ≈ factor/(ηε)^{2/3} steps (a multiple of 5 … rounded up to 100)."""
    return int(np.ceil(factor / (eta * eps) ** (2 / 3) / 100) * 100)


def run_toy_grid(p: ToyGridParams, progress: bool = False) -> ToyGridResult:
    """One batched run of all (setting, 1−β, seed) chains from s0 = ln 3 on Γ (u0 = 3, v0 = 1/3)."""
    positive_int("n_seeds", p.n_seeds)
    omb = np.asarray(p.one_minus_betas, float)
    in_range("one_minus_betas", omb, 0.0, 1.0, lo_open=True)
    st = np.asarray(p.settings, float)
    if st.ndim != 2 or st.shape[1] != 2:
        raise ValueError(f"settings must be (eta, eps) pairs; got {p.settings!r}")
    positive("settings", st)
    nS, nB, nK = len(st), len(omb), p.n_seeds
    H = np.array([toy_horizon(e, s, p.horizon_factor) for e, s in st])
    grid = np.stack(np.meshgrid(np.arange(nS), np.arange(nB), np.arange(nK), indexing="ij"), -1).reshape(-1, 3)
    toy = ToyUV()
    run = sgdm_label_noise(toy, toy.on_manifold(p.s0), st[grid[:, 0], 0], 1 - omb[grid[:, 1]], st[grid[:, 0], 1],
                           int(H.max()), noise_keys=grid[:, 2], seed=p.seed, horizon=H[grid[:, 0]], every=p.every,
                           observers={"T": Occupation(toy.distance, p.thr)}, progress=progress)
    T = run.observed["T"].reshape(nS, nB, nK)
    div = run.diverged.reshape(nS, nB, nK).mean(axis=-1)
    return ToyGridResult(p, T, div, H)


@dataclass(frozen=True)
class ExponentFit:
    """Slope of log y vs log x with its bootstrap CI over seeds, plus the per-row values."""

    slope: float
    ci: tuple
    x: np.ndarray
    y: np.ndarray

    @property
    def ci_contains(self):
        return lambda v: bool(self.ci[0] <= v <= self.ci[1])


def fit_optimum(x_grid, T_seed, control, horizons, quantity: str = "omb", method: str = "knee",
                n_boot: int = 200, rng=0) -> ExponentFit:
    """Exponent of the optimum vs a control variable (η or ε): slope of log(1−β*) (quantity="omb")
    or of log T* (quantity="tstar") vs log control, for method ∈ {argmin, knee}; bootstrap over seeds."""
    if quantity not in ("omb", "tstar"):
        raise ValueError(f"quantity must be 'omb' or 'tstar'; got {quantity!r}")

    def stat_rows(Tm):
        xs, ts = metrics.optimum_per_row(x_grid, Tm, horizons, method=method)
        return xs if quantity == "omb" else ts

    def stat(Tm):
        return metrics.loglog_slope(control, stat_rows(Tm))[0]

    slope, ci = metrics.bootstrap_statistic(stat, T_seed, n_boot=n_boot, rng=rng)
    return ExponentFit(slope, ci, np.asarray(control, float), stat_rows(T_seed.mean(-1)))


def right_branch_slopes(x_grid, T, horizons, factor: float = 3.0) -> np.ndarray:
    """Right-branch slope of log T vs log(1−β) per row (τ2 predicts +2)."""
    return np.array([metrics.right_branch_slope(x_grid, row, factor, h) for row, h in zip(T, horizons)])


@dataclass(frozen=True)
class SGDBaselineParams:
    """F4: plain SGD (β = 0) on the toy, same metric as the momentum grid."""

    etas: tuple = (0.1,)
    eps: float = 0.1
    n_seeds: int = 32
    horizon: int = 100_000
    s0: float = float(np.log(3.0))
    thr: float = 0.2
    every: int = 5
    seed: int = 4


def sgd_baseline_params(quick: bool = True, **overrides) -> SGDBaselineParams:
    full = dict(etas=(0.1, 0.07, 0.05, 0.035), horizon=600_000, n_seeds=32)
    return _preset(SGDBaselineParams, quick, {"quick": {}, "full": full}, overrides)


def run_sgd_baseline(p: SGDBaselineParams, progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """T_occ at β = 0 per η: returns (mean T per η, per-seed T (n_eta, n_seed)); all in one batch."""
    etas = np.asarray(p.etas, float)
    positive("etas", etas)
    toy = ToyUV()
    e_idx = np.repeat(np.arange(len(etas)), p.n_seeds)
    keys = np.tile(np.arange(p.n_seeds), len(etas))
    run = sgdm_label_noise(toy, toy.on_manifold(p.s0), etas[e_idx], 0.0, p.eps, p.horizon, noise_keys=keys,
                           seed=p.seed, every=p.every, observers={"T": Occupation(toy.distance, p.thr)},
                           progress=progress)
    T = run.observed["T"].reshape(len(etas), p.n_seeds)
    return T.mean(axis=1), T


# ====================================================================== F5/F6: matrix sensing
@dataclass(frozen=True)
class MSParams:
    """F5/F8: matrix sensing, phase 1 (GD to interpolation) then label-noise SGDM over (η, 1−β, seed).

    Seeds are independent label-noise streams from one problem instance and phase-1 state (our
    operationalisation). T_occ counts steps with ||UUᵀ − X*||_F ≥ thr, checked every `every` steps.
    Horizon per η: H(η) = horizon·(max η/η)^horizon_scaling (`ms_horizons`); 0 gives one horizon
    for all η (F5), 2/3 follows T* ∝ η^{−2/3} (F8, where η spans 1.5 decades)."""

    d: int = 10
    r: int = 1
    n: int = 25
    problem_seed: int = 0
    init_scale: float = 0.5
    phase1_lr: float = 0.01
    phase1_tol: float = 1e-12
    eps: float = 0.01
    thr: float = 0.3
    etas: tuple = (0.08, 0.028, 0.01)
    one_minus_betas: tuple = tuple(np.geomspace(5e-4, 0.03, 16))
    n_seeds: int = 8
    horizon: int = 32_000
    every: int = 10
    seed: int = 5
    horizon_scaling: float = 0.0


_MS_FULL = dict(etas=(0.08, 0.056, 0.04, 0.028, 0.02, 0.014, 0.01), one_minus_betas=tuple(np.geomspace(5e-4, 0.03, 20)),
                n_seeds=16, horizon=40_000)


def ms_params(quick: bool = True, **overrides) -> MSParams:
    return _preset(MSParams, quick, {"quick": {}, "full": _MS_FULL}, overrides)


def ms_eps2_params(quick: bool = True, **overrides) -> MSParams:
    """F5, second setting (the spec's): ε = 0.005, thr = 0.4, H = 24k on the same d = 10 instance and
    the same η / 1−β grids as F5 (FULL only in the notebook; the QUICK preset is F5's QUICK grid)."""
    eps2 = dict(eps=0.005, thr=0.4, horizon=24_000)
    return _preset(MSParams, quick, {"quick": eps2, "full": {**_MS_FULL, **eps2}}, overrides)


def ms_map_params(quick: bool = True, **overrides) -> MSParams:
    """F8 (FULL): a second, larger instance, d = 20, r = 2, n = 100, for the heat map T_occ(η, 1−β).

    n = 100 rather than the spec's 150 (our operationalisation): with Gaussian A_i a rank-r PSD X* is
    the only PSD interpolant once n exceeds the statistical dimension of the PSD cone's tangent cone,
    ≈ rd − r(r−1)/2 + (d−r)(d−r+1)/4 ≈ 124 here, and at n = 150 phase-1 GD indeed ended at X*
    (error 2e-2, 5e-6 after a Gauss–Newton polish), leaving phase 2 nothing to do. At n = 100 GD
    reaches L < 1e-12 in ≈ 19k steps with error ≈ 0.73 and λ_max ≈ 4.1. 6 η = 0.1·2^−k
    (1.5 decades, η λ_max ≤ 0.42), 18 values of 1−β in [2e-4, 0.05] (step 1.38×, below the
    2^{2/3} = 1.59× knee shift per η step), 16 seeds, H(η) = 10k·(0.1/η)^{2/3} ≈ 40 T_min.
    The QUICK preset is a smoke-test size (the notebook's QUICK F8 re-plots the F5 grid)."""
    full = dict(d=20, r=2, n=100, eps=0.01, thr=0.3, etas=tuple(float(e) for e in 0.1 * 2.0 ** -np.arange(6)),
                one_minus_betas=tuple(np.geomspace(2e-4, 0.05, 18)), n_seeds=16, horizon=10_000, horizon_scaling=2 / 3,
                seed=7)
    tiny = {**full, "etas": (0.1, 0.025), "one_minus_betas": tuple(np.geomspace(1e-3, 0.05, 6)), "n_seeds": 2,
            "horizon": 1_000}
    return _preset(MSParams, quick, {"quick": tiny, "full": full}, overrides)


def ms_horizons(p: MSParams) -> np.ndarray:
    """H(η) = horizon·(max η/η)^horizon_scaling, rounded up to a multiple of 10·every steps."""
    etas = np.asarray(p.etas, float)
    positive("etas", etas)
    if not np.isfinite(p.horizon_scaling) or p.horizon_scaling < 0:
        raise ValueError(f"horizon_scaling must be a finite number >= 0; got {p.horizon_scaling!r}")
    unit = 10 * p.every
    return (np.ceil(p.horizon * (etas.max() / etas) ** p.horizon_scaling / unit - 1e-9) * unit).astype(np.int64)


MS_PHASE1_FIELDS = ("d", "r", "n", "problem_seed", "init_scale", "phase1_lr", "phase1_tol")


def ms_phase1_state(d: int, r: int, n: int, problem_seed: int, init_scale: float, phase1_lr: float,
                    phase1_tol: float) -> tuple[np.ndarray, int]:
    """Interpolating phase-1 state of the matrix-sensing instance (GD on clean labels until L < tol):
    (U1 flattened, phase-1 steps)."""
    model = MatrixSensing.make(d, r, n, problem_seed)
    w0 = model.init(init_scale, rng=problem_seed + 1)
    U1, steps, _ = gradient_descent(model, w0, phase1_lr, phase1_tol, max_steps=500_000)
    return U1, int(steps)


def ms_phase1(p: MSParams, cache_dir: str | Path | None = None) -> tuple[MatrixSensing, np.ndarray, int]:
    """Problem instance and its interpolating phase-1 state (`ms_phase1_state`), cached under
    `cache_dir` by the phase-1 fields of `p` and the code (None: not cached)."""
    model = MatrixSensing.make(p.d, p.r, p.n, p.problem_seed)
    U1, steps = cached_call(ms_phase1_state, {k: getattr(p, k) for k in MS_PHASE1_FIELDS}, cache_dir=cache_dir)
    return model, U1, steps


@dataclass
class MSGridResult:
    params: MSParams
    T_seed: np.ndarray  # (n_eta, n_beta, n_seed)
    diverged: np.ndarray  # (n_eta, n_beta)
    final_error: np.ndarray  # (n_eta, n_beta, n_seed)
    phase1_error: float
    lambda_max: float
    phase1_loss: float = float("nan")

    @property
    def x(self):
        return np.asarray(self.params.one_minus_betas, float)

    @property
    def T(self):
        return self.T_seed.mean(axis=-1)

    @property
    def horizons(self) -> np.ndarray:
        """Horizon per η (`ms_horizons`)."""
        return ms_horizons(self.params)


def _ms_grid_arrays(p: MSParams, model: MatrixSensing, U1: np.ndarray, progress: bool = False):
    etas, omb = np.asarray(p.etas, float), np.asarray(p.one_minus_betas, float)
    positive("etas", etas)
    positive_int("n_seeds", p.n_seeds)
    in_range("one_minus_betas", omb, 0.0, 1.0, lo_open=True)
    H = ms_horizons(p)
    grid = np.stack(np.meshgrid(np.arange(len(etas)), np.arange(len(omb)), np.arange(p.n_seeds), indexing="ij"),
                    -1).reshape(-1, 3)
    run = sgdm_label_noise(model, U1, etas[grid[:, 0]], 1 - omb[grid[:, 1]], p.eps, int(H.max()),
                           noise_keys=grid[:, 2], seed=p.seed, horizon=H[grid[:, 0]], every=p.every,
                           observers={"T": Occupation(model.test_error, p.thr)}, progress=progress)
    shape = (len(etas), len(omb), p.n_seeds)
    return run.observed["T"].reshape(shape), run.diverged.reshape(shape).mean(-1), model.test_error(run.W).reshape(shape)


def _ms_result(p: MSParams, model: MatrixSensing, U1: np.ndarray, arrays) -> MSGridResult:
    W1 = U1[None]
    return MSGridResult(p, *arrays, float(model.test_error(W1)[0]), float(model.lambda_max(W1)[0]),
                        float(model.loss(W1)[0]))


def run_ms_grid(p: MSParams, model: MatrixSensing, U1: np.ndarray, progress: bool = False) -> MSGridResult:
    """All (η, 1−β, seed) chains from U1 in one batch; chain horizons H(η) from `ms_horizons`
    (one horizon for all when horizon_scaling = 0)."""
    return _ms_result(p, model, U1, _ms_grid_arrays(p, model, U1, progress))


def ms_grid_row(p: MSParams, U1: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One η row of `run_ms_grid` (p has a single η): (T_seed, diverged, final_error). The same noise
    streams as that row of the whole batch (a seed's stream depends only on its key), but not always
    the same bits: BLAS may round a batched gradient differently for another batch size (3e-16 in a
    QUICK gradient), and the chains amplify it (final errors then differ by up to 0.4 in a QUICK
    2-η grid with 2 seeds; equal with 4). The rows agree with the batch within the seed spread."""
    if len(p.etas) != 1:
        raise ValueError(f"ms_grid_row needs a single eta; got etas={p.etas!r}")
    model = MatrixSensing.make(p.d, p.r, p.n, p.problem_seed)
    return _ms_grid_arrays(p, model, np.asarray(U1, float))


def run_ms_grid_cached(p: MSParams, cache_dir: str | Path | None = None, progress: bool = False) -> MSGridResult:
    """`ms_phase1` (cached) then `run_ms_grid` as one job per η (`ms_grid_row`, each with its own
    horizon), run side by side on local processes and cached under `cache_dir` by the row's
    parameters, its phase-1 state and the code (None: not cached). Used for the FULL-only grids
    (F5's second ε, F8)."""
    from ..sweep import sweep

    model, U1, _ = ms_phase1(p, cache_dir)
    H = ms_horizons(p)
    points = [dict(p=replace(p, etas=(float(e),), horizon=int(h), horizon_scaling=0.0), U1=U1)
              for e, h in zip(p.etas, H)]
    parallel = len(points) > 1
    rows = sweep(ms_grid_row, points, executor=None if parallel else "serial", progress=progress,
                 max_workers=min(len(points), os.cpu_count() or 1), desc=f"matrix sensing d={p.d} (η rows)",
                 cache_dir=cache_dir)
    arrays = tuple(np.concatenate([r[i] for r in rows], axis=0) for i in range(3))
    return _ms_result(p, model, U1, arrays)


@dataclass
class MSCurves:
    """Error and Tr GN vs steps for a few (η, β) settings (F6 and the single-run checks)."""

    labels: tuple
    steps: np.ndarray
    error: np.ndarray  # (n_obs, n_setting, n_seed)
    trace_gn: np.ndarray
    T_occ: np.ndarray  # (n_setting, n_seed)
    final_error: np.ndarray  # (n_setting, n_seed)
    final_trace: np.ndarray
    diverged: np.ndarray


def run_ms_curves(model: MatrixSensing, U1: np.ndarray, eta: float, betas, eps: float, n_steps: int,
                  n_seeds: int = 8, thr: float = 0.3, every: int = 10, record_every: int = 100,
                  seed: int = 6, labels=None, progress: bool = False) -> MSCurves:
    """Label-noise SGDM from U1 at one η for several β (batched with seeds); records the test error
    and Tr GN = 4⟨M, UUᵀ⟩ every `record_every` steps and T_occ for `thr`."""
    betas = np.asarray(betas, float)
    positive_int("n_seeds", n_seeds)
    if record_every % every:
        raise ValueError(f"record_every must be a multiple of every={every}; got {record_every}")
    b_idx = np.repeat(np.arange(len(betas)), n_seeds)
    keys = np.tile(np.arange(n_seeds), len(betas))
    stride = record_every // every
    run = sgdm_label_noise(model, U1, eta, betas[b_idx], eps, n_steps, noise_keys=keys, seed=seed, every=every,
                           observers={"T": Occupation(model.test_error, thr), "err": Record(model.test_error, stride),
                                      "tr": Record(model.trace_gn, stride)}, progress=progress)
    steps, err = run.observed["err"]
    _, tr = run.observed["tr"]
    sh = (len(betas), n_seeds)
    return MSCurves(tuple(labels) if labels is not None else tuple(f"β={b:g}" for b in betas), steps,
                    err.reshape(len(steps), *sh), tr.reshape(len(steps), *sh), run.observed["T"].reshape(sh),
                    model.test_error(run.W).reshape(sh), model.trace_gn(run.W).reshape(sh),
                    run.diverged.reshape(sh))


# ====================================================================== F7: teacher–student
@dataclass(frozen=True)
class TSParams:
    """F7: teacher–student tanh regression (our choice of sizes), Tr GN vs steps per 1−β."""

    d: int = 4
    n: int = 24
    width: int = 16
    problem_seed: int = 0
    init_scale: float = 1.0
    phase1_lr: float = 0.2
    phase1_tol: float = 1e-8
    eta: float = 0.1
    eps: float = 0.1
    one_minus_betas: tuple = (1.0, 0.3, 0.1, 0.03, 0.01)
    n_seeds: int = 4
    n_steps: int = 20_000
    every: int = 200
    seed: int = 7


def ts_params(quick: bool = True, **overrides) -> TSParams:
    full = dict(n_seeds=16, n_steps=40_000)
    return _preset(TSParams, quick, {"quick": {}, "full": full}, overrides)


@dataclass
class TSResult:
    params: TSParams
    steps: np.ndarray
    trace_gn: np.ndarray  # (n_obs, n_beta, n_seed)
    test_mse: np.ndarray  # (n_beta, n_seed) at the end
    final_trace: np.ndarray  # (n_beta, n_seed)
    phase1_trace: float
    phase1_steps: int
    diverged: np.ndarray


TS_PHASE1_FIELDS = ("d", "n", "width", "problem_seed", "init_scale", "phase1_lr", "phase1_tol")


def ts_phase1_state(d: int, n: int, width: int, problem_seed: int, init_scale: float, phase1_lr: float,
                    phase1_tol: float) -> tuple[np.ndarray, int]:
    """Teacher–student phase 1: GD to L < max(tol, 1e-5), then minimum-norm Gauss–Newton to L < tol
    (GD alone needs ~4e5 steps). Returns (w1, GD steps)."""
    model = TeacherStudentTanh.make(d, n, width, rng=problem_seed)
    w1, steps1, _ = gradient_descent(model, model.init(init_scale, rng=problem_seed + 1), phase1_lr,
                                     max(phase1_tol, 1e-5), max_steps=500_000)
    w1, _, _ = gauss_newton_polish(model, w1, phase1_tol)
    return w1, int(steps1)


def run_ts(p: TSParams, cache_dir: str | Path | None = None, progress: bool = False) -> TSResult:
    """Phase 1 (`ts_phase1_state`, cached under `cache_dir` by its fields of `p` and the code) then
    batched label-noise SGDM."""
    model = TeacherStudentTanh.make(p.d, p.n, p.width, rng=p.problem_seed)
    w1, steps1 = cached_call(ts_phase1_state, {k: getattr(p, k) for k in TS_PHASE1_FIELDS}, cache_dir=cache_dir)
    omb = np.asarray(p.one_minus_betas, float)
    in_range("one_minus_betas", omb, 0.0, 1.0, lo_open=True)
    b_idx = np.repeat(np.arange(len(omb)), p.n_seeds)
    keys = np.tile(np.arange(p.n_seeds), len(omb))
    run = sgdm_label_noise(model, w1, p.eta, 1 - omb[b_idx], p.eps, p.n_steps, noise_keys=keys, seed=p.seed,
                           every=p.every, observers={"tr": Record(model.trace_gn)}, progress=progress)
    steps, tr = run.observed["tr"]
    sh = (len(omb), p.n_seeds)
    return TSResult(p, steps, tr.reshape(len(steps), *sh), model.test_mse(run.W).reshape(sh),
                    model.trace_gn(run.W).reshape(sh), float(model.trace_gn(w1[None])[0]), steps1,
                    run.diverged.reshape(sh))


# ====================================================================== summaries used by the notebook
@dataclass
class ToyFits:
    """All exponent fits of the toy grid (F3): η scan at ε = `eps_scan_eps`… see `fit_toy`."""

    etas: np.ndarray
    eps_values: np.ndarray
    gamma_argmin: ExponentFit
    gamma_knee: ExponentFit
    tstar: ExponentFit
    eps_exponent: ExponentFit
    tstar_eps: ExponentFit
    right_branch: np.ndarray  # per setting of the η scan
    diverged_max: float
    eta_scan_eps: float = 0.1


def fit_toy(res: ToyGridResult, eta_scan_eps: float = 0.1, eps_scan_eta: float = 0.02, n_boot: int = 200,
            rng=0) -> ToyFits:
    """Exponents of the toy grid: 1−β* vs η (argmin and knee), T* vs η (argmin), 1−β* and T* vs ε
    (knee / argmin), right-branch slopes; bootstrap CIs over seeds."""
    st = np.asarray(res.params.settings, float)
    ri, re_ = res.rows(eps=eta_scan_eps), res.rows(eta=eps_scan_eta)
    if len(ri) < 2 or len(re_) < 2:
        raise ValueError("the toy grid needs >= 2 settings in the η scan and in the ε scan")
    x = res.x
    Ti, Hi, Te, He = res.T_seed[ri], res.horizons[ri], res.T_seed[re_], res.horizons[re_]
    etas, epss = st[ri, 0], st[re_, 1]
    kw = dict(n_boot=n_boot, rng=rng)
    return ToyFits(
        etas=etas, eps_values=epss,
        gamma_argmin=fit_optimum(x, Ti, etas, Hi, "omb", "argmin", **kw),
        gamma_knee=fit_optimum(x, Ti, etas, Hi, "omb", "knee", **kw),
        tstar=fit_optimum(x, Ti, etas, Hi, "tstar", "argmin", **kw),
        eps_exponent=fit_optimum(x, Te, epss, He, "omb", "knee", **kw),
        tstar_eps=fit_optimum(x, Te, epss, He, "tstar", "argmin", **kw),
        right_branch=right_branch_slopes(x, res.T[ri], Hi),
        diverged_max=float(res.diverged.max()),
        eta_scan_eps=float(eta_scan_eps),
    )


@dataclass
class MSFits:
    gamma_knee: ExponentFit
    gamma_argmin: ExponentFit
    tmin: ExponentFit
    right_branch: np.ndarray
    knee_prefactor: float  # C in 1−β_knee = C η^{2/3} (least squares in log space with slope fixed at 2/3)
    knee_prefactor_linear: float = float("nan")  # C₁ of the γ = 1 alternative 1−β_knee = C₁ η (same fit)

    def knee_at(self, eta: float) -> float:
        """Knee 1−β at η from the fitted power law (slope and intercept of the knee fit)."""
        slope, intercept = metrics.loglog_slope(self.gamma_knee.x, self.gamma_knee.y)
        return float(np.exp(intercept) * eta ** slope)


def _prefactor(etas, knees, gamma: float) -> float:
    """C in knee = C η^γ with γ fixed: exp(mean(log knee − γ log η)) over the defined knees."""
    ok = np.isfinite(knees)
    return float(np.exp(np.mean(np.log(knees[ok]) - gamma * np.log(etas[ok])))) if ok.any() else float("nan")


def fit_ms(res: MSGridResult, n_boot: int = 200, rng=0) -> MSFits:
    """Knee/argmin exponents, T_min slope and right-branch slopes of a matrix-sensing grid (F5, F8),
    each row judged against its own horizon (`MSGridResult.horizons`)."""
    etas = np.asarray(res.params.etas, float)
    H = res.horizons
    kw = dict(n_boot=n_boot, rng=rng)
    gk = fit_optimum(res.x, res.T_seed, etas, H, "omb", "knee", **kw)
    return MSFits(gk, fit_optimum(res.x, res.T_seed, etas, H, "omb", "argmin", **kw),
                  fit_optimum(res.x, res.T_seed, etas, H, "tstar", "knee", **kw),
                  right_branch_slopes(res.x, res.T, H), _prefactor(etas, gk.y, 2 / 3), _prefactor(etas, gk.y, 1.0))


@dataclass
class KneeRatio:
    """Ratio of the knees of two grids at equal η (ε-scaling of F5): geometric means over the η
    where both knees are defined, with percentile bootstrap CIs over seeds."""

    ratio: float
    ci: tuple
    knee_a: float
    ci_a: tuple
    knee_b: float
    ci_b: tuple
    n_eta: int

    @property
    def log_halfwidths(self) -> tuple[float, float]:
        """Half-widths of the two knees' CIs in log space, (log hi − log lo)/2."""
        return tuple(float(np.log(c[1] / c[0]) / 2) for c in (self.ci_a, self.ci_b))


def ms_knee_ratio(res_a: MSGridResult, res_b: MSGridResult, n_boot: int = 200, rng=0) -> KneeRatio:
    r"""$R = \exp\,\mathrm{mean}_\eta[\log x_c^a(\eta) - \log x_c^b(\eta)]$, the knee ratio of grid a to
    grid b at equal η; the (ηε)^{2/3} law predicts $R = (\varepsilon_a/\varepsilon_b)^{2/3}$. The two
    grids must share η, 1−β and the seed count; seeds are resampled jointly (the grids share noise
    keys), and each grid's geometric-mean knee gets its own CI from the same resamples."""
    pa, pb = res_a.params, res_b.params
    if not (len(pa.etas) == len(pb.etas) and len(res_a.x) == len(res_b.x) and np.allclose(pa.etas, pb.etas)
            and np.allclose(res_a.x, res_b.x) and pa.n_seeds == pb.n_seeds):
        raise ValueError("res_a and res_b must share etas, one_minus_betas and n_seeds")
    Ha, Hb = res_a.horizons, res_b.horizons
    n_eta = int(np.sum(np.isfinite(metrics.optimum_per_row(res_a.x, res_a.T, Ha, method="knee")[0])
                       & np.isfinite(metrics.optimum_per_row(res_b.x, res_b.T, Hb, method="knee")[0])))

    def log_knees(T):  # T: (2, n_eta, n_beta) seed means of grids a and b
        ka = metrics.optimum_per_row(res_a.x, T[0], Ha, method="knee")[0]
        kb = metrics.optimum_per_row(res_b.x, T[1], Hb, method="knee")[0]
        ok = np.isfinite(ka) & np.isfinite(kb)
        return (np.mean(np.log(ka[ok])), np.mean(np.log(kb[ok]))) if ok.any() else (np.nan, np.nan)

    # one integer seed gives the three calls the same resamples: one joint bootstrap over seeds
    seed = int(rng) if isinstance(rng, (int, np.integer)) else int(np.random.default_rng(rng).integers(2 ** 31))
    T_seed = np.stack([res_a.T_seed, res_b.T_seed])
    stats = [lambda T: np.subtract(*log_knees(T)), lambda T: log_knees(T)[0], lambda T: log_knees(T)[1]]
    (lr, ci_r), (la, ci_a), (lb, ci_b) = (metrics.bootstrap_statistic(f, T_seed, n_boot, seed) for f in stats)
    ex = lambda ci: tuple(float(np.exp(q)) for q in ci)  # noqa: E731
    return KneeRatio(float(np.exp(lr)), ex(ci_r), float(np.exp(la)), ex(ci_a), float(np.exp(lb)), ex(ci_b), n_eta)


# ====================================================================== F9 (FULL): digits MLP stand-in
@dataclass(frozen=True)
class DigitsParams:
    """F9 (FULL only): tanh MLP 64-128-64-10 on digits, MSE on one-hot targets (our choices).

    17k parameters > 10k one-hot constraints (1000 × 10), so phase 1 can interpolate. Phase 2 costs
    21 configs × 10k steps × 1000 samples per seed, one seed per process (minutes on a GPU)."""

    n_train: int = 1000
    widths: tuple = (64, 128, 64, 10)
    phase1_lr: float = 0.1  # only for phase1_method="gd"
    phase1_method: str = "lbfgs"
    phase1_tol: float = 1e-5
    etas: tuple = (0.2, 0.1, 0.05)
    # 1−β from 1e-3: with [0.01, 0.5] (first FULL run) T_occ still fell at 0.01 for every η, so the
    # knee/argmin sat on the grid's edge, where the estimator is undefined.
    one_minus_betas: tuple = tuple(np.geomspace(0.001, 0.1, 7))
    eps: float = 0.1
    n_seeds: int = 4  # ≥ 4 for a bootstrap CI over seeds (2 seeds in the first FULL run: no CI)
    n_steps: int = 10_000
    every: int = 200
    n_probe: int = 8  # Hutchinson probes per observation (≈ 10% noise per probe set at 4)
    seed: int = 8


def digits_params(quick: bool = True, **overrides) -> DigitsParams:
    """The digits run is FULL only; the QUICK preset is a tiny smoke-test size."""
    quick_p = dict(n_train=200, widths=(64, 16, 10), etas=(0.2, 0.1), one_minus_betas=(0.1, 0.3, 1.0), n_seeds=1,
                   n_steps=40, every=20, n_probe=1, phase1_tol=5e-2)
    return _preset(DigitsParams, quick, {"quick": quick_p, "full": {}}, overrides)


def digits_phase1(widths: tuple, X: np.ndarray, Y: np.ndarray, lr: float, tol: float, method: str, seed: int,
                  device: str, max_steps: int = 400_000, progress: bool = False) -> list[np.ndarray]:
    """Phase 1 of the digits MLP (`classify.phase1_interpolate`): weights and biases as float64 arrays."""
    from . import classify

    params1, _, _ = classify.phase1_interpolate(widths, X, Y, lr, tol, seed=seed, device=device, method=method,
                                                progress=progress, max_steps=max_steps)
    return [t.cpu().numpy() for t in params1]


def digits_phase2_seed(params1: list, data: tuple, etas: tuple, one_minus_betas: tuple, eps: float, n_steps: int,
                       seed_index: int, every: int, n_probe: int, seed: int, device: str, checkpoint=None,
                       checkpoint_every: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """Phase 2 of one digits seed, all (η, 1−β) batched (`classify.label_noise_runs` with
    seeds=[seed_index]; each seed owns its random streams): (Tr GN, test accuracy), each
    (n_steps // every + 1, n_eta, n_beta, 1). `checkpoint`: resume file (same result either way)."""
    import torch

    from . import classify

    return classify.label_noise_runs([torch.as_tensor(a, device=device) for a in params1], *data, etas,
                                     one_minus_betas, eps, n_steps, seeds=[seed_index], every=every, n_probe=n_probe,
                                     seed=seed, device=device, checkpoint=checkpoint,
                                     checkpoint_every=checkpoint_every)


DIGITS_CHECKPOINT_EVERY = 1000  # phase-2 steps between resume checkpoints (not part of any key)


def _digits_seed_job(cache_dir, **job):
    """`digits_phase2_seed(**job)` cached under `cache_dir` (key: job + code) and resumable: its
    checkpoint file is keyed the same way (`cache_file`), so only this very job resumes from it."""
    labels = dict(etas=list(job["etas"]), one_minus_betas=list(job["one_minus_betas"]), seeds=[job["seed_index"]],
                  steps=list(range(0, job["n_steps"] + 1, job["every"])))
    return cached_call(digits_phase2_seed, job, cache_dir=cache_dir, labels=labels, checkpoint_suffix=".ckpt",
                       not_in_key=dict(checkpoint_every=DIGITS_CHECKPOINT_EVERY))


def run_digits(p: DigitsParams, cache_dir: str | Path | None = None, device: str = "cpu", progress: bool = False):
    """Phase 1 (`digits_phase1`, cached) then the label-noise grid, one cached, resumable job per seed
    (`digits_phase2_seed`), summarised by `classify.summarize_label_noise`."""
    from . import classify, data

    Xtr, ytr, Xte, yte = data.load_digits_split(p.n_train, seed=p.seed)
    Ytr = data.one_hot(ytr, p.widths[-1])
    params1 = cached_call(digits_phase1, dict(widths=tuple(p.widths), X=Xtr, Y=Ytr, lr=p.phase1_lr, tol=p.phase1_tol,
                                              method=p.phase1_method, seed=p.seed, device=device, max_steps=400_000),
                          cache_dir=cache_dir, not_in_key=dict(progress=progress))
    # phase 2 is the expensive part (≈ 12 CPU-minutes per seed): one job per seed, run side by side
    # on CPU and cached one by one, so an interrupted run keeps its finished seeds (and resumes the
    # others from their checkpoints) and adding seeds reuses the others. A job's key holds its
    # inputs (phase-1 state, data, grid, seed index), not n_seeds.
    points = [dict(cache_dir=cache_dir, params1=params1, data=(Xtr, Ytr, Xte, yte), etas=tuple(p.etas),
                   one_minus_betas=tuple(p.one_minus_betas), eps=p.eps, n_steps=p.n_steps, seed_index=s,
                   every=p.every, n_probe=p.n_probe, seed=p.seed, device=device)
              for s in range(p.n_seeds)]
    from ..sweep import sweep

    parallel = device == "cpu" and p.n_seeds > 1
    runs = sweep(_digits_seed_job, points, executor=None if parallel else "serial", progress=progress,
                 max_workers=min(p.n_seeds, os.cpu_count() or 1), desc="digits phase 2 (seeds)")
    tr, acc = (np.concatenate([r[i] for r in runs], axis=-1) for i in (0, 1))
    return classify.summarize_label_noise(p.etas, p.one_minus_betas, tr, acc, p.every, p.n_steps)


def digits_exponents(grid, p: DigitsParams, n_boot: int = 200, rng=0) -> dict:
    """Slopes of log(1−β*) vs log η for the digits stand-in, with percentile bootstrap CIs over seeds
    (seeds resampled jointly over the grid, `metrics.bootstrap_statistic`):
    'trgn' from the knee of the seed-mean Tr-GN occupation time (`classify.knee_per_eta`),
    'best_acc' from the 1−β maximising the seed-mean final test accuracy."""
    from . import classify

    etas, omb = np.asarray(grid.etas, float), np.asarray(grid.one_minus_betas, float)

    def knee_slope(T_mean):
        return metrics.loglog_slope(etas, classify.knee_per_eta(omb, T_mean, p.every, p.n_steps))[0]

    def acc_slope(acc_mean):
        return metrics.loglog_slope(etas, omb[np.argmax(acc_mean, axis=1)])[0]

    out = {}
    for name, stat, per_seed, ys in (("trgn", knee_slope, grid.T_seed, grid.knee_omb),
                                     ("best_acc", acc_slope, grid.final_acc_seed, grid.best_acc_omb)):
        slope, ci = metrics.bootstrap_statistic(stat, per_seed, n_boot=n_boot, rng=rng)
        out[name] = ExponentFit(slope, ci, etas, np.asarray(ys, float))
    return out
