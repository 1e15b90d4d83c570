"""Secrets Manager: customer-managed encryption, recovery windows, rotation schedule, public policies."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from policies.aws.protection import in_production
from policies.contract.rotation import ROTATION_DAYS, RotationClass
from policies.contract.vocabulary import (
    NONE,
    TAG_CATALOG_NAME,
    TAG_REPLICA_OF,
    TAG_ROTATION_CLASS,
)
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
from policies.lib.credentials import scan_value
from policies.lib.shapes import declare, enabled, pick, reveal, setting
from policies.model import CIPHERTEXT, UNKNOWN, Category, Severity
from policies.profile import Profile

SECRET_TYPE = "aws:secretsmanager/secret:Secret"  # pragma: allowlist secret (a type token)
ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"
VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
AWS_MANAGED_ALIAS = "alias/aws/"


def aws_managed_key(key: object) -> bool:
    """``key`` names an AWS-managed key (``alias/aws/secretsmanager``, ``alias/aws/ssm``, ...,
    bare or inside an alias ARN): AWS holds its policy, so no one here can restrict who decrypts."""
    return isinstance(key, str) and (
        key.startswith(AWS_MANAGED_ALIAS) or f":{AWS_MANAGED_ALIAS}" in key
    )


CMK = Spec(
    id="aws-secretsmanager-cmk-encryption",
    description="Secrets Manager secrets are encrypted with a customer-managed KMS key",
    severity=Severity.HIGH,
    category=Category.ENCRYPTION,
    remediation="Set kmsKeyId to the environment's customer-managed key (not aws/secretsmanager).",
    resource_types=(SECRET_TYPE,),
    checkov=("CKV_AWS_149",),
)


#: The settings as pulumi-aws 7 and 6 spell them: ``replicas`` is the pluralised list of the
#: ``replica`` blocks; a secret envelope may stand for the list, an entry or a value.
SECRET_KEY = declare((SECRET_TYPE,), "kmsKeyId")
REPLICAS = declare((SECRET_TYPE,), "replicas")
REPLICA_KEY = declare((SECRET_TYPE,), "replicas.kmsKeyId")
RECOVERY_DAYS = declare((SECRET_TYPE,), "recoveryWindowInDays")
BLOCK_PUBLIC = declare(("aws:secretsmanager/secretPolicy:SecretPolicy",), "blockPublicPolicy")
RULES = declare((ROTATION,), "rotationRules")
AFTER_DAYS = declare((ROTATION,), "rotationRules.automaticallyAfterDays")
EXPRESSION = declare((ROTATION,), "rotationRules.scheduleExpression")


def _cmk(r: Resource, report: Callable[[str], None]) -> None:
    key = setting(r.props, SECRET_KEY)
    if key == UNKNOWN:
        return
    if not key:
        report("kmsKeyId is not set: the secret uses the AWS-managed key aws/secretsmanager")
    elif aws_managed_key(key):
        report(f"kmsKeyId names the AWS-managed key {str(key).rsplit(':', 1)[-1]}")
    for i, replica in enumerate(pick(r.props, REPLICAS)):
        if replica == UNKNOWN:
            continue
        replica_key = setting(replica, "kmsKeyId") if isinstance(replica, Mapping) else None
        if replica_key == UNKNOWN:
            continue
        if not replica_key or aws_managed_key(replica_key):
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
    days = setting(r.props, RECOVERY_DAYS)
    if days == UNKNOWN:
        return
    value = 30.0 if days is None else number(days)  # AWS default: 30
    if value is None:
        report("recoveryWindowInDays is not a number")
        return
    days = int(value)
    production = in_production(r)
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
    profile=Profile.PROJECT,
    house="asking AWS to refuse any future public policy is this project's defence in depth; on "
    "another estate a secret policy is judged on what it grants (aws-iam-no-public-principal)",
    description="Secret resource policies are attached with BlockPublicPolicy",
    severity=Severity.HIGH,
    category=Category.PUBLIC_ACCESS,
    remediation="Set blockPublicPolicy: true on every aws.secretsmanager.SecretPolicy.",
    resource_types=("aws:secretsmanager/secretPolicy:SecretPolicy",),
)


def _public(r: Resource, report: Callable[[str], None]) -> None:
    if enabled(r.props, BLOCK_PUBLIC) is False:
        report("blockPublicPolicy is not true: a policy granting public access would be accepted")


SCHEDULE = Spec(
    id="aws-secretsmanager-rotation-schedule",
    description="Every rotatable secret has an automatic rotation within its class maximum",
    severity=Severity.HIGH,
    category=Category.ROTATION,
    remediation="Declare an aws.secretsmanager.SecretRotation for the secret with "
    "rotationRules.automaticallyAfterDays at most the class maximum (api_key 90, "
    "database_password 180, jwt_secret 365, encryption_key 730). A secret without a class is held "
    "to 90 days; its name, description and value may only tighten the maximum, and a class of "
    "'none' does not exempt a secret that is recognisably an API key, password, JWT or encryption "
    "key.",
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
    rules = pick(rotation.props, RULES)
    if not any(isinstance(x, Mapping) for x in rules):
        return None, None  # absent, or unreadable (unknown at preview, ciphertext)
    days = setting(rotation.props, AFTER_DAYS)
    expression = setting(rotation.props, EXPRESSION)
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
    target = reveal(rotation.get("secretId"))
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


def versions_by_secret(resources: Sequence[Resource]) -> dict[str, list[Resource]]:
    """Secret URN or name -> the SecretVersions that hold its value (found like rotations)."""
    out: dict[str, list[Resource]] = {}
    for r in resources:
        if r.type == VERSION:
            for key in rotation_keys(r):
                out.setdefault(key, []).append(r)
    return out


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SPLIT = re.compile(r"[^a-z0-9]+")
#: What a name/description says a secret is: phrases of adjacent words (``api key``, ``API_KEY``,
#: ``apiKey``, ``api-key``), so prose such as "HMAC key that signs the API's JWTs" says no more
#: than it means.
_RECOGNISED: tuple[tuple[RotationClass, tuple[tuple[str, ...], ...]], ...] = (
    (
        RotationClass.API_KEY,
        (
            ("apikey",),
            ("api", "key"),
            ("api", "token"),
            ("token",),
            ("access", "key"),
            ("secret", "key"),
            ("client", "secret"),
            ("webhook",),
        ),
    ),
    (RotationClass.DATABASE_PASSWORD, (("password",), ("passwd",), ("pwd",), ("passphrase",))),
    (RotationClass.JWT_SECRET, (("jwt",), ("jwt", "secret"))),
    (
        RotationClass.ENCRYPTION_KEY,
        (
            ("encryption", "key"),
            ("master", "key"),
            ("signing", "key"),
            ("private", "key"),
            ("kek",),
            ("dek",),
            ("fernet",),
        ),
    ),
)
#: Scanner findings that come from a property's name, not from the value's own shape.
_NAME_KINDS = frozenset({"sensitive-key"})


def _tokens(text: str) -> tuple[str, ...]:
    return tuple(t for t in _SPLIT.split(_CAMEL.sub(" ", text).lower()) if t)


def _says(tokens: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    return any(tokens[i : i + n] == phrase for i in range(len(tokens) - n + 1))


def recognised_classes(secret: Resource, versions: Sequence[Resource] = ()) -> set[RotationClass]:
    """The rotation classes ``secret`` recognisably belongs to: by what its name, description and
    catalog-name tag say, and by the shape of its value where a SecretVersion shows it (a known
    credential format, not mere randomness: a generated password looks like noise)."""
    texts = [secret.get(k) for k in ("name", "namePrefix", "description")]
    texts.append(secret.tags().get(TAG_CATALOG_NAME))
    found: set[RotationClass] = set()
    for text in texts:
        if not isinstance(text, str) or text in (UNKNOWN, CIPHERTEXT):
            continue
        tokens = _tokens(text)
        for klass, phrases in _RECOGNISED:
            if any(_says(tokens, phrase) for phrase in phrases):
                found.add(klass)
    for version in versions:
        value = version.get("secretString")
        if not isinstance(value, str) or value in (UNKNOWN, CIPHERTEXT):
            continue
        for hit in scan_value({"value": value}):
            kind = hit.kind.lower()
            if hit.kind in _NAME_KINDS or "entropy" in kind:
                continue
            if "private key" in kind:
                found.add(RotationClass.ENCRYPTION_KEY)
            elif "json web token" in kind or "jwt" in kind:
                found.add(RotationClass.JWT_SECRET)
            elif "password" in kind or "basic auth" in kind:
                found.add(RotationClass.DATABASE_PASSWORD)
            else:
                found.add(RotationClass.API_KEY)
    return found


def _matching(index: dict[str, list[Resource]], secret: Resource) -> list[Resource]:
    hits = index.get(secret.urn, []) + index.get(str(reveal(secret.get("name"))), [])
    return list({id(x): x for x in hits}.values())


def _schedule(
    resources: Sequence[Resource], config: Any, report: Callable[[str, str | None], None]
) -> None:
    maximum: dict[str, int] = dict(config.get("maximumDays") or SCHEDULE.defaults()["maximumDays"])
    tag = str(config.get("classTag") or TAG_ROTATION_CLASS)
    rotations = rotations_by_secret(resources)
    versions = versions_by_secret(resources)
    untagged_limit = int(config.get("untaggedMaximumDays") or 90)
    judged: set[int] = set()
    followed = _replicas_following_a_home(resources)
    for secret in resources:
        if secret.type != SECRET_TYPE:
            continue
        if secret.urn in followed:
            # A replica: its home's rotation (in the stack, verified) writes every new version.
            judged.update(id(x) for x in _matching(rotations, secret))
            continue
        raw = secret.tags().get(tag)
        klass = raw.strip().lower().replace("-", "_") if raw is not None else None
        # What the secret's name, description and value say it is: these may only tighten.
        recognised = {
            c.value: maximum.get(c.value, ROTATION_DAYS[c])
            for c in recognised_classes(secret, _matching(versions, secret))
        }
        limit: int | None
        if klass == NONE:
            if not recognised:
                # declared not rotatable, and nothing says it is a credential
                judged.update(id(x) for x in _matching(rotations, secret))
                continue
            strictest = min(recognised, key=lambda c: recognised[c])
            klass, limit = f"{NONE} (recognisably {strictest})", recognised[strictest]
        elif klass is None:
            # A secret whoever made it, with no class: it still rotates (CKV2_AWS_57), at the
            # strictest default.
            klass = "untagged"
            limit = min([untagged_limit, *recognised.values()])
        else:
            limit = maximum.get(klass)
            if limit is None:
                report(f"unknown {tag} {raw!r}; known: {', '.join(sorted(maximum))}", secret.urn)
                judged.update(id(x) for x in _matching(rotations, secret))
                continue
            tighter = {c: d for c, d in recognised.items() if d < limit}
            if tighter:
                strictest = min(tighter, key=lambda c: tighter[c])
                klass, limit = f"{klass} (recognisably {strictest})", tighter[strictest]
        found = _matching(rotations, secret)
        judged.update(id(x) for x in found)
        if not found:
            report(f"{tag} {klass} but no SecretRotation (maximum {limit} days)", secret.urn)
        for rot in found:
            _judge_period(rot, klass, limit, report)
    # A rotation whose secret is not in this stack (declared elsewhere, or imported) is held to
    # the strictest maximum: where the secret lives cannot lengthen its schedule (CKV_AWS_304).
    for rot in resources:
        if rot.type == ROTATION and id(rot) not in judged:
            _judge_period(rot, "a secret outside this stack", untagged_limit, report)


def _replicas_following_a_home(resources: Sequence[Resource]) -> set[str]:
    """URNs of the Secrets Manager secrets labelled as a replica (``replica-of: <store>``) whose
    home copy is in the same stack, in that store, rotated or declaring its rotation class: the
    label alone never exempts a secret (a foreign or forged one is judged like any other)."""
    from policies.stores import stored_secrets  # the stores' readers import this module

    labelled = {
        r.urn: (r.tags().get(TAG_REPLICA_OF), r.tags().get(TAG_CATALOG_NAME))
        for r in resources
        if r.type == SECRET_TYPE and r.tags().get(TAG_REPLICA_OF)
    }
    if not labelled:
        return set()
    homes = {
        (s.backend, s.catalog_name)
        for s in stored_secrets(resources)
        if s.catalog_name
        and s.home == s.backend
        and (s.rotated or s.rotation_class not in (None, NONE))
    }
    return {urn for urn, key in labelled.items() if key in homes}


def _judge_period(
    rot: Resource, klass: str, limit: int, report: Callable[[str, str | None], None]
) -> None:
    period, problem = rotation_period(rot)
    if problem:
        report(problem, rot.urn)
    elif period is not None and period > limit:
        report(f"rotates every {period:g} days at most; {klass} allows at most {limit}", rot.urn)


POLICIES: list[PackPolicy] = [
    resource_policy(CMK, _cmk),
    resource_policy(RECOVERY, _recovery),
    resource_policy(PUBLIC, _public),
    stack_policy(SCHEDULE, _schedule),
]
