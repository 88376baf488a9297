"""A pickle cache for expensive results (project cache files only; written atomically)."""
from __future__ import annotations


def cached_call(path, fn, enabled: bool = True):
    """`fn()` with its result pickled at `path` (a project cache file; only our own files are
    unpickled). With `enabled=False` it just calls `fn()` (QUICK runs never read stale results)."""
    import pickle
    from pathlib import Path

    if not enabled:
        return fn()
    path = Path(path)
    if path.exists():
        with path.open("rb") as fh:
            return pickle.load(fh)
    result = fn()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as fh:
        pickle.dump(result, fh)
    tmp.replace(path)
    return result
