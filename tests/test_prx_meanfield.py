"""Fast unit tests of the PRX static mean field and Jacobian support (spec gating_theory.md §8)."""
import math

import numpy as np
import pytest

from analysis_lib.gating.prx import model as prx
from analysis_lib.gating.prx import meanfield as mf
from analysis_lib.gating.rmt.support import T_matrix, rho_T


def test_zero_fp_threshold_and_edge():
    assert mf.zero_fp_threshold(0.0) == 2.0
    assert abs(mf.zero_fp_threshold(1.0) - (1 + math.e)) < 1e-12
    p = prx.PRXParams(g_h=2.4, beta_r=0.0, beta_z=1.0)
    assert abs(mf.zero_fp_edge(p) - p.sigma_z0 * (2.4 * 0.5 - 1)) < 1e-15
    with pytest.raises(ValueError, match="beta_h"):
        mf.zero_fp_edge(p.replace(beta_h=0.1))


def test_small_delta_coeff_matches_finite_difference():
    for g, a in [(2.0, 2.0), (1.8, 4.0), (2.5, 1.0)]:
        p = prx.PRXParams(g_h=g, alpha_r=a)
        d1, d2 = 1e-6, 2e-6
        slope = (mf.mf_residual(d2, p) - mf.mf_residual(d1, p)) / (d2 - d1)
        assert abs(slope - mf.small_delta_coeff(g, a)) < 5e-3 * max(1.0, abs(mf.small_delta_coeff(g, a)))
        assert abs(mf.mf_residual(1e-9, p) - (g * g / 4 - 1)) < 1e-6


def test_sqrt8_sign_flip_and_root():
    assert mf.mf_residual(1e-3, prx.PRXParams(g_h=2.0, alpha_r=2.7)) < 0
    assert mf.mf_residual(1e-3, prx.PRXParams(g_h=2.0, alpha_r=3.0)) > 0
    assert abs(mf.subcritical_alpha_r() - mf.SQRT8) < 0.1


def test_heaviside_threshold_is_sqrt2():
    assert abs(mf.heaviside_min_gh() - math.sqrt(2)) < 1e-4


def test_fp_birth_line_monotone_and_absent_below_sqrt2():
    line = mf.fp_line([1.8, 1.9, 1.99])
    assert np.all(np.diff(line) < 0) and np.all(line > mf.SQRT8)
    assert np.isnan(mf.fp_birth_alpha_r(1.4))
    # at the line a nonzero solution just appears
    a = line[0]
    assert mf.static_mf(prx.PRXParams(g_h=1.8, alpha_r=a * 1.01)).Delta_h > 0
    assert mf.static_mf(prx.PRXParams(g_h=1.8, alpha_r=a * 0.99)).Delta_h == 0


def test_static_mf_solves_the_self_consistency():
    p = prx.PRXParams(g_h=3.0, alpha_r=2.0)
    s = mf.static_mf(p)
    from analysis_lib.gating.rmt.quadrature import gh_nodes

    x, w = gh_nodes(200)  # an independent rule (the library uses the trapezoid `gauss_nodes`)
    phi2 = np.tanh(3 * np.sqrt(s.Delta_h) * x) ** 2 @ w
    sr2 = (1 / (1 + np.exp(-2 * np.sqrt(phi2) * x))) ** 2 @ w
    assert abs(s.Delta_h - phi2 * sr2) < 1e-10 and abs(s.Delta_r - phi2) < 1e-12


@pytest.mark.parametrize("tau_r", [1.0, 0.5, 0.0])
def test_diag_stats_adapter_pole_form_equals_blocks(tau_r):
    p = prx.PRXParams(g_h=3.0, alpha_z=5.0, alpha_r=2.0, tau_r=tau_r)
    st = mf.frozen_state(p, 60, 0)
    S = mf.prx_diag_stats(st.h, st.z, st.r, p)
    lam = np.array([0.3 + 0.2j, -0.1 + 0.5j, 0.05, -0.7 + 0.01j])
    assert np.allclose(T_matrix(lam, S, "poles"), T_matrix(lam, S, "blocks"), rtol=1e-12, atol=1e-14)
    F = mf.rmt_F(lam, S)
    rho = rho_T(lam, S)
    assert np.all((F >= 1) == (rho >= 1))


def test_rmt_F_is_one_on_the_vanilla_circle():
    p = prx.PRXParams(g_h=3.0, alpha_z=0.0, alpha_r=0.0, beta_z=0.7)
    st = mf.frozen_state(p, 200, 1)
    S = mf.prx_diag_stats(st.h, st.z, st.r, p)
    s, sr0 = p.sigma_z0, p.sigma_r0
    radius = s * sr0 * math.sqrt(np.mean((3 * (1 - np.tanh(3 * st.h) ** 2)) ** 2))
    lam = -s + radius * np.exp(1j * np.linspace(0, 2 * np.pi, 9))
    assert np.max(np.abs(mf.rmt_F(lam, S) - 1)) < 1e-10


def test_F0_equals_K0_for_any_alpha_z():
    st = mf.frozen_state(prx.PRXParams(g_h=3.0, alpha_r=2.0), 300, 2)
    vals = []
    for az in (0.0, 5.0, 100.0):
        p = prx.PRXParams(g_h=3.0, alpha_z=az, alpha_r=2.0)
        S = mf.prx_diag_stats(st.h, st.z, st.r, p)
        u = mf._unit_terms(st.h, st.z, st.r, p)
        K0 = np.mean((u["sr"] * u["dph"]) ** 2) + np.mean((u["ph"] * u["dsr"]) ** 2) * np.mean(u["dph"] ** 2)
        assert abs(mf.rmt_K0(S) - K0) < 1e-12
        vals.append(mf.rmt_K0(S))
        m = mf.population_moments(p)
        assert abs(mf.rmt_F_theory(np.array([0.0]), m)[0] - m.K0) < 1e-12
    assert np.allclose(vals, vals[0], rtol=1e-12)


def test_frozen_spectrum_edge_small_N():
    p = prx.PRXParams(g_h=3.0, alpha_r=2.0)
    ev, S = mf.frozen_spectrum(p, 200, 0)
    assert ev.size == 400
    assert abs(ev.real.max() - mf.rmt_right_edge(S)) < 0.08  # finite N = 200 (0.03 at N = 500)
    assert np.mean(mf.rmt_F(ev, S) >= 0.9) > 0.95


def test_pinning_theory():
    p = prx.PRXParams(g_h=3.0, alpha_r=2.0)
    e = [mf.right_edge_theory(p.replace(alpha_z=a)) for a in (0.0, 10.0, 1000.0)]
    assert e[0] > e[1] > e[2] - 1e-12 and abs(e[2]) < 0.01
    assert mf.right_edge_theory(prx.PRXParams(g_h=5.0, alpha_r=5.0, alpha_z=1000.0)) > 0.01


def test_validation():
    with pytest.raises(ValueError, match="Delta"):
        mf.mf_residual(-1.0, prx.PRXParams())
    with pytest.raises(ValueError, match="no nonzero static solution"):
        mf.frozen_state(prx.PRXParams(g_h=1.5, alpha_r=10.0), 10, 0)
    with pytest.raises(ValueError, match="stats"):
        mf.rmt_F(0.0, "not stats")


def test_gaussian_averages_resolve_sharp_gains():
    """⟨φ'²⟩ at g_h = 8 and Φ(q) at large q integrate features of width ~1/g: the default rule must
    match adaptive quadrature (80 Gauss-Hermite nodes were 34 % and 4 % off here)."""
    from scipy.integrate import quad

    from analysis_lib.gating.gru import meanfield as gmf

    def ref(f):
        return quad(lambda x: f(x) * np.exp(-x * x / 2) / np.sqrt(2 * np.pi), -12, 12, points=[0.0], limit=500,
                    epsabs=1e-13)[0]

    g, D = 8.0, 0.3944
    dphi2 = lambda x: (g * (1 - np.tanh(g * x) ** 2)) ** 2
    assert abs(prx.gauss_avg(dphi2, D) - ref(lambda x: dphi2(np.sqrt(D) * x))) < 1e-8
    x80, w80 = gmf.gh_nodes(80)
    assert abs(dphi2(np.sqrt(D) * x80) @ w80 - ref(lambda x: dphi2(np.sqrt(D) * x))) > 1.0  # what it replaces
    q = 312.5
    assert abs(float(gmf.Phi(q)) - ref(lambda x: np.tanh(np.sqrt(q) * x) ** 2)) < 1e-8
    x, w = gmf.gauss_nodes()
    assert abs(w.sum() - 1) < 1e-14 and abs(w @ x ** 2 - 1) < 1e-12 and abs(w @ x ** 4 - 3) < 1e-11


def test_fp_birth_bisection_finds_the_scan_grid_point():
    """The bisection over the α_r grid (max_Δ R is non-decreasing in α_r) returns exactly what the
    left-to-right scan returned, including NaN (none) and 0 (g_h ≥ g_c)."""
    for g in (1.3, 1.42, 1.6, 1.8, 1.99, 2.5):
        a, b = mf.fp_birth_alpha_r(g), mf._fp_birth_alpha_r_scan(g)
        assert (np.isnan(a) and np.isnan(b)) or a == b, (g, a, b)
    assert mf.fp_birth_alpha_r(2.5) == 0.0
