"""Reading one setting in every shape a provider schema allows (pure library: no pulumi imports).

The same setting reaches a policy in several forms, all of them valid:

* **singular or plural blocks**: a Terraform-bridged block with ``maxItems: 1`` is an object in
  one resource (pulumi-aws 7 ``s3.Bucket.serverSideEncryptionConfiguration.rule``) and a list in
  another (``s3.BucketV2.serverSideEncryptionConfigurations[].rules[]``, the inline blocks of
  pulumi-aws 6 and 7), with the name pluralised;
* **deprecated-but-valid spellings** beside the current one (``replication.automatic`` beside
  ``replication.auto``);
* **Pulumi secret envelopes** (``{"4dabf181...": "1b470612...", "value": ...}``, the form the
  engine hands the analyzer and the Pulumi SDK serializes) standing for a scalar, a whole map
  or a whole list at any depth; an envelope holding ciphertext (a stack's state) or the
  placeholders a state reader puts in its place (:data:`OPAQUE`) cannot be read at all.

:func:`pick` reads a dotted path where each segment lists its alternative names (``a|as``), steps
through lists and envelopes at every level, and returns every value found, with
:data:`~policies.model.UNKNOWN` wherever the path ran into a value it cannot read. A check
decides with :func:`verdict` (any acceptable value, or unknown, or none) so that a value hidden
in ciphertext is never reported as a missing setting, and a missing setting is never mistaken
for an unreadable one. The alternatives of each policy's paths are taken from the installed
provider SDKs; ``tests/policies/test_shapes.py`` resolves every alternative against their input
and output types so a misspelt or stale shape fails there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Final

from policies.model import CIPHERTEXT, UNKNOWN

__all__ = [
    "OPAQUE",
    "blocks",
    "disabled",
    "document",
    "enabled",
    "falsy",
    "first",
    "is_set",
    "no_envelopes",
    "pick",
    "reveal",
    "setting",
    "truthy",
    "unreadable",
    "unwrap",
    "verdict",
    "written",
]

#: the signature key of Pulumi's special objects and the signature of a secret
SIG_KEY: Final = "4dabf18193072939515e22adb298388d"  # pragma: allowlist secret
SECRET_SIG: Final = "1b47061264138c4ac30d75fd1eb44270"  # pragma: allowlist secret
#: values that stand for something a check cannot read: unknown at preview, ciphertext in a
#: state, and the placeholders of the state reader and the plan capture for secrets
OPAQUE: Final = frozenset({UNKNOWN, CIPHERTEXT, "[secret]", "[plaintext secret]", "[unknown]"})

_MAX_ENVELOPES: Final = 16


def reveal(value: Any) -> Any:
    """``value`` with Pulumi secret envelopes around it removed (an envelope may wrap another);
    an envelope without a readable ``value`` (ciphertext, ``--show-secrets`` plaintext text) is
    :data:`~policies.model.UNKNOWN`, and so is every :data:`OPAQUE` marker."""
    for _ in range(_MAX_ENVELOPES):
        if isinstance(value, Mapping) and value.get(SIG_KEY) == SECRET_SIG:
            if "value" not in value:
                return UNKNOWN
            value = value["value"]
            continue
        break
    if isinstance(value, str) and value in OPAQUE:
        return UNKNOWN
    return value


def unreadable(value: Any) -> bool:
    """Whether ``value`` (after :func:`reveal`) is something a check cannot read."""
    return bool(reveal(value) == UNKNOWN)


def blocks(value: Any) -> list[Any]:
    """A block as the list of its entries, whichever form it has: absent (``[]``), one object
    (a ``maxItems: 1`` block), a list of objects (its plural form), envelopes around the block
    or around each entry; an unreadable block or entry is :data:`~policies.model.UNKNOWN`."""
    value = reveal(value)
    if value is None:
        return []
    if isinstance(value, list | tuple):
        out: list[Any] = []
        for item in value:
            item = reveal(item)
            if isinstance(item, list | tuple):
                out.extend(blocks(item))
            elif item is not None:
                out.append(item)
        return out
    return [value]


def _walk(node: Any, segments: tuple[tuple[str, ...], ...], at: int) -> Iterator[Any]:
    for item in blocks(node):
        if at == len(segments):
            yield item
            continue
        if item == UNKNOWN:
            yield UNKNOWN
            continue
        if not isinstance(item, Mapping):
            continue  # a scalar where the schema has a block: nothing of this setting there
        for name in segments[at]:
            if name in item:
                yield from _walk(item[name], segments, at + 1)


def _segments(path: str) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(seg.split("|")) for seg in path.split(".") if seg)


def pick(value: Any, path: str) -> list[Any]:
    """Every value at ``path`` in ``value``: segments separated by ``.``, each listing its
    alternative names separated by ``|`` (``serverSideEncryptionConfiguration|
    serverSideEncryptionConfigurations.rule|rules``). Lists are stepped through at every level
    (a list value at the end is flattened too), envelopes revealed; where the path meets a value
    that cannot be read, the result holds :data:`~policies.model.UNKNOWN`. An absent setting
    gives ``[]``."""
    return list(_walk(value, _segments(path), 0))


def first(value: Any, path: str) -> Any:
    """The first value at ``path`` (:func:`pick`), or None."""
    for found in _walk(value, _segments(path), 0):
        return found
    return None


def truthy(value: Any) -> bool:
    """``True`` or the string ``"true"`` (any case): how a bridged boolean may be stored."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def falsy(value: Any) -> bool:
    """``False`` or the string ``"false"`` (any case): a boolean explicitly turned off."""
    return value is False or (isinstance(value, str) and value.strip().lower() == "false")


def _filled(value: Any) -> bool:
    return value is not None and value != "" and value != [] and value != {}


def setting(props: Any, path: str) -> Any:
    """The first readable value at ``path`` (:func:`pick`); :data:`~policies.model.UNKNOWN` when
    the setting is there but cannot be read; None when it is absent. The shape-aware counterpart
    of ``r.get(name)``: a check keeps its comparisons, whatever form the setting took."""
    unknown = False
    for found in _walk(props, _segments(path), 0):
        if found == UNKNOWN:
            unknown = True
        elif found is not None:
            return found
    return UNKNOWN if unknown else None


def enabled(props: Any, path: str) -> bool | None:
    """Whether a boolean setting is on (``true``/``"true"`` in any form): None when unreadable,
    False when off or absent."""
    return verdict(pick(props, path), truthy)


def disabled(props: Any, path: str) -> bool:
    """Whether a boolean setting is explicitly turned off (absent or unreadable is not off)."""
    return any(falsy(v) for v in pick(props, path))


def is_set(props: Any, path: str) -> bool | None:
    """Whether a setting holds something (not absent, null or empty): None when unreadable."""
    return verdict(pick(props, path), _filled)


#: what a stack's state holds where a secret value was written: ciphertext, and the placeholders
#: a state reader or the plan capture put in its place (never the value itself)
_HIDDEN: Final = frozenset({CIPHERTEXT, "[secret]", "[plaintext secret]"})


def written(value: Any) -> bool:
    """Whether a value was written at all, readable or not: a non-empty value (in envelopes or
    not), or a secret stored encrypted (an envelope of ciphertext, :data:`_HIDDEN`); not when
    absent, empty or unknown at preview. For settings whose mere presence is the finding (a
    static credential), where a secret-marked value counts as much as a plain one."""
    if isinstance(value, Mapping) and value.get(SIG_KEY) == SECRET_SIG and "value" not in value:
        return True
    if isinstance(value, str) and value in _HIDDEN:
        return True
    value = reveal(value)
    return _filled(value) and value != UNKNOWN


def no_envelopes(value: Any) -> bool:
    """No Pulumi special object (a secret envelope) anywhere in ``value``: a reader may take it
    as it is, without the copy :func:`unwrap` makes."""
    if isinstance(value, Mapping):
        return SIG_KEY not in value and all(no_envelopes(v) for v in value.values())
    if isinstance(value, list):
        return all(no_envelopes(v) for v in value)
    return True


def unwrap(value: Any) -> Any:
    """``value`` with every secret envelope removed at every depth (maps and lists); what cannot
    be read becomes :data:`~policies.model.UNKNOWN` where it stands."""
    value = reveal(value)
    if isinstance(value, Mapping):
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [unwrap(v) for v in value]
    return value


def document(raw: Any) -> Any:
    """A policy document (IAM, key, bucket, Vault HCL...) as a check can read it: a JSON text or
    a map, envelopes removed at any depth (a document given as ``pulumi.Output.secret(...)``,
    a map with secret leaves); None when absent, empty or unreadable (ciphertext, unknown at
    preview): an unreadable document is never judged as malformed."""
    if isinstance(raw, str):  # the common form: no walk
        return None if raw == "" or raw in OPAQUE else raw
    value = unwrap(raw)
    if value is None or value == "" or value == UNKNOWN:
        return None
    return value


def verdict(values: Iterable[Any], good: Callable[[Any], bool]) -> bool | None:
    """True when some value is ``good``; None when none is but one cannot be read (unknown at
    preview, ciphertext); False otherwise (also when there is no value at all)."""
    unknown = False
    for v in values:
        if v == UNKNOWN:
            unknown = True
        elif good(v):
            return True
    return None if unknown else False


#: Every (resource types, path) a policy reads through :func:`declare`: what
#: ``tests/policies/test_shapes.py`` resolves against the installed provider SDKs.
DECLARED: list[tuple[tuple[str, ...], str]] = []


def declare(types: Iterable[str], path: str) -> str:
    """Register ``path`` as read from resources of ``types`` (module level, once) and return it:
    the declared shapes are what the SDK test checks."""
    DECLARED.append((tuple(types), path))
    return path
