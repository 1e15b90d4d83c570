"""GCP resources around the secrets: the bucket holding function code, the functions that handle
secrets, the custom roles that grant secret permissions.

* ``gcp-storage-bucket-private``: a bucket enforces public access prevention and uniform
  bucket-level access (no object ACL can open one object to ``allUsers``), and keeps versions.
* ``gcp-function-private``: a Cloud Functions (2nd gen) function accepts only internal traffic,
  runs as a named service account (not the default compute account, which holds Editor), and
  takes no credential in a plain environment variable (secrets are read from Secret Manager).
* ``gcp-custom-role-no-wildcard``: a custom role lists its permissions one by one, never a
  permission no service documents, and never one that administers IAM policies of the project.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from policies.framework import PackPolicy, Resource, Spec, resource_policy
from policies.lib.credentials import scan_value
from policies.model import UNKNOWN, Category, Severity

BUCKET = "gcp:storage/bucket:Bucket"
FUNCTION = "gcp:cloudfunctionsv2/function:Function"
CUSTOM_ROLES = (
    "gcp:projects/iAMCustomRole:IAMCustomRole",
    "gcp:organizations/iAMCustomRole:IAMCustomRole",
)

BUCKET_PRIVATE = Spec(
    id="gcp-storage-bucket-private",
    description="Storage buckets enforce public access prevention and uniform bucket-level "
    "access, and keep object versions",
    severity=Severity.HIGH,
    category=Category.PUBLIC_ACCESS,
    remediation="Set publicAccessPrevention: enforced, uniformBucketLevelAccess: true and "
    "versioning.enabled: true.",
    resource_types=(BUCKET,),
)


def _flag(value: Any) -> bool | None:
    """A boolean as the provider accepts it (true, "true"); None when unknown at preview."""
    if value == UNKNOWN:
        return None
    if isinstance(value, str):
        return value.lower() == "true"
    return bool(value)


def _bucket(r: Resource, report: Callable[[str], None]) -> None:
    prevention = r.get("publicAccessPrevention")
    if prevention != UNKNOWN and prevention != "enforced":
        report("publicAccessPrevention is not enforced: an IAM binding or ACL can make it public")
    if _flag(r.get("uniformBucketLevelAccess")) is False:
        report(
            "uniformBucketLevelAccess is off: object ACLs can grant access past the bucket's IAM"
        )
    versioning = r.get("versioning")
    if isinstance(versioning, list):  # the singular block as a one-item list in some forms
        versioning = versioning[0] if versioning else None
    enabled = versioning.get("enabled") if isinstance(versioning, dict) else None
    if _flag(enabled) is False or versioning is None:
        report("versioning is not enabled: an overwritten or deleted object cannot be recovered")


FUNCTION_PRIVATE = Spec(
    id="gcp-function-private",
    description="Cloud Functions (2nd gen) accept internal traffic only, run as a named service "
    "account and hold no credential in plain environment variables",
    severity=Severity.HIGH,
    category=Category.OVER_PERMISSIVE,
    remediation="Set serviceConfig.ingressSettings to ALLOW_INTERNAL_ONLY, "
    "serviceConfig.serviceAccountEmail to a dedicated account, and read secrets from Secret "
    "Manager (secretEnvironmentVariables), never environmentVariables.",
    resource_types=(FUNCTION,),
)


def _function(r: Resource, report: Callable[[str], None]) -> None:
    config = r.get("serviceConfig")
    if not isinstance(config, dict):
        report("serviceConfig is not set: the function takes all traffic as the default account")
        return
    ingress = config.get("ingressSettings")
    if ingress != UNKNOWN and ingress not in ("ALLOW_INTERNAL_ONLY",):
        report(f"ingressSettings is {ingress or 'ALLOW_ALL (the default)'}: reachable from outside")
    account = config.get("serviceAccountEmail")
    if account in (None, ""):
        report("serviceAccountEmail is not set: it runs as the default compute account (Editor)")
    elif isinstance(account, str) and account.endswith("-compute@developer.gserviceaccount.com"):
        report("serviceAccountEmail is the default compute account, which holds Editor")
    env = config.get("environmentVariables")
    if isinstance(env, dict):
        for key, value in env.items():
            if isinstance(value, str) and scan_value({str(key): value}):
                report(f"environmentVariables.{key} holds a credential in plaintext")


CUSTOM_ROLE = Spec(
    id="gcp-custom-role-no-wildcard",
    description="Custom IAM roles list their permissions one by one and never administer IAM "
    "policies of the project",
    severity=Severity.HIGH,
    category=Category.OVER_PERMISSIVE,
    remediation="Name each permission; grant IAM policy administration through a predefined "
    "role to an administrator, never inside a workload's custom role.",
    resource_types=CUSTOM_ROLES,
)

#: Permissions that let a holder grant itself (or anyone) anything at that level.
IAM_ADMIN_SUFFIXES = (".setIamPolicy",)


def _custom_role(r: Resource, report: Callable[[str], None]) -> None:
    permissions = r.get("permissions")
    if not isinstance(permissions, list):
        return
    for p in permissions:
        if not isinstance(p, str) or p == UNKNOWN:
            continue
        if "*" in p:
            report(f"permission {p} is a wildcard")
        elif p.startswith(("resourcemanager.projects.", "resourcemanager.folders.")) and p.endswith(
            IAM_ADMIN_SUFFIXES
        ):
            report(f"permission {p} administers IAM above the resources: it can grant anything")


POLICIES: list[PackPolicy] = [
    resource_policy(BUCKET_PRIVATE, _bucket),
    resource_policy(FUNCTION_PRIVATE, _function),
    resource_policy(CUSTOM_ROLE, _custom_role),
]
