"""``azure-appconfig-local-auth-disabled`` (checkov CKV_AZURE_184): an App Configuration store
accepts Entra ID only, not its access keys (azure-native ``disableLocalAuth: true``; classic
``localAuthEnabled: false``). An access key is a static credential with read-write access to
every key-value, outside role assignments and their audit.
"""

from __future__ import annotations

from collections.abc import Callable

from policies.framework import PackPolicy, Resource, Spec, resource_policy
from policies.lib.shapes import declare, reveal, truthy
from policies.model import UNKNOWN, Category, Severity

NATIVE_STORE = "azure-native:appconfiguration:ConfigurationStore"
CLASSIC_STORE = "azure:appconfiguration/configurationStore:ConfigurationStore"
STORE_TYPES = (NATIVE_STORE, CLASSIC_STORE)
declare((NATIVE_STORE,), "disableLocalAuth")

SPEC = Spec(
    id="azure-appconfig-local-auth-disabled",
    description="App Configuration stores accept Entra ID only: access keys (local auth) are "
    "disabled",
    severity=Severity.HIGH,
    category=Category.OVER_PERMISSIVE,
    remediation="Set disableLocalAuth: true (classic: localAuthEnabled = false) and grant "
    "'App Configuration Data Reader' to the identities that read it.",
    resource_types=STORE_TYPES,
    checkov=("CKV_AZURE_184",),
)


def _check(r: Resource, report: Callable[[str], None]) -> None:
    if r.type == NATIVE_STORE:
        value = reveal(r.props.get("disableLocalAuth"))
        local = value != UNKNOWN and not truthy(value)
    else:
        value = reveal(r.props.get("localAuthEnabled"))
        local = value != UNKNOWN and (value is None or truthy(value))
    if local:
        report("access keys (local auth) are enabled: a static read-write credential to the store")


POLICIES: list[PackPolicy] = [resource_policy(SPEC, _check)]
