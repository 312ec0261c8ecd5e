"""kg on real triple stores: push, every stored query, validation and inference there, beside locally.

    python benchmarks/stores.py [--sizes 10000 100000] [--runs 3] [--stores oxigraph virtuoso]
                                [--skip QUERY ...] [--pairwise-max 1000] [--csv benchmarks/stores.csv]

For each size, synthetic initiatives (kg's generator, made as benchmarks/scale.py makes them) are
loaded and inferred locally, then pushed to Virtuoso (the Debian package) and to Oxigraph server,
each started on loopback in a temporary folder (tests/store_servers.py) and stopped afterwards.
Rows: push (kg push: three named graphs through the Graph Store Protocol), the literal check after it
(kg push --query-endpoint), each stored query with its documented parameter values (the initiative a
synthetic one; benchmarks/scale.py's query_params) run on the store, validation on the store (kg
validate --endpoint) and inference there (kg infer --endpoint: the OWL 2 RL rules as SPARQL Updates,
to a fixpoint). The local column has the same steps on the fast path (benchmarks/scale.py's measure:
load, inference, validation, each query). Every figure is the median of ``--runs`` runs, the store
steps in the order push, check, queries, validation, inference. A step that fails on a store is "-"
with the reason printed; each answer's row count is compared with the local one and a difference is
printed. The 1-minute load average is read before and after each column.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))
import scale  # benchmarks/scale.py: the synthetic data and the local figures
import store_servers  # tests/store_servers.py: the stores on loopback


def _runs(runs: int, step: object, what: str = "") -> tuple[float, object]:
    """The median time of ``runs`` calls of ``step``, and what the last call returned."""
    times, answer = [], None
    for _ in range(runs):
        start = time.perf_counter()
        answer = step()
        times.append(time.perf_counter() - start)
    if what:
        print(f"    {what}: {', '.join(f'{t:.2f}' for t in times)} s", file=sys.stderr, flush=True)
    return statistics.median(times), answer


def _load() -> float:
    return os.getloadavg()[0]


def on_store(name: str, path: Path, runs: int, skip: list[str], local_rows: dict[str, int]) -> dict:
    """The timings of one size on one store (started and stopped here)."""
    import kg
    from kg.stores import literals, remote
    from kg.stores.client import Access, Client

    out: dict[str, float] = {"load average before": _load()}
    graph = kg.load(scale.data_files(path))
    graph.infer()
    with getattr(store_servers, name)() as store:
        writer = Client(store.store, Access(store.user, store.password, timeout=1800))
        reader = Client(store.query, Access(timeout=1800))
        updater = Client(store.query, Access(store.user, store.password, timeout=1800))
        out["push"], _ = _runs(runs, lambda: remote.push(graph, writer, store.store), "push")
        check = lambda: literals.check(remote.pushed(graph), reader)  # noqa: E731
        out["literal check"], changed = _runs(runs, check, "literal check")
        for change in changed:
            print(f"  {name}: {change.line()}", file=sys.stderr)
        for query, stored in kg.stored_queries().items():
            if query in skip:
                continue
            params = scale.query_params(stored)
            try:
                seconds, result = _runs(runs, lambda s=stored, p=params: remote.query(s, reader, p), query)
            except kg.KgError as err:
                print(f"  {name}: query {query}: {err}", file=sys.stderr)
                continue
            out[f"query {query}"] = seconds
            if len(result.rows) != local_rows[query]:
                print(
                    f"  {name}: {query} gave {len(result.rows)} rows, {local_rows[query]} locally",
                    file=sys.stderr,
                )
        try:
            out["validation"], report = _runs(runs, lambda: remote.validate(reader), "validation")
            print(f"  {name}: {len(report.findings)} findings", file=sys.stderr)
        except kg.KgError as err:
            print(f"  {name}: validation: {err}", file=sys.stderr)
        try:
            out["inference"], size = _runs(runs, lambda: remote.infer(updater, store.update), "inference")
            local = len(graph.triples(graph.graphs(inferred=True)[2]))
            print(f"  {name}: inferred graph {size} triples, {local} locally", file=sys.stderr)
        except kg.KgError as err:
            print(f"  {name}: inference: {err}", file=sys.stderr)
    out["load average after"] = _load()
    return out


def local(path: Path, runs: int, skip: list[str]) -> tuple[dict, dict[str, int]]:
    """The local figures (benchmarks/scale.py's fast path, without its engine comparisons) and the
    row count of each stored query."""
    import kg

    out = {"load average before": _load()}
    out.update(scale.measure(str(path), "oxigraph", runs, skip, limits=False))
    out.pop("peak memory (MB)", None)
    out.pop("total", None)
    graph = kg.load(scale.data_files(path))
    rows = {
        n: len(graph.query(s, scale.query_params(s)).rows)
        for n, s in kg.stored_queries().items()
        if n not in skip
    }
    out["load average after"] = _load()
    return out, rows


_ORDER = ["push", "literal check", "load", "inference", "validation"]


def _order(step: str) -> tuple:
    if step.startswith("load average"):
        return (3, step)
    if step.startswith("query "):
        return (1, step)
    if step == "total":
        return (2, step)
    return (0, _ORDER.index(step) if step in _ORDER else 99, step)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000])
    parser.add_argument("--runs", type=int, default=3, help="runs per step (median; default 3)")
    parser.add_argument(
        "--stores", nargs="+", default=["oxigraph", "virtuoso"], choices=["oxigraph", "virtuoso"]
    )
    parser.add_argument("--skip", nargs="*", default=[], metavar="QUERY", help="stored queries not to run")
    parser.add_argument(
        "--pairwise-max",
        type=int,
        default=1000,
        help="largest size to run shared-bottlenecks at (default 1000; its answer grows with the square "
        "of the size)",
    )
    parser.add_argument("--csv", type=Path, default=Path(__file__).with_name("stores.csv"))
    args = parser.parse_args()
    for name in args.stores:
        why = store_servers.missing(name)
        if why:
            parser.error(f"{name}: {why}")
    columns: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            path = scale.write_synth(tmp, size)
            skip = [*args.skip, *(["shared-bottlenecks"] if size > args.pairwise_max else [])]
            print(f"{size} initiatives, local ...", file=sys.stderr, flush=True)
            columns[f"{size} local"], rows = local(path, args.runs, skip)
            for name in args.stores:
                print(f"{size} initiatives, {name} ...", file=sys.stderr, flush=True)
                columns[f"{size} {name}"] = on_store(name, path, args.runs, skip, rows)
    names = list(columns)
    steps = sorted({k for c in columns.values() for k in c}, key=_order)
    table = [[s, *(f"{columns[n][s]:.3f}" if s in columns[n] else "-" for n in names)] for s in steps]
    width = max(len(r[0]) for r in table)
    print(f"{'step (seconds)'.ljust(width)}  " + "  ".join(n.rjust(16) for n in names))
    for row in table:
        print(row[0].ljust(width) + "  " + "  ".join(v.rjust(16) for v in row[1:]))
    with args.csv.open("w", newline="") as handle:
        csv.writer(handle).writerows([["step", *names], *table])
    return 0


if __name__ == "__main__":
    sys.exit(main())
