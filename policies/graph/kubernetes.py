"""Kubernetes Secrets in the access graph, authorized the way the API server's RBAC authorizer
decides (``policies/kubernetes/authorizer.py``, the evaluator the pack's RBAC policies use).

Secrets
=======
``kubernetes:core/v1:Secret`` (and its ``Patch`` and ``List`` forms, and the Secrets a
``kubernetes:yaml`` ConfigFile/ConfigGroup registers as its children: the same types), addressed
``<namespace>/<name>`` (no namespace: ``default``); an External Secrets ``ExternalSecret``
(``external-secrets.io`` v1, v1beta1, v1alpha1) stands for the Secret it creates: its
``spec.target.name`` (default: its own name) in its namespace, unless ``creationPolicy: None``
(it creates nothing). A Secret declared by both is one node (the declared Secret's).

Actions (RBAC verbs on ``secrets`` of the core group; the API has no metadata-only read of a
Secret: ``get`` returns its data, and so do ``list`` and ``watch``, of every Secret they reach,
so nothing is only *describe*):

* read: ``get``, ``list``, ``watch`` (``resourceNames`` restrict all three: a named ``list``/
  ``watch`` works only with a ``metadata.name`` field selector, reaching the named Secret only);
* write: ``update``, ``patch`` (``create`` cannot overwrite an existing Secret);
* manage: ``delete``, and ``deletecollection`` without ``resourceNames`` (a request naming no
  object never matches a rule with names).

A RoleBinding grants its role (a Role of its namespace, or a ClusterRole) in its own namespace; a
ClusterRoleBinding grants a ClusterRole in every namespace. Principals: ``system:serviceaccount:
<ns>:<name>``, ``user:<name>`` (a User subject naming a service account is that service account),
``group:<name>``. A grant to a group is also a grant to each service account of the stack in it
(``system:serviceaccounts``, ``system:serviceaccounts:<ns>``, ``system:authenticated``), via the
group. Likewise a grant another store made to a service-account glob (a Vault Kubernetes auth
role bound to ``*`` or ``app-*``) is a grant to each of the stack's service accounts it matches.

Escalations (one step the principal is allowed to take), ``escalation: true``:

* creating pods in a namespace (or creating, updating or patching a Deployment, ReplicaSet,
  StatefulSet, DaemonSet, Job, CronJob or ReplicationController, whose pod template it then
  chooses): a pod mounts any Secret of its namespace (read), and runs as any service account
  there (the stack's, and ``default``): everything that account can do, in any store (a Vault
  login bound to it included);
* ``create`` (or ``get``) on ``pods/exec`` or ``pods/attach``, ``update``/``patch`` on
  ``pods/ephemeralcontainers``: inside the workloads' pods of the namespace (named pods only when
  restricted by names): their service accounts and the Secrets they mount;
* ``create`` on ``serviceaccounts/token``: a token of the (named) service accounts;
* ``impersonate`` users, groups or service accounts: whatever they can do;
* ``escalate`` with ``update``/``patch`` on roles, or ``bind`` with ``create`` on role bindings:
  any permission in the namespace (cluster-wide for cluster roles and bindings); ``bind``
  restricted by names: the named roles' permissions.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from policies.contract.access import Action
from policies.contract.vocabulary import TAG_CATALOG_NAME, TAG_REVOKED
from policies.framework import Resource
from policies.graph import Grant, Graph, Hop, Identity, Index, SecretNode, register_grapher
from policies.kubernetes.authorizer import (
    ALL_SERVICE_ACCOUNTS,
    AUTHENTICATED,
    RBAC_GROUP,
    RBAC_TYPES,
    SERVICE_ACCOUNT_PREFIX,
    Authorizer,
    Binding,
    Rule,
    Subject,
    group_matches,
    resource_matches,
    verb_matches,
)
from policies.kubernetes.workloads import WORKLOAD_KINDS, workload_pods
from policies.lib.shapes import OPAQUE, reveal

SECRET = "kubernetes:core/v1:Secret"  # pragma: allowlist secret
SECRET_TYPES = (SECRET, f"{SECRET}Patch", f"{SECRET}List")
SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"
SERVICE_ACCOUNT_TYPES = (SERVICE_ACCOUNT, f"{SERVICE_ACCOUNT}Patch", f"{SERVICE_ACCOUNT}List")
EXTERNAL_SECRET_TYPES = tuple(
    f"kubernetes:external-secrets.io/{v}:ExternalSecret" for v in ("v1", "v1beta1", "v1alpha1")
)
#: Workload types whose pods the grapher looks into (the provider's API groups and forms).
WORKLOAD_TYPES = tuple(
    f"kubernetes:{group}:{kind}{form}"
    for group, kinds in (
        ("core/v1", ("Pod", "ReplicationController")),
        ("apps/v1", ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet")),
        ("batch/v1", ("Job", "CronJob")),
    )
    for kind in kinds
    for form in ("", "Patch", "List")
)
assert {t.split(":")[2].removesuffix("Patch").removesuffix("List") for t in WORKLOAD_TYPES} == set(
    WORKLOAD_KINDS
)
DEFAULT_NAMESPACE = "default"

R, W, M = Action.READ, Action.WRITE, Action.MANAGE
ALL_ACTIONS = frozenset({R, W, M})
#: verb -> action on an existing, named Secret
VERB_ACTIONS: tuple[tuple[str, Action], ...] = (
    ("get", R),
    ("list", R),
    ("watch", R),
    ("update", W),
    ("patch", W),
    ("delete", M),
)
#: (API group, resource) of the controllers whose pod template a principal chooses
CONTROLLERS: tuple[tuple[str, str], ...] = (
    ("apps", "deployments"),
    ("apps", "replicasets"),
    ("apps", "statefulsets"),
    ("apps", "daemonsets"),
    ("batch", "jobs"),
    ("batch", "cronjobs"),
    ("", "replicationcontrollers"),
)


def _str(value: Any) -> str | None:
    value = reveal(value)
    return value if isinstance(value, str) and value not in OPAQUE else None


def _opaque(value: Any) -> bool:
    value = reveal(value)
    return isinstance(value, str) and value in OPAQUE


def _objects(r: Resource) -> Iterator[Mapping[str, Any]]:
    if r.type.endswith("List"):
        items = reveal(r.get("items"))
        for item in items if isinstance(items, list) else ():
            if isinstance(item, Mapping):
                yield item
        return
    yield r.props


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = reveal(obj.get("metadata"))
    return meta if isinstance(meta, Mapping) else {}


def _labels(meta: Mapping[str, Any]) -> dict[str, str]:
    labels = reveal(meta.get("labels"))
    if not isinstance(labels, Mapping):
        return {}
    return {str(k): str(v) for k, v in labels.items() if isinstance(_str(v), str)}


def rule_text(rule: Rule) -> str:
    """A rule as a reviewer reads it: ``get,list secrets [a, b]``."""
    groups = ",".join(g or "core" for g in rule.api_groups)
    text = f"{','.join(rule.verbs)} {','.join(rule.resources)} ({groups})"
    return text + (f" [{', '.join(rule.resource_names)}]" if rule.resource_names else "")


@dataclass(frozen=True)
class KSecret:
    urn: str
    namespace: str
    name: str


@dataclass(frozen=True)
class Pod:
    """A workload's pods: their namespace, service account, Secrets, and the name of a bare Pod."""

    namespace: str
    account: str
    secrets: frozenset[str]
    name: str | None
    urn: str


@dataclass
class _State:
    secrets: dict[tuple[str, str], KSecret] = field(default_factory=dict)
    by_namespace: dict[str, list[KSecret]] = field(default_factory=dict)
    #: namespace -> declared service accounts
    accounts: dict[str, set[str]] = field(default_factory=dict)
    pods: list[Pod] = field(default_factory=list)
    authorizer: Authorizer = field(default_factory=lambda: Authorizer((), ()))
    role_urns: dict[tuple[str, str, str], str | None] = field(default_factory=dict)


def _subject_principal(subject: Subject, binding: Binding) -> str:
    if subject.kind == "ServiceAccount":
        return f"{SERVICE_ACCOUNT_PREFIX}{subject.namespace or binding.namespace}:{subject.name}"
    if subject.kind == "User":
        return (
            subject.name
            if subject.name.startswith(SERVICE_ACCOUNT_PREFIX)
            else f"user:{subject.name}"
        )
    return f"group:{subject.name}"


def _account(principal: str) -> tuple[str, str] | None:
    if not principal.startswith(SERVICE_ACCOUNT_PREFIX):
        return None
    ns, _, name = principal.removeprefix(SERVICE_ACCOUNT_PREFIX).partition(":")
    return (ns, name) if ns and name else None


class KubernetesGrapher:
    store = "kubernetes"
    resource_types: tuple[str, ...] = (
        *SECRET_TYPES,
        *EXTERNAL_SECRET_TYPES,
        *SERVICE_ACCOUNT_TYPES,
        *RBAC_TYPES,
        *WORKLOAD_TYPES,
    )

    def __init__(self) -> None:
        self._states: dict[int, _State] = {}

    # ---- secrets and identities ------------------------------------------------------------

    def secrets(self, index: Index, graph: Graph) -> None:
        state = self._states[id(graph)] = _State()
        for r in index.of(*SECRET_TYPES):
            for obj in _objects(r):
                self._add(graph, state, r, _meta(obj), None)
        for r in index.of(*EXTERNAL_SECRET_TYPES):
            meta = _meta(r.props)
            target = reveal(r.get("spec.target"))
            target = target if isinstance(target, Mapping) else {}
            policy = _str(target.get("creationPolicy")) or "Owner"
            if _opaque(target.get("creationPolicy")):
                graph.gap(r.urn, f"the creation policy of ExternalSecret {r.name} is unknown")
                continue
            if policy == "None":
                continue
            name = target.get("name") or meta.get("name")
            self._add(graph, state, r, meta, name)
        for r in index.of(*SERVICE_ACCOUNT_TYPES):
            for obj in _objects(r):
                meta = _meta(obj)
                name, ns = _str(meta.get("name")), self._namespace(meta)
                if name is None or ns is None:
                    graph.gap(
                        r.urn, f"the name or namespace of service account {r.name} is unknown"
                    )
                    continue
                state.accounts.setdefault(ns, set()).add(name)
                graph.add_identity(
                    Identity(
                        f"{SERVICE_ACCOUNT_PREFIX}{ns}:{name}",
                        self.store,
                        "service account",
                        r.urn,
                        _labels(meta),
                    )
                )
        for r in index.of(*WORKLOAD_TYPES):
            for obj, template in workload_pods(r):
                self._pod(graph, state, r, obj, template)

    @staticmethod
    def _namespace(meta: Mapping[str, Any]) -> str | None:
        raw = meta.get("namespace")
        if raw is None or raw == "":
            return DEFAULT_NAMESPACE
        return _str(raw)

    def _add(
        self,
        graph: Graph,
        state: _State,
        r: Resource,
        meta: Mapping[str, Any],
        name_value: Any,
    ) -> None:
        name = _str(meta.get("name") if name_value is None else name_value)
        ns = self._namespace(meta)
        if name is None or ns is None:
            graph.gap(r.urn, f"the name or namespace of Secret {r.name} is unknown")
            return
        if (ns, name) in state.secrets:
            return
        urn = r.urn if not r.type.endswith("List") else f"{r.urn}#{ns}/{name}"
        labels = _labels(meta)
        secret = KSecret(urn, ns, name)
        state.secrets[(ns, name)] = secret
        state.by_namespace.setdefault(ns, []).append(secret)
        graph.add_secret(
            SecretNode(
                urn,
                self.store,
                f"{ns}/{name}",
                labels.get(TAG_CATALOG_NAME),
                labels.get(TAG_REVOKED) == "true",
            )
        )

    def _pod(
        self,
        graph: Graph,
        state: _State,
        r: Resource,
        obj: Mapping[str, Any],
        template: Mapping[str, Any],
    ) -> None:
        ns = self._namespace(_meta(obj))
        spec = reveal(template.get("spec"))
        if ns is None or not isinstance(spec, Mapping):
            graph.gap(r.urn, f"the namespace or pod spec of workload {r.name} is unknown")
            return
        account = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
        account_name = _str(account)
        if account_name is None:
            graph.gap(r.urn, f"the service account of workload {r.name} is unknown")
            return
        secrets = set(_pod_secrets(spec))
        bare = _str(_meta(obj).get("name")) if r.type.split(":")[2].startswith("Pod") else None
        state.pods.append(Pod(ns, account_name, frozenset(secrets), bare, r.urn))

    # ---- direct grants ---------------------------------------------------------------------

    def grants(self, index: Index, graph: Graph) -> None:
        state = self._states[id(graph)]
        self._glob_logins(graph, state)
        state.authorizer = Authorizer.from_resources(
            (r.type, r.props, r.urn) for r in index.of(*RBAC_TYPES)
        )
        for role in state.authorizer.roles:
            state.role_urns[(role.kind, role.namespace, role.name)] = role.urn
        for binding in state.authorizer.bindings:
            hops = self._binding_hops(state, binding)
            for rule in state.authorizer.rules_for(binding):
                if not (group_matches(rule, "") and resource_matches(rule, "secrets")):
                    continue
                rule_hops = (*hops, Hop("rule", rule_text(rule), hops[-1].urn))
                for secret in self._reach(state, rule, binding.namespace):
                    actions = _secret_actions(rule, secret.name)
                    if not actions:
                        continue
                    for principal, lead in self._members(state, binding):
                        graph.add_identity(Identity(principal, self.store, _kind(principal)))
                        graph.grant(secret.urn, Grant(principal, actions, (*lead, *rule_hops)))

    @staticmethod
    def _glob_logins(graph: Graph, state: _State) -> None:
        """A grant to a service-account glob (a Vault Kubernetes auth role bound to ``*`` or
        ``app-*``) is a grant to each of the stack's service accounts it matches."""
        accounts = [
            f"{SERVICE_ACCOUNT_PREFIX}{ns}:{name}"
            for ns, names in sorted(state.accounts.items())
            for name in sorted(names)
        ]
        if not accounts:
            return
        for urn, grants in list(graph.grants.items()):
            for g in list(grants):
                if g.escalation or "*" not in g.principal:
                    continue
                if not g.principal.startswith(SERVICE_ACCOUNT_PREFIX):
                    continue
                for account in accounts:
                    if fnmatch.fnmatchcase(account, g.principal):
                        via = (Hop("matches the bound service accounts", g.principal), *g.via)
                        graph.grant(urn, Grant(account, g.actions, via))

    def _binding_hops(self, state: _State, binding: Binding) -> tuple[Hop, Hop]:
        kind = "role binding" if binding.kind == "RoleBinding" else "cluster role binding"
        where = f"{binding.namespace}/{binding.name}" if binding.namespace else binding.name
        role_ns = binding.namespace if binding.role_kind == "Role" else ""
        urn = state.role_urns.get((binding.role_kind, role_ns, binding.role_name))
        role_kind = "role" if binding.role_kind == "Role" else "cluster role"
        return (
            Hop(kind, where, binding.urn),
            Hop(role_kind, binding.role_name if urn else f"{binding.role_name} (built-in)", urn),
        )

    @staticmethod
    def _reach(state: _State, rule: Rule, namespace: str) -> Iterator[KSecret]:
        """The Secrets a rule held in ``namespace`` ("" = every namespace) may name."""
        spaces: Iterable[str] = [namespace] if namespace else list(state.by_namespace)
        for ns in spaces:
            if rule.resource_names:
                for name in rule.resource_names:
                    found = state.secrets.get((ns, name))
                    if found is not None:
                        yield found
            else:
                yield from state.by_namespace.get(ns, ())

    @staticmethod
    def _members(state: _State, binding: Binding) -> Iterator[tuple[str, tuple[Hop, ...]]]:
        """Each principal a binding's subjects stand for, with the group hop for the stack's
        service accounts in a group."""
        for subject in binding.subjects:
            principal = _subject_principal(subject, binding)
            yield principal, ()
            if subject.kind != "Group":
                continue
            for ns, names in state.accounts.items():
                if subject.name in (ALL_SERVICE_ACCOUNTS, AUTHENTICATED) or (
                    subject.name == f"{ALL_SERVICE_ACCOUNTS}:{ns}"
                ):
                    for name in sorted(names):
                        yield (
                            f"{SERVICE_ACCOUNT_PREFIX}{ns}:{name}",
                            (Hop("member of group", subject.name),),
                        )

    # ---- escalations -----------------------------------------------------------------------

    def escalations(self, index: Index, graph: Graph) -> None:
        del index
        state = self._states.pop(id(graph))
        direct = _DirectGrants(graph)
        namespaces = sorted(
            set(state.by_namespace)
            | set(state.accounts)
            | {p.namespace for p in state.pods}
            | direct.account_namespaces()
        )
        # What each principal may do in each namespace, over all its bindings and rules (a step
        # may need two permissions granted by different rules: bind + create rolebindings).
        steps: dict[tuple[str, str], dict[str, list[tuple[tuple[Hop, ...], tuple[str, ...]]]]] = {}
        for binding in state.authorizer.bindings:
            hops = self._binding_hops(state, binding)
            spaces = [binding.namespace] if binding.namespace else namespaces
            for rule in state.authorizer.rules_for(binding):
                found = _steps(rule, cluster=not binding.namespace)
                if not found:
                    continue
                rule_hops = (*hops, Hop("rule", rule_text(rule), hops[-1].urn))
                for principal, lead in self._members(state, binding):
                    for ns in spaces:
                        mine = steps.setdefault((principal, ns), {})
                        for step in found:
                            mine.setdefault(step, []).append(
                                ((*lead, *rule_hops), rule.resource_names)
                            )
        for (principal, ns), mine in steps.items():
            _Escalation(graph, state, direct, principal, ns, mine).add()

    @staticmethod
    def _as(
        graph: Graph,
        direct: _DirectGrants,
        principal: str,
        path: tuple[Hop, ...],
        target: str,
        how: str,
    ) -> None:
        step = (*path, Hop(how, target))
        for secret_urn, grant in direct.of(target):
            if grant.principal != principal:
                graph.grant(secret_urn, Grant(principal, grant.actions, (*step, *grant.via), True))


_RBAC_STEPS: tuple[tuple[str, tuple[str, ...], str, str, str], ...] = (
    # (step, verbs (any of), group, resource, subresource)
    ("pods", ("create",), "", "pods", ""),
    *(("controllers", ("create", "update", "patch"), g, res, "") for g, res in CONTROLLERS),
    ("exec", ("create", "get"), "", "pods", "exec"),
    ("exec", ("create", "get"), "", "pods", "attach"),
    ("exec", ("update", "patch"), "", "pods", "ephemeralcontainers"),
    ("token", ("create",), "", "serviceaccounts", "token"),
    ("impersonate-sa", ("impersonate",), "", "serviceaccounts", ""),
    ("impersonate-user", ("impersonate",), "", "users", ""),
    ("impersonate-group", ("impersonate",), "", "groups", ""),
    ("escalate-roles", ("escalate",), RBAC_GROUP, "roles", ""),
    ("update-roles", ("update", "patch"), RBAC_GROUP, "roles", ""),
    ("escalate-clusterroles", ("escalate",), RBAC_GROUP, "clusterroles", ""),
    ("update-clusterroles", ("update", "patch"), RBAC_GROUP, "clusterroles", ""),
    ("bind", ("bind",), RBAC_GROUP, "clusterroles", ""),
    ("bind-role", ("bind",), RBAC_GROUP, "roles", ""),
    ("create-rolebindings", ("create",), RBAC_GROUP, "rolebindings", ""),
)


def _steps(rule: Rule, *, cluster: bool) -> list[str]:
    """The escalation steps a rule allows (cluster-scoped resources only when bound cluster-wide)."""
    out = []
    for step, verbs, group, resource, sub in _RBAC_STEPS:
        if step.endswith("clusterroles") and not cluster:
            continue
        if (
            any(verb_matches(rule, v) for v in verbs)
            and group_matches(rule, group)
            and resource_matches(rule, resource, sub)
        ):
            out.append(step)
    return out


@dataclass
class _Escalation:
    """The grants one principal's steps in one namespace add."""

    graph: Graph
    state: _State
    direct: _DirectGrants
    principal: str
    ns: str
    steps: Mapping[str, list[tuple[tuple[Hop, ...], tuple[str, ...]]]]

    def _first(self, *names: str, unnamed: bool = False) -> tuple[Hop, ...] | None:
        for name in names:
            for path, restricted in self.steps.get(name, ()):
                if not unnamed or not restricted:
                    return path
        return None

    def _named(self, step: str) -> Iterator[tuple[tuple[Hop, ...], tuple[str, ...] | None]]:
        """(path, the names it is restricted to, None for every name) of a step."""
        for path, restricted in self.steps.get(step, ()):
            yield path, (restricted or None)

    def _become(self, path: tuple[Hop, ...], target: str, how: str) -> None:
        KubernetesGrapher._as(self.graph, self.direct, self.principal, path, target, how)

    def _account(self, name: str) -> str:
        return f"{SERVICE_ACCOUNT_PREFIX}{self.ns}:{name}"

    def _grant(self, secret: KSecret, actions: frozenset[Action], path: tuple[Hop, ...]) -> None:
        self.graph.grant(secret.urn, Grant(self.principal, actions, path, True))

    def add(self) -> None:
        state, ns = self.state, self.ns
        accounts = sorted(state.accounts.get(ns, set()) | {"default"})
        secrets = state.by_namespace.get(ns, ())
        pods = self._first("pods", unnamed=True) or self._first("controllers")
        if pods is not None:
            for account in accounts:
                self._become(pods, self._account(account), "runs a pod as")
            for secret in secrets:
                self._grant(
                    secret, frozenset({R}), (*pods, Hop("mounts into a pod", f"{ns}/{secret.name}"))
                )
        for path, names in self._named("exec"):
            for pod in state.pods:
                if pod.namespace != ns or not (names is None or pod.name in names):
                    continue
                self._become(path, self._account(pod.account), "execs into a pod running as")
                for name in sorted(pod.secrets):
                    found = state.secrets.get((ns, name))
                    if found is not None:
                        self._grant(
                            found,
                            frozenset({R}),
                            (*path, Hop("execs into a pod mounting", f"{ns}/{name}")),
                        )
        for step, how in (("token", "requests a token of"), ("impersonate-sa", "impersonates")):
            for path, names in self._named(step):
                for account in accounts if names is None else names:
                    self._become(path, self._account(account), how)
        for path, names in self._named("impersonate-user"):
            targets = self.direct.users() if names is None else [_user(n) for n in names]
            for target in targets:
                self._become(path, target, "impersonates")
        for path, names in self._named("impersonate-group"):
            for target in self.direct.groups() if names is None else [f"group:{n}" for n in names]:
                self._become(path, target, "impersonates")
        self._rbac(secrets)

    def _rbac(self, secrets: Iterable[KSecret]) -> None:
        escalate = self._first("escalate-roles", "escalate-clusterroles", unnamed=True)
        update = self._first("update-roles", "update-clusterroles")
        create = self._first("create-rolebindings")
        bind = self._first("bind", unnamed=True)
        if escalate is not None and update is not None:
            for secret in secrets:
                self._grant(
                    secret,
                    ALL_ACTIONS,
                    (*escalate, Hop("writes itself a role", f"in namespace {self.ns}")),
                )
            return
        if create is None:
            return
        if bind is not None:
            for secret in secrets:
                self._grant(
                    secret,
                    ALL_ACTIONS,
                    (*bind, Hop("binds itself any role", f"in namespace {self.ns}")),
                )
            return
        for step, kind in (("bind", "ClusterRole"), ("bind-role", "Role")):
            for path, names in self._named(step):
                for role_name in names or ():
                    synthetic = Binding("RoleBinding", "(its own)", self.ns, kind, role_name, ())
                    for rule in self.state.authorizer.rules_for(synthetic):
                        for secret in KubernetesGrapher._reach(self.state, rule, self.ns):
                            actions = _secret_actions(rule, secret.name)
                            if actions:
                                via = (*path, Hop(f"binds itself {kind}", role_name))
                                self._grant(secret, actions, via)


def _user(name: str) -> str:
    return name if name.startswith(SERVICE_ACCOUNT_PREFIX) else f"user:{name}"


class _DirectGrants:
    """Every direct grant of the graph by principal (all stores), built once; principals with a
    glob (a Vault Kubernetes auth role bound to ``*`` or ``app-*``) matched on lookup."""

    def __init__(self, graph: Graph) -> None:
        self.exact: dict[str, list[tuple[str, Grant]]] = {}
        self.globs: dict[str, list[tuple[str, Grant]]] = {}
        for urn, grants in graph.grants.items():
            for g in grants:
                if g.escalation:
                    continue
                table = self.globs if "*" in g.principal else self.exact
                table.setdefault(g.principal, []).append((urn, g))

    def of(self, principal: str) -> Iterator[tuple[str, Grant]]:
        yield from self.exact.get(principal, ())
        for pattern, grants in self.globs.items():
            if fnmatch.fnmatchcase(principal, pattern):
                yield from grants

    def users(self) -> list[str]:
        """Every user the grants name (service accounts are users too)."""
        return sorted(p for p in self.exact if p.startswith((SERVICE_ACCOUNT_PREFIX, "user:")))

    def groups(self) -> list[str]:
        return sorted(p for p in self.exact if p.startswith("group:"))

    def account_namespaces(self) -> set[str]:
        return {a[0] for p in self.exact if (a := _account(p)) is not None}


def _secret_actions(rule: Rule, name: str) -> frozenset[Action]:
    actions = {a for verb, a in VERB_ACTIONS if rule.matches(verb, "", "secrets", "", name)}
    if rule.matches("deletecollection", "", "secrets"):
        actions.add(M)
    return frozenset(actions)


def _kind(principal: str) -> str:
    if principal.startswith(SERVICE_ACCOUNT_PREFIX):
        return "service account"
    return "group" if principal.startswith("group:") else "user"


def _pod_secrets(spec: Mapping[str, Any]) -> Iterator[str]:
    """Secrets a pod spec mounts or takes into its environment."""
    volumes = reveal(spec.get("volumes"))
    for v in volumes if isinstance(volumes, list) else ():
        if not isinstance(v, Mapping):
            continue
        secret = reveal(v.get("secret"))
        if isinstance(secret, Mapping) and _str(secret.get("secretName")):
            yield str(secret["secretName"])
        projected = reveal(v.get("projected"))
        sources = reveal(projected.get("sources")) if isinstance(projected, Mapping) else None
        for s in sources if isinstance(sources, list) else ():
            inner = reveal(s.get("secret")) if isinstance(s, Mapping) else None
            if isinstance(inner, Mapping) and _str(inner.get("name")):
                yield str(inner["name"])
    for field_name in ("containers", "initContainers", "ephemeralContainers"):
        containers = reveal(spec.get(field_name))
        for c in containers if isinstance(containers, list) else ():
            if not isinstance(c, Mapping):
                continue
            env = reveal(c.get("env"))
            for var in env if isinstance(env, list) else ():
                ref = reveal(var.get("valueFrom")) if isinstance(var, Mapping) else None
                ref = reveal(ref.get("secretKeyRef")) if isinstance(ref, Mapping) else None
                if isinstance(ref, Mapping) and _str(ref.get("name")):
                    yield str(ref["name"])
            env_from = reveal(c.get("envFrom"))
            for source in env_from if isinstance(env_from, list) else ():
                ref = reveal(source.get("secretRef")) if isinstance(source, Mapping) else None
                if isinstance(ref, Mapping) and _str(ref.get("name")):
                    yield str(ref["name"])


register_grapher(KubernetesGrapher())
