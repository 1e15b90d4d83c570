"""Azure Key Vault in the access graph: who can read, write, manage or describe each secret.

Secrets: ``azure-native:keyvault:Secret`` (and the classic provider's
``azure:keyvault/secret:Secret``), addressed by their URI
``https://<vault>.vault.azure.net/secrets/<name>`` (the state's ``secretUri`` / ``versionlessId``
when there is one). Principals are Entra ID object ids as granted (``principalId``, an access
policy's ``objectId``). An object id that is a managed identity's (or service principal's) output
is named by that output when the state knows it, else ``<resource type name> <resource name>``
(``UserAssignedIdentity id-live-trader``) at preview; the identity is recorded with its tags.

Every grant is read by the pack's evaluator (``policies/azure/rbac.py``: access policies in every
form, role assignments at every scope, the built-in role table with its provenance, custom role
definitions with ``notActions`` / ``notDataActions``, Azure's wildcards); this module only orders
what it finds into paths, per vault's authorization model:

* ``enableRbacAuthorization: true``: only role assignments count, at the secret, the vault, its
  resource group, the subscription or a management group (inheritance). Data actions:
  ``Microsoft.KeyVault/vaults/secrets/getSecret/action`` = read, ``setSecret/action`` = write,
  ``delete``, ``update``, ``backup``, ``restore``, ``recover`` = manage, ``readMetadata/action``
  = describe. The vault's access policies are ignored.
* false or absent: only access policies count (``get`` = read, ``set`` = write, ``list`` =
  describe, ``delete``/``backup``/``restore``/``recover`` = manage); role assignments grant no
  data access (an ARM read of the secret, ``Microsoft.KeyVault/vaults/secrets/read``, still
  describes it).
* A disabled secret (``attributes.enabled: false``) cannot be read by anybody, whatever is
  granted or could be granted; the rest of what a principal holds stays.
* A vault whose model is unknown at preview, or a secret whose vault is not the stack's, is a gap.

Escalations (``escalation: true``), one allowed step away:

* on an RBAC vault, ``Microsoft.Authorization/roleAssignments/write`` at a scope covering the
  secret (Owner, User Access Administrator, Role Based Access Control Administrator): the
  principal can assign itself Key Vault Secrets Officer there. Contributor-class roles cannot
  (Microsoft: the RBAC model restricts permission management to Owner and User Access
  Administrator);
* on an access-policy vault, ``Microsoft.KeyVault/vaults/write`` or
  ``vaults/accessPolicies/write`` (Contributor, Key Vault Contributor), or
  ``roleAssignments/write`` (it can assign itself those): the principal can write itself an
  access policy.

Not modelled: deny assignments (Azure creates them only for managed applications and
deployment stacks; no provider resource declares one), conditions on role assignments (a
condition never narrows a grant here), Privileged Identity Management eligibility.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Final

from policies.azure.common import (
    ACCESS_POLICY_TYPES,
    ASSIGNMENT_TYPES,
    CLASSIC_SECRET,
    IDENTITY_TYPES,
    NATIVE_SECRET,
    READ,
    ROLE_DEFINITION_TYPES,
    SECRET_TYPES,
    TAG_CATALOG_NAME,
    TAG_REVOKED,
    VAULT_TYPES,
    known,
    tags,
    vault_name,
)
from policies.azure.rbac import Reach, Walk, walk
from policies.azure.rbac_probes import ACCESS_POLICY_WRITE, ROLE_ASSIGNMENT_WRITE, VAULT_WRITE
from policies.contract.access import Action
from policies.framework import Resource
from policies.graph import Grant, Graph, Hop, Identity, Index, SecretNode, register_grapher

STORE: Final = "azure"
_EVERYTHING: Final = frozenset(Action)
_OFFICER: Final = "Key Vault Secrets Officer"
_IDENTITY_KINDS: Final = {
    "UserAssignedIdentity": "managed identity",
    "ServicePrincipal": "service principal",
}


def identity_name(r: Resource) -> str:
    """The principal a managed identity or service principal resource stands for: its object
    id when the state knows it, else ``<resource type name> <name>``."""
    outputs = r.outputs or {}
    for key in ("principalId", "objectId"):
        value = known(outputs.get(key))
        if value is not None:
            return value
    return f"{r.type.rsplit(':', 1)[-1]} {r.name}"


@dataclass
class _Stack:
    walk: Walk
    #: evaluator principal (object id or identity URN) -> graph principal
    names: dict[str, str] = field(default_factory=dict)
    #: graph principal -> the identity resource behind it
    identities: dict[str, Resource] = field(default_factory=dict)
    secrets: dict[str, Resource] = field(default_factory=dict)
    vault_names: dict[str, str] = field(default_factory=dict)


_STACKS: weakref.WeakKeyDictionary[Index, _Stack] = weakref.WeakKeyDictionary()


def _stack(index: Index) -> _Stack:
    known_stack = _STACKS.get(index)
    if known_stack is not None:
        return known_stack
    types = (
        *SECRET_TYPES,
        *VAULT_TYPES,
        *ACCESS_POLICY_TYPES,
        *ASSIGNMENT_TYPES,
        *ROLE_DEFINITION_TYPES,
        *IDENTITY_TYPES,
    )
    stack = _Stack(walk(list(index.of(*types))))
    for r in index.of(*IDENTITY_TYPES):
        name = identity_name(r)
        stack.names[r.urn] = name
        stack.names[name] = name
        stack.identities[name] = r
    stack.secrets = {r.urn: r for r in index.of(*SECRET_TYPES)}
    for r in index.of(*VAULT_TYPES):
        called = vault_name(r)
        if called is not None:
            stack.vault_names[r.urn] = called
    _STACKS[index] = stack
    return stack


def _address(r: Resource, vault: str | None) -> str:
    outputs = r.outputs or {}
    uri = known(outputs.get("properties", {}).get("secretUri")) if r.type == NATIVE_SECRET else None
    uri = uri or known(outputs.get("versionlessId"))
    if uri:
        return uri
    name = known(r.get("secretName" if r.type == NATIVE_SECRET else "name")) or r.name
    if r.type == CLASSIC_SECRET and vault is None:
        return f"{known(r.get('keyVaultId')) or '?'}/secrets/{name}"
    return f"https://{vault or '?'}.vault.azure.net/secrets/{name}"


class AzureGrapher:
    store = STORE
    resource_types: tuple[str, ...] = (
        *SECRET_TYPES,
        *VAULT_TYPES,
        *ACCESS_POLICY_TYPES,
        *ASSIGNMENT_TYPES,
        *ROLE_DEFINITION_TYPES,
        *IDENTITY_TYPES,
    )

    def secrets(self, index: Index, graph: Graph) -> None:
        stack = _stack(index)
        for s in stack.walk.secrets:
            r = stack.secrets[s.urn]
            vault = s.vault.split("/", 1)[1] if s.vault else None
            if r.type == NATIVE_SECRET:
                vault = known(r.get("vaultName")) or vault
            contract = tags(r)
            graph.add_secret(
                SecretNode(
                    s.urn,
                    STORE,
                    _address(r, vault),
                    contract.get(TAG_CATALOG_NAME),
                    contract.get(TAG_REVOKED) == "true",
                )
            )
        for name, r in stack.identities.items():
            kind = _IDENTITY_KINDS.get(r.type.rsplit(":", 1)[-1], "identity")
            graph.add_identity(Identity(name, STORE, kind, r.urn, tags(r)))
        for urn, why in stack.walk.unknown:
            graph.gap(urn, why)

    # ---- grants ----------------------------------------------------------------------------

    def grants(self, index: Index, graph: Graph) -> None:
        stack = _stack(index)
        for reach in stack.walk.reaches:
            vault = reach.vault
            if vault is None or vault.rbac is None:
                if reach.assignment is not None:
                    graph.gap(
                        reach.assignment.urn,
                        f"role assignment {reach.assignment.urn}: the vault (or its "
                        f"authorization model) of {reach.secret.urn} is not known",
                    )
                continue
            granted = self._readable(reach, frozenset(Action(a) for a in reach.actions))
            if granted:
                self._grant(graph, stack, reach, Grant("", granted, self._via(stack, reach)))

    def escalations(self, index: Index, graph: Graph) -> None:
        stack = _stack(index)
        for reach in stack.walk.reaches:
            vault = reach.vault
            if not reach.escalating or vault is None or vault.rbac is None:
                continue  # an unknown vault or model: a gap of the direct grants
            if vault.rbac:
                if ROLE_ASSIGNMENT_WRITE not in reach.escalating:
                    continue
                step = (
                    Hop("permission", ROLE_ASSIGNMENT_WRITE),
                    Hop("assigns itself", _OFFICER),
                )
            else:
                permission = next(
                    (p for p in (VAULT_WRITE, ACCESS_POLICY_WRITE) if p in reach.escalating),
                    ROLE_ASSIGNMENT_WRITE,
                )
                step = (Hop("permission", permission), Hop("writes itself", "an access policy"))
            granted = self._readable(reach, _EVERYTHING)
            via = (*self._via(stack, reach), *step)
            self._grant(graph, stack, reach, Grant("", granted, via, escalation=True))

    # ---- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _readable(reach: Reach, granted: frozenset[Action]) -> frozenset[Action]:
        """Nobody reads a disabled secret's value."""
        return granted if reach.secret.enabled else granted - {Action(READ)}

    def _via(self, stack: _Stack, reach: Reach) -> tuple[Hop, ...]:
        vault = reach.vault
        assert vault is not None
        vault_hop = Hop(
            "RBAC vault" if vault.rbac else "access-policy vault",
            stack.vault_names.get(vault.urn, vault.key or vault.urn),
            vault.urn,
        )
        if reach.entry is not None:
            e = reach.entry
            perms = ", ".join(sorted(e.permissions.get("secrets", frozenset()))) or "none"
            name = e.urn.rsplit("::", 1)[-1] + (f" {e.where}" if e.where else "")
            return (Hop("access policy", name, e.urn), Hop("secret permissions", perms), vault_hop)
        a = reach.assignment
        assert a is not None
        return (
            Hop("role assignment", a.urn.rsplit("::", 1)[-1], a.urn),
            Hop("role", reach.role or "?"),
            Hop("scope", a.scope or "?"),
            vault_hop,
        )

    def _grant(self, graph: Graph, stack: _Stack, reach: Reach, grant: Grant) -> None:
        if not grant.actions or reach.secret.urn not in graph.secrets:
            return
        principal = stack.names.get(reach.principal, reach.principal)
        if principal not in graph.identities:
            kind = "object"
            if reach.assignment is not None and reach.assignment.principal_type:
                kind = reach.assignment.principal_type.lower()
            graph.add_identity(Identity(principal, STORE, kind))
        graph.grant(
            reach.secret.urn,
            Grant(principal, grant.actions, grant.via, grant.escalation),
        )


register_grapher(AzureGrapher())
