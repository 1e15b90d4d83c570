"""`nt-secrets plan --stack S --format json` of both project stacks, byte for byte against a golden
capture: the guard of every performance change (issue 15) and of any refactor that must not change
what the program declares.

The whole document is compared: every resource of the five stores (AWS, Vault, GCP, Azure,
Kubernetes) with its inputs, secret paths, options and dependencies, the violations and the summary.
The plan holds no timing field; the only machine-dependent text is the directory the rotation Lambda's
zip is built in (``$NT_SECRETS_BUILD_DIR`` or the user's cache), written ``<build>`` in the golden
files.

The golden files were made again when each secret got one home store (issue 20: the plan declares
one copy of each secret where it had four, and one random material per generated secret); before
that, from the code at commit f185410 (all five stores enabled, before the issue 15 optimisations). Regenerate them only deliberately, when a change of the plan is intended,
and review the diff before committing it::

    for s in dev prod; do
      .venv/bin/nt-secrets plan --stack $s --format json \\
        | sed "s#$(.venv/bin/python -c 'from infra.backends.aws.rotation import lambda_archive; from nt_secrets.capture import shown_path; print(shown_path(str(lambda_archive().parent)))')#<build>#g" \\
        > tests/fixtures/golden/plan-$s.json
    done
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from infra.backends.aws.rotation import lambda_archive
from infra.catalog import Environment, default_catalog
from nt_secrets.capture import shown_path
from nt_secrets.cli import main

from .conftest import ROOT

GOLDEN = ROOT / "tests" / "fixtures" / "golden"
BUILD = "<build>"


def _plan_json(stack: str, capsys: pytest.CaptureFixture[str]) -> str:
    """What ``nt-secrets plan --stack <stack> --format json`` prints, the build directory written
    ``<build>``."""
    capsys.readouterr()
    code = main(["plan", "--stack", stack, "--format", "json", "--project-dir", str(ROOT)])
    out = capsys.readouterr().out
    assert code == 0, f"plan --stack {stack} exited {code}"
    return _normalised(out)


def _normalised(out: str) -> str:
    """The build directory written ``<build>``, as the plan shows it (under the home directory as
    ``~/...``, nt_secrets.capture.shown_path)."""
    built = json.dumps(shown_path(str(lambda_archive().parent)))[1:-1]  # as inside a JSON string
    return out.replace(built, BUILD)


def _differences(want: dict[str, Any], got: dict[str, Any]) -> list[str]:
    """Where two plan documents differ, by resource URN (to make a failure readable)."""
    w = {r["urn"]: r for r in want["resources"]}
    g = {r["urn"]: r for r in got["resources"]}
    out = [f"added {u}" for u in sorted(g.keys() - w.keys())]
    out += [f"removed {u}" for u in sorted(w.keys() - g.keys())]
    for urn in sorted(w.keys() & g.keys()):
        fields = sorted(k for k in w[urn].keys() | g[urn].keys() if w[urn].get(k) != g[urn].get(k))
        if fields:
            out.append(f"changed {urn}: {', '.join(fields)}")
    if [r["urn"] for r in want["resources"]] != [r["urn"] for r in got["resources"]]:
        out.append("resources in another order")
    out += [
        f"{k} differs" for k in ("violations", "summary", "stack", "project") if want[k] != got[k]
    ]
    return out


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_plan_json_is_byte_identical_to_the_golden_capture(
    stack: str, capsys: pytest.CaptureFixture[str]
) -> None:
    golden = (GOLDEN / f"plan-{stack}.json").read_text()
    now = _plan_json(stack, capsys)
    if now != golden:
        diff = _differences(json.loads(golden), json.loads(now))
        pytest.fail(
            f"plan --stack {stack} differs from tests/fixtures/golden/plan-{stack}.json: "
            + ("; ".join(diff[:20]) if diff else "same content, other bytes (formatting, order)")
        )


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_golden_capture_covers_all_five_stores(stack: str) -> None:
    """The golden files are the whole estate, not a subset: each store's components are in them
    (a capture regenerated with a store disabled would make the byte guard blind to it)."""
    doc = json.loads((GOLDEN / f"plan-{stack}.json").read_text())
    types = {r["type"] for r in doc["resources"]}
    for store in ("aws", "vault", "gcp", "azure", "kubernetes"):
        assert f"neural-trader:{store}:SecretStore" in types or any(
            t.startswith(f"neural-trader:{store}:") for t in types
        ), f"no {store} component in the golden plan of {stack}"
    # One copy of each secret (four before placement: 476 resources in prod then).
    assert doc["summary"]["resources"] == len(doc["resources"]) > 150
    # One random material per generated secret, never one per store.
    env = {"dev": "development", "prod": "production"}[stack]
    generated = [e for e in default_catalog().stored_in(Environment(env)) if e.generated]
    materials = [r for r in doc["resources"] if r["type"].startswith("random:")]
    assert len(materials) == len(generated) == 6
    assert BUILD in json.dumps(doc), "the rotation archive's build directory is not normalised"


def test_the_program_writes_the_whole_plan_before_it_ends() -> None:
    """``nt-secrets plan`` run as a program ends without the interpreter's teardown (issue 15):
    the whole document still reaches a pipe (about a megabyte, far more than a pipe buffers), and
    the exit code is the command's."""
    script = Path(sys.executable).with_name("nt-secrets")
    proc = subprocess.run(
        [str(script), "plan", "--stack", "prod", "--format", "json"],
        cwd=ROOT,
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-2000:]
    out = _normalised(proc.stdout.decode())
    assert out == (GOLDEN / "plan-prod.json").read_text()
