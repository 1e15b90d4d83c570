"""Every Azure policy of the pack, in one list (``policies/pack.py`` reads it)."""

from __future__ import annotations

from policies.azure import keyvault
from policies.framework import PackPolicy

POLICIES: list[PackPolicy] = [
    *keyvault.POLICIES,
]
