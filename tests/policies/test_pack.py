"""Every policy of the pack, table-driven: a compliant and a violating case each (plus the tricky
ones: unknown values at preview, secret markers, the IAM grammar), run through the offline runner.

Fixture credentials are obviously fake and marked for scanners.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from pulumi.runtime import rpc

from policies.framework import PackPolicy
from policies.model import UNKNOWN, ResourceRecord
from policies.pack import ALL
from policies.runner import PolicyConfigError, resolve_config, run
from tests.policies.records import rec

from .test_aws_quotas import QUOTA_CASES
from .test_azure import AZURE_CASES
from .test_azure_checkov import AZURE_CHECKOV_CASES
from .test_checkov_gaps import GAP_CASES
from .test_escape_hatches import PACK_CASES as ESCAPE_CASES
from .test_gcp import GCP_CASES
from .test_gcp_platform import GCP_PLATFORM_CASES
from .test_iam_trust import IAM_PACK_CASES
from .test_kubernetes import KUBERNETES_CASES
from .test_single_source import SINGLE_SOURCE_CASES
from .test_vault import VAULT_CASES

ACCOUNT = "123456789012"
# Obviously fake fixture values (documented AWS example key, FAKE markers), allowlisted for scanners.
FAKE_SLACK = "xoxb-123456789012-123456789012-FAKEfakeFAKEfakeFAKEfake"  # pragma: allowlist secret
FAKE_OPENAI = "sk-proj-FAKE0123456789abcdefFAKE0123456789abcdef"  # pragma: allowlist secret
FAKE_PASSWORD = "Zx9-FAKE-generated-pw-Qq77"  # pragma: allowlist secret
FAKE_ANTHROPIC = (
    "sk-ant-api03-FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE-FAKEFAKE"  # pragma: allowlist secret
)
FAKE_AWS_KEY = "AKIAIOSFODNN7EXAMPLE"  # pragma: allowlist secret
SHA256 = (
    "9ef8ab6fba8202a6d467a218d032b662e88ea560f26e812c77a93c0216e4dffc"  # pragma: allowlist secret
)
FAKE_DB_PASSWORD = "FAKE-pw-0123456789"  # pragma: allowlist secret
SECRET_ARN = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:neural-trader/production/auth/jwt-secret-AbCdEf"
KEY_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: Any, resource: Any = SECRET_ARN, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def secret_rotated_by(
    rules: dict[str, Any], secret_class: str = "jwt_secret"
) -> list[ResourceRecord]:
    """A production secret of a rotation class and the SecretRotation (its child) with ``rules``."""
    tags = {**PROD_TAGS, "rotation-class": secret_class}
    return [
        rec(SECRET, {**GOOD_SECRET, "tags": tags}, name="s"),
        rec(
            "aws:secretsmanager/secretRotation:SecretRotation",
            {"secretId": SECRET_ARN, "rotationRules": rules},
            parent="urn:pulumi:t::neural-trader-secrets::aws:secretsmanager/secret:Secret::s",
        ),
    ]


PROD_TAGS = {"environment": "production", "rotation-class": "jwt_secret"}
GOOD_SECRET = {
    "name": "neural-trader/production/auth/jwt-secret",
    "kmsKeyId": KEY_ARN,
    "recoveryWindowInDays": 30,
    "tags": PROD_TAGS,
}
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
SECRET = "aws:secretsmanager/secret:Secret"  # pragma: allowlist secret
VERSION = "aws:secretsmanager/secretVersion:SecretVersion"

# (case id, policy id, records, expected number of violations of that policy)
#: An ESC environment of references: an OIDC login, a store read, interpolations, ciphertext.
ESC_REFERENCES = """\
values:
  aws:
    login:
      fn::open::aws-login:
        oidc: {roleArn: "arn:aws:iam::111122223333:role/esc", sessionName: esc}
    secrets:
      fn::open::aws-secrets:
        region: us-east-1
        login: ${aws.login}
        get: {JWT_SECRET: {secretId: neural-trader/production/auth/jwt-secret}}
  sealed:
    fn::secret: {ciphertext: ZXNjeAAAAAEAAAEA}
  environmentVariables:
    JWT_SECRET: ${aws.secrets.JWT_SECRET}
"""
ESC_LITERAL = """\
  pulumiConfig:
    app:webhookToken:
      fn::secret: not-in-a-secret-manager
"""
ESC_KEY = """\
  pulumiConfig:
    aws:secretKey: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
    aws:accessKey: AKIAIOSFODNN7EXAMPLE
"""  # pragma: allowlist secret (AWS's documented example key)


CASES: list[tuple[str, str, list[ResourceRecord], int]] = [
    # ---- plaintext --------------------------------------------------------------------------
    ("clean tags", "all-no-plaintext-credentials", [rec(SECRET, GOOD_SECRET)], 0),
    (
        "slack token in a tag",
        "all-no-plaintext-credentials",
        [
            rec(
                SECRET,
                {
                    **GOOD_SECRET,
                    "tags": {"owner": FAKE_SLACK},
                },
            )
        ],
        1,
    ),
    (
        "OpenAI key in Lambda environment, even secret-marked",
        "all-no-plaintext-credentials",
        [
            rec(
                "aws:lambda/function:Function",
                {"environment": {"variables": {"OPENAI_API_KEY": FAKE_OPENAI}}},
                secret_paths=("environment.variables.OPENAI_API_KEY",),
            )
        ],
        1,
    ),
    (
        "secret-marked database password input",
        "all-no-plaintext-credentials",
        [
            rec(
                "aws:rds/instance:Instance",
                {"password": FAKE_PASSWORD},
                secret_paths=("password",),
            )
        ],
        0,
    ),
    (
        "plaintext database password input",
        "all-no-plaintext-credentials",
        [rec("aws:rds/instance:Instance", {"password": FAKE_PASSWORD})],
        1,
    ),
    (
        "unknown value at preview",
        "all-no-plaintext-credentials",
        [rec("aws:rds/instance:Instance", {"password": UNKNOWN})],
        0,
    ),
    (
        "credential in a ConfigMap",
        "all-no-plaintext-credentials",
        [
            rec(
                "kubernetes:core/v1:ConfigMap",
                {"data": {"ANTHROPIC_API_KEY": FAKE_ANTHROPIC}},
            )
        ],
        1,
    ),
    (
        "AWS key in provider config",
        "all-no-plaintext-credentials",
        [rec("pulumi:providers:aws", {"region": "us-east-1", "accessKey": FAKE_AWS_KEY})],
        1,
    ),
    (
        "ARNs, hashes and ids are not credentials",
        "all-no-plaintext-credentials",
        [
            rec(
                ROLE_POLICY,
                {
                    "policy": doc(allow("secretsmanager:GetSecretValue")),
                    "role": "r",
                    "name": SHA256,
                },
            )
        ],
        0,
    ),
    # ---- secret-holding fields ----------------------------------------------------------------
    (
        "secret-marked secret string",
        "all-secret-values-marked-secret",
        [rec(VERSION, {"secretString": "v"}, secret_paths=("secretString",))],
        0,
    ),
    (
        "plaintext secret string",
        "all-secret-values-marked-secret",
        [rec(VERSION, {"secretString": "v"})],
        1,
    ),
    (
        "unknown secret string at preview",
        "all-secret-values-marked-secret",
        [rec(VERSION, {"secretString": UNKNOWN})],
        0,
    ),
    (
        "azure-native Key Vault secret without additionalSecretOutputs",
        "all-secret-values-marked-secret",
        [rec("azure-native:keyvault:Secret", {"properties": {"value": "s3cr3t-FAKE"}})],
        1,
    ),
    (
        "azure-native Key Vault secret marked secret",
        "all-secret-values-marked-secret",
        [
            rec(
                "azure-native:keyvault:Secret",
                {"properties": {"value": "s3cr3t-FAKE"}},
                secret_paths=("properties",),
            )
        ],
        0,
    ),
    (
        "kubernetes Secret stringData in plaintext",
        "all-secret-values-marked-secret",
        [rec("kubernetes:core/v1:Secret", {"stringData": {"k": "v"}})],
        1,
    ),
    (
        "vault KV data secret",
        "all-secret-values-marked-secret",
        [rec("vault:kv/secretV2:SecretV2", {"dataJson": "{}"}, secret_paths=("dataJson",))],
        0,
    ),
    (
        "gcp secret data in plaintext",
        "all-secret-values-marked-secret",
        [rec("gcp:secretmanager/secretVersion:SecretVersion", {"secretData": "x"})],
        1,
    ),
    (
        "plain SSM String parameter is not a secret field",
        "all-secret-values-marked-secret",
        [rec("aws:ssm/parameter:Parameter", {"type": "String", "value": "x"})],
        0,
    ),
    # ---- IAM ---------------------------------------------------------------------------------
    (
        "exact actions",
        "aws-iam-no-wildcard-actions",
        [rec(ROLE_POLICY, {"policy": doc(allow(["secretsmanager:GetSecretValue"]))})],
        0,
    ),
    (
        "star action",
        "aws-iam-no-wildcard-actions",
        [rec(ROLE_POLICY, {"policy": doc(allow("*", "*"))})],
        1,
    ),
    (
        "service-wide action (seed 5.1 live policy)",
        "aws-iam-no-service-wildcards",
        [
            rec(
                ROLE_POLICY,
                {"policy": doc(allow(["s3:*"], ["arn:aws:s3:::neural-trader-artifacts/*"]))},
            )
        ],
        1,
    ),
    (
        "allow with NotAction",
        "aws-iam-no-wildcard-actions",
        [
            rec(
                ROLE_POLICY,
                {"policy": doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})},
            )
        ],
        1,
    ),
    (
        "statement as object, lower-case action",
        "aws-iam-no-service-wildcards",
        [
            rec(
                ROLE_POLICY,
                {"policy": {"Version": "2012-10-17", "Statement": allow("SECRETSMANAGER:*")}},
            )
        ],
        1,
    ),
    (
        "wildcard inside a name is fine",
        "aws-iam-no-wildcard-actions",
        [rec(ROLE_POLICY, {"policy": doc(allow("secretsmanager:Get*Value"))})],
        0,
    ),
    (
        "named actions of a service",
        "aws-iam-no-service-wildcards",
        [rec(ROLE_POLICY, {"policy": doc(allow(["s3:GetObject", "s3:PutObject"]))})],
        0,
    ),
    (
        "every IAM action is every action",
        "aws-iam-no-wildcard-actions",
        [rec(ROLE_POLICY, {"policy": doc(allow("iam:*", "*"))})],
        1,
    ),
    (
        "every secret of the account",
        "aws-iam-no-type-wide-resources",
        [
            rec(
                ROLE_POLICY,
                {
                    "policy": doc(
                        allow(
                            "secretsmanager:GetSecretValue",
                            "arn:aws:secretsmanager:us-east-1:123456789012:secret:*",
                        )
                    )
                },
            )
        ],
        1,
    ),
    (
        "secrets under a name prefix",
        "aws-iam-no-type-wide-resources",
        [
            rec(
                ROLE_POLICY,
                {
                    "policy": doc(
                        allow(
                            "secretsmanager:GetSecretValue",
                            "arn:aws:secretsmanager:us-east-1:123456789012:secret:shop/prod/*",
                        )
                    )
                },
            )
        ],
        0,
    ),
    (
        "resource star on a scopable action",
        "aws-iam-no-resource-star",
        [rec(ROLE_POLICY, {"policy": doc(allow("secretsmanager:GetSecretValue", "*"))})],
        1,
    ),
    (
        "resource star on an unscopable action",
        "aws-iam-no-resource-star",
        [rec(ROLE_POLICY, {"policy": doc(allow("secretsmanager:ListSecrets", "*"))})],
        0,
    ),
    (
        "public principal in a secret policy",
        "aws-iam-no-public-principal",
        [
            rec(
                "aws:secretsmanager/secretPolicy:SecretPolicy",
                {
                    "policy": doc(
                        {
                            "Effect": "Allow",
                            "Principal": "*",
                            "Action": "secretsmanager:GetSecretValue",
                            "Resource": "*",
                        }
                    ),
                    "blockPublicPolicy": True,
                },
            )
        ],
        1,
    ),
    (
        "conditional deny with star principal",
        "aws-iam-no-public-principal",
        [
            rec(
                "aws:secretsmanager/secretPolicy:SecretPolicy",
                {
                    "policy": doc(
                        {
                            "Effect": "Deny",
                            "Principal": {"AWS": "*"},
                            "Action": "secretsmanager:GetSecretValue",
                            "Resource": "*",
                            "Condition": {"StringNotEquals": {"aws:PrincipalAccount": ACCOUNT}},
                        }
                    ),
                    "blockPublicPolicy": True,
                },
            )
        ],
        0,
    ),
    (
        "key policy granting kms:Decrypt to everyone",
        "aws-iam-no-public-principal",
        [
            rec(
                "aws:kms/key:Key",
                {
                    "policy": doc(
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": "*"},
                            "Action": "kms:Decrypt",
                            "Resource": "*",
                        }
                    ),
                    "enableKeyRotation": True,
                },
            )
        ],
        1,
    ),
    (
        "OIDC trust without subject",
        "aws-iam-no-public-principal",
        [
            rec(
                "aws:iam/role:Role",
                {
                    "assumeRolePolicy": doc(
                        {
                            "Effect": "Allow",
                            "Principal": {
                                "Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
                            },
                            "Action": "sts:AssumeRoleWithWebIdentity",
                        }
                    )
                },
            )
        ],
        1,
    ),
    (
        "privilege escalation",
        "aws-iam-no-risky-permissions",
        [rec(ROLE_POLICY, {"policy": doc(allow(["iam:CreatePolicyVersion"], "*"))})],
        1,
    ),
    (
        "credentials exposure",
        "aws-iam-no-risky-permissions",
        [rec(ROLE_POLICY, {"policy": doc(allow(["iam:CreateAccessKey"], "*"))})],
        1,
    ),
    (
        "scoped read is not risky",
        "aws-iam-no-risky-permissions",
        [rec(ROLE_POLICY, {"policy": doc(allow(["secretsmanager:GetSecretValue"]))})],
        0,
    ),
    (
        "AWSLambdaFullAccess attached",
        "aws-iam-no-broad-managed-policies",
        [
            rec(
                "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                {"role": "r", "policyArn": "arn:aws:iam::aws:policy/AWSLambdaFullAccess"},
            )
        ],
        1,
    ),
    (
        "read-only managed policy",
        "aws-iam-no-broad-managed-policies",
        [
            rec(
                "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                {"role": "r", "policyArn": "arn:aws:iam::aws:policy/SecretsManagerReadOnly"},
            )
        ],
        0,
    ),
    ("malformed JSON", "aws-iam-valid-documents", [rec(ROLE_POLICY, {"policy": "{not json"})], 1),
    (
        "unknown action is advisory",
        "aws-iam-known-actions",
        [rec(ROLE_POLICY, {"policy": doc(allow("secretsmanager:GetSecretValu"))})],
        1,
    ),
    (
        "policy unknown at preview",
        "aws-iam-no-wildcard-actions",
        [rec(ROLE_POLICY, {"policy": UNKNOWN})],
        0,
    ),
    (
        "read-only role with a write",
        "aws-iam-read-only-roles",
        [
            rec(
                "aws:iam/role:Role", {"name": "neural-trader-production-backtest"}, name="backtest"
            ),
            rec(
                ROLE_POLICY,
                {
                    "policy": doc(
                        allow(["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"])
                    )
                },
                name="bt",
                parent="urn:pulumi:t::neural-trader-secrets::aws:iam/role:Role::backtest",
            ),
        ],
        1,
    ),
    (
        "read-only role, decrypt without condition",
        "aws-iam-read-only-roles",
        [
            rec("aws:iam/role:Role", {"name": "x-auditor"}, name="auditor"),
            rec(
                ROLE_POLICY,
                {"policy": doc(allow(["kms:Decrypt"], KEY_ARN))},
                name="au",
                parent="urn:pulumi:t::neural-trader-secrets::aws:iam/role:Role::auditor",
            ),
        ],
        1,
    ),
    (
        "read-only role reading through Secrets Manager",
        "aws-iam-read-only-roles",
        [
            rec("aws:iam/role:Role", {"name": "x", "tags": {"access": "read-only"}}, name="ro"),
            rec(
                ROLE_POLICY,
                {
                    "policy": doc(
                        allow(["secretsmanager:GetSecretValue"]),
                        allow(
                            ["kms:Decrypt"],
                            KEY_ARN,
                            Condition={
                                "StringEquals": {
                                    "kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"
                                }
                            },
                        ),
                    )
                },
                name="ro-p",
                parent="urn:pulumi:t::neural-trader-secrets::aws:iam/role:Role::ro",
            ),
        ],
        0,
    ),
    # ---- Secrets Manager ---------------------------------------------------------------------
    ("CMK", "aws-secretsmanager-cmk-encryption", [rec(SECRET, GOOD_SECRET)], 0),
    (
        "no CMK",
        "aws-secretsmanager-cmk-encryption",
        [rec(SECRET, {**GOOD_SECRET, "kmsKeyId": None})],
        1,
    ),
    (
        "aws-managed key alias",
        "aws-secretsmanager-cmk-encryption",
        [rec(SECRET, {**GOOD_SECRET, "kmsKeyId": "alias/aws/secretsmanager"})],
        1,
    ),
    (
        "CMK unknown at preview",
        "aws-secretsmanager-cmk-encryption",
        [rec(SECRET, {**GOOD_SECRET, "kmsKeyId": UNKNOWN})],
        0,
    ),
    (
        "force delete",
        "aws-secretsmanager-recovery-window",
        [rec(SECRET, {**GOOD_SECRET, "recoveryWindowInDays": 0})],
        1,
    ),
    (
        "short window in production",
        "aws-secretsmanager-recovery-window",
        [rec(SECRET, {**GOOD_SECRET, "recoveryWindowInDays": 7})],
        1,
    ),
    (
        "7 days outside production",
        "aws-secretsmanager-recovery-window",
        [
            rec(
                SECRET,
                {**GOOD_SECRET, "recoveryWindowInDays": 7, "tags": {"environment": "development"}},
            )
        ],
        0,
    ),
    (
        "public policy not blocked",
        "aws-secretsmanager-block-public-policy",
        [
            rec(
                "aws:secretsmanager/secretPolicy:SecretPolicy",
                {"policy": doc(), "blockPublicPolicy": False},
            )
        ],
        1,
    ),
    (
        "rotation within the class maximum",
        "aws-secretsmanager-rotation-schedule",
        secret_rotated_by({"automaticallyAfterDays": 365}),
        0,
    ),
    (
        "rotation by a rate far beyond the maximum",
        "aws-secretsmanager-rotation-schedule",
        secret_rotated_by({"scheduleExpression": "rate(1000 days)"}),
        1,
    ),
    (
        "rotation by a cron pinned to one year",
        "aws-secretsmanager-rotation-schedule",
        secret_rotated_by({"scheduleExpression": "cron(0 4 1 1 ? 2099)"}),
        1,
    ),
    (
        "monthly cron rotation",
        "aws-secretsmanager-rotation-schedule",
        secret_rotated_by({"scheduleExpression": "cron(0 4 1 * ? *)"}),
        0,
    ),
    (
        "cron restricted to January",
        "aws-secretsmanager-rotation-schedule",
        secret_rotated_by({"scheduleExpression": "cron(0 0 * JAN ? *)"}, secret_class="api_key"),
        1,
    ),
    (
        "first Monday of the month",
        "aws-secretsmanager-rotation-schedule",
        secret_rotated_by({"scheduleExpression": "cron(0 0 ? * MON#1 *)"}, secret_class="api_key"),
        0,
    ),
    (
        "zero-day rotation is invalid",
        "aws-secretsmanager-rotation-schedule",
        secret_rotated_by({"automaticallyAfterDays": 0}),
        1,
    ),
    (
        "rate of one day",
        "aws-secretsmanager-rotation-schedule",
        secret_rotated_by({"scheduleExpression": "rate(1 day)"}),
        0,
    ),
    (
        "untagged secret without rotation",
        "aws-secretsmanager-rotation-schedule",
        [rec(SECRET, {**GOOD_SECRET, "tags": {"environment": "development"}})],
        1,
    ),
    (
        "odd value in state does not crash",
        "aws-kms-deletion-window",
        [rec("aws:kms/key:Key", {"enableKeyRotation": True, "deletionWindowInDays": [1]})],
        1,
    ),
    (
        "odd recovery window",
        "aws-secretsmanager-recovery-window",
        [rec(SECRET, {**GOOD_SECRET, "recoveryWindowInDays": "x"})],
        1,
    ),
    (
        "rotation longer than the class maximum",
        "aws-secretsmanager-rotation-schedule",
        secret_rotated_by({"automaticallyAfterDays": 120}, secret_class="api_key"),
        1,
    ),
    (
        "rotatable secret without rotation",
        "aws-secretsmanager-rotation-schedule",
        [rec(SECRET, GOOD_SECRET)],
        1,
    ),
    # ---- KMS, S3, CloudTrail, protection -----------------------------------------------------
    (
        "key rotates",
        "aws-kms-key-rotation",
        [rec("aws:kms/key:Key", {"enableKeyRotation": True})],
        0,
    ),
    (
        "key does not rotate",
        "aws-kms-key-rotation",
        [rec("aws:kms/key:Key", {"enableKeyRotation": False})],
        1,
    ),
    (
        "asymmetric key cannot rotate",
        "aws-kms-key-rotation",
        [rec("aws:kms/key:Key", {"customerMasterKeySpec": "RSA_2048"})],
        0,
    ),
    (
        "short key deletion window",
        "aws-kms-deletion-window",
        [rec("aws:kms/key:Key", {"deletionWindowInDays": 7})],
        1,
    ),
    (
        "public access block half on",
        "aws-s3-public-access-block",
        [
            rec(
                "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
                {"blockPublicAcls": True, "blockPublicPolicy": True},
            )
        ],
        1,
    ),
    (
        "SSE-S3 instead of KMS",
        "aws-s3-kms-encryption",
        [
            rec(
                "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]},
            )
        ],
        1,
    ),
    (
        "versioning suspended",
        "aws-s3-versioning",
        [
            rec(
                "aws:s3/bucketVersioning:BucketVersioning",
                {"versioningConfiguration": {"status": "Suspended"}},
            )
        ],
        1,
    ),
    (
        "force destroy",
        "aws-s3-no-force-destroy",
        [rec("aws:s3/bucket:Bucket", {"forceDestroy": True})],
        1,
    ),
    (
        "trail without validation",
        "aws-cloudtrail-secure-trail",
        [rec("aws:cloudtrail/trail:Trail", {"kmsKeyId": KEY_ARN, "isMultiRegionTrail": True})],
        1,
    ),
    (
        "production secrets without a trail",
        "aws-cloudtrail-required-in-production",
        [rec(SECRET, GOOD_SECRET)],
        1,
    ),
    (
        "production secrets with a trail",
        "aws-cloudtrail-required-in-production",
        [
            rec(SECRET, GOOD_SECRET),
            rec(
                "aws:cloudtrail/trail:Trail",
                {"kmsKeyId": KEY_ARN, "isMultiRegionTrail": True, "enableLogFileValidation": True},
            ),
        ],
        0,
    ),
    ("unprotected production secret", "aws-protect-production-data", [rec(SECRET, GOOD_SECRET)], 1),
    (
        "protected production secret",
        "aws-protect-production-data",
        [rec(SECRET, GOOD_SECRET, protect=True)],
        0,
    ),
    (
        "static provider keys",
        "aws-provider-no-static-credentials",
        [
            rec(
                "pulumi:providers:aws",
                {"accessKey": FAKE_AWS_KEY, "secretKey": "x"},
                secret_paths=("secretKey",),
            )
        ],
        1,
    ),
    (
        "provider with a role",
        "aws-provider-no-static-credentials",
        [rec("pulumi:providers:aws", {"region": "us-east-1"})],
        0,
    ),
    (
        "strong password",
        "random-secret-strength",
        [rec("random:index/randomPassword:RandomPassword", {"length": 32})],
        0,
    ),
    (
        "short password",
        "random-secret-strength",
        [rec("random:index/randomPassword:RandomPassword", {"length": 8})],
        1,
    ),
    (
        "short key material",
        "random-secret-strength",
        [rec("random:index/randomBytes:RandomBytes", {"length": 8})],
        1,
    ),
    # ---- Pulumi ESC environments declared as code -----------------------------------------------
    (
        "ESC environment of references and ciphertext",
        "pulumiservice-esc-environment-references-only",
        [
            rec(
                "pulumiservice:index:Environment",
                {"yaml": {"text": ESC_REFERENCES}, "organization": "acme", "name": "production"},
            )
        ],
        0,
    ),
    (
        "ESC environment of references given as a YAML string",
        "pulumiservice-esc-environment-references-only",
        [
            rec(
                "pulumiservice:index:Environment",
                {"yaml": ESC_REFERENCES, "organization": "acme", "name": "production"},
            )
        ],
        0,
    ),
    (
        "ESC environment of references as a state stores the asset",
        "pulumiservice-esc-environment-references-only",
        [
            rec(
                "pulumiservice:index:Environment",
                {
                    "yaml": {
                        rpc._special_sig_key: rpc._special_asset_sig,  # a serialized asset
                        "hash": "0" * 64,
                        "text": ESC_REFERENCES,
                    },
                    "organization": "acme",
                    "name": "production",
                },
            )
        ],
        0,
    ),
    (
        "ESC environment with a literal under fn::secret",
        "pulumiservice-esc-environment-references-only",
        [
            rec(
                "pulumiservice:index:Environment",
                {"yaml": ESC_REFERENCES + ESC_LITERAL, "organization": "acme", "name": "dev"},
            )
        ],
        1,
    ),
    (
        "ESC environment with a credential written in",
        "pulumiservice-esc-environment-references-only",
        [
            rec(
                "pulumiservice:index:Environment",
                {"yaml": {"text": ESC_REFERENCES + ESC_KEY}, "organization": "acme", "name": "d"},
            )
        ],
        2,
    ),
    (
        "alias to a key",
        "aws-kms-alias-customer-key",
        [rec("aws:kms/alias:Alias", {"name": "alias/nt", "targetKeyId": "k"})],
        0,
    ),
    (
        "reserved alias",
        "aws-kms-alias-customer-key",
        [rec("aws:kms/alias:Alias", {"name": "alias/aws/secretsmanager", "targetKeyId": "k"})],
        1,
    ),
    # ---- Lambda, logs, alarms, notifications ------------------------------------------------------
    (
        "permission scoped to a secret",
        "aws-lambda-permission-scoped",
        [
            rec(
                "aws:lambda/permission:Permission",
                {
                    "principal": "secretsmanager.amazonaws.com",
                    "sourceArn": SECRET_ARN,
                    "sourceAccount": ACCOUNT,
                },
            )
        ],
        0,
    ),
    (
        "service permission for any account",
        "aws-lambda-permission-scoped",
        [rec("aws:lambda/permission:Permission", {"principal": "secretsmanager.amazonaws.com"})],
        1,
    ),
    (
        "public invoke",
        "aws-lambda-permission-scoped",
        [rec("aws:lambda/permission:Permission", {"principal": "*"})],
        1,
    ),
    (
        "env holds a secret ARN",
        "aws-lambda-env-references-only",
        [
            rec(
                "aws:lambda/function:Function",
                {
                    "environment": {
                        "variables": {"JWT_SECRET_ARN": SECRET_ARN, "JWT_SECRET": SECRET_ARN}
                    }
                },
            )
        ],
        0,
    ),
    (
        "env holds a password value, even secret-marked",
        "aws-lambda-env-references-only",
        [
            rec(
                "aws:lambda/function:Function",
                {"environment": {"variables": {"DB_PASSWORD": FAKE_DB_PASSWORD}}},
                secret_paths=("environment",),
            )
        ],
        1,
    ),
    (
        "invocation naming secrets",
        "aws-lambda-invocation-no-credentials",
        [
            rec(
                "aws:lambda/invocation:Invocation",
                {"input": json.dumps({"NtNotice": "revoked", "Secrets": ["JWT_SECRET"]})},
            )
        ],
        0,
    ),
    (
        "invocation carrying a key",
        "aws-lambda-invocation-no-credentials",
        [
            rec(
                "aws:lambda/invocation:Invocation",
                {"input": json.dumps({"OPENAI_API_KEY": FAKE_OPENAI})},
            )
        ],
        1,
    ),
    (
        "function URL without auth",
        "aws-lambda-url-authenticated",
        [rec("aws:lambda/functionUrl:FunctionUrl", {"authorizationType": "NONE"})],
        1,
    ),
    (
        "function URL with IAM auth",
        "aws-lambda-url-authenticated",
        [rec("aws:lambda/functionUrl:FunctionUrl", {"authorizationType": "AWS_IAM"})],
        0,
    ),
    (
        "IAM access key",
        "aws-iam-no-access-keys",
        [rec("aws:iam/accessKey:AccessKey", {"user": "ci"})],
        1,
    ),
    (
        "deactivated access key",
        "aws-iam-no-access-keys",
        [rec("aws:iam/accessKey:AccessKey", {"user": "ci", "status": "Inactive"})],
        0,
    ),
    (
        "replica on the AWS-managed key",
        "aws-secretsmanager-cmk-encryption",
        [rec(SECRET, {**GOOD_SECRET, "replicas": [{"region": "eu-west-1"}]})],
        1,
    ),
    (
        "replica on a CMK",
        "aws-secretsmanager-cmk-encryption",
        [rec(SECRET, {**GOOD_SECRET, "replicas": [{"region": "eu-west-1", "kmsKeyId": KEY_ARN}]})],
        0,
    ),
    (
        "cross-account KMS grant",
        "aws-kms-grant-same-account",
        [
            rec(
                "aws:kms/grant:Grant",
                {
                    "keyId": KEY_ARN,
                    "granteePrincipal": "arn:aws:iam::999999999999:role/x",
                    "operations": ["Decrypt"],
                },
            )
        ],
        1,
    ),
    (
        "same-account KMS grant",
        "aws-kms-grant-same-account",
        [
            rec(
                "aws:kms/grant:Grant",
                {
                    "keyId": KEY_ARN,
                    "granteePrincipal": f"arn:aws:iam::{ACCOUNT}:role/x",
                    "operations": ["Decrypt"],
                },
            )
        ],
        0,
    ),
    (
        "plaintext SSM String parameter named like a password",
        "all-no-plaintext-credentials",
        [
            rec(
                "aws:ssm/parameter:Parameter",
                {"name": "/nt/db/password", "type": "String", "value": FAKE_DB_PASSWORD},
            )
        ],
        1,
    ),
    (
        "permission scoped by a wildcard ARN",
        "aws-lambda-permission-scoped",
        [
            rec(
                "aws:lambda/permission:Permission",
                {"principal": "s3.amazonaws.com", "sourceArn": "arn:aws:s3:::*"},
            )
        ],
        1,
    ),
    (
        "public invoke with account '*'",
        "aws-lambda-permission-scoped",
        [rec("aws:lambda/permission:Permission", {"principal": "*", "sourceAccount": "*"})],
        1,
    ),
    (
        "key usable by anyone through Secrets Manager",
        "aws-iam-no-public-principal",
        [
            rec(
                "aws:kms/key:Key",
                {
                    "enableKeyRotation": True,
                    "policy": doc(
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": "*"},
                            "Action": ["kms:Decrypt"],
                            "Resource": "*",
                            "Condition": {
                                "StringEquals": {
                                    "kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"
                                }
                            },
                        }
                    ),
                },
            )
        ],
        1,
    ),
    (
        "key through Secrets Manager for one account",
        "aws-iam-no-public-principal",
        [
            rec(
                "aws:kms/key:Key",
                {
                    "enableKeyRotation": True,
                    "policy": doc(
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": "*"},
                            "Action": ["kms:Decrypt"],
                            "Resource": "*",
                            "Condition": {
                                "StringEquals": {
                                    "kms:ViaService": "secretsmanager.us-east-1.amazonaws.com",
                                    "kms:CallerAccount": ACCOUNT,
                                }
                            },
                        }
                    ),
                },
            )
        ],
        0,
    ),
    (
        "GitHub OIDC trust conditions are not credentials",
        "all-no-plaintext-credentials",
        [
            rec(
                "aws:iam/role:Role",
                {
                    "assumeRolePolicy": doc(
                        {
                            "Effect": "Allow",
                            "Principal": {
                                "Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
                            },
                            "Action": "sts:AssumeRoleWithWebIdentity",
                            "Condition": {
                                "StringEquals": {
                                    "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                                    "token.actions.githubusercontent.com:sub": "repo:neural-trader/secrets:ref:refs/heads/main",
                                }
                            },
                        }
                    )
                },
            )
        ],
        0,
    ),
    (
        "log group kept and encrypted",
        "aws-cloudwatch-log-group-retention-kms",
        [rec("aws:cloudwatch/logGroup:LogGroup", {"retentionInDays": 365, "kmsKeyId": KEY_ARN})],
        0,
    ),
    (
        "log group forever, unencrypted",
        "aws-cloudwatch-log-group-retention-kms",
        [rec("aws:cloudwatch/logGroup:LogGroup", {})],
        2,
    ),
    (
        "topic with CMK",
        "aws-sns-topic-kms",
        [rec("aws:sns/topic:Topic", {"kmsMasterKeyId": KEY_ARN})],
        0,
    ),
    (
        "topic with aws/sns",
        "aws-sns-topic-kms",
        [rec("aws:sns/topic:Topic", {"kmsMasterKeyId": "alias/aws/sns"})],
        1,
    ),
    (
        "http subscription",
        "aws-sns-subscription-tls",
        [
            rec(
                "aws:sns/topicSubscription:TopicSubscription",
                {"protocol": "http", "endpoint": "http://hooks.example.com/x"},
            )
        ],
        1,
    ),
    (
        "email subscription",
        "aws-sns-subscription-tls",
        [
            rec(
                "aws:sns/topicSubscription:TopicSubscription",
                {"protocol": "email", "endpoint": "sec@example.com"},
            )
        ],
        0,
    ),
    (
        "alarm notifying nobody",
        "aws-cloudwatch-alarm-actions",
        [rec("aws:cloudwatch/metricAlarm:MetricAlarm", {"alarmActions": []})],
        1,
    ),
    (
        "alarm to topic",
        "aws-cloudwatch-alarm-actions",
        [
            rec(
                "aws:cloudwatch/metricAlarm:MetricAlarm",
                {"alarmActions": ["arn:aws:sns:us-east-1:123456789012:t"]},
            )
        ],
        0,
    ),
    # ---- GCP, Azure, Vault, Kubernetes ----------------------------------------------------------
    (
        "secret accessor for a service account",
        "gcp-iam-no-public-members",
        [
            rec(
                "gcp:secretmanager/secretIamMember:SecretIamMember",
                {
                    "role": "roles/secretmanager.secretAccessor",
                    "member": "serviceAccount:bt@p.iam.gserviceaccount.com",
                },
            )
        ],
        0,
    ),
    (
        "secret readable by allUsers",
        "gcp-iam-no-public-members",
        [
            rec(
                "gcp:secretmanager/secretIamMember:SecretIamMember",
                {"role": "roles/secretmanager.secretAccessor", "member": "allUsers"},
            )
        ],
        1,
    ),
    (
        "binding with allAuthenticatedUsers",
        "gcp-iam-no-public-members",
        [
            rec(
                "gcp:projects/iAMBinding:IAMBinding",
                {"role": "roles/viewer", "members": ["allAuthenticatedUsers"]},
            )
        ],
        1,
    ),
    (
        "IAM policy data with allUsers",
        "gcp-iam-no-public-members",
        [
            rec(
                "gcp:storage/bucketIAMPolicy:BucketIAMPolicy",
                {
                    "policyData": json.dumps(
                        {
                            "bindings": [
                                {"role": "roles/storage.objectViewer", "members": ["allUsers"]}
                            ]
                        }
                    )
                },
            )
        ],
        1,
    ),
    (
        "project editor",
        "gcp-iam-no-basic-roles",
        [
            rec(
                "gcp:projects/iAMMember:IAMMember",
                {"role": "roles/editor", "member": "user:dev@example.com"},
            )
        ],
        1,
    ),
    (
        "predefined role",
        "gcp-iam-no-basic-roles",
        [
            rec(
                "gcp:projects/iAMMember:IAMMember",
                {"role": "roles/secretmanager.viewer", "member": "user:dev@example.com"},
            )
        ],
        0,
    ),
    # Azure Key Vault: one table of its own (tests/policies/test_azure.py), run here with the rest.
    *AZURE_CASES,
    *AZURE_CHECKOV_CASES,
    *GAP_CASES,
    # HashiCorp Vault: one table of its own (tests/policies/test_vault.py), run here with the rest.
    *VAULT_CASES,
    # Google Cloud: one table of its own (tests/policies/test_gcp.py), run here with the rest.
    *GCP_CASES,
    *GCP_PLATFORM_CASES,
    *QUOTA_CASES,
    # Kubernetes: one table of its own (tests/policies/test_kubernetes.py).
    *KUBERNETES_CASES,
    # AWS trust and foreign key administration (tests/policies/test_iam_trust.py).
    *IAM_PACK_CASES,
    # One home and one value per secret; sprawl (tests/policies/test_single_source.py).
    *SINGLE_SOURCE_CASES,
    # Escape hatches: SSM parameters, S3 defaults (tests/policies/test_escape_hatches.py).
    *ESCAPE_CASES,
    (
        "auditor reading secret values",
        "nt-stack-paper-live-separation",
        [
            rec(
                SECRET,
                {
                    "name": "neural-trader/production/alpaca/api-key",
                    "tags": {"access-scopes": "live"},
                },
                name="live",
            ),
            rec("aws:iam/role:Role", {"name": "x-auditor"}, name="auditor"),
            rec(
                ROLE_POLICY,
                {
                    "policy": doc(
                        allow(
                            "secretsmanager:GetSecretValue",
                            [
                                f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:neural-trader/production/*"
                            ],
                        )
                    )
                },
                name="p",
                parent="urn:pulumi:t::neural-trader-secrets::aws:iam/role:Role::auditor",
            ),
        ],
        1,
    ),
    (
        "developer reading a live secret",
        "nt-stack-paper-live-separation",
        [
            rec(
                SECRET,
                {
                    "name": "neural-trader/production/auth/jwt-secret",
                    "tags": {"access-scopes": "live"},
                },
                name="live",
            ),
            rec("aws:iam/role:Role", {"name": "x-developer"}, name="developer"),
            rec(
                ROLE_POLICY,
                {
                    "policy": doc(
                        allow(
                            "secretsmanager:GetSecretValue",
                            [
                                f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:neural-trader/production/auth/jwt-secret-AbCdEf"
                            ],
                        )
                    )
                },
                name="p",
                parent="urn:pulumi:t::neural-trader-secrets::aws:iam/role:Role::developer",
            ),
        ],
        1,
    ),
    (
        "the trader reads the live secret it is meant to",
        "nt-stack-intended-access",
        [
            rec(
                SECRET,
                {
                    "name": "neural-trader/production/auth/jwt-secret",
                    "tags": {"access-scopes": "live", "catalog-name": "JWT_SECRET"},
                },
                name="live",
                outputs={
                    "arn": f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:neural-trader/production/auth/jwt-secret-AbCdEf"
                },
            ),
            rec(
                "aws:iam/role:Role", {"name": "x-trader", "tags": {"role": "trader"}}, name="trader"
            ),
            rec(
                ROLE_POLICY,
                {
                    "policy": doc(
                        allow(
                            "secretsmanager:GetSecretValue",
                            [
                                f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:neural-trader/production/auth/jwt-secret-AbCdEf"
                            ],
                        )
                    )
                },
                name="p",
                parent="urn:pulumi:t::neural-trader-secrets::aws:iam/role:Role::trader",
            ),
        ],
        0,
    ),
    (
        "the developer reads a live secret the model keeps from it",
        "nt-stack-intended-access",
        [
            rec(
                SECRET,
                {
                    "name": "neural-trader/production/auth/jwt-secret",
                    "tags": {"access-scopes": "live", "catalog-name": "JWT_SECRET"},
                },
                name="live",
                outputs={
                    "arn": f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:neural-trader/production/auth/jwt-secret-AbCdEf"
                },
            ),
            rec(
                "aws:iam/role:Role",
                {"name": "x-developer", "tags": {"role": "developer"}},
                name="developer",
            ),
            rec(
                ROLE_POLICY,
                {
                    "policy": doc(
                        allow(
                            "secretsmanager:GetSecretValue",
                            [
                                f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:neural-trader/production/auth/jwt-secret-AbCdEf"
                            ],
                        )
                    )
                },
                name="p",
                parent="urn:pulumi:t::neural-trader-secrets::aws:iam/role:Role::developer",
            ),
        ],
        1,
    ),
    # ---- stack policies ----------------------------------------------------------------------
    (
        "production stack missing most catalog secrets",
        "nt-stack-catalog-coverage",
        [rec(SECRET, {**GOOD_SECRET, "tags": {**PROD_TAGS, "catalog-name": "JWT_SECRET"}})],
        20,
    ),
    (
        "one role reads paper and live",
        "nt-stack-paper-live-separation",
        [
            rec(
                SECRET,
                {
                    "name": "neural-trader/production/alpaca/api-key",
                    "tags": {"access-scopes": "live"},
                },
                name="live",
            ),
            rec(
                SECRET,
                {
                    "name": "neural-trader/production/alpaca/paper-key",
                    "tags": {"access-scopes": "paper+test"},
                },
                name="paper",
            ),
            rec("aws:iam/role:Role", {"name": "x-trader"}, name="trader"),
            rec(
                ROLE_POLICY,
                {
                    "policy": doc(
                        allow(
                            "secretsmanager:GetSecretValue",
                            [
                                f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:neural-trader/production/alpaca/*"
                            ],
                        )
                    )
                },
                name="p",
                parent="urn:pulumi:t::neural-trader-secrets::aws:iam/role:Role::trader",
            ),
        ],
        1,
    ),
    (
        "paper role reading live secrets through Get*",
        "nt-stack-paper-live-separation",
        [
            rec(
                SECRET,
                {
                    "name": "neural-trader/production/auth/jwt-secret",
                    "tags": {"access-scopes": "live"},
                },
                name="live",
            ),
            rec("aws:iam/role:Role", {"name": "x-backtest"}, name="backtest"),
            rec(
                ROLE_POLICY,
                {
                    "policy": doc(
                        allow(
                            "secretsmanager:Get*",
                            [
                                f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:neural-trader/production/*"
                            ],
                        )
                    )
                },
                name="p",
                parent="urn:pulumi:t::neural-trader-secrets::aws:iam/role:Role::backtest",
            ),
        ],
        1,
    ),
    (
        "admin reads both",
        "nt-stack-paper-live-separation",
        [
            rec(SECRET, {"name": "a", "tags": {"access-scopes": "live"}}, name="live"),
            rec(SECRET, {"name": "b", "tags": {"access-scopes": "paper"}}, name="paper"),
            rec("aws:iam/role:Role", {"name": "x-admin"}, name="admin"),
            rec(
                ROLE_POLICY,
                {
                    "policy": doc(
                        allow(
                            "secretsmanager:GetSecretValue",
                            [
                                f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:a-AbCdEf",
                                f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:b-AbCdEf",
                            ],
                        )
                    )
                },
                name="p",
                parent="urn:pulumi:t::neural-trader-secrets::aws:iam/role:Role::admin",
            ),
        ],
        0,
    ),
]


@pytest.mark.parametrize(
    ("case", "policy", "records", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_policy_case(case: str, policy: str, records: list[ResourceRecord], expected: int) -> None:
    result = run(records)
    found = [v for v in result.violations if v.policy == policy]
    # expected: 0 = compliant, n > 0 = at least one violation (one problem may be reported per rule)
    assert (len(found) > 0) == (expected > 0), [
        f"{v.policy}: {v.message}" for v in result.violations
    ]
    if expected in (1, 2) and policy != "aws-iam-no-risky-permissions":
        assert len(found) == expected, [v.message for v in found]
    for v in found:
        assert "FAKE" not in v.message and "EXAMPLE" not in v.message, (
            "a violation must never quote a credential"
        )


def test_every_policy_has_a_compliant_and_a_violating_case() -> None:
    violating = {c[1] for c in CASES if c[3] > 0}
    compliant = {c[1] for c in CASES if c[3] == 0}
    ids = {p.spec.id for p in ALL}
    assert ids - violating == set(), "policies without a violating case"
    missing_ok = ids - compliant
    assert missing_ok <= {
        "aws-iam-valid-documents",
        "aws-iam-known-actions",
        "aws-s3-no-force-destroy",
        "aws-s3-public-access-block",
        "aws-s3-kms-encryption",
        "aws-s3-versioning",
        "aws-kms-deletion-window",
        "aws-cloudtrail-secure-trail",
        "aws-secretsmanager-block-public-policy",
        "nt-stack-catalog-coverage",
    }


def test_every_policy_carries_uniform_metadata() -> None:
    for p in ALL:
        s = p.spec
        parts = s.id.split("-")
        assert len(parts) >= 3 and parts[0] in {
            "aws",
            "all",
            "nt",
            "gcp",
            "azure",
            "vault",
            "kubernetes",
            "random",
            "pulumiservice",
        }, s.id
        assert s.description and s.remediation
        if s.category.value in ("plaintext", "over-permissive"):
            assert s.enforcement.value == "mandatory" or s.id == "aws-iam-known-actions", s.id


@pytest.mark.parametrize("p", ALL, ids=[p.spec.id for p in ALL])
def test_every_policy_config_schema_is_valid_json_schema(p: PackPolicy) -> None:
    """The runner validates a config document against each policy's schema without checking the
    schema itself (issue 15: that check cost ~10 ms a policy on every run), and takes the
    defaults unvalidated when the document does not set a policy's properties: so every schema
    must be valid JSON Schema and its defaults must satisfy it, which this checks once."""
    schema = {"type": "object", "properties": p.spec.schema, "additionalProperties": False}
    validator = jsonschema.validators.validator_for(schema)
    validator.check_schema(schema)
    validator(schema).validate(p.spec.defaults())


@pytest.mark.parametrize(
    ("config", "error"),
    [
        ({"no-such-policy": "mandatory"}, "unknown policies"),
        ({"all": "sometimes"}, "enforcement level"),
        ({"aws-kms-deletion-window": {"minimumDays": 3}}, "minimumDays"),
        ({"aws-kms-deletion-window": {"colour": "red"}}, "colour"),
    ],
)
def test_bad_policy_pack_config_is_refused(config: dict[str, Any], error: str) -> None:
    with pytest.raises(PolicyConfigError, match=error):
        resolve_config(config)


def test_config_levels_and_tunables_apply() -> None:
    records = [rec("aws:kms/key:Key", {"enableKeyRotation": False, "deletionWindowInDays": 10})]
    assert {v.policy for v in run(records).violations} == {
        "aws-kms-key-rotation",
        "aws-kms-deletion-window",
    }
    relaxed = run(
        records,
        config={"aws-kms-deletion-window": {"minimumDays": 10}, "aws-kms-key-rotation": "disabled"},
    )
    assert relaxed.violations == []
    advisory = run(records, config={"all": "advisory"})
    assert {v.enforcement.value for v in advisory.violations} == {"advisory"}


def test_exempt_resources_are_not_judged() -> None:
    records = [rec("aws:kms/key:Key", {"enableKeyRotation": False}, name="legacy-key")]
    assert [v.policy for v in run(records).violations] == ["aws-kms-key-rotation"]
    config = {"aws-kms-key-rotation": {"exemptResources": ["legacy-*"]}}
    assert run(records, config=config).violations == []


def test_allowed_accounts_limit_cross_account_trust() -> None:
    trust = doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::999999999999:root"},
            "Action": "sts:AssumeRole",
        }
    )
    records = [rec("aws:iam/role:Role", {"assumeRolePolicy": trust})]
    assert not [v for v in run(records).violations if v.policy == "aws-iam-no-public-principal"]
    config = {"aws-iam-no-public-principal": {"allowedAccounts": [ACCOUNT]}}
    found = [
        v
        for v in run(records, config=config).violations
        if v.policy == "aws-iam-no-public-principal"
    ]
    assert len(found) == 1 and "999999999999" in found[0].message
