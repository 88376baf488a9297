"""Theory: the random-list law, the random-graph recall walk (C11) and the random tree model (C13).

Derived / operationalised here (spec §4), checked numerically; not quotes of the paper.
"""
from __future__ import annotations

from dataclasses import dataclass
from math import comb

import numpy as np

SQRT_LAW_CONST = float(np.sqrt(1.5 * np.pi))  # ≈ 2.1708


def random_list_law(M):
    """R = √(3πM/2): recall of M retained items under the random-graph retrieval rule (Naim et al. 2020)."""
    M = np.asarray(M, dtype=float)
    if np.any(M < 0):
        raise ValueError("M must be >= 0")
    out = np.sqrt(1.5 * np.pi * M)
    return float(out) if out.ndim == 0 else out


@dataclass(frozen=True)
class WalkParams:
    """Random-graph walk: M items, i.i.d. uniform symmetric similarities, `n_trials` walks."""

    M: int
    n_trials: int = 2000

    def __post_init__(self):
        if not isinstance(self.M, (int, np.integer)) or self.M < 3:
            raise ValueError(f"M must be an integer >= 3; got {self.M!r}")
        if not isinstance(self.n_trials, (int, np.integer)) or self.n_trials < 1:
            raise ValueError(f"n_trials must be a positive integer; got {self.n_trials!r}")


def top2_neighbours(S: np.ndarray, overwrite: bool = False) -> np.ndarray:
    """(…, M, 2): most and second-most similar j ≠ k for every row k (diagonal excluded).

    Two arg-max passes (O(M²), no sort): a full argsort of every row is the slow baseline of the
    benchmark. With `overwrite=True` the caller's matrix is used as scratch space.
    """
    S = np.array(S, dtype=float, copy=not overwrite)
    M = S.shape[-1]
    if S.shape[-2] != M or M < 3:
        raise ValueError(f"S must be square with M >= 3; got shape {S.shape}")
    idx = np.arange(M)
    S[..., idx, idx] = -np.inf
    first = S.argmax(axis=-1)
    np.put_along_axis(S, first[..., None], -np.inf, axis=-1)
    second = S.argmax(axis=-1)
    return np.stack([first, second], axis=-1)


def walk_from(top2: np.ndarray, start: int) -> int:
    """Distinct items visited by the walk from `start`.

    From k go to the most similar item unless it is the one just left, then to the second; stop
    when a directed transition k→j repeats (the walk has entered a cycle).
    """
    prev, k = -1, int(start)
    seen_items = {k}
    seen_moves = set()
    while True:
        j = int(top2[k, 0])
        if j == prev:
            j = int(top2[k, 1])
        if (k, j) in seen_moves:
            return len(seen_items)
        seen_moves.add((k, j))
        seen_items.add(j)
        prev, k = k, j


def symmetric_random_matrix(M: int, rng: np.random.Generator, batch: int | None = None) -> np.ndarray:
    """Symmetric matrix (or a batch) S = X + Xᵀ with X i.i.d. uniform: the entries above the diagonal
    are i.i.d. and continuous, which is all the walk needs (it only uses their ranks)."""
    shape = (M, M) if batch is None else (batch, M, M)
    X = rng.random(shape)
    return X + np.swapaxes(X, -1, -2)


def walk_recall(params: WalkParams, rng: np.random.Generator, progress: bool = False) -> np.ndarray:
    """R of `n_trials` independent walks (a fresh similarity matrix and a uniform start each)."""
    from ..progress import tqdm

    M, n = int(params.M), int(params.n_trials)
    out = np.empty(n, dtype=int)
    batch = max(1, min(n, 2_000_000 // (M * M)))  # bound memory of the matrix batch
    done = 0
    with tqdm(total=n, disable=not progress, desc=f"walk M={M}") as bar:
        while done < n:
            b = min(batch, n - done)
            t2 = top2_neighbours(symmetric_random_matrix(M, rng, b), overwrite=True)
            starts = rng.integers(0, M, b)
            for i in range(b):
                out[done + i] = walk_from(t2[i], starts[i])
            done += b
            bar.update(b)
    return out


def walk_scaling(Ms, n_trials, seed: int = 0, progress: bool = False) -> dict:
    """Mean R, its SEM and R/√(1.5πM) for each M (independent seeds per M)."""
    res = {}
    for k, M in enumerate(Ms):
        n = n_trials[k] if isinstance(n_trials, (list, tuple)) else n_trials
        r = walk_recall(WalkParams(int(M), int(n)), np.random.default_rng([seed, int(M)]), progress)
        res[int(M)] = {"R": float(r.mean()), "sem": float(r.std(ddof=1) / np.sqrt(len(r))),
                       "ratio": float(r.mean() / random_list_law(M)), "n": int(n)}
    return res


def loglog_slope(Ms, Rs) -> float:
    """Slope of log R vs log M (least squares)."""
    return float(np.polyfit(np.log(np.asarray(Ms, float)), np.log(np.asarray(Rs, float)), 1)[0])


# --------------------------------------------------------------------------- random tree model
@dataclass(frozen=True)
class RTMParams:
    """Random tree model: a node of size j splits into K consecutive parts (uniform weak composition)."""

    K: int = 4
    D: int = 4

    def __post_init__(self):
        if not isinstance(self.K, (int, np.integer)) or self.K < 2:
            raise ValueError(f"K must be an integer >= 2; got {self.K!r}")
        if not isinstance(self.D, (int, np.integer)) or self.D < 1:
            raise ValueError(f"D must be an integer >= 1; got {self.D!r}")


def rtm_T(N: int, K: int) -> np.ndarray:
    """T[i, j] = C(j−i+K−2, K−2)/C(j+K−1, K−1) (i ≤ j): law of one child's size i given parent size j."""
    if not isinstance(N, (int, np.integer)) or N < 0:
        raise ValueError(f"N must be an integer >= 0; got {N!r}")
    if K < 2:
        raise ValueError(f"K must be >= 2; got {K!r}")
    from scipy.special import comb as vcomb

    i = np.arange(N + 1)[:, None]
    j = np.arange(N + 1)[None, :]
    T = np.where(i <= j, vcomb(np.maximum(j - i, 0) + K - 2, K - 2) / vcomb(j + K - 1, K - 1), 0.0)
    return T


def rtm_C(N: int, K: int, level: int, T: np.ndarray | None = None) -> float:
    """Expected number of non-empty nodes at `level` (root = 1): K^{ℓ−1}(1 − p_ℓ(0)), p_ℓ = T^{ℓ−1}δ_N."""
    if not isinstance(level, (int, np.integer)) or level < 1:
        raise ValueError(f"level must be an integer >= 1; got {level!r}")
    T = rtm_T(N, K) if T is None else T
    p = np.zeros(N + 1)
    p[N] = 1.0
    for _ in range(level - 1):
        p = T @ p
    return float(K ** (level - 1) * (1 - p[0]))


def rtm_C_curve(N_max: int, K: int, level: int) -> np.ndarray:
    """C(N, level) for N = 0..N_max from one matrix power: 1 − p_ℓ(0) is row 0 of T^{ℓ−1}."""
    if not isinstance(level, (int, np.integer)) or level < 1:
        raise ValueError(f"level must be an integer >= 1; got {level!r}")
    P = np.linalg.matrix_power(rtm_T(N_max, K), level - 1)
    C = K ** (level - 1) * (1 - P[0])
    return C


def rtm_sample_level(N: int, K: int, level: int, n_trees: int, rng: np.random.Generator) -> np.ndarray:
    """Node sizes at `level` of `n_trees` sampled trees, shape (n_trees, K^{level−1}).

    A uniform weak composition of j into K parts is a Dirichlet(1,…,1)-multinomial draw.
    """
    sizes = np.full((n_trees, 1), N, dtype=np.int64)
    for _ in range(level - 1):
        p = rng.dirichlet(np.ones(K), size=sizes.shape)
        sizes = rng.multinomial(sizes, p).reshape(n_trees, -1)
    return sizes


def rtm_C_mc(N: int, K: int, level: int, n_trees: int, rng: np.random.Generator) -> tuple[float, float]:
    """Monte-Carlo mean and SE of the number of non-empty nodes at `level`."""
    cnt = (rtm_sample_level(N, K, level, n_trees, rng) > 0).sum(axis=1)
    return float(cnt.mean()), float(cnt.std(ddof=1) / np.sqrt(n_trees))


def compression_moments(K: int, D: int) -> tuple[float, float]:
    """E and Var of ln s_D, s_D = Π_{j<D} R_j, R_j ~ Beta(1, K−1): −(D−1)H_{K−1}, (D−1)Σ_{n<K} n⁻²."""
    RTMParams(K, D)
    H = sum(1.0 / n for n in range(1, K))
    V = sum(1.0 / n**2 for n in range(1, K))
    return -(D - 1) * H, (D - 1) * V


def sample_log_compression(K: int, D: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """ln s_D for n draws of the N → ∞ compression law."""
    RTMParams(K, D)
    return np.log(rng.beta(1.0, K - 1.0, size=(n, D - 1))).sum(axis=1)


def log_compression_density(K: int, D: int, t_grid: np.ndarray) -> np.ndarray:
    """Density of t = −ln s_D on a uniform grid: (D−1)-fold convolution of (K−1)e^{−t}(1−e^{−t})^{K−2}."""
    dt = t_grid[1] - t_grid[0]
    f = (K - 1) * np.exp(-t_grid) * (1 - np.exp(-t_grid)) ** (K - 2)
    g = f.copy()
    for _ in range(D - 2):
        g = np.convolve(g, f)[: len(t_grid)] * dt
    return g


def walk_point(M: int, n_trials: int, seed: int = 0) -> dict:
    """One grid point of the walk scaling (for `al.sweep`): mean R, SEM and R/√(1.5πM)."""
    r = walk_recall(WalkParams(int(M), int(n_trials)), np.random.default_rng([int(seed), int(M)]))
    return {"M": int(M), "R": float(r.mean()), "sem": float(r.std(ddof=1) / np.sqrt(len(r))),
            "ratio": float(r.mean() / random_list_law(M)), "n": int(n_trials)}
