"""`interact`: the notebooks' Explore widgets, with a static view in headless runs.

nbclient/papermill can block indefinitely on a cell that creates an `ipywidgets.interact`
panel (papermill issue #723, nbclient issue #312; seen here on notebooks 03 and 05 under load:
kernel idle, client waiting). The runner marks its kernels headless (`ANALYSIS_LIB_HEADLESS=1`);
there `interact` draws the default view once, without creating widgets. In JupyterLab it is
`ipywidgets.interact`.
"""
from __future__ import annotations

import inspect
import os
from typing import Any, Callable

HEADLESS_ENV = "ANALYSIS_LIB_HEADLESS"


def headless() -> bool:
    """True inside a kernel started by `python -m analysis_lib.reproduce` (no one to move a slider)."""
    return os.environ.get(HEADLESS_ENV, "") == "1"


def _default(name: str, control: Any, fn_defaults: dict) -> Any:
    """The value ipywidgets would start a control at: a widget's `.value`, else the function's own
    default, else the middle of a (min, max[, step]) tuple or the first of a list of options."""
    if hasattr(control, "value"):
        return control.value
    if name in fn_defaults:
        return fn_defaults[name]
    if isinstance(control, tuple) and len(control) in (2, 3) and all(isinstance(v, (int, float)) for v in control):
        lo, hi = control[0], control[1]
        mid = (lo + hi) / 2
        return int(round(mid)) if all(isinstance(v, int) for v in control) else mid
    if isinstance(control, (list, tuple)) and control:
        first = control[0]
        return first[1] if isinstance(first, tuple) and len(first) == 2 else first
    if isinstance(control, dict) and control:
        return next(iter(control.values()))
    return control


def interact(fn: Callable[..., Any], **controls):
    """`ipywidgets.interact(fn, **controls)`; headless: `fn(**defaults)` once (see module docstring)."""
    if not callable(fn):
        raise ValueError(f"fn must be callable; got {type(fn).__name__}")
    if not headless():
        import ipywidgets

        return ipywidgets.interact(fn, **controls)
    params = inspect.signature(fn).parameters
    unknown = sorted(set(controls) - set(params))
    if unknown and not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        raise ValueError(f"controls {unknown} are not parameters of {fn.__name__}; parameters: {list(params)}")
    fn_defaults = {k: p.default for k, p in params.items() if p.default is not inspect.Parameter.empty}
    values = {k: _default(k, c, fn_defaults) for k, c in controls.items()}
    print(f"(headless run: the interactive controls of {fn.__name__} are live in JupyterLab; default view below)")
    fn(**values)
    return None
