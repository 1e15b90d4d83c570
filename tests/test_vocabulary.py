"""The contract vocabulary is defined once: the tag/label keys the program writes and the policies and
the rotation read are spelled as literals only where they are defined (the policy pack's contract,
policies/contract/vocabulary.py, at the bottom of both the pack and the program); everywhere else
in infra/ and policies/ names them by their constants, imported from there (the rotation contract
re-exports the very same objects under its parameter names). Prose in docstrings and comments may
mention a key, but never quoted."""

from __future__ import annotations

import functools
import io
import tokenize
from pathlib import Path

import pytest

from infra.rotation import contract
from policies.contract import vocabulary

from .conftest import ROOT

#: The distinctive keys, taken from the modules that define them (never retyped here).
KEYS = {
    "TAG_CATALOG_NAME": vocabulary.TAG_CATALOG_NAME,
    "TAG_ACCESS_SCOPES": vocabulary.TAG_ACCESS_SCOPES,
    "TAG_ROTATION_CLASS": vocabulary.TAG_ROTATION_CLASS,
    "TAG_ROTATION_STRATEGY": vocabulary.TAG_ROTATION_STRATEGY,
    "TAG_MASTER_SECRET": vocabulary.TAG_MASTER_SECRET,
    "TAG_REDIS_ENDPOINT": vocabulary.TAG_REDIS_ENDPOINT,
    "TAG_REDIS_USER": vocabulary.TAG_REDIS_USER,
    "TAG_REDIS_TLS": vocabulary.TAG_REDIS_TLS,
    "TAG_PROVIDER": vocabulary.TAG_PROVIDER,
}
DEFINED_IN = {"policies/contract/vocabulary.py"}
#: The rotation contract's name of each key (the parameters the rotation function reads).
PARAMS = {
    "TAG_ENVIRONMENT": "PARAM_ENVIRONMENT",
    "TAG_SERVICE": "PARAM_SERVICE",
    "TAG_ROTATION_CLASS": "PARAM_ROTATION_CLASS",
    "TAG_CLASSIFICATION": "PARAM_CLASSIFICATION",
    "TAG_ROTATION_STRATEGY": "PARAM_ROTATION_STRATEGY",
    "TAG_MASTER_SECRET": "PARAM_MASTER_SECRET",  # pragma: allowlist secret
    "TAG_REDIS_ENDPOINT": "PARAM_REDIS_ENDPOINT",
    "TAG_REDIS_USER": "PARAM_REDIS_USER",
    "TAG_REDIS_TLS": "PARAM_REDIS_TLS",
    "TAG_PROVIDER": "PARAM_PROVIDER",
}
SCANNED = ("infra", "policies")


def sources() -> list[Path]:
    return sorted(
        p
        for top in SCANNED
        for p in (ROOT / top).rglob("*.py")
        if "__pycache__" not in p.parts and p.relative_to(ROOT).as_posix() not in DEFINED_IN
    )


def quoted_uses(text: str, key: str) -> list[str]:
    """Where ``key`` is written as a literal: quoted with " or ', or as a whole string token
    (triple-quoted, raw, f-string...)."""
    found = [
        f"line {text.count(chr(10), 0, i) + 1}: {q}{key}{q}"
        for q in ('"', "'")
        for i in _find_all(text, f"{q}{key}{q}")
    ]
    strings = _string_tokens(text)
    if strings is None:
        return found
    for line, literal, value in strings:
        if value == key:
            where = f"line {line}: {literal}"
            if not any(f.startswith(f"line {line}:") for f in found):
                found.append(where)
    return found


@functools.cache
def _string_tokens(text: str) -> tuple[tuple[int, str, str | None], ...] | None:
    """(line, literal, value) of every string token of ``text``; None when it does not tokenize.
    Tokenized once per source text: every key's scan reads the same files."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return None
    return tuple(
        (tok.start[0], tok.string, _string_value(tok.string))
        for tok in tokens
        if tok.type == tokenize.STRING
    )


def _find_all(text: str, needle: str) -> list[int]:
    out, start = [], text.find(needle)
    while start != -1:
        out.append(start)
        start = text.find(needle, start + 1)
    return out


def _string_value(literal: str) -> str | None:
    """The text of a string token without prefix and quotes (f-strings left unformatted)."""
    body = literal.lstrip("rRbBuUfF")
    for quote in ('"""', "'''", '"', "'"):
        if body.startswith(quote) and body.endswith(quote) and len(body) >= 2 * len(quote):
            return body[len(quote) : -len(quote)]
    return None


def test_the_keys_are_distinct_and_defined_where_expected() -> None:
    assert len(set(KEYS.values())) == len(KEYS)
    assert all(isinstance(v, str) and v for v in KEYS.values())
    for key in KEYS.values():
        homes = [p for p in DEFINED_IN if quoted_uses((ROOT / p).read_text(encoding="utf-8"), key)]
        assert homes, f"{key!r} is not defined in any of {sorted(DEFINED_IN)}"


def test_the_scan_covers_infra_and_policies() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in sources()}
    assert {"infra/estate.py", "infra/backends/aws/components.py", "policies/stack.py"} <= names
    assert {"policies/stores/aws.py", "infra/backends/aws/naming.py"} <= names
    assert "infra/rotation/contract.py" in names  # re-exports the rotation parameter names
    assert not names & DEFINED_IN


def test_the_rotation_contract_names_the_vocabulary_keys() -> None:
    """One definition: each rotation parameter of the rotation contract is the vocabulary's key
    (the program imports the vocabulary from the pack's contract; it has no copy of its own)."""
    for tag, param in PARAMS.items():
        assert getattr(contract, param) == getattr(vocabulary, tag), param
        assert getattr(contract, tag) == getattr(vocabulary, tag), tag
    assert not (ROOT / "infra" / "vocabulary.py").exists()


@pytest.mark.parametrize("name", sorted(KEYS))
def test_the_key_is_written_only_where_it_is_defined(name: str) -> None:
    key = KEYS[name]
    offenders = [
        f"{path.relative_to(ROOT)} {use}"
        for path in sources()
        for use in quoted_uses(path.read_text(encoding="utf-8"), key)
    ]
    assert not offenders, f"{key!r} written as a literal (use vocabulary.{name}):\n" + "\n".join(
        offenders
    )


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ('tags = {"catalog-name": name}\n', True),
        ("tags = {'catalog-name': name}\n", True),
        ('key = """catalog-name"""\n', True),
        ('key = f"catalog-name"\n', True),
        ('"""Reads the ``catalog-name`` label."""\n', False),
        ("# the catalog-name tag\n", False),
        ('tags = {TAG_CATALOG_NAME: name, "catalog-names": 1}\n', False),
    ],
)
def test_the_scan_finds_quoted_literals_and_leaves_prose_alone(source: str, found: bool) -> None:
    assert bool(quoted_uses(source, vocabulary.TAG_CATALOG_NAME)) is found
