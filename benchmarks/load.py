"""Load test on loopback: concurrent clients running the stored queries against kg serve and against an
Oxigraph server holding the same data (ontology, data and inferred triples, pushed with kg push).

    python benchmarks/load.py [--clients 8] [--requests 1200] [--seconds 60] [--slow-clients 20]

Bounded: each server gets at most --requests requests or --seconds seconds, only on 127.0.0.1. Prints
throughput and p50/p99 latency per target, with the error count, side by side. Then the same servers
under --slow-clients clients that each send a slow query (a cross join counting 3 million rows, about
1 s of CPU) again and again for 15 s, while one client sends a cheap ASK every 0.1 s: the cheap
query's p50 and p99, and what the slow clients got (200, 503, other).
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import kg


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str) -> None:
    for _ in range(300):
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


def requests_for(base: str, kind: str) -> list[urllib.request.Request]:
    """One request per stored query (example parameters bound), for the SPARQL endpoint or the web API."""
    graph = kg.load()
    out = []
    for name, stored in kg.stored_queries().items():
        params = {p.name: p.example for p in stored.parameters if p.required and p.example is not None}
        if kind == "api":
            out.append(
                urllib.request.Request(
                    f"{base}/api/queries/{name}?{urllib.parse.urlencode(params)}",
                    headers={"Accept": "application/sparql-results+json"},
                )
            )
        else:
            text = graph.bound(stored, params)
            out.append(
                urllib.request.Request(
                    base,
                    data=text.encode(),
                    method="POST",
                    headers={
                        "Content-Type": "application/sparql-query",
                        "Accept": "application/sparql-results+json",
                    },
                )
            )
    return out


def size(request: urllib.request.Request) -> object:
    """The number of solutions (or the boolean) of one request's JSON answer."""
    import json

    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.loads(response.read())
    return answer["boolean"] if "boolean" in answer else len(answer["results"]["bindings"])


def same_answers(kg_requests: list, other_requests: list) -> None:
    """Stop unless both targets give every query the same number of solutions (like is compared with
    like: an empty default graph would answer fast and wrong)."""
    for mine, theirs in zip(kg_requests, other_requests, strict=True):
        if size(mine) != size(theirs):
            raise SystemExit(f"the targets answer {mine.data[:80]!r}... differently: not comparable")


def hammer(requests: list[urllib.request.Request], clients: int, total: int, seconds: float) -> dict:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    counter = itertools.count()
    deadline = time.monotonic() + seconds

    def client() -> None:
        while time.monotonic() < deadline:
            n = next(counter)
            if n >= total:
                return
            start = time.perf_counter()
            try:
                with urllib.request.urlopen(requests[n % len(requests)], timeout=30) as response:
                    response.read()
                    ok = response.status == 200
            except (urllib.error.URLError, OSError):
                ok = False
            with lock:
                latencies.append(time.perf_counter() - start)
                errors[0] += not ok

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "errors": errors[0],
        "throughput": len(ordered) / elapsed,
        "p50": statistics.median(ordered) * 1000,
        "p99": ordered[int(0.99 * (len(ordered) - 1))] * 1000,
    }


SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f }"
CHEAP = "ASK { ?s a <https://w3id.org/initiatieven/def/Initiative> }"


def post(url: str, query: str) -> urllib.request.Request:
    return urllib.request.Request(
        url,
        data=query.encode(),
        method="POST",
        headers={"Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json"},
    )


def under_slow_load(url: str, clients: int, seconds: float = 15) -> dict:
    """The cheap query's latencies while ``clients`` send the slow query; the slow clients' outcomes."""
    stop = time.monotonic() + seconds
    outcomes = {"200": 0, "503": 0, "other": 0}
    lock = threading.Lock()

    def slow() -> None:
        while time.monotonic() < stop:
            try:
                with urllib.request.urlopen(post(url, SLOW), timeout=60) as response:
                    response.read()
                    key = "200"
            except urllib.error.HTTPError as err:
                key = "503" if err.code == 503 else "other"
                time.sleep(1 if err.code == 503 else 0)
            except (urllib.error.URLError, OSError):
                key = "other"
            with lock:
                outcomes[key] += 1

    threads = [threading.Thread(target=slow) for _ in range(clients)]
    for t in threads:
        t.start()
    time.sleep(1)
    latencies, errors = [], 0
    while time.monotonic() < stop:
        start = time.perf_counter()
        try:
            with urllib.request.urlopen(post(url, CHEAP), timeout=60) as response:
                response.read()
        except (urllib.error.URLError, OSError):
            errors += 1
        latencies.append(time.perf_counter() - start)
        time.sleep(0.1)
    for t in threads:
        t.join()
    ordered = sorted(latencies)
    return {
        "cheap": len(ordered),
        "cheap_errors": errors,
        "p50": statistics.median(ordered) * 1000,
        "p99": ordered[int(0.99 * (len(ordered) - 1))] * 1000,
        **outcomes,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=1200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--slow-clients", type=int, default=20, help="0 skips the slow-clients run")
    args = parser.parse_args()
    kg_port, ox_port = free_port(), free_port()
    oxigraph = shutil.which("oxigraph") or str(Path(sys.executable).with_name("oxigraph"))
    with tempfile.TemporaryDirectory() as store:
        servers = [
            subprocess.Popen(
                [sys.executable, "-m", "kg.cli", "serve", "--port", str(kg_port)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            ),
            subprocess.Popen(
                # kg push writes three named graphs; their union is the default graph, as in kg
                [
                    oxigraph,
                    "serve",
                    "--location",
                    store,
                    "--bind",
                    f"127.0.0.1:{ox_port}",
                    "--union-default-graph",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            ),
        ]
        try:
            wait_for(f"http://127.0.0.1:{kg_port}/api/queries")
            wait_for(f"http://127.0.0.1:{ox_port}/query?query=ASK%7B%7D")
            subprocess.run(
                [sys.executable, "-m", "kg.cli", "push", "--endpoint", f"http://127.0.0.1:{ox_port}/store"],
                check=True,
                capture_output=True,
            )
            targets = {
                "kg serve, /sparql": requests_for(f"http://127.0.0.1:{kg_port}/sparql", "sparql"),
                "kg serve, /api/queries": requests_for(f"http://127.0.0.1:{kg_port}", "api"),
                "oxigraph serve, /query": requests_for(f"http://127.0.0.1:{ox_port}/query", "sparql"),
            }
            same_answers(targets["kg serve, /sparql"], targets["oxigraph serve, /query"])
            print(
                f"{args.clients} concurrent clients, {len(targets['kg serve, /sparql'])} stored queries "
                f"round-robin, at most {args.requests} requests or {args.seconds:g} s per target"
            )
            print(f"{'target':26} {'requests':>9} {'errors':>7} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
            failed = False
            for label, requests in targets.items():
                hammer(requests, args.clients, len(requests) * 2, 10)  # warm-up
                r = hammer(requests, args.clients, args.requests, args.seconds)
                failed |= r["errors"] > 0
                print(
                    f"{label:26} {r['requests']:9d} {r['errors']:7d} {r['throughput']:8.1f} "
                    f"{r['p50']:8.1f} {r['p99']:8.1f}"
                )
            if args.slow_clients:
                print(f"\n{args.slow_clients} clients sending a slow query for 15 s; a cheap ASK every 0.1 s")
                print(
                    f"{'target':26} {'cheap':>6} {'errors':>7} {'p50 ms':>8} {'p99 ms':>8} "
                    f"{'slow 200':>9} {'slow 503':>9} {'other':>6}"
                )
                for label, url in (
                    ("kg serve, /sparql", f"http://127.0.0.1:{kg_port}/sparql"),
                    ("oxigraph serve, /query", f"http://127.0.0.1:{ox_port}/query"),
                ):
                    r = under_slow_load(url, args.slow_clients)
                    failed |= r["cheap_errors"] > 0
                    print(
                        f"{label:26} {r['cheap']:6d} {r['cheap_errors']:7d} {r['p50']:8.1f} {r['p99']:8.1f} "
                        f"{r['200']:9d} {r['503']:9d} {r['other']:6d}"
                    )
        finally:
            for server in servers:
                server.kill()
                server.wait()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
