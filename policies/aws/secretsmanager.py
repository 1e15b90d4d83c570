"""Secrets Manager: customer-managed encryption, recovery windows, rotation schedule, public policies."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from infra.rotation.contract import ROTATION_DAYS
from infra.vocabulary import NONE, TAG_ROTATION_CLASS
from policies.framework import (
    PRODUCTION_ENVIRONMENTS_KEY,
    PRODUCTION_ENVIRONMENTS_SCHEMA,
    PackPolicy,
    Resource,
    Spec,
    number,
    resource_policy,
    stack_policy,
)
from policies.model import UNKNOWN, Category, Severity

SECRET_TYPE = "aws:secretsmanager/secret:Secret"  # pragma: allowlist secret (a type token)
ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"

CMK = Spec(
    id="aws-secretsmanager-cmk-encryption",
    description="Secrets Manager secrets are encrypted with a customer-managed KMS key",
    severity=Severity.HIGH,
    category=Category.ENCRYPTION,
    remediation="Set kmsKeyId to the environment's customer-managed key (not aws/secretsmanager).",
    resource_types=(SECRET_TYPE,),
    checkov=("CKV_AWS_149",),
)


def _cmk(r: Resource, report: Callable[[str], None]) -> None:
    key = r.get("kmsKeyId")
    if key == UNKNOWN:
        return
    if not key:
        report("kmsKeyId is not set: the secret uses the AWS-managed key aws/secretsmanager")
    elif str(key).endswith("alias/aws/secretsmanager"):
        report("kmsKeyId names the AWS-managed key aws/secretsmanager")
    replicas = r.get("replicas")
    for i, replica in enumerate(replicas if isinstance(replicas, list) else []):
        replica_key = replica.get("kmsKeyId") if isinstance(replica, dict) else None
        if replica_key == UNKNOWN:
            continue
        if not replica_key or str(replica_key).endswith("alias/aws/secretsmanager"):
            report(f"replicas[{i}] is encrypted with the AWS-managed key: set its kmsKeyId")


RECOVERY = Spec(
    id="aws-secretsmanager-recovery-window",
    description="Deleted secrets stay recoverable: no force-delete, and a 30-day window in production",
    severity=Severity.MEDIUM,
    category=Category.DELETION_PROTECTION,
    remediation="Set recoveryWindowInDays to at least 7 (30 in production); never 0.",
    resource_types=(SECRET_TYPE,),
    config={
        "minimumDays": {"type": "integer", "minimum": 7, "maximum": 30, "default": 7},
        "productionDays": {"type": "integer", "minimum": 7, "maximum": 30, "default": 30},
        PRODUCTION_ENVIRONMENTS_KEY: PRODUCTION_ENVIRONMENTS_SCHEMA,
    },
)


def _recovery(r: Resource, report: Callable[[str], None]) -> None:
    days = r.get("recoveryWindowInDays")
    if days == UNKNOWN:
        return
    value = 30.0 if days is None else number(days)  # AWS default: 30
    if value is None:
        report("recoveryWindowInDays is not a number")
        return
    days = int(value)
    production = r.in_production()
    minimum = int(
        r.config.get("productionDays" if production else "minimumDays", 30 if production else 7)
    )
    if days == 0:
        report("recoveryWindowInDays is 0: the secret would be force-deleted without recovery")
    elif days < minimum:
        report(
            f"recoveryWindowInDays is {days}; at least {minimum} required"
            + (" in production" if production else "")
        )


PUBLIC = Spec(
    id="aws-secretsmanager-block-public-policy",
    description="Secret resource policies are attached with BlockPublicPolicy",
    severity=Severity.HIGH,
    category=Category.PUBLIC_ACCESS,
    remediation="Set blockPublicPolicy: true on every aws.secretsmanager.SecretPolicy.",
    resource_types=("aws:secretsmanager/secretPolicy:SecretPolicy",),
)


def _public(r: Resource, report: Callable[[str], None]) -> None:
    if r.get("blockPublicPolicy") not in (True, UNKNOWN):
        report("blockPublicPolicy is not true: a policy granting public access would be accepted")


SCHEDULE = Spec(
    id="aws-secretsmanager-rotation-schedule",
    description="Every rotatable secret has an automatic rotation within its class maximum",
    severity=Severity.HIGH,
    category=Category.ROTATION,
    remediation="Declare an aws.secretsmanager.SecretRotation for the secret with "
    "rotationRules.automaticallyAfterDays at most the class maximum (api_key 90, "
    "database_password 180, jwt_secret 365, encryption_key 730).",
    resource_types=(SECRET_TYPE, ROTATION),
    checkov=("CKV2_AWS_57", "CKV_AWS_304"),
    config={
        "maximumDays": {
            "type": "object",
            "additionalProperties": {"type": "integer", "minimum": 1},
            "default": {c.value: d for c, d in ROTATION_DAYS.items()},
            "description": "maximum rotation period per rotation-class tag value",
        },
        "classTag": {"type": "string", "default": TAG_ROTATION_CLASS},
        "untaggedMaximumDays": {
            "type": "integer",
            "minimum": 1,
            "default": 90,
            "description": "maximum rotation period of a secret without a rotation-class tag",
        },
    },
)


_RATE_RE = re.compile(r"^rate\(\s*(\d+)\s+(hour|hours|day|days)\s*\)$", re.I)
_CRON_RE = re.compile(r"^cron\((.+)\)$", re.I)


def rotation_period(rotation: Resource) -> tuple[float | None, str | None]:
    """(longest interval in days between two rotations, problem): from automaticallyAfterDays or a
    scheduleExpression (``rate(N days)``, ``rate(N hours)``, or a cron expression whose fields
    bound the interval). ``(None, None)`` when unknown at preview."""
    rules = rotation.get("rotationRules")
    if not isinstance(rules, dict):
        return None, None
    days = rules.get("automaticallyAfterDays")
    expression = rules.get("scheduleExpression")
    if days not in (None, UNKNOWN):
        value = number(days)
        if value is None:
            return None, f"automaticallyAfterDays is not a number ({type(days).__name__})"
        if value < 1:
            return None, f"automaticallyAfterDays is {value:g}: not a valid schedule"
        return value, None
    if isinstance(expression, str) and expression != UNKNOWN:
        rate = _RATE_RE.match(expression.strip())
        if rate:
            n = int(rate.group(1))
            if n < 1:
                return None, f"scheduleExpression {expression!r} is not a valid schedule"
            return (n / 24 if rate.group(2).lower().startswith("hour") else float(n)), None
        cron = _CRON_RE.match(expression.strip())
        if cron:
            fields = cron.group(1).split()
            if len(fields) != 6:
                return None, f"scheduleExpression {expression!r} is not a 6-field cron expression"
            _minutes, _hours, day_of_month, month, day_of_week, year = fields
            if year not in ("*", "?"):
                return None, f"scheduleExpression {expression!r} pins a year: it stops rotating"
            if month not in ("*", "?"):
                # Restricted months bound the gap first: up to a year between two runs.
                return 366.0, None
            if day_of_week not in ("*", "?"):
                # "MON#1"/"MONL" fire once a month; a plain weekday list at least weekly.
                return (35.0 if ("#" in day_of_week or "L" in day_of_week.upper()) else 7.0), None
            if day_of_month in ("*", "?"):
                return 1.0, None
            return 31.0, None
        return None, f"scheduleExpression {expression!r} is neither rate(...) nor cron(...)"
    if days == UNKNOWN or expression == UNKNOWN:
        return None, None
    return None, "rotationRules has neither automaticallyAfterDays nor scheduleExpression"


def rotation_keys(rotation: Resource) -> set[str]:
    """The keys under which a SecretRotation finds its secret. It names the secret by ARN (the
    secret's id): the dependency the engine records for that input, the ARN itself, the secret
    name inside the ARN (without AWS's 6-character suffix), and the rotation's parent."""
    keys = set(rotation.property_dependencies.get("secretId", ()))
    target = rotation.get("secretId")
    if isinstance(target, str) and target != UNKNOWN:
        keys.add(target)
        if ":secret:" in target:
            keys.add(target.split(":secret:", 1)[1].rsplit("-", 1)[0])
    if rotation.parent:
        keys.add(rotation.parent)
    return keys


def rotations_by_secret(resources: Sequence[Resource]) -> dict[str, list[Resource]]:
    """Secret URN or name -> the SecretRotations that rotate it."""
    out: dict[str, list[Resource]] = {}
    for r in resources:
        if r.type == ROTATION:
            for key in rotation_keys(r):
                out.setdefault(key, []).append(r)
    return out


def _schedule(
    resources: Sequence[Resource], config: Any, report: Callable[[str, str | None], None]
) -> None:
    maximum: dict[str, int] = dict(config.get("maximumDays") or SCHEDULE.defaults()["maximumDays"])
    tag = str(config.get("classTag") or TAG_ROTATION_CLASS)
    rotations = rotations_by_secret(resources)
    untagged_limit = int(config.get("untaggedMaximumDays") or 90)
    for secret in resources:
        if secret.type != SECRET_TYPE:
            continue
        klass = secret.tags().get(tag)
        if klass == NONE:
            continue  # declared not rotatable (no stored secret of this project is)
        if klass is None:
            # A secret whoever made it, with no class: it still rotates (CKV2_AWS_57), at the
            # strictest default.
            klass = "untagged"
            limit: int | None = untagged_limit
        else:
            limit = maximum.get(klass)
        if limit is None:
            report(f"unknown {tag} {klass!r}; known: {', '.join(sorted(maximum))}", secret.urn)
            continue
        found = list(
            {
                id(x): x
                for x in rotations.get(secret.urn, []) + rotations.get(str(secret.get("name")), [])
            }.values()
        )
        if not found:
            report(f"{tag} {klass} but no SecretRotation (maximum {limit} days)", secret.urn)
        for rot in found:
            period, problem = rotation_period(rot)
            if problem:
                report(problem, rot.urn)
            elif period is not None and period > limit:
                shown = f"{period:g}"
                report(
                    f"rotates every {shown} days at most; {klass} allows at most {limit}", rot.urn
                )


POLICIES: list[PackPolicy] = [
    resource_policy(CMK, _cmk),
    resource_policy(RECOVERY, _recovery),
    resource_policy(PUBLIC, _public),
    stack_policy(SCHEDULE, _schedule),
]
