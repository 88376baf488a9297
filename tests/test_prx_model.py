"""Fast unit tests of the PRX gated RNN (spec gating_theory.md §8): Jacobian, limits, averages."""
import warnings

import numpy as np
import pytest

from analysis_lib.gating.prx import model as prx

GENERIC = dict(g_h=3.0, alpha_z=2.0, alpha_r=3.0, beta_h=0.1, beta_z=0.3, beta_r=-0.2, tau_z=0.7)


def _fd_jacobian(x, p, J, eps=1e-6):
    D = np.empty((x.size, x.size))
    for j in range(x.size):
        e = np.zeros(x.size)
        e[j] = eps
        D[:, j] = (prx.rhs(x + e, p, J) - prx.rhs(x - e, p, J)) / (2 * eps)
    return D


@pytest.mark.parametrize("tau_r", [1.3, 0.0])
def test_jmp_matches_finite_differences(tau_r):
    p = prx.PRXParams(**GENERIC, tau_r=tau_r)
    N = 50
    J = prx.make_couplings(N, 1)
    rng = np.random.default_rng(0)
    x = 0.7 * rng.standard_normal(prx.state_dim(p, N))
    Dfd = _fd_jacobian(x, p, J)
    Q = rng.standard_normal((x.size, 5))
    assert np.max(np.abs(prx.jmp(x, Q, p, J) - Dfd @ Q)) < 1e-6
    assert np.max(np.abs(prx.jacobian_dense(x, p, J) - Dfd)) < 1e-6
    assert abs(prx.trace_jacobian(x, p, J) - np.trace(Dfd)) < 1e-6
    # the dense and blockwise tangent steps agree
    x1, Q1 = prx.rk4_tangent_step(x, Q, 0.05, p, J)
    x2, Q2 = prx.rk4_tangent_step(x, Q, 0.05, p, J, dense=True)
    assert np.allclose(Q1, Q2, atol=1e-12) and np.allclose(x1, x2, atol=0)


def test_fixed_point_form_drops_only_the_gate_term():
    p = prx.PRXParams(**GENERIC)
    N = 20
    J = prx.make_couplings(N, 2)
    x = np.random.default_rng(1).standard_normal(3 * N)
    D, Dfp = prx.jacobian_dense(x, p, J), prx.jacobian_dense(x, p, J, fixed_point_form=True)
    diff = D - Dfp
    assert np.count_nonzero(diff[:N, N:2 * N] - np.diag(np.diag(diff[:N, N:2 * N]))) == 0
    diff[:N, N:2 * N] = 0
    assert np.all(diff == 0)


def test_sig_no_overflow_at_large_gain():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = prx.sig(np.array([-5.0, 0.0, 5.0]), 1000.0)
    assert s[0] == 0.0 and s[1] == 0.5 and s[2] == 1.0


def test_zero_state_fixed_point_and_decoupled_blocks():
    p = prx.PRXParams(g_h=2.5, alpha_z=4.0, alpha_r=3.0, beta_z=0.4, beta_r=-0.3, tau_z=0.5, tau_r=2.0)
    N = 30
    J = prx.make_couplings(N, 3)
    x = np.zeros(3 * N)
    assert np.all(prx.rhs(x, p, J) == 0)
    ev = np.linalg.eigvals(prx.jacobian_dense(x, p, J))
    assert np.sum(np.abs(ev + 1 / p.tau_z) < 1e-8) == N
    assert np.sum(np.abs(ev + 1 / p.tau_r) < 1e-8) == N
    hb = np.linalg.eigvals(p.sigma_z0 * (-np.eye(N) + p.sigma_r0 * p.g_h * J.Jh))
    rest = ev[(np.abs(ev + 1 / p.tau_z) > 1e-8) & (np.abs(ev + 1 / p.tau_r) > 1e-8)]
    assert np.allclose(np.sort_complex(rest), np.sort_complex(hb), atol=1e-8)


def test_vanilla_limit():
    p = prx.PRXParams(g_h=1.7, alpha_z=0.0, alpha_r=0.0, beta_z=0.5, beta_r=-1.0)
    N = 40
    J = prx.make_couplings(N, 4)
    x = np.random.default_rng(2).standard_normal(3 * N)
    h = x[:N]
    expected = p.sigma_z0 * (-h + p.sigma_r0 * J.Jh @ np.tanh(p.g_h * h))
    assert np.max(np.abs(prx.rhs(x, p, J)[:N] - expected)) < 1e-12


def test_tau_r_zero_is_the_algebraic_limit():
    """τ_r = 0 equals the τ_r > 0 model with r slaved to J^r φ(h)."""
    p0 = prx.PRXParams(**GENERIC, tau_r=0.0)
    p1 = p0.replace(tau_r=1.0)
    N = 25
    J = prx.make_couplings(N, 5)
    rng = np.random.default_rng(3)
    hz = rng.standard_normal(2 * N)
    r = J.Jr @ np.tanh(p0.g_h * hz[:N] + p0.beta_h)
    assert np.allclose(prx.rhs(hz, p0, J), prx.rhs(np.concatenate([hz, r]), p1, J)[:2 * N], atol=1e-13)


def test_simulate_reproducible_and_records():
    p = prx.PRXParams(g_h=3.0, alpha_r=2.0)
    J = prx.make_couplings(30, 0)
    a = prx.simulate(p, J, T=2.0, dt=0.1, record_every=5, seed=3)
    b = prx.simulate(p, J, T=2.0, dt=0.1, record_every=5, seed=3)
    assert a.h.shape == (5, 30) and np.array_equal(a.h, b.h)
    assert np.allclose(a.t, [0, 0.5, 1.0, 1.5, 2.0])


def test_pair_avg_limits_and_monte_carlo():
    f = lambda x: np.tanh(2.0 * x)
    g = lambda x: 1 / (1 + np.exp(-3.0 * x + 0.5))
    C0 = 0.8
    # C = C0: ⟨f g⟩ over one variable
    assert abs(prx.pair_avg(f, g, C0, C0, n=80) - prx.gauss_avg(lambda x: f(x) * g(x), C0, n=80)) < 1e-12
    # C = 0: product of means
    assert abs(prx.pair_avg(f, g, C0, 0.0, n=80) - prx.gauss_avg(f, C0) * prx.gauss_avg(g, C0)) < 1e-12
    # negative C against Monte Carlo (1e5 samples, 3 sigma)
    C = -0.5
    rng = np.random.default_rng(0)
    cov = np.array([[C0, C], [C, C0]])
    xy = rng.multivariate_normal([0, 0], cov, size=100_000)
    samples = f(xy[:, 0]) * g(xy[:, 1])
    mc, se = samples.mean(), samples.std() / np.sqrt(samples.size)
    assert abs(prx.pair_avg(f, g, C0, C) - mc) < 3 * se
    # same-function shortcut equals the general path for both signs
    Cs = np.array([0.8, 0.3, 0.0, -0.3, -0.8])
    assert np.allclose(prx.pair_avg(f, f, C0, Cs), prx.pair_avg(f, lambda x: np.tanh(2.0 * x), C0, Cs), atol=1e-14)


@pytest.mark.parametrize("bad", [dict(g_h=-1.0), dict(tau_z=0.0), dict(tau_r=-0.1), dict(alpha_r=float("nan"))])
def test_params_validation(bad):
    with pytest.raises(ValueError):
        prx.PRXParams(**bad)


def test_input_validation():
    p = prx.PRXParams()
    J = prx.make_couplings(10, 0)
    with pytest.raises(ValueError, match="x must have"):
        prx.rhs(np.zeros(20), p, J)
    with pytest.raises(ValueError, match="I must be"):
        prx.rhs(np.zeros(30), p, J, I=np.ones(3))
    with pytest.raises(ValueError, match="J must be"):
        prx.rhs(np.zeros(30), p, "J")
    with pytest.raises(ValueError, match="N must be"):
        prx.make_couplings(0, 0)


def test_fused_tangent_step_with_input():
    p = prx.PRXParams(**GENERIC, tau_r=1.0)
    J = prx.make_couplings(20, 6)
    rng = np.random.default_rng(4)
    x, Q, I = rng.standard_normal(60), rng.standard_normal((60, 3)), 0.3 * rng.standard_normal(20)
    x1, Q1 = prx.rk4_tangent_step(x, Q, 0.05, p, J, I)
    x2, Q2 = prx.rk4_tangent_step(x, Q, 0.05, p, J, I, dense=True)
    assert np.allclose(Q1, Q2, atol=1e-12) and np.allclose(x1, prx.rk4_step(x, 0.05, p, J, I), atol=1e-14)


def test_memory_pulse_hold_and_reset():
    """Slow regime (σ_z(0) ≪ 1) holds a pulse; a z-gate drive erases it; the fast regime forgets."""
    slow = prx.PRXParams(g_h=1.5, alpha_r=0.0, alpha_z=5.0, beta_z=4.0)
    held = prx.memory_pulse(slow, 100, 0, hold_time=30.0)
    reset = prx.memory_pulse(slow, 100, 0, hold_time=30.0, reset_drive=5.0)
    fast = prx.memory_pulse(slow.replace(beta_z=0.0), 100, 0, hold_time=30.0)
    assert held["retained"] > 0.3 and reset["retained"] < 0.5 * held["retained"] and abs(fast["retained"]) < 0.05


def test_pair_avg_in_chunks_bounded_memory_same_values():
    """Many nodes × many lags is done in chunks: same values as one lag at a time, bounded memory."""
    import tracemalloc

    C = np.linspace(-0.2, 0.4, 300)
    f = lambda x: np.tanh(6 * x)
    one_by_one = np.array([prx.pair_avg(f, f, 0.4, c, n=64) for c in C])
    np.testing.assert_allclose(prx.pair_avg(f, f, 0.4, C, n=64), one_by_one, rtol=0, atol=1e-14)
    tracemalloc.start()
    prx.pair_avg(f, f, 0.4, C, n=512)  # unchunked: 300 × 512 × 512 doubles = 630 MB per temporary
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 300e6
