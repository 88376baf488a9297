"""Unit tests of the DMFT solvers and the DMFT Lyapunov exponent (spec gating_theory.md §8)."""
import numpy as np
import pytest

from analysis_lib.gating.prx import dmft
from analysis_lib.gating.prx import model as prx


def test_schrodinger_sech2_ground_state():
    tau = np.arange(3000) * 0.01
    V = -2 / np.cosh(tau) ** 2
    E0, psi = dmft.schrodinger_ground_state(V, 0.01)
    assert abs(E0 + 1) < 1e-3
    E0d, _ = dmft.schrodinger_ground_state(V, 0.01, extend=2.0)
    assert abs(E0d - E0) < 1e-6
    # ground state ∝ sech(τ); with s = 2 the kinetic term shrinks: E0 = −(√(1+... )) check scaling
    assert np.allclose(psi / psi[0], 1 / np.cosh(tau), atol=2e-3)


def test_even_filter_matches_ou_correlation():
    """White-noise-like input: a narrow C filtered by 1/(1+ω²τ²) gives the OU shape e^{−τ/τ_f}."""
    dtau, tf = 0.01, 1.5
    tau = np.arange(4000) * dtau
    C = np.zeros_like(tau)
    C[0] = 1.0 / dtau  # discrete delta (even extension: weight 1)
    out = dmft.even_filter(C, dtau, tf)
    theory = np.exp(-tau / tf) / (2 * tf)
    assert np.allclose(out[100:1000], theory[100:1000], rtol=2e-3)


def test_gp_paths_have_the_target_covariance():
    rng = np.random.default_rng(0)
    tau = np.arange(512) * 0.1
    C = 0.7 * np.exp(-tau ** 2 / 2)
    paths = dmft._gp_paths(C, 4000, 256, rng)
    emp = np.array([np.mean(paths[:, :200] * paths[:, l:200 + l]) for l in (0, 5, 10)])
    assert np.allclose(emp, C[[0, 5, 10]], atol=0.02)


def test_fourier_dmft_matches_particle_potential_coarse():
    p = prx.PRXParams(g_h=3.0, alpha_r=0.0, alpha_z=0.0, tau_r=0.0)
    res = dmft.dmft_fourier(p, n_tau=500, dtau=0.1, n_nodes=24, tol=1e-8)
    assert res.converged
    ref = dmft.particle_potential_ch0(p, n_grid=1500)
    assert abs(res.C_h[0] - ref) < 0.02 * ref


def test_dmft_collapses_below_threshold():
    """g_h σ_r(0) < 1 with α_r = 0: no time-dependent solution (SCS below g = 1)."""
    res = dmft.dmft_fourier(prx.PRXParams(g_h=1.6, alpha_r=0.0, tau_r=0.0), n_tau=300, dtau=0.1, n_nodes=16,
                            max_iter=400)
    assert res.C_h[0] < 1e-6


def test_validation():
    with pytest.raises(ValueError, match="alpha_z"):
        dmft.dmft_fourier(prx.PRXParams(alpha_z=1.0))
    with pytest.raises(ValueError, match="beta_h"):
        dmft.dmft_mc(prx.PRXParams(beta_h=0.2))
    with pytest.raises(ValueError, match="accel"):
        dmft.dmft_fourier(prx.PRXParams(), accel="newton")


@pytest.mark.slow
def test_fourier_dmft_vs_particle_potential_scs():
    p = prx.PRXParams(g_h=3.0, alpha_r=0.0, alpha_z=0.0, tau_r=0.0)
    res = dmft.dmft_fourier(p)
    assert res.converged
    assert abs(res.C_h[0] - dmft.particle_potential_ch0(p)) < 0.01 * res.C_h[0]


@pytest.mark.slow
def test_fourier_quick_point_converges_fast():
    res = dmft.dmft_fourier(prx.PRXParams(g_h=3.0, alpha_r=2.0, alpha_z=0.0, tau_r=1.0))
    assert res.converged and res.seconds < 30


@pytest.mark.slow
def test_mc_dmft_vs_fourier_at_alpha_z_0():
    p = prx.PRXParams(g_h=3.0, alpha_r=2.0, alpha_z=0.0, tau_r=1.0)
    f = dmft.dmft_fourier(p)
    m = dmft.dmft_mc(p, seed=0)
    assert abs(m.C_h[0] - f.C_h[0]) < 0.05 * f.C_h[0]


@pytest.mark.slow
def test_mle_dmft_positive_in_chaos():
    res = dmft.dmft_fourier(prx.PRXParams(g_h=4.0, alpha_r=2.0, alpha_z=0.0, tau_r=0.0))
    le = dmft.mle_dmft(res)
    assert 0.05 < le.lam_max < 0.3 and abs(le.E0 - le.E0_doubled) < 1e-6


def test_mc_dmft_smoke_reproducible():
    p = prx.PRXParams(g_h=3.0, alpha_r=2.0, alpha_z=5.0)
    a = dmft.dmft_mc(p, M=20, n_steps=256, n_iter=3, transient=5.0, n_avg=2, seed=1)
    b = dmft.dmft_mc(p, M=20, n_steps=256, n_iter=3, transient=5.0, n_avg=2, seed=1)
    assert np.array_equal(a.C_h, b.C_h) and a.C_h.shape == a.tau.shape
    assert a.C_h[0] > 0 and np.all(np.abs(a.C_h) <= a.C_h[0] * 1.2)


def test_mle_dmft_converges_its_quadrature_for_sharp_gains():
    """At g_h = 6 the potential's ⟨φ'φ'⟩ is a pair average of a peak of width ~1/6: 32 Gauss-Hermite
    nodes are far off, and `mle_dmft` must raise the node count until λ_max is converged."""
    p = prx.PRXParams(g_h=6.0, alpha_r=5.0, alpha_z=0.0, tau_r=0.0)
    tau = np.arange(100) * 0.05
    C_h = 0.215 * np.exp(-tau ** 2 / 2)  # a smooth stand-in for the converged DMFT correlation
    f_phi, _, f_sr, _ = dmft._fns(p)
    C_phi = prx.pair_avg(f_phi, f_phi, C_h[0], C_h, n=256)
    C_sr = prx.pair_avg(f_sr, f_sr, C_phi[0], C_phi, n=256)
    res = dmft.DMFTResult(tau, C_h, C_phi, C_phi, C_sr, True, 1, np.zeros(1), 0.0, "fourier", p)

    def lam(n):
        E0, _ = dmft.schrodinger_ground_state(dmft.dmft_potential(res, n_nodes=n), 0.05, p.sigma_z0)
        return p.sigma_z0 * (np.sqrt(-E0) - 1)

    le = dmft.mle_dmft(res)
    assert le.n_nodes > 32
    assert abs(le.lam_max - lam(512)) < 2e-3 * abs(lam(512))
    assert abs(lam(32) - lam(512)) > 0.05 * abs(lam(512))  # the old fixed 32 nodes: the bug this guards
    with pytest.raises(RuntimeError, match="max_nodes"):
        dmft.mle_dmft(res, max_nodes=32 * 2, rtol=1e-12)


def test_network_autocorr_windows():
    p = prx.PRXParams(g_h=3.0, alpha_r=2.0)
    r = dmft.network_autocorr(p, N=40, seed=0, T=60.0, dt=0.1, transient=10.0, max_lag=5.0, n_blocks=4)
    assert r["C_h_blocks"].shape == (4, r["C_h"].size)
    # the windows' mean lag-0 value is close to the whole run's (same samples, regrouped)
    assert abs(r["C_h_blocks"][:, 0].mean() - r["C_h"][0]) < 1e-9 * max(1.0, r["C_h"][0]) + 0.05 * r["C_h"][0]
    with pytest.raises(ValueError, match="n_blocks"):
        dmft.network_autocorr(p, N=20, seed=0, T=20.0, dt=0.1, transient=10.0, max_lag=5.0, n_blocks=4)
