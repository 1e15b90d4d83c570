"""Vault KV v2 mounts: writes cannot silently overwrite, and old versions are kept within bounds.

* ``vault-kv-check-and-set``: ``casRequired: true``, so every write names the version it replaces
  (two rotations racing, or a stale writer, fail instead of losing a value).
* ``vault-kv-version-retention``: the number of versions kept is within a tunable range. Vault
  reads an unset or 0 ``maxVersions`` as its default of 10 (not "unlimited"), so that is judged as
  10. The minimum (2) keeps the previous value through a rotation, for rollback; the maximum (100)
  stops values that were rotated out long ago from staying readable.
"""

from __future__ import annotations

from collections.abc import Callable

from policies.framework import PackPolicy, Resource, Spec, number, resource_policy
from policies.lib.shapes import declare, setting
from policies.model import UNKNOWN, Category, Severity
from policies.profile import Profile
from policies.vault.common import KV_V2, absent, truthy

CAS = Spec(
    id="vault-kv-check-and-set",
    profile=Profile.PROJECT,
    house="check-and-set is this project's guard for its rotation writers; Vault's default (off) is not a weakness a reviewer would report",
    description="KV v2 mounts require check-and-set (casRequired: true): a write must name the "
    "version it replaces, so a stale or racing writer fails instead of overwriting a rotated value",
    severity=Severity.MEDIUM,
    category=Category.ROTATION,
    remediation="Set casRequired: true on the vault.kv.SecretBackendV2; writers pass "
    "options.cas (0 to create, the current version to update).",
    resource_types=(KV_V2,),
)


CAS_REQUIRED = declare((KV_V2,), "casRequired")
MAX_VERSIONS = declare((KV_V2,), "maxVersions")


def _cas(r: Resource, report: Callable[[str], None]) -> None:
    value = setting(r.props, CAS_REQUIRED)
    if value != UNKNOWN and not truthy(value):
        report("casRequired is not true: any write overwrites the current version")


DEFAULT_VERSIONS = 10  # what Vault keeps when maxVersions is unset or 0

RETENTION = Spec(
    id="vault-kv-version-retention",
    description="KV v2 mounts keep between minimumVersions (default 2: the previous value survives "
    "a rotation) and maximumVersions (default 100) versions per secret; unset or 0 means Vault's "
    "default of 10",
    severity=Severity.LOW,
    category=Category.DELETION_PROTECTION,
    remediation="Set maxVersions within the range (e.g. 10).",
    resource_types=(KV_V2,),
    config={
        "minimumVersions": {"type": "integer", "minimum": 1, "default": 2},
        "maximumVersions": {"type": "integer", "minimum": 1, "default": 100},
    },
)


def _retention(r: Resource, report: Callable[[str], None]) -> None:
    value = setting(r.props, MAX_VERSIONS)
    if value == UNKNOWN:
        return
    versions = DEFAULT_VERSIONS if absent(value) else number(value)
    if versions is None:
        report("maxVersions is not a number")
        return
    if versions == 0:
        versions = DEFAULT_VERSIONS
    low = int(r.config.get("minimumVersions", 2))
    high = int(r.config.get("maximumVersions", 100))
    if versions < low:
        report(
            f"maxVersions is {versions:g}; at least {low} (the previous value must survive a rotation)"
        )
    elif versions > high:
        report(f"maxVersions is {versions:g}; at most {high} (rotated-out values stay readable)")


POLICIES: list[PackPolicy] = [
    resource_policy(CAS, _cas),
    resource_policy(RETENTION, _retention),
]
