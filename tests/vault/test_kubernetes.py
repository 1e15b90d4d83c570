"""Kubernetes auth for the workload roles, done for real: OpenBao sends each login's JWT to the
TokenReview stub (the one deliberate difference: ``kubernetes_host`` points at the stub), and only
the one service account, namespace and audience each role binds gets a token, with exactly the
role's policy, the plan's TTLs and no default policy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import hvac
import pytest

from infra.access import RoleName
from tests.vault import apply as ap
from tests.vault.conftest import Deployment, Deployments
from tests.vault.tokenreview import new_key

pytestmark = pytest.mark.servers

#: The workload role each stack lets log in through Kubernetes (the estate grants the other one
#: nothing in that environment, so the plan declares no role for it).
LOGINS: dict[str, RoleName] = {"dev": "backtest", "prod": "live-trading"}


def test_the_plan_binds_the_service_accounts_of_the_settings(deployment: Deployment) -> None:
    k8s = deployment.vault.kubernetes
    assert k8s is not None
    roles = {
        r.raw_inputs["roleName"]: r.raw_inputs
        for r in deployment.of_type(ap.K8S_ROLE)
        # The rotation job's own role: tests/vault/test_rotation_job.py.
        if r.raw_inputs["roleName"] != "secret-rotation"
    }
    assert set(roles) == {LOGINS[deployment.key]}
    for role, i in roles.items():
        account = getattr(k8s.service_accounts, role.replace("-", "_"))
        assert i["boundServiceAccountNames"] == [account.name]
        assert i["boundServiceAccountNamespaces"] == [account.namespace]
        assert i["audience"] == k8s.audience
        assert i["tokenPolicies"] == [deployment.policy_name(role)]


@pytest.mark.parametrize("stack", sorted(LOGINS))
def test_the_workload_logs_in_with_its_service_account(
    deployments: Deployments, stack: str
) -> None:
    d = deployments.get(stack)
    role = LOGINS[stack]
    resource = d.k8s_role(role)
    assert resource is not None
    reviews = len(d.stub.reviews)
    auth = d.k8s_login(role, d.k8s_jwt(resource))["auth"]
    assert auth["policies"] == [d.policy_name(role)]
    assert auth["token_policies"] == [d.policy_name(role)]
    assert auth["lease_duration"] == resource.raw_inputs["tokenTtl"]
    assert auth["token_type"] == resource.raw_inputs["tokenType"] == "service"
    # OpenBao asked the (stub) API server, for the role's audience.
    (review,) = d.stub.reviews[reviews:]
    assert review["audiences"] == [resource.raw_inputs["audience"]]
    assert review["status"]["authenticated"] is True
    # Root looks the token up: lookup-self is a path of the default policy, which it lacks.
    me = d.root.auth.token.lookup(auth["client_token"])["data"]
    assert me["policies"] == [d.policy_name(role)]  # no "default"
    assert (
        me["meta"]["service_account_namespace"]
        == resource.raw_inputs["boundServiceAccountNamespaces"][0]
    )
    # The token works for what the role may read, and only that (the matrix does the rest).
    secret = next(s for s in d.estate.secrets if s.grants.get(role))
    path = f"{d.mount}/data/{d.secret_resource(secret.name).raw_inputs['name']}"
    assert d.server.client(auth["client_token"]).read(path) is not None


WRONG: dict[str, Callable[[Deployment, Any], str]] = {
    "another service account, same namespace": lambda d, r: d.k8s_jwt(r, name="default"),
    "the same name in another namespace": lambda d, r: d.k8s_jwt(r, namespace="default"),
    "a wrong audience": lambda d, r: d.k8s_jwt(r, audiences=["https://kubernetes.default.svc"]),
    "no audience": lambda d, r: d.k8s_jwt(r, audiences=[]),
    "an expired token": lambda d, r: d.k8s_jwt(r, ttl=-120),
    "a token signed by another key": lambda d, r: d.k8s_jwt(r, key=new_key()),
}


@pytest.mark.parametrize("stack", sorted(LOGINS))
@pytest.mark.parametrize("case", sorted(WRONG))
def test_every_other_jwt_is_refused(deployments: Deployments, stack: str, case: str) -> None:
    d = deployments.get(stack)
    role = LOGINS[stack]
    resource = d.k8s_role(role)
    assert resource is not None
    with pytest.raises(hvac.exceptions.Forbidden):
        d.k8s_login(role, WRONG[case](d, resource))


@pytest.mark.parametrize("stack", sorted(LOGINS))
def test_the_other_workload_cannot_use_this_role(deployments: Deployments, stack: str) -> None:
    """The other workload's service account is refused by this role, and finds no role of its own
    where the estate grants it nothing (the stack settings leave that account out: a workload
    granted nothing gets no login)."""
    d = deployments.get(stack)
    role = LOGINS[stack]
    resource = d.k8s_role(role)
    assert resource is not None and d.vault.kubernetes is not None
    other: RoleName = "live-trading" if role == "backtest" else "backtest"
    assert getattr(d.vault.kubernetes.service_accounts, other.replace("-", "_")) is None
    # The account that workload would run as (the other stack's naming).
    namespace, name = {"backtest": ("backtests", "backtest-runner")}.get(
        other, ("paper-trading", "paper-trader")
    )
    jwt = d.stub.jwt(namespace, name, [d.vault.kubernetes.audience])
    with pytest.raises(hvac.exceptions.Forbidden):
        d.k8s_login(role, jwt)
    assert not d.estate.roles[other].secrets
    with pytest.raises(hvac.exceptions.InvalidRequest, match="invalid role name"):
        d.k8s_login(other, jwt)
