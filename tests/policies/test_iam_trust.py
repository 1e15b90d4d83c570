"""Issue 9 rule 3: cross-account trust (allow-list, sts:ExternalId), web-identity subjects (in
test_iam_bypasses.py, OIDC_CASES) and KMS key policies that give another account kms:* or the
key's administration; the default key policy's root exception holds for the own account only."""

from __future__ import annotations

import json
from typing import Any

import pytest

from policies.lib.iam import account_grants, federated_accounts
from policies.model import ResourceRecord
from policies.pack import ALL
from policies.runner import run
from tests.policies.records import rec

OWN = "123456789012"
OTHER = "210987654321"
THIRD = "555555555555"
TRUST = "aws-iam-cross-account-trust"
KMS = "aws-kms-key-policy-no-foreign-admin"
ROLE = "aws:iam/role:Role"
KEY = "aws:kms/key:Key"
OIDC = f"arn:aws:iam::{OWN}:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/0123456789ABCDEF"


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def assume(principal: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole", **extra}


EXTERNAL_ID = {"Condition": {"StringEquals": {"sts:ExternalId": "partner-7f3a"}}}
OWN_ARN = {"arn": f"arn:aws:iam::{OWN}:role/nt-prod-live"}


def role(trust: str, outputs: dict[str, Any] | None = None, **props: Any) -> ResourceRecord:
    return rec(ROLE, {"name": "nt-prod-live", "assumeRolePolicy": trust, **props}, outputs=outputs)


def judge(
    records: list[ResourceRecord], policy: str, config: dict[str, Any] | None = None
) -> list[str]:
    selected = [p for p in ALL if p.spec.id == policy]
    cfg = {policy: config} if config else None
    return [v.message for v in run(records, policies=selected, config=cfg).violations]


# (id, record, config, violations expected?, substring of every message)
TRUST_CASES: list[tuple[str, ResourceRecord, dict[str, Any] | None, bool, str]] = [
    ("own-account-root", role(doc(assume(f"arn:aws:iam::{OWN}:root")), OWN_ARN), None, False, ""),
    (
        "own-account-role",
        role(doc(assume(f"arn:aws:iam::{OWN}:role/ci")), OWN_ARN),
        None,
        False,
        "",
    ),
    (
        "foreign-no-external-id",
        role(doc(assume(f"arn:aws:iam::{OTHER}:root")), OWN_ARN),
        None,
        True,
        "sts:ExternalId",
    ),
    ("foreign-bare-id", role(doc(assume(OTHER)), OWN_ARN), None, True, f"account {OTHER}"),
    (
        "foreign-with-external-id-not-allowed",
        role(doc(assume(f"arn:aws:iam::{OTHER}:root", **EXTERNAL_ID)), OWN_ARN),
        None,
        True,
        "outside allowedAccounts",
    ),
    (
        "foreign-allow-listed-with-external-id",
        role(doc(assume(f"arn:aws:iam::{OTHER}:root", **EXTERNAL_ID)), OWN_ARN),
        {"allowedAccounts": [OTHER]},
        False,
        "",
    ),
    (
        "foreign-allow-listed-without-external-id",
        role(doc(assume(f"arn:aws:iam::{OTHER}:role/deployer")), OWN_ARN),
        {"allowedAccounts": [OTHER]},
        True,
        "confused deputy",
    ),
    (
        "external-id-wildcard-is-none",
        role(
            doc(
                assume(
                    f"arn:aws:iam::{OTHER}:root", Condition={"StringLike": {"sts:ExternalId": "*"}}
                )
            ),
            OWN_ARN,
        ),
        {"allowedAccounts": [OTHER]},
        True,
        "sts:ExternalId",
    ),
    (
        "external-id-negated-is-none",
        role(
            doc(
                assume(
                    f"arn:aws:iam::{OTHER}:root",
                    Condition={"StringNotEquals": {"sts:ExternalId": "x"}},
                )
            ),
            OWN_ARN,
        ),
        {"allowedAccounts": [OTHER]},
        True,
        "sts:ExternalId",
    ),
    (
        "own-account-from-config",
        role(doc(assume(f"arn:aws:iam::{OTHER}:root"))),
        {"ownAccountIds": [OTHER]},
        False,
        "",
    ),
    (
        "own-account-unknown-single",
        role(doc(assume(f"arn:aws:iam::{OTHER}:root"))),
        None,
        False,
        "",
    ),
    (
        "own-account-unknown-two-accounts",
        role(doc(assume([f"arn:aws:iam::{OTHER}:root", f"arn:aws:iam::{THIRD}:root"]))),
        None,
        True,
        "set ownAccountIds",
    ),
    (
        "own-account-from-oidc-provider",  # a role can only federate with its own account's IdP
        role(
            doc(
                assume(f"arn:aws:iam::{OTHER}:root"),
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": OIDC},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                },
            )
        ),
        None,
        True,
        f"account {OTHER}",
    ),
    (
        "own-account-from-output-arn-in-state",
        role(
            doc(assume(f"arn:aws:iam::{OTHER}:root")),
            outputs={"arn": f"arn:aws:iam::{OWN}:role/nt-prod-live"},
        ),
        None,
        True,
        f"account {OTHER}",
    ),
    (
        "not-action-grants-assume",
        role(doc({"Effect": "Allow", "Principal": {"AWS": OTHER}, "NotAction": "s3:*"}), OWN_ARN),
        None,
        True,
        f"account {OTHER}",
    ),
    (
        "deny-statement-is-not-trust",
        role(
            doc(
                assume(f"arn:aws:iam::{OWN}:root"),
                {"Effect": "Deny", "Principal": {"AWS": OTHER}, "Action": "sts:AssumeRole"},
            ),
            OWN_ARN,
        ),
        None,
        False,
        "",
    ),
    (
        "service-principal",
        role(
            doc(
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ),
            OWN_ARN,
        ),
        None,
        False,
        "",
    ),
]


@pytest.mark.parametrize(
    ("record", "config", "violates", "text"),
    [pytest.param(r, c, v, t, id=i) for i, r, c, v, t in TRUST_CASES],
)
def test_cross_account_trust(
    record: ResourceRecord, config: dict[str, Any] | None, violates: bool, text: str
) -> None:
    messages = judge([record], TRUST, config)
    assert bool(messages) is violates, messages
    assert all(text in m for m in messages), messages


def root(account: str) -> str:
    return f"arn:aws:iam::{account}:root"


def key_statement(principal: str, action: Any, **extra: Any) -> dict[str, Any]:
    return {
        "Effect": "Allow",
        "Principal": {"AWS": principal},
        "Action": action,
        "Resource": "*",
        **extra,
    }


KEY_ARN = {"arn": f"arn:aws:kms:us-east-1:{OWN}:key/1234abcd-12ab-34cd-56ef-1234567890ab"}
USE = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]


def key(
    policy: str, outputs: dict[str, Any] | None = None, type_: str = KEY, **props: Any
) -> ResourceRecord:
    return rec(type_, {"policy": policy, **props}, outputs=outputs)


KMS_CASES: list[tuple[str, ResourceRecord, dict[str, Any] | None, bool, str]] = [
    (
        "default-key-policy-own-root",
        key(doc(key_statement(root(OWN), "kms:*")), KEY_ARN),
        None,
        False,
        "",
    ),
    (
        "foreign-root-kms-star",
        key(doc(key_statement(root(OWN), "kms:*"), key_statement(root(OTHER), "kms:*")), KEY_ARN),
        None,
        True,
        "kms:* (every administrative action)",
    ),
    (
        "foreign-role-admin",
        key(
            doc(
                key_statement(
                    f"arn:aws:iam::{OTHER}:role/ops",
                    ["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"],
                )
            ),
            KEY_ARN,
        ),
        None,
        True,
        "kms:PutKeyPolicy, kms:ScheduleKeyDeletion",
    ),
    (
        "foreign-partial-wildcard",
        key(doc(key_statement(root(OTHER), "kms:*Key*")), KEY_ARN),
        None,
        True,
        "kms:DisableKey",
    ),
    ("foreign-use-only", key(doc(key_statement(root(OTHER), USE)), KEY_ARN), None, False, ""),
    (
        "foreign-create-grant",
        key(doc(key_statement(root(OTHER), "kms:CreateGrant")), KEY_ARN),
        None,
        True,
        "kms:CreateGrant",
    ),
    (
        "foreign-create-grant-for-aws-resource",
        key(
            doc(
                key_statement(
                    root(OTHER),
                    "kms:CreateGrant",
                    Condition={"Bool": {"kms:GrantIsForAWSResource": "true"}},
                )
            ),
            KEY_ARN,
        ),
        None,
        False,
        "",
    ),
    (
        "foreign-tagging",
        key(doc(key_statement(root(OTHER), "kms:TagResource")), KEY_ARN),
        None,
        True,
        "kms:TagResource",
    ),
    (
        "own-from-config",
        key(doc(key_statement(root(OTHER), "kms:*"))),
        {"ownAccountIds": [OTHER]},
        False,
        "",
    ),
    ("own-unknown-one-account", key(doc(key_statement(root(OTHER), "kms:*"))), None, False, ""),
    (
        "own-unknown-two-accounts",
        key(doc(key_statement(root(OWN), "kms:*"), key_statement(root(OTHER), "kms:*"))),
        None,
        True,
        "set ownAccountIds",
    ),
    (
        "key-policy-resource-key-id-arn",
        key(
            doc(key_statement(root(OTHER), "kms:*")),
            type_="aws:kms/keyPolicy:KeyPolicy",
            keyId=KEY_ARN["arn"],
        ),
        None,
        True,
        f"account {OTHER}",
    ),
    (
        "own-from-state-outputs",
        key(doc(key_statement(root(OTHER), "kms:*")), outputs=KEY_ARN),
        None,
        True,
        f"account {OTHER}",
    ),
]


@pytest.mark.parametrize(
    ("record", "config", "violates", "text"),
    [pytest.param(r, c, v, t, id=i) for i, r, c, v, t in KMS_CASES],
)
def test_key_policy_foreign_admin(
    record: ResourceRecord, config: dict[str, Any] | None, violates: bool, text: str
) -> None:
    messages = judge([record], KMS, config)
    assert bool(messages) is violates, messages
    assert all(text in m for m in messages), messages


def test_account_grants_and_federated_accounts() -> None:
    trust = doc(
        assume([root(OWN), OTHER, f"arn:aws:sts::{THIRD}:assumed-role/x/y", "*"], **EXTERNAL_ID),
        {
            "Effect": "Allow",
            "Principal": {"Federated": OIDC},
            "Action": "sts:AssumeRoleWithWebIdentity",
        },
    )
    grants = account_grants(trust, "trust")
    assert [(g.account, g.root, g.external_id) for g in grants] == [
        (OWN, True, True),
        (OTHER, True, True),
        (THIRD, False, True),
    ]
    assert federated_accounts(trust) == {OWN}
    assert account_grants("{not json", "trust") == []


def test_table_ids_unique() -> None:
    for table in (TRUST_CASES, KMS_CASES):
        assert len({row[0] for row in table}) == len(table)


#: Compliant and violating cases of the two new policies for tests/policies/test_pack.py's CASES
#: (``*IAM_PACK_CASES``): (case, policy, records, expected violations; 0 = compliant).
IAM_PACK_CASES: list[tuple[str, str, list[ResourceRecord], int]] = [
    ("trust own account", TRUST, [TRUST_CASES[0][1]], 0),
    ("trust foreign account without external id", TRUST, [TRUST_CASES[2][1]], 1),
    ("key policy default root", KMS, [KMS_CASES[0][1]], 0),
    ("key policy foreign root kms:*", KMS, [KMS_CASES[1][1]], 1),
]


@pytest.mark.parametrize(
    ("policy", "records", "expected"),
    [pytest.param(p, r, e, id=c) for c, p, r, e in IAM_PACK_CASES],
)
def test_pack_cases(policy: str, records: list[ResourceRecord], expected: int) -> None:
    assert len(judge(records, policy)) == expected
