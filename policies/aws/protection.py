"""Production data resources are protected, and providers use workload identity.

Also where the AWS policies recognise production (:func:`in_production`): never by one spelling of
one tag. What a resource says about itself may make it production (stricter), never less.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

from policies.contract.vocabulary import TAG_ENVIRONMENT
from policies.framework import (
    PRODUCTION_ENVIRONMENTS_KEY,
    PRODUCTION_ENVIRONMENTS_SCHEMA,
    PackPolicy,
    Resource,
    Spec,
    resource_policy,
)
from policies.lib.shapes import declare, setting, unwrap, written
from policies.model import UNKNOWN, Category, Severity
from policies.profile import Profile

#: Tag keys (compared case-insensitively) that name a resource's environment.
ENVIRONMENT_TAG_KEYS: Final = frozenset({TAG_ENVIRONMENT, "env", "stage"})
#: Values (case-insensitive) that always mean production, whatever the tunable adds.
PRODUCTION_WORDS: Final = frozenset({"production", "prod", "live", "prd"})
_WORD_SPLIT: Final = re.compile(r"[^a-z0-9]+")


def production_words(config: Mapping[str, Any]) -> frozenset[str]:
    """The built-in production spellings plus the policy's ``productionEnvironments`` tunable
    (which can add spellings, never remove one), lower-cased."""
    extra = config.get(PRODUCTION_ENVIRONMENTS_KEY) or ()
    return PRODUCTION_WORDS | {str(v).strip().lower() for v in extra if isinstance(v, str)}


def _means_production(value: str, words: frozenset[str]) -> bool:
    """``value`` is a production word, or has one as a whole token (``prod-eu``, ``live_2``),
    never as a fragment (``nonprod``, ``preprod``, ``delivery`` stay non-production)."""
    text = value.strip().lower()
    return text in words or any(t in words for t in _WORD_SPLIT.split(text) if t)


def stack_of(urn: str | None) -> str | None:
    """The stack name inside a URN (``urn:pulumi:<stack>::<project>::...``)."""
    if not urn or not urn.startswith("urn:pulumi:"):
        return None
    return urn[len("urn:pulumi:") :].split("::", 1)[0] or None


def tags_say_production(tags: Mapping[str, Any], words: frozenset[str]) -> bool:
    return any(
        str(k).strip().lower() in ENVIRONMENT_TAG_KEYS
        and isinstance(v, str)
        and _means_production(v, words)
        for k, v in tags.items()
    )


def in_production(r: Resource, config: Mapping[str, Any] | None = None) -> bool:
    """``r`` belongs to production: an ``environment``/``env``/``stage`` tag (any case) whose value
    is a production word, or a stack name that is one or contains one as a token. Tags are read
    from ``tags`` and ``tagsAll``; ``config`` defaults to the resource's own policy config."""
    words = production_words(r.config if config is None else config)
    for key in ("tags", "tagsAll"):
        tags = unwrap(r.props.get(key))  # the map or its values in secret envelopes
        if isinstance(tags, Mapping) and tags_say_production(tags, words):
            return True
    stack = stack_of(r.urn)
    return stack is not None and _means_production(stack, words)


def any_in_production(resources: Iterable[Resource], config: Mapping[str, Any]) -> bool:
    return any(in_production(r, config) for r in resources)


DATA_TYPES = (
    "aws:secretsmanager/secret:Secret",
    "aws:kms/key:Key",
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketV2:BucketV2",
    "aws:cloudtrail/trail:Trail",
)

PROTECT = Spec(
    id="aws-protect-production-data",
    profile=Profile.PROJECT,
    house="Pulumi `protect` is this project's deletion guard; another estate guards production data its own way (deletion protection, SCPs, backups), and production is read from its tag vocabulary",
    description="Production resources that hold data (secrets, keys, audit logs) are protected "
    "from deletion by `pulumi destroy` or a replacement",
    severity=Severity.HIGH,
    category=Category.DELETION_PROTECTION,
    remediation="Register the resource with ResourceOptions(protect=True) in production.",
    resource_types=DATA_TYPES,
    config={PRODUCTION_ENVIRONMENTS_KEY: PRODUCTION_ENVIRONMENTS_SCHEMA},
)


def _protect(r: Resource, report: Callable[[str], None]) -> None:
    if in_production(r) and not r.protect:
        report("a production data resource without protect: true")


PROVIDER = Spec(
    id="aws-provider-no-static-credentials",
    description="AWS providers authenticate with workload identity (roles), never long-lived access keys",
    severity=Severity.CRITICAL,
    category=Category.PLAINTEXT,
    remediation="Remove accessKey/secretKey/token from the provider; let it assume an IAM role "
    "(assumeRole, the environment's instance profile, IRSA or OIDC in CI).",
    resource_types=("pulumi:providers:aws",),
    checkov=("CKV_AWS_41",),
)


#: The provider's static credentials (pulumi-aws 7 and 6: top-level strings beside the
#: ``assumeRoles`` list / ``assumeRole`` object, which carry none). A state stores a provider's
#: inputs as strings (JSON text for lists and maps) and a secret one as ciphertext.
STATIC_KEYS = ("accessKey", "secretKey", "token")


def _provider(r: Resource, report: Callable[[str], None]) -> None:
    present = [k for k in STATIC_KEYS if written(r.props.get(k))]
    if present:
        report(f"static credentials configured: {', '.join(present)}")


ACCESS_KEYS = Spec(
    id="aws-iam-no-access-keys",
    description="No long-lived IAM access keys: workloads and people use roles (workload identity, SSO)",
    severity=Severity.HIGH,
    category=Category.PLAINTEXT,
    remediation="Delete the access key; give the workload an IAM role (IRSA, ECS task role, OIDC in "
    "CI) and people SSO roles. The catalog records AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY as replaced.",
    resource_types=("aws:iam/accessKey:AccessKey",),
    checkov=("CKV_AWS_348",),
)


ACCESS_KEY_STATUS = declare(ACCESS_KEYS.resource_types, "status")
ACCESS_KEY_USER = declare(ACCESS_KEYS.resource_types, "user")


def _access_key(r: Resource, report: Callable[[str], None]) -> None:
    status = setting(r.props, ACCESS_KEY_STATUS)  # absent: the provider's default, Active
    if status == UNKNOWN or status == "Inactive":
        return  # unknown at preview or unreadable: not judged
    user = setting(r.props, ACCESS_KEY_USER)
    shown = user if isinstance(user, str) and user != UNKNOWN else "(unknown)"
    report(f"a long-lived access key for IAM user {shown}")


POLICIES: list[PackPolicy] = [
    resource_policy(PROTECT, _protect),
    resource_policy(PROVIDER, _provider),
    resource_policy(ACCESS_KEYS, _access_key),
]
