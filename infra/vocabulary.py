"""The contract vocabulary: every tag/label key the program writes and the policies read.

Pure data. Adapters write these keys on the resources that hold secrets; the stack policies and the
state checks read them back. A test fails if one of these literals is written anywhere else in
``infra/`` or ``policies/``. The keys the rotation function reads are defined in the rotation
contract (it ships inside the function, without this package) and re-exported here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from infra.rotation.contract import (
    TAG_CLASSIFICATION as TAG_CLASSIFICATION,
)
from infra.rotation.contract import (
    TAG_ENVIRONMENT as TAG_ENVIRONMENT,
)
from infra.rotation.contract import (
    TAG_MASTER_SECRET as TAG_MASTER_SECRET,
)
from infra.rotation.contract import (
    TAG_PROVIDER as TAG_PROVIDER,
)
from infra.rotation.contract import (
    TAG_REDIS_ENDPOINT as TAG_REDIS_ENDPOINT,
)
from infra.rotation.contract import (
    TAG_REDIS_TLS as TAG_REDIS_TLS,
)
from infra.rotation.contract import (
    TAG_REDIS_USER as TAG_REDIS_USER,
)
from infra.rotation.contract import (
    TAG_ROTATION_CLASS as TAG_ROTATION_CLASS,
)
from infra.rotation.contract import (
    TAG_ROTATION_STRATEGY as TAG_ROTATION_STRATEGY,
)
from infra.rotation.contract import (
    TAG_SERVICE as TAG_SERVICE,
)

#: The catalog entry (environment variable name) a stored secret holds.
TAG_CATALOG_NAME: Final = "catalog-name"
#: The access scopes of a stored secret in its environment, joined by :data:`SCOPE_SEPARATOR`.
TAG_ACCESS_SCOPES: Final = "access-scopes"
SCOPE_SEPARATOR: Final = "+"
#: The rotation period in days, for stores without a rotation schedule of their own (Vault KV):
#: what a rotation job (or a reviewer) reads to know when the secret is due.
TAG_ROTATION_PERIOD_DAYS: Final = "rotation-period-days"
#: ``"true"`` on a secret that the stack's ``revoked`` setting names (incident response).
TAG_REVOKED: Final = "revoked"
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
