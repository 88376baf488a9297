"""One function per figure of the notebook (F1–F13). Each returns a matplotlib Figure.

Only aggregates are plotted: no participant ids, no recall texts.
"""
from __future__ import annotations

import numpy as np

from . import data as D
from .recall import cumulative_prec, serial_position, story_p_rec, words_serial_position
from .stats import linfit, quantile_bins, zscore
from .theory import random_list_law


def _plt():
    import matplotlib.pyplot as plt

    return plt


def _short(name: str) -> str:
    return name.replace("-scrambled", "-scr").replace("_v1-", "1-").replace("_v2-", "2-")


def fig_validation(va):
    """F1: P_rec per clause (mean human, min–max band of raters, GPT-4) and scatters."""
    plt = _plt()
    fig = plt.figure(figsize=(13, 7))
    gs = fig.add_gridspec(2, 4)
    ax = fig.add_subplot(gs[0, :])
    x = np.arange(1, len(va.human_mean) + 1)
    raters = np.array([va.prec[a] for a in ("a1", "a2", "a3")])
    ax.fill_between(x, raters.min(0), raters.max(0), color="0.8", label="3 raters (min–max)")
    ax.plot(x, va.human_mean, "k-o", ms=3, label="mean human")
    ax.plot(x, va.prec["gpt4"], "C3-s", ms=3, label="GPT-4")
    ax.set(xlabel="clause (fine44 segmentation)", ylabel="$P_{rec}$", title="A  validation set: 30 recalls")
    ax.legend(ncol=3)
    panels = [("gpt4", None, "B  GPT-4 vs mean human")] + [(a, b, f"C  {a} vs {b}") for a, b in (("a1", "a2"), ("a1", "a3"), ("a2", "a3"))]
    for k, (a, b, title) in enumerate(panels):
        ax = fig.add_subplot(gs[1, k])
        xs = va.human_mean if b is None else va.prec[a]
        ys = va.prec[a] if b is None else va.prec[b]
        ax.plot([0, 1], [0, 1], color="0.7", lw=1)
        ax.scatter(xs, ys, s=14)
        r = va.r_human["gpt4"] if b is None else va.r_rater[a + b]
        ax.set(title=f"{title}\nr = {r:.2f}", xlabel="mean human" if b is None else a, ylabel=a if b is None else b,
               xlim=(-0.05, 1.05), ylim=(-0.05, 1.05), aspect="equal")
    return fig


def fig_scorer_matrix(va):
    """F2: correlation matrix of P_rec between GPT-3, GPT-3.5, GPT-4 and the mean human."""
    plt = _plt()
    labels = ["GPT-3", "GPT-3.5", "GPT-4", "human"]
    vecs = [va.prec["gpt3"], va.prec["gpt35"], va.prec["gpt4"], va.human_mean]
    R = np.corrcoef(vecs)
    fig, ax = plt.subplots(figsize=(5, 4.3))
    im = ax.imshow(R, vmin=0, vmax=1, cmap="viridis")
    for i in range(4):
        for j in range(4):
            ax.text(j, i, f"{R[i, j]:.2f}", ha="center", va="center", color="w" if R[i, j] < 0.6 else "k")
    ax.set_xticks(range(4), labels)
    ax.set_yticks(range(4), labels)
    ax.set_title("inter-scorer r of $P_{rec}$ (44 clauses)")
    fig.colorbar(im, ax=ax, shrink=0.8)
    return fig


def fig_scaling(fits, table):
    """F3: (A) M vs L, (B) R vs L, (C) R vs M with √(1.5πM), intact fit points, scrambled and panic."""
    plt = _plt()
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.3))
    L, R, M = fits["L"], fits["R"], fits["M"]
    scr = table[table.scrambled]
    pan = table.loc[["panic"]]
    Lg = np.linspace(0, 140, 50)
    for ax, (x, y, yci, key, xl, yl) in zip(axes, [
            (L, M, fits["M_ci"], "M_vs_L", "L (clauses)", "M (retained clauses)"),
            (L, R, fits["R_ci"], "R_vs_L", "L (clauses)", "R (recalled clauses)"),
            (M, R, fits["R_ci"], "R_vs_M", "M", "R")]):
        f = fits[key].fit
        ax.errorbar(x, y, yerr=np.abs(yci.T - y), fmt="o", color="C0", label="intact (fit)")
        xs = scr["M"] if key == "R_vs_M" else scr["L"]
        ys = scr["M"] if key == "M_vs_L" else scr["R"]
        ax.plot(xs, ys, "s", color="C3", label="scrambled")
        px = pan["M"] if key == "R_vs_M" else pan["L"]
        py = pan["M"] if key == "M_vs_L" else pan["R"]
        ax.plot(px, py, "^", color="C2", label="panic (not fitted)")
        xg = np.linspace(0, max(x) * 1.05, 50)
        lo, hi = fits[key].slope_ci
        ax.plot(xg, f(xg), "C0-", label=f"{f.slope:.2f}x + {f.intercept:.2f}  (slope CI [{lo:.2f}, {hi:.2f}])")
        if key == "R_vs_M":
            ax.plot(xg, random_list_law(xg), "k--", label=r"$\sqrt{3\pi M/2}$")
        if key == "M_vs_L":
            ax.plot(Lg, Lg, ":", color="0.6", label="M = L")
        ax.set(xlabel=xl, ylabel=yl)
        ax.legend(fontsize=8)
    axes[0].set_title("A  recognition")
    axes[1].set_title("B  recall")
    axes[2].set_title("C  recall vs retained")
    return fig


def fig_rasters(intact, scrambled, words, position_of_scr):
    """F4: recall-order rasters (colour = position/L; columns = participants sorted by count)."""
    from .order import raster

    plt = _plt()
    fig, axes = plt.subplots(1, 4, figsize=(16, 4.8))
    imgs = [(raster(intact.scores_ordered, intact.L), f"A  {_short(intact.name)}"),
            (raster(words["rec_pos"], words["list_length"]), "B  128-word lists"),
            (raster(scrambled.scores_ordered, scrambled.L), f"C  {_short(scrambled.name)}\n(original order)"),
            (raster(scrambled.scores_ordered, scrambled.L, position_of_scr), "D  same, presentation order")]
    for k, (ax, (img, title)) in enumerate(zip(axes, imgs)):
        im = ax.imshow(img, aspect="auto", cmap="viridis", vmin=0, vmax=1, interpolation="nearest")
        ax.set(title=title, xlabel="participants (by recall count)")
        if k == 0:
            ax.set_ylabel("output position")
    fig.colorbar(im, ax=axes, label="clause position / L", shrink=0.8)
    return fig


def fig_phit_vs_prec(res, n_bins: int = 15):
    """F5: P_hit vs P_rec in quantile bins of P_rec, binomial error bars, clause-level fit."""
    plt = _plt()
    x, y, n = res["prec"], res["phit"], res["n_old"]
    order = np.argsort(x, kind="stable")
    groups = np.array_split(order, n_bins)
    bx = np.array([x[g].mean() for g in groups])
    hits = np.array([(y[g] * n[g]).sum() for g in groups])
    tot = np.array([n[g].sum() for g in groups])
    by = hits / tot
    err = np.sqrt(by * (1 - by) / tot)
    fig, ax = plt.subplots(figsize=(5.5, 4.3))
    ax.errorbar(bx, by, yerr=err, fmt="o", label=f"{n_bins} quantile bins")
    f = res["fit"]
    xg = np.linspace(0, 1, 20)
    lo, hi = res["r_ci"]
    ax.plot(xg, f(xg), "C3-", label=f"clause fit y = {f.slope:.2f}x + {f.intercept:.2f}\nr = {f.r:.2f}, 95% CI [{lo:.2f}, {hi:.2f}]")
    ax.set(xlabel="$P_{rec}$", ylabel="$P_{hit}$", ylim=(0.5, 1.02), title=f"{len(x)} clauses, intact stories")
    ax.legend(fontsize=8)
    return fig


def fig_dprime_trials(res):
    """F6: d′ per recognition trial with bootstrap 95% bands, coherent vs scrambled."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 4.3))
    for k, (label, r) in enumerate(res.items()):
        t = np.arange(1, len(r["dprime"]) + 1)
        ax.fill_between(t, r["band"][0], r["band"][1], color=f"C{k}", alpha=0.25)
        lo, hi = r["slope_ci"]
        ax.plot(t, r["dprime"], "o-", color=f"C{k}", label=f"{label}: slope {r['slope']:+.3f} [{lo:+.3f}, {hi:+.3f}]")
    ax.set(xlabel="trial", ylabel="d′", title="no output interference in recognition")
    ax.legend(fontsize=8)
    return fig


def fig_serial_position(stories, words):
    """F7: serial-position curves in presentation order, one panel per story length (intact solid,
    scrambled dashed, each story its own colour, legends below the data), and the 32-word lists."""
    plt = _plt()
    by_L: dict[int, list[str]] = {}
    for n in D.STORIES:
        by_L.setdefault(stories[n].L, []).append(n)
    Ls = sorted(by_L)
    ncol = 4
    nrow = int(np.ceil((len(Ls) + 1) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(15, 4.2 * nrow), squeeze=False)
    for k, L in enumerate(Ls):
        ax = axes.flat[k]
        for c, n in enumerate(by_L[L]):
            s = stories[n]
            y = serial_position(story_p_rec(s), s.scramble_map)
            ax.plot(np.arange(1, s.L + 1), y, "--" if s.scrambled else "-", color=f"C{c}", marker="o", ms=2.5,
                    lw=1.2, label=_short(n) + (" (presentation order)" if s.scrambled else ""))
        ax.set(title=f"L = {L}", xlabel="presentation position", ylabel="$P_{rec}$", ylim=(0, 1))
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=1, frameon=False)
    ax = axes.flat[len(Ls)]
    spc = words["serial_position_curve"]
    ax.plot(np.arange(1, len(spc) + 1), spc, "ko-", ms=3)
    ax.set(title="32-word random lists", xlabel="list position", ylabel="$P_{rec}$", ylim=(0, 1))
    for ax in list(axes.flat)[len(Ls) + 1:]:
        ax.axis("off")
    return fig


def fig_cumulative_prec(stories):
    """F8: fraction of clauses with P_rec > p, per condition: colour by length (one colour per L,
    from a sequential map), dashed = scrambled; the legend is outside the axes."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8.5, 4.5))
    Ls = sorted({stories[n].L for n in D.STORIES})
    cmap = plt.get_cmap("viridis")
    color = {L: cmap(k / max(len(Ls) - 1, 1) * 0.9) for k, L in enumerate(Ls)}
    for n in sorted(D.STORIES, key=lambda n: (stories[n].L, n)):
        s = stories[n]
        g, frac = cumulative_prec(story_p_rec(s))
        ax.plot(g, frac, "--" if s.scrambled else "-", lw=1.6, color=color[s.L], label=f"{_short(n)} (L={s.L})")
    ax.set(xlabel="p", ylabel="P($P_{rec}$ > p)", xlim=(0, 1), ylim=(0, 1.02))
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False)
    return fig


def fig_descrambled(res):
    """F9: descrambled P_rec curves (original order) and coherent-vs-scrambled scatter (C7)."""
    plt = _plt()
    fig, axes = plt.subplots(2, len(res), figsize=(4 * len(res), 7))
    for k, (L, r) in enumerate(res.items()):
        x = np.arange(1, L + 1)
        axes[0, k].plot(x, r["intact"], "C0-", lw=1, label="intact")
        axes[0, k].plot(x, r["scrambled"], "C3-", lw=1, label="scrambled (descrambled)")
        axes[0, k].set(title=f"L = {L}", xlabel="original clause", ylabel="$P_{rec}$")
        axes[1, k].scatter(r["intact"], r["scrambled"], s=10)
        axes[1, k].set(xlabel="$P_{rec}$ intact", ylabel="$P_{rec}$ scrambled", title=f"r = {r['r']:.2f}")
    axes[0, 0].legend(fontsize=7)
    return fig


def fig_similarity(stored, minilm=None):
    """F10: similarity-to-whole: per-story scatter (te3small), pooled z-scores (3 OpenAI models
    and MiniLM if given), and r vs L per model."""
    plt = _plt()
    per = stored["per_story"]
    names = sorted(per, key=lambda n: per[n]["L"])
    fig = plt.figure(figsize=(15, 8))
    gs = fig.add_gridspec(2, 6)
    for k, n in enumerate(names):
        ax = fig.add_subplot(gs[k // 4, k % 4])
        ax.scatter(per[n]["sim"], per[n]["prec"], s=8)
        ax.set_title(f"{_short(n)} (L={per[n]['L']}): r={per[n]['r']:.2f}", fontsize=9)
        if k % 4 == 0:
            ax.set_ylabel("$P_{rec}$")
        if k // 4 == 1:
            ax.set_xlabel("cos(clause, narrative)")
    ax = fig.add_subplot(gs[0, 4:])
    models = dict(stored["pooled"])
    for j, (m, r) in enumerate(models.items()):
        zs = np.concatenate([zscore(s) for s in r["sim"]])
        zp = np.concatenate([zscore(p) for p in r["prec"]])
        ax.scatter(zs, zp, s=4, alpha=0.5, color=f"C{j}", label=f"{m}: r={r['r_pooled']:.2f}")
    if minilm is not None:
        m = minilm["chunked"]
        zs = np.concatenate([zscore(s) for s in m["sim"]])
        zp = np.concatenate([zscore(p) for p in m["prec"]])
        ax.scatter(zs, zp, s=4, alpha=0.5, color="k", label=f"MiniLM (chunk-mean): r={m['r_pooled']:.2f}")
    ax.set(xlabel="z(similarity to whole)", ylabel="z($P_{rec}$)", title="pooled, z-scored within story")
    ax.legend(fontsize=7, markerscale=3)
    ax = fig.add_subplot(gs[1, 4:])
    Ls = {n: per[n]["L"] for n in per}
    for j, (m, r) in enumerate(models.items()):
        ns = sorted(r["per_story"], key=Ls.get)
        ax.plot([Ls[n] for n in ns], [r["per_story"][n] for n in ns], "o", color=f"C{j}", label=m, alpha=0.8)
    if minilm is not None:
        for mode, mk in (("truncated", "x"), ("chunked", "+")):
            ns = sorted(minilm[mode]["per_story"], key=Ls.get)
            ax.plot([Ls[n] for n in ns], [minilm[mode]["per_story"][n] for n in ns], mk, color="k", label=f"MiniLM {mode}")
    ax.axhline(0, color="0.7", lw=1)
    ax.set(xlabel="L", ylabel="r(similarity, $P_{rec}$)")
    ax.legend(fontsize=7)
    return fig


def fig_summarisation(table):
    """F11: C vs R, and C, R vs M, intact and scrambled."""
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.3))
    for scr, mk, lab in ((False, "o", "intact"), (True, "s", "scrambled")):
        t = table[table.scrambled == scr]
        axes[0].plot(t.R, t.C, mk, label=lab)
        axes[1].plot(t.M, t.R, mk, color="C0", label=f"R, {lab}")
        axes[1].plot(t.M, t.C, mk, color="C1", label=f"C, {lab}")
    g = np.linspace(0, table.R.max() * 1.05, 10)
    axes[0].plot(g, g, ":", color="0.6", label="C = R")
    axes[0].set(xlabel="R (recalled clauses)", ylabel="C (sentences in the recall)", title="A  summarisation: C < R for long stories")
    axes[1].set(xlabel="M", ylabel="R or C", title="B  recall length vs retained")
    axes[0].legend(fontsize=8)
    axes[1].legend(fontsize=8)
    return fig


def fig_walk(walk, table=None):
    """F12: random-graph walk R vs M (mean ± SEM) with √(1.5πM), and the data's (M, R)."""
    plt = _plt()
    Ms = np.array(sorted(walk))
    R = np.array([walk[m]["R"] for m in Ms])
    se = np.array([walk[m]["sem"] for m in Ms])
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.3))
    g = np.geomspace(Ms.min() * 0.8 if table is None else 8, Ms.max() * 1.2, 50)
    axes[0].errorbar(Ms, R, yerr=se, fmt="o", capsize=3, label="walk simulation (± SEM)")
    axes[0].plot(g, random_list_law(g), "k--", label=r"$\sqrt{3\pi M/2}$")
    if table is not None:
        t = table[~table.scrambled]
        axes[0].plot(t.M, t.R, "s", color="C2", label="data, intact")
        t = table[table.scrambled]
        axes[0].plot(t.M, t.R, "s", color="C3", label="data, scrambled")
    axes[0].set(xscale="log", yscale="log", xlabel="M", ylabel="R", title="A  recall walk on a random graph")
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    axes[0].legend(fontsize=8, loc="upper left")
    axes[1].errorbar(Ms, R / random_list_law(Ms), yerr=se / random_list_law(Ms), fmt="o-", capsize=3)
    axes[1].axhline(1, color="k", ls="--")
    axes[1].set(xscale="log", xlabel="M", ylabel=r"$R_{sim}/\sqrt{3\pi M/2}$ (± SEM)", title="B  finite-size approach to the law")
    ticks = [m for m in (8, 16, 32, 64, 128, 256, 512, 1024) if g.min() <= m <= g.max()]
    for ax in axes:  # plain numbers at powers of 2 on the log axes, no minor labels
        ax.set_xticks(ticks)
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_formatter(NullFormatter())
    lo, hi = axes[0].get_ylim()
    axes[0].set_yticks([v for v in (2, 3, 5, 10, 20, 30, 50, 100) if lo <= v <= hi])
    axes[0].yaxis.set_major_formatter(ScalarFormatter())
    axes[0].yaxis.set_minor_formatter(NullFormatter())
    return fig


def fig_rtm(K, D_, Ns, C_theory, table, logs, t_grid, density):
    """F13: RTM expected recall length C(N, D) vs N with the data's C vs L; compression law."""
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.3))
    axes[0].plot(Ns, C_theory, "k-", label=f"RTM C(N, D), K={K}, D={D_}")
    axes[0].axhline(K ** (D_ - 1), color="0.6", ls=":", label=f"saturation $K^{{D-1}}$ = {K ** (D_ - 1)}")
    if table is not None:
        t = table[~table.scrambled]
        axes[0].plot(t.L, t.C, "o", color="C1", label="data C (intact)")
        axes[0].plot(t.L, t.R, "s", color="C0", label="data R (intact)")
    axes[0].set(xlabel="N = L", ylabel="recall length", title="A  random tree model (optional)")
    axes[0].legend(fontsize=8)
    axes[1].hist(-logs, bins=60, density=True, alpha=0.5, label="Monte Carlo")
    axes[1].plot(t_grid, density, "k-", label="Beta-product law")
    axes[1].set(xlabel=r"$-\ln s_D$", ylabel="density", title="B  compression at depth D (N → ∞)")
    axes[1].legend(fontsize=8)
    return fig


def fig_story_explore(stories, name):
    """Explore: recall-order raster of one intact story and its per-clause P_rec (with the scrambled
    version in original order when it exists)."""
    from .order import raster

    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
    s = stories[name]
    axes[0].imshow(raster(s.scores_ordered, s.L), aspect="auto", vmin=0, vmax=1, interpolation="nearest")
    axes[0].set(title=f"{name}: recall order", xlabel="participants (by recall count)", ylabel="output position")
    axes[1].plot(np.arange(1, s.L + 1), story_p_rec(s), label="intact")
    if f"{name}-scrambled" in stories:
        axes[1].plot(np.arange(1, s.L + 1), story_p_rec(stories[f"{name}-scrambled"]), label="scrambled (original order)")
    axes[1].set(xlabel="clause (original order)", ylabel="$P_{rec}$", ylim=(0, 1))
    axes[1].legend()
    return fig


def fig_walk_histogram(R, M):
    """Explore: distribution of the walk's R for one M against √(3πM/2)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.8))
    ax.hist(R, bins=30, alpha=0.7)
    law = random_list_law(M)
    ax.axvline(np.mean(R), color="C1", label=f"mean R = {np.mean(R):.1f}")
    ax.axvline(law, color="k", ls="--", label=f"√(3πM/2) = {law:.1f}")
    ax.set(xlabel="R (distinct items recalled)", ylabel="walks", title=f"M = {M}, {len(R)} walks")
    ax.legend()
    return fig


def fig_delta_tau(res):
    """F4b: Δτ = τ_orig − τ_pres per scrambled story and pooled, mean with participant-bootstrap 95%
    CI; τ(map, identity) of each scramble map printed beside it (the confound)."""
    plt = _plt()
    rows = list(res["per_story"].values()) + [res["pooled"]]
    fig, ax = plt.subplots(figsize=(7, 3.6))
    y = np.arange(len(rows))[::-1]
    for yi, r in zip(y, rows):
        shows = r.ci[0] > 0
        color = "C0" if shows else "C3"
        ax.errorbar(r.delta, yi, xerr=[[r.delta - r.ci[0]], [r.ci[1] - r.delta]], fmt="D" if r.name == "pooled" else "o",
                    color=color, capsize=4, ms=7)
        lab = f"n={r.n}" + (f", τ(map)={res['map_tau'][r.name]:+.2f}" if r.name in res["map_tau"] else "")
        ax.annotate(lab, (max(r.ci[1], 0) + 0.02, yi), va="center", fontsize=8)
    ax.axvline(0, color="k", lw=1)
    ax.set_yticks(y, [_short(r.name) if r.name != "pooled" else "pooled (4 stories)" for r in rows])
    ax.set_xlim(min(-0.3, min(r.ci[0] for r in rows) - 0.05), 0.75)
    ax.set(xlabel=r"$\Delta\tau = \tau_{orig} - \tau_{pres}$ (mean, 95% CI)",
           title="Scrambled stories: closer to the original (> 0) or the presented order (< 0)?")
    return fig
