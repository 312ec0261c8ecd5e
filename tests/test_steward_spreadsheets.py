"""Issue 14, a steward's spreadsheets: Dutch headers, codes in any case, decimal commas, files that open
right in Excel, and validating one file together with the rest of the project."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest

import kg
from kg.cli import main
from kg.core.bundle import root
from kg.core.spreadsheet import looks_like_formula, neutralise, safe_cell
from kg.steward.intake import decimal, import_csv


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    for name in ("ontology", "shapes", "data", "queries"):
        shutil.copytree(root() / name, folder / name)
    return folder


def _import(tmp_path: Path, project: Path, text: str) -> object:
    path = tmp_path / "rows.csv"
    path.write_text(text, encoding="utf-8")
    return import_csv(path, project / "data")


def _crabbehoeve(project: Path, what: str) -> list[object]:
    graph = kg.load(sorted((project / "data").rglob("*.ttl")))
    return graph.query(f"SELECT ?v WHERE {{ init:crabbehoeve {what} ?v }} ORDER BY ?v", infer=False).column(
        "v"
    )


def test_dutch_headers_in_any_case(project: Path, tmp_path: Path) -> None:
    _import(
        tmp_path, project, "Identificatie;Gemeente;Knelpunten;Startjaar\ncrabbehoeve;;add: fiscaliteit;2013\n"
    )
    assert _crabbehoeve(project, "schema:foundingDate") == ["2013"]
    assert "https://w3id.org/initiatieven/id/knelpunttype/fiscaliteit" in _crabbehoeve(
        project, "mi:bottleneck"
    )


@pytest.mark.parametrize("cell", ["Fiscaliteit", "FISCALITEIT", "fiscale regelgeving", "Tax rules"])
def test_codes_and_labels_in_any_case_and_either_language(project: Path, tmp_path: Path, cell: str) -> None:
    _import(tmp_path, project, f"identifier,legal_form,bottlenecks\ncrabbehoeve,Stichting,add: {cell}\n")
    assert _crabbehoeve(project, "mi:bottleneck/skos:notation") == [
        "aanbesteden",
        "fiscaliteit",
        "regelluwte",
    ]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1250", "1250"),
        ("12,5", "12.5"),
        ("12.5", "12.5"),
        ("1.250,5", "1250.5"),
        ("1,250.5", "1250.5"),
        ("1.250.000,25", "1250000.25"),
        ("1.250", None),
        ("1,250", None),
        ("-5", None),
        ("1 250", None),
    ],
)
def test_decimal_numbers_as_spreadsheets_write_them(text: str, value: str | None) -> None:
    assert decimal(text) == value


def test_a_decimal_comma_with_grouping_is_imported(project: Path, tmp_path: Path) -> None:
    _import(tmp_path, project, "identifier;area_m2\ncrabbehoeve;1.250,5\n")
    assert _crabbehoeve(project, "mi:area/schema:value") == [1250.5]


def test_an_ambiguous_number_is_refused(project: Path, tmp_path: Path, capsys) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("identifier;area_m2\ncrabbehoeve;1.250\n", encoding="utf-8")
    assert main(["import", str(path), "--data-dir", str(project / "data")]) == 1
    assert "area_m2: '1.250'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+1+1", "'+1+1"),
        ("-1+1", "'-1+1"),
        ("@A1", "'@A1"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("-5", "-5"),
        ("+3.5", "+3.5"),
        ("1e-3", "1e-3"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_the_owasp_rule(cell: str, safe: str) -> None:
    assert safe_cell(cell) == safe and looks_like_formula(cell) == (safe != cell)


def test_neutralise_leaves_safe_csv_byte_for_byte() -> None:
    text = 'a,b\r\n"x, y",-5\r\n'
    assert neutralise(text) is text
    assert neutralise('a\r\n"=1"\r\n') == "a\r\n'=1\r\n"


def test_initiatives_csv_opens_right_in_excel(tmp_path: Path, capsys) -> None:
    assert main(["release", "--out", str(tmp_path / "rel")]) == 0
    raw = (tmp_path / "rel" / "initiatives.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads it as UTF-8 (no "DorpscoÃ¶peratie")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    by_id = {r["identifier"]: r for r in rows}
    assert by_id["dorpscooperatie-nieuw-dordrecht"]["name"].startswith("Dorpscoöperatie")
    crabbe = by_id["crabbehoeve"]
    assert crabbe["bottlenecks"] == "aanbesteden;regelluwte"
    assert crabbe["bottleneck_labels"] == "maatschappelijk aanbesteden;regelluwe zones"
    assert crabbe["area_m2"] == "1000" and crabbe["description_nl"].startswith("Buurttuin van 1000 m²")


def test_query_csv_in_the_dutch_excel_dialect(capsys) -> None:
    code = main(["query", "bottleneck-counts", "--format", "csv", "--dialect", "excel-nl", "--no-infer"])
    raw = capsys.readouterr().out
    assert code == 0 and raw.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(raw[1:], newline=""), delimiter=";"))
    assert rows[0][0] and len({len(r) for r in rows}) == 1 and len(rows) > 3


def test_validate_one_file_with_the_rest_of_the_project(project: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(project)
    one = project / "data" / "initiatieven" / "08-crabbehoeve.ttl"
    assert main(["validate", str(one)]) == 0  # its participation and municipality live elsewhere
    assert main(["validate", str(one), "--alone"]) == 1
    edited = project / "08-crabbehoeve.ttl"  # an edited copy stands in for the project's file
    edited.write_text(one.read_text().replace("mi:municipality gm:gm0505", "mi:municipality gm:gm0344"))
    assert main(["validate", str(edited)]) == 1
    assert "PartnerMunicipality" in capsys.readouterr().out


# --- Excel workbooks and the Dutch Excel copy of the release's table ------------------------------


def _sheet(data: bytes) -> list[list[tuple[object, str]]]:
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data))
    return [[(c.value, c.data_type) for c in row] for row in book.active.iter_rows()]


def test_query_xlsx_has_numbers_as_numbers(tmp_path: Path, capsys) -> None:
    out = tmp_path / "counts.xlsx"
    assert main(["query", "bottleneck-counts", "--format", "xlsx", "-o", str(out), "--no-infer"]) == 0
    rows = _sheet(out.read_bytes())
    assert [v for v, _ in rows[0]] == ["code", "label", "initiatives"]
    counts = {row[0][0]: row[2] for row in rows[1:]}
    assert counts["aanbesteden"] == (6, "n") and counts["fiscaliteit"] == (5, "n")
    csv_rows = list(csv.reader(io.StringIO(_csv_of("bottleneck-counts", capsys), newline="")))
    assert [[str(v) for v, _ in row] for row in rows] == csv_rows  # the same table as the CSV


def _csv_of(name: str, capsys) -> str:
    assert main(["query", name, "--format", "csv", "--no-infer"]) == 0
    return capsys.readouterr().out


def test_xlsx_neutralises_formulas_like_csv_and_is_reproducible(tmp_path: Path, capsys) -> None:
    query = tmp_path / "q.rq"
    query.write_text(
        'SELECT ?a ?b ?c ?d WHERE { VALUES (?a ?b ?c ?d) { ("=HYPERLINK(\\"http://x\\")" "@SUM(1)" '
        '"-5" 12345678901234567890) } }'
    )
    first, second = tmp_path / "1.xlsx", tmp_path / "2.xlsx"
    assert main(["query", str(query), "--format", "xlsx", "-o", str(first)]) == 0
    assert main(["query", str(query), "--format", "xlsx", "-o", str(second)]) == 0
    assert first.read_bytes() == second.read_bytes()
    row = _sheet(first.read_bytes())[1]
    assert row[0] == ('\'=HYPERLINK("http://x")', "s") and row[1] == ("'@SUM(1)", "s")
    assert row[2] == ("-5", "s")  # a plain string that reads as a number stays as written
    assert row[3] == ("12345678901234567890", "s")  # more digits than a spreadsheet keeps: text
    csv_row = list(csv.reader(io.StringIO(_csv_of(str(query), capsys), newline="")))[1]
    assert [v for v, _ in row] == csv_row


def test_xlsx_refuses_a_character_it_cannot_hold(tmp_path: Path, capsys) -> None:
    query = tmp_path / "q.rq"
    query.write_text('SELECT ?a WHERE { BIND ("bell\\u0007" AS ?a) }')
    assert main(["query", str(query), "--format", "xlsx", "-o", str(tmp_path / "x.xlsx")]) == 2
    assert "control character" in capsys.readouterr().err and not (tmp_path / "x.xlsx").exists()


def test_release_ships_a_workbook_and_a_dutch_excel_copy_of_the_same_table(tmp_path: Path, capsys) -> None:
    assert main(["release", "--out", str(tmp_path / "rel")]) == 0
    folder = tmp_path / "rel"
    plain = list(csv.reader(io.StringIO((folder / "initiatives.csv").read_text("utf-8-sig"), newline="")))
    raw_nl = (folder / "initiatives-excel-nl.csv").read_bytes()
    assert raw_nl.startswith(b"\xef\xbb\xbf")
    dutch = list(csv.reader(io.StringIO(raw_nl.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert len(dutch) == len(plain) == 12 and all(len(r) == len(plain[0]) for r in dutch)
    area = plain[0].index("area_m2")
    for a, b in zip(plain, dutch, strict=True):  # the same cells; only decimal points become commas
        assert [x.replace(".", ",") if i == area else x for i, x in enumerate(a)] == b
    book = _sheet((folder / "initiatives.xlsx").read_bytes())
    assert [[("" if v is None else str(v)) for v, _ in row] for row in book] == plain
    assert "initiatives.xlsx" in (folder / "SHA256SUMS").read_text()
