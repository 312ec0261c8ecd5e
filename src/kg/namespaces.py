"""IRIs of the kg dataset: the one place where the base namespace is configured.

Follows the Dutch URI strategy (NL URI-strategie): terms under ``{BASE}def/``, things under ``{BASE}id/``.
The Turtle files in ``ontology/``, ``shapes/`` and ``data/`` use these same namespaces; a test checks
that every prefix they declare under the base agrees with this module.
"""

from __future__ import annotations

BASE = "https://w3id.org/initiatieven/"
DEF = BASE + "def/"
ID = BASE + "id/"
SHAPES = DEF + "shape/"
GRAPH = BASE + "graph/"

ONTOLOGY_GRAPH = GRAPH + "ontology"
DATA_GRAPH = GRAPH + "data"
INFERRED_GRAPH = GRAPH + "inferred"

PREFIXES: dict[str, str] = {
    "mi": DEF,
    "mish": SHAPES,
    "init": ID + "initiatief/",
    "kt": ID + "knelpunttype/",
    "act": ID + "activiteit/",
    "rv": ID + "rechtsvorm/",
    "bk": ID + "begrippenkader/",
    "plaats": ID + "plaats/",
    "dn": ID + "deelname/ruim-op-de-regels/",
    "ep": ID + "bron/experimentpartners/",
    "bron": ID + "bron/",
    "prog": ID + "programma/",
    "orgn": ID + "organisatie/",
    "gm": "https://identifier.overheid.nl/tooi/id/gemeente/",
    "pv": "https://identifier.overheid.nl/tooi/id/provincie/",
    "tooi": "https://identifier.overheid.nl/tooi/def/ont/",
    "elf": "https://rdf.gleif.org/EntityLegalForm/",
    "org": "http://www.w3.org/ns/org#",
    "rov": "http://www.w3.org/ns/regorg#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dct": "http://purl.org/dc/terms/",
    "dcat": "http://www.w3.org/ns/dcat#",
    "prov": "http://www.w3.org/ns/prov#",
    "schema": "https://schema.org/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "owl": "http://www.w3.org/2002/07/owl#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "sh": "http://www.w3.org/ns/shacl#",
}


def shorten(iri: str) -> str:
    """Return ``prefix:local`` for an IRI under a known namespace, else ``<iri>``."""
    best = ""
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and len(ns) > len(PREFIXES.get(best, "")):
            local = iri[len(ns):]
            if local and all(c.isalnum() or c in "-_." for c in local):
                best = prefix
    return f"{best}:{iri[len(PREFIXES[best]):]}" if best else f"<{iri}>"
