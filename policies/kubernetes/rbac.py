"""Kubernetes RBAC: no wildcard verbs, resources or API groups; no list/watch on Secrets."""

from __future__ import annotations

from collections.abc import Callable

from policies.framework import PackPolicy, Resource, Spec, resource_policy
from policies.model import UNKNOWN, Category, Severity

ROLE_TYPES = (
    "kubernetes:rbac.authorization.k8s.io/v1:Role",
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
)
SPEC = Spec(
    id="kubernetes-rbac-least-privilege",
    description="Roles and ClusterRoles name their verbs, resources and API groups (no '*'), and "
    "never allow list or watch on Secrets (which returns every secret's value)",
    severity=Severity.HIGH,
    category=Category.OVER_PERMISSIVE,
    remediation="Grant get on the named Secret (resourceNames) the workload needs; list/watch on "
    "secrets is equivalent to reading them all.",
    resource_types=ROLE_TYPES,
    checkov=("CKV_K8S_49",),
)


def _check(r: Resource, report: Callable[[str], None]) -> None:
    rules = r.get("rules")
    if not isinstance(rules, list):
        return
    for i, rule in enumerate(rules):
        if not isinstance(rule, dict):
            continue
        verbs = [str(v) for v in rule.get("verbs") or [] if v != UNKNOWN]
        resources = [str(v) for v in rule.get("resources") or [] if v != UNKNOWN]
        groups = [str(v) for v in rule.get("apiGroups") or [] if v != UNKNOWN]
        for field, values in (("verbs", verbs), ("resources", resources), ("apiGroups", groups)):
            if "*" in values:
                report(f"rules[{i}].{field} contains '*'")
        core = not groups or "" in groups or "*" in groups
        if core and ({"secrets", "*"} & set(resources)):
            broad = sorted({"list", "watch", "*"} & set(verbs))
            if broad:
                report(f"rules[{i}] allows {', '.join(broad)} on secrets")


POLICIES: list[PackPolicy] = [resource_policy(SPEC, _check)]
