"""Checks that outputs never carry participant ids (24-hex pseudonymous ids of the data set)."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Iterable

# exactly 24 hex digits, not part of a longer hex run (widget model ids are 32-hex, digests 64)
PARTICIPANT_ID_RE = re.compile(r"(?<![0-9a-fA-F])[0-9a-f]{24}(?![0-9a-fA-F])")


def find_participant_ids(text: str, known_ids: Iterable[str] = ()) -> list[str]:
    """24-hex strings in `text`, plus any of `known_ids` that occurs in it."""
    hits = PARTICIPANT_ID_RE.findall(text)
    hits += [i for i in known_ids if i and i in text]
    return sorted(set(hits))


def notebook_output_text(path: str | Path) -> str:
    """All outputs of an executed notebook as one string (text, HTML, JSON, errors)."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    parts = []
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            parts.append(json.dumps(out, ensure_ascii=False))
    return "\n".join(parts)


def scan_executed(paths: Iterable[str | Path], known_ids: Iterable[str] = ()) -> dict[str, list[str]]:
    """{path: ids found} for executed notebooks (.ipynb: outputs) and renders (.html etc.: whole file)."""
    known = list(known_ids)
    found = {}
    for p in paths:
        p = Path(p)
        text = notebook_output_text(p) if p.suffix == ".ipynb" else p.read_text(encoding="utf-8", errors="replace")
        hits = find_participant_ids(text, known)
        if hits:
            found[str(p)] = hits
    return found
