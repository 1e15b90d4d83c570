"""Vault / OpenBao KV v2 as a rotation store (``driver.StoreTransport``), and the job's ACL policy.

Representation (docs/rotation.md, "Vault KV v2"):

* **current** = the secret's latest KV v2 version, data ``{"value": ...}`` (what every reader
  reads); **previous** = the version named by custom metadata ``rotation-previous-version``
  (KV v2 keeps it readable while ``max_versions >= 2``, the mount default is 10).
* **pending** = a sibling secret ``<mount>/data/_rotation/<path>`` holding
  ``{"value", "rotation_id", "base"}``: no reader's policy names that path, so readers of the
  current value never see it. It keeps ``max_versions = 1`` and is overwritten with ``{}`` at
  promotion, so no old value lingers there.
* **promotion** = a new KV v2 version written with check-and-set ``cas = base`` (the version the
  rotation read): a concurrent writer makes Vault refuse it (``ConcurrentWriteError``). Then a
  JSON merge patch of the custom metadata records ``rotation-current-id``,
  ``rotation-previous-version`` and ``rotation-last-rotated``, and the pending sibling is cleared.
  A crash between the two is recognised on the next run (the new latest version is ``base + 1``
  and holds the staged value) and the bookkeeping is completed.
* **parameters** = the custom metadata (the contract labels the program writes, and
  ``rotation-period-days``).

``job_policy`` is the least-privilege ACL policy of the rotation job (exact paths only).
hvac is imported by the callers that build clients; this module only calls the client it is given.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from .driver import (
    META_CURRENT_ID,
    META_LAST_ROTATED,
    META_PREVIOUS_VERSION,
    ConcurrentWriteError,
    StoreState,
    utc_now,
)
from .errors import ContractError
from .strategies import AdminCredentials

#: Directory (inside the same mount) of the pending siblings.
PENDING_DIR: Final = "_rotation"
#: Separator of mount and path in a Vault secret id (the KV v2 data API path).
DATA_SEP: Final = "/data/"


@dataclass(frozen=True)
class VaultAddress:
    """A KV v2 secret: its mount and its path inside the mount."""

    mount: str
    path: str

    @classmethod
    def parse(cls, raw: str, *, what: str = "Vault address") -> VaultAddress:
        """``<mount>/data/<path>`` (the KV v2 data API path; ``secret_id`` of the store)."""
        mount, sep, path = raw.strip().strip("/").partition(DATA_SEP)
        if not sep or not mount or not path or path.startswith(PENDING_DIR + "/"):
            raise ContractError(f"{what} {raw!r} must be <mount>/data/<path>")
        return cls(mount, path)

    @property
    def secret_id(self) -> str:
        return f"{self.mount}{DATA_SEP}{self.path}"

    @property
    def pending(self) -> VaultAddress:
        return VaultAddress(self.mount, f"{PENDING_DIR}/{self.path}")

    def resolve(self, name: str) -> VaultAddress:
        """A secret named by a parameter: a full ``<mount>/data/<path>`` or a path in this mount."""
        return VaultAddress.parse(name) if DATA_SEP in name else VaultAddress(self.mount, name)


def _is_missing(exc: Exception) -> bool:
    import hvac.exceptions

    return isinstance(exc, hvac.exceptions.InvalidPath)


def _is_cas_refusal(exc: Exception) -> bool:
    import hvac.exceptions

    return isinstance(exc, hvac.exceptions.InvalidRequest) and "check-and-set" in str(exc)


@dataclass
class VaultStore:
    """One KV v2 secret as a ``driver.StoreTransport`` (home or replica)."""

    client: Any  # hvac.Client
    address: VaultAddress
    _meta: dict[str, Any] | None = field(default=None, repr=False)
    _pending: dict[str, Any] | None = field(default=None, repr=False)
    _pending_version: int = 0

    @property
    def secret_id(self) -> str:
        return self.address.secret_id

    @property
    def target(self) -> str:
        return f"vault:{self.secret_id}"

    @property
    def kv(self) -> Any:
        return self.client.secrets.kv.v2

    # --- reads ------------------------------------------------------------------------------
    def metadata(self, *, fresh: bool = False) -> dict[str, Any]:
        if self._meta is None or fresh:
            try:
                resp = self.kv.read_secret_metadata(
                    self.address.path, mount_point=self.address.mount
                )
            except Exception as exc:
                if _is_missing(exc):
                    raise ContractError(f"Vault secret {self.secret_id} does not exist") from None
                raise
            self._meta = dict(resp["data"])
        return self._meta

    @property
    def custom(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in (self.metadata().get("custom_metadata") or {}).items()}

    @property
    def params(self) -> Mapping[str, str]:
        return self.custom

    def _read(self, address: VaultAddress, version: int | None) -> tuple[dict[str, Any], int]:
        resp = self.kv.read_secret_version(
            address.path,
            version=version,
            mount_point=address.mount,
            raise_on_deleted_version=True,
        )
        return dict(resp["data"]["data"] or {}), int(resp["data"]["metadata"]["version"])

    def _version_value(self, version: int) -> str | None:
        try:
            data, _ = self._read(self.address, version)
        except Exception as exc:
            if _is_missing(exc):
                return None  # deleted, destroyed or pushed out by max_versions
            raise
        value = data.get("value")
        return value if isinstance(value, str) else None

    def _load_pending(self) -> dict[str, Any]:
        if self._pending is None:
            try:
                data, version = self._read(self.address.pending, None)
            except Exception as exc:
                if not _is_missing(exc):
                    raise
                data, version = {}, 0
            self._pending, self._pending_version = data, version
        return self._pending

    def _reset(self) -> None:
        self._meta = None
        self._pending = None

    def state(self) -> StoreState:
        self._reset()
        meta = self.metadata()
        current = int(meta.get("current_version") or 0)
        custom = self.custom
        pending = self._load_pending()
        pending_id = pending.get("rotation_id") or None
        base = str(pending.get("base")) if pending_id else None
        if pending_id and base != str(current) and self._landed(pending, current):
            self._complete(str(pending_id), int(str(base)))  # crash after the CAS write
            return self.state()
        return StoreState(
            current_version=str(current) if current else None,
            current_id=custom.get(META_CURRENT_ID) or None,
            pending_id=str(pending_id) if pending_id else None,
            pending_base=base,
            previous_version=custom.get(META_PREVIOUS_VERSION) or None,
        )

    def _landed(self, pending: Mapping[str, Any], current: int) -> bool:
        """Our check-and-set write happened but the bookkeeping did not (values compared here,
        never logged)."""
        base = str(pending.get("base", ""))
        return (
            base.isdigit()
            and current == int(base) + 1
            and self._version_value(current) == pending.get("value")
        )

    def current_value(self) -> str | None:
        current = int(self.metadata().get("current_version") or 0)
        return self._version_value(current) if current else None

    def pending_value(self) -> str | None:
        value = self._load_pending().get("value")
        return value if isinstance(value, str) and value else None

    def previous_value(self) -> str | None:
        previous = self.custom.get(META_PREVIOUS_VERSION, "")
        return self._version_value(int(previous)) if previous.isdigit() else None

    def admin_credentials(self, param: str) -> AdminCredentials:
        where = self.address.resolve(self.params[param])
        try:
            data, _ = self._read(where, None)
        except Exception as exc:
            if _is_missing(exc):
                raise ContractError(f"admin secret {where.secret_id} does not exist") from None
            raise
        raw = data.get("value")
        if not isinstance(raw, str):
            raw = json.dumps(data)  # an admin secret may also be stored as its JSON fields
        try:
            return AdminCredentials.parse(raw)
        except ValueError as exc:
            raise ContractError(f"admin secret {where.secret_id}: {exc}") from None

    # --- writes -----------------------------------------------------------------------------
    def stage(self, rotation_id: str, value: str) -> None:
        state = self.state()
        pending = self._load_pending()
        if pending.get("rotation_id") == rotation_id:
            return
        if state.current_version is None:
            raise ContractError(f"Vault secret {self.secret_id} has no current version")
        if self._pending_version == 0:
            # Keep one version only: the cleared sibling must not keep old values readable.
            self.kv.update_metadata(
                self.address.pending.path,
                max_versions=1,
                cas_required=True,
                mount_point=self.address.mount,
            )
        data = {"value": value, "rotation_id": rotation_id, "base": state.current_version}
        try:
            self.kv.create_or_update_secret(
                self.address.pending.path,
                secret=data,
                cas=self._pending_version,
                mount_point=self.address.mount,
            )
        except Exception as exc:
            if _is_cas_refusal(exc):
                raise ConcurrentWriteError(
                    f"Vault secret {self.secret_id}: another rotation staged a value concurrently"
                ) from None
            raise
        self._pending = None

    def promote(self, rotation_id: str, *, now: datetime | None = None) -> None:
        state = self.state()
        if state.pending_id != rotation_id:
            if state.current_id == rotation_id:
                return  # promoted before
            raise ContractError(
                f"Vault secret {self.secret_id}: rotation {rotation_id} is not staged"
            )
        pending = self._load_pending()
        base = int(str(pending["base"]))
        try:
            self.kv.create_or_update_secret(
                self.address.path,
                secret={"value": pending["value"]},
                cas=base,
                mount_point=self.address.mount,
            )
        except Exception as exc:
            if _is_cas_refusal(exc):
                raise ConcurrentWriteError(
                    f"Vault secret {self.secret_id}: version {base} is no longer current "
                    f"(check-and-set refused); rotation {rotation_id} not promoted"
                ) from None
            raise
        self._complete(rotation_id, base, now=now)

    def _complete(self, rotation_id: str, base: int, *, now: datetime | None = None) -> None:
        when = (now or utc_now()).isoformat(timespec="seconds")
        self.patch_custom_metadata(
            {
                META_CURRENT_ID: rotation_id,
                META_PREVIOUS_VERSION: str(base),
                META_LAST_ROTATED: when,
            }
        )
        self.kv.create_or_update_secret(
            self.address.pending.path,
            secret={},
            cas=self._pending_version,
            mount_point=self.address.mount,
        )
        self._reset()

    def patch_custom_metadata(self, changes: Mapping[str, str | None]) -> None:
        """JSON merge patch of the custom metadata (``None`` removes a key); other keys stay."""
        self.client.adapter.request(
            "PATCH",
            f"/v1/{self.address.mount}/metadata/{self.address.path}",
            json={"custom_metadata": dict(changes)},
            headers={"Content-Type": "application/merge-patch+json"},
        )
        self._meta = None


# --- the job's ACL policy -------------------------------------------------------------------------


def _rules(address: VaultAddress, *, write: bool) -> dict[str, list[str]]:
    m, p = address.mount, address.path
    if not write:
        return {f"{m}/data/{p}": ["read"]}
    return {
        f"{m}/data/{p}": ["read", "update"],
        f"{m}/metadata/{p}": ["patch", "read"],
        f"{m}/data/{PENDING_DIR}/{p}": ["create", "read", "update"],
        f"{m}/metadata/{PENDING_DIR}/{p}": ["create", "update"],
    }


def job_policy(
    rotated: Iterable[VaultAddress],
    *,
    admin_secrets: Iterable[VaultAddress] = (),
    replicas: Iterable[VaultAddress] = (),
) -> str:
    """The ACL policy (HCL) of the Vault rotation job: exact paths, nothing else.

    Per rotated secret and per Vault replica: read/update its data (read the versions, write
    the new one with check-and-set), read/patch its metadata (find it due, record the rotation),
    create/read/update its pending sibling and set that sibling's metadata (``max_versions``).
    Per admin secret: read. No list, no delete, no destroy, no sys/.
    """
    rules: dict[str, set[str]] = {}
    for address in (*rotated, *replicas):
        for path, caps in _rules(address, write=True).items():
            rules.setdefault(path, set()).update(caps)
    for address in admin_secrets:
        for path, caps in _rules(address, write=False).items():
            rules.setdefault(path, set()).update(caps)
    blocks = [
        f'path "{path}" {{\n  capabilities = {json.dumps(sorted(caps))}\n}}\n'
        for path, caps in sorted(rules.items())
    ]
    return "# neural-trader rotation job: exact paths only (infra/rotation/vault_store.py)\n" + (
        "\n".join(blocks)
    )
