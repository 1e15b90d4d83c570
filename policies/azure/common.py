"""What the Azure policies share: resource types, and readers of vaults, secrets, keys, access
policies, role assignments and diagnostic settings in every form the two providers offer.

Pure: no pulumi, no pulumi_policy. Values arrive as the engine hands them to a policy (plain JSON,
unknown values as :data:`~policies.model.UNKNOWN`); readers say what they could not read instead
of guessing, so a check can fail closed.

Forms read (azure-native spells vault settings under ``properties``; the classic provider, like
Terraform's azurerm, flat):

* vaults: ``azure-native:keyvault:Vault``, ``azure:keyvault/keyVault:KeyVault``;
* access policies: inline in either vault (``properties.accessPolicies`` / ``accessPolicies``),
  ``azure-native:keyvault:AccessPolicy`` (``policy``), ``azure:keyvault/accessPolicy:AccessPolicy``;
* role assignments: ``azure-native:authorization:RoleAssignment``,
  ``azure:authorization/assignment:Assignment``; custom roles: ``...:RoleDefinition`` of both;
* diagnostic settings: ``azure-native:monitor:DiagnosticSetting`` (and its older
  ``azure-native:insights:`` token), ``azure:monitoring/diagnosticSetting:DiagnosticSetting``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from policies.contract.access import Action
from policies.contract.rotation import ROTATION_DAYS as CONTRACT_ROTATION_DAYS
from policies.contract.vocabulary import (
    SCOPE_SEPARATOR as SCOPE_SEPARATOR,
)
from policies.contract.vocabulary import (
    TAG_ACCESS_SCOPES as TAG_ACCESS_SCOPES,
)
from policies.contract.vocabulary import (
    TAG_CATALOG_NAME as TAG_CATALOG_NAME,
)
from policies.contract.vocabulary import (
    TAG_ENVIRONMENT as TAG_ENVIRONMENT,
)
from policies.contract.vocabulary import (
    TAG_REVOKED as TAG_REVOKED,
)
from policies.contract.vocabulary import (
    TAG_ROTATION_CLASS as TAG_ROTATION_CLASS,
)
from policies.contract.vocabulary import (
    parse_scopes as parse_scopes,
)
from policies.lib.shapes import declare, falsy, reveal, truthy, unwrap
from policies.model import UNKNOWN

if TYPE_CHECKING:  # no runtime import: this module stays free of pulumi_policy
    from policies.framework import Resource

NATIVE_VAULT = "azure-native:keyvault:Vault"
CLASSIC_VAULT = "azure:keyvault/keyVault:KeyVault"
VAULT_TYPES = (NATIVE_VAULT, CLASSIC_VAULT)
NATIVE_ACCESS_POLICY = "azure-native:keyvault:AccessPolicy"
CLASSIC_ACCESS_POLICY = "azure:keyvault/accessPolicy:AccessPolicy"
ACCESS_POLICY_TYPES = (NATIVE_ACCESS_POLICY, CLASSIC_ACCESS_POLICY)
NATIVE_SECRET = "azure-native:keyvault:Secret"  # pragma: allowlist secret (a type token)
CLASSIC_SECRET = "azure:keyvault/secret:Secret"  # pragma: allowlist secret (a type token)
SECRET_TYPES = (NATIVE_SECRET, CLASSIC_SECRET)
NATIVE_KEY = "azure-native:keyvault:Key"
CLASSIC_KEY = "azure:keyvault/key:Key"
KEY_TYPES = (NATIVE_KEY, CLASSIC_KEY)
NATIVE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
CLASSIC_ASSIGNMENT = "azure:authorization/assignment:Assignment"
ASSIGNMENT_TYPES = (NATIVE_ASSIGNMENT, CLASSIC_ASSIGNMENT)
NATIVE_ROLE_DEFINITION = "azure-native:authorization:RoleDefinition"
CLASSIC_ROLE_DEFINITION = "azure:authorization/roleDefinition:RoleDefinition"
ROLE_DEFINITION_TYPES = (NATIVE_ROLE_DEFINITION, CLASSIC_ROLE_DEFINITION)
DIAGNOSTIC_TYPES = (
    "azure-native:monitor:DiagnosticSetting",
    "azure-native:insights:DiagnosticSetting",
    "azure:monitoring/diagnosticSetting:DiagnosticSetting",
)
#: Resources whose outputs are the object id of an application (a workload identity).
IDENTITY_TYPES = (
    "azure-native:managedidentity:UserAssignedIdentity",
    "azure:authorization/userAssignedIdentity:UserAssignedIdentity",
    "azure-native:authorization:ServicePrincipal",
    "azuread:index/servicePrincipal:ServicePrincipal",
)


#: The access model's actions and the contract's tag keys and rotation periods, as the program
#: defines them.
READ = Action.READ.value
WRITE = Action.WRITE.value
DESCRIBE = Action.DESCRIBE.value
MANAGE = Action.MANAGE.value
ACTIONS = frozenset(a.value for a in Action)
ROTATION_DAYS: dict[str, int] = {str(k): v for k, v in CONTRACT_ROTATION_DAYS.items()}


def known(value: Any) -> str | None:
    """A readable, non-empty string (a secret envelope around it removed); None otherwise."""
    value = reveal(value)
    return value if isinstance(value, str) and value and value != UNKNOWN else None


def vault_props(r: Resource) -> dict[str, Any]:
    """A vault's settings (azure-native: under ``properties``), secret envelopes removed at any
    depth (around ``properties`` itself, a block or a value); what cannot be read is
    :data:`~policies.model.UNKNOWN` where it stands."""
    p = unwrap(r.get("properties")) if r.type == NATIVE_VAULT else unwrap(r.props)
    return p if isinstance(p, dict) else {}


_KINDS_DECLARED = ("secrets", "keys", "certificates", "storage")

#: The vault settings the policies read, as azure-native 3 (and 2) spell them under
#: ``properties`` (inputs and outputs alike); the classic provider's flat names are read too
#: (not declared: pulumi-azure is not installed to check them against).
for _name in (
    "enablePurgeProtection",
    "enableSoftDelete",
    "softDeleteRetentionInDays",
    "enableRbacAuthorization",
    "publicNetworkAccess",
    "accessPolicies",
    "networkAcls.defaultAction",
    "networkAcls.ipRules.value",
):
    declare((NATIVE_VAULT,), f"properties.{_name}")


#: What the access readers take from azure-native's stand-alone access policies and role
#: assignments (inputs and outputs alike; every value may be a secret envelope).
for _name in ("objectId", "applicationId", *(f"permissions.{k}" for k in _KINDS_DECLARED)):
    declare((NATIVE_ACCESS_POLICY,), f"policy.{_name}")
for _name in ("roleDefinitionId", "scope", "principalId", "principalType"):
    declare((NATIVE_ASSIGNMENT,), _name)


def vault_name(r: Resource) -> str | None:
    return known(r.get("vaultName" if r.type == NATIVE_VAULT else "name"))


def rbac_enabled(r: Resource) -> bool | None:
    """Whether a vault authorizes data access with Azure RBAC (access policies then count for
    nothing). None when unknown."""
    props = vault_props(r)
    for key in ("enableRbacAuthorization", "rbacAuthorizationEnabled"):
        value = props.get(key)
        if value == UNKNOWN:
            return None
        if isinstance(value, bool) or truthy(value) or falsy(value):
            return truthy(value)
    return False


@dataclass(frozen=True)
class Entry:
    """One access policy entry: whose it is and the permissions it grants per kind
    (``secrets``, ``keys``, ``certificates``, ``storage``, lower-cased)."""

    where: str
    urn: str
    object_id: str | None
    application_id: str | None
    permissions: Mapping[str, frozenset[str]]
    #: The vault: a vault resource's URN when the entry can be tied to one, else ``rg/name``.
    vault: str | None
    #: Something of the entry is unknown (at preview) or unreadable.
    unknown: bool = False
    #: Resources whose outputs flowed into the entry (to find the identity behind an object id).
    sources: tuple[str, ...] = ()


_KINDS = ("secrets", "keys", "certificates", "storage")
_CLASSIC_KINDS = {
    "secrets": "secretPermissions",  # pragma: allowlist secret (a field name)
    "keys": "keyPermissions",
    "certificates": "certificatePermissions",
    "storage": "storagePermissions",
}


def _perms(value: Any) -> tuple[frozenset[str], bool]:
    value = unwrap(value)  # the list in an envelope, or its entries
    if value is None:
        return frozenset(), False
    if not isinstance(value, list):
        return frozenset(), True
    hidden = any(not isinstance(p, str) or p == UNKNOWN for p in value)
    return frozenset(p.lower() for p in value if isinstance(p, str) and p != UNKNOWN), hidden


def _entry(where: str, r: Resource, raw: Any, vault: str | None, classic: bool) -> Entry:
    raw = unwrap(raw)  # the entry, its permissions block and lists, in envelopes at any depth
    if not isinstance(raw, dict):
        return Entry(where, r.urn, None, None, {}, vault, True)
    perms: dict[str, frozenset[str]] = {}
    hidden = False
    block = raw if classic else raw.get("permissions")
    if not classic and block == UNKNOWN:
        hidden = True
    for kind in _KINDS:
        field = _CLASSIC_KINDS[kind] if classic else kind
        source = block.get(field) if isinstance(block, dict) else None
        perms[kind], h = _perms(source)
        hidden = hidden or h
    object_id = raw.get("objectId")
    return Entry(
        where,
        r.urn,
        known(object_id),
        known(raw.get("applicationId")),
        perms,
        vault,
        hidden or known(object_id) is None,
    )


def vault_key(resource_group: Any, name: Any) -> str | None:
    rg, n = known(resource_group), known(name)
    return f"{rg.lower()}/{n.lower()}" if rg and n else None


_VAULT_ID_RE = re.compile(
    r"/resourceGroups/([^/]+)/providers/Microsoft\.KeyVault/vaults/([^/]+)", re.IGNORECASE
)


def vault_key_of_id(value: Any) -> str | None:
    """``rg/name`` of a vault from an ARM id (or a secret's, a key's...)."""
    text = known(value)
    match = _VAULT_ID_RE.search(text) if text else None
    return f"{match.group(1).lower()}/{match.group(2).lower()}" if match else None


def own_vault_key(r: Resource) -> str | None:
    if r.type == NATIVE_VAULT:
        return vault_key(r.get("resourceGroupName"), r.get("vaultName"))
    return vault_key(r.get("resourceGroupName"), r.get("name"))


def access_policy_entries(r: Resource) -> Iterator[Entry]:
    """Every access policy entry a resource declares (vaults inline, access policy resources)."""
    deps = tuple(u for urns in r.property_dependencies.values() for u in urns)
    if r.type == NATIVE_ACCESS_POLICY:
        vault = vault_key(r.get("resourceGroupName"), r.get("vaultName"))
        policy_deps = tuple(r.property_dependencies.get("policy", ()))
        e = _entry("policy", r, r.get("policy"), vault, classic=False)
        yield Entry(**{**e.__dict__, "sources": policy_deps})
        return
    if r.type == CLASSIC_ACCESS_POLICY:
        vault = vault_key_of_id(r.get("keyVaultId"))
        e = _entry("", r, dict(r.props), vault, classic=True)
        sources = tuple(r.property_dependencies.get("objectId", ()))
        if vault is None:
            sources += tuple(r.property_dependencies.get("keyVaultId", ()))
        yield Entry(**{**e.__dict__, "sources": sources or deps})
        return
    if r.type not in VAULT_TYPES:
        return
    props = vault_props(r)
    policies = props.get("accessPolicies")
    prefix = "properties.accessPolicies" if r.type == NATIVE_VAULT else "accessPolicies"
    if policies == UNKNOWN:
        yield Entry(prefix, r.urn, None, None, {}, r.urn, True)
        return
    for i, raw in enumerate(policies if isinstance(policies, list) else []):
        e = _entry(f"{prefix}[{i}]", r, raw, r.urn, classic=r.type == CLASSIC_VAULT)
        yield Entry(**{**e.__dict__, "sources": deps})


@dataclass(frozen=True)
class Assignment:
    """One role assignment: the role (a definition id or, classic, a name), its scope and its
    principal."""

    urn: str
    role: str | None
    role_name: str | None
    scope: str | None
    principal_id: str | None
    principal_type: str | None
    #: Resources whose outputs flowed into the principal / the role definition.
    principal_sources: tuple[str, ...]
    role_sources: tuple[str, ...]


def assignment(r: Resource) -> Assignment:
    deps = r.property_dependencies
    return Assignment(
        urn=r.urn,
        role=known(r.get("roleDefinitionId")),
        role_name=known(r.get("roleDefinitionName")),
        scope=known(r.get("scope")),
        principal_id=known(r.get("principalId")),
        principal_type=known(r.get("principalType")),
        principal_sources=tuple(deps.get("principalId", ())),
        role_sources=tuple(deps.get("roleDefinitionId", ())),
    )


def is_application(
    principal_type: str | None,
    application_id: str | None,
    sources: Sequence[str],
    types: Mapping[str, str],
) -> bool:
    """An application (workload) identity: a service principal by type, an entry naming an
    application, or an object id that flows from a managed identity or service principal."""
    if principal_type is not None and principal_type.lower() == "serviceprincipal":
        return True
    if application_id is not None:
        return True
    return any(types.get(u) in IDENTITY_TYPES for u in sources)


def tags(r: Resource) -> dict[str, str]:
    value = unwrap(r.get("tags"))
    if not isinstance(value, Mapping):
        return {}
    return {str(k): v for k, v in value.items() if isinstance(v, str) and v != UNKNOWN}
