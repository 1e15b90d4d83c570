"""Output and environment failures (issue 23): a full disk, a stdout encoding that cannot hold the
text, a build directory setting that cannot be used. Each is one line on stderr and an exit code
that is neither 0 nor 1 (which means "violations"): 74 (EX_IOERR) when the output cannot be
written, 2 for a bad ``NT_SECRETS_BUILD_DIR``. Never a traceback, never the interpreter's
"Exception ignored" at exit.

The commands run as the program (a fresh interpreter), with stdout really ``/dev/full``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra.buildcache import ENV_VAR, BuildDirError, build_dir
from nt_secrets import cli

from .conftest import ROOT

STATE = str(ROOT / "tests" / "fixtures" / "state" / "pulumi-v4-checkpoint.json")


def _nt_secrets(*argv: str, stdout: int | None = None, **env: str) -> tuple[int, str]:
    with open(os.devnull, "wb") as devnull:
        proc = subprocess.run(
            [sys.executable, "-m", "nt_secrets", *argv],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=stdout if stdout is not None else devnull,
            stderr=subprocess.PIPE,
            timeout=300,
            check=False,
        )
    return proc.returncode, proc.stderr.decode("utf-8", "replace")


def _one_line(err: str) -> str:
    assert "Traceback" not in err and "Exception ignored" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize(
    "argv",
    [
        ("policies",),
        ("policies", "--format", "json"),
        ("policies", "--format", "markdown"),
        ("catalog",),
        ("catalog", "--format", "json"),
        ("env-template", "--environment", "development"),
        ("check", "--state", STATE),
        ("check", "--state", STATE, "--format", "json"),
        ("check", "--state", STATE, "--format", "markdown"),
        ("check", "--state", STATE, "--format", "sarif"),
        ("plan", "--stack", "dev", "--format", "json"),
    ],
    ids=" ".join,
)
def test_a_full_disk_is_one_line_and_exit_74(argv: tuple[str, ...]) -> None:
    fd = os.open("/dev/full", os.O_WRONLY)
    try:
        code, err = _nt_secrets(*argv, stdout=fd)
    finally:
        os.close(fd)
    assert code == cli.EXIT_OUTPUT
    assert _one_line(err) == "error: cannot write the output: No space left on device"


@pytest.mark.parametrize(
    "argv",
    [("check", "--state", STATE), ("plan", "--stack", "dev")],
    ids=" ".join,
)
def test_an_encoding_that_cannot_hold_the_text_is_one_line_and_exit_74(
    argv: tuple[str, ...],
) -> None:
    code, err = _nt_secrets(*argv, PYTHONIOENCODING="ascii")
    assert code == cli.EXIT_OUTPUT
    assert _one_line(err) == (
        "error: the output's encoding (ascii) cannot hold its text: use a UTF-8 locale or set "
        "PYTHONIOENCODING=utf-8"
    )


def _unusable(tmp: Path) -> dict[str, tuple[str, str]]:
    (tmp / "a-file").write_text("not a directory")
    return {
        "relative": ("relative/build", "must be an absolute path"),
        "under a file": (str(tmp / "a-file"), "Not a directory"),
        "under /dev/null": ("/dev/null/build", "Not a directory"),
        "in /proc": ("/proc/no-such/build", "No such file or directory"),
    }


@pytest.mark.parametrize("case", ["relative", "under a file", "under /dev/null", "in /proc"])
def test_an_unusable_build_dir_setting_is_named(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    value, why = _unusable(tmp_path)[case]
    monkeypatch.setenv(ENV_VAR, value)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(BuildDirError, match=f"^{ENV_VAR}: .*{why}"):
        build_dir("rotation")
    assert not (tmp_path / "relative").exists()  # nothing built where the command runs


def test_plan_with_an_unusable_build_dir_is_bad_input(tmp_path: Path) -> None:
    code, err = _nt_secrets("plan", "--stack", "dev", **{ENV_VAR: str(tmp_path / "build")})
    assert code == 0, err  # a usable one (the parent) plans
    code, err = _nt_secrets("plan", "--stack", "dev", **{ENV_VAR: "relative/build"})
    assert code == cli.EXIT_BAD_INPUT
    assert _one_line(err).startswith(f"error: {ENV_VAR}: must be an absolute path")
    assert not (ROOT / "relative").exists()
