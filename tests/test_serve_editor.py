"""The query editor of kg serve (issue 13, item 7): YASGUI served from the package, driven by Debian's
Chromium through Playwright, on loopback. Expected answers come from the library (kg.load), not from
what the page prints.
"""

from __future__ import annotations

import base64
import hashlib
import re
import urllib.parse
from collections.abc import Iterator
from importlib import resources

import pytest
from serving import Editor, fetch, kg_serve

from kg.core import queries
from kg.serve.server import CSP

STATIC = resources.files("kg.serve") / "static"
PREFIXES = (
    "PREFIX mi: <https://w3id.org/initiatieven/def/>\nPREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
)
COUNT = PREFIXES + "SELECT (COUNT(*) AS ?n) WHERE { ?s a mi:Initiative }"
NAMES = PREFIXES + "SELECT ?initiative ?name WHERE { ?initiative a mi:Initiative ; skos:prefLabel ?name }"
CONSTRUCT = (
    PREFIXES + "CONSTRUCT { ?initiative skos:prefLabel ?name } "
    "WHERE { ?initiative a mi:Initiative ; skos:prefLabel ?name }"
)


def test_yasgui_is_vendored_with_its_licences() -> None:
    folder = STATIC / "yasgui"
    for name in ("yasgui.min.js", "yasgui.min.css", "LICENSE.txt", "yasgui.min.js.LICENSE.txt"):
        assert (folder / name).is_file(), name
    assert "MIT License" in (folder / "LICENSE.txt").read_text()
    assert "window.Yasqe" in (folder / "yasgui.min.js").read_text()[:2_000_000]


def test_csp_allows_exactly_the_style_elements_yasgui_inserts() -> None:
    """The CSP's style hashes are those of the <style> texts in the vendored bundle (a rebuilt bundle
    with other texts fails here, before a browser would silently drop its styles)."""
    bundle = (STATIC / "yasgui" / "yasgui.min.js").read_text()
    fixed = re.search(r'createStyle\(i,(" \.grip-resizable\{[^"]*")\)', bundle)
    assert fixed is not None
    texts = [fixed.group(1)[1:-1].replace("\\t", "\t"), "*{cursor:col-resize!important}"]
    assert 'dragCursor:"col-resize"' in bundle
    hashes = {
        "'sha256-" + base64.b64encode(hashlib.sha256(t.encode()).digest()).decode() + "'" for t in texts
    }
    style_src = next(d for d in CSP.split(";") if d.strip().startswith("style-src")).split()[1:]
    assert set(style_src) == {"'self'", *hashes}
    script_src = next(d for d in CSP.split(";") if d.strip().startswith("script-src")).split()[1:]
    assert script_src == ["'self'"]


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with kg_serve("--timeout", "5", "--max-rows", "200") as url:
        yield url


def test_static_files_and_prefixes(server: str) -> None:
    status, headers, body = fetch(server + "/static/yasgui/yasgui.min.js")
    assert status == 200 and headers["Content-Type"].startswith("text/javascript")
    assert body == (STATIC / "yasgui" / "yasgui.min.js").read_bytes()
    status, _, body = fetch(server + "/static/yasgui/LICENSE.txt")
    assert status == 200 and b"MIT License" in body
    status, _, body = fetch(server + "/api/prefixes")
    assert status == 200 and b'"mi": "https://w3id.org/initiatieven/def/"' in body
    status, headers, body = fetch(server + "/")
    assert headers["Content-Security-Policy"] == CSP
    assert b"/static/yasgui/yasgui.min.js" in body and b"cdn" not in body.lower()


def test_edited_stored_query_keeps_its_parameter_over_http(server: str, graph) -> None:
    """POST /api/queries/NAME with the edited text: its parameter is still bound (3 rows, not 19)."""
    stored = queries.stored()["initiatives-by-bottleneck"]
    edited = stored.text.replace("SELECT ?number ?initiative ?name ?bottleneck", "SELECT ?name")
    assert edited != stored.text
    form = urllib.parse.urlencode({"query": edited, "bottleneck": "regelluwte"}).encode()
    status, _, body = fetch(
        server + "/api/queries/initiatives-by-bottleneck",
        form,
        {"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/csv"},
    )
    expected = sorted(str(r["name"]) for r in graph.query(stored, {"bottleneck": "regelluwte"}))
    assert status == 200 and len(expected) == 3
    assert sorted(body.decode().splitlines()[1:]) == expected
    # a wrong value is still refused by the parameter's check, an unknown parameter named
    form = urllib.parse.urlencode({"query": edited, "bottleneck": "nope"}).encode()
    status, _, body = fetch(
        server + "/api/queries/initiatives-by-bottleneck",
        form,
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 400 and b"unknown value 'nope'" in body
    form = urllib.parse.urlencode({"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 1", "x": "1"}).encode()
    status, _, body = fetch(
        server + "/api/queries/initiatives-by-bottleneck",
        form,
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 400 and b"no parameter 'x'" in body
    # the header is the stored file's: YAML in the client's #+ lines is never read (a bomb, deep nesting)
    bomb = "\n".join(
        ["#+ params:", "#+   bottleneck: &a [" + ",".join(["x"] * 50) + "]"]
        + [
            f"#+ l{i}: &l{i} [" + ",".join([f"*{'a' if i == 0 else f'l{i - 1}'}"] * 50) + "]"
            for i in range(8)
        ]
        + ["#+ deep: " + "[" * 5000 + "]" * 5000]
    )
    form = urllib.parse.urlencode({"query": bomb + "\n" + edited, "bottleneck": "regelluwte"}).encode()
    status, _, body = fetch(
        server + "/api/queries/initiatives-by-bottleneck",
        form,
        {"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/csv"},
        timeout=10,
    )
    assert status == 200 and sorted(body.decode().splitlines()[1:]) == expected
    # the edited text passes the same checks as /sparql
    form = urllib.parse.urlencode({"query": "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"})
    status, _, body = fetch(
        server + "/api/queries/initiatives",
        form.encode(),
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 400 and b"SERVICE" in body


@pytest.fixture
def editor(browser: object, server: str) -> Iterator[Editor]:
    ed = Editor(browser, server)
    try:
        yield ed
        assert ed.problems == []
    finally:
        ed.close()


def test_every_stored_query_is_a_tab_with_its_parameter_fields(editor: Editor) -> None:
    editor.open()
    assert editor.page.locator("#initiatives tr").count() == 12  # header + eleven initiatives
    names = editor.page.locator(".tabsList .tab a").all_inner_texts()
    names = [n.replace("✖", "").strip() for n in names]
    assert names[0] == "SPARQL" and sorted(names[1:]) == sorted(queries.stored())
    editor.tab("initiatives-by-bottleneck")
    assert editor.page.input_value("#params input[name=bottleneck]") == "fiscaliteit"
    assert editor.page.locator("#params input[name=lang]").count() == 1
    editor.tab("bottleneck-counts")
    assert editor.page.locator("#params input").count() == len(
        queries.stored()["bottleneck-counts"].parameters
    )
    # highlighting: keywords and variables are marked up by YASQE's SPARQL mode
    assert editor.page.locator(".yasqe:visible .cm-keyword", has_text="SELECT").count() >= 1


def test_two_queries_in_a_row_then_a_construct(editor: Editor, graph) -> None:
    editor.open()
    editor.tab("SPARQL")
    editor.run(COUNT)
    assert editor.cells(1) == [f'"{len(list(graph.query(NAMES)))}"^^xsd:integer']
    editor.run(NAMES)  # the second query on the same page gets its own answer (issue 13)
    expected = sorted(str(r["name"]) for r in graph.query(NAMES))
    shown = sorted(c.strip('"') for c in editor.cells(2))
    assert shown == expected
    # sortable: the name column sorted descending by its header
    header = editor.page.locator(".yasr .dataTable thead th", has_text="name")
    header.click()
    header.click()
    assert [c.strip('"') for c in editor.cells(2)] == sorted(expected, reverse=True)
    # paged: ten rows a page, the eleventh on page two
    editor.page.select_option(".yasr .pageSizeWrapper select, .yasr select", "10")
    assert len(editor.cells(2)) == 10
    # clickable IRIs: the dataset's IRIs open their page on this server
    link = editor.page.locator(".yasr .dataTable tbody a[href*='/id/initiatief/']").first
    with editor.page.expect_popup() as popup:
        link.click()
    page = popup.value
    page.wait_for_load_state()
    assert page.url.startswith(editor.server + "/id/initiatief/")
    assert page.title() in expected
    page.close()
    # CONSTRUCT: the triples shown as a table
    editor.run(CONSTRUCT)
    editor.page.select_option(".yasr select", "50")
    triples = list(graph.query(CONSTRUCT).triples)
    assert len(triples) == len(expected)
    objects = sorted(c.removesuffix("^^xsd:string").strip('"') for c in editor.cells(3))
    assert objects == expected


def test_edited_stored_query_keeps_its_parameter(editor: Editor, graph) -> None:
    stored = queries.stored()["initiatives-by-bottleneck"]
    expected = sorted(str(r["name"]) for r in graph.query(stored, {"bottleneck": "regelluwte"}))
    assert len(expected) == 3
    editor.open()
    editor.tab("initiatives-by-bottleneck")
    editor.page.fill("#params input[name=bottleneck]", "regelluwte")
    edited = stored.text.replace("SELECT ?number ?initiative ?name ?bottleneck", "SELECT ?name ?initiative")
    editor.run(edited)
    assert sorted(c.strip('"') for c in editor.cells(1)) == expected  # 3 rows, not all 19
    # download: the CSV of what is shown
    with editor.page.expect_download() as download:
        editor.page.locator(".yasr_downloadIcon:visible").click()
    with open(download.value.path(), encoding="utf-8") as f:
        lines = f.read().splitlines()
    assert lines[0] == '"name","initiative"' and sorted(
        line.split('","')[0].strip('"') for line in lines[1:]
    ) == (expected)
    # permalink: the link opens the same query with the same parameter and runs it
    editor.page.locator(".yasqe_share:visible").click()
    link = editor.page.input_value(".yasqe_sharePopup input")
    assert "bottleneck=regelluwte" in link and link.startswith(editor.server + "/#")
    fresh = Editor(editor.context.browser, editor.server)
    try:
        fresh.open(link)
        fresh.page.wait_for_function("() => kgEditor.getTab().getYasr().results !== undefined")
        assert fresh.page.input_value("#params input[name=bottleneck]") == "regelluwte"
        assert sorted(c.strip('"') for c in fresh.cells(1)) == expected
        assert fresh.problems == []
    finally:
        fresh.close()


def test_prefix_completion_offers_kgs_prefixes(editor: Editor) -> None:
    editor.open()
    editor.tab("SPARQL")
    editor.page.evaluate("() => { kgEditor.getTab().getYasqe().setValue('PREFIX mi'); }")
    editor.page.locator(".yasqe .CodeMirror:visible").click()
    editor.page.keyboard.press("Control+End")
    editor.page.keyboard.press("Control+Space")
    editor.page.wait_for_selector(".CodeMirror-hint")
    hints = editor.page.locator(".CodeMirror-hint").all_inner_texts()
    assert "mi: <https://w3id.org/initiatieven/def/>" in hints
