"""analysis_lib: the helper package behind the five reproduction notebooks.

A notebook needs only a few names::

    import analysis_lib as al
    cfg = al.setup_notebook(MODE, SEED)
    al.declare_paper_claims("Girko (1985)", [al.PaperClaim("T1", "the circular law", "paper")])
    al.claim("tour.circular_law.radius", r, 1.0, abs=0.05, source="derived", supports="T1")
    al.savefig(fig, "spectrum")
    results = al.sweep(fn, {"g": [0.5, 1.0], "seed": [0, 1]})

Paper code lives in subpackages: `gating` (01, 02), `gnode` (03), `momentum` (04), `memory` (05).
"""
from .explore import headless, interact
from .claims import (CLAIM_MIME, KINDS, SOURCES, ClaimRecord, Headline, PaperClaim, claim, coverage, declare_paper_claims, read_claims,
                     recorded_claims, summarize_claims)
from .figures import figure_dir, savefig
from .notebook import MODES, NotebookConfig, current_config, limit_threads, setup_notebook
from .sweep import grid_product, sweep

__all__ = [
    "CLAIM_MIME", "KINDS", "MODES", "SOURCES", "ClaimRecord", "Headline", "NotebookConfig", "PaperClaim", "claim", "coverage",
    "current_config", "declare_paper_claims",
    "figure_dir", "grid_product", "headless", "interact", "limit_threads", "read_claims", "recorded_claims", "savefig",
    "setup_notebook", "summarize_claims", "sweep",
]
__version__ = "0.1.0"
