"""How the estate's contract labels are spelled as GCP labels, and read back. Defined in the policy
pack's contract (:mod:`policies.contract.gcp_labels`): the adapter writes with :func:`gcp_labels` /
:func:`gcp_annotations`, the pack's extractor (``policies/stores/gcp.py``) reads with
:func:`contract_labels`. Re-exported here for the GCP backend."""

from __future__ import annotations

from policies.contract.gcp_labels import (
    GCP_SCOPE_SEPARATOR as GCP_SCOPE_SEPARATOR,
)
from policies.contract.gcp_labels import (
    LABEL_KEY_RE as LABEL_KEY_RE,
)
from policies.contract.gcp_labels import (
    LABEL_KEYS as LABEL_KEYS,
)
from policies.contract.gcp_labels import (
    LABEL_VALUE_RE as LABEL_VALUE_RE,
)
from policies.contract.gcp_labels import (
    LabelError as LabelError,
)
from policies.contract.gcp_labels import (
    contract_labels as contract_labels,
)
from policies.contract.gcp_labels import (
    decode as decode,
)
from policies.contract.gcp_labels import (
    encode as encode,
)
from policies.contract.gcp_labels import (
    gcp_annotations as gcp_annotations,
)
from policies.contract.gcp_labels import (
    gcp_labels as gcp_labels,
)
