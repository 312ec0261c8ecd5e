"""The SPARQL 1.1 Protocol (W3C Recommendation 2013-03-21) for queries, against kg serve.

Runs every query-side test of the W3C protocol manifest (vendored in tests/w3c-sparql11-protocol with
its notice): the request as written, the expected status class, result format and boolean. Then kg's own
cases: dataset parameters and FROM / FROM NAMED (section 2.1.4), the endpoint as base IRI, charsets.
"""

from __future__ import annotations

import http.client
import json
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
import rdflib
from serving import fetch, kg_serve, sparql_get

SUITE = Path(__file__).parent / "w3c-sparql11-protocol"
MF = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = rdflib.Namespace("http://www.w3.org/2011/http#")
CNT = rdflib.Namespace("http://www.w3.org/2011/content#")
HTS = rdflib.Namespace("http://www.w3.org/2011/http-statusCodes#")
KASEI = "http://kasei.us/2009/09/sparql/data/"
RESULT_TYPES = (
    "application/sparql-results+json",
    "application/sparql-results+xml",
    "text/csv",
    "text/tab-separated-values",
)
RDF_TYPES = {
    "text/turtle": "turtle",
    "application/n-triples": "nt",
    "application/ld+json": "json-ld",
    "application/rdf+xml": "xml",
}


def _manifest() -> tuple[rdflib.Graph, list[rdflib.term.Node]]:
    graph = rdflib.Graph().parse(SUITE / "manifest.ttl", format="turtle")
    manifest = next(graph.subjects(rdflib.RDF.type, MF.Manifest))
    entries = list(rdflib.collection.Collection(graph, graph.value(manifest, MF.entries)))
    return graph, entries


GRAPH, ENTRIES = _manifest()
QUERY_TESTS = [e for e in ENTRIES if e.split("#")[1].startswith(("query_", "bad_query", "bad_multiple_q"))]


def test_the_manifest_has_all_query_tests() -> None:
    # 12 query tests, 8 bad-query tests (update tests do not apply: the endpoint is read-only)
    assert len(QUERY_TESTS) == 20


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    options = []
    for n in (1, 2, 3):
        options += ["--named-graph", f"{KASEI}data{n}.rdf={SUITE / f'data{n}.nt'}"]
    with kg_serve("--timeout", "5", *options) as url:
        yield url


def _requests(test: rdflib.term.Node) -> list[rdflib.term.Node]:
    action = GRAPH.value(test, MF.action)
    return list(rdflib.collection.Collection(GRAPH, GRAPH.value(action, HT.requests)))


def _check(test: str, request: rdflib.term.Node, status: int, headers: dict, body: bytes) -> None:
    response = GRAPH.value(request, HT.resp)
    classes = {str(s).rsplit("StatusCode", 1)[1] for s in GRAPH.objects(response, MF.expectedStatus)}
    assert f"{status // 100}xx" in classes, (test, status, body[:300])
    media = headers.get("content-type", "").split(";")[0].strip()
    fmt = GRAPH.value(response, MF.expectedFormat)
    if fmt is not None and str(fmt) in ("boolean", "tabular"):
        assert media in RESULT_TYPES, (test, media)
    if fmt is not None and str(fmt) == "RDF":
        assert media in RDF_TYPES, (test, media)
        rdflib.Graph().parse(data=body.decode(), format=RDF_TYPES[media])
    if fmt is not None and str(fmt) == "tabular":
        assert "vars" in json.loads(body)["head"]
    expected = GRAPH.value(response, MF.expectedBoolean)
    if expected is not None:
        assert json.loads(body)["boolean"] is expected.toPython(), test


@pytest.mark.parametrize("test", QUERY_TESTS, ids=[t.split("#")[1] for t in QUERY_TESTS])
def test_w3c_protocol(server: str, test: rdflib.term.Node) -> None:
    parts = urllib.parse.urlsplit(server)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        for request in _requests(test):
            headers = {"Accept": "application/sparql-results+json, text/turtle;q=0.9"}
            for field in rdflib.collection.Collection(
                GRAPH, GRAPH.value(request, HT.headers) or rdflib.RDF.nil
            ):
                headers[str(GRAPH.value(field, HT.fieldName))] = str(GRAPH.value(field, HT.fieldValue))
            content = GRAPH.value(request, HT.body)
            body = None
            if content is not None:
                encoding = str(GRAPH.value(content, CNT.characterEncoding) or "UTF-8")
                body = str(GRAPH.value(content, CNT.chars)).encode(encoding.lower())
            conn.request(
                str(GRAPH.value(request, HT.methodName)),
                str(GRAPH.value(request, HT.absolutePath)),
                body=body,
                headers=headers,
            )
            response = conn.getresponse()
            _check(
                test.split("#")[1],
                request,
                response.status,
                {k.lower(): v for k, v in response.getheaders()},
                response.read(),
            )
    finally:
        conn.close()


# --- kg's own protocol cases ------------------------------------------------------------------------

KG = "https://w3id.org/initiatieven/graph/"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def count(body: bytes) -> int:
    return int(json.loads(body)["results"]["bindings"][0]["n"]["value"])


def test_default_graph_uri_selects_graphs(server: str) -> None:
    _, _, everything = sparql_get(server, COUNT)
    _, _, ontology = sparql_get(server, COUNT, **{"default-graph-uri": KG + "ontology"})
    _, _, data = sparql_get(server, COUNT, **{"default-graph-uri": KG + "data"})
    _, _, nothing = sparql_get(server, COUNT, **{"default-graph-uri": "urn:none"})
    assert 0 < count(ontology) < count(everything) and 0 < count(data) < count(everything)
    assert count(nothing) == 0


def test_from_in_the_query_selects_graphs(server: str) -> None:
    _, _, ontology = sparql_get(server, COUNT, **{"default-graph-uri": KG + "ontology"})
    _, _, via_from = sparql_get(server, f"SELECT (COUNT(*) AS ?n) FROM <{KG}ontology> WHERE {{ ?s ?p ?o }}")
    assert count(via_from) == count(ontology) > 0


def test_named_graph_uri_limits_graph_patterns(server: str) -> None:
    query = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g"
    _, _, body = sparql_get(server, query, **{"named-graph-uri": f"{KASEI}data2.rdf"})
    assert [b["g"]["value"] for b in json.loads(body)["results"]["bindings"]] == [f"{KASEI}data2.rdf"]


def test_extra_named_graphs_are_not_in_the_default_graph(server: str) -> None:
    _, _, body = sparql_get(server, f"ASK {{ <{KASEI}data1.rdf> ?p ?o }}")
    assert json.loads(body)["boolean"] is False


def test_construct_with_relative_iris_uses_the_endpoint_as_base(server: str) -> None:
    status, _headers, body = fetch(
        server + "/sparql",
        b"CONSTRUCT { <s> <p> 1 } WHERE {}",
        {"Content-Type": "application/sparql-query", "Accept": "application/n-triples"},
    )
    assert status == 200
    graph = rdflib.Graph().parse(data=body.decode(), format="nt")
    assert {str(s) for s in graph.subjects()} == {server + "/s"}


@pytest.mark.parametrize("charset", ["UTF-16", "iso-8859-1", "utf-32"])
def test_charset_other_than_utf8_is_400_naming_it(server: str, charset: str) -> None:
    status, _, body = fetch(
        server + "/sparql",
        "ASK {}".encode(charset.lower()),
        {"Content-Type": f"application/sparql-query; charset={charset}"},
    )
    assert status == 400 and charset.encode() in body
    form = urllib.parse.urlencode({"query": "ASK {}"}).encode()
    status, _, body = fetch(
        server + "/sparql", form, {"Content-Type": f"application/x-www-form-urlencoded; charset={charset}"}
    )
    assert status == 400 and charset.encode() in body


def test_utf8_charset_is_accepted_and_bad_bytes_refused(server: str) -> None:
    status, _, body = fetch(
        server + "/sparql",
        'SELECT ("é" AS ?x) {}'.encode(),
        {
            "Content-Type": "application/sparql-query; charset=UTF-8",
            "Accept": "application/sparql-results+json",
        },
    )
    assert status == 200 and json.loads(body)["results"]["bindings"][0]["x"]["value"] == "é"
    status, _, body = fetch(
        server + "/sparql", b'ASK { ?s ?p "\xff" }', {"Content-Type": "application/sparql-query"}
    )
    assert status == 400 and b"UTF-8" in body
