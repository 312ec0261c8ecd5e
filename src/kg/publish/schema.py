"""The schema as the data uses it: what a researcher needs to write a query without reading Turtle.

For every class that the ontology defines or the data uses: its label and definition in one language,
its superclasses, how many things are of that class (as written, and with inference), and the
properties those things have, with how often each is used and what its values are (a class, a
datatype, or a language tag such as ``@nl``: ``skos:prefLabel "Zuid-Holland"@nl`` needs the tag).
For every property the ontology defines or the data uses: label, definition, declared domain and
range, and number of uses. Then the concept schemes with their codes (the values of the stored
queries' parameters), and the prefixes kg declares for every query.

Counts and value kinds come from the data itself, through :meth:`KnowledgeGraph.query`, so they never
disagree with it. The Turtle form uses VoID class and property partitions (VoID, W3C Interest Group
Note 2011-03-03, section 4.6) for the counts.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field

import pyoxigraph as ox

from kg.core.namespaces import ID, OWL, PREFIXES, RDF, RDFS, SKOS, VOID, shorten
from kg.graph import KnowledgeGraph

FORMATS = ("table", "json", "turtle")
_META = (OWL, RDFS, RDF)  # classes of the ontology's own description, not of the data

_LABELS = """
SELECT ?term ?kind ?text (LANG(?text) AS ?lang) WHERE {
  { ?term rdfs:label|skos:prefLabel ?text BIND ("label" AS ?kind) }
  UNION { ?term skos:definition|rdfs:comment ?text BIND ("definition" AS ?kind) }
  FILTER (isIRI(?term))
}"""
_CLASSES = """
SELECT ?class ?super WHERE {
  ?class a ?meta . FILTER (?meta IN (owl:Class, rdfs:Class) && isIRI(?class))
  OPTIONAL { ?class rdfs:subClassOf ?super FILTER (isIRI(?super) && ?super != ?class) }
}"""
_COUNTS = """
SELECT ?class (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?class FILTER (isIRI(?class)) } GROUP BY ?class"""
_USES = """
SELECT ?class ?property (COUNT(*) AS ?uses) WHERE {
  ?s a ?class ; ?property ?o . FILTER (?property != rdf:type && isIRI(?class))
}
GROUP BY ?class ?property"""
_KINDS = """
SELECT DISTINCT ?class ?property ?kind WHERE {
  ?s a ?class ; ?property ?o .
  FILTER (?property != rdf:type && isIRI(?class))
  OPTIONAL { ?o a ?objectClass }
  BIND (IF(isLITERAL(?o), IF(LANG(?o) != "", CONCAT("@", LANG(?o)), STR(DATATYPE(?o))),
           COALESCE(STR(?objectClass), IF(isIRI(?o), "IRI", "blank node"))) AS ?kind)
}"""
_PROPERTIES = """
SELECT ?property ?domain ?range WHERE {
  ?property a ?meta .
  FILTER (?meta IN (owl:ObjectProperty, owl:DatatypeProperty, owl:AnnotationProperty, rdf:Property)
          && isIRI(?property))
  OPTIONAL { ?property rdfs:domain ?domain FILTER isIRI(?domain) }
  OPTIONAL { ?property rdfs:range ?range FILTER isIRI(?range) }
}"""
_PROPERTY_COUNTS = "SELECT ?property (COUNT(*) AS ?n) WHERE { ?s ?property ?o } GROUP BY ?property"
_CONCEPTS = """
SELECT ?scheme ?concept ?code WHERE {
  ?concept skos:inScheme ?scheme ; skos:notation ?code .
}"""


@dataclass
class Use:
    """A property as the instances of one class use it."""

    property: str
    uses: int
    values: list[str]  # the kinds of value: classes, datatypes, @language tags, IRI, blank node


@dataclass
class ClassInfo:
    iri: str
    label: str
    definition: str
    superclasses: list[str]
    instances: int  # things typed with it in the data as written
    inferred_instances: int  # ... and with inference (subclasses, domains, ranges, hasValue)
    defined: bool  # in the ontology (not only used in the data)
    properties: list[Use] = field(default_factory=list)


@dataclass
class PropertyInfo:
    iri: str
    label: str
    definition: str
    domain: list[str]
    range: list[str]
    uses: int
    defined: bool


@dataclass
class Concept:
    iri: str
    code: str
    label: str


@dataclass
class Schema:
    lang: str
    classes: list[ClassInfo]
    properties: list[PropertyInfo]
    schemes: dict[str, list[Concept]]
    prefixes: dict[str, str]

    def names(self) -> set[str]:
        """Every prefixed name this schema prints (classes, properties, value kinds, concepts)."""
        found = {c.iri for c in self.classes} | {p.iri for p in self.properties}
        for cls in self.classes:
            found |= {u.property for u in cls.properties} | {v for u in cls.properties for v in u.values}
        for concepts in self.schemes.values():
            found |= {c.iri for c in concepts}
        return found | set(self.schemes)


def _text(rows: list[tuple[str, str]], lang: str) -> str:
    """The text in ``lang``, else one without a tag, else English, else any (first in sort order)."""
    by_lang = dict(sorted(rows, reverse=True))
    for wanted in (lang, "", "en"):
        if wanted in by_lang:
            return by_lang[wanted]
    return by_lang[min(by_lang)] if by_lang else ""


def _short(iri: str) -> str:
    return shorten(iri) if "://" in iri else iri


def _order(iri: str) -> tuple[bool, str]:
    """kg's own terms first, then the others, each by prefixed name."""
    name = _short(iri)
    return (not name.startswith("mi:"), name.lower())


def schema(graph: KnowledgeGraph, lang: str = "nl") -> Schema:
    """Describe the classes, properties, concept schemes and prefixes of ``graph``."""
    texts: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for row in graph.query(_LABELS, infer=False):
        texts[(row["term"], row["kind"])].append((row["lang"] or "", row["text"]))

    def label(iri: str) -> str:
        return _text(texts[(iri, "label")], lang)

    def definition(iri: str) -> str:
        return _text(texts[(iri, "definition")], lang)

    supers: dict[str, set[str]] = defaultdict(set)
    for row in graph.query(_CLASSES, infer=False):
        supers[row["class"]]
        if row["super"]:
            supers[row["class"]].add(row["super"])
    asserted = {r["class"]: r["n"] for r in graph.query(_COUNTS, infer=False)}
    inferred = {r["class"]: r["n"] for r in graph.query(_COUNTS, infer=True)}
    uses: dict[str, dict[str, int]] = defaultdict(dict)
    for row in graph.query(_USES, infer=False):
        uses[row["class"]][row["property"]] = row["uses"]
    kinds: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in graph.query(_KINDS, infer=False):
        kinds[(row["class"], row["property"])].add(_short(row["kind"]))

    classes = []
    for iri in sorted(set(supers) | set(asserted), key=_order):
        if iri.startswith(_META) or (iri not in supers and iri not in uses):
            continue
        props = [Use(_short(p), n, sorted(kinds[(iri, p)])) for p, n in uses[iri].items()]
        classes.append(
            ClassInfo(
                iri=_short(iri),
                label=label(iri),
                definition=definition(iri),
                superclasses=sorted(_short(s) for s in supers.get(iri, ())),
                instances=asserted.get(iri, 0),
                inferred_instances=inferred.get(iri, 0),
                defined=iri in supers,
                properties=sorted(props, key=lambda u: _order(u.property)),
            )
        )

    declared: dict[str, tuple[set[str], set[str]]] = defaultdict(lambda: (set(), set()))
    for row in graph.query(_PROPERTIES, infer=False):
        domains, ranges = declared[row["property"]]
        if row["domain"]:
            domains.add(row["domain"])
        if row["range"]:
            ranges.add(row["range"])
    counts = {r["property"]: r["n"] for r in graph.query(_PROPERTY_COUNTS, infer=False)}
    used = {p for by_class in uses.values() for p in by_class}
    properties = [
        PropertyInfo(
            iri=_short(iri),
            label=label(iri),
            definition=definition(iri),
            domain=sorted(_short(d) for d in declared[iri][0]) if iri in declared else [],
            range=sorted(_short(r) for r in declared[iri][1]) if iri in declared else [],
            uses=counts.get(iri, 0),
            defined=iri in declared,
        )
        for iri in sorted(set(declared) | used, key=_order)
        if not iri.startswith(_META) or iri in declared
    ]

    schemes: dict[str, list[Concept]] = defaultdict(list)
    for row in graph.query(_CONCEPTS, infer=False):
        schemes[_short(row["scheme"])].append(
            Concept(_short(row["concept"]), row["code"], label(row["concept"]))
        )
    for concepts in schemes.values():
        concepts.sort(key=lambda c: c.code)
    return Schema(lang, classes, properties, dict(sorted(schemes.items())), dict(PREFIXES))


# --- output --------------------------------------------------------------------------------------

HEADINGS = {
    "nl": {
        "classes": "Klassen",
        "properties": "Eigenschappen",
        "schemes": "Begrippenkaders (codes voor parameters en queries)",
        "prefixes": "Voorvoegsels (bekend in elke query)",
        "sub": "subklasse van",
        "instances": "exemplaren",
        "inferred": "met inferentie",
        "uses": "keer gebruikt",
        "domain": "domein",
        "range": "bereik",
        "values": "waarden",
        "none": "niet gebruikt in de data",
    },
    "en": {
        "classes": "Classes",
        "properties": "Properties",
        "schemes": "Concept schemes (codes for parameters and queries)",
        "prefixes": "Prefixes (known in every query)",
        "sub": "subclass of",
        "instances": "instances",
        "inferred": "with inference",
        "uses": "uses",
        "domain": "domain",
        "range": "range",
        "values": "values",
        "none": "not used in the data",
    },
}


def table(s: Schema) -> str:
    """A readable text listing, full text (nothing cut), for a terminal or a pager."""
    h = HEADINGS[s.lang]
    out = [f"# {h['classes']}", ""]
    for c in s.classes:
        title = f"{c.iri}" + (f"  ({c.label})" if c.label else "")
        counts = f"{h['instances']}: {c.instances}, {h['inferred']}: {c.inferred_instances}"
        out.append(f"{title}  [{counts}]")
        if c.superclasses:
            out.append(f"  {h['sub']} {', '.join(c.superclasses)}")
        if c.definition:
            out.append(f"  {c.definition}")
        width = max((len(u.property) for u in c.properties), default=0)
        for u in c.properties:
            out.append(f"    {u.property.ljust(width)}  {', '.join(u.values)}  ({u.uses}x)")
        out.append("")
    out += [f"# {h['properties']}", ""]
    for p in s.properties:
        title = f"{p.iri}" + (f"  ({p.label})" if p.label else "")
        out.append(f"{title}  [{h['uses']}: {p.uses}]" if p.uses else f"{title}  [{h['none']}]")
        if p.domain:
            out.append(f"  {h['domain']}: {', '.join(p.domain)}")
        if p.range:
            out.append(f"  {h['range']}: {', '.join(p.range)}")
        if p.definition:
            out.append(f"  {p.definition}")
    out += ["", f"# {h['schemes']}", ""]
    for scheme, concepts in s.schemes.items():
        out.append(scheme)
        width = max(len(c.code) for c in concepts)
        out += [f"  {c.code.ljust(width)}  {c.iri}  {c.label}" for c in concepts]
    out += ["", f"# {h['prefixes']}", ""]
    width = max(len(p) for p in s.prefixes)
    out += [f"PREFIX {(p + ':').ljust(width + 1)} <{ns}>" for p, ns in s.prefixes.items()]
    return "\n".join(out) + "\n"


def to_json(s: Schema) -> str:
    """The schema as JSON (the dataclasses' fields; names as prefixed names)."""
    return json.dumps(asdict(s), ensure_ascii=False, indent=2) + "\n"


def _node(name: str) -> ox.NamedNode:
    if name.startswith("<") and name.endswith(">"):
        return ox.NamedNode(name[1:-1])
    prefix, _, local = name.partition(":")
    return ox.NamedNode(PREFIXES[prefix] + local)


def turtle(s: Schema) -> bytes:
    """The schema as RDF: labels, definitions, domains and ranges, and VoID partitions with counts."""
    q: list[ox.Triple] = []
    lang = s.lang

    def add(subject: ox.NamedNode | ox.BlankNode, predicate: str, obj: ox.NamedNode | ox.Literal) -> None:
        q.append(ox.Triple(subject, ox.NamedNode(predicate), obj))

    def integer(n: int) -> ox.Literal:
        return ox.Literal(str(n), datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))

    dataset = ox.NamedNode(ID + "dataset/kg")
    add(dataset, RDF + "type", ox.NamedNode(VOID + "Dataset"))
    for prefix, ns in s.prefixes.items():
        vocab = ox.BlankNode()
        add(dataset, VOID + "vocabulary", ox.NamedNode(ns))
        add(vocab, "http://purl.org/vocab/vann/preferredNamespacePrefix", ox.Literal(prefix))
        add(vocab, "http://purl.org/vocab/vann/preferredNamespaceUri", ox.Literal(ns))
    for c in s.classes:
        node = _node(c.iri)
        add(node, RDF + "type", ox.NamedNode(OWL + "Class"))
        if c.label:
            add(node, RDFS + "label", ox.Literal(c.label, language=lang))
        if c.definition:
            add(node, SKOS + "definition", ox.Literal(c.definition, language=lang))
        for sup in c.superclasses:
            add(node, RDFS + "subClassOf", _node(sup))
        part = ox.BlankNode()
        add(dataset, VOID + "classPartition", part)
        add(part, VOID + "class", node)
        add(part, VOID + "entities", integer(c.instances))
        for u in c.properties:
            pp = ox.BlankNode()
            add(part, VOID + "propertyPartition", pp)
            add(pp, VOID + "property", _node(u.property))
            add(pp, VOID + "triples", integer(u.uses))
    for p in s.properties:
        node = _node(p.iri)
        add(node, RDF + "type", ox.NamedNode(RDF + "Property"))
        if p.label:
            add(node, RDFS + "label", ox.Literal(p.label, language=lang))
        if p.definition:
            add(node, SKOS + "definition", ox.Literal(p.definition, language=lang))
        for d in p.domain:
            add(node, RDFS + "domain", _node(d))
        for r in p.range:
            add(node, RDFS + "range", _node(r))
        part = ox.BlankNode()
        add(dataset, VOID + "propertyPartition", part)
        add(part, VOID + "property", node)
        add(part, VOID + "triples", integer(p.uses))
    for scheme, concepts in s.schemes.items():
        for c in concepts:
            node = _node(c.iri)
            add(node, SKOS + "inScheme", _node(scheme))
            add(node, SKOS + "notation", ox.Literal(c.code))
            if c.label:
                add(node, SKOS + "prefLabel", ox.Literal(c.label, language=lang))
    prefixes = {**s.prefixes, "void": VOID, "vann": "http://purl.org/vocab/vann/"}
    return ox.serialize(q, format=ox.RdfFormat.TURTLE, prefixes=prefixes)


def render(s: Schema, fmt: str) -> bytes:
    """The schema in ``fmt`` (one of FORMATS)."""
    if fmt == "turtle":
        return turtle(s)
    return (to_json(s) if fmt == "json" else table(s)).encode("utf-8")
