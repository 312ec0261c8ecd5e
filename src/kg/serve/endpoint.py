"""What the SPARQL endpoint and the web API answer, computed in a worker process (see kg.serve.workers).

Every answer is an ``Answer`` (status, media type, body, headers), so the HTTP layer only copies it.
"""

from __future__ import annotations

import json

import pyoxigraph as ox

from kg.core import queries
from kg.core.errors import KgError, ParameterError, QueryError
from kg.core.namespaces import PREFIXES
from kg.core.results import GRAPH_FORMATS, Result
from kg.graph import KnowledgeGraph
from kg.serve import conneg, pages
from kg.serve.answer import Answer

JSON = "application/json"


def _error(status: int, message: str) -> Answer:
    return Answer(status, JSON, json.dumps({"error": message}, ensure_ascii=False).encode(), {})


class Handler:
    """Answers requests against one loaded graph (with inference)."""

    def __init__(self, graph: KnowledgeGraph, max_rows: int):
        self.graph, self.max_rows = graph, max_rows

    def handle(self, op: str, args: dict) -> Answer:
        try:
            return getattr(self, f"op_{op}")(**args)
        except ParameterError as err:
            return _error(400, str(err))
        except QueryError as err:
            return _error(404 if "unknown query" in str(err) else 400, str(err))
        except KgError as err:
            return _error(400, str(err))
        except Exception as err:  # a bug: still an answer, never a dead worker
            return _error(500, f"{type(err).__name__}: {err}")

    # --- SPARQL -------------------------------------------------------------------------------
    def op_sparql(self, query: str, accept: str | None) -> Answer:
        # plain SPARQL only: never a stored query's name or a file path named by the client
        return self.serialize(self.graph.query(queries.sparql(query), limit=self.max_rows), accept)

    def serialize(self, result: Result, accept: str | None) -> Answer:
        """A query answer in the negotiated format (the query was already cut to ``max_rows``)."""
        headers = {}
        if result.truncated:
            headers["X-KG-Truncated"] = f"answer cut to {self.max_rows} rows or triples"
        if result.form in ("SELECT", "ASK"):
            offers = list(conneg.RESULTS)
            media = conneg.negotiate(accept, offers)
            if media is None:
                return _error(406, "acceptable result formats: " + ", ".join(offers))
            return Answer(200, media, result.serialize(conneg.RESULTS[media]), headers)
        media = conneg.negotiate(accept, list(conneg.GRAPHS))
        if media is None:
            return _error(406, "acceptable RDF formats: " + ", ".join(conneg.GRAPHS))
        return Answer(200, media, _rdf(result.triples, conneg.GRAPHS[media]), headers)

    def op_description(self, endpoint: str, accept: str | None) -> Answer:
        """The SPARQL 1.1 Service Description of the endpoint."""
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
        count = sum(1 for g in self.graph.graphs(inferred=True) for _ in self.graph.triples(g))
        text = f"""@prefix sd: <http://www.w3.org/ns/sparql-service-description#> .
@prefix void: <http://rdfs.org/ns/void#> .
<{endpoint}> a sd:Service ;
    sd:endpoint <{endpoint}> ;
    sd:supportedLanguage sd:SPARQL11Query ;
    sd:feature sd:UnionDefaultGraph , sd:BasicFederatedQuery ;
    {" ; ".join(f"sd:resultFormat <http://www.w3.org/ns/formats/{f}>" for f in formats)} ;
    sd:defaultDataset [ a sd:Dataset ; sd:defaultGraph [ a sd:Graph ; void:triples {count} ] ] .
"""
        triples = [q.triple for q in ox.parse(text.encode(), format=ox.RdfFormat.TURTLE)]
        media = conneg.negotiate(accept, list(conneg.GRAPHS)) or "text/turtle"
        return Answer(200, media, _rdf(triples, conneg.GRAPHS[media]), {})

    # --- stored queries -------------------------------------------------------------------------
    def op_stored(self, name: str, params: dict[str, str], accept: str | None, lang: str = "nl") -> Answer:
        stored = queries.stored().get(name)  # stored queries only: never a file named by the client
        if stored is None:
            return _error(404, f"unknown query {name!r}")
        return self.serialize(self.graph.query(stored, params, lang=lang, limit=self.max_rows), accept)

    # --- pages ----------------------------------------------------------------------------------
    def op_home(self) -> Answer:
        rows = list(self.graph.query("initiatives"))
        return Answer(200, "text/html; charset=utf-8", pages.home(rows, queries.stored()).encode(), {})

    def op_describe(self, iri: str, accept: str | None) -> Answer:
        """A linked-data page: HTML for a browser, RDF for an RDF client (no 303: negotiated here)."""
        node = ox.NamedNode(iri)
        about = f"CONSTRUCT {{ {node} ?p ?o }} WHERE {{ {node} ?p ?o }}"
        triples = self.graph.query(about, infer=False).triples
        if not triples:
            return _error(404, f"nothing is known about {iri}")
        media = conneg.negotiate(accept, ["text/html", *conneg.GRAPHS])
        if media is None:
            return _error(406, "acceptable formats: text/html, " + ", ".join(conneg.GRAPHS))
        if media != "text/html":
            return Answer(200, media, _rdf(triples, conneg.GRAPHS[media]), {"Vary": "Accept"})
        labels = {}
        for row in self.graph.query(
            f"SELECT ?o ?label WHERE {{ {node} ?p ?o . ?o skos:prefLabel ?label }}", infer=False
        ).rows:
            labels.setdefault(row[0].value, row[1].value)
        incoming = sorted(
            row[0].value
            for row in self.graph.query(
                f"SELECT DISTINCT ?s WHERE {{ ?s ?p {node} FILTER isIRI(?s) }}", infer=False
            ).rows
        )
        html = pages.resource(iri, triples, labels, incoming)
        return Answer(200, "text/html; charset=utf-8", html.encode(), {"Vary": "Accept"})


def _rdf(triples: list[ox.Triple], fmt: str) -> bytes:
    if fmt == "jsonld":
        from kg.publish.jsonld import serialize

        return serialize(triples)
    if fmt == "turtle":
        from kg.core.turtle import serialize as turtle

        return turtle(triples).encode("utf-8")
    return ox.serialize(triples, format=GRAPH_FORMATS[fmt], prefixes=PREFIXES)
