"""Momentum (paper 04): metrics, exponent fits, data loaders (spec §8 tests 7-10)."""
import socket

import numpy as np
import pytest

from analysis_lib import limit_threads
from analysis_lib.momentum import data, experiments, metrics

limit_threads(1)


def test_knee_recovers_crossing():
    x = np.geomspace(1e-3, 1, 25)
    T0, b = 50.0, 4e5
    xk, bb, n_right = metrics.knee(x, np.maximum(T0, b * x ** 2))
    assert xk == pytest.approx(np.sqrt(T0 / b), rel=1e-12)
    assert bb == pytest.approx(b, rel=1e-12) and n_right >= 2
    assert metrics.right_branch_slope(x, np.maximum(T0, b * x ** 2)) == pytest.approx(2.0)
    # censoring drops points above H/2: too few right-branch points left → NaN
    assert np.isnan(metrics.knee(x, np.maximum(T0, b * x ** 2), horizon=2 * 3.5 * T0)[0])


def test_parabolic_argmin_recovers_vertex():
    x = np.geomspace(1e-3, 1, 13)
    lx0 = np.log(0.02)
    T = np.exp(3.0 + 1.7 * (np.log(x) - lx0) ** 2)
    xs, ts, ok = metrics.parabolic_argmin_loglog(x, T)
    assert ok and xs == pytest.approx(0.02, rel=1e-9) and ts == pytest.approx(np.exp(3.0), rel=1e-9)
    _, _, ok_edge = metrics.parabolic_argmin_loglog(x, np.exp(np.log(x)))  # minimum at the left edge
    assert not ok_edge


def test_occupation_time_hand_made_flags():
    above = np.array([[1, 0], [1, 1], [0, np.nan], [0, 0]], dtype=float)  # (n_obs, n_seed)
    mean, per_seed = metrics.occupation_time(above, every=5)
    assert list(per_seed) == [10, 10]  # NaN (diverged state) counts as above
    assert mean == 10
    assert bool(metrics.censored(60, 100)) and not bool(metrics.censored(40, 100))


def test_loglog_slope_and_bootstrap():
    x = np.array([1.0, 2.0, 4.0, 8.0])
    assert metrics.loglog_slope(x, 3 * x ** 0.5)[0] == pytest.approx(0.5)
    rng = np.random.default_rng(0)
    per_seed = (x ** 0.5)[:, None] * np.exp(0.05 * rng.standard_normal((4, 16)))
    s, (lo, hi) = metrics.bootstrap_statistic(lambda m: metrics.loglog_slope(x, m)[0], per_seed, n_boot=100)
    assert lo <= s <= hi and abs(s - 0.5) < 0.05


def test_toy_exponent():
    """Spec test 8: 16 seeds, 3 η, 15 values of 1−β; |slope − 2/3| < 0.12 (rejects 1/2 and 1)."""
    p = experiments.toy_params(settings=((0.08, 0.1), (0.02, 0.1), (0.005, 0.1)), n_seeds=16,
                               one_minus_betas=tuple(np.geomspace(2e-3, 0.2, 15)))
    res = experiments.run_toy_grid(p)
    H = res.horizons
    for method in ("argmin", "knee"):
        fit = experiments.fit_optimum(res.x, res.T_seed, np.array([0.08, 0.02, 0.005]), H, method=method, n_boot=20)
        assert abs(fit.slope - 2 / 3) < 0.12, (method, fit.slope)
    rb = experiments.right_branch_slopes(res.x, res.T, H)
    assert np.all((rb >= 1.7) & (rb <= 2.3)), rb
    assert res.diverged.max() > 0  # this grid diverges at small 1−β: the rule is exercised


@pytest.mark.slow
def test_matrix_sensing_exponent():
    p = experiments.ms_params()
    model, U1, _ = experiments.ms_phase1(p)
    fits = experiments.fit_ms(experiments.run_ms_grid(p, model, U1), n_boot=20)
    assert 0.5 <= fits.gamma_knee.slope <= 0.85
    assert -0.85 <= fits.tmin.slope <= -0.45


def test_data_offline(monkeypatch):
    def no_network(*a, **k):
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket, "socket", no_network)
    Xtr, ytr, Xte, yte = data.load_digits_split(1000, seed=0)
    assert Xtr.shape == (1000, 64) and Xte.shape == (797, 64)
    assert len(ytr) + len(yte) == 1797 and set(np.unique(ytr)) == set(range(10))
    with pytest.raises(ValueError, match="n_train"):
        data.load_digits_split(5000)
    try:
        X, y, _, _ = data.make_mnist1d(0)
    except ImportError:
        pytest.skip("mnist1d is not installed (optional)")
    assert X.shape[1] == 40


def test_digits_and_resnet_smoke():
    torch = pytest.importorskip("torch")
    g = experiments.run_digits(experiments.digits_params(quick=True))
    assert g.trace_gn.shape[1:] == (2, 3) and np.all(np.isfinite(g.trace_gn))
    assert np.all((g.test_acc >= 0) & (g.test_acc <= 1))
    from analysis_lib.momentum import nets

    net = nets.resnet18_cifar(10)
    out = net(torch.zeros(2, 3, 32, 32))
    assert out.shape == (2, 10)
    m = nets.mlp([5, 7, 3])
    assert nets.trace_gn_hutchinson(m, torch.randn(4, 5), n_probe=2) > 0


def test_full_presets_are_sane():
    """FULL sizes (not run in tests): horizons, grids and problem sizes within the spec's ranges."""
    toy = experiments.toy_params(quick=False)
    etas = sorted({e for e, eps in toy.settings if eps == 0.1})
    assert len(etas) >= 8 and etas[-1] / etas[0] >= 100 and toy.n_seeds == 64
    assert max(experiments.toy_horizon(e, s) for e, s in toy.settings) < 300_000
    ms = experiments.ms_params(quick=False)
    assert ms.n < ms.d * (ms.d + 1) // 2 and len(ms.etas) >= 4 and ms.n_seeds >= 16
    assert experiments.variance_params(quick=False).n_chains == 4000
    dg = experiments.digits_params(quick=False)
    n_params = sum(a * b + b for a, b in zip(dg.widths[:-1], dg.widths[1:]))
    assert n_params > dg.n_train * dg.widths[-1]  # over-parameterised: phase 1 can interpolate
    # the FULL toy code path runs at a tiny size
    tiny = experiments.toy_params(quick=False, n_seeds=2, horizon_factor=20,
                                  one_minus_betas=tuple(np.geomspace(0.01, 0.3, 5)))
    res = experiments.run_toy_grid(tiny)
    assert res.T_seed.shape == (len(tiny.settings), 5, 2)


def test_digits_diverged_runs_never_converge_and_grid_is_cached(tmp_path):
    """A run whose Tr GN turns non-finite counts as never below the threshold (T_occ = n_steps),
    not as converged; a second call with the same parameters reads phase 2 from the cache."""
    from analysis_lib import _cache

    p = experiments.digits_params(quick=True, etas=(0.1, 1e4), one_minus_betas=(1.0,))
    g = experiments.run_digits(p, cache_dir=tmp_path)
    assert np.all(np.isfinite(g.trace_gn[:, 0])) and not np.all(np.isfinite(g.trace_gn[-1, 1]))
    assert np.all(g.T_seed[1] == p.n_steps)
    assert len(list(tmp_path.glob("digits_phase1-*.pkl"))) == 1
    assert len(list(tmp_path.glob("digits_phase2_seed-*.pkl"))) == 1
    hits = _cache.stats()["hit"]
    again = experiments.run_digits(p, cache_dir=tmp_path)
    np.testing.assert_array_equal(again.T_seed, g.T_seed)
    assert _cache.stats()["hit"] == hits + 2  # phase 1 and the one seed of phase 2


def test_digits_seeds_are_independent_of_their_batch_and_run_in_parallel(tmp_path, monkeypatch):
    """Seed s gives the same phase-2 runs alone or batched with other seeds (its own label-noise and
    probe streams), so per-seed jobs run side by side and are cached one by one."""
    pytest.importorskip("torch")
    log = tmp_path / "cache.log"  # hits and misses of the worker processes
    monkeypatch.setenv("ANALYSIS_LIB_CACHE_LOG", str(log))
    from analysis_lib.momentum import classify, data

    p = experiments.digits_params(quick=True, n_seeds=2, n_steps=20, every=10)
    Xtr, ytr, Xte, yte = data.load_digits_split(p.n_train, seed=p.seed)
    Ytr = data.one_hot(ytr, p.widths[-1])
    params1 = classify.init_mlp_params(p.widths, seed=1)
    args = (params1, Xtr, Ytr, Xte, yte, p.etas, p.one_minus_betas, p.eps, p.n_steps)
    kw = dict(every=p.every, n_probe=2, seed=p.seed)
    tr_both, acc_both = classify.label_noise_runs(*args, seeds=[0, 1], **kw)
    tr_1, acc_1 = classify.label_noise_runs(*args, seeds=[1], **kw)
    np.testing.assert_allclose(tr_1[..., 0], tr_both[..., 1], rtol=1e-10)
    np.testing.assert_array_equal(acc_1[..., 0], acc_both[..., 1])
    assert not np.allclose(tr_both[1:, ..., 0], tr_both[1:, ..., 1])  # different seeds, different noise
    cache = tmp_path / "cache"
    g = experiments.run_digits(p, cache_dir=cache)  # two seeds: two worker processes
    assert g.T_seed.shape == (2, 3, 2) and g.final_acc_seed.shape == (2, 3, 2)
    assert len(list(cache.glob("digits_phase2_seed-*.pkl"))) == 2

    def phase2_events():
        return [line.split()[0] for line in log.read_text().splitlines() if "digits_phase2_seed" in line]

    assert phase2_events() == ["miss", "miss"]
    p3 = experiments.digits_params(quick=True, n_seeds=3, n_steps=20, every=10)
    g3 = experiments.run_digits(p3, cache_dir=cache)  # adds seed 2, reuses seeds 0 and 1
    np.testing.assert_array_equal(g3.T_seed[..., :2], g.T_seed)
    assert len(list(cache.glob("digits_phase2_seed-*.pkl"))) == 3
    assert sorted(phase2_events()[2:]) == ["hit", "hit", "miss"]


def test_digits_exponents_bootstrap_ci():
    """Slopes 2/3 by construction: per-seed tables whose knee and accuracy peak sit at c·η^{2/3}
    (on the grid: 1−β steps of 2^{1/3}, η halves, so the optimum moves by two grid points)."""
    from analysis_lib.momentum import classify

    p = experiments.digits_params(quick=False, etas=(0.2, 0.1, 0.05), every=1, n_steps=100_000,
                                  one_minus_betas=tuple(0.05 * 2.0 ** (np.arange(-12, 7) / 3)))
    etas, omb = np.array(p.etas), np.array(p.one_minus_betas)
    rng = np.random.default_rng(0)
    knee = 0.05 * (etas / etas[0]) ** (2 / 3)
    # T_occ flat (T_min) left of the knee and ∝ (1−β)² right of it (the τ2 branch), knee² = T_min/b
    base = 50.0 * np.maximum(1.0, (omb[None, :] / knee[:, None]) ** 2)
    T_seed = np.stack([base * np.exp(0.02 * rng.standard_normal(base.shape)) for _ in range(6)], -1)
    acc = np.stack([-(np.log(omb)[None, :] - np.log(knee)[:, None]) ** 2 + 0.01 * rng.standard_normal(base.shape)
                    for _ in range(6)], -1)
    grid = classify.ClassifierGrid(etas, omb, np.arange(3), None, None, T_seed,
                                   classify.knee_per_eta(omb, T_seed.mean(-1), p.every, p.n_steps),
                                   omb[np.argmax(acc.mean(-1), axis=1)], acc)
    fits = experiments.digits_exponents(grid, p, n_boot=100)
    assert abs(fits["best_acc"].slope - 2 / 3) < 1e-9 and fits["best_acc"].ci_contains(fits["best_acc"].slope)
    lo, hi = fits["trgn"].ci
    assert lo <= fits["trgn"].slope <= hi and abs(fits["trgn"].slope - 2 / 3) < 0.05 and hi - lo < 0.1


def test_digits_phase2_resumes_from_its_checkpoint(tmp_path, monkeypatch):
    """An interrupted phase-2 run resumes from its checkpoint and gives the uninterrupted result."""
    pytest.importorskip("torch")
    from analysis_lib.momentum import classify, data

    p = experiments.digits_params(quick=True, n_steps=30, every=10)
    Xtr, ytr, Xte, yte = data.load_digits_split(p.n_train, seed=p.seed)
    args = (classify.init_mlp_params(p.widths, seed=1), Xtr, data.one_hot(ytr, p.widths[-1]), Xte, yte, p.etas,
            p.one_minus_betas, p.eps, p.n_steps)
    kw = dict(seeds=[1], every=p.every, n_probe=2, seed=p.seed)
    want = classify.label_noise_runs(*args, **kw)
    ckpt = tmp_path / "seed1.ckpt"
    forward, calls = classify.batched_mlp_forward, {"n": 0}

    def dies_midway(params, X):
        calls["n"] += 1
        if calls["n"] > 27:  # in step 22, past the checkpoint at step 20
            raise KeyboardInterrupt
        return forward(params, X)

    monkeypatch.setattr(classify, "batched_mlp_forward", dies_midway)
    with pytest.raises(KeyboardInterrupt):
        classify.label_noise_runs(*args, checkpoint=ckpt, checkpoint_every=10, **kw)
    assert ckpt.exists()
    def counted(params, X):
        calls["n"] += 1
        return forward(params, X)

    monkeypatch.setattr(classify, "batched_mlp_forward", counted)
    calls["n"] = 0
    got = classify.label_noise_runs(*args, checkpoint=ckpt, checkpoint_every=10, **kw)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)
    assert calls["n"] == 10 + 2  # resumed at step 21: 10 steps and one observation (Tr GN, accuracy)
    assert not ckpt.exists()  # a finished run removes its checkpoint
