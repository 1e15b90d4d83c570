"""The rotation contract, once, against every store: AWS (moto, the Lambda handler), Vault
(OpenBao, the rotation job), GCP and Azure (their official clients against ``doubles.py``, the
Pub/Sub and Event Grid handlers).

Selection: ``pytest -m servers -k "rotat and vault"`` runs the Vault rotations,
``pytest -m servers -k "rotat and replica"`` the replica fan-out.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from infra.rotation.contract import (
    PARAM_MASTER_SECRET,
    PARAM_REPLICA_OF,
    PARAM_ROTATION_CLASS,
    PARAM_ROTATION_STRATEGY,
)
from infra.rotation.driver import ConcurrentWriteError, ReplicaError, ReplicaRefused
from infra.rotation.errors import RotationError
from infra.rotation.replicas import Clients, ReplicaTarget
from infra.rotation.strategies.postgres import PgUrl
from tests.servers import PostgresServer
from tests.vault.server import BaoServer

from .conftest import Aws, unique
from .stores import AwsHarness, AzureHarness, GcpHarness, Harness, VaultHarness

HEX64 = re.compile(r"[0-9a-f]{64}")
GENERATED = {PARAM_ROTATION_STRATEGY: "generated-hmac", PARAM_ROTATION_CLASS: "jwt_secret"}
SEED = "5eed" * 16
STORES = ("aws", "vault", "gcp", "azure")
servers = pytest.mark.servers
#: Vault starts OpenBao: only its parameter carries the marker.
STORE_PARAMS = [pytest.param(s, marks=servers) if s == "vault" else s for s in STORES]


def _vault(server: BaoServer) -> VaultHarness:
    client = server.client()
    mount = f"nt/{uuid.uuid4().hex[:8]}"
    client.sys.enable_secrets_engine("kv", path=mount, options={"version": "2"})
    client.secrets.kv.v2.configure(cas_required=True, max_versions=10, mount_point=mount)
    return VaultHarness("vault", client=client, mount=mount)


class Estate:
    """The four stores of one test, with the clients a replica writer uses."""

    def __init__(self, request: pytest.FixtureRequest, needed: set[str]) -> None:
        self.clients = Clients()
        self.by_store: dict[str, Harness] = {}
        if "aws" in needed:
            aws: Aws = request.getfixturevalue("aws")
            self.by_store["aws"] = AwsHarness("aws", self.clients, aws=aws)
            self.clients.aws = lambda region: aws.sm
        if "vault" in needed:
            self.by_store["vault"] = _vault(request.getfixturevalue("bao"))
            self.by_store["vault"].clients = self.clients
            vault_client = self.by_store["vault"].client  # type: ignore[attr-defined]
            self.clients.vault = lambda: vault_client
        if "gcp" in needed:
            gcp = GcpHarness("gcp", self.clients)
            self.by_store["gcp"] = gcp
            self.clients.gcp = lambda: gcp.client
        if "azure" in needed:
            azure = AzureHarness("azure", self.clients)
            self.by_store["azure"] = azure
            self.clients.azure = lambda url: azure.client

    def __getitem__(self, store: str) -> Harness:
        return self.by_store[store]


@pytest.fixture
def estate(request: pytest.FixtureRequest) -> Estate:
    callspec = getattr(request.node, "callspec", None)
    store = callspec.params.get("store") if callspec else None
    if store is None:  # a single-store test names its store; replica tests use all four
        named = [s for s in STORES if f"_{s}_" in request.node.name]
        store = named[0] if named and "replica" not in request.node.name else None
    return Estate(request, {store} if store else set(STORES))


# --- generated keys -----------------------------------------------------------------------------


@pytest.mark.parametrize("store", STORE_PARAMS)
def test_generated_key_rotation(store: str, estate: Estate) -> None:
    h = estate[store]
    secret = h.create(unique("svc/JWT_SECRET"), SEED, GENERATED)
    h.deliver(secret, "r1")
    first = h.current(secret)
    assert HEX64.fullmatch(first) and first != SEED
    assert h.previous(secret) == SEED
    h.deliver(secret, "r2")
    second = h.current(secret)
    assert second not in (SEED, first)
    assert h.previous(secret) == first


# --- PostgreSQL alternating users -----------------------------------------------------------------


@servers
@pytest.mark.parametrize("store", STORES)
def test_postgres_alternating_users_rotation(
    store: str, estate: Estate, pg: PostgresServer
) -> None:
    h = estate[store]
    user = unique("app")
    conn = pg.connect()
    try:
        conn.run(f"CREATE ROLE \"{user}\" WITH LOGIN PASSWORD '{'initial' + user[-6:]}'")
    finally:
        conn.close()
    master = {
        "username": pg.superuser,
        "password": pg.superuser_password,
        "host": pg.host,
        "port": pg.port,
    }
    import json

    master_id = h.create(unique("db/MASTER"), json.dumps(master), {})
    master_ref = {
        "aws": master_id,
        "vault": master_id.split("/data/", 1)[-1],
        "gcp": master_id.rsplit("/", 1)[-1],
        "azure": master_id.rsplit("/", 1)[-1],
    }[store]
    url = pg.url(user, "initial" + user[-6:])
    params = {
        PARAM_ROTATION_STRATEGY: "postgres-alternating-users",
        PARAM_ROTATION_CLASS: "database_password",
        PARAM_MASTER_SECRET: master_ref,
    }
    secret = h.create(unique("db/DATABASE_URL"), url, params)
    h.deliver(secret, "r1")
    first = PgUrl.parse(h.current(secret))
    assert first.user == user + "_clone"
    assert pg.can_login(first.user, first.password)
    assert pg.can_login(user, "initial" + user[-6:])  # the previous credentials keep working
    h.deliver(secret, "r2")
    second = PgUrl.parse(h.current(secret))
    assert second.user == user and pg.can_login(user, second.password)
    assert pg.can_login(first.user, first.password)
    assert not pg.can_login(user, "initial" + user[-6:])
    assert h.previous(secret) == first.unparse()


# --- retries and duplicates -----------------------------------------------------------------------


@pytest.mark.parametrize("store", STORE_PARAMS)
def test_rotation_retried_and_duplicated_deliveries(store: str, estate: Estate) -> None:
    h = estate[store]
    secret = h.create(unique("svc/JWT_SECRET"), SEED, GENERATED)
    before = h.versions(secret)
    h.interrupt_after_create(secret, "r1")  # crashed after staging
    assert h.current(secret) == SEED  # readers of the current value see nothing yet
    staged = h.transport(secret).pending_value()
    assert staged is not None and HEX64.fullmatch(staged)
    h.deliver(secret, "r1")  # the retry continues the same rotation
    assert h.current(secret) == staged
    after = h.versions(secret)
    h.deliver(secret, "r1")  # a duplicate delivery changes nothing
    assert h.current(secret) == staged
    assert h.versions(secret) == after
    assert after - before == 1
    assert h.transport(secret).state().pending_id is None


# --- concurrent writers ---------------------------------------------------------------------------

#: Secrets Manager has no check-and-set: the Lambda moves AWSCURRENT from whichever version holds
#: it (the AWS rotation contract), so the concurrent-writer scenario covers the other three.
CAS_STORES = [p for p in STORE_PARAMS if getattr(p, "values", (p,))[0] != "aws"]


@pytest.mark.parametrize("store", CAS_STORES)
def test_rotation_detects_a_concurrent_writer(store: str, estate: Estate) -> None:
    h = estate[store]
    secret = h.create(unique("svc/JWT_SECRET"), SEED, GENERATED)
    h.interrupt_after_create(secret, "r1")
    h.write_concurrently(secret, "c" * 64)
    with pytest.raises(ConcurrentWriteError):
        h.deliver(secret, "r1")
    assert h.current(secret) == "c" * 64  # the other writer's value stays current


@servers
def test_vault_rotation_check_and_set_refuses_a_stale_version(estate: Estate) -> None:
    """The promotion itself is check-and-set: Vault refuses it if the version moved between the
    driver's check and the write."""
    h = estate["vault"]
    secret = h.create(unique("svc/JWT_SECRET"), SEED, GENERATED)
    rotation_id = h.interrupt_after_create(secret, "r1")
    h.write_concurrently(secret, "c" * 64)
    with pytest.raises(ConcurrentWriteError, match="check-and-set"):
        h.transport(secret).promote(rotation_id)
    assert h.current(secret) == "c" * 64


def test_gcp_rotation_etag_refuses_an_interleaved_patch(estate: Estate) -> None:
    """Between the handler's read and its patch another writer patched the secret: Secret
    Manager refuses the stale etag (FAILED_PRECONDITION) and nothing is promoted."""
    h = estate["gcp"]
    assert isinstance(h, GcpHarness)
    secret = h.create(unique("svc/JWT_SECRET"), SEED, GENERATED)
    original = h.double._patch

    def interleaved(request: Any, stored: Any, body: Any, mask: str) -> Any:
        stored.etag = '"changed-by-someone-else"'
        h.double._patch = original  # type: ignore[method-assign]
        return original(request, stored, body, mask)

    h.double._patch = interleaved  # type: ignore[method-assign]
    with pytest.raises(ConcurrentWriteError, match="etag"):
        h.deliver(secret, "r1")
    assert h.current(secret) == SEED
    assert "pending" not in h.double.secrets[secret].aliases
    stray = [v for v in h.double.secrets[secret].versions.values() if v.number > 1]
    assert [v.state for v in stray] == ["DISABLED"]  # the added version is not left live


# --- replicas -------------------------------------------------------------------------------------


def _replicated(estate: Estate, home: str) -> tuple[str, dict[str, tuple[str, ReplicaTarget]]]:
    h = estate[home]
    secret = h.create(unique("svc/JWT_SECRET"), SEED, GENERATED)
    copies: dict[str, tuple[str, ReplicaTarget]] = {}
    for store in STORES:
        if store != home:
            r = estate[store]
            copy = r.create(unique("svc/JWT_SECRET"), SEED, {**GENERATED, PARAM_REPLICA_OF: secret})
            copies[store] = (copy, r.target(copy))
    return secret, copies


@servers
@pytest.mark.parametrize("home", STORES)
def test_replica_rotation_reaches_every_copy(home: str, estate: Estate) -> None:
    secret, copies = _replicated(estate, home)
    replicas = {secret: tuple(t for _, t in copies.values())}
    estate[home].deliver(secret, "r1", replicas)
    new = estate[home].current(secret)
    assert new != SEED
    counts = {}
    for store, (copy, _) in copies.items():
        assert estate[store].current(copy) == new, store
        assert estate[store].previous(copy) == SEED, store
        counts[store] = estate[store].versions(copy)
    estate[home].deliver(secret, "r1", replicas)  # a duplicate adds no version anywhere
    assert {s: estate[s].versions(c) for s, (c, _) in copies.items()} == counts


@servers
@pytest.mark.parametrize("home", STORES)
def test_replica_rotation_failure_promotes_nothing(home: str, estate: Estate) -> None:
    secret, copies = _replicated(estate, home)
    broken = estate[next(s for s in STORES if s != home)].missing()
    replicas = {secret: (*(t for _, t in copies.values()), broken)}
    with pytest.raises(ReplicaError, match="nothing promoted") as failure:
        estate[home].deliver(secret, "r1", replicas)
    assert broken.address in str(failure.value)
    assert estate[home].current(secret) == SEED
    for store, (copy, _) in copies.items():
        assert estate[store].current(copy) == SEED, store
    # Fixed configuration, same delivery: the rotation completes and reaches every copy.
    estate[home].deliver(secret, "r1", {secret: tuple(t for _, t in copies.values())})
    new = estate[home].current(secret)
    assert new != SEED
    assert all(estate[s].current(c) == new for s, (c, _) in copies.items())


@pytest.mark.parametrize("store", STORE_PARAMS)
def test_rotation_of_a_replica_is_refused(store: str, estate: Estate) -> None:
    h = estate[store]
    marked = h.create(unique("svc/JWT_SECRET"), SEED, {**GENERATED, PARAM_REPLICA_OF: "elsewhere"})
    with pytest.raises(ReplicaRefused):
        h.deliver(marked, "r1")
    listed = h.create(unique("svc/JWT_SECRET"), SEED, GENERATED)
    home = "arn:aws:secretsmanager:us-east-1:123456789012:secret:nt/home-AbCdEf"
    with pytest.raises(ReplicaRefused):
        h.deliver(listed, "r1", {home: (h.target(listed),)})
    assert h.current(marked) == SEED and h.current(listed) == SEED


def test_rotation_errors_are_rotation_errors() -> None:
    for exc in (ConcurrentWriteError, ReplicaError, ReplicaRefused):
        assert issubclass(exc, RotationError)
