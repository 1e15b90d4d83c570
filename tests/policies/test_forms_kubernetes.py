"""Issue 21 class 1 on Kubernetes (pulumi-kubernetes 4): the same manifests as typed resources,
as objects of a ``yaml/v2`` ConfigGroup (``objs`` and ``yaml`` texts), with secret envelopes
around a Secret's whole ``data`` or its values, around containers, env lists or entries, and
ciphertext in a state. Compliant look-alikes give no finding; the same objects written wrong
still do."""

from __future__ import annotations

from typing import Any

import pytest

from tests.policies.forms import FormCase, R, cipher, env, form_params, judge

SECRET = "kubernetes:core/v1:Secret"  # pragma: allowlist secret (a type token)
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
GROUP = "kubernetes:yaml/v2:ConfigGroup"
MARKED = "kubernetes-secret-data-marked-secret"
AS_FILES = "kubernetes-secrets-as-files"
NO_CREDENTIALS = "kubernetes-no-credentials-in-specs"
POLICIES = (MARKED, AS_FILES, NO_CREDENTIALS)
RBAC = "kubernetes:rbac.authorization.k8s.io/v1:"
ROLE, ROLE_PATCH, CLUSTER_ROLE = f"{RBAC}Role", f"{RBAC}RolePatch", f"{RBAC}ClusterRole"
ROLE_LIST, CLUSTER_ROLE_LIST = f"{RBAC}RoleList", f"{RBAC}ClusterRoleList"
BINDING, CLUSTER_BINDING = f"{RBAC}RoleBinding", f"{RBAC}ClusterRoleBinding"
CLUSTER_BINDING_LIST = f"{RBAC}ClusterRoleBindingList"
CLUSTER_STORE = "kubernetes:external-secrets.io/v1:ClusterSecretStore"
WILDCARDS = "kubernetes-rbac-no-wildcards"
BY_NAME = "kubernetes-rbac-secrets-by-name"
ESCALATION = "kubernetes-rbac-escalation"
ACCESS = "kubernetes-rbac-effective-secret-access"
STORE_CONDITIONS = "kubernetes-clustersecretstore-conditions"
RBAC_POLICIES = (WILDCARDS, BY_NAME, ESCALATION, ACCESS)
FAKE_KEY = "AKIAIOSFODNN7EXAMPLE"  # pragma: allowlist secret (AWS's documented example)
META = {"name": "venue", "namespace": "trading"}
SECRET_NAME = "venue-api-key"  # pragma: allowlist secret (a name)


def deployment_spec(container: Any) -> dict[str, Any]:
    return {
        "selector": {"matchLabels": {"app": "venue"}},
        "template": {
            "metadata": {"labels": {"app": "venue"}},
            "spec": {
                "containers": container if not isinstance(container, dict) else [container],
                "volumes": [{"name": "creds", "secret": {"secretName": SECRET_NAME}}],
            },
        },
    }


#: a container that takes its credential as a file and its settings from a ConfigMap
FILES = {
    "name": "venue",
    "image": "ghcr.io/example/venue:1.0",
    "envFrom": [{"configMapRef": {"name": "venue-settings"}}],
    "env": [
        {"name": "LOG_LEVEL", "valueFrom": {"configMapKeyRef": {"name": "s", "key": "level"}}},
        {"name": "VENUE_KEY_FILE", "value": "/var/run/secrets/venue/api-key"},
    ],
    "volumeMounts": [{"name": "creds", "mountPath": "/var/run/secrets/venue", "readOnly": True}],
}
ENV_SECRET = {
    "name": "venue",
    "image": "ghcr.io/example/venue:1.0",
    "env": [
        {
            "name": "VENUE_API_KEY",
            "valueFrom": {"secretKeyRef": {"name": "venue-api-key", "key": "api-key"}},
        }
    ],
}


def deployment(container: Any, name: str = "dep") -> R:
    return R(DEPLOYMENT, name, {"metadata": META, "spec": deployment_spec(container)})


def manifest(kind: str, api: str, **body: Any) -> dict[str, Any]:
    return {"apiVersion": api, "kind": kind, "metadata": META, **body}


#: a rule reading one Secret by name, and one reading every Secret
NAMED_READ = {
    "apiGroups": [""],
    "resources": ["secrets"],
    "verbs": ["get"],
    "resourceNames": [SECRET_NAME],
}
ALL_READ = {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]}
SA = {"kind": "ServiceAccount", "name": "venue", "namespace": "trading"}


def role(rules: Any, name: str = "venue-reader") -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "trading"}, "rules": rules}


def binding(subjects: Any, role_name: str = "venue-reader", kind: str = "Role") -> dict[str, Any]:
    return {
        "metadata": {"name": "venue-reader", "namespace": "trading"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": role_name},
        "subjects": subjects,
    }


RBAC_YAML = """
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: venue-admin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects:
  - {kind: ServiceAccount, name: venue, namespace: trading}
"""

GROUP_YAML = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: venue, namespace: trading}
spec:
  selector: {matchLabels: {app: venue}}
  template:
    metadata: {labels: {app: venue}}
    spec:
      containers:
        - name: venue
          image: ghcr.io/example/venue:1.0
          env:
            - name: VENUE_API_KEY
              valueFrom: {secretKeyRef: {name: venue-api-key, key: api-key}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {LOG_LEVEL: info}
"""

CASES: list[FormCase] = [
    # ---- compliant look-alikes
    FormCase(
        "Secret whose whole data map is a Pulumi secret",
        (R(SECRET, "sec", {"metadata": META, "data": env({"api-key": "c2VjcmV0"})}),),
        frozenset(),
        POLICIES,
    ),
    FormCase(
        "Secret whose every value is a Pulumi secret",
        (R(SECRET, "sec", {"metadata": META, "stringData": {"api-key": env("not-shown")}}),),
        frozenset(),
        POLICIES,
    ),
    FormCase(
        "Secret data stored as ciphertext",
        (R(SECRET, "sec", {"metadata": META, "data": cipher()}),),
        frozenset(),
        POLICIES,
        state_only=True,
    ),
    FormCase(
        "Deployment: files and ConfigMap references, containers in an envelope",
        (deployment(env([FILES])),),
        frozenset(),
        POLICIES,
    ),
    FormCase(
        "Deployment: env entries enveloped one by one",
        (deployment({**FILES, "env": [env(e) for e in FILES["env"]]}),),
        frozenset(),
        POLICIES,
    ),
    FormCase(
        "ConfigGroup: a Deployment with files and a Secret with enveloped data",
        (
            R(
                GROUP,
                "group",
                {
                    "objs": [
                        manifest("Deployment", "apps/v1", spec=deployment_spec(FILES)),
                        manifest("Secret", "v1", data=env({"api-key": "c2VjcmV0"})),
                    ]
                },
            ),
        ),
        frozenset(),
        POLICIES,
    ),
    # ---- RBAC: rules, subjects and items in envelopes, Patch and List kinds, ConfigGroups
    FormCase(
        "Role and RoleBinding: rules, a rule's lists and subjects in envelopes, by name",
        (
            R(ROLE, "role", role(env([env({**NAMED_READ, "verbs": env(["get"])})]))),
            R(BINDING, "rb", binding(env([env(SA)]))),
        ),
        frozenset(),
        RBAC_POLICIES,
    ),
    FormCase(
        "RoleList and ClusterRoleBindingList: items enveloped, rules by name",
        (
            R(ROLE_LIST, "roles", {"items": env([role([NAMED_READ])])}),
            R(
                CLUSTER_BINDING_LIST,
                "crbs",
                {
                    "items": [
                        env(binding([SA], "view", "ClusterRole") | {"metadata": {"name": "v"}})
                    ]
                },
            ),
        ),
        frozenset(),
        RBAC_POLICIES,
    ),
    FormCase(
        "ConfigGroup objs: a Role reading one Secret by name and its binding",
        (
            R(
                GROUP,
                "group",
                {
                    "objs": [
                        manifest("Role", "rbac.authorization.k8s.io/v1", rules=[NAMED_READ]),
                        {
                            "apiVersion": "rbac.authorization.k8s.io/v1",
                            "kind": "RoleBinding",
                            **binding([SA], "venue"),
                        },
                    ]
                },
            ),
        ),
        frozenset(),
        RBAC_POLICIES,
    ),
    FormCase(
        "Role rules and binding subjects stored as ciphertext",
        (
            R(ROLE, "role", role(cipher())),
            R(BINDING, "rb", binding(cipher())),
        ),
        frozenset(),
        RBAC_POLICIES,
        state_only=True,
    ),
    FormCase(
        "Role: '*' verbs in an enveloped rule list, bound through enveloped subjects",
        (
            R(ROLE, "role", role(env([{**ALL_READ, "verbs": env(["*"])}]))),
            R(BINDING, "rb", binding(env([env(SA)]))),
        ),
        frozenset({(WILDCARDS, "role"), (BY_NAME, "role"), (ACCESS, "rb")}),
        RBAC_POLICIES,
    ),
    FormCase(
        "RolePatch reading every Secret, its verbs enveloped; ClusterRoleList items enveloped",
        (
            R(ROLE_PATCH, "patch", role([{**ALL_READ, "verbs": env(["list"])}])),
            R(
                CLUSTER_ROLE_LIST,
                "crs",
                {
                    "items": env(
                        [
                            {
                                "metadata": {"name": "exec"},
                                "rules": [
                                    {
                                        "apiGroups": [""],
                                        "resources": ["pods/exec"],
                                        "verbs": ["create"],
                                    }
                                ],
                            }
                        ]
                    )
                },
            ),
        ),
        frozenset({(BY_NAME, "patch"), (ESCALATION, "crs")}),
        RBAC_POLICIES,
    ),
    FormCase(
        "ClusterRole aggregating (enveloped selectors) a role that reads every Secret, bound",
        (
            R(
                CLUSTER_ROLE,
                "agg",
                {
                    "metadata": {"name": "venue-aggregate"},
                    "aggregationRule": {
                        "clusterRoleSelectors": env([{"matchLabels": {"venue/aggregate": "true"}}])
                    },
                },
            ),
            R(
                CLUSTER_ROLE,
                "part",
                {
                    "metadata": {"name": "venue-part", "labels": env({"venue/aggregate": "true"})},
                    "rules": [ALL_READ],
                },
            ),
            R(BINDING, "rb", binding([SA], "venue-aggregate", "ClusterRole")),
        ),
        frozenset({(ACCESS, "rb")}),
        (ACCESS,),
    ),
    FormCase(
        "ConfigGroup: a wildcard Role in objs, cluster-admin bound to a service account in yaml",
        (
            R(
                GROUP,
                "group",
                {
                    "objs": env(
                        [
                            manifest(
                                "Role",
                                "rbac.authorization.k8s.io/v1",
                                rules=[{**ALL_READ, "verbs": ["*"]}],
                            )
                        ]
                    ),
                    "yaml": RBAC_YAML,
                },
            ),
        ),
        frozenset({(WILDCARDS, "group"), (BY_NAME, "group"), (ACCESS, "group")}),
        RBAC_POLICIES,
    ),
    # ---- External Secrets: a ClusterSecretStore's conditions in envelopes
    FormCase(
        "ClusterSecretStore: conditions (and the spec) in envelopes, named namespaces",
        (
            R(
                CLUSTER_STORE,
                "css",
                {"spec": {"conditions": env([{"namespaces": env(["trading"])}])}},
            ),
            R(
                CLUSTER_STORE,
                "css2",
                {"spec": env({"conditions": [env({"namespaceRegexes": ["^trading-"]})]})},
            ),
        ),
        frozenset(),
        (STORE_CONDITIONS,),
    ),
    FormCase(
        "ClusterSecretStore: conditions stored as ciphertext, or unknown at preview",
        (
            R(CLUSTER_STORE, "css", {"spec": {"conditions": cipher()}}),
            R(CLUSTER_STORE, "css2", {"spec": {"conditions": [{"namespaceRegexes": [cipher()]}]}}),
        ),
        frozenset(),
        (STORE_CONDITIONS,),
        state_only=True,
    ),
    FormCase(
        "ClusterSecretStore: an enveloped condition matching every namespace; a ConfigGroup's",
        (
            R(
                CLUSTER_STORE,
                "css",
                {"spec": {"conditions": env([env({"namespaceRegexes": [".*"]})])}},
            ),
            R(
                GROUP,
                "group",
                {
                    "objs": [
                        {
                            "apiVersion": "external-secrets.io/v1",
                            "kind": "ClusterSecretStore",
                            "metadata": {"name": "all"},
                            "spec": {"provider": {"vault": {"server": "https://vault:8200"}}},
                        }
                    ]
                },
            ),
        ),
        frozenset({(STORE_CONDITIONS, "css"), (STORE_CONDITIONS, "group")}),
        (STORE_CONDITIONS,),
    ),
    # ---- still findings
    FormCase(
        "Secret with plaintext stringData",
        (R(SECRET, "sec", {"metadata": META, "stringData": {"api-key": "plain"}}),),
        frozenset({(MARKED, "sec")}),
        POLICIES,
    ),
    FormCase(
        "Deployment: secretKeyRef in an enveloped env list",
        (deployment({**ENV_SECRET, "env": env(ENV_SECRET["env"])}),),
        frozenset({(AS_FILES, "dep")}),
        POLICIES,
    ),
    FormCase(
        "Deployment: a credential in an enveloped env value is plain text in the cluster",
        (deployment({**FILES, "env": [{"name": "AWS_ACCESS_KEY_ID", "value": env(FAKE_KEY)}]}),),
        frozenset({(NO_CREDENTIALS, "dep")}),
        POLICIES,
    ),
    FormCase(
        "ConfigGroup objs: a Secret in plaintext and a Deployment taking it as env",
        (
            R(
                GROUP,
                "group",
                {
                    "objs": env(
                        [
                            manifest("Secret", "v1", stringData={"api-key": "plain"}),
                            manifest("Deployment", "apps/v1", spec=deployment_spec(ENV_SECRET)),
                        ]
                    )
                },
            ),
        ),
        frozenset({(AS_FILES, "group")}),  # the enveloped objs are Pulumi secrets
        POLICIES,
    ),
    FormCase(
        "ConfigGroup objs: a Secret in plaintext",
        (
            R(
                GROUP,
                "group",
                {"objs": [manifest("Secret", "v1", stringData={"api-key": "plain"})]},
            ),
        ),
        frozenset({(MARKED, "group")}),
        POLICIES,
    ),
    FormCase(
        "ConfigGroup yaml text: a Deployment taking a Secret as env",
        (R(GROUP, "group", {"yaml": GROUP_YAML}),),
        frozenset({(AS_FILES, "group")}),
        POLICIES,
    ),
]


@pytest.mark.parametrize(("case", "form"), form_params(CASES))
def test_kubernetes_forms(case: FormCase, form: str) -> None:
    assert judge(case, form) == case.expected
