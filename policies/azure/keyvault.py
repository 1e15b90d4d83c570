"""Azure Key Vault: applications get no more than get/list on secrets; purge protection; network ACLs.

Covers azure-native (``azure-native:keyvault:Vault``, properties under ``properties``) and the
classic provider (``azure:keyvault/keyVault:KeyVault``, ``azure:keyvault/accessPolicy:AccessPolicy``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from policies.framework import PackPolicy, Resource, Spec, resource_policy
from policies.model import UNKNOWN, Category, Severity

NATIVE = "azure-native:keyvault:Vault"
CLASSIC = "azure:keyvault/keyVault:KeyVault"
CLASSIC_POLICY = "azure:keyvault/accessPolicy:AccessPolicy"
APP_SECRET_PERMISSIONS = frozenset({"get", "list"})


def _props(r: Resource) -> dict[str, Any]:
    if r.type == NATIVE:
        p = r.get("properties")
        return p if isinstance(p, dict) else {}
    return dict(r.props)


def access_policies(r: Resource) -> Iterator[tuple[str, str, list[str]]]:
    """(path, objectId, secret permissions) of every access policy of a vault."""
    if r.type == CLASSIC_POLICY:
        yield "", str(r.get("objectId")), [str(p) for p in r.get("secretPermissions") or []]
        return
    props = _props(r)
    for i, ap in enumerate(props.get("accessPolicies") or []):
        if not isinstance(ap, dict):
            continue
        if r.type == NATIVE:
            perms = (ap.get("permissions") or {}).get("secrets") or []
            yield (
                f"properties.accessPolicies[{i}]",
                str(ap.get("objectId")),
                [str(p) for p in perms],
            )
        else:
            yield (
                f"accessPolicies[{i}]",
                str(ap.get("objectId")),
                [str(p) for p in ap.get("secretPermissions") or []],
            )


ACCESS = Spec(
    id="azure-keyvault-app-secret-permissions",
    description="Key Vault access policies give applications at most get and list on secrets",
    severity=Severity.HIGH,
    category=Category.OVER_PERMISSIVE,
    remediation="Grant applications get (and list if needed); keep set/delete/purge/backup/restore "
    "for the admin group listed in adminObjectIds. Prefer RBAC (Key Vault Secrets User).",
    resource_types=(NATIVE, CLASSIC, CLASSIC_POLICY),
    config={
        "adminObjectIds": {
            "type": "array",
            "items": {"type": "string"},
            "default": [],
            "description": "object ids of administrators allowed full secret permissions",
        }
    },
)


def _access(r: Resource, report: Callable[[str], None]) -> None:
    admins = set(r.config.get("adminObjectIds") or [])
    for where, object_id, perms in access_policies(r):
        if object_id in admins:
            continue
        extra = sorted({p.lower() for p in perms if p != UNKNOWN} - APP_SECRET_PERMISSIONS)
        if extra:
            report(
                f"{where or 'access policy'} ({object_id}) has secret permissions {', '.join(extra)}"
            )


PURGE = Spec(
    id="azure-keyvault-purge-protection",
    description="Key Vaults have purge protection (deleted secrets cannot be purged before retention ends)",
    severity=Severity.HIGH,
    category=Category.DELETION_PROTECTION,
    remediation="Set enablePurgeProtection (azure-native) / purgeProtectionEnabled (classic) to true.",
    resource_types=(NATIVE, CLASSIC),
    checkov=("CKV_AZURE_110", "CKV_AZURE_42"),
)


def _purge(r: Resource, report: Callable[[str], None]) -> None:
    props = _props(r)
    key = "enablePurgeProtection" if r.type == NATIVE else "purgeProtectionEnabled"
    if props.get(key) not in (True, UNKNOWN):
        report(f"{key} is not true")


NETWORK = Spec(
    id="azure-keyvault-network-acls",
    description="Key Vault network ACLs deny by default",
    severity=Severity.MEDIUM,
    category=Category.NETWORK,
    remediation="Set networkAcls.defaultAction to Deny and allow the workloads' subnets or private endpoints.",
    resource_types=(NATIVE, CLASSIC),
    checkov=("CKV_AZURE_109",),
)


def _network(r: Resource, report: Callable[[str], None]) -> None:
    acls = _props(r).get("networkAcls")
    action = acls.get("defaultAction") if isinstance(acls, dict) else None
    if acls == UNKNOWN or action == UNKNOWN:
        return
    if str(action).lower() != "deny":
        report(f"networkAcls.defaultAction is {action!r}, not Deny")


POLICIES: list[PackPolicy] = [
    resource_policy(ACCESS, _access),
    resource_policy(PURGE, _purge),
    resource_policy(NETWORK, _network),
]
