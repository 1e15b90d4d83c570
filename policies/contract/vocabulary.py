"""The contract vocabulary: every tag/label key the program writes and the policies read.

Pure data (standard library only). Adapters write these keys on the resources that hold secrets;
the stack policies and the state checks read them back; the rotation function reads the rotation
parameters among them (``infra/rotation/contract.py`` names them ``PARAM_*``). A test fails if one
of these literals is written anywhere else in ``infra/`` or ``policies/``. The values are deployed
keys: never change them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

# --- Set by the program on every secret (also the rotation's parameters) ---------------------
TAG_ENVIRONMENT: Final = "environment"
TAG_SERVICE: Final = "service"
TAG_ROTATION_CLASS: Final = "rotation-class"
TAG_CLASSIFICATION: Final = "classification"

# --- Rotation parameters ------------------------------------------------------------------
#: Which rotation strategy rotates the secret.
TAG_ROTATION_STRATEGY: Final = "rotation-strategy"
#: Name of the secret holding admin credentials (PostgreSQL alternating users, Redis ACL).
TAG_MASTER_SECRET: Final = "rotation-master-secret"
#: ``host:port`` of the Redis server (redis-acl).
TAG_REDIS_ENDPOINT: Final = "rotation-redis-endpoint"
#: ACL user whose password the secret holds (redis-acl).
TAG_REDIS_USER: Final = "rotation-redis-user"
#: ``"true"`` or ``"false"``: connect with TLS (redis-acl).
TAG_REDIS_TLS: Final = "rotation-redis-tls"
#: Optional human name of the third party (e.g. ``alpaca``), shown in the notification.
TAG_PROVIDER: Final = "rotation-provider"

# --- Read by the policies and the state checks ---------------------------------------------
#: The catalog entry (environment variable name) a stored secret holds.
TAG_CATALOG_NAME: Final = "catalog-name"
#: The access scopes of a stored secret in its environment, joined by :data:`SCOPE_SEPARATOR`.
TAG_ACCESS_SCOPES: Final = "access-scopes"
SCOPE_SEPARATOR: Final = "+"
#: The rotation period in days, for stores without a rotation schedule of their own (Vault KV):
#: what a rotation job (or a reviewer) reads to know when the secret is due.
TAG_ROTATION_PERIOD_DAYS: Final = "rotation-period-days"
#: On a replica: the store-neutral id of its home secret (``infra/rotation/replicas.py``). A copy
#: carrying it is never rotated on its own; its home's rotation writes it.
TAG_REPLICA_OF: Final = "replica-of"
#: ``"true"`` on a secret that the stack's ``revoked`` setting names (incident response).
TAG_REVOKED: Final = "revoked"
#: The store that is the home of the secret (``aws``, ``vault``, ``gcp``, ``azure``): the one
#: copy whose rotation makes each new value. A copy in any other store is a replica of it.
TAG_HOME_STORE: Final = "home-store"
#: Where the one value of the secret comes from: :data:`VALUE_GENERATED` (random material the
#: stack makes once), :data:`VALUE_SUPPLIED` (the stack config) or :data:`VALUE_EXTERNAL` (put
#: into the home out of band). Every copy of a secret says the same.
TAG_VALUE_SOURCE: Final = "value-source"
VALUE_GENERATED: Final = "generated"
VALUE_SUPPLIED: Final = "supplied"
VALUE_EXTERNAL: Final = "external"
#: The access-model role an identity (IAM role, service account, ...) stands for, and its kind.
TAG_ROLE: Final = "role"
TAG_KIND: Final = "kind"
KIND_HUMAN: Final = "human"
KIND_WORKLOAD: Final = "workload"
#: Tag value of a secret without rotation class / strategy.
NONE: Final = "none"
#: Classifications (``classification`` tag).
RESTRICTED: Final = "restricted"
CONFIDENTIAL: Final = "confidential"
AUDIT: Final = "audit"


def scopes_value(scopes: frozenset[str] | set[str]) -> str:
    """The ``access-scopes`` value of a set of scopes (sorted, joined)."""
    return SCOPE_SEPARATOR.join(sorted(scopes))


def parse_scopes(value: str) -> frozenset[str]:
    """The scopes an ``access-scopes`` value names."""
    return frozenset(value.split(SCOPE_SEPARATOR)) - {""}


#: Where each kind of store keeps a resource's labels (the first present wins): AWS/Azure tags,
#: GCP labels, Vault KV custom metadata, Kubernetes object metadata.
LABEL_LOCATIONS: Final = (
    ("tags",),
    ("labels",),
    ("customMetadata", "data"),
    ("metadata", "labels"),
)


def resource_labels(props: Mapping[str, Any]) -> Mapping[str, Any]:
    """The contract labels of a resource's inputs, wherever its store keeps them."""
    for location in LABEL_LOCATIONS:
        value: Any = props
        for key in location:
            value = value.get(key) if isinstance(value, Mapping) else None
        if isinstance(value, Mapping):
            return value
    return {}
