"""The default engine: an in-memory Oxigraph store, compiled OWL 2 RL rules and SHACL compiled to SPARQL."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pyoxigraph as ox

from kg.core.convert import to_rdflib_graph
from kg.core.errors import QueryError, QueryTimeout
from kg.core.loading import Exact, load_files
from kg.core.namespaces import DATA_GRAPH, INFERRED_GRAPH, ONTOLOGY_GRAPH, PREFIXES
from kg.core.report import ValidationReport
from kg.core.results import Result
from kg.core.sparql_text import assigned_variables, template_constants, tokens, zero_length_paths
from kg.engines.base import bounded
from kg.engines.oxigraph import inference
from kg.engines.validation import validate_compiled

ONTOLOGY, DATA, INFERRED = (ox.NamedNode(g) for g in (ONTOLOGY_GRAPH, DATA_GRAPH, INFERRED_GRAPH))


class OxigraphEngine:
    """Ontology, data and inferred triples in named graphs of one Oxigraph store."""

    name = "oxigraph"

    def __init__(self, store: ox.Store | None = None):
        self.store = store if store is not None else ox.Store()
        self.reasoner: str | None = None
        self.exact = Exact()  # the literals Oxigraph would rewrite, as written (see kg.core.loading)
        self.base: str | None = None
        # quads stated by more than one file -> how many (kept only when asked for: the cache's
        # incremental path needs it, kg.engines.oxigraph.delta)
        self.repeated: dict[ox.Quad, int] | None = None

    def load(self, files: Sequence[Path], graph: str, base: str | None = None) -> None:
        self.base = base
        load_files(self.store, files, ox.NamedNode(graph), base, self.exact, self.repeated)

    def triples(self, graph: str) -> list[ox.Triple]:
        """The triples of one named graph, every literal as it was written."""
        quads = self.store.quads_for_pattern(None, None, None, ox.NamedNode(graph))
        return [q.triple for q in self.exact.quads(quads)]

    def infer(self, reasoner: str | None = None) -> int:
        reasoner = reasoner or "rules"
        count = inference.infer(self.store, [ONTOLOGY, DATA], INFERRED, reasoner)
        self.reasoner = reasoner
        return count

    def _dataset(self, graphs: Sequence[str] | None, named: Sequence[str] | None) -> dict[str, object]:
        """The default graph: the union of ``graphs`` (None: the query's FROM). When those are all the
        store's graphs, Oxigraph's union default graph gives the same triples, twice as fast at a
        million triples."""
        dataset: dict[str, object] = {}
        if named is not None:
            dataset["named_graphs"] = [ox.NamedNode(g) for g in named]
        if graphs is None:
            return dataset
        default = [ox.NamedNode(g) for g in graphs]
        if named is None and set(default) == set(self.store.named_graphs()):
            return {"use_default_graph_as_union": True}
        return {**dataset, "default_graph": default}

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
        try:
            dataset = self._dataset(graphs, named)
            answer = self.store.query(text, prefixes=PREFIXES, base_iri=base, **dataset)
        except ValueError as err:  # an invalid graph IRI
            raise QueryError(f"{where}: invalid graph IRI: {err}") from None
        except SyntaxError as err:
            raise QueryError(f"{where}: SPARQL syntax error: {err}") from None
        except OSError as err:  # evaluation errors (e.g. SERVICE, invalid regex)
            raise QueryError(f"{where}: SPARQL evaluation error: {err}") from None
        if isinstance(answer, ox.QueryBoolean):
            return Result("ASK", boolean=bool(answer))
        # Oxigraph's answer must be dropped on the thread that made it: a time-out's traceback would
        # carry it to another, so the error is raised again only once the answer is gone.
        if lazy:  # read on this thread, by the caller (kg.core.producer); literals as written
            if isinstance(answer, ox.QuerySolutions):
                names = [v.value for v in answer.variables]
                fix = self._rewriter(text, names)
                rows = map(tuple, answer)
                return Result("SELECT", names, rows if fix is None else map(fix, rows))
            fix = self._rewriter(text)
            return Result("CONSTRUCT", triples=iter(answer) if fix is None else map(fix, answer))
        late = None
        try:
            if isinstance(answer, ox.QuerySolutions):
                names = [v.value for v in answer.variables]
                # unbound -> None; tuple() is twice as fast as indexing each cell
                rows, cut = bounded(map(tuple, answer), limit, timeout)
                return Result("SELECT", names, self._as_written(text, rows, names), truncated=cut)
            triples, cut = bounded(answer, limit, timeout)
            return Result("CONSTRUCT", triples=self._as_written(text, triples), truncated=cut)
        except QueryTimeout as err:
            late = str(err)
        del answer
        raise QueryTimeout(late)

    def _as_written(self, text: str, found: list, names: list[str] | None = None) -> list:
        """Rows (``names`` given) or triples of an answer, with each literal the store rewrote given
        back as written (:meth:`kg.core.loading.Exact.written`) where the term can only have come from
        the graph: a variable the query does not assign itself (AS, VALUES), no zero-length path
        (which can give back a term of the query), and no literal written in a CONSTRUCT template."""
        if not found:
            return found
        fix = self._rewriter(text, names)
        return found if fix is None else [fix(item) for item in found]

    def _rewriter(self, text: str, names: list[str] | None = None) -> Callable[[object], object] | None:
        """What :meth:`_as_written` does to one row or triple, or None when it would change nothing
        (a streamed answer applies it row by row)."""
        written = self.exact.written(self.store) if self.exact else {}
        if not written:
            return None
        toks = tokens(text)
        if zero_length_paths(toks):
            return None
        if names is None:
            if template_constants(toks):
                return None

            def triple(t: ox.Triple) -> ox.Triple:
                if type(t.object) is ox.Literal:
                    return ox.Triple(t.subject, t.predicate, written.get(t.object, t.object))
                return t

            return triple
        assigned = assigned_variables(toks)
        columns = {i for i, name in enumerate(names) if name not in assigned}

        def row(found: tuple) -> tuple:
            return tuple(written.get(c, c) if i in columns else c for i, c in enumerate(found))

        return row

    def validate(self, shapes: Sequence[Path] | None = None) -> ValidationReport:
        """SHACL compiled to SPARQL on the store; pyshacl for shapes the compiler declines."""
        return validate_compiled(*self._validation(shapes))

    def _validation(self, shapes: Sequence[Path] | None) -> tuple:
        """What the validators take: the store, the asserted graphs, the literal table, the shapes,
        the base IRI and the rdflib copy pyshacl would validate."""
        return (
            self.store,
            [ONTOLOGY, DATA],
            self.exact,
            shapes,
            self.base,
            lambda: self.to_rdflib([ONTOLOGY_GRAPH, DATA_GRAPH]),
        )

    def validate_keeping(
        self,
        shapes: Sequence[Path] | None,
        state: object | None = None,
        added: Sequence[ox.Triple] = (),
        removed: Sequence[ox.Triple] = (),
    ) -> tuple[ValidationReport, object | None]:
        """:meth:`validate`, also giving the state a later validation needs
        (:class:`kg.engines.revalidation.ValidationState`, None if pyshacl ran). Given the state of
        this graph before ``added`` and ``removed`` changed it, only what the change can affect runs
        again; the report is the same."""
        from kg.engines.revalidation import revalidate, validate_with_state

        args = self._validation(shapes)
        if state is None:
            return validate_with_state(*args)
        return revalidate(*args, state, added, removed)

    def to_rdflib(self, graphs: Sequence[str]) -> object:
        return to_rdflib_graph(t for g in graphs for t in self.triples(g))
