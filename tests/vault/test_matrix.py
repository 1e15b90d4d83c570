"""The KV v2 access matrix of each stack, done for real: every role x every stored secret x every
operation, with the role's own token, against what the estate grants (``matrix.expected``)."""

from __future__ import annotations

import time

import pytest

from infra.access import ROLE_NAMES, RoleName
from tests.vault.conftest import Deployment
from tests.vault.matrix import Checker, Op, Target, expected
from tests.vault.report import REPORT

pytestmark = pytest.mark.servers


def mismatches(d: Deployment, role: RoleName, op: Op) -> list[str]:
    """Every secret of the estate on which ``role`` doing ``op`` did not get what the estate
    says; counts the checks into the report."""
    checker = Checker(d.root, d.server.written)
    client = d.client(role)
    grantee = d.estate.roles[role].role
    wrong = []
    started = time.monotonic()
    for secret in d.estate.secrets:
        target = Target(d.secret_resource(secret.name))
        want = "allowed" if expected(op, secret, grantee) else "denied"
        got = checker.run(op, client, target)
        if got != want:
            actions = sorted(a.value for a in secret.grants.get(role, frozenset()))
            wrong.append(
                f"{secret.name} at {target.api('data')} (estate grants {actions or 'nothing'}"
                f"{', revoked' if secret.revoked else ''}): expected {want}, got {got}"
            )
    REPORT.kv_checks[d.key] += len(d.estate.secrets)
    REPORT.kv_seconds[d.key] += time.monotonic() - started
    return wrong


@pytest.mark.parametrize("op", list(Op), ids=str)
@pytest.mark.parametrize("role", ROLE_NAMES)
def test_kv_matrix(deployment: Deployment, role: RoleName, op: Op) -> None:
    wrong = mismatches(deployment, role, op)
    assert not wrong, f"{deployment.key}: role {role}, {op}:\n" + "\n".join(wrong)
