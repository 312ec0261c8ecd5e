"""The inferred graph kept up to date when a few asserted triples change, instead of inferred again.

The instance rules of :mod:`kg.engines.oxigraph.rules` (W3C OWL 2 Profiles, 4.3) are applied here in
Python to the changed triples only, with the store answering each lookup, by "delete and re-derive"
(DRed: Gupta, Mumick and Subrahmanian, "Maintaining views incrementally", SIGMOD 1993):

1. *Over-delete*: everything the inferred graph holds that follows, in any number of steps, from a
   removed triple is taken out.
2. *Re-derive*: what was taken out (and each removed triple itself) goes back if it still follows in
   one step from what is left.
3. *Insert*: what follows from the added and the re-derived triples, and is not known yet, goes in,
   semi-naively, until nothing new follows.

The rules are those of the compiled engine, with the schema closed once (:class:`Schema`), so each
step applies a chain of sub-property, inverse and symmetric steps, or a class and its superclasses,
at once; the closure is the same. A change to the schema itself (a triple whose predicate is one of
:data:`SCHEMA_PREDICATES`, or that makes a property symmetric or transitive) is declined
(:class:`Declined`): the caller infers from scratch. A test compares the result with a full
inference over random changes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence

import pyoxigraph as ox

from kg.core.namespaces import OWL, RDF, RDFS
from kg.engines.oxigraph.rules import Schema

TYPE = ox.NamedNode(RDF + "type")
SCHEMA_PREDICATES = frozenset(
    ox.NamedNode(iri)
    for iri in (
        RDFS + "subClassOf",
        RDFS + "subPropertyOf",
        RDFS + "domain",
        RDFS + "range",
        OWL + "equivalentClass",
        OWL + "equivalentProperty",
        OWL + "inverseOf",
        OWL + "hasValue",
        OWL + "onProperty",
    )
)
PROPERTY_KINDS = frozenset(ox.NamedNode(OWL + k) for k in ("SymmetricProperty", "TransitiveProperty"))

Triple = tuple[object, ox.NamedNode, object]


class Declined(Exception):
    """The change touches the schema: infer from scratch instead."""


def _schema_triple(t: Triple) -> bool:
    return t[1] in SCHEMA_PREDICATES or (t[1] == TYPE and t[2] in PROPERTY_KINDS)


class Rules:
    """The compiled rules, forwards (what follows from a triple) and backwards (does a triple follow
    in one step from what the store knows)."""

    def __init__(self, schema: Schema, store: ox.Store, graphs: Sequence[ox.NamedNode]):
        self.store, self.graphs = store, list(graphs)
        self.up = {c: schema.up(c) for c in schema.superclasses}
        self.derive: dict[object, list[tuple]] = defaultdict(list)  # p -> [(q, flipped)]
        self.derived_from: dict[object, list[tuple]] = defaultdict(list)  # q -> [(p, flipped)]
        for p, q, flipped in schema.derived:
            self.derive[p].append((q, flipped))
            self.derived_from[q].append((p, flipped))
        self.domain: dict[object, set] = defaultdict(set)  # p -> classes (with superclasses)
        self.range: dict[object, set] = defaultdict(set)
        self.typed_by_domain: dict[object, set] = defaultdict(set)  # class -> p
        self.typed_by_range: dict[object, set] = defaultdict(set)
        for table, out, back in (
            (schema.domain, self.domain, self.typed_by_domain),
            (schema.range, self.range, self.typed_by_range),
        ):
            for p, d in table:
                for c in self._up(d):
                    out[p].add(c)
                    back[c].add(p)
        self.value_types: dict[tuple, set] = defaultdict(set)  # (p, y) -> classes (cls-hv2)
        self.value_of: dict[object, list[tuple]] = defaultdict(list)  # class -> [(p, y)] (cls-hv1)
        self.typed_by_value: dict[object, list[tuple]] = defaultdict(list)  # class -> [(p, y)]
        self.valued_by: dict[tuple, list] = defaultdict(list)  # (p, y) -> classes x (cls-hv1)
        for x, p, y in schema.has_value:
            self.value_of[x].append((p, y))
            self.valued_by[(p, y)].append(x)
            for c in self._up(x):
                self.value_types[(p, y)].add(c)
                self.typed_by_value[c].append((p, y))
        self.subclasses: dict[object, set] = defaultdict(set)  # c -> d with c a strict superclass of d
        for d, supers in schema.superclasses.items():
            for c in supers:
                self.subclasses[c].add(d)
        self.transitive = set(schema.transitive)
        if self._touches_schema():
            raise Declined("the rules derive schema triples")

    def _up(self, cls: object) -> set:
        return self.up.get(cls, {cls})

    def _touches_schema(self) -> bool:
        heads = {q for qs in self.derive.values() for q, _ in qs}
        heads |= {p for ps in self.value_of.values() for p, _ in ps}
        return bool((heads | self.transitive) & SCHEMA_PREDICATES)

    # --- the store -----------------------------------------------------------------------------

    def known(self, t: Triple) -> bool:
        s, p, o = t
        return any(ox.Quad(s, p, o, g) in self.store for g in self.graphs)

    def _any(self, s: object, p: object, o: object) -> bool:
        for g in self.graphs:
            for _ in self.store.quads_for_pattern(s, p, o, g):
                return True
        return False

    def _objects(self, s: object, p: object) -> Iterator[object]:
        for g in self.graphs:
            for q in self.store.quads_for_pattern(s, p, None, g):
                yield q.object

    def _subjects(self, p: object, o: object) -> Iterator[object]:
        for g in self.graphs:
            for q in self.store.quads_for_pattern(None, p, o, g):
                yield q.subject

    # --- the rules ------------------------------------------------------------------------------

    def forward(self, t: Triple) -> Iterator[Triple]:
        """Every triple that follows from ``t`` in one (compiled) step, given what the store knows."""
        s, p, o = t
        literal = isinstance(o, ox.Literal)
        for q, flipped in self.derive.get(p, ()):  # prp-spo1, prp-inv1, prp-inv2, prp-symp
            if not flipped:
                yield (s, q, o)
            elif not literal:
                yield (o, q, s)
        for c in self.domain.get(p, ()):  # prp-dom (and cax-sco)
            yield (s, TYPE, c)
        if not literal:
            for c in self.range.get(p, ()):  # prp-rng (and cax-sco)
                yield (o, TYPE, c)
        for c in self.value_types.get((p, o), ()):  # cls-hv2 (and cax-sco)
            yield (s, TYPE, c)
        if p == TYPE:
            for c in self._up(o):  # cax-sco, cax-eqc
                yield (s, TYPE, c)
            for q, y in self.value_of.get(o, ()):  # cls-hv1
                yield (s, q, y)
        if p in self.transitive:  # prp-trp, with ``t`` as either premise
            if not literal:
                for z in list(self._objects(o, p)):
                    yield (s, p, z)
            for w in list(self._subjects(p, s)):
                yield (w, p, o)

    def follows(self, t: Triple) -> bool:
        """Whether ``t`` follows in one (compiled) step from what the store knows."""
        a, q, b = t
        for p, flipped in self.derived_from.get(q, ()):
            if flipped:
                if not isinstance(b, ox.Literal) and self.known((b, p, a)):
                    return True
            elif self.known((a, p, b)):
                return True
        if q == TYPE:
            if any(self._any(a, p, None) for p in self.typed_by_domain.get(b, ())):
                return True
            if any(self._any(None, p, a) for p in self.typed_by_range.get(b, ())):
                return True
            if any(self.known((a, p, y)) for p, y in self.typed_by_value.get(b, ())):
                return True
            if any(self.known((a, TYPE, d)) for d in self.subclasses.get(b, ())):
                return True
        if any(self.known((a, TYPE, x)) for x in self.valued_by.get((q, b), ())):  # cls-hv1
            return True
        if q in self.transitive:
            return any(self.known((m, q, b)) for m in list(self._objects(a, q)))
        return False


class Journal:
    """Adds and removes quads, remembering which differ in the end from how the store had them."""

    def __init__(self, store: ox.Store):
        self.store = store
        self.first: dict[ox.Quad, bool] = {}  # quad -> whether the store had it before

    def add(self, quad: ox.Quad) -> None:
        self.first.setdefault(quad, quad in self.store)
        self.store.add(quad)

    def remove(self, quad: ox.Quad) -> None:
        self.first.setdefault(quad, quad in self.store)
        self.store.remove(quad)

    def changed(self) -> tuple[list[ox.Quad], list[ox.Quad]]:
        """The quads the store has now and had not, and had and has not."""
        plus = [q for q, had in self.first.items() if not had and q in self.store]
        minus = [q for q, had in self.first.items() if had and q not in self.store]
        return plus, minus


def _triples(found: Iterable) -> list[Triple]:
    return [(t.subject, t.predicate, t.object) if isinstance(t, ox.Triple) else tuple(t) for t in found]


def update(
    store: ox.Store,
    ontology: ox.NamedNode,
    data: ox.NamedNode,
    inferred: ox.NamedNode,
    added: Iterable[ox.Triple],
    removed: Iterable[ox.Triple],
    journal: Journal | None = None,
) -> tuple[list[ox.Triple], list[ox.Triple]]:
    """Apply a change to the ``data`` graph and bring ``inferred`` up to date with it.

    ``inferred`` must hold the rules' closure of ``ontology`` and ``data`` less what they assert
    (:func:`kg.engines.oxigraph.rules.infer_rules`); afterwards it holds that of the changed graphs.
    Returns the triples that the union of ``ontology`` and ``data`` really gained and lost (a triple
    the ontology asserts too, or one both added and removed, changes nothing there). ``journal``
    records each change to the store. Raises :class:`Declined`, with
    nothing changed, if the change touches the schema.
    """
    adds, drops = _triples(added), _triples(removed)
    if any(_schema_triple(t) for t in (*adds, *drops)):
        raise Declined("the change touches the schema")
    journal = journal if journal is not None else Journal(store)
    asserted = [ontology, data]
    everything = [*asserted, inferred]
    rules = Rules(Schema(store, asserted), store, everything)

    def holds(t: Triple, graph: ox.NamedNode) -> bool:
        return ox.Quad(*t, graph) in store

    drop_set = set(drops) - set(adds)
    leaving = [t for t in dict.fromkeys(drops) if t in drop_set and holds(t, data)]
    coming = [t for t in dict.fromkeys(adds) if not holds(t, data)]
    # what the union of the asserted graphs gains and loses (the ontology may assert a triple too)
    gone = [t for t in leaving if not holds(t, ontology)]
    new = [t for t in coming if not holds(t, ontology)]

    # 1. over-delete, on the graph as it was
    over: set[Triple] = set()
    todo = list(gone)
    while todo:
        for c in rules.forward(todo.pop()):
            if c not in over and holds(c, inferred):
                over.add(c)
                todo.append(c)
    for t in leaving:
        journal.remove(ox.Quad(*t, data))
    for t in over:
        journal.remove(ox.Quad(*t, inferred))

    # 2. re-derive what still follows in one step
    back = [c for c in (*over, *gone) if not isinstance(c[0], ox.Literal) and rules.follows(c)]
    for c in back:
        journal.add(ox.Quad(*c, inferred))

    # 3. insert: the added triples, then what follows from them and from the re-derived ones
    for t in coming:
        journal.add(ox.Quad(*t, data))
        journal.remove(ox.Quad(*t, inferred))  # asserted now: no longer news
    todo = [*new, *back]
    while todo:
        for c in rules.forward(todo.pop()):
            if isinstance(c[0], ox.Literal) or rules.known(c):
                continue
            journal.add(ox.Quad(*c, inferred))
            todo.append(c)
    return [ox.Triple(*t) for t in new], [ox.Triple(*t) for t in gone]
