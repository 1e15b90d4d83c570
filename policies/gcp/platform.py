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

from collections.abc import Callable, Mapping

from policies.framework import PackPolicy, Resource, Spec, resource_policy
from policies.lib.credentials import scan_value
from policies.lib.shapes import declare, pick, reveal, truthy, verdict
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


#: The settings as the provider schema allows them: the ``versioning`` block is a maxItems-1
#: block (an object, or a one-item list in some forms); a secret envelope may wrap any of them.
PREVENTION = declare((BUCKET,), "publicAccessPrevention")
UNIFORM = declare((BUCKET,), "uniformBucketLevelAccess")
VERSIONING = declare((BUCKET,), "versioning.enabled")


def _bucket(r: Resource, report: Callable[[str], None]) -> None:
    if verdict(pick(r.props, PREVENTION), lambda v: v == "enforced") is False:
        report("publicAccessPrevention is not enforced: an IAM binding or ACL can make it public")
    if verdict(pick(r.props, UNIFORM), truthy) is False:
        report(
            "uniformBucketLevelAccess is off: object ACLs can grant access past the bucket's IAM"
        )
    if verdict(pick(r.props, VERSIONING), truthy) is False:
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


SERVICE = declare((FUNCTION,), "serviceConfig")
INGRESS = declare((FUNCTION,), "serviceConfig.ingressSettings")
ACCOUNT = declare((FUNCTION,), "serviceConfig.serviceAccountEmail")
ENVIRONMENT = declare((FUNCTION,), "serviceConfig.environmentVariables")


def _function(r: Resource, report: Callable[[str], None]) -> None:
    if not pick(r.props, SERVICE):
        report("serviceConfig is not set: the function takes all traffic as the default account")
        return
    ingress = pick(r.props, INGRESS)
    if verdict(ingress, lambda v: v == "ALLOW_INTERNAL_ONLY") is False:
        shown = next((v for v in ingress if isinstance(v, str)), "ALLOW_ALL (the default)")
        report(f"ingressSettings is {shown}: reachable from outside")
    accounts = pick(r.props, ACCOUNT)
    if verdict(accounts, lambda v: isinstance(v, str) and bool(v)) is False:
        report("serviceAccountEmail is not set: it runs as the default compute account (Editor)")
    elif any(
        isinstance(a, str) and a.endswith("-compute@developer.gserviceaccount.com")
        for a in accounts
    ):
        report("serviceAccountEmail is the default compute account, which holds Editor")
    for env in pick(r.props, ENVIRONMENT):
        if not isinstance(env, Mapping):
            continue  # unreadable (ciphertext, unknown at preview)
        for key, raw in sorted(env.items()):
            value = reveal(raw)
            if isinstance(value, str) and value != UNKNOWN and scan_value({str(key): value}):
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


PERMISSIONS = declare(CUSTOM_ROLES, "permissions")


def _custom_role(r: Resource, report: Callable[[str], None]) -> None:
    for p in pick(r.props, PERMISSIONS):
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
