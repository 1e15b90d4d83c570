"""HashiCorp Vault (and OpenBao): KV v2 per environment, ACL policies from the access model,
Kubernetes/AppRole auth, a file audit device and transit key derivation.

Settings block ``neural-trader-secrets:vault`` (:class:`VaultSettings`); paths and policy texts in
``documents.py`` (pure); resources in ``components.py``. Importing this package registers the
backend; it imports no Pulumi SDK (``deploy`` does).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from infra.access import RoleName
from infra.backends import RotationJob, StoreAddress, register, replica_map
from infra.backends.vault import documents
from infra.backends.vault.settings import VaultSettings
from infra.catalog import CatalogEntry, Environment
from infra.settings import NAMESPACE, StackSettings

if TYPE_CHECKING:
    import pulumi

    from infra.backends.values import SecretValues
    from infra.backends.vault.components import VaultSecrets
    from infra.estate import Estate

#: What Vault accepts as KV path segments (and what stays readable in policy paths).
PATH_RE = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")


class VaultBackend:
    name: str = "vault"
    title: str = "HashiCorp Vault"
    settings_model: type[BaseModel] = VaultSettings

    def check(self, settings: StackSettings, block: Any) -> Iterator[tuple[str, str]]:
        """The rotation job logs in through Kubernetes auth; a secret Vault is home to reads its
        master secret from Vault (the job holds no other store's credentials)."""
        assert isinstance(block, VaultSettings)
        if block.rotation is not None and block.kubernetes is None:
            yield (
                f"{NAMESPACE}vault.rotation",
                f"the job logs in through Vault's Kubernetes auth: set {NAMESPACE}vault.kubernetes",
            )
        if (
            block.rotation is not None
            and settings.is_production
            and "@sha256:" not in block.rotation.image
        ):
            yield (
                f"{NAMESPACE}vault.rotation.image",
                "must be pinned by digest in production (@sha256:...): the job may write every "
                "secret Vault is home to",
            )
        if block.rotation is not None and block.kubernetes is not None:
            accounts = block.kubernetes.service_accounts
            job = (block.rotation.namespace, block.rotation.service_account)
            for role, bound in (
                ("backtest", accounts.backtest),
                ("live-trading", accounts.live_trading),
            ):
                if bound is not None and (bound.namespace, bound.name) == job:
                    yield (
                        f"{NAMESPACE}vault.rotation.serviceAccount",
                        f"is {role}'s service account ({job[0]}/{job[1]}); the rotation job "
                        "needs its own, so that no workload pod holds its write access",
                    )
        homed = {n for n, p in settings.placements.items() if p.home == self.name}
        masters = [
            (f"{NAMESPACE}databases.{name}.masterSecret", db.master_secret)
            for name, db in sorted(settings.databases.items())
            if name in homed and db.master_secret is not None
        ]
        if settings.redis is not None and "REDIS_PASSWORD" in homed:
            masters.append((f"{NAMESPACE}redis.masterSecret", settings.redis.master_secret))
        for key, raw in masters:
            if documents.vault_master_secret(raw, "x") is None:
                yield (
                    key,
                    "names another store's secret, but Vault is the home of the secret it "
                    "rotates: the Vault rotation job reads master secrets from Vault only "
                    "(<mount>/data/<path>, or a path in the secret's mount)",
                )

    def name_problems(
        self, entry: CatalogEntry, environment: Environment, block: Any
    ) -> Iterator[str]:
        del environment, block
        path = documents.secret_path(entry)
        if not PATH_RE.fullmatch(path):
            yield f"cannot hold the path {path!r} (Vault KV paths: A-Za-z0-9_.- segments)"

    def locations(self, estate: Estate, block: Any) -> Mapping[str, str]:
        assert isinstance(block, VaultSettings)
        # The KV v2 API path: what ACL policies name (at ``<address>/v1/<path>``).
        mount = documents.kv_mount(block.mount_prefix, estate.environment)
        return {s.name: f"{mount}/data/{documents.secret_path(s.entry)}" for s in estate.secrets}

    def identities(self, estate: Estate, block: Any) -> Mapping[RoleName, str]:
        assert isinstance(block, VaultSettings)
        out: dict[RoleName, str] = {}
        for role in estate.roles:
            if documents.role_policy(estate, role, prefix=block.mount_prefix) is not None:
                out[role] = "policy " + documents.policy_name(
                    block.mount_prefix, estate.environment, role
                )
        return out

    def store_addresses(
        self, estate: Estate, block: Any, exports: Mapping[str, Any]
    ) -> Mapping[str | None, StoreAddress]:
        assert isinstance(block, VaultSettings)
        assert block.kubernetes is not None  # refused by the Kubernetes settings check
        return {
            None: StoreAddress(
                address=block.address,
                path=exports.get("mount")
                or documents.kv_mount(block.mount_prefix, estate.environment),
                auth_mount=f"kubernetes-{estate.environment.value}",
                audience=block.kubernetes.audience,
            )
        }

    def remote_keys(self, estate: Estate, block: Any) -> Mapping[str, tuple[str | None, str]]:
        del block
        return {s.name: (None, documents.secret_path(s.entry)) for s in estate.secrets}

    def kubernetes_login_problems(
        self, block: Any, role: RoleName, namespace: str, account: str
    ) -> Iterator[tuple[str | None, str]]:
        """Vault's Kubernetes auth logs in exactly the service account
        ``vault.kubernetes.serviceAccounts.<role>`` names."""
        assert isinstance(block, VaultSettings)
        if block.kubernetes is None:
            yield (
                f"{NAMESPACE}vault.kubernetes",
                f"required: {NAMESPACE}kubernetes.stores reads Vault through its Kubernetes auth",
            )
            return
        accounts = block.kubernetes.service_accounts
        bound = accounts.backtest if role == "backtest" else accounts.live_trading
        key = f"{NAMESPACE}vault.kubernetes.serviceAccounts.{role}"
        if bound is None:
            yield None, f"has no Vault login: {key} is not set"
        elif (bound.namespace, bound.name) != (namespace, account):
            yield (
                None,
                f"disagrees with {key} ({bound.namespace}/{bound.name}): Vault would refuse the "
                "workload's login",
            )

    def rotation_jobs(self, estate: Estate, block: Any) -> list[RotationJob]:
        """The rotation job of the secrets Vault is home to (none without ``vault.rotation`` or
        without such a secret): ``python -m infra.rotation.vault_job``, logging in through the
        environment's Kubernetes auth mount as the ``secret-rotation`` role."""
        assert isinstance(block, VaultSettings)
        job, k8s = block.rotation, block.kubernetes
        rotated = documents.rotated_addresses(estate, block.mount_prefix)
        if job is None or k8s is None or not rotated:
            return []
        ids = {s.name: address for s, address in zip(estate.rotated, rotated, strict=True)}
        env = {
            "VAULT_ADDR": block.address,
            "NT_VAULT_K8S_ROLE": documents.ROTATION_ROLE,
            "NT_VAULT_K8S_MOUNT": f"kubernetes-{estate.environment.value}",
            "NT_VAULT_K8S_TOKEN_PATH": documents.ROTATION_TOKEN_PATH,
            "NT_VAULT_ROTATION_SECRETS": json.dumps(rotated),
            "NT_ROTATION_REPLICAS": replica_map(estate, ids),
        }
        return [
            RotationJob(
                store=self.name,
                name=documents.ROTATION_JOB,
                namespace=job.namespace,
                service_account=job.service_account,
                schedule=job.schedule,
                time_zone=job.time_zone,
                image=job.image,
                command=("python", "-m", "infra.rotation.vault_job"),
                env=env,
                token_audience=k8s.audience,
                token_path=documents.ROTATION_TOKEN_PATH,
                secrets=tuple(ids),
            )
        ]

    def deploy(
        self,
        name: str,
        estate: Estate,
        block: Any,
        values: SecretValues,
        opts: pulumi.ResourceOptions | None = None,
    ) -> VaultSecrets:
        from infra.backends.vault.components import VaultSecrets

        assert isinstance(block, VaultSettings)
        return VaultSecrets(name, estate, block, values, opts=opts)


BACKEND = register(VaultBackend())
