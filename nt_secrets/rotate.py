"""Emergency rotation: ``nt-secrets rotate <secret> --now`` (the CLI wiring lives elsewhere).

``rotate_now`` asks Secrets Manager to rotate immediately (RotateSecret with
RotateImmediately=True, which invokes the secret's rotation Lambda), then polls DescribeSecret
until the new version carries AWSCURRENT, the rotation visibly failed, or the timeout passed.
Progress goes to a callback so the CLI can render it. Only ARNs, version ids and staging
labels are ever reported, never a secret value (this module never reads one).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

AWSCURRENT = "AWSCURRENT"
AWSPENDING = "AWSPENDING"


class EmergencyRotationError(RuntimeError):
    """Base class: the emergency rotation did not complete."""


class RotationNotConfiguredError(EmergencyRotationError):
    """The secret has no rotation Lambda / rotation is disabled."""


class RotationFailedError(EmergencyRotationError):
    """Secrets Manager refused the rotation, or it visibly failed while we watched."""


class RotationTimeoutError(EmergencyRotationError):
    """The new version did not become AWSCURRENT in time (the Lambda is probably failing)."""


class RotationPhase(StrEnum):
    REQUESTED = "requested"  # RotateSecret accepted, AWSPENDING version id known
    WAITING = "waiting"  # polled, the new version is not AWSCURRENT yet
    COMPLETED = "completed"  # the new version is AWSCURRENT


@dataclass(frozen=True)
class RotationProgress:
    phase: RotationPhase
    secret_arn: str
    version_id: str
    stages: tuple[str, ...]
    elapsed_s: float
    message: str


@dataclass(frozen=True)
class RotationResult:
    secret_arn: str
    version_id: str
    previous_version_id: str | None
    elapsed_s: float
    polls: int


class RotateOptions(BaseModel):
    """Tunables of ``rotate_now`` (validated: positive numbers only)."""

    model_config = ConfigDict(frozen=True)

    timeout_s: float = Field(default=300.0, gt=0)
    poll_interval_s: float = Field(default=2.0, gt=0)
    client_request_token: str | None = Field(default=None, min_length=32, max_length=64)


ProgressCallback = Callable[[RotationProgress], None]


def _current_version(versions: Mapping[str, Sequence[str]]) -> str | None:
    return next((v for v, stages in versions.items() if AWSCURRENT in stages), None)


def _aws_error(action: str, secret_id: str, exc: Exception) -> str:
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        return f"{action} {secret_id} failed: {err.get('Code')}: {err.get('Message')}"
    return f"{action} {secret_id} failed: {type(exc).__name__}"


def rotate_now(
    client: SecretsManagerClient,
    secret_id: str,
    *,
    on_progress: ProgressCallback | None = None,
    options: RotateOptions | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> RotationResult:
    """Rotate ``secret_id`` now and wait until the new version is AWSCURRENT.

    Raises ``RotationNotConfiguredError``, ``RotationFailedError`` or ``RotationTimeoutError``
    (all ``EmergencyRotationError``); AWSCURRENT is only ever moved by the rotation Lambda.
    """
    opts = options or RotateOptions()
    notify = on_progress or (lambda _p: None)
    start = clock()
    try:
        meta = client.describe_secret(SecretId=secret_id)
    except (ClientError, BotoCoreError) as exc:
        raise EmergencyRotationError(_aws_error("DescribeSecret", secret_id, exc)) from exc
    arn = meta["ARN"]
    if not meta.get("RotationLambdaARN"):
        raise RotationNotConfiguredError(
            f"{arn} has no rotation Lambda; configure rotation (Pulumi) before --now"
        )
    previous = _current_version(meta.get("VersionIdsToStages", {}))

    token = opts.client_request_token or str(uuid.uuid4())
    try:
        resp = client.rotate_secret(SecretId=arn, ClientRequestToken=token, RotateImmediately=True)
    except (ClientError, BotoCoreError) as exc:
        raise RotationFailedError(_aws_error("RotateSecret", arn, exc)) from exc
    version = resp.get("VersionId", token)

    def report(phase: RotationPhase, stages: Sequence[str], message: str) -> None:
        notify(RotationProgress(phase, arn, version, tuple(stages), clock() - start, message))

    report(RotationPhase.REQUESTED, [AWSPENDING], f"rotation requested, new version {version}")
    polls = 0
    while True:
        polls += 1
        try:
            versions = client.describe_secret(SecretId=arn).get("VersionIdsToStages", {})
        except (ClientError, BotoCoreError) as exc:
            raise EmergencyRotationError(_aws_error("DescribeSecret", arn, exc)) from exc
        stages = list(versions.get(version, []))
        current = _current_version(versions)
        if AWSCURRENT in stages:
            report(RotationPhase.COMPLETED, stages, f"version {version} is AWSCURRENT")
            return RotationResult(arn, version, previous, clock() - start, polls)
        if current not in (previous, version):
            raise RotationFailedError(
                f"{arn}: AWSCURRENT moved to {current}, not to our version {version}"
            )
        if not stages:
            raise RotationFailedError(
                f"{arn}: version {version} lost its AWSPENDING label before becoming current"
            )
        elapsed = clock() - start
        if elapsed >= opts.timeout_s:
            raise RotationTimeoutError(
                f"{arn}: version {version} not AWSCURRENT after {elapsed:.0f}s; AWSCURRENT is "
                f"still {current}. Check the rotation Lambda's logs "
                f"({meta['RotationLambdaARN']}); a third-party-manual secret waits for an "
                "operator (docs/rotation.md)."
            )
        report(RotationPhase.WAITING, stages, f"waiting for version {version} ({elapsed:.0f}s)")
        sleep(min(opts.poll_interval_s, max(opts.timeout_s - elapsed, 0.0)))
