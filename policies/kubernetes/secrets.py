"""``kubernetes-secret-data-marked-secret``: a Kubernetes Secret declared by Pulumi (the Secret, its
Patch and List forms) carries no plaintext ``data``/``stringData``: every value is a Pulumi secret.

Offline the secret markers are exact. Under the engine secretness is invisible (CrossGuard hands
plain values), so a value must be unknown at preview (an output, e.g. a generated password) or the
field must be listed in ``additionalSecretOutputs``. The project's own Secrets are never declared
here at all: External Secrets materialises them in the cluster (docs/kubernetes.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from policies.framework import PackPolicy, Resource, Spec, resource_policy
from policies.model import UNKNOWN, Category, Severity

SECRET = "kubernetes:core/v1:Secret"  # pragma: allowlist secret
SECRET_TYPES = (SECRET, f"{SECRET}Patch", f"{SECRET}List")

SPEC = Spec(
    id="kubernetes-secret-data-marked-secret",
    description="Kubernetes Secrets declared by Pulumi (Secret, SecretPatch, SecretList) hold no "
    "plaintext data or stringData: each value is a Pulumi secret",
    severity=Severity.CRITICAL,
    category=Category.PLAINTEXT,
    remediation="Let the External Secrets Operator create the Secret from the secret store (an "
    "ExternalSecret); if Pulumi must declare it, pass every value as a Pulumi secret "
    "(pulumi.Output.secret, config.require_secret).",
    resource_types=SECRET_TYPES,
)


def _fields(r: Resource) -> Iterator[tuple[str, Any]]:
    if r.type.endswith("List"):
        items = r.get("items")
        for i, item in enumerate(items if isinstance(items, list) else ()):
            if isinstance(item, dict):
                for field in ("data", "stringData"):
                    yield f"items[{i}].{field}", item.get(field)
        return
    for field in ("data", "stringData"):
        yield field, r.get(field)


def _check(r: Resource, report: Callable[[str], None]) -> None:
    for path, block in _fields(r):
        if block is None or block == UNKNOWN:
            continue
        if not isinstance(block, dict):
            report(f"{path} is not a map of keys to values")
            continue
        for key, value in block.items():
            if value == UNKNOWN or value in ("", None):
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
