"""Kubernetes RBAC rules, judged rule by rule in every form the provider declares them (Role,
ClusterRole, their ``Patch`` and ``List`` forms, the objects of a ``yaml/v2`` ConfigGroup; secret
envelopes anywhere in them), with the API server's matching
(``policies/kubernetes/authorizer.py``):

* ``kubernetes-rbac-no-wildcards`` (checkov CKV_K8S_49): no ``*`` in verbs, apiGroups or
  resources (``*`` in resources also covers every subresource such as ``pods/exec``).
* ``kubernetes-rbac-secrets-by-name``: a rule that reads Secrets (get, list, watch, or a wildcard
  standing for them) names the Secrets it reads (``resourceNames``); without names it reads every
  Secret of the namespace (of the cluster, bound cluster-wide). ``list``/``watch`` restricted by
  names reach only the named Secrets (the API server matches them through a ``metadata.name``
  field selector), like ``get``.
* ``kubernetes-rbac-escalation`` (checkov CKV_K8S_155, 156, 157, 158, CKV2_K8S_2, 3): no
  ``escalate``, ``bind`` or ``impersonate``, no ``pods/exec``/``pods/attach``, no ``nodes/proxy``
  (the kubelet API: exec into every pod of the node, past admission and audit; ``get`` suffices,
  as a WebSocket exec is a GET, so metrics scrapers use ``nodes/metrics``), no control of
  admission webhooks, no approval of certificate signing requests. A rule restricted by
  ``resourceNames`` reaches only the named objects (binding one named Role, patching the
  controller's own webhook configuration, impersonating one service account): it is reported
  only when a named object is itself a privilege (``cluster-admin``/``admin``/``edit`` or a
  ``system:`` role, the ``system:masters`` group, a ``system:`` user, any node).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from policies.framework import PackPolicy, Resource, Spec, resource_policy
from policies.kubernetes.authorizer import (
    RBAC_GROUP,
    ROLE_TYPES,
    Rule,
    group_matches,
    manifests_of,
    resource_matches,
    rules_of,
    secret_reach,
    verb_matches,
)
from policies.kubernetes.workloads import CONFIG_GROUP, manifests
from policies.model import Category, Severity

#: what declares roles: the RBAC types, and a ConfigGroup's objects
JUDGED_TYPES = (*ROLE_TYPES, CONFIG_GROUP)

WILDCARDS = Spec(
    id="kubernetes-rbac-no-wildcards",
    description="Roles and ClusterRoles (and their Patch/List forms) name their verbs, API groups "
    "and resources: no '*', which grants every present and future verb, group, resource and "
    "subresource",
    severity=Severity.HIGH,
    category=Category.OVER_PERMISSIVE,
    remediation="List the exact verbs, apiGroups ('' for the core group) and resources the "
    "workload needs.",
    resource_types=JUDGED_TYPES,
    checkov=("CKV_K8S_49",),
)

SECRETS_BY_NAME = Spec(
    id="kubernetes-rbac-secrets-by-name",
    description="A rule that reads Secrets names them (resourceNames): get, list or watch without "
    "names return every Secret's value in the namespace",
    severity=Severity.CRITICAL,
    category=Category.OVER_PERMISSIVE,
    remediation="Grant verbs: [get] on resources: [secrets] with resourceNames: the exact Secret(s) "
    "the workload reads (deterministic names, e.g. an ExternalSecret's target).",
    resource_types=JUDGED_TYPES,
)

ESCALATION = Spec(
    id="kubernetes-rbac-escalation",
    description="No rule lets its holder gain more than it was given: escalate or bind on RBAC "
    "roles, impersonate, exec/attach into pods, the kubelet API (nodes/proxy), control admission "
    "webhooks, approve certificate signing requests",
    severity=Severity.HIGH,
    category=Category.OVER_PERMISSIVE,
    remediation="Remove the verb or resource; a controller that needs one of them gets its own "
    "narrowly named Role, reviewed and exempted (exemptResources) by name.",
    resource_types=JUDGED_TYPES,
    checkov=(
        "CKV_K8S_155",
        "CKV_K8S_156",
        "CKV_K8S_157",
        "CKV_K8S_158",
        "CKV2_K8S_2",
        "CKV2_K8S_3",
    ),
)


def _rules(r: Resource) -> Iterator[tuple[str, Rule]]:
    """``(path, rule)`` of every rule the resource declares (a ConfigGroup: its objects')."""
    objects = manifests(r) if r.type == CONFIG_GROUP else iter((("", r),))
    for where, obj in objects:
        many = obj.type.endswith("List")
        for index, (_kind, manifest) in enumerate(manifests_of(obj.type, obj.props)):
            prefix = where + (f"items[{index}]." if many else "")
            for i, rule in enumerate(rules_of(manifest)):
                yield f"{prefix}rules[{i}]", rule


def _wildcards(r: Resource, report: Callable[[str], None]) -> None:
    for path, rule in _rules(r):
        for field, values in (
            ("verbs", rule.verbs),
            ("apiGroups", rule.api_groups),
            ("resources", rule.resources),
        ):
            if "*" in values:
                report(f"{path}.{field} contains '*'")


def _secrets(r: Resource, report: Callable[[str], None]) -> None:
    for path, rule in _rules(r):
        reach = secret_reach(rule)
        if reach is None:
            continue
        if reach == "all":
            verbs = [v for v in ("get", "list", "watch") if verb_matches(rule, v)]
            report(
                f"{path} allows {', '.join(verbs)} on every Secret (no resourceNames): that "
                "reveals every Secret's value"
            )


#: (what, verbs (any of), api group, resource, subresource)
_ESCALATIONS: tuple[tuple[str, tuple[str, ...], str, str, str], ...] = (
    ("escalate on roles", ("escalate",), RBAC_GROUP, "roles", ""),
    ("escalate on clusterroles", ("escalate",), RBAC_GROUP, "clusterroles", ""),
    ("bind on roles", ("bind",), RBAC_GROUP, "roles", ""),
    ("bind on clusterroles", ("bind",), RBAC_GROUP, "clusterroles", ""),
    ("impersonate users", ("impersonate",), "", "users", ""),
    ("impersonate groups", ("impersonate",), "", "groups", ""),
    ("impersonate service accounts", ("impersonate",), "", "serviceaccounts", ""),
    ("exec into pods", ("create", "get"), "", "pods", "exec"),
    ("attach to pods", ("create", "get"), "", "pods", "attach"),
    (
        "the kubelet API through nodes/proxy (exec into every pod of the node)",
        ("create", "get"),
        "",
        "nodes",
        "proxy",
    ),
    (
        "control of mutating admission webhooks",
        ("create", "update", "patch"),
        "admissionregistration.k8s.io",
        "mutatingwebhookconfigurations",
        "",
    ),
    (
        "control of validating admission webhooks",
        ("create", "update", "patch"),
        "admissionregistration.k8s.io",
        "validatingwebhookconfigurations",
        "",
    ),
    (
        "approval of certificate signing requests",
        ("update", "patch"),
        "certificates.k8s.io",
        "certificatesigningrequests",
        "approval",
    ),
)


#: named objects that are a privilege themselves: binding, escalating to or impersonating them is
#: no narrower than the unrestricted verb
_PRIVILEGED_ROLES = frozenset({"cluster-admin", "admin", "edit"})
_PRIVILEGED_GROUPS = frozenset({"system:masters", "system:nodes"})


def _privileged_name(resource: str, name: str) -> bool:
    if resource in ("roles", "clusterroles"):
        return name in _PRIVILEGED_ROLES or name.startswith("system:") or name == "*"
    if resource == "groups":
        return name in _PRIVILEGED_GROUPS or name == "*"
    if resource == "nodes":
        return True  # a named node's kubelet still runs every pod scheduled on it
    if resource in ("users", "serviceaccounts"):
        return name.startswith("system:") or name == "*"
    return name == "*"


def _escalation(r: Resource, report: Callable[[str], None]) -> None:
    for path, rule in _rules(r):
        found = [
            what
            for what, verbs, group, resource, sub in _ESCALATIONS
            if any(verb_matches(rule, v) for v in verbs)
            and group_matches(rule, group)
            and resource_matches(rule, resource, sub)
            and (
                not rule.resource_names
                or any(_privileged_name(resource, n) for n in rule.resource_names)
            )
        ]
        if found:
            report(f"{path} allows {'; '.join(found)}")


POLICIES: list[PackPolicy] = [
    resource_policy(WILDCARDS, _wildcards),
    resource_policy(SECRETS_BY_NAME, _secrets),
    resource_policy(ESCALATION, _escalation),
]
