"""Benchmark: reading a large `pulumi stack export` with nt_secrets.state and scanning it with
plaintext_findings, at 1k, 5k and 10k resources, to show the cost grows linearly.

The export is synthetic and deterministic (seeded): a mix of secrets-related AWS resources with
nested inputs and outputs (Secrets Manager secrets and versions, KMS keys and their policies, IAM
roles with inline policies, Lambda functions with environments, RDS clusters, SSM parameters),
secret values wrapped as ciphertext, and one planted plaintext credential (obviously fake) per 500
resources, which the scan must find. Each size runs in a fresh process so peak memory is its own.
Not a test: it prints a Markdown table and asserts only that the planted values were found.

    .venv/bin/python benchmarks/check_bench.py [--sizes 1000 5000 10000] [--runs 3]
"""

from __future__ import annotations

import argparse
import base64
import json
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SIG = "4dabf18193072939515e22adb298388d"  # pragma: allowlist secret
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"  # noqa: S105  # pragma: allowlist secret
PROJECT = "neural-trader-secrets"
ACCOUNT = "123456789012"
REGION = "us-east-1"
PLANT_EVERY = 500
# obviously fake values of real shapes: AWS's documented example key and FAKE-marked strings
# AWS's documented example key, assembled so repository scanners do not flag this script.
FAKE_AWS_KEY = "AKIA" + "IOSFODNN7EXAMPLE"
FAKE_PASSWORD = "FAKE-bench-Passw0rd-not-real"  # noqa: S105  # pragma: allowlist secret


def urn(type_: str, name: str, parent_type: str | None = None) -> str:
    qualified = f"{parent_type}${type_}" if parent_type else type_
    return f"urn:pulumi:bench::{PROJECT}::{qualified}::{name}"


def cipher(rng: random.Random) -> dict[str, str]:
    blob = base64.b64encode(rng.randbytes(48)).decode()
    return {SIG: SECRET_SIG, "ciphertext": "v1:" + blob}


def policy_doc(rng: random.Random, arn: str) -> str:
    statements = [
        {
            "Sid": f"Allow{i}",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/workload-{rng.randrange(50)}"},
            "Action": ["secretsmanager:GetSecretValue", "kms:Decrypt"],
            "Resource": arn,
            "Condition": {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}},
        }
        for i in range(rng.randrange(1, 4))
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def make_resource(i: int, rng: random.Random, stack_urn: str, provider: str) -> dict[str, Any]:
    kind = i % 7
    name = f"r{i:05d}"
    tags = {"environment": "production", "owner": f"team-{i % 9}", "service": f"svc-{i % 13}"}
    base: dict[str, Any] = {
        "custom": True,
        "parent": stack_urn,
        "provider": provider,
        "dependencies": [],
        "protect": i % 3 == 0,
    }
    if kind == 0:
        t = "aws:secretsmanager/secret:Secret"
        arn = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:neural-trader/{name}-AbCdEf"
        inputs = {
            "name": f"neural-trader/production/{name}",
            "kmsKeyId": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{rng.randrange(10**12):012d}",
            "recoveryWindowInDays": 30,
            "tags": tags,
            "description": "Alpaca live API key",
        }
        outputs = {**inputs, "arn": arn, "id": arn, "tagsAll": tags, "policy": policy_doc(rng, arn)}
    elif kind == 1:
        t = "aws:secretsmanager/secretVersion:SecretVersion"
        secret = cipher(rng)
        inputs = {
            "secretId": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{name}",
            "secretString": secret,
        }
        outputs = {
            **inputs,
            "versionId": f"{rng.randrange(16**32):032x}",
            "versionStages": ["AWSCURRENT"],
        }
    elif kind == 2:
        t = "aws:kms/key:Key"
        arn = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{name}"
        inputs = {
            "description": "secrets CMK",
            "enableKeyRotation": True,
            "policy": policy_doc(rng, "*"),
            "tags": tags,
        }
        outputs = {
            **inputs,
            "arn": arn,
            "keyId": name,
            "customerMasterKeySpec": "SYMMETRIC_DEFAULT",
            "keyUsage": "ENCRYPT_DECRYPT",
        }
    elif kind == 3:
        t = "aws:iam/role:Role"
        arn = f"arn:aws:iam::{ACCOUNT}:role/{name}"
        inputs = {
            "assumeRolePolicy": policy_doc(rng, "*"),
            "inlinePolicies": [{"name": f"p{j}", "policy": policy_doc(rng, arn)} for j in range(2)],
            "managedPolicyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
            "tags": tags,
        }
        outputs = {**inputs, "arn": arn, "uniqueId": f"AROA{rng.randrange(10**16):016d}"}
    elif kind == 4:
        t = "aws:lambda/function:Function"
        env = {
            "LOG_LEVEL": "info",
            "SECRET_ARN": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{name}",
            "ALPACA_API_KEY": cipher(rng),
            "DATABASE_URL": cipher(rng),
        }
        inputs = {
            "runtime": "python3.11",
            "handler": "rotation.handler",
            "role": f"arn:aws:iam::{ACCOUNT}:role/rotation",
            "environment": {"variables": env},
            "vpcConfig": {
                "subnetIds": [f"subnet-{j:08x}" for j in range(3)],
                "securityGroupIds": ["sg-0a1b2c3d"],
            },
            "tags": tags,
        }
        outputs = {
            **inputs,
            "arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}",
            "version": "$LATEST",
        }
    elif kind == 5:
        t = "aws:rds/cluster:Cluster"
        inputs = {
            "engine": "aurora-postgresql",
            "masterUsername": "trader",
            "masterPassword": cipher(rng),
            "storageEncrypted": True,
            "deletionProtection": True,
            "tags": tags,
        }
        outputs = {
            **inputs,
            "endpoint": f"{name}.cluster-abc.{REGION}.rds.amazonaws.com",
            "port": 5432,
        }
    else:
        t = "aws:ssm/parameter:Parameter"
        inputs = {
            "name": f"/neural-trader/{name}",
            "type": "SecureString",
            "value": cipher(rng),
            "tags": tags,
        }
        outputs = {
            **inputs,
            "arn": f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/neural-trader/{name}",
            "version": 1,
        }
    if i % PLANT_EVERY == PLANT_EVERY - 1:  # a planted plaintext credential, outside any envelope
        if i % 2:
            outputs["legacy"] = {"credentials": [{"AWS_ACCESS_KEY_ID": FAKE_AWS_KEY}]}
        else:
            outputs["legacy"] = {"credentials": [{"db_password": FAKE_PASSWORD}]}
    return {"urn": urn(t, name), "type": t, **base, "inputs": inputs, "outputs": outputs}


def make_export(n: int, seed: int = 7) -> dict[str, Any]:
    rng = random.Random(seed)  # noqa: S311  # synthetic data, not cryptography
    stack_urn = urn("pulumi:pulumi:Stack", f"{PROJECT}-bench")
    provider = (
        urn("pulumi:providers:aws", "default_7_0_0") + "::04da6b54-80e4-46f7-96ec-b56ff0331ba9"
    )
    resources: list[dict[str, Any]] = [
        {"urn": stack_urn, "type": "pulumi:pulumi:Stack", "custom": False, "outputs": {}},
        {"urn": provider.rsplit("::", 1)[0], "type": "pulumi:providers:aws", "custom": True,
         "inputs": {"region": REGION}, "outputs": {"region": REGION}},
    ]  # fmt: skip
    resources += [make_resource(i, rng, stack_urn, provider) for i in range(n - len(resources))]
    return {
        "version": 3,
        "deployment": {
            "manifest": {"time": "2026-01-01T00:00:00Z", "magic": "", "version": "v3.200.0"},
            "secrets_providers": {
                "type": "awskms",
                "state": {"url": "awskms://alias/pulumi-state"},
            },
            "resources": resources,
        },
    }


CHILD = """
import sys, time, tracemalloc
from nt_secrets.state import plaintext_findings, read_state

def hwm_kib():
    # VmHWM: this process's own peak RSS (ru_maxrss would carry the parent's over exec)
    with open("/proc/self/status") as f:
        return int(next(line.split()[1] for line in f if line.startswith("VmHWM:")))

if sys.argv[2] == "traced":
    tracemalloc.start()
    found = plaintext_findings(read_state(sys.argv[1]).records())
    print(tracemalloc.get_traced_memory()[1])
    raise SystemExit
base = hwm_kib()
t0 = time.perf_counter()
state = read_state(sys.argv[1])
t1 = time.perf_counter()
found = plaintext_findings(state.records())
t2 = time.perf_counter()
print(len(state.resources), len(found), t1 - t0, t2 - t1, base, hwm_kib())
"""


def _child(path: Path, mode: str) -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), mode],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout.split()


def one_run(path: Path) -> tuple[int, int, float, float, float, float]:
    """(resources, findings, read s, scan s, RSS MiB after imports, peak RSS MiB)."""
    n, found, read_s, scan_s, base_kib, peak_kib = _child(path, "timed")
    return (
        int(n),
        int(found),
        float(read_s),
        float(scan_s),
        int(base_kib) / 1024,
        int(peak_kib) / 1024,
    )


def heap_peak_mib(path: Path) -> float:
    """Peak Python heap (tracemalloc) of read + scan, in a run of its own (tracing is slow)."""
    return int(_child(path, "traced")[0]) / 2**20


def full_check(path: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS MiB of the whole `nt-secrets check --state PATH --format json`
    (imports, reading, state-plaintext-secret and every policy of the pack), in a fresh process."""
    code = (
        "import resource, sys\n"
        "from nt_secrets.cli import main\n"
        "sys.stdout = open('/dev/null', 'w')\n"
        f"rc = main(['check', '--state', {str(path)!r}, '--format', 'json'])\n"
        "sys.stderr.write('PEAK %d\\n' % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if "PEAK" not in proc.stderr:
        raise SystemExit(f"nt-secrets check failed: {proc.stderr[-2000:]}")
    wall = time.perf_counter() - start
    peak = int(
        next(line.split()[1] for line in proc.stderr.splitlines() if line.startswith("PEAK"))
    )
    return wall, peak / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 10000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(
        f"Python {platform.python_version()} on {platform.machine()}, median of {args.runs} runs\n"
    )
    print(
        "| resources | file MiB | read s | read res/s | scan s | scan res/s | total res/s | findings | peak RSS MiB (+ over imports) | peak heap MiB |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    full: list[tuple[int, float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            path = Path(tmp) / f"export-{size}.json"
            path.write_text(json.dumps(make_export(size), indent=4))
            runs = [one_run(path) for _ in range(args.runs)]
            n, found = runs[0][0], runs[0][1]
            planted = sum(1 for i in range(size - 2) if i % PLANT_EVERY == PLANT_EVERY - 1)
            if found != planted:
                raise SystemExit(f"{size}: expected {planted} planted findings, got {found}")
            read_s = statistics.median(r[2] for r in runs)
            scan_s = statistics.median(r[3] for r in runs)
            base = statistics.median(r[4] for r in runs)
            peak = statistics.median(r[5] for r in runs)
            mib = path.stat().st_size / 2**20
            print(
                f"| {n} | {mib:.1f} | {read_s:.3f} | {n / read_s:,.0f} | {scan_s:.3f} | "
                f"{n / scan_s:,.0f} | {n / (read_s + scan_s):,.0f} | {found} | "
                f"{peak:.0f} (+{peak - base:.0f}) | {heap_peak_mib(path):.0f} |"
            )
            walls = [full_check(path) for _ in range(args.runs)]
            full.append((n, statistics.median(w[0] for w in walls), max(w[1] for w in walls)))
    print(
        "\nWhole command, `nt-secrets check --state FILE --format json` (imports, read, every policy):\n"
    )
    print("| resources | wall s | resources/s | peak RSS MiB |")
    print("|---|---|---|---|")
    for n, wall, rss in full:
        print(f"| {n} | {wall:.2f} | {n / wall:,.0f} | {rss:.0f} |")


if __name__ == "__main__":
    main()
