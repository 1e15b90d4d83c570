"""What the Vault policies share: the resource types they judge and how they read values.

Pure: no pulumi, no pulumi_policy. Values arrive as the engine hands them to a policy (plain JSON,
unknown values as :data:`~policies.model.UNKNOWN`); every reader here names what it could not read
instead of guessing, so a check can fail closed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from policies.lib.shapes import pick, reveal
from policies.model import CIPHERTEXT, UNKNOWN

if TYPE_CHECKING:  # no runtime import: this module stays free of pulumi_policy
    from policies.framework import Resource

POLICY = "vault:index/policy:Policy"
KUBERNETES_ROLE = "vault:kubernetes/authBackendRole:AuthBackendRole"
KUBERNETES_CONFIG = "vault:kubernetes/authBackendConfig:AuthBackendConfig"
APPROLE_ROLE = "vault:appRole/authBackendRole:AuthBackendRole"
JWT_ROLE = "vault:jwt/authBackendRole:AuthBackendRole"
TOKEN_ROLE = "vault:tokenauth/authBackendRole:AuthBackendRole"
TOKEN = "vault:index/token:Token"
AUDIT = "vault:index/audit:Audit"
MOUNT = "vault:index/mount:Mount"
AUTH_BACKEND = "vault:index/authBackend:AuthBackend"
TRANSIT_KEY = "vault:transit/secretBackendKey:SecretBackendKey"
KV_V2 = "vault:kv/secretBackendV2:SecretBackendV2"
PROVIDER = "pulumi:providers:vault"
IDENTITY_POLICY_HOLDERS = (
    "vault:identity/entity:Entity",
    "vault:identity/group:Group",
    "vault:identity/entityPolicies:EntityPolicies",
    "vault:identity/groupPolicies:GroupPolicies",
)
#: Auth roles: each turns a login into a token carrying ``tokenPolicies``, with ``token*`` TTLs.
LOGIN_ROLES = (KUBERNETES_ROLE, APPROLE_ROLE, JWT_ROLE, TOKEN_ROLE)


def absent(value: Any) -> bool:
    """Not set: what Vault replaces with its default (None, an empty string, list or map)."""
    return value is None or value == "" or value == [] or value == {}


def strings(value: Any) -> list[str]:
    """The known string items of a list input (unknown and non-string items left out; secret
    envelopes around the list or an item removed)."""
    value = reveal(value)
    if not isinstance(value, list):
        return []
    return [v for v in (reveal(x) for x in value) if isinstance(v, str) and v != UNKNOWN]


def listed(props: Any, path: str) -> list[str] | None:
    """The string items of a list setting at ``path`` (:func:`~policies.lib.shapes.pick`: an
    envelope around the list or an item, a nested list); None when the list or one of its items
    cannot be read (unknown at preview, ciphertext): an unreadable list is never judged empty."""
    values = pick(props, path)
    if any(v == UNKNOWN for v in values):
        return None
    return [v for v in values if isinstance(v, str)]


def only_wildcards(value: str) -> bool:
    """``*``, ``**``...: a glob that matches every name."""
    return bool(value) and set(value) == {"*"}


# Vault reads booleans with Go's strconv.ParseBool; the extra spellings only make a check stricter.
_TRUE = frozenset({"1", "t", "true", "y", "yes", "on"})
_FALSE = frozenset({"0", "f", "false", "n", "no", "off"})


def truthy(value: Any) -> bool:
    """True in any spelling (``True``, ``"true"``, ``"TRUE"``, ``"1"``, ``1``), in a secret
    envelope or not."""
    value = reveal(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    return isinstance(value, str) and value.strip().lower() in _TRUE


def falsy(value: Any) -> bool:
    """False in any spelling (``False``, ``"false"``, ``"0"``, ``0``), in a secret envelope or
    not; an absent value is not."""
    value = reveal(value)
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value == 0
    return isinstance(value, str) and value.strip().lower() in _FALSE


_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
    "d": 86400.0,  # Vault's parseutil adds days to Go's units
}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h|d)")
_BARE_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def duration_seconds(value: Any) -> float:
    """Seconds in a TTL/period input: a number of seconds, a numeric string (Vault reads it as
    seconds) or a Go duration string (``"720h"``, ``"1h30m"``, ``"1.5h"``, ``"90s"``; Vault's
    ``"30d"`` too). Raises ValueError on anything else, negative values included."""
    if isinstance(value, bool):
        raise ValueError("a boolean is not a duration")
    if isinstance(value, (int, float)):
        if not math.isfinite(value) or value < 0:
            raise ValueError("not a finite, non-negative duration")
        return float(value)
    if not isinstance(value, str):
        raise ValueError("not a duration")
    text = value.strip()
    if _BARE_NUMBER.fullmatch(text):
        return float(text)
    text = text.removeprefix("+")
    if not text:
        raise ValueError("empty duration")
    total, pos = 0.0, 0
    while pos < len(text):
        match = _PART.match(text, pos)
        if match is None:
            raise ValueError("not a Go duration")
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    return total


def human(seconds: float) -> str:
    """``90`` -> ``90s``, ``7200`` -> ``2h``, ``63072000`` -> ``730d`` (for messages)."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def policy_names(value: Any) -> Iterator[str]:
    """Policy names of a list input as Vault stores them (trimmed, lower-cased)."""
    for name in strings(value):
        yield name.strip().lower()


def plaintext(r: Resource, field: str) -> bool:
    """A credential input holds a known value that is not secret-marked. Offline the exact markers
    are known; under the engine secretness is invisible (CrossGuard), so a known value passes only
    when the field is listed in ``additionalSecretOutputs``. Unknown (preview) and encrypted (state)
    values pass."""
    value = r.get(field)
    if not isinstance(value, str) or not value.strip() or value in (UNKNOWN, CIPHERTEXT):
        return False
    marked = r.is_secret(field)  # None under the engine
    covered = marked is None and field in r.additional_secret_outputs
    return not (marked or covered)
