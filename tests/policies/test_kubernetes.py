"""Kubernetes policies: the case table (to run with every other policy's in ``test_pack.py``) and
the rules behind it.

Each case reads as documentation: what the manifests declare, which policy judges them, how many
violations. RBAC is judged the way the API server authorizes (``policies/kubernetes/authorizer.py``,
table-tested in ``tests/test_kubernetes_rbac.py``). Fixture credentials are obviously fake and
marked for scanners.
"""

from __future__ import annotations

from typing import Any

import pytest

from policies.model import UNKNOWN, ResourceRecord
from policies.runner import run
from tests.policies.records import rec

RBAC = "kubernetes:rbac.authorization.k8s.io/v1:"
ROLE = RBAC + "Role"
CLUSTER_ROLE = RBAC + "ClusterRole"
BINDING = RBAC + "RoleBinding"
CLUSTER_BINDING = RBAC + "ClusterRoleBinding"
SECRET = "kubernetes:core/v1:Secret"  # pragma: allowlist secret
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
CRON_JOB = "kubernetes:batch/v1:CronJob"
CLUSTER_STORE = "kubernetes:external-secrets.io/v1:ClusterSecretStore"
FAKE_OPENAI = "sk-proj-FAKE0123456789abcdefFAKE0123456789abcdef"  # pragma: allowlist secret
FAKE_ANTHROPIC = "sk-ant-api03-FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE-FAKEFAKEAA"  # pragma: allowlist secret
NS = "live-trading"


def rule(
    verbs: list[str],
    resources: list[str],
    groups: list[str] | None = None,
    names: list[str] | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {"apiGroups": [""] if groups is None else groups}
    out["resources"] = resources
    out["verbs"] = verbs
    if names is not None:
        out["resourceNames"] = names
    return out


def role(
    *rules: dict[str, Any], name: str = "reader", cluster: bool = False, **meta: Any
) -> ResourceRecord:
    metadata = {"name": name, **({} if cluster else {"namespace": NS}), **meta}
    return rec(
        CLUSTER_ROLE if cluster else ROLE, {"metadata": metadata, "rules": list(rules)}, name=name
    )


def binding(
    role_name: str,
    *subjects: dict[str, Any],
    role_kind: str = "Role",
    cluster: bool = False,
    name: str = "reader-binding",
) -> ResourceRecord:
    metadata = {"name": name, **({} if cluster else {"namespace": NS})}
    return rec(
        CLUSTER_BINDING if cluster else BINDING,
        {
            "metadata": metadata,
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": role_kind,
                "name": role_name,
            },
            "subjects": list(subjects),
        },
        name=name,
    )


def sa(name: str = "live-trader", namespace: str = NS) -> dict[str, Any]:
    return {"kind": "ServiceAccount", "name": name, "namespace": namespace}


GET_BY_NAME = rule(["get"], ["secrets"], names=["neural-trader-live-trading"])


def pod(*containers: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {"containers": list(containers), **spec}


def deployment(spec: dict[str, Any], type_: str = DEPLOYMENT, **meta: Any) -> ResourceRecord:
    return rec(
        type_,
        {
            "metadata": {"name": "trader", "namespace": NS, **meta},
            "spec": {"template": {"metadata": {}, "spec": spec}},
        },
    )


TARGET = "neural-trader-live-trading"
VOLUME_SOURCE = {"secretName": TARGET}  # pragma: allowlist secret
PLAIN_DATA = {"OPENAI_API_KEY": "not-marked"}  # pragma: allowlist secret
MOUNTED = pod(
    {
        "name": "app",
        "image": "ghcr.io/neural-trader/app:1",
        "volumeMounts": [{"name": "secrets", "mountPath": "/var/run/secrets/neural-trader"}],
    },
    volumes=[{"name": "secrets", "secret": VOLUME_SOURCE}],
)
ENV_REF = {
    "name": "app",
    "image": "app",
    "env": [
        {
            "name": "OPENAI_API_KEY",
            "valueFrom": {
                "secretKeyRef": {"name": "neural-trader-live-trading", "key": "OPENAI_API_KEY"}
            },
        }
    ],
}


KUBERNETES_CASES: list[tuple[str, str, list[ResourceRecord], int]] = [
    # ---- rules, one by one --------------------------------------------------------------------
    ("get on one named Secret", "kubernetes-rbac-no-wildcards", [role(GET_BY_NAME)], 0),
    (
        "wildcard verbs",
        "kubernetes-rbac-no-wildcards",
        [role(rule(["*"], ["deployments"], ["apps"]))],
        1,
    ),
    (
        "wildcard resources in a ClusterRoleList item",
        "kubernetes-rbac-no-wildcards",
        [
            rec(
                CLUSTER_ROLE + "List",
                {"items": [{"metadata": {"name": "a"}, "rules": [rule(["get"], ["*"])]}]},
            )
        ],
        1,
    ),
    (
        "wildcard API groups in a RolePatch",
        "kubernetes-rbac-no-wildcards",
        [
            rec(
                ROLE + "Patch",
                {"metadata": {"name": "a"}, "rules": [rule(["get"], ["pods"], ["*"])]},
            )
        ],
        1,
    ),
    ("get on one named Secret", "kubernetes-rbac-secrets-by-name", [role(GET_BY_NAME)], 0),
    (
        "get, list and watch on every Secret",
        "kubernetes-rbac-secrets-by-name",
        [role(rule(["get", "list", "watch"], ["secrets"]), cluster=True)],
        1,
    ),
    ("get without names", "kubernetes-rbac-secrets-by-name", [role(rule(["get"], ["secrets"]))], 1),
    (
        # issue 21, class 5: the API server matches a named list/watch through a metadata.name
        # field selector; the rule reaches the named Secret only, like get
        "list restricted by names reaches the named Secret only",
        "kubernetes-rbac-secrets-by-name",
        [role(rule(["get", "list"], ["secrets"], names=["neural-trader-live-trading"]))],
        0,
    ),
    (
        "every resource of the core group, get",
        "kubernetes-rbac-secrets-by-name",
        [role(rule(["get"], ["*"]))],
        1,
    ),
    (
        "every group, secrets, watch",
        "kubernetes-rbac-secrets-by-name",
        [role(rule(["watch"], ["secrets"], ["*"]))],
        1,
    ),
    (
        "secrets of another API group are not Secrets",
        "kubernetes-rbac-secrets-by-name",
        [role(rule(["list"], ["secrets"], ["example.com"]))],
        0,
    ),
    (
        "update on Secrets reads none",
        "kubernetes-rbac-secrets-by-name",
        [role(rule(["update"], ["secrets"], names=["x"]))],
        0,
    ),
    ("a reader escalates nothing", "kubernetes-rbac-escalation", [role(GET_BY_NAME)], 0),
    (
        "escalate on roles",
        "kubernetes-rbac-escalation",
        [role(rule(["escalate"], ["roles"], ["rbac.authorization.k8s.io"]))],
        1,
    ),
    (
        "bind on clusterroles",
        "kubernetes-rbac-escalation",
        [role(rule(["bind"], ["clusterroles"], ["rbac.authorization.k8s.io"]), cluster=True)],
        1,
    ),
    (
        "impersonate service accounts",
        "kubernetes-rbac-escalation",
        [role(rule(["impersonate"], ["serviceaccounts"]))],
        1,
    ),
    ("exec into pods", "kubernetes-rbac-escalation", [role(rule(["create"], ["pods/exec"]))], 1),
    ("exec through */exec", "kubernetes-rbac-escalation", [role(rule(["get"], ["*/exec"]))], 1),
    (
        "get on nodes/proxy: the kubelet API (a WebSocket exec is a GET)",
        "kubernetes-rbac-escalation",
        [role(rule(["get"], ["nodes/proxy"]), cluster=True)],
        1,
    ),
    (
        "create on nodes/proxy of one named node",
        "kubernetes-rbac-escalation",
        [role(rule(["create"], ["nodes/proxy"], names=["node-1"]), cluster=True)],
        1,
    ),
    (
        "nodes/metrics and nodes/stats are not the kubelet's exec",
        "kubernetes-rbac-escalation",
        [role(rule(["get"], ["nodes/metrics", "nodes/stats", "nodes"]), cluster=True)],
        0,
    ),
    (
        "create pods is not exec",
        "kubernetes-rbac-escalation",
        [role(rule(["create", "get"], ["pods"]))],
        0,
    ),
    (
        "patch of admission webhooks",
        "kubernetes-rbac-escalation",
        [
            role(
                rule(
                    ["patch"], ["mutatingwebhookconfigurations"], ["admissionregistration.k8s.io"]
                ),
                cluster=True,
            )
        ],
        1,
    ),
    (
        "approval of certificate signing requests",
        "kubernetes-rbac-escalation",
        [
            role(
                rule(["update"], ["certificatesigningrequests/approval"], ["certificates.k8s.io"]),
                cluster=True,
            )
        ],
        1,
    ),
    (
        "reading certificate signing requests approves nothing",
        "kubernetes-rbac-escalation",
        [role(rule(["get", "list"], ["certificatesigningrequests"], ["certificates.k8s.io"]))],
        0,
    ),
    # ---- what each subject ends up able to do (stack) ------------------------------------------
    (
        "a workload's get-by-name Role bound in its namespace",
        "kubernetes-rbac-effective-secret-access",
        [role(GET_BY_NAME), binding("reader", sa())],
        0,
    ),
    (
        "named Secrets bound cluster-wide",
        "kubernetes-rbac-effective-secret-access",
        [
            role(GET_BY_NAME, cluster=True, name="named"),
            binding("named", sa(), role_kind="ClusterRole", cluster=True),
        ],
        1,
    ),
    (
        "a ClusterRole listing Secrets bound in one namespace",
        "kubernetes-rbac-effective-secret-access",
        [
            role(rule(["list"], ["secrets"]), cluster=True, name="lister"),
            binding("lister", sa(), role_kind="ClusterRole"),
        ],
        1,
    ),
    (
        "the built-in edit role bound to the default service account",
        "kubernetes-rbac-effective-secret-access",
        [binding("edit", sa("default"), role_kind="ClusterRole")],
        1,
    ),
    (
        "the built-in view role bound to a person",
        "kubernetes-rbac-effective-secret-access",
        [
            binding(
                "view", {"kind": "User", "name": "alice@neural-trader.io"}, role_kind="ClusterRole"
            )
        ],
        0,
    ),
    (
        "named Secrets granted to every service account of the namespace",
        "kubernetes-rbac-effective-secret-access",
        [
            role(GET_BY_NAME),
            binding("reader", {"kind": "Group", "name": f"system:serviceaccounts:{NS}"}),
        ],
        1,
    ),
    (
        "an aggregated ClusterRole picks up a Secret lister",
        "kubernetes-rbac-effective-secret-access",
        [
            rec(
                CLUSTER_ROLE,
                {
                    "metadata": {"name": "aggregate"},
                    "aggregationRule": {
                        "clusterRoleSelectors": [{"matchLabels": {"example.com/aggregate": "true"}}]
                    },
                    "rules": [],
                },
                name="aggregate",
            ),
            role(
                rule(["watch"], ["secrets"]),
                cluster=True,
                name="piece",
                labels={"example.com/aggregate": "true"},
            ),
            binding("aggregate", sa(), role_kind="ClusterRole"),
        ],
        1,
    ),
    # ---- Secrets declared by Pulumi ----------------------------------------------------------------
    (
        "stringData in plaintext",
        "kubernetes-secret-data-marked-secret",
        [rec(SECRET, {"metadata": {"name": "s"}, "stringData": PLAIN_DATA})],
        1,
    ),
    (
        "data as a Pulumi secret",
        "kubernetes-secret-data-marked-secret",
        [
            rec(
                SECRET,
                {
                    "metadata": {"name": "s"},
                    "data": {"OPENAI_API_KEY": "c2VjcmV0"},  # pragma: allowlist secret
                },
                secret_paths=("data",),
            )
        ],
        0,
    ),
    (
        "data not known yet (an output)",
        "kubernetes-secret-data-marked-secret",
        [rec(SECRET, {"metadata": {"name": "s"}, "data": {"K": UNKNOWN}})],
        0,
    ),
    (
        "a SecretPatch in plaintext",
        "kubernetes-secret-data-marked-secret",
        [rec(SECRET + "Patch", {"metadata": {"name": "s"}, "stringData": {"K": "v"}})],
        1,
    ),
    (
        "a SecretList item in plaintext",
        "kubernetes-secret-data-marked-secret",
        [rec(SECRET + "List", {"items": [{"metadata": {"name": "s"}, "data": {"K": "dg=="}}]})],
        1,
    ),
    # ---- workloads ----------------------------------------------------------------------------------
    ("Secrets mounted as files", "kubernetes-secrets-as-files", [deployment(MOUNTED)], 0),
    ("a secretKeyRef env var", "kubernetes-secrets-as-files", [deployment(pod(ENV_REF))], 1),
    (
        "envFrom a Secret in a CronJob",
        "kubernetes-secrets-as-files",
        [
            rec(
                CRON_JOB,
                {
                    "metadata": {"name": "nightly"},
                    "spec": {
                        "schedule": "0 3 * * *",
                        "jobTemplate": {
                            "spec": {
                                "template": {
                                    "spec": pod(
                                        {
                                            "name": "job",
                                            "image": "job",
                                            "envFrom": [
                                                {"secretRef": {"name": "neural-trader-backtest"}}
                                            ],
                                        }
                                    )
                                }
                            }
                        },
                    },
                },
            )
        ],
        1,
    ),
    (
        "an init container of a StatefulSetList item",
        "kubernetes-secrets-as-files",
        [
            rec(
                "kubernetes:apps/v1:StatefulSetList",
                {
                    "items": [
                        {
                            "spec": {
                                "template": {
                                    "spec": {"containers": [], "initContainers": [ENV_REF]}
                                }
                            }
                        }
                    ]
                },
            )
        ],
        1,
    ),
    (
        "a bare Pod",
        "kubernetes-secrets-as-files",
        [rec("kubernetes:core/v1:Pod", {"metadata": {"name": "p"}, "spec": pod(ENV_REF)})],
        1,
    ),
    (
        "no credential in a mounted workload",
        "kubernetes-no-credentials-in-specs",
        [deployment(MOUNTED)],
        0,
    ),
    (
        "a credential as an env value, even marked secret",
        "kubernetes-no-credentials-in-specs",
        [
            rec(
                DEPLOYMENT,
                {
                    "metadata": {"name": "trader"},
                    "spec": {
                        "template": {
                            "spec": pod(
                                {
                                    "name": "app",
                                    "image": "app",
                                    "env": [{"name": "OPENAI_API_KEY", "value": FAKE_OPENAI}],
                                }
                            )
                        }
                    },
                },
                secret_paths=("spec",),
            )
        ],
        1,
    ),
    (
        "a credential in a Job's args",
        "kubernetes-no-credentials-in-specs",
        [
            rec(
                "kubernetes:batch/v1:Job",
                {
                    "metadata": {"name": "j"},
                    "spec": {
                        "template": {
                            "spec": pod(
                                {"name": "j", "image": "j", "args": ["--key", FAKE_ANTHROPIC]}
                            )
                        }
                    },
                },
            )
        ],
        1,
    ),
    (
        "a credential in ConfigMap data",
        "kubernetes-no-credentials-in-specs",
        [rec(CONFIG_MAP, {"metadata": {"name": "c"}, "data": {"OPENAI_API_KEY": FAKE_OPENAI}})],
        1,
    ),
    (
        "a credential in a Service's annotations",
        "kubernetes-no-credentials-in-specs",
        [
            rec(
                "kubernetes:core/v1:Service",
                {"metadata": {"name": "s", "annotations": {"note": FAKE_OPENAI}}},
            )
        ],
        1,
    ),
    # ---- External Secrets ---------------------------------------------------------------------------
    (
        "a ClusterSecretStore restricted to the project's namespaces",
        "kubernetes-clustersecretstore-conditions",
        [
            rec(
                CLUSTER_STORE,
                {"spec": {"conditions": [{"namespaces": ["backtests", "live-trading"]}]}},
            )
        ],
        0,
    ),
    (
        "a ClusterSecretStore without conditions",
        "kubernetes-clustersecretstore-conditions",
        [rec(CLUSTER_STORE, {"spec": {"provider": {}}})],
        1,
    ),
    (
        "a condition matching every namespace",
        "kubernetes-clustersecretstore-conditions",
        [rec(CLUSTER_STORE, {"spec": {"conditions": [{"namespaceRegexes": [".*"]}]}})],
        1,
    ),
    (
        "an empty condition",
        "kubernetes-clustersecretstore-conditions",
        [rec(CLUSTER_STORE, {"spec": {"conditions": [{}]}})],
        1,
    ),
]


@pytest.mark.parametrize(
    ("case", "policy", "records", "expected"),
    KUBERNETES_CASES,
    ids=[c[0] for c in KUBERNETES_CASES],
)
def test_kubernetes_case(
    case: str, policy: str, records: list[ResourceRecord], expected: int
) -> None:
    found = [v for v in run(records).violations if v.policy == policy]
    assert len(found) == expected, [v.message for v in found]
    for v in found:
        assert "FAKE" not in v.message, "a violation must never quote a credential"


def test_every_kubernetes_policy_has_both_outcomes() -> None:
    from policies.kubernetes.registry import POLICIES
    from tests.policies.test_checkov_gaps import GAP_CASES

    ids = {p.spec.id for p in POLICIES}
    cases = (*KUBERNETES_CASES, *(c for c in GAP_CASES if c[1].startswith("kubernetes-")))
    assert ids == {c[1] for c in cases if c[3] > 0}
    assert ids == {c[1] for c in cases if c[3] == 0}


def _messages(records: list[ResourceRecord], policy: str) -> list[str]:
    return [v.message for v in run(records).violations if v.policy == policy]


def test_the_effective_access_names_the_subject_and_where() -> None:
    (message,) = _messages(
        [
            role(rule(["list"], ["secrets"]), cluster=True, name="lister"),
            binding("lister", sa(), role_kind="ClusterRole", cluster=True, name="everywhere"),
        ],
        "kubernetes-rbac-effective-secret-access",
    )
    assert message == (
        f"ServiceAccount {NS}/live-trader can read every Secret cluster-wide through "
        "ClusterRoleBinding everywhere (ClusterRole lister)"
    )


def test_a_correct_get_by_name_role_passes_the_whole_pack() -> None:
    records = [role(GET_BY_NAME), binding("reader", sa())]
    assert [v for v in run(records).violations if v.policy.startswith("kubernetes-")] == []


def test_a_binding_to_a_role_of_another_namespace_grants_nothing() -> None:
    other = rec(
        ROLE,
        {
            "metadata": {"name": "reader", "namespace": "elsewhere"},
            "rules": [rule(["list"], ["secrets"])],
        },
    )
    assert (
        _messages([other, binding("reader", sa())], "kubernetes-rbac-effective-secret-access") == []
    )
