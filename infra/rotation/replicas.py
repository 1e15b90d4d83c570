"""Replica fan-out: which copies follow which home, and the writers that reach them.

Configuration (the executor's environment, ``NT_ROTATION_REPLICAS``): a JSON object mapping a
home secret's id to its replicas::

    {"nt/prod/data/trading/JWT_SECRET": [
        {"store": "aws", "address": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x"},
        {"store": "gcp", "address": "projects/123456789/secrets/prod-trading-jwt-secret"},
        {"store": "azure", "address": "https://nt-prod.vault.azure.net/secrets/trading-jwt"},
        {"store": "vault", "address": "nt/prod-dr/data/trading/JWT_SECRET"}]}

Ids and addresses, per store: AWS the secret ARN; Vault ``<mount>/data/<path>``; GCP
``projects/<project number>/secrets/<id>`` (the name Secret Manager returns and its rotation
notices carry); Azure ``https://<vault>.vault.azure.net/secrets/<name>`` (no version).

A home's rotation stages the new value in every replica (each store's own *pending*
representation, keyed by the home's rotation id, so a retry never adds a second version), and
promotes them before the home; if any replica cannot be staged nothing is promoted and the
rotation fails. A copy that is a replica target here, or carries the ``replica-of`` parameter,
is refused as a home (``refuse_replica``).

Clients are built lazily per store from the executor's own credentials (``Clients``): the
Lambda zip carries none of the GCP/Azure/Vault libraries, so an AWS home with such replicas
needs them added to its package.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from .driver import ReplicaRefused, ReplicaWriter
from .errors import ContractError

#: Environment variable holding the replica map (JSON).
ENV_REPLICAS: Final = "NT_ROTATION_REPLICAS"
STORES: Final = ("aws", "vault", "gcp", "azure")


@dataclass(frozen=True)
class ReplicaTarget:
    store: str
    address: str

    @property
    def target(self) -> str:
        return f"{self.store}:{self.address}"


ReplicaMap = Mapping[str, tuple[ReplicaTarget, ...]]


def _check_address(store: str, address: str, where: str) -> None:
    ok = {
        "aws": address.startswith("arn:aws") and ":secretsmanager:" in address,
        "vault": "/data/" in address.strip("/"),
        "gcp": address.startswith("projects/") and "/secrets/" in address,
        "azure": address.startswith("https://") and "/secrets/" in address,
    }[store]
    if not ok:
        raise ContractError(f"{ENV_REPLICAS}: {where}: {address!r} is not a {store} secret id")


def parse_replicas(raw: str | None) -> dict[str, tuple[ReplicaTarget, ...]]:
    """The replica map from its JSON text (None/empty: no replicas); ``ContractError`` naming the
    offending entry on bad input. A replica may follow one home only and never be a home."""
    if raw is None or not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise ContractError(f"{ENV_REPLICAS} is not JSON") from None
    if not isinstance(data, dict):
        raise ContractError(f"{ENV_REPLICAS} must be an object home-id -> list of replicas")
    out: dict[str, tuple[ReplicaTarget, ...]] = {}
    seen: dict[str, str] = {}
    for home, entries in data.items():
        if not isinstance(entries, list):
            raise ContractError(f"{ENV_REPLICAS}[{home!r}] must be a list")
        targets: list[ReplicaTarget] = []
        for i, entry in enumerate(entries):
            where = f"{home!r}[{i}]"
            if not isinstance(entry, dict) or set(entry) != {"store", "address"}:
                raise ContractError(f"{ENV_REPLICAS}: {where} must be {{store, address}}")
            store, address = entry["store"], entry["address"]
            if store not in STORES or not isinstance(address, str):
                raise ContractError(f"{ENV_REPLICAS}: {where}: store must be one of {STORES}")
            _check_address(store, address, where)
            target = ReplicaTarget(store, address)
            if address == home or address in data:
                raise ContractError(f"{ENV_REPLICAS}: {where}: {address} is a home")
            if address in seen:
                raise ContractError(
                    f"{ENV_REPLICAS}: {where}: {address} already follows {seen[address]}"
                )
            seen[address] = home
            targets.append(target)
        out[str(home)] = tuple(targets)
    return out


def replicas_from_env(env: Mapping[str, str] | None = None) -> dict[str, tuple[ReplicaTarget, ...]]:
    return parse_replicas((os.environ if env is None else env).get(ENV_REPLICAS))


def refuse_replica(secret_id: str, replicas: ReplicaMap) -> None:
    """``ReplicaRefused`` if ``secret_id`` is a replica target of the map."""
    for home, targets in replicas.items():
        if any(t.address == secret_id for t in targets):
            raise ReplicaRefused(
                f"secret {secret_id} is a replica of {home}: only its home rotates it"
            )


@dataclass
class Clients:
    """Builds (once) the client of each store a replica lives in; injectable for tests."""

    aws: Callable[[str], Any] | None = None  # region -> boto3 secretsmanager client
    vault: Callable[[], Any] | None = None  # -> hvac.Client
    gcp: Callable[[], Any] | None = None  # -> SecretManagerServiceClient
    azure: Callable[[str], Any] | None = None  # vault url -> SecretClient
    _made: dict[tuple[str, str], Any] = field(default_factory=dict)

    def get(self, store: str, key: str = "") -> Any:
        if (store, key) not in self._made:
            factory: Callable[..., Any] | None = getattr(self, store)
            factory = factory or _DEFAULT_FACTORIES[store]
            self._made[(store, key)] = factory(key) if store in ("aws", "azure") else factory()
        return self._made[(store, key)]


def _default_aws(region: str) -> Any:
    import boto3

    return boto3.client("secretsmanager", region_name=region)


def _default_vault() -> Any:
    from .vault_job import vault_client_from_env

    return vault_client_from_env(os.environ)


def _default_gcp() -> Any:
    from google.cloud import secretmanager

    return secretmanager.SecretManagerServiceClient()


def _default_azure(vault_url: str) -> Any:
    from azure.identity import DefaultAzureCredential
    from azure.keyvault.secrets import SecretClient

    return SecretClient(vault_url=vault_url, credential=DefaultAzureCredential())


_DEFAULT_FACTORIES: Final[Mapping[str, Callable[..., Any]]] = {
    "aws": _default_aws,
    "vault": _default_vault,
    "gcp": _default_gcp,
    "azure": _default_azure,
}


def writer(target: ReplicaTarget, clients: Clients) -> ReplicaWriter:
    """The store transport of one replica (staged and promoted with the home's rotation id)."""
    if target.store == "aws":
        from .aws_store import SecretsManagerStore

        region = target.address.split(":")[3]
        return SecretsManagerStore(clients.get("aws", region), target.address)
    if target.store == "vault":
        from .vault_store import VaultAddress, VaultStore

        return VaultStore(clients.get("vault"), VaultAddress.parse(target.address))
    if target.store == "gcp":
        from .gcp_store import GcpStore

        return GcpStore(clients.get("gcp"), target.address)
    from .azure_store import AzureStore, split_secret_id

    vault_url, name = split_secret_id(target.address)
    return AzureStore(clients.get("azure", vault_url), name)


def writers_for(home: str, replicas: ReplicaMap, clients: Clients) -> list[ReplicaWriter]:
    return [writer(t, clients) for t in replicas.get(home, ())]
