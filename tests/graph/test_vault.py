"""The Vault grapher on fixture estates: one case per rule, each with a principal that gets the
access and a look-alike that does not (wrong KV path, metadata-only, deny on the deciding rule,
a glob that loses to a more specific rule, create without update, a policy not held...)."""

from __future__ import annotations

from typing import Any

import pytest

from policies.contract.access import Action
from policies.framework import resources_of
from policies.graph import Graph, build
from policies.model import UNKNOWN, ResourceRecord
from tests.policies.records import rec

SECRET_V2 = "vault:kv/secretV2:SecretV2"  # pragma: allowlist secret
SECRET_V1 = "vault:kv/secret:Secret"  # pragma: allowlist secret
GENERIC = "vault:generic/secret:Secret"
POLICY = "vault:index/policy:Policy"
MOUNT = "vault:index/mount:Mount"
K8S_ROLE = "vault:kubernetes/authBackendRole:AuthBackendRole"
APPROLE = "vault:appRole/authBackendRole:AuthBackendRole"
JWT = "vault:jwt/authBackendRole:AuthBackendRole"
TOKEN_ROLE = "vault:tokenauth/authBackendRole:AuthBackendRole"
TOKEN = "vault:index/token:Token"

LETTERS = {"r": Action.READ, "w": Action.WRITE, "m": Action.MANAGE, "d": Action.DESCRIBE}


def _p(path: str, *caps: str) -> str:
    quoted = ", ".join(f'"{c}"' for c in caps)
    return f'path "{path}" {{\n  capabilities = [{quoted}]\n}}\n'


def kv2(name: str, mount: str = "kv", **extra: Any) -> ResourceRecord:
    return rec(SECRET_V2, {"mount": mount, "name": name, **extra}, f"s-{name}-{mount}")


def policy(name: str, text: Any, **extra: Any) -> ResourceRecord:
    return rec(POLICY, {"name": name, "policy": text, **extra}, f"p-{name}")


def k8s_role(role: str, names: Any, namespaces: Any, policies: Any, **extra: Any) -> ResourceRecord:
    props = {
        "backend": "kubernetes",
        "roleName": role,
        "boundServiceAccountNames": names,
        "boundServiceAccountNamespaces": namespaces,
        "tokenPolicies": policies,
        "tokenNoDefaultPolicy": True,
        **extra,
    }
    return rec(K8S_ROLE, props, f"k-{role}")


def approle(role: str, policies: list[str], **extra: Any) -> ResourceRecord:
    props = {"backend": "approle", "roleName": role, "tokenPolicies": policies, **extra}
    return rec(APPROLE, {"tokenNoDefaultPolicy": True, **props}, f"a-{role}")


SA = "system:serviceaccount:"


def _graph(records: list[ResourceRecord]) -> Graph:
    return build(resources_of(records))


def _access(graph: Graph, address: str) -> tuple[dict[str, str], dict[str, str]]:
    """(direct, escalation-only) principal -> action letters on the secret at ``address``."""
    (urn,) = [u for u, n in graph.secrets.items() if n.address == address]
    direct: dict[str, str] = {}
    escalated: dict[str, str] = {}
    for entry in graph.access(urn):
        letters = "".join(k for k, a in LETTERS.items() if a in entry.actions)
        (escalated if entry.escalation else direct)[entry.principal] = letters
    return direct, escalated


#: name -> (records, secret address, direct access, escalation-only access)
CASES: dict[str, tuple[list[ResourceRecord], str, dict[str, str], dict[str, str]]] = {
    "exact read; wrong KV path and metadata-only look-alikes": (
        [
            kv2("app/db"),
            policy("reader", _p("kv/data/app/db", "read")),
            policy("wrong-path", _p("kv/data/app/db2", "read") + _p("kv/app/db", "read")),
            policy("meta", _p("kv/metadata/app/db", "read", "list")),
        ],
        "kv/data/app/db",
        {"vault-policy:reader": "r", "vault-policy:meta": "d"},
        {},
    ),
    "deny on the deciding rule; the same glob without it reads": (
        [
            kv2("app/db"),
            policy("glob", _p("kv/data/app/*", "read")),
            policy("denier", _p("kv/data/app/db", "deny")),
            k8s_role("denied", ["api"], ["prod"], ["glob", "denier"]),
            k8s_role("allowed", ["web"], ["prod"], ["glob"]),
        ],
        "kv/data/app/db",
        {"vault-policy:glob": "r", f"{SA}prod:web": "r"},
        {},
    ),
    "an exact grant beats a denying glob of another policy": (
        [
            kv2("app/db"),
            kv2("app/other"),
            policy("deny-all", _p("kv/data/app/*", "deny")),
            policy("exact", _p("kv/data/app/db", "read")),
            k8s_role("both", ["api"], ["prod"], ["deny-all", "exact"]),
        ],
        "kv/data/app/db",
        {"vault-policy:exact": "r", f"{SA}prod:api": "r"},
        {},
    ),
    "a more specific glob decides, not a union": (
        [
            kv2("app/db"),
            policy("wide", _p("kv/data/*", "read")),
            policy("narrow", _p("kv/data/app/*", "list")),
            k8s_role("wide-only", ["a"], ["ns"], ["wide"]),
            k8s_role("wide-and-narrow", ["b"], ["ns"], ["wide", "narrow"]),
        ],
        "kv/data/app/db",
        {"vault-policy:wide": "r", f"{SA}ns:a": "r"},
        {},
    ),
    "a later glob outranks an earlier plus": (
        [
            kv2("app/db"),
            policy("plus", _p("kv/data/+/db", "read")),
            policy("star", _p("kv/data/app/*", "deny")),
            k8s_role("plus-only", ["a"], ["ns"], ["plus"]),
            k8s_role("plus-and-star", ["b"], ["ns"], ["plus", "star"]),
        ],
        "kv/data/app/db",
        {"vault-policy:plus": "r", f"{SA}ns:a": "r"},
        {},
    ),
    "write needs update or patch on data; create alone cannot overwrite": (
        [
            kv2("app/db"),
            policy("updater", _p("kv/data/app/db", "update")),
            policy("patcher", _p("kv/data/app/db", "patch")),
            policy("creator", _p("kv/data/app/db", "create")),
        ],
        "kv/data/app/db",
        {"vault-policy:updater": "w", "vault-policy:patcher": "w"},
        {},
    ),
    "manage: metadata delete, destroy, soft delete; metadata list is not": (
        [
            kv2("app/db"),
            policy("deleter", _p("kv/metadata/app/db", "delete")),
            policy("destroyer", _p("kv/destroy/app/db", "update")),
            policy("soft", _p("kv/data/app/db", "delete")),
            policy("lister", _p("kv/metadata/app/*", "list")),
        ],
        "kv/data/app/db",
        {"vault-policy:deleter": "m", "vault-policy:destroyer": "m", "vault-policy:soft": "m"},
        {},
    ),
    "Kubernetes role: every bound name x namespace, globs kept": (
        [
            kv2("app/db"),
            policy("reader", _p("kv/data/app/db", "read")),
            policy("other", _p("kv/data/other", "read")),
            k8s_role("app", ["api", "worker"], ["prod", "stage"], ["reader"]),
            k8s_role("any", ["*"], ["batch-*"], ["reader"]),
            k8s_role("lookalike", ["api"], ["dev"], ["other"]),
        ],
        "kv/data/app/db",
        {
            "vault-policy:reader": "r",
            f"{SA}prod:api": "r",
            f"{SA}prod:worker": "r",
            f"{SA}stage:api": "r",
            f"{SA}stage:worker": "r",
            f"{SA}batch-*:*": "r",
        },
        {},
    ),
    "the default policy, redefined, reaches every login that keeps it": (
        [
            kv2("app/db"),
            policy("default", _p("kv/data/app/db", "read")),
            policy("none", _p("kv/data/other", "read")),
            k8s_role("keeps", ["a"], ["ns"], ["none"], tokenNoDefaultPolicy=False),
            k8s_role("drops", ["b"], ["ns"], ["none"], tokenNoDefaultPolicy=True),
            approle("ci", ["none"], tokenNoDefaultPolicy=False),
        ],
        "kv/data/app/db",
        {"vault-policy:default": "r", f"{SA}ns:a": "r", "approle:ci": "r"},
        {},
    ),
    "AppRole, JWT, token role and token principals": (
        [
            kv2("app/db"),
            policy("reader", _p("kv/data/app/db", "read")),
            policy("other", _p("kv/data/x", "read")),
            approle("ci", ["reader"]),
            approle("ci-other", ["other"]),
            rec(
                JWT,
                {
                    "backend": "jwt",
                    "roleName": "gha",
                    "tokenPolicies": ["Reader"],
                    "tokenNoDefaultPolicy": True,
                    "boundClaims": {"repository": "acme/app"},
                },
                "j",
            ),
            rec(TOKEN_ROLE, {"roleName": "ops", "allowedPolicies": ["reader"]}, "tr"),
            rec(TOKEN, {"displayName": "batch", "policies": ["other"], "noDefaultPolicy": True}),
        ],
        "kv/data/app/db",
        {
            "vault-policy:reader": "r",
            "approle:ci": "r",
            "jwt:gha": "r",
            "token-role:ops": "r",
        },
        {},
    ),
    "root in a login's policies: everything": (
        [kv2("app/db"), approle("break-glass", ["root"]), approle("nothing", ["default"])],
        "kv/data/app/db",
        {"approle:break-glass": "rwmd"},
        {},
    ),
    "rewriting its own policy is an escalation to everything; reading it is not": (
        [
            kv2("app/db"),
            policy("self-writer", _p("sys/policies/acl/self-writer", "update")),
            policy("self-reader", _p("sys/policies/acl/self-reader", "read")),
            approle("writer", ["self-writer"]),
            approle("reader", ["self-reader"]),
            k8s_role(
                "role-writer",
                ["a"],
                ["ns"],
                ["role-policy"],
            ),
            policy("role-policy", _p("auth/kubernetes/role/role-writer", "update")),
        ],
        "kv/data/app/db",
        {},
        {"approle:writer": "rwmd", f"{SA}ns:a": "rwmd"},
    ),
    "KV v1: the path itself": (
        [
            rec(SECRET_V1, {"path": "legacy/app/db", "dataJson": UNKNOWN}, "v1"),
            policy("v1", _p("legacy/app/db", "read", "update", "delete")),
            policy("v2-style", _p("legacy/data/app/db", "read")),
        ],
        "legacy/app/db",
        {"vault-policy:v1": "rwm"},
        {},
    ),
    "generic secret on a KV v2 mount: data and metadata paths": (
        [
            rec(MOUNT, {"path": "kv", "type": "kv", "options": {"version": "2"}}, "m"),
            rec(GENERIC, {"path": "kv/data/app/db", "dataJson": UNKNOWN}, "g"),
            policy("reader", _p("kv/data/app/db", "read")),
            policy("meta", _p("kv/metadata/app/db", "read")),
        ],
        "kv/data/app/db",
        {"vault-policy:reader": "r", "vault-policy:meta": "d"},
        {},
    ),
    "namespaces: a policy's paths are its namespace's": (
        [
            kv2("app/db", namespace="team"),
            policy("in-team", _p("kv/data/app/db", "read"), namespace="team"),
            policy("root-ns", _p("kv/data/app/db", "read")),
            policy("root-ns-qualified", _p("team/kv/data/app/db", "read")),
        ],
        "team/kv/data/app/db",
        {"vault-policy:team/in-team": "r", "vault-policy:root-ns-qualified": "r"},
        {},
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_case(case: str) -> None:
    records, address, direct, escalated = CASES[case]
    graph = _graph(records)
    assert graph.complete, graph.gaps
    assert _access(graph, address) == (direct, escalated)


def test_paths_name_the_login_the_role_the_policy_and_the_rule() -> None:
    graph = _graph(
        [
            kv2("app/db"),
            policy("reader", _p("kv/data/app/*", "read")),
            k8s_role("app", ["api"], ["prod"], ["reader"]),
        ]
    )
    (urn,) = graph.secrets
    entry = next(a for a in graph.access(urn) if a.principal == f"{SA}prod:api")
    assert entry.to_json()["via"] == [
        "Kubernetes auth role app (backend kubernetes)",
        "policy reader",
        "path rule kv/data/app/*",
    ]
    assert graph.identities[f"{SA}prod:api"].store == "kubernetes"


def test_secret_nodes_carry_the_catalog_labels() -> None:
    labels = {"data": {"catalog-name": "JWT_SECRET", "revoked": "true"}}
    graph = _graph([kv2("auth/jwt", mount="nt/production", customMetadata=labels)])
    (node,) = graph.secrets.values()
    assert (node.store, node.address, node.catalog_name, node.revoked) == (
        "vault",
        "nt/production/data/auth/jwt",
        "JWT_SECRET",
        True,
    )


GAPS: list[tuple[str, list[ResourceRecord], str]] = [
    ("policy text unknown", [kv2("a"), policy("p", UNKNOWN)], "text of Vault policy"),
    ("policy unreadable", [kv2("a"), policy("p", 'path "kv/*" { oops = 1 }')], "cannot be read"),
    (
        "a login's policy not in the stack",
        [kv2("a"), approle("ci", ["elsewhere"])],
        "not declared in the stack",
    ),
    (
        "bound service accounts unknown",
        [kv2("a"), policy("p", _p("kv/data/a", "read")), k8s_role("r", UNKNOWN, ["ns"], ["p"])],
        "service accounts bound",
    ),
    ("secret mount unknown", [kv2("a", mount=UNKNOWN)], "mount or name"),
]


@pytest.mark.parametrize(("case", "records", "reason"), GAPS, ids=[g[0] for g in GAPS])
def test_what_cannot_be_read_is_a_gap_never_a_guess(
    case: str, records: list[ResourceRecord], reason: str
) -> None:
    del case
    graph = _graph(records)
    assert not graph.complete
    assert any(reason in why for _urn, why in graph.gaps), graph.gaps
