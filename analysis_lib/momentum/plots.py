"""Figures of notebook 04 (one function per figure; each returns the matplotlib Figure)."""
from __future__ import annotations

import numpy as np

from . import theory


def _fig(ncols=1, w=4.6, h=3.6):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, ncols, figsize=(w * ncols, h), squeeze=False)
    return fig, axes[0]


def _tidy(fig):
    """Drop minor tick labels on log axes spanning >= 0.8 decades (they overlap at these sizes);
    shorter log axes keep them, since they may have no major tick at all."""
    from matplotlib.ticker import NullFormatter

    for ax in fig.axes:
        for axis, scale, lim in ((ax.xaxis, ax.get_xscale(), ax.get_xlim()), (ax.yaxis, ax.get_yscale(), ax.get_ylim())):
            if scale == "log" and min(lim) > 0 and np.log10(max(lim) / min(lim)) >= 0.8:
                axis.set_minor_formatter(NullFormatter())
    return fig


def plot_variance(res):
    """F1: (1−β)·Var vs 1−β, simulation (markers) and exact M2 (lines); dashed: η/(2λ) (ηλ ≪ 1)."""
    fig, (ax,) = _fig()
    omb = np.asarray(res.params.one_minus_betas)
    fine = np.geomspace(omb.min(), 1, 200)
    for a, lam in enumerate(res.params.lams):
        line, = ax.plot(fine, fine * theory.ar2_stationary_variance(res.params.eta, lam, 1 - fine), lw=1.5,
                        label=f"exact M2, λ={lam:g}")
        ax.errorbar(omb, omb * res.simulated[a], yerr=2 * omb * res.stderr[a], fmt="o", color=line.get_color(), ms=4,
                    label=f"simulation, λ={lam:g}")
        ax.axhline(res.params.eta / (2 * lam), color=line.get_color(), ls=":", lw=1)
    ax.set_xscale("log")
    ax.set_xlabel(r"$1-\beta$")
    ax.set_ylabel(r"$(1-\beta)\,\mathrm{Var}\,x$")
    ax.set_title(rf"Var $\approx \eta s^2/(2\lambda(1-\beta))$, η={res.params.eta:g}")
    ax.legend(fontsize=8)
    return _tidy(fig)


def plot_collapse(res):
    """F2: mean s vs flow time t = kη²/(1−β)² for all (η, β), with the closed-form flow."""
    fig, (ax,) = _fig(w=5.2)
    p = res.params
    t = np.linspace(0, p.t_end, 200)
    ax.plot(t, theory.toy_flow_s(t, p.s0, p.eps), "k-", lw=2.5, alpha=0.35, label="flow (M4)")
    for (eta, beta), tc, sc in zip(p.configs, res.t, res.mean_s):
        ax.plot(tc, sc, lw=1.2, label=f"η={eta:g}, β={beta:g}")
    ax.set_xlabel(r"$t = k\,\eta^2/(1-\beta)^2$")
    ax.set_ylabel(r"mean $s = \frac{1}{2}\ln(u/v)$")
    ax.set_title(f"Drift along Γ collapses in flow time (ε={p.eps:g})")
    ax.legend(fontsize=7, ncol=2)
    return fig


def plot_toy_grid(res, fits):
    """F3: (a) T_occ vs 1−β per η with guide lines; (b) 1−β* vs η; (c) ε scan at η = 0.02."""
    fig, (a, b, c) = _fig(3, w=4.7, h=3.9)
    p = res.params
    x = res.x
    st = np.asarray(p.settings, float)
    ri = sorted(res.rows(eps=fits.eta_scan_eps), key=lambda i: -st[i, 0])
    colors = __import__("matplotlib").colormaps["viridis"](np.linspace(0, 0.9, len(ri)))
    for col, i in zip(colors, ri):
        eta, eps = st[i]
        T = res.T[i]
        cens = T > res.horizons[i] / 2
        div = res.diverged[i] > 0
        a.plot(x, T, "-", color=col, lw=1, label=f"η={eta:g}")
        a.plot(x[~div], T[~div], "o", color=col, ms=3)
        a.plot(x[div], T[div], "x", color=col, ms=5)
        a.plot(x, theory.toy_flow_steps(p.thr / 2, p.s0, eta, 1 - x, eps), ":", color=col, lw=1)
        xm, xk = fits.gamma_argmin.y, fits.gamma_knee.y
        j = int(np.flatnonzero(np.isclose(fits.etas, eta))[0])
        if np.isfinite(xk[j]):
            a.axvline(xk[j], color=col, lw=0.6, alpha=0.5)
    a.plot(x, 2 / x, "k--", lw=1, label=r"$\tau_1 = 2/(1-\beta)$ (slope −1)")
    a.set_xscale("log"), a.set_yscale("log")
    a.set_ylim(10, None)
    a.set_xlabel(r"$1-\beta$"), a.set_ylabel(r"$T_\mathrm{occ}$ (steps)")
    a.set_title("(a) dotted: flow line ∝ (1−β)², x: some chains diverged", fontsize=9)
    a.legend(fontsize=7)
    e = fits.etas
    for fit, mk, name in ((fits.gamma_argmin, "o", "argmin"), (fits.gamma_knee, "s", "knee")):
        b.plot(e, fit.y, mk, label=f"{name}: slope {fit.slope:.3f} [{fit.ci[0]:.2f}, {fit.ci[1]:.2f}]")
    ee = np.geomspace(e.min(), e.max(), 50)
    b.plot(ee, theory.toy_crossing_one_minus_beta(ee, st[ri[0], 1], p.s0, p.thr / 2), "k--", lw=1,
           label=r"τ1 = τ2 crossing ∝ $(\eta\varepsilon)^{2/3}$")
    b.set_xscale("log"), b.set_yscale("log")
    b.set_xlabel(r"$\eta$"), b.set_ylabel(r"$1-\beta^*$")
    b.set_title(f"(b) optimum vs η (ε={st[ri[0], 1]:g})", fontsize=9)
    b.legend(fontsize=7)
    ev = fits.eps_values
    c.plot(ev, fits.eps_exponent.y, "s", label=f"knee: slope {fits.eps_exponent.slope:.3f}")
    c.plot(ev, fits.eps_exponent.y[0] * (ev / ev[0]) ** (2 / 3), "k--", lw=1, label=r"$\propto \varepsilon^{2/3}$")
    c2 = c.twinx()
    c2.plot(ev, fits.tstar_eps.y, "o", color="C3", label=f"T*: slope {fits.tstar_eps.slope:.3f}")
    c2.set_yscale("log")
    c2.set_ylabel("T* (steps)", color="C3")
    c.set_xscale("log"), c.set_yscale("log")
    c.set_xlabel(r"$\varepsilon$ (η = 0.02)"), c.set_ylabel(r"$1-\beta^*$")
    c.set_title("(c) ε scan", fontsize=9)
    c.legend(fontsize=7, loc="upper left"), c2.legend(fontsize=7, loc="lower right")
    return _tidy(fig)


def plot_speedup(etas, T_sgd, T_star, eps):
    """F4: T(β=0) and T* vs η with guide lines ∝ η^{-2} and ∝ η^{-2/3} (through the first point)."""
    fig, (ax,) = _fig()
    etas, T_sgd, T_star = (np.asarray(v, float) for v in (etas, T_sgd, T_star))
    ax.plot(etas, T_sgd, "o", ms=7, label="plain SGD (β=0)")
    ax.plot(etas, T_star, "s", ms=6, label="optimal momentum, T*")
    ee = np.geomspace(min(etas.min(), 0.006), etas.max(), 50)
    ax.plot(ee, T_sgd[0] * (ee / etas[0]) ** -2, "k:", lw=1, label=r"$\propto \eta^{-2}$")
    ax.plot(ee, T_star[0] * (ee / etas[0]) ** (-2 / 3), "k--", lw=1, label=r"$\propto \eta^{-2/3}$")
    ax.set_xscale("log"), ax.set_yscale("log")
    ax.set_xlabel(r"$\eta$"), ax.set_ylabel(r"$T_\mathrm{occ}$ (steps)")
    ax.set_title(f"Speed-up over SGD (ε={eps:g})")
    ax.legend(fontsize=8)
    return _tidy(fig)


def plot_ms_grid(res, fits):
    """F5: matrix sensing T_occ vs 1−β per η with knees, and the knee/argmin/T_min fits vs η."""
    fig, (a, b) = _fig(2, w=4.8)
    x = res.x
    etas = np.asarray(res.params.etas, float)
    for i, eta in enumerate(etas):
        line, = a.plot(x, res.T[i], "o-", ms=3, lw=1, label=f"η={eta:g}")
        if np.isfinite(fits.gamma_knee.y[i]):
            a.axvline(fits.gamma_knee.y[i], color=line.get_color(), lw=0.8, ls="--")
    a.axhline(res.params.horizon / 2, color="grey", lw=0.8, ls=":", label="H/2 (censoring)")
    a.set_xscale("log"), a.set_yscale("log")
    a.set_xlabel(r"$1-\beta$"), a.set_ylabel(r"$T_\mathrm{occ}$ (error ≥ thr)")
    a.set_title(f"(a) matrix sensing, ε={res.params.eps:g}, dashed: knee", fontsize=9)
    a.legend(fontsize=7)
    for fit, mk, name in ((fits.gamma_knee, "s", "knee"), (fits.gamma_argmin, "o", "argmin")):
        b.plot(etas, fit.y, mk, label=f"{name}: slope {fit.slope:.2f} [{fit.ci[0]:.2f}, {fit.ci[1]:.2f}]")
    ee = np.geomspace(etas.min(), etas.max(), 50)
    b.plot(ee, fits.knee_prefactor * ee ** (2 / 3), "k--", lw=1, label=rf"${fits.knee_prefactor:.3g}\,\eta^{{2/3}}$")
    b.set_xscale("log"), b.set_yscale("log")
    b.set_xlabel(r"$\eta$"), b.set_ylabel(r"$1-\beta$ at the optimum")
    b.set_title(f"(b) T_min slope {fits.tmin.slope:.2f} (theory −2/3)", fontsize=9)
    b.legend(fontsize=7)
    return _tidy(fig)


def plot_ms_curves(curves, reference_trace, thr):
    """F6: error and Tr ∇²L (= Tr GN near Γ) vs steps (log time axis; the start is drawn at step 1):
    median and IQR over seeds per setting."""
    fig, (a, b) = _fig(2, w=4.8)
    steps = np.maximum(curves.steps, 1)
    for j, lab in enumerate(curves.labels):
        for ax, data in ((a, curves.error[:, j]), (b, curves.trace_gn[:, j])):
            med = np.nanmedian(data, axis=1)
            lo, hi = np.nanpercentile(data, [25, 75], axis=1)
            line, = ax.plot(steps, med, lw=1.3, label=lab)
            ax.fill_between(steps, lo, hi, color=line.get_color(), alpha=0.2)
    a.set_xscale("log"), b.set_xscale("log")
    a.axhline(thr, color="grey", ls=":", lw=1, label="threshold")
    a.set_yscale("log")
    a.set_xlabel("step"), a.set_ylabel(r"$\|UU^\top - X^*\|_F$")
    a.set_title("(a) test error: faster at the knee, higher floor past it", fontsize=9)
    a.legend(fontsize=7)
    b.axhline(reference_trace, color="k", ls="--", lw=1, label=r"$4u^\top M u$ (at $X^*$)")
    b.set_xlabel("step"), b.set_ylabel(r"Tr $\nabla^2 L$")
    b.set_title("(b) implicit trace minimisation", fontsize=9)
    b.legend(fontsize=7)
    return _tidy(fig)


def _log_edges(v):
    """Cell edges of a sorted positive grid, at the geometric midpoints (ends mirrored)."""
    lv = np.log(np.asarray(v, float))
    if len(lv) == 1:
        return np.exp(lv[0] + np.array([-0.5, 0.5]))
    mid = (lv[1:] + lv[:-1]) / 2
    return np.exp(np.concatenate([[2 * lv[0] - mid[0]], mid, [2 * lv[-1] - mid[-1]]]))


def plot_ms_heatmap(res, fits, caption: str | None = None):
    """F8: matrix-sensing T_occ(η, 1−β) as a heat map (log colour scale, seed means; cells censored
    at their row's horizon, T > H(η)/2, dotted) with the knees, the fitted line 1−β = C η^{2/3} and the
    γ = 1 alternative 1−β = C₁ η (both prefactors fitted to the knees, slopes fixed)."""
    from matplotlib.colors import LogNorm

    fig, (ax,) = _fig(w=5.4, h=4.0)
    etas, x = np.asarray(res.params.etas, float), res.x
    order = np.argsort(etas)
    m = ax.pcolormesh(_log_edges(etas[order]), _log_edges(x), res.T[order].T, norm=LogNorm(), shading="flat",
                      cmap="viridis")
    fig.colorbar(m, ax=ax, label=r"$T_\mathrm{occ}$ (seed mean)")
    cens = res.T > 0.5 * np.asarray(res.horizons, float)[:, None]
    ie, ib = np.nonzero(cens)
    ax.plot(etas[ie], x[ib], ".", color="0.85", ms=2, label="censored (T > H/2)")
    ok = np.isfinite(fits.gamma_knee.y)
    ax.plot(etas[ok], fits.gamma_knee.y[ok], "ws", ms=5, mec="k", label=f"knee (slope {fits.gamma_knee.slope:.2f})")
    ee = np.geomspace(etas.min(), etas.max(), 50)
    ax.plot(ee, fits.knee_prefactor * ee ** (2 / 3), "w--", lw=1.2, label=rf"${fits.knee_prefactor:.3g}\,\eta^{{2/3}}$")
    c1 = fits.knee_prefactor_linear
    if np.isfinite(c1):
        ax.plot(ee, c1 * ee, "r:", lw=1.4, label=rf"${c1:.3g}\,\eta$ (γ = 1)")
    ax.set_xscale("log"), ax.set_yscale("log"), ax.set_xlabel(r"$\eta$"), ax.set_ylabel(r"$1-\beta$")
    p = res.params
    title = f"matrix sensing d={p.d}, r={p.r}, n={p.n}, ε={p.eps:g}, {p.n_seeds} seeds"
    ax.set_title(title if caption is None else f"{title}\n{caption}", fontsize=8)
    ax.legend(fontsize=6.5, loc="lower right")
    return _tidy(fig)


def plot_ts(res):
    """F7: teacher–student Tr GN vs steps per 1−β (mean over seeds)."""
    fig, (ax,) = _fig(w=5)
    for j, omb in enumerate(res.params.one_minus_betas):
        ax.plot(res.steps, res.trace_gn[:, j].mean(-1), lw=1.3, label=f"1−β={omb:g}")
    ax.set_xlabel("step"), ax.set_ylabel("Tr GN")
    ax.set_yscale("log")
    ax.set_title(f"Teacher–student, η={res.params.eta:g}, ε={res.params.eps:g}")
    ax.legend(fontsize=8)
    return _tidy(fig)


def plot_classifier(grid):
    """F9: Tr GN and test accuracy vs steps (per β at the smallest η); optimum 1−β vs η."""
    fig, (a, b, c) = _fig(3, w=4.6)
    etas, omb = np.asarray(grid.etas), np.asarray(grid.one_minus_betas)
    for j, o in enumerate(omb):
        a.plot(grid.steps, grid.trace_gn[:, 0, j], lw=1, label=f"1−β={o:.3g}")
        b.plot(grid.steps, grid.test_acc[:, 0, j], lw=1)
    a.set_yscale("log"), a.set_xlabel("step"), a.set_ylabel("Tr GN (Hutchinson)")
    a.set_title(f"(a) η={etas[0]:g}", fontsize=9), a.legend(fontsize=6)
    b.set_xlabel("step"), b.set_ylabel("test accuracy")
    c.plot(etas, grid.knee_omb, "s", label="Tr GN knee/argmin")
    c.plot(etas, grid.best_acc_omb, "o", label="best test accuracy")
    c.plot(etas, grid.knee_omb[0] * (etas / etas[0]) ** (2 / 3), "k--", lw=1, label=r"$\propto\eta^{2/3}$")
    c.set_xscale("log"), c.set_yscale("log"), c.set_xlabel(r"$\eta$"), c.set_ylabel(r"$1-\beta$")
    c.legend(fontsize=7)
    return _tidy(fig)


def plot_realnet(res, fits, title: str = "digits tanh net"):
    """F9 (issue 18): (a) T_occ vs 1−β for every η (seed mean, knees marked, diverged cells as ×,
    H/2 censoring marks); (b) knee 1−β* vs η with its bootstrap CI and the η^{2/3} and η^{1}
    guides through the geometric centre of the knees; (c) η/(1−β*) per knee (flat ⇒ instability
    edge, slope 1/3 ⇒ γ = 2/3); (d) Tr GN vs steps at the largest η (log time axis)."""
    fig, (a, b, c, d) = _fig(4, w=4.0, h=3.5)
    x, etas = res.x, res.etas
    for i, eta in enumerate(etas):
        line, = a.plot(x, res.T[i], "o-", ms=3, lw=1, label=f"η={eta:.3g}")
        col = line.get_color()
        a.plot(x[-1] * 1.3, res.horizons[i] / 2, "<", color=col, ms=4)
        div = res.diverged[i].mean(-1) > 0
        if div.any():
            a.plot(x[div], res.T[i][div], "x", color="k", ms=6)
        if np.isfinite(fits.knees[i]):
            a.axvline(fits.knees[i], color=col, lw=0.8, ls="--")
    a.set_xscale("log"), a.set_yscale("log")
    a.set_xlabel(r"$1-\beta$"), a.set_ylabel(r"$T_\mathrm{occ}$ (Tr GN ≥ θ·Tr GN$_0$)")
    a.set_title(f"(a) {title}: dashed knees, ◁ H/2, × diverged", fontsize=8)
    a.legend(fontsize=6)
    ok = np.isfinite(fits.knees)
    yerr = np.abs(fits.knees_ci.T - fits.knees)
    b.errorbar(etas[ok], fits.knees[ok], yerr=yerr[:, ok], fmt="s", ms=4, capsize=2,
               label=f"knee: slope {fits.gamma:.2f} [{fits.gamma_ci[0]:.2f}, {fits.gamma_ci[1]:.2f}]")
    if ok.sum():
        le, lk = np.mean(np.log(etas[ok])), np.mean(np.log(fits.knees[ok]))
        ee = np.geomspace(etas.min(), etas.max(), 50)
        for g, ls in ((2 / 3, "k--"), (1.0, "r:")):
            b.plot(ee, np.exp(lk + g * (np.log(ee) - le)), ls, lw=1, label=rf"$\propto\eta^{{{'2/3' if g < 1 else '1'}}}$")
    b.set_xscale("log"), b.set_yscale("log"), b.set_xlabel(r"$\eta$"), b.set_ylabel(r"knee $1-\beta^*$")
    b.set_title("(b) the exponent γ", fontsize=8), b.legend(fontsize=6)
    c.plot(etas, fits.eta_eff, "o-", label=f"slope {fits.eta_eff_slope:.2f} (1−γ)")
    c.set_xscale("log"), c.set_yscale("log"), c.set_xlabel(r"$\eta$"), c.set_ylabel(r"$\eta/(1-\beta^*)$")
    c.set_title("(c) effective rate at the knee: flat ⇒ γ = 1", fontsize=8), c.legend(fontsize=6)
    i0 = 0
    steps = res.curve_steps[i0]
    for j in range(0, len(x), max(1, len(x) // 6)):
        d.plot(np.maximum(steps, 1), np.nanmean(res.trace_curve[i0, j], axis=0), lw=1, label=f"1−β={x[j]:.2g}")
    d.axhline(res.params.thr_frac * res.phase1_trace, color="grey", ls=":", lw=1, label="threshold")
    d.set_xscale("log"), d.set_xlabel("step"), d.set_ylabel("Tr GN")
    d.set_title(f"(d) η={etas[i0]:.3g}", fontsize=8), d.legend(fontsize=6)
    return _tidy(fig)


def plot_generalisation(starts: dict, budget_factor: float = 4.0):
    """F9c (issue 18 item 4): test accuracy at the budget B(η) = budget_factor·T_min(η) for each phase-1
    start. `starts` maps a label to (RealNetResult, RealNetFits, `realnet.accuracy_at_budget` dict).
    One panel per start: accuracy at the budget vs 1−β per η (seed means; the knee as a square, the
    phase-1 accuracy dashed); last panel: the seed-mean accuracy curve over steps at the largest η,
    at the knee cell and the cell 3× right of it, per start (the budget as a dotted line)."""
    fig, axes = _fig(len(starts) + 1, w=4.2, h=3.5)
    c = axes[-1]
    for k, (ax, (label, (res, fits, gen))) in enumerate(zip(axes, starts.items())):
        x = res.x
        for i, eta in enumerate(res.etas):
            if not np.isfinite(gen["budget"][i]):
                continue
            t = min(int(np.searchsorted(res.curve_steps[i], gen["budget"][i])), res.curve_steps.shape[1] - 1)
            mean = np.nanmean(res.acc_curve[i, :, :, t], axis=-1)
            line, = ax.plot(x, mean, "o-", ms=3, lw=1, label=f"η={eta:.3g}")
            if np.isfinite(fits.knees[i]):
                j = int(np.argmin(np.abs(np.log(x / fits.knees[i]))))
                ax.plot(x[j], mean[j], "s", ms=7, color=line.get_color(), mec="k")
        ax.axhline(gen["start"], color="0.4", ls="--", lw=1, label="phase-1 start")
        ax.set_xscale("log"), ax.set_xlabel("1−β"), ax.set_ylabel(f"test accuracy at {budget_factor:g} T_min(η)")
        ax.set_title(f"({'abcdef'[k]}) {label}", fontsize=9)
        ax.legend(fontsize=6)
        i = 0  # the largest η
        if np.isfinite(fits.knees[i]):
            for mult, ls in ((1.0, "-"), (3.0, ":")):
                j = int(np.argmin(np.abs(np.log(x / (mult * fits.knees[i])))))
                c.plot(res.curve_steps[i], np.nanmean(res.acc_curve[i, j], axis=0), ls=ls, color=f"C{k}",
                       label=f"{label}: 1−β={x[j]:.2g} ({'knee' if mult == 1 else '3× knee'})")
            c.axvline(gen["budget"][i], color=f"C{k}", ls=":", lw=0.8)
    c.set_xscale("symlog", linthresh=100), c.set_xlabel("step"), c.set_ylabel("test accuracy")
    c.set_title(f"({'abcdef'[len(starts)]}) accuracy vs step at η = {max(res.etas):.3g}", fontsize=9), c.legend(fontsize=6)
    return _tidy(fig)
