"""Random autonomous gated networks: Cho GRU, PyTorch-convention GRU and LSTM.

`gated_rnn(kind, params, N, seed, dt=None)` draws the weights once (standard normal / √N, then
scaled by the gains, so the same seed gives the same draws for any gains) and returns a
`GatedRNN` with `step`, `jacobian` (exact, spec §4.1), `diag_stats` (the theory interface),
`simulate` and initial states. `dt=None` is the discrete map F; a float `dt` is the
continuous-time model ẋ = F(x) − x, integrated by Euler steps x + dt (F(x) − x), whose
Jacobian is J_c = J_d − I.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.special import expit

from ..params import (ChoGRUParams, LSTMParams, TorchGRUParams, check_float, check_kind, check_params,
                     check_positive_int, check_seed)
from ..rmt.stats import DiagStats, cho_stats, lstm_stats, torch_gru_stats

_BLOCKS = {"cho": ("z", "r", "h"), "torch": ("z", "r", "n"), "lstm": ("f", "i", "g", "o")}
_GAIN_OF_BLOCK = {
    "cho": {"z": "s_z", "r": "s_r", "h": "s_h"},
    "torch": {"z": "s_z", "r": "s_r", "n": "s_h"},
    "lstm": {"f": "s_f", "i": "s_i", "g": "s_g", "o": "s_o"},
}


def draw_weights(kind: str, N: int, seed: int) -> dict[str, np.ndarray]:
    """Unit-variance draws X_k ~ N(0, 1/N), one independent N×N matrix per block of `kind`."""
    kind = check_kind(kind)
    N = check_positive_int("N", N)
    rng = np.random.default_rng(check_seed(seed))
    return {name: rng.standard_normal((N, N)) / math.sqrt(N) for name in _BLOCKS[kind]}


class GatedRNN:
    """A random gated network without input (spec §3). Build it with `gated_rnn`."""

    def __init__(self, kind: str, params: Any, N: int, seed: int = 0, dt: float | None = None,
                 unit_weights: dict[str, np.ndarray] | None = None):
        self.kind = check_kind(kind)
        self.params = check_params(kind, params)
        self.N = check_positive_int("N", N)
        self.seed = check_seed(seed)
        self.dt = None if dt is None else check_float("dt", dt, 0.0, 1.0, lo_open=True)
        X = unit_weights if unit_weights is not None else draw_weights(kind, N, seed)
        gains = _GAIN_OF_BLOCK[kind]
        # Scale once here: the hot loops then use the matrices as they are.
        self.weights = {b: getattr(params, gains[b]) * X[b] for b in _BLOCKS[kind]}
        self._unit_weights = X

    # ------------------------------------------------------------------ basics
    @property
    def dim(self) -> int:
        """State dimension: N for the GRUs, 2N for the LSTM (h stacked over c)."""
        return 2 * self.N if self.kind == "lstm" else self.N

    @property
    def continuous(self) -> bool:
        return self.dt is not None

    def with_params(self, params: Any) -> "GatedRNN":
        """Same weight draws, new gains and biases (fast: no new random numbers)."""
        return GatedRNN(self.kind, params, self.N, self.seed, self.dt, unit_weights=self._unit_weights)

    def _check_state(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        if x.shape[0] != self.dim or x.ndim > 2:
            raise ValueError(f"state must have shape ({self.dim},) or ({self.dim}, batch); got {x.shape}")
        return x

    def _gate(self, name: str, bias: float, gain: float, h: np.ndarray) -> np.ndarray:
        # A zero gain makes the gate a constant: skip the mat-vec.
        if gain == 0.0:
            return np.full(h.shape, expit(bias))
        return expit(self.weights[name] @ h + bias)

    # ------------------------------------------------------------------ the map
    def _forward(self, x: np.ndarray) -> dict[str, np.ndarray]:
        p = self.params
        if self.kind == "cho":
            h = x
            z = self._gate("z", p.b_z, p.s_z, h)
            r = self._gate("r", p.b_r, p.s_r, h)
            ht = np.tanh(self.weights["h"] @ (r * h) + p.b_h)
            return {"h": h, "z": z, "r": r, "ht": ht, "new": (1 - z) * h + z * ht}
        if self.kind == "torch":
            h = x
            r = self._gate("r", p.b_r, p.s_r, h)
            z = self._gate("z", p.b_z, p.s_z, h)
            a = self.weights["n"] @ h + p.b_hn
            n = np.tanh(r * a + p.b_in)
            return {"h": h, "z": z, "r": r, "a": a, "n": n, "new": (1 - z) * n + z * h}
        N = self.N
        h, c = x[:N], x[N:]
        f = self._gate("f", p.b_f, p.s_f, h)
        i = self._gate("i", p.b_i, p.s_i, h)
        o = self._gate("o", p.b_o, p.s_o, h)
        g = np.tanh(self.weights["g"] @ h + p.b_g)
        c_new = f * c + i * g
        tc = np.tanh(c_new)
        return {"h": h, "c": c, "f": f, "i": i, "o": o, "g": g, "c_new": c_new, "tc": tc,
                "new": np.concatenate([o * tc, c_new], axis=0)}

    def step(self, x: np.ndarray) -> np.ndarray:
        """One step: F(x) (discrete) or x + dt (F(x) − x) (continuous, Euler). x: (dim,) or (dim, B)."""
        x = self._check_state(x)
        new = self._forward(x)["new"]
        return new if self.dt is None else x + self.dt * (new - x)

    def simulate(self, x0: np.ndarray, n_steps: int, record_every: int | None = None,
                 progress: bool = False) -> np.ndarray:
        """Iterate `step`; returns the final state, or the states every `record_every` steps
        (shape (n_records, dim[, B]), the first record after `record_every` steps)."""
        x = self._check_state(x0).copy()
        n_steps = check_positive_int("n_steps", n_steps, 0)
        if record_every is not None:
            record_every = check_positive_int("record_every", record_every)
        from ...progress import tqdm

        out = []
        for t in tqdm(range(1, n_steps + 1), disable=not progress, desc="simulate", leave=False):
            x = self.step(x)
            if record_every is not None and t % record_every == 0:
                out.append(x.copy())
        if record_every is None:
            return x
        return np.stack(out) if out else np.empty((0,) + x.shape)

    def random_state(self, seed: int, std: float | None = None) -> np.ndarray:
        """Initial state: h0 = φ(ξ), ξ ~ N(0, 1) (spec §4.6) or, with `std`, h0 = std·ξ.
        For the LSTM the cell state is c0 = ξ' ~ N(0, 1) (or std·ξ')."""
        rng = np.random.default_rng(check_seed(seed))
        xi = rng.standard_normal(self.dim)
        if std is not None:
            return check_float("std", std, 0.0) * xi
        if self.kind == "lstm":
            return np.concatenate([np.tanh(xi[: self.N]), xi[self.N:]])
        return np.tanh(xi)

    def zero_state(self) -> np.ndarray:
        return np.zeros(self.dim)

    # ------------------------------------------------------------------ linearisation
    def _units(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Per-unit factors of the exact Jacobian (spec §4.1)."""
        s = self._forward(self._check_state(x))
        if self.kind == "cho":
            z, r, ht, h = s["z"], s["r"], s["ht"], s["h"]
            return {"z": z, "A": (ht - h) * z * (1 - z), "B": z * (1 - ht ** 2), "C": r, "E": h * r * (1 - r)}
        if self.kind == "torch":
            z, r, n, h, a = s["z"], s["r"], s["n"], s["h"], s["a"]
            core = (1 - z) * (1 - n ** 2)
            return {"z": z, "A": (h - n) * z * (1 - z), "B": core * r, "E": core * a * r * (1 - r)}
        f, i, o, g, c, tc = s["f"], s["i"], s["o"], s["g"], s["c"], s["tc"]
        return {"f": f, "i": i, "o": o, "g": g, "c": c, "tc": tc,
                "Qf": c * f * (1 - f), "Qi": g * i * (1 - i), "Qg": i * (1 - g ** 2),
                "D_o": o * (1 - tc ** 2), "Wo": tc * o * (1 - o)}

    def jacobian(self, x: np.ndarray) -> np.ndarray:
        """Exact Jacobian at state x: J_d (discrete) or J_c = J_d − I (continuous).

        Cho: J_d = D[1−z] + D[A]U_z + D[B]U_h(D[C] + D[E]U_r), A = (h̃−h)z(1−z), B = z(1−h̃²),
        C = r, E = h r(1−r). PyTorch: J = D[z] + D[A']W_hz + D[B']W_hn + D[E']W_hr.
        LSTM: J = [[W_o + D[D_o]Q, D[D_o f]], [Q, D[f]]], Q = ∂c'/∂h (spec §4.1).
        """
        x = self._check_state(x)
        if x.ndim != 1:
            raise ValueError("jacobian needs a single state of shape (dim,)")
        u, W = self._units(x), self.weights
        if self.kind == "cho":
            inner = W["h"] * u["C"][None, :] + (W["h"] * u["E"][None, :]) @ W["r"]
            J = u["B"][:, None] * inner + u["A"][:, None] * W["z"]
            J[np.diag_indices(self.N)] += 1 - u["z"]
        elif self.kind == "torch":
            J = u["A"][:, None] * W["z"] + u["B"][:, None] * W["n"] + u["E"][:, None] * W["r"]
            J[np.diag_indices(self.N)] += u["z"]
        else:
            N = self.N
            Q = u["Qf"][:, None] * W["f"] + u["Qi"][:, None] * W["i"] + u["Qg"][:, None] * W["g"]
            J = np.empty((2 * N, 2 * N))
            J[:N, :N] = u["Wo"][:, None] * W["o"] + u["D_o"][:, None] * Q
            J[:N, N:] = np.diag(u["D_o"] * u["f"])
            J[N:, :N] = Q
            J[N:, N:] = np.diag(u["f"])
        if self.dt is not None:
            J[np.diag_indices(self.dim)] -= 1.0
        return J

    def diag_stats(self, x: np.ndarray) -> DiagStats:
        """The per-unit statistics of the state x (`DiagStats`), in the model's time convention."""
        u, p = self._units(self._check_state(x)), self.params
        if self.kind == "cho":
            return cho_stats(u["z"], u["A"], u["B"], u["C"], u["E"], p, self.continuous)
        if self.kind == "torch":
            return torch_gru_stats(u["z"], u["A"], u["B"], u["E"], p, self.continuous)
        q2 = (p.s_f * u["Qf"]) ** 2 + (p.s_i * u["Qi"]) ** 2 + (p.s_g * u["Qg"]) ** 2
        w2 = (p.s_o * u["Wo"]) ** 2
        return lstm_stats(u["f"], u["D_o"], q2, w2, p, self.continuous,
                          units={k: u[k] for k in ("i", "o", "g", "c")})


def gated_rnn(kind: str, params: Any, N: int, seed: int = 0, dt: float | None = None) -> GatedRNN:
    """A random autonomous gated network of `kind` ∈ {"cho", "torch", "lstm"} (spec §3)."""
    return GatedRNN(kind, params, N, seed, dt)


def fd_jacobian(model: GatedRNN, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central finite differences of the vector field (F(x) for discrete, F(x) − x for continuous)."""
    x = model._check_state(x)
    field = (lambda y: model.step(y)) if model.dt is None else (lambda y: (model.step(y) - y) / model.dt)
    J = np.empty((model.dim, model.dim))
    for j in range(model.dim):
        e = np.zeros(model.dim)
        e[j] = eps
        J[:, j] = (field(x + e) - field(x - e)) / (2 * eps)
    return J


def eigvals(J: np.ndarray) -> np.ndarray:
    """Eigenvalues of a Jacobian: `scipy.linalg.eigvals` without the finiteness check and
    without a defensive copy (the hot path of every spectrum; J is overwritten)."""
    from scipy.linalg import eigvals as _eigvals

    return _eigvals(J, overwrite_a=True, check_finite=False)


def iid_state(kind: str, N: int, seed: int) -> np.ndarray:
    """An i.i.d. state (spec §4.6 option 3): h_i = φ(ξ_i) (LSTM: c_i = ξ'_i)."""
    kind = check_kind(kind)
    rng = np.random.default_rng(check_seed(seed))
    N = check_positive_int("N", N)
    xi = rng.standard_normal(2 * N if kind == "lstm" else N)
    if kind == "lstm":
        return np.concatenate([np.tanh(xi[:N]), xi[N:]])
    return np.tanh(xi)
