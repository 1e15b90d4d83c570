"""S3 buckets that hold audit logs, artifacts or market data: private, encrypted, versioned."""

from __future__ import annotations

from collections.abc import Callable

from policies.framework import PackPolicy, Resource, Spec, resource_policy
from policies.model import UNKNOWN, Category, Severity

PUBLIC_BLOCK = Spec(
    id="aws-s3-public-access-block",
    description="S3 public access blocks turn on all four settings",
    severity=Severity.HIGH,
    category=Category.PUBLIC_ACCESS,
    remediation="Set blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets to true.",
    resource_types=("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",),
    checkov=("CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56"),
)


def _public_block(r: Resource, report: Callable[[str], None]) -> None:
    off = [
        k
        for k in (
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        )
        if r.get(k) not in (True, UNKNOWN)
    ]
    if off:
        report(f"not enabled: {', '.join(off)}")


ENCRYPTION = Spec(
    id="aws-s3-kms-encryption",
    description="S3 default encryption uses KMS (aws:kms) with a customer-managed key",
    severity=Severity.HIGH,
    category=Category.ENCRYPTION,
    remediation="Set apply_server_side_encryption_by_default to sse_algorithm aws:kms and kms_master_key_id.",
    resource_types=(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    ),
    checkov=("CKV_AWS_145",),
)


def _encryption(r: Resource, report: Callable[[str], None]) -> None:
    rules = r.get("rules") or []
    if rules == UNKNOWN:
        return
    for i, rule in enumerate(rules):
        default = (rule or {}).get("applyServerSideEncryptionByDefault") or {}
        algorithm = default.get("sseAlgorithm")
        if algorithm not in ("aws:kms", "aws:kms:dsse", UNKNOWN):
            report(f"rules[{i}]: sseAlgorithm is {algorithm!r}, not aws:kms")
        elif not default.get("kmsMasterKeyId"):
            report(f"rules[{i}]: no kmsMasterKeyId (the AWS-managed aws/s3 key is used)")
    if not rules:
        report("no encryption rule")


VERSIONING = Spec(
    id="aws-s3-versioning",
    description="S3 buckets keep object versions (audit logs cannot be silently overwritten)",
    severity=Severity.MEDIUM,
    category=Category.DELETION_PROTECTION,
    remediation="Declare aws.s3.BucketVersioning with status Enabled.",
    resource_types=("aws:s3/bucketVersioning:BucketVersioning",),
    checkov=("CKV_AWS_21",),
)


def _versioning(r: Resource, report: Callable[[str], None]) -> None:
    status = (r.get("versioningConfiguration") or {}).get("status")
    if status not in ("Enabled", UNKNOWN):
        report(f"versioning status is {status!r}")


BUCKET = Spec(
    id="aws-s3-no-force-destroy",
    description="S3 buckets are not force-destroyed with their objects",
    severity=Severity.MEDIUM,
    category=Category.DELETION_PROTECTION,
    remediation="Leave forceDestroy false; empty a bucket deliberately before deleting it.",
    resource_types=("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"),
)


def _bucket(r: Resource, report: Callable[[str], None]) -> None:
    if r.get("forceDestroy") is True:
        report("forceDestroy is true: deleting the stack deletes every object")


POLICIES: list[PackPolicy] = [
    resource_policy(PUBLIC_BLOCK, _public_block),
    resource_policy(ENCRYPTION, _encryption),
    resource_policy(VERSIONING, _versioning),
    resource_policy(BUCKET, _bucket),
]
