"""Dynamical mean-field theory (DMFT) of the PRX gated RNN and its maximum Lyapunov exponent.

Spec `gating_theory.md` §4.5-4.6 ([derived]; the paper's own algorithm is not known). Each unit
sees independent Gaussian fields η_h, ξ_z, ξ_r with ⟨η_h η_h'⟩ = C_σr(τ) C_φ(τ) and
⟨ξ_z ξ_z'⟩ = ⟨ξ_r ξ_r'⟩ = C_φ(τ); single unit ḣ = σ_z(z)(−h + η_h), (1 + τ_z∂_t) z = ξ_z,
(1 + τ_r∂_t) r = ξ_r, so C̃_z = C̃_φ/(1 + ω²τ_z²), C̃_r = C̃_φ/(1 + ω²τ_r²).

- `dmft_fourier` (α_z = 0, h Gaussian): (1 − s⁻²∂_τ²) C_h = C_σr C_φ, s = σ_z(0), solved by the
  map C_h → C_φ → C_r → C_σr → C̃_h = C̃_η/(1 + ω²/s²), accelerated by Anderson mixing.
- `dmft_mc` (α_z ≥ 0): Monte-Carlo path sampling of η_h and z by circulant embedding, exact
  exponential steps for h, damped update of C_φ.
- `mle_dmft` (α_z = 0, τ_r = 0): λ_max = s(√(−E_0) − 1), E_0 the ground state of
  H = −s⁻²∂_τ² + V(τ), V = −C_φ'(τ)[C_σr(τ) + C_φ(τ) C_σr'(τ)] (two-replica linearisation).
- `network_autocorr`: the simulated C_h(τ) of a finite network, for the comparison.
Only β_h = 0 is supported (zero-mean fields; nonzero β_h needs the asymptotes subtracted).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from scipy.linalg import eigh_tridiagonal
from scipy.special import expit

from . import model as prx
from ..params import check_float, check_positive_int, check_seed


@dataclass(frozen=True, eq=False)
class DMFTResult:
    """Correlation functions on the lag grid tau: C_h, C_phi, C_r, C_sr (= C_σr); converged,
    n_iter, residuals (per iteration), wall seconds, method ("fourier" | "mc"), params."""

    tau: np.ndarray
    C_h: np.ndarray
    C_phi: np.ndarray
    C_r: np.ndarray
    C_sr: np.ndarray
    converged: bool
    n_iter: int
    residuals: np.ndarray
    seconds: float
    method: str
    params: prx.PRXParams

    def at(self, tau: float) -> float:
        """C_h at lag τ (linear interpolation)."""
        return float(np.interp(tau, self.tau, self.C_h))

    @property
    def ratio20(self) -> float:
        """C_h(20)/C_h(0): the timescale summary of spec §4.8."""
        return self.at(20.0) / float(self.C_h[0])


def _need_dmft_params(p, alpha_z_zero: bool):
    p = prx.check_prx_params(p)
    if p.beta_h != 0:
        raise ValueError(f"beta_h must be 0 for the DMFT solvers (zero-mean fields); got {p.beta_h!r}")
    if alpha_z_zero and p.alpha_z != 0:
        raise ValueError(f"alpha_z must be 0 for the Fourier solver (use dmft_mc); got {p.alpha_z!r}")
    return p


def even_filter(C: np.ndarray, dtau: float, tau_f: float) -> np.ndarray:
    """C filtered by 1/(1 + ω²τ_f²) (the correlation of (1 + τ_f∂_t)⁻¹ applied to a process with
    correlation C): FFT of the even extension [C_0..C_{n−1}, C_{n−2}..C_1]. τ_f = 0 returns C."""
    if tau_f == 0:
        return C.copy()
    n = C.size
    ext = np.concatenate([C, C[-2:0:-1]])
    w = 2 * np.pi * np.fft.rfftfreq(ext.size, d=dtau)
    return np.fft.irfft(np.fft.rfft(ext) / (1 + (w * tau_f) ** 2), ext.size)[:n]


def _fns(p):
    g, ar, br = p.g_h, p.alpha_r, p.beta_r
    f_phi = lambda x: np.tanh(g * x)
    f_dphi = lambda x: g * (1 - np.tanh(g * x) ** 2)
    f_sr = lambda x: expit(ar * x - br)

    def f_dsr(x):
        s = expit(ar * x - br)
        return ar * s * (1 - s)

    return f_phi, f_dphi, f_sr, f_dsr


def _closure(C_phi: np.ndarray, p, dtau: float, n_nodes: int):
    """C_φ → (C_r, C_σr, C_η)."""
    _, _, f_sr, _ = _fns(p)
    C_r = even_filter(C_phi, dtau, p.tau_r)
    if C_r[0] <= 0.0:  # an iterate collapsing onto C ≡ 0: the filter can round C_r(0) to −1e-8
        return np.zeros_like(C_r), np.full_like(C_r, _fns(p)[2](0.0) ** 2), np.zeros_like(C_r)
    # beyond the last lag with |C_r| > 1e-10 C_r(0) the pair average is its C = 0 value ⟨σ_r⟩²
    # (to that accuracy): skip the quadrature there (most of the grid once C_r has decayed)
    big = np.nonzero(np.abs(C_r) > 1e-10 * abs(C_r[0]))[0]
    n_eval = int(big[-1]) + 1 if big.size else 1
    C_sr = np.empty_like(C_r)
    C_sr[:n_eval] = prx.pair_avg(f_sr, f_sr, C_r[0], C_r[:n_eval], n=n_nodes)
    C_sr[n_eval:] = prx.pair_avg(f_sr, f_sr, C_r[0], 0.0, n=n_nodes)
    return C_r, C_sr, C_sr * C_phi


def dmft_fourier(p: prx.PRXParams, n_tau: int = 2000, dtau: float = 0.05, damping: float = 0.3,
                 max_iter: int = 3000, tol: float = 1e-9, accel: str | None = "anderson", m_hist: int = 6,
                 C0_guess: float = 1.0, n_nodes: int = 32, C_init: np.ndarray | None = None,
                 progress: bool = False, collapse_below: float = 1e-10) -> DMFTResult:
    """Fourier DMFT at α_z = 0 (spec §4.5). Fixed-point map G: C_h → C_φ (pair average) → C_r
    (filter) → C_σr → C_η = C_σr C_φ → C̃_h = C̃_η/(1 + ω²/s²). `accel=None` is the plain damped
    iteration x ← x + damping·(G(x) − x); "anderson" is Anderson mixing (history m_hist) on the
    same residual. Starts from C_h = C0_guess·exp(−τ²/8), or from `C_init` (n_tau values: a warm
    start, e.g. the solution with fewer quadrature nodes); converged when max|G(x) − x| < tol·C_h(0).
    A collapse to C_h ≡ 0 (C_h(0) < collapse_below) means no time-dependent solution (converged=False,
    C_h ≡ 0 returned); an existence scan may stop a slow collapse early with a larger `collapse_below`.
    """
    p = _need_dmft_params(p, alpha_z_zero=True)
    n_tau = check_positive_int("n_tau", n_tau, 16)
    dtau = check_float("dtau", dtau, 0.0, lo_open=True)
    damping = check_float("damping", damping, 0.0, 1.0, lo_open=True)
    max_iter = check_positive_int("max_iter", max_iter)
    if accel not in (None, "anderson"):
        raise ValueError(f"accel must be None or 'anderson'; got {accel!r}")
    t0 = time.perf_counter()
    s = p.sigma_z0
    tau = np.arange(n_tau) * dtau
    f_phi = _fns(p)[0]

    def G(Ch):
        Cphi = prx.pair_avg(f_phi, f_phi, Ch[0], Ch, n=n_nodes)
        C_r, C_sr, C_eta = _closure(Cphi, p, dtau, n_nodes)
        return even_filter(C_eta, dtau, 1.0 / s), (Cphi, C_r, C_sr)

    if C_init is None:
        x = C0_guess * np.exp(-tau ** 2 / 8.0)
    else:
        x = np.array(C_init, dtype=float)
        if x.shape != (n_tau,) or not np.all(np.isfinite(x)):
            raise ValueError(f"C_init must be {n_tau} finite values (the lag grid); got shape {x.shape}")
    X_hist, F_hist, res = [], [], []
    converged = False
    from ...progress import tqdm

    it = 0
    collapsed = False
    for it in tqdm(range(1, max_iter + 1), disable=not progress, desc="dmft", leave=False):
        if x[0] < collapse_below:  # collapsed onto the zero solution (checked before G: C_r(0) ≈ 0 can round below 0)
            collapsed = True
            break
        gx, _ = G(x)
        f = gx - x
        r = float(np.max(np.abs(f)))
        res.append(r)
        if r < tol * max(x[0], 1e-12):
            converged = True
            break
        if accel is None:
            x = x + damping * f
            continue
        X_hist.append(x.copy()), F_hist.append(f.copy())
        if len(X_hist) > m_hist + 1:
            X_hist.pop(0), F_hist.pop(0)
        if len(X_hist) > 1 and (len(res) < 2 or r < 10 * min(res[-2:-1] + [np.inf])):
            dX = np.diff(np.array(X_hist), axis=0).T
            dF = np.diff(np.array(F_hist), axis=0).T
            gamma = np.linalg.lstsq(dF, f, rcond=None)[0]
            x_new = x + damping * f - (dX + damping * dF) @ gamma
        else:  # restart the history when the residual blew up
            X_hist, F_hist = [x.copy()], [f.copy()]
            x_new = x + damping * f
        # a correlation function must have C(0) ≥ |C(τ)|; keep the iterate admissible
        x = np.clip(x_new, -abs(x_new[0]), abs(x_new[0])) if x_new[0] > 0 else x + damping * f
    if collapsed:
        x = np.zeros_like(x)
        Cphi = C_r = C_sr = np.zeros_like(x)
    else:
        Cphi, C_r, C_sr = G(x)[1]
    return DMFTResult(tau, x, Cphi, C_r, C_sr, converged, it, np.array(res), time.perf_counter() - t0,
                      "fourier", p)


def particle_potential_ch0(p: prx.PRXParams, n_grid: int = 4000) -> float:
    """Independent check at α_z = 0, τ_r = 0 (SCS-like "particle in a potential", spec §4.5):
    C_h'' = s²(C_h − C_σr C_φ) with C_σr C_φ a function of (C_0, C) only, so
    ½(C')²/s² = ½C² − W(C; C_0) + const with ∂_C W = C_η(C; C_0). The decaying solution
    (C → 0, C' → 0 at τ → ∞ and C'(0) = 0) needs ½C_0² − W(C_0) = −W(0) + 0, i.e. the energy
    condition E(C_0) = ½C_0² − ∫_0^{C_0} C_η(c; C_0) dc = 0, solved for C_0 > 0 by brentq."""
    from scipy.integrate import trapezoid
    from scipy.optimize import brentq

    p = _need_dmft_params(p, alpha_z_zero=True)
    if p.tau_r != 0:
        raise ValueError(f"tau_r must be 0 for the particle-in-a-potential check; got {p.tau_r!r}")
    f_phi, _, f_sr, _ = _fns(p)

    def energy(C0):
        c = np.linspace(0.0, C0, n_grid)
        Cphi = prx.pair_avg(f_phi, f_phi, C0, c)
        Csr = prx.pair_avg(f_sr, f_sr, Cphi[-1], Cphi)
        return 0.5 * C0 ** 2 - trapezoid(Cphi * Csr, c)

    grid = np.geomspace(1e-3, 50.0, 60)
    E = np.array([energy(c) for c in grid])
    idx = np.nonzero((E[:-1] < 0) & (E[1:] >= 0))[0]
    if idx.size == 0:
        return 0.0
    i = idx[-1]
    return brentq(energy, grid[i], grid[i + 1], xtol=1e-12)


# ----------------------------------------------------------------------------- Monte Carlo DMFT
def _gp_paths(C: np.ndarray, n_paths: int, n_steps: int, rng) -> np.ndarray:
    """Stationary Gaussian paths with covariance C (lags 0..L−1, C → 0 at the end) by circulant
    embedding of size 2L (negative eigenvalues clipped); returns (n_paths, n_steps)."""
    L = C.size
    if n_steps > L:
        raise ValueError("n_steps must be <= len(C)")
    c = np.concatenate([C, [0.0], C[-1:0:-1]])
    lam = np.clip(np.fft.fft(c).real, 0.0, None)
    n_complex = (n_paths + 1) // 2
    xi = rng.standard_normal((n_complex, c.size)) + 1j * rng.standard_normal((n_complex, c.size))
    Z = np.fft.fft(np.sqrt(lam / c.size)[None, :] * xi, axis=1)
    return np.concatenate([Z.real, Z.imag])[:n_paths, :n_steps]


def _taper(C: np.ndarray, n_keep: int) -> np.ndarray:
    """Keep lags < n_keep, cosine-taper the last quarter of them to 0, zero beyond (noise control)."""
    out = np.zeros_like(C)
    out[:n_keep] = C[:n_keep]
    q = max(1, n_keep // 4)
    out[n_keep - q:n_keep] *= 0.5 * (1 + np.cos(np.linspace(0, np.pi, q)))
    return out


def dmft_mc(p: prx.PRXParams, M: int = 200, n_steps: int = 4096, dt: float = 0.1, n_iter: int = 30,
            damping: float = 0.5, transient: float = 100.0, n_avg: int = 5, seed: int = 0,
            C_phi0: np.ndarray | None = None, n_nodes: int = 32, progress: bool = False) -> DMFTResult:
    """Monte-Carlo DMFT (spec §4.5), valid for α_z ≥ 0. Each iteration: C_φ → C_z, C_r (filters),
    C_σr (pair average), C_η = C_σr C_φ → sample M paths η_h ~ GP(C_η), z ~ GP(C_z) → integrate
    h ← e^{−σ_z dt} h + (1 − e^{−σ_z dt}) η_h → measure C_φ, C_h after `transient` (FFT, tapered
    at half the window) → C_φ ← (1 − damping) C_φ + damping·measured. The returned C_h, C_φ are
    averages of the last `n_avg` iterations' measurements; residuals = max|ΔC_φ| per iteration.
    """
    from .lyapunov import autocorr

    p = _need_dmft_params(p, alpha_z_zero=False)
    M = check_positive_int("M", M, 2)
    n_steps = check_positive_int("n_steps", n_steps, 64)
    dt = check_float("dt", dt, 0.0, lo_open=True)
    n_iter = check_positive_int("n_iter", n_iter)
    damping = check_float("damping", damping, 0.0, 1.0, lo_open=True)
    transient = check_float("transient", transient, 0.0)
    n_tr = int(round(transient / dt))
    if n_tr >= n_steps - 32:
        raise ValueError(f"transient must leave at least 32 steps of the n_steps*dt = {n_steps * dt} window")
    n_avg = check_positive_int("n_avg", n_avg)
    t0 = time.perf_counter()
    rng = np.random.default_rng(check_seed(seed))
    tau = np.arange(n_steps) * dt
    n_meas = n_steps - n_tr
    n_keep = n_meas // 2
    C_phi = (0.5 * np.exp(-tau ** 2 / 8.0) if C_phi0 is None else np.asarray(C_phi0, float).copy())
    if C_phi.shape != (n_steps,):
        raise ValueError(f"C_phi0 must have shape ({n_steps},)")
    f_phi = _fns(p)[0]
    res, hist_h, hist_phi = [], [], []
    from ...progress import tqdm

    for it in tqdm(range(n_iter), disable=not progress, desc="dmft-mc", leave=False):
        C_r, C_sr, C_eta = _closure(C_phi, p, dt, n_nodes)
        eta = _gp_paths(C_eta, M, n_steps, rng)
        if p.alpha_z != 0:
            z = _gp_paths(even_filter(C_phi, dt, p.tau_z), M, n_steps, rng)
            decay = np.exp(-expit(p.alpha_z * z - p.beta_z) * dt)
        else:
            decay = np.full((M, n_steps), np.exp(-p.sigma_z0 * dt))
        h = np.empty((n_steps, M))
        hc = eta[:, 0].copy()
        for t in range(n_steps):
            hc = decay[:, t] * hc + (1 - decay[:, t]) * eta[:, t]
            h[t] = hc
        hm = h[n_tr:]
        Cphi_meas = np.zeros(n_steps)
        Cphi_meas[:n_keep] = autocorr(f_phi(hm), n_keep - 1, subtract_mean=False)
        Ch_meas = np.zeros(n_steps)
        Ch_meas[:n_keep] = autocorr(hm, n_keep - 1, subtract_mean=False)
        new = (1 - damping) * C_phi + damping * _taper(Cphi_meas, n_keep)
        res.append(float(np.max(np.abs(new - C_phi))))
        C_phi = new
        hist_h.append(Ch_meas), hist_phi.append(Cphi_meas)
    C_h = np.mean(hist_h[-n_avg:], axis=0)
    Cphi_out = np.mean(hist_phi[-n_avg:], axis=0)
    C_r, C_sr, _ = _closure(_taper(Cphi_out, n_keep), p, dt, n_nodes)
    return DMFTResult(tau[:n_keep], C_h[:n_keep], Cphi_out[:n_keep], C_r[:n_keep], C_sr[:n_keep],
                      True, n_iter, np.array(res), time.perf_counter() - t0, "mc", p)


# ----------------------------------------------------------------------------- DMFT Lyapunov exponent
def schrodinger_ground_state(V: np.ndarray, dtau: float, s: float = 1.0, extend: float = 1.0):
    """Even ground state of H = −s⁻²∂_τ² + V(τ) on the half-line: second-order finite differences
    on τ_j = j dτ, ψ'(0) = 0 (ghost point, symmetrised by ψ_0 → ψ_0/√2), Dirichlet at τ_max;
    `extend` > 1 continues V at its last value to extend·τ_max (the convergence check).
    Returns (E_0, ψ on the original grid)."""
    V = np.asarray(V, dtype=float)
    if V.ndim != 1 or V.size < 8 or not np.all(np.isfinite(V)):
        raise ValueError("V must be a finite 1-D array with at least 8 points")
    dtau = check_float("dtau", dtau, 0.0, lo_open=True)
    s = check_float("s", s, 0.0, lo_open=True)
    extend = check_float("extend", extend, 1.0)
    n = V.size
    Vx = np.concatenate([V, np.full(int(round((extend - 1) * n)), V[-1])])
    k = 1.0 / (s * dtau) ** 2
    d = 2 * k + Vx
    e = np.full(Vx.size - 1, -k)
    e[0] = -np.sqrt(2.0) * k
    E, psi = eigh_tridiagonal(d, e, select="i", select_range=(0, 0))
    v = psi[:n, 0].copy()
    v[0] *= np.sqrt(2.0)
    return float(E[0]), v * np.sign(v[0])


def dmft_potential(res: DMFTResult, n_nodes: int = 32) -> np.ndarray:
    """V(τ) = −C_φ'(τ)[C_σr(τ) + C_φ(τ) C_σr'(τ)] with C_φ' = ⟨φ'φ'⟩, C_σr' = ⟨σ_r'σ_r'⟩ (pair
    averages on the converged correlations; τ_r = 0 so C_r = C_φ)."""
    p = res.params
    _, f_dphi, _, f_dsr = _fns(p)
    C_dphi = prx.pair_avg(f_dphi, f_dphi, res.C_h[0], res.C_h, n=n_nodes)
    C_dsr = prx.pair_avg(f_dsr, f_dsr, res.C_r[0], res.C_r, n=n_nodes)
    return -C_dphi * (res.C_sr + res.C_phi * C_dsr)


@dataclass(frozen=True)
class DMFTLyapunov:
    """λ_max = s(√(−E_0) − 1); E0 and E0_doubled (τ_max doubled: convergence check); n_nodes:
    Gauss-Hermite nodes per axis of the potential's pair averages (converged, see `mle_dmft`)."""

    lam_max: float
    E0: float
    E0_doubled: float
    n_nodes: int = 32


def _double_nodes_until_converged(evaluate, rtol: float, max_nodes: int, what: str):
    """`evaluate(n)` → (λ, payload) for n = 32, 64, 128, … Gauss-Hermite nodes per axis, until λ
    changes by less than `rtol` (relative) from the previous n; returns (λ, payload, n)."""
    n, prev = 32, None
    while True:
        lam, payload = evaluate(n)
        if prev is not None and abs(lam - prev) <= rtol * max(abs(lam), 1e-12):
            return lam, payload, n
        if 2 * n > max_nodes:
            raise RuntimeError(f"{what} did not converge in the quadrature nodes (n = {n}: {lam:.5g}"
                               + ("" if prev is None else f", n = {n // 2}: {prev:.5g}") + "); raise max_nodes")
        prev, n = lam, 2 * n


def mle_dmft(res: DMFTResult, rtol: float = 1e-3, max_nodes: int = 1024) -> DMFTLyapunov:
    """DMFT maximum Lyapunov exponent (spec §4.6; exact at α_z = 0, τ_r → 0; [derived]).

    The potential's pair averages ⟨φ'φ'⟩ and ⟨σ_r'σ_r'⟩ are of sharply peaked functions (φ' has
    width ~1/g_h): 32 Gauss-Hermite nodes per axis put λ_max 17 % low at g_h = 6, α_r = 5. The node
    count therefore doubles from 32 until λ_max changes by less than `rtol` (relative; at most
    `max_nodes`, else an error)."""
    if not isinstance(res, DMFTResult):
        raise ValueError("res must be a DMFTResult")
    p = res.params
    if p.alpha_z != 0 or p.tau_r != 0:
        raise ValueError(f"mle_dmft needs alpha_z = 0 and tau_r = 0; got alpha_z={p.alpha_z}, tau_r={p.tau_r}")
    rtol = check_float("rtol", rtol, 0.0, lo_open=True)
    dtau = float(res.tau[1] - res.tau[0])
    s = p.sigma_z0

    def evaluate(n):
        V = dmft_potential(res, n_nodes=n)
        E0, _ = schrodinger_ground_state(V, dtau, s)
        return (s * (np.sqrt(-E0) - 1.0) if E0 < 0 else -s), (V, E0)

    lam, (V, E0), n = _double_nodes_until_converged(evaluate, rtol, max_nodes, "DMFT MLE")
    E0d, _ = schrodinger_ground_state(V, dtau, s, extend=2.0)
    return DMFTLyapunov(float(lam), E0, E0d, n)


def dmft_mle_converged(p: prx.PRXParams, rtol: float = 1e-3, max_nodes: int = 256,
                       **fourier_kw) -> tuple[DMFTResult, DMFTLyapunov]:
    """Fourier DMFT and its λ_max (α_z = 0, τ_r = 0) with the solver's quadrature converged too:
    the Gauss-Hermite node count of the pair averages doubles from 32 (each solve warm-started
    from the last) until λ_max changes by less than `rtol` (relative). At g_h = 6, α_r = 5, 32
    nodes put λ_max 2 % low through C_φ alone; `mle_dmft` converges the potential's nodes."""
    rtol = check_float("rtol", rtol, 0.0, lo_open=True)
    last: list = []  # the previous solution: the warm start of the next

    def evaluate(n):
        res = dmft_fourier(p, n_nodes=n, C_init=last[-1].C_h if last else None, **fourier_kw)
        last.append(res)
        lyap = mle_dmft(res, rtol=rtol)
        return lyap.lam_max, (res, lyap)

    _, (res, lyap), _ = _double_nodes_until_converged(evaluate, rtol, max_nodes, "DMFT λ_max (solver)")
    return res, lyap


# ----------------------------------------------------------------------------- simulation side
def network_autocorr(p: prx.PRXParams, N: int, seed: int, T: float = 600.0, dt: float = 0.1,
                     transient: float = 100.0, max_lag: float = 40.0, record_every: int = 1,
                     dtype: str = "float64", n_blocks: int = 1) -> dict:
    """Simulated C_h(τ) (population and time average; per-unit means subtracted only if β_h ≠ 0) after a transient,
    plus ⟨h²⟩ and var_h: the finite-N counterpart of the DMFT. Returns dict(tau, C_h, var_h).
    `dtype="float32"`: float32 couplings in the matrix products (`prx.Couplings`; the state stays
    float64): the same statistics (tests/test_prx_dmft.py), several times faster at N ≥ 500.
    `n_blocks` > 1: also C_h of each of that many contiguous windows of the kept trajectory
    (`C_h_blocks`, shape (n_blocks, lags)): their spread is the error bar of a one-trajectory estimate."""
    T = check_float("T", T, 0.0, lo_open=True)
    n_blocks = check_positive_int("n_blocks", n_blocks)
    transient = check_float("transient", transient, 0.0)
    if transient >= T:
        raise ValueError(f"transient must be < T; got {transient} >= {T}")
    J = prx.make_couplings(N, seed, dtype)
    traj = prx.simulate(p, J, T, dt, record_every=record_every, seed=seed + 1)
    keep = traj.t >= transient
    h = traj.h[keep]
    dt_rec = dt * record_every
    n_lag = int(round(max_lag / dt_rec))
    from .lyapunov import autocorr

    # β_h = 0: the population mean is 0, and subtracting each unit's finite-window time mean would
    # remove the slow (nearly frozen) variance at α_z > 0; the DMFT C_h(0) is ⟨h²⟩
    C = autocorr(h, n_lag, subtract_mean=p.beta_h != 0)
    out = dict(tau=np.arange(n_lag + 1) * dt_rec, C_h=C, var_h=float(np.var(h)), mean_sq=float(np.mean(h ** 2)))
    if n_blocks > 1:
        blocks = np.array_split(h, n_blocks, axis=0)
        if min(b.shape[0] for b in blocks) <= n_lag:
            raise ValueError(f"n_blocks = {n_blocks} leaves windows shorter than max_lag = {max_lag}")
        out["C_h_blocks"] = np.stack([autocorr(b, n_lag, subtract_mean=p.beta_h != 0) for b in blocks])
    return out
