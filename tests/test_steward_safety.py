"""Issue 14, safe writes and honest records: every finding of the issue as a regression test.

Everything happens in temporary folders (a copy of the project); nothing outside them is touched.
Attacks that could eat the machine (entity expansion, /dev/zero) run in a child process with a
memory limit and a time-out, so that an unfixed kg fails the test instead of the machine.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import kg
from kg.cli import main
from kg.core.bundle import root as bundle_root
from kg.core.files import JOURNAL, write_many
from kg.core.namespaces import ID
from kg.graph import DATA
from kg.steward.intake import COLUMNS, ImportRejected, import_csv

NEW = (
    "linde,Buurttuin De Linde,De Linde,Dordrecht,stichting,buurttuin;groenbeheer,aanbesteden,1250,,2019,"
    "https://example.org/linde,Een buurttuin van bewoners,A community garden of residents"
)
CRABBE = ID + "initiatief/crabbehoeve"
KT = ID + "knelpunttype/"


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    """A project folder: a copy of the bundled ontology, shapes, data and queries."""
    folder = tmp_path / "project"
    for name in ("ontology", "shapes", "data", "queries"):
        shutil.copytree(bundle_root() / name, folder / name)
    return folder


def cli(capsys: pytest.CaptureFixture, *args: object) -> tuple[int, str, str]:
    """Run kg in this process; (exit status, stdout, stderr)."""
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def _limit_memory() -> None:  # runs in the child: 2 GB of address space at most
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def child(*args: object, cwd: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run kg in a child process with a memory limit and a time-out."""
    env = {k: v for k, v in os.environ.items() if k != "KG_DEBUG"}
    argv = [a if isinstance(a, bytes) else str(a) for a in args]
    return subprocess.run(
        [sys.executable, "-m", "kg.cli", *argv],
        cwd=cwd,
        capture_output=True,
        timeout=timeout,
        env=env,
        preexec_fn=_limit_memory,
        check=False,
    )


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones too) with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def csv_file(tmp_path: Path, *rows: str, name: str = "rows.csv", header: str = "") -> Path:
    path = tmp_path / name
    path.write_bytes(("\r\n".join([header or ",".join(COLUMNS), *rows]) + "\r\n").encode("utf-8"))
    return path


def data_triples(data: Path) -> set[tuple[str, str, str]]:
    """The triples of the data folder as (subject, predicate, object) values."""
    graph = kg.load(sorted(data.rglob("*.ttl")))
    return {(t.subject.value, t.predicate.value, t.object.value) for t in graph.triples(DATA)}


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


# --- 1. the write journal -----------------------------------------------------------------------


def _plant(data: Path, entries: object) -> Path:
    journal = data / JOURNAL
    journal.write_text(json.dumps(entries))
    return journal


@pytest.mark.parametrize("attack", ["target outside", "source outside", "dot-dot", "symlink"])
def test_a_planted_journal_cannot_move_files_outside_the_data_folder(
    project: Path, tmp_path: Path, capsys, attack: str
) -> None:
    data = project / "data"
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    inside = data / "initiatieven" / ".evil.ttl.x.tmp"
    inside.write_text("attacker's bytes")
    entries = {
        "target outside": [[str(inside), str(victim)]],
        "source outside": [[str(victim), str(data / "programma.ttl")]],
        "dot-dot": [[str(inside), str(data / ".." / ".." / "victim.txt")]],
        "symlink": [[str(inside), str(data / "link" / "victim.txt")]],
    }[attack]
    if attack == "symlink":
        (data / "link").symlink_to(tmp_path, target_is_directory=True)
    journal = _plant(data, entries)
    before = snapshot(data)
    code, _, err = cli(capsys, "import", csv_file(tmp_path, NEW), "--data-dir", data)
    assert code == 2
    assert str(journal) in err and "outside" in err
    assert victim.read_text() == "precious"
    assert snapshot(data) == before  # nothing moved, nothing imported, the journal kept for a look


@pytest.mark.parametrize("content", [b"{not json", b'{"a": 1}', b'[["only one"]]', b"\xff\xfe"])
def test_a_corrupt_journal_is_exit_2_naming_the_file_and_the_fix(
    project: Path, tmp_path: Path, capsys, content: bytes
) -> None:
    data = project / "data"
    (data / JOURNAL).write_bytes(content)
    code, _, err = cli(capsys, "import", csv_file(tmp_path, NEW), "--data-dir", data)
    assert code == 2
    assert str(data / JOURNAL) in err and "remove" in err.lower()
    assert len(err.strip().splitlines()) == 1


def _interrupted_import(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[Path, bytes]:
    """Stage the import of NEW and let the process 'die' after the first of its renames."""
    data = project / "data"
    files = import_csv(csv_file(tmp_path, NEW), data, dry_run=True).files
    real = os.replace

    def die_before_imports_ttl(src: object, dst: object) -> None:
        if str(dst).endswith("imports.ttl"):
            raise KeyboardInterrupt
        real(src, dst)

    monkeypatch.setattr(os, "replace", die_before_imports_ttl)
    with pytest.raises(KeyboardInterrupt):
        write_many(data, files)
    monkeypatch.setattr(os, "replace", real)
    assert (data / JOURNAL).exists() and not (data / "imports.ttl").exists()  # data/ is mixed now
    return files


@pytest.mark.parametrize("verb", [["query", "initiatives", "--format", "csv"], ["validate"], ["info"]])
def test_reading_commands_finish_a_pending_journal_first(
    project: Path, tmp_path: Path, capsys, monkeypatch, verb: list[str]
) -> None:
    files = _interrupted_import(project, tmp_path, monkeypatch)
    monkeypatch.chdir(project)
    code, out, _ = cli(capsys, *verb)
    assert code == 0
    assert not (project / "data" / JOURNAL).exists()
    assert {p: p.read_bytes() for p in files} == files  # the whole change, not half of it
    if verb[0] == "query":
        assert len(csv_rows(out)) == 1 + 12
    if verb[0] == "info":
        assert re.search(r"initiatives:\s+12\b", out)


def test_data_folder_given_with_data_finishes_its_journal(
    project: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    files = _interrupted_import(project, tmp_path, monkeypatch)
    code, out, _ = cli(capsys, "query", "initiatives", "--format", "csv", "--data", project / "data")
    assert code == 0 and len(csv_rows(out)) == 1 + 12
    assert {p: p.read_bytes() for p in files} == files


def test_stale_temporary_files_are_cleaned(project: Path, tmp_path: Path, capsys) -> None:
    data = project / "data"
    stale = data / "initiatieven" / ".08-crabbehoeve.ttl.k2j4h1x9.tmp"
    stale.write_text("left by a killed kg")
    mine = data / "notities.tmp"  # not a name kg gives its temporary files: not kg's to remove
    mine.write_text("the steward's own")
    code, _, _ = cli(capsys, "import", csv_file(tmp_path, NEW), "--data-dir", data)
    assert code == 0
    assert not stale.exists() and mine.read_text() == "the steward's own"
    assert not [p for p in data.rglob("*.tmp") if p != mine]


# --- 1. kg release --out ------------------------------------------------------------------------


@pytest.fixture()
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder two levels down with files of its own; the current folder during the test."""
    work = tmp_path / "home" / "work"
    work.mkdir(parents=True)
    (work / "thesis.docx").write_bytes(b"years of work")
    (tmp_path / "home" / "notes.txt").write_text("mine")
    monkeypatch.chdir(work)
    return work


@pytest.mark.parametrize("out", [".", "..", "{work}", "{work}/..", "/"])
def test_release_refuses_the_working_folder_and_its_parents(workdir: Path, capsys, out: str) -> None:
    before = snapshot(workdir.parent)
    code, _, err = cli(capsys, "release", "--out", out.format(work=workdir), "--force")
    assert code == 2 and "released" not in err
    assert snapshot(workdir.parent) == before


def test_release_refuses_a_folder_kg_did_not_create(workdir: Path, capsys) -> None:
    (workdir / "site").mkdir()
    (workdir / "site" / "index.html").write_text("<p>my site</p>")
    code, _, err = cli(capsys, "release", "--out", "site", "--force")
    assert code == 2 and "site" in err
    assert (workdir / "site" / "index.html").read_text() == "<p>my site</p>"


def test_release_out_file_with_force_keeps_the_file_and_says_so(workdir: Path, capsys) -> None:
    code, _, err = cli(capsys, "release", "--out", "thesis.docx", "--force")
    assert code == 2 and "thesis.docx" in err
    assert (workdir / "thesis.docx").read_bytes() == b"years of work"
    assert sorted(p.name for p in workdir.iterdir()) == ["thesis.docx"]  # no hidden .old or .tmp left


def test_release_replaces_its_own_release_but_not_one_changed_by_hand(workdir: Path, capsys) -> None:
    assert cli(capsys, "release", "--out", "rel")[0] == 0
    first = snapshot(workdir / "rel")
    code, _, err = cli(capsys, "release", "--out", "rel", "--force")
    assert code == 0 and "released" in err and snapshot(workdir / "rel") == first
    (workdir / "rel" / "my-notes.txt").write_text("added by hand")
    code, _, err = cli(capsys, "release", "--out", "rel", "--force")
    assert code == 2 and "my-notes.txt" in err
    assert (workdir / "rel" / "my-notes.txt").exists()
    assert sorted(p.name for p in workdir.iterdir()) == ["rel", "thesis.docx"]


def test_release_into_an_empty_folder(workdir: Path, capsys) -> None:
    (workdir / "empty").mkdir()
    assert cli(capsys, "release", "--out", "empty", "--force")[0] == 0
    assert (workdir / "empty" / "SHA256SUMS").is_file()


# --- 1. RDF/XML entities -------------------------------------------------------------------------


def laughs(levels: int) -> str:
    """The 'billion laughs' document: each entity is ten of the one before."""
    nested = [f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, levels + 1)]
    entities = ['<!ENTITY l0 "lol">', *nested]
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [\n' + "\n".join(entities) + "\n]>\n"
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://example.org/">\n'
        f'<rdf:Description rdf:about="http://example.org/s"><ex:p>&l{levels};</ex:p></rdf:Description>\n'
        "</rdf:RDF>\n"
    )


@pytest.mark.parametrize("engine", ["oxigraph", "rdflib"])
def test_billion_laughs_is_refused_quickly(tmp_path: Path, engine: str) -> None:
    path = tmp_path / "laughs.rdf"
    path.write_text(laughs(9))  # 3 * 10**9 characters once expanded
    assert path.stat().st_size < 1000
    done = child("validate", "--data", path, "--engine", engine, timeout=60)
    assert done.returncode == 2, done.stderr
    assert str(path) in done.stderr.decode() and "entit" in done.stderr.decode()


def test_external_entities_are_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("password")
    path = tmp_path / "xxe.rdf"
    path.write_text(laughs(1).replace('<!ENTITY l0 "lol">', f'<!ENTITY l0 SYSTEM "file://{secret}">'))
    done = child("export", "--data", path, "--format", "nt")
    assert done.returncode == 2 and b"password" not in done.stdout
    assert b"entit" in done.stderr


def test_plain_entities_as_protege_writes_them_still_load(tmp_path: Path, capsys) -> None:
    path = tmp_path / "onto.rdf"
    path.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [\n'
        '<!ENTITY ex "http://example.org/" >\n'
        '<!ENTITY rdf "http://www.w3.org/1999/02/22-rdf-syntax-ns#" >\n]>\n'
        '<rdf:RDF xmlns:rdf="&rdf;" xmlns:ex="&ex;">\n'
        '<rdf:Description rdf:about="&ex;s"><ex:p rdf:resource="&ex;o"/></rdf:Description>\n'
        "</rdf:RDF>\n"
    )
    code, out, _ = cli(capsys, "export", "--data", path, "--format", "nt")
    assert code == 0
    assert "<http://example.org/s> <http://example.org/p> <http://example.org/o> ." in out


# --- 1. formula injection ------------------------------------------------------------------------

FORMULAS = [
    '=HYPERLINK("http://evil.example/","klik")',
    "+31+cmd|' /C calc'!A0",
    "@SUM(A1:A9)",
    "-2+3+cmd|' /C calc'!A0",
]


@pytest.mark.parametrize("formula", FORMULAS)
def test_import_refuses_a_formula_in_a_cell(project: Path, tmp_path: Path, capsys, formula: str) -> None:
    data = project / "data"
    before = snapshot(data)
    row = NEW.replace("Buurttuin De Linde", '"' + formula.replace('"', '""') + '"')
    code, _, err = cli(capsys, "import", csv_file(tmp_path, row), "--data-dir", data, "--lang", "en")
    assert code == 1 and "name" in err and "formula" in err
    assert snapshot(data) == before


DANGEROUS = {
    "=1+1": "'=1+1",
    "+1+1": "'+1+1",
    "-1+1": "'-1+1",
    "@x": "'@x",
    "\tx": "'\tx",
    "\rx": "'\rx",
    "-5": "-5",
    "+3.5": "+3.5",
    "ok": "ok",
    "a=b": "a=b",
}


def test_query_csv_neutralises_formula_cells(tmp_path: Path, capsys) -> None:
    values = " ".join(json.dumps(v) for v in DANGEROUS)
    query = tmp_path / "cells.rq"
    query.write_text(f"SELECT ?v ?n WHERE {{ VALUES ?v {{ {values} }} BIND(-7 AS ?n) }}")
    code, out, _ = cli(capsys, "query", query, "--format", "csv", "--no-infer")
    assert code == 0
    rows = list(csv.reader(io.StringIO(out, newline="")))
    assert rows[0] == ["v", "n"]
    assert {r[0]: r[1] for r in rows[1:]} == {v: "-7" for v in DANGEROUS.values()}


def test_release_csv_neutralises_formula_cells(project: Path, tmp_path: Path, capsys) -> None:
    path = project / "data" / "initiatieven" / "08-crabbehoeve.ttl"
    path.write_text(path.read_text().replace('skos:prefLabel "Crabbehoeve"', 'skos:prefLabel "=1+2"'))
    files = sorted((project / "data").rglob("*.ttl"))
    code, _, _ = cli(capsys, "release", "--out", tmp_path / "rel", "--data", *files)
    assert code == 0
    rows = csv_rows((tmp_path / "rel" / "initiatives.csv").read_text(encoding="utf-8"))
    names = [r[rows[0].index("name")] for r in rows[1:]]
    assert "'=1+2" in names and "=1+2" not in names


# --- 1. command line and input bounds ------------------------------------------------------------


def test_invalid_utf8_in_a_parameter_is_exit_2() -> None:
    done = child("query", "shared-bottlenecks", "-p", b"bottleneck=fisc\xffaliteit")
    assert done.returncode == 2, done.stderr
    assert b"UTF-8" in done.stderr and b"Traceback" not in done.stderr


def test_import_of_a_fifo_is_refused_without_waiting(project: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "rows.csv"
    os.mkfifo(fifo)
    done = child("import", fifo, "--data-dir", project / "data", timeout=30)
    assert done.returncode == 2 and str(fifo).encode() in done.stderr


def test_import_of_a_device_is_refused(project: Path) -> None:
    done = child("import", "/dev/zero", "--data-dir", project / "data", timeout=30)
    assert done.returncode == 2 and b"/dev/zero" in done.stderr


def test_rdf_from_a_fifo_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "data.ttl"
    os.mkfifo(fifo)
    done = child("validate", "--data", fifo, timeout=30)
    assert done.returncode == 2 and str(fifo).encode() in done.stderr


def test_import_has_a_size_limit(project: Path, tmp_path: Path, capsys) -> None:
    path = csv_file(tmp_path, *[NEW] * 9000)  # about 1.3 MB
    assert path.stat().st_size > 1_000_000
    code, _, err = cli(capsys, "import", path, "--data-dir", project / "data", "--max-size", "1")
    assert code == 2 and "MB" in err and "--max-size" in err


# --- 2. one project folder ------------------------------------------------------------------------


def test_an_import_is_visible_to_every_later_verb(project: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(project)
    assert cli(capsys, "import", csv_file(tmp_path, NEW))[0] == 0
    assert (project / "data" / "initiatieven" / "linde.ttl").is_file()
    code, out, _ = cli(capsys, "query", "initiatives", "--format", "csv")
    assert code == 0 and len(csv_rows(out)) == 1 + 12 and "Buurttuin De Linde" in out
    code, out, _ = cli(capsys, "info")
    assert code == 0 and str(project) in out and re.search(r"initiatives:\s+12\b", out)
    assert cli(capsys, "validate")[0] == 0


def test_the_project_is_found_from_a_subfolder(project: Path, capsys, monkeypatch) -> None:
    (project / "data" / "initiatieven" / "08-crabbehoeve.ttl").unlink()
    monkeypatch.chdir(project / "data" / "initiatieven")
    code, out, _ = cli(capsys, "query", "initiatives", "--format", "csv", "--no-infer")
    assert code == 0 and len(csv_rows(out)) == 1 + 10 and "Crabbehoeve" not in out


def test_the_projects_queries_and_shapes_are_used(project: Path, capsys, monkeypatch) -> None:
    (project / "queries" / "eigen-vraag.rq").write_text(
        "#+ summary: Own question.\nPREFIX mi: <https://w3id.org/initiatieven/def/>\n"
        "SELECT (COUNT(?i) AS ?n) WHERE { ?i a mi:Initiative }\n"
    )
    shapes = project / "shapes" / "kg-shapes.ttl"
    shapes.write_text(
        shapes.read_text() + "\nmish:Strict a sh:NodeShape ; sh:targetClass mi:Initiative ;\n"
        "    sh:property [ sh:path mi:foundingYear ; sh:minCount 1 ] .\n"
    )
    monkeypatch.chdir(project)
    code, out, _ = cli(capsys, "query", "eigen-vraag", "--format", "csv")
    assert code == 0 and csv_rows(out)[1] == ["11"]
    assert cli(capsys, "validate")[0] == 1


def test_outside_a_project_kg_uses_the_bundled_files(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = cli(capsys, "info")
    assert code == 0 and str(bundle_root()) in out and re.search(r"initiatives:\s+11\b", out)


def test_data_accepts_folders(project: Path, tmp_path: Path, capsys) -> None:
    import_csv(csv_file(tmp_path, NEW), project / "data")
    code, out, _ = cli(capsys, "query", "initiatives", "--format", "csv", "--data", project / "data")
    assert code == 0 and len(csv_rows(out)) == 1 + 12


def test_kg_init_starts_a_project(tmp_path: Path, capsys, monkeypatch) -> None:
    target = tmp_path / "gemeente-x"
    code, _, err = cli(capsys, "init", target)
    assert code == 0 and str(target) in err
    for name in ("ontology", "shapes", "data", "queries"):
        assert (target / name).is_dir()
    monkeypatch.chdir(target)
    code, out, _ = cli(capsys, "info")
    assert code == 0 and str(target) in out
    assert cli(capsys, "validate")[0] == 0
    code, _, err = cli(capsys, "init", target)  # never over an existing project
    assert code == 2 and str(target) in err


# --- 3. explicit updates --------------------------------------------------------------------------


def _bottlenecks(data: Path) -> list[str]:
    graph = kg.load(sorted(data.rglob("*.ttl")))
    rows = graph.query(
        "SELECT ?c WHERE { init:crabbehoeve mi:bottleneck/skos:notation ?c } ORDER BY ?c", infer=False
    )
    return rows.column("c")


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("add: fiscaliteit", ["aanbesteden", "fiscaliteit", "regelluwte"]),
        ("toevoegen: fiscaliteit", ["aanbesteden", "fiscaliteit", "regelluwte"]),
        ("remove: regelluwte", ["aanbesteden"]),
        ("verwijderen: regelluwte; aanbesteden", []),
        ("replace: fiscaliteit", ["fiscaliteit"]),
        ("vervangen: fiscaliteit; vergunningen", ["fiscaliteit", "vergunningen"]),
        ("fiscaliteit", ["fiscaliteit"]),  # a plain list is the new value, as in a spreadsheet round trip
    ],
)
def test_operators_for_multi_valued_cells(
    project: Path, tmp_path: Path, cell: str, expected: list[str]
) -> None:
    data = project / "data"
    assert _bottlenecks(data) == ["aanbesteden", "regelluwte"]
    row = ["crabbehoeve"] + [""] * (len(COLUMNS) - 1)
    row[COLUMNS.index("bottlenecks")] = cell
    import_csv(csv_file(tmp_path, ",".join(row)), data)
    assert _bottlenecks(data) == expected


def test_dry_run_shows_each_fields_old_and_new_values(project: Path, tmp_path: Path, capsys) -> None:
    data = project / "data"
    before = snapshot(data)
    row = ["crabbehoeve"] + [""] * (len(COLUMNS) - 1)
    row[COLUMNS.index("bottlenecks")] = "add: fiscaliteit"
    row[COLUMNS.index("founding_year")] = "2013"
    code, out, _ = cli(capsys, "import", csv_file(tmp_path, ",".join(row)), "--data-dir", data, "--dry-run")
    assert code == 0 and snapshot(data) == before
    block = out[out.index("crabbehoeve") :]
    assert re.search(r"bottlenecks: aanbesteden; regelluwte -> aanbesteden; fiscaliteit; regelluwte", block)
    assert re.search(r"founding_year: .*-> 2013", block)
    assert "activities" not in block  # unchanged fields are not shown


# --- 4. honest provenance --------------------------------------------------------------------------


def _provenance(project: Path, ident: str) -> list[dict[str, str]]:
    graph = kg.load(sorted((project / "data").rglob("*.ttl")))
    query = (project / "queries" / "provenance.rq").read_text()
    answer = graph.query(query, {"initiative": ident}, infer=False)
    return [
        {k: ("" if v is None else v.value) for k, v in zip(answer.variables, row, strict=True)}
        for row in answer.rows
    ]


def _origins(project: Path, ident: str) -> dict[tuple[str, str, str], set[str]]:
    out: dict[tuple[str, str, str], set[str]] = {}
    for row in _provenance(project, ident):
        out.setdefault((row["subject"], row["property"], row["value"]), set()).add(row["source"])
    return out


def test_imported_statements_derive_from_the_import_never_from_a_passage(
    project: Path, tmp_path: Path
) -> None:
    data = project / "data"
    skip = {"http://www.w3.org/ns/prov#wasDerivedFrom", "http://www.w3.org/ns/prov#wasInfluencedBy"}
    before = {t for t in data_triples(data) if t[1] not in skip}
    row = ["crabbehoeve"] + [""] * (len(COLUMNS) - 1)
    row[COLUMNS.index("bottlenecks")] = "add: fiscaliteit"
    row[COLUMNS.index("founding_year")] = "2013"
    row[COLUMNS.index("area_m2")] = "1100"
    import_csv(csv_file(tmp_path, ",".join(row)), data)
    origins = _origins(project, "crabbehoeve")
    subjects = {s for s, _, _ in origins}  # the initiative, its area, its participation
    assert {CRABBE, CRABBE + "-oppervlakte"} < subjects
    after = {t for t in data_triples(data) if t[0] in subjects and t[1] not in skip}
    added = after - before
    assert added == {
        (CRABBE, "https://w3id.org/initiatieven/def/bottleneck", KT + "fiscaliteit"),
        (CRABBE, "https://schema.org/foundingDate", "2013"),
        (CRABBE + "-oppervlakte", "https://schema.org/value", "1100"),
    }
    assert set(origins) == after  # every statement has an origin
    passage = ID + "bron/experimentpartners/8"
    for statement in after:
        if statement in added:
            assert len(origins[statement]) == 1, statement
            assert next(iter(origins[statement])).startswith(ID + "import/"), statement
        else:
            assert origins[statement] == {passage}, statement


def test_a_new_initiatives_statements_derive_from_its_import(project: Path, tmp_path: Path) -> None:
    import_csv(csv_file(tmp_path, NEW), project / "data")
    origins = _origins(project, "linde")
    assert len(origins) > 10
    for statement, sources in origins.items():
        assert len(sources) == 1 and next(iter(sources)).startswith(ID + "import/"), statement


PROV_LINKS = {"http://www.w3.org/ns/prov#wasDerivedFrom", "http://www.w3.org/ns/prov#wasGeneratedBy"}
MARCONIA = ID + "initiatief/marconia"


def _provenance_links(data: Path, subjects: set[str]) -> set[tuple[str, str, str]]:
    return {t for t in data_triples(data) if t[0] in subjects and t[1] in PROV_LINKS}


@pytest.mark.parametrize("area", ["", "31000"])
def test_a_new_source_rewrites_no_provenance_of_what_was_there(
    project: Path, tmp_path: Path, area: str
) -> None:
    """A second source for marconia (which has an area): the area node must not start to derive from
    the new passage, and every old statement keeps its own passage as its only origin. With an
    area_m2 cell the new value is the import's; the old value is gone from the data and the record."""
    data = project / "data"
    subjects = {s for s, _, _ in data_triples(data)}
    links_before = _provenance_links(data, subjects)
    passage = ID + "bron/experimentpartners/4"
    origins_before = _origins(project, "marconia")
    assert {o for sources in origins_before.values() for o in sources} == {passage}
    header = "identifier,source_url" + (",area_m2" if area else "")
    row = "marconia,https://example.org/nieuw" + (f",{area}" if area else "")
    rows = csv_file(tmp_path, row, header=header)
    result = import_csv(rows, data)
    assert result.updated == ["marconia"]
    new_passage = ID + "bron/marconia-2"
    # the one provenance link a pre-existing thing gains is the one the row states: marconia's source
    assert _provenance_links(data, subjects) - links_before == {
        (MARCONIA, "http://www.w3.org/ns/prov#wasDerivedFrom", new_passage)
    }
    assert _provenance_links(data, subjects) >= links_before
    origins = _origins(project, "marconia")
    value = (MARCONIA + "-oppervlakte", "https://schema.org/value")
    for statement in origins_before:
        if area and statement[:2] == value:
            assert statement not in origins, statement  # 30000 is no longer in the data
            continue
        assert origins[statement] == {passage}, statement
    added = set(origins) - set(origins_before)
    if area:
        assert added == {(*value, area)}
        (sources,) = [origins[(*value, area)]]
        assert len(sources) == 1 and next(iter(sources)).startswith(ID + "import/")
    else:
        assert added == set()
    assert not any(new_passage in sources for sources in origins.values())


def test_an_area_an_import_creates_derives_from_no_older_passage(project: Path, tmp_path: Path) -> None:
    """wattwest has no area: the one the import writes is generated by the import; it is not claimed to
    come from partner 11 of the page, which says nothing about an area."""
    data = project / "data"
    subjects = {s for s, _, _ in data_triples(data)}
    links_before = _provenance_links(data, subjects)
    import_csv(csv_file(tmp_path, "wattwest,1500", header="identifier,area_m2"), data)
    node = ID + "initiatief/wattwest-oppervlakte"
    assert _provenance_links(data, subjects) == links_before
    links = {(p, o) for s, p, o in data_triples(data) if s == node and p in PROV_LINKS}
    assert [p for p, _ in links] == ["http://www.w3.org/ns/prov#wasGeneratedBy"]
    assert next(iter(links))[1].startswith(ID + "import/")
    origins = _origins(project, "wattwest")
    area = {k: v for k, v in origins.items() if k[0] == node}
    assert {k[1] for k in area} >= {"https://schema.org/value", "https://schema.org/unitCode"}
    for statement, sources in area.items():
        assert len(sources) == 1 and next(iter(sources)).startswith(ID + "import/"), statement


def test_a_journal_in_a_folder_above_the_data_is_never_obeyed(tmp_path: Path, capsys) -> None:
    shared = tmp_path / "shared"  # e.g. /tmp, where anyone may plant a file
    (shared / "x").mkdir(parents=True)
    victim = shared / "victim.ttl"
    victim.write_text("<http://example.org/s> <http://example.org/p> 1 .\n")
    planted = shared / ".victim.ttl.AAAAAAAA.tmp"
    planted.write_text("attacker's bytes")
    journal = _plant(shared, [[str(planted), str(victim)]])
    data = shared / "x" / "mine.ttl"
    data.write_text("<http://example.org/a> <http://example.org/b> 2 .\n")
    code, out, _ = cli(capsys, "export", "--data", data, "--format", "nt")
    assert code == 0 and "<http://example.org/a>" in out
    assert journal.exists() and planted.exists() and victim.read_text().startswith("<http://example.org/s>")


# --- 5. found by a steward's attacks (identity, records, cells) -------------------------------------


def _row(**cells: str) -> str:
    return ",".join(cells.get(c, "") for c in COLUMNS)


NEW_CELLS = {
    "municipality": "Tilburg",
    "source_url": "https://example.org/b",
    "description_nl": "Een botsing",
    "description_en": "A collision",
}


def test_a_new_identifier_that_names_something_else_is_refused(project: Path, tmp_path: Path) -> None:
    """init:wattwest-rechtsvorm-stichting is a legal-form period of wattwest: a new initiative of that
    identifier would have replaced its description and made it an initiative too."""
    data = project / "data"
    before = snapshot(data)
    rows = csv_file(tmp_path, _row(identifier="wattwest-rechtsvorm-stichting", name="Botsing", **NEW_CELLS))
    with pytest.raises(ImportRejected) as caught:
        import_csv(rows, data, lang="en")
    assert [(e.row, e.column) for e in caught.value.errors] == [(2, "identifier")]
    assert "11-wattwest.ttl" in caught.value.errors[0].message
    assert snapshot(data) == before


def test_an_initiative_found_by_its_name_is_recorded_under_its_own_iri(project: Path, tmp_path: Path) -> None:
    """The identifier 'vereniging-duurzaam-soesterkwartier' is the slug of partner 1's name."""
    data = project / "data"
    rows = csv_file(tmp_path, _row(identifier="vereniging-duurzaam-soesterkwartier", founding_year="2003"))
    result = import_csv(rows, data)
    assert result.updated == ["duurzaam-soesterkwartier"] and list(result.changes) == result.updated
    influenced = {s for s, p, _ in data_triples(data) if p == "http://www.w3.org/ns/prov#wasInfluencedBy"}
    assert influenced == {ID + "initiatief/duurzaam-soesterkwartier"}


def test_two_rows_for_one_initiative_are_refused_however_they_name_it(project: Path, tmp_path: Path) -> None:
    data = project / "data"
    before = snapshot(data)
    rows = csv_file(
        tmp_path,
        _row(identifier="wattwest", founding_year="2005"),
        _row(name="Wijkonderneming watTWest", founding_year="2006"),
    )
    with pytest.raises(ImportRejected) as caught:
        import_csv(rows, data, lang="en")
    assert [(e.row, e.column, e.message) for e in caught.value.errors] == [
        (3, "name", "the same initiative as row 2")
    ]
    assert snapshot(data) == before


@pytest.mark.parametrize("cell", ["Naam\x1b[31mROOD", "Tekst\x0bmet", "bel\x07", "del\x7f", "c1\x85c1"])
def test_a_control_character_in_a_cell_is_refused(project: Path, tmp_path: Path, cell: str) -> None:
    """An escape sequence would reach the steward's terminal in the change list, and a release's
    workbook cannot hold a control character (XML 1.0 section 2.2)."""
    data = project / "data"
    before = snapshot(data)
    rows = csv_file(tmp_path, _row(identifier="ctrl", name=cell, **NEW_CELLS))
    with pytest.raises(ImportRejected) as caught:
        import_csv(rows, data, lang="en")
    assert [(e.row, e.column) for e in caught.value.errors] == [(2, "name")]
    assert "\\x" in caught.value.errors[0].text("en") and "\x1b" not in caught.value.errors[0].text("en")
    assert snapshot(data) == before


def test_a_new_source_never_becomes_the_origin_of_what_was_there(project: Path, tmp_path: Path) -> None:
    """A second source for wattwest: the statements partner 11's passage gave keep that one origin."""
    data = project / "data"
    before = _origins(project, "wattwest")
    rows = csv_file(tmp_path, _row(identifier="wattwest", source_url="https://example.org/nieuw"))
    import_csv(rows, data)
    after = _origins(project, "wattwest")
    assert before and {s: after.get(s) for s in before} == before


def test_two_imports_in_one_second_are_two_records(project: Path, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    data = project / "data"
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    first = csv_file(tmp_path, _row(identifier="marconia", founding_year="2001"), name="c.csv")
    second = csv_file(tmp_path, _row(identifier="crabbehoeve", founding_year="2002"), name="d.csv")
    import_csv(first, data, now=lambda: moment)
    import_csv(second, data, now=lambda: moment)
    graph = kg.load(sorted(data.rglob("*.ttl")))
    answer = graph.query(
        """SELECT ?i (COUNT(?file) AS ?files) (SAMPLE(?file) AS ?f) (SAMPLE(?who) AS ?w)
        WHERE { ?i a mi:DataImport ; prov:used/dct:title ?file . ?who prov:wasInfluencedBy ?i }
        GROUP BY ?i ORDER BY ?f""",
        infer=False,
    )
    assert [(r["files"], r["f"], r["w"].rsplit("/", 1)[-1]) for r in answer] == [
        (1, "c.csv", "marconia"),
        (1, "d.csv", "crabbehoeve"),
    ]
