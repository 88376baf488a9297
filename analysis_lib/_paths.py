"""Where the repository lives, and which notebook is running.

One place decides both, so figures, reports and data paths agree between the runner,
the tests and an interactive JupyterLab session.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")


def repo_root() -> Path:
    """The repository root.

    `ANALYSIS_LIB_ROOT` wins; otherwise the folder above the package when it holds
    `pyproject.toml` (the editable install every Makefile target uses); otherwise the
    working directory.
    """
    env = os.environ.get("ANALYSIS_LIB_ROOT")
    if env:
        return Path(env).resolve()
    here = Path(__file__).resolve().parent.parent
    if (here / "pyproject.toml").exists():
        return here
    return Path.cwd().resolve()


def validate_name(name: str, what: str = "name") -> str:
    """A file-name-safe identifier: letters, digits, `_ . -`, no path separators."""
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ValueError(
            f"{what} must be a non-empty string of letters, digits, '_', '.', '-' "
            f"(no path separators); got {name!r}"
        )
    return name


def current_notebook_name(explicit: str | None = None) -> str:
    """Name of the running notebook, without `.ipynb`.

    Order: an explicit name (the `NOTEBOOK` papermill parameter), the runner's
    `ANALYSIS_LIB_NOTEBOOK`, JupyterLab's `JPY_SESSION_NAME` (the notebook path of an
    interactive kernel), and finally `"scratch"` for a plain Python session.
    """
    for candidate in (explicit, os.environ.get("ANALYSIS_LIB_NOTEBOOK"), os.environ.get("JPY_SESSION_NAME")):
        if candidate:
            stem = Path(candidate).name
            if stem.endswith(".ipynb"):
                stem = stem[: -len(".ipynb")]
            return validate_name(stem, "notebook")
    return "scratch"
