"""Shared pytest set-up: headless plotting and one BLAS thread in the test process."""
import os

# Unit tests only: notebooks executed by the runner keep the inline backend.
os.environ.setdefault("MPLBACKEND", "Agg")
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
