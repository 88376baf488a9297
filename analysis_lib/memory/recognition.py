"""Recognition: pooled hit/false-alarm rates, retained clauses M, d′ (spec §4)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from .data import VALUE_CODES, Story

HIT, MISS, FA, CR = (VALUE_CODES[k] for k in ("hit", "miss", "fa", "cr"))


def retained_M(ph, pf, L):
    """M = L(P_h − P_f)/(1 − P_f): inverts the guessing model P_h = M/L + P_f(1 − M/L)."""
    ph, pf = np.asarray(ph, dtype=float), np.asarray(pf, dtype=float)
    if np.any((ph < 0) | (ph > 1)) or np.any((pf < 0) | (pf >= 1)):
        raise ValueError("ph must be in [0, 1] and pf in [0, 1)")
    if np.any(np.asarray(L) <= 0):
        raise ValueError(f"L must be positive; got {L!r}")
    out = L * (ph - pf) / (1 - pf)
    return float(out) if np.ndim(out) == 0 else out


def corrected_rate(k, n):
    """k/n, with the log-linear correction (k + 0.5)/(n + 1) only when k/n is 0 or 1 (our choice)."""
    k, n = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    if np.any(n <= 0) or np.any(k < 0) or np.any(k > n):
        raise ValueError("need 0 <= k <= n and n > 0")
    rate = k / n
    edge = (k == 0) | (k == n)
    rate = np.where(edge, (k + 0.5) / (n + 1), rate)
    return float(rate) if rate.ndim == 0 else rate


def dprime(ph, pf):
    """d′ = z(P_h) − z(P_f), z = Φ⁻¹ (= √2 erfinv(2p − 1)); rates must lie strictly in (0, 1)."""
    ph, pf = np.asarray(ph, dtype=float), np.asarray(pf, dtype=float)
    if np.any((ph <= 0) | (ph >= 1)) or np.any((pf <= 0) | (pf >= 1)):
        raise ValueError("ph and pf must lie strictly in (0, 1); use corrected_rate for counts")
    out = norm.ppf(ph) - norm.ppf(pf)
    return float(out) if out.ndim == 0 else out


def dprime_counts(h, m, fa, cr):
    """d′ from counts, log-linear corrected only where a rate is 0 or 1."""
    return dprime(corrected_rate(h, np.asarray(h) + np.asarray(m)), corrected_rate(fa, np.asarray(fa) + np.asarray(cr)))


@dataclass(frozen=True)
class RecognitionCounts:
    hits: int
    misses: int
    fas: int
    crs: int

    @property
    def tpr(self) -> float:
        return self.hits / (self.hits + self.misses)

    @property
    def far(self) -> float:
        return self.fas / (self.fas + self.crs)


def recognition_counts(values) -> RecognitionCounts:
    """Pooled H, Miss, FA, CR counted by `value` (so trials with id ≥ 2L still count)."""
    v = np.asarray(values)
    return RecognitionCounts(*(int(np.sum(v == c)) for c in (HIT, MISS, FA, CR)))


def participant_counts(story: Story) -> np.ndarray:
    """(N_recog, 4) per-participant counts of hit, miss, fa, cr (for participant bootstraps)."""
    v = story.recog_value
    return np.stack([(v == c).sum(axis=1) for c in (HIT, MISS, FA, CR)], axis=1)


@dataclass(frozen=True)
class RecognitionStats:
    L: int
    counts: RecognitionCounts
    M: float
    dprime: float

    @property
    def tpr(self) -> float:
        return self.counts.tpr

    @property
    def far(self) -> float:
        return self.counts.far

    @property
    def M_over_L(self) -> float:
        return self.M / self.L


def recognition_stats(story: Story) -> RecognitionStats:
    c = recognition_counts(story.recog_value)
    return RecognitionStats(L=story.L, counts=c, M=retained_M(c.tpr, c.far, story.L),
                            dprime=float(dprime_counts(c.hits, c.misses, c.fas, c.crs)))


def bootstrap_M_trials(story: Story, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """M recomputed on trials resampled with replacement (the authors' error bars)."""
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be >= 1; got {n_resamples}")
    v = story.recog_value.ravel()
    old = v[(v == HIT) | (v == MISS)] == HIT
    new = v[(v == FA) | (v == CR)] == FA
    ph = rng.binomial(old.size, old.mean(), n_resamples) / old.size
    pf = rng.binomial(new.size, new.mean(), n_resamples) / new.size
    # resampling trials within old/new strata is a binomial draw of the pooled counts
    return story.L * (ph - pf) / (1 - pf)


def dprime_by_trial(stories, n_trials: int = 10) -> np.ndarray:
    """d′ at each trial position t = 1..n_trials, pooled over participants of `stories`."""
    v = np.concatenate([s.recog_value[:, :n_trials] for s in stories], axis=0)
    return dprime_by_trial_values(v)


def dprime_by_trial_values(v: np.ndarray) -> np.ndarray:
    counts = [(v == c).sum(axis=0) for c in (HIT, MISS, FA, CR)]
    return np.asarray(dprime_counts(*counts), dtype=float)


def dprime_trial_slope_bootstrap(stories, n_resamples: int, rng: np.random.Generator):
    """Slope of d′ vs trial (1..10) and its bootstrap over participants (pooled across stories)."""
    v = np.concatenate([s.recog_value for s in stories], axis=0)
    t = np.arange(1, v.shape[1] + 1)
    slope = float(np.polyfit(t, dprime_by_trial_values(v), 1)[0])
    boots = np.empty(n_resamples)
    curves = np.empty((n_resamples, v.shape[1]))
    for b in range(n_resamples):
        curves[b] = dprime_by_trial_values(v[rng.integers(0, v.shape[0], v.shape[0])])
        boots[b] = np.polyfit(t, curves[b], 1)[0]
    return slope, boots, curves


def p_hit_by_clause(story: Story) -> tuple[np.ndarray, np.ndarray]:
    """Clause-level P_hit(i) = H_i/(H_i + M_i) and the number of old trials per clause.

    Trials with id ≥ 2L (no clause) are skipped here (our operationalisation); clauses without
    an old trial get NaN.
    """
    item, v = story.recog_item.ravel(), story.recog_value.ravel()
    old = (item < story.L) & ((v == HIT) | (v == MISS))
    n = np.bincount(item[old], minlength=story.L)
    h = np.bincount(item[old & (v == HIT)], minlength=story.L)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, h / np.maximum(n, 1), np.nan), n
