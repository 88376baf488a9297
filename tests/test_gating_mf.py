"""Static mean field, L1/L2, branches and the bistability probe (spec §8.4, 8.11)."""
import numpy as np
import pytest

from analysis_lib import limit_threads
from analysis_lib import gating as gt

limit_threads(1)


@pytest.mark.parametrize("b_r,expected", [(0.0, 2.000), (-1.0, 3.718), (-2.0, 8.389), (-3.0, 21.09)])
def test_zero_fp_line_matches_small_q_limit(b_r, expected):
    assert gt.zero_fp_line(b_r) == pytest.approx(expected, rel=1e-3)
    for s_r in (0.0, 10.0):
        assert float(gt.sh_of_q(1e-10, s_r, b_r)) == pytest.approx(gt.zero_fp_line(b_r), rel=1e-3)


def test_L2_equals_L1_without_reset_sensitivity():
    for b_r in (0.0, -1.0, -2.0, -3.0):
        assert gt.saddle_node_line(0.0, b_r) == pytest.approx(gt.zero_fp_line(b_r), rel=1e-3)


def test_L2_below_L1_for_sensitive_closed_reset_gate():
    assert gt.saddle_node_line(10.0, -2.0) < gt.zero_fp_line(-2.0) - 1.0


@pytest.mark.parametrize("s_r,b_r", [(10.0, -2.0), (5.0, -1.0)])
def test_L2_inf_q_agrees_with_bisection(s_r, b_r):
    a = gt.saddle_node_line(s_r, b_r)
    b = gt.saddle_node_line_bisect(s_r, b_r)
    assert a == pytest.approx(b, rel=1e-3)


def test_sh_of_q_exceeds_one():
    q = np.logspace(-6, 3, 200)
    for s_r, b_r in ((0.0, 0.0), (10.0, -2.0), (5.0, 2.0)):
        assert np.all(gt.sh_of_q(q, s_r, b_r) > 1)


def test_branches_solve_mf_equation():
    d = gt.mf_branches(6.0, 10.0, -2.0)
    assert len(d) == 2 and 0 < d[0] < d[1] < 1
    assert np.abs(gt.mf_residual(d, 6.0, 10.0, -2.0)).max() < 1e-10
    assert len(gt.mf_branches(9.0, 10.0, -2.0)) == 1  # above L1: only the upper branch
    assert len(gt.mf_branches(2.0, 10.0, -2.0)) == 0  # below L2: none
    assert [gt.region_of(s, 10.0, -2.0) for s in (2.0, 6.0, 9.0)] == ["I", "II", "III"]


def test_mf_validation():
    with pytest.raises(ValueError, match="b_h must be 0"):
        gt.saddle_node_line(5.0, -1.0, b_h=0.5)
    with pytest.raises(ValueError, match="s_r"):
        gt.R_gate(0.1, -1.0, 0.0)
    with pytest.raises(ValueError, match="q must be"):
        gt.sh_of_q(0.0, 1.0, 0.0)


def test_bistability_probe_small_fast():
    h2 = gt.bistability_probe(gt.ChoGRUParams(s_h=6, s_r=10, b_r=-2, s_z=0, b_z=0), 150, 400, (0.05, 1.0), seed=0)
    assert h2.shape == (2,) and h2[0] < 1e-6
    with pytest.raises(ValueError, match="init_stds"):
        gt.bistability_probe(gt.ChoGRUParams(), 10, 10, (-1.0,))


@pytest.mark.slow
def test_bistability_region_II():
    ok = 0
    for seed in range(3):
        h2 = gt.bistability_probe(gt.ChoGRUParams(s_h=6, s_r=10, b_r=-2, s_z=0, b_z=0), 400, 2000, (0.05, 1.0), seed)
        ok += (h2[0] < 1e-6) and (h2[1] > 0.2)
    assert ok >= 2
