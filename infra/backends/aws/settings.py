"""The AWS backend's settings block, ``neural-trader-secrets:aws``: where the estate lives (region,
account), who may assume each role, and the S3 buckets the workload roles use.

Pure data (no Pulumi imports).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated

from pydantic import Field, field_validator

from infra.access import RoleName
from infra.settings import NAMESPACE, Model, StackSettings, matching

ACCOUNT_RE = re.compile(r"^\d{12}$")
REGION_RE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$")
PRINCIPAL_ARN_RE = re.compile(
    r"^arn:aws[a-z-]*:(iam|sts)::\d{12}:(root|role/[\w+=,.@/-]+|user/[\w+=,.@/-]+|"
    r"assumed-role/[\w+=,.@/-]+)$"
)
SERVICE_PRINCIPAL_RE = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)*\.amazonaws\.com$")
FEDERATED_RE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:oidc-provider/[\w./-]+$")
BUCKET_RE = re.compile(r"^(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
# A Secrets Manager secret ARN (name plus the 6-character suffix AWS appends).
SECRET_ARN_RE = re.compile(
    r"^arn:aws[a-z-]*:secretsmanager:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):secret:"
    r"[A-Za-z0-9/_+=.@!-]+-[A-Za-z0-9]{6}$"
)
# What AWS accepts in a tag value (Secrets Manager tags carry the rotation settings to the Lambda).
TAG_VALUE_RE = re.compile(r"^[\w\s+=.:/@-]{0,256}$")

BucketName = Annotated[str, matching(BUCKET_RE, "a valid S3 bucket name")]
Region = Annotated[str, matching(REGION_RE, "an AWS region name")]
AccountId = Annotated[str, matching(ACCOUNT_RE, "a 12-digit AWS account id")]


def _principal(value: str) -> str:
    if value == "*" or "*" in value:
        raise ValueError("wildcard principals are not allowed")
    if FEDERATED_RE.fullmatch(value):
        raise ValueError(
            "an OIDC provider needs the subjects it may assume the role for: "
            "{provider: <arn>, subjects: [system:serviceaccount:<namespace>:<name>]}"
        )
    if not (PRINCIPAL_ARN_RE.fullmatch(value) or SERVICE_PRINCIPAL_RE.fullmatch(value)):
        raise ValueError("not an IAM principal ARN or a service principal (*.amazonaws.com)")
    return value


class OidcPrincipal(Model):
    """A workload identity: an OIDC provider (EKS IRSA, GitHub Actions...) and the exact subjects
    (service accounts, repositories) that may assume the role through it."""

    provider: Annotated[str, matching(FEDERATED_RE, "an IAM OIDC provider ARN")]
    subjects: Annotated[tuple[str, ...], Field(min_length=1)]
    audience: str = "sts.amazonaws.com"

    @field_validator("subjects")
    @classmethod
    def _subjects(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for subject in v:
            if not subject or "*" in subject or "?" in subject:
                raise ValueError("subjects must be exact (no wildcards)")
        return v

    @property
    def issuer(self) -> str:
        return self.provider.split(":oidc-provider/", 1)[1]


Principal = Annotated[str, Field(min_length=1)] | OidcPrincipal


class RolePrincipals(Model):
    """Who may assume each role (trust policies)."""

    backtest: tuple[Principal, ...] = ()
    live_trading: tuple[Principal, ...] = Field(default=(), alias="live-trading")
    developer: tuple[Principal, ...] = ()
    trader: tuple[Principal, ...] = ()
    admin: tuple[Principal, ...] = ()
    auditor: tuple[Principal, ...] = ()

    @field_validator("*", mode="after")
    @classmethod
    def _check(cls, values: tuple[str | OidcPrincipal, ...]) -> tuple[str | OidcPrincipal, ...]:
        for v in values:
            if isinstance(v, str):
                _principal(v)
        if len(set(values)) != len(values):
            raise ValueError("duplicate principal")
        return values

    def for_role(self, role: RoleName) -> tuple[str | OidcPrincipal, ...]:
        attr: str = role.replace("-", "_")
        value: tuple[str | OidcPrincipal, ...] = getattr(self, attr)
        return value


class Buckets(Model):
    market_data: BucketName = Field(alias="marketData")
    artifacts: BucketName
    logs: BucketName
    audit: BucketName


class AwsSettings(Model):
    """``neural-trader-secrets:aws``."""

    region: Region
    account_id: AccountId = Field(alias="accountId")
    principals: RolePrincipals = RolePrincipals()
    buckets: Buckets | None = None

    def bucket_names(self, environment: str) -> Buckets:
        if self.buckets is not None:
            return self.buckets
        return Buckets.model_validate(
            {
                "marketData": f"neural-trader-{environment}-market-data",
                "artifacts": f"neural-trader-{environment}-artifacts",
                "logs": f"neural-trader-{environment}-logs",
                "audit": f"neural-trader-{environment}-audit-{self.account_id}",
            }
        )


def master_secret_problems(settings: StackSettings, aws: AwsSettings) -> Iterator[tuple[str, str]]:
    """The rotation function reads master secrets through Secrets Manager, named by a tag: each
    must be a secret ARN of this stack's account and region, and a valid tag value. Only the
    secrets AWS is home to are its to rotate (another home's executor reads its own store)."""

    def ours(name: str) -> bool:
        placement = settings.placements.get(name)
        return placement is None or placement.home == "aws"

    masters = [
        (f"databases.{name}.masterSecret", db.master_secret)
        for name, db in settings.databases.items()
        if db.master_secret is not None and ours(name)
    ]
    if settings.redis is not None and ours("REDIS_PASSWORD"):
        masters.append(("redis.masterSecret", settings.redis.master_secret))
    for key, ref in masters:
        full = f"{NAMESPACE}{key}"
        match = SECRET_ARN_RE.fullmatch(ref)
        if not match:
            yield (
                full,
                "not a Secrets Manager secret ARN "
                "(arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 chars>)",
            )
            continue
        if not TAG_VALUE_RE.fullmatch(ref):
            # It travels to the Lambda as a tag (rotation-master-secret), and tag values cannot
            # hold '!' (the RDS-managed "rds!cluster-..." secrets): copy such credentials to a
            # secret whose name tags can carry.
            yield (
                full,
                "cannot be a tag value (letters, digits, spaces and _.:/=+-@ only); "
                "name a master secret without '!'",
            )
            continue
        if (match["region"], match["account"]) != (aws.region, aws.account_id):
            yield (
                full,
                f"must be a secret of this stack's account {aws.account_id} in {aws.region}",
            )
