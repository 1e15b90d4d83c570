"""The rotation owner of the secrets Azure is home to: one Azure Functions app (Flex Consumption).

``RotationFunction`` (type ``neural-trader:azure:RotationFunction``) declares

* a user-assigned managed identity (``<component>-secret-rotation``), the app's only identity;
* the app's own storage account (HTTPS only, TLS 1.2, no public blob access, OAuth by default,
  a firewall admitting the vaults' networks and the app's subnet) with a private container
  holding the package: a deterministic zip of ``infra/rotation`` and the Key Vault client
  (``package.py``), built once by the shared interrupt-safe builder (``infra/buildcache.py``);
* the Flex Consumption plan and the function app (Linux, Python 3.11, HTTPS only, FTP and basic
  publishing off, VNet-integrated), whose app settings name the identity and the storage account
  and never hold a secret;
* per vault holding a secret it rotates, an Event Grid subscription on the vault's system topic
  (``ExpiryNotices``) for ``Microsoft.KeyVault.SecretNearExpiry`` of exactly those secrets,
  delivered to the function;
* its grants, per rotated secret, in the vault's authorization model: RBAC, a custom role
  (get, set, read metadata) on the secret and one that may also disable a version on its
  companion ``<name>-rotation-pending`` (declared here, disabled, no value); access policies, one entry per vault granting secrets ``get``/``list``/``set``
  (Key Vault access policies cannot be narrower than a vault). Storage Blob Data Owner on the
  app's own storage account (the host's leases and the package). Nothing on a resource group.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

import pulumi
import pulumi_azure_native.authorization as authorization
import pulumi_azure_native.eventgrid as eventgrid
import pulumi_azure_native.keyvault as keyvault
import pulumi_azure_native.managedidentity as managedidentity
import pulumi_azure_native.storage as storage
import pulumi_azure_native.web as web

from infra import buildcache
from infra.backends import replica_map
from infra.backends.azure import documents
from infra.backends.azure.settings import AzureSettings
from infra.estate import Estate, StoredSecret
from infra.rotation import package
from policies.contract.vocabulary import TAG_ENVIRONMENT

PYTHON_VERSION: Final = "3.11"
CONTAINER: Final = "deployments"
#: The package blob a Flex Consumption app runs (the name its deployments write).
PACKAGE_BLOB: Final = "released-package.zip"


@functools.cache
def function_archive(build_dir: Path | None = None) -> tuple[Path, str]:
    """The function's package (built once per process, only when its inputs changed) and the
    digest of its inputs (a blob metadata value, so a code change uploads a new package)."""
    return buildcache.package_archive(
        Path(package.__file__),
        package.AZURE_ZIP_NAME,
        package.azure_package_entries,
        package.build_azure_package,
        build_dir,
    )


def _constant(value: str) -> Callable[[str], str]:
    """``value`` once the output it is applied to resolves (an id known before it exists, kept
    depending on the resource that makes it exist)."""
    return lambda _: value


def rotated_partitions(
    estate: Estate, settings: AzureSettings
) -> dict[str, tuple[StoredSecret, ...]]:
    """Partition (vault) -> the secrets there the function rotates, in estate order."""
    where = documents.partition_of(estate, settings)
    out: dict[str, list[StoredSecret]] = {}
    for secret in documents.rotated_by_function(estate):
        out.setdefault(where[secret.name], []).append(secret)
    return {p: tuple(s) for p, s in sorted(out.items())}


class RotationFunction(pulumi.ComponentResource):
    """The Azure executor: the function app, its package, identity, events and grants."""

    app: web.WebApp
    identity: managedidentity.UserAssignedIdentity

    def __init__(
        self,
        name: str,
        estate: Estate,
        settings: AzureSettings,
        secrets: Mapping[str, keyvault.Secret],
        topics: Mapping[str, eventgrid.SystemTopic],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("neural-trader:azure:RotationFunction", name, None, opts)
        assert settings.rotation is not None
        env = estate.environment.value
        tags = {TAG_ENVIRONMENT: env, "purpose": "secret-rotation"}
        child = pulumi.ResourceOptions(parent=self)
        app_name = documents.rotation_name(settings)
        account = documents.storage_account_name(settings)
        rg = settings.resource_group
        # ``*-secret-rotation``: the stack invariants' and the pack's rotator globs match it.
        self.identity = managedidentity.UserAssignedIdentity(
            f"{name}-secret-rotation",
            resource_name_=f"id-{app_name}",
            resource_group_name=rg,
            location=settings.location,
            tags=tags,
            opts=child,
        )
        identity_id = documents.identity_id(settings, f"id-{app_name}")
        account_id = (
            f"{documents.resource_group_id(settings)}/providers/Microsoft.Storage/"
            f"storageAccounts/{account}"
        )
        subnets = dict.fromkeys([*settings.network.subnet_ids, settings.rotation.subnet_id])
        network: storage.NetworkRuleSetArgsDict = {
            "default_action": storage.DefaultAction.DENY,
            "bypass": storage.Bypass.NONE,
            "ip_rules": [{"i_p_address_or_range": r} for r in settings.network.ip_ranges],
            "virtual_network_rules": [{"virtual_network_resource_id": s} for s in subnets],
        }
        store = storage.StorageAccount(
            f"{name}-storage",
            account_name=account,
            resource_group_name=rg,
            location=settings.location,
            kind="StorageV2",
            sku={"name": "Standard_ZRS" if estate.is_production else "Standard_LRS"},
            enable_https_traffic_only=True,
            minimum_tls_version="TLS1_2",
            allow_blob_public_access=False,
            # The package blob is uploaded with the account key (pulumi-azure-native cannot
            # write a blob otherwise); requests default to Entra ID, the app uses its identity.
            allow_shared_key_access=True,
            default_to_o_auth_authentication=True,
            allow_cross_tenant_replication=False,
            public_network_access="Enabled",
            network_rule_set=network,
            tags=tags,
            opts=child,
        )
        container = storage.BlobContainer(
            f"{name}-deployments",
            account_name=store.name,
            resource_group_name=rg,
            container_name=CONTAINER,
            public_access=storage.PublicAccess.NONE,
            opts=pulumi.ResourceOptions(parent=store),
        )
        archive, digest = function_archive()
        blob = storage.Blob(
            f"{name}-package",
            account_name=store.name,
            container_name=container.name,
            resource_group_name=rg,
            blob_name=PACKAGE_BLOB,
            content_type="application/zip",
            metadata={"digest": digest[:16]},
            source=pulumi.FileAsset(str(archive)),
            opts=pulumi.ResourceOptions(parent=container),
        )
        authorization.RoleAssignment(
            f"{name}-storage-blob-owner",
            principal_id=self.identity.principal_id,
            principal_type="ServicePrincipal",
            role_definition_id=documents.role_definition_id(settings, documents.BLOB_DATA_OWNER),
            scope=account_id,
            opts=pulumi.ResourceOptions(parent=store, depends_on=[store, self.identity]),
        )
        plan = web.AppServicePlan(
            f"{name}-plan",
            name=f"{app_name}-plan",
            resource_group_name=rg,
            location=settings.location,
            kind="functionapp",
            reserved=True,
            sku={"name": "FC1", "tier": "FlexConsumption"},
            tags=tags,
            opts=child,
        )
        by_partition = rotated_partitions(estate, settings)
        rotated = [s for p in by_partition.values() for s in p]
        where = documents.partition_of(estate, settings)
        uris = {s.name: documents.secret_uri(settings, where[s.name], s) for s in rotated}
        settings_list: list[web.NameValuePairArgsDict] = [
            {"name": "AzureWebJobsStorage__accountName", "value": account},
            {"name": "AzureWebJobsStorage__credential", "value": "managedidentity"},
            {"name": "AzureWebJobsStorage__clientId", "value": self.identity.client_id},
            {"name": "AZURE_CLIENT_ID", "value": self.identity.client_id},
            {"name": "NT_ROTATION_REPLICAS", "value": replica_map(estate, uris)},
        ]
        identity: web.ManagedServiceIdentityArgsDict = {
            "type": web.ManagedServiceIdentityType.USER_ASSIGNED,
            "user_assigned_identities": [identity_id],
        }
        site_config: web.SiteConfigArgsDict = {
            "ftps_state": "Disabled",
            "min_tls_version": "1.2",
            "scm_min_tls_version": "1.2",
            "http20_enabled": True,
            "remote_debugging_enabled": False,
            "vnet_route_all_enabled": True,
            "app_settings": settings_list,
        }
        app_config: web.FunctionAppConfigArgsDict = {
            "deployment": {
                "storage": {
                    "type": "blobContainer",
                    "value": f"https://{account}.blob.core.windows.net/{CONTAINER}",
                    "authentication": {
                        "type": "UserAssignedIdentity",
                        "user_assigned_identity_resource_id": identity_id,
                    },
                }
            },
            "runtime": {"name": "python", "version": PYTHON_VERSION},
            "scale_and_concurrency": {
                "maximum_instance_count": settings.rotation.maximum_instances,
                "instance_memory_mb": 2048,
            },
        }
        self.app = web.WebApp(
            f"{name}-app",
            name=app_name,
            resource_group_name=rg,
            location=settings.location,
            kind="functionapp,linux",
            server_farm_id=plan.id,
            https_only=True,
            client_cert_enabled=False,
            public_network_access="Enabled",  # Event Grid delivers over the internet
            virtual_network_subnet_id=settings.rotation.subnet_id,
            identity=identity,
            key_vault_reference_identity=identity_id,
            site_config=site_config,
            function_app_config=app_config,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[blob, self.identity]),
        )
        # Basic (user name and password) publishing off: deployments use Entra ID only.
        web.WebAppFtpAllowed(
            f"{name}-ftp-basic-auth",
            name=app_name,
            resource_group_name=rg,
            allow=False,
            opts=pulumi.ResourceOptions(parent=self.app, depends_on=[self.app]),
        )
        web.WebAppScmAllowed(
            f"{name}-scm-basic-auth",
            name=app_name,
            resource_group_name=rg,
            allow=False,
            opts=pulumi.ResourceOptions(parent=self.app, depends_on=[self.app]),
        )
        self._grants(name, estate, settings, secrets, by_partition)
        # Union-typed inputs as their Args classes: the SDK spells a dict's keys only for a
        # single type (a dict in a union would reach the engine as ``operator_type``).
        destination = eventgrid.AzureFunctionEventSubscriptionDestinationArgs(
            endpoint_type="AzureFunction",
            resource_id=f"{documents.function_app_id(settings)}/functions/{package.AZURE_FUNCTION}",
            max_events_per_batch=1,
        )
        for partition, held in by_partition.items():
            names = [documents.secret_name(s) for s in held]
            chunks = [
                names[i : i + documents.FILTER_VALUES_MAX]
                for i in range(0, len(names), documents.FILTER_VALUES_MAX)
            ]
            for i, chunk in enumerate(chunks):
                suffix = "" if i == 0 else f"-{i + 1}"
                event_filter = eventgrid.EventSubscriptionFilterArgs(
                    included_event_types=[documents.NEAR_EXPIRY_EVENT],
                    advanced_filters=[
                        eventgrid.StringInAdvancedFilterArgs(
                            operator_type="StringIn", key="subject", values=chunk
                        )
                    ],
                )
                eventgrid.SystemTopicEventSubscription(
                    f"{partition}-rotation{suffix}",
                    event_subscription_name=f"secret-rotation{suffix}",
                    system_topic_name=f"{documents.vault_name(settings, partition)}-events",
                    resource_group_name=rg,
                    destination=destination,
                    filter=event_filter,
                    retry_policy={
                        "max_delivery_attempts": 30,
                        "event_time_to_live_in_minutes": 1440,
                    },
                    opts=pulumi.ResourceOptions(
                        parent=topics[partition], depends_on=[topics[partition], self.app]
                    ),
                )
        # The app's own outputs are not read: its name is known (the mock engine echoes inputs,
        # and azure-native's identity input and output shapes differ).
        self.register_outputs({"app": app_name})

    def _grants(
        self,
        name: str,
        estate: Estate,
        settings: AzureSettings,
        secrets: Mapping[str, keyvault.Secret],
        by_partition: Mapping[str, tuple[StoredSecret, ...]],
    ) -> None:
        if settings.authorization != "rbac":
            for partition in by_partition:
                keyvault.AccessPolicy(
                    f"{partition}-secret-rotation",
                    resource_group_name=settings.resource_group,
                    vault_name=documents.vault_name(settings, partition),
                    policy={
                        "tenant_id": settings.tenant_id,
                        "object_id": self.identity.principal_id,
                        "permissions": {
                            "secrets": list(documents.ROTATOR_PERMISSIONS),
                            "keys": [],
                            "certificates": [],
                            "storage": [],
                        },
                    },
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[self.identity]),
                )
            return
        # Two custom roles, assignable in the vaults concerned only: on a rotated secret, read
        # it and its versions' metadata and write a new version; on its companion, also disable
        # a staged version (``update``). Neither deletes, purges, touches keys or grants access.
        vault_ids = [documents.vault_id(settings, p) for p in by_partition]
        roles: dict[str, pulumi.Output[str]] = {}
        for label, actions in (
            ("secret", documents.ROTATOR_DATA_ACTIONS),
            ("pending", documents.STAGING_DATA_ACTIONS),
        ):
            guid = documents.rotator_role_guid(settings, label)
            full = documents.role_definition_id(settings, guid)
            definition = authorization.RoleDefinition(
                f"{name}-{label}-role",
                role_definition_id=guid,
                role_name=f"neural-trader {estate.environment.value} secret rotation ({label})",
                description="What the Azure rotation function needs on one secret "
                "(docs/rotation.md); assigned per secret",
                role_type="CustomRole",
                scope=documents.resource_group_id(settings),
                assignable_scopes=vault_ids,
                permissions=[{"actions": [], "data_actions": list(actions)}],
                opts=pulumi.ResourceOptions(parent=self),
            )
            roles[label] = definition.id.apply(_constant(full))
        for partition, held in by_partition.items():
            for stored in held:
                secret = secrets[stored.name]
                companion = keyvault.Secret(
                    f"{stored.logical_name}-rotation-pending",
                    secret_name=documents.secret_name(stored) + documents.PENDING_SUFFIX,
                    vault_name=documents.vault_name(settings, partition),
                    resource_group_name=settings.resource_group,
                    properties={
                        "content_type": "text/plain",
                        # Disabled until a rotation stages a value (azure_store.py).
                        "attributes": {
                            "enabled": False,
                            "expires": documents.unix_time(
                                settings, stored.rotation.period_days if stored.rotation else 30
                            ),
                        },
                    },
                    tags={
                        TAG_ENVIRONMENT: estate.environment.value,
                        "rotation-pending-of": documents.secret_name(stored),
                    },
                    opts=pulumi.ResourceOptions(
                        parent=secret,
                        depends_on=[secret],
                        ignore_changes=["properties.attributes"],
                    ),
                )
                for target, resource, label in (
                    (documents.secret_id(settings, partition, stored), secret, "secret"),
                    (
                        documents.secret_id(settings, partition, stored) + documents.PENDING_SUFFIX,
                        companion,
                        "pending",
                    ),
                ):
                    authorization.RoleAssignment(
                        f"{stored.logical_name}-rotation-{label}",
                        principal_id=self.identity.principal_id,
                        principal_type="ServicePrincipal",
                        role_definition_id=roles[label],
                        scope=target,
                        opts=pulumi.ResourceOptions(
                            parent=resource, depends_on=[resource, self.identity]
                        ),
                    )

    def export(self, estate: Estate, settings: AzureSettings) -> dict[str, Any]:
        return {
            "kind": "web.WebApp",
            "name": documents.rotation_name(settings),
            "identity": self.identity.principal_id,
            "secrets": [s.name for s in documents.rotated_by_function(estate)],
        }
