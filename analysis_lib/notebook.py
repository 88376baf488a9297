"""`setup_notebook(mode, seed)`: the first code cell of every notebook.

It validates the mode and the seed, seeds every random number generator, limits BLAS and
torch threads, picks the device, applies the one plot style, and returns a small frozen
config that the notebook reads its sizes from (`cfg.pick(quick=..., full=...)`).
"""
from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from ._paths import current_notebook_name, repo_root

MODES: tuple[str, ...] = ("quick", "full")
"""Allowed values of `MODE`: QUICK (minutes on 2 cores, CI) and FULL (paper scale)."""

T = TypeVar("T")

_current: "NotebookConfig | None" = None


@dataclass(frozen=True)
class NotebookConfig:
    """What a notebook needs to know about this run."""

    mode: str
    seed: int
    notebook: str
    device: str
    threads: int
    root: Path = field(repr=False)

    @property
    def quick(self) -> bool:
        return self.mode == "quick"

    @property
    def full(self) -> bool:
        return self.mode == "full"

    @property
    def figure_dir(self) -> Path:
        """FULL figures are committed under `figures/<nb>/`; QUICK ones never overwrite them."""
        if self.full:
            return self.root / "figures" / self.notebook
        return self.root / "reports" / "quick" / "figures" / self.notebook

    @property
    def cache_dir(self) -> Path:
        """Per-notebook cache for expensive results (git-ignored), separate per mode."""
        return self.root / "reports" / "cache" / self.mode / self.notebook

    def pick(self, *, quick: T, full: T) -> T:
        """The QUICK or the FULL value of a size, e.g. `cfg.pick(quick=200, full=2000)`."""
        return quick if self.quick else full

    def rng(self, offset: int = 0) -> np.random.Generator:
        """An independent numpy Generator derived from the notebook seed."""
        return np.random.default_rng([self.seed, offset])


def validate_mode(mode: Any) -> str:
    if not isinstance(mode, str) or mode.lower() not in MODES:
        raise ValueError(f"MODE must be one of {', '.join(repr(m) for m in MODES)}; got {mode!r}")
    return mode.lower()


def validate_seed(seed: Any) -> int:
    # bool is an int subclass; a seed of True is almost surely a mistake.
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) < 2**32:
        raise ValueError(f"SEED must be an integer in [0, 2**32 - 1]; got {seed!r}")
    return int(seed)


def limit_threads(n: int) -> None:
    """Limit BLAS/OpenMP and torch to `n` threads in this process (and its children).

    Small dense problems run faster single-threaded; parallel work goes through
    `al.sweep`, one process per core.
    """
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"threads must be a positive integer; got {n!r}")
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=n)
    try:
        import torch

        torch.set_num_threads(n)
    except ImportError:  # torch is a dependency, but the core must not need it
        pass


def seed_everything(seed: int) -> None:
    """Seed Python's `random`, numpy's legacy global RNG and torch (CPU and CUDA)."""
    random.seed(seed)
    np.random.seed(seed)
    try:
        import torch

        torch.manual_seed(seed)
    except ImportError:
        pass


def apply_plot_style() -> None:
    """One seaborn-based style, readable when a figure is shrunk to paper-column size."""
    import matplotlib as mpl
    import seaborn as sns

    sns.set_theme(context="paper", style="ticks", palette="colorblind", font_scale=1.3)
    mpl.rcParams.update(
        {
            "figure.dpi": 100,
            "savefig.dpi": 150,
            "savefig.bbox": "tight",
            "figure.constrained_layout.use": True,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "image.cmap": "viridis",
            "legend.frameon": False,
        }
    )


def _pick_device(mode: str) -> str:
    # FULL uses a GPU when torch sees one; QUICK stays on the CPU so results match CI.
    if mode != "full":
        return "cpu"
    try:
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    except ImportError:
        return "cpu"


def setup_notebook(mode: str = "quick", seed: int = 0, *, notebook: str | None = None,
                   threads: int | None = None) -> NotebookConfig:
    """Validate `mode` and `seed`, seed all RNGs, limit threads, style plots; return the config.

    `threads` defaults to `$ANALYSIS_LIB_THREADS` or 1. `notebook` is the papermill
    `NOTEBOOK` parameter when the runner sets it; interactively it is detected.
    """
    global _current
    mode = validate_mode(mode)
    seed = validate_seed(seed)
    if threads is None:
        threads = int(os.environ.get("ANALYSIS_LIB_THREADS", "1"))
    limit_threads(threads)
    seed_everything(seed)
    apply_plot_style()
    from . import claims

    claims.reset_registry()
    _current = NotebookConfig(
        mode=mode,
        seed=seed,
        notebook=current_notebook_name(notebook),
        device=_pick_device(mode),
        threads=threads,
        root=repo_root(),
    )
    return _current


def current_config() -> NotebookConfig | None:
    """The config of the last `setup_notebook` call in this process, if any."""
    return _current
