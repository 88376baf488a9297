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
    rec = al.claim("tour.demo.value", 0.98, 1.0, abs=0.05, source="derived", note="finite N")
    assert rec.status == "pass"
    assert "✓ tour.demo.value: measured 0.98 vs expected 1 ± 0.05 [derived] — finite N" in capsys.readouterr().out
    al.claim("tour.demo.value", 0.5, 1.0, abs=0.05, source="derived")  # re-running a cell replaces
    assert [r.status for r in al.recorded_claims()] == ["fail"]
    counts = al.summarize_claims(not_reproduced=["the thing without data"])
    out = capsys.readouterr().out
    assert counts == {"pass": 0, "fail": 1, "info": 0}
    assert "Not reproduced (claim failed)" in out and "the thing without data" in out


def test_read_claims_round_trip(tmp_path):
    records = [al.claim("tour.rt.a", 1.0, 1.0, abs=0.1, source="paper"),
               al.claim("tour.rt.b", 0.2, within=(0, None), source="simulation"),
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
