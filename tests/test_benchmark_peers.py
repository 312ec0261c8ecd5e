"""benchmarks/scale.py with kg's peers (issue 17, item 4): a peer whose package is missing is skipped
and said so; a peer's process is stopped at its time limit (its step then shown as over N s) and fails
alone, as out of memory, beyond its memory bound."""

from __future__ import annotations

import csv
import sys
import time
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture
def scale(monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import scale

    return scale


def test_a_missing_peer_is_skipped_and_named(
    scale: object, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    import peers

    import kg

    real = peers.find_spec
    monkeypatch.setattr(peers, "find_spec", lambda name: None if name == "reasonable" else real(name))
    assert peers.missing(["pyshacl", "reasonable"]) == ["reasonable"]
    out = tmp_path / "scale.csv"
    argv = ["scale.py", "--sizes", "20", "--runs", "1", "--reference-max", "0", "--csv", str(out)]
    argv += ["--peers", "reasonable", "--skip", *kg.stored_queries()]
    monkeypatch.setattr(sys, "argv", argv)
    assert scale.main() == 0
    assert "skipping reasonable: its package reasonable is not installed" in capsys.readouterr().err
    rows = {row[0]: row[1:] for row in csv.reader(out.open())}
    assert rows["step"] == ["20 fast"]  # kg measured, no column for the missing peer
    assert int(rows["findings"][0]) >= 0 and float(rows["validation"][0]) > 0


def test_a_peer_over_its_time_limit_is_stopped(scale: object) -> None:
    # a stand-in peer that loads, says its step started, and never finishes
    code = (
        "import json, time; print(json.dumps({'load': 0.5, 'started': time.time()}), flush=True); "
        "time.sleep(60)"
    )
    start = time.perf_counter()
    lines, stopped = scale.run_child([sys.executable, "-c", code], timeout=1.5)
    assert time.perf_counter() - start < 10 and stopped is not None
    result = scale.peer_result(lines, stopped, "validation", 1.5)
    assert result["load"] == 0.5 and result["validation"] in ("> 1", "> 2")
    assert scale.peer_result([], stopped, "validation", 1.5) == {"load": "> 2"}
    finished = [{"load": 0.5, "started": 1.0}, {"load": 0.5, "validation": 2.0, "findings": 3, "done": True}]
    assert scale.peer_result(finished, None, "validation", 1.5) == {
        "load": 0.5,
        "validation": 2.0,
        "findings": 3,
    }


def test_a_peer_over_its_memory_bound_fails_alone(scale: object) -> None:
    with pytest.raises(scale.ChildFailed, match=r"out of memory \(> 0.5 GB\)"):
        scale.run_child([sys.executable, "-c", "b = bytearray(2**31)"], timeout=30, memory=0.5)
    lines = [{"failed": "out of memory (> 0.5 GB)"}]
    assert scale.peer_result(lines, None, "validation", 600) == {"validation": "out of memory (> 0.5 GB)"}
    assert scale.run_child([sys.executable, "-c", "print('{\"load\": 1.0}')"], timeout=30, memory=0.5) == (
        [{"load": 1.0}],
        None,
    )
