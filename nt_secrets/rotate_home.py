"""Emergency rotation of a secret whose home is not AWS: ``nt-secrets rotate NAME --now``.

A secret rotates in its home store (``infra/placement.py``); every replica receives the new
version before it is promoted, or nothing is. For an AWS home the CLI asks Secrets Manager to
rotate (its Lambda runs the driver, ``nt_secrets/rotate.py``). Vault, GCP Secret Manager and Azure
Key Vault have no such "rotate now" call: the operator's machine runs the same store-neutral
driver the scheduled executor runs (``infra/rotation/driver.py``), with the operator's own
credentials (``VAULT_ADDR``/``VAULT_TOKEN``, Google application default credentials, Azure's
``DefaultAzureCredential``), on exactly that secret and its replicas.

The replica map is the one the home's executor is given: every replica of the secret, where
the replica store keeps it (its ``locations()``). Nothing here reads or prints a value.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from infra.backends import registry
from infra.estate import Estate, StoredSecret
from infra.settings import StackSettings

#: The stores whose home copies this module rotates (AWS rotates through its own Lambda).
STORES = ("vault", "gcp", "azure")


class HomeRotationError(RuntimeError):
    """The rotation did not complete (the driver's own message, never a value)."""


class MissingCredentialsError(ValueError):
    """The operator's credentials for the home store are not there (bad input: exit 2)."""


@dataclass(frozen=True)
class HomeRotation:
    """What was rotated: the home's own id of the secret, the rotation id, the replicas written."""

    secret_id: str
    rotation_id: str
    result: str
    replicas: tuple[str, ...]


def location(estate: Estate, settings: StackSettings, store: str, name: str) -> str:
    """Where ``store`` keeps ``name`` (its ``locations()`` on the store's own view)."""
    backend = registry()[store]
    return str(backend.locations(estate.held_by(store), settings.backend(store))[name])


def replica_map(estate: Estate, settings: StackSettings, secret: StoredSecret) -> dict[str, Any]:
    """The rotation contract's replica map (``infra/rotation/replicas.py``) for one secret: its
    home's id -> its replicas, where each replica store keeps it (the loader's
    ``Estate.replica_addresses``, the same the scheduled executors are given)."""
    from infra.rotation.replicas import ReplicaTarget

    home = location(estate, settings, secret.home, secret.name).removesuffix("-??????")
    targets = estate.replica_addresses.get(secret.name, ())
    return {home: tuple(ReplicaTarget(store, address) for store, address in targets)}


def rotate_in_home(
    estate: Estate,
    settings: StackSettings,
    secret: StoredSecret,
    env: Mapping[str, str],
    *,
    client: Any | None = None,
    clients: Any | None = None,
) -> HomeRotation:
    """Rotate ``secret`` now in its home store (Vault, GCP or Azure) and every replica.
    ``client`` replaces the home store's client (tests); ``clients`` the replicas'."""
    from infra.rotation.errors import RotationError
    from infra.rotation.replicas import Clients

    if secret.home not in STORES:
        raise ValueError(f"{secret.name} lives in {secret.home}, not in {', '.join(STORES)}")
    replicas = replica_map(estate, settings, secret)
    address = location(estate, settings, secret.home, secret.name)
    chosen = clients or Clients()
    try:
        if secret.home == "vault":
            outcome = _vault(settings, address, env, replicas, chosen, client)
        elif secret.home == "gcp":
            outcome = _gcp(address, replicas, chosen, client)
        else:
            outcome = _azure(address, replicas, chosen, client)
    except MissingCredentialsError:
        raise
    except (RotationError, OSError) as exc:
        raise HomeRotationError(f"{type(exc).__name__}: {exc}") from None
    except Exception as exc:
        # A store's client library failing to find the operator's identity (google.auth's
        # DefaultCredentialsError, azure-identity's CredentialUnavailableError, hvac's
        # Unauthorized...) is missing input, not a failed rotation.
        kind = type(exc).__name__
        if any(w in kind for w in ("Credential", "Authentication", "Unauthorized", "Forbidden")):
            raise MissingCredentialsError(
                f"{secret.home}: your credentials do not reach the store ({kind}): log in "
                "(gcloud auth application-default login, az login, VAULT_TOKEN) and retry"
            ) from None
        raise HomeRotationError(f"{kind}: {exc}") from None
    if outcome is None:
        raise HomeRotationError(f"{address}: the home store reported nothing to rotate")
    written = tuple(t.target for ts in replicas.values() for t in ts)
    return HomeRotation(outcome.secret_id, outcome.rotation_id, str(outcome.result), written)


def _vault(
    settings: StackSettings,
    address: str,
    env: Mapping[str, str],
    replicas: dict[str, Any],
    clients: Any,
    client: Any | None,
) -> Any:
    from infra.rotation.vault_job import VaultJob, vault_client_from_env
    from infra.rotation.vault_store import VaultAddress

    if client is None:
        block = settings.backend("vault")
        merged = {"VAULT_ADDR": str(getattr(block, "address", "")), **env}
        if not merged.get("VAULT_TOKEN") and not merged.get("NT_VAULT_K8S_ROLE"):
            raise MissingCredentialsError(
                "no Vault credentials: set VAULT_TOKEN (a token whose policy may rotate the "
                "secret, e.g. the admin role's) and VAULT_ADDR if the stack's address is not "
                "reachable from here"
            )
        client = vault_client_from_env(merged)
    target = VaultAddress.parse(address)
    return VaultJob(client, [target], replicas, clients).rotate(target)


def _gcp(address: str, replicas: dict[str, Any], clients: Any, client: Any | None) -> Any:
    from infra.rotation.gcp_store import handle_message

    message = {
        "attributes": {"eventType": "SECRET_ROTATE", "secretId": address},
        "messageId": f"nt-secrets-rotate-now-{uuid.uuid4()}",
        "publishTime": datetime.now(UTC).isoformat(),
    }
    return handle_message(message, client=client, replicas=replicas, clients=clients)


def _azure(address: str, replicas: dict[str, Any], clients: Any, client: Any | None) -> Any:
    from infra.rotation.azure_store import handle_event, split_secret_id

    _, name = split_secret_id(address)
    event = {
        "id": f"nt-secrets-rotate-now-{uuid.uuid4()}",
        "eventType": "Microsoft.KeyVault.SecretNearExpiry",
        "data": {"Id": address, "ObjectType": "Secret", "ObjectName": name},
    }
    return handle_event(event, client=client, replicas=replicas, clients=clients)
