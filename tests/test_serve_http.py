"""kg serve at the HTTP level (issue 13): keep-alive, request bodies, HEAD, paths and error pages.

Each test reproduces a finding of issue 13 over loopback.
"""

from __future__ import annotations

import http.client
import json
import shutil
import subprocess
import time
import urllib.parse
from collections.abc import Iterator

import pytest
from serving import fetch, kg_serve, raw, sparql_get, status_of

SELECT_1 = "SELECT (1 AS ?x) WHERE {}"
SELECT_2 = "SELECT (2 AS ?x) WHERE {}"
SELECT_3 = "SELECT (3 AS ?x) WHERE {}"


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with kg_serve("--timeout", "5", "--max-request-size", "20000") as url:
        yield url


def value(body: bytes) -> str:
    return json.loads(body)["results"]["bindings"][0]["x"]["value"]


def connection(base: str) -> http.client.HTTPConnection:
    parts = urllib.parse.urlsplit(base)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)


def test_keep_alive_posts_each_get_their_own_answer(server: str) -> None:
    conn = connection(server)
    headers = {"Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json"}
    try:
        for query, expected in ((SELECT_1, "1"), (SELECT_2, "2"), (SELECT_3, "3")):
            conn.request("POST", "/sparql", body=query.encode(), headers=headers)
            response = conn.getresponse()
            assert response.status == 200
            assert value(response.read()) == expected
        form = urllib.parse.urlencode({"query": SELECT_2}).encode()
        conn.request(
            "POST",
            "/sparql",
            body=form,
            headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
        )
        response = conn.getresponse()
        assert response.status == 200 and value(response.read()) == "2"
    finally:
        conn.close()


NODE_FETCH = """
const url = process.argv[1], out = [];
(async () => {
  for (const n of [1, 2, 3]) {
    const r = await fetch(url, {method: 'POST', body: `SELECT (${n} AS ?x) WHERE {}`,
      headers: {'Content-Type': 'application/sparql-query', Accept: 'application/sparql-results+json'}});
    out.push(r.status + ' ' + (await r.json()).results.bindings[0].x.value);
  }
  console.log(out.join(','));
})();
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_node_fetch_keep_alive_gets_each_answer(server: str) -> None:
    """Issue 13 named Node's fetch (keep-alive by default) among the clients that got old answers."""
    done = subprocess.run(
        ["node", "-e", NODE_FETCH, server + "/sparql"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "200 1,200 2,200 3"


def test_requests_session_reuses_the_connection_correctly(server: str) -> None:
    conn = connection(server)
    try:
        for n in range(1, 6):
            conn.request(
                "GET",
                "/sparql?" + urllib.parse.urlencode({"query": f"SELECT ({n} AS ?x) {{}}"}),
                headers={"Accept": "application/sparql-results+json"},
            )
            response = conn.getresponse()
            assert value(response.read()) == str(n)
    finally:
        conn.close()


def test_negative_content_length_is_refused_without_reading_the_body(server: str) -> None:
    head = (
        b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
        b"Content-Length: -1\r\n\r\n"
    )
    start = time.monotonic()
    answer = raw(server, head + b"ASK {}" + b" " * 2_000_000)
    assert status_of(answer) == 400 and time.monotonic() - start < 5
    assert sparql_get(server, SELECT_1)[0] == 200  # the server goes on


def test_non_numeric_content_length_gets_400_not_a_dropped_connection(server: str) -> None:
    answer = raw(
        server,
        b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
        b"Content-Length: abc\r\n\r\nASK {}",
    )
    assert status_of(answer) == 400


def test_chunked_body_is_read(server: str) -> None:
    body = SELECT_2.encode()
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    answer = raw(
        server,
        b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
        b"Accept: application/sparql-results+json\r\nTransfer-Encoding: chunked\r\n"
        b"Connection: close\r\n\r\n" + chunked,
    )
    assert status_of(answer) == 200
    assert b'"value":"2"' in answer.replace(b" ", b"")


def test_chunked_body_larger_than_the_limit_is_413(server: str) -> None:
    piece = b"#" + b"x" * 4000 + b"\n"
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for _ in range(10)) + b"0\r\n\r\n"
    answer = raw(
        server,
        b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + chunks,
    )
    assert status_of(answer) == 413


def test_head_sends_no_body(server: str) -> None:
    query = urllib.parse.quote(SELECT_1)
    answer = raw(
        server, f"HEAD /sparql?query={query} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    )
    assert status_of(answer) == 200 and answer.endswith(b"\r\n\r\n")
    conn = connection(server)
    try:
        conn.request("HEAD", "/sparql?" + urllib.parse.urlencode({"query": SELECT_1}))
        response = conn.getresponse()
        assert response.status == 200 and response.read() == b""
        # the next response on the connection must parse: no body was left behind
        conn.request(
            "GET",
            "/sparql?" + urllib.parse.urlencode({"query": SELECT_3}),
            headers={"Accept": "application/sparql-results+json"},
        )
        assert value(conn.getresponse().read()) == "3"
    finally:
        conn.close()


def test_trailing_slash_is_the_endpoint(server: str) -> None:
    status, _, body = fetch(
        server + "/sparql/?" + urllib.parse.urlencode({"query": SELECT_2}),
        headers={"Accept": "application/sparql-results+json"},
    )
    assert status == 200 and value(body) == "2"


def test_two_query_parameters_are_400(server: str) -> None:
    status, _, body = fetch(server + "/sparql?query=ASK%7B%7D&query=SELECT%20*%20%7B%7D")
    assert status == 400 and b"query" in body


def test_space_in_an_id_path_is_404_not_500(server: str) -> None:
    assert fetch(server + "/id/a%20b")[0] == 404
    assert fetch(server + "/id/%ZZ")[0] in (400, 404)


def test_browser_gets_an_html_404(server: str) -> None:
    accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    status, headers, body = fetch(server + "/nope", headers={"Accept": accept})
    assert status == 404 and headers["Content-Type"].startswith("text/html")
    assert b"<html" in body and b"/nope" in body
    status, headers, body = fetch(server + "/nope", headers={"Accept": "application/json"})
    assert status == 404 and headers["Content-Type"].startswith("application/json")
    assert "/nope" in json.loads(body)["error"]
