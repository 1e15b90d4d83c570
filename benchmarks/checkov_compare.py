"""Benchmark: the pack's `check` against checkov, side by side in one run, on the same 10,000
IAM-heavy resources (benchmarks/check_bench.py's :func:`make_iam_export`).

The pack judges the estate as a `pulumi stack export`; checkov judges the equivalent Terraform,
generated here (one ``.tf`` file per 500 resources: the same documents as heredocs, the same
environments, user data and parameters). checkov lives in its OWN virtualenv (it pins a
detect-secrets that conflicts with this project's lock): created on first use under
``$XDG_CACHE_HOME/nt-secrets-bench/checkov-venv`` (``python -m venv`` + ``pip install checkov``
from the package index), or given with ``--checkov-venv``.

Both tools run as fresh processes, each twice: on an empty input (start-up: imports, check
registry) and on the estate; resources/s after start-up = resources / (estate wall - empty wall).
checkov runs the checks the pack maps (``--check`` with every ``CKV_AWS_*`` ID the pack lists), or
all its Terraform checks with ``--all-checks``. Not a test, not part of ``make test``:

    .venv/bin/python benchmarks/checkov_compare.py [--size 10000] [--runs 1] [--checkov-venv DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from check_bench import ROOT, make_iam_export

#: Pulumi type token -> Terraform resource type, for the kinds the IAM-heavy estate holds.
TF_TYPES = {
    "aws:iam/policy:Policy": "aws_iam_policy",
    "aws:iam/rolePolicy:RolePolicy": "aws_iam_role_policy",
    "aws:iam/role:Role": "aws_iam_role",
    "aws:iam/userPolicy:UserPolicy": "aws_iam_user_policy",
    "aws:iam/groupPolicy:GroupPolicy": "aws_iam_group_policy",
    "aws:kms/key:Key": "aws_kms_key",
    "aws:s3/bucketPolicy:BucketPolicy": "aws_s3_bucket_policy",
    "aws:secretsmanager/secretPolicy:SecretPolicy": "aws_secretsmanager_secret_policy",  # pragma: allowlist secret (type names)
    "aws:sns/topicPolicy:TopicPolicy": "aws_sns_topic_policy",
    "aws:lambda/function:Function": "aws_lambda_function",
    "aws:ecs/taskDefinition:TaskDefinition": "aws_ecs_task_definition",
    "aws:ec2/instance:Instance": "aws_instance",
    "aws:ssm/parameter:Parameter": "aws_ssm_parameter",
    "aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy": (
        "aws_ssoadmin_permission_set_inline_policy"
    ),
}
#: Pulumi property names that Terraform spells differently (beyond camelCase -> snake_case).
RENAMED = {("aws_lambda_function", "name"): "function_name"}
#: Properties that are nested blocks in Terraform (a list is one block per item).
BLOCKS = {"environment": "environment", "inlinePolicies": "inline_policy"}
#: Properties that hold JSON documents: written as heredocs, as people write them.
DOCUMENTS = {"policy", "assumeRolePolicy", "inlinePolicy", "containerDefinitions"}
FILE_SIZE = 500


def snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def hcl_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, str):
        return json.dumps(value).replace("${", "$${").replace("%{", "%%{")
    if isinstance(value, list):
        return "[" + ", ".join(hcl_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{ " + ", ".join(f"{json.dumps(k)} = {hcl_value(v)}" for k, v in value.items()) + " }"
        )
    raise TypeError(type(value).__name__)


def hcl_body(tf_type: str, props: dict[str, Any], indent: str = "  ") -> list[str]:
    lines: list[str] = []
    for key, value in props.items():
        if key in BLOCKS:
            for item in value if isinstance(value, list) else [value]:
                lines.append(f"{indent}{BLOCKS[key]} {{")
                lines += hcl_body(tf_type, item, indent + "  ")
                lines.append(f"{indent}}}")
            continue
        name = RENAMED.get((tf_type, key), snake(key))
        if key in DOCUMENTS and isinstance(value, str):
            text = json.dumps(json.loads(value), indent=2).replace("${", "$${")
            lines += [f"{indent}{name} = <<EOT", text, "EOT"]
        else:
            lines.append(f"{indent}{name} = {hcl_value(value)}")
    return lines


def write_terraform(export: dict[str, Any], folder: Path) -> int:
    """The estate's resources as Terraform files; returns how many resources were written."""
    resources = [r for r in export["deployment"]["resources"] if r["type"] in TF_TYPES]
    for start in range(0, len(resources), FILE_SIZE):
        lines: list[str] = []
        for resource in resources[start : start + FILE_SIZE]:
            tf_type = TF_TYPES[resource["type"]]
            name = resource["urn"].rsplit("::", 1)[1]
            lines.append(f'resource "{tf_type}" "{name}" {{')
            lines += hcl_body(tf_type, resource["inputs"])
            lines += ["}", ""]
        (folder / f"estate_{start // FILE_SIZE:03d}.tf").write_text("\n".join(lines))
    return len(resources)


def checkov_venv(explicit: Path | None) -> Path:
    if explicit:
        return explicit
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    venv = cache / "nt-secrets-bench" / "checkov-venv"
    if not (venv / "bin" / "checkov").exists():
        print(f"creating {venv} and installing checkov (once)…", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "--quiet", "checkov"],
            check=True,
        )
    return venv


def mapped_checkov_ids() -> list[str]:
    """Every CKV_AWS/CKV2_AWS ID the pack lists (from the pack itself, in a subprocess)."""
    code = (
        "from policies.pack import ALL\n"
        "print(' '.join(sorted({c for p in ALL for c in p.spec.checkov "
        "if c.startswith(('CKV_AWS_', 'CKV2_AWS_'))})))"
    )
    out = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.split()


def timed(command: list[str], cwd: Path = ROOT) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{command[0]} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return wall, proc.stdout


def checkov_findings(stdout: str) -> int:
    try:
        parsed = json.loads(stdout)
    except ValueError:
        return -1
    reports = parsed if isinstance(parsed, list) else [parsed]
    return sum(len(r.get("results", {}).get("failed_checks", [])) for r in reports)


def pack_findings(stdout: str) -> int:
    try:
        return len(json.loads(stdout).get("violations", []))
    except (ValueError, AttributeError):
        return -1


def checkov_command(checkov: str, ids: list[str]) -> list[str]:
    command = [checkov, "--framework", "terraform", "--quiet", "--compact", "-o", "json",
               "--skip-download"]  # fmt: skip
    return [*command, "--check", ",".join(ids)] if ids else command


Row = tuple[str, int, float, float, float, int]


def measure(
    label: str,
    command: list[str],
    empty: str,
    full: str,
    cwd: Path,
    n: int,
    count: Callable[[str], int],
    runs: int,
) -> Row:
    """Median wall of ``command`` on the empty input and on the estate (the input path is
    appended; checkov takes it after ``-d``), and resources/s after start-up."""
    flag = ["-d"] if "checkov" in command[0] else []
    empties = [timed([*command, *flag, empty], cwd)[0] for _ in range(runs)]
    fulls = [timed([*command, *flag, full], cwd) for _ in range(runs)]
    start = statistics.median(empties)
    wall = statistics.median(w for w, _ in fulls)
    rate = n / (wall - start) if wall > start else float("inf")
    return label, n, start, wall, rate, count(fulls[0][1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--checkov-venv", type=Path, default=None)
    parser.add_argument("--all-checks", action="store_true")
    args = parser.parse_args()
    venv = checkov_venv(args.checkov_venv)
    checkov = str(venv / "bin" / "checkov")
    version = subprocess.run([checkov, "--version"], capture_output=True, text=True).stdout.strip()
    ids = [] if args.all_checks else mapped_checkov_ids()
    python = str(ROOT / ".venv" / "bin" / "python")
    export = make_iam_export(args.size)
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp) / "export.json"
        state.write_text(json.dumps(export))
        empty_state = Path(tmp) / "empty.json"
        empty_state.write_text(
            json.dumps({"version": 3, "deployment": {"manifest": {}, "resources": []}})
        )
        terraform, empty_tf = Path(tmp) / "tf", Path(tmp) / "empty-tf"
        terraform.mkdir()
        empty_tf.mkdir()
        (empty_tf / "main.tf").write_text("")
        n_tf = write_terraform(export, terraform)
        n_pack = len(export["deployment"]["resources"])

        rows = [
            measure(
                "pack (`nt-secrets check --state`)",
                [python, "-m", "nt_secrets.cli", "check", "--format", "json", "--state"],
                str(empty_state), str(state), ROOT, n_pack, pack_findings, args.runs,
            ),
            measure(
                f"checkov {version}", checkov_command(checkov, ids), str(empty_tf),
                str(terraform), Path(tmp), n_tf, checkov_findings, args.runs,
            ),
        ]  # fmt: skip
    print(
        f"Python {platform.python_version()} on {platform.machine()}, {args.runs} run(s) each, "
        f"checkov checks: {'all Terraform checks' if args.all_checks else ', '.join(ids)}\n"
    )
    print("| tool | resources | start-up s | wall s | resources/s after start-up | findings |")
    print("|---|---|---|---|---|---|")
    for label, n, empty, full, rate, found in rows:
        print(f"| {label} | {n} | {empty:.2f} | {full:.2f} | {rate:,.0f} | {found} |")
    print(
        f"\npack / checkov resources/s after start-up: {rows[0][4] / rows[1][4]:.1f}x (target >= 20x)"
    )


if __name__ == "__main__":
    main()
