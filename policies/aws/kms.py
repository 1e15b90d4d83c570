"""KMS: customer-managed keys rotate and are not deleted on short notice."""

from __future__ import annotations

import re
from collections.abc import Callable

from policies.framework import PackPolicy, Resource, Spec, number, resource_policy
from policies.model import UNKNOWN, Category, Severity

KEY = "aws:kms/key:Key"

ROTATION = Spec(
    id="aws-kms-key-rotation",
    description="Symmetric customer-managed KMS keys have automatic rotation enabled",
    severity=Severity.HIGH,
    category=Category.ENCRYPTION,
    remediation="Set enableKeyRotation: true (rotationPeriodInDays at most 365).",
    resource_types=(KEY,),
    checkov=("CKV_AWS_7",),
)


def _rotation(r: Resource, report: Callable[[str], None]) -> None:
    spec = r.get("customerMasterKeySpec") or r.get("keySpec") or "SYMMETRIC_DEFAULT"
    if spec not in ("SYMMETRIC_DEFAULT", UNKNOWN):
        return  # asymmetric and HMAC keys cannot rotate automatically
    if r.get("enableKeyRotation") not in (True, UNKNOWN):
        report("enableKeyRotation is not true")
    period = r.get("rotationPeriodInDays")
    if period not in (None, UNKNOWN):
        value = number(period)
        if value is None:
            report("rotationPeriodInDays is not a number")
        elif value > 365:
            report(f"rotationPeriodInDays is {value:g}; at most 365")


DELETION = Spec(
    id="aws-kms-deletion-window",
    description="KMS keys wait the longest deletion window (30 days) before they are destroyed",
    severity=Severity.MEDIUM,
    category=Category.DELETION_PROTECTION,
    remediation="Set deletionWindowInDays: 30; data encrypted with a deleted key is lost.",
    resource_types=(KEY,),
    config={"minimumDays": {"type": "integer", "minimum": 7, "maximum": 30, "default": 30}},
)


def _deletion(r: Resource, report: Callable[[str], None]) -> None:
    days = r.get("deletionWindowInDays")
    if days == UNKNOWN:
        return
    value = 30.0 if days is None else number(days)
    minimum = int(r.config.get("minimumDays", 30))
    if value is None:
        report("deletionWindowInDays is not a number")
    elif value < minimum:
        report(f"deletionWindowInDays is {value:g}; at least {minimum}")


ALIAS = Spec(
    id="aws-kms-alias-customer-key",
    description="KMS aliases name a customer-managed key and never use the reserved alias/aws/ prefix",
    severity=Severity.LOW,
    category=Category.ENCRYPTION,
    remediation="Point the alias at the environment's customer-managed key; alias/aws/* names "
    "AWS-managed keys.",
    resource_types=("aws:kms/alias:Alias",),
)


def _alias(r: Resource, report: Callable[[str], None]) -> None:
    name = r.get("name") or r.get("namePrefix") or ""
    if isinstance(name, str) and name.startswith("alias/aws/"):
        report(f"alias {name} uses the reserved alias/aws/ prefix")
    if not r.get("targetKeyId"):
        report("targetKeyId is not set")


GRANT = Spec(
    id="aws-kms-grant-same-account",
    description="KMS grants go to principals of the key's own account, and never grant "
    "CreateGrant onward",
    severity=Severity.HIGH,
    category=Category.OVER_PERMISSIVE,
    remediation="Grant to a role of the key's account; share data across accounts through a "
    "reviewed key policy statement instead of a grant.",
    resource_types=("aws:kms/grant:Grant",),
)
_ACCOUNT = re.compile(r"^arn:aws[\w-]*:(?:iam|sts|kms):[^:]*:(\d{12}):")


def _grant(r: Resource, report: Callable[[str], None]) -> None:
    grantee = r.get("granteePrincipal")
    key = r.get("keyId")
    if grantee == "*" or (isinstance(grantee, str) and "*" in grantee):
        report("granteePrincipal is a wildcard")
    g = _ACCOUNT.match(grantee) if isinstance(grantee, str) else None
    k = _ACCOUNT.match(key) if isinstance(key, str) else None
    if g and k and g.group(1) != k.group(1):
        report(f"grants use of a key of account {k.group(1)} to account {g.group(1)}")
    retiring = r.get("retiringPrincipal")
    rt = _ACCOUNT.match(retiring) if isinstance(retiring, str) else None
    if rt and k and rt.group(1) != k.group(1):
        report(
            f"a principal of account {rt.group(1)} may retire grants on a key of account {k.group(1)}"
        )
    operations = r.get("operations")
    if isinstance(operations, list) and "CreateGrant" in operations:
        report("the grantee may create further grants (CreateGrant)")


POLICIES: list[PackPolicy] = [
    resource_policy(GRANT, _grant),
    resource_policy(ROTATION, _rotation),
    resource_policy(DELETION, _deletion),
    resource_policy(ALIAS, _alias),
]
