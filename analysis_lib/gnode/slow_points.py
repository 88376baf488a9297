"""Attractor diagnostics of trained flip-flop models (spec §4.5, our operationalisation), the
Sussillo–Barak slow-point finder, and re-integration of a trained model with torchdiffeq (§4.6).

All analyses are at zero input (x = 0) with the α the model was trained with.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .cells import FlipFlopModel
from .flipflop import canonical_variant, retention_inputs, target_grid


def _readout_matrix(model: FlipFlopModel) -> tuple[torch.Tensor, torch.Tensor]:
    return model.readout.W.detach(), model.readout.b.detach()


def _check_model(model) -> None:
    if not isinstance(model, FlipFlopModel):
        raise ValueError(f"model must be a FlipFlopModel; got {type(model).__name__}")


def readout_preimage(model: FlipFlopModel, y: np.ndarray) -> tuple[torch.Tensor, float]:
    """States h = C⁺(y − c) mapping to output points y (pseudo-inverse), and cond(C)."""
    _check_model(model)
    C, c = _readout_matrix(model)
    y = torch.as_tensor(np.asarray(y, np.float32))
    if y.ndim != 2 or y.shape[1] != C.shape[0]:
        raise ValueError(f"y must have shape (k, {C.shape[0]}); got {tuple(y.shape)}")
    h = (y - c) @ torch.linalg.pinv(C).T
    return h, float(torch.linalg.cond(C))


@torch.no_grad()
def free_run(model: FlipFlopModel, h: torch.Tensor, steps: int) -> torch.Tensor:
    """`steps` zero-input Euler steps from states h (k, N); returns the final states."""
    x0 = torch.zeros(h.shape[0], model.cell.d)
    for _ in range(steps):
        h = model.cell.step(h, x0)
    return h


def slow_fraction(model: FlipFlopModel, variant: str = "variable", n: int = 41, steps: int = 100,
                  delta: float = 0.1) -> dict:
    """Drift test (N = 2): share of an n×n output grid over the task's target set whose pre-image
    h = C⁺(y − c) stays within δ of y (in output space) after `steps` zero-input steps.

    Returns {'slow_frac', 'cond_C', 'flag' (cond(C) > 1e3), 'y', 'slow' (bool per grid point)}.
    """
    _check_model(model)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive integer; got {steps!r}")
    if not delta > 0:
        raise ValueError(f"delta must be > 0; got {delta!r}")
    y = target_grid(canonical_variant(variant), n).astype(np.float32)
    h, cond = readout_preimage(model, y)
    C, c = _readout_matrix(model)
    y_end = free_run(model, h, steps) @ C.T + c
    slow = torch.linalg.norm(y_end - torch.as_tensor(y), dim=1).numpy() < delta
    return {"slow_frac": float(slow.mean()), "cond_C": cond, "flag": cond > 1e3, "y": y, "slow": slow}


@torch.no_grad()
def speed_gate_grid(model: FlipFlopModel, lims=(-1.5, 1.5), n: int = 41, x_const=None) -> dict:
    """Speed and gate maps (N = 2) on an n×n output grid: log10 ‖C(h_{t+1} − h_t)‖, mean_i z_i(h, x),
    and the pushed-forward step C(h_{t+1} − h_t) (for streamlines), at constant input `x_const` (default 0)."""
    _check_model(model)
    if model.N != 2:
        raise ValueError(f"speed_gate_grid needs an N = 2 model; got N = {model.N}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise ValueError(f"n must be an integer >= 2; got {n!r}")
    if len(lims) != 2 or not lims[1] > lims[0]:
        raise ValueError(f"lims must be a pair (lo, hi) with hi > lo; got {lims!r}")
    lo, hi = lims
    g = np.linspace(lo, hi, n)
    Y1, Y2 = np.meshgrid(g, g, indexing="xy")
    y = np.stack([Y1.ravel(), Y2.ravel()], 1).astype(np.float32)
    h, _ = readout_preimage(model, y)
    x = torch.zeros(h.shape[0], model.cell.d) if x_const is None else \
        torch.as_tensor(np.asarray(x_const, np.float32)).expand(h.shape[0], model.cell.d)
    C, _ = _readout_matrix(model)
    dy = (model.cell.step(h, x) - h) @ C.T
    speed = torch.linalg.norm(dy, dim=1).clamp_min(1e-12)
    gate = model.cell.gate(h, x).mean(1)
    return {"y1": Y1, "y2": Y2, "log_speed": torch.log10(speed).numpy().reshape(n, n),
            "gate": gate.numpy().reshape(n, n), "dy1": dy[:, 0].numpy().reshape(n, n),
            "dy2": dy[:, 1].numpy().reshape(n, n)}


@torch.no_grad()
def retention_curve(model: FlipFlopModel, n_mem: int = 200, hold: int = 1000, seed: int = 0) -> dict:
    """Retention test (§4.5): write memories m ~ U[−1,1]^n with one 3-bin pulse per channel, then
    hold for `hold` zero-input steps. RMSE(k) over trials and channels of ŷ − m, k = 1..hold steps
    after the last pulse. Zero-predictor reference √(1/3) ≈ 0.577."""
    _check_model(model)
    x, m, last = retention_inputs(model.cell.d, n_mem, hold, seed=seed)
    y, _ = model(torch.as_tensor(x))
    err = y[:, last + 1:].numpy() - m[:, None, :]
    rmse = np.sqrt(np.mean(err ** 2, axis=(0, 2)))
    return {"k": np.arange(1, hold + 1), "rmse": rmse}


@dataclass
class SlowPoints:
    """Kept slow points h* (‖v‖ < tol), their speeds ‖v(h*)‖, Jacobian eigenvalues, and all finals."""

    h: np.ndarray
    speed: np.ndarray
    eigvals: np.ndarray | None
    h_all: np.ndarray
    speed_all: np.ndarray


def find_slow_points(field_fn, h_init, steps: int = 3000, lr: float = 1e-3, tol: float = 1e-3,
                     lbfgs_steps: int = 0, eigvals: bool = True, progress: bool = False) -> SlowPoints:
    """Minimise q(h) = ½‖v(h)‖² from each initial state (Sussillo & Barak 2013 style).

    `field_fn(h) -> v` maps a batch (k, N) to velocities (k, N) (e.g. z ⊙ (−h + F(h, 0))).
    Batched Adam (`lr`, `steps`), optionally polished by `lbfgs_steps` L-BFGS iterations; keeps h*
    with ‖v(h*)‖ < tol and returns the Jacobian eigenvalues ∂v/∂h at each kept point.
    """
    from ..progress import tqdm

    h = torch.as_tensor(np.asarray(h_init, np.float32)).clone()
    if h.ndim != 2:
        raise ValueError(f"h_init must have shape (k, N); got {tuple(h.shape)}")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps must be an integer >= 0; got {steps!r}")
    if not lr > 0 or not tol > 0:
        raise ValueError(f"lr and tol must be > 0; got lr={lr!r}, tol={tol!r}")
    h.requires_grad_(True)
    opt = torch.optim.Adam([h], lr=lr)
    for _ in tqdm(range(steps), desc="slow points", disable=not progress, leave=False):
        q = 0.5 * (field_fn(h) ** 2).sum()  # per-point q's are independent: summing keeps them so
        opt.zero_grad()
        q.backward()
        opt.step()
    if lbfgs_steps:
        lb = torch.optim.LBFGS([h], lr=1.0, max_iter=lbfgs_steps, tolerance_grad=1e-12, tolerance_change=1e-15,
                               line_search_fn="strong_wolfe")

        def closure():
            lb.zero_grad()
            q = 0.5 * (field_fn(h) ** 2).sum()
            q.backward()
            return q

        lb.step(closure)
    with torch.no_grad():
        speed = torch.linalg.norm(field_fn(h), dim=1)
    h_all = h.detach()
    keep = (speed < tol).numpy()
    hk = h_all[torch.as_tensor(keep)]
    ev = None
    if eigvals and hk.shape[0]:
        J = torch.func.vmap(torch.func.jacrev(lambda s: field_fn(s[None])[0]))(hk)
        ev = torch.linalg.eigvals(J.double()).numpy()
    return SlowPoints(hk.numpy(), speed.numpy()[keep], ev, h_all.numpy(), speed.numpy())


def model_field(model: FlipFlopModel):
    """v(h) = field(h, 0) of a trained model (τ·dh/dt at zero input) for `find_slow_points`."""
    _check_model(model)
    for p in model.parameters():
        p.requires_grad_(False)
    d = model.cell.d
    return lambda h: model.cell.field(h, torch.zeros(h.shape[0], d, dtype=h.dtype))


@torch.no_grad()
def slow_point_starts(model: FlipFlopModel, x, n: int = 2000, noise: float = 0.01, seed: int = 0) -> np.ndarray:
    """Initial states: n states sampled from trajectories on inputs x + Gaussian noise (noise × per-dim std)."""
    _check_model(model)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer; got {n!r}")
    if not noise >= 0:
        raise ValueError(f"noise must be >= 0; got {noise!r}")
    _, H = model(torch.as_tensor(np.asarray(x, np.float32)))
    H = H.reshape(-1, model.N).numpy()
    rng = np.random.default_rng(seed)
    pick = H[rng.integers(0, H.shape[0], size=n)]
    return (pick + noise * H.std(0) * rng.standard_normal(pick.shape)).astype(np.float32)


def slow_point_readouts(model: FlipFlopModel, sp: SlowPoints) -> np.ndarray:
    """y* = C h* + c of kept slow points."""
    C, c = _readout_matrix(model)
    return (torch.as_tensor(sp.h) @ C.T + c).numpy()


def pca_spectrum(h: np.ndarray) -> np.ndarray:
    """Explained-variance ratios of the kept slow points (attractor dimension, §4.2)."""
    h = np.asarray(h, float)
    if h.ndim != 2 or h.shape[0] < 2:
        return np.full(h.shape[-1] if h.ndim == 2 else 1, np.nan)
    s = np.linalg.svd(h - h.mean(0), compute_uv=False) ** 2
    return s / s.sum() if s.sum() > 0 else s


def coverage(y: np.ndarray, lo: float = -1.0, hi: float = 1.0, bins: int = 4) -> float:
    """Share of the bins^n cells of [lo, hi]^n holding at least one point y (n = y.shape[1])."""
    y = np.asarray(y, float)
    if y.ndim != 2:
        raise ValueError(f"y must have shape (k, n); got {y.shape}")
    if not hi > lo:
        raise ValueError(f"need hi > lo; got lo={lo}, hi={hi}")
    inside = np.all((y >= lo) & (y <= hi), 1)
    idx = np.clip(((y[inside] - lo) / (hi - lo) * bins).astype(int), 0, bins - 1)
    return len({tuple(r) for r in idx}) / bins ** y.shape[1]


def ring_stats(y: np.ndarray, n_bins: int = 36) -> dict:
    """Median ‖y*‖ and share of `n_bins` angular bins holding at least one y* (ring task)."""
    y = np.asarray(y, float)
    if y.ndim != 2 or y.shape[1] != 2:
        raise ValueError(f"y must have shape (k, 2); got {y.shape}")
    if isinstance(n_bins, bool) or not isinstance(n_bins, int) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer; got {n_bins!r}")
    if y.shape[0] == 0:
        return {"radius_median": float("nan"), "angle_cov": 0.0}
    ang = np.mod(np.arctan2(y[:, 1], y[:, 0]), 2 * np.pi)
    hit = np.unique(np.minimum((ang / (2 * np.pi) * n_bins).astype(int), n_bins - 1))
    return {"radius_median": float(np.median(np.hypot(y[:, 0], y[:, 1]))), "angle_cov": len(hit) / n_bins}


def corners_found(y: np.ndarray, radius: float = 0.2) -> int:
    """Number of corners (±1, ±1) with a y* within `radius` (±1 task)."""
    if not radius > 0:
        raise ValueError(f"radius must be > 0; got {radius!r}")
    y = np.asarray(y, float).reshape(-1, 2)
    corners = np.array([[1, 1], [1, -1], [-1, 1], [-1, -1]], float)
    if y.shape[0] == 0:
        return 0
    d = np.linalg.norm(y[None] - corners[:, None], axis=2)
    return int((d.min(1) < radius).sum())


@torch.no_grad()
def reintegrate(model: FlipFlopModel, x, substeps: int = 10, method: str = "rk4") -> tuple[np.ndarray, np.ndarray]:
    """Read the model as τ dh/dt = field(h, x) (τ = 1, Δt = α) with x piecewise constant: bin t's input
    acts on ((t−1)Δt, tΔt]. Per bin h ← odeint(f_x, h, [0, Δt], method, step Δt/substeps)[-1];
    readout at each bin end. Returns (y, h) as arrays (B, T, D), (B, T, N).
    With method='euler', substeps=1 this is exactly the training recurrence."""
    from torchdiffeq import odeint

    _check_model(model)
    if isinstance(substeps, bool) or not isinstance(substeps, int) or substeps < 1:
        raise ValueError(f"substeps must be a positive integer; got {substeps!r}")
    if method not in ("euler", "midpoint", "rk4"):
        raise ValueError(f"method must be 'euler', 'midpoint' or 'rk4'; got {method!r}")
    xt = torch.as_tensor(np.asarray(x, np.float32))
    dt = model.cell.alpha
    t_span = torch.tensor([0.0, dt])
    h = model.initial_state(xt)
    hs = []
    for t in range(xt.shape[1]):
        xb = xt[:, t]
        h = odeint(lambda _t, s: model.cell.field(s, xb), h, t_span, method=method,
                   options={"step_size": dt / substeps})[-1]
        hs.append(h)
    H = torch.stack(hs, 1)
    return model.readout(H).numpy(), H.numpy()
