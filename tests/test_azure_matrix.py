"""The role x secret x action matrix the Azure plan grants equals the estate's, for both
authorization models and both stacks.

No Key Vault emulator exists, so what Key Vault allows is evaluated offline: the pack's evaluator
(``policies/azure/rbac.py``) reads every access policy and role assignment of the plan through
access-policy permission semantics and its cited table of built-in roles' data actions, and the
table below compares, cell by cell, what it finds with what the estate grants (less what a
revocation takes away). Purge is a column of its own: nobody may purge. The evaluator itself is
pinned by the tests after the table: each grant form, scope, wildcard, model and what it refuses
to guess.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import pytest

from infra.access import ROLE_NAMES, Action, RoleName
from infra.backends.azure import documents
from nt_secrets.plan import records
from policies.azure.rbac import (
    BUILT_IN_ROLES,
    Matrix,
    Permissions,
    allowed,
    evaluate,
    parse_scope,
)
from policies.contract.vocabulary import TAG_CATALOG_NAME
from policies.framework import Resource
from policies.model import UNKNOWN
from tests.policies.records import rec

from .test_azure_plan import azure_block, azure_config, estate_of, plan, policy_view

ACTIONS = (Action.READ, Action.WRITE, Action.DESCRIBE, Action.MANAGE)
MODELS = ("accessPolicies", "rbac")
STACKS = ("dev", "prod")
SECRET = "azure-native:keyvault:Secret"  # pragma: allowlist secret
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"


def expected_actions(secret: Any, role: RoleName) -> frozenset[Action]:
    """What the estate lets ``role`` do to ``secret`` in a store: its grants, without reading a
    revoked value (and, for everyone but a manager, without changing it)."""
    actions = secret.grants.get(role, frozenset())
    if secret.revoked:
        actions -= {Action.READ}
        if Action.MANAGE not in actions:
            actions -= {Action.WRITE}
    return frozenset(actions)


def config_for(stack: str, model: str, revoked: tuple[str, ...] = ()) -> dict[str, str]:
    settings: dict[str, Any] = {"revoked": list(revoked)} if revoked else {}
    return azure_config(stack, azure_block(stack, authorization=model), **settings)


@functools.cache
def planned(
    stack: str, model: str, revoked: tuple[str, ...] = ()
) -> tuple[Matrix, dict[str, str], dict[str, RoleName], Any]:
    """(matrix, secret URN -> catalog name, principal -> role, estate) of one planned stack."""
    config = config_for(stack, model, revoked)
    resources = policy_view(records(plan(config, stack)))
    names = {r.urn: r.props["tags"][TAG_CATALOG_NAME] for r in resources if r.type == SECRET}
    estate, block = estate_of(config)
    role_of: dict[str, RoleName] = {
        r.urn: r.props["tags"]["role"] for r in resources if r.type == IDENTITY
    }
    for role in ROLE_NAMES:
        group = block.group(role)
        if group is not None:
            role_of[group] = role
    return evaluate(resources), names, role_of, estate


def role_matrix(stack: str, model: str, revoked: tuple[str, ...] = ()) -> dict[Any, Any]:
    """Role -> catalog name -> actions, read from the plan through the evaluator; a principal
    that stands for no role appears under its own id (and fails the comparison)."""
    matrix, names, role_of, _ = planned(stack, model, revoked)
    out: dict[Any, dict[str, set[Action]]] = {}
    for principal, grants in matrix.effective().items():
        who = role_of.get(principal, principal)
        for urn, actions in grants.items():
            out.setdefault(who, {}).setdefault(names[urn], set()).update(Action(a) for a in actions)
    return out


def cells(stack: str, model: str) -> Iterator[tuple[str, str, RoleName, str, Action]]:
    _, _, _, estate = planned(stack, model)
    for role in ROLE_NAMES:
        for secret in estate.secrets:
            for action in ACTIONS:
                yield stack, model, role, secret.name, action


TABLE = [c for stack in STACKS for model in MODELS for c in cells(stack, model)]


@functools.cache
def granted_cells(stack: str, model: str) -> frozenset[tuple[str, str, Action]]:
    """Every (role, catalog name, action) :func:`role_matrix` finds in the plan: read once per
    stack and model for the table, whose cells only look it up."""
    return frozenset(
        (role, name, action)
        for role, grants in role_matrix(stack, model).items()
        for name, actions in grants.items()
        for action in actions
    )


@pytest.mark.parametrize(
    ("stack", "model", "role", "name", "action"),
    TABLE,
    ids=[f"{s}-{m}-{r}-{n}-{a}" for s, m, r, n, a in TABLE],
)
def test_the_plan_grants_exactly_what_the_estate_grants(
    stack: str, model: str, role: RoleName, name: str, action: Action
) -> None:
    matrix, _, _, estate = planned(stack, model)
    assert matrix.complete, matrix.unknown
    granted = (role, name, action) in granted_cells(stack, model)
    expected = action in expected_actions(estate.secret(name), role)
    assert granted is expected, f"{model} {role} {action} {name}: plan {granted}, estate {expected}"


def test_the_table_covers_every_role_secret_action_and_model() -> None:
    assert len(TABLE) == 2 * (6 * 20 * 4 + 6 * 25 * 4) == 2160


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("stack", STACKS)
def test_nobody_outside_the_access_model_holds_anything_and_nobody_purges(
    stack: str, model: str
) -> None:
    matrix, _, _, estate = planned(stack, model)
    found = role_matrix(stack, model)
    assert set(found) <= set(ROLE_NAMES), sorted(set(found) - set(ROLE_NAMES))
    expected = {
        role: {s.name: set(a) for s in estate.secrets if (a := expected_actions(s, role))}
        for role in ROLE_NAMES
    }
    assert found == {r: g for r, g in expected.items() if g}
    assert matrix.purge == {}


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("stack", STACKS)
def test_a_revoked_secret_is_read_by_nobody_in_either_model(stack: str, model: str) -> None:
    revoked = ("ALPACA_API_KEY", "JWT_SECRET")
    matrix, _, _, estate = planned(stack, model, revoked)
    assert matrix.complete, matrix.unknown
    found = role_matrix(stack, model, revoked)
    expected = {
        role: {s.name: set(a) for s in estate.secrets if (a := expected_actions(s, role))}
        for role in ROLE_NAMES
    }
    assert found == {r: g for r, g in expected.items() if g}
    assert all(Action.READ not in g.get("JWT_SECRET", set()) for g in found.values())
    assert Action.MANAGE in found["admin"]["JWT_SECRET"]


def test_access_policy_vaults_partition_the_estate_by_its_grants() -> None:
    """Access policies cannot be narrower than a vault: every secret of a vault is granted alike,
    and the admin-only secrets of production get a vault of their own."""
    for stack in STACKS:
        estate, block = estate_of(config_for(stack, "accessPolicies"))
        parts = documents.partitions(estate, block)
        for p in parts:
            assert len({tuple(sorted(s.grants.items())) for s in p.secrets}) == 1
        names = {p.name: sorted(s.name for s in p.secrets) for p in parts}
        if stack == "prod":
            assert names["admin"] == ["DD_APP_KEY", "DOTENV_KEY"] and set(names) == {
                "admin",
                "live",
            }
        else:
            assert set(names) == {"paper"}


# ---- the evaluator ---------------------------------------------------------------------------------

SUB = "00000000-0000-4000-8000-000000000009"
RG = f"/subscriptions/{SUB}/resourceGroups/rg"
VAULT_ID = f"{RG}/providers/Microsoft.KeyVault/vaults/kv"
APP = "33333333-3333-4333-8333-000000000001"


def _role(guid: str) -> str:
    return f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{guid}"


def vault(rbac: bool, purge_protection: bool = True, **extra: Any) -> Any:
    return rec(
        "azure-native:keyvault:Vault",
        {
            "vaultName": "kv",
            "resourceGroupName": "rg",
            "properties": {
                "enableRbacAuthorization": rbac,
                "enablePurgeProtection": purge_protection,
                **extra,
            },
        },
        name="kv",
    )


def secret(name: str = "s1", enabled: bool = True) -> Any:
    return rec(
        SECRET,
        {
            "vaultName": "kv",
            "resourceGroupName": "rg",
            "secretName": name,
            "properties": {"attributes": {"enabled": enabled}},
        },
        name=name,
    )


def assign(role: str, scope: str, principal: str = APP, **extra: Any) -> Any:
    return rec(
        "azure-native:authorization:RoleAssignment",
        {"roleDefinitionId": _role(role), "scope": scope, "principalId": principal, **extra},
        name=f"a-{role[:4]}-{abs(hash(scope)) % 1000}",
    )


def view(*recs: Any) -> list[Resource]:
    return policy_view(list(recs))


def grants(m: Matrix, principal: str = APP) -> dict[str, set[str]]:
    return {
        urn.rsplit("::", 1)[-1]: set(acts) for urn, acts in m.effective().get(principal, {}).items()
    }


USER = "4633458b-17de-408a-b874-0445c86b69e6"
OFFICER = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"
KV_READER = "21090545-7ca7-4776-b22c-e363652d74d2"
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
CERT_USER = "db79e9a7-68ee-4b58-9aeb-b90e7c24fcba"
CRYPTO_USER = "12338af0-0e69-4776-bea7-57ae8d297424"

EVALUATOR_CASES: list[tuple[str, list[Any], dict[str, set[str]]]] = [
    ("secrets user on one secret", [vault(True), secret("s1"), secret("s2"), assign(USER, f"{VAULT_ID}/secrets/s1")], {"s1": {"read", "describe"}}),
    ("secrets user on the vault", [vault(True), secret("s1"), secret("s2"), assign(USER, VAULT_ID)], {"s1": {"read", "describe"}, "s2": {"read", "describe"}}),
    ("secrets user on the resource group", [vault(True), secret("s1"), assign(USER, RG)], {"s1": {"read", "describe"}}),
    ("secrets user on another resource group", [vault(True), secret("s1"), assign(USER, f"/subscriptions/{SUB}/resourceGroups/other")], {}),
    ("secrets user on the subscription", [vault(True), secret("s1"), assign(USER, f"/subscriptions/{SUB}")], {"s1": {"read", "describe"}}),
    ("secrets officer", [vault(True), secret("s1"), assign(OFFICER, f"{VAULT_ID}/secrets/s1")], {"s1": {"read", "write", "describe", "manage"}}),
    ("key vault reader: metadata only", [vault(True), secret("s1"), assign(KV_READER, f"{VAULT_ID}/secrets/s1")], {"s1": {"describe"}}),
    ("certificate user reads secrets", [vault(True), secret("s1"), assign(CERT_USER, VAULT_ID)], {"s1": {"read", "describe"}}),
    ("crypto user: keys, no secret", [vault(True), secret("s1"), assign(CRYPTO_USER, VAULT_ID)], {}),
    ("RBAC data roles count for nothing in an access-policy vault", [vault(False), secret("s1"), assign(USER, VAULT_ID)], {}),
    ("owner on the resource group grants itself everything", [vault(True), secret("s1"), assign(OWNER, RG)], {"s1": {"read", "write", "describe", "manage"}}),
    ("user access administrator assigns itself anything", [vault(True), secret("s1"), assign("18d7d88d-d35e-4fb5-a5c3-7773c20a72d9", RG)], {"s1": {"read", "write", "describe", "manage"}}),
    ("contributor flips an access-policy vault", [vault(False), secret("s1"), assign(CONTRIBUTOR, VAULT_ID)], {"s1": {"read", "write", "describe", "manage"}}),
    ("reader sees metadata through ARM", [vault(False), secret("s1"), assign(READER, RG)], {"s1": {"describe"}}),
    ("a disabled secret is read by nobody", [vault(True), secret("s1", enabled=False), assign(OFFICER, VAULT_ID)], {"s1": {"write", "describe", "manage"}}),
    ("inline access policy", [vault(False, accessPolicies=[{"objectId": APP, "tenantId": SUB, "permissions": {"secrets": ["Get", "List"]}}]), secret("s1")], {"s1": {"read", "describe"}}),
    ("inline access policies are ignored under RBAC", [vault(True, accessPolicies=[{"objectId": APP, "tenantId": SUB, "permissions": {"secrets": ["all"]}}]), secret("s1")], {}),
    ("stand-alone access policy with set", [vault(False), secret("s1"), rec("azure-native:keyvault:AccessPolicy", {"vaultName": "kv", "resourceGroupName": "rg", "policy": {"objectId": APP, "permissions": {"secrets": ["get", "set"]}}})], {"s1": {"read", "write", "describe"}}),
    ("classic vault and classic access policy", [rec("azure:keyvault/keyVault:KeyVault", {"name": "kv", "resourceGroupName": "rg", "purgeProtectionEnabled": True}, name="kv"), rec("azure:keyvault/secret:Secret", {"name": "s1", "keyVaultId": VAULT_ID}, name="s1"), rec("azure:keyvault/accessPolicy:AccessPolicy", {"keyVaultId": VAULT_ID, "objectId": APP, "secretPermissions": ["List"]})], {"s1": {"describe"}}),
    ("classic assignment by role name", [vault(True), secret("s1"), rec("azure:authorization/assignment:Assignment", {"roleDefinitionName": "Key Vault Secrets User", "scope": f"{VAULT_ID}/secrets/s1", "principalId": APP})], {"s1": {"read", "describe"}}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "resources", "expected"), EVALUATOR_CASES, ids=[c[0] for c in EVALUATOR_CASES]
)
def test_the_evaluator(case: str, resources: list[Any], expected: dict[str, set[str]]) -> None:
    m = evaluate(view(*resources))
    assert m.complete, m.unknown
    assert grants(m) == expected


def test_custom_roles_are_read_with_wildcards_and_exclusions() -> None:
    definition = rec(
        "azure-native:authorization:RoleDefinition",
        {
            "roleDefinitionId": "44444444-4444-4444-8444-000000000001",
            "permissions": [
                {
                    "dataActions": ["Microsoft.KeyVault/vaults/secrets/*"],
                    "notDataActions": ["Microsoft.KeyVault/vaults/secrets/getSecret/action"],
                }
            ],
        },
        name="custom",
    )
    m = evaluate(
        view(
            vault(True),
            secret("s1"),
            definition,
            assign("44444444-4444-4444-8444-000000000001", VAULT_ID),
        )
    )
    assert grants(m) == {"s1": {"write", "describe", "manage"}}


def test_purge_needs_a_vault_without_purge_protection() -> None:
    policy = [{"objectId": APP, "permissions": {"secrets": ["get", "purge"]}}]
    protected = evaluate(view(vault(False, accessPolicies=policy), secret("s1")))
    assert protected.purge == {}
    open_vault = evaluate(view(vault(False, False, accessPolicies=policy), secret("s1")))
    assert {p: {u.rsplit("::", 1)[-1] for u in urns} for p, urns in open_vault.purge.items()} == {
        APP: {"s1"}
    }


@pytest.mark.parametrize(
    ("resources", "why"),
    [
        ([vault(True), secret("s1"), assign("99999999-9999-4999-8999-000000000001", VAULT_ID)], "not known"),
        ([vault(True), secret("s1"), assign(USER, VAULT_ID, principalId=None)], "unknown principal"),
        ([rec("azure:keyvault/secret:Secret", {"name": "s1", "keyVaultId": UNKNOWN})], "cannot be told"),
    ],
)  # fmt: skip
def test_what_the_evaluator_cannot_read_it_says(resources: list[Any], why: str) -> None:
    m = evaluate(view(*resources))
    assert not m.complete
    assert any(why in u for u in m.unknown), m.unknown


def test_a_managed_identity_is_named_by_its_resource() -> None:
    identity = rec(IDENTITY, {"resourceName": "id"}, name="backtest")
    a = rec(
        "azure-native:authorization:RoleAssignment",
        {"roleDefinitionId": _role(USER), "scope": VAULT_ID},
        name="a",
        property_dependencies={"principalId": (identity.urn,)},
    )
    m = evaluate(view(vault(True), secret("s1"), identity, a))
    assert grants(m, identity.urn) == {"s1": {"read", "describe"}}


@pytest.mark.parametrize(
    ("scope", "level"),
    [
        ("/", "root"),
        ("/providers/Microsoft.Management/managementGroups/mg", "management group"),
        (f"/subscriptions/{SUB}", "subscription"),
        (RG, "resource group"),
        (VAULT_ID, "vault"),
        (f"{VAULT_ID}/secrets/s1", "secret"),
        (f"{VAULT_ID}/keys/k1", "other"),
        (f"{RG}/providers/Microsoft.Storage/storageAccounts/sa", "other"),
    ],
)
def test_scopes(scope: str, level: str) -> None:
    assert parse_scope(scope).level == level


def test_wildcards_are_case_insensitive_and_exclusions_win() -> None:
    assert allowed("Microsoft.KeyVault/vaults/secrets/getSecret/action", ["microsoft.keyvault/*"])
    assert not allowed(
        "Microsoft.KeyVault/vaults/secrets/getSecret/action",
        ["*"],
        ["Microsoft.KeyVault/vaults/secrets/*"],
    )
    assert Permissions(actions=("*",)).escalates
    assert not Permissions(actions=("*/read",)).escalates


def test_the_role_table_pins_microsofts_ids() -> None:
    """The ids of the roles the backend assigns, as Microsoft's built-in role reference lists
    them (the same in every subscription)."""
    names = {guid: role.name for guid, role in BUILT_IN_ROLES.items()}
    officer = names[documents.SECRETS_OFFICER]
    assert names[documents.SECRETS_USER] == "Key Vault Secrets User"  # pragma: allowlist secret
    assert officer == "Key Vault Secrets Officer"  # pragma: allowlist secret
    assert names[documents.KEY_VAULT_READER] == "Key Vault Reader"
    assert names[OWNER] == "Owner" and names[CONTRIBUTOR] == "Contributor"
    assert names["00482a5a-887f-4fb3-b363-3b7fe8e74483"] == "Key Vault Administrator"
    assert names["18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"] == "User Access Administrator"
