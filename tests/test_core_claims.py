import json
import math

import nbformat
import numpy as np
import pytest

import analysis_lib as al
from analysis_lib.claims import CLAIM_MIME, evaluate


@pytest.mark.parametrize(
    "measured, expected, kw, status",
    [
        (1.04, 1.0, dict(abs=0.05), "pass"),
        (1.06, 1.0, dict(abs=0.05), "fail"),
        (1.05, 1.0, dict(abs=0.05), "pass"),           # the bound is inclusive
        (0.951, 1.0, dict(rel=0.05), "pass"),
        (0.94, 1.0, dict(rel=0.05), "fail"),
        (-1.04, -1.0, dict(rel=0.05), "pass"),         # rel uses |expected|
        (0.004, 0.0, dict(rel=0.5), "fail"),           # rel of zero is zero: needs abs
        (0.004, 0.0, dict(rel=0.5, abs=0.01), "pass"), # the larger of rel·|e| and abs
        (3, 3, {}, "pass"),                            # exact without tolerance
        (3.0000001, 3, {}, "fail"),
        (float("nan"), 1.0, dict(abs=10), "fail"),
        (float("inf"), 1.0, dict(abs=10), "fail"),
        (np.float32(0.5), np.float64(0.5), dict(abs=1e-6), "pass"),
        (np.array(2.0), 2.0, dict(abs=0), "pass"),     # 0-d arrays are numbers
    ],
)
def test_numeric_tolerance(measured, expected, kw, status):
    assert evaluate(measured, expected, **kw)[0] == status


@pytest.mark.parametrize(
    "measured, within, status",
    [(0.5, (0, 1), "pass"), (0, (0, 1), "pass"), (1.0001, (0, 1), "fail"), (5, (0, None), "pass"),
     (-5, (0, None), "fail"), (-5, (None, 0), "pass"), (float("nan"), (None, 0), "fail")],
)
def test_within(measured, within, status):
    assert evaluate(measured, within=within)[0] == status


def test_boolean_and_info():
    assert evaluate(True)[0] == "pass"
    assert evaluate(False)[0] == "fail"
    assert evaluate(np.bool_(True))[0] == "pass"
    assert evaluate(False, False)[0] == "pass"
    assert evaluate(0.3)[0] == "info"


@pytest.mark.parametrize(
    "kw, message",
    [
        (dict(measured=1.0, expected=1.0, abs=-1), "abs must be a finite number >= 0"),
        (dict(measured=1.0, expected=1.0, rel=math.inf), "rel must be a finite number >= 0"),
        (dict(measured=1.0, rel=0.1), "need an expected value"),
        (dict(measured=1.0, expected=1.0, within=(0, 2)), "not both"),
        (dict(measured=1.0, within=(2, 0)), "lo <= hi"),
        (dict(measured=1.0, within=(None, None)), "at least one finite bound"),
        (dict(measured=True, abs=0.1), "do not apply to a boolean"),
        (dict(measured=1.0, expected=True), "boolean expected"),
        (dict(measured="x", expected=1.0), "numbers or booleans"),
    ],
)
def test_bad_claims_raise(kw, message):
    with pytest.raises((ValueError, TypeError), match=message):
        evaluate(**kw)


def test_claim_requires_source_and_dotted_key():
    with pytest.raises(ValueError, match="source must be one of paper, data, derived, simulation"):
        al.claim("tour.a.b", 1.0, 1.0, abs=0.1, source="vibes")
    with pytest.raises(TypeError):
        al.claim("tour.a.b", 1.0, 1.0, abs=0.1)  # source is required
    with pytest.raises(ValueError, match="key must be dotted"):
        al.claim("nodots", 1.0, source="paper")


def test_claim_line_and_registry(capsys):
    al.setup_notebook("quick", 0)
    al.declare_paper_claims("Demo", [al.PaperClaim("C1", "the value is one", "paper")])
    rec = al.claim("tour.demo.value", 0.98, 1.0, abs=0.05, source="derived", note="finite N", supports="C1")
    assert rec.status == "pass"
    assert "✓ tour.demo.value: measured 0.98 vs expected 1 ± 0.05 [derived] supports C1 — finite N" in capsys.readouterr().out
    al.claim("tour.demo.value", 0.5, 1.0, abs=0.05, source="derived", supports="C1")  # re-running a cell replaces
    assert [r.status for r in al.recorded_claims()] == ["fail"]
    counts = al.summarize_claims(not_reproduced=["the thing without data"])
    out = capsys.readouterr().out
    assert counts == {"pass": 0, "fail": 1, "info": 0}
    assert "Results that failed" in out and "the thing without data" in out
    assert "| C1 | the value is one | paper | ✗ not reproduced | ✗ `tour.demo.value` |" in out
    assert "provenance:" in out  # the closing cell emits the run's provenance record


def test_read_claims_round_trip(tmp_path):
    records = [al.claim("tour.rt.a", 1.0, 1.0, abs=0.1, source="paper", kind="check"),
               al.claim("tour.rt.b", 0.2, within=(0, None), source="simulation", kind="check"),
               al.claim("tour.rt.c", 7, source="data")]
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("...")
    cell.outputs = [nbformat.v4.new_output("display_data", data={CLAIM_MIME: r.to_json(), "text/plain": r.line})
                    for r in records]
    cell.outputs.insert(1, nbformat.v4.new_output("stream", name="stdout", text="noise\n"))
    nb.cells = [nbformat.v4.new_markdown_cell("# x"), cell]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    back = al.read_claims(path)
    assert [r["key"] for r in back] == ["tour.rt.a", "tour.rt.b", "tour.rt.c"]
    assert back == [json.loads(json.dumps(r.to_json())) for r in records]
    assert [r["status"] for r in back] == ["pass", "pass", "info"]


# --- kinds, declared paper claims and coverage ---------------------------------------------------

def _declare():
    al.setup_notebook("quick", 0)
    al.declare_paper_claims("Test (2026)", [al.PaperClaim("C1", "one", "paper"), al.PaperClaim("C2", "two", "abstract"),
                                            al.PaperClaim("C3", "three", "reading", untestable="no data offline"),
                                            al.PaperClaim("C4", "four", "paper")])


def test_kinds_and_supports_are_recorded():
    _declare()
    r = al.claim("tour.k.result", 1.0, 1.0, abs=0.1, source="derived", supports="C1,C2")
    c = al.claim("tour.k.check", 1.0, 1.0, abs=0.1, source="derived", kind="check")
    assert (r.kind, r.supports) == ("result", ("C1", "C2")) and (c.kind, c.supports) == ("check", ())
    assert r.to_json()["supports"] == ["C1", "C2"] and c.to_json()["kind"] == "check"
    assert "(check)" in c.line and "supports C1, C2" in r.line


@pytest.mark.parametrize("kw, message", [
    (dict(kind="sanity"), "kind must be one of result, check"),
    (dict(), "a checked result must name the paper claims it supports"),
    (dict(supports="C9"), r"undeclared paper claims \['C9'\]"),
    (dict(supports="c1"), "is not a claim id"),
    (dict(kind="check", supports="C1"), "a check supports no paper claim"),
])
def test_bad_kind_or_supports_raise(kw, message):
    _declare()
    with pytest.raises(ValueError, match=message):
        al.claim("tour.k.bad", 1.0, 1.0, abs=0.1, source="derived", **kw)


def test_supports_need_a_declaration_and_info_results_need_none():
    al.setup_notebook("quick", 0)  # resets the declaration
    with pytest.raises(ValueError, match="no paper claims are declared"):
        al.claim("tour.k.x", 1.0, 1.0, abs=0.1, source="derived", supports="C1")
    assert al.claim("tour.k.info", 3.0, source="data").status == "info"  # nothing checked, nothing to support


@pytest.mark.parametrize("kw, message", [
    (dict(id="5", statement="x", source="paper"), "paper claim id must look like 'C5'"),
    (dict(id="C1", statement=" ", source="paper"), "statement must be a non-empty string"),
    (dict(id="C1", statement="x", source="blog"), "source must be one of abstract, paper, reading"),
])
def test_bad_paper_claims_raise(kw, message):
    with pytest.raises(ValueError, match=message):
        al.PaperClaim(**kw)


def test_declaring_duplicate_ids_raises():
    with pytest.raises(ValueError, match="unique"):
        al.declare_paper_claims("x", [al.PaperClaim("C1", "a", "paper"), al.PaperClaim("C1", "b", "paper")])


def test_coverage_rule():
    _declare()
    records = [al.claim("tour.cov.a", 1.0, 1.0, abs=0.1, source="derived", supports="C1"),
               al.claim("tour.cov.b", 1.0, 1.0, abs=0.1, source="derived", supports="C2"),
               al.claim("tour.cov.c", 5.0, 1.0, abs=0.1, source="derived", supports="C2"),
               al.claim("tour.cov.d", 5.0, 1.0, abs=0.1, source="derived", supports="C4"),
               al.claim("tour.cov.e", 1.0, 1.0, abs=0.1, source="derived", kind="check"),
               al.claim("tour.cov.f", 2.0, source="data", supports="C3")]
    rows = {r["id"]: r for r in al.coverage(al.claims.declared_paper_claims(), records)}
    assert rows["C1"]["status"] == "reproduced" and rows["C1"]["pass"] == ["tour.cov.a"]
    assert rows["C2"]["status"] == "partly" and rows["C2"]["fail"] == ["tour.cov.c"]
    assert rows["C4"]["status"] == "not reproduced"
    # an info record does not test a claim; checks never count
    assert rows["C3"]["status"] == "not tested" and rows["C3"]["info"] == ["tour.cov.f"]
    assert rows["C3"]["untestable"] == "no data offline"
    assert al.claims.count_kinds(records) == {"result": {"pass": 2, "fail": 2, "info": 1},
                                              "check": {"pass": 1, "fail": 0, "info": 0}}


def test_paper_claims_and_provenance_round_trip(tmp_path):
    from analysis_lib import claims, provenance

    pcs = [al.PaperClaim("C1", "one", "paper")]
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("...")
    cell.outputs = [nbformat.v4.new_output("display_data", data={claims.PAPER_CLAIMS_MIME: {"paper": "P",
                                                                 "claims": [c.to_json() for c in pcs]}}),
                    nbformat.v4.new_output("display_data", data={provenance.PROVENANCE_MIME: provenance.record()})]
    nb.cells = [cell]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    assert claims.read_paper_claims(path) == {"paper": "P", "claims": [{"id": "C1", "statement": "one", "source": "paper",
                                                                          "untestable": ""}]}
    prov = claims.read_provenance(path)
    assert "analysis_lib/claims.py" in prov["code_files"] and prov["versions"]["numpy"] == np.__version__


def test_headline_is_validated_and_recorded(tmp_path):
    from analysis_lib import claims

    pcs = [al.PaperClaim("C1", "one", "paper"), al.PaperClaim("C2", "two", "paper")]
    with pytest.raises(ValueError, match=r"headline names undeclared paper claims \['C3'\]"):
        al.declare_paper_claims("P", pcs, headline=al.Headline("F1", "caption", ("C3",)))
    with pytest.raises(ValueError, match="non-empty tuple of claim ids"):
        al.Headline("F1", "caption", "C1")
    with pytest.raises(ValueError, match="figure name"):
        al.Headline("a/b", "caption", ("C1",))
    head = al.Headline("F1", "the caption", ("C1", "C2"))
    al.declare_paper_claims("P", pcs, headline=head)
    assert head.to_json() == {"figure": "F1", "caption": "the caption", "claims": ["C1", "C2"]}
