"""S3 buckets that hold audit logs, artifacts or market data: private, encrypted, versioned."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from policies.framework import PackPolicy, Resource, Spec, resource_policy, stack_policy
from policies.lib.shapes import declare, enabled, pick, reveal, truthy
from policies.model import UNKNOWN, Category, Severity

BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
SSE_CONFIG = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
VERSIONING_CONFIG = (
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketVersioningV2:BucketVersioningV2",
)
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")

# The shapes of the settings, from the installed pulumi-aws 7 (and the same names in 6):
# ``s3.Bucket`` (7; ``s3.Bucket`` of 6 alike) has maxItems-1 blocks, singular;
# ``s3.BucketV2`` (6 and 7) has the same blocks as lists, pluralised, down to the default rule.
INLINE_SSE_DEFAULTS = declare(
    BUCKETS,
    "serverSideEncryptionConfiguration|serverSideEncryptionConfigurations.rule|rules"
    ".applyServerSideEncryptionByDefault|applyServerSideEncryptionByDefaults",
)
INLINE_VERSIONING = declare(BUCKETS, "versioning|versionings.enabled")
SSE_RULES = declare(SSE_CONFIG, "rules")
SSE_DEFAULTS = declare(SSE_CONFIG, "rules.applyServerSideEncryptionByDefault")
VERSIONING_STATUS = declare(VERSIONING_CONFIG, "versioningConfiguration.status")

PUBLIC_BLOCK = Spec(
    id="aws-s3-public-access-block",
    description="S3 public access blocks turn on all four settings",
    severity=Severity.HIGH,
    category=Category.PUBLIC_ACCESS,
    remediation="Set blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets to true.",
    resource_types=("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",),
    checkov=("CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56"),
)


PUBLIC_BLOCK_FLAGS = tuple(
    declare(("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",), k)
    for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
)


def _public_block(r: Resource, report: Callable[[str], None]) -> None:
    off = [k for k in PUBLIC_BLOCK_FLAGS if enabled(r.props, k) is False]
    if off:
        report(f"not enabled: {', '.join(off)}")


ENCRYPTION = Spec(
    id="aws-s3-kms-encryption",
    description="S3 default encryption uses KMS (aws:kms) with a customer-managed key",
    severity=Severity.HIGH,
    category=Category.ENCRYPTION,
    remediation="Set apply_server_side_encryption_by_default to sse_algorithm aws:kms and kms_master_key_id.",
    resource_types=SSE_CONFIG,
    checkov=("CKV_AWS_145",),
)


def _encryption(r: Resource, report: Callable[[str], None]) -> None:
    rules = pick(r.props, SSE_RULES)
    if UNKNOWN in rules:
        return
    for i, rule in enumerate(rules):
        defaults = pick(rule, "applyServerSideEncryptionByDefault")
        if UNKNOWN in defaults:
            continue
        if not defaults:
            report(f"rules[{i}]: no default encryption (applyServerSideEncryptionByDefault)")
        for default in defaults:
            algorithm = (
                reveal(default.get("sseAlgorithm")) if isinstance(default, Mapping) else None
            )
            key = reveal(default.get("kmsMasterKeyId")) if isinstance(default, Mapping) else None
            if algorithm not in (*KMS_ALGORITHMS, UNKNOWN):
                report(f"rules[{i}]: sseAlgorithm is {algorithm!r}, not aws:kms")
            elif algorithm != UNKNOWN and not key:
                report(f"rules[{i}]: no kmsMasterKeyId (the AWS-managed aws/s3 key is used)")
    if not rules:
        report("no encryption rule")


VERSIONING = Spec(
    id="aws-s3-versioning",
    description="S3 buckets keep object versions (audit logs cannot be silently overwritten)",
    severity=Severity.MEDIUM,
    category=Category.DELETION_PROTECTION,
    remediation="Declare aws.s3.BucketVersioning with status Enabled.",
    resource_types=VERSIONING_CONFIG,
    checkov=("CKV_AWS_21",),
)


def _versioning(r: Resource, report: Callable[[str], None]) -> None:
    statuses = pick(r.props, VERSIONING_STATUS)
    if "Enabled" in statuses or UNKNOWN in statuses:
        return
    report(f"versioning status is {statuses[0] if statuses else None!r}")


BUCKET = Spec(
    id="aws-s3-no-force-destroy",
    description="S3 buckets are not force-destroyed with their objects",
    severity=Severity.MEDIUM,
    category=Category.DELETION_PROTECTION,
    remediation="Leave forceDestroy false; empty a bucket deliberately before deleting it.",
    resource_types=("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"),
)


FORCE_DESTROY = declare(("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"), "forceDestroy")


def _bucket(r: Resource, report: Callable[[str], None]) -> None:
    if enabled(r.props, FORCE_DESTROY):
        report("forceDestroy is true: deleting the stack deletes every object")


def _bucket_keys(bucket: Resource) -> set[str]:
    """What a bucket-level configuration may name its bucket by: URN, name, id, ARN (inputs, and
    a state's outputs, where an auto-named bucket's name, id and ARN are)."""
    keys = {bucket.urn}
    for props in (bucket.props, bucket.outputs or {}):
        for key in ("bucket", "id", "arn"):
            value = reveal(props.get(key))
            if isinstance(value, str) and value not in ("", UNKNOWN):
                keys.add(value)
    return keys


def _configs_of(bucket: Resource, configs: Iterable[Resource]) -> list[Resource]:
    keys = _bucket_keys(bucket)
    out = []
    for config in configs:
        target = reveal(config.get("bucket"))
        deps = set(config.property_dependencies.get("bucket", ()))
        if deps & keys or (isinstance(target, str) and target in keys):
            out.append(config)
    return out


def _kms_by_default(defaults: Sequence[Any]) -> bool | None:
    """True: KMS with a key; False: something else; None: unknown at preview or unreadable."""
    verdict = False
    for default in defaults:
        if not isinstance(default, Mapping):
            if default == UNKNOWN:
                return None
            continue
        algorithm, key = reveal(default.get("sseAlgorithm")), reveal(default.get("kmsMasterKeyId"))
        if UNKNOWN in (algorithm, key):
            return None
        if algorithm in KMS_ALGORITHMS and key:
            verdict = True
    return verdict


BUCKET_ENCRYPTED = Spec(
    id="aws-s3-bucket-kms-by-default",
    description="Every S3 bucket is encrypted by default with a customer-managed KMS key (inline or "
    "through a BucketServerSideEncryptionConfiguration): leaving the configuration out is no way "
    "around the encryption bar",
    severity=Severity.HIGH,
    category=Category.ENCRYPTION,
    remediation="Declare aws.s3.BucketServerSideEncryptionConfiguration for the bucket with "
    "sse_algorithm aws:kms and kms_master_key_id.",
    resource_types=(*BUCKETS, *SSE_CONFIG),
    checkov=("CKV_AWS_145",),
)


def _bucket_encrypted(
    resources: Sequence[Resource], config: Any, report: Callable[[str, str | None], None]
) -> None:
    configs = [r for r in resources if r.type in SSE_CONFIG]
    for bucket in (r for r in resources if r.type in BUCKETS):
        defaults = pick(bucket.props, INLINE_SSE_DEFAULTS)
        for found in _configs_of(bucket, configs):
            defaults += pick(found.props, SSE_DEFAULTS)
        verdict = _kms_by_default(defaults)
        if verdict is False:
            report(
                "not encrypted by default with a customer-managed KMS key"
                + ("" if defaults else " (no server-side encryption configuration)"),
                bucket.urn,
            )


BUCKET_VERSIONED = Spec(
    id="aws-s3-bucket-versioned",
    description="Every S3 bucket keeps object versions (inline or through a BucketVersioning): "
    "leaving the configuration out is no way around it",
    severity=Severity.MEDIUM,
    category=Category.DELETION_PROTECTION,
    remediation="Declare aws.s3.BucketVersioning for the bucket with status Enabled.",
    resource_types=(*BUCKETS, *VERSIONING_CONFIG),
    checkov=("CKV_AWS_21",),
)


def _bucket_versioned(
    resources: Sequence[Resource], config: Any, report: Callable[[str, str | None], None]
) -> None:
    configs = [r for r in resources if r.type in VERSIONING_CONFIG]
    for bucket in (r for r in resources if r.type in BUCKETS):
        states: list[Any] = [
            True if truthy(v) else v for v in pick(bucket.props, INLINE_VERSIONING)
        ]
        for found in _configs_of(bucket, configs):
            states += [True if s == "Enabled" else s for s in pick(found.props, VERSIONING_STATUS)]
        if UNKNOWN in states or True in states:
            continue
        report("object versioning is not enabled", bucket.urn)


POLICIES: list[PackPolicy] = [
    resource_policy(PUBLIC_BLOCK, _public_block),
    resource_policy(ENCRYPTION, _encryption),
    resource_policy(VERSIONING, _versioning),
    resource_policy(BUCKET, _bucket),
    stack_policy(BUCKET_ENCRYPTED, _bucket_encrypted),
    stack_policy(BUCKET_VERSIONED, _bucket_versioned),
]
