"""Visible progress for long work (builds, benchmarks, fuzzing, training), on stderr so stdout stays clean
for results (`tinyml bench --json`, reports).

Usage:

    from tinyml import progress

    with progress.task("Training", total=epochs) as bar:
        for epoch in range(epochs):
            ...
            bar.advance(note=f"loss {loss:.3f}")   # one step done; the note is shown beside the bar

    with progress.task("Building x64 module"):     # no total: a spinner and the elapsed time
        run_the_build()

- On a terminal it is a rich progress bar. Tasks opened while another is running (a build inside a benchmark)
  show as extra lines of the same display, since rich allows only one live display at a time, and leave it
  when they are done.
- Elsewhere (CI logs, pipes, pytest's capture) it prints plain lines: one when the task starts, one at most
  every `interval` seconds while it advances, and one when it ends, so a log shows that work goes on without
  a line per step.
- TINYML_PROGRESS=plain forces the plain lines, TINYML_PROGRESS=off prints nothing.

`bar.advance(n=1, note=None)` adds n steps; `bar.update(completed=None, total=None, note=None)` sets them;
`bar.note(text)` only changes the note. A task that raises ends with a 'failed' line instead of 'done'.
"""

import contextlib
import os
import sys
import time

# The plain mode's default spacing between lines: often enough to show life, rare enough to keep logs short.
DEFAULT_INTERVAL = 10.0

_live = None      # the one rich Progress on screen while any task runs (nested tasks join it)
_live_users = 0


def _mode(stream) -> str:
    chosen = os.environ.get("TINYML_PROGRESS", "").strip().lower()
    if chosen in ("off", "plain", "bar"):
        return chosen
    isatty = getattr(stream, "isatty", None)
    return "bar" if isatty is not None and isatty() and os.environ.get("TERM") != "dumb" else "plain"


class _Bar:
    """One task's handle: the methods the body calls to report its steps."""

    def __init__(self, description, total, stream, interval, mode):
        self.description = description
        self.total = total
        self.completed = 0
        self.text = None
        self._stream = stream
        self._interval = interval
        self._mode = mode
        self._start = time.monotonic()
        self._last_line = self._start
        self._rich_id = None

    def advance(self, n=1, note=None):
        """n more steps are done (note: a short text shown beside the bar, e.g. the current loss)."""
        self.update(completed=self.completed + n, note=note)

    def note(self, text):
        """Change the text beside the bar without counting a step."""
        self.update(note=text)

    def update(self, completed=None, total=None, note=None):
        """Set the steps done and/or the total (when it becomes known later) and/or the note."""
        if completed is not None:
            self.completed = completed
        if total is not None:
            self.total = total
        if note is not None:
            self.text = str(note)
        if self._mode == "bar" and _live is not None:
            _live.update(self._rich_id, completed=self.completed, total=self.total, note=self.text or "")
        elif (self._mode == "plain" and time.monotonic() - self._last_line >= self._interval
              and not (self.total and self.completed >= self.total)):   # the 'done' line says it next
            self._line("")

    def _elapsed(self):
        return time.monotonic() - self._start

    def _line(self, state):
        self._last_line = time.monotonic()
        count = f"{self.completed}/{self.total}" if self.total else (f"{self.completed}" if self.completed else "")
        parts = [f"{self.description}:", state, count, f"{self._elapsed():.1f}s", self.text or ""]
        print(" ".join(p for p in parts if p), file=self._stream, flush=True)


@contextlib.contextmanager
def task(description: str, total=None, stream=None, interval: float = DEFAULT_INTERVAL):
    """Show progress for the work inside the `with` block; yields the bar (see the module docstring).
    description: what is being done ("Building armv7m module"); total: the number of steps, or None when
    unknown; stream: where to write (stderr by default); interval: seconds between plain lines."""
    global _live, _live_users
    stream = stream if stream is not None else sys.stderr
    mode = _mode(stream)
    bar = _Bar(description, total, stream, interval, mode)
    if mode == "plain":
        bar._line("started")
    elif mode == "bar":
        if _live is None:
            from rich.console import Console
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn,
                                       TimeElapsedColumn)
            _live = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                             TimeElapsedColumn(), TextColumn("{task.fields[note]}"),
                             console=Console(file=stream), transient=False)
            _live.start()
        _live_users += 1
        bar._rich_id = _live.add_task(description, total=total, note="")
    try:
        yield bar
    except BaseException:
        _finish(bar, mode, "failed")
        raise
    _finish(bar, mode, "done")


def _finish(bar, mode, state):
    global _live, _live_users
    if mode == "plain":
        bar._line(state)
    elif mode == "bar":
        if state == "done":
            # a finished task shows a full bar, also when its total was never known
            done = bar.total or max(bar.completed, 1)
            _live.update(bar._rich_id, completed=done, total=done)
        _live.update(bar._rich_id, note=(bar.text or "") if state == "done" else "failed")
        _live_users -= 1
        if _live_users and state == "done":
            # a finished inner task (one build of many in a benchmark) leaves the screen; its outer task stays
            _live.remove_task(bar._rich_id)
        if _live_users == 0:
            _live.stop()
            _live = None
