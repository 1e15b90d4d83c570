"""Every GCP policy of the pack, in one list (``policies/pack.py`` reads it)."""

from __future__ import annotations

from policies.framework import PackPolicy
from policies.gcp import access, audit, kms, platform, pubsub, secretmanager

POLICIES: list[PackPolicy] = [
    *access.POLICIES,
    *secretmanager.POLICIES,
    *kms.POLICIES,
    *audit.POLICIES,
    *pubsub.POLICIES,
    *platform.POLICIES,
]
