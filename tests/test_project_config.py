"""``Pulumi.yaml``'s ``config:`` block (Pulumi >= 3.44 project config) merged as Pulumi merges it:
stack values override project defaults; declarations checked as ``Project.Validate`` checks them;
every value it carries linted like the stack files, and never printed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from nt_secrets.lint import lint_stack_file
from nt_secrets.stackfile import StackFileError, read_stack
from tests.plans import run_cli

from .conftest import PROJECT_SCHEMA, ROOT, reference_file

NS = "neural-trader-secrets:"


def cli(*args: str) -> Any:
    return run_cli(*args, cwd=ROOT)


def _project(
    tmp_path: Path, project_config: Any, stack_config: dict[str, Any] | None = None
) -> Path:
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    project["config"] = project_config
    (tmp_path / "Pulumi.yaml").write_text(yaml.safe_dump(project))
    stack = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    stack["config"].update(stack_config or {})
    (tmp_path / "Pulumi.dev.yaml").write_text(yaml.safe_dump(stack))
    return tmp_path


def _plan(project_dir: Path) -> dict[str, Any]:
    proc = cli("plan", "--stack", "dev", "--project-dir", str(project_dir), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    return {r["urn"]: r["inputs"] for r in json.loads(proc.stdout)["resources"]}


REVOKED_DECL = {
    "revoked": {"type": "array", "items": {"type": "string"}, "default": ["JWT_SECRET"]}
}


def test_a_revoked_default_in_pulumi_yaml_revokes_and_a_stack_value_overrides_it(
    tmp_path: Path,
) -> None:
    (tmp_path / "a").mkdir()
    baseline = _plan(_project(tmp_path / "a", None))
    (tmp_path / "b").mkdir()
    from_project = _plan(_project(tmp_path / "b", REVOKED_DECL))
    (tmp_path / "c").mkdir()
    in_stack = _plan(_project(tmp_path / "c", None, {NS + "revoked": ["JWT_SECRET"]}))
    (tmp_path / "d").mkdir()
    overridden = _plan(_project(tmp_path / "d", REVOKED_DECL, {NS + "revoked": []}))
    assert from_project == in_stack != baseline  # the default revokes, as if written in the stack
    changed = {u.rsplit("::", 1)[-1] for u in baseline if baseline[u] != from_project[u]}
    assert "jwt-secret" in changed  # the Vault KV secret of JWT_SECRET, its home
    assert overridden == baseline  # the stack's own value wins


@pytest.mark.parametrize(
    ("project_config", "config_key", "expected"),
    [
        # a bare value is a default (project keys) or a value (other namespaces)
        ({"revoked": ["JWT_SECRET"]}, NS + "revoked", '["JWT_SECRET"]'),
        ({"protect": True}, NS + "protect", "true"),
        ({"recoveryWindowDays": 14}, NS + "recoveryWindowDays", "14"),
        ({"aws:region": "eu-west-1"}, "aws:region", "us-east-1"),  # the stack sets it
        ({"aws:skipMetadataApiCheck": "false"}, "aws:skipMetadataApiCheck", "false"),
        ({"aws:skipMetadataApiCheck": {"value": True}}, "aws:skipMetadataApiCheck", "true"),
        ({NS + "auditTrail": {"default": True}}, NS + "auditTrail", "true"),
        (
            {"notifications": {"value": {"emails": ["a@example.com"]}}},
            NS + "notifications",
            '{"emails": ["a@example.com"]}',
        ),
        ({"protect": {"type": "boolean", "description": "d"}}, NS + "protect", None),
    ],
)
def test_project_values_reach_the_program_as_pulumi_gives_them(
    tmp_path: Path, project_config: dict[str, Any], config_key: str, expected: str | None
) -> None:
    stack = {NS + "protect": False} if expected is None else {}
    config = read_stack(_project(tmp_path, project_config, stack), "dev").config
    assert config[config_key] == (expected if expected is not None else "false")


FAKE_TOKEN = "xoxb-123456789012-123456789012-FAKEfakeFAKEfakeFAKEfake"  # pragma: allowlist secret
SECRET = "sk-ant-api03-FAKE" + "0" * 40  # pragma: allowlist secret


@pytest.mark.parametrize(
    ("project_config", "fake", "exit_code"),
    [
        # under a key no setting reads: the lint reports it (exit 1)
        ({"aws:slackToken": FAKE_TOKEN}, FAKE_TOKEN, 1),
        ({"aws:slackToken": {"value": FAKE_TOKEN}}, FAKE_TOKEN, 1),
        ({"aws:slack": {"value": {"nested": [FAKE_TOKEN]}}}, FAKE_TOKEN, 1),
        # as the default of a supplied secret: the settings refuse it as in a stack file (exit 2)
        ({"ANTHROPIC_API_KEY": SECRET}, SECRET, 2),
        ({"ANTHROPIC_API_KEY": {"type": "string", "default": SECRET}}, SECRET, 2),
    ],
)
def test_a_credential_in_pulumi_yaml_is_found_and_never_shown(
    tmp_path: Path, project_config: dict[str, Any], fake: str, exit_code: int
) -> None:
    project = _project(tmp_path, project_config)
    found = lint_stack_file(read_stack(project, "dev"))
    assert len(found) == (exit_code == 1)  # a supplied secret's key is the settings' to refuse
    assert all(v.message.startswith("Pulumi.yaml: ") and fake not in v.message for v in found)
    for command in ("plan", "check"):
        proc = cli(command, "--stack", "dev", "--project-dir", str(project), "--format", "json")
        assert proc.returncode == exit_code, proc.stderr
        assert fake not in proc.stdout + proc.stderr
        if exit_code == 1:
            lint = [
                v
                for v in json.loads(proc.stdout)["violations"]
                if v["policy"] == "pulumi-stackconfig-plaintext-credentials"
            ]
            assert len(lint) == 1 and lint[0]["message"].startswith("Pulumi.yaml: ")
        else:
            assert "ANTHROPIC_API_KEY" in proc.stderr and "--secret" in proc.stderr


@pytest.mark.parametrize(
    ("project_config", "stack_config", "message"),
    [
        (
            {"revoked": {"defualt": ["JWT_SECRET"]}},
            {},
            "config.revoked: unknown attribute 'defualt'",
        ),
        ({"revoked": {"default": ["A"], "value": ["B"]}}, {}, "config.revoked: cannot have both"),
        ({"revoked": {"type": "list", "items": {"type": "string"}}}, {}, "config.revoked.type"),
        ({"revoked": {"type": "array", "default": []}}, {}, "config.revoked: declares an array"),
        (
            {"revoked": {"type": "array", "items": {"type": "strin"}}},
            {},
            "config.revoked.items.type",
        ),
        ({"revoked": {"type": "array", "items": {}}}, {}, "config.revoked.items.type"),
        ({"revoked": {"type": "array", "items": "string"}}, {}, "config.revoked.items"),
        ({"protect": {"type": "boolean", "default": "yes"}}, {}, "config.protect.default"),
        (
            {"recoveryWindowDays": {"type": "integer", "default": True}},
            {},
            "config.recoveryWindowDays.default",
        ),
        ({"protect": {"secret": "no"}}, {}, "config.protect.secret"),
        ({"protect": {"description": 3}}, {}, "config.protect.description"),
        ({"ratio": 1.5}, {}, "config.ratio: a bare value"),
        ({"aws:region": {"type": "string", "value": "x"}}, {}, "config.aws:region: not namespaced"),
        ({"aws:region": {"default": "x"}}, {}, "config.aws:region: not namespaced"),
        ({"aws:region": {"description": "d"}}, {}, "config.aws:region: not namespaced"),
        ({"owner": {"type": "string"}}, {}, "missing configuration value 'owner'"),
        (
            {"protect": {"type": "boolean"}},
            {NS + "protect": "maybe"},
            "neural-trader-secrets:protect: must be of type 'boolean'",
        ),
        (
            {"revoked": {"type": "array", "items": {"type": "integer"}}},
            {NS + "revoked": ["JWT_SECRET"]},
            "must be of type 'array<integer>'",
        ),
        (
            {"ANTHROPIC_API_KEY": {"type": "string", "secret": True}},
            {NS + "ANTHROPIC_API_KEY": SECRET},
            "declares it secret",
        ),
        ([1, 2], {}, "config: must be a mapping"),
    ],
)
def test_bad_project_config_exits_2_naming_the_key(
    tmp_path: Path, project_config: Any, stack_config: dict[str, Any], message: str
) -> None:
    project = _project(tmp_path, project_config, stack_config)
    with pytest.raises(StackFileError, match=None) as raised:
        read_stack(project, "dev")
    assert message in str(raised.value)
    proc = cli("plan", "--stack", "dev", "--project-dir", str(project))
    assert proc.returncode == 2 and message in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert SECRET not in proc.stderr and "yes" not in proc.stderr.split(":")[-1]


def test_a_secure_stack_value_satisfies_a_secret_declaration(tmp_path: Path) -> None:
    ciphertext = {"secure": "v1:AAAAAAAAAAAAAAAA:bm90LWEtcmVhbC1jaXBoZXJ0ZXh0"}
    project = _project(
        tmp_path,
        {"OPENAI_API_KEY": {"type": "string", "secret": True}},
        {NS + "OPENAI_API_KEY": ciphertext},
    )
    config = read_stack(project, "dev")
    assert NS + "OPENAI_API_KEY" in config.secret_keys


@pytest.mark.parametrize(
    "project_config",
    [
        {"protect": True, "recoveryWindowDays": 14},
        REVOKED_DECL,
        {
            "protect": {
                "type": "boolean",
                "description": "protect resources",
                "secret": False,
                "default": False,
            }
        },
    ],
)
def test_accepted_shapes_are_valid_against_pulumis_project_schema(
    tmp_path: Path, project_config: dict[str, Any]
) -> None:
    """What the reader accepts, Pulumi's own JSON schema (tests/fixtures/reference) accepts too
    (the vendored schema predates ``value`` and bare lists, which ``project.go`` reads)."""
    import jsonschema

    schema = json.loads(reference_file(PROJECT_SCHEMA).read_text())
    read_stack(_project(tmp_path, project_config), "dev")
    project = yaml.safe_load((tmp_path / "Pulumi.yaml").read_text())
    jsonschema.validate(project, schema)


def test_explain_sees_a_revoked_default(tmp_path: Path) -> None:
    project = _project(tmp_path, REVOKED_DECL)
    proc = cli(
        "explain", "JWT_SECRET", "--stack", "dev", "--project-dir", str(project), "--format", "json"
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["revoked"] is True
    proc = cli("explain", "JWT_SECRET", "--stack", "dev", "--format", "json")
    assert json.loads(proc.stdout)["revoked"] is False


def test_env_pull_and_env_esc_see_project_config(tmp_path: Path) -> None:
    """A stack file without ``environment`` takes the project's default: production here, which
    ``env pull`` refuses and ``env esc`` names."""
    project = _project(tmp_path, {"environment": "production"})
    stack = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())
    del stack["config"][NS + "environment"]
    (project / "Pulumi.dev.yaml").write_text(yaml.safe_dump(stack))
    out = tmp_path / "out.env"
    proc = cli("env", "pull", "--stack", "dev", "--project-dir", str(project), "--output", str(out))
    assert proc.returncode == 2 and "production stack" in proc.stderr and not out.exists()
    proc = cli("env", "esc", "--stack", "dev", "--project-dir", str(project), "--layer", "env")
    assert proc.returncode == 0, proc.stderr
    assert "# ESC environment neural-trader-secrets/production" in proc.stdout


@pytest.mark.parametrize(
    ("project_config", "key"),
    [
        ({"aws:sharedSetting": {"value": "plain-text-here", "secret": True}}, "aws:sharedSetting"),
        (
            {"ANTHROPIC_API_KEY": {"type": "string", "secret": True, "default": "x"}},
            NS + "ANTHROPIC_API_KEY",
        ),
    ],
)
def test_a_secret_declaration_with_a_plaintext_default_is_a_violation(
    tmp_path: Path, project_config: dict[str, Any], key: str
) -> None:
    """Whatever its shape: Pulumi hands such a default to the program as plain config."""
    project = _project(tmp_path, project_config)
    found = lint_stack_file(read_stack(project, "dev"))
    assert [v.message.split(": ")[:2] for v in found] == [["Pulumi.yaml", key]]
    if key.startswith("aws:"):
        proc = cli("plan", "--stack", "dev", "--project-dir", str(project), "--format", "json")
        assert proc.returncode == 1 and "plain-text-here" not in proc.stdout + proc.stderr


def test_a_secret_declaration_without_a_default_is_fine(tmp_path: Path) -> None:
    ciphertext = {"secure": "v1:AAAAAAAAAAAAAAAA:bm90LWEtcmVhbC1jaXBoZXJ0ZXh0"}
    project = _project(
        tmp_path, {"OPENAI_API_KEY": {"secret": True}}, {NS + "OPENAI_API_KEY": ciphertext}
    )
    assert lint_stack_file(read_stack(project, "dev")) == []


@pytest.mark.parametrize(
    ("extra", "found"),
    [
        ({"config": "stacks"}, True),  # the deprecated spelling of stackConfigDir
        ({"stackConfigDir": "stacks"}, True),
        ({"config": "stacks", "stackConfigDir": "stacks"}, False),
    ],
)
def test_the_deprecated_config_directory_spelling(
    tmp_path: Path, extra: dict[str, Any], found: bool
) -> None:
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    (tmp_path / "Pulumi.yaml").write_text(yaml.safe_dump({**project, **extra}))
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.dev.yaml").write_text((ROOT / "Pulumi.dev.yaml").read_text())
    if found:
        assert read_stack(tmp_path, "dev").path == tmp_path / "stacks" / "Pulumi.dev.yaml"
    else:
        with pytest.raises(StackFileError, match="keep stackConfigDir"):
            read_stack(tmp_path, "dev")
