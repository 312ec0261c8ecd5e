"""The kg command: verbs, formats, exit statuses and one-line errors."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import rdflib
from conftest import TESTS

from kg.cli import main
from kg.core import bundle

INVALID = TESTS / "fixtures" / "invalid"


def kg(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run kg in a fresh process, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "kg.cli", *args], capture_output=True, text=True, cwd=cwd, check=False
    )


def run(capsysbinary, *args: str) -> tuple[int, bytes, str]:
    code = main(list(args))
    out, err = capsysbinary.readouterr()
    return code, out, err.decode()


def test_no_verb_prints_help() -> None:
    done = kg()
    assert done.returncode == 0 and "query" in done.stdout and "validate" in done.stdout


def test_help_of_each_verb_has_an_example(capsys) -> None:
    from kg.cli import EXAMPLES

    for verb in ("info", "validate", "queries", "query", "export"):
        with pytest.raises(SystemExit):
            main([verb, "--help"])
        out = capsys.readouterr().out
        examples = re.split(r"\nexamples?:\n", out, maxsplit=1)[1].strip().splitlines()  # after the options
        assert examples and all(line.strip().startswith(f"kg {verb}") for line in examples), out
        assert EXAMPLES[verb].split("\n", 1)[1].strip().splitlines()[0].strip() in out


def test_query_table_from_another_directory(tmp_path: Path) -> None:
    done = kg("query", "without-bottleneck", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Coöperatief Eigenwijzer" in done.stdout and "Wijkonderneming watTWest" in done.stdout
    assert done.stdout.rstrip().endswith("(2 rows)")


def test_query_csv_is_w3c(capsysbinary) -> None:
    code, out, _ = run(
        capsysbinary,
        "query",
        "initiatives-by-bottleneck",
        "-p",
        "bottleneck=aansprakelijkheid",
        "--format",
        "csv",
    )
    assert code == 0
    assert out.startswith(b"number,initiative,name,bottleneck\r\n")
    records = list(csv.DictReader(io.StringIO(out.decode())))
    assert [(r["number"], r["name"]) for r in records] == [("7", "Buurtnetwerk Rhoon")]


def test_query_json_is_w3c(capsysbinary) -> None:
    code, out, _ = run(capsysbinary, "query", "without-bottleneck", "--format", "json")
    doc = json.loads(out)
    assert code == 0 and doc["head"]["vars"] == ["number", "initiative", "name"]
    first = doc["results"]["bindings"][0]
    assert first["number"] == {
        "type": "literal",
        "datatype": "http://www.w3.org/2001/XMLSchema#integer",
        "value": "10",
    }
    assert first["initiative"]["type"] == "uri"


def test_query_xml_and_tsv(capsysbinary) -> None:
    code, out, _ = run(capsysbinary, "query", "without-bottleneck", "--format", "xml")
    root = ET.fromstring(out)
    ns = "{http://www.w3.org/2005/sparql-results#}"
    assert code == 0 and len(root.findall(f"{ns}results/{ns}result")) == 2
    code, out, _ = run(capsysbinary, "query", "without-bottleneck", "--format", "tsv")
    assert out.splitlines()[0] == b"?number\t?initiative\t?name"


def test_lang_en(capsysbinary) -> None:
    code, out, _ = run(capsysbinary, "query", "bottleneck-counts", "--lang", "en", "--format", "csv")
    assert code == 0 and b"fiscaliteit,tax rules,5" in out


def test_no_infer(capsysbinary) -> None:
    code, out, _ = run(
        capsysbinary,
        "query",
        "initiatives-by-legal-form",
        "-p",
        "legalform=stichting",
        "--no-infer",
        "--format",
        "csv",
    )
    assert code == 0 and out == b"number,initiative,name,legalForm\r\n"


def test_construct_query_as_turtle(tmp_path: Path, capsysbinary) -> None:
    q = tmp_path / "names.rq"
    q.write_text(
        "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
        "PREFIX mi: <https://w3id.org/initiatieven/def/>\n"
        "CONSTRUCT { ?i skos:prefLabel ?n } WHERE { ?i a mi:Initiative ; skos:prefLabel ?n }\n"
    )
    code, out, _ = run(capsysbinary, "query", str(q), "--format", "turtle")
    assert code == 0 and len(rdflib.Graph().parse(data=out.decode(), format="turtle")) == 11
    code, _, err = run(capsysbinary, "query", str(q), "--format", "csv")
    assert code == 2 and "does not fit a CONSTRUCT query" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("query", "nope"), "unknown query 'nope'"),
        (("query", "initiatives-by-bottleneck"), "needs parameter bottleneck"),
        (("query", "initiatives-by-bottleneck", "-p", "bottleneck=geluk"), "unknown value 'geluk'"),
        (("query", "initiatives", "-p", "novalue"), "expected NAME=VALUE"),
        (("query", "initiatives", "--format", "yaml"), "invalid choice: 'yaml'"),
        (("query", "initiatives", "--format", "turtle"), "does not fit a SELECT query"),
        (("export", "--data", "missing.ttl"), "missing.ttl: no such file"),
        (("frobnicate",), "invalid choice: 'frobnicate'"),
    ],
)
def test_errors_are_one_line_with_status_2(args: tuple, message: str) -> None:
    done = kg(*args)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kg: error: ") and message in lines[0]


def test_malformed_rdf_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "broken.ttl"
    bad.write_text('@prefix ex: <https://example.org/> .\n\nex:a ex:b ex:c .\nex:d ex:e "open .\n')
    done = kg("validate", str(bad))
    assert done.returncode == 2
    assert done.stderr.strip().startswith(f"kg: error: {bad}:4: invalid Turtle")
    assert "Traceback" not in done.stderr


def test_sparql_syntax_error_in_file(tmp_path: Path) -> None:
    bad = tmp_path / "typo.rq"
    bad.write_text("SELECT ?x WHERE {\n  ?x ?y\n}\n")
    done = kg("query", str(bad))
    assert done.returncode == 2
    assert "typo.rq: SPARQL syntax error: line 3, column 2: the query ends too early" in done.stderr


def test_validate_bundled_conforms(capsysbinary) -> None:
    code, out, _ = run(capsysbinary, "validate")
    assert code == 0 and out.decode().strip() == "voldoet: 0 overtredingen, 0 waarschuwingen, 0 meldingen"
    code, out, _ = run(capsysbinary, "validate", "--lang", "en")
    assert code == 0 and out.decode().strip() == "conforms: 0 violations, 0 warnings, 0 infos"


def test_validate_invalid_data_exits_1(capsysbinary) -> None:
    fixture = INVALID / "Initiative-municipality.ttl"
    code, out, _ = run(
        capsysbinary,
        "validate",
        *map(str, bundle.data_files()),
        str(fixture),
        "--format",
        "json",
        "--lang",
        "en",
    )
    report = json.loads(out)
    assert code == 1 and report["conforms"] is False
    assert [(r["focus"], r["path"]) for r in report["results"]] == [
        ("https://example.org/invalid/bad", "https://w3id.org/initiatieven/def/municipality")
    ]
    code, out, _ = run(capsysbinary, "validate", *map(str, bundle.data_files()), str(fixture), "--lang", "en")
    assert code == 1 and b"An initiative lies in exactly one municipality" in out


def test_validate_turtle_report(capsysbinary) -> None:
    code, out, _ = run(capsysbinary, "validate", "--format", "turtle")
    graph = rdflib.Graph().parse(data=out.decode(), format="turtle")
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    assert code == 0 and (None, sh.conforms, rdflib.Literal(True)) in graph


@pytest.mark.parametrize(
    ("fmt", "rdflib_format"), [("turtle", "turtle"), ("nt", "nt"), ("jsonld", "json-ld"), ("xml", "xml")]
)
def test_export_formats_parse_back(tmp_path: Path, capsysbinary, fmt: str, rdflib_format: str) -> None:
    target = tmp_path / f"kg.{fmt}"
    code, out, _ = run(capsysbinary, "export", "--format", fmt, "-o", str(target))
    assert code == 0 and out == b""
    graph = rdflib.Graph().parse(target, format=rdflib_format)
    reference = rdflib.Graph()
    for path in bundle.ontology_files() + bundle.data_files():
        reference.parse(path)
    assert len(graph) == len(reference)
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


def test_export_inferred_trig_keeps_graphs_apart(capsysbinary) -> None:
    code, out, _ = run(capsysbinary, "export", "--format", "trig", "--inferred")
    dataset = rdflib.Dataset().parse(data=out.decode(), format="trig")
    names = {str(g.identifier) for g in dataset.graphs()}
    assert (
        code == 0
        and {
            "https://w3id.org/initiatieven/graph/ontology",
            "https://w3id.org/initiatieven/graph/data",
            "https://w3id.org/initiatieven/graph/inferred",
        }
        <= names
    )


def test_failed_write_leaves_existing_file(tmp_path: Path, capsysbinary) -> None:
    target = tmp_path / "out.csv"
    target.write_text("previous\n")
    code, _, _err = run(capsysbinary, "query", "initiatives", "--format", "turtle", "-o", str(target))
    assert code == 2 and target.read_text() == "previous\n"
    code, _, _ = run(capsysbinary, "query", "initiatives", "--format", "csv", "-o", str(target))
    assert code == 0 and target.read_text().startswith("number,")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_unwritable_output(tmp_path: Path, capsysbinary) -> None:
    code, _, err = run(capsysbinary, "export", "-o", str(tmp_path / "no" / "such" / "dir.ttl"))
    assert code == 2 and "cannot write" in err


def test_info_and_queries(capsysbinary) -> None:
    code, out, _ = run(capsysbinary, "info")
    assert code == 0 and b"initiatives:     11" in out and b"municipalities:  10" in out
    code, out, _ = run(capsysbinary, "queries")
    names = [line.split()[0] for line in out.decode().splitlines()]
    assert code == 0 and len(names) == 13 and "shared-bottlenecks" in names


def test_invalid_shapes_file(tmp_path: Path) -> None:
    shapes = tmp_path / "shapes.ttl"
    shapes.write_text(
        "@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
        "<urn:p> a sh:PropertyShape ;\n"
        "    sh:targetClass <https://w3id.org/initiatieven/def/Initiative> ;\n"
        "    sh:path <urn:x> ;\n"
        '    sh:minCount "many" .\n'
    )
    done = kg("validate", "--shapes", str(shapes))
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"kg: error: {shapes}: invalid SHACL shapes: MinCount")
    assert len(done.stderr.strip().splitlines()) == 1
