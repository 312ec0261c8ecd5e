"""Limits that bound work, not only output (issue 13): row limits pushed into the query, CONSTRUCT and
DESCRIBE cut, query size and nesting refused with 400 (never a crash), a memory cap per worker, and
admission control so that a cheap query is answered while slow ones queue.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import rdflib
from serving import fetch, kg_serve, sparql_get, sparql_post

CROSS = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } LIMIT 10000000"
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
DEEP = "SELECT * WHERE " + "{" * 10000 + "}" * 10000


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with kg_serve("--timeout", "3", "--max-rows", "100", "--max-request-size", "200000") as url:
        yield url


def rows(body: bytes) -> list:
    return json.loads(body)["results"]["bindings"]


def test_max_rows_bounds_the_work(server: str) -> None:
    start = time.monotonic()
    status, headers, body = sparql_post(server, CROSS)
    took = time.monotonic() - start
    assert status == 200 and len(rows(body)) == 100 and "100" in headers["X-KG-Truncated"]
    assert took < 1.5, f"{took:.1f} s for 100 rows"


def test_a_smaller_limit_in_the_query_is_kept(server: str) -> None:
    status, headers, body = sparql_post(server, "SELECT * WHERE { ?s ?p ?o } LIMIT 7")
    assert status == 200 and len(rows(body)) == 7 and "X-KG-Truncated" not in headers


@pytest.mark.parametrize(
    "query",
    [
        "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }",
        "CONSTRUCT WHERE { ?s ?p ?o }",
        "DESCRIBE ?s WHERE { ?s a ?type }",
    ],
)
def test_construct_and_describe_are_cut(server: str, query: str) -> None:
    status, headers, body = sparql_post(server, query, accept="application/n-triples")
    graph = rdflib.Graph().parse(data=body.decode(), format="nt")
    assert status == 200 and 0 < len(graph) <= 100 and "X-KG-Truncated" in headers


@pytest.mark.parametrize(
    "query",
    [
        DEEP,
        "SELECT * WHERE { FILTER(" + "(" * 10000 + "1" + ")" * 10000 + ") }",
        "SELECT * WHERE { FILTER(" + "!" * 20000 + "true) }",
        "SELECT * WHERE { FILTER(" + "+".join(["1"] * 20000) + " > 0) }",
        "SELECT * WHERE { " + " ".join(f"BIND(1 AS ?a{i})" for i in range(5000)) + " }",
        "SELECT * WHERE { " + " UNION ".join(["{}"] * 20000) + " }",
    ],
    ids=["braces", "parentheses", "not", "plus", "binds", "unions"],
)
def test_deep_or_long_queries_get_400_never_a_crash(server: str, query: str) -> None:
    status, _headers, body = sparql_post(server, query)
    assert status in (200, 400), body[:200]
    if status == 400:
        assert b"nest" in body or b"long" in body or b"large" in body
    status, _, body = sparql_get(server, "SELECT (1 AS ?x) {}")  # no worker crashed
    assert status == 200 and rows(body)[0]["x"]["value"] == "1"


def test_deep_nesting_is_400_naming_the_limit(server: str) -> None:
    status, _, body = sparql_post(server, DEEP)
    assert status == 400 and b"nest" in json.loads(body)["error"].encode()


def test_kg_query_deep_nesting_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "deep.rq"
    path.write_text(DEEP, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "kg.cli", "query", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 2 and "nest" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_memory_cap_stops_the_worker_with_503() -> None:
    hungry = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } ORDER BY ?a ?d ?g LIMIT 1"
    with kg_serve("--timeout", "20", "--memory-cap", "150") as url:
        start = time.monotonic()
        status, headers, body = sparql_post(url, hungry)
        assert status == 503 and b"memory" in body and "Retry-After" in headers
        assert time.monotonic() - start < 15
        status, _, body = sparql_get(url, "SELECT (1 AS ?x) {}")
        assert status == 200 and rows(body)[0]["x"]["value"] == "1"


@pytest.mark.slow
def test_cheap_query_is_answered_within_1s_while_20_clients_send_slow_queries() -> None:
    with kg_serve("--timeout", "4", "--workers", "2") as url:
        stop = time.monotonic() + 8
        statuses: list[int] = []
        retry: list[str] = []

        def slow_client() -> None:
            while time.monotonic() < stop:
                status, headers, _ = sparql_post(url, SLOW)
                statuses.append(status)
                if status == 503:
                    retry.append(headers.get("Retry-After", "missing"))
                    time.sleep(1.0)

        clients = [threading.Thread(target=slow_client) for _ in range(20)]
        for c in clients:
            c.start()
        time.sleep(1.5)  # the slow queries are running and queued
        latencies = []
        for _ in range(6):
            start = time.monotonic()
            status, _, body = sparql_get(url, "ASK { ?s a <https://w3id.org/initiatieven/def/Initiative> }")
            latencies.append(time.monotonic() - start)
            assert status == 200 and json.loads(body)["boolean"] is True
            time.sleep(0.3)
        for c in clients:
            c.join(timeout=30)
        assert max(latencies) < 1.0, latencies
        assert statuses and set(statuses) <= {200, 503} and "missing" not in retry
        assert fetch(url + "/api/queries")[0] == 200
