"""The access matrix: KV v2 operations, what the estate says each role may do, and doing it.

Every check DOES the operation with the role's own token: hvac raising ``Forbidden`` (HTTP 403) is
"denied", success is "allowed" (and its effect is verified), anything else is an error. Mutating
checks work on a fresh version written by root first, and root restores the planned value (and
metadata) afterwards, so the order of the checks does not matter.
"""

from __future__ import annotations

import secrets as pysecrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import hvac
from hvac.exceptions import Forbidden

from infra.access import Action, Role
from infra.estate import StoredSecret
from nt_secrets.capture import CapturedResource
from tests.vault.apply import secret_metadata, secret_value, write_secret


class Op(StrEnum):
    READ_DATA = "read-data"
    WRITE_DATA = "write-data"
    LIST_DIR = "list-metadata-dir"
    READ_METADATA = "read-metadata"
    UPDATE_METADATA = "update-metadata"
    DELETE_LATEST = "delete-latest-version"
    UNDELETE = "undelete-version"
    DESTROY = "destroy-version"
    DELETE_METADATA = "delete-metadata"


def expected(op: Op, secret: StoredSecret, role: Role) -> bool:
    """What the estate grants ``role`` on ``secret`` for one KV operation.

    read -> read data; describe -> read metadata; write -> create/update data; manage ->
    delete/undelete/destroy versions and update/delete metadata. Listing a metadata directory
    reveals the names of the secrets in it: the access model grants it to the roles that describe
    every secret (``Role.describe_all``, what the AWS backend turns into ``ListSecrets``). A revoked
    secret's value is read by nobody and written only by the roles that manage it.
    """
    actions = secret.grants.get(role.name, frozenset())
    if op is Op.READ_DATA:
        return Action.READ in actions and not secret.revoked
    if op is Op.WRITE_DATA:
        return Action.MANAGE in actions if secret.revoked else Action.WRITE in actions
    if op is Op.LIST_DIR:
        return role.describe_all
    if op is Op.READ_METADATA:
        return Action.DESCRIBE in actions
    return Action.MANAGE in actions


@dataclass(frozen=True)
class Target:
    """One planned KV v2 secret on the server."""

    resource: CapturedResource

    @property
    def mount(self) -> str:
        return str(self.resource.raw_inputs["mount"])

    @property
    def path(self) -> str:
        return str(self.resource.raw_inputs["name"])

    @property
    def catalog_name(self) -> str:
        return str(self.resource.raw_inputs["customMetadata"]["data"]["catalog-name"])

    def api(self, kind: str) -> str:
        return f"{self.mount}/{kind}/{self.path}"

    @property
    def directory(self) -> str:
        return f"{self.mount}/metadata/{self.path.rsplit('/', 1)[0]}/"


class Denied(Exception):
    pass


@dataclass
class Checker:
    """Runs operations with a role's client; root prepares fresh versions and restores."""

    root: hvac.Client
    written: set[str]

    # ---- root helpers --------------------------------------------------------------------------

    def metadata(self, t: Target) -> dict[str, Any] | None:
        resp = self.root.read(t.api("metadata"))
        return None if resp is None else dict(resp["data"])

    def current(self, t: Target) -> int:
        meta = self.metadata(t)
        assert meta is not None, f"{t.catalog_name}: gone from the server"
        return int(meta["current_version"])

    def _put(self, t: Target, data: dict[str, Any], cas: int) -> int:
        resp = self.root.write_data(t.api("data"), data={"data": data, "options": {"cas": cas}})
        return int(resp["data"]["version"])

    def scratch(self, t: Target) -> int:
        """A fresh version (a distinctive fake value) on top of the current one."""
        value = f"FAKE-scratch-{pysecrets.token_hex(8)}"
        self.written.add(value)
        return self._put(t, {"value": value}, self.current(t))

    def restore(self, t: Target) -> None:
        """The planned value as the latest (undeleted) version, the planned metadata."""
        meta = self.metadata(t)
        if meta is None:  # metadata deleted: recreate exactly as the plan does (cas 0)
            write_secret(self.root, t.resource, cas=0, written=self.written)
            return
        latest = meta["versions"][str(meta["current_version"])]
        value = self.root.read(t.api("data"))
        data = None if value is None else value["data"]["data"]
        if latest["deletion_time"] or latest["destroyed"] or data != secret_value(t.resource):
            self._put(t, secret_value(t.resource), int(meta["current_version"]))

    # ---- the operations (role client) ----------------------------------------------------------

    def read_data(self, c: hvac.Client, t: Target) -> None:
        resp = c.read(t.api("data"))
        assert resp is not None, f"{t.catalog_name}: no data"
        assert resp["data"]["data"] == secret_value(t.resource)

    def write_data(self, c: hvac.Client, t: Target) -> None:
        version = self.current(t)
        value = f"FAKE-matrix-{pysecrets.token_hex(8)}"
        self.written.add(value)
        try:
            c.write_data(
                t.api("data"), data={"data": {"value": value}, "options": {"cas": version}}
            )
            stored = self.root.read(t.api("data"))
            assert stored is not None and stored["data"]["data"] == {"value": value}
            assert stored["data"]["metadata"]["version"] == version + 1
        finally:
            self.restore(t)

    def list_dir(self, c: hvac.Client, t: Target) -> None:
        resp = c.list(t.directory)
        assert resp is not None, f"{t.directory}: nothing listed"
        assert t.path.rsplit("/", 1)[1] in resp["data"]["keys"]

    def read_metadata(self, c: hvac.Client, t: Target) -> None:
        resp = c.read(t.api("metadata"))
        assert resp is not None
        assert resp["data"]["custom_metadata"] == secret_metadata(t.resource)["custom_metadata"]

    def update_metadata(self, c: hvac.Client, t: Target) -> None:
        # The planned metadata again: proves the capability without changing anything.
        c.write_data(t.api("metadata"), data=secret_metadata(t.resource))

    def delete_latest(self, c: hvac.Client, t: Target) -> None:
        version = self.scratch(t)
        try:
            c.delete(t.api("data"))
            meta = self.metadata(t)
            assert meta is not None and meta["versions"][str(version)]["deletion_time"]
        finally:
            self.restore(t)

    def undelete(self, c: hvac.Client, t: Target) -> None:
        version = self.scratch(t)
        try:
            self.root.delete(t.api("data"))
            c.write_data(t.api("undelete"), data={"versions": [version]})
            meta = self.metadata(t)
            assert meta is not None and not meta["versions"][str(version)]["deletion_time"]
        finally:
            self.restore(t)

    def destroy(self, c: hvac.Client, t: Target) -> None:
        version = self.scratch(t)
        try:
            c.write_data(t.api("destroy"), data={"versions": [version]})
            meta = self.metadata(t)
            assert meta is not None and meta["versions"][str(version)]["destroyed"]
        finally:
            self.restore(t)

    def delete_metadata(self, c: hvac.Client, t: Target) -> None:
        try:
            c.delete(t.api("metadata"))
            assert self.metadata(t) is None, "metadata still there"
        finally:
            self.restore(t)

    def run(self, op: Op, c: hvac.Client, t: Target) -> str:
        """``allowed`` / ``denied`` / ``error: ...`` for one operation."""
        try:
            OPERATIONS[op](self, c, t)
        except Forbidden:
            return "denied"
        except (hvac.exceptions.VaultError, AssertionError, KeyError) as exc:
            return f"error: {type(exc).__name__}: {exc}"
        return "allowed"


OPERATIONS: Mapping[Op, Callable[[Checker, hvac.Client, Target], None]] = {
    Op.READ_DATA: Checker.read_data,
    Op.WRITE_DATA: Checker.write_data,
    Op.LIST_DIR: Checker.list_dir,
    Op.READ_METADATA: Checker.read_metadata,
    Op.UPDATE_METADATA: Checker.update_metadata,
    Op.DELETE_LATEST: Checker.delete_latest,
    Op.UNDELETE: Checker.undelete,
    Op.DESTROY: Checker.destroy,
    Op.DELETE_METADATA: Checker.delete_metadata,
}
assert set(OPERATIONS) == set(Op)
