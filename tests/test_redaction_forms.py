"""Redaction of derived forms (issue 23): a credential-shaped value must not reach the output
lower-cased, kebab-cased, inside a resource name or URN, or cut to a prefix by a progress line.

* Inputs that the program turns into names (catalog names and services, settings, the stack name)
  are refused when any of their derived forms is credential-shaped (the AWS example key id as a
  catalog name became its lower-cased form in 136 places of the plan JSON, which no detector
  knows).
* A value the state check flags as plaintext (by its key: no format detector knows it) that is
  also the resource's name is replaced in every URN and message of the report.
* Text on its way to a status line or a table is redacted before rich can cut it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.catalog import CATALOG_PATH, CatalogError, parse_catalog
from infra.settings import refuse_credential
from nt_secrets.cli import main
from nt_secrets.stackfile import StackFileError, check_stack_name
from policies.contract import redact

from .conftest import ROOT

AWS_KEY = "AKIAIOSFODNN7EXAMPLE"  # pragma: allowlist secret
ANTHROPIC = "sk-ant-api03-fakefakefakefakefakefakefakefakefake0"  # pragma: allowlist secret


def _catalog_with(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(CATALOG_PATH.read_text(encoding="utf-8"))
    (entry,) = [e for e in data["entries"] if e["name"] == "JWT_SECRET"]
    entry.update(changes)
    return data


@pytest.mark.parametrize(
    ("changes", "label"),
    [
        ({"name": AWS_KEY}, "#"),  # kebab-cased into names and paths: akiaiosfodnn7example
        ({"service": AWS_KEY.lower()}, "JWT_SECRET"),  # credential-shaped once upper-cased
        ({"service": ANTHROPIC}, "JWT_SECRET"),
    ],
    ids=["name", "service lower-cased", "service"],
)
def test_a_catalog_field_that_becomes_a_name_refuses_credential_shapes(
    changes: dict[str, str], label: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _catalog_with(**changes)
    with pytest.raises(CatalogError, match="looks like a credential") as exc:
        parse_catalog(data)
    assert exc.value.problems[0][0].startswith(label)
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(SystemExit) as ended:
        main(["plan", "--stack", "dev", "--format", "json", "--catalog", str(catalog)])
    out, err = capsys.readouterr()
    assert ended.value.code == 2 and out == ""
    for value in changes.values():
        for form in redact.derived_forms(value):
            assert form not in err


@pytest.mark.parametrize("value", [AWS_KEY, AWS_KEY.lower(), ANTHROPIC, ANTHROPIC.upper()])
def test_settings_and_stack_names_refuse_credentials_in_any_form(value: str) -> None:
    with pytest.raises(ValueError, match="looks like a credential"):
        refuse_credential(value, "a host name")
    with pytest.raises(StackFileError, match="looks like a credential"):
        check_stack_name(value.replace("-", "_")[:100])


def test_the_real_inputs_are_not_credentials_in_any_form() -> None:
    for entry in parse_catalog(yaml.safe_load(CATALOG_PATH.read_text(encoding="utf-8"))):
        for field in (entry.name, entry.service, entry.kebab_name, entry.key):
            assert redact.credential_kind_in_forms(field) is None, field


# ---- a plaintext value that is also a resource's name ------------------------------------------

PASSWORD = "Tr0ub4dor-xK9q-Zebra"  # pragma: allowlist secret


def _state(tmp_path: Path) -> Path:
    urn = f"urn:pulumi:dev::p::aws:rds/instance:Instance::{PASSWORD}"
    stack = "urn:pulumi:dev::p::pulumi:pulumi:Stack::p-dev"
    doc = {
        "version": 3,
        "deployment": {
            "manifest": {"time": "2026-08-01T12:00:00Z", "magic": "x", "version": "v3.100.0"},
            "resources": [
                {"urn": stack, "custom": False, "type": "pulumi:pulumi:Stack"},
                {
                    "urn": urn,
                    "custom": True,
                    "id": "db-1",
                    "type": "aws:rds/instance:Instance",
                    "parent": stack,
                    "inputs": {"identifier": PASSWORD.lower(), "password": PASSWORD},
                    "outputs": {"identifier": PASSWORD.lower(), "password": PASSWORD},
                },
            ],
        },
    }
    path = tmp_path / "state.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


@pytest.mark.parametrize("fmt", ["text", "json", "markdown", "sarif"])
def test_a_plaintext_value_that_is_also_the_resource_name_is_never_printed(
    fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = _state(tmp_path)
    code = main(["check", "--state", str(state), "--format", fmt])
    out, err = capsys.readouterr()
    assert code == 1, err  # the plaintext password is a violation
    assert "state-plaintext-secret" in out
    for form in redact.derived_forms(PASSWORD):
        assert form not in out + err, form


# ---- status lines ------------------------------------------------------------------------------


def test_a_status_line_is_redacted_before_it_is_cut(tmp_path: Path) -> None:
    """`check --state <file named after a key>` on a 30-column terminal: the spinner's line is
    cut to the width; what is cut is the redacted text, never the key. (The state comes through
    a named pipe, written once the command reads it: the "Reading" line is drawn meanwhile.)"""
    folder = tmp_path / f"{AWS_KEY}-exports"
    folder.mkdir()
    fifo = folder / "state.json"
    os.mkfifo(fifo)
    text = _state(tmp_path).read_text(encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "nt_secrets", "check", "--state", str(fifo)],
        cwd=ROOT,
        env={**os.environ, "FORCE_COLOR": "1", "COLUMNS": "30", "TTY_COMPATIBLE": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # Opening the pipe for writing waits for the command to open it for reading: by then its
    # status is up, whatever the machine's load; a moment more lets the spinner draw a frame.
    with fifo.open("w", encoding="utf-8") as pipe:
        time.sleep(0.5)
        pipe.write(text)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    assert "Reading" in err  # the status was drawn
    for n in range(6, len(AWS_KEY) + 1):
        assert AWS_KEY[:n] not in err + out
