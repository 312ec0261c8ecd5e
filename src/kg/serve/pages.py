"""HTML of the home page (initiatives and a query editor) and of the linked-data pages."""

from __future__ import annotations

import json
from html import escape

import pyoxigraph as ox

from kg.core.namespaces import BASE, shorten
from kg.core.queries import StoredQuery

CSS = """body{font-family:system-ui,sans-serif;max-width:72rem;margin:1.5rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{border:1px solid #ccc;padding:.25rem .5rem;
text-align:left;vertical-align:top}th{background:#eef4f9}textarea{width:100%;height:14rem;font-family:monospace}
label{margin-right:.5rem}#params input{margin:0 1rem .5rem .3rem}button{padding:.3rem 1rem}
.error{color:#b00}"""


def local(iri: str) -> str:
    """A dataset IRI as a path on this server (so its page opens here); other IRIs unchanged."""
    return "/" + iri[len(BASE) :] if iri.startswith(BASE + "id/") else iri


def _page(title: str, body: str) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="nl"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head>'
        f"<body>{body}</body></html>\n"
    )


SCRIPT = """
const queries = JSON.parse(document.getElementById('stored').textContent);
const select = document.getElementById('query-name'), text = document.getElementById('query-text');
const params = document.getElementById('params'), out = document.getElementById('results');
function choose() {
  const q = queries[select.value];
  params.innerHTML = '';
  if (!q) { return; }
  text.value = q.text;
  for (const p of q.parameters) {
    if (p.name === 'lang') continue;
    const label = document.createElement('label');
    label.textContent = p.name + (p.required ? '' : ' (optional)');
    const input = document.createElement('input');
    input.name = p.name; input.value = p.example || ''; input.dataset.param = '1';
    label.appendChild(input); params.appendChild(label);
  }
}
async function run() {
  out.textContent = '…';
  let response;
  const q = queries[select.value];
  if (q && text.value === q.text) {
    const search = new URLSearchParams();
    for (const input of params.querySelectorAll('input[data-param]')) {
      if (input.value) search.set(input.name, input.value);
    }
    response = await fetch('/api/queries/' + select.value + '?' + search,
                           {headers: {Accept: 'application/sparql-results+json'}});
  } else {
    response = await fetch('/sparql', {method: 'POST', body: text.value,
      headers: {'Content-Type': 'application/sparql-query', Accept: 'application/sparql-results+json'}});
  }
  const data = await response.json();
  if (!response.ok) {
    out.innerHTML = '<p class="error"></p>'; out.firstChild.textContent = data.error; return;
  }
  if ('boolean' in data) { out.textContent = String(data.boolean); return; }
  const table = document.createElement('table'), head = table.insertRow();
  for (const v of data.head.vars) {
    const th = document.createElement('th'); th.textContent = v; head.appendChild(th);
  }
  for (const b of data.results.bindings) {
    const row = table.insertRow();
    for (const v of data.head.vars) { row.insertCell().textContent = b[v] ? b[v].value : ''; }
  }
  out.innerHTML = '';
  const count = document.createElement('p');
  count.id = 'row-count'; count.textContent = data.results.bindings.length + ' rows';
  out.append(count, table);
}
select.addEventListener('change', choose);
document.getElementById('run').addEventListener('click', run);
choose();
"""


def home(initiatives: list[dict], stored: dict[str, StoredQuery]) -> str:
    """Initiatives with links to their pages, and a SPARQL editor prefilled with the stored queries."""
    rows = "".join(
        f"<tr><td>{r['number'] or ''}</td>"
        f'<td><a href="{escape(local(r["initiative"]))}">{escape(r["name"])}</a>'
        f"</td><td>{escape(r['municipality'])}</td><td>{escape(r['province'])}</td>"
        f"<td>{escape(r['legalForm'] or '')}</td><td>{r['bottlenecks']}</td></tr>"
        for r in initiatives
    )
    options = "".join(
        f'<option value="{escape(n)}">{escape(n)}: {escape(q.summary)}</option>' for n, q in stored.items()
    )
    data = {
        n: {
            "text": q.text,
            "parameters": [
                {"name": p.name, "required": p.required, "example": p.example} for p in q.parameters
            ],
        }
        for n, q in stored.items()
    }
    payload = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    body = (
        "<h1>Maatschappelijke initiatieven: Ruim op de Regels</h1>"
        "<p>Linked data over de elf experimentpartners. SPARQL: <code>/sparql</code> · "
        'API: <a href="/api/queries">/api/queries</a> · <a href="/openapi.json">OpenAPI</a></p>'
        "<h2>Initiatieven</h2><table><tr><th>nr</th><th>naam</th><th>gemeente</th><th>provincie</th>"
        f"<th>rechtsvorm</th><th>knelpunten</th></tr>{rows}</table>"
        f'<h2>Query</h2><p><select id="query-name">{options}</select></p><div id="params"></div>'
        '<textarea id="query-text" spellcheck="false"></textarea><p><button id="run">Run</button></p>'
        f'<div id="results"></div><script type="application/json" id="stored">{payload}</script>'
        f"<script>{SCRIPT}</script>"
    )
    return _page("kg", body)


def _value(term: object, labels: dict[str, str]) -> str:
    if isinstance(term, ox.NamedNode):
        label = labels.get(term.value)
        text = f"{label} ({shorten(term.value)})" if label else shorten(term.value)
        return f'<a href="{escape(local(term.value))}">{escape(text)}</a>'
    if isinstance(term, ox.Literal):
        lang = f" <small>@{escape(term.language)}</small>" if term.language else ""
        return escape(term.value) + lang
    return escape(str(term))


def resource(iri: str, triples: list[ox.Triple], labels: dict[str, str], incoming: list[str]) -> str:
    """The page of one resource: its statements, what refers to it, and links to its RDF."""
    title = next(
        (
            t.object.value
            for t in triples
            if t.predicate.value.endswith("#prefLabel")
            and isinstance(t.object, ox.Literal)
            and t.object.language in ("", "nl")
        ),
        shorten(iri),
    )
    rows = "".join(
        f"<tr><td>{escape(shorten(t.predicate.value))}</td><td>{_value(t.object, labels)}</td></tr>"
        for t in sorted(triples, key=lambda t: (t.predicate.value, str(t.object)))
    )
    refs = "".join(f'<li><a href="{escape(local(s))}">{escape(shorten(s))}</a></li>' for s in incoming)
    formats = " · ".join(
        f'<a href="{escape(local(iri))}?format={f}">{f}</a>' for f in ("turtle", "jsonld", "nt")
    )
    body = (
        f'<p><a href="/">kg</a></p><h1>{escape(title)}</h1><p><code>{escape(iri)}</code></p>'
        f"<table><tr><th>eigenschap</th><th>waarde</th></tr>{rows}</table>"
        + (f"<h2>Verwijzingen</h2><ul>{refs}</ul>" if refs else "")
        + f"<p>RDF: {formats}</p>"
    )
    return _page(title, body)
