"""``gcp-iam-no-default-service-account-grants`` (checkov CKV_GCP_46, CKV_GCP_47, CKV_GCP_48; CIS
Google Cloud 4.1): no role is granted on a project, folder or organisation to a default service
account (Compute Engine's ``<number>-compute@developer.gserviceaccount.com``, App Engine's
``<project>@appspot.gserviceaccount.com``). Every VM, function or node pool that is not given an
identity of its own runs as one of them, so a grant to it reaches every such workload: it is
never the least privilege of one consumer.

Every IAM resource form is read (member, binding, policy), envelopes at any depth.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from policies.framework import PackPolicy, Resource, Spec, resource_policy
from policies.gcp.common import ABOVE_SECRET, IAM_TYPES, bindings, iam_level
from policies.model import UNKNOWN, Category, Severity

_DEFAULT: Final = re.compile(
    r"^(?:serviceAccount:)?[^@\s]*(?:-compute@developer|@appspot)\.gserviceaccount\.com$"
)

SPEC = Spec(
    id="gcp-iam-no-default-service-account-grants",
    description="No role is granted on a project, folder or organisation to a default service "
    "account (Compute Engine or App Engine): every workload without its own identity runs as it",
    severity=Severity.HIGH,
    category=Category.OVER_PERMISSIVE,
    remediation="Give each workload a dedicated service account and grant that one what it needs "
    "on the resources it uses; remove the default service account's grants (and disable the "
    "automatic Editor grant with the iam.automaticIamGrantsForDefaultServiceAccounts constraint).",
    resource_types=IAM_TYPES,
    checkov=("CKV_GCP_46", "CKV_GCP_47", "CKV_GCP_48"),
)


def default_service_account(member: object) -> bool:
    return isinstance(member, str) and bool(_DEFAULT.match(member.strip()))


def _check(r: Resource, report: Callable[[str], None]) -> None:
    level = iam_level(r.type)
    if level not in ABOVE_SECRET:
        return
    for b in bindings(r):
        for member in b.members:
            if member != UNKNOWN and default_service_account(member):
                report(
                    f"{b.where}{b.role} granted on the {level} to the default service account "
                    f"{member}"
                )


POLICIES: list[PackPolicy] = [resource_policy(SPEC, _check)]
