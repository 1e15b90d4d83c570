"""The audit device, read last (conftest moves this module to the end of the run): every request
of the run is in the log, and no value, token or JWT ever appears in clear; secret fields are
HMAC'd (``hmac-sha256:``), since the plan's device keeps ``log_raw`` off."""

from __future__ import annotations

import secrets
from typing import Any

import hvac
import pytest

from tests.vault.conftest import REVOKED_KEY, STACKS, Deployment, Deployments
from tests.vault.matrix import Checker, Target

pytestmark = pytest.mark.servers


@pytest.fixture(params=[*STACKS, REVOKED_KEY])
def audited(request: pytest.FixtureRequest, deployments: Deployments) -> Deployment:
    return deployments.get(request.param)


def _value(entry: dict[str, Any], side: str) -> Any:
    body = entry.get(side) or {}
    data = body.get("data") or {}
    inner = data.get("data") if isinstance(data, dict) else None
    return inner.get("value") if isinstance(inner, dict) else None


def test_the_audit_log_never_holds_a_plaintext_value(audited: Deployment) -> None:
    d = audited
    canary = f"FAKE-audit-canary-{secrets.token_hex(12)}"
    d.server.written.add(canary)
    secret = next(s for s in d.estate.secrets if not s.revoked)
    target = Target(d.secret_resource(secret.name))
    checker = Checker(d.root, d.server.written)
    admin = d.client("admin")
    try:
        admin.write_data(
            target.api("data"),
            data={"data": {"value": canary}, "options": {"cas": checker.current(target)}},
        )
        assert admin.read(target.api("data"))["data"]["data"]["value"] == canary
    finally:
        checker.restore(target)
    with pytest.raises(hvac.exceptions.Forbidden):
        d.client("auditor").read(target.api("data"))

    text = d.server.audit_text()
    entries = d.server.audit_entries()
    assert "hmac-sha256:" in text
    # The canary's write and read were both logged, the value HMAC'd each time.
    on_path = [e for e in entries if (e.get("request") or {}).get("path") == target.api("data")]
    written = [_value(e, "request") for e in on_path if e["type"] == "request"]
    read = [_value(e, "response") for e in on_path if e["type"] == "response"]
    assert any(isinstance(v, str) and v.startswith("hmac-sha256:") for v in written)
    assert any(isinstance(v, str) and v.startswith("hmac-sha256:") for v in read)
    assert canary not in text
    # The auditor's denied read is in the log too.
    assert any(
        e.get("error") and "permission denied" in e["error"] and e in on_path for e in entries
    )
    # Nothing the harness ever wrote (plan values, the mock engine's canaries, matrix values),
    # no token and no service-account JWT appears in clear.
    leaked = sorted(v for v in d.server.written if v in text)
    assert not leaked, f"plaintext values in {d.server.audit_logs}: {leaked[:5]}"
    for token in (d.server.root_token, *d.issued_tokens()):
        assert token not in text
    jwts = sorted(t[:40] + "..." for t in d.stub.minted if t in text)
    assert not jwts, f"service-account JWTs in clear: {jwts}"
    for e in entries:
        token = (e.get("auth") or {}).get("client_token", "")
        assert not token or token.startswith("hmac-sha256:"), e["request"]["path"]
