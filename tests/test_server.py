"""kg serve and external stores, exercised with real clients over loopback.

A kg server and an Oxigraph server are started by the tests and stopped after them. The browser test
drives Debian's Chromium with Playwright.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import rdflib

import kg


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


@contextmanager
def running(command: list[str], port: int, ready_path: str) -> Iterator[str]:
    """Start a server process, wait until it answers on ``ready_path``, stop it afterwards."""
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(url + ready_path)
        yield url
    finally:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    port = free_port()
    options = ["--timeout", "2", "--max-rows", "50", "--max-request-size", "20000"]
    with running(
        [sys.executable, "-m", "kg.cli", "serve", "--port", str(port), *options], port, "/api/queries"
    ) as url:
        yield url


@pytest.fixture(scope="module")
def oxigraph(tmp_path_factory) -> Iterator[str]:
    binary = shutil.which("oxigraph") or str(Path(sys.executable).with_name("oxigraph"))
    port = free_port()
    location = str(tmp_path_factory.mktemp("oxigraph"))
    with running(
        [binary, "serve", "--location", location, "--bind", f"127.0.0.1:{port}"],
        port,
        "/query?query=ASK%7B%7D",
    ) as url:
        yield url


def fetch(url: str, data: bytes | None = None, headers: dict | None = None, method: str | None = None):
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


# --- SPARQL protocol ----------------------------------------------------------------------------


def test_sparqlwrapper_select(server: str) -> None:
    from SPARQLWrapper import JSON, SPARQLWrapper

    client = SPARQLWrapper(server + "/sparql")
    client.setQuery(
        "PREFIX mi: <https://w3id.org/initiatieven/def/>\nSELECT ?i WHERE { ?i a mi:Cooperative } ORDER BY ?i"
    )
    client.setReturnFormat(JSON)
    rows = client.query().convert()["results"]["bindings"]
    assert [r["i"]["value"].rsplit("/", 1)[1] for r in rows] == [
        "cooperatief-eigenwijzer",
        "dorpscooperatie-nieuw-dordrecht",
        "marconia",
        "wattwest",
    ]


def test_rdflib_sparqlstore(server: str) -> None:
    from rdflib.plugins.stores.sparqlstore import SPARQLStore

    graph = rdflib.Graph(store=SPARQLStore(server + "/sparql"))
    answer = graph.query(
        "SELECT (COUNT(?i) AS ?n) WHERE { ?i a <https://w3id.org/initiatieven/def/Initiative> }"
    )
    assert [int(row[0]) for row in answer] == [11]


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        (None, "application/sparql-results+json"),
        ("text/csv", "text/csv"),
        ("application/sparql-results+xml;q=0.9, text/csv;q=0.5", "application/sparql-results+xml"),
        ("text/*;q=0.3, text/tab-separated-values", "text/tab-separated-values"),
        ("*/*", "application/sparql-results+json"),
    ],
)
def test_content_negotiation_select(server: str, accept: str | None, media: str) -> None:
    query = "SELECT ?n WHERE { ?p <https://w3id.org/initiatieven/def/partnerNumber> ?n } ORDER BY ?n LIMIT 3"
    status, headers, body = fetch(
        server + "/sparql?" + urllib.parse.urlencode({"query": query}),
        headers={"Accept": accept} if accept else {},
    )
    assert status == 200 and headers.get_content_type() == media
    assert headers.get_content_charset() == ("utf-8" if media.startswith("text/") else None)
    assert b"1" in body and headers["Access-Control-Allow-Origin"] == "*"


def test_post_forms_and_construct(server: str) -> None:
    query = (
        "CONSTRUCT { ?i <urn:name> ?n } WHERE { ?i a <https://w3id.org/initiatieven/def/Initiative> ; "
        "<http://www.w3.org/2004/02/skos/core#prefLabel> ?n }"
    )
    status, headers, body = fetch(
        server + "/sparql",
        urllib.parse.urlencode({"query": query}).encode(),
        {"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/turtle"},
    )
    assert status == 200 and headers.get_content_type() == "text/turtle"
    assert len(rdflib.Graph().parse(data=body.decode(), format="turtle")) == 11
    status, headers, body = fetch(
        server + "/sparql",
        query.encode(),
        {"Content-Type": "application/sparql-query", "Accept": "application/ld+json;q=0.8, text/plain;q=0.1"},
    )
    assert status == 200 and headers["Content-Type"] == "application/ld+json"
    assert len(rdflib.Graph().parse(data=body.decode(), format="json-ld")) == 11


def test_not_acceptable_and_errors(server: str) -> None:
    status, _, body = fetch(server + "/sparql?query=ASK%7B%7D", headers={"Accept": "image/png"})
    assert status == 406 and b"acceptable" in body
    status, _, body = fetch(server + "/sparql?query=SELEC%20nothing")
    assert status == 400 and b"SPARQL syntax error" in body


def test_service_description(server: str) -> None:
    status, _, body = fetch(server + "/sparql", headers={"Accept": "text/turtle"})
    graph = rdflib.Graph().parse(data=body.decode(), format="turtle")
    sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    assert (
        status == 200 and (rdflib.URIRef(server + "/sparql"), sd.supportedLanguage, sd.SPARQL11Query) in graph
    )


def test_read_only(server: str) -> None:
    update = b"INSERT DATA { <urn:a> <urn:b> <urn:c> }"
    assert fetch(server + "/sparql", update, {"Content-Type": "application/sparql-update"})[0] == 403
    form = urllib.parse.urlencode({"update": update.decode()}).encode()
    assert fetch(server + "/sparql", form, {"Content-Type": "application/x-www-form-urlencoded"})[0] == 403
    # an update's dataset fields are refused in a form as in the URL (they were ignored in a form)
    for field in ("using-graph-uri", "using-named-graph-uri"):
        assert fetch(server + f"/sparql?query=ASK%7B%7D&{field}=urn%3Ag")[0] == 400
        fields = urllib.parse.urlencode({"query": "ASK {}", field: "urn:g"}).encode()
        kind = {"Content-Type": "application/x-www-form-urlencoded"}
        assert fetch(server + "/sparql", fields, kind)[0] == 403
    for method in ("PUT", "DELETE"):
        status, headers, _ = fetch(
            server + "/store?default",
            b"<urn:a> <urn:b> <urn:c> .",
            {"Content-Type": "application/n-triples"},
            method,
        )
        assert status == 405 and "GET" in headers["Allow"]
    status, _, body = fetch(
        server + "/sparql?query=ASK%7B%3Curn%3Aa%3E%20%3Fp%20%3Fo%7D", headers={"Accept": "application/json"}
    )
    assert json.loads(body)["boolean"] is False


def test_cors_preflight(server: str) -> None:
    status, headers, _ = fetch(server + "/sparql", method="OPTIONS")
    assert status == 204 and headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in headers["Access-Control-Allow-Methods"]


def test_timeout_stops_the_query_and_the_server_goes_on(server: str) -> None:
    heavy = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    start = time.monotonic()
    status, _, body = fetch(server + "/sparql", heavy.encode(), {"Content-Type": "application/sparql-query"})
    took = time.monotonic() - start
    assert status == 503 and b"longer than 2 s" in body and took < 6
    status, _, body = fetch(server + "/api/queries/without-bottleneck", headers={"Accept": "text/csv"})
    assert status == 200 and body.count(b"\n") == 3


def test_limits(server: str) -> None:
    status, headers, body = fetch(
        server + "/sparql?query=" + urllib.parse.quote("SELECT * WHERE { ?s ?p ?o }")
    )
    assert status == 200 and len(json.loads(body)["results"]["bindings"]) == 50
    assert "cut to 50" in headers["X-KG-Truncated"]
    big = b"SELECT * WHERE { ?s ?p ?o } #" + b"x" * 30000
    assert fetch(server + "/sparql", big, {"Content-Type": "application/sparql-query"})[0] == 413


# --- stored queries as a web API ----------------------------------------------------------------


def test_api_lists_and_runs_stored_queries(server: str) -> None:
    status, _, body = fetch(server + "/api/queries")
    listing = json.loads(body)
    assert status == 200 and {q["name"] for q in listing} == set(kg.stored_queries())
    status, headers, body = fetch(
        server + "/api/queries/shared-bottlenecks?bottleneck=fiscaliteit", headers={"Accept": "text/csv"}
    )
    assert status == 200 and headers.get_content_type() == "text/csv" and body.count(b"\r\n") == 11
    # RFC 2046 section 4.1.2: a text/* type without a charset is US-ASCII, and the names are not ASCII
    assert headers.get_content_charset() == "utf-8" and "Dorpscoöperatie" in body.decode("utf-8")
    names = urllib.parse.urlencode({"query": "SELECT ?n WHERE { ?i skos:prefLabel ?n }"})
    for accept in ("text/tab-separated-values", "text/csv"):
        status, headers, body = fetch(server + "/sparql?" + names, headers={"Accept": accept})
        assert status == 200 and headers.get_content_type() == accept
        assert headers.get_content_charset() == "utf-8" and "Dorpscoöperatie" in body.decode("utf-8")
    status, _, body = fetch(
        server + "/api/queries/initiatives-by-legal-form?legalform=vereniging&format=json"
    )
    numbers = [int(b["number"]["value"]) for b in json.loads(body)["results"]["bindings"]]
    assert numbers == [1, 4, 6, 10, 11]


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/api/queries/initiatives-by-bottleneck", 400, "needs parameter bottleneck"),
        ("/api/queries/initiatives-by-bottleneck?bottleneck=fiscal", 400, "did you mean fiscaliteit"),
        ("/api/queries/similar-initiatives?initiative=12", 400, "unknown value '12'"),
        ("/api/queries/initiatives?colour=red", 400, "has no parameter 'colour'"),
        ("/api/queries/nope", 404, "unknown query 'nope'"),
    ],
)
def test_api_errors(server: str, path: str, status: int, message: str) -> None:
    got, _, body = fetch(server + path)
    assert got == status and message in json.loads(body)["error"]


def test_openapi_describes_every_stored_query(server: str) -> None:
    from openapi_spec_validator import validate

    doc = json.loads(fetch(server + "/openapi.json")[2])
    validate(doc)  # an independent OpenAPI 3.0 validator
    assert doc["openapi"].startswith("3.0")
    for name, query in kg.stored_queries().items():
        operation = doc["paths"][f"/api/queries/{name}"]["get"]
        assert {p["name"]: p["required"] for p in operation["parameters"]} == {
            **{p.name: p.required for p in query.parameters},
            "format": False,
            "page": False,
        }
        assert operation["summary"] == query.summary
        assert {"X-KG-Truncated", "X-KG-Row-Limit", "Link"} <= set(operation["responses"]["200"]["headers"])


def test_openapi_parameters_work_as_documented(server: str) -> None:
    """Every documented ``format`` value is answered in its media type; ``page`` gives a Link header."""
    doc = json.loads(fetch(server + "/openapi.json")[2])
    operation = doc["paths"]["/api/queries/initiatives"]["get"]
    formats = next(p for p in operation["parameters"] if p["name"] == "format")["schema"]["enum"]
    select = {"json": "sparql-results+json", "xml": "sparql-results+xml", "csv": "csv", "tsv": "tab-sep"}
    assert set(select) < set(formats)  # the others are RDF formats, for CONSTRUCT answers
    for fmt in formats:
        status, headers, _ = fetch(server + f"/api/queries/initiatives?format={fmt}")
        assert status == (200 if fmt in select else 406), fmt
        if fmt in select:
            assert select[fmt] in headers["Content-Type"]
    status, headers, body = fetch(server + "/api/queries/initiatives?format=csv&page=1")
    assert status == 200 and 'rel="first"' in headers["Link"]
    assert body.decode().count("\n") == 12  # header and the eleven partners


def test_openapi_enums_are_enforced(server: str) -> None:
    """Each documented enum value of ``lang`` and ``format`` is taken; a value outside it is a 400."""
    doc = json.loads(fetch(server + "/openapi.json")[2])
    operation = doc["paths"]["/api/queries/initiatives"]["get"]
    enums = {p["name"]: p["schema"]["enum"] for p in operation["parameters"] if "enum" in p["schema"]}
    assert set(enums) == {"lang", "format"} and enums["lang"] == ["nl", "en"]
    for lang in enums["lang"]:
        assert fetch(server + f"/api/queries/initiatives?lang={lang}")[0] == 200
    for name in enums:
        status, _, body = fetch(server + f"/api/queries/initiatives?{name}=zz")
        assert status == 400 and name in json.loads(body)["error"]
    assert "400" in doc["paths"]["/sparql"]["get"]["responses"]


# --- linked-data pages --------------------------------------------------------------------------


def test_linked_data_pages(server: str) -> None:
    status, headers, body = fetch(server + "/id/initiatief/wattwest", headers={"Accept": "text/html"})
    assert status == 200 and headers["Content-Type"].startswith("text/html") and "Accept" in headers["Vary"]
    assert "Wijkonderneming watTWest" in body.decode() and 'href="/id/knelpunttype/' not in body.decode()
    status, headers, body = fetch(server + "/id/initiatief/wattwest", headers={"Accept": "text/turtle"})
    graph = rdflib.Graph().parse(data=body.decode(), format="turtle")
    wattwest = rdflib.URIRef("https://w3id.org/initiatieven/id/initiatief/wattwest")
    assert (wattwest, rdflib.URIRef("https://schema.org/foundingDate"), None) in graph
    assert fetch(server + "/id/initiatief/nobody")[0] == 404
    status, _, body = fetch(server + "/")
    assert status == 200 and b'href="/id/initiatief/crabbehoeve"' in body


# --- external stores (see also tests/test_stores.py) ---------------------------------------------


def test_remote_errors_are_one_line(tmp_path: Path) -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    held = []  # accepted connections stay open and get no answer
    threading.Thread(target=lambda: held.append(silent.accept()), daemon=True).start()
    cases = [
        (["query", "initiatives", "--endpoint", f"http://127.0.0.1:{free_port()}/query"], "cannot reach"),
        (
            [
                "query",
                "initiatives",
                "--endpoint",
                f"http://127.0.0.1:{silent.getsockname()[1]}/q",
                "--timeout",
                "1",
            ],
            "no answer within 1 s",
        ),
        (["push", "--endpoint", "not a url"], "not a url"),
    ]
    for args, message in cases:
        done = subprocess.run(
            [sys.executable, "-m", "kg.cli", *args], capture_output=True, text=True, check=False
        )
        assert done.returncode == 2 and message in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
    silent.close()


def test_http_error_from_store(oxigraph: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "kg.cli", "query", "initiatives", "--endpoint", oxigraph + "/nothing"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2 and "answered 404" in done.stderr


# --- parameter errors of the web API: HTTP wording, strict values -------------------------------


def error_of(server: str, path: str, data: bytes | None = None, headers: dict | None = None) -> str:
    """The error message of a 400 answer (the test fails on any other status)."""
    status, _, body = fetch(server + path, data, headers)
    assert status == 400, (path, status, body[:200])
    return json.loads(body)["error"]


def test_missing_parameter_is_worded_for_http(server: str) -> None:
    message = error_of(server, "/api/queries/initiatives-by-bottleneck")
    assert message.endswith("needs parameter bottleneck (e.g. ?bottleneck=fiscaliteit)"), message
    assert "-p " not in message
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    message = error_of(server, "/api/queries/initiatives-by-bottleneck", b"lang=en", form)
    assert "(e.g. ?bottleneck=fiscaliteit)" in message and "-p " not in message


def test_an_empty_query_field_on_a_stored_query_is_named(server: str) -> None:
    """POST /api/queries/NAME with ``query=`` (blank): a 400 naming the field, not a syntax error at the
    stored query's header; without the field the stored query runs."""
    form = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/csv"}
    for body in (b"query=", b"query=%20%0A"):
        message = error_of(server, "/api/queries/initiatives", body, form)
        assert message.startswith("the 'query' field is empty"), message
    status, _, answer = fetch(server + "/api/queries/initiatives", b"lang=en", form)
    assert status == 200 and answer.decode().count("\n") == 12  # header and the eleven partners


@pytest.mark.parametrize(
    "path",
    [
        "/api/queries/initiatives-by-bottleneck?bottleneck=fiscal",
        "/api/queries/initiatives-by-bottleneck?bottleneck=fiscaliteit&colour=red",
        "/api/queries/initiatives-by-legal-form?legalform=x",
        "/api/queries/similar-initiatives?initiative=12",
    ],
)
def test_other_parameter_errors_name_no_command_line_option(server: str, path: str) -> None:
    message = error_of(server, path)
    assert "-p " not in message and "--" not in message, message


@pytest.mark.parametrize("path", ["/api/queries/initiatives", "/sparql?query=ASK%7B%7D"])
def test_unknown_format_is_400_listing_the_formats(server: str, path: str) -> None:
    sep = "&" if "?" in path else "?"
    message = error_of(server, f"{path}{sep}format=xyz")
    assert "format" in message and "'xyz'" in message
    for name in ("json", "xml", "csv", "tsv", "turtle", "nt", "jsonld", "rdfxml", "html"):
        assert name in message, name
    # a media type given as format is negotiated as before
    status, headers, _ = fetch(f"{server}{path}{sep}format=text/csv")
    assert status == 200 and headers.get_content_type() == "text/csv"


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/api/queries/initiatives-by-bottleneck?bottleneck=fiscaliteit&bottleneck=tax", "bottleneck"),
        ("/api/queries/initiatives?page=1&page=2", "page"),
        ("/api/queries/initiatives?format=csv&format=json", "format"),
        ("/api/queries/initiatives?lang=en&lang=nl", "lang"),
        ("/sparql?query=ASK%7B%7D&format=csv&format=json", "format"),
    ],
)
def test_repeated_parameter_is_400_naming_it(server: str, path: str, name: str) -> None:
    message = error_of(server, path)
    assert f"2 {name!r} parameters" in message, message


def test_repeated_parameter_in_url_and_form_is_400(server: str) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    message = error_of(server, "/api/queries/initiatives?lang=en", b"lang=nl", form)
    assert "2 'lang' parameters" in message


def test_unknown_lang_is_400_naming_the_languages(server: str) -> None:
    message = error_of(server, "/api/queries/initiatives?lang=fr")
    assert "lang" in message and "'fr'" in message and "nl, en" in message
    status, _, body = fetch(server + "/api/queries/initiatives?lang=en&format=csv")
    assert status == 200 and b"foundation" in body  # the English label of stichting


def test_page_language_falls_back_to_dutch(server: str) -> None:
    """A browser page is not data: an unknown ``lang`` gives the default language (as documented)."""
    status, _, body = fetch(server + "/id/initiatief/wattwest?lang=fr", headers={"Accept": "text/html"})
    assert status == 200 and b'<html lang="nl">' in body


@pytest.mark.parametrize(
    ("path", "data", "content_type", "name"),
    [
        ("/sparql?query=%FF%FE", None, None, "query"),
        ("/sparql", b"query=%FF%FE", "application/x-www-form-urlencoded", "query"),
        ("/sparql", b"ASK { ?s ?p '\xff' }", "application/sparql-query", "query"),
        ("/sparql?query=ASK%7B%7D&default-graph-uri=%ED%A0%80", None, None, "default-graph-uri"),
        ("/api/queries/initiatives-by-bottleneck?bottleneck=%FF", None, None, "bottleneck"),
        (
            "/api/queries/initiatives-by-bottleneck",
            b"bottleneck=%C3",
            "application/x-www-form-urlencoded",
            "bottleneck",
        ),
    ],
)
def test_invalid_utf8_is_400_naming_the_parameter(
    server: str, path: str, data: bytes | None, content_type: str | None, name: str
) -> None:
    message = error_of(server, path, data, {"Content-Type": content_type} if content_type else None)
    assert "not valid UTF-8" in message and "syntax" not in message and "\ufffd" not in message
    assert message.startswith("the query ") if name == "query" else repr(name) in message, message
