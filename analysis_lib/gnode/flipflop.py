"""N-bit flip-flop tasks, following the paper's setup as released in its code (RNNTools.jl).

Per trial: n_p ~ Poisson(freq) pulse starts s_j iid uniform on {1..T} (with replacement);
starts with s_j > T - width are dropped; each kept pulse, in generation order, draws its
channel(s) and amplitude (per `variant`) and writes the amplitude into bins s_j..s_j+width
(width + 1 bins) of its channel(s), overwriting. The target of a channel at bin t is the most
recent non-zero input on that channel (read from the final input array), initialised per
variant. Arrays are float32 of shape (trials, T, n_bits); bins are 0-indexed in memory.

The statistics functions (`kept_pulses_theory`, `zero_mse_theory`) are [derived] in the spec
(Poisson thinning), not quoted from the paper.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

VARIANTS: tuple[str, ...] = ("fixed", "variable", "rectangle", "ring", "annulus")
"""Task variants: fixed ±1, variable U[-1,1] (2-bit "square"), rectangle, ring, annulus ("disk")."""

_ALIASES = {"square": "variable", "disk": "annulus", "original": "fixed", "pm1": "fixed"}
_DEFAULT_FREQ = {"fixed": 12.0, "variable": 12.0, "rectangle": 12.0, "ring": 12.0, "annulus": 6.0}
_TWO_CHANNEL = ("rectangle", "ring", "annulus")


def canonical_variant(variant: str) -> str:
    """Map an alias (square, disk, original) to its variant name; raise on unknown names."""
    if not isinstance(variant, str):
        raise ValueError(f"variant must be a string, one of {VARIANTS} (aliases {sorted(_ALIASES)}); got {variant!r}")
    v = _ALIASES.get(variant.lower(), variant.lower())
    if v not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS} (aliases {sorted(_ALIASES)}); got {variant!r}")
    return v


def _check_int(name: str, value, lo: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or int(value) < lo:
        raise ValueError(f"{name} must be an integer >= {lo}; got {value!r}")
    return int(value)


def _check_variant_bits(variant: str, n_bits: int) -> None:
    if variant in _TWO_CHANNEL and n_bits != 2:
        raise ValueError(f"variant {variant!r} is a 2-bit task: n_bits must be 2; got {n_bits}")


def default_freq(variant: str) -> float:
    """Expected pulse starts per trial (before dropping late starts) of a variant."""
    return _DEFAULT_FREQ[canonical_variant(variant)]


def initial_target(variant: str, n_bits: int) -> np.ndarray:
    """Target before the first pulse: +1 (fixed), 0 (variable, rectangle), (2, 0) ring, (1.5, 0) annulus."""
    v = canonical_variant(variant)
    n_bits = _check_int("n_bits", n_bits)
    _check_variant_bits(v, n_bits)
    if v == "fixed":
        return np.ones(n_bits, np.float32)
    if v == "ring":
        return np.array([2.0, 0.0], np.float32)
    if v == "annulus":
        return np.array([1.5, 0.0], np.float32)
    return np.zeros(n_bits, np.float32)


@dataclass(frozen=True)
class Pulse:
    """One kept pulse: trial index, first bin (0-indexed), channels written, amplitudes."""

    trial: int
    start: int
    channels: tuple[int, ...]
    amplitudes: tuple[float, ...]


def _draw_pulse(variant: str, n_bits: int, rng: np.random.Generator) -> tuple[tuple[int, ...], tuple[float, ...]]:
    if variant == "fixed":
        return (int(rng.integers(n_bits)),), (float(rng.choice((-1.0, 1.0))),)
    if variant == "variable":
        return (int(rng.integers(n_bits)),), (float(rng.uniform(-1.0, 1.0)),)
    if variant == "rectangle":
        ch = int(rng.integers(2))
        half = 2.0 if ch == 0 else 1.0
        return (ch,), (float(rng.uniform(-half, half)),)
    if variant == "ring":
        theta = rng.uniform(0.0, 2 * np.pi)
        return (0, 1), (2 * float(np.cos(theta)), 2 * float(np.sin(theta)))
    # annulus: uniform on the square [-2, 2]^2, rejected until 1 < |m| < 2 (uniform in area)
    while True:
        m = rng.uniform(-2.0, 2.0, size=2)
        r = float(np.hypot(*m))
        if 1.0 < r < 2.0:
            return (0, 1), (float(m[0]), float(m[1]))


def targets_from_inputs(x: np.ndarray, init: np.ndarray) -> np.ndarray:
    """Per channel, the most recent non-zero input up to and including bin t (`init` before any)."""
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"x must have shape (trials, T, n_bits); got {x.shape}")
    y = np.empty_like(x)
    current = np.broadcast_to(np.asarray(init, x.dtype), (x.shape[0], x.shape[2])).copy()
    for t in range(x.shape[1]):
        nz = x[:, t] != 0
        current[nz] = x[:, t][nz]
        y[:, t] = current
    return y


def make_flipflop(n_bits: int, n_trials: int, variant: str = "variable", T: int = 100, width: int = 2,
                  freq: float | None = None, seed: int = 0, return_pulses: bool = False):
    """Inputs x and targets y (float32, shape (n_trials, T, n_bits)) of the N-bit flip-flop task.

    Seeded by `seed` alone (numpy `default_rng(seed)`); the Julia random stream of the released
    code cannot be reproduced, only its statistics. With `return_pulses=True` also returns the
    list of kept `Pulse`s.
    """
    v = canonical_variant(variant)
    n_bits = _check_int("n_bits", n_bits)
    _check_variant_bits(v, n_bits)
    n_trials = _check_int("n_trials", n_trials)
    T = _check_int("T", T)
    width = _check_int("width", width, lo=0)
    if width >= T:
        raise ValueError(f"width must be < T; got width={width}, T={T}")
    freq = default_freq(v) if freq is None else freq
    if not np.isfinite(freq) or freq < 0:
        raise ValueError(f"freq must be a finite number >= 0; got {freq!r}")
    rng = np.random.default_rng(seed)
    x = np.zeros((n_trials, T, n_bits), np.float32)
    pulses: list[Pulse] = []
    for i in range(n_trials):
        n_p = rng.poisson(freq)
        starts = rng.integers(1, T + 1, size=n_p)  # 1-indexed as in the released generator
        for s in starts:
            if s > T - width:
                continue
            chans, amps = _draw_pulse(v, n_bits, rng)
            for ch, a in zip(chans, amps):
                x[i, s - 1:s + width, ch] = a
            pulses.append(Pulse(i, int(s - 1), chans, amps))
    y = targets_from_inputs(x, initial_target(v, n_bits))
    return (x, y, pulses) if return_pulses else (x, y)


def kept_pulses_theory(T: int = 100, width: int = 2, freq: float = 12.0) -> float:
    """[derived] Mean kept pulses per trial: Poisson thinning, freq·(T − width)/T."""
    T = _check_int("T", T)
    width = _check_int("width", width, lo=0)
    return float(freq) * (T - width) / T


def zero_mse_theory(n_bits: int, T: int = 100, width: int = 2, freq: float | None = None,
                    variant: str = "variable") -> float:
    """[derived] MSE of the zero predictor, averaged over bins and channels.

    A channel has seen a pulse by bin t with probability p_t = 1 − exp(−λ·min(t, T − width)),
    λ = freq/(T·n) pulse starts per bin and channel (freq/T for the two-channel ring/annulus).
    variable: MSE₀ = (1/3)·mean_t p_t; fixed ±1: 1; rectangle: (4/3 + 1/3)/2·mean_t p_t;
    ring: E|y|²/2 = 2 always; annulus: (2.25(1 − p_t) + 2.5 p_t)/2 averaged over t.
    """
    v = canonical_variant(variant)
    n_bits = _check_int("n_bits", n_bits)
    _check_variant_bits(v, n_bits)
    T = _check_int("T", T)
    width = _check_int("width", width, lo=0)
    freq = default_freq(v) if freq is None else float(freq)
    if v == "fixed":
        return 1.0
    per_bin = freq / T if v in ("ring", "annulus") else freq / (T * n_bits)
    t = np.arange(1, T + 1)
    p = 1.0 - np.exp(-per_bin * np.minimum(t, T - width))
    if v == "variable":
        return float(np.mean(p) / 3.0)
    if v == "rectangle":
        return float(np.mean(p) * (4.0 / 3.0 + 1.0 / 3.0) / 2.0)
    if v == "ring":
        return 2.0
    # annulus: E r^2 = 2.5 for uniform area on 1 < r < 2; before any pulse y = (1.5, 0).
    return float(np.mean(2.25 * (1 - p) + 2.5 * p) / 2.0)


def zero_mse(y: np.ndarray) -> float:
    """Simulated MSE of the zero predictor: mean of y² over trials, bins and channels."""
    return float(np.mean(np.square(np.asarray(y, np.float64))))


def splits(x: np.ndarray, y: np.ndarray, n_train: int, n_val: int):
    """Released split: the first `n_train` trials train, the last `n_val` validate.

    Returns ((x_train, y_train), (x_val, y_val)).
    """
    n_train = _check_int("n_train", n_train)
    n_val = _check_int("n_val", n_val)
    if x.shape != y.shape or x.ndim != 3:
        raise ValueError(f"x and y must share a shape (trials, T, n); got {x.shape}, {y.shape}")
    if n_train + n_val > x.shape[0]:
        raise ValueError(f"n_train + n_val must be <= trials ({x.shape[0]}); got {n_train} + {n_val}")
    return (x[:n_train], y[:n_train]), (x[-n_val:], y[-n_val:])


def variant_target_set(variant: str, n: int = 200) -> dict:
    """Outline of a 2-bit variant's output set for plots: {'kind', 'outline' (list of (k, 2) arrays), 'lims'}.

    square [-1,1]², rectangle [-2,2]×[-1,1], ring |y| = 2, annulus 1 < |y| < 2, fixed: the 4 corners.
    """
    v = canonical_variant(variant)
    n = _check_int("n", n, lo=4)
    th = np.linspace(0, 2 * np.pi, n)
    circ = np.stack([np.cos(th), np.sin(th)], 1)
    box = lambda a, b: np.array([[-a, -b], [a, -b], [a, b], [-a, b], [-a, -b]], float)  # noqa: E731
    if v == "variable":
        return {"kind": "box", "outline": [box(1, 1)], "lims": (-1.5, 1.5)}
    if v == "rectangle":
        return {"kind": "box", "outline": [box(2, 1)], "lims": (-3.0, 3.0)}
    if v == "ring":
        return {"kind": "ring", "outline": [2 * circ], "lims": (-3.0, 3.0)}
    if v == "annulus":
        return {"kind": "annulus", "outline": [circ, 2 * circ], "lims": (-3.0, 3.0)}
    return {"kind": "points", "outline": [np.array([[1, 1], [1, -1], [-1, 1], [-1, -1]], float)], "lims": (-1.5, 1.5)}


def target_grid(variant: str, n: int = 41) -> np.ndarray:
    """Output points of the drift test (§4.5): n×n grid over the target set, shape (k, 2).

    square [-1,1]²; rectangle [-2,2]×[-1,1]; annulus: grid of [-2,2]² with 1 < |y| < 2;
    ring: n² angles on |y| = 2; fixed: the four corners.
    """
    v = canonical_variant(variant)
    n = _check_int("n", n, lo=2)
    if v in ("variable", "rectangle"):
        a = 2.0 if v == "rectangle" else 1.0
        g1, g2 = np.meshgrid(np.linspace(-a, a, n), np.linspace(-1, 1, n), indexing="xy")
        return np.stack([g1.ravel(), g2.ravel()], 1)
    if v == "annulus":
        g1, g2 = np.meshgrid(np.linspace(-2, 2, n), np.linspace(-2, 2, n), indexing="xy")
        pts = np.stack([g1.ravel(), g2.ravel()], 1)
        r = np.hypot(pts[:, 0], pts[:, 1])
        return pts[(r > 1) & (r < 2)]
    if v == "ring":
        th = np.linspace(0, 2 * np.pi, n * n, endpoint=False)
        return 2 * np.stack([np.cos(th), np.sin(th)], 1)
    return np.array([[1, 1], [1, -1], [-1, 1], [-1, -1]], float)


def retention_inputs(n_bits: int, n_mem: int = 200, hold: int = 1000, lead: int = 5, width: int = 2,
                     seed: int = 0):
    """Inputs of the retention test (§4.5): `lead` zero bins, one (width+1)-bin pulse per channel in
    turn (memory m ~ U[−1,1]^n), then `hold` zero bins. Returns (x, m, last_pulse_bin) with x of
    shape (n_mem, lead + n_bits·(width+1) + hold, n_bits) float32.
    """
    n_bits = _check_int("n_bits", n_bits)
    n_mem = _check_int("n_mem", n_mem)
    hold = _check_int("hold", hold)
    lead = _check_int("lead", lead, lo=0)
    width = _check_int("width", width, lo=0)
    rng = np.random.default_rng(seed)
    m = rng.uniform(-1, 1, size=(n_mem, n_bits)).astype(np.float32)
    x, last = write_inputs(m, hold, lead, width)
    return x, m, last


def write_inputs(m: np.ndarray, hold: int, lead: int = 5, width: int = 2) -> tuple[np.ndarray, int]:
    """Inputs that write given memories m (k, n): `lead` zero bins, one (width+1)-bin pulse of
    amplitude m_j on channel j in turn, then `hold` zero bins. Returns (x (k, T, n) float32,
    index of the last pulse bin). The retention test and the written-state drift test use it."""
    m = np.asarray(m, np.float32)
    if m.ndim != 2 or m.shape[0] < 1 or m.shape[1] < 1:
        raise ValueError(f"m must have shape (k, n_bits) with k, n_bits >= 1; got {m.shape}")
    hold = _check_int("hold", hold)
    lead = _check_int("lead", lead, lo=0)
    width = _check_int("width", width, lo=0)
    n_bits = m.shape[1]
    L = width + 1
    x = np.zeros((m.shape[0], lead + n_bits * L + hold, n_bits), np.float32)
    for ch in range(n_bits):
        x[:, lead + ch * L: lead + (ch + 1) * L, ch] = m[:, ch:ch + 1]
    return x, lead + n_bits * L - 1
