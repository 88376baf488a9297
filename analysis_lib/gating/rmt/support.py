"""The support condition ρ(T(λ)) = 1 of the Jacobian spectrum (spec §4.2), edges and curves.

λ is in the support of the (large-N) spectrum iff ρ(T(λ)) ≥ 1, where T is the k×k matrix of
`DiagStats` (see `stats`). The fast paths use the pole form of T and the closed-form Perron
root of a non-negative 2×2 matrix, ρ = (a+d)/2 + √(((a−d)/2)² + bc); k ≥ 3 uses batched
`eigvals`; statistics without a pole form use a batched k×k inverse of K_i(λ).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy.optimize import brentq

from .stats import DiagStats


def _check_stats(stats) -> DiagStats:
    if not isinstance(stats, DiagStats):
        raise ValueError(f"stats must be a DiagStats (from model.diag_stats or a *_stats builder); got {type(stats).__name__}")
    return stats


def perron_root(T: np.ndarray) -> np.ndarray:
    """Spectral radius of non-negative k×k matrices T (..., k, k)."""
    k = T.shape[-1]
    if k == 1:
        return T[..., 0, 0].copy()
    if k == 2:
        a, b, c, d = T[..., 0, 0], T[..., 0, 1], T[..., 1, 0], T[..., 1, 1]
        half = 0.5 * (a - d)
        return 0.5 * (a + d) + np.sqrt(half * half + b * c)
    return np.abs(np.linalg.eigvals(T)).max(axis=-1)


def T_matrix(lam, stats: DiagStats, method: str = "auto", chunk: int = 4096) -> np.ndarray:
    """T(λ) for an array of λ (any shape): returns shape lam.shape + (k, k).

    method "poles": T = const + Σ_m ⟨W_m / |λ − c_m|²⟩ (needs the pole form);
    "blocks": T_ac = ⟨Σ_b |(K_i(λ)⁻¹)_ab|² s_bc² ℓ_{i,bc}²⟩ by batched inverses (generic);
    "auto": poles when available.
    """
    stats = _check_stats(stats)
    if method not in ("auto", "poles", "blocks"):
        raise ValueError(f"method must be 'auto', 'poles' or 'blocks'; got {method!r}")
    if method == "poles" and not stats.has_poles:
        raise ValueError("method='poles' needs DiagStats with a pole form (pole_centers/pole_weights)")
    lam = np.asarray(lam, dtype=complex)
    flat = lam.reshape(-1)
    k, N = stats.k, stats.N
    out = np.empty((flat.size, k, k))
    use_poles = method == "poles" or (method == "auto" and stats.has_poles)
    if use_poles:
        W = stats.pole_weights.reshape(stats.pole_weights.shape[0], N, k * k) / N
        for start in range(0, flat.size, chunk):
            sl = slice(start, start + chunk)
            acc = np.broadcast_to(stats.const.reshape(1, k * k), (flat[sl].size, k * k)).copy()
            for m in range(W.shape[0]):
                diff = flat[sl, None] - stats.pole_centers[m][None, :]
                inv_p = 1.0 / (diff.real ** 2 + diff.imag ** 2)
                acc += inv_p @ W[m]
            out[sl] = acc.reshape(-1, k, k)
    else:
        V = stats.variance_profile()
        block_chunk = max(1, chunk // max(1, N // 64))
        for start in range(0, flat.size, block_chunk):
            sl = slice(start, start + block_chunk)
            K = stats.K0[None] + flat[sl, None, None, None] * stats.K1[None]
            Kinv2 = np.abs(np.linalg.inv(K)) ** 2  # (G, N, k, k)
            out[sl] = np.einsum("gnab,nbc->gac", Kinv2, V) / N
    return out.reshape(lam.shape + (k, k))


def _finite_or_inf(rho: np.ndarray) -> np.ndarray:
    # λ exactly on a pole gives inf·0 = nan in the pole sums; ρ is +inf there.
    rho[np.isnan(rho)] = np.inf
    return rho


def rho_T(lam, stats: DiagStats, method: str = "auto") -> np.ndarray:
    """ρ(T(λ)) for an array of complex λ (any shape). λ is in the support iff ρ ≥ 1."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return _finite_or_inf(perron_root(T_matrix(lam, stats, method)))


def rho_T_grid(re: np.ndarray, im: np.ndarray, stats: DiagStats) -> np.ndarray:
    """ρ(T(x + iy)) on the rectangular grid re × im, shape (len(im), len(re)).

    Fast path (pole form): |λ − c|² = (x − Re c)² + (y − Im c)² separates, so each grid row
    costs one add and one reciprocal over (len(re), N) plus a small mat-mul with the weights.
    """
    stats = _check_stats(stats)
    re = np.asarray(re, dtype=float).reshape(-1)
    im = np.asarray(im, dtype=float).reshape(-1)
    if re.size == 0 or im.size == 0:
        raise ValueError("re and im must be non-empty 1-D arrays")
    if not stats.has_poles:
        X, Y = np.meshgrid(re, im)
        return rho_T(X + 1j * Y, stats)
    k, N = stats.k, stats.N
    W = stats.pole_weights.reshape(stats.pole_weights.shape[0], N, k * k) / N
    T = np.empty((im.size, re.size, k * k))
    T[:] = stats.const.reshape(k * k)
    buf = np.empty((min(_X_BLOCK, re.size), N))
    with np.errstate(divide="ignore", invalid="ignore"):
        _fill_T_grid(T, W, stats, re, im, buf)
        return _finite_or_inf(perron_root(T.reshape(im.size, re.size, k, k)))


_X_BLOCK = 64  # grid columns per block: keeps the (block, N) buffer in cache for N ~ 1000


def _fill_T_grid(T, W, stats, re, im, buf):
    for m in range(W.shape[0]):
        c = stats.pole_centers[m]
        dx2 = (re[:, None] - c.real[None, :]) ** 2
        dy2 = (im[:, None] - c.imag[None, :]) ** 2
        real_centers = not np.any(c.imag)
        for j in range(im.size):
            y_term = dy2[j, 0] if real_centers else dy2[j][None, :]
            for s in range(0, re.size, _X_BLOCK):
                b = buf[: min(_X_BLOCK, re.size - s)]
                np.add(dx2[s:s + _X_BLOCK], y_term, out=b)
                np.reciprocal(b, out=b)
                T[j, s:s + _X_BLOCK] += b @ W[m]


def rho_T_loop(re: np.ndarray, im: np.ndarray, stats: DiagStats, closed_form: bool = False) -> np.ndarray:
    """Reference: the same pole-form formula, written plainly with a Python loop over λ:
    T = const + mean_i(W_i / |λ − c_i|²), ρ = max |eig(T)| (benchmark baseline). With
    `closed_form=True` ρ uses the closed-form Perron root (a faster loop, for information)."""
    stats = _check_stats(stats)
    if not stats.has_poles:
        raise ValueError("rho_T_loop needs DiagStats with a pole form")
    k = stats.k
    out = np.empty((len(im), len(re)))
    with np.errstate(divide="ignore", invalid="ignore"):
        for j, y in enumerate(im):  # deliberately one λ at a time
            for i, x in enumerate(re):
                lam = complex(x, y)
                T = stats.const.copy()
                for m in range(stats.pole_centers.shape[0]):
                    p = np.abs(lam - stats.pole_centers[m]) ** 2
                    T = T + (stats.pole_weights[m] / p[:, None, None]).mean(axis=0)
                if closed_form:
                    out[j, i] = perron_root(T.reshape(1, k, k))[0]
                else:
                    out[j, i] = np.abs(np.linalg.eigvals(T)).max()
    return out


def support_grid(stats: DiagStats, extent: Sequence[float], n_grid: int = 200):
    """(re, im, log ρ(T)) on an n_grid × n_grid grid over extent = (x0, x1, y0, y1).

    The grid is offset by an irrational fraction of a cell so it never hits a pole (λ = 1 − z_i
    at slow units, λ = 0 for the LSTM) exactly; log ρ is returned because ρ diverges at poles.
    """
    x0, x1, y0, y1 = _check_extent(extent)
    if not isinstance(n_grid, (int, np.integer)) or n_grid < 4:
        raise ValueError(f"n_grid must be an integer >= 4; got {n_grid!r}")
    off = 0.318309886
    re = np.linspace(x0, x1, n_grid) + off * (x1 - x0) / n_grid
    im = np.linspace(y0, y1, n_grid) + off * 0.731 * (y1 - y0) / n_grid
    with np.errstate(divide="ignore"):
        return re, im, np.log(rho_T_grid(re, im, stats))


def spectral_curve(stats: DiagStats, extent: Sequence[float], n_grid: int = 200) -> list[np.ndarray]:
    """The spectral curve ρ(T(λ)) = 1 as a list of (n, 2) polylines (contour of log ρ at 0)."""
    import contourpy

    re, im, logrho = support_grid(stats, extent, n_grid)
    gen = contourpy.contour_generator(re, im, np.where(np.isfinite(logrho), logrho, 50.0))
    return [np.asarray(line) for line in gen.lines(0.0)]


def _check_extent(extent) -> tuple[float, float, float, float]:
    try:
        x0, x1, y0, y1 = (float(v) for v in extent)
    except (TypeError, ValueError):
        raise ValueError(f"extent must be (x0, x1, y0, y1) with x0 < x1, y0 < y1; got {extent!r}") from None
    if not (x0 < x1 and y0 < y1):
        raise ValueError(f"extent must be (x0, x1, y0, y1) with x0 < x1, y0 < y1; got {extent!r}")
    return x0, x1, y0, y1


def _outer_root(g, r_min: float) -> float:
    """Largest r > r_min with g(r) = ρ − 1 = 0, for g decreasing on (r_min, ∞)."""
    lo = r_min + 1e-9 * max(1.0, abs(r_min))
    if g(lo) < 0:
        return r_min
    hi = max(2 * abs(r_min), 1.0) + 1.0
    while g(hi) > 0:
        hi *= 2
        if hi > 1e8:
            raise RuntimeError("ρ(T) does not fall below 1: check the statistics")
    return brentq(g, lo, hi, xtol=1e-10, rtol=1e-10)


def rightmost_edge(stats: DiagStats) -> float:
    """Largest real x with ρ(T(x)) = 1: the right edge of the support.

    Beyond the rightmost pole every |x − c_i| grows, so ρ(T(x)) decreases and the root is unique.
    """
    stats = _check_stats(stats)
    if not stats.has_poles:
        raise ValueError("rightmost_edge needs DiagStats with a pole form")
    cmax = float(np.max(stats.pole_centers.real))
    return _outer_root(lambda x: float(rho_T(np.array([x + 0j]), stats)[0]) - 1.0, cmax)


def radius_edge(stats: DiagStats, n_rays: int = 72) -> float:
    """Largest |λ| in the support: max over `n_rays` directions of the outer root along the ray."""
    stats = _check_stats(stats)
    if not stats.has_poles:
        raise ValueError("radius_edge needs DiagStats with a pole form")
    if not isinstance(n_rays, (int, np.integer)) or n_rays < 4:
        raise ValueError(f"n_rays must be an integer >= 4; got {n_rays!r}")
    rmax = float(np.max(np.abs(stats.pole_centers)))
    best = 0.0
    for theta in np.linspace(0, np.pi, n_rays // 2 + 1):  # the support is symmetric under λ → λ̄
        e = np.exp(1j * theta)
        r = _outer_root(lambda r: float(rho_T(np.array([r * e]), stats)[0]) - 1.0, rmax)
        best = max(best, r)
    return best


def outside_fraction(eigs: np.ndarray, stats: DiagStats) -> float:
    """Fraction of eigenvalues with ρ(T(λ)) < 1, i.e. outside the predicted support."""
    eigs = np.asarray(eigs)
    if eigs.ndim != 1 or eigs.size == 0:
        raise ValueError("eigs must be a non-empty 1-D array of eigenvalues")
    with np.errstate(divide="ignore"):
        return float(np.mean(rho_T(eigs, stats) < 1.0))


# ---------------------------------------------------------------------- zero state (spec §4.3)
def gru_zero_radius(params) -> float:
    """Cho GRU at h = 0 (b_h = 0): disk centred 1 − z0 with radius z0 σ(b_r) s_h, so the spectral
    radius is (1 − z0) + z0 σ(b_r) s_h, z0 = σ(b_z) [derived]."""
    from scipy.special import expit

    if params.b_h != 0:
        raise ValueError(f"b_h must be 0 for the zero state to be a fixed point; got {params.b_h!r}")
    z0 = expit(params.b_z)
    return float((1 - z0) + z0 * expit(params.b_r) * params.s_h)


def gru_zero_center(params) -> float:
    from scipy.special import expit

    return float(1 - expit(params.b_z))


def lstm_zero_radius(params) -> float:
    """LSTM at (h, c) = 0 (b_g = 0): N eigenvalues at 0 plus a disk centred f0 = σ(b_f) with radius
    s_g σ(b_i) σ(b_o), so the spectral radius is f0 + s_g σ(b_i) σ(b_o) [derived]."""
    from scipy.special import expit

    if params.b_g != 0:
        raise ValueError(f"b_g must be 0 for the zero state to be a fixed point; got {params.b_g!r}")
    return float(expit(params.b_f) + params.s_g * expit(params.b_i) * expit(params.b_o))
