"""third-party-manual: keys that only a human can re-issue at the provider.

createSecret publishes a "rotation due" notice to SNS and raises, so AWSCURRENT is never
touched. If an operator already put the new key as AWSPENDING under this rotation's token
(the handler checks that before calling ``create``), the rotation proceeds: test checks the
key is non-empty and new, finish promotes it. Revoking the old key stays a manual step.
"""

from __future__ import annotations

import json
import logging

from ..contract import (
    ENV_ROTATION_TOPIC_ARN,
    TAG_ENVIRONMENT,
    TAG_PROVIDER,
    TAG_SERVICE,
)
from ..errors import ManualRotationRequired, RotationError
from . import RotationContext

logger = logging.getLogger(__name__)


def notice(ctx: RotationContext) -> dict[str, str]:
    """The SNS message body: identifiers and instructions only, never a value."""
    return {
        "event": "rotation-due",
        "secretArn": ctx.arn,
        "pendingVersionId": ctx.token,
        "environment": ctx.tags.get(TAG_ENVIRONMENT, ""),
        "service": ctx.tags.get(TAG_SERVICE, ""),
        "provider": ctx.tags.get(TAG_PROVIDER, ""),
        "runbook": (
            "Issue a new key at the provider; aws secretsmanager put-secret-value --secret-id "
            "<secretArn> --client-request-token <pendingVersionId> --version-stages AWSPENDING "
            "--secret-string file://new-key; aws secretsmanager rotate-secret --secret-id "
            "<secretArn>; verify; revoke the old key at the provider. See docs/rotation.md."
        ),
    }


class ThirdPartyManual:
    def create(self, ctx: RotationContext) -> str:
        topic = ctx.env.get(ENV_ROTATION_TOPIC_ARN, "")
        if topic:
            ctx.sns().publish(
                TopicArn=topic,
                Subject="neural-trader: manual secret rotation due",
                Message=json.dumps(notice(ctx), sort_keys=True),
            )
            logger.warning(
                "rotation due for %s (version %s); notified %s", ctx.arn, ctx.token, topic
            )
            where = f"notified {topic}"
        else:
            logger.error("rotation due for %s but %s is not set", ctx.arn, ENV_ROTATION_TOPIC_ARN)
            where = f"{ENV_ROTATION_TOPIC_ARN} is not set, nobody was notified"
        raise ManualRotationRequired(
            f"{ctx.arn} is third-party-manual: put the new key as AWSPENDING with "
            f"ClientRequestToken {ctx.token} and rotate again ({where})"
        )

    def set(self, ctx: RotationContext, pending: str) -> None:
        return None

    def test(self, ctx: RotationContext, pending: str) -> None:
        if not pending.strip():
            raise RotationError(f"{ctx.arn} version {ctx.token}: pending key is empty")
        if pending == ctx.current():
            raise RotationError(f"{ctx.arn} version {ctx.token}: pending key equals AWSCURRENT")

    def finish(self, ctx: RotationContext) -> None:
        return None
