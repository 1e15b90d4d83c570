"""Kubernetes RBAC evaluated offline, the way the API server's RBAC authorizer decides.

Learned from Kubernetes' ``pkg/apis/rbac/v1/evaluation_helpers.go`` and
``plugin/pkg/auth/authorizer/rbac/rbac.go`` (rules are only additive; a request is allowed when
any rule of any role bound to one of the user's identities matches it):

* verbs: ``*`` matches every verb, otherwise exact (``get``, ``list``, ``watch``, ``escalate``...);
* apiGroups: ``*`` matches every group, ``""`` is the core group (Secrets, Pods, ServiceAccounts);
* resources: ``*`` matches every resource *and* subresource; ``pods`` does not match the
  subresource ``pods/exec``; ``*/exec`` matches the ``exec`` subresource of anything;
* resourceNames: empty means every name; a request without a name (``list``, ``watch``,
  ``deletecollection``, ``create``) matches only rules without resourceNames;
* a RoleBinding grants its role's rules in its own namespace only, whether it references a Role
  (of that namespace) or a ClusterRole; a ClusterRoleBinding grants a ClusterRole everywhere
  (every namespace and cluster-scoped resources);
* subjects: ``User`` by name, ``Group`` by group membership, ``ServiceAccount`` as the user
  ``system:serviceaccount:<namespace>:<name>`` (the namespace defaults to the binding's); a
  service account's token also carries the groups ``system:serviceaccounts``,
  ``system:serviceaccounts:<namespace>`` and ``system:authenticated``;
* aggregated ClusterRoles (``aggregationRule``) get the rules of every ClusterRole whose labels
  match one of its selectors (``matchLabels``; ``matchExpressions`` with In/Exists).

The built-in roles that bindings reference without declaring them are modelled from Kubernetes'
bootstrap policy for what matters here (secrets, pods/exec, RBAC, impersonation): ``cluster-admin``
is everything, ``admin`` and ``edit`` read and write secrets and exec into pods, ``view`` reads no
secret. Values that are not known (unknown at preview, ciphertext in a state) are left out: the
evaluator answers about what is declared. Manifests are read through the shapes reader: a Pulumi
secret envelope around a List's items, an item, a rule list, a rule, a subject or any field
stands for what it holds.

Pure Python (no Pulumi, nothing of the program): the pack judges any estate with it and the tests
prove the project's RBAC with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from policies.lib.shapes import OPAQUE, blocks, no_envelopes, unwrap

RBAC_GROUP = "rbac.authorization.k8s.io"
RBAC_PREFIX = f"kubernetes:{RBAC_GROUP}/v1:"
ROLE_KINDS = ("Role", "ClusterRole")
BINDING_KINDS = ("RoleBinding", "ClusterRoleBinding")
#: Every Pulumi type that declares RBAC roles or bindings (the kind, its Patch and List forms).
RBAC_TYPES: tuple[str, ...] = tuple(
    f"{RBAC_PREFIX}{kind}{suffix}"
    for kind in (*ROLE_KINDS, *BINDING_KINDS)
    for suffix in ("", "Patch", "List")
)
ROLE_TYPES: tuple[str, ...] = tuple(
    f"{RBAC_PREFIX}{kind}{suffix}" for kind in ROLE_KINDS for suffix in ("", "Patch", "List")
)
BINDING_TYPES: tuple[str, ...] = tuple(t for t in RBAC_TYPES if t not in ROLE_TYPES)

SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:"
ALL_SERVICE_ACCOUNTS = "system:serviceaccounts"
AUTHENTICATED = "system:authenticated"
UNAUTHENTICATED = "system:unauthenticated"
#: Verbs that name no object: a rule with resourceNames never matches them.
COLLECTION_VERBS = frozenset({"list", "watch", "deletecollection", "create"})
#: Verbs that return a secret's value (``list``/``watch`` return every value in the namespace).
READ_VERBS = ("get", "list", "watch")


@dataclass(frozen=True)
class Rule:
    """One PolicyRule."""

    verbs: tuple[str, ...]
    api_groups: tuple[str, ...] = ("",)
    resources: tuple[str, ...] = ()
    resource_names: tuple[str, ...] = ()
    non_resource_urls: tuple[str, ...] = ()

    def matches(
        self, verb: str, group: str, resource: str, subresource: str = "", name: str = ""
    ) -> bool:
        return (
            verb_matches(self, verb)
            and group_matches(self, group)
            and resource_matches(self, resource, subresource)
            and name_matches(self, name)
        )


def verb_matches(rule: Rule, verb: str) -> bool:
    return "*" in rule.verbs or verb in rule.verbs


def group_matches(rule: Rule, group: str) -> bool:
    return "*" in rule.api_groups or group in rule.api_groups


def resource_matches(rule: Rule, resource: str, subresource: str = "") -> bool:
    combined = f"{resource}/{subresource}" if subresource else resource
    for r in rule.resources:
        if r == "*" or r == combined:
            return True
        if subresource and r == f"*/{subresource}":
            return True
    return False


def name_matches(rule: Rule, name: str) -> bool:
    return not rule.resource_names or name in rule.resource_names


@dataclass(frozen=True)
class Subject:
    kind: str  # User | Group | ServiceAccount
    name: str
    namespace: str = ""


@dataclass(frozen=True)
class RoleDef:
    kind: str  # Role | ClusterRole
    name: str
    namespace: str  # "" for a ClusterRole
    rules: tuple[Rule, ...]
    labels: Mapping[str, str] = field(default_factory=dict)
    #: aggregationRule.clusterRoleSelectors (ClusterRole only)
    selectors: tuple[Mapping[str, Any], ...] = ()
    urn: str | None = None


@dataclass(frozen=True)
class Binding:
    kind: str  # RoleBinding | ClusterRoleBinding
    name: str
    namespace: str  # "" for a ClusterRoleBinding
    role_kind: str
    role_name: str
    subjects: tuple[Subject, ...]
    urn: str | None = None


@dataclass(frozen=True)
class User:
    """Who makes a request: a name and its groups."""

    name: str
    groups: frozenset[str] = frozenset()

    @staticmethod
    def service_account(namespace: str, name: str) -> User:
        return User(
            f"{SERVICE_ACCOUNT_PREFIX}{namespace}:{name}",
            frozenset({ALL_SERVICE_ACCOUNTS, f"{ALL_SERVICE_ACCOUNTS}:{namespace}", AUTHENTICATED}),
        )


def applies_to(subject: Subject, user: User, binding_namespace: str) -> bool:
    """Whether a binding's subject stands for ``user`` (the authorizer's appliesToUser)."""
    if subject.kind == "User":
        return user.name == subject.name
    if subject.kind == "Group":
        return subject.name in user.groups
    if subject.kind == "ServiceAccount":
        namespace = subject.namespace or binding_namespace
        return user.name == f"{SERVICE_ACCOUNT_PREFIX}{namespace}:{subject.name}"
    return False


# ---- built-in roles (bootstrap policy, the parts that matter for secrets and escalation) -------

_SECRET_WRITE = ("get", "list", "watch", "create", "update", "patch", "delete", "deletecollection")
BUILTIN_CLUSTER_ROLES: Mapping[str, tuple[Rule, ...]] = {
    "cluster-admin": (Rule(verbs=("*",), api_groups=("*",), resources=("*",)),),
    "admin": (
        Rule(verbs=_SECRET_WRITE, api_groups=("",), resources=("secrets",)),
        Rule(verbs=("create",), api_groups=("",), resources=("pods/exec", "pods/attach")),
        Rule(verbs=("impersonate",), api_groups=("",), resources=("serviceaccounts",)),
        Rule(verbs=_SECRET_WRITE, api_groups=(RBAC_GROUP,), resources=("roles", "rolebindings")),
    ),
    "edit": (
        Rule(verbs=_SECRET_WRITE, api_groups=("",), resources=("secrets",)),
        Rule(verbs=("create",), api_groups=("",), resources=("pods/exec", "pods/attach")),
        Rule(verbs=("impersonate",), api_groups=("",), resources=("serviceaccounts",)),
    ),
    "view": (Rule(verbs=("get", "list", "watch"), api_groups=("",), resources=("pods",)),),
}
#: Built-in roles that must never be bound to a workload's or a ``default`` service account.
POWERFUL_BUILTINS = frozenset({"cluster-admin", "admin", "edit"})


# ---- reading manifests (resource inputs) ---------------------------------------------------------


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        return ()
    return tuple(v for v in value if isinstance(v, str) and v not in OPAQUE)


def rule_of(raw: Any) -> Rule | None:
    if not isinstance(raw, Mapping):
        return None
    return Rule(
        verbs=_strings(raw.get("verbs")),
        api_groups=_strings(raw.get("apiGroups")),
        resources=_strings(raw.get("resources")),
        resource_names=_strings(raw.get("resourceNames")),
        non_resource_urls=_strings(raw.get("nonResourceURLs")),
    )


def rules_of(manifest: Mapping[str, Any]) -> tuple[Rule, ...]:
    return tuple(r for r in (rule_of(x) for x in blocks(manifest.get("rules"))) if r is not None)


def _meta(manifest: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = manifest.get("metadata")
    return meta if isinstance(meta, Mapping) else {}


def _str(value: Any) -> str:
    return value if isinstance(value, str) and value not in OPAQUE else ""


def _readable(value: Any) -> Any:
    """``value`` with secret envelopes removed at any depth (a manifest without one as it is:
    the common case, no copy)."""
    return value if no_envelopes(value) else unwrap(value)


def kind_of(resource_type: str) -> tuple[str, str] | None:
    """``(kind, form)`` of an RBAC Pulumi type: form is ``""``, ``Patch`` or ``List``."""
    if not resource_type.startswith(RBAC_PREFIX):
        return None
    rest = resource_type[len(RBAC_PREFIX) :]
    for form in ("Patch", "List"):
        if rest.endswith(form) and rest[: -len(form)] in (*ROLE_KINDS, *BINDING_KINDS):
            return rest[: -len(form)], form
    return (rest, "") if rest in (*ROLE_KINDS, *BINDING_KINDS) else None


def manifests_of(
    resource_type: str, props: Mapping[str, Any]
) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """``(kind, manifest)`` of each RBAC object a resource declares (a List declares several),
    secret envelopes removed at any depth (what cannot be read becomes UNKNOWN where it stands)."""
    known = kind_of(resource_type)
    if known is None:
        return
    kind, form = known
    if form == "List":
        for item in blocks(props.get("items")):
            item = _readable(item)
            if isinstance(item, Mapping):
                yield kind, item
        return
    plain = _readable(props)
    if isinstance(plain, Mapping):
        yield kind, plain


def subjects_of(manifest: Mapping[str, Any]) -> tuple[Subject, ...]:
    out = []
    for s in blocks(manifest.get("subjects")):
        if isinstance(s, Mapping) and _str(s.get("kind")) and _str(s.get("name")):
            out.append(Subject(_str(s.get("kind")), _str(s.get("name")), _str(s.get("namespace"))))
    return tuple(out)


def role_of(kind: str, manifest: Mapping[str, Any], urn: str | None = None) -> RoleDef:
    meta = _meta(manifest)
    labels = meta.get("labels")
    aggregation = manifest.get("aggregationRule")
    selectors: tuple[Mapping[str, Any], ...] = ()
    if isinstance(aggregation, Mapping):
        selectors = tuple(
            s for s in blocks(aggregation.get("clusterRoleSelectors")) if isinstance(s, Mapping)
        )
    return RoleDef(
        kind=kind,
        name=_str(meta.get("name")),
        namespace=_str(meta.get("namespace")) if kind == "Role" else "",
        rules=rules_of(manifest),
        labels={str(k): str(v) for k, v in labels.items() if v not in OPAQUE}
        if isinstance(labels, Mapping)
        else {},
        selectors=selectors,
        urn=urn,
    )


def binding_of(kind: str, manifest: Mapping[str, Any], urn: str | None = None) -> Binding:
    meta = _meta(manifest)
    ref = manifest.get("roleRef")
    ref = ref if isinstance(ref, Mapping) else {}
    return Binding(
        kind=kind,
        name=_str(meta.get("name")),
        namespace=_str(meta.get("namespace")) if kind == "RoleBinding" else "",
        role_kind=_str(ref.get("kind")),
        role_name=_str(ref.get("name")),
        subjects=subjects_of(manifest),
        urn=urn,
    )


def _selector_matches(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    match = selector.get("matchLabels")
    if isinstance(match, Mapping) and any(labels.get(str(k)) != v for k, v in match.items()):
        return False
    exprs = selector.get("matchExpressions")
    for e in exprs if isinstance(exprs, list) else ():
        if not isinstance(e, Mapping):
            continue
        key, op, values = str(e.get("key")), e.get("operator"), _strings(e.get("values"))
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


@dataclass(frozen=True)
class Grant:
    """One rule a user holds, and where: ``namespace`` "" means everywhere (ClusterRoleBinding)."""

    rule: Rule
    namespace: str
    binding: Binding
    role: str


class Authorizer:
    """The RBAC authorizer over a set of declared roles and bindings."""

    def __init__(self, roles: Iterable[RoleDef], bindings: Iterable[Binding]) -> None:
        self.roles = list(roles)
        self.bindings = list(bindings)
        self._cluster: dict[str, tuple[Rule, ...]] = dict(BUILTIN_CLUSTER_ROLES)
        self._namespaced: dict[tuple[str, str], tuple[Rule, ...]] = {}
        cluster_roles = [r for r in self.roles if r.kind == "ClusterRole"]
        for role in self.roles:
            if role.kind == "Role":
                key = (role.namespace, role.name)
                self._namespaced[key] = self._namespaced.get(key, ()) + role.rules
            else:
                self._cluster[role.name] = role.rules
        for role in cluster_roles:
            if role.selectors:
                extra = tuple(
                    rule
                    for other in cluster_roles
                    if other is not role
                    and any(_selector_matches(s, other.labels) for s in role.selectors)
                    for rule in other.rules
                )
                self._cluster[role.name] = role.rules + extra

    @classmethod
    def from_resources(
        cls, resources: Iterable[tuple[str, Mapping[str, Any], str | None]]
    ) -> Authorizer:
        """From ``(pulumi type, inputs, urn)`` of every resource (others are ignored)."""
        roles: list[RoleDef] = []
        bindings: list[Binding] = []
        for type_, props, urn in resources:
            for kind, manifest in manifests_of(type_, props):
                if kind in ROLE_KINDS:
                    roles.append(role_of(kind, manifest, urn))
                else:
                    bindings.append(binding_of(kind, manifest, urn))
        return cls(roles, bindings)

    @classmethod
    def from_manifests(cls, manifests: Iterable[Mapping[str, Any]]) -> Authorizer:
        """From plain Kubernetes manifests (``kind`` + fields)."""
        return cls.from_resources(
            (f"{RBAC_PREFIX}{m.get('kind')}", m, None)
            for m in manifests
            if m.get("kind") in (*ROLE_KINDS, *BINDING_KINDS)
        )

    def rules_for(self, binding: Binding) -> tuple[Rule, ...]:
        if binding.role_kind == "ClusterRole":
            return self._cluster.get(binding.role_name, ())
        if binding.role_kind == "Role" and binding.kind == "RoleBinding":
            return self._namespaced.get((binding.namespace, binding.role_name), ())
        return ()  # a ClusterRoleBinding cannot reference a Role

    def grants(self, user: User) -> Iterator[Grant]:
        """Every rule ``user`` holds, with the namespace it holds it in."""
        for binding in self.bindings:
            if not any(applies_to(s, user, binding.namespace) for s in binding.subjects):
                continue
            for rule in self.rules_for(binding):
                yield Grant(rule, binding.namespace, binding, binding.role_name)

    def allows(
        self,
        user: User,
        verb: str,
        resource: str,
        *,
        group: str = "",
        namespace: str = "",
        name: str = "",
        subresource: str = "",
    ) -> bool:
        """Whether the request is authorized. ``namespace`` "" is a cluster-scoped request (or
        one across all namespaces, which only a ClusterRoleBinding grants)."""
        for grant in self.grants(user):
            if grant.namespace and grant.namespace != namespace:
                continue
            if grant.rule.matches(verb, group, resource, subresource, name):
                return True
        return False

    def subjects(self) -> Iterator[tuple[Subject, Binding]]:
        for binding in self.bindings:
            for subject in binding.subjects:
                yield subject, binding

    def readable_secrets(self, user: User, namespace: str, names: Sequence[str]) -> set[str]:
        """Which of ``names`` (Secrets of ``namespace``) ``user`` may ``get``."""
        return {
            n for n in names if self.allows(user, "get", "secrets", namespace=namespace, name=n)
        }


def secret_reach(rule: Rule) -> str | None:
    """What a rule reveals of Secrets: ``"all"`` (get, list or watch without resourceNames: every
    Secret of the namespace), ``"named"`` (only the Secrets it names: a list/watch restricted by
    names works only with a ``metadata.name`` field selector) or None."""
    if not group_matches(rule, "") or not resource_matches(rule, "secrets"):
        return None
    if not any(verb_matches(rule, v) for v in READ_VERBS):
        return None
    return "named" if rule.resource_names else "all"
