"""The Explore widgets in a real browser: JupyterLab from this environment, driven by headless Chromium.

Starts JupyterLab on a free loopback port with a token, over copies of the notebooks (so nothing is
saved into `notebooks/`), opens each notebook in Debian's Chromium through Playwright (never a
downloaded browser build), runs all cells, moves a slider, and checks that the widget's figure was
redrawn and that no cell raised. Screenshots go to `reports/browser/`. Skipped, with the reason,
where Chromium or Playwright is missing (`.ci/run` installs Chromium).
"""
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
NOTEBOOKS = ("00_tour", "01_gru_lstm_slow_modes")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def lab(tmp_path_factory, free_port, wait_for_http):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium) to run the browser test")
    pytest.importorskip("playwright.sync_api", reason="playwright (the dev extra) is not installed")
    work = tmp_path_factory.mktemp("lab")
    nb_dir = work / "notebooks"
    nb_dir.mkdir()
    for name in NOTEBOOKS:
        shutil.copy(ROOT / "notebooks" / f"{name}.ipynb", nb_dir)
    port, token = free_port(), secrets.token_hex(16)
    settings = work / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    # render every cell (JupyterLab 4 virtualises cells outside the viewport, hiding their widgets)
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(work / "config"), JUPYTER_DATA_DIR=str(work / "data"),
               JUPYTER_RUNTIME_DIR=str(work / "runtime"), JUPYTERLAB_SETTINGS_DIR=str(work / "settings"))
    env.pop("MPLBACKEND", None)  # the notebooks draw inline, as for a user
    log = open(work / "lab.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
                             f"--IdentityProvider.token={token}", f"--notebook-dir={nb_dir}", "--allow-root",
                             "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        log.flush()
        wait_for_http(f"http://127.0.0.1:{port}/api/status?token={token}", proc, 90, work / "lab.log", "JupyterLab")
        yield {"url": f"http://127.0.0.1:{port}", "token": token, "dir": nb_dir}
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


# the closing cell (always last) has run: its prompt shows an execution count
LAST_CELL_DONE = """() => { const p = [...document.querySelectorAll('.jp-Cell .jp-InputArea-prompt')];
                            return p.length > 0 && /\\[\\d+\\]/.test(p[p.length - 1].textContent); }"""


def _widget_images(page) -> list[str]:
    return page.evaluate("() => [...document.querySelectorAll('.jupyter-widgets img, .widget-output img')].map(i => i.src)")


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_sliders_redraw_the_figure_in_jupyterlab(lab, name):
    from playwright.sync_api import sync_playwright

    shots = ROOT / "reports" / "browser"
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            # a fresh workspace per notebook: a restored layout would leave another notebook active
            page.goto(f"{lab['url']}/lab/workspaces/{name}/tree/{name}.ipynb?reset&token={lab['token']}")
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
            page.wait_for_function("() => document.body.innerText.includes('| Idle')", timeout=90_000)  # kernel up
            page.click("text=Run", timeout=10_000)
            page.click("text=Run All Cells", timeout=10_000)
            page.wait_for_function(LAST_CELL_DONE, timeout=600_000)
            before = _widget_images(page)
            assert before, f"{name}: no widget figure was drawn"
            # the slider's editable readout: type a new value, as a user can (dragging needs pixel maths)
            readout = page.locator(".widget-slider .widget-readout").first
            readout.scroll_into_view_if_needed()
            old = float(readout.inner_text())
            readout.click()
            page.keyboard.press("Control+a")
            page.keyboard.type(f"{old + 1:g}" if old < 5 else f"{old * 1.5:g}")
            page.keyboard.press("Enter")
            deadline = time.time() + 60
            while _widget_images(page) == before and time.time() < deadline:
                time.sleep(0.5)
            page.screenshot(path=str(shots / f"{name}.png"))
            assert _widget_images(page) != before, f"{name}: moving the slider did not redraw the figure"
            page.keyboard.press("Control+s")  # save the copy, to read every output back
            time.sleep(2)
        finally:
            browser.close()
    saved = json.loads((lab["dir"] / f"{name}.ipynb").read_text(encoding="utf-8"))
    errors = [(i, o.get("ename")) for i, c in enumerate(saved["cells"]) if c["cell_type"] == "code"
              for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, f"{name}: cells raised {errors}"
    assert any(c.get("outputs") for c in saved["cells"] if c["cell_type"] == "code"), "the saved copy has outputs"
