"""Plans shared across the test session: one capture per distinct (stack, config, catalog) input.

A plan of a stack with every store enabled registers ~480 resources and takes one to three seconds;
many test modules plan the same stack with the same settings (the project's stack files, or the
stack narrowed to some backends by :func:`tests.stacks.enable_only`). Captures are deterministic
(``tests/test_aws_estate.py::test_capture_is_deterministic`` plans twice, uncached, and compares), so
each distinct input is planned once per process and every caller gets its own deep copy: a test
that edits what it was given never changes what the next one sees.

A program that raises is never cached: the next caller runs it again and sees the same exception.

:func:`run_cli` runs ``nt-secrets`` in this process (``nt_secrets.cli.main(argv)``) with stdout and
stderr captured, for tests of what a command prints and returns; tests of process behaviour (a
closed pipe, signals, a fresh interpreter's imports, a read-only checkout) keep real subprocesses.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import json
import os
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from infra.catalog import default_catalog
from infra.estate import Estate
from infra.program import main
from infra.stack import build_estate, parse_settings
from nt_secrets.capture import Capture, capture_program
from nt_secrets.plan import plan_stack
from nt_secrets.stackfile import StackConfig
from policies.framework import Resource, resources_of
from policies.model import ResourceRecord

PROJECT = "neural-trader-secrets"

_captures: dict[tuple[object, ...], Capture] = {}
_stacks: dict[tuple[str, str], tuple[StackConfig, Capture]] = {}


def _catalog_key(catalog_path: Path | None) -> tuple[str, str] | None:
    """A catalog file is keyed by its path and its bytes (a test may rewrite a file it planned)."""
    if catalog_path is None:
        return None
    data = catalog_path.read_bytes() if catalog_path.is_file() else b""
    return str(catalog_path), hashlib.sha256(data).hexdigest()


def plan_config(
    config: Mapping[str, str],
    *,
    stack: str = "dev",
    account_id: str = "123456789012",
    region: str = "us-east-1",
    secret_keys: tuple[str, ...] = (),
    catalog_path: Path | None = None,
) -> Capture:
    """The project's program (``infra.program.main``) planned under the mock engine with ``config``:
    what ``capture_program(lambda: main(catalog_path), ...)`` returns, planned once per input."""
    key = (
        stack,
        account_id,
        region,
        tuple(secret_keys),
        json.dumps(dict(config), sort_keys=True),
        _catalog_key(catalog_path),
    )
    cached = _captures.get(key)
    if cached is None:
        cached = capture_program(
            lambda: main(catalog_path),
            stack=stack,
            project=PROJECT,
            config=dict(config),
            secret_keys=secret_keys,
            region=region,
            account_id=account_id,
        )
        _captures[key] = cached
    return copy.deepcopy(cached)


def planned_stack(stack: str, project_dir: Path) -> tuple[StackConfig, Capture]:
    """``plan_stack(stack, project_dir)`` of the checkout's own stack files, planned once per stack
    (the stack file's bytes are part of the key)."""
    path = project_dir / f"Pulumi.{stack}.yaml"
    digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
    key = (str(project_dir.resolve()) + "\0" + stack, digest)
    cached = _stacks.get(key)
    if cached is None:
        cached = plan_stack(stack, project_dir)
        _stacks[key] = cached
    return copy.deepcopy(cached)


class _Stream(io.TextIOWrapper):
    """A text stream over bytes, like a process's stdout/stderr (it has ``buffer``), that is never a
    terminal."""

    def __init__(self) -> None:
        super().__init__(io.BytesIO(), encoding="utf-8", errors="strict", newline="\n")

    def text(self) -> str:
        self.flush()
        raw = self.buffer
        assert isinstance(raw, io.BytesIO)
        return raw.getvalue().decode("utf-8")


@contextlib.contextmanager
def _working_directory(path: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``nt-secrets *args`` run in ``cwd`` in this process: its exit code (argparse's ``SystemExit``
    included) and everything it wrote to stdout and stderr, as ``subprocess.run`` would report it.
    An exception the command does not handle propagates (a subprocess would print a traceback)."""
    from nt_secrets.cli import main as cli_main

    out, err = _Stream(), _Stream()
    with (
        _working_directory(cwd),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        try:
            code = cli_main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return subprocess.CompletedProcess(
        ["nt-secrets", *args], code, stdout=out.text(), stderr=err.text()
    )


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""


def reuse_stack_plans(monkeypatch: pytest.MonkeyPatch) -> None:
    """For the rest of one test, commands that plan a stack (``plan``, ``check``, ``explain``) reuse
    one capture per (stack file, project file, catalog) instead of planning it again: for tests
    that render one plan in every format. The first call of each input is the real
    ``plan_stack``; an input that fails is never reused."""
    from nt_secrets import plan as plan_module

    real = plan_module.plan_stack
    seen: dict[tuple[object, ...], tuple[StackConfig, Capture]] = {}

    def reusing(
        stack: str, project_dir: Path, *, catalog_path: Path | None = None
    ) -> tuple[StackConfig, Capture]:
        key = (
            stack,
            str(project_dir.resolve()),
            _file_digest(project_dir / f"Pulumi.{stack}.yaml"),
            _file_digest(project_dir / "Pulumi.yaml"),
            _catalog_key(catalog_path),
        )
        if key not in seen:
            seen[key] = real(stack, project_dir, catalog_path=catalog_path)
        return copy.deepcopy(seen[key])

    monkeypatch.setattr(plan_module, "plan_stack", reusing)


def estate_and_block(config: dict[str, str], backend: str) -> tuple[Estate, Any]:
    """The estate of ``config`` as the named backend is handed it (a store: the secrets it
    holds; a delivery: all of them), with the backend's validated settings block."""
    from infra.backends import Consumer, registry

    settings = parse_settings(config)
    estate = build_estate(default_catalog(), settings)
    if not isinstance(registry()[backend], Consumer):
        estate = estate.held_by(backend)
    return estate, settings.backend(backend)


def policy_view(recs: list[ResourceRecord]) -> list[Resource]:
    """Records as a policy sees them (offline: secret markers and dependencies known)."""
    return resources_of(recs)
