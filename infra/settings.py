"""Stack settings: the validated form of a stack's ``neural-trader-secrets:*`` Pulumi config.

Pure data (no Pulumi imports): the program hands in the raw config map, so the same validation runs
under ``pulumi up``, in ``nt-secrets plan`` and in tests. Every problem is collected first and
reported in one :class:`SettingsError` that names each bad key, so nothing is registered from a
half-valid stack.

Only what every backend shares lives here (environment, revocation, rotation schedule, the
databases and Redis server generated values point at, notifications, protection). Each backend
reads its own block, ``neural-trader-secrets:<backend>`` (``aws: {region, accountId, principals,
buckets}``), validated by the backend's own settings model (``infra/backends/<name>/``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from infra.catalog import (
    ENV_VAR_RE,
    Catalog,
    CatalogEntry,
    Environment,
    PostgresUrlGenerator,
    RotationClass,
    RotationStrategy,
)
from infra.placement import Placement, PlacementSettings
from policies.contract.redact import describe, pydantic_message
from policies.contract.redact import key as shown_key
from policies.contract.redact import loc as shown_loc
from policies.contract.redact import name as shown_name

PROJECT = "neural-trader-secrets"
NAMESPACE = PROJECT + ":"


#: Settings that moved into a backend's block (``neural-trader-secrets:<backend>``).
MOVED_TO_BACKEND: Mapping[str, str] = {
    "region": "aws",
    "accountId": "aws",
    "principals": "aws",
    "buckets": "aws",
}

BACKEND_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
HOST_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
IDENT_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
REDIS_USER_RE = re.compile(r"^[A-Za-z0-9_.@-]{1,128}$")
# A reference to a secret held by the store that rotates (an ARN for AWS, a path for Vault): no
# whitespace, no control characters. The rotating backend checks its form (infra/backends/*).
SECRET_REF_RE = re.compile(r"^\S{1,2048}$")


def refuse_credential(value: str, what: str) -> str:
    """``value``, unless the pack's credential detectors find a credential in it: what a setting
    holds ends up in resource names, tags and the plan, where a secret must never go."""
    from policies.contract.redact import credential_kind_in_forms

    kind = credential_kind_in_forms(value)  # as given, and lower-/kebab-cased into names
    if kind is not None:
        raise ValueError(
            f"looks like a credential ({kind}, {describe(value)}), not {what}: this setting is "
            "written into resource names and tags; a secret value belongs in "
            "`pulumi config set --secret` under its catalog name"
        )
    return value


def matching(pattern: re.Pattern[str], what: str) -> AfterValidator:
    """A validator that accepts only values matching ``pattern``, naming ``what`` otherwise, and
    refuses credential-shaped values (:func:`refuse_credential`). The message never quotes the
    value: only its kind and length (``<string, 40 chars>``)."""

    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(f"not {what} ({describe(value)})")
        return refuse_credential(value, what)

    return AfterValidator(check)


def _not_boolean(value: Any) -> Any:
    """Refuse a boolean where a number is meant (pydantic would read ``true`` as 1)."""
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    return value


#: An integer that is not a boolean (``rotationOverrides: {api_key: true}`` is not one day).
StrictNumber = BeforeValidator(_not_boolean)


Host = Annotated[str, matching(HOST_RE, "a host name")]
PgIdentifier = Annotated[str, matching(IDENT_RE, "a PostgreSQL identifier (lowercase, digits, _)")]
RedisUser = Annotated[str, matching(REDIS_USER_RE, "a Redis ACL user name (A-Za-z0-9_.@-)")]
Email = Annotated[str, matching(EMAIL_RE, "an e-mail address")]
Port = Annotated[int, StrictNumber, Field(ge=1, le=65535)]
Days = Annotated[int, StrictNumber, Field(ge=1)]
SecretRef = Annotated[str, matching(SECRET_REF_RE, "a secret reference (no spaces)")]


class SettingsError(ValueError):
    """Invalid stack settings: ``problems`` holds one ``(key, reason)`` per bad key."""

    def __init__(self, problems: Iterable[tuple[str, str]]) -> None:
        self.problems = sorted(set(problems))
        lines = [f"  - {key}: {reason}" for key, reason in self.problems]
        super().__init__("invalid stack settings:\n" + "\n".join(lines))


class Model(BaseModel):
    """Base of every settings model: unknown keys refused, immutable, aliases accepted."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Database(Model):
    """Where a generated PostgreSQL URL points (its password is generated)."""

    host: Host
    port: Port = 5432
    database: PgIdentifier
    username: PgIdentifier
    sslmode: Literal["disable", "prefer", "require", "verify-ca", "verify-full"] = "require"
    # The admin secret ({"username", "password"}) postgres-alternating-users rotation uses, as the
    # rotating store names it (AWS: the secret's ARN).
    master_secret: SecretRef | None = Field(default=None, alias="masterSecret")


class Redis(Model):
    """The Redis server whose ACL user REDIS_PASSWORD belongs to (redis-acl rotation)."""

    host: Host
    port: Port = 6379
    username: RedisUser
    tls: bool = True
    # The admin secret ({"username", "password"}, a user with +acl) the rotation uses.
    master_secret: SecretRef = Field(alias="masterSecret")

    @property
    def endpoint(self) -> str:
        return f"{self.host}:{self.port}"


class Notifications(Model):
    emails: tuple[Email, ...] = ()


class EscSettings(Model):
    """Declare the stack's Pulumi ESC environments (``infra/esc.py``) in this Pulumi organization."""

    organization: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")]


class StackSettings(Model):
    """Validated settings of one stack: the neutral part, plus each enabled backend's own block."""

    environment: Environment
    backends: tuple[str, ...] = ("aws",)
    recovery_window_days: Annotated[int, StrictNumber, Field(ge=7, le=30)] | None = Field(
        default=None, alias="recoveryWindowDays"
    )
    rotation_overrides: Mapping[str, Days] = Field(default_factory=dict, alias="rotationOverrides")
    revoked: tuple[str, ...] = ()
    databases: Mapping[str, Database] = Field(default_factory=dict)
    redis: Redis | None = None
    notifications: Notifications = Notifications()
    audit_trail: bool | None = Field(default=None, alias="auditTrail")
    protect: bool | None = None
    #: Each stored secret's home store and replicas (``infra/placement.py``).
    placement: PlacementSettings | None = None
    #: Declare the ESC environments generated from the estate (``pulumiservice`` Environments).
    esc: EscSettings | None = None
    # Catalog names of third-party secrets whose values the stack config carries (set by the loader
    # from `pulumi config set --secret neural-trader-secrets:<NAME>`); never the values themselves.
    supplied_values: tuple[str, ...] = Field(default=(), alias="suppliedValues")
    # Each enabled backend's validated settings block (set by the loader).
    backend_settings: Mapping[str, BaseModel] = Field(default_factory=dict, alias="backendSettings")
    # Catalog name -> where the secret lives, resolved from ``placement`` (set by the loader).
    placements: Mapping[str, Placement] = Field(default_factory=dict)

    @field_validator("backends")
    @classmethod
    def _backends(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if not v:
            raise ValueError("enable at least one backend")
        if len(set(v)) != len(v):
            raise ValueError("duplicate backend")
        for name in v:
            if not BACKEND_NAME_RE.fullmatch(name):
                raise ValueError(f"not a backend name ({describe(name)})")
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

    def rotation_days(self, entry: CatalogEntry) -> int:
        """The rotation period of a secret: its class maximum, or a (shorter) stack override."""
        assert entry.rotation is not None
        candidates = [entry.rotation.max_age_days]
        for key in (entry.rotation.value, entry.name):
            if key in self.rotation_overrides:
                candidates.append(self.rotation_overrides[key])
        return min(candidates)

    def backend(self, name: str) -> BaseModel:
        """The validated settings block of an enabled backend."""
        return self.backend_settings[name]


# Keys of the raw config that are settings fields (backend blocks and secret values are handled
# by the loader).
SETTINGS_KEYS = {
    (f.alias or name)
    for name, f in StackSettings.model_fields.items()
    if name not in ("supplied_values", "backend_settings", "placements")
}


def decode(raw: Any) -> Any:
    """Pulumi hands structured config to programs as JSON strings; scalars stay strings (pydantic
    converts numbers and booleans where a field asks for them). JSON that cannot be read (or holds
    a number CPython refuses to convert, over 4300 digits) stays the string, which the setting's
    model then refuses by its type."""
    if isinstance(raw, str):
        text = raw.strip()
        if text[:1] in ("{", "["):
            try:
                return json.loads(text)
            except (ValueError, RecursionError):
                return raw
    return raw


def validation_problems(exc: ValidationError, prefix: str) -> list[tuple[str, str]]:
    """One ``(key, reason)`` per pydantic error, keys prefixed (``neural-trader-secrets:aws.``).

    Neither the key path nor the reason quotes a rejected value (:mod:`policies.contract.redact`)."""
    problems = []
    for err in exc.errors():
        loc = shown_loc(err["loc"])
        key = f"{prefix}{loc}" if loc else prefix.rstrip(".") or f"{NAMESPACE}(settings)"
        msg = "required" if err["type"] == "missing" else pydantic_message(err)
        problems.append((key, msg))
    return problems


def neutral_problems(settings: StackSettings, catalog: Catalog) -> list[tuple[str, str]]:
    """Problems of the neutral settings against the catalog (overrides, revocations, databases,
    Redis): everything the loader (``infra/stack.py``) checks before any backend's block."""
    problems: list[tuple[str, str]] = []
    names = set(catalog.names)
    stored = {e.name for e in catalog.stored_in(settings.environment)}
    classes = {c.value for c in RotationClass}
    for key, days in settings.rotation_overrides.items():
        full = f"{NAMESPACE}rotationOverrides.{shown_key(key)}"
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
                    f"longer than the schedule ({limit} days): overrides may only shorten it",
                )
            )
    seen: set[str] = set()
    for index, name in enumerate(settings.revoked):
        # A name the catalog does not know is user input (perhaps the secret itself, pasted into
        # the wrong place during an incident): shown only when it reads as a catalog name.
        shown = shown_name(name, ENV_VAR_RE)
        if name in seen:
            problems.append((f"{NAMESPACE}revoked", f"{shown} listed twice"))
        seen.add(name)
        if name not in stored:
            problems.append(
                (
                    f"{NAMESPACE}revoked",
                    f"item {index} ({shown}) is not a secret stored in {settings.environment.value}",
                )
            )
    if not stored:
        problems.append(
            (
                f"{NAMESPACE}environment",
                f"the catalog stores no secret in {settings.environment.value}: nothing to plan",
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
            (
                f"{NAMESPACE}databases.{shown_key(name)}",
                "not a generated database URL of this environment",
            )
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
    return problems
