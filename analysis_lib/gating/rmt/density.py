"""Eigenvalue density inside the support for a rank-one variance profile (spec §4.5, derived).

M = D[d] + D[L] X D[R], X ~ N(0, s²/N), is similar to D[d] + D[LR] X, so with w_i = s² L_i² R_i²:
  1. s* ≥ 0 solves ⟨w/(|λ−d|² + w s*)⟩ = 1 (s* = 0 outside the support);
  2. g(λ) = ⟨(λ̄ − d̄)/(|λ−d|² + w s*)⟩ (the mean-field resolvent, (1/N) tr (λ − M)⁻¹);
  3. the fraction of eigenvalues inside a closed curve is (1/2πi)∮ g dλ.
"""
from __future__ import annotations

import numpy as np

from ..params import check_float, check_positive_int


def _check_dw(d, w):
    d = np.asarray(d, dtype=complex).reshape(-1)
    w = np.asarray(w, dtype=float).reshape(-1)
    if d.size == 0 or d.shape != w.shape:
        raise ValueError(f"d and w must be non-empty 1-D arrays of equal length; got {d.shape}, {w.shape}")
    if np.any(w < 0) or not np.all(np.isfinite(w)) or not np.all(np.isfinite(d)):
        raise ValueError("w must be finite and >= 0 and d finite")
    return d, w


def mf_resolvent_rank1(lam, d, w, tol: float = 1e-13, max_iter: int = 200):
    """(g(λ), s*(λ)) for an array of λ (steps 1-2 above).

    s* is found by Newton's method from s = 0, vectorised over λ: f(s) = ⟨w/(p + w s)⟩ − 1 is convex
    and decreasing, so Newton from the left converges monotonically (no bracketing needed).
    """
    d, w = _check_dw(d, w)
    lam = np.asarray(lam, dtype=complex)
    flat = lam.reshape(-1)
    p = np.abs(flat[:, None] - d[None, :]) ** 2
    s = np.zeros(flat.size)
    inside = (w[None, :] / p).mean(axis=1) > 1.0
    act = np.flatnonzero(inside)
    for _ in range(max_iter):
        if act.size == 0:
            break
        den = p[act] + w[None, :] * s[act, None]
        f = (w[None, :] / den).mean(axis=1) - 1.0
        fp = -(w[None, :] ** 2 / den ** 2).mean(axis=1)
        step = -f / fp
        s[act] += step
        done = np.abs(step) <= tol * np.maximum(1.0, s[act])
        act = act[~done]
    g = ((np.conj(flat)[:, None] - np.conj(d)[None, :]) / (p + w[None, :] * s[:, None])).mean(axis=1)
    return g.reshape(lam.shape), s.reshape(lam.shape)


def frac_in_disk(center: complex, radius: float, d, w, n_pts: int = 400) -> float:
    """Fraction of eigenvalues in the disk |λ − center| < radius: (1/2πi)∮ g dλ on the circle,
    trapezoid rule with n_pts points (spectrally accurate for the periodic integrand)."""
    radius = check_float("radius", radius, 0.0, lo_open=True)
    n_pts = check_positive_int("n_pts", n_pts, 8)
    theta = 2 * np.pi * (np.arange(n_pts) + 0.5) / n_pts
    e = np.exp(1j * theta)
    g, _ = mf_resolvent_rank1(complex(center) + radius * e, d, w)
    # dλ = i r e^{iθ} dθ, so (1/2πi)∮ g dλ = (r/2π) ∫ g e^{iθ} dθ.
    return float(np.real(radius * np.mean(g * e)))


def empirical_frac_in_disk(eigs, center: complex, radius: float) -> float:
    """Fraction of the given eigenvalues with |λ − center| < radius."""
    eigs = np.asarray(eigs)
    return float(np.mean(np.abs(eigs - center) < radius))


def rank1_gru_fixed_point(N: int, seed: int, s_h: float = 3.0, z_gain: float = 3.0, z_bias: float = -1.0,
                          r: float = 0.5):
    """The F9 synthetic case (our choice): z_i = σ(z_bias + z_gain ξ_i), h_i = φ(η_i), r ≡ const,
    Cho GRU at a fixed point with s_r = 0 (A = 0): J_d = D[1−z] + D[z(1−h²)] U_h D[r].
    Returns (J, d, w) with d = 1 − z and w = s_h² (z(1−h²))² r²."""
    from scipy.special import expit

    from ..params import check_seed

    N = check_positive_int("N", N)
    rng = np.random.default_rng(check_seed(seed))
    check_float("s_h", s_h, 0.0)
    check_float("r", r, 0.0, 1.0)
    check_float("z_gain", z_gain, 0.0)
    check_float("z_bias", z_bias)
    z = expit(z_bias + z_gain * rng.standard_normal(N))
    h = np.tanh(rng.standard_normal(N))
    B = z * (1 - h ** 2)
    U = s_h * rng.standard_normal((N, N)) / np.sqrt(N)
    J = (B[:, None] * U) * r
    J[np.diag_indices(N)] += 1 - z
    return J, 1 - z, s_h ** 2 * B ** 2 * r ** 2
