"""Recall statistics: hit matrix, P_rec, R, C and serial-position curves (spec §3)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .data import Story, count_numbered_lines


def hit_matrix(scores: Sequence[Sequence[int]], L: int) -> np.ndarray:
    """h[μ, i] = 1 if participant μ recalled clause i+1 (1-based clause numbers; duplicates count once).

    Numbers outside 1..L raise ValueError (the stored scores never have them).
    """
    if not isinstance(L, (int, np.integer)) or L < 1:
        raise ValueError(f"L must be a positive integer; got {L!r}")
    h = np.zeros((len(scores), int(L)), dtype=np.int8)
    for mu, s in enumerate(scores):
        for c in s:
            if not 1 <= int(c) <= L:
                raise ValueError(f"scores: clause number {c} outside 1..{L} (participant row {mu})")
            h[mu, int(c) - 1] = 1
    return h


def p_rec(scores: Sequence[Sequence[int]], L: int) -> np.ndarray:
    """P_rec(i) = mean_μ h_i^μ over all participants, empty recalls included."""
    if len(scores) == 0:
        raise ValueError("scores must hold at least one participant")
    return hit_matrix(scores, L).mean(axis=0)


def recall_counts(scores: Sequence[Sequence[int]]) -> np.ndarray:
    """Number of distinct clauses recalled by each participant."""
    return np.array([len(set(int(c) for c in s)) for s in scores], dtype=float)


@dataclass(frozen=True)
class RecallStats:
    L: int
    n: int
    R: float       # mean recall count = Σ_i P_rec(i)
    R_sem: float   # standard error over participants
    C: float       # mean number of numbered lines in the segmented recall
    n_empty: int

    @property
    def R_over_L(self) -> float:
        return self.R / self.L

    @property
    def C_over_R(self) -> float:
        return self.C / self.R


def recall_stats(story: Story) -> RecallStats:
    """R ± SEM and C (our operationalisation: numbered lines of `recalls segmented`)."""
    k = recall_counts(story.scores)
    c = np.array([count_numbered_lines(t) for t in story.recalls_segmented], dtype=float)
    return RecallStats(L=story.L, n=len(k), R=float(k.mean()), R_sem=float(k.std(ddof=1) / np.sqrt(len(k))),
                       C=float(c.mean()), n_empty=int(np.sum(k == 0)))


def story_p_rec(story: Story) -> np.ndarray:
    """P_rec per clause in original order."""
    return p_rec(story.scores, story.L)


def serial_position(prec, scramble_map=None) -> np.ndarray:
    """P_rec in presentation order: element j is P_rec of the clause shown at position j."""
    prec = np.asarray(prec, dtype=float)
    if scramble_map is None:
        return prec.copy()
    m = np.asarray(scramble_map, dtype=int)
    if m.shape != prec.shape or sorted(m.tolist()) != list(range(len(m))):
        raise ValueError("scramble_map must be a permutation of 0..L-1 with L = len(prec)")
    return prec[m]


def words_serial_position(rec_pos: Sequence[Sequence[int]], list_length: int = 128) -> np.ndarray:
    """P_rec by list position for the random word lists (1-based positions)."""
    return p_rec(rec_pos, list_length)


def cumulative_prec(prec, grid=None) -> tuple[np.ndarray, np.ndarray]:
    """Fraction of clauses with P_rec > p on a grid of p (F8)."""
    prec = np.asarray(prec, dtype=float)
    grid = np.linspace(0, 1, 101) if grid is None else np.asarray(grid, dtype=float)
    return grid, (prec[None, :] > grid[:, None]).mean(axis=1)
