"""``kubernetes-secret-data-marked-secret``: a Kubernetes Secret declared by Pulumi (the Secret, its
Patch and List forms) carries no plaintext ``data``/``stringData``: every value is a Pulumi secret.

Offline the secret markers are exact. Under the engine secretness is invisible (CrossGuard hands
plain values), so a value must be unknown at preview (an output, e.g. a generated password) or the
field must be listed in ``additionalSecretOutputs``. The project's own Secrets are never declared
here at all: External Secrets materialises them in the cluster (docs/kubernetes.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from policies.framework import PackPolicy, Resource, Spec, resource_policy
from policies.lib.shapes import SECRET_SIG, SIG_KEY, blocks, reveal
from policies.model import UNKNOWN, Category, Severity

SECRET = "kubernetes:core/v1:Secret"  # pragma: allowlist secret
SECRET_TYPES = (SECRET, f"{SECRET}Patch", f"{SECRET}List")
#: ``yaml/v2``'s ConfigGroup: the Secrets among its ``objs``
CONFIG_GROUP = "kubernetes:yaml/v2:ConfigGroup"

SPEC = Spec(
    id="kubernetes-secret-data-marked-secret",
    description="Kubernetes Secrets declared by Pulumi (Secret, SecretPatch, SecretList) hold no "
    "plaintext data or stringData: each value is a Pulumi secret",
    severity=Severity.CRITICAL,
    category=Category.PLAINTEXT,
    remediation="Let the External Secrets Operator create the Secret from the secret store (an "
    "ExternalSecret); if Pulumi must declare it, pass every value as a Pulumi secret "
    "(pulumi.Output.secret, config.require_secret).",
    resource_types=(*SECRET_TYPES, CONFIG_GROUP),
)


def is_envelope(value: Any) -> bool:
    """A Pulumi secret envelope (readable or not): the value it stands for is marked secret."""
    return isinstance(value, Mapping) and value.get(SIG_KEY) == SECRET_SIG


def _objects(r: Resource) -> Iterator[tuple[str, Any]]:
    """``(path prefix, object)`` of each Secret ``r`` declares, envelopes around whole objects
    removed (an enveloped value inside stays: it is what marks the value secret)."""
    if r.type == CONFIG_GROUP:
        objs = r.get("objs")
        if is_envelope(objs):
            return  # every object a Pulumi secret
        for i, obj in enumerate(objs if isinstance(objs, list) else []):
            if isinstance(obj, Mapping) and obj.get("kind") == "Secret":
                yield f"objs[{i}].", obj
        return
    if r.type.endswith("List"):
        for i, item in enumerate(blocks(r.get("items"))):
            if isinstance(item, Mapping):
                yield f"items[{i}].", item
        return
    yield "", r.props


def _fields(r: Resource) -> Iterator[tuple[str, Any]]:
    for prefix, obj in _objects(r):
        for field in ("data", "stringData"):
            yield f"{prefix}{field}", obj.get(field)


def _check(r: Resource, report: Callable[[str], None]) -> None:
    for path, raw in _fields(r):
        if raw is None or raw == UNKNOWN or is_envelope(raw):
            continue  # absent, unknown at preview, or the whole map a Pulumi secret
        block = reveal(raw)
        if block == UNKNOWN:
            continue
        if not isinstance(block, Mapping):
            report(f"{path} is not a map of keys to values")
            continue
        for key, value in block.items():
            if value == UNKNOWN or value in ("", None) or is_envelope(value):
                continue
            at = f"{path}.{key}"
            marked = r.is_secret(at)
            if marked:
                continue
            top = path.split(".", 1)[0].split("[", 1)[0]
            if marked is None and top in r.additional_secret_outputs:
                continue
            report(f"{at} is plaintext (not a Pulumi secret)")


POLICIES: list[PackPolicy] = [resource_policy(SPEC, _check)]
