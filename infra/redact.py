"""Rejected input, described without being shown. Defined in the policy pack's contract
(:mod:`policies.contract.redact`), which the pack's config reader uses too; re-exported here for
the program's readers (settings, catalog, state, stack files)."""

from __future__ import annotations

from policies.contract.redact import (
    KEY_RE as KEY_RE,
)
from policies.contract.redact import (
    MAX_INT_DIGITS as MAX_INT_DIGITS,
)
from policies.contract.redact import (
    credential_kind as credential_kind,
)
from policies.contract.redact import (
    credential_kind_in_forms as credential_kind_in_forms,
)
from policies.contract.redact import (
    derived_forms as derived_forms,
)
from policies.contract.redact import (
    describe as describe,
)
from policies.contract.redact import (
    key as key,
)
from policies.contract.redact import (
    loc as loc,
)
from policies.contract.redact import (
    name as name,
)
from policies.contract.redact import (
    printable as printable,
)
from policies.contract.redact import (
    pydantic_message as pydantic_message,
)
from policies.contract.redact import (
    redact_lines as redact_lines,
)
from policies.contract.redact import (
    redact_text as redact_text,
)
from policies.contract.redact import (
    scrub as scrub,
)

__all__ = [
    "KEY_RE",
    "MAX_INT_DIGITS",
    "credential_kind",
    "credential_kind_in_forms",
    "derived_forms",
    "describe",
    "key",
    "loc",
    "name",
    "printable",
    "pydantic_message",
    "redact_lines",
    "redact_text",
    "scrub",
]
