"""Tokens per role. Human roles (developer, trader, admin, auditor) have policies but no auth
method in the program (OIDC is out of scope): the harness "logs them in" with a token root makes
carrying exactly the role's policy and no default policy. A role the estate grants nothing has no
policy at all, so such a token holds nothing (the matrix proves it is denied everything)."""

from __future__ import annotations

import pytest

from infra.access import ROLE_NAMES, RoleName
from infra.backends.vault import documents
from tests.vault.conftest import Deployment

pytestmark = pytest.mark.servers


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_each_role_token_carries_exactly_its_policy(deployment: Deployment, role: RoleName) -> None:
    # Root looks the token up: lookup-self is a path of the default policy, which it lacks.
    me = deployment.root.auth.token.lookup(deployment.token(role))["data"]
    assert me["policies"] == [deployment.policy_name(role)]
    login = "kubernetes" if deployment.k8s_role(role) is not None else "token"
    assert me["path"].startswith(f"auth/{login}"), me["path"]
    assert (login == "kubernetes") == (role in deployment.capture_workloads())


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_a_policy_exists_exactly_for_the_roles_the_estate_grants(
    deployment: Deployment, role: RoleName
) -> None:
    granted = bool(deployment.estate.roles[role].secrets)
    text = documents.role_policy(deployment.estate, role, prefix=deployment.vault.mount_prefix)
    on_server = deployment.root.sys.list_acl_policies()["data"]["keys"]
    assert (deployment.policy_name(role) in on_server) == granted == (text is not None)
    if granted:
        stored = deployment.root.sys.read_acl_policy(deployment.policy_name(role))["data"]
        assert stored["policy"] == text


def test_the_server_holds_no_other_policy(deployment: Deployment) -> None:
    on_server = set(deployment.root.sys.list_acl_policies()["data"]["keys"])
    assert on_server - {"default", "root"} == set(deployment.policy_names())
