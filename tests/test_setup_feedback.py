"""`make plan` on a fresh clone (issue 23): the minutes of the locked install are announced (what,
how many packages, how long), each step before it runs, and the time it took at the end.

``make venv`` runs for real, into a temporary VENV, with a stand-in interpreter that records what
it is asked to do instead of installing 150 packages."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from .conftest import ROOT

STUB = """#!/bin/sh
echo "python $*" >> "$STUB_LOG"
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
  mkdir -p "$3/bin" && cp "$0" "$3/bin/python" && chmod +x "$3/bin/python"
fi
exit 0
"""


def test_make_venv_says_what_it_does_before_doing_it(tmp_path: Path) -> None:
    make = shutil.which("make")
    if make is None:
        pytest.fail("make is needed: the set-up commands are make targets")
    stub = tmp_path / "python3"
    stub.write_text(STUB, encoding="utf-8")
    stub.chmod(stub.stat().st_mode | stat.S_IXUSR)
    log = tmp_path / "calls.log"
    venv = tmp_path / "venv"
    proc = subprocess.run(
        [make, "--no-print-directory", "venv", f"VENV={venv}", f"PYTHON={stub}"],
        cwd=ROOT,
        env={**os.environ, "STUB_LOG": str(log)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    packages = sum(1 for ln in (ROOT / "requirements.lock").read_text().splitlines() if "==" in ln)

    def at(pattern: str) -> int:
        found = [i for i, ln in enumerate(lines) if re.search(pattern, ln)]
        assert found, f"{pattern!r} not said:\n{proc.stdout}"
        return found[0]

    creating = at(rf"^make venv: creating {re.escape(str(venv))}")
    announced = at(rf"^make venv: installing {packages} pinned packages .*2-3 minutes")
    install = at(r"pip install .*--require-hashes -r requirements.lock")
    project = at(r"^make venv: installing this project")
    editable = at(r"pip install .* -e \.$")
    ready = at(r"^make venv: .* ready in \d+ s$")
    assert creating < announced < install < project < editable < ready
    calls = log.read_text(encoding="utf-8").splitlines()
    # venv, the pip pin, the two installs, compile
    assert calls[0].startswith("python -m venv") and len(calls) == 5
    assert (venv / ".installed").exists() and not (venv / ".started").exists()
