"""What each RBAC subject ends up able to do, judged over the whole stack the way the API server
authorizes (``policies/kubernetes/authorizer.py``): the bindings and the roles they reference,
declared by whatever resource (Role/ClusterRole/RoleBinding/ClusterRoleBinding, their Patch and
List forms, or the children of a ``kubernetes:yaml`` ConfigFile/ConfigGroup), plus the built-in
roles they may reference.

``kubernetes-rbac-effective-secret-access`` (the intent of checkov CKV2_K8S_5, "no ServiceAccount
or Node can read all secrets", without its false positive on rules restricted by resourceNames):

* no subject can read every Secret of a namespace or of the cluster (get, list or watch without
  names; list/watch restricted by names reach only the named Secrets, like get);
* a ClusterRoleBinding never grants any read of Secrets (it reaches every namespace: a named
  Secret in each of them);
* the built-in ``cluster-admin``, ``admin`` and ``edit`` roles are never bound to a service
  account (a workload's, or a namespace's ``default``), nor to the groups every service account or
  every user belongs to;
* no grant of Secrets to the groups ``system:serviceaccounts[:<ns>]``, ``system:authenticated``
  or ``system:unauthenticated``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from policies.framework import PackPolicy, Resource, Spec, stack_policy
from policies.kubernetes.authorizer import (
    ALL_SERVICE_ACCOUNTS,
    AUTHENTICATED,
    POWERFUL_BUILTINS,
    RBAC_TYPES,
    UNAUTHENTICATED,
    Authorizer,
    Binding,
    Subject,
    secret_reach,
)
from policies.kubernetes.workloads import CONFIG_GROUP, manifests
from policies.model import Category, Severity

SPEC = Spec(
    id="kubernetes-rbac-effective-secret-access",
    description="No Kubernetes subject (service account, user, group) can read every Secret "
    "(get, list or watch without resourceNames) or read Secrets cluster-wide; the built-in "
    "cluster-admin/admin/edit "
    "roles are never bound to service accounts or to everyone's groups",
    severity=Severity.CRITICAL,
    category=Category.OVER_PERMISSIVE,
    remediation="Bind each workload's service account, in its namespace (RoleBinding), to a Role "
    "with get on its own Secrets by name; give humans access through their groups, never "
    "cluster-wide reads of Secrets.",
    resource_types=(*RBAC_TYPES, CONFIG_GROUP),
    checkov=("CKV2_K8S_5",),
)

_BROAD_GROUPS = (ALL_SERVICE_ACCOUNTS, AUTHENTICATED, UNAUTHENTICATED)


def _who(subject: Subject, binding: Binding) -> str:
    if subject.kind == "ServiceAccount":
        return f"ServiceAccount {subject.namespace or binding.namespace}/{subject.name}"
    return f"{subject.kind} {subject.name}"


def _broad_group(subject: Subject) -> bool:
    return subject.kind == "Group" and (
        subject.name in _BROAD_GROUPS or subject.name.startswith(ALL_SERVICE_ACCOUNTS + ":")
    )


def judge(authorizer: Authorizer) -> list[tuple[str, str | None]]:
    """``(message, urn of the binding)`` of every finding."""
    out: list[tuple[str, str | None]] = []
    for binding in authorizer.bindings:
        where = (
            "cluster-wide"
            if binding.kind == "ClusterRoleBinding"
            else f"in namespace {binding.namespace}"
        )
        rules = authorizer.rules_for(binding)
        for subject in binding.subjects:
            who = _who(subject, binding)
            if (
                binding.role_kind == "ClusterRole"
                and binding.role_name in POWERFUL_BUILTINS
                and (subject.kind == "ServiceAccount" or _broad_group(subject))
            ):
                out.append(
                    (
                        f"{binding.kind} {binding.name} binds the built-in {binding.role_name} "
                        f"role to {who} {where}",
                        binding.urn,
                    )
                )
                continue
            for rule in rules:
                reach = secret_reach(rule)
                if reach is None:
                    continue
                if reach == "all":
                    out.append(
                        (
                            f"{who} can read every Secret {where} through {binding.kind} "
                            f"{binding.name} ({binding.role_kind} {binding.role_name})",
                            binding.urn,
                        )
                    )
                elif binding.kind == "ClusterRoleBinding":
                    out.append(
                        (
                            f"{who} can get the Secrets {', '.join(rule.resource_names)} in every "
                            f"namespace through ClusterRoleBinding {binding.name}",
                            binding.urn,
                        )
                    )
                elif _broad_group(subject):
                    out.append(
                        (
                            f"every member of {subject.name} can get Secrets {where} through "
                            f"{binding.kind} {binding.name}",
                            binding.urn,
                        )
                    )
    return out


def authorizer_of(resources: Sequence[Resource]) -> Authorizer:
    """The authorizer over every role and binding of the stack, a ConfigGroup's objects too (a
    finding on one of them names the group)."""
    return Authorizer.from_resources(
        (m.type, m.props, r.urn)
        for r in resources
        for _prefix, m in (manifests(r) if r.type == CONFIG_GROUP else (("", r),))
    )


def _check(
    resources: Sequence[Resource],
    config: Mapping[str, Any],
    report: Callable[[str, str | None], None],
) -> None:
    del config
    for message, urn in judge(authorizer_of(resources)):
        report(message, urn)


POLICIES: list[PackPolicy] = [stack_policy(SPEC, _check)]
