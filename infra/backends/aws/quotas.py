"""AWS's documented size quotas for the documents this backend writes, and how a document is made
to fit them. Defined in the policy pack's contract (:mod:`policies.contract.aws_quotas`), which the
quota policies read too; re-exported here for the AWS backend."""

from __future__ import annotations

from policies.contract.aws_quotas import (
    CONTEXT_KEY as CONTEXT_KEY,
)
from policies.contract.aws_quotas import (
    FUNCTION_ENVIRONMENT as FUNCTION_ENVIRONMENT,
)
from policies.contract.aws_quotas import (
    FUNCTION_POLICY as FUNCTION_POLICY,
)
from policies.contract.aws_quotas import (
    KEY_POLICY as KEY_POLICY,
)
from policies.contract.aws_quotas import (
    MANAGED_POLICY as MANAGED_POLICY,
)
from policies.contract.aws_quotas import (
    PERMISSION_STATEMENT as PERMISSION_STATEMENT,
)
from policies.contract.aws_quotas import (
    ROLE_INLINE_POLICIES as ROLE_INLINE_POLICIES,
)
from policies.contract.aws_quotas import (
    ROLE_MANAGED_ATTACHMENTS as ROLE_MANAGED_ATTACHMENTS,
)
from policies.contract.aws_quotas import (
    SECRET_POLICY as SECRET_POLICY,
)
from policies.contract.aws_quotas import (
    TAG_KEY_LENGTH as TAG_KEY_LENGTH,
)
from policies.contract.aws_quotas import (
    TAG_VALUE_LENGTH as TAG_VALUE_LENGTH,
)
from policies.contract.aws_quotas import (
    TAGS_PER_RESOURCE as TAGS_PER_RESOURCE,
)
from policies.contract.aws_quotas import (
    TRUST_POLICY as TRUST_POLICY,
)
from policies.contract.aws_quotas import (
    QuotaError as QuotaError,
)
from policies.contract.aws_quotas import (
    compact as compact,
)
from policies.contract.aws_quotas import (
    directory as directory,
)
from policies.contract.aws_quotas import (
    fit as fit,
)
from policies.contract.aws_quotas import (
    fit_inline_policy as fit_inline_policy,
)
from policies.contract.aws_quotas import (
    merge_statements as merge_statements,
)
from policies.contract.aws_quotas import (
    service_groups as service_groups,
)
from policies.contract.aws_quotas import (
    size as size,
)
from policies.contract.aws_quotas import (
    widen_context as widen_context,
)
