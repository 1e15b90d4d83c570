"""GCP Secret Manager as a rotation store (``driver.StoreTransport``) and its Pub/Sub handler.

Representation (docs/rotation.md, "GCP Secret Manager"): the staging labels are the secret's
``version_aliases``: ``current`` (what readers access: ``.../versions/current``), ``pending``
(the version being rotated in: added, enabled, but no reader uses it) and ``previous``. A secret
never rotated here has no ``current`` alias yet: its newest enabled version that is not pending
counts as current. Bookkeeping (rotation ids, the version a pending was staged on, the last
rotation time) lives in the secret's annotations; every alias/annotation change is a
``secrets.patch`` carrying the etag read before (Secret Manager refuses a stale etag with
FAILED_PRECONDITION: a concurrent writer). Parameters: the contract labels (``labels``,
decoded by ``policies.contract.gcp_labels``) plus the rotation parameters (annotations).

The handler (``handle_message``) takes a Secret Manager notification (a Pub/Sub message with
attributes ``eventType`` and ``secretId``) and rotates on ``SECRET_ROTATE``; every other event
type (including the SECRET_UPDATE / SECRET_VERSION_ADD the rotation itself causes) is
acknowledged and ignored. ``cloud_function`` / ``push_handler`` adapt Cloud Functions (CloudEvent)
and Cloud Run (push subscription) deliveries to it. google-cloud-secret-manager is imported
lazily, only to build a default client.
"""

from __future__ import annotations

import base64
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from policies.contract.gcp_labels import contract_labels

from .driver import (
    META_CURRENT_ID,
    META_LAST_ROTATED,
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

CURRENT: Final = "current"
PENDING: Final = "pending"
PREVIOUS: Final = "previous"
EVENT_ROTATE: Final = "SECRET_ROTATE"
#: Namespace of rotation ids derived from Pub/Sub message ids (a redelivery continues the same).
ROTATION_NS: Final = uuid.UUID("6f1d3c55-2c55-4a0e-9a45-6b9f4f1e2a10")


def _is(exc: Exception, *names: str) -> bool:
    """Whether ``exc`` is one of google.api_core's exceptions ``names``. Over REST a gRPC status
    arrives as its HTTP code (FAILED_PRECONDITION is a 400, BadRequest): read the status then."""
    name = type(exc).__name__
    if name == "BadRequest":
        try:
            status = exc.response.json()["error"]["status"]  # type: ignore[attr-defined]
        except Exception:
            status = ""
        name = {"FAILED_PRECONDITION": "FailedPrecondition", "ABORTED": "Aborted"}.get(status, name)
    return name in names


@dataclass
class GcpStore:
    client: Any  # google.cloud.secretmanager.SecretManagerServiceClient
    name: str  # projects/<project>/secrets/<id>
    _secret: Any = field(default=None, repr=False)

    @property
    def secret_id(self) -> str:
        return self.name

    @property
    def target(self) -> str:
        return f"gcp:{self.name}"

    def secret(self, *, fresh: bool = False) -> Any:
        if self._secret is None or fresh:
            try:
                self._secret = self.client.get_secret(name=self.name)
            except Exception as exc:
                if _is(exc, "NotFound"):
                    raise ContractError(f"GCP secret {self.name} does not exist") from None
                raise
        return self._secret

    @property
    def annotations(self) -> dict[str, str]:
        return dict(self.secret().annotations)

    @property
    def params(self) -> Mapping[str, str]:
        return {**contract_labels(dict(self.secret().labels)), **self.annotations}

    def _aliases(self) -> dict[str, int]:
        return {str(k): int(v) for k, v in self.secret().version_aliases.items()}

    def _newest_enabled(self, exclude: int | None) -> int | None:
        from google.cloud.secretmanager_v1 import SecretVersion

        best: int | None = None
        for version in self.client.list_secret_versions(parent=self.name):
            number = int(version.name.rsplit("/", 1)[1])
            if version.state == SecretVersion.State.ENABLED and number != exclude:
                best = number if best is None else max(best, number)
        return best

    def state(self) -> StoreState:
        self.secret(fresh=True)
        aliases = self._aliases()
        notes = self.annotations
        pending = aliases.get(PENDING)
        current = aliases.get(CURRENT) or self._newest_enabled(exclude=pending)
        return StoreState(
            current_version=str(current) if current else None,
            current_id=notes.get(META_CURRENT_ID) or None,
            pending_id=(notes.get(META_PENDING_ID) or None) if pending else None,
            pending_base=notes.get(META_PENDING_BASE) or None,
            previous_version=str(aliases[PREVIOUS]) if PREVIOUS in aliases else None,
        )

    def _access(self, version: int | str | None) -> str | None:
        if version is None:
            return None
        try:
            resp = self.client.access_secret_version(name=f"{self.name}/versions/{version}")
        except Exception as exc:
            if _is(exc, "NotFound", "FailedPrecondition"):
                return None  # destroyed or disabled
            raise
        return bytes(resp.payload.data).decode()

    def current_value(self) -> str | None:
        return self._access(self.state().current_version)

    def pending_value(self) -> str | None:
        return self._access(self._aliases().get(PENDING))

    def previous_value(self) -> str | None:
        return self._access(self._aliases().get(PREVIOUS))

    def admin_credentials(self, param: str) -> AdminCredentials:
        name = self.params[param]
        if "/" not in name:
            name = f"{self.name.rsplit('/secrets/', 1)[0]}/secrets/{name}"
        raw = GcpStore(self.client, name)._access(CURRENT) or GcpStore(self.client, name)._access(
            "latest"
        )
        try:
            return AdminCredentials.parse(raw or "")
        except ValueError as exc:
            raise ContractError(f"admin secret {name}: {exc}") from None

    def _patch(self, aliases: Mapping[str, int], notes: Mapping[str, str], **extra: Any) -> None:
        from google.cloud.secretmanager_v1 import Secret

        masks = ["version_aliases", "annotations", *extra.pop("_masks", [])]
        body = Secret(
            name=self.name,
            version_aliases=dict(aliases),
            annotations=dict(notes),
            etag=self.secret().etag,
            **extra,
        )
        try:
            self.client.update_secret(secret=body, update_mask={"paths": masks})
        except Exception as exc:
            if _is(exc, "FailedPrecondition", "Aborted"):
                raise ConcurrentWriteError(
                    f"GCP secret {self.name} changed concurrently (etag refused)"
                ) from None
            raise
        self._secret = None

    def stage(self, rotation_id: str, value: str) -> None:
        state = self.state()
        if state.pending_id == rotation_id:
            return
        if state.current_version is None:
            raise ContractError(f"GCP secret {self.name} has no current version")
        etag_secret = self.secret()
        version = self.client.add_secret_version(parent=self.name, payload={"data": value.encode()})
        number = int(version.name.rsplit("/", 1)[1])
        self._secret = etag_secret  # the patch must carry the etag read before the add
        aliases = {**self._aliases(), PENDING: number}
        notes = {
            **self.annotations,
            META_PENDING_ID: rotation_id,
            META_PENDING_BASE: state.current_version,
        }
        try:
            self._patch(aliases, notes)
        except ConcurrentWriteError:
            self.client.disable_secret_version(name=version.name)  # leave no stray value live
            raise

    def promote(self, rotation_id: str, *, now: datetime | None = None) -> None:
        state = self.state()
        if state.pending_id != rotation_id:
            if state.current_id == rotation_id:
                return
            raise ContractError(f"GCP secret {self.name}: rotation {rotation_id} is not staged")
        if state.pending_base != state.current_version:
            raise ConcurrentWriteError(
                f"GCP secret {self.name}: version {state.current_version} became current during "
                f"rotation {rotation_id}"
            )
        aliases = self._aliases()
        new = aliases.pop(PENDING)
        if state.current_version:
            aliases[PREVIOUS] = int(state.current_version)
        aliases[CURRENT] = new
        when = now or utc_now()
        notes = {
            k: v
            for k, v in self.annotations.items()
            if k not in (META_PENDING_ID, META_PENDING_BASE)
        }
        notes |= {META_CURRENT_ID: rotation_id, META_LAST_ROTATED: when.isoformat("T", "seconds")}
        extra: dict[str, Any] = {}
        rotation = self.secret().rotation
        if rotation is not None and rotation.rotation_period:
            from google.cloud.secretmanager_v1 import Rotation as GcpRotation

            extra = {
                "rotation": GcpRotation(
                    next_rotation_time=next_rotation(self.params, when),
                    rotation_period=rotation.rotation_period,
                ),
                "_masks": ["rotation.next_rotation_time"],
            }
        self._patch(aliases, notes, **extra)


def _time(raw: object) -> datetime | None:
    if isinstance(raw, datetime):
        return raw
    try:
        return datetime.fromisoformat(str(raw)) if raw else None
    except ValueError:
        return None


def _default_client() -> Any:
    from google.cloud import secretmanager

    return secretmanager.SecretManagerServiceClient()


def handle_message(
    message: Mapping[str, Any],
    *,
    client: Any | None = None,
    replicas: ReplicaMap | None = None,
    clients: Clients | None = None,
    notifier: Notifier = log_notifier,
) -> Outcome | None:
    """Handle one Secret Manager notification (``{"attributes", "messageId", "publishTime"}``).

    Returns the outcome of a rotation, or None for an event that is not a rotation (or a stale
    redelivery). Raises (so Pub/Sub redelivers) when the rotation fails.
    """
    attributes = message.get("attributes") or {}
    event = attributes.get("eventType")
    secret_id = attributes.get("secretId")
    if event != EVENT_ROTATE:
        logger.info("ignoring %s notification for %s", event, secret_id)
        return None
    if not isinstance(secret_id, str) or "/secrets/" not in secret_id:
        raise ContractError("a SECRET_ROTATE message needs a secretId attribute")
    message_id = str(message.get("messageId") or message.get("message_id") or "")
    if not message_id:
        raise ContractError("a SECRET_ROTATE message needs a messageId")
    replicas = replicas_from_env() if replicas is None else replicas
    refuse_replica(secret_id, replicas)
    store = GcpStore(client or _default_client(), secret_id)
    published = _time(message.get("publishTime") or message.get("publish_time"))
    last = _time(store.annotations.get(META_LAST_ROTATED))
    rotation_id = str(uuid.uuid5(ROTATION_NS, message_id))
    state = store.state()
    if (
        published
        and last
        and published < last
        and rotation_id
        not in {
            state.pending_id,
            state.current_id,
        }
    ):
        logger.info("%s: notification %s predates the last rotation", secret_id, message_id)
        return None
    writers = writers_for(secret_id, replicas, clients or Clients())
    return Rotation(store, writers, notifier=notifier, rotation_id=rotation_id).run()


def cloud_function(cloud_event: Any) -> None:
    """Cloud Functions (2nd gen) entry point with a Pub/Sub trigger: ``cloud_event.data`` is
    ``{"message": {...}, "subscription": ...}``."""
    data = cloud_event.data if hasattr(cloud_event, "data") else cloud_event["data"]
    handle_message(data["message"])


def push_handler(body: Mapping[str, Any]) -> Outcome | None:
    """A Pub/Sub push delivery (Cloud Run): the JSON body ``{"message": ..., "subscription"}``."""
    message = dict(body["message"])
    if "data" in message and isinstance(message["data"], str):
        message["data"] = base64.b64decode(message["data"])
    return handle_message(message)
