"""`python -m analysis_lib.site` (`make site`): a static HTML site from the last runs.

Reads what `make reproduce` wrote under `reports/<mode>/` (the executed notebooks' HTML renders and
`claims.json`) and the committed FULL record (`REPRODUCTION.md`, `figures/`), and writes
`reports/site/`:

- `index.html`: the papers (one row per notebook, with the coverage counts of its claims and a link to
  its rendered notebook), the gallery of headline FULL figures, and the coverage matrix of the run;
- `<notebook>.html`: each executed notebook as nbconvert rendered it (figures and claim lines inline);
- `scorecard.html`: the run's scorecard (`claims.md`); `reproduction.html`: the FULL scorecard;
- `figures/`: the committed FULL figures the pages show.

Everything is local files: no network at build time, no JavaScript needed to read it.
"""
from __future__ import annotations

import argparse
import html
import json
import shutil
import sys
from pathlib import Path
from typing import Sequence

from ._paths import repo_root
from .notebook import MODES

_STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;line-height:1.45}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top}
th{background:#f4f4f4}img{max-width:100%}code{background:#f6f6f6;padding:0 3px}nav a{margin-right:1em}"""


def _markdown(text: str) -> str:
    import mistune

    return mistune.create_markdown(plugins=["table"], escape=False)(text)


def _page(title: str, body: str) -> str:
    nav = ('<nav><a href="index.html">papers</a><a href="scorecard.html">scorecard of this run</a>'
           '<a href="reproduction.html">FULL scorecard</a></nav>')
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{_STYLE}</style></head><body>{nav}{body}</body></html>\n")


def load_results(reports: Path):
    """The NotebookResults of the run recorded in `reports/claims.json`."""
    from .reproduce import NotebookResult

    path = reports / "claims.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: run `make reproduce` (or `make reproduce MODE=full`) first")
    payload = json.loads(path.read_text(encoding="utf-8"))
    return payload, [NotebookResult.from_record(rec) for rec in payload["notebooks"].values()]


def build_site(mode: str = "quick", reports: Path | None = None, out: Path | None = None,
               root: Path | None = None) -> Path:
    """Write the site for the last `mode` run into `out` (default `reports/site/`); returns index.html."""
    from . import reproduce

    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}; got {mode!r}")
    root = root or repo_root()
    reports = reports or root / "reports" / mode
    out = out or root / "reports" / "site"
    payload, results = load_results(reports)
    out.mkdir(parents=True, exist_ok=True)
    pages = []
    for r in results:
        rendered = reports / f"{r.notebook}.html"
        if rendered.exists():
            shutil.copyfile(rendered, out / rendered.name)
            pages.append(r.notebook)
    figures = out / "figures"
    if (root / "figures").exists():
        shutil.copytree(root / "figures", figures, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.pdf"))

    rows = ["| notebook | paper | status | claims: ✓ reproduced / ◐ partly / ✗ not / ○ not tested | results ✓/✗ | checks ✓/✗ |",
            "|---|---|---|---|---|---|"]
    for r in results:
        n = reproduce.coverage_counts(r.coverage())
        k = r.kind_counts()
        name = f"[{r.notebook}]({r.notebook}.html)" if r.notebook in pages else r.notebook
        paper = html.escape(r.paper_claims["paper"]) if r.paper_claims else "—"
        rows.append(f"| {name} | {paper} | {'✓' if r.ok else '✗'} {r.status} | {n['reproduced']} / {n['partly']} / "
                    f"{n['not reproduced']} / {n['not tested']} | {k['result']['pass']}/{k['result']['fail']} | "
                    f"{k['check']['pass']}/{k['check']['fail']} |")
    gallery = reproduce.gallery_markdown(reproduce.gallery_entries(root=root))
    body = "\n".join([
        "# Reproductions of five papers on gating, gated neural ODEs, momentum and narrative memory", "",
        f"The last **{payload['mode'].upper()}** run: commit {payload.get('git_commit', '?')}"
        f"{' (dirty tree)' if payload.get('dirty') else ''}, {payload.get('generated', '')}, {payload.get('machine', '')}.",
        "", "## Papers", "", *rows, "",
        "## Gallery (committed FULL figures)", "", *gallery, "",
        "## Paper claims: coverage in this run", "", reproduce.COVERAGE_RULE, "",
        *reproduce.coverage_table(results), ""])
    (out / "index.html").write_text(_page("Reproductions", _markdown(body)), encoding="utf-8")
    scorecard = reports / "claims.md"
    if scorecard.exists():
        (out / "scorecard.html").write_text(_page("Scorecard", _markdown(scorecard.read_text(encoding="utf-8"))),
                                            encoding="utf-8")
    full = root / "REPRODUCTION.md"
    if full.exists():
        (out / "reproduction.html").write_text(_page("FULL scorecard", _markdown(full.read_text(encoding="utf-8"))),
                                               encoding="utf-8")
    return out / "index.html"


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m analysis_lib.site", description=__doc__.splitlines()[0])
    p.add_argument("--mode", default="quick", choices=MODES, help="which run's reports to render (default quick)")
    p.add_argument("--out", type=Path, default=None, help="output folder (default reports/site)")
    a = p.parse_args(argv)
    try:
        index = build_site(a.mode, out=a.out)
    except FileNotFoundError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"wrote {index} (open it in a browser)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
