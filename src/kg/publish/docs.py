"""HTML documentation of the ontology, the concept schemes and the shapes, in Dutch or English.

Generated from the Turtle files (labels, definitions, domains, ranges, hierarchies, SHACL
constraints), so it never disagrees with them. One self-contained page per language.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from html import escape

import pyoxigraph as ox

from kg.core import bundle
from kg.core.loading import load_files
from kg.core.namespaces import DEF, PREFIXES, SHAPES, shorten
from kg.graph import ONTOLOGY, KnowledgeGraph
from kg.publish.axioms import Axioms

TEXT = {
    "nl": {
        "title": "Ontologie van maatschappelijke initiatieven",
        "classes": "Klassen",
        "object": "Objecteigenschappen",
        "datatype": "Datatype-eigenschappen",
        "schemes": "Begrippenkaders",
        "shapes": "SHACL-vormen",
        "iri": "IRI",
        "sub": "Subklasse van",
        "domain": "Domein",
        "range": "Bereik",
        "inverse": "Omgekeerde van",
        "superprop": "Subeigenschap van",
        "code": "code",
        "label": "term",
        "definition": "definitie",
        "broader": "breder",
        "target": "Doelklasse",
        "path": "pad",
        "card": "aantal",
        "constraint": "eis",
        "severity": "ernst",
        "message": "melding",
        "version": "Versie",
        "licence": "Licentie",
        "prefix": "Voorvoegsel",
        "other": "English",
        "other_href": "ontology.en.html",
        "generated": "Gegenereerd uit de Turtle-bestanden van kg.",
        "contents": "Inhoud",
        "diagram": "Klassendiagram",
        "diagram_note": "Pijlen wijzen van een klasse naar haar superklasse.",
        "version_iri": "Versie-IRI",
        "creator": "Maker",
        "created": "Aangemaakt",
        "modified": "Gewijzigd",
        "axioms": "Axioma's",
        "domain_of": "Domein van",
        "range_of": "Bereik van",
        "subclasses": "Subklassen",
        "subprops": "Subeigenschappen",
    },
    "en": {
        "title": "Ontology of citizen initiatives",
        "classes": "Classes",
        "object": "Object properties",
        "datatype": "Datatype properties",
        "schemes": "Concept schemes",
        "shapes": "SHACL shapes",
        "iri": "IRI",
        "sub": "Subclass of",
        "domain": "Domain",
        "range": "Range",
        "inverse": "Inverse of",
        "superprop": "Subproperty of",
        "code": "code",
        "label": "label",
        "definition": "definition",
        "broader": "broader",
        "target": "Target class",
        "path": "path",
        "card": "count",
        "constraint": "constraint",
        "severity": "severity",
        "message": "message",
        "version": "Version",
        "licence": "Licence",
        "prefix": "Prefix",
        "other": "Nederlands",
        "other_href": "ontology.nl.html",
        "generated": "Generated from kg's Turtle files.",
        "contents": "Contents",
        "diagram": "Class diagram",
        "diagram_note": "Arrows point from a class to its superclass.",
        "version_iri": "Version IRI",
        "creator": "Creator",
        "created": "Created",
        "modified": "Modified",
        "axioms": "Axioms",
        "domain_of": "Domain of",
        "range_of": "Range of",
        "subclasses": "Subclasses",
        "subprops": "Subproperties",
    },
}
CSS = """body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;
line-height:1.45;color:#222}h1{font-size:1.7rem}h2{border-bottom:2px solid #0072B2;padding-top:1rem}
h3{margin-bottom:.2rem}code{background:#f3f3f3;padding:0 .2rem}table{border-collapse:collapse;
width:100%;margin:.5rem 0 1.5rem}th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;
vertical-align:top}th{background:#eef4f9}dl{display:grid;grid-template-columns:10rem 1fr;gap:.2rem 1rem}
dt{font-weight:600}.term{margin-bottom:1.2rem}nav ol{columns:3}.axiom code{display:block;
margin:.1rem 0 .4rem}svg text{font-family:system-ui,sans-serif;font-size:12px}"""


def _rows(kg: KnowledgeGraph, query: str) -> list[dict]:
    """The rows of a SELECT over the ontology graph alone, as dicts of terms."""
    result = kg.query(query, graphs=[ONTOLOGY])
    return [dict(zip(result.variables, row, strict=True)) for row in result.rows]


def _shape_rows(store: ox.Store, query: str) -> list[dict]:
    """The rows of a SELECT over the shapes, which are not part of the graph."""
    answer = store.query(query, prefixes=PREFIXES, use_default_graph_as_union=True)
    names = [v.value for v in answer.variables]
    return [{n: sol[n] for n in names} for sol in answer]


class _Page:
    def __init__(self, kg: KnowledgeGraph, lang: str):
        self.kg, self.lang, self.t = kg, lang, TEXT[lang]
        self.labels: dict[str, str] = {}
        for row in _rows(kg, "SELECT ?s ?l WHERE { ?s rdfs:label|skos:prefLabel ?l }"):
            if row["l"].language in (lang, None) or row["s"].value not in self.labels:  # lang wins
                self.labels[row["s"].value] = row["l"].value
        self.axiom_reader = Axioms(
            kg.triples(ONTOLOGY), shorten, lang, label=lambda iri: self.labels.get(iri, shorten(iri))
        )

    def text(self, node: ox.NamedNode, predicate: str) -> str:
        values = _rows(self.kg, f"SELECT ?v WHERE {{ <{node.value}> {predicate} ?v }}")
        best = [r["v"].value for r in values if getattr(r["v"], "language", None) == self.lang] or [
            r["v"].value for r in values
        ]
        return escape(best[0]) if best else ""

    def link(self, term: ox.NamedNode | ox.BlankNode | None) -> str:
        if not isinstance(term, ox.NamedNode):
            return ""
        iri = term.value
        label = escape(self.labels.get(iri, shorten(iri)))
        if iri.startswith(DEF):
            return f'<a href="#{escape(iri[len(DEF) :])}">{label}</a>'
        return f'<a href="{escape(iri)}">{escape(shorten(iri))}</a>'

    def term_list(self, kind: str) -> list[ox.NamedNode]:
        """kg's own terms of ``kind``, sorted by their label in the page's language."""
        rows = _rows(
            self.kg,
            f"""SELECT ?t WHERE {{ ?t a {kind} .
            FILTER (isIRI(?t) && STRSTARTS(STR(?t), STR(mi:))) }}""",
        )
        terms = [r["t"] for r in rows]
        return sorted(terms, key=lambda t: (self.labels.get(t.value, t.value).casefold(), t.value))

    def backlinks(self, term: ox.NamedNode) -> list[str]:
        """What points at a term: the properties it is the domain or range of, its subclasses and
        subproperties."""
        facts = []
        for predicate, key in (
            ("rdfs:domain", "domain_of"),
            ("rdfs:range", "range_of"),
            ("rdfs:subClassOf", "subclasses"),
            ("rdfs:subPropertyOf", "subprops"),
        ):
            found = _rows(self.kg, f"SELECT ?s WHERE {{ ?s {predicate} <{term.value}> FILTER isIRI(?s) }}")
            links = sorted((self.link(r["s"]) for r in found), key=lambda html: html.casefold())
            if links:
                facts.append(f"<dt>{self.t[key]}</dt><dd>{', '.join(links)}</dd>")
        return facts

    def axioms(self, term: ox.NamedNode) -> list[str]:
        """The restrictions and equivalences of a class, in words and in Manchester-like syntax."""
        found = self.axiom_reader.of(term.value, self.labels.get(term.value, shorten(term.value)))
        if not found:
            return []
        items = "".join(
            f'<li class="axiom">{escape(a.words)}<code>{escape(a.manchester)}</code></li>' for a in found
        )
        return [f"<dt>{self.t['axioms']}</dt><dd><ul>{items}</ul></dd>"]

    def terms(self, kind: str) -> str:
        rows = [{"t": t} for t in self.term_list(kind)]
        out = []
        relations = (
            ("rdfs:subClassOf", "sub"),
            ("rdfs:subPropertyOf", "superprop"),
            ("rdfs:domain", "domain"),
            ("rdfs:range", "range"),
            ("owl:inverseOf", "inverse"),
        )
        for row in rows:
            term = row["t"]
            local = term.value[len(DEF) :]
            facts = [f"<dt>{self.t['iri']}</dt><dd><code>{escape(term.value)}</code></dd>"]
            for predicate, key in relations:
                found = _rows(
                    self.kg,
                    f"SELECT ?o WHERE {{ <{term.value}> {predicate} ?o }} ORDER BY ?o",
                )
                links = [self.link(r["o"]) for r in found if isinstance(r["o"], ox.NamedNode)]
                if links:
                    facts.append(f"<dt>{self.t[key]}</dt><dd>{', '.join(links)}</dd>")
            facts += self.axioms(term) + self.backlinks(term)
            out.append(
                f'<div class="term" id="{escape(local)}"><h3>{escape(self.labels.get(term.value, local))}'
                f" <small><code>mi:{escape(local)}</code></small></h3>"
                f"<p>{self.text(term, 'skos:definition')}</p><dl>{''.join(facts)}</dl></div>"
            )
        return "\n".join(out)

    def schemes(self) -> str:
        out = []
        schemes = _rows(self.kg, "SELECT ?s WHERE { ?s a skos:ConceptScheme } ORDER BY ?s")
        for row in schemes:
            scheme = row["s"]
            concepts = _rows(
                self.kg,
                f"""SELECT ?c ?code ?up WHERE {{
                ?c skos:inScheme <{scheme.value}> ; skos:notation ?code .
                OPTIONAL {{ ?c skos:broader ?up }} }}""",
            )
            children = defaultdict(list)
            for c in concepts:
                children[c["up"].value if c["up"] else None].append(c)
            lines: list[str] = []
            self._concept_rows(children, None, 0, lines)
            t = self.t
            out.append(
                f"<h3>{escape(self.labels.get(scheme.value, shorten(scheme.value)))}</h3>"
                f"<p>{self.text(scheme, 'skos:definition')} <code>{escape(scheme.value)}</code></p>"
                f"<table><tr><th>{t['code']}</th><th>{t['label']}</th><th>{t['definition']}</th>"
                f"<th>{t['broader']}</th></tr>{''.join(lines)}</table>"
            )
        return "\n".join(out)

    def _concept_rows(self, children: dict, parent: str | None, depth: int, lines: list[str]) -> None:
        """Table rows for the concepts under ``parent``, each followed by its narrower ones, indented."""
        for c in sorted(children.get(parent, []), key=lambda r: r["code"].value):
            pad = "&#160;" * 4 * depth
            up = self.labels.get(c["up"].value, "") if c["up"] else ""
            lines.append(
                f'<tr id="{escape(c["code"].value)}"><td>{pad}<code>{escape(c["code"].value)}'
                f"</code></td><td>{escape(self.labels.get(c['c'].value, ''))}</td>"
                f"<td>{self.text(c['c'], 'skos:definition')}</td><td>{escape(up)}</td></tr>"
            )
            self._concept_rows(children, c["c"].value, depth + 1, lines)

    def shapes(self) -> str:
        store = ox.Store()
        graph = ox.NamedNode("urn:x-kg:shapes")
        load_files(store, bundle.shapes_files(), graph)
        nodes = _shape_rows(
            store,
            "SELECT ?s ?target WHERE { ?s a sh:NodeShape . "
            "OPTIONAL { ?s sh:targetClass ?target } } ORDER BY ?s",
        )
        t = self.t
        out = []
        for node in nodes:
            props = _shape_rows(
                store,
                f"""SELECT ?p ?path ?min ?max ?dt ?class ?pattern ?sev WHERE {{
                <{node["s"].value}> sh:property ?p . ?p sh:path ?path .
                OPTIONAL {{ ?p sh:minCount ?min }} OPTIONAL {{ ?p sh:maxCount ?max }}
                OPTIONAL {{ ?p sh:datatype ?dt }} OPTIONAL {{ ?p sh:class ?class }}
                OPTIONAL {{ ?p sh:pattern ?pattern }} OPTIONAL {{ ?p sh:severity ?sev }} }} ORDER BY ?p""",
            )
            rows = []
            for p in props:
                card = f"{p['min'].value if p['min'] else 0}..{p['max'].value if p['max'] else '*'}"
                constraint = " ".join(escape(shorten(p[k].value)) for k in ("dt", "class") if p[k])
                if p["pattern"]:
                    constraint += f" <code>{escape(p['pattern'].value)}</code>"
                messages = _shape_rows(store, f"SELECT ?m WHERE {{ <{p['p'].value}> sh:message ?m }}")
                message = next((m["m"].value for m in messages if m["m"].language == self.lang), "")
                path = p["path"].value if isinstance(p["path"], ox.NamedNode) else ""
                severity = escape(p["sev"].value.rsplit("#", 1)[-1]) if p["sev"] else ""
                rows.append(
                    f"<tr><td><code>{escape(shorten(path))}</code></td><td>{card}</td>"
                    f"<td>{constraint}</td><td>{severity}</td><td>{escape(message)}</td></tr>"
                )
            name = (
                node["s"].value[len(SHAPES) :]
                if node["s"].value.startswith(SHAPES)
                else shorten(node["s"].value)
            )
            target = f"{t['target']}: {self.link(node['target'])}" if node["target"] else ""
            table = (
                (
                    f"<table><tr><th>{t['path']}</th><th>{t['card']}</th><th>{t['constraint']}</th>"
                    f"<th>{t['severity']}</th><th>{t['message']}</th></tr>{''.join(rows)}</table>"
                )
                if rows
                else ""
            )
            out.append(f'<h3 id="shape-{escape(name)}">{escape(name)}</h3><p>{target}</p>{table}')
        return "\n".join(out)

    def render(self) -> str:
        t = self.t
        onto = ox.NamedNode(DEF[:-1])
        meta = (
            f"<dl><dt>{t['iri']}</dt><dd><code>{escape(onto.value)}</code></dd>"
            f"<dt>{t['prefix']}</dt><dd><code>mi: {escape(DEF)}</code></dd>"
            f"<dt>{t['version']}</dt><dd>{self.text(onto, 'owl:versionInfo')}</dd>"
            f"<dt>{t['version_iri']}</dt><dd><code>{self.text(onto, 'owl:versionIRI')}</code></dd>"
            f"<dt>{t['creator']}</dt><dd>{self.text(onto, 'dct:creator')}</dd>"
            f"<dt>{t['created']}</dt><dd>{self.text(onto, 'dct:created')}</dd>"
            + (
                f"<dt>{t['modified']}</dt><dd>{self.text(onto, 'dct:modified')}</dd>"
                if self.text(onto, "dct:modified")
                else ""
            )
            + f"<dt>{t['licence']}</dt><dd>{self.text(onto, 'dct:license')}</dd></dl>"
        )
        sections = (
            ("classes", "owl:Class"),
            ("object", "owl:ObjectProperty"),
            ("datatype", "owl:DatatypeProperty"),
        )
        entries = [f'<li><a href="#diagram">{t["diagram"]}</a></li>']
        for key, kind in sections:
            inner = "".join(f"<li>{self.link(term)}</li>" for term in self.term_list(kind))
            entries.append(f'<li><a href="#{key}">{t[key]}</a><ol>{inner}</ol></li>')
        entries += [f'<li><a href="#{key}">{t[key]}</a></li>' for key in ("schemes", "shapes")]
        nav = f"<h2>{t['contents']}</h2><ol>{''.join(entries)}</ol>"
        diagram = f'<h2 id="diagram">{t["diagram"]}</h2><p>{t["diagram_note"]}</p>' + class_diagram(
            self.kg, lambda iri: self.labels.get(iri, shorten(iri))
        )
        body = diagram + "".join(f'<h2 id="{key}">{t[key]}</h2>{self.terms(kind)}' for key, kind in sections)
        return (
            f'<!DOCTYPE html>\n<html lang="{self.lang}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{t['title']}</title><style>{CSS}</style></head><body>"
            f'<p><a href="{t["other_href"]}">{t["other"]}</a></p><h1>{t["title"]}</h1>'
            f"<p>{self.text(onto, 'dct:description')}</p>{meta}<nav>{nav}</nav>{body}"
            f'<h2 id="schemes">{t["schemes"]}</h2>{self.schemes()}'
            f'<h2 id="shapes">{t["shapes"]}</h2>{self.shapes()}'
            f"<hr><p><small>{t['generated']}</small></p></body></html>\n"
        )


def class_diagram(kg: KnowledgeGraph, label: Callable[[str], str]) -> str:
    """kg's classes and their named superclasses as an inline SVG (drawn here, no layout library):
    one row per depth in the hierarchy, roots at the top, an arrow from each class to its superclass."""
    rows = _rows(
        kg,
        """SELECT ?c ?super WHERE { ?c a owl:Class FILTER (isIRI(?c) && STRSTARTS(STR(?c), STR(mi:)))
           OPTIONAL { ?c rdfs:subClassOf ?super FILTER isIRI(?super) } }""",
    )
    parents: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        parents[r["c"].value]
        if r["super"] is not None:
            parents[r["c"].value].add(r["super"].value)
            parents[r["super"].value]
    depth: dict[str, int] = {}

    def level(node: str, seen: frozenset = frozenset()) -> int:
        if node not in depth:
            ups = [p for p in parents[node] if p not in seen]
            depth[node] = 1 + max((level(p, seen | {node}) for p in ups), default=-1)
        return depth[node]

    for node in parents:
        level(node)
    layers: dict[int, list[str]] = defaultdict(list)
    for node in sorted(parents, key=lambda n: label(n).casefold()):
        layers[depth[node]].append(node)
    char, pad, box_h, gap_y, gap_x = 7.0, 10, 26, 60, 16
    width = {n: len(label(n)) * char + 2 * pad for n in parents}
    total = max(sum(width[n] for n in layer) + gap_x * (len(layer) + 1) for layer in layers.values())
    place: dict[str, tuple[float, float]] = {}
    for d in sorted(layers):
        layer = layers[d]
        if d:  # under their superclasses (barycentre), so that arrows cross less
            layer.sort(key=lambda n: sum(place[p][0] + width[p] / 2 for p in parents[n]) / len(parents[n]))
        x = (total - sum(width[n] for n in layer) - gap_x * (len(layer) - 1)) / 2
        for n in layer:
            place[n] = (x, 10 + d * (box_h + gap_y))
            x += width[n] + gap_x
    height = 20 + (max(layers) + 1) * (box_h + gap_y) - gap_y
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {total:.0f} {height:.0f}" '
        f'width="{total:.0f}" height="{height:.0f}" role="img">'
        '<defs><marker id="up" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="9" markerHeight="9" '
        'orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="white" stroke="#555"/></marker></defs>'
    ]
    for child in sorted(parents):
        cx, cy = place[child]
        for parent in sorted(parents[child]):
            px, py = place[parent]
            parts.append(
                f'<line x1="{cx + width[child] / 2:.1f}" y1="{cy:.1f}" x2="{px + width[parent] / 2:.1f}" '
                f'y2="{py + box_h:.1f}" stroke="#555" marker-end="url(#up)"/>'
            )
    for node in sorted(parents):
        x, y = place[node]
        own = node.startswith(DEF)
        href = f"#{node[len(DEF) :]}" if own else node
        parts.append(
            f'<a href="{escape(href)}"><rect x="{x:.1f}" y="{y:.1f}" width="{width[node]:.1f}" '
            f'height="{box_h}" rx="4" fill="{"#eef4f9" if own else "#f6f6f6"}" stroke="#0072B2"/>'
            f'<text x="{x + width[node] / 2:.1f}" y="{y + 17:.1f}" text-anchor="middle">'
            f"{escape(label(node))}</text></a>"
        )
    parts.append("</svg>")
    return "".join(parts)


def ontology_html(kg: KnowledgeGraph, lang: str = "nl") -> str:
    """The documentation page in ``lang`` (nl or en)."""
    return _Page(kg, lang).render()
