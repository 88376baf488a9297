r"""Theory of label-noise SGD with heavy-ball momentum (spec labels M2-M7, all *derived*).

These formulas are a reconstruction consistent with the paper's abstract and its public
reviews; they are not quoted from the paper, and constants/notation may differ from it.

Conventions: learning rate `eta`, momentum `beta`, label-noise standard deviation `eps`,
curvature of a normal mode `lam`. The update is (M1)
    pi_{k+1} = beta pi_k - g_k,   w_{k+1} = w_k + eta pi_{k+1}.
"""
from __future__ import annotations

import numpy as np

from ._validate import in_range, positive


def effective_learning_rate(eta, beta):
    r"""$\eta_\mathrm{eff} = \eta/(1-\beta)$: the step size felt by slow (drift) directions."""
    positive("eta", eta)
    in_range("beta", beta, 0.0, 1.0, hi_open=True)
    return np.asarray(eta, float) / (1.0 - np.asarray(beta, float))


def ar2_stationary_variance(eta, lam, beta, s2=1.0):
    r"""(M2) Exact stationary variance of the AR(2) normal mode
    $x_{k+1} = (1+\beta-\eta\lambda)x_k - \beta x_{k-1} - \eta\zeta_k$, Var ζ = s²:

    $$\mathrm{Var}\,x = \frac{\eta s^2 (1+\beta)}{(1-\beta)\,\lambda\,(2(1+\beta)-\eta\lambda)}
      \approx \frac{\eta s^2}{2\lambda(1-\beta)}\quad(\eta\lambda\ll 1).$$

    Requires stability, $0 < \eta\lambda < 2(1+\beta)$.
    """
    positive("eta", eta)
    positive("lam", lam)
    positive("s2", s2, allow_zero=True)
    in_range("beta", beta, 0.0, 1.0, hi_open=True)
    eta, lam, beta = (np.asarray(a, float) for a in (eta, lam, beta))
    if np.any(eta * lam >= 2 * (1 + beta)):
        raise ValueError("eta*lam must be < 2(1+beta) (heavy-ball stability bound); got "
                         f"eta*lam={eta * lam!r}, 2(1+beta)={2 * (1 + beta)!r}")
    return eta * s2 * (1 + beta) / ((1 - beta) * lam * (2 * (1 + beta) - eta * lam))


def ar2_relaxation_time(eta, lam, beta):
    r"""Relaxation time of the AR(2) mode, $-1/\ln\max|z|$ over the roots of
    $z^2-(1+\beta-\eta\lambda)z+\beta=0$. Limits: $(1-\beta)/(\eta\lambda)$ (overdamped),
    $2/(1-\beta)$ (underdamped)."""
    positive("eta", eta)
    positive("lam", lam)
    in_range("beta", beta, 0.0, 1.0, hi_open=True)
    eta, lam, beta = np.broadcast_arrays(*(np.asarray(a, float) for a in (eta, lam, beta)))
    a = 1 + beta - eta * lam
    disc = (a * a - 4 * beta).astype(complex)
    z1 = (a + np.sqrt(disc)) / 2
    z2 = (a - np.sqrt(disc)) / 2
    rho = np.maximum(np.abs(z1), np.abs(z2))
    with np.errstate(divide="ignore"):
        return np.where(rho < 1, -1.0 / np.log(np.where(rho < 1, rho, 0.5)), np.inf)


def tau1(beta):
    r"""(M3) Transverse relaxation / momentum memory time, $\tau_1 \approx 2/(1-\beta)$ steps."""
    in_range("beta", beta, 0.0, 1.0, hi_open=True)
    return 2.0 / (1.0 - np.asarray(beta, float))


def tau2(eta, beta, eps, c=1.0):
    r"""(M5) Drift time along Γ, $\tau_2 = c\,(1-\beta)^2/(\eta^2\varepsilon^2)$ steps (c: O(1) prefactor)."""
    positive("eta", eta)
    positive("eps", eps)
    positive("c", c)
    in_range("beta", beta, 0.0, 1.0, hi_open=True)
    return c * (1.0 - np.asarray(beta, float)) ** 2 / (np.asarray(eta, float) * np.asarray(eps, float)) ** 2


def flow_time(k, eta, beta):
    r"""(M4) Flow time of step k: $t = k\,\eta^2/(1-\beta)^2$."""
    positive("k", k, allow_zero=True)
    positive("eta", eta)
    in_range("beta", beta, 0.0, 1.0, hi_open=True)
    return np.asarray(k, float) * np.asarray(eta, float) ** 2 / (1.0 - np.asarray(beta, float)) ** 2


def steps_for_flow_time(t, eta, beta):
    r"""Inverse of `flow_time`: $k = t(1-\beta)^2/\eta^2$ (rounded to an integer)."""
    positive("t", t, allow_zero=True)
    k = np.asarray(t, float) * (1.0 - np.asarray(beta, float)) ** 2 / np.asarray(eta, float) ** 2
    return np.rint(k).astype(int)


def toy_flow_s(t, s0, eps):
    r"""(M4 on the toy $f=uv$) Closed-form flow $ds/dt = -(\varepsilon^2/2)\tanh 2s$:
    $\sinh 2s(t) = \sinh(2s_0)\,e^{-\varepsilon^2 t}$."""
    positive("t", t, allow_zero=True)
    positive("eps", eps)
    return 0.5 * np.arcsinh(np.sinh(2 * np.asarray(s0, float)) * np.exp(-np.asarray(eps, float) ** 2 * np.asarray(t, float)))


def toy_flow_steps(s_thr, s0, eta, beta, eps):
    r"""Parameter-free τ2 branch of the toy: steps to reach |s| = s_thr along the flow,
    $k = (1-\beta)^2 \ln(\sinh 2s_0/\sinh 2s_\mathrm{thr})/(\eta^2\varepsilon^2)$
    (our operationalisation of a guide line; valid for $1-\beta \gg (\eta\varepsilon)^{2/3}$)."""
    positive("s_thr", s_thr)
    positive("s0", s0)
    if np.any(np.asarray(s_thr) >= np.asarray(s0)):
        raise ValueError(f"s_thr must be < s0; got s_thr={s_thr!r}, s0={s0!r}")
    positive("eta", eta)
    positive("eps", eps)
    in_range("beta", beta, 0.0, 1.0, hi_open=True)
    logratio = np.log(np.sinh(2 * np.asarray(s0, float)) / np.sinh(2 * np.asarray(s_thr, float)))
    return (1 - np.asarray(beta, float)) ** 2 * logratio / (np.asarray(eta, float) * np.asarray(eps, float)) ** 2


def one_minus_beta_star(eta, eps, C=1.0):
    r"""(M6) Optimal momentum, $1-\beta^* = C(\eta\varepsilon)^{2/3}$ (C is not predicted)."""
    positive("eta", eta)
    positive("eps", eps)
    positive("C", C)
    return C * (np.asarray(eta, float) * np.asarray(eps, float)) ** (2.0 / 3.0)


def toy_crossing_one_minus_beta(eta, eps, s0, s_thr):
    r"""Where τ1 = 2/(1-β) meets the parameter-free toy τ2 line (our operationalisation):
    $(1-\beta)^3 = 2(\eta\varepsilon)^2/\ln(\sinh 2s_0/\sinh 2s_\mathrm{thr})$."""
    k1 = toy_flow_steps(s_thr, s0, 1.0, 0.0, 1.0)  # = ln ratio
    return (2.0 * (np.asarray(eta, float) * np.asarray(eps, float)) ** 2 / k1) ** (1.0 / 3.0)


def optimal_time(eta, eps, C=1.0):
    r"""(M7) $T^* \propto (\eta\varepsilon)^{-2/3}$, here $\tau_1(\beta^*) = (2/C)(\eta\varepsilon)^{-2/3}$."""
    return 2.0 / one_minus_beta_star(eta, eps, C)


def speedup(eta, eps, C=1.0):
    r"""(M7) Speed-up over β = 0 at equal η: $\tau_2(\beta=0)/\tau_1(\beta^*) \propto (\eta\varepsilon)^{-4/3}$
    (prefactor not predicted; here with c = 1 and the given C)."""
    return tau2(eta, 0.0, eps) / optimal_time(eta, eps, C)
