"""Spec §8 S2: the QUICK notebook executes, every checked claim passes, every info claim is finite.
(The lead's tests/test_notebooks.py runs every notebook; this one also checks the info records.)"""
import math
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NB = ROOT / "notebooks" / "03_gated_neural_odes.ipynb"


@pytest.mark.slow
@pytest.mark.notebook
def test_quick_notebook_claims(tmp_path):
    papermill = pytest.importorskip("papermill")
    import analysis_lib as al

    out = tmp_path / "03_out.ipynb"
    papermill.execute_notebook(str(NB), str(out), parameters={"MODE": "quick", "NOTEBOOK": NB.stem},
                               cwd=str(NB.parent), progress_bar=False)
    claims = al.read_claims(out)
    keys = {c["key"] for c in claims}
    assert not [c["key"] for c in claims if c["status"] == "fail"]
    for c in claims:
        if c["status"] == "info" and isinstance(c["measured"], float):
            assert math.isfinite(c["measured"]), c["key"]
    for key in ("gnode.data.kept_pulses_mean", "gnode.ff2.gnode_over_node", "gnode.ff2.slow_frac.gnode",
                "gnode.expr.q.r2_fig8.N3", "gnode.expr.q.width_monotone_frac", "gnode.expr.q.solver_gap",
                "gnode.algebra.max_err", "gnode.ff2.retention_rmse.gnode", "gnode.ff2.reint_val_mse.node",
                "gnode.c1.pulse_interval", "gnode.c1.quantiser_rmse", "gnode.c1.gate_logit_identity",
                "gnode.c1.N2.slow.d0.1_k17", "gnode.c1.N2.ret_inside_vs_quantiser", "gnode.c1.N2.gate.z_rest",
                "gnode.c1.verdict"):
        assert key in keys, key


def test_notebook_stored_without_outputs():
    import json

    nb = json.loads(NB.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)
    params = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1 and 'NOTEBOOK = "03_gated_neural_odes"' in "".join(params[0]["source"])
