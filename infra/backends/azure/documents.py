"""Names, resource ids and grants of the Azure estate: pure functions of the estate and the
settings block.

Layout, per environment:

* access-policy model: one vault per access partition, ``<prefix>-<partition>``. Access policies
  cannot be narrower than a vault, so every secret of one vault must be granted to the same roles
  in the same way: secrets are grouped by their grants (from the estate, never recomputed), and
  each group is named after the scope its secrets share (``paper`` for test/paper, ``live``,
  ``admin``). One access policy per identity per vault.
* RBAC model: one vault ``<prefix>-secrets``; built-in role assignments scoped to one secret each.

Every id is known before anything exists (built from the subscription, resource group and names),
so grants, diagnostics and Event Grid topics name each other without cycles, and the pack can
link them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from infra.access import Action, RoleName
from infra.backends.azure.settings import ACCESS_POLICIES, AzureSettings
from infra.catalog import RotationClass, Scope
from infra.estate import Estate, StoredSecret

RBAC_PARTITION: Final = "secrets"
#: Days before expiry Key Vault publishes ``SecretNearExpiry`` / ``KeyNearExpiry`` (fixed by
#: the service), and before which a key's rotation policy notifies.
NEAR_EXPIRY_DAYS: Final = 30
NEAR_EXPIRY_EVENT: Final = "Microsoft.KeyVault.SecretNearExpiry"
EXPIRY_EVENTS: Final = (
    "Microsoft.KeyVault.SecretNearExpiry",
    "Microsoft.KeyVault.SecretExpired",
    "Microsoft.KeyVault.KeyNearExpiry",
    "Microsoft.KeyVault.KeyExpired",
)
#: Audience of AKS workload identity tokens exchanged for Entra ID tokens.
TOKEN_EXCHANGE_AUDIENCE: Final = "api://AzureADTokenExchange"  # noqa: S105 (an audience)
AUDIT_CATEGORY: Final = "AuditEvent"

# Built-in role definition ids (https://learn.microsoft.com/azure/role-based-access-control/
# built-in-roles/security): the ids are the same in every subscription.
SECRETS_USER: Final = "4633458b-17de-408a-b874-0445c86b69e6"
SECRETS_OFFICER: Final = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"
KEY_VAULT_READER: Final = "21090545-7ca7-4776-b22c-e363652d74d2"
ROLE_TITLES: Final[Mapping[str, str]] = {
    SECRETS_USER: "secrets-user",  # pragma: allowlist secret (a role title)
    SECRETS_OFFICER: "secrets-officer",  # pragma: allowlist secret (a role title)
    KEY_VAULT_READER: "reader",
}

#: Access-policy secret permissions per access-model action (Key Vault's permission names).
READER_PERMISSIONS: Final = ("get",)
WRITER_PERMISSIONS: Final = ("set",)
MANAGER_PERMISSIONS: Final = ("get", "list", "set", "delete", "recover", "backup", "restore")
DESCRIBER_PERMISSIONS: Final = ("list",)
#: Key permissions of a manager (Admin) in a vault holding keys; applications get none.
KEY_MANAGER_PERMISSIONS: Final = (
    "get",
    "list",
    "create",
    "update",
    "rotate",
    "getrotationpolicy",
    "setrotationpolicy",
    "recover",
    "backup",
    "restore",
)

_PARTITION_OF_SCOPE: Final = {
    Scope.ADMIN: "admin",
    Scope.LIVE: "live",
    Scope.PAPER: "paper",
    Scope.TEST: "paper",
}


def resource_group_id(settings: AzureSettings) -> str:
    return f"/subscriptions/{settings.subscription_id}/resourceGroups/{settings.resource_group}"


def vault_name(settings: AzureSettings, partition: str) -> str:
    return f"{settings.vault_prefix}-{partition}"


def vault_id(settings: AzureSettings, partition: str) -> str:
    return (
        f"{resource_group_id(settings)}/providers/Microsoft.KeyVault/vaults/"
        f"{vault_name(settings, partition)}"
    )


def vault_uri(settings: AzureSettings, partition: str) -> str:
    return f"https://{vault_name(settings, partition)}.vault.azure.net/"


def secret_name(secret: StoredSecret) -> str:
    """Key Vault secret names: alphanumerics and dashes (the catalog's kebab name)."""
    return secret.entry.kebab_name


def identity_id(settings: AzureSettings, name: str) -> str:
    return (
        f"{resource_group_id(settings)}/providers/Microsoft.ManagedIdentity/"
        f"userAssignedIdentities/{name}"
    )


def role_definition_id(settings: AzureSettings, role: str) -> str:
    return (
        f"/subscriptions/{settings.subscription_id}/providers/Microsoft.Authorization/"
        f"roleDefinitions/{role}"
    )


def effective_actions(secret: StoredSecret, role: RoleName) -> frozenset[Action]:
    """What ``role`` may do to ``secret`` in this store: the estate's grants, less what a
    revocation takes away (nobody reads a revoked value; Admin keeps writing and managing it),
    as every other backend does."""
    actions = secret.grants.get(role, frozenset())
    if secret.revoked:
        actions = actions - {Action.READ}
        if Action.MANAGE not in actions:
            actions = actions - {Action.WRITE}
    return actions


def _signature(secret: StoredSecret) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple(sorted((r, tuple(sorted(a))) for r, a in secret.grants.items()))


def _scope_name(secrets: list[StoredSecret]) -> str:
    """The partition a group of secrets is named after: the most sensitive scope all of them
    share (admin, then live, then paper for test/paper), else of the first."""
    shared = frozenset.intersection(*(s.scopes for s in secrets)) or secrets[0].scopes
    for scope in (Scope.ADMIN, Scope.LIVE, Scope.PAPER, Scope.TEST):
        if scope in shared:
            return _PARTITION_OF_SCOPE[scope]
    return RBAC_PARTITION


@dataclass(frozen=True)
class Partition:
    """One vault and the secrets it holds."""

    name: str
    secrets: tuple[StoredSecret, ...]


def partitions(estate: Estate, settings: AzureSettings) -> tuple[Partition, ...]:
    """The vaults of the estate. RBAC: one. Access policies: secrets with the same grants share a
    vault (a vault-wide policy then grants exactly what the estate grants)."""
    if settings.authorization != ACCESS_POLICIES:
        return (Partition(RBAC_PARTITION, estate.secrets),)
    groups: dict[tuple[tuple[str, tuple[str, ...]], ...], list[StoredSecret]] = {}
    for secret in estate.secrets:
        groups.setdefault(_signature(secret), []).append(secret)
    named: dict[str, list[list[StoredSecret]]] = {}
    for members in groups.values():
        named.setdefault(_scope_name(members), []).append(members)
    out: list[Partition] = []
    for name in sorted(named):
        for i, members in enumerate(named[name]):
            out.append(Partition(name if i == 0 else f"{name}{i + 1}", tuple(members)))
    return tuple(out)


def partition_of(estate: Estate, settings: AzureSettings) -> dict[str, str]:
    """Catalog name -> the partition (vault) holding it."""
    return {s.name: p.name for p in partitions(estate, settings) for s in p.secrets}


def secret_id(settings: AzureSettings, partition: str, secret: StoredSecret) -> str:
    return f"{vault_id(settings, partition)}/secrets/{secret_name(secret)}"


def secret_uri(settings: AzureSettings, partition: str, secret: StoredSecret) -> str:
    return f"{vault_uri(settings, partition)}secrets/{secret_name(secret)}"


def locations(estate: Estate, settings: AzureSettings) -> Mapping[str, str]:
    where = partition_of(estate, settings)
    return {s.name: secret_uri(settings, where[s.name], s) for s in estate.secrets}


def secret_permissions(actions: frozenset[Action]) -> tuple[str, ...]:
    """The access-policy secret permissions granting exactly ``actions`` (``get`` reads a value
    and its attributes; ``list`` the attributes of every secret; ``purge`` to nobody)."""
    if Action.MANAGE in actions:
        return MANAGER_PERMISSIONS
    perms: list[str] = []
    if Action.READ in actions:
        perms += READER_PERMISSIONS
    elif Action.DESCRIBE in actions:
        perms += DESCRIBER_PERMISSIONS
    if Action.WRITE in actions:
        perms += WRITER_PERMISSIONS
    return tuple(perms)


def vault_permissions(partition: Partition, role: RoleName) -> tuple[str, ...]:
    """One role's secret permissions on a whole vault. Every secret of a partition has the same
    grants; revocation is enforced on the secret itself (it is disabled, so no ``get`` succeeds)."""
    first = partition.secrets[0]
    return secret_permissions(first.grants.get(role, frozenset()))


def rbac_roles(actions: frozenset[Action]) -> tuple[str, ...]:
    """Built-in roles, assigned on one secret, allowing exactly ``actions``: readers Key Vault
    Secrets User (getSecret, readMetadata), managers Key Vault Secrets Officer, metadata-only
    roles (and readers of a revoked secret) Key Vault Reader."""
    if Action.MANAGE in actions:
        return (SECRETS_OFFICER,)
    if Action.READ in actions:
        return (SECRETS_USER,)
    if Action.DESCRIBE in actions:
        return (KEY_VAULT_READER,)
    return ()


def role_assignments(
    estate: Estate, settings: AzureSettings
) -> list[tuple[StoredSecret, RoleName, str]]:
    """``(secret, access-model role, built-in role id)`` of every RBAC assignment, for roles with
    an identity in this store."""
    out: list[tuple[StoredSecret, RoleName, str]] = []
    for secret in estate.secrets:
        for role in estate.roles:
            if settings.group(role) is None and settings.workload(role) is None:
                continue
            for built_in in rbac_roles(effective_actions(secret, role)):
                out.append((secret, role, built_in))
    return out


#: The rotation function (``rotation.py``): its function name in the app (the folder of its
#: ``function.json`` in the package), the secret permissions of its access-policy entry, the
#: suffix of the companion secret staging a pending value (``infra/rotation/azure_store.py``).
ROTATION_FUNCTION: Final = "secret_near_expiry"
ROTATOR_PERMISSIONS: Final = ("get", "list", "set")
PENDING_SUFFIX: Final = "-rotation-pending"
#: Event Grid accepts at most 25 values in the advanced filters of one subscription.
FILTER_VALUES_MAX: Final = 25
#: Built-in Storage Blob Data Owner: the Functions host's identity-based ``AzureWebJobsStorage``
#: (blob leases and keys) and the deployment container of the function's own storage account.
BLOB_DATA_OWNER: Final = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"


_SECRET_DATA: Final = "Microsoft.KeyVault/vaults/secrets/"  # noqa: S105 (an action prefix)
#: Data actions of the rotation function's custom roles: on a rotated secret, and on its
#: companion (which it also disables once the value is promoted).
ROTATOR_DATA_ACTIONS: Final = (
    _SECRET_DATA + "getSecret/action",
    _SECRET_DATA + "setSecret/action",
    _SECRET_DATA + "readMetadata/action",
)
STAGING_DATA_ACTIONS: Final = (*ROTATOR_DATA_ACTIONS, _SECRET_DATA + "update/action")


def rotator_role_guid(settings: AzureSettings, label: str) -> str:
    """The custom role's id: stable per subscription, resource group and role."""
    import uuid

    return str(
        uuid.uuid5(
            uuid.NAMESPACE_URL,
            f"{resource_group_id(settings)}/neural-trader-secret-rotation/{label}",
        )
    )


def rotation_name(settings: AzureSettings) -> str:
    """The function app (and its plan and identity): ``<vault prefix>-rotation``."""
    return f"{settings.vault_prefix}-rotation"


def storage_account_name(settings: AzureSettings) -> str:
    """The function's storage account (3-24 of a-z0-9, globally unique): the vault prefix without
    dashes, then ``rot``."""
    return settings.vault_prefix.replace("-", "") + "rot"


def function_app_id(settings: AzureSettings) -> str:
    return f"{resource_group_id(settings)}/providers/Microsoft.Web/sites/{rotation_name(settings)}"


def rotated_by_function(estate: Estate) -> tuple[StoredSecret, ...]:
    """The secrets of a store's view the rotation function rotates: Azure is their home and they
    rotate (a replica is written by its home's executor, never rotated here)."""
    return tuple(s for s in estate.rotated if s.home == "azure")


def unix_time(settings: AzureSettings, days: int) -> int:
    """Seconds since the epoch, ``days`` after the settings' anchor (Key Vault's ``exp``)."""
    return int((settings.expiry.anchor_time + timedelta(days=days)).timestamp())


def iso_days(days: int) -> str:
    return f"P{days}D"


def is_encryption(secret: StoredSecret) -> bool:
    return (
        secret.rotation is not None
        and secret.rotation.rotation_class is RotationClass.ENCRYPTION_KEY
    )
