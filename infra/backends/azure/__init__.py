"""Azure Key Vault: the backend that keeps the estate in Key Vaults of one resource group.

Settings block ``neural-trader-secrets:azure`` (:class:`AzureSettings`). Two authorization
models: vault-wide access policies (one vault per access partition) or Azure RBAC (one vault,
built-in roles assigned on each secret). Resources: the vaults (soft delete, purge protection,
firewall denying by default, premium SKU in production), one secret per stored secret with an
expiry from its rotation class, RSA keys with a rotation policy for the encryption class, the
access policies or role assignments from the estate, user-assigned managed identities for the
workloads (federated with one Kubernetes service account each), AuditEvent diagnostics to a Log
Analytics workspace, and near-expiry events to an alert that e-mails the notification recipients
(``components.py``; names and grants in ``documents.py``; ``docs/azure.md``).

Importing this package registers the backend; it imports no Pulumi SDK (``deploy`` does).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from infra.access import RoleName
from infra.backends import StoreAddress, account_binding_problems, register
from infra.backends.azure import documents
from infra.backends.azure.settings import WORKLOAD_ROLES, AzureSettings
from infra.catalog import CatalogEntry, Environment
from infra.settings import NAMESPACE, StackSettings

if TYPE_CHECKING:
    import pulumi

    from infra.backends.azure.components import AzureSecrets
    from infra.backends.values import SecretValues
    from infra.estate import Estate

#: What Key Vault accepts as a secret (and key) name.
SECRET_NAME_RE = re.compile(r"^[0-9A-Za-z-]{1,127}$")
#: Tag values hold at most 256 characters.
TAG_VALUE_MAX = 256


class AzureBackend:
    name: str = "azure"
    title: str = "Azure Key Vault"
    settings_model: type[BaseModel] = AzureSettings

    def check(self, settings: StackSettings, block: Any) -> Iterator[tuple[str, str]]:
        assert isinstance(block, AzureSettings)
        key = f"{NAMESPACE}azure"
        if settings.is_production:
            if block.sku == "standard":
                yield (
                    f"{key}.sku",
                    "must be premium in production (keys backed by HSMs)",
                )
            if block.soft_delete_retention_days < 90:
                yield (
                    f"{key}.softDeleteRetentionDays",
                    "must be 90 in production (deleted secrets stay recoverable for 90 days)",
                )
        rotation = block.rotation
        if (
            rotation is not None
            and block.public_access(settings.is_production)
            and rotation.subnet_id.lower() not in {s.lower() for s in block.network.subnet_ids}
        ):
            yield (
                f"{key}.rotation.subnetId",
                f"is not among {key}.network.subnetIds: the vault firewall would refuse the "
                "rotation function (admit its subnet, or reach the vault by a private endpoint "
                "with publicNetworkAccess: false)",
            )
        if not (settings.notifications.emails or block.expiry.emails):
            yield (
                f"{key}.expiry.emails",
                "nobody would be told that a secret nears expiry: give an address here or in "
                f"{NAMESPACE}notifications.emails",
            )

    def name_problems(
        self, entry: CatalogEntry, environment: Environment, block: Any
    ) -> Iterator[str]:
        assert isinstance(block, AzureSettings)
        name = entry.kebab_name
        if not SECRET_NAME_RE.fullmatch(name):
            yield f"cannot hold the name {name!r} (Key Vault: 1-127 of 0-9a-zA-Z-)"
        if len(entry.service) > TAG_VALUE_MAX:
            yield f"cannot tag it: the service name exceeds {TAG_VALUE_MAX} characters"

    def locations(self, estate: Estate, block: Any) -> Mapping[str, str]:
        assert isinstance(block, AzureSettings)
        return documents.locations(estate, block)

    def identities(self, estate: Estate, block: Any) -> Mapping[RoleName, str]:
        assert isinstance(block, AzureSettings)
        out: dict[RoleName, str] = {}
        for role in estate.roles:
            workload = block.workload(role) if role in WORKLOAD_ROLES else None
            if workload is not None:
                out[role] = documents.identity_id(block, workload.name)
            elif (group := block.group(role)) is not None:
                out[role] = group
        return out

    def store_addresses(
        self, estate: Estate, block: Any, exports: Mapping[str, Any]
    ) -> Mapping[str | None, StoreAddress]:
        del exports
        assert isinstance(block, AzureSettings)
        return {
            p.name: StoreAddress(address=documents.vault_uri(block, p.name))
            for p in documents.partitions(estate, block)
        }

    def remote_keys(self, estate: Estate, block: Any) -> Mapping[str, tuple[str | None, str]]:
        assert isinstance(block, AzureSettings)
        partition = documents.partition_of(estate, block)
        return {s.name: (partition.get(s.name), documents.secret_name(s)) for s in estate.secrets}

    def kubernetes_login_problems(
        self, block: Any, role: RoleName, namespace: str, account: str
    ) -> Iterator[tuple[str | None, str]]:
        """Entra ID accepts the token of the one service account the role's managed identity
        federates with (``azure.workloads.<role>.kubernetes``)."""
        assert isinstance(block, AzureSettings)
        workload = block.workload(role)
        federated = workload.kubernetes if workload is not None else None
        yield from account_binding_problems(
            (federated.namespace, federated.service_account) if federated is not None else None,
            namespace,
            account,
            f"{NAMESPACE}azure.workloads.{role}.kubernetes",
            "Azure workload identity",
            "Entra ID would refuse the workload's token",
        )

    def deploy(
        self,
        name: str,
        estate: Estate,
        block: Any,
        values: SecretValues,
        opts: pulumi.ResourceOptions | None = None,
    ) -> AzureSecrets:
        from infra.backends.azure.components import AzureSecrets

        assert isinstance(block, AzureSettings)
        return AzureSecrets(name, estate, block, values, opts=opts)


BACKEND = register(AzureBackend())


def azure_settings(settings: StackSettings) -> AzureSettings:
    """The stack's validated Azure block (the stack must enable the Azure backend)."""
    block = settings.backend("azure")
    assert isinstance(block, AzureSettings)
    return block
