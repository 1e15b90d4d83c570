"""Stack policies that judge the estate against the catalog: every secret the environment needs is
held by its home store (and only by declared replicas elsewhere, all with its one value), readable
by someone and rotated; only Admin reads both paper and live secrets; the same secret kept in
several unrelated stores is sprawl.

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
from policies.graph import build, graphers
from policies.graph import resource_types as graph_types
from policies.model import Category, Enforcement, Severity
from policies.profile import Profile
from policies.stores import Access, StoredSecret, extractors, resource_types, stored_secrets

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


def _access(resources: Sequence[Resource], secrets: Sequence[StoredSecret]) -> Access:
    """Identity -> the stored secrets it can read, from the access graph (the pack's evaluators:
    every attachment, boundary, deny, condition, scope and login), without escalation."""
    graph = build(resources)
    mine = {s.urn for s in secrets}
    access = Access(complete=graph.direct_complete)
    for urn in graph.secrets.keys() & mine:
        for principal in graph.holders(urn):
            access.grant(principal, {urn})
    # A store the graph has no grapher for yet answers through its extractor's own reading.
    graphed = {g.store for g in graphers()}
    for e in extractors():
        if e.backend not in graphed and hasattr(e, "access"):
            access.merge(e.access(resources, secrets))
    return access


def _copies(secrets: Sequence[StoredSecret]) -> dict[str, list[StoredSecret]]:
    """Catalog name -> every store's copy of that secret (unlabelled secrets are left out)."""
    copies: dict[str, list[StoredSecret]] = {}
    for s in secrets:
        if s.catalog_name is not None:
            copies.setdefault(s.catalog_name, []).append(s)
    return copies


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
    description="Every secret the catalog lists for the stack's environment is held by a store "
    "(its home), every copy has at least one reader and, where rotatable, a rotation",
    severity=Severity.HIGH,
    category=Category.ROTATION,
    remediation="Add the missing secret/reader/rotation through the catalog (infra/catalog.yaml), "
    "the stack's placement and the access model; never by hand.",
    resource_types=tuple(dict.fromkeys((*resource_types(), *graph_types()))),
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
    secrets = stored_secrets(resources)
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
    copies = _copies(secrets)
    stores = sorted({s.backend for s in secrets})
    for entry in catalog.stored_in(env):
        held = copies.get(entry.name, [])
        if not held:
            report(
                f"{entry.name}: no store holds it for {env.value} (stores: {', '.join(stores)})",
                None,
            )
            continue
        for secret in held:
            # A revoked secret has no reader by design (every role is denied it).
            if reads.complete and not secret.revoked and secret.urn not in readable:
                report(f"{entry.name}: no role can read {secret.name}", secret.urn)
            # A replica is rotated by its home (nt-stack-single-source judges that relation).
            if secret.home is not None and secret.home != secret.backend:
                continue
            # A secret labelled with its rotation class is judged by the store's schedule policy.
            unlabelled = secret.rotation_class in (None, NONE)
            if entry.rotatable and unlabelled and not secret.rotated:
                report(
                    f"{entry.name}: rotatable ({entry.rotation}) but no rotation declared",
                    secret.urn,
                )


#: Resources whose inputs carry a copy's value when the copy itself does not (a Secrets Manager
#: or Secret Manager version under its secret).
VALUE_CARRIERS = (
    "aws:secretsmanager/secretVersion:SecretVersion",
    "gcp:secretmanager/secretVersion:SecretVersion",
)


def _urn_type(urn: str) -> str:
    """The type token of a URN (``urn:pulumi:S::P::parent$type::name`` -> ``type``)."""
    parts = urn.split("::")
    return parts[2].rsplit("$", 1)[-1] if len(parts) >= 4 else ""


def _materials(
    resources: Sequence[Resource], copies: Sequence[StoredSecret]
) -> dict[str, set[str]]:
    """Copy URN -> the random materials (URNs) its value is made from: what flowed into the
    copy's inputs or into those of a version resource under it."""
    carriers: dict[str, list[Resource]] = {}
    for r in resources:
        if r.type in VALUE_CARRIERS and r.parent is not None:
            carriers.setdefault(r.parent, []).append(r)
    by_urn = {r.urn: r for r in resources}
    out: dict[str, set[str]] = {}
    for copy in copies:
        found: set[str] = set()
        own = by_urn.get(copy.urn)
        for carrier in [*([own] if own is not None else []), *carriers.get(copy.urn, [])]:
            for urns in carrier.property_dependencies.values():
                found.update(u for u in urns if _urn_type(u).startswith("random:"))
        out[copy.urn] = found
    return out


SINGLE_SOURCE = Spec(
    id="nt-stack-single-source",
    profile=Profile.PROJECT,
    house="reads the home-store and value-source labels this project writes on every copy",
    description="Each secret has one home store and one value: a secret held in several stores "
    "is a declared replica of its home (the same home label on every copy, a copy in the home), "
    "every copy carries the same value source, and every copy of a rotating secret has a "
    "rotation owner (its home's rotation)",
    severity=Severity.HIGH,
    category=Category.ROTATION,
    remediation="Place the secret with neural-trader-secrets:placement (one home, declared "
    "replicas) and let the program give every copy the one value; never copy a secret by hand.",
    resource_types=(*resource_types(), *VALUE_CARRIERS),
)


def _single_source(
    resources: Sequence[Resource], config: Any, report: Callable[[str, str | None], None]
) -> None:
    del config
    copies = _copies(stored_secrets(resources))
    materials = _materials(resources, [c for cs in copies.values() for c in cs])
    for name, held in sorted(copies.items()):
        stores = sorted({c.backend for c in held})
        homes = {c.home for c in held}
        if len(held) > 1 and (None in homes or len(homes) > 1):
            named = ", ".join(sorted(f"{c.backend}: {c.home or 'none'}" for c in held))
            report(
                f"{name} is held in {', '.join(stores)} without a replica relation (home "
                f"labels {named})",
                None,
            )
            continue
        home = next(iter(homes))
        if home is None:
            continue  # one unlabelled copy: a foreign secret, nothing to relate
        in_home = [c for c in held if c.backend == home]
        if len(in_home) > 1:
            report(f"{name} is held {len(in_home)} times in its home store {home}", None)
        elif not in_home:
            # Without a home copy nothing makes or rotates the value the replicas carry.
            for c in held:
                report(
                    f"{name}: the copy in {c.backend} names {home} as its home, which holds no "
                    "copy: nothing rotates it",
                    c.urn,
                )
            continue
        labelled = {c.value_source for c in held}
        if len(labelled) > 1:
            named = ", ".join(sorted(f"{c.backend}: {c.value_source or 'none'}" for c in held))
            report(f"{name}: copies have different value sources ({named})", None)
            continue
        found = {c.urn: materials.get(c.urn, set()) for c in held}
        distinct = {frozenset(m) for m in found.values()}
        if len(held) > 1 and len(distinct) > 1:
            named = ", ".join(
                sorted(
                    f"{c.backend}: {', '.join(sorted(u.rsplit('::', 1)[-1] for u in found[c.urn])) or 'none'}"
                    for c in held
                )
            )
            report(f"{name}: copies are made from different materials ({named})", None)
        for c in held:
            if len(found[c.urn]) > 1:
                report(f"{name}: the copy in {c.backend} mixes several materials", c.urn)


def _leaf(name: str) -> str:
    """A store's name for a secret, reduced to what a person would call it: the last segment,
    lower-case, with ``_`` for ``-`` and ``.`` (``neural-trader/prod/jwt-secret`` -> ``jwt_secret``)."""
    leaf = name.rstrip("/").rsplit("/", 1)[-1]
    return leaf.lower().replace("-", "_").replace(".", "_")


SPRAWL = Spec(
    id="nt-stack-secret-sprawl",
    profile=Profile.PROJECT,
    house="which copies are one secret is read from this project's catalog tags (or guessed from "
    "the secrets' last name segments): on another estate, two secrets both called `db` in two "
    "clouds are not known to be one",
    description="The same secret is kept in several stores with no replica relation between the "
    "copies (secret sprawl: more copies to steal, rotate and review)",
    severity=Severity.MEDIUM,
    category=Category.AUDIT,
    remediation="Keep each secret in one home store; where a consumer can only reach another "
    "store, declare a replica that the home's rotation writes.",
    resource_types=resource_types(),
    enforcement=Enforcement.ADVISORY,
)


def _sprawl(
    resources: Sequence[Resource], config: Any, report: Callable[[str, str | None], None]
) -> None:
    del config
    groups: dict[str, list[StoredSecret]] = {}
    for s in stored_secrets(resources):
        key = s.catalog_name.lower() if s.catalog_name else _leaf(s.name)
        if key:
            groups.setdefault(key, []).append(s)
    for key, held in sorted(groups.items()):
        stores = sorted({c.backend for c in held})
        if len(stores) < 2:
            continue
        homes = {c.home for c in held}
        if None not in homes and len(homes) == 1:
            continue  # declared replicas of one home (nt-stack-single-source judges them)
        shown = ", ".join(f"{c.backend}: {c.name}" for c in sorted(held, key=lambda c: c.backend))
        report(f"'{key}' is kept in {len(stores)} stores ({shown})", None)


SEPARATION = Spec(
    id="nt-stack-paper-live-separation",
    profile=Profile.PROJECT,
    house="paper/live separation by this project's role names and tags",
    description="No principal other than Admin (and the rotation Lambda) can read both paper and live "
    "secrets; paper/test roles read no live secret; the Auditor reads no secret value",
    severity=Severity.CRITICAL,
    category=Category.OVER_PERMISSIVE,
    remediation="Give paper (test) and live secrets to different roles; only the Admin role spans both.",
    resource_types=tuple(dict.fromkeys((*resource_types(), *graph_types()))),
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
    secrets = stored_secrets(resources)
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
    stack_policy(SINGLE_SOURCE, _single_source),
    stack_policy(SPRAWL, _sprawl),
]
