"""``azure-aks-cluster-access`` (checkov CKV_AZURE_5, CKV_AZURE_141; CIS AKS 4.1, 5.x): an AKS
cluster authorises with Kubernetes RBAC and has its local accounts disabled. Without RBAC every
authenticated user is cluster admin; a local account's ``clusterAdmin`` kubeconfig is a static
credential anyone with ``listClusterAdminCredential`` on the resource can fetch, outside Entra ID
and its audit.

Both azure-native (``enableRBAC``, ``disableLocalAccounts``) and the classic provider
(``roleBasedAccessControlEnabled``, ``localAccountDisabled``) are read; unknown values are not
judged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from policies.framework import PackPolicy, Resource, Spec, resource_policy
from policies.lib.shapes import declare, reveal, truthy
from policies.model import UNKNOWN, Category, Severity

NATIVE_CLUSTER = "azure-native:containerservice:ManagedCluster"
CLASSIC_CLUSTER = "azure:containerservice/kubernetesCluster:KubernetesCluster"
CLUSTER_TYPES = (NATIVE_CLUSTER, CLASSIC_CLUSTER)
declare((NATIVE_CLUSTER,), "enableRBAC")
declare((NATIVE_CLUSTER,), "disableLocalAccounts")

SPEC = Spec(
    id="azure-aks-cluster-access",
    description="AKS clusters authorise with Kubernetes RBAC and have local accounts disabled "
    "(no static cluster-admin kubeconfig)",
    severity=Severity.HIGH,
    category=Category.OVER_PERMISSIVE,
    remediation="Set enableRBAC: true and disableLocalAccounts: true with Entra ID integration "
    "(aadProfile.managed); classic provider: roleBasedAccessControlEnabled and "
    "localAccountDisabled.",
    resource_types=CLUSTER_TYPES,
    checkov=("CKV_AZURE_5", "CKV_AZURE_141"),
)


def _value(r: Resource, native: str, classic: str) -> Any:
    return reveal(r.props.get(native if r.type == NATIVE_CLUSTER else classic))


def _check(r: Resource, report: Callable[[str], None]) -> None:
    rbac = _value(r, "enableRBAC", "roleBasedAccessControlEnabled")
    if rbac is not None and rbac != UNKNOWN and not truthy(rbac):
        report("Kubernetes RBAC is disabled: every authenticated user is cluster admin")
    local = _value(r, "disableLocalAccounts", "localAccountDisabled")
    if local != UNKNOWN and not truthy(local):
        report(
            "local accounts are enabled: a static cluster-admin kubeconfig can be fetched "
            "outside Entra ID"
        )


POLICIES: list[PackPolicy] = [resource_policy(SPEC, _check)]
