"""The one loaded graph: ontology and data files in an engine, in named graphs.

Files on disk -> :func:`load` -> validate / infer / query / export. The ontology (with vocabularies) and
the data sit in separate named graphs; inference, when asked for, fills a third. All SPARQL goes
through :meth:`KnowledgeGraph.query`, with limits as arguments; the engine behind it is one of
:data:`ENGINES` (see :mod:`kg.engines.base`).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import suppress
from dataclasses import replace
from pathlib import Path

import pyoxigraph as ox

from kg.core import bundle, queries
from kg.core.cache import Cache
from kg.core.errors import InputError, QueryError, UsageError
from kg.core.namespaces import (
    BASE,
    DATA_GRAPH,
    GRAPH,
    INFERRED_GRAPH,
    ONTOLOGY_GRAPH,
    PREFIXES,
    SHAPES,
    shorten,
)
from kg.core.producer import Window, produce
from kg.core.queries import Parameter, StoredQuery
from kg.core.report import ValidationReport
from kg.core.results import Result
from kg.core.sources import locate
from kg.core.sparql_text import Token, check, form, has_dataset, iris, on_big_stack, position, with_limit
from kg.engines.base import Engine
from kg.engines.oxigraph import delta, snapshot
from kg.engines.oxigraph.engine import OxigraphEngine
from kg.engines.oxigraph.incremental import Declined
from kg.engines.reference import RdflibEngine
from kg.engines.validation import validate_graph

ONTOLOGY = ox.NamedNode(ONTOLOGY_GRAPH)
DATA = ox.NamedNode(DATA_GRAPH)
INFERRED = ox.NamedNode(INFERRED_GRAPH)

# name -> factory. ``oxigraph`` is the default: faster at every size measured; ``rdflib`` is the
# reference path (rdflib, owlrl, pyshacl).
ENGINES: dict[str, Callable[[], Engine]] = {"oxigraph": OxigraphEngine, "rdflib": RdflibEngine}
DEFAULT_REASONER = "rules"  # the oxigraph engine's (kg.engines.oxigraph.inference)
# what reading a damaged or vanished cache entry raises (the graph is then loaded from the files)
_DAMAGED = (OSError, ValueError, SyntaxError, KeyError, TypeError, AttributeError)


def _engine(name: str, role: str = "engine") -> Engine:
    try:
        return ENGINES[name]()
    except KeyError:
        raise UsageError(f"unknown {role} {name!r} (known: {', '.join(ENGINES)})") from None


class KnowledgeGraph:
    """Ontology, vocabularies and data, loaded once; inference computed on first need.

    With a cache (:mod:`kg.core.cache`), a graph whose inputs were seen before starts from the saved
    snapshot, and only when something needs the engine; answers kept there need no engine at all.
    """

    def __init__(
        self,
        engine: Engine | None,
        ontology_files: Sequence[Path],
        data_files: Sequence[Path],
        *,
        cache: Cache | None = None,
        loader: Callable[[], Engine] | None = None,
        reasoner: str | None = None,
    ):
        self._engine = engine
        self._loader = loader
        self._reasoner = reasoner  # the snapshot's, until the engine is loaded
        self.cache = cache
        # set when the engine was brought from another cached entry's inputs by a small change
        # (kg.engines.oxigraph.delta): that entry's folder and the asserted triples gained and lost
        self.changed_from: tuple[Path, list[ox.Triple], list[ox.Triple]] | None = None
        self.declined: str | None = None  # why a change could not be applied (loaded from the files)
        self.ontology_files = list(ontology_files)
        self.data_files = list(data_files)

    @property
    def engine(self) -> Engine:
        """The engine, loaded from the cache's snapshot on first need."""
        if self._engine is None:
            assert self._loader is not None
            self._engine = self._loader()
        return self._engine

    @engine.setter
    def engine(self, engine: Engine) -> None:
        self._engine = engine

    @classmethod
    def load(
        cls,
        data: Sequence[str | Path] | None = None,
        ontology: Sequence[str | Path] | None = None,
        engine: str = "oxigraph",
        base: str | None = None,
        cache: bool = False,
        build: bool = True,
    ) -> KnowledgeGraph:
        """Load the project's (or bundled) ontology and data, or the given files or folders instead.

        Relative IRIs resolve against each file's ``file://`` IRI, or against ``base`` if given.
        ``cache=True`` (oxigraph engine): use and fill the cache folder (:mod:`kg.core.cache`): inputs
        seen before open their snapshot instead of being parsed and inferred again, inputs a small
        change away from ones seen before open that snapshot and apply the change, and answers to
        SELECT and ASK queries are kept there. ``build=False``: use the cache only in those two cases;
        new inputs are loaded from the files and add nothing to the cache (validation needs no
        inference, and a new entry would need it)."""
        ontology_files = bundle.expand(ontology) if ontology else bundle.ontology_files()
        data_files = bundle.expand(data) if data else bundle.data_files()
        store = None
        if cache and engine == "oxigraph" and (build or Cache.has_entries()):
            store = Cache.for_inputs(engine, base, ontology_files, data_files)
            if store.exists():
                try:
                    reasoner = snapshot.reasoner(store.entry)
                except _DAMAGED:
                    store.discard()  # a damaged entry is built again
                else:
                    return cls(
                        None,
                        ontology_files,
                        data_files,
                        cache=store,
                        loader=lambda: _reopen(store, ontology_files, data_files, base, reasoner),
                        reasoner=reasoner,
                    )
            near = store.nearest()
            try:
                reasoner = None if near is None else snapshot.reasoner(near[0])
            except _DAMAGED:
                near = None
            if near is not None:
                graph = cls(None, ontology_files, data_files, cache=store, reasoner=reasoner)
                graph._loader = lambda: graph._from_nearest(near, base)
                return graph
            if not build:
                store = None
        backend = _engine(engine)
        if store is not None and isinstance(backend, OxigraphEngine):
            backend.repeated = {}  # for a later change to be applied to this graph's entry
        backend.load(ontology_files, ONTOLOGY_GRAPH, base)
        backend.load(data_files, DATA_GRAPH, base)
        return cls(backend, ontology_files, data_files, cache=store)

    def _from_nearest(self, near: tuple[Path, dict, dict], base: str | None) -> Engine:
        """The engine of the nearest cached entry with the change to these inputs applied, saved as
        this entry (a layer over that one's snapshot); from the files if the change is declined."""
        folder, before, after = near
        assert self.cache is not None
        try:
            engine = snapshot.load(folder)
            gained, lost, plus, minus = delta.apply(engine, before, after, self.cache.old_content, base)
        except (Declined, *_DAMAGED) as err:
            self.declined = str(err) or type(err).__name__
            reasoner = self._reasoner
            engine = OxigraphEngine()
            engine.repeated = {}
            engine.load(self.ontology_files, ONTOLOGY_GRAPH, base)
            engine.load(self.data_files, DATA_GRAPH, base)
            if reasoner is not None:
                engine.infer(reasoner)
            self._engine = engine
            self._save()
            return engine
        self.changed_from = (folder, gained, lost)
        if engine.reasoner == DEFAULT_REASONER:
            try:
                with self.cache.building() as tmp:
                    snapshot.save_layer(engine, folder, tmp, plus, minus)
                self.cache.keep_sources()
            except OSError:
                self.cache = None
        return engine

    @property
    def store(self) -> ox.Store:
        """The Oxigraph store of the default engine (for engine-level tools and tests)."""
        if not isinstance(self.engine, OxigraphEngine):
            raise UsageError(f"the {self.engine.name} engine has no Oxigraph store")
        return self.engine.store

    def __len__(self) -> int:
        """Number of asserted triples (ontology and data)."""
        return len(self.triples(ONTOLOGY)) + len(self.triples(DATA))

    # --- inference --------------------------------------------------------------------------

    @property
    def reasoner(self) -> str | None:
        """The reasoner whose conclusions the inferred graph holds (None before inference)."""
        return self._reasoner if self._engine is None else self._engine.reasoner

    def infer(self, reasoner: str | None = None) -> int:
        """(Re)compute the inferred graph with ``reasoner`` (the engine's default if None)."""
        count = self.engine.infer(reasoner)
        self._save()
        return count

    def graphs(self, *, inferred: bool = False) -> list[ox.NamedNode]:
        """The named graphs that make up the default graph of a query or export."""
        if inferred:
            if self.reasoner is None:
                self.engine.infer()
                self._save()
            return [ONTOLOGY, DATA, INFERRED]
        return [ONTOLOGY, DATA]

    def _save(self) -> None:
        """Save the graph into the cache once it holds the default reasoner's inferences."""
        if self.cache is None or self.cache.exists() or self.reasoner != DEFAULT_REASONER:
            return
        if not isinstance(self._engine, OxigraphEngine):
            return
        try:
            with self.cache.building() as folder:
                snapshot.save(self._engine, folder)
            self.cache.keep_sources()
        except OSError:
            self.cache = None  # a cache that cannot be written is no cache; the answer stands

    def triples(self, graph: ox.NamedNode | str) -> list[ox.Triple]:
        """The triples of one named graph."""
        return self.engine.triples(graph.value if isinstance(graph, ox.NamedNode) else graph)

    # --- queries ----------------------------------------------------------------------------

    def query(
        self,
        query: str | StoredQuery,
        params: Mapping[str, object] | None = None,
        *,
        infer: bool = True,
        lang: str = "nl",
        graphs: Sequence[ox.NamedNode | str] | None = None,
        named_graphs: Sequence[ox.NamedNode | str] | None = None,
        base: str | None = None,
        limit: int | None = None,
        timeout: float | None = None,
        allow_service: Sequence[str] = (),
        offset: int = 0,
        stream: bool = False,
    ) -> Result:
        """Run a stored query (by name, ``.rq`` path or StoredQuery) or SPARQL text.

        ``params`` are validated and bound as typed RDF terms; ``lang`` binds ``?__lang`` where a
        query has it. The default graph is the ontology, data and inferred graphs (``infer=False``:
        asserted triples only), or the query's own FROM / FROM NAMED, or ``graphs`` and
        ``named_graphs`` when given (they override FROM, as the SPARQL 1.1 Protocol's dataset
        parameters do). Relative IRIs in the query resolve against ``base``.

        Limits are arguments of this one path: ``limit`` goes into the query as its LIMIT and caps the
        rows or triples (``Result.truncated`` says if it cut); ``timeout`` in seconds stops the answer
        (QueryTimeout). Too long or too deeply nested text, and ``SERVICE`` to an endpoint not
        starting with one of ``allow_service``, are refused before anything runs
        (:func:`kg.core.sparql_text.check`); the engine runs on a large stack.

        Pages: ``offset`` skips that many rows (or triples) of the answer first, so ``offset=k * n,
        limit=n`` is page ``k + 1`` of ``n`` rows (the query's LIMIT becomes ``offset + limit + 1``, so
        the engine stops there). ``stream=True`` gives the rows (or triples) as an iterator read as the
        engine produces them (:mod:`kg.core.producer`): memory does not grow with the answer, and
        ``Result.truncated`` is known once it is read.
        """
        if offset < 0 or (limit is not None and limit < 0):
            raise UsageError("offset and limit must not be negative")
        stored = resolve(query)
        text = self.bound(stored, params, lang)
        where = str(stored.path or stored.name)
        try:
            toks = check(text, allow_service=allow_service, prefixes=PREFIXES)
        except QueryError as err:
            raise QueryError(f"{where}: {err}") from None
        whole, kind = text, form(toks)
        if limit is not None and kind == "SELECT":
            # one more than asked tells whether it cut; CONSTRUCT and DESCRIBE stop after limit + 1
            # triples instead (a LIMIT counts solutions, and one solution may give many triples)
            text = with_limit(text, toks, offset + limit + 1)
        names = None if named_graphs is None else [getattr(g, "value", g) for g in named_graphs]
        if graphs is None and (named_graphs is not None or not has_dataset(toks)):
            graphs = self.graphs(inferred=infer and stored.inference)
        default = None if graphs is None else [getattr(g, "value", g) for g in graphs]

        def run() -> Result:
            upto = None if limit is None else offset + limit
            result = self.engine.query(
                text, default, named=names, base=base, limit=upto, timeout=timeout, where=where
            )
            if offset:
                result.rows, result.triples = result.rows[offset:], result.triples[offset:]
            return result

        try:
            result = None
            if kind in ("SELECT", "ASK") and timeout is None:  # answers kept in the cache
                result = self._cached(kind, whole, default, names, base, where, offset, limit, stream)
            if result is None:
                result = (
                    self._stream(text, default, names, base, where, Window(offset, limit, timeout))
                    if stream
                    else on_big_stack(run)
                )
        except QueryError as err:
            located = queries.syntax_error(stored.text)  # the position in the text as written
            if located is not None and "syntax error" in str(err):
                raise QueryError(f"{where}: SPARQL syntax error: {located}") from None
            raise
        if result.form == "CONSTRUCT" and stored.form == "DESCRIBE":
            result.form = "DESCRIBE"
        if stored.path is None or stored.path.parent != bundle.queries_dir():
            result.warnings = self.unknown_terms(stored.text)
        return result

    def _cached(
        self,
        kind: str,
        text: str,
        default: list | None,
        names: list | None,
        base: str | None,
        where: str,
        offset: int,
        limit: int | None,
        stream: bool,
    ) -> Result | None:
        """The answer from the cache, computed whole and kept there first if it is not (SELECT and ASK
        only); None when there is no cache for this graph yet or the answer is too long to keep.

        The key is the query text as bound (without the page's LIMIT: a page is a slice of the whole
        answer), the dataset, the base IRI and the reasoner, within the entry of these inputs."""
        cache = self.cache
        if cache is None or not cache.exists():
            return None
        key = cache.answer_key(kind, text, default, names, base, self.reasoner)
        try:
            answers = cache.answer(key, offset, limit)
            if answers is None and kind == "ASK":
                asked = on_big_stack(
                    lambda: self.engine.query(text, default, named=names, base=base, where=where)
                )
                answers = cache.keep_answer(key, ["boolean"], [(ox.Literal(bool(asked.boolean)),)])
            elif answers is None:
                header = self._stream(text, default, names, base, where, Window())
                answers = cache.keep_answer(key, header.variables, header.rows)
            if answers is None:
                return None
            if kind == "ASK":
                return Result("ASK", boolean=next(answers.rows())[0].value == "true")
            rows = answers.rows(offset, limit)
            cut = limit is not None and offset + limit < answers.count
            whole = answers if offset == 0 and limit is None else None  # its output is kept too
            return Result(
                "SELECT", answers.variables, rows if stream else list(rows), truncated=cut, kept=whole
            )
        except OSError:  # the cache went away (kg cache clear) or cannot be written: no cache
            self.cache = None
            return None

    def _stream(
        self,
        text: str,
        default: list | None,
        names: list | None,
        base: str | None,
        where: str,
        window: Window,
    ) -> Result:
        """The answer with its rows or triples as an iterator, read through ``window``."""

        def work() -> tuple[Result, Iterator]:
            answer = self.engine.query(text, default, named=names, base=base, where=where, lazy=True)
            items = iter(answer.rows if answer.form == "SELECT" else answer.triples)
            return Result(answer.form, answer.variables, boolean=answer.boolean), items

        result, items = produce(work, window)

        def read() -> Iterator:
            yield from items
            result.truncated = window.cut

        if result.form == "SELECT":
            result.rows = read()
        elif result.form != "ASK":
            result.triples = read()
        return result

    def unknown_terms(self, text: str) -> list[str]:
        """A warning for each IRI in kg's own namespaces that the query names but neither the ontology
        nor the data mentions (a misspelt ``mi:Initiatve`` silently matches nothing), with the closest
        known term as a suggestion. Shape and graph IRIs are left out."""
        toks = check(text, prefixes=PREFIXES)
        mentioned: dict[str, Token] = {}
        for tok, iri in iris(toks, PREFIXES):
            if iri.startswith(BASE) and not iri.startswith((SHAPES, GRAPH)):
                mentioned.setdefault(iri, tok)
        if not mentioned:
            return []
        terms = " ".join(f"<{iri}>" for iri in mentioned if "<" not in iri and ">" not in iri)
        missing = self._run(
            f"SELECT ?t WHERE {{ VALUES ?t {{ {terms} }} "
            "FILTER NOT EXISTS { ?t ?p ?o } FILTER NOT EXISTS { ?s ?t ?o } FILTER NOT EXISTS { ?s ?p ?t } }",
            False,
        )
        warnings = []
        for iri in sorted((r[0].value for r in missing.rows), key=lambda i: mentioned[i].start):
            namespace = iri[: iri.rstrip("/").rfind("/") + 1]
            known = self._run(
                "SELECT DISTINCT ?t WHERE { { ?t ?p ?o } UNION { ?s ?t ?o } UNION { ?s ?p ?t } "
                f'FILTER (isIRI(?t) && STRSTARTS(STR(?t), "{namespace}")) }}',
                False,
            )
            names = {r[0].value[len(namespace) :]: r[0].value for r in known.rows}
            names = {k: v for k, v in names.items() if k and "/" not in k}
            close = difflib.get_close_matches(iri[len(namespace) :], list(names), n=1, cutoff=0.6)
            line, col = position(text, mentioned[iri].start)
            hint = f" (did you mean {shorten(names[close[0]])}?)" if close else ""
            warnings.append(
                f"line {line}, column {col}: {mentioned[iri].text} is not a term of kg's ontology "
                f"or data, so it matches nothing{hint}"
            )
        return warnings

    def ask(self, text: str, *, inferred: bool = False) -> bool:
        """The answer to a SPARQL ASK."""
        return bool(self.query(text, infer=inferred).boolean)

    def values(self, stored: StoredQuery, name: str) -> list[str]:
        """The allowed values of a parameter that has a ``values`` pattern, from the graph."""
        param = stored.parameter(name)
        if not param.values:
            return []
        result = self._run(stored.values_query(param), stored.inference)
        return [row[0].value for row in result.rows if row[0] is not None]

    def _run(self, text: str, inferred: bool) -> Result:
        default = [g.value for g in self.graphs(inferred=inferred)]
        kind = form(check(text, prefixes=PREFIXES))
        cached = self._cached(kind, text, default, None, None, "<values>", 0, None, False)
        return cached if cached is not None else self.engine.query(text, default)

    def _allowed(self, stored: StoredQuery, param: Parameter, raw: str) -> bool:
        """Whether ``raw`` is an allowed value exactly (one lookup; the full list only on a miss)."""
        return bool(self._run(stored.allowed_query(param, raw), stored.inference).boolean)

    def choices(self, stored: StoredQuery, name: str) -> dict[str, set[str]]:
        """Each allowed value of a parameter with the names it may be given by: itself and the
        ``?label`` its ``values`` pattern binds (preferred and alternative labels in any language)."""
        param = stored.parameter(name)
        if not param.values:
            return {}
        text = stored.values_query(param, labels=True)
        return queries.choices(self._run(text, stored.inference).rows)

    def bound(self, stored: StoredQuery, params: Mapping[str, object] | None = None, lang: str = "nl") -> str:
        """The query text with ``params`` validated and bound (for this graph or a remote endpoint)."""
        values = {k: str(v) for k, v in (params or {}).items()}
        return queries.bind(stored.text, self._terms(stored, values, lang))

    def _terms(
        self, stored: StoredQuery, values: dict[str, str], lang: str
    ) -> dict[str, ox.NamedNode | ox.Literal]:
        """Validate the raw parameter values against this graph; return variable name -> RDF term."""
        return queries.terms(
            stored,
            values,
            lang,
            lambda param, raw: self._allowed(stored, param, raw),
            lambda name: self.choices(stored, name),
        )

    # --- validation and conversion ----------------------------------------------------------

    def to_rdflib(self, *, inferred: bool = False) -> object:
        """An rdflib.Graph with the asserted (and optionally inferred) triples."""
        return self.engine.to_rdflib([g.value for g in self.graphs(inferred=inferred)])

    def validate(
        self, shapes: Sequence[str | Path] | None = None, engine: str | None = None
    ) -> ValidationReport:
        """Validate ontology, vocabularies and data against the SHACL shapes.

        ``engine`` is the graph's own unless named: ``"oxigraph"`` runs the shapes compiled to SPARQL
        (pyshacl for what the compiler declines), ``"rdflib"`` runs pyshacl.
        """
        files = [Path(p) for p in shapes] if shapes else None
        base = getattr(self.engine, "base", None)
        if engine is None or engine == self.engine.name:
            if self.cache is not None and isinstance(self.engine, OxigraphEngine):
                return self._placed(self._validate_kept(self.engine, files), base)
            return self._placed(self.engine.validate(files), base)
        other = _engine(engine, "validation engine")
        if isinstance(other, OxigraphEngine):
            other.load(self.ontology_files, ONTOLOGY_GRAPH, base)
            other.load(self.data_files, DATA_GRAPH, base)
            return self._placed(other.validate(files), base)
        return self._placed(validate_graph(self.to_rdflib(), files, base), base)

    def _validate_kept(self, engine: OxigraphEngine, files: list[Path] | None) -> ValidationReport:
        """Validation with its state kept in the cache entry: this graph's state (nothing changed),
        or that of the entry the graph was changed from (only what the change can affect runs
        again), else a full run; the new state is kept for the next time."""
        from kg.engines.revalidation import ValidationState, shapes_key

        assert self.cache is not None
        name = f"validation-{shapes_key(files, engine.base)}.state"
        state, added, removed = None, [], []
        try:
            if (self.cache.entry / name).is_file():
                state = ValidationState.load(self.cache.entry / name)
            elif self.changed_from is not None and (self.changed_from[0] / name).is_file():
                folder, added, removed = self.changed_from
                state = ValidationState.load(folder / name)
        except (OSError, InputError):
            state, added, removed = None, [], []  # a damaged or vanished state: validate in full
        report, kept = engine.validate_keeping(files, state, added, removed)
        if kept is not None and self.cache.exists():
            with suppress(OSError):  # only a shortcut for next time
                kept.save(self.cache.entry / name)
        return report

    def _placed(self, report: ValidationReport, base: str | None) -> ValidationReport:
        """The report with each finding's initiative and the file and line of its focus node.

        An initiative is the focus node itself or a thing one triple away from it (its area, its
        participation, its source passage); its name comes in the report's ``labels``. Files are
        read again only for the nodes that have findings (kg.core.sources)."""
        if not report.findings:
            return report
        focuses = sorted({f.focus for f in report.findings if _iri(f.focus)})
        owner: dict[str, str] = {}
        patterns = (  # one query each: Oxigraph joins each with the VALUES first
            "?f a mi:Initiative BIND (?f AS ?i)",
            "?i a mi:Initiative ; ?p ?f",
            "?f ?p ?i . ?i a mi:Initiative",
        )
        for start in range(0, len(focuses), 500):
            values = " ".join(str(ox.NamedNode(iri)) for iri in focuses[start : start + 500])
            for pattern in patterns:
                answer = self.query(
                    f"SELECT ?f ?i WHERE {{ VALUES ?f {{ {values} }} {pattern} }}", infer=False
                )
                found: dict[str, str] = {}
                for row in answer:
                    found[row["f"]] = min(found.get(row["f"], row["i"]), row["i"])
                for focus, initiative in found.items():
                    owner.setdefault(focus, initiative)  # itself first, then the least IRI
        initiatives = sorted(set(owner.values()))
        for start in range(0, len(initiatives), 500):
            values = " ".join(str(ox.NamedNode(iri)) for iri in initiatives[start : start + 500])
            answer = self.query(
                f"SELECT ?i ?n WHERE {{ VALUES ?i {{ {values} }} ?i skos:prefLabel ?n }} ORDER BY ?n",
                infer=False,
            )
            for row in answer:
                report.labels.setdefault(row["i"], str(row["n"]))
        places = locate(set(focuses) | set(owner.values()), self.data_files + self.ontology_files, base)
        shown = {iri: (_shown_path(path), line) for iri, (path, line) in places.items()}
        report.places = {iri: f"{path}:{line}" for iri, (path, line) in shown.items()}
        report.findings = [
            replace(
                f,
                file=shown[f.focus][0] if f.focus in shown else None,
                line=shown[f.focus][1] if f.focus in shown else None,
                initiative=owner.get(f.focus),
            )
            for f in report.findings
        ]
        return report


def _shown_path(path: Path) -> str:
    """A path as a steward reads it: relative to the working folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _iri(text: str) -> bool:
    """Whether ``text`` is an absolute IRI (a finding's focus may also be a literal's value)."""
    if text.startswith("_:"):
        return False
    try:
        ox.NamedNode(text)
    except ValueError:
        return False
    return True


def _reopen(
    store: Cache, ontology_files: list[Path], data_files: list[Path], base: str | None, reasoner: str | None
) -> Engine:
    """The engine from the cache's snapshot; from the files (inferred with the snapshot's reasoner, as
    the graph already said) if the entry went meanwhile (evicted or cleared by another command)."""
    try:
        return snapshot.load(store.entry)
    except _DAMAGED:
        store.discard()  # damaged (or gone): built again by the next command
        backend = OxigraphEngine()
        backend.load(ontology_files, ONTOLOGY_GRAPH, base)
        backend.load(data_files, DATA_GRAPH, base)
        if reasoner is not None:
            backend.infer(reasoner)
        return backend


def resolve(query: str | StoredQuery) -> StoredQuery:
    """A stored query by name or ``.rq`` path, or SPARQL text parsed as an unnamed one."""
    if isinstance(query, StoredQuery):
        return query
    if any(c in query for c in " \n{") and not query.endswith(".rq"):
        return queries.parse(query, "<query>")
    return queries.get(query)


def load(
    data: Sequence[str | Path] | None = None, engine: str = "oxigraph", base: str | None = None
) -> KnowledgeGraph:
    """Load the bundled ontology with the bundled data (or the given data files).

    ``engine="oxigraph"`` (the default, faster at every size measured) or ``"rdflib"``, the reference
    path (rdflib, owlrl, pyshacl; see :mod:`kg.engines.reference`). Relative IRIs in the files
    resolve against each file's ``file://`` IRI, or against ``base``.
    """
    return KnowledgeGraph.load(data, engine=engine, base=base)
