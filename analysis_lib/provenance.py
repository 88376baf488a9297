"""Provenance of a run: which code produced it, on what, and how much came from cache.

The closing cell of every notebook (`summarize_claims`) emits `record()` as a display output with
the MIME type `PROVENANCE_MIME`; the runner adds the commit, the dirty flag and wall time, and keeps
it in `figures/<notebook>/claims.json`. Whether a committed FULL row is still current is decided
by comparing its fingerprints with the ones the same files give now (`reproduce --status`):

- `notebook_fingerprint(path)`: the stored notebook's cells (type and source; outputs ignored);
- `code_fingerprint(file_hashes(files))`: the package files the kernel had imported when the
  notebook ended (and the data files beside them), by relative path and contents; the per-file
  hashes are kept too, so a stale row names the files that changed.
"""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any, Sequence

from ._cache import library_versions, stats
from ._paths import repo_root
from .claims import display_record

PROVENANCE_MIME = "application/vnd.analysis-lib.provenance+json"
_PACKAGE_DIR = Path(__file__).resolve().parent


def imported_code_files() -> list[str]:
    """Files of this package imported in this process, and the .json data files beside them,
    as paths relative to the repository root (sorted)."""
    root = _PACKAGE_DIR.parent
    files: set[Path] = set()
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if not path:
            continue
        path = Path(path).resolve()
        if path.suffix == ".py" and path.is_relative_to(_PACKAGE_DIR):
            files.add(path)
            files.update(path.parent.glob("*.json"))
    return sorted(p.relative_to(root).as_posix() for p in files)


def file_hashes(files: Sequence[str], root: Path | None = None) -> dict[str, str]:
    """{relative path: sha256 (12 hex digits) of its contents, or "missing"} for the listed files."""
    root = root or repo_root()
    out = {}
    for rel in sorted(files):
        path = root / rel
        out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()[:12] if path.exists() else "missing"
    return out


def code_fingerprint(hashes: dict[str, str]) -> str:
    """sha256 (16 hex digits) over the per-file hashes (`file_hashes`)."""
    return hashlib.sha256(json.dumps(sorted(hashes.items())).encode()).hexdigest()[:16]


def notebook_fingerprint(path: str | Path) -> str:
    """sha256 (16 hex digits) of a notebook's cell types and sources: what the notebook says and
    does, not its outputs or metadata."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    cells = [[c.get("cell_type"), "".join(c.get("source", ""))] for c in nb.get("cells", [])]
    return hashlib.sha256(json.dumps(cells).encode()).hexdigest()[:16]


def device() -> str:
    from .notebook import current_config

    cfg = current_config()
    return cfg.device if cfg else "cpu"


def record() -> dict[str, Any]:
    """This process's provenance: imported code files and their fingerprint, versions, device, where
    sweeps ran (local processes or a Dask cluster), cache use."""
    from .sweep import where_sweeps_run

    hashes = file_hashes(imported_code_files(), _PACKAGE_DIR.parent)
    return {"code_files": hashes, "code_fingerprint": code_fingerprint(hashes),
            "versions": library_versions(), "device": device(), "sweeps": where_sweeps_run(), "cache": stats()}


def emit() -> dict[str, Any]:
    """Show the provenance record as a display output the runner reads back (`claims.read_provenance`)."""
    rec = record()
    text = (f"provenance: {len(rec['code_files'])} code files, fingerprint {rec['code_fingerprint']}, "
            f"device {rec['device']}, cache {rec['cache']['hit']} hits / {rec['cache']['miss']} misses in this kernel")
    display_record({PROVENANCE_MIME: rec}, text)
    return rec
