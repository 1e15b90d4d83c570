"""Benchmark: wall time, CPU time, peak memory and per-phase timings of
`nt-secrets plan --stack <stack> --format json`, and of `nt-secrets check --state` on an empty
export (issue 15).

Each run is a fresh process (what a user or CI pays, interpreter start and imports included). The
phases come from the CLI itself (``NT_SECRETS_TIMINGS=1`` prints them on stderr):

- ``startup``: interpreter start and ``import nt_secrets.cli`` (measured here, around the call);
- ``imports``: the Pulumi SDK, the program and the policy pack, imported before the plan runs;
- ``program``: the stack file read and linted, the program run under the SDK's mock engine
  (provider SDK modules load here, as the program first uses them);
- ``policies``: the policy pack over the captured resources;
- ``report``: the JSON document built, redacted and written.

CPU time (user + system of the child) is printed beside wall time: on a machine shared with other
work, wall time measures the neighbours too; CPU time is what the command itself costs.
Prints Markdown tables; figures go to the README's development section. Not a test: nothing is
asserted.

    .venv/bin/python benchmarks/plan_bench.py [--runs 5] [--stacks dev prod] [--no-check]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PHASES = ("startup", "imports", "program", "policies", "report")

# ``main()`` without arguments, as the ``nt-secrets`` script calls it (it reads sys.argv, and plan
# and check then end without the interpreter's teardown, as for a user).
_CODE = """\
import sys, time
t0 = time.perf_counter()
from nt_secrets.cli import main
sys.stderr.write('nt-secrets timing: startup wall %.3f cpu %.3f\\n' % (time.perf_counter() - t0, time.process_time()))
code = main()
# Reached only where the CLI does not end the process itself (older versions: the "before").
import resource
sys.stderr.write('nt-secrets peak-rss %d KiB\\n' % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
sys.exit(code)
"""


@dataclass
class Run:
    wall: float
    cpu: float
    peak_mib: float
    phases: dict[str, float] = field(default_factory=dict)  # phase -> wall seconds
    phases_cpu: dict[str, float] = field(default_factory=dict)
    stdout: str = ""


def one_run(argv: list[str]) -> Run:
    """One ``nt-secrets`` command in a fresh process: wall, CPU (user+sys), peak RSS, phases."""
    env = {**os.environ, "NT_SECRETS_TIMINGS": "1"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _CODE, *argv], cwd=ROOT, capture_output=True, text=True, env=env
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{argv}: exit {proc.returncode}\n{proc.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    peak = next(
        int(x.split()[2]) for x in proc.stderr.splitlines() if x.startswith("nt-secrets peak-rss ")
    )
    run = Run(wall, cpu, peak / 1024, stdout=proc.stdout)
    for line in proc.stderr.splitlines():
        if line.startswith("nt-secrets timing: "):
            name, _, w, _, c = line.removeprefix("nt-secrets timing: ").split()
            run.phases[name], run.phases_cpu[name] = float(w), float(c)
    return run


def _median(values: list[float]) -> str:
    return f"{statistics.median(values):.2f}" if values else "-"


def bench_plan(stacks: list[str], runs: int) -> None:
    print(
        "| stack | resources | wall median (s) | wall min (s) | CPU median (s) | peak RSS (MiB) |"
    )
    print("|---|---|---|---|---|---|")
    per_stack: dict[str, list[Run]] = {}
    for stack in stacks:
        results = [one_run(["plan", "--stack", stack, "--format", "json"]) for _ in range(runs)]
        per_stack[stack] = results
        resources = len(json.loads(results[0].stdout)["resources"])
        walls = [r.wall for r in results]
        print(
            f"| {stack} | {resources} | {_median(walls)} | {min(walls):.2f} | "
            f"{_median([r.cpu for r in results])} | {max(r.peak_mib for r in results):.0f} |"
        )
    print()
    print("Phases, median wall / CPU seconds:")
    print()
    print("| stack | " + " | ".join(PHASES) + " |")
    print("|---|" + "---|" * len(PHASES))
    for stack, results in per_stack.items():
        cells = [
            f"{_median([r.phases[p] for r in results if p in r.phases])} / "
            f"{_median([r.phases_cpu[p] for r in results if p in r.phases_cpu])}"
            for p in PHASES
        ]
        print(f"| {stack} | " + " | ".join(cells) + " |")


def bench_check(runs: int) -> None:
    """``check --state`` of an empty export: the command's fixed cost before it judges anything."""
    export = {"version": 3, "deployment": {"manifest": {}, "resources": []}}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "empty-export.json"
        path.write_text(json.dumps(export))
        results = [
            one_run(["check", "--state", str(path), "--format", "json"]) for _ in range(runs)
        ]
    walls = [r.wall for r in results]
    print()
    print("| command | wall median (s) | wall min (s) | CPU median (s) | peak RSS (MiB) |")
    print("|---|---|---|---|---|")
    print(
        f"| check --state (empty export) | {_median(walls)} | {min(walls):.2f} | "
        f"{_median([r.cpu for r in results])} | {max(r.peak_mib for r in results):.0f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--stacks", nargs="+", default=["dev", "prod"])
    parser.add_argument("--no-check", action="store_true", help="skip the check --state runs")
    args = parser.parse_args()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"# plan benchmark: Python {platform.python_version()}, {os.cpu_count()} cores, "
        f"{args.runs} runs each, load average {load:.2f} at start"
    )
    print()
    bench_plan(args.stacks, args.runs)
    if not args.no_check:
        bench_check(args.runs)


if __name__ == "__main__":
    main()
