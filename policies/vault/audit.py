"""Vault audit: the audit log holds HMACs of secrets, never the secrets.

* ``vault-audit-no-raw-logging``: audit devices do not log raw requests and responses
  (``log_raw``) and HMAC token accessors (``hmac_accessor``).
* ``vault-audit-hmac-secret-fields``: mounts and auth methods do not exempt secret-bearing fields
  from HMAC (``auditNonHmacRequestKeys`` / ``auditNonHmacResponseKeys``).

Read through the shapes reader: the options map, the tune block and the key lists may each be a
Pulumi secret envelope (or hold envelopes); an unreadable one is not judged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from policies.framework import PackPolicy, Resource, Spec, matches_any, resource_policy
from policies.lib.shapes import declare, setting
from policies.model import Category, Severity
from policies.vault.common import AUDIT, AUTH_BACKEND, MOUNT, falsy, listed, truthy

RAW = Spec(
    id="vault-audit-no-raw-logging",
    description="Vault audit devices HMAC what they log: log_raw is not enabled (in any spelling: "
    'true, "true", "1") and hmac_accessor is not disabled',
    severity=Severity.CRITICAL,
    category=Category.AUDIT,
    remediation="Remove log_raw and hmac_accessor from the audit device options (both default to "
    "the safe value); correlate entries with /sys/audit-hash instead of raw values.",
    resource_types=(AUDIT,),
)


OPTIONS = declare((AUDIT,), "options")


def _raw(r: Resource, report: Callable[[str], None]) -> None:
    options = setting(r.props, OPTIONS)
    if not isinstance(options, Mapping):
        return
    if truthy(options.get("log_raw")):
        report(
            "options.log_raw is enabled: secrets and tokens are written to the audit log in clear"
        )
    if falsy(options.get("hmac_accessor")):
        report("options.hmac_accessor is disabled: token accessors are written in clear")


#: Request/response fields that carry secret values (globs, case-insensitive).
SECRET_FIELDS = (
    "data",
    "value",
    "password",
    "*_password",
    "passphrase",
    "secret",
    "*_secret",
    "secret_id",
    "token",
    "*_token",
    "key",
    "*_key",
    "private_key",
    "ciphertext",
    "plaintext",
)

NON_HMAC = Spec(
    id="vault-audit-hmac-secret-fields",
    description="Mounts and auth methods do not exempt secret-bearing fields (data, value, "
    "password, secret, token, key, private_key, ciphertext, plaintext...; tunable) from audit-log "
    "HMAC through auditNonHmacRequestKeys or auditNonHmacResponseKeys",
    severity=Severity.HIGH,
    category=Category.AUDIT,
    remediation="Remove secret-bearing fields from auditNonHmacRequestKeys and "
    "auditNonHmacResponseKeys; list only fields that hold no secret (e.g. `ttl`, `version`).",
    resource_types=(MOUNT, AUTH_BACKEND),
    config={
        "secretFieldPatterns": {
            "type": "array",
            "items": {"type": "string"},
            "default": list(SECRET_FIELDS),
            "description": "glob patterns (case-insensitive) of field names that carry secrets",
        }
    },
)

NON_HMAC_FIELDS = ("auditNonHmacRequestKeys", "auditNonHmacResponseKeys")
#: resource type -> the paths of its HMAC exemption lists (an auth method's in its tune block)
NON_HMAC_PATHS = {
    MOUNT: tuple(declare((MOUNT,), f) for f in NON_HMAC_FIELDS),
    AUTH_BACKEND: tuple(declare((AUTH_BACKEND,), f"tune.{f}") for f in NON_HMAC_FIELDS),
}


def _lists(r: Resource) -> Iterator[tuple[str, list[str] | None]]:
    for path in NON_HMAC_PATHS.get(r.type, ()):
        yield path, listed(r.props, path)


def _non_hmac(r: Resource, report: Callable[[str], None]) -> None:
    configured = r.config.get("secretFieldPatterns")
    patterns = [p.lower() for p in (SECRET_FIELDS if configured is None else configured)]
    for field, value in _lists(r):
        for key in value or ():
            if matches_any(key.strip().lower(), patterns):
                report(
                    f"{field} exempts {key!r} from HMAC: its values reach the audit log in clear"
                )


POLICIES: list[PackPolicy] = [
    resource_policy(RAW, _raw),
    resource_policy(NON_HMAC, _non_hmac),
]
