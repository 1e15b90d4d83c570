"""The suite is self-contained: nothing reads outside the repository, and every vendored reference
file that SOURCES.md lists is there (and nothing unlisted lies beside them).

A fresh clone has no sibling folders, so a path that climbs out of the checkout would fail (or,
worse, be skipped) on a user's machine while passing on a developer's.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .conftest import REFERENCE, ROOT

SCANNED = ("tests", "benchmarks", "infra", "policies", "nt_secrets")
# Byte strings, so binary files are scanned without decoding. Each is a way the tests once reached
# the reference data laid beside the checkout.
OUTSIDE = (b"../shared", b"/work/shared", b"ROOT.parent")
SKIPPED_DIRS = {"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"}
SOURCES = REFERENCE / "SOURCES.md"


def _scanned_files() -> list[Path]:
    this = Path(__file__).resolve()
    files = []
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*")):
            if path.is_file() and path.resolve() != this and not SKIPPED_DIRS & set(path.parts):
                files.append(path)
    return files


def test_the_scan_covers_the_code_and_the_tests() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in _scanned_files()}
    assert "tests/conftest.py" in names and "nt_secrets/cli.py" in names
    assert "tests/test_self_contained.py" not in names


@pytest.mark.parametrize("top", SCANNED)
def test_no_path_outside_the_repository(top: str) -> None:
    offenders = []
    for path in _scanned_files():
        if path.relative_to(ROOT).parts[0] != top:
            continue
        data = path.read_bytes()
        for needle in OUTSIDE:
            if needle in data:
                line = data[: data.index(needle)].count(b"\n") + 1
                offenders.append(f"{path.relative_to(ROOT)}:{line}: {needle.decode()}")
    assert not offenders, "paths outside the repository:\n" + "\n".join(offenders)


def listed_files() -> list[str]:
    """The first column of every table row of SOURCES.md that names a file (`path`)."""
    return re.findall(r"^\|\s*`([^`]+)`\s*\|", SOURCES.read_text(), flags=re.M)


def test_sources_lists_the_vendored_files() -> None:
    listed = listed_files()
    assert "real-stacks/azure-rmq-dev-checkpoint.json" in listed
    assert "LICENSES/Apache-2.0.txt" in listed
    assert len(listed) == len(set(listed)), "a file is listed twice"


@pytest.mark.parametrize("name", listed_files())
def test_every_listed_file_exists(name: str) -> None:
    path = REFERENCE / name
    assert path.resolve().is_relative_to(REFERENCE.resolve()), f"{name} is outside {REFERENCE}"
    assert path.is_file(), f"{name} is listed in SOURCES.md but missing"


def test_every_vendored_file_is_listed() -> None:
    present = {
        p.relative_to(REFERENCE).as_posix()
        for p in REFERENCE.rglob("*")
        if p.is_file() and p != SOURCES
    }
    assert present - set(listed_files()) == set(), "vendored without a SOURCES.md entry"
