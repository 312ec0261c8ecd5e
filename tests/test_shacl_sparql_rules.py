"""SHACL's rules for the text of SPARQL-based constraints (kg.engines.shacl_sparql_rules), read with
kg's one SPARQL lexer: a keyword inside a string, an IRI or a comment is not one (SPARQL 1.1, 19.8)."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from kg.core.sparql_text import prefixes_used, tokens
from kg.engines.shacl_sparql_rules import joinable, prebind, rejected

PREBOUND = {"this", "shapesGraph", "currentShape", "PATH"}


@pytest.mark.parametrize(
    ("query", "word"),
    [
        ("SELECT $this WHERE { SERVICE <http://127.0.0.1/> { $this ?p ?o } }", "SERVICE"),
        ("SELECT $this WHERE { $this ?p ?o MINUS { $this a ?c } }", "MINUS"),
        ("SELECT $this WHERE { VALUES ?x { 1 } $this ?p ?x }", "VALUES"),
        ("SELECT $this WHERE { $this ?p ?o BIND (?o AS $this) }", "AS ?this"),
        ("SELECT $this WHERE { { SELECT ?o WHERE { ?s ?p ?o } } $this ?p ?o }", "sub-query"),
    ],
)
def test_rejected_names_the_construct(query: str, word: str) -> None:
    assert word in (rejected(query, PREBOUND) or "")


@pytest.mark.parametrize(
    "query",
    [
        'SELECT $this WHERE { $this ?p "SERVICE MINUS VALUES" }',
        "SELECT $this WHERE { $this <http://x/SERVICE> ?o } # SERVICE <http://127.0.0.1/>",
        "SELECT $this WHERE { $this ?p '''\nVALUES ?x { 1 }\n''' }",
        "SELECT $this WHERE { { SELECT $this ?o WHERE { $this ?p ?o } } }",
        'SELECT $this WHERE { $this ?p ?o BIND (?o AS ?that) FILTER (?that != "AS ?this") }',
    ],
)
def test_not_rejected_inside_strings_iris_comments(query: str) -> None:
    assert rejected(query, PREBOUND) is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("SELECT $this ?value WHERE { $this ex:p ?value . FILTER (?value > 3) }", True),
        ('SELECT $this WHERE { $this ex:p ?o . FILTER regex(?o, "{") }', True),
        ("SELECT $this WHERE { FILTER ($this = ex:x) }", False),  # $this only in a FILTER
        ("SELECT $this WHERE { ?x ex:p ?o BIND ($this AS ?y) $this ex:q ?o }", False),
        ("SELECT $this WHERE { $this ex:p* ?o }", False),  # zero-length path
        ("SELECT $this WHERE { $this ex:p? ?o }", False),
        ("SELECT $this WHERE { $this ex:p ?o OPTIONAL { ?o ex:q ?r } }", False),
        ("SELECT $this (COUNT(?o) AS ?n) WHERE { $this ex:p ?o } GROUP BY $this", False),
        ("SELECT $this WHERE { $this ex:p ?o FILTER bound(?o) }", False),
        ("SELECT ?o WHERE { $this ex:p ?o }", False),  # $this not selected
    ],
)
def test_joinable(query: str, expected: bool) -> None:
    assert joinable("PREFIX ex: <http://example.org/>\n" + query) is expected


def _rows(query: str) -> list[dict]:
    store = ox.Store()
    ex = "http://example.org/"
    store.add(ox.Quad(ox.NamedNode(ex + "a"), ox.NamedNode(ex + "p"), ox.Literal("x")))
    found = store.query("PREFIX ex: <http://example.org/>\n" + query)
    names = [v.value for v in found.variables]
    return [{n: s[n] for n in names if s[n] is not None} for s in found]


def test_prebind_substitutes_every_occurrence_and_runs() -> None:
    query = """SELECT $this ?o WHERE {
        { { FILTER ($this = ex:a) } FILTER bound($this) } UNION { FILTER (false) }
        $this ex:p ?o. BIND ($this AS ?that)
        { SELECT $this WHERE { FILTER (isIRI($this)) } }
    }"""
    text = prebind(query, {"this": "<http://example.org/a>"})
    assert text is not None and "$this" not in text and "bound(" not in text
    rows = _rows(text)
    assert [r["o"] for r in rows] == [ox.Literal("x")]
    assert _rows(prebind(query, {"this": "<http://example.org/b>"})) == []


def test_prebind_declines_what_it_cannot_write() -> None:
    assert prebind("SELECT $this WHERE { $this ?p ?o } ORDER BY $this", {"this": "<x:a>"}) is None
    assert prebind("SELECT $this WHERE { $this ?p ?o } GROUP BY $this", {"this": "<x:a>"}) is None


def test_prebind_leaves_strings_and_other_variables() -> None:
    text = prebind('SELECT $this WHERE { $this ?p "$this" . ?thisOther ?p ?o }', {"this": '"v"'})
    assert text == 'SELECT ("v" AS ?_kg_this0) WHERE { "v" ?p "$this" . ?thisOther ?p ?o }'


def test_prefixes_used_ignores_strings_iris_and_declarations() -> None:
    query = 'PREFIX ex: <http://e/> SELECT $this WHERE { $this ex:p "no:thing" ; <a:b> ?o ; :q xsd:int }'
    assert prefixes_used(tokens(query)) == {"ex", "", "xsd"}


def test_ask_as_select_has_a_row_where_the_ask_is_true() -> None:
    from kg.engines.shacl_sparql_rules import ask_as_select

    true, false = (ask_as_select(f"ASK {{ FILTER ({v}) }} # comment") for v in ("true", "false"))
    assert len(_rows(true)) == 1 and _rows(false) == []
    assert ask_as_select("ASK WHERE { ?s ?p ?o } LIMIT 1") is None  # a solution modifier: not rewritten
