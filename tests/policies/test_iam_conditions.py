"""AWS IAM conditions judged by what they let through (issue 21, class 2): a condition on a key
the statement's requests carry, with a value that excludes something, constrains (tags, secret
ids and names, principal tags, source networks, an expired time window); a key no request of the
statement carries, a wildcard value, ``...IfExists``, ``Null``, negations, ``ForAllValues``, an
empty ``ForAnyValue`` and a time window still open do not, and the statement stays a finding."""

from __future__ import annotations

import gzip
from typing import Any

import pytest

from policies.data import _CONDITION_KEYS, aws_condition_keys
from policies.lib.iam import analyze, read_only_findings
from tests.conftest import script_module

READ_ANY_SECRET = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]


def statement(condition: dict[str, Any] | None, actions: Any = READ_ANY_SECRET) -> dict[str, Any]:
    st: dict[str, Any] = {"Effect": "Allow", "Action": actions, "Resource": "*"}
    if condition is not None:
        st["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [st]}


def risky(findings: list[Any]) -> set[str]:
    return {f.rule for f in findings} & {"data-exfiltration", "credentials-exposure"}


# name, condition, constrains (True: the risk rules are off and resource-star is medium)
CASES: list[tuple[str, dict[str, Any] | None, bool]] = [
    ("no condition", None, False),
    # attribute-based access on tags
    ("resource tag", {"StringEquals": {"aws:ResourceTag/environment": "development"}}, True),
    ("service resource tag", {"StringEquals": {"secretsmanager:ResourceTag/team": "quant"}}, True),
    (
        "resource tag matching the principal's",
        {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}},
        True,
    ),
    ("principal tag", {"StringEquals": {"aws:PrincipalTag/role": "backtest"}}, True),
    ("tag wildcard value", {"StringLike": {"aws:ResourceTag/environment": "*"}}, False),
    ("tag wildcard among values", {"StringLike": {"aws:ResourceTag/env": ["dev", "*"]}}, False),
    ("tag if exists", {"StringEqualsIfExists": {"aws:ResourceTag/env": "dev"}}, False),
    ("tag negated", {"StringNotEquals": {"aws:ResourceTag/env": "production"}}, False),
    ("tag present (Null false)", {"Null": {"aws:ResourceTag/env": "false"}}, False),
    ("tag absent (Null true)", {"Null": {"aws:ResourceTag/env": "true"}}, False),
    ("empty value", {"StringEquals": {"aws:ResourceTag/env": []}}, False),
    ("ForAnyValue with no value", {"ForAnyValue:StringEquals": {"aws:TagKeys": []}}, False),
    ("ForAllValues", {"ForAllValues:StringEquals": {"aws:TagKeys": ["env"]}}, False),
    # names and ids of the secret
    (
        "secret id prefix",
        {
            "StringLike": {
                "secretsmanager:SecretId": "arn:aws:secretsmanager:us-east-1:123456789012:secret:dev/*"
            }
        },
        True,
    ),
    ("secret id any", {"StringLike": {"secretsmanager:SecretId": "*"}}, False),
    # wrong keys: another service's, a typo, a made-up service
    ("key of another service", {"StringLike": {"s3:prefix": "dev/"}}, False),
    ("typo of a tag key", {"StringEquals": {"aws:ResourceTags/env": "dev"}}, False),
    ("unknown service key", {"StringEquals": {"secretmanager:SecretId": "x"}}, False),
    # time bounds: an expired window allows nothing any more; an open one still does
    ("expired window", {"DateLessThan": {"aws:CurrentTime": "2001-01-01T00:00:00Z"}}, True),
    ("expired epoch window", {"NumericLessThan": {"aws:EpochTime": "978307200"}}, True),
    ("open window", {"DateLessThan": {"aws:CurrentTime": "2999-01-01T00:00:00Z"}}, False),
    (
        "window from a past date",
        {"DateGreaterThan": {"aws:CurrentTime": "2001-01-01T00:00:00Z"}},
        False,
    ),
    ("not a date", {"DateLessThan": {"aws:CurrentTime": "yesterday"}}, False),
    (
        "expired if exists",
        {"DateLessThanIfExists": {"aws:CurrentTime": "2001-01-01T00:00:00Z"}},
        False,
    ),
    # how a request is made is no constraint on what it reaches
    ("secure transport", {"Bool": {"aws:SecureTransport": "true"}}, False),
    ("mfa", {"Bool": {"aws:MultiFactorAuthPresent": "true"}}, False),
    # where it comes from is
    ("source vpce", {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}, True),
    # several keys are AND-ed: one constraining entry constrains
    (
        "transport and tag",
        {"Bool": {"aws:SecureTransport": "true"}, "StringEquals": {"aws:ResourceTag/env": "dev"}},
        True,
    ),
]


@pytest.mark.parametrize(("name", "condition", "constrains"), CASES, ids=[c[0] for c in CASES])
def test_a_grant_is_judged_under_its_condition(
    name: str, condition: dict[str, Any] | None, constrains: bool
) -> None:
    findings = analyze(statement(condition), kind="identity")
    star = [f for f in findings if f.rule == "resource-star-on-scopable-action"]
    if constrains:  # judged under its condition, '*' is narrowed: neither risky nor unscoped
        assert not risky(findings) and star == [], [f.message for f in findings]
    else:
        assert risky(findings) == {"data-exfiltration"}, [f.message for f in findings]
        assert [f.severity for f in star] == ["high"]


def test_a_key_of_one_service_constrains_a_statement_that_uses_it() -> None:
    # kms:EncryptionContext on a statement of KMS and Secrets Manager actions: KMS requests carry
    # it; Secrets Manager requests do not, and StringEquals on an absent key fails
    cond = {"StringEquals": {"kms:EncryptionContext:SecretARN": "arn:aws:secretsmanager:x"}}
    both = analyze(statement(cond, [*READ_ANY_SECRET, "kms:Decrypt"]), kind="identity")
    assert not risky(both)
    only_secrets = analyze(statement(cond), kind="identity")
    assert risky(only_secrets) == {"data-exfiltration"}


WRITE = {"Effect": "Allow", "Action": "secretsmanager:PutSecretValue", "Resource": "*"}


@pytest.mark.parametrize(
    ("deny_condition", "removes"),
    [
        (None, True),
        # a conditional Deny denies only under its condition: it removes nothing for sure
        ({"StringEquals": {"aws:ResourceTag/env": "production"}}, False),
        ({"DateGreaterThan": {"aws:CurrentTime": "2001-01-01T00:00:00Z"}}, False),
        ({"Bool": {"aws:SecureTransport": "false"}}, False),
    ],
)
def test_a_conditional_deny_is_not_an_unconditional_one(
    deny_condition: dict[str, Any] | None, removes: bool
) -> None:
    deny: dict[str, Any] = {
        "Effect": "Deny",
        "Action": "secretsmanager:PutSecretValue",
        "Resource": "*",
    }
    if deny_condition is not None:
        deny["Condition"] = deny_condition
    doc = {"Version": "2012-10-17", "Statement": [WRITE, deny]}
    found = [f.rule for _, f in read_only_findings([("inline", doc)])]
    assert ("read-only-violation" in found) is not removes


def test_the_vendored_condition_keys_are_policy_sentrys() -> None:
    script = script_module("scripts/build_action_index.py")
    assert script.encode(script.derive_conditions()) == _CONDITION_KEYS.read_bytes(), (
        "run `.venv/bin/python scripts/build_action_index.py` and update policies/data/SOURCES.md"
    )
    assert gzip.decompress(_CONDITION_KEYS.read_bytes())
    keys = aws_condition_keys()
    assert {"secretsmanager:secretid", "aws:resourcetag/${tagkey}"} <= keys["secretsmanager"]
    assert "kms:encryptioncontext:${encryptioncontextkey}" in keys["kms"]
