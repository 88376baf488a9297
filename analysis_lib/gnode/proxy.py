"""SYNTHETIC PROXY for the paper's real-world tasks (spec §4.8, C7) — not the paper's datasets and
not comparable with its numbers. The character-trajectory, kinematic and speech tasks cannot be
obtained offline; this proxy only asks whether gating helps an nODE classify irregularly sampled
2-D "pen strokes".

Data: 10 classes; the prototype of class c is the expressivity target of complexity K = 3 with
seed c (`fourier_curve`, standardised as in `fourier_target`), sampled at t_j = jΔ, j = 0..M.
Each sample is drawn from its prototype with
    a monotone time warp  t' = t + (aP/2π) sin(2πt/P + φ),  a ~ U[−0.5, 0.5], φ ~ U[0, 2π)
        (dt'/dt = 1 + a cos(·) ≥ 1 − |a| > 0, so the warp never reverses time [derived]),
    a scale U[0.8, 1.2] and a rotation U[−15°, 15°], additive noise σ = 0.1,
    and half of the time points dropped at random: inputs [y1, y2, observed], zeros where dropped.
100 training and 50 test samples per class. Models: gnODE and nODE with N = 16, F = [64, 64],
α = 1, trained with cross-entropy on a linear readout of the final state (AdamW lr 1e-3,
decay 1e-2, batch 50, 100 epochs, no validation selection); test accuracy.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .cells import FlipFlopModel, build_model
from .expressivity import DELTA, M_DEFAULT, fourier_curve, fourier_target, sample_times
from .training import TrainConfig, cached_run, train, trained_record

PROXY_KINDS: tuple[str, ...] = ("gnode", "node")
PROXY_LABEL = "synthetic proxy — not the paper's datasets, not comparable with the paper"


@dataclass(frozen=True)
class PenStrokeConfig:
    """Per-sample distortions of the class prototypes (spec §4.8). All zero/one: the prototype itself."""

    n_classes: int = 10
    K: int = 3
    M: int = M_DEFAULT
    warp: float = 0.5            # a ~ U[−warp, warp]
    scale: tuple = (0.8, 1.2)    # U[lo, hi]
    rotation_deg: float = 15.0   # θ ~ U[−rotation_deg, rotation_deg]
    noise: float = 0.1
    drop_frac: float = 0.5       # share of the M+1 time points dropped (exactly round(drop_frac·(M+1)))

    def __post_init__(self):
        for name in ("n_classes", "K", "M"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < (4 if name == "M" else 1):
                raise ValueError(f"{name} must be a positive integer{' >= 4' if name == 'M' else ''}; got {v!r}")
        if not 0 <= self.warp < 1:
            raise ValueError(f"warp must be in [0, 1) so the time warp stays monotone; got {self.warp!r}")
        if len(self.scale) != 2 or not 0 < self.scale[0] <= self.scale[1]:
            raise ValueError(f"scale must be a pair 0 < lo <= hi; got {self.scale!r}")
        if self.rotation_deg < 0 or self.noise < 0:
            raise ValueError(f"rotation_deg and noise must be >= 0; got {self.rotation_deg!r}, {self.noise!r}")
        if not 0 <= self.drop_frac < 1:
            raise ValueError(f"drop_frac must be in [0, 1); got {self.drop_frac!r}")


def class_prototype(c: int, cfg: PenStrokeConfig = PenStrokeConfig()) -> np.ndarray:
    """Class c's prototype: the expressivity target of complexity K with seed c, shape (M+1, 2)."""
    return fourier_target(cfg.K, c, cfg.M)


def warp_times(t: np.ndarray, a: np.ndarray, phi: np.ndarray, P: float) -> np.ndarray:
    """t' = t + (aP/2π) sin(2πt/P + φ), one row per (a, φ): shape (len(a), len(t))."""
    a, phi = np.asarray(a, float)[:, None], np.asarray(phi, float)[:, None]
    return t[None, :] + a * P / (2 * np.pi) * np.sin(2 * np.pi * t[None, :] / P + phi)


def make_pen_strokes(n_per_class: int, seed: int = 0, cfg: PenStrokeConfig = PenStrokeConfig()):
    """`n_per_class` distorted copies of each class prototype, classes in blocks.

    Returns x (n_classes·n_per_class, M+1, 3) float32 with channels [y1, y2, observed] (zeros where
    a point is dropped) and labels (n_classes·n_per_class,) int64.
    """
    if isinstance(n_per_class, bool) or not isinstance(n_per_class, (int, np.integer)) or n_per_class < 1:
        raise ValueError(f"n_per_class must be a positive integer; got {n_per_class!r}")
    if not isinstance(cfg, PenStrokeConfig):
        raise ValueError(f"cfg must be a PenStrokeConfig; got {type(cfg).__name__}")
    rng = np.random.default_rng(seed)
    t = sample_times(cfg.M)
    P = cfg.M * DELTA
    n_drop = int(round(cfg.drop_frac * (cfg.M + 1)))
    xs, labels = [], []
    for c in range(cfg.n_classes):
        raw = fourier_curve(cfg.K, c, t, P)  # standardise with the prototype's own moments
        mu, sd = raw.mean(0), raw.std(0)
        n = n_per_class
        tw = warp_times(t, rng.uniform(-cfg.warp, cfg.warp, n), rng.uniform(0, 2 * np.pi, n), P)
        y = (fourier_curve(cfg.K, c, tw, P) - mu) / sd  # (n, M+1, 2)
        th = np.deg2rad(rng.uniform(-cfg.rotation_deg, cfg.rotation_deg, n))
        rot = np.stack([np.stack([np.cos(th), -np.sin(th)], -1), np.stack([np.sin(th), np.cos(th)], -1)], -2)
        y = rng.uniform(*cfg.scale, n)[:, None, None] * np.einsum("nij,ntj->nti", rot, y)
        y = y + cfg.noise * rng.standard_normal(y.shape)
        observed = np.ones((n, cfg.M + 1))
        for i in range(n):
            observed[i, rng.permutation(cfg.M + 1)[:n_drop]] = 0.0
        xs.append(np.concatenate([y * observed[..., None], observed[..., None]], -1))
        labels.append(np.full(n, c))
    return np.concatenate(xs).astype(np.float32), np.concatenate(labels).astype(np.int64)


def last_state_cross_entropy(model: FlipFlopModel, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of the logits C h_T + c read out from the final state only."""
    logits, _ = model(x)
    return F.cross_entropy(logits[:, -1], labels.long())


@torch.no_grad()
def accuracy(model: FlipFlopModel, x, labels, batch_size: int = 500) -> float:
    """Share of samples whose final-state logit argmax is the label."""
    device = next(model.parameters()).device
    x = torch.as_tensor(np.asarray(x, np.float32), device=device)
    labels = torch.as_tensor(np.asarray(labels), device=device)
    hits = 0
    for i in range(0, len(x), batch_size):
        logits, _ = model(x[i:i + batch_size])
        hits += int((logits[:, -1].argmax(-1) == labels[i:i + batch_size]).sum())
    return hits / len(x)


def nearest_prototype_accuracy(x, labels, cfg: PenStrokeConfig = PenStrokeConfig()) -> float:
    """A model-free baseline: assign each sample to the prototype with the smallest mean squared
    distance over its observed points (no warp, scale or rotation correction)."""
    x, labels = np.asarray(x), np.asarray(labels)
    protos = np.stack([class_prototype(c, cfg) for c in range(cfg.n_classes)])  # (C, M+1, 2)
    obs = x[..., 2:3]
    d = (((x[:, None, :, :2] - protos[None] * obs[:, None]) ** 2).sum((-1, -2))) / obs.sum((1, 2))[:, None]
    return float((d.argmin(1) == labels).mean())


@dataclass(frozen=True)
class ProxyRun:
    """One proxy training run (the unit of `al.sweep`) and its data."""

    kind: str
    N: int = 16
    hidden: tuple = (64, 64)
    n_train_per_class: int = 100
    n_test_per_class: int = 50
    data_seed: int = 0
    model_seed: int = 0
    data: PenStrokeConfig = PenStrokeConfig()
    config: TrainConfig = TrainConfig(epochs=100, lr=1e-3, weight_decay=1e-2, batch_size=50)

    def __post_init__(self):
        if self.kind not in PROXY_KINDS:
            raise ValueError(f"kind must be one of {PROXY_KINDS}; got {self.kind!r}")

    def train_data(self):
        """(x, labels), shuffled once with `data_seed`: the generator returns classes in blocks and
        minibatches are taken in a fixed order."""
        x, lab = make_pen_strokes(self.n_train_per_class, self.data_seed, self.data)
        order = np.random.default_rng(self.data_seed).permutation(len(x))
        return x[order], lab[order]

    def test_data(self):
        """(x, labels) of the independent test set (seed `data_seed + 1_000_003`)."""
        return make_pen_strokes(self.n_test_per_class, self.data_seed + 1_000_003, self.data)


def proxy_runs(seed: int = 0, n_seeds: int = 3) -> list[ProxyRun]:
    """gnODE and nODE at the spec's proxy configuration, `n_seeds` seeds (data and model)."""
    return [ProxyRun(k, data_seed=s, model_seed=s) for s in range(seed, seed + n_seeds) for k in PROXY_KINDS]


def fit_proxy(run: ProxyRun, device: str = "cpu", checkpoint=None, progress: bool = False) -> dict:
    """Build the proxy data and model, train, return {'run', 'state', 'result', 'train_acc',
    'test_acc', 'provenance'}. `checkpoint`: a resume file (the same result either way)."""
    (x, lab), (xte, lte) = run.train_data(), run.test_data()
    model = build_model(run.kind, run.N, 3, D=run.data.n_classes, hidden=run.hidden, h0_mode="affine",
                        seed=run.model_seed)
    res = train(model, (x, lab), None, run.config, seed=run.model_seed, device=device, checkpoint=checkpoint,
                progress=progress, desc=f"proxy {run.kind}", loss_fn=last_state_cross_entropy)
    model.cpu()
    return trained_record(run, res, device, train_acc=accuracy(model, x, lab), test_acc=accuracy(model, xte, lte))


def run_proxy(run: ProxyRun, device: str = "cpu", cache_dir: str | Path | None = None,
              progress: bool = False) -> dict:
    """`fit_proxy(run)`, cached under `cache_dir` (None: not cached) and resumable (`training.cached_run`)."""
    return cached_run(fit_proxy, run, cache_dir, device=device, progress=progress)
