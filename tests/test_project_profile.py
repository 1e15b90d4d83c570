"""The project profile: house rules judge this project's stacks, never a foreign estate by default.

The universal rules judge every estate. The house rules (``Profile.PROJECT`` policies, and the
house part of ``Profile.MIXED`` ones) judge a resource only when the profile is on for it: ``auto``
(the default) turns it on for the stacks of this project and off for anyone else's; ``on`` and
``off`` say so for every resource (:mod:`policies.profile`).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from nt_secrets.plan import records as plan_records
from policies.model import ResourceRecord
from policies.pack import ALL
from policies.profile import PROJECT_NAMES, Profile, profile_document, project_of
from policies.runner import run
from tests.plans import planned_stack
from tests.policies.records import rec
from tests.policies.test_pack import CASES

ROOT = Path(__file__).resolve().parent.parent
REAL_STACKS = sorted((ROOT / "tests/fixtures/reference/real-stacks").glob("*.json"))
OWN = next(iter(PROJECT_NAMES))
FOREIGN = "someone-else"
BY_ID = {p.spec.id: p.spec for p in ALL}
HOUSE = sorted(pid for pid, s in BY_ID.items() if s.profile is Profile.PROJECT)
MIXED = sorted(pid for pid, s in BY_ID.items() if s.profile is Profile.MIXED)
PAIRS = [(p.spec.id, p.spec.profile) for p in ALL]


def profile(mode: str) -> dict[str, Any]:
    """The pack config that sets the profile to ``mode`` on every policy it concerns."""
    return profile_document(mode, PAIRS)


def _moved(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace(f"::{OWN}::", f"::{FOREIGN}::")
    if isinstance(value, tuple):
        return tuple(_moved(v) for v in value)
    if isinstance(value, dict):
        return {k: _moved(v) for k, v in value.items()}
    return value


def foreign(records: list[ResourceRecord]) -> list[ResourceRecord]:
    """The same resources in another project's stack (every URN moved to that project)."""
    return [
        dataclasses.replace(
            r,
            urn=_moved(r.urn),
            parent=_moved(r.parent),
            dependencies=_moved(r.dependencies),
            property_dependencies=_moved(dict(r.property_dependencies)),
        )
        for r in records
    ]


def found(records: list[ResourceRecord], policy: str, config: Any = None) -> list[str]:
    return [v.message for v in run(records, config=config).violations if v.policy == policy]


# ---- the decision per policy ----------------------------------------------------------------


def test_project_name_is_the_pulumi_projects() -> None:
    """``auto`` recognises this project's stacks by the name in ``Pulumi.yaml``."""
    name = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["name"]
    assert name in PROJECT_NAMES


@pytest.mark.parametrize("pid", sorted(BY_ID))
def test_every_policy_says_which_rules_it_belongs_to(pid: str) -> None:
    """A house rule says why it is one; a mixed policy says which part is the house's and how
    its profile-dependent tunables differ; a universal policy has no house part."""
    spec = BY_ID[pid]
    assert bool(spec.house) is (spec.profile is not Profile.UNIVERSAL)
    assert bool(spec.profile_defaults) is (spec.profile is Profile.MIXED)
    assert ("projectProfile" in spec.schema) is (spec.profile is not Profile.UNIVERSAL)
    for key in spec.profile_defaults:
        # no schema default: the engine would fill it in whatever the profile
        assert "default" not in spec.schema[key], key


@pytest.mark.parametrize(
    ("urn", "project"),
    [
        (f"urn:pulumi:prod::{OWN}::aws:kms/key:Key::k", OWN),
        (f"urn:pulumi:prod::{OWN}::a:b:C$aws:kms/key:Key::k", OWN),
        ("urn:pulumi:dev::other::aws:kms/key:Key::k", "other"),
        ("not-a-urn", None),
        (None, None),
    ],
)
def test_project_of_a_urn(urn: str | None, project: str | None) -> None:
    assert project_of(urn) == project


# ---- house rules: every case of the pack's table, in this project and in a foreign one -----

HOUSE_CASES = [c for c in CASES if c[1] in HOUSE]


def test_every_house_rule_has_cases() -> None:
    assert {c[1] for c in HOUSE_CASES} == set(HOUSE)


@pytest.mark.parametrize(
    ("case", "policy", "records", "expected"), HOUSE_CASES, ids=[c[0] for c in HOUSE_CASES]
)
def test_house_rules_judge_only_with_the_profile(
    case: str, policy: str, records: list[ResourceRecord], expected: int
) -> None:
    """This project's resources: judged (auto). The same resources in a foreign project: not
    judged by default, judged when the owner opts in; this project opted out: not judged."""
    assert bool(found(records, policy)) is (expected > 0)
    assert found(foreign(records), policy) == []
    assert bool(found(foreign(records), policy, profile("on"))) is (expected > 0)
    assert found(records, policy, profile("off")) == []


# ---- mixed policies: the universal part always, the house part with the profile -------------

VAULT_POLICY = "vault:index/policy:Policy"
APPROLE = "vault:appRole/authBackendRole:AuthBackendRole"
FEDERATED = "azure-native:managedidentity:FederatedIdentityCredential"
GOOD_APPROLE = {"bindSecretId": True, "secretIdNumUses": 1, "secretIdTtl": 600}
CIDRS = {"secretIdBoundCidrs": ["10.0.0.0/16"], "tokenBoundCidrs": ["10.0.0.0/16"]}
GITHUB = "https://token.actions.githubusercontent.com"
EXCHANGE = ["api://AzureADTokenExchange"]


def vault_policy(path: str, capabilities: str = '"read"') -> dict[str, Any]:
    return {"name": "p", "policy": f'path "{path}" {{ capabilities = [{capabilities}] }}'}


#: (case, policy, inputs of one resource, finding with the profile on, finding with it off)
MIXED_CASES: list[tuple[str, str, str, dict[str, Any], bool, bool]] = [
    (
        "vault: the project's layout, one service",
        "vault-policy-least-privilege",
        VAULT_POLICY,
        vault_policy("secret/production/data/orders/*"),
        False,
        False,
    ),
    (
        "vault: a glob over a foreign layout's app (3 literal segments)",
        "vault-policy-least-privilege",
        VAULT_POLICY,
        vault_policy("secret/data/orders/*"),
        True,
        False,
    ),
    (
        "vault: a glob at the root of the namespace",
        "vault-policy-least-privilege",
        VAULT_POLICY,
        vault_policy("*"),
        True,
        True,
    ),
    (
        "vault: sudo",
        "vault-policy-least-privilege",
        VAULT_POLICY,
        vault_policy("sys/raw/x", '"read", "sudo"'),
        True,
        True,
    ),
    (
        "approle: bound secret IDs, no CIDRs",
        "vault-auth-approle-secret-id-bound",
        APPROLE,
        {**GOOD_APPROLE, "tokenTtl": 600, "tokenMaxTtl": 3600},
        True,
        False,
    ),
    (
        "approle: bound secret IDs and CIDRs",
        "vault-auth-approle-secret-id-bound",
        APPROLE,
        {**GOOD_APPROLE, **CIDRS},
        False,
        False,
    ),
    (
        "approle: secret IDs that never expire",
        "vault-auth-approle-secret-id-bound",
        APPROLE,
        {**GOOD_APPROLE, **CIDRS, "secretIdTtl": 0},
        True,
        True,
    ),
    (
        "token TTL of 8 hours, lifetime of a day",
        "vault-auth-role-token-ttl",
        APPROLE,
        {**GOOD_APPROLE, **CIDRS, "tokenTtl": 28800, "tokenMaxTtl": 86400},
        True,
        False,
    ),
    (
        "token TTL of an hour, lifetime of 4 hours",
        "vault-auth-role-token-ttl",
        APPROLE,
        {**GOOD_APPROLE, **CIDRS, "tokenTtl": 3600, "tokenMaxTtl": 14400},
        False,
        False,
    ),
    (
        "token without a TTL",
        "vault-auth-role-token-ttl",
        APPROLE,
        {**GOOD_APPROLE, **CIDRS},
        True,
        True,
    ),
    (
        "federation: one GitHub Actions environment",
        "azure-federated-credential-exact-subject",
        FEDERATED,
        {"subject": "repo:org/app:environment:prod", "issuer": GITHUB, "audiences": EXCHANGE},
        True,
        False,
    ),
    (
        "federation: one Kubernetes service account",
        "azure-federated-credential-exact-subject",
        FEDERATED,
        {
            "subject": "system:serviceaccount:trading:orders",
            "issuer": "https://oidc.example.test/cluster",
            "audiences": EXCHANGE,
        },
        False,
        False,
    ),
    (
        "federation: a wildcard subject",
        "azure-federated-credential-exact-subject",
        FEDERATED,
        {"subject": "repo:org/*", "issuer": GITHUB, "audiences": EXCHANGE},
        True,
        True,
    ),
    (
        "federation: a plain http issuer",
        "azure-federated-credential-exact-subject",
        FEDERATED,
        {
            "subject": "repo:org/app:environment:prod",
            "issuer": "http://issuer.example.test",
            "audiences": EXCHANGE,
        },
        True,
        True,
    ),
]


def test_every_mixed_policy_has_cases() -> None:
    assert {c[1] for c in MIXED_CASES} | {c[1] for c in ROTATOR_CASES} == set(MIXED)


IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
VAULT_ID = "/subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/vaults/v"
#: A managed identity's grant: the house part (rotatorNames ``*-secret-rotation``) lets the
#: project's rotation executor write (access policy ``set``) and manage one secret (a role with
#: update at its scope); universally that identity is any workload. (case, policy, identity
#: name, grant type, grant props, found with the profile, found without)
ROTATOR_CASES: list[tuple[str, str, str, str, dict[str, Any], bool, bool]] = [
    ("rotator: set in an access policy", "azure-keyvault-access-policy-permissions",
     "rotation-secret-rotation", "azure-native:keyvault:AccessPolicy",
     {"policy": {"tenantId": "t", "objectId": "o", "permissions": {"secrets": ["get", "list", "set"]}}},
     False, True),
    ("workload: set in an access policy", "azure-keyvault-access-policy-permissions",
     "workloads-live-trading", "azure-native:keyvault:AccessPolicy",
     {"policy": {"tenantId": "t", "objectId": "o", "permissions": {"secrets": ["get", "set"]}}},
     True, True),
    ("rotator: a managing role on one secret", "azure-rbac-key-vault-assignments",
     "rotation-secret-rotation", "azure-native:authorization:RoleAssignment",
     {"principalId": "o", "principalType": "ServicePrincipal", "scope": f"{VAULT_ID}/secrets/x",
      "roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/b86a8fe4-44ce-4948-aee5-eccb2c155cd7"},
     True, True),
    ("rotator: an update role on one secret", "azure-rbac-key-vault-assignments",
     "rotation-secret-rotation", "azure-native:authorization:RoleAssignment",
     {"principalId": "o", "principalType": "ServicePrincipal", "scope": f"{VAULT_ID}/secrets/x",
      "roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/00000000-0000-4000-8000-0000000000ee"},
     False, True),
    ("rotator: an update role on the vault", "azure-rbac-key-vault-assignments",
     "rotation-secret-rotation", "azure-native:authorization:RoleAssignment",
     {"principalId": "o", "principalType": "ServicePrincipal", "scope": VAULT_ID,
      "roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/00000000-0000-4000-8000-0000000000ee"},
     True, True),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "policy", "identity", "type_", "props", "with_profile", "without"),
    ROTATOR_CASES,
    ids=[c[0] for c in ROTATOR_CASES],
)
def test_a_rotator_writes_only_under_the_house_rule(
    case: str,
    policy: str,
    identity: str,
    type_: str,
    props: dict[str, Any],
    with_profile: bool,
    without: bool,
) -> None:
    """Secrets Officer purges, so even a rotator is refused it; a custom role that writes and
    updates is a rotator's on one secret only, and only where the house rule names it."""
    who = rec(IDENTITY, {}, name=identity)
    key = "policy" if type_.endswith("AccessPolicy") else "principalId"
    role = rec(
        "azure-native:authorization:RoleDefinition",
        {
            "roleDefinitionId": "00000000-0000-4000-8000-0000000000ee",
            "scope": VAULT_ID,
            "permissions": [
                {
                    "actions": [],
                    "dataActions": [
                        "Microsoft.KeyVault/vaults/secrets/getSecret/action",
                        "Microsoft.KeyVault/vaults/secrets/setSecret/action",
                        "Microsoft.KeyVault/vaults/secrets/update/action",
                    ],
                }
            ],
        },
        name="rotation-role",
    )
    deps = {key: (who.urn,)}
    if "roleDefinitions/00000000" in str(props.get("roleDefinitionId")):
        deps["roleDefinitionId"] = (role.urn,)
    own = [who, role, rec(type_, props, property_dependencies=deps)]
    assert bool(found(own, policy)) is with_profile
    assert bool(found(own, policy, profile("off"))) is without


@pytest.mark.parametrize(
    ("case", "policy", "type_", "props", "with_profile", "without"),
    MIXED_CASES,
    ids=[c[0] for c in MIXED_CASES],
)
def test_mixed_policies_judge_their_house_part_only_with_the_profile(
    case: str, policy: str, type_: str, props: dict[str, Any], with_profile: bool, without: bool
) -> None:
    own = [rec(type_, props)]
    assert bool(found(own, policy)) is with_profile
    assert bool(found(foreign(own), policy, profile("on"))) is with_profile
    assert bool(found(foreign(own), policy)) is without
    assert bool(found(own, policy, profile("off"))) is without


def test_a_tunable_set_in_the_config_holds_whatever_the_profile() -> None:
    """A profile-dependent tunable set explicitly is the owner's choice, profile on or off."""
    own = [rec(VAULT_POLICY, vault_policy("secret/data/orders/*"))]
    strict = {"vault-policy-least-privilege": {"minimumLiteralSegments": 4}}
    assert found(foreign(own), "vault-policy-least-privilege", strict)
    lax = {"vault-policy-least-privilege": {"minimumLiteralSegments": 2}}
    assert not found(own, "vault-policy-least-privilege", lax)


# ---- whole estates --------------------------------------------------------------------------


@pytest.mark.parametrize("path", REAL_STACKS, ids=[p.name for p in REAL_STACKS])
def test_real_foreign_estates_are_judged_without_house_rules(path: Path) -> None:
    """Public state files of other projects: no house rule judges them by default, and the
    universal verdicts are the same whether house rules are off or forced off."""
    from nt_secrets.judge import judge_state
    from nt_secrets.state import read_state

    state = read_state(path)
    assert all(project_of(r.urn) not in PROJECT_NAMES for r in state.records())
    default = judge_state(state, jobs=1)
    assert not {v.policy for v in default} & set(HOUSE)
    assert default == judge_state(state, profile("off"), jobs=1)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_projects_stacks_are_clean_with_house_rules(stack: str) -> None:
    """This project's stacks, judged by every rule (the profile forced on, and auto): clean."""
    recs = plan_records(planned_stack(stack, ROOT)[1])
    assert all(project_of(r.urn) in PROJECT_NAMES for r in recs if r.urn)
    for config in (None, profile("on")):
        assert run(recs, config=config).violations == []


def test_the_projects_stack_as_a_foreign_estate_loses_only_house_rule_verdicts() -> None:
    """The prod plan moved to another project with a planted house-rule problem (an unprotected
    production secret): found with the profile on, not by default."""
    recs = plan_records(planned_stack("prod", ROOT)[1])
    secrets = [r for r in recs if r.type == "aws:secretsmanager/secret:Secret"]
    unprotected = dataclasses.replace(secrets[0], protect=False)
    planted = [unprotected if r is secrets[0] else r for r in recs]
    assert found(planted, "aws-protect-production-data")
    assert found(foreign(planted), "aws-protect-production-data") == []
    assert found(foreign(planted), "aws-protect-production-data", profile("on"))


def test_the_profile_document_keeps_other_settings() -> None:
    base = {"aws-iam-read-only-roles": "advisory", "vault-kv-check-and-set": {"x": 1}}
    doc = profile_document("on", PAIRS, base)
    assert doc["aws-iam-read-only-roles"] == {
        "enforcementLevel": "advisory",
        "projectProfile": "on",
    }
    assert doc["vault-kv-check-and-set"] == {"x": 1, "projectProfile": "on"}
    assert "all-no-plaintext-credentials" not in doc  # universal policies take no profile
    json.dumps(doc)
