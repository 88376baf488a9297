"""Offline data for the classification stand-ins (F9). Nothing here downloads anything.

- scikit-learn's bundled `load_digits` (1797 × 64, 10 classes) — the FULL stand-in;
- mnist1d, generated procedurally when the optional `mnist1d` package is installed;
- CIFAR10 read from a user-supplied folder of the standard python-pickle batches (opt-in path);
- FashionMNIST read from a user-supplied folder of the standard idx files, gzipped or not (opt-in path);
- `binary_split`: n samples of any of these as a ±1 regression problem for the `TanhNet` stand-in.
"""
from __future__ import annotations

import gzip
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
        try:
            with open(f, "rb") as fh:
                d = pickle.load(fh, encoding="bytes")
            data, labels = np.asarray(d[b"data"], dtype=np.uint8), np.asarray(d[b"labels"])
            if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or len(labels) != len(data):
                raise ValueError(f"data has shape {data.shape} and {len(labels)} labels")
        except Exception as exc:  # corrupt or foreign file: say which one
            raise ValueError(f"{f} is not a CIFAR10 python batch (a pickled dict with b'data' (N, 3072) uint8 and "
                             f"b'labels'): {exc}") from exc
        return data.reshape(-1, 3, 32, 32).astype(np.float32) / 255.0, labels

    parts = [read(f) for f in files[:5]]
    Xte, yte = read(files[5])
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]), Xte, yte


FASHION_MNIST_FILES = {"train_images": "train-images-idx3-ubyte", "train_labels": "train-labels-idx1-ubyte",
                       "test_images": "t10k-images-idx3-ubyte", "test_labels": "t10k-labels-idx1-ubyte"}
_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | Path) -> np.ndarray:
    """One idx file (the MNIST/FashionMNIST format: magic 0x0000TTNN, TT the type code, NN the number
    of dimensions, then NN big-endian uint32 sizes and the data), gzipped (".gz") or not.
    Raises ValueError naming the file when it is missing, truncated or not an idx file."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"idx file {path} does not exist")
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:  # e.g. a corrupt gzip stream
        raise ValueError(f"{path} could not be read as {'gzip' if opener is gzip.open else 'a file'}: {exc}") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES or raw[3] == 0:
        raise ValueError(f"{path} is not an idx file (magic bytes {raw[:4].hex() or 'missing'}; expected 0000TTNN "
                         f"with type TT in {sorted(hex(t) for t in _IDX_DTYPES)})")
    ndim = raw[3]
    if len(raw) < 4 + 4 * ndim:
        raise ValueError(f"{path} is truncated: its header names {ndim} dimensions")
    shape = tuple(int(v) for v in np.frombuffer(raw, ">u4", ndim, 4))
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    want = int(np.prod(shape)) * dtype.itemsize
    body = raw[4 + 4 * ndim:]
    if len(body) != want:
        raise ValueError(f"{path} holds {len(body)} data bytes; its header {shape} needs {want} (truncated or corrupt)")
    return np.frombuffer(body, dtype).reshape(shape)


def _idx_file(folder: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz"):
        if (folder / name).exists():
            return folder / name
    raise ValueError(f"FashionMNIST folder {folder} lacks {stem} (or {stem}.gz); it must hold the four standard idx "
                     f"files {sorted(FASHION_MNIST_FILES.values())}")


def load_fashion_mnist(path: str | Path):
    """FashionMNIST (or MNIST: same format) from a folder with the four standard idx files
    (`train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`,
    `t10k-labels-idx1-ubyte`, each optionally `.gz`). Never downloads.

    Returns X_train (N, 28, 28) float32 in [0, 1], y_train, X_test, y_test."""
    folder = Path(path)
    if not folder.is_dir():
        raise ValueError(f"FASHION_MNIST_DIR must be a folder with the FashionMNIST idx files; {folder} is not a folder")
    arrays = {k: read_idx(_idx_file(folder, stem)) for k, stem in FASHION_MNIST_FILES.items()}
    for split in ("train", "test"):
        imgs, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if imgs.ndim != 3 or labels.ndim != 1 or len(imgs) != len(labels):
            raise ValueError(f"{folder}: {split} images {imgs.shape} and labels {labels.shape} do not match "
                             f"(expected (N, rows, cols) and (N,))")
        if labels.size and (labels.min() < 0 or labels.max() > 9):
            raise ValueError(f"{folder}: {split} labels must lie in 0..9; got {labels.min()}..{labels.max()}")
    return (arrays["train_images"].astype(np.float32) / 255.0, arrays["train_labels"].astype(int),
            arrays["test_images"].astype(np.float32) / 255.0, arrays["test_labels"].astype(int))


def pool_images(X, size: int = 7) -> np.ndarray:
    """Average-pool square images (N, r, r) (or (N, c, r, r), channels averaged) to size × size
    and flatten: (N, size²). r must be a multiple of `size` (28 → 7, 32 → 8)."""
    X = np.asarray(X, float)
    if X.ndim == 4:
        X = X.mean(axis=1)
    if X.ndim != 3 or X.shape[1] != X.shape[2] or X.shape[1] % size:
        raise ValueError(f"images must be (N, r, r) with r a multiple of size={size}; got {X.shape}")
    f = X.shape[1] // size
    return X.reshape(len(X), size, f, size, f).mean(axis=(2, 4)).reshape(len(X), -1)


def binary_split(X, labels, n_train: int, n_test: int | None = None, positive_classes=(5, 6, 7, 8, 9), seed: int = 0):
    """A ±1 regression problem for the `TanhNet` stand-in: n_train random samples of (X, labels),
    target +1 for labels in `positive_classes` and −1 otherwise (our operationalisation of a
    classification task with a scalar output), features standardised with train statistics and
    scaled by 1/sqrt(n_features) (so ||x|| ≈ 1 and the LeCun init is O(1)). The rest (or the next
    n_test samples) is the test set. Returns X_train, y_train, X_test, y_test."""
    X = np.asarray(X, float).reshape(len(X), -1)
    labels = np.asarray(labels)
    positive_int("n_train", n_train, minimum=2)
    if n_train >= len(X):
        raise ValueError(f"n_train must be < the number of samples ({len(X)}); got {n_train}")
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(X))
    tr = perm[:n_train]
    te = perm[n_train:] if n_test is None else perm[n_train:n_train + positive_int("n_test", n_test)]
    mu, sd = X[tr].mean(0), X[tr].std(0)
    sd = np.where(sd > 1e-8, sd, np.inf)  # constant features → 0
    Z = (X - mu) / sd / np.sqrt(X.shape[1])
    t = np.where(np.isin(labels, positive_classes), 1.0, -1.0)
    return Z[tr], t[tr], Z[te], t[te]


def digits_binary(n_train: int = 256, seed: int = 0):
    """scikit-learn digits (bundled, offline) as ±1 targets: digit ≥ 5 vs < 5 (`binary_split`)."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return binary_split(X, y, n_train, seed=seed)
