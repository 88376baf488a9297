"""One cache for expensive results, keyed by what produced them.

`cached_call(fn, params, cache_dir=...)` returns `fn(**params)`, computing it at most once per key.
The key is

    (qualified name of fn, canonical params, fingerprint of the code that computes fn)

where the code fingerprint hashes every source file of fn's subpackage and of each part of
`analysis_lib` it imports (transitively, read from the import statements), plus the versions of
Python, numpy, scipy and torch. A change to any of these is a different key: the result is
recomputed, and stale data are never served. The file name carries a hash of the key and the file
stores the key itself, which is compared on every read. Optional `labels` (e.g. the grid a cached
array is laid out on) are stored beside the result and must equal the requested ones on a hit.

Resume checkpoints of long runs use `cache_file(cache_dir, fn, params, suffix)`, so a checkpoint
written by other code or other parameters is never resumed.

Hits and misses are counted in this process (`stats()`) and, when `ANALYSIS_LIB_CACHE_LOG` names a
file (the runner sets it), appended there one line each, so uses in sweep worker processes count.
"""
from __future__ import annotations

import ast
import dataclasses
import hashlib
import json
import math
import os
import sys
from pathlib import Path
from typing import Any, Callable, Mapping

PACKAGE = "analysis_lib"
_PACKAGE_DIR = Path(__file__).resolve().parent
# Top-level modules that record, show or place results but never compute them: editing how a claim
# is printed must not throw away hours of cached sweeps. Everything else a unit imports counts.
PRESENTATION_UNITS = frozenset(f"{PACKAGE}.{m}" for m in ("claims", "provenance", "figures", "explore", "reproduce", "_paths", "progress"))
# Files inside a subpackage that only declare text (each paper's claims table): not part of the key.
PRESENTATION_FILES = frozenset({"paper_claims.py"})
_stats = {"hit": 0, "miss": 0}
_import_memo: dict[tuple[str, int, int], frozenset[str]] = {}


def atomic_write(path, write) -> None:
    """`write(tmp)` into a sibling temporary file, then rename it onto `path` (parent folders are
    made): an interruption never leaves a half-written cache file or checkpoint behind."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
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


# ---------------------------------------------------------------------------------------------
# Code fingerprint


def _unit_of(module: str) -> str | None:
    """The cache unit of a module of this package: a subpackage (`analysis_lib.gating`) or a
    top-level module (`analysis_lib.sweep`); None outside the package."""
    parts = module.split(".")
    if parts[0] != PACKAGE:
        return None
    return ".".join(parts[:2]) if len(parts) > 1 else PACKAGE


def _unit_files(unit: str) -> list[Path]:
    """Source files of a unit: a subpackage's .py and .json files (recursively), or one module."""
    if unit == PACKAGE:
        return [_PACKAGE_DIR / "__init__.py"]
    name = unit.split(".", 1)[1]
    folder = _PACKAGE_DIR / name
    if folder.is_dir():
        return sorted(p for p in folder.rglob("*") if p.suffix in (".py", ".json") and "__pycache__" not in p.parts
                      and p.name not in PRESENTATION_FILES)
    path = _PACKAGE_DIR / f"{name}.py"
    return [path] if path.exists() else []


def _module_name_of(path: Path) -> str:
    rel = path.relative_to(_PACKAGE_DIR.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imported_units(path: Path) -> frozenset[str]:
    """Units of this package that `path` imports anywhere (module level or inside functions)."""
    st = path.stat()
    memo_key = (str(path), st.st_mtime_ns, st.st_size)
    if memo_key in _import_memo:
        return _import_memo[memo_key]
    module = _module_name_of(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            targets = [stem] if node.module else [f"{stem}.{alias.name}" for alias in node.names]
        for target in targets:
            unit = _unit_of(target)
            if unit is not None:
                # `from .. import name` may name a module or an attribute of __init__: a missing
                # module file falls back to the package itself.
                found.add(unit if _unit_files(unit) else PACKAGE)
    result = frozenset(found)
    _import_memo[memo_key] = result
    return result


def code_units(module: str) -> list[str]:
    """`module`'s unit and every unit of this package it imports, transitively (sorted), less the
    `PRESENTATION_UNITS`."""
    start = _unit_of(module)
    if start is None:
        return []
    seen, todo = set(), [start]
    while todo:
        unit = todo.pop()
        if unit in seen or unit in PRESENTATION_UNITS:
            continue
        seen.add(unit)
        for path in _unit_files(unit):
            if path.suffix == ".py":
                todo.extend(_imported_units(path) - seen)
    return sorted(seen)


def library_versions() -> dict[str, str]:
    """Versions of the interpreter and the numerical libraries whose output a result depends on."""
    from importlib import metadata

    versions = {"python": ".".join(map(str, sys.version_info[:3]))}
    for dist in ("numpy", "scipy", "torch"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = "absent"
    return versions


def hash_files(paths, root: Path) -> str:
    """sha256 over (path relative to `root`, contents) of `paths` in order; a missing file hashes as such."""
    h = hashlib.sha256()
    for path in map(Path, paths):
        h.update(path.relative_to(root).as_posix().encode() + b"\0")
        h.update(path.read_bytes() if path.exists() else b"<missing>")
        h.update(b"\0")
    return h.hexdigest()


def code_fingerprint(fn_or_module: Callable | str) -> str:
    """Fingerprint of the code behind a function (or module name): its units' files + versions.

    A function outside this package (a test's, a user's) is fingerprinted by its own source file.
    """
    module = fn_or_module if isinstance(fn_or_module, str) else fn_or_module.__module__
    units = code_units(module)
    if units:
        files = [p for u in units for p in _unit_files(u)]
        root = _PACKAGE_DIR.parent
    else:
        import inspect

        source = inspect.getsourcefile(fn_or_module) if not isinstance(fn_or_module, str) else sys.modules[module].__file__
        files = [Path(source)]
        root = Path(source).parent
    digest = hashlib.sha256(hash_files(files, root).encode())
    digest.update(json.dumps(library_versions(), sort_keys=True).encode())
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------------
# Keys


def canonical(obj: Any, where: str = "params") -> Any:
    """A JSON-ready, order-independent form of `obj` (dataclasses by class name and fields, numpy
    arrays by dtype, shape and a hash of their bytes). Anything else raises a TypeError naming
    where it was found, so an unhashable parameter never silently collides."""
    import numpy as np

    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, int):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else {"__float__": repr(obj)}
    if isinstance(obj, Path):
        return str(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        cls = type(obj)
        return {"__dataclass__": f"{cls.__module__}.{cls.__qualname__}",
                **{f.name: canonical(getattr(obj, f.name), f"{where}.{f.name}") for f in dataclasses.fields(obj)}}
    if isinstance(obj, Mapping):
        out = {}
        for k, v in obj.items():
            if not isinstance(k, str):
                raise TypeError(f"{where}: mapping keys must be strings to form a cache key; got {k!r}")
            out[k] = canonical(v, f"{where}.{k}")
        return dict(sorted(out.items()))
    if isinstance(obj, (list, tuple, range)):
        return [canonical(v, f"{where}[{i}]") for i, v in enumerate(obj)]
    if isinstance(obj, np.ndarray):
        return {"__ndarray__": str(obj.dtype), "shape": list(obj.shape),
                "sha256": hashlib.sha256(np.ascontiguousarray(obj).tobytes()).hexdigest()}
    raise TypeError(f"{where}: cannot form a cache key from a {type(obj).__name__} ({obj!r}); pass numbers, "
                    "strings, lists, dicts, numpy arrays or frozen dataclasses of them")


def qualified_name(fn: Callable) -> str:
    return f"{fn.__module__}.{fn.__qualname__}"


def cache_key(fn: Callable, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The full key of `fn(**params)`: qualified name, canonical parameters, code fingerprint."""
    return {"fn": qualified_name(fn), "params": canonical(dict(params or {})), "code": code_fingerprint(fn)}


def key_digest(key: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


def cache_file(cache_dir: str | Path, fn: Callable, params: Mapping[str, Any] | None = None,
               suffix: str = ".pkl") -> Path:
    """Where `fn(**params)` is cached (or checkpointed, with another `suffix`) under `cache_dir`:
    `<function name>-<24 hex digits of the key's hash><suffix>`."""
    return _file_for(cache_dir, fn, cache_key(fn, params), suffix)


def _file_for(cache_dir: str | Path, fn: Callable, key: Mapping[str, Any], suffix: str) -> Path:
    return Path(cache_dir) / f"{fn.__qualname__.replace('<', '').replace('>', '')}-{key_digest(key)[:24]}{suffix}"


def _log(event: str, key: Mapping[str, Any]) -> None:
    _stats[event] += 1
    log = os.environ.get("ANALYSIS_LIB_CACHE_LOG")
    if log:
        # One short line per event, appended: safe from several processes at once.
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"{event} {key['fn']} {key_digest(key)[:12]}\n")


def stats() -> dict[str, int]:
    """Cache hits and misses in this process since it started."""
    return dict(_stats)


def _stored_result(path: Path, key: Mapping[str, Any], wanted_labels: Any) -> tuple[bool, Any]:
    """(hit?, result) of the entry at `path`: a hit only when its stored key and labels are the wanted ones."""
    if not path.exists():
        return False, None
    try:
        entry = load_pickle(path)
    except Exception:  # an unreadable entry is recomputed, never trusted
        return False, None
    if isinstance(entry, dict) and entry.get("key") == key and entry.get("labels") == wanted_labels:
        return True, entry["result"]
    return False, None


def is_cached(fn: Callable, params: Mapping[str, Any] | None = None, *, cache_dir: str | Path | None,
              labels: Any = None) -> bool:
    """Whether `cache_dir` holds `fn(**params)` under its current key with these `labels` (no call, no count)."""
    if cache_dir is None:
        return False
    key = cache_key(fn, params)
    return _stored_result(_file_for(cache_dir, fn, key, ".pkl"), key, canonical(labels, "labels"))[0]


def cached_call(fn: Callable, params: Mapping[str, Any] | None = None, *, cache_dir: str | Path | None,
                labels: Any = None, not_in_key: Mapping[str, Any] | None = None,
                checkpoint_suffix: str | None = None) -> Any:
    """`fn(**params, **not_in_key)`, cached under `cache_dir` by `cache_key(fn, params)` (None: no cache).

    `labels`: what the result is laid out on (a grid's axes, the seeds); stored with it and
    compared on a hit. A stored entry whose key or labels differ is recomputed and overwritten.
    `not_in_key`: arguments that never change the result (a device, a progress bar): passed to
    `fn` but not part of the key, so a result computed elsewhere is found. `checkpoint_suffix`:
    `fn` also gets `checkpoint=` a resume file keyed like the result (`cache_file(..., suffix)`; None
    without a cache), removed once the result is stored, so only this very computation resumes it.
    """
    params = dict(params or {})
    extra = dict(not_in_key or {})
    if checkpoint_suffix is not None:
        extra["checkpoint"] = None if cache_dir is None else cache_file(cache_dir, fn, params, checkpoint_suffix)
    if cache_dir is None:
        return fn(**params, **extra)
    Path(cache_dir).mkdir(parents=True, exist_ok=True)  # fn may write its checkpoint there first
    key = cache_key(fn, params)
    path = _file_for(cache_dir, fn, key, ".pkl")
    wanted_labels = canonical(labels, "labels")
    hit, result = _stored_result(path, key, wanted_labels)
    if hit:
        _log("hit", key)
        return result
    result = fn(**params, **extra)
    dump_pickle(path, {"key": key, "labels": wanted_labels, "result": result})
    if extra.get("checkpoint") is not None:
        Path(extra["checkpoint"]).unlink(missing_ok=True)  # the stored result supersedes its resume point
    _log("miss", key)
    return result
