"""SHACL: the bundled data conforms; each shape has an invalid fixture that it alone catches.

Each fixture in fixtures/invalid/ starts with ``# expect: SHAPE FOCUS PATH SEVERITY`` lines; validating
the bundled data plus that fixture must give exactly those results.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import TESTS

import kg
from kg.core import bundle
from kg.core.namespaces import PREFIXES, SHAPES

FIXTURES = sorted((TESTS / "fixtures" / "invalid").glob("*.ttl"))
EXAMPLE = "https://example.org/invalid/"


def _iri(name: str) -> str | None:
    if name == "-":
        return None
    if name.startswith("<"):
        return name[1:-1]
    prefix, _, local = name.partition(":")
    return (EXAMPLE if prefix == "ex" else PREFIXES[prefix]) + local


def _expected(path: Path) -> set[tuple]:
    lines = re.findall(r"^# expect: (\S+) (\S+) (\S+) (\S+)$", path.read_text(), re.M)
    assert lines, f"{path.name} has no '# expect:' line"
    return {(_iri(s), _iri(f), _iri(p), sev) for s, f, p, sev in lines}


def test_bundled_data_conforms_without_warnings() -> None:
    report = kg.load().validate()
    assert report.conforms
    assert report.findings == []


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.stem for f in FIXTURES])
def test_invalid_fixture_is_caught_by_exactly_its_shape(fixture: Path) -> None:
    report = kg.load([*bundle.data_files(), fixture]).validate()
    found = {(f.shape, f.focus, f.path, f.severity) for f in report.findings}
    assert found == _expected(fixture)
    assert report.conforms == all(sev != "Violation" for *_, sev in found)


def test_every_shape_has_a_fixture() -> None:
    """Every property shape, and every node shape with constraints of its own, has a fixture."""
    from kg.engines.validation import shapes_graph

    shapes = shapes_graph()
    sh = "http://www.w3.org/ns/shacl#"
    grouping = {sh + p for p in ("targetClass", "property")} | {
        "http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
        "http://www.w3.org/2000/01/rdf-schema#label",
    }
    needed = set()
    for shape in {str(s) for s in shapes.subjects() if str(s).startswith(SHAPES)}:
        predicates = {str(p) for _, p, _ in shapes.triples((rdflib_term(shape), None, None))}
        if predicates - grouping - {sh + "declare"}:
            needed.add(shape)
    covered = {s for f in FIXTURES for s, *_ in _expected(f)}
    assert needed - covered == set()
    assert len(needed) >= 55


def rdflib_term(iri: str) -> object:
    import rdflib

    return rdflib.URIRef(iri)


def test_messages_are_bilingual() -> None:
    report = kg.load([*bundle.data_files(), FIXTURES[0]]).validate()
    assert report.findings and all(set(f.message) == {"nl", "en"} for f in report.findings)


def test_every_class_used_in_the_data_has_a_shape() -> None:
    """Each rdf:type in the data is targeted by a node shape, directly or through a superclass."""
    graph = kg.load()
    graph.infer()
    from kg.engines.validation import shapes_graph

    targets = {
        str(o)
        for _, _, o in shapes_graph().triples(
            (None, rdflib_term("http://www.w3.org/ns/shacl#targetClass"), None)
        )
    }
    used = graph.query(
        "SELECT DISTINCT ?class WHERE { GRAPH <https://w3id.org/initiatieven/graph/data> { ?s a ?class } }",
        infer=False,
    )
    for cls in used.column("class"):
        supers = set(graph.query(f"SELECT ?c WHERE {{ <{cls}> rdfs:subClassOf* ?c }}").column("c"))
        assert supers & targets, f"no shape targets {cls} or a superclass"
