"""The Lambda zip: size, determinism, contents, and importability with only boto3 beside it."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import boto3
import botocore
import pytest

from infra.rotation import contract
from infra.rotation.aws_transport import LAMBDA_HANDLER
from infra.rotation.contract import RotationStrategy
from infra.rotation.package import ZIP_NAME, build_package

MAX_BYTES = 1_000_000


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_package(tmp_path_factory.mktemp("pkg"))


def test_package_is_small(package: Path) -> None:
    assert package.name == ZIP_NAME
    assert 100_000 < package.stat().st_size < MAX_BYTES


def test_two_builds_are_byte_identical(package: Path, tmp_path: Path) -> None:
    # Touch the sources: mtimes must not leak into the archive.
    for source in Path(contract.__file__).parent.rglob("*.py"):
        os.utime(source)
    again = build_package(tmp_path)
    assert (
        hashlib.sha256(again.read_bytes()).digest() == hashlib.sha256(package.read_bytes()).digest()
    )


def test_entries_are_sorted_with_fixed_metadata(package: Path) -> None:
    with zipfile.ZipFile(package) as zf:
        infos = zf.infolist()
    names = [i.filename for i in infos]
    assert names == sorted(names)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.external_attr >> 16 for i in infos} == {0o100644}


def test_contents(package: Path) -> None:
    with zipfile.ZipFile(package) as zf:
        names = set(zf.namelist())
        assert zf.read("infra/__init__.py") == b""
    tops = {n.split("/")[0] for n in names}
    for needed in ("infra", "pg8000", "scramp", "asn1crypto", "dateutil", "six.py", "redis"):
        assert needed in tops
    for module in ("handler", "contract", "aws_transport", "aws_context", "errors", "notice"):
        assert f"infra/rotation/{module}.py" in names
    assert "infra/rotation/package.py" not in names  # build-time only
    for forbidden in ("boto3", "botocore", "pulumi", "pydantic", "pydantic_core", "moto"):
        assert forbidden not in tops
    assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".so"))]


def _lambda_like_runtime(tmp_path: Path) -> Path:
    """A directory holding only what the Lambda runtime provides: boto3 and its deps."""
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    for module in (boto3, botocore):
        os.symlink(Path(module.__file__).parent, runtime / module.__name__)
    site = Path(botocore.__file__).parent.parent
    for dep in ("jmespath", "s3transfer", "urllib3"):
        os.symlink(site / dep, runtime / dep)
    return runtime


def _run_isolated(script: str, cwd: Path) -> dict[str, Any]:
    # -I: ignore PYTHON* env and user site; -S: no site-packages at all.
    proc = subprocess.run(
        [sys.executable, "-I", "-S", "-c", script],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    report: dict[str, Any] = json.loads(proc.stdout)
    return report


def test_drivers_are_imported_only_by_their_strategy(package: Path, tmp_path: Path) -> None:
    """Cold start: the handler and the registry import neither pg8000 nor redis (nor their
    strategy modules); resolving a strategy imports its module, its driver on first use."""
    runtime = _lambda_like_runtime(tmp_path)
    handler_module = LAMBDA_HANDLER.rsplit(".", 1)[0]
    script = f"""
import importlib, json, sys
sys.path[:0] = [{str(package)!r}, {str(runtime)!r}]
importlib.import_module({handler_module!r})
from infra.rotation.contract import RotationStrategy
from infra.rotation.strategies import get_strategy
heavy = ("pg8000", "redis", "infra.rotation.strategies.postgres",
         "infra.rotation.strategies.redis_acl")
loaded = lambda: sorted(m for m in heavy if m in sys.modules)
report = {{"after_import": loaded()}}
for name in ("generated-hmac", "generated-aes256", "third-party-manual"):
    get_strategy(RotationStrategy(name))
report["after_light"] = loaded()
get_strategy(RotationStrategy("postgres-alternating-users"))
report["after_postgres"] = loaded()
get_strategy(RotationStrategy("redis-acl"))
report["after_redis"] = loaded()
print(json.dumps(report))
"""
    report = _run_isolated(script, tmp_path)
    assert report == {
        "after_import": [],
        "after_light": [],
        # The strategy modules import their drivers inside the functions that connect.
        "after_postgres": ["infra.rotation.strategies.postgres"],
        "after_redis": [
            "infra.rotation.strategies.postgres",
            "infra.rotation.strategies.redis_acl",
        ],
    }


def test_handler_imports_from_the_zip_with_only_boto3(package: Path, tmp_path: Path) -> None:
    """What Lambda does: the zip plus the runtime's boto3, nothing from our venv."""
    runtime = _lambda_like_runtime(tmp_path)
    handler_module, handler_fn = LAMBDA_HANDLER.rsplit(".", 1)
    script = f"""
import importlib, json, sys
sys.path[:0] = [{str(package)!r}, {str(runtime)!r}]
mod = importlib.import_module({handler_module!r})
assert callable(getattr(mod, {handler_fn!r}))
from infra.rotation.contract import RotationStrategy
from infra.rotation.strategies import Strategy, get_strategy
from infra.rotation.aws_context import SecretsManagerContext
from infra.rotation.aws_transport import STEP_EVENTS
for name in RotationStrategy:
    assert isinstance(get_strategy(name), Strategy)
import pg8000.native, redis, scramp, asn1crypto, dateutil.parser, six
print(json.dumps({{
    "from_zip": {{m: sys.modules[m].__file__.startswith({str(package)!r})
                  for m in ("infra.rotation.handler", "pg8000", "redis", "scramp", "dateutil")}},
    "leaked": sorted(m for m in ("pulumi", "pydantic", "moto") if m in sys.modules),
    "strategies": [s.value for s in RotationStrategy],
}}))
"""
    report = _run_isolated(script, tmp_path)
    assert all(report["from_zip"].values()), report
    assert report["leaked"] == []
    assert report["strategies"] == [s.value for s in RotationStrategy]
