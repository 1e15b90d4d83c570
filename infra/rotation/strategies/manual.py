"""third-party-manual: keys that only a human can re-issue at the provider.

create sends a "rotation due" notice through ``RotationContext.notify`` (on AWS: to the SNS
topic) and raises, so the current value is never touched. If an operator already stored the
new key as the pending value of this rotation (the transport checks that before calling
``create``), the rotation proceeds: test checks the key is non-empty and new, finish promotes
it. Revoking the old key stays a manual step.

The notice body keeps its AWS wording (``secretArn``, ``pendingVersionId``, an ``aws`` CLI
runbook): subscribers parse it, and Secrets Manager is the only transport so far.
"""

from __future__ import annotations

import json
import logging

from ..contract import PARAM_ENVIRONMENT, PARAM_PROVIDER, PARAM_SERVICE
from ..errors import ManualRotationRequired, RotationError
from . import RotationContext

logger = logging.getLogger(__name__)


def notice(ctx: RotationContext) -> dict[str, str]:
    """The SNS message body: identifiers and instructions only, never a value."""
    return {
        "event": "rotation-due",
        "secretArn": ctx.secret_id,
        "pendingVersionId": ctx.version_id,
        "environment": ctx.params.get(PARAM_ENVIRONMENT, ""),
        "service": ctx.params.get(PARAM_SERVICE, ""),
        "provider": ctx.params.get(PARAM_PROVIDER, ""),
        "runbook": (
            "Issue a new key at the provider; aws secretsmanager put-secret-value --secret-id "
            "<secretArn> --client-request-token <pendingVersionId> --version-stages AWSPENDING "
            "--secret-string file://new-key; aws secretsmanager rotate-secret --secret-id "
            "<secretArn>; verify; revoke the old key at the provider. See docs/rotation.md."
        ),
    }


class ThirdPartyManual:
    def create(self, ctx: RotationContext) -> str:
        receipt = ctx.notify(
            "neural-trader: manual secret rotation due", json.dumps(notice(ctx), sort_keys=True)
        )
        if receipt.channel:
            logger.warning(
                "rotation due for %s (version %s); notified %s",
                ctx.secret_id,
                ctx.version_id,
                receipt.channel,
            )
            where = f"notified {receipt.channel}"
        else:
            logger.error("rotation due for %s but %s", ctx.secret_id, receipt.reason)
            where = f"{receipt.reason}, nobody was notified"
        raise ManualRotationRequired(
            f"{ctx.secret_id} is third-party-manual: put the new key as AWSPENDING with "
            f"ClientRequestToken {ctx.version_id} and rotate again ({where})"
        )

    def set(self, ctx: RotationContext, pending: str) -> None:
        return None

    def test(self, ctx: RotationContext, pending: str) -> None:
        if not pending.strip():
            raise RotationError(f"{ctx.secret_id} version {ctx.version_id}: pending key is empty")
        if pending == ctx.current():
            raise RotationError(
                f"{ctx.secret_id} version {ctx.version_id}: pending key equals AWSCURRENT"
            )

    def finish(self, ctx: RotationContext) -> None:
        return None
