"""GCP policies: the case table (run with every other policy's by ``test_pack.py``, and through the
engine by ``test_engine_equivalence.py``) and the rules behind it.

Each case reads as documentation: what a resource declares, which policy judges it, how many
violations. The tests below the table pin the readers (``policies.gcp.common``): which grants are
above a secret, what counts as a wildcard principal, durations, audit configs.

Fixture credentials are obviously fake and marked for scanners.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from policies.gcp.access import wildcard
from policies.gcp.common import (
    ABOVE_SECRET,
    PROJECT_LEVEL,
    RESOURCE_LEVEL,
    SECRET_LEVEL,
    SERVICE_ACCOUNT_LEVEL,
    duration_seconds,
    iam_level,
)
from policies.model import UNKNOWN, ResourceRecord
from policies.runner import run
from tests.policies.records import rec

PROJECT = "neural-trader-prod"
SA = "serviceAccount:live-trader@neural-trader-prod.iam.gserviceaccount.com"
GROUP = "group:nt-prod-traders@neural-trader.io"
POOL = "principalSet://iam.googleapis.com/projects/123456/locations/global/workloadIdentityPools"
FAKE_OPENAI = "sk-proj-FAKE0123456789abcdefFAKE0123456789abcdef"  # pragma: allowlist secret
FAKE_PASSWORD = "Zx9-FAKE-generated-pw-Qq77"  # pragma: allowlist secret

SECRET = "gcp:secretmanager/secret:Secret"  # pragma: allowlist secret
REGIONAL = "gcp:secretmanager/regionalSecret:RegionalSecret"  # pragma: allowlist secret
VERSION = "gcp:secretmanager/secretVersion:SecretVersion"
REGIONAL_VERSION = "gcp:secretmanager/regionalSecretVersion:RegionalSecretVersion"
SECRET_MEMBER = "gcp:secretmanager/secretIamMember:SecretIamMember"  # pragma: allowlist secret
PROJECT_MEMBER = "gcp:projects/iAMMember:IAMMember"
PROJECT_BINDING = "gcp:projects/iAMBinding:IAMBinding"
PROJECT_POLICY = "gcp:projects/iAMPolicy:IAMPolicy"
FOLDER_BINDING = "gcp:folder/iAMBinding:IAMBinding"
ORG_POLICY = "gcp:organizations/iAMPolicy:IAMPolicy"
SA_MEMBER = "gcp:serviceaccount/iAMMember:IAMMember"
SA_KEY = "gcp:serviceaccount/key:Key"
TOPIC_MEMBER = "gcp:pubsub/topicIAMMember:TopicIAMMember"
CRYPTO_KEY = "gcp:kms/cryptoKey:CryptoKey"
AUDIT = "gcp:projects/iAMAuditConfig:IAMAuditConfig"


def key(location: str) -> str:
    return f"projects/{PROJECT}/locations/{location}/keyRings/neural-trader-production/cryptoKeys/secrets"


def replica(location: str, key_location: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"location": location}
    if key_location is not None:
        out["customerManagedEncryption"] = {"kmsKeyName": key(key_location)}
    return out


def policy_data(*bindings: dict[str, Any], **extra: Any) -> str:
    return json.dumps({"bindings": list(bindings), **extra})


#: A production secret as the GCP backend declares it: CMEK replicas, api_key rotation every 90
#: days with a topic to notify.
LABELS = {
    "environment": "production",
    "catalog-name": "alpaca_api_key",
    "access-scopes": "live",
    "rotation-class": "api_key",
}
GOOD_SECRET: dict[str, Any] = {
    "project": PROJECT,
    "secretId": "neural-trader-production-alpaca-api-key",
    "replication": {
        "userManaged": {
            "replicas": [replica("us-east1", "us-east1"), replica("us-west1", "us-west1")]
        }
    },
    "labels": LABELS,
    "rotation": {"rotationPeriod": "7776000s", "nextRotationTime": "2027-03-01T00:00:00Z"},
    "topics": [{"name": f"projects/{PROJECT}/topics/neural-trader-production-secret-rotation"}],
}


def secret(name: str = "s", **changes: Any) -> ResourceRecord:
    props = {**GOOD_SECRET, **changes}
    return rec(SECRET, {k: v for k, v in props.items() if v is not None}, name=name)


def rotated(
    period: str | None, rotation_class: str | None = "api_key", **changes: Any
) -> ResourceRecord:
    labels = (
        {**LABELS, "rotation-class": rotation_class}
        if rotation_class
        else {k: v for k, v in LABELS.items() if k != "rotation-class"}
    )
    rotation = (
        {"rotationPeriod": period, "nextRotationTime": "2027-03-01T00:00:00Z"} if period else None
    )
    return secret(labels=labels, rotation=rotation, **changes)


FULL_AUDIT = rec(
    AUDIT,
    {
        "project": PROJECT,
        "service": "secretmanager.googleapis.com",
        "auditLogConfigs": [
            {"logType": "ADMIN_READ"},
            {"logType": "DATA_READ"},
            {"logType": "DATA_WRITE"},
        ],
    },
    name="audit",
)


def paper_and_live(*grants: tuple[str, str]) -> list[ResourceRecord]:
    """A paper and a live secret, each read by the members given as (secret, member)."""
    out = [
        secret("paper", secretId="paper", labels={**LABELS, "access-scopes": "paper"}),
        secret("live", secretId="live"),
    ]
    for i, (target, member) in enumerate(grants):
        out.append(
            rec(
                SECRET_MEMBER,
                {
                    "project": PROJECT,
                    "secretId": target,
                    "role": "roles/secretmanager.secretAccessor",
                    "member": member,
                },
                name=f"grant-{i}",
            )
        )
    return out


# (case id, policy id, records, expected number of violations of that policy)
#: (role granted on the project, its IAM condition, violations): a condition that constrains
#: (names some secrets or a prefix of their names, another resource type, a closed time window)
#: narrows the grant; one that does not (a prefix of every secret, a negation, a window still
#: open, an alternative that always holds, what the reader does not understand) changes nothing.
CONDITIONED_ABOVE: list[tuple[str, str, int]] = [
    ("roles/secretmanager.secretAccessor", 'resource.name.startsWith("projects/1/secrets/a")', 0),
    ("roles/secretmanager.secretAccessor", 'resource.name == "projects/1/secrets/db-password"', 0),
    (
        "roles/secretmanager.secretAccessor",
        'resource.name.startsWith("projects/1/secrets/dev-") && '
        'resource.type == "secretmanager.googleapis.com/SecretVersion"',
        0,
    ),
    ("roles/secretmanager.secretAccessor", 'resource.type == "storage.googleapis.com/Bucket"', 0),
    ("roles/secretmanager.secretAccessor", 'request.time < timestamp("2001-01-01T00:00:00Z")', 0),
    ("roles/secretmanager.secretAccessor", 'resource.name.startsWith("projects/1/secrets/")', 1),
    ("roles/secretmanager.secretAccessor", 'resource.name.startsWith("projects/")', 1),
    (
        "roles/secretmanager.secretAccessor",
        '!resource.name.startsWith("projects/1/secrets/prod-")',
        1,
    ),
    (
        "roles/secretmanager.secretAccessor",
        'resource.name.startsWith("projects/1/secrets/dev-") || request.time > '
        'timestamp("2001-01-01T00:00:00Z")',
        1,
    ),
    ("roles/secretmanager.secretAccessor", 'request.time < timestamp("2999-01-01T00:00:00Z")', 1),
    # attribute-based access: only the secrets that carry (or inherit) the tag
    ("roles/secretmanager.secretAccessor", 'resource.matchTag("123/env", "dev")', 0),
    ("roles/secretmanager.secretAccessor", 'resource.hasTagKey("123/team")', 0),
    ("roles/secretmanager.secretAccessor", '!resource.matchTag("123/env", "prod")', 1),
    ("roles/iam.serviceAccountUser", 'resource.matchTag("123/env", "dev")', 1),
    ("roles/secretmanager.secretAccessor", 'resource.type != "storage.googleapis.com/Bucket"', 1),
    ("roles/secretmanager.secretAccessor", "resource.name.startsWith(", 1),  # not CEL
    # a secret-name condition keeps a service account user from every service account...
    ("roles/iam.serviceAccountUser", 'resource.name.startsWith("projects/1/secrets/dev-")', 0),
    # ...but not a condition on service accounts' names
    ("roles/iam.serviceAccountUser", 'resource.name.startsWith("projects/-/serviceAccounts/")', 1),
    ("roles/iam.serviceAccountUser", 'request.time < timestamp("2001-01-01T00:00:00Z")', 0),
    (
        "roles/resourcemanager.projectIamAdmin",
        'resource.type == "storage.googleapis.com/Bucket"',
        0,
    ),
    (
        "roles/resourcemanager.projectIamAdmin",
        'request.time < timestamp("2999-01-01T00:00:00Z")',
        1,
    ),
    # Editor reads no payload itself, but acts as any service account, which may
    ("roles/editor", 'resource.name.startsWith("projects/1/secrets/dev-")', 0),
    ("roles/editor", 'resource.service == "iam.googleapis.com"', 1),
]

GCP_CASES: list[tuple[str, str, list[ResourceRecord], int]] = [
    # ---- Pub/Sub and the provider -------------------------------------------------------------
    (
        "topic under a customer-managed key",
        "gcp-pubsub-topic-cmek",
        [
            rec(
                "gcp:pubsub/topic:Topic",
                {"kmsKeyName": "projects/p/locations/l/keyRings/r/cryptoKeys/k"},
            )
        ],
        0,
    ),
    (
        "topic under Google's default key",
        "gcp-pubsub-topic-cmek",
        [rec("gcp:pubsub/topic:Topic", {})],
        1,
    ),
    (
        "pull subscription",
        "gcp-pubsub-push-https",
        [rec("gcp:pubsub/subscription:Subscription", {"topic": "t"})],
        0,
    ),
    (
        "authenticated https push",
        "gcp-pubsub-push-https",
        [
            rec(
                "gcp:pubsub/subscription:Subscription",
                {
                    "pushConfig": {
                        "pushEndpoint": "https://hooks.example.com/x",
                        "oidcToken": {"serviceAccountEmail": "a@p.iam.gserviceaccount.com"},
                    }
                },
            )
        ],
        0,
    ),
    (
        "plain http push without a token",
        "gcp-pubsub-push-https",
        [
            rec(
                "gcp:pubsub/subscription:Subscription",
                {"pushConfig": {"pushEndpoint": "http://hooks.example.com/x"}},
            )
        ],
        2,
    ),
    (
        "provider on ambient credentials",
        "gcp-provider-no-static-credentials",
        [rec("pulumi:providers:gcp", {"project": "p"})],
        0,
    ),
    (
        "provider with a key file in the stack",
        "gcp-provider-no-static-credentials",
        [rec("pulumi:providers:gcp", {"project": "p", "credentials": "{...}"})],
        1,
    ),
    # ---- grants above the secret --------------------------------------------------------------
    (
        "gcp: secret accessor on the secret itself",
        "gcp-iam-no-secret-access-above-secret",
        [
            rec(
                SECRET_MEMBER,
                {"secretId": "s", "role": "roles/secretmanager.secretAccessor", "member": SA},
            )
        ],
        0,
    ),
    (
        "gcp: a project role that reaches no secret",
        "gcp-iam-no-secret-access-above-secret",
        [
            rec(
                PROJECT_MEMBER,
                {"project": PROJECT, "role": "roles/logging.viewer", "member": GROUP},
            ),
            rec(
                PROJECT_MEMBER,
                {"project": PROJECT, "role": "roles/secretmanager.viewer", "member": GROUP},
                name="v",
            ),
        ],
        0,
    ),
    (
        "gcp: secret accessor on the project",
        "gcp-iam-no-secret-access-above-secret",
        [
            rec(
                PROJECT_MEMBER,
                {"project": PROJECT, "role": "roles/secretmanager.secretAccessor", "member": SA},
            )
        ],
        1,
    ),
    *[
        (
            f"gcp: secret accessor on the project under {expression!r}",
            "gcp-iam-no-secret-access-above-secret",
            [
                rec(
                    PROJECT_BINDING,
                    {
                        "project": PROJECT,
                        "role": role,
                        "members": [SA],
                        "condition": {"title": "c", "expression": expression},
                    },
                )
            ],
            violations,
        )
        for role, expression, violations in CONDITIONED_ABOVE
    ],
    (
        "gcp: service account user on a folder",
        "gcp-iam-no-secret-access-above-secret",
        [
            rec(
                FOLDER_BINDING,
                {"folder": "folders/1", "role": "roles/iam.serviceAccountUser", "members": [GROUP]},
            )
        ],
        1,
    ),
    (
        "gcp: organisation policy granting secret admin and workload identity user",
        "gcp-iam-no-secret-access-above-secret",
        [
            rec(
                ORG_POLICY,
                {
                    "orgId": "1",
                    "policyData": policy_data(
                        {"role": "roles/secretmanager.admin", "members": [GROUP]},
                        {"role": "roles/iam.workloadIdentityUser", "members": [SA]},
                        {"role": "roles/logging.viewer", "members": [GROUP]},
                    ),
                },
            )
        ],
        2,
    ),
    (
        "gcp: a custom role on the project fails closed",
        "gcp-iam-no-secret-access-above-secret",
        [
            rec(
                PROJECT_MEMBER,
                {
                    "project": PROJECT,
                    "role": f"projects/{PROJECT}/roles/secretReader",
                    "member": SA,
                },
            )
        ],
        1,
    ),
    (
        "gcp: project IAM admin can grant itself anything",
        "gcp-iam-no-secret-access-above-secret",
        [
            rec(
                PROJECT_MEMBER,
                {
                    "project": PROJECT,
                    "role": "roles/resourcemanager.projectIamAdmin",
                    "member": GROUP,
                },
            )
        ],
        1,
    ),
    # ---- public and wildcard principals --------------------------------------------------------
    (
        "gcp: workload identity for one exact Kubernetes service account",
        "gcp-iam-no-public-members",
        [
            rec(
                SA_MEMBER,
                {
                    "serviceAccountId": f"projects/{PROJECT}/serviceAccounts/live-trader@{PROJECT}.iam.gserviceaccount.com",
                    "role": "roles/iam.workloadIdentityUser",
                    "member": f"serviceAccount:{PROJECT}.svc.id.goog[live-trading/live-trader]",
                },
            )
        ],
        0,
    ),
    (
        "gcp: an attribute-scoped principal set (one repository)",
        "gcp-iam-no-public-members",
        [
            rec(
                SA_MEMBER,
                {
                    "serviceAccountId": f"deployer@{PROJECT}.iam.gserviceaccount.com",
                    "role": "roles/iam.workloadIdentityUser",
                    "member": f"{POOL}/github/attribute.repository/neural-trader/neural-trader",
                },
            )
        ],
        0,
    ),
    (
        "gcp: a whole workload identity pool",
        "gcp-iam-no-public-members",
        [
            rec(
                SA_MEMBER,
                {
                    "serviceAccountId": f"deployer@{PROJECT}.iam.gserviceaccount.com",
                    "role": "roles/iam.workloadIdentityUser",
                    "member": f"{POOL}/github/*",
                },
            )
        ],
        1,
    ),
    (
        "gcp: a secret readable by a whole domain and the public",
        "gcp-iam-no-public-members",
        [
            rec(
                "gcp:secretmanager/secretIamBinding:SecretIamBinding",
                {
                    "secretId": "s",
                    "role": "roles/secretmanager.secretAccessor",
                    "members": ["domain:neural-trader.io", "principalSet://goog/public:all", SA],
                },
            )
        ],
        1,
    ),
    (
        "gcp: a topic anyone may publish to",
        "gcp-iam-no-public-members",
        [rec(TOPIC_MEMBER, {"topic": "t", "role": "roles/pubsub.publisher", "member": "allUsers"})],
        1,
    ),
    # ---- basic roles ---------------------------------------------------------------------------
    (
        "gcp: editor on one secret",
        "gcp-iam-no-basic-roles",
        [rec(SECRET_MEMBER, {"secretId": "s", "role": "roles/editor", "member": GROUP})],
        1,
    ),
    (
        "gcp: viewer in a project policy",
        "gcp-iam-no-basic-roles",
        [
            rec(
                PROJECT_POLICY,
                {
                    "project": PROJECT,
                    "policyData": policy_data({"role": "roles/viewer", "members": [GROUP]}),
                },
            )
        ],
        1,
    ),
    # ---- service-account keys ------------------------------------------------------------------
    (
        "gcp: a service-account key",
        "gcp-iam-no-service-account-keys",
        [rec(SA_KEY, {"serviceAccountId": f"live-trader@{PROJECT}.iam.gserviceaccount.com"})],
        1,
    ),
    (
        "gcp: a service account without keys",
        "gcp-iam-no-service-account-keys",
        [
            rec(
                "gcp:serviceaccount/account:Account",
                {"accountId": "live-trader", "project": PROJECT},
            )
        ],
        0,
    ),
    # ---- CMEK ------------------------------------------------------------------------------------
    ("gcp: every replica with its location's key", "gcp-secretmanager-cmek", [secret()], 0),
    (
        "gcp: a replica with Google-managed encryption",
        "gcp-secretmanager-cmek",
        [
            secret(
                replication={
                    "userManaged": {
                        "replicas": [replica("us-east1", "us-east1"), replica("us-west1")]
                    }
                }
            )
        ],
        1,
    ),
    (
        "gcp: a replica whose key is in another location",
        "gcp-secretmanager-cmek",
        [secret(replication={"userManaged": {"replicas": [replica("us-west1", "us-east1")]}})],
        1,
    ),
    (
        "gcp: automatic replication without a key",
        "gcp-secretmanager-cmek",
        [secret(replication={"auto": {}})],
        1,
    ),
    (
        "gcp: automatic replication with a global key",
        "gcp-secretmanager-cmek",
        [
            secret(
                replication={"auto": {"customerManagedEncryption": {"kmsKeyName": key("global")}}}
            )
        ],
        0,
    ),
    (
        "gcp: a key unknown at preview",
        "gcp-secretmanager-cmek",
        [
            secret(
                replication={
                    "userManaged": {
                        "replicas": [
                            {
                                "location": "us-east1",
                                "customerManagedEncryption": {"kmsKeyName": UNKNOWN},
                            }
                        ]
                    }
                }
            )
        ],
        0,
    ),
    (
        "gcp: a regional secret with its key",
        "gcp-secretmanager-cmek",
        [
            rec(
                REGIONAL,
                {
                    "location": "us-east1",
                    "secretId": "r",
                    "customerManagedEncryption": {"kmsKeyName": key("us-east1")},
                },
            )
        ],
        0,
    ),
    (
        "gcp: a regional secret without a key",
        "gcp-secretmanager-cmek",
        [rec(REGIONAL, {"location": "us-east1", "secretId": "r"})],
        1,
    ),
    # ---- rotation --------------------------------------------------------------------------------
    ("gcp: api_key rotated every 90 days", "gcp-secretmanager-rotation", [rotated("7776000s")], 0),
    (
        "gcp: api_key rotated every 180 days",
        "gcp-secretmanager-rotation",
        [rotated("15552000s")],
        1,
    ),
    (
        "gcp: jwt_secret never rotated",
        "gcp-secretmanager-rotation",
        [rotated(None, "jwt_secret", topics=None)],
        1,
    ),
    (
        "gcp: declared not rotated",
        "gcp-secretmanager-rotation",
        [rotated(None, "none", topics=None)],
        0,
    ),
    (
        "gcp: unlabelled, rotated yearly",
        "gcp-secretmanager-rotation",
        [rotated("31536000s", None)],
        1,
    ),
    (
        "gcp: rotation with nobody to notify",
        "gcp-secretmanager-rotation",
        [rotated("7776000s", topics=[])],
        1,
    ),
    ("gcp: a period that is not seconds", "gcp-secretmanager-rotation", [rotated("90d")], 1),
    (
        "gcp: a regional encryption_key rotated every two years",
        "gcp-secretmanager-rotation",
        [
            rec(
                REGIONAL,
                {
                    "location": "us-east1",
                    "labels": {"rotation-class": "encryption_key"},
                    "rotation": {
                        "rotationPeriod": "63072000s",
                        "nextRotationTime": "2027-01-01T00:00:00Z",
                    },
                    "topics": [{"name": "projects/p/topics/t"}],
                },
            )
        ],
        0,
    ),
    # ---- Cloud KMS -------------------------------------------------------------------------------
    (
        "gcp: key rotated every 90 days",
        "gcp-kms-key-rotation",
        [
            rec(
                CRYPTO_KEY,
                {"keyRing": "r", "rotationPeriod": "7776000s", "purpose": "ENCRYPT_DECRYPT"},
            )
        ],
        0,
    ),
    (
        "gcp: key rotated yearly",
        "gcp-kms-key-rotation",
        [rec(CRYPTO_KEY, {"keyRing": "r", "rotationPeriod": "31536000s"})],
        1,
    ),
    ("gcp: key never rotated", "gcp-kms-key-rotation", [rec(CRYPTO_KEY, {"keyRing": "r"})], 1),
    (
        "gcp: an asymmetric signing key (rotated by hand)",
        "gcp-kms-key-rotation",
        [rec(CRYPTO_KEY, {"keyRing": "r", "purpose": "ASYMMETRIC_SIGN"})],
        0,
    ),
    # ---- payloads ----------------------------------------------------------------------------------
    (
        "gcp: write-only payload as a Pulumi secret",
        "gcp-secret-payload-marked-secret",
        [
            rec(
                VERSION,
                {"secret": "s", "secretDataWo": FAKE_PASSWORD, "secretDataWoVersion": "1"},
                secret_paths=("secretDataWo",),
            )
        ],
        0,
    ),
    (
        "gcp: write-only payload in plaintext",
        "gcp-secret-payload-marked-secret",
        [rec(VERSION, {"secret": "s", "secretDataWo": FAKE_PASSWORD, "secretDataWoVersion": "1"})],
        1,
    ),
    (
        "gcp: regional version payload in plaintext",
        "gcp-secret-payload-marked-secret",
        [rec(REGIONAL_VERSION, {"secret": "r", "secretData": FAKE_PASSWORD})],
        1,
    ),
    (
        "gcp: secretData is all-secret-values-marked-secret's to judge (no second report)",
        "gcp-secret-payload-marked-secret",
        [rec(VERSION, {"secret": "s", "secretData": "x"})],
        0,
    ),
    (
        "gcp: credential in a secret's annotations",
        "all-no-plaintext-credentials",
        [secret(annotations={"owner-note": FAKE_OPENAI})],
        1,
    ),
    ("gcp: a secret as the backend declares it", "all-no-plaintext-credentials", [secret()], 0),
    # ---- audit ---------------------------------------------------------------------------------------
    ("gcp: audit config without exemptions", "gcp-audit-config-no-exemptions", [FULL_AUDIT], 0),
    (
        "gcp: audit config exempting a member",
        "gcp-audit-config-no-exemptions",
        [
            rec(
                AUDIT,
                {
                    "project": PROJECT,
                    "service": "secretmanager.googleapis.com",
                    "auditLogConfigs": [
                        {"logType": "DATA_READ", "exemptedMembers": [SA]},
                        {"logType": "DATA_WRITE"},
                    ],
                },
            )
        ],
        1,
    ),
    (
        "gcp: audit configs inside a project IAM policy, exempting a member",
        "gcp-audit-config-no-exemptions",
        [
            rec(
                PROJECT_POLICY,
                {
                    "project": PROJECT,
                    "policyData": policy_data(
                        auditConfigs=[
                            {
                                "service": "allServices",
                                "auditLogConfigs": [
                                    {"logType": "DATA_READ", "exemptedMembers": [GROUP]}
                                ],
                            }
                        ]
                    ),
                },
            )
        ],
        1,
    ),
    (
        "gcp: secrets with data-access logs on",
        "gcp-secretmanager-data-access-logs",
        [secret(), FULL_AUDIT],
        0,
    ),
    (
        "gcp: secrets with data-access logs for all services in the IAM policy",
        "gcp-secretmanager-data-access-logs",
        [
            secret(),
            rec(
                PROJECT_POLICY,
                {
                    "project": PROJECT,
                    "policyData": policy_data(
                        auditConfigs=[
                            {
                                "service": "allServices",
                                "auditLogConfigs": [
                                    {"logType": t}
                                    for t in ("ADMIN_READ", "DATA_READ", "DATA_WRITE")
                                ],
                            }
                        ]
                    ),
                },
            ),
        ],
        0,
    ),
    ("gcp: secrets and no audit config", "gcp-secretmanager-data-access-logs", [secret()], 1),
    (
        "gcp: secrets with admin reads logged only",
        "gcp-secretmanager-data-access-logs",
        [
            secret(),
            rec(
                AUDIT,
                {
                    "project": PROJECT,
                    "service": "secretmanager.googleapis.com",
                    "auditLogConfigs": [{"logType": "ADMIN_READ"}],
                },
            ),
        ],
        1,
    ),
    # ---- the stack invariants see GCP members --------------------------------------------------------
    (
        "gcp: each member reads one kind of secret",
        "nt-stack-paper-live-separation",
        paper_and_live(("paper", "group:nt-developers@neural-trader.io"), ("live", GROUP)),
        0,
    ),
    (
        "gcp: one member reads paper and live",
        "nt-stack-paper-live-separation",
        paper_and_live(("paper", GROUP), ("live", GROUP)),
        1,
    ),
    (
        "gcp: one member reads live directly and paper through a project grant",
        "nt-stack-paper-live-separation",
        [
            *paper_and_live(("live", SA)),
            rec(
                PROJECT_MEMBER,
                {"project": PROJECT, "role": "roles/secretmanager.secretAccessor", "member": SA},
                name="p",
            ),
        ],
        1,
    ),
]


def _messages(records: list[ResourceRecord], policy: str, config: Any = None) -> list[str]:
    return [v.message for v in run(records, config=config).violations if v.policy == policy]


# ---- the rules behind the table -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_", "level"),
    [
        ("gcp:secretmanager/secretIamMember:SecretIamMember", SECRET_LEVEL),
        ("gcp:secretmanager/regionalSecretIamPolicy:RegionalSecretIamPolicy", SECRET_LEVEL),
        ("gcp:projects/iAMBinding:IAMBinding", PROJECT_LEVEL),
        ("gcp:folder/iAMPolicy:IAMPolicy", "folder"),
        ("gcp:organizations/iAMMember:IAMMember", "organization"),
        ("gcp:serviceaccount/iAMBinding:IAMBinding", SERVICE_ACCOUNT_LEVEL),
        ("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", RESOURCE_LEVEL),
        ("gcp:pubsub/topicIAMPolicy:TopicIAMPolicy", RESOURCE_LEVEL),
        ("gcp:projects/iAMAuditConfig:IAMAuditConfig", None),
        ("gcp:projects/iamMemberRemove:IamMemberRemove", None),
        ("gcp:secretmanager/secret:Secret", None),
    ],
)
def test_where_a_grant_applies(type_: str, level: str | None) -> None:
    assert iam_level(type_) == level
    assert (level in ABOVE_SECRET) is (level in (PROJECT_LEVEL, "folder", "organization"))


@pytest.mark.parametrize(
    ("member", "why"),
    [
        ("allUsers", "the public"),
        ("allAuthenticatedUsers", "the public"),
        ("principalSet://goog/public:all", "the public"),
        ("domain:neural-trader.io", "every account of a domain"),
        (f"{POOL}/github/*", "every identity of a pool"),
        (
            "principalSet://iam.googleapis.com/locations/global/workforcePools/staff/*",
            "every identity of a pool",
        ),
        (
            f"{POOL}/neural-trader-prod.svc.id.goog/kubernetes.cluster/https://container.googleapis.com/x",
            "every workload of a cluster",
        ),
        (f"{POOL}/github/attribute.repository/neural-trader/neural-trader", None),
        (
            "principal://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/subject/x",
            None,
        ),
        (SA, None),
        (GROUP, None),
    ],
)
def test_wildcard_principals(member: str, why: str | None) -> None:
    assert wildcard(member) == why


@pytest.mark.parametrize(
    ("value", "seconds"), [("7776000s", 7776000.0), ("3.5s", 3.5), (" 60s ", 60.0)]
)
def test_durations(value: str, seconds: float) -> None:
    assert duration_seconds(value) == seconds


@pytest.mark.parametrize("value", ["90d", "7776000", "", 7776000, None, "-1s"])
def test_unreadable_durations(value: Any) -> None:
    with pytest.raises(ValueError, match="duration"):
        duration_seconds(value)


def test_rotation_maximum_is_tunable() -> None:
    records = [rotated("15552000s")]
    assert _messages(records, "gcp-secretmanager-rotation") == [
        "rotates every 180 days; api_key allows at most 90"
    ]
    config = {"gcp-secretmanager-rotation": {"maximumDays": {"api_key": 180}}}
    assert _messages(records, "gcp-secretmanager-rotation", config) == []


def test_key_rotation_maximum_is_tunable() -> None:
    records = [rec(CRYPTO_KEY, {"keyRing": "r", "rotationPeriod": "15552000s"})]
    assert _messages(records, "gcp-kms-key-rotation") == ["rotationPeriod is 180 days; at most 90"]
    assert (
        _messages(records, "gcp-kms-key-rotation", {"gcp-kms-key-rotation": {"maximumDays": 180}})
        == []
    )


def test_above_the_secret_names_what_the_grant_allows() -> None:
    records = [rec(PROJECT_MEMBER, {"project": PROJECT, "role": "roles/owner", "member": GROUP})]
    (message,) = _messages(records, "gcp-iam-no-secret-access-above-secret")
    assert message == (
        f"roles/owner granted on the project to {GROUP}: reads every secret's payload and acts as "
        "any service account and grants itself any role of the project"
    )


def test_unknown_values_are_not_judged() -> None:
    records = [
        rec(PROJECT_MEMBER, {"project": PROJECT, "role": UNKNOWN, "member": SA}),
        rec(CRYPTO_KEY, {"keyRing": "r", "rotationPeriod": UNKNOWN}, name="k"),
        secret(replication=UNKNOWN, rotation=UNKNOWN, name="u"),
    ]
    found = {v.policy for v in run(records).violations if v.policy.startswith("gcp-")}
    assert found == {"gcp-secretmanager-data-access-logs"}


def test_no_message_quotes_a_payload() -> None:
    records = [rec(REGIONAL_VERSION, {"secret": "r", "secretData": FAKE_PASSWORD})]
    for v in run(records).violations:
        assert "FAKE" not in v.message


def test_the_reader_libraries_do_not_import_pulumi() -> None:
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import sys, policies.gcp.common, policies.gcp.iam, infra.backends.gcp.labels\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('pulumi', 'pulumi_policy', 'pulumi_gcp'))\n"
        "assert not bad, bad\n"
    )
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", code], cwd=root, check=True, timeout=120)
