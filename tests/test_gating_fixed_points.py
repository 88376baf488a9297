"""The fixed-point census (analysis_lib.gating.fixed_points): roots of networks with known fixed
points, the de-duplication, the model adapters (GRU, PRX) against their own models, the fit of Σ."""
import numpy as np
import pytest

from analysis_lib.gating import ChoGRUParams, gated_rnn
from analysis_lib.gating import fixed_points as fp
from analysis_lib.gating.gru import census as gc
from analysis_lib.gating.prx import census as pc
from analysis_lib.gating.prx import model as prx


def _fd_jac(field, x, eps=1e-6):
    N = x.size
    J = np.empty((N, N))
    for j in range(N):
        e = np.zeros(N)
        e[j] = eps
        J[:, j] = (field.F((x + e)[:, None]) - field.F((x - e)[:, None]))[:, 0] / (2 * eps)
    return J


def test_known_roots_of_constructed_additive_network():
    # J = X tanh(X)^{-1}: the columns of X, their negatives and 0 are fixed points
    rng = np.random.default_rng(3)
    X = 1.6 * np.eye(3) + 0.3 * rng.standard_normal((3, 3))
    f = fp.additive_field_with_roots(X)
    known = np.concatenate([X, -X, np.zeros((3, 1))], axis=1)
    assert np.abs(f.F(known)).max() < 1e-12
    res = fp.find_fixed_points(f, fp.random_starts(3, 400, 0, radii=(0.5, 1.5, 3.0)))
    dist = [np.abs(res.roots - known[:, [k]]).max(axis=0).min() for k in range(known.shape[1])]
    assert max(dist) < 1e-8  # all 7 known roots found, none merged with another
    assert res.residual.max() <= 1e-10
    assert res.index_sum_ok


def test_decoupled_network_gives_the_product_count():
    # 1-D blocks −x + g tanh(x): 3 roots for g > 1, 1 for g ≤ 1 -> 3·3·1·3 = 27 roots in total
    g = np.array([2.0, 3.0, 0.5, 1.5])
    f = fp.AdditiveField(np.diag(g))
    res = fp.find_fixed_points(f, fp.random_starts(4, 600, 1, radii=(0.5, 1.5, 3.0)))
    assert res.count == 27
    assert res.index_sum_ok
    # index of a root = number of unstable coordinates: the zero coordinate of a g > 1 block
    zero_coords = np.sum(np.abs(res.roots[[0, 1, 3]]) < 1e-9, axis=0)
    assert np.array_equal(res.index, zero_coords)
    assert res.n_stable == 8  # every g > 1 block at one of its two nonzero roots
    # the saturation curve is non-decreasing and ends at the count
    assert np.all(np.diff(res.saturation) >= 0) and res.saturation[-1] == 27


def test_dedupe_merges_copies_and_keeps_close_distinct_roots():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(5), rng.standard_normal(5)
    c = a + 1e-3  # a distinct root close to a
    roots = np.stack([a, b, a + 1e-12, c, b - 1e-11, a], axis=1)
    uniq, label = fp.dedupe(roots, tol=1e-6)
    assert uniq.shape[1] == 3
    assert label.tolist() == [0, 1, 0, 2, 1, 0]
    with pytest.raises(ValueError, match="roots must be an"):
        fp.dedupe(np.zeros(3))
    with pytest.raises(ValueError, match="tol"):
        fp.dedupe(roots, tol=0.0)


def test_odd_field_adds_partners_and_starts_are_checked():
    f = fp.AdditiveField(np.diag([2.0, 0.5]))
    res = fp.find_fixed_points(f, np.array([[1.0], [0.1]]))  # one start: finds +x*, adds −x*
    assert res.count == 3
    with pytest.raises(ValueError, match=r"starts must have shape \(2, n_starts\)"):
        fp.find_fixed_points(f, np.zeros((3, 4)))


def test_gru_field_is_the_gru_fixed_point_equation():
    p = ChoGRUParams(s_h=4.0, s_r=10.0, b_r=-2.0, s_z=3.0, b_z=-1.0, b_h=0.1)
    f = gc.gru_field(p, 12, 5)
    x = np.random.default_rng(1).uniform(-0.8, 0.8, 12)
    assert np.abs(f.jac(x[:, None])[0] - _fd_jac(f, x)).max() < 1e-7
    res = fp.find_fixed_points(f, gc.gru_starts(p, 12, 5, n_random=60, n_mf=20))
    m = gated_rnn("cho", p, 12, 5)
    for k in range(res.count):  # every root is a fixed point of the GRU map, whatever z is
        h = res.roots[:, k]
        assert np.abs(m.step(h) - h).max() < 1e-9
    assert not f.odd and gc.gru_field(p.replace(s_r=0.0, b_h=0.0), 12, 5).odd


def test_prx_field_is_the_model_fixed_point_equation():
    p = prx.PRXParams(g_h=2.5, alpha_r=5.0, alpha_z=3.0, beta_r=0.3)
    f = pc.prx_field(p, 10, 2)
    x = 0.7 * np.random.default_rng(2).standard_normal(10)
    assert np.abs(f.jac(x[:, None])[0] - _fd_jac(f, x)).max() < 1e-7
    res = fp.find_fixed_points(f, pc.prx_starts(p, 10, 2, n_random=60, n_mf=20))
    assert res.count >= 1
    J = prx.make_couplings(10, 2)
    for k in range(res.count):
        h = res.roots[:, k]
        ph = prx.phi(h, p)
        state = np.concatenate([h, J.Jz @ ph, J.Jr @ ph])  # z, r slaved to h at a fixed point
        assert np.abs(prx.rhs(state, p, J)).max() < 1e-9


def test_complexity_fit_recovers_a_known_growth_rate():
    Ns = (10, 20, 30, 40)
    counts = {n: np.full(6, np.exp(0.1 * n)) for n in Ns}
    c = fp.Census("synthetic", Ns, counts, counts, {n: np.ones(6, bool) for n in Ns},
                  {n: np.zeros(6) for n in Ns}, {n: [] for n in Ns}, 0.0)
    fit = fp.complexity_fit(c, n_boot=50)
    assert fit.sigma_annealed == pytest.approx(0.1, abs=2e-3)
    assert fit.ci_quenched[0] <= fit.sigma_quenched <= fit.ci_quenched[1]
    with pytest.raises(ValueError, match="at least two sizes"):
        fp.complexity_fit(fp.Census("one", (10,), counts, counts, {}, {}, {}, 0.0))


def test_fixed_point_spectrum_summary_is_at_a_model_fixed_point_and_pins_with_alpha_z():
    out = pc.fixed_point_spectrum_summary(3.0, 2.0, alpha_z=(0.0, 100.0), N=120, seed=2, n_starts=8, batch=8)
    assert out["found"] and out["residual"] <= 1e-10 and out["q"] > 1e-3
    J = prx.make_couplings(120, 2)
    for az in (0.0, 100.0):  # the same (h*, z*, r*) is a fixed point of the full model at every α_z
        assert np.abs(prx.rhs(out["x"], prx.PRXParams(g_h=3.0, alpha_r=2.0, alpha_z=az), J)).max() < 1e-9
        assert out[az]["eigs"].shape == (360,)
    assert out[0.0]["max_re"] > 0.05  # an unstable root of a chaotic network ...
    assert abs(out[100.0]["max_re"]) < 0.01 and abs(out[100.0]["edge"]) < 0.01  # ... pinned by the z gate
    with pytest.raises(ValueError, match="alpha_r"):
        pc.fixed_point_spectrum_summary(1.5, 2.0, N=20)
    zero_only = pc.fixed_point_spectrum_summary(3.0, 2.0, alpha_z=(0.0,), N=60, seed=0, n_starts=8, batch=8)
    assert zero_only["n_converged"] >= 1 and not zero_only["found"]  # its only converged start ends at h = 0: not counted


def test_fixed_point_spectrum_summary_stops_at_the_first_batch_with_a_root():
    """Starts come batch by batch from one stream: the first batch is the same whatever `n_starts`, and no
    further batch runs once one ends at a nonzero root (FULL allows 48 starts where 1 in ~12 converges)."""
    few = pc.fixed_point_spectrum_summary(3.0, 2.0, alpha_z=(0.0,), N=120, seed=2, n_starts=4, batch=4)
    many = pc.fixed_point_spectrum_summary(3.0, 2.0, alpha_z=(0.0,), N=120, seed=2, n_starts=40, batch=4)
    assert few["found"] and few["n_used"] == many["n_used"] == 4
    np.testing.assert_array_equal(few["x"], many["x"])
    # this network's 8 starts all converge to h = 0 or fail: every batch is tried, the last one short (3 + 3 + 2)
    none = pc.fixed_point_spectrum_summary(3.0, 2.0, alpha_z=(0.0,), N=60, seed=3, n_starts=8, batch=3)
    assert none["n_used"] == 8 and not none["found"] and none["n_converged"] >= 1
