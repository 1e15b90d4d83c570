"""third-party-manual: notify, fail closed, never touch AWSCURRENT; operator path works."""

from __future__ import annotations

import pytest

from infra.rotation.contract import (
    AWSCURRENT,
    AWSPENDING,
    AWSPREVIOUS,
    ENV_ROTATION_TOPIC_ARN,
    TAG_PROVIDER,
    TAG_ROTATION_STRATEGY,
    RotationStrategy,
)
from infra.rotation.errors import ContractError, ManualRotationRequired, RotationError

from .conftest import STEPS, Aws, unique

OLD = "PK_FAKE_OLD_KEY_0000"
NEW = "PK_FAKE_NEW_KEY_1111"
TAGS = {TAG_ROTATION_STRATEGY: RotationStrategy.THIRD_PARTY_MANUAL.value, TAG_PROVIDER: "alpaca"}


def test_rotation_notifies_and_never_changes_awscurrent(aws: Aws) -> None:
    secret = aws.create_secret(unique("alpaca"), OLD, TAGS)
    token = aws.begin_rotation(secret)
    current_version = aws.version_with(secret, AWSCURRENT)
    with pytest.raises(ManualRotationRequired, match=token):
        aws.step(secret, token, "createSecret")
    # Whatever AWS (or a confused caller) delivers next, AWSCURRENT stays put.
    for step in STEPS:
        with pytest.raises((ManualRotationRequired, ContractError)):
            aws.step(secret, token, step)
    assert aws.value(secret) == OLD
    assert aws.version_with(secret, AWSCURRENT) == current_version

    notes = aws.notifications()
    assert len(notes) == 2  # one per createSecret delivery
    assert notes[0]["secretArn"] == secret
    assert notes[0]["pendingVersionId"] == token
    assert notes[0]["provider"] == "alpaca"
    assert all(OLD not in str(n) for n in notes)


def test_without_topic_it_still_fails_closed(aws: Aws) -> None:
    aws.env.pop(ENV_ROTATION_TOPIC_ARN)
    secret = aws.create_secret(unique("llm"), OLD, TAGS)
    token = aws.begin_rotation(secret)
    with pytest.raises(ManualRotationRequired, match="nobody was notified"):
        aws.step(secret, token, "createSecret")
    assert aws.notifications() == []
    assert aws.value(secret) == OLD


def test_operator_runbook_path_promotes_the_manual_key(aws: Aws) -> None:
    secret = aws.create_secret(unique("alpaca"), OLD, TAGS)
    token = aws.begin_rotation(secret)
    with pytest.raises(ManualRotationRequired):
        aws.step(secret, token, "createSecret")
    token = aws.notifications()[0]["pendingVersionId"]
    # Runbook: new key issued at the provider, then put as AWSPENDING under that token.
    aws.sm.put_secret_value(
        SecretId=secret, ClientRequestToken=token, SecretString=NEW, VersionStages=[AWSPENDING]
    )
    aws.run_steps(secret, token)  # Secrets Manager re-attempts the rotation
    assert aws.value(secret) == NEW
    assert aws.value(secret, AWSPREVIOUS) == OLD  # the old key until it is revoked
    assert len(aws.notifications()) == 1  # no new notice once the key is there


def test_operator_putting_the_same_key_is_refused(aws: Aws) -> None:
    secret = aws.create_secret(unique("alpaca"), OLD, TAGS)
    token = aws.begin_rotation(secret)
    aws.sm.put_secret_value(
        SecretId=secret, ClientRequestToken=token, SecretString=OLD, VersionStages=[AWSPENDING]
    )
    aws.run_steps(secret, token, ("createSecret", "setSecret"))
    with pytest.raises(RotationError, match="equals AWSCURRENT"):
        aws.step(secret, token, "testSecret")
    assert aws.version_with(secret, AWSCURRENT) != token
