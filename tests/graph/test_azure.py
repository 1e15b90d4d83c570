"""The Azure grapher: who can read each Key Vault secret, one rule per case, both ways.

Every case is a small estate with a principal that reads (or, for an escalation, can read after
one step it is allowed to take) and a look-alike that cannot: the inactive authorization model,
a metadata-only role, a ``notDataActions`` exclusion, another scope, a disabled secret, a
Contributor on an RBAC vault.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from policies.contract.access import Action
from policies.framework import resources_of
from policies.graph import Graph, build
from policies.model import UNKNOWN, ResourceRecord
from tests.plans import policy_view
from tests.policies.records import rec

SUB = "00000000-0000-4000-8000-000000000009"
RG = f"/subscriptions/{SUB}/resourceGroups/rg"
VAULT_ID = f"{RG}/providers/Microsoft.KeyVault/vaults/kv"
VAULT = "azure-native:keyvault:Vault"
SECRET = "azure-native:keyvault:Secret"  # pragma: allowlist secret
ACCESS_POLICY = "azure-native:keyvault:AccessPolicy"
ASSIGNMENT = "azure-native:authorization:RoleAssignment"
DEFINITION = "azure-native:authorization:RoleDefinition"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"

ME = "33333333-3333-4333-8333-000000000001"
TWIN = "33333333-3333-4333-8333-000000000002"

USER = "4633458b-17de-408a-b874-0445c86b69e6"  # Key Vault Secrets User
OFFICER = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"  # Key Vault Secrets Officer
KV_READER = "21090545-7ca7-4776-b22c-e363652d74d2"  # Key Vault Reader
KV_CONTRIBUTOR = "f25e0fa2-a7c8-4377-a976-54943a77a395"  # Key Vault Contributor
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
UAA = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"  # User Access Administrator
CRYPTO_USER = "12338af0-0e69-4776-bea7-57ae8d297424"


def vault(rbac: bool | str | None, **extra: Any) -> ResourceRecord:
    props: dict[str, Any] = {"enablePurgeProtection": True, **extra}
    if rbac is not None:
        props["enableRbacAuthorization"] = rbac
    return rec(VAULT, {"vaultName": "kv", "resourceGroupName": "rg", "properties": props}, "kv")


def secret(name: str, enabled: bool = True) -> ResourceRecord:
    return rec(
        SECRET,
        {
            "vaultName": "kv",
            "resourceGroupName": "rg",
            "secretName": name,
            "properties": {"attributes": {"enabled": enabled}},
            "tags": {"catalog-name": name.upper()},
        },
        name,
    )


def assign(role: str, scope: str, principal: str = ME, **extra: Any) -> ResourceRecord:
    role_id = f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{role}"
    props = {"roleDefinitionId": role_id, "scope": scope, "principalId": principal, **extra}
    return rec(ASSIGNMENT, props, f"a-{role[:8]}-{principal[-2:]}-{abs(hash(scope)) % 10000}")


def policy(principal: str, *perms: str) -> dict[str, Any]:
    return {"objectId": principal, "tenantId": SUB, "permissions": {"secrets": list(perms)}}


def graph_of(*records: ResourceRecord) -> Graph:
    return build(policy_view(list(records)))


def urn(name: str) -> str:
    return f"urn:pulumi:t::neural-trader-secrets::{SECRET}::{name}"


def readers(g: Graph, name: str) -> dict[str, bool]:
    """principal -> escalation, for every principal that can read the secret."""
    out: dict[str, bool] = {}
    for a in g.access(urn(name)):
        if Action.READ in a.actions:
            out[a.principal] = out.get(a.principal, True) and a.escalation
    return out


def actions_of(g: Graph, name: str, principal: str, escalation: bool = False) -> set[str]:
    return {
        x.value
        for a in g.access(urn(name))
        if a.principal == principal and a.escalation is escalation
        for x in a.actions
    }


S1, S2 = secret("s1"), secret("s2")
MG = "/providers/Microsoft.Management/managementGroups/mg"

#: (case, resources, readers of s1 {principal: escalation}, readers of s2)
CASES: list[tuple[str, list[ResourceRecord], dict[str, bool], dict[str, bool]]] = [
    ("RBAC: secrets user on one secret; the other secret's user reads only that one",
     [vault(True), S1, S2, assign(USER, f"{VAULT_ID}/secrets/s1"), assign(USER, f"{VAULT_ID}/secrets/s2", TWIN)],
     {ME: False}, {TWIN: False}),
    ("RBAC: the vault scope reaches every secret in it",
     [vault(True), S1, S2, assign(USER, VAULT_ID)], {ME: False}, {ME: False}),
    ("RBAC: the resource group is inherited, another resource group is not",
     [vault(True), S1, S2, assign(USER, RG), assign(USER, f"/subscriptions/{SUB}/resourceGroups/other", TWIN)],
     {ME: False}, {ME: False}),
    ("RBAC: subscription and management group are inherited",
     [vault(True), S1, S2, assign(USER, f"/subscriptions/{SUB}"), assign(OFFICER, MG, TWIN)],
     {ME: False, TWIN: False}, {ME: False, TWIN: False}),
    ("RBAC: Key Vault Reader describes only; a crypto user reaches no secret",
     [vault(True), S1, S2, assign(KV_READER, VAULT_ID), assign(CRYPTO_USER, VAULT_ID, TWIN)], {}, {}),
    ("RBAC: access policies are ignored (the inactive model)",
     [vault(True, accessPolicies=[policy(ME, "get", "list")]), S1, S2], {}, {}),
    ("access policies: an inline entry reads every secret of the vault",
     [vault(False, accessPolicies=[policy(ME, "Get"), policy(TWIN, "List")]), S1, S2],
     {ME: False}, {ME: False}),
    ("access policies: a stand-alone AccessPolicy resource reads",
     [vault(False), S1, rec(ACCESS_POLICY, {"vaultName": "kv", "resourceGroupName": "rg", "policy": policy(ME, "get", "set")}, "ap")],
     {ME: False}, {}),
    ("access policies: role assignments grant no data (the inactive model)",
     [vault(False), S1, S2, assign(USER, VAULT_ID), assign(OFFICER, f"{VAULT_ID}/secrets/s1", TWIN)], {}, {}),
    ("absent enableRbacAuthorization means access policies",
     [vault(None, accessPolicies=[policy(ME, "get")]), S1, S2, assign(USER, VAULT_ID, TWIN)],
     {ME: False}, {ME: False}),
    ("a disabled secret is read by nobody, escalation or not",
     [vault(True), secret("s1", enabled=False), S2, assign(OFFICER, VAULT_ID), assign(OWNER, RG, TWIN)],
     {}, {ME: False, TWIN: True}),
    ("escalation: Owner and User Access Administrator assign themselves a data role on an RBAC vault",
     [vault(True), S1, S2, assign(OWNER, RG), assign(UAA, f"{VAULT_ID}/secrets/s2", TWIN)],
     {ME: True}, {ME: True, TWIN: True}),
    ("escalation: Contributor and Key Vault Contributor cannot on an RBAC vault",
     [vault(True), S1, S2, assign(CONTRIBUTOR, RG), assign(KV_CONTRIBUTOR, VAULT_ID, TWIN)], {}, {}),
    ("escalation: Contributor and Key Vault Contributor write themselves an access policy",
     [vault(False), S1, S2, assign(CONTRIBUTOR, RG), assign(KV_CONTRIBUTOR, VAULT_ID, TWIN)],
     {ME: True, TWIN: True}, {ME: True, TWIN: True}),
    ("escalation: a Reader of an access-policy vault describes, nothing more",
     [vault(False), S1, assign(READER, RG)], {}, {}),
]  # fmt: skip


@pytest.mark.parametrize(("case", "resources", "s1", "s2"), CASES, ids=[c[0] for c in CASES])
def test_readers(
    case: str, resources: list[ResourceRecord], s1: dict[str, bool], s2: dict[str, bool]
) -> None:
    g = graph_of(*resources)
    assert g.complete, g.gaps
    assert readers(g, "s1") == s1
    assert readers(g, "s2") == s2


@pytest.mark.parametrize(
    ("resources", "principal", "escalation", "expected"),
    [
        ([vault(True), S1, assign(KV_READER, VAULT_ID)], ME, False, {"describe"}),
        ([vault(True), S1, assign(OFFICER, VAULT_ID)], ME, False, {"read", "write", "manage", "describe"}),
        ([vault(False, accessPolicies=[policy(ME, "set")]), S1], ME, False, {"write"}),
        ([vault(False, accessPolicies=[policy(ME, "delete", "recover")]), S1], ME, False, {"manage"}),
        ([vault(False), S1, assign(READER, RG)], ME, False, {"describe"}),
        ([vault(False), S1, assign(READER, RG)], ME, True, set()),
        ([vault(True), secret("s1", enabled=False), assign(OFFICER, VAULT_ID)], ME, False, {"write", "manage", "describe"}),
        ([vault(True), S1, assign(OWNER, RG)], ME, False, {"describe"}),
        ([vault(True), S1, assign(OWNER, RG)], ME, True, {"read", "write", "manage"}),
    ],
)  # fmt: skip
def test_actions_other_than_read_are_told_apart(
    resources: list[ResourceRecord], principal: str, escalation: bool, expected: set[str]
) -> None:
    assert actions_of(graph_of(*resources), "s1", principal, escalation) == expected


def test_custom_roles_subtract_their_not_data_actions() -> None:
    guid = "44444444-4444-4444-8444-000000000001"
    definition = rec(
        DEFINITION,
        {
            "roleDefinitionId": guid,
            "roleName": "Secret writer",
            "permissions": [
                {
                    "dataActions": ["Microsoft.KeyVault/vaults/secrets/*"],
                    "notDataActions": ["Microsoft.KeyVault/vaults/secrets/getSecret/action"],
                }
            ],
        },
        "custom",
    )
    g = graph_of(vault(True), S1, definition, assign(guid, VAULT_ID))
    assert readers(g, "s1") == {}
    assert actions_of(g, "s1", ME) == {"write", "manage", "describe"}
    [entry] = g.access(urn("s1"))
    assert "role Secret writer" in entry.to_json()["via"]


def test_paths_name_each_hop() -> None:
    g = graph_of(
        vault(False, accessPolicies=[policy(ME, "get")]), S1, assign(CONTRIBUTOR, RG, TWIN)
    )
    via = {a.principal: a.to_json()["via"] for a in g.access(urn("s1"))}
    assert via[ME] == [
        "access policy kv properties.accessPolicies[0]",
        "secret permissions get",
        "access-policy vault kv",
    ]
    assert via[TWIN][1:] == [
        "role Contributor",
        f"scope {RG}",
        "access-policy vault kv",
        "permission Microsoft.KeyVault/vaults/write",
        "writes itself an access policy",
    ]


def test_a_managed_identity_is_named_by_its_object_id_or_by_its_resource() -> None:
    identity = rec(IDENTITY, {"resourceName": "id-live", "tags": {"role": "live-trading"}}, "live")
    grant = rec(
        ASSIGNMENT,
        {"roleDefinitionId": USER, "scope": VAULT_ID},
        "a",
        property_dependencies={"principalId": (identity.urn,)},
    )
    # At preview the object id is an output not known yet.
    g = graph_of(vault(True), S1, identity, grant)
    assert readers(g, "s1") == {"UserAssignedIdentity live": False}
    who = g.identities["UserAssignedIdentity live"]
    assert (who.store, who.kind, who.urn, dict(who.labels)) == (
        "azure",
        "managed identity",
        identity.urn,
        {"role": "live-trading"},
    )
    # In a state its principalId output names it.
    known = dataclasses.replace(identity, outputs={"principalId": ME}, source="state")
    state = [dataclasses.replace(r, outputs={}, source="state") for r in (vault(True), S1, grant)]
    g = build(resources_of([*state, known]))
    assert readers(g, "s1") == {ME: False}
    assert g.identities[ME].urn == identity.urn


def test_the_secret_node() -> None:
    revoked = rec(
        SECRET,
        {
            "vaultName": "kv",
            "resourceGroupName": "rg",
            "secretName": "Jwt-Secret",
            "properties": {"attributes": {"enabled": False}},
            "tags": {"catalog-name": "JWT_SECRET", "revoked": "true"},
        },
        "jwt",
    )
    g = graph_of(vault(True), revoked)
    node = g.secrets[urn("jwt")]
    assert (node.store, node.address, node.catalog_name, node.revoked) == (
        "azure",
        "https://kv.vault.azure.net/secrets/Jwt-Secret",
        "JWT_SECRET",
        True,
    )


def test_the_classic_provider_is_read_too() -> None:
    classic = [
        rec("azure:keyvault/keyVault:KeyVault", {"name": "kv", "resourceGroupName": "rg"}, "kv"),
        rec("azure:keyvault/secret:Secret", {"name": "s1", "keyVaultId": VAULT_ID}, "s1"),
        rec(
            "azure:keyvault/accessPolicy:AccessPolicy",
            {"keyVaultId": VAULT_ID, "objectId": ME, "secretPermissions": ["Get"]},
            "ap",
        ),
    ]
    g = graph_of(*classic)
    classic_urn = "urn:pulumi:t::neural-trader-secrets::azure:keyvault/secret:Secret::s1"
    assert g.holders(classic_urn) == {ME}


@pytest.mark.parametrize(
    ("resources", "why"),
    [
        ([vault(UNKNOWN, accessPolicies=[policy(ME, "get")]), S1], "authorization model unknown"),
        ([vault(UNKNOWN), S1, assign(USER, VAULT_ID)], "is not known"),
        ([vault(True), S1, assign("99999999-9999-4999-8999-000000000001", VAULT_ID)], "not known"),
        ([vault(True), S1, assign(USER, VAULT_ID, principalId=None)], "unknown principal"),
    ],
)  # fmt: skip
def test_what_the_graph_cannot_judge_is_a_gap_never_a_guess(
    resources: list[ResourceRecord], why: str
) -> None:
    g = graph_of(*resources)
    assert not g.complete
    assert any(why in reason for _, reason in g.gaps), g.gaps
    assert readers(g, "s1") == {}
