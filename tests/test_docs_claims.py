"""What README.md and docs/ claim, held to what the code does (issue 23): no row saying "not
implemented yet" for what is implemented, one statement of the state versions read, the
``.env.vault`` that ``.gitignore`` lets through described as such, and no home directory path in
the documents the commands write (plan JSON, SARIF), which are shared."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from infra.backends import registry
from nt_secrets.cli import main
from nt_secrets.state import SUPPORTED_VERSIONS

from .conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "docs").glob("*.md")}


def test_no_row_says_not_implemented() -> None:
    for name, text in {"README.md": README, **DOCS}.items():
        assert "not implemented" not in text.lower(), name


def test_the_backends_row_names_every_backend() -> None:
    row = next(line for line in README.splitlines() if line.startswith("| `backends` |"))
    assert set(re.findall(r"`([a-z]+)`", row)) - {"backends"} == set(registry())


@pytest.mark.parametrize("name", ["README.md", "state-and-reports.md"])
def test_state_versions_are_stated_one_way(name: str) -> None:
    text = README if name == "README.md" else DOCS[name]
    ranges = re.findall(r"versions (\d)\s*(?:-|–|to)\s*(\d)", " ".join(text.split()))
    assert ranges, name
    want = (str(min(SUPPORTED_VERSIONS)), str(max(SUPPORTED_VERSIONS)))
    assert {tuple(r) for r in ranges} == {want}, name


def _ignored(path: str) -> bool:
    git = shutil.which("git")
    assert git
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    proc = subprocess.run(
        [git, "check-ignore", "-q", "--no-index", "--", path], cwd=ROOT, env=env, check=False
    )
    assert proc.returncode in (0, 1)
    return proc.returncode == 0


def test_env_vault_is_committed_and_the_docs_say_so() -> None:
    assert _ignored(".env.local") and _ignored(".env.keys")
    assert not _ignored(".env.vault") and not _ignored(".env.example")
    local = " ".join(DOCS["local-development.md"].split())
    assert "git add -f .env.vault" not in local
    assert "except `.env.example` and `.env.vault`" in local


def test_plan_json_does_not_embed_the_home_directory(tmp_path: Path) -> None:
    home = tmp_path / "home" / "u4e7x9"
    home.mkdir(parents=True)
    env = {
        k: v for k, v in os.environ.items() if k not in ("NT_SECRETS_BUILD_DIR", "XDG_CACHE_HOME")
    }
    env["HOME"] = str(home)
    proc = subprocess.run(
        [sys.executable, "-m", "nt_secrets", "plan", "--stack", "dev", "--format", "json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (home / ".cache" / "neural-trader-secrets" / "rotation").is_dir()  # built there
    assert str(home) not in proc.stdout and "u4e7x9" not in proc.stdout
    assert '"~/.cache/neural-trader-secrets/rotation/rotation-lambda.zip"' in proc.stdout


def test_sarif_does_not_embed_the_home_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home" / "u4e7x9"
    (home / "exports").mkdir(parents=True)
    state = home / "exports" / "dev.json"
    shutil.copy(ROOT / "tests" / "fixtures" / "state" / "pulumi-v4-export.json", state)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)  # not the checkout: the state is not under %SRCROOT%
    main(["check", "--state", str(state), "--format", "sarif"])
    out = capsys.readouterr().out
    assert "u4e7x9" not in out
    locations = [
        loc["physicalLocation"]["artifactLocation"]
        for result in json.loads(out)["runs"][0]["results"]
        for loc in result["locations"]
        if "physicalLocation" in loc
    ]
    assert locations and all(
        a == {"uri": "exports/dev.json", "uriBaseId": "HOME"} for a in locations
    )
