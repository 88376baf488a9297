"""Explore widgets of notebook 04 (exploration only; every result also appears in a static cell)."""
from __future__ import annotations

import numpy as np

from . import theory
from .dynamics import Record, sgdm_label_noise
from .models import ToyUV


def toy_trajectory(eta: float, one_minus_beta: float, eps: float, n_chains: int = 32, t_end: float = 16.0,
                   s0: float = float(np.log(3.0)), max_steps: int = 40_000, seed: int = 0):
    """Mean s(k) of a few toy chains (cheap enough to redraw live): returns (flow time t, mean s, steps)."""
    toy = ToyUV()
    k_end = int(min(max_steps, max(50, theory.steps_for_flow_time(t_end, eta, 1 - one_minus_beta))))
    every = max(1, k_end // 200)
    k_end -= k_end % every
    run = sgdm_label_noise(toy, toy.on_manifold(s0), eta, 1 - one_minus_beta, eps, k_end, every=every,
                           noise_keys=np.arange(n_chains), seed=seed, observers={"s": Record(toy.s)})
    k, s = run.observed["s"]
    return theory.flow_time(k, eta, 1 - one_minus_beta), np.nanmean(s, axis=1), k


def toy_explorer(grid=None, fits=None, s0: float = float(np.log(3.0))):
    """Sliders on η, 1−β, ε: toy trajectory along Γ vs the flow (left), τ1 and τ2 vs 1−β with the
    current point and, when given, the precomputed F3 curve of the nearest η (right)."""
    import ipywidgets as w
    import matplotlib.pyplot as plt
    from IPython.display import display

    eta_s = w.FloatLogSlider(value=0.02, base=10, min=-3, max=-1, step=0.05, description="η")
    omb_s = w.FloatLogSlider(value=0.05, base=10, min=-3, max=0, step=0.05, description="1−β")
    eps_s = w.FloatLogSlider(value=0.1, base=10, min=-1.6, max=-0.6, step=0.05, description="ε")
    out = w.Output()

    def redraw(*_):
        eta, omb, eps = eta_s.value, min(omb_s.value, 0.999999), eps_s.value
        t, s, k = toy_trajectory(eta, omb, eps, s0=s0)
        with out:
            out.clear_output(wait=True)
            fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.6))
            tt = np.linspace(0, max(t[-1], 1e-9), 200)
            a.plot(tt, theory.toy_flow_s(tt, s0, eps), "k-", alpha=0.4, lw=2.5, label="flow (M4)")
            a.plot(t, s, label="simulation (mean of 32 chains)")
            a.set_xlabel("t = kη²/(1−β)²"), a.set_ylabel("mean s"), a.legend(fontsize=8)
            x = np.geomspace(1e-3, 1, 200)
            b.plot(x, theory.tau1(1 - x), "C0", label="τ1 = 2/(1−β)")
            b.plot(x, theory.toy_flow_steps(0.1, s0, eta, 1 - x, eps), "C1", label="τ2 (flow line)")
            b.axvline(theory.toy_crossing_one_minus_beta(eta, eps, s0, 0.1), color="k", ls="--", lw=1,
                      label="crossing ∝ (ηε)^{2/3}")
            b.axvline(omb, color="C3", lw=1.5, label="current 1−β")
            if grid is not None:
                st = np.asarray(grid.params.settings, float)
                i = int(np.argmin(np.abs(np.log(st[:, 0] / eta)) + 10 * np.abs(np.log(st[:, 1] / eps))))
                b.plot(grid.x, grid.T[i], "o-", ms=3, color="grey", label=f"F3: η={st[i, 0]:g}, ε={st[i, 1]:g}")
            b.set_xscale("log"), b.set_yscale("log"), b.set_xlabel("1−β"), b.set_ylabel("steps")
            b.legend(fontsize=7)
            plt.show()
            print(f"τ1 = {theory.tau1(1 - omb):.3g} steps, τ2 = {theory.toy_flow_steps(0.1, s0, eta, 1 - omb, eps):.3g} "
                  f"steps, (ηε)^(2/3) = {(eta * eps) ** (2 / 3):.3g}, η/(1−β) = {eta / omb:.3g}")

    for sl in (eta_s, omb_s, eps_s):
        sl.observe(redraw, names="value")
    redraw()
    display(w.VBox([w.HBox([eta_s, omb_s, eps_s]), out]))


def ms_explorer(ms_grid):
    """Dropdown over the precomputed F5 curves (matrix sensing is too slow to run live)."""
    import ipywidgets as w
    import matplotlib.pyplot as plt
    from IPython.display import display

    dd = w.Dropdown(options=[(f"η={e:g}", i) for i, e in enumerate(ms_grid.params.etas)], description="η")
    out = w.Output()

    def redraw(*_):
        with out:
            out.clear_output(wait=True)
            fig, ax = plt.subplots(figsize=(5, 3.4))
            ax.loglog(ms_grid.x, ms_grid.T_seed[dd.value], ".", color="grey", alpha=0.4)
            ax.loglog(ms_grid.x, ms_grid.T[dd.value], "o-", label="mean over seeds")
            ax.set_xlabel("1−β"), ax.set_ylabel("T_occ"), ax.legend(fontsize=8)
            plt.show()

    dd.observe(redraw, names="value")
    redraw()
    display(w.VBox([dd, out]))
