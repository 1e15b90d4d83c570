"""The AWS grapher, rule by rule, both ways: a principal that can, and a look-alike that cannot.

Each case is a small estate of fixture records (a secret, its key, roles and policies), the
principal asked about, and what the graph must say it can do directly and by escalation."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from policies.contract.access import Action
from policies.framework import resources_of
from policies.graph import Graph, build
from policies.model import UNKNOWN, ResourceRecord
from tests.policies.records import rec

R, W, M, D = Action.READ, Action.WRITE, Action.MANAGE, Action.DESCRIBE
ACCT, OTHER, REGION = "111122223333", "444455556666", "eu-west-1"
NAME = "app/db"
SECRET_ARN = f"arn:aws:secretsmanager:{REGION}:{ACCT}:secret:{NAME}-AbCdEf"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROOT = f"arn:aws:iam::{ACCT}:root"
SECRET_T = "aws:secretsmanager/secret:Secret"  # pragma: allowlist secret
SECRET_POLICY_T = "aws:secretsmanager/secretPolicy:SecretPolicy"  # pragma: allowlist secret


def arn(name: str, kind: str = "role", account: str = ACCT) -> str:
    return f"arn:aws:iam::{account}:{kind}/{name}"


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: Any, resource: Any = SECRET_ARN, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any, resource: Any = SECRET_ARN, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


GET = "secretsmanager:GetSecretValue"
DECRYPT = allow("kms:Decrypt", KEY_ARN)
READS = (allow(GET), DECRYPT)
TRUST_ROOT = doc({"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "sts:AssumeRole"})
TRUST_LAMBDA = doc(
    {
        "Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }
)
DEFAULT_KEY_POLICY = doc(
    {"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "kms:*", "Resource": "*"}
)


def secret(
    *, kms: str | None = KEY_ARN, tags: dict[str, str] | None = None, known_arn: bool = True
) -> ResourceRecord:
    props: dict[str, Any] = {"name": NAME, "tags": tags or {"catalog-name": "DB"}}
    if kms is not None:
        props["kmsKeyId"] = kms
    return rec(SECRET_T, props, "db", outputs={"arn": SECRET_ARN} if known_arn else None)


def key(policy: str = DEFAULT_KEY_POLICY) -> ResourceRecord:
    return rec("aws:kms/key:Key", {"policy": policy}, "cmk", outputs={"arn": KEY_ARN})


def role(
    name: str, *statements: dict[str, Any], trust: str = TRUST_ROOT, **props: Any
) -> list[ResourceRecord]:
    out = [
        rec(
            "aws:iam/role:Role",
            {"name": name, "assumeRolePolicy": trust, **props},
            name,
            outputs={"arn": arn(name)},
        )
    ]
    if statements:
        out.append(
            rec(
                "aws:iam/rolePolicy:RolePolicy",
                {"role": name, "policy": doc(*statements)},
                f"{name}-p",
            )
        )
    return out


def user(name: str, *statements: dict[str, Any], **props: Any) -> list[ResourceRecord]:
    out = [
        rec("aws:iam/user:User", {"name": name, **props}, name, outputs={"arn": arn(name, "user")})
    ]
    if statements:
        out.append(
            rec(
                "aws:iam/userPolicy:UserPolicy",
                {"user": name, "policy": doc(*statements)},
                f"{name}-p",
            )
        )
    return out


def secret_policy(*statements: dict[str, Any]) -> ResourceRecord:
    return rec(SECRET_POLICY_T, {"secretArn": SECRET_ARN, "policy": doc(*statements)}, "db-policy")


def managed(name: str, *statements: dict[str, Any]) -> ResourceRecord:
    return rec(
        "aws:iam/policy:Policy",
        {"name": name, "policy": doc(*statements)},
        name,
        outputs={"arn": arn(name, "policy")},
    )


def attach(role_name: str, policy: str) -> ResourceRecord:
    return rec(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        {"role": role_name, "policyArn": arn(policy, "policy")},
        f"{role_name}-{policy}",
    )


def graph(records: Sequence[ResourceRecord]) -> Graph:
    return build(resources_of(records))


def actions(g: Graph, principal: str) -> tuple[set[Action], set[Action]]:
    """(direct actions, what escalation adds) of one principal on the secret."""
    [urn] = [u for u, n in g.secrets.items() if n.store == "aws"]
    direct: set[Action] = set()
    escalated: set[Action] = set()
    for a in g.access(urn):
        if a.principal == principal:
            (escalated if a.escalation else direct).update(a.actions)
    return direct, escalated


@dataclass
class Case:
    id: str
    records: list[ResourceRecord]
    principal: str
    direct: set[Action]
    escalated: set[Action] = None  # type: ignore[assignment]
    via: tuple[str, ...] = ()  # hops the first path of the first entry shows (in order)

    def __post_init__(self) -> None:
        if self.escalated is None:
            self.escalated = set()


APP = arn("app")
S, K = secret(), key()

CASES = [
    # ---- the key leg -----------------------------------------------------------------------
    Case(
        "reads: GetSecretValue + kms:Decrypt",
        [S, K, *role("app", *READS)],
        APP,
        {R},
        via=("role " + APP, "inline policy app-p", "statement 0", "statement 1", "key policy cmk"),
    ),
    Case("missing kms:Decrypt on the CMK", [S, K, *role("app", allow(GET))], APP, set()),
    Case(
        "AWS managed key: GetSecretValue alone",
        [secret(kms=None), *role("app", allow(GET))],
        APP,
        {R},
        via=(
            "role " + APP,
            "inline policy app-p",
            "statement 0",
            "AWS managed key aws/secretsmanager",
        ),
    ),
    Case(
        "alias/aws/secretsmanager is the AWS managed key",
        [secret(kms="alias/aws/secretsmanager"), *role("app", allow(GET))],
        APP,
        {R},
    ),
    Case(
        "key policy without the account's delegation",
        [
            S,
            key(
                doc(
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": arn("admin")},
                        "Action": "kms:*",
                        "Resource": "*",
                    }
                )
            ),
            *role("app", *READS),
        ],
        APP,
        set(),
    ),
    Case(
        "key policy naming the role: no identity kms needed",
        [
            S,
            key(
                doc(
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": APP},
                        "Action": "kms:Decrypt",
                        "Resource": "*",
                    }
                )
            ),
            *role("app", allow(GET)),
        ],
        APP,
        {R},
    ),
    Case(
        "key policy: kms:ViaService secretsmanager holds",
        [
            S,
            key(
                doc(
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": ROOT},
                        "Action": "kms:Decrypt",
                        "Resource": "*",
                        "Condition": {
                            "StringEquals": {
                                "kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com",
                                "kms:CallerAccount": ACCT,
                            }
                        },
                    }
                )
            ),
            *role("app", *READS),
        ],
        APP,
        {R},
    ),
    Case(
        "key policy: kms:ViaService of another service",
        [
            S,
            key(
                doc(
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": ROOT},
                        "Action": "kms:Decrypt",
                        "Resource": "*",
                        "Condition": {
                            "StringEquals": {"kms:ViaService": f"ssm.{REGION}.amazonaws.com"}
                        },
                    }
                )
            ),
            *role("app", *READS),
        ],
        APP,
        set(),
    ),
    Case(
        "identity kms:Decrypt with the secret's encryption context",
        [
            S,
            K,
            *role(
                "app",
                allow(GET),
                allow(
                    "kms:Decrypt",
                    KEY_ARN,
                    Condition={
                        "StringLike": {
                            "kms:EncryptionContext:SecretARN": f"arn:aws:secretsmanager:{REGION}:{ACCT}:secret:app/*"
                        }
                    },
                ),
            ),
        ],
        APP,
        {R},
    ),
    Case(
        "identity kms:Decrypt for another secret's encryption context",
        [
            S,
            K,
            *role(
                "app",
                allow(GET),
                allow(
                    "kms:Decrypt",
                    KEY_ARN,
                    Condition={
                        "StringLike": {
                            "kms:EncryptionContext:SecretARN": f"arn:aws:secretsmanager:{REGION}:{ACCT}:secret:other/*"
                        }
                    },
                ),
            ),
        ],
        APP,
        set(),
    ),
    Case(
        "key policy Deny wins",
        [
            S,
            key(
                doc(
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": ROOT},
                        "Action": "kms:*",
                        "Resource": "*",
                    },
                    {
                        "Effect": "Deny",
                        "Principal": {"AWS": APP},
                        "Action": "kms:Decrypt",
                        "Resource": "*",
                    },
                )
            ),
            *role("app", *READS),
        ],
        APP,
        set(),
    ),
    Case(
        "KMS grant to the role",
        [
            S,
            key(
                doc(
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": arn("admin")},
                        "Action": "kms:*",
                        "Resource": "*",
                    }
                )
            ),
            rec(
                "aws:kms/grant:Grant",
                {"keyId": KEY_ARN, "granteePrincipal": APP, "operations": ["Decrypt"]},
                "g",
            ),
            *role("app", allow(GET)),
        ],
        APP,
        {R},
    ),
    Case(
        "KMS grant to another role",
        [
            S,
            key(
                doc(
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": arn("admin")},
                        "Action": "kms:*",
                        "Resource": "*",
                    }
                )
            ),
            rec(
                "aws:kms/grant:Grant",
                {"keyId": KEY_ARN, "granteePrincipal": arn("ci"), "operations": ["Decrypt"]},
                "g",
            ),
            *role("app", allow(GET)),
        ],
        APP,
        set(),
    ),
    # ---- actions and resources -------------------------------------------------------------
    Case(
        "metadata-only role",
        [
            S,
            K,
            *role(
                "app",
                allow(["secretsmanager:DescribeSecret", "secretsmanager:ListSecretVersionIds"]),
                DECRYPT,
            ),
        ],
        APP,
        {D},
    ),
    Case(
        "Get* wildcard in any case",
        [S, K, *role("app", allow("SecretsManager:get*"), DECRYPT)],
        APP,
        {R, D},
    ),
    Case(
        "secretsmanager:* on a prefix",
        [
            S,
            K,
            *role(
                "app",
                allow("secretsmanager:*", f"arn:aws:secretsmanager:*:{ACCT}:secret:app/*"),
                allow("kms:*", "*"),
            ),
        ],
        APP,
        {R, W, M, D},
    ),
    Case(
        "another prefix",
        [
            S,
            K,
            *role("app", allow(GET, f"arn:aws:secretsmanager:*:{ACCT}:secret:other/*"), DECRYPT),
        ],
        APP,
        set(),
    ),
    Case(
        "name with ??????",
        [
            S,
            K,
            *role(
                "app",
                allow(GET, f"arn:aws:secretsmanager:{REGION}:{ACCT}:secret:{NAME}-??????"),
                DECRYPT,
            ),
        ],
        APP,
        {R},
    ),
    Case(
        "ARN without the suffix names nothing",
        [
            S,
            K,
            *role(
                "app", allow(GET, f"arn:aws:secretsmanager:{REGION}:{ACCT}:secret:{NAME}"), DECRYPT
            ),
        ],
        APP,
        set(),
    ),
    Case(
        "the ARN not known yet: named by name and suffix",
        [
            secret(known_arn=False),
            K,
            *role(
                "app",
                allow(GET, f"arn:aws:secretsmanager:{REGION}:{ACCT}:secret:{NAME}-Zx9Yw8"),
                DECRYPT,
            ),
        ],
        APP,
        {R},
    ),
    Case(
        "NotAction: everything but IAM",
        [S, K, *role("app", {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})],
        APP,
        {R, W, M, D},
    ),
    Case(
        "NotAction excluding GetSecretValue",
        [S, K, *role("app", {"Effect": "Allow", "NotAction": GET, "Resource": "*"})],
        APP,
        {W, M, D},
        {R},
    ),
    Case(
        "NotResource excluding another secret",
        [
            S,
            K,
            *role(
                "app",
                {
                    "Effect": "Allow",
                    "Action": GET,
                    "NotResource": "arn:aws:secretsmanager:*:*:secret:other-*",
                },
                DECRYPT,
            ),
        ],
        APP,
        {R},
    ),
    Case(
        "NotResource excluding this secret",
        [
            S,
            K,
            *role("app", {"Effect": "Allow", "Action": GET, "NotResource": SECRET_ARN}, DECRYPT),
        ],
        APP,
        set(),
    ),
    Case(
        "write: PutSecretValue + kms:GenerateDataKey",
        [
            S,
            K,
            *role(
                "app", allow("secretsmanager:PutSecretValue"), allow("kms:GenerateDataKey", KEY_ARN)
            ),
        ],
        APP,
        {W},
    ),
    Case(
        "write without kms:GenerateDataKey",
        [S, K, *role("app", allow("secretsmanager:PutSecretValue"))],
        APP,
        set(),
    ),
    Case(
        "manage: DeleteSecret", [S, K, *role("app", allow("secretsmanager:DeleteSecret"))], APP, {M}
    ),
    # ---- denies, boundaries, attachments, groups ------------------------------------------
    Case("explicit Deny in the same policy", [S, K, *role("app", *READS, deny(GET))], APP, set()),
    Case(
        "Deny in an attached managed policy",
        [
            S,
            K,
            *role("app", *READS),
            managed("guard", deny("secretsmanager:*", "*")),
            attach("app", "guard"),
        ],
        APP,
        set(),
    ),
    Case(
        "reads through a managed policy attachment",
        [S, K, *role("app"), managed("read", *READS), attach("app", "read")],
        APP,
        {R},
        via=(
            "role " + APP,
            "managed policy attachment app-read",
            "policy customer-managed policy read",
            "statement 0",
        ),
    ),
    Case(
        "boundary without secretsmanager",
        [
            S,
            K,
            managed("pb", allow("s3:*", "*")),
            *role("app", *READS, permissionsBoundary=arn("pb", "policy")),
        ],
        APP,
        set(),
    ),
    Case(
        "boundary allowing it",
        [
            S,
            K,
            managed("pb", allow(["secretsmanager:*", "kms:*"], "*")),
            *role("app", *READS, permissionsBoundary=arn("pb", "policy")),
        ],
        APP,
        {R},
    ),
    Case(
        "group member",
        [
            S,
            K,
            *user("ann"),
            rec("aws:iam/group:Group", {"name": "ops"}, "ops"),
            rec(
                "aws:iam/groupPolicy:GroupPolicy", {"group": "ops", "policy": doc(*READS)}, "ops-p"
            ),
            rec("aws:iam/groupMembership:GroupMembership", {"group": "ops", "users": ["ann"]}, "m"),
        ],
        arn("ann", "user"),
        {R},
    ),
    Case(
        "not a member",
        [
            S,
            K,
            *user("ann"),
            rec("aws:iam/group:Group", {"name": "ops"}, "ops"),
            rec(
                "aws:iam/groupPolicy:GroupPolicy", {"group": "ops", "policy": doc(*READS)}, "ops-p"
            ),
        ],
        arn("ann", "user"),
        set(),
    ),
    # ---- conditions ------------------------------------------------------------------------
    Case(
        "tag condition the secret satisfies",
        [
            secret(tags={"team": "data"}),
            K,
            *role(
                "app",
                allow(GET, Condition={"StringEquals": {"aws:ResourceTag/team": "data"}}),
                DECRYPT,
            ),
        ],
        APP,
        {R},
        via=(
            "role " + APP,
            "inline policy app-p",
            "statement 0",
            "condition StringEquals aws:resourcetag/team [data]",
        ),
    ),
    Case(
        "tag condition the secret does not satisfy",
        [
            secret(tags={"team": "web"}),
            K,
            *role(
                "app",
                allow(GET, Condition={"StringEquals": {"secretsmanager:ResourceTag/team": "data"}}),
                DECRYPT,
            ),
        ],
        APP,
        set(),
    ),
    Case(
        "tag condition on an absent tag",
        [
            secret(tags={}),
            K,
            *role(
                "app",
                allow(GET, Condition={"StringEquals": {"aws:ResourceTag/team": "data"}}),
                DECRYPT,
            ),
        ],
        APP,
        set(),
    ),
    Case(
        "IfExists on an absent tag",
        [
            secret(tags={}),
            K,
            *role(
                "app",
                allow(GET, Condition={"StringEqualsIfExists": {"aws:ResourceTag/team": "data"}}),
                DECRYPT,
            ),
        ],
        APP,
        {R},
    ),
    Case(
        "a * value constrains nothing",
        [
            secret(tags={"team": "x"}),
            K,
            *role(
                "app", allow(GET, Condition={"StringLike": {"aws:ResourceTag/team": "*"}}), DECRYPT
            ),
        ],
        APP,
        {R},
    ),
    Case(
        "request-only condition (source IP): granted, shown",
        [
            S,
            K,
            *role(
                "app", allow(GET, Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}), DECRYPT
            ),
        ],
        APP,
        {R},
        via=(
            "role " + APP,
            "inline policy app-p",
            "statement 0",
            "condition IpAddress aws:sourceip [10.0.0.0/8]",
        ),
    ),
    Case(
        "principal tag matches",
        [
            S,
            K,
            *role(
                "app",
                allow(GET, Condition={"StringEquals": {"aws:PrincipalTag/team": "data"}}),
                DECRYPT,
                tags={"team": "data"},
            ),
        ],
        APP,
        {R},
    ),
    Case(
        "principal tag differs",
        [
            S,
            K,
            *role(
                "app",
                allow(GET, Condition={"StringEquals": {"aws:PrincipalTag/team": "data"}}),
                DECRYPT,
                tags={"team": "web"},
            ),
        ],
        APP,
        set(),
    ),
    Case(
        "principal tag equals the secret's (variable)",
        [
            secret(tags={"team": "data"}),
            K,
            *role(
                "app",
                allow(
                    GET,
                    Condition={
                        "StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}
                    },
                ),
                DECRYPT,
                tags={"team": "data"},
            ),
        ],
        APP,
        {R},
    ),
    Case(
        "principal tag unlike the secret's (variable)",
        [
            secret(tags={"team": "data"}),
            K,
            *role(
                "app",
                allow(
                    GET,
                    Condition={
                        "StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}
                    },
                ),
                DECRYPT,
                tags={"team": "web"},
            ),
        ],
        APP,
        set(),
    ),
    Case(
        "conditional Deny that may not apply",
        [
            S,
            K,
            *role("app", *READS, deny(GET, Condition={"Bool": {"aws:SecureTransport": "false"}})),
        ],
        APP,
        {R},
    ),
    # ---- the secret's resource policy ------------------------------------------------------
    Case(
        "resource policy Deny to all but listed readers",
        [
            S,
            K,
            *role("app", *READS),
            secret_policy(
                {
                    "Effect": "Deny",
                    "Principal": {"AWS": "*"},
                    "Action": GET,
                    "Resource": "*",
                    "Condition": {"ArnNotEquals": {"aws:PrincipalArn": [arn("other")]}},
                }
            ),
        ],
        APP,
        set(),
    ),
    Case(
        "listed reader passes the resource policy Deny",
        [
            S,
            K,
            *role("app", *READS),
            secret_policy(
                {
                    "Effect": "Deny",
                    "Principal": {"AWS": "*"},
                    "Action": GET,
                    "Resource": "*",
                    "Condition": {"ArnNotEquals": {"aws:PrincipalArn": [APP]}},
                }
            ),
        ],
        APP,
        {R},
    ),
    Case(
        "resource policy alone grants in its account",
        [
            S,
            K,
            *role("app", DECRYPT),
            secret_policy(
                {"Effect": "Allow", "Principal": {"AWS": APP}, "Action": GET, "Resource": "*"}
            ),
        ],
        APP,
        {R},
        via=("role " + APP, "secret policy db-policy", "statement 0"),
    ),
    Case(
        "resource policy naming the account root grants nothing alone",
        [
            S,
            K,
            *role("app", DECRYPT),
            secret_policy(
                {"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": GET, "Resource": "*"}
            ),
        ],
        APP,
        set(),
    ),
    Case(
        "another account named, key shared",
        [
            S,
            key(
                doc(
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": ROOT},
                        "Action": "kms:*",
                        "Resource": "*",
                    },
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"},
                        "Action": "kms:Decrypt",
                        "Resource": "*",
                    },
                )
            ),
            secret_policy(
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": arn("x", account=OTHER)},
                    "Action": GET,
                    "Resource": "*",
                }
            ),
        ],
        arn("x", account=OTHER),
        {R},
    ),
    Case(
        "another account named, key not shared",
        [
            S,
            K,
            secret_policy(
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": arn("x", account=OTHER)},
                    "Action": GET,
                    "Resource": "*",
                }
            ),
        ],
        arn("x", account=OTHER),
        set(),
    ),
    Case(
        "another account on the AWS managed key",
        [
            secret(kms=None),
            secret_policy(
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": arn("x", account=OTHER)},
                    "Action": GET,
                    "Resource": "*",
                }
            ),
        ],
        arn("x", account=OTHER),
        set(),
    ),
    # ---- escalations -----------------------------------------------------------------------
    Case(
        "assumes a reading role (root trust + identity allow)",
        [S, K, *role("app", *READS), *user("ann", allow("sts:AssumeRole", APP))],
        arn("ann", "user"),
        set(),
        {R},
    ),
    Case(
        "may assume, but the trust names someone else",
        [
            S,
            K,
            *role(
                "app",
                *READS,
                trust=doc(
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": arn("bob", "user")},
                        "Action": "sts:AssumeRole",
                    }
                ),
            ),
            *user("ann", allow("sts:AssumeRole", APP)),
        ],
        arn("ann", "user"),
        set(),
    ),
    Case(
        "named by the trust policy alone",
        [
            S,
            K,
            *role(
                "app",
                *READS,
                trust=doc(
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": arn("ann", "user")},
                        "Action": "sts:AssumeRole",
                    }
                ),
            ),
            *user("ann"),
        ],
        arn("ann", "user"),
        set(),
        {R},
    ),
    Case(
        "root trust without an identity allow",
        [S, K, *role("app", *READS), *user("ann")],
        arn("ann", "user"),
        set(),
    ),
    Case(
        "PutRolePolicy on itself",
        [S, K, *role("app", allow("iam:PutRolePolicy", APP))],
        APP,
        set(),
        {R, W, M, D},
    ),
    Case(
        "PutRolePolicy on a role it cannot assume",
        [
            S,
            K,
            *role("app", allow("iam:PutRolePolicy", arn("other"))),
            *role("other", trust=TRUST_LAMBDA),
        ],
        APP,
        set(),
    ),
    Case(
        "PutRolePolicy on itself under a boundary",
        [
            S,
            K,
            managed("pb", allow("iam:*", "*")),
            *role("app", allow("iam:PutRolePolicy", APP), permissionsBoundary=arn("pb", "policy")),
        ],
        APP,
        set(),
    ),
    Case(
        "CreatePolicyVersion of its own policy",
        [
            S,
            K,
            *role("app"),
            managed("mine", allow("iam:CreatePolicyVersion", arn("mine", "policy"))),
            attach("app", "mine"),
        ],
        APP,
        set(),
        {R, W, M, D},
    ),
    Case(
        "PutResourcePolicy on the secret",
        [S, K, *role("app", allow("secretsmanager:PutResourcePolicy"), DECRYPT)],
        APP,
        {M},
        {R, D},
    ),
    Case(
        "PutResourcePolicy refused by the resource policy",
        [
            S,
            K,
            *role("app", allow("secretsmanager:PutResourcePolicy"), DECRYPT),
            secret_policy(
                {
                    "Effect": "Deny",
                    "Principal": {"AWS": "*"},
                    "Action": "secretsmanager:PutResourcePolicy",
                    "Resource": "*",
                }
            ),
        ],
        APP,
        set(),
    ),
    Case(
        "PassRole of a reading role to a Lambda it creates",
        [
            S,
            K,
            *role("reader", *READS, trust=TRUST_LAMBDA),
            *user(
                "dev",
                allow("iam:PassRole", arn("reader")),
                allow(["lambda:CreateFunction", "lambda:InvokeFunction"], "*"),
            ),
        ],
        arn("dev", "user"),
        set(),
        {R},
    ),
    Case(
        "PassRole without creating a function",
        [
            S,
            K,
            *role("reader", *READS, trust=TRUST_LAMBDA),
            *user("dev", allow("iam:PassRole", arn("reader"))),
        ],
        arn("dev", "user"),
        set(),
    ),
    Case(
        "PassRole to a service the role does not trust",
        [
            S,
            K,
            *role("reader", *READS),
            *user(
                "dev",
                allow("iam:PassRole", arn("reader")),
                allow(["lambda:CreateFunction", "lambda:InvokeFunction"], "*"),
            ),
        ],
        arn("dev", "user"),
        set(),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rule(case: Case) -> None:
    g = graph(case.records)
    direct, escalated = actions(g, case.principal)
    assert (direct, escalated - direct) == (case.direct, case.escalated)
    if case.via:
        [urn] = [u for u, n in g.secrets.items() if n.store == "aws"]
        [first] = [a for a in g.access(urn) if a.principal == case.principal and not a.escalation]
        shown = first.to_json()["via"]
        at = 0
        for hop in case.via:
            found = next((i for i, h in enumerate(shown[at:], at) if h.startswith(hop)), None)
            assert found is not None, (hop, shown)
            at = found + 1


def test_escalation_path_shows_the_step_then_the_role() -> None:
    g = graph([S, K, *role("app", *READS), *user("ann", allow("sts:AssumeRole", APP))])
    [urn] = list(g.secrets)
    [entry] = [a for a in g.access(urn) if a.principal == arn("ann", "user")]
    via = entry.to_json()["via"]
    assert entry.escalation and via[0] == f"user {arn('ann', 'user')}"
    assert "trust policy app" in via and f"role {APP}" in via
    assert via.index("trust policy app") < via.index(f"role {APP}")


def test_web_identity_subjects_escalate_by_their_sub() -> None:
    provider = f"arn:aws:iam::{ACCT}:oidc-provider/oidc.eks.{REGION}.amazonaws.com/id/EXAMPLE"
    trust = doc(
        {
            "Effect": "Allow",
            "Principal": {"Federated": provider},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    f"oidc.eks.{REGION}.amazonaws.com/id/EXAMPLE:sub": "system:serviceaccount:ns:app"
                }
            },
        }
    )
    g = graph([S, K, *role("app", *READS, trust=trust)])
    assert actions(g, "system:serviceaccount:ns:app") == (set(), {R})
    assert actions(g, "system:serviceaccount:ns:other") == (set(), set())


def test_principal_arns_when_outputs_are_not_known() -> None:
    """A plan: the role's ARN from the stack's account, else role/<path><name>."""
    bare = rec(
        "aws:iam/role:Role", {"name": "app", "path": "/svc/", "assumeRolePolicy": TRUST_ROOT}, "app"
    )
    policy = rec("aws:iam/rolePolicy:RolePolicy", {"role": "app", "policy": doc(*READS)}, "app-p")
    g = graph([S, K, bare, policy])
    assert actions(g, f"arn:aws:iam::{ACCT}:role/svc/app") == ({R}, set())
    g = graph(
        [
            secret(kms=None, known_arn=False),
            bare,
            rec(
                "aws:iam/rolePolicy:RolePolicy",
                {"role": "app", "policy": doc(allow(GET, "*"))},
                "app-p",
            ),
        ]
    )
    assert actions(g, "role/svc/app") == ({R}, set())
    assert g.identities["role/svc/app"].kind == "role"


def test_identities_carry_their_tags_and_secrets_their_labels() -> None:
    g = graph(
        [
            secret(tags={"catalog-name": "DB", "revoked": "true"}),
            K,
            *role("app", *READS, tags={"role": "trader"}),
        ]
    )
    assert g.identities[APP].labels == {"role": "trader"}
    [node] = g.secrets.values()
    assert (node.address, node.catalog_name, node.revoked) == (SECRET_ARN, "DB", True)


@pytest.mark.parametrize(
    "records",
    [
        [
            S,
            K,
            rec("aws:iam/role:Role", {"name": "app", "assumeRolePolicy": TRUST_ROOT}, "app"),
            rec("aws:iam/rolePolicy:RolePolicy", {"role": "app", "policy": UNKNOWN}, "app-p"),
        ],
        [
            S,
            K,
            *role("app", *READS),
            rec(SECRET_POLICY_T, {"secretArn": SECRET_ARN, "policy": UNKNOWN}, "db-policy"),
        ],
        [secret(kms=UNKNOWN), *role("app", *READS)],
        [S, key(UNKNOWN), *role("app", *READS)],
        [S, *role("app", *READS), attach("app", "outside")],
    ],
    ids=[
        "identity policy",
        "resource policy",
        "kmsKeyId",
        "key policy",
        "policy outside the stack",
    ],
)
def test_unknowns_are_gaps_never_guesses(records: list[ResourceRecord]) -> None:
    g = graph(records)
    assert not g.complete and g.gaps


def test_a_key_outside_the_stack_is_a_gap_with_the_default_policy_assumed() -> None:
    g = graph(
        [
            secret(kms="arn:aws:kms:eu-west-1:111122223333:key/outside"),
            *role("app", allow(GET), allow("kms:Decrypt", "*")),
        ]
    )
    assert actions(g, APP) == ({R}, set())
    assert any("default key policy" in why for _u, why in g.gaps)
