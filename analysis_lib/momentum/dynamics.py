r"""(M1) Label-noise SGD with heavy-ball momentum, batched over chains/configurations.

Each step draws fresh labels $\tilde y_i = y_i + \varepsilon\xi_{k,i}$ per sample, per step and per
noise stream, computes $g_k = \nabla_w \frac1{2n}\sum_i (f(x_i;w_k)-\tilde y_i)^2$ and updates
$\pi_{k+1} = \beta\pi_k - g_k$, $w_{k+1} = w_k + \eta\pi_{k+1}$ ($\pi_0 = 0$).

This equals `torch.optim.SGD(lr=η, momentum=β, dampening=0, nesterov=False)`, whose buffer is
$b = \beta b + g$, $w \mathrel{-}= \eta b$, i.e. $b = -\pi$ (sign pitfall).

All configurations (η, β, ε, seed) of a sweep run as ONE batched array computation: every
per-chain quantity is a vector along the leading batch axis. Chains with the same `noise_key`
share their label-noise stream (common random numbers across the β grid: the β-dependence of a
curve is then not blurred by independent noise); a chain's numbers do not depend on which other
chains are in the batch, so a per-configuration loop gives identical results.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ._validate import one_of, positive, positive_int, in_range


def sgdm_step(w, pi, grad, eta, beta):
    """One heavy-ball step in the M1 convention: returns (w + η(βπ − g), βπ − g).

    torch's momentum buffer is −π."""
    pi = beta * pi - grad
    return w + eta * pi, pi


# ---------------------------------------------------------------- observers
class Observer:
    """Called every `every` steps with the active prefix of the (internally reordered) batch."""

    def start(self, n_chains: int, n_steps: int, every: int, horizon: np.ndarray) -> None: ...

    def update(self, k: int, W: np.ndarray, nb: int, diverged: np.ndarray) -> None: ...

    def result(self, inverse: np.ndarray): ...


class Occupation(Observer):
    r"""Occupation time (our operationalisation of time-to-threshold):
    $T_\mathrm{occ}$ = number of steps (checked every `every`) with `metric(W) >= thr` within the
    chain's horizon. A diverged chain counts as above threshold for the rest of its horizon
    (NaN compares False and would otherwise count as converged)."""

    def __init__(self, metric: Callable[[np.ndarray], np.ndarray], thr: float):
        self.metric, self.thr = metric, float(thr)

    def start(self, n_chains, n_steps, every, horizon):
        self.count = np.zeros(n_chains)
        self.every = every
        self.horizon = horizon

    def update(self, k, W, nb, diverged):
        with np.errstate(invalid="ignore"):
            above = ~(self.metric(W[:nb]) < self.thr)  # NaN → above
        above |= diverged[:nb]
        # observation at step k stands for the `every` steps before it (only those inside the horizon)
        self.count[:nb] += above * self.every

    def result(self, inverse):
        return self.count[inverse]


class InterpolatedOccupation(Observer):
    r"""Occupation time with interpolated crossings: between two observations (`every` steps apart)
    `metric` is taken as linear, so an interval whose ends lie on both sides of `thr` contributes
    the fraction of it above the threshold, $e\,(f_\text{above}-\mathrm{thr})/|f_1-f_0|$, instead of
    all or nothing. Removes the O(every) bias of counting whole intervals (our choice; no offset is
    added). A diverged chain (or a non-finite metric) counts as above for the rest of its horizon."""

    def __init__(self, metric: Callable[[np.ndarray], np.ndarray], thr: float):
        self.metric, self.thr = metric, float(thr)

    def start(self, n_chains, n_steps, every, horizon):
        self.count = np.zeros(n_chains)
        self.every = every
        self.prev = None

    def first(self, W):
        self.prev = np.asarray(self.metric(W), float).copy()

    def update(self, k, W, nb, diverged):
        with np.errstate(invalid="ignore", over="ignore"):
            f1 = np.asarray(self.metric(W[:nb]), float)
        f1 = np.where(diverged[:nb] | ~np.isfinite(f1), np.inf, f1)
        f0 = self.prev[:nb]
        a0, a1 = f0 >= self.thr, f1 >= self.thr
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = np.where(a0 & a1, 1.0, np.where(~a0 & ~a1, 0.0,
                            np.where(a0, (f0 - self.thr) / (f0 - f1), (f1 - self.thr) / (f1 - f0))))
        frac = np.where(np.isfinite(frac), np.clip(frac, 0.0, 1.0), 1.0)  # an infinite end: the whole interval
        self.count[:nb] += frac * self.every
        self.prev[:nb] = f1

    def result(self, inverse):
        return self.count[inverse]


class Record(Observer):
    """Stores `fn(W)` (B,) every `stride`-th observation; NaN for chains past their horizon."""

    def __init__(self, fn: Callable[[np.ndarray], np.ndarray], stride: int = 1):
        self.fn, self.stride = fn, positive_int("stride", stride)

    def start(self, n_chains, n_steps, every, horizon):
        n_obs = n_steps // every // self.stride
        self.values = np.full((n_obs + 1, n_chains), np.nan)
        self.steps = np.arange(n_obs + 1) * every * self.stride
        self.i = 0
        self._count = 0

    def first(self, W):
        self.values[0] = self.fn(W)
        self.i = 1

    def update(self, k, W, nb, diverged):
        self._count += 1
        if self._count % self.stride == 0 and self.i < len(self.values):
            with np.errstate(invalid="ignore", over="ignore"):
                v = self.fn(W[:nb])
            self.values[self.i, :nb] = np.where(diverged[:nb], np.nan, v)
            self.i += 1

    def result(self, inverse):
        return self.steps, self.values[:, inverse]


class MeanSquare(Observer):
    """Time-average of W² (per chain, per coordinate) over observations with k > burn_in."""

    def __init__(self, burn_in: int):
        self.burn_in = int(burn_in)

    def start(self, n_chains, n_steps, every, horizon):
        self.sum = None
        self.n = 0

    def update(self, k, W, nb, diverged):
        if k > self.burn_in:
            sq = W ** 2
            self.sum = sq.copy() if self.sum is None else self.sum + sq
            self.n += 1

    def result(self, inverse):
        if self.sum is None:
            raise ValueError("burn_in must be < n_steps: no observation was averaged")
        return self.sum[inverse] / self.n


@dataclass
class SGDMRun:
    """Outcome of `sgdm_label_noise`: final states, divergence, observer results (original order)."""

    W: np.ndarray
    diverged: np.ndarray
    diverged_step: np.ndarray
    horizon: np.ndarray
    observed: dict = field(default_factory=dict)


def _as_batch(name, value, B):
    arr = np.asarray(value, dtype=float).ravel()
    if arr.size == 1:
        return np.full(B, arr[0])
    if arr.size != B:
        raise ValueError(f"{name} must be a scalar or have one entry per chain ({B}); got {arr.size}")
    return arr


def sgdm_label_noise(model, w0, eta, beta, eps, n_steps: int, *, noise_keys=None, seed: int = 0,
                     horizon=None, every: int = 10, observers: dict[str, Observer] | None = None,
                     noise: str = "gaussian", chunk: int = 1000, reset_diverged: bool = True,
                     progress: bool = False) -> SGDMRun:
    r"""Run B label-noise SGDM chains (M1) in one batched computation.

    `w0`: (D,) or (B, D) starting points; `eta`, `beta`, `eps`: scalars or (B,) per chain;
    `noise_keys`: (B,) ints naming the noise stream of each chain (default: one stream per chain;
    stream j is `default_rng([seed, j])`); `horizon`: per-chain number of steps (≤ n_steps;
    chains stop at their horizon); `observers`: name → Observer, called every `every` steps.
    Divergence (checked at observations): non-finite or `model.diverged`; the chain is frozen at
    its start state (stops NaN propagation) and counted as diverged.
    """
    n_steps = positive_int("n_steps", n_steps)
    every = positive_int("every", every)
    chunk = positive_int("chunk", chunk)
    one_of("noise", noise, ("gaussian", "rademacher"))
    w0 = np.asarray(w0, dtype=float)
    sizes = [np.size(a) for a in (eta, beta, eps)] + ([len(noise_keys)] if noise_keys is not None else [])
    if w0.ndim == 2:
        sizes.append(w0.shape[0])
    if horizon is not None:
        sizes.append(np.size(horizon))
    B = max(sizes)
    eta_b, beta_b, eps_b = (_as_batch(n, v, B) for n, v in (("eta", eta), ("beta", beta), ("eps", eps)))
    positive("eta", eta_b)
    in_range("beta", beta_b, 0.0, 1.0, hi_open=True)
    positive("eps", eps_b, allow_zero=True)
    W0 = np.broadcast_to(w0 if w0.ndim == 2 else w0[None, :], (B, model.dim)).astype(float)
    keys = np.arange(B) if noise_keys is None else np.asarray(noise_keys, dtype=np.int64).ravel()
    if keys.size != B or np.any(keys < 0):
        raise ValueError(f"noise_keys must be {B} non-negative integers; got {noise_keys!r}")
    H = np.full(B, n_steps) if horizon is None else np.asarray(horizon, dtype=np.int64).ravel()
    if H.size == 1:
        H = np.full(B, int(H[0]))
    if H.size != B or np.any(H < 1) or np.any(H > n_steps):
        raise ValueError(f"horizon must be per-chain integers in [1, n_steps={n_steps}]; got {horizon!r}")

    # Chains sorted by decreasing horizon: the active chains are always a prefix (cheap views).
    order = np.argsort(-H, kind="stable")
    inverse = np.argsort(order, kind="stable")
    W0s, Hs = W0[order], H[order]
    etas, betas, epss = eta_b[order, None].copy(), beta_b[order, None].copy(), eps_b[order, None].copy()
    ukeys, key_idx = np.unique(keys[order], return_inverse=True)
    gens = [np.random.default_rng([int(seed), int(k)]) for k in ukeys]
    n = model.n
    y = model.y[None, :]

    W = W0s.copy()
    P = np.zeros_like(W)
    div = np.zeros(B, dtype=bool)
    div_step = np.full(B, -1, dtype=np.int64)
    observers = dict(observers or {})
    for obs in observers.values():
        obs.start(B, n_steps, every, Hs)
        if hasattr(obs, "first"):  # observers that need the starting state (Record, InterpolatedOccupation)
            obs.first(W)
    chunk = max(1, min(chunk, 4_000_000 // max(1, len(ukeys) * n)))
    from ..progress import tqdm

    bar = tqdm(total=n_steps, disable=not progress, leave=False, desc="SGDM")
    nb = B
    err = np.seterr(over="ignore", invalid="ignore")  # blow-ups are caught by the divergence rule
    try:
        nb = _loop(model, n_steps, chunk, noise, gens, n, key_idx, y, W, P, W0s, etas, betas, epss, Hs, div,
                   div_step, every, observers, reset_diverged, bar)
    finally:
        np.seterr(**err)
    bar.close()
    return SGDMRun(W=W[inverse], diverged=div[inverse], diverged_step=div_step[inverse], horizon=H,
                   observed={name: obs.result(inverse) for name, obs in observers.items()})


def _loop(model, n_steps, chunk, noise, gens, n, key_idx, y, W, P, W0s, etas, betas, epss, Hs, div, div_step,
          every, observers, reset_diverged, bar):
    B = W.shape[0]
    nb = B
    for c0 in range(0, n_steps, chunk):
        L = min(chunk, n_steps - c0)
        if noise == "gaussian":
            draws = np.stack([g.standard_normal((L, n)) for g in gens], axis=1)  # (L, K, n)
        else:
            draws = np.stack([g.integers(0, 2, size=(L, n)) * 2.0 - 1.0 for g in gens], axis=1)
        xi = draws[:, key_idx, :]  # (L, B, n)
        for j in range(L):
            k = c0 + j  # number of completed steps before this one
            while nb > 0 and Hs[nb - 1] <= k:
                nb -= 1
            if nb == 0:
                break
            Wa, Pa = W[:nb], P[:nb]
            Y = y + epss[:nb] * xi[j, :nb]
            G = model.grad(Wa, Y)
            Pa *= betas[:nb]
            Pa -= G
            Wa += etas[:nb] * Pa
            if (k + 1) % every == 0:
                bad = model.diverged(Wa) & ~div[:nb]
                if bad.any():
                    idx = np.flatnonzero(bad)
                    div[idx] = True
                    div_step[idx] = k + 1
                    if reset_diverged:  # freeze at the start state: no NaN propagation, no wasted blow-ups
                        W[idx] = W0s[idx]
                        P[idx] = 0.0
                        etas[idx] = 0.0
                        betas[idx] = 0.0
                for obs in observers.values():
                    obs.update(k + 1, W, nb, div)
        bar.update(L)
        if nb == 0:
            break
    return nb


def torch_sgd_max_abs_diff(model, w0, eta: float, beta: float, eps: float, n_steps: int = 10,
                           n_chains: int = 3, seed: int = 0) -> float:
    """Max |w_numpy − w_torch| over `n_steps` of M1 vs `torch.optim.SGD(momentum=β, dampening=0)`
    on the same noisy labels, float64 (torch autograd vs the model's analytic gradient)."""
    import torch

    positive_int("n_steps", n_steps)
    positive_int("n_chains", n_chains)
    rng = np.random.default_rng(seed)
    W = np.broadcast_to(np.asarray(w0, float), (n_chains, model.dim)).copy()
    W += 0.01 * rng.standard_normal(W.shape)  # chains start apart, so a mix-up would show
    P = np.zeros_like(W)
    Wt = torch.tensor(W.copy(), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([Wt], lr=eta, momentum=beta, dampening=0, nesterov=False, weight_decay=0)
    worst = 0.0
    for _ in range(n_steps):
        Y = model.y[None, :] + eps * rng.standard_normal((n_chains, model.n))
        W, P = sgdm_step(W, P, model.grad(W, Y), eta, beta)
        opt.zero_grad()
        model.torch_loss(Wt, torch.tensor(Y, dtype=torch.float64)).backward()
        opt.step()
        worst = max(worst, float(np.max(np.abs(W - Wt.detach().numpy()))))
    return worst
