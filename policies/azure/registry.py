"""Every Azure policy of the pack, in one list (``policies/pack.py`` reads it)."""

from __future__ import annotations

from policies.azure import access, audit, functions, platform, secrets, vault
from policies.framework import PackPolicy

POLICIES: list[PackPolicy] = [
    *access.POLICIES,
    *vault.POLICIES,
    *secrets.POLICIES,
    *audit.POLICIES,
    *platform.POLICIES,
    *functions.POLICIES,
]
