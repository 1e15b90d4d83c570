"""The GCP backend's settings block, ``neural-trader-secrets:gcp``: the project, where replicas and
keys live, the exact identity standing for each access-model role, the rotation schedule's anchor
and who is told when a secret is due, and the Cloud KMS keys' lifecycle.

Pure data (no Pulumi imports). No credential is ever a setting: the provider authenticates with
the deployer's Application Default Credentials (or workload identity in CI).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from infra.access import RoleName
from infra.settings import Model, matching

#: A project id: 6-30 lowercase letters, digits and hyphens, starting with a letter.
PROJECT_RE = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
#: A Cloud location for replicas and key rings (``us-east1``, ``europe-west4``...): a region.
LOCATION_RE = re.compile(r"^[a-z]+-[a-z]+[0-9]{1,2}$")
#: A service account's account id (the part before ``@``), as IAM accepts it.
ACCOUNT_ID_RE = re.compile(r"^[a-z](?:[-a-z0-9]{4,28}[a-z0-9])$")
#: A prefix of secret ids: Secret Manager ids are [A-Za-z0-9_-]; ours stay lowercase.
PREFIX_RE = re.compile(r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")
EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"
#: An exact service account (a user-managed one: ``name@project.iam.gserviceaccount.com``, or a
#: Google-managed one ending in ``.gserviceaccount.com``).
SERVICE_ACCOUNT_RE = re.compile(
    r"^serviceAccount:[a-z0-9][a-z0-9._-]*@[a-z0-9.-]+\.gserviceaccount\.com$"
)
#: One exact federated principal (workload identity federation, including GKE's pool): a
#: ``principal://`` subject, never a ``principalSet://`` (a whole pool, namespace or attribute set).
PRINCIPAL_RE = re.compile(r"^principal://iam\.googleapis\.com/[A-Za-z0-9._:/@-]+/subject/[^*\s]+$")
GROUP_RE = re.compile(rf"^group:{EMAIL}$")
USER_RE = re.compile(rf"^user:{EMAIL}$")
#: Kubernetes names (RFC 1123) for the GKE workload identity binding of a created account.
K8S_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
#: An RFC 3339 UTC instant on a whole second (``2026-07-01T00:00:00Z``).
INSTANT_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")

ProjectId = Annotated[str, matching(PROJECT_RE, "a GCP project id")]
Location = Annotated[str, matching(LOCATION_RE, "a GCP region (e.g. us-east1)")]
AccountId = Annotated[str, matching(ACCOUNT_ID_RE, "a service account id (6-30 of a-z0-9-)")]
K8sName = Annotated[str, matching(K8S_NAME_RE, "a Kubernetes name (lowercase, digits, -, .)")]

WORKLOAD_ROLES: tuple[RoleName, ...] = ("backtest", "live-trading")
HUMAN_ROLES: tuple[RoleName, ...] = ("developer", "trader", "admin", "auditor")


def workload_member(value: str) -> str:
    """An exact workload identity: one service account, or one federated principal."""
    if "*" in value or value.startswith(("principalSet://", "allUsers", "allAuthenticatedUsers")):
        raise ValueError(
            "a workload is one exact identity (serviceAccount:<email> or principal://...), "
            "never a set of identities"
        )
    if not (SERVICE_ACCOUNT_RE.fullmatch(value) or PRINCIPAL_RE.fullmatch(value)):
        raise ValueError(
            "not serviceAccount:<name>@<project>.iam.gserviceaccount.com "
            "or an exact principal://iam.googleapis.com/.../subject/<subject>"
        )
    return value


def group_member(value: str) -> str:
    if not GROUP_RE.fullmatch(value):
        raise ValueError("not group:<email> (human roles are granted to groups)")
    return value


def subscriber_member(value: str) -> str:
    """Who may pull rotation notices: an exact service account, principal, group or user."""
    if not (
        SERVICE_ACCOUNT_RE.fullmatch(value)
        or PRINCIPAL_RE.fullmatch(value)
        or GROUP_RE.fullmatch(value)
        or USER_RE.fullmatch(value)
    ):
        raise ValueError("not an exact member (serviceAccount:, principal://, group: or user:)")
    return value


class KubernetesServiceAccount(Model):
    """The one Kubernetes service account (GKE workload identity) that may act as a created
    service account."""

    namespace: K8sName
    name: K8sName
    #: The project whose GKE pool (``<project>.svc.id.goog``) the cluster uses; default: the
    #: block's project.
    project: ProjectId | None = None


class CreatedServiceAccount(Model):
    """A service account the backend creates for a workload role (in the block's project)."""

    account_id: AccountId = Field(alias="accountId")
    display_name: Annotated[str, Field(min_length=1, max_length=100)] | None = Field(
        default=None, alias="displayName"
    )
    kubernetes: KubernetesServiceAccount | None = None


class Workload(Model):
    """The identity of a workload role: an existing one named exactly (``member``), or a service
    account the backend creates (``create``) — one of the two."""

    member: str | None = None
    create: CreatedServiceAccount | None = None

    @field_validator("member")
    @classmethod
    def _exact(cls, v: str | None) -> str | None:
        return workload_member(v) if v is not None else None

    @model_validator(mode="after")
    def _one(self) -> Workload:
        if (self.member is None) == (self.create is None):
            raise ValueError("give either member (an existing identity) or create (a new account)")
        return self


class WorkloadIdentities(Model):
    """Per workload role, its identity (roles left out have none in this store)."""

    backtest: Workload | None = None
    live_trading: Workload | None = Field(default=None, alias="live-trading")


class HumanGroups(Model):
    """Per human role: the Google group whose members hold it."""

    developer: str | None = None
    trader: str | None = None
    admin: str | None = None
    auditor: str | None = None

    @field_validator("*", mode="after")
    @classmethod
    def _group(cls, v: str | None) -> str | None:
        return group_member(v) if v is not None else None


class Rotation(Model):
    """Secret Manager rotation notices.

    ``anchor`` fixes the schedule: a secret rotated every N days is first due at ``anchor + N days``
    (Secret Manager needs a ``nextRotationTime`` with every ``rotationPeriod``; a fixed anchor keeps
    the plan deterministic, and after the first deploy Secret Manager advances the time itself).
    Set it to the day of the first deployment or later. ``subscribers`` may pull the notices from
    the environment's subscription.
    """

    anchor: str
    subscribers: tuple[str, ...] = ()

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

    @field_validator("subscribers")
    @classmethod
    def _subscribers(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for member in v:
            subscriber_member(member)
        if len(set(v)) != len(v):
            raise ValueError("duplicate subscriber")
        return v

    @property
    def anchor_time(self) -> datetime:
        return datetime.strptime(self.anchor, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


class Kms(Model):
    """The customer-managed keys (one key ring and one key per location)."""

    #: Automatic rotation of every key (CIS GCP 1.10, checkov CKV_GCP_43: at most 90 days).
    rotation_days: Annotated[int, Field(ge=1, le=90)] = Field(default=90, alias="rotationDays")
    #: How long a destroyed key version stays recoverable (Cloud KMS: 1-120 days; 30 or more in
    #: production).
    destroy_scheduled_days: Annotated[int, Field(ge=1, le=120)] = Field(
        default=30, alias="destroyScheduledDays"
    )
    protection_level: Literal["SOFTWARE", "HSM"] = Field(
        default="SOFTWARE", alias="protectionLevel"
    )


class GcpSettings(Model):
    """``neural-trader-secrets:gcp``."""

    project: ProjectId
    #: Regions of the user-managed replicas, each with its own key ring and key; the first also
    #: holds the rotation topic's messages.
    locations: tuple[Location, ...]
    secret_prefix: Annotated[str, matching(PREFIX_RE, "a secret id prefix (a-z0-9-)")] = Field(
        default="neural-trader", alias="secretPrefix"
    )
    workloads: WorkloadIdentities = WorkloadIdentities()
    groups: HumanGroups = HumanGroups()
    rotation: Rotation
    kms: Kms = Kms()

    @field_validator("locations")
    @classmethod
    def _locations(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if not v:
            raise ValueError("at least 1 location: where the secrets' replicas live")
        if len(v) > 10:
            raise ValueError("at most 10 locations")
        if len(set(v)) != len(v):
            raise ValueError("duplicate location")
        return v

    @model_validator(mode="after")
    def _one_identity_per_role(self) -> GcpSettings:
        seen: dict[str, str] = {}
        for role in (*WORKLOAD_ROLES, *HUMAN_ROLES):
            member = self.member(role)
            if member is None:
                continue
            if member in seen:
                raise ValueError(
                    f"one identity stands for both {seen[member]} and {role}: each role needs its "
                    "own (an identity holding two roles gets both roles' secrets)"
                )
            seen[member] = role
        return self

    def workload(self, role: RoleName) -> Workload | None:
        if role == "backtest":
            return self.workloads.backtest
        if role == "live-trading":
            return self.workloads.live_trading
        return None

    def created(self, role: RoleName) -> CreatedServiceAccount | None:
        """The service account the backend creates for ``role`` (None: it creates none)."""
        workload = self.workload(role)
        return workload.create if workload is not None else None

    def created_email(self, account: CreatedServiceAccount) -> str:
        return f"{account.account_id}@{self.project}.iam.gserviceaccount.com"

    def member(self, role: RoleName) -> str | None:
        """The IAM member standing for ``role`` (None: the role has no identity in this store)."""
        if role in WORKLOAD_ROLES:
            workload = self.workload(role)
            if workload is None:
                return None
            if workload.create is not None:
                return f"serviceAccount:{self.created_email(workload.create)}"
            return workload.member
        value: str | None = getattr(self.groups, role)
        return value
