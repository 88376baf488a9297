"""The one cache: keyed by function, parameters and code; stale entries are recomputed, never served."""
import importlib
import sys
from dataclasses import dataclass

import numpy as np
import pytest

import analysis_lib as al
from analysis_lib import _cache

MODULE = '''
CALLS = []

def draw(n, seed):
    import numpy as np
    CALLS.append((n, seed))
    return np.random.default_rng(seed).normal(size=n){extra}
'''


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    """A module outside the package (fingerprinted by its own file), importable and rewritable."""
    folder = tmp_path / "src"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))

    def write(extra=""):
        (folder / "cache_fixture_mod.py").write_text(MODULE.format(extra=extra))
        sys.modules.pop("cache_fixture_mod", None)
        importlib.invalidate_caches()
        return importlib.import_module("cache_fixture_mod")

    yield write
    sys.modules.pop("cache_fixture_mod", None)


def test_same_inputs_hit_and_changed_parameter_or_seed_recompute(user_module, tmp_path):
    mod = user_module()
    cache = tmp_path / "cache"
    a = _cache.cached_call(mod.draw, dict(n=4, seed=1), cache_dir=cache)
    b = _cache.cached_call(mod.draw, dict(n=4, seed=1), cache_dir=cache)
    assert np.array_equal(a, b) and mod.CALLS == [(4, 1)]  # the second call was a hit
    _cache.cached_call(mod.draw, dict(n=4, seed=2), cache_dir=cache)
    _cache.cached_call(mod.draw, dict(n=5, seed=1), cache_dir=cache)
    assert mod.CALLS == [(4, 1), (4, 2), (5, 1)]
    assert len(list(cache.glob("draw-*.pkl"))) == 3


def test_changed_code_text_recomputes(user_module, tmp_path):
    cache = tmp_path / "cache"
    mod = user_module()
    _cache.cached_call(mod.draw, dict(n=3, seed=0), cache_dir=cache)
    mod = user_module()  # same text: a fresh import still hits
    _cache.cached_call(mod.draw, dict(n=3, seed=0), cache_dir=cache)
    assert mod.CALLS == []
    mod = user_module(extra=" * 2.0")  # the code changed: the old entry must not be served
    out = _cache.cached_call(mod.draw, dict(n=3, seed=0), cache_dir=cache)
    assert mod.CALLS == [(3, 0)]
    assert np.allclose(out, 2 * np.random.default_rng(0).normal(size=3))


def test_changed_library_versions_recompute(user_module, tmp_path, monkeypatch):
    mod = user_module()
    cache = tmp_path / "cache"
    _cache.cached_call(mod.draw, dict(n=3, seed=0), cache_dir=cache)
    real = _cache.library_versions()
    monkeypatch.setattr(_cache, "library_versions", lambda: dict(real, numpy="0.0.0"))
    _cache.cached_call(mod.draw, dict(n=3, seed=0), cache_dir=cache)
    assert mod.CALLS == [(3, 0), (3, 0)]


def test_labels_and_stored_key_are_checked_on_a_hit(user_module, tmp_path):
    mod = user_module()
    cache = tmp_path / "cache"
    _cache.cached_call(mod.draw, dict(n=2, seed=0), cache_dir=cache, labels={"seeds": [0]})
    _cache.cached_call(mod.draw, dict(n=2, seed=0), cache_dir=cache, labels={"seeds": [0]})
    assert len(mod.CALLS) == 1
    _cache.cached_call(mod.draw, dict(n=2, seed=0), cache_dir=cache, labels={"seeds": [0, 1]})  # other grid
    assert len(mod.CALLS) == 2
    path = _cache.cache_file(cache, mod.draw, dict(n=2, seed=0))
    entry = _cache.load_pickle(path)
    entry["key"] = dict(entry["key"], code="someone else's code")
    _cache.dump_pickle(path, entry)
    _cache.cached_call(mod.draw, dict(n=2, seed=0), cache_dir=cache, labels={"seeds": [0, 1]})
    assert len(mod.CALLS) == 3


@dataclass(frozen=True)
class P:
    g: float
    seeds: tuple = (0, 1)


def test_canonical_keys():
    assert _cache.canonical({"b": 1, "a": (1.5, np.float64(2))}) == {"a": [1.5, 2.0], "b": 1}
    assert _cache.canonical(P(1.0))["__dataclass__"].endswith("test_core_cache.P")
    assert _cache.canonical(np.arange(3)) != _cache.canonical(np.arange(3) + 1)
    with pytest.raises(TypeError, match=r"params.f: cannot form a cache key from a function"):
        _cache.canonical({"f": lambda x: x})


def test_code_units_follow_imports_and_skip_presentation():
    units = _cache.code_units("analysis_lib.gating.prx_experiments")
    assert "analysis_lib.gating" in units and "analysis_lib.sweep" in units  # gating imports ..sweep
    assert not set(units) & _cache.PRESENTATION_UNITS
    # editing a paper's claims table must not throw away hours of cached sweeps
    assert not [f for f in _cache._unit_files("analysis_lib.gating") if f.name == "paper_claims.py"]
    assert _cache.code_units("numpy.linalg") == []


def test_sweep_caches_each_point_and_logs_hits(tmp_path, monkeypatch):
    from analysis_lib import random_matrix as rm

    log = tmp_path / "cache.log"
    monkeypatch.setenv("ANALYSIS_LIB_CACHE_LOG", str(log))
    grid = {"N": [20], "g": [1.0], "seed": [0, 1]}
    first = al.sweep(rm.spectral_radius, grid, progress=False, cache_dir=tmp_path / "c")  # worker processes
    second = al.sweep(rm.spectral_radius, grid, progress=False, cache_dir=tmp_path / "c", executor="serial")
    assert first == second
    assert log.read_text().split()[0::3] == ["miss", "miss", "hit", "hit"]
    with pytest.raises(ValueError, match="every point to be a dict"):
        al.sweep(rm.spectral_radius, [20], cache_dir=tmp_path / "c")


def test_not_in_key_arguments_and_keyed_checkpoints(user_module, tmp_path):
    mod = user_module('''

def slow(n, progress=False, checkpoint=None):
    CALLS.append((n, progress, checkpoint))
    if checkpoint is not None:
        open(checkpoint, "w").write("resume point")
    return n * 2''')
    cache = tmp_path / "cache"
    assert _cache.cached_call(mod.slow, {"n": 3}, cache_dir=None, not_in_key={"progress": True},
                              checkpoint_suffix=".ckpt") == 6
    assert mod.CALLS[-1] == (3, True, None)  # no cache: no checkpoint either
    _cache.cached_call(mod.slow, {"n": 3}, cache_dir=cache, not_in_key={"progress": True}, checkpoint_suffix=".ckpt")
    ckpt = mod.CALLS[-1][2]
    assert ckpt == _cache.cache_file(cache, mod.slow, {"n": 3}, ".ckpt") and not ckpt.exists()  # removed once stored
    assert _cache.is_cached(mod.slow, {"n": 3}, cache_dir=cache) and not _cache.is_cached(mod.slow, {"n": 4}, cache_dir=cache)
    _cache.cached_call(mod.slow, {"n": 3}, cache_dir=cache, not_in_key={"progress": False}, checkpoint_suffix=".ckpt")
    assert len(mod.CALLS) == 2  # the progress flag is not part of the key: a hit
