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
from infra.rotation.strategies import AdminCredentials, NoticeReceipt
from infra.rotation.strategies.postgres import (
    PgUrl,
    PostgresAlternatingUsers,
    PostgresSingleUser,
    scram_verifier,
    ssl_context_for,
)
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


# --- Master credentials are only sent to the server the master secret names ------------------

ELSEWHERE = "db.elsewhere.internal"


@dataclass
class FakeContext:
    """A store-neutral ``RotationContext`` for unit tests (no AWS, no server)."""

    current_value: str
    master: str
    params: dict[str, str]
    secret_id: str = "secret-under-test"
    version_id: str = "v2"
    previous_value: str | None = None

    def current(self) -> str:
        return self.current_value

    def pending(self) -> str | None:
        return None

    def require_pending(self) -> str:
        raise AssertionError("not used by set")

    def previous(self) -> str | None:
        return self.previous_value

    def admin_credentials(self, param: str) -> AdminCredentials:
        assert self.params[param]
        return AdminCredentials.parse(self.master)

    def notify(self, subject: str, message: str) -> NoticeReceipt:
        raise AssertionError("not used by postgres")


class ConnectSpy:
    """Replaces ``postgres.connect``: records (host, port, user); logins fail, except the
    master's, which stops the step with ``MasterConnected`` once the check let it through."""

    class MasterConnected(Exception):
        pass

    def __init__(self, master_user: str) -> None:
        self.master_user = master_user
        self.calls: list[tuple[str, int, str]] = []

    def __call__(self, url: PgUrl, user: str, password: str) -> object:
        self.calls.append((url.host, url.port, user))
        if user == self.master_user:
            raise self.MasterConnected
        raise pg8000.exceptions.DatabaseError({"C": "28P01", "M": "password authentication failed"})


CURRENT_URL = "postgresql://app:fake-current-pw@db.internal:5432/nt?sslmode=require"
MASTER_PW = "fake-master-pw-XYZ"  # pragma: allowlist secret


def _unit_case(master_extra: dict[str, object], strategy: str) -> tuple[FakeContext, str]:
    master = json.dumps({"username": "rds_master", "password": MASTER_PW, **master_extra})
    ctx = FakeContext(CURRENT_URL, master, {TAG_MASTER_SECRET: "arn:master"})
    impl = PostgresAlternatingUsers() if strategy == ALTERNATING else PostgresSingleUser()
    pending = impl.create(ctx)
    return ctx, pending


@pytest.mark.parametrize("strategy", [SINGLE, ALTERNATING])
@pytest.mark.parametrize(
    ("master_extra", "named"),
    [
        ({"host": ELSEWHERE}, f"host '{ELSEWHERE}'"),
        ({"host": ELSEWHERE, "port": 5432}, f"host '{ELSEWHERE}' port 5432"),
        ({"host": "db.internal", "port": 6432}, "host 'db.internal' port 6432"),
        ({"port": "6432"}, "no host port 6432"),
    ],
)
def test_master_for_another_server_is_refused_before_connecting(
    monkeypatch: pytest.MonkeyPatch, strategy: str, master_extra: dict[str, object], named: str
) -> None:
    from infra.rotation.strategies import postgres

    ctx, pending = _unit_case(master_extra, strategy)
    spy = ConnectSpy("rds_master")
    monkeypatch.setattr(postgres, "connect", spy)
    impl = PostgresAlternatingUsers() if strategy == ALTERNATING else PostgresSingleUser()
    with pytest.raises(ContractError, match="refusing to use the master credentials") as info:
        impl.set(ctx, pending)
    message = str(info.value)
    assert f"master secret arn:master is for {named} but" in message
    assert "host 'db.internal' port 5432" in message  # the current secret's endpoint
    for password in (MASTER_PW, "fake-current-pw", PgUrl.parse(pending).password):
        assert password not in message
    assert "rds_master" not in [user for _, _, user in spy.calls]


@pytest.mark.parametrize("strategy", [SINGLE, ALTERNATING])
@pytest.mark.parametrize(
    "master_extra",
    [
        {"host": "db.internal", "port": 5432},
        {"host": "DB.Internal.", "port": "5432", "dbname": "postgres", "engine": "postgres"},
        {"host": "db.internal"},
        {},  # no host: accepted (RDS-managed master secrets), with a warning
    ],
)
def test_master_for_the_same_server_is_used(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    strategy: str,
    master_extra: dict[str, object],
) -> None:
    from infra.rotation.strategies import postgres

    caplog.set_level(logging.DEBUG, logger="infra.rotation")
    ctx, pending = _unit_case(master_extra, strategy)
    spy = ConnectSpy("rds_master")
    monkeypatch.setattr(postgres, "connect", spy)
    impl = PostgresAlternatingUsers() if strategy == ALTERNATING else PostgresSingleUser()
    with pytest.raises(ConnectSpy.MasterConnected):
        impl.set(ctx, pending)
    assert spy.calls[-1] == ("db.internal", 5432, "rds_master")
    assert ("names no host" in caplog.text) is ("host" not in master_extra)
    assert MASTER_PW not in caplog.text


def test_single_user_without_master_never_reads_one(monkeypatch: pytest.MonkeyPatch) -> None:
    from infra.rotation.strategies import postgres

    ctx, pending = _unit_case({"host": ELSEWHERE}, SINGLE)
    ctx.params.clear()  # no rotation-master-secret parameter
    spy = ConnectSpy("rds_master")
    monkeypatch.setattr(postgres, "connect", spy)
    with pytest.raises(RotationError, match="no stored credentials can log in"):
        PostgresSingleUser().set(ctx, pending)
    assert [user for _, _, user in spy.calls] == ["app", "app"]  # pending, then AWSCURRENT


def _set_master(aws: Aws, secret_arn: str, value: dict[str, object]) -> None:
    tags = {t["Key"]: t["Value"] for t in aws.sm.describe_secret(SecretId=secret_arn)["Tags"]}
    aws.sm.put_secret_value(SecretId=tags[TAG_MASTER_SECRET], SecretString=json.dumps(value))


def test_real_server_master_naming_another_host_is_refused_then_fixed(
    aws: Aws, pg: PostgresServer, db_secret: DbSecret, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Alternating users against PostgreSQL: a master secret for another host never logs in
    here (no clone role appears, AWSCURRENT untouched); corrected, the retry completes."""
    from infra.rotation.strategies import postgres

    master = {"username": pg.superuser, "password": pg.superuser_password}
    _set_master(aws, db_secret.arn, {**master, "host": ELSEWHERE, "port": pg.port})
    calls: list[str] = []
    real_connect = postgres.connect

    def spy(url: PgUrl, user: str, password: str) -> object:
        calls.append(user)
        return real_connect(url, user, password)

    monkeypatch.setattr(postgres, "connect", spy)
    original = aws.value(db_secret.arn)
    token = aws.begin_rotation(db_secret.arn)
    aws.step(db_secret.arn, token, "createSecret")
    pending = PgUrl.parse(aws.value(db_secret.arn, AWSPENDING))
    with pytest.raises(ContractError) as info:
        aws.step(db_secret.arn, token, "setSecret")
    message = str(info.value)
    assert f"host '{ELSEWHERE}' port {pg.port}" in message
    assert f"host '{pg.host}' port {pg.port}" in message
    for password in (pg.superuser_password, db_secret.password, pending.password):
        assert password not in message
    assert pg.superuser not in calls
    conn = pg.connect()
    try:
        assert conn.run("SELECT 1 FROM pg_roles WHERE rolname = :n", n=pending.user) == []
    finally:
        conn.close()
    assert aws.value(db_secret.arn) == original
    assert login(pg, original)

    _set_master(aws, db_secret.arn, {**master, "host": pg.host, "port": pg.port})
    aws.run_steps(db_secret.arn, token)  # Secrets Manager retries the rotation
    assert aws.version_with(db_secret.arn, AWSCURRENT) == token
    assert login(pg, aws.value(db_secret.arn))
    assert pg.superuser in calls


@pytest.mark.parametrize("attribute", ["SUPERUSER", "CREATEROLE", "BYPASSRLS"])
def test_a_privileged_role_named_in_the_secret_is_never_alternated(
    aws: Aws, pg: PostgresServer, attribute: str
) -> None:
    """Whoever may write the application secret names a privileged role there: setSecret refuses
    before creating a twin (which could SET ROLE to it) or re-keying the role, on a real server."""
    user, password = unique("priv"), "fake-priv-pw-1"
    conn = pg.connect()
    try:
        conn.run(f"CREATE ROLE \"{user}\" WITH LOGIN {attribute} PASSWORD '{password}'")
    finally:
        conn.close()
    master = aws.create_secret(
        unique("master"),
        json.dumps({"username": pg.superuser, "password": pg.superuser_password}),
        {},
    )
    tags = {TAG_ROTATION_STRATEGY: ALTERNATING, TAG_MASTER_SECRET: master}
    arn = aws.create_secret(
        unique("DATABASE_URL"), pg.url(user, password, query="sslmode=disable"), tags
    )
    original = aws.value(arn)
    token = aws.begin_rotation(arn)
    aws.step(arn, token, "createSecret")
    with pytest.raises(ContractError, match="privileged role") as info:
        aws.step(arn, token, "setSecret")
    assert password not in str(info.value)
    conn = pg.connect()
    try:
        assert conn.run("SELECT 1 FROM pg_roles WHERE rolname = :n", n=user + "_clone") == []
    finally:
        conn.close()
    assert aws.value(arn) == original and pg.can_login(user, password)


def test_the_master_user_itself_is_never_alternated(aws: Aws, pg: PostgresServer) -> None:
    master = aws.create_secret(
        unique("master"),
        json.dumps({"username": pg.superuser, "password": pg.superuser_password}),
        {},
    )
    tags = {TAG_ROTATION_STRATEGY: ALTERNATING, TAG_MASTER_SECRET: master}
    url = pg.url(pg.superuser, pg.superuser_password, query="sslmode=disable")
    arn = aws.create_secret(unique("DATABASE_URL"), url, tags)
    token = aws.begin_rotation(arn)
    aws.step(arn, token, "createSecret")
    with pytest.raises(ContractError, match="master user itself"):
        aws.step(arn, token, "setSecret")
    assert pg.can_login(pg.superuser, pg.superuser_password)
