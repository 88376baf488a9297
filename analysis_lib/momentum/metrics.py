r"""Time-to-threshold metrics and exponent fits (our operationalisation, spec §9).

- Occupation time $T_\mathrm{occ}$: mean over seeds of the number of steps with the distance above
  threshold. First passage hides the τ1 branch (ballistic overshoot); last exit is dominated by rare
  excursions.
- Parabolic argmin in log–log through the 3 grid points around the minimum (invalid at a grid edge).
- Knee: $x_c = \sqrt{T_\min/b}$, $b = \exp\,\mathrm{mean}(\log T - 2\log x)$ over right-branch points
  (right of the argmin, $T > 3T_\min$, not censored): the crossing of the plateau with the τ2 ∝ x² branch.
- Censoring (step-limit rule): points with $T_\mathrm{occ} > H/2$ are dropped from right-branch and knee fits.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ._validate import positive, positive_int


def occupation_time(above, every: int = 1, seed_axis: int = -1, obs_axis: int = 0):
    """T_occ from observation flags `above` (True/1 = above threshold; NaN counts as above).

    Returns (mean over `seed_axis`, per-seed T) with T = every × #observations above."""
    positive_int("every", every)
    a = np.asarray(above, dtype=float)
    flags = np.where(np.isnan(a), 1.0, a != 0)
    per_seed = every * flags.sum(axis=obs_axis)
    ax = seed_axis if seed_axis < 0 else seed_axis - (1 if seed_axis > obs_axis else 0)
    return per_seed.mean(axis=ax), per_seed


def censored(T, horizon):
    """Step-limit rule: True where T > horizon/2 (too close to the horizon to be trusted)."""
    return np.asarray(T, float) > 0.5 * np.asarray(horizon, float)


def loglog_slope(x, y) -> tuple[float, float]:
    """OLS fit log y = a + slope·log x over finite positive pairs → (slope, intercept); NaN if < 2 points."""
    x, y = np.asarray(x, float).ravel(), np.asarray(y, float).ravel()
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same size; got {x.shape} and {y.shape}")
    ok = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
    if ok.sum() < 2 or np.ptp(np.log(x[ok])) == 0:
        return float("nan"), float("nan")
    slope, intercept = np.polyfit(np.log(x[ok]), np.log(y[ok]), 1)
    return float(slope), float(intercept)


def _valid(x, T, horizon):
    x, T = np.asarray(x, float), np.asarray(T, float)
    if x.ndim != 1 or x.shape != T.shape:
        raise ValueError(f"x and T must be 1-D of equal length; got {x.shape} and {T.shape}")
    if np.any(np.diff(x) <= 0):
        raise ValueError("x must be strictly increasing")
    ok = np.isfinite(T) & (T > 0)
    if horizon is not None:
        ok &= ~censored(T, horizon)
    return x, T, ok


def parabolic_argmin_loglog(x, T, horizon=None) -> tuple[float, float, bool]:
    """Vertex of the parabola through the 3 points around the minimum of log T vs log x.

    Returns (x*, T*, ok); ok is False (and x*, T* are the grid minimum) when the minimum sits at
    a grid edge or a neighbour is missing/censored."""
    x, T, ok = _valid(x, T, horizon)
    if not ok.any():
        return float("nan"), float("nan"), False
    Tm = np.where(ok, T, np.inf)
    i = int(np.argmin(Tm))
    if i == 0 or i == len(x) - 1 or not (ok[i - 1] and ok[i + 1]):
        return float(x[i]), float(T[i]), False
    lx, lT = np.log(x[i - 1: i + 2]), np.log(T[i - 1: i + 2])
    a, b, c = np.polyfit(lx, lT, 2)
    if a <= 0:
        return float(x[i]), float(T[i]), False
    v = -b / (2 * a)
    v = float(np.clip(v, lx[0], lx[-1]))
    return float(np.exp(v)), float(np.exp(np.polyval([a, b, c], v))), True


def right_branch(x, T, factor: float = 3.0, horizon=None) -> np.ndarray:
    """Mask of right-branch points: right of the argmin, T > factor·T_min, not censored."""
    positive("factor", factor)
    x, T, ok = _valid(x, T, horizon)
    mask = np.zeros(len(x), dtype=bool)
    if not ok.any():
        return mask
    i = int(np.argmin(np.where(ok, T, np.inf)))
    Tmin = T[i]
    mask[i + 1:] = ok[i + 1:] & (T[i + 1:] > factor * Tmin)
    return mask


def knee(x, T, factor: float = 3.0, horizon=None) -> tuple[float, float, int]:
    r"""Knee $x_c = \sqrt{T_\min/b}$ with $b = \exp\,\mathrm{mean}(\log T - 2\log x)$ over the
    right branch → (x_c, b, n_right); NaN when fewer than 2 right-branch points."""
    x, T, ok = _valid(x, T, horizon)
    mask = right_branch(x, T, factor, horizon)
    if mask.sum() < 2:
        return float("nan"), float("nan"), int(mask.sum())
    Tmin = float(np.min(T[ok]))
    b = float(np.exp(np.mean(np.log(T[mask]) - 2 * np.log(x[mask]))))
    return float(np.sqrt(Tmin / b)), b, int(mask.sum())


def right_branch_slope(x, T, factor: float = 3.0, horizon=None) -> float:
    """OLS slope of log T vs log x on the right branch (τ2 predicts +2); NaN if < 2 points."""
    mask = right_branch(x, T, factor, horizon)
    return loglog_slope(np.asarray(x)[mask], np.asarray(T)[mask])[0] if mask.sum() >= 2 else float("nan")


def optimum_per_row(x, T_rows, horizons=None, method: str = "argmin", factor: float = 3.0):
    """1−β* (and T*) per row of a (n_row, n_x) table of times, by `method` ∈ {argmin, knee}.

    argmin: parabolic vertex (NaN when at an edge); knee: x_c, with T* = T_min of the row."""
    if method not in ("argmin", "knee"):
        raise ValueError(f"method must be 'argmin' or 'knee'; got {method!r}")
    T_rows = np.atleast_2d(np.asarray(T_rows, float))
    H = [None] * len(T_rows) if horizons is None else list(np.broadcast_to(horizons, (len(T_rows),)))
    xs, ts = np.full(len(T_rows), np.nan), np.full(len(T_rows), np.nan)
    for r, (row, h) in enumerate(zip(T_rows, H)):
        if method == "argmin":
            xv, tv, ok = parabolic_argmin_loglog(x, row, h)
            if ok:
                xs[r], ts[r] = xv, tv
        else:
            xv, _, _ = knee(x, row, factor, h)
            valid = np.isfinite(row) & (row > 0)
            if h is not None:
                valid &= ~censored(row, h)
            xs[r] = xv
            ts[r] = np.min(row[valid]) if valid.any() else np.nan
    return xs, ts


def bootstrap_statistic(stat_fn: Callable[[np.ndarray], float], per_seed: np.ndarray, n_boot: int = 200,
                        rng: np.random.Generator | int = 0, level: float = 0.95) -> tuple[float, tuple[float, float]]:
    """Statistic on the seed mean, and its percentile bootstrap CI over seeds (last axis of
    `per_seed`; seeds resampled jointly across the whole grid, which keeps common random numbers).

    `stat_fn` maps the seed-mean table (per_seed.mean(-1)) to a number."""
    positive_int("n_boot", n_boot, minimum=10)
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1); got {level!r}")
    per_seed = np.asarray(per_seed, float)
    rng = np.random.default_rng(rng)
    n_seed = per_seed.shape[-1]
    value = float(stat_fn(per_seed.mean(axis=-1)))
    boots = np.array([stat_fn(per_seed[..., rng.integers(0, n_seed, n_seed)].mean(axis=-1)) for _ in range(n_boot)])
    boots = boots[np.isfinite(boots)]
    if len(boots) < n_boot // 2:
        return value, (float("nan"), float("nan"))
    a = (1 - level) / 2
    return value, (float(np.quantile(boots, a)), float(np.quantile(boots, 1 - a)))


bootstrap_slope = bootstrap_statistic
