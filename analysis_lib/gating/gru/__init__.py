"""Notebook 01 (GRU/LSTM slow modes): networks and Jacobians (models), the static mean field of GRU
fixed points (meanfield), stationary spectra (spectra), plots (plot), training (train), the
explorer (explore) and the fixed-point census adapter (census)."""
