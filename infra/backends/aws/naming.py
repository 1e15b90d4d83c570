"""Physical names and ARNs of the AWS estate that are known before anything exists, so policies
can refer to each other (key policy → log group, secret policy → rotation role) without cycles."""

from __future__ import annotations

import re
from dataclasses import dataclass

from infra.access import RoleName
from infra.backends.aws.settings import AwsSettings, Buckets
from infra.catalog import CatalogEntry, Environment
from policies.contract.vocabulary import TAG_ENVIRONMENT

#: CloudWatch metrics of the rotation Lambda that raise an alarm (AWS/Lambda namespace).
ROTATION_ALARM_METRICS = ("Errors", "Throttles")

#: What Secrets Manager accepts as a secret name.
SECRET_NAME_RE = re.compile(r"^[A-Za-z0-9/_+=.@-]{1,512}$")
SECRET_NAME_RULE = "Secrets Manager names: 1-512 of A-Za-z0-9/_+=.@-"  # noqa: S105


def secret_name(entry: CatalogEntry, environment: Environment) -> str:
    """A catalog entry's Secrets Manager name: ``neural-trader/<environment>/<service>/<key>``."""
    return f"neural-trader/{environment.value}/{entry.service}/{entry.key}"


@dataclass(frozen=True)
class Naming:
    environment: Environment
    settings: AwsSettings

    @property
    def prefix(self) -> str:
        return f"neural-trader-{self.environment.value}"

    @property
    def buckets(self) -> Buckets:
        return self.settings.bucket_names(self.environment.value)

    def secret_name(self, entry: CatalogEntry) -> str:
        return secret_name(entry, self.environment)

    def secret_arn(self, entry: CatalogEntry) -> str:
        """The secret's ARN without the random suffix AWS appends (``-??????``)."""
        s = self.settings
        return f"arn:aws:secretsmanager:{s.region}:{s.account_id}:secret:{self.secret_name(entry)}"

    @property
    def secret_directory_arn(self) -> str:
        """Every secret of this environment: ``...:secret:neural-trader/<environment>/*``."""
        s = self.settings
        return (
            f"arn:aws:secretsmanager:{s.region}:{s.account_id}:secret:"
            f"neural-trader/{self.environment.value}/*"
        )

    def predicted_secret_arn(self, entry: CatalogEntry) -> str:
        """A secret's ARN as AWS will make it (``XXXXXX`` stands in for AWS's random suffix): the
        real one's length, so a document built from these has the real document's size."""
        return self.secret_arn(entry) + "-XXXXXX"

    @property
    def key_arn_placeholder(self) -> str:
        """A KMS key ARN of the real one's length (the key id is a UUID), for size estimates."""
        s = self.settings
        return f"arn:aws:kms:{s.region}:{s.account_id}:key/00000000-0000-0000-0000-000000000000"

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
        return {TAG_ENVIRONMENT: self.environment.value, **extra}
