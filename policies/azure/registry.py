"""Every Azure policy of the pack, in one list (``policies/pack.py`` reads it)."""

from __future__ import annotations

from policies.azure import (
    access,
    aks_cluster_access,
    aks_secret_store_rotation,
    aks_secrets_encryption,
    appconfig_cmk,
    appconfig_local_auth,
    appconfig_public_network_access,
    appconfig_purge_protection,
    audit,
    automation_variable_encrypted,
    functions,
    platform,
    secrets,
    vault,
)
from policies.framework import PackPolicy

POLICIES: list[PackPolicy] = [
    *access.POLICIES,
    *vault.POLICIES,
    *secrets.POLICIES,
    *audit.POLICIES,
    *platform.POLICIES,
    *functions.POLICIES,
    *aks_cluster_access.POLICIES,
    *aks_secrets_encryption.POLICIES,
    *aks_secret_store_rotation.POLICIES,
    *automation_variable_encrypted.POLICIES,
    *appconfig_local_auth.POLICIES,
    *appconfig_public_network_access.POLICIES,
    *appconfig_cmk.POLICIES,
    *appconfig_purge_protection.POLICIES,
]
