"""The command line as a user runs it: outputs, JSON schema, exit codes, and no secret ever printed."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from infra.catalog import Environment, default_catalog
from infra.stack import parse_settings
from nt_secrets.cli import main
from nt_secrets.stackfile import read_stack
from tests.plans import run_cli

from .conftest import REAL_STACKS, ROOT, reference_file

NS = "neural-trader-secrets:"


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """``nt-secrets *args`` in this process (exit code, stdout, stderr). The program run as a process
    is tested in test_golden_plan.py, test_hardening.py and test_startup.py."""
    return run_cli(*args, cwd=cwd)


def test_plan_json_schema_for_prod() -> None:
    proc = run("plan", "--stack", "prod", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert set(doc) >= {"stack", "project", "resources", "violations", "summary"}
    assert (
        doc["stack"] == "prod"
        and doc["project"] == "neural-trader-secrets"
        and doc["violations"] == []
    )
    for r in doc["resources"]:
        assert set(r) == {
            "urn",
            "type",
            "name",
            "parent",
            "custom",
            "inputs",
            "secret_paths",
            "options",
            "dependencies",
        }
        for path in r["secret_paths"]:
            node: object = r["inputs"]
            for part in re.findall(r"[^.\[\]]+", path):
                node = node[int(part)] if isinstance(node, list) else node[part]  # type: ignore[index]
            assert node == "[secret]"
    assert [r["urn"] for r in doc["resources"]] == sorted(r["urn"] for r in doc["resources"])
    # Secrets Manager holds the secrets production homes there (its databases and Redis).
    settings = parse_settings(read_stack(ROOT, "prod").config)
    homed = [p for p in settings.placements.values() if "aws" in p.stores]
    assert len(settings.placements) == len(default_catalog().stored_in(Environment.PRODUCTION))
    assert doc["summary"]["byType"]["aws:secretsmanager/secret:Secret"] == len(homed) == 3


def test_plan_text_shows_the_tree_and_counts() -> None:
    proc = run("plan", "--stack", "dev")
    assert proc.returncode == 0, proc.stderr
    assert "neural-trader:aws:SecretStore" in proc.stdout and "Resources by type" in proc.stdout
    assert "aws:secretsmanager/secret:Secret × 3" in proc.stdout  # dev's databases and Redis


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("plan", "--stack", "staging"), "no stack file Pulumi.staging.yaml"),
        (("plan", "--stack", "dev", "--project-dir", "/nonexistent"), "Pulumi.yaml"),
        (("plan",), "--stack"),
        (("env-template", "--environment", "qa"), "invalid choice"),
        (("frobnicate",), "invalid choice"),
        (("rotate", "JWT_SECRET", "--now", "--stack", "dev", "--timeout", "nan"), "--timeout"),
        (("rotate", "JWT_SECRET", "--now", "--stack", "dev", "--timeout", "inf"), "--timeout"),
    ],
)
def test_bad_input_exits_2_without_traceback(args: tuple[str, ...], message: str) -> None:
    proc = run(*args)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr and proc.stdout == ""


def _project(tmp_path: Path, config: dict[str, object]) -> Path:
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    base = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    base["config"].update(config)
    (tmp_path / "Pulumi.t.yaml").write_text(yaml.safe_dump(base))
    return tmp_path


def test_secure_config_values_become_unknown_secrets(tmp_path: Path) -> None:
    project = _project(
        tmp_path,
        {NS + "OPENAI_API_KEY": {"secure": "v1:AAAAAAAAAAAAAAAA:bm90LWEtcmVhbC1jaXBoZXJ0ZXh0"}},
    )
    proc = run("plan", "--stack", "t", "--project-dir", str(project), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    # The supplied value goes to the key's home, GCP Secret Manager, as a secret.
    version = next(r for r in doc["resources"] if r["name"] == "openai-api-key-value")
    assert version["type"] == "gcp:secretmanager/secretVersion:SecretVersion"
    assert (
        version["secret_paths"] == ["secretData"] and version["inputs"]["secretData"] == "[secret]"
    )
    assert "bm90LWEtcmVhbC1jaXBoZXJ0ZXh0" not in proc.stdout


def test_plaintext_secret_in_stack_file_is_refused(tmp_path: Path) -> None:
    fake = "sk-ant-api03-FAKE" + "0" * 40  # pragma: allowlist secret
    project = _project(tmp_path, {NS + "ANTHROPIC_API_KEY": fake})
    proc = run("plan", "--stack", "t", "--project-dir", str(project))
    assert proc.returncode == 2
    assert NS + "ANTHROPIC_API_KEY" in proc.stderr and "--secret" in proc.stderr
    assert fake not in proc.stderr + proc.stdout


def test_broken_catalog_file_is_refused_before_anything_runs(tmp_path: Path) -> None:
    data = yaml.safe_load((ROOT / "infra" / "catalog.yaml").read_text())
    data["entries"].append(dict(data["entries"][0]))
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(yaml.safe_dump(data))
    proc = run("plan", "--stack", "dev", "--catalog", str(catalog))
    assert proc.returncode == 2
    assert (
        "ALPACA_API_KEY" in proc.stderr
        and "duplicate" in proc.stderr
        and "Traceback" not in proc.stderr
    )


def test_catalog_json_lists_every_entry(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "--format", "json"]) == 0
    entries = json.loads(capsys.readouterr().out)
    assert len(entries) == 66
    assert all({"name", "sensitive"} <= set(e) for e in entries)
    assert next(e for e in entries if e["name"] == "JWT_SECRET")["rotation_days"] == 365


@pytest.mark.parametrize("environment", [e.value for e in Environment])
def test_env_template_has_placeholders_and_never_a_value(
    environment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["env-template", "--environment", environment]) == 0
    out = capsys.readouterr().out
    env = Environment(environment)
    needed = {
        e.name for e in default_catalog().needed_in(env) if e.source.value != "workload-identity"
    }
    assigned = {}
    for line in out.splitlines():
        if not line or line.startswith("#"):
            continue
        name, _, value = line.partition("=")
        assert value in ("", f"${{{name}}}"), line
        assigned[name] = value
    assert set(assigned) == needed
    for e in default_catalog().needed_in(env):
        if e.stored:
            assert assigned[e.name] == f"${{{e.name}}}"
    assert "AWS_SECRET_ACCESS_KEY=" not in out


def test_policy_reference_doc_is_in_sync() -> None:
    from nt_secrets.cli import policies_markdown

    assert (ROOT / "docs" / "policies.md").read_text() == policies_markdown(), (
        "docs/policies.md is stale: run `nt-secrets policies --format markdown > docs/policies.md`"
    )


def test_plan_fails_with_exit_1_on_a_mandatory_violation(tmp_path: Path) -> None:
    """A credential committed in plaintext to a stack file under a key no setting reads."""
    fake = "xoxb-123456789012-123456789012-FAKEfakeFAKEfakeFAKEfake"  # pragma: allowlist secret
    project = _project(tmp_path, {"aws:slackToken": fake})
    proc = run("plan", "--stack", "t", "--project-dir", str(project), "--format", "json")
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    lint = [
        v for v in doc["violations"] if v["policy"] == "pulumi-stackconfig-plaintext-credentials"
    ]
    assert len(lint) == 1 and "aws:slackToken" in lint[0]["message"]
    assert fake not in proc.stdout + proc.stderr


def test_policy_pack_config_file_is_validated(tmp_path: Path) -> None:
    cfg = tmp_path / "policy.json"
    cfg.write_text(json.dumps({"aws-kms-deletion-window": {"minimumDays": 1}}))
    proc = run("plan", "--stack", "dev", "--policy-pack-config", str(cfg))
    assert proc.returncode == 2 and "minimumDays" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("state", "code", "policies"),
    [
        ("azure-rmq-dev-checkpoint.json", 1, {"state-plaintext-secret"}),
        (
            "gcp-gke-dev-checkpoint.json",
            1,
            {
                "gcp-gke-secrets-encryption",  # databaseEncryption DECRYPTED
                "gcp-gke-metadata-server",  # no Workload Identity: pods reach node credentials
            },
        ),
        (
            "pulumi-testdata-checkpoint-secrets.json",
            1,
            {
                "aws-iam-no-broad-managed-policies",  # AWSLambdaFullAccess & co. attached
                "aws-cloudwatch-log-group-retention-kms",  # function logs not KMS-encrypted
                "aws-sns-topic-kms",  # topics unencrypted
                "aws-lambda-permission-scoped",  # logs.<region>.amazonaws.com without SourceArn
            },
        ),
    ],
)
def test_check_real_state_files(state: str, code: int, policies: set[str]) -> None:
    path = reference_file(REAL_STACKS / state)
    proc = run("check", "--state", str(path), "--format", "json")
    assert proc.returncode == code, proc.stderr
    doc = json.loads(proc.stdout)
    assert {v["policy"] for v in doc["violations"]} == policies
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("fmt", ["text", "json", "markdown", "sarif"])
def test_check_formats_never_print_a_stored_credential(fmt: str) -> None:
    path = reference_file(REAL_STACKS / "azure-rmq-dev-checkpoint.json")
    proc = run("check", "--state", str(path), "--format", fmt)
    assert proc.returncode == 1
    assert "Password1234!" not in proc.stdout  # the state's plaintext adminPassword
    state = json.loads(path.read_text())
    for r in state["checkpoint"]["latest"]["resources"]:
        key = (r.get("outputs") or {}).get("primaryAccessKey")
        if key:
            assert key not in proc.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [("{not json", "not JSON"), ('{"version": 3}', "Pulumi"), ("[]", "Pulumi")],
)
def test_check_bad_state_exits_2(tmp_path: Path, content: str, message: str) -> None:
    bad = tmp_path / "state.json"
    bad.write_text(content)
    proc = run("check", "--state", str(bad))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and proc.stdout == ""
    assert message.lower() in proc.stderr.lower()


def test_check_stack_reports_sarif() -> None:
    proc = run("check", "--stack", "dev", "--format", "sarif")
    doc = json.loads(proc.stdout)
    assert doc["version"] == "2.1.0" and doc["runs"][0]["tool"]["driver"]["name"] == "nt-secrets"


FAKE_SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzz9pQ1mNkT"  # pragma: allowlist secret


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (f"config:\n  aws:secretKey: {FAKE_SECRET_KEY}: x\n", "line 2"),
        (f'config:\n  x: "unterminated {FAKE_SECRET_KEY}\n', "not valid YAML"),
        ("config:\n  environment: &a [*a]\n", "recursive"),
        ("config: [1, 2]\n", "'config' must be a mapping"),
    ],
)
def test_broken_stack_files_exit_2_without_quoting_them(
    tmp_path: Path, content: str, message: str
) -> None:
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    (tmp_path / "Pulumi.x.yaml").write_text(content)
    proc = run("plan", "--stack", "x", "--project-dir", str(tmp_path))
    assert proc.returncode == 2 and proc.stdout == "" and "Traceback" not in proc.stderr
    assert message in proc.stderr
    assert FAKE_SECRET_KEY[:12] not in proc.stderr


def test_deeply_nested_policy_config_is_bad_input(tmp_path: Path) -> None:
    cfg = tmp_path / "deep.json"
    cfg.write_text("[" * 100_000 + "]" * 100_000)
    proc = run("plan", "--stack", "dev", "--policy-pack-config", str(cfg))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
