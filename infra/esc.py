"""Pulumi ESC environment definitions generated from a stack's estate.

``nt-secrets env esc`` prints them; a stack with an ``esc`` settings block declares them as
``pulumiservice:index:Environment`` resources, so ``pulumi up`` keeps them in step with the catalog.

An ESC environment holds references, never values: an OIDC login per store that is home to at
least one secret, one ``fn::open::<store>-secrets`` block per home store reading each stored
secret from its **home** copy, and ``environmentVariables`` mapping every stored catalog name to
an interpolation of what that block returns. Three layers, as ESC users layer them: a shared
``base`` (the OIDC conventions every environment uses) imported by one environment per
deployment environment (``<project>/<environment>``: what workloads and developers open), and a
``<project>/<environment>-deploy`` environment for the stack itself: a login per enabled cloud as
the deploying identity, and ``pulumiConfig`` giving each provider its credentials from those
logins (the stack file imports it with ``environment:``). Readers and deployers never share an
environment: opening the readers' one gives no deploy rights.

The provider inputs follow ESC's provider documentation (docs/esc.md cites the pages):

- ``aws-login``: ``oidc: {roleArn, sessionName, duration}``
- ``gcp-login``: ``project`` (the project **number**), ``oidc: {workloadPoolId, providerId,
  serviceAccount}``
- ``azure-login``: ``clientId``, ``tenantId``, ``subscriptionId``, ``oidc: true``
- ``vault-login``: ``address``, ``jwt: {role}``
- ``aws-secrets``: ``region``, ``login``, ``get: {<name>: {secretId}}`` (returns the string)
- ``gcp-secrets``: ``login``, ``access: {<name>: {name}}`` (returns the payload)
- ``azure-secrets``: ``login``, ``vault``, ``get: {<name>: {name}}`` (returns the value)
- ``vault-secrets``: ``login``, ``read: {<name>: {path}}`` (returns the read's ``data``: for a
  KV v2 mount the path is ``<mount>/data/<path>`` and the value is under ``data.value``)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

import yaml

from infra.backends import KubernetesReadable, enabled
from infra.backends.vault.documents import kv_mount
from infra.estate import Estate
from infra.settings import StackSettings

LAYERS = ("base", "env", "deploy")
#: The stores ESC can read, in the order their blocks are written.
ESC_STORES = ("aws", "vault", "gcp", "azure")
#: Identifiers no stack file knows: the organisation writes them once into the environment.
GCP_PROJECT_NUMBER = "SET-ME-gcp-project-number"
AZURE_CLIENT_ID = "SET-ME-azure-application-client-id"
AZURE_DEPLOY_CLIENT_ID = "SET-ME-azure-deploy-application-client-id"
#: The OIDC conventions of the base layer (the names ESC's OIDC guides use).
BASE_OIDC = {
    "sessionName": "pulumi-esc",
    "duration": "1h",
    "gcp": {"workloadPoolId": "pulumi-esc", "providerId": "pulumi-esc"},
}


class EscError(ValueError):
    """A stack ESC cannot describe (the CLI exits 2)."""


@dataclass(frozen=True)
class EscEnvironments:
    project: str
    environment: str
    base_name: str
    env_name: str
    base: dict[str, Any]
    env: dict[str, Any]
    #: catalog name -> (home store, the interpolation that reads it)
    references: Mapping[str, tuple[str, str]]
    deploy_name: str = ""
    deploy: dict[str, Any] | None = None

    def layers(self) -> list[tuple[str, str, dict[str, Any]]]:
        """(layer, environment name, definition) of every layer, base first."""
        out = [("base", self.base_name, self.base), ("env", self.env_name, self.env)]
        if self.deploy is not None:
            out.append(("deploy", self.deploy_name, self.deploy))
        return out


def _vault_name(uri: str) -> str:
    return (urlsplit(uri).hostname or uri).split(".", 1)[0]


def _aws(view: Estate, block: Any, env: str, keys: Mapping[str, tuple[str | None, str]]) -> Any:
    login = {
        "fn::open::aws-login": {
            "oidc": {
                "roleArn": f"arn:aws:iam::{block.account_id}:role/neural-trader-{env}-esc",
                "sessionName": "${oidc.sessionName}",
                "duration": "${oidc.duration}",
            }
        }
    }
    get = {s.name: {"secretId": keys[s.name][1]} for s in view.secrets}
    secrets = {
        "fn::open::aws-secrets": {"region": block.region, "login": "${aws.login}", "get": get}
    }
    refs = {s.name: f"${{aws.secrets.{s.name}}}" for s in view.secrets}
    return {"login": login, "secrets": secrets}, refs


def _gcp(view: Estate, block: Any, env: str, keys: Mapping[str, tuple[str | None, str]]) -> Any:
    login = {
        "fn::open::gcp-login": {
            "project": GCP_PROJECT_NUMBER,
            "oidc": {
                "workloadPoolId": "${oidc.gcp.workloadPoolId}",
                "providerId": "${oidc.gcp.providerId}",
                "serviceAccount": f"neural-trader-{env}-esc@{block.project}.iam.gserviceaccount.com",
            },
        }
    }
    access = {s.name: {"name": keys[s.name][1]} for s in view.secrets}
    secrets = {"fn::open::gcp-secrets": {"login": "${gcp.login}", "access": access}}
    refs = {s.name: f"${{gcp.secrets.{s.name}}}" for s in view.secrets}
    return {"login": login, "secrets": secrets}, refs


def _azure(
    view: Estate,
    block: Any,
    keys: Mapping[str, tuple[str | None, str]],
    addresses: Mapping[str | None, Any],
) -> Any:
    login = {
        "fn::open::azure-login": {
            "clientId": AZURE_CLIENT_ID,
            "tenantId": block.tenant_id,
            "subscriptionId": block.subscription_id,
            "oidc": True,
        }
    }
    by_vault: dict[str, dict[str, Any]] = {}
    refs: dict[str, str] = {}
    for s in view.secrets:
        partition, name = keys[s.name]
        vault = _vault_name(str(addresses[partition].address))
        by_vault.setdefault(vault, {})[s.name] = {"name": name}
        refs[s.name] = f"${{azure.secrets.{vault}.{s.name}}}"
    secrets = {
        vault: {"fn::open::azure-secrets": {"login": "${azure.login}", "vault": vault, "get": get}}
        for vault, get in sorted(by_vault.items())
    }
    return {"login": login, "secrets": secrets}, refs


def _vault(
    view: Estate,
    block: Any,
    env: str,
    keys: Mapping[str, tuple[str | None, str]],
    mount: str,
) -> Any:
    login = {
        "fn::open::vault-login": {
            "address": block.address.rstrip("/"),
            "jwt": {"role": f"neural-trader-{env}-esc"},
        }
    }
    read = {s.name: {"path": f"{mount}/data/{keys[s.name][1]}"} for s in view.secrets}
    secrets = {"fn::open::vault-secrets": {"login": "${vault.login}", "read": read}}
    refs = {s.name: f"${{vault.secrets.{s.name}.data.value}}" for s in view.secrets}
    return {"login": login, "secrets": secrets}, refs


#: Deploy layer: what each provider reads from a login, as ESC's login pages document it
#: (environment variables the providers read; docs/esc.md cites the pages).
DEPLOY_ENV: Mapping[str, Mapping[str, str]] = {
    "aws": {
        "AWS_ACCESS_KEY_ID": "${aws.login.accessKeyId}",
        "AWS_SECRET_ACCESS_KEY": "${aws.login.secretAccessKey}",
        "AWS_SESSION_TOKEN": "${aws.login.sessionToken}",
    },
    "gcp": {
        "GOOGLE_CLOUD_PROJECT": "${gcp.login.project}",
        "GOOGLE_OAUTH_ACCESS_TOKEN": "${gcp.login.accessToken}",
    },
    "azure": {
        "ARM_USE_OIDC": "true",
        "ARM_CLIENT_ID": "${azure.login.clientId}",
        "ARM_TENANT_ID": "${azure.login.tenantId}",
        "ARM_SUBSCRIPTION_ID": "${azure.login.subscriptionId}",
        "ARM_OIDC_TOKEN": "${azure.login.oidc.token}",
    },
    "vault": {"VAULT_TOKEN": "${vault.login.token}"},
}


def _deploy_logins(settings: StackSettings, env: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The deploying identity's login per enabled cloud, and the provider settings
    (``pulumiConfig``) a stack takes from the environment."""
    values: dict[str, Any] = {}
    config: dict[str, Any] = {}
    identity = f"neural-trader-{env}-deploy"
    for backend, block in enabled(settings):
        if backend.name == "aws":
            values["aws"] = {
                "login": {
                    "fn::open::aws-login": {
                        "oidc": {
                            "roleArn": f"arn:aws:iam::{block.account_id}:role/{identity}",
                            "sessionName": "${oidc.sessionName}",
                            "duration": "${oidc.duration}",
                        }
                    }
                }
            }
            config["aws:region"] = block.region
        elif backend.name == "gcp":
            values["gcp"] = {
                "login": {
                    "fn::open::gcp-login": {
                        "project": GCP_PROJECT_NUMBER,
                        "oidc": {
                            "workloadPoolId": "${oidc.gcp.workloadPoolId}",
                            "providerId": "${oidc.gcp.providerId}",
                            "serviceAccount": f"{identity}@{block.project}.iam.gserviceaccount.com",
                        },
                    }
                }
            }
            config["gcp:project"] = block.project
        elif backend.name == "azure":
            values["azure"] = {
                "login": {
                    "fn::open::azure-login": {
                        "clientId": AZURE_DEPLOY_CLIENT_ID,
                        "tenantId": block.tenant_id,
                        "subscriptionId": block.subscription_id,
                        "oidc": True,
                    }
                }
            }
        elif backend.name == "vault":
            address = block.address.rstrip("/")
            values["vault"] = {
                "login": {"fn::open::vault-login": {"address": address, "jwt": {"role": identity}}}
            }
            config["vault:address"] = address
    variables = {k: v for store in values for k, v in DEPLOY_ENV.get(store, {}).items()}
    return {**values, "pulumiConfig": config, "environmentVariables": variables}, config


def definitions(
    project: str, stack: str, settings: StackSettings, estate: Estate
) -> EscEnvironments:
    """Every layer for one stack's environment. EscError when a home store has no ESC provider."""
    env = settings.environment.value
    values: dict[str, Any] = {}
    references: dict[str, tuple[str, str]] = {}
    homes = {s.home for s in estate.secrets}
    unreadable = sorted(homes - set(ESC_STORES))
    if unreadable:
        raise EscError(f"stack {stack}: ESC has no provider for the home store {unreadable[0]!r}")
    blocks = {b.name: (b, blk) for b, blk in enabled(settings)}
    for store in ESC_STORES:
        if store not in homes:
            continue  # no login for a store that is home to nothing
        backend, block = blocks[store]
        if not isinstance(backend, KubernetesReadable):  # it names its secrets to readers
            raise EscError(f"stack {stack}: {store} cannot name its secrets to a reader")
        # Only the secrets whose home it is: a replica is never the copy ESC reads.
        view = estate.held_by(store)
        # Keys and addresses from the store's whole view (Azure partitions by it).
        keys = backend.remote_keys(view, block)
        addresses = backend.store_addresses(view, block, {}) if store == "azure" else {}
        homed = replace(view, secrets=tuple(s for s in view.secrets if s.home == store))
        if store == "aws":
            values["aws"], refs = _aws(homed, block, env, keys)
        elif store == "gcp":
            values["gcp"], refs = _gcp(homed, block, env, keys)
        elif store == "azure":
            values["azure"], refs = _azure(homed, block, keys, addresses)
        else:
            mount = kv_mount(block.mount_prefix, settings.environment)
            values["vault"], refs = _vault(homed, block, env, keys, mount)
        references.update({name: (store, ref) for name, ref in refs.items()})
    base_name = f"{project}/base"
    env_name = f"{project}/{env}"
    base = {"values": {"neuralTrader": {"project": project}, "oidc": BASE_OIDC}}
    definition = {
        "imports": [base_name],
        "values": {
            **values,
            "environmentVariables": {n: references[n][1] for n in sorted(references)},
        },
    }
    deploy_values, _config = _deploy_logins(settings, env)
    return EscEnvironments(
        project=project,
        environment=env,
        base_name=base_name,
        env_name=env_name,
        base=base,
        env=definition,
        references=references,
        deploy_name=f"{project}/{env}-deploy",
        deploy={"imports": [base_name], "values": deploy_values},
    )


def render(envs: EscEnvironments, layer: str | None = None) -> str:
    """YAML for one layer, or every layer as documents (base first) with a comment naming each."""
    out: list[str] = []
    for which, name, doc in envs.layers():
        if layer is not None and layer != which:
            continue
        out.append(f"# ESC environment {name}\n" + document_text(doc))
    return "---\n".join(out)


def document_text(doc: Mapping[str, Any]) -> str:
    """One environment definition as ESC's YAML."""
    return yaml.safe_dump(dict(doc), sort_keys=False, default_flow_style=False, width=100)
