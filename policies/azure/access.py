"""Every way access to a Key Vault is granted, judged by what it grants.

* ``azure-keyvault-access-policy-permissions``: access policies in every form (inline in either
  provider's vault, ``azure-native:keyvault:AccessPolicy``, the classic ``AccessPolicy``) grant no
  ``all`` and no ``purge`` to anybody; an application identity (a service principal: an entry
  naming an application, or an object id that flows from a managed identity or service principal
  of the stack) gets no key, certificate or storage permission and nothing on secrets beyond
  ``get`` and ``list`` (the platform's applications only read); a rotation executor's identity
  (``rotatorNames``, house default ``*-secret-rotation``) may also ``set``.
* ``azure-rbac-key-vault-assignments``: a role assignment that reaches Key Vault data (a role
  with secret, key or certificate data actions, or one that can grant itself access: Owner,
  Contributor, User Access Administrator, Key Vault Contributor...) is never made at a
  subscription, management group or resource group scope, and never gives a workload a role that
  manages, purges, escalates or touches keys and certificates (a rotation executor's identity,
  ``rotatorNames``, may manage the one secret an assignment is scoped to). Roles are read from the cited
  built-in table (``policies/azure/rbac.py``) or the stack's custom role definitions; a role the
  pack cannot read is a finding (fail closed).
* ``azure-rbac-custom-role-definitions`` (checkov CKV_AZURE_39): a custom role grants no
  control-plane ``*`` (in any of its permission blocks), no way to grant itself access (role
  assignments, vault writes, access policies) and no purge.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from policies.azure.common import (
    ACCESS_POLICY_TYPES,
    ASSIGNMENT_TYPES,
    DESCRIBE,
    MANAGE,
    ROLE_DEFINITION_TYPES,
    VAULT_TYPES,
    access_policy_entries,
    assignment,
    is_application,
)
from policies.azure.rbac import (
    ABOVE_VAULT,
    BUILT_IN_ROLES,
    OTHER,
    PURGE_SECRET,
    SECRET,
    definition_permissions,
    parse_scope,
    resolve_role,
    role_guid,
)
from policies.framework import (
    PackPolicy,
    Resource,
    Spec,
    matches_any,
    resource_policy,
    stack_policy,
)
from policies.model import Category, Severity
from policies.profile import Profile

APPLICATION_SECRET_PERMISSIONS = frozenset({"get", "list"})
#: What a rotation executor's identity may hold beyond a reader's: it writes new versions.
ROTATOR_SECRET_PERMISSIONS = frozenset({"get", "list", "set"})
ROTATORS = "rotatorNames"
ROTATORS_SCHEMA: dict[str, Any] = {
    "type": "array",
    "items": {"type": "string"},
    "description": "globs of the resource names of managed identities that rotate secrets: they "
    "may write (access policies: set) and, on one secret, manage it (never purge or escalate); "
    "default ['*-secret-rotation'] under the project profile, none otherwise",
}
ROTATOR_HOUSE = (
    "the project's rotation executors are the managed identities named *-secret-rotation "
    "(rotatorNames); universally no identity is a rotator unless configured"
)


def _rotator(sources: Sequence[str], config: Mapping[str, Any]) -> bool:
    """Whether the principal flows from a managed identity the config names a rotator (its
    resource name, the URN's last segment, matches a glob of ``rotatorNames``)."""
    globs = [str(g) for g in config.get(ROTATORS) or ()]
    return bool(globs) and any(matches_any(u.rsplit("::", 1)[-1], globs) for u in sources)


ACCESS_POLICY = Spec(
    id="azure-keyvault-access-policy-permissions",
    profile=Profile.MIXED,
    house=ROTATOR_HOUSE,
    description="Key Vault access policies (inline or stand-alone, either provider) grant no "
    "`all` and no `purge`; applications get no key, certificate or storage permission and at "
    "most get and list on secrets",
    severity=Severity.HIGH,
    category=Category.OVER_PERMISSIVE,
    remediation="Give each identity only the permissions its role needs: readers get, the "
    "Auditor list, Admin get/list/set/delete/recover/backup/restore; purge for nobody (purge "
    "protection keeps deleted secrets); keys and certificates for no application.",
    resource_types=(*VAULT_TYPES, *ACCESS_POLICY_TYPES),
    config={ROTATORS: ROTATORS_SCHEMA},
    profile_defaults={ROTATORS: (["*-secret-rotation"], [])},
)


def _access_policies(
    resources: Sequence[Resource], config: Any, report: Callable[[str, str | None], None]
) -> None:
    types = {r.urn: r.type for r in resources}
    for r in resources:
        for entry in access_policy_entries(r):
            where = f"{entry.where} " if entry.where else ""
            who = entry.object_id or "an identity of the stack"
            for kind, perms in entry.permissions.items():
                if "all" in perms:
                    report(f"{where}grants {who} all {kind} permissions", entry.urn)
                if "purge" in perms:
                    report(
                        f"{where}grants {who} purge on {kind}: nobody purges (purge protection "
                        "keeps deleted objects recoverable)",
                        entry.urn,
                    )
            if not is_application(None, entry.application_id, entry.sources, types):
                continue
            for kind in ("keys", "certificates", "storage"):
                extra = sorted(entry.permissions.get(kind, frozenset()) - {"all", "purge"})
                if extra:
                    report(
                        f"{where}gives an application {kind} permissions ({', '.join(extra)})",
                        entry.urn,
                    )
            allowed = (
                ROTATOR_SECRET_PERMISSIONS
                if _rotator(entry.sources, config)
                else APPLICATION_SECRET_PERMISSIONS
            )
            writes = sorted(
                entry.permissions.get("secrets", frozenset()) - allowed - {"all", "purge"}
            )
            if writes:
                report(
                    f"{where}gives a read-only application secret permissions "
                    f"{', '.join(writes)} (applications get at most get and list)",
                    entry.urn,
                )


ASSIGNMENTS = Spec(
    id="azure-rbac-key-vault-assignments",
    profile=Profile.MIXED,
    house=ROTATOR_HOUSE,
    description="Role assignments reaching Key Vault data are never made at subscription, "
    "management group or resource group scope, and never give a workload a role that manages, "
    "purges, touches keys or certificates, or can grant itself access (Owner, Contributor, Key "
    "Vault Administrator...)",
    severity=Severity.CRITICAL,
    category=Category.OVER_PERMISSIVE,
    remediation="Assign Key Vault Secrets User (readers), Key Vault Reader (metadata) or Key "
    "Vault Secrets Officer (Admin only) with the scope of one secret "
    "(<vault id>/secrets/<name>); keep Owner, Contributor and the Key Vault administrator roles "
    "away from workloads and from broad scopes.",
    resource_types=(*ASSIGNMENT_TYPES, *ROLE_DEFINITION_TYPES),
    config={ROTATORS: ROTATORS_SCHEMA},
    profile_defaults={ROTATORS: (["*-secret-rotation"], [])},
)


def _role_title(role: str | None, name: str | None) -> str:
    guid = role_guid(role)
    if guid is not None and guid in BUILT_IN_ROLES:
        return BUILT_IN_ROLES[guid].name
    return name or role or "a role"


def _assignments(
    resources: Sequence[Resource], config: Any, report: Callable[[str, str | None], None]
) -> None:
    types = {r.urn: r.type for r in resources}
    definitions: Mapping[str, Resource] = {
        r.urn: r for r in resources if r.type in ROLE_DEFINITION_TYPES
    }
    for r in resources:
        if r.type not in ASSIGNMENT_TYPES:
            continue
        a = assignment(r)
        if a.scope is None:
            continue  # unknown at preview: judged when known
        scope = parse_scope(a.scope)
        title = _role_title(a.role, a.role_name)
        perms = resolve_role(a.role, a.role_name, a.role_sources, definitions)
        if perms is None:
            if scope.level != OTHER:
                report(
                    f"{title} at {scope.level} scope cannot be judged: not a built-in role of "
                    "the pack's table nor a custom role of the stack",
                    r.urn,
                )
            continue
        actions, purge = perms.secret_actions()
        # Key and certificate actions cannot apply beneath one secret's scope.
        keys_or_certificates = perms.touches_keys_or_certificates and scope.level != SECRET
        # Metadata alone (Reader's ARM reads) is not Key Vault data.
        reaches = bool(actions - {DESCRIBE}) or purge or perms.escalates or keys_or_certificates
        if not reaches:
            continue
        if scope.level in ABOVE_VAULT:
            report(
                f"{title} is assigned at {scope.level} scope: it reaches every vault and secret "
                "beneath (assign it on one secret)",
                r.urn,
            )
        if is_application(a.principal_type, None, a.principal_sources, types):
            why = []
            if perms.escalates:
                why.append("can grant itself any access")
            # A rotator manages the one secret it rotates (it writes and disables versions).
            if MANAGE in actions and not (
                scope.level == SECRET and _rotator(a.principal_sources, config)
            ):
                why.append("manages secrets")
            if purge:
                why.append("purges secrets")
            if keys_or_certificates:
                why.append("uses keys or certificates")
            if why:
                report(f"{title} given to a workload {' and '.join(why)}", r.urn)


CUSTOM_ROLES = Spec(
    id="azure-rbac-custom-role-definitions",
    description="Custom roles grant no control-plane `*`, no way to grant access (role "
    "assignments, vault writes, access policies) and no secret purge",
    severity=Severity.HIGH,
    category=Category.OVER_PERMISSIVE,
    remediation="List the exact actions and data actions the role needs; use the built-in Key "
    "Vault roles for secrets.",
    resource_types=ROLE_DEFINITION_TYPES,
    checkov=("CKV_AZURE_39",),
)


def _custom_roles(r: Resource, report: Callable[[str], None]) -> None:
    perms, hidden = definition_permissions(r)
    if hidden:
        return
    if "*" in perms.actions:
        report("grants every control-plane action (*)")
    elif perms.escalates:
        report("can grant access (role assignments, vault writes or access policies)")
    if perms.data(PURGE_SECRET):
        report("can purge secrets")


POLICIES: list[PackPolicy] = [
    stack_policy(ACCESS_POLICY, _access_policies),
    stack_policy(ASSIGNMENTS, _assignments),
    resource_policy(CUSTOM_ROLES, _custom_roles),
]
