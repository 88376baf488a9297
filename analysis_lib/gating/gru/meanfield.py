"""Static mean field of Cho-GRU fixed points, the lines L1 and L2, and the bistability probe.

Fixed points (z drops out): h = φ(U_h(r⊙h) + b_h), r = σ(U_r h + b_r). With independent U_h, U_r,
    Δ = E_x[φ²(b_h + √(s_h² R(Δ) Δ) x)],   R(Δ) = E_y[σ²(b_r + s_r √Δ y)]      (spec §4.7, derived)
Parametrised by the field variance q: Δ(q) = Φ(q) = E_x[φ²(b_h + √q x)] and
    s_h(q) = √(q / (R(Φ(q)) Φ(q))).
L1 (zero fixed point loses stability): s_h = 1/σ(b_r); L2 (saddle-node, first nonzero solution):
inf_{q>0} s_h(q) (our operationalisation of the spec's suggested method).
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import brentq, minimize_scalar
from scipy.special import expit

from ..params import ChoGRUParams, check_float, check_positive_int, check_seed
from ..rmt.quadrature import Phi, R_gate, _arr, gauss_nodes, gh_nodes  # noqa: F401 (re-exported)
from .models import gated_rnn


def sh_of_q(q, s_r: float, b_r: float, b_h: float = 0.0):
    """s_h(q) = √(q / (R(Φ(q)) Φ(q))): the gain at which field variance q is self-consistent."""
    q = _arr("q", q)
    if np.any(q <= 0):
        raise ValueError("q must be > 0")
    D = Phi(q, b_h)
    return np.sqrt(q / (R_gate(D, s_r, b_r) * D))


def mf_residual(Delta, s_h: float, s_r: float, b_r: float, b_h: float = 0.0):
    """Δ − E_x[φ²(b_h + √(s_h² R(Δ) Δ) x)]: zero at a mean-field fixed point."""
    Delta = _arr("Delta", Delta)
    check_float("s_h", s_h, 0.0)
    return Delta - Phi(s_h ** 2 * R_gate(Delta, s_r, b_r) * Delta, b_h)


def zero_fp_line(b_r) -> np.ndarray | float:
    """L1: s_h = 1/σ(b_r) = 1 + e^{−b_r}; the zero fixed point is stable iff s_h σ(b_r) < 1."""
    b = np.asarray(b_r, dtype=float)
    if not np.all(np.isfinite(b)):
        raise ValueError(f"b_r must be finite; got {b_r!r}")
    out = 1.0 + np.exp(-b)
    return float(out) if out.ndim == 0 else out


def _q_grid():
    return np.logspace(-6, 3, 400)


def _check_b_h(b_h):
    b_h = check_float("b_h", b_h)
    if b_h != 0.0:
        raise ValueError(f"b_h must be 0 (L1, L2 and the regions assume the zero fixed point); got {b_h!r}")
    return b_h


def saddle_node_line(s_r: float, b_r: float, b_h: float = 0.0, return_q: bool = False):
    """L2 = inf_{q>0} s_h(q): log-grid scan of q ∈ [1e-6, 1e3], refined by a bounded minimiser in log q.
    As q → 0, s_h(q) → L1, so L2 ≤ L1 (equality when the bifurcation is continuous, e.g. s_r = 0)."""
    check_float("s_r", s_r, 0.0)
    check_float("b_r", b_r)
    _check_b_h(b_h)
    q = _q_grid()
    s = sh_of_q(q, s_r, b_r, b_h)
    j = int(np.argmin(s))
    if j == 0:
        # The infimum sits at q → 0 (continuous transition, L2 = L1): evaluate the limit closely.
        q_min = 1e-12
        val = float(sh_of_q(q_min, s_r, b_r, b_h))
    else:
        lo, hi = np.log(q[max(j - 1, 0)]), np.log(q[min(j + 1, q.size - 1)])
        res = minimize_scalar(lambda lq: float(sh_of_q(np.exp(lq), s_r, b_r, b_h)), bounds=(lo, hi),
                              method="bounded", options={"xatol": 1e-10})
        val, q_min = float(min(res.fun, s[j])), float(np.exp(res.x))
    return (val, q_min) if return_q else val


def saddle_node_line_bisect(s_r: float, b_r: float, b_h: float = 0.0, tol: float = 1e-7) -> float:
    """Independent check of L2: bisection in s_h on the existence of a nonzero solution Δ* > 0,
    i.e. on max_{Δ ∈ [1e-9, 1]} F(Δ)/Δ ≥ 1 with F(Δ) = E_x[φ²(√(s_h² R(Δ) Δ) x)] (works in Δ, not q)."""
    check_float("s_r", s_r, 0.0)
    check_float("b_r", b_r)
    _check_b_h(b_h)
    lD = np.linspace(np.log(1e-9), 0.0, 300)

    def exists(s_h):
        ratio = lambda l: float(Phi(s_h ** 2 * R_gate(np.exp(l), s_r, b_r) * np.exp(l), b_h) / np.exp(l))
        vals = np.array([ratio(l) for l in lD])
        j = int(np.argmax(vals))
        if vals[j] >= 1:
            return True
        lo, hi = lD[max(j - 1, 0)], lD[min(j + 1, lD.size - 1)]
        res = minimize_scalar(lambda l: -ratio(l), bounds=(lo, hi), method="bounded", options={"xatol": 1e-10})
        return -res.fun >= 1

    lo, hi = 1.0, zero_fp_line(b_r) * (1 + 1e-9)
    while hi - lo > tol * hi:
        mid = 0.5 * (lo + hi)
        if exists(mid):
            hi = mid
        else:
            lo = mid
    return 0.5 * (lo + hi)


def mf_branches(s_h: float, s_r: float, b_r: float, b_h: float = 0.0) -> np.ndarray:
    """Sorted nonzero mean-field solutions Δ* at gain s_h: roots of s_h(q) = s_h on either side of
    the minimiser of s_h(q) (two in region II, L2 < s_h < L1; one above L1; none below L2)."""
    s_h = check_float("s_h", s_h, 0.0)
    L2, q_min = saddle_node_line(s_r, b_r, b_h, return_q=True)
    if s_h < L2:
        return np.array([])
    g = lambda lq: float(sh_of_q(np.exp(lq), s_r, b_r, b_h)) - s_h
    roots = []
    lq_min = np.log(q_min)
    lo = np.log(1e-12)
    if g(lo) > 0 and g(lq_min) < 0:
        roots.append(brentq(g, lo, lq_min, xtol=1e-14))
    hi = lq_min + 1.0
    while g(hi) < 0 and hi < np.log(1e12):
        hi += 2.0
    if g(lq_min) < 0 and g(hi) > 0:
        roots.append(brentq(g, lq_min, hi, xtol=1e-14))
    return np.sort(Phi(np.exp(np.array(roots)), b_h)) if roots else np.array([])


def mf_branch_curves(s_r: float, b_r: float, s_h_max: float = 25.0, n: int = 300):
    """Both branches Δ*(s_h) traced through q: returns (s_h(q), Φ(q), is_upper) on a q-grid."""
    check_float("s_h_max", s_h_max, 1.0)
    check_positive_int("n", n, 10)
    L2, q_min = saddle_node_line(s_r, b_r, return_q=True)
    q = np.logspace(-6, 4, n)
    s = sh_of_q(q, s_r, b_r)
    keep = s <= s_h_max
    return s[keep], Phi(q[keep]), (q >= q_min)[keep]


def region_of(s_h: float, s_r: float, b_r: float) -> str:
    """'I' (s_h < L2: only the stable zero FP), 'II' (L2 < s_h < L1: bistable), 'III' (s_h > L1)."""
    s_h = check_float("s_h", s_h, 0.0)
    if s_h > zero_fp_line(b_r):
        return "III"
    return "II" if s_h > saddle_node_line(s_r, b_r) else "I"


def bistability_probe(params: ChoGRUParams, N: int, n_steps: int = 2000, init_stds=(0.05, 1.0),
                      seed: int = 0, dt: float | None = None) -> np.ndarray:
    """⟨h²⟩ after `n_steps` from initial states h0 = std·ξ, one per entry of `init_stds`, all in one
    network (weights from `seed`); the runs are batched as columns of one state matrix."""

    if not isinstance(params, ChoGRUParams):
        raise ValueError(f"params must be a ChoGRUParams; got {type(params).__name__}")
    stds = np.asarray(init_stds, dtype=float).reshape(-1)
    if stds.size == 0 or np.any(stds <= 0) or not np.all(np.isfinite(stds)):
        raise ValueError(f"init_stds must be positive finite numbers; got {init_stds!r}")
    model = gated_rnn("cho", params, N, check_seed(seed), dt)
    xi = np.random.default_rng([seed, 1]).standard_normal((model.dim, stds.size))
    x = model.simulate(xi * stds[None, :], check_positive_int("n_steps", n_steps))
    return np.mean(x ** 2, axis=0)
