"""The catalog, as far as the policy pack reads it: which secrets each environment stores, and
which of them rotate.

The program owns the catalog (``infra/catalog.py`` validates every field and rule of
``infra/catalog.yaml``); the pack needs only a few facts of each entry to judge a stack against it
(``policies/stack.py``, the catalog-coverage policy): its ``name``, whether it is ``sensitive``, its
``source`` (a workload-identity entry is never stored), the ``environments`` that need it and its
``rotation`` class. This reader takes exactly those, from the same file format, with the standard
library, PyYAML and the pack's contract: a published pack judges a stack without the program.
Other fields are left to the program. Bad input is refused naming the entry and the key, never
quoting a value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any, Final

from policies.contract import redact
from policies.contract.rotation import RotationClass
from policies.contract.yamlio import YamlProblem, load_yaml


class Environment(StrEnum):
    """The platform's environments (the catalog's ``environments`` values, the ``environment``
    label of every stored secret)."""

    DEVELOPMENT = "development"
    CI = "ci"
    STAGING = "staging"
    PRODUCTION = "production"


#: The ``source`` of an entry that workload identity replaces: never stored.
WORKLOAD_IDENTITY: Final = "workload-identity"
#: What an entry's name looks like to be shown as itself (an environment variable name).
ENTRY_NAME_RE: Final = re.compile(r"^[A-Z][A-Z0-9_]*$")
#: The project's catalog, beside the pack when the pack runs from the repository (``policies/``
#: next to ``infra/``). A published pack has none: its config names the file (``catalogPath``).
DEFAULT_CATALOG: Final = Path(__file__).resolve().parents[2] / "infra" / "catalog.yaml"


class CatalogReadError(ValueError):
    """A catalog file the pack cannot read: every problem, each naming the entry and the key."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class Entry:
    """What the pack knows of one catalog entry."""

    name: str
    sensitive: bool
    source: str
    environments: frozenset[Environment]
    rotation: RotationClass | None

    @property
    def stored(self) -> bool:
        """A secret manager holds it: sensitive, and not replaced by workload identity."""
        return self.sensitive and self.source != WORKLOAD_IDENTITY

    @property
    def rotatable(self) -> bool:
        return self.stored and self.rotation is not None

    def needed_in(self, environment: Environment) -> bool:
        return environment in self.environments


@dataclass(frozen=True)
class PackCatalog:
    entries: tuple[Entry, ...]

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries)

    def stored_in(self, environment: Environment) -> tuple[Entry, ...]:
        """Every secret one environment keeps in its secret managers, in catalog order."""
        return tuple(e for e in self.entries if e.stored and e.needed_in(environment))


def entry_label(raw: Any, index: int) -> str:
    """How messages name an entry: by its name when that reads as one (it is user input, perhaps
    a secret pasted into the wrong field), else by its position (``#3``)."""
    name = raw.get("name") if isinstance(raw, Mapping) else None
    if isinstance(name, str) and redact.name(name, ENTRY_NAME_RE) == name:
        return name
    return f"#{index}"


def check_entry(raw: Any) -> tuple[Entry | None, list[tuple[str, str]]]:
    """One catalog entry as the pack reads it: the Entry, or its problems as ``(key, message)``
    (key ``""`` for the entry as a whole; a message names the key, never quotes a value).

    Strict: ``sensitive`` is a YAML boolean, not ``"yes"`` or ``1``. The program's catalog reader
    (``infra/catalog.py``) runs this same function over every entry before its own model, so
    whatever the program plans, the pack can read (the pack never imports the program)."""
    if not isinstance(raw, Mapping):
        return None, [("", f"expected a mapping, got {redact.describe(raw)}")]
    problems: list[tuple[str, str]] = []
    name = raw.get("name")
    if not isinstance(name, str) or not ENTRY_NAME_RE.fullmatch(name):
        problems.append(("name", "name must be an environment variable name (A-Z, 0-9, _)"))
    elif (kind := redact.credential_kind_in_forms(name)) is not None:
        problems.append(
            (
                "name",
                f"name looks like a credential ({kind}, {redact.describe(name)}), as itself or "
                "kebab-cased into resource names: never put a secret value in the catalog",
            )
        )
    sensitive = raw.get("sensitive")
    if not isinstance(sensitive, bool):
        problems.append(
            ("sensitive", f"sensitive must be true or false, got {redact.describe(sensitive)}")
        )
    source = raw.get("source")
    if not isinstance(source, str):
        problems.append(("source", f"source must be a string, got {redact.describe(source)}"))
    envs = raw.get("environments")
    environments: set[Environment] = set()
    known = ", ".join(e.value for e in Environment)
    if not isinstance(envs, list) or not envs:
        problems.append(("environments", f"environments must be a non-empty list of {known}"))
    else:
        for i, env in enumerate(envs):
            try:
                environments.add(Environment(env))
            except ValueError:
                problems.append(
                    (
                        "environments",
                        f"environments.{i} must be one of {known}, got {redact.describe(env)}",
                    )
                )
    rotation_raw = raw.get("rotation")
    rotation: RotationClass | None = None
    if rotation_raw is not None:
        try:
            rotation = RotationClass(rotation_raw)
        except ValueError:
            classes = ", ".join(c.value for c in RotationClass)
            problems.append(
                (
                    "rotation",
                    f"rotation must be one of {classes}, got {redact.describe(rotation_raw)}",
                )
            )
    if problems:
        return None, problems
    assert isinstance(name, str) and isinstance(sensitive, bool) and isinstance(source, str)
    return Entry(name, sensitive, source, frozenset(environments), rotation), []


def _entry(raw: Any, index: int, problems: list[str]) -> Entry | None:
    entry, found = check_entry(raw)
    label = f"entry {entry_label(raw, index)}"
    problems.extend(f"{label}: {message}" for _key, message in found)
    return entry


def parse_catalog(data: Any) -> PackCatalog:
    """The pack's view of a catalog document; CatalogReadError listing every problem."""
    if not isinstance(data, Mapping) or not isinstance(data.get("entries"), list):
        raise CatalogReadError(["expected a mapping with an 'entries' list"])
    problems: list[str] = []
    entries = [_entry(raw, i, problems) for i, raw in enumerate(data["entries"])]
    if problems:
        raise CatalogReadError(problems)
    return PackCatalog(tuple(e for e in entries if e is not None))


@cache
def _read(path: str, stamp: tuple[int, int]) -> PackCatalog:
    del stamp  # part of the cache key: an edited file is read again
    target = Path(path)
    try:
        text = target.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CatalogReadError([f"{target}: not UTF-8 text"]) from None
    except OSError as exc:
        raise CatalogReadError([f"{target}: {exc.strerror or type(exc).__name__}"]) from None
    try:
        data = load_yaml(text)
    except YamlProblem as exc:
        raise CatalogReadError([f"{target}: {exc}"]) from None
    try:
        return parse_catalog(data)
    except CatalogReadError as exc:
        raise CatalogReadError([f"{target}: {p}" for p in exc.problems]) from None


def read_catalog(path: Path | None = None) -> PackCatalog:
    """The catalog file at ``path`` (default: :data:`DEFAULT_CATALOG`), read once per process while
    it is unchanged. CatalogReadError when it cannot be read; a missing default names the
    ``catalogPath`` setting that replaces it."""
    target = (path or DEFAULT_CATALOG).resolve()
    try:
        stat = target.stat()
    except OSError as exc:
        hint = "" if path else " (no project catalog beside the pack: set catalogPath)"
        raise CatalogReadError([f"{target}: {exc.strerror or type(exc).__name__}{hint}"]) from None
    return _read(str(target), (stat.st_mtime_ns, stat.st_size))
