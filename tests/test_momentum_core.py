"""Momentum (paper 04): update rule, theory formulas, drift law, models (spec §8 tests 1-6)."""
import numpy as np
import pytest

from analysis_lib import limit_threads
from analysis_lib.momentum import dynamics, experiments, models, theory

limit_threads(1)


def test_update_matches_torch_sgd():
    pytest.importorskip("torch")
    ms = models.MatrixSensing.make(6, 1, 10, rng=0)
    for model, w0 in ((models.ToyUV(), models.ToyUV.on_manifold(0.4)), (ms, ms.init(rng=1))):
        diff = dynamics.torch_sgd_max_abs_diff(model, w0, eta=0.05, beta=0.9, eps=0.1, n_steps=10)
        assert diff <= 1e-12


def test_sgdm_step_convention():
    w, pi = dynamics.sgdm_step(np.array([1.0]), np.array([0.5]), np.array([2.0]), eta=0.1, beta=0.9)
    assert pi[0] == pytest.approx(0.9 * 0.5 - 2.0)
    assert w[0] == pytest.approx(1.0 + 0.1 * pi[0])


def test_ar2_variance_exact_values():
    assert theory.ar2_stationary_variance(0.1, 1, 0.0) == pytest.approx(0.052632, abs=1e-6)
    assert theory.ar2_stationary_variance(0.1, 1, 0.9) == pytest.approx(0.513514, abs=1e-6)
    for eta, lam in ((0.1, 1.0), (0.3, 2.0), (0.01, 5.0)):
        assert theory.ar2_stationary_variance(eta, lam, 0.0) == pytest.approx(eta / (lam * (2 - eta * lam)), rel=1e-14)
    with pytest.raises(ValueError, match="eta\\*lam"):
        theory.ar2_stationary_variance(1.0, 5.0, 0.0)


def test_ar2_variance_simulation():
    q = models.QuadraticMode(1.0)
    run = dynamics.sgdm_label_noise(q, np.zeros(1), 0.1, 0.9, 1.0, 20_000, every=1,
                                    observers={"ms": dynamics.MeanSquare(10_000)}, noise_keys=np.arange(2000))
    assert run.observed["ms"].mean() == pytest.approx(0.513514, rel=0.03)


def test_relaxation_time_limits():
    # underdamped: 2/(1-β); overdamped: (1-β)/(ηλ)
    assert theory.ar2_relaxation_time(0.1, 1.0, 0.99) == pytest.approx(2 / 0.01, rel=0.02)
    assert theory.ar2_relaxation_time(1e-4, 1.0, 0.0) == pytest.approx(1 / 1e-4, rel=0.01)


def test_drift_with_momentum_matches_flow():
    toy = models.ToyUV()
    run = dynamics.sgdm_label_noise(toy, toy.on_manifold(np.log(3)), 0.005, 0.9, 0.2, 6400, noise_keys=np.arange(256))
    assert np.mean(toy.s(run.W)) == pytest.approx(0.7937, rel=0.02)
    assert theory.toy_flow_s(16, np.log(3), 0.2) == pytest.approx(0.7937, abs=1e-4)


@pytest.mark.slow
def test_drift_sgd_matches_flow():
    toy = models.ToyUV()
    run = dynamics.sgdm_label_noise(toy, toy.on_manifold(np.log(3)), 0.01, 0.0, 0.2, 160_000, noise_keys=np.arange(256))
    assert np.mean(toy.s(run.W)) == pytest.approx(0.7937, rel=0.03)


def test_flow_solves_ode_and_scalings():
    from scipy.integrate import solve_ivp

    sol = solve_ivp(lambda t, s: -(0.2 ** 2 / 2) * np.tanh(2 * s), (0, 16), [np.log(3)], rtol=1e-11, atol=1e-12,
                    t_eval=[3.0, 16.0])
    assert np.allclose(sol.y[0], theory.toy_flow_s(np.array([3.0, 16.0]), np.log(3), 0.2), atol=1e-6)
    assert theory.flow_time(100, 0.02, 0.9) == pytest.approx(100 * 0.02 ** 2 / 0.1 ** 2)
    assert theory.flow_time(100, 0.04, 0.9) / theory.flow_time(100, 0.02, 0.9) == pytest.approx(4)
    r = theory.one_minus_beta_star(8 * 0.01, 0.1) / theory.one_minus_beta_star(0.01, 0.1)
    assert r == pytest.approx(4.0)  # 8^(2/3)
    assert theory.speedup(0.01, 0.1) / theory.speedup(0.08, 0.1) == pytest.approx(8 ** (4 / 3))


def test_batched_equals_per_config_loop():
    toy = models.ToyUV()
    etas, betas, keys = np.array([0.05, 0.02, 0.05]), np.array([0.9, 0.99, 0.5]), np.array([0, 1, 0])
    occ = lambda: {"T": dynamics.Occupation(toy.distance, 0.2)}  # noqa: E731
    batch = dynamics.sgdm_label_noise(toy, toy.on_manifold(1.0), etas, betas, 0.1, 3000, noise_keys=keys,
                                      horizon=[3000, 2000, 1000], every=5, observers=occ())
    for i in range(3):
        one = dynamics.sgdm_label_noise(toy, toy.on_manifold(1.0), etas[i], betas[i], 0.1, [3000, 2000, 1000][i],
                                        noise_keys=[keys[i]], every=5, observers=occ())
        assert np.array_equal(one.W[0], batch.W[i])
        assert one.observed["T"][0] == batch.observed["T"][i]


def test_divergence_rule_counts_as_above():
    toy = models.ToyUV()
    # η·λ far beyond 2(1+β): blows up at once; the chain must count as above threshold, not as converged
    run = dynamics.sgdm_label_noise(toy, toy.on_manifold(1.0), 2.0, 0.0, 0.1, 500, every=5,
                                    observers={"T": dynamics.Occupation(toy.distance, 0.2)})
    assert run.diverged[0]
    assert run.observed["T"][0] == 500
    assert np.all(np.isfinite(run.W))


def test_matrix_sensing_identities():
    p = experiments.ms_params()
    model, U1, _ = experiments.ms_phase1(p)
    W = U1[None]
    assert model.loss(W)[0] < 1e-12
    tg, tj = model.trace_gn(W)[0], model.trace_gn_jac(W)[0]
    assert abs(tg - tj) / tj <= 1e-8
    assert model.trace_hessian(W)[0] == pytest.approx(tg, rel=1e-5)  # residual term vanishes on Γ
    est, se = models.hutchinson_trace(lambda v: model.hvp(U1, v), model.dim, n_probe=200, rng=0)
    assert abs(est - model.trace_hessian(W)[0]) < 4 * se + 1e-9
    # gradient vs finite differences
    rng = np.random.default_rng(0)
    w, Y = rng.standard_normal((1, model.dim)), model.y[None] + 0.1
    g = model.grad(w, Y)[0]
    e = np.zeros(model.dim); e[3] = 1e-6
    fd = (model.loss(w + e, Y)[0] - model.loss(w - e, Y)[0]) / 2e-6
    assert g[3] == pytest.approx(fd, rel=1e-6)
    # label-noise SGDM halves the error within 2k steps and lowers Tr ∇²L
    c = experiments.run_ms_curves(model, U1, 0.05, [0.98], 0.05, 2000, n_seeds=4)
    assert np.median(c.final_error) / model.test_error(W)[0] < 0.5
    assert np.median(c.final_trace) < tg


def test_teacher_student_gradients():
    ts = models.TeacherStudentTanh.make(rng=0)
    rng = np.random.default_rng(1)
    w = ts.init(rng=2)[None]
    Y = ts.y[None] + 0.1 * rng.standard_normal((1, ts.n))
    g = ts.grad(w, Y)[0]
    for j in (0, 20, 79):
        e = np.zeros(ts.dim); e[j] = 1e-6
        fd = (ts.loss(w + e, Y)[0] - ts.loss(w - e, Y)[0]) / 2e-6
        assert g[j] == pytest.approx(fd, rel=1e-5, abs=1e-9)
    J = ts.per_sample_grads(w)[0]
    assert ts.trace_gn(w)[0] == pytest.approx(np.sum(J ** 2) / ts.n)


def test_bad_inputs_raise():
    toy = models.ToyUV()
    with pytest.raises(ValueError, match="beta"):
        dynamics.sgdm_label_noise(toy, toy.on_manifold(0), 0.1, 1.0, 0.1, 10)
    with pytest.raises(ValueError, match="eta"):
        dynamics.sgdm_label_noise(toy, toy.on_manifold(0), -0.1, 0.5, 0.1, 10)
    with pytest.raises(ValueError, match="horizon"):
        dynamics.sgdm_label_noise(toy, toy.on_manifold(0), 0.1, 0.5, 0.1, 10, horizon=20)
    with pytest.raises(ValueError, match="n must be"):
        models.MatrixSensing.make(4, 1, 10)
    with pytest.raises(ValueError, match="unknown"):
        experiments.toy_params(bogus=1)
    with pytest.raises(ValueError, match="s_thr"):
        theory.toy_flow_steps(2.0, 1.0, 0.1, 0.5, 0.1)
