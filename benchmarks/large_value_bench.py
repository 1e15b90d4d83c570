"""Benchmark: credential detection on large state values (issue 9, item 7), at 1, 2, 5 and 10 MB.

Each size is a synthetic, deterministic (seeded) set of resource inputs whose string values total
that many megabytes, in equal shares of: long base64 blobs (random bytes, as asset contents and
ciphertexts are), long URLs with many query parameters, user-data scripts (plain and
base64+gzip), and adversarial strings that made the old detector backtrack ('a' * n, '://'
repeated, '=' repeated, 'eyJ' repeated, '/' repeated, 'key' followed by spaces). Three obviously
fake credentials are planted per size (one inside the base64+gzip user data, one at a window
edge of a long blob, one in a URL query) and must be found. Every size runs in a fresh process.

Not a test: it prints a Markdown table (wall and CPU seconds and MB/s per size, so linear growth
is visible; CPU time is the figure to compare on a shared machine)
and exits non-zero only if a planted credential was missed.

    .venv/bin/python benchmarks/large_value_bench.py [--sizes 1 2 5 10] [--runs 3]
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import platform
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MB = 1024 * 1024
# AWS's documented example key, assembled so repository scanners do not flag this script.
FAKE_AWS_KEY = "AKIA" + "IOSFODNN7EXAMPLE"
FAKE_PASSWORD = "FAKE-bench-Passw0rd-not-real"  # noqa: S105  # pragma: allowlist secret
FAKE_TOKEN = "FAKEbenchTok3n9xQ2wL7mN4"  # noqa: S105  # pragma: allowlist secret


def _b64_blob(rng: random.Random, size: int) -> str:
    return base64.b64encode(rng.randbytes(size * 3 // 4)).decode()[:size]


def _url(rng: random.Random, size: int) -> str:
    parts: list[str] = []
    length = 0
    while length < size:
        parts.append(f"p{rng.randrange(10**6)}={rng.randrange(10**9):x}")
        length += len(parts[-1]) + 1
    return "https://api.example.com/v1/quotes?" + "&".join(parts)


def _script(rng: random.Random, size: int) -> str:
    lines: list[str] = []
    length = 0
    while length < size:
        n = rng.randrange(10**6)
        lines.append(f"export SETTING_{n}=value-{n:x}  # PASSWORD_MIN_LENGTH=12 TOKEN_TTL=3600")
        length += len(lines[-1]) + 1
    return "#!/bin/bash\n" + "\n".join(lines)


ADVERSARIAL = ("a", "://", "=", "eyJ", "/", "key" + " " * 1000)


def build(megabytes: int, seed: int = 7) -> tuple[list[dict[str, Any]], int]:
    """Resource inputs totalling ``megabytes`` MB of string values; and their total length."""
    rng = random.Random(seed)  # noqa: S311 - deterministic fixtures, not cryptography
    total = megabytes * MB
    share = total // 5
    chunk = min(256 * 1024, share)
    resources: list[dict[str, Any]] = []
    # long base64 blobs, one with a credential at a window edge
    blob = _b64_blob(rng, share)
    edge = min(len(blob) - 100, 256 * 1024 - 8)
    blob = blob[:edge] + " " + FAKE_AWS_KEY + " " + blob[edge + 22 :]
    resources.append({"type": "aws:s3/bucketObject:BucketObject", "inputs": {"content": blob}})
    # long URLs, one with a token in the query
    for i in range(share // chunk):
        url = _url(rng, chunk)
        if i == 0:
            url += f"&token={FAKE_TOKEN}"
        resources.append(
            {"type": "aws:sns/topicSubscription:TopicSubscription", "inputs": {"endpoint": url}}
        )
    # user data: plain scripts and one base64+gzip cloud-init with a password
    for _ in range(share // chunk):
        resources.append(
            {"type": "aws:ec2/instance:Instance", "inputs": {"userData": _script(rng, chunk)}}
        )
    hidden = f"#cloud-config\nruncmd:\n  - export DB_PASSWORD={FAKE_PASSWORD}\n"
    resources.append(
        {
            "type": "aws:ec2/launchTemplate:LaunchTemplate",
            "inputs": {
                "userData": base64.b64encode(gzip.compress(hidden.encode(), mtime=0)).decode()
            },
        }
    )
    # adversarial strings
    per = share * 2 // len(ADVERSARIAL)
    for unit in ADVERSARIAL:
        value = (unit * (per // len(unit) + 1))[:per]
        resources.append({"type": "aws:ssm/parameter:Parameter", "inputs": {"description": value}})
    size = sum(len(v) for r in resources for v in r["inputs"].values())
    if size < total:  # top up to the exact size with plain text
        filler = ("settings text " * ((total - size) // 14 + 1))[: total - size]
        resources.append({"type": "aws:ssm/parameter:Parameter", "inputs": {"description": filler}})
        size = total
    return resources, size


def measure(megabytes: int, runs: int) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from policies.lib.credentials import scan_value

    resources, size = build(megabytes)
    scan_value({"warm": "up"})
    times = []
    cpu_times = []
    kinds: set[str] = set()
    for _ in range(runs):
        start, cpu = time.perf_counter(), time.process_time()
        hits = [h for r in resources for h in scan_value(r["inputs"])]
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu)
        kinds = {h.kind for h in hits}
    seconds = statistics.median(times)
    cpu_seconds = statistics.median(cpu_times)
    return {
        "mb": megabytes,
        "chars": size,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "mb_per_s": size / MB / cpu_seconds,
        "kinds": sorted(kinds),
        "found_all": {"AWS Access Key", "sensitive-key"} <= kinds,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 2, 5, 10])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(measure(args.one, args.runs)))
        return 0
    print(
        f"Python {platform.python_version()} on {platform.machine()}, median of {args.runs} runs\n"
    )
    print("| MB of values | chars | wall s | CPU s | MB/s (CPU) | planted credentials found |")
    print("|---|---|---|---|---|---|")
    ok = True
    for mb in args.sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(mb), "--runs", str(args.runs)],
            check=True,
            capture_output=True,
            text=True,
        )
        row = json.loads(out.stdout)
        ok = ok and row["found_all"]
        print(
            f"| {mb} | {row['chars']:,} | {row['seconds']:.2f} | {row['cpu_seconds']:.2f} | "
            f"{row['mb_per_s']:.2f} | "
            f"{'yes' if row['found_all'] else 'NO: ' + ', '.join(row['kinds'])} |"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
