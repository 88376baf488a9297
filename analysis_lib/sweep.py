"""`sweep(fn, grid)`: map a function over a parameter grid with any `concurrent.futures.Executor`.

Results come back in grid order whatever order the workers finish in. The default executor is
a pool of local processes with one BLAS/torch thread each (small dense linear algebra is
faster single-threaded; the cores are used by running points side by side). Any executor
with `submit` works unchanged: a `ThreadPoolExecutor`, a `ProcessPoolExecutor`, or a Dask
cluster's `distributed.Client(...).get_executor()` for FULL sweeps on many machines.

With `ANALYSIS_LIB_DASK=tcp://host:8786` in the environment (the runner's `--dask ADDRESS`, `make
reproduce DASK_SCHEDULER=...`), the default executor is that Dask cluster's instead of local
processes, so every sweep of a notebook (and every training pool built on `sweep`) runs there.

With `cache_dir`, every point is cached on its own as soon as it finishes (`_cache.cached_call`:
keyed by the function, the point's parameters and the code's fingerprint), so an interrupted
sweep resumes and a changed point or changed code is recomputed.
"""
from __future__ import annotations

import itertools
import multiprocessing as mp
import os
import sys
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from typing import Any, Callable, Iterable, Mapping, Sequence


def grid_product(**axes: Sequence[Any]) -> list[dict[str, Any]]:
    """Cartesian product of named axes as a list of keyword dicts, last axis fastest.

    `grid_product(g=[1, 2], seed=[0, 1])` → `[{g:1, seed:0}, {g:1, seed:1}, {g:2, seed:0}, ...]`.
    """
    for name, values in axes.items():
        if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
            raise ValueError(f"grid axis {name!r} must be a sequence of values; got {values!r}")
    names = list(axes)
    return [dict(zip(names, combo)) for combo in itertools.product(*(list(axes[n]) for n in names))]


def _exit_with_parent() -> None:
    """Linux: have the kernel send SIGTERM to this worker when its parent dies. Without it, workers
    of a killed notebook kernel (Ctrl-C on `make reproduce`, a stopped run) keep computing their
    job as orphans. A no-op elsewhere."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        import signal

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:  # no libc by that name (e.g. musl): workers then outlive a killed parent
        pass


def _single_thread_worker() -> None:
    from .notebook import limit_threads

    _exit_with_parent()
    limit_threads(1)


def _call(fn: Callable[..., Any], point: Any) -> Any:
    return fn(**point) if isinstance(point, Mapping) else fn(point)


def _call_cached(fn: Callable[..., Any], point: Mapping[str, Any], cache_dir) -> Any:
    from ._cache import cached_call

    return cached_call(fn, point, cache_dir=cache_dir)


def default_executor(max_workers: int | None = None) -> ProcessPoolExecutor:
    """Local processes, one BLAS/torch thread each.

    Fork (on Linux) lets functions defined in a notebook be used; elsewhere the platform
    default applies and `fn` must be importable.
    """
    workers = max_workers or os.cpu_count() or 1
    method = "fork" if "fork" in mp.get_all_start_methods() else None
    ctx = mp.get_context(method) if method else None
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_single_thread_worker)


DASK_ENV = "ANALYSIS_LIB_DASK"
_dask_clients: dict[str, Any] = {}


def dask_executor(address: str) -> Executor:
    """The `concurrent.futures` executor of the Dask scheduler at `address` (one client per process)."""
    try:
        from distributed import Client
    except ImportError as exc:  # the dev extra installs it
        raise RuntimeError(f"{DASK_ENV}={address} needs the 'distributed' package (pip install 'dask[distributed]')") from exc
    if address not in _dask_clients:
        try:
            _dask_clients[address] = Client(address, timeout=30)
        except OSError as exc:
            raise RuntimeError(f"cannot reach the Dask scheduler {DASK_ENV}={address!r}: {exc}") from exc
    return _dask_clients[address].get_executor()


def where_sweeps_run() -> str:
    """A readable line saying which executor a sweep with `executor=None` uses here."""
    address = os.environ.get(DASK_ENV)
    return f"Dask cluster at {address}" if address else f"local processes ({os.cpu_count() or 1} cores)"


def sweep(fn: Callable[..., Any], grid: Iterable[Any] | Mapping[str, Sequence[Any]], executor: Executor | str | None = None,
          progress: bool = True, *, max_workers: int | None = None, desc: str | None = None,
          cache_dir: str | os.PathLike | None = None) -> list[Any]:
    """`[fn(**p) if p is a dict else fn(p) for p in grid]`, evaluated in parallel.

    `grid`: a sequence of points, or a dict of axes expanded by `grid_product`.
    `executor`: None (local processes, or the Dask cluster named by `ANALYSIS_LIB_DASK`), `"serial"`
    (in this process, for debugging), or any `concurrent.futures.Executor`; one passed in is not
    shut down here.
    `cache_dir`: cache each point's result there (points must be keyword dicts and `fn` a
    function of an importable module, whose code the cache key fingerprints); None: no cache.
    """
    points = grid_product(**grid) if isinstance(grid, Mapping) else list(grid)
    call: Callable[..., Any] = _call
    if cache_dir is not None:
        if not all(isinstance(point, Mapping) for point in points):
            raise ValueError("sweep(..., cache_dir=...) needs every point to be a dict of keyword arguments")
        if getattr(fn, "__module__", "__main__") == "__main__":
            raise ValueError("sweep(..., cache_dir=...) needs a function from an importable module (its source is part of "
                             "the cache key); a function defined in a notebook cannot be fingerprinted")
        import functools

        call = functools.partial(_call_cached, cache_dir=cache_dir)
    if max_workers is not None and (not isinstance(max_workers, int) or max_workers < 1):
        raise ValueError(f"max_workers must be a positive integer; got {max_workers!r}")
    if isinstance(executor, str) and executor != "serial":
        raise ValueError(f"executor must be None, 'serial' or a concurrent.futures.Executor; got {executor!r}")
    if executor is not None and not isinstance(executor, str) and not hasattr(executor, "submit"):
        raise ValueError(f"executor must have a submit() method like concurrent.futures.Executor; got {type(executor).__name__}")
    bar = _progress(len(points), desc or getattr(fn, "__name__", "sweep"), enabled=progress)
    try:
        if executor == "serial" or not points:
            results = []
            for point in points:
                results.append(call(fn, point))
                bar.update(1)
            return results
        if executor is None and os.environ.get(DASK_ENV):
            executor = dask_executor(os.environ[DASK_ENV])  # the cluster's, not ours to shut down
        own = executor is None
        pool = default_executor(max_workers) if own else executor
        try:
            futures = {pool.submit(call, fn, point): i for i, point in enumerate(points)}
            results: list[Any] = [None] * len(points)
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                bar.update(1)
            return results
        finally:
            if own:
                pool.shutdown(wait=True, cancel_futures=True)
    finally:
        bar.close()


def _progress(total: int, desc: str, enabled: bool):
    from .progress import tqdm

    return tqdm(total=total, desc=desc, disable=not enabled, leave=False)
