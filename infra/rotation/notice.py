"""Deploy-time notices published by the rotation Lambda.

A deployment cannot publish to SNS by itself, but it can invoke a function: when the stack's
``revoked`` list changes, the program invokes this Lambda (``aws.lambda_.Invocation``) with a
``{"NtNotice": "revoked", ...}`` event and the function publishes the notice to the rotation topic.
The event names secrets, never values.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .aws_transport import ENV_ROTATION_TOPIC_ARN
from .errors import ContractError

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient

NOTICE_KEY = "NtNotice"
REVOKED = "revoked"


def is_notice(event: Mapping[str, Any]) -> bool:
    return NOTICE_KEY in event


def publish_notice(
    event: Mapping[str, Any], *, env: Mapping[str, str], sns_factory: Callable[[], SNSClient]
) -> str:
    """Publish a notice event to the rotation topic; returns the SNS message id."""
    kind = event.get(NOTICE_KEY)
    if kind != REVOKED:
        raise ContractError(f"unknown notice {kind!r}")
    environment = event.get("Environment")
    secrets = event.get("Secrets")
    if (
        not isinstance(environment, str)
        or not isinstance(secrets, list)
        or not all(isinstance(s, str) for s in secrets)
    ):
        raise ContractError("a revoked notice needs Environment (string) and Secrets (names)")
    topic = env.get(ENV_ROTATION_TOPIC_ARN)
    if not topic:
        raise ContractError(f"{ENV_ROTATION_TOPIC_ARN} is not set: nobody can be notified")
    if secrets:
        body = (
            f"neural-trader {environment}: secrets revoked by the last deployment: "
            f"{', '.join(sorted(secrets))}. Every role is denied their values; rotate them "
            "(nt-secrets rotate NAME --now) and follow docs/incident-response.md."
        )
    else:
        body = f"neural-trader {environment}: the revoked-secrets list is now empty."
    response = sns_factory().publish(
        TopicArn=topic,
        Subject=f"neural-trader {environment}: secret revocation"[:100],
        Message=body,
        MessageAttributes={"notice": {"DataType": "String", "StringValue": REVOKED}},
    )
    return str(response["MessageId"])


def revoked_event(environment: str, secrets: list[str]) -> str:
    """The invocation payload the program sends (JSON), for the given revoked secret names."""
    return json.dumps({NOTICE_KEY: REVOKED, "Environment": environment, "Secrets": sorted(secrets)})
