"""Stack policies that judge the estate against the catalog: every secret the environment needs is
stored in every store the stack uses, readable by someone and rotated; only Admin reads both paper
and live secrets.

They read each store through its extractor (``policies/stores/``) and the catalog file named by the
policy config, through the pack's own reader (``policies/contract/catalog.py``), never the program.
``nt-secrets plan --catalog X`` passes the catalog it planned with; under the Pulumi engine the
default is the project's catalog file beside the pack (a published pack names it with
``catalogPath``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from policies.contract.catalog import CatalogReadError, Environment, PackCatalog, read_catalog
from policies.contract.vocabulary import NONE
from policies.framework import PackPolicy, Resource, Spec, matches_any, stack_policy
from policies.model import Category, Severity
from policies.profile import Profile
from policies.stores import Access, StoredSecret, extractors, resource_types

#: The coverage policy's tunable naming the catalog file the stack was planned with.
CATALOG_KEY = "catalogPath"


def catalog_from(config: Mapping[str, Any]) -> PackCatalog:
    """The catalog the policy config names; CatalogReadError if it cannot be read."""
    path = str(config.get(CATALOG_KEY) or "")
    return read_catalog(Path(path) if path else None)


def with_catalog(document: Mapping[str, Any] | None, path: Path) -> dict[str, Any]:
    """A policy pack config that also tells the coverage policy which catalog the stack was
    planned with (whatever else the document says about that policy is kept)."""
    out = dict(document or {})
    entry = out.get(COVERAGE.id)
    value = str(path.resolve())
    if isinstance(entry, str):
        out[COVERAGE.id] = {"enforcementLevel": entry, CATALOG_KEY: value}
    elif isinstance(entry, Mapping):
        out[COVERAGE.id] = {**entry, CATALOG_KEY: value}
    else:
        out[COVERAGE.id] = {CATALOG_KEY: value}
    return out


def _stored(resources: Sequence[Resource]) -> list[StoredSecret]:
    return [s for e in extractors() for s in e.secrets(resources)]


def _access(resources: Sequence[Resource], secrets: Sequence[StoredSecret]) -> Access:
    access = Access()
    for e in extractors():
        access.merge(e.access(resources, secrets))
    return access


def _environment(secrets: Sequence[StoredSecret]) -> Environment | None:
    for s in secrets:
        try:
            return Environment(s.environment or "")
        except ValueError:
            continue
    return None


COVERAGE = Spec(
    id="nt-stack-catalog-coverage",
    profile=Profile.PROJECT,
    house="judges the stack against this project's secret catalog",
    description="Every secret the catalog lists for the stack's environment has a store in each "
    "backend the stack uses, at least one reader and, where rotatable, a rotation",
    severity=Severity.HIGH,
    category=Category.ROTATION,
    remediation="Add the missing secret/reader/rotation through the catalog (infra/catalog.yaml) "
    "and the access model; never by hand.",
    resource_types=resource_types(),
    config={
        CATALOG_KEY: {
            "type": "string",
            "default": "",
            "description": "the catalog file the stack was planned with (empty: the project's "
            "infra/catalog.yaml beside the pack; a published pack needs it set); "
            "`nt-secrets plan --catalog` sets it",
        },
    },
)


def _coverage(
    resources: Sequence[Resource], config: Any, report: Callable[[str, str | None], None]
) -> None:
    secrets = _stored(resources)
    env = _environment(secrets)
    if env is None:
        return
    try:
        catalog = catalog_from(config)
    except CatalogReadError as exc:
        report(f"the catalog to judge the stack against cannot be read: {exc}", None)
        return
    reads = _access(resources, secrets)
    readable = {urn for urns in reads.reads.values() for urn in urns}
    for backend in sorted({s.backend for s in secrets}):
        held = {s.catalog_name: s for s in secrets if s.backend == backend}
        for entry in catalog.stored_in(env):
            secret = held.get(entry.name)
            if secret is None:
                report(f"{entry.name}: no secret stored for {env.value} in {backend}", None)
                continue
            # A revoked secret has no reader by design (every role is denied it).
            if reads.complete and not secret.revoked and secret.urn not in readable:
                report(f"{entry.name}: no role can read {secret.name}", secret.urn)
            # A secret labelled with its rotation class is judged by the store's schedule policy.
            unlabelled = secret.rotation_class in (None, NONE)
            if entry.rotatable and unlabelled and not secret.rotated:
                report(
                    f"{entry.name}: rotatable ({entry.rotation}) but no rotation declared",
                    secret.urn,
                )


SEPARATION = Spec(
    id="nt-stack-paper-live-separation",
    profile=Profile.PROJECT,
    house="paper/live separation by this project's role names and tags",
    description="No principal other than Admin (and the rotation Lambda) can read both paper and live "
    "secrets; paper/test roles read no live secret; the Auditor reads no secret value",
    severity=Severity.CRITICAL,
    category=Category.OVER_PERMISSIVE,
    remediation="Give paper (test) and live secrets to different roles; only the Admin role spans both.",
    resource_types=resource_types(),
    config={
        "allowedRoleNames": {
            "type": "array",
            "items": {"type": "string"},
            "default": ["*-admin", "*-secret-rotation"],
            "description": "roles that may span paper and live: Admin and the rotation Lambda's role",
        },
        "paperRoleNames": {
            "type": "array",
            "items": {"type": "string"},
            "default": ["*-backtest", "*-developer"],
            "description": "roles that may never read a live secret (read-only backtests, developers)",
        },
        "noValueRoleNames": {
            "type": "array",
            "items": {"type": "string"},
            "default": ["*-auditor"],
            "description": "roles that may read no secret value at all (the Auditor sees metadata only)",
        },
    },
)


def _kind(secret: StoredSecret) -> str | None:
    paper = bool(secret.scopes & {"paper", "test"})
    live = "live" in secret.scopes
    if live and not paper:
        return "live"
    if paper and not live:
        return "paper"
    return None


def _separation(
    resources: Sequence[Resource], config: Any, report: Callable[[str, str | None], None]
) -> None:
    admins = list(config.get("allowedRoleNames") or ["*-admin", "*-secret-rotation"])
    paper_roles = list(config.get("paperRoleNames") or ["*-backtest", "*-developer"])
    no_value_roles = list(config.get("noValueRoleNames") or ["*-auditor"])
    secrets = _stored(resources)
    by_urn = {s.urn: s for s in secrets}
    access = _access(resources, secrets)
    if not access.complete:
        return
    for role, urns in sorted(access.reads.items()):
        readable = sorted(by_urn[u].name for u in urns)
        if matches_any(role, no_value_roles) and readable:
            report(
                f"role {role} may read secret values ({', '.join(readable[:3])}); it must see metadata only",
                None,
            )
        live = sorted(by_urn[u].name for u in urns if _kind(by_urn[u]) == "live")
        paper = sorted(by_urn[u].name for u in urns if _kind(by_urn[u]) == "paper")
        if matches_any(role, paper_roles) and live:
            report(
                f"role {role} is paper/test-only but reads live secrets ({', '.join(live[:3])})",
                None,
            )
        if matches_any(role, admins):
            continue
        if live and paper:
            report(
                f"role {role} reads paper secrets ({', '.join(paper[:3])}) and live secrets ({', '.join(live[:3])})",
                None,
            )


POLICIES: list[PackPolicy] = [
    stack_policy(COVERAGE, _coverage),
    stack_policy(SEPARATION, _separation),
]
