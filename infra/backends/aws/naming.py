"""Physical names and ARNs of the AWS estate that are known before anything exists, so policies
can refer to each other (key policy → log group, secret policy → rotation role) without cycles."""

from __future__ import annotations

from dataclasses import dataclass

from infra.settings import RoleName, StackSettings

#: CloudWatch metrics of the rotation Lambda that raise an alarm (AWS/Lambda namespace).
ROTATION_ALARM_METRICS = ("Errors", "Throttles")


@dataclass(frozen=True)
class Naming:
    settings: StackSettings

    @property
    def prefix(self) -> str:
        return f"neural-trader-{self.settings.environment.value}"

    def role_name(self, role: RoleName) -> str:
        return f"{self.prefix}-{role}"

    def role_arn(self, role: RoleName) -> str:
        return f"arn:aws:iam::{self.settings.account_id}:role/{self.role_name(role)}"

    @property
    def trail_name(self) -> str:
        return f"{self.prefix}-secrets-audit"

    @property
    def trail_arn(self) -> str:
        s = self.settings
        return f"arn:aws:cloudtrail:{s.region}:{s.account_id}:trail/{self.trail_name}"

    def bucket_arn(self, bucket: str) -> str:
        return f"arn:aws:s3:::{bucket}"

    # ---- secret rotation (one Lambda per environment) -----------------------------------------

    @property
    def rotation_name(self) -> str:
        """Name of the rotation Lambda, its execution role and its SNS topic."""
        return f"{self.prefix}-secret-rotation"

    @property
    def rotation_role_arn(self) -> str:
        return f"arn:aws:iam::{self.settings.account_id}:role/{self.rotation_name}"

    @property
    def rotation_function_arn(self) -> str:
        s = self.settings
        return f"arn:aws:lambda:{s.region}:{s.account_id}:function:{self.rotation_name}"

    @property
    def rotation_log_group(self) -> str:
        return f"/aws/lambda/{self.rotation_name}"

    @property
    def rotation_log_group_arn(self) -> str:
        s = self.settings
        return f"arn:aws:logs:{s.region}:{s.account_id}:log-group:{self.rotation_log_group}"

    @property
    def rotation_topic_arn(self) -> str:
        s = self.settings
        return f"arn:aws:sns:{s.region}:{s.account_id}:{self.rotation_name}"

    def rotation_alarm_name(self, metric: str) -> str:
        return f"{self.rotation_name}-{metric.lower()}"

    @property
    def rotation_alarm_arns(self) -> list[str]:
        s = self.settings
        return [
            f"arn:aws:cloudwatch:{s.region}:{s.account_id}:alarm:{self.rotation_alarm_name(m)}"
            for m in ROTATION_ALARM_METRICS
        ]

    def tags(self, **extra: str) -> dict[str, str]:
        return {"environment": self.settings.environment.value, **extra}
