"""Vault transit keys: key material never leaves Vault, keys are not deleted, keys rotate.

* ``vault-transit-key-not-exportable``: no ``exportable``, no ``allowPlaintextBackup`` (both are
  irreversible in Vault: once set, they cannot be unset).
* ``vault-transit-key-deletion-protection``: no ``deletionAllowed`` (deleting a transit key makes
  every ciphertext it produced undecryptable).
* ``vault-transit-key-rotation``: ``autoRotatePeriod`` set, not 0, at most a tunable maximum.
"""

from __future__ import annotations

from collections.abc import Callable

from policies.framework import PackPolicy, Resource, Spec, resource_policy
from policies.model import UNKNOWN, Category, Severity
from policies.vault.common import TRANSIT_KEY, absent, duration_seconds, human, truthy

EXPORT = Spec(
    id="vault-transit-key-not-exportable",
    description="Transit keys keep their key material inside Vault: exportable and "
    "allowPlaintextBackup are not enabled (Vault never lets either be turned off again)",
    severity=Severity.CRITICAL,
    category=Category.ENCRYPTION,
    remediation="Create the key without exportable and allowPlaintextBackup; a key that already "
    "has them must be replaced by a new key (rewrap the data under it, then retire the old key).",
    resource_types=(TRANSIT_KEY,),
)


def _export(r: Resource, report: Callable[[str], None]) -> None:
    for field, what in (
        ("exportable", "its key material can be exported"),
        ("allowPlaintextBackup", "its backups hold the key material in plaintext"),
    ):
        if truthy(r.get(field)):
            report(f"{field} is true: {what}")


DELETION = Spec(
    id="vault-transit-key-deletion-protection",
    description="Transit keys cannot be deleted (deletionAllowed is not true): deleting a key makes "
    "every ciphertext it produced undecryptable",
    severity=Severity.HIGH,
    category=Category.DELETION_PROTECTION,
    remediation="Leave deletionAllowed unset (false); set it only in the change that retires the "
    "key, after its data is rewrapped under another key.",
    resource_types=(TRANSIT_KEY,),
)


def _deletion(r: Resource, report: Callable[[str], None]) -> None:
    if truthy(r.get("deletionAllowed")):
        report("deletionAllowed is true: the key can be deleted with every ciphertext it protects")


MAXIMUM_ROTATION = 730 * 86400  # 63072000 s

ROTATION = Spec(
    id="vault-transit-key-rotation",
    description="Transit keys rotate automatically: autoRotatePeriod is set, not 0, and at most "
    'maximumAutoRotatePeriod (default 730 days; seconds or a Go duration such as "720h")',
    severity=Severity.MEDIUM,
    category=Category.ROTATION,
    remediation="Set autoRotatePeriod (e.g. 7776000 for 90 days); old versions stay available for "
    "decryption (minDecryptionVersion) while new data uses the latest.",
    resource_types=(TRANSIT_KEY,),
    config={
        "maximumAutoRotatePeriod": {
            "type": "integer",
            "minimum": 3600,
            "default": MAXIMUM_ROTATION,
            "description": "seconds",
        }
    },
)


def _rotation(r: Resource, report: Callable[[str], None]) -> None:
    value = r.get("autoRotatePeriod")
    if value == UNKNOWN:
        return
    if absent(value):
        report("autoRotatePeriod is not set: the key never rotates")
        return
    try:
        seconds = duration_seconds(value)
    except ValueError:
        report("autoRotatePeriod is not a number of seconds or a duration")
        return
    maximum = int(r.config.get("maximumAutoRotatePeriod", MAXIMUM_ROTATION))
    if seconds == 0:
        report("autoRotatePeriod is 0: the key never rotates")
    elif seconds > maximum:
        report(f"autoRotatePeriod is {human(seconds)}; at most {human(maximum)}")


POLICIES: list[PackPolicy] = [
    resource_policy(EXPORT, _export),
    resource_policy(DELETION, _deletion),
    resource_policy(ROTATION, _rotation),
]
