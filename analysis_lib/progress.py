"""Progress bars that reach the person waiting, wherever the code runs.

Interactively (JupyterLab, a terminal) `tqdm(...)` is `tqdm.auto.tqdm`: a widget in a notebook, a
text bar in a terminal. In a notebook executed by the runner (`ANALYSIS_LIB_HEADLESS=1`) a widget
bar would only end up, frozen, in the stored notebook, so the bar is written instead as plain lines
to the notebook's progress log (`ANALYSIS_LIB_PROGRESS_LOG`, set by the runner), which the runner
prints as it grows, prefixed with the notebook's name, and keeps under `reports/<mode>/logs/`.

In the log a bar appears only once it has run `LOG_DELAY_S` seconds (short loops stay silent),
then at most every `LOG_INTERVAL_S` seconds, and once more when it ends. Bars in sweep worker
processes write to the same log (the variable is inherited; lines are appended whole).

Use it as a drop-in for tqdm: `from analysis_lib.progress import tqdm`.
"""
from __future__ import annotations

import os
import re
import time
from typing import Any

LOG_ENV = "ANALYSIS_LIB_PROGRESS_LOG"
HEADLESS_ENV = "ANALYSIS_LIB_HEADLESS"
LOG_DELAY_S = 30.0
LOG_INTERVAL_S = 30.0
_CURSOR_MOVES = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")  # nested bars move the cursor; a log has none


class _LineLog:
    """A file-like target for tqdm that turns its carriage-return redraws into whole, timestamped
    lines appended to `path` (one `write` per line, so concurrent processes do not interleave)."""

    def __init__(self, path: str):
        self.path = path
        self._pending = ""

    def write(self, text: str) -> None:
        self._pending += _CURSOR_MOVES.sub("", text)
        *done, self._pending = self._pending.replace("\r", "\n").split("\n")
        lines = [line.strip() for line in done if line.strip()]
        if lines:
            stamp = time.strftime("%H:%M:%S")
            with open(self.path, "a", encoding="utf-8") as f:
                for line in lines:
                    f.write(f"{stamp} {line}\n")

    def flush(self) -> None:
        if self._pending.strip():
            self.write("\n")


def logging_to_file() -> str | None:
    """The progress log this process writes bars to, or None (interactive: ordinary tqdm)."""
    if os.environ.get(HEADLESS_ENV, "") != "1":
        return None
    return os.environ.get(LOG_ENV) or None


def tqdm(*args: Any, **kwargs: Any):
    """`tqdm.auto.tqdm(*args, **kwargs)`, or, in a runner-executed notebook, a text bar written to
    the notebook's progress log (kept when it ends, whatever `leave` says: the log has no screen to
    clear)."""
    path = logging_to_file()
    if path is None:
        from tqdm.auto import tqdm as auto_tqdm

        return auto_tqdm(*args, **kwargs)
    from tqdm.std import tqdm as text_tqdm

    kwargs.update(file=_LineLog(path), leave=True, ascii=True, ncols=100, dynamic_ncols=False,
                  mininterval=LOG_INTERVAL_S, maxinterval=LOG_INTERVAL_S, delay=LOG_DELAY_S)
    return text_tqdm(*args, **kwargs)
