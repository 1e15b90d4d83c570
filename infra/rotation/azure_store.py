"""Azure Key Vault as a rotation store (``driver.StoreTransport``) and its Event Grid handler.

Representation (docs/rotation.md, "Azure Key Vault"):

* **current** = the secret's latest version (what ``GET /secrets/<name>`` returns to readers).
  Key Vault has no labels that pin a version, so a pending value can be neither a newer version
  (it would be current at once) nor a disabled newer version (readers of the unversioned secret
  would then get "operation get is not allowed on a disabled secret").
* **pending** = the latest version of a companion secret ``<name>-rotation-pending``, enabled
  and tagged ``rotation-pending-id`` / ``rotation-pending-base`` while a rotation is staged;
  disabled (its value unreadable) otherwise. Readers are never granted it.
* **promotion** = ``set_secret`` of the pending value as the new version of ``<name>`` with the
  current version's tags and content type plus ``rotation-state`` = ``<rotation id>
  <previous version>``, and a new expiry one rotation period ahead (Key Vault's
  SecretNearExpiry event then announces the next rotation); then the companion is disabled.
* **previous** = the version named in ``rotation-state`` (older versions stay readable by id).
* **parameters** = the current version's tags (the contract labels the program writes).

Key Vault has no check-and-set: the current version is compared with the staged base just
before the write, and after it the version list is checked for a version somebody else created
in between (``ConcurrentWriteError``: detected, not prevented). One tag (``rotation-state``) is
all the bookkeeping, since a Key Vault secret holds at most 15 tags.

azure-keyvault-secrets / azure-identity are imported lazily, only to build default clients.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final
from urllib.parse import urlsplit

from .driver import (
    META_PENDING_BASE,
    META_PENDING_ID,
    ConcurrentWriteError,
    Notifier,
    Outcome,
    Rotation,
    StoreState,
    log_notifier,
    next_rotation,
    utc_now,
)
from .errors import ContractError
from .replicas import Clients, ReplicaMap, refuse_replica, replicas_from_env, writers_for
from .strategies import AdminCredentials

logger = logging.getLogger(__name__)

PENDING_SUFFIX: Final = "-rotation-pending"
#: ``<rotation id of the current version> <version that was current before>``.
TAG_STATE: Final = "rotation-state"
#: On the companion: the secret it stages values for.
TAG_PENDING_OF: Final = "rotation-pending-of"
EVENT_NEAR_EXPIRY: Final = "Microsoft.KeyVault.SecretNearExpiry"
ROTATION_NS: Final = uuid.UUID("0b7f4a8e-1f5e-4c0f-8d0c-2a9a55c4d7e3")


def split_secret_id(secret_id: str) -> tuple[str, str]:
    """``https://<vault>.vault.azure.net/secrets/<name>[/<version>]`` -> (vault url, name)."""
    parts = urlsplit(secret_id)
    segments = parts.path.strip("/").split("/")
    if parts.scheme != "https" or len(segments) < 2 or segments[0] != "secrets":
        raise ContractError(f"{secret_id!r} is not a Key Vault secret id")
    return f"https://{parts.netloc}", segments[1]


def _missing(exc: Exception) -> bool:
    return type(exc).__name__ == "ResourceNotFoundError"


def _disabled(exc: Exception) -> bool:
    return getattr(exc, "status_code", None) == 403 and "disabled" in str(exc).lower()


@dataclass
class AzureStore:
    client: Any  # azure.keyvault.secrets.SecretClient
    name: str
    _current: Any = field(default=None, repr=False)

    @property
    def vault_url(self) -> str:
        return str(self.client.vault_url).rstrip("/")

    @property
    def secret_id(self) -> str:
        return f"{self.vault_url}/secrets/{self.name}"

    @property
    def target(self) -> str:
        return f"azure:{self.secret_id}"

    @property
    def companion(self) -> str:
        return self.name + PENDING_SUFFIX

    def current(self, *, fresh: bool = False) -> Any:
        if self._current is None or fresh:
            try:
                self._current = self.client.get_secret(self.name)
            except Exception as exc:
                if _missing(exc):
                    raise ContractError(
                        f"Key Vault secret {self.secret_id} does not exist"
                    ) from None
                if _disabled(exc):
                    raise ContractError(f"Key Vault secret {self.secret_id} is disabled") from None
                raise
        return self._current

    @property
    def params(self) -> Mapping[str, str]:
        return dict(self.current().properties.tags or {})

    def _state_tag(self) -> tuple[str | None, str | None]:
        current_id, _, previous = self.params.get(TAG_STATE, "").partition(" ")
        return current_id or None, previous or None

    def _pending(self) -> Any | None:
        try:
            staged = self.client.get_secret(self.companion)
        except Exception as exc:
            if _missing(exc) or _disabled(exc):
                return None
            raise
        return staged if (staged.properties.tags or {}).get(META_PENDING_ID) else None

    def state(self) -> StoreState:
        current = self.current(fresh=True)
        current_id, previous = self._state_tag()
        staged = self._pending()
        tags = dict(staged.properties.tags or {}) if staged is not None else {}
        if staged is not None and current_id and tags.get(META_PENDING_ID) == current_id:
            self._clear_pending(staged)  # promoted before, the companion was not disabled yet
            staged, tags = None, {}
        return StoreState(
            current_version=current.properties.version,
            current_id=current_id,
            pending_id=tags.get(META_PENDING_ID),
            pending_base=tags.get(META_PENDING_BASE),
            previous_version=previous,
        )

    def current_value(self) -> str | None:
        value = self.current().value
        return value if isinstance(value, str) else None

    def pending_value(self) -> str | None:
        staged = self._pending()
        return staged.value if staged is not None else None

    def previous_value(self) -> str | None:
        _, previous = self._state_tag()
        if not previous:
            return None
        try:
            value = self.client.get_secret(self.name, previous).value
        except Exception as exc:
            if _missing(exc) or _disabled(exc):
                return None
            raise
        return value if isinstance(value, str) else None

    def admin_credentials(self, param: str) -> AdminCredentials:
        name = self.params[param]
        try:
            raw = self.client.get_secret(name).value
        except Exception as exc:
            if _missing(exc):
                raise ContractError(f"admin secret {name} does not exist") from None
            raise
        try:
            return AdminCredentials.parse(raw or "")
        except ValueError as exc:
            raise ContractError(f"admin secret {name}: {exc}") from None

    def stage(self, rotation_id: str, value: str) -> None:
        state = self.state()
        if state.pending_id == rotation_id:
            return
        if state.current_version is None:
            raise ContractError(f"Key Vault secret {self.secret_id} has no current version")
        self.client.set_secret(
            self.companion,
            value,
            content_type="text/plain",
            tags={
                TAG_PENDING_OF: self.name,
                META_PENDING_ID: rotation_id,
                META_PENDING_BASE: state.current_version,
            },
        )

    def _clear_pending(self, staged: Any) -> None:
        self.client.update_secret_properties(
            self.companion, staged.properties.version, enabled=False
        )

    def promote(self, rotation_id: str, *, now: datetime | None = None) -> None:
        state = self.state()
        if state.pending_id != rotation_id:
            if state.current_id == rotation_id:
                return
            raise ContractError(
                f"Key Vault secret {self.secret_id}: rotation {rotation_id} is not staged"
            )
        if state.pending_base != state.current_version:
            raise ConcurrentWriteError(
                f"Key Vault secret {self.secret_id}: version {state.current_version} became "
                f"current during rotation {rotation_id}"
            )
        staged = self._pending()
        assert staged is not None and state.current_version is not None
        current = self.current()
        when = now or utc_now()
        tags = {**self.params, TAG_STATE: f"{rotation_id} {state.current_version}"}
        written = self.client.set_secret(
            self.name,
            staged.value,
            content_type=current.properties.content_type,
            tags=tags,
            expires_on=next_rotation(tags, when),
        )
        self._check_no_interleaved_write(state.current_version, written.properties.version)
        self._clear_pending(staged)
        self._current = None

    def _check_no_interleaved_write(self, base: str, ours: str) -> None:
        versions = list(self.client.list_properties_of_secret_versions(self.name))
        by_id = {v.version: v for v in versions}
        if base not in by_id or ours not in by_id:
            return
        start, end = by_id[base].created_on, by_id[ours].created_on
        others = [
            v.version
            for v in versions
            if v.version not in (base, ours) and start <= v.created_on <= end
        ]
        if others:
            raise ConcurrentWriteError(
                f"Key Vault secret {self.secret_id}: versions {sorted(others)} were written "
                "during the rotation (Key Vault has no check-and-set); check which value is right"
            )


def _default_client(vault_url: str) -> Any:
    """A client logged in as the function app's managed identity (``azure_identity.py``), or,
    outside Azure Functions, with azure-identity's default chain."""
    from azure.keyvault.secrets import SecretClient

    from . import azure_identity

    if azure_identity.available():
        return SecretClient(vault_url=vault_url, credential=azure_identity.ManagedIdentity())
    from azure.identity import DefaultAzureCredential

    return SecretClient(vault_url=vault_url, credential=DefaultAzureCredential())


def handle_event(
    event: Mapping[str, Any],
    *,
    client: Any | None = None,
    replicas: ReplicaMap | None = None,
    clients: Clients | None = None,
    notifier: Notifier = log_notifier,
) -> Outcome | None:
    """Handle one Event Grid event (Event Grid or CloudEvents schema).

    ``Microsoft.KeyVault.SecretNearExpiry`` with ``data`` = ``{Id, VaultName, ObjectType,
    ObjectName, Version, NBF, EXP}`` rotates the secret unless the expiring version is no longer
    current (a stale or duplicate event). Other events return None. Raises when the rotation
    fails (Event Grid then retries the delivery).
    """
    kind = event.get("eventType") or event.get("type")
    data = event.get("data") or {}
    if kind != EVENT_NEAR_EXPIRY:
        logger.info("ignoring Event Grid event %s", kind)
        return None
    if data.get("ObjectType") != "Secret" or not isinstance(data.get("Id"), str):
        raise ContractError("a SecretNearExpiry event needs data.ObjectType Secret and data.Id")
    event_id = str(event.get("id") or "")
    if not event_id:
        raise ContractError("an Event Grid event needs an id")
    vault_url, name = split_secret_id(data["Id"])
    if data.get("ObjectName") not in (None, name):
        raise ContractError(f"event ObjectName {data.get('ObjectName')!r} does not match its Id")
    replicas = replicas_from_env() if replicas is None else replicas
    store = AzureStore(client or _default_client(vault_url), name)
    refuse_replica(store.secret_id, replicas)
    if name.endswith(PENDING_SUFFIX):
        logger.info("ignoring %s: a rotation companion", name)
        return None
    rotation_id = str(uuid.uuid5(ROTATION_NS, event_id))
    state = store.state()
    expiring = str(data.get("Version") or "")
    if (
        expiring
        and expiring != state.current_version
        and rotation_id not in {state.pending_id, state.current_id}
    ):
        logger.info("%s: version %s is no longer current; event ignored", name, expiring)
        return None
    writers = writers_for(store.secret_id, replicas, clients or Clients())
    return Rotation(store, writers, notifier=notifier, rotation_id=rotation_id).run()


def azure_function(event: Any) -> None:
    """Azure Functions Event Grid trigger entry point (``azure.functions.EventGridEvent``)."""
    if hasattr(event, "get_json"):
        payload = {"id": event.id, "eventType": event.event_type, "data": event.get_json()}
    else:
        payload = dict(event)
    handle_event(payload)
