r"""Classification stand-in (F9, FULL only): MLP on scikit-learn digits with MSE on one-hot targets.

Phase 1: full-batch GD to interpolation (train MSE below `tol`, our choice). Phase 2: Gaussian label
noise on the one-hot targets (theory-consistent: Tr H = Tr GN at interpolation) with heavy-ball
momentum, all (η, 1−β, seed) configurations as ONE batched torch computation (weights carry a
leading config axis). Also an opt-in CIFAR10/ResNet-18 path (per-configuration loop, GPU advised).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import metrics
from ._validate import in_range, positive, positive_int


def _torch():
    import torch

    return torch


def init_mlp_params(widths, seed: int = 0, dtype=None, device="cpu"):
    """Weights/biases of a tanh MLP (LeCun-normal init) with a leading config axis of size 1."""
    torch = _torch()
    dtype = dtype or torch.float64
    g = torch.Generator().manual_seed(seed)
    params = []
    for a, b in zip(widths[:-1], widths[1:]):
        params.append((torch.randn(1, a, b, generator=g, dtype=dtype) / a ** 0.5).to(device))
        params.append(torch.zeros(1, b, dtype=dtype, device=device))
    return params


def batched_mlp_forward(params, X):
    """f(X) for every config: params [W (B, a, b), bias (B, b), …], X (N, d) → (B, N, k); tanh hidden."""
    torch = _torch()
    h = X.unsqueeze(0).expand(params[0].shape[0], -1, -1)
    n_layers = len(params) // 2
    for i in range(n_layers):
        h = torch.baddbmm(params[2 * i + 1].unsqueeze(1), h, params[2 * i])
        if i < n_layers - 1:
            h = torch.tanh(h)
    return h


def phase1_interpolate(widths, X, Y, lr: float = 0.1, tol: float = 1e-5, max_steps: int = 200_000, seed: int = 0,
                       device="cpu", method: str = "lbfgs", progress: bool = False):
    """Phase 1: minimise $\\frac1{2N}\\sum_i\\|f(x_i)-y_i\\|^2$ on the clean one-hot targets until the
    train MSE ($\\frac1N\\sum_i\\|f(x_i)-y_i\\|^2$) is below `tol`.

    method "lbfgs" (default; our operationalisation: full-batch GD needs millions of steps to reach
    1e-5 on digits, L-BFGS ≈ 3000 iterations) or "gd" (lr, max_steps). Returns (params, steps, MSE)."""
    torch = _torch()
    positive("lr", lr)
    positive("tol", tol)
    if method not in ("lbfgs", "gd"):
        raise ValueError(f"method must be 'lbfgs' or 'gd'; got {method!r}")
    X = torch.as_tensor(X, dtype=torch.float64, device=device)
    Y = torch.as_tensor(Y, dtype=torch.float64, device=device)
    params = [p.requires_grad_() for p in init_mlp_params(widths, seed, device=device)]

    def mse_now():
        return ((batched_mlp_forward(params, X)[0] - Y) ** 2).sum(1).mean()

    from ..progress import tqdm

    bar = tqdm(total=max_steps, disable=not progress, leave=False, desc="phase 1")
    steps = 0
    if method == "lbfgs":
        opt = torch.optim.LBFGS(params, lr=1, max_iter=500, history_size=50, line_search_fn="strong_wolfe",
                                tolerance_grad=1e-14, tolerance_change=1e-16)

        def closure():
            opt.zero_grad()
            loss = 0.5 * mse_now()
            loss.backward()
            return loss

        while steps < max_steps:
            opt.step(closure)
            steps += 500
            bar.update(500)
            if float(mse_now().detach()) < tol:
                break
    else:
        for steps in range(max_steps):
            mse = mse_now()
            if float(mse.detach()) < tol:
                break
            grads = torch.autograd.grad(0.5 * mse, params)
            with torch.no_grad():
                for p, g in zip(params, grads):
                    p -= lr * g
            bar.update(1)
    bar.close()
    final = float(mse_now().detach())
    if not final < tol:
        raise RuntimeError(f"phase 1 did not reach train MSE < {tol} in {max_steps} steps ({final:.3g})")
    return [p.detach() for p in params], steps, final


@dataclass
class ClassifierGrid:
    etas: np.ndarray
    one_minus_betas: np.ndarray
    steps: np.ndarray
    trace_gn: np.ndarray  # (n_obs, n_eta, n_beta) mean over seeds
    test_acc: np.ndarray  # (n_obs, n_eta, n_beta)
    T_seed: np.ndarray  # (n_eta, n_beta, n_seed) occupation time of Tr GN above thr
    knee_omb: np.ndarray  # per η: knee (or argmin when the knee is undefined) of T_occ
    best_acc_omb: np.ndarray  # per η: 1−β maximising the final test accuracy
    final_acc_seed: np.ndarray | None = None  # (n_eta, n_beta, n_seed) final test accuracy per seed


def knee_per_eta(one_minus_betas, T_occ, every: int, n_steps: int) -> np.ndarray:
    """Per η row of the seed-mean occupation table T_occ (n_eta, n_beta): the knee of T_occ vs 1−β
    (`metrics.knee`, horizon n_steps), or its parabolic log-log argmin where the knee is undefined.
    `every` is added to T_occ: a run never above the threshold still took one observation."""
    omb = np.asarray(one_minus_betas, float)
    o = np.argsort(omb)
    knees = np.full(len(T_occ), np.nan)
    for i, row in enumerate(np.asarray(T_occ, float)):
        T_row = row[o] + every
        xk, _, _ = metrics.knee(omb[o], T_row, horizon=n_steps)
        if not np.isfinite(xk):
            xk, _, _ = metrics.parabolic_argmin_loglog(omb[o], T_row)
        knees[i] = xk
    return knees


def label_noise_runs(params1, X, Y, X_test, y_test, etas, one_minus_betas, eps: float, n_steps: int,
                     seeds=(0,), every: int = 100, n_probe: int = 4, seed: int = 0, device="cpu",
                     progress: bool = False, checkpoint=None, checkpoint_every: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """Phase 2 for all (η, 1−β, s) with s in `seeds`, as one batched torch computation from the
    phase-1 params: heavy-ball steps (M1: π ← βπ − ∇L, w ← w + ηπ) on targets Y + ε·noise, and
    every `every` steps the Hutchinson Tr GN (Rademacher probes) and the test accuracy.

    Seed s owns its random streams (label noise and probes), so its runs are the same whichever
    other seeds share the batch: seeds can run in separate processes and be cached one by one.
    `checkpoint` (a file path; `experiments` names it with `_cache.cache_file`): the state (weights,
    momenta, random-generator states, observations) is saved there every `checkpoint_every` steps and
    a rerun with the same arguments and code resumes from it with the same result as an
    uninterrupted run (the file stores the cache key of both and is ignored on a mismatch); the file
    is removed when the run finishes.
    Returns (trace_gn, test_acc), each (n_steps // every + 1, n_eta, n_beta, len(seeds)).
    """
    from .._cache import dump_pickle

    torch = _torch()
    etas, omb = np.asarray(etas, float), np.asarray(one_minus_betas, float)
    positive("etas", etas)
    in_range("one_minus_betas", omb, 0.0, 1.0, lo_open=True)
    positive_int("n_steps", n_steps)
    seeds = [int(s) for s in seeds]
    if not seeds or min(seeds) < 0:
        raise ValueError(f"seeds must be a non-empty list of non-negative integers; got {seeds!r}")
    grid = np.stack(np.meshgrid(np.arange(len(etas)), np.arange(len(omb)), np.arange(len(seeds)), indexing="ij"),
                    -1).reshape(-1, 3)
    B = len(grid)
    X = torch.as_tensor(X, dtype=torch.float64, device=device)
    Y = torch.as_tensor(Y, dtype=torch.float64, device=device)
    Xte = torch.as_tensor(X_test, dtype=torch.float64, device=device)
    yte = torch.as_tensor(np.asarray(y_test), device=device)
    params = [p.repeat(B, *([1] * (p.dim() - 1))).clone().requires_grad_() for p in params1]
    bufs = [torch.zeros_like(p) for p in params]
    eta_t = torch.as_tensor(etas[grid[:, 0]], dtype=torch.float64, device=device)
    beta_t = torch.as_tensor(1 - omb[grid[:, 1]], dtype=torch.float64, device=device)
    noise_gens = [torch.Generator(device="cpu").manual_seed(int(seed) * 1_000_003 + s) for s in seeds]
    probe_gens = [torch.Generator(device="cpu").manual_seed(int(seed) * 1_000_003 + 500_009 + s) for s in seeds]
    rows = [torch.as_tensor(np.nonzero(grid[:, 2] == j)[0]) for j in range(len(seeds))]  # configs of each seed
    seed_of_config = torch.as_tensor(grid[:, 2])
    N = X.shape[0]

    def shaped(v, p):
        return v.view(-1, *([1] * (p.dim() - 1)))

    def trace_gn():
        out = batched_mlp_forward(params, X)
        tot = torch.zeros(B, dtype=torch.float64, device=device)
        for _ in range(n_probe):
            v = torch.empty(out.shape, dtype=torch.float64)
            for idx, g in zip(rows, probe_gens):
                v[idx] = (torch.randint(0, 2, (len(idx), *out.shape[1:]), generator=g) * 2 - 1).double()
            gs = torch.autograd.grad((v.to(out) * out).sum(), params, retain_graph=True)
            tot += sum((g ** 2).flatten(1).sum(1) for g in gs)
        return (tot / n_probe / N).detach().cpu().numpy()

    def accuracy():
        with torch.no_grad():
            return (batched_mlp_forward(params, Xte).argmax(-1) == yte).double().mean(1).cpu().numpy()

    n_obs = n_steps // every
    tr, acc = np.zeros((n_obs + 1, B)), np.zeros((n_obs + 1, B))
    positive_int("checkpoint_every", checkpoint_every)
    # A checkpoint belongs to this very run: it stores the cache key of these arguments (phase-1 state,
    # data, grid, seeds) and of the code, and one written by other arguments or other code is ignored.
    from .._cache import cache_key

    run_key = cache_key(label_noise_runs, dict(
        params1=[p.detach().cpu().numpy() for p in params1], X=X.cpu().numpy(), Y=Y.cpu().numpy(),
        X_test=Xte.cpu().numpy(), y_test=yte.cpu().numpy(), etas=etas, one_minus_betas=omb, eps=float(eps),
        n_steps=int(n_steps), seeds=seeds, every=int(every), n_probe=int(n_probe), seed=int(seed), device=str(device)))
    start = 1
    state = _load_checkpoint(checkpoint, run_key)
    if state is not None:
        with torch.no_grad():
            for p, v in zip(params, state["params"]):
                p.copy_(v)
            for b, v in zip(bufs, state["bufs"]):
                b.copy_(v)
        for g, st in zip(noise_gens + probe_gens, state["gens"]):
            g.set_state(st)
        tr, acc, start = state["tr"], state["acc"], state["k"] + 1
    else:
        tr[0], acc[0] = trace_gn(), accuracy()
    from ..progress import tqdm

    for k in tqdm(range(start, n_steps + 1), initial=start - 1, total=n_steps, disable=not progress, leave=False,
                  desc="phase 2"):
        noise = torch.stack([torch.randn(Y.shape, generator=g, dtype=torch.float64) for g in noise_gens]).to(device)
        Yn = Y.unsqueeze(0) + eps * noise[seed_of_config]
        out = batched_mlp_forward(params, X)
        loss = 0.5 * ((out - Yn) ** 2).sum(-1).mean(-1).sum()  # configs are independent: Σ_b L_b
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, b, g in zip(params, bufs, grads):  # M1: π ← βπ − g, w ← w + ηπ
                b.mul_(shaped(beta_t, b)).sub_(g)
                p.add_(shaped(eta_t, p) * b)
        if k % every == 0:
            tr[k // every], acc[k // every] = trace_gn(), accuracy()
        if checkpoint is not None and k % checkpoint_every == 0 and k < n_steps:
            dump_pickle(checkpoint, dict(key=run_key, k=k, tr=tr, acc=acc, gens=[g.get_state() for g in noise_gens + probe_gens],
                                              params=[p.detach().cpu() for p in params], bufs=[b.cpu() for b in bufs]))
    if checkpoint is not None:
        from pathlib import Path

        Path(checkpoint).unlink(missing_ok=True)
    shape = (n_obs + 1, len(etas), len(omb), len(seeds))
    return tr.reshape(shape), acc.reshape(shape)


def _load_checkpoint(path, run_key: dict):
    """The saved state if `path` holds a checkpoint of this very run, else None."""
    from pathlib import Path

    from .._cache import load_pickle

    if path is None or not Path(path).exists():
        return None
    state = load_pickle(path)
    return state if state.get("key") == run_key else None


def summarize_label_noise(etas, one_minus_betas, trace_gn, test_acc, every: int, n_steps: int,
                          thr_frac: float = 0.5) -> ClassifierGrid:
    """ClassifierGrid from per-seed phase-2 observations (n_obs + 1, n_eta, n_beta, n_seed):
    T_occ = every × (observations with Tr GN ≥ thr_frac × its phase-1 value), its knee per η
    (`knee_per_eta`, on the seed mean) and the 1−β of the best seed-mean final test accuracy."""
    etas, omb = np.asarray(etas, float), np.asarray(one_minus_betas, float)
    # A diverged run (non-finite Tr GN) never converged: count it as above the threshold.
    above = ~(trace_gn[1:] < thr_frac * trace_gn[0])
    T_seed = every * above.sum(0)
    knees = knee_per_eta(omb, T_seed.mean(-1), every, n_steps)
    best = omb[np.argmax(test_acc[-1].mean(-1), axis=1)]
    steps = np.arange(trace_gn.shape[0]) * every
    return ClassifierGrid(etas, omb, steps, trace_gn.mean(-1), test_acc.mean(-1), T_seed, knees, best, test_acc[-1])


def run_label_noise_grid(params1, X, Y, X_test, y_test, etas, one_minus_betas, eps: float, n_steps: int,
                         n_seeds: int = 4, every: int = 100, n_probe: int = 4, thr_frac: float = 0.5,
                         seed: int = 0, device="cpu", progress: bool = False) -> ClassifierGrid:
    """Phase 2 for all (η, 1−β, seed) at once (`label_noise_runs` with seeds 0..n_seeds−1), summarised
    by `summarize_label_noise`."""
    positive_int("n_seeds", n_seeds)
    tr, acc = label_noise_runs(params1, X, Y, X_test, y_test, etas, one_minus_betas, eps, n_steps,
                               seeds=range(n_seeds), every=every, n_probe=n_probe, seed=seed, device=device,
                               progress=progress)
    return summarize_label_noise(etas, one_minus_betas, tr, acc, every, n_steps, thr_frac)


def run_cifar_config(model, X, y, X_test, y_test, eta: float, beta: float, eps: float, n_steps: int,
                     batch_size: int = 128, every: int = 500, seed: int = 0, device="cuda"):
    """Opt-in CIFAR10 path: one (η, β) config, mini-batch SGD with momentum (torch.optim.SGD, buffer = −π)
    on MSE to one-hot targets + Gaussian label noise ε. Returns (steps, test accuracy) lists.
    Per-configuration loop (a ResNet is too large to batch over configs on one GPU)."""
    torch = _torch()
    positive("eta", eta)
    in_range("beta", beta, 0.0, 1.0, hi_open=True)
    g = torch.Generator().manual_seed(seed)
    model = model.to(device)
    opt = torch.optim.SGD(model.parameters(), lr=eta, momentum=beta, dampening=0, nesterov=False)
    X, Xte = torch.as_tensor(X), torch.as_tensor(X_test)
    Y = torch.nn.functional.one_hot(torch.as_tensor(y), 10).float()
    steps, accs = [], []
    for k in range(1, n_steps + 1):
        idx = torch.randint(0, len(X), (batch_size,), generator=g)
        xb, yb = X[idx].to(device), Y[idx].to(device)
        yb = yb + eps * torch.randn(yb.shape, generator=g).to(device)
        opt.zero_grad()
        (0.5 * ((model(xb) - yb) ** 2).sum(1).mean()).backward()
        opt.step()
        if k % every == 0:
            model.eval()
            with torch.no_grad():
                pred = torch.cat([model(Xte[i:i + 1000].to(device)).argmax(1).cpu() for i in range(0, len(Xte), 1000)])
            model.train()
            steps.append(k)
            accs.append(float((pred == torch.as_tensor(y_test)).float().mean()))
    return steps, accs
