"""The policy libraries must stay usable outside the Pulumi engine (offline runner)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_libraries_do_not_import_pulumi() -> None:
    code = (
        "import sys, policies.lib.iam, policies.lib.credentials\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('pulumi', 'pulumi_policy'))\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=120)


def test_library_sources_do_not_mention_pulumi_imports() -> None:
    for path in (ROOT / "policies" / "lib").glob("*.py"):
        text = path.read_text()
        assert "import pulumi" not in text, path
        assert "from pulumi" not in text, path
