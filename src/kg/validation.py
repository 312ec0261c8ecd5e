"""SHACL validation of the loaded graph, and the report in text, Turtle or JSON.

Two engines give the same results (a test compares them):

- ``oxigraph`` (default): the shapes compiled to SPARQL (:mod:`kg.shacl_sparql`) and run on the store
  the graph is already in. If the shapes use a feature the compiler does not cover, kg falls back to
  pyshacl by itself.
- ``rdflib``: pyshacl on an rdflib copy of the graph, the reference implementation.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox

from . import bundle
from .errors import InputError, UsageError
from .loading import load_files
from .namespaces import PREFIXES, shorten

if TYPE_CHECKING:
    from .graph import KnowledgeGraph

SH = "http://www.w3.org/ns/shacl#"
_SHAPES = ox.NamedNode("urn:x-kg:shapes")


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
    graph: object = None  # the rdflib report graph (pyshacl), or None
    engine: str = "rdflib"
    _results: list = field(default_factory=list, repr=False)  # (check, focus, path, value) terms

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
        if self.graph is not None:
            return self.graph.serialize(format="turtle")
        return _report_turtle(self.conforms, self._results)

    def json(self) -> str:
        """The report as JSON: conforms and a list of results."""
        return json.dumps({"conforms": self.conforms,
                           "results": [asdict(f) for f in self.findings]},
                          ensure_ascii=False, indent=2) + "\n"


def shapes_graph(paths: Sequence[str | Path] | None = None) -> object:
    """The SHACL shapes as an rdflib graph (bundled shapes unless ``paths`` are given)."""
    import rdflib

    graph = rdflib.Graph()
    graph.parse(data=_shapes_store(paths).dump(format=ox.RdfFormat.N_TRIPLES, from_graph=_SHAPES),
                format="nt")
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


def validate(kg: KnowledgeGraph, shapes: Sequence[str | Path] | None = None,
             engine: str = "oxigraph") -> ValidationReport:
    """Validate the asserted ontology and data of ``kg`` against the shapes with ``engine``."""
    from .graph import ENGINES

    if engine not in ENGINES:
        raise UsageError(f"unknown validation engine {engine!r} (known: {', '.join(ENGINES)})")
    if engine == "oxigraph":
        from .graph import DATA, ONTOLOGY

        report = validate_store(kg.store, [ONTOLOGY, DATA], shapes)
        if report is not None:
            return report
    return validate_graph(kg.to_rdflib(), shapes)


def _shapes_store(shapes: Sequence[str | Path] | None) -> ox.Store:
    files = [Path(p) for p in shapes] if shapes else bundle.shapes_files()
    store = ox.Store()
    load_files(store, files, _SHAPES)
    return store


def validate_store(store: ox.Store, graphs: Sequence[ox.NamedNode],
                   shapes: Sequence[str | Path] | None = None) -> ValidationReport | None:
    """Validate the union of ``graphs`` with the shapes compiled to SPARQL; None if they cannot be."""
    from .shacl_sparql import Unsupported, compile_shapes, run

    try:
        results = list(run(compile_shapes(_shapes_store(shapes), _SHAPES), store, graphs))
    except Unsupported:
        return None
    findings = sorted(Finding(
        severity=check.severity, focus=focus.value, path=None if path is None else path.value,
        shape=check.shape.value, value=None if value is None else value.value,
        message=_substitute(check.message, focus, value)) for check, focus, path, value in results)
    conforms = not any(f.severity == "Violation" for f in findings)
    return ValidationReport(conforms, findings, None, "oxigraph", results)


def _substitute(messages: dict[str, str], focus: object, value: object) -> dict[str, str]:
    """Fill ``{$this}`` and ``{?value}`` in messages (SHACL-SPARQL 5.3.2)."""
    if not any("{" in m for m in messages.values()):
        return messages
    subs = {"this": focus, "value": value}
    return {k: re.sub(r"\{[$?](this|value)\}", lambda m: "" if subs[m.group(1)] is None
                      else subs[m.group(1)].value, m_text) for k, m_text in messages.items()}


def _report_turtle(conforms: bool, results: list) -> str:
    """A W3C SHACL validation report (section 3.6) for compiled-query results, in Turtle."""
    sh = lambda name: ox.NamedNode(SH + name)  # noqa: E731
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    boolean = ox.NamedNode("http://www.w3.org/2001/XMLSchema#boolean")
    report = ox.BlankNode()
    triples = [ox.Triple(report, rdf_type, sh("ValidationReport")),
               ox.Triple(report, sh("conforms"), ox.Literal(str(conforms).lower(), datatype=boolean))]
    for check, focus, path, value in results:
        node = ox.BlankNode()
        triples += [ox.Triple(report, sh("result"), node), ox.Triple(node, rdf_type, sh("ValidationResult")),
                    ox.Triple(node, sh("focusNode"), focus), ox.Triple(node, sh("sourceShape"), check.shape),
                    ox.Triple(node, sh("resultSeverity"), sh(check.severity)),
                    ox.Triple(node, sh("sourceConstraintComponent"), sh(check.component))]
        if path is not None:
            triples.append(ox.Triple(node, sh("resultPath"), path))
        if value is not None:
            triples.append(ox.Triple(node, sh("value"), value))
        for lang, text in _substitute(check.message, focus, value).items():
            message = ox.Literal(text, language=lang) if lang else ox.Literal(text)
            triples.append(ox.Triple(node, sh("resultMessage"), message))
    return ox.serialize(triples, format=ox.RdfFormat.TURTLE,
                        prefixes={"sh": SH, **PREFIXES}).decode()


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
    return ValidationReport(bool(conforms), sorted(findings), report, "rdflib")
