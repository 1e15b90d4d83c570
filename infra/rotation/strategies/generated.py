"""generated-hmac and generated-aes256: a fresh random key, hex-encoded.

Nothing outside Secrets Manager has to learn the new value, so setSecret is a no-op and
testSecret only validates the encoding. Applications keep reading AWSPREVIOUS during a grace
period to verify tokens signed / decrypt data encrypted with the old key (docs/rotation.md).
"""

from __future__ import annotations

import re
import secrets

from ..contract import AES256_KEY_BYTES, HMAC_KEY_BYTES, RotationStrategy
from ..errors import RotationError
from . import RotationContext

_HEX = re.compile(r"[0-9a-f]+")


def key_bytes(strategy: RotationStrategy) -> int:
    return AES256_KEY_BYTES if strategy is RotationStrategy.GENERATED_AES256 else HMAC_KEY_BYTES


class GeneratedKeyStrategy:
    def __init__(self, strategy: RotationStrategy) -> None:
        self.strategy = strategy
        self.nbytes = key_bytes(strategy)

    def create(self, ctx: RotationContext) -> str:
        current = ctx.current()
        while True:
            value = secrets.token_hex(self.nbytes)
            if value != current:  # astronomically unlikely, but a rotation must change the key
                return value

    def set(self, ctx: RotationContext, pending: str) -> None:
        return None

    def test(self, ctx: RotationContext, pending: str) -> None:
        if self.strategy is RotationStrategy.GENERATED_AES256:
            ok = len(pending) == 2 * self.nbytes
        else:
            ok = len(pending) >= 2 * self.nbytes
        if not (ok and _HEX.fullmatch(pending)):
            raise RotationError(
                f"{ctx.secret_id} version {ctx.version_id}: pending value is not a "
                f"{2 * self.nbytes}-character lowercase hex key"
            )
        if pending == ctx.current():
            raise RotationError(
                f"{ctx.secret_id} version {ctx.version_id}: pending value equals AWSCURRENT"
            )

    def finish(self, ctx: RotationContext) -> None:
        return None
