"""Spectra at the states of spec §4.6 with their theory, one function per figure-level quantity.

`stationary_spectra` burns a network in from h0 = φ(ξ) and returns eigenvalues plus `DiagStats`
at `n_times` later time points; `spectrum_summary` turns one (eigs, stats) pair into the numbers
the notebooks plot and check (radius, right edge, slow-mode fraction, outside fraction) next to
their theory values.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .models import eigvals, gated_rnn, iid_state
from ..params import check_float, check_positive_int
from ..rmt.stats import DiagStats
from ..rmt.support import outside_fraction, radius_edge, rightmost_edge


@dataclass(frozen=True, eq=False)
class SpectraResult:
    """Eigenvalues and statistics of one network at several states (time points or seeds)."""

    kind: str
    params: Any
    N: int
    seed: int
    eigs: list = field(default_factory=list)
    stats: list = field(default_factory=list)
    states: list = field(default_factory=list)
    times: list = field(default_factory=list)


def stationary_spectra(kind: str, params: Any, N: int, seed: int = 0, burn_in: int = 1000,
                       n_times: int = 1, spacing: int = 100, dt: float | None = None,
                       keep_states: bool = False) -> SpectraResult:
    """Spectra at simulated states: burn in `burn_in` steps from h0 = φ(ξ), then `n_times` states
    `spacing` steps apart (spec §4.6 option 1). Weights and h0 come from `seed`."""
    model = gated_rnn(kind, params, N, seed, dt)
    n_times = check_positive_int("n_times", n_times)
    spacing = check_positive_int("spacing", spacing)
    x = model.simulate(model.random_state(seed + 7919), check_positive_int("burn_in", burn_in, 0))
    res = SpectraResult(kind, params, N, seed)
    for t in range(n_times):
        if t:
            x = model.simulate(x, spacing)
        res.eigs.append(eigvals(model.jacobian(x)))
        res.stats.append(model.diag_stats(x))
        res.times.append(burn_in + t * spacing)
        if keep_states:
            res.states.append(x.copy())
    return res


def zero_state_spectrum(kind: str, params: Any, N: int, seed: int = 0, dt: float | None = None):
    """(eigs, stats) of the Jacobian at the zero state (a fixed point when b_h = 0 / b_g = 0)."""
    model = gated_rnn(kind, params, N, seed, dt)
    x = model.zero_state()
    return eigvals(model.jacobian(x)), model.diag_stats(x)


def iid_spectrum(kind: str, params: Any, N: int, seed: int = 0, dt: float | None = None):
    """(eigs, stats) at an i.i.d. state h_i = φ(ξ_i) (spec §4.6 option 3)."""
    model = gated_rnn(kind, params, N, seed, dt)
    x = iid_state(kind, N, seed + 104729)
    return eigvals(model.jacobian(x)), model.diag_stats(x)


def empirical_slow_fraction(eigs: np.ndarray, delta: float, center: float = 1.0) -> float:
    """Fraction of eigenvalues with |λ − center| < δ."""
    delta = check_float("delta", delta, 0.0, lo_open=True)
    return float(np.mean(np.abs(np.asarray(eigs) - center) < delta))


def spectrum_summary(eigs: np.ndarray, stats: DiagStats, delta: float = 0.05, edges: bool = True) -> dict:
    """Numbers of one spectrum next to their theory: radius (max|λ|) vs `radius_edge`, rightmost
    Re λ vs `rightmost_edge`, slow fraction |λ − slow_center| < δ vs `slow_mode_prediction`,
    and the fraction of eigenvalues outside the predicted support."""
    eigs = np.asarray(eigs)
    out = {
        "radius": float(np.abs(eigs).max()),
        "rightmost": float(eigs.real.max()),
        "slow_frac": empirical_slow_fraction(eigs, delta, stats.slow_center),
        "slow_pred": stats.slow_mode_prediction(delta),
        "outside": outside_fraction(eigs, stats),
    }
    if edges:
        out["radius_theory"] = radius_edge(stats)
        out["rightmost_theory"] = rightmost_edge(stats)
    return out


def summarize_spectra(res: SpectraResult, delta: float = 0.05, edges: bool = True) -> dict:
    """`spectrum_summary` averaged over the states of a `SpectraResult` (means of each number)."""
    rows = [spectrum_summary(e, s, delta, edges) for e, s in zip(res.eigs, res.stats)]
    return {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}


def summaries_by(results, key, delta: float = 0.05, edges: bool = True) -> dict:
    """Group `SpectraResult`s by `key(result)` and average `spectrum_summary` over every state of
    every result in a group (seeds and time points): {key: {quantity: mean}}."""
    groups: dict = {}
    for r in results:
        groups.setdefault(key(r), []).extend(spectrum_summary(e, s, delta, edges) for e, s in zip(r.eigs, r.stats))
    return {k: {q: float(np.mean([row[q] for row in rows])) for q in rows[0]} for k, rows in groups.items()}


