"""redis-acl: the secret string is the bare password of one Redis ACL user.

setSecret *adds* the new password (``ACL SETUSER u >new``): both old and new work.
finishSecret, after AWSCURRENT moved, removes the old password by its SHA-256 hash
(``ACL SETUSER u !<hash>``), so the old plaintext is never sent again. Both are idempotent.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from typing import Any

from ..contract import (
    PARAM_MASTER_SECRET,
    PARAM_REDIS_ENDPOINT,
    PARAM_REDIS_USER,
    redis_tls_enabled,
)
from ..errors import ContractError, RotationError
from . import RotationContext

logger = logging.getLogger(__name__)

PASSWORD_BYTES = 32
TIMEOUT_S = 5.0


def _endpoint(ctx: RotationContext) -> tuple[str, int]:
    raw = ctx.params.get(PARAM_REDIS_ENDPOINT, "")
    host, sep, port = raw.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ContractError(f"{ctx.secret_id}: tag {PARAM_REDIS_ENDPOINT} must be host:port")
    return host.strip("[]"), int(port)


def _acl_user(ctx: RotationContext) -> str:
    user = ctx.params.get(PARAM_REDIS_USER, "")
    if not user or any(c.isspace() for c in user):
        raise ContractError(f"{ctx.secret_id}: tag {PARAM_REDIS_USER} must name one ACL user")
    return user


def _client(ctx: RotationContext, username: str, password: str) -> Any:
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    host, port = _endpoint(ctx)
    return redis.Redis(
        host=host,
        port=port,
        username=username,
        password=password,
        ssl=redis_tls_enabled(ctx.params),
        socket_timeout=TIMEOUT_S,
        socket_connect_timeout=TIMEOUT_S,
        retry=Retry(NoBackoff(), 0),  # fail fast; Secrets Manager retries the whole step
    )


def _sha256(password: str) -> str:
    return hashlib.sha256(password.encode()).hexdigest()


def _persist(admin: Any, ctx: RotationContext) -> None:
    """``ACL SAVE`` when the server keeps users in an aclfile, so a restart keeps them."""
    import redis

    try:
        admin.execute_command("ACL", "SAVE")
    except redis.ResponseError:
        logger.info("%s: Redis has no aclfile; ACL change is in memory/config only", ctx.secret_id)


class RedisAclStrategy:
    def create(self, ctx: RotationContext) -> str:
        ctx.current()
        return secrets.token_hex(PASSWORD_BYTES)

    def _admin(self, ctx: RotationContext) -> Any:
        admin = ctx.admin_credentials(PARAM_MASTER_SECRET)
        return _client(ctx, admin.username, admin.password)

    def _password_hashes(self, admin: Any, user: str, ctx: RotationContext) -> list[str]:
        info = admin.acl_getuser(user)
        if not info:
            raise RotationError(f"{ctx.secret_id}: Redis ACL user {user!r} does not exist")
        return [str(h) for h in info.get("passwords", [])]

    def set(self, ctx: RotationContext, pending: str) -> None:
        user = _acl_user(ctx)
        admin = self._admin(ctx)
        try:
            hashes = self._password_hashes(admin, user, ctx)
            if _sha256(pending) in hashes:
                logger.info("setSecret: %s version %s already set", ctx.secret_id, ctx.version_id)
                return
            admin.execute_command("ACL", "SETUSER", user, ">" + pending)
            _persist(admin, ctx)
        finally:
            admin.close()
        logger.info("setSecret: %s added a password to ACL user %s", ctx.secret_id, user)

    def test(self, ctx: RotationContext, pending: str) -> None:
        import redis

        user = _acl_user(ctx)
        client = _client(ctx, user, pending)
        try:
            client.ping()
        except redis.AuthenticationError:
            raise RotationError(
                f"{ctx.secret_id} version {ctx.version_id}: AUTH as {user!r} failed"
            ) from None
        finally:
            client.close()

    def finish(self, ctx: RotationContext) -> None:
        previous = ctx.previous()
        if previous is None or previous == ctx.current():
            return
        user = _acl_user(ctx)
        old_hash = _sha256(previous)
        admin = self._admin(ctx)
        try:
            if old_hash in self._password_hashes(admin, user, ctx):
                admin.execute_command("ACL", "SETUSER", user, "!" + old_hash)
                _persist(admin, ctx)
                logger.info(
                    "finishSecret: %s removed the AWSPREVIOUS password of %s", ctx.secret_id, user
                )
        finally:
            admin.close()
