"""`analysis_lib.gating`: papers 01 (GRU/LSTM slow modes) and 02 (PRX theory of gating).

Layout (one folder per part, shared machinery below both papers):
- `rmt/`  random-matrix machinery both notebooks use: per-unit statistics (`DiagStats`), the
  support condition ρ(T(λ)) = 1, the rank-one density, Gaussian quadrature, the spectrum plot;
- `gru/`  notebook 01: Cho/PyTorch GRU and LSTM networks and Jacobians, the static mean field of
  GRU fixed points (lines L1, L2), stationary spectra, training, plots, the explorer;
- `prx/`  notebook 02: the PRX gated ODE, its static mean field, DMFT, Lyapunov exponents, the
  notebook's experiments and plots;
- `fixed_points.py`  the fixed-point census (multi-start Newton/LM, de-duplication,
  classification, complexity fits), model adapters in `gru/census.py` and `prx/census.py`;
- `params.py` (parameter dataclasses and validators) and `paper_claims.py` (both claim tables).

The names notebook 01 uses are re-exported here (`from analysis_lib.gating import X`); the old
flat module names (`mf`, `models`, `prx_experiments`, ...) resolve to their new homes.
"""
from . import fixed_points
from .gru import census as gru_census
from .rmt.density import empirical_frac_in_disk, frac_in_disk, mf_resolvent_rank1, rank1_gru_fixed_point
from .gru.meanfield import (Phi, R_gate, bistability_probe, gauss_nodes, gh_nodes, mf_branch_curves, mf_branches, mf_residual,
                 region_of, saddle_node_line, saddle_node_line_bisect, sh_of_q, zero_fp_line)
from .gru.models import GatedRNN, draw_weights, eigvals, fd_jacobian, gated_rnn, iid_state
from .params import KINDS, ChoGRUParams, LSTMParams, TorchGRUParams
from .gru.plot import plot_phase_diagram, plot_rule_inset, plot_spectra_row, plot_spectrum, plot_theory_vs_simulation
from .paper_claims import (GATING_THEORY_CLAIMS, GATING_THEORY_HEADLINE, GATING_THEORY_PAPER, GRU_LSTM_CLAIMS,
                           GRU_LSTM_HEADLINE, GRU_LSTM_PAPER)
from .gru.spectra import (SpectraResult, empirical_slow_fraction, iid_spectrum, spectrum_summary, stationary_spectra,
                      summaries_by, summarize_spectra, zero_state_spectrum)
from .rmt.stats import DiagStats, cho_stats, lstm_stats, mf_fixed_point_stats, torch_gru_stats
from .rmt.support import (T_matrix, gru_zero_center, gru_zero_radius, lstm_zero_radius, outside_fraction,
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

# Old flat module names -> their modules in the split layout (PEP 562 lazy attributes, so that
# `from analysis_lib.gating import prx_experiments` does not import matplotlib for notebook 01).
_MOVED = {
    "mf": "gru.meanfield", "models": "gru.models", "spectra": "gru.spectra", "plot": "gru.plot",
    "train": "gru.train", "explore": "gru.explore", "stats": "rmt.stats", "support": "rmt.support",
    "density": "rmt.density", "prx_meanfield": "prx.meanfield", "prx_experiments": "prx.experiments",
    "prx_plots": "prx.plots", "dmft": "prx.dmft", "lyapunov": "prx.lyapunov",
}


def __getattr__(name: str):
    if name in _MOVED:
        import importlib

        return importlib.import_module(f"{__name__}.{_MOVED[name]}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
