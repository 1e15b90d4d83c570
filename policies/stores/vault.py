"""HashiCorp Vault as the stack invariants see it: the KV v2 secrets it holds.

A secret is a ``vault:kv/secretV2:SecretV2`` (its labels in ``customMetadata.data``), addressed as
``<mount>/data/<name>``. Who can read it (policies, logins, Vault's path priority) is the access
graph's answer (``policies/graph/vault.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from policies.contract.vocabulary import (
    TAG_ACCESS_SCOPES,
    TAG_CATALOG_NAME,
    TAG_ENVIRONMENT,
    TAG_HOME_STORE,
    TAG_REVOKED,
    TAG_ROTATION_CLASS,
    TAG_VALUE_SOURCE,
    parse_scopes,
    resource_labels,
)
from policies.framework import Resource
from policies.stores import StoredSecret, register_extractor

SECRET_TYPE = "vault:kv/secretV2:SecretV2"
POLICY_TYPE = "vault:index/policy:Policy"


class VaultExtractor:
    backend = "vault"
    resource_types: tuple[str, ...] = (SECRET_TYPE, POLICY_TYPE)

    def secrets(self, resources: Sequence[Resource]) -> list[StoredSecret]:
        out = []
        for r in resources:
            if r.type != SECRET_TYPE:
                continue
            labels: Mapping[str, Any] = resource_labels({"customMetadata": r.get("customMetadata")})
            mount, name = str(r.get("mount") or ""), str(r.get("name") or r.name)
            out.append(
                StoredSecret(
                    backend=self.backend,
                    urn=r.urn,
                    name=f"{mount}/data/{name}",
                    catalog_name=_str(labels.get(TAG_CATALOG_NAME)),
                    environment=_str(labels.get(TAG_ENVIRONMENT)),
                    scopes=parse_scopes(str(labels.get(TAG_ACCESS_SCOPES) or "")),
                    rotation_class=_str(labels.get(TAG_ROTATION_CLASS)),
                    # Vault KV has no rotation schedule: its class label is the declaration.
                    revoked=labels.get(TAG_REVOKED) == "true",
                    home=_str(labels.get(TAG_HOME_STORE)),
                    value_source=_str(labels.get(TAG_VALUE_SOURCE)),
                    rotated=False,
                )
            )
        return out


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


register_extractor(VaultExtractor())
