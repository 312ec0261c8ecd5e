"""HTML of the home page, the linked-data pages and error pages.

Everything that comes from the data is escaped; only http(s) IRIs become links; no inline script (the
Content-Security-Policy set by kg.serve.server forbids it): scripts and styles are files under /static/.
The query editor is YASGUI (vendored under /static/yasgui/, see README) driven by /static/editor.js,
which reads the stored queries from a ``<script type="application/json">`` block (data, not script).
"""

from __future__ import annotations

import json
from html import escape

import pyoxigraph as ox

from kg.core.namespaces import BASE, DEF, ID, PREFIXES, shorten
from kg.core.queries import StoredQuery

LANGUAGES = ("nl", "en")
WORDS = {
    "nl": {
        "property": "eigenschap",
        "value": "waarde",
        "references": "Verwijzingen",
        "initiatives": "Initiatieven",
        "number": "nr",
        "name": "naam",
        "municipality": "gemeente",
        "province": "provincie",
        "legal form": "rechtsvorm",
        "bottlenecks": "knelpunten",
        "heading": "Maatschappelijke initiatieven: Ruim op de Regels",
        "intro": "Linked data over de elf experimentpartners.",
        "query": "Query",
        "editor": "Elke opgeslagen query is een tabblad, met zijn parameters als velden; "
        "Ctrl+Enter voert uit.",
        "optional": "optioneel",
        "parameters": "Parameters",
        "other": "English",
    },
    "en": {
        "property": "property",
        "value": "value",
        "references": "Referred to by",
        "initiatives": "Initiatives",
        "number": "no",
        "name": "name",
        "municipality": "municipality",
        "province": "province",
        "legal form": "legal form",
        "bottlenecks": "bottlenecks",
        "heading": "Citizen initiatives: Ruim op de Regels",
        "intro": "Linked data about the eleven experiment partners.",
        "query": "Query",
        "editor": "Every stored query is a tab, with its parameters as fields; Ctrl+Enter runs it.",
        "optional": "optional",
        "parameters": "Parameters",
        "other": "Nederlands",
    },
}
ONTOLOGY = DEF.rstrip("/")


def local(iri: str) -> str:
    """A dataset IRI as a path on this server (so its page opens here); other IRIs unchanged."""
    if iri.startswith((ID, DEF)) or iri == ONTOLOGY:
        return "/" + iri[len(BASE) :]
    return iri


def link(iri: str, text: str) -> str:
    """An escaped link to ``iri``, or only its text when it is not an http(s) IRI (javascript:, data:)."""
    if iri.lower().startswith(("http://", "https://")):
        return f'<a href="{escape(local(iri))}">{escape(text)}</a>'
    return f"<span>{escape(text)}</span>"


def _page(
    title: str, body: str, lang: str, scripts: tuple[str, ...] = (), styles: tuple[str, ...] = ()
) -> str:
    links = "".join(f'<link rel="stylesheet" href="/static/{escape(s)}">' for s in (*styles, "kg.css"))
    tags = "".join(f'<script src="/static/{escape(s)}" defer></script>' for s in scripts)
    return (
        f'<!DOCTYPE html>\n<html lang="{escape(lang)}"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"{links}{tags}</head>"
        f"<body>{body}</body></html>\n"
    )


def _switch(path: str, lang: str) -> str:
    other = "en" if lang == "nl" else "nl"
    return f'<a href="{escape(path)}?lang={other}">{WORDS[lang]["other"]}</a>'


def _json(data: object) -> str:
    """JSON for a ``<script type="application/json">`` block: no ``<`` that could end it."""
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")


def home(initiatives: list[dict], stored: dict[str, StoredQuery], lang: str = "nl") -> str:
    """Initiatives with links to their pages, and a SPARQL editor with the stored queries."""
    w = WORDS[lang]

    def cell(value: object) -> str:
        return escape("" if value is None else str(value))

    rows = "".join(
        f"<tr><td>{cell(r['number'])}</td><td>{link(str(r['initiative']), str(r['name']))}</td>"
        f"<td>{cell(r['municipality'])}</td><td>{cell(r['province'])}</td>"
        f"<td>{cell(r['legalForm'])}</td><td>{cell(r['bottlenecks'])}</td></tr>"
        for r in initiatives
    )
    data = {
        "queries": {
            n: {
                "text": q.text,
                "summary": q.summary,
                "parameters": [
                    {"name": p.name, "type": p.type, "required": p.required, "example": p.example}
                    for p in q.parameters
                ],
            }
            for n, q in stored.items()
        },
        "prefixes": PREFIXES,
        "base": BASE,
        "local": [ID, DEF],
        "words": {"optional": w["optional"], "parameters": w["parameters"]},
    }
    body = (
        f"<p>{_switch('/', lang)}</p><h1>{escape(w['heading'])}</h1>"
        f"<p>{escape(w['intro'])} SPARQL: <code>/sparql</code> · "
        'API: <a href="/api/queries">/api/queries</a> · <a href="/openapi.json">OpenAPI</a></p>'
        f'<h2>{w["initiatives"]}</h2><table id="initiatives"><tr><th>{w["number"]}</th><th>{w["name"]}</th>'
        f"<th>{w['municipality']}</th><th>{w['province']}</th><th>{w['legal form']}</th>"
        f"<th>{w['bottlenecks']}</th></tr>{rows}</table>"
        f'<h2>{w["query"]}</h2><p>{escape(w["editor"])}</p><div id="params"></div><div id="yasgui"></div>'
        f'<script type="application/json" id="stored">{_json(data)}</script>'
    )
    return _page("kg", body, lang, ("yasgui/yasgui.min.js", "editor.js"), ("yasgui/yasgui.min.css",))


def _value(term: object, labels: dict[str, str]) -> str:
    if isinstance(term, ox.NamedNode):
        label = labels.get(term.value)
        text = f"{label} ({shorten(term.value)})" if label else shorten(term.value)
        return link(term.value, text)
    if isinstance(term, ox.Literal):
        tag = f" <small>@{escape(term.language)}</small>" if term.language else ""
        return escape(term.value) + tag
    return escape(str(term))


def resource(
    iri: str, triples: list[ox.Triple], labels: dict[str, str], incoming: list[str], lang: str = "nl"
) -> str:
    """The page of one resource: its statements, what refers to it, and links to its RDF."""
    w = WORDS[lang]
    title = labels.get(iri) or shorten(iri)
    rows = "".join(
        f"<tr><td>{_value(t.predicate, labels)}</td><td>{_value(t.object, labels)}</td></tr>"
        for t in sorted(triples, key=lambda t: (t.predicate.value, str(t.object)))
    )
    refs = "".join(f"<li>{link(s, labels.get(s) or shorten(s))}</li>" for s in incoming)
    path = local(iri)
    formats = " · ".join(f'<a href="{escape(path)}?format={f}">{f}</a>' for f in ("turtle", "jsonld", "nt"))
    body = (
        f'<p><a href="/">kg</a> · {_switch(path, lang)}</p><h1>{escape(title)}</h1>'
        f"<p><code>{escape(iri)}</code></p>"
        f"<table><tr><th>{w['property']}</th><th>{w['value']}</th></tr>{rows}</table>"
        + (f"<h2>{w['references']}</h2><ul>{refs}</ul>" if refs else "")
        + f"<p>RDF: {formats}</p>"
    )
    return _page(title, body, lang)


def schema_page(text: str, lang: str = "nl") -> str:
    """The text of ``kg schema`` as a page: classes, properties, codes and prefixes to query with."""
    title = {"nl": "Schema: klassen, eigenschappen, codes", "en": "Schema: classes, properties, codes"}[lang]
    body = f"<h1>{escape(title)}</h1><p>{_switch('/schema', lang)}</p><pre>{escape(text)}</pre>"
    return _page(title, body, lang)


def error_page(status: int, message: str, lang: str = "nl") -> str:
    """An error page for a browser."""
    home_link = "naar de beginpagina" if lang == "nl" else "to the home page"
    body = f'<h1>{status}</h1><p>{escape(message)}</p><p><a href="/">{home_link}</a></p>'
    return _page(f"{status}", body, lang)
