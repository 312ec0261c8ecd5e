"""OWL 2 RL inference, kept in its own named graph.

Two reasoners give the same instance-level entailments on kg's ontology (a test compares them):

- ``rules`` (default): the OWL 2 RL rules that kg's ontology uses (W3C OWL 2 Profiles, section 4.3:
  tables 5, 6 and 9), run on the Oxigraph store as SPARQL 1.1 updates. The schema rules are closed
  first (the ontology is small); the instance rules then run as a few updates whose VALUES tables hold
  that closure, semi-naively: each round reads only what the round before added. Milliseconds on the
  bundled data, seconds at a million triples. :data:`RULES` (the same rules, applied naively until a
  fixpoint) is kept as the readable specification a test compares against.
- ``owlrl``: the complete OWL 2 RL closure computed by the owlrl package on an rdflib copy of the
  graphs. The reference; much slower.

Either way the entailed triples that are not already asserted go into ``INFERRED_GRAPH``; nothing is
ever written back into the asserted graphs or the files they came from.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyoxigraph as ox

from kg.core.convert import to_ox_triple, to_rdflib_graph
from kg.core.errors import UsageError
from kg.engines.oxigraph.rules import drop_known, infer_rules

REASONERS = ("rules", "owlrl")

_PREFIXES = """PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
"""

# (name in OWL 2 RL, head, body). Variables follow the specification's tables.
RULES: tuple[tuple[str, str, str], ...] = (
    ("scm-sco", "?c1 rdfs:subClassOf ?c3", "?c1 rdfs:subClassOf ?c2 . ?c2 rdfs:subClassOf ?c3"),
    ("scm-eqc1", "?c1 rdfs:subClassOf ?c2 . ?c2 rdfs:subClassOf ?c1", "?c1 owl:equivalentClass ?c2"),
    ("scm-spo", "?p1 rdfs:subPropertyOf ?p3", "?p1 rdfs:subPropertyOf ?p2 . ?p2 rdfs:subPropertyOf ?p3"),
    ("scm-eqp1", "?p1 rdfs:subPropertyOf ?p2 . ?p2 rdfs:subPropertyOf ?p1", "?p1 owl:equivalentProperty ?p2"),
    ("prp-dom", "?x rdf:type ?c", "?p rdfs:domain ?c . ?x ?p ?y"),
    ("prp-rng", "?y rdf:type ?c", "?p rdfs:range ?c . ?x ?p ?y . FILTER(!isLiteral(?y))"),
    ("prp-symp", "?y ?p ?x", "?p rdf:type owl:SymmetricProperty . ?x ?p ?y"),
    ("prp-trp", "?x ?p ?z", "?p rdf:type owl:TransitiveProperty . ?x ?p ?y . ?y ?p ?z"),
    ("prp-spo1", "?x ?p2 ?y", "?p1 rdfs:subPropertyOf ?p2 . ?x ?p1 ?y"),
    ("prp-inv1", "?y ?p2 ?x", "?p1 owl:inverseOf ?p2 . ?x ?p1 ?y"),
    ("prp-inv2", "?y ?p1 ?x", "?p1 owl:inverseOf ?p2 . ?x ?p2 ?y"),
    ("cls-hv1", "?u ?p ?y", "?x owl:hasValue ?y ; owl:onProperty ?p . ?u rdf:type ?x"),
    ("cls-hv2", "?u rdf:type ?x", "?x owl:hasValue ?y ; owl:onProperty ?p . ?u ?p ?y"),
    ("cax-sco", "?x rdf:type ?c2", "?c1 rdfs:subClassOf ?c2 . ?x rdf:type ?c1"),
    (
        "cax-eqc",
        "?x rdf:type ?c2 . ?x rdf:type ?c1",
        "?c1 owl:equivalentClass ?c2 . { ?x rdf:type ?c1 } UNION { ?x rdf:type ?c2 }",
    ),
)


def rule_updates(sources: Sequence[ox.NamedNode], target: ox.NamedNode) -> list[str]:
    """:data:`RULES` as SPARQL 1.1 Updates that read ``sources`` and ``target`` and write ``target``."""
    using = " ".join(f"USING {g}" for g in (*sources, target))
    return [
        f"{_PREFIXES}INSERT {{ GRAPH {target} {{ {head} }} }} {using} WHERE {{ {body} }}"
        for _, head, body in RULES
    ]


def infer_naive(store: ox.Store, sources: Sequence[ox.NamedNode], target: ox.NamedNode) -> int:
    """Apply :data:`RULES` to everything until a fixpoint; return the number of new triples (slow)."""
    updates = rule_updates(sources, target)
    before = len(store)
    size = -1
    while size != len(store):
        size = len(store)
        for update in updates:
            store.update(update)
    drop_known(store, target, sources)
    return len(store) - before


def infer_owlrl(store: ox.Store, sources: Sequence[ox.NamedNode], target: ox.NamedNode) -> int:
    """Compute the full OWL 2 RL closure with owlrl and store what it adds in ``target``."""
    import owlrl
    import rdflib

    graph = to_rdflib_graph(q.triple for s in sources for q in store.quads_for_pattern(None, None, None, s))
    asserted = set(graph)
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(graph)
    added = [t for t in graph if t not in asserted and not isinstance(t[0], rdflib.Literal)]
    store.extend(ox.Quad(*to_ox_triple(t), target) for t in added)
    return len(added)


def infer(
    store: ox.Store, sources: Sequence[ox.NamedNode], target: ox.NamedNode, reasoner: str = "rules"
) -> int:
    """Fill ``target`` with what ``reasoner`` entails from ``sources``; return how many triples."""
    if target in set(store.named_graphs()):
        store.remove_graph(target)
    if reasoner == "rules":
        return infer_rules(store, sources, target)
    if reasoner == "owlrl":
        return infer_owlrl(store, sources, target)
    raise UsageError(f"unknown reasoner {reasoner!r} (known: {', '.join(REASONERS)})")
