"""AWS Secrets Manager as a ``driver.StoreTransport``: what writes a Secrets Manager *replica*.

An AWS home is rotated by the Lambda (``handler.py``, driven step by step by Secrets Manager);
this transport is how another store's rotation reaches a Secrets Manager copy. It uses the
Lambda's representation: pending = the version whose id is the rotation id (a valid
``ClientRequestToken``), labelled AWSPENDING; promotion moves AWSCURRENT to it (Secrets Manager
moves AWSPREVIOUS itself) and removes AWSPENDING. ``PutSecretValue`` with the same token and
value is idempotent, so retries never add a version.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .aws_transport import AWSCURRENT, AWSPENDING, AWSPREVIOUS, params_from_tags
from .driver import ConcurrentWriteError, StoreState
from .errors import ContractError
from .strategies import AdminCredentials


@dataclass
class SecretsManagerStore:
    client: Any  # boto3 secretsmanager client
    arn: str

    @property
    def secret_id(self) -> str:
        return self.arn

    @property
    def target(self) -> str:
        return f"aws:{self.arn}"

    def _describe(self) -> dict[str, Any]:
        return dict(self.client.describe_secret(SecretId=self.arn))

    @property
    def params(self) -> Mapping[str, str]:
        return params_from_tags(self._describe().get("Tags", []))

    def _stages(self) -> dict[str, list[str]]:
        return {k: list(v) for k, v in self._describe().get("VersionIdsToStages", {}).items()}

    @staticmethod
    def _with(stages: Mapping[str, list[str]], label: str) -> str | None:
        return next((v for v, s in stages.items() if label in s), None)

    def state(self) -> StoreState:
        stages = self._stages()
        current = self._with(stages, AWSCURRENT)
        pending = self._with(stages, AWSPENDING)
        return StoreState(
            current_version=current,
            current_id=current,
            pending_id=pending if pending != current else None,
            pending_base=current,
            previous_version=self._with(stages, AWSPREVIOUS),
        )

    def _value(self, **kwargs: str) -> str | None:
        try:
            resp = self.client.get_secret_value(SecretId=self.arn, **kwargs)
        except self.client.exceptions.ResourceNotFoundException:
            return None
        value = resp.get("SecretString")
        return value if isinstance(value, str) else None

    def current_value(self) -> str | None:
        return self._value(VersionStage=AWSCURRENT)

    def pending_value(self) -> str | None:
        return self._value(VersionStage=AWSPENDING)

    def previous_value(self) -> str | None:
        return self._value(VersionStage=AWSPREVIOUS)

    def admin_credentials(self, param: str) -> AdminCredentials:
        name = self.params[param]
        resp = self.client.get_secret_value(SecretId=name, VersionStage=AWSCURRENT)
        try:
            return AdminCredentials.parse(resp.get("SecretString", ""))
        except ValueError as exc:
            raise ContractError(f"admin secret {name}: {exc}") from None

    def stage(self, rotation_id: str, value: str) -> None:
        try:
            self.client.put_secret_value(
                SecretId=self.arn,
                ClientRequestToken=rotation_id,
                SecretString=value,
                VersionStages=[AWSPENDING],
            )
        except self.client.exceptions.ResourceExistsException:
            raise ConcurrentWriteError(
                f"{self.arn}: version {rotation_id} exists with another value"
            ) from None

    def promote(self, rotation_id: str) -> None:
        stages = self._stages()
        if AWSCURRENT in stages.get(rotation_id, []):
            if AWSPENDING in stages[rotation_id]:
                self.client.update_secret_version_stage(
                    SecretId=self.arn, VersionStage=AWSPENDING, RemoveFromVersionId=rotation_id
                )
            return
        if AWSPENDING not in stages.get(rotation_id, []):
            raise ContractError(f"{self.arn}: version {rotation_id} is not AWSPENDING")
        current = self._with(stages, AWSCURRENT)
        self.client.update_secret_version_stage(
            SecretId=self.arn,
            VersionStage=AWSCURRENT,
            MoveToVersionId=rotation_id,
            **({"RemoveFromVersionId": current} if current else {}),
        )
        self.client.update_secret_version_stage(
            SecretId=self.arn, VersionStage=AWSPENDING, RemoveFromVersionId=rotation_id
        )
