"""What the stack invariants read from a stack, whichever store holds it: one extractor per backend.

An extractor turns one store's resources into a neutral answer: which catalog secrets the store
holds (:class:`StoredSecret`). Who can read them is the access graph's answer (``policies/graph``,
one grapher per store, the pack's evaluators); a store without a grapher yet may answer it through
its extractor (:class:`AccessReader`). The stack policies (``policies/stack.py``) judge only these
answers, so a new backend adds an extractor (and a grapher) here, not a rewrite of the
invariants. Extractors judge resources, whoever made them: they never import the program.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from policies.framework import Resource


@dataclass(frozen=True)
class StoredSecret:
    """One secret a store holds, as its resource declares it."""

    backend: str
    urn: str
    #: The store's own name for it (a Secrets Manager name, a Vault path...).
    name: str
    #: The catalog entry it holds (``catalog-name`` label), if labelled.
    catalog_name: str | None
    #: The environment label, if any.
    environment: str | None
    #: The access scopes its labels give it (empty if unlabelled).
    scopes: frozenset[str]
    #: The rotation class its labels give it (None: unlabelled, "none": declared not rotated).
    rotation_class: str | None
    #: A rotation of it is declared in the stack.
    rotated: bool
    #: Its labels say the stack revoked it (incident response): nobody is meant to read it.
    revoked: bool = False
    #: The store its labels name as the secret's home (None: unlabelled, a foreign estate).
    home: str | None = None
    #: Where its labels say its value comes from (generated, supplied, external), if labelled.
    value_source: str | None = None


@dataclass
class Access:
    """Identity -> the stored secrets (URNs) it can read. ``complete`` is False when some policy
    document is unknown (at preview), so an absent grant proves nothing."""

    reads: dict[str, set[str]] = field(default_factory=dict)
    complete: bool = True

    def grant(self, identity: str, urns: set[str]) -> None:
        self.reads.setdefault(identity, set()).update(urns)

    def merge(self, other: Access) -> None:
        for identity, urns in other.reads.items():
            self.grant(identity, urns)
        self.complete = self.complete and other.complete


class Extractor(Protocol):
    """One store's reading of a stack."""

    backend: str
    #: Resource types the extractor reads (the stack policies' ``resource_types``).
    resource_types: tuple[str, ...]

    def secrets(self, resources: Sequence[Resource]) -> list[StoredSecret]: ...


class AccessReader(Protocol):
    """An extractor that also answers who reads what, for a store the access graph
    (``policies/graph``) has no grapher for yet; the graph answers for every store it knows."""

    def access(self, resources: Sequence[Resource], secrets: Sequence[StoredSecret]) -> Access: ...


_EXTRACTORS: dict[str, Extractor] = {}


def register_extractor(extractor: Extractor) -> Extractor:
    _EXTRACTORS[extractor.backend] = extractor
    return extractor


def unregister_extractor(backend: str) -> None:
    _EXTRACTORS.pop(backend, None)


def extractors() -> Iterator[Extractor]:
    _load_builtin()
    yield from list(_EXTRACTORS.values())


def stored_secrets(resources: Sequence[Resource]) -> list[StoredSecret]:
    """Every secret any store of the stack holds, as its extractor reads it."""
    return [s for e in extractors() for s in e.secrets(resources)]


def resource_types() -> tuple[str, ...]:
    return tuple(t for e in extractors() for t in e.resource_types)


_loaded = False


def _load_builtin() -> None:
    """Import every extractor module of this package (each registers itself), so a new store's
    extractor needs only its own module here."""
    global _loaded
    if _loaded:
        return
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    _loaded = True
