"""Issue 21, class 5: what every Vault token needs is not privilege. The built-in ``default``
policy, read from a real OpenBao server (``bao server -dev``), and policies that grant its
self-service paths beside an application's own secrets pass both Vault ACL policies; broader
grants on the same system paths still fail."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.policies.forms import R, as_records, as_state, findings
from tests.vault.server import start_bao

POLICY = "vault:index/policy:Policy"
VAULT_POLICIES = ("vault-policy-least-privilege", "vault-policy-no-privilege-escalation")
APP = 'path "kv/production/data/trading/*" {\n  capabilities = ["read"]\n}\n'


def _path(path: str, *capabilities: str) -> str:
    caps = ", ".join(f'"{c}"' for c in capabilities)
    return f'path "{path}" {{\n  capabilities = [{caps}]\n}}\n'


@pytest.fixture(scope="module")
def default_policy() -> Iterator[str]:
    server = start_bao([])
    try:
        yield str(server.client().sys.read_policy("default")["data"]["rules"])
    finally:
        server.stop()


@pytest.mark.servers
@pytest.mark.parametrize("form", ["records", "state"])
def test_the_servers_default_policy_passes(default_policy: str, form: str) -> None:
    assert 'path "cubbyhole/*"' in default_policy  # the server's own text, not a copy
    resources = [R(POLICY, "app", {"name": "app", "policy": default_policy + APP})]
    records = as_records(resources) if form == "records" else as_state(resources)
    assert findings(records, VAULT_POLICIES) == set()


SELF_SERVICE: list[tuple[str, str]] = [
    ("cubbyhole glob", _path("cubbyhole/*", "create", "read", "update", "delete", "list")),
    ("hash tool glob", _path("sys/tools/hash/*", "update")),
    ("OIDC authorize endpoint", _path("identity/oidc/provider/+/authorize", "read", "update")),
    ("old renew path", _path("sys/renew/*", "update")),
    ("own entity by templated id", _path("identity/entity/id/{{identity.entity.id}}", "read")),
    ("resultant ACL", _path("sys/internal/ui/resultant-acl", "read")),
    (
        "capabilities and lookups",
        _path("sys/capabilities-self", "update") + _path("auth/token/lookup-self", "read"),
    ),
]
STILL_PRIVILEGE: list[tuple[str, str, str]] = [
    ("every sys tool", _path("sys/tools/*", "update"), "vault-policy-no-privilege-escalation"),
    (
        "any OIDC provider",
        _path("identity/oidc/provider/*", "update"),
        "vault-policy-no-privilege-escalation",
    ),
    (
        "orphan tokens",
        _path("auth/token/create-orphan", "update"),
        "vault-policy-no-privilege-escalation",
    ),
    (
        "every entity",
        _path("identity/entity/id/*", "update"),
        "vault-policy-no-privilege-escalation",
    ),
    (
        "revoke by prefix with sudo",
        _path("sys/leases/revoke-prefix/*", "update", "sudo"),
        "vault-policy-least-privilege",
    ),
    ("cubbyhole with sudo", _path("cubbyhole/*", "read", "sudo"), "vault-policy-least-privilege"),
    ("a glob over a whole KV mount", _path("kv/*", "read"), "vault-policy-least-privilege"),
]


@pytest.mark.parametrize(("case", "text"), SELF_SERVICE, ids=[c[0] for c in SELF_SERVICE])
def test_self_service_paths_pass(case: str, text: str) -> None:
    resources = [R(POLICY, "app", {"name": "app", "policy": text + APP})]
    assert findings(as_records(resources), VAULT_POLICIES) == set()


@pytest.mark.parametrize(
    ("case", "text", "policy"), STILL_PRIVILEGE, ids=[c[0] for c in STILL_PRIVILEGE]
)
def test_broader_grants_still_fail(case: str, text: str, policy: str) -> None:
    resources = [R(POLICY, "app", {"name": "app", "policy": text + APP})]
    assert (policy, "app") in findings(as_records(resources), VAULT_POLICIES)
