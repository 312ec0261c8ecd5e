"""Every conversion between rdflib and pyoxigraph terms, in one place."""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox

from kg.core.namespaces import PREFIXES


def to_ox(term: object) -> ox.NamedNode | ox.BlankNode | ox.Literal | None:
    """An rdflib term as the equal pyoxigraph term (None stays None)."""
    import rdflib

    if term is None:
        return None
    if isinstance(term, rdflib.URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, rdflib.BNode):
        return ox.BlankNode(str(term))
    if term.language:
        return ox.Literal(str(term), language=term.language)
    if term.datatype is not None:
        return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
    return ox.Literal(str(term))


def from_ox(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> object:
    """A pyoxigraph term as the equal rdflib term."""
    import rdflib

    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if term.language:
        return rdflib.Literal(term.value, lang=term.language)
    datatype = term.datatype.value
    if datatype == "http://www.w3.org/2001/XMLSchema#string":
        return rdflib.Literal(term.value)
    return rdflib.Literal(term.value, datatype=rdflib.URIRef(datatype))


def to_rdflib_graph(triples: Iterable[ox.Triple]) -> object:
    """An rdflib.Graph holding ``triples``, with kg's prefixes bound."""
    import rdflib

    graph = rdflib.Graph()
    for t in triples:
        graph.add((from_ox(t.subject), from_ox(t.predicate), from_ox(t.object)))
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace, override=True)
    return graph


def to_ox_triple(triple: tuple) -> ox.Triple:
    """An rdflib (s, p, o) tuple as a pyoxigraph Triple."""
    s, p, o = triple
    return ox.Triple(to_ox(s), to_ox(p), to_ox(o))
