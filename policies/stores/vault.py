"""HashiCorp Vault as the stack invariants see it: KV v2 secrets and the ACL policies that read them.

A secret is a ``vault:kv/secretV2:SecretV2`` (its labels in ``customMetadata.data``), addressed as
``<mount>/data/<name>``. An identity is an ACL policy (``vault:index/policy:Policy``, by name): it
reads a secret when a rule with ``read`` covers that path and no ``deny`` rule does, read with the
pack's own ACL reader (``policies/vault/acl.py``). A policy text that reader does not fully
understand makes the answer incomplete (the pack's Vault rules report it).
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
from policies.model import UNKNOWN
from policies.stores import Access, StoredSecret, register_extractor
from policies.vault.acl import Document, parse

SECRET_TYPE = "vault:kv/secretV2:SecretV2"
POLICY_TYPE = "vault:index/policy:Policy"


def reads(document: Document, path: str) -> bool:
    """Does the policy let its holder read ``path``? A matching deny wins over any grant."""
    matching = [rule for rule in document.rules if rule.pattern.matches(path)]
    return not any(r.denies for r in matching) and any("read" in r.capabilities for r in matching)


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

    def access(self, resources: Sequence[Resource], secrets: Sequence[StoredSecret]) -> Access:
        mine = [s for s in secrets if s.backend == self.backend]
        access = Access()
        for r in resources:
            if r.type != POLICY_TYPE:
                continue
            text = r.get("policy")
            parsed = parse(text) if isinstance(text, str) and text != UNKNOWN else None
            if parsed is None or not parsed.readable:
                access.complete = False
                continue
            identity = str(r.get("name") or r.name)
            access.grant(identity, {s.urn for s in mine if reads(parsed, s.name)})
        return access


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


register_extractor(VaultExtractor())
