"""The jsPsych export in a real browser (issue 19): export an experiment, serve the folder on a
loopback HTTP server, open it in Debian's headless Chromium through Playwright (never a downloaded
browser build, never the network: the page loads only the vendored jsPsych files), complete one
recall participant and one recognition participant, read back the data jsPsych emits, and import
exactly that output. Skipped, with the reason, where Chromium or Playwright is missing."""
import functools
import json
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from analysis_lib.memory import jspsych as J
from analysis_lib.memory import pipeline as PL

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.browser


def _experiment():
    clauses = PL.split_clauses(PL.toy_story(12, seed=2))
    return PL.assemble_experiment("browser_demo", clauses, PL.toy_lures(clauses), 1, 1, seed=3)


def test_export_folder_has_no_answer_key_and_no_cdn(tmp_path):
    exp = _experiment()
    out = J.export_jspsych(exp, tmp_path / "site", tmp_path / "key.json", J.Settings(reading_s=5, delay_s=1), seed=0)
    text = "".join(p.read_text(encoding="utf-8", errors="replace") for p in (tmp_path / "site").rglob("*") if p.is_file()
                   and p.suffix in (".html", ".json", ".js") and "jspsych/" not in str(p.relative_to(tmp_path / "site")) + "/")
    tl = json.loads((tmp_path / "site" / "timeline.json").read_text())
    assert "scramble_map" not in text and "item_id" not in text and "lure" not in text.lower()
    assert all("token" in it and set(it) == {"token", "text"} for s in tl["slots"] if s["task"] == "recognition"
               for it in s["items"])
    assert "http://" not in (tmp_path / "site" / "index.html").read_text() and "https://" not in (tmp_path / "site" / "index.html").read_text()
    assert (tmp_path / "site" / "jspsych" / "LICENSE").read_text().startswith("The MIT License")
    key = J.read_key(out["key"])
    assert sorted(key["token_to_item"].values()) == list(range(2 * exp.L))
    with pytest.raises(ValueError, match="outside the participant folder"):
        J.export_jspsych(exp, tmp_path / "site", tmp_path / "site" / "key.json")
    # the page's slot rule and the library's agree (same salted hash)
    assert J.slot_for("PID-123", key["salt"], 2) == int(J.pid_hash("PID-123", key["salt"])[:12], 16) % 2


@pytest.fixture()
def served(tmp_path, free_port):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium) to run the browser test")
    pytest.importorskip("playwright.sync_api", reason="playwright (the dev extra) is not installed")
    exp = _experiment()
    J.export_jspsych(exp, tmp_path / "site", tmp_path / "key.json", J.Settings(reading_s=30, delay_s=0.2), seed=1)
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(tmp_path / "site"))
    handler.log_message = lambda *a: None
    httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield exp, f"http://127.0.0.1:{httpd.server_address[1]}/index.html", tmp_path
    finally:
        httpd.shutdown()
        httpd.server_close()


def _run_participant(page, url, answer):
    page.goto(url)
    for _ in range(2):  # consent, instructions
        page.click("#jspsych-instructions-next")
    page.click("button:has-text('I have finished reading')")
    page.click("button:has-text('Blue')")  # attention check (after the short delay)
    answer(page)
    page.wait_for_function("document.body.dataset.done === '1'", timeout=20000)
    return json.loads(page.evaluate("window.nmData"))


def test_complete_one_recall_and_one_recognition_in_chromium_and_import(served):
    from playwright.sync_api import sync_playwright

    exp, url, tmp = served
    tl = json.loads((tmp / "site" / "timeline.json").read_text())
    idx = {s["task"]: k for k, s in enumerate(tl["slots"])}
    recall_text = "=HYPERLINK(1) We walked down to the lake, and my brother found a red kayak."
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            ctx = browser.new_context()
            ctx.route("**/*", lambda route: route.continue_() if route.request.url.startswith("http://127.0.0.1")
                      else route.abort())  # nothing outside the loopback server may load
            page = ctx.new_page()
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))

            def recall(pg):
                pg.fill("textarea", recall_text)
                pg.click("#jspsych-survey-text-next")

            def recognise(pg):
                for k in range(len(tl["slots"][idx["recognition"]]["items"])):
                    pg.click("button:has-text('Yes')" if k % 2 == 0 else "button:has-text('No')")

            data_recall = _run_participant(page, f"{url}?slot={idx['recall']}", recall)
            data_recog = _run_participant(page, f"{url}?slot={idx['recognition']}", recognise)
            page.goto(url + "?pid=SOMEONE-42")  # platform id → slot by salted hash, id never stored
            page.wait_for_selector("#jspsych-instructions-next")
            ctx.close()
        finally:
            browser.close()
    assert not errors, errors
    (tmp / "d1.json").write_text(json.dumps(data_recall))
    (tmp / "d2.json").write_text(json.dumps(data_recog))
    resp = PL.import_jspsych([tmp / "d1.json", tmp / "d2.json"], exp, tmp / "key.json")
    PL.export_experiment(exp, tmp / "exp.json")  # the command line accepts exactly that output too
    assert PL.main(["import", str(tmp / "d1.json"), str(tmp / "d2.json"), "--experiment", str(tmp / "exp.json"),
                    "--key", str(tmp / "key.json"), "--out", str(tmp / "responses.csv")]) == 0
    assert PL.import_responses(tmp / "responses.csv", exp).recalls == resp.recalls
    assert resp.recalls == {exp.recall_participants[0]: recall_text}
    slot, items = exp.recognition[0]
    assert resp.recognition[slot] == {t + 1: (items[t], t % 2 == 0) for t in range(len(items))}
    assert not resp.errors and not resp.incomplete
    assert all("SOMEONE" not in json.dumps(d) for d in (data_recall, data_recog))
    # the same data twice is a duplicate, reported with where it came from; nothing imported
    with pytest.raises(PL.ResponseImportError, match="d1.json: trial .*duplicate recall"):
        PL.import_jspsych([tmp / "d1.json", tmp / "d1.json"], exp, tmp / "key.json")
