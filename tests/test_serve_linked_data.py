"""Linked data by kg serve (issue 13): /def/ terms and the ontology IRI dereference by content
negotiation, page titles are preferred labels in the page's language, link texts in that language.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape

import pytest
import rdflib
from serving import fetch, kg_serve

import kg
from kg.core.namespaces import DEF

SKOS = rdflib.Namespace("http://www.w3.org/2004/02/skos/core#")


def _terms() -> list[str]:
    graph = kg.load()
    rows = graph.store.query(
        f"SELECT DISTINCT ?s WHERE {{ GRAPH <https://w3id.org/initiatieven/graph/ontology> {{ ?s ?p ?o }} "
        f'FILTER(STRSTARTS(STR(?s), "{DEF}")) }}'
    )
    return sorted(r[0].value for r in rows)


TERMS = _terms()


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with kg_serve("--timeout", "5") as url:
        yield url


def title(body: bytes) -> str:
    found = re.search(rb"<title>(.*?)</title>", body, re.S)
    assert found is not None
    return unescape(found.group(1).decode())


def test_there_are_terms() -> None:
    assert len(TERMS) > 40 and DEF + "Initiative" in TERMS


def test_every_def_term_dereferences_as_rdf_and_html(server: str) -> None:
    failures = []
    for term in TERMS:
        path = "/" + term[len("https://w3id.org/initiatieven/") :]
        status, headers, body = fetch(server + path, headers={"Accept": "text/turtle"})
        if status != 200 or not headers["Content-Type"].startswith("text/turtle"):
            failures.append((term, status))
            continue
        graph = rdflib.Graph().parse(data=body.decode(), format="turtle")
        if (rdflib.URIRef(term), rdflib.RDF.type, None) not in graph:
            failures.append((term, "no rdf:type"))
        status, headers, body = fetch(server + path, headers={"Accept": "text/html"})
        if status != 200 or "Accept" not in headers.get("Vary", ""):
            failures.append((term, status))
    assert failures == []


def test_term_page_documents_the_term_in_dutch(server: str) -> None:
    status, _, body = fetch(server + "/def/Initiative", headers={"Accept": "text/html"})
    graph = kg.load().to_rdflib()
    labels = {
        str(o)
        for o in graph.objects(rdflib.URIRef(DEF + "Initiative"), rdflib.RDFS.label)
        if o.language == "nl"
    } | {
        str(o) for o in graph.objects(rdflib.URIRef(DEF + "Initiative"), SKOS.prefLabel) if o.language == "nl"
    }
    assert status == 200 and labels and title(body) in labels


def test_ontology_iri_dereferences(server: str) -> None:
    status, _headers, body = fetch(server + "/def", headers={"Accept": "text/turtle"})
    graph = rdflib.Graph().parse(data=body.decode(), format="turtle")
    ontology = rdflib.URIRef("https://w3id.org/initiatieven/def")
    assert status == 200 and (ontology, rdflib.RDF.type, rdflib.OWL.Ontology) in graph
    status, _, body = fetch(server + "/def", headers={"Accept": "text/html"})
    assert status == 200 and title(body) == "Ontologie van maatschappelijke initiatieven"
    _, _, body = fetch(server + "/def?lang=en", headers={"Accept": "text/html"})
    assert title(body) == "Ontology of citizen initiatives"


def test_id_page_is_titled_by_the_untagged_preferred_label(server: str) -> None:
    _, _, body = fetch(server + "/id/initiatief/wattwest", headers={"Accept": "text/html"})
    assert title(body) == "Wijkonderneming watTWest"


def test_link_texts_are_in_the_page_language(server: str) -> None:
    _, _, dutch = fetch(server + "/id/initiatief/wattwest", headers={"Accept": "text/html"})
    texts = [unescape(t) for t in re.findall(r"<a [^>]*>(.*?)</a>", dutch.decode(), re.S)]
    assert any("groenbeheer" in t for t in texts) and not any("green maintenance" in t for t in texts)
    assert any("coöperatie" in t for t in texts) and not any(t.startswith("cooperative") for t in texts)
    assert b'lang="nl"' in dutch
    _, _, english = fetch(
        server + "/id/initiatief/wattwest",
        headers={"Accept": "text/html", "Accept-Language": "en-GB,en;q=0.9"},
    )
    texts = [unescape(t) for t in re.findall(r"<a [^>]*>(.*?)</a>", english.decode(), re.S)]
    assert any("green maintenance" in t for t in texts) and b'lang="en"' in english


def test_id_page_rdf_by_format_parameter(server: str) -> None:
    status, headers, body = fetch(server + "/id/initiatief/wattwest?format=nt")
    assert status == 200 and headers["Content-Type"].startswith("application/n-triples")
    assert len(rdflib.Graph().parse(data=body.decode(), format="nt")) > 10


def test_schema_is_served_as_kg_schema_prints_it(server: str) -> None:
    """/schema answers what ``kg schema`` prints, by content negotiation (issue 16)."""
    import json

    from kg.publish.schema import schema, to_json

    expected = json.loads(to_json(schema(kg.load(), "en")))
    status, headers, body = fetch(server + "/schema?lang=en", headers={"Accept": "application/json"})
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    assert json.loads(body) == expected
    status, headers, body = fetch(server + "/schema", headers={"Accept": "text/turtle"})
    graph = rdflib.Graph().parse(data=body.decode(), format="turtle")
    assert (rdflib.URIRef(DEF + "Initiative"), rdflib.RDF.type, rdflib.OWL.Class) in graph
    status, headers, body = fetch(server + "/schema?lang=nl", headers={"Accept": "text/html"})
    assert status == 200 and "mi:Initiative" in body.decode() and '<html lang="nl"' in body.decode()
