"""The reference engine: the same files, queries and shapes through rdflib, owlrl and pyshacl.

``kg.load(engine="rdflib")`` (``--engine rdflib`` on the command line): rdflib parses the files, owlrl
computes the OWL 2 RL closure, rdflib's SPARQL engine answers queries and pyshacl validates. It is the
plain Python stack the fast path is measured and tested against (``tests/test_engines.py``,
``benchmarks/scale.py``); answers come back in the same :class:`~kg.core.results.Result` and
:class:`~kg.core.report.ValidationReport` types as the fast path's.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pyoxigraph as ox

from kg.core.convert import to_ox, to_ox_triple
from kg.core.errors import InputError, QueryError, UsageError
from kg.core.loading import base_iri, check_file, refuse_remote
from kg.core.namespaces import DATA_GRAPH, INFERRED_GRAPH, ONTOLOGY_GRAPH, PREFIXES
from kg.core.report import ValidationReport
from kg.core.results import Result
from kg.engines.base import bounded
from kg.engines.validation import no_web_graphs, validate_graph

_RDFLIB_FORMATS = {
    ox.RdfFormat.TURTLE: "turtle",
    ox.RdfFormat.N_TRIPLES: "nt",
    ox.RdfFormat.N3: "n3",
    ox.RdfFormat.RDF_XML: "xml",
    ox.RdfFormat.JSON_LD: "json-ld",
    ox.RdfFormat.TRIG: "trig",
    ox.RdfFormat.N_QUADS: "nquads",
}


class RdflibEngine:
    """One rdflib graph per named graph; inference with owlrl into the inferred one."""

    name = "rdflib"

    def __init__(self) -> None:
        import rdflib

        no_web_graphs()

        self.graphs: dict[str, rdflib.Graph] = {}
        self.reasoner: str | None = None
        self.base: str | None = None
        self._unions: dict[tuple[str, ...], rdflib.Graph] = {}  # emptied whenever a graph changes

    def _graph(self, name: str) -> object:
        import rdflib

        if name not in self.graphs:
            self.graphs[name] = rdflib.Graph(identifier=rdflib.URIRef(name))
        return self.graphs[name]

    def load(self, files: Sequence[Path], graph: str, base: str | None = None) -> None:
        self._unions.clear()
        self.base = base
        target = self._graph(graph)
        for path in map(Path, files):
            fmt = _RDFLIB_FORMATS.get(check_file(path))  # a regular file; RDF/XML without entity attacks
            refuse_remote(path)
            try:
                target.parse(path, publicID=base_iri(path, base), format=fmt)
            except Exception as err:  # rdflib raises many types; report the file, one line
                raise InputError(f"{path}: invalid RDF: {' '.join(str(err).split())}") from None

    def triples(self, graph: str) -> list[ox.Triple]:
        return [to_ox_triple(t) for t in self.graphs.get(graph, ())]

    def _union(self, graphs: Sequence[str]) -> object:
        import rdflib

        if len(graphs) == 1:
            return self._graph(graphs[0])
        key = tuple(sorted(graphs))
        if key in self._unions:
            return self._unions[key]
        union = self._unions[key] = rdflib.Graph()
        for name in graphs:
            part = self.graphs.get(name)
            if part is None:
                continue
            for triple in part:
                union.add(triple)
            for prefix, namespace in part.namespaces():  # the files' own prefixes, as rdflib parsed them
                union.bind(prefix, namespace, override=False)
        for prefix, namespace in PREFIXES.items():
            union.bind(prefix, namespace, override=True)
        return union

    @staticmethod
    def _copy(graph: object) -> object:
        import rdflib

        copy = rdflib.Graph()
        for triple in graph:
            copy.add(triple)
        return copy

    def infer(self, reasoner: str | None = None) -> int:
        """The OWL 2 RL closure by owlrl; the inferred graph keeps what the asserted graphs lack.

        owlrl reasons in generalised RDF and also derives triples with a literal subject (such as
        ``"label"@en owl:sameAs "label"@en``); RDF has none (RDF 1.1 Concepts, section 3.1), so they
        are left out, as the oxigraph engine's owlrl reasoner leaves them out."""
        import owlrl
        import rdflib

        if reasoner not in (None, "owlrl"):
            raise UsageError(f"the rdflib engine infers with owlrl only, not {reasoner!r}")
        asserted = self._union([ONTOLOGY_GRAPH, DATA_GRAPH])
        closure = self._copy(asserted)
        owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(closure)
        self._unions.clear()
        inferred = self._graph(INFERRED_GRAPH)
        inferred.remove((None, None, None))
        for triple in closure:
            if triple not in asserted and not isinstance(triple[0], rdflib.Literal):
                inferred.add(triple)
        self.reasoner = "owlrl"
        return len(inferred)

    def query(
        self,
        text: str,
        graphs: Sequence[str] | None,
        *,
        named: Sequence[str] | None = None,
        base: str | None = None,
        limit: int | None = None,
        timeout: float | None = None,
        where: str = "<query>",
        lazy: bool = False,
    ) -> Result:
        if graphs is None or named is not None:
            raise QueryError(f"{where}: FROM, FROM NAMED and named graphs need the oxigraph engine")
        try:
            answer = self._union(list(graphs)).query(text, initNs=PREFIXES, base=base)
        except Exception as err:  # pyparsing's ParseException and friends
            raise QueryError(f"{where}: SPARQL error: {err}") from None
        if answer.type == "ASK":
            return Result("ASK", boolean=bool(answer.askAnswer))
        if answer.type == "SELECT":
            names = [str(v) for v in answer.vars]
            if lazy:
                return Result(
                    "SELECT", names, (tuple(to_ox(r[i]) for i in range(len(names))) for r in answer)
                )
            rows, cut = bounded(
                (tuple(to_ox(row[i]) for i in range(len(names))) for row in answer), limit, timeout
            )
            return Result("SELECT", names, rows, truncated=cut)
        if lazy:
            return Result("CONSTRUCT", triples=(to_ox_triple(t) for t in answer.graph))
        triples, cut = bounded((to_ox_triple(t) for t in answer.graph), limit, timeout)
        return Result("CONSTRUCT", triples=triples, truncated=cut)

    def validate(self, shapes: Sequence[Path] | None = None) -> ValidationReport:
        return validate_graph(self._union([ONTOLOGY_GRAPH, DATA_GRAPH]), shapes, self.base)

    def to_rdflib(self, graphs: Sequence[str]) -> object:
        return self._union(list(graphs))
