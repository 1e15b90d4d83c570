"""Secrets Manager rotation Lambda: createSecret / setSecret / testSecret / finishSecret.

Follows the AWS rotation contract: the secret must have rotation enabled, the
ClientRequestToken must be a version of the secret carrying AWSPENDING (a version that is
already AWSCURRENT means the rotation finished: every step is then a no-op, except that a
repeated finishSecret re-runs the idempotent clean-up). Every step is idempotent, so AWS
retries and duplicate deliveries are safe. The strategy comes from the secret's
``rotation-strategy`` tag (see ``contract.py``); this module is the AWS side (event, staging
labels: ``aws_transport.py``; ``SecretsManagerContext``: ``aws_context.py``) around the
store-neutral strategies.

Logs carry secret ARNs, version ids and step names only, never a secret value.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .aws_context import SecretsManagerContext
from .aws_transport import (
    AWSCURRENT,
    AWSPENDING,
    ENV_SECRETS_MANAGER_ENDPOINT,
    STEP_EVENTS,
    params_from_tags,
)
from .contract import PARAM_REPLICA_OF, RotationStep, missing_params, parse_strategy
from .driver import ReplicaRefused, ReplicaWriter, promote_replicas, stage_replicas
from .errors import ContractError
from .notice import is_notice, publish_notice
from .replicas import Clients, refuse_replica, replicas_from_env, writers_for
from .strategies import Strategy, get_strategy

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sns import SNSClient

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)

#: Secrets Manager's step names, in order.
STEPS = tuple(STEP_EVENTS)


def lambda_handler(event: Mapping[str, Any], context: object) -> None:
    """AWS Lambda entry point (handler setting ``infra.rotation.handler.lambda_handler``)."""
    import boto3

    endpoint = os.environ.get(ENV_SECRETS_MANAGER_ENDPOINT) or None
    client: SecretsManagerClient = boto3.client("secretsmanager", endpoint_url=endpoint)

    def sns_factory() -> SNSClient:
        sns: SNSClient = boto3.client("sns")
        return sns

    if is_notice(event):
        publish_notice(event, env=os.environ, sns_factory=sns_factory)
        return
    rotate(event, client=client, env=os.environ, sns_factory=sns_factory)


def rotate(
    event: Mapping[str, Any],
    *,
    client: SecretsManagerClient,
    env: Mapping[str, str],
    sns_factory: Callable[[], SNSClient] | None = None,
    clients: Clients | None = None,
) -> None:
    """Run one rotation step for ``event`` with the given clients (the testable core).

    Replicas (``NT_ROTATION_REPLICAS`` in ``env``, ``replicas.py``): a secret that is a replica
    is refused; a home's finishSecret stages and promotes every replica before AWSCURRENT moves
    (a failure leaves AWSCURRENT where it is). ``clients`` builds the replicas' store clients.
    """
    secret_id = event.get("SecretId")
    token = event.get("ClientRequestToken")
    step = event.get("Step")
    if not isinstance(secret_id, str) or not isinstance(token, str) or not token:
        raise ContractError("event needs SecretId and ClientRequestToken strings")
    if not isinstance(step, str) or step not in STEP_EVENTS:
        raise ContractError(f"unknown Step {step!r}")
    neutral_step = RotationStep(STEP_EVENTS[step])

    meta = client.describe_secret(SecretId=secret_id)
    arn = meta["ARN"]
    if not meta.get("RotationEnabled"):
        raise ContractError(f"secret {arn} does not have rotation enabled")
    versions = meta.get("VersionIdsToStages", {})
    if token not in versions:
        raise ContractError(f"secret version {token} has no stage for rotation of secret {arn}")
    stages = versions[token]

    tags = params_from_tags(meta.get("Tags", []))
    replica_map = replicas_from_env(env)
    if tags.get(PARAM_REPLICA_OF):
        raise ReplicaRefused(f"secret {arn} is a replica of {tags[PARAM_REPLICA_OF]}")
    refuse_replica(arn, replica_map)
    replicas = writers_for(arn, replica_map, clients or Clients())
    try:
        name = parse_strategy(tags)
    except ValueError as exc:
        raise ContractError(f"secret {arn}: {exc}") from None
    missing = missing_params(name, tags)
    if missing:
        raise ContractError(f"secret {arn} ({name}) lacks tags {missing}")

    ctx = SecretsManagerContext(
        client=client, arn=arn, token=token, tags=tags, env=env, sns_factory=sns_factory
    )
    strategy = get_strategy(name)
    logger.info("%s: secret %s version %s strategy %s", step, arn, token, name.value)

    if AWSCURRENT in stages:
        if neutral_step is RotationStep.FINISH:
            promote_replicas(arn, token, replicas)
            _finish_cleanup(ctx, strategy, stages)
        else:
            logger.info("%s: version %s is already AWSCURRENT, nothing to do", step, token)
        return
    if AWSPENDING not in stages:
        raise ContractError(f"secret version {token} is not set as AWSPENDING for {arn}")

    if neutral_step is RotationStep.CREATE:
        _create(ctx, strategy)
    elif neutral_step is RotationStep.SET:
        strategy.set(ctx, ctx.require_pending())
    elif neutral_step is RotationStep.TEST:
        strategy.test(ctx, ctx.require_pending())
    else:
        _finish(ctx, strategy, versions, replicas)
    logger.info("%s: secret %s version %s done", step, arn, token)


def _create(ctx: SecretsManagerContext, strategy: Strategy) -> None:
    ctx.current()  # AWSCURRENT must exist and have a value
    if ctx.pending() is not None:
        logger.info("createSecret: %s version %s already has a value", ctx.arn, ctx.token)
        return
    value = strategy.create(ctx)
    try:
        ctx.client.put_secret_value(
            SecretId=ctx.arn,
            ClientRequestToken=ctx.token,
            SecretString=value,
            VersionStages=[AWSPENDING],
        )
    except ctx.client.exceptions.ResourceExistsException:
        # A concurrent duplicate put its own value first: keep that one.
        ctx.invalidate()
        ctx.require_pending()
        logger.info("createSecret: %s version %s was created concurrently", ctx.arn, ctx.token)
        return
    logger.info("createSecret: %s put a new AWSPENDING version %s", ctx.arn, ctx.token)


def _finish(
    ctx: SecretsManagerContext,
    strategy: Strategy,
    versions: Mapping[str, Any],
    replicas: list[ReplicaWriter],
) -> None:
    pending = ctx.require_pending()  # never promote a version without a value
    if replicas:
        stage_replicas(ctx.arn, ctx.token, pending, replicas)
        promote_replicas(ctx.arn, ctx.token, replicas)
    current = next((v for v, s in versions.items() if AWSCURRENT in s), None)
    ctx.client.update_secret_version_stage(
        SecretId=ctx.arn,
        VersionStage=AWSCURRENT,
        MoveToVersionId=ctx.token,
        **({"RemoveFromVersionId": current} if current else {}),
    )
    logger.info("finishSecret: %s AWSCURRENT moved from %s to %s", ctx.arn, current, ctx.token)
    _finish_cleanup(ctx, strategy, [AWSCURRENT, AWSPENDING])


def _finish_cleanup(ctx: SecretsManagerContext, strategy: Strategy, stages: list[str]) -> None:
    """Idempotent tail of finishSecret, also run when a finish is delivered again."""
    if AWSPENDING in stages:
        # Leave no AWSPENDING label behind, so the next RotateSecret starts clean.
        ctx.client.update_secret_version_stage(
            SecretId=ctx.arn, VersionStage=AWSPENDING, RemoveFromVersionId=ctx.token
        )
    ctx.invalidate()
    strategy.finish(ctx)
