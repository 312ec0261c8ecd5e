"""IRIs of the kg dataset: the one place where the base namespace is configured.

Follows the Dutch URI strategy (NL URI-strategie): terms under ``{BASE}def/``, things under ``{BASE}id/``.
The Turtle files in ``ontology/``, ``shapes/`` and ``data/`` use these same namespaces; a test checks
that every prefix they declare under the base agrees with this module.
"""

from __future__ import annotations

import re

BASE = "https://w3id.org/initiatieven/"
DEF = BASE + "def/"
ID = BASE + "id/"
SHAPES = DEF + "shape/"
GRAPH = BASE + "graph/"

ONTOLOGY_GRAPH = GRAPH + "ontology"
DATA_GRAPH = GRAPH + "data"
INFERRED_GRAPH = GRAPH + "inferred"

# Standard vocabularies (one owner: every module imports these instead of spelling the IRIs again).
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SH = "http://www.w3.org/ns/shacl#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCT = "http://purl.org/dc/terms/"
DCAT = "http://www.w3.org/ns/dcat#"
PROV = "http://www.w3.org/ns/prov#"
SCHEMA = "https://schema.org/"
REGORG = "http://www.w3.org/ns/regorg#"
RDF_TYPE = RDF + "type"
SD = "http://www.w3.org/ns/sparql-service-description#"
VOID = "http://rdfs.org/ns/void#"

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
    "rov": REGORG,
    "skos": SKOS,
    "dct": DCT,
    "dcat": DCAT,
    "prov": PROV,
    "schema": SCHEMA,
    "foaf": "http://xmlns.com/foaf/0.1/",
    "owl": OWL,
    "rdf": RDF,
    "rdfs": RDFS,
    "xsd": XSD,
    "sh": SH,
}


def shorten(iri: str) -> str:
    """Return ``prefix:local`` for an IRI under a known namespace, else ``<iri>``.

    The longest namespace whose local part is a plain name (letters, digits, ``-_.``) wins."""
    best, size = "", 0
    for end, char in enumerate(iri):  # namespaces end in / or #: look those up (fast for long tables)
        if char in "/#":
            prefix = _BY_NAMESPACE.get(iri[: end + 1])
            if prefix is not None and end + 1 > size and _LOCAL.fullmatch(iri, end + 1):
                best, size = prefix, end + 1
    for prefix, ns in _OTHER:
        if len(ns) > size and iri.startswith(ns) and _LOCAL.fullmatch(iri, len(ns)):
            best, size = prefix, len(ns)
    return f"{best}:{iri[size:]}" if best else f"<{iri}>"


_LOCAL = re.compile(r"[\w.-]+")
_BY_NAMESPACE: dict[str, str] = {}
for _prefix, _ns in PREFIXES.items():
    if _ns.endswith(("/", "#")):
        _BY_NAMESPACE.setdefault(_ns, _prefix)
_OTHER = [(p, ns) for p, ns in PREFIXES.items() if not ns.endswith(("/", "#"))]
