"""Plotting helpers of notebook 01: spectra rows, the slow-mode rule inset and the GRU phase diagram."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..rmt.plot import auto_extent, plot_spectrum  # noqa: F401 (re-exported)
from .meanfield import saddle_node_line, zero_fp_line


def plot_phase_diagram(ax, s_r: float, b_r_grid: np.ndarray | None = None, s_h_range=(1.0, 25.0),
                       probe: dict | None = None, shade: bool = True, title: str | None = None):
    """GRU fixed-point phase diagram in (s_h, b_r) at fixed s_r: L1 = 1/σ(b_r) (zero FP loses
    stability), L2 = inf_q s_h(q) (saddle-node), regions I/II/III shaded; s_h on a log axis.
    `probe`: {(s_h, b_r): (h2_small, h2_large)} markers (filled = persistent activity)."""
    b = np.linspace(-3.5, 1.0, 46) if b_r_grid is None else np.asarray(b_r_grid, dtype=float)
    L1 = zero_fp_line(b)
    L2 = np.array([saddle_node_line(s_r, bb) for bb in b])
    lo, hi = s_h_range
    if shade:
        ax.fill_betweenx(b, lo, np.minimum(L2, hi), color="C2", alpha=0.15, lw=0)
        ax.fill_betweenx(b, np.minimum(L2, hi), np.minimum(L1, hi), color="C1", alpha=0.35, lw=0)
        ax.fill_betweenx(b, np.minimum(L1, hi), hi, color="C3", alpha=0.2, lw=0)
    ax.plot(L1, b, color="k", lw=1.5, label=r"L1: $s_h=1/\sigma(b_r)$")
    ax.plot(L2, b, color="C1", lw=1.5, ls="--", label="L2 (saddle-node)")
    if probe:
        for (sh, br), (small, large) in probe.items():
            persistent = large > 1e-3
            ax.scatter([sh], [br], marker="o", s=40, facecolor="k" if persistent else "white", edgecolor="k", zorder=5)
            if small > 1e-3:
                ax.scatter([sh], [br], marker="x", s=40, color="C3", zorder=6)
    ax.set_xscale("log")
    ax.set_xlim(lo, hi)
    ax.set_ylim(b.min(), b.max())
    ax.set_xlabel(r"$s_h$")
    ax.set_ylabel(r"$b_r$")
    ax.set_title(title if title is not None else rf"$s_r={s_r:g}$")
    return ax


def plot_spectra_row(axes, results, titles, extent=None, n_grid: int = 200, zoom=None, delta: float | None = None):
    """One spectrum per axis from (eigs, stats) pairs, each with its theory curve; optional δ-disk
    around the slow centre drawn as a dotted circle."""
    for ax, (eigs, stats), title in zip(axes, results, titles):
        plot_spectrum(ax, eigs, stats, extent=extent, n_grid=n_grid, zoom=zoom)
        if delta is not None:
            t = np.linspace(0, 2 * np.pi, 200)
            ax.plot(stats.slow_center + delta * np.cos(t), delta * np.sin(t), color="k", lw=0.8, ls=":")
        ax.set_title(title, fontsize=10)
    return axes


def plot_rule_inset(ax, predicted, measured, delta: float = 0.05, label: str = "P"):
    """Scatter of measured slow fractions against the rule's prediction, with the diagonal."""
    predicted, measured = np.asarray(predicted), np.asarray(measured)
    ax.plot([0, 1], [0, 1], color="0.6", lw=0.8)
    ax.scatter(predicted, measured, s=18, color="C3", zorder=3)
    ax.set_xlabel(f"{label}", fontsize=9)
    ax.set_ylabel(rf"frac$(|\lambda-1|<{delta:g})$", fontsize=9)
    ax.set_xlim(-0.03, 1.03)
    ax.set_ylim(-0.03, 1.03)
    return ax


def plot_theory_vs_simulation(ax, x, simulated, theory, color: str = "C0", label: str = "", theory_label: str = "ρ(T)=1 edge"):
    """Markers for simulated values and a line for the theory at the same parameter values."""
    ax.plot(x, simulated, "o", color=color, label=f"simulation{', ' + label if label else ''}")
    ax.plot(x, theory, "-", color=color, lw=1, label=f"{theory_label}{', ' + label if label else ''}")
    return ax
