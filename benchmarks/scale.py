"""How kg's pipeline scales on synthetic data, on the fast path and the reference path side by side.

    python benchmarks/scale.py [--sizes 1000 10000 100000] [--reference-max 10000] [--runs 3]
                               [--skip QUERY ...] [--reference-skip QUERY ...] [--csv benchmarks/scale.csv]
                               [--peers [PEER ...]] [--owlrl-max 10000] [--peer-timeout 1800]
                               [--rounds 1] [--peer-repeat-max 300]

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

``--peers`` adds a column per peer and size (``peers.py``): pyshacl and pyrudof validate, owlrl (up to
``--owlrl-max``) and reasonable infer, each in a process of its own that is stopped after
``--peer-timeout`` seconds (its step then shows "> N": it had run N seconds). Beside their times:
their findings and inferred triples, and how many of them match kg's. ``--rounds N`` runs kg and each
peer N times, interleaved, each time the median over the processes (a peer that took longer than
``--peer-repeat-max`` runs once). Every column gives the load average (1 minute) at the start and end
of its processes."""

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

from peers import FINDINGS, INFERRED, PEERS, missing


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


def measure(
    path: str, engine: str, runs: int, skip: list[str], dump: str | None = None, limits: bool = True
) -> dict:
    """Run in a child process: the timings of one size on one path (with ``limits``, the bare
    engine's and the cache's beside them, on the fast path).

    With ``dump``, kg's findings and inferred triples (those without a blank node) are written into
    that folder afterwards, for the peers to compare their answers with (``peers.py --kg``)."""
    import kg

    files = data_files(path)
    out: dict[str, float] = {}
    out["load"] = _median(runs, lambda: kg.load(files, engine=engine))
    graph = kg.load(files, engine=engine)
    counts: list[int] = []
    out["inference"] = _median(runs, lambda: counts.append(graph.infer()))
    reports: list = []
    out["validation"] = _median(runs, lambda: reports.append(graph.validate(engine=engine)))
    for name, stored in kg.stored_queries().items():
        if name in skip:
            continue
        params = query_params(stored)
        out[f"query {name}"] = _median(runs, lambda s=stored, p=params: len(graph.query(s, p)))
    out["total"] = sum(out.values())
    out["findings"] = len(reports[-1].findings)
    out["inferred triples"] = counts[-1]
    if engine == "oxigraph" and limits:
        out.update(_limits(graph, files, runs, skip))
    out["peak memory (MB)"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if dump:
        out["inferred triples without a blank node"] = _dump(graph, reports[-1], Path(dump))
    return out


def _dump(graph: object, report: object, folder: Path) -> int:
    """Write kg's findings (focus node, path, source shape) and its inferred triples without a blank
    node; how many of those there are."""
    import pyoxigraph as ox

    from kg.core.namespaces import INFERRED_GRAPH

    keys = [(f.focus, f.path or "", f.shape) for f in report.findings]
    (folder / FINDINGS).write_text(json.dumps(keys))
    triples = [
        t
        for t in graph.triples(INFERRED_GRAPH)
        if not isinstance(t.subject, ox.BlankNode) and not isinstance(t.object, ox.BlankNode)
    ]
    ox.serialize(triples, str(folder / INFERRED), format=ox.RdfFormat.N_TRIPLES)
    return len(triples)


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


COUNTS = (
    "inferred triples",
    "inferred triples without a blank node",
    "inferred: x rdf:type owl:Thing",
    "inferred: x owl:sameAs x",
    "kg's inferred triples derived too",
    "findings",
    "findings matching kg's",
)


def _order(step: str) -> tuple:
    fixed = ["load", "engine load", "inference", "validation"]
    if step in fixed:
        return (fixed.index(step), step)
    if step in COUNTS:
        return (3.5, COUNTS.index(step))
    if step.startswith(("query", "engine query", "page 1")):
        name = step.split(" ", 2)[-1] if step.startswith("engine") else step.split(" ", 1)[-1]
        name = name.removeprefix("1 ")
        kind = 0 if step.startswith("query") else 1 if step.startswith("engine") else 2
        return (4, name, kind)
    return (5 if step == "total" else 6, step)


class ChildFailed(RuntimeError):
    """A child process that ended with an error (not stopped by its time limit)."""


def run_child(
    command: list[str], timeout: float | None, memory: float | None = None
) -> tuple[list[dict], float | None]:
    """Run a child process; the JSON lines it printed, and the time it was stopped at ``timeout``
    (None if it finished). ``memory`` (GB) bounds its address space (RLIMIT_AS), so that a peer that
    grows without bound fails alone instead of calling the machine's out-of-memory killer. A child
    that fails raises ChildFailed with the reason."""

    def bound() -> None:
        if memory:
            limit = int(memory * 2**30)
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=bound
    )
    try:
        out, err = process.communicate(timeout=timeout)
        stopped = None
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        stopped = time.time()
    if process.returncode and stopped is None:
        memory_error = "MemoryError" in err or "memory allocation" in err or process.returncode == -9
        if memory and memory_error:
            raise ChildFailed(f"out of memory (> {memory:g} GB)")
        last = err.strip().splitlines()[-1:] or ["no message"]
        raise ChildFailed(f"failed (exit {process.returncode}: {last[0][:200]})")
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")], stopped


def peer_result(lines: list[dict], stopped: float | None, step: str, timeout: float) -> dict:
    """A peer's figures; a process stopped at its time limit shows its step as "> N" seconds, N the
    time the step had run (or the whole limit, if it was still loading)."""
    if lines and "failed" in lines[-1]:
        return (
            {"load": lines[0].get("load", "-"), step: lines[-1]["failed"]}
            if len(lines) > 1
            else {step: lines[-1]["failed"]}
        )
    if stopped is None:
        return {k: v for k, v in lines[-1].items() if k != "done"}
    if not lines:
        return {"load": f"> {timeout:.0f}"}
    return {"load": lines[0]["load"], step: f"> {stopped - lines[0]['started']:.0f}"}


def _combine(rounds: list[dict]) -> dict:
    """The median of each time over the processes; counts (ints) and limits ("> N") from the first."""
    out: dict = {}
    for key in rounds[0]:
        values = [r[key] for r in rounds if key in r]
        if isinstance(values[0], float):
            out[key] = statistics.median(values)
        else:
            out[key] = values[0]
            if len(set(values)) > 1:
                print(f"warning: {key} differs between runs: {values}", file=sys.stderr)
    out["processes"] = len(rounds)
    return out


def _cell(value: object) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _uptime() -> float:
    import os

    return os.getloadavg()[0]


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
    parser.add_argument(
        "--peers",
        nargs="*",
        choices=sorted(PEERS),
        metavar="PEER",
        help="also run kg's peers, each in a process of its own: pyshacl, pyrudof (validation), owlrl, "
        "reasonable (inference); all four if none is named. A peer whose package is missing is "
        "skipped, saying so (they are the 'bench' extra)",
    )
    parser.add_argument(
        "--owlrl-max", type=int, default=10000, help="largest size to run owlrl at (default 10000)"
    )
    parser.add_argument(
        "--peer-timeout",
        type=float,
        default=1800,
        help="seconds a peer's process may run (default 1800); one still running then is stopped and "
        "its step shown as '> N' (it had run N seconds)",
    )
    parser.add_argument(
        "--peer-memory",
        type=float,
        default=8,
        help="gigabytes of address space a peer's process may take (default 8); one that needs more "
        "fails alone and is shown as out of memory",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="processes per column and size (default 1), interleaved: kg, then each peer, then again; "
        "each time is the median over them. The reference path runs once",
    )
    parser.add_argument(
        "--peer-repeat-max",
        type=float,
        default=300,
        help="a peer whose process took longer than this many seconds (default 300) or was stopped is "
        "not run again in later rounds at that size",
    )
    parser.add_argument("--csv", type=Path, default=Path(__file__).with_name("scale.csv"))
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--dump", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        path, engine, runs = args.child
        print(json.dumps(measure(path, engine, int(runs), args.skip, args.dump)))
        return 0
    peers = [] if args.peers is None else args.peers or list(PEERS)
    absent = missing(peers)
    for name in absent:
        print(
            f"skipping {name}: its package {PEERS[name][1]} is not installed ('bench' extra)", file=sys.stderr
        )
    peers = [name for name in peers if name not in absent]
    runs: dict[str, list[dict]] = {}
    uptimes: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            path = str(write_synth(tmp, size))
            dump = Path(tmp, f"kg-{size}")
            dump.mkdir()
            skip = [*args.skip, *(["shared-bottlenecks"] if size > args.pairwise_max else [])]
            ref_skip = [*skip, *args.reference_skip]
            fast = [sys.executable, __file__, "--child", path, "oxigraph", str(args.runs), "--dump"]
            reference = [sys.executable, __file__, "--child", path, "rdflib", "1", "--skip", *ref_skip]
            again = {name for name in peers if name != "owlrl" or size <= args.owlrl_max}
            if "owlrl" in peers and size > args.owlrl_max:
                print(f"owlrl: not run at {size} initiatives (--owlrl-max {args.owlrl_max})", file=sys.stderr)
            for round in range(args.rounds):
                jobs = [("fast", [*fast, str(dump), "--skip", *skip], None)]
                if round == 0 and size <= args.reference_max:
                    jobs.append(("reference", reference, None))
                for name in peers:
                    if name in again:
                        command = [sys.executable, Path(__file__).with_name("peers.py"), name, path]
                        jobs.append((name, [*map(str, command), "--kg", str(dump)], args.peer_timeout))
                for label, command, timeout in jobs:
                    column = f"{size} {label}"
                    before, start = _uptime(), time.perf_counter()
                    print(
                        f"running {size} initiatives, {label} (round {round + 1}), load average {before:.2f}",
                        file=sys.stderr,
                        flush=True,
                    )
                    memory = args.peer_memory if label in PEERS else None
                    try:
                        lines, stopped = run_child(command, timeout, memory)
                    except ChildFailed as failure:
                        if label not in PEERS:
                            raise
                        lines, stopped = [{"failed": str(failure)}], None
                    took, after = time.perf_counter() - start, _uptime()
                    if label in PEERS:
                        result = peer_result(lines, stopped, PEERS[label][0], args.peer_timeout)
                        if stopped is not None or took > args.peer_repeat_max or "failed" in lines[-1]:
                            again.discard(label)
                    else:
                        result = lines[-1]
                    runs.setdefault(column, []).append(result)
                    uptimes.setdefault(column, []).extend([before, after])
                    print(f"  {took:.0f} s, load average {after:.2f}: {result}", file=sys.stderr, flush=True)
                    columns, names, table = _table(runs, uptimes)
                    _write(args.csv, names, table)  # after every process: a stopped run keeps what it had
    columns, names, table = _table(runs, uptimes)
    for size in args.sizes:
        fast, ref = columns.get(f"{size} fast"), columns.get(f"{size} reference")
        if fast and ref:
            shared = [k for k in ref if k in fast and isinstance(ref[k], float)]
            shared = [k for k in shared if k not in ("total", "peak memory (MB)")]
            speedup = sum(ref[k] for k in shared) / sum(fast[k] for k in shared)
            print(
                f"{size} initiatives: the fast path is {speedup:.0f}x faster over the same steps",
                file=sys.stderr,
            )
        if fast:
            for step in ("load", "inference", "validation"):
                ratio = _best_peer(fast[step], [columns.get(f"{size} {p}", {}).get(step) for p in peers])
                if ratio:
                    print(f"{size} initiatives: {step}: kg / best peer {ratio}", file=sys.stderr)
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
    return 0


def _table(runs: dict[str, list[dict]], uptimes: dict[str, list[float]]) -> tuple[dict, list, list]:
    """The columns (medians over their processes, with the load average), their names, the rows."""
    columns = {name: _combine(results) for name, results in runs.items()}
    for name, loads in uptimes.items():
        columns[name]["load average (1 min)"] = f"{min(loads):.1f}-{max(loads):.1f}"
    names = list(columns)
    rows = sorted({k for c in columns.values() for k in c}, key=_order)
    table = [[r, *(_cell(columns[n][r]) if r in columns[n] else "-" for n in names)] for r in rows]
    return columns, names, table


def _write(path: Path, names: list[str], table: list[list[str]]) -> None:
    """The table as CSV, written to a temporary file and then renamed (never half-written)."""
    partial = path.with_name(path.name + ".part")
    with partial.open("w", newline="") as handle:
        csv.writer(handle).writerows([["step", *names], *table])
    partial.replace(path)


def _best_peer(kg: float, peers: list[object]) -> str | None:
    """kg's time over the fastest peer's ("< x" when every peer was stopped at its limit)."""
    done = [t for t in peers if isinstance(t, float)]
    if done:
        return f"{kg / min(done):.2f}"
    limits = [float(t[2:]) for t in peers if isinstance(t, str) and t.startswith("> ")]
    return f"< {kg / max(limits):.3f}" if limits else None


def _cpus() -> int:
    import os

    return os.cpu_count() or 0


if __name__ == "__main__":
    sys.exit(main())
