"""Fixed-point census adapter for the PRX gated ODE (notebook 02).

At a fixed point σ_z > 0 multiplies a vanishing bracket and z = J^z φ(h), r = J^r φ(h), so the roots
are those of the N-dimensional field (α_z, β_z, τ_z, τ_r move no fixed point)

    F(h) = −h + J^h[σ_r(α_r J^r φ(h) − β_r) ⊙ φ(h)],   φ(h) = tanh(g_h h + β_h),
    DF   = −I + J^h(D[σ_r φ'] + D[α_r φ σ_r(1 − σ_r)] J^r D[φ']),

with the couplings of `model.make_couplings(N, seed)`. At τ_r → 0 the h-block of the model's
Jacobian at a root is D[σ_z] DF, so the index of DF counts its unstable directions.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from ..fixed_points import random_starts
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
    from ...sweep import sweep

    jobs = [dict(p=prx.PRXParams(g_h=sz.g_h, alpha_r=a), N_list=sz.N_list, n_networks=sz.n_networks, seed=seed,
                 n_random=sz.n_random, n_mf=sz.n_mf) for a in sz.alpha_r]
    jobs += [dict(p=prx.PRXParams(g_h=sz.g_h, alpha_r=float(a)), N_list=(sz.N_onset,), n_networks=sz.n_networks,
                  seed=seed + 1, n_random=sz.n_random, n_mf=sz.n_mf) for a in sz.onset_grid]
    out = sweep(prx_census_point, jobs, executor, progress=progress, desc="PRX fixed-point census", cache_dir=cache_dir)
    return {"points": dict(zip(sz.alpha_r, out[:len(sz.alpha_r)])), "onset": out[len(sz.alpha_r):]}
