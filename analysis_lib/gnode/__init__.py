"""Paper 03: Kim, Can & Krishnamurthy, *Trainability, Expressivity and Interpretability in Gated
Neural ODEs* (ICML 2023).

Modules: `flipflop` (N-bit flip-flop tasks), `cells` (nODE, gnODE, mGRU, GRU, RNN; Euler step and
vector field; parameter counts; critical rescaling), `training` (AdamW, best-validation checkpoint,
resumable), `slow_points` (slow-point finder, drift test, speed/gate maps, retention,
torchdiffeq re-integration), `expressivity` (our operationalisation of the expressivity measure,
masked batched ensembles), `proxy` (the labelled synthetic proxy for the real-world tasks, FULL
only), `attractor` (the fair test of C1: training grid, graded attractor
measures on every seed, bootstrap CIs, the computed verdict), `experiments` (QUICK/FULL run lists and analyses), `precompute` (FULL caches on a bigger machine:
`python -m analysis_lib.gnode.precompute`), `paper_claims` (the paper's claims C1–C8 the notebook
declares), `plots`.
"""
from .attractor import (AttractorConfig, C1Grid, bootstrap_ci, direction_note, paired_test, c1_comparisons, c1_grid, c1_grid_runs, c1_verdict,
                        gate_logit_identity_error, gate_stats, gate_summary, grid_table, hold_steps, mean_pulse_interval,
                        quantise, quantiser_rmse_theory, select_runs, simulated_pulse_interval)
from .cells import (MODEL_KINDS, FlipFlopModel, build_model, critical_rescale, param_count,
                    param_count_formula)
from .experiments import (ExpressivityJob, c1_analyse, c1_attractor_config, c1_train, algebra_max_error, full_expressivity, analyse_2d, analyse_3bit, ff2_runs, ff2v_runs,
                          ff3f_runs, ff3v_runs, fit_expressivity, init_ablation_runs, results_table, run_job,
                          run_jobs, train_runs, variant_stats)
from .expressivity import (AutonomousEnsemble, FitSpec, count_self_crossings, expressivity_table, figure_eight,
                           fit_ensemble, fit_sequential, fourier_target, full_grid, k_star, n_min, quick_grid, quick_summary, r2,
                           tradeoff_stats)
from .flipflop import (VARIANTS, kept_pulses_theory, make_flipflop, retention_inputs, splits, target_grid,
                       variant_target_set, zero_mse, zero_mse_theory)
from .paper_claims import GATED_NODE_CLAIMS, GATED_NODE_HEADLINE, GATED_NODE_PAPER
from .proxy import (PROXY_KINDS, PROXY_LABEL, PenStrokeConfig, ProxyRun, class_prototype, make_pen_strokes,
                    nearest_prototype_accuracy, proxy_runs, run_proxy)
from .slow_points import (coverage, corners_found, find_slow_points, model_field, pca_spectrum, reintegrate,
                          retention_curve, ring_stats, slow_fraction, speed_gate_grid)
from .training import (FlipFlopRun, TrainConfig, TrainResult, default_lr, model_from_run, mse, provenance_summary,
                       run_flipflop, sequence_mse, train)
