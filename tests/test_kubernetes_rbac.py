"""Who may read which Kubernetes Secret, decided offline the way the API server's RBAC authorizer
decides (``policies/kubernetes/authorizer.py``).

First the evaluator itself, on the cases where RBAC surprises people (wildcards, the core group,
subresources, resourceNames and collection verbs, Role vs ClusterRole, RoleBinding vs
ClusterRoleBinding, the subjects a service account's token stands for). Then the matrix, for both
stacks: every workload service account can ``get`` exactly its Secret and nothing else, and no
subject at all can list or watch Secrets.
"""

from __future__ import annotations

from typing import Any

import pytest

from infra.backends.kubernetes import documents
from nt_secrets.capture import Capture
from policies.kubernetes.authorizer import Authorizer, Rule, User

from .test_kubernetes_plan import WORKLOAD, kubernetes_config, plan

NS = "live-trading"
TRADER = User.service_account(NS, "live-trader")


def role(
    kind: str, name: str, *rules: dict[str, Any], namespace: str = NS, **extra: Any
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if kind == "Role":
        meta["namespace"] = namespace
    meta.update(extra)
    return {"kind": kind, "metadata": meta, "rules": list(rules)}


def bind(
    kind: str,
    role_kind: str,
    role_name: str,
    *subjects: dict[str, Any],
    namespace: str = NS,
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": f"{role_name}-binding"}
    if kind == "RoleBinding":
        meta["namespace"] = namespace
    return {
        "kind": kind,
        "metadata": meta,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role_name},
        "subjects": list(subjects),
    }


def rule(
    verbs: list[str],
    resources: list[str],
    groups: list[str] | None = None,
    names: list[str] | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "apiGroups": [""] if groups is None else groups,
        "resources": resources,
        "verbs": verbs,
    }
    if names is not None:
        out["resourceNames"] = names
    return out


SA = {"kind": "ServiceAccount", "name": "live-trader", "namespace": NS}
SA_NO_NS = {"kind": "ServiceAccount", "name": "live-trader"}


def granted(*rules: dict[str, Any]) -> list[dict[str, Any]]:
    """A Role with ``rules`` bound to the trader's service account in its namespace."""
    return [role("Role", "r", *rules), bind("RoleBinding", "Role", "r", SA)]


# (case, manifests, request (verb, resource, kwargs), user, allowed)
CASES: list[tuple[str, list[dict[str, Any]], tuple[str, str, dict[str, Any]], User, bool]] = [
    (
        "get by name: the named Secret",
        granted(rule(["get"], ["secrets"], names=["a"])),
        ("get", "secrets", {"namespace": NS, "name": "a"}),
        TRADER,
        True,
    ),
    (
        "get by name: another Secret",
        granted(rule(["get"], ["secrets"], names=["a"])),
        ("get", "secrets", {"namespace": NS, "name": "b"}),
        TRADER,
        False,
    ),
    (
        "get by name: list has no name",
        granted(rule(["get", "list"], ["secrets"], names=["a"])),
        ("list", "secrets", {"namespace": NS}),
        TRADER,
        False,
    ),
    (
        "no names: every Secret",
        granted(rule(["get"], ["secrets"])),
        ("get", "secrets", {"namespace": NS, "name": "zz"}),
        TRADER,
        True,
    ),
    (
        "verb *",
        granted(rule(["*"], ["secrets"])),
        ("watch", "secrets", {"namespace": NS}),
        TRADER,
        True,
    ),
    (
        "verb exact",
        granted(rule(["get"], ["secrets"])),
        ("watch", "secrets", {"namespace": NS}),
        TRADER,
        False,
    ),
    (
        "core group is ''",
        granted(rule(["get"], ["secrets"], ["apps"])),
        ("get", "secrets", {"namespace": NS, "name": "a"}),
        TRADER,
        False,
    ),
    (
        "group *",
        granted(rule(["get"], ["secrets"], ["*"])),
        ("get", "secrets", {"namespace": NS, "name": "a"}),
        TRADER,
        True,
    ),
    (
        "resource * covers secrets",
        granted(rule(["list"], ["*"])),
        ("list", "secrets", {"namespace": NS}),
        TRADER,
        True,
    ),
    (
        "resource * covers subresources",
        granted(rule(["create"], ["*"])),
        ("create", "pods", {"namespace": NS, "subresource": "exec", "name": "p"}),
        TRADER,
        True,
    ),
    (
        "pods does not cover pods/exec",
        granted(rule(["create"], ["pods"])),
        ("create", "pods", {"namespace": NS, "subresource": "exec", "name": "p"}),
        TRADER,
        False,
    ),
    (
        "pods/exec exact",
        granted(rule(["create"], ["pods/exec"])),
        ("create", "pods", {"namespace": NS, "subresource": "exec", "name": "p"}),
        TRADER,
        True,
    ),
    (
        "*/exec",
        granted(rule(["create"], ["*/exec"])),
        ("create", "pods", {"namespace": NS, "subresource": "exec", "name": "p"}),
        TRADER,
        True,
    ),
    (
        "pods/exec does not cover pods",
        granted(rule(["get"], ["pods/exec"])),
        ("get", "pods", {"namespace": NS, "name": "p"}),
        TRADER,
        False,
    ),
    (
        "a Role stays in its namespace",
        granted(rule(["get"], ["secrets"])),
        ("get", "secrets", {"namespace": "other", "name": "a"}),
        TRADER,
        False,
    ),
    (
        "RoleBinding to a ClusterRole is namespaced",
        [
            role("ClusterRole", "c", rule(["get"], ["secrets"])),
            bind("RoleBinding", "ClusterRole", "c", SA),
        ],
        ("get", "secrets", {"namespace": "other", "name": "a"}),
        TRADER,
        False,
    ),
    (
        "RoleBinding to a ClusterRole in its namespace",
        [
            role("ClusterRole", "c", rule(["get"], ["secrets"])),
            bind("RoleBinding", "ClusterRole", "c", SA),
        ],
        ("get", "secrets", {"namespace": NS, "name": "a"}),
        TRADER,
        True,
    ),
    (
        "ClusterRoleBinding: every namespace",
        [
            role("ClusterRole", "c", rule(["get"], ["secrets"])),
            bind("ClusterRoleBinding", "ClusterRole", "c", SA),
        ],
        ("get", "secrets", {"namespace": "kube-system", "name": "a"}),
        TRADER,
        True,
    ),
    (
        "ClusterRoleBinding: across all namespaces",
        [
            role("ClusterRole", "c", rule(["list"], ["secrets"])),
            bind("ClusterRoleBinding", "ClusterRole", "c", SA),
        ],
        ("list", "secrets", {}),
        TRADER,
        True,
    ),
    (
        "a RoleBinding never grants across all namespaces",
        [
            role("ClusterRole", "c", rule(["list"], ["secrets"])),
            bind("RoleBinding", "ClusterRole", "c", SA),
        ],
        ("list", "secrets", {}),
        TRADER,
        False,
    ),
    (
        "a ClusterRoleBinding cannot reference a Role",
        [
            role("Role", "r", rule(["get"], ["secrets"])),
            bind("ClusterRoleBinding", "Role", "r", SA),
        ],
        ("get", "secrets", {"namespace": NS, "name": "a"}),
        TRADER,
        False,
    ),
    (
        "a RoleBinding references a Role of its own namespace only",
        [
            role("Role", "r", rule(["get"], ["secrets"]), namespace="other"),
            bind("RoleBinding", "Role", "r", SA),
        ],
        ("get", "secrets", {"namespace": NS, "name": "a"}),
        TRADER,
        False,
    ),
    (
        "a service account subject defaults to the binding's namespace",
        [role("Role", "r", rule(["get"], ["secrets"])), bind("RoleBinding", "Role", "r", SA_NO_NS)],
        ("get", "secrets", {"namespace": NS, "name": "a"}),
        TRADER,
        True,
    ),
    (
        "another namespace's account of the same name",
        granted(rule(["get"], ["secrets"])),
        ("get", "secrets", {"namespace": NS, "name": "a"}),
        User.service_account("other", "live-trader"),
        False,
    ),
    (
        "group system:serviceaccounts:<ns>",
        [
            role("Role", "r", rule(["get"], ["secrets"])),
            bind(
                "RoleBinding",
                "Role",
                "r",
                {"kind": "Group", "name": f"system:serviceaccounts:{NS}"},
            ),
        ],
        ("get", "secrets", {"namespace": NS, "name": "a"}),
        User.service_account(NS, "default"),
        True,
    ),
    (
        "group system:authenticated",
        [
            role("Role", "r", rule(["get"], ["secrets"])),
            bind("RoleBinding", "Role", "r", {"kind": "Group", "name": "system:authenticated"}),
        ],
        ("get", "secrets", {"namespace": NS, "name": "a"}),
        TRADER,
        True,
    ),
    (
        "a User subject is not the service account",
        [
            role("Role", "r", rule(["get"], ["secrets"])),
            bind("RoleBinding", "Role", "r", {"kind": "User", "name": "live-trader"}),
        ],
        ("get", "secrets", {"namespace": NS, "name": "a"}),
        TRADER,
        False,
    ),
    (
        "the built-in edit role reads Secrets",
        [bind("RoleBinding", "ClusterRole", "edit", SA)],
        ("list", "secrets", {"namespace": NS}),
        TRADER,
        True,
    ),
    (
        "the built-in view role reads no Secret",
        [bind("RoleBinding", "ClusterRole", "view", SA)],
        ("get", "secrets", {"namespace": NS, "name": "a"}),
        TRADER,
        False,
    ),
    (
        "cluster-admin is everything",
        [bind("ClusterRoleBinding", "ClusterRole", "cluster-admin", SA)],
        ("impersonate", "users", {}),
        TRADER,
        True,
    ),
    (
        "an aggregated ClusterRole",
        [
            {
                "kind": "ClusterRole",
                "metadata": {"name": "agg"},
                "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"x/agg": "true"}}]},
                "rules": [],
            },
            role("ClusterRole", "piece", rule(["watch"], ["secrets"]), labels={"x/agg": "true"}),
            bind("RoleBinding", "ClusterRole", "agg", SA),
        ],
        ("watch", "secrets", {"namespace": NS}),
        TRADER,
        True,
    ),
]


@pytest.mark.parametrize(
    ("case", "manifests", "request_", "user", "allowed"), CASES, ids=[c[0] for c in CASES]
)
def test_the_authorizer(
    case: str,
    manifests: list[dict[str, Any]],
    request_: tuple[str, str, dict[str, Any]],
    user: User,
    allowed: bool,
) -> None:
    verb, resource, kwargs = request_
    assert Authorizer.from_manifests(manifests).allows(user, verb, resource, **kwargs) is allowed, (
        case
    )


def test_the_cases_exercise_both_answers() -> None:
    assert {c[4] for c in CASES} == {True, False}


def test_rule_matching_directly() -> None:
    r = Rule(verbs=("get",), api_groups=("",), resources=("secrets",), resource_names=("a",))
    assert r.matches("get", "", "secrets", name="a")
    assert not r.matches("get", "", "secrets")
    assert not r.matches("get", "", "secrets", "status", "a")


# ---- the matrix: both stacks -----------------------------------------------------------------------


@pytest.fixture(scope="module", params=["dev", "prod"])
def planned(request: pytest.FixtureRequest) -> tuple[str, Capture, Authorizer]:
    stack = str(request.param)
    cap = plan(kubernetes_config(stack), stack)
    authorizer = Authorizer.from_resources((r.type, r.raw_inputs, r.urn) for r in cap.resources)
    return stack, cap, authorizer


VERBS = ("get", "list", "watch", "create", "update", "patch", "delete", "deletecollection")


def test_each_workload_gets_exactly_its_secret(planned: tuple[str, Capture, Authorizer]) -> None:
    stack, _, authorizer = planned
    role, ns, account = WORKLOAD[stack]
    user = User.service_account(ns, account)
    mine = documents.target_secret(role)
    others = [documents.target_secret(r) for r in ("backtest", "live-trading") if r != role]
    candidates = [mine, *others, "default-token", "neural-trader", ""]
    matrix = {
        (verb, name): authorizer.allows(user, verb, "secrets", namespace=ns, name=name)
        for verb in VERBS
        for name in candidates
    }
    assert {k for k, allowed in matrix.items() if allowed} == {("get", mine)}
    # Nowhere else, nothing of anything else.
    assert not authorizer.allows(user, "get", "secrets", namespace="kube-system", name=mine)
    assert not authorizer.allows(user, "list", "secrets")
    assert not authorizer.allows(user, "create", "pods", namespace=ns, subresource="exec", name="p")
    assert not authorizer.allows(user, "get", "configmaps", namespace=ns, name=mine)
    assert not authorizer.allows(
        user, "create", "serviceaccounts", namespace=ns, subresource="token", name=account
    )


def test_nothing_can_list_or_watch_secrets(planned: tuple[str, Capture, Authorizer]) -> None:
    stack, _, authorizer = planned
    _, ns, _ = WORKLOAD[stack]
    users = [User.service_account(ns, "default"), User.service_account("kube-system", "default")]
    users += [
        User.service_account(s.namespace or b.namespace, s.name)
        for s, b in authorizer.subjects()
        if s.kind == "ServiceAccount"
    ]
    users += [User(s.name) for s, _ in authorizer.subjects() if s.kind == "User"]
    users += [
        User("someone", frozenset({s.name})) for s, _ in authorizer.subjects() if s.kind == "Group"
    ]
    users.append(User("system:anonymous", frozenset({"system:unauthenticated"})))
    assert len(authorizer.bindings) == 1
    for user in users:
        for verb in ("list", "watch"):
            for where in (ns, "", "kube-system"):
                assert not authorizer.allows(user, verb, "secrets", namespace=where), (
                    user,
                    verb,
                    where,
                )
    # The namespace's default account (what a pod without serviceAccountName runs as) gets nothing.
    default = User.service_account(ns, "default")
    assert not list(authorizer.grants(default))
