"""What `nt-secrets check --state` loads (issue 15): judging an existing stack's state needs the
policy pack and the state reader, never the Pulumi SDK, its gRPC/protobuf/OpenTelemetry stack, the
provider packages or the program. Each of those costs start-up time on every export checked.

The command runs in a fresh interpreter (what a user pays); the modules it loaded are read from
``sys.modules`` at its end. Timing is the benchmark's business (``benchmarks/plan_bench.py``), not a
test's: what is asserted is what was imported.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

_PROBE = """\
import json, sys
from nt_secrets.cli import main
code = main(["check", "--state", sys.argv[1], "--format", "json"])
with open(sys.argv[2], "w") as out:
    json.dump({"code": code, "modules": sorted(sys.modules)}, out)
"""

#: (family, module name prefixes): what a state check must not import.
FORBIDDEN: list[tuple[str, tuple[str, ...]]] = [
    ("the Pulumi SDK", ("pulumi",)),
    ("gRPC", ("grpc",)),
    ("protobuf", ("google.protobuf",)),
    ("OpenTelemetry", ("opentelemetry",)),
    ("the AWS provider", ("pulumi_aws",)),
    ("the GCP provider", ("pulumi_gcp",)),
    ("the Vault provider", ("pulumi_vault",)),
    ("the Azure Native provider", ("pulumi_azure_native",)),
    ("the Kubernetes provider", ("pulumi_kubernetes",)),
    ("the random provider", ("pulumi_random",)),
    ("the program", ("infra.program", "infra.backends", "nt_secrets.capture", "nt_secrets.plan")),
    ("the catalog and settings models (pydantic)", ("pydantic", "infra.catalog", "infra.settings")),
]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """``check --state`` of an empty export, in a fresh interpreter: its exit code and modules."""
    tmp = tmp_path_factory.mktemp("startup")
    export = tmp / "empty-export.json"
    export.write_text(json.dumps({"version": 3, "deployment": {"manifest": {}, "resources": []}}))
    result = tmp / "modules.json"
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, str(export), str(result)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    data: dict[str, object] = json.loads(Path(result).read_text())
    return data


def test_the_probe_ran_the_state_check(loaded: dict[str, object]) -> None:
    """The probe is real: the check ran to its end (exit 0: nothing to judge) and loaded the
    pack and the state reader, so an empty module list cannot pass the test below."""
    assert loaded["code"] == 0
    modules = loaded["modules"]
    assert isinstance(modules, list)
    assert {"nt_secrets.state", "policies.pack", "nt_secrets.report"} <= set(modules)


@pytest.mark.parametrize(("family", "prefixes"), FORBIDDEN, ids=[f for f, _ in FORBIDDEN])
def test_check_state_does_not_import(
    family: str, prefixes: tuple[str, ...], loaded: dict[str, object]
) -> None:
    modules = loaded["modules"]
    assert isinstance(modules, list)
    found = sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in prefixes))
    assert not found, f"check --state imported {family}: {', '.join(found[:8])}"
