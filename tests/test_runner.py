"""The papermill runner on small fixture notebooks: statuses, errors, reports, exit codes."""
import csv
import json
import re
import subprocess
import sys
import time
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
    assert [(c["status"], c["kind"]) for c in nbs["fx_ok"]["claims"]] == [("pass", "result"), ("info", "result"),
                                                                           ("pass", "check")]
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
    assert [r["notebook"] for r in rows] == ["fx_ok", "fx_raises", "fx_failed_claim", "(all)"]
    assert all(float(r["wall_s"]) > 0 and float(r["peak_rss_mb"]) > 50 for r in rows[:-1])
    # CPU seconds of each kernel; the last row is the whole run (two notebooks side by side)
    assert all(float(r["cpu_s"]) > 0.5 for r in rows[:-1])
    assert float(rows[-1]["cpu_s"]) == pytest.approx(sum(float(r["cpu_s"]) for r in rows[:-1]), abs=0.2)
    # the whole run contains every notebook's run (whether side by side beats one by one is a
    # timing question for the benchmarks, not a test)
    assert float(rows[-1]["wall_s"]) >= max(float(r["wall_s"]) for r in rows[:-1])
    md = (out / "claims.md").read_text()
    assert "| ✓ | result | `fixture.ok.value` | F1 | 1.001 | 1 | abs 0.01 | derived |" in md
    assert "| ✓ | check | `fixture.ok.identity` |  | 2 | 2 | abs 1e-12 | derived |" in md
    assert "| ✗ | result | `fixture.failed.value` | F1 | 2 | 1 | rel 0.1 | paper |" in md
    # the coverage matrix opens the scorecard, one row per declared paper claim
    assert md.index("Paper claims: coverage") < md.index("### fx_ok")
    assert "| fx_ok | F1 | the value is one | paper | ✓ reproduced | ✓ `fixture.ok.value` |" in md
    assert "| fx_ok | F2 | a claim nothing tests | reading | ○ not tested | — |" in md
    assert "| fx_failed_claim | F1 | the value is one | paper | ✗ not reproduced | ✗ `fixture.failed.value` |" in md
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


def test_largest_first_uses_the_last_run_and_starts_unknown_notebooks_first(tmp_path):
    timings = tmp_path / "timings.csv"
    timings.write_text("notebook,mode,status,wall_s\na,quick,ok,10\nb,quick,ok,90\nc,quick,ok,40\n(all),quick,ok,100\n")
    assert reproduce.largest_first(["a", "b", "c", "new"], "quick", timings) == ["new", "b", "c", "a"]
    assert reproduce.largest_first(["a", "b"], "quick", tmp_path / "missing.csv") == ["a", "b"]
    assert reproduce.default_jobs() == (__import__("os").cpu_count() or 1)


def test_wide_notebooks_start_first_then_longest_first(tmp_path):
    timings = tmp_path / "timings.csv"
    timings.write_text("notebook,mode,status,wall_s\na,quick,ok,10\nb,quick,ok,90\nc,quick,ok,40\n")
    assert reproduce.largest_first(["a", "b", "c", "new"], "quick", timings, wide=["a"]) == ["a", "new", "b", "c"]
    assert reproduce.largest_first(["a", "b", "c"], "quick", timings, wide=["a", "c"]) == ["c", "a", "b"]


def test_core_pool_runs_narrow_tasks_side_by_side_and_a_wide_one_alone():
    import threading

    pool = reproduce.CorePool(2)
    both = threading.Barrier(2, timeout=10)  # breaks (and fails the test) unless two narrow tasks overlap
    lock, active, seen = threading.Lock(), [0], {}

    def task(name, meet=False):
        with lock:
            active[0] += 1
            seen[name] = active[0]
        if meet:
            both.wait()
        time.sleep(0.05)
        with lock:
            active[0] -= 1
        return name

    def fails():
        raise KeyError("boom")

    futures = [pool.submit(1, task, "n1", True), pool.submit(1, task, "n2", True), pool.submit(2, task, "wide"),
               pool.submit(1, task, "after"), pool.submit(5, fails)]
    assert [f.result(timeout=30) for f in futures[:4]] == ["n1", "n2", "wide", "after"]
    assert seen["wide"] == 1  # nothing ran beside it: it waited for both cores, and "after" waited for it
    with pytest.raises(KeyError, match="boom"):  # a width above the pool's is capped at all cores
        futures[4].result(timeout=30)
    pool.shutdown()
    with pytest.raises(ValueError, match="cores must be a positive integer"):
        reproduce.CorePool(0)


def test_all_cores_declaration_is_read_from_the_metadata_and_checked(tmp_path):
    def notebook(name, meta):
        (tmp_path / f"{name}.ipynb").write_text(json.dumps({"cells": [], "metadata": meta, "nbformat": 4,
                                                            "nbformat_minor": 5}))

    notebook("wide", {"analysis_lib": {"sweeps_use_all_cores": ["quick"]}})
    notebook("plain", {})
    notebook("bad", {"analysis_lib": {"sweeps_use_all_cores": ["fast"]}})
    assert reproduce.uses_all_cores("wide", "quick", tmp_path) and not reproduce.uses_all_cores("wide", "full", tmp_path)
    assert not reproduce.uses_all_cores("plain", "quick", tmp_path)
    with pytest.raises(reproduce.RunnerError, match=r"sweeps_use_all_cores must be a list of modes.*'fast'"):
        reproduce.uses_all_cores("bad", "quick", tmp_path)
    from analysis_lib.provenance import notebook_fingerprint

    # declaring it changes no FULL row: the fingerprint hashes the cells only
    assert notebook_fingerprint(tmp_path / "wide.ipynb") == notebook_fingerprint(tmp_path / "plain.ipynb")
    # the two notebooks measured faster alone (02, 03) declare it
    assert [n for n in reproduce.available_notebooks() if reproduce.uses_all_cores(n, "quick")] == [
        "02_gating_theory", "03_gated_neural_odes"]


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
                                            "status": "pass", "kind": "result", "supports": ["F1"]}])
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


# --- provenance: commit, dirty tree, fingerprints, stale rows, --status ------------------------------

def test_run_records_provenance_and_counts_cache_hits(tmp_path, monkeypatch):
    monkeypatch.setenv("FX_CACHE_DIR", str(tmp_path / "cache"))
    first = reproduce.run_notebook("fx_ok", "quick", out_dir=tmp_path / "a", notebook_dir_=FIXTURES)
    second = reproduce.run_notebook("fx_ok", "quick", out_dir=tmp_path / "b", notebook_dir_=FIXTURES)
    p1, p2 = first.provenance, second.provenance
    assert (p1["cache_hits"], p1["cache_misses"]) == (0, 1)  # counted in the sweep's worker process
    assert (p2["cache_hits"], p2["cache_misses"], p2["cache_reuse"]) == (1, 0, 0)
    from analysis_lib.provenance import notebook_fingerprint

    assert p1["notebook_fingerprint"] == notebook_fingerprint(FIXTURES / "fx_ok.ipynb")
    assert "analysis_lib/random_matrix.py" in p1["code_files"] and p1["code_fingerprint"] == p2["code_fingerprint"]
    assert p1["versions"]["torch"] and p1["device"] == "cpu"
    assert first.paper_claims["paper"] == "Fixture (2026)"


def _git(root, *args):
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@t", "PATH": "/usr/bin:/bin"})


@pytest.fixture
def git_tree(tmp_path):
    """A committed repository root with notebooks/ and analysis_lib/ (the runner's root via ANALYSIS_LIB_ROOT)."""
    root = tmp_path / "repo"
    for sub in ("notebooks", "analysis_lib"):
        (root / sub).mkdir(parents=True)
    (root / "notebooks" / "fx_ok.ipynb").write_text((FIXTURES / "fx_ok.ipynb").read_text())
    (root / "analysis_lib" / "x.py").write_text("X = 1\n")
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "init")
    return root


def test_untracked_source_file_makes_the_tree_dirty(git_tree):
    assert reproduce.git_state(git_tree)["dirty"] is False
    (git_tree / "notebooks" / "new.ipynb").write_text("{}")
    state = reproduce.git_state(git_tree)
    assert state["dirty"] and state["dirty_files"] == ["notebooks/new.ipynb (untracked)"]


def test_full_run_refuses_a_dirty_tree_unless_allowed(git_tree):
    import os

    (git_tree / "notebooks" / "untracked.ipynb").write_text("{}")
    env = dict(os.environ, ANALYSIS_LIB_ROOT=str(git_tree))
    env.pop("ALLOW_DIRTY", None)
    cmd = [sys.executable, "-m", "analysis_lib.reproduce", "--mode", "full", "--notebook-dir", str(FIXTURES),
           "--only", "fx_ok", "--out", str(git_tree / "out")]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 2
    assert "refusing a FULL run on a dirty tree" in proc.stderr and "notebooks/untracked.ipynb (untracked)" in proc.stderr
    assert not (git_tree / "figures").exists()  # nothing ran
    proc = subprocess.run(cmd, capture_output=True, text=True, env=dict(env, ALLOW_DIRTY="1"), timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rec = json.loads((git_tree / "figures" / "fx_ok" / "claims.json").read_text())
    assert rec["dirty"] is True and "notebooks/untracked.ipynb (untracked)" in rec["dirty_files"]
    assert "**dirty** (ALLOW_DIRTY)" in (git_tree / "REPRODUCTION.md").read_text()


def _fake_full_record(root, code_files):
    from analysis_lib.provenance import code_fingerprint, file_hashes, notebook_fingerprint

    hashes = file_hashes(code_files, root)
    rec = {"mode": "full", "seed": 0, "generated": "2026-12-01T00:00:00+00:00", "git_commit": "abc1234", "dirty": False,
           "dirty_files": [], "machine": "test", "notebook": "fx_ok", "status": "ok", "wall_s": 3.0, "peak_rss_mb": 90.0,
           "error": None, "claims": [{"key": "fixture.ok.value", "measured": 1.0, "expected": 1.0, "rel": None,
                                      "abs": 0.1, "within": None, "source": "paper", "note": "", "status": "pass",
                                      "kind": "result", "supports": ["F1"]}],
           "paper_claims": {"paper": "Fixture", "claims": [{"id": "F1", "statement": "the value is one",
                                                            "source": "paper", "untestable": ""}]},
           "provenance": {"notebook_fingerprint": notebook_fingerprint(root / "notebooks" / "fx_ok.ipynb"),
                          "code_files": hashes, "code_fingerprint": code_fingerprint(hashes), "versions": {},
                          "device": "cpu", "wall_s": 3.0, "cache_hits": 0, "cache_misses": 0}}
    (root / "figures" / "fx_ok").mkdir(parents=True)
    (root / "figures" / "fx_ok" / "claims.json").write_text(json.dumps(rec))
    return rec


def test_stale_marking_and_status(git_tree, monkeypatch):
    monkeypatch.setenv("ANALYSIS_LIB_ROOT", str(git_tree))
    rec = _fake_full_record(git_tree, ["analysis_lib/x.py"])
    assert reproduce.staleness(rec, git_tree) == (False, [])
    text = reproduce.write_reproduction_md().read_text()
    assert "| fx_ok | 2026-12-01T00:00:00+00:00 | abc1234 | current |" in text
    assert text.index("## Paper claims: coverage") < text.index("## Runs") < text.index("### fx_ok")
    assert "fx_ok: FULL abc1234 on 2026-12-01T00:00:00+00:00 — current" in reproduce.status_lines(git_tree)[0]

    (git_tree / "analysis_lib" / "x.py").write_text("X = 2\n")  # the code the run imported changed
    stale, why = reproduce.staleness(rec, git_tree)
    assert stale and why == ["code changed: analysis_lib/x.py"]
    nb = json.loads((git_tree / "notebooks" / "fx_ok.ipynb").read_text())
    nb["cells"][0]["source"] = ["# a new title"]
    (git_tree / "notebooks" / "fx_ok.ipynb").write_text(json.dumps(nb))
    assert reproduce.staleness(rec, git_tree)[1] == ["the notebook changed", "code changed: analysis_lib/x.py"]
    text = reproduce.write_reproduction_md().read_text()
    assert "**stale**: the notebook changed; code changed: analysis_lib/x.py" in text
    assert "| fx_ok **(stale)** | F1 |" in text
    proc = run_cli("--status", cwd=git_tree)
    assert proc.returncode == 0
    # run_cli inherits ANALYSIS_LIB_ROOT from monkeypatch
    assert "fx_ok: FULL abc1234" in proc.stdout and "stale (the notebook changed" in proc.stdout


def test_a_current_record_with_a_filled_cache_expects_a_warm_run_and_only_then(git_tree):
    rec = _fake_full_record(git_tree, ["analysis_lib/x.py"])
    rec["costs"] = [{"cache": "empty cache", "cache_misses": 2}, {"cache": "warm cache", "cache_misses": 0}]
    (git_tree / "figures" / "fx_ok" / "claims.json").write_text(json.dumps(rec))
    cache = git_tree / "reports" / "cache" / "full" / "fx_ok"
    warm = lambda mode="full": reproduce.expects_warm_cache("fx_ok", mode, git_tree)
    assert not warm()  # no cache folder
    (cache / "jobs").mkdir(parents=True)
    (cache / "f-1.pkl").write_bytes(b"x")
    (cache / "f-1.ckpt").write_bytes(b"x")  # a checkpoint is not a stored result
    assert not warm()  # one result of the two the empty-cache run stored
    (cache / "jobs" / "g-2.pkl").write_bytes(b"x")
    assert warm() and not warm("quick")
    (git_tree / "analysis_lib" / "x.py").write_text("X = 2\n")  # new code: every key changes
    assert not warm()
    assert not reproduce.expects_warm_cache("no_such_notebook", "full", git_tree)


def test_schedule_gives_all_cores_to_a_wide_notebook_unless_its_cache_is_warm(git_tree, monkeypatch):
    monkeypatch.setenv("ANALYSIS_LIB_ROOT", str(git_tree))
    nb = json.loads((git_tree / "notebooks" / "fx_ok.ipynb").read_text())
    nb.setdefault("metadata", {})["analysis_lib"] = {reproduce.ALL_CORES_KEY: ["quick", "full"]}
    (git_tree / "notebooks" / "fx_ok.ipynb").write_text(json.dumps(nb))  # metadata: not in the fingerprint
    (git_tree / "notebooks" / "fx_narrow.ipynb").write_text((FIXTURES / "fx_ok.ipynb").read_text())
    rec = _fake_full_record(git_tree, ["analysis_lib/x.py"])
    rec["costs"] = [{"cache": "empty cache", "cache_misses": 1}]
    (git_tree / "figures" / "fx_ok" / "claims.json").write_text(json.dumps(rec))
    S = reproduce.Start
    assert reproduce.schedule(["fx_narrow", "fx_ok"], "quick", 2) == [S("fx_ok", 2, False), S("fx_narrow", 1, False)]
    assert reproduce.schedule(["fx_narrow", "fx_ok"], "full", 2) == [S("fx_ok", 2, False), S("fx_narrow", 1, False)]
    (git_tree / "reports" / "cache" / "full" / "fx_ok").mkdir(parents=True)
    (git_tree / "reports" / "cache" / "full" / "fx_ok" / "f-1.pkl").write_bytes(b"x")
    assert reproduce.schedule(["fx_narrow", "fx_ok"], "full", 2) == [S("fx_narrow", 1, False), S("fx_ok", 1, True)]


def test_a_result_stored_and_read_again_in_the_same_run_is_reuse_not_a_cache_hit():
    log = ["miss f aaa", "hit f aaa", "hit f aaa", "hit f bbb", "miss g ccc", ""]
    counts = reproduce.count_cache_events(log)
    assert counts == {"cache_hits": 1, "cache_misses": 2, "cache_reuse": 2}
    assert reproduce.cache_state(reproduce.count_cache_events(log[:3])) == "empty cache"  # only its own results re-read
    assert reproduce.cache_state(counts) == "partial cache"  # bbb was there before the run
    assert reproduce.cache_state(reproduce.count_cache_events(["hit f bbb"])) == "warm cache"


def test_a_record_without_fingerprints_is_stale():
    assert reproduce.staleness({"notebook": "x"}) == (True, ["no fingerprints recorded (the run predates provenance records)"])


def test_full_costs_are_kept_per_cache_state_and_written_into_the_readme(tmp_path, monkeypatch):
    monkeypatch.setenv("ANALYSIS_LIB_ROOT", str(tmp_path))
    (tmp_path / "README.md").write_text(f"intro\n{reproduce.README_COSTS_BEGIN}\nold table\n{reproduce.README_COSTS_END}\nend\n")

    def full_run(hits, misses, wall):
        res = reproduce.NotebookResult(notebook="fx_ok", mode="full", status="ok", wall_s=wall, peak_rss_mb=100.0,
                                       cpu_s=2 * wall, claims=[], provenance={"cache_hits": hits, "cache_misses": misses})
        reproduce.write_reports([res], tmp_path / "reports" / "full", "full", 0, git_commit="abc1234")
        return json.loads((tmp_path / "figures" / "fx_ok" / "claims.json").read_text())["costs"]

    assert [c["cache"] for c in full_run(0, 5, 3600.0)] == ["empty cache"]
    costs = full_run(5, 0, 60.0)  # a warm re-run keeps the empty-cache cost beside it
    assert [(c["cache"], c["wall_s"], c["cpu_s"]) for c in costs] == [("empty cache", 3600.0, 7200.0),
                                                                      ("warm cache", 60.0, 120.0)]
    assert [c["wall_s"] for c in full_run(5, 0, 50.0)] == [3600.0, 50.0]  # same state: replaced
    readme = (tmp_path / "README.md").read_text()
    assert "old table" not in readme and readme.startswith("intro\n") and readme.endswith("end\n")
    assert "| fx_ok | empty cache | 60.0 min | 120.0 min |" in readme and "| fx_ok | warm cache | 50 s | 100 s |" in readme
    assert reproduce.cache_state({}) == "unknown" and reproduce.cache_state({"cache_hits": 0, "cache_misses": 0}) == "no cache used"
    assert reproduce.cache_state({"cache_hits": 2, "cache_misses": 1}) == "partial cache"


def test_gallery_shows_each_headline_with_the_status_of_its_claims(tmp_path, monkeypatch):
    monkeypatch.setenv("ANALYSIS_LIB_ROOT", str(tmp_path))
    rows = [{"id": "C1", "status": "reproduced"}, {"id": "C2", "status": "not reproduced"},
            {"id": "C3", "status": "not tested"}]
    assert reproduce.headline_status(rows, ["C1"]) == "reproduced"
    assert reproduce.headline_status(rows, ["C1", "C2"]) == "partly"
    assert reproduce.headline_status(rows, ["C2", "C3"]) == "not reproduced"
    assert reproduce.headline_status(rows, ["C3"]) == "not tested"
    (tmp_path / "README.md").write_text(f"x\n{reproduce.README_GALLERY_BEGIN}\n{reproduce.README_GALLERY_END}\n")
    res = reproduce.NotebookResult(notebook="fx_ok", mode="full", status="ok", wall_s=1.0, peak_rss_mb=1.0,
                                   claims=[{"key": "fixture.ok.value", "status": "fail", "kind": "result", "supports": ["F1"]}],
                                   paper_claims={"paper": "Fixture", "claims": [{"id": "F1", "statement": "s", "source": "paper"}],
                                                 "headline": {"figure": "F1_fig", "caption": "what it shows", "claims": ["F1"]}})
    (tmp_path / "figures" / "fx_ok").mkdir(parents=True)
    (tmp_path / "figures" / "fx_ok" / "F1_fig.png").write_bytes(b"png")
    reproduce.write_reports([res], tmp_path / "reports" / "full", "full", 0, git_commit="abc1234")
    readme = (tmp_path / "README.md").read_text()
    assert '<img src="figures/fx_ok/F1_fig.png"' in readme and "what it shows" in readme
    assert "✗ not reproduced (stale: re-run pending) (F1;" in readme  # no fingerprints in this fake record
    assert "[F1_fig](figures/fx_ok/F1_fig.png)" in (tmp_path / "REPRODUCTION.md").read_text()


def _printed(executed_path) -> str:
    nb = json.loads(Path(executed_path).read_text())
    return "".join("".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", []))


def test_dask_routes_every_sweep_of_a_notebook_to_the_cluster(tmp_path):
    """`--dask ADDRESS`: the notebook's al.sweep runs on that scheduler, with the same results as local."""
    import re

    distributed = pytest.importorskip("distributed")
    local = run_cli("--notebook-dir", str(FIXTURES), "--only", "fx_sweep", "--out", str(tmp_path / "local"))
    assert local.returncode == 0, local.stdout + local.stderr
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        proc = run_cli("--notebook-dir", str(FIXTURES), "--only", "fx_sweep", "--out", str(tmp_path / "dask"),
                       "--dask", cluster.scheduler_address)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        ran_on_cluster = client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.transition_counter)
    dask_out, local_out = _printed(tmp_path / "dask" / "fx_sweep.ipynb"), _printed(tmp_path / "local" / "fx_sweep.ipynb")
    assert f"sweeps ran on: Dask cluster at {cluster.scheduler_address}" in dask_out
    assert "sweeps ran on: local processes" in local_out
    radii = lambda text: re.search(r"radii: (\[.*\])", text).group(1)
    assert radii(dask_out) == radii(local_out)  # identical results
    assert ran_on_cluster >= 6 * 3  # the six points were tasks of this scheduler (each through several states)
    rec = json.loads((tmp_path / "dask" / "claims.json").read_text())["notebooks"]["fx_sweep"]
    assert rec["provenance"]["sweeps"] == f"Dask cluster at {cluster.scheduler_address}"


def test_progress_bars_of_a_headless_notebook_reach_the_runner_log(tmp_path):
    """A bar in the kernel (and a sweep's bar) is printed by the runner, prefixed with the notebook's
    name, and kept in reports/<mode>/logs/<name>.progress.log."""
    proc = run_cli("--notebook-dir", str(FIXTURES), "--only", "fx_progress", "--out", str(tmp_path), "--jobs", "2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    shown = [line for line in proc.stdout.splitlines() if line.startswith("    fx_progress | ")]
    assert any("crunching numbers" in line and "3/3" in line for line in shown), proc.stdout
    assert any("spectral radii" in line and "2/2" in line for line in shown), proc.stdout
    log = (tmp_path / "logs" / "fx_progress.progress.log").read_text()
    assert "crunching numbers" in log and "\x1b" not in log and "\r" not in log


def test_progress_bar_is_ordinary_tqdm_outside_the_runner_and_silent_when_short(tmp_path, monkeypatch):
    from tqdm.auto import tqdm as auto_tqdm

    from analysis_lib import progress

    monkeypatch.delenv(progress.HEADLESS_ENV, raising=False)
    with progress.tqdm(range(2), disable=True) as bar:
        assert isinstance(bar, auto_tqdm)
    log = tmp_path / "p.log"
    monkeypatch.setenv(progress.HEADLESS_ENV, "1")
    monkeypatch.setenv(progress.LOG_ENV, str(log))
    for _ in progress.tqdm(range(5), desc="short loop"):  # ends before LOG_DELAY_S: nothing logged
        pass
    assert not log.exists() or "short loop" not in log.read_text()
    monkeypatch.setattr(progress, "LOG_DELAY_S", 0.0)
    monkeypatch.setattr(progress, "LOG_INTERVAL_S", 0.0)
    for _ in progress.tqdm(range(4), desc="outer"):
        for _ in progress.tqdm(range(2), desc="inner"):  # nested bars: cursor moves stripped
            pass
    text = log.read_text()
    assert "outer" in text and "4/4" in text and "inner" in text and "\x1b" not in text


def test_library_bars_go_through_analysis_lib_progress():
    """Every bar of the library reaches the runner's log: no module uses tqdm directly."""
    import analysis_lib

    root = Path(analysis_lib.__file__).parent
    direct = [str(p.relative_to(root)) for p in root.rglob("*.py")
              if p.name != "progress.py" and re.search(r"^\s*(from tqdm|import tqdm)", p.read_text(), re.M)]
    assert not direct, f"use `from analysis_lib.progress import tqdm` in: {direct}"
