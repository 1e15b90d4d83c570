"""``azure-appconfig-cmk`` (checkov CKV_AZURE_186): an App Configuration store encrypts its
key-values with a customer-managed Key Vault key (azure-native
``encryption.keyVaultProperties.keyIdentifier``; classic ``encryption.keyVaultKeyIdentifier``),
so revoking the key (or the store identity's access to it) makes the data unreadable.
"""

from __future__ import annotations

from collections.abc import Callable

from policies.framework import PackPolicy, Resource, Spec, resource_policy
from policies.lib.shapes import OPAQUE, declare, pick, reveal
from policies.model import UNKNOWN, Category, Severity

NATIVE_STORE = "azure-native:appconfiguration:ConfigurationStore"
CLASSIC_STORE = "azure:appconfiguration/configurationStore:ConfigurationStore"
_NATIVE_KEY = declare((NATIVE_STORE,), "encryption.keyVaultProperties.keyIdentifier")
_CLASSIC_KEY = "encryption|encryptions.keyVaultKeyIdentifier"

SPEC = Spec(
    id="azure-appconfig-cmk",
    description="App Configuration stores encrypt key-values with a customer-managed Key Vault key",
    severity=Severity.MEDIUM,
    category=Category.ENCRYPTION,
    remediation="Give the store a managed identity with 'Key Vault Crypto Service Encryption "
    "User' on a key and set encryption.keyVaultProperties = {keyIdentifier, identityClientId} "
    "(classic: encryption.keyVaultKeyIdentifier); needs the Standard SKU.",
    resource_types=(NATIVE_STORE, CLASSIC_STORE),
    checkov=("CKV_AZURE_186",),
)


def _check(r: Resource, report: Callable[[str], None]) -> None:
    path = _NATIVE_KEY if r.type == NATIVE_STORE else _CLASSIC_KEY
    keys = [reveal(v) for v in pick(r.props, path)]
    if any(k == UNKNOWN or k in OPAQUE for k in keys):
        return
    if not any(isinstance(k, str) and k for k in keys):
        report("no customer-managed key encrypts the store (encryption key identifier unset)")


POLICIES: list[PackPolicy] = [resource_policy(SPEC, _check)]
