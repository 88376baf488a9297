"""A pickle cache for expensive results (project cache files only; written atomically)."""
from __future__ import annotations


def atomic_write(path, write) -> None:
    """`write(tmp)` into a sibling temporary file, then rename it onto `path` (parent folders are
    made): an interruption never leaves a half-written cache file or checkpoint behind."""
    from pathlib import Path

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    write(tmp)
    tmp.replace(path)


def dump_pickle(path, obj) -> None:
    """Pickle `obj` at `path` atomically (`atomic_write`)."""
    import pickle

    def write(tmp):
        with open(tmp, "wb") as fh:
            pickle.dump(obj, fh)

    atomic_write(path, write)


def load_pickle(path):
    """Unpickle a project cache file or checkpoint (only our own files are unpickled)."""
    import pickle

    with open(path, "rb") as fh:
        return pickle.load(fh)


def cached_call(path, fn, enabled: bool = True):
    """`fn()` with its result pickled at `path` (a project cache file; only our own files are
    unpickled). With `enabled=False` it just calls `fn()` (QUICK runs never read stale results)."""
    from pathlib import Path

    if not enabled:
        return fn()
    path = Path(path)
    if path.exists():
        return load_pickle(path)
    result = fn()
    dump_pickle(path, result)
    return result
