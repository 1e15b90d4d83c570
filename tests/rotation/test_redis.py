"""redis-acl against a real redis-server 6.2: dual passwords, faults, retries."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
import redis

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
)
from infra.rotation.errors import RotationError
from tests.servers import RedisServer

from .conftest import Aws, unique

pytestmark = pytest.mark.servers

INITIAL = "fake-initial-redis-pw"


@dataclass
class RedisSecret:
    arn: str
    user: str


@pytest.fixture
def redis_secret(aws: Aws, redis_server: RedisServer) -> RedisSecret:
    user = unique("trader")
    admin = redis_server.admin()
    admin.execute_command("ACL", "SETUSER", user, "on", ">" + INITIAL, "~*", "+@all")
    admin.execute_command("ACL", "SAVE")
    admin.close()
    master = aws.create_secret(
        unique("redis-admin"),
        json.dumps({"username": redis_server.admin_user, "password": redis_server.admin_password}),
        {},
    )
    tags = {
        TAG_ROTATION_STRATEGY: RotationStrategy.REDIS_ACL.value,
        TAG_MASTER_SECRET: master,
        TAG_REDIS_ENDPOINT: redis_server.endpoint,
        TAG_REDIS_USER: user,
        TAG_REDIS_TLS: "false",  # the wheel's redis-server has no TLS
    }
    return RedisSecret(aws.create_secret(unique("REDIS_PASSWORD"), INITIAL, tags), user)


def test_zero_downtime_rotation(
    aws: Aws, redis_server: RedisServer, redis_secret: RedisSecret
) -> None:
    token = aws.begin_rotation(redis_secret.arn)
    aws.run_steps(redis_secret.arn, token, ("createSecret", "setSecret", "testSecret"))
    pending = aws.value(redis_secret.arn, AWSPENDING)
    assert len(pending) == 64
    # Between setSecret and finishSecret both passwords work.
    assert redis_server.can_auth(redis_secret.user, INITIAL)
    assert redis_server.can_auth(redis_secret.user, pending)
    aws.step(redis_secret.arn, token, "finishSecret")
    assert aws.value(redis_secret.arn) == pending
    assert aws.value(redis_secret.arn, AWSPREVIOUS) == INITIAL
    assert redis_server.can_auth(redis_secret.user, pending)
    assert not redis_server.can_auth(redis_secret.user, INITIAL)  # removed only now


def test_redis_down_during_set_then_retry(
    aws: Aws, redis_server: RedisServer, redis_secret: RedisSecret
) -> None:
    token = aws.begin_rotation(redis_secret.arn)
    aws.step(redis_secret.arn, token, "createSecret")
    redis_server.stop()
    try:
        with pytest.raises(redis.ConnectionError):
            aws.step(redis_secret.arn, token, "setSecret")
    finally:
        redis_server.start()
    assert aws.value(redis_secret.arn) == INITIAL
    assert redis_server.can_auth(redis_secret.user, INITIAL)
    aws.run_steps(redis_secret.arn, token)
    assert redis_server.can_auth(redis_secret.user, aws.value(redis_secret.arn))
    assert not redis_server.can_auth(redis_secret.user, INITIAL)


def test_auth_failing_in_test_step_keeps_current(
    aws: Aws, redis_server: RedisServer, redis_secret: RedisSecret
) -> None:
    token = aws.begin_rotation(redis_secret.arn)
    aws.run_steps(redis_secret.arn, token, ("createSecret", "setSecret"))
    pending = aws.value(redis_secret.arn, AWSPENDING)
    admin = redis_server.admin()
    admin.execute_command(
        "ACL", "SETUSER", redis_secret.user, "<" + pending
    )  # drift behind our back
    admin.close()
    with pytest.raises(RotationError, match="AUTH"):
        aws.step(redis_secret.arn, token, "testSecret")
    assert aws.value(redis_secret.arn) == INITIAL
    assert redis_server.can_auth(redis_secret.user, INITIAL)
    aws.run_steps(redis_secret.arn, token)  # retry re-adds the password
    assert aws.value(redis_secret.arn) == pending
    assert redis_server.can_auth(redis_secret.user, pending)


def test_crash_inside_finish_is_cleaned_up_by_the_retry(
    aws: Aws, redis_server: RedisServer, redis_secret: RedisSecret
) -> None:
    token = aws.begin_rotation(redis_secret.arn)
    aws.run_steps(redis_secret.arn, token, ("createSecret", "setSecret", "testSecret"))
    # The Lambda dies right after moving AWSCURRENT, before removing the old password.
    aws.sm.update_secret_version_stage(
        SecretId=redis_secret.arn,
        VersionStage=AWSCURRENT,
        MoveToVersionId=token,
        RemoveFromVersionId=aws.version_with(redis_secret.arn, AWSCURRENT),
    )
    assert redis_server.can_auth(redis_secret.user, INITIAL)
    aws.step(redis_secret.arn, token, "finishSecret")  # redelivered
    aws.step(redis_secret.arn, token, "finishSecret")  # and again
    assert not redis_server.can_auth(redis_secret.user, INITIAL)
    assert redis_server.can_auth(redis_secret.user, aws.value(redis_secret.arn))
    assert aws.stages(redis_secret.arn)[token] == [AWSCURRENT]


def test_missing_acl_user_fails_before_any_change(
    aws: Aws, redis_server: RedisServer, redis_secret: RedisSecret
) -> None:
    admin = redis_server.admin()
    admin.execute_command("ACL", "DELUSER", redis_secret.user)
    admin.close()
    token = aws.begin_rotation(redis_secret.arn)
    aws.step(redis_secret.arn, token, "createSecret")
    with pytest.raises(RotationError, match="does not exist"):
        aws.step(redis_secret.arn, token, "setSecret")
    admin = redis_server.admin()
    assert admin.acl_getuser(redis_secret.user) is None  # not silently created
    admin.close()
    assert aws.value(redis_secret.arn) == INITIAL
