"""An offline second scorer of free recalls: MiniLM sentence embeddings (spec §9, F14).

Our operationalisation (not the paper's method): the recall is split into units with the
deterministic clause splitter (`pipeline.split_clauses`); S[u, i] = cos(e(unit u), e(clause i)).
- rule A: clause i is recalled if max_u S[u, i] >= θ;
- rule B: each unit votes for its best clause and for any clause within `margin` (0.05) of it,
  if that similarity is >= θ.
θ is chosen on a grid to maximise Cohen's κ against a reference scoring. Two protocols:
- out of sample (headline): θ tuned against the authors' stored GPT-4 scores of the 70 `panic`
  recalls that are *not* in the validation set (56-clause segmentation), then evaluated on the 30
  validation recalls (44-clause segmentation) against the human raters and GPT-4;
- in sample: θ tuned on the validation recalls themselves against the human majority —
  optimistic by construction, shown only as an upper bound.
It is a teaching fallback, not a substitute for the GPT-4 scores (headline figures use those).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .embed import embed
from .recall import hit_matrix
from .stats import cohen_kappa, pearson

RULES = ("A", "B")
THETAS = np.round(np.arange(0.30, 0.901, 0.01), 2)


def recall_units(text: str) -> list[str]:
    """The recall split into clause-like units (deterministic splitter); [] for an empty recall."""
    from .pipeline import split_clauses

    return split_clauses(text) if isinstance(text, str) and text.strip() else []


def similarity_matrices(clauses: Sequence[str], recalls: Sequence[str], cache_dir=None,
                        encoder=None) -> list[np.ndarray]:
    """One (units × L) cosine matrix per recall (0 × L for an empty recall)."""
    clauses = list(clauses)
    units = [recall_units(r) for r in recalls]
    flat = [u for us in units for u in us]
    E = embed(clauses + flat, cache_dir, encoder)
    C, U = E[: len(clauses)], E[len(clauses):]
    C = C / np.linalg.norm(C, axis=1, keepdims=True)
    U = U / np.maximum(np.linalg.norm(U, axis=1, keepdims=True), 1e-12)
    out, k = [], 0
    for us in units:
        out.append(U[k:k + len(us)] @ C.T)
        k += len(us)
    return out


def score_from_similarity(S: np.ndarray, theta: float, rule: str = "A", margin: float = 0.05) -> list[int]:
    """1-based clause numbers recalled under rule A or B (see module docstring)."""
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}; got {rule!r}")
    S = np.asarray(S, dtype=float)
    if S.ndim != 2:
        raise ValueError("S must be a (units × clauses) matrix")
    if S.shape[0] == 0:
        return []
    if rule == "A":
        return [int(i) + 1 for i in np.flatnonzero(S.max(axis=0) >= theta)]
    best = S.max(axis=1, keepdims=True)
    votes = (S >= best - margin) & (S >= theta)
    return [int(i) + 1 for i in np.flatnonzero(votes.any(axis=0))]


def score_all(sims: Sequence[np.ndarray], theta: float, rule: str = "A") -> list[list[int]]:
    return [score_from_similarity(S, theta, rule) for S in sims]


def tune_theta(sims: Sequence[np.ndarray], reference: Sequence[Sequence[int]], L: int, rule: str = "A",
               thetas=THETAS) -> tuple[float, float]:
    """θ on the grid maximising κ(embedding scores, reference); returns (θ, κ)."""
    ref = hit_matrix(reference, L)
    kappas = [cohen_kappa(hit_matrix(score_all(sims, t, rule), L), ref) for t in thetas]
    i = int(np.nanargmax(kappas))
    return float(thetas[i]), float(kappas[i])


@dataclass(frozen=True)
class ScorerAgreement:
    rule: str
    theta_out: float            # tuned on the 70 other panic recalls vs GPT-4 (out of sample)
    kappa_tune_gpt4: float      # κ reached on the tuning set
    kappa_human: float          # validation: κ vs human majority (≥2 of 3), θ out of sample
    kappa_gpt4: float           # validation: κ vs GPT-4
    r_prec_human: float         # r(P_rec embedding, mean human P_rec), 44 clauses
    r_prec_gpt4: float
    mean_R: float               # mean clauses per recall, embedding scorer
    theta_in: float             # tuned in sample vs human majority (optimistic)
    kappa_human_in: float


def validation_agreement(panic, validation, rule: str = "A", cache_dir=None,
                         encoder=None) -> ScorerAgreement:
    """Agreement of the embedding scorer with GPT-4 and the human raters (F14).

    `panic`: `data.load_story("panic")`; `validation`: `data.load_validation()` (rows 1..30 ↔
    `panic.validation_ids`)."""
    if panic.validation_ids is None:
        raise ValueError("panic must be the 'panic' story (it holds the validation ids)")
    pos = {rid: k for k, rid in enumerate(panic.recall_ids)}
    val_rows = [pos[v] for v in panic.validation_ids]
    other = [k for k in range(panic.n_recall) if k not in set(val_rows)]
    # tuning set: the other recalls, scored by GPT-4 on the story's own segmentation
    sims_t = similarity_matrices(panic.clauses, [panic.recalls[k] for k in other], cache_dir, encoder)
    theta, k_t = tune_theta(sims_t, [panic.scores[k] for k in other], panic.L, rule)
    L = validation.L
    sims_v = similarity_matrices(validation.clauses, [panic.recalls[k] for k in val_rows], cache_dir, encoder)
    H = hit_matrix(score_all(sims_v, theta, rule), L)
    Hr = {a: hit_matrix(validation.scores[a], L) for a in validation.RATERS}
    majority = sum(Hr.values()) >= 2
    human_prec = np.mean([h.mean(axis=0) for h in Hr.values()], axis=0)
    H4 = hit_matrix(validation.scores["gpt4"], L)
    theta_in, k_in = tune_theta(sims_v, [list(np.flatnonzero(m) + 1) for m in majority], L, rule)
    return ScorerAgreement(rule=rule, theta_out=theta, kappa_tune_gpt4=k_t, kappa_human=cohen_kappa(H, majority),
                           kappa_gpt4=cohen_kappa(H, H4), r_prec_human=pearson(H.mean(axis=0), human_prec),
                           r_prec_gpt4=pearson(H.mean(axis=0), H4.mean(axis=0)),
                           mean_R=float(H.sum(axis=1).mean()), theta_in=theta_in, kappa_human_in=k_in)


def score_story(story, theta: float, rule: str = "A", cache_dir=None,
                encoder=None) -> list[list[int]]:
    """Embedding scores of every recall of a story (FULL: all 1,255 recalls take ≈ 10 min on 2 cores)."""
    return score_all(similarity_matrices(story.clauses, story.recalls, cache_dir, encoder), theta, rule)


def R_vs_L(stories: dict, theta: float, rule: str = "A", cache_dir=None, encoder=None,
           progress: bool = False) -> dict:
    """R per story from the embedding scorer next to the GPT-4 R, and both R-vs-L slopes (OLS over
    the given stories, e.g. the 8 intact fit stories)."""
    from ..progress import tqdm

    from .recall import recall_counts
    from .stats import linfit

    names = list(stories)
    R_emb, R_gpt = [], []
    for n in tqdm(names, desc="embedding scorer", disable=not progress):
        s = stories[n]
        R_emb.append(float(np.mean([len(x) for x in score_story(s, theta, rule, cache_dir, encoder)])))
        R_gpt.append(float(recall_counts(s.scores).mean()))
    Ls = [stories[n].L for n in names]
    return {"stories": names, "L": Ls, "R_embedding": R_emb, "R_gpt4": R_gpt,
            "slope_embedding": linfit(Ls, R_emb).slope, "slope_gpt4": linfit(Ls, R_gpt).slope}
