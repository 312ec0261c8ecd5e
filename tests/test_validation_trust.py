"""Validation users can trust (issue 12): each finding reproduced, on both engines where it applies.

The W3C suite (test_w3c_shacl.py) covers most findings; these tests pin down what it does not:
no request leaves the machine while loading or validating, warnings and custom severities in the
Turtle report, sh:uniqueLang per language tag, relative IRIs and ``--base``, and literals kept as
written (Oxigraph rewrites "7"^^xsd:int to xsd:integer on its own, oxigraph issue #526).
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import rdflib

import kg

ENGINES = ("oxigraph", "rdflib")
HEAD = """@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <http://example.org/> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""
SH = "http://www.w3.org/ns/shacl#"
EX = "http://example.org/"


class Listener:
    """A loopback TCP listener that records every connection made to it (and answers nothing)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path}"

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=2)
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    found = Listener()
    yield found
    found.close()


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _report(tmp_path: Path, data: str, shapes: str, engine: str) -> object:
    data_file = _write(tmp_path, "data.ttl", HEAD + data)
    shapes_file = _write(tmp_path, "shapes.ttl", HEAD + shapes)
    return kg.load([data_file], engine=engine).validate([shapes_file], engine=engine)


def _results(report: object) -> rdflib.Graph:
    return rdflib.Graph().parse(data=report.turtle(), format="turtle")


# --- no outbound requests -----------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_service_in_a_sparql_constraint_is_refused_and_nothing_is_sent(
    tmp_path: Path, listener: Listener, engine: str
) -> None:
    endpoint = listener.url("sparql")
    shapes = f"""ex:S a sh:NodeShape ; sh:targetNode ex:a ;
        sh:sparql [ sh:select "SELECT $this WHERE {{ SERVICE <{endpoint}> {{ $this ?p ?o }} }}" ] ."""
    with pytest.raises(kg.InputError) as caught:
        _report(tmp_path, "ex:a ex:p 1 .", shapes, engine)
    assert "SERVICE" in str(caught.value) and "\n" not in str(caught.value)
    assert listener.connections == 0


@pytest.mark.parametrize("engine", ENGINES)
def test_prefixes_of_a_remote_owl_import_are_not_fetched(
    tmp_path: Path, listener: Listener, engine: str
) -> None:
    remote = listener.url("vocabulary")
    shapes = f"""<urn:x-test:shapes> owl:imports <{remote}> .
    ex:S a sh:NodeShape ; sh:targetNode ex:a ;
        sh:sparql [ sh:prefixes <{remote}> ; sh:select "SELECT $this WHERE {{ $this voc:p ?o }}" ] ."""
    with pytest.raises(kg.InputError) as caught:
        _report(tmp_path, "ex:a ex:p 1 .", shapes, engine)
    assert remote in str(caught.value)
    assert listener.connections == 0


@pytest.mark.parametrize("engine", ENGINES)
def test_remote_json_ld_context_is_refused_and_nothing_is_sent(
    tmp_path: Path, listener: Listener, engine: str
) -> None:
    context = listener.url("context.jsonld")
    data = _write(
        tmp_path, "data.jsonld", f'{{"@context": "{context}", "@id": "http://example.org/a", "name": "A"}}'
    )
    with pytest.raises(kg.InputError) as caught:
        kg.load([data], engine=engine)
    assert context in str(caught.value)
    assert listener.connections == 0


# --- the report -----------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_warnings_only_do_not_conform_in_the_turtle_report(tmp_path: Path, engine: str) -> None:
    """SHACL 3.6.1: sh:conforms is true only without any result; kg's exit status stays 0."""
    shapes = "ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:severity sh:Warning ; sh:class ex:C ."
    report = _report(tmp_path, "ex:a ex:p 1 .", shapes, engine)
    graph = _results(report)
    assert set(graph.objects(None, rdflib.URIRef(SH + "conforms"))) == {rdflib.Literal(False)}
    assert report.conforms  # kg's policy: only violations fail (exit status 0)
    assert [f.severity for f in report.findings] == ["Warning"]


@pytest.mark.parametrize("engine", ENGINES)
def test_custom_severity_is_reported_and_fails(tmp_path: Path, engine: str) -> None:
    shapes = "ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:severity ex:Blocker ; sh:class ex:C ."
    report = _report(tmp_path, "ex:a ex:p 1 .", shapes, engine)
    graph = _results(report)
    assert set(graph.objects(None, rdflib.URIRef(SH + "resultSeverity"))) == {
        rdflib.URIRef("http://example.org/Blocker")
    }
    assert not report.conforms  # neither sh:Warning nor sh:Info: kg treats it as failing


@pytest.mark.parametrize("engine", ENGINES)
def test_unique_lang_gives_one_result_per_duplicated_tag(tmp_path: Path, engine: str) -> None:
    """SHACL 4.5.3: one result per language tag used more than once, without sh:value."""
    data = 'ex:a ex:label "a"@en, "b"@en, "c"@de, "d"@de, "e"@fr, "f" , "g" .'
    shapes = (
        "ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:property [ sh:path ex:label ; sh:uniqueLang true ] ."
    )
    report = _report(tmp_path, data, shapes, engine)
    assert len(report.findings) == 2
    assert all(f.value is None for f in report.findings)


# --- relative IRIs ------------------------------------------------------------------------------


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kg.cli", *args], capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_relative_iris_resolve_against_the_file(tmp_path: Path, engine: str) -> None:
    data = _write(tmp_path, "doc.ttl", HEAD + "<#x> a ex:C ; ex:self <> .")
    graph = kg.load([data], engine=engine)
    rows = list(graph.query("SELECT ?s ?o WHERE { ?s <http://example.org/self> ?o }", infer=False))
    base = data.resolve().as_uri()
    assert [(r["s"], r["o"]) for r in rows] == [(f"{base}#x", base)]


def test_base_option_overrides_the_file_iri(tmp_path: Path) -> None:
    data = _write(tmp_path, "doc.ttl", HEAD + "<#x> ex:self <> .")
    run = _cli("export", "--data", str(data), "--format", "nt", "--base", "http://example.org/doc")
    assert run.returncode == 0, run.stderr
    assert "<http://example.org/doc#x> <http://example.org/self> <http://example.org/doc> ." in run.stdout


@pytest.mark.parametrize("base", [None, "http://example.org/doc"])
def test_diff_resolves_relative_iris(tmp_path: Path, base: str | None) -> None:
    """kg diff reads relative IRIs against each file's IRI (two files: two documents, so their <#x>
    differ), or against --base for both (the same <#x>: no change)."""
    old = _write(tmp_path, "old.ttl", HEAD + "<#x> ex:p 1 .")
    new = _write(tmp_path, "new.ttl", HEAD + "<#x> ex:p 1 .")
    run = _cli("diff", str(old), str(new), *(["--base", base] if base else []))
    if base:
        assert run.returncode == 0, run.stderr + run.stdout
    else:
        assert run.returncode == 1, run.stderr
        assert old.resolve().as_uri() + "#x" in run.stdout or "old.ttl#x" in run.stdout


def test_fmt_base_resolves_relative_iris_and_refuses_them_without(tmp_path: Path) -> None:
    path = _write(tmp_path, "doc.ttl", HEAD + "<#x> ex:self <> .\n")
    run = _cli("fmt", str(path))
    assert run.returncode == 2 and "--base" in run.stderr and run.stderr.count("\n") == 1, run.stderr
    run = _cli("fmt", str(path), "--base", "http://example.org/doc")
    assert run.returncode == 0, run.stderr
    graph = rdflib.Graph().parse(path, format="turtle")
    assert set(graph) == {
        (
            rdflib.URIRef("http://example.org/doc#x"),
            rdflib.URIRef(EX + "self"),
            rdflib.URIRef("http://example.org/doc"),
        )
    }


def test_serve_base_resolves_relative_iris(tmp_path: Path) -> None:
    from serving import kg_serve, sparql_get

    data = _write(tmp_path, "doc.ttl", HEAD + "<#x> ex:self <> .")
    with kg_serve("--data", str(data), "--base", "http://example.org/doc", "--workers", "1") as url:
        status, _, body = sparql_get(url, "SELECT ?s ?o WHERE { ?s <http://example.org/self> ?o }")
    assert status == 200, body
    [row] = json.loads(body)["results"]["bindings"]
    assert (row["s"]["value"], row["o"]["value"]) == ("http://example.org/doc#x", "http://example.org/doc")


# --- literals as written --------------------------------------------------------------------------

LITERALS = [
    '"7"^^xsd:int',
    '"010"^^xsd:long',
    '"4.0"^^xsd:decimal',
    '"+1"^^xsd:integer',
    '"1"^^xsd:boolean',
    '"1.0E0"^^xsd:double',
]


def test_literals_round_trip_through_export_term_for_term(tmp_path: Path) -> None:
    data = _write(tmp_path, "lit.ttl", HEAD + "ex:a ex:v " + ", ".join(LITERALS) + " .")
    run = _cli("export", "--data", str(data), "--format", "nt")
    assert run.returncode == 0, run.stderr
    written = {str(t) for t in rdflib.Graph().parse(data, format="turtle").objects()}
    exported = {line for line in run.stdout.splitlines() if line.startswith("<http://example.org/a>")}
    xsd = "http://www.w3.org/2001/XMLSchema#"
    assert exported == {
        f'<http://example.org/a> <http://example.org/v> "{lex}"^^<{xsd}{dt}> .'
        for lex, dt in (lit.strip('"').split('"^^xsd:') for lit in LITERALS)
    }
    assert len(written) == len(LITERALS)


@pytest.mark.parametrize("datatype", ["int", "long", "byte", "integer", "decimal", "boolean"])
def test_datatype_on_derived_types_agrees_with_pyshacl(tmp_path: Path, datatype: str) -> None:
    data = (
        'ex:a ex:v "7"^^xsd:int, "010"^^xsd:long, "300"^^xsd:byte, "4.0"^^xsd:decimal, '
        '"+1"^^xsd:integer, "1"^^xsd:boolean, "x"^^xsd:int .'
    )
    shapes = (
        "ex:S a sh:NodeShape ; sh:targetNode ex:a ; "
        f"sh:property [ sh:path ex:v ; sh:datatype xsd:{datatype} ] ."
    )
    fast, reference = (_report(tmp_path, data, shapes, e) for e in ENGINES)
    assert sorted(f.value for f in fast.findings) == sorted(f.value for f in reference.findings)
    assert len(reference.findings) > 0


def _query(tmp_path: Path, data: Path, query: str, fmt: str) -> str:
    rq = _write(tmp_path, "q.rq", query)
    run = _cli("query", str(rq), "--data", str(data), "--format", fmt, "--no-infer")
    assert run.returncode == 0, run.stderr
    return run.stdout


def _as_written() -> set[tuple[str, str]]:
    xsd = "http://www.w3.org/2001/XMLSchema#"
    return {(lex, xsd + dt) for lex, dt in (lit.strip('"').split('"^^xsd:') for lit in LITERALS)}


def test_query_results_carry_literals_as_written(tmp_path: Path) -> None:
    """SELECT and CONSTRUCT give back the literal the user wrote, not Oxigraph's stored form."""
    data = _write(tmp_path, "lit.ttl", HEAD + "ex:a ex:v " + ", ".join(LITERALS) + " .")
    select = json.loads(_query(tmp_path, data, "SELECT ?v WHERE { <http://example.org/a> ?p ?v }", "json"))
    cells = {(b["v"]["value"], b["v"]["datatype"]) for b in select["results"]["bindings"]}
    assert cells == _as_written()
    construct = _query(tmp_path, data, "CONSTRUCT { ?s ?p ?v } WHERE { ?s ?p ?v }", "nt")
    objects = {
        line.split(" ", 2)[2] for line in construct.splitlines() if line.startswith("<http://example.org/a>")
    }
    assert objects == {f'"{lex}"^^<{dt}> .' for lex, dt in _as_written()}


def test_computed_values_keep_their_own_form(tmp_path: Path) -> None:
    """A value the query computes (AS, aggregates) or writes itself is not a term of the graph:
    COUNT = 10 stays "10"^^xsd:integer though the data wrote "010"^^xsd:long."""
    data = _write(tmp_path, "lit.ttl", HEAD + 'ex:a ex:v "010"^^xsd:long .')
    query = "SELECT ?v (?v AS ?w) WHERE { ?s <http://example.org/v> ?v }"
    [row] = json.loads(_query(tmp_path, data, query, "json"))["results"]["bindings"]
    assert (row["v"]["value"], row["w"]["value"]) == ("010", "10")
    query = 'CONSTRUCT { ?s <http://example.org/w> 10 } WHERE { ?s ?p "10"^^xsd:integer }'
    text = _query(tmp_path, data, "PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>\n" + query, "nt")
    assert '"10"^^<http://www.w3.org/2001/XMLSchema#integer>' in text


def test_a_literal_written_in_both_forms_is_kept_twice(tmp_path: Path) -> None:
    """ "7"^^xsd:integer beside "7"^^xsd:int: export keeps both triples; a query cannot tell which
    one the store's single term stands for, so it gives the stored form."""
    data = _write(tmp_path, "both.ttl", HEAD + 'ex:a ex:v "7"^^xsd:integer, "7"^^xsd:int .')
    run = _cli("export", "--data", str(data), "--format", "nt")
    assert run.returncode == 0, run.stderr
    xsd = "http://www.w3.org/2001/XMLSchema#"
    lines = {line for line in run.stdout.splitlines() if line.startswith("<http://example.org/a>")}
    assert lines == {
        f'<http://example.org/a> <http://example.org/v> "7"^^<{xsd}{t}> .' for t in ("int", "integer")
    }
    select = json.loads(_query(tmp_path, data, "SELECT ?v WHERE { ?s <http://example.org/v> ?v }", "json"))
    assert [b["v"]["datatype"] for b in select["results"]["bindings"]] == [xsd + "integer"]


@pytest.mark.parametrize(
    ("query", "assigned", "constants", "paths"),
    [
        ("SELECT ?v WHERE { ?s ?p ?v }", set(), False, False),
        (
            "SELECT (?v AS ?w) WHERE { ?s ?p ?v BIND (1 AS ?x) VALUES (?y ?z) { (1 2) } }",
            {"w", "x", "y", "z"},
            False,
            False,
        ),
        ('SELECT * WHERE { ?s ?p "AS ?no" } # VALUES ?no', set(), False, False),
        ("CONSTRUCT { ?s ?p 10 } WHERE { ?s ?p ?o }", set(), True, False),
        ('CONSTRUCT { ?s ?p "x" . } WHERE { ?s ?p ?o }', set(), True, False),
        ("CONSTRUCT { ?s ?p ?o . } WHERE { ?s ?p ?o FILTER (?o > 10) }", set(), False, False),
        ("CONSTRUCT WHERE { ?s ?p 10 }", set(), False, False),
        ("SELECT (COUNT(*) AS ?n) WHERE { ?s <p>* ?o }", {"n"}, False, True),
        ("SELECT * WHERE { ?s ex:p? ?o }", set(), False, True),
        ("SELECT * WHERE { ?s (ex:p/ex:q)* ?o }", set(), False, True),
        ("SELECT * WHERE { ?s ?p ?o FILTER (?o * 2 > 3) }", set(), False, False),
    ],
)
def test_which_answer_terms_come_from_the_graph(
    query: str, assigned: set, constants: bool, paths: bool
) -> None:
    """The reading of a query that decides where a literal may be given back as written."""
    from kg.core.sparql_text import assigned_variables, template_constants, tokens, zero_length_paths

    toks = tokens(query)
    assert assigned_variables(toks) == assigned
    assert template_constants(toks) is constants
    assert zero_length_paths(toks) is paths
