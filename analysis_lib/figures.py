"""`savefig(fig, name)`: one place decides where figures go.

FULL figures land in `figures/<notebook>/` (committed: the README gallery); QUICK figures in
`reports/quick/figures/<notebook>/`, so a QUICK run never overwrites the paper-scale ones.
"""
from __future__ import annotations

from pathlib import Path

from ._paths import current_notebook_name, repo_root, validate_name
from .notebook import current_config


def figure_dir(mode: str | None = None, notebook: str | None = None) -> Path:
    """Figure folder for this mode and notebook (from the current config when not given)."""
    cfg = current_config()
    mode = mode or (cfg.mode if cfg else "quick")
    notebook = notebook or (cfg.notebook if cfg else current_notebook_name())
    root = cfg.root if cfg else repo_root()
    if mode == "full":
        return root / "figures" / notebook
    if mode == "quick":
        return root / "reports" / "quick" / "figures" / notebook
    raise ValueError(f"mode must be 'quick' or 'full'; got {mode!r}")


def savefig(fig, name: str, *, mode: str | None = None, notebook: str | None = None) -> list[Path]:
    """Write `fig` as `<name>.png` (and `<name>.pdf` in FULL) and return the paths."""
    validate_name(name, "figure name")
    cfg = current_config()
    mode = mode or (cfg.mode if cfg else "quick")
    folder = figure_dir(mode, notebook)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{name}.png"]
    if mode == "full":
        paths.append(folder / f"{name}.pdf")
    for path in paths:
        # Fixed metadata keeps committed PDFs byte-stable between identical runs.
        metadata = {"CreationDate": None} if path.suffix == ".pdf" else {"Software": None}
        fig.savefig(path, metadata=metadata)
    return paths
