"""``azure-automation-variable-encrypted`` (checkov CKV_AZURE_73): Azure Automation variables are
encrypted. An unencrypted variable is readable in the portal and through the API by anyone with
read access to the Automation account, and runbooks often keep credentials in them; an
encrypted one is readable only from inside a runbook.

azure-native ``automation.Variable`` (``isEncrypted``) and the classic provider's typed variables
(``encrypted``) are read; unknown values are not judged.
"""

from __future__ import annotations

from collections.abc import Callable

from policies.framework import PackPolicy, Resource, Spec, resource_policy
from policies.lib.shapes import declare, reveal, truthy
from policies.model import UNKNOWN, Category, Severity

NATIVE_VARIABLE = "azure-native:automation:Variable"
CLASSIC_VARIABLES = tuple(
    f"azure:automation/{name}:{name[0].upper()}{name[1:]}"
    for name in (
        "stringVariable",
        "boolVariable",
        "intVariable",
        "dateTimeVariable",
        "variableObject",
    )
)
declare((NATIVE_VARIABLE,), "isEncrypted")

SPEC = Spec(
    id="azure-automation-variable-encrypted",
    description="Azure Automation variables are encrypted (readable only from runbooks)",
    severity=Severity.HIGH,
    category=Category.PLAINTEXT,
    remediation="Set isEncrypted: true (classic: encrypted = true); keep credentials in Key Vault "
    "or Automation credentials and reference them from the runbook.",
    resource_types=(NATIVE_VARIABLE, *CLASSIC_VARIABLES),
    checkov=("CKV_AZURE_73",),
)


def _check(r: Resource, report: Callable[[str], None]) -> None:
    key = "isEncrypted" if r.type == NATIVE_VARIABLE else "encrypted"
    value = reveal(r.props.get(key))
    if value != UNKNOWN and not truthy(value):
        report(f"{key} is not true: the variable's value is readable through the API and portal")


POLICIES: list[PackPolicy] = [resource_policy(SPEC, _check)]
