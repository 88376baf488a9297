"""Notebook 02 (PRX theory of gating): the gated ODE (model), its static mean field (meanfield), DMFT
(dmft), Lyapunov exponents (lyapunov), the notebook's runs (experiments), plots (plots) and the
fixed-point census adapter (census). `from analysis_lib.gating.prx import model as prx` for the model."""
