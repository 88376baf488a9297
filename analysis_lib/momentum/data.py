"""Offline data for the classification stand-ins (F9). Nothing here downloads anything.

- scikit-learn's bundled `load_digits` (1797 × 64, 10 classes) — the FULL stand-in;
- mnist1d, generated procedurally when the optional `mnist1d` package is installed;
- CIFAR10 read from a user-supplied folder of the standard python-pickle batches (opt-in path).
"""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from ._validate import positive_int


def one_hot(labels, k: int = 10) -> np.ndarray:
    labels = np.asarray(labels, dtype=int)
    if labels.min() < 0 or labels.max() >= k:
        raise ValueError(f"labels must lie in [0, {k - 1}]")
    return np.eye(k)[labels]


def load_digits_split(n_train: int = 1000, seed: int = 0):
    """Digits (bundled with scikit-learn, offline), standardised with train statistics.

    Returns X_train, y_train (int), X_test, y_test; n_train in [10, 1787]."""
    positive_int("n_train", n_train, minimum=10)
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    if n_train > len(X) - 10:
        raise ValueError(f"n_train must be <= {len(X) - 10}; got {n_train}")
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(X))
    tr, te = perm[:n_train], perm[n_train:]
    mu, sd = X[tr].mean(0), X[tr].std(0) + 1e-8
    # pixels that are constant on the train split stay 0 after standardisation
    return (X[tr] - mu) / sd, y[tr], (X[te] - mu) / sd, y[te]


def make_mnist1d(seed: int = 0):
    """mnist1d generated procedurally (needs the optional `mnist1d` package; never downloads).

    Returns X_train, y_train, X_test, y_test (4000/1000, 40 features)."""
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError as exc:  # optional dependency
        raise ImportError("make_mnist1d needs the optional package 'mnist1d' (pip install mnist1d)") from exc
    args = get_dataset_args()
    args.seed = seed
    d = make_dataset(args)
    return d["x"], d["y"], d["x_test"], d["y_test"]


def load_cifar10(path: str | Path):
    """CIFAR10 from a folder holding `data_batch_1..5` and `test_batch` (python pickles).

    Returns X_train (50000, 3, 32, 32) float32 in [0, 1], y_train, X_test, y_test. Never downloads."""
    path = Path(path)
    files = [path / f"data_batch_{i}" for i in range(1, 6)] + [path / "test_batch"]
    missing = [f.name for f in files if not f.exists()]
    if missing:
        raise ValueError(f"path must be a folder with the CIFAR10 python batches; missing {missing} in {path}")

    def read(f):
        with open(f, "rb") as fh:
            d = pickle.load(fh, encoding="bytes")
        return d[b"data"].reshape(-1, 3, 32, 32).astype(np.float32) / 255.0, np.asarray(d[b"labels"])

    parts = [read(f) for f in files[:5]]
    Xte, yte = read(files[5])
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]), Xte, yte
