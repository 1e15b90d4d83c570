"""Google Cloud Secret Manager: the backend that keeps the estate in one project.

Settings block ``neural-trader-secrets:gcp`` (:class:`GcpSettings`). Resources: per replica
location a Cloud KMS key ring and key (the CMEK of that location's replicas), the Secret Manager
service agent allowed to use exactly those keys, one secret per stored secret with user-managed
replication, IAM granted on each secret from the estate, rotation notices through a CMEK-encrypted
Pub/Sub topic, workload service accounts (when asked to create them) and the project's data-access
audit logs for Secret Manager (``components.py``; names and grants in ``documents.py``, labels in
``labels.py``).

Importing this package registers the backend; it imports no Pulumi SDK (``deploy`` does).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from infra.access import RoleName
from infra.backends import StoreAddress, account_binding_problems, register
from infra.backends.gcp import documents, labels
from infra.backends.gcp.settings import GcpSettings
from infra.catalog import CatalogEntry, Environment
from infra.settings import NAMESPACE, StackSettings
from policies.contract.vocabulary import TAG_CATALOG_NAME, TAG_SERVICE

if TYPE_CHECKING:
    import pulumi

    from infra.backends.gcp.components import GcpSecrets
    from infra.backends.values import SecretValues
    from infra.estate import Estate

#: What Secret Manager accepts as a secret id.
SECRET_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,255}$")


class GcpBackend:
    name: str = "gcp"
    title: str = "Google Cloud Secret Manager"
    settings_model: type[BaseModel] = GcpSettings

    def check(self, settings: StackSettings, block: Any) -> Iterator[tuple[str, str]]:
        assert isinstance(block, GcpSettings)
        if settings.is_production and block.kms.destroy_scheduled_days < 30:
            yield (
                f"{NAMESPACE}gcp.kms.destroyScheduledDays",
                "must be at least 30 in production (a destroyed key version takes every "
                "secret version it encrypted with it)",
            )

    def name_problems(
        self, entry: CatalogEntry, environment: Environment, block: Any
    ) -> Iterator[str]:
        assert isinstance(block, GcpSettings)
        secret = documents.secret_id(entry, environment, block.secret_prefix)
        if not SECRET_ID_RE.fullmatch(secret):
            yield f"cannot hold the id {secret!r} (Secret Manager ids: 1-255 of A-Za-z0-9_-)"
        for key, value in ((TAG_CATALOG_NAME, entry.name), (TAG_SERVICE, entry.service)):
            try:
                labels.encode(key, value)
            except labels.LabelError as exc:
                yield f"cannot label it: {exc}"

    def locations(self, estate: Estate, block: Any) -> Mapping[str, str]:
        assert isinstance(block, GcpSettings)
        return documents.locations(estate, block)

    def identities(self, estate: Estate, block: Any) -> Mapping[RoleName, str]:
        assert isinstance(block, GcpSettings)
        return {r: m for r in estate.roles if (m := block.member(r)) is not None}

    def store_addresses(
        self, estate: Estate, block: Any, exports: Mapping[str, Any]
    ) -> Mapping[str | None, StoreAddress]:
        del estate, exports
        assert isinstance(block, GcpSettings)
        return {None: StoreAddress(address=block.project)}

    def remote_keys(self, estate: Estate, block: Any) -> Mapping[str, tuple[str | None, str]]:
        assert isinstance(block, GcpSettings)
        return {
            s.name: (None, documents.secret_id(s.entry, estate.environment, block.secret_prefix))
            for s in estate.secrets
        }

    def kubernetes_login_problems(
        self, block: Any, role: RoleName, namespace: str, account: str
    ) -> Iterator[tuple[str | None, str]]:
        """GKE workload identity lets in the one service account the role's created GCP service
        account is bound to (``gcp.workloads.<role>.create.kubernetes``)."""
        assert isinstance(block, GcpSettings)
        created = block.created(role)
        binding = created.kubernetes if created is not None else None
        yield from account_binding_problems(
            (binding.namespace, binding.name) if binding is not None else None,
            namespace,
            account,
            f"{NAMESPACE}gcp.workloads.{role}.create.kubernetes",
            "GKE workload identity",
            "GCP would refuse the workload's identity",
        )

    def deploy(
        self,
        name: str,
        estate: Estate,
        block: Any,
        values: SecretValues,
        opts: pulumi.ResourceOptions | None = None,
    ) -> GcpSecrets:
        from infra.backends.gcp.components import GcpSecrets

        assert isinstance(block, GcpSettings)
        return GcpSecrets(name, estate, block, values, opts=opts)


BACKEND = register(GcpBackend())


def gcp_settings(settings: StackSettings) -> GcpSettings:
    """The stack's validated GCP block (the stack must enable the GCP backend)."""
    block = settings.backend("gcp")
    assert isinstance(block, GcpSettings)
    return block
