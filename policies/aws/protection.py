"""Production data resources are protected, and providers use workload identity."""

from __future__ import annotations

from collections.abc import Callable

from policies.framework import (
    PRODUCTION_ENVIRONMENTS_KEY,
    PRODUCTION_ENVIRONMENTS_SCHEMA,
    PackPolicy,
    Resource,
    Spec,
    resource_policy,
)
from policies.model import Category, Severity

DATA_TYPES = (
    "aws:secretsmanager/secret:Secret",
    "aws:kms/key:Key",
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketV2:BucketV2",
    "aws:cloudtrail/trail:Trail",
)

PROTECT = Spec(
    id="aws-protect-production-data",
    description="Production resources that hold data (secrets, keys, audit logs) are protected "
    "from deletion by `pulumi destroy` or a replacement",
    severity=Severity.HIGH,
    category=Category.DELETION_PROTECTION,
    remediation="Register the resource with ResourceOptions(protect=True) in production.",
    resource_types=DATA_TYPES,
    config={PRODUCTION_ENVIRONMENTS_KEY: PRODUCTION_ENVIRONMENTS_SCHEMA},
)


def _protect(r: Resource, report: Callable[[str], None]) -> None:
    if r.in_production() and not r.protect:
        report("a production data resource without protect: true")


PROVIDER = Spec(
    id="aws-provider-no-static-credentials",
    description="AWS providers authenticate with workload identity (roles), never long-lived access keys",
    severity=Severity.CRITICAL,
    category=Category.PLAINTEXT,
    remediation="Remove accessKey/secretKey/token from the provider; let it assume an IAM role "
    "(assumeRole, the environment's instance profile, IRSA or OIDC in CI).",
    resource_types=("pulumi:providers:aws",),
)


def _provider(r: Resource, report: Callable[[str], None]) -> None:
    present = [k for k in ("accessKey", "secretKey", "token") if r.get(k)]
    if present:
        report(f"static credentials configured: {', '.join(present)}")


ACCESS_KEYS = Spec(
    id="aws-iam-no-access-keys",
    description="No long-lived IAM access keys: workloads and people use roles (workload identity, SSO)",
    severity=Severity.HIGH,
    category=Category.PLAINTEXT,
    remediation="Delete the access key; give the workload an IAM role (IRSA, ECS task role, OIDC in "
    "CI) and people SSO roles. The catalog records AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY as replaced.",
    resource_types=("aws:iam/accessKey:AccessKey",),
)


def _access_key(r: Resource, report: Callable[[str], None]) -> None:
    if r.get("status") != "Inactive":
        report(f"a long-lived access key for IAM user {r.get('user')!s}")


POLICIES: list[PackPolicy] = [
    resource_policy(PROTECT, _protect),
    resource_policy(PROVIDER, _provider),
    resource_policy(ACCESS_KEYS, _access_key),
]
