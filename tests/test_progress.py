"""Progress bars: drawn on stderr in a terminal only, with the share of work done."""

from __future__ import annotations

import io

import pytest

import kg
from kg.core import progress as progress_module
from kg.core.progress import Bar, current, progress


def test_bar_shows_the_share_done() -> None:
    bar = Bar("validating", total=4)
    bar.advance(3)
    line = bar.line()
    assert line.startswith("kg: validating [") and " 3/4 " in line
    assert line.count("#") == 22 and line.count(".") >= 8  # 30 * 3/4 filled


def test_nothing_is_drawn_outside_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    err = io.StringIO()
    monkeypatch.setattr("sys.stderr", err)
    with progress("validating") as bar:
        assert current() is bar
        kg.load().validate()
    assert err.getvalue() == "" and current() is None
    assert bar.total == bar.done > 100  # validation ticked once per compiled constraint


def test_a_terminal_gets_the_bar_and_a_clean_line(monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    err = Terminal()
    monkeypatch.setattr("sys.stderr", err)
    monkeypatch.setattr(progress_module.time, "monotonic", _clock())
    with progress("loading", total=2) as bar:
        bar.advance()
        import time

        time.sleep(0.5)
    text = err.getvalue()
    assert "kg: loading [" in text and "1/2" in text
    assert text.endswith("\r\033[K")  # the line is cleared when the step ends


def _clock() -> object:
    """A monotonic clock that runs ten times fast, so the half-second threshold passes at once."""
    import time

    start = time.perf_counter()
    return lambda: start + (time.perf_counter() - start) * 10
