"""kg schema: a researcher who has never seen the model writes correct queries from its output alone."""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest

import kg
from kg.cli import main
from kg.core.sparql_text import tokens
from kg.publish.schema import schema

# The README's example questions, each written only with names `kg schema` prints.
QUESTIONS = {
    # "which initiatives share tax issues?" (kt:fiscaliteit is listed under bk:knelpunttypen)
    "share tax issues": """
        SELECT DISTINCT ?nameA ?nameB WHERE {
          ?a a mi:Initiative ; mi:bottleneck kt:fiscaliteit ; skos:prefLabel ?nameA .
          ?b a mi:Initiative ; mi:bottleneck kt:fiscaliteit ; skos:prefLabel ?nameB .
          FILTER (STR(?nameA) < STR(?nameB))
        }""",
    # "which initiatives are a private legal person?" (a class reached through inference)
    "private legal person": """
        SELECT ?name WHERE { ?i a mi:Initiative , mi:PrivateLegalPerson ; skos:prefLabel ?name }""",
    # "which initiatives work in Zuid-Holland?" (the province label carries @nl, as the schema says)
    "in Zuid-Holland": """
        SELECT ?name WHERE {
          ?i a mi:Initiative ; skos:prefLabel ?name ; mi:municipality ?g .
          ?g tooi:ligtInProvincie ?p . ?p skos:prefLabel "Zuid-Holland"@nl
        }""",
}


@pytest.fixture(scope="module")
def described(graph: kg.KnowledgeGraph):
    return schema(graph, "en")


def _names(query: str) -> set[str]:
    return {
        t.text
        for t in tokens(query)
        if t.kind == "word" and ":" in t.text and not t.text.startswith(("?", "$", '"'))
    }


def _stored(graph: kg.KnowledgeGraph, name: str, column: str, **params: str) -> set[str]:
    return {str(v) for v in graph.query(name, params).column(column)}


def test_questions_use_only_printed_names(described) -> None:
    printed = described.names()
    for title, query in QUESTIONS.items():
        for name in _names(query):
            assert name.split(":")[0] in described.prefixes, (title, name)
            assert name in printed, (title, name)


def test_the_schema_names_the_language_tag_a_label_needs(described) -> None:
    province = next(c for c in described.classes if c.iri == "tooi:Provincie")
    labels = next(u for u in province.properties if u.property == "skos:prefLabel")
    assert labels.values == ["@nl"] and labels.uses == 5
    initiative = next(c for c in described.classes if c.iri == "mi:Initiative")
    assert initiative.instances == 11 and initiative.label == "citizen initiative"
    bottleneck = next(u for u in initiative.properties if u.property == "mi:bottleneck")
    assert "mi:BottleneckType" in bottleneck.values
    prop = next(p for p in described.properties if p.iri == "mi:bottleneck")
    assert prop.domain == ["mi:Initiative"] and prop.range == ["mi:BottleneckType"]
    asserted = kg.load().query("SELECT (COUNT(*) AS ?n) WHERE { ?s mi:bottleneck ?o }", infer=False)
    assert prop.uses == asserted.column("n")[0] == 17


def test_the_questions_get_the_stored_queries_answers(graph: kg.KnowledgeGraph) -> None:
    pairs = {tuple(sorted((r["nameA"], r["nameB"]))) for r in graph.query(QUESTIONS["share tax issues"])}
    expected = {
        tuple(sorted((r["nameA"], r["nameB"])))
        for r in graph.query("shared-bottlenecks", {"bottleneck": "fiscaliteit"})
    }
    assert pairs == expected and len(pairs) == 10  # five initiatives meet tax rules: ten pairs
    private = {r["name"] for r in graph.query(QUESTIONS["private legal person"])}
    assert private == _stored(graph, "initiatives-by-legal-form", "name", legalform="privaatrechtelijk")
    assert len(private) == 7
    south = {r["name"] for r in graph.query(QUESTIONS["in Zuid-Holland"])}
    assert south == _stored(graph, "initiatives-by-municipality", "name", province="Zuid-Holland")
    assert south


@pytest.mark.parametrize("fmt", ["table", "json", "turtle"])
def test_kg_schema_command(fmt: str, capsysbinary) -> None:
    assert main(["schema", "--format", fmt, "--lang", "nl"]) == 0
    out = capsysbinary.readouterr().out
    if fmt == "json":
        data = json.loads(out)
        assert {"mi:Initiative", "tooi:Gemeente"} <= {c["iri"] for c in data["classes"]}
        assert data["prefixes"]["mi"] == "https://w3id.org/initiatieven/def/"
    elif fmt == "turtle":
        triples = list(ox.parse(out, format=ox.RdfFormat.TURTLE))
        void = "http://rdfs.org/ns/void#"
        partitions = {t.subject: t.object for t in triples if t.predicate.value == void + "class"}
        entities = {t.subject: int(t.object.value) for t in triples if t.predicate.value == void + "entities"}
        by_class = {cls.value: entities[p] for p, cls in partitions.items()}
        assert by_class["https://w3id.org/initiatieven/def/Initiative"] == 11
    else:
        text = out.decode()
        assert "mi:Initiative  (maatschappelijk initiatief)" in text or "mi:Initiative  (" in text
        assert "PREFIX mi:" in text and "fiscaliteit" in text
