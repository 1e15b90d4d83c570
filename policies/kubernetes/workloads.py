"""Kubernetes workloads and configuration: how secrets reach containers, and no credential where
the cluster keeps plain text. Every workload kind and form the provider offers is read (Pod,
Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob, ReplicationController; their Patch
and List forms; any API version), the pod spec found where each kind keeps it.

* ``kubernetes-secrets-as-files`` (checkov CKV_K8S_35): containers (and init/ephemeral containers)
  take Secrets as mounted files, not environment variables (``env[].valueFrom.secretKeyRef``,
  ``envFrom[].secretRef``): environment variables leak into crash dumps, child processes and
  ``/proc``. An application that can only read its environment is exempted by name
  (``exemptResources``), as docs/kubernetes.md describes.
* ``kubernetes-no-credentials-in-specs``: no credential in a container's env values, command or
  args, in any Kubernetes object's annotations (those of its pod template too), or in ConfigMap
  data; the cluster stores and shows these in plain text, Pulumi secret or not.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from policies.common.plaintext import known
from policies.contract.yamlio import YamlProblem, load_yaml
from policies.framework import PackPolicy, Resource, Spec, resource_policy
from policies.lib.credentials import scan_value
from policies.lib.shapes import blocks, declare, no_envelopes, unwrap
from policies.model import Category, Severity

WORKLOAD_KINDS = (
    "Pod",
    "Deployment",
    "ReplicaSet",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "CronJob",
    "ReplicationController",
)
WORKLOAD_TYPES = tuple(
    f"kubernetes:*:{kind}{form}" for kind in WORKLOAD_KINDS for form in ("", "Patch", "List")
)
#: ``yaml/v2``'s ConfigGroup: its objects (``objs``, ``yaml`` texts) are manifests of any kind.
#: Its children are registered by the provider at deployment (a stack's state holds them as typed
#: resources); a plan under the SDK's mocks has only the group, so the group's inputs are read.
CONFIG_GROUP = "kubernetes:yaml/v2:ConfigGroup"
GROUP_OBJECTS = declare((CONFIG_GROUP,), "objs")
GROUP_YAML = declare((CONFIG_GROUP,), "yaml")
CONFIG_MAP_TYPES = tuple(f"kubernetes:core/v1:ConfigMap{form}" for form in ("", "Patch", "List"))
_TYPE_RE = re.compile(r"^kubernetes:[^:]+:(?P<kind>[A-Za-z]+?)(?P<form>Patch|List)?$")
#: Where each kind keeps its pod spec (and pod template metadata).
_POD_PATH = {
    "Pod": "",
    "CronJob": "spec.jobTemplate.spec.template.",
}
_CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")

SECRETS_AS_FILES = Spec(
    id="kubernetes-secrets-as-files",
    description="Workloads receive Secrets as mounted files, not environment variables "
    "(secretKeyRef, envFrom secretRef)",
    severity=Severity.MEDIUM,
    category=Category.PLAINTEXT,
    remediation="Mount the Secret as a volume (readOnly, defaultMode 0400) and read the file; an "
    "application that only reads its environment is exempted by name (exemptResources), with "
    "the reason recorded.",
    resource_types=(*WORKLOAD_TYPES, CONFIG_GROUP),
    checkov=("CKV_K8S_35",),
)

NO_CREDENTIALS = Spec(
    id="kubernetes-no-credentials-in-specs",
    description="No credential in container env values, commands or args, in Kubernetes "
    "annotations, or in ConfigMap data: the cluster keeps them in plain text",
    severity=Severity.CRITICAL,
    category=Category.PLAINTEXT,
    remediation="Keep the credential in the secret store; deliver it with an ExternalSecret and a "
    "mounted Secret volume.",
    resource_types=("kubernetes:*",),
)


def _token(obj: Mapping[str, Any]) -> str | None:
    kind, api = obj.get("kind"), obj.get("apiVersion") or "v1"
    if not isinstance(kind, str) or not isinstance(api, str):
        return None
    return f"kubernetes:{api if '/' in api else 'core/' + api}:{kind}"


def _yaml_objects(texts: Any) -> Iterator[Any]:
    for text in texts:
        if not isinstance(text, str):
            continue
        for part in re.split(r"(?m)^---[ \t]*$", text):
            try:
                doc = load_yaml(part)
            except YamlProblem:
                continue  # not this policy's to judge: the provider refuses it
            if isinstance(doc, Mapping) and doc.get("kind") == "List":
                yield from blocks(doc.get("items"))
            elif doc is not None:
                yield doc


def manifests(r: Resource) -> Iterator[tuple[str, Resource]]:
    """``(path prefix, resource)`` of each Kubernetes object ``r`` declares, secret envelopes
    removed at any depth: a typed resource itself (its props unwrapped only when they hold an
    envelope), each object of a ``yaml/v2`` ConfigGroup (``objs``, ``yaml`` texts) as the typed
    resource it stands for."""
    if r.type != CONFIG_GROUP:
        yield "", r if no_envelopes(r.props) else dataclasses.replace(r, props=unwrap(r.props))
        return
    found = [(f"objs[{i}].", o) for i, o in enumerate(blocks(r.get("objs")))]
    found += [("yaml.", o) for o in _yaml_objects(blocks(r.get("yaml")))]
    for prefix, raw in found:
        obj = unwrap(raw)
        token = _token(obj) if isinstance(obj, Mapping) else None
        if token is not None:
            yield prefix, dataclasses.replace(r, type=token, props=dict(obj))


def _prefixed(report: Callable[[str], None], prefix: str) -> Callable[[str], None]:
    """``report`` with each message located in the object of a group it is about."""
    if not prefix:
        return report
    return lambda message: report(prefix + message)


def _kind(resource_type: str) -> tuple[str, str] | None:
    m = _TYPE_RE.match(resource_type)
    return (m.group("kind"), m.group("form") or "") if m else None


def _objects(r: Resource) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(path prefix, object)`` of each object the resource declares (a List declares many)."""
    known_kind = _kind(r.type)
    if known_kind is not None and known_kind[1] == "List":
        items = r.props.get("items")
        for i, item in enumerate(items if isinstance(items, list) else ()):
            if isinstance(item, dict):
                yield f"items[{i}].", item
        return
    yield "", r.props


def _get(obj: Any, path: str) -> Any:
    for part in path.split(".") if path else ():
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def pod_templates(r: Resource) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(path, pod template)`` (a dict with ``metadata`` and ``spec``) of each workload."""
    known_kind = _kind(r.type)
    if known_kind is None or known_kind[0] not in WORKLOAD_KINDS:
        return
    kind = known_kind[0]
    base = _POD_PATH.get(kind, "spec.template.")
    for prefix, obj in _objects(r):
        template = obj if not base else _get(obj, base.rstrip("."))
        if isinstance(template, dict):
            yield prefix + base, template


def workload_pods(r: Resource) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """``(object, pod template)`` of each workload object the resource declares (the object's
    metadata says its namespace; the template's spec its service account and volumes)."""
    known_kind = _kind(r.type)
    if known_kind is None or known_kind[0] not in WORKLOAD_KINDS:
        return
    base = _POD_PATH.get(known_kind[0], "spec.template.")
    for _prefix, obj in _objects(r):
        template = obj if not base else _get(obj, base.rstrip("."))
        if isinstance(template, dict):
            yield obj, template


def containers(r: Resource) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, template in pod_templates(r):
        spec = template.get("spec")
        if not isinstance(spec, dict):
            continue
        for field in _CONTAINER_LISTS:
            items = spec.get(field)
            for i, c in enumerate(items if isinstance(items, list) else ()):
                if isinstance(c, dict):
                    yield f"{path}spec.{field}[{i}]", c


def _secrets_as_files(resource: Resource, report: Callable[[str], None]) -> None:
    for prefix, r in manifests(resource):
        _secrets_as_files_of(r, _prefixed(report, prefix))


def _secrets_as_files_of(r: Resource, report: Callable[[str], None]) -> None:
    for path, c in containers(r):
        env = c.get("env")
        for i, var in enumerate(env if isinstance(env, list) else ()):
            if not isinstance(var, dict):
                continue
            ref = _get(var, "valueFrom.secretKeyRef")
            if isinstance(ref, dict):
                report(
                    f"{path}.env[{i}] ({var.get('name')}) takes Secret {ref.get('name')} as an "
                    "environment variable: mount it as a file"
                )
        env_from = c.get("envFrom")
        for i, source in enumerate(env_from if isinstance(env_from, list) else ()):
            if isinstance(source, dict) and isinstance(source.get("secretRef"), dict):
                report(
                    f"{path}.envFrom[{i}] takes every key of Secret "
                    f"{source['secretRef'].get('name')} as environment variables: mount it as files"
                )


def _scan(value: Any, path: str, report: Callable[[str], None]) -> None:
    for hit in scan_value(known(value), path=path):
        report(f"{hit.path}: {hit.kind} ({hit.hint})")


def _no_credentials(resource: Resource, report: Callable[[str], None]) -> None:
    for outer, r in manifests(resource):
        _no_credentials_of(r, _prefixed(report, outer))


def _no_credentials_of(r: Resource, report: Callable[[str], None]) -> None:
    for prefix, obj in _objects(r):
        annotations = _get(obj, "metadata.annotations")
        if isinstance(annotations, dict):
            _scan(annotations, f"{prefix}metadata.annotations", report)
        if r.type in CONFIG_MAP_TYPES:
            for field in ("data", "binaryData"):
                if isinstance(obj.get(field), dict):
                    _scan(obj[field], f"{prefix}{field}", report)
    for path, template in pod_templates(r):
        annotations = _get(template, "metadata.annotations")
        if path and isinstance(annotations, dict):
            _scan(annotations, f"{path}metadata.annotations", report)
    for path, c in containers(r):
        env = c.get("env")
        for i, var in enumerate(env if isinstance(env, list) else ()):
            if isinstance(var, dict) and isinstance(var.get("name"), str) and "value" in var:
                _scan({var["name"]: var["value"]}, f"{path}.env[{i}]", report)
        for field in ("command", "args"):
            if isinstance(c.get(field), list):
                _scan(c[field], f"{path}.{field}", report)


POLICIES: list[PackPolicy] = [
    resource_policy(SECRETS_AS_FILES, _secrets_as_files),
    resource_policy(NO_CREDENTIALS, _no_credentials),
]
