"""``kubernetes-default-service-account`` (checkov CKV_K8S_38, CKV_K8S_41, CKV_K8S_42; CIS
Kubernetes 5.1.5, 5.1.6): a namespace's ``default`` service account is nobody's identity. Every
pod that names no service account runs as it, so a token of it mounted in a pod, or a role bound
to it, reaches every such pod:

* a workload running as ``default`` (no ``serviceAccountName``, nor its deprecated alias
  ``serviceAccount``, or one naming ``default``) mounts no token of it: its pod spec sets
  ``automountServiceAccountToken: false``, or leaves the field unset while the stack declares
  the ``default`` ServiceAccount of the pod's namespace with it ``false`` (the pod's setting wins
  over the account's; the account's applies when the pod sets none);
* a ``default`` ServiceAccount declared (or patched) by the stack sets
  ``automountServiceAccountToken: false``;
* no RoleBinding or ClusterRoleBinding names the ``default`` service account as a subject (as a
  ServiceAccount, or as the User ``system:serviceaccount:<namespace>:default`` its token
  authenticates as).

checkov's CKV_K8S_38 asks every pod to opt out of the token; a pod running as a service account
of its own usually needs it (External Secrets, Workload Identity, IRSA and Vault's Kubernetes auth
all authenticate with it), so only pods running as ``default`` are judged here. A Patch that does
not set the field says nothing about it and is not judged. Every object is read in every form the
provider declares it (the kind, its Patch and List forms, the objects of a ``yaml/v2``
ConfigGroup), the stack's objects together.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from policies.framework import PackPolicy, Resource, Spec, stack_policy
from policies.kubernetes.authorizer import BINDING_TYPES
from policies.kubernetes.workloads import (
    CONFIG_GROUP,
    WORKLOAD_TYPES,
    manifests,
    pod_templates,
    workload_pods,
)
from policies.lib.shapes import reveal
from policies.model import UNKNOWN, Category, Severity

SERVICE_ACCOUNT_TYPES = tuple(
    f"kubernetes:core/v1:ServiceAccount{form}" for form in ("", "Patch", "List")
)
_FORM = re.compile(r"(Patch|List)$")
#: the user name a service account's token authenticates as (a binding may name it as a User)
_DEFAULT_USER = re.compile(r"^system:serviceaccount:([^:]+):default$")

SPEC = Spec(
    id="kubernetes-default-service-account",
    description="The default service account is nobody's identity: pods running as it do not "
    "mount its token, it does not automount, and no binding grants it anything",
    severity=Severity.MEDIUM,
    category=Category.OVER_PERMISSIVE,
    remediation="Give each workload its own ServiceAccount (serviceAccountName) and bind roles to "
    "that one; set automountServiceAccountToken: false on the default ServiceAccount and on pods "
    "that do not call the API.",
    resource_types=(*WORKLOAD_TYPES, *SERVICE_ACCOUNT_TYPES, *BINDING_TYPES, CONFIG_GROUP),
    checkov=("CKV_K8S_38", "CKV_K8S_41", "CKV_K8S_42"),
)


def _form(r: Resource) -> str:
    m = _FORM.search(r.type)
    return m.group(1) if m else ""


def _objects(r: Resource) -> Iterator[tuple[str, Mapping[str, Any]]]:
    if _form(r) == "List":
        items = reveal(r.props.get("items"))
        for i, item in enumerate(items if isinstance(items, list) else ()):
            item = reveal(item)
            if isinstance(item, Mapping):
                yield f"items[{i}].", item
        return
    yield "", r.props


def _namespace(obj: Mapping[str, Any]) -> Any:
    """The namespace an object lives in (none given: the provider's, ``default`` unless set)."""
    meta = reveal(obj.get("metadata"))
    namespace = reveal(meta.get("namespace")) if isinstance(meta, Mapping) else None
    return namespace or "default"


def _default_accounts(resources: Iterable[Resource]) -> dict[Any, set[Any]]:
    """namespace -> the ``automountServiceAccountToken`` values its declared ``default``
    ServiceAccount carries (a ServiceAccount, a Patch, a List's items; None: not set)."""
    out: dict[Any, set[Any]] = {}
    for r in resources:
        if r.type not in SERVICE_ACCOUNT_TYPES:
            continue
        for _path, obj in _objects(r):
            meta = reveal(obj.get("metadata"))
            if not isinstance(meta, Mapping) or reveal(meta.get("name")) != "default":
                continue
            automount = reveal(obj.get("automountServiceAccountToken"))
            if _form(r) == "Patch" and automount is None:
                continue  # a patch that does not set the field leaves it as it was
            out.setdefault(_namespace(obj), set()).add(automount)
    return out


def _left_off(namespace: Any, accounts: Mapping[Any, set[Any]]) -> bool:
    """Whether a pod of ``namespace`` that sets no automount may mount no token: the stack
    declares the namespace's default ServiceAccount with automount off (and nowhere on), or a
    value not known at preview (the namespace, the setting) leaves that open."""
    if namespace is UNKNOWN:
        return any(False in values or UNKNOWN in values for values in accounts.values())
    declared = accounts.get(namespace, set())
    unknown = accounts.get(UNKNOWN, set())
    return UNKNOWN in declared or declared == {False} or bool({False, UNKNOWN} & unknown)


def _workload(r: Resource, accounts: Mapping[Any, set[Any]], report: Callable[[str], None]) -> None:
    patch = _form(r) == "Patch"
    for (path, template), (obj, _) in zip(pod_templates(r), workload_pods(r), strict=True):
        spec = reveal(template.get("spec"))
        if not isinstance(spec, Mapping):
            continue
        account = reveal(spec.get("serviceAccountName")) or reveal(spec.get("serviceAccount"))
        automount = reveal(spec.get("automountServiceAccountToken"))
        if UNKNOWN in (account, automount) or (patch and automount is None):
            continue
        if account not in (None, "", "default") or automount is False:
            continue
        if automount is None and _left_off(_namespace(obj), accounts):
            continue
        report(
            f"{path}spec runs as the default service account with its token mounted: set "
            "serviceAccountName, or automountServiceAccountToken: false on the pod or on the "
            "default ServiceAccount"
        )


def _service_account(r: Resource, report: Callable[[str], None]) -> None:
    for path, obj in _objects(r):
        meta = reveal(obj.get("metadata"))
        name = reveal(meta.get("name")) if isinstance(meta, Mapping) else None
        automount = reveal(obj.get("automountServiceAccountToken"))
        if name != "default" or automount is UNKNOWN:
            continue
        if _form(r) == "Patch" and automount is None:
            continue
        if automount is not False:
            report(
                f"{path}the default ServiceAccount automounts its token in every pod that names none"
            )


def _binding(r: Resource, report: Callable[[str], None]) -> None:
    for path, obj in _objects(r):
        subjects = reveal(obj.get("subjects"))
        for i, subject in enumerate(subjects if isinstance(subjects, list) else ()):
            subject = reveal(subject)
            if not isinstance(subject, Mapping):
                continue
            kind, name = reveal(subject.get("kind")), reveal(subject.get("name"))
            user = _DEFAULT_USER.match(name) if kind == "User" and isinstance(name, str) else None
            if (kind == "ServiceAccount" and name == "default") or user:
                where = (
                    user.group(1) if user else reveal(subject.get("namespace")) or "its namespace"
                )
                report(
                    f"{path}subjects[{i}] binds the default service account of {where}: every "
                    "pod that names no service account gets the role"
                )


def _check(
    resources: Sequence[Resource],
    config: Mapping[str, Any],
    report: Callable[[str, str | None], None],
) -> None:
    del config
    # every Kubernetes object, those of a yaml/v2 ConfigGroup too, secret envelopes removed
    objects = [
        (r.urn, prefix, m) for r in resources if _types_judged(r.type) for prefix, m in manifests(r)
    ]
    accounts = _default_accounts(m for _urn, _prefix, m in objects)
    for urn, prefix, m in objects:

        def located(message: str, urn: str = urn, prefix: str = prefix) -> None:
            report(prefix + message, urn)

        if m.type in SERVICE_ACCOUNT_TYPES:
            _service_account(m, located)
        elif m.type in BINDING_TYPES:
            _binding(m, located)
        elif SPEC.applies_to(m.type):
            _workload(m, accounts, located)


def _types_judged(resource_type: str) -> bool:
    return resource_type == CONFIG_GROUP or SPEC.applies_to(resource_type)


POLICIES: list[PackPolicy] = [stack_policy(SPEC, _check)]
