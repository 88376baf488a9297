"""Simulated participants (spec §7) calibrated by the project's own analysis of the authors' data.

The model (our operationalisation of spec §7; every parameter is an aggregate, story-level fit):
- encoding: each clause is stored with probability p_enc(L) = M(L)/L, M(L) = M_slope·L + M_intercept
  (the M-vs-L fit of the recognition data);
- recognition: old & stored → "yes"; old & not stored → "yes" with the false-alarm rate; lure →
  "yes" with the false-alarm rate f(L) = far_slope·L + far_intercept; so that
  P_h = p_enc + (1 − p_enc) f and M̂ = L(P_h − f)/(1 − f) = L·p_enc recovers M (spec §4);
- recall count: negative binomial with mean R(L) = R_slope·L + R_intercept and dispersion k
  (var = μ + μ²/k, fitted to the between-participant variances), capped by the stored count;
- which clauses: stored clauses sampled without replacement ∝ exp(β w_i), w = z-scored
  similarity-to-whole (stored text-embedding-3-small); same preferences when scrambled;
- order: sort by original position/L + N(0, σ²) (intact) or by (λ·original + (1 − λ)·presentation)/L
  + N(0, σ²) (scrambled); σ matches the intact stories' mean Kendall τ, λ the scrambled sets' mean τ
  in original and in presentation order (least squares);
- scrambling: the mean recall count is multiplied by `scramble_recall_factor` (data: scrambled R /
  intact R, averaged over the 4 pairs); recognition is unchanged (C4);
- summarisation: number of recall sentences C = C_slope·n + C_intercept (story-level fit of C on R).

`calibrate(stories)` fits these with the package's own measures (`recall.recall_stats`,
`recognition.recognition_stats`, `stats.linfit`, `order.kendall_order`); `sim_params.json` (committed)
holds the result — aggregate numbers only, no participant data. The simulator makes a `data.Story`,
so every analysis function runs on simulated data unchanged (the notebook's no-data path).
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from . import data as D
from . import pipeline as PL
from .order import kendall_order
from .stats import linfit, zscore

PARAMS_PATH = Path(__file__).with_name("sim_params.json")


@dataclass(frozen=True)
class SimParams:
    M_slope: float = 0.71
    M_intercept: float = 3.46
    far_slope: float = 0.0
    far_intercept: float = 0.05
    R_slope: float = 0.2
    R_intercept: float = 4.0
    nb_k: float = 5.0
    beta: float = 0.5
    sigma_order: float = 0.1
    lam: float = 0.5
    C_slope: float = 1.0
    C_intercept: float = 0.0
    scramble_recall_factor: float = 1.0  # mean recall count scrambled / intact (same L)
    source: str = "defaults (uncalibrated)"

    def __post_init__(self):
        for name in ("nb_k", "sigma_order"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0; got {getattr(self, name)!r}")
        if not 0 < self.scramble_recall_factor <= 2:
            raise ValueError(f"scramble_recall_factor must be in (0, 2]; got {self.scramble_recall_factor!r}")
        if not 0 <= self.lam <= 1:
            raise ValueError(f"lam must be in [0, 1]; got {self.lam!r}")

    def p_enc(self, L: int) -> float:
        """p_enc(L) = clip(M(L)/L, 0, 1)."""
        return float(np.clip((self.M_slope * L + self.M_intercept) / L, 0.0, 1.0))

    def far(self, L: int) -> float:
        return float(np.clip(self.far_slope * L + self.far_intercept, 0.0, 0.5))

    def mean_recall(self, L: int) -> float:
        return float(max(self.R_slope * L + self.R_intercept, 0.1))


def save_params(params: SimParams, path: str | Path = PARAMS_PATH) -> Path:
    p = Path(path)
    p.write_text(json.dumps(dataclasses.asdict(params), indent=1) + "\n", encoding="utf-8")
    return p


def load_params(path: str | Path = PARAMS_PATH) -> SimParams:
    """The committed calibration (or defaults, said so in `source`, when the file is absent)."""
    p = Path(path)
    if not p.is_file():
        return SimParams()
    d = json.loads(p.read_text(encoding="utf-8"))
    allowed = {f.name for f in dataclasses.fields(SimParams)}
    unknown = set(d) - allowed
    if unknown:
        raise ValueError(f"{p}: unknown parameter(s) {sorted(unknown)}")
    return SimParams(**d)


# --------------------------------------------------------------------------- one simulated participant group
def _nb(mu: float, k: float, size: int, rng: np.random.Generator) -> np.ndarray:
    return rng.negative_binomial(k, k / (k + mu), size=size)


def simulate_recall(L: int, params: SimParams, n: int, rng: np.random.Generator, centrality=None,
                    scramble_map=None) -> list[list[int]]:
    """Recall protocols: 1-based clause numbers in output order, one list per participant."""
    if not isinstance(L, (int, np.integer)) or L < 1:
        raise ValueError(f"L must be a positive integer; got {L!r}")
    w = np.zeros(L) if centrality is None else np.asarray(centrality, dtype=float)
    if w.shape != (L,):
        raise ValueError(f"centrality must have shape ({L},); got {w.shape}")
    pres = np.arange(L) if scramble_map is None else D.invert_map(np.asarray(scramble_map))
    mu = params.mean_recall(L) * (1.0 if scramble_map is None else params.scramble_recall_factor)
    counts = _nb(mu, params.nb_k, n, rng)
    out = []
    for c in counts:
        stored = np.flatnonzero(rng.random(L) < params.p_enc(L))
        k = int(min(c, stored.size))
        if k == 0:
            out.append([])
            continue
        keys = params.beta * w[stored] + rng.gumbel(size=stored.size)  # Gumbel top-k = sampling ∝ exp(βw)
        chosen = stored[np.argsort(-keys)[:k]]
        pos = chosen if scramble_map is None else params.lam * chosen + (1 - params.lam) * pres[chosen]
        order = np.argsort(pos / L + params.sigma_order * rng.standard_normal(k))
        out.append([int(i) + 1 for i in chosen[order]])
    return out


def simulate_recognition(exp: PL.Experiment, params: SimParams, rng: np.random.Generator) -> dict:
    """slot -> {trial: (item_id, said_yes)} for the experiment's recognition group."""
    L = exp.L
    pe, f = params.p_enc(L), params.far(L)
    out = {}
    for slot, items in exp.recognition:
        stored = rng.random(L) < pe
        trials = {}
        for t, i in enumerate(items, 1):
            yes = bool(stored[i]) or bool(rng.random() < f) if i < L else bool(rng.random() < f)
            trials[t] = (int(i), yes)
        out[slot] = trials
    return out


def simulate_experiment(exp: PL.Experiment, params: SimParams, seed: int = 0, centrality=None,
                        text_keep: float = 0.8):
    """Responses of simulated participants to an experiment: (Responses, true ordered recalls).

    Recall texts are the recalled clauses, lightly paraphrased (`pipeline.recall_text`), so that a
    scorer has something to score; the true clause lists are returned for scorer checks."""
    rng = np.random.default_rng(seed)
    protocols = simulate_recall(exp.L, params, len(exp.recall_participants), rng, centrality, exp.scramble_map)
    recalls = {s: PL.recall_text(exp.clauses, p, rng, keep=text_keep)
               for s, p in zip(exp.recall_participants, protocols)}
    recog = simulate_recognition(exp, params, rng)
    resp = PL.Responses(recalls=recalls, recognition=recog, errors=(), incomplete=(), n_rows=0)
    return resp, protocols


def simulate_story(L: int, params: SimParams, n_recall: int = 100, n_recog: int = 100, seed: int = 0,
                   centrality=None, scramble_map=None, clauses: Sequence[str] | None = None,
                   name: str | None = None) -> D.Story:
    """A simulated condition as a `data.Story` (true scores; toy clauses when none are given)."""
    if clauses is None:
        clauses = PL.split_clauses(PL.toy_story(L, seed=seed))
    if len(clauses) != L:
        raise ValueError(f"clauses must number L={L}; got {len(clauses)}")
    exp = PL.assemble_experiment(name or f"sim_L{L}", clauses, PL.toy_lures(clauses, seed), n_recall, n_recog,
                                 seed=seed, scramble_map=scramble_map)
    resp, protocols = simulate_experiment(exp, params, seed + 1, centrality)
    scores = [sorted(set(p)) for p in protocols]
    story = PL.to_story(exp, resp, scores, name=name or exp.story_id, scores_ordered=protocols, order_source="simulated")
    # C: number of recall sentences from the summarisation fit (the toy recall text is one sentence per clause)
    rng = np.random.default_rng(seed + 2)
    seg = []
    for p in protocols:
        c = 0 if not p else max(1, int(round(params.C_slope * len(p) + params.C_intercept + rng.normal(0, 0.5))))
        seg.append("\n".join(f"{i}. ." for i in range(1, c + 1)))
    return dataclasses.replace(story, recalls_segmented=tuple(seg))


# --------------------------------------------------------------------------- calibration
def _centrality(story) -> np.ndarray | None:
    from .embed import similarity_to_whole

    if story.embedding_clauses is None:
        return None
    return zscore(similarity_to_whole(story))


def calibrate(stories: dict, seed: int = 0, n_grid: int = 13) -> SimParams:
    """Fit SimParams to the authors' data with the package's own measures (fit stories: intact,
    panic excluded; λ from the scrambled sets). Returns aggregate parameters only."""
    from .recall import recall_counts, recall_stats, story_p_rec
    from .recognition import recognition_stats

    fit = [stories[n] for n in D.FIT_STORIES if n in stories]
    scr = [stories[n] for n in D.SCRAMBLED if n in stories]
    if len(fit) < 3:
        raise ValueError("stories must include at least 3 of the intact fit stories (data.FIT_STORIES)")
    Ls = np.array([s.L for s in fit], dtype=float)
    rec = [recognition_stats(s) for s in fit]
    rs = [recall_stats(s) for s in fit]
    mfit = linfit(Ls, [r.M for r in rec])
    ffit = linfit(Ls, [r.counts.far for r in rec])
    rfit = linfit(Ls, [r.R for r in rs])
    cfit = linfit([r.R for r in rs], [r.C for r in rs])
    # dispersion: var = mu + mu^2/k, least squares in 1/k over stories
    mu = np.array([recall_counts(s.scores).mean() for s in fit])
    var = np.array([recall_counts(s.scores).var(ddof=1) for s in fit])
    inv_k = max(float(np.sum(mu ** 2 * (var - mu)) / np.sum(mu ** 4)), 1e-3)
    # beta: P_rec(i) ≈ R softmax(β w)_i (encoding and without-replacement effects ignored), least squares
    pairs = [(story_p_rec(s), _centrality(s)) for s in fit]
    pairs = [(p, w) for p, w in pairs if w is not None]
    betas = np.linspace(0, 2, 41)
    if pairs:
        sse = [sum(np.sum((p - p.sum() * np.exp(b * w) / np.exp(b * w).sum()) ** 2) for p, w in pairs) for b in betas]
        beta = float(betas[int(np.argmin(sse))])
    else:
        beta = 0.0
    base = SimParams(M_slope=mfit.slope, M_intercept=mfit.intercept, far_slope=ffit.slope,
                     far_intercept=ffit.intercept, R_slope=rfit.slope, R_intercept=rfit.intercept, nb_k=1 / inv_k,
                     beta=beta, C_slope=cfit.slope, C_intercept=cfit.intercept,
                     source="calibrate(): fits to the authors' data (intact fit stories; lambda from scrambled sets)")
    rng = np.random.default_rng(seed)
    # sigma: match the mean Kendall tau (original order) of the intact fit stories
    tau_data = np.mean([kendall_order(s.scores_ordered).mean() for s in fit])
    sigmas = np.geomspace(0.02, 1.0, n_grid)
    err = []
    for sg in sigmas:
        p = dataclasses.replace(base, sigma_order=float(sg))
        t = [kendall_order(simulate_recall(s.L, p, 60, rng, _centrality(s))).mean() for s in fit]
        err.append(abs(np.mean(t) - tau_data))
    sigma = float(sigmas[int(np.argmin(err))])
    base = dataclasses.replace(base, sigma_order=sigma)
    lam = base.lam
    if scr:
        ratios = [recall_stats(s).R / recall_stats(stories[s.intact_name]).R for s in scr if s.intact_name in stories]
        if ratios:
            base = dataclasses.replace(base, scramble_recall_factor=float(np.mean(ratios)))
        # lambda: match the mean tau in original AND in presentation order of the scrambled sets
        target = np.array([[kendall_order(s.scores_ordered).mean(),
                            kendall_order(s.scores_ordered, s.presentation_position).mean()] for s in scr]).mean(0)
        lams = np.linspace(0, 1, 11)
        err = []
        for la in lams:
            p = dataclasses.replace(base, lam=float(la))
            t = []
            for s in scr:
                sim = simulate_recall(s.L, p, 60, rng, None, s.scramble_map)
                t.append([kendall_order(sim).mean(), kendall_order(sim, s.presentation_position).mean()])
            err.append(float(np.sum((np.mean(t, axis=0) - target) ** 2)))
        lam = float(lams[int(np.argmin(err))])
    return dataclasses.replace(base, lam=lam)


def vs_data(stories: dict, params: SimParams, seed: int = 0) -> list[dict]:
    """The same measures on each real condition and on its simulated twin (same L, group sizes,
    scramble map, centrality): R, M, false-alarm rate, mean τ (original order)."""
    from .recall import recall_stats
    from .recognition import recognition_stats

    rows = []
    for k, (name, s) in enumerate(stories.items()):
        w = _centrality(stories.get(s.intact_name, s))  # scrambled sets: the intact story's centrality
        sim = simulate_story(s.L, params, s.n_recall, s.n_recog, seed + 10 * k, centrality=w,
                             scramble_map=s.scramble_map, clauses=list(s.clauses), name=name)
        row = {"story": name, "L": s.L}
        for tag, st in (("data", s), ("sim", sim)):
            rs, rc = recall_stats(st), recognition_stats(st)
            row.update({f"R_{tag}": rs.R, f"M_{tag}": rc.M, f"far_{tag}": rc.counts.far,
                        f"tau_{tag}": float(kendall_order(st.scores_ordered).mean())})
        rows.append(row)
    return rows


def m_recovery(params: SimParams, L: int = 54, n_recog: int = 100, seed: int = 0, n_boot: int = 200) -> dict:
    """M̂ from a simulated recognition group vs the true mean stored count L·p_enc(L), with the
    trial-bootstrap SE of M̂ (the package's `bootstrap_M_trials`)."""
    from .recognition import bootstrap_M_trials, recognition_stats

    s = simulate_story(L, params, n_recall=1, n_recog=n_recog, seed=seed)
    M_hat = recognition_stats(s).M
    se = float(np.std(bootstrap_M_trials(s, n_boot, np.random.default_rng(seed + 1)), ddof=1))
    return {"M_hat": float(M_hat), "M_true": L * params.p_enc(L), "se": se}


# --------------------------------------------------------------------------- power analysis
def slope_sampling(params: SimParams, n_per_story: int, Ls: Sequence[int], n_reps: int, rng: np.random.Generator,
                   centrality: Sequence | None = None) -> np.ndarray:
    """OLS slope of R vs L over stories of lengths `Ls`, each with `n_per_story` simulated recall
    participants, for `n_reps` replicate experiments."""
    if not isinstance(n_per_story, (int, np.integer)) or n_per_story < 2:
        raise ValueError(f"n_per_story must be an integer >= 2; got {n_per_story!r}")
    Ls = [int(L) for L in Ls]
    R = np.empty((n_reps, len(Ls)))
    for j, L in enumerate(Ls):
        # recall counts only: NB draws capped by Binomial(L, p_enc) stored clauses (no texts needed)
        c = _nb(params.mean_recall(L), params.nb_k, (n_reps, n_per_story), rng)
        stored = rng.binomial(L, params.p_enc(L), size=(n_reps, n_per_story))
        R[:, j] = np.minimum(c, stored).mean(axis=1)
    x = np.asarray(Ls, dtype=float)
    xm = x - x.mean()
    return (R - R.mean(axis=1, keepdims=True)) @ xm / (xm @ xm)


def power_table(params: SimParams, ns: Sequence[int] = (10, 20, 50, 100, 200, 400), Ls: Sequence[int] | None = None,
                n_reps: int = 2000, seed: int = 0, progress: bool = False) -> list[dict]:
    """95% CI width of the R-vs-L slope (2.5–97.5 percentiles over replicate experiments) per
    number of recall participants per story; Ls default to the 8 intact fit stories' lengths."""
    from ..progress import tqdm

    if Ls is None:
        Ls = [D.STORY_TABLE[n][0] for n in D.FIT_STORIES]
    rng = np.random.default_rng(seed)
    rows = []
    for n in tqdm(list(ns), desc="power", disable=not progress):
        sl = slope_sampling(params, int(n), Ls, n_reps, rng)
        lo, hi = np.percentile(sl, [2.5, 97.5])
        rows.append({"n_per_story": int(n), "slope_mean": float(sl.mean()), "slope_sd": float(sl.std(ddof=1)),
                     "ci95_width": float(hi - lo)})
    return rows


def participants_needed(table: Sequence[dict], target_width: float) -> int:
    """Participants per story for a 95% CI width ≤ `target_width`, from width(n) = c/√n fitted
    (least squares in c) to a `power_table`."""
    if not target_width > 0:
        raise ValueError(f"target_width must be > 0; got {target_width!r}")
    n = np.array([r["n_per_story"] for r in table], dtype=float)
    w = np.array([r["ci95_width"] for r in table], dtype=float)
    x = 1 / np.sqrt(n)
    c = float(x @ w / (x @ x))
    return int(np.ceil((c / target_width) ** 2))
