"""The C1 fair test (issue 17): grid definition, selection, graded measures on known systems,
bootstrap CIs, the verdict rule, the gate-logit identity, the precompute CLI's C1 option."""
import math

import numpy as np
import pandas as pd
import pytest
import torch

import analysis_lib.gnode as gn
from analysis_lib.gnode import attractor as A
from analysis_lib.gnode.training import TrainResult


def test_mean_pulse_interval_derived_and_simulated():
    assert A.mean_pulse_interval(2) == pytest.approx(100 * 2 / 12)
    assert A.hold_steps(2) == (17, 50, 100)
    assert A.simulated_pulse_interval(2, 4000, seed=3) == pytest.approx(A.mean_pulse_interval(2), abs=0.3)
    with pytest.raises(ValueError, match="n_bits"):
        A.mean_pulse_interval(0)
    with pytest.raises(ValueError, match="freq"):
        A.mean_pulse_interval(2, freq=0)


def test_grid_subset_and_released():
    g = A.c1_grid("subset")
    runs = A.c1_grid_runs(g)
    assert len(runs) == g.n_cells == 48
    assert {r.config.batch_size for r in runs} == {10} and 1e-2 in {r.config.lr for r in runs}
    assert all(r.config.epochs * math.ceil(r.n_train / r.config.batch_size) >= 10_000 for r in runs)
    assert {(r.kind, r.N) for r in runs} == {("gnode", 2), ("gnode", 4), ("node", 2), ("node", 4)}
    assert {r.model_seed for r in runs} == {0, 1, 2} and all(r.hidden == (316, 316) for r in runs)
    rel = A.c1_grid("released")
    assert rel.n_cells == 324 and rel.epochs(100) == 2000 and rel.epochs(50) == 1000
    assert A.c1_grid_runs(rel)[0].config.batch_size == 100  # longest first
    with pytest.raises(ValueError, match="grid name must be one of"):
        A.c1_grid("all")


def _fake_out(kind, N, lr, wd, seed, best):
    cfg = gn.TrainConfig(epochs=1, lr=lr, weight_decay=wd, batch_size=10)
    run = gn.FlipFlopRun(kind, N, config=cfg, model_seed=seed, data_seed=seed)
    return {"run": run, "result": TrainResult(best_state={}, train_loss=[0.0] * 5, best_val=best), "test_mse": best}


def test_grid_table_selects_lowest_seed_mean():
    outs = [_fake_out("gnode", 2, 1e-3, 0.1, s, 0.05 + 0.01 * s) for s in range(3)]
    outs += [_fake_out("gnode", 2, 1e-2, 1e-3, s, v) for s, v in enumerate((0.01, 0.2, 0.02))]  # mean 0.077 > 0.06
    outs += [_fake_out("node", 2, 1e-2, 1e-3, s, 0.03) for s in range(3)]
    t = A.grid_table(outs)
    sel = t[t.selected]
    assert len(t) == 3 and len(sel) == 2
    assert sel.set_index("model").loc["gnode", "lr"] == 1e-3
    chosen = A.select_runs(outs)
    assert [o["run"].model_seed for o in chosen[("gnode", 2)]] == [0, 1, 2]
    assert all(o["run"].config.lr == 1e-3 for o in chosen[("gnode", 2)])


def test_bootstrap_ci():
    m, lo, hi = A.bootstrap_ci([1.0, 2.0, 3.0])
    assert m == 2.0 and lo == 1.0 and hi == 3.0  # 3 values: the 95 % bounds are the min and max
    m, lo, hi = A.bootstrap_ci([0.5])
    assert m == 0.5 and math.isnan(lo) and math.isnan(hi)
    m, lo, hi = A.bootstrap_ci(np.random.default_rng(0).normal(1.0, 0.1, 200))
    assert lo < 1.0 < hi and hi - lo < 0.05
    with pytest.raises(ValueError):
        A.bootstrap_ci([])
    t = A.paired_test([0.3, 0.2, 0.4], [0.1, 0.1, 0.5])  # one seed against: not shown
    assert t["shown"] is False and t["lo"] < 0
    t = A.paired_test([0.1, 0.1], [0.3, 0.2], larger_is_better=False)
    assert t["shown"] is True and t["diff"] == pytest.approx(0.15)
    assert A.paired_test([0.1], [0.2])["shown"] is None


def test_quantiser():
    m = np.array([[-0.9, 0.2], [0.0, 0.99]])
    np.testing.assert_allclose(A.quantise(m, 2), [[-0.5, 0.5], [0.5, 0.5]])
    u = np.random.default_rng(0).uniform(-1, 1, 200_000)
    assert np.sqrt(np.mean((u - A.quantise(u, 3)) ** 2)) == pytest.approx(A.quantiser_rmse_theory(3), rel=0.01)
    assert A.quantiser_rmse_theory(2) == pytest.approx(1 / math.sqrt(12))
    with pytest.raises(ValueError, match="levels"):
        A.quantise(m, 0)


def _linear_node(gain):
    """An N = 2 nODE (α = 1) with identity readout whose F is replaced by F(h, x) = gain·h + x:
    gain 1 integrates the pulses and holds them exactly (a plane of fixed points at x = 0), gain ½ forgets."""
    model = gn.build_model("node", 2, 2, hidden=(2,), seed=0)
    with torch.no_grad():
        model.readout.W.copy_(torch.eye(2))
        model.readout.b.zero_()
        for p in model.psi.parameters():
            p.zero_()  # h_0 = 0
    model.cell.F.forward = lambda h, x: gain * h + x  # noqa: E731
    return model


def test_written_drift_on_known_systems():
    cfg = A.AttractorConfig(n_grid=11, slow_point_steps=0)
    dr = A.written_drift(_linear_node(1.0), "variable", cfg)
    assert dr["slow"].shape == (3, 3) and np.all(dr["slow"] == 1.0) and dr["static_frac"] == 1.0
    ys = dr["y"]
    assert dr["write_rmse"] == pytest.approx(float(np.sqrt(np.mean((2 * ys) ** 2))), rel=1e-4)  # 3 bins write 3·m
    dr = A.written_drift(_linear_node(0.5), "variable", cfg)
    assert dr["slow"][0, 0] <= 0.05 and dr["static_frac"] <= 0.05  # only points at the origin stay


def test_gate_logit_identity_and_stats():
    model = gn.build_model("gnode", 2, 2, hidden=(8,), seed=1)
    h = torch.randn(50, 2, generator=torch.Generator().manual_seed(0))
    assert A.gate_logit_identity_error(model, h) < 1e-5
    gs = A.gate_stats(model, h)
    assert gs["z_weak"] <= gs["z_rest"] + 1e-6  # min of two logits ≤ their mean, unit by unit
    assert gs["z_open"] >= max(gs["z_plus"], gs["z_minus"]) - 1e-6
    assert math.isnan(A.gate_logit_identity_error(gn.build_model("node", 2, 2, hidden=(8,)), h))


def _analysis(kind, N, seed, slow, ret, z=0.5):
    return {"kind": kind, "N": N, "seed": seed, "point": (1e-3, 0.1, 10), "best_val": ret / 10,
            "drift": {"slow": np.full((3, 3), slow), "static_frac": slow},
            "retention": {"inside": ret, "beyond": ret + 0.1, "zero": 0.577, "quantiser": 0.289, "rmse": np.full(10, ret)},
            "gate": {"z_rest": z, "z_plus": z, "z_minus": z, "z_weak": z, "z_open": z},
            "slow_cov": slow, "slow_y": np.zeros((0, 2))}


def test_comparisons_and_verdict_rule():
    cfg = A.AttractorConfig()
    good = [_analysis("gnode", N, s, 0.5 + 0.01 * s, 0.1, z=0.1) for N in (2, 4) for s in range(3)]
    bad = [_analysis("node", N, s, 0.1, 0.3) for N in (2, 4) for s in range(3)]
    comp = A.c1_comparisons(good + bad, cfg)
    assert set(comp.N) == {2, 4} and comp[comp.test == "ret_inside"].shown.all()
    v = A.c1_verdict(comp, A.gate_summary(good + bad), cfg)
    assert v.label == "reproduced" and v.per_N == {2: "reproduced", 4: "reproduced"}
    assert "gate-based holding" in v.text and "at rest 0.100" in v.text
    # N = 2 no better than nODE, N = 4 better: only with spare units
    mixed = [_analysis("gnode", 2, s, 0.1 - 0.01 * s, 0.3 + 0.01 * s) for s in range(3)] + \
        [_analysis("gnode", 4, s, 0.5, 0.1) for s in range(3)]
    comp = A.c1_comparisons(mixed + bad, cfg)
    v = A.c1_verdict(comp, A.gate_summary(mixed + bad), cfg)
    assert v.per_N[2] == "not reproduced" and v.label == "partly: only with spare units (N = 4)"
    one = A.c1_comparisons([_analysis("gnode", 2, 0, 0.5, 0.1), _analysis("node", 2, 0, 0.1, 0.3)], cfg)
    assert one.shown.isna().all() or all(s is None for s in one.shown)
    assert A.c1_verdict(one, pd.DataFrame(), cfg).label == "not evaluated"


def test_analyse_c1_end_to_end_tiny():
    torch.set_num_threads(1)
    cfg = gn.TrainConfig(epochs=1, lr=1e-2, weight_decay=1e-3, batch_size=20, val_every=2)
    outs = [gn.run_flipflop(gn.FlipFlopRun(k, 2, hidden=(8,), n_trials=60, n_train=40, n_val=20, n_test=10, config=cfg))
            for k in ("gnode", "node")]
    assert outs[0]["result"].val_iter == [0, 2]  # the initial state, then every 2 iterations (= the epoch end)
    an = [A.analyse_c1(o, A.AttractorConfig(n_grid=5, n_mem=10, hold_long=120, slow_point_steps=5, n_starts=10)) for o in outs]
    assert an[0]["drift"]["slow"].shape == (3, 3) and an[0]["retention"]["rmse"].shape == (120,)
    assert an[1]["gate"]["z_rest"] == 1.0 and an[0]["gate"]["logit_err"] < 1e-5


def test_val_every_integer_and_bad_values():
    assert gn.TrainConfig(val_every=10).val_every == 10
    for bad in (0, -1, True, "often", 1.5):
        with pytest.raises(ValueError, match="val_every"):
            gn.TrainConfig(val_every=bad)


def test_attractor_config_bad_values():
    with pytest.raises(ValueError, match="deltas"):
        A.AttractorConfig(deltas=(0.1, -0.1))
    with pytest.raises(ValueError, match="holds"):
        A.AttractorConfig(holds=(0,))
    with pytest.raises(ValueError, match="k_inside"):
        A.AttractorConfig(k_inside=2000)


def test_precompute_cli_rejects_bad_c1_grid(capsys):
    from analysis_lib.gnode import precompute

    with pytest.raises(SystemExit) as e:
        precompute.main(["--what", "c1", "--c1-grid", "huge", "--cache-dir", "/nonexistent-never-created"])
    assert e.value.code == 2 and "--c1-grid" in capsys.readouterr().err
