"""`analysis_lib.gating`: random gated RNNs (Cho GRU, PyTorch GRU, LSTM), their exact Jacobians,
the per-unit statistics (`DiagStats`) that connect a state to the random-matrix theory, the
support condition ρ(T(λ)) = 1, zero-state formulas, the rank-one density, the static mean field
of GRU fixed points (lines L1, L2), plotting helpers and the two papers' claim tables
(`paper_claims`). Shared by notebooks 01 and 02.
"""
from .density import empirical_frac_in_disk, frac_in_disk, mf_resolvent_rank1, rank1_gru_fixed_point
from .mf import (Phi, R_gate, bistability_probe, gauss_nodes, gh_nodes, mf_branch_curves, mf_branches, mf_residual,
                 region_of, saddle_node_line, saddle_node_line_bisect, sh_of_q, zero_fp_line)
from .models import GatedRNN, draw_weights, eigvals, fd_jacobian, gated_rnn, iid_state
from .params import KINDS, ChoGRUParams, LSTMParams, TorchGRUParams
from .plot import plot_phase_diagram, plot_rule_inset, plot_spectra_row, plot_spectrum, plot_theory_vs_simulation
from .paper_claims import (GATING_THEORY_CLAIMS, GATING_THEORY_HEADLINE, GATING_THEORY_PAPER, GRU_LSTM_CLAIMS,
                           GRU_LSTM_HEADLINE, GRU_LSTM_PAPER)
from .spectra import (SpectraResult, empirical_slow_fraction, iid_spectrum, spectrum_summary, stationary_spectra,
                      summaries_by, summarize_spectra, zero_state_spectrum)
from .stats import DiagStats, cho_stats, lstm_stats, mf_fixed_point_stats, torch_gru_stats
from .support import (T_matrix, gru_zero_center, gru_zero_radius, lstm_zero_radius, outside_fraction,
                      perron_root, radius_edge, rho_T, rho_T_grid, rho_T_loop, rightmost_edge,
                      spectral_curve, support_grid)

__all__ = [
    "ChoGRUParams", "DiagStats", "GatedRNN", "KINDS", "LSTMParams", "Phi", "R_gate", "T_matrix",
    "TorchGRUParams", "bistability_probe", "cho_stats", "draw_weights", "eigvals",
    "empirical_frac_in_disk", "fd_jacobian", "frac_in_disk", "gated_rnn", "gauss_nodes", "gh_nodes", "gru_zero_center",
    "gru_zero_radius", "iid_state", "lstm_stats", "lstm_zero_radius", "mf_branch_curves", "mf_branches",
    "mf_fixed_point_stats", "mf_residual", "mf_resolvent_rank1", "outside_fraction", "perron_root",
    "radius_edge", "rank1_gru_fixed_point", "region_of", "rho_T", "rho_T_grid", "rho_T_loop",
    "rightmost_edge", "saddle_node_line", "saddle_node_line_bisect", "sh_of_q", "spectral_curve",
    "support_grid", "plot_phase_diagram", "plot_rule_inset", "plot_spectra_row", "plot_spectrum", "plot_theory_vs_simulation", "summaries_by",
    "GATING_THEORY_CLAIMS", "GATING_THEORY_HEADLINE", "GATING_THEORY_PAPER", "GRU_LSTM_CLAIMS", "GRU_LSTM_HEADLINE",
    "GRU_LSTM_PAPER",
    "SpectraResult", "empirical_slow_fraction", "iid_spectrum", "spectrum_summary",
    "stationary_spectra", "summarize_spectra", "zero_state_spectrum", "torch_gru_stats", "zero_fp_line",
]
