"""The experiment-design pipeline of the paper (spec §7, F14), as a tool.

generate a story of a requested length → segment it into clauses (LLM, validated; deterministic
splitter as fallback) → one lure per clause → optional scramble with a stored permutation →
assemble recall and recognition groups (10 recognition trials per participant) → export the
experiment as JSON for a web experiment → import the collected responses (CSV / JSON / JSON
lines, schema-validated, bad rows reported with their line numbers, nothing silently dropped) →
score the recalls with an LLM backend (`llm.score_recalls`) → a `data.Story` that every analysis
function of the package accepts.

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
    rng = np.random.default_rng([int(seed), int(n_clauses)])
    clauses = []
    order: list[int] = []
    for i in range(int(n_clauses)):
        if not order:  # each template once per cycle, so that clauses rarely repeat
            order = list(rng.permutation(len(_STORY_CLAUSES)))
        tpl = _STORY_CLAUSES[order.pop()]
        c = tpl.format(p=rng.choice(_PEOPLE), v=rng.choice(_VERBS), t=rng.choice(_THINGS), pl=rng.choice(_PLACES),
                       tm=rng.choice(_TIMES))
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
            "instructions": "Was this sentence in the story? Answer yes or no."},
        "meta": exp.meta,
    }


def export_experiment(exp: Experiment, path: str | Path) -> Path:
    """Write the experiment as one JSON file (UTF-8) that a web experiment can load."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(experiment_to_json(exp), indent=1, ensure_ascii=False), encoding="utf-8")
    return p


def load_experiment(path: str | Path) -> Experiment:
    """Read an exported experiment back (validated: format, version, map, ids)."""
    d = json.loads(Path(path).read_text(encoding="utf-8"))
    if d.get("format") != EXPERIMENT_FORMAT or d.get("version") != EXPERIMENT_VERSION:
        raise ValueError(f"not a {EXPERIMENT_FORMAT} v{EXPERIMENT_VERSION} file: {path}")
    L = len(d["clauses"])
    recog = []
    for p in d["recognition"]["participants"]:
        items = tuple(int(t["item_id"]) for t in sorted(p["trials"], key=lambda t: t["trial"]))
        if any(not 0 <= i < 2 * L for i in items):
            raise ValueError(f"{path}: participant {p['slot']} has an item id outside 0..{2 * L - 1}")
        recog.append((p["slot"], items))
    exp = Experiment(story_id=d["story_id"], clauses=tuple(d["clauses"]), lures=tuple(d["lures"]),
                     scramble_map=None if d["scramble_map"] is None else tuple(d["scramble_map"]),
                     recall_participants=tuple(d["recall"]["participants"]), recognition=tuple(recog),
                     seed=int(d["seed"]), meta=d.get("meta", {}))
    if exp.scramble_map is not None:
        D.invert_map(np.asarray(exp.scramble_map))
    if exp.text != d["text"]:
        raise ValueError(f"{path}: the stored text does not match clauses + scramble_map")
    return exp


# --------------------------------------------------------------------------- responses
class ResponseImportError(ValueError):
    """Raised (strict import) when rows fail validation; `.errors` lists (line, message)."""

    def __init__(self, errors):
        self.errors = list(errors)
        shown = "; ".join(f"line {ln}: {msg}" for ln, msg in self.errors[:10])
        more = f" (+{len(self.errors) - 10} more)" if len(self.errors) > 10 else ""
        super().__init__(f"{len(self.errors)} invalid response row(s): {shown}{more}")


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


def _rows_csv(text: str):
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [c for c in ("participant", "task") if c not in (reader.fieldnames or [])]
    if missing:
        raise ResponseImportError([(1, f"header lacks column(s) {missing}; expected {list(RESPONSE_COLUMNS)}")])
    unknown = [c for c in reader.fieldnames if c not in RESPONSE_COLUMNS]
    if unknown:
        raise ResponseImportError([(1, f"unknown column(s) {unknown}; expected {list(RESPONSE_COLUMNS)}")])
    line = reader.line_num + 1  # first data line
    for row in reader:
        yield line, row
        line = reader.line_num + 1


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
    text = p.read_text(encoding="utf-8-sig")
    suffix = p.suffix.lower()
    if suffix not in (".csv", ".json", ".jsonl"):
        raise ValueError(f"path must end in .csv, .json or .jsonl; got {p.name!r}")
    rows = {".csv": _rows_csv, ".json": _rows_json, ".jsonl": _rows_jsonl}[suffix](text)
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
        raise ResponseImportError(errors)
    return Responses(recalls=recalls, recognition=recog, errors=tuple(errors), incomplete=incomplete, n_rows=n)


def write_responses_csv(path: str | Path, recalls: dict, recognition: dict) -> Path:
    """Write responses in the import schema (used by the simulator and the demo)."""
    p = Path(path)
    with p.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(RESPONSE_COLUMNS))
        w.writeheader()
        for slot, text in recalls.items():
            w.writerow({"participant": slot, "task": "recall", "recall_text": text})
        for slot, trials in recognition.items():
            for t, (item, yes) in sorted(trials.items()):
                w.writerow({"participant": slot, "task": "recognition", "trial": t, "item_id": item,
                            "response": "yes" if yes else "no"})
    return p


def to_story(exp: Experiment, responses: Responses, scores: Sequence, name: str | None = None,
             scores_ordered: Sequence | None = None) -> D.Story:
    """A `data.Story` from an experiment, validated responses and the recall scores (one list of
    1-based clause numbers per recall, in the order of `responses.recalls`; None = invalid score,
    which raises: invalid answers must be resolved, not analysed). Incomplete recognition
    participants are left out (they are listed in `responses.incomplete`)."""
    slots = list(responses.recalls)
    if len(scores) != len(slots):
        raise ValueError(f"scores must have one entry per recall ({len(slots)}); got {len(scores)}")
    if any(s is None for s in scores):
        raise ValueError("some recalls have no valid score (see ScoringReport.invalid); resolve them first")
    L = exp.L
    complete = [s for s in responses.recognition if s not in responses.incomplete]
    items = np.array([[responses.recognition[s][t][0] for t in sorted(responses.recognition[s])] for s in complete],
                     dtype=int).reshape(len(complete), -1)
    said = np.array([[responses.recognition[s][t][1] for t in sorted(responses.recognition[s])] for s in complete],
                    dtype=bool).reshape(len(complete), -1)
    old = items < L
    value = np.where(old, np.where(said, 0, 1), np.where(said, 2, 3)).astype(np.int8)  # hit miss fa cr
    segmented = ["\n".join(f"{i}. {c}" for i, c in enumerate(split_clauses(responses.recalls[s]), 1))
                 for s in slots]
    ordered = scores_ordered if scores_ordered is not None else scores
    return D.Story(
        name=name or exp.story_id, clauses=exp.clauses, narrative=exp.text, lures=exp.lures,
        recall_ids=tuple(slots), recalls=tuple(responses.recalls[s] for s in slots),
        recalls_segmented=tuple(segmented), scores=tuple(tuple(int(x) for x in s) for s in scores),
        scores_ordered=tuple(tuple(int(x) for x in s) for s in ordered), completions=tuple("" for _ in slots),
        recog_ids=tuple(complete), recog_item=items, recog_value=value,
        scramble_map=None if exp.scramble_map is None else np.asarray(exp.scramble_map),
        scramble_map_source=None if exp.scramble_map is None else "stored")


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
    requests: int            # HTTP requests made (live / local server)

    def table(self) -> list[tuple[str, str, str]]:
        return [(s, d, f"{t:.2f}") for s, d, t in self.stages]


def demo(n_clauses: int = 24, n_recall: int = 20, n_recog: int = 20, scrambled: bool = False, seed: int = 0,
         mode: str = "local-server", out_dir: str | Path | None = None, params=None,
         progress: bool = False) -> DemoResult:
    """The whole pipeline on a toy story, offline by default (spec F14).

    mode: ``"local-server"`` (default: the deterministic FakeLLM behind a local OpenAI-compatible
    HTTP server on 127.0.0.1, reached through the real `openai` client — the live code path with no
    network), ``"fake"`` (FakeLLM in-process) or ``"live"`` (the server configured by the
    NARRATIVE_LLM_* environment variables, e.g. `make llm-server`). Participants are simulated
    (`simulate`, calibrated parameters). The recalls are scored twice: the second pass shows the
    cache (zero requests). Scores that stay invalid are excluded from the analysis and listed.
    """
    import tempfile

    from . import llm
    from . import simulate as S
    from .recall import hit_matrix, recall_stats
    from .recognition import recognition_stats
    from .stats import cohen_kappa

    if mode not in ("local-server", "fake", "live"):
        raise ValueError(f"mode must be 'local-server', 'fake' or 'live'; got {mode!r}")
    out = Path(out_dir) if out_dir is not None else Path(tempfile.mkdtemp(prefix="narrative_demo_"))
    out.mkdir(parents=True, exist_ok=True)
    params = params if params is not None else S.load_params()
    stages = []
    server = None
    t = time.perf_counter

    def stage(name, detail, t0):
        stages.append((name, detail, t() - t0))

    try:
        if mode == "fake":
            backend = llm.FakeLLM(seed=seed)
        else:
            if mode == "local-server":
                from .fakeserver import FakeOpenAIServer

                server = FakeOpenAIServer().start()
                environ = {llm.ENV_BASE_URL: server.base_url, llm.ENV_MODEL: "fake-llm"}
            else:
                environ = None
            # max_tokens 1024 keeps prompt + answer inside a small local model's context (n_ctx 4096)
            cfg = llm.LLMConfig.from_env(environ, timeout=120.0, backoff_base=0.5, concurrency=2, max_tokens=1024)
            cache_dir = out / "llm_cache"
            if mode == "local-server":
                # The replies come from our own FakeLLM, so they depend on our code, not only on the
                # request: the code's fingerprint is part of the key (a folder per fingerprint).
                from .._cache import code_fingerprint

                cache_dir = cache_dir / f"fakellm-{code_fingerprint('analysis_lib.memory.fakeserver')[:16]}"
            backend = llm.OpenAIBackend(cfg, llm.DiskCache(cache_dir))
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
    finally:
        if server is not None:
            server.stop()
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
    story = to_story(exp, valid_resp, [report.scores[i] for i in ok],
                     scores_ordered=[truth[slots[i]] for i in ok])
    rs, rc = recall_stats(story), recognition_stats(story)
    stage("analyse", f"R = {rs.R:.2f} ± {rs.R_sem:.2f}, M = {rc.M:.1f} of L = {story.L}, "
                     f"kappa(scorer, truth) = {kappa:.3f}, excluded recalls: {len(excluded)}", t0)
    return DemoResult(mode=mode, model=backend.model, stages=tuple(stages), experiment_path=exp_path,
                      responses_path=resp_path, segmentation_method=seg.method, n_clauses=len(clauses),
                      scoring=report, rescoring=report2, kappa_vs_truth=kappa, excluded_recalls=excluded,
                      story=story, R=rs.R, M=rc.M, requests=requests)
