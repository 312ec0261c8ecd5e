"""SHACL validation of the loaded graph, and the report in text, Turtle or JSON.

Two engines give the same results (a test compares them):

- ``oxigraph`` (default): the shapes compiled to SPARQL (:mod:`kg.engines.oxigraph.shacl`) and run on the
  store the graph is already in. If the shapes use a feature the compiler does not cover, kg falls back to
  pyshacl by itself.
- ``rdflib``: pyshacl on an rdflib copy of the graph, the reference implementation.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pyoxigraph as ox

from kg.core import bundle
from kg.core.errors import InputError
from kg.core.loading import load_files
from kg.core.namespaces import SH
from kg.core.report import Finding, ValidationReport, substitute

_SHAPES = ox.NamedNode("urn:x-kg:shapes")


def shapes_graph(paths: Sequence[str | Path] | None = None) -> object:
    """The SHACL shapes as an rdflib graph (bundled shapes unless ``paths`` are given)."""
    import rdflib

    graph = rdflib.Graph()
    graph.parse(
        data=_shapes_store(paths).dump(format=ox.RdfFormat.N_TRIPLES, from_graph=_SHAPES), format="nt"
    )
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


def _shapes_store(shapes: Sequence[str | Path] | None) -> ox.Store:
    files = [Path(p) for p in shapes] if shapes else bundle.shapes_files()
    store = ox.Store()
    load_files(store, files, _SHAPES)
    return store


def validate_store(
    store: ox.Store, graphs: Sequence[ox.NamedNode], shapes: Sequence[str | Path] | None = None
) -> ValidationReport | None:
    """Validate the union of ``graphs`` with the shapes compiled to SPARQL; None if they cannot be."""
    from kg.engines.oxigraph.shacl import Unsupported, compile_shapes, run

    try:
        results = list(run(compile_shapes(_shapes_store(shapes), _SHAPES), store, graphs))
    except Unsupported:
        return None
    findings = sorted(
        Finding(
            severity=check.severity,
            focus=focus.value,
            path=None if path is None else path.value,
            shape=check.shape.value,
            value=None if value is None else value.value,
            message=substitute(check.message, focus, value),
        )
        for check, focus, path, value in results
    )
    conforms = not any(f.severity == "Violation" for f in findings)
    return ValidationReport(conforms, findings, None, "oxigraph", results)


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
                data, shacl_graph=shacl, inference="none", allow_warnings=True, allow_infos=True
            )
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
        findings.append(
            Finding(
                severity=one(sh.resultSeverity).rsplit("#", 1)[-1],
                focus=one(sh.focusNode),
                path=one(sh.resultPath),
                shape=one(sh.sourceShape),
                value=one(sh.value),
                message=messages,
            )
        )
    return ValidationReport(bool(conforms), sorted(findings), report, "rdflib")
