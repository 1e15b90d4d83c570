"""The store-neutral rotation contract shared by the Pulumi program and the rotation code.

Pure data: no pulumi, no boto3, no third-party import (this module ships in the Lambda zip, with
the pack's pure contract modules it imports: ``policies/contract/vocabulary.py``, ``rotation.py``).
It holds what any secret store (AWS Secrets Manager today; HashiCorp Vault or Azure Key Vault
later) needs to run the same strategies:

* the rotation classes and their schedule (``RotationClass``, ``ROTATION_DAYS``),
* the strategies (``RotationStrategy``) and the parameters each one requires
  (``REQUIRED_PARAMS``),
* the four-step protocol every strategy implements (``RotationStep``: create, set, test,
  finish; the ``Strategy`` / ``RotationContext`` protocols are in ``strategies/__init__.py``),
* the parameter vocabulary (``PARAM_*``): the keys of the per-secret rotation parameters.

How the parameters and steps reach the code is the store's transport. For AWS (Secrets
Manager staging labels, Lambda settings and environment, "parameters are the secret's tags")
see ``aws_transport.py``; its names are re-exported at the end of this module, together with
the historical ``TAG_*`` / ``REQUIRED_TAGS`` / ``missing_tags`` names, so existing imports keep
working. The catalog (infra/catalog.py) takes its rotation classes and strategies from here;
which strategy a secret uses is catalog data (``strategy:`` in infra/catalog.yaml).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Final

from policies.contract.rotation import ROTATION_DAYS as ROTATION_DAYS
from policies.contract.rotation import RotationClass as RotationClass
from policies.contract.vocabulary import (
    TAG_CLASSIFICATION,
    TAG_ENVIRONMENT,
    TAG_MASTER_SECRET,
    TAG_PROVIDER,
    TAG_REDIS_ENDPOINT,
    TAG_REDIS_TLS,
    TAG_REDIS_USER,
    TAG_REPLICA_OF,
    TAG_ROTATION_CLASS,
    TAG_ROTATION_PERIOD_DAYS,
    TAG_ROTATION_STRATEGY,
    TAG_SERVICE,
)

# --- Parameter vocabulary -------------------------------------------------------------------
# The values are deployed keys (AWS: tag keys on every secret), defined once in the policy pack's
# contract (policies/contract/vocabulary.py), as are the rotation classes and their schedule
# (policies/contract/rotation.py): the pack judges rotation by the same facts without the program.

#: Parameters the program sets on every secret.
PARAM_ENVIRONMENT: Final = TAG_ENVIRONMENT
PARAM_SERVICE: Final = TAG_SERVICE
PARAM_ROTATION_CLASS: Final = TAG_ROTATION_CLASS
PARAM_CLASSIFICATION: Final = TAG_CLASSIFICATION

#: Which ``RotationStrategy`` rotates the secret.
PARAM_ROTATION_STRATEGY: Final = TAG_ROTATION_STRATEGY
#: Name of the secret holding admin credentials, JSON ``{"username": .., "password": ..}``
#: plus, for PostgreSQL, optional ``"host"`` / ``"port"`` the credentials are valid for
#: (``strategies.AdminCredentials``). Required for postgres-alternating-users and redis-acl;
#: optional for postgres-single-user.
PARAM_MASTER_SECRET: Final = TAG_MASTER_SECRET
#: ``host:port`` of the Redis server (redis-acl).
PARAM_REDIS_ENDPOINT: Final = TAG_REDIS_ENDPOINT
#: ACL user whose password the secret holds (redis-acl).
PARAM_REDIS_USER: Final = TAG_REDIS_USER
#: ``"true"`` or ``"false"``: connect with TLS (redis-acl). Default ``"true"``.
PARAM_REDIS_TLS: Final = TAG_REDIS_TLS
#: Optional human name of the third party (e.g. ``alpaca``), shown in the notification.
PARAM_PROVIDER: Final = TAG_PROVIDER
#: Rotation period in days (a stack override shorter than the class maximum); stores without a
#: schedule of their own (Vault KV, the Azure expiry, the GCP next rotation time) read it.
PARAM_ROTATION_PERIOD_DAYS: Final = TAG_ROTATION_PERIOD_DAYS
#: Set on a replica only: the id of its home secret. Executors refuse to rotate such a copy.
PARAM_REPLICA_OF: Final = TAG_REPLICA_OF


class RotationStep(StrEnum):
    """The four-step protocol; each value is the name of the ``Strategy`` method it calls.

    create: make the new value (stored as *pending*); set: make the backing service accept it;
    test: prove it works; finish: after the store made it *current*, clean up. Every step is
    idempotent: transports retry and deliver duplicates.
    """

    CREATE = "create"
    SET = "set"
    TEST = "test"
    FINISH = "finish"


class RotationStrategy(StrEnum):
    """Value of the ``rotation-strategy`` parameter."""

    GENERATED_HMAC = "generated-hmac"
    GENERATED_AES256 = "generated-aes256"
    POSTGRES_SINGLE_USER = "postgres-single-user"
    POSTGRES_ALTERNATING_USERS = "postgres-alternating-users"
    REDIS_ACL = "redis-acl"
    THIRD_PARTY_MANUAL = "third-party-manual"


#: Parameters (besides ``rotation-strategy``) each strategy cannot work without.
REQUIRED_PARAMS: Final[Mapping[RotationStrategy, frozenset[str]]] = {
    RotationStrategy.GENERATED_HMAC: frozenset(),
    RotationStrategy.GENERATED_AES256: frozenset(),
    RotationStrategy.POSTGRES_SINGLE_USER: frozenset(),
    RotationStrategy.POSTGRES_ALTERNATING_USERS: frozenset({PARAM_MASTER_SECRET}),
    RotationStrategy.REDIS_ACL: frozenset(
        {PARAM_MASTER_SECRET, PARAM_REDIS_ENDPOINT, PARAM_REDIS_USER}
    ),
    RotationStrategy.THIRD_PARTY_MANUAL: frozenset(),
}

#: Minimum random bytes of generated secrets (hex-encoded: twice as many characters).
HMAC_KEY_BYTES: Final = 32
AES256_KEY_BYTES: Final = 32


def parse_strategy(params: Mapping[str, str]) -> RotationStrategy:
    """Strategy named by ``params``; ``ValueError`` if the parameter is missing or unknown."""
    raw = params.get(PARAM_ROTATION_STRATEGY)
    if raw is None:
        raise ValueError(f"secret has no {PARAM_ROTATION_STRATEGY!r} tag")
    try:
        return RotationStrategy(raw)
    except ValueError:
        allowed = ", ".join(s.value for s in RotationStrategy)
        raise ValueError(
            f"unknown {PARAM_ROTATION_STRATEGY} {raw!r}; expected one of {allowed}"
        ) from None


def missing_params(strategy: RotationStrategy, params: Mapping[str, str]) -> list[str]:
    """Required parameters of ``strategy`` that ``params`` lacks (sorted), for plan time."""
    return sorted(key for key in REQUIRED_PARAMS[strategy] if not params.get(key))


def redis_tls_enabled(params: Mapping[str, str]) -> bool:
    """``rotation-redis-tls`` as a bool; TLS unless explicitly ``false``/``0``/``no``."""
    return params.get(PARAM_REDIS_TLS, "true").strip().lower() not in {"false", "0", "no", "off"}


# --- Compatibility names ------------------------------------------------------------------
# Code outside infra/rotation imports these from here; new code should use the PARAM_* names
# above, and import AWS transport names from ``aws_transport`` directly.

# On AWS each parameter travels as a Secrets Manager tag with exactly the parameter's key: the
# ``TAG_*`` names above (imported from the pack's vocabulary) are those tags.
REQUIRED_TAGS: Final = REQUIRED_PARAMS


def missing_tags(strategy: RotationStrategy, tags: Mapping[str, str]) -> list[str]:
    """Alias of ``missing_params`` (the parameters are tags on AWS)."""
    return missing_params(strategy, tags)


# AWS-only transport, re-exported unchanged (aws_transport.py imports nothing from here).
from .aws_transport import (  # noqa: E402
    AWSCURRENT,
    AWSPENDING,
    AWSPREVIOUS,
    ENV_ROTATION_TOPIC_ARN,
    ENV_SECRETS_MANAGER_ENDPOINT,
    LAMBDA_HANDLER,
    LAMBDA_RUNTIME,
)

__all__ = [
    "AES256_KEY_BYTES",
    "AWSCURRENT",
    "AWSPENDING",
    "AWSPREVIOUS",
    "ENV_ROTATION_TOPIC_ARN",
    "ENV_SECRETS_MANAGER_ENDPOINT",
    "HMAC_KEY_BYTES",
    "LAMBDA_HANDLER",
    "LAMBDA_RUNTIME",
    "PARAM_CLASSIFICATION",
    "PARAM_ENVIRONMENT",
    "PARAM_MASTER_SECRET",
    "PARAM_PROVIDER",
    "PARAM_REDIS_ENDPOINT",
    "PARAM_REDIS_TLS",
    "PARAM_REDIS_USER",
    "PARAM_REPLICA_OF",
    "PARAM_ROTATION_CLASS",
    "PARAM_ROTATION_PERIOD_DAYS",
    "PARAM_ROTATION_STRATEGY",
    "PARAM_SERVICE",
    "REQUIRED_PARAMS",
    "REQUIRED_TAGS",
    "ROTATION_DAYS",
    "TAG_CLASSIFICATION",
    "TAG_ENVIRONMENT",
    "TAG_MASTER_SECRET",
    "TAG_PROVIDER",
    "TAG_REDIS_ENDPOINT",
    "TAG_REDIS_TLS",
    "TAG_REDIS_USER",
    "TAG_ROTATION_CLASS",
    "TAG_ROTATION_STRATEGY",
    "TAG_SERVICE",
    "RotationClass",
    "RotationStep",
    "RotationStrategy",
    "missing_params",
    "missing_tags",
    "parse_strategy",
    "redis_tls_enabled",
]
