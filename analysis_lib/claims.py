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

Two kinds of record (`kind`):
- `"result"` (default): tests a statement of the paper, or of our stated reading of it, against an
  independent expectation. A checked result names the paper claims it supports (`supports="C5"`),
  which the notebook declares first with `declare_paper_claims`.
- `"check"`: an identity, a consistency or implementation check, a formula against a second coding
  of itself, a solver against a second solver of the same equation. Useful, never counted as a
  result, and never a stand-in for a result that failed. A failing check fails the notebook too.

`coverage(paper_claims, records)` turns the results into one row per paper claim: reproduced
(every supporting result passes), not reproduced (every one fails), partly (some of each), or not
tested (no checked result supports it).
"""
from __future__ import annotations

import json
import math
import numbers
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

CLAIM_MIME = "application/vnd.analysis-lib.claim+json"
PAPER_CLAIMS_MIME = "application/vnd.analysis-lib.paper-claims+json"
SOURCES: tuple[str, ...] = ("paper", "data", "derived", "simulation")
STATUSES: tuple[str, ...] = ("pass", "fail", "info")
KINDS: tuple[str, ...] = ("result", "check")
CLAIM_SOURCES: tuple[str, ...] = ("abstract", "paper", "reading")
"""Where a paper claim's statement comes from: the abstract, the paper's text, or our reading of it."""
COVERAGE: tuple[str, ...] = ("reproduced", "partly", "not reproduced", "not tested")
_KEY_RE = re.compile(r"^[a-z0-9_]+(\.[A-Za-z0-9_\-]+)+$")
_ID_RE = re.compile(r"^[A-Z][A-Za-z0-9_.]*$")
_SYMBOL = {"pass": "✓", "fail": "✗", "info": "·"}

_registry: dict[str, "ClaimRecord"] = {}
_declared: dict[str, "PaperClaim"] = {}
_declared_paper: list[str] = []


@dataclass(frozen=True)
class Headline:
    """The figure that shows a paper's main claim, for the README gallery: `figure` is the stem
    given to `savefig` (e.g. "F3_scaling"), `caption` one line, `claims` the ids whose coverage gives
    the gallery's status."""

    figure: str
    caption: str
    claims: tuple[str, ...]

    def __post_init__(self):
        if not isinstance(self.figure, str) or not re.match(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$", self.figure):
            raise ValueError(f"headline figure must be a figure name as given to savefig; got {self.figure!r}")
        if not isinstance(self.caption, str) or not self.caption.strip():
            raise ValueError("headline caption must be a non-empty string")
        if isinstance(self.claims, str) or not self.claims or not all(isinstance(i, str) for i in self.claims):
            raise ValueError(f"headline claims must be a non-empty tuple of claim ids; got {self.claims!r}")

    def to_json(self) -> dict[str, Any]:
        return {"figure": self.figure, "caption": self.caption, "claims": list(self.claims)}


@dataclass(frozen=True)
class PaperClaim:
    """One statement of the paper the notebook sets out to test.

    `id`: short and stable (`C5`); `statement`: one line; `source`: one of `CLAIM_SOURCES`;
    `untestable`: why it cannot be tested here (e.g. the data are not public), or "".
    """

    id: str
    statement: str
    source: str
    untestable: str = ""

    def __post_init__(self):
        if not isinstance(self.id, str) or not _ID_RE.match(self.id):
            raise ValueError(f"paper claim id must look like 'C5' (a capital letter, then letters, digits, '_' or '.'); "
                             f"got {self.id!r}")
        if not isinstance(self.statement, str) or not self.statement.strip():
            raise ValueError(f"paper claim {self.id}: statement must be a non-empty string")
        if self.source not in CLAIM_SOURCES:
            raise ValueError(f"paper claim {self.id}: source must be one of {', '.join(CLAIM_SOURCES)}; "
                             f"got {self.source!r}")
        if not isinstance(self.untestable, str):
            raise ValueError(f"paper claim {self.id}: untestable must be a string (the reason) or ''")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


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
    kind: str = field(default="result")
    supports: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["within"] = list(self.within) if self.within is not None else None
        d["supports"] = list(self.supports)
        return d

    @property
    def line(self) -> str:
        """The one line a reader sees: symbol, key, measured vs expected, source, note."""
        text = f"{_SYMBOL[self.status]} {self.key}{' (check)' if self.kind == 'check' else ''}: measured {_fmt(self.measured)}"
        if self.tolerance:
            text += f" vs {self.tolerance}"
        text += f" [{self.source}]"
        if self.supports:
            text += f" supports {', '.join(self.supports)}"
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


def _normalize_supports(supports: Any) -> tuple[str, ...]:
    if supports is None:
        return ()
    if isinstance(supports, str):
        supports = [part.strip() for part in supports.split(",") if part.strip()]
    if not isinstance(supports, (list, tuple)) or not all(isinstance(i, str) for i in supports):
        raise ValueError(f"supports must be a claim id like 'C5', a comma-separated string or a list of ids; got {supports!r}")
    for claim_id in supports:
        if not _ID_RE.match(claim_id):
            raise ValueError(f"supports: {claim_id!r} is not a claim id like 'C5'")
    return tuple(dict.fromkeys(supports))


def claim(key: str, measured: Any, expected: Any = None, *, rel: float | None = None,
          abs: float | None = None, within: tuple[Any, Any] | None = None, source: str,
          note: str = "", kind: str = "result", supports: str | Sequence[str] | None = None) -> ClaimRecord:
    """Record a checked result of the paper (or a check of our code) and show it.

    `key`: dotted, prefixed by the paper (`gating.zero_fp.threshold`), unique per notebook.
    `source`: where `expected` comes from, one of `SOURCES`. The expected value must be
    independent of `measured`. A failing claim does not raise: the notebook goes on and the
    runner reports it.
    `kind`: `"result"` (a statement of the paper against an independent expectation) or `"check"`
    (identity, consistency, implementation). `supports`: the ids of the declared paper claims a
    result tests (`"C5"`, `"C1,C3"` or `["C1", "C3"]`); required for a checked result, not
    allowed on a check.
    """
    if not isinstance(key, str) or not _KEY_RE.match(key):
        raise ValueError(f"key must be dotted and prefixed by the paper, like 'gating.zero_fp.threshold'; got {key!r}")
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}; got {source!r}")
    if not isinstance(note, str):
        raise ValueError(f"note must be a string; got {type(note).__name__}")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}; got {kind!r}")
    supports = _normalize_supports(supports)
    status, desc = evaluate(measured, expected, rel=rel, abs=abs, within=within)
    if kind == "check" and supports:
        raise ValueError(f"{key}: a check supports no paper claim (it tests our code, not the paper); "
                         f"drop supports={list(supports)!r} or make it a result")
    if kind == "result" and status != "info" and not supports:
        raise ValueError(f"{key}: a checked result must name the paper claims it supports, e.g. supports='C1'"
                         + (f" (declared: {', '.join(_declared)})" if _declared else "")
                         + "; an identity or implementation check is kind='check'")
    if supports:
        if not _declared:
            raise ValueError(f"{key}: supports={list(supports)!r} but no paper claims are declared; call "
                             "al.declare_paper_claims(paper, claims) first")
        unknown = [i for i in supports if i not in _declared]
        if unknown:
            raise ValueError(f"{key}: supports names undeclared paper claims {unknown}; declared: {', '.join(_declared)}")
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
        kind=kind,
        supports=supports,
    )
    # Re-running a cell interactively replaces the record under the same key.
    _registry[key] = record
    _show(record)
    return record


def declare_paper_claims(paper: str, claims: Sequence[PaperClaim], headline: Headline | None = None) -> list[PaperClaim]:
    """Declare the paper's claims this notebook tests (call once, after `setup_notebook`).

    `paper`: a short citation shown above the coverage table. Emits the table as a display output
    with the MIME type `PAPER_CLAIMS_MIME` so the runner builds the coverage matrix from the executed
    notebook; later `claim(..., supports=...)` calls are checked against these ids. `headline`: the
    figure of the paper's main claim, shown in the README gallery with those claims' status.
    """
    if not isinstance(paper, str) or not paper.strip():
        raise ValueError("paper must be a non-empty string (a short citation)")
    claims = list(claims)
    if not claims or not all(isinstance(c, PaperClaim) for c in claims):
        raise ValueError("claims must be a non-empty sequence of PaperClaim")
    ids = [c.id for c in claims]
    if len(set(ids)) != len(ids):
        raise ValueError(f"paper claim ids must be unique; got {ids}")
    if headline is not None:
        if not isinstance(headline, Headline):
            raise ValueError(f"headline must be a Headline; got {type(headline).__name__}")
        unknown = [i for i in headline.claims if i not in ids]
        if unknown:
            raise ValueError(f"headline names undeclared paper claims {unknown}; declared: {', '.join(ids)}")
    _declared.clear()
    _declared.update({c.id: c for c in claims})
    _declared_paper[:] = [paper]
    payload = {"paper": paper, "claims": [c.to_json() for c in claims],
               "headline": headline.to_json() if headline is not None else None}
    lines = [f"Claims of {paper}:"] + [f"  {c.id} [{c.source}] {c.statement}"
                                        + (f" (not testable here: {c.untestable})" if c.untestable else "")
                                        for c in claims]
    display_record({PAPER_CLAIMS_MIME: payload}, "\n".join(lines))
    return claims


def declared_paper_claims() -> list[PaperClaim]:
    """The paper claims declared in this process since the last `setup_notebook`."""
    return list(_declared.values())


def coverage(paper_claims: Sequence[PaperClaim | dict[str, Any]], records: Sequence[ClaimRecord | dict[str, Any]]
             ) -> list[dict[str, Any]]:
    """One row per paper claim: its coverage status and the result keys behind it.

    Rule: only checked results (kind "result", status pass or fail) count. A claim is
    *reproduced* when at least one result supports it and every one passes, *not reproduced*
    when every one fails, *partly* when some pass and some fail, and *not tested* when none
    supports it (with the declared reason when it is untestable here). Checks never count.
    """
    rows = []
    recs = [r.to_json() if isinstance(r, ClaimRecord) else r for r in records]
    for pc in paper_claims:
        pc = pc.to_json() if isinstance(pc, PaperClaim) else pc
        support = [r for r in recs if r.get("kind", "result") == "result" and pc["id"] in (r.get("supports") or [])]
        passed = [r["key"] for r in support if r.get("status") == "pass"]
        failed = [r["key"] for r in support if r.get("status") == "fail"]
        info = [r["key"] for r in support if r.get("status") == "info"]
        if not passed and not failed:
            status = "not tested"
        elif not failed:
            status = "reproduced"
        elif not passed:
            status = "not reproduced"
        else:
            status = "partly"
        rows.append({"id": pc["id"], "statement": pc["statement"], "source": pc["source"],
                     "untestable": pc.get("untestable", ""), "status": status, "pass": passed, "fail": failed,
                     "info": info})
    return rows


def count_kinds(records: Sequence[ClaimRecord | dict[str, Any]]) -> dict[str, dict[str, int]]:
    """{"result": {"pass": n, "fail": n, "info": n}, "check": {...}}: results and checks counted apart."""
    recs = [r.to_json() if isinstance(r, ClaimRecord) else r for r in records]
    return {k: {s: sum(r.get("kind", "result") == k and r.get("status") == s for r in recs) for s in STATUSES}
            for k in KINDS}


COVERAGE_MARK = {"reproduced": "✓ reproduced", "partly": "◐ partly", "not reproduced": "✗ not reproduced",
                 "not tested": "○ not tested"}


def coverage_cell(row: dict[str, Any], limit: int = 4) -> str:
    """The 'results behind it' cell of a coverage row: failed keys first, then passed, at most `limit`;
    the reason when the claim is untestable here."""
    keys = [f"✗ `{k}`" for k in row["fail"]] + [f"✓ `{k}`" for k in row["pass"]]
    if not keys:
        return f"not testable here: {row['untestable']}".replace("|", "\\|") if row.get("untestable") else "—"
    return ", ".join(keys[:limit]) + (f" … +{len(keys) - limit}" if len(keys) > limit else "")


def coverage_markdown(rows: Sequence[dict[str, Any]]) -> str:
    """The coverage rows as a Markdown table (claim, statement, source, status, results behind it)."""
    lines = ["| claim | statement | source | status | results behind it (✗ fail, ✓ pass) |", "|---|---|---|---|---|"]
    for row in rows:
        statement = str(row["statement"]).replace("|", "\\|")
        lines.append(f"| {row['id']} | {statement} | {row['source']} | {COVERAGE_MARK[row['status']]} | "
                     f"{coverage_cell(row)} |")
    return "\n".join(lines)


def display_record(bundle: dict[str, Any], text: str) -> None:
    """In a kernel, show `bundle` (MIME type → data) with `text` as its text/plain form, as one raw
    display output the runner reads back from the executed notebook; elsewhere print `text`."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - IPython is a dependency
        print(text)
        return
    if get_ipython() is None:
        print(text)
        return
    display({**bundle, "text/plain": text}, raw=True)


def _show(record: ClaimRecord) -> None:
    color = {"pass": "#1a7f37", "fail": "#cf222e", "info": "#57606a"}[record.status]
    html = f'<div style="font-family:monospace;color:{color}">{_escape(record.line)}</div>'
    display_record({CLAIM_MIME: record.to_json(), "text/html": html}, record.line)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def reset_registry() -> None:
    _registry.clear()
    _declared.clear()
    _declared_paper.clear()


def recorded_claims() -> list[ClaimRecord]:
    """Claims recorded in this process since the last `setup_notebook`, in order."""
    return list(_registry.values())


def _read_mime(executed_notebook: str | Path, mime: str) -> list[Any]:
    nb = json.loads(Path(executed_notebook).read_text(encoding="utf-8"))
    found = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if mime in data:
                rec = data[mime]
                found.append(json.loads(rec) if isinstance(rec, str) else rec)
    return found


def read_claims(executed_notebook: str | Path) -> list[dict[str, Any]]:
    """All claim records in an executed notebook, in cell order (the runner's reader)."""
    return _read_mime(executed_notebook, CLAIM_MIME)


def read_paper_claims(executed_notebook: str | Path) -> dict[str, Any] | None:
    """The paper-claims table an executed notebook declared ({"paper", "claims"}), or None."""
    found = _read_mime(executed_notebook, PAPER_CLAIMS_MIME)
    return found[-1] if found else None


def read_provenance(executed_notebook: str | Path) -> dict[str, Any] | None:
    """The provenance record the closing cell emitted (code files, versions, device, cache use)."""
    from .provenance import PROVENANCE_MIME

    found = _read_mime(executed_notebook, PROVENANCE_MIME)
    return found[-1] if found else None


def summarize_claims(not_reproduced: list[str] | tuple[str, ...] = ()) -> dict[str, int]:
    """The closing cell: what is reproduced, what is not, generated from the recorded claims.

    Shows the coverage of the declared paper claims (`coverage`), then results and checks counted
    apart, then every record by status. `not_reproduced` lists what the notebook cannot reproduce
    (stated plainly, e.g. a task whose data is not public). Also emits this run's provenance
    record (`provenance.emit`) for the runner. Returns the counts per status.
    """
    records = recorded_claims()
    counts = {s: sum(r.status == s for r in records) for s in STATUSES}
    kinds = count_kinds(records)
    res, chk = kinds["result"], kinds["check"]
    lines = ["## What is reproduced, what is not", ""]
    if _declared:
        lines += [f"**Claims of {_declared_paper[0] if _declared_paper else 'the paper'}** "
                  "(reproduced = every result that supports the claim passes; checks never count):", "",
                  coverage_markdown(coverage(list(_declared.values()), records)), ""]
    lines += [f"**Results: {res['pass']} of {res['pass'] + res['fail']} pass** ({res['info']} informational); "
              f"**checks: {chk['pass']} of {chk['pass'] + chk['fail']} pass** ({chk['info']} informational).", ""]
    for kind, status, title in (("result", "fail", "Results that failed"), ("check", "fail", "Checks that failed"),
                                ("result", "pass", "Results that hold"), ("check", "pass", "Checks that hold"),
                                ("result", "info", "Recorded, not checked"), ("check", "info", "Recorded checks, not checked")):
        group = [r for r in records if r.status == status and r.kind == kind]
        if group:
            lines.append(f"**{title}**")
            lines.append("")
            lines.extend(f"- `{r.key}`: {_fmt(r.measured)}" + (f" vs {r.tolerance}" if r.tolerance else "")
                         + f" [{r.source}]" + (f" supports {', '.join(r.supports)}" if r.supports else "") for r in group)
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
    from . import provenance

    provenance.emit()
    return counts
