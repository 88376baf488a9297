"""The experiment-design pipeline of the paper (spec §7, F14), as a tool.

generate a story of a requested length → segment it into clauses (LLM, validated; deterministic
splitter as fallback) → one lure per clause → optional scramble with a stored permutation →
assemble recall and recognition groups (10 recognition trials per participant) → the experiment
file (answer key included; `load_experiment` validates counts, ids and the scramble permutation) →
a jsPsych experiment folder for browsers (`jspsych.export_jspsych`: opaque item tokens, the answer
key in a separate file) → import the collected responses (jsPsych data, CSV / JSON / JSON lines;
strict: one `file:line` error per bad row, nothing imported half; formula cells escaped in the CSVs
written here) → score the recalls with an LLM backend (`llm.score_recalls`: clauses in recall
order from the quoted evidence) → a `data.Story` that every analysis function of the package accepts.

Command line: `python -m analysis_lib.memory.pipeline design|export|import|score|analyse` (`--help`
per verb).

Conventions follow the authors' data (spec §3): clause numbers in scores are 1-based; recognition
item ids are 0-based with id < L an old clause and L <= id < 2L the lure id - L; a scramble map
gives, for each presentation position j, the original index `map[j]`.
Old/lure balance (our operationalisation of "as in the paper"): each of the 10 trials shows an old
clause with probability 1/2, so a participant sees Binomial(10, 1/2) old items — the authors'
data have 3–7 old items for 89% of participants and ≈ 50/50 overall, which this reproduces.
"""
from __future__ import annotations

import csv
import io
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from . import data as D
from . import prompts as P
from .llm import Backend, LLMError, content_words

EXPERIMENT_FORMAT = "narrative-memory-experiment"
EXPERIMENT_VERSION = 1
N_TRIALS = 10
RESPONSE_COLUMNS = ("participant", "task", "trial", "item_id", "response", "recall_text")
_YES = {"yes", "old", "y", "1", "true"}
_NO = {"no", "new", "n", "0", "false"}


# --------------------------------------------------------------------------- deterministic text tools
_SENT_END = re.compile(r"(?<=[.!?;:])[\"')\]]*\s+")
_CONJ = re.compile(r",\s+(?=(?:and|but|so|or|then|because|when|while)\b)", re.IGNORECASE)


def split_clauses(text: str) -> list[str]:
    """Deterministic clause splitter (the LLM fallback): split after sentence punctuation
    (. ! ? ; :) and before a coordinating conjunction that follows a comma; the conjunction
    opens the next clause (as in the authors' segmentations: "and so we was doing …").
    The clauses concatenated with single spaces give back the text's words in order."""
    if not isinstance(text, str):
        raise ValueError(f"text must be a string; got {type(text).__name__}")
    out = []
    for sent in _SENT_END.split(text.strip()):
        for part in _CONJ.split(sent):
            part = " ".join(part.split())
            if part:
                out.append(part if part.endswith((",", ".", "!", "?", ";", ":", '"')) else part + ",")
    return out


_PEOPLE = ["my brother", "my friend Sam", "our neighbour", "the old fisherman", "my cousin Ana", "the ranger",
           "my uncle", "a little girl", "the shop owner", "my dad"]
_PLACES = ["the lake", "the pier", "the boathouse", "the forest path", "the parking lot", "the bridge",
           "the market", "the beach", "the campsite", "the harbour"]
_THINGS = ["a red kayak", "an old map", "a fishing rod", "a picnic basket", "a lost dog", "a broken oar",
           "a silver key", "a heavy backpack", "a paper kite", "a thermos of coffee"]
_VERBS = ["carried", "found", "dropped", "borrowed", "fixed", "noticed", "painted", "chased", "hid", "traded"]
_TIMES = ["early in the morning", "after lunch", "just before sunset", "in the pouring rain", "around noon",
          "late at night", "on the second day", "a week later", "at dawn", "that evening"]
_STORY_CLAUSES = [
    "{p} {v} {t} near {pl}", "we walked down to {pl} {tm}", "{p} was waiting for us at {pl}",
    "nobody knew who had left {t} there", "I picked up {t} without thinking", "the wind started to blow hard",
    "{p} laughed at my muddy shoes", "we decided to follow the path past {pl}", "I heard a strange noise behind {pl}",
    "{p} pointed at {t} in the water", "my hands were shaking from the cold", "we argued about what to do next",
    "{p} told us a story about {pl}", "the sky turned dark over {pl}", "I ran back to get {t}",
    "{p} shouted my name from {pl}", "we finally reached {pl} {tm}", "everyone was tired and hungry",
]
_LURE_CLAUSES = [
    "a seagull stole half of my sandwich", "the radio played an old song", "someone had painted the fence blue",
    "my phone battery died at the worst moment", "a truck honked twice on the road", "the coffee had gone cold",
    "an elderly couple waved from a balcony", "we counted the stars for a while", "a bell rang somewhere in town",
    "the grass was still wet from the rain", "a cat slept on the warm stones", "the bus was late again",
]


def toy_story(n_clauses: int, seed: int = 0, topic: str = "") -> str:
    """A deterministic toy story of exactly `n_clauses` clauses (as `split_clauses` counts them),
    for the offline FakeLLM: template clauses with random fillers, joined into sentences of 1–3
    clauses with ", and" / ", but" / ", so". Not a narrative of any quality; never data."""
    if not isinstance(n_clauses, (int, np.integer)) or not 1 <= n_clauses <= 1000:
        raise ValueError(f"n_clauses must be an integer in 1..1000; got {n_clauses!r}")
    from .llm import content_words

    rng = np.random.default_rng([int(seed), int(n_clauses)])
    clauses: list[str] = []
    seen: list[set] = []
    order: list[int] = []
    for i in range(int(n_clauses)):
        if not order:  # each template once per cycle; templates without fillers only in the first
            order = [k for k in rng.permutation(len(_STORY_CLAUSES)) if not clauses or "{" in _STORY_CLAUSES[k]]
        tpl = _STORY_CLAUSES[order.pop()]
        for _ in range(200):
            # distinct content: no clause's content words contain another's (so that a recall
            # sentence of one clause never covers another one: the demo's κ ≈ 1 by construction)
            c = tpl.format(p=rng.choice(_PEOPLE), v=rng.choice(_VERBS), t=rng.choice(_THINGS),
                           pl=rng.choice(_PLACES), tm=rng.choice(_TIMES))
            cw = content_words(c)
            if not any(cw <= o or o <= cw for o in seen):
                break
        seen.append(cw)
        clauses.append(c)
    sents, i = [], 0
    while i < len(clauses):
        k = min(int(rng.integers(1, 4)), len(clauses) - i)
        parts = clauses[i:i + k]
        s = parts[0]
        for p in parts[1:]:
            s += f", {rng.choice(['and', 'but', 'so'])} {p}"
        sents.append(s[0].upper() + s[1:] + ".")
        i += k
    return " ".join(sents)


def toy_lures(clauses: Sequence[str], seed: int = 0) -> list[str]:
    """One deterministic lure per clause for the FakeLLM: a plausible clause from a bank that the
    toy stories never use, with a varying time phrase so that lures differ from each other."""
    rng = np.random.default_rng([int(seed), len(clauses), 7])
    return [f"{rng.choice(_LURE_CLAUSES)} {rng.choice(_TIMES)}," for _ in clauses]


# --------------------------------------------------------------------------- LLM stages
def _numbered_answer(text: str, what: str) -> list[str]:
    # tolerate chatter before/after the list: keep the numbered lines only
    lines = [ln for ln in text.splitlines() if re.match(r"^\s*\d+\s*[.)]\s*\S", ln)]
    if not lines:
        raise LLMError(f"{what}: the answer has no numbered lines")
    try:
        return D.parse_segmentation("\n".join(lines))
    except ValueError as err:  # e.g. numbering that skips a line: an invalid model answer, not a crash
        raise LLMError(f"{what}: {err}") from None


def generate_story(backend: Backend, n_clauses: int, topic: str = "a day at the lake", seed_offset: int = 0) -> str:
    """Ask the backend for a story of about `n_clauses` clauses (`story_of_length` checks the length)."""
    text = backend.chat(P.build_story_messages(int(n_clauses), topic), seed_offset=seed_offset)
    if not text.strip():
        raise LLMError("story generation returned an empty text")
    return text.strip()


@dataclass(frozen=True)
class Segmentation:
    clauses: tuple[str, ...]
    method: str          # "llm" | "splitter"
    problem: str | None  # why the LLM answer was rejected, if it was


def segment(text: str, backend: Backend | None = None) -> Segmentation:
    """Clauses of `text`: the LLM's numbered list if it keeps every word in order (validated: the
    clauses' tokens must equal the text's tokens), else the deterministic `split_clauses` (reported)."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("text must be a non-empty string")
    problem = None
    if backend is not None:
        try:
            cl = _numbered_answer(backend.chat(P.build_segment_messages(text)), "segmentation")
            if D.tokens(" ".join(cl)) == D.tokens(text):
                return Segmentation(tuple(cl), "llm", None)
            problem = "the LLM's clauses do not reproduce the text word for word"
        except (LLMError, ValueError) as err:
            problem = f"{type(err).__name__}: {err}"
    return Segmentation(tuple(split_clauses(text)), "splitter", problem)


def story_of_length(backend: Backend, n_clauses: int, topic: str = "a day at the lake", tolerance: float = 0.2,
                    max_tries: int = 3) -> tuple[str, Segmentation, int]:
    """Generate and segment until the clause count is within `tolerance`·n of `n_clauses` (another
    seed per try). Returns (text, segmentation, tries); raises LLMError (with the counts) otherwise."""
    if not 0 <= tolerance < 1:
        raise ValueError(f"tolerance must be in [0, 1); got {tolerance!r}")
    if not isinstance(max_tries, int) or max_tries < 1:
        raise ValueError(f"max_tries must be a positive integer; got {max_tries!r}")
    counts = []
    for k in range(max_tries):
        text = generate_story(backend, n_clauses, topic, seed_offset=k)
        seg = segment(text, backend)
        counts.append(len(seg.clauses))
        if abs(len(seg.clauses) - n_clauses) <= tolerance * n_clauses:
            return text, seg, k + 1
    raise LLMError(f"asked for {n_clauses} clauses, got {counts} in {max_tries} tries")


def make_lures(backend: Backend, clauses: Sequence[str]) -> list[str]:
    """One lure per clause (lure j: a plausible clause after clause j+1, not in the story).
    Validated: exactly L lures, none equal to a clause; otherwise an LLMError says why."""
    clauses = list(clauses)
    lures = _numbered_answer(backend.chat(P.build_lure_messages(clauses)), "lures")
    if len(lures) != len(clauses):
        raise LLMError(f"lures: got {len(lures)} lures for {len(clauses)} clauses")
    norm = {" ".join(D.tokens(c)) for c in clauses}
    clash = [i + 1 for i, lu in enumerate(lures) if " ".join(D.tokens(lu)) in norm]
    if clash:
        raise LLMError(f"lures {clash[:10]} repeat a clause of the story")
    return lures


def scramble(clauses: Sequence[str], rng: np.random.Generator) -> tuple[str, np.ndarray]:
    """(presented text, map) with map[j] = original index of the clause shown at position j."""
    clauses = list(clauses)
    if not clauses:
        raise ValueError("clauses must not be empty")
    smap = rng.permutation(len(clauses))
    return present(clauses, smap), smap


def present(clauses: Sequence[str], scramble_map=None) -> str:
    """The text participants read: the clauses in presentation order, joined by spaces."""
    clauses = list(clauses)
    order = range(len(clauses)) if scramble_map is None else [int(i) for i in scramble_map]
    if scramble_map is not None:
        D.invert_map(np.asarray(order))  # asserts a bijection
    return " ".join(clauses[i].strip() for i in order)


# --------------------------------------------------------------------------- experiment
@dataclass(frozen=True)
class Experiment:
    """Everything a web experiment needs for one story condition."""

    story_id: str
    clauses: tuple[str, ...]
    lures: tuple[str, ...]
    scramble_map: tuple[int, ...] | None
    recall_participants: tuple[str, ...]
    recognition: tuple[tuple[str, tuple[int, ...]], ...]  # (slot, 10 item ids)
    seed: int
    meta: dict = field(default_factory=dict)

    @property
    def L(self) -> int:
        return len(self.clauses)

    @property
    def text(self) -> str:
        return present(self.clauses, self.scramble_map)

    def item_text(self, item_id: int) -> str:
        return self.clauses[item_id] if item_id < self.L else self.lures[item_id - self.L]


def assemble_experiment(story_id: str, clauses: Sequence[str], lures: Sequence[str], n_recall: int, n_recog: int,
                        seed: int = 0, scramble_map=None, trials: int = N_TRIALS, p_old: float = 0.5,
                        meta: dict | None = None) -> Experiment:
    """Recall and recognition groups (different participants, as in the paper). Each recognition
    participant gets `trials` items: each trial is old with probability `p_old` (then a clause drawn
    without replacement), else a lure (drawn without replacement); ids follow the data's convention."""
    clauses, lures = list(clauses), list(lures)
    L = len(clauses)
    if L < trials:
        raise ValueError(f"clauses must number at least trials={trials}; got {L}")
    if len(lures) != L:
        raise ValueError(f"lures must have one entry per clause ({L}); got {len(lures)}")
    for name, v in (("n_recall", n_recall), ("n_recog", n_recog)):
        if not isinstance(v, (int, np.integer)) or v < 0:
            raise ValueError(f"{name} must be a non-negative integer; got {v!r}")
    if not 0 <= p_old <= 1:
        raise ValueError(f"p_old must be in [0, 1]; got {p_old!r}")
    if scramble_map is not None:
        D.invert_map(np.asarray(scramble_map))
        if len(scramble_map) != L:
            raise ValueError(f"scramble_map must have length L={L}")
    rng = np.random.default_rng(seed)
    recog = []
    for j in range(int(n_recog)):
        n_old = int(rng.binomial(trials, p_old))
        old = rng.choice(L, size=n_old, replace=False)
        lure = L + rng.choice(L, size=trials - n_old, replace=False)
        items = np.concatenate([old, lure])
        rng.shuffle(items)
        recog.append((f"G{j + 1:04d}", tuple(int(i) for i in items)))
    return Experiment(story_id=str(story_id), clauses=tuple(clauses), lures=tuple(lures),
                      scramble_map=None if scramble_map is None else tuple(int(i) for i in scramble_map),
                      recall_participants=tuple(f"R{j + 1:04d}" for j in range(int(n_recall))),
                      recognition=tuple(recog), seed=int(seed), meta=dict(meta or {}))


def experiment_to_json(exp: Experiment) -> dict:
    return {
        "format": EXPERIMENT_FORMAT, "version": EXPERIMENT_VERSION, "story_id": exp.story_id, "seed": exp.seed,
        "text": exp.text, "clauses": list(exp.clauses), "lures": list(exp.lures),
        "scramble_map": None if exp.scramble_map is None else list(exp.scramble_map),
        "item_ids": "0-based; id < L: clause id; L <= id < 2L: lure id - L",
        "recall": {"participants": list(exp.recall_participants),
                   "instructions": "Write down the story as you remember it, in your own words."},
        "recognition": {"participants": [
            {"slot": slot, "trials": [{"trial": t + 1, "item_id": i, "text": exp.item_text(i)}
                                      for t, i in enumerate(items)]} for slot, items in exp.recognition],
            "trials_per_participant": len(exp.recognition[0][1]) if exp.recognition else N_TRIALS,
            "instructions": "Was this sentence in the story? Answer yes or no."},
        "meta": exp.meta,
    }


def export_experiment(exp: Experiment, path: str | Path) -> Path:
    """Write the experiment as one JSON file (UTF-8) that a web experiment can load."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(experiment_to_json(exp), indent=1, ensure_ascii=False), encoding="utf-8")
    return p


class ExperimentFileError(ValueError):
    """An experiment file that is not valid; the message lists every problem found."""


def load_experiment(path: str | Path) -> Experiment:
    """Read an exported experiment back, validated: format and version; non-empty clause strings;
    one lure per clause, none equal to a clause; the scramble map a permutation of 0..L−1; unique
    participant slots (recall and recognition disjoint); every recognition participant with exactly
    the same number of trials, numbered 1..n, with distinct item ids in 0..2L−1; the stored text equal
    to the clauses in presentation order. All problems are listed in one `ExperimentFileError`."""
    p = Path(path)
    try:
        d = json.loads(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError as err:
        raise ExperimentFileError(f"{p}: not UTF-8 (byte {err.start})") from None
    except ValueError as err:
        raise ExperimentFileError(f"{p}: not JSON ({err})") from None
    if not isinstance(d, dict) or d.get("format") != EXPERIMENT_FORMAT or d.get("version") != EXPERIMENT_VERSION:
        raise ExperimentFileError(f"not a {EXPERIMENT_FORMAT} v{EXPERIMENT_VERSION} file: {p}")
    bad: list[str] = []
    try:
        clauses, lures = d["clauses"], d["lures"]
        smap, rec_slots, recog_p = d["scramble_map"], d["recall"]["participants"], d["recognition"]["participants"]
        story_id, seed, text = d["story_id"], d["seed"], d["text"]
    except (KeyError, TypeError) as err:
        raise ExperimentFileError(f"{p}: missing field {err}") from None
    if not isinstance(clauses, list) or not clauses or any(not isinstance(c, str) or not c.strip() for c in clauses):
        raise ExperimentFileError(f"{p}: clauses must be a non-empty list of non-empty strings")
    L = len(clauses)
    if not isinstance(lures, list) or len(lures) != L:
        bad.append(f"lures: {len(lures) if isinstance(lures, list) else 'not a list'} for {L} clauses (one per clause)")
    elif any(not isinstance(x, str) or not x.strip() for x in lures):
        bad.append("lures must be non-empty strings")
    elif {" ".join(D.tokens(x)) for x in lures} & {" ".join(D.tokens(c)) for c in clauses}:
        bad.append("a lure repeats a clause")
    if smap is not None:
        if (not isinstance(smap, list) or any(isinstance(i, bool) or not isinstance(i, int) for i in smap)
                or sorted(smap) != list(range(L))):
            bad.append(f"scramble_map must be a permutation of 0..{L - 1}")
    slots = list(rec_slots) + [q.get("slot") if isinstance(q, dict) else None for q in recog_p]
    if any(not isinstance(x, str) or not x for x in slots):
        bad.append("every participant slot must be a non-empty string")
    elif len(set(slots)) != len(slots):
        dup = sorted({x for x in slots if slots.count(x) > 1})
        bad.append(f"duplicate participant slots {dup[:5]} (recall and recognition slots must be distinct)")
    from collections import Counter

    counts = Counter(len(q["trials"]) for q in recog_p if isinstance(q, dict) and isinstance(q.get("trials"), list))
    n_trials = d["recognition"].get("trials_per_participant") or (counts.most_common(1)[0][0] if counts else None)
    recog = []
    for q in recog_p:
        if not isinstance(q, dict) or not isinstance(q.get("trials"), list):
            bad.append("a recognition participant without a trials list")
            continue
        try:
            trials = sorted(q["trials"], key=lambda t: int(t["trial"]))
            nums, items = [int(t["trial"]) for t in trials], tuple(int(t["item_id"]) for t in trials)
        except (KeyError, TypeError, ValueError):
            bad.append(f"participant {q.get('slot')}: trials need integer 'trial' and 'item_id'")
            continue
        if len(items) != n_trials or nums != list(range(1, len(items) + 1)):
            bad.append(f"participant {q.get('slot')}: trials {nums} (expected 1..{n_trials})")
        if any(not 0 <= i < 2 * L for i in items):
            bad.append(f"participant {q.get('slot')}: an item id outside 0..{2 * L - 1}")
        if len(set(items)) != len(items):
            bad.append(f"participant {q.get('slot')}: repeated item ids")
        recog.append((q.get("slot"), items))
    if bad:
        raise ExperimentFileError(f"{p}: " + "; ".join(bad[:20]) + (f" (+{len(bad) - 20} more)" if len(bad) > 20 else ""))
    exp = Experiment(story_id=str(story_id), clauses=tuple(clauses), lures=tuple(lures),
                     scramble_map=None if smap is None else tuple(smap),
                     recall_participants=tuple(rec_slots), recognition=tuple(recog),
                     seed=int(seed), meta=d.get("meta", {}))
    if exp.text != text:
        raise ExperimentFileError(f"{p}: the stored text does not match clauses + scramble_map")
    return exp


# --------------------------------------------------------------------------- responses
class ResponseImportError(ValueError):
    """Raised (strict import) when rows fail validation; `.errors` lists (line, message), and the
    message shows one `file:line: message` entry per bad row (nothing is imported)."""

    def __init__(self, errors, path: str | Path | None = None):
        self.errors = list(errors)
        self.path = None if path is None else str(path)
        where = (lambda ln: f"{self.path}:{ln}") if self.path else (lambda ln: f"line {ln}" if isinstance(ln, int) else str(ln))
        shown = "\n".join(f"  {where(ln)}: {msg}" for ln, msg in self.errors[:50])
        more = f"\n  (+{len(self.errors) - 50} more)" if len(self.errors) > 50 else ""
        super().__init__(f"{len(self.errors)} invalid response row(s); nothing was imported:\n{shown}{more}")


# --------------------------------------------------------------------------- CSV injection
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value) -> str:
    """A cell that a spreadsheet will not run as a formula: text starting with = + - @ (or a tab /
    carriage return) gets a leading apostrophe (OWASP's advice); `csv_unescape` undoes it on import."""
    s = "" if value is None else str(value)
    return "'" + s if s.startswith(_FORMULA_START) else s


def csv_unescape(value: str) -> str:
    return value[1:] if isinstance(value, str) and value.startswith("'") and value[1:].startswith(_FORMULA_START) else value


@dataclass(frozen=True)
class Responses:
    """Validated responses. `errors` (line, message) and `incomplete` (participant slots with fewer
    than 10 valid recognition trials, kept out of the analysis) are reported, never dropped silently."""

    recalls: dict            # slot -> recall text (recall group)
    recognition: dict        # slot -> {trial: (item_id, said_yes)}
    errors: tuple
    incomplete: tuple
    n_rows: int

    def summary(self) -> str:
        return (f"{self.n_rows} rows: {len(self.recalls)} recalls, {len(self.recognition)} recognition participants "
                f"({len(self.incomplete)} incomplete), {len(self.errors)} invalid rows")


_EXTRA = "\0extra"  # DictReader's key for fields beyond the header


def _rows_csv(text: str):
    reader = csv.DictReader(io.StringIO(text, newline=""), restkey=_EXTRA, restval=None)
    header = reader.fieldnames or []
    problems = []
    missing = [c for c in RESPONSE_COLUMNS if c not in header]
    if missing:
        problems.append(f"header lacks column(s) {missing}; expected {list(RESPONSE_COLUMNS)}")
    unknown = [c for c in header if c not in RESPONSE_COLUMNS]
    if unknown:
        problems.append(f"unknown column(s) {unknown}; expected {list(RESPONSE_COLUMNS)}")
    if problems:
        raise ResponseImportError([(1, "; ".join(problems))])
    line = reader.line_num + 1  # first data line
    try:
        for row in reader:
            if _EXTRA in row:
                yield line, ValueError(f"{len(header) + len(row[_EXTRA])} fields, expected {len(header)}")
            elif any(v is None for v in row.values()):
                n = sum(v is not None for v in row.values())
                yield line, ValueError(f"short row: {n} fields, expected {len(header)} (truncated line?)")
            else:
                yield line, {k: csv_unescape(v) for k, v in row.items()}
            line = reader.line_num + 1
    except csv.Error as err:
        yield line, ValueError(f"malformed CSV ({err})")


def _rows_json(text: str):
    dec = json.JSONDecoder()
    i = len(text) - len(text.lstrip())
    if not text.strip():
        return
    if text[i] != "[":
        raise ResponseImportError([(1, "a .json response file must hold a list of objects")])
    i += 1
    while True:
        while i < len(text) and text[i] in " \t\r\n,":
            i += 1
        if i >= len(text):
            raise ResponseImportError([(text.count("\n") + 1, "unterminated JSON list")])
        if text[i] == "]":
            return
        try:
            obj, end = dec.raw_decode(text, i)
        except ValueError as err:
            raise ResponseImportError([(text.count("\n", 0, i) + 1, f"invalid JSON: {err.msg}")]) from None
        yield text.count("\n", 0, i) + 1, obj
        i = end


def _rows_jsonl(text: str):
    for n, ln in enumerate(text.splitlines(), 1):
        if not ln.strip():
            continue
        try:
            yield n, json.loads(ln)
        except ValueError as err:
            yield n, ValueError(f"invalid JSON: {err.msg}")


def import_responses(path: str | Path, exp: Experiment, strict: bool = True) -> Responses:
    """Read collected responses (.csv, .json list, .jsonl) for `exp` and validate every row.

    Schema (columns / keys): participant, task ∈ {recall, recognition}; recall rows: recall_text
    (may be empty = nothing recalled); recognition rows: trial 1..10, item_id (must be the item the
    experiment assigned to that participant and trial), response yes/no (also old/new, 1/0).
    Unknown participants, duplicates and type errors are row errors with their line number.
    `strict=True` raises `ResponseImportError` listing all of them; `strict=False` returns them in
    `Responses.errors` (and incomplete participants in `.incomplete`) for the caller to report.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in (".csv", ".json", ".jsonl"):
        raise ValueError(f"path must end in .csv, .json or .jsonl; got {p.name!r}")
    raw = p.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        bad_lines = sorted({raw.count(b"\n", 0, m.start()) + 1 for m in re.finditer(rb"[\x80-\xff]+", raw)
                            if not _is_utf8(m.group())})
        raise ResponseImportError([(ln, f"not UTF-8 (byte {err.start}: {err.reason}); save the file as UTF-8 "
                                        "(it may be Latin-1 / Windows-1252)") for ln in bad_lines or [1]], p) from None
    try:
        return _import_rows(p, suffix, text, exp, strict)
    except ResponseImportError as err:
        if err.path is None:
            raise ResponseImportError(err.errors, p) from None
        raise


def _is_utf8(b: bytes) -> bool:
    try:
        b.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def _import_rows(p: Path, suffix: str, text: str, exp: Experiment, strict: bool) -> "Responses":
    rows = {".csv": _rows_csv, ".json": _rows_json, ".jsonl": _rows_jsonl}[suffix](text)
    return _validate_rows(p, rows, exp, strict, csv_file=suffix == ".csv")


def import_jspsych(paths, exp: Experiment, key, strict: bool = True) -> "Responses":
    """Responses from the data files a jsPsych export (`jspsych.export_jspsych`) produces — each the
    JSON array `jsPsych.data.get().json()` — validated row by row exactly like `import_responses`
    (errors name `file: trial N`; strict: nothing is imported when any row is bad). `key`: the answer
    key (dict or path) that turns the participants' opaque item tokens back into item ids."""
    from . import jspsych as J

    key = J.read_key(key) if not isinstance(key, dict) else key
    if key.get("story_id") != exp.story_id:
        raise ValueError(f"the answer key is for story {key.get('story_id')!r}, the experiment is {exp.story_id!r}")
    rows, errors = [], []
    for path in [paths] if isinstance(paths, (str, Path)) else list(paths):
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, ValueError) as err:
            errors.append((f"{path}", f"not a jsPsych JSON data file ({type(err).__name__}: {err})"))
            continue
        rows += [(f"{path}: {where}", row) for where, row in J.jspsych_rows(data, key, str(path))]
    if errors:
        raise ResponseImportError(errors)
    return _validate_rows(None, rows, exp, strict, csv_file=False)


def _validate_rows(p, rows, exp: Experiment, strict: bool, csv_file: bool) -> "Responses":
    recall_slots = set(exp.recall_participants)
    recog_items = dict(exp.recognition)
    recalls: dict[str, str] = {}
    recog: dict[str, dict[int, tuple[int, bool]]] = {}
    errors: list[tuple[int, str]] = []
    n = 0
    for line, row in rows:
        n += 1
        if isinstance(row, Exception):
            errors.append((line, str(row)))
            continue
        if not isinstance(row, dict):
            errors.append((line, "a row must be an object with the response columns"))
            continue
        unknown = [k for k in row if k not in RESPONSE_COLUMNS]
        if unknown:
            errors.append((line, f"unknown field(s) {unknown}"))
            continue
        get = lambda k: row.get(k) if row.get(k) is not None else ""  # noqa: E731
        slot, task = str(get("participant")).strip(), str(get("task")).strip().lower()
        if not slot:
            errors.append((line, "participant is empty"))
            continue
        if task == "recall" and not csv_file and "recall_text" not in row:
            errors.append((line, "a recall row needs a recall_text field (an empty string = nothing recalled)"))
            continue
        if task == "recall":
            if slot not in recall_slots:
                errors.append((line, f"participant {slot!r} is not in the recall group"))
            elif slot in recalls:
                errors.append((line, f"duplicate recall for participant {slot!r}"))
            elif any(str(get(k)).strip() for k in ("trial", "item_id", "response")):
                errors.append((line, "a recall row must leave trial, item_id and response empty"))
            elif not isinstance(get("recall_text"), str):
                errors.append((line, "recall_text must be a string"))
            else:
                recalls[slot] = get("recall_text")
        elif task == "recognition":
            try:
                trial, item = int(str(get("trial")).strip()), int(str(get("item_id")).strip())
            except ValueError:
                errors.append((line, "trial and item_id must be integers"))
                continue
            resp = str(get("response")).strip().lower()
            if slot not in recog_items:
                errors.append((line, f"participant {slot!r} is not in the recognition group"))
            elif not 1 <= trial <= len(recog_items[slot]):
                errors.append((line, f"trial must be in 1..{len(recog_items[slot])}; got {trial}"))
            elif recog_items[slot][trial - 1] != item:
                errors.append((line, f"item_id {item} is not the item assigned to {slot} trial {trial} "
                                     f"({recog_items[slot][trial - 1]})"))
            elif resp not in _YES | _NO:
                errors.append((line, f"response must be yes/no (or old/new, 1/0); got {resp!r}"))
            elif trial in recog.get(slot, {}):
                errors.append((line, f"duplicate trial {trial} for participant {slot!r}"))
            elif str(get("recall_text")).strip():
                errors.append((line, "a recognition row must leave recall_text empty"))
            else:
                recog.setdefault(slot, {})[trial] = (item, resp in _YES)
        else:
            errors.append((line, f"task must be 'recall' or 'recognition'; got {task!r}"))
    incomplete = tuple(sorted(s for s, t in recog.items() if len(t) != len(recog_items[s])))
    if strict and errors:
        raise ResponseImportError(errors, p)
    return Responses(recalls=recalls, recognition=recog, errors=tuple(errors), incomplete=incomplete, n_rows=n)


def write_responses_csv(path: str | Path, recalls: dict, recognition: dict) -> Path:
    """Write responses in the import schema (used by the simulator and the demo)."""
    p = Path(path)
    with p.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(RESPONSE_COLUMNS))
        w.writeheader()
        for slot, text in recalls.items():
            w.writerow({"participant": csv_safe(slot), "task": "recall", "recall_text": csv_safe(text)})
        for slot, trials in recognition.items():
            for t, (item, yes) in sorted(trials.items()):
                w.writerow({"participant": csv_safe(slot), "task": "recognition", "trial": t, "item_id": item,
                            "response": "yes" if yes else "no"})
    return p


def to_story(exp: Experiment, responses: Responses, scores: Sequence, name: str | None = None,
             scores_ordered: Sequence | None = None, order_source: str = "evidence") -> D.Story:
    """A `data.Story` from an experiment, validated responses and the recall scores (one list of
    1-based clause numbers per recall, in the order of `responses.recalls`; None = invalid score,
    which raises: invalid answers must be resolved, not analysed). Incomplete recognition
    participants are left out (they are listed in `responses.incomplete`).

    `scores_ordered`: the clauses of each recall in recall order (`ScoringReport.ordered`, from the
    quoted evidence; `order_source` says where it comes from). Without it the story has no recall
    order (`order_source` None) and every order analysis refuses it, rather than read sorted score
    sets as an order (which gives τ = 1 for any recall)."""
    slots = list(responses.recalls)
    if len(scores) != len(slots):
        raise ValueError(f"scores must have one entry per recall ({len(slots)}); got {len(scores)}")
    if any(s is None for s in scores):
        raise ValueError("some recalls have no valid score (see ScoringReport.invalid); resolve them first")
    if scores_ordered is not None:
        if len(scores_ordered) != len(slots) or any(o is None for o in scores_ordered):
            raise ValueError(f"scores_ordered must have one ordered list per recall ({len(slots)})")
        if order_source not in ("evidence", "simulated", "stored"):
            raise ValueError(f"order_source must be 'evidence', 'simulated' or 'stored'; got {order_source!r}")
    L = exp.L
    complete = [s for s in responses.recognition if s not in responses.incomplete]
    n_t = len(exp.recognition[0][1]) if exp.recognition else N_TRIALS  # recall-only data: (0, trials) arrays
    items = np.array([[responses.recognition[s][t][0] for t in sorted(responses.recognition[s])] for s in complete],
                     dtype=int).reshape(len(complete), n_t)
    said = np.array([[responses.recognition[s][t][1] for t in sorted(responses.recognition[s])] for s in complete],
                    dtype=bool).reshape(len(complete), n_t)
    old = items < L
    value = np.where(old, np.where(said, 0, 1), np.where(said, 2, 3)).astype(np.int8)  # hit miss fa cr
    segmented = ["\n".join(f"{i}. {c}" for i, c in enumerate(split_clauses(responses.recalls[s]), 1))
                 for s in slots]
    ordered = scores_ordered if scores_ordered is not None else [()] * len(slots)
    return D.Story(
        name=name or exp.story_id, clauses=exp.clauses, narrative=exp.text, lures=exp.lures,
        recall_ids=tuple(slots), recalls=tuple(responses.recalls[s] for s in slots),
        recalls_segmented=tuple(segmented), scores=tuple(tuple(int(x) for x in s) for s in scores),
        scores_ordered=tuple(tuple(int(x) for x in s) for s in ordered), completions=tuple("" for _ in slots),
        recog_ids=tuple(complete), recog_item=items, recog_value=value,
        scramble_map=None if exp.scramble_map is None else np.asarray(exp.scramble_map),
        scramble_map_source=None if exp.scramble_map is None else "stored",
        order_source=None if scores_ordered is None else order_source)


def recall_text(clauses: Sequence[str], recalled_in_order: Sequence[int], rng: np.random.Generator,
                keep: float = 0.8) -> str:
    """A synthetic recall: the recalled clauses (1-based, in output order) paraphrased by dropping
    each non-content word with probability 1 - keep — a stand-in for a participant's own words."""
    out = []
    for i in recalled_in_order:
        words = clauses[int(i) - 1].strip(" ,.").split()
        kept = [w for w in words if content_words(w) or rng.random() < keep]
        out.append(" ".join(kept))
    return (". ".join(out) + ".") if out else ""


# --------------------------------------------------------------------------- end-to-end demo (F14)
@dataclass(frozen=True)
class DemoResult:
    """What `demo` did, stage by stage, and what came out (no secrets: the backend is described
    by mode and model name only)."""

    mode: str
    model: str
    stages: tuple            # (stage, detail, seconds)
    experiment_path: Path
    responses_path: Path
    segmentation_method: str
    n_clauses: int
    scoring: object          # llm.ScoringReport (first pass)
    rescoring: object        # llm.ScoringReport (second pass: cache hits when the backend caches)
    kappa_vs_truth: float    # scorer vs the simulated participants' true clause lists (valid recalls)
    excluded_recalls: tuple  # recall slots left out because their score stayed invalid
    story: D.Story
    R: float
    M: float
    requests: int            # requests that reached the model (not served by the cache)
    truth_scores: tuple = ()  # the simulated participants' true clause lists (valid recalls), in recall order

    def table(self) -> list[tuple[str, str, str]]:
        return [(s, d, f"{t:.2f}") for s, d, t in self.stages]


def demo(n_clauses: int = 24, n_recall: int = 20, n_recog: int = 20, scrambled: bool = False, seed: int = 0,
         mode: str = "fake", out_dir: str | Path | None = None, params=None,
         progress: bool = False, backend: Backend | None = None) -> DemoResult:
    """The whole pipeline on a toy story, offline by default (spec F14).

    mode: ``"fake"`` (default: the deterministic in-process FakeLLM with its "sentence" rule, read
    through the disk cache like a live server) or ``"live"`` (the server configured by the
    NARRATIVE_LLM_* environment variables, e.g. `make llm-server`); or pass any `backend` (the
    tests pass an OpenAIBackend on their local fake HTTP server; its mode is then "backend").
    Participants are simulated (`simulate`, calibrated parameters). The recalls are scored twice:
    the second pass shows the cache (zero requests). Scores that stay invalid are excluded from the
    analysis and listed. The recall order comes from the scorer's quoted evidence.

    κ(scorer, truth) is ≈ 1 **by construction** at any length: a simulated recall is one sentence
    per recalled clause keeping all its content words, and the "sentence" rule names, per sentence,
    the clause it covers best. (The earlier whole-recall "bag" rule confused toy clauses that share
    filler words, more as L grows: κ 0.44 at L = 54.) A plumbing check, not a model test.
    """
    import tempfile

    from . import llm
    from . import simulate as S
    from .recall import hit_matrix, recall_stats
    from .recognition import recognition_stats
    from .stats import cohen_kappa

    if backend is None and mode not in ("fake", "live"):
        raise ValueError(f"mode must be 'fake' or 'live' (or pass backend=); got {mode!r}")
    if backend is not None:
        mode = "backend"
    out = Path(out_dir) if out_dir is not None else Path(tempfile.mkdtemp(prefix="narrative_demo_"))
    out.mkdir(parents=True, exist_ok=True)
    params = params if params is not None else S.load_params()
    stages = []
    t = time.perf_counter

    def stage(name, detail, t0):
        stages.append((name, detail, t() - t0))

    if backend is None and mode == "fake":
        # The replies come from our own FakeLLM, so they depend on our code, not only on the
        # request: the code's fingerprint is part of the key (a folder per fingerprint).
        from .._cache import code_fingerprint

        cache_dir = out / "llm_cache" / f"fakellm-{code_fingerprint('analysis_lib.memory.llm')[:16]}"
        backend = llm.CachedBackend(llm.FakeLLM(seed=seed, rule="sentence"), llm.DiskCache(cache_dir))
    elif backend is None:
        # max_tokens 1024 keeps prompt + answer inside a small local model's context (n_ctx 4096)
        cfg = llm.LLMConfig.from_env(None, timeout=120.0, backoff_base=0.5, concurrency=2, max_tokens=1024)
        backend = llm.OpenAIBackend(cfg, llm.DiskCache(out / "llm_cache"))
    t0 = t()
    try:
        text, seg, tries = story_of_length(backend, n_clauses, tolerance=0.25)
    except LLMError as err:  # a small live model misses the length: keep its last story, say so
        text = generate_story(backend, n_clauses)
        seg, tries = segment(text, backend), f"length not reached ({err})"
    clauses = list(seg.clauses)
    stage("generate+segment", f"{len(text.split())} words, {len(clauses)} clauses by {seg.method} (asked for "
          f"{n_clauses}; tries: {tries})" + (f"; LLM segmentation rejected: {seg.problem}" if seg.problem else ""), t0)
    if len(clauses) < N_TRIALS:
        raise LLMError(f"the story has {len(clauses)} clauses; a recognition test needs >= {N_TRIALS}")
    t0 = t()
    try:
        lures = make_lures(backend, clauses)
        how = "LLM"
    except LLMError as err:
        lures = toy_lures(clauses, seed)
        how = f"toy fallback ({err})"
    stage("lures", f"{len(lures)} lures by {how}", t0)
    t0 = t()
    smap = None
    if scrambled:
        _, smap = scramble(clauses, np.random.default_rng(seed))
    exp = assemble_experiment(f"demo_L{len(clauses)}{'_scrambled' if scrambled else ''}", clauses, lures,
                              n_recall, n_recog, seed=seed, scramble_map=smap, meta={"generator": mode})
    exp_path = export_experiment(exp, out / "experiment.json")
    exp = load_experiment(exp_path)
    stage("assemble+export", f"{n_recall} recall + {n_recog} recognition participants -> {exp_path.name}", t0)
    t0 = t()
    resp_sim, protocols = S.simulate_experiment(exp, params, seed + 1)
    resp_path = write_responses_csv(out / "responses.csv", resp_sim.recalls, resp_sim.recognition)
    resp = import_responses(resp_path, exp)
    stage("simulate+import", f"{resp.summary()} from {resp_path.name}", t0)
    t0 = t()
    slots = list(resp.recalls)
    report = llm.score_recalls(backend, list(exp.clauses), [resp.recalls[s] for s in slots], progress=progress)
    stage("score", report.summary(), t0)
    t0 = t()
    report2 = llm.score_recalls(backend, list(exp.clauses), [resp.recalls[s] for s in slots], progress=False)
    stage("re-score", f"second pass: {report2.summary()}", t0)
    requests = int(getattr(backend, "stats", {}).get("requests", 0))
    t0 = t()
    truth = dict(zip(exp.recall_participants, protocols))
    ok = [i for i, s in enumerate(report.scores) if s is not None]
    excluded = tuple(slots[i] for i in range(len(slots)) if i not in ok)
    kappa = float("nan")
    if ok:
        H_llm = hit_matrix([report.scores[i] for i in ok], exp.L)
        H_true = hit_matrix([truth[slots[i]] for i in ok], exp.L)
        kappa = cohen_kappa(H_llm, H_true)
    valid_resp = Responses({slots[i]: resp.recalls[slots[i]] for i in ok}, resp.recognition, resp.errors,
                           resp.incomplete, resp.n_rows)
    story = to_story(exp, valid_resp, [report.scores[i] for i in ok], scores_ordered=[report.ordered[i] for i in ok])
    rs, rc = recall_stats(story), recognition_stats(story)
    stage("analyse", f"R = {rs.R:.2f} ± {rs.R_sem:.2f}, M = {rc.M:.1f} of L = {story.L}, "
                     f"kappa(scorer, truth) = {kappa:.3f}, excluded recalls: {len(excluded)}", t0)
    return DemoResult(mode=mode, model=backend.model, stages=tuple(stages), experiment_path=exp_path,
                      responses_path=resp_path, segmentation_method=seg.method, n_clauses=len(clauses),
                      scoring=report, rescoring=report2, kappa_vs_truth=kappa, excluded_recalls=excluded,
                      story=story, R=rs.R, M=rc.M, requests=requests,
                      truth_scores=tuple(tuple(truth[slots[i]]) for i in ok))


# --------------------------------------------------------------------------- command line
def _cli_backend(name: str, cache_dir: str | None):
    from . import llm

    if name == "fake":
        return llm.FakeLLM(rule="sentence")
    if name == "live":
        return llm.make_backend("live", cache_dir=cache_dir)
    if name == "cache":
        return llm.make_backend("cache", cache_dir=cache_dir)
    raise ValueError(f"--backend must be fake, live or cache; got {name!r}")


def _cmd_design(a) -> int:
    backend = _cli_backend(a.backend, a.cache_dir)
    text, seg, tries = story_of_length(backend, a.clauses, topic=a.topic, tolerance=a.tolerance)
    try:
        lures = make_lures(backend, seg.clauses)
    except LLMError as err:
        raise SystemExit(f"error: lure generation failed: {err}") from None
    smap = scramble(seg.clauses, np.random.default_rng(a.seed))[1] if a.scrambled else None
    exp = assemble_experiment(a.story_id, seg.clauses, lures, a.n_recall, a.n_recog, seed=a.seed, scramble_map=smap,
                              meta={"generator": backend.model, "segmentation": seg.method, "tries": tries})
    path = export_experiment(exp, a.out)
    print(f"wrote {path}: {exp.L} clauses ({seg.method}), {len(exp.recall_participants)} recall + "
          f"{len(exp.recognition)} recognition slots" + (", scrambled" if smap is not None else ""))
    return 0


def _cmd_export(a) -> int:
    from . import jspsych as J

    exp = load_experiment(a.experiment)
    settings = J.Settings(reading_s=a.reading_s, delay_s=a.delay_s, recall_time_limit_s=a.recall_time_limit_s,
                          pid_param=a.pid_param)
    key = a.key or str(Path(a.out).with_name(Path(a.out).name + "_answer_key.json"))
    out = J.export_jspsych(exp, a.out, key, settings, salt=a.salt)
    print(f"wrote the experiment folder {out['folder']} (open index.html?{settings.pid_param}=<id>) and the answer key "
          f"{out['key']} (keep it out of the participants' reach)")
    return 0


def _cmd_import(a) -> int:
    exp = load_experiment(a.experiment)
    if a.key:
        resp = import_jspsych(a.data, exp, a.key)
    else:
        if len(a.data) != 1:
            raise SystemExit("error: without --key (jsPsych data), give exactly one responses file (.csv/.json/.jsonl)")
        resp = import_responses(a.data[0], exp)
    write_responses_csv(a.out, resp.recalls, resp.recognition)
    print(f"{resp.summary()}; wrote {a.out}" + (f"; incomplete recognition participants: {list(resp.incomplete)}"
                                                if resp.incomplete else ""))
    return 0


def _cmd_score(a) -> int:
    from . import llm

    exp = load_experiment(a.experiment)
    resp = import_responses(a.responses, exp)
    backend = _cli_backend(a.backend, a.cache_dir)
    slots = list(resp.recalls)
    rep = llm.score_recalls(backend, list(exp.clauses), [resp.recalls[s] for s in slots], progress=True)
    out = {"experiment": exp.story_id, "backend": rep.backend, "model": rep.model,
           "recalls": [{"participant": s, "scores": r.recalled and list(r.recalled),
                        "ordered": r.ordered and list(r.ordered), "unsupported": list(r.unsupported),
                        "problems": list(r.problems)} for s, r in zip(slots, rep.results)]}
    Path(a.out).write_text(json.dumps(out, indent=1), encoding="utf-8")
    print(f"{rep.summary()}; wrote {a.out}")
    return 0 if not rep.invalid else 3


def _cmd_analyse(a) -> int:
    from .order import order_stats
    from .recall import recall_stats
    from .recognition import recognition_stats

    exp = load_experiment(a.experiment)
    resp = import_responses(a.responses, exp)
    sc = json.loads(Path(a.scores).read_text(encoding="utf-8"))
    by = {r["participant"]: r for r in sc["recalls"]}
    missing = [s for s in resp.recalls if s not in by]
    if missing:
        raise SystemExit(f"error: no scores for recalls {missing[:10]}")
    invalid = [s for s in resp.recalls if by[s]["scores"] is None]
    keep = {s: t for s, t in resp.recalls.items() if s not in invalid}
    valid = Responses(keep, resp.recognition, resp.errors, resp.incomplete, resp.n_rows)
    st = to_story(exp, valid, [by[s]["scores"] for s in keep], scores_ordered=[by[s]["ordered"] for s in keep])
    out = {"story": exp.story_id, "L": st.L, "n_recall": st.n_recall, "n_recog": st.n_recog,
           "excluded_recalls (invalid scores)": invalid}
    if st.n_recall:
        rs = recall_stats(st)
        out.update(R=rs.R, R_sem=rs.R_sem)
        o = order_stats(st)
        out.update(tau_orig=o.tau_orig, tau_pres=o.tau_pres, n_order=o.n)
    if st.n_recog:
        g = recognition_stats(st)
        out.update(hit_rate=g.tpr, false_alarm_rate=g.far, dprime=g.dprime, M=g.M)
    print(json.dumps(out, indent=1, default=float))
    return 0


def main(argv=None) -> int:
    """`python -m analysis_lib.memory.pipeline design|export|import|score|analyse` (see --help per verb)."""
    import argparse
    import sys

    ap = argparse.ArgumentParser(prog="python -m analysis_lib.memory.pipeline",
                                 description="Design, run and score a narrative-memory experiment (Georgiou et al. 2025).")
    sub = ap.add_subparsers(dest="verb", required=True, metavar="VERB")

    def backend_args(p):
        p.add_argument("--backend", choices=("fake", "live", "cache"), default="fake",
                       help="fake: offline FakeLLM (not a language model); live: the server of NARRATIVE_LLM_BASE_URL / "
                            "NARRATIVE_LLM_MODEL / NARRATIVE_LLM_API_KEY; cache: answers from the disk cache only")
        p.add_argument("--cache-dir", default=None, help="LLM response cache (default: NARRATIVE_LLM_CACHE_DIR or ~/.cache)")

    p = sub.add_parser("design", help="generate a story, clauses and lures; assemble recall and recognition groups",
                       description="Generate a story of about N clauses, segment it, write one lure per clause, "
                                   "optionally scramble, and write the experiment file (answer key included: keep it private).")
    p.add_argument("--clauses", type=int, default=24, help="requested number of clauses (default 24)")
    p.add_argument("--topic", default="a day at the lake")
    p.add_argument("--tolerance", type=float, default=0.2, help="accepted relative deviation from --clauses")
    p.add_argument("--n-recall", type=int, default=100, help="recall slots (default 100)")
    p.add_argument("--n-recog", type=int, default=100, help="recognition slots, 10 trials each (default 100)")
    p.add_argument("--scrambled", action="store_true", help="present the clauses in a random order (stored map)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--story-id", default="story")
    p.add_argument("--out", required=True, help="experiment file to write (.json)")
    backend_args(p)
    p.set_defaults(func=_cmd_design)

    p = sub.add_parser("export", help="write a self-contained jsPsych experiment folder and a separate answer key",
                       description="Write index.html + timeline.json + vendored jsPsych (offline, no CDN); item ids are "
                                   "opaque tokens, the answer key goes to a separate file.")
    p.add_argument("experiment", help="experiment file from `design`")
    p.add_argument("--out", required=True, help="folder to write (give it to participants / your web server)")
    p.add_argument("--key", default=None, help="answer key path (default: <out>_answer_key.json beside the folder)")
    p.add_argument("--reading-s", type=float, default=120.0, help="reading time limit, seconds (default 120)")
    p.add_argument("--delay-s", type=float, default=60.0, help="delay between reading and test, seconds (default 60)")
    p.add_argument("--recall-time-limit-s", type=float, default=600.0, help="recall time stated to participants")
    p.add_argument("--pid-param", default="pid", help="URL parameter with the platform id (e.g. PROLIFIC_PID)")
    p.add_argument("--salt", default=None, help="salt of the id → slot hash (default: random)")
    p.set_defaults(func=_cmd_export)

    p = sub.add_parser("import", help="validate collected data (jsPsych JSON with --key, or CSV/JSON/JSONL) into a CSV",
                       description="Every bad row is reported as file:line (or file: trial N); nothing is imported "
                                   "when any row is bad.")
    p.add_argument("data", nargs="+", help="jsPsych data files (with --key) or one responses file")
    p.add_argument("--experiment", required=True)
    p.add_argument("--key", default=None, help="answer key from `export` (for jsPsych data)")
    p.add_argument("--out", required=True, help="validated responses CSV to write")
    p.set_defaults(func=_cmd_import)

    p = sub.add_parser("score", help="score the recalls (clauses in recall order, quoted evidence checked)",
                       description="Score every recall with an LLM backend; live scoring warns unless the model passed "
                                   "analysis_lib.memory.validate.validate_backend.")
    p.add_argument("responses", help="validated responses CSV from `import`")
    p.add_argument("--experiment", required=True)
    p.add_argument("--out", required=True, help="scores JSON to write")
    backend_args(p)
    p.set_defaults(func=_cmd_score)

    p = sub.add_parser("analyse", help="R, M, d′ and recall order (Kendall τ) of one experiment",
                       description="The paper's measures on your data: R ± SEM, hit/false-alarm rates, d′, M, τ.")
    p.add_argument("responses")
    p.add_argument("--experiment", required=True)
    p.add_argument("--scores", required=True, help="scores JSON from `score`")
    p.set_defaults(func=_cmd_analyse)

    a = ap.parse_args(argv)
    try:
        return a.func(a)
    except (ValueError, LLMError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
