"""Deploy-time revocation notices: `pulumi up` invokes the rotation Lambda with a notice event
(aws.lambda_.Invocation) and the function publishes it to the rotation topic (moto SNS)."""

from __future__ import annotations

import json

import pytest

from infra.rotation import handler
from infra.rotation.contract import ENV_ROTATION_TOPIC_ARN
from infra.rotation.errors import ContractError
from infra.rotation.notice import revoked_event

from .conftest import Aws


def _sent(aws: Aws) -> list[tuple[str, str]]:
    from moto.sns.models import sns_backends

    topic = sns_backends["123456789012"][aws.topic_arn.split(":")[3]].topics[aws.topic_arn]
    return [(str(n[1]), str(n[2])) for n in topic.sent_notifications]


def test_lambda_entry_point_publishes_a_revocation_notice(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_ROTATION_TOPIC_ARN, aws.topic_arn)
    event = json.loads(revoked_event("production", ["OPENAI_API_KEY", "ALPACA_API_KEY"]))
    handler.lambda_handler(event, None)
    ((message, subject),) = _sent(aws)
    assert "ALPACA_API_KEY, OPENAI_API_KEY" in message and "production" in subject
    assert "nt-secrets rotate" in message


@pytest.mark.parametrize(
    ("event", "error"),
    [
        ({"NtNotice": "party"}, "unknown notice"),
        ({"NtNotice": "revoked", "Environment": "production"}, "Secrets"),
        ({"NtNotice": "revoked", "Environment": "production", "Secrets": [1]}, "Secrets"),
    ],
)
def test_malformed_notices_are_refused(
    aws: Aws, monkeypatch: pytest.MonkeyPatch, event: dict[str, object], error: str
) -> None:
    monkeypatch.setenv(ENV_ROTATION_TOPIC_ARN, aws.topic_arn)
    with pytest.raises(ContractError, match=error):
        handler.lambda_handler(event, None)
    assert _sent(aws) == []


def test_notice_without_topic_fails_loudly(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_ROTATION_TOPIC_ARN, raising=False)
    with pytest.raises(ContractError, match="nobody can be notified"):
        handler.lambda_handler(json.loads(revoked_event("dev", ["JWT_SECRET"])), None)
