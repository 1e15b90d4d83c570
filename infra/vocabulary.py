"""The contract vocabulary: every tag/label key the program writes and the policies read.

Defined in the policy pack's contract (:mod:`policies.contract.vocabulary`, the bottom layer both
sides share: the pack installs without the program); re-exported here so the program's imports keep
working. A test fails if one of these literals is written anywhere else in ``infra/`` or
``policies/``.
"""

from __future__ import annotations

from policies.contract.vocabulary import (
    AUDIT as AUDIT,
)
from policies.contract.vocabulary import (
    CONFIDENTIAL as CONFIDENTIAL,
)
from policies.contract.vocabulary import (
    KIND_HUMAN as KIND_HUMAN,
)
from policies.contract.vocabulary import (
    KIND_WORKLOAD as KIND_WORKLOAD,
)
from policies.contract.vocabulary import (
    LABEL_LOCATIONS as LABEL_LOCATIONS,
)
from policies.contract.vocabulary import (
    NONE as NONE,
)
from policies.contract.vocabulary import (
    RESTRICTED as RESTRICTED,
)
from policies.contract.vocabulary import (
    SCOPE_SEPARATOR as SCOPE_SEPARATOR,
)
from policies.contract.vocabulary import (
    TAG_ACCESS_SCOPES as TAG_ACCESS_SCOPES,
)
from policies.contract.vocabulary import (
    TAG_CATALOG_NAME as TAG_CATALOG_NAME,
)
from policies.contract.vocabulary import (
    TAG_CLASSIFICATION as TAG_CLASSIFICATION,
)
from policies.contract.vocabulary import (
    TAG_ENVIRONMENT as TAG_ENVIRONMENT,
)
from policies.contract.vocabulary import (
    TAG_KIND as TAG_KIND,
)
from policies.contract.vocabulary import (
    TAG_MASTER_SECRET as TAG_MASTER_SECRET,
)
from policies.contract.vocabulary import (
    TAG_PROVIDER as TAG_PROVIDER,
)
from policies.contract.vocabulary import (
    TAG_REDIS_ENDPOINT as TAG_REDIS_ENDPOINT,
)
from policies.contract.vocabulary import (
    TAG_REDIS_TLS as TAG_REDIS_TLS,
)
from policies.contract.vocabulary import (
    TAG_REDIS_USER as TAG_REDIS_USER,
)
from policies.contract.vocabulary import (
    TAG_REPLICA_OF as TAG_REPLICA_OF,
)
from policies.contract.vocabulary import (
    TAG_REVOKED as TAG_REVOKED,
)
from policies.contract.vocabulary import (
    TAG_ROLE as TAG_ROLE,
)
from policies.contract.vocabulary import (
    TAG_ROTATION_CLASS as TAG_ROTATION_CLASS,
)
from policies.contract.vocabulary import (
    TAG_ROTATION_PERIOD_DAYS as TAG_ROTATION_PERIOD_DAYS,
)
from policies.contract.vocabulary import (
    TAG_ROTATION_STRATEGY as TAG_ROTATION_STRATEGY,
)
from policies.contract.vocabulary import (
    TAG_SERVICE as TAG_SERVICE,
)
from policies.contract.vocabulary import (
    parse_scopes as parse_scopes,
)
from policies.contract.vocabulary import (
    resource_labels as resource_labels,
)
from policies.contract.vocabulary import (
    scopes_value as scopes_value,
)
