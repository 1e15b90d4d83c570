"""``azure-appconfig-public-network-access`` (checkov CKV_AZURE_185): an App Configuration store
does not enable public network access explicitly (``publicNetworkAccess: Enabled``); left unset,
Azure disables it as soon as a private endpoint exists.
"""

from __future__ import annotations

from collections.abc import Callable

from policies.framework import PackPolicy, Resource, Spec, resource_policy
from policies.lib.shapes import declare, reveal
from policies.model import Category, Severity

NATIVE_STORE = "azure-native:appconfiguration:ConfigurationStore"
CLASSIC_STORE = "azure:appconfiguration/configurationStore:ConfigurationStore"
declare((NATIVE_STORE,), "publicNetworkAccess")

SPEC = Spec(
    id="azure-appconfig-public-network-access",
    description="App Configuration stores do not enable public network access",
    severity=Severity.MEDIUM,
    category=Category.PUBLIC_ACCESS,
    remediation="Set publicNetworkAccess: 'Disabled' and reach the store through a private "
    "endpoint.",
    resource_types=(NATIVE_STORE, CLASSIC_STORE),
    checkov=("CKV_AZURE_185",),
)


def _check(r: Resource, report: Callable[[str], None]) -> None:
    value = reveal(r.props.get("publicNetworkAccess"))
    if isinstance(value, str) and value.strip().lower() == "enabled":
        report("publicNetworkAccess is Enabled: the store answers from the internet")


POLICIES: list[PackPolicy] = [resource_policy(SPEC, _check)]
