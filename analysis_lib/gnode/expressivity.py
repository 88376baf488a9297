"""Expressivity measure — OUR OPERATIONALISATION (spec §4.4); the paper's measure is not known.

Autonomous models (τ = 1) fit a closed planar target curve through an affine readout:
    nODE  dh/dt = −h + F(h),   gnODE  dh/dt = σ(W_z h + b_z) ⊙ (−h + F(h)),   y = C h + c,
F = relu MLP N → depth × [width] → N (linear output), trainable h(0). Targets: random Fourier
curves of complexity K (≈ K − 1 self-crossings) and a figure-eight. A trajectory of an
autonomous ODE cannot cross itself [derived], so an N = 2 model cannot trace a self-crossing
curve through an affine 2→2 readout; N ≥ 3 can if F is rich enough.

All fits run as ONE masked ensemble: replicates are stacked along a leading axis (weights
(R, out, in), `torch.baddbmm`), N and width padded to N_max and width_max with masks
(dh/dt = m_N ⊙ v, hidden activations × m_w), so each padded replicate is exactly its smaller
model. Replicate losses are summed; Adam is elementwise, so replicates train independently.
Integration: `torchdiffeq.odeint(method='rk4')`'s arithmetic (`rk4_fixed_grid`, op for op), step
0.1 for training, 0.01 for scoring.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from torch import nn

from .._cache import atomic_write

EXPR_KINDS: tuple[str, ...] = ("node", "gnode")
M_DEFAULT = 100
DELTA = 0.1
R2_THRESHOLD = 0.9


# ---------------------------------------------------------------- targets
def sample_times(M: int = M_DEFAULT, delta: float = DELTA) -> np.ndarray:
    """t_j = jΔ, j = 0..M (period P = MΔ)."""
    if isinstance(M, bool) or not isinstance(M, int) or M < 4:
        raise ValueError(f"M must be an integer >= 4; got {M!r}")
    return np.arange(M + 1) * float(delta)


def _standardise(y: np.ndarray) -> np.ndarray:
    return ((y - y.mean(0)) / y.std(0)).astype(np.float32)


def fourier_target(K: int, seed: int = 0, M: int = M_DEFAULT) -> np.ndarray:
    """y_k(t) = Σ_{m=1..K} [a_km cos(2πmt/P) + b_km sin(2πmt/P)] / m, a, b ~ N(0,1) from
    `default_rng(10_000·seed + K)`, each channel standardised over the M+1 samples. Shape (M+1, 2)."""
    if isinstance(K, bool) or not isinstance(K, (int, np.integer)) or K < 1:
        raise ValueError(f"K must be a positive integer; got {K!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0; got {seed!r}")
    return _standardise(fourier_curve(K, seed, sample_times(M), M * DELTA))


def fourier_curve(K: int, seed: int, t: np.ndarray, P: float) -> np.ndarray:
    """The unstandardised curve of `fourier_target` at arbitrary times t (any shape (..., )):
    y_k(t) = Σ_m [a_km cos(2πmt/P) + b_km sin(2πmt/P)] / m, coefficients from
    `default_rng(10_000·seed + K)`. Returns shape t.shape + (2,)."""
    rng = np.random.default_rng(10_000 * int(seed) + int(K))
    a = rng.standard_normal((2, K))
    b = rng.standard_normal((2, K))
    m = np.arange(1, K + 1)
    ph = 2 * np.pi * np.asarray(t, float)[..., None] * m / P  # (..., K)
    return (np.cos(ph) @ (a / m).T) + (np.sin(ph) @ (b / m).T)


def figure_eight(M: int = M_DEFAULT) -> np.ndarray:
    """y = (cos 2πt/P, sin 4πt/P), standardised: one self-crossing (at t = P/4 and 3P/4)."""
    t = sample_times(M)
    P = M * DELTA
    return _standardise(np.stack([np.cos(2 * np.pi * t / P), np.sin(4 * np.pi * t / P)], 1))


def count_self_crossings(y: np.ndarray, closed: bool = True, tol: float = 1e-9) -> int:
    """Number of self-crossings of the polyline through the points y (k, 2) (closed: last → first).

    Intersections of non-adjacent segments are collected with their curve parameters (s1, s2);
    hits within one segment of each other in both parameters are one crossing (a crossing
    exactly at a sample point is seen by up to four segment pairs).
    """
    y = np.asarray(y, float)
    if y.ndim != 2 or y.shape[1] != 2 or y.shape[0] < 3:
        raise ValueError(f"y must have shape (k >= 3, 2); got {y.shape}")
    P0 = y if not closed else np.vstack([y, y[:1]])
    if closed and np.allclose(y[0], y[-1], atol=1e-6):
        P0 = y  # already closed (periodic samples include t = P)
    A, B = P0[:-1], P0[1:]
    n = len(A)
    d = B - A
    i, j = np.triu_indices(n, k=2)
    if closed:
        keep = ~((i == 0) & (j == n - 1))
        i, j = i[keep], j[keep]
    r, s = d[i], d[j]
    qp = A[j] - A[i]
    den = r[:, 0] * s[:, 1] - r[:, 1] * s[:, 0]
    ok = np.abs(den) > 1e-15
    u = np.where(ok, (qp[:, 0] * s[:, 1] - qp[:, 1] * s[:, 0]) / np.where(ok, den, 1), -1)
    v = np.where(ok, (qp[:, 0] * r[:, 1] - qp[:, 1] * r[:, 0]) / np.where(ok, den, 1), -1)
    hit = ok & (u >= -tol) & (u <= 1 + tol) & (v >= -tol) & (v <= 1 + tol)
    params = np.stack([i[hit] + u[hit], j[hit] + v[hit]], 1)
    crossings: list[np.ndarray] = []
    for p in params:
        dist = [np.abs(p - q) for q in crossings]
        dist = [np.minimum(dd, n - dd) if closed else dd for dd in dist]
        if not any(np.all(dd <= 1.0 + 1e-9) for dd in dist):
            crossings.append(p)
    return len(crossings)


def r2(pred, y) -> np.ndarray:
    """R² = 1 − Σ(ŷ − y)²/Σ(y − ȳ)², sums over all samples and channels, ȳ the grand mean.
    Works on (..., M+1, D) arrays, returning one R² per leading index."""
    pred, y = np.asarray(pred, float), np.asarray(y, float)
    if pred.shape != y.shape:
        raise ValueError(f"pred and y must share a shape; got {pred.shape}, {y.shape}")
    ss_res = np.sum((pred - y) ** 2, axis=(-2, -1))
    ss_tot = np.sum((y - y.mean(axis=(-2, -1), keepdims=True)) ** 2, axis=(-2, -1))
    return 1.0 - ss_res / ss_tot


# ---------------------------------------------------------------- ensemble
@dataclass(frozen=True)
class FitSpec:
    """One replicate: model kind, phase-space dimension N, MLP width and depth, init seed."""

    kind: str
    N: int
    width: int
    depth: int = 2
    seed: int = 0

    def __post_init__(self):
        if self.kind not in EXPR_KINDS:
            raise ValueError(f"kind must be one of {EXPR_KINDS}; got {self.kind!r}")
        for name in ("N", "width", "depth"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be a positive integer; got {v!r}")


def expr_param_count(spec: FitSpec, D: int = 2) -> int:
    """[derived] F: Σ(fan_in·w + w); gnODE gate N(N+1); readout N·D + D; h(0): N."""
    widths = [spec.N] + [spec.width] * spec.depth + [spec.N]
    mlp = sum(a * b + b for a, b in zip(widths[:-1], widths[1:]))
    gate = spec.N * (spec.N + 1) if spec.kind == "gnode" else 0
    return mlp + gate + spec.N * D + D + spec.N


class _ColBaddbmm(torch.autograd.Function):
    """b + W a for column vectors a (R, n, 1): `torch.baddbmm`'s forward and its gradients, with
    ∂/∂W = g aᵀ formed as a broadcast product instead of a batched matmul with inner size 1.

    Each entry g_i a_j is one rounded product either way (bitwise equal), but the (w × 1)·(1 × w)
    batched matmul costs ~11× the product on CPU; in the expressivity fits it was a quarter of
    the backward pass. ∂/∂a = Wᵀ g and ∂/∂b = g are computed exactly as autograd's baddbmm does.
    """

    @staticmethod
    def forward(ctx, b, W, a):
        ctx.save_for_backward(W, a)
        return torch.baddbmm(b, W, a)

    @staticmethod
    def backward(ctx, g):
        W, a = ctx.saved_tensors
        gW = g * a.transpose(1, 2) if ctx.needs_input_grad[1] else None
        ga = W.transpose(1, 2).bmm(g) if ctx.needs_input_grad[2] else None
        return (g if ctx.needs_input_grad[0] else None), gW, ga


def _col_baddbmm(b: torch.Tensor, W: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """b + W a (R, m, 1) for b (R, m, 1), W (R, m, n), a (R, n, 1); see `_ColBaddbmm`."""
    return _ColBaddbmm.apply(b, W, a)


class AutonomousEnsemble(nn.Module):
    """R autonomous models in one batched, masked module (see module docstring)."""

    def __init__(self, specs: Sequence[FitSpec], N_max: int | None = None, width_max: int | None = None,
                 D: int = 2):
        super().__init__()
        specs = list(specs)
        if not specs or not all(isinstance(s, FitSpec) for s in specs):
            raise ValueError("specs must be a non-empty sequence of FitSpec")
        depths = {s.depth for s in specs}
        if len(depths) != 1:
            raise ValueError(f"all specs of one ensemble must share a depth; got {sorted(depths)}")
        self.specs = specs
        self.depth = depths.pop()
        self.N_max = N_max or max(s.N for s in specs)
        self.width_max = width_max or max(s.width for s in specs)
        if self.N_max < max(s.N for s in specs) or self.width_max < max(s.width for s in specs):
            raise ValueError("N_max and width_max must be >= every replicate's N and width")
        R, Nm, Wm = len(specs), self.N_max, self.width_max
        mN = torch.zeros(R, Nm)
        mW = torch.zeros(R, Wm)
        gated = torch.zeros(R, 1)
        shapes = {"W0": (Wm, Nm), "W_out": (Nm, Wm), "Wz": (Nm, Nm), "C": (D, Nm)}
        for k in range(1, self.depth):
            shapes[f"W{k}"] = (Wm, Wm)
        params = {name: torch.zeros(R, *shp) for name, shp in shapes.items()}
        biases = {"b0": torch.zeros(R, Wm), "b_out": torch.zeros(R, Nm), "bz": torch.zeros(R, Nm),
                  "c": torch.zeros(R, D), "h0": torch.zeros(R, Nm)}
        for k in range(1, self.depth):
            biases[f"b{k}"] = torch.zeros(R, Wm)
        for r, s in enumerate(specs):
            mN[r, :s.N] = 1
            mW[r, :s.width] = 1
            gated[r] = float(s.kind == "gnode")
            # Each replicate gets its own generator, so its weights do not depend on the ensemble.
            g = torch.Generator().manual_seed(1_000 * s.seed + 7)
            true = {"W0": (s.width, s.N), "W_out": (s.N, s.width), "Wz": (s.N, s.N), "C": (D, s.N)}
            for k in range(1, self.depth):
                true[f"W{k}"] = (s.width, s.width)
            for name in ["W0"] + [f"W{k}" for k in range(1, self.depth)] + ["W_out", "Wz", "C"]:
                fo, fi = true[name]
                bound = math.sqrt(6.0 / (fi + fo))
                params[name][r, :fo, :fi] = (torch.rand(fo, fi, generator=g) * 2 - 1) * bound
            for name in ["b0"] + [f"b{k}" for k in range(1, self.depth)]:
                biases[name][r, :s.width] = 1e-3 * torch.randn(s.width, generator=g)
            biases["b_out"][r, :s.N] = 1e-3 * torch.randn(s.N, generator=g)
            biases["bz"][r, :s.N] = 1e-3 * torch.randn(s.N, generator=g)
            biases["c"][r] = 1e-3 * torch.randn(D, generator=g)
            biases["h0"][r, :s.N] = torch.randn(s.N, generator=g)
        self.W = nn.ParameterDict({k: nn.Parameter(v) for k, v in {**params, **biases}.items()})
        self.register_buffer("mN", mN)
        self.register_buffer("mW", mW)
        self.register_buffer("gated", gated)

    @property
    def R(self) -> int:
        return len(self.specs)

    @staticmethod
    def _affine(W, b, a):
        return torch.baddbmm(b.unsqueeze(-1), W, a.unsqueeze(-1)).squeeze(-1)

    def _packed(self) -> dict:
        """The parameters in the layout of `_field_col`, built once per trajectory: the first layer
        and the gate stacked ([W0; Wz], [b0; bz]), biases as columns (R, ·, 1), the mask of gated
        replicates' active units and the N mask.

        Why: a trajectory evaluates the field 4 × (steps) times and its cost is per-op overhead;
        concatenating and reshaping the same parameters in every evaluation doubled the op count
        (forward and backward). The values are the same copies, so the field is unchanged.
        """
        P = self.W
        return {"Wa": torch.cat([P["W0"], P["Wz"]], 1), "ba": torch.cat([P["b0"], P["bz"]], 1).unsqueeze(-1),
                "hidden": [(P[f"W{k}"], P[f"b{k}"].unsqueeze(-1)) for k in range(1, self.depth)],
                "W_out": P["W_out"], "b_out": P["b_out"].unsqueeze(-1),
                "gate": ((self.gated > 0) & (self.mN > 0)).unsqueeze(-1), "mN": self.mN.unsqueeze(-1)}

    def _field_col(self, h: torch.Tensor, pk: dict) -> torch.Tensor:
        """`field` on column states h (R, N_max, 1) with the packed parameters `pk` of `_packed`:
        every batched matmul reads and writes columns, so no reshapes are needed between layers.

        Exactly the arithmetic of `field` written op by op: the first layer and the gate come out
        of one product, split in one op; m_N ⊙ z is one `where` (m_N ∈ {0, 1}: σ where the replicate
        is gated and the unit inside its N, m_N elsewhere: the product's numbers while σ is finite;
        a padded unit of a diverged replicate now stays 0 instead of NaN, and such a replicate is
        scored at its last finite checkpoint either way); the square hidden layers use
        `_col_baddbmm` (same forward, cheaper backward).
        """
        a0, s = torch.baddbmm(pk["ba"], pk["Wa"], h).split([self.width_max, self.N_max], dim=1)
        a = torch.relu(a0)
        for W, b in pk["hidden"]:
            a = torch.relu(_col_baddbmm(b, W, a))
        F = torch.baddbmm(pk["b_out"], pk["W_out"], a)
        return torch.where(pk["gate"], torch.sigmoid(s), pk["mN"]) * (F - h)

    def field(self, t, h: torch.Tensor) -> torch.Tensor:
        """dh/dt = m_N ⊙ z ⊙ (−h + F(h)) with z := 1 for nODE replicates; h: (R, N_max).

        The first layer and the gate share one batched matmul (both read h). Padded hidden units
        have all-zero incoming weights and biases, so their relu output is exactly 0 and (relu'(0)
        = 0) they never get a gradient: the width mask m_w is implicit, which saves two ops per
        evaluation (the cost here is per-op overhead, not flops).
        """
        return self._field_col(h.unsqueeze(-1), self._packed()).squeeze(-1)

    def trajectory(self, t: torch.Tensor, step: float, method: str = "rk4") -> torch.Tensor:
        """Readout y(t) = C h(t) + c, shape (R, len(t), D).

        `method='rk4'` runs `rk4_fixed_grid` (torchdiffeq's fixed-step rk4, op for op, on the
        packed field); other methods call `torchdiffeq.odeint`.
        """
        P = self.W
        h0 = P["h0"] * self.mN
        if method == "rk4":
            pk = self._packed()
            H = rk4_fixed_grid(lambda h: self._field_col(h, pk), h0.unsqueeze(-1), t, step).squeeze(-1)
        else:
            from torchdiffeq import odeint

            H = odeint(self.field, h0, t, method=method, options={"step_size": step})  # (T, R, N_max)
        return torch.einsum("rdn,trn->rtd", P["C"], H) + P["c"][:, None, :]


def _fixed_grid_schedule(t: torch.Tensor, step: float) -> tuple[list, list]:
    """torchdiffeq's fixed-step time grid for output times t and its output schedule.

    Grid (`FixedGridODESolver._grid_constructor_from_step_size`): t_k = k·step + t_0 for
    k < ceil((t_end − t_0)/step + 1), the last point replaced by t_end. Returns (dts, outs): the
    steps dt_k = t_{k+1} − t_k (0-d tensors) and, per step, the outputs it writes as (j, slope):
    slope None → y_{k+1}, 0 → y_k, else y_k + slope·(y_{k+1} − y_k) (its linear interpolation).
    The grid depends on t and step only, so it is built once per trajectory, not per step.
    """
    start, end = t[0], t[-1]
    niters = torch.ceil((end - start) / step + 1).item()
    grid = torch.arange(0, niters, dtype=t.dtype, device=t.device) * step + start
    grid[-1] = t[-1]
    g, tt = grid.tolist(), t.tolist()  # exact: float32 values become Python floats exactly
    dts, outs, j = [], [], 1
    for k in range(len(g) - 1):
        t0, t1 = grid[k], grid[k + 1]
        dts.append(t1 - t0)
        out = []
        while j < len(tt) and g[k + 1] >= tt[j]:
            if tt[j] == g[k]:
                out.append((j, 0))
            elif tt[j] == g[k + 1]:
                out.append((j, None))
            else:
                out.append((j, (t[j] - t0) / (t1 - t0)))
            j += 1
        outs.append(out)
    return dts, outs


def rk4_fixed_grid(f, y0: torch.Tensor, t: torch.Tensor, step: float) -> torch.Tensor:
    """Solve dy/dt = f(y) (autonomous) with `torchdiffeq.odeint(f, y0, t, method='rk4',
    options={'step_size': step})`'s arithmetic, returning y at the times t, shape (len(t), *y0.shape).

    Per grid step (the 3/8 rule, torchdiffeq's `rk4_alt_step_func`):
        k1 = f(y), k2 = f(y + dt·k1/3), k3 = f(y + dt·(k2 − k1/3)), k4 = f(y + dt·(k1 − k2 + k3)),
        y ← y + (k1 + 3(k2 + k3) + k4)·dt/8,
    outputs between grid points linearly interpolated. The same tensor ops in the same order as
    torchdiffeq 0.2.5, minus its per-evaluation wrapper (time casts, perturbation, callbacks),
    which costs as much as a small field; `test_rk4_fixed_grid_matches_torchdiffeq` checks the
    results and gradients are bitwise equal.
    """
    dts, outs = _fixed_grid_schedule(t, step)
    solution = torch.empty(len(t), *y0.shape, dtype=y0.dtype, device=y0.device)
    solution[0] = y0
    third = 1 / 3
    for dt, out in zip(dts, outs):
        k1 = f(y0)
        k2 = f(y0 + dt * k1 * third)
        k3 = f(y0 + dt * (k2 - k1 * third))
        k4 = f(y0 + dt * (k1 - k2 + k3))
        y1 = y0 + (k1 + 3 * (k2 + k3) + k4) * dt * 0.125
        for j, slope in out:
            solution[j] = y1 if slope is None else y0 if isinstance(slope, int) else y0 + slope * (y1 - y0)
        y0 = y1
    return solution


def fit_ensemble(specs: Sequence[FitSpec], targets, steps: int = 200, lr: float = 1e-2, train_step: float = 0.1,
                 fine_step: float = 0.01, N_max: int | None = None, width_max: int | None = None,
                 device: str = "cpu", progress: bool = True, desc: str = "expressivity fits",
                 checkpoint=None, checkpoint_every: int = 200) -> dict:
    """Fit every replicate r to targets[r] (R, M+1, 2) with Adam (no weight decay), loss = MSE over
    samples and channels (summed over replicates); keep per replicate the parameters with the
    lowest training loss; score R²_train (rk4, `train_step`) and R²_fine (rk4, `fine_step`).

    A replicate whose loss turns non-finite has its gradients zeroed (`nan_to_num`), is marked
    failed and scored at its best finite checkpoint. Returns {'r2_train', 'r2_fine', 'failed',
    'best_loss', 'y_fine' (R, M+1, 2), 'loss' (steps, R)}.

    With `checkpoint` (a file path) the fit saves its state every `checkpoint_every` steps and a
    fit that finds the file resumes from it (the Adam steps are deterministic given the
    initialisation, so a resumed fit continues the same optimisation).
    """
    from ..progress import tqdm

    specs = list(specs)
    y = torch.as_tensor(np.asarray(targets, np.float32), device=device)
    if y.ndim != 3 or y.shape[0] != len(specs) or y.shape[2] != 2:
        raise ValueError(f"targets must have shape (R={len(specs)}, M+1, 2); got {tuple(y.shape)}")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive integer; got {steps!r}")
    for name, v in (("lr", lr), ("train_step", train_step), ("fine_step", fine_step)):
        if not v > 0:
            raise ValueError(f"{name} must be > 0; got {v!r}")
    M = y.shape[1] - 1
    t = torch.as_tensor(sample_times(M), dtype=torch.float32, device=device)
    ens = AutonomousEnsemble(specs, N_max, width_max).to(device)
    opt = torch.optim.Adam(ens.parameters(), lr=lr)
    R = len(specs)
    best = {k: v.detach().clone() for k, v in ens.W.items()}
    best_loss = torch.full((R,), float("inf"), device=device)
    failed = torch.zeros(R, dtype=torch.bool, device=device)
    hist = []

    def update_best(losses):
        better = torch.isfinite(losses) & (losses < best_loss)
        if better.any():
            for k, v in ens.W.items():
                best[k][better] = v.detach()[better]
            best_loss[better] = losses[better]

    start = 0
    if isinstance(checkpoint_every, bool) or not isinstance(checkpoint_every, int) or checkpoint_every < 1:
        raise ValueError(f"checkpoint_every must be a positive integer; got {checkpoint_every!r}")
    if checkpoint is not None:
        from pathlib import Path

        checkpoint = Path(checkpoint)
        if checkpoint.exists():
            ck = torch.load(checkpoint, map_location=device, weights_only=False)
            if ck["R"] != R or ck["steps"] != steps:
                raise ValueError(f"checkpoint {checkpoint} is for R={ck['R']}, steps={ck['steps']}; "
                                 f"this fit has R={R}, steps={steps}")
            ens.load_state_dict(ck["ens"])
            opt.load_state_dict(ck["opt"])
            for k in best:
                best[k].copy_(ck["best"][k])
            best_loss.copy_(ck["best_loss"])
            failed.copy_(ck["failed"])
            hist = list(ck["hist"])
            start = ck["step"]

    def save_checkpoint(step):
        atomic_write(checkpoint, lambda tmp: torch.save(
            {"R": R, "steps": steps, "step": step, "ens": ens.state_dict(), "opt": opt.state_dict(), "best": best,
             "best_loss": best_loss, "failed": failed, "hist": hist}, tmp))

    for i in tqdm(range(start, steps), desc=desc, disable=not progress, leave=False, initial=start, total=steps):
        if checkpoint is not None and i > start and i % checkpoint_every == 0:
            save_checkpoint(i)
        pred = ens.trajectory(t, train_step)
        losses = ((pred - y) ** 2).mean(dim=(1, 2))
        update_best(losses.detach())
        failed |= ~torch.isfinite(losses.detach())
        hist.append(losses.detach().cpu().numpy())
        opt.zero_grad(set_to_none=True)
        losses.nan_to_num(0.0, 0.0, 0.0).sum().backward()
        for p in ens.parameters():
            if p.grad is not None:
                p.grad.nan_to_num_(0.0, 0.0, 0.0)
        opt.step()
    with torch.no_grad():
        losses = ((ens.trajectory(t, train_step) - y) ** 2).mean(dim=(1, 2))
        update_best(losses)
        for k, v in ens.W.items():
            v.copy_(best[k])
        y_train = ens.trajectory(t, train_step).cpu().numpy()
        y_fine = ens.trajectory(t, fine_step).cpu().numpy()
    yt = y.cpu().numpy()
    return {"r2_train": r2(np.nan_to_num(y_train, nan=1e6), yt), "r2_fine": r2(np.nan_to_num(y_fine, nan=1e6), yt),
            "failed": failed.cpu().numpy(), "best_loss": best_loss.cpu().numpy(), "y_fine": y_fine,
            "loss": np.array(hist), "specs": specs}


def fit_sequential(specs: Sequence[FitSpec], targets, **kw) -> dict:
    """The same fits one after another (R = 1 each): the baseline of the ensemble benchmark."""
    outs = [fit_ensemble([s], np.asarray(targets)[i:i + 1], progress=False, **kw) for i, s in enumerate(specs)]
    return {k: np.concatenate([o[k] for o in outs]) for k in ("r2_train", "r2_fine", "failed", "best_loss", "y_fine")}


# ---------------------------------------------------------------- grids and summaries
def quick_grid(seed: int = 0) -> tuple[list[FitSpec], np.ndarray, list[dict]]:
    """QUICK grid (§4.4 item 6): {nODE, gnODE} × N ∈ {2, 3} × width ∈ {8, 64} × depth 2 ×
    targets {K = 2, K = 6 (seed 0), figure-eight} = 24 fits. Returns (specs, targets, labels)."""
    tg = {"K2": fourier_target(2, 0), "K6": fourier_target(6, 0), "fig8": figure_eight()}
    specs, targets, labels = [], [], []
    for kind in EXPR_KINDS:
        for N in (2, 3):
            for w in (8, 64):
                for name, target in tg.items():
                    specs.append(FitSpec(kind, N, w, 2, seed))
                    targets.append(target)
                    labels.append({"kind": kind, "N": N, "width": w, "target": name})
    return specs, np.stack(targets), labels


def full_grid(Ns=(2, 3, 4, 8), widths=(8, 32, 128), depths=(1, 2, 3), Ks=tuple(range(1, 11)),
              seeds=(0, 1, 2)) -> list[tuple[list[FitSpec], np.ndarray, list[dict]]]:
    """FULL grid: one ensemble per (depth, width) with N_max = max(Ns); per cell and seed the
    targets K ∈ Ks and the figure-eight. Returns a list of (specs, targets, labels) ensembles."""
    out = []
    for depth in depths:
        for w in widths:
            specs, targets, labels = [], [], []
            for kind in EXPR_KINDS:
                for N in Ns:
                    for s in seeds:
                        for K in list(Ks) + ["fig8"]:
                            specs.append(FitSpec(kind, N, w, depth, s))
                            targets.append(figure_eight() if K == "fig8" else fourier_target(K, s))
                            labels.append({"kind": kind, "N": N, "width": w, "depth": depth, "seed": s,
                                           "target": "fig8" if K == "fig8" else f"K{K}", "K": K})
            out.append((specs, np.stack(targets), labels))
    return out


def k_star(r2_by_K: dict, thr: float = R2_THRESHOLD) -> int:
    """Largest K of the grid such that R² ≥ thr for every grid K' ≤ K (0 if the smallest K fails);
    `r2_by_K` maps K → R² (the grid need not be contiguous, e.g. FULL-on-CPU K ∈ {1,2,3,4,6,8,10})."""
    if not r2_by_K:
        raise ValueError("r2_by_K must map at least one K to its R²")
    best = 0
    for K in sorted(r2_by_K):
        if r2_by_K[K] >= thr:
            best = K
        else:
            break
    return best


def expressivity_table(labels: list[dict], r2_fine: np.ndarray, thr: float = R2_THRESHOLD) -> dict:
    """E(model, N, width, depth) = mean over seeds of K*(seed); returns {(kind, N, width, depth): E}."""
    groups: dict = {}
    for lab, v in zip(labels, r2_fine):
        if lab["target"] == "fig8":
            continue
        key = (lab["kind"], lab["N"], lab["width"], lab["depth"])
        groups.setdefault(key, {}).setdefault(lab["seed"], {})[lab["K"]] = float(v)
    return {key: float(np.mean([k_star(d, thr) for d in by_seed.values()])) for key, by_seed in groups.items()}


def n_min(labels: list[dict], r2_fine: np.ndarray, thr: float = R2_THRESHOLD) -> dict:
    """N_min(model, depth, width, K) = smallest N whose seed-averaged R²_fine ≥ thr (inf if none)."""
    acc: dict = {}
    for lab, v in zip(labels, r2_fine):
        if lab["target"] == "fig8":
            continue
        acc.setdefault((lab["kind"], lab["depth"], lab["width"], lab["K"], lab["N"]), []).append(float(v))
    out: dict = {}
    for (kind, depth, w, K, N), vals in acc.items():
        key = (kind, depth, w, K)
        out.setdefault(key, math.inf)
        if np.mean(vals) >= thr:
            out[key] = min(out[key], N)
    return out


def tradeoff_stats(nmin: dict, w_small: int = 8, w_large: int = 128) -> dict:
    """§4.4 item 7: over (model, depth, K) triples (both N_min infinite excluded), the fraction with
    N_min(w_large) ≤ N_min(w_small) and the number with strict inequality."""
    triples = {(k, d, K) for (k, d, w, K) in nmin}
    le = strict = total = 0
    for k, d, K in triples:
        a, b = nmin.get((k, d, w_large, K), math.inf), nmin.get((k, d, w_small, K), math.inf)
        if math.isinf(a) and math.isinf(b):
            continue
        total += 1
        le += a <= b
        strict += a < b
    return {"tradeoff_frac": le / total if total else float("nan"), "tradeoff_strict": strict, "n_triples": total}


def quick_summary(labels: list[dict], r2_train: np.ndarray, r2_fine: np.ndarray, tol: float = 0.02) -> dict:
    """Numbers of the QUICK expressivity claims: best R²_fine on the figure-eight at N = 2 and N = 3
    (over models and widths); share of (model, N, target) with R²(w=64) ≥ R²(w=8) − tol; max
    |R²_train − R²_fine| over fits; mean R²_fine gnODE − nODE."""
    r2_train, r2_fine = np.asarray(r2_train), np.asarray(r2_fine)
    fig8 = {N: max(float(v) for l, v in zip(labels, r2_fine) if l["target"] == "fig8" and l["N"] == N)
            for N in sorted({l["N"] for l in labels})}
    by = {(l["kind"], l["N"], l["target"], l["width"]): float(v) for l, v in zip(labels, r2_fine)}
    widths = sorted({l["width"] for l in labels})
    lo, hi = widths[0], widths[-1]
    cells = sorted({k[:3] for k in by})
    mono = [by[c + (hi,)] >= by[c + (lo,)] - tol for c in cells]
    kinds = np.array([l["kind"] for l in labels])
    return {"r2_fig8": fig8, "width_monotone_frac": float(np.mean(mono)),
            "solver_gap": float(np.max(np.abs(r2_train - r2_fine))),
            "gnode_minus_node": float(r2_fine[kinds == "gnode"].mean() - r2_fine[kinds == "node"].mean())}
