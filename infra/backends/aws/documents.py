"""IAM policy documents built from the access model. Pure functions over plain values.

Every document here enumerates its actions (no ``*`` and no ``service:*``), scopes resources to
ARNs, and never uses NotAction/NotResource in an Allow. ``Resource: "*"`` appears only for actions
that support no resource-level scoping (``secretsmanager:ListSecrets``,
``secretsmanager:GetRandomPassword``, ``cloudtrail:LookupEvents``, ``cloudtrail:DescribeTrails``,
``xray:PutTraceSegments``, ``xray:PutTelemetryRecords``) and in KMS key policies, where ``*``
means "this key".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from infra.access import Action, Role
from infra.backends.aws.settings import OidcPrincipal

Statement = dict[str, Any]
Document = dict[str, Any]

SECRET_READ = ("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret")
SECRET_DESCRIBE = (
    "secretsmanager:DescribeSecret",
    "secretsmanager:ListSecretVersionIds",
    "secretsmanager:GetResourcePolicy",
)
SECRET_WRITE = ("secretsmanager:PutSecretValue",)
SECRET_MANAGE = (
    "secretsmanager:CancelRotateSecret",
    "secretsmanager:DeleteSecret",
    "secretsmanager:PutSecretValue",
    "secretsmanager:RestoreSecret",
    "secretsmanager:RotateSecret",
    "secretsmanager:TagResource",
    "secretsmanager:UntagResource",
    "secretsmanager:UpdateSecret",
    "secretsmanager:UpdateSecretVersionStage",
)
# Every action that changes a secret or its policy: denied by the resource policy to anyone the
# access model does not let manage it.
SECRET_MUTATING = (
    *SECRET_MANAGE,
    "secretsmanager:DeleteResourcePolicy",
    "secretsmanager:PutResourcePolicy",
    "secretsmanager:RemoveRegionsFromReplication",
    "secretsmanager:ReplicateSecretToRegions",
    "secretsmanager:StopReplicationToReplica",
)
KEY_ADMIN = (
    "kms:CancelKeyDeletion",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateKeyDescription",
)
KEY_READ_METADATA = ("kms:DescribeKey", "kms:GetKeyRotationStatus")
#: What the rotation Lambda does to the secrets it rotates (infra/rotation/handler.py).
SECRET_ROTATE = (
    "secretsmanager:DescribeSecret",
    "secretsmanager:GetSecretValue",
    "secretsmanager:PutSecretValue",
    "secretsmanager:UpdateSecretVersionStage",
)
#: What CloudWatch Logs needs of a key that encrypts a log group (AWS's documented
#: ``kms:Encrypt*``, ``Decrypt*``, ``ReEncrypt*``, ``GenerateDataKey*``, ``Describe*``, spelled out).
LOGS_KEY_USE = (
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
)


def document(statements: Iterable[Statement]) -> Document:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def secrets_manager_service(region: str) -> str:
    return f"secretsmanager.{region}.amazonaws.com"


def sns_service(region: str) -> str:
    return f"sns.{region}.amazonaws.com"


def _via_secrets_manager(region: str, secret_arns: Sequence[str]) -> dict[str, Any]:
    return {
        "StringEquals": {"kms:ViaService": secrets_manager_service(region)},
        "StringLike": {"kms:EncryptionContext:SecretARN": sorted(secret_arns)},
    }


def role_policy(
    role: Role,
    grants: Mapping[str, frozenset[Action]],
    *,
    key_arn: str,
    region: str,
    bucket_statements: Sequence[Statement] = (),
    trail_arn: str | None = None,
    audit_bucket_arn: str | None = None,
) -> Document:
    """The identity policy of one role: ``grants`` maps secret ARN -> actions from the access model."""
    by_action: dict[Action, list[str]] = {a: [] for a in Action}
    for arn, actions in sorted(grants.items()):
        for action in actions:
            by_action[action].append(arn)
    statements: list[Statement] = []
    read = by_action[Action.READ]
    if read:
        statements.append(
            {
                "Sid": "ReadSecretValues",
                "Effect": "Allow",
                "Action": list(SECRET_READ),
                "Resource": read,
            }
        )
        statements.append(
            {
                "Sid": "DecryptViaSecretsManager",
                "Effect": "Allow",
                "Action": ["kms:Decrypt"],
                "Resource": [key_arn],
                "Condition": _via_secrets_manager(region, read),
            }
        )
    described = sorted(set(by_action[Action.DESCRIBE]) - set(read))
    if described or role.describe_all:
        targets = sorted(set(by_action[Action.DESCRIBE]))
        if targets:
            statements.append(
                {
                    "Sid": "DescribeSecrets",
                    "Effect": "Allow",
                    "Action": list(SECRET_DESCRIBE),
                    "Resource": targets,
                }
            )
    managed = by_action[Action.MANAGE]
    written = sorted(set(by_action[Action.WRITE]) - set(managed))
    if written:
        statements.append(
            {
                "Sid": "WriteSecretValues",
                "Effect": "Allow",
                "Action": list(SECRET_WRITE),
                "Resource": written,
            }
        )
    if managed:
        statements.append(
            {
                "Sid": "ManageSecrets",
                "Effect": "Allow",
                "Action": list(SECRET_MANAGE),
                "Resource": managed,
            }
        )
    if written or managed:
        statements.append(
            {
                "Sid": "EncryptViaSecretsManager",
                "Effect": "Allow",
                "Action": ["kms:GenerateDataKey"],
                "Resource": [key_arn],
                "Condition": _via_secrets_manager(region, sorted(set(written) | set(managed))),
            }
        )
    if role.describe_all:
        statements.append(
            {
                "Sid": "ListSecrets",
                "Effect": "Allow",
                "Action": ["secretsmanager:ListSecrets"],
                "Resource": "*",
            }
        )
        statements.append(
            {
                "Sid": "KeyMetadata",
                "Effect": "Allow",
                "Action": list(KEY_READ_METADATA),
                "Resource": [key_arn],
            }
        )
    if role.reads_audit_trail and trail_arn is not None and audit_bucket_arn is not None:
        statements.append(
            {
                "Sid": "LookupAuditEvents",
                "Effect": "Allow",
                "Action": ["cloudtrail:DescribeTrails", "cloudtrail:LookupEvents"],
                "Resource": "*",
            }
        )
        statements.append(
            {
                "Sid": "ReadTrailStatus",
                "Effect": "Allow",
                "Action": ["cloudtrail:GetEventSelectors", "cloudtrail:GetTrailStatus"],
                "Resource": [trail_arn],
            }
        )
        statements.append(
            {
                "Sid": "ReadAuditLogs",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:ListBucket"],
                "Resource": [audit_bucket_arn, f"{audit_bucket_arn}/*"],
            }
        )
    statements.extend(bucket_statements)
    return document(statements)


def trust_policy(
    principals: Sequence[str | OidcPrincipal], *, human: bool, account_id: str | None = None
) -> Document:
    """Who may assume a role: IAM principals (humans must use MFA), services, or OIDC providers
    restricted to exact subjects and the STS audience."""
    names = [p for p in principals if isinstance(p, str)]
    aws = sorted(p for p in names if p.startswith("arn:"))
    services = sorted(p for p in names if p.endswith(".amazonaws.com"))
    statements: list[Statement] = []
    if aws:
        stmt: Statement = {
            "Sid": "AssumeFromPrincipals",
            "Effect": "Allow",
            "Principal": {"AWS": aws},
            "Action": ["sts:AssumeRole"],
        }
        if human:
            stmt["Condition"] = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
        statements.append(stmt)
    if services:
        statement: Statement = {
            "Sid": "AssumeFromServices",
            "Effect": "Allow",
            "Principal": {"Service": services},
            "Action": ["sts:AssumeRole"],
        }
        if account_id is not None:
            # Confused-deputy guard: the service may assume the role only for this account.
            statement["Condition"] = {"StringEquals": {"aws:SourceAccount": account_id}}
        statements.append(statement)
    oidc = sorted((p for p in principals if not isinstance(p, str)), key=lambda p: p.provider)
    for index, p in enumerate(oidc):
        statements.append(
            {
                "Sid": f"AssumeWithWebIdentity{index}",
                "Effect": "Allow",
                "Principal": {"Federated": p.provider},
                "Action": ["sts:AssumeRoleWithWebIdentity"],
                "Condition": {
                    "StringEquals": {
                        f"{p.issuer}:aud": p.audience,
                        f"{p.issuer}:sub": sorted(p.subjects),
                    }
                },
            }
        )
    return document(statements)


def secret_resource_policy(
    *,
    secret_arn: str,
    readers: Sequence[str],
    managers: Sequence[str],
    account_id: str,
) -> Document:
    """Resource policy of one secret: deny reads by anyone but its readers, changes by anyone but
    its managers, and any access from outside the account. It grants nothing by itself."""
    return document(
        [
            {
                "Sid": "DenyOutsideAccount",
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": ["secretsmanager:GetSecretValue", *SECRET_MUTATING],
                "Resource": secret_arn,
                "Condition": {"StringNotEquals": {"aws:PrincipalAccount": account_id}},
            },
            {
                "Sid": "DenyReadToOthers",
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": ["secretsmanager:GetSecretValue"],
                "Resource": secret_arn,
                "Condition": {"ArnNotEquals": {"aws:PrincipalArn": sorted(set(readers))}},
            },
            {
                "Sid": "DenyChangesToOthers",
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": list(SECRET_MUTATING),
                "Resource": secret_arn,
                "Condition": {"ArnNotEquals": {"aws:PrincipalArn": sorted(set(managers))}},
            },
        ]
    )


def key_policy(
    *,
    account_id: str,
    region: str,
    admin_arns: Sequence[str],
    trail_arn: str | None,
    rotation_log_group_arn: str | None = None,
    rotation_topic_arn: str | None = None,
    rotation_alarm_arns: Sequence[str] = (),
) -> Document:
    """KMS key policy: named administrators, use only through Secrets Manager within the account,
    and CloudTrail log encryption for this environment's trail. No wildcard principal.

    With secret rotation, also: CloudWatch Logs may encrypt the rotation Lambda's log group (and
    only it), account principals may use the key through SNS for the rotation topic only (IAM
    decides which principals), and the rotation alarms may publish to the encrypted topic."""
    root = f"arn:aws:iam::{account_id}:root"
    statements: list[Statement] = [
        {
            "Sid": "KeyAdministration",
            "Effect": "Allow",
            "Principal": {"AWS": sorted({root, *admin_arns})},
            "Action": list(KEY_ADMIN),
            "Resource": "*",
        },
        {
            "Sid": "UseThroughSecretsManager",
            "Effect": "Allow",
            "Principal": {"AWS": [root]},
            "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"],
            "Resource": "*",
            "Condition": {
                "StringEquals": {
                    "kms:CallerAccount": account_id,
                    "kms:ViaService": secrets_manager_service(region),
                }
            },
        },
    ]
    if trail_arn is not None:
        statements.append(
            {
                "Sid": "CloudTrailLogEncryption",
                "Effect": "Allow",
                "Principal": {"Service": ["cloudtrail.amazonaws.com"]},
                "Action": ["kms:DescribeKey", "kms:GenerateDataKey"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"aws:SourceArn": trail_arn},
                    "StringLike": {
                        "kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{account_id}:trail/*"
                    },
                },
            }
        )
    if rotation_log_group_arn is not None:
        statements.append(
            {
                "Sid": "RotationLogGroupEncryption",
                "Effect": "Allow",
                "Principal": {"Service": [f"logs.{region}.amazonaws.com"]},
                "Action": list(LOGS_KEY_USE),
                "Resource": "*",
                "Condition": {
                    "ArnEquals": {"kms:EncryptionContext:aws:logs:arn": rotation_log_group_arn}
                },
            }
        )
    if rotation_topic_arn is not None:
        statements.append(
            {
                "Sid": "UseThroughSns",
                "Effect": "Allow",
                "Principal": {"AWS": [root]},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "kms:CallerAccount": account_id,
                        "kms:ViaService": sns_service(region),
                        "kms:EncryptionContext:aws:sns:topicArn": rotation_topic_arn,
                    }
                },
            }
        )
    if rotation_alarm_arns:
        statements.append(
            {
                "Sid": "RotationAlarmNotices",
                "Effect": "Allow",
                "Principal": {"Service": ["cloudwatch.amazonaws.com"]},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account_id},
                    "ArnLike": {"aws:SourceArn": sorted(rotation_alarm_arns)},
                },
            }
        )
    return document(statements)


def rotation_trust_policy(*, account_id: str) -> Document:
    """The rotation Lambda's execution role: only the Lambda service, for this account."""
    return document(
        [
            {
                "Sid": "AssumeFromLambda",
                "Effect": "Allow",
                "Principal": {"Service": ["lambda.amazonaws.com"]},
                "Action": ["sts:AssumeRole"],
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            }
        ]
    )


def rotation_lambda_policy(
    *,
    secret_arns: Sequence[str],
    master_secret_arns: Sequence[str],
    key_arn: str,
    region: str,
    topic_arn: str,
    log_group_arn: str,
) -> Document:
    """Identity policy of the rotation Lambda: the four rotation actions on exactly the secrets it
    rotates, reads of the admin secrets their strategies use, the key only through Secrets Manager
    for those secrets (and through SNS for its own topic), publishing to its topic, writing its
    log group, and X-Ray traces."""
    rotated = sorted(set(secret_arns))
    masters = sorted(set(master_secret_arns) - set(rotated))
    statements: list[Statement] = [
        {
            "Sid": "RotateSecrets",
            "Effect": "Allow",
            "Action": list(SECRET_ROTATE),
            "Resource": rotated,
        }
    ]
    if masters:
        statements.append(
            {
                "Sid": "ReadMasterSecrets",
                "Effect": "Allow",
                "Action": ["secretsmanager:GetSecretValue"],
                "Resource": masters,
            }
        )
    statements += [
        {
            "Sid": "RandomPasswords",
            "Effect": "Allow",
            "Action": ["secretsmanager:GetRandomPassword"],
            "Resource": "*",
        },
        {
            "Sid": "DecryptViaSecretsManager",
            "Effect": "Allow",
            "Action": ["kms:Decrypt"],
            "Resource": [key_arn],
            "Condition": _via_secrets_manager(region, [*rotated, *masters]),
        },
        {
            "Sid": "EncryptViaSecretsManager",
            "Effect": "Allow",
            "Action": ["kms:GenerateDataKey"],
            "Resource": [key_arn],
            "Condition": _via_secrets_manager(region, rotated),
        },
        {
            "Sid": "PublishRotationNotices",
            "Effect": "Allow",
            "Action": ["sns:Publish"],
            "Resource": [topic_arn],
        },
        {
            "Sid": "EncryptNoticesViaSns",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": [key_arn],
            "Condition": {
                "StringEquals": {
                    "kms:ViaService": sns_service(region),
                    "kms:EncryptionContext:aws:sns:topicArn": topic_arn,
                }
            },
        },
        {
            "Sid": "WriteLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [f"{log_group_arn}:*"],
        },
        {
            "Sid": "Traces",
            "Effect": "Allow",
            "Action": ["xray:PutTelemetryRecords", "xray:PutTraceSegments"],
            "Resource": "*",
        },
    ]
    return document(statements)


def rotation_topic_policy(
    *, topic_arn: str, alarm_arns: Sequence[str], account_id: str
) -> Document:
    """The rotation topic: this environment's rotation alarms may publish; nothing over plain HTTP.
    Account principals (the Lambda role) publish through their identity policies."""
    return document(
        [
            {
                "Sid": "RotationAlarmsPublish",
                "Effect": "Allow",
                "Principal": {"Service": ["cloudwatch.amazonaws.com"]},
                "Action": ["sns:Publish"],
                "Resource": topic_arn,
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account_id},
                    "ArnLike": {"aws:SourceArn": sorted(alarm_arns)},
                },
            },
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": ["sns:Publish", "sns:Subscribe"],
                "Resource": topic_arn,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ]
    )


def audit_bucket_policy(*, bucket_arn: str, trail_arn: str) -> Document:
    """CloudTrail may write its logs; nobody may use plain HTTP."""
    return document(
        [
            {
                "Sid": "CloudTrailAclCheck",
                "Effect": "Allow",
                "Principal": {"Service": ["cloudtrail.amazonaws.com"]},
                "Action": ["s3:GetBucketAcl"],
                "Resource": bucket_arn,
                "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}},
            },
            {
                "Sid": "CloudTrailWrite",
                "Effect": "Allow",
                "Principal": {"Service": ["cloudtrail.amazonaws.com"]},
                "Action": ["s3:PutObject"],
                "Resource": f"{bucket_arn}/AWSLogs/*",
                "Condition": {
                    "StringEquals": {
                        "aws:SourceArn": trail_arn,
                        "s3:x-amz-acl": "bucket-owner-full-control",
                    }
                },
            },
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"],
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ]
    )
