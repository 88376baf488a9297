"""Is a scoring backend fit to score recalls? `validate_backend` scores the paper's human-rated
validation recalls (30 `panic` recalls, 44-clause "fine44" segmentation, 3 raters) and compares it
with the raters the way the paper compares GPT-4 (C1).

Measures (item level = recall × clause):
- r: Pearson r between the backend's P_rec per clause and each rater's / the mean human P_rec;
- κ: Cohen's κ = (p_o − p_e)/(1 − p_e) between the backend's and each rater's / the majority's
  (≥ 2 of 3 raters) hit matrices.
The stored GPT-4 scoring of the same recalls gets r(mean human) = 0.94 and κ(majority) = 0.80.

**Fit to score** (our threshold, fixed from the human raters, not from any model): r(mean human)
≥ `FIT_R` = 0.85 and κ(majority) ≥ `FIT_KAPPA` = 0.75. The rater pairs agree at r 0.86–0.96 and
κ 0.78–0.81; a fit scorer agrees with the majority at least as well as the least-agreeing rater
pair, less the sampling error of 30 recalls (bootstrap 95% CI half-width of κ ≈ 0.03). GPT-4
passes (0.94, 0.80); text-davinci-003 (0.69, 0.53) and gpt-3.5-turbo (0.33, 0.23) do not.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from . import data as D
from . import prompts as P
from .llm import Backend, Completion, OpenAIBackend, canonical_request, request_key, score_recalls
from .recall import hit_matrix
from .stats import cohen_kappa, pearson

FIT_R = 0.85
FIT_KAPPA = 0.75
PAPER_GPT4 = {"r": 0.94, "kappa": 0.80}

_VALIDATED: dict[tuple[str, str], "BackendValidation"] = {}


class UnvalidatedBackendWarning(UserWarning):
    """Live scoring with a model that has not passed `validate_backend`."""


@dataclass(frozen=True)
class ValidationData:
    """The 30 validation recalls (texts from the `panic` story), the fine44 clauses and the stored scores."""

    clauses: tuple[str, ...]
    recalls: tuple[str, ...]
    scores: dict  # scorer (a1, a2, a3, gpt4, gpt3, gpt35) -> 30 lists of clause numbers


def load_validation_data(data_dir=None) -> ValidationData:
    """Recall texts of the validation ids (row k ↔ `validation set Ids` index k, 1..30) with the
    human and LLM scores (checksum-verified, like every data file)."""
    v = D.load_validation(data_dir)
    panic = D.load_story("panic", data_dir)
    if panic.validation_ids is None or len(panic.validation_ids) != 30:
        raise ValueError("the panic story must hold 30 validation ids")
    text = dict(zip(panic.recall_ids, panic.recalls))
    missing = [i for i in panic.validation_ids if i not in text]
    if missing:
        raise ValueError(f"{len(missing)} validation ids are not panic recall participants")
    return ValidationData(tuple(v.clauses), tuple(text[i] for i in panic.validation_ids), dict(v.scores))


class StoredScoresBackend(Backend):
    """Replays stored clause lists (e.g. the authors' GPT-4 validation scores) as text answers for
    the exact scoring requests of `recalls`: the offline stand-in that lets `validate_backend` be run
    and tested without a model. Stored lists carry no quotes, so evidence is reported, not required."""

    name = "stored-scores"
    evidence_policy = "report"
    skip_empty = False

    def __init__(self, clauses, recalls, scores, model: str = "gpt-4-0613 (stored validation scores)"):
        super().__init__()
        if len(recalls) != len(scores):
            raise ValueError("recalls and scores must have equal length")
        self.model = model
        self._store = {}
        for r, sc in zip(recalls, scores):
            req = canonical_request(self.model, P.build_scoring_messages(clauses, r), 0.0, 0, 0, None)
            self._store[request_key(req)] = f"{P.FINAL_LINE} ({', '.join(map(str, sorted(set(sc))))})"

    def complete(self, messages, *, json_mode: bool = False, seed_offset: int = 0, max_tokens=None):
        from .llm import CacheMiss, UnsupportedResponseFormat

        if json_mode:
            raise UnsupportedResponseFormat("stored scores are text answers")
        key = request_key(canonical_request(self.model, messages, 0.0, seed_offset, 0, None))
        if key not in self._store:
            raise CacheMiss("no stored score for this request")
        self._count("cache_hits")
        return Completion(self._store[key], self.model, cached=True)


@dataclass(frozen=True)
class BackendValidation:
    """r and κ of a backend against each rater and the majority, with the stored GPT-4 for comparison."""

    backend: str
    model: str
    r: dict                # "mean_human", "a1", … -> r of P_rec per clause
    kappa: dict            # "majority", "a1", … -> item-level κ
    gpt4: dict             # the same two numbers of the stored GPT-4 scoring
    n_scored: int
    n_invalid: int
    unsupported: int       # claimed clauses without a quote found
    fit: bool
    reason: str
    scores: tuple = field(repr=False, default=())

    def table(self) -> list[tuple[str, float, float]]:
        """(against, r, κ) rows for display."""
        return [(k, self.r[k if k != "majority" else "mean_human"], self.kappa[k]) for k in ("majority", "a1", "a2", "a3")]


def _r_or_nan(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson r, or NaN where either side is constant (a scorer that recalls nothing, or the same
    clauses for every recall, has no P_rec profile to correlate: it is not fit, and says why)."""
    return pearson(x, y) if np.ptp(x) > 0 and np.ptp(y) > 0 else float("nan")


def _agreement(H: np.ndarray, Hs: dict) -> tuple[dict, dict]:
    majority = sum(Hs[a] for a in D.ValidationSet.RATERS) >= 2
    human = np.mean([Hs[a].mean(0) for a in D.ValidationSet.RATERS], axis=0)
    p = H.mean(0)
    r = {"mean_human": _r_or_nan(p, human), **{a: _r_or_nan(p, Hs[a].mean(0)) for a in D.ValidationSet.RATERS}}
    k = {"majority": cohen_kappa(H, majority), **{a: cohen_kappa(H, Hs[a]) for a in D.ValidationSet.RATERS}}
    return r, k


def validate_backend(backend: Backend, data: ValidationData | None = None, *, progress: bool = False,
                     register: bool = True) -> BackendValidation:
    """Score the 30 validation recalls with `backend` and compare with the raters (see module doc).

    An invalid answer counts as "nothing recalled" (a scorer that fails to answer is not fit), and
    is counted in `n_invalid`. `register=True` records a fit verdict, so that live scoring with this
    model no longer warns."""
    data = data if data is not None else load_validation_data()
    rep = score_recalls(backend, list(data.clauses), list(data.recalls), progress=progress)
    scores = [s if s is not None else [] for s in rep.scores]
    L = len(data.clauses)
    Hs = {k: hit_matrix(v, L) for k, v in data.scores.items()}
    r, k = _agreement(hit_matrix(scores, L), Hs)
    r4, k4 = _agreement(Hs["gpt4"], Hs)
    fit = bool(r["mean_human"] >= FIT_R and k["majority"] >= FIT_KAPPA and not rep.invalid)  # NaN: not fit
    constant = "its P_rec is the same for every clause (e.g. no valid clause recalled), so r is undefined; " \
        if not np.isfinite(r["mean_human"]) else ""
    reason = constant + (f"r(mean human) {r['mean_human']:.3f} (needs ≥ {FIT_R}), κ(majority) {k['majority']:.3f} (needs ≥ "
              f"{FIT_KAPPA}), {len(rep.invalid)} invalid answers; stored GPT-4: r {r4['mean_human']:.3f}, "
              f"κ {k4['majority']:.3f}")
    out = BackendValidation(backend.name, backend.model, r, k, {"r": r4["mean_human"], "kappa": k4["majority"]},
                            len(scores) - len(rep.invalid), len(rep.invalid), rep.unsupported, fit,
                            ("fit to score: " if fit else "NOT fit to score: ") + reason, tuple(map(tuple, scores)))
    if register:
        _VALIDATED[(backend.name, backend.model)] = out
    return out


def is_validated(backend: Backend) -> bool:
    v = _VALIDATED.get((backend.name, backend.model))
    return bool(v and v.fit)


def warn_if_unvalidated(backend: OpenAIBackend) -> None:
    """Warn (once per backend object) when live scoring uses a model without a fit `validate_backend` verdict."""
    key = (backend.name, backend.model)
    if is_validated(backend) or getattr(backend, "_warned_unvalidated", False):
        return
    backend._warned_unvalidated = True  # once per backend object
    v = _VALIDATED.get(key)
    warnings.warn(f"scoring with {backend.model!r}, which " + (f"failed validation ({v.reason})" if v else
                  "has not been validated: run analysis_lib.memory.validate.validate_backend(backend) on the paper's "
                  "human-rated recalls first") + "; its scores may not be fit for analysis",
                  UnvalidatedBackendWarning, stacklevel=3)
