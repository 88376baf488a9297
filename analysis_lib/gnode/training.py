"""Training of flip-flop models, following the paper's setup as released in its code.

MSE averaged over trials × bins × channels; `torch.optim.AdamW(lr, betas=(0.9, 0.999), eps=1e-8,
weight_decay=decay)` (= Flux ADAMW: θ ← θ − lr·(Adam step + decay·θ)); minibatches in fixed order
(no shuffling); validation loss after every iteration (`val_every='iter'`, released), once per
epoch (`'epoch'`, our QUICK deviation) or every k iterations (`val_every=k`, the C1 grid's
deviation: at batch 10 it saves about a third of the CPU time); the parameters with the lowest validation loss are
returned (deep copies). Runs are seeded and resumable from a checkpoint file.
"""
from __future__ import annotations

import copy
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .._cache import atomic_write
from .cells import FlipFlopModel, build_model

VAL_EVERY: tuple[str, ...] = ("iter", "epoch")


@dataclass(frozen=True)
class TrainConfig:
    """Optimiser and schedule. Released 2-bit: epochs 200, batch 100, lr 1e-3 (nODE/gnODE) or
    1e-2 (others), weight_decay 0.1, val_every 'iter'."""

    epochs: int = 60
    lr: float = 1e-3
    weight_decay: float = 0.1
    batch_size: int = 50
    val_every: str | int = "epoch"  # 'iter', 'epoch', or an integer k: every k iterations (and at each epoch end)
    grad_clip: float = 1e6
    checkpoint_every: int = 10  # epochs between checkpoint writes (when a path is given)

    def __post_init__(self):
        for name in ("epochs", "batch_size", "checkpoint_every"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be a positive integer; got {v!r}")
        for name in ("lr", "grad_clip"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not v > 0:
                raise ValueError(f"{name} must be a positive number; got {v!r}")
        if not isinstance(self.weight_decay, (int, float)) or self.weight_decay < 0:
            raise ValueError(f"weight_decay must be a number >= 0; got {self.weight_decay!r}")
        v = self.val_every
        is_int = isinstance(v, (int, np.integer)) and not isinstance(v, bool)
        if not ((is_int and v >= 1) or (isinstance(v, str) and v in VAL_EVERY)):
            raise ValueError(f"val_every must be one of {VAL_EVERY} or a positive integer (iterations); got {v!r}")


@dataclass
class TrainResult:
    """Best-validation parameters and the loss histories (train per iteration, val per evaluation)."""

    best_state: dict
    train_loss: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    val_iter: list = field(default_factory=list)  # iteration index of each validation loss
    best_val: float = float("inf")
    best_iter: int = -1
    epochs_done: int = 0
    wall_s: float = 0.0


def _as_tensor(a, device) -> torch.Tensor:
    return torch.as_tensor(np.asarray(a, np.float32), device=device)


@torch.no_grad()
def mse(model: FlipFlopModel, x, y, batch_size: int = 500) -> float:
    """MSE over trials × bins × channels of the model's outputs (no gradient)."""
    device = next(model.parameters()).device
    x, y = _as_tensor(x, device), _as_tensor(y, device)
    if x.shape[:2] != y.shape[:2] or y.shape[-1] != model.D:
        raise ValueError(f"x (B, T, d) and y (B, T, {model.D}) must match; got {tuple(x.shape)}, {tuple(y.shape)}")
    total = 0.0
    for i in range(0, x.shape[0], batch_size):
        yh, _ = model(x[i:i + batch_size])
        total += float(((yh - y[i:i + batch_size]) ** 2).sum())
    return total / y.numel()


def sequence_mse(model: FlipFlopModel, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The flip-flop loss: MSE over trials × bins × channels of y_t = C h_t + c (every bin)."""
    yh, _ = model(x)
    return torch.mean((yh - y) ** 2)


def _clone_state(model) -> dict:
    # state_dict() returns references: deep-copy so later steps do not overwrite the best checkpoint.
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def train(model: FlipFlopModel, train_data, val_data, config: TrainConfig = TrainConfig(), seed: int = 0,
          device: str = "cpu", checkpoint: str | Path | None = None, progress: bool = True,
          desc: str = "train", loss_fn=sequence_mse) -> TrainResult:
    """Train `model` on `train_data = (x, y)`; select on `val_data`. Returns a `TrainResult`; the
    model is left holding the best-validation parameters.

    `loss_fn(model, x, y) -> scalar tensor` is minimised and, for validation, averaged over the
    validation trials (default: `sequence_mse`). `val_data=None`: no selection, the model keeps
    its final parameters (used where the spec names no validation set, e.g. the synthetic proxy).

    `checkpoint`: a file written every `config.checkpoint_every` epochs and at the end (model,
    optimiser, histories, best state); if it exists, training resumes from it.
    """
    from ..progress import tqdm

    if not isinstance(config, TrainConfig):
        raise ValueError(f"config must be a TrainConfig; got {type(config).__name__}")
    if device not in ("cpu", "cuda") and not str(device).startswith("cuda:"):
        raise ValueError(f"device must be 'cpu' or 'cuda[:k]'; got {device!r}")
    torch.manual_seed(seed)
    model.to(device)
    xt, yt = (_as_tensor(a, device) for a in train_data)
    xv, yv = (_as_tensor(a, device) for a in val_data) if val_data is not None else (None, None)
    n_match = 2 if loss_fn is sequence_mse else 1  # other losses may take one label per trial
    if xt.ndim != 3 or xt.shape[:n_match] != yt.shape[:n_match] or (
            xv is not None and xv.shape[:n_match] != yv.shape[:n_match]):
        raise ValueError("train_data and val_data must be pairs (x, y) with x of shape (trials, T, d) and y of shape "
                         + ("(trials, T, D)" if n_match == 2 else "(trials, ...)"))
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, betas=(0.9, 0.999), eps=1e-8,
                            weight_decay=config.weight_decay)
    res = TrainResult(best_state=_clone_state(model))
    ckpt = Path(checkpoint) if checkpoint is not None else None
    if ckpt is not None and ckpt.exists():
        saved = torch.load(ckpt, map_location=device, weights_only=False)
        model.load_state_dict(saved["model"])
        opt.load_state_dict(saved["opt"])
        res = saved["result"]
    n_batches = int(np.ceil(xt.shape[0] / config.batch_size))
    it = res.epochs_done * n_batches
    t0 = time.perf_counter() - res.wall_s

    @torch.no_grad()
    def val_loss() -> float:
        if loss_fn is sequence_mse:
            return mse(model, xv, yv)
        return sum(float(loss_fn(model, xv[i:i + 500], yv[i:i + 500])) * len(xv[i:i + 500])
                   for i in range(0, len(xv), 500)) / len(xv)

    def validate():
        if xv is None:
            return
        v = val_loss()
        res.val_loss.append(v)
        res.val_iter.append(it)
        if v < res.best_val:
            res.best_val, res.best_iter, res.best_state = v, it, _clone_state(model)

    def save():
        if ckpt is not None:
            atomic_write(ckpt, lambda tmp: torch.save({"model": model.state_dict(), "opt": opt.state_dict(),
                                                       "result": res}, tmp))

    if res.epochs_done == 0 and not res.val_loss:
        validate()  # iteration 0: the initial parameters are a candidate too
    bar = tqdm(total=config.epochs, initial=res.epochs_done, desc=desc, disable=not progress, leave=False)
    for epoch in range(res.epochs_done, config.epochs):
        model.train()
        for b in range(n_batches):
            sl = slice(b * config.batch_size, (b + 1) * config.batch_size)
            loss = loss_fn(model, xt[sl], yt[sl])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            opt.step()
            it += 1
            res.train_loss.append(loss.item())
            if config.val_every == "iter" or (not isinstance(config.val_every, str) and it % config.val_every == 0):
                validate()
        if config.val_every == "epoch" or (not isinstance(config.val_every, str) and it % config.val_every != 0):
            validate()  # an integer interval also validates the last iteration of every epoch
        res.epochs_done = epoch + 1
        res.wall_s = time.perf_counter() - t0
        bar.update(1)
        bar.set_postfix(best_val=f"{res.best_val:.4g}")
        if (epoch + 1) % config.checkpoint_every == 0:
            save()
    bar.close()
    res.wall_s = time.perf_counter() - t0
    if xv is None:  # no selection: the final parameters are the result
        res.best_state, res.best_iter = _clone_state(model), it
    save()
    model.load_state_dict(res.best_state)
    return res


@dataclass(frozen=True)
class FlipFlopRun:
    """One flip-flop experiment: model spec + task + schedule (the unit of `al.sweep`)."""

    kind: str
    N: int
    n_bits: int = 2
    variant: str = "variable"
    hidden: tuple = (64, 64)
    h0_mode: str = "affine"
    alpha: float = 1.0
    init: str = "glorot"
    n_trials: int = 600
    n_train: int = 300
    n_val: int = 100
    n_test: int = 200
    data_seed: int = 0
    model_seed: int = 0
    config: TrainConfig = TrainConfig()


def default_lr(kind: str) -> float:
    """Released learning rates: 1e-3 for nODE/gnODE, 1e-2 for GRU/mGRU/RNN."""
    return 1e-3 if kind in ("gnode", "node") else 1e-2


def fit_flipflop(run: FlipFlopRun, device: str = "cpu", checkpoint=None, progress: bool = False) -> dict:
    """Build data and model, train, and return {'run', 'state', 'result', 'val_mse', 'test_mse'}.

    Data: `n_trials` trials (seed `data_seed`); the first `n_train` train, the last `n_val`
    validate (released split); `n_test` independent trials (seed `data_seed + 1_000_003`) test.
    `checkpoint`: a resume file (the same result either way).
    """
    from .flipflop import make_flipflop, splits

    x, y = make_flipflop(run.n_bits, run.n_trials, run.variant, seed=run.data_seed)
    tr, va = splits(x, y, run.n_train, run.n_val)
    xte, yte = make_flipflop(run.n_bits, run.n_test, run.variant, seed=run.data_seed + 1_000_003)
    model = build_model(run.kind, run.N, run.n_bits, hidden=run.hidden, alpha=run.alpha, h0_mode=run.h0_mode,
                        seed=run.model_seed, init=run.init)
    res = train(model, tr, va, run.config, seed=run.model_seed, device=device, checkpoint=checkpoint,
                progress=progress, desc=f"{run.kind} N={run.N}")
    model.cpu()
    return trained_record(run, res, device, val_mse=mse(model, *va), test_mse=mse(model, xte, yte))


def run_flipflop(run: FlipFlopRun, device: str = "cpu", cache_dir: str | Path | None = None,
                 progress: bool = False) -> dict:
    """`fit_flipflop(run)`, cached under `cache_dir` (None: not cached) by `cached_run`."""
    return cached_run(fit_flipflop, run, cache_dir, device=device, progress=progress)


def cached_run(fit, run, cache_dir: str | Path | None, **not_in_key) -> dict:
    """`fit(run, **not_in_key, checkpoint=...)` once per run (`_cache.cached_call`): the key is `fit`,
    every field of `run` and the code fingerprint, not the device or progress bar, so a run trained
    on another machine (`python -m analysis_lib.gnode.precompute`) is found; an interrupted run
    resumes from its keyed `.ckpt.pt` file."""
    from .._cache import cached_call

    return cached_call(fit, {"run": run}, cache_dir=cache_dir, not_in_key=not_in_key, checkpoint_suffix=".ckpt.pt")


def trained_record(run, res: TrainResult, device: str, **metrics) -> dict:
    """The cached record of a finished run: {'run', 'state' (CPU copies of the selected parameters),
    'result', **metrics, 'provenance' (device, torch version)}."""
    where = torch.cuda.get_device_name(0) if str(device).startswith("cuda") else f"cpu ({os.cpu_count()} cores seen)"
    state = {k: v.cpu() for k, v in res.best_state.items()}
    res.best_state = state
    return {"run": run, "state": state, "result": res, **metrics,
            "provenance": {"device": where, "torch": torch.__version__}}


def model_from_run(out: dict) -> FlipFlopModel:
    """Rebuild the trained model of a `run_flipflop` result (CPU, best-validation parameters)."""
    run: FlipFlopRun = out["run"]
    model = build_model(run.kind, run.N, run.n_bits, hidden=run.hidden, alpha=run.alpha, h0_mode=run.h0_mode,
                        seed=run.model_seed, init=run.init)
    model.load_state_dict(out["state"])
    model.eval()
    return model


def provenance_summary(outs: list[dict]) -> str:
    """Where the runs of `outs` were trained, e.g. "3 × cpu (16 cores seen), torch 2.11.0+cu130"
    (runs trained elsewhere and read from the cache keep their own record)."""
    counts: dict = {}
    for o in outs:
        p = o.get("provenance") or {"device": "unrecorded", "torch": "?"}
        key = f"{p['device']}, torch {p['torch']}"
        counts[key] = counts.get(key, 0) + 1
    return "; ".join(f"{n} × {k}" for k, n in counts.items())
