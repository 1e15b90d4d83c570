"""``azure-aks-secrets-encryption`` (CIS AKS; checkov has no check): an AKS cluster encrypts
Kubernetes Secrets in etcd with a Key Vault key (KMS etcd encryption: azure-native
``securityProfile.azureKeyVaultKms.enabled`` with a ``keyId``; classic
``keyManagementService.keyVaultKeyId``). Without it Secrets sit in etcd under platform-managed
encryption only.

Envelopes at any depth are read; unknown values are not judged.
"""

from __future__ import annotations

from collections.abc import Callable

from policies.framework import PackPolicy, Resource, Spec, resource_policy
from policies.lib.shapes import OPAQUE, declare, pick, reveal, truthy
from policies.model import UNKNOWN, Category, Severity

NATIVE_CLUSTER = "azure-native:containerservice:ManagedCluster"
CLASSIC_CLUSTER = "azure:containerservice/kubernetesCluster:KubernetesCluster"
_ENABLED = declare((NATIVE_CLUSTER,), "securityProfile.azureKeyVaultKms.enabled")
_KEY = declare((NATIVE_CLUSTER,), "securityProfile.azureKeyVaultKms.keyId")
_CLASSIC_KEY = "keyManagementService|keyManagementServices.keyVaultKeyId"

SPEC = Spec(
    id="azure-aks-secrets-encryption",
    description="AKS clusters encrypt Kubernetes Secrets in etcd with a Key Vault key (KMS etcd "
    "encryption)",
    severity=Severity.HIGH,
    category=Category.ENCRYPTION,
    remediation="Set securityProfile.azureKeyVaultKms = {enabled: true, keyId: <key version "
    "URL>, keyVaultNetworkAccess: 'Private', keyVaultResourceId: ...} (classic: "
    "keyManagementService.keyVaultKeyId).",
    resource_types=(NATIVE_CLUSTER, CLASSIC_CLUSTER),
)


def _check(r: Resource, report: Callable[[str], None]) -> None:
    if r.type == NATIVE_CLUSTER:
        enabled = [reveal(v) for v in pick(r.props, _ENABLED)]
        keys = [reveal(v) for v in pick(r.props, _KEY)]
    else:
        enabled = []
        keys = [reveal(v) for v in pick(r.props, _CLASSIC_KEY)]
    if any(v == UNKNOWN or v in OPAQUE for v in (*enabled, *keys)):
        return
    has_key = any(isinstance(k, str) and k for k in keys)
    if r.type == NATIVE_CLUSTER and not any(truthy(v) for v in enabled):
        report(
            "securityProfile.azureKeyVaultKms is not enabled: Secrets in etcd have no KMS encryption"
        )
    elif not has_key:
        report("no Key Vault key encrypts Secrets in etcd (KMS etcd encryption is off)")


POLICIES: list[PackPolicy] = [resource_policy(SPEC, _check)]
