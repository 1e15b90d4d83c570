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


def _trail_problems(r: Resource) -> list[str]:
    problems = []
    if r.get("enableLogFileValidation") not in (True, UNKNOWN):
        problems.append("enableLogFileValidation is not true")
    if not r.get("kmsKeyId"):
        problems.append("kmsKeyId is not set (logs are not KMS-encrypted)")
    if r.get("isMultiRegionTrail") not in (True, UNKNOWN):
        problems.append("isMultiRegionTrail is not true")
    if r.get("enableLogging") is False:
        problems.append("enableLogging is false")
    return problems


def _trail(r: Resource, report: Callable[[str], None]) -> None:
    for problem in _trail_problems(r):
        report(problem)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _field_matches(selector: Mapping[str, Any], event: Mapping[str, str]) -> bool:
    """One advanced field selector against one event: every operator must hold (values of one
    operator are alternatives). A field the event does not have matches nothing."""
    field = selector.get("field")
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
    advanced = trail.get("advancedEventSelectors")
    basic = trail.get("eventSelectors")
    if UNKNOWN in (advanced, basic):
        return True, ""
    if isinstance(advanced, list) and advanced:
        for selector in advanced:
            fields = selector.get("fieldSelectors") if isinstance(selector, Mapping) else None
            if fields == UNKNOWN:
                return True, ""
            if isinstance(fields, list) and all(
                _field_matches(f, SECRET_READ) for f in fields if isinstance(f, Mapping)
            ):
                return True, ""
        return False, (
            "no advancedEventSelectors entry matches a read of a secret (management event, "
            "readOnly true, eventSource secretsmanager.amazonaws.com, eventName GetSecretValue)"
        )
    if isinstance(basic, list) and basic:
        kinds = []
        for selector in basic:
            if not isinstance(selector, Mapping):
                continue
            management = selector.get("includeManagementEvents")
            rw = selector.get("readWriteType")
            excluded = _strings(selector.get("excludeManagementEventSources"))
            if management is False:
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
