"""Momentum (paper 04): matrix-sensing grids beyond F5 — the second ε setting of F5 and the F8
instance (d = 20, r = 2), per-η horizons, cached η rows and the knee ratio between two grids."""
import dataclasses

import numpy as np
import pytest

from analysis_lib import limit_threads
from analysis_lib.momentum import experiments, metrics

limit_threads(1)


def test_second_eps_preset_is_f5_with_the_spec_setting():
    """F5's second setting: ε = 0.005, thr = 0.4, H = 24k, everything else as F5 (FULL and QUICK)."""
    for quick in (True, False):
        p1, p2 = experiments.ms_params(quick), experiments.ms_eps2_params(quick)
        assert (p2.eps, p2.thr, p2.horizon) == (0.005, 0.4, 24_000)
        same = {f.name for f in dataclasses.fields(p1)} - {"eps", "thr", "horizon"}
        assert all(getattr(p1, k) == getattr(p2, k) for k in same)
        assert experiments.ms_phase1(p1)[2] == experiments.ms_phase1(p2)[2]  # the same d = 10 instance
    assert len(experiments.ms_eps2_params(False).etas) == 7
    assert experiments.ms_eps2_params(False, base_seed=2).seed == experiments.ms_params(False, base_seed=2).seed


def test_map_preset_can_separate_two_thirds_from_one():
    """F8 FULL design: d = 20, r = 2, n below the PSD-uniqueness point, 5-6 η over ≥ 1.4 decades,
    15-20 values of 1−β stepping by less than the 2/3-law knee shift per η step, 16 seeds,
    H(η) ∝ η^{-2/3}, and at most 20 CPU-min at ≤ 10 µs per d = 20 chain-step."""
    p = experiments.ms_map_params(False)
    assert (p.d, p.r, p.n_seeds) == (20, 2, 16)
    d, r = p.d, p.r
    psd_unique = r * d - r * (r - 1) / 2 + (d - r) * (d - r + 1) / 4  # statistical dimension, ≈ 124.5
    assert p.n < psd_unique < d * (d + 1) / 2
    etas = np.sort(np.asarray(p.etas))
    assert 5 <= len(etas) <= 6 and np.log10(etas[-1] / etas[0]) >= 1.4
    omb = np.asarray(p.one_minus_betas)
    assert 15 <= len(omb) <= 20
    grid_step = np.exp(np.mean(np.diff(np.log(omb))))
    eta_step = np.exp(np.mean(np.diff(np.log(etas))))
    assert grid_step < eta_step ** (2 / 3)
    # the whole predicted shift spans several grid steps, and 2/3 vs 1 differ by several more
    span = np.log(etas[-1] / etas[0]) / np.log(grid_step)
    assert (2 / 3) * span > 5 and (1 - 2 / 3) * span > 3
    H = experiments.ms_horizons(p)
    pred = p.horizon * (max(p.etas) / np.asarray(p.etas)) ** (2 / 3)
    assert np.all((H >= pred - 1e-6) & (H < pred + 10 * p.every))
    assert H.min() == p.horizon and np.all(H % (10 * p.every) == 0)
    chain_steps = H.sum() * len(omb) * p.n_seeds
    assert chain_steps * 10e-6 < 20 * 60


def test_horizons_fixed_when_unscaled_and_bad_scaling_raises():
    p = experiments.ms_params(False)
    np.testing.assert_array_equal(experiments.ms_horizons(p), np.full(len(p.etas), p.horizon))
    with pytest.raises(ValueError, match="horizon_scaling"):
        experiments.ms_horizons(dataclasses.replace(p, horizon_scaling=-1.0))
    with pytest.raises(ValueError, match="unknown MSParams fields"):
        experiments.ms_map_params(True, horizon_exponent=1.0)
    with pytest.raises(ValueError, match="single eta"):
        experiments.ms_grid_row(p, np.zeros(p.d * p.d))


def test_map_instance_tiny_run_reaches_the_manifold_and_cached_rows_equal_the_batch(tmp_path):
    """The F8 code path at a tiny size: phase 1 reaches L < 1e-12 away from X*, η λ_max ≤ 0.5 for
    the preset's largest η, per-η horizons are honoured, and the cached per-η jobs give exactly the
    one-batch numbers (a second call is served from the cache)."""
    p = experiments.ms_map_params(True)
    model, U1, steps = experiments.ms_phase1(p)
    batch = experiments.run_ms_grid(p, model, U1)
    assert batch.phase1_loss < 1e-12 and batch.phase1_error > 0.3  # on Γ, and not already at X*
    assert max(experiments.ms_map_params(False).etas) * batch.lambda_max <= 0.5
    H = batch.horizons
    assert H[1] > H[0] and np.all(batch.T_seed <= H[:, None, None])
    assert batch.T_seed[1].max() > H[0]  # the smaller η really ran past the larger η's horizon
    assert np.all(batch.diverged == 0)
    cached = experiments.run_ms_grid_cached(p, tmp_path)
    np.testing.assert_array_equal(cached.T_seed, batch.T_seed)
    np.testing.assert_allclose(cached.final_error, batch.final_error, rtol=1e-9)  # BLAS batch-size rounding
    rows = sorted(tmp_path.glob("ms_grid_row-*.pkl"))
    assert len(rows) == len(p.etas) and len(list(tmp_path.glob("ms_phase1_state-*.pkl"))) == 1
    stamps = [f.stat().st_mtime_ns for f in rows]
    again = experiments.run_ms_grid_cached(p, tmp_path)
    np.testing.assert_array_equal(again.T_seed, batch.T_seed)
    assert [f.stat().st_mtime_ns for f in rows] == stamps  # served from the cache, not recomputed
    fits = experiments.fit_ms(batch, n_boot=20)
    assert fits.right_branch.shape == (len(p.etas),)


def _synthetic_grid(knees, T0, x, n_seeds, noise, rng, **params):
    """T = max(T0, b x²) per η row with b = T0/knee², times a per-seed factor exp(noise·N(0,1))."""
    knees, T0 = np.asarray(knees, float), np.asarray(T0, float)
    b = T0 / knees ** 2
    T = np.maximum(T0[:, None], b[:, None] * x[None, :] ** 2)
    T_seed = T[..., None] * np.exp(noise * rng.standard_normal((*T.shape, n_seeds)))
    p = experiments.ms_params(True, one_minus_betas=tuple(x), n_seeds=n_seeds, horizon=10 ** 9, **params)
    return experiments.MSGridResult(p, T_seed, np.zeros(T.shape), np.zeros(T_seed.shape), 1.0, 1.0)


def test_knee_ratio_recovers_a_known_ratio_and_its_ci_covers_it():
    x = np.geomspace(1e-4, 0.1, 24)
    etas = (0.08, 0.028, 0.01)
    knees_a = 0.04 * np.asarray(etas) ** (2 / 3)
    rng = np.random.default_rng(0)
    T0 = np.array([200.0, 400.0, 800.0])
    exact_a = _synthetic_grid(knees_a, T0, x, 4, 0.0, rng, etas=etas)
    exact_b = _synthetic_grid(knees_a / 2 ** (2 / 3), 1.6 * T0, x, 4, 0.0, rng, etas=etas, eps=0.005)
    kr = experiments.ms_knee_ratio(exact_a, exact_b, n_boot=20)
    assert kr.ratio == pytest.approx(2 ** (2 / 3), rel=1e-9) and kr.n_eta == 3
    assert kr.knee_a == pytest.approx(np.exp(np.mean(np.log(knees_a))), rel=1e-9)
    noisy_a = _synthetic_grid(knees_a, T0, x, 16, 0.1, rng, etas=etas)
    noisy_b = _synthetic_grid(knees_a / 2 ** (2 / 3), 1.6 * T0, x, 16, 0.1, rng, etas=etas, eps=0.005)
    kr = experiments.ms_knee_ratio(noisy_a, noisy_b, n_boot=200, rng=1)
    assert kr.ci[0] <= 2 ** (2 / 3) <= kr.ci[1] and kr.ci[1] / kr.ci[0] < 1.3
    assert all(0 < h < 0.2 for h in kr.log_halfwidths)
    # a grid whose knees do not move with ε is told apart: ratio 1, outside the CI around 1.587
    flat = experiments.ms_knee_ratio(noisy_a, _synthetic_grid(knees_a, T0, x, 16, 0.1, rng, etas=etas), rng=1)
    assert flat.ratio == pytest.approx(1.0, abs=0.1) and not flat.ci[0] <= 2 ** (2 / 3) <= flat.ci[1]
    with pytest.raises(ValueError, match="share etas"):
        experiments.ms_knee_ratio(noisy_a, _synthetic_grid(knees_a[:2], T0[:2], x, 16, 0.1, rng, etas=etas[:2]))


def test_fit_ms_uses_each_rows_horizon_and_draws_both_laws():
    """A row whose right branch is uncensored only under its own (longer) horizon keeps its knee."""
    x = np.geomspace(1e-4, 0.1, 24)
    etas = (0.08, 0.01)
    knees = 0.04 * np.asarray(etas) ** (2 / 3)
    res = _synthetic_grid(knees, np.array([300.0, 1200.0]), x, 4, 0.0, np.random.default_rng(0), etas=etas)
    res.T_seed = np.minimum(res.T_seed, 20_000.0)
    p = dataclasses.replace(res.params, horizon=8_000, horizon_scaling=2 / 3)  # H = 8000, 32000
    res.params = p
    np.testing.assert_array_equal(res.horizons, [8_000, 32_000])
    fits = experiments.fit_ms(res, n_boot=20)
    np.testing.assert_allclose(fits.gamma_knee.y, knees, rtol=1e-9)
    assert fits.gamma_knee.slope == pytest.approx(2 / 3, abs=1e-9)
    assert fits.knee_prefactor == pytest.approx(0.04, rel=1e-9)
    assert fits.knee_prefactor_linear == pytest.approx(np.exp(np.mean(np.log(knees / np.asarray(etas)))), rel=1e-9)
    # with one horizon of 8000 for both rows the small-η row has < 2 right-branch points
    res.params = dataclasses.replace(p, horizon_scaling=0.0)
    assert np.isnan(experiments.fit_ms(res, n_boot=20).gamma_knee.y[1])
    assert metrics.knee(x, res.T[1], 3.0, 32_000)[2] >= 2


def test_heatmap_draws_caption_and_both_lines():
    from analysis_lib.momentum import plots

    x = np.geomspace(1e-4, 0.1, 12)
    etas = (0.08, 0.028, 0.01)
    knees = 0.04 * np.asarray(etas) ** (2 / 3)
    res = _synthetic_grid(knees, np.array([200.0, 400.0, 800.0]), x, 2, 0.0, np.random.default_rng(0), etas=etas)
    fig = plots.plot_ms_heatmap(res, experiments.fit_ms(res, n_boot=20), caption="QUICK: the F5 grid")
    ax = fig.axes[0]
    assert "QUICK: the F5 grid" in ax.get_title()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("2/3" in s for s in labels) and any("γ = 1" in s for s in labels)
