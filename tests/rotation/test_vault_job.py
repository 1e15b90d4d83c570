"""The Vault rotation job under its own least-privilege identity, on OpenBao; the replica map."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import hvac.exceptions
import pytest

from infra.rotation.driver import META_LAST_ROTATED
from infra.rotation.errors import ContractError
from infra.rotation.replicas import ENV_REPLICAS, Clients, parse_replicas
from infra.rotation.vault_job import ENV_SECRETS, VaultJob, main
from infra.rotation.vault_store import VaultAddress, job_policy
from tests.vault.server import BaoServer

from .conftest import unique
from .test_store_contract import GENERATED, SEED, _vault


def _job_token(server: BaoServer, rotated: list[VaultAddress], admin: list[VaultAddress]) -> str:
    root = server.client()
    name = unique("rotation-job")
    root.sys.create_or_update_policy(name, job_policy(rotated, admin_secrets=admin))
    resp = root.auth.token.create(policies=[name], no_default_policy=True, ttl="10m")
    return str(resp["auth"]["client_token"])


@pytest.mark.servers
def test_vault_rotation_job_works_with_exactly_its_policy(bao: BaoServer) -> None:
    h = _vault(bao)
    inside = VaultAddress.parse(h.create(unique("svc/JWT_SECRET"), SEED, GENERATED))
    outside = VaultAddress.parse(h.create(unique("svc/OTHER"), SEED, GENERATED))
    job = VaultJob(bao.client(_job_token(bao, [inside], [])), [inside, outside], {}, Clients())
    outcome = job.rotate(inside)
    assert outcome.result == "rotated"
    data = h.client.secrets.kv.v2.read_secret_version(
        inside.path, mount_point=inside.mount, raise_on_deleted_version=True
    )["data"]
    assert data["data"]["value"] != SEED and data["metadata"]["version"] == 2
    with pytest.raises(hvac.exceptions.Forbidden):
        job.rotate(outside)
    assert h.current(outside.secret_id) == SEED


def test_vault_rotation_job_policy_is_exact() -> None:
    a = VaultAddress("nt/prod", "trading/JWT_SECRET")
    text = job_policy([a], admin_secrets=[VaultAddress("nt/prod", "db/MASTER")])
    assert "*" not in text and "+" not in text
    assert '"nt/prod/data/db/MASTER" {\n  capabilities = ["read"]' in text
    for forbidden in ("delete", "destroy", "list", "sudo", "sys/"):
        assert forbidden not in text


@pytest.mark.servers
def test_vault_rotation_job_finds_due_secrets(bao: BaoServer) -> None:
    h = _vault(bao)
    fresh = VaultAddress.parse(h.create(unique("svc/JWT_SECRET"), SEED, GENERATED))
    old = VaultAddress.parse(h.create(unique("svc/JWT_SECRET"), SEED, GENERATED))
    never = VaultAddress.parse(
        h.create(unique("svc/PLAIN"), SEED, {"rotation-strategy": "none", "rotation-class": "none"})
    )
    long_ago = (datetime.now(UTC) - timedelta(days=366)).isoformat()
    h.client.adapter.request(
        "PATCH",
        f"/v1/{old.mount}/metadata/{old.path}",
        json={"custom_metadata": {META_LAST_ROTATED: long_ago}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    job = VaultJob(h.client, [fresh, old, never], {}, Clients())
    assert job.due() == [old]
    in_a_year = datetime.now(UTC) + timedelta(days=366)
    assert set(map(str, job.due(in_a_year))) == {str(fresh), str(old)}
    done, failed = job.run()
    assert [o.secret_id for o in done] == [old.secret_id] and not failed
    assert job.due() == []


@pytest.mark.servers
def test_vault_rotation_job_main(bao: BaoServer, capsys: pytest.CaptureFixture[str]) -> None:
    h = _vault(bao)
    a = VaultAddress.parse(h.create(unique("svc/JWT_SECRET"), SEED, GENERATED))
    env = {
        "VAULT_ADDR": bao.url,
        "VAULT_TOKEN": _job_token(bao, [a], []),
        ENV_SECRETS: json.dumps([a.secret_id]),
    }
    assert main(["--secret", a.secret_id], env) == 0
    assert h.current(a.secret_id) != SEED
    assert SEED not in capsys.readouterr().out
    assert main(["--secret", "nt/x/data/not/listed"], env) == 2
    assert main([], {**env, ENV_SECRETS: "not json"}) == 2  # pragma: allowlist secret
    err = capsys.readouterr().err
    assert "NT_VAULT_ROTATION_SECRETS is not JSON" in err and "Traceback" not in err


@pytest.mark.servers
def test_vault_rotation_job_refused_login_is_one_line(
    bao: BaoServer, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    """A Kubernetes login Vault refuses (no such auth mount or role) is bad configuration: exit
    2 with one line, never a traceback."""
    token = tmp_path / "token"
    token.write_text("not-a-service-account-token\n", encoding="utf-8")
    env = {
        "VAULT_ADDR": bao.url,
        "NT_VAULT_K8S_ROLE": "secret-rotation",
        "NT_VAULT_K8S_TOKEN_PATH": str(token),
        ENV_SECRETS: json.dumps(["nt/x/data/svc/JWT_SECRET"]),
    }
    assert main([], env) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot log in to Vault") and "Traceback" not in err
    assert err.count("\n") == 1


ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:nt/x-AbCdEf"


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ("[]", "must be an object"),
        ('{"h": {}}', "must be a list"),
        ('{"h": [{"store": "s3", "address": "x"}]}', "store must be one of"),
        ('{"h": [{"store": "gcp", "address": "x"}]}', "is not a gcp secret id"),
        ('{"h": [{"store": "aws", "address": "' + ARN + '", "x": 1}]}', "{store, address}"),
        ('{"h": [{"store": "aws", "address": "' + ARN + '"}], "' + ARN + '": []}', "is a home"),
        (
            '{"h": [{"store": "aws", "address": "' + ARN + '"}], '
            '"g": [{"store": "aws", "address": "' + ARN + '"}]}',
            "already follows",
        ),
    ],
)
def test_replica_map_rejects_bad_entries(raw: str, error: str) -> None:
    with pytest.raises(ContractError, match=error.replace("{", r"\{").replace("}", r"\}")):
        parse_replicas(raw)


def test_replica_map_reads_every_store() -> None:
    raw: dict[str, Any] = {
        "nt/prod/data/trading/JWT_SECRET": [
            {"store": "aws", "address": ARN},
            {"store": "vault", "address": "nt/dr/data/trading/JWT_SECRET"},
            {"store": "gcp", "address": "projects/1/secrets/jwt"},
            {"store": "azure", "address": "https://v.vault.azure.net/secrets/jwt"},
        ]
    }
    parsed = parse_replicas(json.dumps(raw))
    assert [t.store for t in parsed["nt/prod/data/trading/JWT_SECRET"]] == [
        "aws",
        "vault",
        "gcp",
        "azure",
    ]
    assert parse_replicas(None) == {} and ENV_REPLICAS == "NT_ROTATION_REPLICAS"
