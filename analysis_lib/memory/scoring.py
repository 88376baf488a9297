"""Scoring of free recalls: the parser of the authors' stored GPT-4 completions (C12) and the
validation-set agreement analysis (C1, F1, F2).

The live LLM scoring pipeline (prompts, backends, caching) is the next issue's `llm.py`.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from .recall import hit_matrix
from .stats import cohen_kappa, pearson

_BRACKETED = re.compile(r"[\(\{\[]\s*(-?\d+(?:\s*,\s*-?\d+)*)?\s*,?\s*[\)\}\]]")


def parse_scoring_completion(text: str, L: int) -> list[int]:
    """Clause numbers (1..L, sorted, distinct) named by a scoring completion.

    Accepted forms: strict JSON `{"recalled": [...]}`; otherwise the last bracketed integer
    list — a tuple `(1, 2, 5)`, a set `{1, 2, 5}` or a list `[1, 2, 5]` — and failing that the
    integers of the last non-empty line ("…corresponds to the pieces 1, 9, 12, and 16.").
    Numbers outside 1..L are dropped. An empty bracket or a line without numbers gives [].
    """
    if not isinstance(text, str):
        raise ValueError(f"text must be a string; got {type(text).__name__}")
    if not isinstance(L, (int, np.integer)) or L < 1:
        raise ValueError(f"L must be a positive integer; got {L!r}")
    nums: list[int] | None = None
    stripped = text.strip()
    if stripped.startswith("{") and '"recalled"' in stripped:
        try:
            obj = json.loads(stripped)
            nums = [int(x) for x in obj["recalled"]]
        except (ValueError, KeyError, TypeError):
            nums = None
    if nums is None:
        found = list(_BRACKETED.finditer(text))
        if found:
            inner = found[-1].group(1) or ""
            nums = [int(x) for x in re.findall(r"-?\d+", inner)]
        else:
            lines = [ln for ln in text.splitlines() if ln.strip()]
            nums = [int(x) for x in re.findall(r"\d+", lines[-1])] if lines else []
    return sorted({n for n in nums if 1 <= n <= L})


def replay_parse_fraction(story) -> float:
    """Fraction of participants whose stored completion parses to exactly the stored score list."""
    ok = [parse_scoring_completion(c, story.L) == sorted(set(s))
          for c, s in zip(story.completions, story.scores)]
    return float(np.mean(ok))


# --------------------------------------------------------------------------- validation set
@dataclass(frozen=True)
class ValidationAnalysis:
    """Agreement of scorers on the 30 validation recalls (44 clauses)."""

    prec: dict           # scorer -> P_rec per clause (44,)
    human_mean: np.ndarray
    r_human: dict        # scorer in LLMS -> r(P_rec scorer, mean human)
    r_rater: dict        # "a1a2" ... -> r between rater P_rec
    r_llm: dict          # "gpt4_gpt3" ... -> r between LLM P_rec
    kappa: dict          # LLM -> κ vs human majority (≥2 of 3), item level
    kappa_rater: dict    # rater pair -> κ
    mean_R: dict         # scorer -> mean recall count


def analyse_validation(v) -> ValidationAnalysis:
    """P_rec per scorer, correlations (C1, F2) and item-level Cohen's κ."""
    H = {k: hit_matrix(s, v.L) for k, s in v.scores.items()}
    prec = {k: h.mean(axis=0) for k, h in H.items()}
    human = np.mean([prec[a] for a in v.RATERS], axis=0)
    majority = (sum(H[a] for a in v.RATERS) >= 2)
    r_human = {k: pearson(prec[k], human) for k in v.LLMS}
    r_rater = {a + b: pearson(prec[a], prec[b]) for a, b in combinations(v.RATERS, 2)}
    r_llm = {f"{a}_{b}": pearson(prec[a], prec[b]) for a, b in (("gpt4", "gpt3"), ("gpt4", "gpt35"), ("gpt3", "gpt35"))}
    kappa = {k: cohen_kappa(H[k], majority) for k in v.LLMS}
    kappa_rater = {a + b: cohen_kappa(H[a], H[b]) for a, b in combinations(v.RATERS, 2)}
    mean_R = {k: float(h.sum(axis=1).mean()) for k, h in H.items()}
    return ValidationAnalysis(prec, human, r_human, r_rater, r_llm, kappa, kappa_rater, mean_R)
