"""Momentum (paper 04): the realistic-network stand-in of issue 18 (`realnet`, `TanhNet`,
`InterpolatedOccupation`) and the bring-your-own-data loaders (FashionMNIST idx, CIFAR10 pickles)."""
from __future__ import annotations

import gzip
import pickle
import socket

import numpy as np
import pytest

from analysis_lib.momentum import data, dynamics, metrics, models, realnet as rn


def tiny_net(n=24, d=6, width=5, seed=0):
    rng = np.random.default_rng(seed)
    X, Xt = rng.standard_normal((n, d)) / np.sqrt(d), rng.standard_normal((50, d)) / np.sqrt(d)
    y, yt = np.sign(X[:, 0] + 0.1), np.sign(Xt[:, 0] + 0.1)
    return models.TanhNet(X=X, y=y, X_test=Xt, y_test=yt, width=width)


# ------------------------------------------------------------------ model
def _reference_grad(net, W, Y):
    """∇L of f(x) = Σ_j a_j tanh(w_j·x), written out with einsum (independent of TanhNet's matmuls)."""
    a, Wm = W[:, :net.width], W[:, net.width:].reshape(len(W), net.width, net.d)
    h = np.tanh(np.einsum("bjd,id->bij", Wm, net.X))
    R = np.einsum("bij,bj->bi", h, a) - Y
    ga = np.einsum("bi,bij->bj", R, h) / net.n
    gW = np.einsum("bij,id->bjd", R[:, :, None] * (1 - h ** 2) * a[:, None, :], net.X) / net.n
    return np.concatenate([ga, gW.reshape(len(W), -1)], axis=1)


def test_tanhnet_matches_a_reference_gradient_and_finite_differences():
    net = tiny_net()
    rng = np.random.default_rng(1)
    W = rng.standard_normal((3, net.dim))
    Y = net.y[None] + 0.1 * rng.standard_normal((3, net.n))
    np.testing.assert_allclose(net.grad(W, Y), _reference_grad(net, W, Y), atol=1e-13)
    ts = models.TeacherStudentTanh.make(d=3, n=10, width=4, rng=0)  # the F7 problem is this network on teacher data
    assert isinstance(ts, models.TanhNet) and ts.dim == 16 and np.all(np.abs(ts.y) < 1)
    np.testing.assert_allclose(net.trace_gn(W), np.sum(net.per_sample_grads(W) ** 2, axis=(1, 2)) / net.n, rtol=1e-12)
    h, v = 1e-6, rng.standard_normal(net.dim)
    fd = (net.loss(W[:1] + h * v, Y[:1]) - net.loss(W[:1] - h * v, Y[:1])) / (2 * h)
    assert abs(fd[0] - net.grad(W[:1], Y[:1])[0] @ v) < 1e-7
    J = net.per_sample_grads(W[:1])[0]
    assert np.isclose(net.lambda_max(W[0])[0], np.linalg.eigvalsh(J @ J.T / net.n)[-1])
    pytest.importorskip("torch")
    assert dynamics.torch_sgd_max_abs_diff(net, W[0], eta=0.05, beta=0.9, eps=0.1) < 1e-12


def test_tanhnet_rejects_mismatched_data():
    net = tiny_net()
    with pytest.raises(ValueError, match="X must be"):
        models.TanhNet(X=net.X, y=net.y[:-1], X_test=net.X_test, y_test=net.y_test)
    with pytest.raises(ValueError, match="X_test must be"):
        models.TanhNet(X=net.X, y=net.y, X_test=net.X_test[:, :2], y_test=net.y_test)


# ------------------------------------------------------------------ estimator
def test_interpolated_occupation_counts_the_fraction_above_threshold():
    obs = dynamics.InterpolatedOccupation(lambda W: W[:, 0], thr=4.0)
    obs.start(3, 10, 5, np.full(3, 10))
    obs.first(np.array([[10.0], [10.0], [1.0]]))
    div = np.zeros(3, bool)
    obs.update(5, np.array([[0.0], [6.0], [1.0]]), 3, div)  # 10 → 0 crosses 4 at 60% of the interval
    assert np.allclose(obs.count, [3.0, 5.0, 0.0])
    obs.update(10, np.array([[9.0], [np.nan], [1.0]]), 3, np.array([False, False, True]))  # 0 → 9: above for 5/9
    assert np.allclose(obs.count, [3.0 + 5 * 5 / 9, 10.0, 5.0])  # NaN and diverged: the whole interval


def synthetic_result(gamma, n_eta=6, n_seed=8, noise=0.03, seed=0):
    """T = max(T0(η), b(η) x²) with the knee x_c(η) = 0.01 (η/0.1)^γ and T0 ∝ η^{-2/3}, plus seed noise."""
    rng = np.random.default_rng(seed)
    p = rn.realnet_params(False, etas=tuple(0.12 * 2.0 ** -np.arange(n_eta)), n_seeds=n_seed)
    x, etas = np.asarray(p.one_minus_betas), np.asarray(p.etas)
    H = np.array([rn.horizon_and_every(p, e)[0] for e in etas])
    xc = 0.01 * (etas / 0.1) ** gamma
    T0 = 300 * (etas / 0.1) ** (-2 / 3)
    T = np.maximum(T0[:, None], T0[:, None] * (x[None] / xc[:, None]) ** 2)
    T_seed = np.minimum(T[..., None] * np.exp(noise * rng.standard_normal((*T.shape, n_seed))), H[:, None, None])
    sh = T_seed.shape
    z = np.zeros(sh)
    return rn.RealNetResult(p, T_seed, np.zeros(sh, bool), z, z, z, np.zeros((*sh, 2)), np.zeros((*sh, 2)),
                            np.zeros((n_eta, 2)), H, np.ones(n_eta, int), 30.0, 0.8, 1.0, 3.9, 520, 256)


@pytest.mark.parametrize("gamma, verdict", [(2 / 3, "reproduced"), (1.0, "not reproduced")])
def test_fit_realnet_tells_two_thirds_from_one(gamma, verdict):
    fits = rn.fit_realnet(synthetic_result(gamma), n_boot=100)
    assert abs(fits.gamma - gamma) < 0.05 and fits.ci_width < 0.3
    assert abs(fits.eta_eff_slope - (1 - gamma)) < 0.05
    assert np.all(np.abs(fits.right_branch - 2) < 0.1) and fits.n_undefined == 0
    assert fits.verdict() == verdict
    assert np.isclose(fits.shift_per_eta_step[2 / 3], 2 ** (2 / 3))


def test_fit_realnet_counts_undefined_knees_without_fallback():
    res = synthetic_result(2 / 3)
    res.T_seed[0] = res.T_seed[0, :1]  # a flat row: no right branch, no knee
    fits = rn.fit_realnet(res, n_boot=50)
    assert np.isnan(fits.knees[0]) and fits.n_undefined == 1 and fits.verdict() == "not resolved"


def test_design_presets_follow_the_issue_rules():
    p = rn.realnet_params(False)
    etas, omb = np.asarray(p.etas), np.asarray(p.one_minus_betas)
    assert len(etas) >= 5 and np.log10(etas.max() / etas.min()) >= 1.2
    assert 13 <= len(omb) <= 16 and p.n_seeds >= 8
    assert np.exp(np.mean(np.diff(np.log(omb)))) < 2 ** (2 / 3)  # grid step < knee shift per η step (γ = 2/3)
    for e in etas:
        H, every = rn.horizon_and_every(p, e)
        assert H % every == 0
        assert np.isclose(H * (e / etas.max()) ** (2 / 3), p.horizon_ref, rtol=0.02)
    q = rn.realnet_params(True)
    assert len(q.etas) < len(p.etas) and q.n_seeds < p.n_seeds
    with pytest.raises(ValueError, match="unknown RealNetParams fields"):
        rn.realnet_params(True, n_seed=3)


# ------------------------------------------------------------------ runs
def small_params(**kw):
    base = dict(problem=rn.NetProblem(n_train=32, width=3), etas=(0.2, 0.1), one_minus_betas=(0.01, 0.05, 0.2),
                n_seeds=2, horizon_ref=200, every_ref=10, n_curve=5)
    return rn.realnet_params(True, **{**base, **kw})


def test_cells_are_independent_of_their_batch_and_the_cached_grid_resumes(tmp_path):
    p = small_params()
    batched = rn.run_realnet(p, cache_dir=None, per_cell=False)
    per_cell = rn.run_realnet(p, cache_dir=tmp_path, per_cell=True, max_workers=1)
    np.testing.assert_allclose(per_cell.T_seed, batched.T_seed, rtol=1e-12)
    np.testing.assert_allclose(per_cell.test_acc, batched.test_acc, rtol=1e-12)
    n_files = len(list(tmp_path.glob("realnet_cells-*.pkl")))
    assert n_files == len(p.etas) * len(p.one_minus_betas)
    victim = sorted(tmp_path.glob("realnet_cells-*.pkl"))[0]
    victim.unlink()  # a killed run: one cell missing, the others are reused
    again = rn.run_realnet(p, cache_dir=tmp_path, per_cell=True, max_workers=1)
    np.testing.assert_allclose(again.T_seed, batched.T_seed, rtol=1e-12)
    assert len(list(tmp_path.glob("realnet_cells-*.pkl"))) == n_files
    assert batched.T_seed.shape == (2, 3, 2) and np.all(batched.T_seed > 0)
    assert batched.trace_curve.shape[:3] == (2, 3, 2) and np.isfinite(batched.phase1_acc)


def test_run_realnet_rejects_bad_grids():
    with pytest.raises(ValueError, match="one_minus_betas"):
        rn.run_realnet(small_params(one_minus_betas=(0.2, 0.05)))
    with pytest.raises(ValueError, match="thr_frac"):
        rn.run_realnet(small_params(thr_frac=1.5))
    with pytest.raises(ValueError, match="problem must be one of"):
        rn.make_net(rn.NetProblem("imagenet"))
    with pytest.raises(ValueError, match="needs data_dir"):
        rn.make_net(rn.NetProblem("fashion_mnist"))


# ------------------------------------------------------------------ data (offline)
def write_idx(path, arr, magic_type=0x08, gz=False):
    arr = np.asarray(arr, np.uint8)
    head = bytes([0, 0, magic_type, arr.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in arr.shape)
    raw = head + arr.tobytes()
    (gzip.open if gz else open)(path, "wb").write(raw)


def fake_fashion(folder, n_train=30, n_test=12, gz=False, seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if gz else ""
    for split, n in (("train", n_train), ("t10k", n_test)):
        write_idx(folder / f"{split}-images-idx3-ubyte{suffix}", rng.integers(0, 256, (n, 28, 28)), gz=gz)
        write_idx(folder / f"{split}-labels-idx1-ubyte{suffix}", rng.integers(0, 10, n), gz=gz)
    return folder


@pytest.mark.parametrize("gz", [False, True])
def test_fashion_mnist_reads_standard_idx_files(tmp_path, gz, monkeypatch):
    folder = fake_fashion(tmp_path / "fm", gz=gz)

    def no_network(*a, **k):
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket, "socket", no_network)
    Xtr, ytr, Xte, yte = data.load_fashion_mnist(folder)
    assert Xtr.shape == (30, 28, 28) and Xte.shape == (12, 28, 28) and ytr.shape == (30,)
    assert Xtr.dtype == np.float32 and 0 <= Xtr.min() and Xtr.max() <= 1
    raw = np.frombuffer((gzip.open if gz else open)(folder / f"train-labels-idx1-ubyte{'.gz' if gz else ''}", "rb").read()[8:],
                        np.uint8)
    assert np.array_equal(ytr, raw)
    pooled = data.pool_images(Xtr, 7)
    assert pooled.shape == (30, 49)
    assert np.isclose(pooled[0, 0], Xtr[0, :4, :4].mean())


def test_fashion_mnist_errors_name_the_file(tmp_path):
    with pytest.raises(ValueError, match="is not a folder"):
        data.load_fashion_mnist(tmp_path / "nowhere")
    folder = fake_fashion(tmp_path / "fm")
    (folder / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(ValueError, match="lacks t10k-labels-idx1-ubyte"):
        data.load_fashion_mnist(folder)
    bad = tmp_path / "bad-idx"
    bad.write_bytes(b"PK\x03\x04 not idx")
    with pytest.raises(ValueError, match=r"bad-idx is not an idx file"):
        data.read_idx(bad)
    short = tmp_path / "short-idx"
    write_idx(short, np.zeros((4, 28, 28)))
    short.write_bytes(short.read_bytes()[:-10])
    with pytest.raises(ValueError, match=r"short-idx holds .*truncated"):
        data.read_idx(short)
    notgz = tmp_path / "x.gz"
    notgz.write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match=r"x.gz could not be read as gzip"):
        data.read_idx(notgz)
    with pytest.raises(ValueError, match="does not exist"):
        data.read_idx(tmp_path / "missing")


def fake_cifar(folder, n=6, seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        d = {b"data": rng.integers(0, 256, (n, 3072)).astype(np.uint8), b"labels": list(rng.integers(0, 10, n))}
        pickle.dump(d, open(folder / name, "wb"))
    return folder


def test_cifar10_reads_python_batches_and_names_a_corrupt_file(tmp_path):
    folder = fake_cifar(tmp_path / "c10")
    Xtr, ytr, Xte, yte = data.load_cifar10(folder)
    assert Xtr.shape == (30, 3, 32, 32) and Xte.shape == (6, 3, 32, 32) and len(ytr) == 30
    assert data.pool_images(Xtr, 8).shape == (30, 64)
    (folder / "data_batch_3").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="data_batch_3 is not a CIFAR10 python batch"):
        data.load_cifar10(folder)
    (folder / "test_batch").unlink()
    with pytest.raises(ValueError, match="missing"):
        data.load_cifar10(folder)


def test_binary_split_and_own_data_problem(tmp_path):
    Xtr, ytr, Xte, yte = data.digits_binary(256, seed=0)
    assert Xtr.shape == (256, 64) and set(np.unique(ytr)) == {-1.0, 1.0} and len(Xte) == 1797 - 256
    assert 0.5 < np.mean(np.sum(Xtr ** 2, axis=1)) <= 1 + 1e-9  # standardised, scaled by 1/sqrt(64); constant pixels 0
    with pytest.raises(ValueError, match="n_train must be <"):
        data.binary_split(Xtr, ytr, 256)
    folder = fake_fashion(tmp_path / "fm", n_train=40, n_test=20)
    net = rn.make_net(rn.NetProblem("fashion_mnist", data_dir=str(folder), n_train=32, width=3))
    assert net.X.shape == (32, 49) and len(net.X_test) == 28


def test_poisoned_start_interpolates_the_clean_digits_and_generalises_worse():
    """NetProblem(n_poison=k): phase 1 fits the clean points and k held-out digits with random labels
    (which leave the test set); the start interpolates the clean points and scores below the default."""
    clean, poisoned = rn.NetProblem(n_train=64), rn.NetProblem(n_train=64, n_poison=48)
    net_c, net_p = rn.make_net(clean), rn.make_net(poisoned)
    np.testing.assert_array_equal(net_p.X, net_c.X)
    assert len(net_p.y_test) == len(net_c.y_test) - 48
    np.testing.assert_array_equal(net_p.X_test, net_c.X_test[48:])  # the poison left the test set
    w_c, w_p = rn.net_phase1_state(clean), rn.net_phase1_state(poisoned)
    assert float(net_p.loss(w_p[None])[0]) < 1e-10  # on the manifold of the clean problem
    acc_c = float(net_p.test_accuracy(w_c[None])[0])
    acc_p = float(net_p.test_accuracy(w_p[None])[0])
    assert acc_p < acc_c - 0.03


def test_poisoned_start_rejects_bad_settings():
    with pytest.raises(ValueError, match="n_poison"):
        rn.make_net(rn.NetProblem(n_poison=10_000))
    with pytest.raises(ValueError, match="n_poison"):
        rn.make_net(rn.NetProblem("teacher_student", n_train=24, width=16, n_poison=4))
