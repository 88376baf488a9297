"""Parameter objects of the random autonomous gated networks (frozen dataclasses).

Every gate or block k has weights U_k ~ N(0, s_k^2/N) and a scalar bias b_k shared by all
units (spec `gru_lstm_slow_modes.md` §3). Gains are `s_*`, biases `b_*`. Results are best
stated through sigmoid values σ(b) because the companion paper's bias sign is unverified.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import Any

KINDS: tuple[str, ...] = ("cho", "torch", "lstm")
"""Model kinds: Cho GRU (reset-before, z -> 0 is slow), PyTorch nn.GRU (reset-after, z -> 1 is
slow) and the PyTorch LSTM (state (h, c), 2N-dimensional)."""


def _check_gain(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0 (a gain: weight std times sqrt(N)); got {value!r}")
    return float(value)


def _check_bias(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite real number (a bias); got {value!r}")
    return float(value)


class _Params:
    """Shared validation: fields starting with `s_` are gains, `b_` are biases."""

    def __post_init__(self) -> None:
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            checked = _check_gain(f.name, value) if f.name.startswith("s_") else _check_bias(f.name, value)
            object.__setattr__(self, f.name, checked)

    def replace(self, **changes: Any):
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)  # type: ignore[type-var]

    def as_dict(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]


@dataclass(frozen=True)
class ChoGRUParams(_Params):
    """Cho GRU: z = σ(U_z h + b_z), r = σ(U_r h + b_r), h̃ = φ(U_h (r⊙h) + b_h),
    h' = (1 − z)⊙h + z⊙h̃. Defaults (our choice, spec §5): s_h = 3, s_r = 2, all biases 0."""

    s_h: float = 3.0
    s_z: float = 0.0
    s_r: float = 2.0
    b_z: float = 0.0
    b_r: float = 0.0
    b_h: float = 0.0


@dataclass(frozen=True)
class TorchGRUParams(_Params):
    """PyTorch nn.GRU without input: r = σ(W_hr h + b_r), z = σ(W_hz h + b_z),
    n = φ(r⊙(W_hn h + b_hn) + b_in), h' = (1 − z)⊙n + z⊙h. Here z -> 1 is slow."""

    s_h: float = 3.0
    s_z: float = 0.0
    s_r: float = 2.0
    b_z: float = 0.0
    b_r: float = 0.0
    b_hn: float = 0.0
    b_in: float = 0.0


@dataclass(frozen=True)
class LSTMParams(_Params):
    """PyTorch LSTM without input: f, i, o = σ(U h + b), g = φ(U_g h + b_g), c' = f⊙c + i⊙g,
    h' = o⊙φ(c'). Defaults: the F4 setting s_f = 3, s_g = 2.5, s_i = s_o = 1, biases 0."""

    s_g: float = 2.5
    s_f: float = 3.0
    s_i: float = 1.0
    s_o: float = 1.0
    b_f: float = 0.0
    b_i: float = 0.0
    b_o: float = 0.0
    b_g: float = 0.0


PARAMS_OF_KIND = {"cho": ChoGRUParams, "torch": TorchGRUParams, "lstm": LSTMParams}


def check_kind(kind: Any) -> str:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(repr(k) for k in KINDS)}; got {kind!r}")
    return kind


def check_params(kind: str, params: Any):
    cls = PARAMS_OF_KIND[check_kind(kind)]
    if not isinstance(params, cls):
        raise ValueError(f"params for kind {kind!r} must be a {cls.__name__}; got {type(params).__name__}")
    return params


def check_positive_int(name: str, value: Any, minimum: int = 1) -> int:
    """An integer (Python or numpy, not bool) >= minimum."""
    if isinstance(value, bool) or not hasattr(value, "__index__") or int(value) < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return int(value)


def check_seed(value: Any) -> int:
    if isinstance(value, bool) or not hasattr(value, "__index__") or not 0 <= int(value) < 2**32:
        raise ValueError(f"seed must be an integer in [0, 2**32 - 1]; got {value!r}")
    return int(value)


def check_float(name: str, value: Any, lo: float | None = None, hi: float | None = None,
                lo_open: bool = False) -> float:
    """A finite real number in [lo, hi] (or (lo, hi] with lo_open); numpy scalars allowed, bool not."""
    ok = not isinstance(value, (bool, str)) and hasattr(value, "__float__")
    if ok:
        value = float(value)
        ok = math.isfinite(value)
    if ok and lo is not None:
        ok = value > lo if lo_open else value >= lo
    if ok and hi is not None:
        ok = value <= hi
    if not ok:
        lo_s = "-inf" if lo is None else f"{lo:g}"
        hi_s = "inf" if hi is None else f"{hi:g}"
        bracket = "(" if lo_open or lo is None else "["
        raise ValueError(f"{name} must be a finite number in {bracket}{lo_s}, {hi_s}]; got {value!r}")
    return float(value)
