"""What Key Vault access policies and Azure role assignments let each principal do to each
secret, read offline from a plan.

Pure: no pulumi, no pulumi_policy. Two parts:

* :data:`BUILT_IN_ROLES`, every built-in role: its control-plane ``actions``/``notActions`` and
  data-plane ``dataActions``/``notDataActions``, as far as they match an action this module asks
  about (``policies/azure/rbac_probes.py``), generated from Microsoft's published role
  definitions (``az role definition list``) by ``scripts/build_role_tables.py`` into
  ``policies/azure/built_in_roles.py`` (provenance in policies/data/SOURCES.md). A role
  assignment writer whose definition's condition lets it assign only roles that reach no vault
  does not escalate. Role definition ids are the same in every subscription. Custom roles
  declared in the stack (``RoleDefinition``) are read from their own permissions.

* :func:`evaluate`, which turns every access policy (every form) and every role assignment into a
  principal x secret x action :class:`Matrix` of the access model's actions (read: getSecret;
  write: setSecret; describe: list / readMetadata / ARM read; manage: delete, update, backup,
  restore, recover), with purge kept apart. Semantics: access policies count only in a vault that
  does not use RBAC, role assignments' data actions only in one that does; whoever may write the
  vault (``vaults/write``: add an access policy, switch the model) or role assignments
  (``roleAssignments/write``) at a scope can grant itself everything there; a disabled secret
  cannot be read by anybody; purge needs a vault without purge protection. Wildcards follow
  Azure's: ``*`` matches any characters, case-insensitively; ``not*`` subtract.

What the evaluator does not know it says (:attr:`Matrix.unknown`) instead of guessing.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from policies.azure.built_in_roles import OTHER_ROLES, ROWS
from policies.azure.common import (
    ACTIONS,
    ASSIGNMENT_TYPES,
    CLASSIC_SECRET,
    DESCRIBE,
    MANAGE,
    NATIVE_SECRET,
    READ,
    ROLE_DEFINITION_TYPES,
    VAULT_TYPES,
    WRITE,
    Assignment,
    Entry,
    access_policy_entries,
    assignment,
    known,
    own_vault_key,
    rbac_enabled,
    vault_key,
    vault_key_of_id,
    vault_props,
)
from policies.azure.rbac_probes import (
    ARM_SECRET_READ,
    ESCALATING_ACTIONS,
    GET_SECRET,
    KEY_AND_CERTIFICATE_ACTIONS,
    MANAGING_DATA,
    READ_METADATA,
    SET_SECRET,
)
from policies.azure.rbac_probes import (
    PURGE_SECRET as PURGE_SECRET,
)
from policies.lib.shapes import blocks, declare, disabled, truthy, unwrap
from policies.model import UNKNOWN

if TYPE_CHECKING:
    from policies.framework import Resource

# ---- data actions and permissions ----------------------------------------------------------------

#: The pseudo action of purging a deleted secret (kept apart from the access model's four).
PURGE: Final = "purge"

#: Access-policy secret permissions -> the access model's actions.
SECRET_PERMISSIONS: Final[Mapping[str, frozenset[str]]] = {
    "get": frozenset({READ, DESCRIBE}),
    "list": frozenset({DESCRIBE}),
    "set": frozenset({WRITE}),
    "delete": frozenset({MANAGE}),
    "backup": frozenset({MANAGE}),
    "restore": frozenset({MANAGE}),
    "recover": frozenset({MANAGE}),
    "purge": frozenset(),
    "all": ACTIONS,
}


def permission_actions(perms: Iterable[str]) -> tuple[frozenset[str], bool, set[str]]:
    """(actions, purge, unknown permission names) of access-policy secret permissions."""
    out: set[str] = set()
    purge = False
    odd: set[str] = set()
    for p in perms:
        p = p.lower()
        if p not in SECRET_PERMISSIONS:
            odd.add(p)
            continue
        out |= SECRET_PERMISSIONS[p]
        purge = purge or p in ("purge", "all")
    return frozenset(out), purge, odd


@functools.lru_cache(maxsize=4096)
def _match(pattern: str, action: str) -> bool:
    return fnmatch.fnmatchcase(action.lower(), pattern.lower())


def allowed(action: str, grants: Sequence[str], denies: Sequence[str] = ()) -> bool:
    """Whether ``grants`` minus ``denies`` (Azure wildcards) include ``action``."""
    return any(_match(g, action) for g in grants) and not any(_match(d, action) for d in denies)


@dataclass(frozen=True)
class Permissions:
    """One role's permissions (a built-in role, or a custom role's first permission block)."""

    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()
    data_actions: tuple[str, ...] = ()
    not_data_actions: tuple[str, ...] = ()

    def data(self, action: str) -> bool:
        return allowed(action, self.data_actions, self.not_data_actions)

    def control(self, action: str) -> bool:
        return allowed(action, self.actions, self.not_actions)

    @property
    def escalates(self) -> bool:
        """Its holder can grant itself any access where it is assigned."""
        return any(self.control(a) for a in ESCALATING_ACTIONS)

    def secret_actions(self) -> tuple[frozenset[str], bool]:
        """(actions on every secret in scope of an RBAC vault, purge)."""
        out: set[str] = set()
        if self.data(GET_SECRET):
            out |= {READ, DESCRIBE}
        if self.data(SET_SECRET):
            out.add(WRITE)
        if self.data(READ_METADATA) or self.control(ARM_SECRET_READ):
            out.add(DESCRIBE)
        if any(self.data(a) for a in MANAGING_DATA):
            out.add(MANAGE)
        return frozenset(out), self.data(PURGE_SECRET)

    @property
    def touches_keys_or_certificates(self) -> bool:
        return any(
            _match(p, probe) for p in self.data_actions for probe in KEY_AND_CERTIFICATE_ACTIONS
        )


@dataclass(frozen=True)
class BuiltIn:
    name: str
    permissions: Permissions


_NOTHING: Final = Permissions()
#: Built-in role definition id (lower-case GUID) -> the role, generated from Azure's published
#: role definitions (``policies/azure/built_in_roles.py``, module docstring).
BUILT_IN_ROLES: Final[Mapping[str, BuiltIn]] = {
    guid: BuiltIn(name, Permissions(acts, nacts, data, ndata))
    for guid, (name, acts, nacts, data, ndata) in ROWS.items()
} | {guid: BuiltIn(name, _NOTHING) for guid, name in OTHER_ROLES.items()}
_BY_NAME: Final = {b.name.lower(): b for b in BUILT_IN_ROLES.values()}
_GUID_RE = re.compile(
    r"([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$"
)


def _strings(value: object) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def definition_permissions(r: Resource) -> tuple[Permissions, bool]:
    """The union of a custom role definition's permission blocks, and whether any part was
    unknown. Secret envelopes around the list, an entry or a list of actions are read through;
    what they hide unreadably (ciphertext, unknown at preview) makes the role hidden."""
    entries = blocks(r.get("permissions"))
    acts: list[str] = []
    nacts: list[str] = []
    data: list[str] = []
    ndata: list[str] = []
    hidden = False
    for entry in entries:
        b = unwrap(entry)
        if not isinstance(b, Mapping):
            hidden = True
            continue
        for key, into in (
            ("actions", acts),
            ("notActions", nacts),
            ("dataActions", data),
            ("notDataActions", ndata),
        ):
            value = b.get(key)
            if value == UNKNOWN:
                hidden = True
            into.extend(_strings(value))
            hidden = hidden or (isinstance(value, list) and UNKNOWN in value)
    return Permissions(tuple(acts), tuple(nacts), tuple(data), tuple(ndata)), hidden


def role_guid(role_id: str | None) -> str | None:
    match = _GUID_RE.search(role_id or "")
    return match.group(1).lower() if match else None


# ---- scopes -------------------------------------------------------------------------------------

ROOT = "root"
MANAGEMENT_GROUP = "management group"
SUBSCRIPTION = "subscription"
RESOURCE_GROUP = "resource group"
VAULT = "vault"
SECRET = "secret"  # pragma: allowlist secret (a level name)
OTHER = "other"
#: Levels above one vault: an assignment there reaches every vault (and secret) beneath.
ABOVE_VAULT: Final = (ROOT, MANAGEMENT_GROUP, SUBSCRIPTION, RESOURCE_GROUP)

_SCOPE_RE = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)"
    r"(?:/resourceGroups/(?P<rg>[^/]+)"
    r"(?:/providers/(?P<provider>[^/]+)/(?P<type>[^/]+)/(?P<name>[^/]+)"
    r"(?:/(?P<child>[^/]+)/(?P<child_name>[^/]+))?(?P<rest>/.*)?)?)?/?$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Scope:
    level: str
    resource_group: str | None = None
    vault: str | None = None
    secret: str | None = None


def parse_scope(scope: str) -> Scope:
    """Where a role assignment applies."""
    text = scope.strip()
    if text in ("", "/"):
        return Scope(ROOT)
    if text.lower().startswith("/providers/microsoft.management/managementgroups/"):
        return Scope(MANAGEMENT_GROUP)
    match = _SCOPE_RE.match(text)
    if match is None:
        return Scope(OTHER)
    rg = match.group("rg")
    if rg is None:
        return Scope(SUBSCRIPTION)
    rg = rg.lower()
    if match.group("provider") is None:
        return Scope(RESOURCE_GROUP, rg)
    if (match.group("provider") or "").lower() != "microsoft.keyvault" or (
        match.group("type") or ""
    ).lower() != "vaults":
        return Scope(OTHER, rg)
    vault = (match.group("name") or "").lower()
    child = (match.group("child") or "").lower()
    if not child:
        return Scope(VAULT, rg, vault)
    if child == "secrets" and not match.group("rest"):
        return Scope(SECRET, rg, vault, (match.group("child_name") or "").lower())
    return Scope(OTHER, rg, vault)


def covers(scope: Scope, secret: Secret) -> bool:
    """Whether an assignment at ``scope`` reaches ``secret`` (the subscription of a secret is not
    among its inputs: an assignment at any subscription is taken to reach it)."""
    if scope.level in (ROOT, MANAGEMENT_GROUP, SUBSCRIPTION):
        return True
    if secret.vault is None:
        return False
    rg, vault = secret.vault.split("/", 1)
    if scope.level == RESOURCE_GROUP:
        return scope.resource_group == rg
    if scope.level == VAULT:
        return (scope.resource_group, scope.vault) == (rg, vault)
    if scope.level == SECRET:
        return (scope.resource_group, scope.vault, scope.secret) == (rg, vault, secret.name)
    return False


# ---- the stack ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Vault:
    urn: str
    key: str | None
    rbac: bool | None
    purge_protected: bool


@dataclass(frozen=True)
class Secret:
    urn: str
    name: str
    #: ``rg/vault`` (lower-case) when known.
    vault: str | None
    enabled: bool


def vaults_of(resources: Sequence[Resource]) -> list[Vault]:
    out = []
    for r in resources:
        if r.type not in VAULT_TYPES:
            continue
        props = vault_props(r)
        protected = props.get("enablePurgeProtection", props.get("purgeProtectionEnabled"))
        out.append(Vault(r.urn, own_vault_key(r), rbac_enabled(r), truthy(protected)))
    return out


SECRET_ENABLED = declare((NATIVE_SECRET,), "properties.attributes.enabled")


def _secret_enabled(r: Resource) -> bool:
    return not disabled(r.props, SECRET_ENABLED if r.type == NATIVE_SECRET else "enabled")


def secrets_of(resources: Sequence[Resource]) -> list[Secret]:
    vault_urns = {r.urn: own_vault_key(r) for r in resources if r.type in VAULT_TYPES}
    out = []
    for r in resources:
        if r.type == NATIVE_SECRET:
            name = known(r.get("secretName")) or r.name
            vault = vault_key(r.get("resourceGroupName"), r.get("vaultName"))
        elif r.type == CLASSIC_SECRET:
            name = known(r.get("name")) or r.name
            vault = vault_key_of_id(r.get("keyVaultId"))
            if vault is None:
                for urn in r.property_dependencies.get("keyVaultId", ()):
                    vault = vault_urns.get(urn) or vault
        else:
            continue
        out.append(Secret(r.urn, name.lower(), vault, _secret_enabled(r)))
    return out


@dataclass
class Matrix:
    """Principal -> secret URN -> actions. A principal is an object id as granted, or the URN of
    the resource (a managed identity) whose output the object id is."""

    direct: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    purge: dict[str, set[str]] = field(default_factory=dict)
    #: Secrets nobody can read whatever is granted (disabled).
    disabled: set[str] = field(default_factory=set)
    unknown: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.unknown

    def grant(self, principal: str, urn: str, actions: Iterable[str], purge: bool) -> None:
        acts = set(actions)
        if acts:
            self.direct.setdefault(principal, {}).setdefault(urn, set()).update(acts)
        if purge:
            self.purge.setdefault(principal, set()).add(urn)

    def effective(self) -> dict[str, dict[str, set[str]]]:
        """What each principal can actually do: no value of a disabled secret is readable."""
        out: dict[str, dict[str, set[str]]] = {}
        for principal, grants in self.direct.items():
            for urn, acts in grants.items():
                left = acts - {READ} if urn in self.disabled else set(acts)
                if left:
                    out.setdefault(principal, {})[urn] = left
        return out


def _principal(object_id: str | None, sources: Sequence[str], identities: set[str]) -> str | None:
    if object_id is not None:
        return object_id
    found = [u for u in sources if u in identities]
    return found[0] if len(found) == 1 else None


@dataclass(frozen=True)
class Reach:
    """What one access policy entry or role assignment gives one principal on one secret,
    read once for every reader of the stack's grants (:func:`evaluate`, the access graph)."""

    principal: str
    secret: Secret
    #: The secret's vault (None: not one of the stack's).
    vault: Vault | None
    #: What it grants directly under the vault's authorization model: an entry's permissions in
    #: a vault without RBAC; an assignment's data actions in an RBAC vault, or ARM's metadata
    #: read in either (an assignment on a vault whose model is not known: nothing).
    actions: frozenset[str]
    purge: bool
    #: The control-plane actions of ``rbac_probes.ESCALATING_ACTIONS`` its role holds at a scope
    #: covering the secret (role assignments only).
    escalating: frozenset[str] = frozenset()
    entry: Entry | None = None
    assignment: Assignment | None = None
    #: The role's name as Azure shows it (role assignments only).
    role: str | None = None


@dataclass
class Walk:
    """Every :class:`Reach` of a stack, and what could not be read."""

    vaults: list[Vault] = field(default_factory=list)
    secrets: list[Secret] = field(default_factory=list)
    reaches: list[Reach] = field(default_factory=list)
    #: (URN or None, what could not be read).
    unknown: list[tuple[str | None, str]] = field(default_factory=list)


def walk(resources: Sequence[Resource]) -> Walk:
    """Every access policy entry (every form) and role assignment of a stack on its secrets."""
    from policies.azure.common import IDENTITY_TYPES

    out = Walk()
    out.vaults = vaults_of(resources)
    by_key = {v.key: v for v in out.vaults if v.key is not None}
    by_urn = {v.urn: v for v in out.vaults}
    out.secrets = secrets_of(resources)
    in_vault: dict[str | None, list[Secret]] = {}
    named: dict[tuple[str | None, str], list[Secret]] = {}
    for s in out.secrets:
        in_vault.setdefault(s.vault, []).append(s)
        named.setdefault((s.vault, s.name), []).append(s)
        if s.vault is None:
            out.unknown.append((s.urn, f"secret {s.urn}: its vault cannot be told"))
    identities = {r.urn for r in resources if r.type in IDENTITY_TYPES}
    definitions = {r.urn: r for r in resources if r.type in ROLE_DEFINITION_TYPES}
    for r in resources:
        for entry in access_policy_entries(r):
            _access_policy(out, entry, in_vault, by_key, by_urn, identities)
        if r.type in ASSIGNMENT_TYPES:
            _assignment(out, r, (in_vault, named), by_key, identities, definitions)
    return out


def evaluate(resources: Sequence[Resource]) -> Matrix:
    """The principal x secret x action matrix of a stack (module docstring)."""
    found = walk(resources)
    matrix = Matrix()
    for s in found.secrets:
        if not s.enabled:
            matrix.disabled.add(s.urn)
    matrix.unknown.extend(why for _, why in found.unknown)
    for reach in found.reaches:
        vault, urn = reach.vault, reach.secret.urn
        if reach.assignment is None:
            matrix.grant(reach.principal, urn, reach.actions, reach.purge)
        elif reach.escalating:
            matrix.grant(reach.principal, urn, ACTIONS, not (vault and vault.purge_protected))
        elif vault is None or vault.rbac is None:
            matrix.unknown.append(
                f"role assignment {reach.assignment.urn}: the vault of {urn} is not known"
            )
        else:
            matrix.grant(reach.principal, urn, reach.actions, reach.purge)
    return matrix


def _access_policy(
    out: Walk,
    entry: Entry,
    in_vault: Mapping[str | None, Sequence[Secret]],
    by_key: Mapping[str, Vault],
    by_urn: Mapping[str, Vault],
    identities: set[str],
) -> None:
    vault = by_urn.get(entry.vault or "") or by_key.get(entry.vault or "")
    if vault is None:
        for u in entry.sources:
            vault = by_urn.get(u) or vault
    if vault is None:
        out.unknown.append(
            (entry.urn, f"access policy {entry.urn} {entry.where}: no vault of the stack")
        )
        return
    if vault.rbac is True:
        return  # a vault authorizing with RBAC ignores its access policies
    principal = _principal(entry.object_id, entry.sources, identities)
    if principal is None or (entry.unknown and entry.object_id is not None):
        out.unknown.append(
            (
                entry.urn,
                f"access policy {entry.urn} {entry.where}: unknown principal or permissions",
            )
        )
        if principal is None:
            return
    actions, purge, odd = permission_actions(entry.permissions.get("secrets", frozenset()))
    if odd:
        out.unknown.append(
            (entry.urn, f"access policy {entry.urn}: unknown permissions {sorted(odd)}")
        )
    if vault.rbac is None:
        out.unknown.append((vault.urn, f"vault {vault.urn}: authorization model unknown"))
    for s in in_vault.get(vault.key, ()):
        out.reaches.append(
            Reach(principal, s, vault, actions, purge and not vault.purge_protected, entry=entry)
        )


def _assignment(
    out: Walk,
    r: Resource,
    secrets: tuple[
        Mapping[str | None, Sequence[Secret]], Mapping[tuple[str | None, str], Sequence[Secret]]
    ],
    by_key: Mapping[str, Vault],
    identities: set[str],
    definitions: Mapping[str, Resource],
) -> None:
    a = assignment(r)
    principal = _principal(a.principal_id, a.principal_sources, identities)
    if principal is None:
        out.unknown.append((a.urn, f"role assignment {a.urn}: unknown principal"))
        return
    perms = resolve_role(a.role, a.role_name, a.role_sources, definitions)
    if perms is None:
        out.unknown.append(
            (a.urn, f"role assignment {a.urn}: role {a.role or a.role_name} not known")
        )
        return
    if a.scope is None:
        out.unknown.append((a.urn, f"role assignment {a.urn}: unknown scope"))
        return
    scope = parse_scope(a.scope)
    actions, purge = perms.secret_actions()
    escalating = frozenset(x for x in ESCALATING_ACTIONS if perms.control(x))
    role = role_name(a.role, a.role_name, definitions)
    for s in _candidates(scope, *secrets):
        if not covers(scope, s):
            continue
        vault = by_key.get(s.vault) if s.vault is not None else None
        # Data actions count only where the vault uses RBAC; ARM metadata reads everywhere.
        if vault is None or vault.rbac is None:
            granted: frozenset[str] = frozenset()
        elif vault.rbac:
            granted = actions
        elif perms.control(ARM_SECRET_READ):
            granted = frozenset({DESCRIBE})
        else:
            granted = frozenset()
        out.reaches.append(
            Reach(
                principal,
                s,
                vault,
                granted,
                bool(purge and vault and vault.rbac and not vault.purge_protected),
                escalating,
                assignment=a,
                role=role,
            )
        )


def _candidates(
    scope: Scope,
    in_vault: Mapping[str | None, Sequence[Secret]],
    named: Mapping[tuple[str | None, str], Sequence[Secret]],
) -> Iterator[Secret]:
    """The secrets an assignment at ``scope`` may cover, looked up by vault (not every secret of
    the stack for an assignment on one secret or vault)."""
    if scope.level in (ROOT, MANAGEMENT_GROUP, SUBSCRIPTION):
        for secrets in in_vault.values():
            yield from secrets
    elif scope.level == VAULT:
        yield from in_vault.get(f"{scope.resource_group}/{scope.vault}", ())
    elif scope.level == SECRET:
        yield from named.get((f"{scope.resource_group}/{scope.vault}", scope.secret or ""), ())
    elif scope.level == RESOURCE_GROUP:
        for key, secrets in in_vault.items():
            if key is not None and key.split("/", 1)[0] == scope.resource_group:
                yield from secrets


def role_name(
    role_id: str | None, role_name: str | None, definitions: Mapping[str, Resource]
) -> str | None:
    """How Azure names a role: a built-in role's name, a custom role's ``roleName``, else the
    name or id the assignment gives."""
    guid = role_guid(role_id)
    if guid is not None and guid in BUILT_IN_ROLES:
        return BUILT_IN_ROLES[guid].name
    for r in definitions.values():
        own = role_guid(known(r.get("roleDefinitionId")) or known(r.get("name")))
        if guid is not None and own == guid:
            return known(r.get("roleName")) or role_id
    return role_name or role_id


def resolve_role(
    role_id: str | None,
    role_name: str | None,
    sources: Sequence[str],
    definitions: Mapping[str, Resource],
) -> Permissions | None:
    """A role's permissions: a built-in role by id or (classic) name, or a custom role defined in
    the stack (by its id or by the resource its id flows from). None: not known."""
    guid = role_guid(role_id)
    if guid is not None and guid in BUILT_IN_ROLES:
        return BUILT_IN_ROLES[guid].permissions
    if role_id is None and role_name is not None and role_name.lower() in _BY_NAME:
        return _BY_NAME[role_name.lower()].permissions
    for r in definitions.values():
        own = role_guid(known(r.get("roleDefinitionId")) or known(r.get("name")))
        if (
            (guid is not None and own == guid)
            or r.urn in sources
            or (role_name is not None and known(r.get("roleName")) == role_name)
        ):
            perms, hidden = definition_permissions(r)
            return None if hidden else perms
    return None
