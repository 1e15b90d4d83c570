"""Secret Manager secrets: customer-managed encryption everywhere, rotation on the class schedule,
payloads that are Pulumi secrets.

* ``gcp-secretmanager-cmek``: every replica of a secret (user-managed replication: each replica;
  automatic replication: the secret's key) and every regional secret is encrypted with a Cloud KMS
  key; a replica's key lives in the replica's location.
* ``gcp-secretmanager-rotation``: a secret whose ``rotation-class`` label names a class has a
  rotation schedule (``rotation.rotationPeriod`` with topics to notify) no longer than the class
  maximum; a secret without the label is held to the strictest default.
* ``gcp-secret-payload-marked-secret``: the payload inputs that ``all-secret-values-marked-secret``
  does not list (write-only ``secretDataWo``, regional secret versions) carry Pulumi secrets.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from policies.common.secret_values import secret_value_paths
from policies.contract.rotation import ROTATION_DAYS
from policies.contract.vocabulary import NONE, TAG_ROTATION_CLASS
from policies.framework import PackPolicy, Resource, Spec, resource_policy
from policies.gcp.common import (
    REGIONAL_SECRET,
    REGIONAL_SECRET_VERSION,
    SECRET,
    SECRET_TYPES,
    SECRET_VERSION,
    duration_seconds,
    labels,
)
from policies.lib.shapes import declare, is_set, pick, setting, truthy
from policies.model import UNKNOWN, Category, Severity

CMEK = Spec(
    id="gcp-secretmanager-cmek",
    description="Secret Manager secrets are encrypted with customer-managed Cloud KMS keys: every "
    "user-managed replica (in a key of its own location), the automatic replication's key, and "
    "every regional secret",
    severity=Severity.HIGH,
    category=Category.ENCRYPTION,
    remediation="Give each replica customerManagedEncryption.kmsKeyName, a key in the replica's "
    "location that the Secret Manager service agent may use (roles/cloudkms."
    "cryptoKeyEncrypterDecrypter on that key only); regional secrets: customerManagedEncryption.",
    resource_types=SECRET_TYPES,
)

_KEY_LOCATION_RE = re.compile(r"/locations/([^/]+)/keyRings/")

#: The shapes of the settings (pulumi-gcp 10 and 9: ``replication.auto`` and
#: ``replication.userManaged.replicas[]``, each with a maxItems-1 ``customerManagedEncryption``;
#: pulumi-gcp 6's deprecated ``replication.automatic: true`` is Google-managed encryption).
REGIONAL_KEY = declare((REGIONAL_SECRET,), "customerManagedEncryption.kmsKeyName")
REGIONAL_LOCATION = declare((REGIONAL_SECRET,), "location")
REPLICATION = declare((SECRET,), "replication")
AUTO = declare((SECRET,), "replication.auto|automatic")
AUTO_KEY = declare((SECRET,), "replication.auto.customerManagedEncryption.kmsKeyName")
REPLICAS = declare((SECRET,), "replication.userManaged.replicas")
REPLICA_KEY = "customerManagedEncryption.kmsKeyName"
ROTATION_PERIOD = declare(SECRET_TYPES, "rotation.rotationPeriod")
TOPICS = declare(SECRET_TYPES, "topics.name")


def _judge_key(key: Any, what: str, location: Any, report: Callable[[str], None]) -> None:
    if key == UNKNOWN:
        return
    if not isinstance(key, str) or not key.strip():
        report(f"{what} has no customer-managed key (Google-managed encryption)")
        return
    match = _KEY_LOCATION_RE.search(key)
    if isinstance(location, str) and location != UNKNOWN and match and match.group(1) != location:
        report(f"{what} is in {location} but its key is in {match.group(1)}")


def _cmek(r: Resource, report: Callable[[str], None]) -> None:
    props = r.props
    if r.type == REGIONAL_SECRET:
        _judge_key(
            setting(props, REGIONAL_KEY),
            "the regional secret",
            setting(props, REGIONAL_LOCATION),
            report,
        )
        return
    replication = pick(props, REPLICATION)
    if UNKNOWN in replication:
        return
    if not any(isinstance(x, Mapping) and x for x in replication):
        report("no replication policy: Secret Manager would encrypt with Google-managed keys")
        return
    for auto in pick(props, AUTO):
        if auto == UNKNOWN:
            return
        if auto is True or isinstance(auto, Mapping) or truthy(auto):
            _judge_key(setting(props, AUTO_KEY), "automatic replication", None, report)
            break
    replicas = pick(props, REPLICAS)
    if UNKNOWN in replicas:
        return
    for i, replica in enumerate(replicas):
        if not isinstance(replica, Mapping):
            continue
        location = setting(replica, "location")
        what = f"replica {i} ({location})" if isinstance(location, str) else f"replica {i}"
        _judge_key(setting(replica, REPLICA_KEY), what, location, report)


ROTATION = Spec(
    id="gcp-secretmanager-rotation",
    description="Secret Manager secrets have a rotation schedule (rotation.rotationPeriod, with "
    "topics to notify) within the maximum of their rotation-class label (api_key 90, "
    "database_password 180, jwt_secret 365, encryption_key 730 days; unlabelled: 90)",
    severity=Severity.HIGH,
    category=Category.ROTATION,
    remediation="Set rotation.rotationPeriod (seconds, e.g. 7776000s) at most the class maximum, "
    "rotation.nextRotationTime, and topics naming the Pub/Sub topic the rotation subscriber reads.",
    resource_types=SECRET_TYPES,
    config={
        "maximumDays": {
            "type": "object",
            "additionalProperties": {"type": "integer", "minimum": 1},
            "default": {c.value: d for c, d in ROTATION_DAYS.items()},
            "description": "maximum rotation period per rotation-class label value",
        },
        "untaggedMaximumDays": {
            "type": "integer",
            "minimum": 1,
            "default": 90,
            "description": "maximum rotation period of a secret without a rotation-class label",
        },
    },
)


def _rotation(r: Resource, report: Callable[[str], None]) -> None:
    klass = labels(r).get(TAG_ROTATION_CLASS)
    if klass == NONE:
        return  # declared not rotatable
    maximum: dict[str, int] = dict(
        r.config.get("maximumDays") or ROTATION.defaults()["maximumDays"]
    )
    if klass is None:
        limit: int | None = int(r.config.get("untaggedMaximumDays") or 90)
        klass = "unlabelled"
    else:
        limit = maximum.get(klass)
    if limit is None:
        report(f"unknown {TAG_ROTATION_CLASS} {klass!r}; known: {', '.join(sorted(maximum))}")
        return
    period = setting(r.props, ROTATION_PERIOD)
    if period == UNKNOWN:
        return
    if period in (None, ""):
        report(f"{klass} but no rotation.rotationPeriod (maximum {limit} days)")
        return
    try:
        days = duration_seconds(period) / 86400
    except ValueError:
        report(f"rotation.rotationPeriod {period!r} is not a number of seconds ('<n>s')")
        return
    if days > limit:
        report(f"rotates every {days:g} days; {klass} allows at most {limit}")
    if is_set(r.props, TOPICS) is False:
        report("rotation without topics: Secret Manager has nobody to notify")


PAYLOAD = Spec(
    id="gcp-secret-payload-marked-secret",
    description="Secret Manager payload inputs (secretData, the write-only secretDataWo, regional "
    "secret versions) are Pulumi secrets, beyond the fields all-secret-values-marked-secret lists",
    severity=Severity.CRITICAL,
    category=Category.PLAINTEXT,
    remediation="Pass the payload as a Pulumi secret (a pulumi-random output, "
    "config.require_secret, pulumi.Output.secret).",
    resource_types=(SECRET_VERSION, REGIONAL_SECRET_VERSION),
)

PAYLOAD_FIELDS = ("secretData", "secretDataWo")


def _payload(r: Resource, report: Callable[[str], None]) -> None:
    judged_elsewhere = set(secret_value_paths(r))
    for path in PAYLOAD_FIELDS:
        if path in judged_elsewhere:
            continue
        value = r.get(path)
        if value is None or value in (UNKNOWN, ""):
            continue
        marked = r.is_secret(path)
        if marked is None and path in r.additional_secret_outputs:
            continue
        if not marked:
            report(f"{path} holds a payload that is not a Pulumi secret: it would be in plaintext")


POLICIES: list[PackPolicy] = [
    resource_policy(CMEK, _cmek),
    resource_policy(ROTATION, _rotation),
    resource_policy(PAYLOAD, _payload),
]
