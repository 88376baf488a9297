"""The claims of Georgiou, Can, Katkov & Tsodyks (2025) that notebook 05 tests (spec §2, C1–C13).

`NARRATIVE_MEMORY_CLAIMS` is declared by the notebook right after `setup_notebook`; every checked
result names the ids it supports. `skipped_kind(key)` gives the kind (and claim ids) of a data claim
that is recorded as skipped when the authors' data are absent, so a skipped record is classified
like the record it stands in for.
"""
from __future__ import annotations

from ..claims import Headline, PaperClaim

NARRATIVE_MEMORY_PAPER = ("Georgiou, Can, Katkov & Tsodyks, Large-scale study of human memory for meaningful narratives, "
            "Learn. Mem. 32 (2025); arXiv 2311.04742")

NARRATIVE_MEMORY_CLAIMS: tuple[PaperClaim, ...] = (
    PaperClaim("C1", "GPT-4 clause scoring of recalls agrees with human raters about as well as raters agree with each "
                     "other (r 0.94 vs rater pairs 0.89/0.86/0.96); GPT-3 (0.69) and GPT-3.5 (0.33) are worse", "paper"),
    PaperClaim("C2", "Recognition: the number of retained clauses M grows linearly with length L (M = 0.71L + 3.46)",
               "paper"),
    PaperClaim("C3", "Recall R grows much more slowly than M (R/L falls with L), R roughly linear in M; the random-list "
                     "law √(3πM/2) is the reference (longest intact story above it, scrambled below)", "paper"),
    PaperClaim("C4", "Scrambling the clause order strongly reduces recall but barely affects recognition", "paper"),
    PaperClaim("C5", "Recall follows narrative order; scrambled stories are recalled in the original rather than the "
                     "presented order (Kendall τ quantification is our operationalisation)", "paper"),
    PaperClaim("C6", "Clause-level recognition P_hit relates only weakly to recall probability "
                     "(y = 0.2x + 0.8, r = 0.2, 95% CI [0.1, 0.3])", "paper"),
    PaperClaim("C7", "The same clauses are recalled in intact and scrambled versions: r(P_rec) = 0.72 (L=32), "
                     "0.70 (L=54), 0.53 (L=130)", "paper"),
    PaperClaim("C8", "No output interference in recognition: d′ does not trend over the 10 trials", "paper"),
    PaperClaim("C9", "For long narratives people summarise rather than recall details: fewer recall sentences than "
                     "recalled clauses (C < R)", "abstract"),
    PaperClaim("C10", "A clause's embedding similarity to the whole narrative correlates with its recall probability "
                      "(per-story r; pooled z-scored r 0.42/0.42/0.44 for three OpenAI models)", "abstract"),
    PaperClaim("C11", "Random-graph retrieval (the theory behind the random-list law) gives R ≈ √(3πM/2), i.e. R ∝ √M",
               "paper"),
    PaperClaim("C12", "The authors' stored GPT-4 completions, replayed offline through our parser, reproduce the "
                      "stored recall scores exactly", "reading"),
    PaperClaim("C13", "(optional, follow-up paper) Random tree model: recall length saturates at K^(D−1); compression "
                      "statistics are scale invariant", "reading",
               untestable="the follow-up's fitted K and D are unknown, so the model is not fitted to the data here; "
                          "the notebook only checks its closed forms against Monte-Carlo trees (checks)"),
)

# Data claims that are checks of our code or of the data's integrity (not statements of the paper).
_CHECK_PREFIXES = ("memory.data.", "memory.recog.sanity", "memory.embed.stored_r_consistency")
# The paper claim a descriptive (or checked) data record belongs to, by key prefix.
_SUPPORTS = (
    ("memory.validation.", "C1"), ("memory.recog.dprime_trial_slope.", "C8"), ("memory.recog.", "C2"),
    ("memory.scaling.M_vs_L.", "C2"), ("memory.recall.C.", "C9"), ("memory.recall.", "C3"), ("memory.scaling.", "C3"),
    ("memory.scramble.", "C4"), ("memory.order.", "C5"), ("memory.items.phit_vs_prec.", "C6"),
    ("memory.items.prec_coh_vs_scr.", "C7"), ("memory.summary.", "C9"), ("memory.embed.", "C10"),
    ("memory.replay.parse_exact_fraction", "C12"),
)


def skipped_kind(key: str) -> dict:
    """`kind` and `supports` for a data claim recorded as skipped (no data): the same classification
    as the record the notebook makes with the data. Raises for a key it does not know."""
    if key.startswith(_CHECK_PREFIXES):
        return {"kind": "check"}
    for prefix, claim_id in _SUPPORTS:
        if key.startswith(prefix):
            return {"kind": "result", "supports": claim_id}
    raise KeyError(f"no classification for data claim {key!r}; add it to analysis_lib.memory.paper_claims")

# The README gallery's figure of the paper's main claim.
NARRATIVE_MEMORY_HEADLINE = Headline(
    "F3_scaling",
    "Recognition retains a fixed fraction of a story (M ≈ 0.72 L) while recall grows far more slowly; scrambled "
    "stories are recognised as well but recalled much worse", ("C2", "C3", "C4"))
