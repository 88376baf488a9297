"""Rank-one density and the contour-integral fraction (spec §8.5-8.6), plotting smoke tests and the FULL cache."""
import numpy as np
import pytest

from analysis_lib import limit_threads
from analysis_lib import gating as gt

limit_threads(1)


def test_disk_containing_support_gives_one():
    _, d, w = gt.rank1_gru_fixed_point(200, 0)
    assert gt.frac_in_disk(0.5, 5.0, d, w) == pytest.approx(1.0, abs=1e-3)


def test_quadrature_converges():
    _, d, w = gt.rank1_gru_fixed_point(300, 1)
    for delta in (0.05, 0.1, 0.2):
        assert abs(gt.frac_in_disk(1.0, delta, d, w, 200) - gt.frac_in_disk(1.0, delta, d, w, 400)) < 1e-4


def test_resolvent_outside_support_is_plain_sum():
    d = np.array([0.2, 0.5, 0.9])
    w = np.array([0.01, 0.02, 0.01])
    lam = np.array([3.0 + 1j])
    g, s = gt.mf_resolvent_rank1(lam, d, w)
    assert s[0] == 0
    np.testing.assert_allclose(g, np.mean(1 / (lam[0] - d)))


def test_density_validation():
    with pytest.raises(ValueError, match="radius"):
        gt.frac_in_disk(1.0, -0.1, [0.5], [1.0])
    with pytest.raises(ValueError, match="equal length"):
        gt.mf_resolvent_rank1([0j], [0.5, 0.2], [1.0])


@pytest.mark.slow
def test_contour_fraction_matches_eigenvalues():
    J, d, w = gt.rank1_gru_fixed_point(800, 0)
    e = gt.eigvals(J)
    for delta in (0.05, 0.1, 0.2):
        assert abs(gt.empirical_frac_in_disk(e, 1.0, delta) - gt.frac_in_disk(1.0, delta, d, w)) < 0.02


def test_plot_helpers_and_explore_panel_run():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from analysis_lib.gating.gru import explore

    fig, axes = plt.subplots(1, 3)
    eigs, st = explore.draw_explore_panel(axes[0], gt.ChoGRUParams(s_z=4, b_z=-2), N=60, seed=0, burn_in=50, n_grid=40)
    assert eigs.shape == (60,) and st.N == 60
    assert len(gt.spectral_curve(st, (-1.5, 1.5, -1.5, 1.5), 60)) >= 1
    gt.plot_phase_diagram(axes[1], 10.0, b_r_grid=np.linspace(-3, 0, 5), probe={(3.0, -1.0): (0.0, 0.3)})
    gt.plot_rule_inset(axes[2], [0.1, 0.2], [0.1, 0.25])
    plt.close(fig)


def test_sweep_cache_of_a_gating_function_hits_same_inputs_and_recomputes_changed_ones(tmp_path):
    """Notebook 01's FULL cache (`al.sweep(gt.stationary_spectra, points, cache_dir=...)`): the same point is
    read back, a changed parameter or seed is recomputed, each under its own key."""
    from analysis_lib import _cache, sweep

    point = dict(kind="cho", params=gt.ChoGRUParams(s_z=4, b_z=-2), N=30, seed=0, burn_in=20)
    changed = [dict(point, params=gt.ChoGRUParams(s_z=4, b_z=-1)), dict(point, seed=1)]
    before = _cache.stats()
    first = sweep(gt.stationary_spectra, [point], executor="serial", progress=False, cache_dir=tmp_path)[0]
    again = sweep(gt.stationary_spectra, [point], executor="serial", progress=False, cache_dir=tmp_path)[0]
    after = _cache.stats()
    assert (after["miss"] - before["miss"], after["hit"] - before["hit"]) == (1, 1)
    assert np.array_equal(first.eigs[0], again.eigs[0])
    others = sweep(gt.stationary_spectra, changed, executor="serial", progress=False, cache_dir=tmp_path)
    assert _cache.stats()["miss"] - after["miss"] == 2 and _cache.stats()["hit"] == after["hit"]
    assert all(not np.array_equal(first.eigs[0], r.eigs[0]) for r in others)
    files = {_cache.cache_file(tmp_path, gt.stationary_spectra, p) for p in [point, *changed]}
    assert len(files) == 3 and all(f.exists() for f in files)
    assert not hasattr(gt, "cached_call")  # the old name-keyed helper is gone from the subpackage


def test_full_mode_code_paths_tiny():
    # FULL uses several seeds and times; smoke-test that path at tiny size.
    r = gt.stationary_spectra("cho", gt.ChoGRUParams(s_z=4, b_z=-2), 40, seed=2, burn_in=20, n_times=3, spacing=5)
    assert len(r.eigs) == 3 and r.times == [20, 25, 30]
    s = gt.summarize_spectra(r)
    assert set(s) >= {"radius", "rightmost", "slow_frac", "slow_pred", "outside", "radius_theory"}


def test_training_proxy_tiny():
    from analysis_lib.gating.gru import train

    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    r = train.train_delayed_recall("x", train.TRAIN_REGIMES["pinned_slow_z"], H=8, delay=3, steps=5, batch=4, seed=0)
    assert r.losses.shape == (5,) and np.isfinite(r.final_loss)
    gru = torch.nn.GRU(1, 8)
    p = gt.TorchGRUParams(s_h=2.0, s_z=1.0, s_r=1.0, b_z=0.5, b_r=-0.5, b_hn=0.1, b_in=0.2)
    train.init_torch_gru(gru, p, seed=3)
    # the torch cell and our PyTorch-convention model agree step for step
    m = gt.gated_rnn("torch", p, 8, 3)
    h = np.tanh(np.random.default_rng(0).standard_normal(8))
    with torch.no_grad():
        out, _ = gru(torch.zeros(1, 1, 1), torch.as_tensor(h, dtype=torch.float32).reshape(1, 1, 8))
    np.testing.assert_allclose(out.numpy().reshape(8), m.step(h), atol=1e-5)


def test_paper_claim_tables_declare_with_spec_ids():
    from analysis_lib import claims

    for paper, table, n in ((gt.GRU_LSTM_PAPER, gt.GRU_LSTM_CLAIMS, 10), (gt.GATING_THEORY_PAPER, gt.GATING_THEORY_CLAIMS, 12)):
        assert [c.id for c in table] == [f"C{i}" for i in range(1, n + 1)]  # section 2 of each spec
        claims.declare_paper_claims(paper, table)
        assert [c.id for c in claims.declared_paper_claims()] == [c.id for c in table]
    claims.reset_registry()
