"""The GCP grapher: who can read each Secret Manager secret, one rule per case, both ways.

Every case is a small estate with a principal that reads (or, for an escalation, can read after
one step it is allowed to take) and a look-alike that cannot. The graph is built through
``policies.graph.build`` with every registered grapher, as ``nt-secrets access`` builds it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from policies.contract.access import Action
from policies.graph import Graph, build
from policies.model import UNKNOWN, ResourceRecord
from tests.plans import policy_view
from tests.policies.records import rec

P = "neural-trader-prod"
Q = "elsewhere-prod"
SECRET = "gcp:secretmanager/secret:Secret"  # pragma: allowlist secret
REGIONAL = "gcp:secretmanager/regionalSecret:RegionalSecret"  # pragma: allowlist secret
SECRET_MEMBER = "gcp:secretmanager/secretIamMember:SecretIamMember"  # pragma: allowlist secret
SECRET_BINDING = "gcp:secretmanager/secretIamBinding:SecretIamBinding"  # pragma: allowlist secret
SECRET_POLICY = "gcp:secretmanager/secretIamPolicy:SecretIamPolicy"  # pragma: allowlist secret
PROJECT_MEMBER = "gcp:projects/iAMMember:IAMMember"
PROJECT_BINDING = "gcp:projects/iAMBinding:IAMBinding"
PROJECT_POLICY = "gcp:projects/iAMPolicy:IAMPolicy"
FOLDER_MEMBER = "gcp:folder/iAMMember:IAMMember"
ORG_BINDING = "gcp:organizations/iAMBinding:IAMBinding"
SA_MEMBER = "gcp:serviceaccount/iAMMember:IAMMember"
CUSTOM_ROLE = "gcp:projects/iAMCustomRole:IAMCustomRole"
KEY_MEMBER = "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"
ACCOUNT = "gcp:serviceaccount/account:Account"

SIG = "4dabf18193072939515e22adb298388d"  # pragma: allowlist secret
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"  # pragma: allowlist secret
ME = "user:alice@neural-trader.io"
TWIN = "user:mallory@neural-trader.io"
READER_SA = f"serviceAccount:reader@{P}.iam.gserviceaccount.com"
HOP_SA = f"serviceAccount:hop@{P}.iam.gserviceaccount.com"
OTHER_SA = f"serviceAccount:reader@{Q}.iam.gserviceaccount.com"
ACCESSOR = "roles/secretmanager.secretAccessor"
KEY = f"projects/{P}/locations/us-east1/keyRings/r/cryptoKeys/k"


def secret(name: str, project: str = P, **extra: Any) -> ResourceRecord:
    props = {"project": project, "secretId": name, "labels": {"catalog-name": name}, **extra}
    return rec(SECRET, props, name)


def on_secret(sid: str, role: str, member: str, name: str, **extra: Any) -> ResourceRecord:
    props = {"project": P, "secretId": sid, "role": role, "member": member, **extra}
    return rec(SECRET_MEMBER, props, name)


def on_project(role: str, member: str, name: str, project: Any = P, **extra: Any) -> ResourceRecord:
    return rec(PROJECT_MEMBER, {"project": project, "role": role, "member": member, **extra}, name)


def on_account(account: str, role: str, member: str, name: str, **extra: Any) -> ResourceRecord:
    email = account.split(":", 1)[1]
    props = {
        "serviceAccountId": f"projects/{P}/serviceAccounts/{email}",
        "role": role,
        "member": member,
        **extra,
    }
    return rec(SA_MEMBER, props, name)


def custom(role_id: str, *permissions: str) -> ResourceRecord:
    props = {"project": P, "roleId": role_id, "title": role_id, "permissions": list(permissions)}
    return rec(CUSTOM_ROLE, props, role_id)


def when(expression: str) -> dict[str, Any]:
    return {"condition": {"title": "c", "expression": expression}}


def env(value: Any) -> dict[str, Any]:
    """A Pulumi secret envelope around ``value`` (the engine's and the SDK's form)."""
    return {SIG: SECRET_SIG, "value": value}


def graph_of(*records: ResourceRecord) -> Graph:
    return build(policy_view([secret("s1"), secret("s2"), *records]))


def urn(name: str, type_: str = SECRET) -> str:
    return f"urn:pulumi:t::neural-trader-secrets::{type_}::{name}"


def readers(g: Graph, name: str, type_: str = SECRET) -> dict[str, bool]:
    """principal -> escalation, for every principal that can read the secret."""
    out: dict[str, bool] = {}
    for a in g.access(urn(name, type_)):
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


SA_READS_S1 = on_secret("s1", ACCESSOR, READER_SA, "sa-reads")

#: (case, extra resources, readers of s1 {principal: escalation}, readers of s2)
CASES: list[tuple[str, list[ResourceRecord], dict[str, bool], dict[str, bool]]] = [
    (
        "secret member by id; a member of the other secret reads only that one",
        [on_secret("s1", ACCESSOR, ME, "m"), on_secret("s2", ACCESSOR, TWIN, "t")],
        {ME: False},
        {TWIN: False},
    ),
    (
        "secret member by full name and by project/id",
        [
            on_secret(f"projects/{P}/secrets/s1", ACCESSOR, ME, "m"),
            on_secret(f"{P}/s2", ACCESSOR, TWIN, "t"),
        ],
        {ME: False},
        {TWIN: False},
    ),
    (
        "secret binding; a metadata-only role beside it reads nothing",
        [
            rec(
                SECRET_BINDING,
                {"project": P, "secretId": "s1", "role": ACCESSOR, "members": [ME, READER_SA]},  # pragma: allowlist secret
                "b",
            ),
            on_secret("s1", "roles/secretmanager.viewer", TWIN, "t"),
        ],
        {ME: False, READER_SA: False},
        {},
    ),
    (
        "secret policy document; a version adder writes but does not read",
        [
            rec(
                SECRET_POLICY,
                {
                    "project": P,
                    "secretId": "s1",  # pragma: allowlist secret
                    "policyData": json.dumps(
                        {
                            "bindings": [
                                {"role": ACCESSOR, "members": [ME]},
                                {"role": "roles/secretmanager.secretVersionAdder", "members": [TWIN]},
                            ]
                        }
                    ),
                },
                "p",
            )
        ],
        {ME: False},
        {},
    ),
    (
        "project level reaches every secret of its project, not another project's grant",
        [on_project(ACCESSOR, ME, "pm"), on_project(ACCESSOR, TWIN, "q", project=Q)],
        {ME: False},
        {ME: False},
    ),
    (
        "project binding and project policy forms",
        [
            rec(PROJECT_BINDING, {"project": P, "role": ACCESSOR, "members": [ME]}, "pb"),
            rec(
                PROJECT_POLICY,
                {
                    "project": P,
                    "policyData": json.dumps({"bindings": [{"role": "roles/owner", "members": [TWIN]}]}),
                },
                "pp",
            ),
        ],
        {ME: False, TWIN: False},
        {ME: False, TWIN: False},
    ),
    (
        "folder and organisation level are inherited by every secret",
        [
            rec(FOLDER_MEMBER, {"folder": "folders/1", "role": ACCESSOR, "member": ME}, "f"),
            rec(ORG_BINDING, {"orgId": "1", "role": "roles/secretmanager.admin", "members": [TWIN]}, "o"),
        ],
        {ME: False, TWIN: False},
        {ME: False, TWIN: False},
    ),
    (
        "a condition on the secret's name prefix narrows a project grant to that secret",
        [
            on_project(ACCESSOR, ME, "pm", **when(f'resource.name.startsWith("projects/{P}/secrets/s1")')),
            on_project(ACCESSOR, TWIN, "t", **when('resource.name == "projects/123/secrets/s2"')),
        ],
        {ME: False},
        {TWIN: False},
    ),
    (
        "a closed request.time window grants nothing; an open one does",
        [
            on_project(ACCESSOR, ME, "open", **when('request.time < timestamp("2099-01-01T00:00:00Z")')),
            on_project(ACCESSOR, TWIN, "closed", **when('request.time < timestamp("2020-01-01T00:00:00Z")')),
        ],
        {ME: False},
        {ME: False},
    ),
    (
        "a resource.type condition for another type keeps a grant from secrets",
        [
            on_project(ACCESSOR, ME, "secret-type", **when('resource.type == "secretmanager.googleapis.com/Secret"')),
            on_project(ACCESSOR, TWIN, "sa-type", **when('resource.type == "iam.googleapis.com/ServiceAccount"')),
        ],
        {ME: False},
        {ME: False},
    ),
    (
        "a custom role reads with versions.access; one with metadata permissions does not",
        [
            custom("reader", "secretmanager.versions.access"),
            custom("peeker", "secretmanager.secrets.get", "secretmanager.versions.list"),
            on_secret("s1", f"projects/{P}/roles/reader", ME, "m"),
            on_secret("s1", f"projects/{P}/roles/peeker", TWIN, "t"),
        ],
        {ME: False},
        {},
    ),
    (
        "CMEK: a reader needs no grant on the key; the key's grant alone reads nothing",
        [
            secret(
                "s3",
                replication={
                    "userManaged": {
                        "replicas": [
                            {"location": "us-east1", "customerManagedEncryption": {"kmsKeyName": KEY}}
                        ]
                    }
                },
            ),
            on_secret("s3", ACCESSOR, ME, "m"),
            rec(
                KEY_MEMBER,
                {"cryptoKeyId": KEY, "role": "roles/cloudkms.cryptoKeyEncrypterDecrypter", "member": TWIN},
                "k",
            ),
        ],
        {},
        {},
    ),
    (
        "impersonation: a token creator on a reading account reads by escalation; an OpenID token "
        "creator does not",
        [
            SA_READS_S1,
            on_account(READER_SA, "roles/iam.serviceAccountTokenCreator", ME, "tc"),
            on_account(READER_SA, "roles/iam.serviceAccountOpenIdTokenCreator", TWIN, "oidc"),
        ],
        {READER_SA: False, ME: True},
        {},
    ),
    (
        "impersonation: service account user and workload identity user act as the account",
        [
            SA_READS_S1,
            on_account(READER_SA, "roles/iam.serviceAccountUser", ME, "user"),
            on_account(
                READER_SA,
                "roles/iam.workloadIdentityUser",
                f"serviceAccount:{P}.svc.id.goog[ns/ksa]",
                "wi",
            ),
        ],
        {READER_SA: False, ME: True, f"serviceAccount:{P}.svc.id.goog[ns/ksa]": True},
        {},
    ),
    (
        "impersonation chains are followed to the account that reads",
        [
            SA_READS_S1,
            on_account(HOP_SA, "roles/iam.serviceAccountTokenCreator", ME, "first"),
            on_account(READER_SA, "roles/iam.serviceAccountTokenCreator", HOP_SA, "second"),
        ],
        {READER_SA: False, HOP_SA: True, ME: True},
        {},
    ),
    (
        "a project-level token creator acts as the project's accounts, not another project's",
        [
            SA_READS_S1,
            on_secret("s2", ACCESSOR, OTHER_SA, "other-reads"),
            on_project("roles/iam.serviceAccountTokenCreator", ME, "ptc"),
        ],
        {READER_SA: False, ME: True},
        {OTHER_SA: False},
    ),
    (
        "an impersonation grant whose condition excludes service accounts acts as none",
        [
            SA_READS_S1,
            on_account(
                READER_SA,
                "roles/iam.serviceAccountTokenCreator",
                TWIN,
                "tc",
                **when('resource.type == "secretmanager.googleapis.com/Secret"'),
            ),
        ],
        {READER_SA: False},
        {},
    ),
    (
        "secretmanager.secrets.setIamPolicy on the secret grants itself read; on the other "
        "secret, only that one",
        [
            custom("granter", "secretmanager.secrets.setIamPolicy"),
            on_secret("s1", f"projects/{P}/roles/granter", ME, "g"),
        ],
        {ME: True},
        {},
    ),
    (
        "a project IAM admin grants itself any role; a folder IAM admin on a project cannot",
        [
            on_project("roles/resourcemanager.projectIamAdmin", ME, "pia"),
            on_project("roles/resourcemanager.folderIamAdmin", TWIN, "fia"),
        ],
        {ME: True},
        {ME: True},
    ),
    (
        "security admin at the project: describes directly, reads by setting a policy",
        [on_project("roles/iam.securityAdmin", ME, "sec")],
        {ME: True},
        {ME: True},
    ),
    (
        "a project's service account admin sets a reading account's policy; nobody reads s2",
        [SA_READS_S1, on_project("roles/iam.serviceAccountAdmin", ME, "saa")],
        {READER_SA: False, ME: True},
        {},
    ),
    # ---- secret envelopes (issue 21 class 1): the same grants read through them
    (
        "enveloped project of a project grant: the other project's secrets are not reached",
        [on_project(ACCESSOR, ME, "elsewhere", project=env(Q))],
        {},
        {},
    ),
    (
        "enveloped secret id of a secret member, enveloped role and member",
        [rec(SECRET_MEMBER, {"project": P, "secretId": env("s1"), "role": env(ACCESSOR), "member": env(ME)}, "m")],
        {ME: False},
        {},
    ),
    (
        "custom role: permissions as an envelope around the list and as enveloped entries",
        [
            rec(CUSTOM_ROLE, {"project": env(P), "roleId": env("reader"), "permissions": env(["secretmanager.versions.access"])}, "reader"),
            rec(CUSTOM_ROLE, {"project": P, "roleId": "peeker", "permissions": [env("secretmanager.secrets.get")]}, "peeker"),
            on_secret("s1", f"projects/{P}/roles/reader", ME, "r"),
            on_secret("s2", f"projects/{P}/roles/peeker", TWIN, "p"),
        ],
        {ME: False},
        {},
    ),
    (
        "enveloped service account id of an impersonation grant",
        [
            SA_READS_S1,
            rec(SA_MEMBER, {"serviceAccountId": env(f"projects/{P}/serviceAccounts/{READER_SA.split(':', 1)[1]}"), "role": "roles/iam.serviceAccountTokenCreator", "member": ME}, "tc"),
        ],
        {READER_SA: False, ME: True},
        {},
    ),
    (
        "editor: no payload directly, the project's reading accounts by impersonation",
        [SA_READS_S1, on_project("roles/editor", ME, "ed"), on_project("roles/viewer", TWIN, "v")],
        {READER_SA: False, ME: True},
        {},
    ),
]  # fmt: skip


@pytest.mark.parametrize(("case", "extra", "s1", "s2"), CASES, ids=[c[0] for c in CASES])
def test_readers(
    case: str, extra: list[ResourceRecord], s1: dict[str, bool], s2: dict[str, bool]
) -> None:
    g = graph_of(*extra)
    assert g.complete, g.gaps
    assert readers(g, "s1") == s1
    assert readers(g, "s2") == s2
    if any(r.name == "s3" for r in extra):
        assert readers(g, "s3") == {ME: False}


def test_actions_other_than_read_are_told_apart() -> None:
    g = graph_of(
        on_secret("s1", "roles/secretmanager.viewer", TWIN, "v"),
        on_secret("s1", "roles/secretmanager.secretVersionAdder", ME, "a"),
        on_project("roles/editor", "group:eds@neural-trader.io", "ed"),
    )
    assert actions_of(g, "s1", TWIN) == {"describe"}
    assert actions_of(g, "s1", ME) == {"write"}
    assert actions_of(g, "s1", "group:eds@neural-trader.io") == {"write", "manage", "describe"}
    # The editor reads nothing by escalation here: no account of the project reads.
    assert actions_of(g, "s1", "group:eds@neural-trader.io", escalation=True) == set()


def test_paths_name_each_hop_from_the_principal_to_the_secret() -> None:
    g = graph_of(
        SA_READS_S1,
        on_account(HOP_SA, "roles/iam.serviceAccountTokenCreator", ME, "first"),
        on_account(READER_SA, "roles/iam.serviceAccountTokenCreator", HOP_SA, "second"),
    )
    [entry] = [a for a in g.access(urn("s1")) if a.principal == ME]
    assert entry.escalation
    assert entry.to_json()["via"] == [
        "service-account-level IAM member first",
        "role roles/iam.serviceAccountTokenCreator",
        f"impersonates {HOP_SA}",
        "service-account-level IAM member second",
        "role roles/iam.serviceAccountTokenCreator",
        f"impersonates {READER_SA}",
        "secret-level IAM member sa-reads",
        f"role {ACCESSOR}",
        "permission secretmanager.versions.access",
    ]
    setter = graph_of(on_project("roles/resourcemanager.projectIamAdmin", ME, "pia"))
    [entry] = setter.access(urn("s1"))
    assert entry.to_json()["via"][-2:] == [
        "permission resourcemanager.projects.setIamPolicy",
        f"grants itself {ACCESSOR}",
    ]
    assert entry.actions == frozenset(Action)


def test_a_regional_secret_is_a_secret_of_the_graph() -> None:
    regional = rec(REGIONAL, {"project": P, "location": "us-east1", "secretId": "r1"}, "r1")
    member = rec(
        "gcp:secretmanager/regionalSecretIamMember:RegionalSecretIamMember",
        {
            "project": P,
            "location": "us-east1",
            "secretId": "r1",  # pragma: allowlist secret
            "role": ACCESSOR,
            "member": ME,
        },
        "rm",
    )
    g = build(policy_view([regional, member]))
    node = g.secrets[urn("r1", REGIONAL)]
    assert (node.store, node.address) == ("gcp", f"projects/{P}/locations/us-east1/secrets/r1")
    assert readers(g, "r1", REGIONAL) == {ME: False}


def test_secrets_carry_their_catalog_name_and_revocation_and_accounts_are_identities() -> None:
    revoked = rec(
        SECRET,
        {
            "project": P,
            "secretId": "s9",  # pragma: allowlist secret
            "labels": {"catalog-name": "jwt_secret", "revoked": "true"},
        },
        "s9",
    )
    account = rec(ACCOUNT, {"project": P, "accountId": "reader"}, "acct")
    g = build(policy_view([revoked, account, on_secret("s9", ACCESSOR, READER_SA, "m")]))
    node = g.secrets[urn("s9")]
    assert (node.catalog_name, node.revoked) == ("JWT_SECRET", True)
    identity = g.identities[READER_SA]
    assert (identity.kind, identity.urn) == ("service account", account.urn)
    assert g.identities[READER_SA].store == "gcp"


@pytest.mark.parametrize(
    ("record", "why"),
    [
        (on_secret("s1", ACCESSOR, UNKNOWN, "u"), "not known"),
        (on_secret("s1", f"projects/{P}/roles/unseen", ME, "c"), "not a role the graph knows"),
        (rec(PROJECT_POLICY, {"project": P, "policyData": UNKNOWN}, "p"), "not known"),
        (
            rec(SECRET_MEMBER, {"secretId": UNKNOWN, "role": ACCESSOR, "member": ME}, "orphan"),
            "cannot be told",
        ),
        (
            rec("gcp:iam/denyPolicy:DenyPolicy", {"parent": "x", "rules": []}, "deny"),
            "not evaluated",
        ),
    ],
)
def test_what_the_graph_cannot_judge_is_a_gap_never_a_guess(
    record: ResourceRecord, why: str
) -> None:
    g = graph_of(record)
    assert not g.complete
    assert any(why in reason for _, reason in g.gaps), g.gaps
    assert ME not in readers(g, "s1") and ME not in readers(g, "s2")


def test_a_secret_member_found_by_its_parent_at_preview() -> None:
    member = rec(
        SECRET_MEMBER,
        {"secretId": UNKNOWN, "role": ACCESSOR, "member": ME},
        "m",
        parent=urn("s1"),
    )
    g = graph_of(member)
    assert g.complete and readers(g, "s1") == {ME: False}
