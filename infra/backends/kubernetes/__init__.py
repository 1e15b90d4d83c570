"""Kubernetes delivery: the backend that brings the stores' secrets to the workloads' pods.

Not a store of its own: it reads the stores deployed before it (``backends`` order, the
:class:`infra.backends.Consumer` seam) and declares, in the workloads' namespace, a service account
per workload role (annotated with its cloud identity: IRSA role ARN, GKE service account, Azure
client id), a namespaced External Secrets ``SecretStore`` per store and workload (reached with the
workload's own identity), an ``ExternalSecret`` per workload listing exactly the secrets its role
reads, and a Role granting ``get`` on that one Secret by name, bound to its service account.

Settings block ``neural-trader-secrets:kubernetes`` (:class:`KubernetesSettings`); manifests in
``documents.py`` (pure); resources in ``components.py``. Importing this package registers the
backend; it imports no Pulumi SDK (``deploy_after`` does).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from infra.backends import Upstream, register, source_problems
from infra.backends.kubernetes import documents
from infra.backends.kubernetes.settings import STORES, KubernetesSettings
from infra.catalog import CatalogEntry, Environment
from infra.settings import NAMESPACE, RoleName, StackSettings

if TYPE_CHECKING:
    import pulumi

    from infra.backends.kubernetes.components import KubernetesDelivery
    from infra.estate import Estate

#: What a Secret accepts as a data key (the catalog name is the key).
DATA_KEY_RE = re.compile(r"^[-._a-zA-Z0-9]{1,253}$")
PREFIX = f"{NAMESPACE}kubernetes"


def _vault_problems(
    settings: StackSettings, block: KubernetesSettings, ns: str
) -> Iterator[tuple[str, str]]:
    from infra.backends.vault.settings import VaultSettings

    vault = settings.backend_settings.get("vault")
    if not isinstance(vault, VaultSettings):
        return
    if vault.kubernetes is None:
        yield (
            f"{NAMESPACE}vault.kubernetes",
            f"required: {PREFIX}.stores reads Vault through its Kubernetes auth",
        )
        return
    accounts = vault.kubernetes.service_accounts
    for role in block.roles():
        bound = accounts.backtest if role == "backtest" else accounts.live_trading
        ours = f"{ns}/{block.account(role)}"
        key = f"{PREFIX}.workloads.{role}.serviceAccount"
        vault_key = f"{NAMESPACE}vault.kubernetes.serviceAccounts.{role}"
        if bound is None:
            yield (key, f"{ours} has no Vault login: {vault_key} is not set")
        elif (bound.namespace, bound.name) != (ns, block.account(role)):
            yield (
                key,
                f"{ours} disagrees with {vault_key} ({bound.namespace}/{bound.name}): Vault "
                "would refuse the workload's login",
            )


def _aws_problems(
    settings: StackSettings, block: KubernetesSettings, ns: str
) -> Iterator[tuple[str, str]]:
    from infra.backends.aws.settings import AwsSettings, OidcPrincipal

    aws = settings.backend_settings.get("aws")
    if not isinstance(aws, AwsSettings):
        return
    for role in block.roles():
        subject = documents.service_account_user(ns, block.account(role))
        trusted = any(
            isinstance(p, OidcPrincipal) and subject in p.subjects
            for p in aws.principals.for_role(role)
        )
        if not trusted:
            yield (
                f"{PREFIX}.workloads.{role}.serviceAccount",
                f"{ns}/{block.account(role)} cannot assume the AWS role: "
                f"{NAMESPACE}aws.principals.{role} names no OIDC provider with the subject "
                f"{subject} (IRSA)",
            )


def _binding_problems(
    block: KubernetesSettings,
    ns: str,
    store_key: Callable[[RoleName], str],
    bound_account: Callable[[RoleName], tuple[str, str] | None],
    identity: str,
    refusal: str,
) -> Iterator[tuple[str, str]]:
    """Each workload's service account against the one a store binds its identity to."""
    for role in block.roles():
        key = store_key(role)
        ours = f"{ns}/{block.account(role)}"
        bound = bound_account(role)
        if bound is None:
            yield (
                f"{PREFIX}.workloads.{role}.serviceAccount",
                f"{ours} has no {identity}: {key} is not set",
            )
        elif bound != (ns, block.account(role)):
            yield (
                f"{PREFIX}.workloads.{role}.serviceAccount",
                f"{ours} disagrees with {key} ({bound[0]}/{bound[1]}): {refusal}",
            )


def _gcp_problems(
    settings: StackSettings, block: KubernetesSettings, ns: str
) -> Iterator[tuple[str, str]]:
    from infra.backends.gcp.settings import GcpSettings

    gcp = settings.backend_settings.get("gcp")
    if not isinstance(gcp, GcpSettings):
        return

    def bound(role: RoleName) -> tuple[str, str] | None:
        created = gcp.created(role)
        binding = created.kubernetes if created is not None else None
        return (binding.namespace, binding.name) if binding is not None else None

    yield from _binding_problems(
        block,
        ns,
        lambda role: f"{NAMESPACE}gcp.workloads.{role}.create.kubernetes",
        bound,
        "GKE workload identity",
        "GCP would refuse the workload's identity",
    )


def _azure_problems(
    settings: StackSettings, block: KubernetesSettings, ns: str
) -> Iterator[tuple[str, str]]:
    from infra.backends.azure.settings import AzureSettings

    azure = settings.backend_settings.get("azure")
    if not isinstance(azure, AzureSettings):
        return

    def bound(role: RoleName) -> tuple[str, str] | None:
        workload = azure.workload(role)
        federated = workload.kubernetes if workload is not None else None
        return (federated.namespace, federated.service_account) if federated is not None else None

    yield from _binding_problems(
        block,
        ns,
        lambda role: f"{NAMESPACE}azure.workloads.{role}.kubernetes",
        bound,
        "Azure workload identity",
        "Entra ID would refuse the workload's token",
    )


class KubernetesBackend:
    name: str = "kubernetes"
    title: str = "Kubernetes (External Secrets Operator)"
    settings_model: type[BaseModel] = KubernetesSettings

    def sources(self, settings: StackSettings, block: Any) -> tuple[str, ...]:
        assert isinstance(block, KubernetesSettings)
        return tuple(s for s in block.stores if s in settings.backends)

    def check(self, settings: StackSettings, block: Any) -> Iterator[tuple[str, str]]:
        assert isinstance(block, KubernetesSettings)
        yield from source_problems(settings, self.name, block.stores, f"{PREFIX}.stores")
        ns = block.namespace_for(settings.environment)
        enabled = [s for s in block.stores if s in settings.backends]
        checks = {
            "vault": _vault_problems,
            "aws": _aws_problems,
            "gcp": _gcp_problems,
            "azure": _azure_problems,
        }
        for store in enabled:
            if store in checks:
                yield from checks[store](settings, block, ns)

    def name_problems(
        self, entry: CatalogEntry, environment: Environment, block: Any
    ) -> Iterator[str]:
        del environment, block
        if not DATA_KEY_RE.fullmatch(entry.name):
            yield f"cannot be a Secret data key ({entry.name!r}: 1-253 of -._a-zA-Z0-9)"

    def locations(self, estate: Estate, block: Any) -> Mapping[str, str]:
        assert isinstance(block, KubernetesSettings)
        return documents.locations(estate, block)

    def identities(self, estate: Estate, block: Any) -> Mapping[RoleName, str]:
        assert isinstance(block, KubernetesSettings)
        ns = block.namespace_for(estate.environment)
        return {
            r: documents.service_account_user(ns, block.account(r))
            for r in block.roles()
            if documents.delivered(estate, r)
        }

    def deploy(
        self, name: str, estate: Estate, block: Any, opts: pulumi.ResourceOptions | None = None
    ) -> KubernetesDelivery:
        """Without sources: only when ``stores`` names no enabled backend (the settings check
        refuses that); the program calls :meth:`deploy_after`."""
        return self.deploy_after(name, estate, block, {}, opts)

    def deploy_after(
        self,
        name: str,
        estate: Estate,
        block: Any,
        upstream: Mapping[str, Upstream],
        opts: pulumi.ResourceOptions | None = None,
    ) -> KubernetesDelivery:
        from infra.backends.kubernetes.components import KubernetesDelivery

        assert isinstance(block, KubernetesSettings)
        return KubernetesDelivery(name, estate, block, upstream, opts=opts)


BACKEND = register(KubernetesBackend())

__all__ = ["BACKEND", "STORES", "KubernetesBackend", "KubernetesSettings"]
