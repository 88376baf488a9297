"""The warm-up of the tour notebook: Girko's circular law for Gaussian random matrices.

For J with i.i.d. entries J_ij ~ N(0, g²/N), the eigenvalues fill the disk |λ| ≤ g uniformly
as N → ∞ (circular law). Consequences checked in `00_tour`:
- spectral radius ρ(J) → g;
- fraction of eigenvalues with |λ| > g → 0;
- second moment E|λ|² = g²/2 (uniform disk of radius g).
This is the zero-state Jacobian of a vanilla rate network, the starting point of papers 01–02.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg

from .claims import PaperClaim

TOUR_CLAIMS = (
    PaperClaim("T1", "Eigenvalues of an N×N matrix with i.i.d. N(0, g²/N) entries fill the disk |λ| ≤ g uniformly "
                     "as N → ∞ (Girko's circular law)", "paper"),
    PaperClaim("T2", "At finite N the spectral radius approaches g as N grows", "reading"),
)
"""The 'paper' of the tour: textbook random-matrix results (Girko 1985), not one of the five papers."""


@dataclass(frozen=True)
class GinibreParams:
    """N: matrix size (> 1); g: gain (> 0), entries have variance g²/N."""

    N: int
    g: float = 1.0

    def __post_init__(self):
        if not isinstance(self.N, (int, np.integer)) or self.N < 2:
            raise ValueError(f"N must be an integer >= 2; got {self.N!r}")
        if not self.g > 0:
            raise ValueError(f"g must be > 0; got {self.g!r}")


def gaussian_matrix(params: GinibreParams, seed: int) -> np.ndarray:
    """J_ij ~ N(0, g²/N), i.i.d., from `np.random.default_rng(seed)`."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((params.N, params.N)) * (params.g / np.sqrt(params.N))


def ginibre_eigenvalues(params: GinibreParams, seed: int) -> np.ndarray:
    """Eigenvalues of one draw of `gaussian_matrix`."""
    return scipy.linalg.eigvals(gaussian_matrix(params, seed), overwrite_a=True, check_finite=False)


@dataclass(frozen=True)
class CircularLawStats:
    spectral_radius: float      # max |λ|; theory: g
    fraction_outside: float     # share with |λ| > g; theory: 0
    second_moment: float        # mean |λ|²; theory: g²/2


def circular_law_stats(eigs: np.ndarray, g: float) -> CircularLawStats:
    """Finite-N statistics of a spectrum to compare with the circular law of gain g."""
    mod = np.abs(np.asarray(eigs))
    return CircularLawStats(float(mod.max()), float(np.mean(mod > g)), float(np.mean(mod**2)))


def spectral_radius(N: int, g: float, seed: int) -> float:
    """ρ(J) of one draw: a pure function of its arguments, so `al.sweep` can map it over a grid."""
    return float(np.abs(ginibre_eigenvalues(GinibreParams(N, g), seed)).max())
