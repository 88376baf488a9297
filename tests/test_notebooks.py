"""Every notebook: stored clean, follows the anatomy, and runs in QUICK with zero failed claims."""
import json
from pathlib import Path

import pytest

from analysis_lib.figures import figure_dir

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


# Named by the scorecard issue as checks counted as results (identities, a formula coded twice, residuals at a
# root-finder's own root, two solvers of one equation, values equal by construction). Prefixes end with ".".
NAMED_CHECKS = ("gating.zero_fp.threshold", "gating.zero_fp.edge_vs_theory.beta_r1", "gating.rmt.edge.g1p5_ar10_az10",
                "grulstm.fp.rhoT0_spread", "grulstm.fp.zero_stability_indep_bz", "grulstm.phase.L2_le_L1",
                "grulstm.phase.L2_eq_L1.sr0", "grulstm.phase.dstar.", "grulstm.phase.L2.",
                "memory.data.boyscout_map_bijection", "memory.sim.M_recovery", "memory.sim.nodata.",
                "momentum.ms.trace_identity_relerr", "gnode.init.crit_eta_after", "gating.lyap.crowding")


def _named(key: str) -> bool:
    return any(key.startswith(n) if n.endswith(".") or n == "gating.zero_fp.threshold" else key == n
               for n in NAMED_CHECKS)


def _committed(name):
    path = ROOT / "figures" / name / "claims.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


@pytest.mark.parametrize("path", sorted((ROOT / "figures").glob("*/claims.json")), ids=lambda p: p.parent.name)
def test_committed_records_have_kinds_and_named_checks_are_not_results(path):
    rec = json.loads(path.read_text(encoding="utf-8"))
    assert rec.get("paper_claims"), f"{path}: no paper claims declared"
    declared = {c["id"] for c in rec["paper_claims"]["claims"]}
    for c in rec["claims"]:
        assert c.get("kind") in ("result", "check"), f"{c['key']}: kind {c.get('kind')!r}"
        if c["kind"] == "result" and c["status"] != "info":
            assert c.get("supports") and set(c["supports"]) <= declared, f"{c['key']}: supports {c.get('supports')}"
        if _named(c["key"]):
            assert c["kind"] == "check", f"{c['key']} is named as a check but recorded as a result"


@pytest.mark.notebook
@pytest.mark.parametrize("name", [p.stem for p in NOTEBOOKS])
def test_quick_records_are_classified_and_no_failed_result_became_a_check(name, quick_run):
    res = quick_run(name)
    assert res.paper_claims, f"{name} declares no paper claims (al.declare_paper_claims)"
    for c in res.claims:
        assert c["kind"] in ("result", "check")
        if _named(c["key"]):
            assert c["kind"] == "check", f"{c['key']} is named as a check but recorded as a result"
    committed = _committed(name)
    if committed:
        failed_results = {c["key"] for c in committed["claims"] if c["status"] == "fail" and c.get("kind", "result") == "result"}
        now_checks = sorted(c["key"] for c in res.claims if c["key"] in failed_results and c["kind"] == "check")
        assert not now_checks, f"results that failed in the committed FULL run are now checks: {now_checks}"
    assert res.provenance and res.provenance["code_files"], "the closing cell emits the provenance record"


@pytest.mark.notebook
@pytest.mark.parametrize("name", [p.stem for p in NOTEBOOKS if p.stem != "00_tour"])
def test_paper_notebooks_declare_a_headline_figure_they_save(name, quick_run):
    # the README gallery shows one row per FULL record that declares its headline: a notebook that forgets
    # `declare_paper_claims(..., headline=...)` silently drops its paper from the gallery
    res = quick_run(name)
    head = (res.paper_claims or {}).get("headline")
    assert head, f"{name} declares no headline (al.declare_paper_claims(..., headline=...))"
    saved = figure_dir("quick", name) / f"{head['figure']}.png"
    started = Path(res.executed_path).stat().st_mtime - res.wall_s - 5.0  # a png left by an earlier run does not count
    assert saved.exists() and saved.stat().st_mtime >= started, f"{name}: this run saved no headline figure {saved}"
