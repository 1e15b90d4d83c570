"""The schema-aware accessor (policies/lib/shapes.py): every form of a setting read alike, and every
shape a policy declares real in the installed provider SDKs."""

from __future__ import annotations

from typing import Any

import pytest

import policies.pack  # noqa: F401 - registers every policy's declared shapes
from policies.lib import shapes
from policies.lib.shapes import (
    blocks,
    disabled,
    document,
    enabled,
    falsy,
    first,
    is_set,
    pick,
    reveal,
    setting,
    truthy,
    unwrap,
    verdict,
    written,
)
from policies.model import CIPHERTEXT, UNKNOWN
from tests.policies.sdk_schema import resolve, resource_classes

SIG = "4dabf18193072939515e22adb298388d"  # pragma: allowlist secret
SECRET = "1b47061264138c4ac30d75fd1eb44270"  # pragma: allowlist secret


def env(value: Any) -> dict[str, Any]:
    return {SIG: SECRET, "value": value}


PATH = "a|as.b|bs.c"

PICK_CASES: list[tuple[str, Any, list[Any]]] = [
    ("singular blocks", {"a": {"b": {"c": 1}}}, [1]),
    ("plural blocks", {"as": [{"bs": [{"c": 1}, {"c": 2}]}]}, [1, 2]),
    ("mixed singular and plural", {"a": [{"b": {"c": 1}}], "as": [{"bs": [{"c": 2}]}]}, [1, 2]),
    ("absent", {}, []),
    ("null block", {"a": None}, []),
    ("empty list", {"as": []}, []),
    ("scalar where a block is", {"a": "x"}, []),
    ("envelope around the whole block", {"as": env([{"bs": [{"c": 1}]}])}, [1]),
    ("envelope around a list entry", {"as": [env({"bs": [{"c": 1}]})]}, [1]),
    ("envelope around an inner map", {"a": {"b": env({"c": 1})}}, [1]),
    ("envelope around the leaf", {"a": {"b": {"c": env(True)}}}, [True]),
    ("envelope in an envelope", {"a": env(env({"b": {"c": 3}}))}, [3]),
    ("ciphertext block", {"as": CIPHERTEXT}, [UNKNOWN]),
    ("ciphertext leaf", {"a": {"b": {"c": CIPHERTEXT}}}, [UNKNOWN]),
    ("unknown at preview", {"a": {"b": UNKNOWN}}, [UNKNOWN]),
    ("opaque envelope", {"a": {SIG: SECRET, "ciphertext": "v1:xx"}}, [UNKNOWN]),
    ("state placeholder", {"a": {"b": "[secret]"}}, [UNKNOWN]),
    ("leaf list flattened", {"a": {"b": {"c": [1, 2]}}}, [1, 2]),
]


@pytest.mark.parametrize(("case", "props", "expected"), PICK_CASES, ids=[c[0] for c in PICK_CASES])
def test_pick(case: str, props: Any, expected: list[Any]) -> None:
    assert pick(props, PATH) == expected


def test_helpers() -> None:
    assert reveal(env(env({"x": 1}))) == {"x": 1}
    assert reveal(CIPHERTEXT) == UNKNOWN
    assert blocks(env([env({"x": 1}), None, [{"y": 2}]])) == [{"x": 1}, {"y": 2}]
    assert first({"as": [{"bs": [{"c": 7}]}]}, PATH) == 7
    assert first({}, PATH) is None
    assert [truthy(v) for v in (True, "true", "TRUE", False, "false", None, 1)] == [
        True,
        True,
        True,
        False,
        False,
        False,
        False,
    ]
    assert verdict([False, True], bool) is True
    assert verdict([False, UNKNOWN], bool) is None
    assert verdict([False], bool) is False
    assert verdict([], bool) is False


#: (case, props, value, enabled, disabled, is_set) of one setting at ``a|as.b``
SETTING_CASES: list[tuple[str, Any, Any, bool | None, bool, bool | None]] = [
    ("absent", {}, None, False, False, False),
    ("true", {"a": {"b": True}}, True, True, False, True),
    ("'true' string, plural block", {"as": [{"b": "true"}]}, "true", True, False, True),
    ("false", {"a": {"b": False}}, False, False, True, True),
    ("'False' string", {"a": {"b": "False"}}, "False", False, True, True),
    ("enveloped true", {"a": env({"b": env(True)})}, True, True, False, True),
    ("enveloped false", {"as": env([{"b": False}])}, False, False, True, True),
    ("ciphertext", {"a": CIPHERTEXT}, UNKNOWN, None, False, None),
    ("unknown leaf", {"a": {"b": UNKNOWN}}, UNKNOWN, None, False, None),
    ("empty string", {"a": {"b": ""}}, "", False, False, False),
    ("empty list", {"a": {"b": []}}, None, False, False, False),
    ("null", {"a": {"b": None}}, None, False, False, False),
    ("unknown then readable", {"as": [{"b": UNKNOWN}, {"b": "x"}]}, "x", None, False, True),
]


@pytest.mark.parametrize(
    ("case", "props", "val", "on", "off", "filled"),
    SETTING_CASES,
    ids=[c[0] for c in SETTING_CASES],
)
def test_setting_readers(
    case: str, props: Any, val: Any, on: bool | None, off: bool, filled: bool | None
) -> None:
    assert setting(props, "a|as.b") == val
    assert enabled(props, "a|as.b") is on
    assert disabled(props, "a|as.b") is off
    assert is_set(props, "a|as.b") is filled


#: (case, value, written): a value whose presence alone is the finding (a static credential)
WRITTEN_CASES: list[tuple[str, Any, bool]] = [
    ("absent", None, False),
    ("empty", "", False),
    ("a value", "AKIAIOSFODNN7EXAMPLE", True),  # pragma: allowlist secret
    ("in an envelope", env("AKIAIOSFODNN7EXAMPLE"), True),  # pragma: allowlist secret
    ("empty in an envelope", env(env("")), False),
    ("an envelope of ciphertext", {SIG: SECRET, "ciphertext": "v1:AAAA"}, True),
    ("a state's ciphertext marker", CIPHERTEXT, True),
    ("the plan capture's placeholder", "[secret]", True),
    ("unknown at preview", UNKNOWN, False),
]


@pytest.mark.parametrize(
    ("case", "value", "expected"), WRITTEN_CASES, ids=[c[0] for c in WRITTEN_CASES]
)
def test_written(case: str, value: Any, expected: bool) -> None:
    assert written(value) is expected


def test_documents_and_unwrap() -> None:
    text = '{"Statement": []}'
    assert document(text) == text
    assert document(env(text)) == text
    assert document(env(env({"Statement": [env({"Effect": "Allow"})]}))) == {
        "Statement": [{"Effect": "Allow"}]
    }
    for unreadable in (None, "", CIPHERTEXT, UNKNOWN, "[secret]", env(CIPHERTEXT), {SIG: SECRET}):
        assert document(unreadable) is None, unreadable
    assert unwrap({"a": [env(1), {"b": CIPHERTEXT}]}) == {"a": [1, {"b": UNKNOWN}]}
    assert [falsy(v) for v in (False, "false", " FALSE ", True, None, 0, "")] == [
        True,
        True,
        True,
        False,
        False,
        False,
        False,
    ]


# --------------------------------------------------------------------------- the SDKs

#: alternatives of a declared path that the installed SDKs no longer have, with the documented
#: shape of the previous major they stand for
PREVIOUS_MAJOR: dict[str, str] = {
    # pulumi-gcp 6 (Terraform google 4.x), deprecated there for ``auto`` and removed in 7: a state
    # written by it still holds the boolean (Google-managed encryption, no key possible)
    "automatic": "gcp:secretmanager/secret:Secret replication.automatic (bool), pulumi-gcp 6",
}


def _declared() -> list[tuple[str, tuple[str, ...], str]]:
    return [(f"{types[0]}:{path}", types, path) for types, path in shapes.DECLARED]


@pytest.mark.parametrize(
    ("types", "path"), [d[1:] for d in _declared()], ids=[d[0] for d in _declared()]
)
def test_declared_shapes_exist_in_the_installed_sdks(types: tuple[str, ...], path: str) -> None:
    """Each alternative name of each segment exists on a type the path reaches in some installed
    SDK (or is a documented shape of the previous major), and every installed type of the
    declaration reaches the end of the path in at least one form."""
    segments = [tuple(s.split("|")) for s in path.split(".")]
    installed = {t: resource_classes(t) for t in types}
    assert any(installed.values()), f"no installed SDK has any of {types}"
    seen: dict[tuple[int, str], bool] = {}
    for t, classes in installed.items():
        if classes is None:
            continue
        found = resolve(classes, segments)
        for k, v in found.items():
            seen[k] = seen.get(k, False) or v
        last = len(segments) - 1
        assert any(found[(last, n)] for n in segments[last]), f"{t} does not have {path}"
    missing = [n for (i, n), ok in seen.items() if not ok and n not in PREVIOUS_MAJOR]
    assert not missing, f"{path}: no installed SDK type has {missing}"
