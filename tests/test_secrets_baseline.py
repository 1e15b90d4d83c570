"""The audited detect-secrets baseline that `make test` enforces: a new credential-shaped string in
a tracked file fails the check until it is audited as a fake."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "check_secrets_baseline.py"
# AWS's documented example secret key, assembled here so this file holds no literal of it.
EXAMPLE = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEY"


def _run(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(root)], capture_output=True, text=True, check=False
    )


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def test_a_new_credential_fails_until_audited(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q")
    (tmp_path / "ok.py").write_text("NAME = 'neural-trader'\n")
    hook = Path(sys.executable).with_name("detect-secrets")
    scan = subprocess.run(
        [str(hook), "scan"], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    (tmp_path / ".secrets.baseline").write_text(scan.stdout)
    _git(tmp_path, "add", ".")
    assert _run(tmp_path).returncode == 0

    (tmp_path / "leak.py").write_text(f"aws_secret_access_key = '{EXAMPLE}'\n")
    _git(tmp_path, "add", "leak.py")
    proc = _run(tmp_path)
    assert proc.returncode == 1 and EXAMPLE not in proc.stdout + proc.stderr

    # Recorded in the baseline but not audited: still a failure.
    scan = subprocess.run(
        [str(hook), "scan"], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    (tmp_path / ".secrets.baseline").write_text(scan.stdout)
    proc = _run(tmp_path)
    assert proc.returncode == 1 and "not audited" in proc.stderr

    baseline = json.loads(scan.stdout)
    for items in baseline["results"].values():
        for item in items:
            item["is_secret"] = False
    (tmp_path / ".secrets.baseline").write_text(json.dumps(baseline))
    assert _run(tmp_path).returncode == 0
