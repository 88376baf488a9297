"""Fixed-point census of finite random networks (issue 16, item 1), shared by notebooks 01 and 02.

Every model here has fixed points that solve an N-dimensional field equation of the form

    F(x) = −x + G(x) = 0,        G bounded (tanh and sigmoid gates),

(the GRU: G(h) = φ(U_h(σ(U_r h + b_r) ⊙ h) + b_h), the update gate drops out; the PRX gated ODE:
G(h) = J^h[σ_r(α_r J^r φ(h) − β_r) ⊙ φ(h)], z and r slaved to h; the additive network
G(x) = J tanh(x)). The census finds the roots of F by Levenberg–Marquardt from many starts
(random at several radii and drawn from the static mean field), polishes them by Newton steps,
keeps only verified roots (max |F| ≤ `tol`), de-duplicates them and classifies each by the
spectrum of DF: its index is the number of eigenvalues with Re > 0 (0 = stable for the flow
ẋ = F(x)).

Checks that need no reference (derived): F looks like −x far away, so the sum over all roots of
sign det DF(x*) is (−1)^N (`index_sum_ok`); a census that misses one root of a ± pair breaks it.

Complexity: Σ = lim (1/N) log E[#fixed points], estimated from fits of log mean(#) (annealed) and
mean(log #) (quenched) against N with a free intercept, CIs by bootstrap over networks
(`complexity_fit`). Multi-start counts are lower bounds (biased low more at large N): the
saturation curve (unique roots against starts used) is kept for each network.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Protocol, Sequence

import numpy as np

from .params import check_float, check_positive_int, check_seed


class Field(Protocol):
    """F(x) = −x + G(x) on R^N: `F(X)` for columns X (N, B) → (N, B); `jac(X)` → (B, N, N)."""

    N: int
    odd: bool  # F(−x) = −F(x): every root x* comes with −x*

    def F(self, X: np.ndarray) -> np.ndarray: ...

    def jac(self, X: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True, eq=False)
class AdditiveField:
    """F(x) = −x + J tanh(x) (the additive random network; Wainrib & Touboul 2013 is its census)."""

    J: np.ndarray

    @property
    def N(self) -> int:
        return self.J.shape[0]

    odd = True

    def F(self, X):
        return -X + self.J @ np.tanh(X)

    def jac(self, X):
        d = 1.0 - np.tanh(X.T) ** 2  # (B, N)
        Jb = self.J[None, :, :] * d[:, None, :]
        Jb[:, np.arange(self.N), np.arange(self.N)] -= 1.0
        return Jb


def additive_field_with_roots(X: np.ndarray) -> AdditiveField:
    """J = X tanh(X)^{-1} (tanh elementwise): every column of X, its negative and 0 are fixed
    points of −x + J tanh(x) (a network with known roots for tests)."""
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[0] != X.shape[1]:
        raise ValueError(f"X must be a square matrix; got shape {X.shape}")
    return AdditiveField(X @ np.linalg.inv(np.tanh(X)))


# ----------------------------------------------------------------------------- the solver

@dataclass(frozen=True, eq=False)
class DeflatedField:
    """Deflation (Farrell, Birkisson & Funke 2015): G(x) = M(x) F(x), M(x) = Π_i (|x − x_i|^{−p} + 1)
    over known roots x_i, so Newton on G cannot return to them; DG = M (DF + F ηᵀ), η = ∇ log M.
    The shift 1 keeps G ≈ F far from the known roots (no spurious root at infinity)."""

    base: Field
    known: np.ndarray  # (N, K)
    p: float = 2.0

    @property
    def N(self) -> int:
        return self.base.N

    odd = False

    def _M_eta(self, X):
        if self.known.shape[1] == 0:
            return np.ones(X.shape[1]), np.zeros_like(X)
        D = X[:, :, None] - self.known[:, None, :]            # (N, B, K)
        r2 = np.maximum(np.einsum("nbk,nbk->bk", D, D), 1e-300)
        a = r2 ** (-self.p / 2)                                # |d|^{−p}
        logM = np.sum(np.log1p(a), axis=1)
        # ∇ log(|d|^{−p} + 1) = −p |d|^{−p−2} d / (|d|^{−p} + 1)
        w = -self.p * a / r2 / (a + 1.0)                       # (B, K)
        eta = np.einsum("nbk,bk->nb", D, w)
        return np.exp(np.minimum(logM, 700.0)), eta

    def F(self, X):
        M, _ = self._M_eta(X)
        return M[None, :] * self.base.F(X)

    def jac(self, X):
        M, eta = self._M_eta(X)
        F = self.base.F(X)
        return M[:, None, None] * (self.base.jac(X) + F.T[:, :, None] * eta.T[:, None, :])


def _lm_solve(field: Field, X0: np.ndarray, tol: float, max_iter: int):
    """Batched Levenberg–Marquardt on F(x) = 0: δ = −(JᵀJ + μI)^{-1}JᵀF, μ ÷5 on success and ×10
    on failure (a start whose μ exceeds 1e8 sits at a non-root minimum of |F|² and is dropped),
    Returns the final states (N, B) and their max |F|."""
    X = np.array(X0, dtype=float, copy=True)
    N, B = X.shape
    F = field.F(X)
    f2 = np.einsum("nb,nb->b", F, F)
    mu = np.full(B, 1e-3)
    alive = np.ones(B, dtype=bool)
    eye = np.eye(N)
    for _ in range(max_iter):
        todo = alive & (np.abs(F).max(axis=0) > tol)
        if not todo.any():
            break
        idx = np.flatnonzero(todo)
        J = field.jac(X[:, idx])
        JT = J.transpose(0, 2, 1)
        Fi = F[:, idx].T[:, :, None]
        A = JT @ J + mu[idx, None, None] * eye
        step = -np.linalg.solve(A, JT @ Fi)[:, :, 0].T
        Xn = X[:, idx] + step
        Fn = field.F(Xn)
        f2n = np.einsum("nb,nb->b", Fn, Fn)
        ok = np.isfinite(f2n) & (f2n < f2[idx])
        acc, rej = idx[ok], idx[~ok]
        X[:, acc], F[:, acc], f2[acc] = Xn[:, ok], Fn[:, ok], f2n[ok]
        mu[acc] = np.maximum(mu[acc] / 5.0, 1e-14)
        mu[rej] *= 10.0
        alive[rej[mu[rej] > 1e8]] = False
    return X, np.abs(F).max(axis=0)


def dedupe(roots: np.ndarray, tol: float = 1e-6) -> tuple[np.ndarray, np.ndarray]:
    """Greedy de-duplication of roots (columns, (N, B)): a root within `tol` (max-norm, relative to
    max(1, |x|_∞)) of an earlier unique root is the same root. Returns (unique roots (N, K), the
    index of the unique root each input column maps to)."""
    roots = np.asarray(roots, dtype=float)
    if roots.ndim != 2:
        raise ValueError(f"roots must be an (N, B) array; got shape {roots.shape}")
    tol = check_float("tol", tol, 0.0, lo_open=True)
    uniq: list[np.ndarray] = []
    label = np.empty(roots.shape[1], dtype=int)
    for b in range(roots.shape[1]):
        x = roots[:, b]
        if uniq:
            U = np.stack(uniq, axis=1)
            d = np.abs(U - x[:, None]).max(axis=0) / max(1.0, np.abs(x).max())
            k = int(np.argmin(d))
            if d[k] <= tol:
                label[b] = k
                continue
        uniq.append(x)
        label[b] = len(uniq) - 1
    return (np.stack(uniq, axis=1) if uniq else np.zeros((roots.shape[0], 0))), label


@dataclass
class FixedPointSet:
    """The verified, de-duplicated roots of one network."""

    roots: np.ndarray            # (N, K)
    residual: np.ndarray         # (K,) max |F| at each root
    index: np.ndarray            # (K,) number of eigenvalues of DF with Re > 0
    sign_det: np.ndarray         # (K,) sign det DF
    q: np.ndarray                # (K,) |x*|²/N
    saturation: np.ndarray       # unique roots found after the first 1, 2, ... starts
    n_starts: int
    n_converged: int             # starts that ended at a verified root
    info: dict = field(default_factory=dict)

    @property
    def count(self) -> int:
        return self.roots.shape[1]

    @property
    def n_stable(self) -> int:
        return int(np.sum(self.index == 0))

    @property
    def index_sum_ok(self) -> bool:
        """Σ sign det DF(x*) = (−1)^N (degree of −x + G on a large sphere; derived)."""
        return int(np.sum(self.sign_det)) == (-1) ** self.roots.shape[0]


def _newton_polish(field: Field, X: np.ndarray, n: int = 2):
    """n Newton steps on the undeflated field where they reduce max |F|; returns (X, max |F|)."""
    X = X.copy()
    F = field.F(X)
    for _ in range(n):
        if X.shape[1] == 0:
            break
        J = field.jac(X)
        good = np.isfinite(F).all(axis=0) & (np.abs(np.linalg.det(J)) > 0)
        if not good.any():
            break
        step = np.linalg.solve(J[good], F[:, good].T[:, :, None])[:, :, 0].T
        Xn = X[:, good] - step
        Fn = field.F(Xn)
        better = np.abs(Fn).max(axis=0) <= np.abs(F[:, good]).max(axis=0)
        cols = np.flatnonzero(good)[better]
        X[:, cols], F[:, cols] = Xn[:, better], Fn[:, better]
    return X, np.abs(F).max(axis=0)


def find_fixed_points(field: Field, starts: np.ndarray, tol: float = 1e-10, dedup_tol: float = 1e-6,
                      max_iter: int = 200, include_zero: bool = True, deflate: bool = False,
                      batch: int = 32, patience: int | None = None) -> FixedPointSet:
    """Roots of `field` from the columns of `starts` (N, B), classified by DF's spectrum.

    Starts are run in batches of `batch` (the resolution of the saturation curve); with `deflate`,
    each batch solves the deflated field (`DeflatedField`) against every root found so far. Off by
    default: on GRU networks at N = 20 (s_h = 4, s_r = 10, b_r = −2) deflated LM converged from
    ~10 % of the starts and found fewer roots per CPU second than plain multi-start LM.
    A candidate counts only after Newton polishing on the undeflated F with max |F| ≤ `tol`;
    symmetric partners are added when `field.odd`; roots are de-duplicated (`dedupe`).
    `patience`: stop after that many batches in a row without a new root (None: use all starts).
    `include_zero`: also try x = 0 first (a root of every unbiased model here)."""
    N = check_positive_int("N", field.N)
    starts = np.asarray(starts, dtype=float)
    if starts.ndim != 2 or starts.shape[0] != N:
        raise ValueError(f"starts must have shape ({N}, n_starts); got {starts.shape}")
    tol = check_float("tol", tol, 0.0, lo_open=True)
    max_iter = check_positive_int("max_iter", max_iter)
    batch = check_positive_int("batch", batch)
    if include_zero:
        starts = np.concatenate([np.zeros((N, 1)), starts], axis=1)
    uniq = np.zeros((N, 0))
    sat = np.zeros(starts.shape[1], dtype=int)
    n_conv, used, idle = 0, 0, 0
    for b0 in range(0, starts.shape[1], batch):
        S = starts[:, b0:b0 + batch]
        solver_field = DeflatedField(field, uniq) if deflate and uniq.shape[1] else field
        X, _ = _lm_solve(solver_field, S, tol, max_iter)
        ok0 = np.isfinite(X).all(axis=0)
        X, res = _newton_polish(field, X[:, ok0])
        X = X[:, res <= tol]
        n_conv += X.shape[1]
        if field.odd and X.shape[1]:
            X = np.concatenate([X, -X], axis=1)
        before = uniq.shape[1]
        if X.shape[1]:
            uniq, _ = dedupe(np.concatenate([uniq, X], axis=1), dedup_tol)
        sat[b0:b0 + S.shape[1]] = uniq.shape[1]  # resolution: one batch
        used = b0 + S.shape[1]
        idle = idle + 1 if uniq.shape[1] == before else 0
        if patience is not None and idle >= patience:
            break
    sat = sat[:used]
    K = uniq.shape[1]
    index = np.zeros(K, dtype=int)
    sdet = np.zeros(K, dtype=int)
    if K:
        J = field.jac(uniq)
        index = np.sum(np.linalg.eigvals(J).real > 0, axis=1)
        sdet = np.sign(np.linalg.slogdet(J)[0]).astype(int)
    resid = np.abs(field.F(uniq)).max(axis=0) if K else np.zeros(0)
    return FixedPointSet(uniq, resid, index, sdet, np.mean(uniq ** 2, axis=0) if K else np.zeros(0), sat,
                         int(used), int(n_conv))


def random_starts(N: int, n: int, seed: int, radii: Sequence[float] = (0.3, 1.0, 3.0)) -> np.ndarray:
    """n starts (N, n): Gaussian with standard deviation cycling through `radii`."""
    N, n = check_positive_int("N", N), check_positive_int("n", n)
    rng = np.random.default_rng(check_seed(seed))
    r = np.resize(np.asarray(radii, dtype=float), n)
    return rng.standard_normal((N, n)) * r[None, :]


# ----------------------------------------------------------------------------- census over N
@dataclass
class Census:
    """Counts of one parameter point over sizes N and networks."""

    label: str
    N_list: tuple[int, ...]
    counts: dict[int, np.ndarray]        # N → (n_networks,) unique fixed points
    stable: dict[int, np.ndarray]        # N → (n_networks,) stable ones (index 0)
    index_sum_ok: dict[int, np.ndarray]  # N → (n_networks,) bool
    late_gain: dict[int, np.ndarray]     # N → fraction of roots first found in the last half of the starts
    q: dict[int, list]                   # N → per network |x*|²/N of the non-zero roots
    max_residual: float

    def mean_count(self) -> np.ndarray:
        return np.array([self.counts[n].mean() for n in self.N_list])


def census_sweep(point_fn: Callable, point_jobs: dict, onset_jobs: Sequence[dict], desc: str, cache_dir=None,
                 progress: bool = False, executor=None) -> dict:
    """One `sweep` of `point_fn` over the named parameter points and the onset scan of a notebook's
    census: {"points": {name: Census}, "onset": [Census per onset job]} (cached per job in FULL)."""
    from ..sweep import sweep

    names = list(point_jobs)
    out = sweep(point_fn, [point_jobs[k] for k in names] + list(onset_jobs), executor, progress=progress, desc=desc,
                cache_dir=cache_dir)
    return {"points": dict(zip(names, out[:len(names)])), "onset": out[len(names):]}


def run_census(make_field: Callable[[int, int], Field], make_starts: Callable[[int, int], np.ndarray],
               N_list: Sequence[int], n_networks: int, seed: int = 0, label: str = "",
               progress: bool = False, **kw) -> Census:
    """`make_field(N, network_seed)` and `make_starts(N, network_seed)` for every N in `N_list` and
    `n_networks` networks each (network seeds seed·10⁴ + 100·N + k, so sizes never share draws)."""
    from ..progress import tqdm

    n_networks = check_positive_int("n_networks", n_networks)
    seed = check_seed(seed)
    out = {k: {} for k in ("counts", "stable", "ok", "late", "q")}
    max_res = 0.0
    jobs = [(N, k) for N in N_list for k in range(n_networks)]
    per: dict[int, list] = {N: [] for N in N_list}
    for N, k in tqdm(jobs, disable=not progress, desc=f"fixed-point census {label}", leave=False):
        s = seed * 10_000 + 100 * N + k
        fps = find_fixed_points(make_field(N, s), make_starts(N, s), **kw)
        per[N].append(fps)
        if fps.count:
            max_res = max(max_res, float(fps.residual.max()))
    for N, L in per.items():
        out["counts"][N] = np.array([f.count for f in L])
        out["stable"][N] = np.array([f.n_stable for f in L])
        out["ok"][N] = np.array([f.index_sum_ok for f in L])
        half = [f.saturation[len(f.saturation) // 2] for f in L]
        out["late"][N] = np.array([(f.count - h) / f.count if f.count else 0.0 for f, h in zip(L, half)])
        out["q"][N] = [f.q[f.q > 1e-12].tolist() for f in L]
    return Census(label, tuple(int(n) for n in N_list), out["counts"], out["stable"], out["ok"], out["late"],
                  out["q"], max_res)


@dataclass(frozen=True)
class ComplexityFit:
    """Σ from log E#(N) = a + Σ N (annealed) and E log #(N) = a' + Σ_q N (quenched), 95 % bootstrap CIs."""

    sigma_annealed: float
    ci_annealed: tuple[float, float]
    sigma_quenched: float
    ci_quenched: tuple[float, float]


def _slope(N, y):
    N = np.asarray(N, dtype=float)
    return float(np.polyfit(N, y, 1)[0])


def complexity_fit(census: Census, n_boot: int = 1000, seed: int = 0) -> ComplexityFit:
    """Least-squares slopes of log mean(#) and mean(log #) against N (free intercept; the fit form
    and the N range are the census's, fixed before the run), with percentile bootstrap CIs over
    networks (each N resampled independently)."""
    rng = np.random.default_rng(check_seed(seed))
    Ns = census.N_list
    if len(Ns) < 2:
        raise ValueError("complexity_fit needs at least two sizes N")
    C = [np.maximum(census.counts[n], 1).astype(float) for n in Ns]
    ann = _slope(Ns, [math.log(c.mean()) for c in C])
    que = _slope(Ns, [np.log(c).mean() for c in C])
    boot_a, boot_q = [], []
    for _ in range(check_positive_int("n_boot", n_boot)):
        S = [c[rng.integers(0, c.size, c.size)] for c in C]
        boot_a.append(_slope(Ns, [math.log(s.mean()) for s in S]))
        boot_q.append(_slope(Ns, [np.log(s).mean() for s in S]))
    qa, qq = np.percentile(boot_a, [2.5, 97.5]), np.percentile(boot_q, [2.5, 97.5])
    return ComplexityFit(ann, (float(qa[0]), float(qa[1])), que, (float(qq[0]), float(qq[1])))


def nonzero_fraction(census: Census, N: int) -> float:
    """Fraction of the networks of size N with a fixed point other than x = 0 (count ≥ 2; with zero
    biases the count is odd by the index sum, so this means ≥ 3)."""
    return float(np.mean(census.counts[N] >= 2))


def onset(grid: Sequence[float], censuses: Sequence[Census], N: int, level: float = 0.5) -> float:
    """First crossing of `level` by the fraction of networks with a nonzero fixed point along a scan
    (`grid` increasing, one census per grid value), by linear interpolation; NaN if it never crosses."""
    x = np.asarray(grid, dtype=float)
    f = np.array([nonzero_fraction(c, N) for c in censuses])
    if x.size != f.size or np.any(np.diff(x) <= 0):
        raise ValueError("grid must be increasing and have one census per value")
    above = np.flatnonzero(f >= level)
    if above.size == 0:
        return float("nan")
    k = int(above[0])
    if k == 0:
        return float(x[0])
    return float(x[k - 1] + (level - f[k - 1]) * (x[k] - x[k - 1]) / (f[k] - f[k - 1]))


# ----------------------------------------------------------------------------- figures
def plot_counts_vs_N(ax, censuses: dict, fits: dict | None = None, colors=None):
    """Mean number of fixed points against N (log scale, ± one standard error over networks) for
    each labelled census, with the annealed fit exp(a + Σ N) when `fits` gives it."""
    for k, (name, c) in enumerate(censuses.items()):
        col = (colors or {}).get(name, f"C{k}")
        Ns = np.array(c.N_list)
        m = c.mean_count()
        se = np.array([c.counts[n].std(ddof=1) / np.sqrt(c.counts[n].size) if c.counts[n].size > 1 else 0.0
                       for n in c.N_list])
        lab = name
        if fits and name in fits:
            f = fits[name]
            lab += rf": $\Sigma$={f.sigma_annealed:.3f} [{f.ci_annealed[0]:.3f}, {f.ci_annealed[1]:.3f}]"
            a = np.mean(np.log(m) - f.sigma_annealed * Ns)
            ax.plot(Ns, np.exp(a + f.sigma_annealed * Ns), "-", color=col, lw=0.8)
        ax.errorbar(Ns, m, yerr=se, fmt="o", color=col, ms=4, capsize=2, label=lab)
    ax.set_yscale("log")
    ax.set_xlabel("$N$")
    ax.set_ylabel("mean number of fixed points")
    ax.legend(fontsize=6)


def plot_onset_scan(ax, grid, censuses, N: int, line: float, band: tuple[float, float], line_label: str,
                    alt: float | None = None, alt_label: str = "", xlabel: str = ""):
    """Fraction of networks (size N) with a nonzero fixed point along a parameter scan, the
    mean-field line with its finite-N band (fixed before the run) and the alternative line."""
    f = [nonzero_fraction(c, N) for c in censuses]
    ax.plot(grid, f, "ko-", ms=4, label=f"census, N={N}")
    ax.axvspan(band[0], band[1], color="C1", alpha=0.15, lw=0, label="finite-N band (stated in advance)")
    ax.axvline(line, color="C1", lw=1.5, label=line_label)
    if alt is not None:
        ax.axvline(alt, color="C3", lw=1.2, ls="--", label=alt_label)
    ax.axhline(0.5, color="0.6", lw=0.6, ls=":")
    x0 = onset(grid, censuses, N)
    if np.isfinite(x0):
        ax.plot([x0], [0.5], "C2*", ms=12, label=f"onset {x0:.2f}")
    ax.set_xscale("log")
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("fraction of networks with a nonzero FP")
    ax.legend(fontsize=6)
