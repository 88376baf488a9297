"""Fast tests of the notebook-02 figure-level computations (`prx.experiments`) and plots (`prx.plots`)."""
import math
import types
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from analysis_lib.gating.prx import experiments as ex  # noqa: E402
from analysis_lib.gating.prx import plots as pp  # noqa: E402


def _cfg(full=False, tmp=Path("/tmp")):
    return types.SimpleNamespace(full=full, seed=0, cache_dir=tmp)


def test_sizes_quick_and_full():
    q, f = ex.sizes(_cfg(False)), ex.sizes(_cfg(True))
    assert not q.full and f.full
    assert q.N_dmft_mle == 800 and f.N_dmft_mle == 2000
    assert q.phase_grid is None and len(f.phase_grid[0]) == 15 and len(f.phase_grid[1]) == 15
    assert (3.0, 2.0) in f.dmft_mle_points and (6.0, 5.0) in f.dmft_mle_points


def test_simulation_jobs_names_unique_and_kinds_valid():
    for full in (False, True):
        jobs = ex.simulation_jobs(ex.sizes(_cfg(full)))
        keys = [(f, n) for f, n, _ in jobs]
        assert len(keys) == len(set(keys))
        assert {j["kind"] for _, _, j in jobs} <= {"frozen", "fourier", "dmft_mle", "mc", "autocorr", "mle",
                                                   "lyap_full", "memory", "adjoint", "dmft_onset", "visited",
                                                   "fixed_point"}
        for _, _, j in ex.batch_shared_networks(jobs):  # batches hold only valid single-run jobs
            if j["kind"] == "mle_batch":
                assert {r["kind"] for r in j["runs"]} == {"mle"}
    quick = ex.simulation_jobs(ex.Sizes())
    # the 3-seed simulated MLE at (4, 2) and the pinned-seed transition runs are there
    names = {n for _, n, _ in quick}
    assert {"sim_4_2_s0", "sim_4_2_s1", "sim_4_2_s2", "dmft_4_2", "small_ar50_s0", "input_ar50_s0"} <= names
    assert not any(f == "f10" for f, _, _ in quick)  # the chaos-line grid is FULL only


def test_run_job_rejects_unknown_kind():
    with pytest.raises(ValueError, match="kind must be one of"):
        ex.run_job("nope")


def test_monotone_helper():
    assert ex.monotone([1, 2, 3], strict=True)
    assert not ex.monotone([1, 2, 2], strict=True)
    assert ex.monotone([1, 2, 1.995], slack=0.01)
    assert not ex.monotone([1, 2, 1.9], slack=0.01)
    assert ex.monotone([3, 2, 2], increasing=False)
    assert not ex.monotone([1, np.nan])
    with pytest.raises(ValueError):
        ex.monotone([1, 2], slack=-1)


def test_chaos_and_decay_bounds():
    assert ex.is_chaotic(dict(mle=0.1, var_h=0.05))
    assert not ex.is_chaotic(dict(mle=0.1, var_h=0.01))
    assert ex.is_decayed(dict(var_h=1e-9)) and not ex.is_decayed(dict(var_h=1e-3))


def test_zero_fp_scan_sign_change_at_threshold():
    d = ex.zero_fp_scan(120, 0, betas=(0.0, 1.0), fine=np.array([0.5, 1.5]))
    for br, r in d.items():
        assert math.isclose(r["g_c"], 1 + math.exp(br))
        assert r["edge"][0] < 0 < r["edge"][-1]
        assert np.allclose(r["theory"], 0.5 * (r["factors"] - 1.0))  # σ_z(0)(g_h σ_r(0) − 1), β_z = 0


def test_theory_tables():
    pin = ex.pinning_table(alpha_z=(0.0, 1000.0))
    assert abs(pin[(3.0, 2.0)]["edge"][-1]) < 0.01 and pin[(3.0, 2.0)]["half_K0"] < 1
    assert pin[(5.0, 5.0)]["edge"][-1] > 0.01 and pin[(5.0, 5.0)]["half_K0"] > 1
    w = ex.alpha_r_widening(alpha_r=(0.0, 5.0))
    assert w["edge"][1] > w["edge"][0] and w["K0"][1] > w["K0"][0]
    lines = ex.phase_lines(g_grid=[1.3, 1.8])
    assert math.isnan(lines["fp"][0]) and 8.0 < lines["fp"][1] < 8.3


def test_summaries_from_synthetic_runs(monkeypatch):
    sz = ex.Sizes()
    runs = {f"sim_4_2_s{s}": dict(mle=0.1 + 0.01 * s) for s in sz.seeds}

    class L:
        lam_max, E0, E0_doubled, n_nodes = 0.12, -1.5, -1.5, 64

    solution = types.SimpleNamespace(converged=True)
    # λ_max is computed from the cached DMFT solution, never read from the cache
    monkeypatch.setattr(ex.dmft, "mle_dmft", lambda res: L() if res is solution else None)
    runs["dmft_4_2"] = dict(lyap="stale value from an old cache", result=solution)
    d = ex.dmft_vs_sim(runs, sz)[(4.0, 2.0)]
    assert math.isclose(d["sim_mean"], 0.11) and math.isclose(d["rel"], 0.01 / 0.11) and d["n_nodes"] == 64
    f8 = {f"g3_ar{a:g}_s{s}": dict(mle=a + s, pr=2 * a) for a in sz.ar_pr for s in sz.seeds}
    t = ex.alpha_r_table(f8, sz)
    assert np.allclose(t["mle_mean"], np.array(sz.ar_pr) + 1) and np.allclose(t["pr_mean"], 2 * np.array(sz.ar_pr))
    with pytest.raises(ValueError, match="phase grid"):
        ex.chaos_line({}, sz)


def test_memory_protocol_hold_and_reset():
    res = {n: ex.run_job("memory", N=80, seed=0, **kw) for n, kw in ex.memory_protocols().items()}
    assert res["slow"]["retained"] > 10 * abs(res["fast"]["retained"])
    assert abs(res["slow_reset"]["retained"]) < 0.5 * res["slow"]["retained"]


def test_frozen_job_and_plots_smoke():
    r = ex.run_job("frozen", g_h=3.0, alpha_r=2.0, alpha_z=5.0, N=60, seed=0)
    assert r["eigs"].size == 120 and 0 <= r["slow_fraction"] <= 1
    S = ex.frozen_stats(3.0, 2.0, 5.0, 60, 0)
    assert S.n_eigs == 120
    fig, ax = plt.subplots()
    pp.draw_residual(ax, 1.8, 10.0)
    pp.draw_explore(ax, ex.P(g_h=1.5, alpha_r=10, alpha_z=1), N=40)  # no static solution: Δ_h = 1
    fig4 = pp.plot_f4_zero_fp(ex.zero_fp_scan(40, 0, fine=np.array([0.5])), "t")
    plt.close("all")
    assert fig4 is not None


@pytest.mark.slow
def test_full_code_path_smoke_tiny_sizes(tmp_path):
    """Every job kind and every figure of the FULL path at tiny sizes (shape/plumbing check, ~1 min)."""
    sz = ex.Sizes(full=True, N_zero=30, N_frozen=40, N_ac0=60, T_ac0=160.0, N_acz=60, T_acz=160.0, M_mc=4,
                  N_lyap=4, T_lyap=5.0, az_lyap=(0.0, 15.0), N_mle=30, T_mle=10.0, az_mle=(0.0, 5.0),
                  N_dmft_mle=30, T_dmft_mle=10.0, dmft_mle_points=((4.0, 2.0), (6.0, 5.0)), N_pr=30, T_pr=10.0,
                  gh_pr=(3.0,), N_tr=30, T_tr=10.0, seeds_tr=(0, 1, 2), N_mem=30,
                  phase_grid=((1.8,), (10.0, 50.0)), N_phase=30, T_phase=10.0,
                  fs_N=(20, 30, 40), fs_seeds=(2, 2, 2), fs_T=10.0, dmft_line_g=(1.8, 1.9), dmft_line_bisect=1,
                  az_panel=(0.0, 20.0), N_visited=30, seeds_visited=(0, 1), N_fixed_point=30,
                  seeds_fixed_point=(0,))
    R = ex.run_simulations(_cfg(True, tmp_path), sz, max_workers=2)
    assert len(list((tmp_path / "jobs").glob("*.pkl"))) == len(ex.batch_shared_networks(ex.simulation_jobs(sz)))
    assert set(R) == {"f5", "f6", "f7a", "f7c", "f7d", "f8", "f9", "rmt", "f11", "f12", "f10", "f10d", "visited",
                       "fixed_point"}
    assert ex.run_simulations(_cfg(True, tmp_path), sz)["f7a"].keys() == R["f7a"].keys()  # from the cache
    f7c = ex.dmft_vs_sim(R["f7c"], sz)
    assert set(f7c) == {(4.0, 2.0), (6.0, 5.0)} and all(len(d["sims"]) == 3 for d in f7c.values())
    art = ex.alpha_r_table(R["f8"], sz)
    chaos = ex.chaos_line(R["f10"], sz)
    assert chaos["g"].tolist() == [1.8]
    figs = [pp.plot_f1_traces(R["f7a"], "t"), pp.plot_f5_autocorr(R["f5"], ex.AC_AZ, "t"),
            pp.plot_f6_spectra(R["f6"], "t"), pp.plot_f7_mle(R["f7a"], art, f7c, "t"), pp.plot_f8_pr(art, "t"),
            pp.plot_f9_transition(ex.static_mf_checks(), R["f9"], 0, "t"),
            pp.plot_f10_phase(ex.phase_lines(np.array([1.6, 1.9])), {(10.0, 1.8): False}, "t", chaos,
                              dmft_line=ex.dmft_line(R["f10d"], sz),
                              az_panel=dict(g_h=1.8, fp=8.16, dmft=15.0,
                                            runs={(a, az): dict(mle=R["f9"][f"large_ar{a:g}_az{az:g}_s0" if az else f"large_ar{a:g}_s0"]["mle"],
                                                                chaotic=False) for a in ex.AR_TR for az in sz.az_panel})),
            pp.plot_f3b_visited(R["visited"], ex.VISITED_AZ, 0, "t"),
            pp.plot_f11_memory(R["f11"], "t"), pp.plot_f12_adjoint(R["f12"]["adjoint"], "t")]
    stats = {az: ex.frozen_stats(3.0, 2.0, az, sz.N_frozen) for az in ex.SLOW_AZ}
    fs = ex.finite_size_mle(R["f7d"], sz)
    figs.append(pp.plot_f7d_finite_size(fs, {k: v["dmft"] for k, v in f7c.items()}, "t"))
    assert "C_h_blocks" not in R["f5"]["sim_az0"]  # T = 160: too short for 1.5·max_lag windows
    figs.append(pp.plot_f2_slow_modes(R["rmt"], stats, ex.SLOW_AZ, "t"))
    rs = {n: ex.frozen_stats(g, a, z, sz.N_frozen, 0, D) for n, (g, a, z, D) in ex.RMT_CASES.items()}
    figs.append(pp.plot_f3_support(R["rmt"], rs, ex.alpha_r_widening(), ex.pinning_table(), "t"))
    for f in figs:
        f.canvas.draw()
    plt.close("all")


def test_each_simulation_job_is_cached_as_it_finishes(tmp_path, monkeypatch):
    """FULL: each job is cached on its own (`sweep(run_job, ..., cache_dir=)`), keyed by `run_job`, the job's
    arguments and the code: a rerun reads it back, a changed job (another N or seed) is recomputed, QUICK
    writes nothing."""
    from analysis_lib import _cache

    base = dict(kind="frozen", g_h=3.0, alpha_r=2.0, alpha_z=0.0, N=40, seed=0, Delta_h=None)
    jobs = [("rmt", "a", base), ("rmt", "b", dict(base, alpha_z=5.0))]
    monkeypatch.setattr(ex, "simulation_jobs", lambda sz, seed=0: jobs)
    cfg = _cfg(True, tmp_path)
    first = ex.run_simulations(cfg, ex.Sizes(), max_workers=1)
    files = {_cache.cache_file(tmp_path / "jobs", ex.run_job, j) for _, _, j in jobs}
    assert set((tmp_path / "jobs").glob("*.pkl")) == files and base["kind"] == "frozen"  # job dicts left intact
    stamps = {f: f.stat().st_mtime_ns for f in files}
    again = ex.run_simulations(cfg, ex.Sizes(), max_workers=1)
    assert {f: f.stat().st_mtime_ns for f in files} == stamps  # read back, not recomputed
    assert np.array_equal(again["rmt"]["b"]["eigs"], first["rmt"]["b"]["eigs"])
    jobs[1] = ("rmt", "b", dict(base, alpha_z=5.0, seed=1))  # a changed job: its own key, recomputed
    third = ex.run_simulations(cfg, ex.Sizes(), max_workers=1)
    assert len(list((tmp_path / "jobs").glob("*.pkl"))) == 3
    assert not np.array_equal(third["rmt"]["b"]["eigs"], first["rmt"]["b"]["eigs"])
    quick = tmp_path / "quick"
    ex.run_simulations(_cfg(False, quick), ex.Sizes(), max_workers=1)
    assert not quick.exists()  # QUICK: no cache
    assert not hasattr(ex, "_job_file") and not hasattr(ex, "_cached_job")  # the argument-only keys are gone


def test_batch_shared_networks_groups_runs_of_one_network():
    jobs = ex.simulation_jobs(ex.sizes(_cfg(True)))
    batched = ex.batch_shared_networks(jobs, max_batch=60)
    flat = [(f, n) for f, names, _ in batched for n in ((names,) if isinstance(names, str) else names)]
    assert sorted(flat) == sorted((f, n) for f, n, _ in jobs)  # every run once
    by_name = {(f, n): j for f, n, j in jobs}
    for fig, names, job in batched:
        if isinstance(names, str):
            assert job is by_name[fig, names] and not (fig in ex.BATCHED_FIGURES and job["kind"] == "mle")
            continue
        assert job["kind"] == "mle_batch" and 1 <= len(names) <= 60 and fig in ex.BATCHED_FIGURES
        members = [by_name[fig, n] for n in names]
        assert list(job["runs"]) == members
        # one network and one protocol per batch
        assert len({(r["N"], r["seed"], r["T"], r["dt"], r["record_every"], r.get("beta_h_after")) for r in members}) == 1
    sizes = [len(n) for f, n, _ in batched if f == "f10"]
    assert sizes == [60, 60, 60, 45]  # the 15 × 15 grid in resumable pieces
    # F9 (3 seeds): per seed one batch without (6 + the F10b α_z panel: 2 α_z × 3 α_r) and one with the input step
    assert sorted(len(n) for f, n, _ in batched if f == "f9") == [3, 3, 3, 12, 12, 12]
    with pytest.raises(ValueError, match="max_batch"):
        ex.batch_shared_networks(jobs, max_batch=0)


def test_mle_batch_job_matches_single_jobs():
    runs = tuple(dict(kind="mle", params=dict(g_h=g, alpha_r=a), N=30, seed=2, T=4.0, dt=0.1, record_every=5,
                      init_scale=s) for g, a, s in ((1.8, 50.0, 0.01), (1.8, 10.0, 1.0)))
    batch = ex.run_job("mle_batch", runs=runs)
    for r, b in zip(runs, batch):
        single = ex.run_job(**dict(r, params=dict(r["params"])))
        assert b["mle"] == pytest.approx(single["mle"], rel=1e-9) and b["var_h"] == pytest.approx(single["var_h"])


def test_run_order_longest_first_and_costs_positive():
    """`run_simulations` runs the jobs by decreasing `job_cost`: the long N = 1000 autocorrelation
    run starts first, not last (on 2 workers a long job started last leaves one idle)."""
    for full in (False, True):
        sz = ex.sizes(_cfg(full))
        jobs = ex.batch_shared_networks(ex.simulation_jobs(sz, 0))
        costs = [ex.job_cost(j) for _, _, j in jobs]
        assert all(c > 0 and np.isfinite(c) for c in costs)
    q = ex.sizes(_cfg(False))
    jobs = sorted(ex.batch_shared_networks(ex.simulation_jobs(q, 0)), key=lambda j: -ex.job_cost(j[2]))
    assert jobs[0][1] == "sim_az0"
    assert all(j["dtype"] == "float32" for f, _, j in jobs if f == "f7c" and j["kind"] == "mle")
    full_jobs = ex.simulation_jobs(ex.sizes(_cfg(True)), 0)
    assert all(j["dtype"] == "float32" for f, _, j in full_jobs if f in ("f7c", "f7d", "f8", "f9", "f10") and j["kind"] == "mle")
    # FULL: F7c's three (g_h, α_r) points share each seed's network, so they run as one batch per seed
    f7c = [n for f, n, j in ex.batch_shared_networks(full_jobs) if f == "f7c" and j["kind"] == "mle_batch"]
    assert sorted(len(n) for n in f7c) == [3, 3, 3]


def test_extrapolate_inv_N_recovers_the_limit():
    N = np.array([500, 1000, 2000, 4000])
    y = 0.07 + 3.0 / N
    lam, se, c = ex.extrapolate_inv_N(N, y, np.full(4, 1e-4))
    assert lam == pytest.approx(0.07, abs=1e-9) and c == pytest.approx(3.0, rel=1e-6)
    assert se > 0
    with pytest.raises(ValueError, match="three sizes"):
        ex.extrapolate_inv_N(N[:2], y[:2], np.ones(2))


def test_finite_size_jobs_only_in_full():
    class Cfg:
        full = True
    full = ex.sizes(Cfg())
    jobs = [j for j in ex.simulation_jobs(full) if j[0] == "f7d"]
    assert len(jobs) == len(full.dmft_mle_points) * sum(full.fs_seeds)
    assert not [j for j in ex.simulation_jobs(ex.Sizes()) if j[0] == "f7d"]
    runs = {name: {"mle": 0.07 + 2.0 / job["N"] + 1e-4 * (job["seed"] % 3)} for _, name, job in jobs}
    fs = ex.finite_size_mle(runs, full)
    for d in fs.values():
        assert d["lam_inf"] == pytest.approx(0.07, abs=3e-4)  # seeds add up to 2e-4


def test_dmft_chaos_onset_brackets_and_edges():
    """g_h = 1.9: no chaotic DMFT solution at α_r = 1, one at 200 and at √200 (one bisection step halves the log bracket).
    g_h = 2.5 (zero FP unstable): a solution already at α_r = 1, so no onset (NaN)."""
    r = ex.dmft_chaos_onset(1.9, n_bisect=1)
    assert r["lo"] == 1.0 and r["hi"] == pytest.approx(math.sqrt(200.0)) == r["onset"]  # α_r = 14.1 has chaos
    assert [e for _, e, _ in r["evaluated"]] == [False, True, True]
    assert math.isnan(ex.dmft_chaos_onset(2.5, n_bisect=1)["onset"])
    with pytest.raises(ValueError, match="g_h"):
        ex.dmft_chaos_onset(-1.0)


def test_dmft_has_chaos_collapse_is_not_an_error():
    """Below the line the iteration collapses onto C ≡ 0: a clean 'no solution', not a quadrature error."""
    out = ex.dmft_has_chaos(ex.P(g_h=1.8, alpha_r=3.0))
    assert out["exists"] is False and out["C0"] == 0.0


def test_compare_chaos_lines_synthetic():
    grid = np.array([5.0, 10.0, 20.0, 40.0])
    d = dict(g=np.array([1.7, 1.8, 1.9]), alpha_r=np.array([np.nan, 15.0, 8.0]), lo=np.array([200.0, 14.0, 7.0]),
             hi=np.array([200.0, 15.0, 8.0]))
    chaos = dict(g=np.array([1.7, 1.8, 1.9]), alpha_r=np.array([np.nan, 20.0, 40.0]))
    out = ex.compare_chaos_lines(d, chaos, grid, 40.0)
    assert out["q"] == 2.0 and out["agree"].tolist() == [True, True, False]  # 40 > 8·2


def test_visited_spectrum_az0_full_equals_fixed_point_form():
    """At α_z = 0 σ_z' ≡ 0: the velocity term vanishes, so the full Jacobian and its fixed-point form agree."""
    from analysis_lib.gating.prx import meanfield as mf
    d = mf.visited_spectrum_summary(3.0, 2.0, 0.0, N=60, seed=0, T=20.0)
    assert d["max_re"] == pytest.approx(d["max_re_fpform"], abs=1e-10)
    assert d["eigs"].size == 180 and np.isfinite(d["edge_visited"]) and d["frozen_fraction"] == 0.0


def test_precompute_estimate_covers_every_full_job(capsys):
    from analysis_lib.gating.prx import precompute

    est = precompute.estimate(0)
    n_jobs = len(ex.batch_shared_networks(ex.simulation_jobs(ex.sizes(_cfg(True)), 0)))
    assert est["total"][0] == n_jobs == sum(n for f, (n, _) in est.items() if f != "total")
    assert est["f7d"][1] > 0.3 * est["total"][1]  # the finite-size study dominates the FULL cost
    assert precompute.main(["--estimate"]) == 0 and "CPU-h" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        precompute.main(["--workers", "0"])
