"""Small input checks shared by the momentum modules (each raises ValueError naming the parameter)."""
from __future__ import annotations

import numbers

import numpy as np


def positive(name: str, value, *, allow_zero: bool = False):
    """A finite number (or array of numbers) > 0 (>= 0 with `allow_zero`)."""
    arr = np.asarray(value, dtype=float)
    ok = np.all(np.isfinite(arr)) and (np.all(arr >= 0) if allow_zero else np.all(arr > 0))
    if arr.size == 0 or not ok:
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be finite and {bound}; got {value!r}")
    return value


def in_range(name: str, value, lo: float, hi: float, *, lo_open: bool = False, hi_open: bool = False):
    """A finite number (or array) inside [lo, hi] (open sides as asked)."""
    arr = np.asarray(value, dtype=float)
    ok = arr.size > 0 and np.all(np.isfinite(arr))
    if ok:
        ok = np.all(arr > lo) if lo_open else np.all(arr >= lo)
        ok = ok and (np.all(arr < hi) if hi_open else np.all(arr <= hi))
    if not ok:
        left = "(" if lo_open else "["
        right = ")" if hi_open else "]"
        raise ValueError(f"{name} must lie in {left}{lo}, {hi}{right}; got {value!r}")
    return value


def positive_int(name: str, value, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return int(value)


def one_of(name: str, value, allowed):
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(repr(a) for a in allowed)}; got {value!r}")
    return value
