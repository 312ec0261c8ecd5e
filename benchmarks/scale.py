"""How kg's pipeline scales on synthetic data, on the fast path and the reference path side by side.

    python benchmarks/scale.py [--sizes 1000 10000 100000] [--reference-max 10000] [--runs 3]
                               [--skip QUERY ...] [--reference-skip QUERY ...] [--csv benchmarks/scale.csv]

Rows: load, inference, validation, each stored query, total (the full build), peak memory. On the fast
path also the physical limit beside each step: the same work by the bare engine (``engine load``: the
files bulk-loaded into a pyoxigraph store, nothing checked or kept; ``engine query X``: the bound query
text of X on the very same pyoxigraph store, rows counted), and ``page 1 X``: the first page of 100
rows of X from the cache (kg.core.cache) once X has been answered once. Columns:
each size on the fast path (Oxigraph: SPARQL rules, shapes compiled to SPARQL) and, up to
``--reference-max``, on the reference path (rdflib, owlrl, pyshacl, rdflib SPARQL). Each (size, path)
runs in a fresh process, so peak memory (ru_maxrss) is its own. Every step is the median of ``--runs``
runs in that process (load and inference on a fresh graph each time); the reference path runs once.
A query left out is shown as "-" and not counted in the total.
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _median(runs: int, step: object) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def write_synth(folder: str | Path, size: int) -> Path:
    """``size`` synthetic initiatives (seed 1, 1 % planted defects) as an N-Triples file in ``folder``."""
    from kg.synth.generate import write

    path = Path(folder) / f"synth-{size}.nt"
    write(path, size, seed=1, invalid_rate=0.01)
    return path


def data_files(path: str | Path) -> list[Path]:
    """The files a size is loaded from: the municipalities, the programme and the synthetic file."""
    from kg.core import bundle

    return [p for p in bundle.data_files() if p.name in ("gemeenten.ttl", "programma.ttl")] + [Path(path)]


def query_params(stored: object) -> dict:
    """The parameters each stored query is timed with: its documented examples, the initiative a
    synthetic one (synth-1)."""
    params = {p.name: p.example for p in stored.parameters if p.required and p.example is not None}
    if "initiative" in params:
        params["initiative"] = "synth-1"
    return params


def measure(path: str, engine: str, runs: int, skip: list[str], limits: bool = True) -> dict:
    """Run in a child process: the timings of one size on one path (with ``limits``, the bare
    engine's and the cache's beside them, on the fast path)."""
    import kg

    files = data_files(path)
    out: dict[str, float] = {}
    out["load"] = _median(runs, lambda: kg.load(files, engine=engine))
    graph = kg.load(files, engine=engine)
    out["inference"] = _median(runs, graph.infer)
    out["validation"] = _median(runs, lambda: graph.validate(engine=engine))
    for name, stored in kg.stored_queries().items():
        if name in skip:
            continue
        params = query_params(stored)
        out[f"query {name}"] = _median(runs, lambda s=stored, p=params: len(graph.query(s, p)))
    out["total"] = sum(out.values())
    if engine == "oxigraph" and limits:
        out.update(_limits(graph, files, runs, skip))
    out["peak memory (MB)"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def _limits(graph: object, files: list[Path], runs: int, skip: list[str]) -> dict[str, float]:
    """The bare engine's time for the same work, and the first page of each query from the cache."""
    import os

    import pyoxigraph as ox

    import kg
    from kg.core.cache import Cache
    from kg.core.loading import rdf_format
    from kg.core.namespaces import PREFIXES

    def bare_load() -> None:
        store = ox.Store()
        for path in files:
            store.bulk_load(path=str(path), format=rdf_format(path), to_graph=ox.NamedNode("urn:x-kg:g"))

    out = {"engine load": _median(runs, bare_load)}
    store = graph.store
    with tempfile.TemporaryDirectory() as folder:
        os.environ["KG_CACHE_DIR"] = folder
        graph.cache = Cache.for_inputs("oxigraph", None, graph.ontology_files, graph.data_files)
        graph._save()
        for name, stored in kg.stored_queries().items():
            if name in skip:
                continue
            params = query_params(stored)
            text = graph.bound(stored, params)

            def bare(text: str = text) -> int:
                answer = store.query(text, prefixes=PREFIXES, use_default_graph_as_union=True)
                return sum(1 for _ in answer) if isinstance(answer, ox.QuerySolutions) else 1

            out[f"engine query {name}"] = _median(runs, bare)
            graph.query(stored, params)  # answered once: kept in the cache
            out[f"page 1 {name}"] = _median(
                runs, lambda s=stored, p=params: len(graph.query(s, p, limit=100).rows)
            )
        graph.cache = None
    return out


def _order(step: str) -> tuple:
    fixed = ["load", "engine load", "inference", "validation"]
    if step in fixed:
        return (fixed.index(step), step)
    if step.startswith(("query", "engine query", "page 1")):
        name = step.split(" ", 2)[-1] if step.startswith("engine") else step.split(" ", 1)[-1]
        name = name.removeprefix("1 ")
        kind = 0 if step.startswith("query") else 1 if step.startswith("engine") else 2
        return (4, name, kind)
    return (5 if step == "total" else 6, step)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument(
        "--reference-max",
        type=int,
        default=1000,
        help="largest size to run on the reference path too (default 1000; 10000 takes about 5 minutes "
        "more, 100000 hours)",
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per step on the fast path (median)")
    parser.add_argument("--skip", nargs="*", default=[], metavar="QUERY", help="stored queries not to run")
    parser.add_argument(
        "--reference-skip",
        nargs="*",
        default=["similar-initiatives", "shared-bottlenecks"],
        metavar="QUERY",
        help="stored queries not to run on the reference path (default: the two pairwise ones, which "
        "rdflib needs minutes for at 1,000)",
    )
    parser.add_argument(
        "--pairwise-max",
        type=int,
        default=1000,
        help="largest size to run shared-bottlenecks at (default 1000): its answer grows with the "
        "square of the size (about 10^8 rows at 100,000)",
    )
    parser.add_argument("--csv", type=Path, default=Path(__file__).with_name("scale.csv"))
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        path, engine, runs = args.child
        print(json.dumps(measure(path, engine, int(runs), args.skip)))
        return 0
    columns: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            path = str(write_synth(tmp, size))
            skip = [*args.skip, *(["shared-bottlenecks"] if size > args.pairwise_max else [])]
            engines = [("fast", "oxigraph", args.runs, skip)]
            if size <= args.reference_max:
                engines.append(("reference", "rdflib", 1, [*skip, *args.reference_skip]))
            for label, engine, runs, skip in engines:
                print(f"running {size} initiatives, {label} path ...", file=sys.stderr, flush=True)
                done = subprocess.run(
                    [sys.executable, __file__, "--child", path, engine, str(runs), "--skip", *skip],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                columns[f"{size} {label}"] = json.loads(done.stdout.strip().splitlines()[-1])
    names = list(columns)
    rows = sorted({k for c in columns.values() for k in c}, key=_order)
    table = [[r, *(f"{columns[n][r]:.3f}" if r in columns[n] else "-" for n in names)] for r in rows]
    for size in args.sizes:
        fast, ref = columns.get(f"{size} fast"), columns.get(f"{size} reference")
        if fast and ref:
            shared = [k for k in ref if k in fast and k not in ("total", "peak memory (MB)")]
            speedup = sum(ref[k] for k in shared) / sum(fast[k] for k in shared)
            print(
                f"{size} initiatives: the fast path is {speedup:.0f}x faster over the same steps",
                file=sys.stderr,
            )
    for name in names:
        column = columns[name]
        ratios = [
            f"{step.removeprefix('query ')} {column[step] / column['engine ' + step]:.2f}"
            for step in column
            if step.startswith("query ") and column.get("engine " + step, 0) > 0.0005
        ]
        if "engine load" in column:
            ratios.insert(0, f"load {column['load'] / column['engine load']:.2f}")
        if ratios:
            print(f"{name}: kg / bare engine: " + ", ".join(ratios), file=sys.stderr)
    width = max(len(r[0]) for r in table)
    print(f"{'step (seconds)'.ljust(width)}  " + "  ".join(n.rjust(16) for n in names))
    for row in table:
        print(row[0].ljust(width) + "  " + "  ".join(v.rjust(16) for v in row[1:]))
    print(
        f"\n{platform.python_implementation()} {platform.python_version()}, {platform.machine()}, "
        f"{_cpus()} cores"
    )
    with args.csv.open("w", newline="") as handle:
        csv.writer(handle).writerows([["step", *names], *table])
    return 0


def _cpus() -> int:
    import os

    return os.cpu_count() or 0


if __name__ == "__main__":
    sys.exit(main())
