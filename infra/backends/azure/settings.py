"""The Azure backend's settings block, ``neural-trader-secrets:azure``: the subscription, tenant,
location and resource group the vaults live in, the authorization model, the Entra ID groups of
the human roles, the workload identities, the networks the vaults admit, the audit workspace and
the expiry schedule's anchor.

Pure data (no Pulumi imports). No credential is ever a setting: the provider authenticates with
the deployer's Azure CLI login or OIDC (workload identity federation) in CI.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from infra.access import RoleName
from infra.settings import Email, Model, matching

GUID_RE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
#: An Azure region name (``eastus``, ``westeurope``, ``eastus2``).
LOCATION_RE = re.compile(r"^[a-z]+[0-9]?[a-z]*[0-9]?$")
#: A resource group name (1-90 of letters, digits, ``-_.()``, not ending in ``.``).
RESOURCE_GROUP_RE = re.compile(r"^[-\w.()]{0,89}[-\w()]$")
#: The prefix of vault names: a vault name is ``<prefix>-<partition>`` (3-24 characters,
#: alphanumerics and dashes, starting with a letter, globally unique), so the prefix stays short.
VAULT_PREFIX_RE = re.compile(r"^[a-z](?:[a-z0-9]|-(?!-)){1,14}[a-z0-9]$")
#: A user-assigned managed identity name (3-128 of letters, digits, ``-`` and ``_``).
IDENTITY_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,127}$")
#: A virtual network subnet resource id.
SUBNET_RE = re.compile(
    r"^/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[-\w.()]{1,90}/providers/"
    r"Microsoft\.Network/virtualNetworks/[-\w.]{2,64}/subnets/[-\w.]{1,80}$"
)
#: Kubernetes names (RFC 1123).
K8S_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
#: The cluster's OIDC issuer (AKS: ``https://<region>.oic.prod-aks.azure.com/<tenant>/<id>/``).
ISSUER_RE = re.compile(r"^https://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:/[A-Za-z0-9._~-]+)*/?$")
INSTANT_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")

Guid = Annotated[str, matching(GUID_RE, "a GUID (an Entra ID object, tenant or subscription id)")]
Location = Annotated[str, matching(LOCATION_RE, "an Azure region name (e.g. eastus)")]
ResourceGroup = Annotated[str, matching(RESOURCE_GROUP_RE, "a resource group name")]
VaultPrefix = Annotated[
    str, matching(VAULT_PREFIX_RE, "a vault name prefix (3-16 of a-z0-9 and single dashes)")
]
IdentityName = Annotated[str, matching(IDENTITY_NAME_RE, "a managed identity name")]
SubnetId = Annotated[str, matching(SUBNET_RE, "a subnet resource id")]
K8sName = Annotated[str, matching(K8S_NAME_RE, "a Kubernetes name (lowercase, digits, -, .)")]
Issuer = Annotated[str, matching(ISSUER_RE, "an https OIDC issuer URL")]

WORKLOAD_ROLES: tuple[RoleName, ...] = ("backtest", "live-trading")
HUMAN_ROLES: tuple[RoleName, ...] = ("developer", "trader", "admin", "auditor")
ACCESS_POLICIES = "accessPolicies"
RBAC = "rbac"
#: Smallest IPv4/IPv6 prefix a firewall rule may admit: wider ranges are "the internet".
MIN_PREFIX = {4: 8, 6: 32}


def ip_range(value: str) -> str:
    """A public IPv4 address or CIDR range of at most a /8 (never ``0.0.0.0/0``)."""
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError:
        raise ValueError("not an IP address or CIDR range (host bits must be zero)") from None
    if network.prefixlen < MIN_PREFIX[network.version]:
        raise ValueError(
            f"admits /{network.prefixlen}: a Key Vault firewall rule admits at most a "
            f"/{MIN_PREFIX[network.version]} (never 0.0.0.0/0, the whole internet)"
        )
    if network.version != 4:
        raise ValueError("Key Vault IP rules take IPv4 addresses and ranges only")
    return str(network)


class KubernetesServiceAccount(Model):
    """The one Kubernetes service account (AKS workload identity) that may act as a workload's
    managed identity through a federated identity credential."""

    namespace: K8sName
    service_account: K8sName = Field(alias="serviceAccount")


class Workload(Model):
    """A user-assigned managed identity the backend creates for a workload role."""

    name: IdentityName
    kubernetes: KubernetesServiceAccount | None = None


class Workloads(Model):
    backtest: Workload | None = None
    live_trading: Workload | None = Field(default=None, alias="live-trading")


class HumanGroups(Model):
    """Per human role: the object id of the Entra ID group whose members hold it."""

    developer: Guid | None = None
    trader: Guid | None = None
    admin: Guid | None = None
    auditor: Guid | None = None


class Network(Model):
    """What the vaults' firewall admits: nothing but these (``defaultAction: Deny``)."""

    ip_ranges: tuple[str, ...] = Field(default=(), alias="ipRanges")
    subnet_ids: tuple[SubnetId, ...] = Field(default=(), alias="subnetIds")
    #: Let trusted Azure services through the firewall (Key Vault's ``bypass: AzureServices``);
    #: only if one needs to (e.g. a disk encryption set). Default: nothing bypasses it.
    bypass_azure_services: bool = Field(default=False, alias="bypassAzureServices")
    #: Public network access (through the firewall). Production: always disabled (private
    #: endpoints only); this setting may only disable it elsewhere too.
    public_network_access: bool = Field(default=True, alias="publicNetworkAccess")

    @field_validator("ip_ranges")
    @classmethod
    def _ranges(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        out = tuple(ip_range(r) for r in v)
        if len(set(out)) != len(out):
            raise ValueError("duplicate IP range")
        return out


class Kubernetes(Model):
    """The cluster whose service accounts federate with the workload identities."""

    issuer: Issuer


class Expiry(Model):
    """Secrets and keys expire one rotation period after ``anchor`` (Key Vault needs absolute
    expiry times; a fixed anchor keeps the plan deterministic). Key Vault announces a secret
    ``SecretNearExpiry`` 30 days before; the rotation that follows moves the expiry on."""

    anchor: str
    #: Who is told when a secret or key nears expiry, besides the stack's notification e-mails.
    emails: tuple[Email, ...] = ()

    @field_validator("anchor")
    @classmethod
    def _anchor(cls, v: str) -> str:
        if not INSTANT_RE.fullmatch(v):
            raise ValueError("not an RFC 3339 UTC instant such as 2026-12-01T00:00:00Z")
        try:
            datetime.strptime(v, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except ValueError:
            raise ValueError("not a valid date and time") from None
        return v

    @property
    def anchor_time(self) -> datetime:
        return datetime.strptime(self.anchor, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


class Audit(Model):
    """The Log Analytics workspace that receives every vault's ``AuditEvent`` log."""

    workspace: Annotated[
        str,
        matching(
            re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{2,61}[A-Za-z0-9]$"),
            "a Log Analytics workspace name (4-63 of A-Za-z0-9-)",
        ),
    ]
    retention_days: Annotated[int, Field(ge=30, le=730)] = Field(default=90, alias="retentionDays")


class Rotation(Model):
    """The rotation function of the secrets Azure is home to (``infra/backends/azure/rotation.py``):
    a Flex Consumption function app that Key Vault's ``SecretNearExpiry`` events reach through
    Event Grid. Absent: no executor (the near-expiry alert still tells people)."""

    #: The subnet the function's outbound traffic leaves through (VNet integration, delegated to
    #: ``Microsoft.App/environments``): the vault firewall admits no public egress, so the function
    #: reaches the vault from here (a private endpoint, or a rule in ``network.subnetIds``).
    subnet_id: SubnetId = Field(alias="subnetId")
    #: Most instances the function scales to (a rotation is one event at a time).
    maximum_instances: Annotated[int, Field(ge=1, le=1000)] = Field(
        default=2, alias="maximumInstances"
    )


class AzureSettings(Model):
    """``neural-trader-secrets:azure``."""

    subscription_id: Guid = Field(alias="subscriptionId")
    tenant_id: Guid = Field(alias="tenantId")
    location: Location
    resource_group: ResourceGroup = Field(alias="resourceGroup")
    vault_prefix: VaultPrefix = Field(alias="vaultPrefix")
    #: ``accessPolicies``: vault-wide access policies, one vault per access partition;
    #: ``rbac``: one vault, built-in role assignments scoped to each secret.
    authorization: Literal["accessPolicies", "rbac"]
    sku: Literal["standard", "premium"] | None = None
    soft_delete_retention_days: Annotated[int, Field(ge=7, le=90)] = Field(
        default=90, alias="softDeleteRetentionDays"
    )
    groups: HumanGroups = HumanGroups()
    workloads: Workloads = Workloads()
    kubernetes: Kubernetes | None = None
    network: Network = Network()
    expiry: Expiry
    audit: Audit
    rotation: Rotation | None = None

    @model_validator(mode="after")
    def _consistent(self) -> AzureSettings:
        seen: dict[str, str] = {}
        for role in HUMAN_ROLES:
            group = self.group(role)
            if group is None:
                continue
            if group.lower() in seen:
                raise ValueError(
                    f"one group stands for both {seen[group.lower()]} and {role}: each role needs "
                    "its own (a group holding two roles gets both roles' secrets)"
                )
            seen[group.lower()] = role
        names: set[str] = set()
        federated = False
        for role in WORKLOAD_ROLES:
            workload = self.workload(role)
            if workload is None:
                continue
            if workload.name.lower() in names:
                raise ValueError("two workload roles share one managed identity name")
            names.add(workload.name.lower())
            federated = federated or workload.kubernetes is not None
        if federated and self.kubernetes is None:
            raise ValueError(
                "a workload names a Kubernetes service account: give kubernetes.issuer (the "
                "cluster's OIDC issuer) for its federated identity credential"
            )
        return self

    @property
    def model(self) -> str:
        return self.authorization

    def group(self, role: RoleName) -> str | None:
        value: str | None = getattr(self.groups, role, None) if role in HUMAN_ROLES else None
        return value

    def workload(self, role: RoleName) -> Workload | None:
        if role == "backtest":
            return self.workloads.backtest
        if role == "live-trading":
            return self.workloads.live_trading
        return None

    def sku_for(self, production: bool) -> str:
        return self.sku or ("premium" if production else "standard")

    def public_access(self, production: bool) -> bool:
        return self.network.public_network_access and not production
