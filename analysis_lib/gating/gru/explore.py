"""The notebook's Explore section: sliders on (s_z, b_z, s_r, b_r, s_h) redrawing a Cho-GRU
spectrum with its theory curve at N = 200 (one redraw ≈ 0.1-0.3 s on one core)."""
from __future__ import annotations

import numpy as np

from .models import eigvals, gated_rnn
from ..params import ChoGRUParams, check_positive_int
from .plot import plot_spectrum


def draw_explore_panel(ax, params: ChoGRUParams, N: int = 200, seed: int = 0, burn_in: int = 500,
                       n_grid: int = 120, model=None):
    """Simulate `burn_in` steps, then plot eigenvalues of J_d and the curve ρ(T(λ)) = 1 on `ax`.
    Returns (eigs, stats). Passing `model` (same N, seed) reuses its weight draws."""
    N = check_positive_int("N", N, 2)
    m = gated_rnn("cho", params, N, seed) if model is None else model.with_params(params)
    x = m.simulate(m.random_state(seed + 7919), burn_in)
    eigs = eigvals(m.jacobian(x))
    stats = m.diag_stats(x)
    ax.clear()
    r = max(1.3, float(np.abs(eigs).max()) * 1.1)
    plot_spectrum(ax, eigs, stats, extent=(-r, r, -r, r), n_grid=n_grid)
    ax.set_title(rf"$s_h={params.s_h:.2g}, s_z={params.s_z:.2g}, b_z={params.b_z:.2g}, "
                 rf"s_r={params.s_r:.2g}, b_r={params.b_r:.2g}$", fontsize=9)
    return eigs, stats


def spectrum_explorer(N: int = 200, seed: int = 0, burn_in: int = 500):
    """An ipywidgets panel: sliders s_z, b_z, s_r, b_r, s_h and a live spectrum (returns the widget)."""
    import ipywidgets as W
    import matplotlib.pyplot as plt

    base = gated_rnn("cho", ChoGRUParams(), N, seed)
    out = W.Output()
    sliders = {
        "s_z": W.FloatSlider(value=4.0, min=0.0, max=10.0, step=0.5, description="s_z"),
        "b_z": W.FloatSlider(value=-2.0, min=-4.0, max=4.0, step=0.25, description="b_z"),
        "s_r": W.FloatSlider(value=2.0, min=0.0, max=10.0, step=0.5, description="s_r"),
        "b_r": W.FloatSlider(value=0.0, min=-4.0, max=4.0, step=0.25, description="b_r"),
        "s_h": W.FloatSlider(value=3.0, min=1.5, max=9.0, step=0.25, description="s_h"),
    }
    with out:
        fig, ax = plt.subplots(figsize=(4.5, 4.5))
        plt.show()

    def redraw(change=None):
        p = ChoGRUParams(**{k: s.value for k, s in sliders.items()})
        draw_explore_panel(ax, p, N, seed, burn_in, model=base)
        fig.canvas.draw_idle()
        with out:
            out.clear_output(wait=True)
            from IPython.display import display

            display(fig)

    for s in sliders.values():
        s.observe(redraw, names="value")
    redraw()
    plt.close(fig)
    return W.HBox([W.VBox(list(sliders.values())), out])
