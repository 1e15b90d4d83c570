"""The store-neutral rotation driver: the four steps and their bookkeeping, once for every store.

A store supplies a small ``StoreTransport``: where its *current*, *pending* and *previous* values
live, how a value is staged as pending (``stage``) and how a staged value becomes current
(``promote``, check-and-set against the version it was staged on). The driver runs the
strategies' four steps (``contract.RotationStep``) around them:

==========  =====================================================================================
create      no pending yet: the strategy makes the value, the transport stages it under a fresh
            rotation id (a pending value an operator already staged is used as it is)
set / test  the strategy, with the pending value (never promotes anything)
finish      the replicas receive the value as pending (any failure: nothing is promoted), the
            current version must still be the one the pending was staged on (else a concurrent
            writer is reported), the replicas are promoted, then the home (check-and-set), then
            the strategy's clean-up
==========  =====================================================================================

Every step is idempotent and resumable: the rotation id is stored with the pending value, so a
retried or duplicated invocation continues the same rotation; a rotation whose id is already
current only re-runs the strategy's clean-up. A version without a value is never promoted.

The AWS Lambda (``handler.py``) keeps its own copy of this logic, driven step by step by Secrets
Manager (its behaviour and tests predate the driver); ``aws_store.SecretsManagerStore`` is the
driver transport of a Secrets Manager *replica*. Messages name secrets, versions and rotation
ids, never a value.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final, Protocol

from .contract import (
    PARAM_REPLICA_OF,
    PARAM_ROTATION_CLASS,
    PARAM_ROTATION_PERIOD_DAYS,
    ROTATION_DAYS,
    RotationClass,
    RotationStrategy,
    missing_params,
    parse_strategy,
)
from .errors import ContractError, RotationError
from .strategies import AdminCredentials, NoticeReceipt, Strategy, get_strategy

logger = logging.getLogger(__name__)

# --- Bookkeeping keys the rotation code writes (never the program; Pulumi must ignore them) ---
#: Rotation id of the value that is current (absent: the value was seeded, never rotated).
META_CURRENT_ID: Final = "rotation-current-id"
#: Rotation id of the staged pending value.
META_PENDING_ID: Final = "rotation-pending-id"
#: The current version the pending value was staged on (check-and-set at promotion).
META_PENDING_BASE: Final = "rotation-pending-base"
#: The version that was current before the last promotion (readable until the next rotation).
META_PREVIOUS_VERSION: Final = "rotation-previous-version"
#: When the last rotation finished (ISO 8601, UTC).
META_LAST_ROTATED: Final = "rotation-last-rotated"
#: Every key above: what the program tells Pulumi to ignore (Vault metadata, GCP annotations).
BOOKKEEPING_KEYS: Final = (
    META_CURRENT_ID,
    META_PENDING_ID,
    META_PENDING_BASE,
    META_PREVIOUS_VERSION,
    META_LAST_ROTATED,
)


class ConcurrentWriteError(RotationError):
    """Somebody else changed the secret during the rotation (check-and-set / etag failed)."""


class ReplicaRefused(ContractError):
    """A rotation was requested for a replica; only its home rotates (and writes it)."""


class ReplicaError(RotationError):
    """A replica could not receive or promote the new value; the home was not promoted."""


@dataclass(frozen=True)
class StoreState:
    """Where a secret's rotation stands, as one transport read it."""

    #: Store version of the current value (None: the secret has no current value).
    current_version: str | None
    #: Rotation id that produced the current value (None: seeded, never rotated here).
    current_id: str | None = None
    #: Rotation id of the staged pending value (None: no rotation in progress).
    pending_id: str | None = None
    #: ``current_version`` when the pending value was staged.
    pending_base: str | None = None
    #: Store version that was current before the last promotion.
    previous_version: str | None = None


class StoreTransport(Protocol):
    """What a store provides to the driver (and, through it, to the strategies)."""

    @property
    def secret_id(self) -> str:
        """Store-neutral id of the secret (the key of the replica map; ``replicas.py``)."""
        ...

    @property
    def params(self) -> Mapping[str, str]:
        """The rotation parameters (``contract.PARAM_*``) the store keeps with the secret."""
        ...

    def state(self) -> StoreState: ...

    def current_value(self) -> str | None: ...

    def pending_value(self) -> str | None:
        """The staged value (None if none, or if it has no value)."""
        ...

    def previous_value(self) -> str | None: ...

    def stage(self, rotation_id: str, value: str) -> None:
        """Store ``value`` as pending of ``rotation_id``, based on the current version; readers
        of the current value must not see it. Idempotent for the same id; replaces a pending
        value of another id (only replicas are ever staged over one)."""
        ...

    def promote(self, rotation_id: str) -> None:
        """Make the pending value of ``rotation_id`` current (the current one becomes previous),
        check-and-set on the version it was staged on (``ConcurrentWriteError`` otherwise); a
        no-op when ``rotation_id`` is already current. Also records the rotation time."""
        ...

    def admin_credentials(self, param: str) -> AdminCredentials:
        """The admin secret named by parameter ``param``, read from this store."""
        ...


#: Sends an operator notice (identifiers only); the entry point chooses the channel.
Notifier = Callable[[str, str], NoticeReceipt]


def log_notifier(subject: str, message: str) -> NoticeReceipt:
    """The default channel: one structured WARNING log line (alerting matches on it)."""
    logger.warning("rotation notice: %s: %s", subject, message)
    return NoticeReceipt(channel="log")


class ReplicaWriter(Protocol):
    """One replica target: staged and promoted with the home's rotation id (``replicas.py``)."""

    @property
    def target(self) -> str: ...

    def stage(self, rotation_id: str, value: str) -> None: ...

    def promote(self, rotation_id: str) -> None: ...


@dataclass
class DriverContext:
    """``strategies.RotationContext`` over a ``StoreTransport`` (values cached per step)."""

    transport: StoreTransport
    rotation_id: str
    notifier: Notifier = log_notifier
    _cache: dict[str, str | None] = field(default_factory=dict)

    @property
    def secret_id(self) -> str:
        return self.transport.secret_id

    @property
    def version_id(self) -> str:
        return self.rotation_id

    @property
    def params(self) -> Mapping[str, str]:
        return self.transport.params

    def _get(self, which: str, read: Callable[[], str | None]) -> str | None:
        if which not in self._cache:
            self._cache[which] = read()
        return self._cache[which]

    def invalidate(self) -> None:
        self._cache.clear()

    def current(self) -> str:
        value = self._get("current", self.transport.current_value)
        if value is None:
            raise ContractError(f"secret {self.secret_id} has no current value")
        return value

    def pending(self) -> str | None:
        return self._get("pending", self.transport.pending_value)

    def require_pending(self) -> str:
        value = self.pending()
        if not value:
            raise ContractError(
                f"secret {self.secret_id} rotation {self.rotation_id} has no pending value"
            )
        return value

    def previous(self) -> str | None:
        return self._get("previous", self.transport.previous_value)

    def admin_credentials(self, param: str) -> AdminCredentials:
        if not self.params.get(param):
            raise ContractError(f"secret {self.secret_id} needs the {param!r} parameter")
        return self.transport.admin_credentials(param)

    def notify(self, subject: str, message: str) -> NoticeReceipt:
        return self.notifier(subject, message)


def new_rotation_id() -> str:
    """A fresh rotation id (36 characters: also valid as a Secrets Manager request token)."""
    return str(uuid.uuid4())


def rotation_period_days(params: Mapping[str, str]) -> int:
    """The secret's period: ``rotation-period-days`` if set (a stack override), else its class's."""
    raw = params.get(PARAM_ROTATION_PERIOD_DAYS, "").strip()
    if raw:
        if not raw.isdigit() or int(raw) < 1:
            raise ContractError(f"{PARAM_ROTATION_PERIOD_DAYS} must be a positive integer")
        return int(raw)
    try:
        return ROTATION_DAYS[RotationClass(params.get(PARAM_ROTATION_CLASS, ""))]
    except ValueError:
        raise ContractError(
            f"secret has no valid {PARAM_ROTATION_CLASS} (nor {PARAM_ROTATION_PERIOD_DAYS})"
        ) from None


def next_rotation(params: Mapping[str, str], now: datetime) -> datetime:
    return now + timedelta(days=rotation_period_days(params))


def utc_now() -> datetime:
    return datetime.now(UTC)


def strategy_for(secret_id: str, params: Mapping[str, str]) -> RotationStrategy:
    """The secret's strategy, refusing replicas and missing parameters (``ContractError``)."""
    home = params.get(PARAM_REPLICA_OF)
    if home:
        raise ReplicaRefused(f"secret {secret_id} is a replica of {home}: only its home rotates it")
    try:
        name = parse_strategy(params)
    except ValueError as exc:
        raise ContractError(f"secret {secret_id}: {exc}") from None
    missing = missing_params(name, params)
    if missing:
        raise ContractError(f"secret {secret_id} ({name}) lacks parameters {missing}")
    return name


def stage_replicas(
    home: str, rotation_id: str, value: str, replicas: Sequence[ReplicaWriter]
) -> None:
    """Stage ``value`` in every replica; ``ReplicaError`` naming each one that failed (all are
    tried). Called before the home is promoted, so a failure leaves nothing promoted."""
    failed: list[str] = []
    for replica in replicas:
        try:
            replica.stage(rotation_id, value)
        except Exception as exc:
            logger.error(
                "finish: %s rotation %s: replica %s not staged: %s",
                home,
                rotation_id,
                replica.target,
                type(exc).__name__,
            )
            failed.append(f"{replica.target} ({type(exc).__name__}: {exc})")
    if failed:
        raise ReplicaError(
            f"secret {home} rotation {rotation_id}: nothing promoted, replicas failed: "
            + "; ".join(failed)
        )


def promote_replicas(home: str, rotation_id: str, replicas: Sequence[ReplicaWriter]) -> None:
    """Promote the staged value in every replica (idempotent), before the home."""
    for replica in replicas:
        try:
            replica.promote(rotation_id)
        except Exception as exc:
            raise ReplicaError(
                f"secret {home} rotation {rotation_id}: replica {replica.target} not promoted "
                f"({type(exc).__name__}: {exc}); the home keeps its current value, retry the "
                "rotation"
            ) from None


@dataclass(frozen=True)
class Outcome:
    """What one ``Rotation.run`` did (identifiers only)."""

    secret_id: str
    rotation_id: str
    #: ``rotated``: promoted now; ``already-current``: an earlier run had finished it.
    result: str
    replicas: tuple[str, ...] = ()


@dataclass
class Rotation:
    """One rotation of one home secret, with its replicas. ``run`` = all four steps."""

    transport: StoreTransport
    replicas: Sequence[ReplicaWriter] = ()
    notifier: Notifier = log_notifier
    strategy: Strategy | None = None
    #: Rotation id to use if a new rotation starts (default: a fresh uuid4).
    rotation_id: str | None = None

    def __post_init__(self) -> None:
        name = strategy_for(self.transport.secret_id, self.transport.params)
        if self.strategy is None:
            self.strategy = get_strategy(name)

    @property
    def _strategy(self) -> Strategy:
        assert self.strategy is not None
        return self.strategy

    def _context(self, rotation_id: str) -> DriverContext:
        return DriverContext(self.transport, rotation_id, self.notifier)

    def create(self) -> str:
        """Stage a pending value unless one is staged; returns the rotation id in progress."""
        state = self.transport.state()
        if state.current_version is None:
            raise ContractError(f"secret {self.transport.secret_id} has no current version")
        if state.pending_id is not None:
            if state.pending_base != state.current_version:
                raise ConcurrentWriteError(
                    f"secret {self.transport.secret_id}: rotation {state.pending_id} was staged on "
                    f"version {state.pending_base} but {state.current_version} is current now"
                )
            logger.info(
                "create: %s rotation %s already staged", self.transport.secret_id, state.pending_id
            )
            return state.pending_id
        rotation_id = self.rotation_id or new_rotation_id()
        ctx = self._context(rotation_id)
        ctx.current()  # the current version must have a value
        value = self._strategy.create(ctx)  # third-party-manual notifies and raises here
        self.transport.stage(rotation_id, value)
        logger.info("create: %s staged rotation %s", self.transport.secret_id, rotation_id)
        return rotation_id

    def _pending_ctx(self, rotation_id: str) -> tuple[DriverContext, str]:
        state = self.transport.state()
        if state.pending_id != rotation_id:
            raise ContractError(
                f"secret {self.transport.secret_id}: rotation {rotation_id} is not pending "
                f"(pending: {state.pending_id})"
            )
        ctx = self._context(rotation_id)
        return ctx, ctx.require_pending()

    def set(self, rotation_id: str) -> None:
        ctx, pending = self._pending_ctx(rotation_id)
        self._strategy.set(ctx, pending)

    def test(self, rotation_id: str) -> None:
        ctx, pending = self._pending_ctx(rotation_id)
        self._strategy.test(ctx, pending)

    def finish(self, rotation_id: str) -> None:
        state = self.transport.state()
        if state.current_id == rotation_id and state.pending_id is None:
            # Finished before (a duplicate or a retry after a crash inside finish).
            self._promote_replicas(rotation_id)
            self._strategy.finish(self._context(rotation_id))
            return
        _, pending = self._pending_ctx(rotation_id)  # never promote a version without a value
        stage_replicas(self.transport.secret_id, rotation_id, pending, self.replicas)
        now = self.transport.state()
        if now.current_version != state.pending_base or now.pending_id != rotation_id:
            raise ConcurrentWriteError(
                f"secret {self.transport.secret_id}: current version moved to "
                f"{now.current_version} during rotation {rotation_id}; nothing promoted"
            )
        self._promote_replicas(rotation_id)
        self.transport.promote(rotation_id)
        logger.info("finish: %s rotation %s promoted", self.transport.secret_id, rotation_id)
        self._strategy.finish(self._context(rotation_id))

    def _promote_replicas(self, rotation_id: str) -> None:
        promote_replicas(self.transport.secret_id, rotation_id, self.replicas)

    def run(self) -> Outcome:
        """All four steps; resumes a staged rotation, re-finishes a finished one."""
        state = self.transport.state()
        targets = tuple(r.target for r in self.replicas)
        if state.pending_id is None and self.rotation_id and state.current_id == self.rotation_id:
            self.finish(self.rotation_id)
            return Outcome(self.transport.secret_id, self.rotation_id, "already-current", targets)
        rotation_id = self.create()
        self.set(rotation_id)
        self.test(rotation_id)
        self.finish(rotation_id)
        return Outcome(self.transport.secret_id, rotation_id, "rotated", targets)
