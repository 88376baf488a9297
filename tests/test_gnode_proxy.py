"""The synthetic proxy of notebook 03 (spec §4.8): pen-stroke generator invariants, the
cross-entropy training path, caching and seeding."""
from dataclasses import replace

import numpy as np
import pytest
import torch

from analysis_lib import gnode as gn
from analysis_lib.gnode import experiments
from analysis_lib.gnode.proxy import (PenStrokeConfig, ProxyRun, accuracy, class_prototype, last_state_cross_entropy,
                                      make_pen_strokes, nearest_prototype_accuracy, run_proxy, warp_times)

CLEAN = PenStrokeConfig(warp=0.0, scale=(1.0, 1.0), rotation_deg=0.0, noise=0.0, drop_frac=0.0)
TINY = gn.TrainConfig(epochs=3, lr=1e-3, weight_decay=1e-2, batch_size=50)


def test_undistorted_samples_are_the_class_prototypes():
    x, lab = make_pen_strokes(3, seed=5, cfg=CLEAN)
    assert x.shape == (30, 101, 3) and lab.shape == (30,)
    for i in range(len(x)):
        np.testing.assert_allclose(x[i, :, :2], class_prototype(int(lab[i])), atol=1e-5)
    assert np.all(x[..., 2] == 1)
    # the prototypes are the expressivity targets of complexity 3
    np.testing.assert_array_equal(class_prototype(4), gn.fourier_target(3, 4))


def test_half_the_points_dropped_and_zeroed_classes_balanced():
    x, lab = make_pen_strokes(7, seed=1)
    obs = x[..., 2]
    assert set(np.unique(obs)) == {0.0, 1.0}
    np.testing.assert_array_equal((obs == 0).sum(1), 50)  # round(0.5 · 101)
    assert np.all(x[..., :2][obs == 0] == 0)
    np.testing.assert_array_equal(np.bincount(lab), 7)


def test_warp_is_monotone_and_identity_at_zero_amplitude():
    t = np.linspace(0, 10, 1001)
    tw = warp_times(t, np.array([-0.5, 0.5, 0.0]), np.array([0.3, 2.0, 1.0]), 10.0)
    assert np.all(np.diff(tw[:2], axis=1) > 0)
    np.testing.assert_array_equal(tw[2], t)
    # the endpoints move by at most aP/2π
    assert np.abs(tw[:2] - t).max() <= 0.5 * 10 / (2 * np.pi) + 1e-12


def test_scale_and_rotation_within_their_ranges():
    cfg = replace(CLEAN, scale=(0.8, 1.2), rotation_deg=15.0)
    x, lab = make_pen_strokes(20, seed=2, cfg=cfg)
    for i in range(len(x)):
        p = class_prototype(int(lab[i]))
        A, *_ = np.linalg.lstsq(p, x[i, :, :2], rcond=None)  # x = p A, A = s Rᵀ
        s = np.sqrt(abs(np.linalg.det(A)))
        np.testing.assert_allclose(A.T @ A, s ** 2 * np.eye(2), atol=1e-4)  # a scaled rotation
        assert 0.8 - 1e-5 <= s <= 1.2 + 1e-5
        assert abs(np.degrees(np.arctan2(A[0, 1], A[0, 0]))) <= 15 + 1e-3


def test_seeded_generator():
    a = make_pen_strokes(4, seed=3)
    b = make_pen_strokes(4, seed=3)
    c = make_pen_strokes(4, seed=4)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])


def test_nearest_prototype_baseline_sees_the_labels():
    x, lab = make_pen_strokes(10, seed=0)
    assert nearest_prototype_accuracy(x, lab) > 0.9
    assert nearest_prototype_accuracy(x, (lab + 1) % 10) < 0.2  # wrong labels are not rewarded


@pytest.mark.parametrize("kw, name", [(dict(warp=1.0), "warp"), (dict(drop_frac=1.0), "drop_frac"),
                                      (dict(scale=(1.2, 0.8)), "scale"), (dict(K=0), "K")])
def test_bad_config_is_rejected(kw, name):
    with pytest.raises(ValueError, match=name):
        PenStrokeConfig(**kw)


def test_bad_inputs_are_rejected():
    with pytest.raises(ValueError, match="kind"):
        ProxyRun("gru")
    with pytest.raises(ValueError, match="n_per_class"):
        make_pen_strokes(0)


def test_cross_entropy_training_without_validation_keeps_final_parameters():
    x, lab = make_pen_strokes(20, seed=0)
    model = gn.build_model("gnode", 4, 3, D=10, hidden=(16,), seed=0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    res = gn.train(model, (x, lab), None, replace(TINY, epochs=4), progress=False, loss_fn=last_state_cross_entropy)
    assert res.val_loss == [] and res.best_iter == 16  # 4 epochs × 4 batches
    assert any(not torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert all(torch.equal(res.best_state[k], v) for k, v in model.state_dict().items())
    with pytest.raises(ValueError, match="trials"):
        gn.train(model, (x, lab[:-1]), None, TINY, progress=False, loss_fn=last_state_cross_entropy)


def test_cross_entropy_validation_selects_the_best_parameters():
    x, lab = make_pen_strokes(10, seed=0)
    xv, lv = make_pen_strokes(5, seed=1)
    model = gn.build_model("node", 4, 3, D=10, hidden=(16,), seed=0)
    res = gn.train(model, (x, lab), (xv, lv), TINY, progress=False, loss_fn=last_state_cross_entropy)
    with torch.no_grad():
        v = float(last_state_cross_entropy(model, torch.as_tensor(xv), torch.as_tensor(lv)))
    assert v == pytest.approx(res.best_val, rel=1e-5) and res.best_val == min(res.val_loss)


def test_a_short_run_learns_and_is_seeded(tmp_path):
    run = ProxyRun("gnode", n_train_per_class=30, n_test_per_class=10, config=replace(TINY, epochs=8))
    a = run_proxy(run, cache_dir=tmp_path)
    assert a["train_acc"] > 0.3 and a["test_acc"] > 0.2  # chance is 0.1
    b = run_proxy(run)  # uncached: the same numbers from the same seeds
    assert a["test_acc"] == b["test_acc"]
    assert all(torch.equal(a["state"][k], b["state"][k]) for k in a["state"])
    assert len(list(tmp_path.glob("fit_proxy-*.pkl"))) == 1 and not list(tmp_path.glob("*.ckpt.pt"))
    c = experiments.run_job(run, cache_dir=tmp_path)  # dispatched, read back from the cache
    assert c["test_acc"] == a["test_acc"]
    model = gn.build_model("gnode", 16, 3, D=10, hidden=(64, 64), seed=0)
    model.load_state_dict(a["state"])
    assert accuracy(model, *run.test_data()) == a["test_acc"]
    assert a["train_acc"] == accuracy(model, *run.train_data())
    xtr, ltr = run.train_data()
    assert np.bincount(ltr).tolist() == [30] * 10 and len(set(ltr[:50].tolist())) > 5  # shuffled, balanced


def test_smoke_mode_shrinks_proxy_runs():
    experiments.set_smoke(True)
    try:
        r = experiments._shrink(gn.proxy_runs()[0])
    finally:
        experiments.set_smoke(False)
    assert r.n_train_per_class == 4 and r.config.epochs == 1
    assert experiments._shrink(gn.proxy_runs()[0]).config.epochs == 100


def test_proxy_figure_and_precompute_arguments(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from analysis_lib.gnode import plots as gp
    from analysis_lib.gnode import precompute

    x, lab = make_pen_strokes(3, seed=0)
    outs = [{"run": ProxyRun(k, model_seed=s), "test_acc": a} for k, s, a in
            [("gnode", 0, 0.9), ("gnode", 1, 0.8), ("node", 0, 0.7), ("node", 1, 0.6)]]
    fig = gp.plot_proxy(outs, (x, lab), 0.95, gn.PROXY_LABEL, prototypes=[class_prototype(c) for c in range(10)])
    bars = [p.get_height() for p in fig.axes[1].patches]
    assert bars == pytest.approx([0.85, 0.65]) and gn.PROXY_LABEL in fig._suptitle.get_text()
    assert "proxy" in precompute.WHAT
    with pytest.raises(SystemExit):
        precompute.main(["--what", "proxies", "--cache-dir", str(tmp_path)])
