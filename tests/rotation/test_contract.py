"""The tag contract and the AWS rotation contract enforced by the handler (moto only)."""

from __future__ import annotations

import logging

import pytest

from infra.catalog import default_catalog
from infra.rotation.contract import (
    AWSCURRENT,
    AWSPENDING,
    AWSPREVIOUS,
    TAG_MASTER_SECRET,
    TAG_REDIS_ENDPOINT,
    TAG_REDIS_TLS,
    TAG_REDIS_USER,
    TAG_ROTATION_STRATEGY,
    RotationStrategy,
    missing_tags,
    parse_strategy,
    redis_tls_enabled,
)
from infra.rotation.errors import ContractError, RotationError

from .conftest import Aws, unique

HMAC = {TAG_ROTATION_STRATEGY: RotationStrategy.GENERATED_HMAC.value}
OLD_KEY = "ab" * 32  # fake initial key


@pytest.mark.parametrize(
    ("variable", "strategy"),
    [
        ("JWT_SECRET", RotationStrategy.GENERATED_HMAC),
        ("API_SIGNING_SECRET", RotationStrategy.GENERATED_HMAC),
        ("ENCRYPTION_KEY", RotationStrategy.GENERATED_AES256),
        ("DATABASE_URL", RotationStrategy.POSTGRES_ALTERNATING_USERS),
        ("TIMESCALE_URL", RotationStrategy.POSTGRES_ALTERNATING_USERS),
        ("REDIS_PASSWORD", RotationStrategy.REDIS_ACL),
        ("ALPACA_API_KEY", RotationStrategy.THIRD_PARTY_MANUAL),
        ("OPENAI_API_KEY", RotationStrategy.THIRD_PARTY_MANUAL),
    ],
)
def test_catalog_strategy_per_variable(variable: str, strategy: RotationStrategy) -> None:
    assert default_catalog().get(variable).strategy is strategy


@pytest.mark.parametrize(
    ("tags", "error"),
    [
        ({}, "no 'rotation-strategy' tag"),
        ({TAG_ROTATION_STRATEGY: "rot13"}, "unknown rotation-strategy 'rot13'"),
    ],
)
def test_parse_strategy_rejects(tags: dict[str, str], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        parse_strategy(tags)


@pytest.mark.parametrize(
    ("strategy", "tags", "missing"),
    [
        (RotationStrategy.GENERATED_AES256, {}, []),
        (RotationStrategy.POSTGRES_SINGLE_USER, {}, []),
        (RotationStrategy.POSTGRES_ALTERNATING_USERS, {}, [TAG_MASTER_SECRET]),
        (
            RotationStrategy.REDIS_ACL,
            {TAG_REDIS_USER: "app"},
            [TAG_REDIS_ENDPOINT, TAG_MASTER_SECRET],
        ),
    ],
)
def test_missing_tags(strategy: RotationStrategy, tags: dict[str, str], missing: list[str]) -> None:
    assert missing_tags(strategy, tags) == sorted(missing)


@pytest.mark.parametrize(
    ("value", "tls"), [(None, True), ("true", True), ("false", False), ("0", False), ("No", False)]
)
def test_redis_tls_defaults_to_on(value: str | None, tls: bool) -> None:
    assert redis_tls_enabled({} if value is None else {TAG_REDIS_TLS: value}) is tls


def _event_error(aws: Aws, secret: str, token: str, step: str) -> str:
    with pytest.raises(ContractError) as info:
        aws.step(secret, token, step)
    return str(info.value)


def test_rotation_must_be_enabled(aws: Aws) -> None:
    secret = aws.create_secret(unique("s"), OLD_KEY, HMAC)
    token = aws.sm.put_secret_value(
        SecretId=secret, SecretString="cd" * 32, VersionStages=[AWSPENDING]
    )["VersionId"]
    assert "does not have rotation enabled" in _event_error(aws, secret, token, "finishSecret")
    assert aws.value(secret) == OLD_KEY


@pytest.mark.parametrize("step", ["createSecret", "setSecret", "testSecret", "finishSecret"])
def test_token_must_be_a_version_of_the_secret(aws: Aws, step: str) -> None:
    secret = aws.create_secret(unique("s"), OLD_KEY, HMAC)
    aws.begin_rotation(secret)
    other = aws.create_secret(unique("other"), OLD_KEY, HMAC)
    foreign = aws.begin_rotation(other)
    assert "has no stage for rotation" in _event_error(aws, secret, foreign, step)
    assert aws.value(secret) == OLD_KEY


@pytest.mark.parametrize("step", ["createSecret", "setSecret", "testSecret", "finishSecret"])
def test_stale_token_is_refused(aws: Aws, step: str) -> None:
    """A delayed event for a version that is now AWSPREVIOUS must not move anything."""
    secret = aws.create_secret(unique("s"), OLD_KEY, HMAC)
    first = aws.rotate(secret)
    aws.rotate(secret)
    assert AWSPREVIOUS in aws.stages(secret)[first]
    current = aws.value(secret)
    assert "is not set as AWSPENDING" in _event_error(aws, secret, first, step)
    assert aws.value(secret) == current


@pytest.mark.parametrize(
    ("tags", "error"),
    [
        ({}, "no 'rotation-strategy' tag"),
        ({TAG_ROTATION_STRATEGY: "md5"}, "unknown rotation-strategy"),
        (
            {TAG_ROTATION_STRATEGY: RotationStrategy.POSTGRES_ALTERNATING_USERS.value},
            "lacks tags ['rotation-master-secret']",
        ),
    ],
)
def test_bad_tags_fail_before_any_change(aws: Aws, tags: dict[str, str], error: str) -> None:
    secret = aws.create_secret(unique("s"), OLD_KEY, tags)
    token = aws.begin_rotation(secret)
    assert error in _event_error(aws, secret, token, "createSecret")
    assert aws.value(secret) == OLD_KEY


@pytest.mark.parametrize(
    ("event", "error"),
    [
        ({"SecretId": "x", "ClientRequestToken": "t", "Step": "dropSecret"}, "unknown Step"),
        ({"SecretId": "x", "Step": "createSecret"}, "needs SecretId and ClientRequestToken"),
    ],
)
def test_malformed_events(aws: Aws, event: dict[str, str], error: str) -> None:
    from infra.rotation.handler import rotate

    with pytest.raises(ContractError, match=error):
        rotate(event, client=aws.sm, env={})


def test_finish_never_promotes_a_version_without_value(aws: Aws) -> None:
    secret = aws.create_secret(unique("s"), OLD_KEY, HMAC)
    token = aws.begin_rotation(secret)
    assert "has no AWSPENDING value" in _event_error(aws, secret, token, "finishSecret")
    assert aws.value(secret) == OLD_KEY
    assert aws.version_with(secret, AWSCURRENT) != token


def test_every_step_delivered_twice_is_idempotent(aws: Aws) -> None:
    secret = aws.create_secret(unique("s"), OLD_KEY, HMAC)
    token = aws.begin_rotation(secret)
    aws.step(secret, token, "createSecret")
    pending = aws.value(secret, AWSPENDING)
    for step in ("createSecret", "setSecret", "setSecret", "testSecret", "testSecret"):
        aws.step(secret, token, step)
        assert aws.value(secret) == OLD_KEY
    assert aws.value(secret, AWSPENDING) == pending
    aws.step(secret, token, "finishSecret")
    aws.step(secret, token, "finishSecret")
    aws.step(secret, token, "createSecret")  # late duplicate after the rotation finished
    assert aws.value(secret) == pending
    assert aws.value(secret, AWSPREVIOUS) == OLD_KEY
    assert aws.stages(secret)[token] == [AWSCURRENT]  # AWSPENDING label cleaned up


def test_crash_between_steps_then_retry_completes(aws: Aws) -> None:
    secret = aws.create_secret(unique("s"), OLD_KEY, HMAC)
    token = aws.begin_rotation(secret)
    aws.run_steps(secret, token, ("createSecret", "setSecret"))  # ... Lambda dies here
    pending = aws.value(secret, AWSPENDING)
    assert aws.value(secret) == OLD_KEY
    aws.run_steps(secret, token)  # AWS retries the rotation with the same token
    assert aws.value(secret) == pending
    assert aws.value(secret, AWSPREVIOUS) == OLD_KEY


def test_lambda_handler_entry_point_uses_boto3_from_environment(aws: Aws) -> None:
    from infra.rotation.handler import lambda_handler

    secret = aws.create_secret(unique("s"), OLD_KEY, HMAC)
    token = aws.begin_rotation(secret)
    for step in ("createSecret", "setSecret", "testSecret", "finishSecret"):
        lambda_handler({"SecretId": secret, "ClientRequestToken": token, "Step": step}, None)
    assert aws.version_with(secret, AWSCURRENT) == token
    assert aws.value(secret) != OLD_KEY


def test_logs_and_errors_never_contain_secret_values(
    aws: Aws, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="infra.rotation")
    secret = aws.create_secret(unique("s"), OLD_KEY, HMAC)
    token = aws.rotate(secret)
    new = aws.value(secret)
    stale = aws.begin_rotation(secret)
    aws.sm.put_secret_value(
        SecretId=secret, ClientRequestToken=stale, SecretString=new, VersionStages=[AWSPENDING]
    )
    with pytest.raises(RotationError, match="equals AWSCURRENT") as info:
        aws.step(secret, stale, "testSecret")
    assert caplog.records  # the handler does log
    text = caplog.text + str(info.value)
    assert token in caplog.text  # version ids are logged...
    assert OLD_KEY not in text  # ...values never
    assert new not in text
