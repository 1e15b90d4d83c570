"""Fail when a tracked file holds a credential-shaped string the audited baseline does not know.

Runs detect-secrets' own hook over every file git tracks (the lock file's hashes and the baseline
itself excepted) against ``.secrets.baseline``: a new finding, or a finding the baseline has not
audited, fails ``make test``. After auditing a new fixture value (obviously fake, never real):
``.venv/bin/detect-secrets scan --baseline .secrets.baseline && .venv/bin/detect-secrets audit
.secrets.baseline``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIP = {
    "requirements.lock",  # hashes
    ".secrets.baseline",
    # A YAML alias bomb (the parser's refusal is under test): detect-secrets' YAML reader expands
    # it for a minute. It holds no value.
    "tests/fixtures/hardening/alias-bomb.yaml",
}


def main(root: Path = ROOT) -> int:
    baseline = root / ".secrets.baseline"
    files = subprocess.run(
        ["git", "ls-files"], cwd=root, capture_output=True, text=True, check=True
    ).stdout.split()
    files = [f for f in files if f not in SKIP]
    hook = Path(sys.executable).with_name("detect-secrets-hook")
    proc = subprocess.run(
        [str(hook), "--baseline", str(baseline), *files], cwd=root, text=True, check=False
    )
    if proc.returncode != 0:
        print("detect-secrets: unaudited credential-shaped strings (see above)", file=sys.stderr)
        return 1
    results = json.loads(baseline.read_text())["results"]
    unaudited = [
        f"{path}:{item['line_number']} ({item['type']})"
        for path, items in results.items()
        for item in items
        if item.get("is_secret") is not False
    ]
    if unaudited:
        print("detect-secrets: baseline entries not audited as fake:", file=sys.stderr)
        print("\n".join(f"  {u}" for u in unaudited), file=sys.stderr)
        return 1
    print(f"detect-secrets: {len(files)} tracked files, baseline current and audited")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT))
