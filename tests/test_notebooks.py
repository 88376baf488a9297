"""Every notebook: stored clean, follows the anatomy, and runs in QUICK with zero failed claims."""
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert any(p.stem == "00_tour" for p in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS + sorted((ROOT / "tests" / "fixtures" / "notebooks").glob("*.ipynb")),
                         ids=lambda p: p.stem)
def test_stored_without_outputs(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    dirty = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))]
    assert not dirty, f"{path.name}: cells {dirty} have outputs or execution counts; clear them before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_anatomy(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    params = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1, "exactly one cell tagged 'parameters'"
    src = "".join(params[0]["source"])
    for name in ("MODE", "SEED", "NOTEBOOK"):
        assert f"{name} =" in src, f"parameters cell must define {name}"
    assert f'NOTEBOOK = "{path.stem}"' in src
    code = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    assert "al.setup_notebook(MODE, SEED" in code
    assert "al.summarize_claims(" in "".join(nb["cells"][-1]["source"]), "the last cell is the closing scorecard"
    headings = [line for c in nb["cells"] if c["cell_type"] == "markdown" for line in "".join(c["source"]).splitlines()
                if line.startswith("#")]
    assert any("Explore" in h for h in headings), "an Explore section (widgets live in the notebook or the library)"


@pytest.mark.notebook
@pytest.mark.parametrize("name", [p.stem for p in NOTEBOOKS])
def test_notebook_runs_quick_with_zero_failed_claims(name, quick_run):
    res = quick_run(name)
    failed = [f"{c['key']}: measured {c['measured']} vs {c.get('tolerance')}" for c in res.claims if c["status"] == "fail"]
    assert res.status == "ok", f"{name}: {res.error}"
    assert res.claims, f"{name} recorded no claims"
    assert not failed, f"{name}: failed claims:\n" + "\n".join(failed)
