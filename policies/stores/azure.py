"""Azure Key Vault as the stack invariants see it: secrets and who can read them.

A secret is a Key Vault secret of either provider (``azure-native:keyvault:Secret``,
``azure:keyvault/secret:Secret``) carrying the contract's tags as Azure tags (tag values take the
contract's values as they are). A secret counts as rotated when it expires: Key Vault has no
rotation schedule of its own for secrets, its near-expiry event is what drives the rotation.

An identity is an Entra ID object id exactly as granted, or, for an object id that is another
resource's output (a managed identity created in the same stack), that resource's URN. Who can
read what comes from the pack's offline evaluator (``policies/azure/rbac.py``): access policies
in every form, role assignments at every scope, disabled secrets.
"""

from __future__ import annotations

from collections.abc import Sequence

from policies.azure.common import (
    ACCESS_POLICY_TYPES,
    ASSIGNMENT_TYPES,
    NATIVE_SECRET,
    ROLE_DEFINITION_TYPES,
    SECRET_TYPES,
    TAG_ACCESS_SCOPES,
    TAG_CATALOG_NAME,
    TAG_ENVIRONMENT,
    TAG_REVOKED,
    TAG_ROTATION_CLASS,
    VAULT_TYPES,
    known,
    parse_scopes,
    tags,
)
from policies.contract.vocabulary import TAG_HOME_STORE, TAG_VALUE_SOURCE
from policies.framework import Resource
from policies.stores import StoredSecret, register_extractor


def _expires(r: Resource) -> bool:
    value = r.get("properties.attributes.expires" if r.type == NATIVE_SECRET else "expirationDate")
    return value not in (None, "", 0)


class AzureExtractor:
    backend = "azure"
    resource_types: tuple[str, ...] = (
        *SECRET_TYPES,
        *VAULT_TYPES,
        *ACCESS_POLICY_TYPES,
        *ASSIGNMENT_TYPES,
        *ROLE_DEFINITION_TYPES,
    )

    def secrets(self, resources: Sequence[Resource]) -> list[StoredSecret]:
        out = []
        for r in resources:
            if r.type not in SECRET_TYPES:
                continue
            contract = tags(r)
            if r.type == NATIVE_SECRET:
                vault = known(r.get("vaultName")) or "?"
                name = known(r.get("secretName")) or r.name
            else:
                vault = known(r.get("keyVaultId")) or "?"
                name = known(r.get("name")) or r.name
            out.append(
                StoredSecret(
                    backend=self.backend,
                    urn=r.urn,
                    name=f"{vault}/secrets/{name}",
                    catalog_name=contract.get(TAG_CATALOG_NAME),
                    environment=contract.get(TAG_ENVIRONMENT),
                    scopes=parse_scopes(contract.get(TAG_ACCESS_SCOPES, "")),
                    rotation_class=contract.get(TAG_ROTATION_CLASS),
                    revoked=contract.get(TAG_REVOKED) == "true",
                    home=contract.get(TAG_HOME_STORE),
                    value_source=contract.get(TAG_VALUE_SOURCE),
                    rotated=_expires(r),
                )
            )
        return out


register_extractor(AzureExtractor())
