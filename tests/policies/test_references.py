"""Issue 21, class 3: names and references are not values. Typed references (Kubernetes
``valueFrom.secretKeyRef``/``envFrom.secretRef``, chart values that name a Secret or a key in one,
ECS ``secrets[].valueFrom``, Lambda variables holding an ARN or a secret's name, GCP
``secretEnvironmentVariables``, Azure ``secretRef``/Key Vault references, Vault templates,
``${...}`` interpolations) are not reported as plaintext credentials on any store; a literal
credential in the same places still is. Judged as plan-like records and as a state (inputs and
outputs). Fixture credentials are obviously fake."""

from __future__ import annotations

import json
from typing import Any

import pytest

from policies.model import Category
from policies.pack import ALL
from tests.policies.forms import R, as_records, as_state, env, findings

#: the policies that report a credential held in plaintext (``kubernetes-secrets-as-files`` is
#: about how a referenced Secret is exposed, CKV_K8S_35, not about a value)
PLAINTEXT = tuple(
    p.spec.id
    for p in ALL
    if p.spec.category is Category.PLAINTEXT and p.spec.id != "kubernetes-secrets-as-files"
)
FAKE_PW = "Tr4d1ng-FAKE-pw-2024!"  # pragma: allowlist secret
FAKE_ANTHROPIC = (
    "sk-ant-api03-FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE-FAKEFAKE"  # pragma: allowlist secret
)
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
RELEASE = "kubernetes:helm.sh/v3:Release"
CHART = "kubernetes:helm.sh/v4:Chart"
TASK = "aws:ecs/taskDefinition:TaskDefinition"
LAMBDA = "aws:lambda/function:Function"
RUN = "gcp:cloudrunv2/service:Service"
FUNCTION = "gcp:cloudfunctionsv2/function:Function"
CONTAINER_APP = "azure-native:app:ContainerApp"
WEB_APP = "azure-native:web:WebApp"
VAULT_DB = "vault:database/secretBackendConnection:SecretBackendConnection"


def deployment(
    envs: list[dict[str, Any]], annotations: dict[str, str] | None = None, **spec: Any
) -> dict[str, Any]:
    return {
        "metadata": {"name": "app", "annotations": annotations or {}},
        "spec": {
            "template": {
                "metadata": {"annotations": annotations or {}},
                "spec": {"containers": [{"name": "app", "image": "app:1", "env": envs, **spec}]},
            }
        },
    }


def task(**container: Any) -> dict[str, Any]:
    return {
        "family": "app",
        "containerDefinitions": json.dumps([{"name": "app", "image": "app:1", **container}]),
    }


REFERENCES: list[tuple[str, R]] = [
    (
        "kubernetes env valueFrom.secretKeyRef and envFrom.secretRef",
        R(
            DEPLOYMENT,
            "d",
            deployment(
                [
                    {
                        "name": "DB_PASSWORD",
                        "valueFrom": {
                            "secretKeyRef": {"name": "db-credentials", "key": "password"}
                        },
                    },
                    {
                        "name": "API_TOKEN",
                        "valueFrom": {"secretKeyRef": {"name": "trading-api", "key": "api-token"}},
                    },
                ],
                envFrom=[{"secretRef": {"name": "broker-secret"}}],
            ),
        ),
    ),
    (
        "vault agent annotations naming secret paths",
        R(
            DEPLOYMENT,
            "d",
            deployment(
                [],
                {
                    "vault.hashicorp.com/agent-inject": "true",
                    "vault.hashicorp.com/agent-inject-secret-db-creds": "database/creds/db-app",
                    "vault.hashicorp.com/role": "app",
                },
            ),
        ),
    ),
    (
        "helm values naming a Secret and its keys",
        R(
            RELEASE,
            "h",
            {
                "chart": "redis",
                "values": {
                    "auth": {
                        "enabled": True,
                        "existingSecret": "redis-auth",
                        "existingSecretPasswordKey": "redis-password",
                    },
                    "postgresql": {
                        "auth": {
                            "existingSecret": "pg",
                            "secretKeys": {
                                "adminPasswordKey": "postgres-password",
                                "userPasswordKey": "password",
                                "replicationPasswordKey": "replication-password",
                            },
                        }
                    },
                },
            },
        ),
    ),
    (
        "helm v4 chart: existingSecret, userKey, passwordKey, apiKeySecret",
        R(
            CHART,
            "h",
            {
                "chart": "grafana",
                "values": {
                    "admin": {
                        "existingSecret": "grafana-admin",
                        "userKey": "admin-user",
                        "passwordKey": "admin-password",
                    },
                    "alpaca": {"apiKeySecret": "alpaca-keys", "apiKeySecretKey": "ALPACA_API_KEY"},
                },
            },
        ),
    ),
    (
        "helm values wrapped in a secret envelope",
        R(
            RELEASE,
            "h",
            {
                "chart": "redis",
                "values": env(
                    {"auth": {"existingSecret": "redis-auth", "passwordKey": "redis-password"}}
                ),
            },
        ),
    ),
    (
        "ECS secrets[].valueFrom: Secrets Manager JSON key and SSM parameter ARNs",
        R(
            TASK,
            "t",
            task(
                secrets=[
                    {"name": "DB_PASSWORD", "valueFrom": f"{SECRET_ARN}:password::"},
                    {
                        "name": "API_TOKEN",
                        "valueFrom": "arn:aws:ssm:us-east-1:123456789012:parameter/prod/api-token",
                    },
                    {"name": "BROKER_TOKEN", "valueFrom": "prod-broker-token"},
                ]
            ),
        ),
    ),
    (
        "Lambda variables holding an ARN, a secret's name or path, an interpolation",
        R(
            LAMBDA,
            "f",
            {
                "environment": {
                    "variables": {
                        "DB_PASSWORD_SECRET_ARN": SECRET_ARN,
                        "DB_PASSWORD": SECRET_ARN,
                        "OPENAI_API_KEY_SECRET": "openai-api-key",
                        "API_TOKEN_PARAMETER": "/prod/api/token",
                        "JWT_SECRET": "prod/trading/jwt",
                        "BROKER_TOKEN": "${broker_token}",
                        "DB_PASSWORD_TEMPLATE": "{{resolve:secretsmanager:db:SecretString:password}}",
                    }
                }
            },
        ),
    ),
    (
        "Cloud Run env valueSource.secretKeyRef",
        R(
            RUN,
            "s",
            {
                "template": {
                    "containers": [
                        {
                            "image": "x",
                            "envs": [
                                {
                                    "name": "API_KEY",
                                    "valueSource": {
                                        "secretKeyRef": {"secret": "api-key", "version": "latest"}
                                    },
                                }
                            ],
                        }
                    ]
                }
            },
        ),
    ),
    (
        "Cloud Functions secretEnvironmentVariables and secretVolumes",
        R(
            FUNCTION,
            "f",
            {
                "serviceConfig": {
                    "secretEnvironmentVariables": [
                        {
                            "key": "DB_PASSWORD",
                            "projectId": "p",
                            "secret": "db-password",
                            "version": "latest",
                        }
                    ],
                    "secretVolumes": [
                        {"mountPath": "/etc/secrets", "projectId": "p", "secret": "broker-token"}
                    ],
                    "environmentVariables": {"DB_PASSWORD_SECRET": "db-password"},
                }
            },
        ),
    ),
    (
        "Container Apps secretRef and Key Vault secrets",
        R(
            CONTAINER_APP,
            "c",
            {
                "configuration": {
                    "secrets": [
                        {
                            "name": "db-password",
                            "keyVaultUrl": "https://kv.vault.azure.net/secrets/db-password",
                            "identity": "system",
                        }
                    ]
                },
                "template": {
                    "containers": [
                        {
                            "name": "app",
                            "image": "x",
                            "env": [{"name": "DB_PASSWORD", "secretRef": "db-password"}],
                        }
                    ]
                },
            },
        ),
    ),
    (
        "App Service Key Vault references",
        R(
            WEB_APP,
            "w",
            {
                "siteConfig": {
                    "appSettings": [
                        {
                            "name": "DB_PASSWORD",
                            "value": "@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/db/)",
                        },
                        {
                            "name": "API_KEY",
                            "value": "@Microsoft.KeyVault(VaultName=kv;SecretName=api-key)",
                        },
                    ]
                }
            },
        ),
    ),
    (
        "Vault database connection URL template",
        R(
            VAULT_DB,
            "v",
            {
                "backend": "database",
                "name": "pg",
                "postgresql": {
                    "connectionUrl": "postgresql://{{username}}:{{password}}@db:5432/app",
                    "username": "vault",
                },
            },
        ),
    ),
]

LITERALS: list[tuple[str, R]] = [
    (
        "kubernetes env literal",
        R(DEPLOYMENT, "d", deployment([{"name": "DB_PASSWORD", "value": FAKE_PW}])),
    ),
    (
        "helm password literal beside an empty existingSecret",
        R(
            RELEASE,
            "h",
            {"chart": "redis", "values": {"auth": {"password": FAKE_PW, "existingSecret": ""}}},
        ),
    ),
    (
        "helm passwordKey holding a password",
        R(RELEASE, "h", {"chart": "redis", "values": {"auth": {"passwordKey": FAKE_PW}}}),
    ),
    (
        "helm existingSecret holding a key format",
        R(RELEASE, "h", {"chart": "x", "values": {"existingSecret": "AKIAIOSFODNN7EXAMPLE"}}),
    ),  # pragma: allowlist secret
    (
        "ECS environment literal",
        R(TASK, "t", task(environment=[{"name": "DB_PASSWORD", "value": FAKE_PW}])),
    ),
    (
        "ECS valueFrom holding a key",
        R(TASK, "t", task(secrets=[{"name": "API_KEY", "valueFrom": FAKE_ANTHROPIC}])),
    ),
    ("Lambda literal", R(LAMBDA, "f", {"environment": {"variables": {"DB_PASSWORD": FAKE_PW}}})),
    (
        "Lambda shell default holding a literal",
        R(
            LAMBDA,
            "f",
            {"environment": {"variables": {"DB_PASSWORD": "${DB_PASSWORD:-" + FAKE_PW + "}"}}},
        ),
    ),
    (
        "Lambda ...Secret variable holding a password",
        R(LAMBDA, "f", {"environment": {"variables": {"OPENAI_API_KEY_SECRET": FAKE_PW}}}),
    ),
    (
        "Cloud Functions literal",
        R(FUNCTION, "f", {"serviceConfig": {"environmentVariables": {"DB_PASSWORD": FAKE_PW}}}),
    ),
    (
        "Cloud Functions reference object holding a password",
        R(
            FUNCTION,
            "f",
            {
                "serviceConfig": {
                    "secretEnvironmentVariables": [
                        {
                            "key": "DB_PASSWORD",
                            "projectId": "p",
                            "secret": FAKE_PW,
                            "version": "latest",
                        }
                    ]
                }
            },
        ),
    ),
    (
        "Container Apps literal env",
        R(
            CONTAINER_APP,
            "c",
            {
                "template": {
                    "containers": [
                        {
                            "name": "app",
                            "image": "x",
                            "env": [{"name": "DB_PASSWORD", "value": FAKE_PW}],
                        }
                    ]
                }
            },
        ),
    ),
    (
        "App Service literal",
        R(
            WEB_APP,
            "w",
            {"siteConfig": {"appSettings": [{"name": "DB_PASSWORD", "value": FAKE_PW}]}},
        ),
    ),
    (
        "Vault connection URL with a password",
        R(
            VAULT_DB,
            "v",
            {
                "backend": "database",
                "name": "pg",
                "postgresql": {"connectionUrl": "postgresql://vault:Tr4d1ngFAKEpw2024@db:5432/app"},
            },
        ),
    ),  # pragma: allowlist secret
]


@pytest.mark.parametrize("form", ["records", "state"])
@pytest.mark.parametrize(("case", "resource"), REFERENCES, ids=[c[0] for c in REFERENCES])
def test_references_are_not_credentials(case: str, resource: R, form: str) -> None:
    records = as_records([resource]) if form == "records" else as_state([resource])
    assert findings(records, PLAINTEXT) == set()


@pytest.mark.parametrize("form", ["records", "state"])
@pytest.mark.parametrize(("case", "resource"), LITERALS, ids=[c[0] for c in LITERALS])
def test_literals_in_the_same_places_are(case: str, resource: R, form: str) -> None:
    records = as_records([resource]) if form == "records" else as_state([resource])
    assert findings(records, PLAINTEXT), "a literal credential must still be reported"
