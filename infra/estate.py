"""The estate: every secret one stack stores, computed once from catalog + settings + access model.

Pure data (no Pulumi imports). Every backend adapter consumes the estate and only translates it
into its platform's resources: which secrets exist, in which access scopes, how each is rotated and
valued, whether it is revoked, and which role may do what to it are decided here, once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property

from infra.access import ROLE_NAMES, ROLES, Action, Role, RoleName
from infra.catalog import (
    Catalog,
    CatalogEntry,
    Environment,
    Generator,
    PostgresUrlGenerator,
    RotationClass,
    RotationStrategy,
    Scope,
)
from infra.placement import HOME, Placement
from infra.rotation import contract
from infra.settings import NAMESPACE, Database, StackSettings
from policies.contract.vocabulary import (
    CONFIDENTIAL,
    NONE,
    RESTRICTED,
    TAG_ACCESS_SCOPES,
    TAG_CATALOG_NAME,
    TAG_CLASSIFICATION,
    TAG_ENVIRONMENT,
    TAG_HOME_STORE,
    TAG_MASTER_SECRET,
    TAG_PROVIDER,
    TAG_REDIS_ENDPOINT,
    TAG_REDIS_TLS,
    TAG_REDIS_USER,
    TAG_REPLICA_OF,
    TAG_REVOKED,
    TAG_ROTATION_CLASS,
    TAG_ROTATION_STRATEGY,
    TAG_SERVICE,
    TAG_VALUE_SOURCE,
    VALUE_EXTERNAL,
    VALUE_GENERATED,
    VALUE_SUPPLIED,
    scopes_value,
)

# ---- where a secret's value comes from --------------------------------------------------------


@dataclass(frozen=True)
class GeneratedValue:
    """Made by the infrastructure (pulumi-random), always a Pulumi secret."""

    generator: Generator
    #: Where a generated PostgreSQL URL points (postgres-url generators only).
    database: Database | None = None


@dataclass(frozen=True)
class SuppliedValue:
    """A third-party value the stack config carries (``pulumi config set --secret``)."""

    config_key: str


@dataclass(frozen=True)
class ExternalValue:
    """A third-party value put into the store out of band (by an operator or the provider)."""

    provider: str


Value = GeneratedValue | SuppliedValue | ExternalValue


@dataclass(frozen=True)
class RotationPlan:
    """How one secret is rotated: class, period (days), strategy and the strategy's parameters
    (keys of the rotation contract, e.g. ``rotation-master-secret``)."""

    rotation_class: RotationClass
    period_days: int
    strategy: RotationStrategy
    params: Mapping[str, str]


@dataclass(frozen=True)
class StoredSecret:
    """One secret of the estate."""

    entry: CatalogEntry
    environment: Environment
    scopes: frozenset[Scope]
    rotation: RotationPlan | None
    value: Value
    revoked: bool
    #: role -> what it may do to this secret (roles without access are absent).
    grants: Mapping[RoleName, frozenset[Action]]
    #: Its home store and the stores holding replicas (``infra/placement.py``).
    placement: Placement
    #: The store whose view this copy belongs to (:meth:`Estate.held_by`); None in the estate.
    held_in: str | None = None

    @property
    def home(self) -> str:
        return self.placement.home

    @property
    def replicas(self) -> tuple[str, ...]:
        return self.placement.replicas

    @property
    def value_source(self) -> str:
        """``generated``, ``supplied`` or ``external`` (the contract's value-source label)."""
        if isinstance(self.value, GeneratedValue):
            return VALUE_GENERATED
        return VALUE_SUPPLIED if isinstance(self.value, SuppliedValue) else VALUE_EXTERNAL

    @property
    def name(self) -> str:
        return self.entry.name

    @property
    def service(self) -> str:
        return self.entry.service

    @property
    def key(self) -> str:
        return self.entry.key

    @property
    def logical_name(self) -> str:
        """The Pulumi logical name every backend gives the resource holding it."""
        return self.entry.kebab_name

    @property
    def description(self) -> str:
        return self.entry.description

    @property
    def classification(self) -> str:
        return RESTRICTED if self.scopes & {Scope.LIVE, Scope.ADMIN} else CONFIDENTIAL

    def roles_with(self, action: Action) -> tuple[RoleName, ...]:
        """Roles (in the access model's order) that have ``action`` on this secret, as the
        access model grants it (before revocation: :meth:`effective`)."""
        return tuple(r for r in ROLE_NAMES if action in self.grants.get(r, frozenset()))

    def effective(self, role: RoleName) -> frozenset[Action]:
        """What ``role`` can do to this secret once revocation applies: a revoked secret is read
        by nobody, and changed only by the roles that manage it (to rotate it out of the
        incident); otherwise its grants."""
        actions = self.grants.get(role, frozenset())
        if not self.revoked:
            return actions
        actions = actions - {Action.READ}
        return actions if Action.MANAGE in actions else actions - {Action.WRITE}

    def effective_roles_with(self, action: Action) -> tuple[RoleName, ...]:
        """Roles that have ``action`` on this secret once revocation applies."""
        return tuple(r for r in ROLE_NAMES if action in self.effective(r))

    def labels(self) -> dict[str, str]:
        """The contract's tags/labels for this secret: what the policies and the rotation read."""
        labels = {
            TAG_ENVIRONMENT: self.environment.value,
            TAG_SERVICE: self.service,
            TAG_ROTATION_CLASS: self.rotation.rotation_class.value if self.rotation else NONE,
            TAG_ROTATION_STRATEGY: self.rotation.strategy.value if self.rotation else NONE,
            TAG_CLASSIFICATION: self.classification,
            TAG_CATALOG_NAME: self.name,
            TAG_ACCESS_SCOPES: scopes_value({s.value for s in self.scopes}),
            TAG_HOME_STORE: self.home,
            TAG_VALUE_SOURCE: self.value_source,
        }
        if self.rotation is not None:
            labels.update(self.rotation.params)
        if self.revoked:
            labels[TAG_REVOKED] = "true"
        if self.held_in is not None and self.held_in != self.home:
            # A replica: no rotation may start from it (its home's rotation writes it).
            labels[TAG_REPLICA_OF] = self.home
        return labels


@dataclass(frozen=True)
class RoleGrants:
    """One access-model role and what it may do to each secret of the estate."""

    role: Role
    #: secret name -> actions (secrets without access are absent).
    secrets: Mapping[str, frozenset[Action]]

    @property
    def name(self) -> RoleName:
        return self.role.name


@dataclass(frozen=True)
class Estate:
    """Every stored secret of one environment and every role's access to them."""

    catalog: Catalog
    environment: Environment
    secrets: tuple[StoredSecret, ...]
    roles: Mapping[RoleName, RoleGrants]
    protected: bool
    audit_trail: bool
    recovery_window_days: int
    notification_emails: tuple[str, ...]
    #: Catalog names whose values the stack config supplies (e.g. SLACK_WEBHOOK_URL).
    supplied: tuple[str, ...] = field(default=())
    #: The store this view is for (:meth:`held_by`); None for the whole estate.
    store: str | None = None
    #: Catalog name -> ((replica store, where that store keeps the copy), ...) of each secret
    #: with replicas, in placement order: what the home's rotation writes (each replica store's
    #: ``locations()``; an AWS ARN without its random suffix).
    replica_addresses: Mapping[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.PRODUCTION

    @cached_property
    def _by_name(self) -> dict[str, StoredSecret]:
        return {s.name: s for s in self.secrets}

    def secret(self, name: str) -> StoredSecret:
        return self._by_name[name]

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.secrets)

    @property
    def rotated(self) -> tuple[StoredSecret, ...]:
        """The rotating secrets; in a store's view, those the store rotates: the ones it is home
        to (a replica is never rotated on its own: its home's rotation writes it)."""
        return tuple(
            s
            for s in self.secrets
            if s.rotation is not None and (self.store is None or s.home == self.store)
        )

    def rotates(self, secret: StoredSecret) -> bool:
        """Whether this view's store rotates ``secret`` (it rotates and this store is its home)."""
        return secret.rotation is not None and (self.store is None or secret.home == self.store)

    @property
    def replicated(self) -> tuple[StoredSecret, ...]:
        """In a store's view, the secrets it holds as a replica of another store's copy."""
        return tuple(s for s in self.secrets if self.store is not None and s.home != self.store)

    def copy_role(self, secret: StoredSecret) -> str:
        """``home`` or ``replica``: what this view's store holds of ``secret``."""
        role = secret.placement.role_in(self.store) if self.store is not None else HOME
        assert role is not None, f"{self.store} holds no copy of {secret.name}"
        return role

    @property
    def revoked(self) -> tuple[StoredSecret, ...]:
        return tuple(s for s in self.secrets if s.revoked)

    def held_by(self, store: str) -> Estate:
        """This estate as ``store`` sees it: only the secrets it holds (as their home or as a
        replica), every role's grants narrowed to them. A store adapter is handed this view."""
        held = tuple(replace(s, held_in=store) for s in self.secrets if store in s.placement.stores)
        names = {s.name for s in held}
        roles = {
            r: RoleGrants(g.role, {n: a for n, a in g.secrets.items() if n in names})
            for r, g in self.roles.items()
        }
        return replace(
            self,
            secrets=held,
            roles=roles,
            supplied=tuple(n for n in self.supplied if n in names),
            store=store,
            replica_addresses={n: a for n, a in self.replica_addresses.items() if n in names},
        )

    def homed_in(self, store: str) -> tuple[StoredSecret, ...]:
        """The secrets whose home is ``store`` (their rotation runs there)."""
        return tuple(s for s in self.secrets if s.home == store)

    @property
    def stores(self) -> tuple[str, ...]:
        """Every store holding a copy of some secret (homes first seen order)."""
        seen: dict[str, None] = {}
        for s in self.secrets:
            for store in s.placement.stores:
                seen.setdefault(store)
        return tuple(seen)

    def master_secrets(self) -> tuple[str, ...]:
        """The admin secrets the rotation of this estate reads (sorted, unique)."""
        return tuple(
            sorted(
                {
                    s.rotation.params[TAG_MASTER_SECRET]
                    for s in self.rotated
                    if s.rotation is not None and TAG_MASTER_SECRET in s.rotation.params
                }
            )
        )


def rotation_params(entry: CatalogEntry, settings: StackSettings) -> dict[str, str]:
    """The parameters the rotation of ``entry`` needs beyond its strategy: the master secret and
    Redis endpoint its strategy uses, and the provider named in a third-party "rotation due"
    notice. Keys are the rotation contract's (every transport carries them under these names)."""
    params: dict[str, str] = {}
    strategy = entry.strategy
    if strategy is RotationStrategy.THIRD_PARTY_MANUAL:
        params[TAG_PROVIDER] = entry.service
    if strategy in (
        RotationStrategy.POSTGRES_ALTERNATING_USERS,
        RotationStrategy.POSTGRES_SINGLE_USER,
    ):
        db = settings.databases.get(entry.name)
        if db is not None and db.master_secret is not None:
            params[TAG_MASTER_SECRET] = db.master_secret
    if strategy is RotationStrategy.REDIS_ACL and settings.redis is not None:
        params[TAG_MASTER_SECRET] = settings.redis.master_secret
        params[TAG_REDIS_ENDPOINT] = settings.redis.endpoint
        params[TAG_REDIS_USER] = settings.redis.username
        params[TAG_REDIS_TLS] = "true" if settings.redis.tls else "false"
    return params


def rotation_problems(catalog: Catalog, settings: StackSettings) -> list[tuple[str, str]]:
    """Rotated secrets whose strategy needs a parameter no setting provides."""
    problems = []
    for entry in catalog.stored_in(settings.environment):
        if not entry.rotatable or entry.strategy is None:
            continue
        missing = contract.missing_tags(entry.strategy, rotation_params(entry, settings))
        if missing:
            problems.append(
                (
                    f"{NAMESPACE}(rotation of {entry.name})",
                    f"{entry.strategy.value} rotation needs {', '.join(missing)}; "
                    "no setting provides them",
                )
            )
    return problems


def _value(entry: CatalogEntry, settings: StackSettings) -> Value:
    if entry.generator is not None:
        db = (
            settings.databases[entry.name]
            if isinstance(entry.generator, PostgresUrlGenerator)
            else None
        )
        return GeneratedValue(entry.generator, db)
    if entry.name in settings.supplied_values:
        return SuppliedValue(NAMESPACE + entry.name)
    return ExternalValue(entry.service)


def sole_home(settings: StackSettings) -> Placement:
    """The placement of a secret the loader did not place: only a stack built without the loader
    (tests of one backend) gets here; its first enabled backend is the home."""
    return Placement(settings.backends[0])


def compute_estate(catalog: Catalog, settings: StackSettings) -> Estate:
    """The estate of validated settings: pure, no backend is asked anything (the loader,
    ``infra.stack.build_estate``, adds the checks that need the backends)."""
    env = settings.environment
    problems: list[tuple[str, str]] = []
    secrets: list[StoredSecret] = []
    for entry in catalog.stored_in(env):
        plan: RotationPlan | None = None
        if entry.rotatable and entry.rotation is not None and entry.strategy is not None:
            params = rotation_params(entry, settings)
            missing = contract.missing_tags(entry.strategy, params)
            if missing:
                problems.append(
                    (
                        f"{NAMESPACE}(rotation of {entry.name})",
                        f"{entry.strategy.value} rotation needs {', '.join(missing)}; "
                        "no setting provides them",
                    )
                )
            plan = RotationPlan(
                entry.rotation, settings.rotation_days(entry), entry.strategy, params
            )
        grants = {r: ROLES[r].grants(entry, env) for r in ROLE_NAMES}
        secrets.append(
            StoredSecret(
                entry=entry,
                environment=env,
                scopes=entry.scopes_in(env),
                rotation=plan,
                value=_value(entry, settings),
                revoked=entry.name in settings.revoked,
                grants={r: g for r, g in grants.items() if g},
                placement=settings.placements.get(entry.name) or sole_home(settings),
            )
        )
    roles = {
        r: RoleGrants(ROLES[r], {s.name: s.grants[r] for s in secrets if r in s.grants})
        for r in ROLE_NAMES
    }
    estate = Estate(
        catalog=catalog,
        environment=env,
        secrets=tuple(secrets),
        roles=roles,
        protected=settings.protected,
        audit_trail=settings.audit_trail_enabled,
        recovery_window_days=settings.recovery_window,
        notification_emails=settings.notifications.emails,
        supplied=settings.supplied_values,
    )
    return estate
