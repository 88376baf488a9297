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
    """Mean τ and forward-transition probability in original and presentation order (refuses scores
    without a recall order: `UnorderedScoresError`)."""
    require_ordered(story)
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


# --------------------------------------------------------------------------- C5 as a paired test
class UnorderedScoresError(ValueError):
    """An order analysis was asked of scores that carry no recall order (e.g. sorted score sets)."""


def require_ordered(story) -> None:
    """Raise `UnorderedScoresError` unless `story.scores_ordered` holds clauses in recall order.

    `Story.order_source` says where the order comes from: "stored" (the authors' ordered lists),
    "evidence" (our scorer: matched clauses sorted by where their quoted evidence occurs in the
    recall) or "simulated"; None means no stage produced an order (sorted sets would give τ ≈ 1
    for any recall, which is why the analyses refuse them).
    """
    src = getattr(story, "order_source", "stored")
    if src is None:
        raise UnorderedScoresError(
            f"{story.name}: scores_ordered carries no recall order (order_source=None); score the recalls with "
            "llm.score_recalls (its ScoringReport.ordered lists the clauses in recall order, from the quoted "
            "evidence) and pass scores_ordered=report.ordered to pipeline.to_story")


def paired_taus(ordered: Sequence[Sequence[int]], position_of, min_len: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """(τ_orig, τ_pres) for the same participants (those with ≥ `min_len` distinct clauses)."""
    keep = [s for s in ordered if len(dedupe_first(s)) >= min_len]
    return kendall_order(keep, None, min_len), kendall_order(keep, position_of, min_len)


@dataclass(frozen=True)
class DeltaTau:
    """Δτ = τ_orig − τ_pres per participant, its mean, a percentile bootstrap CI over participants,
    the two-sided Wilcoxon signed-rank and sign-test p values (zero differences dropped)."""

    name: str
    tau_orig: float
    tau_pres: float
    delta: float
    ci: tuple[float, float]
    p_wilcoxon: float
    p_sign: float
    n: int
    n_pos: int
    n_neg: int

    @property
    def shows_original_order(self) -> bool:
        """The CI of Δτ lies above 0: recalled closer to the original than to the presented order."""
        return self.ci[0] > 0

    def describe(self) -> str:
        return (f"Δτ = {self.delta:+.3f} [95% CI {self.ci[0]:+.3f}, {self.ci[1]:+.3f}] (τ_orig {self.tau_orig:.3f}, "
                f"τ_pres {self.tau_pres:.3f}; n = {self.n}, {self.n_pos} +/{self.n_neg} −; Wilcoxon p = "
                f"{self.p_wilcoxon:.2g}, sign test p = {self.p_sign:.2g})")


def _tests(d: np.ndarray) -> tuple[float, float, int, int]:
    from scipy.stats import binomtest, wilcoxon

    nz = d[d != 0]
    n_pos, n_neg = int((nz > 0).sum()), int((nz < 0).sum())
    if nz.size == 0:
        return 1.0, 1.0, 0, 0
    return float(wilcoxon(nz).pvalue), float(binomtest(n_pos, n_pos + n_neg).pvalue), n_pos, n_neg


def delta_tau(groups: Sequence[tuple[Sequence[Sequence[int]], np.ndarray]], n_boot: int,
              rng: np.random.Generator, name: str = "", min_len: int = 3, level: float = 0.95) -> DeltaTau:
    """Paired Δτ over one or several scrambled stories (`groups` = [(ordered recalls, presentation
    position of each original clause)]). The bootstrap resamples participants within each story
    (stratified), so pooling keeps every story's weight = its number of participants."""
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 2:
        raise ValueError(f"n_boot must be an integer >= 2; got {n_boot!r}")
    pairs = [paired_taus(o, pos, min_len) for o, pos in groups]
    if not any(t.size for t, _ in pairs):
        raise ValueError(f"no participant recalled >= {min_len} distinct clauses")
    to = np.concatenate([t for t, _ in pairs])
    tp = np.concatenate([p for _, p in pairs])
    d = to - tp
    diffs = [t - p for t, p in pairs]
    boots = np.empty(int(n_boot))
    for b in range(int(n_boot)):
        boots[b] = np.concatenate([x[rng.integers(0, x.size, x.size)] for x in diffs if x.size]).mean()
    lo, hi = np.quantile(boots, [(1 - level) / 2, (1 + level) / 2])
    p_w, p_s, n_pos, n_neg = _tests(d)
    return DeltaTau(name, float(to.mean()), float(tp.mean()), float(d.mean()), (float(lo), float(hi)), p_w, p_s,
                    int(d.size), n_pos, n_neg)


def story_delta_tau(story, n_boot: int, rng: np.random.Generator, min_len: int = 3) -> DeltaTau:
    """`delta_tau` of one scrambled story (refuses intact stories and unordered scores)."""
    require_ordered(story)
    if story.scramble_map is None:
        raise ValueError(f"{story.name} is not scrambled: presentation order = original order, Δτ ≡ 0")
    return delta_tau([(story.scores_ordered, story.presentation_position)], n_boot, rng, story.name, min_len)


def map_tau(scramble_map) -> float:
    """Kendall τ between presentation position and original index of a scramble map: how much of
    the original order the presented text keeps (0 for a typical random permutation, 1 = identity).
    A large value confounds Δτ (τ_orig and τ_pres then measure nearly the same thing)."""
    return kendall_tau(np.asarray(scramble_map, dtype=float))
