"""The one loaded graph: ontology and data files in an Oxigraph store, in named graphs.

Files on disk -> ``KnowledgeGraph.load()`` -> validate / infer / query / export. The ontology (with
vocabularies) and the data sit in separate named graphs; inference, when asked for, fills a third.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from pathlib import Path

import pyoxigraph as ox

from kg.core import bundle, queries
from kg.core.errors import ParameterError, QueryError, UsageError
from kg.core.loading import load_files
from kg.core.namespaces import DATA_GRAPH, INFERRED_GRAPH, ONTOLOGY_GRAPH, PREFIXES
from kg.core.queries import StoredQuery
from kg.core.results import Result
from kg.core.sparql_text import check, on_big_stack
from kg.engines.oxigraph import inference

ONTOLOGY = ox.NamedNode(ONTOLOGY_GRAPH)
DATA = ox.NamedNode(DATA_GRAPH)
INFERRED = ox.NamedNode(INFERRED_GRAPH)


class KnowledgeGraph:
    """Ontology, vocabularies and data, loaded once; inference computed on first need."""

    def __init__(self, store: ox.Store, ontology_files: Sequence[Path], data_files: Sequence[Path]):
        self.store = store
        self.ontology_files = list(ontology_files)
        self.data_files = list(data_files)
        self.reasoner: str | None = None

    @classmethod
    def load(
        cls, data: Sequence[str | Path] | None = None, ontology: Sequence[str | Path] | None = None
    ) -> KnowledgeGraph:
        """Load the bundled ontology and data, or the given files instead of either."""
        ontology_files = [Path(p) for p in ontology] if ontology else bundle.ontology_files()
        data_files = [Path(p) for p in data] if data else bundle.data_files()
        store = ox.Store()
        load_files(store, ontology_files, ONTOLOGY)
        load_files(store, data_files, DATA)
        return cls(store, ontology_files, data_files)

    def __len__(self) -> int:
        """Number of asserted triples (ontology and data)."""
        return sum(1 for _ in self.store.quads_for_pattern(None, None, None, ONTOLOGY)) + sum(
            1 for _ in self.store.quads_for_pattern(None, None, None, DATA)
        )

    # --- inference --------------------------------------------------------------------------

    def infer(self, reasoner: str = "rules") -> int:
        """(Re)compute the inferred graph with ``reasoner``; return its size."""
        count = inference.infer(self.store, [ONTOLOGY, DATA], INFERRED, reasoner)
        self.reasoner = reasoner
        return count

    def _ensure_inferred(self) -> None:
        if self.reasoner is None:
            self.infer()

    def graphs(self, *, inferred: bool = False) -> list[ox.NamedNode]:
        """The named graphs that make up the default graph of a query or export."""
        if inferred:
            self._ensure_inferred()
            return [ONTOLOGY, DATA, INFERRED]
        return [ONTOLOGY, DATA]

    def dataset(self, *, inferred: bool = False) -> dict[str, object]:
        """Keyword arguments for ``store.query``: the graphs of :meth:`graphs` as the default graph.

        When those are all the store's graphs, Oxigraph's union default graph is used: the same
        triples, and twice as fast as naming the graphs at a million triples.
        """
        graphs = self.graphs(inferred=inferred)
        if set(graphs) == set(self.store.named_graphs()):
            return {"use_default_graph_as_union": True}
        return {"default_graph": graphs}

    def triples(self, graph: ox.NamedNode) -> list[ox.Triple]:
        """The triples of one named graph."""
        return [q.triple for q in self.store.quads_for_pattern(None, None, None, graph)]

    # --- queries ----------------------------------------------------------------------------

    def query(
        self,
        query: str | StoredQuery,
        params: Mapping[str, object] | None = None,
        *,
        infer: bool = True,
        lang: str = "nl",
        allow_service: Sequence[str] = (),
    ) -> Result:
        """Run a stored query (by name, ``.rq`` path or StoredQuery) or SPARQL text.

        ``params`` are validated and bound as typed RDF terms; ``lang`` binds ``?__lang`` where a
        query has it. ``infer=False`` queries asserted triples only. A query that is too long or
        nested too deep, or calls a SERVICE whose IRI does not start with one of ``allow_service``,
        raises QueryError (see kg.core.sparql_text); the query runs on a large stack.
        """
        stored = _resolve(query)
        text = self.bound(stored, params, lang)
        where = stored.path or stored.name
        try:
            check(text, allow_service=allow_service, prefixes=PREFIXES)
        except QueryError as err:
            raise QueryError(f"{where}: {err}") from None
        dataset = self.dataset(inferred=infer and stored.inference)

        def run() -> object:
            try:
                return self.store.query(text, prefixes=PREFIXES, **dataset)
            except SyntaxError:
                try:  # report the position in the file as written, without the bound VALUES
                    ox.Store().query(stored.text)
                except SyntaxError as original:
                    err = original
                where = stored.path or stored.name
                raise QueryError(f"{where}: SPARQL syntax error: {err}") from None

        def collect() -> Result:
            answer = run()
            if isinstance(answer, ox.QuerySolutions):
                names = [v.value for v in answer.variables]
                rows = list(map(tuple, answer))  # unbound -> None; twice as fast as indexing each cell
                return Result("SELECT", names, rows, rerun=run)
            if isinstance(answer, ox.QueryBoolean):
                return Result("ASK", boolean=bool(answer), rerun=run)
            return Result(stored.form if stored.form != "SELECT" else "CONSTRUCT", triples=list(answer))

        return on_big_stack(collect)

    def values(self, stored: StoredQuery, name: str) -> list[str]:
        """The allowed values of a parameter that has a ``values`` pattern, from the graph."""
        param = stored.parameter(name)
        if not param.values:
            return []
        result = self.store.query(stored.values_query(param), **self.dataset(inferred=stored.inference))
        return [sol["value"].value for sol in result if sol["value"] is not None]

    def _allowed(self, stored: StoredQuery, param: object, raw: str) -> bool:
        """Whether ``raw`` is an allowed value exactly (one lookup; the full list only on a miss)."""
        answer = self.store.query(stored.allowed_query(param, raw), **self.dataset(inferred=stored.inference))
        return bool(answer)

    def bound(self, stored: StoredQuery, params: Mapping[str, object] | None = None, lang: str = "nl") -> str:
        """The query text with ``params`` validated and bound (for this graph or a remote endpoint)."""
        values = {k: str(v) for k, v in (params or {}).items()}
        return queries.bind(stored.text, self._terms(stored, values, lang))

    def _terms(
        self, stored: StoredQuery, values: dict[str, str], lang: str
    ) -> dict[str, ox.NamedNode | ox.Literal]:
        """Validate the raw parameter values; return variable name -> RDF term."""
        names = {p.name for p in stored.parameters}
        if "lang" in names and "lang" not in values:
            values["lang"] = lang
        subs: dict[str, ox.NamedNode | ox.Literal] = {}
        for name, raw in values.items():
            param = stored.parameter(name)  # raises with the list of known parameters
            term = param.to_term(raw)
            if param.values and not self._allowed(stored, param, raw):
                allowed = self.values(stored, name)
                if raw.casefold() not in {a.casefold() for a in allowed}:
                    close = difflib.get_close_matches(raw, allowed, n=1)
                    hint = f" (did you mean {close[0]}?)" if close else ""
                    raise ParameterError(
                        f"parameter {name}: unknown value {raw!r}{hint}; known: {', '.join(allowed)}"
                    )
            subs[param.variable] = term
        for param in stored.parameters:
            if param.required and param.name not in values:
                example = f" (e.g. -p {param.name}={param.example})" if param.example else ""
                raise ParameterError(f"query {stored.name} needs parameter {param.name}{example}")
        return subs

    # --- validation and export --------------------------------------------------------------

    def to_rdflib(self, *, inferred: bool = False) -> object:
        """An rdflib.Graph with the asserted (and optionally inferred) triples."""
        import rdflib

        graph = rdflib.Graph()
        for name in self.graphs(inferred=inferred):
            graph.parse(data=self.store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=name), format="nt")
        for prefix, ns in PREFIXES.items():
            graph.bind(prefix, ns, override=True)
        return graph

    def validate(self, shapes: Sequence[str | Path] | None = None, engine: str = "oxigraph") -> object:
        """Validate ontology, vocabularies and data against the SHACL shapes.

        ``engine="oxigraph"`` runs the shapes compiled to SPARQL on the store; ``"rdflib"`` runs pyshacl.
        """
        from kg.engines.validation import validate

        return validate(self, shapes, engine)

    def query_df(self, query: str | StoredQuery, lang: str = "nl", **params: object) -> object:
        """A query's rows as a pandas DataFrame with readable column names, labels in ``lang``."""
        from kg.views.figures import query_df

        return query_df(self, query, lang, **params)

    def to_networkx(self, lang: str = "nl") -> object:
        """Initiatives, bottleneck types and activities as a NetworkX graph (see kg.views.figures)."""
        from kg.views.figures import to_networkx

        return to_networkx(self, lang)

    def plot(self, kind: str, lang: str = "nl") -> object:
        """A matplotlib Figure: network, cooccurrence, by-province or timeline."""
        from kg.views.figures import plot

        return plot(self, kind, lang)

    def serialize(self, fmt: str = "turtle", *, inferred: bool = False) -> bytes:
        """The asserted graphs (plus the inferred one if asked) in an RDF format."""
        from kg.publish.export import serialize

        return serialize(self, fmt, inferred=inferred)


def _resolve(query: str | StoredQuery) -> StoredQuery:
    if isinstance(query, StoredQuery):
        return query
    if any(c in query for c in " \n{") and not query.endswith(".rq"):
        return queries.parse(query, "<query>")
    return queries.get(query)


ENGINES = ("oxigraph", "rdflib")


def load(data: Sequence[str | Path] | None = None, engine: str = "oxigraph") -> KnowledgeGraph:
    """Load the bundled ontology with the bundled data (or the given data files).

    ``engine="oxigraph"`` (the default, faster at every size measured) or ``"rdflib"``, the reference
    path (rdflib, owlrl, pyshacl; see kg.engines.reference).
    """
    if engine == "oxigraph":
        return KnowledgeGraph.load(data)
    if engine == "rdflib":
        from kg.engines.reference import ReferenceGraph

        return ReferenceGraph.load(data)  # type: ignore[return-value]
    raise UsageError(f"unknown engine {engine!r} (known: {', '.join(ENGINES)})")


_DEFAULT: KnowledgeGraph | None = None


def _default() -> KnowledgeGraph:
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = KnowledgeGraph.load()
    return _DEFAULT


def query_df(name: str, lang: str = "nl", **params: object) -> object:
    """A stored query on the bundled data as a pandas DataFrame: ``kg.query_df("initiatives")``."""
    return _default().query_df(name, lang, **params)


def to_networkx(lang: str = "nl") -> object:
    """The bundled initiative-bottleneck-activity graph as a NetworkX graph."""
    return _default().to_networkx(lang)
