"""Momentum (paper 04): caches keyed by code + parameters (`_cache.cached_call`), resumable digits seeds."""
import shutil

import numpy as np
import pytest

from analysis_lib import _cache, limit_threads
from analysis_lib.momentum import experiments

limit_threads(1)


def _hits_misses():
    s = _cache.stats()
    return s["hit"], s["miss"]


def test_ms_phase1_cache_hits_same_inputs_and_recomputes_changed_ones(tmp_path):
    """Same phase-1 inputs hit (also when only phase-2 fields such as the η grid or the noise seed
    change); a changed problem seed or tolerance recomputes."""
    p = experiments.ms_params(quick=True)
    _, U1, steps = experiments.ms_phase1(p, tmp_path)
    h, m = _hits_misses()
    _, U1_again, steps_again = experiments.ms_phase1(experiments.ms_params(quick=True, etas=(0.05,), base_seed=3),
                                                    tmp_path)
    assert _hits_misses() == (h + 1, m)
    np.testing.assert_array_equal(U1_again, U1)
    assert steps_again == steps
    _, U1_other, _ = experiments.ms_phase1(experiments.ms_params(quick=True, problem_seed=1), tmp_path)
    assert _hits_misses() == (h + 1, m + 1) and U1_other.shape == U1.shape and not np.allclose(U1_other, U1)
    experiments.ms_phase1(experiments.ms_params(quick=True, phase1_tol=1e-10), tmp_path)
    assert _hits_misses() == (h + 1, m + 2)
    assert len(list(tmp_path.glob("ms_phase1_state-*.pkl"))) == 3
    # no cache directory: computed, nothing written
    _, U1_nocache, _ = experiments.ms_phase1(p, None)
    np.testing.assert_array_equal(U1_nocache, U1)


def test_ts_phase1_cached_by_its_fields_not_by_the_noise_seed(tmp_path):
    p = experiments.ts_params(quick=True, n_steps=200, n_seeds=1)
    a = experiments.run_ts(p, tmp_path)
    h, m = _hits_misses()
    b = experiments.run_ts(experiments.ts_params(quick=True, n_steps=200, n_seeds=1, base_seed=1), tmp_path)
    assert _hits_misses() == (h + 1, m)  # phase 1 hit; phase 2 (new noise streams) is not cached
    assert a.phase1_trace == b.phase1_trace and not np.array_equal(a.trace_gn[1:], b.trace_gn[1:])
    experiments.run_ts(experiments.ts_params(quick=True, n_steps=200, n_seeds=1, width=12), tmp_path)
    assert _hits_misses() == (h + 1, m + 1)


def test_interrupted_digits_seed_resumes_from_its_keyed_checkpoint(tmp_path, monkeypatch):
    """FULL resume path: an interrupted phase-2 seed leaves a checkpoint named by its cache key
    (`cache_file(..., ".ckpt")`); the rerun resumes from it and gives the uninterrupted result."""
    pytest.importorskip("torch")
    from analysis_lib.momentum import classify

    p = experiments.digits_params(quick=True, n_steps=40, every=20)
    ref, cache = tmp_path / "ref", tmp_path / "cache"
    want = experiments.run_digits(p, cache_dir=ref)
    cache.mkdir()
    for f in ref.glob("digits_phase1-*.pkl"):  # share phase 1 (a hit), so only phase 2 is interrupted
        shutil.copy(f, cache)
    monkeypatch.setattr(experiments, "DIGITS_CHECKPOINT_EVERY", 10)
    forward, calls = classify.batched_mlp_forward, {"n": 0}

    def dies_in_step_25(params, X):
        calls["n"] += 1
        if calls["n"] > 2 + 25 + 2:  # first observation, 25 steps, observation at step 20
            raise KeyboardInterrupt
        return forward(params, X)

    monkeypatch.setattr(classify, "batched_mlp_forward", dies_in_step_25)
    with pytest.raises(KeyboardInterrupt):
        experiments.run_digits(p, cache_dir=cache)
    ckpts = list(cache.glob("digits_phase2_seed-*.ckpt"))
    assert len(ckpts) == 1 and not list(cache.glob("digits_phase2_seed-*.pkl"))
    assert _cache.load_pickle(ckpts[0])["k"] == 20
    monkeypatch.setattr(classify, "batched_mlp_forward", forward)
    got = experiments.run_digits(p, cache_dir=cache)
    np.testing.assert_array_equal(got.trace_gn, want.trace_gn)
    np.testing.assert_array_equal(got.T_seed, want.T_seed)
    np.testing.assert_array_equal(got.final_acc_seed, want.final_acc_seed)
    assert not ckpts[0].exists() and len(list(cache.glob("digits_phase2_seed-*.pkl"))) == 1


def test_a_checkpoint_of_other_arguments_is_not_resumed(tmp_path, monkeypatch):
    """`label_noise_runs` stores the cache key of its arguments and code in its checkpoint: handed
    the checkpoint of another run (other ε), it starts afresh and returns its own result."""
    pytest.importorskip("torch")
    from analysis_lib.momentum import classify, data

    p = experiments.digits_params(quick=True, n_steps=20, every=10)
    Xtr, ytr, Xte, yte = data.load_digits_split(p.n_train, seed=p.seed)
    params1 = classify.init_mlp_params(p.widths, seed=1)
    args = (params1, Xtr, data.one_hot(ytr, p.widths[-1]), Xte, yte, p.etas, p.one_minus_betas)
    kw = dict(n_steps=p.n_steps, seeds=[0], every=p.every, n_probe=1, seed=p.seed)
    ckpt = tmp_path / "run.ckpt"
    forward, calls = classify.batched_mlp_forward, {"n": 0}

    def dies_in_step_15(params, X):
        calls["n"] += 1
        if calls["n"] > 2 + 15 + 2:
            raise KeyboardInterrupt
        return forward(params, X)

    monkeypatch.setattr(classify, "batched_mlp_forward", dies_in_step_15)
    with pytest.raises(KeyboardInterrupt):
        classify.label_noise_runs(*args, 0.1, checkpoint=ckpt, checkpoint_every=10, **kw)
    monkeypatch.setattr(classify, "batched_mlp_forward", forward)
    other = tmp_path / "other.ckpt"
    shutil.copy(ckpt, other)
    want = classify.label_noise_runs(*args, 0.2, **kw)
    got = classify.label_noise_runs(*args, 0.2, checkpoint=other, checkpoint_every=10, **kw)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)


def test_run_cached_reads_a_batch_back_keyed_by_its_parameters(tmp_path):
    """The FULL batches of F1–F3 and the β = 0 baseline (`run_cached`): a second call with the same
    parameters is a hit with identical numbers; other parameters are computed afresh."""
    p = experiments.sgd_baseline_params(quick=True, etas=(0.05,), n_seeds=2)
    T, T_seed = experiments.run_cached(experiments.run_sgd_baseline, p, tmp_path)
    h, m = _hits_misses()
    T2, T_seed2 = experiments.run_cached(experiments.run_sgd_baseline, p, tmp_path, progress=False)
    assert _hits_misses() == (h + 1, m)  # `progress` is not part of the key
    np.testing.assert_array_equal(T_seed2, T_seed)
    experiments.run_cached(experiments.run_sgd_baseline, experiments.sgd_baseline_params(quick=True, etas=(0.05,),
                                                                                         n_seeds=2, base_seed=1), tmp_path)
    assert _hits_misses() == (h + 1, m + 1)


def test_the_cached_matrix_sensing_grid_agrees_with_the_one_batch(tmp_path):
    """F5 in FULL runs one cached job per η row (`run_ms_grid_cached`); QUICK runs the one batch.
    Same noise streams, but not always the same bits (BLAS rounds a batched product differently for
    other batch sizes and the chains amplify it), so the rows must agree with the batch within the
    seed spread, while the two η rows differ by far more (a mixed-up row order or horizon fails)."""
    p = experiments.ms_params(quick=True, etas=experiments.ms_params(quick=True).etas[:2], n_seeds=4)
    model, U1, _ = experiments.ms_phase1(p, tmp_path)
    batch = np.log1p(experiments.run_ms_grid(p, model, U1).T_seed)  # (η, 1−β, seed)
    rows = experiments.run_ms_grid_cached(p, tmp_path)
    assert len(list(tmp_path.rglob("ms_grid_row-*.pkl"))) == 2  # one cached job per η row (run in workers)
    per_eta = lambda logT: logT.mean(axis=(1, 2))
    se = batch.std(axis=2, ddof=1).mean() / np.sqrt(batch.shape[1] * batch.shape[2])
    np.testing.assert_allclose(per_eta(np.log1p(rows.T_seed)), per_eta(batch), atol=4 * se)
    assert abs(np.diff(per_eta(batch))[0]) > 10 * se
