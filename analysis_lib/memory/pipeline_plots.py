"""Figures of section F14 (pipeline demo, simulator vs data, power analysis). Aggregates only."""
from __future__ import annotations

import numpy as np

from .recall import hit_matrix


def _plt():
    import matplotlib.pyplot as plt

    return plt


def fig_demo(result, truth_scores=None):
    """F14 A: seconds per pipeline stage; B: P_rec per clause, pipeline scorer vs simulated truth."""
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    names = [s for s, _, _ in result.stages]
    secs = [t for _, _, t in result.stages]
    axes[0].barh(names[::-1], secs[::-1], color="C0")
    axes[0].set(xlabel="seconds", title=f"A  pipeline stages ({result.mode}, {result.model})")
    st = result.story
    p_llm = hit_matrix(st.scores, st.L).mean(axis=0)
    p_true = hit_matrix(result.truth_scores, st.L).mean(axis=0)
    axes[1].plot(np.arange(1, st.L + 1), p_true, "o-", label="simulated participants (truth)")
    axes[1].plot(np.arange(1, st.L + 1), p_llm, "s--", label=f"scored by {result.model}")
    axes[1].set(xlabel="clause", ylabel=r"$P_{rec}$",
                title=f"B  scorer vs truth, κ = {result.kappa_vs_truth:.2f}")
    axes[1].legend(fontsize=8)
    if fig.get_layout_engine() is None:  # the notebook style already sets a layout engine
        fig.tight_layout()
    return fig


def fig_sim_vs_data(rows):
    """F14 C: simulated twins vs the data (R, M, τ), one point per condition, y = x reference."""
    plt = _plt()
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.8))
    labels = ("R (recalled clauses)", "M (retained clauses)", "Kendall τ (original order)")
    for ax, q, lab in zip(axes, ("R", "M", "tau"), labels):
        x = np.array([r[f"{q}_data"] for r in rows])
        y = np.array([r[f"{q}_sim"] for r in rows])
        scr = np.array(["scrambled" in r["story"] for r in rows])
        ax.plot(x[~scr], y[~scr], "o", label="intact")
        ax.plot(x[scr], y[scr], "s", label="scrambled")
        lim = [min(x.min(), y.min()) * 0.9, max(x.max(), y.max()) * 1.05]
        ax.plot(lim, lim, ":", color="0.5")
        ax.set(xlabel=f"data: {lab}", ylabel="simulation", title=lab.split(" (")[0])
    axes[0].legend(fontsize=8)
    if fig.get_layout_engine() is None:  # the notebook style already sets a layout engine
        fig.tight_layout()
    return fig


def fig_power(table, target_widths=(0.1, 0.05)):
    """F14 D: 95% CI width of the R-vs-L slope vs participants per story (log-log), c/√n fit."""
    from .simulate import participants_needed

    plt = _plt()
    n = np.array([r["n_per_story"] for r in table], dtype=float)
    w = np.array([r["ci95_width"] for r in table])
    fig, ax = plt.subplots(figsize=(5.5, 4))
    ax.plot(n, w, "o", label="simulated experiments")
    x = 1 / np.sqrt(n)
    c = float(x @ w / (x @ x))
    g = np.geomspace(n.min() * 0.8, n.max() * 3, 50)
    ax.plot(g, c / np.sqrt(g), "--", color="0.4", label=r"$c/\sqrt{n}$")
    for tw in target_widths:
        ax.axhline(tw, color="C3", lw=0.8, ls=":")
        ax.annotate(f"width {tw:g}: n ≈ {participants_needed(table, tw)}", (g[0], tw), fontsize=8,
                    va="bottom", color="C3")
    ax.set(xscale="log", yscale="log", xlabel="recall participants per story",
           ylabel="95% CI width of the R-vs-L slope", title="D  power analysis")
    ax.legend(fontsize=8)
    if fig.get_layout_engine() is None:  # the notebook style already sets a layout engine
        fig.tight_layout()
    return fig
