"""Cloud KMS keys: symmetric keys rotate automatically, at most every 90 days.

* ``gcp-kms-key-rotation``: an ``ENCRYPT_DECRYPT`` key (the CMEK kind; asymmetric keys cannot
  rotate automatically) has ``rotationPeriod`` set and at most ``maximumDays`` (default 90: CIS
  Google Cloud 1.10, checkov CKV_GCP_43).
"""

from __future__ import annotations

from collections.abc import Callable

from policies.framework import PackPolicy, Resource, Spec, resource_policy
from policies.gcp.common import CRYPTO_KEY, duration_seconds
from policies.lib.shapes import declare, setting
from policies.model import UNKNOWN, Category, Severity

ROTATION = Spec(
    id="gcp-kms-key-rotation",
    description="Cloud KMS symmetric keys rotate automatically: rotationPeriod is set and at most "
    "maximumDays (default 90)",
    severity=Severity.MEDIUM,
    category=Category.ROTATION,
    remediation='Set rotationPeriod (e.g. "7776000s" for 90 days) on the crypto key; earlier '
    "versions stay usable for decryption.",
    resource_types=(CRYPTO_KEY,),
    checkov=("CKV_GCP_43",),
    config={"maximumDays": {"type": "integer", "minimum": 1, "default": 90}},
)


PURPOSE = declare((CRYPTO_KEY,), "purpose")
PERIOD = declare((CRYPTO_KEY,), "rotationPeriod")


def _rotation(r: Resource, report: Callable[[str], None]) -> None:
    purpose = setting(r.props, PURPOSE)
    if purpose not in (None, "", "ENCRYPT_DECRYPT"):
        return  # asymmetric and MAC keys are rotated by hand
    period = setting(r.props, PERIOD)
    if period == UNKNOWN:
        return
    if period in (None, ""):
        report("rotationPeriod is not set: the key never rotates")
        return
    try:
        seconds = duration_seconds(period)
    except ValueError:
        report(f"rotationPeriod {period!r} is not a number of seconds ('<n>s')")
        return
    maximum = int(r.config.get("maximumDays") or 90)
    if seconds > maximum * 86400:
        report(f"rotationPeriod is {seconds / 86400:g} days; at most {maximum}")


POLICIES: list[PackPolicy] = [resource_policy(ROTATION, _rotation)]
