"""`DiagStats`: per-unit diagonal statistics, the one interface between a state and the theory.

Linearise det(J − λ) to a block matrix K(λ) + Y (spec §4.2): K is block-diagonal with one
deterministic k×k block per unit, affine in λ,

    K_i(λ) = K0_i + λ K1_i,

and Y has independent Gaussian blocks D[ℓ^{bc}] X^{bc} with var(X^{bc}) = s_bc²/N. Then

    T_ac(λ) = ⟨ Σ_b |(K_i(λ)⁻¹)_ab|² s_bc² (ℓ_i^{bc})² ⟩_i ,    λ ∈ support ⇔ ρ(T(λ)) ≥ 1.

`DiagStats` stores (K0, K1, ℓ, s) for the generic k×k evaluation, and, where every entry of
K_i⁻¹ is a single pole or a constant (Cho GRU, PyTorch GRU, LSTM), the same T in pole form

    T(λ) = const + Σ_m ⟨ W_{m,i} / |λ − c_{m,i}|² ⟩_i ,

which is what the fast grid code evaluates. Stationary, mean-field fixed-point, i.i.d. and (in
notebook 02) PRX states all go through this one object.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
from scipy.special import expit

from ..params import ChoGRUParams, LSTMParams, TorchGRUParams, check_positive_int, check_seed
from .quadrature import R_gate


@dataclass(frozen=True, eq=False)
class DiagStats:
    """Per-unit block statistics of one state (see the module docstring for the equations).

    kind: model kind ("cho", "torch", "lstm" or a user label); n_eigs: size of the Jacobian;
    slow_center: where slow modes sit (1 for discrete time, 0 for continuous time);
    units: the per-unit arrays the blocks were built from (z, A, B, C, E for the GRU, ...).
    """

    kind: str
    K0: np.ndarray  # (N, k, k)
    K1: np.ndarray  # (N, k, k)
    ell: np.ndarray  # (N, k, k) row factors ℓ_i^{bc}
    gains: np.ndarray  # (k, k) s_bc
    pole_centers: np.ndarray | None = None  # (M, N) complex c_{m,i}
    pole_weights: np.ndarray | None = None  # (M, N, k, k) W_{m,i}
    const: np.ndarray | None = None  # (k, k)
    n_eigs: int = 0
    slow_center: float = 1.0
    units: Mapping[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        K0 = np.asarray(self.K0, dtype=float)
        if K0.ndim != 3 or K0.shape[1] != K0.shape[2]:
            raise ValueError(f"K0 must have shape (N, k, k); got {K0.shape}")
        N, k, _ = K0.shape
        for name in ("K1", "ell"):
            arr = np.broadcast_to(np.asarray(getattr(self, name), dtype=float), (N, k, k))
            object.__setattr__(self, name, arr)
        gains = np.asarray(self.gains, dtype=float)
        if gains.shape != (k, k) or np.any(gains < 0) or not np.all(np.isfinite(gains)):
            raise ValueError(f"gains must be a ({k}, {k}) array of finite numbers >= 0; got {gains!r}")
        object.__setattr__(self, "K0", K0)
        object.__setattr__(self, "gains", gains)
        if (self.pole_centers is None) != (self.pole_weights is None):
            raise ValueError("pole_centers and pole_weights must be given together")
        if self.pole_centers is not None:
            c = np.atleast_2d(np.asarray(self.pole_centers, dtype=complex))
            w = np.asarray(self.pole_weights, dtype=float).reshape(c.shape[0], N, k, k)
            if c.shape[1] != N:
                raise ValueError(f"pole_centers must have shape (M, {N}); got {c.shape}")
            object.__setattr__(self, "pole_centers", c)
            object.__setattr__(self, "pole_weights", w)
            const = np.zeros((k, k)) if self.const is None else np.asarray(self.const, dtype=float)
            object.__setattr__(self, "const", const.reshape(k, k))
        if self.n_eigs == 0:
            object.__setattr__(self, "n_eigs", N)

    @property
    def N(self) -> int:
        return self.K0.shape[0]

    @property
    def k(self) -> int:
        return self.K0.shape[1]

    @property
    def has_poles(self) -> bool:
        return self.pole_centers is not None

    def variance_profile(self) -> np.ndarray:
        """V_i,bc = s_bc² (ℓ_i^{bc})², shape (N, k, k)."""
        return self.gains[None] ** 2 * self.ell ** 2

    def shifted(self, mu: float, pole_centers: np.ndarray | None = None) -> "DiagStats":
        """Statistics of J − μ I: K'(λ) = K(λ + μ), poles move by −μ.

        `shifted(1.0)` turns discrete-time statistics into the continuous-time view J_c = J_d − I.
        `pole_centers` may give the shifted centres exactly (e.g. −z instead of (1 − z) − 1, which
        loses digits for tiny z).
        """
        mu = float(mu)
        if pole_centers is not None:
            pole_centers = np.atleast_2d(np.asarray(pole_centers, dtype=complex))
        return DiagStats(
            kind=self.kind, K0=self.K0 + mu * self.K1, K1=self.K1, ell=self.ell, gains=self.gains,
            pole_centers=(pole_centers if pole_centers is not None
                          else None if self.pole_centers is None else self.pole_centers - mu),
            pole_weights=self.pole_weights, const=self.const, n_eigs=self.n_eigs,
            slow_center=self.slow_center - mu, units=self.units,
        )

    def slow_mode_prediction(self, delta: float) -> float:
        """Predicted fraction of eigenvalues with |λ − slow_center| < δ (spec §4.4, derived).

        Cho GRU: P(z_i < δ); PyTorch GRU: P(z_i > 1 − δ); LSTM (2N eigenvalues): ½ P(f_i > 1 − δ).
        """
        if not (isinstance(delta, (int, float)) and 0 < delta < 1):
            raise ValueError(f"delta must be a number in (0, 1); got {delta!r}")
        if self.kind == "cho":
            return float(np.mean(self.units["z"] < delta))
        if self.kind == "torch":
            return float(np.mean(self.units["z"] > 1 - delta))
        if self.kind == "lstm":
            return 0.5 * float(np.mean(self.units["f"] > 1 - delta))
        raise ValueError(f"slow-mode rule is defined for kinds 'cho', 'torch', 'lstm'; got {self.kind!r}")


def _as_units(N: int, **arrays) -> dict[str, np.ndarray]:
    out = {}
    for name, value in arrays.items():
        arr = np.broadcast_to(np.asarray(value, dtype=float), (N,)).copy()
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"per-unit array {name} must be finite")
        out[name] = arr
    return out


def cho_stats(z, A, B, C, E, params: ChoGRUParams, continuous: bool = False) -> DiagStats:
    """Cho GRU blocks (k = 2) from per-unit arrays (spec §4.1-4.2).

    J_d = D[1−z] + D[A] U_z + D[B] U_h (D[C] + D[E] U_r), linearised with y = (D[C] + D[E]U_r) x:
    K_i(λ) = [[1−z_i−λ, 0], [−C_i, 1]], ℓ = [[A, B], [−E, 0]], s = [[s_z, s_h], [s_r, 0]], so that
    with p_i = |λ − (1−z_i)|²:
    T = [[s_z²⟨A²/p⟩, s_h²⟨B²/p⟩], [s_z²⟨C²A²/p⟩ + s_r²⟨E²⟩, s_h²⟨C²B²/p⟩]].
    `continuous=True` gives the statistics of J_c = J_d − I (poles at −z_i).
    """
    z = np.asarray(z, dtype=float)
    N = z.shape[0]
    u = _as_units(N, z=z, A=A, B=B, C=C, E=E)
    K0 = np.zeros((N, 2, 2))
    K0[:, 0, 0] = 1 - u["z"]
    K0[:, 1, 0] = -u["C"]
    K0[:, 1, 1] = 1.0
    K1 = np.zeros((2, 2))
    K1[0, 0] = -1.0
    ell = np.zeros((N, 2, 2))
    ell[:, 0, 0], ell[:, 0, 1], ell[:, 1, 0] = u["A"], u["B"], -u["E"]
    s = np.array([[params.s_z, params.s_h], [params.s_r, 0.0]])
    W = np.zeros((1, N, 2, 2))
    W[0, :, 0, 0] = params.s_z ** 2 * u["A"] ** 2
    W[0, :, 0, 1] = params.s_h ** 2 * u["B"] ** 2
    W[0, :, 1, 0] = params.s_z ** 2 * u["C"] ** 2 * u["A"] ** 2
    W[0, :, 1, 1] = params.s_h ** 2 * u["C"] ** 2 * u["B"] ** 2
    const = np.zeros((2, 2))
    const[1, 0] = params.s_r ** 2 * np.mean(u["E"] ** 2)
    st = DiagStats("cho", K0, K1, ell, s, (1 - u["z"])[None], W, const, n_eigs=N, slow_center=1.0, units=u)
    return st.shifted(1.0, pole_centers=-u["z"][None]) if continuous else st


def torch_gru_stats(z, A, B, E, params: TorchGRUParams, continuous: bool = False) -> DiagStats:
    """PyTorch GRU blocks (k = 1): J = D[z] + D[A']W_hz + D[B']W_hn + D[E']W_hr, so
    T(λ) = ⟨(s_z²A'² + s_h²B'² + s_r²E'²)/|λ − z|²⟩ (the three independent Gaussian parts add)."""
    z = np.asarray(z, dtype=float)
    N = z.shape[0]
    u = _as_units(N, z=z, A=A, B=B, E=E)
    var = params.s_z ** 2 * u["A"] ** 2 + params.s_h ** 2 * u["B"] ** 2 + params.s_r ** 2 * u["E"] ** 2
    K0 = u["z"].reshape(N, 1, 1)
    ell = np.sqrt(var).reshape(N, 1, 1)
    st = DiagStats("torch", K0, np.full((1, 1), -1.0), ell, np.ones((1, 1)), u["z"][None],
                   var.reshape(1, N, 1, 1), np.zeros((1, 1)), n_eigs=N, slow_center=1.0, units=u)
    return st.shifted(1.0) if continuous else st


def lstm_stats(f, D_o, q2, w2, params: LSTMParams | None = None, continuous: bool = False,
               units: Mapping[str, np.ndarray] | None = None) -> DiagStats:
    """LSTM blocks (k = 2) after subtracting D[D_o]·(c-row) from the h-row (spec §4.2):

    K_i(λ) = [[−λ, λ D_o,i], [0, f_i − λ]], Y = [[W_o, 0], [Q, 0]], var rows w_i², q_i², so
    ρ(T(λ)) = ⟨D_o² q²/|λ − f|²⟩ + ⟨w²⟩/|λ|²,
    q² = s_f²(c f')² + s_i²(g i')² + s_g²(i(1−g²))², w² = s_o²(φ(c') o')².
    """
    f = np.asarray(f, dtype=float)
    N = f.shape[0]
    u = _as_units(N, f=f, D_o=D_o, q2=q2, w2=w2)
    if np.any(u["q2"] < 0) or np.any(u["w2"] < 0):
        raise ValueError("q2 and w2 are variances and must be >= 0")
    K0 = np.zeros((N, 2, 2))
    K0[:, 1, 1] = u["f"]
    K1 = np.zeros((N, 2, 2))
    K1[:, 0, 0] = -1.0
    K1[:, 0, 1] = u["D_o"]
    K1[:, 1, 1] = -1.0
    ell = np.zeros((N, 2, 2))
    ell[:, 0, 0] = np.sqrt(u["w2"])
    ell[:, 1, 0] = np.sqrt(u["q2"])
    centers = np.stack([u["f"], np.zeros(N)])
    W = np.zeros((2, N, 2, 2))
    W[0, :, 0, 0] = u["D_o"] ** 2 * u["q2"]
    W[0, :, 1, 0] = u["q2"]
    W[1, :, 0, 0] = u["w2"]
    if units:
        u.update({k: np.asarray(v, dtype=float) for k, v in units.items()})
    st = DiagStats("lstm", K0, K1, ell, np.ones((2, 2)), centers, W, np.zeros((2, 2)), n_eigs=2 * N,
                   slow_center=1.0, units=u)
    return st.shifted(1.0) if continuous else st


def mf_fixed_point_stats(params: ChoGRUParams, N: int, seed: int, Delta: float,
                         continuous: bool = False) -> DiagStats:
    """Cho GRU statistics sampled from the static mean field of fixed points (spec §4.6 option 2):
    h_i = φ(u_i), u ~ N(b_h, s_h²⟨r²⟩Δ), a_r ~ N(b_r, s_r²Δ), a_z ~ N(b_z, s_z²Δ), independent,
    and A = 0 (h̃ = h at a fixed point). `Delta` = ⟨h²⟩ of the fixed point (e.g. from `mf_branches`).
    """
    N = check_positive_int("N", N)
    rng = np.random.default_rng(check_seed(seed))
    if not (isinstance(Delta, (int, float)) and 0 <= Delta <= 1):
        raise ValueError(f"Delta must be a number in [0, 1] (a fixed point's ⟨h²⟩); got {Delta!r}")
    R = R_gate(Delta, params.s_r, params.b_r)
    u = params.b_h + np.sqrt(params.s_h ** 2 * R * Delta) * rng.standard_normal(N)
    h = np.tanh(u)
    r = expit(params.b_r + params.s_r * np.sqrt(Delta) * rng.standard_normal(N))
    z = expit(params.b_z + params.s_z * np.sqrt(Delta) * rng.standard_normal(N))
    return cho_stats(z, np.zeros(N), z * (1 - h ** 2), r, h * r * (1 - r), params, continuous)
