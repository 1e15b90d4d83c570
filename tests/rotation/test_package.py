"""The Lambda zip: size, determinism, contents, and importability with only boto3 beside it."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import boto3
import botocore
import pytest

from infra.rotation import contract
from infra.rotation.contract import LAMBDA_HANDLER, RotationStrategy
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
    assert "infra/rotation/handler.py" in names
    assert "infra/rotation/contract.py" in names
    for forbidden in ("boto3", "botocore", "pulumi", "pydantic", "pydantic_core", "moto"):
        assert forbidden not in tops
    assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".so"))]


def test_handler_imports_from_the_zip_with_only_boto3(package: Path, tmp_path: Path) -> None:
    """What Lambda does: the zip plus the runtime's boto3, nothing from our venv."""
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    for module in (boto3, botocore):
        os.symlink(Path(module.__file__).parent, runtime / module.__name__)
    site = Path(botocore.__file__).parent.parent
    for dep in ("jmespath", "s3transfer", "urllib3"):
        os.symlink(site / dep, runtime / dep)
    handler_module, handler_fn = LAMBDA_HANDLER.rsplit(".", 1)
    script = f"""
import importlib, json, sys
sys.path[:0] = [{str(package)!r}, {str(runtime)!r}]
mod = importlib.import_module({handler_module!r})
assert callable(getattr(mod, {handler_fn!r}))
from infra.rotation.contract import RotationStrategy
from infra.rotation.strategies import get_strategy
for name in RotationStrategy:
    get_strategy(name)
import pg8000.native, redis, scramp, asn1crypto, dateutil.parser, six
print(json.dumps({{
    "from_zip": {{m: sys.modules[m].__file__.startswith({str(package)!r})
                  for m in ("infra.rotation.handler", "pg8000", "redis", "scramp", "dateutil")}},
    "leaked": sorted(m for m in ("pulumi", "pydantic", "moto") if m in sys.modules),
    "strategies": [s.value for s in RotationStrategy],
}}))
"""
    # -I: ignore PYTHON* env and user site; -S: no site-packages at all.
    proc = subprocess.run(
        [sys.executable, "-I", "-S", "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert all(report["from_zip"].values()), report
    assert report["leaked"] == []
    assert report["strategies"] == [s.value for s in RotationStrategy]
