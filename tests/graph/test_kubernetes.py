"""The Kubernetes grapher on fixture estates: one case per rule, each with a principal that gets
the access and a look-alike that does not (resourceNames mismatch, another namespace, create
without update, the view role, a pod creator in the wrong namespace...), escalations marked."""

from __future__ import annotations

from typing import Any

import pytest

from policies.contract.access import Action
from policies.framework import resources_of
from policies.graph import Graph, build
from policies.model import UNKNOWN, ResourceRecord
from tests.policies.records import rec

SA = "system:serviceaccount:"
RBAC = "kubernetes:rbac.authorization.k8s.io/v1:"
LETTERS = {"r": Action.READ, "w": Action.WRITE, "m": Action.MANAGE, "d": Action.DESCRIBE}


def secret(ns: str | None, name: str, kind: str = "Secret") -> ResourceRecord:
    meta = {"name": name} if ns is None else {"name": name, "namespace": ns}
    return rec(f"kubernetes:core/v1:{kind}", {"metadata": meta}, f"s-{ns}-{name}")


def sa(ns: str, name: str, **labels: str) -> ResourceRecord:
    meta = {"name": name, "namespace": ns, "labels": labels}
    return rec("kubernetes:core/v1:ServiceAccount", {"metadata": meta}, f"sa-{ns}-{name}")


def rule(
    verbs: list[str], resources: list[str], names: list[str] | None = None, group: str = ""
) -> dict[str, Any]:
    out: dict[str, Any] = {"apiGroups": [group], "resources": resources, "verbs": verbs}
    if names:
        out["resourceNames"] = names
    return out


def role(ns: str, name: str, *rules: dict[str, Any]) -> ResourceRecord:
    return rec(
        f"{RBAC}Role",
        {"metadata": {"name": name, "namespace": ns}, "rules": list(rules)},
        f"r-{ns}-{name}",
    )


def cluster_role(name: str, *rules: dict[str, Any], **extra: Any) -> ResourceRecord:
    props = {"metadata": {"name": name, **extra.pop("meta", {})}, "rules": list(rules), **extra}
    return rec(f"{RBAC}ClusterRole", props, f"cr-{name}")


def _subjects(subjects: list[str]) -> list[dict[str, str]]:
    out = []
    for s in subjects:
        kind, _, rest = s.partition(":")
        if kind == "sa":
            ns, _, name = rest.partition("/")
            out.append({"kind": "ServiceAccount", "name": name, "namespace": ns})
        else:
            out.append({"kind": "User" if kind == "user" else "Group", "name": rest})
    return out


def binding(ns: str, role_ref: str, *subjects: str) -> ResourceRecord:
    kind, _, name = role_ref.partition("/")
    props = {
        "metadata": {"name": f"b-{name}", "namespace": ns},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": name},
        "subjects": _subjects(list(subjects)),
    }
    return rec(f"{RBAC}RoleBinding", props, f"b-{ns}-{name}-{len(subjects)}-{subjects[0]}")


def cluster_binding(role_name: str, *subjects: str) -> ResourceRecord:
    props = {
        "metadata": {"name": f"cb-{role_name}"},
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": role_name,
        },
        "subjects": _subjects(list(subjects)),
    }
    return rec(f"{RBAC}ClusterRoleBinding", props, f"cb-{role_name}-{subjects[0]}")


def deployment(ns: str, name: str, account: str, *mounted: str) -> ResourceRecord:
    spec = {
        "serviceAccountName": account,
        "containers": [{"name": "app", "image": "app:1"}],
        "volumes": [{"name": m, "secret": {"secretName": m}} for m in mounted],
    }
    props = {"metadata": {"name": name, "namespace": ns}, "spec": {"template": {"spec": spec}}}
    return rec("kubernetes:apps/v1:Deployment", props, f"d-{ns}-{name}")


def vault_login(ns: str, name: str, path: str) -> list[ResourceRecord]:
    """A Vault KV secret at ``kv/data/<path>`` that the service account ``ns/name`` logs in for."""
    text = f'path "kv/data/{path}" {{\n  capabilities = ["read"]\n}}\n'
    return [
        rec("vault:kv/secretV2:SecretV2", {"mount": "kv", "name": path}, f"v-{path}"),
        rec("vault:index/policy:Policy", {"name": f"p-{path}", "policy": text}, f"vp-{path}"),
        rec(
            "vault:kubernetes/authBackendRole:AuthBackendRole",
            {
                "roleName": f"role-{path}",
                "boundServiceAccountNames": [name],
                "boundServiceAccountNamespaces": [ns],
                "tokenPolicies": [f"p-{path}"],
                "tokenNoDefaultPolicy": True,
            },
            f"vr-{path}",
        ),
    ]


def _access(graph: Graph, address: str) -> tuple[dict[str, str], dict[str, str]]:
    (urn,) = [u for u, n in graph.secrets.items() if n.address == address]
    direct: dict[str, str] = {}
    escalated: dict[str, str] = {}
    for entry in graph.access(urn):
        letters = "".join(k for k, a in LETTERS.items() if a in entry.actions)
        (escalated if entry.escalation else direct)[entry.principal] = letters
    return direct, escalated


def _k8s_only(access: dict[str, str]) -> dict[str, str]:
    return {p: a for p, a in access.items() if not p.startswith("vault-policy:")}


GET_APP = rule(["get"], ["secrets"], ["app"])
READ_ALL = rule(["get", "list", "watch"], ["secrets"])

#: name -> (records, secret address, direct access, escalation-only access)
CASES: dict[str, tuple[list[ResourceRecord], str, dict[str, str], dict[str, str]]] = {
    "get by name; a rule naming another Secret does not read it": (
        [
            secret("prod", "app"),
            sa("prod", "api"),
            sa("prod", "other"),
            role("prod", "reader", GET_APP),
            role("prod", "other-reader", rule(["get", "list", "watch"], ["secrets"], ["other"])),
            binding("prod", "Role/reader", "sa:prod/api"),
            binding("prod", "Role/other-reader", "sa:prod/other"),
        ],
        "prod/app",
        {f"{SA}prod:api": "r"},
        {},
    ),
    "list without names reads every Secret of its namespace, not another's": (
        [
            secret("prod", "app"),
            role("prod", "lister", rule(["list"], ["secrets"])),
            role("dev", "lister", rule(["list", "watch"], ["secrets"])),
            binding("prod", "Role/lister", "sa:prod/lister"),
            binding("dev", "Role/lister", "sa:dev/lister"),
        ],
        "prod/app",
        {f"{SA}prod:lister": "r"},
        {},
    ),
    "a ClusterRole bound by a RoleBinding is scoped to its namespace; by a ClusterRoleBinding, not": (
        [
            secret("prod", "app"),
            cluster_role("secret-reader", READ_ALL),
            binding("dev", "ClusterRole/secret-reader", "sa:dev/scoped"),
            binding("prod", "ClusterRole/secret-reader", "sa:prod/scoped"),
            cluster_binding("secret-reader", "user:alice"),
        ],
        "prod/app",
        {f"{SA}prod:scoped": "r", "user:alice": "r"},
        {},
    ),
    "write is update or patch, manage delete; create is neither": (
        [
            secret("prod", "app"),
            role("prod", "writer", rule(["update"], ["secrets"], ["app"])),
            role("prod", "patcher", rule(["patch"], ["secrets"])),
            role("prod", "creator", rule(["create"], ["secrets"])),
            role("prod", "deleter", rule(["delete"], ["secrets"], ["app"])),
            role("prod", "bulk", rule(["deletecollection"], ["secrets"])),
            role("prod", "bulk-named", rule(["deletecollection"], ["secrets"], ["app"])),
            *(
                binding("prod", f"Role/{r}", f"user:{r}")
                for r in ("writer", "patcher", "creator", "deleter", "bulk", "bulk-named")
            ),
        ],
        "prod/app",
        {"user:writer": "w", "user:patcher": "w", "user:deleter": "m", "user:bulk": "m"},
        {},
    ),
    "wildcards; the built-in view role reads no Secret, edit does": (
        [
            secret("prod", "app"),
            role("prod", "star", {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}),
            role("prod", "pods-only", rule(["*"], ["pods"])),
            binding("prod", "Role/star", "user:star"),
            binding("prod", "Role/pods-only", "user:pods"),
            binding("prod", "ClusterRole/view", "user:viewer"),
            binding("prod", "ClusterRole/edit", "user:editor"),
        ],
        "prod/app",
        {"user:star": "rwm", "user:editor": "rwm"},
        # pods-only and view can create... view cannot; pods-only creates pods: escalation
        {"user:pods": "r"},
    ),
    "groups reach the stack's service accounts in them": (
        [
            secret("prod", "app"),
            sa("prod", "api"),
            sa("dev", "api"),
            role("prod", "reader", GET_APP),
            binding("prod", "Role/reader", "group:system:serviceaccounts:prod"),
            binding("prod", "Role/reader", "group:system:serviceaccounts:dev"),
        ],
        "prod/app",
        {
            "group:system:serviceaccounts:prod": "r",
            "group:system:serviceaccounts:dev": "r",
            f"{SA}prod:api": "r",
            f"{SA}dev:api": "r",
        },
        {},
    ),
    "aggregated ClusterRoles take the rules of the roles they select": (
        [
            secret("prod", "app"),
            cluster_role(
                "agg", aggregationRule={"clusterRoleSelectors": [{"matchLabels": {"x": "1"}}]}
            ),
            cluster_role("part", GET_APP, meta={"labels": {"x": "1"}}),
            cluster_role("unselected", READ_ALL, meta={"labels": {"x": "2"}}),
            binding("prod", "ClusterRole/agg", "user:agg"),
        ],
        "prod/app",
        {"user:agg": "r"},
        {},
    ),
    "ExternalSecret targets are Secrets; a User naming a service account is it": (
        [
            rec(
                "kubernetes:external-secrets.io/v1:ExternalSecret",
                {
                    "metadata": {"name": "es", "namespace": "prod"},
                    "spec": {"target": {"name": "app"}},
                },
                "es",
            ),
            role("prod", "reader", GET_APP),
            binding("prod", "Role/reader", f"user:{SA}prod:api"),
        ],
        "prod/app",
        {f"{SA}prod:api": "r"},
        {},
    ),
    "creating pods mounts any Secret of the namespace; not in another namespace": (
        [
            secret("prod", "app"),
            role("prod", "runner", rule(["create"], ["pods"])),
            role("dev", "runner", rule(["create"], ["pods"])),
            role("prod", "pod-reader", rule(["get", "list"], ["pods"])),
            binding("prod", "Role/runner", "user:runner"),
            binding("dev", "Role/runner", "user:dev-runner"),
            binding("prod", "Role/pod-reader", "user:pod-reader"),
        ],
        "prod/app",
        {},
        {"user:runner": "r"},
    ),
    "creating a Deployment runs as any service account: its Vault login too": (
        [
            *vault_login("prod", "api", "app/db"),
            sa("prod", "api"),
            role("prod", "deployer", rule(["create"], ["deployments"], group="apps")),
            role("dev", "deployer", rule(["create"], ["deployments"], group="apps")),
            binding("prod", "Role/deployer", "user:deployer"),
            binding("dev", "Role/deployer", "user:dev-deployer"),
        ],
        "kv/data/app/db",
        {f"{SA}prod:api": "r"},
        {"user:deployer": "r"},
    ),
    "a Vault login bound to a glob is a login of each service account it matches": (
        [
            *vault_login("prod", "*", "app/db"),
            sa("prod", "api"),
            sa("dev", "api"),
        ],
        "kv/data/app/db",
        {f"{SA}prod:*": "r", f"{SA}prod:api": "r"},
        {},
    ),
    "exec into a workload's pods: its service account and its mounted Secrets only": (
        [
            secret("prod", "mounted"),
            secret("prod", "unmounted"),
            *vault_login("prod", "api", "app/db"),
            sa("prod", "api"),
            deployment("prod", "web", "api", "mounted"),
            role("prod", "exec", rule(["create"], ["pods/exec"])),
            role("prod", "logs", rule(["get"], ["pods/log"])),
            binding("prod", "Role/exec", "user:exec"),
            binding("prod", "Role/logs", "user:logs"),
        ],
        "prod/mounted",
        {},
        {"user:exec": "r"},
    ),
    "exec does not reach a Secret no pod mounts": (
        [
            secret("prod", "unmounted"),
            deployment("prod", "web", "api"),
            role("prod", "exec", rule(["create"], ["pods/exec"])),
            binding("prod", "Role/exec", "user:exec"),
        ],
        "prod/unmounted",
        {},
        {},
    ),
    "a token of a named service account is its access; of another, not": (
        [
            *vault_login("prod", "api", "app/db"),
            sa("prod", "api"),
            sa("prod", "web"),
            role("prod", "token-api", rule(["create"], ["serviceaccounts/token"], ["api"])),
            role("prod", "token-web", rule(["create"], ["serviceaccounts/token"], ["web"])),
            binding("prod", "Role/token-api", "user:t-api"),
            binding("prod", "Role/token-web", "user:t-web"),
        ],
        "kv/data/app/db",
        {f"{SA}prod:api": "r"},
        {"user:t-api": "r"},
    ),
    "impersonating a service account or a user is their access": (
        [
            secret("prod", "app"),
            sa("prod", "api"),
            role("prod", "reader", GET_APP),
            binding("prod", "Role/reader", "sa:prod/api", "user:bob"),
            role("prod", "imp-sa", rule(["impersonate"], ["serviceaccounts"], ["api"])),
            role("prod", "imp-other", rule(["impersonate"], ["serviceaccounts"], ["web"])),
            cluster_role("imp-bob", rule(["impersonate"], ["users"], ["bob"])),
            binding("prod", "Role/imp-sa", "user:imp-sa"),
            binding("prod", "Role/imp-other", "user:imp-other"),
            cluster_binding("imp-bob", "user:imp-bob"),
        ],
        "prod/app",
        {f"{SA}prod:api": "r", "user:bob": "r"},
        {"user:imp-sa": "r", "user:imp-bob": "r"},
    ),
    "escalate and update roles, or bind any role: everything in the namespace": (
        [
            secret("prod", "app"),
            role(
                "prod",
                "escalator",
                rule(["escalate", "update"], ["roles"], group="rbac.authorization.k8s.io"),
            ),
            role("prod", "updater", rule(["update"], ["roles"], group="rbac.authorization.k8s.io")),
            role(
                "prod",
                "binder",
                rule(["bind"], ["clusterroles"], group="rbac.authorization.k8s.io"),
                rule(["create"], ["rolebindings"], group="rbac.authorization.k8s.io"),
            ),
            role(
                "prod",
                "named-binder",
                rule(["bind"], ["clusterroles"], ["view"], group="rbac.authorization.k8s.io"),
                rule(["bind"], ["roles"], ["reader"], group="rbac.authorization.k8s.io"),
                rule(["create"], ["rolebindings"], group="rbac.authorization.k8s.io"),
            ),
            role(
                "prod",
                "binder-no-create",
                rule(["bind"], ["clusterroles"], group="rbac.authorization.k8s.io"),
            ),
            role("prod", "reader", GET_APP),
            binding("prod", "Role/escalator", "user:escalator"),
            binding("prod", "Role/updater", "user:updater"),
            binding("prod", "Role/binder", "user:binder"),
            binding("prod", "Role/named-binder", "user:named-binder"),
            binding("prod", "Role/binder-no-create", "user:binder-no-create"),
        ],
        "prod/app",
        {},
        {"user:escalator": "rwm", "user:binder": "rwm", "user:named-binder": "r"},
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_case(case: str) -> None:
    records, address, direct, escalated = CASES[case]
    graph = build(resources_of(records))
    assert graph.complete, graph.gaps
    got_direct, got_escalated = _access(graph, address)
    assert (_k8s_only(got_direct), got_escalated) == (direct, escalated)


def test_secrets_default_namespace_lists_and_creation_policy_none() -> None:
    records = [
        secret(None, "plain"),
        rec(
            "kubernetes:core/v1:SecretList",
            {
                "items": [
                    {"metadata": {"name": "one", "namespace": "a"}},
                    {"metadata": {"name": "two", "namespace": "b"}},
                ]
            },
            "list",
        ),
        rec(
            "kubernetes:external-secrets.io/v1beta1:ExternalSecret",
            {"metadata": {"name": "own-name", "namespace": "a"}, "spec": {"target": {}}},
            "es1",
        ),
        rec(
            "kubernetes:external-secrets.io/v1:ExternalSecret",
            {
                "metadata": {"name": "none", "namespace": "a"},
                "spec": {"target": {"creationPolicy": "None"}},
            },
            "es2",
        ),
    ]
    graph = build(resources_of(records))
    assert sorted(n.address for n in graph.secrets.values()) == [
        "a/one",
        "a/own-name",
        "b/two",
        "default/plain",
    ]


def test_paths_and_identity_labels() -> None:
    graph = build(
        resources_of(
            [
                secret("prod", "app"),
                sa("prod", "api", role="live-trading"),
                role("prod", "reader", GET_APP),
                binding("prod", "Role/reader", "sa:prod/api"),
            ]
        )
    )
    (urn,) = graph.secrets
    (entry,) = graph.access(urn)
    assert entry.to_json()["via"] == [
        "role binding prod/b-reader",
        "role reader",
        "rule get secrets (core) [app]",
    ]
    assert graph.identities[f"{SA}prod:api"].labels == {"role": "live-trading"}


def test_unknown_names_are_gaps() -> None:
    graph = build(resources_of([secret("prod", UNKNOWN), sa(UNKNOWN, "x")]))
    assert len(graph.gaps) == 2 and not graph.secrets
