"""Rotation strategies behind one small protocol, selected by the ``rotation-strategy`` tag."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from ..contract import AWSCURRENT, AWSPENDING, AWSPREVIOUS, RotationStrategy
from ..errors import ContractError

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sns import SNSClient


@dataclass(frozen=True)
class AdminCredentials:
    """Value of the secret named by the ``rotation-master-secret`` tag.

    A plain dataclass, not pydantic: pydantic-core is a 5 MB native wheel we keep out of the
    Lambda zip. ``repr`` hides the password.
    """

    username: str
    password: str = field(repr=False)

    @classmethod
    def parse(cls, raw: str) -> AdminCredentials:
        """Parse ``{"username": .., "password": ..}``; ValueError (without the value) if not."""
        try:
            data = json.loads(raw)
        except ValueError:
            raise ValueError("not JSON") from None
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        user, password = data.get("username"), data.get("password")
        if not isinstance(user, str) or not user or not isinstance(password, str) or not password:
            raise ValueError("needs non-empty string fields username and password")
        return cls(username=user, password=password)


@dataclass
class RotationContext:
    """What a strategy may use: the secret's identity, tags, environment and AWS clients."""

    client: SecretsManagerClient
    arn: str
    token: str
    tags: Mapping[str, str]
    env: Mapping[str, str]
    #: Builds the SNS client lazily, so only third-party-manual rotations need SNS at all.
    sns_factory: Callable[[], SNSClient] | None = None
    _cache: dict[tuple[str | None, str | None], str | None] = field(default_factory=dict)

    def _value(self, version_id: str | None, stage: str | None) -> str | None:
        key = (version_id, stage)
        if key not in self._cache:
            kwargs: dict[str, str] = {"SecretId": self.arn}
            if version_id:
                kwargs["VersionId"] = version_id
            if stage:
                kwargs["VersionStage"] = stage
            try:
                resp = self.client.get_secret_value(**kwargs)
            except self.client.exceptions.ResourceNotFoundException:
                self._cache[key] = None
                return None
            self._cache[key] = resp.get("SecretString")
        return self._cache[key]

    def invalidate(self) -> None:
        """Forget cached values (after staging labels moved)."""
        self._cache.clear()

    def current(self) -> str:
        value = self._value(None, AWSCURRENT)
        if value is None:
            raise ContractError(f"secret {self.arn} has no AWSCURRENT string value")
        return value

    def pending(self) -> str | None:
        """Value of the version ``token`` with stage AWSPENDING, or None if not put yet."""
        return self._value(self.token, AWSPENDING)

    def require_pending(self) -> str:
        value = self.pending()
        if not value:
            raise ContractError(f"secret {self.arn} version {self.token} has no AWSPENDING value")
        return value

    def previous(self) -> str | None:
        return self._value(None, AWSPREVIOUS)

    def admin_credentials(self, tag: str) -> AdminCredentials:
        """Read and validate the admin secret named by ``tag`` (its value is never logged)."""
        secret_id = self.tags.get(tag)
        if not secret_id:
            raise ContractError(f"secret {self.arn} needs the {tag!r} tag")
        resp = self.client.get_secret_value(SecretId=secret_id, VersionStage=AWSCURRENT)
        try:
            return AdminCredentials.parse(resp.get("SecretString", ""))
        except ValueError as exc:
            raise ContractError(f"admin secret {resp.get('ARN', secret_id)}: {exc}") from None

    def sns(self) -> SNSClient:
        if self.sns_factory is None:
            raise ContractError("no SNS client available")
        return self.sns_factory()


class Strategy(Protocol):
    """One rotation strategy. Every method must be idempotent: AWS retries and duplicates."""

    def create(self, ctx: RotationContext) -> str:
        """Return the new secret string; the handler stores it as AWSPENDING."""
        ...

    def set(self, ctx: RotationContext, pending: str) -> None:
        """Make the backing service accept ``pending`` (AWSCURRENT must keep working)."""
        ...

    def test(self, ctx: RotationContext, pending: str) -> None:
        """Raise unless ``pending`` works against the backing service."""
        ...

    def finish(self, ctx: RotationContext) -> None:
        """Clean-up after AWSCURRENT moved to the new version (also run on finish retries)."""
        ...


def get_strategy(name: RotationStrategy) -> Strategy:
    """The strategy implementation for ``name`` (imports drivers only when needed)."""
    if name in (RotationStrategy.GENERATED_HMAC, RotationStrategy.GENERATED_AES256):
        from .generated import GeneratedKeyStrategy

        return GeneratedKeyStrategy(name)
    if name is RotationStrategy.POSTGRES_SINGLE_USER:
        from .postgres import PostgresSingleUser

        return PostgresSingleUser()
    if name is RotationStrategy.POSTGRES_ALTERNATING_USERS:
        from .postgres import PostgresAlternatingUsers

        return PostgresAlternatingUsers()
    if name is RotationStrategy.REDIS_ACL:
        from .redis_acl import RedisAclStrategy

        return RedisAclStrategy()
    from .manual import ThirdPartyManual

    return ThirdPartyManual()
