"""Key Vaults themselves: recoverable, behind a firewall, private in production.

* ``azure-keyvault-recoverable``: purge protection on, soft delete not disabled, deleted objects
  kept at least ``minimumRetentionDays`` in production (Key Vault allows 7-90).
* ``azure-keyvault-network-acls``: ``networkAcls.defaultAction`` is ``Deny`` and no IP rule
  admits more than a /8 (``0.0.0.0/0`` is the internet, whatever the default says).
* ``azure-keyvault-public-network-access``: production vaults disable public network access
  (private endpoints only).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

from policies.azure.common import CLASSIC_VAULT, NATIVE_VAULT, VAULT_TYPES, vault_props
from policies.framework import (
    PRODUCTION_ENVIRONMENTS_KEY,
    PRODUCTION_ENVIRONMENTS_SCHEMA,
    PackPolicy,
    Resource,
    Spec,
    number,
    resource_policy,
)
from policies.lib.shapes import blocks, falsy, truthy, verdict
from policies.model import UNKNOWN, Category, Severity

RECOVERABLE = Spec(
    id="azure-keyvault-recoverable",
    description="Key Vaults have purge protection and soft delete, keeping deleted secrets at "
    "least minimumRetentionDays (production)",
    severity=Severity.HIGH,
    category=Category.DELETION_PROTECTION,
    remediation="Set enablePurgeProtection (classic: purgeProtectionEnabled) to true, leave soft "
    "delete on and set softDeleteRetentionInDays (classic: softDeleteRetentionDays) to 90.",
    resource_types=VAULT_TYPES,
    checkov=("CKV_AZURE_42", "CKV_AZURE_110", "CKV_AZURE_111"),
    config={
        "minimumRetentionDays": {
            "type": "integer",
            "minimum": 7,
            "maximum": 90,
            "default": 90,
            "description": "least soft delete retention of production vaults (days)",
        },
        PRODUCTION_ENVIRONMENTS_KEY: dict(PRODUCTION_ENVIRONMENTS_SCHEMA),
    },
)


def _recoverable(r: Resource, report: Callable[[str], None]) -> None:
    props = vault_props(r)
    key = "enablePurgeProtection" if r.type == NATIVE_VAULT else "purgeProtectionEnabled"
    if verdict([props.get(key)], truthy) is False:
        report(f"{key} is not true: a deleted secret could be purged at once")
    if falsy(props.get("enableSoftDelete")):
        report("enableSoftDelete is false: deleted secrets are gone at once")
    retention_key = (
        "softDeleteRetentionInDays" if r.type == NATIVE_VAULT else "softDeleteRetentionDays"
    )
    raw = props.get(retention_key)
    if raw == UNKNOWN or not r.in_production():
        return
    days = 90.0 if raw is None else number(raw)  # Key Vault's default is 90
    minimum = int(r.config.get("minimumRetentionDays") or 90)
    if days is None or days < minimum:
        report(f"{retention_key} is {raw!r}: production keeps deleted secrets {minimum} days")


NETWORK = Spec(
    id="azure-keyvault-network-acls",
    description="Key Vault firewalls deny by default and admit no IP range wider than a /8 "
    "(never 0.0.0.0/0)",
    severity=Severity.HIGH,
    category=Category.NETWORK,
    remediation="Set networkAcls.defaultAction to Deny and list only the workloads' subnets "
    "(virtualNetworkRules) and the few public ranges that need the vault (ipRules).",
    resource_types=VAULT_TYPES,
    checkov=("CKV_AZURE_109",),
)


def _rules(acls: dict[str, Any], classic: bool) -> list[Any]:
    rules = blocks(acls.get("ipRules"))
    if classic:
        return rules
    return [rule.get("value") if isinstance(rule, dict) else rule for rule in rules]


def _network(r: Resource, report: Callable[[str], None]) -> None:
    found = blocks(vault_props(r).get("networkAcls"))  # the classic block: maxItems 1
    if UNKNOWN in found:
        return
    acls = found[0] if found else None
    if not isinstance(acls, dict):
        report("no networkAcls: Key Vault admits every network by default")
        return
    action = acls.get("defaultAction")
    if action != UNKNOWN and str(action).lower() != "deny":
        report(f"networkAcls.defaultAction is {action!r}, not Deny")
    for i, rule in enumerate(_rules(acls, r.type == CLASSIC_VAULT)):
        if not isinstance(rule, str) or rule == UNKNOWN:
            continue
        try:
            network = ipaddress.ip_network(rule.strip(), strict=False)
        except ValueError:
            report(f"networkAcls.ipRules[{i}] is not an IP range")
            continue
        if network.prefixlen < (8 if network.version == 4 else 32):
            report(
                f"networkAcls.ipRules[{i}] admits {network} ({network.num_addresses} addresses): "
                "the internet, not a network of the platform"
            )


PUBLIC = Spec(
    id="azure-keyvault-public-network-access",
    description="Production Key Vaults disable public network access (private endpoints only)",
    severity=Severity.HIGH,
    category=Category.PUBLIC_ACCESS,
    remediation="Set publicNetworkAccess to Disabled (classic: publicNetworkAccessEnabled false) "
    "and reach the vault through a private endpoint.",
    resource_types=VAULT_TYPES,
    checkov=("CKV_AZURE_189",),
    config={PRODUCTION_ENVIRONMENTS_KEY: dict(PRODUCTION_ENVIRONMENTS_SCHEMA)},
)


def _public(r: Resource, report: Callable[[str], None]) -> None:
    if not r.in_production():
        return
    props = vault_props(r)
    if r.type == NATIVE_VAULT:
        value = props.get("publicNetworkAccess")
        if value != UNKNOWN and str(value).lower() != "disabled":
            report(f"publicNetworkAccess is {value!r} in production, not Disabled")
    else:
        value = props.get("publicNetworkAccessEnabled")
        if value != UNKNOWN and not falsy(value):
            report("publicNetworkAccessEnabled is not false in production")


POLICIES: list[PackPolicy] = [
    resource_policy(RECOVERABLE, _recoverable),
    resource_policy(NETWORK, _network),
    resource_policy(PUBLIC, _public),
]
