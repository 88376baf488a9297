"""Fast unit tests of analysis_lib.memory that need no data, no network and no torch (spec §8)."""
import hashlib
import io
import os

import numpy as np
import pytest
from scipy.stats import norm

from analysis_lib.memory import data as D
from analysis_lib.memory import order as O
from analysis_lib.memory import recall as R
from analysis_lib.memory import recognition as G
from analysis_lib.memory import scoring as Sc
from analysis_lib.memory import stats as St
from analysis_lib.memory import theory as T
from analysis_lib.memory.privacy import find_participant_ids, scan_executed


# ---------------------------------------------------------------- recognition
def test_retained_M_inverts_guessing_model():
    rng = np.random.default_rng(0)
    L = rng.integers(5, 200, 500).astype(float)
    M = rng.random(500) * L
    pf = rng.random(500) * 0.9
    ph = M / L + pf * (1 - M / L)
    np.testing.assert_allclose(G.retained_M(ph, pf, L), M, atol=1e-12, rtol=0)


def test_retained_M_rejects_bad_rates():
    with pytest.raises(ValueError, match="pf"):
        G.retained_M(0.8, 1.0, 10)
    with pytest.raises(ValueError, match="L"):
        G.retained_M(0.8, 0.1, 0)


def test_dprime_is_probit_difference_and_correction_only_at_edges():
    assert G.dprime(0.8, 0.2) == pytest.approx(norm.ppf(0.8) - norm.ppf(0.2), abs=1e-14)
    assert G.corrected_rate(3, 10) == 0.3                    # interior: untouched
    assert G.corrected_rate(0, 10) == pytest.approx(0.5 / 11)  # edge: log-linear
    assert G.corrected_rate(10, 10) == pytest.approx(10.5 / 11)
    with pytest.raises(ValueError, match="strictly"):
        G.dprime(1.0, 0.2)


def _toy_story(L=4, items=None, values=None, scores=((1, 2), (), (2, 2, 3)), ordered=None, smap=None,
               name="toy"):
    items = np.array([[0, 1, 4, 8], [1, 5, 6, 2]]) if items is None else np.asarray(items)
    values = np.array([[0, 1, 3, 0], [0, 2, 3, 1]]) if values is None else np.asarray(values)
    return D.Story(name=name, clauses=tuple(f"c{i}" for i in range(L)), narrative="", lures=(),
                   recall_ids=tuple(f"P{i}" for i in range(len(scores))), recalls=("",) * len(scores),
                   recalls_segmented=("1. a\n2. b",) + ("",) * (len(scores) - 1), scores=tuple(scores),
                   scores_ordered=tuple(ordered or scores), completions=("",) * len(scores),
                   recog_ids=("Q0", "Q1"), recog_item=items, recog_value=values, scramble_map=smap)


def test_recognition_counts_old_lure_and_out_of_range_ids():
    s = _toy_story()  # L = 4: ids 0..3 old, 4..7 lures, 8 out of range (value hit: counted by value)
    c = G.recognition_counts(s.recog_value)
    assert (c.hits, c.misses, c.fas, c.crs) == (3, 2, 1, 2)
    ph, n = G.p_hit_by_clause(s)
    # clause-level: id 8 skipped; clause 0: 1 hit / 1; clause 1: miss + hit; clause 2: miss
    assert n.tolist() == [1, 2, 1, 0]
    assert ph[:3].tolist() == [1.0, 0.5, 0.0] and np.isnan(ph[3])
    assert s.recog_valid.sum() == 7


# ---------------------------------------------------------------- recall
def test_hit_matrix_and_prec_with_empty_and_duplicates():
    scores = [(1, 2), (), (2, 2, 3)]
    h = R.hit_matrix(scores, 4)
    assert h.tolist() == [[1, 1, 0, 0], [0, 0, 0, 0], [0, 1, 1, 0]]
    p = R.p_rec(scores, 4)
    assert p.sum() == pytest.approx(R.recall_counts(scores).mean())  # R = Σ P_rec = mean count
    assert p[1] == pytest.approx(2 / 3)                                # empty recall counts
    with pytest.raises(ValueError, match="outside"):
        R.hit_matrix([(5,)], 4)


def test_recall_stats_and_serial_position():
    s = _toy_story()
    rs = R.recall_stats(s)
    assert rs.R == pytest.approx(4 / 3) and rs.n_empty == 1
    assert rs.C == pytest.approx(2 / 3)
    prec = np.array([0.1, 0.2, 0.3])
    np.testing.assert_array_equal(R.serial_position(prec, [2, 0, 1]), [0.3, 0.1, 0.2])


# ---------------------------------------------------------------- parser
@pytest.mark.parametrize("text, expected", [
    ("1. a - x\n2. b - Not given.\n\nThe numbers ... are: (1, 2, 5)", [1, 2, 5]),
    ("pieces are {3, 1, 9}", [1, 3, 9]),
    ("list [4, 2] then the final answer: [7, 8]", [7, 8]),
    ("The recall corresponds to the pieces 1, 9, 12, and 16.", [1, 9, 12, 16]),
    ('{"recalled": [2, 3, 40]}', [2, 3]),              # JSON; 40 out of range dropped
    ("are: (0, 1, 21, 3)", [1, 3]),                       # out of range dropped
    ("The numbers are: ()", []),
    ("", []),
])
def test_parse_scoring_completion_formats(text, expected):
    assert Sc.parse_scoring_completion(text, 20) == expected


def test_parse_rejects_bad_L():
    with pytest.raises(ValueError, match="L"):
        Sc.parse_scoring_completion("(1)", 0)


# ---------------------------------------------------------------- order
def test_kendall_order():
    assert O.kendall_order([[1, 2, 3, 4]]).tolist() == [1.0]
    assert O.kendall_order([[4, 3, 2, 1]]).tolist() == [-1.0]
    assert O.kendall_order([[1, 2]]).size == 0                     # < 3 clauses skipped
    assert O.dedupe_first([3, 1, 3, 2, 1]) == [3, 1, 2]
    assert O.kendall_order([[1, 2, 1, 3]]).tolist() == [1.0]       # dedupe keeps the first 1
    # presentation order: clause i shown at position pos[i]
    pos = np.array([3, 2, 1, 0])
    assert O.kendall_order([[1, 2, 3, 4]], pos).tolist() == [-1.0]
    assert O.forward_transitions([[1, 3, 2, 4]]).tolist() == [pytest.approx(2 / 3)]


# ---------------------------------------------------------------- scramble map
def test_reconstruct_scramble_map_exact():
    rng = np.random.default_rng(3)
    words = "the cat sat on a mat while dogs ran fast and birds sang loud songs".split()
    clauses = [" ".join(rng.choice(words, rng.integers(2, 6))) + "," for _ in range(25)]
    perm = rng.permutation(25)
    text = " ".join(clauses[j].capitalize().rstrip(",") + "." for j in perm)
    m = D.reconstruct_scramble_map(text, clauses)
    assert [clauses[i].lower() for i in m] == [clauses[j].lower() for j in perm]
    inv = D.invert_map(m)
    assert np.all(np.asarray(m)[inv] == np.arange(25))


def test_reconstruct_scramble_map_refuses_non_permutation():
    with pytest.raises(ValueError, match="permutation"):
        D.reconstruct_scramble_map("alpha beta gamma", ["alpha", "beta"])


def test_parse_segmentation():
    assert D.parse_segmentation("1. a b\n2. c\n") == ["a b", "c"]
    with pytest.raises(ValueError, match="numbered"):
        D.parse_segmentation("1. a\n3. b")
    assert D.count_numbered_lines("1. a\n2. b\n\n") == 2 and D.count_numbered_lines(float("nan")) == 0


# ---------------------------------------------------------------- stats
def test_cohen_kappa_hand_example():
    # 2x2 table: both yes 20, a yes/b no 5, a no/b yes 10, both no 15 -> po 0.7, pe 0.5 -> 0.4
    a = [1] * 20 + [1] * 5 + [0] * 10 + [0] * 15
    b = [1] * 20 + [0] * 5 + [1] * 10 + [0] * 15
    assert St.cohen_kappa(a, b) == pytest.approx(0.4)


def test_linfit_matches_polyfit():
    rng = np.random.default_rng(1)
    x, y = rng.random(30), rng.random(30)
    f = St.linfit(x, y)
    a, b = np.polyfit(x, y, 1)
    assert (f.slope, f.intercept) == (pytest.approx(a, abs=1e-12), pytest.approx(b, abs=1e-12))
    assert f.r == pytest.approx(np.corrcoef(x, y)[0, 1], abs=1e-12)
    with pytest.raises(ValueError, match="same length"):
        St.linfit([1, 2, 3], [1, 2])


# ---------------------------------------------------------------- theory
def test_walk_small_fixed_matrix():
    # items 0-1 are each other's best match; 2's best is 0; 3's best is 2
    S = np.array([[0, .9, .5, .1], [.9, 0, .2, .3], [.5, .2, 0, .8], [.1, .3, .8, 0]])
    t2 = T.top2_neighbours(S)
    assert t2[:, 0].tolist() == [1, 0, 3, 2]
    # from 0: 0->1, 1's best is 0 (just left) so 1->3 (0.3 > 0.2), 3->2, 2's best is 3 (just left): 2->0, 0->1 repeats
    assert T.walk_from(t2, 0) == 4
    # from 3: 3->2, 2->0 (3 just left), 0->1, 1->3 (0 just left), 3->2 repeats
    assert T.walk_from(t2, 3) == 4


def test_walk_ratio_M64():
    r = T.walk_recall(T.WalkParams(64, 2000), np.random.default_rng(0))
    assert r.mean() / T.random_list_law(64) == pytest.approx(0.974, abs=0.035)
    r2 = T.walk_recall(T.WalkParams(64, 50), np.random.default_rng(0))
    assert np.array_equal(r2, T.walk_recall(T.WalkParams(64, 50), np.random.default_rng(0)))  # seeded


def test_walk_params_validate():
    with pytest.raises(ValueError, match="M must"):
        T.WalkParams(2)


def test_rtm_identities():
    Tm = T.rtm_T(40, 4)
    np.testing.assert_allclose(Tm.sum(axis=0), 1.0, atol=1e-12)
    assert T.rtm_C(30, 4, 1) == pytest.approx(1.0)
    # large N: C -> K^{ℓ-1} from below (the empty-node probability decays like ln N / N)
    c300, c3000 = T.rtm_C(300, 3, 3), T.rtm_C(3000, 3, 3)
    assert c300 < c3000 < 9.0 and c3000 == pytest.approx(9.0, rel=0.015)
    np.testing.assert_allclose(T.rtm_C_curve(50, 4, 3)[[10, 50]], [T.rtm_C(10, 4, 3), T.rtm_C(50, 4, 3)], rtol=1e-10)
    mc, se = T.rtm_C_mc(130, 4, 4, 2000, np.random.default_rng(0))
    assert abs(mc - T.rtm_C(130, 4, 4)) < 3 * se + 1e-9
    x = T.sample_log_compression(4, 4, 40000, np.random.default_rng(2))
    m, v = T.compression_moments(4, 4)
    assert m == pytest.approx(-3 * 11 / 6) and v == pytest.approx(3 * 49 / 36)
    assert abs(x.mean() - m) < 3 * x.std() / np.sqrt(x.size)
    # variance SE ≈ sqrt((μ4 − σ⁴)/n)
    se_v = np.sqrt(np.mean((x - x.mean()) ** 4) - x.var() ** 2) / np.sqrt(x.size)
    assert abs(x.var() - v) < 3 * se_v


# ---------------------------------------------------------------- data layer without data
def test_anonymize_never_returns_raw_ids():
    raw = [f"{i:024x}" for i in range(50)]
    out = D.anonymize(raw, salt="s")
    assert len(set(out)) == 50 and not set(out) & set(raw)
    assert all(not find_participant_ids(o) for o in out)
    assert D.anonymize(raw, salt="s") == out and D.anonymize(raw, salt="t") != out


def test_find_data_dir_env(tmp_path, monkeypatch):
    monkeypatch.setenv(D.DATA_ENV, str(tmp_path))
    assert D.find_data_dir() is None                   # no compiled_data/ there
    (tmp_path / "compiled_data").mkdir()
    assert D.find_data_dir() == tmp_path.resolve()
    monkeypatch.setenv(D.DATA_ENV, str(tmp_path / "nope"))
    with pytest.raises(D.DataUnavailable, match="NARRATIVE_DATA_DIR"):
        D.require_data_dir()


def _fake_files(tmp_path, content=b"not a pickle"):
    return {"words/x.pkl": hashlib.sha256(content).hexdigest()}


def test_verify_refuses_mismatch_before_unpickling(tmp_path, monkeypatch):
    rel = "words/serial_position_curve.pkl"
    (tmp_path / "compiled_data").mkdir()
    (tmp_path / "words").mkdir()
    # a "pickle" that would run code if unpickled: the checksum must stop it first
    (tmp_path / rel).write_bytes(b"cos\nsystem\n(S'echo pwned'\ntR.")
    with pytest.raises(D.ChecksumError, match="serial_position_curve.pkl"):
        D.read_verified(rel, tmp_path)
    with pytest.raises(D.ChecksumError, match="not in the pinned"):
        D.verify_file(tmp_path, "words/other.pkl")


class _FakeResponse(io.BytesIO):
    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


def test_download_with_fake_opener(tmp_path, monkeypatch):
    good = b"payload-one"
    files = {"words/rec_pos_words_128.pkl": good, "words/serial_position_curve.pkl": b"payload-two"}
    monkeypatch.setattr(D, "PINNED_SHA256", {k: hashlib.sha256(v).hexdigest() for k, v in files.items()})
    urls = []

    def opener(url, timeout):
        urls.append(url)
        rel = url.split("/data/", 1)[1]
        return _FakeResponse(files[rel])

    D.download_data(tmp_path, opener=opener, progress=False)
    assert all(D.COMMIT in u and u.startswith("https://raw.githubusercontent.com/mkatkov/") for u in urls)
    for rel, payload in files.items():
        assert (tmp_path / rel).read_bytes() == payload
    assert D.parse_sha256sums((tmp_path / "SHA256SUMS").read_text()) == D.PINNED_SHA256
    urls.clear()
    D.download_data(tmp_path, opener=opener, progress=False)      # already there: no refetch
    assert urls == []


def test_download_rejects_tampered_file(tmp_path, monkeypatch):
    monkeypatch.setattr(D, "PINNED_SHA256", {"words/a.pkl": hashlib.sha256(b"good").hexdigest()})
    with pytest.raises(D.ChecksumError, match="words/a.pkl"):
        D.download_data(tmp_path, opener=lambda url, timeout: _FakeResponse(b"evil"), progress=False)
    assert not (tmp_path / "words" / "a.pkl").exists()
    assert not [p for p in (tmp_path / "words").iterdir()]           # temp file removed


def test_download_from_local_http_server(tmp_path, monkeypatch):
    import functools
    import http.server
    import threading

    src = tmp_path / "srv" / "data" / "words"
    src.mkdir(parents=True)
    (src / "a.pkl").write_bytes(b"served")
    monkeypatch.setattr(D, "PINNED_SHA256", {"words/a.pkl": hashlib.sha256(b"served").hexdigest()})
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path / "srv"))
    handler.log_message = lambda *a, **k: None
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    try:
        base = f"http://127.0.0.1:{srv.server_port}/data/{{path}}"
        D.download_data(tmp_path / "out", base_url=base, progress=False)
    finally:
        srv.shutdown()
    assert (tmp_path / "out" / "words" / "a.pkl").read_bytes() == b"served"


def test_privacy_scanner(tmp_path):
    pid = "5f1e2d3c4b5a69788796a5b4"
    assert find_participant_ids(f"id {pid} x") == [pid]
    assert find_participant_ids("a" * 32) == []          # widget model id: longer hex run
    assert find_participant_ids("P3f2a1b0c9d") == []     # our pseudonym
    html = tmp_path / "x.html"
    html.write_text(f"<td>{pid}</td>")
    assert scan_executed([html]) == {str(html): [pid]}


def test_order_rejects_out_of_range_and_raster_shape():
    with pytest.raises(ValueError, match="outside"):
        O.kendall_order([[1, 2, 9]], np.arange(4))
    img = O.raster([[2, 1], [1, 2, 3, 3]], 3)
    assert img.shape == (3, 2)                      # depth = longest distinct recall; sorted by count
    assert img[:, 0].tolist() == [pytest.approx(1 / 3), pytest.approx(2 / 3), 1.0]
    assert np.isnan(img[2, 1]) and img[0, 1] == pytest.approx(2 / 3)


# ---------------------------------------------------------------- caches and claim kinds
class _CountingMiniLM:
    """Stands in for the SentenceTransformer behind `embed.minilm_encode` (records every encode call)."""

    def __init__(self):
        self.calls = []

    def encode(self, texts, batch_size, **kw):
        self.calls.append((list(texts), batch_size))
        v = np.array([[len(t), 1.0] for t in texts])
        return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_minilm_embeddings_cached_by_texts_params_model_and_code(tmp_path, monkeypatch):
    from analysis_lib import _cache
    from analysis_lib.memory import embed as E

    fake = _CountingMiniLM()
    monkeypatch.setattr(E, "load_minilm", lambda: fake)
    a = E.embed(["aa", "b", "aa"], tmp_path)
    assert fake.calls == [(["b", "aa"], 32)]               # distinct texts, sorted by length, encoded once
    b = E.embed(["b", "aa"], tmp_path)                     # same inputs: served from the cache
    assert len(fake.calls) == 1
    np.testing.assert_allclose(a[[1, 0]], b, rtol=1e-6)
    assert len(list(tmp_path.glob("minilm_encode-*.pkl"))) == 1
    E.embed(["b", "aa"], tmp_path, batch_size=16)          # a changed parameter recomputes
    E.embed(["b", "aa", "c"], tmp_path)                    # so do changed texts
    assert len(fake.calls) == 3
    ident = E.minilm_identity()
    monkeypatch.setattr(E, "minilm_identity", lambda: {**ident, "sentence-transformers": "99.0"})
    E.embed(["b", "aa"], tmp_path)                         # another model version recomputes
    assert len(fake.calls) == 4
    monkeypatch.setattr(_cache, "code_fingerprint", lambda fn: "edited-code")
    E.embed(["b", "aa"], tmp_path)                         # and so does changed code
    assert len(fake.calls) == 5
    E.embed(["b", "aa"], None)                             # no cache folder: always computed
    assert len(fake.calls) == 6


def test_minilm_encode_refuses_another_model_version(monkeypatch):
    from analysis_lib.memory import embed as E

    monkeypatch.setattr(E, "load_minilm", lambda: _CountingMiniLM())
    with pytest.raises(ValueError, match="installed"):
        E.minilm_encode(["a"], model={"model": "other"})


def test_custom_encoder_is_never_cached(tmp_path):
    from analysis_lib.memory import embed as E

    calls = []

    def enc(texts):
        calls.append(list(texts))
        return np.ones((len(texts), 2))

    E.embed(["x", "y"], tmp_path, enc)
    E.embed(["x", "y"], tmp_path, enc)
    assert len(calls) == 2 and not list(tmp_path.iterdir())


def test_paper_claims_table_and_skipped_kinds():
    from analysis_lib.claims import PaperClaim
    from analysis_lib.memory import NARRATIVE_MEMORY_CLAIMS
    from analysis_lib.memory import analysis as A
    from analysis_lib.memory.paper_claims import skipped_kind

    assert [c.id for c in NARRATIVE_MEMORY_CLAIMS] == [f"C{i}" for i in range(1, 14)]
    assert all(isinstance(c, PaperClaim) for c in NARRATIVE_MEMORY_CLAIMS)
    ids = {c.id for c in NARRATIVE_MEMORY_CLAIMS}
    for key in A.data_claim_keys(minilm=True):             # every skipped data record gets a kind
        kind = skipped_kind(key)
        assert kind["kind"] in ("result", "check") and kind.get("supports", "C1") in ids, key
    for key in ("memory.data.boyscout_map_bijection", "memory.data.checksums_ok", "memory.recog.sanity",
                "memory.embed.stored_r_consistency", "memory.data.prec_matches_stored"):
        assert skipped_kind(key) == {"kind": "check"}, key
    assert skipped_kind("memory.order.tau_orig.stein") == {"kind": "result", "supports": "C5"}
    assert skipped_kind("memory.recall.C.stein")["supports"] == "C9"
    assert skipped_kind("memory.recog.dprime_trial_slope.intact")["supports"] == "C8"
    with pytest.raises(KeyError):
        skipped_kind("memory.unknown.key")
