"""Cold-process timings of the kg command on the bundled data (issue targets: query <= 0.6 s,
validate <= 1.5 s, medians on a 2-core machine).

    python benchmarks/startup.py [--runs N]

Each run starts a new Python process, as a user typing the command would. Prints one line per
command: median, min and max wall-clock seconds over the runs.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "kg query initiatives": ["query", "initiatives"],
    "kg query shared-bottlenecks -p bottleneck=fiscaliteit": [
        "query",
        "shared-bottlenecks",
        "-p",
        "bottleneck=fiscaliteit",
    ],
    "kg validate": ["validate"],
    "kg export --inferred": ["export", "--inferred"],
}
TARGETS = {"kg query initiatives": 0.6, "kg validate": 1.5}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    kg = shutil.which("kg")
    base = [kg] if kg else [sys.executable, "-m", "kg.cli"]
    print(f"{'command':58} {'median':>8} {'min':>8} {'max':>8}  target")
    failed = False
    for label, argv in COMMANDS.items():
        subprocess.run([*base, *argv], capture_output=True, check=True)  # warm the OS file cache
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            subprocess.run([*base, *argv], capture_output=True, check=True)
            times.append(time.perf_counter() - start)
        median = statistics.median(times)
        target = TARGETS.get(label)
        verdict = "" if target is None else f"<= {target} s {'ok' if median <= target else 'MISSED'}"
        failed |= target is not None and median > target
        print(f"{label:58} {median:8.3f} {min(times):8.3f} {max(times):8.3f}  {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
