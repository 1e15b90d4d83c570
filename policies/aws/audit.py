"""Audit trails: CloudTrail validates, encrypts and covers every region; production has one."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from infra.vocabulary import TAG_ENVIRONMENT
from policies.framework import (
    PRODUCTION_ENVIRONMENTS_KEY,
    PRODUCTION_ENVIRONMENTS_SCHEMA,
    PackPolicy,
    Resource,
    Spec,
    production_environments,
    resource_policy,
    stack_policy,
)
from policies.model import UNKNOWN, Category, Severity

TRAIL = "aws:cloudtrail/trail:Trail"

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


REQUIRED = Spec(
    id="aws-cloudtrail-required-in-production",
    description="A production stack that holds secrets has an audit trail (CloudTrail)",
    severity=Severity.HIGH,
    category=Category.AUDIT,
    remediation="Enable the AuditTrail component (neural-trader-secrets:auditTrail) in production.",
    resource_types=(TRAIL, "aws:secretsmanager/secret:Secret"),
    config={PRODUCTION_ENVIRONMENTS_KEY: PRODUCTION_ENVIRONMENTS_SCHEMA},
)


def _required(
    resources: Sequence[Resource], config: Any, report: Callable[[str, str | None], None]
) -> None:
    envs = production_environments(config)
    production = [
        r
        for r in resources
        if r.type == "aws:secretsmanager/secret:Secret" and r.tags().get(TAG_ENVIRONMENT) in envs
    ]
    if not production:
        return
    trails = [r for r in resources if r.type == TRAIL and not _trail_problems(r)]
    if not trails:
        report(
            f"{len(production)} production secrets but no CloudTrail trail with log file validation, "
            "KMS encryption and all regions",
            None,
        )


POLICIES: list[PackPolicy] = [
    resource_policy(TRAIL_SETTINGS, _trail),
    stack_policy(REQUIRED, _required),
]
