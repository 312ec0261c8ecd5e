"""No outbound requests because of what a query says: SERVICE is refused before any evaluation."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

import kg
from kg.core.sparql_text import services, tokens


@pytest.fixture
def listener() -> Iterator[tuple[str, list[bytes]]]:
    """A loopback socket that records every connection made to it (there must be none)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    hits: list[bytes] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            conn.settimeout(1)
            try:
                hits.append(conn.recv(200))
            except OSError:
                hits.append(b"")
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/sparql", hits
    stop.set()
    thread.join(2)
    server.close()


@pytest.mark.parametrize("engine", ["oxigraph", "rdflib"])
def test_service_is_refused_and_nothing_is_sent(engine: str, listener) -> None:
    url, hits = listener
    graph = kg.load(engine=engine)
    for text in (
        f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
        f"select * where {{ service silent # a comment\n <{url}> {{ ?s ?p ?o }} }}",
        f"ASK {{ SERVICE <{url}> {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }}",
        f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
        "SELECT * WHERE { BIND(<" + url + "> AS ?ep) SERVICE ?ep { ?s ?p ?o } }",
    ):
        with pytest.raises(kg.QueryError, match=r"SERVICE .* refused"):
            graph.query(text)
    assert hits == []


def test_a_syntax_error_with_service_sends_nothing(listener) -> None:
    url, hits = listener
    with pytest.raises(kg.QueryError):
        kg.load().query(f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} ")
    assert hits == []


def test_allowed_endpoints_are_named_explicitly(listener) -> None:
    url, hits = listener
    graph = kg.load()
    with pytest.raises(kg.QueryError, match="refused"):
        graph.query(
            f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}", allow_service=["http://example.org/"]
        )
    assert hits == []


def test_command_line_refuses_service_with_exit_2(listener, tmp_path) -> None:
    url, hits = listener
    query = tmp_path / "q.rq"
    query.write_text(f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}")
    done = subprocess.run(
        [sys.executable, "-m", "kg.cli", "query", str(query)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2 and "refused" in done.stderr and len(done.stderr.splitlines()) == 1
    assert hits == []


def _services(text: str) -> list[str | None]:
    return services(tokens(text), {"ex": "http://example.org/"})


def test_the_keyword_is_read_as_sparql_not_as_text() -> None:
    text = 'SELECT ?service WHERE { ?s ex:SERVICE "SERVICE" ; <http://x/SERVICE> ?o } # SERVICE <a>'
    assert _services(text) == []
    assert _services("SELECT * {\n  SERVICE<http://a/b>{}}") == ["http://a/b"]
    assert _services("SELECT * { FILTER(?a<?b) SERVICE ex:q {} }") == ["http://example.org/q"]


def test_queries_that_merely_mention_service_still_run() -> None:
    rows = kg.load().query('SELECT ?service WHERE { BIND("SERVICE <http://x>" AS ?service) }')
    assert rows.rows[0][0].value == "SERVICE <http://x>"
