"""Logs, alarms and notifications: encrypted, retained, and actually delivered."""

from __future__ import annotations

from collections.abc import Callable

from policies.aws.protection import in_production
from policies.framework import (
    PRODUCTION_ENVIRONMENTS_KEY,
    PRODUCTION_ENVIRONMENTS_SCHEMA,
    PackPolicy,
    Resource,
    Spec,
    number,
    resource_policy,
)
from policies.lib.shapes import declare, disabled, is_set, setting
from policies.model import UNKNOWN, Category, Severity

LOGS = Spec(
    id="aws-cloudwatch-log-group-retention-kms",
    description="Log groups set a retention period (a long one in production) and are encrypted "
    "with a customer-managed key",
    severity=Severity.MEDIUM,
    category=Category.AUDIT,
    remediation="Set retentionInDays (at least the audit period) and kmsKeyId.",
    resource_types=("aws:cloudwatch/logGroup:LogGroup",),
    checkov=("CKV_AWS_66", "CKV_AWS_158"),
    config={
        "minimumRetentionDays": {"type": "integer", "minimum": 1, "default": 90},
        PRODUCTION_ENVIRONMENTS_KEY: PRODUCTION_ENVIRONMENTS_SCHEMA,
    },
)


LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
LOG_RETENTION = declare((LOG_GROUP,), "retentionInDays")
LOG_KEY = declare((LOG_GROUP,), "kmsKeyId")
TOPIC_KEY = declare(("aws:sns/topic:Topic",), "kmsMasterKeyId")
ALARM_ENABLED = declare(("aws:cloudwatch/metricAlarm:MetricAlarm",), "actionsEnabled")
ALARM_ACTIONS = declare(("aws:cloudwatch/metricAlarm:MetricAlarm",), "alarmActions")


def _logs(r: Resource, report: Callable[[str], None]) -> None:
    days = setting(r.props, LOG_RETENTION)
    minimum = int(r.config.get("minimumRetentionDays", 90))
    production = in_production(r)
    if days in (None, 0):
        report("retentionInDays is not set (logs are kept forever, unreviewed)")
    elif days != UNKNOWN and number(days) is None:
        report("retentionInDays is not a number")
    elif production and days != UNKNOWN and (number(days) or 0) < minimum:
        report(f"retentionInDays is {days}; at least {minimum}")
    if is_set(r.props, LOG_KEY) is False:
        report("kmsKeyId is not set")


TOPIC = Spec(
    id="aws-sns-topic-kms",
    description="SNS topics are encrypted with a customer-managed KMS key",
    severity=Severity.MEDIUM,
    category=Category.ENCRYPTION,
    remediation="Set kmsMasterKeyId to the environment's key (not alias/aws/sns).",
    resource_types=("aws:sns/topic:Topic",),
    checkov=("CKV_AWS_26",),
)


def _topic(r: Resource, report: Callable[[str], None]) -> None:
    key = setting(r.props, TOPIC_KEY)
    if not key:
        report("kmsMasterKeyId is not set")
    elif key != UNKNOWN and ":alias/aws/" in f":{key}":
        report(f"kmsMasterKeyId is the AWS-managed {str(key).rsplit(':', 1)[-1]}")


SUBSCRIPTION = Spec(
    id="aws-sns-subscription-tls",
    description="SNS subscriptions deliver over TLS (https, not http)",
    severity=Severity.MEDIUM,
    category=Category.NETWORK,
    remediation="Use an https endpoint.",
    resource_types=("aws:sns/topicSubscription:TopicSubscription",),
)


def _subscription(r: Resource, report: Callable[[str], None]) -> None:
    if r.get("protocol") == "http":
        report("protocol http sends notifications in cleartext")


ALARM = Spec(
    id="aws-cloudwatch-alarm-actions",
    description="Alarms have their actions enabled and notify someone",
    severity=Severity.MEDIUM,
    category=Category.AUDIT,
    remediation="Keep actionsEnabled true and set alarmActions to the notification topic.",
    resource_types=("aws:cloudwatch/metricAlarm:MetricAlarm",),
    checkov=("CKV_AWS_319",),
)


def _alarm(r: Resource, report: Callable[[str], None]) -> None:
    if disabled(r.props, ALARM_ENABLED):
        report("actionsEnabled is false")
    if is_set(r.props, ALARM_ACTIONS) is False:
        report("no alarmActions: the alarm notifies nobody")


POLICIES: list[PackPolicy] = [
    resource_policy(LOGS, _logs),
    resource_policy(TOPIC, _topic),
    resource_policy(SUBSCRIPTION, _subscription),
    resource_policy(ALARM, _alarm),
]
