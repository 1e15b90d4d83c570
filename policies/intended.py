"""Intent against effect: the access graph of a stack compared with the access model's matrix.

The access model (``policies/contract/access.py``: the scopes each role reads) says who is meant to
read a secret: the roles whose scopes meet the secret's ``access-scopes`` label, and the rotation of
its home. The graph (``policies/graph``) says who *can*, after every attachment, boundary, deny,
condition, inheritance and login. This house rule fails on the difference, both ways:

- a principal that can read a secret although no role meant to read it stands for that principal
  (an identity the access model does not name, or a role reading outside its scopes);
- an identity standing for a role meant to read a secret that cannot read it (a missing
  ``kms:Decrypt``, a deny, a condition that excludes it) — judged only where the graph is complete.

Which role an identity stands for comes from its ``role`` label (the program labels the identities
that take labels) or, for stores whose identities carry none (Vault policies, GCP service accounts),
from the profile's ``roleIdentities`` patterns on the principal's name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from policies.contract.access import ROLE_READ_SCOPES, Action, intended_reader
from policies.contract.vocabulary import TAG_ROLE
from policies.framework import PackPolicy, Resource, Spec, matches_any, stack_policy
from policies.graph import Graph, Hop, build
from policies.graph import resource_types as graph_types
from policies.model import Category, Severity
from policies.profile import Profile
from policies.stores import StoredSecret, stored_secrets

#: The role label of the executors that rotate a store's home secrets.
ROTATION_ROLES = ("secret-rotation", "rotation")

DEFAULT_ROLE_IDENTITIES: dict[str, list[str]] = {
    "backtest": ["*-backtest", "*-backtest@*", "*:backtest:*", "*:backtest"],
    "live-trading": ["*-live-trading", "*-live-trading@*", "*:live-trading:*", "*-live-trading-*"],
    "developer": ["*-developer", "*-developer@*", "*:developer:*"],
    "trader": ["*-trader", "*-trader@*", "*:trader:*"],
    "admin": ["*-admin", "*-admin@*", "*:admin:*"],
    "auditor": ["*-auditor", "*-auditor@*", "*:auditor:*"],
    "rotation": ["*-secret-rotation", "*-secret-rotation@*", "*secret-rotation*", "*-rotation@*"],
}

INTENDED = Spec(
    id="nt-stack-intended-access",
    profile=Profile.PROJECT,
    house="maps this project's identities to its access-model roles by their role label or name",
    description="Who can read each secret (the access graph: every attachment, boundary, deny, "
    "condition, scope and login evaluated) is exactly who the access model means to read it: no "
    "reader the model does not name, and every identity of a role meant to read it can",
    severity=Severity.HIGH,
    category=Category.OVER_PERMISSIVE,
    remediation="Grant access only through the access model (infra/access.py); remove grants made "
    "outside it; give an intended reader what it lacks (e.g. kms:Decrypt on the secret's key).",
    resource_types=graph_types(),
    config={
        "roleIdentities": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "default": DEFAULT_ROLE_IDENTITIES,
            "description": "access-model role (or `rotation`) -> patterns of the principal names "
            "that stand for it, for identities without a `role` label",
        },
    },
)


_TOKEN = re.compile(r"[^A-Za-z0-9]+")


def _tokens(text: str) -> list[str]:
    return [t for t in _TOKEN.split(text.lower()) if t]


def _named_role(text: str, roles: Sequence[str]) -> str | None:
    """The role whose name appears last in ``text`` as whole words, the longer one where two
    start at the same word (``live-trading`` in ``openai-api-key-live-trading-accessor``;
    ``trader`` in ``live-trader policy``; ``admin``, not the project's own ``trader``, in
    ``neural-trader-development-admin``)."""
    words = _tokens(text)
    best: tuple[int, int, str] | None = None
    for role in roles:
        want = _tokens(role)
        n = len(want)
        for start in range(len(words) - n, -1, -1):
            if words[start : start + n] == want:
                if best is None or (start, n) > best[:2]:
                    best = (start, n, role)
                break
    return best[2] if best is not None else None


def role_of(
    graph: Graph,
    principal: str,
    patterns: Mapping[str, Sequence[str]],
    paths: Sequence[Sequence[Hop]] = (),
) -> str | None:
    """The access-model role (or ``rotation``) an identity stands for; None: the model names none.

    From, in order: the identity's ``role`` label; the grants that reach it — the project names
    every grant after the role it carries out (a Vault policy or Kubernetes auth role, an access
    policy, an IAM member), so a login, a group or an object id stands for the role its path's
    first named hop names; last, the profile's name patterns (a name alone misleads: the
    live-trading workload's GCP account is ``nt-prod-live-trader``)."""
    identity = graph.identities.get(principal)
    label = identity.labels.get(TAG_ROLE) if identity is not None else None
    if label:
        return "rotation" if label in ROTATION_ROLES else label
    roles = (*ROLE_READ_SCOPES, *ROTATION_ROLES)
    for path in paths:
        for hop in path:
            found = _named_role(hop.name, roles)
            if found is not None:
                return "rotation" if found in ROTATION_ROLES else found
    for role, globs in patterns.items():
        if matches_any(principal, globs):
            return role
    return None


def _copies(resources: Sequence[Resource]) -> dict[str, StoredSecret]:
    return {s.urn: s for s in stored_secrets(resources)}


def judge(
    graph: Graph,
    copies: Mapping[str, StoredSecret],
    patterns: Mapping[str, Sequence[str]],
    report: Callable[[str, str | None], None],
) -> None:
    roles_in_store: dict[str, dict[str, set[str]]] = {}  # store -> role -> principals
    roles: dict[str, str | None] = {}
    for urn, node in graph.secrets.items():
        for a in graph.access(urn):
            if a.escalation or a.principal in roles:
                continue
            roles[a.principal] = role_of(graph, a.principal, patterns, a.paths)
            if roles[a.principal] is not None:
                by_role = roles_in_store.setdefault(node.store, {})
                by_role.setdefault(str(roles[a.principal]), set()).add(a.principal)
    for urn, node in sorted(graph.secrets.items()):
        copy = copies.get(urn)
        if node.catalog_name is None or copy is None:
            continue  # not the project's: nothing is intended
        name = node.catalog_name.upper()
        readers = graph.holders(urn, Action.READ)
        for principal in sorted(readers):
            role = roles.get(principal)
            if role is None:
                report(
                    f"{name}: {principal} can read {node.address} but the access model names no "
                    "role it stands for",
                    urn,
                )
            elif role == "rotation":
                if copy.rotation_class in (None, "none"):
                    report(
                        f"{name}: rotation identity {principal} can read {node.address}, which "
                        "is not rotated",
                        urn,
                    )
            elif node.revoked and role != "admin":
                report(f"{name}: revoked, yet {principal} ({role}) can read {node.address}", urn)
            elif not intended_reader(role, copy.scopes):
                report(
                    f"{name}: {principal} ({role}) can read {node.address}, outside its scopes "
                    f"({', '.join(sorted(copy.scopes)) or 'none'})",
                    urn,
                )
        if node.revoked or not graph.direct_complete:
            continue
        for role in ROLE_READ_SCOPES:
            if not intended_reader(role, copy.scopes):
                continue
            for principal in sorted(roles_in_store.get(node.store, {}).get(role, ())):
                if principal not in readers:
                    report(
                        f"{name}: {principal} ({role}) is meant to read {node.address} but cannot",
                        urn,
                    )


def _intended(
    resources: Sequence[Resource], config: Any, report: Callable[[str, str | None], None]
) -> None:
    patterns = dict(config.get("roleIdentities") or DEFAULT_ROLE_IDENTITIES)
    judge(build(resources), _copies(resources), patterns, report)


POLICIES: list[PackPolicy] = [stack_policy(INTENDED, _intended)]
