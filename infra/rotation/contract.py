"""Tag contract between the Pulumi program and the rotation Lambda.

Pure data: no pulumi, no boto3, no third-party import. The catalog (infra/catalog.py) takes its
rotation classes and strategies from here, the Pulumi program sets the tags on each
``aws.secretsmanager.Secret``, and the Lambda reads the same tags to choose a strategy. Which
strategy a secret uses is catalog data (``strategy:`` in infra/catalog.yaml), not decided here.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Final

# --- Tags the program already sets on every secret ---------------------------------------
TAG_ENVIRONMENT: Final = "environment"
TAG_SERVICE: Final = "service"
TAG_ROTATION_CLASS: Final = "rotation-class"
TAG_CLASSIFICATION: Final = "classification"

# --- Tags read by the rotation Lambda ------------------------------------------------------
TAG_ROTATION_STRATEGY: Final = "rotation-strategy"
#: Name or ARN of the secret holding admin credentials, JSON ``{"username": .., "password": ..}``.
#: Required for postgres-alternating-users and redis-acl; optional for postgres-single-user.
TAG_MASTER_SECRET: Final = "rotation-master-secret"  # noqa: S105 (a tag key)
#: ``host:port`` of the Redis server (redis-acl).
TAG_REDIS_ENDPOINT: Final = "rotation-redis-endpoint"
#: ACL user whose password the secret holds (redis-acl).
TAG_REDIS_USER: Final = "rotation-redis-user"
#: ``"true"`` or ``"false"``: connect with TLS (redis-acl). Default ``"true"``.
TAG_REDIS_TLS: Final = "rotation-redis-tls"
#: Optional human name of the third party (e.g. ``alpaca``), shown in the notification.
TAG_PROVIDER: Final = "rotation-provider"

# --- Lambda environment variables ----------------------------------------------------------
#: SNS topic that receives "rotation due" notices for third-party-manual secrets.
ENV_ROTATION_TOPIC_ARN: Final = "NT_ROTATION_TOPIC_ARN"
#: Optional Secrets Manager endpoint override (VPC endpoint); unset in most deployments.
ENV_SECRETS_MANAGER_ENDPOINT: Final = "SECRETS_MANAGER_ENDPOINT"

#: Lambda ``handler`` setting for the zip built by ``infra.rotation.package.build_package``.
LAMBDA_HANDLER: Final = "infra.rotation.handler.lambda_handler"
LAMBDA_RUNTIME: Final = "python3.11"

# --- Secrets Manager staging labels ------------------------------------------------------
AWSCURRENT: Final = "AWSCURRENT"
AWSPENDING: Final = "AWSPENDING"
AWSPREVIOUS: Final = "AWSPREVIOUS"


class RotationClass(StrEnum):
    """Value of the ``rotation-class`` tag (drives the schedule, section 4.1 of the seed doc)."""

    API_KEY = "api_key"  # pragma: allowlist secret (class names, not secrets)
    DATABASE_PASSWORD = "database_password"  # noqa: S105  # pragma: allowlist secret
    JWT_SECRET = "jwt_secret"  # noqa: S105  # pragma: allowlist secret
    ENCRYPTION_KEY = "encryption_key"  # pragma: allowlist secret

    @property
    def max_age_days(self) -> int:
        return ROTATION_DAYS[self]


#: Rotation schedule in days per class (seed doc, section 4.1).
ROTATION_DAYS: Final[Mapping[RotationClass, int]] = {
    RotationClass.API_KEY: 90,
    RotationClass.DATABASE_PASSWORD: 180,
    RotationClass.JWT_SECRET: 365,
    RotationClass.ENCRYPTION_KEY: 730,
}


class RotationStrategy(StrEnum):
    """Value of the ``rotation-strategy`` tag."""

    GENERATED_HMAC = "generated-hmac"
    GENERATED_AES256 = "generated-aes256"
    POSTGRES_SINGLE_USER = "postgres-single-user"
    POSTGRES_ALTERNATING_USERS = "postgres-alternating-users"
    REDIS_ACL = "redis-acl"
    THIRD_PARTY_MANUAL = "third-party-manual"


#: Tags (besides ``rotation-strategy``) each strategy cannot work without.
REQUIRED_TAGS: Final[Mapping[RotationStrategy, frozenset[str]]] = {
    RotationStrategy.GENERATED_HMAC: frozenset(),
    RotationStrategy.GENERATED_AES256: frozenset(),
    RotationStrategy.POSTGRES_SINGLE_USER: frozenset(),
    RotationStrategy.POSTGRES_ALTERNATING_USERS: frozenset({TAG_MASTER_SECRET}),
    RotationStrategy.REDIS_ACL: frozenset({TAG_MASTER_SECRET, TAG_REDIS_ENDPOINT, TAG_REDIS_USER}),
    RotationStrategy.THIRD_PARTY_MANUAL: frozenset(),
}

#: Minimum random bytes of generated secrets (hex-encoded: twice as many characters).
HMAC_KEY_BYTES: Final = 32
AES256_KEY_BYTES: Final = 32


def parse_strategy(tags: Mapping[str, str]) -> RotationStrategy:
    """Strategy named by ``tags``; ``ValueError`` if the tag is missing or unknown."""
    raw = tags.get(TAG_ROTATION_STRATEGY)
    if raw is None:
        raise ValueError(f"secret has no {TAG_ROTATION_STRATEGY!r} tag")
    try:
        return RotationStrategy(raw)
    except ValueError:
        allowed = ", ".join(s.value for s in RotationStrategy)
        raise ValueError(
            f"unknown {TAG_ROTATION_STRATEGY} {raw!r}; expected one of {allowed}"
        ) from None


def missing_tags(strategy: RotationStrategy, tags: Mapping[str, str]) -> list[str]:
    """Required tags of ``strategy`` that ``tags`` lacks (sorted), for plan-time validation."""
    return sorted(key for key in REQUIRED_TAGS[strategy] if not tags.get(key))


def redis_tls_enabled(tags: Mapping[str, str]) -> bool:
    """``rotation-redis-tls`` as a bool; TLS unless explicitly ``false``/``0``/``no``."""
    return tags.get(TAG_REDIS_TLS, "true").strip().lower() not in {"false", "0", "no", "off"}
