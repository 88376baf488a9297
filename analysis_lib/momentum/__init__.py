"""Paper 04 — Cowsik, Can, Glorioso, *Flatter, faster: scaling momentum for optimal speedup of SGD*
(arXiv:2210.16400).

Label-noise SGD with heavy-ball momentum (`dynamics`), the reconstructed theory (`theory`: AR(2)
variance, τ1/τ2, drift law, optimum 1−β* ∝ (ηε)^{2/3}), models (`models`: toy f = uv, matrix sensing,
teacher–student, the tanh-network stand-in), time-to-threshold metrics and exponent fits (`metrics`), figure-level experiments
(`experiments`; `realnet`: the realistic-network test of the 2/3 law), plots and widgets. torch is imported lazily (`nets`, `classify`: FULL / opt-in).
"""
from . import data, dynamics, experiments, metrics, models, paper_claims, plots, realnet, theory
from .dynamics import InterpolatedOccupation, Occupation, Record, MeanSquare, SGDMRun, sgdm_label_noise, sgdm_step, torch_sgd_max_abs_diff
from .models import MatrixSensing, QuadraticMode, TanhNet, TeacherStudentTanh, ToyUV, gradient_descent, hutchinson_trace
from .paper_claims import MOMENTUM_CLAIMS, MOMENTUM_HEADLINE, MOMENTUM_PAPER

__all__ = [
    "data", "dynamics", "experiments", "metrics", "models", "paper_claims", "plots", "realnet", "theory", "MOMENTUM_CLAIMS", "MOMENTUM_HEADLINE", "MOMENTUM_PAPER",
    "InterpolatedOccupation", "Occupation", "Record", "MeanSquare", "SGDMRun", "sgdm_label_noise", "sgdm_step", "torch_sgd_max_abs_diff",
    "MatrixSensing", "QuadraticMode", "TanhNet", "TeacherStudentTanh", "ToyUV", "gradient_descent", "hutchinson_trace",
]
