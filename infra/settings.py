"""Stack settings: the validated form of a stack's ``neural-trader-secrets:*`` Pulumi config.

Pure data (no Pulumi imports): the program hands in the raw config map, so the same validation runs
under ``pulumi up``, in ``nt-secrets plan`` and in tests. Every problem is collected first and
reported in one :class:`SettingsError` that names each bad key, so nothing is registered from a
half-valid stack.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from infra.catalog import (
    Catalog,
    CatalogEntry,
    Environment,
    PostgresUrlGenerator,
    RotationClass,
    RotationStrategy,
    default_catalog,
)
from infra.rotation import contract

PROJECT = "neural-trader-secrets"
NAMESPACE = PROJECT + ":"

Backend = Literal["aws", "gcp", "azure", "vault", "kubernetes"]
IMPLEMENTED_BACKENDS: frozenset[str] = frozenset({"aws"})

RoleName = Literal["backtest", "live-trading", "developer", "trader", "admin", "auditor"]
ROLE_NAMES: tuple[RoleName, ...] = (
    "backtest",
    "live-trading",
    "developer",
    "trader",
    "admin",
    "auditor",
)

ACCOUNT_RE = re.compile(r"^\d{12}$")
REGION_RE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$")
PRINCIPAL_ARN_RE = re.compile(
    r"^arn:aws[a-z-]*:(iam|sts)::\d{12}:(root|role/[\w+=,.@/-]+|user/[\w+=,.@/-]+|"
    r"assumed-role/[\w+=,.@/-]+)$"
)
SERVICE_PRINCIPAL_RE = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)*\.amazonaws\.com$")
FEDERATED_RE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:oidc-provider/[\w./-]+$")
BUCKET_RE = re.compile(r"^(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
HOST_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
IDENT_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# A Secrets Manager secret ARN (name plus the 6-character suffix AWS appends).
SECRET_ARN_RE = re.compile(
    r"^arn:aws[a-z-]*:secretsmanager:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):secret:"
    r"[A-Za-z0-9/_+=.@!-]+-[A-Za-z0-9]{6}$"
)
# What AWS accepts in a tag value (Secrets Manager tags carry the rotation settings to the Lambda).
TAG_VALUE_RE = re.compile(r"^[\w\s+=.:/@-]{0,256}$")
REDIS_USER_RE = re.compile(r"^[A-Za-z0-9_.@-]{1,128}$")


def _matching(pattern: re.Pattern[str], what: str) -> AfterValidator:
    """A validator that accepts only values matching ``pattern``, naming ``what`` otherwise."""

    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(f"{value!r} is not {what}")
        return value

    return AfterValidator(check)


Host = Annotated[str, _matching(HOST_RE, "a host name")]
PgIdentifier = Annotated[str, _matching(IDENT_RE, "a PostgreSQL identifier (lowercase, digits, _)")]
RedisUser = Annotated[str, _matching(REDIS_USER_RE, "a Redis ACL user name (A-Za-z0-9_.@-)")]
BucketName = Annotated[str, _matching(BUCKET_RE, "a valid S3 bucket name")]
Email = Annotated[str, _matching(EMAIL_RE, "an e-mail address")]
Region = Annotated[str, _matching(REGION_RE, "an AWS region name")]
AccountId = Annotated[str, _matching(ACCOUNT_RE, "a 12-digit AWS account id")]
Port = Annotated[int, Field(ge=1, le=65535)]


class SettingsError(ValueError):
    """Invalid stack settings: ``problems`` holds one ``(key, reason)`` per bad key."""

    def __init__(self, problems: Iterable[tuple[str, str]]) -> None:
        self.problems = sorted(set(problems))
        lines = [f"  - {key}: {reason}" for key, reason in self.problems]
        super().__init__("invalid stack settings:\n" + "\n".join(lines))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _principal(value: str) -> str:
    if value == "*" or "*" in value:
        raise ValueError(f"{value!r}: wildcard principals are not allowed")
    if FEDERATED_RE.fullmatch(value):
        raise ValueError(
            f"{value!r}: an OIDC provider needs the subjects it may assume the role for: "
            "{provider: <arn>, subjects: [system:serviceaccount:<namespace>:<name>]}"
        )
    if not (PRINCIPAL_ARN_RE.fullmatch(value) or SERVICE_PRINCIPAL_RE.fullmatch(value)):
        raise ValueError(
            f"{value!r} is not an IAM principal ARN or a service principal (*.amazonaws.com)"
        )
    return value


class OidcPrincipal(_Model):
    """A workload identity: an OIDC provider (EKS IRSA, GitHub Actions...) and the exact subjects
    (service accounts, repositories) that may assume the role through it."""

    provider: Annotated[str, _matching(FEDERATED_RE, "an IAM OIDC provider ARN")]
    subjects: Annotated[tuple[str, ...], Field(min_length=1)]
    audience: str = "sts.amazonaws.com"

    @field_validator("subjects")
    @classmethod
    def _subjects(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for subject in v:
            if not subject or "*" in subject or "?" in subject:
                raise ValueError(f"{subject!r}: subjects must be exact (no wildcards)")
        return v

    @property
    def issuer(self) -> str:
        return self.provider.split(":oidc-provider/", 1)[1]


Principal = Annotated[str, Field(min_length=1)] | OidcPrincipal


class RolePrincipals(_Model):
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


def _secret_arn(value: str) -> str:
    if not SECRET_ARN_RE.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a Secrets Manager secret ARN "
            "(arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 chars>)"
        )
    if not TAG_VALUE_RE.fullmatch(value):
        # It travels to the Lambda as a tag (rotation-master-secret), and tag values cannot hold
        # '!' (the RDS-managed "rds!cluster-..." secrets): copy such credentials to a secret
        # whose name tags can carry.
        raise ValueError(
            f"{value!r} cannot be a tag value (letters, digits, spaces and _.:/=+-@ only); "
            "name a master secret without '!'"
        )
    return value


SecretArn = Annotated[str, AfterValidator(_secret_arn)]


class Database(_Model):
    """Where a generated PostgreSQL URL points (its password is generated)."""

    host: Host
    port: Port = 5432
    database: PgIdentifier
    username: PgIdentifier
    sslmode: Literal["disable", "prefer", "require", "verify-ca", "verify-full"] = "require"
    # ARN of the admin secret ({"username", "password"}) postgres-alternating-users rotation uses.
    master_secret: SecretArn | None = Field(default=None, alias="masterSecret")


class Redis(_Model):
    """The Redis server whose ACL user REDIS_PASSWORD belongs to (redis-acl rotation)."""

    host: Host
    port: Port = 6379
    username: RedisUser
    tls: bool = True
    # ARN of the admin secret ({"username", "password"}, a user with +acl) the rotation uses.
    master_secret: SecretArn = Field(alias="masterSecret")

    @property
    def endpoint(self) -> str:
        return f"{self.host}:{self.port}"


class Buckets(_Model):
    market_data: BucketName = Field(alias="marketData")
    artifacts: BucketName
    logs: BucketName
    audit: BucketName


class Notifications(_Model):
    emails: tuple[Email, ...] = ()


class StackSettings(_Model):
    """Validated settings of one stack."""

    environment: Environment
    backends: tuple[Backend, ...] = ("aws",)
    region: Region
    account_id: AccountId = Field(alias="accountId")
    principals: RolePrincipals = RolePrincipals()
    recovery_window_days: Annotated[int, Field(ge=7, le=30)] | None = Field(
        default=None, alias="recoveryWindowDays"
    )
    rotation_overrides: Mapping[str, Annotated[int, Field(ge=1)]] = Field(
        default_factory=dict, alias="rotationOverrides"
    )
    revoked: tuple[str, ...] = ()
    buckets: Buckets | None = None
    databases: Mapping[str, Database] = Field(default_factory=dict)
    redis: Redis | None = None
    notifications: Notifications = Notifications()
    audit_trail: bool | None = Field(default=None, alias="auditTrail")
    protect: bool | None = None
    # Catalog names of third-party secrets whose values the stack config carries (set by the loader
    # from `pulumi config set --secret neural-trader-secrets:<NAME>`); never the values themselves.
    supplied_values: tuple[str, ...] = Field(default=(), alias="suppliedValues")

    @field_validator("backends")
    @classmethod
    def _backends(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if not v:
            raise ValueError("enable at least one backend")
        if len(set(v)) != len(v):
            raise ValueError("duplicate backend")
        return v

    @model_validator(mode="after")
    def _production_rules(self) -> StackSettings:
        if self.environment is Environment.PRODUCTION:
            if self.recovery_window_days is not None and self.recovery_window_days < 30:
                raise ValueError("recoveryWindowDays must be 30 in production")
            if self.protect is False:
                raise ValueError("protect cannot be turned off in production")
            if self.audit_trail is False:
                raise ValueError("auditTrail cannot be turned off in production")
            if self.redis is not None and not self.redis.tls:
                raise ValueError("redis.tls cannot be turned off in production")
        return self

    # ---- derived values ------------------------------------------------------------------------

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.PRODUCTION

    @property
    def recovery_window(self) -> int:
        if self.recovery_window_days is not None:
            return self.recovery_window_days
        return 30 if self.is_production else 7

    @property
    def protected(self) -> bool:
        return self.protect if self.protect is not None else self.is_production

    @property
    def audit_trail_enabled(self) -> bool:
        return self.audit_trail if self.audit_trail is not None else self.is_production

    @property
    def bucket_names(self) -> Buckets:
        if self.buckets is not None:
            return self.buckets
        env = self.environment.value
        return Buckets.model_validate(
            {
                "marketData": f"neural-trader-{env}-market-data",
                "artifacts": f"neural-trader-{env}-artifacts",
                "logs": f"neural-trader-{env}-logs",
                "audit": f"neural-trader-{env}-audit-{self.account_id}",
            }
        )

    def rotation_days(self, entry: CatalogEntry) -> int:
        """The rotation period of a secret: its class maximum, or a (shorter) stack override."""
        assert entry.rotation is not None
        candidates = [entry.rotation.max_age_days]
        for key in (entry.rotation.value, entry.name):
            if key in self.rotation_overrides:
                candidates.append(self.rotation_overrides[key])
        return min(candidates)

    def rotation_tags(self, entry: CatalogEntry) -> dict[str, str]:
        """The tags the rotation Lambda reads for ``entry`` (infra/rotation/contract.py), beyond
        ``rotation-strategy``: the master secret and Redis endpoint its strategy needs, and the
        provider named in a third-party "rotation due" notice. Validated settings guarantee
        every required value exists (``_cross_check``)."""
        tags: dict[str, str] = {}
        strategy = entry.strategy
        if strategy is RotationStrategy.THIRD_PARTY_MANUAL:
            tags[contract.TAG_PROVIDER] = entry.service
        if strategy in (
            RotationStrategy.POSTGRES_ALTERNATING_USERS,
            RotationStrategy.POSTGRES_SINGLE_USER,
        ):
            db = self.databases.get(entry.name)
            if db is not None and db.master_secret is not None:
                tags[contract.TAG_MASTER_SECRET] = db.master_secret
        if strategy is RotationStrategy.REDIS_ACL and self.redis is not None:
            tags[contract.TAG_MASTER_SECRET] = self.redis.master_secret
            tags[contract.TAG_REDIS_ENDPOINT] = self.redis.endpoint
            tags[contract.TAG_REDIS_USER] = self.redis.username
            tags[contract.TAG_REDIS_TLS] = "true" if self.redis.tls else "false"
        return tags

    def master_secrets(self, entries: Iterable[CatalogEntry]) -> tuple[str, ...]:
        """ARNs of the admin secrets the rotation of ``entries`` reads (sorted, unique)."""
        return tuple(
            sorted(
                {
                    tags[contract.TAG_MASTER_SECRET]
                    for tags in (self.rotation_tags(e) for e in entries if e.rotatable)
                    if contract.TAG_MASTER_SECRET in tags
                }
            )
        )


# Keys of the raw config that are not settings fields but are understood by the loader.
_SETTINGS_KEYS = {
    (f.alias or name) for name, f in StackSettings.model_fields.items() if name != "supplied_values"
}


def _decode(raw: Any) -> Any:
    """Pulumi hands structured config to programs as JSON strings; scalars stay strings (pydantic
    converts numbers and booleans where a field asks for them)."""
    if isinstance(raw, str):
        text = raw.strip()
        if text[:1] in ("{", "["):
            try:
                return json.loads(text)
            except json.JSONDecodeError:
                return raw
    return raw


def _cross_check(settings: StackSettings, catalog: Catalog) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    for backend in settings.backends:
        if backend not in IMPLEMENTED_BACKENDS:
            problems.append((f"{NAMESPACE}backends", f"backend '{backend}' is not implemented yet"))
    names = set(catalog.names)
    stored = {e.name for e in catalog.stored_in(settings.environment)}
    classes = {c.value for c in RotationClass}
    for key, days in settings.rotation_overrides.items():
        full = f"{NAMESPACE}rotationOverrides.{key}"
        if key in classes:
            limit = RotationClass(key).max_age_days
        elif key in names:
            entry = catalog.get(key)
            if entry.rotation is None:
                problems.append((full, f"{key} is not rotated"))
                continue
            limit = entry.rotation.max_age_days
        else:
            problems.append((full, "neither a rotation class nor a catalog entry"))
            continue
        if days > limit:
            problems.append(
                (
                    full,
                    f"{days} days exceeds the schedule ({limit} days): overrides may only shorten it",
                )
            )
    seen: set[str] = set()
    for name in settings.revoked:
        if name in seen:
            problems.append((f"{NAMESPACE}revoked", f"{name} listed twice"))
        seen.add(name)
        if name not in stored:
            problems.append(
                (
                    f"{NAMESPACE}revoked",
                    f"{name} is not a secret stored in {settings.environment.value}",
                )
            )
    needed_dbs = {
        e.name
        for e in catalog.stored_in(settings.environment)
        if isinstance(e.generator, PostgresUrlGenerator)
    }
    for name in sorted(needed_dbs - set(settings.databases)):
        problems.append(
            (
                f"{NAMESPACE}databases.{name}",
                "required: host, database and username of the generated URL",
            )
        )
    for name in sorted(set(settings.databases) - needed_dbs):
        problems.append(
            (f"{NAMESPACE}databases.{name}", "not a generated database URL of this environment")
        )
    stored_entries = catalog.stored_in(settings.environment)
    for entry in stored_entries:
        if (
            entry.strategy is RotationStrategy.POSTGRES_ALTERNATING_USERS
            and entry.name in settings.databases
            and settings.databases[entry.name].master_secret is None
        ):
            problems.append(
                (
                    f"{NAMESPACE}databases.{entry.name}.masterSecret",
                    "required by postgres-alternating-users rotation: the ARN of the secret "
                    'holding {"username", "password"} of a user with CREATEROLE',
                )
            )
    redis_users = [e.name for e in stored_entries if e.strategy is RotationStrategy.REDIS_ACL]
    if redis_users and settings.redis is None:
        problems.append(
            (
                f"{NAMESPACE}redis",
                f"required by redis-acl rotation of {', '.join(redis_users)}: "
                "host, port, username, tls and masterSecret of the Redis server",
            )
        )
    if settings.redis is not None and not redis_users:
        problems.append(
            (f"{NAMESPACE}redis", f"no redis-acl secret is stored in {settings.environment.value}")
        )
    masters = [
        (f"databases.{name}.masterSecret", db.master_secret)
        for name, db in settings.databases.items()
    ]
    if settings.redis is not None:
        masters.append(("redis.masterSecret", settings.redis.master_secret))
    for key, arn in masters:
        match = SECRET_ARN_RE.fullmatch(arn or "")
        if match and (match["region"], match["account"]) != (
            settings.region,
            settings.account_id,
        ):
            problems.append(
                (
                    f"{NAMESPACE}{key}",
                    f"must be a secret of this stack's account {settings.account_id} "
                    f"in {settings.region}",
                )
            )
    if not problems:
        # Whatever the rules above missed: every rotatable secret gets the tags its strategy needs.
        for entry in stored_entries:
            if not entry.rotatable or entry.strategy is None:
                continue
            missing = contract.missing_tags(entry.strategy, settings.rotation_tags(entry))
            if missing:
                problems.append(
                    (
                        f"{NAMESPACE}(rotation of {entry.name})",
                        f"{entry.strategy.value} rotation needs tags {', '.join(missing)}; "
                        "no setting provides them",
                    )
                )
    return problems


def parse_settings(
    config: Mapping[str, Any],
    *,
    secret_keys: Iterable[str] = (),
    catalog: Catalog | None = None,
) -> StackSettings:
    """Validate a raw Pulumi config map (``namespace:key`` -> value) into StackSettings.

    Keys of other namespaces (``aws:region``, ...) are left to their providers. A key named after a
    catalog entry carries that secret's value: it must be a secret (``--secret``) third-party entry.
    """
    catalog = catalog or default_catalog()
    secret_set = set(secret_keys)
    problems: list[tuple[str, str]] = []
    values: dict[str, Any] = {}
    supplied: list[str] = []
    for full_key, raw in config.items():
        if not full_key.startswith(NAMESPACE):
            continue
        key = full_key[len(NAMESPACE) :]
        if key in _SETTINGS_KEYS:
            values[key] = _decode(raw)
            continue
        if key in catalog.names:
            entry = catalog.get(key)
            if not entry.stored:
                problems.append((full_key, f"{key} is not a stored secret; it needs no value here"))
            elif entry.generated:
                problems.append(
                    (full_key, f"{key} is generated by the infrastructure; do not set it")
                )
            elif full_key not in secret_set:
                problems.append(
                    (
                        full_key,
                        "secret values must be set with `pulumi config set --secret`, never in plaintext",
                    )
                )
            else:
                supplied.append(key)
            continue
        problems.append((full_key, "unknown setting"))
    values["suppliedValues"] = tuple(sorted(supplied))
    settings: StackSettings | None = None
    try:
        settings = StackSettings.model_validate(values)
    except ValidationError as exc:
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            key = f"{NAMESPACE}{loc}" if loc else f"{NAMESPACE}(settings)"
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "missing":
                msg = "required"
            problems.append((key, msg))
    if settings is not None:
        problems.extend(_cross_check(settings, catalog))
    if problems:
        raise SettingsError(problems)
    assert settings is not None
    return settings
