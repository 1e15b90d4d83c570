"""AppRole for CI, done for real. The plan binds both the secret ids and the tokens to CI's
networks (e.g. 10.20.0.0/16); the test client connects from 127.0.0.1. So the harness first proves
that binding (a login from 127.0.0.1 is refused with the plan's CIDRs; a token bound to them is
refused from 127.0.0.1), and only then re-applies the role with 127.0.0.1/32 in their place (the
second deliberate difference from a deployment) to prove the login itself: exactly the CI role's
policy, and a secret id that works once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import hvac
import pytest

from infra.access import RoleName
from tests.vault import apply as ap
from tests.vault.conftest import Deployment, Deployments
from tests.vault.matrix import Target

pytestmark = pytest.mark.servers

LOOPBACK_ONLY = ("127.0.0.1/32",)


@pytest.fixture(scope="module")
def dev(deployments: Deployments) -> Deployment:
    return deployments.get("dev")


@pytest.fixture(scope="module")
def ci(dev: Deployment) -> dict[str, Any]:
    (role,) = dev.of_type(ap.APPROLE_ROLE)
    return {"resource": role, **role.raw_inputs}


@contextmanager
def role_with(dev: Deployment, ci: dict[str, Any], cidrs: ap.Cidrs) -> Iterator[None]:
    """HARNESS: the CI role with replaced CIDR bindings, the plan's again afterwards."""
    ap.approle_role(dev.root, ci["resource"], cidrs)
    try:
        yield
    finally:
        ap.approle_role(dev.root, ci["resource"])


def credentials(dev: Deployment, ci: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """What CI is handed: the role id and a fresh secret id (made by root, the plan's issuer)."""
    approle = dev.root.auth.approle
    role_id = approle.read_role_id(ci["roleName"], mount_point=ci["backend"])["data"]["role_id"]
    secret = approle.generate_secret_id(ci["roleName"], mount_point=ci["backend"])["data"]
    return str(role_id), dict(secret)


def login(dev: Deployment, ci: dict[str, Any], role_id: str, secret_id: str) -> dict[str, Any]:
    resp = dev.server.anonymous().auth.approle.login(
        role_id, secret_id, use_token=False, mount_point=ci["backend"]
    )
    return dict(resp["auth"])


def readable_path(dev: Deployment, role: RoleName) -> str:
    secret = next(s for s in dev.estate.secrets if s.grants.get(role))
    return Target(dev.secret_resource(secret.name)).api("data")


def test_the_ci_role_is_applied_as_planned(dev: Deployment, ci: dict[str, Any]) -> None:
    settings = dev.vault.app_role
    assert settings is not None
    stored = dev.root.read(f"auth/{ci['backend']}/role/{ci['roleName']}")["data"]
    assert stored["secret_id_bound_cidrs"] == list(settings.token_bound_cidrs)
    assert stored["token_bound_cidrs"] == list(settings.token_bound_cidrs)
    assert stored["secret_id_num_uses"] == settings.secret_id_num_uses == 1
    assert stored["secret_id_ttl"] == settings.secret_id_ttl
    assert stored["token_policies"] == [dev.policy_name(settings.role)]
    assert stored["token_no_default_policy"] is True
    assert stored["bind_secret_id"] is True


def test_a_login_from_outside_the_planned_networks_is_refused(
    dev: Deployment, ci: dict[str, Any]
) -> None:
    assert "127.0.0.1/32" not in ci["secretIdBoundCidrs"]
    role_id, secret = credentials(dev, ci)
    assert secret["secret_id_ttl"] == ci["secretIdTtl"]
    assert secret["secret_id_num_uses"] == ci["secretIdNumUses"]
    with pytest.raises(hvac.exceptions.VaultError, match="source address"):
        login(dev, ci, role_id, secret["secret_id"])


def test_a_token_used_outside_its_bound_networks_is_refused(
    dev: Deployment, ci: dict[str, Any]
) -> None:
    # Secret ids may come from 127.0.0.1; tokens keep the plan's CIDRs.
    with role_with(dev, ci, ap.Cidrs(secret_id=LOOPBACK_ONLY)):
        role_id, secret = credentials(dev, ci)
        auth = login(dev, ci, role_id, secret["secret_id"])
    assert auth["policies"] == ci["tokenPolicies"]
    with pytest.raises(hvac.exceptions.Forbidden):
        dev.server.client(auth["client_token"]).read(readable_path(dev, "backtest"))


def test_ci_logs_in_once_from_an_allowed_network(dev: Deployment, ci: dict[str, Any]) -> None:
    with role_with(dev, ci, ap.Cidrs(secret_id=LOOPBACK_ONLY, token=LOOPBACK_ONLY)):
        role_id, secret = credentials(dev, ci)
        auth = login(dev, ci, role_id, secret["secret_id"])
        # The secret id is single-use: CI cannot log in with it twice.
        with pytest.raises(hvac.exceptions.VaultError, match="invalid role or secret ID"):
            login(dev, ci, role_id, secret["secret_id"])
    assert auth["policies"] == ci["tokenPolicies"] == [dev.policy_name("backtest")]
    assert auth["lease_duration"] == ci["tokenTtl"]
    token = dev.server.client(auth["client_token"])
    assert token.read(readable_path(dev, "backtest")) is not None
    # Exactly the CI role's policy: writing is not part of it.
    with pytest.raises(hvac.exceptions.Forbidden):
        token.write_data(
            readable_path(dev, "backtest"), data={"data": {"value": "x"}, "options": {"cas": 1}}
        )


def test_prod_declares_no_ci_login(deployments: Deployments) -> None:
    """CI runs backtests, which the estate grants nothing in production: prod's settings give no
    AppRole, and the program declares none (CI has no way into prod Vault). Were one configured,
    the program would still declare none and warn."""
    prod = deployments.get("prod")
    assert prod.vault.app_role is None
    assert not prod.estate.roles["backtest"].secrets
    assert prod.of_type(ap.APPROLE_ROLE) == []
    assert "approle-production/" not in prod.root.sys.list_auth_methods()["data"]
