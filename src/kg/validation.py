"""SHACL validation of the loaded graph with pyshacl, and the report in text, Turtle or JSON."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox

from . import bundle
from .errors import InputError
from .loading import load_files
from .namespaces import shorten

if TYPE_CHECKING:
    from .graph import KnowledgeGraph

SH = "http://www.w3.org/ns/shacl#"


@dataclass(frozen=True, order=True)
class Finding:
    """One SHACL validation result."""

    severity: str
    focus: str
    path: str | None
    shape: str
    value: str | None
    message: dict[str, str]

    def text(self, lang: str = "nl") -> str:
        """One line: severity, focus node, path, message, shape."""
        message = self.message.get(lang) or self.message.get("") or next(
            iter(self.message.values()), "")
        path = f" {shorten(self.path)}" if self.path else ""
        return f"{self.severity}: {shorten(self.focus)}{path}: {message} [{shorten(self.shape)}]"


@dataclass
class ValidationReport:
    """Whether the data conforms (no violations), and every result."""

    conforms: bool
    findings: list[Finding]
    graph: object  # the rdflib report graph

    def count(self, severity: str) -> int:
        """How many results have ``severity`` (Violation, Warning or Info)."""
        return sum(1 for f in self.findings if f.severity == severity)

    def text(self, lang: str = "nl") -> str:
        """A readable report, one result a line, with a closing summary."""
        lines = [f.text(lang) for f in self.findings]
        verdict = "conforms" if self.conforms else "does not conform"
        lines.append(f"{verdict}: {self.count('Violation')} violations, "
                     f"{self.count('Warning')} warnings, {self.count('Info')} infos")
        return "\n".join(lines) + "\n"

    def turtle(self) -> str:
        """The W3C SHACL validation report graph in Turtle."""
        return self.graph.serialize(format="turtle")

    def json(self) -> str:
        """The report as JSON: conforms and a list of results."""
        return json.dumps({"conforms": self.conforms,
                           "results": [asdict(f) for f in self.findings]},
                          ensure_ascii=False, indent=2) + "\n"


def shapes_graph(paths: Sequence[str | Path] | None = None) -> object:
    """The SHACL shapes as an rdflib graph (bundled shapes unless ``paths`` are given)."""
    import rdflib

    files = [Path(p) for p in paths] if paths else bundle.shapes_files()
    store = ox.Store()
    load_files(store, files, ox.NamedNode("urn:x-kg:shapes"))
    graph = rdflib.Graph()
    graph.parse(data=store.dump(format=ox.RdfFormat.N_TRIPLES,
                                from_graph=ox.NamedNode("urn:x-kg:shapes")), format="nt")
    return graph


@contextmanager
def _parse_each_sparql_query_once() -> Iterator[None]:
    """Let rdflib reuse the parsed form of a SPARQL text while pyshacl validates.

    pyshacl runs each SHACL-SPARQL constraint once per focus node with the same text and a new
    ``$this`` binding, and rdflib parses the text anew each time: 90 % of validation time on the
    bundled data. rdflib's prepared queries are meant for reuse with other initial bindings, so the
    answers are the same.
    """
    from rdflib.plugins.sparql import processor

    original = processor.SPARQLProcessor.query
    prepared: dict[tuple, object] = {}

    def query(self, str_or_query, initBindings=None, initNs=None, base=None, DEBUG=False):
        if isinstance(str_or_query, str):
            key = (str_or_query, base, tuple(sorted((initNs or {}).items())))
            if key not in prepared:
                prepared[key] = processor.prepareQuery(str_or_query, initNs, base)
            str_or_query = prepared[key]
        return original(self, str_or_query, initBindings, initNs, base, DEBUG)

    processor.SPARQLProcessor.query = query
    try:
        yield
    finally:
        processor.SPARQLProcessor.query = original


def validate(kg: KnowledgeGraph, shapes: Sequence[str | Path] | None = None) -> ValidationReport:
    """Validate the asserted ontology and data of ``kg`` against the shapes."""
    return validate_graph(kg.to_rdflib(), shapes)


def validate_graph(data: object, shapes: Sequence[str | Path] | None = None) -> ValidationReport:
    """Validate an rdflib graph against the shapes (the bundled ones unless ``shapes`` are given)."""
    import pyshacl
    import rdflib
    from pyshacl.errors import ConstraintLoadError, ReportableRuntimeError, ShapeLoadError

    shacl = shapes_graph(shapes)
    logging.getLogger("pyshacl-validate").disabled = True  # kg reports errors itself, once
    try:
        with _parse_each_sparql_query_once():
            conforms, report, _ = pyshacl.validate(
                data, shacl_graph=shacl, inference="none",
                allow_warnings=True, allow_infos=True)
    except (ShapeLoadError, ConstraintLoadError, ReportableRuntimeError) as err:
        where = ", ".join(map(str, shapes or [])) or "bundled shapes"
        message = " ".join(str(getattr(err, "message", err)).split())
        raise InputError(f"{where}: invalid SHACL shapes: {message}") from None
    sh = rdflib.Namespace(SH)
    findings = []
    for result in report.subjects(rdflib.RDF.type, sh.ValidationResult):
        def one(pred: object, result: object = result) -> str | None:
            value = report.value(result, pred)
            return None if value is None else str(value)

        messages = {(m.language or ""): str(m) for m in report.objects(result, sh.resultMessage)}
        if set(messages) <= {""}:
            # pyshacl keeps one untagged message for SPARQL constraints: use the constraint's own
            constraint = report.value(result, sh.sourceConstraint)
            own = {(m.language or ""): str(m) for m in shacl.objects(constraint, sh.message)}
            messages = own or messages
        findings.append(Finding(
            severity=one(sh.resultSeverity).rsplit("#", 1)[-1],
            focus=one(sh.focusNode), path=one(sh.resultPath), shape=one(sh.sourceShape),
            value=one(sh.value), message=messages))
    return ValidationReport(bool(conforms), sorted(findings), report)
