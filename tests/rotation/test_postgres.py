"""PostgreSQL strategies against a real server: logins, zero downtime, faults, retries."""

from __future__ import annotations

import json
import logging
import ssl
from dataclasses import dataclass

import pg8000.exceptions
import pytest

from infra.rotation.contract import (
    AWSCURRENT,
    AWSPENDING,
    AWSPREVIOUS,
    TAG_MASTER_SECRET,
    TAG_ROTATION_STRATEGY,
    RotationStrategy,
)
from infra.rotation.errors import ContractError, RotationError
from infra.rotation.strategies.postgres import PgUrl, scram_verifier, ssl_context_for
from tests.servers import PostgresServer

from .conftest import Aws, unique

pytestmark = pytest.mark.servers

SINGLE = RotationStrategy.POSTGRES_SINGLE_USER.value
ALTERNATING = RotationStrategy.POSTGRES_ALTERNATING_USERS.value


@dataclass
class DbSecret:
    arn: str
    user: str
    password: str


def _make_role(pg: PostgresServer, user: str, password: str) -> None:
    conn = pg.connect()
    try:
        conn.run(f"CREATE ROLE \"{user}\" WITH LOGIN PASSWORD '{password}'")
    finally:
        conn.close()


@pytest.fixture
def db_secret(aws: Aws, pg: PostgresServer, request: pytest.FixtureRequest) -> DbSecret:
    """An app role plus its DATABASE_URL secret; param = strategy (default alternating)."""
    strategy = getattr(request, "param", ALTERNATING)
    user, password = unique("app"), "fake-initial-pw-1"
    _make_role(pg, user, password)
    master = aws.create_secret(
        unique("master"),
        json.dumps({"username": pg.superuser, "password": pg.superuser_password}),
        {},
    )
    tags = {TAG_ROTATION_STRATEGY: strategy, TAG_MASTER_SECRET: master}
    if strategy == SINGLE:
        del tags[TAG_MASTER_SECRET]
    url = pg.url(user, password, query="sslmode=disable&application_name=trader")
    return DbSecret(aws.create_secret(unique("DATABASE_URL"), url, tags), user, password)


def login(pg: PostgresServer, url: str) -> bool:
    parsed = PgUrl.parse(url)
    return pg.can_login(parsed.user, parsed.password)


@pytest.mark.parametrize("db_secret", [SINGLE], indirect=True)
def test_single_user_rotation(aws: Aws, pg: PostgresServer, db_secret: DbSecret) -> None:
    old_url = aws.value(db_secret.arn)
    aws.rotate(db_secret.arn)
    new_url = aws.value(db_secret.arn)
    new, old = PgUrl.parse(new_url), PgUrl.parse(old_url)
    assert new.user == old.user == db_secret.user
    assert new.password != old.password
    assert new.endpoint() == old.endpoint()
    assert new.query == "sslmode=disable&application_name=trader"
    assert login(pg, new_url)
    assert not login(pg, old_url)  # single user: the old password is gone
    assert aws.value(db_secret.arn, AWSPREVIOUS) == old_url


def test_alternating_users_keep_previous_credentials_until_next_rotation(
    aws: Aws, pg: PostgresServer, db_secret: DbSecret
) -> None:
    original = aws.value(db_secret.arn)
    aws.rotate(db_secret.arn)
    first = aws.value(db_secret.arn)
    assert PgUrl.parse(first).user == f"{db_secret.user}_clone"
    assert login(pg, first)
    assert login(pg, original)  # handed out before: still works

    aws.rotate(db_secret.arn)
    second = aws.value(db_secret.arn)
    assert PgUrl.parse(second).user == db_secret.user
    assert login(pg, second)
    assert login(pg, first)  # now AWSPREVIOUS: still works
    assert aws.value(db_secret.arn, AWSPREVIOUS) == first
    assert not login(pg, original)  # two rotations ago: re-keyed


def test_clone_inherits_the_base_users_privileges(
    aws: Aws, pg: PostgresServer, db_secret: DbSecret
) -> None:
    table = unique("positions")
    conn = pg.connect()
    try:
        conn.run(f'CREATE TABLE "{table}" (id int)')
        conn.run(f'INSERT INTO "{table}" VALUES (7)')  # noqa: S608 (generated name)
        conn.run(f'GRANT SELECT ON "{table}" TO "{db_secret.user}"')
    finally:
        conn.close()
    aws.rotate(db_secret.arn)
    clone = PgUrl.parse(aws.value(db_secret.arn))
    conn = pg.connect(clone.user, clone.password)
    try:
        assert conn.run(f'SELECT id FROM "{table}"') == [[7]]  # noqa: S608
    finally:
        conn.close()


@pytest.mark.parametrize("db_secret", [SINGLE, ALTERNATING], indirect=True)
def test_database_down_during_set_then_retry(
    aws: Aws, pg: PostgresServer, db_secret: DbSecret
) -> None:
    original = aws.value(db_secret.arn)
    token = aws.begin_rotation(db_secret.arn)
    aws.step(db_secret.arn, token, "createSecret")
    pg.stop()
    try:
        with pytest.raises(pg8000.exceptions.InterfaceError):
            aws.step(db_secret.arn, token, "setSecret")
    finally:
        pg.start()
    assert aws.value(db_secret.arn) == original
    assert login(pg, original)  # nothing changed in the database
    aws.run_steps(db_secret.arn, token)  # AWS retries the whole rotation
    assert aws.version_with(db_secret.arn, AWSCURRENT) == token
    assert login(pg, aws.value(db_secret.arn))


def test_login_failing_in_test_step_keeps_current_then_retry(
    aws: Aws, pg: PostgresServer, db_secret: DbSecret
) -> None:
    original = aws.value(db_secret.arn)
    token = aws.begin_rotation(db_secret.arn)
    aws.run_steps(db_secret.arn, token, ("createSecret", "setSecret"))
    pending = PgUrl.parse(aws.value(db_secret.arn, AWSPENDING))
    conn = pg.connect()  # someone re-keys the pending role behind our back
    try:
        conn.run(f"ALTER ROLE \"{pending.user}\" PASSWORD '{scram_verifier('drifted-fake')}'")
    finally:
        conn.close()
    with pytest.raises(RotationError, match="login as"):
        aws.step(db_secret.arn, token, "testSecret")
    assert aws.value(db_secret.arn) == original
    assert login(pg, original)
    aws.run_steps(db_secret.arn, token)
    assert aws.value(db_secret.arn) == pending.unparse()
    assert login(pg, pending.unparse())


@pytest.mark.parametrize("db_secret", [SINGLE, ALTERNATING], indirect=True)
def test_crash_after_set_then_retry_completes(
    aws: Aws, pg: PostgresServer, db_secret: DbSecret
) -> None:
    original = aws.value(db_secret.arn)
    token = aws.begin_rotation(db_secret.arn)
    aws.run_steps(db_secret.arn, token, ("createSecret", "setSecret"))  # Lambda dies here
    single = TAG_MASTER_SECRET not in {
        t["Key"] for t in aws.sm.describe_secret(SecretId=db_secret.arn)["Tags"]
    }
    # Alternating: AWSCURRENT keeps working. Single user: the documented window where only
    # AWSPENDING logs in, until the retry promotes it.
    assert login(pg, original) is not single
    aws.run_steps(db_secret.arn, token)
    assert aws.version_with(db_secret.arn, AWSCURRENT) == token
    assert login(pg, aws.value(db_secret.arn))


def test_each_step_delivered_twice(aws: Aws, pg: PostgresServer, db_secret: DbSecret) -> None:
    original = aws.value(db_secret.arn)
    token = aws.begin_rotation(db_secret.arn)
    for step in ("createSecret", "setSecret", "testSecret"):
        aws.step(db_secret.arn, token, step)
        aws.step(db_secret.arn, token, step)
        assert login(pg, original)
    aws.step(db_secret.arn, token, "finishSecret")
    aws.step(db_secret.arn, token, "finishSecret")
    assert login(pg, aws.value(db_secret.arn))
    assert aws.value(db_secret.arn, AWSPREVIOUS) == original


def test_stale_token_leaves_current_valid(
    aws: Aws, pg: PostgresServer, db_secret: DbSecret
) -> None:
    first = aws.rotate(db_secret.arn)
    aws.rotate(db_secret.arn)
    current = aws.value(db_secret.arn)
    with pytest.raises(ContractError, match="not set as AWSPENDING"):
        aws.step(db_secret.arn, first, "setSecret")
    assert aws.value(db_secret.arn) == current
    assert login(pg, current)


def test_sslmode_require_is_honoured(aws: Aws, pg: PostgresServer, db_secret: DbSecret) -> None:
    """The local server has no TLS: a URL asking for TLS must fail closed, not downgrade."""
    url = PgUrl.parse(aws.value(db_secret.arn))
    tls_url = PgUrl(**{**url.__dict__, "query": "sslmode=require"}).unparse()
    aws.sm.put_secret_value(SecretId=db_secret.arn, SecretString=tls_url)
    token = aws.begin_rotation(db_secret.arn)
    aws.step(db_secret.arn, token, "createSecret")
    with pytest.raises(pg8000.exceptions.InterfaceError, match="SSL"):
        aws.step(db_secret.arn, token, "setSecret")
    assert aws.value(db_secret.arn) == tls_url


@pytest.mark.parametrize(
    ("sslmode", "tls", "check_hostname", "verify"),
    [
        ("disable", False, None, None),
        ("prefer", False, None, None),
        ("require", True, False, ssl.CERT_NONE),
        ("verify-ca", True, False, ssl.CERT_REQUIRED),
        ("verify-full", True, True, ssl.CERT_REQUIRED),
    ],
)
def test_ssl_context_per_sslmode(
    sslmode: str, tls: bool, check_hostname: bool | None, verify: ssl.VerifyMode | None
) -> None:
    ctx = ssl_context_for(PgUrl.parse(f"postgresql://u:p@db.internal:5432/nt?sslmode={sslmode}"))
    assert (ctx is not None) is tls
    if ctx is not None:
        assert ctx.check_hostname is check_hostname
        assert ctx.verify_mode == verify


def test_unknown_sslmode_is_refused() -> None:
    with pytest.raises(ContractError, match="sslmode"):
        ssl_context_for(PgUrl.parse("postgresql://u:p@h/db?sslmode=maybe"))


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://trader:p%40ss%3Aw%2Fd@db.internal:6432/neural_trader?sslmode=require",  # pragma: allowlist secret
        "postgresql://trader:x@[::1]:5432/nt",
        "postgres://a%20b:c@h:5432/d%20e",
    ],
)
def test_url_round_trip(url: str) -> None:
    parsed = PgUrl.parse(url)
    assert PgUrl.parse(parsed.unparse()) == parsed
    assert "p@ss" not in repr(PgUrl.parse(url))  # repr hides the password


@pytest.mark.parametrize(
    "url", ["mysql://u:p@h/db", "postgresql://h/db", "postgresql://u:p@h:99999/db", "not a url"]
)
def test_bad_urls_are_contract_errors(url: str) -> None:
    with pytest.raises(ContractError):
        PgUrl.parse(url)


@pytest.mark.parametrize("db_secret", [SINGLE, ALTERNATING], indirect=True)
def test_logs_never_contain_passwords(
    aws: Aws, pg: PostgresServer, db_secret: DbSecret, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="infra.rotation")
    aws.rotate(db_secret.arn)
    new = PgUrl.parse(aws.value(db_secret.arn))
    assert caplog.records
    for secret_text in (db_secret.password, new.password, pg.superuser_password):
        assert secret_text not in caplog.text
