"""OWL 2 RL instance rules compiled against the ontology and run semi-naively on the Oxigraph store.

The rules are those of :data:`kg.engines.oxigraph.inference.RULES` (W3C OWL 2 Profiles, 4.3):
scm-sco, scm-eqc1, scm-spo, scm-eqp1 on the schema; prp-dom, prp-rng, prp-symp, prp-trp, prp-spo1,
prp-inv1, prp-inv2,
cls-hv1, cls-hv2, cax-sco, cax-eqc on instances. The schema is small, so it is read once and closed in
Python; what each property and class entails then goes into VALUES tables, so that:

1. one update gives every property triple that follows from a triple (sub-properties, inverses and
   symmetry, chained), and transitive properties are closed with a property path;
2. one update gives every type that follows (domain, range, hasValue, all superclasses at once);
3. one update gives the hasValue triples of those types (cls-hv1), the only rule whose output feeds
   the rules again: that output, less what is known, is the next round's input.

Round one reads the asserted graphs; later rounds read only the round before's new triples.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from itertools import product

import pyoxigraph as ox

from kg.core.namespaces import RDFS, XSD

RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
_TYPE = ox.NamedNode(RDF_TYPE[1:-1])
_PREFIXES = """PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
"""
ROUND = ox.NamedNode("urn:x-kg:inference:round")
NEXT = ox.NamedNode("urn:x-kg:inference:next")
TRANSITIVE = ox.NamedNode("urn:x-kg:inference:transitive")
BOOLEAN = ox.NamedNode(XSD + "boolean")
# prp-spo1, prp-inv1, prp-inv2, prp-symp through the (p, q, flipped) table
_DERIVE = "{0} ?s ?p ?o . BIND (IF(?f, ?o, ?s) AS ?a) BIND (IF(?f, ?s, ?o) AS ?b) FILTER (!isLiteral(?a))"
SUBCLASS = ox.NamedNode(RDFS + "subClassOf")
SUBPROPERTY = ox.NamedNode(RDFS + "subPropertyOf")


def _pairs(store: ox.Store, graphs: Sequence[ox.NamedNode], pattern: str) -> list[tuple]:
    result = store.query(
        f"{_PREFIXES}SELECT DISTINCT ?a ?b WHERE {{ {pattern} }}", default_graph=list(graphs)
    )
    return [(sol["a"], sol["b"]) for sol in result]


def _reach(edges: Iterable[tuple]) -> dict[object, set]:
    """For each node, the nodes reachable by one or more edges (the transitive closure)."""
    out: dict[object, set] = defaultdict(set)
    for a, b in edges:
        out[a].add(b)
    closure: dict[object, set] = {}
    for start in list(out):
        seen: set = set()
        todo = list(out[start])
        while todo:
            node = todo.pop()
            if node not in seen:
                seen.add(node)
                todo.extend(out.get(node, ()))
        closure[start] = seen
    return closure


class Schema:
    """The schema closure and, per property and class, what an instance triple entails."""

    def __init__(self, store: ox.Store, graphs: Sequence[ox.NamedNode]):
        sco = _pairs(
            store,
            graphs,
            "{ ?a rdfs:subClassOf ?b } UNION { ?a owl:equivalentClass ?b } "
            "UNION { ?b owl:equivalentClass ?a }",
        )
        spo = _pairs(
            store,
            graphs,
            "{ ?a rdfs:subPropertyOf ?b } UNION { ?a owl:equivalentProperty ?b } "
            "UNION { ?b owl:equivalentProperty ?a }",
        )
        self.superclasses = _reach(sco)  # scm-sco, scm-eqc1
        self.superproperties = _reach(spo)  # scm-spo, scm-eqp1
        inverse: dict[object, set] = defaultdict(set)
        for a, b in _pairs(store, graphs, "?a owl:inverseOf ?b"):
            inverse[a].add(b)
            inverse[b].add(a)
        symmetric = {a for a, _ in _pairs(store, graphs, "?a a owl:SymmetricProperty BIND (1 AS ?b)")}
        transitive = _pairs(store, graphs, "?a a owl:TransitiveProperty BIND (1 AS ?b)")
        self.transitive = sorted({a for a, _ in transitive}, key=str)
        self.domain = _pairs(store, graphs, "?a rdfs:domain ?b")
        self.range = _pairs(store, graphs, "?a rdfs:range ?b")
        self.has_value = [
            (sol["x"], sol["p"], sol["y"])
            for sol in store.query(
                f"{_PREFIXES}SELECT DISTINCT ?x ?p ?y WHERE {{ ?x owl:hasValue ?y ; owl:onProperty ?p }}",
                default_graph=list(graphs),
            )
        ]
        # (p, q, flipped): a triple ?s p ?o entails ?s q ?o, or ?o q ?s when flipped (prp-spo1, prp-inv1,
        # prp-inv2 and prp-symp, chained).
        props = {p for p, _ in spo} | set(inverse) | symmetric
        self.derived: list[tuple] = []
        for p in props:
            seen = {(p, False)}
            todo = [(p, False)]
            while todo:
                q, flipped = todo.pop()
                steps = [(r, flipped) for r in self.superproperties.get(q, ())]
                steps += [(r, not flipped) for r in inverse.get(q, ())]
                if q in symmetric:
                    steps.append((q, not flipped))
                for step in steps:
                    if step not in seen:
                        seen.add(step)
                        todo.append(step)
            self.derived += [(p, q, f) for q, f in seen if (q, f) != (p, False)]

    def up(self, cls: object) -> set:
        """``cls`` and every superclass (cax-sco)."""
        return {cls, *self.superclasses.get(cls, ())}

    def schema_triples(self, graph: ox.NamedNode) -> list[ox.Quad]:
        """The closed subclass and subproperty relations (scm-sco, scm-eqc1, scm-spo, scm-eqp1)."""
        return [
            ox.Quad(a, pred, b, graph)
            for pred, table in ((SUBCLASS, self.superclasses), (SUBPROPERTY, self.superproperties))
            for a, bs in table.items()
            for b in bs
        ]


def _values(variables: str, rows: Iterable[tuple]) -> str:
    body = " ".join("(" + " ".join(str(t) for t in row) + ")" for row in rows)
    return f"VALUES ({variables}) {{ {body} }}"


def _apply(
    store: ox.Store,
    out: ox.NamedNode,
    head: str,
    reads: Sequence[ox.NamedNode],
    where: str,
    *tables: tuple[str, Sequence[tuple]],
) -> None:
    """INSERT ``head`` into ``out`` for each solution of ``where``, whose ``{0}``, ``{1}``, ... are
    the VALUES ``tables`` (variables, rows).

    Blank nodes (such as owl:Restriction classes) cannot be written in SPARQL text: table rows that
    hold one run as a CONSTRUCT with stand-in IRIs, and the real blank nodes are put back here.
    """
    split = [
        ([r for r in rows if not _has_blank(r)], [r for r in rows if _has_blank(r)]) for _, rows in tables
    ]
    for choice in product((0, 1), repeat=len(tables)):
        chosen = [parts[c] for parts, c in zip(split, choice, strict=True)]
        if not all(chosen):
            continue
        stand_in: dict[ox.NamedNode, ox.BlankNode] = {}
        text = where.format(
            *(
                _values(v, [tuple(_swap(t, stand_in) for t in r) for r in rows])
                for (v, _), rows in zip(tables, chosen, strict=True)
            )
        )
        if not any(choice):
            store.update(f"INSERT {{ GRAPH {out} {{ {head} }} }} {_using(reads)} WHERE {{ {text} }}")
            continue
        triples = store.query(f"CONSTRUCT {{ {head} }} WHERE {{ {text} }}", default_graph=list(reads))
        store.extend(
            [
                ox.Quad(
                    stand_in.get(t.subject, t.subject), t.predicate, stand_in.get(t.object, t.object), out
                )
                for t in triples
            ]
        )


def _has_blank(row: tuple) -> bool:
    return any(isinstance(t, ox.BlankNode) for t in row)


def _swap(term: object, stand_in: dict) -> object:
    if isinstance(term, ox.BlankNode):
        iri = ox.NamedNode(f"urn:x-kg:blank:{term.value}")
        stand_in[iri] = term
        return iri
    return term


def _using(graphs: Iterable[ox.NamedNode]) -> str:
    return " ".join(f"USING {g}" for g in graphs)


def _count(store: ox.Store, graph: ox.NamedNode) -> int:
    return sum(1 for _ in store.quads_for_pattern(None, None, None, graph))


def drop_known_update(graph: ox.NamedNode, known: Sequence[ox.NamedNode]) -> str:
    """A SPARQL Update that removes from ``graph`` the triples ``known`` holds already."""
    return (
        f"DELETE {{ GRAPH {graph} {{ ?s ?p ?o }} }} {_using(known)} USING NAMED {graph} "
        f"WHERE {{ GRAPH {graph} {{ ?s ?p ?o }} ?s ?p ?o }}"
    )


def drop_known(store: ox.Store, graph: ox.NamedNode, known: Sequence[ox.NamedNode]) -> int:
    """Remove from ``graph`` what ``known`` holds already; return what is left."""
    store.update(drop_known_update(graph, known))
    return _count(store, graph)


class _Run:
    """One materialization: the compiled updates, applied round by round."""

    def __init__(
        self, store: ox.Store, schema: Schema, sources: Sequence[ox.NamedNode], target: ox.NamedNode
    ):
        self.store, self.sources, self.target = store, list(sources), target
        self.derive = [
            (p, q, ox.Literal("true" if f else "false", datatype=BOOLEAN)) for p, q, f in schema.derived
        ]
        # ?x gets class ?d (prp-dom, prp-rng; cls-hv2), then ?d's superclasses (cax-sco): the distinct
        # (?x, ?d) first, so that each type is written once, not once per property that implies it
        up = (
            "?d ?c",
            [
                (d, c)
                for d in {
                    *schema.superclasses,
                    *(d for _, d in schema.domain),
                    *(r for _, r in schema.range),
                    *(x for x, _, _ in schema.has_value),
                }
                for c in schema.up(d)
            ],
        )
        self.types = (
            (
                "{{ SELECT DISTINCT ?x ?d WHERE {{ {{ {0} ?x ?p [] }} UNION "
                "{{ {1} [] ?p ?x . FILTER (!isLiteral(?x)) }} }} }} {2}",
                ("?p ?d", schema.domain),
                ("?p ?d", schema.range),
                up,
            ),
            (
                "{{ SELECT DISTINCT ?x ?d WHERE {{ {0} ?x ?p ?y }} }} {1}",
                ("?p ?y ?d", [(p, y, x) for x, p, y in schema.has_value]),
                up,
            ),
            (f"{{0}} ?x {RDF_TYPE} ?d . FILTER (?c != ?d)", up),  # cax-sco, cax-eqc
        )
        self.has_value = schema.has_value
        self.transitive = schema.transitive
        # classes that are blank nodes (owl:Restriction): the updates above cannot name them where
        # they must match the data (a type a triple states), so :meth:`_blank_superclasses` and
        # :meth:`_blank_has_value` look them up
        self.blank_up = {
            d: [c for c in schema.up(d) if c != d] for d, _ in up[1] if isinstance(d, ox.BlankNode)
        }
        self.blank_has_value = [(x, p, y) for x, p, y in schema.has_value if isinstance(x, ox.BlankNode)]

    def everything(self) -> list[ox.NamedNode]:
        return [*self.sources, self.target]

    def properties(self, delta: Sequence[ox.NamedNode], out: ox.NamedNode) -> None:
        """Property triples entailed by those in ``delta`` (into ``out``), then transitive closure."""
        _apply(self.store, out, "?a ?q ?b", delta, _DERIVE, ("?p ?q ?f", self.derive))
        while self.transitive:  # prp-trp: few triples, so closed over everything each time
            graphs = [*self.everything(), out]
            self.store.update(
                f"INSERT {{ GRAPH {TRANSITIVE} {{ ?x ?p ?z }} }} {_using(graphs)} WHERE {{ "
                f"{_values('?p', [(p,) for p in self.transitive])} ?x ?p ?y . ?y ?p ?z . }}"
            )
            if not drop_known(self.store, TRANSITIVE, graphs):
                break
            _apply(self.store, out, "?a ?q ?b", [TRANSITIVE], _DERIVE, ("?p ?q ?f", self.derive))
            self.store.update(f"ADD {TRANSITIVE} TO {out}")
            self.store.update(f"DROP SILENT GRAPH {TRANSITIVE}")

    def round(self, delta: Sequence[ox.NamedNode], out: ox.NamedNode) -> int:
        """One round: properties, types, hasValue triples; return how many new triples are next."""
        self.properties(delta, out)
        for where, *tables in self.types:
            _apply(self.store, out, f"?x {RDF_TYPE} ?c", [*delta, out], where, *tables)
        self._blank_superclasses([*delta, out], out)
        _apply(
            self.store,
            NEXT,
            "?u ?p ?y",
            [*delta, out],
            f"{{0}} ?u {RDF_TYPE} ?x .",
            ("?x ?p ?y", self.has_value),
        )  # cls-hv1
        self._blank_has_value([*delta, out])
        if out != self.target:
            self.store.update(f"ADD {out} TO {self.target}")
            self.store.update(f"DROP SILENT GRAPH {out}")
        return drop_known(self.store, NEXT, self.everything())

    def _typed(self, cls: object, reads: Sequence[ox.NamedNode]) -> list[object]:
        return [q.subject for g in reads for q in self.store.quads_for_pattern(None, _TYPE, cls, g)]

    def _blank_superclasses(self, reads: Sequence[ox.NamedNode], out: ox.NamedNode) -> None:
        """cax-sco for the types that are blank nodes (looked up in ``reads``), into ``out``."""
        self.store.extend(
            [
                ox.Quad(u, _TYPE, c, out)
                for d, up in self.blank_up.items()
                for u in self._typed(d, reads)
                for c in up
            ]
        )

    def _blank_has_value(self, reads: Sequence[ox.NamedNode]) -> None:
        """cls-hv1 for the hasValue restrictions that are blank nodes, into the next round's input."""
        self.store.extend(
            [ox.Quad(u, p, y, NEXT) for x, p, y in self.blank_has_value for u in self._typed(x, reads)]
        )


def infer_rules(store: ox.Store, sources: Sequence[ox.NamedNode], target: ox.NamedNode) -> int:
    """Materialize the rules' entailments into ``target``; return the number of new triples."""
    before = len(store)
    schema = Schema(store, sources)
    store.extend(schema.schema_triples(target))
    run = _Run(store, schema, sources, target)
    delta: list[ox.NamedNode] = list(sources)
    out = target
    while run.round(delta, out):
        store.update(f"ADD {NEXT} TO {target}")
        store.update(f"MOVE {NEXT} TO {ROUND}")
        delta, out = [ROUND], ox.NamedNode(f"{ROUND.value}:out")
    for graph in (ROUND, NEXT, TRANSITIVE):
        store.update(f"DROP SILENT GRAPH {graph}")
    drop_known(store, target, sources)  # what is asserted already is not news
    return len(store) - before
