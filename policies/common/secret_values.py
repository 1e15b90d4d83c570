"""Fields that exist to hold secrets must carry secret-marked values, in every backend.

Offline the exact secret markers are known. Under the engine CrossGuard cannot see secretness
(pulumi/pulumi-policy: policies receive plain values), so the value must be unknown at preview
(it comes from a resource output, e.g. a generated password) or the field must be listed in
``additionalSecretOutputs``. azure-native does not mark Key Vault secret values secret by itself:
a program must add ``additional_secret_outputs=["properties"]`` or this policy fails.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from policies.framework import PackPolicy, Resource, Spec, resource_policy
from policies.lib.shapes import SECRET_SIG, SIG_KEY, reveal, setting
from policies.model import UNKNOWN, Category, Severity

#: resource type -> input paths that hold the secret value
SECRET_VALUE_FIELDS: Mapping[str, tuple[str, ...]] = {
    "aws:secretsmanager/secretVersion:SecretVersion": ("secretString", "secretBinary"),
    "aws:ssm/parameter:Parameter": ("value",),
    "gcp:secretmanager/secretVersion:SecretVersion": ("secretData",),
    "azure-native:keyvault:Secret": ("properties.value",),
    "azure:keyvault/secret:Secret": ("value",),
    # pulumi-vault 7: ``dataJsonWo`` is the write-only form (never stored, still sent in clear)
    "vault:kv/secretV2:SecretV2": ("dataJson", "dataJsonWo"),
    "vault:kv/secret:Secret": ("dataJson",),
    "vault:generic/secret:Secret": ("dataJson",),
    "kubernetes:core/v1:Secret": ("data", "stringData"),
}

SPEC = Spec(
    id="all-secret-values-marked-secret",
    description="Values of secret-holding fields (Secrets Manager, SSM SecureString, GCP Secret "
    "Manager, Key Vault, Vault KV, Kubernetes Secrets) are Pulumi secrets",
    severity=Severity.CRITICAL,
    category=Category.PLAINTEXT,
    remediation="Pass the value as a Pulumi secret (pulumi.Output.secret, config.require_secret, a "
    "pulumi-random output) and list the field in additional_secret_outputs where the provider "
    "does not mark it (azure-native Key Vault: additional_secret_outputs=['properties']).",
    resource_types=tuple(SECRET_VALUE_FIELDS),
)


def is_envelope(value: Any) -> bool:
    """A Pulumi secret envelope (readable or not)."""
    return isinstance(value, Mapping) and value.get(SIG_KEY) == SECRET_SIG


def _covered_by_additional_secret_outputs(r: Resource, path: str) -> bool:
    top = path.split(".", 1)[0]
    return top in r.additional_secret_outputs or path in r.additional_secret_outputs


def secret_value_paths(r: Resource) -> tuple[str, ...]:
    """The fields of ``r`` that hold a secret by design (judged here, not by the plaintext scan).
    A plain SSM ``String`` parameter has none: its value is judged like any other input."""
    if r.type == "aws:ssm/parameter:Parameter" and setting(r.props, "type") not in (
        "SecureString",
        UNKNOWN,
    ):
        return ()
    return SECRET_VALUE_FIELDS.get(r.type, ())


def _along(props: Mapping[str, Any], path: str) -> tuple[bool, Any]:
    """(whether a secret envelope lies on ``path``, the value there with envelopes removed)."""
    node: Any = props
    enveloped = False
    for part in path.split("."):
        if is_envelope(node):
            enveloped, node = True, reveal(node)
        node = node.get(part) if isinstance(node, Mapping) else None
    if is_envelope(node):
        enveloped, node = True, reveal(node)
    return enveloped, node


def _check(r: Resource, report: Callable[[str], None]) -> None:
    for path in secret_value_paths(r):
        enveloped, value = _along(r.props, path)
        if enveloped or value is None or value == UNKNOWN or value == {} or value == "":
            continue  # a Pulumi secret envelope on the path marks the value (the engine's form)
        marked = r.is_secret(path)  # None under the engine: secretness is invisible there
        if marked is None and _covered_by_additional_secret_outputs(r, path):
            continue
        if not marked:
            report(
                f"{path} holds a value that is not marked secret (a Pulumi secret, unknown at "
                "preview, or listed in additionalSecretOutputs): it would be stored in plaintext"
            )


POLICIES: list[PackPolicy] = [resource_policy(SPEC, _check)]
