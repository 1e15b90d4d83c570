"""The role x secret x action matrix the GCP plan grants equals the estate's, for both stacks.

No Secret Manager emulator exists, so what IAM allows is evaluated offline: the pack's evaluator
(``policies/gcp/iam.py``) reads every grant of the plan (secret level and above, every IAM
resource form, service-account impersonation) through its cited table of predefined roles, and
the table below compares, cell by cell, what it finds with what the estate grants (the access
model, less what a revocation takes away). The evaluator itself is pinned by the tests after the
table: each IAM form, each level, conditions, impersonation, what it refuses to guess.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from typing import Any

import pytest

from infra.access import ROLE_NAMES, Action, RoleName
from infra.backends import registry
from infra.backends.gcp import labels
from nt_secrets.plan import records
from policies.contract.vocabulary import TAG_CATALOG_NAME
from policies.gcp.iam import Matrix, condition_covers, evaluate, role_info, secrets_of
from policies.model import UNKNOWN, ResourceRecord

from .test_gcp_plan import GCP_BLOCKS, estate_of, gcp_config, plan, policy_view

ACTIONS = (Action.READ, Action.WRITE, Action.DESCRIBE, Action.MANAGE)
SECRET = "gcp:secretmanager/secret:Secret"  # pragma: allowlist secret


def expected_actions(secret: Any, role: RoleName) -> frozenset[Action]:
    """What the estate lets ``role`` do to ``secret`` in a store: its grants, without reading a
    revoked value (and, for everyone but a manager, without changing it)."""
    actions = secret.grants.get(role, frozenset())
    if secret.revoked:
        actions -= {Action.READ}
        if Action.MANAGE not in actions:
            actions -= {Action.WRITE}
    return frozenset(actions)


@functools.cache
def planned(stack: str, revoked: tuple[str, ...] = ()) -> tuple[Matrix, dict[str, str], Any]:
    """(matrix, secret URN -> catalog name, estate) of one stack planned with GCP enabled."""
    settings: dict[str, Any] = {"revoked": list(revoked)} if revoked else {}
    config = gcp_config(stack, **settings)
    cap = plan(config, stack)
    resources = policy_view(records(cap))
    names = {
        r.urn: labels.decode(TAG_CATALOG_NAME, r.props["labels"][TAG_CATALOG_NAME])
        for r in resources
        if r.type == SECRET
    }
    estate, _ = estate_of(config)
    return evaluate(resources), names, estate


def role_matrix(
    stack: str, revoked: tuple[str, ...] = ()
) -> dict[RoleName, dict[str, set[Action]]]:
    """Role -> catalog name -> actions, read from the plan through the evaluator; a member that
    stands for no role appears under its member string (and fails the comparison)."""
    matrix, names, estate = planned(stack, revoked)
    _, block = estate_of(gcp_config(stack))
    identities = registry()["gcp"].identities(estate, block)
    role_of = {member: role for role, member in identities.items()}
    out: dict[Any, dict[str, set[Action]]] = {}
    for member, grants in matrix.direct.items():
        who = role_of.get(member, member)
        for urn, actions in grants.items():
            out.setdefault(who, {}).setdefault(names[urn], set()).update(actions)
    return out


def cells(stack: str) -> Iterator[tuple[str, RoleName, str, Action]]:
    estate, _ = estate_of(gcp_config(stack))
    for role in ROLE_NAMES:
        for secret in estate.secrets:
            for action in ACTIONS:
                yield stack, role, secret.name, action


TABLE = [c for stack in ("dev", "prod") for c in cells(stack)]


@functools.cache
def granted_cells(stack: str) -> frozenset[tuple[str, str, Action]]:
    """Every (role, catalog name, action) :func:`role_matrix` finds in the plan: read once per
    stack for the table, whose cells only look it up."""
    return frozenset(
        (role, name, action)
        for role, grants in role_matrix(stack).items()
        for name, actions in grants.items()
        for action in actions
    )


@pytest.mark.parametrize(
    ("stack", "role", "name", "action"), TABLE, ids=[f"{s}-{r}-{n}-{a}" for s, r, n, a in TABLE]
)
def test_the_plan_grants_exactly_what_the_estate_grants(
    stack: str, role: RoleName, name: str, action: Action
) -> None:
    matrix, _, estate = planned(stack)
    assert matrix.complete, matrix.unknown
    granted = (role, name, action) in granted_cells(stack)
    expected = action in expected_actions(estate.secret(name), role)
    assert granted is expected, f"{role} {action} {name}: plan {granted}, estate {expected}"


def test_the_table_covers_every_role_secret_and_action_of_both_stacks() -> None:
    sizes = {
        stack: len(ROLE_NAMES) * len(estate_of(gcp_config(stack))[0].secrets) * len(ACTIONS)
        for stack in ("dev", "prod")
    }
    assert sizes == {"dev": 6 * 20 * 4, "prod": 6 * 25 * 4}
    assert len(TABLE) == sum(sizes.values()) == 1080


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_nobody_outside_the_access_model_holds_anything(stack: str) -> None:
    _, _, estate = planned(stack)
    found = role_matrix(stack)
    # The one principal outside the access model: the rotation function's own account, on
    # exactly the secrets GCP is home to and rotates, with exactly the runtime's permissions.
    from infra.backends.gcp.rotation import ROTATOR_PERMISSIONS, short_env
    from policies.gcp.iam import actions as gcp_actions

    env = estate.environment.value
    rotator = found.pop(  # type: ignore[call-overload]
        f"serviceAccount:nt-{short_env(env)}-secret-rotation@neural-trader-{stack}"
        ".iam.gserviceaccount.com"
    )
    assert rotator == {
        s.name: set(gcp_actions(ROTATOR_PERMISSIONS)) for s in estate.held_by("gcp").rotated
    }
    assert set(found) <= set(ROLE_NAMES), sorted(set(found) - set(ROLE_NAMES))
    expected = {
        role: {s.name: set(a) for s in estate.secrets if (a := expected_actions(s, role))}
        for role in ROLE_NAMES
    }
    assert found == {r: g for r, g in expected.items() if g}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_only_the_bound_kubernetes_service_account_acts_as_a_workload(stack: str) -> None:
    matrix, _, _ = planned(stack)
    block = GCP_BLOCKS[stack]
    expected: dict[str, set[str]] = {}
    for workload in block["workloads"].values():
        spec = workload.get("create")
        if spec is None:
            continue
        k8s = spec["kubernetes"]
        ksa = f"serviceAccount:{block['project']}.svc.id.goog[{k8s['namespace']}/{k8s['name']}]"
        email = f"{spec['accountId']}@{block['project']}.iam.gserviceaccount.com"
        expected[ksa] = {f"serviceAccount:{email}"}
    assert matrix.acts_as == expected
    # ...and it reads exactly what its service account reads.
    effective = matrix.effective()
    for ksa, (account,) in ((k, tuple(v)) for k, v in expected.items()):
        assert effective.get(ksa, {}) == matrix.direct.get(account, {})


@pytest.mark.parametrize("revoked", [("ALPACA_API_KEY",), ("ALPACA_API_KEY", "JWT_SECRET")])
def test_a_revocation_takes_the_payload_from_everyone(revoked: tuple[str, ...]) -> None:
    _, _, estate = planned("prod", revoked)
    found = role_matrix("prod", revoked)
    for name in revoked:
        secret = estate.secret(name)
        assert secret.revoked
        for role in ROLE_NAMES:
            assert found.get(role, {}).get(name, set()) == set(expected_actions(secret, role))
            assert Action.READ not in found.get(role, {}).get(name, set())
        assert found["admin"][name] == {Action.WRITE, Action.DESCRIBE, Action.MANAGE}
    untouched = [s for s in estate.secrets if not s.revoked]
    assert all(
        found.get(r, {}).get(s.name, set()) == set(expected_actions(s, r))
        for s in untouched
        for r in ROLE_NAMES
    )


# ---- the evaluator ---------------------------------------------------------------------------------

PROJECT = "neural-trader-prod"
MEMBER = "serviceAccount:reader@neural-trader-prod.iam.gserviceaccount.com"
OTHER = "group:others@neural-trader.io"


def rec(type_: str, props: dict[str, Any], name: str, **kw: Any) -> ResourceRecord:
    return ResourceRecord(
        urn=f"urn:pulumi:t::p::{type_}::{name}",
        type=type_,
        name=name,
        props=props,
        source="fixture",
        **kw,
    )


def secret(name: str) -> ResourceRecord:
    return rec(SECRET, {"project": PROJECT, "secretId": name}, name)


def secret_urn(name: str) -> str:
    return f"urn:pulumi:t::p::{SECRET}::{name}"


TWO_SECRETS = [secret("alpaca-key"), secret("jwt-secret")]


def matrix_of(*extra: ResourceRecord) -> Matrix:
    return evaluate(policy_view([*TWO_SECRETS, *extra]))


def reads(m: Matrix, member: str = MEMBER) -> set[str]:
    return {
        urn.rsplit("::", 1)[-1]
        for urn, acts in m.effective().get(member, {}).items()
        if Action.READ in acts
    }


FORMS = [
    (
        "secret member, id alone",
        rec(
            "gcp:secretmanager/secretIamMember:SecretIamMember",
            {
                "project": PROJECT,
                "secretId": "alpaca-key",
                "role": "roles/secretmanager.secretAccessor",
                "member": MEMBER,
            },
            "m",
        ),
        {"alpaca-key"},
    ),
    (
        "secret member, full name",
        rec(
            "gcp:secretmanager/secretIamMember:SecretIamMember",
            {
                "secretId": f"projects/{PROJECT}/secrets/jwt-secret",
                "role": "roles/secretmanager.secretAccessor",
                "member": MEMBER,
            },
            "m",
        ),
        {"jwt-secret"},
    ),
    (
        "secret binding",
        rec(
            "gcp:secretmanager/secretIamBinding:SecretIamBinding",
            {
                "project": PROJECT,
                "secretId": f"{PROJECT}/alpaca-key",
                "role": "roles/secretmanager.admin",
                "members": [OTHER, MEMBER],
            },
            "b",
        ),
        {"alpaca-key"},
    ),
    (
        "secret policy",
        rec(
            "gcp:secretmanager/secretIamPolicy:SecretIamPolicy",
            {
                "project": PROJECT,
                "secretId": "jwt-secret",
                "policyData": json.dumps(
                    {
                        "bindings": [
                            {"role": "roles/secretmanager.secretAccessor", "members": [MEMBER]}
                        ]
                    }
                ),
            },
            "p",
        ),
        {"jwt-secret"},
    ),
    (
        "secret member found by its parent (id unknown at preview)",
        rec(
            "gcp:secretmanager/secretIamMember:SecretIamMember",
            {"secretId": UNKNOWN, "role": "roles/secretmanager.secretAccessor", "member": MEMBER},
            "m",
            parent=secret_urn("alpaca-key"),
        ),
        {"alpaca-key"},
    ),
    (
        "project member",
        rec(
            "gcp:projects/iAMMember:IAMMember",
            {"project": PROJECT, "role": "roles/secretmanager.secretAccessor", "member": MEMBER},
            "pm",
        ),
        {"alpaca-key", "jwt-secret"},
    ),
    (
        "project member of another project",
        rec(
            "gcp:projects/iAMMember:IAMMember",
            {
                "project": "elsewhere",
                "role": "roles/secretmanager.secretAccessor",
                "member": MEMBER,
            },
            "pm",
        ),
        set(),
    ),
    (
        "project binding narrowed by a condition on the secret's name",
        rec(
            "gcp:projects/iAMBinding:IAMBinding",
            {
                "project": PROJECT,
                "role": "roles/secretmanager.secretAccessor",
                "members": [MEMBER],
                "condition": {
                    "title": "one secret",
                    "expression": 'resource.name == "projects/123456/secrets/jwt-secret"',
                },
            },
            "pb",
        ),
        {"jwt-secret"},
    ),
    (
        "project binding with a condition that does not narrow (time)",
        rec(
            "gcp:projects/iAMBinding:IAMBinding",
            {
                "project": PROJECT,
                "role": "roles/secretmanager.secretAccessor",
                "members": [MEMBER],
                "condition": {
                    "title": "t",
                    "expression": 'request.time < timestamp("2030-01-01T00:00:00Z")',
                },
            },
            "pb",
        ),
        {"alpaca-key", "jwt-secret"},
    ),
    (
        "project policy",
        rec(
            "gcp:projects/iAMPolicy:IAMPolicy",
            {
                "project": PROJECT,
                "policyData": json.dumps(
                    {"bindings": [{"role": "roles/editor", "members": [MEMBER]}]}
                ),
            },
            "pp",
        ),
        {"alpaca-key", "jwt-secret"},
    ),
    (
        "folder member",
        rec(
            "gcp:folder/iAMMember:IAMMember",
            {"folder": "folders/1", "role": "roles/owner", "member": MEMBER},
            "f",
        ),
        {"alpaca-key", "jwt-secret"},
    ),
    (
        "organisation binding of an impersonation role",
        rec(
            "gcp:organizations/iAMBinding:IAMBinding",
            {"orgId": "1", "role": "roles/iam.serviceAccountTokenCreator", "members": [MEMBER]},
            "o",
        ),
        {"alpaca-key", "jwt-secret"},
    ),
    (
        "project viewer reads metadata only",
        rec(
            "gcp:projects/iAMMember:IAMMember",
            {"project": PROJECT, "role": "roles/viewer", "member": MEMBER},
            "v",
        ),
        set(),
    ),
    (
        "a key's grant reaches no secret",
        rec(
            "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember",
            {
                "cryptoKeyId": "k",
                "role": "roles/cloudkms.cryptoKeyEncrypterDecrypter",
                "member": MEMBER,
            },
            "k",
        ),
        set(),
    ),
]


@pytest.mark.parametrize(("case", "grant", "readable"), FORMS, ids=[f[0] for f in FORMS])
def test_every_form_and_level_of_grant_is_read(
    case: str, grant: ResourceRecord, readable: set[str]
) -> None:
    m = matrix_of(grant)
    assert m.complete, m.unknown
    assert reads(m) == readable


def test_impersonation_gives_the_impersonated_accounts_reads() -> None:
    reader = rec(
        "gcp:secretmanager/secretIamMember:SecretIamMember",
        {
            "project": PROJECT,
            "secretId": "alpaca-key",
            "role": "roles/secretmanager.secretAccessor",
            "member": MEMBER,
        },
        "m",
    )
    impersonation = rec(
        "gcp:serviceaccount/iAMMember:IAMMember",
        {
            "serviceAccountId": f"projects/{PROJECT}/serviceAccounts/{MEMBER.split(':', 1)[1]}",
            "role": "roles/iam.serviceAccountTokenCreator",
            "member": OTHER,
        },
        "sa",
    )
    m = matrix_of(reader, impersonation)
    assert m.acts_as == {OTHER: {MEMBER}}
    assert reads(m, OTHER) == {"alpaca-key"}
    # A role on the account that does not impersonate gives nothing.
    viewer = rec(
        "gcp:serviceaccount/iAMMember:IAMMember",
        {
            "serviceAccountId": MEMBER.split(":", 1)[1],
            "role": "roles/iam.serviceAccountOpenIdTokenCreator",
            "member": OTHER,
        },
        "sa",
    )
    assert reads(matrix_of(reader, viewer), OTHER) == set()


@pytest.mark.parametrize(
    ("grant", "unknown"),
    [
        (
            rec(
                "gcp:secretmanager/secretIamMember:SecretIamMember",
                {
                    "project": PROJECT,
                    "secretId": "alpaca-key",
                    "role": "projects/p/roles/custom",
                    "member": MEMBER,
                },
                "c",
            ),
            "not a role the evaluator knows",
        ),
        (
            rec(
                "gcp:projects/iAMMember:IAMMember",
                {"project": PROJECT, "role": "roles/secretmanager.newRole", "member": MEMBER},
                "n",
            ),
            "not a role the evaluator knows",
        ),
        (
            rec(
                "gcp:secretmanager/secretIamMember:SecretIamMember",
                {
                    "project": PROJECT,
                    "secretId": "elsewhere",
                    "role": "roles/secretmanager.secretAccessor",
                    "member": MEMBER,
                },
                "e",
            ),
            "names a secret this stack does not hold",
        ),
        (
            rec(
                "gcp:secretmanager/secretIamMember:SecretIamMember",
                {
                    "project": PROJECT,
                    "secretId": "alpaca-key",
                    "role": "roles/secretmanager.secretAccessor",
                    "member": UNKNOWN,
                },
                "u",
            ),
            "not known",
        ),
        (
            rec(
                "gcp:projects/iAMPolicy:IAMPolicy", {"project": PROJECT, "policyData": UNKNOWN}, "p"
            ),
            "not known",
        ),
    ],
)
def test_what_the_evaluator_cannot_judge_it_says(grant: ResourceRecord, unknown: str) -> None:
    m = matrix_of(grant)
    assert not m.complete
    assert any(unknown in u for u in m.unknown), m.unknown


def test_a_role_of_another_service_reaches_no_secret() -> None:
    info = role_info("roles/storage.objectViewer")
    assert info is not None and not info.permissions and not info.impersonates
    assert role_info("projects/p/roles/custom") is None
    assert role_info("roles/iam.somethingNew") is None


@pytest.mark.parametrize(
    ("expression", "covers"),
    [
        (None, True),
        ('resource.name == "projects/1/secrets/jwt-secret"', True),
        ('resource.name == "projects/1/secrets/alpaca-key"', False),
        ('resource.name.startsWith("projects/1/secrets/jwt")', True),
        ('resource.name.startsWith("projects/1/secrets/alpaca")', False),
        ('resource.name.startsWith("projects/1/")', True),
        ('resource.name == "projects/1/secrets/jwt-secret/versions/3"', True),
        ('resource.name == "projects/1/secrets/jwt-secret-2/versions/3"', False),
        ('resource.name.startsWith("projects/1/secrets/jwt-secret/versions/")', True),
        ('resource.name.startsWith("projects/1/secrets/jwt-secret-old/")', False),
        ('resource.name == "projects/1/secrets/alpaca-key" || true', True),
        ('request.time < timestamp("2030-01-01T00:00:00Z")', True),
        (
            'resource.name.startsWith("projects/1/secrets/jwt") && '
            'request.time < timestamp("2030-01-01T00:00:00Z")',
            True,
        ),
    ],
)
def test_conditions_narrow_only_by_the_secrets_name(expression: str | None, covers: bool) -> None:
    (jwt,) = [s for s in secrets_of(policy_view(TWO_SECRETS)) if s.secret_id == "jwt-secret"]
    assert condition_covers(expression, jwt) is covers
