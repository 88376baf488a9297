"""Figure-level analyses of the authors' data: one function per quantity the notebook shows.

Everything here works on `Story` objects (pseudonymised at load) and returns aggregates only.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import data as D
from .embed import similarity_to_whole, sim_to_whole_r
from .order import kendall_order, order_stats, shuffle_null_tau
from .recall import recall_counts, recall_stats, story_p_rec
from .recognition import dprime_trial_slope_bootstrap, p_hit_by_clause, participant_counts, recognition_stats
from .stats import LinFit, linfit, pearson, pearson_ci, percentile_ci, spearman
from .theory import random_list_law


def story_table(stories: dict):
    """One row per condition: L, N, R ± SEM, C, recognition rates, d′, M, order statistics."""
    import pandas as pd

    rows = []
    for name, s in stories.items():
        rs, g, o = recall_stats(s), recognition_stats(s), order_stats(s)
        rows.append({
            "story": name, "L": s.L, "scrambled": s.scrambled, "N_recall": s.n_recall, "N_recog": s.n_recog,
            "R": rs.R, "R_sem": rs.R_sem, "R_over_L": rs.R_over_L, "C": rs.C, "C_over_R": rs.C_over_R,
            "empty_recalls": rs.n_empty, "tpr": g.tpr, "far": g.far, "dprime": g.dprime, "M": g.M,
            "M_over_L": g.M_over_L, "sqrt_law": random_list_law(g.M), "excess_over_law": rs.R - random_list_law(g.M),
            "tau_orig": o.tau_orig, "tau_pres": o.tau_pres, "fwd_orig": o.fwd_orig, "fwd_pres": o.fwd_pres,
        })
    return pd.DataFrame(rows).set_index("story")


@dataclass(frozen=True)
class FitWithCI:
    fit: LinFit
    slope_ci: tuple[float, float]
    intercept_ci: tuple[float, float]
    r_ci: tuple[float, float]
    boot: np.ndarray  # (n_resamples, 3): slope, intercept, r


def _fit_ci(x_b, y_b, fit) -> FitWithCI:
    boots = np.array([[*linfit(x, y).__dict__.values()] for x, y in zip(x_b, y_b)])
    return FitWithCI(fit, percentile_ci(boots[:, 0]), percentile_ci(boots[:, 1]), percentile_ci(boots[:, 2]), boots)


def bootstrap_R_M(stories: dict, names, n_resamples: int, rng: np.random.Generator):
    """Participant bootstrap (recall and recognition groups independently, within each story):
    arrays R_b, M_b of shape (n_resamples, len(names))."""
    if n_resamples < 2:
        raise ValueError(f"n_resamples must be >= 2; got {n_resamples}")
    R_b = np.empty((n_resamples, len(names)))
    M_b = np.empty_like(R_b)
    for j, n in enumerate(names):
        s = stories[n]
        k = recall_counts(s.scores)
        R_b[:, j] = k[rng.integers(0, k.size, (n_resamples, k.size))].mean(axis=1)
        c = participant_counts(s)
        tot = c[rng.integers(0, c.shape[0], (n_resamples, c.shape[0]))].sum(axis=1)
        ph = tot[:, 0] / (tot[:, 0] + tot[:, 1])
        pf = tot[:, 2] / (tot[:, 2] + tot[:, 3])
        M_b[:, j] = s.L * (ph - pf) / (1 - pf)
    return R_b, M_b


def scaling_fits(stories: dict, n_resamples: int, rng: np.random.Generator, names=D.FIT_STORIES) -> dict:
    """OLS fits M-vs-L, R-vs-L, R-vs-M over `names` (authors: 8 intact stories) with participant-bootstrap CIs."""
    L = np.array([stories[n].L for n in names], dtype=float)
    R = np.array([recall_stats(stories[n]).R for n in names])
    M = np.array([recognition_stats(stories[n]).M for n in names])
    R_b, M_b = bootstrap_R_M(stories, names, n_resamples, rng)
    Lb = np.broadcast_to(L, R_b.shape)
    return {
        "M_vs_L": _fit_ci(Lb, M_b, linfit(L, M)),
        "R_vs_L": _fit_ci(Lb, R_b, linfit(L, R)),
        "R_vs_M": _fit_ci(M_b, R_b, linfit(M, R)),
        "R_over_L_spearman": spearman(L, R / L),
        "L": L, "R": R, "M": M,
        "R_ci": np.array([percentile_ci(R_b[:, j]) for j in range(len(names))]),
        "M_ci": np.array([percentile_ci(M_b[:, j]) for j in range(len(names))]),
        "names": tuple(names),
    }


def scramble_ratios(stories: dict) -> dict:
    """Scrambled/intact ratios of R and M per length L (C4)."""
    out = {}
    for scr, intact in D.SCRAMBLE_PAIRS.items():
        a, b = stories[intact], stories[scr]
        out[a.L] = {"intact": intact, "scrambled": scr,
                    "R_ratio": recall_stats(b).R / recall_stats(a).R,
                    "M_ratio": recognition_stats(b).M / recognition_stats(a).M}
    return dict(sorted(out.items()))


def phit_vs_prec(stories: dict, names=D.INTACT) -> dict:
    """Clause-level P_hit vs P_rec over intact stories incl. panic, clauses with ≥ 1 old trial."""
    x, y, n = [], [], []
    for name in names:
        ph, cnt = p_hit_by_clause(stories[name])
        pr = story_p_rec(stories[name])
        keep = cnt > 0
        x.append(pr[keep]); y.append(ph[keep]); n.append(cnt[keep])
    x, y, n = np.concatenate(x), np.concatenate(y), np.concatenate(n)
    fit = linfit(x, y)
    return {"prec": x, "phit": y, "n_old": n, "fit": fit, "r_ci": pearson_ci(fit.r, x.size)}


def prec_coherent_vs_scrambled(stories: dict) -> dict:
    """r(P_rec intact, P_rec scrambled) per L, both in original clause order (C7)."""
    out = {}
    for scr, intact in D.SCRAMBLE_PAIRS.items():
        a, b = story_p_rec(stories[intact]), story_p_rec(stories[scr])
        out[stories[intact].L] = {"r": pearson(a, b), "intact": a, "scrambled": b, "pair": (intact, scr)}
    return dict(sorted(out.items()))


def dprime_trials(stories: dict, n_resamples: int, rng: np.random.Generator) -> dict:
    """d′ by trial position, pooled over intact and over scrambled conditions, with bootstrap bands."""
    out = {}
    for label, names in (("intact", D.INTACT), ("scrambled", D.SCRAMBLED)):
        slope, boots, curves = dprime_trial_slope_bootstrap([stories[n] for n in names], n_resamples, rng)
        from .recognition import dprime_by_trial

        out[label] = {"dprime": dprime_by_trial([stories[n] for n in names]), "slope": slope,
                      "slope_ci": percentile_ci(boots), "band": np.quantile(curves, [0.025, 0.975], axis=0)}
    return out


def order_tables(stories: dict, words: dict | None = None, n_shuffles: int = 20,
                 rng: np.random.Generator | None = None) -> dict:
    """τ and forward transitions per condition; for the 128-word lists τ and its shuffle null."""
    out = {n: order_stats(s) for n, s in stories.items()}
    if words is not None:
        tau = kendall_order(words["rec_pos"])
        null = shuffle_null_tau(words["rec_pos"], n_shuffles=n_shuffles, rng=rng)
        out["words128"] = {"tau": float(tau.mean()), "n": int(tau.size), "null_mean": float(null.mean()),
                           "null_sd": float(null.std(ddof=1))}
    return out


def stored_similarity_analysis(stories: dict) -> dict:
    """C10 from the stored data: per-story r from the story embeddings (te3small) and pooled r
    of the three OpenAI models from the stored similarities; consistency with stored r values."""
    out = {"per_story": {}, "pooled": {}, "max_stored_r_diff": 0.0, "max_sim_diff": 0.0}
    te3 = D.load_sim_to_whole("text-embedding-3-small")
    for name, sim_st in zip(te3.stories, te3.similarity):
        s = similarity_to_whole(stories[name])
        out["per_story"][name] = {"L": stories[name].L, "r": pearson(s, story_p_rec(stories[name])),
                                  "sim": s, "prec": story_p_rec(stories[name])}
        out["max_sim_diff"] = max(out["max_sim_diff"], float(np.abs(s - sim_st).max()))
    for model in D.EMBEDDING_MODELS:
        st = D.load_sim_to_whole(model)
        per, pooled = sim_to_whole_r(st.similarity, st.prec)
        out["pooled"][model] = {"r_pooled": pooled, "per_story": dict(zip(st.stories, per)),
                                "n": int(sum(len(p) for p in st.prec)), "stories": st.stories,
                                "sim": st.similarity, "prec": st.prec}
        out["max_stored_r_diff"] = max(out["max_stored_r_diff"],
                                       float(np.max(np.abs(np.array(per) - np.array(st.r_values)))))
    return out


def minilm_similarity_analysis(stories: dict, cache_dir=None, encoder=None) -> dict:
    """C10 with the offline MiniLM: per-story and pooled r, narrative truncated and chunk-mean
    (embeddings cached under `cache_dir`, see `embed.embed`)."""
    from .embed import minilm_sim_to_whole

    out = {}
    for mode in ("truncated", "chunked"):
        sims, precs, names = [], [], []
        for name in D.FIT_STORIES:
            sims.append(minilm_sim_to_whole(stories[name], cache_dir, chunked=(mode == "chunked"), encoder=encoder))
            precs.append(story_p_rec(stories[name]))
            names.append(name)
        per, pooled = sim_to_whole_r(sims, precs)
        out[mode] = {"r_pooled": pooled, "per_story": dict(zip(names, per)), "sim": sims, "prec": precs}
    return out


def validation_ids_are_recall_ids(stories: dict) -> bool:
    """The 30 validation ids are panic recall participants (checked on pseudonyms)."""
    p = stories["panic"]
    return p.validation_ids is not None and set(p.validation_ids) <= set(p.recall_ids)


def id_overlap(stories: dict) -> dict:
    """Number of participants present in both the recall and the recognition group per condition."""
    return {n: len(set(s.recall_ids) & set(s.recog_ids)) for n, s in stories.items()}


def no_data_message() -> str:
    """What the notebook shows when the authors' data is absent."""
    return ("**The authors' data was not found** (set `NARRATIVE_DATA_DIR`, or run "
            "`analysis_lib.memory.data.download_data(<folder>)` and point `NARRATIVE_DATA_DIR` at it). "
            "This run uses **simulated participants** instead (`analysis_lib.memory.simulate`, calibrated by the "
            "project's own analysis of the data; aggregate parameters only): the data sections run on simulated "
            "twins of the 13 conditions (same lengths and group sizes; figures saved with a `sim_` prefix), every "
            "data claim is recorded as skipped, and `memory.sim.nodata.*` checks that the analysis recovers the "
            "simulator's known parameters. Sections that need the validation set, the word lists, the stored "
            "embeddings or the stored GPT-4 completions are skipped. Numbers shown here describe the simulator, "
            "not people.")


def data_claim_keys(minilm: bool = True) -> list[str]:
    """Every claim key the notebook records from the authors' data (spec §6), in notebook order.

    Used for the no-data path (each is recorded as skipped) and by the tests that check an
    executed notebook holds all of them.
    """
    keys = ["memory.data.checksums_ok", "memory.data.n_recall_total", "memory.data.n_recog_total",
            "memory.data.prec_matches_stored", "memory.data.boyscout_map_bijection",
            "memory.data.scramble_map_reconstruction.triplett_v1_rookie_scrambled",
            "memory.data.scramble_map_reconstruction.hester_v2_church_scrambled",
            "memory.validation.r_gpt4_human", "memory.validation.r_gpt3_human", "memory.validation.r_gpt35_human"]
    keys += [f"memory.validation.r_rater.{p}" for p in ("a1a2", "a1a3", "a2a3")]
    keys += [f"memory.validation.kappa_{k}" for k in ("gpt4", "gpt3", "gpt35")]
    keys += [f"memory.validation.kappa_rater.{p}" for p in ("a1a2", "a1a3", "a2a3")]
    keys += ["memory.validation.kappa_gpt4_within_rater_range"]
    keys += [f"memory.validation.meanR.{k}" for k in ("a1", "a2", "a3", "gpt4", "gpt3", "gpt35")]
    keys += [f"memory.validation.r_llm.{p}" for p in ("gpt4_gpt3", "gpt4_gpt35", "gpt3_gpt35")]
    story_keys = [s.replace("-", "_") for s in D.STORIES]
    keys += [f"memory.recog.{q}.{s}" for s in story_keys for q in ("tpr", "far", "dprime", "M", "M_over_L")]
    keys += ["memory.recog.sanity"]
    keys += [f"memory.recall.{q}.{s}" for s in story_keys for q in ("R", "R_sem", "R_over_L", "C")]
    keys += [f"memory.scaling.{f}.{q}" for f in ("M_vs_L", "R_vs_L", "R_vs_M") for q in ("slope", "intercept", "r")]
    keys += ["memory.scaling.R_over_L_spearman", "memory.scaling.R_slope_over_M_slope.ci_hi"] + [f"memory.scaling.excess_over_law.{s}" for s in story_keys]
    keys += [f"memory.scramble.{q}.L{L}" for L in (19, 32, 54, 130) for q in ("R_ratio", "M_ratio")]
    keys += [f"memory.scramble.M_minus_R_ratio.L{L}.ci_lo" for L in (19, 32, 54, 130)]
    keys += ["memory.scramble.R_ratio_below_M_ratio"]
    scr_keys = [s.replace("-", "_") for s in D.SCRAMBLED]
    keys += [f"memory.order.{q}.{s}" for s in story_keys
             for q in (("tau_orig", "tau_pres", "fwd_orig", "fwd_pres") if s in scr_keys else ("tau_orig", "fwd_orig"))]
    keys += [f"memory.order.{q}.{s}" for s in scr_keys for q in ("delta_tau", "map_tau")]
    keys += ["memory.order.delta_tau.pooled.ci_lo", "memory.order.delta_tau.n_stories_showing",
             "memory.order.tau_words128", "memory.order.words128.null_in_ci",
             "memory.order.narratives_minus_words128.ci_lo"]
    keys += [f"memory.items.phit_vs_prec.{q}" for q in ("slope", "intercept", "r")]
    keys += [f"memory.items.prec_coh_vs_scr.L{L}" for L in (19, 32, 54, 130)]
    keys += [f"memory.recog.dprime_trial_slope.{c}" for c in ("intact", "scrambled")]
    keys += [f"memory.summary.C_over_R.{s}" for s in story_keys]
    keys += [f"memory.embed.te3small.r.{s.replace('-', '_')}" for s in D.FIT_STORIES]
    keys += [f"memory.embed.{m}.r_pooled" for m in ("te3small", "ada002", "te3large")]
    keys += ["memory.embed.stored_r_consistency", "memory.replay.parse_exact_fraction"]
    if minilm:
        keys += minilm_claim_keys()
    return keys


def minilm_claim_keys() -> list[str]:
    keys = ["memory.embed.minilm.r_pooled", "memory.embed.minilm.r_pooled_chunked"]
    keys += [f"memory.embed.minilm.r.{s.replace('-', '_')}" for s in D.FIT_STORIES]
    keys += [f"memory.embed.minilm.r_chunked.{s.replace('-', '_')}" for s in D.FIT_STORIES]
    return keys


def summary_markdown(fits, ratios, orders, va, sim, minilm, boyscout_map) -> str:
    """The closing note's numbers (issue 7 "Must show"), as Markdown: fits with CIs, scrambled/intact
    ratios, Kendall τ, κ, pooled similarity r, and the reconstructed boyscout-scrambled map."""
    lines = ["### The numbers in one place", "", "| fit (8 intact stories) | slope [95% CI] | intercept [95% CI] | r |",
             "|---|---|---|---|"]
    for key, label in (("M_vs_L", "M vs L"), ("R_vs_L", "R vs L"), ("R_vs_M", "R vs M")):
        f = fits[key]
        lines.append(f"| {label} | {f.fit.slope:.3f} [{f.slope_ci[0]:.3f}, {f.slope_ci[1]:.3f}] | "
                     f"{f.fit.intercept:.2f} [{f.intercept_ci[0]:.2f}, {f.intercept_ci[1]:.2f}] | {f.fit.r:.4f} |")
    lines += ["", "| L | R scrambled/intact | M scrambled/intact | τ_orig (scr) | τ_pres (scr) | τ intact |",
              "|---|---|---|---|---|---|"]
    for L, r in ratios.items():
        o_s, o_i = orders[r["scrambled"]], orders[r["intact"]]
        lines.append(f"| {L} | {r['R_ratio']:.3f} | {r['M_ratio']:.3f} | {o_s.tau_orig:.3f} | {o_s.tau_pres:.3f} | "
                     f"{o_i.tau_orig:.3f} |")
    k = va.kappa
    lines += ["", f"Cohen's κ vs the human majority: GPT-4 {k['gpt4']:.3f}, GPT-3 {k['gpt3']:.3f}, GPT-3.5 "
              f"{k['gpt35']:.3f}; rater pairs " + ", ".join(f"{p} {v:.3f}" for p, v in va.kappa_rater.items()) + "."]
    pooled = ", ".join(f"{m} {v['r_pooled']:.3f}" for m, v in sim["pooled"].items())
    lines.append(f"Pooled z-scored r(similarity to whole, P_rec), 357 clauses: {pooled}" + (
        f"; all-MiniLM-L6-v2 {minilm['truncated']['r_pooled']:.3f} (truncated), "
        f"{minilm['chunked']['r_pooled']:.3f} (chunk-mean)." if minilm else "; MiniLM skipped."))
    lines.append(f"Reconstructed `boyscout-scrambled` map (presentation position → original clause, 0-based): "
                 f"{list(map(int, boyscout_map))}. Validated by reproducing the stored maps of "
                 "triplett_v1-rookie-scrambled and hester_v2-church-scrambled exactly; it is a bijection and consumes "
                 "the scrambled text exactly.")
    return "\n".join(lines)


# --------------------------------------------------------------------------- issue 19: claims as results with CIs
def order_results(stories: dict, n_boot: int, rng: np.random.Generator) -> dict:
    """C5 as a paired test: per scrambled story and pooled over the four, Δτ = τ_orig − τ_pres per
    participant (same participants, ≥ 3 distinct clauses) with a participant-bootstrap 95% CI and
    Wilcoxon / sign tests; plus τ(map, identity) of each scramble map (the confound: a map that keeps
    the original order makes τ_orig ≈ τ_pres whatever people do)."""
    from .order import delta_tau, map_tau, require_ordered, story_delta_tau

    per = {n: story_delta_tau(stories[n], n_boot, rng) for n in D.SCRAMBLED}
    for n in D.SCRAMBLED:
        require_ordered(stories[n])
    pooled = delta_tau([(stories[n].scores_ordered, stories[n].presentation_position) for n in D.SCRAMBLED],
                       n_boot, rng, "pooled")
    maps = {n: map_tau(stories[n].scramble_map) for n in D.SCRAMBLED}
    return {"per_story": per, "pooled": pooled, "map_tau": maps,
            "map_source": {n: stories[n].scramble_map_source for n in D.SCRAMBLED}}


def words_order(stories: dict, words: dict, n_boot: int, n_shuffles: int, rng: np.random.Generator,
                names=D.FIT_STORIES) -> dict:
    """The 128-word lists as an order reference: mean τ over lists with a bootstrap CI, its shuffle
    null (each list's output order permuted), and the difference τ(intact narratives, pooled over
    participants of `names`) − τ(word lists) with a bootstrap CI (both groups resampled)."""
    tw = kendall_order(words["rec_pos"])
    tn = np.concatenate([kendall_order(stories[n].scores_ordered) for n in names])
    null = shuffle_null_tau(words["rec_pos"], n_shuffles=n_shuffles, rng=rng)
    bw = np.array([tw[rng.integers(0, tw.size, tw.size)].mean() for _ in range(n_boot)])
    bn = np.array([tn[rng.integers(0, tn.size, tn.size)].mean() for _ in range(n_boot)])
    return {"tau": float(tw.mean()), "tau_ci": percentile_ci(bw), "n": int(tw.size), "null_mean": float(null.mean()),
            "null_sd": float(null.std(ddof=1)), "minus_null_ci": percentile_ci(bw - null.mean()),
            "tau_narr": float(tn.mean()), "n_narr": int(tn.size), "narr_minus_words": float(tn.mean() - tw.mean()),
            "narr_minus_words_ci": percentile_ci(bn - bw)}


def slope_ratio(fits: dict) -> dict:
    """Recall slope / recognition slope (R-vs-L over M-vs-L, 8 intact stories) with the CI of the
    ratio over the same participant-bootstrap replicates that gave the fits' CIs."""
    r = fits["R_vs_L"].boot[:, 0] / fits["M_vs_L"].boot[:, 0]
    return {"ratio": fits["R_vs_L"].fit.slope / fits["M_vs_L"].fit.slope, "ci": percentile_ci(r),
            "R_slope": fits["R_vs_L"].fit.slope, "M_slope": fits["M_vs_L"].fit.slope}


def scramble_ratio_cis(stories: dict, n_boot: int, rng: np.random.Generator) -> dict:
    """Scrambled/intact ratios of R and M per L with participant-bootstrap CIs (each of the four
    groups resampled independently), and the CI of M_ratio − R_ratio."""
    out = {}
    for scr, intact in D.SCRAMBLE_PAIRS.items():
        R_b, M_b = bootstrap_R_M(stories, (intact, scr), n_boot, rng)
        rr, mr = R_b[:, 1] / R_b[:, 0], M_b[:, 1] / M_b[:, 0]
        a, b = stories[intact], stories[scr]
        R_ratio = recall_stats(b).R / recall_stats(a).R
        M_ratio = recognition_stats(b).M / recognition_stats(a).M
        out[a.L] = {"intact": intact, "scrambled": scr, "R_ratio": R_ratio, "R_ci": percentile_ci(rr),
                    "M_ratio": M_ratio, "M_ci": percentile_ci(mr), "diff": M_ratio - R_ratio,
                    "diff_ci": percentile_ci(mr - rr)}
    return dict(sorted(out.items()))


def kappa_vs_raters(v, n_boot: int, rng: np.random.Generator) -> dict:
    """Item-level κ of each LLM vs the human majority with a bootstrap CI over the 30 recalls, and
    the range of κ between rater pairs (C1: "about as well as raters agree with each other")."""
    from itertools import combinations

    from .recall import hit_matrix
    from .stats import cohen_kappa

    H = {k: hit_matrix(s, v.L) for k, s in v.scores.items()}
    maj = sum(H[a] for a in v.RATERS) >= 2
    pairs = {a + b: cohen_kappa(H[a], H[b]) for a, b in combinations(v.RATERS, 2)}
    n = maj.shape[0]
    idx = [rng.integers(0, n, n) for _ in range(n_boot)]
    out = {"rater_pairs": pairs, "range": (min(pairs.values()), max(pairs.values()))}
    for k in v.LLMS:
        boots = np.array([cohen_kappa(H[k][i], maj[i]) for i in idx])
        out[k] = {"kappa": cohen_kappa(H[k], maj), "ci": percentile_ci(boots)}
    return out
