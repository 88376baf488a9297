"""Eigenvalue scatter with the theory curve ρ(T(λ)) = 1: the spectrum plot shared by notebooks 01 and 02."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .stats import DiagStats
from .support import spectral_curve


def auto_extent(eigs: np.ndarray, pad: float = 0.25) -> tuple[float, float, float, float]:
    """A square-ish extent around the eigenvalues (padding as a fraction of the spread)."""
    eigs = np.asarray(eigs)
    x0, x1 = eigs.real.min(), eigs.real.max()
    y1 = max(np.abs(eigs.imag).max(), 0.5 * (x1 - x0), 0.05)
    px = pad * max(x1 - x0, 2 * y1)
    return (x0 - px, x1 + px, -y1 - px, y1 + px)


def plot_spectrum(ax, eigs: np.ndarray, stats: DiagStats | None = None, extent: Sequence[float] | None = None,
                  n_grid: int = 200, unit_circle: bool = True, center_circle: float = 1.0, zoom=None,
                  color: str = "C0", curve_color: str = "C3", s: float = 4.0, label: str | None = None):
    """Eigenvalue scatter, the theory curve ρ(T(λ)) = 1 (if `stats`), the unit circle (centred at
    `center_circle`−1, i.e. |λ| = 1 in discrete time) and optional `zoom` = (x0, x1, y0, y1) limits."""
    eigs = np.asarray(eigs)
    ax.scatter(eigs.real, eigs.imag, s=s, color=color, alpha=0.6, lw=0, label=label, rasterized=True)
    ext = tuple(extent) if extent is not None else auto_extent(eigs)
    if stats is not None:
        for k, line in enumerate(spectral_curve(stats, ext, n_grid)):
            ax.plot(line[:, 0], line[:, 1], color=curve_color, lw=1.2, label=r"$\rho(T)=1$" if k == 0 else None)
    if unit_circle:
        t = np.linspace(0, 2 * np.pi, 400)
        ax.plot(center_circle - 1 + np.cos(t), np.sin(t), color="0.6", lw=0.8, ls="--")
    lim = zoom if zoom is not None else ext
    ax.set_xlim(lim[0], lim[1])
    ax.set_ylim(lim[2], lim[3])
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel(r"Re $\lambda$")
    ax.set_ylabel(r"Im $\lambda$")
    return ax
