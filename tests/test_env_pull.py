"""``nt-secrets env pull`` against AWS Secrets Manager (moto, in-process) and its refusals.

Access denial: moto enforces IAM for Secrets Manager per *action* only (every request's resource
is ``*`` and conditions are not evaluated), so a caller denied ``GetSecretValue`` altogether is
modelled by moto itself (an IAM user without the permission, ``set_initial_no_auth_action_count``),
while a caller denied ONE secret is a botocore ``Stubber`` answering that secret's request with
``AccessDeniedException`` as AWS does. The OpenBao case (a real per-path deny) is in
tests/vault/test_env_pull.py.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from dotenv import dotenv_values
from moto import mock_aws
from moto.core import set_initial_no_auth_action_count

from infra.catalog import Environment, Source, default_catalog
from nt_secrets import envpull
from nt_secrets.cli import main, render_env_template
from nt_secrets.envpull import EnvPullError, Fetched, Status
from tests.conftest import ROOT

#: A development stack whose every secret lives in AWS (the project's own stacks give each secret
#: its home: `tests/vault/test_env_pull.py` pulls the project's dev stack from Vault).
PROJECT = ROOT / "tests" / "fixtures" / "aws-home"
DEV = envpull.plan_pull(PROJECT, "dev", "aws")
SECRET_NAMES = list(DEV.addresses)
CONFIG_NAMES = [
    e.name
    for e in default_catalog().needed_in(Environment.DEVELOPMENT)
    if e.source is not Source.WORKLOAD_IDENTITY and e.name not in DEV.addresses
]

#: Values that a careless writer would break: quotes, newlines, $-expansion, comments, escapes.
TRICKY = {
    "DATABASE_URL": "postgresql://dev:p'a\"ss#x ; touch pwned ; #@localhost:5432/neural_trader_dev",
    "SENTRY_DSN": "https://fake@example.invalid/1 ${JWT_SECRET} trailing space ",
    "SMTP_PASSWORD": "line one\nline two\\n not a newline\\",  # pragma: allowlist secret
    "REDIS_PASSWORD": "$(touch pwned) `touch pwned` $HOME \\ !x # y",
    "SLACK_BOT_TOKEN": "it's\nB=evil\n\"quoted\" \\' ;touch pwned",
}


def fake_values() -> dict[str, str]:
    """An obviously fake value per dev secret (never credential-shaped)."""
    return {n: TRICKY.get(n, f"fake-{n.lower().replace('_', '-')}-dev-value") for n in SECRET_NAMES}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``nt-secrets ARGV`` in-process: (exit code, stdout, stderr); never a traceback."""
    args = list(argv)
    if args[:2] == ["env", "pull"] and "--project-dir" not in args:
        args += ["--project-dir", str(PROJECT)]
    try:
        code: Any = main(args)
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    assert "Traceback" not in err, err
    return int(code or 0), out, err


def source_in(shell: str, path: Path) -> dict[str, str]:
    """The variables a POSIX shell gets from ``set -a; . FILE`` (run in the file's directory: a
    value that ran a command would leave a file there, and that fails the test)."""
    exe = shutil.which(shell)
    assert exe, f"{shell} is needed to prove the file is safe to source"
    before = set(os.listdir(path.parent))
    proc = subprocess.run(
        [exe, "-c", 'set -a; . "$1"; exec env -0', shell, str(path)],
        cwd=path.parent,
        env={"PATH": os.environ["PATH"]},
        capture_output=True,
        check=False,
    )
    assert proc.returncode == 0 and proc.stderr == b"", proc.stderr
    assert set(os.listdir(path.parent)) == before, "sourcing the file ran a command"
    pairs = (item.split(b"=", 1) for item in proc.stdout.split(b"\0") if b"=" in item)
    return {k.decode(): v.decode("utf-8") for k, v in pairs}


def assert_no_value_shown(values: Mapping[str, str], *texts: str) -> None:
    for text in texts:
        for name, value in values.items():
            assert value not in text, f"{name}'s value was printed"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Fake ambient credentials for boto3's chain; nothing from the real machine."""
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")  # pragma: allowlist secret
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))


@pytest.fixture
def moto_store(aws_env: None) -> Iterator[dict[str, str]]:
    """moto's Secrets Manager holding every dev secret at its planned name (``locations()``)."""
    values = fake_values()
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="us-east-1")
        for name, address in DEV.addresses.items():
            client.create_secret(Name=envpull.aws_secret_id(address), SecretString=values[name])
        yield values


def test_planned_addresses_are_the_aws_backend_locations() -> None:
    assert len(SECRET_NAMES) == 20 and "JWT_SECRET" in SECRET_NAMES
    assert envpull.aws_secret_id(DEV.addresses["JWT_SECRET"]) == (
        "neural-trader/development/auth/jwt-secret"
    )
    assert DEV.addresses["JWT_SECRET"].startswith("arn:aws:secretsmanager:us-east-1:123456789012:")


def test_pull_from_moto_writes_exactly_the_catalog_variables(
    moto_store: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = tmp_path / ".env.local"
    old = os.umask(0)  # the file is private whatever the umask says
    try:
        code, out, err = run(capsys, "env", "pull", "--stack", "dev", "--output", str(out_file))
    finally:
        os.umask(old)
    assert code == 0, err
    assert out == ""
    assert mode(out_file) == 0o600
    parsed = dotenv_values(out_file, interpolate=False)
    assert set(parsed) == set(SECRET_NAMES) | set(CONFIG_NAMES)
    for shell in ("sh", "bash"):  # `set -a; . .env.local` gives every value exactly
        sourced = source_in(shell, out_file)
        assert {n: sourced[n] for n in SECRET_NAMES} == moto_store, shell
        assert all(sourced[n] == "" for n in CONFIG_NAMES)
    # the same variables, in the same order, as `nt-secrets env-template --environment development`
    template = render_env_template(Environment.DEVELOPMENT)
    listed = [ln.split("=", 1)[0] for ln in template.splitlines() if ln and not ln.startswith("#")]
    assert list(parsed) == listed
    assert {n: parsed[n] for n in SECRET_NAMES} == moto_store  # exact, tricky values included
    assert all(parsed[n] == "" for n in CONFIG_NAMES)
    text = out_file.read_text(encoding="utf-8")
    assert "# AWS_ACCESS_KEY_ID: not used." in text  # workload identity stays a comment
    assert "NOT PULLED" not in text
    for name in SECRET_NAMES:
        assert f"  {name}" in err and "ok" in err
    assert "20 of 20 secrets pulled" in err
    assert (
        "note: SENTRY_DSN: the value holds '${'" in err
    )  # the one value python-dotenv would expand
    assert_no_value_shown(moto_store, out, err)


def test_missing_secret_is_a_placeholder_and_fails_unless_allowed(
    moto_store: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client = boto3.client("secretsmanager", region_name="us-east-1")
    client.delete_secret(
        SecretId=envpull.aws_secret_id(DEV.addresses["OPENAI_API_KEY"]),
        ForceDeleteWithoutRecovery=True,
    )
    e2b = envpull.aws_secret_id(DEV.addresses["E2B_API_KEY"])
    client.delete_secret(SecretId=e2b, ForceDeleteWithoutRecovery=True)
    client.create_secret(Name=e2b)  # created, no value yet (as before an operator sets it)
    strict, partial = tmp_path / "strict.env", tmp_path / "partial.env"
    code, out, err = run(capsys, "env", "pull", "--stack", "dev", "--output", str(strict))
    assert code == 1
    assert (
        "18 of 20 secrets pulled; not pulled: OPENAI_API_KEY (missing), E2B_API_KEY (missing)"
        in err
    )
    assert "--allow-partial" in err
    parsed = dotenv_values(strict, interpolate=False)
    assert "OPENAI_API_KEY" not in parsed and "E2B_API_KEY" not in parsed
    text = strict.read_text(encoding="utf-8")
    assert (
        "# OPENAI_API_KEY= NOT PULLED (missing): not found "
        "(neural-trader/development/openai/api-key)" in text
    )
    assert "# E2B_API_KEY= NOT PULLED (missing): not found" in text
    assert mode(strict) == 0o600
    code, _out, err2 = run(
        capsys, "env", "pull", "--stack", "dev", "--output", str(partial), "--allow-partial"
    )
    assert code == 0
    assert "not pulled: OPENAI_API_KEY (missing)" in err2  # accepted, never silent
    assert_no_value_shown(moto_store, out, err, err2)


def test_caller_without_get_secret_value_gets_only_placeholders(
    aws_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """moto's own IAM enforcement: an IAM user allowed to describe, not to read, values."""
    values = fake_values()
    out_file = tmp_path / ".env.local"
    result: dict[str, Any] = {}

    @set_initial_no_auth_action_count(len(values) + 3)
    def scenario() -> None:
        admin = boto3.client("secretsmanager", region_name="us-east-1")
        for name, address in DEV.addresses.items():  # 20 unauthenticated set-up calls
            admin.create_secret(Name=envpull.aws_secret_id(address), SecretString=values[name])
        iam = boto3.client("iam", region_name="us-east-1")
        iam.create_user(UserName="dev-reader")
        iam.put_user_policy(
            UserName="dev-reader",
            PolicyName="describe-only",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "secretsmanager:DescribeSecret",
                            "Resource": "*",
                        }
                    ],
                }
            ),
        )
        key = iam.create_access_key(UserName="dev-reader")["AccessKey"]
        os.environ["AWS_ACCESS_KEY_ID"] = key["AccessKeyId"]
        os.environ["AWS_SECRET_ACCESS_KEY"] = key["SecretAccessKey"]
        result["run"] = run(capsys, "env", "pull", "--stack", "dev", "--output", str(out_file))

    with mock_aws():
        scenario()
    code, out, err = result["run"]
    assert code == 1
    assert "0 of 20 secrets pulled" in err
    text = out_file.read_text(encoding="utf-8")
    assert text.count("NOT PULLED (denied): access denied") == 20
    assert set(dotenv_values(out_file, interpolate=False)) == set(CONFIG_NAMES)
    assert_no_value_shown(values, out, err, text)


def test_one_secret_denied_is_named_and_fails(
    aws_env: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Secrets Manager answering one secret with AccessDeniedException (botocore Stubber)."""
    values = fake_values()
    client = boto3.client("secretsmanager", region_name="us-east-1")
    stubber = Stubber(client)
    for name, address in DEV.addresses.items():
        secret_id = envpull.aws_secret_id(address)
        if name == "ALPACA_SECRET_KEY":
            stubber.add_client_error(
                "get_secret_value",
                service_error_code="AccessDeniedException",
                service_message="User is not authorized to perform secretsmanager:GetSecretValue",
                http_status_code=400,
                expected_params={"SecretId": secret_id},
            )
        else:
            stubber.add_response(
                "get_secret_value",
                {"Name": secret_id, "SecretString": values[name]},
                expected_params={"SecretId": secret_id},
            )
    monkeypatch.setattr(envpull, "aws_client", lambda region: client)
    out_file = tmp_path / ".env.local"
    with stubber:
        code, out, err = run(capsys, "env", "pull", "--stack", "dev", "--output", str(out_file))
    stubber.assert_no_pending_responses()
    assert code == 1
    assert "not pulled: ALPACA_SECRET_KEY (denied)" in err
    text = out_file.read_text(encoding="utf-8")
    assert (
        "# ALPACA_SECRET_KEY= NOT PULLED (denied): access denied "
        "(neural-trader/development/alpaca/secret-key)" in text
    )
    parsed = dotenv_values(out_file, interpolate=False)
    assert set(parsed) == (set(SECRET_NAMES) | set(CONFIG_NAMES)) - {"ALPACA_SECRET_KEY"}
    assert_no_value_shown(values, out, err)


# ---- refusals -----------------------------------------------------------------------------------


def _git_repo(path: Path) -> Path:
    git = shutil.which("git")
    assert git, "git is needed to prove the tracked/ignored refusals"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    subprocess.run([git, "init", "-q", str(path)], check=True, env=env)
    (path / ".gitignore").write_text(".env.local\n", encoding="utf-8")
    (path / "tracked.env").write_text("A=1\n", encoding="utf-8")
    (path / ".env.local.tracked").write_text("A=1\n", encoding="utf-8")
    subprocess.run(
        [git, "add", "tracked.env", ".gitignore"], cwd=path, check=True, env=env
    )  # staged is tracked: ls-files lists it
    return path


@pytest.mark.parametrize(
    ("argv", "output", "message"),
    [
        (
            ["--stack", "prod", "--project-dir", str(ROOT)],
            "out.env",
            "stack prod is a production stack",
        ),
        (
            ["--stack", "dev", "--store", "gcp", "--project-dir", str(ROOT)],
            "out.env",
            "Google Cloud Secret Manager is not supported yet",
        ),
        (
            ["--stack", "dev", "--store", "azure", "--project-dir", str(ROOT)],
            "out.env",
            "Azure Key Vault is not supported yet",
        ),
        (
            ["--stack", "dev", "--store", "kubernetes", "--project-dir", str(ROOT)],
            "out.env",
            "not supported yet",
        ),
        (["--stack", "dev", "--store", "nope"], "out.env", "no store is called 'nope'"),
        (["--stack", "../x"], "out.env", "stack"),
        (["--stack", "dev"], "repo/tracked.env", "is tracked by git"),
        (["--stack", "dev", "--force"], "repo/tracked.env", "is tracked by git"),
        (["--stack", "dev"], "repo/new.env", "not ignored by git"),
        (["--stack", "dev"], "via-link/new.env", "not ignored by git"),  # symlinked directory
        (["--stack", "dev"], "exists.env", "exists; add --force to replace it"),
        (["--stack", "dev"], "no-such-dir/out.env", "does not exist"),
        (["--stack", "dev"], "repo", "is a directory"),
    ],
)
def test_refusals_exit_2_before_reading_anything(
    argv: list[str],
    output: str,
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _git_repo(tmp_path / "repo")
    (tmp_path / "via-link").symlink_to(tmp_path / "repo", target_is_directory=True)
    (tmp_path / "exists.env").write_text("KEEP=1\n", encoding="utf-8")
    before = {
        p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and ".git" not in p.parts
    }

    def no_reading(region: str) -> Any:
        raise AssertionError("a refused pull must not reach the store")

    monkeypatch.setattr(envpull, "aws_client", no_reading)
    code, out, err = run(capsys, "env", "pull", *argv, "--output", str(tmp_path / output))
    assert code == 2
    assert out == ""
    assert message in err
    after = {
        p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and ".git" not in p.parts
    }
    assert after == before  # nothing written, nothing replaced


def test_ignored_path_inside_a_repository_is_allowed(tmp_path: Path) -> None:
    repo = _git_repo(tmp_path / "repo")
    assert envpull.check_output(repo / ".env.local", force=False) == repo / ".env.local"
    with pytest.raises(EnvPullError, match="not ignored"):
        envpull.check_output(repo / ".env.local.tracked", force=False)


def test_the_project_repository_refuses_its_tracked_files_and_allows_env_local() -> None:
    with pytest.raises(EnvPullError, match="tracked by git"):
        envpull.check_output(ROOT / "Pulumi.dev.yaml", force=True)
    with pytest.raises(EnvPullError, match="not ignored"):
        envpull.check_output(ROOT / "docs" / "pulled.env", force=False)
    target = ROOT / ".env.local"
    if not target.exists():
        assert envpull.check_output(target, force=False) == target


# ---- git must answer, or the answer is "refuse" (issue 23) ------------------------------------


def _git(*args: str, cwd: Path | None = None) -> None:
    git = shutil.which("git")
    assert git, "git is needed to prove the refusals"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    subprocess.run([git, *args], cwd=cwd, check=True, env=env, capture_output=True)


def _layouts(tmp: Path) -> None:
    """A work tree (repo), one whose git directory lives elsewhere (split + gitdir), a bare
    repository, a broken one (a .git git cannot read), a symlink into a git directory."""
    _git_repo(tmp / "repo")
    _git("init", "-q", f"--separate-git-dir={tmp / 'gitdir'}", str(tmp / "split"))
    (tmp / "split" / ".gitignore").write_text("*.env\n", encoding="utf-8")
    _git("init", "-q", "--bare", str(tmp / "bare.git"))
    (tmp / "broken" / ".git").mkdir(parents=True)
    (tmp / "into-git").symlink_to(tmp / "repo" / ".git", target_is_directory=True)
    (tmp / "outside").mkdir()


@pytest.mark.parametrize(
    ("output", "force", "message"),
    [
        ("repo/.git/config", True, "inside a git directory"),
        ("repo/.git/config", False, "inside a git directory"),
        ("repo/.git/hooks/pre-commit", True, "inside a git directory"),
        ("repo/.git/new.env", False, "inside a git directory"),
        ("repo/.git", True, "inside a git directory"),
        ("into-git/config", True, "inside a git directory"),
        ("into-git/new.env", False, "inside a git directory"),
        ("gitdir/config", True, "inside a git directory"),
        ("gitdir/new.env", False, "inside a git directory"),
        ("bare.git/config", True, "inside a git directory"),
        ("bare.git/refs/new.env", False, "inside a git directory"),
        ("broken/new.env", False, "git could not tell"),
        ("broken/.git/new.env", False, "inside a git directory"),
        ("split/new.env", False, None),  # ignored by its .gitignore: fine
    ],
)
def test_a_path_in_a_git_directory_or_one_git_cannot_judge_is_refused(
    output: str, force: bool, message: str | None, tmp_path: Path
) -> None:
    _layouts(tmp_path)
    target = tmp_path / output
    if message is None:
        assert envpull.check_output(target, force=force) == target
        return
    with pytest.raises(EnvPullError, match=message):
        envpull.check_output(target, force=force)


def test_env_pull_never_replaces_git_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _git_repo(tmp_path / "repo")
    before = (repo / ".git" / "config").read_bytes()
    monkeypatch.setattr(envpull, "aws_client", lambda region: pytest.fail("store reached"))
    code, out, err = run(
        capsys, "env", "pull", "--stack", "dev", "--force", "--output", str(repo / ".git/config")
    )
    assert (code, out) == (2, "") and "inside a git directory" in err
    assert (repo / ".git" / "config").read_bytes() == before


@pytest.mark.skipif(os.geteuid() != 0, reason="handing a repository to another user needs root")
@pytest.mark.parametrize("output", ["README.md", "new.env", "sub/new.env", ".env.local"])
def test_a_repository_git_refuses_to_read_dubious_ownership_is_refused(
    output: str, tmp_path: Path
) -> None:
    """A checkout owned by another user: git refuses to answer ("dubious ownership"), so nothing
    is known about what it tracks or ignores, and nothing is written."""
    repo = _git_repo(tmp_path / "repo")
    (repo / "README.md").write_text("tracked\n", encoding="utf-8")
    (repo / "sub").mkdir()
    _git("add", "README.md", cwd=repo)
    for p in [repo, *repo.rglob("*")]:
        os.lchown(p, 65534, 65534)  # nobody
    with pytest.raises(EnvPullError, match=r"git could not tell.*dubious ownership"):
        envpull.check_output(repo / output, force=True)


@pytest.mark.parametrize(
    ("output", "refused"),
    [
        ("repo/.env.local", True),  # ignored, but git cannot say so
        ("repo/sub/new.env", True),
        ("bare.git/new.env", True),
        ("gitdir/new.env", True),  # a git directory recognised by its layout
        ("outside/new.env", False),
    ],
)
def test_without_git_a_path_in_or_near_a_repository_is_refused(
    output: str, refused: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _layouts(tmp_path)
    (tmp_path / "repo" / "sub").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "outside"))  # no git on it
    target = tmp_path / output
    if not refused:
        assert envpull.check_output(target, force=False) == target
        return
    with pytest.raises(EnvPullError, match="git"):
        envpull.check_output(target, force=False)


# ---- the file --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "plain",
        "with space and # hash",
        "single ' quote",
        'double " quote',
        "dollar $HOME ${JWT_SECRET} $(id)",
        "back\\slash and \\n literal",
        "trailing backslash\\",
        "multi\nline\n-----END FAKE-----\n",
        "",
        "é ünïcode ✓",
    ],
)
def test_quote_round_trips_through_python_dotenv(value: str, tmp_path: Path) -> None:
    """Single quotes are literal (POSIX shells, dotenvy, Docker Compose); python-dotenv expands
    ``${VAR}`` even there, so it reads these files with ``interpolate=False``."""
    path = tmp_path / "x.env"
    path.write_text(f"A={envpull.quote(value)}\nB=after\n", encoding="utf-8")
    assert dotenv_values(path, interpolate=False) == {"A": value, "B": "after"}


#: What a hostile (or unlucky) secret value may hold: each is written so that `sh`, `bash` and
#: python-dotenv read it back exactly, and sourcing it runs nothing.
HOSTILE = [
    "x' ; touch pwned ; #",  # the example
    "'",
    "''",
    "$(touch pwned)",
    "`touch pwned`",
    "${HOME}$HOME$$$?$!$#$@$*$-$0$1",
    "a\nb\\ \\\\ \\",  # literal backslashes, one at the end
    "\\",
    "line one\nline two\n",
    "\nB=evil\n",
    "'\nB=evil\n'",
    'it\'s "quoted" \\ and ; # | & < > ( ) { } [ ] * ? ~ !',
    '"',
    '\\"',
    "tab\there\r\x1b[31mred",
    "-n --version",
    "é ünïcode ✓ \u202e",
    "",
    " ",
]

#: Values no quoting makes safe for both a shell and a dotenv loader: refused, never written.
UNQUOTABLE = [
    "it's $HOME",
    "'$(touch pwned)'",
    "x' `touch pwned` '",
    "a\\\\b $x",
    "trailing backslash and $ \\",
    "nul\0byte",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_a_hostile_value_reads_back_exactly_when_sourced_or_loaded(
    value: str, tmp_path: Path
) -> None:
    path = tmp_path / ".env.local"
    quoted = envpull.quote(value)
    path.write_text(f"# before\nA={quoted}\nB='after'\n", encoding="utf-8", newline="")
    for shell in ("sh", "bash"):
        got = source_in(shell, path)
        assert (got["A"], got["B"]) == (value, "after"), shell
        assert "EVIL" not in got
    if "\r" not in value:  # python-dotenv reads text with universal newlines
        assert dotenv_values(path, interpolate=False) == {"A": value, "B": "after"}


@pytest.mark.parametrize("value", UNQUOTABLE)
def test_a_value_no_quoting_makes_safe_is_refused(value: str) -> None:
    with pytest.raises(envpull.UnquotableError):
        envpull.quote(value)


def test_an_unquotable_secret_is_a_placeholder_and_never_written(
    moto_store: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client = boto3.client("secretsmanager", region_name="us-east-1")
    hostile = "fake-it's-$(touch pwned)"
    client.put_secret_value(
        SecretId=envpull.aws_secret_id(DEV.addresses["JWT_SECRET"]), SecretString=hostile
    )
    out_file = tmp_path / ".env.local"
    code, out, err = run(capsys, "env", "pull", "--stack", "dev", "--output", str(out_file))
    assert code == 1
    assert "not pulled: JWT_SECRET (unquotable)" in err
    text = out_file.read_text(encoding="utf-8")
    assert "# JWT_SECRET= NOT PULLED (unquotable): the value holds ' or \\ together with $" in text
    assert hostile not in text and hostile not in out + err
    assert "JWT_SECRET" not in source_in("sh", out_file)


def test_file_is_never_readable_by_others_even_before_it_is_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, int]] = []
    real_link, real_replace = os.link, os.replace

    def link(src: Any, dst: Any, *a: Any, **k: Any) -> None:
        seen.append(("link", mode(Path(src))))
        real_link(src, dst, *a, **k)

    def replace(src: Any, dst: Any, *a: Any, **k: Any) -> None:
        seen.append(("replace", mode(Path(src))))
        real_replace(src, dst, *a, **k)

    monkeypatch.setattr(os, "link", link)
    monkeypatch.setattr(os, "replace", replace)
    target = tmp_path / ".env.local"
    old = os.umask(0)
    try:
        envpull.write_private(target, "A='1'\n", replace=False)
        envpull.write_private(target, "A='2'\n", replace=True)
    finally:
        os.umask(old)
    assert seen == [("link", 0o600), ("replace", 0o600)]
    assert mode(target) == 0o600 and target.read_text() == "A='2'\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".env.local"]  # no temporary left


def test_no_clobber_without_force_even_when_the_file_appears_meanwhile(tmp_path: Path) -> None:
    target = tmp_path / ".env.local"
    target.write_text("KEEP=1\n")
    with pytest.raises(EnvPullError, match="appeared meanwhile"):
        envpull.write_private(target, "A='1'\n", replace=False)
    assert target.read_text() == "KEEP=1\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".env.local"]


def test_force_replaces_a_symlink_not_its_target(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("untouched\n")
    link = tmp_path / ".env.local"
    link.symlink_to(elsewhere)
    with pytest.raises(EnvPullError, match="exists"):
        envpull.check_output(link, force=False)
    envpull.write_private(envpull.check_output(link, force=True), "A='1'\n", replace=True)
    assert not link.is_symlink() and mode(link) == 0o600
    assert elsewhere.read_text() == "untouched\n"


def test_render_lists_every_variable_once_in_catalog_order() -> None:
    results = {n: Fetched(Status.OK, value="v") for n in SECRET_NAMES}
    results["JWT_SECRET"] = Fetched(Status.DENIED, "access denied (x)")
    text = envpull.render(DEV, results)
    assigned = [line.split("=", 1)[0] for line in text.splitlines() if line and line[0] != "#"]
    expected = [
        e.name
        for e in DEV.variables
        if e.source is not Source.WORKLOAD_IDENTITY and e.name != "JWT_SECRET"
    ]
    assert assigned == expected
    assert text.count("# JWT_SECRET= NOT PULLED (denied)") == 1


# ---- credentials -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "file_token", "expected"),
    [
        ({"VAULT_TOKEN": "from-env"}, "from-file", "from-env"),
        ({}, "from-file\n", "from-file"),
        ({"VAULT_TOKEN": "  "}, "from-file", "from-file"),
        ({}, None, None),
        ({}, "", None),
    ],
)
def test_vault_token_from_the_environment_then_the_login_file(
    environ: dict[str, str], file_token: str | None, expected: str | None, tmp_path: Path
) -> None:
    if file_token is not None:
        (tmp_path / ".vault-token").write_text(file_token)
    if expected is None:
        with pytest.raises(EnvPullError, match="no Vault token"):
            envpull.vault_token(environ, home=tmp_path)
    else:
        assert envpull.vault_token(environ, home=tmp_path) == expected


def test_no_aws_credentials_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", raising=False)
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)
    monkeypatch.delenv("AWS_WEB_IDENTITY_TOKEN_FILE", raising=False)
    code, out, err = run(
        capsys, "env", "pull", "--stack", "dev", "--output", str(tmp_path / "x.env")
    )
    assert code == 2 and out == ""
    assert "no AWS credentials" in err
    assert not (tmp_path / "x.env").exists()
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    code, out, err = run(
        capsys, "env", "pull", "--stack", "dev", "--output", str(tmp_path / "x.env")
    )
    assert code == 2 and out == ""
    assert "AWS credentials unusable (ProfileNotFound)" in err
    assert not (tmp_path / "x.env").exists()


# ---- env vault-build: interoperability with python-dotenv-vault -------------------------------------

DOTENV_KEY_RE = r"dotenv://:key_([0-9a-f]{64})@dotenv\.local/vault/\.env\.vault\?environment=(\w+)"


def _keys(path: Path) -> dict[str, str]:
    return {
        k.removeprefix("DOTENV_KEY_").lower(): v or ""
        for k, v in dotenv_values(path, interpolate=False).items()
    }


def _built_vault(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[dict[str, str], str]:
    dev_text = "ALPACA_API_KEY='fake-alpaca-key'\nMULTI='a\nb'\nDOLLAR='${X} $Y'\n"  # pragma: allowlist secret
    ci_text = "ALPACA_API_KEY='fake-ci-key'\n"  # pragma: allowlist secret
    (tmp_path / ".env.local").write_text(dev_text, encoding="utf-8")
    (tmp_path / ".env.ci").write_text(ci_text, encoding="utf-8")
    code, out, err = run(
        capsys,
        "env",
        "vault-build",
        "--input",
        f"development={tmp_path / '.env.local'}",
        "--input",
        f"ci={tmp_path / '.env.ci'}",
        "--output",
        str(tmp_path / ".env.vault"),
        "--keys-file",
        str(tmp_path / ".env.keys"),
    )
    assert code == 0, err
    keys = _keys(tmp_path / ".env.keys")
    assert_no_value_shown(keys, out, err)  # the keys are never printed
    assert out == ""
    return {"development": dev_text, "ci": ci_text}, err


def test_vault_build_decrypts_with_python_dotenv_vault(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import base64
    import re

    from dotenv_vault import main as dotenv_vault  # type: ignore[import-untyped]

    texts, _err = _built_vault(tmp_path, capsys)
    keys = _keys(tmp_path / ".env.keys")
    assert set(keys) == {"development", "ci"}
    assert mode(tmp_path / ".env.keys") == 0o600
    for environment, key in keys.items():
        m = re.fullmatch(DOTENV_KEY_RE, key)
        assert m and m[2] == environment
    assert keys["development"] != keys["ci"]  # one key per environment
    vault = dotenv_values(tmp_path / ".env.vault", interpolate=False)
    for environment, text in texts.items():
        raw = base64.b64decode(vault[f"DOTENV_VAULT_{environment.upper()}"] or "")
        assert len(raw) == 12 + len(text.encode()) + 16  # nonce + ciphertext + GCM tag
        assert text.encode() not in raw
    monkeypatch.chdir(tmp_path)
    for environment, text in texts.items():
        monkeypatch.setenv("DOTENV_KEY", keys[environment])
        with open(tmp_path / ".env.vault", encoding="utf-8") as f:
            assert dotenv_vault.parse_vault(f).getvalue() == text
    # A comma-separated DOTENV_KEY (key rotation): the first key that decrypts wins.
    wrong = keys["ci"].replace("environment=ci", "environment=development")
    monkeypatch.setenv("DOTENV_KEY", f"{wrong},{keys['development']}")
    with open(tmp_path / ".env.vault", encoding="utf-8") as f:
        assert dotenv_vault.parse_vault(f).getvalue() == texts["development"]
    monkeypatch.setenv("DOTENV_KEY", wrong)
    with (
        open(tmp_path / ".env.vault", encoding="utf-8") as f,
        pytest.raises(dotenv_vault.DotEnvVaultError, match="INVALID_DOTENV_KEY"),
    ):
        dotenv_vault.parse_vault(f)


@pytest.mark.parametrize(
    ("inputs", "keys_file", "message"),
    [
        (["production=in.env"], "k.env", "production secrets are never written"),
        (["qa=in.env"], "k.env", "not an environment of the catalog"),
        (["development"], "k.env", "expected ENVIRONMENT=FILE"),
        (["development=missing.env"], "k.env", "is not a file"),
        (["development=in.env", "development=in.env"], "k.env", "given twice"),
        ([], "k.env", "give at least one"),
        (["development=in.env"], "exists.env", "exists; add --force"),
        (["development=in.env"], "repo/keys.env", "not ignored by git"),
    ],
)
def test_vault_build_refusals(
    inputs: list[str],
    keys_file: str,
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _git_repo(tmp_path / "repo")
    (tmp_path / "in.env").write_text("A='1'\n")
    (tmp_path / "exists.env").write_text("KEEP=1\n")
    monkeypatch.chdir(tmp_path)
    argv = [a for i in inputs for a in ("--input", i)]
    code, out, err = run(
        capsys,
        "env",
        "vault-build",
        *argv,
        "--output",
        str(tmp_path / "out.vault"),
        "--keys-file",
        str(tmp_path / keys_file),
    )
    assert code == 2 and out == ""
    assert message in err
    assert not (tmp_path / "out.vault").exists()
    assert (tmp_path / "exists.env").read_text() == "KEEP=1\n"


@pytest.mark.parametrize(
    ("output", "keys_file"),
    [("repo/.git/config", "keys.env"), ("out.vault", "repo/.git/keys.env")],
)
def test_vault_build_never_writes_into_a_git_directory(
    output: str, keys_file: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _git_repo(tmp_path / "repo")
    (tmp_path / "in.env").write_text("A='1'\n")
    before = (repo / ".git" / "config").read_bytes()
    code, out, err = run(
        capsys,
        "env",
        "vault-build",
        "--input",
        f"development={tmp_path / 'in.env'}",
        "--force",
        "--output",
        str(tmp_path / output),
        "--keys-file",
        str(tmp_path / keys_file),
    )
    assert (code, out) == (2, "") and "inside a git directory" in err
    assert (repo / ".git" / "config").read_bytes() == before
    assert not (tmp_path / "keys.env").exists() and not (tmp_path / "out.vault").exists()


def test_a_line_break_in_a_reason_or_description_stays_inside_its_comment(tmp_path: Path) -> None:
    results = {n: Fetched(Status.DENIED, "denied\ntouch pwned\r\nB=evil") for n in SECRET_NAMES}
    entries = tuple(
        e.model_copy(update={"description": "first line\ntouch pwned2"}) for e in DEV.variables
    )
    plan = envpull.PullPlan(**{**DEV.__dict__, "variables": entries})
    path = tmp_path / ".env.local"
    path.write_text(envpull.render(plan, results), encoding="utf-8")
    for shell in ("sh", "bash"):
        got = source_in(shell, path)
        assert "B" not in got and not set(SECRET_NAMES) & set(got)
    assert not [ln for ln in path.read_text().splitlines() if "touch" in ln and ln[0] != "#"]
