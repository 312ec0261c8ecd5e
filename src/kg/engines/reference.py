"""The reference path: the same files, queries and shapes through rdflib, owlrl and pyshacl.

``kg.load(engine="rdflib")`` (``--engine rdflib`` on the command line) gives a :class:`ReferenceGraph`:
rdflib parses the files, owlrl computes the OWL 2 RL closure, rdflib's SPARQL engine answers the stored
queries and pyshacl validates. It is the plain Python stack the fast path is measured and tested
against (``tests/test_engines.py``, ``benchmarks/scale.py``); answers come back in the same
:class:`~kg.core.results.Result` and :class:`~kg.engines.validation.ValidationReport` types.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pyoxigraph as ox

from kg.core import bundle
from kg.core.errors import InputError, QueryError
from kg.core.loading import base_iri, rdf_format, refuse_remote
from kg.core.namespaces import PREFIXES
from kg.core.queries import StoredQuery
from kg.core.results import Result
from kg.graph import KnowledgeGraph, _resolve


def _to_ox(term: object) -> object:
    """An rdflib term as the equivalent pyoxigraph term."""
    import rdflib

    if term is None:
        return None
    if isinstance(term, rdflib.URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, rdflib.BNode):
        return ox.BlankNode(str(term))
    if term.language:
        return ox.Literal(str(term), language=term.language)
    if term.datatype is not None:
        return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
    return ox.Literal(str(term))


def _replay(names: list[str], rows: list[tuple]) -> object:
    """Solutions with exactly ``rows``, for the W3C result writers (a VALUES query on an empty store)."""
    if any(isinstance(t, ox.BlankNode) for row in rows for t in row):
        return None
    variables = " ".join(f"?{n}" for n in names)
    table = " ".join("(" + " ".join("UNDEF" if t is None else str(t) for t in row) + ")" for row in rows)
    return lambda: ox.Store().query(f"SELECT {variables} WHERE {{ VALUES ({variables}) {{ {table} }} }}")


_RDFLIB_FORMATS = {
    ox.RdfFormat.TURTLE: "turtle",
    ox.RdfFormat.N_TRIPLES: "nt",
    ox.RdfFormat.N3: "n3",
    ox.RdfFormat.RDF_XML: "xml",
    ox.RdfFormat.JSON_LD: "json-ld",
    ox.RdfFormat.TRIG: "trig",
    ox.RdfFormat.N_QUADS: "nquads",
}


class ReferenceGraph:
    """Ontology, vocabularies and data in rdflib; inference with owlrl on first need."""

    engine = "rdflib"
    bound = KnowledgeGraph.bound  # parameter checking and binding are engine-independent
    _terms = KnowledgeGraph._terms

    def __init__(self, asserted: object, ontology_files: Sequence[Path], data_files: Sequence[Path]):
        self.asserted = asserted
        self.closure: object | None = None
        self.ontology_files, self.data_files = list(ontology_files), list(data_files)
        self.reasoner: str | None = None

    @classmethod
    def load(
        cls,
        data: Sequence[str | Path] | None = None,
        ontology: Sequence[str | Path] | None = None,
        base: str | None = None,
    ) -> ReferenceGraph:
        """Parse the bundled ontology and data (or the given files) with rdflib."""
        import rdflib

        ontology_files = [Path(p) for p in ontology] if ontology else bundle.ontology_files()
        data_files = [Path(p) for p in data] if data else bundle.data_files()
        graph = rdflib.Graph()
        for path in [*ontology_files, *data_files]:
            if not path.is_file():
                raise InputError(f"{path}: no such file")
            refuse_remote(path)
            try:
                graph.parse(path, publicID=base_iri(path, base), format=_RDFLIB_FORMATS.get(rdf_format(path)))
            except Exception as err:  # rdflib raises many types; report the file, one line
                raise InputError(f"{path}: invalid RDF: {' '.join(str(err).split())}") from None
        for prefix, namespace in PREFIXES.items():
            graph.bind(prefix, namespace, override=True)
        found = cls(graph, ontology_files, data_files)
        found.base = base
        return found

    def __len__(self) -> int:
        return len(self.asserted)

    def infer(self, reasoner: str = "owlrl") -> int:
        """Compute the OWL 2 RL closure with owlrl on a copy; return how many triples it adds."""
        import owlrl
        import rdflib

        closure = rdflib.Graph()
        for triple in self.asserted:
            closure.add(triple)
        owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(closure)
        self.closure, self.reasoner = closure, "owlrl"
        return len(closure) - len(self.asserted)

    def _graph(self, inferred: bool) -> object:
        if inferred and self.closure is None:
            self.infer()
        return self.closure if inferred else self.asserted

    def _allowed(self, stored: StoredQuery, param: object, raw: str) -> bool:
        return bool(self._graph(stored.inference).query(stored.allowed_query(param, raw)).askAnswer)

    def values(self, stored: StoredQuery, name: str) -> list[str]:
        """The allowed values of a parameter that has a ``values`` pattern, from the graph."""
        param = stored.parameter(name)
        if not param.values:
            return []
        rows = self._graph(stored.inference).query(stored.values_query(param))
        return [str(row[0]) for row in rows if row[0] is not None]

    def query(
        self,
        query: str | StoredQuery,
        params: Mapping[str, object] | None = None,
        *,
        infer: bool = True,
        lang: str = "nl",
    ) -> Result:
        """Run a stored query or SPARQL text with rdflib's engine (see KnowledgeGraph.query)."""
        stored = _resolve(query)
        text = self.bound(stored, params, lang)
        graph = self._graph(infer and stored.inference)

        def run() -> object:
            try:
                return graph.query(text, initNs=PREFIXES)
            except Exception as err:  # pyparsing's ParseException and friends
                raise QueryError(f"{stored.path or stored.name}: SPARQL error: {err}") from None

        answer = run()
        if answer.type == "SELECT":
            names = [str(v) for v in answer.vars]
            rows = [tuple(_to_ox(row[i]) for i in range(len(names))) for row in answer]
            return Result("SELECT", names, rows, rerun=_replay(names, rows))
        if answer.type == "ASK":
            return Result("ASK", boolean=bool(answer.askAnswer))
        triples = [ox.Triple(_to_ox(s), _to_ox(p), _to_ox(o)) for s, p, o in answer.graph]
        return Result("CONSTRUCT", triples=triples)

    def validate(self, shapes: Sequence[str | Path] | None = None, engine: str = "rdflib") -> object:
        """Validate ontology, vocabularies and data with pyshacl."""
        from kg.engines.validation import validate_graph

        return validate_graph(self.asserted, shapes, getattr(self, "base", None))
