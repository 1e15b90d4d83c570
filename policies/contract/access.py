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
