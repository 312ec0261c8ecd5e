"""One changed initiative in a large register: applied as a change, or inferred and validated anew.

    python benchmarks/incremental.py [--sizes 10000 100000] [--runs 5]

The register is ``kg synth`` data in one N-Triples file (with the bundled municipalities and
programme). The change is what ``kg import`` does: one new initiative in a file of its own (the
triples of synthetic initiative 1 under new IRIs), then that file edited (another municipality, an
activity less). Rows, each the median of ``--runs``:

- ``full inference``, ``full validation``: from scratch on the changed register;
- ``apply change``: the changed files parsed, the data graph and the inferred graph brought up to date
  (:func:`kg.engines.oxigraph.delta.apply`: delete and re-derive), the change undone and redone in
  turn so each run is one change of one initiative;
- ``revalidate``: validation of what the change can affect (:mod:`kg.engines.revalidation`), its
  report checked equal to a full validation's;
- ``open cached`` and ``command after change``: opening the cached snapshot, and the whole
  ``KnowledgeGraph.load(..., cache=True)`` plus one query after the change (snapshot, change, layer saved).

Each size runs in a fresh process. Note the machine's load (``uptime``) beside the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _timed(step: object) -> float:
    t = time.perf_counter()
    step()
    return time.perf_counter() - t


def _new_initiative(register: Path, number: int) -> str:
    """The triples of synthetic initiative 1 (its passage, participation, ...) as initiative ``number``."""
    lines = []
    with register.open() as handle:
        for line in handle:
            if "/synthetisch/" in line and line.split(" ", 1)[0].endswith("/1>"):
                lines.append(line.replace("/1>", f"/{number}>").replace('"synth-1"', f'"synth-{number}"'))
    return "".join(lines)


def measure(folder: str, size: int, runs: int) -> dict[str, float]:
    """Run in a child process."""
    import hashlib

    import kg
    from kg.core import bundle
    from kg.engines.oxigraph import delta
    from kg.graph import KnowledgeGraph

    os.environ["KG_CACHE_DIR"] = f"{folder}/cache"
    register = Path(folder) / "register.nt"
    base = [p for p in bundle.data_files() if p.name in ("gemeenten.ttl", "programma.ttl")] + [register]
    new = Path(folder) / "nieuw.nt"
    out: dict[str, float] = {}
    out["full build, cached"] = _timed(lambda: KnowledgeGraph.load(base, cache=True).query("initiatives"))

    text = _new_initiative(register, size + 1)
    new.write_text(text)
    changed = KnowledgeGraph.load([*base, new], cache=True)
    out["command after change"] = _timed(
        lambda: changed.query("initiatives-by-bottleneck", {"bottleneck": "fiscaliteit"})
    )
    if changed.changed_from is None:
        raise SystemExit(f"the change was not applied to the cached graph: {changed.declined}")
    edited = text.replace("/gemeente/gm", "/gemeente/gx", 1)
    first = next(line for line in text.splitlines() if "/activity>" in line)
    edited = edited.replace(first + "\n", "")

    out["open cached"] = _timed(lambda: KnowledgeGraph.load([*base, new], cache=True).engine)
    engine = KnowledgeGraph.load([*base, new], cache=True).engine
    versions = {}
    for label, content in (("a", text), ("b", edited)):
        versions[label] = hashlib.sha256(content.encode()).hexdigest()
    contents = {versions["a"]: text.encode(), versions["b"]: edited.encode()}
    others = {str(p.resolve()): "same" for p in base}
    report, state = engine.validate_keeping(None)
    times, checks, current = [], [], "a"
    for _ in range(runs * 2):
        target = "b" if current == "a" else "a"
        new.write_text(text if target == "a" else edited)
        before = {**others, str(new.resolve()): versions[current]}
        after = {**others, str(new.resolve()): versions[target]}
        started = time.perf_counter()
        gained, lost, _, _ = delta.apply(engine, before, after, contents.get, None)
        applied = time.perf_counter()
        report, state = engine.validate_keeping(None, state, gained, lost)
        times.append(applied - started)
        checks.append(time.perf_counter() - applied)
        current = target
    out["apply change"] = statistics.median(times)
    out["revalidate"] = statistics.median(checks)
    out["apply change + revalidate"] = statistics.median(a + b for a, b in zip(times, checks, strict=True))
    if engine.validate(None).findings != report.findings:
        raise SystemExit("revalidation gave another report than a full validation")

    scratch = kg.load([*base, new])
    out["full inference"] = statistics.median(_timed(scratch.infer) for _ in range(min(runs, 3)))
    full = [_timed(lambda: scratch.engine.validate(None)) for _ in range(min(runs, 3))]
    out["full validation"] = statistics.median(full)
    out["triples"] = float(len(engine.store))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000, 100000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        folder, size, runs = args.child
        print(json.dumps(measure(folder, int(size), int(runs))))
        return 0
    from kg.synth.generate import write

    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            write(Path(tmp) / "register.nt", size, seed=1, invalid_rate=0.01)
            print(f"running {size} initiatives ...", file=sys.stderr, flush=True)
            done = subprocess.run(
                [sys.executable, __file__, "--child", tmp, str(size), str(args.runs)],
                capture_output=True,
                text=True,
            )
            if done.returncode:
                sys.stderr.write(done.stderr)
                return done.returncode
            found = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"{size} initiatives (load average {os.getloadavg()[0]:.1f}):")
        for step, seconds in found.items():
            print(f"  {step:<24} {seconds:10.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
