"""Shared fixtures: captures of the project's real stacks through the same engine `nt-secrets plan` uses."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from nt_secrets.capture import Capture, CapturedResource, capture_program
from tests.plans import planned_stack

ROOT = Path(__file__).resolve().parent.parent
#: A development stack whose every secret lives in AWS (the project's own stacks home only the
#: databases and Redis there): what the Secrets Manager rotation and env pull tests read.
AWS_HOME = ROOT / "tests" / "fixtures" / "aws-home"
# Third-party reference data vendored into the repository (provenance and licences in its
# SOURCES.md), so that a fresh clone runs every test with nothing skipped.
REFERENCE = ROOT / "tests" / "fixtures" / "reference"
REAL_STACKS = REFERENCE / "real-stacks"
PROJECT_SCHEMA = REFERENCE / "pulumi-project.schema.json"
SEED = REFERENCE / "seed" / "secrets-and-environment-management.md"


def script_module(relative: str) -> ModuleType:
    """A script of the repository that is not a package module (``benchmarks/check_bench.py``,
    ``scripts/build_action_index.py``), loaded from its file."""
    path = ROOT / relative
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def reference_file(path: Path) -> Path:
    """A vendored file of tests/fixtures/reference. A missing one is a failure, never a skip."""
    if not path.is_file():
        pytest.fail(
            f"{path} not found: the vendored reference data (tests/fixtures/reference) is incomplete"
        )
    return path


@pytest.fixture(scope="session")
def dev() -> Capture:
    return planned_stack("dev", ROOT)[1]


@pytest.fixture(scope="session")
def prod() -> Capture:
    return planned_stack("prod", ROOT)[1]


@pytest.fixture(scope="session", params=["dev", "prod"])
def stack(request: pytest.FixtureRequest) -> Capture:
    return planned_stack(request.param, ROOT)[1]


def of_type(capture: Capture, type_: str) -> list[CapturedResource]:
    return [r for r in capture.resources if r.type == type_]


def policy_documents(capture: Capture) -> Iterator[tuple[CapturedResource, str, dict[str, Any]]]:
    """Every IAM-grammar document the stack declares: (resource, input name, parsed document)."""
    fields = {
        "aws:iam/rolePolicy:RolePolicy": "policy",
        "aws:iam/role:Role": "assumeRolePolicy",
        "aws:secretsmanager/secretPolicy:SecretPolicy": "policy",  # pragma: allowlist secret
        "aws:kms/key:Key": "policy",
        "aws:s3/bucketPolicy:BucketPolicy": "policy",
        "aws:sns/topicPolicy:TopicPolicy": "policy",
    }
    for r in capture.resources:
        name = fields.get(r.type)
        if name is not None:
            yield r, name, json.loads(r.raw_inputs[name])


def statements(doc: dict[str, Any]) -> list[dict[str, Any]]:
    st = doc["Statement"]
    return st if isinstance(st, list) else [st]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def capture_failing(program: Callable[[], None], **kwargs: Any) -> tuple[Capture, BaseException]:
    """Run a program that is expected to raise; return what it registered and the exception."""
    caught: list[BaseException] = []

    def wrapper() -> None:
        try:
            program()
        except Exception as exc:
            caught.append(exc)

    cap = capture_program(
        wrapper, stack=kwargs.pop("stack", "test"), project="neural-trader-secrets", **kwargs
    )
    assert caught, "the program was expected to fail"
    return cap, caught[0]
