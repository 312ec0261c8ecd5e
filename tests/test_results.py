"""One query path: W3C result formats written from one evaluation, limits and time-outs as arguments."""

from __future__ import annotations

import io

import pyoxigraph as ox
import pytest

import kg
from kg.core.errors import QueryTimeout
from kg.core.results import RESULT_FORMATS

CROSS = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"  # billions of rows on the bundled data


def _oxigraph_bytes(graph: kg.KnowledgeGraph, text: str, fmt: str) -> bytes:
    """The same query serialized by Oxigraph's own writer (the old path ran the query again for it)."""
    out = io.BytesIO()
    graph.store.query(text, use_default_graph_as_union=True).serialize(out, format=RESULT_FORMATS[fmt])
    return out.getvalue()


@pytest.mark.parametrize("fmt", sorted(RESULT_FORMATS))
@pytest.mark.parametrize(
    "name", ["initiatives", "bottleneck-types", "legal-form-history", "bottleneck-cooccurrence"]
)
def test_result_formats_are_oxigraphs_bytes(graph: kg.KnowledgeGraph, name: str, fmt: str) -> None:
    stored = kg.get_query(name)
    text = graph.bound(stored)
    ours = graph.query(stored).serialize(fmt)
    assert ours == _oxigraph_bytes(graph, text, fmt)
    assert len(ours) > 150


@pytest.mark.parametrize("fmt", sorted(RESULT_FORMATS))
def test_every_kind_of_term_is_written_as_oxigraph_writes_it(fmt: str, tmp_path) -> None:
    """Every kind of term, each in the form Oxigraph stores it in (a literal it rewrites, such as
    "1.0E3"^^xsd:double, is given back as written: test_validation_trust.py)."""
    data = tmp_path / "terms.ttl"
    data.write_text(
        "@prefix x: <http://example.org/> .\n@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
        'x:a x:p "tab\\tand \\"quote\\"\\nline, comma"@nl-BE , "7"^^xsd:integer , "-0.5"^^xsd:decimal ,'
        ' "1000"^^xsd:double , true , "2016-01-01"^^xsd:date , "<&>" , [ x:q x:r ] .\n'
    )
    graph = kg.load([data])
    text = "SELECT ?s ?o ?unbound WHERE { ?s <http://example.org/p> ?o } ORDER BY ?o"
    ours = graph.query(text, infer=False).serialize(fmt)
    assert ours == _oxigraph_bytes(graph, text, fmt)


def test_ask_in_every_format(graph: kg.KnowledgeGraph) -> None:
    yes = graph.query("ASK { ?i a mi:Initiative }")
    assert yes.serialize("json") == b'{"head":{},"boolean":true}'
    assert b"<boolean>true</boolean>" in yes.serialize("xml")
    assert graph.query("ASK { ?i a mi:Nothing }").serialize("csv") == b"false"


def test_limit_cuts_rows_and_says_so(graph: kg.KnowledgeGraph) -> None:
    full = graph.query("initiatives")
    assert len(full) == 11 and not full.truncated  # the eleven experiment partners
    cut = graph.query("initiatives", limit=3)
    assert len(cut) == 3 and cut.truncated
    exact = graph.query("initiatives", limit=11)
    assert len(exact) == 11 and not exact.truncated


def test_limit_bounds_the_work_of_a_huge_answer(graph: kg.KnowledgeGraph) -> None:
    result = graph.query(CROSS, limit=5, infer=False)
    assert len(result) == 5 and result.truncated
    construct = graph.query("CONSTRUCT { ?a ?b ?i } WHERE { ?a ?b ?c . ?g ?h ?i }", limit=7, infer=False)
    assert len(construct.triples) == 7 and construct.truncated


@pytest.mark.parametrize("engine", ["oxigraph", "rdflib"])
def test_timeout_stops_a_runaway_query(engine: str) -> None:
    graph = kg.load(engine=engine)
    with pytest.raises(QueryTimeout, match=r"longer than 0\.2 s"):
        graph.query(CROSS, infer=False, timeout=0.2)


def test_one_engine_interface(graph: kg.KnowledgeGraph) -> None:
    from kg.engines.base import Engine

    for name, factory in kg.ENGINES.items():
        engine = factory()
        assert engine.name == name
        for method in ("load", "triples", "infer", "query", "validate", "to_rdflib"):
            assert callable(getattr(engine, method)), (name, method)
    assert {m for m in dir(Engine) if not m.startswith("_")} >= {"load", "query", "validate"}


def test_syntax_errors_name_the_place_in_the_text_as_written(graph: kg.KnowledgeGraph) -> None:
    with pytest.raises(kg.QueryError, match=r"SPARQL syntax error: line 2, column 7: '\{' is never closed"):
        graph.query("SELECT ?x\nWHERE { ?x a mi:Initiative ")


def test_results_are_oxigraph_terms_on_both_engines() -> None:
    for engine in kg.ENGINES:
        result = kg.load(engine=engine).query("initiatives", limit=1)
        assert all(isinstance(t, (ox.NamedNode, ox.Literal)) or t is None for t in result.rows[0])
