"""The access model's actions: what a role can do to a secret, independent of any store. The
program's roles (``infra/access.py``) grant them; the store extractors (``policies/stores/``) read
them back from what a resource effectively grants."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    """What a role can do to a secret, independent of any backend."""

    READ = "read"  # read the value (and its metadata)
    WRITE = "write"  # put a new value
    MANAGE = "manage"  # rotate, change policy/metadata, schedule deletion, restore
    DESCRIBE = "describe"  # metadata only, never the value


#: The scopes each access-model role reads (the program's roles, ``infra/access.py``, are built
#: from this table; the pack's intended-access invariant judges the access graph against it). A
#: role reads a secret whose access scopes meet its own; the ``admin`` scope reads every secret.
ROLE_READ_SCOPES: dict[str, frozenset[str]] = {
    "backtest": frozenset({"test", "paper"}),
    "live-trading": frozenset({"live"}),
    "developer": frozenset({"test", "paper"}),
    "trader": frozenset({"live"}),
    "admin": frozenset({"test", "paper", "live", "admin"}),
    "auditor": frozenset(),
}


def intended_reader(role: str, secret_scopes: frozenset[str]) -> bool:
    """Does the access model mean ``role`` to read a secret of ``secret_scopes``?"""
    mine = ROLE_READ_SCOPES.get(role, frozenset())
    return "admin" in mine or bool(mine & secret_scopes)
