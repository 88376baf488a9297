"""The gated RNN of Krishnamurthy, Can & Schwab (PRX 2022), spec `gating_theory.md` §3, §4.7.

    dh_i/dt     = σ_z(z_i) · ( −h_i + Σ_j J^h_ij σ_r(r_j) φ(h_j) + I_i )
    τ_z dz_i/dt = −z_i + Σ_j J^z_ij φ(h_j)
    τ_r dr_i/dt = −r_i + Σ_j J^r_ij φ(h_j)          (τ_r = 0: r = J^r φ(h), algebraic)
    φ(x) = tanh(g_h x + β_h),   σ_k(x) = expit(α_k x − β_k),   J^· iid N(0, 1/N).

State layout: x = (h, z, r) of length 3N for τ_r > 0, x = (h, z) of length 2N for τ_r = 0
(r is then a function of h, never a stiff tiny-τ variable). Tangent vectors Q have the same
row layout. The optional constant input I enters next to the recurrent drive (our reading of
"additive input"; the prototyped input is β_h inside φ).

The Jacobian-times-matrix `jmp` applies the blockwise formula of spec §4.7 and never forms
the (3N)² Jacobian; `jacobian_dense` forms it (tests, small-N eigenvalues, benchmark baseline).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy.special import expit

from ..params import check_float, check_positive_int, check_seed


# ----------------------------------------------------------------------------- parameters
@dataclass(frozen=True)
class PRXParams:
    """Gains (g_h, α_z, α_r), biases (β_h, β_z, β_r) and gate time constants (τ_z, τ_r).

    Defaults (spec §3, [recollection] for the paper's): β = 0, τ_z = τ_r = 1. Results are best
    quoted through σ_z(0) = 1/(1 + e^{β_z}) and σ_r(0) = 1/(1 + e^{β_r}) (bias sign unverified).
    """

    g_h: float = 3.0
    alpha_z: float = 0.0
    alpha_r: float = 2.0
    beta_h: float = 0.0
    beta_z: float = 0.0
    beta_r: float = 0.0
    tau_z: float = 1.0
    tau_r: float = 1.0

    def __post_init__(self) -> None:
        for name in ("g_h", "alpha_z", "alpha_r", "tau_r"):
            object.__setattr__(self, name, check_float(name, getattr(self, name), 0.0))
        for name in ("beta_h", "beta_z", "beta_r"):
            object.__setattr__(self, name, check_float(name, getattr(self, name)))
        object.__setattr__(self, "tau_z", check_float("tau_z", self.tau_z, 0.0, lo_open=True))

    def replace(self, **changes: Any) -> "PRXParams":
        return replace(self, **changes)

    @property
    def sigma_z0(self) -> float:
        """σ_z(0) = 1/(1 + e^{β_z}): the inverse time constant of h at z = 0."""
        return float(expit(-self.beta_z))

    @property
    def sigma_r0(self) -> float:
        """σ_r(0) = 1/(1 + e^{β_r})."""
        return float(expit(-self.beta_r))

    @property
    def algebraic_r(self) -> bool:
        return self.tau_r == 0.0


def check_prx_params(p: Any) -> PRXParams:
    if not isinstance(p, PRXParams):
        raise ValueError(f"p must be a PRXParams; got {type(p).__name__}")
    return p


def sig(x, a: float, b: float = 0.0):
    """σ(x) = 1/(1 + exp(−a x + b)) via `expit` (no overflow at a = 1000)."""
    return expit(a * np.asarray(x, dtype=float) - b)


def phi(h, p: PRXParams):
    """φ(h) = tanh(g_h h + β_h)."""
    return np.tanh(p.g_h * np.asarray(h, dtype=float) + p.beta_h)


# ----------------------------------------------------------------------------- couplings
@dataclass(frozen=True, eq=False)
class Couplings:
    """J^h, J^z, J^r (N × N, iid N(0, 1/N), float64 by default) and the stacked [J^z; J^r] (2N × N)
    used to compute both gate drives with one matmul.

    float32 couplings (`make_couplings(..., dtype="float32")`) halve the memory the matrix-vector
    products stream: at N ≥ 500 an RK4 stage is memory-bound, and 3N² float32 numbers stay in a
    32 MB L3 cache for two side-by-side runs where float64 ones do not. Only the products use
    them (`matvec`): states, gates and the RK4 sums stay float64."""

    Jh: np.ndarray
    Jz: np.ndarray
    Jr: np.ndarray
    Jzr: np.ndarray

    @property
    def N(self) -> int:
        return self.Jh.shape[0]

    @property
    def dtype(self) -> np.dtype:
        return self.Jh.dtype


COUPLING_DTYPES = ("float64", "float32")


def _check_dtype(dtype) -> np.dtype:
    dt = np.dtype(dtype)
    if dt.name not in COUPLING_DTYPES:
        raise ValueError(f"dtype must be one of {COUPLING_DTYPES}; got {dtype!r}")
    return dt


def make_couplings(N: int, seed: int, dtype="float64") -> Couplings:
    """Draw J^h, J^z, J^r independently, entries N(0, 1/N); same seed → same matrices.
    `dtype="float32"`: the same float64 draws rounded to float32 (see `Couplings`)."""
    N = check_positive_int("N", N)
    dt = _check_dtype(dtype)
    rng = np.random.default_rng(check_seed(seed))
    Jh, Jz, Jr = (rng.standard_normal((N, N)) / math.sqrt(N) for _ in range(3))
    Jzr = np.ascontiguousarray(np.vstack([Jz, Jr]), dtype=dt)
    Jh = np.ascontiguousarray(Jh, dtype=dt)
    return Couplings(Jh, Jzr[:N], Jzr[N:], Jzr)


def matvec(M: np.ndarray, v: np.ndarray) -> np.ndarray:
    """M @ v (v a vector or a matrix of columns) with v rounded to M's dtype first: a float32 M is then used as it is (numpy would
    otherwise promote the product to float64 and copy M at every call). float64: plain M @ v."""
    return M @ (v if v.dtype == M.dtype else v.astype(M.dtype))


def _matmul_cols(M: np.ndarray, X: np.ndarray, out: np.ndarray) -> np.ndarray:
    """out = M @ X. float32 M with ≤ 2 columns: one sgemv per column, because OpenBLAS's sgemm
    with n = 2 costs about twice two sgemv at N = 800 (measured); float64: one matmul (the
    arithmetic of every float64 result so far)."""
    if M.dtype == np.float64 or X.shape[1] > 2:
        return np.matmul(M, X, out=out)
    for j in range(X.shape[1]):
        np.matmul(M, X[:, j], out=out[:, j])
    return out


def _check_J(J) -> Couplings:
    if not isinstance(J, Couplings):
        raise ValueError(f"J must be a Couplings (from make_couplings); got {type(J).__name__}")
    return J


def state_dim(p: PRXParams, N: int) -> int:
    """3N for τ_r > 0, 2N for the algebraic τ_r = 0 limit."""
    return (2 if p.algebraic_r else 3) * N


def split_state(x: np.ndarray, p: PRXParams, N: int):
    """(h, z, r) views of x (r is None when τ_r = 0)."""
    if x.shape[0] != state_dim(p, N):
        raise ValueError(f"x must have {state_dim(p, N)} rows (state layout (h, z[, r])); got {x.shape[0]}")
    return x[:N], x[N:2 * N], (None if p.algebraic_r else x[2 * N:3 * N])


def initial_state(p: PRXParams, N: int, seed: int, scale: float = 1.0) -> np.ndarray:
    """h ~ N(0, scale²), z = r = 0 (our choice: large init scale 1, small init 0.01, spec §4.9)."""
    N = check_positive_int("N", N)
    check_float("scale", scale, 0.0)
    x = np.zeros(state_dim(p, N))
    x[:N] = scale * np.random.default_rng(check_seed(seed)).standard_normal(N)
    return x


# ----------------------------------------------------------------------------- core
def _local(x: np.ndarray, p: PRXParams, J: Couplings, I=None) -> dict:
    """Per-unit quantities at state x (1-D): φ, φ', σ_z, σ_z', σ_r, σ_r', η, drives."""
    N = J.N
    h, z, r = split_state(x, p, N)
    ph = np.tanh(p.g_h * h + p.beta_h)
    dph = p.g_h * (1.0 - ph * ph)
    drive = matvec(J.Jzr, ph)  # (2N,): J^z φ and J^r φ in one matmul
    if r is None:
        r = drive[N:]
    sz = expit(p.alpha_z * z - p.beta_z)
    sr = expit(p.alpha_r * r - p.beta_r)
    eta = matvec(J.Jh, sr * ph)
    if I is not None:
        eta = eta + I
    return dict(h=h, z=z, r=r, ph=ph, dph=dph, sz=sz, dsz=p.alpha_z * sz * (1 - sz), sr=sr,
                dsr=p.alpha_r * sr * (1 - sr), eta=eta, drive=drive)


def _check_input(I, N: int):
    if I is None:
        return None
    I = np.asarray(I, dtype=float)
    if I.shape not in ((), (N,)) or not np.all(np.isfinite(I)):
        raise ValueError(f"I must be a finite scalar or an array of shape ({N},); got shape {I.shape}")
    return np.broadcast_to(I, (N,))


def rhs(x: np.ndarray, p: PRXParams, J: Couplings, I=None, I_z=None) -> np.ndarray:
    """ẋ for the state x = (h, z[, r]) (module docstring equations). `I_z` is an optional
    constant drive of the z gate, τ_z ż = −z + J^z φ(h) + I_z (used by the memory-reset protocol)."""
    p, J = check_prx_params(p), _check_J(J)
    x = np.asarray(x, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"x must be a 1-D state vector; got shape {x.shape}")
    return _rhs_from_local(_local(x, p, J, _check_input(I, J.N)), p, J.N, _check_input(I_z, J.N))


def _rhs_from_local(L: dict, p: PRXParams, N: int, I_z=None) -> np.ndarray:
    out = np.empty(state_dim(p, N))
    out[:N] = L["sz"] * (-L["h"] + L["eta"])
    out[N:2 * N] = (-L["z"] + L["drive"][:N] + (0.0 if I_z is None else I_z)) / p.tau_z
    if not p.algebraic_r:
        out[2 * N:] = (-L["r"] + L["drive"][N:]) / p.tau_r
    return out


def _jmp_from_local(L: dict, Q: np.ndarray, p: PRXParams, J: Couplings, fixed_point_form: bool) -> np.ndarray:
    """Blockwise D(x) Q (spec §4.7):
    dQ_h = D[σ_z'(−h+η)] Q_z + D[σ_z](−Q_h + J^h(D[σ_r φ'] Q_h + D[φ σ_r'] Q_r))
    dQ_z = (−Q_z + J^z D[φ'] Q_h)/τ_z,  dQ_r = (−Q_r + J^r D[φ'] Q_h)/τ_r  (τ_r = 0: Q_r = J^r D[φ'] Q_h).
    """
    N = J.N
    Qh, Qz = Q[:N], Q[N:2 * N]
    gate_in = matvec(J.Jzr, L["dph"][:, None] * Qh)  # (2N, k)
    Qr = gate_in[N:] if p.algebraic_r else Q[2 * N:]
    pre = (L["sr"] * L["dph"])[:, None] * Qh + (L["ph"] * L["dsr"])[:, None] * Qr
    out = np.empty_like(Q)
    out[:N] = L["sz"][:, None] * (matvec(J.Jh, pre) - Qh)
    if not fixed_point_form:
        out[:N] += (L["dsz"] * (L["eta"] - L["h"]))[:, None] * Qz
    out[N:2 * N] = (gate_in[:N] - Qz) / p.tau_z
    if not p.algebraic_r:
        out[2 * N:] = (gate_in[N:] - Qr) / p.tau_r
    return out


def jmp(x: np.ndarray, Q: np.ndarray, p: PRXParams, J: Couplings, I=None,
        fixed_point_form: bool = False) -> np.ndarray:
    """Jacobian-times-matrix D(x) Q without forming D (blockwise, spec §4.7).

    `fixed_point_form=True` drops the σ_z'(−h + η) term (it vanishes at fixed points; spec §4.4
    uses this form at frozen states). Q: (dim,) or (dim, k).
    """
    p, J = check_prx_params(p), _check_J(J)
    x = np.asarray(x, dtype=float)
    Q = np.asarray(Q, dtype=float)
    vec = Q.ndim == 1
    Q2 = Q[:, None] if vec else Q
    if Q2.ndim != 2 or Q2.shape[0] != state_dim(p, J.N):
        raise ValueError(f"Q must have shape ({state_dim(p, J.N)},) or ({state_dim(p, J.N)}, k); got {Q.shape}")
    out = _jmp_from_local(_local(x, p, J, _check_input(I, J.N)), Q2, p, J, fixed_point_form)
    return out[:, 0] if vec else out


def jacobian_dense(x: np.ndarray, p: PRXParams, J: Couplings, I=None, fixed_point_form: bool = False) -> np.ndarray:
    """The full Jacobian D(x) as a dense (dim × dim) matrix (small N, eigenvalues, baselines)."""
    p, J = check_prx_params(p), _check_J(J)
    L = _local(np.asarray(x, dtype=float), p, J, _check_input(I, J.N))
    return _dense_from_local(L, p, J, fixed_point_form)


def _dense_from_local(L: dict, p: PRXParams, J: Couplings, fixed_point_form: bool) -> np.ndarray:
    N = J.N
    dim = state_dim(p, N)
    D = np.zeros((dim, dim))
    sz = L["sz"][:, None]
    JrPhi = J.Jr * L["dph"][None, :]  # J^r D[φ']
    Jh_b = J.Jh * (L["ph"] * L["dsr"])[None, :]  # J^h D[φ σ_r']
    Dhh = sz * (J.Jh * (L["sr"] * L["dph"])[None, :])
    if p.algebraic_r:
        Dhh += sz * (Jh_b @ JrPhi)
    D[:N, :N] = Dhh
    D[np.arange(N), np.arange(N)] -= L["sz"]
    if not fixed_point_form:
        D[np.arange(N), N + np.arange(N)] = L["dsz"] * (L["eta"] - L["h"])
    D[N:2 * N, :N] = J.Jz * L["dph"][None, :] / p.tau_z
    D[N + np.arange(N), N + np.arange(N)] = -1.0 / p.tau_z
    if not p.algebraic_r:
        D[:N, 2 * N:] = sz * Jh_b
        D[2 * N:, :N] = JrPhi / p.tau_r
        D[2 * N + np.arange(N), 2 * N + np.arange(N)] = -1.0 / p.tau_r
    return D


def trace_jacobian(x: np.ndarray, p: PRXParams, J: Couplings, I=None) -> float:
    """tr D(x) in O(N²) without forming D: Σ_i σ_z,i(−1 + J^h_ii σ_r,i φ'_i
    [+ φ'_i Σ_j J^h_ij φ_j σ_r'_j J^r_ji when τ_r = 0]) − N/τ_z [− N/τ_r]."""
    p, J = check_prx_params(p), _check_J(J)
    L = _local(np.asarray(x, dtype=float), p, J, _check_input(I, J.N))
    N = J.N
    dhh = -1.0 + np.diag(J.Jh) * L["sr"] * L["dph"]
    if p.algebraic_r:
        dhh += L["dph"] * np.einsum("ij,j,ji->i", J.Jh, L["ph"] * L["dsr"], J.Jr)
    tr = float(np.sum(L["sz"] * dhh)) - N / p.tau_z
    if not p.algebraic_r:
        tr -= N / p.tau_r
    return tr


# ----------------------------------------------------------------------------- integration
@dataclass(frozen=True, eq=False)
class Trajectory:
    """Recorded samples: t (n,), h, z, r (n, N) (r from J^r φ(h) when τ_r = 0), final state x."""

    t: np.ndarray
    h: np.ndarray
    z: np.ndarray
    r: np.ndarray
    x_final: np.ndarray
    params: PRXParams


def rk4_step(x: np.ndarray, dt: float, p: PRXParams, J: Couplings, I=None) -> np.ndarray:
    k1 = _rhs_from_local(_local(x, p, J, I), p, J.N)
    k2 = _rhs_from_local(_local(x + 0.5 * dt * k1, p, J, I), p, J.N)
    k3 = _rhs_from_local(_local(x + 0.5 * dt * k2, p, J, I), p, J.N)
    k4 = _rhs_from_local(_local(x + dt * k3, p, J, I), p, J.N)
    return x + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)


TANGENT_DTYPES = ("float64", "float32")


class TangentStepper:
    """RK4 for the joint system (ẋ = f(x), Q̇ = D(x) Q) with the Jacobian applied stage by stage
    at the stage state, and preallocated work arrays (the (dim × k) temporaries of a naive RK4
    would be re-allocated ~20 times per step). `dense=False`: the fused blockwise stage
    (the `rhs`/`jmp` equations with state and tangents propagated as stacked columns: one
    [J^z; J^r] matmul on [φ | D[φ']Q_h] and one J^h matmul on [σ_rφ | D[σ_rφ']Q_h + D[φσ_r']Q_r]
    per stage, the Jacobian never formed: 3N²(k+1) multiply-adds, the floor of any method that
    applies D to k vectors without structure beyond the blocks);
    `dense=True`: the benchmark baseline, which forms D(x) (dim × dim) at every stage and
    multiplies it with Q. Both share the same RK4 arithmetic, so they follow the same trajectory.

    `tangent_dtype="float32"` (blockwise only): the tangents Q, their RK4 sums and their two
    matmuls (on float32 copies of the couplings) are float32, while the state keeps float64
    (two matrix-vector products per stage in the couplings' dtype). The trajectory is then
    the float64 one; only the linear tangent flow is rounded to float32, and since Q is
    re-orthonormalised every few steps (QR in float64) its rounding errors do not grow: the
    exponents agree with the float64 ones to ~1e-5 (tests/test_prx_lyapunov.py), for about
    half the cost (sgemm does twice the flops of dgemm per cycle).
    """

    def __init__(self, p: PRXParams, J: Couplings, k: int, I=None, dense: bool = False,
                 tangent_dtype: str = "float64"):
        self.p, self.J, self.dense = check_prx_params(p), _check_J(J), bool(dense)
        self.k = check_positive_int("k", k)
        self.I = _check_input(I, J.N)
        tdt = np.dtype(tangent_dtype)
        if tdt.name not in TANGENT_DTYPES:
            raise ValueError(f"tangent_dtype must be one of {TANGENT_DTYPES}; got {tangent_dtype!r}")
        if self.dense and tdt != np.float64:
            raise ValueError("tangent_dtype='float32' needs dense=False (the dense baseline is float64)")
        self.tangent_dtype = tdt
        # split: float32 tangents beside a float64 state (state columns leave the tangent matmuls)
        self.split = tdt == np.float32
        N, dim = J.N, state_dim(p, J.N)
        self.Qs, self.acc, self.dQ = (np.empty((dim, k), dtype=tdt) for _ in range(3))
        if self.split:
            self.Jzr_t, self.Jh_t = (M if M.dtype == np.float32 else M.astype(np.float32) for M in (J.Jzr, J.Jh))
            self.A, self.B, self.H = (np.empty((N, k), dtype=np.float32) for _ in range(3))
            self.gate = np.empty((2 * N, k), dtype=np.float32)
        else:
            # the matmul operands in the couplings' dtype (float32 couplings: only the products are float32)
            self.A, self.B, self.H = (np.empty((N, k + 1), dtype=J.dtype) for _ in range(3))
            self.gate = np.empty((2 * N, k + 1), dtype=J.dtype)
        self.D = np.empty((dim, dim)) if dense else None

    def _stage(self, x: np.ndarray, Q: np.ndarray, out: np.ndarray) -> np.ndarray:
        p, J, N = self.p, self.J, self.J.N
        if self.dense:
            L = _local(x, p, J, self.I)
            np.matmul(_dense_from_local(L, p, J, False), Q, out=out)
            return _rhs_from_local(L, p, N)
        if self.split:
            return self._stage_split(x, Q, out)
        A, B, H, gate = self.A, self.B, self.H, self.gate
        h, z = x[:N], x[N:2 * N]
        Qh, Qz = Q[:N], Q[N:2 * N]
        ph = np.tanh(p.g_h * h + p.beta_h)
        dph = p.g_h * (1.0 - ph * ph)
        A[:, 0] = ph
        np.multiply(dph[:, None], Qh, out=A[:, 1:])
        _matmul_cols(J.Jzr, A, gate)
        if p.algebraic_r:
            r, Qr = gate[N:, 0], gate[N:, 1:]
        else:
            r, Qr = x[2 * N:], Q[2 * N:]
        sz = expit(p.alpha_z * z - p.beta_z)
        sr = expit(p.alpha_r * r - p.beta_r)
        B[:, 0] = sr * ph
        np.multiply((sr * dph)[:, None], Qh, out=B[:, 1:])
        B[:, 1:] += (ph * p.alpha_r * sr * (1 - sr))[:, None] * Qr
        _matmul_cols(J.Jh, B, H)
        eta = H[:, 0] if self.I is None else H[:, 0] + self.I
        f = np.empty_like(x)
        f[:N] = sz * (eta - h)
        oh = out[:N]
        np.subtract(H[:, 1:], Qh, out=oh)
        oh *= sz[:, None]
        oh += (p.alpha_z * sz * (1 - sz) * (eta - h))[:, None] * Qz
        f[N:2 * N] = (gate[:N, 0] - z) / p.tau_z
        np.subtract(gate[:N, 1:], Qz, out=out[N:2 * N])
        out[N:2 * N] *= 1.0 / p.tau_z
        if not p.algebraic_r:
            f[2 * N:] = (gate[N:, 0] - r) / p.tau_r
            np.subtract(gate[N:, 1:], Qr, out=out[2 * N:])
            out[2 * N:] *= 1.0 / p.tau_r
        return f

    def _stage_split(self, x: np.ndarray, Q: np.ndarray, out: np.ndarray) -> np.ndarray:
        """The blockwise stage with a float64 state (matrix-vector products) and float32 tangents
        (their own matmuls on float32 couplings); same equations as the fused stage."""
        p, J, N = self.p, self.J, self.J.N
        A, B, H, gate = self.A, self.B, self.H, self.gate
        f32 = np.float32
        h, z = x[:N], x[N:2 * N]
        Qh, Qz = Q[:N], Q[N:2 * N]
        ph = np.tanh(p.g_h * h + p.beta_h)
        dph = p.g_h * (1.0 - ph * ph)
        drive = matvec(J.Jzr, ph)
        np.multiply(dph.astype(f32)[:, None], Qh, out=A)
        _matmul_cols(self.Jzr_t, A, gate)
        if p.algebraic_r:
            r, Qr = drive[N:], gate[N:]
        else:
            r, Qr = x[2 * N:], Q[2 * N:]
        sz = expit(p.alpha_z * z - p.beta_z)
        sr = expit(p.alpha_r * r - p.beta_r)
        eta = matvec(J.Jh, sr * ph)
        if self.I is not None:
            eta = eta + self.I
        np.multiply((sr * dph).astype(f32)[:, None], Qh, out=B)
        B += (ph * p.alpha_r * sr * (1 - sr)).astype(f32)[:, None] * Qr
        _matmul_cols(self.Jh_t, B, H)
        f = np.empty_like(x)
        f[:N] = sz * (eta - h)
        oh = out[:N]
        np.subtract(H, Qh, out=oh)
        oh *= sz.astype(f32)[:, None]
        oh += (p.alpha_z * sz * (1 - sz) * (eta - h)).astype(f32)[:, None] * Qz
        f[N:2 * N] = (drive[:N] - z) / p.tau_z
        np.subtract(gate[:N], Qz, out=out[N:2 * N])
        out[N:2 * N] *= f32(1.0 / p.tau_z)
        if not p.algebraic_r:
            f[2 * N:] = (drive[N:] - r) / p.tau_r
            np.subtract(gate[N:], Qr, out=out[2 * N:])
            out[2 * N:] *= f32(1.0 / p.tau_r)
        return f

    def step(self, x: np.ndarray, Q: np.ndarray, dt: float):
        """One RK4 step; returns the new x and updates Q in place (and returns it)."""
        h2 = 0.5 * dt
        Qs, acc, dQ = self.Qs, self.acc, self.dQ
        f1 = self._stage(x, Q, acc)  # acc = k1
        np.multiply(acc, h2, out=Qs)
        Qs += Q
        f2 = self._stage(x + h2 * f1, Qs, dQ)  # dQ = k2
        np.multiply(dQ, h2, out=Qs)
        Qs += Q
        acc += dQ
        acc += dQ
        f3 = self._stage(x + h2 * f2, Qs, dQ)  # dQ = k3
        np.multiply(dQ, dt, out=Qs)
        Qs += Q
        acc += dQ
        acc += dQ
        f4 = self._stage(x + dt * f3, Qs, dQ)  # dQ = k4
        acc += dQ
        acc *= dt / 6.0
        Q += acc
        return x + dt / 6.0 * (f1 + 2 * f2 + 2 * f3 + f4), Q


class SharedCouplingStepper:
    """RK4 for m networks that share the couplings J but not their gains and biases (one column
    each: g_h, α_z, α_r, β_h, β_z, β_r per column; τ_z, τ_r common), each with one tangent vector.

    Same equations as `TangentStepper` (state and tangent as stacked columns, the Jacobian never
    formed), but one [J^z; J^r] matmul on (N × 2m) and one J^h matmul per stage serve all m runs:
    at N ≥ 500 a single run is memory-bound (it reads 3N² floats per stage for two columns), so
    a parameter grid on one network costs little more than one run. X, Q: (dim, m).
    """

    def __init__(self, params, J: Couplings, I=None):
        params = [check_prx_params(p) for p in params]
        if not params:
            raise ValueError("params must hold at least one PRXParams; got an empty list")
        taus = {(p.tau_z, p.tau_r) for p in params}
        if len(taus) != 1:
            raise ValueError(f"params must share tau_z and tau_r; got {sorted(taus)}")
        self.J, self.I, self.params = _check_J(J), _check_input(I, J.N), params
        self.tau_z, self.tau_r = params[0].tau_z, params[0].tau_r
        self.algebraic_r = params[0].algebraic_r
        self.dim, self.m = state_dim(params[0], J.N), len(params)
        col = {k: np.array([getattr(p, k) for p in params])[None, :]
               for k in ("g_h", "alpha_z", "alpha_r", "beta_h", "beta_z", "beta_r")}
        self.g_h, self.alpha_z, self.alpha_r = col["g_h"], col["alpha_z"], col["alpha_r"]
        self.beta_h, self.beta_z, self.beta_r = col["beta_h"], col["beta_z"], col["beta_r"]

    def set_beta_h(self, beta_h: float) -> None:
        """Switch every run's β_h (the input step of spec §4.9)."""
        self.beta_h = np.full((1, self.m), check_float("beta_h", beta_h))

    def local(self, X: np.ndarray) -> dict:
        """h, z, r, σ_z and η of every run (columns), as `_local` does for one state."""
        N = self.J.N
        h, z = X[:N], X[N:2 * N]
        ph = np.tanh(self.g_h * h + self.beta_h)
        drive = matvec(self.J.Jzr, ph)
        r = drive[N:] if self.algebraic_r else X[2 * N:]
        sr = expit(self.alpha_r * r - self.beta_r)
        eta = matvec(self.J.Jh, sr * ph)
        if self.I is not None:
            eta = eta + self.I[:, None]
        return dict(h=h, z=z, r=r, drive=drive, eta=eta, sz=expit(self.alpha_z * z - self.beta_z))

    def rhs(self, X: np.ndarray) -> np.ndarray:
        L, N = self.local(X), self.J.N
        F = np.empty_like(X)
        F[:N] = L["sz"] * (L["eta"] - L["h"])
        F[N:2 * N] = (L["drive"][:N] - L["z"]) / self.tau_z
        if not self.algebraic_r:
            F[2 * N:] = (L["drive"][N:] - L["r"]) / self.tau_r
        return F

    def rk4_step(self, X: np.ndarray, dt: float) -> np.ndarray:
        """State only (transients)."""
        k1 = self.rhs(X)
        k2 = self.rhs(X + 0.5 * dt * k1)
        k3 = self.rhs(X + 0.5 * dt * k2)
        k4 = self.rhs(X + dt * k3)
        return X + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)

    def _stage(self, X: np.ndarray, Q: np.ndarray):
        J, N, m = self.J, self.J.N, self.m
        h, z, Qh, Qz = X[:N], X[N:2 * N], Q[:N], Q[N:2 * N]
        ph = np.tanh(self.g_h * h + self.beta_h)
        dph = self.g_h * (1.0 - ph * ph)
        gate = matvec(J.Jzr, np.hstack([ph, dph * Qh]))  # (2N, 2m): drives | their tangents
        if self.algebraic_r:
            r, Qr = gate[N:, :m], gate[N:, m:]
        else:
            r, Qr = X[2 * N:], Q[2 * N:]
        sz = expit(self.alpha_z * z - self.beta_z)
        sr = expit(self.alpha_r * r - self.beta_r)
        Hh = matvec(J.Jh, np.hstack([sr * ph, sr * dph * Qh + ph * self.alpha_r * sr * (1 - sr) * Qr]))
        eta = Hh[:, :m] if self.I is None else Hh[:, :m] + self.I[:, None]
        F, dQ = np.empty_like(X), np.empty_like(Q)
        F[:N] = sz * (eta - h)
        dQ[:N] = sz * (Hh[:, m:] - Qh) + self.alpha_z * sz * (1 - sz) * (eta - h) * Qz
        F[N:2 * N] = (gate[:N, :m] - z) / self.tau_z
        dQ[N:2 * N] = (gate[:N, m:] - Qz) / self.tau_z
        if not self.algebraic_r:
            F[2 * N:] = (gate[N:, :m] - r) / self.tau_r
            dQ[2 * N:] = (gate[N:, m:] - Qr) / self.tau_r
        return F, dQ

    def step(self, X: np.ndarray, Q: np.ndarray, dt: float):
        """One RK4 step of every run's (state, tangent); returns new (X, Q)."""
        f1, q1 = self._stage(X, Q)
        f2, q2 = self._stage(X + 0.5 * dt * f1, Q + 0.5 * dt * q1)
        f3, q3 = self._stage(X + 0.5 * dt * f2, Q + 0.5 * dt * q2)
        f4, q4 = self._stage(X + dt * f3, Q + dt * q3)
        return (X + dt / 6.0 * (f1 + 2 * f2 + 2 * f3 + f4), Q + dt / 6.0 * (q1 + 2 * q2 + 2 * q3 + q4))


def rk4_tangent_step(x: np.ndarray, Q: np.ndarray, dt: float, p: PRXParams, J: Couplings, I=None,
                     dense: bool = False):
    """One RK4 step of the joint system (ẋ = f(x), Q̇ = D(x) Q), the Jacobian applied stage by
    stage at the stage state (`TangentStepper`; Q is not modified). `dense=True` forms D at every
    stage (benchmark baseline only)."""
    Q = np.array(Q, dtype=float, ndmin=2, copy=True)
    if Q.shape[0] != state_dim(p, J.N):
        Q = Q.T
    st = TangentStepper(p, J, Q.shape[1], I, dense)
    return st.step(np.asarray(x, dtype=float), Q, float(dt))


def _check_time(T, dt, record_every=None):
    T = check_float("T", T, 0.0, lo_open=True)
    dt = check_float("dt", dt, 0.0, lo_open=True)
    if dt > T:
        raise ValueError(f"dt must be <= T; got dt={dt}, T={T}")
    n_steps = int(round(T / dt))
    rec = None if record_every is None else check_positive_int("record_every", record_every)
    return T, dt, n_steps, rec


def simulate(p: PRXParams, J: Couplings, T: float, dt: float = 0.1, x0: np.ndarray | None = None,
             record_every: int = 1, I=None, seed: int = 0, init_scale: float = 1.0,
             progress: bool = False) -> Trajectory:
    """RK4 integration of the network for time T (n = round(T/dt) steps), recording every
    `record_every` steps (including t = 0). x0 defaults to `initial_state(p, N, seed, init_scale)`."""
    p, J = check_prx_params(p), _check_J(J)
    T, dt, n_steps, rec = _check_time(T, dt, record_every)
    N = J.N
    x = initial_state(p, N, seed, init_scale) if x0 is None else np.array(x0, dtype=float)
    if x.shape != (state_dim(p, N),):
        raise ValueError(f"x0 must have shape ({state_dim(p, N)},); got {x.shape}")
    I = _check_input(I, N)
    from ...progress import tqdm

    ts, hs, zs, rs = [], [], [], []

    def record(t, x):
        h, z, r = split_state(x, p, N)
        if r is None:  # τ_r = 0: r = J^r φ(h) needs the product (τ_r > 0: r is in the state, no products)
            r = _local(x, p, J, I)["r"]
        ts.append(t), hs.append(h.copy()), zs.append(z.copy()), rs.append(r.copy())

    record(0.0, x)
    for n in tqdm(range(1, n_steps + 1), disable=not progress, desc="simulate", leave=False):
        x = rk4_step(x, dt, p, J, I)
        if n % rec == 0:
            record(n * dt, x)
    if not np.all(np.isfinite(x)):
        raise FloatingPointError("simulation diverged (non-finite state); reduce dt")
    return Trajectory(np.array(ts), np.array(hs), np.array(zs), np.array(rs), x, p)


# ----------------------------------------------------------------------------- Gaussian averages
def gauss_avg(f, Delta, n: int | None = None):
    """⟨f⟩_Δ = ∫Dx f(√Δ x), vectorised over an array Δ ≥ 0: by the fine trapezoid rule
    (`mf.gauss_nodes`, resolves sharp gains) or, with `n`, by n-node Gauss–Hermite."""
    from ..rmt.quadrature import gauss_nodes, gh_nodes

    Delta = np.asarray(Delta, dtype=float)
    if not np.all(np.isfinite(Delta)) or np.any(Delta < 0):
        raise ValueError(f"Delta must be finite and >= 0; got {Delta!r}")
    x, w = gauss_nodes() if n is None else gh_nodes(int(n))
    return f(np.sqrt(Delta)[..., None] * x) @ w


def pair_avg(f, g, C0, C, n: int = 32, C0_g=None):
    """⟨f(x) g(y)⟩ for zero-mean Gaussians with Var x = C0 (Var y = C0_g, default C0), Cov = C.

    Spec §4.1: x = √(C0 − |C|) u + √|C| w, y = √(C0_g − |C|) v ± √|C| w (sign of C), then
    ∫Dw [∫Du f(x)] [∫Dv g(y)]; n nodes per axis, vectorised over an array C (in chunks of C values,
    so that memory stays ~50 MB per temporary even at the 512 nodes a sharp average can need).
    """
    from ..rmt.quadrature import gh_nodes

    C = np.asarray(C, dtype=float)
    C0 = float(C0)
    C0g = C0 if C0_g is None else float(C0_g)
    if not (np.isfinite(C0) and C0 >= 0 and np.isfinite(C0g) and C0g >= 0):
        raise ValueError(f"C0 must be finite and >= 0; got {C0!r}")
    if not np.all(np.isfinite(C)):
        raise ValueError("C must be finite")
    x, w = gh_nodes(int(n))
    flat = C.reshape(-1)
    chunk = max(1, 6_000_000 // (len(x) * len(x)))
    out = np.concatenate([_pair_avg_block(f, g, C0, C0g, flat[i:i + chunk], x, w, C0_g is None)
                          for i in range(0, max(flat.size, 1), chunk)]) if flat.size else np.zeros(0)
    return out.reshape(C.shape)[()]  # a float for a scalar C


def _pair_avg_block(f, g, C0, C0g, C, x, w, same_variance: bool):
    # the Cauchy-Schwarz bound can be violated by round-off: clip |C| to √(C0 C0_g)
    bound = math.sqrt(C0 * C0g)
    Ca = np.minimum(np.abs(C), min(C0, C0g, bound))
    sw = np.sqrt(Ca)[..., None] * x  # (..., n_w)
    su = np.sqrt(np.maximum(C0 - Ca, 0.0))[..., None, None] * x  # (..., 1, n_u)
    sv = np.sqrt(np.maximum(C0g - Ca, 0.0))[..., None, None] * x
    Fx = f(sw[..., :, None] + su) @ w  # (..., n_w)
    if g is f and same_variance:
        # same function and variance: the y-integral is Fx itself, at −w where C < 0 (the
        # Gauss-Hermite nodes are symmetric, so −w is the reversed node axis)
        Gy = np.where((C < 0)[..., None], Fx[..., ::-1], Fx)
    else:
        sign = np.where(C < 0, -1.0, 1.0)[..., None]
        Gy = g((sign * sw)[..., :, None] + sv) @ w
    return (Fx * Gy) @ w


# ----------------------------------------------------------------------------- integrator protocol
def memory_pulse(p: PRXParams, N: int, seed: int, pulse_amp: float = 1.0, pulse_time: float = 5.0,
                 hold_time: float = 50.0, reset_drive: float | None = None, reset_time: float = 5.0,
                 dt: float = 0.1, record_every: int = 5) -> dict:
    """Flexible integrator / memory reset (spec C11, F11: our operationalisation, not prototyped).

    From the zero state, a pulse I = pulse_amp·u (u a random unit-variance pattern) drives h for
    `pulse_time`; then the input is off for `hold_time`. m(t) = ⟨h(t), u⟩/N is the stored memory;
    retained = m(end of hold)/m(end of pulse). If `reset_drive` is given, a drive I_z = reset_drive
    of the z gate (opening the gates when α_z > 0) is applied during the last `reset_time` of the
    hold. Returns dict(t, m, retained, m_pulse_end).
    """
    p, N = check_prx_params(p), check_positive_int("N", N)
    for name, v in (("pulse_time", pulse_time), ("hold_time", hold_time), ("dt", dt), ("reset_time", reset_time)):
        check_float(name, v, 0.0, lo_open=True)
    check_float("pulse_amp", pulse_amp)
    if reset_drive is not None:
        check_float("reset_drive", reset_drive)
        if reset_time > hold_time:
            raise ValueError(f"reset_time must be <= hold_time; got {reset_time} > {hold_time}")
    J = make_couplings(N, seed)
    u = np.random.default_rng(check_seed(seed) + 31).standard_normal(N)
    x = np.zeros(state_dim(p, N))
    n_pulse, n_hold = int(round(pulse_time / dt)), int(round(hold_time / dt))
    n_reset_start = n_hold - int(round(reset_time / dt))
    ts, ms = [0.0], [0.0]

    def f(x, I, Iz):
        return _rhs_from_local(_local(x, p, J, I), p, N, Iz)

    m_pulse_end = 0.0
    for n in range(1, n_pulse + n_hold + 1):
        I = pulse_amp * u if n <= n_pulse else None
        Iz = (np.full(N, float(reset_drive)) if reset_drive is not None and n > n_pulse + n_reset_start else None)
        k1 = f(x, I, Iz)
        k2 = f(x + 0.5 * dt * k1, I, Iz)
        k3 = f(x + 0.5 * dt * k2, I, Iz)
        k4 = f(x + dt * k3, I, Iz)
        x = x + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
        m = float(x[:N] @ u / N)
        if n == n_pulse:
            m_pulse_end = m
        if n % record_every == 0:
            ts.append(n * dt), ms.append(m)
    return dict(t=np.array(ts), m=np.array(ms), m_pulse_end=m_pulse_end,
                retained=float(ms[-1] / m_pulse_end) if m_pulse_end != 0 else float("nan"))
