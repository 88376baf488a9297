"""Paper 05: Georgiou, Can, Katkov & Tsodyks — large-scale study of human memory for narratives.

Modules:
- `data`: find, verify (SHA-256 before unpickling), download, load the authors' data into
  `Story` objects with pseudonymised participant ids; the data quirks of the spec are handled here.
- `recall`, `recognition`, `order`, `stats`: the measures (P_rec, R, C, M, d′, Kendall τ, fits, κ).
- `scoring`: parser of the stored GPT-4 completions; validation-set agreement.
- `embed`: similarity to the whole narrative (stored OpenAI, offline MiniLM with a disk cache).
- `theory`: random-list law, random-graph recall walk, random tree model.
- `analysis`: figure-level analyses; `plots`: one function per figure.
- `llm`: LLM backends (`replay` of the stored GPT-4 completions by default, `cache`, `live` through
  the `openai` client with the server/model/key from the environment only, `fake`), disk cache,
  retries, validated scoring with quoted evidence (clauses in recall order); `prompts`: the prompts
  (untrusted text neutralised); `validate`: `validate_backend` — is a scoring model fit to score?
  (The fault-injecting fake HTTP server is test infrastructure: tests/memory_fakes.py.)
- `pipeline`: story → clauses → lures → scramble → experiment JSON → validated response import →
  `data.Story`, and `demo()` (the whole pipeline offline); `python -m analysis_lib.memory.pipeline`
  is its command line; `jspsych`: the browser experiment export; `pipeline_plots`: the F14 figures.
- `paper_claims`: the paper's claims C1–C13 (`NARRATIVE_MEMORY_CLAIMS`) that the notebook declares.
- `simulate`: simulated participants calibrated by this analysis (`sim_params.json`, aggregate
  parameters only), used without data and for the power analysis; `embed_scorer`: the offline
  MiniLM recall scorer and its agreement with GPT-4 and the human raters.

`simulator_available()` is True now that `simulate` exists (kept for callers that check).
"""
from . import analysis, data, embed, order, paper_claims, plots, privacy, recall, recognition, scoring, stats, theory, validate  # noqa: F401
from .paper_claims import NARRATIVE_MEMORY_CLAIMS, NARRATIVE_MEMORY_HEADLINE, NARRATIVE_MEMORY_PAPER  # noqa: F401


def simulator_available() -> bool:
    """True once the simulated participants of the next issue (`memory.simulate`) exist."""
    import importlib.util

    return importlib.util.find_spec(f"{__name__}.simulate") is not None
