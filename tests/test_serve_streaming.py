"""Long answers streamed over HTTP (issue 17, item 3): kg serve sends an answer longer than the
look-ahead as the worker writes it, in every result and RDF format, on /sparql and the stored-query API,
with the bytes of the whole answer and memory that does not grow with the rows; past its time limit a
started answer is cut (no last chunk), never ended as if whole; no byte of one answer reaches another
request. Answers within the look-ahead, pages, HEAD and HTTP/1.0 stay whole (test_serve_*.py).
"""

from __future__ import annotations

import http.client
import io
import json
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path

import pytest
import rdflib
from rdflib.compare import isomorphic
from serving import children, kg_serve, kg_server, peak_rss, sparql_get, status_of

import kg
from kg.core.errors import QueryError
from kg.core.results import Result
from kg.core.sparql_text import on_big_stack
from kg.serve import conneg, workers
from kg.serve.contract import Answer, Cut, Settings
from kg.serve.endpoint import AHEAD, Handler, Streamed

# 1,662 rows (or triples) of the bundled graph, no blank nodes: more than the look-ahead, less than the
# server's --max-rows below; in a fixed order, so that the bytes can be compared
ORDERED = "SELECT ?s ?p ?o WHERE { ?s ?p ?o FILTER(isIRI(?s) && !isBlank(?o)) } ORDER BY ?s ?p ?o"
TRIPLES = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o FILTER(isIRI(?s) && !isBlank(?o)) }"
CROSS = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f }"  # about 3 million rows
ENDLESS = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"  # billions: longer than any time limit
MAX_ROWS = 3000
RESULT_MEDIA = {
    "application/sparql-results+json": "json",
    "application/sparql-results+xml": "xml",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
}
RDFLIB_FORMATS = {"turtle": "turtle", "nt": "nt", "jsonld": "json-ld", "xml": "xml"}


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with kg_serve("--timeout", "10", "--max-rows", str(MAX_ROWS)) as url:
        yield url


@pytest.fixture(scope="module")
def endless_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("endless") / "serve.log"


@pytest.fixture(scope="module")
def endless(endless_log: Path) -> Iterator[str]:
    """A server whose row limit never stops ENDLESS: only the time limit does; a queue of 3 requests."""
    with kg_serve("--timeout", "2", "--max-rows", "1000000000", "--queue", "3", log=endless_log) as url:
        yield url


def get(base: str, path: str, headers: dict | None = None, method: str = "GET") -> tuple:
    """(status, headers, body) over http.client, which shows the framing headers as sent."""
    parts = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def sparql_path(query: str) -> str:
    return "/sparql?" + urllib.parse.urlencode({"query": query})


def assert_streamed(headers: object) -> None:
    assert headers["Transfer-Encoding"] == "chunked" and "Content-Length" not in headers
    assert headers["X-KG-Row-Limit"] == str(MAX_ROWS) and "X-KG-Truncated" not in headers


# --- the bytes of the whole answer, in every format -----------------------------------------------


def test_the_test_queries_are_longer_than_the_look_ahead(graph: kg.KnowledgeGraph) -> None:
    assert AHEAD < len(graph.query(ORDERED)) == len(graph.query(TRIPLES)) < MAX_ROWS


@pytest.mark.parametrize("media", RESULT_MEDIA)
def test_a_long_answer_is_streamed_with_the_bytes_of_the_whole_one(
    server: str, graph: kg.KnowledgeGraph, media: str
) -> None:
    status, headers, body = get(server, sparql_path(ORDERED), {"Accept": media})
    assert status == 200 and headers.get_content_type() == media
    assert headers.get_content_charset() == ("utf-8" if media.startswith("text/") else None)
    assert_streamed(headers)
    assert body == graph.query(ORDERED).serialize(RESULT_MEDIA[media])


@pytest.mark.parametrize("media", conneg.GRAPHS)
def test_a_long_construct_is_streamed_as_the_same_graph(
    server: str, graph: kg.KnowledgeGraph, media: str
) -> None:
    status, headers, body = get(server, sparql_path(TRIPLES), {"Accept": media})
    assert status == 200 and headers.get_content_type() == media
    assert headers.get_content_charset() == ("utf-8" if media.startswith("text/") else None)
    assert_streamed(headers)
    got = rdflib.Graph().parse(data=body, format=RDFLIB_FORMATS[conneg.GRAPHS[media]])
    expected = rdflib.Graph().parse(data=graph.query(TRIPLES).serialize("nt"), format="nt")
    assert len(got) == len(expected) > AHEAD and set(got) == set(expected)


def test_the_stored_query_api_streams_too(server: str, graph: kg.KnowledgeGraph) -> None:
    """The API's answers take the same path: the edited text of a stored query (POST), in CSV."""
    form = urllib.parse.urlencode({"query": ORDERED}).encode()
    parts = urllib.parse.urlsplit(server)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/csv"}
        conn.request("POST", "/api/queries/initiatives", body=form, headers=headers)
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    assert response.status == 200
    assert_streamed(response.headers)
    assert body == graph.query(ORDERED).serialize("csv")
    assert response.headers.get_content_charset() == "utf-8"  # RFC 2046 4.1.2: text/* is US-ASCII without it


def test_a_streamed_answer_cut_by_the_row_limit_says_so_in_head(server: str) -> None:
    """The head of a streamed answer cannot know whether --max-rows will cut it (X-KG-Row-Limit); HEAD
    reads it to the end, so it gives the length and X-KG-Truncated."""
    status, headers, body = get(server, sparql_path(CROSS), {"Accept": "application/sparql-results+json"})
    assert status == 200 and len(json.loads(body)["results"]["bindings"]) == MAX_ROWS
    assert_streamed(headers)
    status, head, empty = get(
        server, sparql_path(CROSS), {"Accept": "application/sparql-results+json"}, "HEAD"
    )
    assert status == 200 and empty == b"" and int(head["Content-Length"]) == len(body)
    assert head["X-KG-Truncated"] == f"more than {MAX_ROWS} rows; cut to {MAX_ROWS}"


def test_an_http10_client_gets_the_whole_answer_with_its_length(
    server: str, graph: kg.KnowledgeGraph
) -> None:
    """Without chunked coding a cut answer could not be told from a whole one: HTTP/1.0 gets it whole."""
    host = urllib.parse.urlsplit(server)
    request = f"GET {sparql_path(ORDERED)} HTTP/1.0\r\nHost: x\r\nAccept: text/csv\r\n\r\n".encode()
    response = _raw(host.hostname, host.port, request)
    head, _, body = response.partition(b"\r\n\r\n")
    assert status_of(response) == 200 and b"chunked" not in head.lower()
    assert f"content-length: {len(body)}".encode() in head.lower()
    assert body == graph.query(ORDERED).serialize("csv")


# --- no answer mixed into another request --------------------------------------------------------


def test_concurrent_streams_each_get_their_own_answer(server: str, graph: kg.KnowledgeGraph) -> None:
    """Eight clients at once, each a long answer marked with its own number; half of them hang up
    after the first bytes (their workers must not serve anyone after). Three rounds, then keep-alive."""
    expected = len(graph.query("SELECT * WHERE { ?s ?p ?o }"))
    assert expected > AHEAD
    parts = urllib.parse.urlsplit(server)
    failures: list[str] = []

    def client(number: int) -> None:
        query = f"SELECT ?s ?p ?o ({number} AS ?k) WHERE {{ ?s ?p ?o }}"
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        try:
            conn.request("GET", sparql_path(query), headers={"Accept": "application/sparql-results+json"})
            response = conn.getresponse()
            if number % 2:
                response.read(1000)  # and hang up
                return
            rows = json.loads(response.read())["results"]["bindings"]
            marks = {row["k"]["value"] for row in rows}
            if len(rows) != expected or marks != {str(number)}:
                failures.append(f"client {number}: {len(rows)} rows marked {sorted(marks)[:5]}")
        except Exception as err:
            failures.append(f"client {number}: {type(err).__name__}: {err}")
        finally:
            conn.close()

    for round_ in range(3):
        threads = [threading.Thread(target=client, args=(10 * round_ + n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert failures == []
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        for n in range(1, 6):
            conn.request("GET", sparql_path(f"SELECT ({n} AS ?x) {{}}"), headers={"Accept": "text/csv"})
            assert conn.getresponse().read() == f"x\r\n{n}\r\n".encode()
    finally:
        conn.close()


# --- the time limit ------------------------------------------------------------------------------


def _raw(host: str, port: int, request: bytes, seconds: float = 30) -> bytes:
    """What comes back on one connection until the server closes it."""
    chunks = []
    with socket.create_connection((host, port), timeout=seconds) as s:
        s.sendall(request)
        while chunk := s.recv(1 << 16):
            chunks.append(chunk)
    return b"".join(chunks)


def test_the_time_limit_cuts_a_started_answer_without_its_last_chunk(endless: str, endless_log: Path) -> None:
    """The first bytes come at once; at the time limit (2 s) the connection is closed without the
    chunked body's last, empty chunk, so a client knows the answer is not whole; the server logs one
    line (no traceback) and goes on."""
    parts = urllib.parse.urlsplit(endless)
    request = (
        f"GET {sparql_path(ENDLESS)} HTTP/1.1\r\nHost: x\r\nAccept: text/csv\r\nConnection: close\r\n\r\n"
    ).encode()
    started = time.monotonic()
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as s:
        s.sendall(request)
        first = s.recv(1 << 16)
        first_at = time.monotonic() - started
        chunks = [first]
        while chunk := s.recv(1 << 16):
            chunks.append(chunk)
    took = time.monotonic() - started
    response = b"".join(chunks)
    head, _, body = response.partition(b"\r\n\r\n")
    assert status_of(response) == 200 and b"transfer-encoding: chunked" in head.lower()
    assert first_at < 1.0 and len(body) > 100_000, (first_at, len(body))
    assert 1.9 < took < 6, took
    assert not body.endswith(b"\r\n0\r\n\r\n")
    # a client library sees an incomplete answer, not a short one
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request("GET", sparql_path(ENDLESS), headers={"Accept": "text/csv"})
        response_ = conn.getresponse()
        assert response_.status == 200
        with pytest.raises(http.client.IncompleteRead):
            response_.read()
    finally:
        conn.close()
    status, _, body = sparql_get(endless, "SELECT (1 AS ?x) {}", "text/csv")
    assert status == 200 and body == b"x\r\n1\r\n"
    log = endless_log.read_text()
    cut = "WARNING:  kg: an answer was cut after its first bytes: the query ran longer than 2 s"
    assert log.count(cut) >= 2 and "Traceback" not in log


def test_a_client_that_stops_reading_holds_no_worker_past_the_time_limit(
    endless: str, endless_log: Path
) -> None:
    """Three clients (the queue's size) read the head of a long answer and then nothing: at the time
    limit their answers are cut and their slots freed, though the server is waiting to send to them."""
    parts = urllib.parse.urlsplit(endless)
    request = f"GET {sparql_path(ENDLESS)} HTTP/1.1\r\nHost: x\r\nAccept: text/csv\r\n\r\n".encode()
    logged = endless_log.read_text().count("was cut")
    sockets = [socket.create_connection((parts.hostname, parts.port), timeout=30) for _ in range(3)]
    try:
        for s in sockets:
            s.sendall(request)
            assert status_of(s.recv(1000)) == 200
        time.sleep(3)  # past the time limit, reading nothing
        cuts = [line for line in endless_log.read_text().splitlines() if "was cut" in line][logged:]
        after = [float(line.rsplit("(after ", 1)[1].split()[0]) for line in cuts]
        assert len(after) == 3 and max(after) < 2.9, cuts
        status, _, body = sparql_get(endless, "SELECT (1 AS ?x) {}", "text/csv")
        assert status == 200 and body == b"x\r\n1\r\n"
        for s in sockets:  # what was sent before the cut, then the end of the connection
            received = b""
            while chunk := s.recv(1 << 20):
                received += chunk
            assert not received.endswith(b"\r\n0\r\n\r\n")
    finally:
        for s in sockets:
            s.close()


def test_past_the_time_limit_before_any_byte_http10_gets_503(endless: str) -> None:
    parts = urllib.parse.urlsplit(endless)
    request = f"GET {sparql_path(ENDLESS)} HTTP/1.0\r\nHost: x\r\n\r\n".encode()
    response = _raw(parts.hostname, parts.port, request)
    error = json.loads(response.partition(b"\r\n\r\n")[2])["error"]
    assert status_of(response) == 503 and "longer than 2 s" in error and "\n" not in error


def test_a_client_that_hangs_up_frees_its_worker_at_once(endless: str) -> None:
    """With a queue of 3, a fourth request while three abandoned answers still held their slots would
    get 503 ('busy'); each hang-up must stop its worker and free its slot at once."""
    parts = urllib.parse.urlsplit(endless)
    for _ in range(6):
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        conn.request("GET", sparql_path(ENDLESS), headers={"Accept": "text/csv"})
        response = conn.getresponse()
        assert response.status == 200 and len(response.read(10_000)) == 10_000
        conn.close()
    time.sleep(0.3)  # the server notices the hang-ups
    started = time.monotonic()
    for n in range(3):
        status, _, body = sparql_get(endless, f"SELECT ({n} AS ?x) {{}}", "text/csv")
        assert status == 200 and body == f"x\r\n{n}\r\n".encode()
    assert time.monotonic() - started < 1.5


# --- the worker's side, in this process ----------------------------------------------------------


@pytest.fixture(scope="module")
def handler(graph: kg.KnowledgeGraph) -> Handler:
    return Handler(graph, Settings(data=None))


def _params(stored: object) -> dict[str, str]:
    return {p.name: str(p.example) for p in stored.parameters if p.required and p.example is not None}


@pytest.mark.parametrize("name", sorted(kg.stored_queries()))
def test_every_stored_query_streams_what_it_gives_whole(handler: Handler, name: str) -> None:
    """With no look-ahead every answer of a row or more is streamed: the W3C result formats give the
    bytes of the whole answer, the RDF formats the same graph."""
    stored = kg.stored_queries()[name]
    graph_form = stored.form in ("CONSTRUCT", "DESCRIBE")
    for media, fmt in (conneg.GRAPHS if graph_form else RESULT_MEDIA).items():
        handler.ahead = AHEAD
        whole = handler.op_stored(name, _params(stored), media)
        handler.ahead = 0
        try:
            streamed = handler.op_stored(name, _params(stored), media)
        finally:
            handler.ahead = AHEAD
        assert isinstance(whole, Answer) and whole.status == 200, (name, media)
        assert isinstance(streamed, Streamed) and streamed.head.media_type == media
        out = io.BytesIO()
        streamed.write(out)
        if graph_form:
            fmt_ = RDFLIB_FORMATS[fmt]
            parsed = [rdflib.Graph().parse(data=b, format=fmt_) for b in (whole.body, out.getvalue())]
            assert isomorphic(*parsed), (name, media)
        else:
            assert out.getvalue() == whole.body, (name, media)


def test_a_streamed_page_has_its_exact_link_header(graph: kg.KnowledgeGraph) -> None:
    """A page is read to its end before its head, so its Link header is exact even when streamed."""
    small = Handler(graph, Settings(data=None, max_rows=4))  # pages of 4 rows
    small.ahead = 2
    everything = [row["initiative"] for row in graph.query("initiatives")]
    assert len(everything) == 11
    seen = []
    for page, more in ((1, True), (2, True), (3, False)):
        answer = small.op_stored("initiatives", {}, "application/sparql-results+json", page=page)
        out = io.BytesIO()
        if isinstance(answer, Streamed):
            assert "X-KG-Row-Limit" not in answer.head.headers
            answer.write(out)
            headers = answer.head.headers
        else:
            out.write(answer.body)
            headers = answer.headers
        assert ('rel="next"' in headers["Link"]) is more and "X-KG-Truncated" not in headers
        seen += [row["initiative"]["value"] for row in json.loads(out.getvalue())["results"]["bindings"]]
    assert seen == everything


def test_on_a_big_stack_a_stream_is_read_right_there(graph: kg.KnowledgeGraph) -> None:
    """A query worker streams on the request's big-stack thread: no producer thread is started (its
    hand-overs cost small queries a third of their speed under load), and the rows are the same."""

    def read() -> tuple[int, int, list]:
        before = threading.active_count()
        rows = iter(graph.query(ORDERED, stream=True).rows)
        first = next(rows)
        return before, threading.active_count(), [first, *rows]

    before, during, rows = on_big_stack(read)
    assert during == before and rows == graph.query(ORDERED).rows


def test_an_error_after_the_head_is_sent_as_a_cut() -> None:
    """The worker's side of the protocol (kg.serve.contract): head, chunks, then Cut with the error a
    whole answer would have been, and nothing more (the worker can take the next request)."""

    def rows() -> Iterator[tuple]:
        for n in range(20_000):
            yield (rdflib_free_literal(n),)
        raise QueryError("<query>: SPARQL evaluation error: boom")

    items = rows()
    result = Result("SELECT", ["x"], rows=items)
    body = Result("SELECT", ["x"], rows=items)
    head = Answer(200, "text/csv", b"", {"X-KG-Row-Limit": "10"}, streamed=True)
    streamed = Streamed(head, result, body, "csv", False, 10)
    ours, theirs = socket.socketpair()
    with ours, theirs:
        sender = Connection(ours.fileno())
        receiver = Connection(theirs.fileno())
        writer = threading.Thread(target=workers._stream, args=(sender, streamed))
        writer.start()
        messages = [receiver.recv()]
        while not isinstance(messages[-1], Cut):
            messages.append(receiver.recv())
        writer.join(10)
        assert not receiver.poll(0.2)
        sender._handle = receiver._handle = None  # the sockets close themselves
    assert messages[0] == head
    chunks = messages[1:-1]
    assert chunks and all(isinstance(c, bytes) and len(c) <= 2 * workers.CHUNK for c in chunks)
    assert b"".join(chunks).startswith(b"x\r\n0\r\n1\r\n")
    cut = messages[-1].error
    assert cut.status == 400 and json.loads(cut.body) == {"error": "<query>: SPARQL evaluation error: boom"}


def rdflib_free_literal(n: int) -> object:
    import pyoxigraph as ox

    return ox.Literal(str(n))


# --- memory and first bytes (slow) ---------------------------------------------------------------


@pytest.mark.slow
def test_memory_does_not_grow_with_the_rows_and_the_first_bytes_come_first() -> None:
    """20,000 rows, then 200,000 (about 10 and 100 MB of JSON): the peak resident memory of the server
    process and of the query worker grows by less than 20 MB between them (whole answers grew by
    about 270 and 750 MB); the first byte of the big answer comes within a tenth of its time."""
    with kg_server("--timeout", "300", "--max-rows", "10000000") as (url, proc):
        parts = urllib.parse.urlsplit(url)

        def answer(rows: int) -> tuple[float, float, int]:
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=300)
            try:
                started = time.monotonic()
                query = f"{CROSS} LIMIT {rows}"
                conn.request("GET", sparql_path(query), headers={"Accept": "application/sparql-results+json"})
                response = conn.getresponse()
                size = len(response.read(1))
                first = time.monotonic() - started
                while chunk := response.read(1 << 16):
                    size += len(chunk)
                assert response.status == 200
                return first, time.monotonic() - started, size
            finally:
                conn.close()

        def peaks() -> tuple[int, int]:
            worker = max(peak_rss(w) for z in children(proc.pid) for w in children(z))
            return peak_rss(proc.pid), worker

        answer(2 * AHEAD)  # a worker is forked and has streamed once
        _, _, small_size = answer(20_000)
        small = peaks()
        first, total, big_size = answer(200_000)
        big = peaks()
    assert big_size > 9 * small_size > 80_000_000
    assert big[0] - small[0] < 20_000_000, (small, big)
    assert big[1] - small[1] < 20_000_000, (small, big)
    assert first < total / 10, (first, total)
