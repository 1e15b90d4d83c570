"""The project's own stacks: the Vault secrets' readers and writers in the access
graph are exactly the identities the estate intends (the access model's roles, spelled as the
stores spell them), in the prod and dev plans and in a plan that revokes secrets. The intent is
computed here from the program's estate and settings (tests may import the program; the graph
never does).

Intent, per Vault secret: the ACL policy of each role that may read it
(``vault-policy:<prefix>-<env>-<role>``), the logins that carry that policy (the workload roles'
Kubernetes service accounts, CI's AppRole), and the rotation job (its policy and its service
account) on exactly the secrets Vault rotates (read and write) and the master secrets they use
(read).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.access import Action, RoleName
from infra.backends.vault import documents
from infra.estate import Estate
from nt_secrets.capture import Capture
from nt_secrets.plan import records
from policies.framework import resources_of
from policies.graph import Graph, build
from tests.plans import estate_and_block, plan_config, planned_stack

ROOT = Path(__file__).resolve().parents[2]
NS = "neural-trader-secrets:"
REVOKED = ["JWT_SECRET", "ALPACA_API_KEY", "ENCRYPTION_KEY"]
SA = "system:serviceaccount:"


def _plan(stack: str) -> tuple[dict[str, str], Capture]:
    if stack == "revoked":
        config, _ = planned_stack("dev", ROOT)
        raw = dict(config.config) | {NS + "revoked": json.dumps(REVOKED)}
        return raw, plan_config(raw, stack="dev", secret_keys=config.secret_keys)
    config, capture = planned_stack(stack, ROOT)
    return dict(config.config), capture


def _vault_intent(estate: Estate, block: object, action: Action) -> dict[str, set[str]]:
    """Vault address -> principals intended to have ``action`` on it."""
    from infra.backends.vault.settings import VaultSettings

    assert isinstance(block, VaultSettings)
    env = estate.environment
    mount = documents.kv_mount(block.mount_prefix, env)
    logins: dict[RoleName, list[str]] = {}
    k8s = block.kubernetes
    if k8s is not None:
        for role, account in (
            ("backtest", k8s.service_accounts.backtest),
            ("live-trading", k8s.service_accounts.live_trading),
        ):
            if account is not None:
                logins.setdefault(role, []).append(f"{SA}{account.namespace}:{account.name}")
    if block.app_role is not None:
        logins.setdefault(block.app_role.role, []).append("approle:ci")
    out: dict[str, set[str]] = {}
    for s in estate.secrets:
        address = f"{mount}/data/{documents.secret_path(s.entry)}"
        who = out.setdefault(address, set())
        for role in s.effective_roles_with(action):
            who.add(f"vault-policy:{documents.policy_name(block.mount_prefix, env, role)}")
            who.update(logins.get(role, ()))
    if block.rotation is not None and k8s is not None:
        job = {
            f"vault-policy:{documents.rotation_policy_name(block.mount_prefix, env)}",
            f"{SA}{block.rotation.namespace}:{block.rotation.service_account}",
        }
        rotated = set(documents.rotated_addresses(estate, block.mount_prefix))
        masters = {
            m
            for raw in estate.master_secrets()
            if (m := documents.vault_master_secret(raw, mount)) is not None
        }
        for address in rotated | (masters if action is Action.READ else set()):
            out.setdefault(address, set()).update(job)
    return out


def _holders(graph: Graph, store: str, action: Action) -> dict[str, set[str]]:
    return {
        node.address: graph.holders(urn, action)
        for urn, node in graph.secrets.items()
        if node.store == store
    }


@pytest.fixture(scope="module", params=["prod", "dev", "revoked"])
def planned(request: pytest.FixtureRequest) -> tuple[str, dict[str, str], Graph]:
    config, capture = _plan(request.param)
    return request.param, config, build(resources_of(records(capture)))


@pytest.mark.parametrize("action", [Action.READ, Action.WRITE])
def test_vault_secrets_readers_and_writers_are_the_intended_ones(
    planned: tuple[str, dict[str, str], Graph], action: Action
) -> None:
    stack, config, graph = planned
    estate, block = estate_and_block(config, "vault")
    intended = _vault_intent(estate, block, action)
    assert graph.complete, graph.gaps
    got = _holders(graph, "vault", action)
    assert set(got) == set(intended), stack
    assert got == intended, stack


def test_vault_revoked_secrets_are_read_by_the_rotation_job_alone(
    planned: tuple[str, dict[str, str], Graph],
) -> None:
    """No access-model role reads a revoked value (their policies deny it); the rotation job
    still reads (and writes) the revoked secrets it rotates: its policy is the estate's rotated
    secrets, revoked or not, and rotating is the way out of the incident (reported to the lead:
    the estate's ``effective`` says nobody reads a revoked secret, the job is outside the model)."""
    stack, config, graph = planned
    estate, block = estate_and_block(config, "vault")
    revoked = [urn for urn, n in graph.secrets.items() if n.store == "vault" and n.revoked]
    assert bool(revoked) == (stack == "revoked")
    assert {graph.secrets[u].catalog_name for u in revoked} == (
        {s.name for s in estate.revoked} if revoked else set()
    )
    rotated = set(documents.rotated_addresses(estate, block.mount_prefix))  # type: ignore[attr-defined]
    for urn in revoked:
        readers = graph.holders(urn, Action.READ)
        assert not any("-secret-rotation" not in p and "rotation:" not in p for p in readers), (
            readers
        )
        assert bool(readers) == (graph.secrets[urn].address in rotated)
