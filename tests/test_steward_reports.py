"""Issue 14, reports a steward can act on: each finding with its offending value and the file and line
where its subject is defined, grouped by initiative, in Dutch or English; an HTML page that is escaped."""

from __future__ import annotations

import json
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from kg.cli import main
from kg.core.bundle import root
from kg.core.sources import locate

CRABBE = "https://w3id.org/initiatieven/id/initiatief/crabbehoeve"


@pytest.fixture()
def project(tmp_path: Path, monkeypatch) -> Path:
    folder = tmp_path / "project"
    for name in ("ontology", "shapes", "data", "queries"):
        shutil.copytree(root() / name, folder / name)
    monkeypatch.chdir(folder)
    return folder


def _break(project: Path, old: str, new: str) -> Path:
    path = project / "data" / "initiatieven" / "08-crabbehoeve.ttl"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def _line_of(path: Path, number: int) -> str:
    return path.read_text(encoding="utf-8").splitlines()[number - 1]


def test_a_finding_shows_its_value_file_and_line_grouped_by_initiative(project: Path, capsys) -> None:
    path = _break(project, "mi:municipality gm:gm0505", "mi:municipality gm:gm0344")
    assert main(["validate"]) == 1
    out = capsys.readouterr().out.splitlines()
    heading = next(i for i, line in enumerate(out) if line.startswith("init:crabbehoeve"))
    assert (
        "Crabbehoeve" in out[heading]
        and "gedefinieerd in data/initiatieven/08-crabbehoeve.ttl:" in out[heading]
    )
    line = int(out[heading].rsplit(":", 1)[1].rstrip(")"))
    assert _line_of(path, line) == "init:crabbehoeve"  # the line where the subject starts
    group = []
    for text in out[heading + 1 :]:
        if not text.startswith("  "):
            break
        group.append(text)
    # the participation (a node of its own, in the same file) is reported under its initiative
    partner = [t for t in group if "mi:municipalPartner" in t]
    assert partner and "Overtreding:" in partner[0] and "(waarde: gm:gm0505)" in partner[0]
    where = partner[0].rsplit(" — ", 1)[1]
    assert where.startswith("data/initiatieven/08-crabbehoeve.ttl:")
    assert _line_of(path, int(where.rsplit(":", 1)[1])) == "dn:8"
    assert out[-1].startswith("voldoet niet: ")


def test_the_report_in_english(project: Path, capsys) -> None:
    _break(project, "mi:municipality gm:gm0505", "mi:municipality gm:gm0344")
    assert main(["validate", "--lang", "en"]) == 1
    out = capsys.readouterr().out
    assert "Violation: dn:8 mi:municipalPartner:" in out and "(value: gm:gm0505)" in out
    assert "(defined in data/initiatieven/08-crabbehoeve.ttl:" in out
    assert out.splitlines()[-1].startswith("does not conform: ")


def test_a_literal_value_is_shown_in_quotes(project: Path, capsys) -> None:
    _break(project, 'dct:identifier "crabbehoeve"', 'dct:identifier "ooit en later"')
    assert main(["validate", "--lang", "en", "--format", "json"]) == 1
    findings = json.loads(capsys.readouterr().out)["results"]
    found = [f for f in findings if f["path"] and f["path"].endswith("identifier")]
    assert found and found[0]["value"] == "ooit en later"
    assert found[0]["file"] == "data/initiatieven/08-crabbehoeve.ttl" and found[0]["initiative"] == CRABBE
    assert main(["validate", "--lang", "en"]) == 1
    assert '(value: "ooit en later")' in capsys.readouterr().out


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append(tag)
        self.attrs += attrs

    def handle_data(self, data: str) -> None:
        self.text += data


def test_html_report_is_readable_and_escaped(project: Path, capsys, tmp_path: Path) -> None:
    evil = '<script>alert(1)</script><img src=x onerror=alert(2)>"'
    _break(project, 'dct:identifier "crabbehoeve"', f'dct:identifier "{evil.replace(chr(34), "")}"')
    out = tmp_path / "rapport.html"
    assert main(["validate", "--format", "html", "-o", str(out)]) == 1
    page = out.read_text(encoding="utf-8")
    parsed = _Tags()
    parsed.feed(page)
    assert "script" not in parsed.tags and "img" not in parsed.tags
    assert not any(name.startswith("on") for name, _ in parsed.attrs)
    assert "<script>alert(1)</script>" in parsed.text  # shown as text, escaped in the source
    assert "&lt;script&gt;" in page and "Content-Security-Policy" in page
    assert "Validatierapport" in parsed.text and "Crabbehoeve" in parsed.text
    assert "data/initiatieven/08-crabbehoeve.ttl:" in parsed.text
    assert main(["validate", "--format", "html", "--lang", "en"]) == 1
    assert "Validation report" in capsys.readouterr().out


def test_a_conforming_project_gives_a_page_too(project: Path, capsys) -> None:
    assert main(["validate", "--format", "html"]) == 0
    page = capsys.readouterr().out
    assert page.startswith("<!DOCTYPE html>") and "voldoet: 0 overtredingen" in page


# --- finding where a subject is defined ----------------------------------------------------------


def test_locate_reads_prefixed_full_relative_and_ntriples_subjects(tmp_path: Path) -> None:
    ttl = tmp_path / "a.ttl"
    ttl.write_text(
        "@prefix ex: <https://example.org/> .\n\n"
        "ex:one a ex:T ;\n    ex:p ex:two .\n\n"
        "<https://example.org/three> a ex:T .\n"
        "<four> a ex:T .\n"
        "  ex:indented a ex:T .\n"
        'ex:five ex:says "ex:six at the start of no line" .\n',
        encoding="utf-8",
    )
    nt = tmp_path / "b.nt"
    nt.write_text("<https://example.org/seven> <https://example.org/p> <https://example.org/one> .\n")
    found = locate(
        [f"https://example.org/{n}" for n in ("one", "two", "three", "five", "seven", "indented", "six")]
        + [(tmp_path / "four").as_uri()],
        [ttl, nt],
    )
    assert {k.rsplit("/", 1)[1]: (p.name, line) for k, (p, line) in found.items()} == {
        "one": ("a.ttl", 3),
        "three": ("a.ttl", 6),
        "four": ("a.ttl", 7),
        "five": ("a.ttl", 9),
        "seven": ("b.nt", 1),
    }  # "two" is only an object, "indented" and "six" start no line: not located rather than wrongly


def test_the_first_file_that_writes_a_subject_wins_when_none_types_it(tmp_path: Path) -> None:
    first, second = tmp_path / "1.ttl", tmp_path / "2.ttl"
    first.write_text("@prefix ex: <https://example.org/> .\nex:a ex:q 2 .\n")
    second.write_text("@prefix e: <https://example.org/> .\n\n\ne:a e:p 1 .\n")
    assert locate(["https://example.org/a"], [second, first]) == {"https://example.org/a": (second, 4)}


def test_the_file_that_types_a_subject_wins_over_a_record_that_mentions_it(tmp_path: Path) -> None:
    """data/imports.ttl sorts before data/initiatieven/ and says `init:x prov:wasInfluencedBy ...`:
    the report must still point at the initiative's own file, where its `a mi:Initiative` is."""
    record, own, nt = tmp_path / "imports.ttl", tmp_path / "x.ttl", tmp_path / "y.nt"
    record.write_text("@prefix ex: <https://example.org/> .\n\nex:a\n    ex:influencedBy ex:i .\n")
    own.write_text("@prefix ex: <https://example.org/> .\n\nex:a\n    a ex:T ;\n    ex:p 1 .\n")
    nt.write_text(
        "<https://example.org/b> <https://example.org/p> 1 .\n"
        "<https://example.org/b> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
        " <https://example.org/T> .\n"
    )
    found = locate(["https://example.org/a", "https://example.org/b"], [record, own, nt])
    assert found == {"https://example.org/a": (own, 3), "https://example.org/b": (nt, 2)}


def test_a_file_that_starts_with_its_subject(tmp_path: Path) -> None:
    nt = tmp_path / "c.nt"
    nt.write_text("<https://example.org/a> <https://example.org/p> <https://example.org/b> .\n")
    assert locate(["https://example.org/a"], [nt]) == {"https://example.org/a": (nt, 1)}
    ttl = tmp_path / "d.ttl"
    ttl.write_text("<https://example.org/a> <https://example.org/p> 1 .\n<b> <https://example.org/p> 2 .\n")
    found = locate(["https://example.org/a", (tmp_path / "b").as_uri()], [ttl])
    assert found == {"https://example.org/a": (ttl, 1), (tmp_path / "b").as_uri(): (ttl, 2)}
