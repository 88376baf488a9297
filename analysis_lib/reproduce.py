"""`python -m analysis_lib.reproduce`: re-execute the notebooks and print the claims scorecard.

Each notebook runs with papermill in a worker process of its own (parameters MODE, SEED,
NOTEBOOK), under a per-cell and a per-notebook timeout. The runner writes, under `--out`
(default `reports/<mode>/`):

- `<notebook>.ipynb` and `<notebook>.html`: the executed notebook and its HTML render;
- `claims.json`: every recorded claim, plus the status, error, wall time and peak memory of
  each notebook;
- `claims.md`: the scorecard, one table per notebook;
- `timings.csv`: wall seconds and peak RSS (MB) per notebook.

In FULL mode each notebook's record is also kept next to its committed figures
(`figures/<notebook>/claims.json`) and `REPRODUCTION.md` at the repository root is rebuilt
from all of them, so `--only` updates one notebook's section and keeps the others.

Both scorecards open with the coverage of each paper's declared claims (reproduced / partly / not
reproduced / not tested, from the results that support each claim) and count results and checks
apart. Every record carries its provenance: the commit and whether the tree was dirty (untracked
files under `analysis_lib/` and `notebooks/` count), fingerprints of the notebook and of the code it
imported, library versions, device, wall time and cache hits. FULL refuses a dirty tree unless
`ALLOW_DIRTY=1` (then the row says so). `--status` compares each committed FULL record's
fingerprints with the files as they are now and prints current or stale, without running anything.

A notebook that raises is reported with its cell index and error; the other notebooks still
run. The exit status is 1 when any notebook failed or any claim failed, 2 for bad arguments.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import Future, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, Sequence

from ._paths import repo_root
from .claims import (COVERAGE_MARK, count_kinds, coverage, coverage_cell, read_claims, read_paper_claims,
                     read_provenance)
from .notebook import MODES
from .provenance import file_hashes, notebook_fingerprint
from .sweep import DASK_ENV

# (per-cell, per-notebook) seconds. QUICK budgets are 3 min a notebook; the margin absorbs a
# loaded CI machine. FULL notebooks may take an hour or more on 2 cores.
DEFAULT_TIMEOUTS = {"quick": (600, 1200), "full": (4 * 3600, 8 * 3600)}


@dataclass
class NotebookResult:
    notebook: str
    mode: str
    status: str  # "ok" | "error" | "timeout"
    wall_s: float
    peak_rss_mb: float | None
    claims: list[dict[str, Any]] = field(default_factory=list)
    cpu_s: float | None = None  # user + system seconds of the kernel and every process it started
    error: dict[str, Any] | None = None
    executed_path: str | None = None
    html_path: str | None = None
    paper_claims: dict[str, Any] | None = None  # {"paper": citation, "claims": [PaperClaim as dict]}
    provenance: dict[str, Any] | None = None

    @property
    def n_fail(self) -> int:
        return sum(c.get("status") == "fail" for c in self.claims)

    @property
    def ok(self) -> bool:
        return self.status == "ok" and self.n_fail == 0

    def counts(self) -> dict[str, int]:
        return {s: sum(c.get("status") == s for c in self.claims) for s in ("pass", "fail", "info")}

    @classmethod
    def from_record(cls, rec: dict[str, Any]) -> "NotebookResult":
        """The result stored in a claims.json record (fields it lacks keep their defaults)."""
        return cls(**{k: rec[k] for k in cls.__dataclass_fields__ if k in rec})

    def kind_counts(self) -> dict[str, dict[str, int]]:
        """Results and checks counted apart, per status."""
        return count_kinds(self.claims)

    def coverage(self) -> list[dict[str, Any]]:
        """Coverage rows of the declared paper claims (`claims.coverage`); [] when none were declared."""
        return coverage(self.paper_claims["claims"], self.claims) if self.paper_claims else []


class RunnerError(ValueError):
    """Bad arguments to the runner (unknown notebook or mode)."""


def notebook_dir() -> Path:
    return repo_root() / "notebooks"


def available_notebooks(directory: Path | None = None) -> list[str]:
    """Stems of `notebooks/*.ipynb`, in reading order (their numeric prefixes)."""
    directory = Path(directory) if directory else notebook_dir()
    return sorted(p.stem for p in directory.glob("*.ipynb") if not p.name.startswith("."))


def resolve_names(requested: Sequence[str] | None, directory: Path | None = None) -> list[str]:
    """Match `--only` values to notebooks: the exact stem, `stem.ipynb`, or a unique prefix."""
    valid = available_notebooks(directory)
    if not valid:
        raise RunnerError(f"no notebooks found in {directory or notebook_dir()}")
    if not requested:
        return valid
    chosen: list[str] = []
    for name in requested:
        stem = Path(name).name.removesuffix(".ipynb")
        matches = [stem] if stem in valid else [v for v in valid if v.startswith(stem)]
        if len(matches) != 1:
            why = "is ambiguous" if matches else "is not a notebook"
            raise RunnerError(f"--only {name!r} {why}; valid notebooks: {', '.join(valid)}")
        if matches[0] not in chosen:
            chosen.append(matches[0])
    return chosen


def validate_mode(mode: str) -> str:
    if mode not in MODES:
        raise RunnerError(f"mode must be one of {', '.join(MODES)}; got {mode!r}")
    return mode


# ---------------------------------------------------------------------------------------------
# Worker: runs inside its own process so a per-notebook timeout can kill it with its kernel,
# and so RUSAGE_CHILDREN measures the kernel's peak memory.


def _kernel_path_dir() -> str:
    """A JUPYTER_PATH whose `python3` kernel is this interpreter, whatever the user has installed."""
    root = Path(tempfile.mkdtemp(prefix="al-kernel-"))
    spec_dir = root / "kernels" / "python3"
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (analysis_lib)",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    return str(root)


def _load_cells(executed: Path) -> list[dict[str, Any]]:
    try:
        return json.loads(executed.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, json.JSONDecodeError):
        return []


def _source_index(cells: list[dict[str, Any]], index: int | None) -> int | None:
    """Cell index in the stored notebook: papermill's injected-parameters cell does not count."""
    if index is None:
        return None
    injected = sum("injected-parameters" in c.get("metadata", {}).get("tags", []) for c in cells[:index])
    return index - injected


def _failing_cell(executed: Path) -> int | None:
    """Index (in the stored notebook) of the cell running when execution stopped (for timeouts)."""
    cells = _load_cells(executed)
    meta = [c.get("metadata", {}).get("papermill", {}) for c in cells]
    for i, m in enumerate(meta):
        if m.get("status") == "running":  # saved as the cell started; the worker was killed
            return _source_index(cells, i)
    started = [i for i, m in enumerate(meta) if m.get("start_time")]
    # After a cell timeout papermill marks every cell completed: the last one started is the culprit.
    return _source_index(cells, started[-1]) if started else None


def _execute(name: str, mode: str, seed: int, nb_dir: Path, out_dir: Path, cell_timeout: int,
             progress_bar: bool) -> dict[str, Any]:
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    source = nb_dir / f"{name}.ipynb"
    executed = out_dir / f"{name}.ipynb"
    html = out_dir / f"{name}.html"
    error = None
    t0 = time.perf_counter()
    try:
        pm.execute_notebook(
            str(source), str(executed),
            parameters={"MODE": mode, "SEED": seed, "NOTEBOOK": name},
            kernel_name="python3", cwd=str(nb_dir), progress_bar=progress_bar,
            execution_timeout=cell_timeout,
        )
    except PapermillExecutionError as exc:
        error = {"cell_index": _source_index(_load_cells(executed), exc.cell_index), "exec_count": exc.exec_count, "ename": exc.ename,
                 "evalue": exc.evalue}
    except Exception as exc:  # a cell timeout, a dead kernel: still report the cell
        error = {"cell_index": _failing_cell(executed), "exec_count": None, "ename": type(exc).__name__,
                 "evalue": str(exc).strip().splitlines()[0] if str(exc).strip() else ""}
    wall = time.perf_counter() - t0
    html_path = None
    if executed.exists():
        try:
            from nbconvert import HTMLExporter

            body, _ = HTMLExporter().from_filename(str(executed))
            html.write_text(body, encoding="utf-8")
            html_path = str(html)
        except Exception as exc:  # the render is a convenience; never lose the result for it
            print(f"warning: HTML render of {name} failed: {exc}", file=sys.stderr)
    # ru_maxrss is in KiB on Linux; the kernel is a reaped child of this process, and its own sweep
    # workers are reaped by the kernel, so RUSAGE_CHILDREN's CPU times include them too.
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    rss_kb = max(me.ru_maxrss, kids.ru_maxrss)
    return {
        "status": "ok" if error is None else "error",
        "error": error,
        "wall_s": wall,
        "cpu_s": me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime,
        "peak_rss_mb": rss_kb / 1024,
        "executed_path": str(executed) if executed.exists() else None,
        "html_path": html_path,
    }


def _worker_main(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(prog="analysis_lib.reproduce --worker")
    p.add_argument("name")
    p.add_argument("--mode", required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--notebook-dir", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--cell-timeout", type=int, required=True)
    p.add_argument("--result", type=Path, required=True)
    p.add_argument("--progress-bar", action="store_true")
    a = p.parse_args(argv)
    os.environ["JUPYTER_PATH"] = _kernel_path_dir()
    from . import _kernel_poll

    _kernel_poll.install()  # a missed zmq wakeup costs ≤ 1 s, not the whole cell timeout
    result = _execute(a.name, a.mode, a.seed, a.notebook_dir, a.out, a.cell_timeout, a.progress_bar)
    a.result.write_text(json.dumps(result))
    return 0


# ---------------------------------------------------------------------------------------------
# Driver


def run_notebook(name: str, mode: str = "quick", *, seed: int = 0, out_dir: Path | str | None = None,
                 notebook_dir_: Path | str | None = None, cell_timeout: int | None = None,
                 notebook_timeout: int | None = None, progress_bar: bool = False,
                 progress_stream=None) -> NotebookResult:
    """Execute one notebook in a worker process and collect its claims (the API the tests use).

    The kernel's long computations write their progress bars to `<out>/logs/<name>.progress.log`
    (`analysis_lib.progress`); with `progress_stream` the lines are also printed there as they come,
    prefixed with the notebook's name."""
    mode = validate_mode(mode)
    nb_dir = Path(notebook_dir_) if notebook_dir_ else notebook_dir()
    (name,) = resolve_names([name], nb_dir)
    out = Path(out_dir) if out_dir else repo_root() / "reports" / mode
    out.mkdir(parents=True, exist_ok=True)
    default_cell, default_nb = DEFAULT_TIMEOUTS[mode]
    cell_timeout = cell_timeout or default_cell
    notebook_timeout = notebook_timeout or default_nb
    result_file = out / f".{name}.result.json"
    result_file.unlink(missing_ok=True)
    cache_log = out / f".{name}.cache.log"  # every cache hit/miss, from the kernel and its sweep workers
    cache_log.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "analysis_lib.reproduce", "--worker", name, "--mode", mode, "--seed", str(seed),
           "--notebook-dir", str(nb_dir), "--out", str(out), "--cell-timeout", str(cell_timeout),
           "--result", str(result_file)]
    if progress_bar:
        cmd.append("--progress-bar")
    progress_log = out / "logs" / f"{name}.progress.log"
    progress_log.parent.mkdir(exist_ok=True)
    progress_log.write_text("", encoding="utf-8")
    env = dict(os.environ, ANALYSIS_LIB_NOTEBOOK=name, ANALYSIS_LIB_MODE=mode, ANALYSIS_LIB_HEADLESS="1",
               PYDEVD_DISABLE_FILE_VALIDATION="1", ANALYSIS_LIB_CACHE_LOG=str(cache_log),
               ANALYSIS_LIB_PROGRESS_LOG=str(progress_log))
    nb_fingerprint = notebook_fingerprint(nb_dir / f"{name}.ipynb")  # the notebook as it was run
    t0 = time.perf_counter()
    # A session of its own, so a timeout kills the worker together with its kernel.
    proc = subprocess.Popen(cmd, env=env, start_new_session=True)
    _LIVE_WORKERS.add(proc)
    tail = _ProgressTail(progress_log, name, progress_stream) if progress_stream is not None else None
    try:
        proc.wait(timeout=notebook_timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        timed_out = True
    except BaseException:  # Ctrl-C or SIGTERM: the worker's own session would outlive us, so end it too
        _stop_workers()
        raise
    finally:
        _LIVE_WORKERS.discard(proc)
        if tail is not None:
            tail.stop()
    wall = time.perf_counter() - t0
    executed = out / f"{name}.ipynb"
    if timed_out:
        info = {"status": "timeout", "wall_s": wall, "peak_rss_mb": None, "html_path": None,
                "executed_path": str(executed) if executed.exists() else None,
                "error": {"cell_index": _failing_cell(executed), "exec_count": None, "ename": "NotebookTimeout",
                          "evalue": f"notebook exceeded {notebook_timeout} s"}}
    elif result_file.exists():
        info = json.loads(result_file.read_text())
        result_file.unlink()
    else:
        info = {"status": "error", "wall_s": wall, "peak_rss_mb": None, "html_path": None,
                "executed_path": str(executed) if executed.exists() else None,
                "error": {"cell_index": None, "exec_count": None, "ename": "WorkerCrashed",
                          "evalue": f"worker exited with status {proc.returncode}"}}
    claims = read_claims(executed) if info.get("executed_path") else []
    paper_claims = read_paper_claims(executed) if info.get("executed_path") else None
    kernel = (read_provenance(executed) if info.get("executed_path") else None) or {}
    cache_counts = count_cache_events(cache_log.read_text().splitlines() if cache_log.exists() else [])
    cache_log.unlink(missing_ok=True)
    provenance = {"notebook_fingerprint": nb_fingerprint, "code_fingerprint": kernel.get("code_fingerprint"),
                  "code_files": kernel.get("code_files"), "versions": kernel.get("versions"),
                  "device": kernel.get("device"), "sweeps": kernel.get("sweeps"), "wall_s": round(info["wall_s"], 1),
                  **cache_counts}
    keys = [c["key"] for c in claims]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates and info["status"] == "ok":
        info["status"] = "error"
        info["error"] = {"cell_index": None, "exec_count": None, "ename": "DuplicateClaimKey",
                         "evalue": f"claim keys recorded more than once: {', '.join(duplicates)}"}
    return NotebookResult(notebook=name, mode=mode, status=info["status"], wall_s=info["wall_s"],
                          peak_rss_mb=info.get("peak_rss_mb"), cpu_s=info.get("cpu_s"), claims=claims,
                          error=info.get("error"),
                          executed_path=info.get("executed_path"), html_path=info.get("html_path"),
                          paper_claims=paper_claims, provenance=provenance)


_LIVE_WORKERS: set = set()  # worker processes now running (each the leader of its own session)


class _ProgressTail:
    """Print the lines a running notebook appends to its progress log, as `    <name> | <line>`,
    every `interval` seconds from a background thread, and the rest when stopped."""

    def __init__(self, path: Path, name: str, stream, interval: float = 2.0):
        import threading

        self.path, self.name, self.stream, self.interval = path, name, stream, interval
        self._offset = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"progress-{name}", daemon=True)
        self._thread.start()

    def _emit_new(self) -> None:
        try:
            with self.path.open("rb") as f:
                f.seek(self._offset)
                chunk = f.read()
        except OSError:
            return
        complete = chunk[: chunk.rfind(b"\n") + 1]  # a line still being written waits for the next poll
        self._offset += len(complete)
        for line in complete.decode("utf-8", "replace").splitlines():
            print(f"    {self.name} | {line}", file=self.stream, flush=True)

    def _run(self) -> None:
        while not self._done.wait(self.interval):
            self._emit_new()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()
        self._emit_new()


def _stop_workers() -> None:
    """Kill every running worker's session (worker + kernel + its pool processes)."""
    for proc in list(_LIVE_WORKERS):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


ALL_CORES_KEY = "sweeps_use_all_cores"  # notebook metadata: analysis_lib.sweeps_use_all_cores = [modes]


def uses_all_cores(name: str, mode: str, directory: Path | None = None) -> bool:
    """Whether notebook `name` declares (its metadata `analysis_lib.sweeps_use_all_cores`, a list of
    modes) that in `mode` its expensive cells run through `al.sweep` on every core.

    The runner starts such a notebook alone: beside another notebook its sweep workers get about one
    core, and the notebook takes as long as its CPU time. Measured on 2 cores (QUICK, 2026-12-05):
    02 alone 91 s wall / 159 CPU-s, beside the others 164 s; 03 alone 62 s / 101 CPU-s, beside them
    109 s. The declaration lives in the metadata, not in the cells, so it changes no result and
    no fingerprint (`provenance.notebook_fingerprint` hashes the cells only)."""
    path = Path(directory or notebook_dir()) / f"{name}.ipynb"
    try:
        meta = json.loads(path.read_text(encoding="utf-8")).get("metadata", {}).get("analysis_lib", {})
    except (OSError, ValueError):  # an unreadable notebook fails later, with its own error
        return False
    modes = meta.get(ALL_CORES_KEY, [])
    if not isinstance(modes, list) or any(m not in MODES for m in modes):
        raise RunnerError(f"{path}: metadata analysis_lib.{ALL_CORES_KEY} must be a list of modes from "
                          f"{list(MODES)}; got {modes!r}")
    return mode in modes


def expects_warm_cache(name: str, mode: str, root: Path | None = None) -> bool:
    """Whether a FULL run of `name` should read every result from its cache: its committed FULL record
    (`figures/<name>/claims.json`) is current (`staleness`: the cache keys hash the same code), and
    `reports/cache/full/<name>/` holds at least as many results (`*.pkl`) as that notebook's run from
    an empty cache stored (the cache misses of its 'empty cache' cost entry).

    Such a notebook computes nothing in its sweeps, so the runner gives it one core beside the others
    even when it `uses_all_cores` (02 warm: 58 s wall, 61 CPU-s): that is what lets a warm FULL of
    every notebook end in minutes. A wrong guess costs time, never a result. Always False in QUICK."""
    if mode != "full":
        return False
    root = root or repo_root()
    try:
        record = json.loads((root / "figures" / name / "claims.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    stored = [e.get("cache_misses") for e in record.get("costs") or [] if e.get("cache") == "empty cache"]
    if not stored or not stored[-1] or staleness(record, root)[0]:
        return False
    folder = root / "reports" / "cache" / mode / name
    return folder.is_dir() and sum(1 for _ in folder.rglob("*.pkl")) >= int(stored[-1])


def largest_first(names: Sequence[str], mode: str, timings: Path | None = None,
                  wide: Sequence[str] = ()) -> list[str]:
    """`names` in the order to start them: the `wide` ones (run alone on every core) before the
    others, and within each group those without a previous time first (their cost is unknown), in
    reading order, then the rest by their last wall time in `timings` (default: the last run's
    `reports/<mode>/timings.csv`), longest first, so side-by-side runs end together. Wide ones go first
    because a wide notebook waits for every core to be free: queued behind a narrow one, it would
    leave a core idle for as long as that one runs."""
    timings = timings or repo_root() / "reports" / mode / "timings.csv"
    last: dict[str, float] = {}
    if timings.exists():
        try:
            with timings.open(newline="") as f:
                last = {row["notebook"]: float(row["wall_s"]) for row in csv.DictReader(f) if row.get("wall_s")}
        except (OSError, ValueError, KeyError):  # an unreadable history only costs the ordering
            last = {}

    def ordered(group: list[str]) -> list[str]:
        unknown = [n for n in group if n not in last]
        return unknown + sorted((n for n in group if n in last), key=lambda n: -last[n])

    return ordered([n for n in names if n in wide]) + ordered([n for n in names if n not in wide])


class Start(NamedTuple):
    """One notebook of a run, in start order: how many cores it takes and whether its cache is warm."""
    name: str
    cores: int
    warm: bool


def schedule(names: Sequence[str], mode: str, jobs: int, notebook_dir_: Path | None = None) -> list[Start]:
    """The notebooks of a run on `jobs` cores, in the order to start them (`largest_first`): one core
    each, except those that `uses_all_cores` and do not `expects_warm_cache`, which take all `jobs`
    and so run alone. `run_all` and the QUICK test fixture both start notebooks in this order."""
    warm = {n for n in names if expects_warm_cache(n, mode)}
    wide = [n for n in names if uses_all_cores(n, mode, notebook_dir_) and n not in warm]
    return [Start(n, jobs if n in wide else 1, n in warm) for n in largest_first(names, mode, wide=wide)]


def default_jobs() -> int:
    """Cores the runner uses by default: all of them (one notebook per core, each kernel with one BLAS
    thread, or one notebook on all of them through its sweeps)."""
    return max(1, os.cpu_count() or 1)


class CorePool:
    """Run callables on `cores` cores, in the order submitted: a task takes `width` cores (1, or all of
    them for a notebook that `uses_all_cores`) and starts when that many are free; a task that must
    wait holds back the ones behind it, so a wide task is never starved by narrow ones. `submit`
    returns a `concurrent.futures.Future`."""

    def __init__(self, cores: int):
        if not isinstance(cores, int) or cores < 1:
            raise ValueError(f"cores must be a positive integer; got {cores!r}")
        self.cores = cores
        self._free = cores
        self._queue: list = []
        self._running: list[threading.Thread] = []
        self._closed = False
        self._cv = threading.Condition()
        self._dispatcher = threading.Thread(target=self._dispatch, name="CorePool", daemon=True)
        self._dispatcher.start()

    def submit(self, width: int, fn, *args, **kwargs) -> Future:
        future: Future = Future()
        with self._cv:
            if self._closed:
                raise RuntimeError("CorePool is shut down")
            self._queue.append((min(max(1, int(width)), self.cores), future, fn, args, kwargs))
            self._cv.notify_all()
        return future

    def _dispatch(self) -> None:
        while True:
            with self._cv:
                while (not self._queue and not self._closed) or (self._queue and self._queue[0][0] > self._free):
                    self._cv.wait()
                if not self._queue:
                    return
                width, future, fn, args, kwargs = self._queue.pop(0)
                if not future.set_running_or_notify_cancel():
                    continue
                self._free -= width
                worker = threading.Thread(target=self._run, args=(width, future, fn, args, kwargs), daemon=True)
                self._running.append(worker)
            worker.start()

    def _run(self, width, future, fn, args, kwargs) -> None:
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # the caller sees it through the future
            future.set_exception(exc)
        finally:
            with self._cv:
                self._free += width
                self._cv.notify_all()

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        with self._cv:
            self._closed = True
            if cancel_futures:
                for _, future, *_ in self._queue:
                    future.cancel()
                self._queue.clear()
            self._cv.notify_all()
        if wait:
            self._dispatcher.join()
            for worker in list(self._running):
                worker.join()


def run_all(names: Sequence[str], mode: str, *, seed: int = 0, jobs: int = 1, out_dir: Path | None = None,
            notebook_dir_: Path | None = None, cell_timeout: int | None = None,
            notebook_timeout: int | None = None, stream=sys.stdout) -> list[NotebookResult]:
    """Run notebooks on `jobs` cores (`CorePool`) in the order and widths of `schedule`: side by side,
    one core each, except those that `uses_all_cores` and do not `expects_warm_cache`, which run
    alone. One progress line per notebook; results in `names` order."""
    if jobs < 1:
        raise RunnerError(f"--jobs must be >= 1; got {jobs}")
    total = len(names)
    started = time.perf_counter()

    def one(i, name, cores, warm):
        alone = ", alone on every core" if cores > 1 else ""
        alone += ", warm cache expected" if warm else ""
        print(f"[{i}/{total}] {name}: running ({mode}{alone})", file=stream, flush=True)
        return run_notebook(name, mode, seed=seed, out_dir=out_dir, notebook_dir_=notebook_dir_,
                            cell_timeout=cell_timeout, notebook_timeout=notebook_timeout,
                            progress_bar=(jobs == 1), progress_stream=stream)

    results: dict[str, NotebookResult] = {}
    pool = CorePool(jobs)
    futures = [pool.submit(start.cores, one, i, *start) for i, start in enumerate(schedule(names, mode, jobs, notebook_dir_), 1)]
    try:
        for future in as_completed(futures):
            res = future.result()
            results[res.notebook] = res
            print(_progress_line(res, time.perf_counter() - started), file=stream, flush=True)
    except BaseException:  # Ctrl-C / SIGTERM lands here, not in the pool threads that wait on workers
        pool.shutdown(wait=False, cancel_futures=True)
        _stop_workers()
        raise
    pool.shutdown()
    return [results[n] for n in names]


def _kinds_text(res: NotebookResult) -> str:
    k = res.kind_counts()
    r, c = k["result"], k["check"]
    return (f"results {r['pass']} pass / {r['fail']} fail / {r['info']} info, "
            f"checks {c['pass']} pass / {c['fail']} fail")


def _progress_line(res: NotebookResult, elapsed: float) -> str:
    line = (f"{'✓' if res.ok else '✗'} {res.notebook}: {res.status} in {res.wall_s:.1f} s — "
            f"{len(res.claims)} records: {_kinds_text(res)} [total elapsed {elapsed:.0f} s]")
    if res.error:
        line += f"\n    error in cell {res.error.get('cell_index')}: {res.error.get('ename')}: {res.error.get('evalue')}"
    return line


# ---------------------------------------------------------------------------------------------
# Reports


def _fmt(x: Any) -> str:
    if x is None:
        return ""
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, float):
        return f"{x:.4g}"
    if isinstance(x, list):
        return "[" + ", ".join("−∞" if v is None and i == 0 else "∞" if v is None else _fmt(v)
                               for i, v in enumerate(x)) + "]"
    return str(x)


def _tolerance(c: dict[str, Any]) -> str:
    if c.get("within") is not None:
        return f"within {_fmt(c['within'])}"
    parts = []
    if c.get("rel") is not None:
        parts.append(f"rel {c['rel']:.3g}")
    if c.get("abs") is not None:
        parts.append(f"abs {c['abs']:.3g}")
    if not parts and c.get("expected") is not None:
        return "exact"
    return ", ".join(parts)


_MARK = {"pass": "✓", "fail": "✗", "info": "·"}
COVERAGE_RULE = ("Only *results* count (a result tests a statement of the paper, or our stated reading of it, against an "
                 "independent expectation); *checks* (identities, consistency and implementation checks) never do. "
                 "A claim is **reproduced** when every result that supports it passes, **partly** when some pass and "
                 "some fail, **not reproduced** when every one fails, and **not tested** when no checked result "
                 "supports it.")


def _md_escape(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def coverage_table(results: Sequence[NotebookResult], stale: dict[str, bool] | None = None) -> list[str]:
    """One coverage table for all notebooks: notebook, claim, statement, source, status, results behind it."""
    stale = stale or {}
    lines = ["| notebook | claim | statement | source | status | results behind it (✗ fail, ✓ pass) |",
             "|---|---|---|---|---|---|"]
    for r in results:
        if not r.paper_claims:
            lines.append(f"| {r.notebook} | — | _no paper claims declared in this record_ | | | |")
            continue
        label = f"{r.notebook} **(stale)**" if stale.get(r.notebook) else r.notebook
        for row in r.coverage():
            lines.append(f"| {label} | {row['id']} | {_md_escape(row['statement'])} | {row['source']} | "
                         f"{COVERAGE_MARK[row['status']]} | {coverage_cell(row)} |")
    return lines


def _cache_cell(prov: dict[str, Any]) -> str:
    """'hits of lookups' from a provenance record (lookups that re-read a result of the same run count as lookups,
    not hits: `count_cache_events`); empty when it was not recorded."""
    hits = prov.get("cache_hits")
    return "" if hits is None else f"{hits} of {hits + prov.get('cache_misses', 0) + prov.get('cache_reuse', 0)}"


def coverage_counts(rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    """How many coverage rows are in each status (`COVERAGE_MARK` order)."""
    return {status: sum(row["status"] == status for row in rows) for status in COVERAGE_MARK}


def coverage_per_paper(results: Sequence[NotebookResult], stale: dict[str, bool] | None = None) -> list[str]:
    """One line per notebook: its paper and how many of its claims are reproduced, partly, not, untested."""
    stale = stale or {}
    lines = ["| notebook | paper | claims | ✓ reproduced | ◐ partly | ✗ not reproduced | ○ not tested |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for r in results:
        rows = r.coverage()
        n = coverage_counts(rows)
        label = f"{r.notebook} **(stale)**" if stale.get(r.notebook) else r.notebook
        paper = _md_escape(r.paper_claims["paper"]) if r.paper_claims else "_none declared_"
        lines.append(f"| {label} | {paper} | {len(rows)} | {n['reproduced']} | {n['partly']} | "
                     f"{n['not reproduced']} | {n['not tested']} |")
    return lines


def coverage_summary(results: Sequence[NotebookResult]) -> str:
    rows = [row for r in results for row in r.coverage()]
    n = coverage_counts(rows)
    return (f"{len(rows)} paper claims: {n['reproduced']} reproduced, {n['partly']} partly, "
            f"{n['not reproduced']} not reproduced, {n['not tested']} not tested")


def scorecard_markdown(results: Sequence[NotebookResult], title: str = "Claims scorecard", *,
                       intro: Sequence[str] = (), runs: Sequence[str] = (), stale: dict[str, bool] | None = None) -> str:
    """The Markdown scorecard: the paper-claim coverage of every notebook first, then `runs` (extra
    lines, e.g. the provenance of FULL runs), a summary table (results and checks apart), and one
    table of records per notebook."""
    lines = [f"# {title}", "", *intro, "## Paper claims: coverage", "", COVERAGE_RULE, "",
             coverage_summary(results) + ".", ""]
    lines += coverage_per_paper(results, stale) + [""] + coverage_table(results, stale)
    lines += ["", *runs, "## Notebooks", "",
              "| notebook | status | wall (s) | peak RSS (MB) | results ✓ | results ✗ | results · | checks ✓ | checks ✗ | from cache |",
              "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        k = r.kind_counts()
        rss = f"{r.peak_rss_mb:.0f}" if r.peak_rss_mb else ""
        cache = _cache_cell(r.provenance or {})
        lines.append(f"| {r.notebook} | {'✓' if r.ok else '✗'} {r.status} | {r.wall_s:.1f} | {rss} | "
                     f"{k['result']['pass']} | {k['result']['fail']} | {k['result']['info']} | "
                     f"{k['check']['pass']} | {k['check']['fail']} | {cache} |")
    for r in results:
        lines += ["", f"### {r.notebook}", ""]
        if r.error:
            lines += [f"**{r.status}** in cell {r.error.get('cell_index')}: `{r.error.get('ename')}`: "
                      f"{_md_escape(r.error.get('evalue', ''))}", ""]
        if not r.claims:
            lines.append("_no claims recorded_")
            continue
        lines += ["| | kind | key | supports | measured | expected | tolerance | source | note |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for c in r.claims:
            lines.append(f"| {_MARK.get(c.get('status'), '?')} | {c.get('kind', '?')} | `{c['key']}` | "
                         f"{', '.join(c.get('supports') or [])} | {_fmt(c.get('measured'))} | "
                         f"{_fmt(c.get('expected'))} | {_tolerance(c)} | {c.get('source', '')} | "
                         f"{_md_escape(c.get('note', ''))} |")
    return "\n".join(lines) + "\n"


def scorecard_text(results: Sequence[NotebookResult]) -> str:
    """The scorecard as printed on the terminal: every record, the coverage, then the totals."""
    out = []
    for r in results:
        out.append(f"\n{r.notebook} — {r.status}, {r.wall_s:.1f} s, {_kinds_text(r)}")
        if r.error:
            out.append(f"  {r.status} in cell {r.error.get('cell_index')}: {r.error.get('ename')}: {r.error.get('evalue')}")
        width = max((len(x["key"]) for x in r.claims), default=10)
        for x in r.claims:
            exp = _fmt(x.get("expected")) if x.get("expected") is not None else ""
            tol = _tolerance(x)
            kind = "check " if x.get("kind") == "check" else "result"
            out.append(f"  {_MARK.get(x.get('status'), '?')} {kind} {x['key']:<{width}}  {_fmt(x.get('measured')):>10}  "
                       f"{exp:>10}  {tol:<18} {x.get('source', '')}  {','.join(x.get('supports') or [])}")
        for row in r.coverage():
            out.append(f"  {row['id']:<5} {COVERAGE_MARK[row['status']]:<18} {row['statement']}")
    n_claims = sum(len(r.claims) for r in results)
    n_fail = sum(r.n_fail for r in results)
    n_bad = sum(r.status != "ok" for r in results)
    kinds = count_kinds([c for r in results for c in r.claims])
    out.append(f"\n{len(results)} notebooks ({n_bad} failed), {n_claims} records ({n_fail} failed): "
               f"results {kinds['result']['pass']} pass / {kinds['result']['fail']} fail, "
               f"checks {kinds['check']['pass']} pass / {kinds['check']['fail']} fail; {coverage_summary(results)}")
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# Provenance

# Untracked files here change what a notebook computes: they make the tree dirty like a modification.
SOURCE_DIRS = ("analysis_lib", "notebooks")


def git_state(root: Path | None = None) -> dict[str, Any]:
    """{"commit": short sha or "unknown", "dirty": bool, "dirty_files": [...]}: modified tracked files
    anywhere, and untracked files under `SOURCE_DIRS` (ignored files do not count)."""
    root = root or repo_root()

    def git(*args):
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=20).stdout

    try:
        sha = git("rev-parse", "--short", "HEAD").strip()
        changed = [line[3:] for line in git("status", "--porcelain", "--untracked-files=no").splitlines() if line]
        untracked = [line for line in git("ls-files", "--others", "--exclude-standard", "--", *SOURCE_DIRS).splitlines()
                     if line]
    except (OSError, subprocess.SubprocessError):
        return {"commit": "unknown", "dirty": True, "dirty_files": ["(git not available)"]}
    if not sha:
        return {"commit": "unknown", "dirty": True, "dirty_files": ["(not a git checkout)"]}
    files = sorted(set(changed) | {f"{f} (untracked)" for f in untracked})
    return {"commit": sha, "dirty": bool(files), "dirty_files": files}


def _git_commit() -> str:
    state = git_state()
    return state["commit"] + ("+dirty" if state["dirty"] else "")


def _machine() -> str:
    device = "cpu"
    try:
        import torch

        if torch.cuda.is_available():
            device = torch.cuda.get_device_name(0)
    except ImportError:
        pass
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, device {device}"


def staleness(record: dict[str, Any], root: Path | None = None) -> tuple[bool, list[str]]:
    """(stale?, reasons) of a recorded run against the files as they are now: the notebook's cells,
    and every code file the run imported. A record without fingerprints is stale (it cannot be
    shown to be current)."""
    root = root or repo_root()
    prov = record.get("provenance") or {}
    recorded_files = prov.get("code_files")
    if not prov.get("notebook_fingerprint") or not recorded_files:
        return True, ["no fingerprints recorded (the run predates provenance records)"]
    reasons = []
    nb_path = root / "notebooks" / f"{record['notebook']}.ipynb"
    if not nb_path.exists():
        reasons.append("the notebook no longer exists")
    elif notebook_fingerprint(nb_path) != prov["notebook_fingerprint"]:
        reasons.append("the notebook changed")
    now = file_hashes(list(recorded_files), root)
    changed = [f for f, h in recorded_files.items() if now.get(f) != h]
    if changed:
        shown = ", ".join(changed[:4]) + (f" and {len(changed) - 4} more" if len(changed) > 4 else "")
        reasons.append(f"code changed: {shown}")
    return bool(reasons), reasons


def write_reports(results: Sequence[NotebookResult], out_dir: Path, mode: str, seed: int,
                  git_commit: str | dict[str, Any] | None = None, run_wall_s: float | None = None,
                  jobs: int | None = None) -> dict[str, Path]:
    """claims.json, claims.md and timings.csv in `out_dir`; in FULL also REPRODUCTION.md.
    `git_commit`: the code's version, taken before the run (the run itself rewrites tracked figures,
    which would mark the tree dirty if read now): a `git_state()` dict or a commit string; default:
    read now. `run_wall_s`: wall seconds of the whole run (notebooks side by side), written as the
    last row of timings.csv ("(all)") and into claims.json."""
    out_dir.mkdir(parents=True, exist_ok=True)
    state = git_commit if isinstance(git_commit, dict) else (
        {"commit": git_commit, "dirty": git_commit.endswith("+dirty"), "dirty_files": []} if git_commit else git_state())
    commit = state["commit"].removesuffix("+dirty")
    stamp = {"mode": mode, "seed": seed, "generated": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
             "git_commit": commit, "dirty": state["dirty"], "dirty_files": state["dirty_files"], "machine": _machine()}
    payload = dict(stamp, run_wall_s=run_wall_s, jobs=jobs, notebooks={r.notebook: _record(r) for r in results})
    paths = {"claims.json": out_dir / "claims.json", "claims.md": out_dir / "claims.md",
             "timings.csv": out_dir / "timings.csv"}
    paths["claims.json"].write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")
    paths["claims.md"].write_text(scorecard_markdown(results, f"Claims scorecard ({mode.upper()})"), encoding="utf-8")
    with paths["timings.csv"].open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["notebook", "mode", "status", "wall_s", "cpu_s", "peak_rss_mb", "n_claims", "n_pass", "n_fail",
                    "n_info"])
        for r in results:
            c = r.counts()
            w.writerow([r.notebook, mode, r.status, f"{r.wall_s:.1f}", f"{r.cpu_s:.1f}" if r.cpu_s is not None else "",
                        f"{r.peak_rss_mb:.0f}" if r.peak_rss_mb else "", len(r.claims), c["pass"], c["fail"], c["info"]])
        if run_wall_s is not None:
            cpu = [r.cpu_s for r in results if r.cpu_s is not None]
            w.writerow(["(all)", mode, "ok" if all(r.ok for r in results) else "failed", f"{run_wall_s:.1f}",
                        f"{sum(cpu):.1f}" if cpu else "", "", sum(len(r.claims) for r in results),
                        sum(r.counts()["pass"] for r in results), sum(r.n_fail for r in results),
                        sum(r.counts()["info"] for r in results)])
    if mode == "full":
        for r in results:
            folder = repo_root() / "figures" / r.notebook
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / "claims.json"
            previous = json.loads(path.read_text(encoding="utf-8")).get("costs", []) if path.exists() else []
            record = dict(stamp, **_record(r))
            record["costs"] = merged_costs(previous, cost_entry(record))
            path.write_text(json.dumps(record, indent=2, ensure_ascii=False), encoding="utf-8")
        records = committed_records()  # read once for both generated files
        paths["REPRODUCTION.md"] = write_reproduction_md(records)
        paths["README.md"] = write_readme_generated(records=records)
    return paths


# ---------------------------------------------------------------------------------------------
# FULL costs: one entry per (cache state, machine) kept in each notebook's record across runs


def count_cache_events(lines: Sequence[str]) -> dict[str, int]:
    """Cache use of one run from its cache log (`_cache._log`: one line `hit|miss <fn> <digest>` per lookup, from the
    kernel and its sweep workers): `cache_misses` (computed and stored), `cache_hits` (read from an entry that was
    there before the run) and `cache_reuse` (read from an entry this same run stored: a result asked for twice, or
    by two workers). The reuse is not a cache read in the sense of `cache_state`: a run from an empty cache that
    asks for one result twice is still a run from an empty cache (such runs of 04 and 05 were listed as 'partial
    cache' before this split)."""
    events = [line.split() for line in lines if line.strip()]
    stored = {tuple(e[1:]) for e in events if e[0] == "miss"}
    hits = [tuple(e[1:]) for e in events if e[0] == "hit"]
    reuse = sum(h in stored for h in hits)
    return {"cache_hits": len(hits) - reuse, "cache_misses": sum(e[0] == "miss" for e in events), "cache_reuse": reuse}


def cache_state(prov: dict[str, Any]) -> str:
    """'empty cache' (nothing was read from cache), 'warm cache' (nothing had to be computed),
    'partial cache', 'no cache used', or 'unknown' for records made before cache use was counted."""
    hits, misses = prov.get("cache_hits"), prov.get("cache_misses")
    if hits is None:
        return "unknown"
    if hits == 0:
        return "empty cache" if misses else "no cache used"
    return "warm cache" if misses == 0 else "partial cache"


def cost_entry(record: dict[str, Any]) -> dict[str, Any]:
    """What one FULL run cost: wall and CPU seconds, the cache state, machine, device, commit, date."""
    prov = record.get("provenance") or {}
    return {"cache": cache_state(prov), "wall_s": record.get("wall_s"), "cpu_s": record.get("cpu_s"),
            "machine": record.get("machine", ""), "device": prov.get("device") or "", "commit": record.get("git_commit"),
            "generated": record.get("generated"), "cache_hits": prov.get("cache_hits"),
            "cache_misses": prov.get("cache_misses")}


def merged_costs(previous: Sequence[dict[str, Any]], new: dict[str, Any]) -> list[dict[str, Any]]:
    """`previous` cost entries with `new` replacing the one of the same cache state and machine."""
    same = lambda e: (e.get("cache"), e.get("machine"), e.get("device")) == (new["cache"], new["machine"], new["device"])
    return [e for e in previous if not same(e)] + [new]


def _seconds(x: float | None) -> str:
    if x is None:
        return "—"
    return f"{x / 60:.1f} min" if x >= 120 else f"{x:.0f} s"


def costs_table(records: Sequence[tuple[dict[str, Any], NotebookResult]] | None = None) -> list[str]:
    """The FULL cost table (Markdown) from the committed records: one row per notebook and cache state."""
    records = committed_records() if records is None else records
    lines = ["| notebook | cache | wall | CPU | machine | run |", "|---|---|---:|---:|---|---|"]
    for rec, r in records:
        entries = rec.get("costs") or [cost_entry(rec)]
        order = ("empty cache", "no cache used", "partial cache", "warm cache", "unknown")
        for e in sorted(entries, key=lambda e: order.index(e["cache"])):
            lines.append(f"| {r.notebook} | {e['cache']} | {_seconds(e['wall_s'])} | {_seconds(e.get('cpu_s'))} | "
                         f"{_md_escape(e['machine'])} | {e['commit']}, {str(e['generated'])[:10]} |")
    return lines


# ---------------------------------------------------------------------------------------------
# Gallery: each paper's headline figure with the status of the claims it shows


def headline_status(rows: Sequence[dict[str, Any]], ids: Sequence[str]) -> str:
    """The gallery status of a headline from the coverage of its claims: 'reproduced' when every one
    is, 'not reproduced' when none is reproduced and at least one was tested, 'not tested' when none
    was tested, else 'partly'."""
    states = [row["status"] for row in rows if row["id"] in ids]
    if states and all(s == "reproduced" for s in states):
        return "reproduced"
    if states and all(s == "not tested" for s in states):
        return "not tested"
    if states and all(s in ("not reproduced", "not tested") for s in states):
        return "not reproduced"
    return "partly"


def gallery_entries(records: Sequence[tuple[dict[str, Any], NotebookResult]] | None = None,
                    root: Path | None = None) -> list[dict[str, Any]]:
    """One entry per committed FULL record that declares a headline figure which exists:
    {notebook, paper, figure (path relative to the root), caption, claims, status, stale}."""
    root = root or repo_root()
    records = committed_records(root) if records is None else records
    out = []
    for rec, r in records:
        head = (r.paper_claims or {}).get("headline")
        if not head:
            continue
        figure = root / "figures" / r.notebook / f"{head['figure']}.png"
        if not figure.exists():
            continue
        out.append({"notebook": r.notebook, "paper": r.paper_claims["paper"], "figure": figure.relative_to(root).as_posix(),
                    "caption": head["caption"], "claims": head["claims"],
                    "status": headline_status(r.coverage(), head["claims"]), "stale": staleness(rec, root)[0]})
    return out


def gallery_markdown(entries: Sequence[dict[str, Any]]) -> list[str]:
    """The README gallery: a table of headline figures, captions and statuses."""
    lines = ["| | the paper's main claim, as our FULL run shows it |", "|---|---|"]
    for e in entries:
        status = COVERAGE_MARK[e["status"]] + (" (stale: re-run pending)" if e["stale"] else "")
        lines.append(f'| <img src="{e["figure"]}" width="430" alt="{_md_escape(e["caption"])}"> | '
                     f'**{e["notebook"]}** — {_md_escape(e["paper"])}<br>{_md_escape(e["caption"])}<br>'
                     f'{status} ({", ".join(e["claims"])}; see [REPRODUCTION.md](REPRODUCTION.md)) |')
    return lines


def figure_links(root: Path | None = None) -> list[str]:
    """Every committed FULL figure, linked, per notebook (for REPRODUCTION.md)."""
    root = root or repo_root()
    lines = []
    for folder in sorted(p for p in (root / "figures").glob("*") if p.is_dir()):
        pngs = sorted(folder.glob("*.png"))
        if pngs:
            links = ", ".join(f"[{p.stem}]({p.relative_to(root).as_posix()})" for p in pngs)
            lines.append(f"- **{folder.name}**: {links}")
    return lines


README_GALLERY_BEGIN = "<!-- gallery: generated by python -m analysis_lib.reproduce from figures/*/claims.json -->"
README_GALLERY_END = "<!-- end gallery -->"
README_COSTS_BEGIN = "<!-- full-costs: generated by python -m analysis_lib.reproduce from figures/*/claims.json -->"
README_COSTS_END = "<!-- end full-costs -->"


def _replace_between(text: str, begin: str, end: str, lines: Sequence[str]) -> str:
    if begin not in text or end not in text:
        return text  # a README without the markers is left alone
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    return head + begin + "\n" + "\n".join(lines) + "\n" + end + tail


def write_readme_generated(readme: Path | None = None,
                           records: Sequence[tuple[dict[str, Any], NotebookResult]] | None = None) -> Path:
    """Rewrite the README's generated parts from the committed FULL records (`records`, default: read
    them): the gallery and the FULL cost table (each between its markers)."""
    readme = readme or repo_root() / "README.md"
    if not readme.exists():
        return readme
    records = committed_records() if records is None else records
    text = readme.read_text(encoding="utf-8")
    text = _replace_between(text, README_GALLERY_BEGIN, README_GALLERY_END, gallery_markdown(gallery_entries(records)))
    readme.write_text(_replace_between(text, README_COSTS_BEGIN, README_COSTS_END, costs_table(records)),
                      encoding="utf-8")
    return readme


def _record(r: NotebookResult) -> dict[str, Any]:
    d = asdict(r)
    for k in ("executed_path", "html_path"):  # machine-local paths do not belong in committed records
        d.pop(k)
    return d


def committed_records(root: Path | None = None) -> list[tuple[dict[str, Any], NotebookResult]]:
    """Every committed FULL record (`figures/<notebook>/claims.json`), in notebook order."""
    root = root or repo_root()
    out = []
    for path in sorted((root / "figures").glob("*/claims.json")):
        rec = json.loads(path.read_text(encoding="utf-8"))
        out.append((rec, NotebookResult.from_record(rec)))
    return out


def _commit_cell(rec: dict[str, Any]) -> str:
    commit = str(rec.get("git_commit", "unknown")).removesuffix("+dirty")
    if "dirty" in rec:  # recorded by a runner that refuses a dirty FULL tree unless ALLOW_DIRTY
        return f"{commit} **dirty** (ALLOW_DIRTY)" if rec["dirty"] else commit
    return f"{commit} **dirty**" if str(rec.get("git_commit", "")).endswith("+dirty") else commit


def write_reproduction_md(records: Sequence[tuple[dict[str, Any], NotebookResult]] | None = None) -> Path:
    """Rebuild REPRODUCTION.md from every committed `figures/<notebook>/claims.json`: the coverage
    matrix of all papers first, then the runs (provenance, current or stale), then every record."""
    root = repo_root()
    records = committed_records(root) if records is None else records
    stale = {r.notebook: staleness(rec, root) for rec, r in records}
    intro = ["Rebuilt by `make reproduce MODE=full` from `figures/<notebook>/claims.json`; each notebook's",
             "section comes from its own latest FULL run. A notebook marked **stale** has changed (its cells or the",
             "code it imports) since that run: its rows describe older code. `make status`",
             "(`python -m analysis_lib.reproduce --status`) recomputes this.", ""]
    runs = ["## Runs", "",
            "| notebook | run (UTC) | commit | current? | results ✓/✗/· | checks ✓/✗ | from cache | wall (s) | device | versions |",
            "|---|---|---|---|---|---|---|---:|---|---|"]
    for rec, r in records:
        k = r.kind_counts()
        prov = r.provenance or {}
        is_stale, why = stale[r.notebook]
        versions = ", ".join(f"{n} {v}" for n, v in (prov.get("versions") or {}).items())
        state = ("**stale**: " + "; ".join(why)) if is_stale else "current"
        if rec.get("relabelled"):
            state += f"; {rec['relabelled']}"
        runs.append(f"| {r.notebook} | {rec.get('generated', '')} | {_commit_cell(rec)} | {_md_escape(state)} | "
                    f"{k['result']['pass']}/{k['result']['fail']}/{k['result']['info']} | "
                    f"{k['check']['pass']}/{k['check']['fail']} | {_cache_cell(prov)} | "
                    f"{r.wall_s:.0f} | {prov.get('device') or ''} | {versions} |")
    runs += ["", "## FULL costs", "",
             "Wall and CPU time of the FULL runs recorded for each notebook, by cache state (empty: everything",
             "computed; warm: everything read from `reports/cache/`).", ""] + costs_table(records) + [""]
    runs += ["## Figures", ""] + figure_links(root) + [""]
    text = (scorecard_markdown([r for _, r in records], "Reproduction scorecard (FULL runs)", intro=intro, runs=runs,
                               stale={n: v[0] for n, v in stale.items()})
            if records else "# Reproduction scorecard (FULL runs)\n\n_no FULL run recorded yet_\n")
    target = root / "REPRODUCTION.md"
    target.write_text(text, encoding="utf-8")
    return target


def status_lines(root: Path | None = None) -> list[str]:
    """`--status`: per notebook, its last FULL run (commit, date), current or stale, results and checks."""
    root = root or repo_root()
    records = {r.notebook: (rec, r) for rec, r in committed_records(root)}
    lines = []
    for name in available_notebooks(root / "notebooks"):
        if name not in records:
            lines.append(f"{name}: no FULL run recorded")
            continue
        rec, r = records[name]
        is_stale, why = staleness(rec, root)
        k = r.kind_counts()
        state = ("stale (" + "; ".join(why) + ")") if is_stale else "current"
        lines.append(f"{name}: FULL {_commit_cell(rec).replace('**', '')} on {rec.get('generated', '?')} — {state} — "
                     f"results {k['result']['pass']} pass / {k['result']['fail']} fail / {k['result']['info']} info, "
                     f"checks {k['check']['pass']} pass / {k['check']['fail']} fail")
    return lines


# ---------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m analysis_lib.reproduce",
                                description="Re-execute the notebooks with papermill and print the claims scorecard.")
    p.add_argument("--mode", default="quick", choices=MODES, help="quick (CI scale, default) or full (paper scale)")
    p.add_argument("--only", nargs="+", metavar="NAME", help="notebook stems (or unique prefixes) to run; default all")
    p.add_argument("--jobs", type=int, default=None,
                   help=f"cores to use: notebooks side by side, one core each, longest first; one that declares sweeps on "
                        f"every core runs alone (default: all cores, here {default_jobs()})")
    p.add_argument("--seed", type=int, default=0, help="SEED parameter passed to every notebook (default 0)")
    p.add_argument("--timeout", type=int, default=None,
                   help="per-notebook timeout in seconds (default 1200 quick, 28800 full)")
    p.add_argument("--cell-timeout", type=int, default=None,
                   help="per-cell timeout in seconds (default 600 quick, 14400 full)")
    p.add_argument("--out", type=Path, default=None, help="output folder (default reports/<mode>)")
    p.add_argument("--dask", metavar="ADDRESS", default=None,
                   help="run every al.sweep of the notebooks on this Dask scheduler (e.g. tcp://host:8786); "
                        "also DASK_SCHEDULER=... for make")
    p.add_argument("--allow-dirty", action="store_true",
                   help="FULL on a tree with uncommitted or untracked source files (also ALLOW_DIRTY=1); the row says so")
    p.add_argument("--status", action="store_true",
                   help="print each notebook's last FULL run, current or stale against the code now; runs nothing")
    p.add_argument("--notebook-dir", type=Path, default=None, help=argparse.SUPPRESS)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--worker"]:
        return _worker_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.status:
        print("\n".join(status_lines()))
        return 0
    # SIGTERM (e.g. `kill`) unwinds like Ctrl-C, so running workers and kernels are stopped with us.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        names = resolve_names(args.only, args.notebook_dir)
        args.jobs = default_jobs() if args.jobs is None else args.jobs
        if args.jobs < 1:
            raise RunnerError(f"--jobs must be >= 1; got {args.jobs}")
        for opt in ("timeout", "cell_timeout"):
            if getattr(args, opt) is not None and getattr(args, opt) < 1:
                raise RunnerError(f"--{opt.replace('_', '-')} must be >= 1 second; got {getattr(args, opt)}")
    except RunnerError as exc:
        parser.error(str(exc))  # exits with status 2 and the usage line
    state = git_state()  # before the notebooks rewrite tracked figures
    allow_dirty = args.allow_dirty or os.environ.get("ALLOW_DIRTY", "") not in ("", "0")
    if args.mode == "full" and state["dirty"] and not allow_dirty:
        files = "\n  ".join(state["dirty_files"][:20])
        print(f"refusing a FULL run on a dirty tree (commit {state['commit']}): a FULL row must come from a clean "
              f"commit.\nChanged or untracked source files:\n  {files}\nCommit them (or stash them), or run with "
              "ALLOW_DIRTY=1 (make reproduce MODE=full ALLOW_DIRTY=1) and the row will say it ran dirty.",
              file=sys.stderr)
        return 2
    out_dir = args.out or repo_root() / "reports" / args.mode
    if args.dask:
        os.environ[DASK_ENV] = args.dask  # the kernels inherit it: their sweeps go to the cluster
        print(f"sweeps run on the Dask cluster at {args.dask}", file=sys.stdout, flush=True)
    t0 = time.perf_counter()
    results = run_all(names, args.mode, seed=args.seed, jobs=args.jobs, out_dir=out_dir,
                      notebook_dir_=args.notebook_dir, cell_timeout=args.cell_timeout,
                      notebook_timeout=args.timeout)
    paths = write_reports(results, out_dir, args.mode, args.seed, git_commit=state,
                          run_wall_s=time.perf_counter() - t0, jobs=args.jobs)
    print(scorecard_text(results))
    print("wrote " + ", ".join(str(p) for p in paths.values()))
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
