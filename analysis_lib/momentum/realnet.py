r"""Realistic-network test of the 2/3 law designed to tell γ = 2/3 from γ = 1 (F9, issue 18).

Stand-in (our operationalisation, not the paper's experiment): a one-hidden-layer tanh network
`TanhNet` with about 2× as many parameters as constraints (n = 256 digits, ±1 targets, width 8:
D = 520), phase 1 to interpolation (GD, then minimum-norm Gauss–Newton to L < 1e-13), phase 2
label-noise SGDM (M1) over a grid of (η, 1−β, seed) cells. The same machinery runs the
teacher–student regression (`TeacherStudentTanh`'s data and phase-1 state; same function class)
and, opt-in, FashionMNIST / CIFAR10 images pooled to 7×7 / 8×8 features.

ONE estimator (stated in the notebook): per cell the occupation time
$T = \#\{k < H(\eta): \mathrm{Tr}\,GN(w_k) \ge \theta\,\mathrm{Tr}\,GN(w_0)\}$ with crossings
interpolated between observations (`InterpolatedOccupation`, θ = `thr_frac`), observed every
e(η) ≤ T*/10 steps; per η the seed mean T(1−β) gives the knee
$x_c = \sqrt{T_\min/b}$, $b = \exp\,\mathrm{mean}(\log T - 2\log x)$ over the uncensored right branch
($T > 3T_\min$, $T \le H/2$; `metrics.knee`). No fallback: an undefined knee stays NaN (and is
counted). γ is the OLS slope of log x_c vs log η, its CI a percentile bootstrap over seeds.
Horizons and observation intervals scale as η^{-2/3} (H(η) = H_ref (η/η_ref)^{-2/3}).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._cache import cached_call
from . import metrics
from ._validate import in_range, one_of, positive, positive_int
from .dynamics import InterpolatedOccupation, Record, sgdm_label_noise
from .models import TanhNet, gauss_newton_polish, gradient_descent

PROBLEMS = ("digits", "teacher_student", "fashion_mnist", "cifar10")


@dataclass(frozen=True)
class NetProblem:
    """Data and phase 1 of a stand-in. `problem`: "digits" (bundled), "teacher_student" (the F7
    instance: d = 4, n = 24, width 16), "fashion_mnist" / "cifar10" (from `data_dir`, pooled to
    7×7 / 8×8 grey features, ±1 targets: labels ≥ 5). Phase 1: GD (lr `phase1_lr`) on the clean
    targets to L < `gd_tol`, then minimum-norm Gauss–Newton to L < `phase1_tol`.

    `n_poison` > 0 (digits only) gives a poorly generalising start, the construction of Liu et al.
    (2020, "bad global minima"): phase 1 fits the clean points *and* `n_poison` further held-out
    digits with random ±1 labels (these leave the test set); phase 2 then trains on the clean points
    only, from a minimiser that interpolates them but generalises worse (prototype at width 8:
    0.67 test accuracy with 128 poisoned points vs 0.82 without)."""

    problem: str = "digits"
    data_dir: str | None = None
    n_train: int = 256
    width: int = 8
    init_scale: float = 1.0
    problem_seed: int = 0
    phase1_lr: float = 0.5
    gd_tol: float = 1e-4
    phase1_tol: float = 1e-13
    n_poison: int = 0


def _digits_split(pr: NetProblem):
    """(clean train, test, poisoned points) of the digits problem: the first `n_poison` held-out
    digits, with labels ±1 drawn from `problem_seed`, are the poison and leave the test set."""
    from . import data

    Xtr, ytr, Xte, yte = data.digits_binary(pr.n_train, seed=pr.problem_seed)
    k = int(pr.n_poison)
    if not 0 <= k <= len(Xte) // 2:
        raise ValueError(f"n_poison must be in [0, {len(Xte) // 2}] (half the held-out digits); got {pr.n_poison}")
    y_poison = np.random.default_rng([pr.problem_seed, 2020]).choice([-1.0, 1.0], k)
    return (Xtr, ytr), (Xte[k:], yte[k:]), (Xte[:k], y_poison)


def make_net(pr: NetProblem) -> TanhNet:
    """The `TanhNet` of a problem (data loaded offline; nothing is downloaded)."""
    from . import data

    one_of("problem", pr.problem, PROBLEMS)
    if pr.n_poison and pr.problem != "digits":
        raise ValueError(f"n_poison is implemented for problem 'digits' only; got problem {pr.problem!r}")
    if pr.problem == "teacher_student":
        from .models import TeacherStudentTanh

        return TeacherStudentTanh.make(4, pr.n_train, pr.width, rng=pr.problem_seed)
    if pr.problem == "digits":
        (Xtr, ytr), (Xte, yte), _ = _digits_split(pr)
    else:
        if pr.data_dir is None:
            raise ValueError(f"problem {pr.problem!r} needs data_dir (FASHION_MNIST_DIR / CIFAR10_DIR); got None")
        load, size = (data.load_fashion_mnist, 7) if pr.problem == "fashion_mnist" else (data.load_cifar10, 8)
        Xa, ya, Xb, yb = load(pr.data_dir)
        X = data.pool_images(np.concatenate([Xa[:20_000], Xb[:5000]]), size)
        Xtr, ytr, Xte, yte = data.binary_split(X, np.concatenate([ya[:20_000], yb[:5000]]), pr.n_train, n_test=5000,
                                               seed=pr.problem_seed)
    return TanhNet(X=Xtr, y=ytr, X_test=Xte, y_test=yte, width=pr.width)


def net_phase1_state(problem: NetProblem) -> np.ndarray:
    """Interpolating phase-1 weights of `problem` (see `NetProblem`)."""
    net = make_net(problem)
    if problem.problem == "teacher_student":  # the F7 phase 1, so F7 and this sweep start at the same point
        from .experiments import ts_phase1_state

        w1, _ = ts_phase1_state(4, problem.n_train, problem.width, problem.problem_seed, problem.init_scale,
                                problem.phase1_lr, problem.phase1_tol)
        return w1
    w0 = net.init(problem.init_scale, rng=problem.problem_seed + 1)
    fit = net
    if problem.n_poison:  # phase 1 on the clean and the poisoned points together
        _, _, (Xp, yp) = _digits_split(problem)
        fit = TanhNet(X=np.concatenate([net.X, Xp]), y=np.concatenate([net.y, yp]), X_test=net.X_test,
                      y_test=net.y_test, width=net.width)
    w, _, _ = gradient_descent(fit, w0, problem.phase1_lr, problem.gd_tol, max_steps=400_000)
    w, _, _ = gauss_newton_polish(fit, w, problem.phase1_tol)
    return w


@dataclass(frozen=True)
class RealNetParams:
    """Phase-2 design over (η, 1−β, seed) cells; see the module docstring for the estimator.

    Horizon H(η) = horizon_ref·(η/η_max)^{-2/3}, observation interval e(η) = every_ref·(η/η_max)^{-2/3}
    (rounded; horizons are multiples of e). Seed k is the label-noise stream k (shared by all cells
    of that seed: common random numbers across the grid)."""

    problem: NetProblem = field(default_factory=NetProblem)
    eps: float = 0.1
    etas: tuple = tuple(0.12 * 2.0 ** -np.arange(6))  # 0.12 … 0.00375: 1.5 decades, η λ_max ≤ 0.47
    one_minus_betas: tuple = tuple(np.geomspace(1.5e-4, 0.05, 16))  # step 1.47× < 2^{2/3} = 1.59× per η step
    n_seeds: int = 8
    horizon_ref: int = 12_000  # ≈ 40 T* at η_max (T* ≈ 300 steps in a prototype)
    every_ref: int = 20  # ≈ T*/15
    thr_frac: float = 0.5
    n_curve: int = 40  # Tr GN points kept per cell for the figures
    seed: int = 11


def realnet_params(quick: bool = True, **overrides) -> RealNetParams:
    """FULL: the design of issue 18 (6 η over 1.5 decades, 16 values of 1−β, 8 seeds). QUICK: a
    reduced grid that runs in ≈ 30 s and cannot resolve the exponent (3 η over a factor 4)."""
    quick_p = dict(etas=(0.12, 0.06, 0.03), one_minus_betas=tuple(np.geomspace(5e-4, 0.04, 10)), n_seeds=2,
                   horizon_ref=8000)
    from .experiments import _preset

    return _preset(RealNetParams, quick, {"quick": quick_p, "full": {}}, overrides)


def ts_sweep_params(quick: bool = True, **overrides) -> RealNetParams:
    """Teacher–student η-sweep (the F7 instance, λ_max ≈ 2.4): same estimator as the digits net."""
    full = dict(problem=NetProblem("teacher_student", n_train=24, width=16, phase1_lr=0.2, phase1_tol=1e-8),
                eps=0.03, etas=tuple(0.2 * 2.0 ** -np.arange(5)), one_minus_betas=tuple(np.geomspace(3e-4, 0.1, 16)),
                n_seeds=8, horizon_ref=20_000, every_ref=10)
    quick_p = dict(full, one_minus_betas=tuple(np.geomspace(3e-4, 0.1, 12)), n_seeds=2)
    from .experiments import _preset

    return _preset(RealNetParams, quick, {"quick": quick_p, "full": full}, overrides)


def horizon_and_every(p: RealNetParams, eta: float) -> tuple[int, int]:
    """(H(η), e(η)): both ∝ η^{-2/3}, H a multiple of e."""
    scale = (float(eta) / max(p.etas)) ** (-2 / 3)
    every = max(1, int(round(p.every_ref * scale)))
    return int(np.ceil(p.horizon_ref * scale / every) * every), every


def realnet_cells(X, y, X_test, y_test, width: int, w1, eps: float, thr_frac: float, seed: int, cells: tuple,
                  n_curve: int = 40, progress: bool = False) -> dict:
    """Phase 2 of the cells ((η, 1−β, seed index, horizon, every), …) from the phase-1 weights w1,
    batched per observation interval. A cell's numbers do not depend on the other cells in the
    call (its noise stream is its seed index), so one call per cell (cached, FULL) and one call
    for all (QUICK) agree. Returns arrays over cells: T (occupation time), diverged, test_acc and
    test_mse at the horizon (a budget ∝ η^{-2/3}), mean clean train loss over the run, and
    trace_curve and acc_curve (test accuracy) (n_cells, n_curve + 1) with curve_steps."""
    net = TanhNet(X=np.asarray(X, float), y=np.asarray(y, float), X_test=np.asarray(X_test, float),
                  y_test=np.asarray(y_test, float), width=int(width))
    w1 = np.asarray(w1, float)
    thr = thr_frac * float(net.trace_gn(w1[None])[0])
    cells = [tuple(c) for c in cells]
    nc = len(cells)
    out = dict(T=np.zeros(nc), diverged=np.zeros(nc, bool), test_acc=np.zeros(nc), test_mse=np.zeros(nc),
               mean_loss=np.zeros(nc), trace_curve=np.full((nc, n_curve + 1), np.nan),
               acc_curve=np.full((nc, n_curve + 1), np.nan),
               curve_steps=np.zeros((nc, n_curve + 1)))
    for every in sorted({int(c[4]) for c in cells}):
        idx = [i for i, c in enumerate(cells) if int(c[4]) == every]
        eta = np.array([cells[i][0] for i in idx], float)
        omb = np.array([cells[i][1] for i in idx], float)
        keys = np.array([cells[i][2] for i in idx], int)
        H = np.array([cells[i][3] for i in idx], int)
        n_steps = int(H.max())
        stride = max(1, n_steps // every // n_curve)
        run = sgdm_label_noise(net, w1, eta, 1 - omb, eps, n_steps, noise_keys=keys, seed=seed, horizon=H,
                               every=every, observers={"T": InterpolatedOccupation(net.trace_gn, thr),
                                                       "tr": Record(net.trace_gn, stride),
                                                       "loss": Record(net.loss, stride),
                                                       "acc": Record(net.test_accuracy, stride)}, progress=progress)
        st, tr = run.observed["tr"]
        _, loss = run.observed["loss"]
        _, accc = run.observed["acc"]
        out["T"][idx] = run.observed["T"]
        out["diverged"][idx] = run.diverged
        out["test_acc"][idx] = np.where(run.diverged, np.nan, net.test_accuracy(run.W))
        out["test_mse"][idx] = np.where(run.diverged, np.nan, net.test_mse(run.W))
        out["mean_loss"][idx] = np.nanmean(loss[1:], axis=0)
        m = min(n_curve + 1, len(st))
        out["trace_curve"][np.array(idx), :m] = tr[:m].T
        out["acc_curve"][np.array(idx), :m] = accc[:m].T
        out["curve_steps"][np.array(idx), :m] = st[:m]
    return out


@dataclass
class RealNetResult:
    params: RealNetParams
    T_seed: np.ndarray  # (n_eta, n_beta, n_seed) occupation times
    diverged: np.ndarray  # (n_eta, n_beta, n_seed) bool
    test_acc: np.ndarray  # (n_eta, n_beta, n_seed) at the horizon
    test_mse: np.ndarray
    mean_loss: np.ndarray  # (n_eta, n_beta, n_seed) mean clean train loss over the run
    trace_curve: np.ndarray  # (n_eta, n_beta, n_seed, n_curve + 1)
    acc_curve: np.ndarray  # (n_eta, n_beta, n_seed, n_curve + 1) test accuracy
    curve_steps: np.ndarray  # (n_eta, n_curve + 1)
    horizons: np.ndarray  # (n_eta,)
    everys: np.ndarray  # (n_eta,)
    phase1_trace: float
    phase1_acc: float
    phase1_mse: float
    lambda_max: float
    n_params: int
    n_constraints: int

    @property
    def etas(self):
        return np.asarray(self.params.etas, float)

    @property
    def x(self):
        return np.asarray(self.params.one_minus_betas, float)

    @property
    def T(self):
        return self.T_seed.mean(-1)


def _cell_job(cache_dir, **job):
    return cached_call(realnet_cells, job, cache_dir=cache_dir)


def run_realnet(p: RealNetParams, cache_dir: str | Path | None = None, per_cell: bool | None = None,
                progress: bool = False, max_workers: int | None = None) -> RealNetResult:
    """Phase 1 (`net_phase1_state`, cached) then every (η, 1−β, seed) cell. `per_cell` (default:
    True when `cache_dir` is given and the grid has > 64 cells, i.e. FULL): one cached job per
    (η, 1−β) cell (its seeds batched) through `al.sweep` (local processes, one BLAS thread each),
    so a killed run resumes from the finished cells; otherwise one batched call per observation
    interval (QUICK). Both give the same numbers."""
    from ..sweep import sweep

    etas, omb = np.asarray(p.etas, float), np.asarray(p.one_minus_betas, float)
    positive("etas", etas)
    in_range("one_minus_betas", omb, 0.0, 1.0, lo_open=True)
    positive("eps", p.eps)
    in_range("thr_frac", p.thr_frac, 0.0, 1.0, lo_open=True, hi_open=True)
    positive_int("n_seeds", p.n_seeds)
    if np.any(np.diff(omb) <= 0):
        raise ValueError("one_minus_betas must be strictly increasing")
    net = make_net(p.problem)
    w1 = cached_call(net_phase1_state, dict(problem=p.problem), cache_dir=cache_dir)
    HE = [horizon_and_every(p, e) for e in etas]
    cells = [(float(e), float(b), int(k), HE[i][0], HE[i][1])
             for i, e in enumerate(etas) for b in omb for k in range(p.n_seeds)]
    common = dict(X=net.X, y=net.y, X_test=net.X_test, y_test=net.y_test, width=net.width, w1=w1, eps=float(p.eps),
                  thr_frac=float(p.thr_frac), seed=int(p.seed), n_curve=int(p.n_curve))
    if per_cell is None:
        per_cell = cache_dir is not None and len(cells) > 64
    if per_cell:
        # One cached job per (η, 1−β) cell with its seeds batched (a seed's numbers do not depend on
        # the batch): a killed run resumes from the finished cells, at about half the CPU cost per
        # chain-step of one job per (η, 1−β, seed) (per-step overhead is shared by the seeds).
        groups = [tuple(c for c in cells if c[0] == e and c[1] == b) for e in etas for b in omb]
        workers = max_workers or min(len(groups), os.cpu_count() or 1)
        parts = sweep(_cell_job, [dict(cache_dir=cache_dir, cells=g, **common) for g in groups], progress=progress,
                      max_workers=workers, desc=f"{p.problem.problem}: phase 2 cells (η, 1−β) × seeds")
        res = {k: np.concatenate([np.asarray(r[k]) for r in parts]) for k in parts[0]}
    else:
        res = cached_call(realnet_cells, dict(cells=tuple(cells), **common), cache_dir=cache_dir,
                          not_in_key=dict(progress=progress))
    sh = (len(etas), len(omb), p.n_seeds)
    curve_steps = np.asarray(res["curve_steps"]).reshape(*sh, -1)[:, 0, 0]
    W1 = w1[None]
    return RealNetResult(p, res["T"].reshape(sh), res["diverged"].reshape(sh), res["test_acc"].reshape(sh),
                         res["test_mse"].reshape(sh), res["mean_loss"].reshape(sh),
                         np.asarray(res["trace_curve"]).reshape(*sh, -1), np.asarray(res["acc_curve"]).reshape(*sh, -1),
                         curve_steps,
                         np.array([h for h, _ in HE]), np.array([e for _, e in HE]),
                         float(net.trace_gn(W1)[0]), float(net.test_accuracy(W1)[0]), float(net.test_mse(W1)[0]),
                         float(net.lambda_max(W1)[0]), int(net.dim), int(net.n))


# ---------------------------------------------------------------------------------------- fits
def knees_per_eta(x, T_rows, horizons) -> np.ndarray:
    """The one estimator: `metrics.knee` of each row of the seed-mean T table (censoring at H/2;
    NaN where fewer than 2 right-branch points: no fallback)."""
    return np.array([metrics.knee(x, row, horizon=h)[0] for row, h in zip(np.atleast_2d(T_rows), horizons)])


def left_branch_slope(x, T, horizon) -> float:
    """Slope of log T vs log(1−β) left of the knee (the τ1 branch: −1 predicted), over the points
    with 1−β ≤ x_c/2 (uncensored); NaN with < 2 points or an undefined knee."""
    xc = metrics.knee(x, T, horizon=horizon)[0]
    if not np.isfinite(xc):
        return float("nan")
    sel = (x <= xc / 2) & ~metrics.censored(T, horizon) & (np.asarray(T) > 0)
    return metrics.loglog_slope(x[sel], np.asarray(T)[sel])[0] if sel.sum() >= 2 else float("nan")


@dataclass(frozen=True)
class RealNetFits:
    """Exponent fits of a `RealNetResult` (see `fit_realnet`)."""

    gamma: float
    gamma_ci: tuple
    knees: np.ndarray  # per η, seed mean
    knees_ci: np.ndarray  # (n_eta, 2) bootstrap
    eta_eff: np.ndarray  # η / (1−β*) per knee
    eta_eff_slope: float  # slope of log η_eff vs log η: 1−γ (1/3 for γ = 2/3, 0 at an instability edge)
    eta_eff_slope_ci: tuple
    tmin_slope: float
    tmin_slope_ci: tuple
    right_branch: np.ndarray  # per η
    left_branch: np.ndarray  # per η (τ1: −1)
    n_undefined: int
    diverged_frac: np.ndarray  # (n_eta, n_beta)
    noise_at_knee: np.ndarray  # η ε² / (1−β*) per knee
    eta_lambda_max: np.ndarray  # per η
    grid_step: float  # ratio of neighbouring 1−β values
    shift_per_eta_step: dict  # predicted knee ratio per η step for γ = 2/3 and γ = 1

    @property
    def ci_width(self) -> float:
        return float(self.gamma_ci[1] - self.gamma_ci[0])

    def verdict(self) -> str:
        """'reproduced' (CI ∋ 2/3, ∌ 1, width < 0.3), 'not reproduced' (CI ∌ 2/3, width < 0.3) or
        'not resolved' (CI width ≥ 0.3, undefined, or containing both 2/3 and 1)."""
        lo, hi = self.gamma_ci
        if not (np.isfinite(lo) and np.isfinite(hi)) or self.ci_width >= 0.3 or self.n_undefined:
            return "not resolved"
        has = lambda g: lo <= g <= hi
        if has(2 / 3) and not has(1.0):
            return "reproduced"
        if not has(2 / 3):
            return "not reproduced"
        return "not resolved"


def fit_realnet(res: RealNetResult, n_boot: int = 200, rng=0) -> RealNetFits:
    """Knee slope (γ), η_eff = η/(1−β*) per knee and its slope, T_min slope (−2/3), right-branch
    (+2) and left-branch (τ1: −1) slopes, diverged fractions and the regime numbers; CIs are
    percentile bootstraps over seeds (resampled jointly across the grid)."""
    x, etas, H = res.x, res.etas, res.horizons
    T_seed = np.where(res.diverged, H[:, None, None], res.T_seed)  # a diverged cell never converged

    def knees(Tm):
        return knees_per_eta(x, Tm, H)

    def tmin(Tm):
        return np.array([np.min(r[~metrics.censored(r, h)]) if np.any(~metrics.censored(r, h)) else np.nan
                         for r, h in zip(Tm, H)])

    gamma, gci = metrics.bootstrap_statistic(lambda Tm: metrics.loglog_slope(etas, knees(Tm))[0], T_seed, n_boot, rng)
    eslope, eci = metrics.bootstrap_statistic(lambda Tm: metrics.loglog_slope(etas, etas / knees(Tm))[0], T_seed,
                                              n_boot, rng)
    tslope, tci = metrics.bootstrap_statistic(lambda Tm: metrics.loglog_slope(etas, tmin(Tm))[0], T_seed, n_boot, rng)
    rng_ = np.random.default_rng(rng)
    n_seed = T_seed.shape[-1]
    boots = np.array([knees(T_seed[..., rng_.integers(0, n_seed, n_seed)].mean(-1)) for _ in range(n_boot)])
    import warnings

    with warnings.catch_warnings():  # an η whose knee is undefined in every resample has a NaN interval
        warnings.simplefilter("ignore", RuntimeWarning)
        kci = np.stack([np.nanquantile(boots, 0.025, axis=0), np.nanquantile(boots, 0.975, axis=0)], -1)
    T = T_seed.mean(-1)
    k = knees(T)
    return RealNetFits(
        gamma=gamma, gamma_ci=gci, knees=k, knees_ci=kci, eta_eff=etas / k, eta_eff_slope=eslope, eta_eff_slope_ci=eci,
        tmin_slope=tslope, tmin_slope_ci=tci,
        right_branch=np.array([metrics.right_branch_slope(x, r, horizon=h) for r, h in zip(T, H)]),
        left_branch=np.array([left_branch_slope(x, r, h) for r, h in zip(T, H)]),
        n_undefined=int(np.sum(~np.isfinite(k))), diverged_frac=res.diverged.mean(-1),
        noise_at_knee=etas * res.params.eps ** 2 / k, eta_lambda_max=etas * res.lambda_max,
        grid_step=float(np.exp(np.mean(np.diff(np.log(x))))),
        shift_per_eta_step={g: float(np.exp(g * np.mean(np.abs(np.diff(np.log(etas)))))) for g in (2 / 3, 1.0)})


def accuracy_at_budget(res: RealNetResult, fits: RealNetFits, budget_factor: float = 4.0) -> dict:
    r"""Test accuracy at a step budget ∝ T*(η): B(η) = budget_factor × T_min(η) (the measured plateau
    of T_occ at that η), read from the recorded accuracy curves (nearest recorded step ≥ B).
    Per η: at the grid cell nearest the knee (`knee`, with its per-seed values `knee_seed`), the
    best seed mean over the grid (`best`, at 1−β `best_omb`), the cell nearest 3× the knee
    (`slower`: less momentum, slower drift), and the phase-1 accuracy (`start`)."""
    positive("budget_factor", budget_factor)
    x, H = res.x, res.horizons
    n_eta, n_seed = len(res.etas), res.T_seed.shape[-1]
    out = {k: np.full(n_eta, np.nan) for k in ("knee", "best", "best_omb", "slower", "budget")}
    out["knee_seed"] = np.full((n_eta, n_seed), np.nan)
    out["start"] = res.phase1_acc
    for i, xc in enumerate(fits.knees):
        row = res.T[i]
        unc = ~metrics.censored(row, H[i])
        if not unc.any():
            continue
        B = budget_factor * float(np.min(row[unc]))
        steps = res.curve_steps[i]
        t = int(np.searchsorted(steps, B))
        t = min(t, len(steps) - 1)
        acc = res.acc_curve[i, :, :, t]  # (n_beta, n_seed)
        mean = np.nanmean(acc, axis=-1)
        out["budget"][i] = steps[t]
        out["best"][i], out["best_omb"][i] = np.nanmax(mean), x[int(np.nanargmax(mean))]
        if np.isfinite(xc):
            j = int(np.argmin(np.abs(np.log(x / xc))))
            js = int(np.argmin(np.abs(np.log(x / (3 * xc)))))
            out["knee"][i], out["slower"][i], out["knee_seed"][i] = mean[j], mean[js], acc[j]
    return out
