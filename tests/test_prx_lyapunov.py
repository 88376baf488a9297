"""Fast unit tests of the Lyapunov/QR machinery and trajectory statistics (spec §8)."""
import numpy as np
import pytest

from analysis_lib.gating import lyapunov as ly
from analysis_lib.gating import prx


def test_qr_on_linear_system_with_known_exponents():
    A = np.array([[0.3, 1.0, -0.5], [0.0, -0.1, 2.0], [0.0, 0.0, -0.5]])
    dt = 0.1  # long window: the finite-time bias is O(log(cond)/T)

    def step(x, Q):
        # exact propagator of the linear flow applied to the tangent vectors
        return x, M @ Q

    from scipy.linalg import expm

    M = expm(A * dt)
    exps = ly.qr_lyapunov_generic(step, np.zeros(3), k=3, n_steps=100_000, dt=dt)
    assert np.allclose(exps, [0.3, -0.1, -0.5], atol=1e-3)


def test_sum_of_exponents_equals_mean_trace():
    p = prx.PRXParams(g_h=4.0, alpha_z=1.0, alpha_r=2.0, tau_r=0.5)
    J = prx.make_couplings(20, 0)
    res = ly.lyapunov_qr(p, J, k=60, T=40.0, dt=0.05, transient=20.0, with_trace=True)
    assert abs(res.exponents.sum() - res.trace_mean) < 0.01 * abs(res.trace_mean)


def test_blockwise_and_dense_lyapunov_agree():
    p = prx.PRXParams(g_h=4.0, alpha_z=2.0, alpha_r=2.0)
    J = prx.make_couplings(30, 1)
    a = ly.lyapunov_qr(p, J, k=5, T=5.0, transient=2.0)
    b = ly.lyapunov_qr(p, J, k=5, T=5.0, transient=2.0, dense=True)
    assert np.allclose(a.exponents, b.exponents, atol=1e-9)


def test_vjp_is_the_transpose():
    for tau_r in (1.0, 0.0):
        p = prx.PRXParams(g_h=3.0, alpha_z=2.0, alpha_r=3.0, beta_h=0.1, tau_z=0.7, tau_r=tau_r)
        J = prx.make_couplings(25, 1)
        rng = np.random.default_rng(0)
        x = 0.7 * rng.standard_normal(prx.state_dim(p, 25))
        a = rng.standard_normal(x.size)
        D = prx.jacobian_dense(x, p, J)
        assert np.allclose(ly._vjp_from_local(prx._local(x, p, J), a, p, J), D.T @ a, atol=1e-12)


def test_participation_ratio_limits():
    rng = np.random.default_rng(0)
    iso = rng.standard_normal((20000, 10))
    assert abs(ly.participation_ratio(iso) - 10) < 0.2
    rank1 = np.outer(rng.standard_normal(500), rng.standard_normal(10))
    assert abs(ly.participation_ratio(rank1) - 1) < 1e-8
    with pytest.raises(ValueError):
        ly.participation_ratio(np.zeros(5))


def test_autocorr_of_ar1_process():
    rng = np.random.default_rng(1)
    a, n = 0.9, 200_000
    x = np.empty(n)
    x[0] = 0
    e = rng.standard_normal(n)
    for t in range(1, n):
        x[t] = a * x[t - 1] + e[t]
    C = ly.autocorr(x, 5)
    theory = a ** np.arange(6) / (1 - a * a)
    assert np.allclose(C, theory, rtol=0.05)
    assert ly.correlation_time(a ** np.arange(40), 1.0) == 10.0  # 0.9^10 < 1/e < 0.9^9


def test_kaplan_yorke_and_crowding():
    assert ly.kaplan_yorke(np.array([0.5, 0.0, -1.0])) == pytest.approx(2.5)
    assert ly.crowding_fraction(np.array([0.005, -0.002, 0.5, -1.0])) == 0.5


def test_mle_run_reproducible_small():
    p = prx.PRXParams(g_h=4.0, alpha_r=2.0, tau_r=0.0)
    a = ly.mle_run(p, 40, 3, T=10.0, dt=0.1, transient=5.0, record_every=5)
    b = ly.mle_run(p, 40, 3, T=10.0, dt=0.1, transient=5.0, record_every=5)
    assert a["mle"] == b["mle"] and a["pr"] == b["pr"] and np.isfinite(a["var_h"])


@pytest.mark.slow
def test_adjoint_growth_matches_forward_mle():
    p = prx.PRXParams(g_h=5.0, alpha_r=2.0, alpha_z=0.0)
    res = ly.adjoint_growth(p, prx.make_couplings(300, 0), T=60.0, dt=0.05)
    assert abs(res["slope"] - res["mle_forward"]) < 0.2 * abs(res["mle_forward"])


@pytest.mark.parametrize("beta_h_after", [None, 0.2])
def test_mle_runs_on_shared_network_equal_one_by_one(beta_h_after):
    """The batched runs (one network, several gains; notebook 02's F9/F10) give each run's
    `mle_run` result: same protocol, initial states and tangent; only summation order differs."""
    ps = [prx.PRXParams(g_h=1.8, alpha_r=50.0), prx.PRXParams(g_h=3.0, alpha_r=2.0, alpha_z=5.0, beta_z=1.0),
          prx.PRXParams(g_h=1.5, alpha_r=10.0, beta_r=0.5)]
    scales, units = [0.01, 1.0, 0.5], [3, 0, 2]
    kw = dict(T=10.0, dt=0.1, transient=5.0, record_every=5, beta_h_after=beta_h_after)
    batch = ly.mle_runs(ps, 40, 3, init_scales=scales, n_trace_units=units, **kw)
    for p, s, u, b in zip(ps, scales, units, batch):
        a = ly.mle_run(p, 40, 3, init_scale=s, n_trace_units=u, **kw)
        assert a.keys() == b.keys()
        for key in a:
            pairs = a[key].items() if key == "traces" else [(key, a[key])]
            for k2, va in pairs:
                vb = b[key][k2] if key == "traces" else b[key]
                np.testing.assert_allclose(vb, va, rtol=1e-9, atol=1e-12, err_msg=f"{key}/{k2}")
    assert batch[0]["mle"] != batch[1]["mle"]  # the columns really carry different networks' dynamics


def test_mle_runs_algebraic_r_and_bad_input():
    ps = [prx.PRXParams(g_h=4.0, alpha_r=2.0, tau_r=0.0), prx.PRXParams(g_h=3.0, alpha_r=2.0, tau_r=0.0)]
    batch = ly.mle_runs(ps, 30, 1, T=5.0, dt=0.1, transient=2.0, record_every=5)
    for p, b in zip(ps, batch):
        assert b["mle"] == pytest.approx(ly.mle_run(p, 30, 1, T=5.0, dt=0.1, transient=2.0, record_every=5)["mle"],
                                         rel=1e-9)
    with pytest.raises(ValueError, match="tau_z and tau_r"):
        ly.mle_runs([ps[0], prx.PRXParams(tau_r=1.0)], 30, 1, T=1.0)
    with pytest.raises(ValueError, match="params must hold"):
        prx.SharedCouplingStepper([], prx.make_couplings(5, 0))
