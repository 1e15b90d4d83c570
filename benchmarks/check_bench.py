"""Benchmark: reading a large `pulumi stack export` with nt_secrets.state and scanning it with
plaintext_findings, at 1k, 5k and 10k resources, to show the cost grows linearly; and (``--iam-heavy``)
the whole `check` on a 10,000-resource IAM-heavy export, in resources/s after start-up.

The export is synthetic and deterministic (seeded): a mix of secrets-related AWS resources with
nested inputs and outputs (Secrets Manager secrets and versions, KMS keys and their policies, IAM
roles with inline policies, Lambda functions with environments, RDS clusters, SSM parameters),
secret values wrapped as ciphertext, and one planted plaintext credential (obviously fake) per 500
resources, which the scan must find. Each size runs in a fresh process so peak memory is its own.
Not a test: it prints a Markdown table and asserts only that the planted values were found.

The IAM-heavy export (:func:`make_iam_export`) is a different estate: every resource carries policy
documents or credential-shaped inputs, in shapes the project itself never writes (customer-managed
and inline policies with NotAction, partial wildcards and conditions, trust policies for other
accounts, OIDC and services, KMS/S3/SNS/secret resource policies, Identity Center permission sets,
Lambda and ECS environments, EC2 user data, SSM parameters, RDS instances), with obviously fake
credentials and credential-like settings that are not credentials. `--iam-heavy` times, in one
process after the imports, what `nt-secrets check --state` does (read, state plaintext scan, every
policy of the pack); `--profile` adds the cProfile hot spots of that run.

    .venv/bin/python benchmarks/check_bench.py [--sizes 1000 5000 10000] [--runs 3]
    .venv/bin/python benchmarks/check_bench.py --iam-heavy [--sizes 10000] [--runs 3] [--profile]
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


# --------------------------------------------------------------------------- the IAM-heavy estate

# Obviously fake credentials of real shapes, assembled so repository scanners do not flag this file.
FAKE_SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEY"  # pragma: allowlist secret
FAKE_ANTHROPIC = "sk-ant-" + "api03-" + "FAKE" * 10 + "-FAKEFAKE"
FAKE_SLACK = "xoxb-" + "123456789012-123456789012-" + "FAKEfakeFAKEfakeFAKEfake"
FAKE_GITHUB = "ghp_" + "FAKE" * 9
FAKE_DB_URL = "postgresql://trader:" + "FAKE-pw-0123456789" + "@db.internal:5432/ledger"

ACTIONS = (
    "secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret", "secretsmanager:PutSecretValue",
    "kms:Decrypt", "kms:*Key*", "kms:GenerateDataKey", "iam:PassRole", "iam:*Policy*",
    "s3:Get*", "s3:Put*", "s3:ListBucket", "ec2:Describe*", "logs:CreateLogStream",
    "logs:PutLogEvents", "sts:AssumeRole", "dynamodb:Query", "sqs:SendMessage", "lambda:InvokeFunction",
    "ssm:GetParameter*", "cloudwatch:PutMetricData",
)  # fmt: skip
CONDITIONS = (
    None,
    {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}},
    {"StringEquals": {"aws:SourceVpce": "vpce-0a1b2c3d4e5f"}},
    {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8"]}},
    {"Bool": {"aws:SecureTransport": "true"}},
)


def _resource_arn(rng: random.Random, action: str) -> str:
    service = action.split(":", 1)[0]
    if rng.random() < 0.15:
        return "*"
    return {
        "secretsmanager": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:svc-{rng.randrange(99)}/*",
        "kms": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{rng.randrange(10**8):08d}",
        "s3": f"arn:aws:s3:::bucket-{rng.randrange(99)}/*",
        "iam": f"arn:aws:iam::{ACCOUNT}:role/app-{rng.randrange(99)}",
    }.get(service, f"arn:aws:{service}:{REGION}:{ACCOUNT}:*")


def iam_doc(rng: random.Random, principal: bool = False) -> str:
    statements = []
    for i in range(rng.randrange(1, 5)):
        actions = rng.sample(ACTIONS, rng.randrange(1, 5))
        statement: dict[str, Any] = {
            "Sid": f"S{i}",
            "Effect": "Deny" if rng.random() < 0.1 else "Allow",
            ("NotAction" if rng.random() < 0.05 else "Action"): actions
            if len(actions) > 1
            else actions[0],
            "Resource": [_resource_arn(rng, a) for a in actions],
        }
        condition = rng.choice(CONDITIONS)
        if condition:
            statement["Condition"] = condition
        if principal:
            statement["Principal"] = rng.choice(
                [
                    {"AWS": f"arn:aws:iam::{ACCOUNT}:role/app-{rng.randrange(99)}"},
                    {"AWS": f"arn:aws:iam::{rng.randrange(10**11, 10**12)}:root"},
                    {"Service": "lambda.amazonaws.com"},
                    "*",
                ]
            )
        statements.append(statement)
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def trust_doc(rng: random.Random) -> str:
    kind = rng.randrange(3)
    if kind == 0:
        statement: dict[str, Any] = {
            "Effect": "Allow",
            "Principal": {
                "Service": rng.choice(["lambda.amazonaws.com", "ecs-tasks.amazonaws.com"])
            },
            "Action": "sts:AssumeRole",
        }
    elif kind == 1:
        statement = {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{rng.randrange(10**11, 10**12)}:root"},
            "Action": "sts:AssumeRole",
        }
        if rng.random() < 0.7:
            statement["Condition"] = {
                "StringEquals": {"sts:ExternalId": f"ext-{rng.randrange(10**6)}"}
            }
    else:
        issuer = "token.actions.githubusercontent.com"
        statement = {
            "Effect": "Allow",
            "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{issuer}"},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {f"{issuer}:aud": "sts.amazonaws.com"},
                "StringLike": {
                    f"{issuer}:sub": rng.choice(
                        ["repo:org/app:*", "repo:org/app:ref:refs/heads/main"]
                    )
                },
            },
        }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def credential_env(rng: random.Random, name: str) -> dict[str, str]:
    """A workload environment: mostly settings and references, sometimes a plaintext credential,
    and credential-like names that are settings (never a finding)."""
    env = {
        "LOG_LEVEL": rng.choice(["info", "debug"]),
        "SESSION_TOKEN_LIFETIME": "3600",
        "PASSWORD_MIN_LENGTH": "12",
        "JWT_ISSUER": "https://auth.example.com/",
        "API_KEY_SECRET_ARN": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{name}",
    }
    roll = rng.random()
    if roll < 0.08:
        env["AWS_SECRET_ACCESS_KEY"] = FAKE_SECRET_KEY
    elif roll < 0.16:
        env["ANTHROPIC_API_KEY"] = FAKE_ANTHROPIC
    elif roll < 0.24:
        env["SLACK_BOT_TOKEN"] = FAKE_SLACK
    elif roll < 0.32:
        env["DATABASE_URL"] = FAKE_DB_URL
    return env


def _iam_resource(i: int, rng: random.Random) -> tuple[str, dict[str, Any]]:
    """(type token, inputs) of resource ``i``: every kind carries documents or credential-shaped
    inputs."""
    name = f"r{i:05d}"
    tags = {"env": rng.choice(["prod", "Production", "staging", "dev"]), "team": f"t{i % 7}"}
    kind = i % 14
    if kind == 0:
        return "aws:iam/policy:Policy", {"name": name, "policy": iam_doc(rng), "tags": tags}
    if kind == 1:
        return "aws:iam/rolePolicy:RolePolicy", {"role": f"app-{i % 99}", "policy": iam_doc(rng)}
    if kind == 2:
        return "aws:iam/role:Role", {
            "name": f"{rng.choice(['backtest', 'trader', 'etl', 'auditor'])}-{name}",
            "assumeRolePolicy": trust_doc(rng),
            "inlinePolicies": [{"name": "inline", "policy": iam_doc(rng)}],
            "managedPolicyArns": [f"arn:aws:iam::{ACCOUNT}:policy/p-{rng.randrange(99)}"],
            "tags": tags,
        }
    if kind == 3:
        return "aws:iam/userPolicy:UserPolicy", {"user": f"u-{i % 50}", "policy": iam_doc(rng)}
    if kind == 4:
        return "aws:iam/groupPolicy:GroupPolicy", {"group": f"g-{i % 20}", "policy": iam_doc(rng)}
    if kind == 5:
        return "aws:kms/key:Key", {
            "description": "data key",
            "enableKeyRotation": rng.random() < 0.9,
            "policy": iam_doc(rng, principal=True),
            "tags": tags,
        }
    if kind == 6:
        return "aws:s3/bucketPolicy:BucketPolicy", {
            "bucket": f"bucket-{i}",
            "policy": iam_doc(rng, principal=True),
        }
    if kind == 7:
        return "aws:secretsmanager/secretPolicy:SecretPolicy", {
            "secretArn": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{name}",
            "policy": iam_doc(rng, principal=True),
            "blockPublicPolicy": rng.random() < 0.9,
        }
    if kind == 8:
        return "aws:sns/topicPolicy:TopicPolicy", {
            "arn": f"arn:aws:sns:{REGION}:{ACCOUNT}:{name}",
            "policy": iam_doc(rng, principal=True),
        }
    if kind == 9:
        return "aws:lambda/function:Function", {
            "name": name,
            "runtime": "python3.12",
            "handler": "app.handler",
            "role": f"arn:aws:iam::{ACCOUNT}:role/app-{i % 99}",
            "environment": {"variables": credential_env(rng, name)},
            "tags": tags,
        }
    if kind == 10:
        return "aws:ecs/taskDefinition:TaskDefinition", {
            "family": name,
            "containerDefinitions": json.dumps(
                [
                    {
                        "name": "app",
                        "image": "example/app:1",
                        "environment": [
                            {"name": k, "value": v} for k, v in credential_env(rng, name).items()
                        ],
                    }
                ]
            ),
        }
    if kind == 11:
        script = "#!/bin/bash\nexport REGION=us-east-1\n"
        if rng.random() < 0.3:
            script += f"export AWS_ACCESS_KEY_ID={FAKE_AWS_KEY}\n"
        return "aws:ec2/instance:Instance", {
            "ami": "ami-0123456789abcdef0",
            "instanceType": "t3.micro",
            "userData": script,
            "tags": tags,
        }
    if kind == 12:
        secure = rng.random() < 0.8
        return "aws:ssm/parameter:Parameter", {
            "name": f"/app/{name}/{rng.choice(['db_password', 'api_token', 'log_level'])}",
            "type": "SecureString" if secure else "String",
            "value": rng.choice([FAKE_PASSWORD, FAKE_GITHUB, "info"]),
        }
    return "aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy", {
        "instanceArn": "arn:aws:sso:::instance/ssoins-0123456789abcdef",
        "permissionSetArn": f"arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-{i:016x}",
        "inlinePolicy": iam_doc(rng),
    }


def iam_resources(n: int, seed: int = 11) -> list[tuple[str, str, dict[str, Any]]]:
    """(type token, name, inputs) of the IAM-heavy estate: the same resources for the pack's export
    and for checkov's Terraform (benchmarks/checkov_compare.py)."""
    rng = random.Random(seed)  # noqa: S311  # synthetic data, not cryptography
    return [(*_typed(i, rng),) for i in range(n)]


def _typed(i: int, rng: random.Random) -> tuple[str, str, dict[str, Any]]:
    type_, inputs = _iam_resource(i, rng)
    return type_, f"r{i:05d}", inputs


def make_iam_export(n: int, seed: int = 11) -> dict[str, Any]:
    """A `pulumi stack export` (v3) of ``n`` IAM-heavy resources (outputs mirror inputs)."""
    stack_urn = urn("pulumi:pulumi:Stack", f"{PROJECT}-iam")
    resources: list[dict[str, Any]] = [
        {"urn": stack_urn, "type": "pulumi:pulumi:Stack", "custom": False, "outputs": {}}
    ]
    for type_, name, inputs in iam_resources(n - 1, seed):
        resources.append(
            {
                "urn": urn(type_, name),
                "type": type_,
                "custom": True,
                "parent": stack_urn,
                "inputs": inputs,
                "outputs": {**inputs, "id": name},
            }
        )
    return {
        "version": 3,
        "deployment": {"manifest": {"version": "v3.200.0"}, "resources": resources},
    }


IAM_CHILD = """
import json, resource, sys, time
t0 = time.perf_counter()
from nt_secrets.judge import judge_state
from nt_secrets.state import read_state
from policies.lib.gcpause import gc_paused
t1 = time.perf_counter()
jobs = int(sys.argv[3])
def judge():
    # what `nt-secrets check --state` does between its imports and its report
    with gc_paused():
        state = read_state(sys.argv[1])
        return len(state.records()), judge_state(state, jobs=jobs)
if sys.argv[2] == "profile":
    import cProfile, pstats, io
    prof = cProfile.Profile()
    prof.enable()
    judge()
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(25)
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(20)
    print(out.getvalue())
    raise SystemExit
c0 = time.process_time()
n, found = judge()
t2 = time.perf_counter()
children = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = time.process_time() - c0 + children.ru_utime + children.ru_stime
with open("/proc/self/status") as f:  # VmHWM: this process's own peak RSS
    peak = int(next(line.split()[1] for line in f if line.startswith("VmHWM:"))) / 1024
print(json.dumps({"n": n, "findings": len(found), "imports": t1 - t0, "check": t2 - t1,
                  "cpu": cpu, "peak_mib": peak}))
"""


def iam_check(path: Path, mode: str = "timed", jobs: int = 1) -> dict[str, Any] | str:
    """One fresh process: imports, then what `check --state` does, timed apart."""
    proc = subprocess.run(
        [sys.executable, "-c", IAM_CHILD, str(path), mode, str(jobs)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout if mode == "profile" else json.loads(proc.stdout.strip().splitlines()[-1])


def iam_main(sizes: list[int], runs: int, profile: bool) -> None:
    from nt_secrets.judge import available_cpus

    cpus = available_cpus()
    print("IAM-heavy export: `check --state` after start-up (read, plaintext scan, every policy)")
    print(f"in one process and shared out among {cpus} (`--jobs`, default: one per CPU)\n")
    print(
        "| resources | file MiB | processes | imports s | check s (wall) | CPU s | "
        "resources/s after start-up | findings | peak RSS MiB (parent) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            path = Path(tmp) / f"iam-{size}.json"
            path.write_text(json.dumps(make_iam_export(size)))
            for jobs in sorted({1, cpus}):
                results = [iam_check(path, jobs=jobs) for _ in range(runs)]
                timed = [r for r in results if isinstance(r, dict)]
                check_s = statistics.median(r["check"] for r in timed)
                n = timed[0]["n"]
                print(
                    f"| {n} | {path.stat().st_size / 2**20:.1f} | {jobs} | "
                    f"{statistics.median(r['imports'] for r in timed):.2f} | {check_s:.2f} | "
                    f"{statistics.median(r['cpu'] for r in timed):.2f} | {n / check_s:,.0f} | "
                    f"{timed[0]['findings']} | {max(r['peak_mib'] for r in timed):.0f} |"
                )
            if profile:
                print("\n```\n" + str(iam_check(path, "profile")) + "\n```\n")


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
    parser.add_argument("--iam-heavy", action="store_true", help="the IAM-heavy `check` benchmark")
    parser.add_argument("--profile", action="store_true", help="with --iam-heavy: cProfile")
    args = parser.parse_args()
    if args.iam_heavy:
        iam_main(
            args.sizes if args.sizes != [1000, 5000, 10000] else [10000], args.runs, args.profile
        )
        return
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
