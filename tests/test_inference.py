"""Inference: what it adds that the queries rely on, kept apart from the asserted data."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyoxigraph as ox
import pytest

import kg
from kg.core import bundle
from kg.core.namespaces import ID
from kg.graph import INFERRED
from kg.publish.export import serialize


def _ask(graph: kg.KnowledgeGraph, pattern: str, infer: bool = True) -> bool:
    return graph.query(f"ASK {{ {pattern} }}", infer=infer).boolean


@pytest.mark.parametrize(
    "pattern",
    [
        # class hierarchy through the hasValue restrictions: stichting -> foundation -> private legal person
        "init:crabbehoeve a mi:Foundation , mi:PrivateLegalPerson , mi:LegalPerson",
        # a coöperatie is a vereniging (BW 2:53)
        "init:marconia a mi:Cooperative , mi:Association , mi:PrivateLegalPerson",
        # inverse properties
        "init:wattwest mi:participation dn:11",
        "gm:gm0855 mi:hasInitiative init:wattwest",
        "prog:ruim-op-de-regels mi:hasParticipation dn:5",
        "kt:vergunningen skos:narrower kt:parapluvergunning",
        # transitive concept hierarchy
        "kt:parapluvergunning skos:broaderTransitive kt:vergunningen",
        "act:groenbeheer skos:broaderTransitive act:beheer-openbare-ruimte",
        "rv:cooperatie skos:broaderTransitive rv:rechtspersoon",
    ],
)
def test_inference_adds(graph: kg.KnowledgeGraph, pattern: str) -> None:
    assert _ask(graph, pattern)
    assert not _ask(graph, pattern, infer=False)


def test_no_legal_form_class_without_a_stated_form(graph: kg.KnowledgeGraph) -> None:
    # partner 2 (Noorderpark Trust): the source states no legal form
    assert not _ask(graph, "init:noorderpark-trust a mi:LegalPerson")
    assert not _ask(graph, "init:wattwest-rechtsvorm-stichting a mi:Foundation")


def test_queries_that_rely_on_inference(graph: kg.KnowledgeGraph) -> None:
    params = {"legalform": "privaatrechtelijk"}
    assert len(graph.query("initiatives-by-legal-form", params)) == 7
    assert len(graph.query("initiatives-by-legal-form", params, infer=False)) == 0
    assert len(graph.query("initiatives-by-bottleneck", {"bottleneck": "vergunningen"})) == 2
    assert len(graph.query("initiatives-by-bottleneck", {"bottleneck": "vergunningen"}, infer=False)) == 0


def _instance_triples(graph: kg.KnowledgeGraph) -> set[tuple]:
    """Inferred triples about things (not terms), without blank nodes, whose labels differ per run."""
    skip = {
        "http://www.w3.org/2002/07/owl#Thing",
        "http://www.w3.org/2000/01/rdf-schema#Resource",
        "http://www.w3.org/2002/07/owl#sameAs",
    }
    found = set()
    for t in graph.triples(INFERRED):
        if isinstance(t.object, ox.BlankNode) or not isinstance(t.subject, ox.NamedNode):
            continue
        if t.object.value in skip or t.predicate.value in skip:
            continue
        if t.subject.value.startswith((ID, "https://identifier.overheid.nl/")):
            found.add((t.subject.value, t.predicate.value, str(t.object)))
    return found


def test_rules_reasoner_matches_owlrl() -> None:
    rules, full = kg.load(), kg.load()
    rules.infer("rules")
    full.infer("owlrl")
    assert _instance_triples(rules) == _instance_triples(full)
    assert len(_instance_triples(rules)) > 200


def _inferred(graph: kg.KnowledgeGraph) -> set[tuple]:
    """The inferred graph, blank nodes reduced to a marker (they are the ontology's own restrictions)."""
    from kg.graph import INFERRED

    def term(t: object) -> str:
        return "_:b" if isinstance(t, ox.BlankNode) else str(t)

    return {(term(t.subject), str(t.predicate), term(t.object)) for t in graph.triples(INFERRED)}


@pytest.mark.parametrize("size", [0, 300])
def test_compiled_rules_give_exactly_the_naive_fixpoint(size: int, tmp_path: Path) -> None:
    """The semi-naive compiled updates (kg.engines.oxigraph.rules) entail what naive RULES do."""
    from kg.engines.oxigraph.inference import infer_naive
    from kg.graph import DATA, INFERRED, ONTOLOGY
    from kg.synth.generate import triples

    files = None
    if size:
        path = tmp_path / "s.nt"
        path.write_text("\n".join(triples(size, seed=2)) + "\n")
        files = [p for p in bundle.data_files() if p.name in ("gemeenten.ttl", "programma.ttl")] + [path]
    compiled, naive = kg.load(files), kg.load(files)
    compiled.infer("rules")
    infer_naive(naive.store, [ONTOLOGY, DATA], INFERRED)
    naive.engine.reasoner = "naive"
    assert _inferred(compiled) == _inferred(naive)
    assert len(_inferred(compiled)) > (2000 if size else 300)


def test_inferred_triples_stay_in_their_own_graph() -> None:
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in bundle.data_files()}
    g = kg.load()
    asserted = serialize(g, "nt")
    g.infer()
    assert serialize(g, "nt") == asserted
    assert len(serialize(g, "nt", inferred=True)) > len(asserted)
    trig = serialize(g, "trig", inferred=True).decode()
    assert "<https://w3id.org/initiatieven/graph/inferred>" in trig
    assert before == {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in bundle.data_files()}


def test_unknown_reasoner() -> None:
    with pytest.raises(kg.UsageError, match="unknown reasoner 'hermit'"):
        kg.load().infer("hermit")


def test_reference_engine_infers_rdf_only() -> None:
    """owlrl also derives literal-subject triples (generalised RDF); both engines leave them out,
    so the reference engine's inferred graph can be read, exported and compared."""
    reference, fast = kg.load(engine="rdflib"), kg.load()
    count = reference.infer()
    assert count == fast.infer("owlrl") == len(reference.triples(INFERRED))
    assert not any(isinstance(t.subject, ox.Literal) for t in reference.triples(INFERRED))

    def text(t: ox.Triple) -> tuple:
        return tuple("_:" if isinstance(x, ox.BlankNode) else str(x) for x in t)

    assert {text(t) for t in reference.triples(INFERRED)} == {text(t) for t in fast.triples(INFERRED)}
