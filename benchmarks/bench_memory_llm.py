"""Benchmarks of the narrative-memory LLM pipeline (issue 8).

Targets (each timed against its baseline in the same run):
- llm_cache_hit: scoring recalls from the disk cache vs the same requests sent through the `openai`
  client to a local OpenAI-compatible server (the deterministic FakeLLM on 127.0.0.1, so the
  baseline is pure client/HTTP overhead — a real LLM is orders of magnitude slower still).
- llm_concurrency: batch scoring against a server that takes 50 ms per answer, concurrency 4 vs 1.

Usage: .venv/bin/python benchmarks/bench_memory_llm.py [--quick]; exits 1 if any target fails.
Timings on a shared 2-core machine are noisy (≈2x); thresholds leave room for that.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

from pathlib import Path  # noqa: E402

from analysis_lib.memory import llm  # noqa: E402
from analysis_lib.memory import pipeline as PL  # noqa: E402

# the fault-injecting OpenAI-compatible server is test infrastructure: it lives under tests/
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from memory_fakes import FakeOpenAIServer  # noqa: E402

RESULTS: list[bool] = []


def report(name: str, ratio: float, need: float, extra: str = "") -> None:
    ok = ratio >= need
    RESULTS.append(ok)
    print(f"{name}: ratio {ratio:.1f}x (need >= {need:g}x) {'PASS' if ok else 'FAIL'}{extra}")


def _backend(srv, folder, concurrency=4):
    env = {llm.ENV_BASE_URL: srv.base_url, llm.ENV_MODEL: "fake-llm"}
    return llm.OpenAIBackend(llm.LLMConfig.from_env(env, concurrency=concurrency), llm.DiskCache(folder))


def bench_cache_hit(n: int) -> None:
    clauses = PL.split_clauses(PL.toy_story(40, seed=0))
    recalls = [" ".join(clauses[i::7]) + f" variant {k}" for k, i in enumerate(list(range(7)) * (n // 7 + 1))][:n]
    with tempfile.TemporaryDirectory() as d, FakeOpenAIServer() as srv:
        t0 = time.perf_counter()
        rep = llm.score_recalls(_backend(srv, d, 1), clauses, recalls, progress=False)
        t_live = time.perf_counter() - t0
        t0 = time.perf_counter()
        rep2 = llm.score_recalls(_backend(srv, d, 1), clauses, recalls, progress=False)
        t_hit = time.perf_counter() - t0
        assert rep2.scores == rep.scores and srv.n_chat_requests == n
    report("llm_cache_hit", t_live / t_hit, 3.0,
           f"  [{1e3 * t_live / n:.2f} ms/request via HTTP, {1e3 * t_hit / n:.2f} ms/cache hit, {n} recalls]")


def bench_concurrency(n: int) -> None:
    clauses = PL.split_clauses(PL.toy_story(20, seed=1))
    recalls = [clauses[i % 20] + f" {i}" for i in range(n)]
    times = {}
    for c in (1, 4):
        with tempfile.TemporaryDirectory() as d, FakeOpenAIServer(faults=["hang:0.05"] * n) as srv:
            t0 = time.perf_counter()
            llm.score_recalls(_backend(srv, d, c), clauses, recalls, progress=False)
            times[c] = time.perf_counter() - t0
    report("llm_concurrency", times[1] / times[4], 2.0,
           f"  [{times[1]:.2f}s sequential, {times[4]:.2f}s with 4 workers]")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer requests")
    a = p.parse_args()
    bench_cache_hit(40 if a.quick else 200)
    bench_concurrency(16 if a.quick else 40)
    return 0 if all(RESULTS) else 1


if __name__ == "__main__":
    sys.exit(main())
