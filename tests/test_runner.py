"""The papermill runner on small fixture notebooks: statuses, errors, reports, exit codes."""
import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from analysis_lib import reproduce

FIXTURES = Path(__file__).parent / "fixtures" / "notebooks"


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "analysis_lib.reproduce", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


@pytest.fixture(scope="module")
def mixed_run(tmp_path_factory):
    """One CLI run over a passing, a raising and a failed-claim notebook (shared by several tests)."""
    out = tmp_path_factory.mktemp("reports")
    proc = run_cli("--notebook-dir", str(FIXTURES), "--only", "fx_ok", "fx_raises", "fx_failed_claim",
                   "--out", str(out), "--jobs", "2")
    return proc, out


def test_failures_give_nonzero_exit_and_the_others_still_run(mixed_run):
    proc, out = mixed_run
    assert proc.returncode == 1, proc.stdout + proc.stderr
    payload = json.loads((out / "claims.json").read_text())
    nbs = payload["notebooks"]
    assert nbs["fx_ok"]["status"] == "ok"
    assert [c["status"] for c in nbs["fx_ok"]["claims"]] == ["pass", "info"]
    assert nbs["fx_failed_claim"]["status"] == "ok"
    assert [c["status"] for c in nbs["fx_failed_claim"]["claims"]] == ["fail"]


def test_raising_cell_is_reported_with_index_and_message(mixed_run):
    proc, out = mixed_run
    rec = json.loads((out / "claims.json").read_text())["notebooks"]["fx_raises"]
    assert rec["status"] == "error"
    assert rec["error"]["ename"] == "RuntimeError"
    assert "deliberate failure" in rec["error"]["evalue"]
    assert rec["error"]["cell_index"] == 4
    # claims recorded before the failure are kept
    assert [c["key"] for c in rec["claims"]] == ["fixture.raises.before"]
    assert "error in cell 4: RuntimeError: deliberate failure" in proc.stdout


def test_reports_are_written(mixed_run):
    proc, out = mixed_run
    for name in ("fx_ok", "fx_raises", "fx_failed_claim"):
        assert (out / f"{name}.ipynb").exists() and (out / f"{name}.html").exists()
    rows = list(csv.DictReader((out / "timings.csv").open()))
    assert [r["notebook"] for r in rows] == ["fx_ok", "fx_raises", "fx_failed_claim"]
    assert all(float(r["wall_s"]) > 0 and float(r["peak_rss_mb"]) > 50 for r in rows)
    md = (out / "claims.md").read_text()
    assert "| ✓ | `fixture.ok.value` | 1.001 | 1 | abs 0.01 | derived |" in md
    assert "| ✗ | `fixture.failed.value` | 2 | 1 | rel 0.1 | paper |" in md
    assert "fixture.ok.value" in proc.stdout  # the scorecard is printed


def test_parameters_are_injected(mixed_run):
    _, out = mixed_run
    nb = json.loads((out / "fx_ok.ipynb").read_text())
    printed = "".join("".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", []))
    assert "quick 0 quick 0 fx_ok" in printed


def test_passing_run_exits_zero(tmp_path):
    proc = run_cli("--notebook-dir", str(FIXTURES), "--only", "fx_ok", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_notebook_timeout_kills_and_reports(tmp_path):
    res = reproduce.run_notebook("fx_slow", "quick", out_dir=tmp_path, notebook_dir_=FIXTURES, notebook_timeout=20)
    assert res.status == "timeout" and not res.ok
    assert res.error["ename"] == "NotebookTimeout" and res.error["cell_index"] == 4
    assert [c["key"] for c in res.claims] == ["fixture.slow.before"]
    assert res.wall_s < 60


def test_cell_timeout_is_reported(tmp_path):
    res = reproduce.run_notebook("fx_slow", "quick", out_dir=tmp_path, notebook_dir_=FIXTURES, cell_timeout=20)
    assert res.status == "error"
    assert res.error["cell_index"] == 4 and "Timeout" in res.error["ename"] + res.error["evalue"]


def test_unknown_notebook_is_a_clear_error():
    proc = run_cli("--only", "nope")
    assert proc.returncode == 2
    assert "--only 'nope' is not a notebook; valid notebooks: 00_tour" in proc.stderr


def test_unknown_mode_is_a_clear_error():
    proc = run_cli("--mode", "bogus")
    assert proc.returncode == 2
    assert "invalid choice: 'bogus'" in proc.stderr and "quick" in proc.stderr and "full" in proc.stderr


def test_make_reproduce_bogus_mode_fails():
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run(["make", "-s", "reproduce", "MODE=bogus"], cwd=root, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode != 0 and "invalid choice: 'bogus'" in proc.stderr


def test_prefix_selection_and_bad_jobs():
    assert reproduce.resolve_names(["fx_o"], FIXTURES) == ["fx_ok"]
    with pytest.raises(reproduce.RunnerError, match="ambiguous"):
        reproduce.resolve_names(["fx_"], FIXTURES)
    proc = run_cli("--only", "00_tour", "--jobs", "0")
    assert proc.returncode == 2 and "--jobs must be >= 1" in proc.stderr


def test_full_mode_writes_reproduction_md(tmp_path, monkeypatch):
    monkeypatch.setenv("ANALYSIS_LIB_ROOT", str(tmp_path))
    res = reproduce.NotebookResult(notebook="fx_ok", mode="full", status="ok", wall_s=1.0, peak_rss_mb=100.0,
                                   claims=[{"key": "fixture.ok.value", "measured": 1.0, "expected": 1.0, "rel": None,
                                            "abs": 0.1, "within": None, "source": "paper", "note": "",
                                            "status": "pass"}])
    paths = reproduce.write_reports([res], tmp_path / "reports" / "full", "full", 0, git_commit="abc1234")
    assert (tmp_path / "figures" / "fx_ok" / "claims.json").exists()
    # the commit taken before the run is the one recorded (not "+dirty" from the figures it wrote)
    assert json.loads((tmp_path / "figures" / "fx_ok" / "claims.json").read_text())["git_commit"] == "abc1234"
    text = paths["REPRODUCTION.md"].read_text()
    assert paths["REPRODUCTION.md"] == tmp_path / "REPRODUCTION.md"
    assert "| fx_ok |" in text and "`fixture.ok.value`" in text


def test_terminating_the_runner_stops_its_worker_and_kernel(tmp_path):
    """The worker runs in its own session (so a timeout can kill it with its kernel); a SIGTERM to
    the runner must not leave that session computing."""
    import os
    import signal
    import subprocess
    import sys
    import time

    proc = subprocess.Popen([sys.executable, "-m", "analysis_lib.reproduce", "--notebook-dir", str(FIXTURES),
                             "--only", "fx_slow", "--out", str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    marker = f"--out {tmp_path}"
    deadline = time.time() + 60
    while time.time() < deadline and not _pids_with(marker, exclude=proc.pid):
        time.sleep(0.5)
    workers = _pids_with(marker, exclude=proc.pid)
    assert workers, "the worker never started"
    time.sleep(3)  # let it start its kernel
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 128 + signal.SIGTERM
    time.sleep(1)
    assert not [p for p in workers if os.path.exists(f"/proc/{p}") and _state(p) != "Z"]


def _pids_with(text: str, exclude: int) -> list[int]:
    import os

    out = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if text in cmd and "--worker" in cmd and int(pid) != exclude:
            out.append(int(pid))
    return out


def _state(pid: int) -> str:
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"
