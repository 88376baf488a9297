"""Simulated participants and the power analysis (issue 8). No network; the calibration check
runs only where the authors' data is present."""
import dataclasses
import json
import re

import numpy as np
import pytest

from analysis_lib import limit_threads
from analysis_lib.memory import data as D
from analysis_lib.memory import simulate as S
from analysis_lib.memory.order import kendall_order
from analysis_lib.memory.recall import recall_stats

limit_threads(1)


def test_committed_params_are_aggregate_only():
    text = S.PARAMS_PATH.read_text()
    d = json.loads(text)
    assert set(d) == {f.name for f in dataclasses.fields(S.SimParams)}
    assert all(isinstance(v, (int, float)) for k, v in d.items() if k != "source")
    assert not re.search(r"[0-9a-f]{24}", text)  # no participant id
    p = S.load_params()
    assert "calibrate" in p.source and 0.6 < p.M_slope < 0.8 and 0 < p.scramble_recall_factor < 1
    with pytest.raises(ValueError, match="lam"):
        S.SimParams(lam=1.5)


def test_m_recovered_within_three_bootstrap_se():
    p = S.load_params()
    for L, seed in ((18, 0), (54, 1), (130, 2)):
        r = S.m_recovery(p, L=L, n_recog=100, seed=seed, n_boot=200)
        assert abs(r["M_hat"] - r["M_true"]) <= 3 * r["se"], (L, r)


def test_order_intact_beats_scrambled_presentation_order():
    p = S.load_params()
    smap = np.random.default_rng(0).permutation(54)
    intact = S.simulate_story(54, p, 100, 1, seed=0)
    scr = S.simulate_story(54, p, 100, 1, seed=0, scramble_map=smap)
    tau_int = kendall_order(intact.scores_ordered).mean()
    tau_pres = kendall_order(scr.scores_ordered, scr.presentation_position).mean()
    tau_orig = kendall_order(scr.scores_ordered).mean()
    assert p.lam > 0.5  # calibrated: scrambled recalls lean to the original order (C5)
    assert tau_int > tau_orig > tau_pres  # intact has no conflict between the two orders
    assert recall_stats(scr).R < recall_stats(intact).R  # scrambling lowers recall (C4)


def test_simulation_is_seeded():
    p = S.load_params()
    a, b = S.simulate_story(30, p, 20, 20, seed=5), S.simulate_story(30, p, 20, 20, seed=5)
    assert a.scores_ordered == b.scores_ordered and np.array_equal(a.recog_value, b.recog_value)
    assert S.simulate_story(30, p, 20, 20, seed=6).scores_ordered != a.scores_ordered


def test_power_table_shrinks_like_one_over_sqrt_n():
    p = S.load_params()
    tab = S.power_table(p, ns=(10, 40, 160), n_reps=400, seed=0)
    w = [r["ci95_width"] for r in tab]
    assert w[0] > w[1] > w[2]
    assert w[0] / w[2] == pytest.approx(4.0, rel=0.25)  # 16x participants -> 4x narrower
    assert all(abs(r["slope_mean"] - p.R_slope) < 0.03 for r in tab)  # unbiased slope
    n_small, n_big = S.participants_needed(tab, 0.1), S.participants_needed(tab, 0.05)
    assert n_big == pytest.approx(4 * n_small, rel=0.05)
    with pytest.raises(ValueError, match="n_per_story"):
        S.slope_sampling(p, 1, [18, 32], 10, np.random.default_rng(0))


@pytest.mark.skipif(D.find_data_dir() is None, reason="the authors' data (NARRATIVE_DATA_DIR) is absent")
def test_calibration_reproduces_committed_params():
    stories = D.load_stories()
    p = S.calibrate(stories)
    committed = S.load_params()
    for f in dataclasses.fields(S.SimParams):
        a, b = getattr(p, f.name), getattr(committed, f.name)
        assert a == pytest.approx(b, rel=1e-9) if isinstance(a, float) else a == b, f.name
    # the simulated twins match the data on the calibrated quantities (intact fit stories)
    rows = {r["story"]: r for r in S.vs_data({n: stories[n] for n in D.FIT_STORIES}, p)}
    for n, r in rows.items():
        assert abs(r["M_sim"] - r["M_data"]) < 0.1 * r["L"], n
        assert abs(r["R_sim"] - r["R_data"]) < 0.25 * r["R_data"], n
