"""generated-hmac / generated-aes256: sizes, encodings, AWSPREVIOUS stays readable."""

from __future__ import annotations

import hashlib
import hmac
import re

import pytest

from infra.rotation.contract import (
    AWSCURRENT,
    AWSPENDING,
    AWSPREVIOUS,
    TAG_ROTATION_STRATEGY,
    RotationStrategy,
)
from infra.rotation.errors import RotationError

from .conftest import Aws, unique

OLD_KEY = "0f" * 32  # fake


@pytest.mark.parametrize(
    ("strategy", "exact_len"),
    [(RotationStrategy.GENERATED_HMAC, None), (RotationStrategy.GENERATED_AES256, 64)],
)
def test_generated_key_format_and_grace_period(
    aws: Aws, strategy: RotationStrategy, exact_len: int | None
) -> None:
    secret = aws.create_secret(unique("k"), OLD_KEY, {TAG_ROTATION_STRATEGY: strategy.value})
    signed_before = hmac.new(bytes.fromhex(OLD_KEY), b"order-42", hashlib.sha256).hexdigest()

    first = aws.rotate(secret)
    new = aws.value(secret)
    assert re.fullmatch(r"[0-9a-f]+", new)
    assert len(new) >= 64
    if exact_len is not None:
        assert len(new) == exact_len
    assert len(bytes.fromhex(new)) >= 32
    assert new != OLD_KEY
    # Grace period: the previous key is still readable, so old signatures still verify.
    previous = aws.value(secret, AWSPREVIOUS)
    assert previous == OLD_KEY
    assert hmac.compare_digest(
        hmac.new(bytes.fromhex(previous), b"order-42", hashlib.sha256).hexdigest(), signed_before
    )

    aws.rotate(secret)
    assert aws.value(secret, AWSPREVIOUS) == new  # only one generation of grace
    assert aws.value(secret) not in (new, OLD_KEY)
    assert AWSCURRENT not in aws.stages(secret)[first]


def test_keys_are_random_across_secrets(aws: Aws) -> None:
    tags = {TAG_ROTATION_STRATEGY: RotationStrategy.GENERATED_AES256.value}
    values = set()
    for _ in range(5):
        secret = aws.create_secret(unique("k"), OLD_KEY, tags)
        aws.rotate(secret)
        values.add(aws.value(secret))
    assert len(values) == 5


@pytest.mark.parametrize(
    ("strategy", "bad"),
    [
        (RotationStrategy.GENERATED_AES256, "ab" * 31),  # 31 bytes
        (RotationStrategy.GENERATED_AES256, "AB" * 32),  # upper case
        (RotationStrategy.GENERATED_HMAC, "zz" * 32),  # not hex
        (RotationStrategy.GENERATED_HMAC, OLD_KEY),  # unchanged
    ],
)
def test_test_step_rejects_a_malformed_pending_key(
    aws: Aws, strategy: RotationStrategy, bad: str
) -> None:
    secret = aws.create_secret(unique("k"), OLD_KEY, {TAG_ROTATION_STRATEGY: strategy.value})
    token = aws.begin_rotation(secret)
    aws.sm.put_secret_value(
        SecretId=secret, ClientRequestToken=token, SecretString=bad, VersionStages=[AWSPENDING]
    )
    with pytest.raises(RotationError):
        aws.step(secret, token, "testSecret")
    assert aws.value(secret) == OLD_KEY
