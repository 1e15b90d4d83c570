"""``nt-secrets env pull``: a development environment's secrets in a private ``.env.local``.

What is pulled is decided by the catalog and the estate, never by the store: every variable the
catalog lists for the stack's environment gets a line (plain configuration stays empty, as in
``nt-secrets env-template``; a long-lived cloud key replaced by workload identity stays a comment),
and each secret the estate stores is read from one enabled store at the address the backend's
``locations()`` gives, with the caller's own credentials: boto3's default chain for AWS Secrets
Manager, ``VAULT_ADDR``/``VAULT_TOKEN`` (or ``~/.vault-token``) for Vault. A secret the caller may
not read, or that does not exist yet, becomes a commented placeholder naming why, and the pull
says so and fails unless ``--allow-partial``: never a silent partial result.

Refused before anything is read: a production stack, a store the stack does not enable (or this
command cannot read yet), and an output that git tracks, that lies in the repository without being
ignored, or that exists (without ``--force``). The file is created ``0600`` from its first byte
(``O_EXCL`` on a temporary name in the same directory, then renamed into place) and never holds
anything but what the catalog names. Nothing here prints a value.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets as _random
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from infra.backends import enabled, registry
from infra.catalog import CatalogEntry, Environment, Source, catalog_at
from infra.settings import StackSettings
from infra.stack import build_estate, parse_settings
from nt_secrets.stackfile import read_stack

#: Stores this command can read, in the order it prefers them when ``--store`` is not given.
SUPPORTED_STORES: tuple[str, ...] = ("aws", "vault")


class EnvPullError(ValueError):
    """A pull refused before anything was read (bad input, production, unsafe output): exit 2."""


class Status(StrEnum):
    OK = "ok"
    DENIED = "denied"
    MISSING = "missing"
    FAILED = "failed"
    #: read, but no quoting makes a shell and a dotenv loader read it the same (:func:`quote`)
    UNQUOTABLE = "unquotable"


@dataclass(frozen=True)
class Fetched:
    """What reading one secret gave: its value (never shown) or why there is none."""

    status: Status
    reason: str = ""
    value: str | None = field(default=None, repr=False)


class SecretSource(Protocol):
    """One store, read with the caller's credentials."""

    def fetch(self, address: str) -> Fetched:
        """Read the secret at ``address`` (as the backend's ``locations()`` names it)."""
        ...


# ---- what to pull ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PullPlan:
    """The variables of one environment and where one store keeps each of its secrets."""

    stack: str
    environment: Environment
    store: str
    store_title: str
    variables: tuple[CatalogEntry, ...]
    #: catalog name -> address in the store, for every secret the estate stores
    addresses: Mapping[str, str]
    settings: StackSettings
    block: Any = field(repr=False)
    #: catalog name -> the home store of each stored secret this store does not hold
    elsewhere: Mapping[str, str] = field(default_factory=dict)


def plan_pull(
    project_dir: Path, stack: str, store: str | None = None, catalog_path: Path | None = None
) -> PullPlan:
    """Which variables to write and where each secret lives. Raises EnvPullError for production,
    an unknown, disabled or unsupported store; StackFileError/SettingsError/CatalogError for a bad
    stack or catalog (the CLI turns all of them into exit 2)."""
    config = read_stack(project_dir, stack)
    catalog = catalog_at(catalog_path)
    settings = parse_settings(config.config, secret_keys=config.secret_keys, catalog=catalog)
    if settings.is_production:
        raise EnvPullError(
            f"stack {stack} is a production stack (environment {settings.environment.value}): "
            "its secrets are never written to a file. Pull a development stack "
            "(e.g. --stack dev); production reads its secrets from the stores at run time"
        )
    estate = build_estate(catalog, settings)
    backend, block = _choose_store(stack, settings, store)
    view = estate.held_by(backend.name)
    addresses = dict(backend.locations(view, block))
    return PullPlan(
        stack=stack,
        environment=settings.environment,
        store=backend.name,
        store_title=backend.title,
        variables=catalog.needed_in(settings.environment),
        addresses={s.name: addresses[s.name] for s in view.secrets},
        settings=settings,
        block=block,
        elsewhere={s.name: s.home for s in estate.secrets if s.name not in addresses},
    )


def _choose_store(stack: str, settings: StackSettings, store: str | None) -> tuple[Any, Any]:
    on = enabled(settings)
    names = [b.name for b, _ in on]
    if store is not None:
        if store not in registry():
            raise EnvPullError(f"--store: no store is called {store!r} ({', '.join(names)})")
        if store not in names:
            raise EnvPullError(
                f"--store {store}: stack {stack} does not enable it (it enables {', '.join(names)})"
            )
        if store not in SUPPORTED_STORES:
            raise EnvPullError(
                f"--store {store}: reading {registry()[store].title} is not supported yet; "
                f"use --store {' or --store '.join(n for n in names if n in SUPPORTED_STORES) or '(none enabled)'}"
            )
        return next((b, blk) for b, blk in on if b.name == store)
    for backend, block in on:
        if backend.name in SUPPORTED_STORES:
            return backend, block
    raise EnvPullError(
        f"stack {stack} enables {', '.join(names)}: reading those is not supported yet "
        f"(env pull reads {', '.join(SUPPORTED_STORES)})"
    )


# ---- reading -------------------------------------------------------------------------------------


def _credential_errors() -> tuple[type[Exception], ...]:
    from botocore import exceptions as e

    return (
        e.NoCredentialsError,
        e.PartialCredentialsError,
        e.CredentialRetrievalError,
        e.TokenRetrievalError,
        e.SSOTokenLoadError,
        e.UnauthorizedSSOTokenError,
        e.ProfileNotFound,
    )


_CREDENTIAL_ERRORS = _credential_errors()


def credential_error(exc: Exception) -> EnvPullError:
    """What to tell a caller whose AWS credentials are missing or unusable."""
    from botocore.exceptions import NoCredentialsError

    if isinstance(exc, NoCredentialsError):
        return EnvPullError(
            "no AWS credentials: boto3's default chain found none (AWS_PROFILE, "
            "`aws sso login`, AWS_ACCESS_KEY_ID...)"
        )
    return EnvPullError(
        f"AWS credentials unusable ({type(exc).__name__}): log in again (`aws sso login`) "
        "or fix AWS_PROFILE"
    )


def aws_client(region: str) -> Any:
    """A Secrets Manager client from boto3's default credential chain (tests replace this)."""
    import boto3

    # A session of its own: the default session caches credentials for the process's lifetime.
    return boto3.session.Session().client("secretsmanager", region_name=region)


def aws_secret_id(address: str) -> str:
    """The secret name inside an ARN from ``locations()`` (``...:secret:<name>-??????``)."""
    _, sep, rest = address.partition(":secret:")
    name = rest if sep else address
    return name.removesuffix("-??????")


class AwsSource:
    """AWS Secrets Manager through one client (``GetSecretValue``, AWSCURRENT)."""

    _DENIED = frozenset({"AccessDeniedException", "AccessDenied", "403", "DecryptionFailure"})
    _MISSING = frozenset({"ResourceNotFoundException"})

    def __init__(self, client: Any) -> None:
        self.client = client

    def fetch(self, address: str) -> Fetched:
        from botocore import exceptions as aws_errors

        secret_id = aws_secret_id(address)
        try:
            resp = self.client.get_secret_value(SecretId=secret_id)
        except _CREDENTIAL_ERRORS as exc:
            raise credential_error(exc) from exc
        except aws_errors.ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in self._DENIED or status == 403:
                why = (
                    "KMS key not usable by you" if code == "DecryptionFailure" else "access denied"
                )
                return Fetched(Status.DENIED, f"{why} ({secret_id})")
            if code in self._MISSING:
                return Fetched(Status.MISSING, f"not found ({secret_id})")
            if code == "InvalidRequestException":  # scheduled for deletion
                return Fetched(Status.MISSING, f"deleted or scheduled for deletion ({secret_id})")
            return Fetched(Status.FAILED, f"{code or 'error'} ({secret_id})")
        except Exception as exc:  # endpoint unreachable, throttled beyond retries...
            return Fetched(Status.FAILED, f"{type(exc).__name__} ({secret_id})")
        value = resp.get("SecretString")
        if value is None:
            return Fetched(Status.FAILED, f"binary secret, not text ({secret_id})")
        if value == "":
            return Fetched(Status.MISSING, f"no value set yet ({secret_id})")
        return Fetched(Status.OK, value=str(value))


def vault_token(environ: Mapping[str, str] | None = None, home: Path | None = None) -> str:
    """``VAULT_TOKEN``, else the token ``vault login``/``bao login`` left in ``~/.vault-token``."""
    env = os.environ if environ is None else environ
    token = env.get("VAULT_TOKEN", "").strip()
    if token:
        return token
    path = (home or Path.home()) / ".vault-token"
    try:
        token = path.read_text(encoding="utf-8").strip()
    except OSError:
        token = ""
    if not token:
        raise EnvPullError(
            "no Vault token: set VAULT_TOKEN, or log in (`vault login` / `bao login` write "
            "~/.vault-token)"
        )
    return token


def vault_client(address: str, token: str) -> Any:
    """An hvac client for ``address`` with the caller's token (``VAULT_CACERT`` honoured)."""
    import hvac

    verify: bool | str = os.environ.get("VAULT_CACERT") or True
    return hvac.Client(url=address, token=token, verify=verify, timeout=30)


class VaultSource:
    """Vault/OpenBao KV v2 (``GET /v1/<mount>/data/<path>``, the current version's ``value``)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def fetch(self, address: str) -> Fetched:
        import hvac.exceptions as vault_errors

        try:
            resp = self.client.read(address)
        except vault_errors.Forbidden:
            return Fetched(Status.DENIED, f"permission denied ({address})")
        except vault_errors.VaultError as exc:
            return Fetched(Status.FAILED, f"{type(exc).__name__} ({address})")
        except Exception as exc:  # unreachable server, TLS failure...
            return Fetched(Status.FAILED, f"{type(exc).__name__} ({address})")
        data = (resp or {}).get("data") or {}
        if not resp or data.get("data") is None:
            return Fetched(Status.MISSING, f"not found ({address})")
        body = data["data"]
        if isinstance(body, Mapping) and not body:
            return Fetched(Status.MISSING, f"no value set yet ({address})")
        value = body.get("value") if isinstance(body, Mapping) else None
        if not isinstance(value, str):
            return Fetched(Status.FAILED, f"no string 'value' field ({address})")
        return Fetched(Status.OK, value=value)


def source_for(plan: PullPlan, environ: Mapping[str, str] | None = None) -> SecretSource:
    """The reader of the plan's store, with the caller's credentials."""
    env = os.environ if environ is None else environ
    if plan.store == "aws":
        try:
            return AwsSource(aws_client(str(plan.block.region)))
        except _CREDENTIAL_ERRORS as exc:
            raise credential_error(exc) from exc
    if plan.store == "vault":
        address = env.get("VAULT_ADDR") or str(plan.block.address)
        return VaultSource(vault_client(address, vault_token(env)))
    raise EnvPullError(f"reading {plan.store_title} is not supported yet")  # pragma: no cover


def fetch_all(
    plan: PullPlan,
    source: SecretSource,
    on_progress: Callable[[str, Fetched], None] | None = None,
) -> dict[str, Fetched]:
    """Read every secret of the plan, in catalog order (``on_progress`` never sees a value
    unless it looks: it is handed the result, and the CLI prints name and status only)."""
    results: dict[str, Fetched] = {}
    for name, address in plan.addresses.items():
        fetched = source.fetch(address)
        if fetched.status is Status.OK and fetched.value is not None:
            try:
                quote(fetched.value)
            except UnquotableError as exc:
                fetched = Fetched(Status.UNQUOTABLE, str(exc))
        results[name] = fetched
        if on_progress is not None:
            on_progress(name, results[name])
    return results


# ---- the file ------------------------------------------------------------------------------------


class UnquotableError(ValueError):
    """A value no quoting writes safely for both a POSIX shell and dotenv loaders."""


def quote(value: str) -> str:
    """A value as a POSIX shell (``. .env.local``, ``sh`` and ``bash``) and the dotenv loaders
    (python-dotenv with ``interpolate=False``, dotenvy/dotenv-cli, Docker Compose) all read it,
    byte for byte, whatever it holds (quotes, ``$(...)``, backticks, newlines, backslashes):

    * in single quotes (literal everywhere) when it holds no ``'`` and no backslash that
      python-dotenv would read as an escape (``\\\\``, or one at the end);
    * else in double quotes, ``\\`` and ``"`` escaped, when it holds no ``$`` and no backtick
      (which a shell expands inside double quotes, and dotenv loaders would not unescape);
    * else :class:`UnquotableError` (a ``'`` or such a backslash together with ``$`` or a
      backtick: a shell needs ``'\\''`` there, which a dotenv loader reads as the end of the
      value and the next line as a new variable), as for a NUL (no variable holds one).
    """
    if "\0" in value:
        raise UnquotableError("the value holds a NUL character, which no variable can hold")
    if "'" not in value and "\\\\" not in value and not value.endswith("\\"):
        return f"'{value}'"
    if "$" not in value and "`" not in value:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    raise UnquotableError(
        "the value holds ' or \\ together with $ or `: no quoting reads the same in a shell "
        "and in dotenv loaders; read it from the store when you need it"
    )


def _comment(text: str) -> str:
    """Text for a ``#`` comment line: a line break (or any control character) in a catalog
    description or a store's reason would end the comment and start a command."""
    return "".join(c if c.isprintable() else " " for c in text)


def render(plan: PullPlan, results: Mapping[str, Fetched], *, now: datetime | None = None) -> str:
    """The ``.env`` text: every variable of the environment, secrets filled in or commented out
    with the reason, configuration empty."""
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    pulled = sum(1 for r in results.values() if r.status is Status.OK)
    lines = [
        f"# neural-trader {plan.environment.value} environment, pulled by "
        f"`nt-secrets env pull --stack {plan.stack}` from {plan.store_title} at {stamp}.",
        "# Local development only: DO NOT COMMIT, never copy elsewhere. Re-run with --force to refresh.",
        f"# {pulled} of {len(results)} secrets pulled; plain configuration is left for you to set.",
    ]
    current = None
    for e in plan.variables:
        if e.category != current:
            current = e.category
            lines += ["", f"# --- {e.category.value} ---"]
        mode = e.mode_in(plan.environment)
        note = f" [{mode.value}]" if mode else ""
        if e.source is Source.WORKLOAD_IDENTITY:
            lines.append(_comment(f"# {e.name}: not used. {e.replaced_by}."))
            continue
        lines.append(_comment(f"# {e.description}{note}"))
        result = results.get(e.name)
        if e.name in plan.elsewhere:
            home = plan.elsewhere[e.name]
            lines.append(
                f"# {e.name}= NOT PULLED (elsewhere): its home store is {home}, not "
                f"{plan.store}; pull it with --store {home} where supported"
            )
        elif e.name not in plan.addresses:
            lines.append(f"{e.name}=")
        elif result is not None and result.status is Status.OK and result.value is not None:
            lines.append(f"{e.name}={quote(result.value)}")
        else:
            why = result.reason if result is not None else "not read"
            status = result.status.value if result is not None else "missing"
            lines.append(_comment(f"# {e.name}= NOT PULLED ({status}): {why}"))
    return "\n".join(lines) + "\n"


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    git = shutil.which("git")
    if git is None:
        raise FileNotFoundError("git")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    return subprocess.run(
        [git, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=30, check=False
    )


def _looks_like_git_dir(directory: Path) -> bool:
    """git's own test for a git directory (setup.c ``is_git_directory``): HEAD, objects/, refs/."""
    return (
        (directory / "HEAD").is_file()
        and (directory / "objects").is_dir()
        and (directory / "refs").is_dir()
    )


def _git_evidence(path: Path) -> tuple[bool, bool]:
    """(inside a git directory, inside or beside a repository) judged from the file system alone,
    for the given path and the path its symlinks resolve to: a ``.git`` component or a directory
    laid out as one; a ``.git`` entry (directory or gitfile) in an ancestor."""
    in_git_dir = near_repo = False
    for p in {path, Path(os.path.realpath(path))}:
        dirs = [p, *p.parents]
        if ".git" in p.parts or any(_looks_like_git_dir(d) for d in dirs):
            in_git_dir = True
        if any(os.path.lexists(d / ".git") for d in dirs):
            near_repo = True
    return in_git_dir, near_repo


def refuse_git_directory(path: Path, option: str = "--output") -> None:
    """EnvPullError when ``path`` (absolute) lies in a git directory (``.git/``, a bare or
    separate one, through a symlink or not): never a valid output, whatever git says."""
    if _git_evidence(path)[0]:
        raise EnvPullError(f"{option}: {path} is inside a git directory: never a place to write")


def check_output(output: Path, *, force: bool) -> Path:
    """The absolute path to write, or EnvPullError: a directory that does not exist, an existing
    file without ``force``, a path inside a git directory, a file git tracks, one inside a
    repository that git does not ignore, or one git cannot judge (git missing, a repository it
    refuses to read): whenever git cannot answer, the answer is "refuse"."""
    path = Path(os.path.abspath(output.expanduser()))
    parent = path.parent
    refuse_git_directory(path)
    if not parent.is_dir():
        raise EnvPullError(f"--output: directory {parent} does not exist")
    if path.is_dir():
        raise EnvPullError(f"--output: {path} is a directory")
    _check_not_in_git(path)
    if os.path.lexists(path) and not force:
        raise EnvPullError(f"--output: {path} exists; add --force to replace it")
    return path


def _git_said(proc: subprocess.CompletedProcess[str]) -> str:
    """git's first line of complaint, shortened (``fatal: detected dubious ownership ...``)."""
    line = next((ln for ln in proc.stderr.splitlines() if ln.strip()), "no message")
    return line.removeprefix("fatal: ").strip()[:200]


def _check_not_in_git(path: Path) -> None:
    """EnvPullError when ``path`` lies in a git directory, when git tracks it or would add it (in
    a work tree, not ignored), or when git cannot tell (not installed, refusing the repository,
    failing) while the file system shows a repository there or git fails for another reason
    than "not a git repository"."""
    parent = path.parent
    cannot = f"--output: git could not tell whether {path} is safe to write"
    in_git_dir, near_repo = _git_evidence(path)
    try:
        where = _git(["rev-parse", "--is-inside-git-dir", "--is-inside-work-tree"], parent)
    except (OSError, subprocess.SubprocessError) as exc:
        if near_repo or in_git_dir:
            raise EnvPullError(
                f"{cannot} ({'git is not installed' if isinstance(exc, FileNotFoundError) else exc}):"
                " it is inside a git work tree; write outside the repository"
            ) from exc
        return
    if where.returncode != 0:
        said = _git_said(where)
        if said.startswith("not a git repository") and not near_repo:
            return  # not in a repository, and nothing on disk says otherwise
        raise EnvPullError(f"{cannot} ({said}); write outside the repository")
    inside_git_dir, inside_work_tree = [*where.stdout.split(), "", ""][:2]
    if inside_git_dir != "false" or inside_work_tree != "true":
        raise EnvPullError(f"--output: {path} is inside a git directory: never a place to write")
    top = _git(["rev-parse", "--show-toplevel"], parent)
    if top.returncode != 0 or not top.stdout.strip():
        raise EnvPullError(f"{cannot} ({_git_said(top)}); write outside the repository")
    root = Path(top.stdout.strip())
    # The directory as git sees it (a symlinked directory resolves into its repository).
    rel = os.path.relpath(Path(os.path.realpath(parent)) / path.name, root)
    tracked = _git(["ls-files", "--error-unmatch", "--", rel], root)
    if tracked.returncode == 0:
        raise EnvPullError(
            f"--output: {rel} is tracked by git in {root}: secrets would be committed. "
            "Write to an ignored path (.env.local is ignored by this repository)"
        )
    if tracked.returncode != 1:
        raise EnvPullError(f"{cannot} ({_git_said(tracked)}); write outside the repository")
    ignored = _git(["check-ignore", "-q", "--", rel], root)
    if ignored.returncode == 1:
        raise EnvPullError(
            f"--output: {rel} is inside the repository {root} and not ignored by git: "
            "`git add -A` would commit it. Add it to .gitignore or write outside the repository"
        )
    if ignored.returncode != 0:
        raise EnvPullError(f"{cannot} ({_git_said(ignored)}); write outside the repository")


def write_private(path: Path, text: str, *, replace: bool) -> None:
    """Write ``text`` to ``path`` readable by its owner only, from the first byte: a temporary
    file in the same directory created ``O_EXCL|O_NOFOLLOW`` with mode 0600, then renamed over
    ``path`` (``replace``) or linked to it (fails if ``path`` appeared meanwhile)."""
    tmp = path.with_name(f".{path.name}.{_random.token_hex(8)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(tmp, flags, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask said
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)
            except FileExistsError as exc:
                raise EnvPullError(f"--output: {path} appeared meanwhile; not replaced") from exc
            except OSError as exc:  # a file system without hard links
                if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV):
                    raise
                if os.path.lexists(path):
                    raise EnvPullError(
                        f"--output: {path} appeared meanwhile; not replaced"
                    ) from exc
                os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    try:
        dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


@dataclass(frozen=True)
class PullResult:
    path: Path
    variables: int
    results: Mapping[str, Fetched]

    @property
    def not_pulled(self) -> dict[str, Fetched]:
        return {n: r for n, r in self.results.items() if r.status is not Status.OK}


def expanding_values(results: Mapping[str, Fetched]) -> list[str]:
    """Names whose value holds ``${``: literal in single quotes for POSIX shells, dotenvy and
    Docker Compose, but python-dotenv expands it unless told ``interpolate=False``."""
    return [n for n, r in results.items() if r.value is not None and "${" in r.value]


def summary(results: Mapping[str, Fetched]) -> str:
    """``19 of 20 secrets pulled; not pulled: X (denied), Y (missing)`` (names and statuses only)."""
    missing = [f"{n} ({r.status.value})" for n, r in results.items() if r.status is not Status.OK]
    ok = len(results) - len(missing)
    text = f"{ok} of {len(results)} secrets pulled"
    return text + (f"; not pulled: {', '.join(missing)}" if missing else "")


def pull(
    plan: PullPlan,
    output: Path,
    *,
    force: bool,
    source: SecretSource,
    on_progress: Callable[[str, Fetched], None] | None = None,
) -> PullResult:
    """Read the plan's secrets and write the file (see the module docstring)."""
    path = check_output(output, force=force)
    results = fetch_all(plan, source, on_progress)
    text = render(plan, results)
    write_private(path, text, replace=force)
    written = sum(1 for e in plan.variables if e.source is not Source.WORKLOAD_IDENTITY)
    return PullResult(path, written, results)
