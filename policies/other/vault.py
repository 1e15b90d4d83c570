"""Moved: the Vault policies live in :mod:`policies.vault` (one module per concern), the policy
reader in :mod:`policies.vault.acl`. This module keeps the old reader's name importable."""

from __future__ import annotations

from policies.vault.acl import WRITE_CAPABILITIES, parse_policy
from policies.vault.common import POLICY

__all__ = ["POLICY", "WRITE_CAPABILITIES", "parse_policy"]
