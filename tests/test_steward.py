"""Data stewards: canonical formatting, semantic diff, spreadsheet intake, and nothing lost."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import rdflib
from rdflib.compare import isomorphic

import kg
from kg.cli import main
from kg.core import bundle
from kg.core.files import JOURNAL, recover, write_many
from kg.core.turtle import format_text
from kg.steward.intake import COLUMNS, ImportRejected, import_csv

HEADER = ",".join(COLUMNS)


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    """A copy of the project's ontology and data to change freely."""
    for folder in ("ontology", "data"):
        shutil.copytree(bundle.root() / folder, tmp_path / folder)
    return tmp_path


def snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def csv_file(
    tmp_path: Path, *rows: str, name: str = "rows.csv", encoding: str = "utf-8", header: str = HEADER
) -> Path:
    path = tmp_path / name
    path.write_bytes(("\r\n".join([header, *rows]) + "\r\n").encode(encoding))
    return path


NEW = (
    "linde,Buurttuin De Linde,De Linde,Dordrecht,stichting,buurttuin;groenbeheer,aanbesteden,1250,,2019,"
    "https://example.org/linde,Een buurttuin van bewoners,A community garden of residents"
)


# --- kg fmt -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", bundle.ontology_files() + bundle.data_files() + bundle.shapes_files(), ids=lambda p: p.name
)
def test_canonical_form_keeps_the_graph_and_is_stable(path: Path) -> None:
    text = path.read_text()
    formatted = format_text(text)
    assert isomorphic(
        rdflib.Graph().parse(data=text, format="turtle"),
        rdflib.Graph().parse(data=formatted, format="turtle"),
    )
    assert format_text(formatted) == formatted


def test_the_projects_files_are_canonical(capsys) -> None:
    assert main(["fmt", "--check", *map(str, bundle.ontology_files() + bundle.data_files())]) == 0


def test_fmt_check_and_rewrite(project: Path) -> None:
    path = project / "data" / "programma.ttl"
    original = path.read_text()
    blocks = original.split("\n\n")
    shuffled = "\n\n".join(blocks[:2] + blocks[:1:-1]).replace("    ", "\t")
    assert shuffled != original
    path.write_text(shuffled)
    assert main(["fmt", "--check", str(path)]) == 1 and path.read_text() == shuffled
    assert main(["fmt", str(path)]) == 0
    assert path.read_text() == original


def test_fmt_sorts_and_keeps_header_comment() -> None:
    text = (
        "# Header\n# two lines\n\n@prefix ex: <https://example.org/> .\n"
        "ex:b ex:p ex:z , ex:a .\nex:a a ex:T .\n"
    )
    assert format_text(text) == (
        "# Header\n# two lines\n\n@prefix ex: <https://example.org/> .\n\n"
        "ex:a\n    a ex:T .\n\nex:b\n    ex:p ex:a , ex:z .\n"
    )


def test_fmt_keeps_literals_as_written_beside_blank_nodes() -> None:
    """RDF 1.1 Concepts 3.3: "007"^^xsd:integer and "7"^^xsd:integer are two terms; kg fmt must not
    turn one into the other, also when the file has a blank node (labelled canonically)."""
    import pyoxigraph as ox

    text = (
        "@prefix ex: <https://example.org/> .\n@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
        'ex:a ex:n "007"^^xsd:integer , "TRUE"^^xsd:boolean , "1e1"^^xsd:double , "01"^^xsd:int ;\n'
        '    ex:b [ ex:c "0.50"^^xsd:decimal , "x"@en-GB ] .\n'
    )

    def literals(turtle: str) -> list[str]:
        quads = ox.parse(turtle.encode(), format=ox.RdfFormat.TURTLE)
        return sorted(str(q.object) for q in quads if isinstance(q.object, ox.Literal))

    formatted = format_text(text)
    assert literals(formatted) == literals(text) and len(literals(text)) == 6
    assert format_text(formatted) == formatted


def test_fmt_never_writes_through_a_link_out_of_the_project(
    project: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    """A project cloned from git may hold a symbolic link; kg fmt must not rewrite what it points to."""
    (project / "kg.toml").write_text("")
    elsewhere = tmp_path.parent / f"{tmp_path.name}-elsewhere.ttl"
    elsewhere.write_text("@prefix ex: <https://example.org/> .\nex:a   ex:p   1 .\n")
    before = elsewhere.read_bytes()
    (project / "data" / "linked.ttl").symlink_to(elsewhere)
    data = {p: p.read_bytes() for p in (project / "data").rglob("*.ttl") if not p.is_symlink()}
    programme = project / "data" / "programma.ttl"
    programme.write_text(programme.read_text().replace("    ", "\t"))  # one file to reformat, too
    data[programme] = programme.read_bytes()
    monkeypatch.chdir(project)
    assert main(["fmt", "--lang", "en"]) == 2
    assert "linked.ttl: points to" in capsys.readouterr().err
    assert elsewhere.read_bytes() == before
    assert all(p.read_bytes() == b for p, b in data.items())  # nothing written
    assert main(["fmt", "--check"]) == 1  # reading is fine


def test_fmt_bad_file(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text("@prefix ex: <https://example.org/> .\nex:a ex:b .\n")
    assert main(["fmt", str(bad)]) == 2
    assert f"{bad}:2: ongeldige Turtle" in capsys.readouterr().err  # Dutch by default
    assert main(["fmt", str(bad), "--lang", "en"]) == 2
    assert f"{bad}:2: invalid Turtle" in capsys.readouterr().err


NOTE = (
    "# Opening comment, kept.\n\n"
    "@prefix ex: <https://example.org/vocab#> .\n"
    "@prefix e2: <https://example.org/x/> .\n"
    "ex:b ex:p <http://x/#a> ;\n"
    '    ex:q "a # in a string" , \'single # too\' , """long\n# not a comment either\n""" ,\n'
    '        \'\'\'and # here\'\'\' , e2:local\\#esc , """quote \\"# x\\" """ , "back\\\\" .\n'
    "ex:a ex:p 1 .  # steward's note: checked with the municipality\n"
)
STEWARD = "# steward's note: checked with the municipality"


def test_comments_are_found_by_the_turtle_tokens() -> None:
    """Turtle 1.1 section 6.4: '#' starts a comment only outside IRIREFs and strings (and an escaped
    '\\#' in a local name is part of the name)."""
    from kg.core.turtle import dropped_comments

    assert dropped_comments(NOTE) == [(10, STEWARD)]
    heading = "\n# --- Other resources ".ljust(101, "-")
    assert dropped_comments(NOTE.replace("  " + STEWARD, heading)) == []  # kg fmt's own heading
    assert dropped_comments(format_text(NOTE)) == []
    indented = NOTE.replace("# Opening", "  # Opening")  # not the opening block: kg fmt would lose it
    assert dropped_comments(indented) == [(1, "# Opening comment, kept."), (10, STEWARD)]
    assert dropped_comments("# a\n\n# b\n\nex:a ex:p 1 .\r\n# c\rex:a ex:q 2 .\n") == [(6, "# c")]


def test_fmt_refuses_to_drop_a_comment_unless_told(tmp_path: Path, capsys) -> None:
    path = tmp_path / "notes.ttl"
    path.write_text(NOTE)
    assert main(["fmt", str(path), "--lang", "en"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and f"{path}:10:" in err and "--drop-comments" in err
    assert path.read_text() == NOTE  # nothing written
    assert main(["fmt", "--check", str(path), "--lang", "en"]) == 1
    err = capsys.readouterr().err
    assert f"{path}" in err and "line 10" in err and "comment" in err
    assert path.read_text() == NOTE
    assert main(["fmt", "--drop-comments", str(path)]) == 0
    text = path.read_text()
    assert text.startswith("# Opening comment, kept.\n") and "steward" not in text
    assert isomorphic(rdflib.Graph().parse(data=NOTE, format="turtle"), rdflib.Graph().parse(data=text))


def test_fmt_keeps_its_own_headings_and_the_opening_block(tmp_path: Path, capsys) -> None:
    """A canonical file (its section headings are kg fmt's own) is canonical: nothing to refuse."""
    path = tmp_path / "ok.ttl"
    path.write_text(format_text(NOTE))
    assert main(["fmt", "--check", str(path)]) == 0
    assert main(["fmt", str(path)]) == 0


# --- kg diff ------------------------------------------------------------------------------------


def test_diff_equal_graphs_ignores_format_and_blank_node_labels(tmp_path: Path) -> None:
    a = tmp_path / "a.ttl"
    b = tmp_path / "b.nt"
    a.write_text("@prefix ex: <https://example.org/> .\nex:s ex:p [ ex:q 1 ] .\n")
    b.write_text(
        "<https://example.org/s> <https://example.org/p> _:x9 .\n"
        '_:x9 <https://example.org/q> "1"^^<http://www.w3.org/2001/XMLSchema#integer> .\n'
    )
    assert main(["diff", str(a), str(b)]) == 0


def test_diff_groups_changes_by_initiative(project: Path, capsysbinary) -> None:
    changed = project / "changed"
    shutil.copytree(project / "data", changed)
    crabbe = changed / "initiatieven" / "08-crabbehoeve.ttl"
    crabbe.write_text(crabbe.read_text().replace('"1000"^^xsd:decimal', '"1200"^^xsd:decimal'))
    assert main(["diff", str(project / "data"), str(changed)]) == 1
    out = capsysbinary.readouterr().out.decode().splitlines()
    assert out[0] == "init:crabbehoeve  (Crabbehoeve)"
    assert out[1] == '  - init:crabbehoeve-oppervlakte schema:value "1000"^^xsd:decimal'
    assert out[2] == '  + init:crabbehoeve-oppervlakte schema:value "1200"^^xsd:decimal'
    assert out[-1] == "1 verwijderd, 1 toegevoegd"
    assert main(["diff", str(project / "data"), str(changed), "--lang", "en"]) == 1
    assert capsysbinary.readouterr().out.decode().splitlines()[-1] == "1 removed, 1 added"
    assert main(["diff", str(project / "data"), str(changed), "--format", "turtle", "--lang", "en"]) == 1
    text = capsysbinary.readouterr().out.decode()
    removed, added = text.split("# added: 1 triple")
    assert "1000" in removed and "1200" in added


def test_diff_git_revisions(project: Path, capsysbinary) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(project), *args], check=True, capture_output=True)

    git("init", "-q")
    git("-c", "user.name=t", "-c", "user.email=t@t", "add", "data")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "data")
    rhoon = project / "data" / "initiatieven" / "07-buurtnetwerk-rhoon.ttl"
    rhoon.write_text(rhoon.read_text().replace("kt:aansprakelijkheid", "kt:fiscaliteit"))
    cwd = os.getcwd()
    os.chdir(project)
    try:
        assert main(["diff", "HEAD:data", "data"]) == 1
        out = capsysbinary.readouterr().out.decode()
        assert "init:buurtnetwerk-rhoon  (Buurtnetwerk Rhoon)" in out
        assert "- mi:bottleneck kt:aansprakelijkheid" in out and "+ mi:bottleneck kt:fiscaliteit" in out
        assert main(["diff", "HEAD~5:data", "data"]) == 2
    finally:
        os.chdir(cwd)


# --- kg import ----------------------------------------------------------------------------------


def test_import_adds_a_valid_initiative_and_records_it(project: Path, tmp_path: Path) -> None:
    data = project / "data"
    result = import_csv(csv_file(tmp_path, NEW), data)
    assert result.created == ["linde"] and result.updated == []
    graph = kg.load(sorted(data.rglob("*.ttl")))
    assert graph.validate().conforms
    assert [r["number"] for r in graph.query("initiatives-by-bottleneck", {"bottleneck": "aanbesteden"})] == [
        None,
        1,
        3,
        5,
        6,
        7,
        8,
    ]  # SPARQL sorts the unnumbered new initiative first
    answer = graph.query("SELECT ?m ?v WHERE { init:linde mi:municipality ?m ; mi:area/schema:value ?v }")
    assert list(answer) == [{"m": "https://identifier.overheid.nl/tooi/id/gemeente/gm0505", "v": 1250.0}]
    record = graph.query("""SELECT ?file ?sum WHERE { init:linde prov:wasInfluencedBy ?import .
        ?import a mi:DataImport ; prov:used [ dct:title ?file ; dct:identifier ?sum ] }""")
    assert [r["file"] for r in record] == ["rows.csv"] and record.column("sum")[0].startswith("sha256:")
    assert main(["fmt", "--check", *map(str, data.rglob("*.ttl"))]) == 0


def test_importing_twice_changes_nothing(project: Path, tmp_path: Path) -> None:
    data = project / "data"
    rows = csv_file(tmp_path, NEW, "wattwest,,,,,,fiscaliteit,,,,,,")
    import_csv(rows, data)
    before = snapshot(data)
    again = import_csv(rows, data)
    assert not again.changed and snapshot(data) == before


def test_update_semantics(project: Path, tmp_path: Path) -> None:
    """A filled cell replaces, an empty cell keeps, '-' removes (partner 4, Marconia)."""
    data = project / "data"
    import_csv(csv_file(tmp_path, "marconia,,,,-,,aansprakelijkheid,,,,,,"), data)
    graph = kg.load(sorted(data.rglob("*.ttl")))
    answer = graph.query(
        "SELECT ?b ?form ?area WHERE { init:marconia mi:bottleneck ?b ; "
        "mi:area/schema:value ?area OPTIONAL { init:marconia rov:orgType ?form } }",
        infer=False,
    )
    assert list(answer) == [
        {
            "b": "https://w3id.org/initiatieven/id/knelpunttype/aansprakelijkheid",
            "form": None,
            "area": 30000.0,
        }
    ]


def test_all_problems_at_once_with_suggestions(project: Path, tmp_path: Path) -> None:
    data = project / "data"
    before = snapshot(data)
    rows = csv_file(
        tmp_path,
        ",Tuin,,Dordrect,stichtng,buurttuin,geluk,veel,,19,ftp://x,Een tuin,A garden",
        ",,,,,,,,,,,,",
        "crabbehoeve,,,,,,,,,,,-,",
    )
    with pytest.raises(ImportRejected) as caught:
        import_csv(rows, data, lang="en")
    problems = {(e.row, e.column): e.message for e in caught.value.errors}
    assert "did you mean Dordrecht?" in problems[(2, "municipality")]
    assert "did you mean stichting?" in problems[(2, "legal_form")]
    assert "known: aanbesteden, aansprakelijkheid" in problems[(2, "bottlenecks")]
    assert set(problems) == {
        (2, "municipality"),
        (2, "legal_form"),
        (2, "bottlenecks"),
        (2, "area_m2"),
        (2, "founding_year"),
        (2, "source_url"),
        (4, "description_nl"),
    }
    assert caught.value.exit_code == 1 and snapshot(data) == before


def test_result_that_would_not_conform_is_refused(project: Path, tmp_path: Path) -> None:
    data = project / "data"
    before = snapshot(data)
    # every cell is fine, but partner 5 would no longer lie in its partner municipality (Utrecht)
    rows = csv_file(tmp_path, "zorgverslimmingsplatform-leidsche-rijn,,,Amersfoort,,,,,,,,,")
    with pytest.raises(ImportRejected) as caught:
        import_csv(rows, data, lang="en")
    assert caught.value.errors == []
    assert "PartnerMunicipalityShape" in caught.value.report and "1 violations" in str(caught.value)
    assert snapshot(data) == before


@pytest.mark.parametrize(("encoding", "delimiter"), [("utf-8", ","), ("utf-8-sig", ";"), ("cp1252", ";")])
def test_encodings_and_delimiters(project: Path, tmp_path: Path, encoding: str, delimiter: str) -> None:
    row = (
        '"coop",Coöperatie Één,,Tilburg,cooperatie,groenbeheer,,,,,https://example.org/c,'
        '"Een coöperatie,\nmet een regel erbij",A cooperative'
    )
    if delimiter == ";":
        row = row.replace(",", ";").replace("coöperatie;\n", "coöperatie,\n")
    path = csv_file(tmp_path, row, encoding=encoding, header=HEADER.replace(",", delimiter))
    result = import_csv(path, project / "data")
    assert result.created == ["coop"]
    assert result.delimiter == delimiter and result.encoding == (
        "windows-1252" if encoding == "cp1252" else "utf-8"
    )
    graph = kg.load(sorted((project / "data").rglob("*.ttl")))
    names = graph.query(
        "SELECT ?n ?d WHERE { init:coop skos:prefLabel ?n ; dct:description ?d FILTER (LANG(?d) = 'nl') }"
    )
    assert list(names) == [{"n": "Coöperatie Één", "d": "Een coöperatie,\nmet een regel erbij"}]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (b"nom,commune\nx,y\n", "unknown column 'nom'"),  # naam, gemeente are Dutch names of columns
        (b"\xff\xfe\x00\x00", "not"),
        (HEADER.encode() + b"\n", "no rows under the header"),
        (b"\n\r\n , \n", "empty file"),  # blank lines only
        (
            b"identifier,description_nl\nx," + b"y" * 200_000 + b"\n",
            "a cell is longer than 131072 characters",
        ),
    ],
)
def test_unreadable_files_exit_2(project: Path, tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "kg.cli",
            "import",
            str(path),
            "--data-dir",
            str(project / "data"),
            "--lang",
            "en",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr


def test_blank_lines_before_the_header_are_skipped(project: Path, tmp_path: Path) -> None:
    """A spreadsheet export may start with blank lines: the header is the first row with a cell, and
    rows keep their numbers in the file."""
    row = (
        "coop,Coöperatie Één,,Tilburg,cooperatie,groenbeheer,,,,,https://example.org/c,Een coöperatie,A co-op"
    )
    path = csv_file(tmp_path, row, header="\n,,\n" + HEADER)  # an empty row of separators is blank too
    result = import_csv(path, project / "data")
    assert result.created == ["coop"] and result.delimiter == ","
    bad = csv_file(tmp_path, row.replace("Tilburg", "Tilbrug"), header="\n\n" + HEADER)
    with pytest.raises(kg.InputError) as rejected:
        import_csv(bad, project / "data")
    assert [e.row for e in rejected.value.errors] == [4]  # two blank lines, the header, the row


def test_cli_import_dry_run_and_errors(project: Path, tmp_path: Path) -> None:
    data = project / "data"
    before = snapshot(data)
    args = [sys.executable, "-m", "kg.cli", "import", "--data-dir", str(data), "--lang", "en"]
    done = subprocess.run(
        [*args, str(csv_file(tmp_path, NEW)), "--dry-run"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0 and "1 new, 0 updated; would write 2 files" in done.stderr
    assert snapshot(data) == before
    bad = csv_file(tmp_path, NEW.replace("Dordrecht", "Dordrect"), name="bad.csv")
    done = subprocess.run([*args, str(bad)], capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert "row 2, column municipality: 'Dordrect'" in done.stderr and snapshot(data) == before
    template = subprocess.run(
        [sys.executable, "-m", "kg.cli", "import", "--template"], capture_output=True, text=True, check=False
    )
    assert template.stdout.strip() == HEADER


# --- nothing lost -------------------------------------------------------------------------------


def test_killed_import_leaves_data_unchanged_and_valid(project: Path, tmp_path: Path) -> None:
    data = project / "data"
    rows = [
        f"test-{i},Test {i},,Tilburg,stichting,groenbeheer,fiscaliteit,,,2020,https://example.org/{i},"
        "Een test,A test"
        for i in range(4000)
    ]
    path = csv_file(tmp_path, *rows)
    before = snapshot(data)
    proc = subprocess.Popen(
        [sys.executable, "-m", "kg.cli", "import", str(path), "--data-dir", str(data)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1.0)
    assert proc.poll() is None, "the import finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert snapshot(data) == before
    assert kg.load(sorted(data.rglob("*.ttl"))).validate().conforms


def test_interrupted_renames_are_finished(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "a.ttl").write_text("old a")
    (tmp_path / "b.ttl").write_text("old b")
    real = os.replace
    calls = []

    def crash_after_first(src, dst):
        calls.append(dst)
        if str(dst).endswith("b.ttl"):
            raise KeyboardInterrupt  # the process dies between the two renames
        return real(src, dst)

    monkeypatch.setattr(os, "replace", crash_after_first)
    with pytest.raises(KeyboardInterrupt):
        write_many(tmp_path, {tmp_path / "a.ttl": b"new a", tmp_path / "b.ttl": b"new b"})
    monkeypatch.setattr(os, "replace", real)
    assert (tmp_path / JOURNAL).exists() and (tmp_path / "a.ttl").read_text() == "new a"
    assert recover(tmp_path)
    assert (tmp_path / "b.ttl").read_text() == "new b" and not (tmp_path / JOURNAL).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.ttl", "b.ttl"]
