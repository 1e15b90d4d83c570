"""Rejected input, described without being shown.

A secret pasted into the wrong setting, config key, catalog field, policy-pack config or state file
must not come back in the error that refuses it. Every message about bad input names the *key* and
the *rule*; the value itself is at most a redacted hint of its kind and length
(``<string, 40 chars>``). Keys and names are shown when they look like keys (a short identifier the
credential detectors find nothing in), and described like values otherwise.

Pure (no Pulumi import): settings, catalog, policy-pack config, state and stack-file readers share
it. The credential detectors are the policy pack's (:mod:`policies.lib.credentials`), imported
when first needed.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any, Final

__all__ = [
    "KEY_RE",
    "MAX_INT_DIGITS",
    "credential_kind",
    "credential_kind_in_forms",
    "derived_forms",
    "describe",
    "key",
    "loc",
    "name",
    "printable",
    "pydantic_message",
    "redact_lines",
    "redact_text",
    "scrub",
]

#: What a key or a name may look like to be shown as itself (Pulumi config keys, policy ids,
#: property names, catalog names): no spaces, no quotes, at most 100 characters.
KEY_RE: Final = re.compile(r"^[A-Za-z0-9_.:/@-]{1,100}$")
#: The most digits a number in a file may have: CPython refuses to convert longer ones between text
#: and int (``sys.get_int_max_str_digits()``, 4300 by default); the readers refuse them first, with
#: a message instead of a traceback.
MAX_INT_DIGITS: Final = 4300


def _int_digits(value: int) -> str:
    bits = abs(value).bit_length()
    if bits <= 14_000:  # fewer than 4300 digits: str() converts it
        n = len(str(abs(value)))
        return f"{n} digit{'s' if n != 1 else ''}"
    # str() of a number this large may be refused; the bit length gives the count within one
    return f"about {math.floor(bits * math.log10(2)) + 1} digits"


def describe(value: object) -> str:
    """The kind and size of ``value``, never the value: ``<string, 40 chars>``, ``<integer, 3
    digits>``, ``<boolean>``, ``<list, 2 items>``, ``<object, 3 keys>``, ``<null>``."""
    if value is None:
        return "<null>"
    if isinstance(value, bool):
        return "<boolean>"
    if isinstance(value, int):
        return f"<integer, {_int_digits(value)}>"
    if isinstance(value, float):
        return "<number>"
    if isinstance(value, str):
        n = len(value)
        return "<empty string>" if n == 0 else f"<string, {n} char{'s' if n != 1 else ''}>"
    if isinstance(value, bytes):
        return f"<bytes, {len(value)}>"
    if isinstance(value, Mapping):
        n = len(value)
        return f"<object, {n} key{'s' if n != 1 else ''}>"
    if isinstance(value, list | tuple | set | frozenset):
        n = len(value)
        return f"<list, {n} item{'s' if n != 1 else ''}>"
    return f"<{type(value).__name__}>"


def credential_kind(text: str) -> str | None:
    """The kind of credential the pack's format detectors find in ``text`` ("Anthropic API Key"),
    or None. Key-name rules do not apply: ``text`` stands alone."""
    from policies.lib.credentials import scan_value

    hits = scan_value(text)
    return hits[0].kind if hits else None


#: Bidirectional-text controls: shown reordered by a terminal ("Trojan source"), escaped too.
_BIDI: Final = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def printable(text: str) -> str:
    """``text`` safe to put on a terminal: control characters (an escape sequence that would
    clear the screen, retitle the window or hide what follows; a line break that would forge a
    line) and bidirectional controls are shown as their escapes (``\\x1b``, ``\\u202e``)."""
    if text.isprintable():
        return text
    return "".join(
        c.encode("unicode_escape").decode("ascii")
        if unicodedata.category(c) == "Cc" or c in _BIDI
        else c
        for c in text
    )


def derived_forms(text: str) -> tuple[str, ...]:
    """``text`` and the forms the program derives from what it is given on its way into names,
    paths and URNs: lower-cased, upper-cased, kebab-cased (``_`` to ``-``), snake-cased."""
    lower, upper = text.lower(), text.upper()
    forms = (text, lower, upper, lower.replace("_", "-"), upper.replace("-", "_"))
    return tuple(dict.fromkeys(forms))


def credential_kind_in_forms(text: str) -> str | None:
    """:func:`credential_kind` of ``text`` or of any of its :func:`derived_forms`: a value that
    becomes credential-shaped once lower-cased or kebab-cased into a resource name would slip
    past the detectors at the output (``AKIA...`` as ``akia...``), so it is refused at the input."""
    for form in derived_forms(text):
        kind = credential_kind(form)
        if kind is not None:
            return kind
    return None


def redact_text(text: str) -> str:
    """``text`` with every credential the pack's format detectors find replaced by its redacted
    hint (the last line of defence for free text on its way to a terminal)."""
    from policies.lib.credentials import redact_text as _redact

    return _redact(text)


def redact_lines(text: str) -> str:
    """:func:`redact_text` of a line-structured document (indented JSON: every string on a line
    of its own), line by line. The same finds as over the whole text, since no credential shape
    spans a line break there, at a fraction of the cost: each distinct line is judged once (a
    plan repeats its URNs and keys thousands of times) and a line the detectors' prefilter
    rejects is done with at once, instead of every triggered detector running over megabytes."""
    return "\n".join(map(redact_text, text.split("\n")))


def name(value: object, pattern: re.Pattern[str] = KEY_RE) -> str:
    """``value`` itself when it is a string matching ``pattern`` that holds no credential-shaped
    text; its :func:`describe` hint otherwise."""
    if (
        isinstance(value, str)
        and pattern.fullmatch(value)
        and credential_kind_in_forms(value) is None
    ):
        return value
    return describe(value)


def key(part: object) -> str:
    """One component of a key path: list indexes as they are, keys through :func:`name`."""
    if isinstance(part, int) and not isinstance(part, bool):
        return str(part)
    return name(part)


def loc(parts: Iterable[object]) -> str:
    """A dotted key path (pydantic's ``loc``, jsonschema's ``absolute_path``), each key shown only
    when it looks like a key."""
    return ".".join(key(p) for p in parts)


def scrub(message: str, value: object) -> str:
    """``message`` without ``value`` in it: a library message that quotes its input gets the hint
    instead. Short strings are only replaced quoted (``'ab'``), so that a two-letter input does not
    garble the rest of the message."""
    if isinstance(value, str) and value:
        hint = describe(value)
        message = message.replace(repr(value), hint).replace(f'"{value}"', hint)
        if len(value) >= 4:
            message = message.replace(value, hint)
    return message


def pydantic_message(err: Mapping[str, Any]) -> str:
    """The message of one pydantic error (``ValidationError.errors()`` item) that never quotes the
    input: discriminator tags are replaced by the expected ones, and any string input the message
    still quotes by its hint."""
    kind = err.get("type")
    ctx = err.get("ctx") or {}
    if kind == "union_tag_invalid":
        return (
            f"{ctx.get('discriminator', 'the tag')} must be one of {ctx.get('expected_tags', '?')}"
        )
    if kind == "union_tag_not_found":
        return f"{ctx.get('discriminator', 'the tag')} is required"
    msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    return scrub(msg, err.get("input"))
