"""Recorded claims: a result checked against an independent expectation.

`claim(...)` shows one readable line in the notebook and emits the same record as a display
output with the MIME type `CLAIM_MIME`, so the runner reads it back from the executed
notebook (`read_claims`) without any side channel.

Status rules (`evaluate`):
- boolean `measured`, no `expected`: pass iff `measured` is True (a qualitative check);
- `within=(lo, hi)`: pass iff lo <= measured <= hi (either bound may be None);
- `expected` with `rel`/`abs`: pass iff |measured - expected| <= max(rel*|expected|, abs);
  with neither tolerance the comparison is exact;
- nothing to compare with: status "info" (recorded, never fails).
A NaN or infinite measured value fails every numeric comparison.
"""
from __future__ import annotations

import json
import math
import numbers
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

CLAIM_MIME = "application/vnd.analysis-lib.claim+json"
SOURCES: tuple[str, ...] = ("paper", "data", "derived", "simulation")
STATUSES: tuple[str, ...] = ("pass", "fail", "info")
_KEY_RE = re.compile(r"^[a-z0-9_]+(\.[A-Za-z0-9_\-]+)+$")
_SYMBOL = {"pass": "✓", "fail": "✗", "info": "·"}

_registry: dict[str, "ClaimRecord"] = {}


@dataclass(frozen=True)
class ClaimRecord:
    key: str
    measured: Any
    expected: Any
    rel: float | None
    abs: float | None
    within: tuple[float | None, float | None] | None
    source: str
    note: str
    status: str
    tolerance: str = field(default="")

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["within"] = list(self.within) if self.within is not None else None
        return d

    @property
    def line(self) -> str:
        """The one line a reader sees: symbol, key, measured vs expected, source, note."""
        text = f"{_SYMBOL[self.status]} {self.key}: measured {_fmt(self.measured)}"
        if self.tolerance:
            text += f" vs {self.tolerance}"
        text += f" [{self.source}]"
        if self.note:
            text += f" — {self.note}"
        return text


def _fmt(x: Any) -> str:
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, numbers.Integral):
        return str(int(x))
    if isinstance(x, numbers.Real):
        return f"{float(x):.4g}"
    if isinstance(x, (list, tuple)):
        return "[" + ", ".join(_fmt(v) for v in x) + "]"
    return str(x)


def _plain(x: Any) -> Any:
    """numpy scalars/0-d arrays to Python numbers so the record is JSON-serialisable."""
    if x is None or isinstance(x, bool):
        return x
    if hasattr(x, "item") and getattr(x, "ndim", 0) == 0:
        x = x.item()
    if isinstance(x, bool):
        return x
    if isinstance(x, numbers.Integral):
        return int(x)
    if isinstance(x, numbers.Real):
        return float(x)
    raise TypeError(f"claim values must be numbers or booleans; got {type(x).__name__}: {x!r}")


def _check_tol(name: str, value: Any) -> float | None:
    if value is None:
        return None
    value = _plain(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0 or math.isinf(value):
        raise ValueError(f"{name} must be a finite number >= 0; got {value!r}")
    return float(value)


def evaluate(measured: Any, expected: Any = None, *, rel: float | None = None, abs: float | None = None,
             within: tuple[Any, Any] | None = None) -> tuple[str, str]:
    """Status ("pass" | "fail" | "info") and a readable description of the expectation."""
    measured = _plain(measured)
    expected = _plain(expected)
    rel = _check_tol("rel", rel)
    abs_ = _check_tol("abs", abs)
    if within is not None:
        if expected is not None or rel is not None or abs_ is not None:
            raise ValueError("give either within=(lo, hi) or expected with rel/abs, not both")
        if not isinstance(within, (tuple, list)) or len(within) != 2:
            raise ValueError(f"within must be a pair (lo, hi); got {within!r}")
        lo, hi = (_plain(b) for b in within)
        if lo is None and hi is None:
            raise ValueError("within needs at least one finite bound")
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(f"within=(lo, hi) needs lo <= hi; got {within!r}")
        if isinstance(measured, bool):
            raise ValueError("a boolean measured value cannot be checked against within=(lo, hi)")
        desc = f"in [{_fmt(lo) if lo is not None else '-inf'}, {_fmt(hi) if hi is not None else 'inf'}]"
        if measured is None or not math.isfinite(measured):
            return "fail", desc
        ok = (lo is None or measured >= lo) and (hi is None or measured <= hi)
        return ("pass" if ok else "fail"), desc
    if isinstance(measured, bool):
        if rel is not None or abs_ is not None:
            raise ValueError("rel/abs tolerances do not apply to a boolean measured value")
        if expected is None:
            return ("pass" if measured else "fail"), "expected True"
        return ("pass" if measured == expected else "fail"), f"expected {expected}"
    if expected is None:
        if rel is not None or abs_ is not None:
            raise ValueError("rel/abs tolerances need an expected value")
        return "info", ""
    if isinstance(expected, bool):
        raise ValueError("a boolean expected value needs a boolean measured value")
    tol = max(rel * math.fabs(expected) if rel is not None else 0.0, abs_ if abs_ is not None else 0.0)
    if rel is None and abs_ is None:
        desc = f"expected {_fmt(expected)} (exact)"
    elif rel is not None and abs_ is None:
        desc = f"expected {_fmt(expected)} ± {_fmt(rel * 100)}%"
    elif abs_ is not None and rel is None:
        desc = f"expected {_fmt(expected)} ± {_fmt(abs_)}"
    else:
        desc = f"expected {_fmt(expected)} ± max({_fmt(rel * 100)}%, {_fmt(abs_)})"
    if measured is None or not math.isfinite(measured):
        return "fail", desc
    # The bound is inclusive; the relative slack absorbs the rounding of |m - e| itself
    # (1.05 - 1.0 > 0.05 in binary floating point). An exact comparison stays exact.
    return ("pass" if math.fabs(measured - expected) <= tol * (1 + 1e-12) else "fail"), desc


def claim(key: str, measured: Any, expected: Any = None, *, rel: float | None = None,
          abs: float | None = None, within: tuple[Any, Any] | None = None, source: str,
          note: str = "") -> ClaimRecord:
    """Record a checked result of the paper and show it.

    `key`: dotted, prefixed by the paper (`gating.zero_fp.threshold`), unique per notebook.
    `source`: where `expected` comes from, one of `SOURCES`. The expected value must be
    independent of `measured`. A failing claim does not raise: the notebook goes on and the
    runner reports it.
    """
    if not isinstance(key, str) or not _KEY_RE.match(key):
        raise ValueError(f"key must be dotted and prefixed by the paper, like 'gating.zero_fp.threshold'; got {key!r}")
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}; got {source!r}")
    if not isinstance(note, str):
        raise ValueError(f"note must be a string; got {type(note).__name__}")
    status, desc = evaluate(measured, expected, rel=rel, abs=abs, within=within)
    record = ClaimRecord(
        key=key,
        measured=_plain(measured),
        expected=_plain(expected),
        rel=_check_tol("rel", rel),
        abs=_check_tol("abs", abs),
        within=tuple(_plain(b) for b in within) if within is not None else None,
        source=source,
        note=note,
        status=status,
        tolerance=desc,
    )
    # Re-running a cell interactively replaces the record under the same key.
    _registry[key] = record
    _show(record)
    return record


def _show(record: ClaimRecord) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - IPython is a dependency
        print(record.line)
        return
    if get_ipython() is None:
        print(record.line)
        return
    color = {"pass": "#1a7f37", "fail": "#cf222e", "info": "#57606a"}[record.status]
    html = f'<div style="font-family:monospace;color:{color}">{_escape(record.line)}</div>'
    display({CLAIM_MIME: record.to_json(), "text/plain": record.line, "text/html": html}, raw=True)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def reset_registry() -> None:
    _registry.clear()


def recorded_claims() -> list[ClaimRecord]:
    """Claims recorded in this process since the last `setup_notebook`, in order."""
    return list(_registry.values())


def read_claims(executed_notebook: str | Path) -> list[dict[str, Any]]:
    """All claim records in an executed notebook, in cell order (the runner's reader)."""
    nb = json.loads(Path(executed_notebook).read_text(encoding="utf-8"))
    records = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if CLAIM_MIME in data:
                rec = data[CLAIM_MIME]
                records.append(json.loads(rec) if isinstance(rec, str) else rec)
    return records


def summarize_claims(not_reproduced: list[str] | tuple[str, ...] = ()) -> dict[str, int]:
    """The closing cell: what is reproduced, what is not, generated from the recorded claims.

    `not_reproduced` lists what the notebook cannot reproduce (stated plainly, e.g. a task
    whose data is not public). Returns the counts per status.
    """
    records = recorded_claims()
    counts = {s: sum(r.status == s for r in records) for s in STATUSES}
    lines = [
        "## What is reproduced, what is not",
        "",
        f"**{counts['pass']} of {counts['pass'] + counts['fail']} checked claims pass**"
        f" ({counts['info']} informational records).",
        "",
    ]
    for status, title in (("pass", "Reproduced"), ("fail", "Not reproduced (claim failed)"), ("info", "Recorded, not checked")):
        group = [r for r in records if r.status == status]
        if group:
            lines.append(f"**{title}**")
            lines.append("")
            lines.extend(f"- `{r.key}`: {_fmt(r.measured)}" + (f" vs {r.tolerance}" if r.tolerance else "")
                         + f" [{r.source}]" for r in group)
            lines.append("")
    if not_reproduced:
        lines.append("**Not reproducible here**")
        lines.append("")
        lines.extend(f"- {item}" for item in not_reproduced)
    text = "\n".join(lines)
    try:
        from IPython import get_ipython
        from IPython.display import Markdown, display

        if get_ipython() is not None:
            display(Markdown(text))
        else:
            print(text)
    except ImportError:  # pragma: no cover
        print(text)
    return counts
