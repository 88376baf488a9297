"""Support condition ρ(T(λ)) = 1, edges, zero-state formulas (spec §8.2-8.3, 8.7-8.10)."""
import numpy as np
import pytest

from analysis_lib import limit_threads
from analysis_lib import gating as gt

limit_threads(1)


def _state_stats(kind, params, N=120, seed=0, steps=300):
    m = gt.gated_rnn(kind, params, N, seed)
    x = m.simulate(m.random_state(seed + 1), steps)
    return m, x, m.diag_stats(x)


def test_rho_T_reduces_to_AFM_form_without_z_and_r_sensitivity():
    from scipy.special import expit

    p = gt.ChoGRUParams(s_h=3, s_z=0, s_r=0, b_z=-0.5, b_r=0.3)
    m, x, st = _state_stats("cho", p)
    # recompute the gates from the weights, independently of the library's per-unit factors
    z, r = expit(p.b_z), expit(p.b_r)
    phi_prime = 1 - np.tanh(m.weights["h"] @ (r * x)) ** 2
    lam = np.array([0.3 + 0.2j, 1.1 - 0.4j, -0.7 + 0.05j, 2.0 + 0j])
    afm = np.array([p.s_h ** 2 * np.mean(z ** 2 * phi_prime ** 2 * r ** 2 / np.abs(l - (1 - z)) ** 2) for l in lam])
    np.testing.assert_allclose(gt.rho_T(lam, st), afm, rtol=1e-12)


@pytest.mark.parametrize("kind,params", [
    ("cho", gt.ChoGRUParams(s_h=3, s_z=4, s_r=2, b_z=-1)),
    ("torch", gt.TorchGRUParams(s_h=3, s_z=4, s_r=2, b_z=1)),
    ("lstm", gt.LSTMParams(b_f=1.0)),
])
def test_pole_form_equals_generic_block_inverse(kind, params):
    _, _, st = _state_stats(kind, params)
    rng = np.random.default_rng(0)
    lam = rng.standard_normal(40) + 1j * rng.standard_normal(40)
    np.testing.assert_allclose(gt.rho_T(lam, st, "poles"), gt.rho_T(lam, st, "blocks"), rtol=1e-10)
    # continuous-time view: same support shifted by −1
    stc = st.shifted(1.0)
    np.testing.assert_allclose(gt.rho_T(lam - 1, stc), gt.rho_T(lam, st), rtol=1e-10)


def test_grid_and_loop_agree_with_pointwise():
    _, _, st = _state_stats("lstm", gt.LSTMParams(b_f=2.0), N=80)
    re = np.linspace(-1.5, 1.5, 70) + 1e-3
    im = np.linspace(-1.2, 1.2, 9) + 2e-3
    X, Y = np.meshgrid(re, im)
    grid = gt.rho_T_grid(re, im, st)
    np.testing.assert_allclose(grid, gt.rho_T(X + 1j * Y, st), rtol=1e-12)
    np.testing.assert_allclose(gt.rho_T_loop(re[:5], im[:3], st), grid[:3, :5], rtol=1e-12)
    np.testing.assert_allclose(gt.rho_T_loop(re[:5], im[:3], st, closed_form=True), grid[:3, :5], rtol=1e-12)


def test_rho_T_small_far_away_and_infinite_on_pole():
    _, _, st = _state_stats("cho", gt.ChoGRUParams(s_h=3, s_z=4, s_r=2))
    assert np.all(gt.rho_T(np.array([10.0, 10j, -10 + 3j]), st) < 1)
    assert gt.rho_T(np.array([0j]), gt.lstm_stats(np.full(5, 0.5), np.ones(5), np.ones(5), np.ones(5)))[0] == np.inf


def test_perron_root_matches_eigvals_for_k3():
    T = np.abs(np.random.default_rng(0).standard_normal((7, 3, 3)))
    np.testing.assert_allclose(gt.perron_root(T), np.abs(np.linalg.eigvals(T)).max(-1))
    T2 = T[:, :2, :2]
    np.testing.assert_allclose(gt.perron_root(T2), np.abs(np.linalg.eigvals(T2)).max(-1))


def test_zero_state_gru_formula_within_3_percent():
    p = gt.ChoGRUParams(s_h=3, s_z=4, s_r=2, b_z=0, b_r=-1)
    e, st = gt.zero_state_spectrum("cho", p, 400, 0)
    assert abs(np.abs(e).max() / gt.gru_zero_radius(p) - 1) < 0.03
    assert abs(gt.radius_edge(st) / gt.gru_zero_radius(p) - 1) < 1e-8


def test_zero_state_lstm_formula_within_3_percent():
    p = gt.LSTMParams(b_i=1.0, b_o=-1.0, b_f=1.0)
    e, st = gt.zero_state_spectrum("lstm", p, 300, 0)
    assert abs(np.abs(e).max() / gt.lstm_zero_radius(p) - 1) < 0.03
    assert np.sum(np.abs(e) < 1e-8) == 300  # N eigenvalues at 0


def test_mf_fixed_point_stats_origin_independent_of_z():
    D = gt.mf_branches(6.0, 10.0, -2.0)[-1]
    vals = [gt.rho_T(np.array([0j]), gt.mf_fixed_point_stats(gt.ChoGRUParams(s_h=6, s_r=10, b_r=-2, s_z=sz, b_z=bz),
                                                             200, 0, D, continuous=True))[0]
            for sz, bz in ((0, 0), (10, -2), (3, 2))]
    assert np.ptp(vals) < 1e-12


def test_slow_mode_prediction_by_kind():
    st = gt.cho_stats(np.array([0.01, 0.5, 0.02, 0.9]), 0, 0.1, 0.5, 0, gt.ChoGRUParams())
    assert st.slow_mode_prediction(0.05) == 0.5
    stl = gt.lstm_stats(np.array([0.99, 0.5]), 1, 1, 1)
    assert stl.slow_mode_prediction(0.05) == 0.25
    with pytest.raises(ValueError, match="delta"):
        st.slow_mode_prediction(1.5)


def test_support_validation_errors():
    with pytest.raises(ValueError, match="stats must be a DiagStats"):
        gt.rho_T(np.array([0j]), {"z": 1})
    _, _, st = _state_stats("cho", gt.ChoGRUParams(), N=20)
    with pytest.raises(ValueError, match="extent"):
        gt.spectral_curve(st, (1, 0, -1, 1))
    with pytest.raises(ValueError, match="n_grid"):
        gt.support_grid(st, (-1, 1, -1, 1), n_grid=2)
    with pytest.raises(ValueError, match="method"):
        gt.rho_T(np.array([0j]), st, method="fast")


@pytest.mark.slow
@pytest.mark.parametrize("kind,params,N", [
    ("cho", gt.ChoGRUParams(s_h=3, s_z=4, s_r=2, b_z=-2), 400),
    ("torch", gt.TorchGRUParams(s_h=3, s_z=4, s_r=2, b_z=2), 400),
    ("lstm", gt.LSTMParams(b_f=3.0), 250),
])
def test_outside_fraction_below_5_percent(kind, params, N):
    r = gt.stationary_spectra(kind, params, N, 0)
    assert gt.outside_fraction(r.eigs[0], r.stats[0]) < 0.05


@pytest.mark.slow
def test_slow_rule_and_monotonicity():
    fr = []
    for bz in (2.0, 0.0, -2.0, -4.0):
        r = gt.stationary_spectra("cho", gt.ChoGRUParams(s_h=3, s_z=4, s_r=2, b_z=bz), 400, 0)
        s = gt.spectrum_summary(r.eigs[0], r.stats[0], 0.05, edges=False)
        assert abs(s["slow_frac"] - s["slow_pred"]) < 0.04
        fr.append(s["slow_frac"])
    assert np.all(np.diff(fr) > 0)


@pytest.mark.slow
def test_pinning_and_control():
    pinned = gt.summarize_spectra(gt.stationary_spectra("cho", gt.ChoGRUParams(s_h=3, s_z=10, s_r=2, b_z=-2), 400, 0, n_times=4))
    control = gt.summarize_spectra(gt.stationary_spectra("cho", gt.ChoGRUParams(s_h=3, s_z=0.5, s_r=2, b_z=2), 400, 0, n_times=4))
    assert 0.99 <= pinned["radius"] <= 1.06
    assert control["radius"] > 1.1


@pytest.mark.slow
def test_iid_radius_within_6_percent():
    p = gt.ChoGRUParams(s_h=3, s_z=4, s_r=2, b_z=-2)
    res = [gt.iid_spectrum("cho", p, 400, s) for s in range(3)]
    emp = np.mean([np.abs(e).max() for e, _ in res])
    th = np.mean([gt.radius_edge(st) for _, st in res])
    assert abs(emp / th - 1) < 0.06


def test_generic_k3_blocks_reduce_to_k2_when_third_unit_decouples():
    # Notebook 02 uses k = 3 blocks (PRX with finite τ_r); the generic path must handle any k.
    _, _, st = _state_stats("cho", gt.ChoGRUParams(s_h=3, s_z=4, s_r=2, b_z=-1), N=60)
    N = st.N
    K0 = np.zeros((N, 3, 3)); K0[:, :2, :2] = st.K0; K0[:, 2, 2] = 1.0
    K1 = np.zeros((N, 3, 3)); K1[:, :2, :2] = st.K1
    ell = np.zeros((N, 3, 3)); ell[:, :2, :2] = st.ell
    gains = np.zeros((3, 3)); gains[:2, :2] = st.gains
    st3 = gt.DiagStats("k3", K0, K1, ell, gains)
    lam = np.array([0.2 + 0.3j, 1.05 + 0j, -0.5 - 0.1j])
    np.testing.assert_allclose(gt.rho_T(lam, st3), gt.rho_T(lam, st), rtol=1e-10)
    with pytest.raises(ValueError, match="gains"):
        gt.DiagStats("bad", K0, K1, ell, np.ones((2, 2)))
