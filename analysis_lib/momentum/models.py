r"""Models for label-noise SGD with momentum. Parameters live in flat batched arrays `W` of shape
(B, D) (B independent chains/configurations); every model exposes

- `y` (n,), `n`, `dim` (D),
- `grad(W, Y)` → (B, D): gradient of $L = \frac{1}{2n}\sum_i (f(x_i; w) - \tilde y_i)^2$ for the
  noisy labels `Y` (B, n), one row per chain,
- `distance(W)` → (B,): the quantity whose threshold defines "converged" (model-specific),
- `diverged(W)` → (B,) bool: non-finite state, or beyond a model-specific blow-up bound,
- `torch_loss(Wt, Yt)` → scalar (sum over chains), for the torch cross-check.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._validate import positive, positive_int


class _Model:
    y: np.ndarray

    @property
    def n(self) -> int:
        return int(self.y.shape[0])

    def _check(self, W, Y=None):
        W = np.asarray(W, dtype=float)
        if W.ndim != 2 or W.shape[1] != self.dim:
            raise ValueError(f"W must have shape (B, {self.dim}); got {W.shape}")
        if Y is not None:
            Y = np.asarray(Y, dtype=float)
            if Y.shape != (W.shape[0], self.n):
                raise ValueError(f"Y must have shape ({W.shape[0]}, {self.n}); got {Y.shape}")
        return W, Y

    def loss(self, W, Y=None):
        """$L = \\frac{1}{2n}\\sum_i (f_i - y_i)^2$ per chain (clean labels when Y is None)."""
        W, _ = self._check(W)
        Y = np.broadcast_to(self.y, (W.shape[0], self.n)) if Y is None else Y
        return 0.5 * np.mean((self.outputs(W) - Y) ** 2, axis=1)


@dataclass(frozen=True)
class QuadraticMode(_Model):
    r"""One normal mode of curvature λ: $f(w) = \sqrt\lambda\,w$, clean label 0.

    With label noise ε the gradient is $\lambda w - \sqrt\lambda\,\varepsilon\xi$, so the
    simulation is the AR(2) process of M2 with $s^2 = \lambda\varepsilon^2$ (use
    ε = s/√λ for a given s)."""

    lam: float = 1.0
    dim: int = 1
    y: np.ndarray = field(default_factory=lambda: np.zeros(1))

    def __post_init__(self):
        positive("lam", self.lam)

    def outputs(self, W):
        return np.sqrt(self.lam) * W

    def grad(self, W, Y):
        return np.sqrt(self.lam) * (np.sqrt(self.lam) * W - Y)

    def distance(self, W):
        return np.abs(W[:, 0])

    def diverged(self, W):
        return ~np.isfinite(W[:, 0])

    def torch_loss(self, Wt, Yt):
        return 0.5 * ((self.lam ** 0.5 * Wt - Yt) ** 2).mean(dim=1).sum()


@dataclass(frozen=True)
class ToyUV(_Model):
    r"""Toy model $f = uv$, n = 1, $L = \frac12(uv - y)^2$, y = 1.

    Γ: uv = 1, parametrised by $s = \frac12\ln(u/v)$ ($u = e^s, v = e^{-s}$);
    $\mathrm{Tr}\nabla^2 L = u^2 + v^2$ ($= 2\cosh 2s$ on Γ), the normal curvature.
    A chain is diverged when non-finite, when u or v is not positive, or when |s| > `s_max`
    (3, our choice: ballistic excursions that far out break ηλ < 2(1+β))."""

    s_max: float = 3.0
    dim: int = 2
    y: np.ndarray = field(default_factory=lambda: np.ones(1))

    @staticmethod
    def on_manifold(s0: float) -> np.ndarray:
        """The point of Γ with coordinate s0: (e^{s0}, e^{-s0})."""
        return np.array([np.exp(s0), np.exp(-s0)])

    def outputs(self, W):
        return (W[:, 0] * W[:, 1])[:, None]

    def grad(self, W, Y):
        u, v = W[:, 0], W[:, 1]
        r = u * v - Y[:, 0]
        G = np.empty_like(W)
        np.multiply(r, v, out=G[:, 0])
        np.multiply(r, u, out=G[:, 1])
        return G

    def s(self, W):
        """Coordinate along Γ, $s = \\frac12\\ln(u/v)$ (NaN when u/v ≤ 0)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return 0.5 * np.log(W[:, 0] / W[:, 1])

    def distance(self, W):
        """|ln(u/v)| = 2|s|: distance to the flattest minimum u = v = 1."""
        return np.abs(2 * self.s(W))

    def trace_hessian(self, W):
        return W[:, 0] ** 2 + W[:, 1] ** 2

    def diverged(self, W):
        with np.errstate(invalid="ignore"):
            s = self.s(W)
            return ~np.isfinite(s) | (np.abs(s) > self.s_max)

    def torch_loss(self, Wt, Yt):
        return 0.5 * ((Wt[:, 0] * Wt[:, 1] - Yt[:, 0]) ** 2).sum()


@dataclass(frozen=True, eq=False)
class MatrixSensing(_Model):
    r"""Symmetric matrix sensing with a square factor: $X = UU^\top$, $U\in\mathbb R^{d\times d}$,
    $y_i = \langle A_i, X^*\rangle$, $L = \frac1{2n}\sum_i(\langle A_i, UU^\top\rangle - y_i)^2$.

    Residual gradient $\nabla_U r_i = 2A_iU$; at interpolation
    $\mathrm{Tr}\nabla^2L = \mathrm{Tr}\,GN = 4\,\mathrm{Tr}(U^\top M U)$ with $M = \frac1n\sum_i A_i^2$.
    `W` rows are U flattened row-major."""

    A: np.ndarray = field(repr=False)
    X_star: np.ndarray = field(repr=False)
    u_star: np.ndarray = field(repr=False)
    y: np.ndarray = field(repr=False)
    blowup: float = 1e3

    @classmethod
    def make(cls, d: int = 10, r: int = 1, n: int = 25, rng: np.random.Generator | int = 0) -> "MatrixSensing":
        """Random instance: $A_i = (G_i+G_i^\\top)/2$, G i.i.d. N(0,1); $X^* = u u^\\top$ (r = 1,
        ||u|| = 1) or $\\sum_{j\\le r} u_j u_j^\\top/r$ with orthonormal u_j."""
        positive_int("d", d, minimum=2)
        positive_int("r", r)
        positive_int("n", n)
        if r > d:
            raise ValueError(f"r must be <= d; got r={r}, d={d}")
        if n >= d * (d + 1) // 2:
            raise ValueError(f"n must be < d(d+1)/2 = {d * (d + 1) // 2} (otherwise X* is the only PSD solution); got {n}")
        rng = np.random.default_rng(rng)
        G = rng.standard_normal((n, d, d))
        A = (G + G.transpose(0, 2, 1)) / 2
        Q, _ = np.linalg.qr(rng.standard_normal((d, r)))
        X_star = Q @ Q.T / r
        y = np.einsum("ijk,jk->i", A, X_star)
        return cls(A=A, X_star=X_star, u_star=Q / np.sqrt(r), y=y)

    @property
    def d(self) -> int:
        return int(self.A.shape[1])

    @property
    def dim(self) -> int:
        return self.d * self.d

    @property
    def M(self) -> np.ndarray:
        """$M = \\frac1n\\sum_i A_i^2$."""
        return np.einsum("ijk,ikl->jl", self.A, self.A) / self.n

    def _U(self, W):
        return W.reshape(W.shape[0], self.d, self.d)

    def outputs(self, W):
        U = self._U(W)
        X = U @ U.transpose(0, 2, 1)
        return X.reshape(W.shape[0], -1) @ self.A.reshape(self.n, -1).T

    def grad(self, W, Y):
        # ∇_U L = (2/n) (Σ_i r_i A_i) U; the sums are two small matmuls over the flattened d² axis.
        B = W.shape[0]
        U = self._U(W)
        Af = self.A.reshape(self.n, -1)
        R = (U @ U.transpose(0, 2, 1)).reshape(B, -1) @ Af.T - Y
        S = (R @ Af).reshape(B, self.d, self.d)
        return (2.0 / self.n) * (S @ U).reshape(B, -1)

    def test_error(self, W):
        """$\\|UU^\\top - X^*\\|_F$ per chain."""
        U = self._U(W)
        return np.linalg.norm((U @ U.transpose(0, 2, 1) - self.X_star).reshape(W.shape[0], -1), axis=1)

    distance = test_error

    def trace_gn(self, W):
        """$\\mathrm{Tr}\\,GN = 4\\,\\mathrm{Tr}(U^\\top M U) = 4\\langle M, UU^\\top\\rangle$ (= Tr ∇²L on Γ)."""
        U = self._U(W)
        return 4 * np.einsum("jk,bjl,bkl->b", self.M, U, U)

    def trace_gn_jac(self, W):
        """$\\mathrm{Tr}(J^\\top J)/n$ from the explicit Jacobian rows $\\nabla_U r_i = 2A_iU$."""
        U = self._U(W)
        J = 2 * np.einsum("ijk,bkl->bijl", self.A, U)
        return np.sum(J ** 2, axis=(1, 2, 3)) / self.n

    def trace_hessian(self, W):
        """Exact $\\mathrm{Tr}\\nabla^2L = \\mathrm{Tr}\\,GN + \\frac{2d}{n}\\sum_i r_i\\,\\mathrm{Tr}A_i$
        (the residual term vanishes on Γ)."""
        R = self.outputs(W) - self.y
        return self.trace_gn(W) + 2 * self.d / self.n * R @ np.trace(self.A, axis1=1, axis2=2)

    def hvp(self, w, v):
        """Hessian-vector product of the clean loss at one point w (D,), for Hutchinson checks."""
        U = w.reshape(self.d, self.d)
        V = v.reshape(self.d, self.d)
        r = np.einsum("ijk,jk->i", self.A, U @ U.T) - self.y
        dr = np.einsum("ijk,jk->i", self.A, U @ V.T + V @ U.T)
        S = np.einsum("i,ijk->jk", r, self.A)
        dS = np.einsum("i,ijk->jk", dr, self.A)
        return ((2.0 / self.n) * (dS @ U + S @ V)).ravel()

    def reference_trace(self) -> float:
        """Tr ∇²L of any U with UUᵀ = X*: $4\\langle M, X^*\\rangle$ (= 4uᵀMu for X* = uuᵀ)."""
        return float(4 * np.sum(self.M * self.X_star))

    def lambda_max(self, W):
        """λ_max(∇²L) on Γ = λ_max of the n×n Gram $JJ^\\top/n$ (cheap)."""
        U = self._U(W)
        J = (2 * np.einsum("ijk,bkl->bijl", self.A, U)).reshape(W.shape[0], self.n, -1)
        gram = J @ J.transpose(0, 2, 1) / self.n
        return np.linalg.eigvalsh(gram)[:, -1]

    def diverged(self, W):
        return ~np.all(np.isfinite(W), axis=1) | (np.max(np.abs(W), axis=1) > self.blowup)

    def init(self, scale: float = 0.5, rng: np.random.Generator | int = 0) -> np.ndarray:
        """$U_0 = \\text{scale}\\cdot N(0,1)/\\sqrt d$, flattened (D,)."""
        rng = np.random.default_rng(rng)
        return scale * rng.standard_normal(self.dim) / np.sqrt(self.d)

    def torch_loss(self, Wt, Yt):
        import torch

        U = Wt.reshape(Wt.shape[0], self.d, self.d)
        X = U @ U.transpose(1, 2)
        A = torch.as_tensor(self.A, dtype=Wt.dtype).reshape(self.n, -1)
        R = X.reshape(Wt.shape[0], -1) @ A.T - Yt
        return 0.5 * (R ** 2).mean(dim=1).sum()


@dataclass(frozen=True, eq=False)
class TanhNet(_Model):
    r"""One-hidden-layer tanh network on given data, the realistic-network stand-in (F9):
    $f(x) = \sum_{j\le m} a_j\tanh(w_j\cdot x)$, parameters [a (m), W (m×d)] flattened,
    MSE $L = \frac1{2n}\sum_i (f(x_i) - y_i)^2$ on scalar targets (±1 for a binary split of
    digits: our operationalisation; `TeacherStudentTanh` is this network on teacher data), coded with
    batched matmuls (≈ 30 µs per chain-step at n = 256, D = 520 on one core) and with the exact
    $\mathrm{Tr}\,GN = \frac1n\sum_i\|\nabla_w f(x_i)\|^2
    = \frac1n\sum_i\big[\sum_j h_{ij}^2 + \|x_i\|^2\sum_j a_j^2(1-h_{ij}^2)^2\big]$."""

    X: np.ndarray = field(repr=False)
    y: np.ndarray = field(repr=False)
    X_test: np.ndarray = field(repr=False)
    y_test: np.ndarray = field(repr=False)
    width: int = 8
    blowup: float = 1e3

    def __post_init__(self):
        positive_int("width", self.width)
        if self.X.ndim != 2 or self.X.shape[0] != len(self.y):
            raise ValueError(f"X must be (n, d) with n = len(y) = {len(self.y)}; got {self.X.shape}")
        if self.X_test.ndim != 2 or self.X_test.shape[1] != self.X.shape[1] or len(self.X_test) != len(self.y_test):
            raise ValueError(f"X_test must be (n_test, {self.X.shape[1]}) with n_test = len(y_test); "
                             f"got {self.X_test.shape}")

    @property
    def d(self) -> int:
        return int(self.X.shape[1])

    @property
    def dim(self) -> int:
        return self.width * (1 + self.d)

    def _split(self, W):
        return W[:, : self.width], W[:, self.width:].reshape(W.shape[0], self.width, self.d)

    def _hidden(self, W, X):
        a, Wm = self._split(W)
        return a, np.tanh(np.matmul(X, Wm.transpose(0, 2, 1)))  # (B, n, m)

    def outputs(self, W, X=None):
        a, h = self._hidden(W, self.X if X is None else X)
        return np.matmul(h, a[:, :, None])[:, :, 0]

    def grad(self, W, Y):
        a, h = self._hidden(W, self.X)
        R = np.matmul(h, a[:, :, None])[:, :, 0] - Y  # residuals (B, n)
        ga = np.matmul(R[:, None, :], h)[:, 0, :] / self.n
        back = (R[:, :, None] * (1 - h * h)) * a[:, None, :]  # (B, n, m)
        gW = np.matmul(back.transpose(0, 2, 1), self.X) / self.n
        return np.concatenate([ga, gW.reshape(W.shape[0], -1)], axis=1)

    def per_sample_grads(self, W):
        """∇_w f(x_i) for every chain and sample: (B, n, D)."""
        a, h = self._hidden(W, self.X)
        dW = (a[:, None, :] * (1 - h ** 2))[..., None] * self.X[None, :, None, :]
        return np.concatenate([h, dW.reshape(W.shape[0], self.n, -1)], axis=2)

    def trace_gn(self, W):
        a, h = self._hidden(W, self.X)
        x2 = np.sum(self.X ** 2, axis=1)
        per = np.sum(h ** 2, axis=2) + np.sum((a[:, None, :] * (1 - h ** 2)) ** 2, axis=2) * x2[None, :]
        return per.mean(axis=1)

    def lambda_max(self, W):
        """Largest eigenvalue of ∇²L on Γ = of the n×n Gram J Jᵀ/n (Gauss–Newton), per chain."""
        J = self.per_sample_grads(np.asarray(W, float).reshape(-1, self.dim))
        return np.linalg.eigvalsh(J @ J.transpose(0, 2, 1) / self.n)[:, -1]

    def test_accuracy(self, W):
        """Fraction of test points with sign f(x) = y (±1 targets)."""
        return np.mean(np.sign(self.outputs(W, self.X_test)) == np.sign(self.y_test), axis=1)

    def test_mse(self, W):
        return np.mean((self.outputs(W, self.X_test) - self.y_test) ** 2, axis=1)

    def distance(self, W):
        return self.trace_gn(W)

    def diverged(self, W):
        return ~np.all(np.isfinite(W), axis=1) | (np.max(np.abs(W), axis=1) > self.blowup)

    def init(self, scale: float = 1.0, rng: np.random.Generator | int = 0) -> np.ndarray:
        """a ~ scale·N(0, 1/m), W ~ scale·N(0, 1/d) (LeCun-normal times `scale`)."""
        positive("scale", scale)
        rng = np.random.default_rng(rng)
        a = scale * rng.standard_normal(self.width) / np.sqrt(self.width)
        Wm = scale * rng.standard_normal((self.width, self.d)) / np.sqrt(self.d)
        return np.concatenate([a, Wm.ravel()])

    def torch_loss(self, Wt, Yt):
        import torch

        a = Wt[:, : self.width]
        Wm = Wt[:, self.width:].reshape(Wt.shape[0], self.width, self.d)
        h = torch.tanh(torch.einsum("bjd,id->bij", Wm, torch.as_tensor(self.X, dtype=Wt.dtype)))
        return 0.5 * ((torch.einsum("bij,bj->bi", h, a) - Yt) ** 2).mean(dim=1).sum()


@dataclass(frozen=True, eq=False)
class TeacherStudentTanh(TanhNet):
    r"""Teacher–student regression (F7): the `TanhNet` student $f(x) = \sum_{j\le m} a_j\tanh(w_j\cdot x)$
    on data from the teacher $\tanh(2x\cdot w^*)$, ||w*|| = 1, x ~ N(0, I) (our choice); `make` draws it."""

    width: int = 16

    @classmethod
    def make(cls, d: int = 4, n: int = 24, width: int = 16, n_test: int = 500,
             rng: np.random.Generator | int = 0) -> "TeacherStudentTanh":
        positive_int("d", d)
        positive_int("n", n)
        positive_int("width", width)
        rng = np.random.default_rng(rng)
        w_star = rng.standard_normal(d)
        w_star /= np.linalg.norm(w_star)
        X = rng.standard_normal((n, d))
        Xt = rng.standard_normal((n_test, d))
        return cls(X=X, y=np.tanh(2 * X @ w_star), X_test=Xt, y_test=np.tanh(2 * Xt @ w_star), width=width)


def gradient_descent(model: _Model, w0: np.ndarray, lr: float, tol: float, max_steps: int = 200_000,
                     check_every: int = 100) -> tuple[np.ndarray, int, float]:
    """Phase 1 (interpolation): full-batch GD on the clean labels until L < tol.

    Returns (w, steps, final loss); raises RuntimeError when max_steps is reached first."""
    positive("lr", lr)
    positive("tol", tol)
    positive_int("max_steps", max_steps)
    W = np.asarray(w0, float).reshape(1, -1).copy()
    Y = model.y[None, :]
    for k in range(max_steps):
        if k % check_every == 0:
            loss = float(model.loss(W)[0])
            if not np.isfinite(loss):
                raise RuntimeError(f"phase-1 GD diverged at step {k} (lr={lr} too large)")
            if loss < tol:
                return W[0], k, loss
        W -= lr * model.grad(W, Y)
    loss = float(model.loss(W)[0])
    if loss < tol:
        return W[0], max_steps, loss
    raise RuntimeError(f"phase-1 GD did not reach L < {tol} in {max_steps} steps (L = {loss:.3g})")


def hutchinson_trace(matvec, dim: int, n_probe: int = 64, rng: np.random.Generator | int = 0) -> tuple[float, float]:
    r"""Hutchinson estimator $\mathrm{Tr}\,H \approx \frac1K\sum_k v_k^\top H v_k$, v Rademacher.

    Returns (estimate, standard error)."""
    positive_int("dim", dim)
    positive_int("n_probe", n_probe, minimum=2)
    rng = np.random.default_rng(rng)
    vals = np.empty(n_probe)
    for k in range(n_probe):
        v = rng.choice([-1.0, 1.0], size=dim)
        vals[k] = v @ matvec(v)
    return float(vals.mean()), float(vals.std(ddof=1) / np.sqrt(n_probe))


def gauss_newton_polish(model, w, tol: float, max_iter: int = 50) -> tuple[np.ndarray, int, float]:
    """Finish phase 1 with minimum-norm Gauss–Newton steps $w \\leftarrow w - J^+ r$ (our
    operationalisation: plain GD converges very slowly along the small NTK eigen-directions;
    minimum-norm steps land on Γ next to where GD was heading). Needs `model.per_sample_grads`.

    Returns (w, iterations, final loss); raises RuntimeError if L < tol is not reached."""
    positive("tol", tol)
    positive_int("max_iter", max_iter)
    w = np.asarray(w, float).copy()
    for it in range(max_iter + 1):
        loss = float(model.loss(w[None])[0])
        if loss < tol:
            return w, it, loss
        if it == max_iter:
            break
        J = model.per_sample_grads(w[None])[0]  # (n, D)
        r = model.outputs(w[None])[0] - model.y
        w = w - np.linalg.lstsq(J, r, rcond=None)[0]
    raise RuntimeError(f"Gauss-Newton did not reach L < {tol} in {max_iter} iterations (L = {loss:.3g})")
