"""Time to first byte and peak memory of ``kg serve`` sending a big answer (issue 17: answers streamed
over HTTP with memory independent of the number of rows).

    python benchmarks/serve_stream.py [--runs 3] [--rows 20000 200000] [--before SRC]

Each run starts a fresh ``kg serve --max-rows 10000000`` on loopback with the bundled data and asks
``/sparql`` for ``SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } LIMIT n`` (a cross join: as many rows as
asked) as SPARQL JSON, for each n from small to large, reading the body as it comes. Printed per n:
seconds to the first byte of the body, seconds to the last, megabytes sent, and the peak resident
memory (VmHWM) of the server process and of the query worker after that answer. ``--before SRC``
runs the same against another checkout's ``src`` (e.g. a ``git worktree`` of the previous commit),
interleaved run by run; medians are printed at the end, with the load average.
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
from collections import defaultdict
from pathlib import Path

QUERY = "SELECT * WHERE {{ ?a ?b ?c . ?d ?e ?f }} LIMIT {rows}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def peak_mb(pid: int) -> float:
    """VmHWM (peak resident set) of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def workers(server: int) -> list[int]:
    """The query workers: children of the zygote (the server's child that has children)."""
    return [w for z in children(server) for w in children(z)]


def start(src: str | None, port: int) -> subprocess.Popen:
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = src
    command = [sys.executable, "-m", "kg.cli", "serve", "--port", str(port)]
    command += ["--max-rows", "10000000", "--timeout", "300"]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the server did not start")


def ask(port: int, rows: int) -> tuple[float, float, int]:
    """(seconds to the first body byte, seconds to the last, bytes) of one answer."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    query = urllib.parse.urlencode({"query": QUERY.format(rows=rows)})
    started = time.monotonic()
    conn.request("GET", "/sparql?" + query, headers={"Accept": "application/sparql-results+json"})
    response = conn.getresponse()
    size = len(response.read(1))
    first = time.monotonic() - started
    while chunk := response.read(1 << 16):
        size += len(chunk)
    total = time.monotonic() - started
    conn.close()
    if response.status != 200:
        raise RuntimeError(f"status {response.status}")
    return first, total, size


def run(label: str, src: str | None, sizes: list[int], results: dict) -> None:
    port = free_port()
    proc = start(src, port)
    try:
        ask(port, 10)  # a worker is forked and warm
        for rows in sizes:
            first, total, size = ask(port, rows)
            server = peak_mb(proc.pid)
            worker = max((peak_mb(w) for w in workers(proc.pid)), default=0.0)
            results[(label, rows)].append((first, total, size / 1e6, server, worker))
            print(
                f"{label:7} {rows:>8} rows: first byte {first:6.3f} s, last {total:6.2f} s, "
                f"{size / 1e6:6.1f} MB; peak RSS server {server:6.1f} MB, worker {worker:6.1f} MB",
                flush=True,
            )
    finally:
        proc.kill()
        proc.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rows", type=int, nargs="+", default=[20000, 200000])
    parser.add_argument("--before", help="the src folder of the version to compare with")
    args = parser.parse_args()
    print("load average before:", " ".join(f"{x:.2f}" for x in os.getloadavg()))
    results: dict = defaultdict(list)
    versions = [("after", None)] + ([("before", args.before)] if args.before else [])
    for _ in range(args.runs):
        for label, src in versions:
            run(label, src, sorted(args.rows), results)
    print("load average after:", " ".join(f"{x:.2f}" for x in os.getloadavg()))
    print(f"\nmedians of {args.runs} runs")
    print("| version | rows | MB | first byte | last byte | server peak RSS | worker peak RSS |")
    print("|---|---|---|---|---|---|---|")
    for (label, rows), values in sorted(results.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        first, total, mb, server, worker = (statistics.median(v) for v in zip(*values, strict=True))
        print(
            f"| {label} | {rows:,} | {mb:.1f} | {first:.3f} s | {total:.2f} s | {server:.0f} MB "
            f"| {worker:.0f} MB |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
