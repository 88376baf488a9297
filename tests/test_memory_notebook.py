"""Notebook 05 executed in QUICK: zero failed claims, every spec §6 claim present, and no participant
id (24-hex, or any raw id of the data set) and no secret in the executed notebook or its HTML."""
import json
import os
from pathlib import Path

import pytest

from analysis_lib import reproduce
from analysis_lib.memory import analysis as A
from analysis_lib.memory import data as D
from analysis_lib.memory import embed as E
from analysis_lib.memory.privacy import notebook_output_text, scan_executed

NAME = "05_narrative_memory"
QUICK_NOTEBOOKS = (NAME,)  # executed once per session by conftest.quick_run, beside the unit tests
NB = Path(__file__).resolve().parents[1] / "notebooks" / f"{NAME}.ipynb"


def _need_data():
    if D.find_data_dir() is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("narrative data missing and CI=true")
        pytest.skip("narrative data not found")


def test_notebook_stored_clean_and_parametrised():
    nb = json.loads(NB.read_text(encoding="utf-8"))
    params = [c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", [])]
    src = "".join(params[0]["source"])
    assert 'MODE = "quick"' in src and "SEED = 0" in src and f'NOTEBOOK = "{NAME}"' in src
    assert not any(c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code")
    # no API keys / base URLs as notebook parameters (they come from the environment only)
    assert "API_KEY" not in src and "BASE_URL" not in src


def test_notebook_text_states_no_data_path_and_smoke_model():
    """The top says the notebook runs on simulated participants without data; F14 says SmolLM2 is a
    smoke-test model that cannot score recalls; the closing cell no longer calls the simulator missing."""
    nb = json.loads(NB.read_text(encoding="utf-8"))
    md = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]
    assert "Without the data" in md[0] and "simulated participants" in md[0]
    f14 = next(t for t in md if t.startswith("## F14"))
    assert "SmolLM2" in f14 and "smoke-test model only" in f14 and "score recalls" in f14
    code = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    assert "next part (F14)" not in code and "simulator_available()" not in code
    msg = A.no_data_message()
    assert "data was not found" in msg and "simulated participants" in msg and "not yet available" not in msg


F14_KEYS = ("memory.pipeline.demo.kappa_vs_truth", "memory.pipeline.demo.second_pass_requests",
            "memory.pipeline.demo.invalid_scores", "memory.sim.M_recovery", "memory.sim.power.n_for_ci_width_0.1",
            "memory.sim.power.n_for_ci_width_0.05", "memory.sim.power.width_ratio_400_100",
            "memory.replay.validated_fraction", "memory.replay.validated_equal_stored",
            "memory.embed.scorer.kappa", "memory.embed.scorer.r_prec", "memory.embed.scorer.R_vs_L_slope",
            "memory.pipeline.demo.order_from_evidence", "memory.validate.replay_gpt4.r", "memory.validate.replay_gpt4.kappa",
            "memory.validate.replay_gpt4.fit", "memory.validate.replay_gpt35.not_fit", "memory.validate.live")
F14_DATA_KEYS = tuple(f"memory.sim.vs_data.{q}_mean_abs_diff" for q in ("R", "M", "tau"))
NODATA_KEYS = ("memory.sim.nodata.M_vs_L_slope_recovered", "memory.sim.nodata.R_vs_L_slope_recovered",
               "memory.sim.nodata.R_ratio_below_M_ratio", "memory.sim.nodata.dprime_trial_slope.intact",
               "memory.sim.nodata.dprime_trial_slope.scrambled")


@pytest.fixture(scope="module")
def executed(quick_run):
    _need_data()
    res = quick_run(NAME)  # the same execution as tests/test_notebooks.py
    assert res.status == "ok", res.error
    return res


@pytest.mark.notebook
def test_quick_run_claims(executed):
    failed = [c["key"] for c in executed.claims if c["status"] == "fail"]
    assert not failed, failed
    keys = {c["key"] for c in executed.claims}
    expected = A.data_claim_keys(minilm=E.minilm_available())
    assert not [k for k in expected if k not in keys]
    for k in ("memory.theory.walk.ratio.M16", "memory.theory.walk.ratio.M64", "memory.theory.walk.loglog_slope",
              "memory.theory.rtm.C_mc_vs_formula", "memory.theory.rtm.lnS_mean", "memory.theory.rtm.lnS_var"):
        assert k in keys
    assert not [k for k in F14_KEYS + F14_DATA_KEYS if k not in keys]
    assert not [k for k in NODATA_KEYS if k in keys], "no-data checks must not run when the data is present"
    status = {c["key"]: c["status"] for c in executed.claims}
    for k in ("memory.pipeline.demo.second_pass_requests", "memory.sim.M_recovery", "memory.replay.validated_equal_stored"):
        assert status[k] == "pass", k
    assert executed.wall_s < 180 * 2, "QUICK budget is 3 min alone (x2 for a shared machine)"


CHECK_KEYS = ("memory.data.boyscout_map_bijection", "memory.sim.M_recovery", "memory.pipeline.demo.kappa_vs_truth",
              "memory.theory.walk.ratio.M16", "memory.theory.rtm.C_mc_vs_formula", "memory.data.prec_matches_stored")


@pytest.mark.notebook
def test_quick_run_claim_kinds(executed):
    """Every record has a kind; every checked result names a declared paper claim; the checks the
    scorecard issue names are checks; C5 is tested by checked results (issue 19): the pooled Δτ CI (also
    from the evidence-rebuilt order), narratives vs word lists; per-story Δτ and the number of stories
    showing it recorded with CIs but unscored (their numbers were known before the test was designed),
    and triplett_v1 said not to show it; intact stories record no presentation-order copy."""
    by_key = {c["key"]: c for c in executed.claims}
    assert all(c["kind"] in ("result", "check") for c in executed.claims)
    assert not [c["key"] for c in executed.claims if c["kind"] == "result" and c["status"] != "info" and not c["supports"]]
    for k in CHECK_KEYS:
        assert by_key[k]["kind"] == "check" and not by_key[k]["supports"], k
    order = [c for c in executed.claims if c["key"].startswith("memory.order.")]
    assert order and all(c["kind"] == "result" and c["supports"] == ["C5"] for c in order)
    checked = {c["key"]: c["status"] for c in order if c["status"] != "info"}
    for k in ("memory.order.delta_tau.pooled.ci_lo", "memory.order.narratives_minus_words128.ci_lo",
              "memory.order.delta_tau.pooled_evidence_order.ci_lo"):
        assert checked[k] == "pass", k
    assert by_key["memory.order.delta_tau.n_stories_showing"]["status"] == "info"
    assert "shows the original-order effect (CI > 0): NO" in by_key["memory.order.delta_tau.triplett_v1_rookie_scrambled"]["note"]
    assert not [k for k in by_key if k.startswith("memory.order.tau_pres.") and "scrambled" not in k]
    for k in ("memory.scaling.R_slope_over_M_slope.ci_hi", "memory.validation.kappa_gpt4_within_rater_range",
              "memory.scramble.M_ratio.L130", "memory.scramble.M_minus_R_ratio.L19.ci_lo"):
        assert by_key[k]["kind"] == "result" and by_key[k]["status"] == "pass", k


@pytest.mark.notebook
def test_no_participant_ids_or_secrets_in_outputs(executed):
    paths = [executed.executed_path] + ([executed.html_path] if executed.html_path else [])
    assert executed.html_path, "the runner should render HTML"
    found = scan_executed(paths, known_ids=D._raw_participant_ids())
    assert not found, f"participant ids in outputs: {sum(len(v) for v in found.values())} hits"
    text = notebook_output_text(executed.executed_path)
    secrets = [v for k, v in os.environ.items() if any(s in k.upper() for s in ("KEY", "TOKEN", "SECRET", "PASSWORD"))
               and len(v) >= 8]
    assert not [s for s in secrets if s in text]
    assert D._PROCESS_SALT not in text


@pytest.mark.slow
def test_no_data_path_runs(tmp_path, monkeypatch):
    """Without data the notebook says so, records every data claim as skipped, runs the data sections on
    simulated participants (checks that the analysis recovers the simulator's parameters), the theory
    and the F14 pipeline demo and power analysis, with zero failed claims."""
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv(D.DATA_ENV, str(empty))
    res = reproduce.run_notebook(NAME, "quick", out_dir=tmp_path / "out")
    assert res.status == "ok", res.error
    assert not [c for c in res.claims if c["status"] == "fail"]
    skipped = {c["key"] for c in res.claims if c["measured"] is None}
    assert set(A.data_claim_keys()) <= skipped
    text = notebook_output_text(res.executed_path)
    assert "data was not found" in text and "simulated participants" in text
    by_key = {c["key"]: c for c in res.claims}
    for k in NODATA_KEYS:
        assert by_key[k]["status"] == "pass", k
    for k in ("memory.sim.M_recovery", "memory.pipeline.demo.second_pass_requests", "memory.sim.power.width_ratio_400_100"):
        assert by_key[k]["status"] == "pass", k
    for k in ("memory.replay.validated_fraction", "memory.embed.scorer.kappa"):
        assert by_key[k]["measured"] is None, k
    assert not [k for k in F14_DATA_KEYS if k in by_key], "simulator-vs-data needs the data"
