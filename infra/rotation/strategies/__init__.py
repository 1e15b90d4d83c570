"""Rotation strategies behind one small protocol, selected by the ``rotation-strategy`` parameter.

Store-neutral: strategies see a secret only through the ``RotationContext`` protocol and
implement the four-step ``Strategy`` protocol (``contract.RotationStep``). The AWS Secrets
Manager implementation of the context is ``infra.rotation.aws_context.SecretsManagerContext``;
another store (Vault, Azure Key Vault) provides its own and reuses the strategies unchanged.

``get_strategy`` looks the strategy up in ``REGISTRY``; each factory imports its module (and
so its driver, pg8000 or redis) only when that strategy is used, to keep cold starts short.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, Protocol, runtime_checkable

from ..contract import RotationStrategy
from ..errors import UnknownStrategyError


@dataclass(frozen=True)
class AdminCredentials:
    """Value of the secret named by the ``rotation-master-secret`` parameter.

    JSON ``{"username": .., "password": .., "host": .., "port": ..}``; ``host`` and ``port`` are
    optional and name the server the credentials belong to (the keys of AWS's RDS secret
    format; other keys such as ``engine`` or ``dbname`` are ignored). Strategies that connect
    to an address taken from the rotated secret refuse a master secret naming another server.

    A plain dataclass, not pydantic: pydantic-core is a 5 MB native wheel we keep out of the
    Lambda zip. ``repr`` hides the password.
    """

    username: str
    password: str = field(repr=False)
    host: str | None = None
    port: int | None = None

    @classmethod
    def parse(cls, raw: str) -> AdminCredentials:
        """Parse the JSON value; ValueError (never quoting the value) if malformed."""
        try:
            data = json.loads(raw)
        except ValueError:
            raise ValueError("not JSON") from None
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        user, password = data.get("username"), data.get("password")
        if not isinstance(user, str) or not user or not isinstance(password, str) or not password:
            raise ValueError("needs non-empty string fields username and password")
        host, port = data.get("host"), data.get("port")
        if host is not None and (not isinstance(host, str) or not host.strip()):
            raise ValueError("host must be a non-empty string")
        if port is not None:
            if isinstance(port, str) and port.isdigit():
                port = int(port)
            if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
                raise ValueError("port must be an integer from 1 to 65535")
        return cls(
            username=user, password=password, host=None if host is None else host.strip(), port=port
        )


@dataclass(frozen=True)
class NoticeReceipt:
    """Outcome of ``RotationContext.notify``: where the notice went, or why nowhere."""

    #: Where it was delivered (e.g. an SNS topic ARN); None if nobody was notified.
    channel: str | None
    #: Why nobody was notified (e.g. ``"NT_ROTATION_TOPIC_ARN is not set"``); "" if delivered.
    reason: str = ""


@runtime_checkable
class RotationContext(Protocol):
    """What a strategy may use during one rotation of one secret version.

    Values are the secret's *current*, *pending* (the version being rotated in) and
    *previous* versions; every message built from a context names ``secret_id`` and
    ``version_id``, never a value.
    """

    @property
    def secret_id(self) -> str:
        """The store's identifier of the secret (AWS: its ARN)."""
        ...

    @property
    def version_id(self) -> str:
        """The version this rotation creates (AWS: the ClientRequestToken)."""
        ...

    @property
    def params(self) -> Mapping[str, str]:
        """The secret's rotation parameters, keyed by ``contract.PARAM_*`` (AWS: its tags)."""
        ...

    def current(self) -> str:
        """The current value; raises ``ContractError`` if there is none."""
        ...

    def pending(self) -> str | None:
        """The value of the version being rotated in, or None if not stored yet."""
        ...

    def require_pending(self) -> str:
        """The pending value; raises ``ContractError`` if there is none."""
        ...

    def previous(self) -> str | None:
        """The value that was current before the last rotation, if any."""
        ...

    def admin_credentials(self, param: str) -> AdminCredentials:
        """Read and validate the admin secret named by parameter ``param`` (never logged)."""
        ...

    def notify(self, subject: str, message: str) -> NoticeReceipt:
        """Tell operators ``message`` (identifiers only, never a value)."""
        ...


@runtime_checkable
class Strategy(Protocol):
    """One rotation strategy: the four steps of ``contract.RotationStep``.

    Every method must be idempotent: transports retry and deliver duplicates.
    """

    def create(self, ctx: RotationContext) -> str:
        """Return the new secret string; the transport stores it as the pending value."""
        ...

    def set(self, ctx: RotationContext, pending: str) -> None:
        """Make the backing service accept ``pending`` (the current value must keep working)."""
        ...

    def test(self, ctx: RotationContext, pending: str) -> None:
        """Raise unless ``pending`` works against the backing service."""
        ...

    def finish(self, ctx: RotationContext) -> None:
        """Clean-up after the pending value became current (also run on finish retries)."""
        ...


#: Builds the implementation of one strategy (gets the strategy it was looked up for).
StrategyFactory = Callable[[RotationStrategy], Strategy]


def _generated(name: RotationStrategy) -> Strategy:
    from .generated import GeneratedKeyStrategy

    return GeneratedKeyStrategy(name)


def _postgres_single_user(name: RotationStrategy) -> Strategy:
    from .postgres import PostgresSingleUser

    return PostgresSingleUser()


def _postgres_alternating_users(name: RotationStrategy) -> Strategy:
    from .postgres import PostgresAlternatingUsers

    return PostgresAlternatingUsers()


def _redis_acl(name: RotationStrategy) -> Strategy:
    from .redis_acl import RedisAclStrategy

    return RedisAclStrategy()


def _third_party_manual(name: RotationStrategy) -> Strategy:
    from .manual import ThirdPartyManual

    return ThirdPartyManual()


#: Every strategy's factory. Factories import their module (and driver) on first use only.
REGISTRY: Final[Mapping[RotationStrategy, StrategyFactory]] = MappingProxyType(
    {
        RotationStrategy.GENERATED_HMAC: _generated,
        RotationStrategy.GENERATED_AES256: _generated,
        RotationStrategy.POSTGRES_SINGLE_USER: _postgres_single_user,
        RotationStrategy.POSTGRES_ALTERNATING_USERS: _postgres_alternating_users,
        RotationStrategy.REDIS_ACL: _redis_acl,
        RotationStrategy.THIRD_PARTY_MANUAL: _third_party_manual,
    }
)


def get_strategy(
    name: RotationStrategy, registry: Mapping[RotationStrategy, StrategyFactory] = REGISTRY
) -> Strategy:
    """The implementation of ``name``; ``UnknownStrategyError`` if none is registered."""
    factory = registry.get(name)
    if factory is None:
        known = ", ".join(sorted(s.value for s in registry))
        raise UnknownStrategyError(
            f"no rotation strategy is registered for {str(name)!r}; registered: {known}"
        )
    return factory(name)
