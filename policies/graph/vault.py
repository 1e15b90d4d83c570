"""Vault KV secrets in the access graph: who can read, write, manage or describe each of them.

Secrets
=======
* ``vault:kv/secretV2:SecretV2``: KV v2 at ``<mount>/data/<name>`` (labels in
  ``customMetadata.data``);
* ``vault:kv/secret:Secret``: KV v1 at its ``path``;
* ``vault:generic/secret:Secret``: the API path as written (``path``); when its first segments
  are a KV v2 mount of the stack (a ``vault:index/mount:Mount`` of type ``kv-v2`` or ``kv`` with
  ``options.version`` 2, or a ``vault:kv/secretBackendV2:SecretBackendV2``) and the next is
  ``data``, it is read as that mount's KV v2 secret.

A ``namespace`` input (Vault Enterprise / OpenBao namespaces) prefixes the secret's path, and a
policy's rules, with the namespace's path, as Vault does.

What each action needs (Vault's KV v2 API; the capability a request needs on an existing secret:
a write to an existing path is an ``update``, never a ``create``):

* read: ``read`` on ``<mount>/data/<name>`` (v1: on the path);
* write: ``update`` or ``patch`` on ``<mount>/data/<name>`` (v1: ``update`` on the path);
* manage: ``delete`` on ``data/`` (soft-deletes the latest version), ``update``/``patch``/``delete``
  on ``metadata/`` (settings, custom metadata, every version), ``update`` on ``delete/``,
  ``undelete/``, ``destroy/`` (v1: ``delete`` on the path);
* describe: ``read`` on ``<mount>/metadata/<name>`` (versions and custom metadata, no value).

Each path is decided by ONE rule of the token's policies, as Vault decides it
(:class:`policies.vault.acl.ACL`: an exact rule first, else the highest-priority glob; a ``deny``
on the deciding rule denies): the pack's ACL reader, the same one its Vault policies use.

Principals
==========
* ``vault-policy:<name>``: the policy alone (``<namespace>/<name>`` in a namespace);
* the login identities of the auth roles, each with the token's whole policy set
  (``tokenPolicies``, plus ``default`` unless ``tokenNoDefaultPolicy``):
  Kubernetes auth roles: ``system:serviceaccount:<namespace>:<name>`` for each bound name x
  namespace, as written (``*`` and globs kept: any name or namespace they match; a role bound by a
  namespace selector only is ``system:serviceaccount:*:<name>``); AppRole roles
  ``approle:<role>``; JWT/OIDC roles ``jwt:<role>`` (the bound claims are in the role's hop);
  token roles ``token-role:<role>`` (``tokenPolicies`` and ``allowedPolicies``: what a token
  created against it may carry); tokens declared in the stack ``vault-token:<display name>``.
* via: [login identity] <- "Kubernetes auth role R (backend B)" <- "policy P" <- "path rule X".

Vault's built-in ``default`` policy (when the stack does not redefine it) grants only the token's
own paths (``auth/token/*-self``, ``cubbyhole/*``, ``sys/...``): no KV mount can live there, so it
adds nothing to a KV secret and is not read. A token policy the stack does not declare is a gap.

Escalations: a token that may rewrite one of its own policies (``create``/``update`` on
``sys/policy/<P>`` or ``sys/policies/acl/<P>``) or the auth role it logs in by
(``auth/<backend>/role/<R>``) can give itself any policy: every secret, every action, one step
away.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from policies.contract.access import Action
from policies.contract.vocabulary import TAG_CATALOG_NAME, TAG_REVOKED, resource_labels
from policies.framework import Resource
from policies.graph import Grant, Graph, Hop, Identity, Index, SecretNode, register_grapher
from policies.lib.shapes import OPAQUE, reveal
from policies.vault.acl import ACL, Decision, Document, Rule, parse
from policies.vault.common import (
    APPROLE_ROLE,
    JWT_ROLE,
    KUBERNETES_ROLE,
    KV_V2,
    MOUNT,
    POLICY,
    TOKEN,
    TOKEN_ROLE,
    truthy,
)

SECRET_V2 = "vault:kv/secretV2:SecretV2"  # pragma: allowlist secret
SECRET_V1 = "vault:kv/secret:Secret"  # pragma: allowlist secret
GENERIC_SECRET = "vault:generic/secret:Secret"  # pragma: allowlist secret
SECRET_TYPES = (SECRET_V2, SECRET_V1, GENERIC_SECRET)
LOGIN_TYPES = (KUBERNETES_ROLE, APPROLE_ROLE, JWT_ROLE, TOKEN_ROLE, TOKEN)

R, W, M, D = Action.READ, Action.WRITE, Action.MANAGE, Action.DESCRIBE
ALL_ACTIONS = frozenset({R, W, M, D})

#: (action, path kind, capabilities any of which grants it) of a KV v2 secret.
KV2_NEEDS: tuple[tuple[Action, str, frozenset[str]], ...] = (
    (R, "data", frozenset({"read"})),
    (W, "data", frozenset({"update", "patch"})),
    (M, "data", frozenset({"delete"})),
    (M, "metadata", frozenset({"update", "patch", "delete"})),
    (M, "delete", frozenset({"update"})),
    (M, "undelete", frozenset({"update"})),
    (M, "destroy", frozenset({"update"})),
    (D, "metadata", frozenset({"read"})),
)
#: The same for a KV v1 secret (or a path of unknown version): the path itself.
KV1_NEEDS: tuple[tuple[Action, frozenset[str]], ...] = (
    (R, frozenset({"read"})),
    (W, frozenset({"update"})),
    (M, frozenset({"delete"})),
)


@dataclass(frozen=True)
class KvSecret:
    urn: str
    address: str
    #: (action, concrete API path, capabilities any of which grants the action there)
    needs: tuple[tuple[Action, str, frozenset[str]], ...]


@dataclass
class Login:
    """One principal and the policy set of its tokens."""

    principal: str
    hops: tuple[Hop, ...]
    policies: tuple[str, ...]
    #: Paths whose write lets the token give itself any policy (its own auth role).
    self_paths: tuple[str, ...] = ()


@dataclass
class _State:
    secrets: list[KvSecret] = field(default_factory=list)
    #: concrete path -> (secret index) for candidate lookups; sorted paths for prefix ranges
    by_path: dict[str, list[int]] = field(default_factory=dict)
    sorted_paths: list[str] = field(default_factory=list)
    #: (namespace-qualified) policy name -> (document with qualified paths, resource urn)
    policies: dict[str, tuple[Document, str | None]] = field(default_factory=dict)
    logins: list[Login] = field(default_factory=list)


def _text(value: Any) -> str | None:
    value = reveal(value)
    if isinstance(value, str) and value not in OPAQUE:
        return value
    return None


def _opaque(value: Any) -> bool:
    value = reveal(value)
    return isinstance(value, str) and value in OPAQUE


def _strings(value: Any) -> list[str] | None:
    """Known strings of a list input; None when the list or any item is unknown."""
    value = reveal(value)
    if value is None:
        return []
    if _opaque(value) or not isinstance(value, list):
        return None if _opaque(value) else []
    out = []
    for item in value:
        item = reveal(item)
        if _opaque(item):
            return None
        if isinstance(item, str):
            out.append(item)
    return out


def _qualified(namespace: str | None, path: str) -> str:
    path = path.strip("/")
    return f"{namespace.strip('/')}/{path}" if namespace and namespace.strip("/") else path


def _v2_mounts(index: Index) -> set[str]:
    mounts: set[str] = set()
    for r in index.of(MOUNT):
        path, kind = _text(r.get("path")), _text(r.get("type"))
        options = reveal(r.get("options"))
        version = reveal(options.get("version")) if isinstance(options, Mapping) else None
        if path and (kind == "kv-v2" or (kind == "kv" and str(version) == "2")):
            mounts.add(_qualified(_text(r.get("namespace")), path))
    for r in index.of(KV_V2):
        mount = _text(r.get("mount"))
        if mount:
            mounts.add(_qualified(_text(r.get("namespace")), mount))
    return mounts


def kv2_needs(mount: str, name: str) -> tuple[tuple[Action, str, frozenset[str]], ...]:
    return tuple((a, f"{mount}/{kind}/{name}", caps) for a, kind, caps in KV2_NEEDS)


def _secret_of(
    r: Resource, mounts: set[str], graph: Graph
) -> tuple[KvSecret, Mapping[str, Any]] | None:
    namespace_raw = r.get("namespace")
    if _opaque(namespace_raw):
        graph.gap(r.urn, f"the namespace of Vault secret {r.name} is unknown")
        return None
    namespace = _text(namespace_raw)
    if r.type == SECRET_V2:
        mount, name = _text(r.get("mount")), _text(r.get("name"))
        if not mount or not name:
            graph.gap(r.urn, f"the mount or name of Vault secret {r.name} is unknown")
            return None
        full_mount = _qualified(namespace, mount)
        labels = resource_labels({"customMetadata": reveal(r.get("customMetadata"))})
        name = name.strip("/")
        return KvSecret(r.urn, f"{full_mount}/data/{name}", kv2_needs(full_mount, name)), labels
    path = _text(r.get("path"))
    if not path:
        graph.gap(r.urn, f"the path of Vault secret {r.name} is unknown")
        return None
    full = _qualified(namespace, path)
    if r.type == GENERIC_SECRET:
        for mount in mounts:
            rest = full.removeprefix(mount + "/") if full.startswith(mount + "/") else None
            if rest is not None and rest.startswith("data/"):
                return KvSecret(r.urn, full, kv2_needs(mount, rest.removeprefix("data/"))), {}
    return KvSecret(r.urn, full, tuple((a, full, caps) for a, caps in KV1_NEEDS)), {}


def _policy_document(r: Resource, graph: Graph) -> Document | None:
    text = _text(r.get("policy"))
    if text is None:
        graph.gap(r.urn, f"the text of Vault policy {r.name} is unknown")
        return None
    document = parse(text)
    if not document.readable:
        graph.gap(r.urn, f"Vault policy {r.name} cannot be read: {document.problems[0]}")
        return None
    return document


def _qualified_document(document: Document, namespace: str | None) -> Document:
    if not namespace or not namespace.strip("/"):
        return document
    rules = tuple(Rule(_qualified(namespace, r.path), r.capabilities) for r in document.rules)
    return Document(rules, document.problems)


def _policy_key(namespace: str | None, name: str) -> str:
    name = name.strip().lower()
    return f"{namespace.strip('/')}/{name}" if namespace and namespace.strip("/") else name


class VaultGrapher:
    store = "vault"
    resource_types: tuple[str, ...] = (*SECRET_TYPES, POLICY, MOUNT, KV_V2, *LOGIN_TYPES)

    def __init__(self) -> None:
        self._states: dict[int, _State] = {}

    def _state(self, graph: Graph) -> _State:
        return self._states.setdefault(id(graph), _State())

    # ---- secrets ---------------------------------------------------------------------------

    def secrets(self, index: Index, graph: Graph) -> None:
        self._states.pop(id(graph), None)
        state = self._state(graph)
        mounts = _v2_mounts(index)
        for r in index.of(*SECRET_TYPES):
            found = _secret_of(r, mounts, graph)
            if found is None:
                continue
            secret, labels = found
            catalog = labels.get(TAG_CATALOG_NAME)
            graph.add_secret(
                SecretNode(
                    r.urn,
                    self.store,
                    secret.address,
                    catalog if isinstance(catalog, str) else None,
                    labels.get(TAG_REVOKED) == "true",
                )
            )
            position = len(state.secrets)
            state.secrets.append(secret)
            for path in {p for _a, p, _c in secret.needs}:
                state.by_path.setdefault(path, []).append(position)
        state.sorted_paths = sorted(state.by_path)

    # ---- grants ----------------------------------------------------------------------------

    def grants(self, index: Index, graph: Graph) -> None:
        state = self._state(graph)
        for r in index.of(POLICY):
            name = _text(r.get("name")) or r.name
            document = _policy_document(r, graph)
            if document is None:
                continue
            namespace = _text(r.get("namespace"))
            key = _policy_key(namespace, name)
            state.policies[key] = (_qualified_document(document, namespace), r.urn)
            graph.add_identity(Identity(f"vault-policy:{key}", self.store, "policy", r.urn))
        for key in state.policies:
            self._grant(graph, state, Login(f"vault-policy:{key}", (), (key,)))
        state.logins = list(self._logins(index, graph, state))
        for login in state.logins:
            self._grant(graph, state, login)

    def _logins(self, index: Index, graph: Graph, state: _State) -> Iterator[Login]:
        for r in index.of(*LOGIN_TYPES):
            namespace = _text(r.get("namespace"))
            fields = {TOKEN: ("policies",), TOKEN_ROLE: ("tokenPolicies", "allowedPolicies")}
            names: list[str] = []
            unknown = False
            for f in fields.get(r.type, ("tokenPolicies",)):
                got = _strings(r.get(f))
                if got is None:
                    unknown = True
                else:
                    names += got
            if unknown:
                graph.gap(r.urn, f"the policies of Vault login {r.name} are unknown")
            no_default = r.get("noDefaultPolicy" if r.type == TOKEN else "tokenNoDefaultPolicy")
            if not truthy(reveal(no_default)):
                names.append("default")
            keys = tuple(dict.fromkeys(_policy_key(namespace, n) for n in names if n.strip()))
            for key in keys:
                if key not in state.policies and key.rsplit("/", 1)[-1] not in ("default", "root"):
                    graph.gap(
                        r.urn, f"Vault policy {key} (of {r.name}) is not declared in the stack"
                    )
            yield from self._principals(r, graph, keys)

    def _principals(self, r: Resource, graph: Graph, keys: tuple[str, ...]) -> Iterator[Login]:
        role = _text(r.get("roleName")) or r.name
        default_backend = {
            KUBERNETES_ROLE: "kubernetes",
            APPROLE_ROLE: "approle",
            JWT_ROLE: "jwt",
        }.get(r.type, "token")
        backend = (_text(r.get("backend")) or default_backend).strip("/")
        namespace = _text(r.get("namespace"))
        role_path = _qualified(namespace, f"auth/{backend}/role/{role}")
        if r.type == KUBERNETES_ROLE:
            names = _strings(r.get("boundServiceAccountNames"))
            spaces = _strings(r.get("boundServiceAccountNamespaces"))
            if names is None or spaces is None:
                graph.gap(r.urn, f"the service accounts bound by Vault role {role} are unknown")
                return
            selector = _text(r.get("boundServiceAccountNamespaceSelector"))
            hop = Hop("Kubernetes auth role", f"{role} (backend {backend})", r.urn)
            if not spaces and selector:
                spaces = ["*"]
                hop = Hop(
                    "Kubernetes auth role",
                    f"{role} (backend {backend}; namespace selector {selector})",
                    r.urn,
                )
            for ns in spaces:
                for name in names:
                    principal = f"system:serviceaccount:{ns}:{name}"
                    graph.add_identity(Identity(principal, "kubernetes", "service account"))
                    yield Login(principal, (hop,), keys, (role_path,))
            return
        if r.type == APPROLE_ROLE:
            principal, hop = (
                f"approle:{role}",
                Hop("AppRole role", f"{role} (backend {backend})", r.urn),
            )
            kind = "AppRole role"
        elif r.type == JWT_ROLE:
            claims = reveal(r.get("boundClaims"))
            subject = _text(r.get("boundSubject"))
            bound = (
                [f"{k}={reveal(v)}" for k, v in sorted(claims.items())]
                if isinstance(claims, Mapping)
                else []
            )
            if subject:
                bound.append(f"sub={subject}")
            detail = f"; bound claims {', '.join(bound)}" if bound else "; no bound claims"
            principal = f"jwt:{role}"
            hop = Hop("JWT/OIDC role", f"{role} (backend {backend}{detail})", r.urn)
            kind = "JWT/OIDC role"
        elif r.type == TOKEN_ROLE:
            principal, hop = f"token-role:{role}", Hop("token role", role, r.urn)
            kind = "token role"
            role_path = _qualified(namespace, f"auth/token/roles/{role}")
        else:
            display = _text(r.get("displayName")) or r.name
            principal, hop = f"vault-token:{display}", Hop("token", display, r.urn)
            kind, role_path = "token", ""
        graph.add_identity(Identity(principal, self.store, kind, r.urn))
        yield Login(principal, (hop,), keys, (role_path,) if role_path else ())

    def _acl(self, state: _State, keys: Iterable[str]) -> ACL:
        return ACL(
            [(k, state.policies[k][0]) for k in keys if k in state.policies]
            + (
                [("root", Document((), ()))]
                if any(k.rsplit("/", 1)[-1] == "root" for k in keys)
                else []
            )
        )

    def _candidates(self, state: _State, acl: ACL) -> Iterator[int]:
        """The secrets some rule of ``acl`` can match (each pattern looked up, never a scan of
        every secret per rule, unless the rule matches them all)."""
        if acl.root:
            yield from range(len(state.secrets))
            return
        seen: set[int] = set()
        paths = state.sorted_paths
        for rule in acl.rules():
            if "+" in rule:
                head = rule[: rule.index("+")]
            elif rule.endswith("*"):
                head = rule[:-1]
            else:
                for i in state.by_path.get(rule, ()):
                    if i not in seen:
                        seen.add(i)
                        yield i
                continue
            start = bisect.bisect_left(paths, head)
            for path in paths[start:]:
                if not path.startswith(head):
                    break
                for i in state.by_path[path]:
                    if i not in seen:
                        seen.add(i)
                        yield i

    def _grant(self, graph: Graph, state: _State, login: Login) -> None:
        acl = self._acl(state, login.policies)
        for i in sorted(self._candidates(state, acl)):
            secret = state.secrets[i]
            for via, actions in _paths(state, login, acl, secret).items():
                graph.grant(secret.urn, Grant(login.principal, frozenset(actions), via))

    # ---- escalations -----------------------------------------------------------------------

    def escalations(self, index: Index, graph: Graph) -> None:
        del index
        state = self._state(graph)
        for login in state.logins:
            acl = self._acl(state, login.policies)
            if acl.root:
                continue
            step = _self_rewrite(acl, login, state)
            if step is None:
                continue
            for secret in state.secrets:
                graph.grant(
                    secret.urn, Grant(login.principal, ALL_ACTIONS, login.hops + step, True)
                )
        self._states.pop(id(graph), None)


def _paths(
    state: _State, login: Login, acl: ACL, secret: KvSecret
) -> dict[tuple[Hop, ...], set[Action]]:
    """The via of each policy and deciding rule that gives ``login`` an action on ``secret``."""
    out: dict[tuple[Hop, ...], set[Action]] = {}
    decided: dict[str, Decision] = {}
    for action, path, caps in secret.needs:
        decision = decided.get(path)
        if decision is None:
            decision = decided[path] = acl.decide(path)
        if not decision.granting or "deny" in decision.capabilities:
            continue
        if caps.isdisjoint(decision.capabilities):
            continue
        for policy, granted in decision.granting:
            if caps.isdisjoint(granted):
                continue
            via = _via(state, login, policy, decision.rule or "")
            out.setdefault(via, set()).add(action)
    return out


def _via(state: _State, login: Login, policy: str, rule: str) -> tuple[Hop, ...]:
    urn = state.policies[policy][1] if policy in state.policies else None
    return (*login.hops, Hop("policy", policy, urn), Hop("path rule", rule, urn))


def _self_rewrite(acl: ACL, login: Login, state: _State) -> tuple[Hop, ...] | None:
    """The step by which a token gives itself any policy, if its policies allow one."""
    targets: list[tuple[str, str]] = []
    for key in login.policies:
        namespace, _, name = key.rpartition("/")
        for base in ("sys/policies/acl", "sys/policy"):
            targets.append((_qualified(namespace, f"{base}/{name}"), f"rewrites policy {key}"))
    targets += [(p, f"rewrites its auth role {p}") for p in login.self_paths]
    for path, what in targets:
        decision = acl.decide(path)
        for cap in ("update", "create"):
            granting = decision.policies_allowing(cap)
            if granting:
                urn = state.policies[granting[0]][1] if granting[0] in state.policies else None
                return (
                    Hop("policy", granting[0], urn),
                    Hop("path rule", decision.rule or "", urn),
                    Hop("escalation", what),
                )
    return None


register_grapher(VaultGrapher())
