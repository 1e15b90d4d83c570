"""The secret catalog: one typed source of truth for every environment variable neural-trader uses.

Pure data (no Pulumi imports). The data lives in ``catalog.yaml`` beside this module; this module
validates it and answers the questions every backend adapter asks (which secrets an environment
stores, under which service/key, in which access scope, rotated how often). How each store spells
a secret's name, and what names it accepts, is the backend's business (``infra/backends/``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

# Rotation classes (the seed's schedule) and strategies are defined once, in the rotation contract
# that the Lambda also ships with; the catalog re-exports them.
from infra.rotation.contract import RotationClass as RotationClass
from infra.rotation.contract import RotationStrategy as RotationStrategy

# The environments are the pack's contract (the policy pack reads the catalog file too), and so is
# the reading of the fields the pack needs (check_entry): the program runs it on every entry.
from policies.contract.catalog import Environment as Environment
from policies.contract.catalog import check_entry, entry_label
from policies.contract.redact import (
    credential_kind,
    credential_kind_in_forms,
    describe,
    printable,
    pydantic_message,
)
from policies.contract.redact import loc as shown_loc
from policies.contract.redact import name as shown_name
from policies.contract.yamlio import YamlProblem, load_yaml

CATALOG_PATH = Path(__file__).with_name("catalog.yaml")


class Scope(StrEnum):
    """Access scopes. Roles are granted scopes (infra/access.py); secrets belong to scopes."""

    TEST = "test"
    PAPER = "paper"
    LIVE = "live"
    ADMIN = "admin"


#: Which access scopes exist in each environment.
ENVIRONMENT_SCOPES: Mapping[Environment, frozenset[Scope]] = {
    Environment.PRODUCTION: frozenset({Scope.LIVE, Scope.ADMIN}),
    Environment.STAGING: frozenset({Scope.TEST, Scope.PAPER, Scope.ADMIN}),
    Environment.CI: frozenset({Scope.TEST, Scope.PAPER, Scope.ADMIN}),
    Environment.DEVELOPMENT: frozenset({Scope.TEST, Scope.PAPER, Scope.ADMIN}),
}


class TradingMode(StrEnum):
    PAPER = "paper"
    LIVE = "live"
    TESTNET = "testnet"
    MAINNET = "mainnet"

    @property
    def is_live(self) -> bool:
        return self in (TradingMode.LIVE, TradingMode.MAINNET)


class Source(StrEnum):
    THIRD_PARTY = "third-party"
    GENERATED = "generated"
    CONFIG = "config"
    WORKLOAD_IDENTITY = "workload-identity"


class Category(StrEnum):
    EXCHANGE = "exchange"
    LLM = "llm"
    CLOUD = "cloud"
    DATABASE = "database"
    MONITORING = "monitoring"
    NOTIFICATION = "notification"
    SECURITY = "security"
    APPLICATION = "application"


class HexGenerator(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["hex"]
    bytes: Annotated[int, Field(strict=True, ge=16, le=512)]


class PasswordGenerator(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["password"]
    length: Annotated[int, Field(strict=True, ge=16, le=256)]


class PostgresUrlGenerator(BaseModel):
    """A PostgreSQL URL whose password is generated; host, database and user come from settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["postgres-url"]
    length: Annotated[int, Field(strict=True, ge=16, le=256)]


Generator = Annotated[
    HexGenerator | PasswordGenerator | PostgresUrlGenerator, Field(discriminator="kind")
]

ENV_VAR_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")
SERVICE_RE = re.compile(r"^[a-z][a-z0-9-]*[a-z0-9]$")


class CatalogEntry(BaseModel):
    """One environment variable of the platform."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)

    name: str
    description: Annotated[str, Field(min_length=1)]
    category: Category
    service: str
    sensitive: Annotated[bool, Field(strict=True)]  # true/false, never "yes" or 1
    source: Source
    environments: Annotated[tuple[Environment, ...], Field(min_length=1)]
    rotation: RotationClass | None = None
    strategy: RotationStrategy | None = None
    trading_mode: Mapping[Environment, TradingMode] | None = None
    scopes: tuple[Scope, ...] = ()
    generator: Generator | None = None
    replaced_by: str | None = None

    @field_validator("name")
    @classmethod
    def _env_var_name(cls, v: str) -> str:
        if not ENV_VAR_RE.fullmatch(v):
            raise ValueError(f"not an environment variable name (A-Z, 0-9, _; {describe(v)})")
        return v

    @field_validator("service")
    @classmethod
    def _service_name(cls, v: str) -> str:
        if not SERVICE_RE.fullmatch(v):
            raise ValueError(f"not a service name (lowercase letters, digits, -; {describe(v)})")
        kind = credential_kind_in_forms(v)
        if kind is not None:  # it goes into secret paths and resource names
            raise ValueError(
                f"looks like a credential ({kind}, {describe(v)}), as itself or in the names "
                "derived from it: never put a secret value in the catalog"
            )
        return v

    @field_validator("description", "replaced_by")
    @classmethod
    def _no_credential(cls, v: str | None) -> str | None:
        if v and printable(v) != v:  # printed to terminals and into .env comments
            raise ValueError(
                "holds a control character (a line break, an escape sequence): one line of "
                "printable text"
            )
        kind = credential_kind(v) if v else None
        if kind is not None:
            raise ValueError(
                f"looks like it holds a credential ({kind}, {describe(v)}): the catalog is "
                "committed and printed, never put a secret value in it"
            )
        return v

    # ---- derived facts every backend asks the catalog for -----------------------------------

    @property
    def stored(self) -> bool:
        """True if a secret manager holds this entry (sensitive, and not replaced by workload identity)."""
        return self.sensitive and self.source is not Source.WORKLOAD_IDENTITY

    @property
    def generated(self) -> bool:
        return self.source is Source.GENERATED

    @property
    def rotatable(self) -> bool:
        return self.stored and self.rotation is not None

    @property
    def key(self) -> str:
        """Kebab-case key inside the service: ALPACA_API_KEY (service alpaca) -> api-key."""
        kebab = self.name.lower().replace("_", "-")
        prefix = self.service + "-"
        return kebab[len(prefix) :] if kebab.startswith(prefix) and kebab != prefix else kebab

    @property
    def kebab_name(self) -> str:
        """Flat kebab-case name (Pulumi logical names, stores without paths): alpaca-api-key."""
        return self.name.lower().replace("_", "-")

    def needed_in(self, environment: Environment) -> bool:
        return environment in self.environments

    def mode_in(self, environment: Environment) -> TradingMode | None:
        return None if self.trading_mode is None else self.trading_mode.get(environment)

    def scopes_in(self, environment: Environment) -> frozenset[Scope]:
        """The access scopes this secret belongs to in one environment.

        Production is the live environment: every secret there is live (or admin-only), whatever
        else it declares, so a role granted test/paper scopes reads nothing of production. The
        other environments hold no live secret. Trading-mode entries say it explicitly per
        environment (paper/testnet keys outside production, live/mainnet keys in it).
        """
        declared = frozenset(self.scopes) & ENVIRONMENT_SCOPES[environment]
        mode = self.mode_in(environment)
        if mode is None:
            return declared
        if mode.is_live:
            return declared & {Scope.LIVE, Scope.ADMIN}
        return declared - {Scope.LIVE}


class CatalogError(ValueError):
    """A broken catalog. ``problems`` holds one ``(entry, rule, message)`` per violation."""

    def __init__(self, problems: Iterable[tuple[str, str, str]]) -> None:
        self.problems = sorted(set(problems))
        lines = [f"  - {entry}: [{rule}] {msg}" for entry, rule, msg in self.problems]
        super().__init__("invalid secret catalog:\n" + "\n".join(lines))


def _rule_problems(entry: CatalogEntry) -> Iterator[tuple[str, str]]:
    """Cross-field rules of one entry, as (rule, message)."""
    if entry.source is Source.CONFIG and entry.sensitive:
        yield "sensitive-config", "a sensitive entry cannot have source 'config'"
    if entry.sensitive is False and entry.source is not Source.CONFIG:
        yield "plain-secret", f"source '{entry.source}' entries must be sensitive"
    if entry.stored:
        if entry.rotation is None:
            yield "rotation-required", "a stored secret needs a rotation class"
        if entry.strategy is None:
            yield "strategy-required", "a stored secret needs a rotation strategy"
        if not entry.scopes:
            yield "scopes-required", "a stored secret needs at least one access scope"
    else:
        for field in ("rotation", "strategy", "generator"):
            if getattr(entry, field) is not None:
                yield f"unexpected-{field}", f"'{field}' is only for stored secrets"
        if entry.scopes:
            yield "unexpected-scopes", "only stored secrets have access scopes"
    if entry.generated != (entry.generator is not None):
        yield "generator", "generated secrets need a generator, and only they may have one"
    if (entry.source is Source.WORKLOAD_IDENTITY) != bool(entry.replaced_by):
        yield "replaced-by", "workload-identity entries (and only they) say what replaces them"
    generated_strategies = {RotationStrategy.GENERATED_HMAC, RotationStrategy.GENERATED_AES256}
    if (
        entry.strategy is RotationStrategy.THIRD_PARTY_MANUAL
        and entry.source is not Source.THIRD_PARTY
    ):
        yield "strategy-source", "third-party-manual rotation is for third-party keys"
    if entry.strategy in generated_strategies and entry.source is not Source.GENERATED:
        yield "strategy-source", f"{entry.strategy} rotation is for generated secrets"
    if entry.source is Source.THIRD_PARTY and entry.strategy not in (
        None,
        RotationStrategy.THIRD_PARTY_MANUAL,
    ):
        yield (
            "strategy-source",
            "third-party keys can only be rotated manually (third-party-manual)",
        )
    if entry.trading_mode is not None:
        extra = set(entry.trading_mode) - set(entry.environments)
        if extra:
            names = ", ".join(sorted(e.value for e in extra))
            yield (
                "trading-mode",
                f"trading mode given for environments it is not needed in: {names}",
            )
        missing = set(entry.environments) - set(entry.trading_mode)
        if missing:
            names = ", ".join(sorted(e.value for e in missing))
            yield "trading-mode", f"no trading mode for: {names}"
        live_outside = sorted(
            e.value
            for e, m in entry.trading_mode.items()
            if m.is_live and e is not Environment.PRODUCTION
        )
        if live_outside:
            yield (
                "live-outside-production",
                f"live trading mode in {', '.join(live_outside)}: only production holds live keys",
            )
        if entry.stored:
            live_envs = sorted(e.value for e, m in entry.trading_mode.items() if m.is_live)
            if live_envs and Scope.LIVE not in entry.scopes:
                yield (
                    "live-in-paper-scope",
                    f"holds live keys in {', '.join(live_envs)} but its scopes "
                    f"({', '.join(s.value for s in entry.scopes)}) have no 'live'",
                )


class Catalog(BaseModel):
    """The validated catalog."""

    model_config = ConfigDict(frozen=True)
    entries: tuple[CatalogEntry, ...]

    def __iter__(self) -> Iterator[CatalogEntry]:  # type: ignore[override]
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, name: str) -> CatalogEntry:
        for entry in self.entries:
            if entry.name == name:
                return entry
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.entries)

    def stored_in(self, environment: Environment) -> tuple[CatalogEntry, ...]:
        """Every secret one environment keeps in its secret managers, in catalog order."""
        return tuple(e for e in self.entries if e.stored and e.needed_in(environment))

    def needed_in(self, environment: Environment) -> tuple[CatalogEntry, ...]:
        return tuple(e for e in self.entries if e.needed_in(environment))


def parse_catalog(data: Any, *, source: str = "catalog") -> Catalog:
    """Validate raw catalog data (the YAML document) into a Catalog, or raise CatalogError."""
    if not isinstance(data, Mapping) or not isinstance(data.get("entries"), list):
        raise CatalogError([(source, "format", "expected a mapping with an 'entries' list")])
    problems: list[tuple[str, str, str]] = []
    entries: list[CatalogEntry] = []
    raw_entries: list[Any] = data["entries"]
    for index, raw in enumerate(raw_entries):
        # An entry is named by its name only when that reads as one (it is user input, perhaps a
        # secret pasted into the wrong field); otherwise by its position.
        label = entry_label(raw, index)
        # The policy pack's reader first, on the fields it reads: one strict reading on both
        # sides, so a catalog the program plans is never one the pack refuses (which would be a
        # violation of the stack, not the bad input it is).
        _pack_entry, pack_problems = check_entry(raw)
        problems.extend((label, "schema", message) for _key, message in pack_problems)
        judged = {key for key, _message in pack_problems}
        try:
            entry = CatalogEntry.model_validate(raw)
        except ValidationError as exc:
            for err in exc.errors():
                if (str(err["loc"][0]) if err["loc"] else "") in judged:
                    continue  # the pack's reader said it already
                loc = shown_loc(err["loc"]) or "entry"
                problems.append((label, "schema", f"{loc}: {pydantic_message(err)}"))
            continue
        if pack_problems:
            continue
        problems.extend((entry.name, rule, msg) for rule, msg in _rule_problems(entry))
        entries.append(entry)
    for dup, count in Counter(e.name for e in entries).items():
        if count > 1:
            problems.append((shown_name(dup, ENV_VAR_RE), "duplicate", f"defined {count} times"))
    for (service, key), count in Counter((e.service, e.key) for e in entries).items():
        if count > 1:
            problems.append(
                (f"{service}/{key}", "duplicate-path", f"{count} entries share this secret path")
            )
    if not raw_entries:
        problems.append((source, "empty", "the catalog has no entries: nothing to plan"))
    elif not problems and not any(e.stored for e in entries):
        problems.append(
            (source, "empty", "no entry is a stored secret (sensitive, not workload identity)")
        )
    if problems:
        raise CatalogError(problems)
    return Catalog(entries=tuple(entries))


def load_catalog(path: Path | None = None) -> Catalog:
    """Load and validate a catalog file (default: infra/catalog.yaml)."""
    target = path or CATALOG_PATH
    try:
        text = target.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CatalogError([(str(target), "unreadable", "not UTF-8 text")]) from None
    except OSError as exc:
        raise CatalogError([(str(target), "unreadable", exc.strerror or str(exc))]) from None
    try:
        data = load_yaml(text)
    except YamlProblem as exc:
        raise CatalogError([(str(target), "yaml", str(exc))]) from None
    return parse_catalog(data, source=str(target))


@cache
def _catalog_at(path: str, stamp: tuple[int, int]) -> Catalog:
    del stamp  # part of the cache key: an edited file is read again
    return load_catalog(Path(path))


def catalog_at(path: Path | None = None) -> Catalog:
    """A catalog file (default: infra/catalog.yaml), read and validated once per process while the
    file is unchanged: the program and the policies that judge its plan share one reading."""
    target = (path or CATALOG_PATH).resolve()
    try:
        stat = target.stat()
    except OSError:
        return load_catalog(target)  # raises CatalogError naming the file
    return _catalog_at(str(target), (stat.st_mtime_ns, stat.st_size))


def default_catalog() -> Catalog:
    """The project's catalog, loaded once per process."""
    return catalog_at()
