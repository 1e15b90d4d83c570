"""`nt-secrets rotate <secret> --now`: name resolution, progress, exit codes, never a value.

Runs the CLI in-process against moto, with our real handler behind moto's Lambda
(``lambda_runs_handler``, see conftest.py), like test_emergency.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from infra.backends.aws.naming import secret_name
from infra.catalog import Environment, default_catalog
from infra.rotation.contract import AWSCURRENT, TAG_ROTATION_STRATEGY, RotationStrategy
from nt_secrets.cli import main
from tests.conftest import AWS_HOME

from .conftest import Aws

OLD_KEY = "7c" * 32  # fake
DEV = Environment.DEVELOPMENT


def _configured(
    aws: Aws, name: str, value: str, strategy: RotationStrategy, hook: list[Any]
) -> str:
    arn = aws.create_secret(name, value, {TAG_ROTATION_STRATEGY: strategy.value})
    aws.sm.rotate_secret(
        SecretId=arn,
        RotationLambdaARN=aws.lambda_arn,
        RotationRules={"AutomaticallyAfterDays": 365},
        RotateImmediately=False,
    )
    hook.clear()  # moto's configuration-time testSecret quirk (see test_emergency.py)
    return arn


def rotate(*args: str) -> int:
    try:
        return main(["rotate", *args, "--project-dir", str(AWS_HOME)])
    except SystemExit as exc:
        return int(exc.code or 0)


@pytest.mark.parametrize("how", ["catalog-name", "secret-name", "arn"])
def test_rotates_a_generated_key_by_any_name(
    how: str, aws: Aws, lambda_runs_handler: list[Any], capsys: pytest.CaptureFixture[str]
) -> None:
    name = secret_name(default_catalog().get("JWT_SECRET"), DEV)
    arn = _configured(aws, name, OLD_KEY, RotationStrategy.GENERATED_HMAC, lambda_runs_handler)
    before = aws.version_with(arn, AWSCURRENT)
    target = {
        "catalog-name": ["JWT_SECRET", "--stack", "dev"],
        "secret-name": [name, "--stack", "dev"],
        "arn": [arn],
    }[how]
    assert rotate(*target, "--now") == 0
    out, err = capsys.readouterr()
    assert lambda_runs_handler == []
    assert aws.value(arn) != OLD_KEY and aws.version_with(arn, AWSCURRENT) != before
    assert f"version {aws.version_with(arn, AWSCURRENT)} is AWSCURRENT" in out
    assert arn in out  # printed as is (rich would turn ":secret:" into an emoji)
    assert "completed" in err  # the progress display, on stderr
    assert OLD_KEY not in out + err and aws.value(arn) not in out + err


def test_third_party_key_times_out_with_exit_1(
    aws: Aws, lambda_runs_handler: list[Any], capsys: pytest.CaptureFixture[str]
) -> None:
    name = secret_name(default_catalog().get("OPENROUTER_API_KEY"), DEV)
    arn = _configured(
        aws, name, "sk-or-FAKE", RotationStrategy.THIRD_PARTY_MANUAL, lambda_runs_handler
    )
    code = rotate(
        "OPENROUTER_API_KEY",
        "--now",
        "--stack",
        "dev",
        "--timeout",
        "0.2",
        "--poll-interval",
        "0.1",
    )
    _out, err = capsys.readouterr()
    assert code == 1
    assert "third-party-manual" in err and "Traceback" not in err
    assert arn in err
    assert aws.value(arn) == "sk-or-FAKE"
    assert "sk-or-FAKE" not in err


def test_secret_without_rotation_is_bad_input(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    arn = aws.create_secret(secret_name(default_catalog().get("JWT_SECRET"), DEV), OLD_KEY, {})
    assert rotate("JWT_SECRET", "--now", "--stack", "dev") == 2
    out, err = capsys.readouterr()
    assert "no rotation Lambda" in err and out == ""
    assert aws.value(arn) == OLD_KEY


def test_secret_missing_in_aws_is_bad_input(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    assert rotate("JWT_SECRET", "--now", "--stack", "dev") == 2
    out, err = capsys.readouterr()
    assert "no such secret" in err and out == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["JWT_SECRET", "--stack", "dev"], "--now"),
        (["NOT_A_SECRET", "--now", "--stack", "dev"], "not in the secret catalog"),
        (["LOG_LEVEL", "--now", "--stack", "dev"], "not a stored secret"),
        (["COINBASE_API_KEY", "--now", "--stack", "dev"], "not stored in development"),
        (["JWT_SECRET", "--now"], "--stack"),
        (["neural-trader/production/auth/jwt-secret", "--now", "--stack", "dev"], "neither"),
        (["JWT_SECRET", "--now", "--stack", "staging"], "no stack file"),
        (["JWT_SECRET", "--now", "--stack", "dev", "--timeout", "0"], "--timeout"),
        (
            [
                "arn:aws:secretsmanager:us-east-1:999999999999:secret:x-AbCdEf",
                "--now",
                "--stack",
                "dev",
            ],
            "not in stack dev's account",
        ),
    ],
)
def test_bad_input_exits_2_without_traceback(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert rotate(*args) == 2
    out, err = capsys.readouterr()
    assert message in err and "Traceback" not in err and out == ""
