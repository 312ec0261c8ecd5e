"""The W3C SHACL test suite (tests/w3c/shacl): its entries, and reports reduced as the suite compares them.

The suite (W3C Data Shapes Working Group, vendored unchanged with its NOTICE) has one manifest per
folder; each test file holds its own manifest with one ``sht:Validate`` entry naming a data graph, a
shapes graph and the expected result: a ``sh:ValidationReport`` or ``sht:Failure``.

A report is reduced as the suite's README prescribes: ``sh:conforms`` and, per result, focus node,
result path, value, source shape, source constraint component and severity (plus
``sh:sourceConstraint`` where the expected report has one); messages are not compared. Blank nodes are
compared by structure: a blank node stands for the triples reachable from it (its concise bounded
description), in the test file for the expected report and in the report itself for kg's answer (kg's
Turtle report carries those triples, SHACL section 3.6.2).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

import rdflib
from rdflib import RDF, BNode, Literal

SUITE = Path(__file__).parent / "w3c" / "shacl"
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
MF = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
SHT = rdflib.Namespace("http://www.w3.org/ns/shacl-test#")

# The result properties the suite compares (sh:sourceConstraint only where the expected report has it).
KEYS = (
    SH.focusNode,
    SH.resultPath,
    SH.value,
    SH.sourceShape,
    SH.sourceConstraintComponent,
    SH.resultSeverity,
)


@dataclass(frozen=True)
class Entry:
    """One sht:Validate entry of the suite."""

    name: str  # e.g. core/node/and-001
    data: Path
    shapes: Path
    graph: rdflib.Graph  # the test file's own graph (manifest and expected report)
    expected: object | None  # the expected sh:ValidationReport node, or None for sht:Failure

    @property
    def folder(self) -> str:
        """The suite folder, e.g. core/node."""
        return self.name.rsplit("/", 1)[0]


def _path(iri: object) -> Path:
    return Path(unquote(urlparse(str(iri)).path))


def entries() -> list[Entry]:
    """Every sht:Validate entry under the root manifest, in manifest order."""
    found: list[Entry] = []

    def manifest(path: Path) -> None:
        graph = rdflib.Graph().parse(path, format="turtle")
        for node in graph.subjects(RDF.type, MF.Manifest):
            for included in graph.objects(node, MF.include):
                manifest(_path(included))
            for entry_list in graph.objects(node, MF.entries):
                for entry in rdflib.collection.Collection(graph, entry_list):
                    if (entry, RDF.type, SHT.Validate) not in graph:
                        continue
                    action = graph.value(entry, MF.action)
                    result = graph.value(entry, MF.result)
                    name = _path(entry).relative_to(SUITE).as_posix()
                    found.append(
                        Entry(
                            name,
                            _path(graph.value(action, SHT.dataGraph)),
                            _path(graph.value(action, SHT.shapesGraph)),
                            graph,
                            None if result == SHT.Failure else result,
                        )
                    )

    manifest(SUITE / "manifest.ttl")
    return found


def _signature(graph: rdflib.Graph, term: object, seen: frozenset = frozenset()) -> object:
    """A comparable form of ``term``: blank nodes by the triples reachable from them."""
    if isinstance(term, Literal):
        return ("literal", str(term), str(term.datatype or ""), term.language or "")
    if not isinstance(term, BNode):
        return ("iri", str(term))
    if term in seen:
        return ("cycle",)
    inner = seen | {term}
    return (
        "bnode",
        tuple(sorted((str(p), repr(_signature(graph, o, inner))) for p, o in graph.predicate_objects(term))),
    )


@dataclass(frozen=True)
class Reduced:
    """A report as the suite compares it."""

    conforms: bool
    results: Counter

    def difference(self, other: Reduced) -> str:
        """A readable account of what differs (for assertion messages)."""
        lines = []
        if self.conforms != other.conforms:
            lines.append(f"conforms {other.conforms}, expected {self.conforms}")
        for key in sorted(set(self.results) | set(other.results), key=repr):
            want, got = self.results[key], other.results[key]
            if want != got:
                lines.append(f"expected {want}, got {got}: {_readable(key)}")
        return "\n".join(lines)


def _readable(key: tuple) -> str:
    return "; ".join(
        f"{name.rsplit('#', 1)[-1]}={value[1] if value and value[0] == 'iri' else value}"
        for name, value in key
    )


def reduce(graph: rdflib.Graph, report: object, constraint: bool) -> Reduced:
    """The report node ``report`` of ``graph`` reduced to conforms and a multiset of result keys."""
    conforms = graph.value(report, SH.conforms)
    keys = (*KEYS, SH.sourceConstraint) if constraint else KEYS
    results: Counter = Counter()
    for result in graph.objects(report, SH.result):
        results[
            tuple(
                (str(k), None if (v := graph.value(result, k)) is None else _signature(graph, v))
                for k in keys
            )
        ] += 1
    return Reduced(conforms is not None and conforms.toPython() is True, results)


def expected(entry: Entry) -> tuple[Reduced, bool]:
    """The expected report reduced, and whether it compares sh:sourceConstraint."""
    constraint = any(
        entry.graph.value(r, SH.sourceConstraint) is not None
        for r in entry.graph.objects(entry.expected, SH.result)
    )
    return reduce(entry.graph, entry.expected, constraint), constraint


def actual(turtle: str, constraint: bool) -> Reduced:
    """kg's Turtle report reduced the same way."""
    graph = rdflib.Graph().parse(data=turtle, format="turtle")
    reports = list(graph.subjects(RDF.type, SH.ValidationReport))
    assert len(reports) == 1, f"the report has {len(reports)} sh:ValidationReport nodes"
    return reduce(graph, reports[0], constraint)
