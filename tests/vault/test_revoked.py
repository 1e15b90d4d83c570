"""Revocation, done for real: the dev stack planned with ``revoked`` (conftest.REVOKED) applied to
its own OpenBao. Nobody reads a revoked value; only the roles that manage it (admin) still write
it (the way out of the incident: a new value). Everything else is the estate's usual matrix."""

from __future__ import annotations

import hvac
import pytest

from infra.access import ROLE_NAMES, Action, RoleName
from infra.backends.vault.settings import ServiceAccount
from tests.vault import apply as ap
from tests.vault.conftest import REVOKED, Deployment, Deployments
from tests.vault.matrix import Checker, Op, Target
from tests.vault.test_matrix import mismatches

pytestmark = pytest.mark.servers


def test_the_plan_marks_exactly_the_revoked_secrets(revoked: Deployment) -> None:
    assert {s.name for s in revoked.estate.revoked} == set(REVOKED)
    for name in REVOKED:
        labels = revoked.secret_resource(name).raw_inputs["customMetadata"]["data"]
        assert labels.get("revoked") == "true", name
        meta = revoked.root.read(Target(revoked.secret_resource(name)).api("metadata"))
        assert meta is not None and meta["data"]["custom_metadata"]["revoked"] == "true"


@pytest.mark.parametrize("name", REVOKED)
@pytest.mark.parametrize("role", ROLE_NAMES)
def test_nobody_reads_a_revoked_value_and_only_managers_write_it(
    revoked: Deployment, role: RoleName, name: str
) -> None:
    checker = Checker(revoked.root, revoked.server.written)
    target = Target(revoked.secret_resource(name))
    client = revoked.client(role)
    assert checker.run(Op.READ_DATA, client, target) == "denied"
    manages = Action.MANAGE in revoked.estate.secret(name).grants.get(role, frozenset())
    assert manages == (role == "admin")
    assert checker.run(Op.WRITE_DATA, client, target) == ("allowed" if manages else "denied")


@pytest.mark.parametrize("op", list(Op), ids=str)
@pytest.mark.parametrize("role", ROLE_NAMES)
def test_revoked_stack_matrix(revoked: Deployment, role: RoleName, op: Op) -> None:
    wrong = mismatches(revoked, role, op)
    assert not wrong, f"{revoked.key}: role {role}, {op}:\n" + "\n".join(wrong)


def _logins(d: Deployment) -> set[str]:
    roles = {f"kubernetes {r.raw_inputs['roleName']}" for r in d.of_type(ap.K8S_ROLE)}
    return roles | {f"approle {r.raw_inputs['roleName']}" for r in d.of_type(ap.APPROLE_ROLE)}


def test_a_revocation_declares_no_new_login(revoked: Deployment, deployments: Deployments) -> None:
    """Revoking a secret takes access away; it must not create a way to log in that the stack did
    not have."""
    dev = deployments.get("dev")
    added = sorted(_logins(revoked) - _logins(dev))
    policies = sorted(set(revoked.policy_names()) - set(dev.policy_names()))
    assert not added, f"logins the revocation added: {added}; policies it added: {policies}"


def test_a_workload_granted_nothing_cannot_log_in_during_a_revocation(
    revoked: Deployment, deployments: Deployments
) -> None:
    """Done for real: the workload the estate grants nothing in this environment presents its
    service account's JWT (from the stack's settings) and must find no role to log in to."""
    dev = deployments.get("dev")
    k8s = revoked.vault.kubernetes
    assert k8s is not None
    # The accounts the workloads run as; the settings leave out the one granted nothing.
    accounts: dict[RoleName, ServiceAccount] = {
        "backtest": k8s.service_accounts.backtest
        or ServiceAccount(namespace="backtests", name="backtest-runner"),
        "live-trading": k8s.service_accounts.live_trading
        or ServiceAccount(namespace="paper-trading", name="paper-trader"),
    }
    tried = []
    for role, account in accounts.items():
        if dev.k8s_role(role) is not None:
            continue
        assert not revoked.estate.roles[role].secrets, role  # the estate grants it nothing
        jwt = revoked.stub.jwt(account.namespace, account.name, [k8s.audience])
        try:
            auth = revoked.k8s_login(role, jwt)["auth"]
        except hvac.exceptions.InvalidRequest as exc:
            refused = str(exc)
        else:
            pytest.fail(
                f"{role} ({account.namespace}/{account.name}), granted nothing in "
                f"{revoked.env}, logged in during the revocation with policies {auth['policies']}"
            )
        assert "invalid role name" in refused
        tried.append(role)
    assert tried == ["live-trading"]
