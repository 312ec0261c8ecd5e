"""What the SPARQL endpoint, the web API and the linked-data pages answer, computed in a worker process
(see kg.serve.workers). Every answer is an ``Answer``, so the HTTP layer only copies it.

SPARQL 1.1 Protocol (W3C Recommendation 2013-03-21), section 2.1: the RDF dataset comes from the
``default-graph-uri`` / ``named-graph-uri`` parameters if given (they override FROM and FROM NAMED,
section 2.1.4), else from the query's FROM / FROM NAMED, else it is kg's default dataset: the ontology,
data and inferred graphs as the default graph, every graph as a named graph. Relative IRIs resolve
against the endpoint's IRI. Rows beyond ``max_rows`` are never computed: the limit goes into the query.
"""

from __future__ import annotations

import json
from pathlib import Path

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


def preload(handler: Handler) -> None:
    """Answer one request of every kind and format, so that everything a worker needs is imported and
    read before it is locked down (it can open no files after that)."""
    queries.stored()
    base = "http://localhost/sparql"
    for media in [*conneg.RESULTS, *conneg.GRAPHS]:
        handler.op_sparql("SELECT * WHERE { ?s ?p ?o } LIMIT 2", media, base)
        handler.op_sparql("CONSTRUCT WHERE { ?s ?p ?o } LIMIT 2", media, base)
        handler.op_sparql("ASK {}", media, base)
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


def page_links(name: str, params: dict[str, str], page: int, more: bool) -> str:
    """RFC 8288 Link header values (section 3) for the pages around ``page`` of a stored query."""
    from urllib.parse import quote, urlencode

    def target(number: int) -> str:
        return f"/api/queries/{quote(name)}?" + urlencode({**params, "page": str(number)})

    links = (
        [(1, "first")] + ([(page - 1, "prev")] if page > 1 else []) + ([(page + 1, "next")] if more else [])
    )
    return ", ".join(f'<{target(number)}>; rel="{rel}"' for number, rel in links)


class Handler:
    """Answers requests against one loaded graph (with inference) and the extra named graphs."""

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

    def handle(self, op: str, args: dict) -> Answer:
        try:
            return getattr(self, f"op_{op}")(**args)
        except ParameterError as err:
            return error(400, str(err))
        except QueryError as err:
            return error(404 if "unknown query" in str(err) else 400, str(err))
        except KgError as err:
            return error(400, str(err))
        except MemoryError:
            raise
        except Exception as err:  # a bug: still an answer, never a dead worker
            return error(500, f"{type(err).__name__}: {err}")

    # --- SPARQL -------------------------------------------------------------------------------
    def op_sparql(
        self,
        query: str,
        accept: str | None,
        base: str,
        default_graphs: list[str] | None = None,
        named_graphs: list[str] | None = None,
    ) -> Answer:
        dataset = default_graphs or named_graphs  # the protocol's dataset replaces FROM / FROM NAMED
        result = self.graph.query(
            queries.sparql(query),  # plain SPARQL only: never a stored query's name or a file
            graphs=(default_graphs or []) if dataset else None,
            named_graphs=(named_graphs or []) if dataset else None,
            base=base,
            limit=self.max_rows,
            allow_service=self.settings.allow_service,
        )
        return self.serialize(result, accept)

    def serialize(self, result: Result, accept: str | None) -> Answer:
        """A query answer in the negotiated format (the query was already cut to ``max_rows``)."""
        headers = {}
        if result.truncated:
            what = "triples" if result.form in ("CONSTRUCT", "DESCRIBE") else "rows"
            headers["X-KG-Truncated"] = f"more than {self.max_rows} {what}; cut to {self.max_rows}"
        if result.form in ("SELECT", "ASK"):
            offers = list(conneg.RESULTS)
            media = conneg.negotiate(accept, offers)
            if media is None:
                return error(406, "acceptable result formats: " + ", ".join(offers))
            return Answer(200, media, result.serialize(conneg.RESULTS[media]), headers)
        media = conneg.negotiate(accept, list(conneg.GRAPHS))
        if media is None:
            return error(
                406, f"acceptable RDF formats for {result.form} results: " + ", ".join(conneg.GRAPHS)
            )
        return Answer(200, media, rdf(result.triples, conneg.GRAPHS[media]), headers)

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
    ) -> Answer:
        """A stored query; with ``text`` (edited in the editor), that text under the query's name and its
        ``#+`` header: the ``?_name`` variables of the text are the parameters, validated and bound like
        the stored query's. The header is the stored file's, never the client's (no client YAML is read).
        With ``page``, that page of the query's ``#+ pagination`` rows (grlc's convention; 100 if it has
        none, at most max-rows), with RFC 8288 Link headers to the first, previous and next pages."""
        stored = queries.stored().get(name)  # stored queries only: never a file named by the client
        if stored is None:
            return error(404, f"unknown query {name!r}")
        if text is not None and text != stored.text:
            header = [line for line in stored.text.splitlines() if line.startswith("#+")]
            body = [line for line in text.splitlines() if not line.startswith("#+")]
            stored = queries.parse("\n".join([*header, *body]), name)
        if page is None:
            result = self.graph.query(
                stored, params, lang=lang, limit=self.max_rows, allow_service=self.settings.allow_service
            )
            return self.serialize(result, accept)
        size = min(stored.pagination or PAGE_SIZE, self.max_rows)
        result = self.graph.query(
            stored,
            params,
            lang=lang,
            offset=(page - 1) * size,
            limit=size,
            allow_service=self.settings.allow_service,
        )
        more = result.truncated
        result.truncated = False  # a page is whole: the Link header says what follows
        answer = self.serialize(result, accept)
        if answer.status == 200:
            answer.headers["Link"] = page_links(name, params, page, more)
        return answer

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
    return ox.serialize(triples, format=GRAPH_FORMATS[fmt], prefixes=PREFIXES)
