"""Spec §8 T1: flip-flop generator invariants and statistics."""
import numpy as np
import pytest

from analysis_lib.gnode import flipflop as ff


@pytest.mark.parametrize("variant,n_bits", [("fixed", 3), ("variable", 3), ("variable", 2), ("rectangle", 2),
                                            ("ring", 2), ("annulus", 2)])
def test_shapes_targets_and_pulses(variant, n_bits):
    x, y, pulses = ff.make_flipflop(n_bits, 200, variant, seed=3, return_pulses=True)
    assert x.shape == y.shape == (200, 100, n_bits) and x.dtype == y.dtype == np.float32
    # target = most recent non-zero input per channel (independent loop, not the library's)
    init = ff.initial_target(variant, n_bits)
    for i in range(0, 200, 17):
        for ch in range(n_bits):
            cur = init[ch]
            for t in range(100):
                if x[i, t, ch] != 0:
                    cur = x[i, t, ch]
                assert y[i, t, ch] == cur
    # every maximal non-zero run is at least 3 bins long
    nz = x != 0
    for i in range(0, 200, 11):
        for ch in range(n_bits):
            runs = np.diff(np.r_[0, nz[i, :, ch].astype(int), 0])
            starts, ends = np.where(runs == 1)[0], np.where(runs == -1)[0]
            assert np.all(ends - starts >= 3)
    # every bin of every recorded pulse is non-zero on its channels
    for p in pulses[:300]:
        for ch in p.channels:
            assert np.all(x[p.trial, p.start:p.start + 3, ch] != 0)
        assert p.start + 3 <= 100
    amps = np.array([a for p in pulses for a in p.amplitudes])
    if variant == "fixed":
        assert set(np.unique(amps)) <= {-1.0, 1.0}
    elif variant == "variable":
        assert np.all(np.abs(amps) <= 1)
    elif variant == "rectangle":
        a0 = np.array([p.amplitudes[0] for p in pulses if p.channels == (0,)])
        a1 = np.array([p.amplitudes[0] for p in pulses if p.channels == (1,)])
        assert np.all(np.abs(a0) <= 2) and np.all(np.abs(a1) <= 1) and np.abs(a0).max() > 1
    elif variant == "ring":
        m = np.array([p.amplitudes for p in pulses])
        assert all(p.channels == (0, 1) for p in pulses)
        np.testing.assert_allclose(np.hypot(m[:, 0], m[:, 1]), 2.0, atol=1e-5)
    else:
        m = np.array([p.amplitudes for p in pulses])
        r = np.hypot(m[:, 0], m[:, 1])
        assert np.all((r > 1) & (r < 2))


def test_initial_targets():
    np.testing.assert_array_equal(ff.initial_target("fixed", 3), [1, 1, 1])
    np.testing.assert_array_equal(ff.initial_target("square", 2), [0, 0])
    np.testing.assert_array_equal(ff.initial_target("ring", 2), [2, 0])
    np.testing.assert_array_equal(ff.initial_target("disk", 2), [1.5, 0])
    x, y = ff.make_flipflop(2, 50, "ring", seed=0)
    first = np.argmax(np.any(x != 0, axis=2), axis=1)
    assert np.all(y[first > 0, 0] == [2, 0])


def test_statistics_match_theory():
    _, y3, p3 = ff.make_flipflop(3, 5000, "variable", seed=11, return_pulses=True)
    assert abs(len(p3) / 5000 - 11.76) <= 0.2
    assert abs(ff.kept_pulses_theory(100, 2, 12) - 11.76) < 1e-12
    assert abs(ff.zero_mse(y3) - ff.zero_mse_theory(3)) <= 0.01
    assert abs(ff.zero_mse_theory(3) - 0.2531) < 5e-4 and abs(ff.zero_mse_theory(2) - 0.2796) < 5e-4
    _, y2 = ff.make_flipflop(2, 5000, "variable", seed=12)
    assert abs(ff.zero_mse(y2) - ff.zero_mse_theory(2)) <= 0.01
    _, _, pd = ff.make_flipflop(2, 5000, "annulus", seed=13, return_pulses=True)
    assert abs(len(pd) / 5000 - 5.88) <= 0.15
    _, yf = ff.make_flipflop(3, 100, "fixed", seed=1)
    assert ff.zero_mse(yf) == 1.0 == ff.zero_mse_theory(3, variant="fixed")


def test_seeded_and_split():
    a = ff.make_flipflop(2, 30, seed=5)
    b = ff.make_flipflop(2, 30, seed=5)
    c = ff.make_flipflop(2, 30, seed=6)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])
    (xt, _), (xv, _) = ff.splits(*a, 20, 10)
    np.testing.assert_array_equal(xt, a[0][:20])
    np.testing.assert_array_equal(xv, a[0][-10:])


def test_retention_inputs():
    x, m, last = ff.retention_inputs(3, n_mem=4, hold=10)
    assert x.shape == (4, 5 + 9 + 10, 3) and last == 13
    np.testing.assert_array_equal(x[:, 5:8, 0], np.repeat(m[:, :1], 3, 1))
    np.testing.assert_array_equal(x[:, 11:14, 2], np.repeat(m[:, 2:], 3, 1))
    assert np.all(x[:, last + 1:] == 0) and np.all(x[:, :5] == 0)


@pytest.mark.parametrize("kwargs,match", [
    (dict(n_bits=2, n_trials=10, variant="triangle"), "variant"),
    (dict(n_bits=3, n_trials=10, variant="ring"), "n_bits"),
    (dict(n_bits=0, n_trials=10), "n_bits"),
    (dict(n_bits=2, n_trials=-1), "n_trials"),
    (dict(n_bits=2, n_trials=5, T=3, width=3), "width"),
    (dict(n_bits=2, n_trials=5, freq=-1.0), "freq"),
])
def test_bad_inputs(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ff.make_flipflop(**kwargs)
