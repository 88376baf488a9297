"""Recall order: Kendall τ between output rank and clause position, forward transitions (C5).

Our operationalisation (the paper's Fig 3 gives no statistic): per participant the ordered
recall is de-duplicated keeping first occurrences; participants with fewer than `min_len`
distinct clauses are skipped.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np


def dedupe_first(seq: Sequence[int]) -> list[int]:
    """Keep the first occurrence of each item, in order."""
    seen, out = set(), []
    for x in seq:
        x = int(x)
        if x not in seen:
            seen.add(x)
            out.append(x)
    return out


def kendall_tau(positions: Sequence[float]) -> float:
    """Kendall τ between output rank 0..n−1 and `positions` (distinct values: τ-b = τ-a)."""
    p = np.asarray(positions, dtype=float)
    n = p.size
    if n < 2:
        raise ValueError("positions must hold at least 2 values")
    s = np.sign(p[None, :] - p[:, None])[np.triu_indices(n, 1)]
    return float(s.sum() / (n * (n - 1) / 2))


def forward_fraction(positions: Sequence[float]) -> float:
    """Fraction of consecutive output pairs whose second item has the larger position."""
    p = np.asarray(positions, dtype=float)
    if p.size < 2:
        raise ValueError("positions must hold at least 2 values")
    return float(np.mean(np.diff(p) > 0))


def _positions(seq, position_of):
    """Positions of the distinct clauses of `seq` (1-based numbers) in output order."""
    d = dedupe_first(seq)
    if position_of is None:
        return [c - 1 for c in d]
    n = len(position_of)
    if any(not 1 <= c <= n for c in d):
        raise ValueError(f"ordered recall has clause numbers outside 1..{n}")
    return [int(position_of[c - 1]) for c in d]


def kendall_order(ordered: Sequence[Sequence[int]], position_of=None, min_len: int = 3) -> np.ndarray:
    """τ per participant (NaN-free: skipped participants are dropped).

    `ordered`: 1-based clause numbers in recall order; `position_of[i]` = position of clause i+1
    (default: the original index i).
    """
    return _per_participant(kendall_tau, ordered, position_of, min_len)


def _per_participant(statistic, ordered, position_of, min_len: int) -> np.ndarray:
    """`statistic(positions)` for every participant who recalled at least `min_len` distinct clauses."""
    if not isinstance(min_len, int) or min_len < 2:
        raise ValueError(f"min_len must be an integer >= 2; got {min_len!r}")
    positions = (_positions(seq, position_of) for seq in ordered)
    return np.array([statistic(pos) for pos in positions if len(pos) >= min_len])


def forward_transitions(ordered: Sequence[Sequence[int]], position_of=None, min_len: int = 3) -> np.ndarray:
    """Forward-transition probability per participant (same inclusion rule as `kendall_order`)."""
    return _per_participant(forward_fraction, ordered, position_of, min_len)


def shuffle_null_tau(ordered, position_of=None, min_len: int = 3, n_shuffles: int = 20,
                     rng: np.random.Generator | None = None) -> np.ndarray:
    """Mean τ over participants after shuffling each output order (n_shuffles values)."""
    rng = np.random.default_rng(0) if rng is None else rng
    seqs = [dedupe_first(s) for s in ordered]
    seqs = [s for s in seqs if len(s) >= min_len]
    out = np.empty(n_shuffles)
    for k in range(n_shuffles):
        out[k] = np.mean(kendall_order([list(rng.permutation(s)) for s in seqs], position_of, min_len))
    return out


@dataclass(frozen=True)
class OrderStats:
    tau_orig: float
    tau_pres: float
    fwd_orig: float
    fwd_pres: float
    n: int


def order_stats(story) -> OrderStats:
    """Mean τ and forward-transition probability in original and presentation order."""
    pres = story.presentation_position
    t_o = kendall_order(story.scores_ordered)
    t_p = kendall_order(story.scores_ordered, pres)
    f_o = forward_transitions(story.scores_ordered)
    f_p = forward_transitions(story.scores_ordered, pres)
    return OrderStats(float(t_o.mean()), float(t_p.mean()), float(f_o.mean()), float(f_p.mean()), len(t_o))


def raster(ordered: Sequence[Sequence[int]], L: int, position_of=None) -> np.ndarray:
    """Recall-order raster: rows = output position, columns = participants sorted by recall count
    (descending); values = position/L in (0, 1], NaN where nothing was recalled."""
    seqs = [dedupe_first(s) for s in ordered]
    seqs.sort(key=len, reverse=True)
    depth = max((len(s) for s in seqs), default=0)
    img = np.full((max(depth, 1), len(seqs)), np.nan)
    for j, s in enumerate(seqs):
        img[: len(s), j] = (np.asarray(_positions(s, position_of), dtype=float) + 1) / L
    return img
