"""Custom SPARQL-based constraint components (SHACL 6) and pre-binding (SHACL 5.3.1, Appendix A) on the
compiled engine: answered by it (``report.declined`` empty) and the same as pyshacl, the reference.

The W3C suite (test_w3c_shacl.py) covers the entries in its manifests; these add what it does not:
the suite's own sparql/component/nodeValidator-001 (a file its manifest leaves out), ASK validators on
property shapes with literal value nodes, message templates with parameters, literal focus nodes
pre-bound per node, and what the compiler must hand to pyshacl (blank focus nodes, a component inside
a condition).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib
from w3c_shacl_suite import MF, SHT, SUITE, Entry, actual, expected

import kg

ENGINES = ("oxigraph", "rdflib")
EX = "http://example.org/"
HEAD = """@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <http://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""
PREFIXES = 'ex: sh:declare [ sh:prefix "ex" ; sh:namespace "http://example.org/"^^xsd:anyURI ] .\n'

# A component whose ASK validator (one query per value node) wants strings of at least $min characters
# that do not end with $suffix (optional: without it, nothing is forbidden).
MIN_LENGTH = """
ex:MinLengthComponent a sh:ConstraintComponent ;
    sh:parameter [ sh:path ex:min ] , [ sh:path ex:suffix ; sh:optional true ] ;
    sh:validator [ sh:prefixes ex: ; sh:message "shorter than {$min} characters"@en ;
        sh:ask '''ASK { FILTER (STRLEN(STR($value)) >= $min
                           && !STRENDS(STR($value), COALESCE(?suffix, "\\u0000"))) }''' ] .
"""


def _validate(tmp_path: Path, data: str, shapes: str, engine: str) -> object:
    (tmp_path / "data.ttl").write_text(HEAD + data, encoding="utf-8")
    (tmp_path / "shapes.ttl").write_text(HEAD + PREFIXES + shapes, encoding="utf-8")
    return kg.load([tmp_path / "data.ttl"], engine=engine).validate([tmp_path / "shapes.ttl"], engine=engine)


def _declined(tmp_path: Path, data: str, shapes: str, why: str, blank: bool = False) -> None:
    """The compiled engine hands ex:S to pyshacl (the reason names ``why``); the default engine then
    gives the reference's one finding (with ``blank``, about a blank node: labels differ per load)."""
    fast, reference = (_validate(tmp_path, data, shapes, e) for e in ENGINES)
    assert why in fast.declined[f"{EX}S"]
    drop = (0, 2) if blank else ()  # focus node and value
    found, expected = (
        [tuple(x for i, x in enumerate(r) if i not in drop) for r in _results(report)]
        for report in (fast, reference)
    )
    assert found == expected and len(fast.findings) == 1


def _results(report: object) -> list[tuple]:
    return sorted((f.focus, f.path, f.value, f.shape, f.message.get("en")) for f in report.findings)


@pytest.mark.parametrize("engine", ENGINES)
def test_node_validator_entry_of_the_suite(engine: str) -> None:
    """sparql/component/nodeValidator-001: vendored with the suite, not listed in its manifest."""
    path = SUITE / "sparql" / "component" / "nodeValidator-001.ttl"
    graph = rdflib.Graph().parse(path, format="turtle")
    node = next(graph.subjects(rdflib.RDF.type, SHT.Validate))
    entry = Entry("sparql/component/nodeValidator-001", path, path, graph, graph.value(node, MF.result))
    report = kg.load([path], engine=engine).validate([path], engine=engine)
    want, constraint = expected(entry)
    assert actual(report.turtle(), constraint) == want
    assert not report.declined


@pytest.mark.parametrize("engine", ENGINES)
def test_ask_validator_on_a_node_shape(tmp_path: Path, engine: str) -> None:
    """SHACL 6.2.3: sh:validator runs per value node (of a node shape: the focus node) with $this,
    $value and the parameters pre-bound; an optional parameter without a value stays unbound; {$min}
    in the message is the parameter's value."""
    shapes = MIN_LENGTH + (
        'ex:P a sh:NodeShape ; sh:targetNode "abc", "abcdef", "ok" ; ex:min 4 .\n'
        'ex:Q a sh:NodeShape ; sh:targetNode "xy-bad", "ok" ; ex:min 1 ; ex:suffix "bad" .\n'
        'ex:R a sh:NodeShape ; sh:targetNode "xy-bad" ; ex:suffix "bad" .\n'  # no mandatory value: off
    )
    report = _validate(tmp_path, "ex:a ex:p 1 .", shapes, engine)
    assert _results(report) == [
        ("abc", None, "abc", f"{EX}P", "shorter than 4 characters"),
        ("ok", None, "ok", f"{EX}P", "shorter than 4 characters"),
        ("xy-bad", None, "xy-bad", f"{EX}Q", "shorter than 1 characters"),
    ]
    if engine == "oxigraph":
        assert report.declined == {} and set(report.compiled) == {f"{EX}P", f"{EX}Q", f"{EX}R"}


def test_ask_validator_on_a_property_shape_is_left_to_pyshacl(tmp_path: Path) -> None:
    """pyshacl gives no sh:value for an ASK validator on a property shape: the compiled engine hands
    such shapes to it, so the default engine answers as the reference does."""
    data = 'ex:a ex:name "abc", "abcdef" .'
    shapes = MIN_LENGTH + (
        "ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:property ex:P . ex:P sh:path ex:name ; ex:min 4 ."
    )
    _declined(tmp_path, data, shapes, "ASK validator")


@pytest.mark.parametrize("engine", ENGINES)
def test_select_constraint_prebound_per_literal_focus_node(tmp_path: Path, engine: str) -> None:
    """$this only in a FILTER: the rows depend on where $this is bound, so each focus node (here
    literals) gets its own query; the result names the focus node as value (SHACL 5.3.2)."""
    data = 'ex:x ex:p "b" .'
    shapes = (
        'ex:S a sh:NodeShape ; sh:targetNode "a", "b", "c" ; sh:sparql [ sh:prefixes ex: ; '
        'sh:select """SELECT $this WHERE { FILTER ($this != "b" && NOT EXISTS { ?s ex:p $this }) }""" ] .'
    )
    report = _validate(tmp_path, data, shapes, engine)
    assert [(f.focus, f.value) for f in sorted(report.findings)] == [("a", "a"), ("c", "c")]
    if engine == "oxigraph":
        assert report.declined == {}


def test_blank_focus_nodes_are_handed_to_pyshacl(tmp_path: Path) -> None:
    """A blank node cannot be written into a query as a constant: the compiled engine declines and
    pyshacl answers (the same results as the reference)."""
    data = "ex:C a ex:Class . [ a ex:C ; ex:p 1 ] . [ a ex:C ] ."
    shapes = (
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:sparql [ sh:prefixes ex: ; "
        'sh:select "SELECT $this WHERE { FILTER NOT EXISTS { $this ex:p ?o } }" ] .'
    )
    _declined(tmp_path, data, shapes, "blank node", blank=True)


def test_component_inside_a_condition_is_declined(tmp_path: Path) -> None:
    data = 'ex:a ex:name "ab" .'
    shapes = MIN_LENGTH + (
        "ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:not [ sh:property [ sh:path ex:name ; ex:min 1 ] ] ."
    )
    _declined(tmp_path, data, shapes, "condition")
