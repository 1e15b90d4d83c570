"""Every Vault policy of the pack, in one list (``policies/pack.py`` reads it)."""

from __future__ import annotations

from policies.framework import PackPolicy
from policies.vault import audit, auth, kv, policy, provider, tokens, transit

POLICIES: list[PackPolicy] = [
    *policy.POLICIES,
    *auth.POLICIES,
    *audit.POLICIES,
    *transit.POLICIES,
    *kv.POLICIES,
    *tokens.POLICIES,
    *provider.POLICIES,
]
