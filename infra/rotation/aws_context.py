"""``SecretsManagerContext``: the ``strategies.RotationContext`` of AWS Secrets Manager.

Values are read by staging label (AWSCURRENT / AWSPENDING / AWSPREVIOUS), the rotation
parameters are the secret's tags, admin secrets are other Secrets Manager secrets, and
notices go to the SNS topic named by ``NT_ROTATION_TOPIC_ARN``. Only the handler builds one;
strategies see it through the protocol.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .aws_transport import AWSCURRENT, AWSPENDING, AWSPREVIOUS, ENV_ROTATION_TOPIC_ARN
from .errors import ContractError
from .strategies import AdminCredentials, NoticeReceipt

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sns import SNSClient


@dataclass
class SecretsManagerContext:
    """One rotation step of secret ``arn``, version ``token``, with the AWS clients to use."""

    client: SecretsManagerClient
    arn: str
    token: str
    tags: Mapping[str, str]
    env: Mapping[str, str]
    #: Builds the SNS client lazily, so only notices need SNS at all.
    sns_factory: Callable[[], SNSClient] | None = None
    _cache: dict[tuple[str | None, str | None], str | None] = field(default_factory=dict)

    @property
    def secret_id(self) -> str:
        return self.arn

    @property
    def version_id(self) -> str:
        return self.token

    @property
    def params(self) -> Mapping[str, str]:
        return self.tags

    def _value(self, version_id: str | None, stage: str | None) -> str | None:
        key = (version_id, stage)
        if key not in self._cache:
            kwargs: dict[str, str] = {"SecretId": self.arn}
            if version_id:
                kwargs["VersionId"] = version_id
            if stage:
                kwargs["VersionStage"] = stage
            try:
                resp = self.client.get_secret_value(**kwargs)
            except self.client.exceptions.ResourceNotFoundException:
                self._cache[key] = None
                return None
            self._cache[key] = resp.get("SecretString")
        return self._cache[key]

    def invalidate(self) -> None:
        """Forget cached values (after staging labels moved)."""
        self._cache.clear()

    def current(self) -> str:
        value = self._value(None, AWSCURRENT)
        if value is None:
            raise ContractError(f"secret {self.arn} has no AWSCURRENT string value")
        return value

    def pending(self) -> str | None:
        """Value of the version ``token`` with stage AWSPENDING, or None if not put yet."""
        return self._value(self.token, AWSPENDING)

    def require_pending(self) -> str:
        value = self.pending()
        if not value:
            raise ContractError(f"secret {self.arn} version {self.token} has no AWSPENDING value")
        return value

    def previous(self) -> str | None:
        return self._value(None, AWSPREVIOUS)

    def admin_credentials(self, param: str) -> AdminCredentials:
        """Read and validate the admin secret named by tag ``param`` (its value is never logged)."""
        secret_id = self.tags.get(param)
        if not secret_id:
            raise ContractError(f"secret {self.arn} needs the {param!r} tag")
        resp = self.client.get_secret_value(SecretId=secret_id, VersionStage=AWSCURRENT)
        try:
            return AdminCredentials.parse(resp.get("SecretString", ""))
        except ValueError as exc:
            raise ContractError(f"admin secret {resp.get('ARN', secret_id)}: {exc}") from None

    def sns(self) -> SNSClient:
        if self.sns_factory is None:
            raise ContractError("no SNS client available")
        return self.sns_factory()

    def notify(self, subject: str, message: str) -> NoticeReceipt:
        """Publish to the ``NT_ROTATION_TOPIC_ARN`` topic; nowhere if that is not set."""
        topic = self.env.get(ENV_ROTATION_TOPIC_ARN, "")
        if not topic:
            return NoticeReceipt(channel=None, reason=f"{ENV_ROTATION_TOPIC_ARN} is not set")
        self.sns().publish(TopicArn=topic, Subject=subject, Message=message)
        return NoticeReceipt(channel=topic)
