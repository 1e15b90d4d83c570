"""Who can do what to each secret: one access graph over the five stores.

For every secret a stack holds (AWS Secrets Manager, GCP Secret Manager, Azure Key Vault, Vault KV,
Kubernetes Secret), the graph lists every principal that can **read** its value, **write** a new
value, **manage** it (policy, deletion, rotation) or only **describe** it, each with the path that
grants it (``via``: one hop per resource or rule on the way, from the principal to the secret).
A grant that needs one step the principal is allowed to take first (assume a role, impersonate a
service account, write itself an access policy, create a pod) is an *escalation*.

One grapher per store (a module of this package, which registers itself) turns that store's
resources into secrets and grants, with the platform's own documented semantics. Graphers judge
resources, whoever made them: they never import the program. The graph is the one source of
authorization truth for the stack invariants, ``nt-secrets explain`` and ``nt-secrets access``.

Building it is linear in the number of resources and grants: the resources are indexed once
(:class:`Index`), and each grapher walks only the types it reads.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from policies.contract.access import Action
from policies.framework import Resource

GRAPH_SCHEMA_VERSION = 1

#: The order actions are listed in (widest first).
ACTION_ORDER: tuple[Action, ...] = (Action.READ, Action.WRITE, Action.MANAGE, Action.DESCRIBE)

#: Stores, as the graph names them.
STORES: tuple[str, ...] = ("aws", "gcp", "azure", "vault", "kubernetes")


@dataclass(frozen=True)
class Hop:
    """One step of a path: a resource or rule on the way from a principal to a secret.

    ``kind`` says what it is in the platform's words ("inline policy", "statement",
    "role binding", "Kubernetes auth role", "path rule", "access policy", "key policy"...),
    ``name`` how the platform names it, ``urn`` the resource it comes from (None: not a resource
    of the stack, e.g. an AWS managed policy or a built-in role)."""

    kind: str
    name: str
    urn: str | None = None

    def text(self) -> str:
        return f"{self.kind} {self.name}"


@dataclass(frozen=True)
class Grant:
    """One path by which ``principal`` has ``actions`` on a secret."""

    principal: str
    actions: frozenset[Action]
    via: tuple[Hop, ...]
    #: The principal must first take one step it is allowed to (see the module docstring).
    escalation: bool = False


@dataclass(frozen=True)
class SecretNode:
    """A secret as its store addresses it."""

    urn: str
    store: str
    #: The store's address: an ARN or name, ``projects/P/secrets/S``, a vault URI + name, a KV path
    #: (``mount/data/name``), ``namespace/name``.
    address: str
    #: The ``catalog-name`` label (None: unlabelled, a foreign estate).
    catalog_name: str | None = None
    #: Labelled revoked by the stack (incident response).
    revoked: bool = False


@dataclass(frozen=True)
class Identity:
    """A principal as the graph met it: how the platform names it, and the resource behind it."""

    principal: str
    store: str
    kind: str  # "role", "user", "group", "service account", "managed identity", "policy", ...
    urn: str | None = None
    #: The resource's labels/tags (the project labels its identities with their access-model role).
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PrincipalAccess:
    """What one principal can do to one secret, over all its paths."""

    principal: str
    actions: frozenset[Action]
    #: The paths, shortest first; ``via`` of the output is the first.
    paths: tuple[tuple[Hop, ...], ...]
    escalation: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "principal": self.principal,
            "actions": [a.value for a in ACTION_ORDER if a in self.actions],
            "via": [h.text() for h in self.paths[0]] if self.paths else [],
            "paths": [[h.text() for h in p] for p in self.paths],
            "escalation": self.escalation,
        }


class Index:
    """The stack's resources, indexed once for every grapher."""

    def __init__(self, resources: Sequence[Resource]) -> None:
        self.resources = list(resources)
        self.by_urn: dict[str, Resource] = {}
        self.by_type: dict[str, list[Resource]] = {}
        for r in self.resources:
            self.by_urn[r.urn] = r
            self.by_type.setdefault(r.type, []).append(r)

    def of(self, *types: str) -> Iterator[Resource]:
        for t in types:
            yield from self.by_type.get(t, ())


@dataclass
class Graph:
    """Secrets, identities and grants of one stack."""

    secrets: dict[str, SecretNode] = field(default_factory=dict)
    identities: dict[str, Identity] = field(default_factory=dict)
    grants: dict[str, list[Grant]] = field(default_factory=dict)
    #: Why the graph may miss a grant (an unknown policy at preview, a document it cannot read):
    #: (urn or None, reason). Empty: every absent grant is proven absent.
    gaps: list[tuple[str | None, str]] = field(default_factory=list)
    #: Gaps that can hide only an escalation (a trust policy not known yet): a direct grant's
    #: absence is still proven.
    escalation_gaps: list[tuple[str | None, str]] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.gaps and not self.escalation_gaps

    @property
    def direct_complete(self) -> bool:
        """No gap can hide a direct grant (escalations may still be missing)."""
        return not self.gaps

    def add_secret(self, node: SecretNode) -> None:
        self.secrets.setdefault(node.urn, node)

    def add_identity(self, identity: Identity) -> None:
        self.identities.setdefault(identity.principal, identity)

    def grant(self, secret_urn: str, grant: Grant) -> None:
        if grant.actions and secret_urn in self.secrets:
            self.grants.setdefault(secret_urn, []).append(grant)

    def gap(self, urn: str | None, reason: str, *, escalation: bool = False) -> None:
        (self.escalation_gaps if escalation else self.gaps).append((urn, reason))

    def access(self, secret_urn: str) -> list[PrincipalAccess]:
        """Per principal: its direct access, then (a separate entry) what only escalation adds."""
        direct: dict[str, list[Grant]] = {}
        escalated: dict[str, list[Grant]] = {}
        for g in self.grants.get(secret_urn, ()):
            (escalated if g.escalation else direct).setdefault(g.principal, []).append(g)
        out: list[PrincipalAccess] = []
        for principal in sorted(direct.keys() | escalated.keys()):
            mine = direct.get(principal, [])
            have: frozenset[Action] = frozenset().union(*(g.actions for g in mine))
            if mine:
                out.append(_merge(principal, mine, have, escalation=False))
            more = [g for g in escalated.get(principal, []) if g.actions - have]
            if more:
                extra = frozenset().union(*(g.actions for g in more)) - have
                out.append(_merge(principal, more, extra, escalation=True))
        return out

    def can(
        self, principal: str, secret_urn: str, action: Action, *, escalation: bool = False
    ) -> bool:
        return any(
            g.principal == principal and action in g.actions and (escalation or not g.escalation)
            for g in self.grants.get(secret_urn, ())
        )

    def holders(self, secret_urn: str, action: Action = Action.READ) -> set[str]:
        """Principals that can do ``action`` without escalating."""
        return {
            g.principal
            for g in self.grants.get(secret_urn, ())
            if action in g.actions and not g.escalation
        }

    def to_json(
        self, secrets: Iterable[str] | None = None, principal: str | None = None
    ) -> dict[str, Any]:
        urns = list(secrets) if secrets is not None else sorted(self.secrets)
        out = []
        for urn in urns:
            node = self.secrets[urn]
            rows = [a for a in self.access(urn) if principal is None or principal in a.principal]
            if principal is not None and not rows:
                continue
            out.append(
                {
                    "urn": urn,
                    "store": node.store,
                    "address": node.address,
                    "catalogName": node.catalog_name,
                    "revoked": node.revoked,
                    "principals": [a.to_json() for a in rows],
                }
            )
        return {
            "schemaVersion": GRAPH_SCHEMA_VERSION,
            "complete": self.complete,
            "gaps": [
                *({"urn": u, "reason": why, "escalation": False} for u, why in self.gaps),
                *({"urn": u, "reason": why, "escalation": True} for u, why in self.escalation_gaps),
            ],
            "secrets": out,
        }


def _merge(
    principal: str, grants: list[Grant], actions: frozenset[Action], *, escalation: bool
) -> PrincipalAccess:
    rank = {a: i for i, a in enumerate(ACTION_ORDER)}
    ordered = sorted(
        grants, key=lambda g: (min((rank[a] for a in g.actions), default=9), len(g.via))
    )
    paths = tuple(dict.fromkeys(g.via for g in ordered))
    return PrincipalAccess(principal, actions, paths, escalation)


class Grapher(Protocol):
    """One store's reading of a stack into the graph."""

    store: str
    #: Resource types the grapher reads (a stack policy built on the graph names them all).
    resource_types: tuple[str, ...]

    def secrets(self, index: Index, graph: Graph) -> None:
        """Add the store's secrets (and the identities it knows of)."""
        ...

    def grants(self, index: Index, graph: Graph) -> None:
        """Add every direct grant on any secret of the graph (a store may grant on another's:
        a Kubernetes service account logs in to Vault)."""
        ...

    def escalations(self, index: Index, graph: Graph) -> None:
        """Add the grants one allowed step away, once every direct grant is in."""
        ...


_GRAPHERS: dict[str, Grapher] = {}


def register_grapher(grapher: Grapher) -> Grapher:
    _GRAPHERS[grapher.store] = grapher
    return grapher


def graphers() -> list[Grapher]:
    _load_builtin()
    order = {s: i for i, s in enumerate(STORES)}
    return sorted(_GRAPHERS.values(), key=lambda g: order.get(g.store, len(order)))


def resource_types() -> tuple[str, ...]:
    return tuple(dict.fromkeys(t for g in graphers() for t in g.resource_types))


#: The last graph built, with the resources it was built from (held, so their ids stay theirs):
#: the stack policies of one run (coverage, separation, intended access) share one build.
_LAST: list[tuple[tuple[int, ...], Sequence[Resource], Graph]] = []


def build(resources: Sequence[Resource]) -> Graph:
    """The access graph of a stack (a plan's or a state's resources). The same resources (the
    same objects, in the same order) give the same graph, built once."""
    key = tuple(map(id, resources))
    if _LAST and _LAST[0][0] == key:
        return _LAST[0][2]
    graph = _build(resources)
    _LAST[:] = [(key, list(resources), graph)]
    return graph


def clear_cache() -> None:
    """Forget the last graph (a benchmark timing builds, a long-lived process)."""
    _LAST.clear()


def _build(resources: Sequence[Resource]) -> Graph:
    index = Index(resources)
    graph = Graph()
    chosen = graphers()
    for g in chosen:
        g.secrets(index, graph)
    for g in chosen:
        g.grants(index, graph)
    for g in chosen:
        g.escalations(index, graph)
    return graph


_loaded = False


def _load_builtin() -> None:
    """Import every grapher module of this package (each registers itself)."""
    global _loaded
    if _loaded:
        return
    for module in pkgutil.iter_modules(__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")
    _loaded = True
