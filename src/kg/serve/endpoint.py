"""What the SPARQL endpoint, the web API and the linked-data pages answer, computed in a worker process
(see kg.serve.workers). Every answer is an ``Answer`` the HTTP layer only copies, or a long query
answer, a :class:`Streamed` one, which the worker writes as the server sends it.

SPARQL 1.1 Protocol (W3C Recommendation 2013-03-21), section 2.1: the RDF dataset comes from the
``default-graph-uri`` / ``named-graph-uri`` parameters if given (they override FROM and FROM NAMED,
section 2.1.4), else from the query's FROM / FROM NAMED, else it is kg's default dataset: the ontology,
data and inferred graphs as the default graph, every graph as a named graph. Relative IRIs resolve
against the endpoint's IRI. Rows beyond ``max_rows`` are never computed: the limit goes into the query.

Query answers are read as the engine produces them. One that ends within :data:`AHEAD` rows (or
triples) is answered whole, with every header exact; a longer one is a :class:`Streamed` answer, written
row by row while the server sends it (kg.serve.workers), so memory does not grow with its rows. Its
head cannot say whether ``max_rows`` will cut it: it carries ``X-KG-Row-Limit`` instead of
``X-KG-Truncated``. A page is read whole first (it is at most its page size), so its Link header is exact.
"""

from __future__ import annotations

import io
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote, urlencode

import pyoxigraph as ox

from kg.core import queries
from kg.core.errors import KgError, ParameterError, QueryError
from kg.core.namespaces import DCT, DEF, PREFIXES, RDFS, SD, SKOS, VOID
from kg.core.results import GRAPH_FORMATS, Result
from kg.graph import KnowledgeGraph
from kg.publish import schema
from kg.serve import conneg, pages
from kg.serve.contract import Answer, NotConforming, Settings

JSON = "application/json"
HTML = "text/html; charset=utf-8"
SCHEMA_MEDIA = ("text/html", "application/json", "text/plain", "text/turtle")


def error(status: int, message: str, headers: dict[str, str] | None = None) -> Answer:
    """An error as JSON: ``{"error": message}``."""
    return Answer(status, JSON, json.dumps({"error": message}, ensure_ascii=False).encode(), headers or {})


def failure(err: BaseException) -> Answer:
    """The error answer for an exception raised while answering (MemoryError is the caller's)."""
    if isinstance(err, ParameterError):  # a suggested setting as a URL query, not as ``-p name=value``
        return error(400, err.worded(lambda name, value: "?" + urlencode({name: value})))
    if isinstance(err, QueryError):
        return error(404 if "unknown query" in str(err) else 400, str(err))
    if isinstance(err, KgError):
        return error(400, str(err))
    return error(500, f"{type(err).__name__}: {err}")  # a bug: still an answer, never a dead worker


def preload(handler: Handler) -> None:
    """Answer one request of every kind and format, whole and streamed, so that everything a worker
    needs is imported and read before it is locked down (it can open no files after that)."""
    queries.stored()
    base = "http://localhost/sparql"
    for ahead in (AHEAD, 0):
        handler.ahead = ahead
        for media in [*conneg.RESULTS, *conneg.GRAPHS]:
            for text in ("SELECT * WHERE { ?s ?p ?o } LIMIT 2", "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 2"):
                answer = handler.op_sparql(text, media, base)
                if isinstance(answer, Streamed):
                    answer.write(io.BytesIO())
            handler.op_sparql("ASK {}", media, base)
    handler.ahead = AHEAD
    for media in [*conneg.RESULTS, *conneg.GRAPHS]:
        handler.op_description(base, media)
    for name in ("initiatives",):
        handler.op_stored(name, {}, None)
    handler.op_home("nl")
    for media in ("text/html", *conneg.GRAPHS):
        handler.op_describe(DEF + "Initiative", media, "en")
    for media in SCHEMA_MEDIA:
        for lang in pages.LANGUAGES:
            handler.op_schema(media, lang)


PAGE_SIZE = 100  # rows per page of a stored query with no '#+ pagination' of its own
AHEAD = 1000  # rows (or triples) read before the head is sent: a shorter answer is sent whole


@dataclass
class Streamed:
    """A query answer sent as it is computed: ``head`` (an Answer without body) goes first, then
    :meth:`write` writes the body; :meth:`trailers` are the headers known only at its end."""

    head: Answer
    result: Result  # the engine's streamed answer: ``truncated`` is known once it has been read
    body: Result  # what is written: the rows (or triples) read ahead, then the rest of ``result``
    fmt: str
    ended: bool  # whether the answer ended within the rows read ahead (its head is then exact)
    max_rows: int

    def write(self, out: BinaryIO) -> None:
        """Write the body to ``out`` as the rows come; the query is stopped if writing fails."""
        try:
            self.body.write(out, self.fmt)
        finally:
            self.close()

    def trailers(self) -> dict[str, str]:
        """X-KG-Truncated if the row limit cut the answer and its head could not say so."""
        return {} if self.ended else truncation(self.result, self.max_rows)

    def close(self) -> None:
        """Stop the query (its producer thread) if it is still running."""
        _close(self.result)


def _close(result: Result) -> None:
    for items in (result.rows, result.triples):
        close = getattr(items, "close", None)
        if close is not None:
            close()


def truncation(result: Result, max_rows: int) -> dict[str, str]:
    """The X-KG-Truncated header of an answer cut to ``max_rows``, if it was."""
    if not result.truncated:
        return {}
    what = "triples" if result.form in ("CONSTRUCT", "DESCRIBE") else "rows"
    return {"X-KG-Truncated": f"more than {max_rows} {what}; cut to {max_rows}"}


def page_links(name: str, params: dict[str, str], page: int, more: bool) -> str:
    """RFC 8288 Link header values (section 3) for the pages around ``page`` of a stored query."""

    def target(number: int) -> str:
        return f"/api/queries/{quote(name)}?" + urlencode({**params, "page": str(number)})

    links = (
        [(1, "first")] + ([(page - 1, "prev")] if page > 1 else []) + ([(page + 1, "next")] if more else [])
    )
    return ", ".join(f'<{target(number)}>; rel="{rel}"' for number, rel in links)


class Handler:
    """Answers requests against one loaded graph (with inference) and the extra named graphs."""

    STREAMED = frozenset({"sparql", "stored"})  # the operations whose answers may be Streamed
    ahead = AHEAD

    def __init__(self, graph: KnowledgeGraph, settings: Settings):
        self.graph, self.settings, self.max_rows = graph, settings, settings.max_rows
        self.schemas: dict[str, schema.Schema] = {}

    @classmethod
    def load(cls, settings: Settings) -> Handler:
        graph = KnowledgeGraph.load(list(settings.data) if settings.data else None, base=settings.base)
        if settings.validate:  # a public endpoint serves only data that passed its own shapes
            report = graph.validate()
            if not report.conforms:
                raise NotConforming(report.text("en"))
        graph.infer()
        for iri, path in settings.named_graphs:
            graph.engine.load([Path(path)], iri, settings.base)
        handler = cls(graph, settings)
        preload(handler)
        return handler

    def handle(self, op: str, args: dict) -> Answer | Streamed:
        """The answer to one request (``op`` names a method ``op_<op>``); errors become error answers."""
        try:
            return getattr(self, f"op_{op}")(**args)
        except MemoryError:
            raise
        except Exception as err:
            return failure(err)

    # --- SPARQL -------------------------------------------------------------------------------
    def op_sparql(
        self,
        query: str,
        accept: str | None,
        base: str,
        default_graphs: list[str] | None = None,
        named_graphs: list[str] | None = None,
    ) -> Answer | Streamed:
        dataset = default_graphs or named_graphs  # the protocol's dataset replaces FROM / FROM NAMED
        result = self.graph.query(
            queries.sparql(query),  # plain SPARQL only: never a stored query's name or a file
            graphs=(default_graphs or []) if dataset else None,
            named_graphs=(named_graphs or []) if dataset else None,
            base=base,
            limit=self.max_rows,
            allow_service=self.settings.allow_service,
            stream=True,
        )
        return self.answer(result, accept)

    def negotiate(self, form: str, accept: str | None) -> tuple[str, str] | Answer:
        """The media type and kg format name for a ``form`` answer, or the 406 answer."""
        if form in ("SELECT", "ASK"):
            offers = list(conneg.RESULTS)
            media = conneg.negotiate(accept, offers)
            if media is None:
                return error(406, "acceptable result formats: " + ", ".join(offers))
            return media, conneg.RESULTS[media]
        media = conneg.negotiate(accept, list(conneg.GRAPHS))
        if media is None:
            return error(406, f"acceptable RDF formats for {form} results: " + ", ".join(conneg.GRAPHS))
        return media, conneg.GRAPHS[media]

    def serialize(self, result: Result, accept: str | None) -> Answer:
        """A whole query answer in the negotiated format (the query was already cut to ``max_rows``)."""
        chosen = self.negotiate(result.form, accept)
        if isinstance(chosen, Answer):
            return chosen
        media, fmt = chosen
        headers = truncation(result, self.max_rows)
        if result.form in ("SELECT", "ASK"):
            return Answer(200, media, result.serialize(fmt), headers)
        return Answer(200, media, rdf(result.triples, fmt), headers)

    def answer(
        self, result: Result, accept: str | None, *, page: tuple[str, dict, int, int] | None = None
    ) -> Answer | Streamed:
        """A streamed ``result`` whole if it ends within :attr:`ahead` rows, else as a Streamed answer.
        A ``page`` (name, parameters, number, size) is read to its end first, for its Link header."""
        chosen = self.negotiate(result.form, accept)
        if isinstance(chosen, Answer) or result.form == "ASK":
            _close(result)
            return chosen if isinstance(chosen, Answer) else self.serialize(result, accept)
        media, fmt = chosen
        graph = result.form in ("CONSTRUCT", "DESCRIBE")
        items: Iterator = iter(result.triples if graph else result.rows)
        read = self.ahead if page is None else max(page[3], self.ahead)
        try:
            first = list(itertools.islice(items, read + 1))
        except BaseException:
            _close(result)
            raise
        ended = len(first) <= read  # then result.truncated is known
        headers = {}
        if page is not None:
            name, params, number, _ = page
            headers["Link"] = page_links(name, params, number, result.truncated)
            result.truncated = False  # a page is whole: the Link header says what follows
        if ended and len(first) <= self.ahead:
            if graph:
                result.triples = first
            else:
                result.rows = first
            answer = self.serialize(result, media)
            answer.headers.update(headers)
            return answer
        if ended:
            headers.update(truncation(result, self.max_rows))
        else:
            headers["X-KG-Row-Limit"] = str(self.max_rows)
        rest = itertools.chain(first, items)
        body = Result(result.form, result.variables)
        if graph:
            body.triples = rest
        else:
            body.rows = rest
        head = Answer(200, media, b"", headers, streamed=True)
        return Streamed(head, result, body, fmt, ended, self.max_rows)

    def op_description(self, endpoint: str, accept: str | None) -> Answer:
        """The SPARQL 1.1 Service Description (W3C Recommendation 2013-03-21) of the endpoint."""
        formats = [
            "SPARQL_Results_JSON",
            "SPARQL_Results_XML",
            "SPARQL_Results_CSV",
            "SPARQL_Results_TSV",
            "Turtle",
            "N-Triples",
            "JSON-LD",
            "RDF_XML",
        ]
        features = ["sd:BasicFederatedQuery"] if self.settings.allow_service else []
        graphs = [
            row[0].value
            for row in self.graph.query("SELECT DISTINCT ?g WHERE { GRAPH ?g {} }", graphs=[]).rows
        ]
        count = sum(1 for g in self.graph.graphs(inferred=True) for _ in self.graph.triples(g))
        named = "".join(f" ; sd:namedGraph [ a sd:NamedGraph ; sd:name <{g}> ]" for g in sorted(graphs))
        text = f"""@prefix sd: <{SD}> .
@prefix void: <{VOID}> .
<{endpoint}> a sd:Service ;
    sd:endpoint <{endpoint}> ;
    sd:supportedLanguage sd:SPARQL11Query ;
    {"sd:feature " + ", ".join(features) + " ;" if features else ""}
    {" ; ".join(f"sd:resultFormat <http://www.w3.org/ns/formats/{f}>" for f in formats)} ;
    sd:defaultDataset [ a sd:Dataset ; sd:defaultGraph [ a sd:Graph ; void:triples {count} ]{named} ] .
"""
        triples = [q.triple for q in ox.parse(text.encode(), format=ox.RdfFormat.TURTLE)]
        media = conneg.negotiate(accept, list(conneg.GRAPHS)) or "text/turtle"
        return Answer(200, media, rdf(triples, conneg.GRAPHS[media]), {})

    # --- stored queries -------------------------------------------------------------------------
    def op_stored(
        self,
        name: str,
        params: dict[str, str],
        accept: str | None,
        lang: str = "nl",
        text: str | None = None,
        page: int | None = None,
    ) -> Answer | Streamed:
        """A stored query; with ``text`` (edited in the editor), that text under the query's name and its
        ``#+`` header: the ``?_name`` variables of the text are the parameters, validated and bound like
        the stored query's. The header is the stored file's, never the client's (no client YAML is read).
        With ``page``, that page of the query's ``#+ pagination`` rows (grlc's convention; 100 if it has
        none, at most max-rows), with RFC 8288 Link headers to the first, previous and next pages."""
        stored = queries.stored().get(name)  # stored queries only: never a file named by the client
        if stored is None:
            return error(404, f"unknown query {name!r}")
        if text is not None and not text.strip():
            return error(400, f"the 'query' field is empty: leave it out to run the stored query {name!r}")
        if text is not None and text != stored.text:
            header = [line for line in stored.text.splitlines() if line.startswith("#+")]
            body = [line for line in text.splitlines() if not line.startswith("#+")]
            stored = queries.parse("\n".join([*header, *body]), name)
        if page is None:
            result = self.graph.query(
                stored,
                params,
                lang=lang,
                limit=self.max_rows,
                allow_service=self.settings.allow_service,
                stream=True,
            )
            return self.answer(result, accept)
        size = min(stored.pagination or PAGE_SIZE, self.max_rows)
        result = self.graph.query(
            stored,
            params,
            lang=lang,
            offset=(page - 1) * size,
            limit=size,
            allow_service=self.settings.allow_service,
            stream=True,
        )
        return self.answer(result, accept, page=(name, params, page, size))

    # --- pages ----------------------------------------------------------------------------------
    def op_home(self, lang: str = "nl") -> Answer:
        rows = list(self.graph.query("initiatives", lang=lang))
        return Answer(200, HTML, pages.home(rows, queries.stored(), lang).encode(), {})

    def op_schema(self, accept: str | None, lang: str = "nl") -> Answer:
        """The schema as ``kg schema`` gives it (kg.publish.schema), in the negotiated form."""
        if lang not in self.schemas:
            self.schemas[lang] = schema.schema(self.graph, lang)
        described = self.schemas[lang]
        media = conneg.negotiate(accept, list(SCHEMA_MEDIA))
        if media is None:
            return error(406, "acceptable formats: " + ", ".join(SCHEMA_MEDIA))
        headers = {"Vary": "Accept, Accept-Language"}
        if media == "text/html":
            return Answer(200, HTML, pages.schema_page(schema.table(described), lang).encode(), headers)
        fmt = {"application/json": "json", "text/plain": "table", "text/turtle": "turtle"}[media]
        charset = "; charset=utf-8" if media.startswith("text/") else ""
        return Answer(200, media + charset, schema.render(described, fmt), headers)

    def op_describe(self, iri: str, accept: str | None, lang: str = "nl") -> Answer:
        """A linked-data page: HTML for a browser, RDF for an RDF client (negotiated here, no 303)."""
        try:
            node = ox.NamedNode(iri)
        except ValueError:
            return error(404, f"nothing is known about {iri} (not a valid IRI)")
        graphs = self.graph.graphs(inferred=False)
        about = f"CONSTRUCT {{ {node} ?p ?o }} WHERE {{ {node} ?p ?o }}"
        triples = self.graph.query(about, graphs=graphs).triples
        if not triples:
            return error(404, f"nothing is known about {iri}")
        media = conneg.negotiate(accept, ["text/html", *conneg.GRAPHS])
        if media is None:
            return error(406, "acceptable formats: text/html, " + ", ".join(conneg.GRAPHS))
        if media != "text/html":
            return Answer(200, media, rdf(triples, conneg.GRAPHS[media]), {"Vary": "Accept"})
        pointing = f"SELECT DISTINCT ?s WHERE {{ ?s ?p {node} FILTER isIRI(?s) }}"
        incoming = sorted(row[0].value for row in self.graph.query(pointing, graphs=graphs).rows)
        named = {iri, *incoming, *(t.object.value for t in triples if isinstance(t.object, ox.NamedNode))}
        named |= {t.predicate.value for t in triples}
        labels = {n: label for n in named if (label := self.label(n, lang, graphs))}
        html = pages.resource(iri, triples, labels, incoming, lang)
        return Answer(200, HTML, html.encode(), {"Vary": "Accept, Accept-Language"})

    def label(self, iri: str, lang: str, graphs: list[ox.NamedNode]) -> str | None:
        """The preferred label of ``iri`` in ``lang``, else untagged, else any (skos:prefLabel, then
        rdfs:label, then dct:title)."""
        node = ox.NamedNode(iri)
        for predicate in (SKOS + "prefLabel", RDFS + "label", DCT + "title"):
            labels = f"SELECT ?l WHERE {{ {node} <{predicate}> ?l FILTER isLiteral(?l) }}"
            found = [row[0] for row in self.graph.query(labels, graphs=graphs).rows]
            for wanted in (lang, ""):
                for literal in found:
                    if (literal.language or "") == wanted:
                        return literal.value
            if found:
                return sorted(found, key=lambda lit: lit.language or "")[0].value
        return None


def rdf(triples: list[ox.Triple], fmt: str) -> bytes:
    """Triples in one of kg's RDF formats."""
    if fmt == "jsonld":
        from kg.publish.jsonld import serialize

        return serialize(triples)
    if fmt == "turtle":
        from kg.core.turtle import serialize as turtle

        return turtle(triples).encode("utf-8")
    if fmt == "xml":  # refused (400) at a literal XML 1.0 cannot hold; CR kept (kg.core.xmlchars)
        from kg.core.xmlchars import rdf_xml

        return rdf_xml(triples, PREFIXES)
    return ox.serialize(triples, format=GRAPH_FORMATS[fmt], prefixes=PREFIXES)
