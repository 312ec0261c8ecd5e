"""Does the store give back the literals kg pushed, as written? (``kg push --query-endpoint``)

A literal is its lexical form and its datatype (RDF 1.1 Concepts, section 3.3): ``"P10Y"^^xsd:duration``
and ``"120"^^xsd:duration`` are different literals, even where a store's value for them is the same.
Stores that keep values instead of literals give some back in another form: Virtuoso 7.2 writes
``"P10Y"^^xsd:duration`` as ``"120"``, ``"true"^^xsd:boolean`` as ``"1"`` and an ill-typed
``"abc"^^xsd:integer`` as ``"0"``; Oxigraph server writes ``"01"^^xsd:integer`` as ``"1"`` and
``"1"^^xsd:int`` as ``"1"^^xsd:integer``. Queries on the store then answer with those forms, and
validation there checks them.

:func:`check` compares, per pushed graph and per datatype, how often each lexical form occurs locally
and on the store (one SELECT grouped by literal per graph and datatype, run on the store: the forms
its answers give), and reports per
datatype how many literals did not come back as written, with one example. Strings and
language-tagged strings are not compared: every store keeps their lexical form (language tags are
case-insensitive, RDF 1.1 section 3.3, and may come back in lower case).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import pyoxigraph as ox

from kg.core.namespaces import RDF, XSD, shorten
from kg.stores.client import Client

_UNCHECKED = {f"{XSD}string", f"{RDF}langString"}


@dataclass(frozen=True)
class Changed:
    """Literals of one datatype that the store gives back in another form."""

    datatype: str
    count: int  # triples whose literal is not given back as written
    written: ox.Literal | None = None  # an example, as pushed
    given: ox.Literal | None = None  # ... and as the store gives it back (None: not found)

    def line(self) -> str:
        """One line for the user: datatype, count, example."""
        kind = shorten(self.datatype)
        noun = "literal" if self.count == 1 else "literals"
        example = ""
        if self.written is not None:
            given = _show(self.given) if self.given is not None else "something else"
            example = f" (e.g. {_show(self.written)} as {given})"
        return f"{self.count} {kind} {noun} came back from the store in another form{example}"


def _show(literal: ox.Literal) -> str:
    """``"P10Y"^^xsd:duration``: a literal with its datatype shortened."""
    if literal.language or literal.datatype.value == f"{XSD}string":
        return str(literal)
    return f"{ox.Literal(literal.value)}^^{shorten(literal.datatype.value)}"


def _typed(triples: Sequence[ox.Triple]) -> Counter:
    """(datatype, lexical form) -> how many triples have that literal as object."""
    return Counter(
        (t.object.datatype.value, t.object.value)
        for t in triples
        if isinstance(t.object, ox.Literal)
        and not t.object.language
        and t.object.datatype.value not in _UNCHECKED
    )


def _remote(client: Client, graph: str, datatype: str) -> Counter:
    """(datatype, lexical form) -> count, of the store's literals of ``datatype`` in ``graph``, as its
    answers write them (not ``STR()``: Virtuoso answers ``"1"^^xsd:boolean`` where STR gives "true")."""
    result = client.query(
        f"SELECT ?o (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} "
        f"FILTER (isLiteral(?o) && datatype(?o) = <{datatype}>) }} GROUP BY ?o"
    )
    found: Counter = Counter()
    for literal, n in result.rows:
        if isinstance(literal, ox.Literal):
            found[(literal.datatype.value, literal.value)] += int(n.value)
    return found


def _example(client: Client, graph: str, triples: Sequence[ox.Triple], missing: set) -> tuple:
    """One literal of ``missing`` as written, and what the store holds in its place (or None)."""
    for t in triples:
        o = t.object
        if not isinstance(t.subject, ox.NamedNode) or not isinstance(o, ox.Literal) or o.language:
            continue
        if (o.datatype.value, o.value) not in missing:
            continue
        here = {x.object for x in triples if x.subject == t.subject and x.predicate == t.predicate}
        result = client.query(
            f"SELECT ?o WHERE {{ GRAPH <{graph}> {{ {t.subject} {t.predicate} ?o }} FILTER (isLiteral(?o)) }}"
        )
        there = [row[0] for row in result.rows if row[0] is not None and row[0] not in here]
        return o, (there[0] if len(there) == 1 else None)
    return None, None


def check(graphs: Sequence[tuple[str, Sequence[ox.Triple]]], client: Client) -> list[Changed]:
    """For each datatype, the pushed literals that the store (``client``: its query endpoint) does not
    give back as written; ``graphs`` are (graph IRI on the store, triples pushed there)."""
    counts: Counter = Counter()
    examples: dict[str, tuple] = {}
    for iri, triples in graphs:
        here = _typed(triples)
        for datatype in sorted({d for d, _ in here}):
            there = _remote(client, iri, datatype)
            mine = Counter({k: n for k, n in here.items() if k[0] == datatype})
            lost = mine - there  # literals pushed more often than the store gives them back
            if lost:
                counts[datatype] += sum(lost.values())
                if datatype not in examples:
                    examples[datatype] = _example(client, iri, triples, set(lost))
    return [Changed(d, n, *examples.get(d, (None, None))) for d, n in sorted(counts.items())]
