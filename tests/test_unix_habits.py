"""The command line as a Unix tool (issue 23): tables that never cut a number or a type at 80
columns, one exit status for a reader that went away whatever the format, no terminal control
character from input on a terminal, ``rotate`` without credentials refused like ``env pull``, and
messages that do not contradict what the command does."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.catalog import CATALOG_PATH
from nt_secrets import cli
from nt_secrets.cli import main
from nt_secrets.plan import summary
from tests.plans import planned_stack

from .conftest import AWS_HOME, ROOT

STATE = ROOT / "tests" / "fixtures" / "state" / "pulumi-v4-export.json"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code: Any = main(list(argv))
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    assert "Traceback" not in err, err
    return int(code or 0), out, err


# ---- tables --------------------------------------------------------------------------------------


@pytest.mark.parametrize("width", [60, 80, 100])
def test_plan_tables_never_cut_a_count_or_a_type(
    width: int, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", str(width))
    code, out, _err = _run(capsys, "plan", "--stack", "prod")
    assert code == 0
    table = out[out.index("Resources by type") :]
    assert "…" not in table
    assert max(len(line) for line in out.splitlines()) <= width
    flat = "".join(table.split())  # a type longer than the line goes on over the next one
    by_type = summary(planned_stack("prod", ROOT)[1])["byType"]
    for type_, count in by_type.items():
        assert f"{count}{type_}" in flat, type_


# ---- a reader that goes away ---------------------------------------------------------------------

FAST = [
    ("policies",),
    ("policies", "--format", "json"),
    ("policies", "--format", "markdown"),
    ("catalog",),
    ("catalog", "--format", "json"),
    ("env-template", "--environment", "ci"),
    ("check", "--state", str(STATE)),
    ("check", "--state", str(STATE), "--format", "json"),
    ("check", "--state", str(STATE), "--format", "markdown"),
    ("check", "--state", str(STATE), "--format", "sarif"),
]


def _pipeline(argv: tuple[str, ...], reader: str, unbuffered: bool) -> str:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    if unbuffered:
        env["PYTHONUNBUFFERED"] = "1"  # usual in containers: stdout straight over the descriptor
    command = " ".join([sys.executable, "-m", "nt_secrets", *argv])
    proc = subprocess.run(
        ["bash", "-c", f'{command} | {reader} >/dev/null; echo "${{PIPESTATUS[0]}}"'],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.stderr == "", proc.stderr
    return proc.stdout.strip()


@pytest.mark.parametrize("unbuffered", [True, False], ids=["PYTHONUNBUFFERED", "buffered"])
@pytest.mark.parametrize("argv", FAST, ids=" ".join)
def test_a_reader_gone_before_the_first_byte_is_141_for_every_command_and_format(
    argv: tuple[str, ...], unbuffered: bool
) -> None:
    assert _pipeline(argv, "head -c 0", unbuffered) == str(cli.EXIT_BROKEN_PIPE)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_reader_that_stops_early_is_141_in_text_and_json_alike(fmt: str) -> None:
    """`plan --format json | head -1` with PYTHONUNBUFFERED set was a silently cut document and
    exit 0 (the text wrapper dropped the rest of a partial write) where text gave 141."""
    argv = ("plan", "--stack", "dev", "--format", fmt)
    assert _pipeline(argv, "head -1", unbuffered=True) == str(cli.EXIT_BROKEN_PIPE)


def test_a_whole_document_still_goes_through_a_pipe() -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "nt_secrets", "policies", "--format", "json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert len(json.loads(proc.stdout)) > 50


# ---- terminal control characters -----------------------------------------------------------------

CONTROL = ["\x1b]0;owned\x07", "\x1b[2J", "\r", "\u202e", "\x9b31m"]


def test_control_characters_from_a_state_never_reach_the_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = json.loads(STATE.read_text(encoding="utf-8"))
    for r in doc["deployment"]["resources"]:
        if r["type"] == "aws:secretsmanager/secret:Secret":
            old = r["urn"]
            r["urn"] = old + "".join(CONTROL)
            for other in doc["deployment"]["resources"]:
                if other.get("parent") == old:
                    other["parent"] = r["urn"]
    state = tmp_path / "state.json"
    state.write_text(json.dumps(doc), encoding="utf-8")
    for fmt in ("text", "markdown", "json", "sarif"):
        code, out, err = _run(capsys, "check", "--state", str(state), "--format", fmt)
        assert code == 1
        for c in CONTROL:
            assert c not in out + err, (fmt, c)
        if fmt in ("text", "markdown"):
            assert "\\x1b]0;owned\\x07" in out  # shown, as its escape


@pytest.mark.parametrize("field", ["description", "replaced_by"])
def test_a_catalog_text_with_a_control_character_is_bad_input(
    field: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = yaml.safe_load(CATALOG_PATH.read_text(encoding="utf-8"))
    entry = next(
        e
        for e in data["entries"]
        if (e["source"] == "workload-identity") == (field == "replaced_by")
    )
    entry[field] = "looks fine\x1b[2J\x1b]0;owned\x07\nexport OWNED=1"
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(yaml.safe_dump(data), encoding="utf-8")
    code, out, err = _run(capsys, "plan", "--stack", "dev", "--catalog", str(catalog))
    assert (code, out) == (2, "")
    assert f"{entry['name']}: [schema] {field}: holds a control character" in err
    assert "\x1b" not in err


# ---- rotate without credentials ------------------------------------------------------------------


def test_rotate_without_credentials_is_exit_2_like_env_pull(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in list(os.environ):
        if key.startswith("AWS_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    code, out, err = _run(
        capsys, "rotate", "JWT_SECRET", "--now", "--stack", "dev", "--project-dir", str(AWS_HOME)
    )
    assert (code, out) == (2, "")
    assert "no AWS credentials" in err
    monkeypatch.chdir(ROOT)
    code, _out, err2 = _run(
        capsys, "env", "pull", "--stack", "dev", "--output", str(tmp_path / "x.env")
    )
    assert code == 2 and "no AWS credentials" in err2


# ---- messages ------------------------------------------------------------------------------------


def test_a_stack_file_that_is_a_directory_is_not_reported_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    (tmp_path / "Pulumi.dev.yaml").mkdir()
    shutil.copy(ROOT / "Pulumi.prod.yaml", tmp_path / "Pulumi.prod.yaml")
    code, _out, err = _run(capsys, "plan", "--stack", "dev", "--project-dir", str(tmp_path))
    assert code == 2
    assert "Pulumi.dev.yaml is a directory, not a stack file" in err
    assert "no stack file" not in err
    code, _out, err = _run(capsys, "plan", "--stack", "qa", "--project-dir", str(tmp_path))
    assert "(stacks here: prod)" in err  # the directory is not offered as a stack


def test_all_policies_disabled_is_not_reported_as_no_violations(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "policy.json"
    config.write_text(json.dumps({"all": "disabled"}), encoding="utf-8")
    code, out, err = _run(capsys, "plan", "--stack", "dev", "--policy-pack-config", str(config))
    assert code == 0
    text = " ".join(out.split())
    assert "every policy disabled by the policy pack config, nothing judged" in text
    assert "policies) and stack-file lint: no violations" not in text
    assert "note: every policy of the pack" in " ".join(err.split())
    code, out, err = _run(
        capsys, "check", "--state", str(STATE), "--policy-pack-config", str(config)
    )
    assert "note: every policy of the pack" in " ".join(err.split())
