"""Issue 21, class 5: a Kubernetes verb restricted by resourceNames reaches the named objects only.
list/watch of named Secrets (the API server matches them through a metadata.name field selector),
bind of a named Role, patch of the controller's own webhook configuration, impersonation of one
service account, exec into a named pod are not judged as the unrestricted verb; the same verbs
without names, or naming objects that are a privilege themselves, still fail."""

from __future__ import annotations

from typing import Any

import pytest

from policies.model import ResourceRecord
from tests.policies.forms import R, as_state, findings
from tests.policies.test_kubernetes import binding, role, rule, sa

SECRETS = "kubernetes-rbac-secrets-by-name"
ESCALATION = "kubernetes-rbac-escalation"
EFFECTIVE = "kubernetes-rbac-effective-secret-access"
RBAC = "rbac.authorization.k8s.io"
ADMISSION = "admissionregistration.k8s.io"


def _bound(*rules: dict[str, Any]) -> list[ResourceRecord]:
    return [role(*rules, name="r"), binding("r", sa(), name="rb")]


CASES: list[tuple[str, list[ResourceRecord], set[tuple[str, str]]]] = [
    # ---- restricted by names: no finding
    (
        "list/watch named Secrets",
        _bound(rule(["get", "list", "watch"], ["secrets"], names=["broker-api"])),
        set(),
    ),
    (
        "bind one named Role",
        _bound(rule(["bind"], ["roles"], [RBAC], names=["secret-reader"])),
        set(),
    ),
    (
        "escalate one named ClusterRole",
        _bound(rule(["escalate"], ["clusterroles"], [RBAC], names=["app-view"])),
        set(),
    ),
    (
        "patch the controller's own webhook configuration",
        _bound(
            rule(
                ["get", "update", "patch"],
                ["mutatingwebhookconfigurations", "validatingwebhookconfigurations"],
                [ADMISSION],
                names=["cert-manager-webhook"],
            )
        ),
        set(),
    ),
    (
        "impersonate one service account",
        _bound(rule(["impersonate"], ["serviceaccounts"], names=["reporting"])),
        set(),
    ),
    (
        "exec into a named pod",
        _bound(rule(["create"], ["pods/exec"], names=["debug-toolbox"])),
        set(),
    ),
    # ---- unrestricted, or naming a privilege: still reported
    (
        "list Secrets without names",
        _bound(rule(["list"], ["secrets"])),
        {(SECRETS, "r"), (EFFECTIVE, "rb")},
    ),
    (
        "watch every Secret",
        _bound(rule(["watch"], ["secrets"])),
        {(SECRETS, "r"), (EFFECTIVE, "rb")},
    ),
    ("bind any Role", _bound(rule(["bind"], ["roles"], [RBAC])), {(ESCALATION, "r")}),
    (
        "bind cluster-admin by name",
        _bound(rule(["bind"], ["clusterroles"], [RBAC], names=["cluster-admin"])),
        {(ESCALATION, "r")},
    ),
    (
        "escalate a system: role by name",
        _bound(rule(["escalate"], ["clusterroles"], [RBAC], names=["system:controller:foo"])),
        {(ESCALATION, "r")},
    ),
    (
        "impersonate system:masters by name",
        _bound(rule(["impersonate"], ["groups"], names=["system:masters"])),
        {(ESCALATION, "r")},
    ),
    (
        "impersonate a system: user by name",
        _bound(rule(["impersonate"], ["users"], names=["system:admin"])),
        {(ESCALATION, "r")},
    ),
    ("exec into any pod", _bound(rule(["create"], ["pods/exec"])), {(ESCALATION, "r")}),
    (
        "patch any webhook configuration",
        _bound(rule(["patch"], ["mutatingwebhookconfigurations"], [ADMISSION])),
        {(ESCALATION, "r")},
    ),
]


@pytest.mark.parametrize("form", ["records", "state"])
@pytest.mark.parametrize(("case", "records", "expected"), CASES, ids=[c[0] for c in CASES])
def test_resource_names_restrict(
    case: str, records: list[ResourceRecord], expected: set[tuple[str, str]], form: str
) -> None:
    if form == "state":
        records = as_state([R(r.type, r.name, dict(r.props)) for r in records])
    assert findings(records, (SECRETS, ESCALATION, EFFECTIVE)) == expected
