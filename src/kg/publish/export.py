"""Serializing the graph: triple formats merge the graphs, quad formats keep them apart."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyoxigraph as ox

from kg.core.errors import UsageError
from kg.core.namespaces import PREFIXES
from kg.core.results import GRAPH_FORMATS

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph

EXPORT_FORMATS = tuple(GRAPH_FORMATS)


def serialize(kg: KnowledgeGraph, fmt: str, *, inferred: bool = False) -> bytes:
    """Ontology and data (and the inferred graph if ``inferred``) in ``fmt``."""
    if fmt not in GRAPH_FORMATS:
        raise UsageError(f"unknown export format {fmt!r} (known: {', '.join(EXPORT_FORMATS)})")
    rdf_format = GRAPH_FORMATS[fmt]
    graphs = kg.graphs(inferred=inferred)
    if fmt in ("trig", "nquads"):
        quads = [q for g in graphs for q in kg.quads(g)]
        return ox.serialize(quads, format=rdf_format, prefixes=PREFIXES)
    seen: set[ox.Triple] = set()
    triples = []
    for graph in graphs:
        for triple in kg.triples(graph):
            if triple not in seen:
                seen.add(triple)
                triples.append(triple)
    if fmt == "jsonld":
        from kg.publish.jsonld import serialize as jsonld

        return jsonld(triples)
    return ox.serialize(triples, format=rdf_format, prefixes=PREFIXES)
