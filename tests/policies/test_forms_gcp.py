"""Issue 21 class 1 on GCP: every shape pulumi-gcp 10 (and 9, and the deprecated forms an older
state still holds) allows for the settings the GCP policies read, in inputs and in a stack's
state, with secret envelopes at any depth. Compliant look-alikes give no finding; the same
settings written wrong in the same shapes still do."""

from __future__ import annotations

from typing import Any

import pytest

from tests.policies.forms import FormCase, R, cipher, env, form_params, judge

SECRET = "gcp:secretmanager/secret:Secret"  # pragma: allowlist secret (a type token)
REGIONAL = "gcp:secretmanager/regionalSecret:RegionalSecret"
TOPIC = "gcp:pubsub/topic:Topic"
SUBSCRIPTION = "gcp:pubsub/subscription:Subscription"
CRYPTO_KEY = "gcp:kms/cryptoKey:CryptoKey"
PROJECT_MEMBER = "gcp:projects/iAMMember:IAMMember"
PROJECT_POLICY = "gcp:projects/iAMPolicy:IAMPolicy"
#: a type token
SECRET_MEMBER = "gcp:secretmanager/secretIamMember:SecretIamMember"  # pragma: allowlist secret

CMEK = "gcp-secretmanager-cmek"
ROTATION = "gcp-secretmanager-rotation"
TOPIC_CMEK = "gcp-pubsub-topic-cmek"
PUSH = "gcp-pubsub-push-https"
KMS = "gcp-kms-key-rotation"
ABOVE = "gcp-iam-no-secret-access-above-secret"
PUBLIC = "gcp-iam-no-public-members"
BASIC = "gcp-iam-no-basic-roles"
SECRET_POLICIES = (CMEK, ROTATION)
IAM_POLICIES = (ABOVE, PUBLIC, BASIC)


def key(location: str) -> str:
    return f"projects/p/locations/{location}/keyRings/r/cryptoKeys/k"


REPLICA = {"location": "us-east1", "customerManagedEncryption": {"kmsKeyName": key("us-east1")}}
ROTATION_BLOCK = {"rotationPeriod": "7776000s", "nextRotationTime": "2027-03-01T00:00:00Z"}
TOPICS = [{"name": "projects/p/topics/secret-rotation"}]


def secret(**over: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "secretId": "venue-api-key",  # pragma: allowlist secret (a name)
        "labels": {"rotation-class": "api_key"},
        "replication": {"userManaged": {"replicas": [REPLICA]}},
        "rotation": ROTATION_BLOCK,
        "topics": TOPICS,
    }
    out.update(over)
    return out


SA = "serviceAccount:reader@p.iam.gserviceaccount.com"
#: a condition that narrows a project-level payload read to secrets named dev-*
NARROW = {
    "title": "dev secrets only",
    "expression": 'resource.name.startsWith("projects/123/secrets/dev-")',
}
ACCESSOR = "roles/secretmanager.secretAccessor"
PROJECT_BINDING = "gcp:projects/iAMBinding:IAMBinding"
#: attribute-based access: only the secrets that carry (or inherit) the tag env=dev
TAGGED = {"title": "dev-tagged", "expression": 'resource.matchTag("123/env", "dev")'}

CASES: list[FormCase] = [
    # ---- Secret Manager: compliant look-alikes
    FormCase("secret plain", (R(SECRET, "s", secret()),), frozenset(), SECRET_POLICIES),
    FormCase(
        "secret: replication as a secret envelope",
        (R(SECRET, "s", secret(replication=env({"userManaged": {"replicas": [REPLICA]}}))),),
        frozenset(),
        SECRET_POLICIES,
    ),
    FormCase(
        "secret: envelopes at every depth of replication",
        (
            R(
                SECRET,
                "s",
                secret(
                    replication={
                        "userManaged": env(
                            {
                                "replicas": env(
                                    [
                                        env(
                                            {
                                                "location": env("us-east1"),
                                                "customerManagedEncryption": env(
                                                    {"kmsKeyName": env(key("us-east1"))}
                                                ),
                                            }
                                        )
                                    ]
                                )
                            }
                        )
                    }
                ),
            ),
        ),
        frozenset(),
        SECRET_POLICIES,
    ),
    FormCase(
        "secret: maxItems-1 blocks as one-item lists (the bridged raw form)",
        (
            R(
                SECRET,
                "s",
                secret(
                    replication=[{"userManaged": [{"replicas": [REPLICA]}]}],
                    rotation=[ROTATION_BLOCK],
                ),
            ),
        ),
        frozenset(),
        SECRET_POLICIES,
    ),
    FormCase(
        "secret: automatic replication with a global key",
        (
            R(
                SECRET,
                "s",
                secret(
                    replication={
                        "auto": {"customerManagedEncryption": {"kmsKeyName": key("global")}}
                    }
                ),
            ),
        ),
        frozenset(),
        SECRET_POLICIES,
    ),
    FormCase(
        "secret: rotation, topics and labels in envelopes",
        (
            R(
                SECRET,
                "s",
                secret(
                    rotation=env({"rotationPeriod": env("15552000s")}),
                    topics=env(TOPICS),
                    labels=env({"rotation-class": "database_password"}),
                ),
            ),
        ),
        frozenset(),
        SECRET_POLICIES,
    ),
    FormCase(
        "secret: a label value in an envelope",
        (
            R(
                SECRET,
                "s",
                secret(
                    rotation={"rotationPeriod": "15552000s"},
                    labels={"rotation-class": env("database_password")},
                ),
            ),
        ),
        frozenset(),
        SECRET_POLICIES,
    ),
    FormCase(
        "regional secret: key and rotation in envelopes",
        (
            R(
                REGIONAL,
                "rs",
                {
                    "secretId": "venue-api-key",  # pragma: allowlist secret (a name)
                    "location": "us-east1",
                    "labels": {"rotation-class": "api_key"},
                    "customerManagedEncryption": env({"kmsKeyName": key("us-east1")}),
                    "rotation": env(ROTATION_BLOCK),
                    "topics": [env(TOPICS[0])],
                },
            ),
        ),
        frozenset(),
        SECRET_POLICIES,
    ),
    FormCase(
        "secret: replication and rotation stored as ciphertext (unreadable, not missing)",
        (R(SECRET, "s", secret(replication=cipher(), rotation=cipher(), topics=cipher())),),
        frozenset(),
        SECRET_POLICIES,
        state_only=True,
    ),
    # ---- Secret Manager: still findings
    FormCase(
        "secret: pulumi-gcp 6 replication.automatic true (Google-managed keys)",
        (R(SECRET, "s", secret(replication={"automatic": True})),),
        frozenset({(CMEK, "s")}),
        SECRET_POLICIES,
    ),
    FormCase(
        "secret: automatic replication without a key, in an envelope",
        (R(SECRET, "s", secret(replication=env({"auto": {}}))),),
        frozenset({(CMEK, "s")}),
        SECRET_POLICIES,
    ),
    FormCase(
        "secret: an enveloped replica without a key",
        (
            R(
                SECRET,
                "s",
                secret(replication={"userManaged": {"replicas": [env({"location": "us-east1"})]}}),
            ),
        ),
        frozenset({(CMEK, "s")}),
        SECRET_POLICIES,
    ),
    FormCase(
        "secret: enveloped key in another location",
        (
            R(
                SECRET,
                "s",
                secret(
                    replication={
                        "userManaged": {
                            "replicas": [
                                {
                                    "location": "us-east1",
                                    "customerManagedEncryption": env(
                                        {"kmsKeyName": key("europe-west1")}
                                    ),
                                }
                            ]
                        }
                    }
                ),
            ),
        ),
        frozenset({(CMEK, "s")}),
        SECRET_POLICIES,
    ),
    FormCase(
        "secret: enveloped rotation longer than the class allows",
        (R(SECRET, "s", secret(rotation=env({"rotationPeriod": "31536000s"}))),),
        frozenset({(ROTATION, "s")}),
        SECRET_POLICIES,
    ),
    FormCase(
        "secret: rotation as a one-item list, topics an empty envelope",
        (R(SECRET, "s", secret(rotation=[ROTATION_BLOCK], topics=env([]))),),
        frozenset({(ROTATION, "s")}),
        SECRET_POLICIES,
    ),
    FormCase(
        "secret: no rotation at all",
        (R(SECRET, "s", secret(rotation=None)),),
        frozenset({(ROTATION, "s")}),
        SECRET_POLICIES,
    ),
    # ---- Pub/Sub and KMS
    FormCase(
        "topic key in an envelope; push subscription config in an envelope",
        (
            R(TOPIC, "t", {"name": "rotation", "kmsKeyName": env(key("us-east1"))}),
            R(
                SUBSCRIPTION,
                "sub",
                {
                    "topic": "rotation",
                    "pushConfig": env(
                        {
                            "pushEndpoint": "https://rotator.example.com/push",
                            "oidcToken": {"serviceAccountEmail": SA.split(":", 1)[1]},
                        }
                    ),
                },
            ),
        ),
        frozenset(),
        (TOPIC_CMEK, PUSH),
    ),
    FormCase(
        "push subscription as a one-item list of blocks",
        (
            R(
                SUBSCRIPTION,
                "sub",
                {
                    "topic": "rotation",
                    "pushConfig": [
                        {
                            "pushEndpoint": "https://rotator.example.com/push",
                            "oidcToken": [{"serviceAccountEmail": SA.split(":", 1)[1]}],
                        }
                    ],
                },
            ),
        ),
        frozenset(),
        (PUSH,),
    ),
    FormCase(
        "topic without a key; enveloped http push without a token",
        (
            R(TOPIC, "t", {"name": "rotation"}),
            R(
                SUBSCRIPTION,
                "sub",
                {"topic": "rotation", "pushConfig": env({"pushEndpoint": "http://rotator"})},
            ),
        ),
        frozenset({(TOPIC_CMEK, "t"), (PUSH, "sub")}),
        (TOPIC_CMEK, PUSH),
    ),
    FormCase(
        "crypto key rotation period in an envelope",
        (R(CRYPTO_KEY, "k", {"keyRing": "r", "rotationPeriod": env("7776000s")}),),
        frozenset(),
        (KMS,),
    ),
    FormCase(
        "crypto key rotation period enveloped and too long",
        (R(CRYPTO_KEY, "k", {"keyRing": "r", "rotationPeriod": env("31536000s")}),),
        frozenset({(KMS, "k")}),
        (KMS,),
    ),
    # ---- IAM member, binding and policy forms
    FormCase(
        "project accessor under an enveloped condition naming dev secrets",
        (
            R(
                PROJECT_MEMBER,
                "m",
                {"project": "p", "role": ACCESSOR, "member": SA, "condition": env(NARROW)},
            ),
        ),
        frozenset(),
        IAM_POLICIES,
    ),
    FormCase(
        "project accessor: condition as a one-item list, expression enveloped",
        (
            R(
                PROJECT_MEMBER,
                "m",
                {
                    "project": "p",
                    "role": ACCESSOR,
                    "member": env(SA),
                    "condition": [{**NARROW, "expression": env(NARROW["expression"])}],
                },
            ),
        ),
        frozenset(),
        IAM_POLICIES,
    ),
    FormCase(
        "project policy document in an envelope, conditioned binding",
        (
            R(
                PROJECT_POLICY,
                "pol",
                {
                    "project": "p",
                    "policyData": env(
                        '{"bindings": [{"role": "roles/secretmanager.secretAccessor", '
                        '"members": ["' + SA + '"], "condition": {"title": "dev", '
                        '"expression": "resource.name.startsWith(\\"projects/123/secrets/dev-\\")"}}]}'
                    ),
                },
            ),
        ),
        frozenset(),
        IAM_POLICIES,
    ),
    FormCase(
        "project accessor under a tag condition, as a binding with enveloped members",
        (
            R(
                PROJECT_BINDING,
                "b",
                {"project": "p", "role": ACCESSOR, "members": env([SA]), "condition": env(TAGGED)},
            ),
        ),
        frozenset(),
        IAM_POLICIES,
    ),
    FormCase(
        "project policy document as an object, tag-conditioned binding",
        (
            R(
                PROJECT_POLICY,
                "pol",
                {
                    "project": "p",
                    "policyData": {
                        "bindings": [{"role": ACCESSOR, "members": [SA], "condition": TAGGED}]
                    },
                },
            ),
        ),
        frozenset(),
        IAM_POLICIES,
    ),
    FormCase(
        "project accessor under a negated tag condition: every other secret",
        (
            R(
                PROJECT_MEMBER,
                "m",
                {
                    "project": "p",
                    "role": ACCESSOR,
                    "member": SA,
                    "condition": {**TAGGED, "expression": "!" + TAGGED["expression"]},
                },
            ),
        ),
        frozenset({(ABOVE, "m")}),
        IAM_POLICIES,
    ),
    FormCase(
        "secret-level accessor, member enveloped",
        (R(SECRET_MEMBER, "sm", {"secretId": "s", "role": ACCESSOR, "member": env(SA)}),),
        frozenset(),
        IAM_POLICIES,
    ),
    FormCase(
        "project accessor without a condition, member enveloped",
        (R(PROJECT_MEMBER, "m", {"project": "p", "role": ACCESSOR, "member": env(SA)}),),
        frozenset({(ABOVE, "m")}),
        IAM_POLICIES,
    ),
    FormCase(
        "enveloped public member and an enveloped basic role",
        (
            R(SECRET_MEMBER, "sm", {"secretId": "s", "role": ACCESSOR, "member": env("allUsers")}),
            R(
                "gcp:secretmanager/secretIamBinding:SecretIamBinding",
                "sb",
                {"secretId": "s", "role": env("roles/viewer"), "members": env([SA])},
            ),
        ),
        frozenset({(PUBLIC, "sm"), (BASIC, "sb")}),
        IAM_POLICIES,
    ),
    FormCase(
        "project policy document in an envelope, unconditioned accessor",
        (
            R(
                PROJECT_POLICY,
                "pol",
                {
                    "project": "p",
                    "policyData": env(
                        '{"bindings": [{"role": "roles/secretmanager.secretAccessor", '
                        '"members": ["' + SA + '"]}]}'
                    ),
                },
            ),
        ),
        frozenset({(ABOVE, "pol")}),
        IAM_POLICIES,
    ),
]

VIEWER = "roles/secretmanager.viewer"


def policy_object(role: Any, members: Any) -> dict[str, Any]:
    """An IAM policy as a map (the SDK's getIAMPolicy types) with envelopes at every depth."""
    return env(
        {"bindings": env([env({"role": env(role), "members": env([env(m) for m in members])})])}
    )


CASES += [
    # ---- roles in member, binding and policy forms (policyData as an object, envelopes)
    FormCase(
        "project policy as an object, enveloped at every depth: a metadata role",
        (
            R(
                PROJECT_POLICY,
                "pol",
                {"project": env("p"), "policyData": policy_object(VIEWER, [SA])},
            ),
        ),
        frozenset(),
        IAM_POLICIES,
    ),
    FormCase(
        "project binding: project, role and members enveloped, a metadata role",
        (
            R(
                PROJECT_BINDING,
                "b",
                {"project": env("p"), "role": env(VIEWER), "members": env([env(SA)])},
            ),
        ),
        frozenset(),
        IAM_POLICIES,
    ),
    FormCase(
        "project policy as JSON text: a metadata role",
        (
            R(
                PROJECT_POLICY,
                "pol",
                {
                    "project": "p",
                    "policyData": '{"bindings": [{"role": "'
                    + VIEWER
                    + '", "members": ["'
                    + SA
                    + '"]}]}',
                },
            ),
        ),
        frozenset(),
        IAM_POLICIES,
    ),
    FormCase(
        "project policy as an object, enveloped at every depth: editor",
        (
            R(
                PROJECT_POLICY,
                "pol",
                {"project": "p", "policyData": policy_object("roles/editor", [SA])},
            ),
        ),
        frozenset({(ABOVE, "pol"), (BASIC, "pol")}),
        IAM_POLICIES,
    ),
    FormCase(
        "project binding: enveloped members naming every authenticated account",
        (
            R(
                PROJECT_BINDING,
                "b",
                {
                    "project": "p",
                    "role": env(VIEWER),
                    "members": env([env("allAuthenticatedUsers")]),
                },
            ),
        ),
        frozenset({(PUBLIC, "b")}),
        IAM_POLICIES,
    ),
]


@pytest.mark.parametrize(("case", "form"), form_params(CASES))
def test_gcp_forms(case: FormCase, form: str) -> None:
    assert judge(case, form) == case.expected
