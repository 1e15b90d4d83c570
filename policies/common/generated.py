"""Generated secret material (pulumi-random) is strong enough for what it protects."""

from __future__ import annotations

from collections.abc import Callable

from policies.framework import PackPolicy, Resource, Spec, number, resource_policy
from policies.model import UNKNOWN, Category, Severity

SPEC = Spec(
    id="random-secret-strength",
    description="Generated passwords and key material have enough length (passwords 16+ characters, "
    "keys 16+ random bytes)",
    severity=Severity.HIGH,
    category=Category.ENCRYPTION,
    remediation="Raise length: passwords >= 16 characters (32 for database users), keys >= 32 bytes for "
    "AES-256 and HMAC-SHA256.",
    resource_types=(
        "random:index/randomPassword:RandomPassword",
        "random:index/randomBytes:RandomBytes",
    ),
    config={
        "minPasswordLength": {"type": "integer", "minimum": 8, "default": 16},
        "minBytes": {"type": "integer", "minimum": 8, "default": 16},
    },
)


def _check(r: Resource, report: Callable[[str], None]) -> None:
    raw = r.get("length")
    if raw in (None, UNKNOWN):
        return
    length = number(raw)
    if length is None:
        report("length is not a number")
        return
    if r.type.endswith("RandomBytes"):
        minimum = int(r.config.get("minBytes", 16))
        if int(length) < minimum:
            report(f"{length:g} random bytes; at least {minimum}")
    else:
        minimum = int(r.config.get("minPasswordLength", 16))
        if int(length) < minimum:
            report(f"password length {length:g}; at least {minimum}")


POLICIES: list[PackPolicy] = [resource_policy(SPEC, _check)]
