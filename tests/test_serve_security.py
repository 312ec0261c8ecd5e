"""kg serve facing an attacker (issue 13): no federation by default (SSRF), escaped HTML, security headers,
CORS only where it is safe. Loopback only.
"""

from __future__ import annotations

import http.server
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import rdflib
from serving import DATA_FILES, Editor, fetch, free_port, kg_serve, sparql_get, sparql_post

XSS = "<img src=x onerror=alert(1)>"
EVIL_DATA = f"""
@prefix dn:     <https://w3id.org/initiatieven/id/deelname/ruim-op-de-regels/> .
@prefix init:   <https://w3id.org/initiatieven/id/initiatief/> .
@prefix mi:     <https://w3id.org/initiatieven/def/> .
@prefix schema: <https://schema.org/> .
@prefix skos:   <http://www.w3.org/2004/02/skos/core#> .
dn:11 mi:partnerNumber "{XSS}" .
init:wattwest schema:url <javascript:alert(document.cookie)> ;
    schema:sameAs <data:text/html,%3Cscript%3Ealert(1)%3C/script%3E> ;
    skos:altLabel "<script>alert(2)</script>" .
"""


class Listener:
    """A loopback HTTP server that counts the requests it gets (the SSRF target)."""

    def __init__(self) -> None:
        hits = self.hits = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hits.append(self.path)
                body = b"internal secret"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    target = Listener()
    yield target
    target.close()


@pytest.fixture(scope="module")
def evil(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("evil") / "evil.ttl"
    path.write_text(EVIL_DATA, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def server(evil: Path) -> Iterator[str]:
    # the operator forces it (--no-validate): the HTML must still be safe
    with kg_serve("--timeout", "5", "--no-validate", "--data", *DATA_FILES, str(evil)) as url:
        yield url


# --- federation -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "template",
    [
        "SELECT * WHERE {{ SERVICE <{url}sparql> {{ ?s ?p ?o }} }}",
        "SELECT * WHERE {{ service silent <{url}x> {{ ?s ?p ?o }} }}",
        "PREFIX e: <{url}>\nSELECT * WHERE {{ SeRvIcE e:x {{ ?s ?p ?o }} }}",
        "SELECT * WHERE {{ BIND(<{url}> AS ?e) SERVICE ?e {{ ?s ?p ?o }} }}",
        "SELECT * WHERE {{ ?s ?p ?o # a comment\n SERVICE\t<{url}>{{?a ?b ?c}} }}",
        "SELECT * WHERE {{ ?s <urn:a\\#b> ?o SERVICE <{url}> {{ ?a ?b ?c }} }}",
        "ASK {{ {{ {{ SERVICE <{url}> {{ SERVICE <{url}> {{ ?a ?b ?c }} }} }} }} }}",
    ],
)
def test_service_is_refused_and_nothing_is_sent(server: str, listener: Listener, template: str) -> None:
    before = len(listener.hits)
    status, _, body = sparql_post(server, template.format(url=listener.url))
    assert status == 400 and b"SERVICE" in body and b"secret" not in body
    assert len(listener.hits) == before


def test_service_in_strings_and_comments_is_not_a_service_call(server: str) -> None:
    query = 'SELECT ?x WHERE { BIND("SERVICE <http://127.0.0.1/>" AS ?x) } # SERVICE <http://x/>'
    status, _, body = sparql_post(server, query)
    assert status == 200 and b"SERVICE <http://127.0.0.1/>" in body


def test_service_description_tells_the_truth(server: str) -> None:
    status, _, body = fetch(server + "/sparql", headers={"Accept": "text/turtle"})
    graph = rdflib.Graph().parse(data=body.decode(), format="turtle")
    sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    assert status == 200 and (None, sd.feature, sd.BasicFederatedQuery) not in graph
    assert (None, sd.supportedLanguage, sd.SPARQL11Query) in graph


def test_allowed_service_prefix_is_used_and_others_refused(listener: Listener) -> None:
    with kg_serve("--timeout", "5", "--allow-service", listener.url + "allowed/") as url:
        before = len(listener.hits)
        status, _, body = sparql_post(
            url, f"SELECT * WHERE {{ SERVICE <{listener.url}other> {{ ?s ?p ?o }} }}"
        )
        assert status == 400 and len(listener.hits) == before
        status, _, body = fetch(url + "/sparql", headers={"Accept": "text/turtle"})
        assert b"BasicFederatedQuery" in body
        sparql_post(url, f"SELECT * WHERE {{ SERVICE SILENT <{listener.url}allowed/q> {{ ?s ?p ?o }} }}")
        assert any(hit.startswith("/allowed/") for hit in listener.hits[before:])


def test_kg_query_refuses_service(tmp_path: Path, listener: Listener) -> None:
    query = tmp_path / "ssrf.rq"
    query.write_text(f"SELECT * WHERE {{ SERVICE <{listener.url}> {{ ?s ?p ?o }} }}\n", encoding="utf-8")
    before = len(listener.hits)
    done = subprocess.run(
        [sys.executable, "-m", "kg.cli", "query", str(query)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 2 and "SERVICE" in done.stderr and len(listener.hits) == before
    assert len(done.stderr.strip().splitlines()) == 1


# --- HTML ---------------------------------------------------------------------------------------------


def test_home_page_escapes_data(server: str) -> None:
    status, _, body = fetch(server + "/", headers={"Accept": "text/html"})
    page = body.decode()
    assert status == 200 and XSS not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_data_that_does_not_conform_is_not_served(evil: Path) -> None:
    """Issue 13: kg serve served data without validating it. Now it refuses (exit 1, the report on
    stderr) and never listens."""
    port = free_port()
    done = subprocess.run(
        [sys.executable, "-m", "kg.cli", "serve", "--port", str(port), "--data", *DATA_FILES, str(evil)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1
    assert "does not conform" in done.stderr and "partnerNumber" in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("kg: error: the data does not conform")


def test_editor_shows_data_as_text(server: str, browser: object) -> None:
    """The query editor's result table (YASR) with the hostile data: text, no element, no script."""
    editor = Editor(browser, server)
    try:
        editor.open()
        editor.tab("initiatives")
        editor.run()
        cells = editor.page.locator(".yasr .dataTable tbody td").all_inner_texts()
        assert any(XSS in cell for cell in cells)
        assert editor.page.locator(".yasr img").count() == 0
        assert editor.problems == []  # no CSP violation, no script error, no dialog
    finally:
        editor.close()


def test_resource_page_links_only_http(server: str) -> None:
    status, _, body = fetch(server + "/id/initiatief/wattwest", headers={"Accept": "text/html"})
    page = body.decode()
    assert status == 200 and "javascript:alert(document.cookie)" in page  # shown as text
    assert 'href="javascript:' not in page.lower() and 'href="data:' not in page.lower()
    assert "<script>alert(2)</script>" not in page


@pytest.mark.parametrize("path", ["/", "/id/initiatief/wattwest", "/def/Initiative", "/nope"])
def test_security_headers_on_html(server: str, path: str) -> None:
    _, headers, _ = fetch(server + path, headers={"Accept": "text/html"})
    assert headers["Content-Type"].startswith("text/html")
    csp = headers["Content-Security-Policy"]
    directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
    script = directives.get("script-src", directives.get("default-src"))
    assert script is not None and "'unsafe-inline'" not in script and "*" not in script
    assert directives["frame-ancestors"] == ["'none'"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "Access-Control-Allow-Origin" not in headers


@pytest.mark.parametrize("path", ["/sparql?query=ASK%7B%7D", "/api/queries", "/id/initiatief/wattwest"])
def test_cors_on_read_only_data(server: str, path: str) -> None:
    _, headers, _ = fetch(server + path, headers={"Accept": "text/turtle, application/json;q=0.9"})
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_cors_origin_option() -> None:
    with kg_serve("--cors-origin", "https://example.org") as url:
        _, headers, _ = sparql_get(url, "ASK {}")
        assert headers["Access-Control-Allow-Origin"] == "https://example.org"
        assert "Origin" in headers.get("Vary", "")
