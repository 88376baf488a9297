"""The claims of Cowsik, Can, Glorioso (arXiv:2210.16400) that notebook 04 sets out to test
(spec `papers/momentum_scaling.md`, section 2; ids as there). Sources: "abstract" where the
abstract states it, "reading" where the statement (or the form that is tested) is our derivation
or operationalisation."""
from __future__ import annotations

from ..claims import Headline, PaperClaim

MOMENTUM_PAPER = "Cowsik, Can, Glorioso, Flatter, faster: scaling momentum for optimal speedup of SGD (arXiv:2210.16400, 2022)"

MOMENTUM_CLAIMS: tuple[PaperClaim, ...] = (
    PaperClaim("C1", "Scaling 1−β* ∝ η^{2/3} (γ* = 2/3) gives the fastest training without sacrificing generalisation",
               "abstract"),
    PaperClaim("C2", "Two timescales, τ1 ≈ 2/(1−β) (transverse relaxation) and τ2 ∝ (1−β)²/(ηε)² (drift along Γ); "
               "T ≈ max(τ1, τ2), optimum where they cross", "reading"),
    PaperClaim("C3", "Along Γ, label-noise SGDM follows the Li–Wang–Arora flow on Tr ∇²L with η_eff = η/(1−β): "
               "runs collapse in t = kη²/(1−β)²", "reading"),
    PaperClaim("C4", "Optimal time T* ∝ (ηε)^{−2/3} against (ηε)^{−2} at β = 0: a speed-up ∝ (ηε)^{−4/3}", "reading"),
    PaperClaim("C5", "Transverse fluctuations are set by the effective learning rate η/(1−β) (AR(2) variance M2)",
               "reading"),
    PaperClaim("C6", "Matrix sensing: label-noise SGDM lowers Tr ∇²L and the test error, and the knee of the "
               "convergence time scales as η^{2/3}", "abstract"),
    PaperClaim("C7", "Beyond the knee there is no further speed-up, and with constant η the error floor grows "
               "∝ sqrt(ηε²/(1−β))", "reading"),
    PaperClaim("C8", "Teacher–student regression: at fixed η, more momentum lowers Tr GN faster", "reading"),
    PaperClaim("C9", "Classification: the convergence time and the generalisation-maximising β follow "
               "1−β ∝ η^{2/3} (tested in FULL on an offline tanh-network stand-in on digits)", "abstract"),
)

# The README gallery's figure of the paper's main claim.
MOMENTUM_HEADLINE = Headline(
    "F3_toy_two_thirds_law",
    "With label noise the best momentum scales as 1−β* ∝ η^{2/3} (toy model: slopes 0.67 for argmin and knee), and "
    "as ε^{2/3}", ("C1", "C2"))
