"""Stack policies that judge the estate against the catalog: every secret the environment needs is
stored, readable by someone and rotated; only Admin reads both paper and live secrets.

They read the catalog (pure data, the bottom layer) and the resources, never the program.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from infra.catalog import Environment, default_catalog
from policies.aws.secretsmanager import ROTATION, SECRET_TYPE, rotations_by_secret
from policies.framework import PackPolicy, Resource, Spec, matches_any, stack_policy
from policies.lib.iam import expand_action
from policies.model import UNKNOWN, Category, Severity

ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"


def _environment(resources: Sequence[Resource]) -> Environment | None:
    for r in resources:
        if r.type == SECRET_TYPE:
            try:
                return Environment(r.tags().get("environment", ""))
            except ValueError:
                continue
    return None


def _statements(doc: Any) -> Iterator[dict[str, Any]]:
    try:
        parsed = json.loads(doc) if isinstance(doc, str) else doc
    except json.JSONDecodeError:
        return
    if not isinstance(parsed, dict):
        return
    st = parsed.get("Statement", [])
    for s in st if isinstance(st, list) else [st]:
        if isinstance(s, dict):
            yield s


def _as_list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else [v]


def readable_secret_names(doc: Any) -> set[str] | None:
    """Secret names an identity document allows GetSecretValue on (None if it is unknown)."""
    if doc == UNKNOWN:
        return None
    names: set[str] = set()
    for st in _statements(doc):
        if st.get("Effect") != "Allow":
            continue
        # The analyzer's own expansion (wildcards inside names, any case), not a second grammar.
        granted = {a for p in _as_list(st.get("Action", [])) for a in expand_action(str(p))}
        if "secretsmanager:getsecretvalue" not in granted:
            continue
        for res in _as_list(st.get("Resource", [])):
            res = str(res)
            if ":secret:" in res:
                names.add(res.split(":secret:", 1)[1])
            elif res == "*":
                names.add("*")
    return names


def _reads(pattern: str, secret_name: str) -> bool:
    """Does a Resource entry (after ':secret:') cover a secret name (with AWS's 6-char suffix)?"""
    if pattern == "*":
        return True
    if "*" in pattern or "?" in pattern:
        return matches_any(secret_name + "-AbCdEf", [pattern])
    return pattern.rsplit("-", 1)[0] == secret_name or pattern == secret_name


def _role_reads(resources: Sequence[Resource]) -> dict[str, set[str]] | None:
    """Role name -> secret-name patterns it can read; None if any policy is unknown (preview)."""
    by_urn = {r.urn: r for r in resources}
    out: dict[str, set[str]] = {}
    for r in resources:
        if r.type != ROLE_POLICY:
            continue
        names = readable_secret_names(r.get("policy"))
        if names is None:
            return None
        parent = by_urn.get(r.parent or "")
        role = str(parent.get("name") or parent.name) if parent is not None else str(r.get("role"))
        out.setdefault(role, set()).update(names)
    return out


COVERAGE = Spec(
    id="nt-stack-catalog-coverage",
    description="Every secret the catalog lists for the stack's environment has a store, at least "
    "one reader and, where rotatable, a rotation",
    severity=Severity.HIGH,
    category=Category.ROTATION,
    remediation="Add the missing secret/reader/rotation through the catalog (infra/catalog.yaml) "
    "and the access model; never by hand.",
    resource_types=(SECRET_TYPE, ROTATION, ROLE_POLICY),
)


def _coverage(
    resources: Sequence[Resource], config: Any, report: Callable[[str, str | None], None]
) -> None:
    del config
    env = _environment(resources)
    if env is None:
        return
    stored = {r.tags().get("catalog-name"): r for r in resources if r.type == SECRET_TYPE}
    rotated = rotations_by_secret(resources)
    reads = _role_reads(resources)
    for entry in default_catalog().stored_in(env):
        secret = stored.get(entry.name)
        if secret is None:
            report(f"{entry.name}: no secret stored for {env.value}", None)
            continue
        name = str(secret.get("name"))
        if reads is not None and not any(_reads(p, name) for ps in reads.values() for p in ps):
            report(f"{entry.name}: no role can read {name}", secret.urn)
        # A secret tagged with its rotation class is judged by aws-secretsmanager-rotation-schedule.
        untagged = secret.tags().get("rotation-class") in (None, "none")
        if entry.rotatable and untagged and secret.urn not in rotated and name not in rotated:
            report(
                f"{entry.name}: rotatable ({entry.rotation}) but no rotation declared", secret.urn
            )


SEPARATION = Spec(
    id="nt-stack-paper-live-separation",
    description="No principal other than Admin (and the rotation Lambda) can read both paper and live "
    "secrets; paper/test roles read no live secret; the Auditor reads no secret value",
    severity=Severity.CRITICAL,
    category=Category.OVER_PERMISSIVE,
    remediation="Give paper (test) and live secrets to different roles; only the Admin role spans both.",
    resource_types=(SECRET_TYPE, ROLE_POLICY),
    config={
        "allowedRoleNames": {
            "type": "array",
            "items": {"type": "string"},
            "default": ["*-admin", "*-secret-rotation"],
            "description": "roles that may span paper and live: Admin and the rotation Lambda's role",
        },
        "scopesTag": {"type": "string", "default": "access-scopes"},
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


def _separation(
    resources: Sequence[Resource], config: Any, report: Callable[[str, str | None], None]
) -> None:
    admins = list(config.get("allowedRoleNames") or ["*-admin", "*-secret-rotation"])
    tag = str(config.get("scopesTag") or "access-scopes")
    kinds: dict[str, str] = {}
    for r in resources:
        if r.type != SECRET_TYPE:
            continue
        scopes = set(r.tags().get(tag, "").split("+")) - {""}
        if "live" in scopes and not scopes & {"paper", "test"}:
            kinds[str(r.get("name"))] = "live"
        elif scopes & {"paper", "test"} and "live" not in scopes:
            kinds[str(r.get("name"))] = "paper"
    reads = _role_reads(resources)
    if reads is None:
        return
    paper_roles = list(config.get("paperRoleNames") or ["*-backtest", "*-developer"])
    no_value_roles = list(config.get("noValueRoleNames") or ["*-auditor"])
    secret_names = [str(r.get("name")) for r in resources if r.type == SECRET_TYPE]
    for role, patterns in sorted(reads.items()):
        readable = sorted(n for n in secret_names if any(_reads(p, n) for p in patterns))
        if matches_any(role, no_value_roles) and (readable or "*" in patterns):
            report(
                f"role {role} may read secret values ({', '.join(readable[:3]) or '*'}); it must see metadata only",
                None,
            )
        if matches_any(role, paper_roles):
            live = [n for n in readable if kinds.get(n) == "live"]
            if live:
                report(
                    f"role {role} is paper/test-only but reads live secrets ({', '.join(live[:3])})",
                    None,
                )
        if matches_any(role, admins):
            continue
        seen = {kind for name, kind in kinds.items() if any(_reads(p, name) for p in patterns)}
        if seen == {"live", "paper"}:
            live = sorted(
                n for n, k in kinds.items() if k == "live" and any(_reads(p, n) for p in patterns)
            )
            paper = sorted(
                n for n, k in kinds.items() if k == "paper" and any(_reads(p, n) for p in patterns)
            )
            report(
                f"role {role} reads paper secrets ({', '.join(paper[:3])}) and live secrets ({', '.join(live[:3])})",
                None,
            )


POLICIES: list[PackPolicy] = [
    stack_policy(COVERAGE, _coverage),
    stack_policy(SEPARATION, _separation),
]
