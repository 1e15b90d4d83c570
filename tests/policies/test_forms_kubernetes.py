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
