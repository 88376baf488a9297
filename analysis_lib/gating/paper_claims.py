"""The claims of the two gating papers that notebooks 01 and 02 set out to test (specs
`papers/gru_lstm_slow_modes.md` and `papers/gating_theory.md`, section 2 "Claims to reproduce"; ids as
there). Sources: "abstract" where the paper's abstract (or abstracts, for the PRX paper's arXiv versions)
states it, "paper" for the authors' other material (the COSYNE 2020 summary), "reading" where the statement,
or the form in which it is tested, is our derivation, recollection or operationalisation. Neither paper's
full text was available: every formula behind these claims is derived from the model."""
from __future__ import annotations

from ..claims import Headline, PaperClaim

GRU_LSTM_PAPER = ("Can, Krishnamurthy, Schwab, Gating creates slow modes and controls phase-space complexity in GRUs "
                  "and LSTMs (MSML 2020, PMLR 107:476-511)")

GRU_LSTM_CLAIMS: tuple[PaperClaim, ...] = (
    PaperClaim("C1", "The GRU update gate creates slow modes: closed gates put eigenvalues near λ = 1, "
               "frac(|λ−1| < δ) ≈ P(z < δ)", "abstract"),
    PaperClaim("C2", "The GRU update gate can poise the network at marginal stability (the right spectral edge "
               "collapses onto λ = 1 when many update gates are closed)", "abstract"),
    PaperClaim("C3", "The update gate moves neither the fixed points nor the zero fixed point's stability "
               "(it only rescales rows of J at a fixed point)", "reading"),
    PaperClaim("C4", "The GRU reset gate controls the spectral radius (zero state: (1−z0) + z0 σ(b_r) s_h)",
               "abstract"),
    PaperClaim("C5", "The LSTM forget gate creates slow modes: frac(|λ−1| < δ) ≈ ½ P(f > 1−δ)", "abstract"),
    PaperClaim("C6", "The LSTM input and output gates control the spectral radius (zero state: f0 + s_g σ(b_i) σ(b_o))",
               "abstract"),
    PaperClaim("C7", "The reset gate modulates the complexity of the fixed-point landscape, read here as the "
               "mean-field phase diagram (the saddle-node line L2 precedes L1 for a sensitive, closed-biased reset "
               "gate, L2 = L1 at s_r = 0) and counted in finite networks (Σ > 0 from L2 on; a sensitive reset gate "
               "raises the number of fixed points at fixed s_h)", "reading"),
    PaperClaim("C8", "Region II (L2 < s_h < L1) is bistable: a stable zero state coexists with persistent activity "
               "reached from large initial conditions", "reading"),
    PaperClaim("C9", "A preliminary comparison of training performance across the dynamical regimes", "abstract",
               untestable="the paper's tasks, sizes and numbers are unknown; F8 is our proxy, recorded as "
                          "information only"),
    PaperClaim("C10", "Rank-one variance profile: the fraction of eigenvalues in a disk is a contour integral of the "
               "mean-field resolvent", "reading"),
)

GATING_THEORY_PAPER = ("Krishnamurthy, Can, Schwab, Theory of gating in recurrent neural networks "
                       "(Phys. Rev. X 12, 011011, 2022)")

GATING_THEORY_CLAIMS: tuple[PaperClaim, ...] = (
    PaperClaim("C1", "The zero fixed point (β_h = 0) loses stability exactly at g_h σ_r(0) = 1, whatever the other "
               "gate parameters", "reading"),
    PaperClaim("C2", "The z gate moves no fixed point and does not change whether λ = 0 is in the support; raising "
               "α_z piles eigenvalues at 0 (slow modes) and pins the right edge to 0 (marginal stability)",
               "abstract"),
    PaperClaim("C3", "The r gate enlarges the spectral support (the right edge grows with α_r)", "paper"),
    PaperClaim("C4", "DMFT reproduces the autocorrelation C_h(τ) of large simulated networks; the z gate stretches "
               "its timescale", "abstract"),
    PaperClaim("C5", "The z gate drives the MLE towards 0: a near-frozen, marginally stable, integrator-like state "
               "with Lyapunov exponents crowded near 0", "abstract"),
    PaperClaim("C6", "A DMFT expression for the MLE matches simulation (ours: two-replica Schrödinger ground state, "
               "exact at α_z = 0, τ_r → 0)", "reading"),
    PaperClaim("C7", "The r gate modulates dimensionality: the MLE and the participation ratio grow with α_r",
               "abstract"),
    PaperClaim("C8", "For α_r > √8 the transition is discontinuous: static solutions (critical points) appear below "
               "g_h = 2 along α_r,FP(g_h) before chaos, which coexists with the stable zero fixed point", "abstract"),
    PaperClaim("C9", "A small constant input pushes a stable system into strong chaos", "abstract"),
    PaperClaim("C10", "Phase diagram in (α_r, g_h): zero-FP line, fixed-point-birth line and a separate chaos line",
               "abstract"),
    PaperClaim("C11", "The z gate makes a flexible integrator with a context-dependent memory reset", "abstract",
               untestable="no number or protocol of the paper to compare with; our protocol (F11) is recorded as "
                          "information"),
    PaperClaim("C12", "Gradient (adjoint) norms grow like e^{λ_max T} in the chaotic state (arXiv v1-v3)", "abstract",
               untestable="its only offline test here (adjoint log-norm slope vs forward tangent MLE) holds by "
                          "construction (the adjoint propagates the transpose of the same tangent map): a check"),
)

# The README gallery's figure of each paper's main claim.
GRU_LSTM_HEADLINE = Headline(
    "F1_update_gate_spectra",
    "Closing the GRU update gate (lower b_z, larger s_z) piles Jacobian eigenvalues up near λ = 1: slow modes, in "
    "the fraction P(z < δ) predicts", ("C1",))
GATING_THEORY_HEADLINE = Headline(
    "f7_mle",
    "The z gate quenches chaos (the MLE falls towards 0 as α_z grows), the r gate raises it, and the two-replica "
    "DMFT MLE lands on 3-seed simulations", ("C5", "C6", "C7"))
