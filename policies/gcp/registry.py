"""Every GCP policy of the pack, in one list (``policies/pack.py`` reads it)."""

from __future__ import annotations

from policies.framework import PackPolicy
from policies.gcp import (
    access,
    audit,
    gke_legacy_access,
    gke_metadata_server,
    gke_secrets_encryption,
    iam_default_service_account,
    kms,
    platform,
    pubsub,
    secretmanager,
)

POLICIES: list[PackPolicy] = [
    *access.POLICIES,
    *secretmanager.POLICIES,
    *kms.POLICIES,
    *audit.POLICIES,
    *pubsub.POLICIES,
    *platform.POLICIES,
    *iam_default_service_account.POLICIES,
    *gke_secrets_encryption.POLICIES,
    *gke_legacy_access.POLICIES,
    *gke_metadata_server.POLICIES,
]
