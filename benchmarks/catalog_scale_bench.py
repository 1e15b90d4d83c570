"""Benchmark: how `nt-secrets plan --stack prod` grows with the catalog (issue 23, class 10).

The project's catalog plus synthetic trading-venue keys (10 per service, third-party, rotated as
API keys, live and paper), planned with the production stack file (all five backends enabled, the
stack's own placement: the synthetic services fall to the default home, Vault) in a fresh process
per run. Prints a Markdown table of stored secrets, resources, wall and CPU time and peak memory.
The budget the issue sets: a 500-secret catalog with one home store each plans in under 20 s.

Not a test: nothing is asserted; the figures go to the README's performance section.

    .venv/bin/python benchmarks/catalog_scale_bench.py [--sizes 25 100 250 500] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "infra" / "catalog.yaml"


def catalog_with(stored: int, dest: Path) -> int:
    """Write the project's catalog grown to ``stored`` secrets stored in production; returns how
    many it stores (the project's own count when ``stored`` is smaller)."""
    data = yaml.safe_load(CATALOG.read_text(encoding="utf-8"))
    own = sum(
        1
        for e in data["entries"]
        if e.get("sensitive")
        and e["source"] != "workload-identity"
        and "production" in e["environments"]
    )
    for i in range(max(0, stored - own)):
        data["entries"].append(
            {
                "name": f"VENUE{i // 10:03d}_KEY_{i % 10}",
                "description": "A trading venue's API key (scale benchmark)",
                "category": "exchange",
                "service": f"venue{i // 10:03d}",
                "sensitive": True,
                "source": "third-party",
                "rotation": "api_key",
                "strategy": "third-party-manual",
                "environments": ["development", "production"],
                "scopes": ["paper", "live"],
            }
        )
    dest.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return max(stored, own)


def run_once(catalog: Path) -> tuple[float, float, float, int]:
    """One fresh `plan` process: wall s, CPU s, peak RSS MiB, resources declared."""
    exe = Path(sys.executable).with_name("nt-secrets")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(
        [str(exe), "plan", "--stack", "prod", "--catalog", str(catalog), "--format", "json"],
        cwd=ROOT,
        capture_output=True,
        check=False,
        env={**os.environ, "NT_SECRETS_BUILD_DIR": str(catalog.parent / "build")},
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"plan failed ({proc.returncode}): {proc.stderr.decode()[-2000:]}")
    import json

    resources = len(json.loads(proc.stdout)["resources"])
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, after.ru_maxrss / 1024, resources


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[25, 100, 250, 500])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="nt-scale-"))
    try:
        load = os.getloadavg()[0]
        print(
            f"# catalog scale: `plan --stack prod`, Python {sys.version.split()[0]}, "
            f"{os.cpu_count()} cores, median of {args.runs}, load average {load:.2f} at start\n"
        )
        print("| stored secrets | resources | wall median (s) | CPU median (s) | peak RSS (MiB) |")
        print("|---|---|---|---|---|")
        for size in args.sizes:
            catalog = tmp / f"catalog-{size}.yaml"
            stored = catalog_with(size, catalog)
            runs = [run_once(catalog) for _ in range(args.runs)]
            walls, cpus = [r[0] for r in runs], [r[1] / 1 for r in runs]
            print(
                f"| {stored} | {runs[0][3]} | {statistics.median(walls):.2f} | "
                f"{statistics.median(cpus) / 1:.2f} | {max(r[2] for r in runs):.0f} |"
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
