"""``azure-keyvault-audit-events``: every Key Vault of the stack sends its ``AuditEvent`` log
(every data-plane access, allowed or denied) somewhere it is kept.

A diagnostic setting counts for a vault when its target (``resourceUri``, classic
``targetResourceId``) is the vault's id, or the vault's own output, and it enables the
``AuditEvent`` category (or the ``audit`` / ``allLogs`` category group) with a destination (a Log
Analytics workspace, a storage account or an event hub).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from policies.azure.common import (
    DIAGNOSTIC_TYPES,
    VAULT_TYPES,
    own_vault_key,
    vault_key_of_id,
)
from policies.framework import PackPolicy, Resource, Spec, resource_policy, stack_policy
from policies.lib.shapes import declare, falsy, pick, reveal, setting
from policies.model import UNKNOWN, Category, Severity
from policies.profile import Profile

AUDIT_CATEGORY = "auditevent"
AUDIT_GROUPS = ("audit", "alllogs")
DESTINATIONS = (
    "workspaceId",
    "logAnalyticsWorkspaceId",
    "storageAccountId",
    "eventHubAuthorizationRuleId",
    "eventhubAuthorizationRuleId",
)

SPEC = Spec(
    id="azure-keyvault-audit-events",
    profile=Profile.PROJECT,
    house="expects each vault's diagnostic setting in the same stack (this project's layout); an estate may deploy them through Azure Policy",
    description="Every Key Vault has a diagnostic setting sending AuditEvent (every data-plane "
    "access) to a Log Analytics workspace, storage account or event hub",
    severity=Severity.HIGH,
    category=Category.AUDIT,
    remediation="Add a diagnostic setting on the vault (resourceUri: the vault's id) with logs "
    "[{category: AuditEvent, enabled: true}] and a workspaceId.",
    resource_types=(*VAULT_TYPES, *DIAGNOSTIC_TYPES),
)


#: The settings read, as azure-native 3 spells them (inputs: ``resourceUri`` is an input only)
#: and the classic provider flat (``enabledLogs``, ``logAnalyticsWorkspaceId``...; not declared:
#: pulumi-azure is not installed to check them against). ``logs`` may be a list, a list in an
#: envelope or a list of envelopes; each entry names a ``category`` or a ``categoryGroup``.
LOGS = declare(DIAGNOSTIC_TYPES[:1], "logs") + "|enabledLogs"
for _path in (
    "logs.category",
    "logs.categoryGroup",
    "logs.enabled",
    "workspaceId",
    "storageAccountId",
):
    declare(DIAGNOSTIC_TYPES[:1], _path)


def _audits(r: Resource) -> bool | None:
    """Whether a diagnostic setting enables the audit log with a destination (None: unknown)."""
    # a destination unknown at preview (a workspace created beside) will be one
    if not any(v == UNKNOWN or _filled(v) for d in DESTINATIONS for v in pick(r.props, d)):
        return False
    unknown = False
    for log in pick(r.props, LOGS):
        if log == UNKNOWN:
            unknown = True
            continue
        if not isinstance(log, Mapping):
            continue
        on = reveal(log.get("enabled"))
        if falsy(on):
            continue
        category = reveal(log.get("category"))
        group = reveal(log.get("categoryGroup"))
        if UNKNOWN in (on, category, group):
            unknown = True
            continue
        if (
            str(category or "").lower() == AUDIT_CATEGORY
            or str(group or "").lower() in AUDIT_GROUPS
        ):
            return True
    return None if unknown else False


def _filled(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _target(r: Resource) -> tuple[str | None, tuple[str, ...], bool]:
    """(vault key ``rg/name`` of the target, resources flowing into it, target unknown)."""
    field = "resourceUri" if r.type.startswith("azure-native:") else "targetResourceId"
    value: Any = setting(r.props, field)
    return vault_key_of_id(value), tuple(r.property_dependencies.get(field, ())), value == UNKNOWN


def _audit(
    resources: Sequence[Resource], config: Any, report: Callable[[str, str | None], None]
) -> None:
    vaults = [r for r in resources if r.type in VAULT_TYPES]
    audited_keys: set[str] = set()
    audited_urns: set[str] = set()
    unknown = False
    for r in resources:
        if r.type not in DIAGNOSTIC_TYPES:
            continue
        verdict = _audits(r)
        key, sources, hidden = _target(r)
        if verdict is None or (hidden and not sources):
            unknown = True
            continue
        if not verdict:
            continue
        if key is not None:
            audited_keys.add(key)
        audited_urns.update(sources)
    if unknown:
        return  # judged when every diagnostic setting is known
    for v in vaults:
        key = own_vault_key(v)
        if v.urn in audited_urns or (key is not None and key in audited_keys):
            continue
        report(
            "no diagnostic setting sends this vault's AuditEvent log anywhere: secret reads "
            "leave no trace",
            v.urn,
        )


DISABLED = Spec(
    id="azure-keyvault-audit-not-disabled",
    description="A diagnostic setting of a Key Vault does not name its audit log only to turn it "
    "off (AuditEvent, or the audit / allLogs group, with enabled: false and no audit log on)",
    severity=Severity.HIGH,
    category=Category.AUDIT,
    remediation="Set enabled: true on the AuditEvent category (or the audit category group) of "
    "the vault's diagnostic setting.",
    resource_types=DIAGNOSTIC_TYPES,
)


def _disabled(r: Resource, report: Callable[[str], None]) -> None:
    key, _sources, _hidden = _target(r)
    if key is None:
        return  # not a Key Vault's setting (or its target is not known)
    named_off = False
    for log in pick(r.props, LOGS):
        if not isinstance(log, Mapping):
            continue
        category = str(reveal(log.get("category")) or "").lower()
        group = str(reveal(log.get("categoryGroup")) or "").lower()
        if category != AUDIT_CATEGORY and group not in AUDIT_GROUPS:
            continue
        if not falsy(reveal(log.get("enabled"))):
            return  # some audit entry is on (or not known to be off)
        named_off = True
    if named_off:
        report(f"the diagnostic setting of vault {key} turns its AuditEvent log off")


POLICIES: list[PackPolicy] = [stack_policy(SPEC, _audit), resource_policy(DISABLED, _disabled)]
