"""Stack settings: every kind of invalid setting gives one error naming each bad key, exit code 2,
no traceback, and not a single resource registered."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.catalog import Environment
from infra.program import main
from infra.settings import SettingsError
from infra.stack import parse_settings
from nt_secrets.stackfile import read_stack

from .conftest import PROJECT_SCHEMA, ROOT, capture_failing, reference_file

NS = "neural-trader-secrets:"
OIDC = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE0123"
MASTER = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db/master-Ab12Cd"
DB = {"host": "db.internal", "database": "app", "username": "app", "masterSecret": MASTER}
REDIS = {"host": "redis.internal", "username": "app", "masterSecret": MASTER}


def _dbs(**changes: Any) -> str:
    return json.dumps({"DATABASE_URL": DB | changes, "TIMESCALE_URL": DB})


def dev_config() -> dict[str, str]:
    return dict(read_stack(ROOT, "dev").config)


def _aws(**changes: Any) -> str:
    """The dev stack's AWS block with ``changes`` (None removes a key)."""
    block = json.loads(dev_config()[NS + "aws"]) | changes
    return json.dumps({k: v for k, v in block.items() if v is not None})


def prod_config() -> dict[str, str]:
    return dict(read_stack(ROOT, "prod").config)


def test_project_stacks_are_valid() -> None:
    assert parse_settings(dev_config()).environment is Environment.DEVELOPMENT
    prod = parse_settings(prod_config())
    assert (
        prod.is_production
        and prod.recovery_window == 30
        and prod.protected
        and prod.audit_trail_enabled
    )


INVALID: list[tuple[str, dict[str, Any], set[str], str]] = [
    ("missing environment", {NS + "environment": None}, {NS + "environment"}, "required"),
    ("unknown environment", {NS + "environment": "qa"}, {NS + "environment"}, "development"),
    ("bad region", {NS + "aws": _aws(region="mars-1")}, {NS + "aws.region"}, "region"),
    ("bad account", {NS + "aws": _aws(accountId="12345")}, {NS + "aws.accountId"}, "12-digit"),
    (
        "no AWS block with AWS enabled",
        {NS + "aws": None},
        {NS + "aws.region", NS + "aws.accountId"},
        "required",
    ),
    ("unknown AWS setting", {NS + "aws": _aws(colour="blue")}, {NS + "aws.colour"}, "Extra"),
    (
        "a setting that moved into the AWS block",
        {NS + "accountId": "123456789012"},
        {NS + "accountId"},
        "moved to neural-trader-secrets:aws.accountId",
    ),
    (
        "a block for a backend that is not enabled",
        {NS + "backends": '["aws", "gcp"]'},
        # The placement names the stores left out: its default home, and Azure's services.
        {NS + "vault", NS + "azure", NS + "kubernetes", NS + "placement.home", NS + "placement"},
        "`backends` does not enable",
    ),
    (
        "a block for a registered backend the stack does not enable",
        {NS + "backends": '["aws", "vault", "gcp", "azure"]'},
        {NS + "kubernetes"},
        "`backends` does not enable",
    ),
    ("unknown key", {NS + "colour": "blue"}, {NS + "colour"}, "unknown setting"),
    (
        "unknown backend",
        {NS + "backends": '["oracle"]'},
        {NS + "backends", NS + "aws", NS + "vault", NS + "gcp", NS + "azure", NS + "kubernetes"},
        "unknown backend 'oracle' (available: aws, azure, gcp, kubernetes, vault)",
    ),
    (
        "wildcard principal",
        {NS + "aws": _aws(principals={"backtest": ["*"]})},
        {NS + "aws.principals.backtest"},
        "wildcard",
    ),
    (
        "principal that is not an ARN",
        {NS + "aws": _aws(principals={"admin": ["bob"]})},
        {NS + "aws.principals.admin"},
        "not an IAM principal",
    ),
    (
        "recovery window too short",
        {NS + "recoveryWindowDays": "3"},
        {NS + "recoveryWindowDays"},
        "7",
    ),
    (
        "rotation override lengthens the schedule",
        {NS + "rotationOverrides": json.dumps({"api_key": 120})},
        {NS + "rotationOverrides.api_key"},
        "only shorten",
    ),
    (
        "rotation override of a non-rotated entry",
        {NS + "rotationOverrides": json.dumps({"LOG_LEVEL": 10})},
        {NS + "rotationOverrides.LOG_LEVEL"},
        "not rotated",
    ),
    (
        "revoked secret that is not stored here",
        {NS + "revoked": json.dumps(["COINBASE_API_KEY"])},
        {NS + "revoked"},
        "not a secret stored",
    ),
    (
        "plaintext secret value",
        {NS + "OPENAI_API_KEY": "sk-FAKE0000000000000000000000000000"},  # pragma: allowlist secret
        {NS + "OPENAI_API_KEY"},
        "--secret",
    ),
    (
        "value for a generated secret",
        {NS + "JWT_SECRET": "x"},
        {NS + "JWT_SECRET"},
        "generated",
    ),
    (
        "missing database endpoint",
        {NS + "databases": json.dumps({})},
        {NS + "databases.DATABASE_URL", NS + "databases.TIMESCALE_URL"},
        "required",
    ),
    (
        "database without the master secret its rotation needs",
        {
            NS + "databases": json.dumps(
                {"DATABASE_URL": DB, "TIMESCALE_URL": DB | {"masterSecret": None}}
            )
        },
        {NS + "databases.TIMESCALE_URL.masterSecret"},
        "postgres-alternating-users",
    ),
    (
        "master secret that is not a secret ARN",
        {NS + "databases": _dbs(masterSecret="neural-trader/db-master")},
        {NS + "databases.DATABASE_URL.masterSecret"},
        "not a Secrets Manager secret ARN",
    ),
    (
        "master secret whose ARN no tag can carry (RDS-managed rds!cluster-...)",
        {NS + "databases": _dbs(masterSecret=MASTER.replace("db/master", "rds!cluster-0a1b"))},
        {NS + "databases.DATABASE_URL.masterSecret"},
        "cannot be a tag value",
    ),
    (
        "master secret of another account",
        {NS + "databases": _dbs(masterSecret=MASTER.replace("123456789012", "999999999999"))},
        {NS + "databases.DATABASE_URL.masterSecret"},
        "this stack's account",
    ),
    ("missing redis server", {NS + "redis": None}, {NS + "redis"}, "required by redis-acl"),
    (
        "redis without a master secret",
        {NS + "redis": json.dumps({"host": "redis.internal", "username": "app"})},
        {NS + "redis.masterSecret"},
        "required",
    ),
    (
        "redis with a bad ACL user",
        {NS + "redis": json.dumps(REDIS | {"username": "app user"})},
        {NS + "redis.username"},
        "ACL user",
    ),
    (
        "redis with a bad port",
        {NS + "redis": json.dumps(REDIS | {"port": 0})},
        {NS + "redis.port"},
        "greater than or equal to 1",
    ),
    (
        "several problems at once",
        {NS + "aws": _aws(region="nowhere", accountId="abc"), NS + "colour": "x"},
        {NS + "aws.region", NS + "aws.accountId", NS + "colour"},
        "",
    ),
]


@pytest.mark.parametrize(("case", "change", "keys", "text"), INVALID, ids=[c[0] for c in INVALID])
def test_invalid_settings_name_every_bad_key(
    case: str, change: dict[str, Any], keys: set[str], text: str
) -> None:
    config = dev_config()
    for k, v in change.items():
        if v is None:
            config.pop(k, None)
        else:
            config[k] = v
    secret_keys = [NS + "JWT_SECRET"] if NS + "JWT_SECRET" in config else []
    with pytest.raises(SettingsError) as err:
        parse_settings(config, secret_keys=secret_keys)
    assert {p[0] for p in err.value.problems} == keys, err.value
    assert text in str(err.value)

    # The program itself refuses the same settings before registering anything.
    cap, exc = capture_failing(main, config=config, secret_keys=secret_keys)
    assert isinstance(exc, SettingsError)
    assert [r.type for r in cap.resources] == ["pulumi:pulumi:Stack"]


def test_production_refuses_short_recovery_and_unprotected_resources() -> None:
    config = prod_config() | {NS + "recoveryWindowDays": "7", NS + "protect": "false"}
    with pytest.raises(SettingsError, match="production"):
        parse_settings(config)


def test_production_refuses_redis_without_tls() -> None:
    redis = json.loads(prod_config()[NS + "redis"]) | {"tls": False}
    with pytest.raises(SettingsError, match=r"redis\.tls cannot be turned off"):
        parse_settings(prod_config() | {NS + "redis": json.dumps(redis)})


def test_redis_in_an_environment_without_redis_acl_secret_is_refused() -> None:
    config = dev_config() | {NS + "environment": "ci"}
    config.pop(NS + "databases")
    config[NS + "databases"] = json.dumps({"DATABASE_URL": DB})
    with pytest.raises(SettingsError) as err:
        parse_settings(config)
    assert {p[0] for p in err.value.problems} == {NS + "redis"}
    assert "no redis-acl secret" in str(err.value)


def test_rotation_override_shortens_only(dev: Any) -> None:
    settings = parse_settings(dev_config())
    from infra.catalog import default_catalog

    cat = default_catalog()
    assert settings.rotation_days(cat.get("OPENAI_API_KEY")) == 30  # dev shortens api keys to 30
    assert settings.rotation_days(cat.get("JWT_SECRET")) == 365


def _project_copy(tmp_path: Path, stack_config: dict[str, Any]) -> Path:
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    (tmp_path / "Pulumi.bad.yaml").write_text(yaml.safe_dump({"config": stack_config}))
    return tmp_path


def test_cli_reports_bad_settings_with_exit_2_and_no_traceback(tmp_path: Path) -> None:
    base = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"]
    base[NS + "aws"]["accountId"] = "12"
    base[NS + "aws"]["principals"]["backtest"] = ["*"]
    base[NS + "surprise"] = True
    project = _project_copy(tmp_path, base)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "nt_secrets.cli",
            "plan",
            "--stack",
            "bad",
            "--project-dir",
            str(project),
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    for key in ("aws.accountId", "aws.principals.backtest", "surprise"):
        assert f"{NS}{key}" in proc.stderr


def test_project_file_validates_against_pulumis_schema() -> None:
    import jsonschema

    schema = json.loads(reference_file(PROJECT_SCHEMA).read_text())
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    jsonschema.validate(project, schema)
    assert project["name"] == "neural-trader-secrets"
    assert project["runtime"]["name"] == "python" and project["runtime"]["options"]["virtualenv"]


def test_production_uses_a_kms_secrets_provider() -> None:
    prod = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())
    assert prod["secretsprovider"].startswith("awskms://")
    assert "encryptionsalt" not in prod  # a passphrase provider would leave a salt here
