"""Fixtures for the rotation tests: real servers (session) and moto's AWS (per test)."""

from __future__ import annotations

import json
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.rotation import handler
from infra.rotation.contract import (
    AWSCURRENT,
    AWSPENDING,
    AWSPREVIOUS,
    ENV_ROTATION_TOPIC_ARN,
    TAG_ROTATION_STRATEGY,
)
from tests.servers import PostgresServer, RedisServer, start_postgres, start_redis
from tests.vault.server import BaoServer, start_bao

REGION = "us-east-1"
STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs: XDG_RUNTIME_DIR unset in CI
        server = start_postgres()
    yield server
    server.close()


@pytest.fixture
def pg(postgres: PostgresServer) -> PostgresServer:
    """The session server, restarted if an earlier test stopped it (fault injection)."""
    if not postgres.is_running():
        postgres.start()
    return postgres


@pytest.fixture(scope="session")
def bao(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BaoServer]:
    """A dev-mode OpenBao (no audit device) for the Vault rotation tests; mounts per test."""
    server = start_bao([], parent=tmp_path_factory.mktemp("bao-rotation"))
    yield server
    server.close()


@pytest.fixture(scope="session")
def redis_session() -> Iterator[RedisServer]:
    server = start_redis()
    yield server
    server.close()


@pytest.fixture
def redis_server(redis_session: RedisServer) -> RedisServer:
    if redis_session.proc is None or redis_session.proc.poll() is not None:
        redis_session.start()
    return redis_session


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


@dataclass
class Aws:
    """moto's Secrets Manager / SNS plus helpers to drive rotations like AWS does."""

    sm: Any
    sns: Any
    topic_arn: str
    lambda_arn: str
    env: dict[str, str] = field(default_factory=dict)

    def create_secret(self, name: str, value: str, tags: dict[str, str]) -> str:
        resp = self.sm.create_secret(
            Name=name,
            SecretString=value,
            Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
        )
        return str(resp["ARN"])

    def begin_rotation(self, secret_id: str) -> str:
        """Enable rotation and start one; AWS would now invoke createSecret with the token.

        moto's Lambda (use_docker=False) runs no code, so this leaves exactly what AWS leaves
        before the first step: AWSPENDING on a new, value-less version.
        """
        resp = self.sm.rotate_secret(
            SecretId=secret_id,
            RotationLambdaARN=self.lambda_arn,
            RotationRules={"AutomaticallyAfterDays": 30},
        )
        return str(resp["VersionId"])

    def step(self, secret_id: str, token: str, step: str) -> None:
        event = {"SecretId": secret_id, "ClientRequestToken": token, "Step": step}
        handler.rotate(event, client=self.sm, env=self.env, sns_factory=lambda: self.sns)

    def run_steps(self, secret_id: str, token: str, steps: tuple[str, ...] = STEPS) -> None:
        for name in steps:
            self.step(secret_id, token, name)

    def rotate(self, secret_id: str) -> str:
        token = self.begin_rotation(secret_id)
        self.run_steps(secret_id, token)
        return token

    def value(self, secret_id: str, stage: str = AWSCURRENT) -> str:
        return str(self.sm.get_secret_value(SecretId=secret_id, VersionStage=stage)["SecretString"])

    def stages(self, secret_id: str) -> dict[str, list[str]]:
        meta = self.sm.describe_secret(SecretId=secret_id)
        return {k: sorted(v) for k, v in meta["VersionIdsToStages"].items() if v}

    def version_with(self, secret_id: str, stage: str) -> str | None:
        return next((v for v, s in self.stages(secret_id).items() if stage in s), None)

    def notifications(self) -> list[dict[str, Any]]:
        from moto.sns.models import sns_backends

        topic = sns_backends["123456789012"][REGION].topics[self.topic_arn]
        return [json.loads(n[1]) for n in topic.sent_notifications]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    for key, val in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",  # pragma: allowlist secret
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(key, val)
    with mock_aws(config={"lambda": {"use_docker": False}}):
        iam = boto3.client("iam", region_name=REGION)
        role = iam.create_role(
            RoleName="nt-rotation-lambda",
            AssumeRolePolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
        )["Role"]["Arn"]
        fn = boto3.client("lambda", region_name=REGION).create_function(
            FunctionName="nt-secrets-rotation",
            Runtime="python3.11",
            Role=role,
            Handler="infra.rotation.handler.lambda_handler",
            Code={"ZipFile": b"not used: moto runs no code without docker"},
        )["FunctionArn"]
        sns = boto3.client("sns", region_name=REGION)
        topic = sns.create_topic(Name="nt-rotation-due")["TopicArn"]
        yield Aws(
            sm=boto3.client("secretsmanager", region_name=REGION),
            sns=sns,
            topic_arn=topic,
            lambda_arn=fn,
            env={ENV_ROTATION_TOPIC_ARN: topic},
        )


__all__ = [
    "AWSCURRENT",
    "AWSPENDING",
    "AWSPREVIOUS",
    "STEPS",
    "TAG_ROTATION_STRATEGY",
    "Aws",
    "unique",
]


@pytest.fixture
def lambda_runs_handler(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> list[BaseException]:
    """Narrow test hook: make moto's Lambda run *our* handler in-process.

    moto's RotateSecret invokes the rotation Lambda for all four steps, but without Docker
    (``use_docker: False``) its LambdaSimpleBackend runs no code and returns a canned
    payload, after which moto would leave a value-less AWSPENDING version. We replace only
    ``LambdaSimpleBackend.invoke`` with a call to ``infra.rotation.handler.rotate``.
    Exceptions are recorded, not raised: a real asynchronous rotation failure never makes
    RotateSecret itself fail, it just never moves AWSCURRENT.

    Second, equally narrow patch: moto 5.2 forgets the configured rotation Lambda when
    RotateSecret omits RotationLambdaARN (and then promotes the empty pending version without
    invoking anything); AWS keeps the configured function. We pass the configured ARN on.
    """
    from moto.awslambda_simple.models import LambdaSimpleBackend
    from moto.secretsmanager.models import SecretsManagerBackend

    original_rotate = SecretsManagerBackend.rotate_secret

    def rotate_secret(
        self: SecretsManagerBackend, secret_id: str, *args: Any, **kwargs: Any
    ) -> str:
        if not kwargs.get("rotation_lambda_arn") and secret_id in self.secrets:
            kwargs["rotation_lambda_arn"] = self.secrets[secret_id].rotation_lambda_arn
        return original_rotate(self, secret_id, *args, **kwargs)

    monkeypatch.setattr(SecretsManagerBackend, "rotate_secret", rotate_secret)

    errors: list[BaseException] = []
    failed_tokens: set[str] = set()

    def invoke(
        self: LambdaSimpleBackend,
        function_name: str,
        qualifier: str | None,
        body: Any,
        headers: Any,
        response_headers: Any,
    ) -> bytes:
        assert function_name == aws.lambda_arn
        event = json.loads(body)
        # AWS skips the remaining steps once one fails.
        if event["ClientRequestToken"] in failed_tokens:
            return b"skipped"
        try:
            handler.rotate(event, client=aws.sm, env=aws.env, sns_factory=lambda: aws.sns)
        except Exception as exc:
            failed_tokens.add(event["ClientRequestToken"])
            errors.append(exc)
            response_headers["x-amz-function-error"] = "Unhandled"
            return b'{"errorType": "RotationFailed"}'
        return b"null"

    monkeypatch.setattr(LambdaSimpleBackend, "invoke", invoke)
    return errors
