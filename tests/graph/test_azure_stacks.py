"""The project's own stacks: the Azure Key Vault secrets' readers in the access graph are the
identities the estate intends, in either authorization model.

Intent is computed from the program's estate (``infra.estate``, the access model of
``infra.access`` less what a revocation takes away: the secret is disabled) and the Azure
settings (a group's object id for a human role, the workload's managed identity for a workload
role, named at preview ``UserAssignedIdentity <resource name>`` and recognised by its ``role``
tag); the graph is built from the plan alone. The project grants no control-plane role, so no
principal escalates.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import pytest

from infra.access import ROLE_NAMES, Action
from infra.backends.azure.settings import AzureSettings
from nt_secrets.capture import Capture
from nt_secrets.plan import records
from nt_secrets.stackfile import read_stack
from policies.framework import resources_of
from policies.graph import Graph, build
from tests.conftest import ROOT
from tests.plans import estate_and_block, plan_config, planned_stack

NS = "neural-trader-secrets:"
ACCOUNTS = {"dev": "123456789012", "prod": "210987654321"}
#: Revoked in the revoked plans: the brief's JWT_SECRET (Vault's) and one secret Azure is home to.
REVOKED = ("JWT_SECRET", "SLACK_BOT_TOKEN")
#: (stack, revoked, authorization model: None = the stack file's own)
PLANS: list[tuple[str, tuple[str, ...], str | None]] = [
    ("dev", (), None),
    ("prod", (), None),
    ("prod", REVOKED, None),
    ("dev", (), "accessPolicies"),
    ("prod", REVOKED, "rbac"),
]
IDS = [f"{s}{'-revoked' * bool(r)}{f'-{m}' if m else ''}" for s, r, m in PLANS]


def _config(stack: str, revoked: tuple[str, ...], model: str | None) -> dict[str, str]:
    config = dict(read_stack(ROOT, stack).config)
    if revoked:
        config[NS + "revoked"] = json.dumps(list(revoked))
    if model is not None:
        block = json.loads(config[NS + "azure"])
        config[NS + "azure"] = json.dumps({**block, "authorization": model})
    return config


@functools.cache
def _planned(
    stack: str, revoked: tuple[str, ...], model: str | None
) -> tuple[Graph, Any, AzureSettings]:
    cap: Capture
    config = _config(stack, revoked, model)
    if revoked or model:
        cap = plan_config(config, stack=stack, account_id=ACCOUNTS[stack])
    else:
        cap = planned_stack(stack, ROOT)[1]
    estate, block = estate_and_block(config, "azure")
    assert isinstance(block, AzureSettings)
    return build(resources_of(records(cap))), estate, block


def _azure_secrets(g: Graph) -> dict[str, str]:
    out = {}
    for urn, node in g.secrets.items():
        if node.store == "azure":
            if node.address.endswith("-rotation-pending"):
                continue  # the rotation function's own companion (docs/azure.md), no catalog entry
            assert node.catalog_name is not None, urn
            out[node.catalog_name] = urn
    return out


def _principals(g: Graph, block: AzureSettings) -> dict[str, str]:
    """role -> the principal the graph names for it."""
    out: dict[str, str] = {}
    for role in ROLE_NAMES:
        group = block.group(role)
        if group is not None:
            out[role] = group
    for principal, identity in g.identities.items():
        if identity.store == "azure" and identity.kind == "managed identity":
            role = identity.labels.get("role") or identity.labels["purpose"]
            out[role] = principal
    return out


@pytest.mark.parametrize(("stack", "revoked", "model"), PLANS, ids=IDS)
def test_the_graph_grants_what_the_estate_intends(
    stack: str, revoked: tuple[str, ...], model: str | None
) -> None:
    g, estate, block = _planned(stack, revoked, model)
    assert g.complete, g.gaps
    secrets = _azure_secrets(g)
    assert set(secrets) == {s.name for s in estate.secrets}
    who = _principals(g, block)
    for s in estate.secrets:
        entries = g.access(secrets[s.name])
        assert not any(a.escalation for a in entries), s.name
        held = {a.principal: set(a.actions) for a in entries}
        expected = {
            who[role]: set(acts)
            for role in ROLE_NAMES
            if (acts := s.effective(role)) and role in who
        }
        # The rotation function reads and writes (never manages) exactly the secrets it rotates;
        # a revoked secret is disabled, so it can write a new version but read nothing.
        rotator = who.get("secret-rotation")
        rotates = rotator is not None and s.rotation is not None
        if rotates:
            expected[rotator] = {Action.WRITE, Action.DESCRIBE} | (
                set() if s.revoked else {Action.READ}
            )
        assert held == expected, s.name
        assert g.holders(secrets[s.name]) == {
            who[r] for r in ROLE_NAMES if Action.READ in s.effective(r) and r in who
        } | ({rotator} if rotates and not s.revoked else set())
        if s.revoked:
            assert g.secrets[secrets[s.name]].revoked and g.holders(secrets[s.name]) == set()


def test_the_plans_cover_both_models_and_a_revoked_azure_secret() -> None:
    models = {_planned(*p)[2].authorization for p in PLANS}
    assert models == {"rbac", "accessPolicies"}
    g, estate, _ = _planned("prod", REVOKED, None)
    assert "SLACK_BOT_TOKEN" in _azure_secrets(g) and estate.secret("SLACK_BOT_TOKEN").revoked
    managed = [
        i for i in g.identities.values() if i.store == "azure" and i.kind == "managed identity"
    ]
    assert managed and all(i.principal.startswith("UserAssignedIdentity ") for i in managed)
