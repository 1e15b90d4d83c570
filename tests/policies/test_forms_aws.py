"""Issue 21 class 1 on AWS (beyond S3, tests/policies/test_provider_forms.py): every shape
pulumi-aws 7 and 6 allow for the settings the KMS, Secrets Manager, CloudTrail, SNS, CloudWatch,
Lambda, SSM and IAM policies read: booleans stored as "true", maxItems-1 blocks as one-item
lists, secret envelopes standing for a value, an entry, a list or a whole block, ciphertext in a
state, and IAM documents as JSON text, as a map of the policy grammar (``PolicyDocumentArgs``),
in an envelope, with enveloped values inside, or as a stored ``getPolicyDocument`` result.
Compliant look-alikes give no finding; the same settings written wrong still do."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.policies.forms import ACCOUNT, KEY_ARN, FormCase, R, cipher, env, form_params, judge

KEY = "aws:kms/key:Key"
SECRET = "aws:secretsmanager/secret:Secret"  # pragma: allowlist secret (a type token)
SECRET_POLICY = "aws:secretsmanager/secretPolicy:SecretPolicy"  # pragma: allowlist secret
ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"
TRAIL = "aws:cloudtrail/trail:Trail"
TOPIC = "aws:sns/topic:Topic"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
PERMISSION = "aws:lambda/permission:Permission"
URL = "aws:lambda/functionUrl:FunctionUrl"
PARAMETER = "aws:ssm/parameter:Parameter"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
PUBLIC_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"

KMS_ROTATION = "aws-kms-key-rotation"
KMS_DELETION = "aws-kms-deletion-window"
KMS_FOREIGN = "aws-kms-key-policy-no-foreign-admin"
SM_CMK = "aws-secretsmanager-cmk-encryption"
SM_RECOVERY = "aws-secretsmanager-recovery-window"
SM_PUBLIC = "aws-secretsmanager-block-public-policy"
SM_SCHEDULE = "aws-secretsmanager-rotation-schedule"
TRAIL_SETTINGS = "aws-cloudtrail-secure-trail"
SNS_KMS = "aws-sns-topic-kms"
LOGS = "aws-cloudwatch-log-group-retention-kms"
LAMBDA_PERMISSION = "aws-lambda-permission-scoped"
LAMBDA_URL = "aws-lambda-url-authenticated"
SSM_CMK = "aws-ssm-securestring-cmk"
SSM_PLAIN = "aws-ssm-no-plaintext-credential"
S3_BLOCK = "aws-s3-public-access-block"
IAM = (
    "aws-iam-no-wildcard-actions",
    "aws-iam-no-resource-star",
    "aws-iam-no-public-principal",
    "aws-iam-no-risky-permissions",
    "aws-iam-valid-documents",
    "aws-iam-known-actions",
    "aws-iam-no-service-wildcards",
    "aws-iam-no-type-wide-resources",
)
WILDCARD, RESOURCE_STAR = IAM[0], IAM[1]
SERVICE_WILDCARD, TYPE_WIDE = IAM[6], IAM[7]
EVERY_SECRET = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:*"
PREFIXED = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:venue/*"
VALID = "aws-iam-valid-documents"

KEY_POLICIES = (KMS_ROTATION, KMS_DELETION, KMS_FOREIGN, VALID)
SECRET_POLICIES = (SM_CMK, SM_RECOVERY, SM_PUBLIC, SM_SCHEDULE, VALID)

SECRET_ARN = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:venue-api-key-AbCdEf"
OTHER = "210987654321"


def statement(action: Any, resource: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


READ = statement("secretsmanager:GetSecretValue", f"{SECRET_ARN[:-17]}venue-*")
SHARE = statement(
    "secretsmanager:GetSecretValue",
    SECRET_ARN,
    Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:role/venue-trader"},
)
KEY_ROOT = statement("kms:*", "*", Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"})
KEY_FOREIGN = statement("kms:*", "*", Principal={"AWS": f"arn:aws:iam::{OTHER}:root"})
TRUST = {
    "Effect": "Allow",
    "Action": "sts:AssumeRole",
    "Principal": {"Service": "lambda.amazonaws.com"},
}
KEY_ARN_INPUT = {"arn": KEY_ARN}


def key(**over: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "enableKeyRotation": True,
        "deletionWindowInDays": 30,
        "policy": json.dumps(doc(KEY_ROOT)),
    }
    out.update(over)
    return out


def secret(**over: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": "venue-api-key",
        "kmsKeyId": KEY_ARN,
        "recoveryWindowInDays": 30,
        "tags": {"rotation-class": "api_key"},
    }
    out.update(over)
    return out


def rotation(rules: Any, **over: Any) -> R:
    return R(ROTATION, "rot", {"secretId": SECRET_ARN, "rotationRules": rules, **over})


def trail(**over: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "s3BucketName": "nt-audit",
        "enableLogFileValidation": True,
        "kmsKeyId": KEY_ARN,
        "isMultiRegionTrail": True,
    }
    out.update(over)
    return out


CASES: list[FormCase] = [
    # ---- KMS keys: compliant look-alikes
    FormCase(
        "key: rotation as the string 'true', window as a string",
        (R(KEY, "k", key(enableKeyRotation="true", deletionWindowInDays="30")),),
        frozenset(),
        KEY_POLICIES,
    ),
    FormCase(
        "key: settings and policy text in envelopes",
        (
            R(
                KEY,
                "k",
                key(
                    enableKeyRotation=env(True),
                    rotationPeriodInDays=env(180),
                    deletionWindowInDays=env(30),
                    policy=env(json.dumps(doc(KEY_ROOT))),
                ),
            ),
        ),
        frozenset(),
        KEY_POLICIES,
    ),
    FormCase(
        "key: policy as a map of the grammar with enveloped values (PolicyDocumentArgs)",
        (
            R(
                KEY,
                "k",
                key(
                    policy=doc(
                        statement(
                            "kms:*",
                            env("*"),
                            Principal={"AWS": env(f"arn:aws:iam::{ACCOUNT}:root")},
                        )
                    ),
                    **KEY_ARN_INPUT,
                ),
            ),
        ),
        frozenset(),
        KEY_POLICIES,
    ),
    FormCase(
        "key: rotation and policy stored as ciphertext (unreadable, not missing nor malformed)",
        (R(KEY, "k", key(enableKeyRotation=cipher(), policy=cipher())),),
        frozenset(),
        KEY_POLICIES,
        state_only=True,
    ),
    # ---- KMS keys: still findings
    FormCase(
        "key: rotation off in an envelope, enveloped short window",
        (R(KEY, "k", key(enableKeyRotation=env(False), deletionWindowInDays=env(7))),),
        frozenset({(KMS_ROTATION, "k"), (KMS_DELETION, "k")}),
        KEY_POLICIES,
    ),
    FormCase(
        "key: rotation 'false', an enveloped period over a year",
        (R(KEY, "k", key(enableKeyRotation="false", rotationPeriodInDays=env(400))),),
        frozenset({(KMS_ROTATION, "k")}),
        KEY_POLICIES,
    ),
    FormCase(
        "key: enveloped policy giving another account kms:*",
        (R(KEY, "k", key(policy=env(json.dumps(doc(KEY_ROOT, KEY_FOREIGN))), **KEY_ARN_INPUT)),),
        frozenset({(KMS_FOREIGN, "k")}),
        KEY_POLICIES,
    ),
    # ---- Secrets Manager: compliant look-alikes
    FormCase(
        "secret: key, window, replicas and tags in envelopes; rotation rules enveloped",
        (
            R(
                SECRET,
                "s",
                secret(
                    kmsKeyId=env(KEY_ARN),
                    recoveryWindowInDays=env(30),
                    replicas=env([env({"region": "eu-west-1", "kmsKeyId": env(KEY_ARN)})]),
                    tags=env({"rotation-class": "api_key"}),
                ),
            ),
            rotation(env({"automaticallyAfterDays": env(30)})),
            R(
                SECRET_POLICY,
                "sp",
                {
                    "secretArn": SECRET_ARN,
                    "blockPublicPolicy": env(True),
                    "policy": env(json.dumps(doc(SHARE))),
                },
            ),
        ),
        frozenset(),
        SECRET_POLICIES,
    ),
    FormCase(
        "secret: rotation rules as a one-item list, schedule expression, 'true' flag",
        (
            R(SECRET, "s", secret()),
            rotation([{"scheduleExpression": "rate(30 days)"}]),
            R(
                SECRET_POLICY,
                "sp",
                {"secretArn": SECRET_ARN, "blockPublicPolicy": "true", "policy": doc(SHARE)},
            ),
        ),
        frozenset(),
        SECRET_POLICIES,
    ),
    FormCase(
        "secret: key and rotation rules stored as ciphertext",
        (
            R(SECRET, "s", secret(kmsKeyId=cipher(), replicas=cipher())),
            rotation(cipher()),
        ),
        frozenset(),
        (SM_CMK, SM_RECOVERY, SM_SCHEDULE),
        state_only=True,
    ),
    # ---- Secrets Manager: still findings
    FormCase(
        "secret: an enveloped replica on the AWS-managed key, window 0 in an envelope",
        (
            R(
                SECRET,
                "s",
                secret(
                    recoveryWindowInDays=env(0),
                    replicas=[env({"region": "eu-west-1", "kmsKeyId": "alias/aws/secretsmanager"})],
                ),
            ),
            rotation({"automaticallyAfterDays": 30}),
        ),
        frozenset({(SM_CMK, "s"), (SM_RECOVERY, "s")}),
        SECRET_POLICIES,
    ),
    FormCase(
        "secret: enveloped rotation rules longer than the class allows",
        (R(SECRET, "s", secret()), rotation(env({"automaticallyAfterDays": env(400)}))),
        frozenset({(SM_SCHEDULE, "rot")}),
        SECRET_POLICIES,
    ),
    FormCase(
        "secret policy: blockPublicPolicy 'false' in an envelope",
        (R(SECRET_POLICY, "sp", {"secretArn": SECRET_ARN, "blockPublicPolicy": env("false")}),),
        frozenset({(SM_PUBLIC, "sp")}),
        (SM_PUBLIC,),
    ),
    # ---- CloudTrail, SNS, CloudWatch Logs
    FormCase(
        "trail: flags as strings and envelopes, enveloped key",
        (
            R(
                TRAIL,
                "t",
                trail(
                    enableLogFileValidation="true",
                    isMultiRegionTrail=env(True),
                    kmsKeyId=env(KEY_ARN),
                    enableLogging=env("true"),
                ),
            ),
        ),
        frozenset(),
        (TRAIL_SETTINGS,),
    ),
    FormCase(
        "trail: flags stored as ciphertext",
        (R(TRAIL, "t", trail(isMultiRegionTrail=cipher(), kmsKeyId=cipher())),),
        frozenset(),
        (TRAIL_SETTINGS,),
        state_only=True,
    ),
    FormCase(
        "trail: single-region in an envelope, logging 'false'",
        (R(TRAIL, "t", trail(isMultiRegionTrail=env(False), enableLogging="false")),),
        frozenset({(TRAIL_SETTINGS, "t")}),
        (TRAIL_SETTINGS,),
    ),
    FormCase(
        "topic key and log group settings in envelopes",
        (
            R(TOPIC, "topic", {"kmsMasterKeyId": env(KEY_ARN)}),
            R(LOG_GROUP, "logs", {"retentionInDays": env(365), "kmsKeyId": env(KEY_ARN)}),
        ),
        frozenset(),
        (SNS_KMS, LOGS),
    ),
    FormCase(
        "topic on the enveloped AWS-managed key; log group without a key",
        (
            R(TOPIC, "topic", {"kmsMasterKeyId": env("alias/aws/sns")}),
            R(LOG_GROUP, "logs", {"retentionInDays": 365}),
        ),
        frozenset({(SNS_KMS, "topic"), (LOGS, "logs")}),
        (SNS_KMS, LOGS),
    ),
    # ---- Lambda, SSM, S3 public access block
    FormCase(
        "lambda permission scoped by an enveloped source ARN; URL auth enveloped",
        (
            R(
                PERMISSION,
                "perm",
                {
                    "action": "lambda:InvokeFunction",
                    "function": "rotator",
                    "principal": "secretsmanager.amazonaws.com",
                    "sourceArn": env(SECRET_ARN),
                },
            ),
            R(URL, "url", {"functionName": "rotator", "authorizationType": env("AWS_IAM")}),
        ),
        frozenset(),
        (LAMBDA_PERMISSION, LAMBDA_URL),
    ),
    FormCase(
        "lambda URL without auth, in an envelope",
        (R(URL, "url", {"functionName": "rotator", "authorizationType": env("NONE")}),),
        frozenset({(LAMBDA_URL, "url")}),
        (LAMBDA_URL,),
    ),
    FormCase(
        "SSM SecureString with type, key and value in envelopes",
        (
            R(
                PARAMETER,
                "param",
                {
                    "name": "/nt/prod/venue_api_key",
                    "type": env("SecureString"),
                    "keyId": env(KEY_ARN),
                    "value": env("not-shown"),
                },
            ),
        ),
        frozenset(),
        (SSM_CMK, SSM_PLAIN),
    ),
    FormCase(
        "SSM SecureString on the enveloped AWS-managed key",
        (
            R(
                PARAMETER,
                "param",
                {"name": "/nt/prod/x", "type": "SecureString", "keyId": env("alias/aws/ssm")},
            ),
        ),
        frozenset({(SSM_CMK, "param")}),
        (SSM_CMK, SSM_PLAIN),
    ),
    FormCase(
        "public access block flags as strings and envelopes",
        (
            R(
                PUBLIC_BLOCK,
                "pab",
                {
                    "bucket": "nt-audit",
                    "blockPublicAcls": "true",
                    "blockPublicPolicy": env(True),
                    "ignorePublicAcls": env("true"),
                    "restrictPublicBuckets": True,
                },
            ),
        ),
        frozenset(),
        (S3_BLOCK,),
    ),
    FormCase(
        "public access block with one flag off in an envelope",
        (
            R(
                PUBLIC_BLOCK,
                "pab",
                {
                    "bucket": "nt-audit",
                    "blockPublicAcls": True,
                    "blockPublicPolicy": env(False),
                    "ignorePublicAcls": True,
                    "restrictPublicBuckets": True,
                },
            ),
        ),
        frozenset({(S3_BLOCK, "pab")}),
        (S3_BLOCK,),
    ),
    # ---- IAM documents in every shape
    FormCase(
        "role: enveloped trust text, enveloped inline list; role policy as an enveloped map",
        (
            R(
                ROLE,
                "role",
                {
                    "assumeRolePolicy": env(json.dumps(doc(TRUST))),
                    "inlinePolicies": env([{"name": "read", "policy": env(json.dumps(doc(READ)))}]),
                },
            ),
            R(ROLE_POLICY, "rp", {"role": "role", "policy": env(doc(READ))}),
        ),
        frozenset(),
        IAM,
    ),
    FormCase(
        "role policy as the grammar map with an enveloped resource and action list",
        (
            R(
                ROLE_POLICY,
                "rp",
                {
                    "role": "role",
                    "policy": doc(
                        statement(
                            env(["secretsmanager:GetSecretValue"]), [env(f"{SECRET_ARN[:-7]}*")]
                        )
                    ),
                },
            ),
        ),
        frozenset(),
        IAM,
    ),
    FormCase(
        "role policy: a stored getPolicyDocument result (json and minifiedJson)",
        (
            R(
                ROLE_POLICY,
                "rp",
                {
                    "role": "role",
                    "policy": {
                        "id": "123",
                        "json": json.dumps(doc(READ), indent=2),
                        "minifiedJson": json.dumps(doc(READ)),
                    },
                },
            ),
        ),
        frozenset(),
        IAM,
    ),
    FormCase(
        "documents stored as ciphertext are not malformed",
        (
            R(ROLE, "role", {"assumeRolePolicy": cipher(), "inlinePolicies": cipher()}),
            R(ROLE_POLICY, "rp", {"role": "role", "policy": cipher()}),
        ),
        frozenset(),
        IAM,
        state_only=True,
    ),
    FormCase(
        "enveloped admin document: still every wildcard finding",
        (
            R(
                ROLE_POLICY,
                "rp",
                {"role": "role", "policy": env(json.dumps(doc(statement("*", "*"))))},
            ),
        ),
        frozenset(
            {(WILDCARD, "rp"), (RESOURCE_STAR, "rp"), ("aws-iam-no-risky-permissions", "rp")}
        ),
        IAM,
    ),
    FormCase(
        "grammar map with an enveloped wildcard action",
        (R(ROLE_POLICY, "rp", {"role": "role", "policy": doc(statement(env("*"), env("*")))}),),
        frozenset(
            {(WILDCARD, "rp"), (RESOURCE_STAR, "rp"), ("aws-iam-no-risky-permissions", "rp")}
        ),
        IAM,
    ),
    FormCase(
        "named actions on a name prefix, enveloped at every depth: no finding",
        (
            R(
                ROLE_POLICY,
                "rp",
                {
                    "role": "role",
                    "policy": env(
                        json.dumps(doc(statement(["secretsmanager:GetSecretValue"], PREFIXED)))
                    ),
                },
            ),
            R(
                ROLE,
                "role",
                {
                    "inlinePolicies": env(
                        [
                            {
                                "name": "p",
                                "policy": doc(
                                    statement(env(["secretsmanager:DescribeSecret"]), env(PREFIXED))
                                ),
                            }
                        ]
                    )
                },
            ),
        ),
        frozenset(),
        IAM,
    ),
    FormCase(
        "a service wildcard on one secret, as JSON text in an envelope",
        (
            R(
                ROLE_POLICY,
                "rp",
                {
                    "role": "role",
                    "policy": env(json.dumps(doc(statement("secretsmanager:*", SECRET_ARN)))),
                },
            ),
        ),
        frozenset({(SERVICE_WILDCARD, "rp")}),
        IAM,
    ),
    FormCase(
        "every secret of the account, in an inline role policy with enveloped entries",
        (
            R(
                ROLE,
                "role",
                {
                    "inlinePolicies": [
                        {
                            "name": "p",
                            "policy": doc(
                                statement(env("secretsmanager:DescribeSecret"), env(EVERY_SECRET))
                            ),
                        }
                    ]
                },
            ),
        ),
        frozenset({(TYPE_WIDE, "role")}),
        IAM,
    ),
]

# ---- KMS aliases and grants, provider credentials, access keys ------------------------------

ALIAS = "aws:kms/alias:Alias"
GRANT = "aws:kms/grant:Grant"
PROVIDER = "pulumi:providers:aws"
ACCESS_KEY = "aws:iam/accessKey:AccessKey"
KMS_ALIAS = "aws-kms-alias-customer-key"
KMS_GRANT = "aws-kms-grant-same-account"
STATIC = "aws-provider-no-static-credentials"
KEYS = "aws-iam-no-access-keys"
OWN_ROLE = f"arn:aws:iam::{ACCOUNT}:role/settlement"
FOREIGN_ROLE = "arn:aws:iam::210987654321:role/partner"
DEPLOY_ROLE = f"arn:aws:iam::{ACCOUNT}:role/deployer"
FAKE_ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"  # pragma: allowlist secret (AWS's documented example)


def grant(**over: Any) -> R:
    inputs = {
        "keyId": KEY_ARN,
        "granteePrincipal": OWN_ROLE,
        "operations": ["Decrypt", "DescribeKey"],
    }
    return R(GRANT, "g", inputs | over)


#: a provider as a stack's state stores it: inputs as strings, lists and maps as JSON text
PROVIDER_STATE = {
    "region": "us-east-1",
    "skipCredentialsValidation": "false",
    "assumeRoles": json.dumps([{"roleArn": DEPLOY_ROLE, "sessionName": "deploy"}]),
    "version": "7.0.0",
}

CASES += [
    # ---- KMS aliases
    FormCase(
        "alias: name and target key enveloped",
        (R(ALIAS, "a", {"name": env("alias/venue-secrets"), "targetKeyId": env(KEY_ARN)}),),
        frozenset(),
        (KMS_ALIAS,),
    ),
    FormCase(
        "alias: target key stored as ciphertext (set, unreadable)",
        (R(ALIAS, "a", {"name": "alias/venue-secrets", "targetKeyId": cipher()}),),
        frozenset(),
        (KMS_ALIAS,),
        state_only=True,
    ),
    FormCase(
        "alias: enveloped reserved name",
        (R(ALIAS, "a", {"name": env("alias/aws/secretsmanager"), "targetKeyId": KEY_ARN}),),
        frozenset({(KMS_ALIAS, "a")}),
        (KMS_ALIAS,),
    ),
    FormCase(
        "alias: enveloped reserved name prefix",
        (R(ALIAS, "a", {"namePrefix": env("alias/aws/"), "targetKeyId": env(KEY_ARN)}),),
        frozenset({(KMS_ALIAS, "a")}),
        (KMS_ALIAS,),
    ),
    FormCase(
        "alias: enveloped empty target key",
        (R(ALIAS, "a", {"name": "alias/venue-secrets", "targetKeyId": env("")}),),
        frozenset({(KMS_ALIAS, "a")}),
        (KMS_ALIAS,),
    ),
    # ---- KMS grants
    FormCase(
        "grant: principal, key and operations enveloped, same account",
        (
            grant(
                keyId=env(KEY_ARN),
                granteePrincipal=env(OWN_ROLE),
                retiringPrincipal=env(OWN_ROLE),
                operations=env([env("Decrypt")]),
            ),
        ),
        frozenset(),
        (KMS_GRANT,),
    ),
    FormCase(
        "grant: operations stored as ciphertext (not judged)",
        (grant(operations=cipher()),),
        frozenset(),
        (KMS_GRANT,),
        state_only=True,
    ),
    FormCase(
        "grant: enveloped principal of another account",
        (grant(granteePrincipal=env(FOREIGN_ROLE)),),
        frozenset({(KMS_GRANT, "g")}),
        (KMS_GRANT,),
    ),
    FormCase(
        "grant: enveloped key, retiring principal of another account",
        (grant(keyId=env(KEY_ARN), retiringPrincipal=env(FOREIGN_ROLE)),),
        frozenset({(KMS_GRANT, "g")}),
        (KMS_GRANT,),
    ),
    FormCase(
        "grant: CreateGrant in an enveloped list",
        (grant(operations=env(["Decrypt", "CreateGrant"])),),
        frozenset({(KMS_GRANT, "g")}),
        (KMS_GRANT,),
    ),
    FormCase(
        "grant: CreateGrant as an enveloped entry",
        (grant(operations=["Decrypt", env("CreateGrant")]),),
        frozenset({(KMS_GRANT, "g")}),
        (KMS_GRANT,),
    ),
    # ---- provider credentials
    FormCase(
        "provider: assumeRoles as JSON text, no keys",
        (R(PROVIDER, "aws-prod", PROVIDER_STATE),),
        frozenset(),
        (STATIC,),
    ),
    FormCase(
        "provider: assumeRoles list of envelopes, empty enveloped keys",
        (
            R(
                PROVIDER,
                "aws-prod",
                {
                    "region": "us-east-1",
                    "assumeRoles": [env({"roleArn": DEPLOY_ROLE})],
                    "accessKey": env(""),
                    "secretKey": env(""),
                },
            ),
        ),
        frozenset(),
        (STATIC,),
    ),
    FormCase(
        "provider: pulumi-aws 6 assumeRole object in an envelope, no keys",
        (
            R(
                PROVIDER,
                "aws-prod",
                {"region": "us-east-1", "assumeRole": env({"roleArn": DEPLOY_ROLE})},
            ),
        ),
        frozenset(),
        (STATIC,),
    ),
    FormCase(
        "provider: keys stored as ciphertext beside JSON-text assumeRoles",
        (
            R(
                PROVIDER,
                "aws-prod",
                {**PROVIDER_STATE, "accessKey": cipher(), "secretKey": cipher()},
            ),
        ),
        frozenset({(STATIC, "aws-prod")}),
        (STATIC,),
        state_only=True,
    ),
    FormCase(
        "provider: enveloped access key beside an assumeRole object",
        (
            R(
                PROVIDER,
                "aws-prod",
                {
                    "region": "us-east-1",
                    "assumeRole": {"roleArn": DEPLOY_ROLE},
                    "accessKey": env(FAKE_ACCESS_KEY),
                },
            ),
        ),
        frozenset({(STATIC, "aws-prod")}),
        (STATIC,),
    ),
    # ---- IAM access keys
    FormCase(
        "access key: status Inactive in an envelope",
        (R(ACCESS_KEY, "k", {"user": env("ci-legacy"), "status": env("Inactive")}),),
        frozenset(),
        (KEYS,),
    ),
    FormCase(
        "access key: status stored as ciphertext (not judged)",
        (R(ACCESS_KEY, "k", {"user": "ci-legacy", "status": cipher()}),),
        frozenset(),
        (KEYS,),
        state_only=True,
    ),
    FormCase(
        "access key: status Active in an envelope",
        (R(ACCESS_KEY, "k", {"user": env("ci-legacy"), "status": env("Active")}),),
        frozenset({(KEYS, "k")}),
        (KEYS,),
    ),
]


@pytest.mark.parametrize(("case", "form"), form_params(CASES))
def test_aws_forms(case: FormCase, form: str) -> None:
    assert judge(case, form) == case.expected
