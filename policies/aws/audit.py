"""Audit trails: CloudTrail validates, encrypts and covers every region; production has one that
records who read a secret (``GetSecretValue``), not only who changed one."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from policies.aws.protection import in_production
from policies.framework import (
    PRODUCTION_ENVIRONMENTS_KEY,
    PRODUCTION_ENVIRONMENTS_SCHEMA,
    PackPolicy,
    Resource,
    Spec,
    resource_policy,
    stack_policy,
)
from policies.lib.shapes import declare, disabled, enabled, falsy, is_set, pick, reveal, setting
from policies.model import UNKNOWN, Category, Severity
from policies.profile import Profile

TRAIL = "aws:cloudtrail/trail:Trail"
SECRET = "aws:secretsmanager/secret:Secret"  # pragma: allowlist secret (a type token)
#: The event a read of a secret's value leaves in CloudTrail: a management event, read-only.
SECRET_READ: Final[Mapping[str, str]] = {
    "eventCategory": "Management",
    "eventSource": "secretsmanager.amazonaws.com",
    "eventName": "GetSecretValue",
    "readOnly": "true",
}

TRAIL_SETTINGS = Spec(
    id="aws-cloudtrail-secure-trail",
    description="CloudTrail trails validate log files, encrypt them with KMS and cover all regions",
    severity=Severity.HIGH,
    category=Category.AUDIT,
    remediation="Set enableLogFileValidation: true, kmsKeyId to a customer-managed key and "
    "isMultiRegionTrail: true.",
    resource_types=(TRAIL,),
    checkov=("CKV_AWS_35", "CKV_AWS_36", "CKV_AWS_67"),
)


#: The settings as pulumi-aws 7 and 6 spell them (booleans may be stored as "true"; any value or
#: block list may be a secret envelope, or ciphertext in a state: unreadable, not missing).
VALIDATION = declare((TRAIL,), "enableLogFileValidation")
TRAIL_KEY = declare((TRAIL,), "kmsKeyId")
MULTI_REGION = declare((TRAIL,), "isMultiRegionTrail")
LOGGING = declare((TRAIL,), "enableLogging")
ADVANCED = declare((TRAIL,), "advancedEventSelectors")
FIELD_SELECTORS = declare((TRAIL,), "advancedEventSelectors.fieldSelectors")
BASIC = declare((TRAIL,), "eventSelectors")


def _trail_problems(r: Resource) -> list[str]:
    problems = []
    if enabled(r.props, VALIDATION) is False:
        problems.append("enableLogFileValidation is not true")
    if is_set(r.props, TRAIL_KEY) is False:
        problems.append("kmsKeyId is not set (logs are not KMS-encrypted)")
    if enabled(r.props, MULTI_REGION) is False:
        problems.append("isMultiRegionTrail is not true")
    if disabled(r.props, LOGGING):
        problems.append("enableLogging is false")
    return problems


def _trail(r: Resource, report: Callable[[str], None]) -> None:
    for problem in _trail_problems(r):
        report(problem)


def _strings(raw: Any) -> list[str]:
    value = reveal(raw)
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        return []
    return [v for v in (reveal(x) for x in value) if isinstance(v, str)]


def _field_matches(selector: Mapping[str, Any], event: Mapping[str, str]) -> bool:
    """One advanced field selector against one event: every operator must hold (values of one
    operator are alternatives). A field the event does not have matches nothing."""
    field = reveal(selector.get("field"))
    if not isinstance(field, str):
        return True
    value = event.get(field)
    if value is None:
        return False
    for key, negated, test in _OPERATORS:
        if selector.get(key) is None:
            continue
        hit = any(test(value, x) for x in _strings(selector.get(key)))
        if hit == negated:
            return False
    return True


def _equals(value: str, x: str) -> bool:
    return value == x


def _starts(value: str, x: str) -> bool:
    return value.startswith(x)


def _ends(value: str, x: str) -> bool:
    return value.endswith(x)


#: (property, negated, test) of an advanced event selector's field selector (Pulumi's names).
_OPERATORS: Final[tuple[tuple[str, bool, Callable[[str, str], bool]], ...]] = (
    ("equals", False, _equals),
    ("notEquals", True, _equals),
    ("startsWiths", False, _starts),
    ("notStartsWiths", True, _starts),
    ("endsWiths", False, _ends),
    ("notEndsWiths", True, _ends),
)


def records_secret_reads(trail: Resource) -> tuple[bool, str]:
    """(whether the trail logs ``GetSecretValue``, why not). No selector at all: CloudTrail logs
    every management event, reads included. Basic selectors: one with management events on and
    ``readWriteType`` All or ReadOnly. Advanced selectors: one whose field selectors all match a
    Secrets Manager read."""
    advanced = pick(trail.props, ADVANCED)
    basic = pick(trail.props, BASIC)
    if UNKNOWN in advanced or UNKNOWN in basic:
        return True, ""
    if advanced:
        for selector in advanced:
            if not isinstance(selector, Mapping) or selector.get("fieldSelectors") is None:
                continue
            fields = pick(selector, "fieldSelectors")
            if UNKNOWN in fields:
                return True, ""
            if all(_field_matches(f, SECRET_READ) for f in fields if isinstance(f, Mapping)):
                return True, ""
        return False, (
            "no advancedEventSelectors entry matches a read of a secret (management event, "
            "readOnly true, eventSource secretsmanager.amazonaws.com, eventName GetSecretValue)"
        )
    if basic:
        kinds = []
        for selector in basic:
            if not isinstance(selector, Mapping):
                continue
            management = setting(selector, "includeManagementEvents")
            rw = setting(selector, "readWriteType")
            excluded = _strings(selector.get("excludeManagementEventSources"))
            if falsy(management):
                kinds.append("includeManagementEvents false")
            elif rw not in (None, "All", "ReadOnly", UNKNOWN):
                kinds.append(f"readWriteType {rw}")
            elif "secretsmanager.amazonaws.com" in excluded:
                kinds.append("excludes secretsmanager.amazonaws.com")
            else:
                return True, ""
        return False, (
            "its eventSelectors record no read of a secret ("
            + ", ".join(sorted(set(kinds)))
            + "): GetSecretValue is a read-only management event"
        )
    return True, ""


REQUIRED = Spec(
    id="aws-cloudtrail-required-in-production",
    profile=Profile.PROJECT,
    house="expects the trail in the same stack as the secrets (this project's layout); an organisation trail lives in another stack or account",
    description="A production stack that holds secrets has an audit trail (CloudTrail) that "
    "records reads of secret values (GetSecretValue), not only changes",
    severity=Severity.HIGH,
    category=Category.AUDIT,
    remediation="Enable the AuditTrail component (neural-trader-secrets:auditTrail) in production; "
    "keep management events with readWriteType All (or advanced selectors that keep Secrets "
    "Manager read events).",
    resource_types=(TRAIL, SECRET),
    config={PRODUCTION_ENVIRONMENTS_KEY: PRODUCTION_ENVIRONMENTS_SCHEMA},
)


def _required(
    resources: Sequence[Resource], config: Any, report: Callable[[str, str | None], None]
) -> None:
    production = [r for r in resources if r.type == SECRET and in_production(r, config)]
    if not production:
        return
    secure = [r for r in resources if r.type == TRAIL and not _trail_problems(r)]
    verdicts = [(t, *records_secret_reads(t)) for t in secure]
    if any(ok for _, ok, _ in verdicts):
        return
    if not secure:
        report(
            f"{len(production)} production secrets but no CloudTrail trail with log file validation, "
            "KMS encryption and all regions",
            None,
        )
    for trail, _, why in verdicts:
        report(
            f"{len(production)} production secrets, and this trail does not record who reads "
            f"them: {why}",
            trail.urn,
        )


POLICIES: list[PackPolicy] = [
    resource_policy(TRAIL_SETTINGS, _trail),
    stack_policy(REQUIRED, _required),
]
