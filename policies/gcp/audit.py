"""GCP audit logs: every read of a secret is logged, and nobody is exempted.

* ``gcp-audit-config-no-exemptions``: no audit config (``*IamAuditConfig`` resources, or the
  ``auditConfigs`` of an IAM policy) exempts members from logging: an exempted member reads
  unseen.
* ``gcp-secretmanager-data-access-logs`` (stack): a stack that holds Secret Manager secrets turns
  on ADMIN_READ, DATA_READ and DATA_WRITE audit logs for ``secretmanager.googleapis.com`` (or
  ``allServices``) in a project, folder or organisation audit config it declares. Data-access
  logs are off by default: without them, who read which payload is not recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from policies.framework import PackPolicy, Resource, Spec, resource_policy, stack_policy
from policies.gcp.common import (
    ALL_SERVICES,
    AUDIT_CONFIG_TYPES,
    AUDIT_LOG_TYPES,
    IAM_TYPES,
    SECRET_MANAGER_API,
    SECRET_TYPES,
    audit_configs,
)
from policies.model import Category, Severity
from policies.profile import Profile

EXEMPTIONS = Spec(
    id="gcp-audit-config-no-exemptions",
    description="GCP audit configs exempt nobody from audit logging (no exemptedMembers, in "
    "*IamAuditConfig resources or an IAM policy's auditConfigs)",
    severity=Severity.HIGH,
    category=Category.AUDIT,
    remediation="Remove exemptedMembers; if a member's reads are too noisy, filter them in the "
    "log sink, never at the source.",
    resource_types=(*AUDIT_CONFIG_TYPES, *IAM_TYPES),
)


def _exemptions(r: Resource, report: Callable[[str], None]) -> None:
    for config in audit_configs(r):
        for log_type, members in sorted(config.exempted.items()):
            report(
                f"{config.where}{config.service} {log_type} exempts {', '.join(members)}: "
                "their accesses go unlogged"
            )


DATA_ACCESS = Spec(
    id="gcp-secretmanager-data-access-logs",
    profile=Profile.PROJECT,
    house="expects the data-access audit config in the same stack as the secrets (this project's layout); an estate sets it at folder or organisation level elsewhere",
    description="A stack holding Secret Manager secrets declares data-access audit logs for "
    "secretmanager.googleapis.com (or allServices): ADMIN_READ, DATA_READ and DATA_WRITE",
    severity=Severity.HIGH,
    category=Category.AUDIT,
    remediation="Declare gcp.projects.IAMAuditConfig(service='secretmanager.googleapis.com', "
    "audit_log_configs=[ADMIN_READ, DATA_READ, DATA_WRITE]) with no exempted members.",
    resource_types=(*SECRET_TYPES, *AUDIT_CONFIG_TYPES, *IAM_TYPES),
)


def _data_access(
    resources: Sequence[Resource], config: Any, report: Callable[[str, str | None], None]
) -> None:
    del config
    secrets = [r for r in resources if r.type in SECRET_TYPES]
    if not secrets:
        return
    logged: set[str] = set()
    for r in resources:
        for c in audit_configs(r):
            if c.service in (SECRET_MANAGER_API, ALL_SERVICES):
                logged |= c.log_types
    missing = [t for t in AUDIT_LOG_TYPES if t not in logged]
    if missing:
        report(
            f"{len(secrets)} Secret Manager secret(s) but no audit config for "
            f"{SECRET_MANAGER_API} with {', '.join(missing)}: reads of their payloads are not "
            "logged",
            None,
        )


POLICIES: list[PackPolicy] = [
    resource_policy(EXEMPTIONS, _exemptions),
    stack_policy(DATA_ACCESS, _data_access),
]
