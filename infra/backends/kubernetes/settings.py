"""The Kubernetes backend's settings block, ``neural-trader-secrets:kubernetes``: the namespace the
workloads run in, the service account of each workload role, which secret stores the cluster reads
through the External Secrets Operator (one namespaced SecretStore per store and workload; each
secret is read from its home store, ``infra/placement.py``), how often they refresh, and how a rotation restarts
the pods (a reloader).

Pure data (no Pulumi imports). No credential is ever a setting: every store is reached with the
workload's own identity (IRSA, GKE or Azure workload identity, Vault Kubernetes auth).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from infra.access import RoleName
from infra.catalog import Environment
from infra.settings import Model, matching

#: A namespace: an RFC 1123 label.
LABEL_RE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
#: A service account name: an RFC 1123 subdomain.
SUBDOMAIN_RE = re.compile(
    r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)
#: A GCP project id, a GKE cluster location (region or zone) and name.
PROJECT_RE = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
LOCATION_RE = re.compile(r"^[a-z]+-[a-z]+[0-9]{1,2}(-[a-z])?$")
CLUSTER_RE = re.compile(r"^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$")

Namespace = Annotated[str, matching(LABEL_RE, "a Kubernetes namespace (RFC 1123 label)")]
AccountName = Annotated[
    str, matching(SUBDOMAIN_RE, "a Kubernetes service account name (RFC 1123 subdomain)")
]

#: Stores the External Secrets Operator reads, by backend name.
Store = Literal["aws", "vault", "gcp", "azure"]
STORES: tuple[str, ...] = ("aws", "vault", "gcp", "azure")
WORKLOAD_ROLES: tuple[RoleName, ...] = ("backtest", "live-trading")


class Workload(Model):
    """One workload role in the cluster: its service account (in the block's namespace)."""

    service_account: AccountName = Field(alias="serviceAccount")


class Workloads(Model):
    backtest: Workload | None = None
    live_trading: Workload | None = Field(default=None, alias="live-trading")

    @model_validator(mode="after")
    def _some(self) -> Workloads:
        if self.backtest is None and self.live_trading is None:
            raise ValueError("name the service account of at least one workload role")
        return self

    def of(self, role: RoleName) -> Workload | None:
        if role == "backtest":
            return self.backtest
        if role == "live-trading":
            return self.live_trading
        return None


class GkeCluster(Model):
    """The GKE cluster whose workload identity pool ESO uses for Secret Manager (optional: ESO
    reads them from the metadata server when it runs on GKE)."""

    project: Annotated[str, matching(PROJECT_RE, "a GCP project id")]
    location: Annotated[str, matching(LOCATION_RE, "a GKE location (region or zone)")]
    name: Annotated[str, matching(CLUSTER_RE, "a GKE cluster name")]


class KubernetesSettings(Model):
    """``neural-trader-secrets:kubernetes``."""

    #: The namespace of the workloads (default ``neural-trader-<environment>``).
    namespace: Namespace | None = None
    #: Declare the namespace (False: it exists, managed elsewhere).
    create_namespace: bool = Field(default=True, alias="createNamespace")
    workloads: Workloads
    #: The stores the cluster reads (each enabled before ``kubernetes`` in ``backends``): one
    #: SecretStore per store and workload.
    stores: tuple[Store, ...]
    #: Replaced by ``neural-trader-secrets:placement``: each secret is read from its home store.
    source: Store | None = None
    #: How often ESO re-reads the store, in minutes (bounded by the shortest rotation period).
    refresh_minutes: Annotated[int, Field(ge=1, le=1440)] = Field(
        default=60, alias="refreshMinutes"
    )
    #: What restarts the pods when a Secret changes (``stakater``: Stakater Reloader's
    #: annotation on each target Secret; ``none``: the operator's own rollout).
    reloader: Literal["stakater", "none"] = "stakater"
    gke: GkeCluster | None = None

    @field_validator("stores")
    @classmethod
    def _unique(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if not v:
            raise ValueError("name at least one store the cluster reads")
        if len(set(v)) != len(v):
            raise ValueError("duplicate store")
        return v

    @field_validator("source")
    @classmethod
    def _no_source(cls, v: str | None) -> str | None:
        if v is not None:
            raise ValueError(
                "replaced by neural-trader-secrets:placement: every secret is read from its "
                "home store (remove source)"
            )
        return v

    def namespace_for(self, environment: Environment) -> str:
        return self.namespace or f"neural-trader-{environment.value}"

    def roles(self) -> tuple[RoleName, ...]:
        return tuple(r for r in WORKLOAD_ROLES if self.workloads.of(r) is not None)

    def account(self, role: RoleName) -> str:
        workload = self.workloads.of(role)
        assert workload is not None
        return workload.service_account
