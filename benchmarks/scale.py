"""How kg's pipeline scales on synthetic data: load, inference, validation, each stored query, total,
peak memory, for several sizes; the fast path (Oxigraph, SPARQL rules) and, where it finishes in
reasonable time, the reference path (rdflib, owlrl, pyshacl, rdflib SPARQL).

    python benchmarks/scale.py [--sizes 1000 10000 100000] [--reference-max 1000] [--validate-max 10000]
                               [--csv benchmarks/scale.csv]

Each size runs in a fresh process, so peak memory (ru_maxrss) is that size's own. Query times are the
median of three runs with the query's example parameters.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def measure(size: int, path: str, validate: bool, reference: bool, skip: list[str]) -> dict:
    """Run in a child process: the timings of one size."""
    import kg
    from kg import bundle
    from kg.synth import write

    out: dict[str, float] = {}
    write(Path(path), size, seed=1, invalid_rate=0.01)
    files = [p for p in bundle.data_files() if p.name in ("gemeenten.ttl", "programma.ttl")] + [Path(path)]
    t = time.perf_counter()
    graph = kg.load(files)
    out["load"] = time.perf_counter() - t
    t = time.perf_counter()
    graph.infer("rules")
    out["inference"] = time.perf_counter() - t
    if validate:
        t = time.perf_counter()
        graph.validate()
        out["validation"] = time.perf_counter() - t
    for name, stored in kg.stored_queries().items():
        if name in skip:
            continue
        params = {p.name: p.example for p in stored.parameters if p.required and p.example is not None}
        if "initiative" in params:
            params["initiative"] = "synth-1"
        times = []
        for _ in range(3):
            t = time.perf_counter()
            len(graph.query(stored, params))
            times.append(time.perf_counter() - t)
        out[f"query {name}"] = statistics.median(times)
    out["total"] = sum(v for k, v in out.items())
    if reference:
        import owlrl
        import rdflib

        t = time.perf_counter()
        g = rdflib.Graph()
        for f in bundle.ontology_files() + files:
            g.parse(f)
        out["reference load"] = time.perf_counter() - t
        t = time.perf_counter()
        owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(g)
        out["reference inference"] = time.perf_counter() - t
    out["peak memory MB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--reference-max", type=int, default=1000)
    parser.add_argument("--validate-max", type=int, default=10000)
    parser.add_argument("--csv", type=Path, default=Path(__file__).with_name("scale.csv"))
    parser.add_argument("--skip", nargs="*", default=[], metavar="QUERY",
                        help="stored queries not to run (e.g. shared-bottlenecks, whose answer grows "
                             "with the square of the size)")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        size, path, validate, reference = args.child
        print(json.dumps(measure(int(size), path, validate == "1", reference == "1", args.skip)))
        return 0
    columns: dict[int, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            done = subprocess.run([sys.executable, __file__, "--child", str(size), f"{tmp}/synth-{size}.nt",
                                   "1" if size <= args.validate_max else "0",
                                   "1" if size <= args.reference_max else "0", "--skip", *args.skip],
                                  capture_output=True, text=True, check=True)
            columns[size] = json.loads(done.stdout.strip().splitlines()[-1])
    rows = sorted({k for c in columns.values() for k in c}, key=lambda k: (
        ["load", "inference", "validation"].index(k) if k in ("load", "inference", "validation") else
        4 if k == "total" else 5 if k.startswith("reference") else 6 if k.startswith("peak") else 3, k))
    header = ["step", *(f"{s} initiatives" for s in args.sizes)]
    table = [[r, *(f"{columns[s][r]:.3f}" if r in columns[s] else "-" for s in args.sizes)] for r in rows]
    width = max(len(r[0]) for r in table)
    print(f"{'step (seconds)'.ljust(width)}  " + "  ".join(h.rjust(16) for h in header[1:]))
    for row in table:
        print(row[0].ljust(width) + "  " + "  ".join(v.rjust(16) for v in row[1:]))
    with args.csv.open("w", newline="") as handle:
        csv.writer(handle).writerows([header, *table])
    return 0


if __name__ == "__main__":
    sys.exit(main())
