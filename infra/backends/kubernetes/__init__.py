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
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from infra.access import RoleName
from infra.backends import (
    Upstream,
    kubernetes_readable,
    register,
    registry,
    source_problems,
)
from infra.backends.kubernetes import documents
from infra.backends.kubernetes.settings import STORES, KubernetesSettings
from infra.catalog import CatalogEntry, Environment
from infra.settings import NAMESPACE, StackSettings

if TYPE_CHECKING:
    import pulumi

    from infra.backends.kubernetes.components import KubernetesDelivery
    from infra.backends.values import SecretValues
    from infra.estate import Estate

#: What a Secret accepts as a data key (the catalog name is the key).
DATA_KEY_RE = re.compile(r"^[-._a-zA-Z0-9]{1,253}$")
PREFIX = f"{NAMESPACE}kubernetes"


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
        # Each source store says whether it lets each workload's service account in (the
        # KubernetesReadable seam): this backend does not read the stores' settings itself.
        ns = block.namespace_for(settings.environment)
        seen: set[tuple[str, str]] = set()
        for store in (s for s in block.stores if s in settings.backends):
            backend, store_block = registry()[store], settings.backend_settings.get(store)
            if store_block is None:
                continue  # its own block is invalid: reported by its validation
            for role in block.roles():
                account = block.account(role)
                found = kubernetes_readable(backend).kubernetes_login_problems(
                    store_block, role, ns, account
                )
                for key, reason in found:
                    problem = (
                        (key, reason)
                        if key is not None
                        else (
                            f"{PREFIX}.workloads.{role}.serviceAccount",
                            f"{ns}/{account} {reason}",
                        )
                    )
                    if problem not in seen:
                        seen.add(problem)
                        yield problem

    def estate_problems(self, estate: Estate, block: Any) -> Iterator[tuple[str, str]]:
        """A secret a workload reads whose home store the cluster does not read (``stores``):
        ESO reads every secret from its home, never from a copy it was not asked for."""
        assert isinstance(block, KubernetesSettings)
        missing: dict[str, list[str]] = {}
        for role in block.roles():
            for secret in documents.delivered(estate, role):
                if secret.home not in block.stores:
                    names = missing.setdefault(secret.home, [])
                    if secret.name not in names:
                        names.append(secret.name)
        for store, names in sorted(missing.items()):
            shown = ", ".join(sorted(names)[:3])
            more = f" and {len(names) - 3} more" if len(names) > 3 else ""
            yield (
                f"{PREFIX}.stores",
                f"does not name '{store}', the home store of {shown}{more}, which the "
                "workloads read",
            )

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
        self,
        name: str,
        estate: Estate,
        block: Any,
        values: SecretValues,
        opts: pulumi.ResourceOptions | None = None,
    ) -> KubernetesDelivery:
        """Without sources: only when ``stores`` names no enabled backend (the settings check
        refuses that); the program calls :meth:`deploy_after`. A delivery holds no value."""
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
