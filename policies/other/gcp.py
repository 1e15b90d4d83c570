"""GCP IAM: no public members, no basic roles."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from policies.framework import PackPolicy, Resource, Spec, resource_policy
from policies.model import UNKNOWN, Category, Severity

IAM_TYPES = tuple(
    f"gcp:*:*{kind}"
    for kind in ("IamMember", "IAMMember", "IamBinding", "IAMBinding", "IamPolicy", "IAMPolicy")
)
PUBLIC_MEMBERS = ("allUsers", "allAuthenticatedUsers")
BASIC_ROLES = ("roles/owner", "roles/editor", "roles/viewer")


def bindings(r: Resource) -> Iterator[tuple[str, str, list[str]]]:
    """(path, role, members) of an IAM member, binding or policy resource."""
    role = r.get("role")
    if isinstance(role, str):
        members = [r.get("member")] if r.get("member") else list(r.get("members") or [])
        yield "", role, [str(m) for m in members if m not in (None, UNKNOWN)]
    data = r.get("policyData")
    if isinstance(data, str) and data != UNKNOWN:
        try:
            policy: Any = json.loads(data)
        except json.JSONDecodeError:
            return
        for i, b in enumerate(policy.get("bindings", []) if isinstance(policy, dict) else []):
            if isinstance(b, dict):
                yield (
                    f"policyData.bindings[{i}] ",
                    str(b.get("role")),
                    [str(m) for m in b.get("members", [])],
                )


PUBLIC = Spec(
    id="gcp-iam-no-public-members",
    description="GCP IAM grants nothing to allUsers or allAuthenticatedUsers",
    severity=Severity.CRITICAL,
    category=Category.PUBLIC_ACCESS,
    remediation="Grant the role to the workload's service account (or workload identity pool) only.",
    resource_types=IAM_TYPES,
    checkov=("CKV_GCP_28",),
)


def _public(r: Resource, report: Callable[[str], None]) -> None:
    for where, role, members in bindings(r):
        public = [m for m in members if m in PUBLIC_MEMBERS]
        if public:
            report(f"{where}{role} granted to {', '.join(public)}")


BASIC = Spec(
    id="gcp-iam-no-basic-roles",
    description="GCP IAM uses predefined or custom roles, never the basic owner/editor/viewer roles",
    severity=Severity.HIGH,
    category=Category.OVER_PERMISSIVE,
    remediation="Use roles/secretmanager.secretAccessor (read) or roles/secretmanager.admin (admins) "
    "on the secret, not a project-wide basic role.",
    resource_types=IAM_TYPES,
    checkov=("CKV_GCP_115", "CKV_GCP_116", "CKV_GCP_117"),
)


def _basic(r: Resource, report: Callable[[str], None]) -> None:
    for where, role, members in bindings(r):
        if role in BASIC_ROLES:
            report(f"{where}basic role {role} granted to {', '.join(members) or 'members'}")


POLICIES: list[PackPolicy] = [resource_policy(PUBLIC, _public), resource_policy(BASIC, _basic)]
