"""Benchmark: wall time and peak memory of `nt-secrets plan --stack <stack> --format json`.

Each run is a fresh process (what a user or CI pays, imports included). Prints a Markdown table row
per stack; figures go to the README's development section. Not a test: nothing is asserted.

    .venv/bin/python benchmarks/plan_bench.py [--runs 5] [--stacks dev prod]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def one_run(stack: str) -> tuple[float, float, int]:
    """(wall seconds, peak RSS MiB, resources) of one plan in a fresh process."""
    code = (
        "import resource, sys, time\n"
        "from nt_secrets.cli import main\n"
        f"rc = main(['plan', '--stack', {stack!r}, '--format', 'json'])\n"
        "sys.stderr.write('PEAK %d\\n' % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
        "sys.exit(rc)\n"
    )
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    wall = time.perf_counter() - start
    peak_kib = int(
        next(line.split()[1] for line in proc.stderr.splitlines() if line.startswith("PEAK"))
    )
    resources = len(json.loads(proc.stdout)["resources"])
    return wall, peak_kib / 1024, resources


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--stacks", nargs="+", default=["dev", "prod"])
    args = parser.parse_args()
    print(
        f"# plan benchmark: {platform.python_version()}, {os.cpu_count()} cores, {args.runs} runs each"
    )
    print("| stack | resources | wall median (s) | wall min (s) | peak RSS (MiB) |")
    print("|---|---|---|---|---|")
    for stack in args.stacks:
        runs = [one_run(stack) for _ in range(args.runs)]
        walls = [r[0] for r in runs]
        print(
            f"| {stack} | {runs[0][2]} | {statistics.median(walls):.2f} | {min(walls):.2f} | "
            f"{max(r[1] for r in runs):.0f} |"
        )


if __name__ == "__main__":
    main()
