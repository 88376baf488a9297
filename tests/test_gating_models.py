"""Unit tests for analysis_lib.gating models: exact Jacobians, conventions, validation (spec §8.1)."""
import numpy as np
import pytest

from analysis_lib import limit_threads
from analysis_lib import gating as gt

limit_threads(1)

GENERIC = {
    "cho": gt.ChoGRUParams(s_h=3, s_z=4, s_r=2, b_z=-1, b_r=0.5, b_h=0.2),
    "torch": gt.TorchGRUParams(s_h=3, s_z=4, s_r=2, b_z=1, b_r=0.5, b_hn=0.3, b_in=0.1),
    "lstm": gt.LSTMParams(b_f=1.0, b_i=0.2, b_o=-0.3, b_g=0.3),
}


@pytest.mark.parametrize("kind", ["cho", "torch", "lstm"])
@pytest.mark.parametrize("dt", [None, 0.5])
def test_jacobian_matches_finite_differences(kind, dt):
    m = gt.gated_rnn(kind, GENERIC[kind], 50, seed=1, dt=dt)
    x = m.simulate(m.random_state(3), 30)
    err = np.abs(m.jacobian(x) - gt.fd_jacobian(m, x, eps=1e-6)).max()
    assert err < 1e-6


@pytest.mark.parametrize("kind", ["cho", "torch", "lstm"])
def test_continuous_jacobian_is_discrete_minus_identity(kind):
    md = gt.gated_rnn(kind, GENERIC[kind], 40, seed=2)
    mc = gt.gated_rnn(kind, GENERIC[kind], 40, seed=2, dt=0.1)
    x = md.random_state(5)
    np.testing.assert_allclose(mc.jacobian(x), md.jacobian(x) - np.eye(md.dim), atol=1e-14)


def test_same_seed_same_numbers_and_gains_rescale_draws():
    a = gt.gated_rnn("cho", gt.ChoGRUParams(s_h=3), 30, seed=7)
    b = gt.gated_rnn("cho", gt.ChoGRUParams(s_h=6), 30, seed=7)
    np.testing.assert_allclose(2 * a.weights["h"], b.weights["h"])
    x = a.random_state(1)
    np.testing.assert_array_equal(a.simulate(x, 20), gt.gated_rnn("cho", gt.ChoGRUParams(s_h=3), 30, seed=7).simulate(x, 20))
    assert not np.allclose(a.weights["h"], gt.gated_rnn("cho", gt.ChoGRUParams(s_h=3), 30, seed=8).weights["h"])


def test_update_gate_conventions():
    # Cho: z -> 0 freezes the state; PyTorch: z -> 1 freezes it.
    x = np.tanh(np.random.default_rng(0).standard_normal(20))
    cho = gt.gated_rnn("cho", gt.ChoGRUParams(s_z=0, b_z=-40), 20, 0)
    tor = gt.gated_rnn("torch", gt.TorchGRUParams(s_z=0, b_z=40), 20, 0)
    np.testing.assert_allclose(cho.step(x), x, atol=1e-12)
    np.testing.assert_allclose(tor.step(x), x, atol=1e-12)


def test_batched_step_matches_single():
    m = gt.gated_rnn("cho", GENERIC["cho"], 25, 0)
    X = np.random.default_rng(1).standard_normal((25, 3))
    np.testing.assert_allclose(m.step(X)[:, 1], m.step(X[:, 1]), atol=1e-14)


def test_lstm_with_closed_output_gain_has_N_zero_eigenvalues():
    N = 50
    m = gt.gated_rnn("lstm", gt.LSTMParams(s_o=0.0, b_f=1.0), N, 3)
    x = m.simulate(m.random_state(1), 50)
    e = np.linalg.eigvals(m.jacobian(x))
    assert np.sum(np.abs(e) < 1e-8) == N


def test_eigvals_helper_matches_scipy():
    from scipy.linalg import eigvals

    J = np.random.default_rng(0).standard_normal((60, 60))
    a = np.sort_complex(gt.eigvals(J.copy()))
    b = np.sort_complex(eigvals(J))
    np.testing.assert_allclose(a, b, atol=1e-10)


@pytest.mark.parametrize("bad", [
    lambda: gt.ChoGRUParams(s_h=-1.0),
    lambda: gt.ChoGRUParams(b_z=float("nan")),
    lambda: gt.LSTMParams(s_g="2"),
    lambda: gt.gated_rnn("vanilla", gt.ChoGRUParams(), 10),
    lambda: gt.gated_rnn("cho", gt.LSTMParams(), 10),
    lambda: gt.gated_rnn("cho", gt.ChoGRUParams(), 0),
    lambda: gt.gated_rnn("cho", gt.ChoGRUParams(), 10, seed=-1),
    lambda: gt.gated_rnn("cho", gt.ChoGRUParams(), 10, dt=2.0),
    lambda: gt.gated_rnn("cho", gt.ChoGRUParams(), 10).step(np.zeros(11)),
])
def test_bad_parameters_raise_value_error(bad):
    with pytest.raises(ValueError):
        bad()


def test_error_message_names_parameter_and_range():
    with pytest.raises(ValueError, match=r"s_z must be a finite number >= 0"):
        gt.ChoGRUParams(s_z=-2)
    with pytest.raises(ValueError, match=r"kind must be one of 'cho', 'torch', 'lstm'"):
        gt.gated_rnn("gru", gt.ChoGRUParams(), 5)
