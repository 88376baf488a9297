"""Fixed-point census adapter for the PRX gated ODE (notebook 02).

At a fixed point σ_z > 0 multiplies a vanishing bracket and z = J^z φ(h), r = J^r φ(h), so the roots
are those of the N-dimensional field (α_z, β_z, τ_z, τ_r move no fixed point)

    F(h) = −h + J^h[σ_r(α_r J^r φ(h) − β_r) ⊙ φ(h)],   φ(h) = tanh(g_h h + β_h),
    DF   = −I + J^h(D[σ_r φ'] + D[α_r φ σ_r(1 − σ_r)] J^r D[φ']),

with the couplings of `model.make_couplings(N, seed)`. At τ_r → 0 the h-block of the model's
Jacobian at a root is D[σ_z] DF, so the index of DF counts its unstable directions.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from ..fixed_points import census_sweep, find_fixed_points, random_starts
from ..params import check_positive_int, check_seed
from . import meanfield as mf
from . import model as prx


@dataclass(frozen=True, eq=False)
class PRXField:
    Jh: np.ndarray
    Jr: np.ndarray
    p: prx.PRXParams

    @property
    def N(self) -> int:
        return self.Jh.shape[0]

    @property
    def odd(self) -> bool:  # σ_r constant and β_h = 0: F(−h) = −F(h)
        return self.p.alpha_r == 0.0 and self.p.beta_h == 0.0

    def _parts(self, X):
        ph = np.tanh(self.p.g_h * X + self.p.beta_h)
        s = expit(self.p.alpha_r * (self.Jr @ ph) - self.p.beta_r)
        return ph, s

    def F(self, X):
        ph, s = self._parts(X)
        return -X + self.Jh @ (s * ph)

    def jac(self, X):
        ph, s = self._parts(X)
        dph = self.p.g_h * (1 - ph ** 2)
        a = (s * dph).T
        c = (self.p.alpha_r * ph * s * (1 - s)).T
        J = self.Jh[None] * a[:, None, :] + (self.Jh[None] * c[:, None, :]) @ (self.Jr[None] * dph.T[:, None, :])
        J[:, np.arange(self.N), np.arange(self.N)] -= 1.0
        return J


def prx_field(p: prx.PRXParams, N: int, seed: int) -> PRXField:
    J = prx.make_couplings(N, seed)
    return PRXField(J.Jh, J.Jr, prx.check_prx_params(p))


def prx_starts(p: prx.PRXParams, N: int, seed: int, n_random: int = 60, n_mf: int = 30) -> np.ndarray:
    """Starts: `n_random` Gaussian states at radii 0.3, 1, 2 and `n_mf` per nonzero static solution
    Δ_h drawn from the static mean field h ~ N(0, Δ_h)."""
    N = check_positive_int("N", N)
    rng = np.random.default_rng(check_seed(seed) + 7)
    parts = [random_starts(N, n_random, seed, radii=(0.3, 1.0, 2.0))]
    for D in mf.mf_solutions(p):
        parts.append(np.sqrt(D) * rng.standard_normal((N, n_mf)))
    return np.concatenate(parts, axis=1)


def prx_census_point(p: prx.PRXParams, N_list, n_networks: int, seed: int = 0, n_random: int = 60,
                     n_mf: int = 30):
    """The census (`fixed_points.run_census`) of one PRX parameter point: unique fixed points of
    `n_networks` networks at each N in `N_list`, starts from `prx_starts`."""
    from ..fixed_points import run_census

    return run_census(lambda N, s: prx_field(p, N, s), lambda N, s: prx_starts(p, N, s, n_random, n_mf),
                      tuple(N_list), n_networks, seed, label=f"g_h={p.g_h:g}, α_r={p.alpha_r:g}")


@dataclass(frozen=True)
class PRXCensusSizes:
    """Sizes of notebook 02's census (fixed before any run, like the fit form and the onset band)."""

    N_list: tuple[int, ...]
    n_networks: int
    n_random: int
    n_mf: int
    N_onset: int
    onset_grid: tuple[float, ...]
    g_h: float = 1.8
    alpha_r: tuple[float, ...] = (5.0, 10.0, 30.0)  # below α_r,FP(1.8) = 8.16; above it, not chaotic (F9); chaotic


def prx_census_sizes(cfg) -> PRXCensusSizes:
    return PRXCensusSizes(
        N_list=cfg.pick(quick=(10, 14, 18, 22), full=(10, 15, 20, 25, 30, 35, 40)),
        n_networks=cfg.pick(quick=8, full=24),
        n_random=cfg.pick(quick=60, full=400), n_mf=cfg.pick(quick=30, full=200),
        N_onset=cfg.pick(quick=20, full=30),
        onset_grid=cfg.pick(quick=(2.0, 3.5, 5.0, 6.5, 8.0, 10.0, 12.0, 16.0, 24.0),
                            full=tuple(np.round(np.geomspace(2.0, 40.0, 14), 3))))


def run_prx_census(sz: PRXCensusSizes, seed: int = 0, cache_dir=None, progress: bool = False, executor=None) -> dict:
    """Notebook 02's census at g_h = sz.g_h: {"points": {α_r: Census over sz.N_list}, "onset": [Census
    at N_onset along α_r ∈ onset_grid]}, one `sweep` (cached per point in FULL)."""
    points = {a: dict(p=prx.PRXParams(g_h=sz.g_h, alpha_r=a), N_list=sz.N_list, n_networks=sz.n_networks, seed=seed,
                      n_random=sz.n_random, n_mf=sz.n_mf) for a in sz.alpha_r}
    onset = [dict(p=prx.PRXParams(g_h=sz.g_h, alpha_r=float(a)), N_list=(sz.N_onset,), n_networks=sz.n_networks,
                  seed=seed + 1, n_random=sz.n_random, n_mf=sz.n_mf) for a in sz.onset_grid]
    return census_sweep(prx_census_point, points, onset, "PRX fixed-point census", cache_dir, progress, executor)

def fixed_point_spectrum_summary(g_h: float, alpha_r: float, alpha_z=(0.0, 20.0, 100.0), N: int = 300,
                                 seed: int = 0, n_starts: int = 4, tau_r: float = 1.0, batch: int = 4) -> dict:
    """Jacobian spectra at a nonzero fixed point of one large network (issue 16 item 4; claims
    gating.rmt.fixed_point.*): the census's finder (`find_fixed_points`, LM + Newton polish, max |F| ≤ 1e-10)
    from `n_starts` starts h ~ N(0, Δ_h) of the static mean field, on the couplings of
    `model.make_couplings(N, seed)`. At the root h*, z* = J^z φ(h*), r* = J^r φ(h*) (no α_z dependence),
    the full 3N × 3N Jacobian D(x*) is diagonalised for each α_z. Here, unlike at a visited state, the
    velocity term vanishes exactly, but x* is correlated with J (it solves an equation in J), which
    the support theory ignores: its edge is the rightmost root of the finite-sample F(λ) = 1 from the
    root's own unit statistics (`prx_diag_stats(h*, z*, r*)`), to be compared with max Re λ(D).
    Returns found (bool), n_used (starts tried), x = (h*, z*, r*), q = |h*|²/N, Delta_mf (the static-MF Δ_h),
    index (unstable directions of DF)
    and per α_z: {az: dict(max_re, edge, n_outliers (Re λ > edge + 0.01), edge_population, eigs)}."""
    N = check_positive_int("N", N)
    p = prx.check_prx_params(prx.PRXParams(g_h=g_h, alpha_r=alpha_r, tau_r=tau_r))
    D_mf = np.atleast_1d(np.asarray(mf.mf_solutions(p), dtype=float))
    if D_mf.size == 0:
        raise ValueError(f"(g_h, alpha_r) = ({g_h:g}, {alpha_r:g}) has no nonzero static mean-field solution; "
                         "choose a point beyond the fixed-point line α_r,FP(g_h)")
    n_starts, batch = check_positive_int("n_starts", n_starts), check_positive_int("batch", batch)
    rng = np.random.default_rng(check_seed(seed) + 11)
    J = prx.make_couplings(N, seed)
    field = PRXField(J.Jh, J.Jr, p)
    n_used, n_conv = 0, 0
    while n_used < n_starts:  # batch by batch from one stream: the first batch is the same for any n_starts
        b = min(batch, n_starts - n_used)
        found = find_fixed_points(field, math.sqrt(max(D_mf)) * rng.standard_normal((N, b)), include_zero=False, batch=b)
        n_used, n_conv = n_used + b, n_conv + found.n_converged
        nonzero = found.q > 1e-8 * max(D_mf)  # LM from a mean-field start can still end at h = 0
        if nonzero.any():
            break
    out = dict(found=bool(nonzero.any()), Delta_mf=float(max(D_mf)), n_starts=n_starts, n_used=n_used, n_converged=n_conv)
    if not nonzero.any():
        return out
    k = int(np.argmax(found.q))  # the nonzero root closest to the typical (MF) one
    h = found.roots[:, k]
    ph = np.tanh(p.g_h * h + p.beta_h)
    z, r = J.Jz @ ph, J.Jr @ ph
    x = np.concatenate([h, z, r])
    out.update(q=float(found.q[k]), index=int(found.index[k]), residual=float(found.residual[k]), x=x)
    for az in alpha_z:
        pz = prx.PRXParams(g_h=g_h, alpha_r=alpha_r, alpha_z=float(az), tau_r=tau_r)
        ev = np.linalg.eigvals(prx.jacobian_dense(x, pz, J))
        edge = mf.rmt_right_edge(mf.prx_diag_stats(h, z, r, pz))
        out[float(az)] = dict(max_re=float(ev.real.max()), edge=float(edge), n_outliers=int(np.sum(ev.real > edge + 0.01)),
                              edge_population=float(mf.right_edge_theory(pz)), eigs=ev)
    return out
