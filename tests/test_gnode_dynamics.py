"""Spec §8 T6 (slow-point finder on known systems), T8 (expressivity utilities), diagnostics."""
import numpy as np
import pytest
import torch

from analysis_lib.gnode import expressivity as E
from analysis_lib.gnode import slow_points as S
from analysis_lib.gnode.cells import build_model


def test_slow_points_linear_system():
    A = torch.tensor([[-1.0, 0.3], [-0.2, -0.7]])
    h_star = torch.tensor([0.4, -0.8])
    field = lambda h: (h - h_star) @ A.T  # noqa: E731
    starts = np.random.default_rng(0).normal(size=(20, 2)).astype(np.float32)
    sp = S.find_slow_points(field, starts, steps=3000, lr=1e-2, lbfgs_steps=50)
    assert sp.h.shape[0] == 20
    np.testing.assert_allclose(sp.h, np.broadcast_to(h_star.numpy(), sp.h.shape), atol=1e-4)
    np.testing.assert_allclose(np.sort(sp.eigvals[0].real), np.sort(np.linalg.eigvals(A.numpy()).real), atol=1e-5)


def test_slow_points_ring_attractor():
    field = lambda h: h * (1 - (h ** 2).sum(1, keepdim=True))  # noqa: E731
    starts = np.random.default_rng(1).uniform(-1.5, 1.5, size=(200, 2)).astype(np.float32)
    sp = S.find_slow_points(field, starts, steps=3000, lr=1e-2, tol=1e-3)
    r = np.linalg.norm(sp.h, axis=1)
    assert np.all((np.abs(r - 1) < 1e-3) | (r < 1e-3))
    stats = S.ring_stats(sp.h[r > 0.5], n_bins=36)
    assert stats["angle_cov"] * 36 >= 30


def test_gate_closed_system_keeps_all():
    field = lambda h: 0.0 * h  # noqa: E731
    starts = np.random.default_rng(2).normal(size=(50, 3)).astype(np.float32)
    sp = S.find_slow_points(field, starts, steps=10, eigvals=False)
    assert sp.h.shape == (50, 3)


def test_coverage_ring_corners():
    g = np.array([[-0.9, -0.9, -0.9], [0.9, 0.9, 0.9]])
    assert S.coverage(g) == 2 / 64
    assert S.coverage(np.random.default_rng(0).uniform(-1, 1, (5000, 3))) == 1.0
    assert S.corners_found(np.array([[1.05, 0.95], [-1, -1], [0, 0]])) == 2
    th = np.linspace(0, 2 * np.pi, 200, endpoint=False)
    st = S.ring_stats(2 * np.stack([np.cos(th), np.sin(th)], 1))
    assert abs(st["radius_median"] - 2) < 1e-9 and st["angle_cov"] == 1.0
    assert np.isclose(S.pca_spectrum(np.c_[np.arange(10.0), np.zeros(10)])[0], 1.0)


def test_model_diagnostics_run():
    m = build_model("gnode", 2, 2, hidden=(8, 8), seed=0)
    grid = S.speed_gate_grid(m, n=11)
    assert grid["log_speed"].shape == (11, 11) and np.all((grid["gate"] > 0) & (grid["gate"] < 1))
    rc = S.retention_curve(m, n_mem=10, hold=20)
    assert rc["rmse"].shape == (20,) and np.all(np.isfinite(rc["rmse"]))
    x = np.zeros((4, 10, 2), np.float32)
    starts = S.slow_point_starts(m, x, n=30)
    sp = S.find_slow_points(S.model_field(m), starts, steps=50)
    assert sp.h_all.shape == (30, 2)
    with pytest.raises(ValueError, match="N = 2"):
        S.speed_gate_grid(build_model("gnode", 3, 2, hidden=(4,)))
    with pytest.raises(ValueError, match="substeps"):
        S.reintegrate(m, x, substeps=0)


def test_crossings():
    assert E.count_self_crossings(E.figure_eight()) == 1
    th = np.linspace(0, 2 * np.pi, 101)
    assert E.count_self_crossings(np.stack([np.cos(th), np.sin(th)], 1)) == 0
    assert E.count_self_crossings(E.fourier_target(1, 0)) == 0
    # a figure-eight whose crossing falls between samples
    t = np.linspace(0, 1, 97)
    assert E.count_self_crossings(np.stack([np.cos(2 * np.pi * t + 0.013), np.sin(4 * np.pi * t + 0.026)], 1)) == 1


def test_targets_standardised_and_seeded():
    y = E.fourier_target(4, 1)
    assert y.shape == (101, 2)
    np.testing.assert_allclose(y.mean(0), 0, atol=1e-6)
    np.testing.assert_allclose(y.std(0), 1, atol=1e-5)
    np.testing.assert_array_equal(y, E.fourier_target(4, 1))
    assert not np.allclose(y, E.fourier_target(4, 2))
    with pytest.raises(ValueError, match="K"):
        E.fourier_target(0)


def test_r2():
    y = E.fourier_target(3, 0)
    assert E.r2(y, y) == 1.0
    assert abs(E.r2(np.full_like(y, y.mean()), y)) < 1e-12
    assert E.k_star({1: 0.95, 2: 0.91, 3: 0.5, 4: 0.99}) == 2 and E.k_star({1: 0.2, 2: 0.99}) == 0
    assert E.k_star({1: 0.95, 2: 0.91, 4: 0.93, 6: 0.5}) == 4


def test_rk4_rotation_matches_exact():
    from torchdiffeq import odeint

    W = torch.tensor([[0.0, -1.0], [1.0, 0.0]], dtype=torch.float64)
    t = torch.linspace(0, 10, 101, dtype=torch.float64)
    H = odeint(lambda _t, h: h @ W.T, torch.tensor([1.0, 0.0], dtype=torch.float64), t, method="rk4",
               options={"step_size": 0.1})
    exact = torch.stack([torch.cos(t), torch.sin(t)], 1)
    assert float((H - exact).abs().max()) < 1e-4


def test_padded_replicate_is_exact_smaller_model():
    t = torch.as_tensor(E.sample_times(), dtype=torch.float32)
    small = E.FitSpec("gnode", 2, 8, 2, seed=3)
    alone = E.AutonomousEnsemble([small])
    padded = E.AutonomousEnsemble([small, E.FitSpec("node", 3, 64, 2, seed=4)], N_max=3, width_max=64)
    with torch.no_grad():
        y1 = alone.trajectory(t, 0.1)[0]
        y2 = padded.trajectory(t, 0.1)[0]
    assert float((y1 - y2).abs().max()) < 1e-5
    assert E.expr_param_count(small) == (2 * 8 + 8) + (8 * 8 + 8) + (8 * 2 + 2) + 6 + 6 + 2
    # padded weights get no gradient
    y = padded.trajectory(t, 0.1)
    y.sum().backward()
    assert float(padded.W["W0"].grad[0, 8:].abs().sum()) == 0 and float(padded.W["Wz"].grad[1].abs().sum()) == 0


def test_fit_ensemble_small_and_failed_replicate():
    tg = np.stack([E.fourier_target(1, 0)] * 2)
    specs = [E.FitSpec("node", 2, 8, 1), E.FitSpec("gnode", 2, 8, 1)]
    out = E.fit_ensemble(specs, tg, steps=5, progress=False, lr=1e-2)
    assert out["r2_fine"].shape == (2,) and not out["failed"].any()
    assert np.all(out["best_loss"] <= out["loss"][0] + 1e-7)
    with pytest.raises(ValueError, match="targets"):
        E.fit_ensemble(specs, tg[:1], steps=1)
    with pytest.raises(ValueError, match="kind"):
        E.FitSpec("gru", 2, 8)


def test_bad_diagnostic_inputs():
    m = build_model("gnode", 2, 2, hidden=(4,), seed=0)
    with pytest.raises(ValueError, match="lims"):
        S.speed_gate_grid(m, lims=(1.0, -1.0))
    with pytest.raises(ValueError, match="delta"):
        S.slow_fraction(m, delta=0)
    with pytest.raises(ValueError, match="variant"):
        S.slow_fraction(m, variant="hexagon")
    with pytest.raises(ValueError, match="radius"):
        S.corners_found(np.zeros((1, 2)), radius=0)
    with pytest.raises(ValueError, match="model"):
        S.retention_curve("not a model")
    with pytest.raises(ValueError, match="h_init"):
        S.find_slow_points(lambda h: h, np.zeros(3))
