"""Lyapunov spectra by repeated QR, participation ratio, autocorrelation, adjoint growth.

Spec `gating_theory.md` §4.7-4.8, §4.10 (standard numerics; our operationalisation):
- k tangent vectors Q (dim × k) are integrated with the state by RK4, the Jacobian applied
  blockwise at every stage (`prx.jmp`, never formed); every `qr_every` steps Q = Q̃R and
  log|R_ii| is accumulated after a transient; λ_i = Σ log|R_ii| / (time measured).
- Invariant: Σ of all exponents = time average of tr D(x).
- PR = (tr C)² / tr(C²) of the N × N covariance of h; C_h(τ) by zero-padded FFT.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import model as prx
from ..params import check_float, check_positive_int, check_seed


@dataclass(frozen=True, eq=False)
class LyapunovResult:
    """exponents (k,) in decreasing order; mle_running (n_qr,) running estimate of λ_1;
    trace_mean: time average of tr D over the measured window (NaN unless requested);
    h, z, r (n_rec, N) recorded after the transient (empty unless record_every; r = J^r φ(h) when
    τ_r = 0); t (n_rec,);
    rms_speed: rms |ḣ| over the recorded samples; x_final: final state; T, dt, transient."""

    exponents: np.ndarray
    mle_running: np.ndarray
    trace_mean: float
    h: np.ndarray
    z: np.ndarray
    r: np.ndarray
    t: np.ndarray
    rms_speed: float
    x_final: np.ndarray
    T: float
    dt: float
    transient: float

    @property
    def mle(self) -> float:
        return float(self.exponents[0])


def qr_lyapunov_generic(step, x0: np.ndarray, k: int, n_steps: int, dt: float, qr_every: int = 10,
                        seed: int = 0) -> np.ndarray:
    """Top-k Lyapunov exponents of any flow given its joint step (x, Q) → (x', Q') over dt:
    QR every `qr_every` steps, λ_i = Σ log|R_ii| / (n_steps dt), sorted decreasingly."""
    x = np.array(x0, dtype=float)
    k = check_positive_int("k", k)
    n_steps = check_positive_int("n_steps", n_steps)
    qr_every = check_positive_int("qr_every", qr_every)
    Q, _ = np.linalg.qr(np.random.default_rng(check_seed(seed)).standard_normal((x.size, k)))
    log_sum = np.zeros(k)
    for n in range(1, n_steps + 1):
        x, Q = step(x, Q)
        if n % qr_every == 0 or n == n_steps:
            Q, R = np.linalg.qr(Q)
            d = np.diag(R)
            log_sum += np.log(np.abs(d))
            Q *= np.sign(d)[None, :]
    return np.sort(log_sum / (n_steps * dt))[::-1]


def lyapunov_qr(p: prx.PRXParams, J: prx.Couplings, k: int = 1, T: float = 300.0, dt: float = 0.05,
                transient: float = 100.0, qr_every: int = 10, x0: np.ndarray | None = None,
                seed: int = 0, init_scale: float = 1.0, I=None, record_every: int | None = None,
                with_trace: bool = False, dense: bool = False, progress: bool = False,
                tangent_dtype: str = "float64") -> LyapunovResult:
    """Top-k Lyapunov exponents of the PRX network (spec §4.7).

    The state is first integrated for `transient` time units (no tangent vectors), then state
    and Q for T time units with QR every `qr_every` steps. `dense=True` forms the Jacobian at
    every RK4 stage (the benchmark baseline; same arithmetic otherwise). `record_every` (steps)
    records h, z along the measured window for PR, variance and autocorrelation.
    `tangent_dtype="float32"` integrates the tangent vectors in float32 beside the float64 state
    (`prx.TangentStepper`; QR and log|R_ii| sums stay float64): same trajectory, exponents within
    ~1e-5 of the float64 ones, about half the cost at N ≥ 300.
    """
    p = prx.check_prx_params(p)
    prx._check_J(J)
    N = J.N
    dim = prx.state_dim(p, N)
    k = check_positive_int("k", k)
    if k > dim:
        raise ValueError(f"k must be <= state dimension {dim}; got {k}")
    T, dt, n_steps, rec = prx._check_time(T, dt, record_every)
    transient = check_float("transient", transient, 0.0)
    qr_every = check_positive_int("qr_every", qr_every)
    I = prx._check_input(I, N)
    x = prx.initial_state(p, N, seed, init_scale) if x0 is None else np.array(x0, dtype=float)
    if x.shape != (dim,):
        raise ValueError(f"x0 must have shape ({dim},); got {x.shape}")
    from ...progress import tqdm

    for _ in tqdm(range(int(round(transient / dt))), disable=not progress, desc="transient", leave=False):
        x = prx.rk4_step(x, dt, p, J, I)
    rng = np.random.default_rng(check_seed(seed) + 7919)
    Q, _ = np.linalg.qr(rng.standard_normal((dim, k)))
    log_sum = np.zeros(k)
    running, hs, zs, rs, ts, speeds = [], [], [], [], [], []
    tr_acc, tr_n = 0.0, 0
    stepper = prx.TangentStepper(p, J, k, I, dense=dense, tangent_dtype=tangent_dtype)
    tdt = stepper.tangent_dtype
    Q = np.ascontiguousarray(Q, dtype=tdt)
    for n in tqdm(range(1, n_steps + 1), disable=not progress, desc="lyapunov", leave=False):
        x, Q = stepper.step(x, Q, dt)
        if with_trace:
            tr_acc += prx.trace_jacobian(x, p, J, I)
            tr_n += 1
        if n % qr_every == 0 or n == n_steps:
            Q, R = np.linalg.qr(Q.astype(np.float64, copy=False))
            d = np.diag(R)
            log_sum += np.log(np.abs(d))
            # keep a consistent orientation so Q is a smooth function of time
            Q *= np.sign(d)[None, :]
            Q = np.ascontiguousarray(Q, dtype=tdt)
            running.append(log_sum[0] / (n * dt))
        if rec is not None and n % rec == 0:
            L = prx._local(x, p, J, I)
            hs.append(L["h"].copy()), zs.append(L["z"].copy()), rs.append(L["r"].copy()), ts.append(n * dt)
            speeds.append(np.mean((L["sz"] * (L["eta"] - L["h"])) ** 2))
    if not np.all(np.isfinite(x)):
        raise FloatingPointError("integration diverged (non-finite state); reduce dt")
    exps = np.sort(log_sum / (n_steps * dt))[::-1]
    return LyapunovResult(
        exponents=exps, mle_running=np.array(running), trace_mean=(tr_acc / tr_n if with_trace else float("nan")),
        h=np.array(hs).reshape(-1, N), z=np.array(zs).reshape(-1, N), r=np.array(rs).reshape(-1, N), t=np.array(ts),
        rms_speed=float(np.sqrt(np.mean(speeds))) if speeds else float("nan"), x_final=x, T=T, dt=dt,
        transient=transient)


def mle_run(p: prx.PRXParams, N: int, seed: int, T: float = 300.0, dt: float = 0.05, transient: float = 100.0,
            init_scale: float = 1.0, record_every: int | None = 10, beta_h_after: float | None = None,
            k: int = 1, n_trace_units: int = 0, dtype: str = "float64") -> dict:
    """One network (couplings from `seed`), top-k exponents plus summary statistics, for `al.sweep`.

    Returns dict(mle, exponents, var_h (variance over units and the recorded window, spec §3),
    pr (participation ratio of h), rms_speed (rms ḣ), frozen_fraction (σ_z < 1e-3), mean_sq_h).
    `beta_h_after` runs one transient with the given β_h, then switches β_h to that value (input
    step, C9) and measures after a second transient; network and initial condition are the same.
    var_h is taken over the whole recorded window (after the transient). `n_trace_units` > 0 adds
    traces = dict(t, h, sigma_z, sigma_r) of the first units (figure F1 reuses these runs).
    `dtype="float32"`: float32 couplings in the matrix products (`prx.Couplings`; state, tangent
    and RK4 sums float64): several times faster at N ≥ 500; the trajectory then separates from the
    float64 one after the chaotic divergence time, the statistics agree (tests/test_prx_lyapunov.py).
    """
    J = prx.make_couplings(N, seed, dtype)
    p_run = p if beta_h_after is None else p.replace(beta_h=float(beta_h_after))
    x0 = prx.initial_state(p, N, seed + 1, init_scale)
    if beta_h_after is not None:
        # first a transient without the input (small initial conditions decay), then the step
        for _ in range(int(round(transient / dt))):
            x0 = prx.rk4_step(x0, dt, p, J)
    res = lyapunov_qr(p_run, J, k=k, T=T, dt=dt, transient=transient, x0=x0, seed=seed,
                      record_every=record_every)
    return _run_summary(res.exponents, res.h, res.z, res.r, res.t, res.rms_speed, p, p_run, n_trace_units)


def _run_summary(exponents, h, z, r, t, rms_speed, p, p_run, n_trace_units: int = 0) -> dict:
    """The `mle_run` dict from one run's exponents and recorded (n_rec, N) h, z, r."""
    N = h.shape[1] if h.ndim == 2 else 0
    sz = prx.sig(z, p.alpha_z, p.beta_z) if z.size else np.zeros(0)
    out = dict(mle=float(exponents[0]), exponents=exponents, var_h=float(np.var(h)) if h.size else float("nan"),
               pr=participation_ratio(h) if h.shape[0] > 2 else float("nan"), rms_speed=rms_speed,
               frozen_fraction=float(np.mean(sz < 1e-3)) if sz.size else float("nan"),
               mean_sq_h=float(np.mean(h ** 2)) if h.size else float("nan"))
    if n_trace_units > 0 and h.size:
        u = slice(0, min(int(n_trace_units), N))
        out["traces"] = dict(t=t, h=h[:, u], sigma_z=sz[:, u], sigma_r=prx.sig(r[:, u], p_run.alpha_r, p_run.beta_r))
    return out


def mle_runs(params, N: int, seed: int, T: float = 300.0, dt: float = 0.05, transient: float = 100.0,
             init_scales=1.0, record_every: int | None = 10, beta_h_after: float | None = None,
             n_trace_units=0, dtype: str = "float64") -> list[dict]:
    """`mle_run` for several parameter sets on the same network (couplings from `seed`), integrated
    side by side as the columns of one `prx.SharedCouplingStepper` (top exponent only, k = 1).

    Same protocol, initial states and initial tangent as `mle_run` for each entry, so each result
    equals `mle_run(params[i], N, seed, ...)` up to floating-point rounding (the batched matmuls sum
    in another order; over long chaotic runs the trajectories then separate, the statistics do not).
    `init_scales` and `n_trace_units` are one value or one per run; `beta_h_after` is common;
    `dtype` as in `mle_run`.
    """
    params = [prx.check_prx_params(p) for p in params]
    m = len(params)
    scales = np.broadcast_to(np.asarray(init_scales, dtype=float), (m,))
    n_units = np.broadcast_to(np.asarray(n_trace_units, dtype=int), (m,))
    T, dt, n_steps, rec = prx._check_time(T, dt, record_every)
    transient = check_float("transient", transient, 0.0)
    J = prx.make_couplings(N, seed, dtype)
    st = prx.SharedCouplingStepper(params, J)
    N = J.N
    X = np.stack([prx.initial_state(p, N, seed + 1, s) for p, s in zip(params, scales)], axis=1)
    n_transient = int(round(transient / dt))
    if beta_h_after is not None:
        for _ in range(n_transient):  # first transient without the input, then the step
            X = st.rk4_step(X, dt)
        st.set_beta_h(beta_h_after)
    for _ in range(n_transient):
        X = st.rk4_step(X, dt)
    # lyapunov_qr's initial tangent (its seed), the same for every run
    q0, _ = np.linalg.qr(np.random.default_rng(check_seed(seed) + 7919).standard_normal((st.dim, 1)))
    Q = np.repeat(q0, m, axis=1)
    log_sum = np.zeros(m)
    hs, zs, rs, ts, speeds = [], [], [], [], []
    for n in range(1, n_steps + 1):
        X, Q = st.step(X, Q, dt)
        if n % 10 == 0 or n == n_steps:  # lyapunov_qr's default qr_every
            norms = np.linalg.norm(Q, axis=0)
            log_sum += np.log(norms)
            Q = Q / norms
        if rec is not None and n % rec == 0:
            L = st.local(X)
            hs.append(L["h"].copy()), zs.append(L["z"].copy()), rs.append(L["r"].copy()), ts.append(n * dt)
            speeds.append(np.mean((L["sz"] * (L["eta"] - L["h"])) ** 2, axis=0))
    bad = [i for i in range(m) if not np.all(np.isfinite(X[:, i]))]
    if bad:
        raise FloatingPointError(f"integration diverged (non-finite state) for runs {bad}; reduce dt")
    exps = log_sum / (n_steps * dt)
    H, Z, R = (np.array(a).reshape(-1, N, m) for a in (hs, zs, rs))
    t, S = np.array(ts), np.array(speeds).reshape(-1, m)
    return [_run_summary(exps[i:i + 1], H[:, :, i], Z[:, :, i], R[:, :, i], t,
                         float(np.sqrt(np.mean(S[:, i]))) if S.size else float("nan"), p,
                         p if beta_h_after is None else p.replace(beta_h=float(beta_h_after)), int(n_units[i]))
            for i, p in enumerate(params)]


def participation_ratio(h: np.ndarray) -> float:
    """PR = (tr C)² / tr(C²), C the N × N covariance of h (rows = time samples)."""
    h = np.asarray(h, dtype=float)
    if h.ndim != 2 or h.shape[0] < 2:
        raise ValueError(f"h must be a (n_samples >= 2, N) array; got shape {h.shape}")
    X = h - h.mean(axis=0)
    # tr C and tr C² from the smaller Gram matrix: same nonzero eigenvalues
    G = X @ X.T if X.shape[0] < X.shape[1] else X.T @ X
    trC = np.trace(G)
    trC2 = np.sum(G * G)
    return float(trC ** 2 / trC2) if trC2 > 0 else float("nan")


def autocorr(x: np.ndarray, max_lag: int, subtract_mean: bool = True) -> np.ndarray:
    """C(τ) = ⟨x_i(t) x_i(t+τ)⟩ over units i and times t (rows = time), lags 0..max_lag, by
    zero-padded FFT (unbiased: divided by the number of overlapping pairs)."""
    x = np.asarray(x, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ValueError(f"x must be (n_times,) or (n_times, n_units); got shape {x.shape}")
    n = x.shape[0]
    max_lag = check_positive_int("max_lag", max_lag, 0)
    if max_lag >= n:
        raise ValueError(f"max_lag must be < number of time samples {n}; got {max_lag}")
    if subtract_mean:
        x = x - x.mean(axis=0)
    nfft = 1 << int(np.ceil(np.log2(2 * n)))
    F = np.fft.rfft(x, nfft, axis=0)
    ac = np.fft.irfft(np.abs(F) ** 2, nfft, axis=0)[: max_lag + 1].mean(axis=1)
    return ac / (n - np.arange(max_lag + 1))


def correlation_time(C: np.ndarray, dt: float) -> float:
    """First τ with C(τ)/C(0) < 1/e (spec §4.8); inf if never."""
    C = np.asarray(C, dtype=float)
    below = np.nonzero(C / C[0] < np.exp(-1))[0]
    return float(below[0] * dt) if below.size else float("inf")


def crowding_fraction(exponents: np.ndarray, delta: float = 0.01) -> float:
    """Fraction of Lyapunov exponents with |λ| < δ."""
    e = np.asarray(exponents, dtype=float)
    check_float("delta", delta, 0.0, lo_open=True)
    return float(np.mean(np.abs(e) < delta))


def kaplan_yorke(exponents: np.ndarray) -> float:
    """Kaplan-Yorke dimension j + Σ_{i≤j} λ_i / |λ_{j+1}|, j the largest with a non-negative partial sum."""
    e = np.sort(np.asarray(exponents, dtype=float))[::-1]
    cs = np.cumsum(e)
    if cs[0] < 0:
        return 0.0
    j = int(np.nonzero(cs >= 0)[0][-1])
    if j + 1 >= e.size:
        return float(e.size)
    return float(j + 1 + cs[j] / abs(e[j + 1]))


# ----------------------------------------------------------------------------- adjoint (spec §4.10)
def _vjp_from_local(L: dict, a: np.ndarray, p: prx.PRXParams, J: prx.Couplings) -> np.ndarray:
    """aᵀ D(x) (the transpose of `prx._jmp_from_local`)."""
    N = J.N
    ah, az = a[:N], a[N:2 * N]
    u = J.Jh.T @ (L["sz"] * ah)  # gradient w.r.t. the presynaptic signal
    out = np.zeros_like(a)
    if p.algebraic_r:
        g_r = L["ph"] * L["dsr"] * u  # w.r.t. r = J^r φ(h)
        out[:N] = L["dph"] * (L["sr"] * u + J.Jz.T @ (az / p.tau_z) + J.Jr.T @ g_r) - L["sz"] * ah
    else:
        ar = a[2 * N:]
        out[:N] = L["dph"] * (L["sr"] * u + J.Jz.T @ (az / p.tau_z) + J.Jr.T @ (ar / p.tau_r)) - L["sz"] * ah
        out[2 * N:] = L["ph"] * L["dsr"] * u - ar / p.tau_r
    out[N:2 * N] = L["dsz"] * (L["eta"] - L["h"]) * ah - az / p.tau_z
    return out


def adjoint_growth(p: prx.PRXParams, J: prx.Couplings, T: float = 60.0, dt: float = 0.05,
                   transient: float = 100.0, seed: int = 0) -> dict:
    """Adjoint check (spec §4.10, derived): Euler simulation x_{n+1} = x_n + dt f(x_n) for time T
    after a transient, L = ½‖x(T)‖², costate a_n = a_{n+1} + dt D(x_n)ᵀ a_{n+1} swept backwards
    (explicit VJP, no autograd); returns t (time before T), log‖a‖, its fitted slope, and the
    forward tangent MLE on the same Euler trajectory."""
    p = prx.check_prx_params(p)
    prx._check_J(J)
    T, dt, n_steps, _ = prx._check_time(T, dt)
    x = prx.initial_state(p, J.N, seed, 1.0)
    for _ in range(int(round(transient / dt))):
        x = x + dt * prx.rhs(x, p, J)
    xs = [x]
    rng = np.random.default_rng(check_seed(seed) + 1)
    v = rng.standard_normal(x.size)
    v /= np.linalg.norm(v)
    log_fwd = 0.0
    for _ in range(n_steps):
        L = prx._local(x, p, J)
        v = v + dt * prx._jmp_from_local(L, v[:, None], p, J, False)[:, 0]
        nv = np.linalg.norm(v)
        log_fwd += np.log(nv)
        v /= nv
        x = x + dt * prx._rhs_from_local(L, p, J.N)
        xs.append(x)
    a = xs[-1].copy()
    log_norm = np.zeros(n_steps + 1)
    log_norm[0] = np.log(np.linalg.norm(a))
    acc = 0.0
    for n in range(n_steps - 1, -1, -1):
        L = prx._local(xs[n], p, J)
        a = a + dt * _vjp_from_local(L, a, p, J)
        na = np.linalg.norm(a)
        acc += np.log(na)
        a /= na
        log_norm[n_steps - n] = acc + log_norm[0]
    t_back = np.arange(n_steps + 1) * dt
    half = n_steps // 4  # skip the alignment transient of the costate
    slope = float(np.polyfit(t_back[half:], log_norm[half:], 1)[0])
    return dict(t=t_back, log_norm=log_norm, slope=slope, mle_forward=float(log_fwd / (n_steps * dt)))
