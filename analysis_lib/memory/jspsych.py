"""Export an experiment as a self-contained jsPsych folder, and read jsPsych's data back (issue 19).

`export_jspsych(exp, folder, key_path, settings)` writes

    folder/index.html        the page (loads only the local files below; no CDN, works offline)
    folder/timeline.json     the participant-facing design: texts, timing settings, slots with
                             opaque item tokens — no answer key (which items are old, which lures,
                             the scramble map and the item ids are not in it)
    folder/timeline.js       the same JSON as `window.NM_TIMELINE = …;` (browsers do not let a page
                             opened from file:// fetch a JSON file)
    folder/jspsych/…         the vendored jsPsych 7.3.4 build + plugins + LICENSE (MIT)
    key_path                 the answer key, kept OUT of the folder: token → item id, slot list,
                             scramble map, the experiment's story id

A participant opens `index.html?pid=<platform id>` (e.g. Prolific's PROLIFIC_PID; the parameter
name is a setting). The page maps the id to a slot by a salted hash — slot index =
int(SHA-256(salt + ":" + pid)[:12], 16) mod n_slots, computed in the browser with
`crypto.subtle` and here by `slot_for` — and stores only the first 16 hex of the hash, never the id.
`?slot=K` picks a slot directly (pilots, tests). Several ids can land on one slot: export more slots
than participants; `import_jspsych` reports a second data set for a slot as an error, never merges.

Timeline (one page per step): consent (placeholder text to replace), instructions, reading (the story;
auto-advance after `reading_s`), delay (`delay_s`, no response), an attention check (placeholder),
then the task of the slot: free recall (a text box; `recall_time_limit_s` is stated to the
participant and its response time recorded, not enforced — jsPsych's survey-text has no time limit)
or recognition (one yes/no page per item, in the slot's order). At the end the page shows a
download button for the data (jsPsych's JSON) and exposes it as `window.nmData` for automation.
"""
from __future__ import annotations

import hashlib
import html
import json
import random
import secrets
import shutil
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

FORMAT = "narrative-memory-jspsych"
VERSION = 1
VENDOR_FILES = ("jspsych.min.js", "jspsych.css", "plugin-html-keyboard-response.min.js",
                "plugin-html-button-response.min.js", "plugin-survey-text.min.js", "plugin-instructions.min.js",
                "LICENSE", "VENDORED.md")


@dataclass(frozen=True)
class Settings:
    """Timing and wording of the web experiment (seconds; 0 = no limit)."""

    reading_s: float = 120.0            # the story page advances by itself after this
    delay_s: float = 60.0               # blank delay between reading and the test
    recall_time_limit_s: float = 600.0  # stated to the participant, response time recorded
    pid_param: str = "pid"              # URL parameter carrying the platform id
    consent_html: str = ("<p><b>Consent (placeholder).</b> Replace this text with your approved consent form. "
                         "Click Next to agree and continue.</p>")
    attention_question: str = "Attention check (placeholder): please click the button labelled 'Blue'."
    attention_choices: tuple = ("Red", "Blue", "Green")
    recall_prompt: str = "Write down the story as you remember it, in your own words."
    recognition_prompt: str = "Was this sentence in the story?"

    def __post_init__(self):
        for name in ("reading_s", "delay_s", "recall_time_limit_s"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or v < 0:
                raise ValueError(f"{name} must be a number of seconds >= 0; got {v!r}")
        if not self.pid_param.isidentifier():
            raise ValueError(f"pid_param must be a plain name (letters, digits, _); got {self.pid_param!r}")


def slot_for(platform_id: str, salt: str, n_slots: int) -> int:
    """Slot index of a platform id: int(SHA-256(salt:pid)[:12 hex], 16) mod n_slots (as the page does)."""
    if not isinstance(platform_id, str) or not platform_id:
        raise ValueError("platform_id must be a non-empty string")
    if not isinstance(n_slots, int) or n_slots < 1:
        raise ValueError(f"n_slots must be a positive integer; got {n_slots!r}")
    return int(pid_hash(platform_id, salt)[:12], 16) % n_slots


def pid_hash(platform_id: str, salt: str) -> str:
    return hashlib.sha256(f"{salt}:{platform_id}".encode("utf-8")).hexdigest()


def _vendor_dir():
    return resources.files("analysis_lib.memory") / "vendor" / "jspsych"


def export_jspsych(exp, folder: str | Path, key_path: str | Path, settings: Settings | None = None,
                   salt: str | None = None, seed: int | None = None) -> dict:
    """Write the experiment folder and the separate answer key (see the module doc); returns paths."""
    settings = settings or Settings()
    folder, key_path = Path(folder), Path(key_path)
    if key_path.resolve().is_relative_to(folder.resolve()):
        raise ValueError(f"key_path must be outside the participant folder {folder} (it holds the answer key)")
    folder.mkdir(parents=True, exist_ok=True)
    salt = salt or secrets.token_hex(8)
    rng = secrets.SystemRandom() if seed is None else random.Random(seed)  # seed: reproducible tokens (tests)
    tokens, used = {}, set()
    for item in range(2 * exp.L):  # opaque, unordered item tokens: they say nothing about old/lure
        while True:
            t = "i" + "".join(rng.choice("0123456789abcdef") for _ in range(10))
            if t not in used:
                used.add(t)
                tokens[item] = t
                break
    slots = [{"slot": s, "task": "recall"} for s in exp.recall_participants]
    slots += [{"slot": s, "task": "recognition", "items": [{"token": tokens[i], "text": exp.item_text(i)} for i in items]}
              for s, items in exp.recognition]
    # shuffle the slot order so that neither position nor name gives the task away to the hash mapping
    order = list(range(len(slots)))
    rng.shuffle(order)
    slots = [slots[k] for k in order]
    timeline = {"format": FORMAT, "version": VERSION, "title": "A study of memory for stories", "text": exp.text,
                "settings": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(settings).items()},
                "salt": salt, "slots": slots}
    (folder / "timeline.json").write_text(json.dumps(timeline, indent=1, ensure_ascii=False), encoding="utf-8")
    # "</" is escaped so that no text can close the <script> element that loads this file
    js = json.dumps(timeline, ensure_ascii=False).replace("</", "<\\/")
    (folder / "timeline.js").write_text(f"window.NM_TIMELINE = {js};\n", encoding="utf-8")
    (folder / "index.html").write_text(INDEX_HTML.replace("{{TITLE}}", html.escape(timeline["title"])), encoding="utf-8")
    vend = folder / "jspsych"
    vend.mkdir(exist_ok=True)
    src = _vendor_dir()
    for name in VENDOR_FILES:
        with resources.as_file(src / name) as p:
            shutil.copyfile(p, vend / name)
    key = {"format": FORMAT + "-key", "version": VERSION, "story_id": exp.story_id, "salt": salt,
           "token_to_item": {t: i for i, t in tokens.items()}, "L": exp.L,
           "scramble_map": None if exp.scramble_map is None else list(exp.scramble_map),
           "slots": [s["slot"] for s in slots], "timeline_sha256": hashlib.sha256(js.encode("utf-8")).hexdigest()}
    key_path.parent.mkdir(parents=True, exist_ok=True)
    key_path.write_text(json.dumps(key, indent=1), encoding="utf-8")
    return {"folder": folder, "index": folder / "index.html", "key": key_path}


def read_key(path: str | Path) -> dict:
    d = json.loads(Path(path).read_text(encoding="utf-8"))
    if d.get("format") != FORMAT + "-key" or d.get("version") != VERSION:
        raise ValueError(f"not a {FORMAT} answer key (v{VERSION}): {path}")
    return d


def jspsych_rows(data, key: dict, source: str = "data") -> list[tuple[str, object]]:
    """Rows of the import schema from jsPsych's data (the JSON array `jsPsych.data.get().json()`
    gives): one recall row per recall trial, one recognition row per recognition trial; item tokens
    are turned back into item ids with the key. Returns [(where, row or Exception)], `where` naming
    the trial ("file: trial 7")."""
    if not isinstance(data, list):
        return [(f"{source}: top level", ValueError("jsPsych data must be a JSON array of trials"))]
    out = []
    tok = key["token_to_item"]
    for k, tr in enumerate(data):
        where = f"trial {tr.get('trial_index', k) if isinstance(tr, dict) else k}"
        if not isinstance(tr, dict) or tr.get("nm_task") not in ("recall", "recognition"):
            continue  # consent, reading, delay, attention check: not responses
        slot = tr.get("nm_slot")
        if tr["nm_task"] == "recall":
            resp = tr.get("response")
            text = resp.get("recall") if isinstance(resp, dict) else None
            out.append((where, {"participant": slot, "task": "recall", "recall_text": text} if isinstance(text, str)
                        else ValueError("recall trial without a text response")))
        else:
            token, resp = tr.get("nm_item"), tr.get("response")
            if token not in tok:
                out.append((where, ValueError(f"item token {token!r} is not in the answer key")))
                continue
            if resp not in (0, 1):
                out.append((where, ValueError(f"recognition response must be button 0 (yes) or 1 (no); got {resp!r}")))
                continue
            out.append((where, {"participant": slot, "task": "recognition", "trial": tr.get("nm_trial"),
                                "item_id": tok[token], "response": "yes" if resp == 0 else "no"}))
    return out


INDEX_HTML = r"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'self' 'unsafe-inline'; connect-src 'none'">
<title>{{TITLE}}</title>
<link rel="stylesheet" href="jspsych/jspsych.css">
<script src="jspsych/jspsych.min.js"></script>
<script src="jspsych/plugin-instructions.min.js"></script>
<script src="jspsych/plugin-html-button-response.min.js"></script>
<script src="jspsych/plugin-html-keyboard-response.min.js"></script>
<script src="jspsych/plugin-survey-text.min.js"></script>
<script src="timeline.js"></script>
</head>
<body>
<script>
"use strict";
// Generated by analysis_lib.memory.jspsych; the design is in timeline.json / timeline.js.
function esc(s) { const d = document.createElement("div"); d.textContent = s; return d.innerHTML; }
async function sha256hex(s) {
  const b = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(s));
  return Array.from(new Uint8Array(b)).map(x => x.toString(16).padStart(2, "0")).join("");
}
async function main() {
  const T = window.NM_TIMELINE, S = T.settings, q = new URLSearchParams(location.search);
  let slotIndex, pidHash = null;
  if (q.has("slot")) {
    slotIndex = Number(q.get("slot"));
  } else if (q.get(S.pid_param)) {
    pidHash = await sha256hex(T.salt + ":" + q.get(S.pid_param));
    slotIndex = Number(BigInt("0x" + pidHash.slice(0, 12)) % BigInt(T.slots.length));
  } else {
    document.body.innerHTML = "<p>This link is incomplete: it must carry your participant id (?" + esc(S.pid_param) + "=…).</p>";
    return;
  }
  if (!(slotIndex >= 0 && slotIndex < T.slots.length)) { document.body.textContent = "Invalid slot."; return; }
  const slot = T.slots[slotIndex];
  const jsPsych = initJsPsych({
    on_finish: function () {
      window.nmData = jsPsych.data.get().json();
      document.body.innerHTML = "<p>Thank you! Your responses are recorded.</p><button id='nm-download'>Download data</button>";
      document.getElementById("nm-download").onclick = () => jsPsych.data.get().localSave("json", "narrative_memory_" + slot.slot + ".json");
      document.body.dataset.done = "1";
    }
  });
  jsPsych.data.addProperties({nm_slot: slot.slot, nm_pid_hash: pidHash ? pidHash.slice(0, 16) : null});
  const ms = s => (s > 0 ? s * 1000 : null);
  const tl = [
    {type: jsPsychInstructions, pages: [S.consent_html], show_clickable_nav: true, data: {nm_step: "consent"}},
    {type: jsPsychInstructions, show_clickable_nav: true, data: {nm_step: "instructions"},
     pages: ["<p>You will read a short story. Read it carefully; the page moves on by itself after " +
             Math.round(S.reading_s) + " seconds, or when you click the button.</p>"]},
    {type: jsPsychHtmlButtonResponse, stimulus: "<div style='max-width:40em;text-align:left'>" + esc(T.text) + "</div>",
     choices: ["I have finished reading"], trial_duration: ms(S.reading_s), data: {nm_step: "reading"}},
    {type: jsPsychHtmlKeyboardResponse, stimulus: "<p>Please wait…</p>", choices: "NO_KEYS",
     trial_duration: ms(S.delay_s) || 1, data: {nm_step: "delay"}},
    {type: jsPsychHtmlButtonResponse, stimulus: "<p>" + esc(S.attention_question) + "</p>",
     choices: S.attention_choices, data: {nm_step: "attention_check"}},
  ];
  if (slot.task === "recall") {
    tl.push({type: jsPsychSurveyText, data: {nm_task: "recall"},
             questions: [{prompt: esc(S.recall_prompt) + (S.recall_time_limit_s > 0 ? " (about " +
                          Math.round(S.recall_time_limit_s / 60) + " minutes)" : ""), rows: 12, columns: 80,
                          required: false, name: "recall"}]});
  } else {
    slot.items.forEach((it, k) => tl.push({type: jsPsychHtmlButtonResponse, choices: ["Yes", "No"],
      stimulus: "<p>" + esc(S.recognition_prompt) + "</p><p><b>" + esc(it.text) + "</b></p>",
      data: {nm_task: "recognition", nm_item: it.token, nm_trial: k + 1}}));
  }
  jsPsych.run(tl);
}
main();
</script>
</body>
</html>
"""
