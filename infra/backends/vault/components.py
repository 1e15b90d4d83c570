"""The Vault adapter: component resources that translate the estate into HashiCorp Vault.

One ComponentResource per concern (type tokens ``neural-trader:vault:<Name>``), every child
parented to its component. Policies are the estate's grants spelled as ACL paths
(``documents.py``); values never reach Pulumi state (write-only ``data_json_wo``).
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_vault as vault

from infra.access import ROLE_NAMES, RoleName
from infra.backends.values import SecretValues
from infra.backends.vault import documents
from infra.backends.vault.settings import VaultSettings
from infra.estate import Estate, ExternalValue
from infra.rotation.driver import BOOKKEEPING_KEYS
from policies.contract.vocabulary import TAG_ROTATION_PERIOD_DAYS

#: The workload roles that log in from Kubernetes (one service account each).
WORKLOAD_ROLES: tuple[RoleName, ...] = ("backtest", "live-trading")
#: Version of the write-only value: bump it (a catalog or code change) to write a value again.
VALUE_VERSION = 1
#: What the rotation writes into a secret's custom metadata (``infra/rotation/vault_store.py``):
#: never reverted by the next ``pulumi up``.
ROTATION_BOOKKEEPING = BOOKKEEPING_KEYS


class KvStore(pulumi.ComponentResource):
    """The environment's KV v2 mount (check-and-set required, bounded versions) and one secret
    per stored secret of the estate, its labels as custom metadata."""

    mount: vault.Mount
    secrets: dict[str, vault.kv.SecretV2]

    def __init__(
        self,
        name: str,
        estate: Estate,
        settings: VaultSettings,
        values: SecretValues,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("neural-trader:vault:KvStore", name, None, opts)
        env = estate.environment
        path = documents.kv_mount(settings.mount_prefix, env)
        keep = pulumi.ResourceOptions(parent=self, protect=estate.protected)
        self.mount = vault.Mount(
            f"{name}-mount",
            path=path,
            type="kv",
            options={"version": "2"},
            description=f"neural-trader {env.value} secrets (KV v2)",
            opts=keep,
        )
        config = vault.kv.SecretBackendV2(
            f"{name}-config",
            mount=self.mount.path,
            cas_required=True,
            max_versions=settings.max_versions,
            delete_version_after=settings.delete_version_after,
            opts=pulumi.ResourceOptions(parent=self.mount),
        )
        self.secrets = {}
        for stored in estate.secrets:
            material = values.value(stored)
            # Write-only: the value goes to Vault, never into Pulumi state. The placeholder of a
            # third-party key put out of band is an empty object, never a value.
            data: pulumi.Input[str] = (
                pulumi.Output.secret(material.apply(lambda v: json.dumps({"value": v})))
                if material is not None
                else "{}"
            )
            self.secrets[stored.name] = vault.kv.SecretV2(
                stored.logical_name,
                mount=self.mount.path,
                name=documents.secret_path(stored.entry),
                data_json_wo=data,
                data_json_wo_version=VALUE_VERSION,
                # The first write creates the secret (check-and-set version 0); afterwards the
                # value is owned by rotation or by the operator, never rewritten by Pulumi.
                cas=0,
                custom_metadata={
                    "max_versions": settings.max_versions,
                    "cas_required": True,
                    "delete_version_after": settings.delete_version_after,
                    # Vault KV has no rotation schedule: the labels say the class, strategy and
                    # period, for the rotation job and for reviewers (README, "Vault").
                    "data": {
                        **stored.labels(),
                        **(
                            {TAG_ROTATION_PERIOD_DAYS: str(stored.rotation.period_days)}
                            if stored.rotation is not None
                            else {}
                        ),
                    },
                },
                # A third-party key is put by an operator; Pulumi never reads it back.
                disable_read=isinstance(stored.value, ExternalValue),
                opts=pulumi.ResourceOptions(
                    parent=self,
                    protect=estate.protected,
                    depends_on=[config],
                    ignore_changes=[f'customMetadata.data["{k}"]' for k in ROTATION_BOOKKEEPING],
                ),
            )
        self.register_outputs({"mount": self.mount.path})


class AccessPolicies(pulumi.ComponentResource):
    """One ACL policy per role of the access model, exact paths only."""

    policies: dict[RoleName, vault.Policy]

    def __init__(
        self,
        name: str,
        estate: Estate,
        settings: VaultSettings,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("neural-trader:vault:AccessPolicies", name, None, opts)
        self.policies = {}
        for role in ROLE_NAMES:
            text = documents.role_policy(estate, role, prefix=settings.mount_prefix)
            if text is None:
                pulumi.log.info(f"vault role {role}: nothing to grant; no policy")
                continue
            self.policies[role] = vault.Policy(
                role,
                name=documents.policy_name(settings.mount_prefix, estate.environment, role),
                policy=text,
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs({"policies": {r: p.name for r, p in self.policies.items()}})


class WorkloadAuth(pulumi.ComponentResource):
    """How workloads and CI log in: Kubernetes auth (one role per workload, bound to exactly one
    service account and namespace, with an audience and short TTLs) and an AppRole for CI
    (single-use, short-lived secret ids bound to CI's networks)."""

    roles: dict[str, pulumi.CustomResource]

    def __init__(
        self,
        name: str,
        estate: Estate,
        settings: VaultSettings,
        policies: dict[RoleName, vault.Policy],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("neural-trader:vault:WorkloadAuth", name, None, opts)
        env = estate.environment.value
        self.roles = {}
        self.kubernetes: vault.AuthBackend | None = None
        k8s = settings.kubernetes
        if k8s is not None:
            backend = self.kubernetes = vault.AuthBackend(
                f"{name}-kubernetes",
                type="kubernetes",
                path=f"kubernetes-{env}",
                description=f"neural-trader {env} workloads",
                opts=pulumi.ResourceOptions(parent=self),
            )
            vault.kubernetes.AuthBackendConfig(
                f"{name}-kubernetes-config",
                backend=backend.path,
                kubernetes_host=k8s.host,
                kubernetes_ca_cert=k8s.ca_cert,
                opts=pulumi.ResourceOptions(parent=backend),
            )
            for role in WORKLOAD_ROLES:
                account = (
                    k8s.service_accounts.backtest
                    if role == "backtest"
                    else (k8s.service_accounts.live_trading)
                )
                if account is None:
                    continue
                if role not in policies:
                    pulumi.log.warn(
                        f"vault: {role} is granted nothing in {env}; its service account "
                        f"{account.namespace}/{account.name} gets no login"
                    )
                    continue
                self.roles[role] = vault.kubernetes.AuthBackendRole(
                    f"{name}-{role}",
                    backend=backend.path,
                    role_name=role,
                    bound_service_account_names=[account.name],
                    bound_service_account_namespaces=[account.namespace],
                    audience=k8s.audience,
                    token_ttl=k8s.token_ttl,
                    token_max_ttl=k8s.token_max_ttl,
                    token_policies=[policies[role].name],
                    token_no_default_policy=True,
                    token_type="service",  # noqa: S106 (a token kind, not a token)
                    opts=pulumi.ResourceOptions(parent=backend),
                )
        ci = settings.app_role
        if ci is not None and ci.role not in policies:
            pulumi.log.warn(f"vault: CI's role {ci.role} is granted nothing in {env}; no AppRole")
        if ci is not None and ci.role in policies:
            backend = vault.AuthBackend(
                f"{name}-approle",
                type="approle",
                path=f"approle-{env}",
                description=f"neural-trader {env} CI",
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.roles["ci"] = vault.approle.AuthBackendRole(
                f"{name}-ci",
                backend=backend.path,
                role_name="ci",
                bind_secret_id=True,
                secret_id_num_uses=ci.secret_id_num_uses,
                secret_id_ttl=ci.secret_id_ttl,
                secret_id_bound_cidrs=list(ci.token_bound_cidrs),
                token_bound_cidrs=list(ci.token_bound_cidrs),
                token_ttl=ci.token_ttl,
                token_max_ttl=ci.token_max_ttl,
                token_policies=[policies[ci.role].name],
                token_no_default_policy=True,
                opts=pulumi.ResourceOptions(parent=backend),
            )
        self.register_outputs({})


class RotationIdentity(pulumi.ComponentResource):
    """Who the rotation job is in Vault: an ACL policy over exactly the secrets Vault is home to
    and rotates (plus their Vault replicas and master secrets, ``vault_store.job_policy``), and a
    Kubernetes auth role bound to exactly the job's service account, with the workloads' audience
    and TTLs, that policy alone and no default policy. The CronJob itself is the Kubernetes
    delivery's (``rotation_jobs``)."""

    policy: vault.Policy
    role: vault.kubernetes.AuthBackendRole

    def __init__(
        self,
        name: str,
        estate: Estate,
        settings: VaultSettings,
        backend: vault.AuthBackend,
        text: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("neural-trader:vault:RotationIdentity", name, None, opts)
        job, k8s = settings.rotation, settings.kubernetes
        assert job is not None and k8s is not None
        self.policy = vault.Policy(
            documents.ROTATION_ROLE,
            name=documents.rotation_policy_name(settings.mount_prefix, estate.environment),
            policy=text,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.role = vault.kubernetes.AuthBackendRole(
            f"{name}-role",
            backend=backend.path,
            role_name=documents.ROTATION_ROLE,
            bound_service_account_names=[job.service_account],
            bound_service_account_namespaces=[job.namespace],
            audience=k8s.audience,
            token_ttl=k8s.token_ttl,
            token_max_ttl=k8s.token_max_ttl,
            token_policies=[self.policy.name],
            token_no_default_policy=True,
            token_type="service",  # noqa: S106 (a token kind, not a token)
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"policy": self.policy.name, "role": documents.ROTATION_ROLE})


class KeyDerivation(pulumi.ComponentResource):
    """Key derivation the Vault way (seed §6): a transit mount with one key per purpose, rotated on
    its catalog secret's schedule, never exportable, backed up or deleted. Encryption and signing
    keys are derived (callers pass a context per use); Vault's HMAC takes no context, so the MAC
    key is not derived. No application-side KDF."""

    keys: dict[str, vault.transit.SecretBackendKey]

    def __init__(
        self,
        name: str,
        estate: Estate,
        settings: VaultSettings,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("neural-trader:vault:KeyDerivation", name, None, opts)
        env = estate.environment
        mount = vault.Mount(
            f"{name}-mount",
            path=documents.transit_mount(settings.mount_prefix, env),
            type="transit",
            description=f"neural-trader {env.value} derived keys",
            opts=pulumi.ResourceOptions(parent=self, protect=estate.protected),
        )
        self.keys = {}
        for purpose, spec in documents.purposes_in(estate).items():
            rotation = estate.secret(spec.catalog_name).rotation
            days = rotation.period_days if rotation is not None else 90
            self.keys[purpose] = vault.transit.SecretBackendKey(
                f"{name}-{purpose}",
                backend=mount.path,
                name=purpose,
                type=spec.key_type,
                derived=spec.derived,
                exportable=False,
                allow_plaintext_backup=False,
                deletion_allowed=False,
                auto_rotate_period=days * 86400,
                opts=pulumi.ResourceOptions(parent=mount, protect=estate.protected),
            )
        self.register_outputs({"keys": sorted(self.keys)})


class VaultSecrets(pulumi.ComponentResource):
    """The whole Vault estate of one environment (the backend's top-level component)."""

    exports: dict[str, Any]

    def __init__(
        self,
        name: str,
        estate: Estate,
        settings: VaultSettings,
        values: SecretValues,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("neural-trader:vault:VaultSecrets", name, None, opts)
        # The token comes from VAULT_TOKEN at deploy time: it is never an input here.
        provider = vault.Provider(
            f"{name}-provider",
            address=settings.address,
            max_lease_ttl_seconds=1200,
            opts=pulumi.ResourceOptions(parent=self),
        )
        child = pulumi.ResourceOptions(parent=self, providers={"vault": provider})
        self.kv = KvStore("kv", estate, settings, values, opts=child)
        self.access = AccessPolicies("policies", estate, settings, opts=child)
        self.auth = WorkloadAuth("auth", estate, settings, self.access.policies, opts=child)
        self.transit = KeyDerivation("transit", estate, settings, opts=child)
        self.rotation: RotationIdentity | None = None
        text = documents.rotation_job_policy(estate, settings.mount_prefix)
        if settings.rotation is not None and self.auth.kubernetes is not None and text:
            self.rotation = RotationIdentity(
                "rotation", estate, settings, self.auth.kubernetes, text, opts=child
            )
        elif estate.rotated:
            pulumi.log.warn(
                f"vault: {len(estate.rotated)} secrets Vault is home to rotate, but "
                "vault.rotation is not set: no rotation job runs (docs/rotation.md)"
            )
        # Audit: a file device that HMACs every secret field (log_raw stays off). OpenBao 2.x only
        # accepts audit devices from its server configuration (settings: audit.declaredIn).
        if settings.audit.declared_in == "api":
            vault.Audit(
                f"{name}-audit",
                type="file",
                path="file",
                description=f"neural-trader {estate.environment.value} audit log",
                options={
                    "file_path": settings.audit.file_path,
                    "log_raw": "false",
                    "format": "json",
                },
                opts=child,
            )
        else:
            pulumi.log.info(
                "vault: the audit device is declared in the server configuration (docs/vault.md)"
            )
        mount = documents.kv_mount(settings.mount_prefix, estate.environment)
        self.exports = {
            "secrets": {
                s.name: f"{mount}/data/{documents.secret_path(s.entry)}" for s in estate.secrets
            },
            "identities": {r: p.name for r, p in self.access.policies.items()},
            "mount": mount,
            "transitKeys": sorted(self.transit.keys),
            "revokedSecrets": [s.name for s in estate.revoked],
        }
        if self.rotation is not None:
            job = settings.rotation
            assert job is not None
            self.exports["rotationJob"] = {
                "kind": "CronJob",
                "name": documents.ROTATION_JOB,
                "namespace": job.namespace,
                "serviceAccount": job.service_account,
                "schedule": job.schedule,
                "policy": self.rotation.policy.name,
                "authRole": documents.ROTATION_ROLE,
                "secrets": [s.name for s in estate.rotated],
            }
        self.register_outputs(self.exports)
