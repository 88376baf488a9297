"""Fixed-point census adapter for the Cho GRU (notebook 01).

At a fixed point h̃ = h (the update gate drops out), so the roots are those of the N-dimensional field

    F(h) = −h + φ(U_h(r ⊙ h) + b_h),   r = σ(U_r h + b_r),
    DF   = −I + D[1 − φ²] U_h (D[r] + D[h r(1 − r)] U_r),

with the weights of `gated_rnn("cho", params, N, seed)` (same draws as every other GRU here).
The map h ↦ (1 − z)h + z h̃ has J_d − I = D[z] DF at a root, so with s_z = 0 (z ≡ σ(b_z)) the
index of DF is the number of unstable directions of the continuous-time GRU.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from ..fixed_points import census_sweep, random_starts
from ..params import ChoGRUParams, check_positive_int, check_seed
from ..rmt.quadrature import R_gate
from .meanfield import mf_branches
from .models import gated_rnn


@dataclass(frozen=True, eq=False)
class GRUField:
    """F(h) = −h + φ(U_h(σ(U_r h + b_r) ⊙ h) + b_h) for one network (see the module docstring)."""

    Uh: np.ndarray
    Ur: np.ndarray
    b_r: float
    b_h: float
    gate_constant: bool

    @property
    def N(self) -> int:
        return self.Uh.shape[0]

    @property
    def odd(self) -> bool:  # r constant and no bias: F(−h) = −F(h)
        return self.gate_constant and self.b_h == 0.0

    def _r(self, X):
        return expit(self.Ur @ X + self.b_r)

    def F(self, X):
        return -X + np.tanh(self.Uh @ (self._r(X) * X) + self.b_h)

    def jac(self, X):
        r = self._r(X)
        t = np.tanh(self.Uh @ (r * X) + self.b_h)
        E = (X * r * (1 - r)).T  # (B, N)
        inner = self.Uh[None] * r.T[:, None, :] + (self.Uh[None] * E[:, None, :]) @ self.Ur
        J = (1 - t.T ** 2)[:, :, None] * inner
        J[:, np.arange(self.N), np.arange(self.N)] -= 1.0
        return J


def gru_field(params: ChoGRUParams, N: int, seed: int) -> GRUField:
    m = gated_rnn("cho", params, N, seed)
    return GRUField(m.weights["h"], m.weights["r"], float(params.b_r), float(params.b_h), params.s_r == 0.0)


def gru_starts(params: ChoGRUParams, N: int, seed: int, n_random: int = 60, n_mf: int = 30) -> np.ndarray:
    """Starts: `n_random` Gaussian states at radii 0.2, 0.5, 1, and `n_mf` per nonzero mean-field
    branch Δ* (b_h = 0 only) drawn from the MF fixed-point law h = φ(u), u ~ N(b_h, s_h² R(Δ*) Δ*)."""
    N = check_positive_int("N", N)
    rng = np.random.default_rng(check_seed(seed) + 7)
    parts = [random_starts(N, n_random, seed, radii=(0.2, 0.5, 1.0))]
    branches = mf_branches(params.s_h, params.s_r, params.b_r) if params.b_h == 0.0 else ()  # MF needs b_h = 0
    for D in branches:
        sd = np.sqrt(params.s_h ** 2 * R_gate(D, params.s_r, params.b_r) * D)
        parts.append(np.tanh(params.b_h + sd * rng.standard_normal((N, n_mf))))
    return np.concatenate(parts, axis=1)


def gru_census_point(params: ChoGRUParams, N_list, n_networks: int, seed: int = 0, n_random: int = 60,
                     n_mf: int = 30):
    """The census (`fixed_points.run_census`) of one GRU parameter point: unique fixed points of
    `n_networks` networks at each N in `N_list`, starts from `gru_starts`."""
    from ..fixed_points import run_census

    return run_census(lambda N, s: gru_field(params, N, s), lambda N, s: gru_starts(params, N, s, n_random, n_mf),
                      tuple(N_list), n_networks, seed, label=f"s_h={params.s_h:g}, s_r={params.s_r:g}, b_r={params.b_r:g}")


@dataclass(frozen=True)
class GRUCensusSizes:
    """Sizes of notebook 01's census. The N range, the fit form and the onset band are fixed here,
    before any run (issue 16: results fixed in advance)."""

    N_list: tuple[int, ...]
    n_networks: int
    n_random: int
    n_mf: int
    N_onset: int
    onset_grid: tuple[float, ...]
    points: tuple[str, ...]


# (s_h, s_r, b_r); s_z = b_z = 0. L2(10, −2) = 2.40, L1(−2) = 8.39, L2(10, −3) = 2.77.
GRU_CENSUS_POINTS = {
    "below_L2": (1.8, 10.0, -2.0),   # 0.75 L2: MF has only h = 0
    "above_L2": (4.0, 10.0, -2.0),   # region II: L2 < s_h < L1, zero state stable
    "reset_off": (4.0, 0.0, -2.0),   # same s_h, insensitive reset gate: s_h σ(b_r) = 0.48 < 1, region I
    "br_m3": (4.0, 10.0, -3.0),      # same s_h and s_r, more closed reset gates
    "region_II_6": (6.0, 10.0, -2.0),
    "region_III": (12.0, 10.0, -2.0),
}


def gru_census_sizes(cfg) -> GRUCensusSizes:
    return GRUCensusSizes(
        N_list=cfg.pick(quick=(10, 14, 18, 22), full=(10, 15, 20, 25, 30, 35, 40)),
        n_networks=cfg.pick(quick=8, full=24),
        n_random=cfg.pick(quick=60, full=400), n_mf=cfg.pick(quick=30, full=200),
        N_onset=cfg.pick(quick=20, full=30),
        onset_grid=cfg.pick(quick=(1.2, 1.6, 2.0, 2.4, 3.0, 4.0, 6.0),
                            full=tuple(np.round(np.geomspace(1.2, 9.0, 12), 3))),
        points=cfg.pick(quick=("below_L2", "above_L2", "reset_off"), full=tuple(GRU_CENSUS_POINTS)))


def run_gru_census(sz: GRUCensusSizes, seed: int = 0, cache_dir=None, progress: bool = False, executor=None) -> dict:
    """Notebook 01's census: {"points": {name: Census over sz.N_list}, "onset": [Census at N_onset
    along s_h ∈ onset_grid (s_r = 10, b_r = −2)]}, one `sweep` (cached per point in FULL)."""
    points = {k: dict(params=ChoGRUParams(s_h=a, s_r=b, b_r=c), N_list=sz.N_list, n_networks=sz.n_networks, seed=seed,
                      n_random=sz.n_random, n_mf=sz.n_mf)
              for k, (a, b, c) in ((k, GRU_CENSUS_POINTS[k]) for k in sz.points)}
    onset = [dict(params=ChoGRUParams(s_h=float(s), s_r=10.0, b_r=-2.0), N_list=(sz.N_onset,), n_networks=sz.n_networks,
                  seed=seed + 1, n_random=sz.n_random, n_mf=sz.n_mf) for s in sz.onset_grid]
    return census_sweep(gru_census_point, points, onset, "GRU fixed-point census", cache_dir, progress, executor)
