"""Small statistics used across the analysis: fits, correlations, agreement, bootstrap, bins."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


def _vec(x, name: str, min_len: int = 1) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if a.ndim != 1 or a.size < min_len or not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be a 1-d array of at least {min_len} finite numbers; got shape {a.shape}")
    return a


@dataclass(frozen=True)
class LinFit:
    """y = slope·x + intercept, with Pearson r."""

    slope: float
    intercept: float
    r: float

    def __call__(self, x):
        return self.slope * np.asarray(x, dtype=float) + self.intercept


def linfit(x, y) -> LinFit:
    """Ordinary least squares y = a x + b; returns slope a, intercept b and Pearson r."""
    x, y = _vec(x, "x", 2), _vec(y, "y", 2)
    if x.size != y.size:
        raise ValueError(f"x and y must have the same length; got {x.size} and {y.size}")
    xm, ym = x - x.mean(), y - y.mean()
    sxx = xm @ xm
    if sxx == 0:
        raise ValueError("x must not be constant")
    a = (xm @ ym) / sxx
    syy = ym @ ym
    r = (xm @ ym) / np.sqrt(sxx * syy) if syy > 0 else np.nan
    return LinFit(float(a), float(y.mean() - a * x.mean()), float(r))


def pearson(x, y) -> float:
    """Pearson correlation coefficient r = cov(x, y)/(σ_x σ_y)."""
    return linfit(x, y).r


def spearman(x, y) -> float:
    """Spearman rank correlation (average ranks for ties)."""
    from scipy.stats import rankdata

    x, y = _vec(x, "x", 2), _vec(y, "y", 2)
    return pearson(rankdata(x), rankdata(y))


def zscore(x) -> np.ndarray:
    """(x − mean)/std (population std)."""
    x = _vec(x, "x", 2)
    s = x.std()
    if s == 0:
        raise ValueError("x must not be constant")
    return (x - x.mean()) / s


def cohen_kappa(a, b) -> float:
    """Cohen's κ = (p_o − p_e)/(1 − p_e) for two binary label vectors (item level)."""
    a = np.asarray(a).astype(bool).ravel()
    b = np.asarray(b).astype(bool).ravel()
    if a.size != b.size or a.size == 0:
        raise ValueError(f"a and b must be non-empty and of equal size; got {a.size} and {b.size}")
    po = np.mean(a == b)
    pa, pb = a.mean(), b.mean()
    pe = pa * pb + (1 - pa) * (1 - pb)
    if pe == 1:
        return 1.0 if po == 1 else float("nan")
    return float((po - pe) / (1 - pe))


def bootstrap(statistic: Callable[[np.ndarray], float], n_items: int, n_resamples: int,
              rng: np.random.Generator) -> np.ndarray:
    """Values of `statistic(idx)` for `n_resamples` resamples `idx` of range(n_items) with replacement."""
    if not isinstance(n_items, (int, np.integer)) or n_items < 1:
        raise ValueError(f"n_items must be a positive integer; got {n_items!r}")
    if not isinstance(n_resamples, (int, np.integer)) or n_resamples < 1:
        raise ValueError(f"n_resamples must be a positive integer; got {n_resamples!r}")
    return np.array([statistic(rng.integers(0, n_items, n_items)) for _ in range(n_resamples)])


def percentile_ci(samples, level: float = 0.95) -> tuple[float, float]:
    """Percentile confidence interval of bootstrap samples."""
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1); got {level!r}")
    s = np.asarray(samples, dtype=float)
    s = s[np.isfinite(s)]
    if s.size == 0:
        return (float("nan"), float("nan"))
    lo, hi = np.quantile(s, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def quantile_bins(x, y, n_bins: int = 15):
    """Bin (x, y) into `n_bins` quantile bins of x; returns (x mean, y mean, y count) per bin."""
    x, y = _vec(x, "x"), _vec(y, "y")
    if x.size != y.size:
        raise ValueError("x and y must have the same length")
    if not isinstance(n_bins, int) or not 1 <= n_bins <= x.size:
        raise ValueError(f"n_bins must be an integer in [1, {x.size}]; got {n_bins!r}")
    order = np.argsort(x, kind="stable")
    groups = np.array_split(order, n_bins)
    return (np.array([x[g].mean() for g in groups]), np.array([y[g].mean() for g in groups]),
            np.array([len(g) for g in groups]))


def pearson_ci(r: float, n: int, level: float = 0.95) -> tuple[float, float]:
    """Fisher-z confidence interval of a Pearson r from n pairs."""
    from scipy.stats import norm

    if n < 4:
        raise ValueError(f"n must be >= 4; got {n}")
    z = np.arctanh(r)
    h = norm.ppf((1 + level) / 2) / np.sqrt(n - 3)
    return float(np.tanh(z - h)), float(np.tanh(z + h))
