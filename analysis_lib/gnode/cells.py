"""Recurrent cells of the flip-flop experiments (following the paper's setup as released in its code).

Every cell exposes the continuous-time vector field `field(h, x)` = τ·dh/dt and the Euler step
`step(h, x)` = h + α·field(h, x), α = Δt/τ (released runs: α = 1):

- nODE:  τ dh/dt = −h + F(h, x)                 F: relu MLP on [h; x] with a linear output layer
- gnODE: τ dh/dt = z(h, x) ⊙ (−h + F(h, x))      z = σ(W_z h + U_z x + b_z), z = 1 full update, 0 hold
- mGRU:  gnODE with F = tanh(W_h h + U_h x + b_h)
- RNN:   nODE with F = tanh(W_h h + U_h x + b_h)
- GRU (Cho variant): r = σ(W_r h + U_r x + b_r), h̃ = tanh(W_h (r ⊙ h) + U_h x + b_h),
  step h + α z ⊙ (h̃ − h); `field` returns z ⊙ (h̃ − h) (the per-step displacement / α).

Written by hand on purpose: torch.nn.GRU uses the opposite gate convention and applies r after
the matmul. Initialisation: Glorot-uniform per weight block with its own fans (W: fan_in N,
U: fan_in d), biases 1e-3·N(0, 1); optional `init="critical"` (§4.7 of the spec, see
`critical_rescale`).
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch
from torch import nn

MODEL_KINDS: tuple[str, ...] = ("gnode", "node", "mgru", "gru", "rnn")
H0_MODES: tuple[str, ...] = ("affine", "fixed")
INITS: tuple[str, ...] = ("glorot", "critical")
BIAS_SCALE = 1e-3


def _check_kind(kind: str) -> str:
    if not isinstance(kind, str) or kind.lower() not in MODEL_KINDS:
        raise ValueError(f"kind must be one of {MODEL_KINDS}; got {kind!r}")
    return kind.lower()


def _check_pos(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or int(value) < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


def _check_alpha(alpha) -> float:
    if not isinstance(alpha, (int, float)) or isinstance(alpha, bool) or not 0.0 < float(alpha) <= 1.0:
        raise ValueError(f"alpha = Δt/τ must be in (0, 1]; got {alpha!r}")
    return float(alpha)


def _check_hidden(hidden) -> tuple[int, ...]:
    if hidden is None:
        return ()
    try:
        hidden = tuple(hidden)
    except TypeError:
        raise ValueError(f"hidden must be a sequence of positive layer widths; got {hidden!r}") from None
    for w in hidden:
        _check_pos("hidden layer width", w)
    return tuple(int(w) for w in hidden)


def _glorot(shape: tuple[int, int], gen: torch.Generator, init: str = "glorot") -> nn.Parameter:
    """Glorot-uniform on one (fan_out, fan_in) block; `critical`: N(0, 1/fan_in) (Kaiming normal, gain 1)."""
    fan_out, fan_in = shape
    if init == "critical":
        w = torch.randn(shape, generator=gen) / math.sqrt(fan_in)
    else:
        bound = math.sqrt(6.0 / (fan_in + fan_out))
        w = (torch.rand(shape, generator=gen) * 2 - 1) * bound
    return nn.Parameter(w)


def _bias(n: int, gen: torch.Generator) -> nn.Parameter:
    return nn.Parameter(BIAS_SCALE * torch.randn(n, generator=gen))


class SplitAffine(nn.Module):
    """W h + U x + b with W and U initialised as separate blocks (their own fans), as released."""

    def __init__(self, n_h: int, n_x: int, n_out: int, gen: torch.Generator, init: str = "glorot"):
        super().__init__()
        self.W = _glorot((n_out, n_h), gen, init)
        self.U = _glorot((n_out, n_x), gen, init)
        self.b = _bias(n_out, gen)

    def forward(self, h: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return h @ self.W.T + x @ self.U.T + self.b


class Affine(nn.Module):
    """W a + b, Glorot-uniform W with its own fans, biases 1e-3·N(0, 1)."""

    def __init__(self, n_in: int, n_out: int, gen: torch.Generator, init: str = "glorot"):
        super().__init__()
        self.W = _glorot((n_out, n_in), gen, init)
        self.b = _bias(n_out, gen)

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        return a @ self.W.T + self.b


class FlowMLP(nn.Module):
    """F(h, x): affine on [h; x] (split blocks) → relu → … → linear output of size N.

    `hidden = (w1, …, wk)`: (N + d) → w1 → … → wk → N with relu after every hidden layer.
    `hidden = ()` with `out_act='tanh'` is the one-layer tanh(W_h h + U_h x + b_h) of RNN/mGRU.
    """

    def __init__(self, N: int, d: int, hidden: Sequence[int], gen: torch.Generator, out_act: str | None = None,
                 init: str = "glorot"):
        super().__init__()
        hidden = _check_hidden(hidden)
        widths = list(hidden) + [N]
        self.first = SplitAffine(N, d, widths[0], gen, init)
        self.rest = nn.ModuleList(Affine(a, b, gen, init) for a, b in zip(widths[:-1], widths[1:]))
        if out_act not in (None, "tanh"):
            raise ValueError(f"out_act must be None or 'tanh'; got {out_act!r}")
        self.out_act = out_act

    @property
    def n_weight_layers(self) -> int:
        return 1 + len(self.rest)

    def forward(self, h: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        a = self.first(h, x)
        for layer in self.rest:
            a = layer(torch.relu(a))
        return torch.tanh(a) if self.out_act == "tanh" else a


class Cell(nn.Module):
    """Base: `step(h, x) = h + α·field(h, x)`; subclasses define `field` (= τ·dh/dt)."""

    kind = "base"

    def __init__(self, N: int, d: int, alpha: float):
        super().__init__()
        self.N = _check_pos("N", N)
        self.d = _check_pos("d", d)
        self.alpha = _check_alpha(alpha)

    def field(self, h: torch.Tensor, x: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def gate(self, h: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Update gate z(h, x); ungated cells return ones (full update)."""
        return torch.ones_like(h)

    def step(self, h: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        v = self.field(h, x)
        # α = 1 (the released runs): 1·v is v bitwise, forward and backward, so skip one op per step.
        return h + v if self.alpha == 1.0 else h + self.alpha * v

    def dynamics_modules(self) -> list[nn.Module]:
        """Modules whose weights set the dynamics (rescaled by the critical initialisation)."""
        return [m for m in self.children()]


class NODECell(Cell):
    """nODE: τ dh/dt = −h + F(h, x) (α = 1: h_t = F(h_{t−1}, x_t))."""

    kind = "node"

    def __init__(self, N, d, hidden=(100, 100, 100), alpha=1.0, gen=None, init="glorot"):
        super().__init__(N, d, alpha)
        self.F = FlowMLP(N, d, hidden, gen, None, init)

    def field(self, h, x):
        return -h + self.F(h, x)


class GNODECell(Cell):
    """gnODE: τ dh/dt = z(h, x) ⊙ (−h + F(h, x)), z = σ(W_z h + U_z x + b_z)."""

    kind = "gnode"

    def __init__(self, N, d, hidden=(100, 100, 100), alpha=1.0, gen=None, init="glorot"):
        super().__init__(N, d, alpha)
        self.F = FlowMLP(N, d, hidden, gen, None, init)
        self.Z = SplitAffine(N, d, N, gen, init)

    def gate(self, h, x):
        return torch.sigmoid(self.Z(h, x))

    def field(self, h, x):
        return self.gate(h, x) * (-h + self.F(h, x))


class RNNCell(NODECell):
    """Vanilla RNN: τ dh/dt = −h + tanh(W_h h + U_h x + b_h)."""

    kind = "rnn"

    def __init__(self, N, d, alpha=1.0, gen=None, init="glorot"):
        Cell.__init__(self, N, d, alpha)
        self.F = FlowMLP(N, d, (), gen, "tanh", init)


class MGRUCell(GNODECell):
    """Minimal GRU: gnODE with F = tanh(W_h h + U_h x + b_h)."""

    kind = "mgru"

    def __init__(self, N, d, alpha=1.0, gen=None, init="glorot"):
        Cell.__init__(self, N, d, alpha)
        self.F = FlowMLP(N, d, (), gen, "tanh", init)
        self.Z = SplitAffine(N, d, N, gen, init)


class GRUCell(Cell):
    """GRU, Cho convention: h̃ = tanh(W_h (r ⊙ h) + U_h x + b_h); h' = h + α z ⊙ (h̃ − h)."""

    kind = "gru"

    def __init__(self, N, d, alpha=1.0, gen=None, init="glorot"):
        super().__init__(N, d, alpha)
        self.Hh = SplitAffine(N, d, N, gen, init)
        self.Z = SplitAffine(N, d, N, gen, init)
        self.R = SplitAffine(N, d, N, gen, init)

    def gate(self, h, x):
        return torch.sigmoid(self.Z(h, x))

    def field(self, h, x):
        r = torch.sigmoid(self.R(h, x))
        h_tilde = torch.tanh(self.Hh(r * h, x))
        return self.gate(h, x) * (h_tilde - h)


class FlipFlopModel(nn.Module):
    """cell + affine readout y_t = C h_t + c (after the update with x_t) + initial state.

    h0_mode 'affine': h_0 = ψ(x_1) = A x_1 + a (trainable); 'fixed': an untrained Glorot-normal
    vector, entries ~ N(0, 2/(N + 1)). `cell` may be any module with N, d, step(h, x), field(h, x), gate(h, x).
    """

    def __init__(self, cell: nn.Module, D: int, h0_mode: str = "affine", gen: torch.Generator | None = None):
        super().__init__()
        if h0_mode not in H0_MODES:
            raise ValueError(f"h0_mode must be one of {H0_MODES}; got {h0_mode!r}")
        gen = gen if gen is not None else torch.Generator().manual_seed(0)
        self.cell = cell
        self.D = _check_pos("D", D)
        self.readout = Affine(cell.N, D, gen)
        self.h0_mode = h0_mode
        if h0_mode == "affine":
            self.psi = Affine(cell.d, cell.N, gen)
        else:
            self.register_buffer("h0_fixed", torch.randn(cell.N, generator=gen) * math.sqrt(2.0 / (cell.N + 1)))

    @property
    def N(self) -> int:
        return self.cell.N

    def initial_state(self, x: torch.Tensor) -> torch.Tensor:
        """h_0 for a batch x (B, T, d)."""
        if self.h0_mode == "affine":
            return self.psi(x[:, 0])
        return self.h0_fixed.expand(x.shape[0], -1)

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None):
        """Unroll the Euler recurrence: returns (y, h), shapes (B, T, D) and (B, T, N)."""
        if x.ndim != 3 or x.shape[-1] != self.cell.d:
            raise ValueError(f"x must have shape (batch, T, {self.cell.d}); got {tuple(x.shape)}")
        h = self.initial_state(x) if h0 is None else h0
        hs = []
        for t in range(x.shape[1]):
            h = self.cell.step(h, x[:, t])
            hs.append(h)
        H = torch.stack(hs, 1)
        return self.readout(H), H


def build_model(kind: str, N: int, d: int, D: int | None = None, hidden: Sequence[int] = (100, 100, 100),
                alpha: float = 1.0, h0_mode: str = "affine", seed: int = 0, init: str = "glorot") -> FlipFlopModel:
    """A seeded flip-flop model. `hidden` is used by nODE/gnODE only (RNN/mGRU/GRU have no hidden layer)."""
    kind = _check_kind(kind)
    N = _check_pos("N", N)
    d = _check_pos("d", d)
    D = d if D is None else _check_pos("D", D)
    alpha = _check_alpha(alpha)
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}; got {init!r}")
    if h0_mode not in H0_MODES:
        raise ValueError(f"h0_mode must be one of {H0_MODES}; got {h0_mode!r}")
    gen = torch.Generator().manual_seed(int(seed))
    if kind == "gnode":
        cell = GNODECell(N, d, _check_hidden(hidden), alpha, gen, init)
    elif kind == "node":
        cell = NODECell(N, d, _check_hidden(hidden), alpha, gen, init)
    else:
        cell = {"rnn": RNNCell, "mgru": MGRUCell, "gru": GRUCell}[kind](N, d, alpha, gen, init)
    model = FlipFlopModel(cell, D, h0_mode, gen)
    if init == "critical":
        if kind == "gru":
            raise ValueError("init='critical' needs a cell with a flow network F: gnode, node, mgru or rnn")
        # J is taken at the mean initial state (h_0 for 'fixed', ψ(0) = a for 'affine') and x̄ = 0.
        with torch.no_grad():
            h_mean = model.initial_state(torch.zeros(1, 1, d))[0]
        # recorded so a notebook can report η before/after without rescaling twice
        model.critical_info = dict(zip(("sigma_w", "eta_before", "eta_after"), critical_rescale(model, h_mean=h_mean)))
    return model


def param_count(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad))


def param_count_formula(kind: str, N: int, d: int, D: int | None = None, hidden: Sequence[int] = (100, 100, 100),
                        h0_mode: str | None = "affine") -> int:
    """[derived] §4.3: MLP Σ(fan_in·w + w); gate N(N+d)+N; readout N·D+D; ψ d·N+N;
    RNN/mGRU/GRU = 1/2/3 × (N(N+d)+N) + readout. `h0_mode=None` or 'fixed' counts no ψ."""
    kind = _check_kind(kind)
    N, d = _check_pos("N", N), _check_pos("d", d)
    D = d if D is None else _check_pos("D", D)
    block = N * (N + d) + N
    readout = N * D + D
    psi = d * N + N if h0_mode == "affine" else 0
    if kind in ("rnn", "mgru", "gru"):
        return {"rnn": 1, "mgru": 2, "gru": 3}[kind] * block + readout + psi
    widths = [N + d] + list(_check_hidden(hidden)) + [N]
    mlp = sum(a * b + b for a, b in zip(widths[:-1], widths[1:]))
    gate = block if kind == "gnode" else 0
    return mlp + gate + readout + psi


def critical_rescale(model: FlipFlopModel, x_mean: torch.Tensor | None = None, h_mean: torch.Tensor | None = None):
    """The code's rescaling initialisation (§4.7; rationale [derived], no DMFT formula).

    J = ∂v/∂h of the ungated field v = −h + F(h, x̄) at (h̄, x̄); η = max Re eig(J); every weight
    and bias of the dynamics and gate networks (not readout, not ψ) is multiplied by
    σ_w = (1/(η + 1))^(1/L), L = weight layers of F. Returns (sigma_w, eta_before, eta_after).
    Meant for models built with `init='critical'` (N(0, 1/fan_in) weights).
    """
    cell = model.cell
    if not hasattr(cell, "F"):
        raise ValueError(f"critical_rescale needs a cell with a flow network F (nODE/gnODE/RNN/mGRU); got {cell.kind}")
    x_mean = torch.zeros(cell.d) if x_mean is None else torch.as_tensor(x_mean, dtype=torch.float32)
    h_mean = torch.zeros(cell.N) if h_mean is None else torch.as_tensor(h_mean, dtype=torch.float32)

    def eta() -> float:
        J = torch.autograd.functional.jacobian(lambda h: -h + cell.F(h[None], x_mean[None])[0], h_mean)
        return float(torch.linalg.eigvals(J.double()).real.max())

    eta_before = eta()
    if not eta_before > -1.0:
        raise ValueError(f"critical rescaling is undefined for max Re eig(J) <= -1; got {eta_before:.4g}")
    L = cell.F.n_weight_layers
    sigma_w = (1.0 / (eta_before + 1.0)) ** (1.0 / L)
    with torch.no_grad():
        for module in cell.dynamics_modules():
            for p in module.parameters():
                p.mul_(sigma_w)
    return sigma_w, eta_before, eta()
