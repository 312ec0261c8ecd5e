"""kg on a real triple store: push, query, validate and infer there (Virtuoso, Oxigraph server, Fuseki, ...).

The store holds kg's three named graphs, as locally: ontology, data and inferred triples, under a
graph base IRI (default :data:`kg.core.namespaces.GRAPH`). Every query names its dataset with the
protocol's ``default-graph-uri`` (SPARQL 1.1 Protocol 2.1.4): the asserted graphs, plus the inferred
one when the query may see inference, so a query answers the same on every store and locally,
whatever a store's own default graph is. A query with its own FROM keeps it, as locally.

- :func:`push`: each graph replaced through the Graph Store Protocol (PUT, then POST in chunks).
- :func:`query`: a stored query, its parameters checked against the store and bound as locally.
- :func:`validate`: the shapes compiled to SPARQL (:mod:`kg.engines.oxigraph.shacl`), run as SELECTs
  on the store's asserted graphs: on an Oxigraph server as locally, on any other store in the
  portable dialect (:mod:`kg.engines.shacl_portable`); shapes the compiler declines are an error
  naming them.
- :func:`infer`: the OWL 2 RL rules of :data:`kg.engines.oxigraph.inference.RULES` as SPARQL Updates
  on the store, to a fixpoint, into the inferred graph (blank nodes stay in the store).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from kg.core import queries
from kg.core.errors import UsageError
from kg.core.namespaces import GRAPH, PREFIXES
from kg.core.queries import StoredQuery
from kg.core.report import ValidationReport
from kg.core.results import Result
from kg.core.sparql_text import check, declared_prefixes, has_dataset, prefixes_used, tokens
from kg.graph import KnowledgeGraph, resolve
from kg.stores.client import Client, RemoteError, check_url

__all__ = ["Graphs", "RemoteError", "infer", "push", "pushed", "query", "validate"]
CHUNK = 100_000  # triples per Graph Store request


@dataclass(frozen=True)
class Graphs:
    """The IRIs of kg's three named graphs on a store."""

    base: str = GRAPH

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]*[/#:]", self.base):
            raise UsageError(f"--graph-base {self.base!r}: expected an absolute IRI ending in /, # or :")

    @property
    def ontology(self) -> str:
        return self.base + "ontology"

    @property
    def data(self) -> str:
        return self.base + "data"

    @property
    def inferred(self) -> str:
        return self.base + "inferred"

    def dataset(self, inferred: bool) -> list[str]:
        """The default graph of a query: asserted graphs, and the inferred one if ``inferred``."""
        return [self.ontology, self.data, *([self.inferred] if inferred else [])]


def _ntriples(triples: Sequence[ox.Triple]) -> bytes:
    return "".join(f"{t} .\n" for t in triples).encode("utf-8")


def pushed(
    graph: KnowledgeGraph, names: Graphs = Graphs(), *, inferred: bool = True
) -> list[tuple[str, list[ox.Triple]]]:
    """The graphs :func:`push` writes: (graph IRI on the store, its triples, literals as written)."""
    sources = [
        (names.ontology, graph.triples(graph.graphs()[0])),
        (names.data, graph.triples(graph.graphs()[1])),
    ]
    if inferred:
        sources.append((names.inferred, graph.triples(graph.graphs(inferred=True)[2])))
    return sources


def push(
    graph: KnowledgeGraph, client: Client, store: str, names: Graphs = Graphs(), *, inferred: bool = True
) -> dict[str, int]:
    """Replace the ontology, data (and inferred) graphs on a Graph Store endpoint; triples per graph.

    Each graph is sent in chunks: PUT replaces it with the first, POST adds the rest. A failure
    part-way leaves that graph incomplete, and the error says so. Without ``inferred`` the store's
    inferred graph is deleted, so that no stale conclusions remain. Whether the store then gives the
    literals back as written: :func:`kg.stores.literals.check`."""
    check_url(store)
    counts = {}
    for iri, triples in pushed(graph, names, inferred=inferred):
        for start in range(0, max(len(triples), 1), CHUNK):
            try:
                client.graph(
                    store, iri, "PUT" if start == 0 else "POST", _ntriples(triples[start : start + CHUNK])
                )
            except RemoteError as err:
                partial = (
                    f" (graph {iri} is incomplete: {start} of {len(triples)} triples sent)" if start else ""
                )
                raise RemoteError(f"{err}{partial}") from None
        counts[iri] = len(triples)
    if not inferred:
        try:
            client.graph(store, names.inferred, "DELETE")
        except RemoteError as err:
            if getattr(err, "status", None) != 404:
                raise
    return counts


def _terms_remote(
    client: Client, stored: StoredQuery, names: Graphs, params: Mapping[str, object], lang: str
):
    """Parameters checked against the store's graphs (allowed values), as locally."""

    def run(text: str) -> Result:
        return client.query(text, default_graphs=names.dataset(stored.inference))

    def allowed(param: queries.Parameter, raw: str) -> bool:
        return bool(run(stored.allowed_query(param, raw)).boolean)

    def listing(name: str) -> dict[str, set[str]]:
        return queries.choices(run(stored.values_query(stored.parameter(name), labels=True)).rows)

    values = {k: str(v) for k, v in (params or {}).items()}
    return queries.terms(stored, values, lang, allowed, listing)


def bound(
    client: Client, stored: StoredQuery, names: Graphs, params: Mapping[str, object] | None, lang: str
) -> str:
    """The query text with its parameters checked against the store and bound (as locally)."""
    return queries.bind(stored.text, _terms_remote(client, stored, names, params or {}, lang))


def query(
    stored: StoredQuery | str,
    client: Client,
    params: Mapping[str, object] | None = None,
    *,
    names: Graphs = Graphs(),
    infer: bool = True,
    lang: str = "nl",
    allow_service: Sequence[str] = (),
) -> Result:
    """Run a stored query (or SPARQL text) on the store, on kg's graphs there."""
    stored = resolve(stored)
    text = bound(client, stored, names, params, lang)
    toks = check(text, allow_service=allow_service, prefixes=PREFIXES)
    dataset = None if has_dataset(toks) else names.dataset(infer and stored.inference)
    result = client.query(
        _with_prefixes(text), graph_form=stored.form in ("CONSTRUCT", "DESCRIBE"), default_graphs=dataset
    )
    if result.form == "CONSTRUCT" and stored.form == "DESCRIBE":
        result.form = "DESCRIBE"
    return result


def _with_prefixes(text: str) -> str:
    """``text`` with PREFIX declarations for kg's prefixes it uses but does not declare (kg resolves
    them locally; a store knows only its own)."""
    toks = tokens(text)
    declared, used = declared_prefixes(toks, {}), prefixes_used(toks)
    missing = [p for p in PREFIXES if p not in declared and p in used]
    return "".join(f"PREFIX {p}: <{PREFIXES[p]}>\n" for p in missing) + text


def validate(
    client: Client, names: Graphs = Graphs(), shapes: Sequence[str | Path] | None = None
) -> ValidationReport:
    """Validate the store's ontology and data graphs with the shapes compiled to SPARQL."""
    from kg.engines.validation import validate_with

    def select(text: str) -> tuple[list[str], list[tuple]]:
        result = client.query(text, default_graphs=names.dataset(False))
        return result.variables, result.rows

    select("ASK {}")
    oxigraph = client.server.lower().startswith("oxigraph/")  # kg's own engine: its own dialect
    report = validate_with(select, shapes, portable=not oxigraph)
    report.engine = f"SPARQL on {client.endpoint}"
    return report


def _count(client: Client, graph: str) -> int:
    result = client.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
    return int(result.rows[0][0].value)


def infer(client: Client, update: str, names: Graphs = Graphs()) -> int:
    """Fill the store's inferred graph with SPARQL Updates sent to ``update``; return its size.

    The updates are the OWL 2 RL rules kg runs locally (:data:`kg.engines.oxigraph.inference.RULES`),
    applied until nothing changes; what the asserted graphs hold already is then removed, as
    locally. Nothing is written to the asserted graphs. On stores other than Oxigraph each rule runs
    as one update per binding of its schema part (:func:`_bound_updates`)."""
    from kg.engines.oxigraph.inference import RULES, rule_updates
    from kg.engines.oxigraph.rules import drop_known_update

    check_url(update, "--update-endpoint")
    sources = [ox.NamedNode(names.ontology), ox.NamedNode(names.data)]
    target = ox.NamedNode(names.inferred)
    client.update(f"DROP SILENT GRAPH {target}", update)
    oxigraph = client.server.lower().startswith("oxigraph/")  # plans ?x ?p ?y joins well itself
    updates = rule_updates(sources, target)
    size = -1
    while True:
        for rule, text in zip(RULES, updates, strict=True):
            for bound in [text] if oxigraph else _bound_updates(client, names, rule, text):
                client.update(bound, update)
        now = _count(client, names.inferred)
        if now == size:
            break
        size = now
    client.update(drop_known_update(target, sources), update)
    return _count(client, names.inferred)


def _bound_updates(client: Client, names: Graphs, rule: tuple[str, str, str], text: str) -> list[str]:
    """``text`` (the update of ``rule``: name, head, body) as one update per solution of the body's
    first part, its schema part (``?p rdfs:domain ?c`` in ``?p rdfs:domain ?c . ?x ?p ?y``), with
    those terms written in: the same triples, and Virtuoso 7.2 finds ``?x <p> ?y`` by its index
    where it scans for ``?x ?p ?y`` (prp-dom: 0.4 s instead of 4 s at 1,000 initiatives). Where a
    solution holds a blank node, which SPARQL text cannot name, the rule runs as it is."""
    _, head, body = rule
    schema, _, rest = body.partition(" . ")
    found = sorted(set(re.findall(r"\?\w+", schema)))
    if not rest or not found:
        return [text]
    rows = client.query(
        _with_prefixes(f"SELECT DISTINCT {' '.join(found)} WHERE {{ {schema} }}"),
        default_graphs=names.dataset(True),
    ).rows
    if any(isinstance(term, ox.BlankNode) or term is None for row in rows for term in row):
        return [text]
    start = text.index("INSERT")
    out = []
    for row in rows:
        value = dict(zip(found, row, strict=True))

        def put(part: str, value: dict = value) -> str:
            return re.sub(
                r"\?\w+", lambda m: str(value[m.group(0)]) if m.group(0) in value else m.group(0), part
            )

        where = text.index(" WHERE {")
        insert = text[start:where].replace(f"{{ {head} }}", f"{{ {put(head)} }}")
        out.append(f"{text[:start]}{insert} WHERE {{ {put(rest)} }}")
    return out
