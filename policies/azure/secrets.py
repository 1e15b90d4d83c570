"""Key Vault secrets and keys: they expire, say what they hold, and keys rotate in HSMs.

* ``azure-keyvault-secret-expiry``: every secret has an expiry (Key Vault announces
  ``SecretNearExpiry`` 30 days before it, which is what pages the rotation).
* ``azure-keyvault-secret-content-type``: every secret has a content type.
* ``azure-keyvault-key-expiry``: every key expires (its attributes or its rotation policy).
* ``azure-keyvault-key-hsm``: production keys are HSM-backed (``RSA-HSM``, ``EC-HSM``).
* ``azure-keyvault-key-rotation``: every key has a rotation policy that rotates it within the
  maximum of its ``rotation-class`` tag and notifies before it expires.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from policies.azure.common import (
    CLASSIC_KEY,
    KEY_TYPES,
    NATIVE_KEY,
    NATIVE_SECRET,
    ROTATION_DAYS,
    SECRET_TYPES,
    TAG_ROTATION_CLASS,
    tags,
)
from policies.framework import (
    PRODUCTION_ENVIRONMENTS_KEY,
    PRODUCTION_ENVIRONMENTS_SCHEMA,
    PackPolicy,
    Resource,
    Spec,
    resource_policy,
)
from policies.lib.shapes import declare, setting, unwrap
from policies.model import UNKNOWN, Category, Severity

SECRET_EXPIRY = Spec(
    id="azure-keyvault-secret-expiry",
    description="Key Vault secrets have an expiry date (near-expiry events drive rotation)",
    severity=Severity.MEDIUM,
    category=Category.ROTATION,
    remediation="Set properties.attributes.expires (classic: expirationDate) to the end of the "
    "secret's rotation period.",
    resource_types=SECRET_TYPES,
    checkov=("CKV_AZURE_41",),
)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == 0


#: azure-native 3 (and 2): ``properties.attributes`` (``expires`` and ``notBefore`` in seconds;
#: ARM's own ``exp``/``nbf`` are renamed by the SDK), the same shape in inputs and outputs.
EXPIRES = declare((NATIVE_SECRET,), "properties.attributes.expires")
CONTENT = declare((NATIVE_SECRET,), "properties.contentType")
#: a key's settings: under ``properties`` in inputs, flat in azure-native's outputs
for _path in (
    "kty",
    "attributes.expires",
    "rotationPolicy.attributes.expiryTime",
    "rotationPolicy.lifetimeActions.action.type",
    "rotationPolicy.lifetimeActions.trigger.timeAfterCreate",
):
    declare((NATIVE_KEY,), f"properties.{_path}")
    declare((NATIVE_KEY,), _path)


def _secret_expiry(r: Resource, report: Callable[[str], None]) -> None:
    path = EXPIRES if r.type == NATIVE_SECRET else "expirationDate"
    value = setting(r.props, path)
    if value != UNKNOWN and _empty(value):
        report(f"no expiry ({path}): nothing announces that it is due")


CONTENT_TYPE = Spec(
    id="azure-keyvault-secret-content-type",
    description="Key Vault secrets declare a content type",
    severity=Severity.LOW,
    category=Category.PLAINTEXT,
    remediation="Set properties.contentType (classic: contentType), e.g. text/plain.",
    resource_types=SECRET_TYPES,
    checkov=("CKV_AZURE_114",),
)


def _content_type(r: Resource, report: Callable[[str], None]) -> None:
    path = CONTENT if r.type == NATIVE_SECRET else "contentType"
    value = setting(r.props, path)
    if value != UNKNOWN and (not isinstance(value, str) or not value.strip()):
        report(f"no content type ({path})")


def _key_props(r: Resource) -> dict[str, Any]:
    """A key's settings with secret envelopes removed at any depth: azure-native's inputs keep
    them under ``properties``, its outputs flat; the classic provider flat."""
    raw = r.get("properties") if r.type == NATIVE_KEY and "properties" in r.props else r.props
    p = unwrap(raw)
    return p if isinstance(p, dict) else {}


KEY_EXPIRY = Spec(
    id="azure-keyvault-key-expiry",
    description="Key Vault keys expire (an expiry date or a rotation policy's expiry time)",
    severity=Severity.MEDIUM,
    category=Category.ROTATION,
    remediation="Set properties.attributes.expires and rotationPolicy.attributes.expiryTime "
    "(classic: expirationDate, rotationPolicy.expireAfter).",
    resource_types=KEY_TYPES,
    checkov=("CKV_AZURE_40",),
)


def _key_expiry(r: Resource, report: Callable[[str], None]) -> None:
    props = _key_props(r)
    policy = props.get("rotationPolicy")
    if r.type == NATIVE_KEY:
        attrs = props.get("attributes")
        direct = attrs.get("expires") if isinstance(attrs, dict) else None
        pattrs = policy.get("attributes") if isinstance(policy, dict) else None
        via_policy = pattrs.get("expiryTime") if isinstance(pattrs, dict) else None
    else:
        direct = props.get("expirationDate")
        via_policy = policy.get("expireAfter") if isinstance(policy, dict) else None
    if UNKNOWN in (direct, via_policy, policy):
        return
    if _empty(direct) and _empty(via_policy):
        report("the key never expires")


HSM = Spec(
    id="azure-keyvault-key-hsm",
    description="Production Key Vault keys are HSM-backed (RSA-HSM, EC-HSM; premium vaults)",
    severity=Severity.MEDIUM,
    category=Category.ENCRYPTION,
    remediation="Use kty RSA-HSM (classic keyType) in a premium vault.",
    resource_types=KEY_TYPES,
    checkov=("CKV_AZURE_112",),
    config={PRODUCTION_ENVIRONMENTS_KEY: dict(PRODUCTION_ENVIRONMENTS_SCHEMA)},
)


def _hsm(r: Resource, report: Callable[[str], None]) -> None:
    if not r.in_production():
        return
    kty = _key_props(r).get("kty" if r.type == NATIVE_KEY else "keyType")
    if kty == UNKNOWN:
        return
    if not isinstance(kty, str) or not kty.upper().endswith("-HSM"):
        report(f"key type {kty!r} is not HSM-backed in production")


_DURATION_RE = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?$")


def iso_days(value: Any) -> float | None:
    """Days of an ISO 8601 duration of years, months and days (``P90D``, ``P1Y``, ``P2Y6M``);
    None otherwise."""
    if not isinstance(value, str):
        return None
    match = _DURATION_RE.fullmatch(value.strip().upper())
    if match is None or not any(match.groups()):
        return None
    years, months, days = (int(g) if g else 0 for g in match.groups())
    return years * 365 + months * 30 + days


ROTATION = Spec(
    id="azure-keyvault-key-rotation",
    description="Key Vault keys have a rotation policy that rotates them within the maximum of "
    "their rotation-class tag (encryption_key 730 days; untagged 365) and notifies before expiry",
    severity=Severity.HIGH,
    category=Category.ROTATION,
    remediation="Give the key rotationPolicy.lifetimeActions: rotate with trigger "
    "timeAfterCreate (e.g. P730D) and notify with timeBeforeExpiry (e.g. P30D).",
    resource_types=KEY_TYPES,
    config={
        "maximumDays": {
            "type": "object",
            "additionalProperties": {"type": "integer", "minimum": 1},
            "default": dict(ROTATION_DAYS),
            "description": "maximum rotation period per rotation-class tag value",
        },
        "untaggedMaximumDays": {
            "type": "integer",
            "minimum": 1,
            "default": 365,
            "description": "maximum rotation period of a key without a rotation-class tag",
        },
    },
)


def _rotation(r: Resource, report: Callable[[str], None]) -> None:
    policy = _key_props(r).get("rotationPolicy")
    if policy == UNKNOWN:
        return
    if not isinstance(policy, dict):
        report("no rotation policy: the key is never rotated")
        return
    klass = tags(r).get(TAG_ROTATION_CLASS)
    maximum = (r.config.get("maximumDays") or {}).get(klass) if klass else None
    limit = float(maximum or r.config.get("untaggedMaximumDays") or 365)
    rotate: list[float | None] = []
    notify = False
    if r.type == CLASSIC_KEY:
        automatic = policy.get("automatic")
        if isinstance(automatic, dict):
            after = automatic.get("timeAfterCreation")
            before = automatic.get("timeBeforeExpiry")
            if after == UNKNOWN or before == UNKNOWN:
                return
            rotate.append(iso_days(after) if after else None)
        notify = bool(policy.get("notifyBeforeExpiry"))
    else:
        actions = policy.get("lifetimeActions")
        if actions == UNKNOWN:
            return
        for a in actions if isinstance(actions, list) else []:
            if not isinstance(a, dict):
                continue
            action, trigger = a.get("action"), a.get("trigger")
            kind = str(action.get("type", "")).lower() if isinstance(action, dict) else ""
            trigger = trigger if isinstance(trigger, dict) else {}
            if kind == "rotate":
                after = trigger.get("timeAfterCreate")
                rotate.append(iso_days(after) if after else None)
            elif kind == "notify":
                notify = True
    if not rotate:
        report("the rotation policy never rotates the key (no rotate action)")
    elif all(d is None or d > limit for d in rotate):
        report(f"the key rotates later than its {int(limit)}-day maximum ({klass or 'untagged'})")
    if not notify:
        report("the rotation policy notifies nobody before the key expires")


POLICIES: list[PackPolicy] = [
    resource_policy(SECRET_EXPIRY, _secret_expiry),
    resource_policy(CONTENT_TYPE, _content_type),
    resource_policy(KEY_EXPIRY, _key_expiry),
    resource_policy(HSM, _hsm),
    resource_policy(ROTATION, _rotation),
]
