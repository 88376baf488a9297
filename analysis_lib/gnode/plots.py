"""Figures of notebook 03 (one function per figure; each returns the matplotlib Figure)."""
from __future__ import annotations

import numpy as np

from .flipflop import variant_target_set

MODEL_LABEL = {"gnode": "gnODE", "node": "nODE", "mgru": "mGRU", "gru": "GRU", "rnn": "RNN"}


def _plt():
    import matplotlib.pyplot as plt

    return plt


def _outline(ax, variant, **kw):
    ts = variant_target_set(variant)
    for poly in ts["outline"]:
        if ts["kind"] == "points":
            ax.plot(poly[:, 0], poly[:, 1], "s", mfc="none", color="k", ms=9, **kw)
        else:
            ax.plot(poly[:, 0], poly[:, 1], "k--", lw=1, **kw)


def plot_task_examples(examples: dict, trial: int = 0):
    """F1: example inputs (thin) and targets (thick) of 3-bit variable and 2-bit square trials, and
    2-bit targets in the output plane with their target sets. `examples`: name → (x, y, variant)."""
    plt = _plt()
    fig, axes = plt.subplots(1, len(examples), figsize=(4.2 * len(examples), 3.6))
    for ax, (name, (x, y, variant)) in zip(np.atleast_1d(axes), examples.items()):
        n = x.shape[2]
        if name.startswith("plane"):
            for i in range(min(20, x.shape[0])):
                ax.plot(y[i, :, 0], y[i, :, 1], ".", ms=3, alpha=0.5)
            _outline(ax, variant)
            ax.set_aspect("equal")
            ax.set_xlabel("$y_1$"); ax.set_ylabel("$y_2$")
            ax.set_title(f"{variant}: targets of 20 trials")
            continue
        t = np.arange(1, x.shape[1] + 1)
        for ch in range(n):
            off = 3.0 * (n - 1 - ch)
            ax.plot(t, x[trial, :, ch] + off, lw=0.8, color=f"C{ch}", alpha=0.7)
            ax.plot(t, y[trial, :, ch] + off, lw=2.0, color=f"C{ch}")
        ax.set_yticks([3.0 * (n - 1 - ch) for ch in range(n)], [f"ch {ch + 1}" for ch in range(n)])
        ax.set_xlabel("bin t"); ax.set_title(f"{name}: input (thin), target (thick)")
    return fig


def plot_val_curves(outs: list[dict], mse0: float):
    """F2: validation MSE curves (log) per model with the zero-predictor line, and best val/test bars."""
    plt = _plt()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.8), gridspec_kw={"width_ratios": [1.6, 1]})
    for o in outs:
        r = o["result"]
        a1.semilogy(r.val_iter, r.val_loss, label=MODEL_LABEL[o["run"].kind])
    a1.axhline(mse0, color="k", ls=":", label="MSE₀ (zero predictor)")
    a1.set_xlabel("iteration"); a1.set_ylabel("validation MSE"); a1.legend(fontsize=9)
    names = [MODEL_LABEL[o["run"].kind] for o in outs]
    xs = np.arange(len(outs))
    a2.bar(xs - 0.2, [o["result"].best_val for o in outs], 0.4, label="best val")
    a2.bar(xs + 0.2, [o["test_mse"] for o in outs], 0.4, label="test (independent)")
    a2.axhline(0.5 * mse0, color="k", ls=":", lw=1, label="0.5·MSE₀")
    a2.set_xticks(xs, names); a2.set_ylabel("MSE"); a2.legend(fontsize=9)
    return fig


def _gate_limits(gate: np.ndarray) -> tuple[float, float]:
    """Colour limits of a gate map that show its structure: the 2nd–98th percentile, at least 0.02 wide
    (an ungated model's z ≡ 1 gets (0.98, 1))."""
    lo, hi = np.nanpercentile(gate, [2, 98])
    if hi - lo < 0.02:
        mid = 0.5 * (lo + hi)
        lo, hi = max(0.0, mid - 0.01), min(1.0, mid + 0.01)
        if hi - lo < 0.02:
            lo, hi = (hi - 0.02, hi) if hi >= 1.0 else (lo, lo + 0.02)
    return float(lo), float(hi)


def plot_phase_portraits(analyses: list[dict], variant: str | None = None, titles: list[str] | None = None):
    """F3/F9: per model, speed map log10‖C Δh‖ + streamlines, slow points y*, 3 validation trajectories,
    the outline of the target set of the model's own task (`variant=None`: each analysis's variant)
    (top), and the mean gate map z(h, 0) on a colour scale fitted to the map (2nd–98th percentile,
    stated in the title) so its structure shows (bottom; ungated models show z ≡ 1)."""
    plt = _plt()
    n = len(analyses)
    fig, axes = plt.subplots(2, n, figsize=(3.6 * n, 6.8), squeeze=False)
    for j, an in enumerate(analyses):
        v = variant or an.get("variant", "variable")
        g = an["grid"]
        ax = axes[0, j]
        im = ax.pcolormesh(g["y1"], g["y2"], g["log_speed"], cmap="magma_r", shading="auto", vmin=-4, vmax=0)
        ax.streamplot(g["y1"], g["y2"], g["dy1"], g["dy2"], color="w", density=0.7, linewidth=0.6, arrowsize=0.6)
        if an["slow_y"].shape[0]:
            ax.plot(an["slow_y"][:, 0], an["slow_y"][:, 1], ".", color="c", ms=2, alpha=0.5, label="slow points y*")
        for tr in an["val_traj"]:
            ax.plot(tr[:, 0], tr[:, 1], lw=1.0, color="lime")
        _outline(ax, v)
        lo, hi = g["y1"].min(), g["y1"].max()
        ax.set_xlim(lo, hi); ax.set_ylim(lo, hi); ax.set_aspect("equal")
        title = titles[j] if titles else MODEL_LABEL.get(an["kind"], an["kind"])
        ax.set_title(f"{title}\nslow frac {an['slow_frac']:.3f}, cond C {an['cond_C']:.1f}", fontsize=10)
        fig.colorbar(im, ax=ax, shrink=0.8, label="log10 speed")
        ax2 = axes[1, j]
        zlo, zhi = _gate_limits(g["gate"])
        im2 = ax2.pcolormesh(g["y1"], g["y2"], g["gate"], cmap="viridis", shading="auto", vmin=zlo, vmax=zhi)
        if an["slow_y"].shape[0]:
            ax2.plot(an["slow_y"][:, 0], an["slow_y"][:, 1], ".", color="w", ms=1.5, alpha=0.5)
        _outline(ax2, v)
        ax2.set_aspect("equal"); ax2.set_title(f"mean gate z(h, 0), scale {zlo:.2f}–{zhi:.2f}", fontsize=10)
        fig.colorbar(im2, ax=ax2, shrink=0.8)
    return fig


def plot_retention_reint(analyses: list[dict]):
    """F4: retention RMSE(k) (log-x) with the zero-predictor reference, and validation MSE of the
    trained Euler recurrence vs the torchdiffeq rk4 re-integration."""
    plt = _plt()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.8))
    for an in analyses:
        a1.semilogx(an["retention"]["k"], an["retention"]["rmse"], label=MODEL_LABEL[an["kind"]])
    a1.axhline(np.sqrt(1 / 3), color="k", ls=":", label="zero predictor √(1/3)")
    a1.axhline(1 / np.sqrt(12), color="gray", ls="--", label="quantiser, 2 levels/channel (1/√12)")
    a1.axvline(100, color="k", lw=0.5, alpha=0.5)
    a1.set_xlabel("steps after the last pulse k (trained range ≤ 100)"); a1.set_ylabel("RMSE(k)"); a1.legend(fontsize=9)
    xs = np.arange(len(analyses))
    a2.bar(xs - 0.2, [an["euler_val_mse"] for an in analyses], 0.4, label="Euler α = 1 (trained)")
    a2.bar(xs + 0.2, [an["reint_val_mse"] for an in analyses], 0.4, label="rk4, Δt/10 (torchdiffeq)")
    a2.set_xticks(xs, [MODEL_LABEL[an["kind"]] for an in analyses]); a2.set_yscale("log")
    a2.set_ylabel("validation MSE"); a2.legend(fontsize=9)
    return fig


def plot_expressivity_quick(labels: list[dict], r2_fine: np.ndarray, y_fine: np.ndarray, targets: np.ndarray):
    """F5 (QUICK): R²_fine heat-map (rows model × N, columns target × width) and figure-eight fits
    of the best N = 2 and N = 3 models."""
    plt = _plt()
    rows = sorted({(l["kind"], l["N"]) for l in labels}, key=lambda r: (r[0] != "node", r[1]))
    cols = sorted({(l["target"], l["width"]) for l in labels}, key=lambda c: (c[0], c[1]))
    M = np.full((len(rows), len(cols)), np.nan)
    for l, v in zip(labels, r2_fine):
        M[rows.index((l["kind"], l["N"])), cols.index((l["target"], l["width"]))] = v
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 4), gridspec_kw={"width_ratios": [1.7, 1]})
    im = a1.imshow(M, vmin=0, vmax=1, cmap="viridis", aspect="auto")
    for i in range(M.shape[0]):
        for j in range(M.shape[1]):
            a1.text(j, i, f"{M[i, j]:.2f}", ha="center", va="center", color="w" if M[i, j] < 0.6 else "k", fontsize=9)
    a1.set_yticks(range(len(rows)), [f"{MODEL_LABEL[k]} N={N}" for k, N in rows])
    a1.set_xticks(range(len(cols)), [f"{t}\nw={w}" for t, w in cols])
    a1.set_title("R²_fine (rk4, step 0.01)")
    fig.colorbar(im, ax=a1, shrink=0.8)
    fig8 = [i for i, l in enumerate(labels) if l["target"] == "fig8"]
    a2.plot(targets[fig8[0]][:, 0], targets[fig8[0]][:, 1], "k--", lw=1.5, label="target")
    for N in (2, 3):
        idx = [i for i in fig8 if labels[i]["N"] == N]
        best = max(idx, key=lambda i: r2_fine[i])
        l = labels[best]
        a2.plot(y_fine[best][:, 0], y_fine[best][:, 1], lw=1.5,
                label=f"N={N}: {MODEL_LABEL[l['kind']]} w={l['width']}, R²={r2_fine[best]:.2f}")
    a2.set_aspect("equal"); a2.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12))
    a2.set_title("figure-eight fits")
    return fig


def plot_expressivity_full(E: dict, Ns, widths, depths):
    """F5 (FULL): heat-maps of E over (N × width) per depth for nODE, gnODE, and gnODE − nODE."""
    plt = _plt()
    fig, axes = plt.subplots(len(depths), 3, figsize=(11, 3.2 * len(depths)), squeeze=False)
    for i, d in enumerate(depths):
        mats = {}
        for kind in ("node", "gnode"):
            mats[kind] = np.array([[E.get((kind, N, w, d), np.nan) for w in widths] for N in Ns])
        mats["diff"] = mats["gnode"] - mats["node"]
        for j, (name, M) in enumerate(mats.items()):
            ax = axes[i, j]
            cmap, vmin, vmax = ("RdBu_r", -3, 3) if name == "diff" else ("viridis", 0, 10)
            im = ax.imshow(M, cmap=cmap, vmin=vmin, vmax=vmax, origin="lower", aspect="auto")
            ax.set_xticks(range(len(widths)), widths); ax.set_yticks(range(len(Ns)), Ns)
            ax.set_xlabel("width"); ax.set_ylabel("N")
            ax.set_title({"node": "E nODE", "gnode": "E gnODE", "diff": "E gnODE − E nODE"}[name] + f", depth {d}")
            fig.colorbar(im, ax=ax, shrink=0.8)
    return fig


def plot_loss_curves(outs: list[dict], title: str = ""):
    """F6/F7: training (thin) and validation (thick) loss per run; one panel per model, one colour per
    N (distinct), line style per seed."""
    plt = _plt()
    kinds = list(dict.fromkeys(o["run"].kind for o in outs))
    Ns = sorted({o["run"].N for o in outs})
    colour = {N: f"C{i % 10}" for i, N in enumerate(Ns)}
    styles = ["-", "--", ":", "-."]
    fig, axes = plt.subplots(1, len(kinds), figsize=(max(8, 3.4 * len(kinds)), 3.8), squeeze=False, sharey=True)
    for ax, kind in zip(axes[0], kinds):
        for o in outs:
            r, run = o["result"], o["run"]
            if run.kind != kind:
                continue
            ls = styles[run.model_seed % len(styles)]
            lab = f"N={run.N}" + (f" s{run.model_seed}" if run.model_seed else "")
            ax.semilogy(r.train_loss, color=colour[run.N], lw=0.5, alpha=0.3)
            ax.semilogy(r.val_iter, r.val_loss, color=colour[run.N], lw=1.5, ls=ls, label=lab)
        ax.set_xlabel("iteration"); ax.set_title(f"{title}: {MODEL_LABEL.get(kind, kind)}", fontsize=10)
        ax.legend(fontsize=7)
    axes[0, 0].set_ylabel("MSE")
    return fig


def plot_init_ablation(outs: list[dict]):
    """F10: validation MSE curves of the gnODE N = 6 (3-bit) with Glorot vs the code's critical
    rescaling, per seed; non-finite losses are not drawn (the best checkpoint is then the initial one)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 3.8))
    for o in outs:
        r, run = o["result"], o["run"]
        v = np.asarray(r.val_loss, float)
        ok = np.isfinite(v)
        ax.semilogy(np.asarray(r.val_iter)[ok], v[ok], color="C0" if run.init == "glorot" else "C3",
                    ls=["-", "--", ":"][run.model_seed % 3], label=f"{run.init}, seed {run.model_seed}")
    ax.set_xlabel("iteration"); ax.set_ylabel("validation MSE"); ax.legend(fontsize=8)
    ax.set_title("F10: gnODE N = 6, Glorot vs critical rescaling")
    return fig


def plot_expressivity_nmin_r2(labels: list[dict], r2_fine: np.ndarray, nmin: dict, thr: float = 0.9):
    """F5 (FULL, spec): N_min vs K per width (one panel per model and depth; ∞ drawn above the grid)
    and seed-mean R²_fine vs K per N at the widest F."""
    plt = _plt()
    kinds = sorted({k for (k, d, w, K) in nmin}, key=lambda k: k != "node")
    depths = sorted({d for (k, d, w, K) in nmin})
    widths = sorted({w for (k, d, w, K) in nmin})
    Ks = sorted({K for (k, d, w, K) in nmin})
    Ns = sorted({l["N"] for l in labels})
    fig, axes = plt.subplots(2, len(kinds) * len(depths), figsize=(3.0 * len(kinds) * len(depths), 6.4), squeeze=False)
    top = max(Ns) * 1.6
    r2 = {}
    for l, v in zip(labels, r2_fine):
        if l["target"] != "fig8":
            r2.setdefault((l["kind"], l["depth"], l["width"], l["N"], l["K"]), []).append(float(v))
    for j, (kind, d) in enumerate([(k, d) for k in kinds for d in depths]):
        ax = axes[0, j]
        for i, w in enumerate(widths):
            y = [nmin.get((kind, d, w, K), np.inf) for K in Ks]
            ax.plot(Ks, [top if np.isinf(v) else v for v in y], "o-", color=f"C{i}", ms=3, label=f"width {w}")
        ax.axhline(top, color="k", lw=0.5, ls=":")
        ax.set_yscale("log", base=2); ax.set_yticks(Ns + [top], [str(N) for N in Ns] + ["∞"])
        ax.set_xlabel("K"); ax.set_title(f"N_min, {MODEL_LABEL[kind]} depth {d}", fontsize=9)
        ax.legend(fontsize=7)
        ax2 = axes[1, j]
        for i, N in enumerate(Ns):
            ax2.plot(Ks, [np.mean(r2.get((kind, d, max(widths), N, K), [np.nan])) for K in Ks], "o-", ms=3,
                     color=f"C{i}", label=f"N={N}")
        ax2.axhline(thr, color="k", ls=":", lw=1)
        ax2.set_ylim(-0.2, 1.02); ax2.set_xlabel("K")
        ax2.set_title(f"R²_fine vs K, width {max(widths)}", fontsize=9); ax2.legend(fontsize=7)
    return fig


def plot_c1_grid(table):
    """F12: the C1 grid's validation table: seed-mean best validation MSE (bars, seed range as error
    bars) per grid point, one panel per (model, N); the selected point is outlined."""
    plt = _plt()
    groups = list(table.groupby(["model", "N"], sort=True))
    fig, axes = plt.subplots(1, len(groups), figsize=(3.2 * len(groups), 3.6), squeeze=False, sharey=True)
    for ax, ((kind, N), g) in zip(axes[0], groups):
        xs = np.arange(len(g))
        err = np.vstack([g.val_mean - g.val_min, g.val_max - g.val_mean])
        ax.bar(xs, g.val_mean, 0.6, yerr=err, color=["C2" if s else "C7" for s in g.selected], capsize=2)
        ax.set_xticks(xs, [f"lr {r.lr:g}\nwd {r.decay:g}\nb {r.batch}" for r in g.itertuples()], fontsize=7)
        ax.set_yscale("log"); ax.set_title(f"{MODEL_LABEL[kind]} N = {N}", fontsize=10)
    axes[0, 0].set_ylabel("best validation MSE (seed mean, range)")
    return fig


def plot_c1_graded(analyses: list[dict], comp, cfg):
    """F13: the graded C1 measures. Per N: (top) gnODE − nODE slow fraction over δ × k (seed mean; a
    star where the 95 % CI excludes 0 on the paper's side, a cross where on the other side);
    (middle) retention RMSE(k), seed mean ± range, with the zero-predictor and quantiser baselines;
    (bottom) slow-point readouts y* of every seed over the target square."""
    plt = _plt()
    Ns = sorted(comp["N"].unique())
    fig, axes = plt.subplots(3, len(Ns), figsize=(4.6 * len(Ns), 11), squeeze=False)
    for j, N in enumerate(Ns):
        c = comp[comp.N == N].set_index("test")
        M = np.array([[c.loc[f"slow.d{d:g}_k{k}", "diff"] for d in cfg.deltas] for k in cfg.holds])
        ax = axes[0, j]
        lim = max(0.05, float(np.nanmax(np.abs(M))))
        im = ax.imshow(M, cmap="RdBu_r", vmin=-lim, vmax=lim, origin="lower", aspect="auto")
        for a, k in enumerate(cfg.holds):
            for b, d in enumerate(cfg.deltas):
                r = c.loc[f"slow.d{d:g}_k{k}"]
                mark = "" if r["shown"] is None else ("*" if r["shown"] else ("×" if r["hi"] < 0 else ""))
                ax.text(b, a, f"{M[a, b]:+.3f}{mark}", ha="center", va="center", fontsize=8,
                        color="w" if abs(M[a, b]) > 0.6 * lim else "k")
        ax.set_xticks(range(len(cfg.deltas)), [f"δ={d:g}" for d in cfg.deltas])
        ax.set_yticks(range(len(cfg.holds)), [f"k={k}" for k in cfg.holds])
        ax.set_title(f"N = {N}: slow fraction gnODE − nODE", fontsize=10)
        fig.colorbar(im, ax=ax, shrink=0.8)
        ax = axes[1, j]
        for i, kind in enumerate(("gnode", "node")):
            R = np.array([a["retention"]["rmse"] for a in analyses if a["kind"] == kind and a["N"] == N])
            if not len(R):
                continue
            k = np.arange(1, R.shape[1] + 1)
            ax.semilogx(k, R.mean(0), color=f"C{i}", label=f"{MODEL_LABEL[kind]} ({len(R)} seeds)")
            ax.fill_between(k, R.min(0), R.max(0), color=f"C{i}", alpha=0.2)
        ref = [a["retention"] for a in analyses if a["N"] == N][0]
        ax.axhline(ref["zero"], color="k", ls=":", label="zero predictor")
        ax.axhline(ref["quantiser"], color="gray", ls="--", label=f"quantiser ({cfg.quant_levels} levels/channel)")
        ax.axvline(cfg.k_inside, color="k", lw=0.5)
        ax.set_xlabel("steps after the last pulse k"); ax.set_ylabel("RMSE(k)"); ax.legend(fontsize=7)
        ax = axes[2, j]
        for i, kind in enumerate(("gnode", "node")):
            ys = [a["slow_y"] for a in analyses if a["kind"] == kind and a["N"] == N and len(a["slow_y"])]
            if ys:
                Y = np.concatenate(ys)
                ax.plot(Y[:, 0], Y[:, 1], ".", ms=2, alpha=0.4, color=f"C{i}", label=f"{MODEL_LABEL[kind]} y*")
        _outline(ax, "variable")
        ax.set_xlim(-1.6, 1.6); ax.set_ylim(-1.6, 1.6); ax.set_aspect("equal")
        ax.set_title(f"N = {N}: slow points (all seeds)", fontsize=10); ax.legend(fontsize=7, markerscale=4)
    return fig


def plot_slow_points_3d(analyses: list[dict]):
    """F8: 3-D scatter of slow-point readouts y*, with coverage and PCA spectrum in the title."""
    plt = _plt()
    fig = plt.figure(figsize=(4.2 * len(analyses), 4.2))
    for j, an in enumerate(analyses):
        ax = fig.add_subplot(1, len(analyses), j + 1, projection="3d")
        y = an["y"]
        if y.shape[0]:
            ax.scatter(y[:, 0], y[:, 1], y[:, 2], s=2, alpha=0.5)
        pca = ", ".join(f"{v:.2f}" for v in np.asarray(an["pca"])[:3])
        ax.set_title(f"{MODEL_LABEL[an['kind']]} N={an['N']}\ncoverage {an['coverage']:.2f}; PCA [{pca}]", fontsize=9)
        ax.set_xlim(-1.3, 1.3); ax.set_ylim(-1.3, 1.3); ax.set_zlim(-1.3, 1.3)
    return fig


def plot_explore_flow(model, x_const=(0.0, 0.0), y0=(0.5, -0.5), n_input: int = 50, n_hold: int = 100):
    """Explore widget (N = 2): speed and gate maps at a constant input x, with the trajectory from the
    output point y0 under that input for `n_input` steps (cyan) and then at x = 0 for `n_hold` (white)."""
    import torch

    from .slow_points import readout_preimage, speed_gate_grid

    plt = _plt()
    g = speed_gate_grid(model, n=31, x_const=list(x_const))
    h, _ = readout_preimage(model, np.array([y0], np.float32))
    xs = torch.tensor([list(x_const)] * n_input + [[0.0] * model.cell.d] * n_hold, dtype=torch.float32)[None]
    with torch.no_grad():
        y = model(xs, h0=h)[0][0].numpy()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    for ax, key, cmap in ((axes[0], "log_speed", "magma_r"), (axes[1], "gate", "viridis")):
        ax.pcolormesh(g["y1"], g["y2"], g[key], cmap=cmap, shading="auto")
        ax.streamplot(g["y1"], g["y2"], g["dy1"], g["dy2"], color="w", density=0.6, linewidth=0.5)
        ax.plot(*y[:n_input].T, "c-", lw=2)
        ax.plot(*y[n_input - 1:].T, "w-", lw=2)
        ax.set_title(f"{MODEL_LABEL.get(model.cell.kind, model.cell.kind)}: {key}, x = {tuple(x_const)}")
        ax.set_aspect("equal")
    return fig


def plot_proxy(outs: list[dict], examples: tuple, template_acc: float, label: str, prototypes=None,
               n_show: int = 4):
    """F11 (SYNTHETIC PROXY): the first `n_show` class prototypes (lines, if given) with the observed
    points of three samples each, and test accuracy of gnODE vs nODE (bars: seed mean, dots: seeds)
    with chance and a nearest-prototype baseline. `examples` = (x, labels) of the proxy data;
    `label` is printed as the figure's title."""
    plt = _plt()
    x, lab = examples
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.0), gridspec_kw={"width_ratios": [1.2, 1]})
    for c in np.unique(lab)[:n_show]:
        if prototypes is not None:
            a1.plot(*prototypes[c].T, "-", color=f"C{c}", lw=1.5, label=f"class {c} prototype")
        for i in np.flatnonzero(lab == c)[:3]:
            keep = x[i, :, 2] > 0
            a1.plot(x[i, keep, 0], x[i, keep, 1], ".", color=f"C{c}", ms=3, alpha=0.7)
    a1.set_aspect("equal"); a1.set_xlabel("$y_1$"); a1.set_ylabel("$y_2$")
    a1.set_title("prototypes and observed points of 3 samples each", fontsize=10)
    a1.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    kinds = list(dict.fromkeys(o["run"].kind for o in outs))
    for j, k in enumerate(kinds):
        acc = [o["test_acc"] for o in outs if o["run"].kind == k]
        a2.bar(j, np.mean(acc), 0.6, color=f"C{j}", alpha=0.7)
        a2.plot(np.full(len(acc), j), acc, "ko", ms=4)
    n_classes = len(np.unique(lab))
    a2.axhline(1 / n_classes, color="k", ls=":", label=f"chance 1/{n_classes}")
    a2.axhline(template_acc, color="gray", ls="--", label=f"nearest prototype {template_acc:.2f}")
    a2.set_xticks(range(len(kinds)), [MODEL_LABEL[k] for k in kinds]); a2.set_ylim(0, 1.05)
    a2.set_ylabel("test accuracy (dots: seeds)")
    a2.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.suptitle(label, fontsize=10)
    return fig
