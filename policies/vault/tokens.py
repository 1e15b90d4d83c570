"""Vault tokens: every token has a parent, and token roles name the policies they hand out.

* ``vault-token-no-orphans``: no orphan tokens (``vault.Token`` with ``noParent``, token roles with
  ``orphan``). An orphan outlives the revocation of the token that created it, so revoking a
  compromised identity no longer revokes what it minted.
* ``vault-token-role-bounded-policies``: a token role's ``allowedPoliciesGlobs`` do not match every
  policy (``*``) or root: Vault lets a role grant any policy its globs match, beyond the caller's
  own.
"""

from __future__ import annotations

from collections.abc import Callable

from policies.framework import PackPolicy, Resource, Spec, matches_any, resource_policy
from policies.lib.shapes import declare, pick, setting
from policies.model import UNKNOWN, Category, Severity
from policies.vault.common import TOKEN, TOKEN_ROLE, only_wildcards, truthy

ORPHANS = Spec(
    id="vault-token-no-orphans",
    description="Tokens have a parent: no vault.Token with noParent and no token role with orphan, "
    "so revoking an identity revokes every token it created",
    severity=Severity.HIGH,
    category=Category.OVER_PERMISSIVE,
    remediation="Drop noParent/orphan; give a long-running workload its own auth role (Kubernetes, "
    "AppRole) instead of a token that must outlive its creator.",
    resource_types=(TOKEN, TOKEN_ROLE),
)


NO_PARENT = declare((TOKEN,), "noParent")
ORPHAN = declare((TOKEN_ROLE,), "orphan")


def _orphans(r: Resource, report: Callable[[str], None]) -> None:
    if r.type == TOKEN:
        if truthy(setting(r.props, NO_PARENT)):
            report("noParent is true: the token outlives the revocation of its creator")
    elif truthy(setting(r.props, ORPHAN)):
        report("orphan is true: its tokens outlive the revocation of their creator")


BOUNDED = Spec(
    id="vault-token-role-bounded-policies",
    description="Token roles do not allow every policy: no allowedPoliciesGlobs entry is '*' or "
    "matches root",
    severity=Severity.CRITICAL,
    category=Category.OVER_PERMISSIVE,
    remediation="List the exact policies in allowedPolicies, or globs with a literal prefix "
    "(e.g. `neural-trader-production-*`) in allowedPoliciesGlobs.",
    resource_types=(TOKEN_ROLE,),
)


GLOBS = declare((TOKEN_ROLE,), "allowedPoliciesGlobs")


def _bounded(r: Resource, report: Callable[[str], None]) -> None:
    # allowedPoliciesGlobs in pulumi-vault 6 and 7; allowedPoliciesGlob read too (a hand-written
    # spelling no SDK has, so not declared); a single string is read as one glob. An item that
    # cannot be read leaves the others to judge.
    for field in (GLOBS, "allowedPoliciesGlob"):
        for glob in pick(r.props, field):
            if not isinstance(glob, str) or glob == UNKNOWN:
                continue
            if only_wildcards(glob.strip()):
                report(f"{field} contains '*': tokens of this role may carry any policy")
            elif matches_any("root", [glob.strip().lower()]):
                report(f"{field} entry {glob!r} matches the root policy")


POLICIES: list[PackPolicy] = [
    resource_policy(ORPHANS, _orphans),
    resource_policy(BOUNDED, _bounded),
]
