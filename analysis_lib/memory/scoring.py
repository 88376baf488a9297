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


# --------------------------------------------------------------------------- quoted evidence and recall order
_QUOTED = re.compile(r"[\"“”]([^\"“”]+)[\"“”]")
_EVIDENCE_LINE = re.compile(r"^\s*(\d+)\s*[.):]\s*(.*\S)\s*$")
_NOT_GIVEN = re.compile(r"^\W*(not given|not mentioned|not present|absent|none|no\b)", re.IGNORECASE)


def parse_evidence(text: str, L: int) -> dict[int, list[str]]:
    """Per-clause evidence of a text-mode scoring answer: lines `N. "quoted words"` (one or more
    quotes; unquoted text after the number is taken as the quote), `N. Not given` = no evidence.
    Returns {clause number (1..L): [quotes]} for the clauses with evidence."""
    if not isinstance(text, str):
        raise ValueError(f"text must be a string; got {type(text).__name__}")
    out: dict[int, list[str]] = {}
    for ln in text.splitlines():
        m = _EVIDENCE_LINE.match(ln)
        if not m:
            continue
        n, rest = int(m.group(1)), m.group(2)
        if not 1 <= n <= L or _NOT_GIVEN.match(rest):
            continue
        quotes = [q.strip() for q in _QUOTED.findall(rest) if q.strip()]
        if not quotes and not rest.lstrip().startswith(("(", "{", "[")):
            quotes = [rest.strip()]
        if quotes:
            out.setdefault(n, []).extend(quotes)
    return out


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def locate_quote(quote: str, recall: str) -> tuple[int, float]:
    """(word position in the recall where the quote's best match starts, fraction of the quote's
    words matched in order there). Fuzzy: difflib's longest matching blocks over word tokens, so a
    quote with a changed word or punctuation still matches; (-1, 0.0) for an empty quote."""
    from difflib import SequenceMatcher

    q, r = _words(quote), _words(recall)
    if not q or not r:
        return -1, 0.0
    sm = SequenceMatcher(None, r, q, autojunk=False)
    blocks = [b for b in sm.get_matching_blocks() if b.size]
    if not blocks:
        return -1, 0.0
    # the match must be local: count the blocks that lie within a window of 2·len(q) words of the first
    start = blocks[0].a
    matched = sum(b.size for b in blocks if b.a < start + 2 * len(q) + 2)
    return start, matched / len(q)


EVIDENCE_MIN_MATCH = 0.75  # fraction of a quote's words that must be found, in order, in the recall


def evidence_positions(evidence: dict, recall: str, min_match: float = EVIDENCE_MIN_MATCH) -> dict[int, int]:
    """{clause: word position of its best-supported quote in the recall} for the clauses whose quote
    is found (≥ `min_match` of its words); clauses without such a quote are left out."""
    if not 0 < min_match <= 1:
        raise ValueError(f"min_match must be in (0, 1]; got {min_match!r}")
    out = {}
    for c, quotes in evidence.items():
        found = [locate_quote(q, recall) for q in quotes]
        found = [pos for pos, frac in found if frac >= min_match and pos >= 0]
        if found:
            out[int(c)] = min(found)
    return out


def order_by_evidence(positions: dict[int, int]) -> list[int]:
    """Clause numbers sorted by where their evidence occurs in the recall (ties: clause number):
    the scores in recall order that the order analyses (C5) need."""
    return [c for c, _ in sorted(positions.items(), key=lambda kv: (kv[1], kv[0]))]


def evidence_order_agreement(story, min_match: float = EVIDENCE_MIN_MATCH) -> dict:
    """On the authors' stored completions: the recall order rebuilt from GPT-4's quotes vs the
    stored `recall_scores_ordered` (both de-duplicated, restricted to their common clauses):
    mean Kendall τ between the two orders over participants with ≥ 3 common clauses, and the
    fraction of claimed clauses whose quote is found in the recall."""
    from .order import dedupe_first, kendall_tau

    taus, found, claimed = [], 0, 0
    for comp, rec, stored in zip(story.completions, story.recalls, story.scores_ordered):
        ev = parse_evidence(comp, story.L)
        nums = parse_scoring_completion(comp, story.L)
        pos = evidence_positions({c: q for c, q in ev.items() if c in nums}, rec, min_match)
        claimed += len(nums)
        found += len(pos)
        mine = order_by_evidence(pos)
        ref = [c for c in dedupe_first(stored) if c in pos]
        if len(ref) >= 3:
            rank = {c: i for i, c in enumerate(mine)}
            taus.append(kendall_tau([rank[c] for c in ref]))
    return {"tau_mean": float(np.mean(taus)) if taus else float("nan"), "n": len(taus),
            "found_fraction": found / claimed if claimed else float("nan")}


def evidence_ordered_story(story, min_match: float = EVIDENCE_MIN_MATCH):
    """The story with `scores_ordered` rebuilt by our ordered-scoring stage from the stored GPT-4
    completions (claimed clauses sorted by where their quote occurs; unlocated quotes left out),
    `order_source="evidence"`: the order analyses run on it exactly as on new data."""
    import dataclasses

    ordered = []
    for comp, rec in zip(story.completions, story.recalls):
        nums = parse_scoring_completion(comp, story.L)
        ev = parse_evidence(comp, story.L)
        ordered.append(tuple(order_by_evidence(evidence_positions({c: q for c, q in ev.items() if c in nums}, rec,
                                                                  min_match))))
    return dataclasses.replace(story, scores_ordered=tuple(ordered), order_source="evidence")
