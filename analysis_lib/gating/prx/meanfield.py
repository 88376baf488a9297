"""Static mean field, zero fixed point and Jacobian support of the PRX gated RNN (all [derived]).

Spec `gating_theory.md` §4.2-4.4, §4.9:
- Zero fixed point (β_h = 0): h-block σ_z(0)(−1 + σ_r(0) φ'(0) J^h), a disk centred −σ_z(0) with
  radius σ_z(0)σ_r(0)g_h; unstable iff g_h > g_c = 1/σ_r(0) = 1 + e^{β_r}.
- Fixed points: h*, z*, r* independent Gaussians, Δ_h = ⟨φ²⟩_{Δ_h}⟨σ_r²⟩_{Δ_r}, Δ_r = Δ_z = ⟨φ²⟩_{Δ_h};
  residual R(Δ) = ⟨φ²⟩_Δ ⟨σ_r²⟩_{⟨φ²⟩_Δ}/Δ − 1; small-Δ: R + 1 = g_h²/4 + Δ g_h⁴(α_r²/16 − 1/2) + O(Δ²)
  (β = 0), subcritical for α_r > √8; FP-birth line α_r,FP(g_h) = smallest α_r with max_Δ R ≥ 0.
- Support of the Jacobian at frozen i.i.d. states: {F(λ) ≥ 1},
  F(λ) = ⟨σ_z²/|λ+σ_z|²⟩⟨φ'²⟩[⟨σ_r²⟩ + ⟨φ²⟩⟨σ_r'²⟩/|1+λτ_r|²], K(0) = F(0).

The finite-N support goes through the shared k×k machinery (`stats.DiagStats`, `support`):
`prx_diag_stats` is the thin adapter that writes the PRX (h, r) block in that form (k = 4, below).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.optimize import brentq
from scipy.special import expit

from . import model as prx
from ..rmt.quadrature import Phi, R_gate, gauss_nodes
from ..params import check_float, check_positive_int, check_seed
from ..rmt.stats import DiagStats
from ..rmt.support import T_matrix, rightmost_edge

SQRT8 = math.sqrt(8.0)
_DELTA_GRID = np.logspace(-7, 2, 400)  # Δ scan for the static map (log grid, our choice)


# ----------------------------------------------------------------------------- zero fixed point
def zero_fp_threshold(beta_r: float = 0.0) -> float:
    """g_c = 1/σ_r(0) = 1 + e^{β_r}: the zero fixed point (β_h = 0) is unstable iff g_h > g_c."""
    return 1.0 + math.exp(check_float("beta_r", beta_r))


def zero_fp_edge(p: prx.PRXParams) -> float:
    """Rightmost real part of the zero-FP h-block spectrum (large N): σ_z(0)(g_h σ_r(0) − 1)."""
    p = _need_beta_h0(p)
    return p.sigma_z0 * (p.g_h * p.sigma_r0 - 1.0)


def _need_beta_h0(p):
    p = prx.check_prx_params(p)
    if p.beta_h != 0:
        raise ValueError(f"beta_h must be 0 for the zero state to be a fixed point; got {p.beta_h!r}")
    return p


def zero_fp_hblock_eigs(p: prx.PRXParams, N: int, seed: int) -> np.ndarray:
    """Eigenvalues of the zero-FP h-block σ_z(0)(−1 + σ_r(0) g_h J^h) (the z and r blocks give
    N eigenvalues at −1/τ_z and N at −1/τ_r exactly)."""
    p = _need_beta_h0(p)
    J = prx.make_couplings(N, seed)
    return np.linalg.eigvals(p.sigma_z0 * (-np.eye(J.N) + p.sigma_r0 * p.g_h * J.Jh))


# ----------------------------------------------------------------------------- static mean field
def _phi2(Delta, p):
    """⟨φ²⟩_Δ = Φ(g_h² Δ) with bias β_h (notebook 01's `mf.Phi`)."""
    return Phi(p.g_h ** 2 * np.asarray(Delta, float), p.beta_h)


def _sr2(Delta_r, p):
    """⟨σ_r²⟩_{Δ_r} = R(Δ_r) with gain α_r and bias −β_r (notebook 01's `mf.R_gate`)."""
    return R_gate(Delta_r, p.alpha_r, -p.beta_r)


def mf_residual(Delta, p: prx.PRXParams):
    """R(Δ) = ⟨φ²⟩_Δ ⟨σ_r²⟩_{⟨φ²⟩_Δ} / Δ − 1 (zero at a nonzero fixed-point solution Δ_h = Δ)."""
    p = prx.check_prx_params(p)
    Delta = np.asarray(Delta, dtype=float)
    if not np.all(np.isfinite(Delta)) or np.any(Delta <= 0):
        raise ValueError("Delta must be finite and > 0")
    f2 = _phi2(Delta, p)
    return f2 * _sr2(f2, p) / Delta - 1.0


def small_delta_coeff(g_h: float, alpha_r: float) -> float:
    """dR/dΔ at Δ → 0 for β = 0: g_h⁴ (α_r²/16 − 1/2); positive (subcritical) iff α_r > √8."""
    g = check_float("g_h", g_h, 0.0)
    a = check_float("alpha_r", alpha_r, 0.0)
    return g ** 4 * (a * a / 16.0 - 0.5)


def subcritical_alpha_r(g_h: float = 2.0, Delta: float = 1e-3, bracket=(1.0, 6.0)) -> float:
    """Root in α_r of R(Δ; g_h, α_r) at a fixed small Δ (→ √8 at g_h = 2 as Δ → 0)."""
    g = check_float("g_h", g_h, 0.0, lo_open=True)
    check_float("Delta", Delta, 0.0, lo_open=True)
    f = lambda a: float(mf_residual(Delta, prx.PRXParams(g_h=g, alpha_r=a)))
    return brentq(f, *bracket, xtol=1e-10)


def _max_residual(p) -> float:
    return float(np.max(mf_residual(_DELTA_GRID, p)))


def mf_solutions(p: prx.PRXParams) -> np.ndarray:
    """All nonzero roots Δ of R on the Δ-grid (sign changes refined by brentq), increasing."""
    p = prx.check_prx_params(p)
    R = mf_residual(_DELTA_GRID, p)
    idx = np.nonzero(np.sign(R[:-1]) != np.sign(R[1:]))[0]
    f = lambda d: float(mf_residual(d, p))
    return np.array([brentq(f, _DELTA_GRID[i], _DELTA_GRID[i + 1], xtol=1e-14, rtol=1e-12) for i in idx])


@dataclass(frozen=True)
class StaticMF:
    """Largest nonzero static solution: Δ_h = ⟨h²⟩, Δ_r = Δ_z = ⟨φ²⟩ (all 0 if none)."""

    Delta_h: float
    Delta_r: float
    n_solutions: int


def static_mf(p: prx.PRXParams) -> StaticMF:
    """The static mean field (spec §4.3): the largest root of R (the upper branch), or zeros."""
    sols = mf_solutions(p)
    if sols.size == 0:
        return StaticMF(0.0, 0.0, 0)
    d = float(sols[-1])
    return StaticMF(d, float(_phi2(d, p)), int(sols.size))


def fp_birth_alpha_r(g_h: float, alpha_max: float = 200.0, beta_r: float = 0.0) -> float:
    """α_r,FP(g_h): smallest α_r with max_Δ R(Δ) ≥ 0 (our operationalisation: Δ on a log grid,
    the first α_r of a fixed grid with max_Δ R ≥ 0, refined by brentq between it and the grid
    point before); NaN if none up to `alpha_max`. For g_h ≥ g_c = 1 + e^{β_r} the zero solution is
    already unstable and 0 is returned. Cached (a pure function of three floats; notebook 02 asks
    for the same g_h from several figures)."""
    g = check_float("g_h", g_h, 0.0, lo_open=True)
    amax = check_float("alpha_max", alpha_max, 0.0, lo_open=True)
    return _fp_birth_alpha_r(g, amax, check_float("beta_r", beta_r))


def _fp_grid(amax: float) -> np.ndarray:
    return np.concatenate([np.linspace(0.0, 10.0, 41)[1:], np.geomspace(10.0, amax, 40)[1:]])


@lru_cache(maxsize=256)
def _fp_birth_alpha_r(g: float, amax: float, beta_r: float) -> float:
    base = prx.PRXParams(g_h=g, alpha_r=0.0, beta_r=beta_r)
    if g >= zero_fp_threshold(beta_r):
        return 0.0
    m = lambda a: _max_residual(base.replace(alpha_r=a))
    grid = _fp_grid(amax)
    # m(α_r) is non-decreasing (at every Δ, ⟨σ_r²⟩ = 1/4 + ⟨(σ_r − 1/2)²⟩ grows with the gain), so
    # the first grid point with m ≥ 0 is found by bisection over the grid: ~7 evaluations of m instead
    # of up to 79 in a scan from the left, the same grid point (tests/test_prx_meanfield.py)
    lo, hi = -1, grid.size  # invariant: m(grid[lo]) < 0 (lo = −1: none checked), m(grid[hi]) ≥ 0 (hi = size: none)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if m(grid[mid]) >= 0:
            hi = mid
        else:
            lo = mid
    if hi == grid.size:
        return float("nan")
    a, prev = grid[hi], (grid[hi - 1] if hi > 0 else 0.0)
    return brentq(m, prev, a, xtol=1e-8) if prev > 0 else float(a)


def _fp_birth_alpha_r_scan(g: float, amax: float = 200.0, beta_r: float = 0.0) -> float:
    """The left-to-right scan that `_fp_birth_alpha_r`'s bisection replaces (tests only)."""
    base = prx.PRXParams(g_h=g, alpha_r=0.0, beta_r=beta_r)
    if g >= zero_fp_threshold(beta_r):
        return 0.0
    m = lambda a: _max_residual(base.replace(alpha_r=a))
    prev = 0.0
    for a in _fp_grid(amax):
        if m(a) >= 0:
            return brentq(m, prev, a, xtol=1e-8) if prev > 0 else float(a)
        prev = a
    return float("nan")


def fp_line(g_grid, alpha_max: float = 200.0, beta_r: float = 0.0) -> np.ndarray:
    """α_r,FP(g_h) on a grid of g_h (NaN where no static solution up to alpha_max)."""
    return np.array([fp_birth_alpha_r(float(g), alpha_max, beta_r) for g in np.atleast_1d(g_grid)])


def heaviside_min_gh() -> float:
    """Smallest g_h with a nonzero static solution when σ_r is a Heaviside step (α_r → ∞, β = 0:
    ⟨σ_r²⟩ = ½ so Δ = ⟨φ²⟩_Δ/2). Computed numerically on the Δ grid (theory: √2)."""
    def m(g):
        f2 = _phi2(_DELTA_GRID, prx.PRXParams(g_h=g))
        return float(np.max(0.5 * f2 / _DELTA_GRID - 1.0))
    return brentq(m, 1.0, 2.0, xtol=1e-12)


# ----------------------------------------------------------------------------- frozen states and RMT
@dataclass(frozen=True, eq=False)
class FrozenState:
    """Frozen i.i.d. state: h ~ N(0, Δ_h), z, r ~ N(0, ⟨φ²⟩) independent (spec §4.4)."""

    h: np.ndarray
    z: np.ndarray
    r: np.ndarray
    Delta_h: float
    Delta_r: float
    params: prx.PRXParams


def frozen_state(p: prx.PRXParams, N: int, seed: int, Delta_h: float | None = None) -> FrozenState:
    """Draw a frozen state from the static MF (upper branch) or the given Δ_h (must be > 0)."""
    p = prx.check_prx_params(p)
    N = check_positive_int("N", N)
    if Delta_h is None:
        Delta_h = static_mf(p).Delta_h
        if Delta_h <= 0:
            raise ValueError(f"no nonzero static solution at {p}: pass Delta_h explicitly")
    Delta_h = check_float("Delta_h", Delta_h, 0.0, lo_open=True)
    Dr = float(_phi2(Delta_h, p))
    rng = np.random.default_rng(check_seed(seed))
    h, z, r = rng.standard_normal((3, N)) * np.sqrt([Delta_h, Dr, Dr])[:, None]
    return FrozenState(h, z, r, Delta_h, Dr, p)


def _unit_terms(h, z, r, p):
    ph = np.tanh(p.g_h * h + p.beta_h)
    sz = expit(p.alpha_z * z - p.beta_z)
    sr = expit(p.alpha_r * r - p.beta_r)
    return dict(ph=ph, dph=p.g_h * (1 - ph ** 2), sz=sz, sr=sr, dsr=p.alpha_r * sr * (1 - sr))


def frozen_jacobian(state: FrozenState, J: prx.Couplings) -> np.ndarray:
    """Fixed-point-form Jacobian without the decoupled z block (spec §4.4): the 2N × 2N (h, r)
    block for τ_r > 0, the N × N h-block for τ_r = 0 or α_r = 0 (decoupled blocks: N eigenvalues
    exactly at −1/τ_z, and at −1/τ_r when α_r = 0)."""
    p = state.params
    u = _unit_terms(state.h, state.z, state.r, p)
    N = J.N
    if state.h.size != N:
        raise ValueError(f"state has {state.h.size} units but J has N = {N}")
    Dhh = u["sz"][:, None] * (J.Jh * (u["sr"] * u["dph"])[None, :]) - np.diag(u["sz"])
    Dhr = u["sz"][:, None] * (J.Jh * (u["ph"] * u["dsr"])[None, :])
    Drh = J.Jr * u["dph"][None, :]
    if p.algebraic_r:
        return Dhh + Dhr @ Drh
    if p.alpha_r == 0:  # σ_r' ≡ 0: the r block decouples too (N eigenvalues exactly at −1/τ_r)
        return Dhh
    return np.block([[Dhh, Dhr], [Drh / p.tau_r, -np.eye(N) / p.tau_r]])


def frozen_spectrum(p: prx.PRXParams, N: int, seed: int, Delta_h: float | None = None):
    """(eigenvalues of `frozen_jacobian`, DiagStats of the same state): J drawn independently."""
    st = frozen_state(p, N, seed, Delta_h)
    J = prx.make_couplings(N, check_seed(seed) + 10007)
    return np.linalg.eigvals(frozen_jacobian(st, J)), prx_diag_stats(st.h, st.z, st.r, p)


def prx_diag_stats(h, z, r, p: prx.PRXParams) -> DiagStats:
    """Adapter: the PRX (h, r) block in the shared `DiagStats` form (k = 4).

    Per unit, variables (δh, δr, u, w) with u = σ_rφ' δh + φσ_r' δr (input to J^h) and
    w = φ' δh (input to J^r):  K_i(λ) = [[λ+σ_z, 0, 0, 0], [0, 1+λτ_r, 0, 0], [−σ_rφ', −φσ_r', 1, 0],
    [−φ', 0, 0, 1]], Y = D[σ_z] J^h in (h, u) and J^r in (r, w). Then ρ(T(λ)) ≥ 1 ⇔
    ⟨σ_z²σ_r²φ'²/|λ+σ_z|²⟩ + ⟨φ²σ_r'²⟩/|1+λτ_r|² ⟨σ_z²φ'²/|λ+σ_z|²⟩ ≥ 1 (= F(λ) for independent
    units). Pole form: centres −σ_z,i (weights in column u) and −1/τ_r (column w); τ_r = 0 makes
    the second term a constant.
    """
    p = prx.check_prx_params(p)
    h, z, r = (np.asarray(a, dtype=float) for a in (h, z, r))
    N = h.size
    if not (h.shape == z.shape == r.shape == (N,)):
        raise ValueError("h, z, r must be 1-D arrays of the same length")
    u = _unit_terms(h, z, r, p)
    a, b, c, s = u["sr"] * u["dph"], u["ph"] * u["dsr"], u["dph"], u["sz"]
    H, Rr, U, W = 0, 1, 2, 3
    K0 = np.zeros((N, 4, 4))
    K0[:, H, H] = s
    K0[:, Rr, Rr] = 1.0
    K0[:, U, H], K0[:, U, Rr], K0[:, U, U] = -a, -b, 1.0
    K0[:, W, H], K0[:, W, W] = -c, 1.0
    K1 = np.zeros((4, 4))
    K1[H, H], K1[Rr, Rr] = 1.0, p.tau_r
    ell = np.zeros((N, 4, 4))
    ell[:, H, U] = s
    ell[:, Rr, W] = 1.0
    gains = np.zeros((4, 4))
    gains[H, U] = gains[Rr, W] = 1.0
    W0 = np.zeros((N, 4, 4))  # pole at −σ_z,i: |K⁻¹_{·h}|² = (1, 0, a², c²)/|λ+σ_z|², times ℓ² = σ_z²
    W0[:, H, U], W0[:, U, U], W0[:, W, U] = s ** 2, (a * s) ** 2, (c * s) ** 2
    const = np.zeros((4, 4))
    if p.algebraic_r:
        const[Rr, W], const[U, W] = 1.0, float(np.mean(b ** 2))
        centers, weights = (-s)[None], W0[None]
    else:
        W1 = np.zeros((N, 4, 4))  # pole at −1/τ_r: |K⁻¹_{·r}|² = (0, 1, b², 0)/|1+λτ_r|²
        W1[:, Rr, W], W1[:, U, W] = 1.0 / p.tau_r ** 2, (b / p.tau_r) ** 2
        centers = np.stack([-s, np.full(N, -1.0 / p.tau_r)])
        weights = np.stack([W0, W1])
    return DiagStats("prx", K0, K1, ell, gains, centers, weights, const, n_eigs=(N if p.algebraic_r else 2 * N),
                     slow_center=0.0, units=dict(h=h, z=z, r=r, sz=s))


def rmt_F(lam, stats: DiagStats) -> np.ndarray:
    """F(λ) = T_uu + T_uw T_wu from the shared T(λ) (= the spec's F for independent units);
    F ≥ 1 ⇔ ρ(T) ≥ 1."""
    if not isinstance(stats, DiagStats) or stats.kind != "prx":
        raise ValueError("stats must be a DiagStats from prx_diag_stats")
    with np.errstate(divide="ignore", invalid="ignore"):
        T = T_matrix(np.asarray(lam, dtype=complex), stats)
    return T[..., 2, 2] + T[..., 2, 3] * T[..., 3, 2]


def rmt_K0(stats: DiagStats) -> float:
    """K(0) = F(0): whether λ = 0 is in the support (fixed-point stability iff K(0) < 1)."""
    return float(rmt_F(np.array([0j]), stats)[0])


def rmt_right_edge(stats: DiagStats) -> float:
    """Largest real λ with ρ(T(λ)) = 1, by the shared `support.rightmost_edge`."""
    return rightmost_edge(stats)


# ----------------------------------------------------------------------------- population theory
def _z_quadrature(Delta_z: float, n: int = 20001):
    """Trapezoid nodes/weights for z ~ N(0, Δ_z) on ±9 sd (resolves σ_z at α_z up to ~1e3)."""
    sd = math.sqrt(Delta_z)
    z = np.linspace(-9 * sd, 9 * sd, n) if sd > 0 else np.zeros(1)
    w = np.exp(-0.5 * (z / sd) ** 2) if sd > 0 else np.ones(1)
    return z, w / w.sum()


@dataclass(frozen=True, eq=False)
class PopulationMoments:
    """Gaussian moments behind F(λ): ⟨φ'²⟩, ⟨φ²⟩, ⟨σ_r²⟩, ⟨σ_r'²⟩ and the σ_z quadrature."""

    phi2: float
    dphi2: float
    sr2: float
    dsr2: float
    sz: np.ndarray
    wz: np.ndarray
    tau_r: float

    @property
    def K0(self) -> float:
        return self.dphi2 * (self.sr2 + self.phi2 * self.dsr2)

    @property
    def f_open(self) -> float:
        return float(np.sum(self.wz * self.sz ** 2))


def population_moments(p: prx.PRXParams, Delta_h: float | None = None) -> PopulationMoments:
    """Moments at the static-MF state (or the given Δ_h) for the theory curve F(λ)."""
    p = prx.check_prx_params(p)
    if Delta_h is None:
        Delta_h = static_mf(p).Delta_h
    Delta_h = check_float("Delta_h", Delta_h, 0.0)
    # gains of φ(g_h √Δ_h x) and σ_r(α_r √⟨φ²⟩ x), with ⟨φ²⟩ ≤ 1
    x, w = gauss_nodes(max(p.g_h * math.sqrt(Delta_h), p.alpha_r))
    ph = np.tanh(p.g_h * math.sqrt(Delta_h) * x + p.beta_h)
    phi2 = float(ph ** 2 @ w)
    sr = expit(p.alpha_r * math.sqrt(phi2) * x - p.beta_r)
    z, wz = _z_quadrature(phi2)
    return PopulationMoments(phi2, float((p.g_h * (1 - ph ** 2)) ** 2 @ w), float(sr ** 2 @ w),
                             float((p.alpha_r * sr * (1 - sr)) ** 2 @ w), expit(p.alpha_z * z - p.beta_z), wz,
                             p.tau_r)


def rmt_F_theory(lam, m: PopulationMoments) -> np.ndarray:
    """F(λ) = ⟨σ_z²/|λ+σ_z|²⟩⟨φ'²⟩[⟨σ_r²⟩ + ⟨φ²⟩⟨σ_r'²⟩/|1+λτ_r|²] (population averages)."""
    lam = np.asarray(lam, dtype=complex)
    zf = (np.abs(m.sz[None, :] / (lam.reshape(-1, 1) + m.sz[None, :])) ** 2) @ m.wz
    rf = m.sr2 + m.phi2 * m.dsr2 / np.abs(1 + lam.reshape(-1) * m.tau_r) ** 2
    return (zf * m.dphi2 * rf).reshape(lam.shape)


def right_edge_theory(p: prx.PRXParams, Delta_h: float | None = None) -> float:
    """Largest real root λ_e of F(λ) = 1 (population theory). For α_z > 0 the support contains
    the real segment −σ_z of slow units, so λ_e ≥ 0⁻; |λ_e| < 0.01 reads as pinned (spec §9)."""
    m = population_moments(p, Delta_h)
    f = lambda x: float(rmt_F_theory(np.array([x]), m)[0].real) - 1.0
    lower = max(-float(np.min(m.sz)), -1.0 / p.tau_r if p.tau_r > 0 else -np.inf)
    hi = 1.0
    while f(hi) > 0:
        hi *= 2
        if hi > 1e6:
            raise RuntimeError("F(λ) does not fall below 1")
    lo = lower + 1e-9 * max(1.0, abs(lower))
    if f(lo) < 0:
        return float(lower)
    return brentq(f, lo, hi, xtol=1e-12)


def frozen_spectrum_summary(g_h: float, alpha_r: float, alpha_z: float, N: int = 500, seed: int = 0,
                            Delta_h: float | None = None, tau_r: float = 1.0, delta: float = 0.01,
                            level: float = 0.9) -> dict:
    """One frozen-state case for `al.sweep` (claims gating.rmt.*, gating.slow_modes.*):
    max_re (rightmost eigenvalue), edge_finite (λ_e from the sample's own F via the shared support
    code), edge_theory (population F), support_fraction (eigenvalues with F ≥ level), K0,
    slow_fraction (|λ| < δ), slow_rule (½·P(σ_z < δ) for the 2N block, heuristic), eigs."""
    p = prx.PRXParams(g_h=g_h, alpha_r=alpha_r, alpha_z=alpha_z, tau_r=tau_r)
    ev, S = frozen_spectrum(p, N, seed, Delta_h)
    frac_blocks = S.n_eigs / N
    return dict(max_re=float(ev.real.max()), edge_finite=rmt_right_edge(S), edge_theory=right_edge_theory(p, Delta_h),
                support_fraction=float(np.mean(rmt_F(ev, S) >= level)), K0=rmt_K0(S),
                slow_fraction=float(np.mean(np.abs(ev) < delta)),
                slow_rule=float(np.mean(S.units["sz"] < delta)) / frac_blocks, eigs=ev)


def visited_spectrum_summary(g_h: float, alpha_r: float, alpha_z: float, N: int = 500, seed: int = 0,
                             T: float = 200.0, dt: float = 0.1, tau_r: float = 1.0) -> dict:
    """Jacobian spectrum at a state the dynamics visits (issue 16 item 4; claims gating.rmt.visited.*).

    The network (couplings J from `seed`) runs from `initial_state` for time T (RK4, step dt); at the
    final state x = (h, z, r) the full 3N × 3N Jacobian D(x) is diagonalised. Unlike a frozen i.i.d.
    state, x is correlated with J, and off a fixed point D(x) has the velocity term
    σ_z'(z)(−h + J^h σ_r φ) ∂z that the support theory drops (it vanishes at α_z = 0, where the z block
    decouples exactly). Theory: the rightmost root of the finite-sample F(λ) = 1 built from the
    visited state's own unit statistics (`prx_diag_stats(h, z, r)`: independent-unit support, no J).
    Control: the same (h, z, r) with an independent draw of J (seed + 10⁶), i.e. the frozen-state
    setting with the visited statistics. Returns max_re (full D at the visited state), max_re_fpform
    (D without the velocity term, same state and J), max_re_indep ((h, r) block with independent J),
    n_outliers (eigenvalues of D right of edge_visited + 0.01), edge_visited (theory), K0, rms_speed
    (|ḣ| per unit), frozen_fraction (σ_z < 1e-3), var_h, eigs."""
    p = prx.PRXParams(g_h=g_h, alpha_r=alpha_r, alpha_z=alpha_z, tau_r=tau_r)
    N = check_positive_int("N", N)
    J = prx.make_couplings(N, seed)
    n_steps = int(round(check_float("T", T, 0.0, lo_open=True) / dt))
    x = prx.simulate(p, J, T, dt, record_every=max(n_steps, 1), seed=seed).x_final
    h, z = x[:N], x[N:2 * N]
    r = x[2 * N:] if not p.algebraic_r else J.Jr @ np.tanh(p.g_h * h + p.beta_h)
    ev = np.linalg.eigvals(prx.jacobian_dense(x, p, J))
    ev_fp = np.linalg.eigvals(prx.jacobian_dense(x, p, J, fixed_point_form=True))  # without the velocity term
    S = prx_diag_stats(h, z, r, p)
    edge = rmt_right_edge(S)
    st = FrozenState(h, z, r, float(np.mean(h ** 2)), float(np.mean(r ** 2)), p)
    ev_ind = np.linalg.eigvals(frozen_jacobian(st, prx.make_couplings(N, seed + 10 ** 6)))
    u = _unit_terms(h, z, r, p)
    speed = u["sz"] * (-h + J.Jh @ (u["sr"] * u["ph"]))
    return dict(max_re=float(ev.real.max()), max_re_fpform=float(ev_fp.real.max()), max_re_indep=float(ev_ind.real.max()),
                n_outliers=int(np.sum(ev.real > edge + 0.01)), edge_visited=edge,
                K0=rmt_K0(S), rms_speed=float(np.sqrt(np.mean(speed ** 2))), frozen_fraction=float(np.mean(u["sz"] < 1e-3)),
                var_h=float(np.mean(h ** 2)), eigs=ev)
