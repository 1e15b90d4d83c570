"""The Azure adapter: component resources that translate the estate into Azure Key Vault.

One ComponentResource per concern (type tokens ``neural-trader:azure:<Name>``), every child
parented to its component. Which secrets exist, who may do what and how each is rotated and valued
is the estate's answer (``infra/estate.py``); this module only spells it the Azure way
(``documents.py``: names, ids and grants). Only the azure-native submodules used are imported.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_azure_native.authorization as authorization
import pulumi_azure_native.eventgrid as eventgrid
import pulumi_azure_native.keyvault as keyvault
import pulumi_azure_native.managedidentity as managedidentity
import pulumi_azure_native.monitor as monitor
import pulumi_azure_native.operationalinsights as operationalinsights
from pulumi_azure_native import Provider

from infra.access import RoleName
from infra.backends.azure import documents
from infra.backends.azure.rotation import RotationFunction
from infra.backends.azure.settings import WORKLOAD_ROLES, AzureSettings
from infra.backends.values import SecretValues
from infra.estate import Estate
from policies.contract.vocabulary import (
    CONFIDENTIAL,
    RESTRICTED,
    TAG_CLASSIFICATION,
    TAG_ENVIRONMENT,
)

#: Built-in role Key Vault Crypto Officer (Admin manages the encryption keys in RBAC mode).
CRYPTO_OFFICER = "14b46e9e-c2b7-41b4-b07b-48a6ebf60603"


def _tags(estate: Estate, **extra: str) -> dict[str, str]:
    return {TAG_ENVIRONMENT: estate.environment.value, **extra}


class WorkloadIdentities(pulumi.ComponentResource):
    """A user-assigned managed identity per workload role the estate grants something, each
    federated, when the settings say so, with exactly one Kubernetes service account (AKS workload
    identity: issuer from the settings, subject ``system:serviceaccount:<ns>:<sa>``)."""

    identities: dict[RoleName, managedidentity.UserAssignedIdentity]

    def __init__(
        self,
        name: str,
        estate: Estate,
        settings: AzureSettings,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("neural-trader:azure:WorkloadIdentities", name, None, opts)
        env = estate.environment.value
        self.identities = {}
        for role in WORKLOAD_ROLES:
            workload = settings.workload(role)
            if workload is None:
                continue
            if not estate.roles[role].secrets:
                pulumi.log.warn(
                    f"azure: {role} is granted nothing in {env}; its managed identity "
                    f"{workload.name} is not created"
                )
                continue
            # ``<component>-<role>``: the stack invariants' role globs (``*-backtest``) match it.
            identity = managedidentity.UserAssignedIdentity(
                f"{name}-{role}",
                resource_name_=workload.name,
                resource_group_name=settings.resource_group,
                location=settings.location,
                tags=_tags(estate, role=role),
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.identities[role] = identity
            k8s = workload.kubernetes
            if k8s is not None and settings.kubernetes is not None:
                managedidentity.FederatedIdentityCredential(
                    f"{name}-{role}-kubernetes",
                    federated_identity_credential_resource_name=f"{k8s.namespace}-{k8s.service_account}",
                    resource_name_=workload.name,
                    resource_group_name=settings.resource_group,
                    issuer=settings.kubernetes.issuer,
                    subject=f"system:serviceaccount:{k8s.namespace}:{k8s.service_account}",
                    audiences=[documents.TOKEN_EXCHANGE_AUDIENCE],
                    opts=pulumi.ResourceOptions(parent=identity, depends_on=[identity]),
                )
        self.register_outputs({"clientIds": {r: i.client_id for r, i in self.identities.items()}})


class Vaults(pulumi.ComponentResource):
    """The environment's Key Vaults: soft delete (90 days in production), purge protection, a
    firewall that denies by default and admits only the configured networks, public network
    access disabled in production, the premium SKU (HSM-backed keys) in production, no access
    for VM deployment, disk encryption or templates, and the authorization model of the
    settings."""

    vaults: dict[str, keyvault.Vault]

    def __init__(
        self,
        name: str,
        estate: Estate,
        settings: AzureSettings,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("neural-trader:azure:Vaults", name, None, opts)
        production = estate.is_production
        network: keyvault.NetworkRuleSetArgsDict = {
            "default_action": "Deny",
            "bypass": "AzureServices" if settings.network.bypass_azure_services else "None",
            "ip_rules": [{"value": r} for r in settings.network.ip_ranges],
            "virtual_network_rules": [{"id": s} for s in settings.network.subnet_ids],
        }
        self.vaults = {}
        for partition in documents.partitions(estate, settings):
            restricted = any(s.classification == RESTRICTED for s in partition.secrets)
            sku: keyvault.SkuArgsDict = {
                "family": keyvault.SkuFamily.A,
                "name": keyvault.SkuName(settings.sku_for(production)),
            }
            properties: keyvault.VaultPropertiesArgsDict = {
                "tenant_id": settings.tenant_id,
                "sku": sku,
                "enable_rbac_authorization": settings.authorization == "rbac",
                "enable_soft_delete": True,
                "soft_delete_retention_in_days": settings.soft_delete_retention_days,
                "enable_purge_protection": True,
                "public_network_access": (
                    "Enabled" if settings.public_access(production) else "Disabled"
                ),
                "network_acls": network,
                "enabled_for_deployment": False,
                "enabled_for_disk_encryption": False,
                "enabled_for_template_deployment": False,
            }
            self.vaults[partition.name] = keyvault.Vault(
                partition.name,
                vault_name=documents.vault_name(settings, partition.name),
                resource_group_name=settings.resource_group,
                location=settings.location,
                properties=properties,
                tags=_tags(
                    estate,
                    **{TAG_CLASSIFICATION: RESTRICTED if restricted else CONFIDENTIAL},
                    partition=partition.name,
                ),
                opts=pulumi.ResourceOptions(parent=self, protect=estate.protected),
            )
        self.register_outputs({"vaults": {p: v.id for p, v in self.vaults.items()}})


class SecretStore(pulumi.ComponentResource):
    """One secret per stored secret in its partition's vault: the contract's tags, a content type,
    an expiry one rotation period after the anchor (Key Vault announces it 30 days before), a
    value only where the infrastructure owns it (generated, or supplied as a config secret) —
    always a Pulumi secret, and ``properties`` listed in ``additionalSecretOutputs`` because
    azure-native does not mark it secret itself. A revoked secret is disabled: nobody can read
    it, whatever a policy or role grants. For the encryption class, an RSA key (HSM-backed in
    premium vaults) with a rotation policy."""

    secrets: dict[str, keyvault.Secret]
    keys: dict[str, keyvault.Key]

    def __init__(
        self,
        name: str,
        estate: Estate,
        settings: AzureSettings,
        vaults: Mapping[str, keyvault.Vault],
        values: SecretValues,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("neural-trader:azure:SecretStore", name, None, opts)
        where = documents.partition_of(estate, settings)
        hsm = settings.sku_for(estate.is_production) == "premium"
        self.secrets = {}
        self.keys = {}
        for stored in estate.secrets:
            partition = where[stored.name]
            vault = vaults[partition]
            attributes: keyvault.SecretAttributesArgsDict = {"enabled": not stored.revoked}
            if stored.rotation is not None:
                attributes["expires"] = documents.unix_time(settings, stored.rotation.period_days)
            properties: keyvault.SecretPropertiesArgsDict = {
                "content_type": "text/plain",
                "attributes": attributes,
            }
            value = values.value(stored)
            if value is not None:
                properties["value"] = value
            secret = keyvault.Secret(
                stored.logical_name,
                secret_name=documents.secret_name(stored),
                vault_name=documents.vault_name(settings, partition),
                resource_group_name=settings.resource_group,
                properties=properties,
                tags=stored.labels(),
                opts=pulumi.ResourceOptions(
                    parent=self,
                    depends_on=[vault],
                    protect=estate.protected,
                    additional_secret_outputs=["properties"],
                    # The anchor sets the first expiry only: each rotation writes a version with
                    # its own, which the next deployment must not move back.
                    ignore_changes=["properties.attributes.expires"],
                ),
            )
            self.secrets[stored.name] = secret
            if documents.is_encryption(stored) and stored.rotation is not None:
                period = stored.rotation.period_days
                lifetime = period + documents.NEAR_EXPIRY_DAYS
                rotation: keyvault.RotationPolicyArgsDict = {
                    "attributes": {"expiry_time": documents.iso_days(lifetime)},
                    "lifetime_actions": [
                        {
                            "action": {"type": keyvault.KeyRotationPolicyActionType.ROTATE},
                            "trigger": {"time_after_create": documents.iso_days(period)},
                        },
                        {
                            "action": {"type": keyvault.KeyRotationPolicyActionType.NOTIFY},
                            "trigger": {
                                "time_before_expiry": documents.iso_days(documents.NEAR_EXPIRY_DAYS)
                            },
                        },
                    ],
                }
                key_properties: keyvault.KeyPropertiesArgsDict = {
                    "kty": "RSA-HSM" if hsm else "RSA",
                    "key_size": 3072,
                    "key_ops": ["wrapKey", "unwrapKey"],
                    "attributes": {
                        "enabled": True,
                        "exportable": False,
                        "expires": documents.unix_time(settings, lifetime),
                    },
                    "rotation_policy": rotation,
                }
                self.keys[stored.name] = keyvault.Key(
                    f"{stored.logical_name}-kek",
                    key_name=f"{documents.secret_name(stored)}-kek",
                    vault_name=documents.vault_name(settings, partition),
                    resource_group_name=settings.resource_group,
                    properties=key_properties,
                    tags=stored.labels(),
                    opts=pulumi.ResourceOptions(
                        parent=self,
                        depends_on=[vault],
                        protect=estate.protected,
                        # Key Vault rotates the key itself; later versions carry their own expiry.
                        ignore_changes=["properties.attributes.expires"],
                    ),
                )
        self.register_outputs({"secrets": {n: s.id for n, s in self.secrets.items()}})


class VaultAccess(pulumi.ComponentResource):
    """Who may do what, from the estate. Access policies: one per identity per vault (readers
    ``get``, writers add ``set``, Admin the management set with ``recover``/``backup``/``restore``
    and key management where the vault holds keys, the Auditor ``list``; ``purge`` and ``all`` to
    nobody; no key or certificate permission to an application). RBAC: built-in roles assigned on
    each secret (Key Vault Secrets User, Secrets Officer for Admin, Key Vault Reader for metadata),
    never on the vault, the resource group or the subscription."""

    def __init__(
        self,
        name: str,
        estate: Estate,
        settings: AzureSettings,
        vaults: Mapping[str, keyvault.Vault],
        secrets: Mapping[str, keyvault.Secret],
        keys: Mapping[str, keyvault.Key],
        identities: Mapping[RoleName, managedidentity.UserAssignedIdentity],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("neural-trader:azure:VaultAccess", name, None, opts)
        for role in estate.roles:
            if (
                estate.roles[role].secrets
                and settings.group(role) is None
                and role not in identities
            ):
                pulumi.log.warn(f"azure role {role}: no identity in settings; nothing is granted")
        self.policies: list[keyvault.AccessPolicy] = []
        self.assignments: list[authorization.RoleAssignment] = []
        if settings.authorization == "rbac":
            self._rbac(estate, settings, secrets, keys, identities)
        else:
            self._access_policies(estate, settings, vaults, keys, identities)
        self.register_outputs({})

    @staticmethod
    def _principal(
        role: RoleName,
        settings: AzureSettings,
        identities: Mapping[RoleName, managedidentity.UserAssignedIdentity],
    ) -> tuple[pulumi.Input[str], str] | None:
        """(object id, principal type) of the identity standing for ``role``."""
        if role in identities:
            return identities[role].principal_id, "ServicePrincipal"
        group = settings.group(role)
        return (group, "Group") if group is not None else None

    def _access_policies(
        self,
        estate: Estate,
        settings: AzureSettings,
        vaults: Mapping[str, keyvault.Vault],
        keys: Mapping[str, keyvault.Key],
        identities: Mapping[RoleName, managedidentity.UserAssignedIdentity],
    ) -> None:
        where = documents.partition_of(estate, settings)
        keyed = {where[n] for n in keys}
        for partition in documents.partitions(estate, settings):
            vault = vaults[partition.name]
            for role in estate.roles:
                principal = self._principal(role, settings, identities)
                if principal is None:
                    continue
                secret_perms = documents.vault_permissions(partition, role)
                if not secret_perms:
                    continue
                manages = "delete" in secret_perms
                key_perms = (
                    documents.KEY_MANAGER_PERMISSIONS if manages and partition.name in keyed else ()
                )
                depends: list[pulumi.Resource] = [vault]
                if role in identities:
                    depends.append(identities[role])
                self.policies.append(
                    keyvault.AccessPolicy(
                        f"{partition.name}-{role}",
                        resource_group_name=settings.resource_group,
                        vault_name=documents.vault_name(settings, partition.name),
                        policy={
                            "tenant_id": settings.tenant_id,
                            "object_id": principal[0],
                            "permissions": {
                                "secrets": list(secret_perms),
                                "keys": list(key_perms),
                                "certificates": [],
                                "storage": [],
                            },
                        },
                        opts=pulumi.ResourceOptions(parent=vault, depends_on=depends),
                    )
                )

    def _rbac(
        self,
        estate: Estate,
        settings: AzureSettings,
        secrets: Mapping[str, keyvault.Secret],
        keys: Mapping[str, keyvault.Key],
        identities: Mapping[RoleName, managedidentity.UserAssignedIdentity],
    ) -> None:
        where = documents.partition_of(estate, settings)
        for stored, role, built_in in documents.role_assignments(estate, settings):
            principal = self._principal(role, settings, identities)
            if principal is None:
                continue
            secret = secrets[stored.name]
            self.assignments.append(
                authorization.RoleAssignment(
                    f"{stored.logical_name}-{role}-{documents.ROLE_TITLES[built_in]}",
                    principal_id=principal[0],
                    principal_type=principal[1],
                    role_definition_id=documents.role_definition_id(settings, built_in),
                    scope=documents.secret_id(settings, where[stored.name], stored),
                    opts=pulumi.ResourceOptions(parent=secret, depends_on=[secret]),
                )
            )
        admin = self._principal("admin", settings, identities)
        if admin is None:
            return
        for secret_name, key in keys.items():
            stored = estate.secret(secret_name)
            key_id = (
                f"{documents.vault_id(settings, where[secret_name])}/keys/"
                f"{documents.secret_name(stored)}-kek"
            )
            self.assignments.append(
                authorization.RoleAssignment(
                    f"{stored.logical_name}-kek-admin-crypto-officer",
                    principal_id=admin[0],
                    principal_type=admin[1],
                    role_definition_id=documents.role_definition_id(settings, CRYPTO_OFFICER),
                    scope=key_id,
                    opts=pulumi.ResourceOptions(parent=key, depends_on=[key]),
                )
            )


class Audit(pulumi.ComponentResource):
    """Every vault's ``AuditEvent`` log (every data-plane access, allowed or denied) to a Log
    Analytics workspace that keeps it ``retentionDays``."""

    workspace: operationalinsights.Workspace

    def __init__(
        self,
        name: str,
        estate: Estate,
        settings: AzureSettings,
        vaults: Mapping[str, keyvault.Vault],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("neural-trader:azure:Audit", name, None, opts)
        self.workspace = operationalinsights.Workspace(
            f"{name}-workspace",
            workspace_name=settings.audit.workspace,
            resource_group_name=settings.resource_group,
            location=settings.location,
            retention_in_days=settings.audit.retention_days,
            sku={"name": "PerGB2018"},
            tags=_tags(estate, **{TAG_CLASSIFICATION: CONFIDENTIAL}),
            opts=pulumi.ResourceOptions(parent=self, protect=estate.protected),
        )
        workspace_id = (
            f"{documents.resource_group_id(settings)}/providers/Microsoft.OperationalInsights/"
            f"workspaces/{settings.audit.workspace}"
        )
        for partition, vault in vaults.items():
            monitor.DiagnosticSetting(
                f"{partition}-audit",
                name="neural-trader-audit",
                resource_uri=documents.vault_id(settings, partition),
                workspace_id=workspace_id,
                logs=[{"category": documents.AUDIT_CATEGORY, "enabled": True}],
                opts=pulumi.ResourceOptions(parent=vault, depends_on=[vault, self.workspace]),
            )
        self.register_outputs({"workspace": workspace_id})


class ExpiryNotices(pulumi.ComponentResource):
    """Near-expiry events to people: each vault's Event Grid system topic, a subscription to
    ``SecretNearExpiry``/``SecretExpired`` (and the key events) delivered as an Azure Monitor
    alert, and the action group that e-mails the stack's notification recipients — the Azure
    counterpart of the AWS rotation's SNS topic. Nothing here rotates a value: the rotation
    function (``rotation.py``) subscribes to the same topics (docs/azure.md)."""

    action_group: monitor.ActionGroup

    def __init__(
        self,
        name: str,
        estate: Estate,
        settings: AzureSettings,
        vaults: Mapping[str, keyvault.Vault],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("neural-trader:azure:ExpiryNotices", name, None, opts)
        env = estate.environment.value
        emails = tuple(dict.fromkeys((*estate.notification_emails, *settings.expiry.emails)))
        group_name = f"{settings.vault_prefix}-secret-expiry"
        self.action_group = monitor.ActionGroup(
            f"{name}-action-group",
            action_group_name=group_name,
            group_short_name=settings.vault_prefix[:12],
            resource_group_name=settings.resource_group,
            location="Global",
            enabled=True,
            email_receivers=[
                {
                    "name": re.sub(r"[^A-Za-z0-9-]+", "-", address)[:64],
                    "email_address": address,
                    "use_common_alert_schema": True,
                }
                for address in emails
            ],
            tags=_tags(estate),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.action_group_id = (
            f"{documents.resource_group_id(settings)}/providers/Microsoft.Insights/"
            f"actionGroups/{group_name}"
        )
        self.topics: dict[str, eventgrid.SystemTopic] = {}
        for partition, vault in vaults.items():
            topic_name = f"{documents.vault_name(settings, partition)}-events"
            topic = self.topics[partition] = eventgrid.SystemTopic(
                f"{partition}-events",
                system_topic_name=topic_name,
                resource_group_name=settings.resource_group,
                location=settings.location,
                source=documents.vault_id(settings, partition),
                topic_type="Microsoft.KeyVault.vaults",
                tags=_tags(estate),
                opts=pulumi.ResourceOptions(parent=vault, depends_on=[vault]),
            )
            eventgrid.SystemTopicEventSubscription(
                f"{partition}-near-expiry",
                event_subscription_name="near-expiry",
                system_topic_name=topic_name,
                resource_group_name=settings.resource_group,
                destination={
                    "endpoint_type": "MonitorAlert",
                    "action_groups": [self.action_group_id],
                    "severity": "Sev2",
                    "description": (
                        f"A secret or key of neural-trader {env} nears expiry: rotate it as "
                        "docs/rotation.md says (the alert names it)."
                    ),
                },
                filter={"included_event_types": list(documents.EXPIRY_EVENTS)},
                opts=pulumi.ResourceOptions(parent=topic, depends_on=[topic, self.action_group]),
            )
        self.register_outputs({"actionGroup": self.action_group_id})


class AzureSecrets(pulumi.ComponentResource):
    """The whole Azure estate of one environment (the backend's top-level component)."""

    exports: dict[str, Any]

    def __init__(
        self,
        name: str,
        estate: Estate,
        settings: AzureSettings,
        values: SecretValues,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("neural-trader:azure:AzureSecrets", name, None, opts)
        # Credentials come from the deployer's environment (az login, OIDC), never an input here.
        provider = Provider(
            f"{name}-provider",
            subscription_id=settings.subscription_id,
            tenant_id=settings.tenant_id,
            location=settings.location,
            opts=pulumi.ResourceOptions(parent=self),
        )
        child = pulumi.ResourceOptions(parent=self, providers={"azure-native": provider})
        self.workloads = WorkloadIdentities("workloads", estate, settings, opts=child)
        self.vaults = Vaults("vaults", estate, settings, opts=child)
        self.store = SecretStore(
            "secrets", estate, settings, self.vaults.vaults, values, opts=child
        )
        self.access = VaultAccess(
            "access",
            estate,
            settings,
            self.vaults.vaults,
            self.store.secrets,
            self.store.keys,
            self.workloads.identities,
            opts=child,
        )
        self.audit = Audit("audit", estate, settings, self.vaults.vaults, opts=child)
        self.notices = ExpiryNotices("expiry", estate, settings, self.vaults.vaults, opts=child)
        self.rotation: RotationFunction | None = None
        if settings.rotation is not None and documents.rotated_by_function(estate):
            self.rotation = RotationFunction(
                "rotation",
                estate,
                settings,
                self.store.secrets,
                self.notices.topics,
                opts=child,
            )
        revoked = [s.name for s in estate.revoked]
        if revoked:
            pulumi.log.warn(
                "revoked secrets (disabled: nobody may read them; Admin rotates them, then remove "
                f"them from `revoked`): {', '.join(revoked)}"
            )
        self.exports = {
            "secrets": dict(documents.locations(estate, settings)),
            "identities": _identities(estate, settings, self.workloads.identities),
            "clientIds": {r: i.client_id for r, i in self.workloads.identities.items()},
            "vaultUris": {
                p.name: documents.vault_uri(settings, p.name)
                for p in documents.partitions(estate, settings)
            },
            "authorization": settings.authorization,
            "expiryActionGroup": self.notices.action_group_id,
            "auditWorkspace": self.audit.workspace.id,
            "revokedSecrets": revoked,
            "expiringSecrets": [s.name for s in estate.rotated],
            "rotation": (
                self.rotation.export(estate, settings) if self.rotation is not None else None
            ),
        }
        self.register_outputs(self.exports)


def _identities(
    estate: Estate,
    settings: AzureSettings,
    created: Mapping[RoleName, managedidentity.UserAssignedIdentity],
) -> dict[str, Any]:
    """Role -> identity: the managed identity's principal id for workloads, the group's object
    id for humans."""
    out: dict[str, Any] = {}
    for role in estate.roles:
        if role in created:
            out[role] = created[role].principal_id
        elif (group := settings.group(role)) is not None:
            out[role] = group
    return out


__all__: Sequence[str] = ("AzureSecrets",)
