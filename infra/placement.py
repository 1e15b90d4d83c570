"""Where each stored secret lives: one **home** store per secret, and replicas only where asked.

Pure data (no Pulumi imports). The stack's ``neural-trader-secrets:placement`` block says it:

.. code-block:: yaml

    neural-trader-secrets:placement:
      home: vault                      # the default home of every stored secret
      scopes:   {admin: vault}         # by access scope (test, paper, live, admin)
      services: {postgres: aws}        # by catalog service
      secrets:  {DD_APP_KEY: azure}    # by catalog name
      replicas: {DD_API_KEY: [aws]}    # extra copies that follow their home

The most specific rule wins: ``secrets`` over ``services`` over ``scopes`` over ``home``. A secret
in several scopes that ``scopes`` sends to different stores is refused (name it under
``secrets``). Without the block, a stack that enables exactly one store keeps every secret there;
one that enables several must say ``home``.

A secret has one value, in its home: the home's rotation makes every new version and writes it
to each replica before it is promoted (docs/rotation.md). Nothing else ever writes a replica.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from infra.catalog import ENV_VAR_RE, Catalog, Environment, Scope
from policies.contract.redact import key as shown_key
from policies.contract.redact import name as shown_name

#: A store's registry name as written in ``placement`` (validated against the enabled stores).
StoreName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,30}$")]

HOME = "home"
REPLICA = "replica"


class PlacementSettings(BaseModel):
    """``neural-trader-secrets:placement``."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    home: StoreName | None = None
    scopes: Mapping[Scope, StoreName] = Field(default_factory=dict)
    services: Mapping[str, StoreName] = Field(default_factory=dict)
    secrets: Mapping[str, StoreName] = Field(default_factory=dict)
    replicas: Mapping[str, tuple[StoreName, ...]] = Field(default_factory=dict)

    @field_validator("replicas")
    @classmethod
    def _replicas(cls, v: Mapping[str, tuple[str, ...]]) -> Mapping[str, tuple[str, ...]]:
        for name, stores in v.items():
            shown = shown_name(name, ENV_VAR_RE)
            if not stores:
                raise ValueError(f"{shown}: name at least one replica store (or leave it out)")
            if len(set(stores)) != len(stores):
                raise ValueError(f"{shown}: a replica store is listed twice")
        return v


@dataclass(frozen=True)
class Placement:
    """Where one secret lives: its home store and the stores that hold replicas of it."""

    home: str
    replicas: tuple[str, ...] = ()

    @property
    def stores(self) -> tuple[str, ...]:
        """Every store holding a copy, the home first."""
        return (self.home, *self.replicas)

    def role_in(self, store: str) -> str | None:
        """``"home"``, ``"replica"`` or None (the store holds no copy)."""
        if store == self.home:
            return HOME
        return REPLICA if store in self.replicas else None


PREFIX = "neural-trader-secrets:placement"


def resolve(
    catalog: Catalog,
    environment: Environment,
    settings: PlacementSettings | None,
    stores: Iterable[str],
) -> tuple[dict[str, Placement], list[tuple[str, str]]]:
    """Each stored secret's :class:`Placement` under ``settings``, given the enabled ``stores``
    (in ``backends`` order), and the problems ``(key, reason)`` of the block: a store that is not
    enabled (one problem per store, naming every rule that names it), a service or secret the
    catalog does not know, a replica in its own home, a secret whose scopes disagree, no ``home``
    where several stores are enabled. A rule about a service or secret the catalog knows but
    this environment does not store is no problem: it places nothing here."""
    enabled = tuple(stores)
    problems: list[tuple[str, str]] = []
    entries = catalog.stored_in(environment)
    known_services = {e.service for e in catalog.entries}
    block = settings or PlacementSettings()
    disabled: dict[str, list[str]] = {}

    def usable(key: str, store: str) -> bool:
        if store in enabled:
            return True
        disabled.setdefault(store, []).append(key.removeprefix(PREFIX + "."))
        return False

    default = block.home
    if default is not None:
        if not usable(f"{PREFIX}.home", default):
            default = None
    elif len(enabled) == 1:
        default = enabled[0]
    elif enabled:
        problems.append(
            (
                f"{PREFIX}.home",
                f"required: {len(enabled)} stores are enabled ({', '.join(enabled)}); "
                "say which one is the home of a secret no other rule places",
            )
        )
    scopes = {s: st for s, st in block.scopes.items() if usable(f"{PREFIX}.scopes.{s}", st)}
    by_service: dict[str, str] = {}
    for service, store in sorted(block.services.items()):
        key = f"{PREFIX}.services.{shown_key(service)}"
        if service not in known_services:
            problems.append((key, "no catalog entry belongs to this service"))
        elif usable(key, store):
            by_service[service] = store
    by_name: dict[str, str] = {}
    for name, store in sorted(block.secrets.items()):
        key = f"{PREFIX}.secrets.{shown_name(name, ENV_VAR_RE)}"
        if name not in catalog.names:
            problems.append((key, "not a catalog entry"))
        elif not catalog.get(name).stored:
            problems.append((key, f"{name} is never stored (plain configuration)"))
        elif usable(key, store):
            by_name[name] = store

    out: dict[str, Placement] = {}
    for entry in entries:
        home: str | None = by_name.get(entry.name) or by_service.get(entry.service)
        if home is None:
            homes = {scopes[s] for s in entry.scopes_in(environment) if s in scopes}
            if len(homes) > 1:
                problems.append(
                    (
                        f"{PREFIX}.scopes",
                        f"{entry.name} is in scopes that name different stores "
                        f"({', '.join(sorted(homes))}): place it under {PREFIX}.secrets",
                    )
                )
                continue
            home = homes.pop() if homes else default
        if home is None:
            continue  # reported above (no default home)
        out[entry.name] = Placement(home)

    for name, replicas in sorted(block.replicas.items()):
        key = f"{PREFIX}.replicas.{shown_name(name, ENV_VAR_RE)}"
        if name not in catalog.names or not catalog.get(name).stored:
            problems.append((key, "not a stored catalog entry"))
            continue
        good = tuple(r for r in replicas if usable(key, r))
        placement = out.get(name)
        if placement is None:
            continue  # not stored in this environment, or its home is refused above
        if placement.home in good:
            problems.append(
                (key, f"'{placement.home}' is the home of {name}; a replica lives elsewhere")
            )
            continue
        ordered = tuple(s for s in enabled if s in good)
        out[name] = Placement(placement.home, ordered)

    listed = ", ".join(enabled) if enabled else "none"
    for store, keys in sorted(disabled.items()):
        where = f"{PREFIX}.{keys[0]}" if len(keys) == 1 else PREFIX
        named = "" if len(keys) == 1 else f" ({', '.join(keys)})"
        problems.append(
            (where, f"'{store}'{named} is not an enabled store (enabled stores: {listed})")
        )
    return out, problems


def homes_of(placements: Mapping[str, Placement]) -> dict[str, int]:
    """Store -> how many secrets call it home."""
    count: dict[str, int] = {}
    for p in placements.values():
        count[p.home] = count.get(p.home, 0) + 1
    return count
