"""Figure-level experiments of notebook 03: run lists (QUICK and FULL / released configurations),
parallel training through `al.sweep`, and the analyses of trained models.

FULL configurations follow the paper's setup as released in its code (spec §5): 2-bit runs at
N = 2 with F = [316, 316]; 3-bit variable amplitude gnODE N = 6 [100, 100, 100] vs
GRU/mGRU/RNN/nODE at N = 100 and N = 6; 3-bit ±1 at N ∈ {6, 12, 18}.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from .cells import MODEL_KINDS
from .flipflop import make_flipflop, splits, zero_mse_theory
from .slow_points import (coverage, corners_found, find_slow_points, model_field, pca_spectrum, readout_preimage,
                          reintegrate, retention_curve, ring_stats, slow_fraction, slow_point_readouts,
                          slow_point_starts, speed_gate_grid)
from .proxy import ProxyRun, run_proxy
from .training import FlipFlopRun, TrainConfig, default_lr, model_from_run, mse, run_flipflop

QUICK_FF2_EPOCHS = 60
_SMOKE = False


def set_smoke(on: bool = True) -> None:
    """Smoke mode: every run, analysis and expressivity grid of this module shrinks to toy sizes
    (60 trials, 1 epoch, 20 slow-point steps, 2 Adam steps, K ∈ {1, 2}, one seed). It exists to check
    that the FULL code paths run end to end on a CPU in a minute or two; its numbers mean nothing."""
    global _SMOKE
    _SMOKE = bool(on)


def _shrink(run):
    if not _SMOKE or not isinstance(run, (FlipFlopRun, ProxyRun)):
        return run
    if isinstance(run, ProxyRun):
        return replace(run, n_train_per_class=4, n_test_per_class=2, config=replace(run.config, epochs=1))
    return replace(run, n_trials=60, n_train=40, n_val=20, n_test=10, config=replace(run.config, epochs=1))


def _check_mode(mode: str) -> str:
    if mode not in ("quick", "full"):
        raise ValueError(f"mode must be 'quick' or 'full'; got {mode!r}")
    return mode


def ff2_runs(mode: str = "quick", seed: int = 0, epochs: int | None = None, kinds=MODEL_KINDS,
             n_seeds: int | None = None) -> list[FlipFlopRun]:
    """2-bit square (variable amplitude), N = 2, five models (F2).

    QUICK (spec §5, deviations stated in the notebook): 300 train / 100 val (last of 600) / 200
    test trials, F = [64, 64], batch 50, 60 epochs, validation once per epoch.
    FULL (released): 500/100, F = [316, 316], 200 epochs, batch 100, validation every
    iteration, `n_seeds` = 3 seeds.
    """
    _check_mode(mode)
    quick = mode == "quick"
    n_seeds = n_seeds or (1 if quick else 3)
    runs = []
    for s in range(seed, seed + n_seeds):
        for kind in kinds:
            cfg = TrainConfig(epochs=epochs or (QUICK_FF2_EPOCHS if quick else 200), lr=default_lr(kind),
                              weight_decay=0.1, batch_size=50 if quick else 100,
                              val_every="epoch" if quick else "iter")
            runs.append(FlipFlopRun(kind, 2, 2, "variable", (64, 64) if quick else (316, 316), "affine",
                                    n_train=300 if quick else 500, data_seed=s, model_seed=s, config=cfg))
    return runs


def ff3v_runs(seed: int = 0, n_seeds: int = 2, epochs: int = 600) -> list[FlipFlopRun]:
    """3-bit variable amplitude (F6, FULL): gnODE N = 6 [100, 100, 100] vs GRU/mGRU/RNN/nODE at
    N = 100 and N = 6; fixed untrained h_0; 600 epochs, batch 100, decay 0.1, lr 1e-3 (gnODE/nODE)
    / 1e-2 (others); 500/100 split, validation every iteration."""
    runs = []
    for s in range(seed, seed + n_seeds):
        for kind, N in [("gnode", 6)] + [(k, n) for n in (100, 6) for k in ("gru", "mgru", "rnn", "node")]:
            cfg = TrainConfig(epochs=epochs, lr=default_lr(kind), weight_decay=0.1, batch_size=100, val_every="iter")
            runs.append(FlipFlopRun(kind, N, 3, "variable", (100, 100, 100), "fixed", n_train=500, data_seed=s,
                                    model_seed=s, config=cfg))
    return runs


def ff3f_runs(seed: int = 0, epochs: int = 200, n_seeds: int = 3) -> list[FlipFlopRun]:
    """3-bit fixed ±1 (F7, FULL): all five models at N ∈ {6, 12, 18}, ψ initial state, 200 epochs,
    batch 100, decay 0.1, lr 1e-2 (GRU/mGRU/RNN) / 1e-3 (nODE/gnODE), `n_seeds` seeds (claims on seed means)."""
    runs = []
    for s in range(seed, seed + n_seeds):
        for N in (6, 12, 18):
            for kind in MODEL_KINDS:
                cfg = TrainConfig(epochs=epochs, lr=default_lr(kind), weight_decay=0.1, batch_size=100, val_every="iter")
                runs.append(FlipFlopRun(kind, N, 3, "fixed", (100, 100, 100), "affine", n_train=500, data_seed=s,
                                        model_seed=s, config=cfg))
    return runs


FF2_VARIANTS: tuple[str, ...] = ("variable", "rectangle", "ring", "annulus", "fixed")


def ff2v_runs(seed: int = 0, epochs: int = 200, n_seeds: int = 3) -> list[FlipFlopRun]:
    """2-bit variants (F9, FULL): gnODE N = 2, F = [316, 316], 200 epochs, lr 1e-3, decay 0.1, batch 100,
    `n_seeds` seeds per variant (claims on seed means)."""
    cfg = TrainConfig(epochs=epochs, lr=1e-3, weight_decay=0.1, batch_size=100, val_every="iter")
    return [FlipFlopRun("gnode", 2, 2, v, (316, 316), "affine", n_train=500, data_seed=s, model_seed=s,
                        config=cfg) for s in range(seed, seed + n_seeds) for v in FF2_VARIANTS]


def init_ablation_runs(seed: int = 0, n_seeds: int = 3, epochs: int = 200) -> list[FlipFlopRun]:
    """F10 (optional, FULL): gnODE N = 6 on 3-bit variable, Glorot vs critical rescaling, `n_seeds` seeds."""
    base = ff3v_runs(seed, 1, epochs)[0]
    return [replace(base, init=init, data_seed=s, model_seed=s) for s in range(seed, seed + n_seeds)
            for init in ("glorot", "critical")]


def train_runs(runs: list[FlipFlopRun], device: str = "cpu", cache_dir=None, workers: int = 2,
               progress: bool = True) -> list[dict]:
    """Train independent runs side by side with `al.sweep` (local processes, one thread each);
    serially on a GPU (CUDA does not survive fork). Finished runs are cached in `cache_dir`."""
    from ..sweep import sweep

    points = [{"run": _shrink(r), "device": device, "cache_dir": cache_dir} for r in runs]
    executor = "serial" if device != "cpu" or workers == 1 else None
    return sweep(run_flipflop, points, executor=executor, progress=progress, max_workers=workers,
                 desc="flip-flop training")


def analyse_2d(out: dict, variant: str | None = None, slow_point_steps: int = 3000, n_starts: int = 2000,
               retention_hold: int = 1000, reint: bool = True, seed: int = 0) -> dict:
    """Diagnostics of a trained N = 2 model: drift-test slow fraction (+ cond C), retention RMSE(k),
    Euler vs torchdiffeq rk4 re-integration validation MSE, speed/gate maps, slow points y*."""
    if _SMOKE:
        slow_point_steps, n_starts = min(slow_point_steps, 20), min(n_starts, 50)
    model = model_from_run(out)
    run: FlipFlopRun = out["run"]
    variant = variant or run.variant
    x, y = make_flipflop(run.n_bits, run.n_trials, run.variant, seed=run.data_seed)
    _, (xv, yv) = splits(x, y, run.n_train, run.n_val)
    sf = slow_fraction(model, variant)
    ret = retention_curve(model, hold=retention_hold, seed=seed)
    y_rk = reintegrate(model, xv, substeps=10, method="rk4")[0] if reint else np.full(yv.shape, np.nan)
    with torch.no_grad():
        _, H = model(torch.as_tensor(xv[:3]))
    lims = (-1.5, 1.5) if variant in ("variable", "square", "fixed") else (-3.0, 3.0)
    grid = speed_gate_grid(model, lims=lims, n=41)
    sp = None
    if slow_point_steps:
        starts = slow_point_starts(model, xv, n=n_starts, seed=seed)
        sp = find_slow_points(model_field(model), starts, steps=slow_point_steps, lr=1e-3, tol=1e-3, eigvals=False)
    C = model.readout.W.detach()
    c = model.readout.b.detach()
    return {"kind": run.kind, "variant": variant, "slow_frac": sf["slow_frac"], "cond_C": sf["cond_C"], "slow_grid": sf,
            "retention": ret, "retention_rmse": float(ret["rmse"][-1]), "euler_val_mse": mse(model, xv, yv),
            "reint_val_mse": float(np.mean((y_rk - yv) ** 2)), "grid": grid,
            "val_traj": (H @ C.T + c).numpy(), "val_target": yv[:3],
            "slow_y": slow_point_readouts(model, sp) if sp is not None else np.zeros((0, 2)),
            "n_slow": 0 if sp is None else int(sp.h.shape[0])}


def analyse_3bit(out: dict, slow_point_steps: int = 3000, n_starts: int = 2000, seed: int = 0) -> dict:
    """3-bit slow points (F8): y* of kept points, 4×4×4 coverage, PCA spectrum, Jacobian eigenvalues."""
    if _SMOKE:
        slow_point_steps, n_starts = min(slow_point_steps, 20), min(n_starts, 50)
    model = model_from_run(out)
    run: FlipFlopRun = out["run"]
    x, y = make_flipflop(run.n_bits, run.n_trials, run.variant, seed=run.data_seed)
    _, (xv, _) = splits(x, y, run.n_train, run.n_val)
    starts = slow_point_starts(model, xv, n=n_starts, seed=seed)
    sp = find_slow_points(model_field(model), starts, steps=slow_point_steps, lr=1e-3, tol=1e-3, eigvals=True)
    ys = slow_point_readouts(model, sp)
    return {"kind": run.kind, "N": run.N, "y": ys, "coverage": coverage(ys), "pca": pca_spectrum(sp.h),
            "eigvals": sp.eigvals, "n_slow": int(sp.h.shape[0])}


def variant_stats(out: dict, analysis: dict) -> dict:
    """Per-variant numbers of F9: ring radius/angle coverage, ±1 corners, slow fraction."""
    v = out["run"].variant
    res = {"variant": v, "slow_frac": analysis["slow_frac"], "best_val": out["result"].best_val}
    if v == "ring":
        res.update(ring_stats(analysis["slow_y"]))
    if v == "fixed":
        res["corners"] = corners_found(analysis["slow_y"])
    return res


def results_table(outs: list[dict]) -> "pandas.DataFrame":  # noqa: F821
    """One row per run: model, N, variant, seeds, parameters, best val MSE, test MSE, MSE₀, wall time."""
    import pandas as pd

    from .cells import param_count
    rows = []
    for o in outs:
        r: FlipFlopRun = o["run"]
        rows.append({"model": r.kind, "N": r.N, "variant": r.variant, "seed": r.model_seed, "init": r.init,
                     "params": param_count(model_from_run(o)), "best_val_mse": o["result"].best_val,
                     "test_mse": o["test_mse"], "mse0": zero_mse_theory(r.n_bits, variant=r.variant),
                     "train_s": o["result"].wall_s})
    return pd.DataFrame(rows)


def algebra_max_error(seed: int = 0) -> float:
    """Max abs error (float64) over the model identities of test T2: b_z = +40 gnODE = nODE;
    b_z = −40 holds; α = 1 nODE step = F; (h' − h)/α = field for α ∈ {1, 0.1}; GRU vs a
    numpy reference of the Cho-variant equations."""
    from .cells import build_model

    g = torch.Generator().manual_seed(seed)
    h = torch.randn(7, 3, generator=g, dtype=torch.float64)
    x = torch.randn(7, 2, generator=g, dtype=torch.float64)
    errs = []
    gn = build_model("gnode", 3, 2, hidden=(8, 8), seed=seed).double().cell
    nd = build_model("node", 3, 2, hidden=(8, 8), seed=seed + 1).double().cell
    nd.F.load_state_dict(gn.F.state_dict())
    with torch.no_grad():
        gn.Z.W.zero_(); gn.Z.U.zero_(); gn.Z.b.fill_(40.0)
        errs.append((gn.step(h, x) - nd.step(h, x)).abs().max())
        errs.append((nd.step(h, x) - nd.F(h, x)).abs().max())
        gn.Z.b.fill_(-40.0)
        errs.append((gn.step(h, x) - h).abs().max())
        for alpha in (1.0, 0.1):
            for kind in MODEL_KINDS:
                c = build_model(kind, 3, 2, hidden=(8, 8), alpha=alpha, seed=seed).double().cell
                errs.append(((c.step(h, x) - h) / alpha - c.field(h, x)).abs().max())
        c = build_model("gru", 3, 2, seed=seed).double().cell
        hn, xn = h.numpy(), x.numpy()
        P = {k: v.numpy() for k, v in c.state_dict().items()}
        sig = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
        z = sig(hn @ P["Z.W"].T + xn @ P["Z.U"].T + P["Z.b"])
        r = sig(hn @ P["R.W"].T + xn @ P["R.U"].T + P["R.b"])
        ht = np.tanh((r * hn) @ P["Hh.W"].T + xn @ P["Hh.U"].T + P["Hh.b"])
        errs.append(torch.as_tensor(np.abs(hn + z * (ht - hn) - c.step(h, x).numpy()).max()))
    return float(max(float(e) for e in errs))


def fit_expressivity(specs, targets, steps: int, device: str = "cpu", chunks: int = 2, progress: bool = True,
                     **kw) -> dict:
    """Run the fits as `chunks` masked ensembles side by side (`al.sweep`, one process each on CPU;
    one ensemble on a GPU). Replicates are independent, so the split does not change results."""
    from ..sweep import sweep
    from .expressivity import fit_ensemble

    specs = list(specs)
    targets = np.asarray(targets)
    if device != "cpu" or chunks == 1:
        out = fit_ensemble(specs, targets, steps=steps, device=device, progress=progress, **kw)
        out.pop("specs", None)
        return out
    N_max = max(s.N for s in specs)
    w_max = max(s.width for s in specs)
    idx = np.array_split(np.arange(len(specs)), chunks)
    points = [{"specs": [specs[i] for i in ix], "targets": targets[ix], "steps": steps, "progress": False,
               "N_max": N_max, "width_max": w_max, **kw} for ix in idx]
    parts = sweep(fit_ensemble, points, progress=progress, max_workers=chunks, desc="expressivity ensembles")
    keys = ("r2_train", "r2_fine", "failed", "best_loss", "y_fine")
    res = {k: np.concatenate([p[k] for p in parts]) for k in keys}
    res["loss"] = np.concatenate([p["loss"] for p in parts], axis=1)
    return res


@dataclass(frozen=True)
class ExpressivityJob:
    """The QUICK expressivity grid as one job, so it can share an `al.sweep` with flip-flop runs."""

    steps: int = 200
    seed: int = 0


def run_job(job, device: str = "cpu", cache_dir=None):
    """Dispatch one job of a mixed sweep: a `FlipFlopRun` (→ `run_flipflop`), a `ProxyRun`
    (→ `run_proxy`) or an `ExpressivityJob` (→ the QUICK grid fitted as one masked ensemble)."""
    from .expressivity import fit_ensemble, quick_grid

    if isinstance(job, FlipFlopRun):
        return run_flipflop(job, device=device, cache_dir=cache_dir)
    if isinstance(job, ProxyRun):
        return run_proxy(job, device=device, cache_dir=cache_dir)
    if isinstance(job, ExpressivityJob):
        specs, targets, labels = quick_grid(job.seed)
        out = fit_ensemble(specs, targets, steps=job.steps, device=device, progress=False)
        out.update(labels=labels, targets=targets)
        return out
    raise ValueError(f"job must be a FlipFlopRun, a ProxyRun or an ExpressivityJob; got {type(job).__name__}")


def run_jobs(jobs: list, device: str = "cpu", cache_dir=None, workers: int = 2, progress: bool = True) -> list:
    """`run_job` over a list with `al.sweep` (processes on CPU, serial on a GPU); results in order.
    Put the longest job first: workers take jobs in list order."""
    from ..sweep import sweep

    executor = "serial" if device != "cpu" or workers == 1 else None
    jobs = [_shrink(j) for j in jobs]
    return sweep(run_job, [{"job": j, "device": device, "cache_dir": cache_dir} for j in jobs], executor=executor,
                 progress=progress, max_workers=workers, desc="training")


EXPR_LAYOUTS: tuple[str, ...] = ("gpu", "cpu")


def _expr_layout_spec(layout: str, steps: int | None):
    """(steps, Ks, widths, merge widths?) of a FULL expressivity layout (see `full_expressivity`)."""
    if layout == "gpu":
        return steps or 2000, tuple(range(1, 11)), (8, 32, 128), True
    return steps or 1000, (1, 2, 3, 4, 6, 8, 10), (8, 32, 128), False


def _expr_ensembles(layout: str, steps: int | None, seeds, depths) -> tuple:
    """(steps, Ks, widths, ensembles) of a FULL expressivity layout; each ensemble is
    (params, labels): `params` = {'specs', 'targets', 'steps'} of one `full_ensemble` call (its cache
    key) and `labels` = one dict per replicate (kind, N, width, depth, seed, target, K), stored with
    the cached result and checked on every hit."""
    from .expressivity import full_grid

    steps, Ks, widths, merge = _expr_layout_spec(layout, steps)
    if _SMOKE:
        steps, Ks, seeds = 2, (1, 2), (0,)
    groups = full_grid(widths=widths, Ks=Ks, seeds=tuple(seeds), depths=tuple(depths))
    if merge:  # merge the widths of one depth into one ensemble
        merged = {}
        for specs, targets, labels in groups:
            d = labels[0]["depth"]
            m = merged.setdefault(d, ([], [], []))
            m[0].extend(specs); m[1].append(targets); m[2].extend(labels)
        groups = [(sp, np.concatenate(t), lab) for sp, t, lab in merged.values()]
    return steps, Ks, widths, [({"specs": sp, "targets": t, "steps": steps}, lab) for sp, t, lab in groups]


def _ensemble_name(labels: list[dict], layout: str, steps: int) -> str:
    """A readable name of one FULL ensemble for progress bars and provenance (not a cache key)."""
    return f"expr_full_d{labels[0]['depth']}_" + ("all" if layout == "gpu" else f"w{labels[0]['width']}") + f"_{steps}"


def full_ensemble(specs, targets, steps: int, device: str = "cpu", progress: bool = True, desc: str = "expressivity fits",
                  checkpoint=None) -> dict:
    """One FULL expressivity ensemble: `fit_ensemble` scores plus where it ran.
    Returns {'r2_train', 'r2_fine', 'failed', 'device', 'torch', 'wall_s'}."""
    import time

    from .expressivity import fit_ensemble

    t0 = time.perf_counter()
    out = fit_ensemble(specs, targets, steps=steps, device=device, progress=progress, desc=desc, checkpoint=checkpoint)
    part = {k: out[k] for k in ("r2_train", "r2_fine", "failed")}
    part.update(device=torch.cuda.get_device_name(0) if str(device).startswith("cuda") else "cpu",
                torch=torch.__version__, wall_s=time.perf_counter() - t0)
    return part


def full_expressivity(device: str = "cpu", steps: int | None = None, cache_dir=None, progress: bool = True,
                      seeds=(0, 1, 2), depths=(1, 2, 3), layout: str | None = None) -> dict:
    """FULL expressivity grid (§4.4 item 6): N ∈ {2,3,4,8}, width ∈ {8,32,128}, depth ∈ `depths`,
    3 seeds + the figure-eight per cell and seed, in one of two layouts:

    - 'gpu' (spec): K ∈ {1..10}, 2000 Adam steps, one ensemble per depth (widths padded to 128:
      a GPU is launch-bound, so fewer, larger ensembles are faster);
    - 'cpu' (spec §9's CPU fallback): K ∈ {1,2,3,4,6,8,10}, 1000 steps, all three widths, one
      ensemble per (depth, width) of 192 fits. Measured on the 2-core CPU (one process per depth,
      `python -m analysis_lib.gnode.precompute --what expressivity`): width 128 took 659 s,
      2509 s and 5012 s at depths 1, 2, 3, widths 8 and 32 took 5–19 min each; ≈ 3.3 CPU-hours
      in all, ≈ 1.4 h of wall time for the width-128 column. Smaller ensembles do not help: the
      per-replicate matrix-vector products are memory-bound.
      On an H200 the 'gpu' layout took 0.75–0.95 s per Adam step per depth (three depths side by
      side, beside 13 training processes), i.e. ≈ 30 min for 2000 steps.

    `layout=None` picks 'gpu' on a CUDA device, or when `cache_dir` already holds every 'gpu'
    ensemble (made on a GPU machine by `python -m analysis_lib.gnode.precompute`), else 'cpu'.
    Each ensemble is cached as `full_ensemble(specs, targets, steps)` (`_cache.cached_call`: key =
    the replicates' specs, the targets, the steps and the code fingerprint, not the device), with
    the grid labels of its replicates, which must equal the requested grid's on a hit; it is
    checkpointed while it runs, and records its provenance (device name, torch version, wall
    seconds). Returns {'labels', 'r2_train', 'r2_fine', 'failed', 'layout', 'steps', 'widths', 'Ks',
    'depths', 'provenance'}.
    """
    from .._cache import cached_call, is_cached

    depths = tuple(depths)
    if not depths or any(d not in (1, 2, 3) for d in depths):
        raise ValueError(f"depths must be a non-empty subset of (1, 2, 3); got {depths!r}")
    if layout is None:
        cached = cache_dir is not None and all(
            is_cached(full_ensemble, params, cache_dir=cache_dir, labels=labels)
            for params, labels in _expr_ensembles("gpu", steps, seeds, depths)[3])
        layout = "gpu" if (device != "cpu" or cached) else "cpu"
    if layout not in EXPR_LAYOUTS:
        raise ValueError(f"layout must be one of {EXPR_LAYOUTS} or None; got {layout!r}")
    steps, Ks, widths, ensembles = _expr_ensembles(layout, steps, seeds, depths)
    labels_all, parts, provenance = [], [], []
    for params, labels in ensembles:
        name = _ensemble_name(labels, layout, steps)
        part = cached_call(full_ensemble, params, cache_dir=cache_dir, labels=labels, checkpoint_suffix=".ckpt.pt",
                           not_in_key=dict(device=device, progress=progress, desc=name))
        if len(part["r2_fine"]) != len(labels):
            raise RuntimeError(f"{name}: {len(part['r2_fine'])} scores for {len(labels)} grid labels")
        labels_all.extend(labels)
        parts.append(part)
        provenance.append({"ensemble": name, "device": str(part.get("device", "?")), "torch": str(part.get("torch", "?")),
                           "wall_s": float(part.get("wall_s", np.nan))})
    res = {k: np.concatenate([p[k] for p in parts]) for k in ("r2_train", "r2_fine", "failed")}
    res.update(labels=labels_all, layout=layout, steps=steps, widths=widths, Ks=Ks, depths=depths,
               provenance=provenance)
    return res


def c1_attractor_config(mode: str = "full"):
    """Settings of the C1 graded measures: FULL (2,000 slow-point starts × 3,000 steps), QUICK (500 ×
    1,000), smoke (50 × 20, a 11×11 grid)."""
    from .attractor import QUICK_ATTRACTOR, AttractorConfig

    _check_mode(mode)
    if _SMOKE:
        return AttractorConfig(slow_point_steps=20, n_starts=50, n_grid=11, n_mem=20)
    return QUICK_ATTRACTOR if mode == "quick" else AttractorConfig()


def c1_train(grid="subset", seed: int = 0, device: str = "cpu", cache_dir=None, workers: int = 2,
             progress: bool = True) -> list[dict]:
    """Train every cell of the C1 grid (`attractor.c1_grid_runs`), each cached and resumable."""
    from .attractor import c1_grid_runs

    return run_jobs(c1_grid_runs(grid, seed), device=device, cache_dir=cache_dir, workers=workers, progress=progress)


def c1_analyse(outs: list[dict], mode: str = "full", cache_dir=None, workers: int = 2, progress: bool = True) -> dict:
    """Select per (model, N) the grid point with the lowest seed-mean best validation MSE, then run
    the graded measures on every seed of it (cached per run in FULL). Returns {'table', 'selected'
    ({(model, N): (lr, decay, batch)}), 'analyses', 'comparisons', 'gates', 'verdict', 'config'}."""
    from .attractor import c1_analyses, c1_comparisons, c1_verdict, gate_summary, grid_table, select_runs

    cfg = c1_attractor_config(mode)
    table = grid_table(outs)
    sel = select_runs(outs)
    chosen = [o for k in sorted(sel) for o in sel[k]]
    if cache_dir is None:
        analyses = c1_analyses(None, cfg, outs=chosen)
    else:
        analyses = c1_analyses([o["run"] for o in chosen], cfg, cache_dir=cache_dir, workers=workers, progress=progress)
    comp = c1_comparisons(analyses, cfg)
    gates = gate_summary(analyses)
    return {"table": table, "config": cfg, "analyses": analyses, "comparisons": comp, "gates": gates,
            "selected": {k: (o[0]["run"].config.lr, o[0]["run"].config.weight_decay, o[0]["run"].config.batch_size)
                         for k, o in sel.items()},
            "verdict": c1_verdict(comp, gates, cfg)}
