"""Figures F1-F12 of notebook 02 (spec `gating_theory.md` §5) and its Explore widgets.

One function per figure; each takes the results computed by `experiments` and returns the
matplotlib Figure (the notebook saves it with `al.savefig`). No computation beyond cheap
theory curves happens here.
"""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np

from . import model as prx
from . import meanfield as mf
from ..rmt.plot import plot_spectrum

P = prx.PRXParams


def _spec(ax, eigs, stats, ext, title, n_grid=160):
    plot_spectrum(ax, eigs, stats, extent=ext, n_grid=n_grid, unit_circle=False, s=3)
    ax.axvline(0, color="0.5", lw=0.6)
    ax.set_title(title, fontsize=9)


def plot_f1_traces(runs: dict, caption: str):
    """F1: h, σ_z, σ_r of a few units at α_z = 0 vs the largest α_z (runs of F7a with traces)."""
    keys = [k for k in runs if "traces" in runs[k]]
    keys = [keys[0], keys[-1]]
    fig, axes = plt.subplots(3, 2, figsize=(9, 6), sharex=True)
    for j, k in enumerate(keys):
        tr = runs[k]["traces"]
        for i, (q, lab) in enumerate((("h", "$h_i$"), ("sigma_z", r"$\sigma_z(z_i)$"), ("sigma_r", r"$\sigma_r(r_i)$"))):
            axes[i, j].plot(tr["t"], tr[q], lw=0.8)
            axes[i, j].set_ylabel(lab)
        axes[0, j].set_title(rf"$\alpha_z={k[2:]}$")
        axes[2, j].set_xlabel("t")
    fig.suptitle(caption, fontsize=9)
    return fig


def plot_f2_slow_modes(frozen: dict, stats: dict, alpha_z, caption: str):
    """F2: frozen-state spectra vs α_z at (3, 2) with the curve F(λ) = 1, a zoom at 0 and the
    slow-mode fraction (|λ| < 0.01) vs α_z with the heuristic ½P(σ_z < 0.01)."""
    n = len(alpha_z)
    fig, axes = plt.subplots(2, n + 1, figsize=(3.0 * (n + 1), 6))
    for j, az in enumerate(alpha_z):
        r = frozen[f"g3_ar2_az{az:g}"]
        _spec(axes[0, j], r["eigs"], stats[az], (-1.8, 0.4, -1.0, 1.0), rf"$\alpha_z={az:g}$")
        _spec(axes[1, j], r["eigs"], stats[az], (-0.1, 0.12, -0.1, 0.1), "zoom at 0", n_grid=120)
    fr = [frozen[f"g3_ar2_az{az:g}"]["slow_fraction"] for az in alpha_z]
    rule = [frozen[f"g3_ar2_az{az:g}"]["slow_rule"] for az in alpha_z]
    x = np.arange(n)
    axes[0, n].plot(x, fr, "o-", label=r"measured $|\lambda|<0.01$")
    axes[0, n].plot(x, rule, "s--", label=r"$P(\sigma_z<0.01)$ per h-row (heuristic)")
    axes[0, n].set_xticks(x, [f"{a:g}" for a in alpha_z])
    axes[0, n].set_xlabel(r"$\alpha_z$")
    axes[0, n].set_ylabel("slow-mode fraction")
    axes[0, n].legend(fontsize=7)
    axes[1, n].axis("off")
    fig.suptitle(caption, fontsize=9)
    return fig


def plot_f3_support(frozen: dict, stats: dict, widen: dict, pin: dict, caption: str):
    """F3: spectra of the RMT test cases with F = 1; theory λ_e and K(0) vs α_r; λ_e vs α_z for
    the pinning cases; measured rightmost eigenvalue vs theory λ_e for every case."""
    names = list(stats)
    fig, axes = plt.subplots(2, max(3, len(names)), figsize=(3.2 * max(3, len(names)), 6.4))
    for j, name in enumerate(names):
        r = frozen[name]
        _spec(axes[0, j], r["eigs"], stats[name], None, case_title(name))
    ax = axes[1, 0]
    ax.plot(widen["alpha_r"], widen["edge"], "o-", label=r"$\lambda_e$ (theory)")
    ax.plot(widen["alpha_r"], widen["K0"] - 1, "s--", label=r"$K(0)-1$")
    ax.set_xlabel(r"$\alpha_r$ ($g_h=3,\ \alpha_z=0$)")
    ax.legend(fontsize=7)
    ax = axes[1, 1]
    for (g, a), d in pin.items():
        ax.semilogx(np.maximum(d["alpha_z"], 1.0), d["edge"], "o-", label=f"({g:g}, {a:g}), K(0)/2 = {d['half_K0']:.2f}")
    ax.axhline(0, color="0.5", lw=0.6)
    ax.set_xlabel(r"$\alpha_z$ (0 plotted at 1)")
    ax.set_ylabel(r"theory $\lambda_e$")
    ax.legend(fontsize=7)
    ax = axes[1, 2]
    th = [frozen[n]["edge_theory"] for n in names]
    me = [frozen[n]["max_re"] for n in names]
    ax.plot(th, me, "o")
    lim = (min(th + me) - 0.02, max(th + me) + 0.02)
    ax.plot(lim, lim, color="0.5", lw=0.8)
    ax.fill_between(lim, np.array(lim) - 0.03, np.array(lim) + 0.03, color="0.9")
    ax.set_xlabel(r"theory $\lambda_e$")
    ax.set_ylabel(r"max Re $\lambda$ (N finite)")
    for j in range(3, axes.shape[1]):
        axes[1, j].axis("off")
    fig.suptitle(caption, fontsize=9)
    return fig


def plot_f4_zero_fp(scan: dict, caption: str):
    """F4: rightmost Re λ of the zero-FP h-block vs g_h/g_c, β_r ∈ {0, 1}, with σ_z(0)(g_hσ_r(0) − 1)."""
    fig, ax = plt.subplots(figsize=(5, 3.8))
    for k, (br, d) in enumerate(scan.items()):
        ax.plot(d["factors"], d["edge"], "o", color=f"C{k}", label=rf"$\beta_r={br:g}$: N finite")
        ax.plot(d["factors"], d["theory"], "-", color=f"C{k}", label=rf"$\beta_r={br:g}$: theory")
    ax.axhline(0, color="0.5", lw=0.6)
    ax.axvline(1, color="0.5", lw=0.6, ls=":")
    ax.set_xlabel(r"$g_h/g_c$, $g_c=1+e^{\beta_r}$")
    ax.set_ylabel(r"rightmost Re $\lambda$")
    ax.legend(fontsize=7)
    ax.set_title(caption, fontsize=8)
    return fig


def plot_f5_autocorr(runs: dict, alpha_z, caption: str):
    """F5: C_h(τ) Fourier DMFT vs simulation (α_z = 0); DMFT-MC vs simulation per α_z;
    C_h(20)/C_h(0) vs α_z."""
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    f, s0 = runs["fourier"], runs["sim_az0"]
    ax = axes[0]
    ax.plot(f.tau, f.C_h, label="Fourier DMFT")
    ax.plot(s0["tau"], s0["C_h"], "--", label="simulation")
    ax.set_xlim(0, 40)
    ax.set_xlabel(r"$\tau$")
    ax.set_ylabel(r"$C_h(\tau)$")
    ax.set_title(r"$\alpha_z=0$", fontsize=9)
    ax.legend(fontsize=7)
    ax = axes[1]
    for k, az in enumerate(alpha_z):
        m, s = runs[f"mc_az{az:g}"], runs[f"sim_az{az:g}"]
        ax.plot(m.tau, m.C_h / m.C_h[0], color=f"C{k}", label=rf"MC DMFT $\alpha_z={az:g}$")
        ax.plot(s["tau"], s["C_h"] / s["C_h"][0], "--", color=f"C{k}", label="simulation")
    ax.set_xlim(0, 40)
    ax.set_xlabel(r"$\tau$")
    ax.set_ylabel(r"$C_h(\tau)/C_h(0)$")
    ax.legend(fontsize=6)
    ax = axes[2]
    mc = [runs[f"mc_az{az:g}"].ratio20 for az in alpha_z]
    sim = [np.interp(20.0, runs[f"sim_az{az:g}"]["tau"], runs[f"sim_az{az:g}"]["C_h"]) / runs[f"sim_az{az:g}"]["C_h"][0]
           for az in alpha_z]
    ax.plot(alpha_z, mc, "o-", label="MC DMFT")
    ax.plot(alpha_z, sim, "s--", label="simulation")
    ax.set_xlabel(r"$\alpha_z$")
    ax.set_ylabel(r"$C_h(20)/C_h(0)$")
    ax.legend(fontsize=7)
    fig.suptitle(caption, fontsize=9)
    return fig


def plot_f6_spectra(runs: dict, caption: str, delta: float = 0.01):
    """F6: full Lyapunov spectra (exponent vs index/k) per α_z, with the band |λ| < δ."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for k, (name, e) in enumerate(runs.items()):
        x = np.arange(1, e.size + 1) / e.size
        axes[0].plot(x, e, ".", ms=3, color=f"C{k}", label=rf"$\alpha_z={name[2:]}$")
        axes[1].plot(x, e, ".-", ms=3, color=f"C{k}")
    for ax in axes:
        ax.axhspan(-delta, delta, color="0.85")
        ax.set_xlabel("index / k")
    axes[0].set_ylabel(r"Lyapunov exponent $\lambda_i$")
    axes[0].legend(fontsize=7)
    axes[1].set_xlim(0, 0.4)
    axes[1].set_ylim(-0.3, 0.2)
    axes[1].set_title("zoom near 0", fontsize=9)
    fig.suptitle(caption, fontsize=9)
    return fig


def plot_f7_mle(f7a: dict, ar_table: dict, f7c: dict, caption: str):
    """F7: (a) MLE and frozen fraction vs α_z (g_h = 5, α_r = 0); (b) MLE vs α_r (g_h = 3, seeds
    and mean); (c) DMFT λ_max vs the simulated MLE per seed, with the DMFT potential V(τ)."""
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    az = [float(k[2:]) for k in f7a]
    ax = axes[0]
    ax.plot(az, [r["mle"] for r in f7a.values()], "o-", label="MLE")
    ax.plot(az, [r["frozen_fraction"] for r in f7a.values()], "s--", label=r"frozen fraction ($\sigma_z<10^{-3}$)")
    ax.set_xscale("symlog", linthresh=1)
    ax.set_xlabel(r"$\alpha_z$ ($g_h=5,\ \alpha_r=0$)")
    ax.legend(fontsize=7)
    ax = axes[1]
    ax.plot(ar_table["alpha_r"], ar_table["mle"], ".", color="0.6")
    ax.plot(ar_table["alpha_r"], ar_table["mle_mean"], "o-", label="3-seed mean")
    ax.set_xlabel(r"$\alpha_r$ ($g_h=3$)")
    ax.set_ylabel("MLE")
    ax.legend(fontsize=7)
    ax = axes[2]
    for k, (pt, d) in enumerate(f7c.items()):
        ax.plot([k] * len(d["sims"]), d["sims"], "o", color="C0", label="simulation (seeds)" if k == 0 else None)
        ax.plot([k], [d["sim_mean"]], "_", color="C0", ms=30, mew=2, label="3-seed mean" if k == 0 else None)
        ax.plot([k], [d["dmft"]], "D", color="C3", ms=9, label="DMFT (derived)" if k == 0 else None)
    ax.set_xticks(range(len(f7c)), [f"({g:g}, {a:g})" for g, a in f7c])
    ax.set_xlim(-0.6, len(f7c) - 0.4)
    ax.set_xlabel(r"$(g_h, \alpha_r)$, $\alpha_z=0$, $\tau_r\to0$")
    ax.set_ylabel(r"$\lambda_{max}$")
    ax.legend(fontsize=7)
    fig.suptitle(caption, fontsize=9)
    return fig


def case_title(name: str) -> str:
    """A readable panel title from a case key: "g1p5_ar10_az10" → "$g_h$=1.5, $α_r$=10, $α_z$=10"."""
    labels = {"g": "$g_h$", "ar": r"$\alpha_r$", "az": r"$\alpha_z$"}
    parts = []
    for tok in name.split("_"):
        key = tok.rstrip("0123456789p")
        if key in labels and tok[len(key):]:
            parts.append(f"{labels[key]}={tok[len(key):].replace('p', '.')}")
        else:
            return name.replace("_", " ")
    return ", ".join(parts)


def plot_f8_pr(ar_table: dict, caption: str):
    """F8: participation ratio (seeds and mean) and MLE vs α_r."""
    fig, ax = plt.subplots(figsize=(5.2, 3.8))
    ax.plot(ar_table["alpha_r"], ar_table["pr"], ".", color="0.6")
    ax.plot(ar_table["alpha_r"], ar_table["pr_mean"], "o-", color="C0", label="PR (3-seed mean)")
    ax.set_xlabel(r"$\alpha_r$ ($g_h=3$)")
    ax.set_ylabel("participation ratio", color="C0")
    ax2 = ax.twinx()
    ax2.plot(ar_table["alpha_r"], ar_table["mle_mean"], "s--", color="C1", label="MLE (3-seed mean)")
    ax2.set_ylabel(r"MLE $\lambda_{max}$", color="C1")
    ax2.ticklabel_format(axis="y", style="plain", useOffset=False)  # no offset text: the MLE is > 0
    ax2.set_ylim(0, 1.15 * max(float(np.max(ar_table["mle_mean"])), 1e-3))
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=7, loc="lower right")
    ax.set_title(caption, fontsize=8)
    return fig


def plot_f9_transition(static: dict, runs: dict, seed: int, caption: str):
    """F9: (a) static-MF Δ_h branches vs g_h (α_r below/above √8); (b) var_h and MLE vs α_r at
    g_h = 1.8 from large / small init; (c) h traces after the input step β_h: 0 → 0.2."""
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    ax = axes[0]
    for k, (a, br) in enumerate(static["branches"].items()):
        pts = [(g, d) for g, sols in br for d in sols]
        if pts:
            g, d = np.array(pts).T
            ax.plot(g, d, ".", ms=3, color=f"C{k}", label=rf"$\alpha_r={a:g}$")
    ax.axvline(2, color="0.5", lw=0.6)
    ax.set_yscale("log")
    ax.set_xlabel("$g_h$")
    ax.set_ylabel(r"static $\Delta_h$ (all nonzero roots)")
    ax.legend(fontsize=7)
    ax = axes[1]
    ars = sorted(float(k.split("_ar")[1].split("_")[0]) for k in runs if k.startswith("large_ar") and k.endswith(f"_s{seed}"))
    ax.plot(ars, [runs[f"large_ar{a:g}_s{seed}"]["mle"] for a in ars], "o-", label="MLE, large init")
    ax.plot(ars, [runs[f"large_ar{a:g}_s{seed}"]["var_h"] for a in ars], "s-", label=r"var$_h$, large init")
    sm = runs[f"small_ar50_s{seed}"]
    ax.plot([50], [sm["mle"]], "v", color="C2", label="MLE, small init")
    ax.axhline(0, color="0.5", lw=0.6)
    ax.set_xlabel(r"$\alpha_r$ ($g_h=1.8$)")
    ax.legend(fontsize=7)
    ax = axes[2]
    for k, name in enumerate((f"small_ar50_s{seed}", f"input_ar50_s{seed}")):
        tr = runs[name].get("traces")
        if tr is not None:
            ax.plot(tr["t"], tr["h"], color=f"C{k}", lw=0.7)
    ax.plot([], [], color="C0", label=r"$\beta_h=0$")
    ax.plot([], [], color="C1", label=r"$\beta_h=0.2$ (input step)")
    ax.set_xlabel("t (after the transient)")
    ax.set_ylabel("$h_i$")
    ax.legend(fontsize=7)
    fig.suptitle(caption, fontsize=9)
    return fig


def plot_f10_phase(lines: dict, sims: dict, caption: str, chaos: dict | None = None, census: dict | None = None,
                   dmft_line: dict | None = None, az_panel: dict | None = None):
    """F10: (a) (α_r, g_h) phase diagram: g_h = g_c, the FP-birth line, the DMFT chaos line
    (`dmft_line`: g, alpha_r, lo, hi — the bisection bracket as an error bar), simulated points
    (chaotic / decaying from large init), in FULL the simulated chaos line, and the census onset
    with the band it is scored against (`census` = dict(g_h, onset, band, N)). Regions shaded and labelled: I (only the zero fixed
    point, stable), II (zero FP stable, static solutions exist), III (zero FP unstable); the DMFT
    line splits II into II (static solutions, no chaos) and II' (bistable: chaos from large init).
    (b) `az_panel` = dict(g_h, fp, dmft, runs={(α_r, α_z): run}): the α_z panel at one g_h — the
    large-init MLE of each run (colour), chaotic ▲ / not ×, with the α_z-independent FP line."""
    fig, axes = plt.subplots(1, 2 if az_panel else 1, figsize=(11.5 if az_panel else 6.4, 4.6), squeeze=False)
    ax = axes[0, 0]
    ar_max = 80.0
    g, fp = np.asarray(lines["g"]), np.asarray(lines["fp"])
    ok = np.isfinite(fp)
    # region shading: below the FP line (I), between the FP line and g_h = g_c (II), above g_c (III)
    fp_fill = np.where(ok, np.minimum(fp, ar_max), ar_max)
    ax.fill_betweenx(g, 1.0, fp_fill, color="C0", alpha=0.08, lw=0)
    ax.fill_betweenx(g[ok], fp_fill[ok], ar_max, color="C1", alpha=0.15, lw=0)
    ax.axhspan(lines["g_c"], 2.3, color="C3", alpha=0.08, lw=0)
    ax.text(1.3, 1.55, "I: only the zero FP\n(stable)", fontsize=7, color="C0")
    ax.text(25.0, 1.9, "II: zero FP stable +\nstatic solutions", fontsize=7, color="C1", ha="center")
    ax.text(1.3, 2.2, "III: zero FP unstable", fontsize=7, color="C3")
    ax.axhline(lines["g_c"], color="k", lw=1.2, label=r"$g_h=2$: zero FP unstable")
    ax.plot(fp[ok], g[ok], "C3-", lw=1.5, label=r"$\alpha_{r,FP}(g_h)$: static solutions appear")
    ax.plot([math.sqrt(8)], [2.0], "C3o")
    ax.axhline(math.sqrt(2), color="C3", ls=":", lw=0.8, label=r"$g_h=\sqrt{2}$ ($\alpha_r\to\infty$)")
    for (a, gg), chaotic in sims.items():
        ax.plot([a], [gg], "^" if chaotic else "x", color="C2" if chaotic else "C0", ms=8)
    ax.plot([], [], "^", color="C2", label="simulated: chaos (large init)")
    ax.plot([], [], "x", color="C0", label="simulated: decays")
    if chaos is not None:
        ax.plot(chaos["alpha_r"], chaos["g"], "C2-", lw=1.5, label="chaos line (simulation)")
    if dmft_line is not None:
        ok = np.isfinite(dmft_line["alpha_r"])
        a, lo = dmft_line["alpha_r"][ok], dmft_line["lo"][ok]
        ax.errorbar(a, dmft_line["g"][ok], xerr=[a - lo, np.zeros_like(a)], fmt="s--", color="C2", mfc="none", ms=5,
                    lw=1.0, capsize=2, label="DMFT: chaotic solution exists (right of)")
        if ok.sum() >= 2:
            ax.text(0.6 * ar_max, 1.72, "II': bistable\n(chaos + stable 0)", fontsize=7, color="C2", ha="center")
    if census is not None:  # onset and band drawn apart: the onset may lie outside the band it is scored against
        if np.isfinite(census["onset"]):
            ax.plot([census["onset"]], [census["g_h"]], "*", color="C4", ms=12,
                    label=f"census onset (N = {census['N']}: half the networks have a nonzero FP)")
        ax.plot(census["band"], [census["g_h"]] * 2, "|-", color="C4", lw=3, alpha=0.5, ms=10,
                label="census band: α_r,FP (1 ± 2/√N)")
    ax.set_xscale("log")
    ax.set_xlim(1.0, ar_max)
    ax.set_ylim(1.3, 2.3)
    ax.set_xlabel(r"$\alpha_r$")
    ax.set_ylabel("$g_h$")
    ax.legend(fontsize=6, loc="lower right")
    import textwrap

    ax.set_title("\n".join(textwrap.wrap("(a) " + caption, 90 if az_panel else 110)), fontsize=7)
    if az_panel:
        bx = axes[0, 1]
        runs = az_panel["runs"]
        ar = np.array([k[0] for k in runs]); az = np.array([k[1] for k in runs])
        mle = np.array([r["mle"] for r in runs.values()])
        yy = np.where(az > 0, az, 0.5)  # α_z = 0 drawn at 0.5 on the log axis
        sc = bx.scatter(ar, yy, c=mle, cmap="viridis", s=70, vmin=min(0.0, mle.min()), vmax=max(mle.max(), 0.05),
                        marker="s", zorder=2)
        for a_, y_, r in zip(ar, yy, runs.values()):
            bx.plot([a_], [y_], "^" if r["chaotic"] else "x", color="w" if r["chaotic"] else "r", ms=5, zorder=3)
        fig.colorbar(sc, ax=bx, label=r"$\lambda_{max}$ (large init)")
        bx.axvline(az_panel["fp"], color="C3", lw=1.5, label=r"$\alpha_{r,FP}$ (any $\alpha_z$, exact)")
        if np.isfinite(az_panel.get("dmft", np.nan)):
            bx.plot([az_panel["dmft"]], [0.5], "s", color="C2", mfc="none", ms=12, mew=2, label=r"DMFT chaos onset ($\alpha_z=0$)")
        bx.plot([], [], "^", color="k", label="chaotic (MLE > 0.03, var > 0.02)")
        bx.plot([], [], "x", color="r", label="not chaotic")
        bx.set_xscale("log"); bx.set_yscale("log")
        bx.set_yticks(sorted(set(yy))); bx.set_yticklabels([f"{v:g}" if v >= 1 else "0" for v in sorted(set(yy))])
        bx.set_xlabel(r"$\alpha_r$"); bx.set_ylabel(r"$\alpha_z$")
        bx.legend(fontsize=6, loc="center")
        bx.set_title(f"(b) α_z panel, g_h = {az_panel['g_h']:g}: large-init MLE (simulation);\n"
                     "the fixed-point line does not move with α_z", fontsize=7)
    return fig


def plot_f7d_finite_size(fs: dict, dmft_vals: dict, caption: str):
    """F7d: simulated MLE (seed mean ± SE) against 1/N with the fit λ_∞ + c/N and the DMFT value at 1/N = 0."""
    fig, axes = plt.subplots(1, len(fs), figsize=(4.2 * len(fs), 3.6), squeeze=False)
    for ax, ((g, a), d) in zip(axes[0], fs.items()):
        x = 1.0 / d["N"]
        ax.errorbar(x, d["mean"], yerr=d["se"], fmt="o", color="C0", capsize=2, label="simulation (seed mean ± SE)")
        xx = np.linspace(0, x.max() * 1.05, 50)
        ax.plot(xx, d["lam_inf"] + d["c"] * xx, "C0-", lw=0.8, label=rf"fit $\lambda_\infty+c/N$")
        ax.errorbar([0], [d["lam_inf"]], yerr=[2 * d["se_inf"]], fmt="s", color="C0", mfc="none", capsize=3,
                    label=rf"$\lambda_\infty$ ± 2 SE")
        ax.plot([0], [dmft_vals[(g, a)]], "C3*", ms=12, label="DMFT")
        ax.set_xlabel("$1/N$")
        ax.set_ylabel(r"$\lambda_{max}$")
        ax.set_title(f"$(g_h, \\alpha_r)=({g:g}, {a:g})$", fontsize=9)
        ax.legend(fontsize=6)
    fig.suptitle(caption, fontsize=8)
    return fig


def plot_f11_memory(runs: dict, caption: str):
    """F11: stored memory m(t) = ⟨h, u⟩/N after a pulse, fast vs slow gates, with a z-drive reset."""
    fig, ax = plt.subplots(figsize=(5.6, 3.6))
    for name, r in runs.items():
        ax.plot(r["t"], r["m"] / (r["m_pulse_end"] or 1.0), label=f"{name}: retained {r['retained']:.3f}")
    ax.axvline(5, color="0.5", lw=0.6, ls=":")
    ax.set_xlabel("t (pulse in [0, 5])")
    ax.set_ylabel("m(t) / m(end of pulse)")
    ax.legend(fontsize=7)
    ax.set_title(caption, fontsize=8)
    return fig


def plot_f12_adjoint(res: dict, caption: str):
    """F12: adjoint log-norm vs time before T, against the forward tangent MLE slope."""
    fig, ax = plt.subplots(figsize=(5.2, 3.6))
    ax.plot(res["t"], res["log_norm"], label=r"$\log\|a(T-t)\|$")
    ax.plot(res["t"], res["log_norm"][0] + res["mle_forward"] * res["t"], "--", label=r"$\lambda_{max}t$ (forward)")
    ax.set_xlabel("t before T")
    ax.legend(fontsize=7)
    ax.set_title(caption, fontsize=8)
    return fig


# ----------------------------------------------------------------------------- Explore
def draw_explore(ax, p: prx.PRXParams, N: int = 200, seed: int = 0):
    """Frozen-state (h, r)-block spectrum at N with the curve F(λ) = 1, K(0) and λ_e in the title
    (frozen i.i.d. state from the static MF, or Δ_h = 1 when there is no static solution)."""
    D = mf.static_mf(p).Delta_h
    D = 1.0 if D <= 0 else None
    ev, S = mf.frozen_spectrum(p, N, seed, D)
    ax.clear()
    _spec(ax, ev, S, None, "", n_grid=120)
    ax.set_title(rf"$K(0)={mf.rmt_K0(S):.3f}$, $\lambda_e={mf.rmt_right_edge(S):.3f}$"
                 + (r" ($\Delta_h=1$)" if D else ""), fontsize=9)
    return ax


def draw_residual(ax, g_h: float, alpha_r: float):
    """Static-MF map R(Δ) (its roots are the nonzero fixed-point variances)."""
    d = np.logspace(-6, 2, 300)
    ax.clear()
    ax.semilogx(d, mf.mf_residual(d, P(g_h=g_h, alpha_r=alpha_r)))
    ax.axhline(0, color="0.5", lw=0.6)
    ax.set_xlabel(r"$\Delta$")
    ax.set_ylabel(r"$R(\Delta)$")
    ax.set_title(rf"$g_h={g_h:g}$, $\alpha_r={alpha_r:g}$, $\alpha_{{r,FP}}={mf.fp_birth_alpha_r(g_h):.3g}$", fontsize=9)
    return ax


def explore_widgets(N: int = 200, seed: int = 0):
    """Sliders (g_h, α_r, α_z, β_r, τ_r) redrawing `draw_explore`, and a (g_h, α_r) picker for R(Δ)."""
    import ipywidgets as W

    out1, out2 = W.Output(), W.Output()
    sl = dict(g_h=W.FloatSlider(value=3, min=0.5, max=8, step=0.1, description="g_h"),
              alpha_r=W.FloatSlider(value=2, min=0, max=20, step=0.5, description="α_r"),
              alpha_z=W.FloatLogSlider(value=1, base=10, min=-2, max=3, description="α_z"),
              beta_r=W.FloatSlider(value=0, min=-2, max=2, step=0.1, description="β_r"),
              tau_r=W.FloatSlider(value=1, min=0, max=5, step=0.1, description="τ_r"))
    pk = dict(g_h=W.FloatSlider(value=1.8, min=1.3, max=3, step=0.01, description="g_h"),
              alpha_r=W.FloatLogSlider(value=10, base=10, min=0, max=2, description="α_r"))

    def redraw1(_=None):
        with out1:
            out1.clear_output(wait=True)
            fig, ax = plt.subplots(figsize=(4.2, 4.2))
            draw_explore(ax, P(**{k: v.value for k, v in sl.items()}), N, seed)
            plt.show()

    def redraw2(_=None):
        with out2:
            out2.clear_output(wait=True)
            fig, ax = plt.subplots(figsize=(4.2, 3.2))
            draw_residual(ax, pk["g_h"].value, pk["alpha_r"].value)
            plt.show()

    for v in sl.values():
        v.observe(redraw1, names="value")
    for v in pk.values():
        v.observe(redraw2, names="value")
    redraw1(), redraw2()
    return W.HBox([W.VBox(list(sl.values()) + [out1]), W.VBox(list(pk.values()) + [out2])])


def plot_f3b_visited(visited: dict, alpha_z, seed: int, caption: str):
    """F3b: the full Jacobian's spectrum at a visited state (one panel per α_z, seed `seed`) with the
    theory edge built from that state's statistics (dashed) and the rightmost eigenvalue of the
    fixed-point form (no velocity term, dotted)."""
    fig, axes = plt.subplots(1, len(alpha_z), figsize=(4.0 * len(alpha_z), 3.6), squeeze=False)
    for ax, az in zip(axes[0], alpha_z):
        d = visited[f"az{az:g}_s{seed}"]
        ev = d["eigs"]
        ax.plot(ev.real, ev.imag, ".", ms=2, color="C0", label="eig D(x) at the visited state")
        ax.axvline(d["edge_visited"], color="C3", ls="--", lw=1, label=r"theory $\lambda_e$ (visited statistics)")
        ax.axvline(d["max_re_fpform"], color="C2", ls=":", lw=1.2, label="max Re, fixed-point form")
        ax.set_xlim(min(-1.2, ev.real.min()), max(0.3, ev.real.max() + 0.05))
        ax.set_xlabel(r"Re $\lambda$"); ax.set_ylabel(r"Im $\lambda$")
        ax.set_title(f"α_z = {az:g}: {d['n_outliers']} outliers right of λ_e + 0.01, frozen {d['frozen_fraction']:.2f}", fontsize=8)
        ax.legend(fontsize=6, loc="lower left")
    fig.suptitle(caption, fontsize=8)
    return fig


def plot_f3c_fixed_point(fp: dict, alpha_z, seeds, caption: str):
    """F3c: the full Jacobian's spectrum at a nonzero fixed point (first seed with a root; one panel per
    α_z) with the theory edge from the root's own statistics (dashed); every panel's title lists each
    seed's max Re λ against its own edge."""
    fig, axes = plt.subplots(1, len(alpha_z), figsize=(4.0 * len(alpha_z), 3.6), squeeze=False)
    shown = next((s for s in seeds if fp[f"s{s}"]["found"]), None)
    for ax, az in zip(axes[0], alpha_z):
        if shown is None:
            ax.text(0.5, 0.5, "no fixed point found", ha="center", transform=ax.transAxes)
            continue
        d = fp[f"s{shown}"][float(az)]
        ev = d["eigs"]
        ax.plot(ev.real, ev.imag, ".", ms=2, color="C0", label=f"eig D(x*) at a fixed point (seed {shown})")
        ax.axvline(d["edge"], color="C3", ls="--", lw=1, label=r"theory $\lambda_e$ (the root's statistics)")
        ax.axvline(d["edge_population"], color="0.5", ls=":", lw=1, label=r"population $\lambda_e$ (static MF state)")
        ax.set_xlim(min(-1.2, ev.real.min()), max(0.3, ev.real.max() + 0.05))
        ax.set_xlabel(r"Re $\lambda$"); ax.set_ylabel(r"Im $\lambda$")
        rows = [f"s{s}: {fp[f's{s}'][float(az)]['max_re']:.3f} vs {fp[f's{s}'][float(az)]['edge']:.3f}"
                for s in seeds if fp[f"s{s}"]["found"]]
        ax.set_title(f"α_z = {az:g}: max Re λ vs λ_e\n" + ", ".join(rows), fontsize=7)
        ax.legend(fontsize=6, loc="lower left")
    fig.suptitle(caption, fontsize=8)
    return fig
