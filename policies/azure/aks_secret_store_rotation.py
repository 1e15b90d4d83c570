"""``azure-aks-secret-store-rotation`` (checkov CKV_AZURE_172): an AKS cluster running the Key
Vault Secrets Store CSI driver add-on polls Key Vault for new secret versions (azure-native
``addonProfiles.azureKeyvaultSecretsProvider.config.enableSecretRotation`` = ``"true"``; classic
``keyVaultSecretsProvider.secretRotationEnabled``). Without it a rotated secret reaches pods only
when they restart: the old value keeps working in the cluster after rotation.

A cluster without the add-on is not judged (checkov fails it; there is nothing to rotate).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from policies.framework import PackPolicy, Resource, Spec, resource_policy
from policies.lib.shapes import declare, pick, reveal, truthy
from policies.model import UNKNOWN, Category, Severity

NATIVE_CLUSTER = "azure-native:containerservice:ManagedCluster"
CLASSIC_CLUSTER = "azure:containerservice/kubernetesCluster:KubernetesCluster"
_ADDONS = declare((NATIVE_CLUSTER,), "addonProfiles")
ADDON = "azureKeyvaultSecretsProvider"

SPEC = Spec(
    id="azure-aks-secret-store-rotation",
    description="AKS clusters with the Key Vault Secrets Store CSI driver rotate mounted secrets "
    "(enableSecretRotation)",
    severity=Severity.MEDIUM,
    category=Category.ROTATION,
    remediation="Set addonProfiles.azureKeyvaultSecretsProvider.config.enableSecretRotation to "
    "'true' (and rotationPollInterval, default 2m); classic: keyVaultSecretsProvider."
    "secretRotationEnabled.",
    resource_types=(NATIVE_CLUSTER, CLASSIC_CLUSTER),
    checkov=("CKV_AZURE_172",),
)


def _check(r: Resource, report: Callable[[str], None]) -> None:
    if r.type == NATIVE_CLUSTER:
        for profiles in pick(r.props, _ADDONS):
            if profiles == UNKNOWN or not isinstance(profiles, Mapping):
                continue
            addon = reveal(profiles.get(ADDON))
            if not isinstance(addon, Mapping) or not truthy(reveal(addon.get("enabled"))):
                continue
            rotation = [reveal(v) for v in pick(addon, "config.enableSecretRotation")]
            if UNKNOWN in rotation or any(truthy(v) for v in rotation):
                continue
            report(
                f"addonProfiles.{ADDON} does not rotate secrets: set config.enableSecretRotation "
                "'true'"
            )
        return
    for provider in pick(r.props, "keyVaultSecretsProvider|keyVaultSecretsProviders"):
        if provider == UNKNOWN:
            continue
        rotation = [reveal(v) for v in pick(provider, "secretRotationEnabled")]
        if UNKNOWN in rotation or any(truthy(v) for v in rotation):
            continue
        report("keyVaultSecretsProvider does not rotate secrets: set secretRotationEnabled")


POLICIES: list[PackPolicy] = [resource_policy(SPEC, _check)]
