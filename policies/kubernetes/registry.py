"""Every Kubernetes policy of the pack, in one list (``policies/pack.py`` reads it)."""

from __future__ import annotations

from policies.framework import PackPolicy
from policies.kubernetes import (
    access,
    default_service_account,
    rbac,
    secrets,
    stores,
    workloads,
)

POLICIES: list[PackPolicy] = [
    *rbac.POLICIES,
    *access.POLICIES,
    *secrets.POLICIES,
    *workloads.POLICIES,
    *stores.POLICIES,
    *default_service_account.POLICIES,
]
