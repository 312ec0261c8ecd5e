"""Serializing the graph: triple formats merge the graphs, quad formats keep them apart."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyoxigraph as ox

from kg.core.errors import UsageError
from kg.core.namespaces import PREFIXES
from kg.core.results import GRAPH_FORMATS
from kg.core.xmlchars import check_triples, rdf_xml

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
        quads = [ox.Quad(t.subject, t.predicate, t.object, g) for g in graphs for t in kg.triples(g)]
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
    if fmt == "xml":  # XML 1.0 cannot hold every character a literal can (kg.core.xmlchars)
        check_triples(triples, "--format xml (RDF/XML)", [*kg.ontology_files, *kg.data_files])
        return rdf_xml(triples, PREFIXES)
    return ox.serialize(triples, format=rdf_format, prefixes=PREFIXES)
