"""Table-driven tests of policies.lib.iam.analyze."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cloudsplaining.scan.policy_document import PolicyDocument
from policy_sentry.querying.actions import get_actions_that_support_wildcard_arns_only

from policies.lib.iam import (
    RULES,
    Finding,
    Kind,
    action_info,
    analyze,
    expand_action,
    unscoped_resource,
)

ACCT = "123456789012"
SECRET_ARN = f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:neural-trader/alpaca/api-key-*"
KEY_ARN = f"arn:aws:kms:us-east-1:{ACCT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROLE_ARN = f"arn:aws:iam::{ACCT}:role/trader"


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: Any, resource: Any = SECRET_ARN, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def rules(findings: list[Finding]) -> set[str]:
    return {f.rule for f in findings}


# --- seed document, section 5.1 -------------------------------------------------------------
SEED_READ_ONLY = doc(
    allow(["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], [SECRET_ARN]),
    allow(["s3:GetObject"], ["arn:aws:s3:::neural-trader-data/*"]),
)
SEED_FULL_ACCESS = doc(
    allow(
        ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"],
        [f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:neural-trader/*"],
    ),
    allow(
        ["s3:*"], ["arn:aws:s3:::neural-trader-artifacts/*", "arn:aws:s3:::neural-trader-logs/*"]
    ),
)

# --- AWS managed policy snippets -------------------------------------------------------------
ADMINISTRATOR_ACCESS = doc({"Effect": "Allow", "Action": "*", "Resource": "*"})
SECRETS_MANAGER_READ_WRITE = doc(
    {
        "Sid": "BasePermissions",
        "Effect": "Allow",
        "Action": [
            "secretsmanager:*",
            "cloudformation:CreateChangeSet",
            "cloudformation:DescribeChangeSet",
            "cloudformation:DescribeStackResource",
            "cloudformation:DescribeStacks",
            "cloudformation:ExecuteChangeSet",
            "ec2:DescribeSecurityGroups",
            "ec2:DescribeSubnets",
            "ec2:DescribeVpcs",
            "kms:DescribeKey",
            "kms:ListAliases",
            "kms:ListKeys",
            "lambda:ListFunctions",
            "rds:DescribeDBClusters",
            "rds:DescribeDBInstances",
            "redshift:DescribeClusters",
            "tag:GetResources",
        ],
        "Resource": "*",
    },
    {
        "Sid": "LambdaPermissions",
        "Effect": "Allow",
        "Action": [
            "lambda:AddPermission",
            "lambda:CreateFunction",
            "lambda:GetFunction",
            "lambda:InvokeFunction",
            "lambda:UpdateFunctionConfiguration",
        ],
        "Resource": "arn:aws:lambda:*:*:function:SecretsManager*",
    },
    {
        "Sid": "SARPermissions",
        "Effect": "Allow",
        "Action": ["serverlessrepo:CreateCloudFormationChangeSet", "serverlessrepo:GetApplication"],
        "Resource": "arn:aws:serverlessrepo:*:*:applications/secretsmanager*",
    },
)
READ_ONLY_ACCESS_SNIPPET = doc(allow(["s3:Get*", "s3:List*", "secretsmanager:Describe*"], "*"))
DEFAULT_KEY_POLICY = {
    "Version": "2012-10-17",
    "Id": "key-default-1",
    "Statement": [
        {
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCT}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    ],
}
GITHUB_OIDC = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"

IAM_CASES: list[tuple[str, Any, Kind, bool, set[str]]] = [
    # id, document, kind, read_only, expected rule ids (exact set)
    ("seed-read-only-backtest", SEED_READ_ONLY, "identity", True, set()),
    ("seed-read-only-backtest-not-ro", SEED_READ_ONLY, "identity", False, set()),
    ("seed-full-access", SEED_FULL_ACCESS, "identity", False, {"service-wide-action"}),
    (
        "seed-full-access-as-ro",
        SEED_FULL_ACCESS,
        "identity",
        True,
        {"service-wide-action", "read-only-violation"},
    ),
    (
        "administrator-access",
        ADMINISTRATOR_ACCESS,
        "identity",
        False,
        {
            "wildcard-action",
            "resource-star-on-scopable-action",
            "privilege-escalation",
            "credentials-exposure",
            "data-exfiltration",
            "permissions-management",
        },
    ),
    (
        "secrets-manager-read-write",
        SECRETS_MANAGER_READ_WRITE,
        "identity",
        False,
        {
            "service-wide-action",
            "resource-star-on-scopable-action",
            "privilege-escalation",  # cloudformation:CreateChangeSet+ExecuteChangeSet on "*"
            "data-exfiltration",
            "permissions-management",
        },
    ),
    (
        "read-only-access-snippet",
        READ_ONLY_ACCESS_SNIPPET,
        "identity",
        True,
        {"resource-star-on-scopable-action", "data-exfiltration"},
    ),
    # --- grammar: document level
    ("json-string", json.dumps(SEED_READ_ONLY), "identity", True, set()),
    ("json-bytes", json.dumps(SEED_READ_ONLY).encode(), "identity", True, set()),
    ("bad-json", '{"Statement": [', "identity", False, {"malformed"}),
    ("not-an-object", "[1, 2]", "identity", False, {"malformed"}),
    ("none", None, "identity", False, {"malformed"}),
    ("no-statement", {"Version": "2012-10-17"}, "identity", False, {"malformed"}),
    ("empty-statement-list", doc(), "identity", False, {"malformed"}),
    ("statement-is-string", {"Statement": "Allow"}, "identity", False, {"malformed"}),
    (
        "single-statement-object",
        {"Version": "2012-10-17", "Statement": allow("secretsmanager:GetSecretValue")},
        "identity",
        True,
        set(),
    ),
    # --- grammar: statement level
    (
        "effect-lowercase",
        doc({**allow("s3:GetObject"), "Effect": "allow"}),
        "identity",
        False,
        {"malformed"},
    ),
    ("statement-not-object", doc("oops"), "identity", False, {"malformed"}),  # type: ignore[arg-type]
    ("no-action", doc({"Effect": "Allow", "Resource": "*"}), "identity", False, {"malformed"}),
    (
        "action-and-notaction",
        doc({**allow("s3:GetObject"), "NotAction": "s3:PutObject"}),
        "identity",
        False,
        {"malformed"},
    ),
    ("action-not-string", doc(allow([1, 2])), "identity", False, {"malformed"}),
    ("action-empty-list", doc(allow([])), "identity", False, {"malformed"}),
    ("action-without-colon", doc(allow("GetObject")), "identity", False, {"malformed"}),
    (
        "no-resource-identity",
        doc({"Effect": "Allow", "Action": "s3:GetObject"}),
        "identity",
        False,
        {"malformed"},
    ),
    (
        "unknown-element",
        doc({**allow("s3:GetObject"), "Actions": "x"}),
        "identity",
        False,
        {"malformed"},
    ),
    (
        "principal-in-identity",
        doc(allow("s3:GetObject", Principal="*")),
        "identity",
        False,
        {"malformed"},
    ),
    (
        "condition-not-object",
        doc(allow("s3:GetObject", Condition="yes")),
        "identity",
        False,
        {"malformed"},
    ),
    (
        "malformed-statement-does-not-hide-others",
        doc("oops", allow("s3:*")),  # type: ignore[arg-type]
        "identity",
        False,
        {"malformed", "service-wide-action"},
    ),
    (
        "unknown-action",
        doc(allow("secretsmanager:GetSecretValu")),
        "identity",
        False,
        {"unknown-action"},
    ),
    ("unknown-service", doc(allow("nosuchservice:Get*")), "identity", False, {"unknown-action"}),
    (
        "unknown-action-read-only",
        doc(allow("secretsmanager:GetSecretValu")),
        "identity",
        True,
        {"unknown-action", "read-only-violation"},
    ),
    # --- case-insensitive actions and wildcards inside names
    ("lowercase-action", doc(allow("SECRETSMANAGER:getsecretvalue")), "identity", True, set()),
    ("glob-get-value", doc(allow("secretsmanager:Get*Value")), "identity", True, set()),
    ("glob-question-mark", doc(allow("secretsmanager:GetSecretValu?")), "identity", True, set()),
    ("glob-put", doc(allow("s3:Put*", "arn:aws:s3:::bucket/*")), "identity", False, set()),
    (
        "glob-put-read-only",
        doc(allow("s3:Put*", "arn:aws:s3:::bucket/*")),
        "identity",
        True,
        {"read-only-violation"},
    ),
    ("glob-list-read-only", doc(allow("s3:List*", "arn:aws:s3:::bucket")), "identity", True, set()),
    # --- wildcard / service-wide actions
    # "*" also grants actions that only support Resource "*" (ecr:GetAuthorizationToken...)
    (
        "star-action-scoped",
        doc(allow("*", SECRET_ARN)),
        "identity",
        False,
        {"wildcard-action", "credentials-exposure"},
    ),
    (
        "star-colon-star",
        doc(allow("*:*", SECRET_ARN)),
        "identity",
        False,
        {"wildcard-action", "credentials-exposure"},
    ),
    (
        "star-service-glob",
        doc(allow("*:GetSecretValue", SECRET_ARN)),
        "identity",
        False,
        {"wildcard-action"},
    ),
    (
        "service-star-string",
        doc(allow("secretsmanager:*")),
        "identity",
        False,
        {"service-wide-action"},
    ),
    (
        "service-star-in-list",
        doc(allow(["s3:GetObject", "KMS:*"], KEY_ARN)),
        "identity",
        False,
        {"service-wide-action"},
    ),
    (
        "service-star-on-deny",
        doc({"Effect": "Deny", "Action": "s3:*", "Resource": "*"}),
        "identity",
        False,
        set(),
    ),
    # --- resource star
    (
        "resource-star-scopable",
        doc(allow("secretsmanager:GetSecretValue", "*")),
        "identity",
        False,
        {"resource-star-on-scopable-action", "data-exfiltration"},
    ),
    (
        "resource-star-in-list",
        doc(allow("secretsmanager:DescribeSecret", [SECRET_ARN, "*"])),
        "identity",
        False,
        {"resource-star-on-scopable-action"},
    ),
    (
        "resource-star-list-secrets",
        doc(allow("secretsmanager:ListSecrets", "*")),
        "identity",
        True,
        set(),
    ),
    (
        "resource-star-random-password",
        doc(allow(["secretsmanager:GetRandomPassword", "secretsmanager:ListSecrets"], "*")),
        "identity",
        True,
        set(),
    ),
    ("resource-star-kms-create-key", doc(allow("kms:CreateKey", "*")), "identity", False, set()),
    (
        "resource-star-with-condition",
        doc(
            allow(
                "secretsmanager:DescribeSecret",
                "*",
                Condition={"StringEquals": {"aws:ResourceTag/app": "neural-trader"}},
            )
        ),
        "identity",
        True,
        set(),  # only secrets tagged app=neural-trader (attribute-based access)
    ),
    (
        "resource-every-secret-of-the-account",  # one type, one account: type-wide, medium
        doc(
            allow("secretsmanager:DescribeSecret", "arn:aws:secretsmanager:*:123456789012:secret:*")
        ),
        "identity",
        True,
        {"type-wide-resource"},
    ),
    (
        "resource-arn-star-suffix",  # arn:aws:s3:::* is every bucket: as good as "*"
        doc(allow("s3:GetObject", "arn:aws:s3:::*")),
        "identity",
        True,
        {"resource-star-on-scopable-action", "data-exfiltration"},
    ),
    (
        "resource-arn-bucket-prefix",
        doc(allow("s3:GetObject", "arn:aws:s3:::neural-trader-artifacts/*")),
        "identity",
        True,
        set(),
    ),
    # --- NotAction / NotResource
    (
        "allow-not-action",
        doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": SECRET_ARN}),
        "identity",
        False,
        {"allow-not-action", "credentials-exposure"},
    ),
    (
        "allow-not-action-star",
        doc({"Effect": "Allow", "NotAction": ["iam:*", "sts:*"], "Resource": "*"}),
        "identity",
        False,
        {
            "allow-not-action",
            "resource-star-on-scopable-action",
            "privilege-escalation",
            "credentials-exposure",
            "data-exfiltration",
            "permissions-management",
        },
    ),
    (
        "deny-not-action",
        doc({"Effect": "Deny", "NotAction": "s3:GetObject", "Resource": "*"}),
        "identity",
        False,
        set(),
    ),
    (
        "allow-not-resource",
        doc({"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::x/*"}),
        "identity",
        True,
        {"allow-not-resource", "data-exfiltration"},
    ),
    (
        "deny-not-resource",
        doc(
            allow("s3:GetObject", "arn:aws:s3:::x/*"),
            {"Effect": "Deny", "Action": "s3:*", "NotResource": "arn:aws:s3:::x/*"},
        ),
        "identity",
        True,
        set(),
    ),
    # --- Deny never rescues a broad Allow
    (
        "deny-does-not-rescue",
        doc(
            allow("s3:*", "*"),
            {"Effect": "Deny", "Action": "s3:*", "Resource": "*"},
        ),
        "identity",
        False,
        {
            "service-wide-action",
            "resource-star-on-scopable-action",
            "data-exfiltration",
            "permissions-management",
        },
    ),
    # --- risk classes
    (
        "iam-passrole-star",
        doc(allow(["iam:PassRole", "ec2:RunInstances"], "*")),
        "identity",
        False,
        {"resource-star-on-scopable-action", "privilege-escalation", "permissions-management"},
    ),  # iam:PassRole is "Permissions management"
    (
        "privesc-across-statements",
        doc(
            allow("iam:PassRole", "*"),
            allow("lambda:CreateFunction", "*"),
            allow("lambda:InvokeFunction", "*"),
        ),
        "identity",
        False,
        {"resource-star-on-scopable-action", "privilege-escalation", "permissions-management"},
    ),
    (
        "privesc-scoped-is-fine",
        doc(allow(["iam:PassRole", "ec2:RunInstances"], ROLE_ARN)),
        "identity",
        False,
        set(),
    ),
    (
        "privesc-with-mfa-condition",  # MFA says how the caller signed in, not what they may touch
        doc(
            allow(
                "iam:CreateAccessKey",
                "*",
                Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}},
            )
        ),
        "identity",
        False,
        {
            "resource-star-on-scopable-action",
            "privilege-escalation",
            "credentials-exposure",
            "permissions-management",
        },
    ),
    (
        "privesc-with-constraining-condition",
        doc(
            allow(
                "iam:CreateAccessKey",
                "*",
                Condition={"StringEquals": {"aws:ResourceTag/team": "trading-bots"}},
            )
        ),
        "identity",
        False,
        set(),  # only users tagged team=trading-bots: '*' narrowed by the condition
    ),
    (
        "create-access-key-star",
        doc(allow("iam:CreateAccessKey", "*")),
        "identity",
        False,
        {
            "resource-star-on-scopable-action",
            "privilege-escalation",
            "credentials-exposure",
            "permissions-management",
        },
    ),
    (
        "sts-assume-role-star",
        doc(allow("sts:AssumeRole", "*")),
        "identity",
        False,
        {"resource-star-on-scopable-action", "credentials-exposure"},
    ),
    ("sts-assume-role-scoped", doc(allow("sts:AssumeRole", ROLE_ARN)), "identity", False, set()),
    (
        "ecr-token-unscopable",  # only supports "*"; the token carries the caller's own ECR rights
        doc(allow("ecr:GetAuthorizationToken", "*")),
        "identity",
        True,
        set(),
    ),
    (
        "ssm-get-parameters-star",
        doc(allow("ssm:GetParameters", "*")),
        "identity",
        True,
        {"resource-star-on-scopable-action", "data-exfiltration"},
    ),
    (
        "put-resource-policy-star",
        doc(allow("secretsmanager:PutResourcePolicy", "*")),
        "identity",
        False,
        {"resource-star-on-scopable-action", "permissions-management"},
    ),
    (
        "put-resource-policy-scoped",
        doc(allow("secretsmanager:PutResourcePolicy", SECRET_ARN)),
        "identity",
        False,
        set(),
    ),
    # --- read-only mode
    (
        "ro-put-secret",
        doc(allow("secretsmanager:PutSecretValue")),
        "identity",
        True,
        {"read-only-violation"},
    ),
    (
        "ro-tagging",
        doc(allow("secretsmanager:TagResource")),
        "identity",
        True,
        {"read-only-violation"},
    ),
    (
        "ro-not-action",
        doc({"Effect": "Allow", "NotAction": "s3:*", "Resource": SECRET_ARN}),
        "identity",
        True,
        {
            "allow-not-action",
            "read-only-violation",
            "credentials-exposure",
            "kms-decrypt-unconstrained",
        },
    ),
    (
        "ro-kms-decrypt-bare",
        doc(allow("kms:Decrypt", KEY_ARN)),
        "identity",
        True,
        {"kms-decrypt-unconstrained"},
    ),
    ("kms-decrypt-not-ro", doc(allow("kms:Decrypt", KEY_ARN)), "identity", False, set()),
    (
        "ro-kms-decrypt-encryption-context",
        doc(
            allow(
                "kms:Decrypt",
                KEY_ARN,
                Condition={"StringEquals": {"kms:EncryptionContext:SecretARN": SECRET_ARN}},
            )
        ),
        "identity",
        True,
        set(),
    ),
    (
        "ro-kms-decrypt-via-service",
        doc(
            allow(
                "kms:Decrypt",
                KEY_ARN,
                Condition={
                    "StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}
                },
            )
        ),
        "identity",
        True,
        set(),
    ),
    (
        "ro-kms-decrypt-negated-condition",
        doc(
            allow(
                "kms:Decrypt",
                KEY_ARN,
                Condition={"StringNotEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}},
            )
        ),
        "identity",
        True,
        {"kms-decrypt-unconstrained"},
    ),
    (
        "ro-kms-decrypt-other-condition",
        doc(allow("kms:Decrypt", KEY_ARN, Condition={"Bool": {"aws:SecureTransport": "true"}})),
        "identity",
        True,
        {"kms-decrypt-unconstrained"},
    ),
    (
        "ro-kms-star",
        doc(allow("kms:*", KEY_ARN)),
        "identity",
        True,
        {"service-wide-action", "read-only-violation", "kms-decrypt-unconstrained"},
    ),
    (
        "ro-kms-decrypt-glob",
        doc(allow("kms:Decrypt*", KEY_ARN)),
        "identity",
        True,
        {"kms-decrypt-unconstrained"},
    ),
    # --- resource policies (secret resource policy, bucket policy)
    (
        "secret-policy-role",
        doc(allow("secretsmanager:GetSecretValue", "*", Principal={"AWS": ROLE_ARN})),
        "resource",
        True,
        set(),
    ),
    (
        "secret-policy-public",
        doc(allow("secretsmanager:GetSecretValue", "*", Principal="*")),
        "resource",
        False,
        {"public-principal"},
    ),
    (
        "secret-policy-aws-star-list",
        doc(allow("secretsmanager:GetSecretValue", "*", Principal={"AWS": [ROLE_ARN, "*"]})),
        "resource",
        False,
        {"public-principal"},
    ),
    (
        "secret-policy-public-org-condition",
        doc(
            allow(
                "secretsmanager:GetSecretValue",
                "*",
                Principal={"AWS": "*"},
                Condition={"StringEquals": {"aws:PrincipalOrgID": "o-abc123def4"}},
            )
        ),
        "resource",
        False,
        set(),
    ),
    (
        "public-condition-case-insensitive-key",
        doc(
            allow(
                "s3:GetObject",
                "arn:aws:s3:::b/*",
                Principal="*",
                Condition={"StringEquals": {"AWS:SourceAccount": ACCT}},
            )
        ),
        "resource",
        False,
        set(),
    ),
    (
        "public-condition-star-value",
        doc(
            allow(
                "s3:GetObject",
                "arn:aws:s3:::b/*",
                Principal="*",
                Condition={"StringLike": {"aws:PrincipalArn": "*"}},
            )
        ),
        "resource",
        False,
        {"public-principal"},
    ),
    (
        "public-condition-ifexists",
        doc(
            allow(
                "s3:GetObject",
                "arn:aws:s3:::b/*",
                Principal="*",
                Condition={"StringEqualsIfExists": {"aws:SourceAccount": ACCT}},
            )
        ),
        "resource",
        False,
        {"public-principal"},
    ),
    (
        "public-condition-irrelevant-key",
        doc(
            allow(
                "s3:GetObject",
                "arn:aws:s3:::b/*",
                Principal="*",
                Condition={"Bool": {"aws:SecureTransport": "true"}},
            )
        ),
        "resource",
        False,
        {"public-principal"},
    ),
    (
        "public-deny-is-fine",
        doc(
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": "*",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ),
        "resource",
        False,
        set(),
    ),
    (
        "not-principal-allow",
        doc(allow("s3:GetObject", "*", NotPrincipal={"AWS": ROLE_ARN})),
        "resource",
        False,
        {"public-principal"},
    ),
    (
        "service-principal-resource",
        doc(allow("sns:Publish", "*", Principal={"Service": "events.amazonaws.com"})),
        "resource",
        False,
        set(),
    ),
    ("resource-no-principal", doc(allow("s3:GetObject", "*")), "resource", False, {"malformed"}),
    (
        "bad-principal-type",
        doc(allow("s3:GetObject", "*", Principal={"Group": "x"})),
        "resource",
        False,
        {"malformed"},
    ),
    (
        "bad-principal-value",
        doc(allow("s3:GetObject", "*", Principal=42)),
        "resource",
        False,
        {"malformed"},
    ),
    (
        "resource-policy-service-star",
        doc(allow("s3:*", "arn:aws:s3:::b/*", Principal={"AWS": ROLE_ARN})),
        "resource",
        False,
        {"service-wide-action"},
    ),
    # --- key policies
    ("default-key-policy", DEFAULT_KEY_POLICY, "key", False, set()),
    (
        "key-policy-kms-star-to-role",
        doc(allow("kms:*", "*", Principal={"AWS": ROLE_ARN})),
        "key",
        False,
        {"service-wide-action"},
    ),
    (
        "key-policy-public-decrypt",
        doc(allow("kms:Decrypt", "*", Principal={"AWS": "*"})),
        "key",
        False,
        {"public-principal"},
    ),
    (
        "key-policy-caller-account",
        doc(
            allow(
                "kms:Decrypt",
                "*",
                Principal={"AWS": "*"},
                Condition={
                    "StringEquals": {
                        "kms:CallerAccount": ACCT,
                        "kms:ViaService": "secretsmanager.us-east-1.amazonaws.com",
                    }
                },
            )
        ),
        "key",
        True,
        set(),
    ),
    (
        "key-policy-root-account-id",
        doc(allow("kms:*", "*", Principal={"AWS": ACCT})),
        "key",
        False,
        set(),
    ),
    # --- trust policies
    (
        "trust-lambda-service",
        doc(
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ),
        "trust",
        False,
        set(),
    ),
    (
        "trust-public",
        doc({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}),
        "trust",
        False,
        {"public-principal"},
    ),
    (
        "trust-public-star",
        doc({"Effect": "Allow", "Principal": "*", "Action": ["sts:AssumeRole", "sts:TagSession"]}),
        "trust",
        True,  # read_only is ignored for trust policies
        {"public-principal"},
    ),
    (
        "trust-public-with-principal-arn",
        doc(
            {
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": "sts:AssumeRole",
                "Condition": {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCT}:role/ci-*"}},
            }
        ),
        "trust",
        False,
        set(),
    ),
    (
        "trust-account",
        doc(
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCT}:root"},
                "Action": "sts:AssumeRole",
            }
        ),
        "trust",
        False,
        set(),
    ),
    (
        "trust-github-oidc-no-sub",
        doc(
            {
                "Effect": "Allow",
                "Principal": {"Federated": GITHUB_OIDC},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}
                },
            }
        ),
        "trust",
        False,
        {"public-principal"},
    ),
    (
        "trust-github-oidc-with-sub",
        doc(
            {
                "Effect": "Allow",
                "Principal": {"Federated": GITHUB_OIDC},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                        "token.actions.githubusercontent.com:sub": (
                            "repo:acme/neural-trader:ref:refs/heads/main"
                        ),
                    },
                },
            }
        ),
        "trust",
        False,
        set(),
    ),
    (
        "trust-github-oidc-with-sub-wildcard",
        doc(
            {
                "Effect": "Allow",
                "Principal": {"Federated": GITHUB_OIDC},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com"
                    },
                    "StringLike": {
                        "token.actions.githubusercontent.com:sub": "repo:acme/neural-trader:*"
                    },
                },
            }
        ),
        "trust",
        False,
        {"public-principal"},
    ),
    (
        "trust-no-principal",
        doc({"Effect": "Allow", "Action": "sts:AssumeRole"}),
        "trust",
        False,
        {"malformed"},
    ),
    (
        "trust-sts-star",
        doc({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:*"}),
        "trust",
        False,
        {"service-wide-action"},
    ),
]


@pytest.mark.parametrize(
    ("document", "kind", "read_only", "expected"),
    [pytest.param(d, k, ro, exp, id=name) for name, d, k, ro, exp in IAM_CASES],
)
def test_analyze_rules(document: Any, kind: Kind, read_only: bool, expected: set[str]) -> None:
    findings = analyze(document, kind=kind, read_only=read_only)
    assert rules(findings) == expected, [f.message for f in findings]
    for f in findings:
        assert f.rule in RULES
        assert f.message


def test_case_ids_unique_and_every_rule_covered() -> None:
    names = [c[0] for c in IAM_CASES]
    assert len(names) == len(set(names))
    covered = set().union(*(c[4] for c in IAM_CASES))
    assert covered == set(RULES)


def test_message_names_statement_sid_and_action() -> None:
    policy = doc(
        allow("secretsmanager:GetSecretValue", SECRET_ARN, Sid="Ok"),
        {**allow(["s3:*"], "arn:aws:s3:::b/*"), "Sid": "TooBroad"},
    )
    (finding,) = analyze(policy, kind="identity")
    assert finding.rule == "service-wide-action"
    assert finding.statement == 1
    assert finding.sid == "TooBroad"
    assert "statement 1" in finding.message
    assert "'TooBroad'" in finding.message
    assert "s3:*" in finding.message
    assert finding.actions == ("s3:*",)


def test_finding_actions_are_canonical_names() -> None:
    (finding, *_) = analyze(doc(allow("SECRETSMANAGER:getsecretvalue", "*")), kind="identity")
    assert finding.rule == "resource-star-on-scopable-action"
    assert finding.actions == ("secretsmanager:GetSecretValue",)
    assert finding.severity == "high"


def test_read_only_violation_lists_offending_actions() -> None:
    findings = analyze(SEED_FULL_ACCESS, kind="identity", read_only=True)
    ro = [f for f in findings if f.rule == "read-only-violation"]
    assert [f.statement for f in ro] == [0, 1]
    assert ro[0].actions == ("secretsmanager:PutSecretValue",)
    assert "s3:PutObject" in ro[1].actions or "(+" in ro[1].message


def test_large_action_lists_are_capped() -> None:
    findings = analyze(ADMINISTRATOR_ACCESS, kind="identity", read_only=True)
    for f in findings:
        assert len(f.actions) <= 50
    ro = next(f for f in findings if f.rule == "read-only-violation")
    assert "more)" in ro.message


def test_privilege_escalation_names_methods_and_first_statement() -> None:
    policy = doc(
        allow("s3:GetObject", "arn:aws:s3:::b/*"),
        allow("iam:PassRole", "*"),
        allow("ec2:RunInstances", "*"),
    )
    esc = next(f for f in analyze(policy, kind="identity") if f.rule == "privilege-escalation")
    assert esc.statement == 1
    assert "CreateEC2WithExistingIP" in esc.message
    assert set(esc.actions) == {"iam:PassRole", "ec2:RunInstances"}


def test_malformed_never_raises_on_garbage() -> None:
    garbage: list[object] = [
        b"\xff\xfe",
        "",
        "null",
        42,
        {"Statement": [None]},
        {"Statement": [{"Effect": "Allow", "Action": {"a": 1}, "Resource": "*"}]},
        {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": [None]}]},
        {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "s3:GetObject",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"k": {"nested": 1}}},
                }
            ]
        },
        {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Sid": 3}]},
    ]
    for g in garbage:
        for kind in ("identity", "resource", "trust", "key"):
            findings = analyze(g, kind=kind)
            assert "malformed" in rules(findings), (g, kind)


def test_invalid_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="kind"):
        analyze(SEED_READ_ONLY, kind="user")  # type: ignore[arg-type]


# --- catalogue helpers agree with policy_sentry ------------------------------------------------


def test_expand_action_wildcards() -> None:
    assert expand_action("secretsmanager:Get*Value") == frozenset({"secretsmanager:getsecretvalue"})
    assert "s3:putobject" in expand_action("S3:PUT*")
    assert all(a.startswith("s3:put") for a in expand_action("s3:Put*"))
    assert expand_action("s3:nosuch*") == frozenset()
    assert expand_action("nonsense") == frozenset()
    assert len(expand_action("*")) > 15000
    assert expand_action("*:GetSecretValue") == frozenset({"secretsmanager:getsecretvalue"})


@pytest.mark.parametrize("service", ["secretsmanager", "kms", "s3", "iam", "sts"])
def test_scopable_matches_policy_sentry(service: str) -> None:
    wildcard_only = {a.lower() for a in get_actions_that_support_wildcard_arns_only(service)}
    for key in expand_action(f"{service}:*"):
        info = action_info(key)
        assert info is not None
        assert info.scopable == (key not in wildcard_only), key


def test_access_levels() -> None:
    levels = [
        ("secretsmanager:GetSecretValue", "Read"),
        ("secretsmanager:ListSecrets", "List"),
        ("secretsmanager:PutSecretValue", "Write"),
        ("secretsmanager:TagResource", "Tagging"),
        ("secretsmanager:PutResourcePolicy", "Permissions management"),
    ]
    for action, level in levels:
        info = action_info(action)
        assert info is not None
        assert info.access_level == level


# --- cloudsplaining oracle: for Allow-only identity policies our risk classes match its own ---

ORACLE_POLICIES = [
    ADMINISTRATOR_ACCESS,
    SECRETS_MANAGER_READ_WRITE,
    READ_ONLY_ACCESS_SNIPPET,
    SEED_FULL_ACCESS,
    SEED_READ_ONLY,
    doc(allow(["iam:PassRole", "ec2:RunInstances"], "*")),
    doc(allow("iam:PassRole", "*"), allow(["lambda:CreateFunction", "lambda:InvokeFunction"], "*")),
    doc(allow(["sts:AssumeRole", "ecr:GetAuthorizationToken", "ssm:GetParameter"], "*")),
    doc(allow("iam:CreateAccessKey", f"arn:aws:iam::{ACCT}:user/bot")),
]


def _beyond_cloudsplaining(policy: dict[str, Any]) -> bool:
    """True if the policy uses an unscoped pattern other than the literal "*" (or a Condition):
    there we are stricter than cloudsplaining on purpose, so we only check a superset."""
    for st in policy["Statement"]:
        res = st.get("Resource", [])
        for r in [res] if isinstance(res, str) else res:
            if r != "*" and unscoped_resource(r):
                return True
        if "Condition" in st:
            return True
    return False


@pytest.mark.parametrize(
    "policy", ORACLE_POLICIES[1:]
)  # AdministratorAccess: slow in cloudsplaining
def test_risk_classes_agree_with_cloudsplaining(policy: dict[str, Any]) -> None:
    cs = PolicyDocument(policy)
    ours = analyze(policy, kind="identity")
    stricter = _beyond_cloudsplaining(policy)

    def actions_of(rule: str) -> set[str]:
        return {a.lower() for f in ours if f.rule == rule for a in f.actions}

    def agree(rule: str, theirs: list[str]) -> None:
        expected = {a.lower() for a in theirs}
        if stricter:
            assert actions_of(rule) >= expected, rule
        else:
            assert actions_of(rule) == expected, rule

    # the token ecr:GetAuthorizationToken returns carries only the caller's own ECR permissions
    agree(
        "credentials-exposure",
        [a for a in cs.credentials_exposure if a.lower() != "ecr:getauthorizationtoken"],
    )
    agree("data-exfiltration", cs.allows_data_exfiltration_actions)
    agree("permissions-management", cs.permissions_management_without_constraints)
    expected_methods = {e["type"] for e in cs.allows_privilege_escalation}
    esc = [f for f in ours if f.rule == "privilege-escalation"]
    if expected_methods:
        assert len(esc) == 1
        for method in expected_methods:
            assert method in esc[0].message or "more)" in esc[0].message
    elif not stricter:
        assert esc == []
