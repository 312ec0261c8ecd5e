"""Ontology documentation (issue 16): contents, metadata, back-links, every restriction in words and
Manchester-like syntax, terms sorted by the page's language, and a class diagram."""

from __future__ import annotations

import re
from html import unescape

import pytest

import kg
from kg.core.namespaces import DEF, shorten
from kg.publish.docs import ontology_html


@pytest.fixture(scope="module", params=["nl", "en"])
def page(request) -> tuple[str, str]:
    return request.param, ontology_html(kg.load(), request.param)


def _classes(graph: kg.KnowledgeGraph, lang: str) -> dict[str, str]:
    rows = graph.query(
        f"""SELECT ?c ?l WHERE {{ ?c a owl:Class ; rdfs:label ?l
            FILTER (STRSTARTS(STR(?c), STR(mi:)) && LANG(?l) = "{lang}") }}"""
    )
    return {r["c"]: r["l"] for r in rows}


def test_contents_list_links_every_class(page, graph: kg.KnowledgeGraph) -> None:
    lang, html = page
    contents = html.split("<ol>", 1)[1].split("</nav>")[0]
    for iri in _classes(graph, lang):
        assert f'href="#{iri[len(DEF) :]}"' in contents, iri


def test_metadata(page, graph: kg.KnowledgeGraph) -> None:
    _, html = page
    meta = next(
        iter(
            graph.query("""SELECT ?v ?c ?d WHERE { <https://w3id.org/initiatieven/def>
        owl:versionIRI ?v ; dct:creator ?c ; dct:created ?d }""")
        )
    )
    for value in meta.values():
        assert str(value) in html, value


def test_every_restriction_in_manchester_syntax_and_words(page, graph: kg.KnowledgeGraph) -> None:
    lang, html = page
    text = unescape(html)
    rows = list(
        graph.query(
            """SELECT ?p ?v ?c WHERE { ?r a owl:Restriction ; owl:onProperty ?p ;
        owl:hasValue ?v ; rdfs:subClassOf ?c }""",
            infer=False,
        )
    )
    assert len(rows) == 12
    for r in rows:
        assert f"{shorten(r['p'])} value {shorten(r['v'])} SubClassOf: {shorten(r['c'])}" in text
    words = "has the value" if lang == "en" else "heeft de waarde"
    assert text.count(words) == len(rows)


def test_back_links(page, graph: kg.KnowledgeGraph) -> None:
    lang, html = page
    block = html.split('id="Initiative"', 1)[1].split('<div class="term"', 1)[0]
    heading = "Domain of" if lang == "en" else "Domein van"
    assert heading in block
    domain_of = graph.query(
        "SELECT ?p WHERE { ?p rdfs:domain mi:Initiative FILTER STRSTARTS(STR(?p), STR(mi:)) }"
    ).column("p")
    for p in domain_of:
        assert f'href="#{p[len(DEF) :]}"' in block


def test_terms_sorted_by_the_page_language(page, graph: kg.KnowledgeGraph) -> None:
    lang, html = page
    section = html.split('<h2 id="classes">', 1)[1].split("<h2", 1)[0]
    shown = [unescape(t) for t in re.findall(r'<div class="term" id="[^"]+"><h3>([^<]+) <small>', section)]
    assert shown == sorted(_classes(graph, lang).values(), key=str.casefold)


def test_class_diagram(page, graph: kg.KnowledgeGraph) -> None:
    lang, html = page
    svg = html.split('<h2 id="diagram">', 1)[1].split("</svg>", 1)[0]
    for iri, label in _classes(graph, lang).items():
        assert f'href="#{iri[len(DEF) :]}"' in svg and f">{label}</text>" in unescape(svg), iri
    edges = graph.query(
        """SELECT (COUNT(*) AS ?n) WHERE { ?c a owl:Class ; rdfs:subClassOf ?s
           FILTER (isIRI(?s) && STRSTARTS(STR(?c), STR(mi:))) }""",
        infer=False,
    ).column("n")[0]
    assert svg.count("<line ") == edges
