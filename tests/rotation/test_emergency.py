"""nt_secrets.rotate.rotate_now: emergency rotation through moto + our real handler."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from infra.rotation.contract import (
    AWSCURRENT,
    AWSPREVIOUS,
    TAG_MASTER_SECRET,
    TAG_ROTATION_STRATEGY,
    RotationStrategy,
)
from infra.rotation.errors import ManualRotationRequired
from infra.rotation.strategies.postgres import PgUrl
from nt_secrets.rotate import (
    EmergencyRotationError,
    RotateOptions,
    RotationFailedError,
    RotationNotConfiguredError,
    RotationPhase,
    RotationProgress,
    RotationTimeoutError,
    rotate_now,
)
from tests.servers import PostgresServer

from .conftest import Aws, unique

OLD_KEY = "5a" * 32  # fake


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _configured_secret(
    aws: Aws, value: str, tags: dict[str, str], hook_errors: list[Any] | None = None
) -> str:
    """A secret with its rotation Lambda configured, as the Pulumi program leaves it.

    moto quirk: with RotateImmediately=False it runs testSecret on a *new* version holding a
    copy of the value (AWS tests with the current version, a no-op for our handler), which
    our handler rightly rejects; that configuration-time error is not part of the test.
    """
    arn = aws.create_secret(unique("s"), value, tags)
    aws.sm.rotate_secret(
        SecretId=arn,
        RotationLambdaARN=aws.lambda_arn,
        RotationRules={"AutomaticallyAfterDays": 365},
        RotateImmediately=False,
    )
    if hook_errors is not None:
        hook_errors.clear()
    return arn


def test_emergency_rotation_of_a_generated_key(aws: Aws, lambda_runs_handler: list[Any]) -> None:
    arn = _configured_secret(
        aws,
        OLD_KEY,
        {TAG_ROTATION_STRATEGY: RotationStrategy.GENERATED_HMAC.value},
        lambda_runs_handler,
    )
    before = aws.version_with(arn, AWSCURRENT)
    events: list[RotationProgress] = []
    result = rotate_now(aws.sm, arn, on_progress=events.append)

    assert lambda_runs_handler == []
    assert result.version_id == aws.version_with(arn, AWSCURRENT)
    assert result.previous_version_id == before
    assert aws.value(arn) != OLD_KEY
    assert aws.value(arn, AWSPREVIOUS) == OLD_KEY
    assert [e.phase for e in events] == [RotationPhase.REQUESTED, RotationPhase.COMPLETED]
    shown = " ".join(repr(e) for e in events) + repr(result)
    assert OLD_KEY not in shown
    assert aws.value(arn) not in shown


@pytest.mark.servers
def test_emergency_rotation_of_a_database_url(
    aws: Aws, pg: PostgresServer, lambda_runs_handler: list[Any]
) -> None:
    user, password = unique("app"), "fake-initial-pw-2"
    conn = pg.connect()
    conn.run(f"CREATE ROLE \"{user}\" WITH LOGIN PASSWORD '{password}'")
    conn.close()
    master = aws.create_secret(
        unique("master"),
        json.dumps({"username": pg.superuser, "password": pg.superuser_password}),
        {},
    )
    arn = _configured_secret(
        aws,
        pg.url(user, password, query="sslmode=disable"),
        {
            TAG_ROTATION_STRATEGY: RotationStrategy.POSTGRES_ALTERNATING_USERS.value,
            TAG_MASTER_SECRET: master,
        },
        lambda_runs_handler,
    )
    rotate_now(aws.sm, arn)
    assert lambda_runs_handler == []
    new = PgUrl.parse(aws.value(arn))
    assert new.user == f"{user}_clone"
    assert pg.can_login(new.user, new.password)
    assert pg.can_login(user, password)  # handed-out credentials keep working


def test_emergency_rotation_of_a_third_party_key_times_out_untouched(
    aws: Aws, lambda_runs_handler: list[Any]
) -> None:
    arn = _configured_secret(
        aws,
        "PK_FAKE_OLD",
        {TAG_ROTATION_STRATEGY: RotationStrategy.THIRD_PARTY_MANUAL.value},
        lambda_runs_handler,
    )
    before = aws.version_with(arn, AWSCURRENT)
    clock = FakeClock()
    events: list[RotationProgress] = []
    with pytest.raises(RotationTimeoutError, match="third-party-manual"):
        rotate_now(
            aws.sm,
            arn,
            on_progress=events.append,
            options=RotateOptions(timeout_s=10, poll_interval_s=2),
            sleep=clock.sleep,
            clock=clock,
        )
    assert [type(e) for e in lambda_runs_handler] == [ManualRotationRequired]
    assert aws.value(arn) == "PK_FAKE_OLD"
    assert aws.version_with(arn, AWSCURRENT) == before
    assert aws.notifications()[0]["secretArn"] == arn
    assert {e.phase for e in events} == {RotationPhase.REQUESTED, RotationPhase.WAITING}
    assert clock.now == pytest.approx(10)


def test_secret_without_rotation_lambda_is_refused(aws: Aws) -> None:
    arn = aws.create_secret(unique("s"), OLD_KEY, {})
    with pytest.raises(RotationNotConfiguredError):
        rotate_now(aws.sm, arn)
    assert len(aws.stages(arn)) == 1  # no version was created


def test_unknown_secret(aws: Aws) -> None:
    with pytest.raises(EmergencyRotationError, match="ResourceNotFoundException"):
        rotate_now(aws.sm, "does-not-exist")


class ScriptedClient:
    """DescribeSecret answers from a script, to drive every polling outcome."""

    def __init__(self, script: Sequence[Mapping[str, list[str]]]) -> None:
        self.script = list(script)
        self.calls = 0

    def describe_secret(self, SecretId: str) -> dict[str, Any]:
        versions = self.script[min(self.calls, len(self.script) - 1)]
        self.calls += 1
        return {"ARN": "arn:fake", "RotationLambdaARN": "arn:fn", "VersionIdsToStages": versions}

    def rotate_secret(self, **kwargs: Any) -> dict[str, str]:
        return {"VersionId": "new"}


OLD = {"old": [AWSCURRENT]}
PENDING = {"old": [AWSCURRENT], "new": ["AWSPENDING"]}
DONE = {"old": [AWSPREVIOUS], "new": [AWSCURRENT]}


@pytest.mark.parametrize(
    ("script", "outcome", "waits"),
    [
        ([OLD, PENDING, PENDING, DONE], None, 2),
        ([OLD, DONE], None, 0),
        ([OLD, PENDING, {"old": [AWSPREVIOUS], "other": [AWSCURRENT]}], RotationFailedError, 1),
        ([OLD, PENDING, OLD], RotationFailedError, 1),
        ([OLD, PENDING], RotationTimeoutError, 5),
    ],
    ids=["completes", "immediate", "superseded", "pending-discarded", "timeout"],
)
def test_polling_outcomes(
    script: list[Mapping[str, list[str]]], outcome: type[Exception] | None, waits: int
) -> None:
    clock = FakeClock()
    events: list[RotationProgress] = []
    kwargs: dict[str, Any] = {
        "on_progress": events.append,
        "options": RotateOptions(timeout_s=5, poll_interval_s=1),
        "sleep": clock.sleep,
        "clock": clock,
    }
    client: Any = ScriptedClient(script)
    if outcome is None:
        result = rotate_now(client, "s", **kwargs)
        assert result.version_id == "new"
        assert result.previous_version_id == "old"
        assert events[-1].phase is RotationPhase.COMPLETED
    else:
        with pytest.raises(outcome):
            rotate_now(client, "s", **kwargs)
    assert sum(e.phase is RotationPhase.WAITING for e in events) == waits


@pytest.mark.parametrize(
    "kwargs", [{"timeout_s": 0}, {"poll_interval_s": -1}, {"client_request_token": "short"}]
)
def test_options_are_validated(kwargs: dict[str, Any]) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        RotateOptions(**kwargs)
