"""``azure-appconfig-purge-protection`` (checkov CKV_AZURE_187): an App Configuration store has
purge protection (azure-native ``enablePurgeProtection``; classic ``purgeProtectionEnabled``):
a deleted store, with every key-value and Key Vault reference in it, stays recoverable for its
soft-delete retention and cannot be purged at once.
"""

from __future__ import annotations

from collections.abc import Callable

from policies.framework import PackPolicy, Resource, Spec, resource_policy
from policies.lib.shapes import declare, reveal, truthy
from policies.model import UNKNOWN, Category, Severity

NATIVE_STORE = "azure-native:appconfiguration:ConfigurationStore"
CLASSIC_STORE = "azure:appconfiguration/configurationStore:ConfigurationStore"
declare((NATIVE_STORE,), "enablePurgeProtection")

SPEC = Spec(
    id="azure-appconfig-purge-protection",
    description="App Configuration stores have purge protection",
    severity=Severity.MEDIUM,
    category=Category.DELETION_PROTECTION,
    remediation="Set enablePurgeProtection: true (classic: purgeProtectionEnabled = true); needs "
    "the Standard SKU.",
    resource_types=(NATIVE_STORE, CLASSIC_STORE),
    checkov=("CKV_AZURE_187",),
)


def _check(r: Resource, report: Callable[[str], None]) -> None:
    key = "enablePurgeProtection" if r.type == NATIVE_STORE else "purgeProtectionEnabled"
    value = reveal(r.props.get(key))
    if value != UNKNOWN and not truthy(value):
        report(f"{key} is not true: a deleted store can be purged at once")


POLICIES: list[PackPolicy] = [resource_policy(SPEC, _check)]
