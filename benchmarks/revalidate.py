"""Validation after a small change, against a full validation, on synthetic data.

    python benchmarks/revalidate.py [--sizes 10000 100000] [--runs 5]

For each size: ``kg synth`` data (seed 1, 1 % invalid) with the bundled municipalities and programme,
validated once in full (:func:`kg.engines.revalidation.validate_with_state`). Then one change, made in
the store as an import would: initiative 7 moves to another municipality and loses one activity, and
a new initiative (a copy of initiative 8 with its participation and source, under new IRIs and the
next partner number) is added. Timed, interleaved, medians of ``--runs``: :func:`revalidate` from the
state before the change, and :func:`kg.engines.validation.validate_compiled` on the changed store;
each revalidation's report is checked against the full one (findings, text, JSON). Prints the load
average too (the machine is shared).
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import tempfile
import time
from pathlib import Path

import pyoxigraph as ox

import kg
from kg.core import bundle
from kg.core.namespaces import DEF
from kg.engines.oxigraph.engine import DATA, ONTOLOGY
from kg.engines.revalidation import revalidate, validate_with_state
from kg.engines.validation import validate_compiled
from kg.synth.generate import MUNICIPALITIES, SYN, write

GM = "https://identifier.overheid.nl/tooi/id/gemeente/"


def change(store: ox.Store, size: int) -> tuple[list[ox.Triple], list[ox.Triple]]:
    """Move initiative 7, drop one of its activities, add initiative ``size + 1``: the triples
    added to and removed from the union of the ontology and data graphs."""
    graphs = [ONTOLOGY, DATA]
    before = {q.triple for g in graphs for q in store.quads_for_pattern(None, None, None, g)}
    seven = ox.NamedNode(f"{SYN}initiatief/7")
    municipality = ox.NamedNode(DEF + "municipality")
    old = next(store.quads_for_pattern(seven, municipality, None, DATA))
    other = next(m for m in MUNICIPALITIES if GM + m != old.object.value)
    store.remove(old)
    store.add(ox.Quad(seven, municipality, ox.NamedNode(GM + other), DATA))
    store.remove(next(store.quads_for_pattern(seven, ox.NamedNode(DEF + "activity"), None, DATA)))
    new = size + 1
    renames = {f"{SYN}{kind}/8": f"{SYN}{kind}/{new}" for kind in ("initiatief", "bron", "deelname")}
    copied = []
    for quad in store.quads_for_pattern(None, None, None, DATA):
        if quad.subject.value in renames or quad.subject.value.startswith(f"{SYN}initiatief/8-"):
            copied.append(quad)

    def renamed(term: object) -> object:
        if isinstance(term, ox.NamedNode):
            for old_iri, new_iri in renames.items():
                if term.value == old_iri or term.value.startswith(old_iri + "-"):
                    return ox.NamedNode(new_iri + term.value[len(old_iri) :])
        if isinstance(term, ox.Literal) and term.value in ("8", "synth-8"):
            return ox.Literal(term.value.replace("8", str(new)), datatype=term.datatype)
        return term

    for quad in copied:
        store.add(ox.Quad(renamed(quad.subject), quad.predicate, renamed(quad.object), DATA))
    after = {q.triple for g in graphs for q in store.quads_for_pattern(None, None, None, g)}
    return sorted(after - before, key=str), sorted(before - after, key=str)


def measure(size: int, runs: int, folder: Path) -> dict[str, float]:
    path = folder / f"synth-{size}.nt"
    write(path, size, seed=1, invalid_rate=0.01)
    files = [p for p in bundle.data_files() if p.name in ("gemeenten.ttl", "programma.ttl")] + [path]
    engine = kg.load(files).engine
    store, graphs, exact, base = engine.store, [ONTOLOGY, DATA], engine.exact, engine.base

    def fallback() -> object:
        raise AssertionError("the compiled path declined the bundled shapes")

    started = time.perf_counter()
    _, state = validate_with_state(store, graphs, exact, None, base, fallback)
    first = time.perf_counter() - started
    added, removed = change(store, size)
    checks_run: list[int] = []

    class Count(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "checks run" in record.getMessage():
                checks_run.append(int(record.getMessage().split()[1]))

    logger = logging.getLogger("kg.engines.revalidation")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(Count())
    full_times, incremental_times = [], []
    for _ in range(runs):
        started = time.perf_counter()
        full = validate_compiled(store, graphs, exact, None, base, fallback)
        full_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        report, _ = revalidate(store, graphs, exact, None, base, fallback, state, added, removed)
        incremental_times.append(time.perf_counter() - started)
        if report.findings != full.findings or report.text() != full.text() or report.json() != full.json():
            raise AssertionError(f"revalidation differs from the full validation at {size}")
    return {
        "first validation (s)": first,
        "full validation (s)": statistics.median(full_times),
        "revalidation (s)": statistics.median(incremental_times),
        "changed triples": len(added) + len(removed),
        "checks run": checks_run[-1] if checks_run else 0,
        "findings": len(full.findings),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000, 100000])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for size in args.sizes:
            load = os.getloadavg()
            found = measure(size, args.runs, Path(folder))
            after = os.getloadavg()
            print(f"{size} initiatives (load average {load[0]:.1f} before, {after[0]:.1f} after):")
            for name, value in found.items():
                print(f"  {name}: {value:.3f}" if isinstance(value, float) else f"  {name}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
