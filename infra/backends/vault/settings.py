"""The Vault backend's settings block, ``neural-trader-secrets:vault``: the server, how the KV v2
mount keeps versions, how workloads (Kubernetes) and CI (AppRole) log in, and the audit device.

Pure data (no Pulumi imports). No token is ever a setting: the provider reads ``VAULT_TOKEN``.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from infra.settings import Model, matching

URL_RE = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?(/[\w./-]*)?$")
SEGMENT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
# Kubernetes names (RFC 1123 labels for namespaces, subdomains for service accounts).
K8S_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")

#: A JWT ``aud`` value: a name or URL, never free text (it is written into the auth role).
AUDIENCE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,255}$")

Url = Annotated[str, matching(URL_RE, "an http(s) URL")]
Segment = Annotated[str, matching(SEGMENT_RE, "a Vault path segment (A-Za-z0-9_.-)")]
K8sName = Annotated[str, matching(K8S_NAME_RE, "a Kubernetes name (lowercase, digits, -, .)")]
Seconds = Annotated[int, Field(ge=60, le=86400)]


class ServiceAccount(Model):
    """The one Kubernetes service account a workload role is bound to."""

    namespace: K8sName
    name: K8sName


class WorkloadAccounts(Model):
    backtest: ServiceAccount | None = None
    live_trading: ServiceAccount | None = Field(default=None, alias="live-trading")


class KubernetesAuth(Model):
    """Kubernetes auth for the workload roles: each bound to exactly one service account."""

    host: Url
    # PEM of the cluster's CA: required when Vault runs outside the cluster (inside, it reads the
    # pod's own CA and service-account token).
    ca_cert: (
        Annotated[
            str, Field(pattern=r"^-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----\s*$")
        ]
        | None
    ) = Field(default=None, alias="caCert")
    audience: Annotated[str, matching(AUDIENCE_RE, "a JWT audience (A-Za-z0-9._:/-)")] = "vault"
    service_accounts: WorkloadAccounts = Field(alias="serviceAccounts")
    token_ttl: Seconds = Field(default=900, alias="tokenTtl")
    token_max_ttl: Seconds = Field(default=3600, alias="tokenMaxTtl")

    @model_validator(mode="after")
    def _ttls(self) -> KubernetesAuth:
        if self.token_ttl > self.token_max_ttl:
            raise ValueError("tokenTtl cannot exceed tokenMaxTtl")
        return self


#: A five-field cron schedule (minute hour day-of-month month day-of-week), as a CronJob takes it.
CRON_RE = re.compile(r"^[0-9*/,-]+( [0-9*/,-]+){4}$")
#: A container image: registry/repository, then a tag and/or a sha256 digest.
IMAGE_RE = re.compile(
    r"^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]{1,5})?(\.[a-z0-9-]+)*"
    r"(/[a-z0-9]+([._-][a-z0-9]+)*)+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[0-9a-f]{64})?$"
)
#: An IANA time zone name (``Etc/UTC``, ``America/New_York``).
TZ_RE = re.compile(r"^[A-Za-z]+(/[A-Za-z0-9_+-]+){0,2}$")


class RotationJob(Model):
    """The Vault rotation job (``python -m infra.rotation.vault_job``), run by the Kubernetes
    delivery as a CronJob under its own service account, which Vault's Kubernetes auth lets in
    with exactly the job's policy (docs/rotation.md, "Vault")."""

    namespace: K8sName
    service_account: K8sName = Field(alias="serviceAccount")
    #: When the job looks for due secrets: at least daily (a rotation is due by the day).
    schedule: Annotated[str, matching(CRON_RE, "a five-field cron schedule")] = "17 3 * * *"
    time_zone: Annotated[str, matching(TZ_RE, "an IANA time zone name")] = Field(
        default="Etc/UTC", alias="timeZone"
    )
    #: The image holding this repository's ``infra.rotation`` and its requirements.
    image: Annotated[str, matching(IMAGE_RE, "a container image reference (registry/repo:tag)")]

    @field_validator("schedule")
    @classmethod
    def _daily(cls, v: str) -> str:
        if v.split(" ")[2:] != ["*", "*", "*"]:
            raise ValueError(
                "must run at least daily (day-of-month, month and day-of-week '*'): the job "
                "rotates what is due by the day"
            )
        return v

    @field_validator("image")
    @classmethod
    def _pinned(cls, v: str) -> str:
        if "@sha256:" not in v and (":" not in v.rsplit("/", 1)[-1] or v.endswith(":latest")):
            raise ValueError("name a tag other than latest, or a sha256 digest")
        return v


def _cidr(value: str) -> str:
    try:
        net = ipaddress.ip_network(value, strict=True)
    except ValueError:
        raise ValueError("not a CIDR block") from None
    if net.prefixlen == 0:
        raise ValueError("a CIDR block admits every address")
    return value


class AppRoleAuth(Model):
    """AppRole for CI: single-use, short-lived secret ids, bound to CI's networks."""

    role: Literal["backtest", "developer"] = "backtest"
    token_bound_cidrs: Annotated[tuple[str, ...], Field(min_length=1)] = Field(
        alias="tokenBoundCidrs"
    )
    secret_id_ttl: Seconds = Field(default=600, alias="secretIdTtl")
    secret_id_num_uses: Annotated[int, Field(ge=1, le=10)] = Field(
        default=1, alias="secretIdNumUses"
    )
    token_ttl: Seconds = Field(default=900, alias="tokenTtl")
    token_max_ttl: Seconds = Field(default=1800, alias="tokenMaxTtl")

    @field_validator("token_bound_cidrs")
    @classmethod
    def _cidrs(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for cidr in v:
            _cidr(cidr)
        return v


class Audit(Model):
    """A file audit device (HMACs secret fields; the raw log is never enabled).

    ``declaredIn: api`` (HashiCorp Vault) declares it as a resource; ``serverConfig`` (OpenBao
    2.x, which refuses enabling audit devices over the API since CVE-2025-54997) leaves it to the
    server's configuration file, where ``docs/vault.md`` shows the stanza to add."""

    file_path: Annotated[str, Field(pattern=r"^(/[\w.-]+)+$")] = Field(
        default="/vault/audit/audit.log", alias="filePath"
    )
    declared_in: Literal["api", "serverConfig"] = Field(default="api", alias="declaredIn")


class VaultSettings(Model):
    """``neural-trader-secrets:vault``."""

    address: Url
    mount_prefix: Segment = Field(default="neural-trader", alias="mountPrefix")
    max_versions: Annotated[int, Field(ge=1, le=100)] = Field(default=10, alias="maxVersions")
    # How long a version lives (0: until max_versions pushes it out), in seconds.
    delete_version_after: Annotated[int, Field(ge=0, le=63072000)] = Field(
        default=0, alias="deleteVersionAfter"
    )
    kubernetes: KubernetesAuth | None = None
    app_role: AppRoleAuth | None = Field(default=None, alias="appRole")
    audit: Audit = Audit()
    rotation: RotationJob | None = None

    @field_validator("address")
    @classmethod
    def _tls(cls, v: str) -> str:
        if v.startswith("http://") and not v.startswith(("http://127.0.0.1", "http://localhost")):
            raise ValueError("Vault must be reached over https (plain http only on loopback)")
        return v
