"""The Vault rotation job run for real with exactly the identity the plan gives it: the plan's
rotation policy and Kubernetes auth role applied to OpenBao (``apply.py``), the job's own
service-account token minted for the audience its CronJob projects, and
``python -m infra.rotation.vault_job`` run with the CronJob's own environment (HARNESS: only
``VAULT_ADDR`` and the token's file path point at this machine). Each stack's plan gets a server
of its own, so the new versions written here never meet the other tests' expectations."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import hvac
import pytest

from infra.rotation import vault_job
from nt_secrets.capture import CapturedResource
from tests.vault.conftest import Deployment, Deployments

pytestmark = pytest.mark.servers

CRON_JOB = "kubernetes:batch/v1:CronJob"
ROLE = "secret-rotation"
#: A generated secret each stack's Vault is home to (the job makes its new value itself).
TARGET = "JWT_SECRET"


def _env(job: CapturedResource) -> dict[str, str]:
    (container,) = job.raw_inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e["value"] for e in container["env"]}


@pytest.fixture(scope="module", params=["dev", "prod"])
def rotation(request: pytest.FixtureRequest, deployments: Deployments) -> Deployment:
    return deployments.get(f"{request.param}-rotation")


def _job_env(d: Deployment, token_file: Path, **changes: Any) -> dict[str, str]:
    (job,) = d.of_type(CRON_JOB)
    role = d.k8s_role(ROLE)
    assert role is not None
    token_file.write_text(d.k8s_jwt(role, **changes))
    # HARNESS: the server's address and the token's file on this machine; the rest as planned.
    return _env(job) | {"VAULT_ADDR": d.server.url, "NT_VAULT_K8S_TOKEN_PATH": str(token_file)}


def _address(d: Deployment, name: str) -> tuple[str, str]:
    secret = d.secret_resource(name).raw_inputs
    return d.mount, str(secret["name"])


def test_vault_rotation_job_rotates_with_its_own_login(
    rotation: Deployment, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = rotation
    env = _job_env(d, tmp_path / "token")
    mount, path = _address(d, TARGET)
    kv = d.root.secrets.kv.v2
    before = kv.read_secret_version(path, mount_point=mount, raise_on_deleted_version=True)
    # Nothing is due right after the deployment wrote every secret.
    assert vault_job.main(["--dry-run"], env=env) == 0
    assert capsys.readouterr().out == ""
    # An emergency rotation of one secret, as the CronJob's identity.
    assert vault_job.main(["--secret", f"{mount}/data/{path}"], env=env) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{mount}/data/{path}: ") and "rotated" in out
    after = kv.read_secret_version(path, mount_point=mount, raise_on_deleted_version=True)
    version = before["data"]["metadata"]["version"]
    assert after["data"]["metadata"]["version"] == version + 1
    assert after["data"]["data"]["value"] != before["data"]["data"]["value"]
    meta = kv.read_secret_metadata(path, mount_point=mount)["data"]["custom_metadata"]
    assert meta["rotation-previous-version"] == str(version)
    assert meta["rotation-current-id"] and meta["rotation-last-rotated"]
    # The previous version stays readable until the next rotation.
    previous = kv.read_secret_version(
        path, version=version, mount_point=mount, raise_on_deleted_version=True
    )
    assert previous["data"]["data"] == before["data"]["data"]


def test_vault_rotation_job_identity_is_exactly_its_policy(rotation: Deployment) -> None:
    d = rotation
    role = d.k8s_role(ROLE)
    assert role is not None
    auth = d.k8s_login(ROLE, d.k8s_jwt(role), role.raw_inputs["backend"])["auth"]
    policy = role.raw_inputs["tokenPolicies"][0]
    assert auth["token_policies"] == [policy] and auth["policies"] == [policy]  # no default
    client = d.server.client(auth["client_token"])
    (job,) = d.of_type(CRON_JOB)
    rotated = json.loads(_env(job)["NT_VAULT_ROTATION_SECRETS"])
    assert rotated
    for address in rotated:  # every secret it rotates: readable, its metadata too
        mount, _, path = address.partition("/data/")
        assert client.read(address) is not None
        assert client.read(f"{mount}/metadata/{path}") is not None
    mount = d.mount
    refused = [
        ("list the mount", lambda: client.list(f"{mount}/metadata/")),
        ("delete a version", lambda: client.delete(rotated[0])),
        ("destroy", lambda: client.write(rotated[0].replace("/data/", "/destroy/"), versions=[1])),
        (
            "write another path",
            lambda: client.write_data(f"{mount}/data/other/x", data={"data": {"v": "1"}}),
        ),
        ("read a policy", lambda: client.sys.read_acl_policy(policy)),
        ("use transit", lambda: client.write(f"{d.transit}/hmac/hmac", input="aGk=")),
    ]
    for what, call in refused:
        with pytest.raises(hvac.exceptions.Forbidden):
            call()
        assert what


@pytest.mark.parametrize(
    "change",
    [
        {"name": "default"},
        {"namespace": "live-trading"},
        {"audiences": ["https://kubernetes.default.svc"]},
    ],
    ids=["another account", "another namespace", "another audience"],
)
def test_vault_rotation_job_role_refuses_any_other_token(
    rotation: Deployment,
    tmp_path: Path,
    change: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    d = rotation
    env = _job_env(d, tmp_path / "token", **change)
    mount, path = _address(d, TARGET)
    # OpenBao refuses the login itself: the job never reaches a secret; it says so in one line
    # and exits 2 (bad configuration of its identity), never with a traceback.
    assert vault_job.main(["--secret", f"{mount}/data/{path}"], env=env) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot log in to Vault: Forbidden")
    assert re.search(r"not authorized|audience", err) and "Traceback" not in err
