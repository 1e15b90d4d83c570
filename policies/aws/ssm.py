"""SSM Parameter Store: a store of secret values held to the same bar as Secrets Manager.

A parameter that holds a credential is a ``SecureString`` encrypted with a customer-managed key; a
``String``/``StringList`` parameter is plaintext to anyone with ``ssm:GetParameter`` (and in the
console), so one that holds a credential-shaped value, or is named like a credential with a value
that could be one, is a finding.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from policies.aws.secretsmanager import aws_managed_key
from policies.framework import PackPolicy, Resource, Spec, resource_policy
from policies.lib.credentials import is_sensitive_key, looks_like_placeholder, scan_value
from policies.lib.shapes import declare, setting
from policies.model import CIPHERTEXT, UNKNOWN, Category, Severity

PARAMETER = "aws:ssm/parameter:Parameter"

SECURE_STRING_CMK = Spec(
    id="aws-ssm-securestring-cmk",
    description="SSM SecureString parameters are encrypted with a customer-managed KMS key",
    severity=Severity.HIGH,
    category=Category.ENCRYPTION,
    remediation="Set keyId to the environment's customer-managed key (not the default aws/ssm).",
    resource_types=(PARAMETER,),
    checkov=("CKV_AWS_337",),
)


PARAMETER_TYPE = declare((PARAMETER,), "type")
PARAMETER_KEY = declare((PARAMETER,), "keyId")
PARAMETER_NAME = declare((PARAMETER,), "name")
PARAMETER_VALUE = declare((PARAMETER,), "value|insecureValue")


def _secure_string_cmk(r: Resource, report: Callable[[str], None]) -> None:
    if setting(r.props, PARAMETER_TYPE) != "SecureString":
        return
    key = setting(r.props, PARAMETER_KEY)
    if key == UNKNOWN:
        return
    if not key:
        report("keyId is not set: the SecureString uses the AWS-managed key aws/ssm")
    elif aws_managed_key(key):
        report(f"keyId names the AWS-managed key {str(key).rsplit(':', 1)[-1]}")


PLAIN_CREDENTIAL = Spec(
    id="aws-ssm-no-plaintext-credential",
    description="Credentials in SSM Parameter Store are SecureString parameters, never String or "
    "StringList",
    severity=Severity.CRITICAL,
    category=Category.PLAINTEXT,
    remediation="Store the value as type SecureString with keyId set to a customer-managed key (or "
    "move it to Secrets Manager); keep String parameters for settings.",
    resource_types=(PARAMETER,),
)

#: a value that is a setting, not a credential: numbers, booleans, durations, short enum words
_SETTING_VALUE: Final = re.compile(
    r"^(?:-?\d+(?:\.\d+)?(?:[smhdw]|ms)?|true|false|yes|no|on|off|none|null|[a-z][a-z_-]{0,15})$",
    re.I,
)


def _plaintext_credential(r: Resource, report: Callable[[str], None]) -> None:
    kind = setting(r.props, PARAMETER_TYPE)
    if kind in ("SecureString", UNKNOWN):
        return
    name = setting(r.props, PARAMETER_NAME)
    held = setting(r.props, PARAMETER_VALUE)
    hits = scan_value({"value": held}) if isinstance(held, str) else []
    if hits:
        report(f"{kind or 'String'} parameter holds {hits[0].kind} ({hits[0].hint}) in plaintext")
        return
    last = name.rstrip("/").rsplit("/", 1)[-1] if isinstance(name, str) else ""
    if not last or not is_sensitive_key(last):
        return
    if (
        isinstance(held, str)
        and held not in (UNKNOWN, CIPHERTEXT)
        and (not held or looks_like_placeholder(held) or _SETTING_VALUE.match(held.strip()))
    ):
        return
    report(
        f"{kind or 'String'} parameter {name!s} is named like a credential: make it a SecureString"
    )


POLICIES: list[PackPolicy] = [
    resource_policy(SECURE_STRING_CMK, _secure_string_cmk),
    resource_policy(PLAIN_CREDENTIAL, _plaintext_credential),
]
