"""``kubernetes-default-service-account`` (checkov CKV_K8S_38, CKV_K8S_41, CKV_K8S_42; CIS
Kubernetes 5.1.5, 5.1.6): a namespace's ``default`` service account is nobody's identity. Every
pod that names no service account runs as it, so a token of it mounted in a pod, or a role bound
to it, reaches every such pod:

* a workload running as ``default`` (no ``serviceAccountName``, nor its deprecated alias
  ``serviceAccount``, or one naming ``default``) sets ``automountServiceAccountToken: false``;
* a ``default`` ServiceAccount declared (or patched) by the stack sets
  ``automountServiceAccountToken: false``;
* no RoleBinding or ClusterRoleBinding names the ``default`` service account as a subject.

checkov's CKV_K8S_38 asks every pod to opt out of the token; a pod running as a service account
of its own usually needs it (External Secrets, Workload Identity, IRSA and Vault's Kubernetes auth
all authenticate with it), so only pods running as ``default`` are judged here. A Patch that does
not set the field says nothing about it and is not judged.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from policies.framework import PackPolicy, Resource, Spec, resource_policy
from policies.kubernetes.authorizer import BINDING_TYPES
from policies.kubernetes.workloads import WORKLOAD_TYPES, pod_templates
from policies.lib.shapes import reveal
from policies.model import UNKNOWN, Category, Severity

SERVICE_ACCOUNT_TYPES = tuple(
    f"kubernetes:core/v1:ServiceAccount{form}" for form in ("", "Patch", "List")
)
_FORM = re.compile(r"(Patch|List)$")

SPEC = Spec(
    id="kubernetes-default-service-account",
    description="The default service account is nobody's identity: pods running as it do not "
    "mount its token, it does not automount, and no binding grants it anything",
    severity=Severity.MEDIUM,
    category=Category.OVER_PERMISSIVE,
    remediation="Give each workload its own ServiceAccount (serviceAccountName) and bind roles to "
    "that one; set automountServiceAccountToken: false on the default ServiceAccount and on pods "
    "that do not call the API.",
    resource_types=(*WORKLOAD_TYPES, *SERVICE_ACCOUNT_TYPES, *BINDING_TYPES),
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


def _workload(r: Resource, report: Callable[[str], None]) -> None:
    patch = _form(r) == "Patch"
    for path, template in pod_templates(r):
        spec = reveal(template.get("spec"))
        if not isinstance(spec, Mapping):
            continue
        account = reveal(spec.get("serviceAccountName")) or reveal(spec.get("serviceAccount"))
        automount = reveal(spec.get("automountServiceAccountToken"))
        if UNKNOWN in (account, automount) or (patch and automount is None):
            continue
        if account in (None, "", "default") and automount is not False:
            report(
                f"{path}spec runs as the default service account with its token mounted: set "
                "serviceAccountName, or automountServiceAccountToken: false"
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
            if (
                isinstance(subject, Mapping)
                and reveal(subject.get("kind")) == "ServiceAccount"
                and reveal(subject.get("name")) == "default"
            ):
                where = reveal(subject.get("namespace")) or "its namespace"
                report(
                    f"{path}subjects[{i}] binds the default service account of {where}: every "
                    "pod that names no service account gets the role"
                )


def _check(r: Resource, report: Callable[[str], None]) -> None:
    if r.type in SERVICE_ACCOUNT_TYPES:
        _service_account(r, report)
    elif r.type in BINDING_TYPES:
        _binding(r, report)
    else:
        _workload(r, report)


POLICIES: list[PackPolicy] = [resource_policy(SPEC, _check)]
