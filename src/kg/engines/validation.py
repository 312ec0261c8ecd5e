"""SHACL validation of the loaded graph, and the report in text, Turtle or JSON.

Two engines give the same results (a test compares them):

- ``oxigraph`` (default): the shapes compiled to SPARQL (:mod:`kg.engines.oxigraph.shacl`) and run on the
  store the graph is already in. If the shapes use a feature the compiler does not cover, kg falls back to
  pyshacl by itself.
- ``rdflib``: pyshacl on an rdflib copy of the graph, the reference implementation.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pyoxigraph as ox

from kg.core import bundle
from kg.core.errors import InputError
from kg.core.loading import Exact, load_files
from kg.core.namespaces import SH
from kg.core.report import Finding, ValidationReport, policy_conforms, severity_name, substitute

_SHAPES = ox.NamedNode("urn:x-kg:shapes")


def shapes_graph(paths: Sequence[str | Path] | None = None, base: str | None = None) -> object:
    """The SHACL shapes as an rdflib graph (bundled shapes unless ``paths`` are given), with every
    literal as written."""
    import rdflib

    store, exact = _shapes_store(paths, base)
    quads = exact.quads(store.quads_for_pattern(None, None, None, _SHAPES))
    graph = rdflib.Graph()
    graph.parse(data=ox.serialize([q.triple for q in quads], format=ox.RdfFormat.N_TRIPLES), format="nt")
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


def validate_compiled(
    store: ox.Store,
    graphs: Sequence[ox.NamedNode],
    exact: Exact,
    shapes: Sequence[str | Path] | None,
    base: str | None,
    fallback: Callable[[], object],
    compiled_results: Callable[[object, list, ox.Store], None] | None = None,
) -> ValidationReport:
    """Validate the union of ``graphs`` in ``store`` with the shapes compiled to SPARQL.

    The compiler translates what it can translate exactly; if it declines a shape (or the data has
    literals the store does not keep as written), pyshacl validates ``fallback()`` (an rdflib copy)
    instead, and the report lists what was compiled and what was declined, with the reason.
    ``compiled_results(compiled, results, shapes_store)`` is called when the compiled checks gave the
    report (:mod:`kg.engines.revalidation` keeps them for a later revalidation).
    """
    from kg.engines.oxigraph.shacl import Unsupported, compile_shapes, run, store_select

    shapes_store, shapes_exact = _shapes_store(shapes, base)
    check_shapes(shapes_store, _where(shapes))
    compiled = compile_shapes(shapes_store, _SHAPES)
    if shapes_exact or exact:
        reason = f"literal {(shapes_exact or exact).example()} is not kept as written by Oxigraph"
        compiled.declined = {s: reason for s in [*compiled.compiled, *compiled.declined]}
        compiled.compiled = []
    if not compiled.declined:
        try:
            results = list(run(compiled.checks, store_select(store, graphs)))
        except Unsupported as err:
            compiled.declined = {s: str(err) for s in compiled.compiled}
            compiled.compiled = []
        else:
            describe = _describer([(store, graphs), (shapes_store, [_SHAPES])])
            report = _compiled_report(results, describe)
            report.compiled, report.declined = compiled.compiled, {}
            if compiled_results is not None:
                compiled_results(compiled, results, shapes_store)
            return report
    report = validate_graph(fallback(), shapes, base)
    report.compiled, report.declined = compiled.compiled, compiled.declined
    return report


def validate_with(
    select: Callable[[str], tuple[list[str], list[tuple]]],
    shapes: Sequence[str | Path] | None = None,
    base: str | None = None,
    portable: bool = True,
) -> ValidationReport:
    """Validate with the shapes compiled to SPARQL, each SELECT run by ``select`` (on a remote
    store's asserted graphs, say), in the portable dialect (:mod:`kg.engines.shacl_portable`) unless
    ``portable`` is false (an Oxigraph server). There is no pyshacl fallback here, the data being
    elsewhere: shapes the compiler declines raise InputError naming each with the reason."""
    from kg.engines.oxigraph.shacl import Unsupported, compile_shapes, run

    shapes_store, shapes_exact = _shapes_store(shapes, base)
    check_shapes(shapes_store, _where(shapes))
    compiled = compile_shapes(shapes_store, _SHAPES, portable_dialect=portable)
    if shapes_exact:
        reason = f"literal {shapes_exact.example()} is not kept as written by Oxigraph"
        compiled.declined = {s: reason for s in [*compiled.compiled, *compiled.declined]}
    if not compiled.declined:
        try:
            results = list(run(compiled.checks, select, portable))
        except Unsupported as err:
            message = f"{_where(shapes)}: cannot validate on the store (validate locally instead): {err}"
            raise InputError(message) from None
        else:
            describe = _describer([(shapes_store, [_SHAPES])])
            report = _compiled_report(results, describe)
            report.compiled, report.declined = compiled.compiled, {}
            return report
    declined = "; ".join(f"{shape}: {why}" for shape, why in sorted(compiled.declined.items()))
    raise InputError(
        f"{_where(shapes)}: {len(compiled.declined)} shape(s) cannot run as SPARQL on the store "
        f"(validate locally instead): {declined}"
    )


def _where(shapes: Sequence[str | Path] | None) -> str:
    return ", ".join(map(str, shapes or [])) or "bundled shapes"


def _shapes_store(shapes: Sequence[str | Path] | None, base: str | None = None) -> tuple[ox.Store, object]:
    files = [Path(p) for p in shapes] if shapes else bundle.shapes_files()
    store = ox.Store()
    exact = load_files(store, files, _SHAPES, base)
    return store, exact


def check_shapes(store: ox.Store, where: str) -> None:
    """Refuse SPARQL that SHACL rejects (section 5.2.1, before any engine runs it: no SERVICE
    request ever leaves kg), and sh:prefixes that point outside the shapes graph (never fetched)."""
    from kg.engines.shacl_sparql_rules import rejected

    sh = lambda name: ox.NamedNode(SH + name)  # noqa: E731
    for key, prebound in (
        ("select", {"this", "shapesGraph", "currentShape", "PATH"}),
        ("ask", {"this", "shapesGraph", "currentShape", "value", "PATH"}),
    ):
        for quad in store.quads_for_pattern(None, sh(key), None, _SHAPES):
            holder = quad.subject
            params = {
                p.object.value.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
                for kind in ("validator", "nodeValidator", "propertyValidator")
                for comp in store.quads_for_pattern(None, sh(kind), holder, _SHAPES)
                for param in store.quads_for_pattern(comp.subject, sh("parameter"), None, _SHAPES)
                for p in store.quads_for_pattern(param.object, sh("path"), None, _SHAPES)
            }
            why = rejected(quad.object.value, prebound | params)
            if why:
                raise InputError(f"{where}: {why}: in the query of {holder}")
            for prefixes in store.quads_for_pattern(holder, sh("prefixes"), None, _SHAPES):
                _check_prefixes(store, prefixes.object, where, quad.object.value)


def _check_prefixes(store: ox.Store, source: object, where: str, query: str) -> None:
    """A prefix the query uses but nothing declares, where a prefixes node or import is not in the
    shapes graph, is an error naming that node: kg does not fetch it."""
    from kg.core.sparql_text import declared_prefixes, prefixes_used, tokens

    owl_imports = ox.NamedNode("http://www.w3.org/2002/07/owl#imports")
    todo, seen, missing, declared = [source], set(), [], set()
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        if not any(True for _ in store.quads_for_pattern(node, None, None, _SHAPES)):
            missing.append(node)
        for decl in store.quads_for_pattern(node, sh_("declare"), None, _SHAPES):
            declared |= {
                q.object.value for q in store.quads_for_pattern(decl.object, sh_("prefix"), None, _SHAPES)
            }
        todo.extend(q.object for q in store.quads_for_pattern(node, owl_imports, None, _SHAPES))
    toks = tokens(query)
    declared |= set(declared_prefixes(toks, {}))
    used = prefixes_used(toks)
    for node in missing:
        if used - declared:
            raise InputError(
                f"{where}: the prefixes of {node.value if isinstance(node, ox.NamedNode) else node} are not "
                "in the shapes graph (kg does not fetch sh:prefixes or owl:imports from the network)"
            )


def sh_(name: str) -> ox.NamedNode:
    return ox.NamedNode(SH + name)


def _describer(sources: list) -> object:
    """A function: a blank node -> the triples reachable from it (its concise bounded description)
    in the first of ``sources`` (store, graphs) that has it."""

    def describe(node: object) -> list[ox.Triple]:
        out, todo, seen = [], [node], set()
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            for store, graphs in sources:
                found = [q.triple for g in graphs for q in store.quads_for_pattern(current, None, None, g)]
                if found:
                    out += found
                    todo += [t.object for t in found if isinstance(t.object, ox.BlankNode)]
                    break
        return out

    return describe


def _order(f: Finding) -> tuple:
    return (f.severity, f.focus, f.path or "", f.shape, f.value or "", sorted(f.message.items()))


def _compiled_report(results: list, describe: object) -> ValidationReport:
    findings = list(
        Finding(
            severity=severity_name(check.severity.value),
            focus=focus.value,
            path=None if path is None else path.value,
            shape=check.shape.value,
            value=None if value is None else value.value,
            message=substitute(check.message, focus, value),
        )
        for check, focus, path, value in results
    )
    findings.sort(key=_order)  # a key, not the dataclass order: a path or value may be None beside a str
    return ValidationReport(policy_conforms(findings), findings, None, "oxigraph", results, describe=describe)


def no_web_graphs() -> None:
    """Stop rdflib's SPARQL engine from loading a graph that a query names in FROM or GRAPH from the
    web (its default): a query or a shapes file never makes kg call out."""
    import rdflib.plugins.sparql

    rdflib.plugins.sparql.SPARQL_LOAD_GRAPHS = False


def validate_graph(
    data: object, shapes: Sequence[str | Path] | None = None, base: str | None = None
) -> ValidationReport:
    """Validate an rdflib graph against the shapes (the bundled ones unless ``shapes`` are given)."""
    import pyshacl
    import rdflib
    from pyshacl.errors import ConstraintLoadError, ReportableRuntimeError, ShapeLoadError

    no_web_graphs()
    store, _ = _shapes_store(shapes, base)
    where = _where(shapes)
    check_shapes(store, where)
    shacl = shapes_graph(shapes, base)
    logging.getLogger("pyshacl-validate").disabled = True  # kg reports errors itself, once
    try:
        with _parse_each_sparql_query_once():
            _, report, text = pyshacl.validate(data, shacl_graph=shacl, inference="none")
    except (ShapeLoadError, ConstraintLoadError, ReportableRuntimeError) as err:
        message = " ".join(str(getattr(err, "message", err)).split())
        raise InputError(f"{where}: invalid SHACL shapes: {message}") from None
    except NotImplementedError as err:
        raise InputError(f"{where}: not supported by pyshacl: {' '.join(str(err).split())}") from None
    if not isinstance(report, rdflib.Graph):  # pyshacl's ValidationFailure
        message = " ".join(str(getattr(report, "message", text)).split())
        raise InputError(f"{where}: invalid SHACL shapes: {message}")
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
                severity=severity_name(one(sh.resultSeverity)),
                focus=one(sh.focusNode),
                path=one(sh.resultPath),
                shape=one(sh.sourceShape),
                value=one(sh.value),
                message=messages,
            )
        )
    _describe_blank_nodes(report, [data, shacl])
    return ValidationReport(policy_conforms(findings), sorted(findings), report, "rdflib")


def _describe_blank_nodes(report: object, sources: list) -> None:
    """Copy into ``report`` the triples reachable from each blank node a result names (focus node,
    value, path, shape), so that the report says what the node is (SHACL 3.6.2)."""
    import rdflib

    sh = rdflib.Namespace(SH)
    keys = (sh.focusNode, sh.value, sh.resultPath, sh.sourceShape, sh.sourceConstraint)
    todo = [
        o
        for r in report.subjects(rdflib.RDF.type, sh.ValidationResult)
        for k in keys
        for o in report.objects(r, k)
        if isinstance(o, rdflib.BNode)
    ]
    seen = set()
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        if (node, None, None) in report:
            continue  # pyshacl copied it (result paths)
        for source in sources:
            found = list(source.triples((node, None, None)))
            if found:
                for triple in found:
                    report.add(triple)
                    if isinstance(triple[2], rdflib.BNode):
                        todo.append(triple[2])
                break
