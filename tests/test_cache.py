"""The persistent cache (issue 17): the same answers as without it, never a stale or half-built entry,
literals as written, and nothing written with --no-cache."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pyoxigraph as ox
import pytest

import kg
from kg.cli import main
from kg.core import cache
from kg.core.errors import InputError
from kg.core.namespaces import DATA_GRAPH
from kg.graph import KnowledgeGraph

FORMATS = ("table", "csv", "tsv", "json", "xml")
DATA = """@prefix mi: <https://w3id.org/initiatieven/def/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<https://example.org/i/1> a mi:Initiative ; skos:prefLabel "Een"@nl ;
    mi:note "010"^^xsd:long , "1"^^xsd:boolean ; mi:x [ mi:y "07"^^xsd:int ] .
"""


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    where = tmp_path / "cache"
    monkeypatch.setenv("KG_CACHE_DIR", str(where))
    return where


def _params(stored) -> dict[str, str]:
    return {p.name: p.example for p in stored.parameters if p.required and p.example is not None}


def _bare(triple: object) -> str:
    """A triple's text with blank node labels left out (two loads label them differently)."""
    return re.sub(r"_:[A-Za-z0-9]+", "_:b", str(triple))


def _fresh_cached() -> KnowledgeGraph:
    return KnowledgeGraph.load(cache=True)


def test_location_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("KG_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache.root() == tmp_path / "kg"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")  # XDG: relative paths are ignored
    assert cache.root() == Path.home() / ".cache" / "kg"


def test_cached_answers_equal_the_engines_in_every_format(graph: kg.KnowledgeGraph, folder: Path) -> None:
    first = _fresh_cached()
    for stored in kg.stored_queries().values():
        first.query(stored, _params(stored))  # computes and keeps
    second = _fresh_cached()
    for stored in kg.stored_queries().values():
        whole = graph.query(stored, _params(stored))
        again = second.query(stored, _params(stored))
        for fmt in FORMATS if whole.form in ("SELECT", "ASK") else ("turtle",):
            assert again.serialize(fmt) == whole.serialize(fmt), (stored.name, fmt)
        if whole.form == "SELECT":
            out = io.BytesIO()
            second.query(stored, _params(stored), stream=True).write(out, "tsv")
            assert out.getvalue() == whole.serialize("tsv")
    assert second._engine is None  # every answer (and parameter check) came from the cache


def test_cached_pages_are_slices(graph: kg.KnowledgeGraph, folder: Path) -> None:
    full = graph.query("initiatives").rows
    cached = _fresh_cached()
    cached.query("initiatives")
    cached = _fresh_cached()
    for page in range(5):
        result = cached.query("initiatives", offset=page * 3, limit=3)
        assert result.rows == full[page * 3 : page * 3 + 3]
        assert result.truncated == ((page + 1) * 3 < len(full))
    assert cached._engine is None


def test_snapshot_keeps_literals_as_written_and_blank_nodes(tmp_path: Path, folder: Path) -> None:
    data = tmp_path / "d.ttl"
    data.write_text(DATA)
    plain = KnowledgeGraph.load([data])
    plain.infer()
    KnowledgeGraph.load([data], cache=True).infer()  # builds the entry
    reopened = KnowledgeGraph.load([data], cache=True)
    assert reopened._engine is None
    assert sorted(map(_bare, reopened.triples(DATA_GRAPH))) == sorted(map(_bare, plain.triples(DATA_GRAPH)))
    assert '"07"^^<http://www.w3.org/2001/XMLSchema#int>' in {
        str(t.object) for t in reopened.triples(DATA_GRAPH)
    }
    assert '"010"^^<http://www.w3.org/2001/XMLSchema#long>' in {
        str(t.object) for t in reopened.triples(DATA_GRAPH)
    }
    assert reopened.reasoner == "rules"
    assert len(reopened.query("SELECT * WHERE { ?s ?p ?o }").rows) == len(
        plain.query("SELECT * WHERE { ?s ?p ?o }").rows
    )
    assert reopened.validate().conforms == plain.validate().conforms


def test_a_changed_file_is_another_entry(tmp_path: Path, folder: Path) -> None:
    data = tmp_path / "d.ttl"
    data.write_text(DATA)
    question = "SELECT ?l WHERE { ?i a mi:Initiative ; skos:prefLabel ?l }"
    assert KnowledgeGraph.load([data], cache=True).query(question).rows[0][0].value == "Een"
    old = os.stat(data)
    data.write_text(DATA.replace('"Een"', '"Twe"'))  # same size
    os.utime(data, ns=(old.st_atime_ns, old.st_mtime_ns))  # and the same modification time
    assert KnowledgeGraph.load([data], cache=True).query(question).rows[0][0].value == "Twe"


def test_remembered_hashes_notice_an_edit_with_the_old_times(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache, "RACY_SECONDS", 0)  # instead of waiting two seconds
    path = tmp_path / "f.ttl"
    path.write_text("aaaa")
    past = time.time_ns() - 10 * 10**9
    os.utime(path, ns=(past, past))
    time.sleep(0.05)
    hashes = cache.Hashes(tmp_path)
    first = hashes.of(path)
    assert str(path.resolve()) in hashes.memo  # settled: remembered
    path.write_text("bbbb")
    os.utime(path, ns=(past, past))  # the change time still moves
    assert hashes.of(path) != first


def test_a_fresh_file_is_not_remembered(tmp_path: Path) -> None:
    path = tmp_path / "f.ttl"
    path.write_text("aaaa")
    hashes = cache.Hashes(tmp_path)
    hashes.of(path)
    assert hashes.memo == {}  # too recent to trust its times (racily clean)


def test_kg_code_is_part_of_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hashes = cache.Hashes(tmp_path)
    before = cache.inputs_key("oxigraph", None, [], [], hashes)
    monkeypatch.setattr(cache, "__version__", "99")
    assert cache.inputs_key("oxigraph", None, [], [], hashes) != before
    assert cache.inputs_key("oxigraph", "http://b/", [], [], hashes) != cache.inputs_key(
        "oxigraph", None, [], [], hashes
    )


def test_a_crash_while_building_leaves_no_entry(folder: Path) -> None:
    store = cache.Cache("k" * 64, folder)
    with pytest.raises(RuntimeError), store.building() as tmp:
        (tmp / "meta.json").write_text("{}")
        raise RuntimeError("crash")
    assert not store.exists()
    assert list(folder.iterdir()) == []


def test_a_leftover_build_folder_is_never_used(folder: Path) -> None:
    _fresh_cached().query("initiatives")
    (entry,) = [p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")]
    (entry / "meta.json").unlink()  # as if the build had stopped before its last file
    reopened = _fresh_cached()
    assert reopened._engine is not None  # loaded from the files, not from the broken entry
    assert reopened.query("initiatives").rows == kg.load().query("initiatives").rows


def test_too_long_answers_are_not_kept(
    graph: kg.KnowledgeGraph, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache, "MAX_ROWS", 3)
    cached = _fresh_cached()
    assert cached.query("initiatives").rows == graph.query("initiatives").rows
    assert cached.query("initiatives", offset=3, limit=3).rows == graph.query("initiatives").rows[3:6]
    (entry,) = [p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")]
    assert not [p for p in (entry / "answers").iterdir() if p.stat().st_size > 2000]


def test_no_cache_writes_nothing_and_clear_empties(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "initiatives", "--no-cache", "--format", "csv"]) == 0
    assert not folder.exists()
    assert main(["query", "initiatives", "--format", "csv"]) == 0
    assert any(p.is_dir() for p in folder.iterdir())
    assert main(["cache", "clear"]) == 0
    assert not [p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")]
    assert main(["cache"]) == 0
    assert capsys.readouterr().out.strip().endswith(str(folder))


def test_concurrent_commands_build_one_whole_entry(folder: Path) -> None:
    env = {**os.environ, "KG_CACHE_DIR": str(folder)}
    command = [sys.executable, "-m", "kg.cli", "query", "initiatives", "--format", "csv"]
    runs = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE) for _ in range(3)]
    outputs = [run.communicate(timeout=120)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0]
    assert outputs[0] == outputs[1] == outputs[2]
    entries = [p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")]
    assert len(entries) == 1 and (entries[0] / "meta.json").is_file()
    assert not [p for p in folder.iterdir() if p.name.startswith(".tmp-")]
    again = subprocess.run(command, env=env, stdout=subprocess.PIPE, timeout=120, check=True)
    assert again.stdout == outputs[0]


def test_whole_answers_are_written_from_kept_bytes(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outputs = {}
    for fmt in ("table", "csv", "json"):
        runs = []
        for _ in range(3):  # computes, renders and keeps, copies
            assert main(["query", "initiatives", "--format", fmt]) == 0
            runs.append(capsys.readouterr().out)
        assert runs[0] == runs[1] == runs[2]
        outputs[fmt] = runs[0]
    assert main(["query", "initiatives", "--format", "csv", "--no-cache"]) == 0
    assert capsys.readouterr().out == outputs["csv"]
    (entry,) = [p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")]
    kept = {p.name.rsplit("-", 1)[-1] for p in (entry / "answers").iterdir()}
    assert {"table.out", "csv.out", "json.out"} <= kept
    assert not [p for p in (entry / "answers").iterdir() if p.name.startswith(".tmp-")]


def test_a_failed_rendering_keeps_nothing(graph: kg.KnowledgeGraph, folder: Path) -> None:
    cached = _fresh_cached()
    cached.query("initiatives")
    result = _fresh_cached().query("initiatives")
    with pytest.raises(kg.core.errors.UsageError):
        result.write(io.BytesIO(), "turtle")  # not a format for SELECT
    (entry,) = [p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")]
    assert sorted(p.suffix for p in (entry / "answers").iterdir()) == [".tsv"]


def test_only_the_most_recently_used_entries_are_kept(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "MAX_ENTRIES", 2)
    for key in ("a", "b", "c"):
        with cache.Cache(key * 64, folder).building() as tmp:
            (tmp / "meta.json").write_text("{}")
        time.sleep(0.02)
    assert sorted(p.name[0] for p in folder.iterdir() if p.is_dir()) == ["b", "c"]
    os.utime(folder / ("b" * 64))  # b used again: c is now the older one
    time.sleep(0.02)
    with cache.Cache("d" * 64, folder).building() as tmp:
        (tmp / "meta.json").write_text("{}")
    assert sorted(p.name[0] for p in folder.iterdir() if p.is_dir()) == ["b", "d"]


def test_an_entry_cleared_before_it_is_opened_falls_back_to_the_files(
    graph: kg.KnowledgeGraph, folder: Path
) -> None:
    _fresh_cached().query("initiatives")
    reopened = _fresh_cached()
    assert reopened._engine is None
    cache.clear()  # another command empties the cache meanwhile
    assert reopened.query("bottleneck-counts").rows == graph.query("bottleneck-counts").rows
    assert reopened.reasoner == "rules"


def test_kept_answers_carry_literals_as_written(tmp_path: Path, folder: Path) -> None:
    data = tmp_path / "d.ttl"
    data.write_text(DATA)
    question = "SELECT ?v WHERE { ?s mi:note ?v }"
    first = KnowledgeGraph.load([data], cache=True)
    first.infer()
    assert {str(r[0]) for r in first.query(question).rows} >= {
        '"010"^^<http://www.w3.org/2001/XMLSchema#long>'
    }
    again = KnowledgeGraph.load([data], cache=True)
    assert again.query(question).rows == first.query(question).rows
    assert again._engine is None  # from the kept answer


def test_a_kept_output_changed_in_place_is_rendered_again(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The copy of a whole answer in a format ends with its CRC-32: a byte changed in place (same
    size) is found before anything is written, and the answer is rendered again."""
    assert main(["query", "initiatives", "--format", "csv", "--no-cache"]) == 0
    want = capsys.readouterr().out
    for _ in range(2):  # computes and keeps the answer, then renders and keeps the csv
        assert main(["query", "initiatives", "--format", "csv"]) == 0
        assert capsys.readouterr().out == want
    (kept,) = folder.glob("*/answers/*-csv.out")
    content = kept.read_bytes()
    assert b"Wijkonderneming" in content
    kept.write_bytes(content.replace(b"Wijkonderneming", b"Wijkondernemink", 1))
    assert main(["query", "initiatives", "--format", "csv"]) == 0
    assert capsys.readouterr().out == want
    assert main(["query", "initiatives", "--format", "csv"]) == 0  # the copy kept again is whole
    assert capsys.readouterr().out == want


@pytest.mark.parametrize("count", [1, 255, 256, 257, 1000])
def test_each_group_of_kept_rows_is_checked(tmp_path: Path, count: int) -> None:
    """A changed byte in the last row is found by a read of that row (or of all), whatever the
    number of rows around the group size; rows of other groups stay readable."""
    rows = [(ox.Literal(f"row {i:04d}"),) for i in range(count)]
    path = tmp_path / "a.tsv"
    with path.open("wb") as handle:
        assert cache._write_answer(handle, ["x"], rows)
    kept = cache.Answers(path)
    kept.verify()
    assert [r[0].value for r in kept.rows()] == [r[0].value for r in rows]
    path.write_bytes(path.read_bytes().replace(f"row {count - 1:04d}".encode(), b"row XXXX", 1))
    kept = cache.Answers(path)
    for offset, limit in ((0, None), (count - 1, 1), (max(0, count - 3), 10)):
        with pytest.raises(ValueError, match="damaged"):
            kept.verify(offset, limit)
    if count > 256:
        kept.verify(0, 256)  # the first group is whole


def test_a_row_offset_changed_in_place_is_found(tmp_path: Path) -> None:
    """The row index is damage too: an offset moved onto the next row's start keeps every size and
    every CRC-32 of the rows, but a page read through it would skip a row (a wrong answer)."""
    rows = [(ox.Literal(f"row {i:04d}"),) for i in range(10)]
    path = tmp_path / "a.tsv"
    with path.open("wb") as handle:
        assert cache._write_answer(handle, ["x"], rows)
    kept = cache.Answers(path)
    assert [r[0].value for r in kept.rows(3, 2)] == ["row 0003", "row 0004"]
    content = bytearray(path.read_bytes())
    entry = kept._index + 8 * 3  # the offset of row 3, little-endian
    line = len(b'"row 0003"\n')
    content[entry] += line  # now the offset of row 4
    path.write_bytes(bytes(content))
    kept = cache.Answers(path)
    with pytest.raises(ValueError, match="damaged"):
        kept.verify(3, 2)


def test_a_kept_output_cut_short_while_it_is_copied(tmp_path: Path) -> None:
    """A kept output that shrinks between its check and its copy is an error, not an endless loop
    and not a short answer given as whole."""

    class Shrinking(io.BytesIO):
        rewinds = 0

        def seek(self, pos: int, whence: int = 0) -> int:
            if pos == 0 and whence == 0:
                self.rewinds += 1
                if self.rewinds == 2:  # the copy starts: the file loses its second half
                    self.truncate(5)
            return super().seek(pos, whence)

    body = b"0123456789"
    kept = Shrinking(body + zlib.crc32(body).to_bytes(4, "little"))
    out = io.BytesIO()
    with pytest.raises(InputError, match="damaged cache file"):
        cache._copy_checked(kept, out)
    assert out.getvalue() == b"01234"
