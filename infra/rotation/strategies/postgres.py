"""postgres-single-user and postgres-alternating-users for ``postgresql://`` URL secrets.

The secret string is a ``postgresql://`` URL carrying user, password, host, port, database and
sslmode; rotation only replaces the user name / password and keeps the rest untouched.

Passwords are sent to PostgreSQL as pre-computed SCRAM-SHA-256 verifiers, so the plaintext
never reaches the server (nor its statement log). They are alphanumeric (32 chars, ~190 bits),
so they need no escaping in URLs, SQL or shells.

Master credentials and the server they are sent to: the host, port and database come from the
*current* secret value, which is data, while the master (admin) secret is named by a parameter
the deployment sets. Before any connection with the master credentials (alternating users
always; single user when it has a master secret), ``master_credentials`` compares the master
secret's optional ``"host"`` / ``"port"`` (AWS's RDS secret keys) with the current URL's and
refuses (``ContractError`` naming both endpoints, never a password) on a mismatch, so a
tampered or mistaken URL cannot make the rotation log in as the master elsewhere. Hosts are
compared as names (case-insensitive, no DNS lookup): a master secret naming the cluster
writer endpoint does not match a URL using an instance or reader endpoint, so use the same
name in both. The database is not compared: PostgreSQL roles are server-wide and the master
logs in to the URL's database, as AWS's own multi-user rotation does.

A master secret *without* ``"host"`` is still accepted, with a warning in the log on every
use: RDS-managed master secrets (``ManageMasterUserPassword``) hold only username and password
and cannot be extended, and the Redis admin secret shares the format. Add ``"host"`` (and
``"port"``) to every self-managed master secret to get the check.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import ssl
import string
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit, urlunsplit

from ..contract import PARAM_MASTER_SECRET
from ..errors import ContractError, RotationError
from . import AdminCredentials, RotationContext

logger = logging.getLogger(__name__)

CLONE_SUFFIX = "_clone"
PASSWORD_LENGTH = 32
CONNECT_TIMEOUT_S = 5.0
_ALPHABET = string.ascii_letters + string.digits
_MAX_IDENTIFIER = 63
_AUTH_FAILED = {"28P01", "28000"}  # invalid_password, invalid_authorization_specification
_SSLMODES_PLAIN = {"disable", "allow", "prefer"}


def new_password() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(PASSWORD_LENGTH))


def scram_verifier(password: str, *, iterations: int = 4096, salt: bytes | None = None) -> str:
    """PostgreSQL's stored form of a SCRAM-SHA-256 password (RFC 5802 / 7677)."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.digest(salted, b"Server Key", "sha256")

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode()

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    if "\\" in value or "\x00" in value:
        raise ContractError("refusing a SQL literal with a backslash or NUL")
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True)
class PgUrl:
    """A parsed ``postgresql://`` URL; ``repr`` hides the password."""

    scheme: str
    user: str
    password: str = field(repr=False)
    host: str
    port: int
    database: str
    query: str

    @classmethod
    def parse(cls, url: str, *, what: str = "secret") -> PgUrl:
        try:
            parts = urlsplit(url)
            port = parts.port or 5432
        except ValueError:
            raise ContractError(f"{what} is not a valid postgresql:// URL") from None
        if parts.scheme not in ("postgresql", "postgres") or not parts.hostname:
            raise ContractError(f"{what} is not a postgresql:// URL with a host")
        if not parts.username:
            raise ContractError(f"{what} URL has no user name")
        return cls(
            scheme=parts.scheme,
            user=unquote(parts.username),
            password=unquote(parts.password or ""),
            host=parts.hostname,
            port=port,
            database=unquote(parts.path.lstrip("/")) or "postgres",
            query=parts.query,
        )

    @property
    def params(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(self.query).items()}

    @property
    def sslmode(self) -> str:
        return self.params.get("sslmode", "prefer")

    def endpoint(self) -> tuple[str, int, str]:
        return (self.host, self.port, self.database)

    def with_credentials(self, user: str, password: str) -> PgUrl:
        return replace(self, user=user, password=password)

    def unparse(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        netloc = f"{quote(self.user, safe='')}:{quote(self.password, safe='')}@{host}:{self.port}"
        return urlunsplit((self.scheme, netloc, "/" + quote(self.database), self.query, ""))


def ssl_context_for(url: PgUrl) -> ssl.SSLContext | None:
    """TLS as libpq's sslmode asks: require encrypts, verify-ca/verify-full also verify.

    ``prefer``/``allow`` fall back to plaintext here (pg8000 cannot retry without TLS), so
    production URLs should say ``sslmode=require`` or stronger.
    """
    mode = url.sslmode
    if mode in _SSLMODES_PLAIN:
        return None
    if mode not in ("require", "verify-ca", "verify-full"):
        raise ContractError(f"unsupported sslmode {mode!r}")
    ctx = ssl.create_default_context(cafile=url.params.get("sslrootcert"))
    if mode == "require":
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    elif mode == "verify-ca":
        ctx.check_hostname = False
    return ctx


def connect(url: PgUrl, user: str, password: str) -> Any:
    """A pg8000 native connection to ``url``'s endpoint as ``user`` (TLS per sslmode)."""
    import pg8000.native

    return pg8000.native.Connection(
        user=user,
        password=password,
        host=url.host,
        port=url.port,
        database=url.database,
        ssl_context=ssl_context_for(url),
        timeout=CONNECT_TIMEOUT_S,
        application_name="nt-secrets-rotation",
    )


def _sqlstate(exc: BaseException) -> str | None:
    arg = exc.args[0] if exc.args else None
    return arg.get("C") if isinstance(arg, dict) else None


def login_works(url: PgUrl) -> bool:
    """True if ``url``'s own credentials log in; False on an authentication failure.

    Anything else (server down, TLS failure) propagates: it says nothing about the password.
    """
    import pg8000.exceptions

    try:
        conn = connect(url, url.user, url.password)
    except pg8000.exceptions.DatabaseError as exc:
        if _sqlstate(exc) in _AUTH_FAILED:
            return False
        raise
    try:
        conn.run("SELECT 1")
    finally:
        conn.close()
    return True


def check_login(url: PgUrl, ctx: RotationContext) -> None:
    """testSecret: the pending credentials log in and are who they claim to be."""
    import pg8000.exceptions

    try:
        conn = connect(url, url.user, url.password)
    except pg8000.exceptions.DatabaseError as exc:
        raise RotationError(
            f"{ctx.secret_id} version {ctx.version_id}: "
            f"login as {url.user!r} failed ({_sqlstate(exc)})"
        ) from None
    try:
        rows = conn.run("SELECT current_user")
    finally:
        conn.close()
    if not rows or rows[0][0] != url.user:
        raise RotationError(
            f"{ctx.secret_id} version {ctx.version_id}: logged in as the wrong role"
        )


def set_password(conn: Any, user: str, password: str, *, ensure_login: bool) -> None:
    """Store ``password`` (as a SCRAM verifier). A role may change its own password, but only
    an admin may also (re-)grant LOGIN, hence ``ensure_login`` for the alternating strategy."""
    verifier = quote_literal(scram_verifier(password))
    login = " LOGIN" if ensure_login else ""
    conn.run(f"ALTER ROLE {quote_ident(user)} WITH{login} PASSWORD {verifier}")


def _host_key(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


def _describe(host: str | None, port: int | None) -> str:
    where = f"host {host!r}" if host is not None else "no host"
    return f"{where} port {port}" if port is not None else where


def master_credentials(ctx: RotationContext, target: PgUrl) -> AdminCredentials:
    """The master secret's credentials, refused unless they may be sent to ``target``.

    A ``host`` / ``port`` in the master secret must equal ``target``'s; one without a host is
    accepted with a warning (module docstring). Messages name endpoints, never passwords.
    """
    admin = ctx.admin_credentials(PARAM_MASTER_SECRET)
    master = ctx.params.get(PARAM_MASTER_SECRET, "")
    host_differs = admin.host is not None and _host_key(admin.host) != _host_key(target.host)
    port_differs = admin.port is not None and admin.port != target.port
    if host_differs or port_differs:
        raise ContractError(
            f"{ctx.secret_id} version {ctx.version_id}: master secret {master} is for "
            f"{_describe(admin.host, admin.port)} but AWSCURRENT names "
            f"{_describe(target.host, target.port)}; refusing to use the master credentials there"
        )
    if admin.host is None:
        logger.warning(
            "%s: master secret %s names no host; cannot check that it belongs to %s",
            ctx.secret_id,
            master,
            _describe(target.host, target.port),
        )
    return admin


def _same_endpoint(a: PgUrl, b: PgUrl, ctx: RotationContext) -> None:
    if a.endpoint() != b.endpoint():
        raise ContractError(
            f"{ctx.secret_id} version {ctx.version_id}: pending URL changes host/port/database"
        )


class PostgresSingleUser:
    """Change the user's own password: the old password stops working at setSecret."""

    def create(self, ctx: RotationContext) -> str:
        current = PgUrl.parse(ctx.current(), what="AWSCURRENT")
        return current.with_credentials(current.user, new_password()).unparse()

    def set(self, ctx: RotationContext, pending: str) -> None:
        current = PgUrl.parse(ctx.current(), what="AWSCURRENT")
        new = PgUrl.parse(pending, what="AWSPENDING")
        _same_endpoint(current, new, ctx)
        if new.user != current.user:
            raise ContractError(
                f"{ctx.secret_id}: single-user rotation cannot change the user name"
            )
        if login_works(new):
            logger.info("setSecret: %s version %s already set", ctx.secret_id, ctx.version_id)
            return
        candidates: list[tuple[str, str, str]] = []
        if ctx.params.get(PARAM_MASTER_SECRET):
            admin = master_credentials(ctx, current)
            candidates.append(("master", admin.username, admin.password))
        candidates.append(("AWSCURRENT", current.user, current.password))
        previous = ctx.previous()
        if previous:
            prev = PgUrl.parse(previous, what="AWSPREVIOUS")
            if prev.endpoint() == current.endpoint():
                candidates.append(("AWSPREVIOUS", prev.user, prev.password))
        conn = self._first_login(current, candidates, ctx)
        try:
            set_password(conn, new.user, new.password, ensure_login=False)
        finally:
            conn.close()
        logger.info("setSecret: %s password of role %s changed", ctx.secret_id, new.user)

    @staticmethod
    def _first_login(
        url: PgUrl, candidates: list[tuple[str, str, str]], ctx: RotationContext
    ) -> Any:
        import pg8000.exceptions

        for label, user, password in candidates:
            try:
                return connect(url, user, password)
            except pg8000.exceptions.DatabaseError as exc:
                if _sqlstate(exc) not in _AUTH_FAILED:
                    raise
                logger.info("setSecret: %s cannot log in with %s credentials", ctx.secret_id, label)
        raise RotationError(
            f"{ctx.secret_id}: no stored credentials can log in to change the password"
        )

    def test(self, ctx: RotationContext, pending: str) -> None:
        check_login(PgUrl.parse(pending, what="AWSPENDING"), ctx)

    def finish(self, ctx: RotationContext) -> None:
        return None


def base_user(user: str) -> str:
    return user[: -len(CLONE_SUFFIX)] if user.endswith(CLONE_SUFFIX) else user


class PostgresAlternatingUsers:
    """Alternate between ``<user>`` and ``<user>_clone``, changed by the master user.

    The credentials handed out before (now AWSPREVIOUS) keep working until the next
    rotation, which re-keys that user.
    """

    def create(self, ctx: RotationContext) -> str:
        current = PgUrl.parse(ctx.current(), what="AWSCURRENT")
        base = base_user(current.user)
        if len(base + CLONE_SUFFIX) > _MAX_IDENTIFIER:
            raise ContractError(f"{ctx.secret_id}: user name too long for a {CLONE_SUFFIX} twin")
        other = base + CLONE_SUFFIX if current.user == base else base
        return current.with_credentials(other, new_password()).unparse()

    def set(self, ctx: RotationContext, pending: str) -> None:
        import pg8000.exceptions

        current = PgUrl.parse(ctx.current(), what="AWSCURRENT")
        new = PgUrl.parse(pending, what="AWSPENDING")
        _same_endpoint(current, new, ctx)
        base = base_user(current.user)
        if new.user not in (base, base + CLONE_SUFFIX):
            raise ContractError(
                f"{ctx.secret_id}: pending user is not {base} or its {CLONE_SUFFIX}"
            )
        if new.user == current.user:
            raise ContractError(f"{ctx.secret_id}: alternating rotation must switch users")
        admin = master_credentials(ctx, current)
        if base in (admin.username, admin.username.removesuffix(CLONE_SUFFIX)):
            raise ContractError(f"{ctx.secret_id}: refusing to alternate the master user itself")
        conn = connect(current, admin.username, admin.password)
        try:
            # Whoever can write the application secret must not get a privileged role by
            # naming it there: its twin would be a member of it (and SET ROLE to it), or the
            # privileged role itself would be re-keyed into a secret they can read.
            privileged = conn.run(
                "SELECT rolname FROM pg_roles WHERE rolname IN (:a, :b) AND (rolsuper OR "
                "rolcreaterole OR rolreplication OR rolbypassrls)",
                a=base,
                b=base + CLONE_SUFFIX,
            )
            if privileged:
                raise ContractError(
                    f"{ctx.secret_id}: refusing to alternate a privileged role (superuser, "
                    "createrole, replication or bypassrls); application users only"
                )
            exists = conn.run("SELECT 1 FROM pg_roles WHERE rolname = :n", n=new.user)
            if not exists:
                try:
                    conn.run(f"CREATE ROLE {quote_ident(new.user)} WITH LOGIN")
                    logger.info("setSecret: %s created role %s", ctx.secret_id, new.user)
                except pg8000.exceptions.DatabaseError as exc:
                    if _sqlstate(exc) != "42710":  # duplicate_object: a concurrent duplicate
                        raise
            if new.user != base:
                # The clone inherits everything granted to the base user.
                conn.run(f"GRANT {quote_ident(base)} TO {quote_ident(new.user)}")
            set_password(conn, new.user, new.password, ensure_login=True)
        finally:
            conn.close()
        logger.info("setSecret: %s password of role %s set", ctx.secret_id, new.user)

    def test(self, ctx: RotationContext, pending: str) -> None:
        check_login(PgUrl.parse(pending, what="AWSPENDING"), ctx)

    def finish(self, ctx: RotationContext) -> None:
        return None
