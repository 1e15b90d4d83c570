"""``nt-secrets rotate NAME --now --stack S`` of a secret whose home is Vault: the driver runs on
the operator's machine with the operator's token, on the home copy (a real OpenBao) and every
replica the stack declares (GCP Secret Manager, through Google's client against the double of
``doubles.py``). Nothing is printed but identifiers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.catalog import default_catalog
from infra.rotation.replicas import Clients
from infra.stack import build_estate, parse_settings
from nt_secrets.rotate_home import location, replica_map, rotate_in_home
from nt_secrets.stackfile import read_stack
from tests.conftest import ROOT
from tests.plans import run_cli
from tests.vault.server import BaoServer, start_bao

from .doubles import GcpSecretManagerDouble

NS = "neural-trader-secrets:"
SEED = "5eed" * 16  # the value before the rotation (hex, as the generator makes it)
NAME = "JWT_SECRET"


@pytest.fixture
def bao(tmp_path: Path) -> Iterator[BaoServer]:
    """A fresh OpenBao per test: the stack's own KV mount path is used."""
    server = start_bao([], parent=tmp_path)
    yield server
    server.close()


def dev(replicas: dict[str, list[str]] | None = None) -> tuple[Any, Any]:
    """The dev stack's settings and estate (JWT_SECRET lives in Vault), with ``replicas``."""
    config = dict(read_stack(ROOT, "dev").config)
    if replicas is not None:
        placement = json.loads(config[NS + "placement"])
        config[NS + "placement"] = json.dumps({**placement, "replicas": replicas})
    settings = parse_settings(config)
    return settings, build_estate(default_catalog(), settings)


def seed_home(server: BaoServer, address: str, labels: dict[str, str]) -> None:
    """What `pulumi up` leaves in Vault: the KV v2 mount, the secret's first value, its labels."""
    mount, _, path = address.partition("/data/")
    root = server.client()
    root.sys.enable_secrets_engine("kv", path=mount, options={"version": "2"})
    root.secrets.kv.v2.configure(cas_required=True, max_versions=10, mount_point=mount)
    root.secrets.kv.v2.create_or_update_secret(
        path, secret={"value": SEED}, cas=0, mount_point=mount
    )
    root.secrets.kv.v2.update_metadata(path, mount_point=mount, custom_metadata=labels)


def current(server: BaoServer, address: str) -> tuple[str, int]:
    mount, _, path = address.partition("/data/")
    data = server.client().secrets.kv.v2.read_secret_version(
        path, mount_point=mount, raise_on_deleted_version=True
    )["data"]
    return data["data"]["value"], int(data["metadata"]["version"])


@pytest.mark.servers
def test_rotate_now_of_a_vault_home_runs_the_driver_with_the_operators_token(
    bao: BaoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, estate = dev()
    secret = estate.secret(NAME)
    assert secret.home == "vault" and secret.replicas == ()
    address = location(estate, settings, "vault", NAME)
    seed_home(bao, address, estate.held_by("vault").secret(NAME).labels())
    monkeypatch.setenv("VAULT_ADDR", bao.url)
    monkeypatch.setenv("VAULT_TOKEN", bao.root_token)
    proc = run_cli("rotate", NAME, "--now", "--stack", "dev", cwd=ROOT)
    code, out, err = proc.returncode, proc.stdout, proc.stderr
    assert code == 0, err
    value, version = current(bao, address)
    assert version == 2 and value != SEED and len(value) == len(SEED)
    assert f"rotated {address} in vault: rotated" in out
    assert value not in out + err and SEED not in out + err
    assert "Traceback" not in err


@pytest.mark.servers
def test_rotate_now_of_a_vault_home_writes_its_replica_before_promoting(bao: BaoServer) -> None:
    """A replica in GCP receives the new version in the same rotation."""
    settings, estate = dev(replicas={NAME: ["gcp"]})
    secret = estate.secret(NAME)
    assert secret.replicas == ("gcp",)
    address = location(estate, settings, "vault", NAME)
    seed_home(bao, address, estate.held_by("vault").secret(NAME).labels())
    replica = location(estate, settings, "gcp", NAME)
    (targets,) = replica_map(estate, settings, secret).values()
    assert [(t.store, t.address) for t in targets] == [("gcp", replica)]
    double = GcpSecretManagerDouble()
    replica_labels = estate.held_by("gcp").secret(NAME).labels()
    double.create_secret(replica, SEED, {}, replica_labels)
    gcp_client = double.client()
    done = rotate_in_home(
        estate, settings, secret, {}, client=bao.client(), clients=Clients(gcp=lambda: gcp_client)
    )
    value, version = current(bao, address)
    assert done.result == "rotated" and version == 2 and value != SEED
    assert done.replicas == (f"gcp:{replica}",)
    # The replica's current version is the home's new value.
    latest = gcp_client.access_secret_version(name=f"{replica}/versions/current")
    assert latest.payload.data.decode() == value


@pytest.mark.servers
def test_rotate_now_of_a_replica_is_refused_nothing_changes(bao: BaoServer) -> None:
    """A copy labelled as a replica never starts a rotation of its own."""
    settings, estate = dev(replicas={NAME: ["gcp"]})
    address = location(estate, settings, "vault", NAME)
    # The home copy wrongly carries the replica label (a hand edit): the driver refuses.
    labels = estate.held_by("gcp").secret(NAME).labels()
    assert labels["replica-of"] == "vault"
    seed_home(bao, address, labels)
    secret = estate.secret(NAME)
    from nt_secrets.rotate_home import HomeRotationError

    gcp = GcpSecretManagerDouble().client()
    with pytest.raises(HomeRotationError, match="replica"):
        rotate_in_home(
            estate, settings, secret, {}, client=bao.client(), clients=Clients(gcp=lambda: gcp)
        )
    assert current(bao, address) == (SEED, 1)


def test_rotate_now_of_a_vault_home_without_credentials_is_bad_input(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("VAULT_TOKEN", raising=False)
    monkeypatch.delenv("NT_VAULT_K8S_ROLE", raising=False)
    proc = run_cli("rotate", NAME, "--now", "--stack", "dev", cwd=ROOT)
    code, out, err = proc.returncode, proc.stdout, proc.stderr
    assert code == 2, err
    assert "no Vault credentials: set VAULT_TOKEN" in err and "Traceback" not in err
    assert out == ""
