"""The authors' human data: find it, verify it, load it into typed story objects.

Every pickle is checked against a SHA-256 list pinned in this module *before* it is unpickled
(unpickling runs code). Participant ids are replaced by a salted hash as the file is read, so no
raw id ever leaves this module. The quirks of the data set (spec §3) are handled here, once:

- `hester_v2-church-scrambled` stores its segmentation in presentation order but its scores and
  recognition ids in original order: its `clauses` are taken from the intact story.
- `boyscout-scrambled` has no `scramble_map`: it is reconstructed by aligning the clauses to the
  scrambled narrative (`reconstruct_scramble_map`) and the result must be a bijection.
- empty recalls are kept (they count in P_rec); recognition ids >= 2L (two trials of
  stein-scrambled) are kept in the trial arrays and flagged by `Story.recog_valid`.
"""
from __future__ import annotations

import functools
import hashlib
import os
import re
import secrets
import shutil
import tempfile
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Mapping

import numpy as np

from .._paths import repo_root

DATA_ENV = "NARRATIVE_DATA_DIR"
SALT_ENV = "NARRATIVE_ID_SALT"
REPO = "mkatkov/llm-narrative-analysis"
COMMIT = "0b01b7ef12caace8c123fe45484f707c30629866"
RAW_URL = "https://raw.githubusercontent.com/{repo}/{commit}/data/{path}"

# The published checksums (shared/narrative_data/SHA256SUMS), pinned here so that a tampered list
# next to the data cannot vouch for tampered pickles.
PINNED_SHA256: dict[str, str] = {
    "compiled_data/boyscout-scrambled.pkl": "ab5b16430750f06bd96ee556faad9e0e4c2c5f88196499eefdda9790bb53356a",
    "compiled_data/boyscout.pkl": "20f17f65e5b0ef49151c7c9bcbb999e2809214c9fd067f20755f02f3bfab8514",
    "compiled_data/hester_v1-park.pkl": "dd4f10e279bca7f54a6037d9afa76d2ee9eb82a0b7c1c9dd27442c48a5854b9b",
    "compiled_data/hester_v2-church-scrambled.pkl": "6d1c8fe36b6877b04c52ef9b581fa5795d7665e221c53c705a6a91790fd88bb0",
    "compiled_data/hester_v2-church.pkl": "fe67a9cfa56c19b56b5f86da7933d57cd5f36ba30a166130fd3e49d65dd80282",
    "compiled_data/panic.pkl": "ce01587ade7dcf8b79b51ee26dafb9b9169d5afedc1ab0429edfa074a3d3be81",
    "compiled_data/schissel_v1-pool.pkl": "796eb1671eaaee74988565e43a6d05d9b87b1a0ae8c3bf348aa020004609732d",
    "compiled_data/schissel_v2-lake.pkl": "2510810204ecb16ee3699dcbdf7d8e892d6cf264a317ec11e68ab5c4969215ae",
    "compiled_data/stein-scrambled.pkl": "0ed3e133573c03792f2f1b1e73f0a2e9e7ac2edca1a79068fc85b9a2555ed657",
    "compiled_data/stein.pkl": "a92cd17b2474374c1296a9a8f06dfd37d9f73be62337be83d9cb01b9dcacd03b",
    "compiled_data/triplett_v1-rookie-scrambled.pkl": "ad339e9f70ff8eeb23121f5c5604ac7e6a5fc371cb61dc140c90bbbdc7242365",
    "compiled_data/triplett_v1-rookie.pkl": "712a968d62239498bd1f31beb70e208e86b7413592588c2f78528b5f649208a3",
    "compiled_data/triplett_v2-catlady.pkl": "9327e69ee0c2a781468596b2692880da0d47983fdddb5c3c90bfd5b51879b5ea",
    "embeddings/sim-to-whole_ada-002.pkl": "6c0d8d88aaef1e1c25c4b510bdebf57d71d1aa95945c0256138a2c0b23ad3296",
    "embeddings/sim-to-whole_text-embedding-3-large.pkl": "c5fc549fb5db24831b34b1d0867f7e8e139ef3b281d7179cb7380993d880762f",
    "embeddings/sim-to-whole_text-embedding-3-large_run2.pkl": "3fcb72fed39e46b894a68b56da674fe3a269c1148a74a62268b602b7cd4ae20d",
    "embeddings/sim-to-whole_text-embedding-3-small.pkl": "158d84dbf077d1df8ce2ce7d4b84c036d1db021a544704a6037a459559df1074",
    "embeddings/sim-to-whole_text-embedding-3-small_run2.pkl": "38a01dc1f966eeb69dcc5a272bc6ac971cb4a168c1adcf93cf23baad333eda10",
    "recall_scores/panic_fine44_a1.pkl": "0c54e2ddf562660cbdb4ee46c8fe9ea38293f4b4f9b6f81898ca5c48f819b986",
    "recall_scores/panic_fine44_a2.pkl": "b7c79a43258d6d2d4163bb01a5b8c9df47e8de8a68078cd9e826bf6c0a41c108",
    "recall_scores/panic_fine44_a3.pkl": "c94e8d3c2aaf5d90fea014d44f6d7858facc7c220bacaa7c1e7823b03fe12fde",
    "recall_scores/panic_fine44_prompt0_gpt-3.5-turbo-0613_set1.pkl": "de96cd134a00dc38efef4512e2446621b1b950bba80a3b6f6fe456ce0694a7e0",
    "recall_scores/panic_fine44_prompt0_gpt-4-0613_set1.pkl": "2ed0c0a08bdbb8dcfc4a793f192d8644fc4544a7630709527b9c9bd6e7ce65df",
    "recall_scores/panic_fine44_prompt0_text-davinci-003_set1.pkl": "017e959ad98e913aba4c175d6228cd8e3fcbb2d5e15427f3ada5e78b3684b192",
    "recall_scores/panic_segmentation.pkl": "4563f6f6a910c8431daa4b44d1d7a3e4cd97d6cb35cdb64282b7fe755b73b461",
    "words/rec_pos_words_128.pkl": "6a6ead805d203696d268b45870572e539f202234ce8d86e63d08bface0879d89",
    "words/serial_position_curve.pkl": "cd59877a0c31b8cf098e0e50f32f80b29e481198d3cd083108328d97aa3c1194",
}

# Story table of spec §3: name -> (L, N recall, N recognition). Scrambled sets name their intact story.
STORY_TABLE: dict[str, tuple[int, int, int]] = {
    "schissel_v1-pool": (18, 56, 100),
    "schissel_v2-lake": (18, 100, 100),
    "boyscout": (19, 100, 99),
    "boyscout-scrambled": (19, 100, 100),
    "triplett_v1-rookie": (32, 100, 100),
    "triplett_v1-rookie-scrambled": (32, 100, 100),
    "triplett_v2-catlady": (32, 101, 100),
    "hester_v1-park": (54, 98, 99),
    "hester_v2-church": (54, 100, 99),
    "hester_v2-church-scrambled": (54, 101, 99),
    "panic": (56, 100, 82),
    "stein": (130, 99, 99),
    "stein-scrambled": (130, 100, 99),
}
STORIES: tuple[str, ...] = tuple(STORY_TABLE)
SCRAMBLED: tuple[str, ...] = tuple(s for s in STORIES if s.endswith("-scrambled"))
INTACT: tuple[str, ...] = tuple(s for s in STORIES if not s.endswith("-scrambled"))
# The authors' fits: intact stories without the validation story `panic`.
FIT_STORIES: tuple[str, ...] = tuple(s for s in INTACT if s != "panic")
SCRAMBLE_PAIRS: dict[str, str] = {s: s[: -len("-scrambled")] for s in SCRAMBLED}

VALUE_CODES: dict[str, int] = {"hit": 0, "miss": 1, "fa": 2, "cr": 3}
"""Recognition outcomes as small integers (`Story.recog_value`)."""


class ChecksumError(RuntimeError):
    """A data file is missing or its SHA-256 differs from the pinned list."""


class DataUnavailable(RuntimeError):
    """No data directory was found (set NARRATIVE_DATA_DIR or download the data)."""


# --------------------------------------------------------------------------- locating + checking
def default_data_dir() -> Path:
    """`<repo root>/../shared/narrative_data`: where developers' checkouts and CI keep the data."""
    return repo_root().parent / "shared" / "narrative_data"


def find_data_dir(path: str | os.PathLike | None = None) -> Path | None:
    """The data directory: `path`, else `$NARRATIVE_DATA_DIR`, else the default when it exists.

    Returns None when nothing is there (the notebook then says so and falls back).
    """
    for candidate in (path, os.environ.get(DATA_ENV) or None):
        if candidate:
            p = Path(candidate).expanduser()
            return p.resolve() if (p / "compiled_data").is_dir() else None
    p = default_data_dir()
    return p.resolve() if (p / "compiled_data").is_dir() else None


def require_data_dir(path: str | os.PathLike | None = None) -> Path:
    d = find_data_dir(path)
    if d is None:
        raise DataUnavailable(
            f"narrative data not found (looked at {path or os.environ.get(DATA_ENV) or default_data_dir()}); "
            f"set {DATA_ENV} or call analysis_lib.memory.data.download_data()"
        )
    return d


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def parse_sha256sums(text: str) -> dict[str, str]:
    """`<hex>  ./path` lines (the `sha256sum` format) -> {path: hex}."""
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        m = re.fullmatch(r"([0-9a-fA-F]{64})\s+\*?(?:\./)?(\S.*)", line)
        if not m:
            raise ValueError(f"SHA256SUMS: malformed line {line!r}")
        out[m.group(2)] = m.group(1).lower()
    return out


def _pinned_path(data_dir, relpath: str, expected: Mapping[str, str] | None) -> tuple[Path, str]:
    """The path of one pinned file and its pinned SHA-256; ChecksumError if it is not pinned or missing."""
    expected = PINNED_SHA256 if expected is None else expected
    if relpath not in expected:
        raise ChecksumError(f"{relpath}: not in the pinned checksum list; refusing to unpickle it")
    path = Path(data_dir) / relpath
    if not path.is_file():
        raise ChecksumError(f"{relpath}: missing from {data_dir}")
    return path, expected[relpath]


def _check_digest(relpath: str, digest: str, pinned: str) -> None:
    if digest != pinned:
        raise ChecksumError(f"{relpath}: SHA-256 mismatch (got {digest[:12]}…, expected "
                            f"{pinned[:12]}…); refusing to unpickle it")


def verify_file(data_dir: Path, relpath: str, expected: Mapping[str, str] | None = None) -> Path:
    """Check one file against the pinned SHA-256 and return its path; raise ChecksumError otherwise."""
    path, pinned = _pinned_path(data_dir, relpath, expected)
    _check_digest(relpath, sha256_file(path), pinned)
    return path


def verify_checksums(data_dir: str | os.PathLike | None = None) -> dict[str, bool]:
    """Verify every pinned file (and that a `SHA256SUMS` beside them agrees with the pinned list).

    Returns {relpath: True}; raises ChecksumError naming the first bad file.
    """
    d = require_data_dir(data_dir)
    sums = d / "SHA256SUMS"
    if sums.is_file():
        listed = parse_sha256sums(sums.read_text())
        for rel, hexd in listed.items():
            if PINNED_SHA256.get(rel) != hexd:
                raise ChecksumError(f"{rel}: SHA256SUMS beside the data disagrees with the pinned list")
    return {rel: bool(verify_file(d, rel)) for rel in sorted(PINNED_SHA256)}


def read_verified_bytes(data_dir, relpath: str, expected: Mapping[str, str] | None = None) -> bytes:
    """The bytes of one pinned file, read once and checked against its SHA-256: the caller
    unpickles exactly the bytes that were hashed (a file swapped after the check is never read)."""
    path, pinned = _pinned_path(data_dir, relpath, expected)
    blob = path.read_bytes()
    _check_digest(relpath, hashlib.sha256(blob).hexdigest(), pinned)
    return blob


@functools.lru_cache(maxsize=64)
def _read_verified(data_dir: str, relpath: str):
    import io

    import pandas as pd

    return pd.read_pickle(io.BytesIO(read_verified_bytes(data_dir, relpath)))  # hash and unpickle the same bytes


def read_verified(relpath: str, data_dir: str | os.PathLike | None = None):
    """Unpickle one data file with `pandas.read_pickle` after verifying its SHA-256 (memoised)."""
    return _read_verified(str(require_data_dir(data_dir)), relpath)


def clear_cache() -> None:
    """Forget loaded files (benchmarks time cold loads with it)."""
    _read_verified.cache_clear()
    _load_story_cached.cache_clear()


# --------------------------------------------------------------------------- download
def download_data(dest: str | os.PathLike, *, files: Iterable[str] | None = None,
                  opener: Callable | None = None, base_url: str = RAW_URL, timeout: float = 60.0,
                  progress: bool = True) -> Path:
    """Fetch the data files of the authors' repository at the pinned commit into `dest`.

    Each file is written to a temporary name, its SHA-256 checked against the pinned list, and
    only then moved into place; a mismatch raises ChecksumError naming the file. `opener(url,
    timeout=...)` defaults to `urllib.request.urlopen` (tests pass a fake or a local server URL
    through `base_url`). Files already present with the right checksum are not fetched again.
    """
    files = sorted(PINNED_SHA256) if files is None else list(files)
    for rel in files:
        if rel not in PINNED_SHA256:
            raise ValueError(f"files: {rel!r} is not one of the pinned data files")
    opener = urllib.request.urlopen if opener is None else opener
    dest = Path(dest).expanduser()
    from ..progress import tqdm

    for rel in tqdm(files, desc="download", disable=not progress):
        target = dest / rel
        if target.is_file() and sha256_file(target) == PINNED_SHA256[rel]:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        url = base_url.format(repo=REPO, commit=COMMIT, path=rel)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as out, opener(url, timeout=timeout) as resp:
                shutil.copyfileobj(resp, out)
            digest = sha256_file(tmp)
            if digest != PINNED_SHA256[rel]:
                raise ChecksumError(f"{rel}: downloaded file has SHA-256 {digest[:12]}…, expected "
                                    f"{PINNED_SHA256[rel][:12]}…; discarded")
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    sums = "".join(f"{PINNED_SHA256[r]}  ./{r}\n" for r in sorted(PINNED_SHA256) if (dest / r).is_file())
    (dest / "SHA256SUMS").write_text(sums)
    return dest


# --------------------------------------------------------------------------- pseudonyms
_PROCESS_SALT = secrets.token_hex(16)


def anonymize(ids: Iterable, salt: str | None = None, n_hex: int = 10) -> list[str]:
    """Salted SHA-256 pseudonyms `P` + first `n_hex` hex digits (never the raw id).

    The salt is `$NARRATIVE_ID_SALT` or a random per-process value, so pseudonyms are stable
    within a session (enough to match ids across files) but cannot be reversed from outputs.
    """
    if not isinstance(n_hex, int) or not 4 <= n_hex <= 16:
        raise ValueError(f"n_hex must be an integer in [4, 16]; got {n_hex!r}")
    salt = salt if salt is not None else (os.environ.get(SALT_ENV) or _PROCESS_SALT)
    if not isinstance(salt, str) or not salt:
        raise ValueError("salt must be a non-empty string")
    return ["P" + hashlib.sha256(f"{salt}:{i}".encode()).hexdigest()[:n_hex] for i in ids]


# --------------------------------------------------------------------------- parsing helpers
_LINE_RE = re.compile(r"^\s*(\d+)\s*[.)]\s*(.*?)\s*$")


def parse_segmentation(text: str) -> list[str]:
    """'1. clause\\n2. clause…' -> ['clause', 'clause', …]; numbers must run 1..L."""
    if not isinstance(text, str):
        raise ValueError("segmentation must be a string of numbered lines")
    out = []
    for line in text.strip().splitlines():
        if not line.strip():
            continue
        m = _LINE_RE.match(line)
        if not m or int(m.group(1)) != len(out) + 1:
            raise ValueError(f"segmentation line {len(out) + 1} is not numbered {len(out) + 1}: {line[:40]!r}")
        out.append(m.group(2))
    return out


def count_numbered_lines(text) -> int:
    """Number of numbered lines in a segmented recall (C of spec §3); 0 for an empty recall."""
    if not isinstance(text, str):
        return 0
    return sum(1 for line in text.splitlines() if _LINE_RE.match(line))


def tokens(text: str) -> list[str]:
    """Lower-case word tokens (letters, digits, apostrophes) used for sentence matching."""
    return re.findall(r"[a-z0-9]+(?:'[a-z0-9]+)*", text.lower().replace("’", "'"))


def reconstruct_scramble_map(scrambled_text: str, clauses: list[str]) -> list[int]:
    """Recover `scramble_map` (map[j] = original index of the clause shown at position j).

    The scrambled narrative is a concatenation of the original clauses in a new order. Its token
    stream is consumed left to right by clause token sequences (depth-first, longest candidate
    first, with backtracking), each clause used once; the result must consume the text exactly
    and be a bijection, otherwise ValueError.
    """
    if not clauses:
        raise ValueError("clauses must be a non-empty list of strings")
    stream = tokens(scrambled_text)
    seqs = [tuple(tokens(c)) for c in clauses]
    if any(len(s) == 0 for s in seqs):
        raise ValueError("every clause must contain at least one word")
    by_first: dict[str, list[int]] = {}
    for i, s in enumerate(seqs):
        by_first.setdefault(s[0], []).append(i)
    used = [False] * len(seqs)
    order: list[int] = []
    # explicit stack of (position, candidate list, next candidate index) for backtracking
    def candidates(pos):
        c = [i for i in by_first.get(stream[pos], []) if not used[i]
             and tuple(stream[pos:pos + len(seqs[i])]) == seqs[i]]
        return sorted(c, key=lambda i: (-len(seqs[i]), i))

    stack = [(0, candidates(0) if stream else [], 0)]
    steps = 0
    while stack:
        steps += 1
        if steps > 200_000:
            raise ValueError("scramble map: alignment did not converge")
        pos, cands, k = stack[-1]
        if pos == len(stream) and len(order) == len(seqs):
            return order
        if k >= len(cands):
            stack.pop()
            if order:
                used[order.pop()] = False
            continue
        stack[-1] = (pos, cands, k + 1)
        i = cands[k]
        used[i] = True
        order.append(i)
        npos = pos + len(seqs[i])
        if npos == len(stream):
            if len(order) == len(seqs):
                return order
            stack.append((npos, [], 0))
        else:
            stack.append((npos, candidates(npos), 0))
    raise ValueError("scramble map: the scrambled text is not a permutation of the clauses")


def invert_map(scramble_map) -> np.ndarray:
    """inv[i] = presentation position of original clause i (scramble_map[inv[i]] == i)."""
    m = np.asarray(scramble_map, dtype=int)
    if sorted(m.tolist()) != list(range(len(m))):
        raise ValueError("scramble_map must be a permutation of 0..L-1")
    inv = np.empty_like(m)
    inv[m] = np.arange(len(m))
    return inv


# --------------------------------------------------------------------------- story objects
@dataclass(frozen=True)
class Story:
    """One experimental condition (a story, intact or scrambled), with pseudonymised participants.

    Clause numbers in `scores`/`scores_ordered` are 1-based and in original order; recognition
    ids are 0-based (id < L old clause, L <= id < 2L lure id-L). `clauses` are in original order
    for every set (for hester_v2-church-scrambled they come from the intact story).
    """

    name: str
    clauses: tuple[str, ...]
    narrative: str = field(repr=False)
    lures: tuple[str, ...] = field(repr=False)
    recall_ids: tuple[str, ...] = field(repr=False)
    recalls: tuple[str, ...] = field(repr=False)
    recalls_segmented: tuple[str, ...] = field(repr=False)
    scores: tuple[tuple[int, ...], ...] = field(repr=False)
    scores_ordered: tuple[tuple[int, ...], ...] = field(repr=False)
    completions: tuple[str, ...] = field(repr=False)
    recog_ids: tuple[str, ...] = field(repr=False)
    recog_item: np.ndarray = field(repr=False)   # (N_recog, trials) int
    recog_value: np.ndarray = field(repr=False)  # (N_recog, trials) codes of VALUE_CODES
    scramble_map: np.ndarray | None = field(default=None, repr=False)
    scramble_map_source: str | None = None        # "stored" | "reconstructed" | None
    embedding_narrative: np.ndarray | None = field(default=None, repr=False)
    embedding_clauses: np.ndarray | None = field(default=None, repr=False)
    validation_ids: tuple[str, ...] | None = field(default=None, repr=False)
    # where the recall order of `scores_ordered` comes from: "stored" (the authors' ordered lists),
    # "evidence" (our scorer, clauses sorted by where their quote occurs), "simulated", or None
    # (no order: the order analyses refuse such a story, see order.require_ordered)
    order_source: str | None = "stored"

    @property
    def L(self) -> int:
        return len(self.clauses)

    @property
    def scrambled(self) -> bool:
        return self.name.endswith("-scrambled")

    @property
    def intact_name(self) -> str:
        return SCRAMBLE_PAIRS.get(self.name, self.name)

    @property
    def key(self) -> str:
        """Claim-key form of the name (`-` -> `_`)."""
        return self.name.replace("-", "_")

    @property
    def n_recall(self) -> int:
        return len(self.scores)

    @property
    def n_recog(self) -> int:
        return int(self.recog_item.shape[0])

    @property
    def recog_valid(self) -> np.ndarray:
        """Trials that name a real item (id < 2L); the rest are counted by value only."""
        return self.recog_item < 2 * self.L

    @property
    def presentation_position(self) -> np.ndarray:
        """0-based presentation position of each original clause (identity for intact sets)."""
        if self.scramble_map is None:
            return np.arange(self.L)
        return invert_map(self.scramble_map)


def _int_list(x) -> tuple[int, ...]:
    return tuple(int(v) for v in (x if x is not None else []))


@functools.lru_cache(maxsize=32)
def _load_story_cached(data_dir: str, name: str) -> Story:
    d = _read_verified(data_dir, f"compiled_data/{name}.pkl")
    L_expected = STORY_TABLE[name][0]
    if name == "hester_v2-church-scrambled":
        # caveat 1: the stored segmentation is in presentation order; scores and recognition ids
        # are in original order, so the clauses must be the intact story's.
        clauses = parse_segmentation(_read_verified(data_dir, "compiled_data/hester_v2-church.pkl")["segmentation"])
    else:
        clauses = parse_segmentation(d["segmentation"])
    if len(clauses) != L_expected:
        raise ValueError(f"{name}: {len(clauses)} clauses, expected {L_expected}")
    idx = d["recalls"].index
    raw_ids = list(idx)
    # every per-recall field is aligned on the recall index (boyscout stores one in another order)
    scores = d["recall scores"].reindex(idx)
    ordered = d["recall_scores_ordered"].reindex(idx)
    segmented = d["recalls segmented"].reindex(idx)
    comps = d["recall_scores_completions"]
    recog = d["recognition"]
    item = np.array([[int(t["id"]) for t in trials] for trials in recog], dtype=int)
    value = np.array([[VALUE_CODES[t["value"]] for t in trials] for trials in recog], dtype=np.int8)
    smap, source = None, None
    if name in SCRAMBLED:
        if d.get("scramble_map") is not None:
            smap, source = np.asarray([int(v) for v in d["scramble_map"]]), "stored"
        else:  # caveat 2: boyscout-scrambled
            smap, source = np.asarray(reconstruct_scramble_map(d["narrative"], clauses)), "reconstructed"
        invert_map(smap)  # asserts a bijection
    emb = d.get("embeddings")
    en = ec = None
    if emb is not None:
        en = np.asarray(emb["narrative"], dtype=float)
        ec = np.asarray(emb["clauses"], dtype=float)
    vids = None
    if "validation set Ids" in d:
        vids = tuple(anonymize(d["validation set Ids"].sort_index().tolist()))
    return Story(
        name=name, clauses=tuple(clauses), narrative=d["narrative"],
        lures=tuple(str(x) for x in d["lures"].tolist()),
        recall_ids=tuple(anonymize(raw_ids)),
        recalls=tuple(str(x) if isinstance(x, str) else "" for x in d["recalls"].tolist()),
        recalls_segmented=tuple(str(x) if isinstance(x, str) else "" for x in segmented.tolist()),
        scores=tuple(_int_list(x) for x in scores.tolist()),
        scores_ordered=tuple(_int_list(x) for x in ordered.tolist()),
        completions=tuple(str(comps.get(i, "")) for i in raw_ids),
        recog_ids=tuple(anonymize(list(recog.index))),
        recog_item=item, recog_value=value,
        scramble_map=smap, scramble_map_source=source,
        embedding_narrative=en, embedding_clauses=ec, validation_ids=vids,
    )


def load_story(name: str, data_dir: str | os.PathLike | None = None) -> Story:
    """Load one condition (checksum-verified, ids pseudonymised). `name` is one of STORIES."""
    if name not in STORY_TABLE:
        raise ValueError(f"name must be one of {', '.join(STORIES)}; got {name!r}")
    return _load_story_cached(str(require_data_dir(data_dir)), name)


def load_stories(names: Iterable[str] = STORIES, data_dir: str | os.PathLike | None = None) -> dict[str, Story]:
    return {n: load_story(n, data_dir) for n in names}


@dataclass(frozen=True)
class ValidationSet:
    """The 30 panic recalls scored on the 44-clause ('fine44') segmentation by 3 raters and 3 LLMs."""

    clauses: tuple[str, ...]
    scores: Mapping[str, tuple[tuple[int, ...], ...]]  # scorer -> 30 lists of 1-based clause numbers

    @property
    def L(self) -> int:
        return len(self.clauses)

    RATERS = ("a1", "a2", "a3")
    LLMS = ("gpt4", "gpt3", "gpt35")


_VALIDATION_FILES = {
    "a1": "panic_fine44_a1", "a2": "panic_fine44_a2", "a3": "panic_fine44_a3",
    "gpt4": "panic_fine44_prompt0_gpt-4-0613_set1",
    "gpt35": "panic_fine44_prompt0_gpt-3.5-turbo-0613_set1",
    "gpt3": "panic_fine44_prompt0_text-davinci-003_set1",
}


def load_validation(data_dir: str | os.PathLike | None = None) -> ValidationSet:
    """Validation scores (raters a1–a3, GPT-4, GPT-3.5, GPT-3 = text-davinci-003), rows 1..30."""
    seg = read_verified("recall_scores/panic_segmentation.pkl", data_dir)
    clauses = parse_segmentation(seg["fine44"]) if isinstance(seg["fine44"], str) else list(seg["fine44"])
    scores = {}
    for key, stem in _VALIDATION_FILES.items():
        s = read_verified(f"recall_scores/{stem}.pkl", data_dir).sort_index()
        if list(s.index) != list(range(1, 31)):
            raise ValueError(f"{stem}: expected rows 1..30")
        scores[key] = tuple(_int_list(x) for x in s.tolist())
    return ValidationSet(clauses=tuple(clauses), scores=scores)


EMBEDDING_MODELS = ("text-embedding-3-small", "ada-002", "text-embedding-3-large")


@dataclass(frozen=True)
class SimToWhole:
    """Stored similarity-to-whole analysis of one OpenAI embedding model (8 intact stories)."""

    model: str
    stories: tuple[str, ...]
    prec: tuple[np.ndarray, ...]
    similarity: tuple[np.ndarray, ...]
    r_values: tuple[float, ...]
    p_values: tuple[float, ...]


def load_sim_to_whole(model: str = "text-embedding-3-small", run: int = 1,
                      data_dir: str | os.PathLike | None = None) -> SimToWhole:
    if model not in EMBEDDING_MODELS:
        raise ValueError(f"model must be one of {', '.join(EMBEDDING_MODELS)}; got {model!r}")
    if run not in (1, 2) or (run == 2 and model == "ada-002"):
        raise ValueError(f"run must be 1 (or 2 for the text-embedding-3 models); got {run!r}")
    d = read_verified(f"embeddings/sim-to-whole_{model}{'_run2' if run == 2 else ''}.pkl", data_dir)
    return SimToWhole(
        model=model, stories=tuple(d["story"]),
        prec=tuple(np.asarray(x, dtype=float) for x in d["Prec"]),
        similarity=tuple(np.asarray(x, dtype=float) for x in d["clause similarity to whole"]),
        r_values=tuple(float(x) for x in d["r values"]), p_values=tuple(float(x) for x in d["p values"]),
    )


def load_words(data_dir: str | os.PathLike | None = None) -> dict[str, object]:
    """Random-word-list data: `rec_pos` (80 recall sequences, 1-based positions in a 128-word list)
    and `serial_position_curve` (32-word lists, 32 floats)."""
    rp = read_verified("words/rec_pos_words_128.pkl", data_dir)["rec_pos"]
    spc = read_verified("words/serial_position_curve.pkl", data_dir)["serial_position_curve"]
    return {"rec_pos": [tuple(int(v) for v in seq) for seq in rp],
            "serial_position_curve": np.asarray(spc, dtype=float), "list_length": 128}


def _raw_participant_ids(data_dir: str | os.PathLike | None = None) -> set[str]:
    """Raw ids of every condition, for privacy tests only (they scan outputs for them).

    Never display the result; nothing else in the package uses it.
    """
    d = str(require_data_dir(data_dir))
    out: set[str] = set()
    for name in STORIES:
        x = _read_verified(d, f"compiled_data/{name}.pkl")
        out |= {str(i) for i in x["recalls"].index} | {str(i) for i in x["recognition"].index}
    return out
