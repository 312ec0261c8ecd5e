"""A progress bar on stderr for long steps, shown only in a terminal (never in pipes, files or CI logs).

    with progress("validating", total=len(checks)) as bar:
        for check in checks:
            ...
            bar.advance()

Without a total it shows the step and the seconds elapsed. Steps shorter than half a second print
nothing, so quick commands stay quiet.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

_WIDTH = 30


class Bar:
    """The state of one progress line; ``advance`` moves it on."""

    def __init__(self, label: str, total: int | None):
        self.label, self.total, self.done = label, total, 0
        self.start = time.monotonic()

    def advance(self, steps: int = 1) -> None:
        self.done += steps

    def line(self) -> str:
        elapsed = time.monotonic() - self.start
        if not self.total:
            return f"kg: {self.label} ... {elapsed:.1f} s"
        filled = int(_WIDTH * min(self.done, self.total) / self.total)
        return (
            f"kg: {self.label} [{'#' * filled}{'.' * (_WIDTH - filled)}] "
            f"{self.done}/{self.total} {elapsed:.1f} s"
        )


_CURRENT: list[Bar] = []


def current() -> Bar | None:
    """The innermost bar being shown, so library code can advance it without being handed it."""
    return _CURRENT[-1] if _CURRENT else None


@contextmanager
def progress(label: str, total: int | None = None) -> Iterator[Bar]:
    """Show ``label`` with a bar (or a timer) on stderr while the block runs, if stderr is a terminal."""
    bar = Bar(label, total)
    if not sys.stderr.isatty():
        _CURRENT.append(bar)
        try:
            yield bar
        finally:
            _CURRENT.remove(bar)
        return
    stop = threading.Event()

    def draw() -> None:
        shown = False
        while not stop.wait(0.2):
            if time.monotonic() - bar.start > 0.5:
                sys.stderr.write("\r" + bar.line() + "\033[K")
                sys.stderr.flush()
                shown = True
        if shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()

    thread = threading.Thread(target=draw, daemon=True)
    _CURRENT.append(bar)
    thread.start()
    try:
        yield bar
    finally:
        _CURRENT.remove(bar)
        stop.set()
        thread.join()
