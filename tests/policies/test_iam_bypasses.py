"""Table-driven regression tests for reviewed bypasses of policies.lib.iam.analyze:
1. wildcard ARNs equivalent to Resource "*", 2. conditions that do not constrain, 3. wildcard
condition values in public-principal and web-identity trusts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from policies.lib.iam import (
    NON_CONSTRAINING_CONDITION_KEYS,
    Finding,
    analyze,
    type_wide,
    unscoped_resource,
)

ACCT = "123456789012"
UNSCOPED_RULES = {"resource-star-on-scopable-action", "type-wide-resource"}
GITHUB_OIDC = f"arn:aws:iam::{ACCT}:oidc-provider/token.actions.githubusercontent.com"
GOOGLE = "accounts.google.com"


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: Any, resource: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def rules(findings: list[Finding]) -> set[str]:
    return {f.rule for f in findings}


# --- 1. unscoped resources -------------------------------------------------------------------

UNSCOPED = [
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:*-*",  # every secret: names end -XXXXXX
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:*/*",
    "arn:aws:s3:::*-*/*",
    "arn:aws:s3:::*/x*",  # any bucket
    "*",
    " * ",
    "*/*",
    "arn:aws:secretsmanager:*:*:secret:*",
    "arn:aws:s3:::*",
    "arn:aws:s3:::*/*",
    "arn:aws:iam::*:role/*",
    "arn:aws:kms:*:*:key/*",
    f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:*",
    f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:?*",
    f"arn:aws:iam::{ACCT}:role/*",
    f"arn:aws:kms:us-east-1:{ACCT}:key/*",
    f"arn:aws:lambda:us-east-1:{ACCT}:function:*",
    f"arn:aws:dynamodb:us-east-1:{ACCT}:table/*",
    f"arn:aws:logs:us-east-1:{ACCT}:log-group:*:log-stream:*",
    f"arn:aws:ssm:us-east-1:{ACCT}:parameter/*",
    f"arn:aws:sqs:us-east-1:{ACCT}:*",
    f"arn:aws:s3:us-east-1:{ACCT}:job/*",
    "arn:aws:lambda:*:*:function:SecretsManager*",  # any account's function (attacker's too)
    "arn:aws:iam::12345678901?:role/x",
    f"arn:aws:nosuchservice:us-east-1:{ACCT}:thing/*",  # unknown service: generic type prefix
    f"arn:aws:*:us-east-1:{ACCT}:*",
    "arn:aws:*",
    "arn:*",
]
SCOPED = [
    f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:neural-trader/production/*",
    f"arn:aws:secretsmanager:*:{ACCT}:secret:neural-trader/*",  # wildcard region alone
    "arn:aws:s3:::neural-trader-artifacts/*",
    "arn:aws:s3:::neural-trader-artifacts",
    "arn:aws:s3:::job/*",  # a bucket named "job", not the S3 Batch job type
    f"arn:aws:iam::{ACCT}:role/service-role/*",
    f"arn:aws:iam::{ACCT}:role/trader",
    f"arn:aws:kms:us-east-1:{ACCT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    f"arn:aws:lambda:us-east-1:{ACCT}:function:rotate-*",
    f"arn:aws:dynamodb:us-east-1:{ACCT}:table/trades*",
    f"arn:aws:logs:us-east-1:{ACCT}:log-group:/aws/lambda/rotate:*",
    "neural-trader/*",  # not an ARN
]


@pytest.mark.parametrize(
    ("resource", "expected"),
    [pytest.param(r, True, id=f"unscoped:{r}") for r in UNSCOPED]
    + [pytest.param(r, False, id=f"scoped:{r}") for r in SCOPED],
)
def test_unscoped_resource(resource: str, expected: bool) -> None:
    assert unscoped_resource(resource) is expected


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        pytest.param(r, True, id=f"unscoped:{r}")
        for r in UNSCOPED
        if r.strip() != "*" and "nosuchservice" not in r  # names no action's resource
    ]
    + [pytest.param(r, False, id=f"scoped:{r}") for r in SCOPED if r.startswith("arn:")],
)
def test_wildcard_arn_is_resource_star(resource: str, expected: bool) -> None:
    # an action of every service a pattern may name, so that the pattern reaches one of them
    actions = [
        "secretsmanager:GetSecretValue",
        "ssm:GetParameter",
        "s3:GetObject",
        "s3:DescribeJob",
        "logs:GetLogEvents",
        "sqs:ReceiveMessage",
        "lambda:GetFunction",
        "iam:GetRole",
        "kms:Decrypt",
        "dynamodb:GetItem",
    ]
    findings = analyze(doc(allow(actions, resource)), kind="identity")
    # every resource, or every resource of one type in one account (medium)
    rule, severity = (
        ("type-wide-resource", "medium")
        if type_wide(resource)
        else ("resource-star-on-scopable-action", "high")
    )
    star = [f for f in findings if f.rule in UNSCOPED_RULES]
    exfil = [f for f in findings if f.rule == "data-exfiltration"]
    if expected:
        assert [(f.rule, f.severity) for f in star] == [(rule, severity)], star
        assert json.dumps(resource) in star[0].message  # says which pattern is unscoped
        if "secretsmanager" in resource or "ssm" in resource or not resource.startswith("arn:aws:"):
            assert len(exfil) == 1 and json.dumps(resource) in exfil[0].message
    else:
        assert star == [] and exfil == [], [f.message for f in findings]


TYPED_REACH = [
    # (Resource, actions the statement names, the scopable ones it reaches on that pattern)
    (
        f"arn:aws:ec2:us-east-1:{ACCT}:instance/*",
        ["ec2:DescribeInstanceAttribute", "ec2:DescribeClientVpnConnections"],
        {"ec2:DescribeInstanceAttribute"},
    ),
    (f"arn:aws:ssm:us-east-1:{ACCT}:parameter/*", ["secretsmanager:GetSecretValue"], set()),
    (
        f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:*",
        ["secretsmanager:GetSecretValue", "kms:Decrypt"],
        {"secretsmanager:GetSecretValue"},
    ),
    (
        f"arn:aws:*:us-east-1:{ACCT}:*",
        ["kms:Decrypt", "ssm:GetParameter"],
        {"kms:Decrypt", "ssm:GetParameter"},
    ),
]


@pytest.mark.parametrize(("resource", "actions", "reached"), TYPED_REACH)
def test_a_typed_pattern_reaches_only_the_actions_of_its_resource_types(
    resource: str, actions: list[str], reached: set[str]
) -> None:
    """An action whose resource types the pattern cannot name is not granted by the statement
    (its requests carry ARNs the pattern does not match): not reported as unscoped, nor risky."""
    findings = analyze(doc(allow(actions, resource)), kind="identity")
    star = [f for f in findings if f.rule in UNSCOPED_RULES]
    assert {a for f in star for a in f.actions} == reached
    risky = {a for f in findings if f.rule == "data-exfiltration" for a in f.actions}
    assert risky <= reached


RISK_CASES: list[tuple[str, dict[str, Any], set[str]]] = [
    (
        "assume-any-account-role",
        doc(allow("sts:AssumeRole", "arn:aws:iam::*:role/*")),
        {"resource-star-on-scopable-action", "credentials-exposure"},
    ),
    (
        "assume-named-role",
        doc(allow("sts:AssumeRole", f"arn:aws:iam::{ACCT}:role/trader")),
        set(),
    ),
    (
        "passrole-lambda-wildcard-arns",
        doc(
            allow("iam:PassRole", f"arn:aws:iam::{ACCT}:role/*"),
            allow(
                ["lambda:CreateFunction", "lambda:InvokeFunction"],
                f"arn:aws:lambda:us-east-1:{ACCT}:function:*",
            ),
        ),
        {"type-wide-resource", "privilege-escalation", "permissions-management"},
    ),
    (
        "passrole-lambda-prefix-scoped",
        doc(
            allow("iam:PassRole", f"arn:aws:iam::{ACCT}:role/rotation/*"),
            allow(
                ["lambda:CreateFunction", "lambda:InvokeFunction"],
                f"arn:aws:lambda:us-east-1:{ACCT}:function:rotate-*",
            ),
        ),
        set(),
    ),
    (
        "secret-policy-on-every-secret",
        doc(allow("secretsmanager:PutResourcePolicy", "arn:aws:secretsmanager:*:*:secret:*")),
        {"resource-star-on-scopable-action", "permissions-management"},
    ),
    (
        "s3-every-object",
        doc(allow("s3:GetObject", "arn:aws:s3:::*/*")),
        {"resource-star-on-scopable-action", "data-exfiltration"},
    ),
    (
        "kms-every-key-decrypt",
        doc(allow("kms:Decrypt", "arn:aws:kms:*:*:key/*")),
        {"resource-star-on-scopable-action"},
    ),
]


@pytest.mark.parametrize(
    ("policy", "expected"), [pytest.param(d, e, id=n) for n, d, e in RISK_CASES]
)
def test_wildcard_arn_risk_classes(policy: dict[str, Any], expected: set[str]) -> None:
    findings = analyze(policy, kind="identity")
    assert rules(findings) == expected, [f.message for f in findings]


# --- 2. conditions that do not constrain -----------------------------------------------------

PRIVESC_ACTIONS = [
    "iam:PassRole",
    "lambda:CreateFunction",
    "iam:AttachRolePolicy",
    "sts:AssumeRole",
]
UNCONSTRAINED_RULES = {
    "resource-star-on-scopable-action",
    "privilege-escalation",
    "permissions-management",
    "credentials-exposure",
}

NON_CONSTRAINING = [
    ("secure-transport", {"Bool": {"aws:SecureTransport": "true"}}),
    # negations exclude a little and admit the rest; ForAllValues holds for untagged requests;
    # a CIDR of the whole address space excludes nothing
    ("negated-principal-tag", {"StringNotEquals": {"aws:PrincipalTag/role": "intern"}}),
    ("negated-resource-tag", {"StringNotEquals": {"aws:ResourceTag/team": "nobody"}}),
    ("all-addresses", {"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}),
    ("forallvalues-tag-keys", {"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}}),
    ("mfa-present", {"Bool": {"aws:MultiFactorAuthPresent": "true"}}),
    ("mfa-age", {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}),
    ("current-time", {"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}),
    ("epoch-time", {"NumericLessThan": {"aws:EpochTime": "1900000000"}}),
    ("token-issue-time", {"DateGreaterThan": {"aws:TokenIssueTime": "2020-01-01T00:00:00Z"}}),
    ("user-agent", {"StringLike": {"aws:UserAgent": "aws-cli/*"}}),
    ("referer", {"StringLike": {"aws:Referer": "https://example.com/*"}}),
    ("requested-region", {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}),
    ("via-aws-service", {"Bool": {"aws:ViaAWSService": "true"}}),
    ("called-via", {"ForAnyValue:StringEquals": {"aws:CalledVia": "cloudformation.amazonaws.com"}}),
    ("called-via-first", {"StringEquals": {"aws:CalledViaFirst": "cloudformation.amazonaws.com"}}),
    ("called-via-last", {"StringEquals": {"aws:CalledViaLast": "cloudformation.amazonaws.com"}}),
    ("mixed-case-key", {"Bool": {"AWS:SECURETRANSPORT": "true"}}),
    ("if-exists", {"StringEqualsIfExists": {"aws:ResourceTag/team": "trading"}}),
    ("arn-like-if-exists", {"ArnLikeIfExists": {"aws:SourceArn": "arn:aws:s3:::bucket"}}),
    ("null", {"Null": {"aws:ResourceTag/team": "false"}}),
    ("wildcard-only-value", {"StringLike": {"aws:ResourceTag/team": "*"}}),
    ("wildcard-among-values", {"StringLike": {"aws:ResourceTag/team": ["trading", "*"]}}),
    (
        "several-non-constraining",
        {
            "Bool": {"aws:SecureTransport": "true", "aws:MultiFactorAuthPresent": "true"},
            "StringEquals": {"aws:RequestedRegion": "us-east-1"},
        },
    ),
]
CONSTRAINING = [
    ("resource-tag", {"StringEquals": {"aws:ResourceTag/team": "trading"}}),
    ("source-ip", {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}),
    ("source-vpce", {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}),
    (
        "one-constraining-among-others",
        {
            "Bool": {"aws:SecureTransport": "true"},
            "StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"},
        },
    ),
]


def test_non_constraining_keys_are_the_documented_set() -> None:
    assert {
        "aws:securetransport",
        "aws:multifactorauthpresent",
        "aws:multifactorauthage",
        "aws:currenttime",
        "aws:epochtime",
        "aws:tokenissuetime",
        "aws:useragent",
        "aws:referer",
        "aws:requestedregion",
        "aws:viaawsservice",
    } <= NON_CONSTRAINING_CONDITION_KEYS


@pytest.mark.parametrize(
    ("condition", "constrained"),
    [pytest.param(c, False, id=f"not-constraining:{n}") for n, c in NON_CONSTRAINING]
    + [pytest.param(c, True, id=f"constraining:{n}") for n, c in CONSTRAINING],
)
def test_only_constraining_conditions_switch_off_risk_rules(
    condition: dict[str, Any], constrained: bool
) -> None:
    findings = analyze(doc(allow(PRIVESC_ACTIONS, "*", Condition=condition)), kind="identity")
    if constrained:
        assert rules(findings) == set(), [f.message for f in findings]
    else:
        assert rules(findings) == UNCONSTRAINED_RULES, [f.message for f in findings]
        star = next(f for f in findings if f.rule == "resource-star-on-scopable-action")
        assert star.severity == "high"


def test_secure_transport_example_from_review() -> None:
    policy = doc(
        allow(PRIVESC_ACTIONS, "*", Condition={"Bool": {"aws:SecureTransport": "true"}}),
    )
    found = rules(analyze(policy, kind="identity"))
    assert {"privilege-escalation", "permissions-management"} <= found


# --- 3. public principal and web-identity trusts ---------------------------------------------

PUBLIC_CONDITIONS = [
    ("principal-arn-any-account", {"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:*"}}),
    ("principal-arn-any-account-role", {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/x"}}),
    ("principal-arn-partial-account", {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::1234*:root"}}),
    ("principal-arn-star", {"ArnLike": {"aws:PrincipalArn": "*"}}),
    ("principal-arn-truncated", {"ArnLike": {"aws:PrincipalArn": "arn:aws:*"}}),
    ("principal-account-star", {"StringLike": {"aws:PrincipalAccount": "*"}}),
    ("principal-account-partial", {"StringLike": {"aws:PrincipalAccount": "12345678901?"}}),
    ("source-account-star", {"StringLike": {"aws:SourceAccount": "*"}}),
    ("source-account-partial", {"StringLike": {"aws:SourceAccount": "1234*"}}),
    ("source-arn-any-bucket", {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::*"}}),
    ("source-arn-any-account", {"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:*:alerts"}}),
    ("org-id-wildcard", {"StringLike": {"aws:PrincipalOrgID": "o-*"}}),
    ("org-paths-wildcard-org", {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "o-*/*"}}),
    ("userid-wildcard", {"StringLike": {"aws:userid": "*:trader"}}),
    ("caller-account-star", {"StringLike": {"kms:CallerAccount": "*"}}),
    ("wildcard-among-values", {"StringLike": {"aws:PrincipalAccount": [ACCT, "*"]}}),
    ("empty-value", {"StringEquals": {"aws:PrincipalAccount": ""}}),
    ("if-exists", {"StringEqualsIfExists": {"aws:PrincipalAccount": ACCT}}),
]
RESTRICTING_CONDITIONS = [
    (
        "principal-arn-role-prefix",
        {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCT}:role/ci-*"}},
    ),
    ("principal-arn-whole-account", {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCT}:*"}}),
    ("principal-account", {"StringEquals": {"aws:PrincipalAccount": ACCT}}),
    ("source-account", {"StringEquals": {"aws:SourceAccount": ACCT}}),
    ("source-arn-bucket", {"ArnEquals": {"aws:SourceArn": "arn:aws:s3:::neural-trader-artifacts"}}),
    ("source-arn-any-region", {"ArnLike": {"aws:SourceArn": f"arn:aws:sns:*:{ACCT}:*"}}),
    ("org-id", {"StringEquals": {"aws:PrincipalOrgID": "o-abc123def4"}}),
    ("org-paths", {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "o-abc123def4/r-ab12/*"}}),
    ("userid-role-sessions", {"StringLike": {"aws:userid": "AROAEXAMPLEID:*"}}),
    (
        "one-restricting-among-others",
        {
            "StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:*"},
            "StringEquals": {"aws:PrincipalOrgID": "o-abc123def4"},
        },
    ),
]


@pytest.mark.parametrize(
    ("condition", "public"),
    [pytest.param(c, True, id=f"public:{n}") for n, c in PUBLIC_CONDITIONS]
    + [pytest.param(c, False, id=f"restricted:{n}") for n, c in RESTRICTING_CONDITIONS],
)
@pytest.mark.parametrize("kind", ["resource", "key"])
def test_public_principal_condition_values(
    condition: dict[str, Any], public: bool, kind: str
) -> None:
    statement = allow(
        "secretsmanager:GetSecretValue" if kind == "resource" else "kms:DescribeKey",
        "*",
        Principal="*",
        Condition=condition,
    )
    found = rules(analyze(doc(statement), kind=kind))  # type: ignore[arg-type]
    assert ("public-principal" in found) is public, found


@pytest.mark.parametrize(
    ("condition", "public"),
    [pytest.param(c, True, id=f"public:{n}") for n, c in PUBLIC_CONDITIONS[:4]]
    + [pytest.param(c, False, id=f"restricted:{n}") for n, c in RESTRICTING_CONDITIONS[:3]],
)
def test_public_trust_condition_values(condition: dict[str, Any], public: bool) -> None:
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": "sts:AssumeRole",
        "Condition": condition,
    }
    assert ("public-principal" in rules(analyze(doc(statement), kind="trust"))) is public


def oidc_trust(provider: str, condition: dict[str, Any]) -> dict[str, Any]:
    return doc(
        {
            "Effect": "Allow",
            "Principal": {"Federated": provider},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": condition,
        }
    )


GH = "token.actions.githubusercontent.com"
EKS = "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
EKS_OIDC = f"arn:aws:iam::{ACCT}:oidc-provider/{EKS}"
EKS_SA = "system:serviceaccount:backtests:backtest-runner"
STS = "sts.amazonaws.com"
COGNITO = "cognito-identity.amazonaws.com"
GH_AUD = {f"{GH}:aud": "sts.amazonaws.com"}
OIDC_CASES: list[tuple[str, str, dict[str, Any], bool]] = [
    # id, provider, condition, public?
    ("gh-sub-star", GITHUB_OIDC, {"StringLike": {f"{GH}:sub": "*"}}, True),
    ("gh-sub-repo-star", GITHUB_OIDC, {"StringLike": {f"{GH}:sub": "repo:*"}}, True),
    ("gh-sub-repo-star-slash", GITHUB_OIDC, {"StringLike": {f"{GH}:sub": "repo:*/*"}}, True),
    ("gh-sub-owner-prefix", GITHUB_OIDC, {"StringLike": {f"{GH}:sub": "repo:my-org*/x"}}, True),
    ("gh-sub-question", GITHUB_OIDC, {"StringLike": {f"{GH}:sub": "?*"}}, True),
    ("gh-sub-custom-wild", GITHUB_OIDC, {"StringLike": {f"{GH}:sub": "job_workflow_ref:*"}}, True),
    (
        "gh-sub-star-with-aud",
        GITHUB_OIDC,
        {"StringEquals": GH_AUD, "StringLike": {f"{GH}:sub": "repo:*"}},
        True,
    ),
    (
        "gh-sub-one-wild-value",
        GITHUB_OIDC,
        {"StringLike": {f"{GH}:sub": ["repo:my-org/my-repo:ref:refs/heads/main", "repo:*"]}},
        True,
    ),
    (
        "gh-sub-if-exists",
        GITHUB_OIDC,
        {"StringLikeIfExists": {f"{GH}:sub": "repo:my-org/*"}},
        True,
    ),
    (
        "gh-sub-main-branch",
        GITHUB_OIDC,
        {"StringEquals": {**GH_AUD, f"{GH}:sub": "repo:my-org/my-repo:ref:refs/heads/main"}},
        False,
    ),
    # issue 9 rule 3: a wildcard anywhere in the subject is a finding, even after the repository
    ("gh-sub-org-scoped", GITHUB_OIDC, {"StringLike": {f"{GH}:sub": "repo:my-org/*"}}, True),
    (
        "gh-sub-repo-any-ref",
        GITHUB_OIDC,
        {"StringLike": {f"{GH}:sub": "repo:my-org/my-repo:*"}},
        True,
    ),
    (
        "gh-sub-two-refs-one-repo",  # several refs of the same repository: one repository named
        GITHUB_OIDC,
        {
            "StringEquals": {
                f"{GH}:sub": [
                    "repo:my-org/my-repo:ref:refs/heads/main",
                    "repo:my-org/my-repo:environment:production",
                ]
            }
        },
        False,
    ),
    (
        "gh-sub-two-repos",
        GITHUB_OIDC,
        {
            "StringEquals": {
                f"{GH}:sub": [
                    "repo:my-org/my-repo:ref:refs/heads/main",
                    "repo:my-org/other:ref:refs/heads/main",
                ]
            }
        },
        True,
    ),
    ("gh-aud-only", GITHUB_OIDC, {"StringEquals": GH_AUD}, True),
    (
        "gh-sub-environment",
        GITHUB_OIDC,
        {"StringEquals": {f"{GH}:sub": "repo:my-org/my-repo:environment:production"}},
        False,
    ),
    (
        "gh-sub-custom-owner",
        GITHUB_OIDC,
        {"StringLike": {f"{GH}:sub": "repository_owner:my-org:*"}},
        True,
    ),
    (
        "gh-sub-wild-plus-literal",  # conditions are AND-ed: the literal one restricts
        GITHUB_OIDC,
        {
            "StringLike": {f"{GH}:sub": "*"},
            "StringEquals": {f"{GH}:sub": "repo:my-org/my-repo:ref:refs/heads/main"},
        },
        False,
    ),
    ("google-aud-star", GOOGLE, {"StringLike": {f"{GOOGLE}:aud": "*"}}, True),
    ("google-sub-star", GOOGLE, {"StringLike": {f"{GOOGLE}:sub": "*"}}, True),
    ("google-aud-only", GOOGLE, {"StringEquals": {f"{GOOGLE}:aud": "1234.apps.example"}}, True),
    (
        "google-sub-literal",
        GOOGLE,
        {"StringEquals": {f"{GOOGLE}:aud": "1234.apps.example", f"{GOOGLE}:sub": "1104212"}},
        False,
    ),
    ("google-two-subs", GOOGLE, {"StringEquals": {f"{GOOGLE}:sub": ["1104212", "99"]}}, True),
    ("eks-sa-exact", EKS_OIDC, {"StringEquals": {f"{EKS}:sub": EKS_SA, f"{EKS}:aud": STS}}, False),
    ("eks-aud-only", EKS_OIDC, {"StringEquals": {f"{EKS}:aud": STS}}, True),
    (
        "eks-namespace-wild",
        EKS_OIDC,
        {"StringLike": {f"{EKS}:sub": "system:serviceaccount:backtests:*"}},
        True,
    ),
    (
        "eks-not-a-service-account",  # a subject of another shape names no service account
        EKS_OIDC,
        {"StringEquals": {f"{EKS}:sub": "system:serviceaccount:backtests"}},
        True,
    ),
    (
        "eks-two-service-accounts",
        EKS_OIDC,
        {"StringEquals": {f"{EKS}:sub": [EKS_SA, "system:serviceaccount:live:trader"]}},
        True,
    ),
    (
        "eks-negated-sub",  # StringNotEquals names everyone else
        EKS_OIDC,
        {"StringNotEquals": {f"{EKS}:sub": EKS_SA}},
        True,
    ),
    (
        "cognito-sub-exact",
        COGNITO,
        {"StringEquals": {f"{COGNITO}:sub": "us-east-1:0f1e2d3c-FAKE-IDENTITY"}},
        False,
    ),
    (
        "cognito-aud-only",
        COGNITO,
        {"StringEquals": {f"{COGNITO}:aud": "us-east-1:0f1e2d3c-FAKE-POOL"}},
        True,
    ),
]


@pytest.mark.parametrize(
    ("provider", "condition", "public"),
    [pytest.param(p, c, pub, id=n) for n, p, c, pub in OIDC_CASES],
)
def test_web_identity_trust_conditions(
    provider: str, condition: dict[str, Any], public: bool
) -> None:
    findings = analyze(oidc_trust(provider, condition), kind="trust")
    assert ("public-principal" in rules(findings)) is public, [f.message for f in findings]


def test_table_ids_unique() -> None:
    for table in (NON_CONSTRAINING, CONSTRAINING, PUBLIC_CONDITIONS, RESTRICTING_CONDITIONS):
        names = [row[0] for row in table]
        assert len(names) == len(set(names))
    assert len({row[0] for row in OIDC_CASES}) == len(OIDC_CASES)
    assert len({row[0] for row in RISK_CASES}) == len(RISK_CASES)


# --- malformed documents fail closed ----------------------------------------------------------

_KEY_ADMIN = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCT}:root"}}
MALFORMED = [
    # (name, document text or object, kind, rules raised)
    (
        "trailing comma hiding a public statement",
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, '
        '"Action": "kms:*", "Resource": "*"},]}',
        "key",
        {"malformed", "public-principal", "service-wide-action"},
    ),
    (
        "trailing comma, own account only",
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": '
        f'"arn:aws:iam::{ACCT}:root"}}, "Action": "kms:Decrypt", "Resource": "*"}},]}}',
        "key",
        {"malformed"},
    ),
    (
        "principal list holding '*'",
        doc({**_KEY_ADMIN, "Principal": ["foo", "*"], "Action": "kms:*", "Resource": "*"}),
        "key",
        {"malformed", "public-principal", "service-wide-action"},
    ),
    (
        "principal list of one account",
        doc({**_KEY_ADMIN, "Principal": [f"arn:aws:iam::{ACCT}:root"], "Action": "kms:Decrypt"}),
        "key",
        {"malformed"},
    ),
    (
        "missing Effect on '*'",
        doc({"Action": "*", "Resource": "*"}),
        "identity",
        {"malformed", "wildcard-action", "privilege-escalation"},
    ),
    ("not JSON at all", "{Statement: oops", "identity", {"malformed"}),
]


@pytest.mark.parametrize(
    ("name", "document", "kind", "expected"), MALFORMED, ids=[m[0] for m in MALFORMED]
)
def test_a_malformed_document_is_judged_in_the_form_its_author_meant(
    name: str, document: Any, kind: Any, expected: set[str]
) -> None:
    """IAM refuses these documents; the grammar finding says so, and the security rules judge
    the closest valid reading instead of reading the document as granting nothing."""
    found = rules(analyze(document, kind=kind))
    assert expected <= found, found
    assert found - expected <= {
        "resource-star-on-scopable-action",
        "permissions-management",
        "credentials-exposure",
        "data-exfiltration",
    }, found
