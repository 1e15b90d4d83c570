"""The harness applies exactly the plan's Vault resources, OpenBao accepts every one of them, and
the server then holds what the plan declares (read back input by input). The harness refuses any
Vault type or input it does not know, so a program change cannot be silently ignored here."""

from __future__ import annotations

import dataclasses

import hvac
import pytest

from infra.backends.vault import documents
from nt_secrets.capture import Capture, CapturedResource
from policies.contract.vocabulary import TAG_ROTATION_PERIOD_DAYS
from tests.vault import apply as ap
from tests.vault.conftest import STACKS, Deployment, Deployments
from tests.vault.matrix import Target

pytestmark = pytest.mark.servers


def test_every_vault_resource_is_applied_after_its_dependencies(deployment: Deployment) -> None:
    planned = [r for r in deployment.capture.resources if r.type.startswith("vault:")]
    assert {r.urn for r in deployment.applied} == {r.urn for r in planned}
    assert len(deployment.applied) == len(planned)
    position = {r.urn: n for n, r in enumerate(deployment.applied)}
    for r in deployment.applied:
        deps = {*r.dependencies, *(u for us in r.property_dependencies.values() for u in us)}
        for dep in deps & set(position):
            assert position[dep] < position[r.urn], f"{r.name} applied before {dep}"
    assert {r.type for r in planned} <= set(ap.APPLIERS)


def test_the_stacks_exercise_every_supported_type(deployments: Deployments) -> None:
    types = {r.type for key in STACKS for r in deployments.get(key).applied}
    assert types == set(ap.APPLIERS)


def test_the_kv_mount_and_its_config(deployment: Deployment) -> None:
    mounts = deployment.root.sys.list_mounted_secrets_engines()["data"]
    (kv,) = (r.raw_inputs for r in deployment.of_type(ap.MOUNT) if r.raw_inputs["type"] == "kv")
    assert kv["path"] == deployment.mount
    mount = mounts[f"{deployment.mount}/"]
    assert (mount["type"], mount["options"], mount["description"]) == (
        "kv",
        kv["options"],
        kv["description"],
    )
    config = deployment.root.read(f"{deployment.mount}/config")["data"]
    assert config["cas_required"] is True
    assert config["max_versions"] == deployment.vault.max_versions
    assert config["delete_version_after"] == f"{deployment.vault.delete_version_after}s"
    transit = mounts[f"{deployment.transit}/"]
    assert transit["type"] == "transit"
    # Nothing but what the plan declares (and OpenBao's own mounts).
    ours = {deployment.mount + "/", deployment.transit + "/"}
    assert set(mounts) - ours == {"cubbyhole/", "identity/", "sys/"}


def test_every_stored_secret_is_on_the_server_with_its_labels(deployment: Deployment) -> None:
    planned = {Target(r).catalog_name: r for r in deployment.of_type(ap.KV_SECRET)}
    assert set(planned) == set(deployment.estate.names)
    for secret in deployment.estate.secrets:
        target = Target(planned[secret.name])
        assert target.path == documents.secret_path(secret.entry)
        meta = deployment.root.read(target.api("metadata"))["data"]
        # The estate's labels, and the period a store without rotation schedules needs.
        assert secret.rotation is not None
        assert meta["custom_metadata"] == {
            **secret.labels(),
            TAG_ROTATION_PERIOD_DAYS: str(secret.rotation.period_days),
        }
        assert meta["cas_required"] is True
        assert meta["max_versions"] == deployment.vault.max_versions
        value = deployment.root.read(target.api("data"))["data"]["data"]
        assert value == ap.secret_value(planned[secret.name])


def test_the_first_write_only_creates(deployment: Deployment) -> None:
    """The plan writes with check-and-set 0: applied again, it cannot overwrite a value (rotation
    or the operator owns it by then), and no write without check-and-set is accepted."""
    resource = deployment.secret_resource(deployment.estate.secrets[0].name)
    with pytest.raises(hvac.exceptions.InvalidRequest, match="check-and-set"):
        ap.write_secret(deployment.root, resource, written=set())
    with pytest.raises(hvac.exceptions.InvalidRequest, match="check-and-set"):
        deployment.root.write_data(Target(resource).api("data"), data={"data": {"value": "x"}})


def test_auth_methods_and_roles(deployment: Deployment) -> None:
    methods = deployment.root.sys.list_auth_methods()["data"]
    for r in deployment.of_type(ap.AUTH_BACKEND):
        i = r.raw_inputs
        assert (methods[f"{i['path']}/"]["type"], methods[f"{i['path']}/"]["description"]) == (
            i["type"],
            i["description"],
        )
    declared = {f"{r.raw_inputs['path']}/" for r in deployment.of_type(ap.AUTH_BACKEND)}
    assert set(methods) - declared == {"token/"}
    for r in deployment.of_type(ap.K8S_ROLE):
        i = r.raw_inputs
        stored = deployment.root.read(f"auth/{i['backend']}/role/{i['roleName']}")["data"]
        for key in ap.K8S_ROLE_BODY:
            assert stored[ap._snake(key)] == i[key], key
    for r in deployment.of_type(ap.K8S_CONFIG):
        stored = deployment.root.read(f"auth/{r.raw_inputs['backend']}/config")["data"]
        assert stored["kubernetes_host"] == deployment.stub.url  # HARNESS redirect
        assert stored["disable_local_ca_jwt"] is True


def test_the_audit_device_is_the_planned_one(deployment: Deployment) -> None:
    (audit,) = deployment.of_type(ap.AUDIT)
    devices = deployment.root.sys.list_enabled_audit_devices()["data"]
    assert set(devices) == {f"{audit.raw_inputs['path']}/"}
    device = devices[f"{audit.raw_inputs['path']}/"]
    assert device["options"]["log_raw"] == "false"
    assert device["options"]["file_path"] == str(
        deployment.server.audit_logs[audit.raw_inputs["path"]]
    )
    # OpenBao 2.x: no audit device over the API (why the plan's device lives in the config file).
    with pytest.raises(hvac.exceptions.VaultError, match=r"declarative|config"):
        deployment.root.sys.enable_audit_device(
            "file", path="api-file", options={"file_path": "/dev/null"}
        )


def _fake(capture: Capture, resource: CapturedResource) -> Capture:
    return dataclasses.replace(capture, resources=[*capture.resources, resource])


def test_an_unsupported_vault_type_fails_loudly(deployment: Deployment) -> None:
    extra = dataclasses.replace(
        deployment.of_type(ap.MOUNT)[0],
        urn="urn:pulumi:x::y::vault:database/secretBackendConnection:SecretBackendConnection::db",
        type="vault:database/secretBackendConnection:SecretBackendConnection",
        name="db",
    )
    with pytest.raises(ap.Unsupported, match="secretBackendConnection"):
        ap.vault_resources(_fake(deployment.capture, extra))


def test_an_unknown_input_fails_loudly(deployment: Deployment) -> None:
    mount = deployment.of_type(ap.MOUNT)[0]
    extra = dataclasses.replace(mount, raw_inputs={**mount.raw_inputs, "sealWrap": True})
    with pytest.raises(ap.Unsupported, match="sealWrap"):
        ap.APPLIERS[ap.MOUNT](deployment.root, extra, ap._Context(None, set()))
