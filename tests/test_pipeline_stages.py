"""Pipeline stages (issue 8): splitter, story/segment/lures, scramble, experiment assembly,
export/import with schema validation, `to_story` and the offline demo. No data, no network."""
import json

import numpy as np
import pytest

from analysis_lib import limit_threads
from analysis_lib.memory import data as D
from analysis_lib.memory import llm
from analysis_lib.memory import pipeline as PL
from analysis_lib.memory import validate as llm_validate
from analysis_lib.memory.recall import recall_stats
from analysis_lib.memory.recognition import recognition_stats

limit_threads(1)


def test_split_clauses_punctuation_and_conjunctions():
    text = "Yeah, I was in the boy scouts. And we was racing, but we was at the pier; so we ran, and then it rained!"
    cl = PL.split_clauses(text)
    assert cl == ["Yeah, I was in the boy scouts.", "And we was racing,", "but we was at the pier;",
                  "so we ran,", "and then it rained!"]
    assert D.tokens(" ".join(cl)) == D.tokens(text)  # every word kept, in order
    with pytest.raises(ValueError):
        PL.split_clauses(None)


@pytest.mark.parametrize("n", [4, 18, 57, 130])
def test_toy_story_has_requested_clause_count(n):
    assert len(PL.split_clauses(PL.toy_story(n, seed=n))) == n
    assert PL.toy_story(n, seed=1) == PL.toy_story(n, seed=1) != PL.toy_story(n, seed=2)


class _BadSegmenter(llm.FakeLLM):
    """Drops a word from the LLM segmentation: must be rejected in favour of the splitter."""

    def complete(self, messages, **kw):
        c = super().complete(messages, **kw)
        if "TASK: segment-story" in messages[0]["content"]:
            return llm.Completion(text=c.text.replace(" the ", " ", 1), model=self.model)
        if "TASK: write-lures" in messages[0]["content"]:
            return llm.Completion(text="1. only one lure", model=self.model)
        return c


def test_generate_segment_lures_with_validation():
    fake = llm.FakeLLM()
    text = PL.generate_story(fake, 30)
    seg = PL.segment(text, fake)
    assert seg.method == "llm" and len(seg.clauses) == 30 and seg.problem is None
    lures = PL.make_lures(fake, seg.clauses)
    assert len(lures) == 30 and not set(lures) & set(seg.clauses)
    bad = _BadSegmenter()
    seg2 = PL.segment(text, bad)
    assert seg2.method == "splitter" and "word for word" in seg2.problem and seg2.clauses == seg.clauses
    with pytest.raises(llm.LLMError, match="got 1 lures for 30"):
        PL.make_lures(bad, seg.clauses)
    assert PL.segment(text).method == "splitter"  # no backend: deterministic fallback


class _ShortStories(llm.FakeLLM):
    """Writes half the requested length unless asked with seed offset 2."""

    def complete(self, messages, seed_offset=0, **kw):
        if "TASK: generate-story" in messages[0]["content"] and seed_offset != 2:
            return llm.Completion(text=PL.toy_story(10, seed=seed_offset), model=self.model)
        return super().complete(messages, seed_offset=seed_offset, **kw)


def test_story_of_length_retries_with_other_seeds():
    text, seg, tries = PL.story_of_length(_ShortStories(), 20, tolerance=0.1)
    assert tries == 3 and len(seg.clauses) == 20
    with pytest.raises(llm.LLMError, match=r"asked for 20 clauses, got \[10, 10\]"):
        PL.story_of_length(_ShortStories(), 20, max_tries=2)


def test_scramble_map_convention():
    clauses = [f"clause {i}." for i in range(12)]
    text, smap = PL.scramble(clauses, np.random.default_rng(0))
    shown = text.split(". ")
    assert int(shown[0].split()[1].rstrip(".")) == smap[0]  # map[j] = original index shown at j
    assert sorted(smap) == list(range(12))
    # the package's own reconstruction recovers the stored map from the presented text
    assert list(D.reconstruct_scramble_map(text, clauses)) == list(smap)


def _experiment(n_recall=5, n_recog=40, L=20, scrambled=False, seed=0):
    clauses = PL.split_clauses(PL.toy_story(L, seed=seed))
    smap = PL.scramble(clauses, np.random.default_rng(seed))[1] if scrambled else None
    return PL.assemble_experiment("toy", clauses, PL.toy_lures(clauses, seed), n_recall, n_recog, seed=seed,
                                  scramble_map=smap)


def test_assemble_balance_and_ids():
    exp = _experiment(n_recog=400, L=30)
    items = np.array([it for _, it in exp.recognition])
    assert items.shape == (400, 10) and items.min() >= 0 and items.max() < 2 * exp.L
    assert all(len(set(row)) == 10 for row in items)  # no item twice for one participant
    n_old = (items < exp.L).sum(axis=1)
    assert abs(n_old.mean() - 5) < 0.3  # ≈ 50/50 overall, Binomial(10, 1/2) per participant
    assert 0.8 < np.mean((n_old >= 3) & (n_old <= 7)) < 0.97  # the data: 89% have 3–7 old items
    assert len(set(exp.recall_participants) & {s for s, _ in exp.recognition}) == 0  # different groups
    with pytest.raises(ValueError, match="lures must have one entry"):
        PL.assemble_experiment("x", exp.clauses, exp.lures[:-1], 1, 1)
    with pytest.raises(ValueError, match="n_recog"):
        PL.assemble_experiment("x", exp.clauses, exp.lures, 1, -1)


def test_export_load_roundtrip(tmp_path):
    exp = _experiment(scrambled=True)
    p = PL.export_experiment(exp, tmp_path / "exp.json")
    d = json.loads(p.read_text())
    assert d["format"] == PL.EXPERIMENT_FORMAT and len(d["recognition"]["participants"][0]["trials"]) == 10
    t0 = d["recognition"]["participants"][0]["trials"][0]
    assert t0["text"] == exp.item_text(t0["item_id"])
    back = PL.load_experiment(p)
    assert back == exp
    d["text"] = "tampered"
    (tmp_path / "bad.json").write_text(json.dumps(d))
    with pytest.raises(ValueError, match="does not match"):
        PL.load_experiment(tmp_path / "bad.json")


def _rows(exp):
    rows = [{"participant": s, "task": "recall", "recall_text": f"text of {s}, with a comma"}
            for s in exp.recall_participants]
    for slot, items in exp.recognition:
        rows += [{"participant": slot, "task": "recognition", "trial": t + 1, "item_id": i,
                  "response": "yes" if i < exp.L else "no"} for t, i in enumerate(items)]
    return rows


def test_import_valid_csv_json_jsonl(tmp_path):
    exp = _experiment(n_recog=3)
    rows = _rows(exp)
    recog = {s: {t + 1: (i, i < exp.L) for t, i in enumerate(it)} for s, it in exp.recognition}
    PL.write_responses_csv(tmp_path / "r.csv", {r["participant"]: r["recall_text"] for r in rows[:5]}, recog)
    (tmp_path / "r.json").write_text(json.dumps(rows, indent=2))
    (tmp_path / "r.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    for name in ("r.csv", "r.json", "r.jsonl"):
        resp = PL.import_responses(tmp_path / name, exp)
        assert resp.n_rows == len(rows) and not resp.errors and not resp.incomplete, name
        assert resp.recognition == recog and len(resp.recalls) == 5


def test_import_reports_bad_rows_with_line_numbers(tmp_path):
    exp = _experiment(n_recog=2)
    s1, items1 = exp.recognition[0]
    wrong_item = next(i for i in range(2 * exp.L) if i != items1[1])
    lines = ["participant,task,trial,item_id,response,recall_text",                     # 1
             'R0001,recall,,,,"a recall over\ntwo lines"',                               # 2-3
             "R0001,recall,,,,again",                                                     # 4 duplicate
             "X999,recall,,,,who",                                                        # 5 unknown
             f"{s1},recognition,1,{items1[0]},yes,",                                      # 6 ok
             f"{s1},recognition,2,{wrong_item},no,",                                      # 7 wrong item
             f"{s1},recognition,3,{items1[2]},maybe,",                                    # 8 bad response
             f"{s1},recognition,x,{items1[3]},no,",                                       # 9 not integer
             f"{s1},recognition,11,{items1[3]},no,",                                      # 10 trial range
             f"{s1},recognition,1,{items1[0]},no,",                                       # 11 duplicate trial
             "R0002,memory,,,,",                                                          # 12 bad task
             ]
    p = tmp_path / "bad.csv"
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(PL.ResponseImportError) as e:
        PL.import_responses(p, exp)
    got = {ln for ln, _ in e.value.errors}
    assert got == {4, 5, 7, 8, 9, 10, 11, 12}
    assert "bad.csv:7: item_id" in str(e.value)
    resp = PL.import_responses(p, exp, strict=False)
    # nothing silently dropped: every row is either accepted or reported
    n_ok = len(resp.recalls) + sum(len(t) for t in resp.recognition.values())
    assert n_ok + len(resp.errors) == resp.n_rows == 10  # 10 records on lines 2..12
    assert resp.incomplete == (s1,)  # 1 of 10 trials: incomplete, reported
    # JSON list: line numbers of each object; JSON lines: the line
    objs = [{"participant": "R0001", "task": "recall", "recall_text": "ok"},
            {"participant": "R0002", "task": "recall", "recall_text": "x", "extra": 1}]
    (tmp_path / "b.json").write_text(json.dumps(objs, indent=2))
    with pytest.raises(PL.ResponseImportError) as e:
        PL.import_responses(tmp_path / "b.json", exp)
    # "[" on line 1, object 1 on lines 2-6, object 2 from line 7
    assert [ln for ln, _ in e.value.errors] == [7] and "unknown field" in e.value.errors[0][1]
    (tmp_path / "b.jsonl").write_text(json.dumps(objs[0]) + "\n{broken\n")
    with pytest.raises(PL.ResponseImportError, match="b.jsonl:2: invalid JSON"):
        PL.import_responses(tmp_path / "b.jsonl", exp)
    (tmp_path / "h.csv").write_text("participant,task,colour\n")
    with pytest.raises(PL.ResponseImportError, match=r"h.csv:1: .*unknown column"):
        PL.import_responses(tmp_path / "h.csv", exp)


def test_to_story_feeds_the_analysis():
    exp = _experiment(n_recall=3, n_recog=4)
    recog = {s: {t + 1: (i, i < exp.L) for t, i in enumerate(it)} for s, it in exp.recognition}
    resp = PL.Responses({"R0001": "a", "R0002": "", "R0003": "b"}, recog, (), (), 0)
    st = PL.to_story(exp, resp, [[1, 2], [], [3, 4, 5]])
    assert recall_stats(st).R == pytest.approx(5 / 3)
    rc = recognition_stats(st)  # perfect participants: all old said yes, all lures no
    assert rc.counts.misses == 0 and rc.counts.fas == 0 and rc.M == pytest.approx(exp.L)
    with pytest.raises(ValueError, match="one entry per recall"):
        PL.to_story(exp, resp, [[1]])


def test_demo_offline_local_server(tmp_path):
    from memory_fakes import FakeOpenAIServer

    with FakeOpenAIServer() as srv:
        cfg = llm.LLMConfig.from_env({llm.ENV_BASE_URL: srv.base_url, llm.ENV_MODEL: "fake-llm"}, backoff_base=0.0)
        b = llm.OpenAIBackend(cfg, llm.DiskCache(tmp_path / "cache"))
        with pytest.warns(llm_validate.UnvalidatedBackendWarning):
            r = PL.demo(n_clauses=16, n_recall=8, n_recog=8, seed=1, out_dir=tmp_path, backend=b)
    assert r.mode == "backend" and r.segmentation_method == "llm" and r.n_clauses == 16
    n_sent = sum(bool(t.strip()) for t in r.story.recalls)  # empty recalls are not sent
    assert n_sent >= 6
    assert r.requests == 3 + n_sent  # story, segmentation, lures, one scoring request per recall ...
    assert r.rescoring.stats["cache_hits"] == n_sent  # ... and the second pass is served by the cache
    assert r.scoring.invalid == [] and r.excluded_recalls == ()
    assert r.kappa_vs_truth > 0.5 and 0 < r.M <= 16
    assert [s for s, _, _ in r.stages] == ["generate+segment", "lures", "assemble+export",
                                           "simulate+import", "score", "re-score", "analyse"]
    assert PL.load_experiment(r.experiment_path).L == 16
    rs = PL.demo(n_clauses=16, n_recall=4, n_recog=4, scrambled=True, mode="fake", out_dir=tmp_path / "f")
    assert rs.story.scrambled is False and rs.story.scramble_map is not None
    with pytest.raises(ValueError, match="mode must be"):
        PL.demo(mode="replay")
    rf = PL.demo(n_clauses=54, n_recall=30, n_recog=10, out_dir=tmp_path / "k")  # default: in-process FakeLLM, cached
    assert rf.mode == "fake" and rf.kappa_vs_truth == pytest.approx(1.0)  # ≈ 1 by construction, at any L
    assert rf.rescoring.stats["requests"] == rf.scoring.stats["requests"]  # second pass: cache only


def test_misnumbered_lure_list_is_an_invalid_answer_not_a_crash():
    """Seen live with SmolLM2: a numbered list that skips a number must surface as LLMError (so the
    demo reports it and falls back), never as a bare ValueError from the parser."""
    class Skipping:
        def chat(self, messages, **kw):
            return "1. a lure\n2. another\n4. skipped three"

    with pytest.raises(llm.LLMError, match="lures: segmentation line 3 is not numbered 3"):
        PL.make_lures(Skipping(), ["one", "two", "three"])
