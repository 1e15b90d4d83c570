"""The policy pack's own reader of the catalog file (policies/contract/catalog.py): it agrees with
the program's catalog (infra/catalog.py) on every entry and environment of the real catalog, refuses
bad input naming the entry and the key without showing a value, and the coverage policy judges with
it, whatever catalog file its config names."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.catalog import CATALOG_PATH, default_catalog
from policies.contract import catalog as pack_catalog
from policies.contract.catalog import (
    CatalogReadError,
    Environment,
    PackCatalog,
    parse_catalog,
    read_catalog,
)
from policies.stack import catalog_from

FAKE_KEY = "sk-ant-api03-FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE"  # pragma: allowlist secret


def test_the_default_is_the_program_catalog() -> None:
    assert CATALOG_PATH.resolve() == pack_catalog.DEFAULT_CATALOG


@pytest.mark.parametrize("environment", list(Environment))
def test_agrees_with_the_program_on_every_environment(environment: Environment) -> None:
    program = default_catalog()
    pack = read_catalog()
    assert [e.name for e in pack.stored_in(environment)] == [
        e.name for e in program.stored_in(environment)
    ]
    assert len(pack.stored_in(environment)) > 0


def test_agrees_with_the_program_on_every_entry() -> None:
    program = {e.name: e for e in default_catalog()}
    pack = {e.name: e for e in read_catalog()}
    assert list(pack) == list(program)
    for name, entry in pack.items():
        theirs = program[name]
        assert entry.stored == theirs.stored, name
        assert entry.rotatable == theirs.rotatable, name
        assert entry.rotation == theirs.rotation, name
        assert entry.environments == frozenset(theirs.environments), name
        for env in Environment:
            assert entry.needed_in(env) == theirs.needed_in(env), (name, env)
    # Both kinds of non-stored entry are present, so "stored" is really compared.
    assert any(not e.stored and e.sensitive for e in pack.values())  # workload identity
    assert any(not e.sensitive for e in pack.values())  # plain configuration


def _entry(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "JWT_SECRET",
        "sensitive": True,
        "source": "generated",
        "environments": ["development"],
        "rotation": "jwt_secret",
    }
    return {k: v for k, v in (base | overrides).items() if v is not ...}


BAD = [
    # (case, document, fragment the message must hold)
    ("not a mapping", [1, 2], "expected a mapping with an 'entries' list"),
    ("entries not a list", {"entries": {"a": 1}}, "expected a mapping with an 'entries' list"),
    ("entry not a mapping", {"entries": ["JWT_SECRET"]}, "entry #0: expected a mapping"),
    ("name missing", {"entries": [_entry(name=...)]}, "entry #0: name must be"),
    ("name a credential", {"entries": [_entry(name=FAKE_KEY)]}, "entry #0: name must be"),
    ("sensitive not bool", {"entries": [_entry(sensitive="yes")]}, "entry JWT_SECRET: sensitive"),
    ("source missing", {"entries": [_entry(source=...)]}, "entry JWT_SECRET: source"),
    ("no environments", {"entries": [_entry(environments=[])]}, "JWT_SECRET: environments must"),
    (
        "unknown environment",
        {"entries": [_entry(environments=["development", FAKE_KEY])]},
        "entry JWT_SECRET: environments.1 must be one of development, ci, staging, production",
    ),
    (
        "unknown rotation",
        {"entries": [_entry(rotation=FAKE_KEY)]},
        "entry JWT_SECRET: rotation must be one of api_key",
    ),
]


@pytest.mark.parametrize(("case", "document", "fragment"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_names_the_entry_and_key_never_the_value(
    case: str, document: Any, fragment: str
) -> None:
    with pytest.raises(CatalogReadError) as exc:
        parse_catalog(document)
    assert fragment in str(exc.value), case
    assert FAKE_KEY not in str(exc.value)


@pytest.mark.parametrize(
    ("entry", "stored", "rotatable"),
    [
        (_entry(), True, True),
        (_entry(rotation=...), True, False),
        (_entry(sensitive=False, source="config", rotation=...), False, False),
        (_entry(source="workload-identity", rotation=...), False, False),
    ],
)
def test_stored_and_rotatable(entry: dict[str, Any], stored: bool, rotatable: bool) -> None:
    (only,) = parse_catalog({"entries": [entry]}).entries
    assert (only.stored, only.rotatable) == (stored, rotatable)
    expected = ("JWT_SECRET",) if stored else ()
    got = parse_catalog({"entries": [entry]}).stored_in(Environment.DEVELOPMENT)
    assert tuple(e.name for e in got) == expected
    assert parse_catalog({"entries": [entry]}).stored_in(Environment.PRODUCTION) == ()


def test_unreadable_files_are_refused_with_the_file_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(CatalogReadError, match=r"nope\.yaml"):
        read_catalog(missing)
    broken = tmp_path / "broken.yaml"
    broken.write_text(f"entries: [{{name: {FAKE_KEY}\n", encoding="utf-8")
    with pytest.raises(CatalogReadError, match="not valid YAML") as exc:
        read_catalog(broken)
    assert FAKE_KEY not in str(exc.value)


def test_a_missing_default_asks_for_catalog_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A published pack has no project catalog beside it: the message says what to set."""
    monkeypatch.setattr(pack_catalog, "DEFAULT_CATALOG", tmp_path / "infra" / "catalog.yaml")
    with pytest.raises(CatalogReadError, match="set catalogPath"):
        read_catalog()
    with pytest.raises(CatalogReadError) as exc:
        read_catalog(tmp_path / "other.yaml")
    assert "catalogPath" not in str(exc.value)  # an explicit path is the user's own


def test_an_edited_file_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump({"entries": [_entry()]}), encoding="utf-8")
    assert [e.name for e in read_catalog(path)] == ["JWT_SECRET"]
    path.write_text(
        yaml.safe_dump({"entries": [_entry(), _entry(name="API_SECRET_KEY")]}), encoding="utf-8"
    )
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert [e.name for e in read_catalog(path)] == ["JWT_SECRET", "API_SECRET_KEY"]


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({}, "program"),
        ({"catalogPath": ""}, "program"),
        ({"catalogPath": "__small__"}, "small"),
    ],
)
def test_the_coverage_config_chooses_the_file(
    tmp_path: Path, config: dict[str, str], expected: str
) -> None:
    small = tmp_path / "small.yaml"
    small.write_text(yaml.safe_dump({"entries": [_entry()]}), encoding="utf-8")
    if config.get("catalogPath") == "__small__":
        config = {"catalogPath": str(small)}
    got: PackCatalog = catalog_from(config)
    names = [e.name for e in got]
    if expected == "small":
        assert names == ["JWT_SECRET"]
    else:
        assert names == [e.name for e in default_catalog()]


# ---- one strict reading on both sides (issue 23) -------------------------------------------------

#: Loose values a YAML author writes where the catalog means a boolean, a number, a list or a name:
#: (case, key, value). The program's model alone (pydantic, lax) read some of them as valid.
LOOSE: list[tuple[str, str, Any]] = [
    ("sensitive yes", "sensitive", "yes"),
    ("sensitive 'true'", "sensitive", "true"),
    ("sensitive on", "sensitive", "on"),
    ("sensitive 1", "sensitive", 1),
    ("sensitive 0", "sensitive", 0),
    ("sensitive null", "sensitive", None),
    ("sensitive missing", "sensitive", ...),
    ("environments a string", "environments", "development"),
    ("environments a mapping", "environments", {"development": True}),
    ("rotation a number", "rotation", 30),
    ("source a number", "source", 5),
    ("source missing", "source", ...),
    ("generator bytes a string", "generator", {"kind": "hex", "bytes": "64"}),
    ("generator bytes a float", "generator", {"kind": "hex", "bytes": 64.0}),
    ("generator bytes a boolean", "generator", {"kind": "hex", "bytes": True}),
]


def _real_catalog_with(key: str, value: Any) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(CATALOG_PATH.read_text(encoding="utf-8"))
    (entry,) = [e for e in data["entries"] if e["name"] == "JWT_SECRET"]
    if value is ...:
        del entry[key]
    else:
        entry[key] = value
    return data


@pytest.mark.parametrize(("case", "key", "value"), LOOSE, ids=[c for c, _, _ in LOOSE])
def test_a_loose_value_is_bad_input_for_the_program_and_the_pack_alike(
    case: str, key: str, value: Any
) -> None:
    from infra.catalog import CatalogError
    from infra.catalog import parse_catalog as program_parse

    data = _real_catalog_with(key, value)
    with pytest.raises(CatalogError) as program:
        program_parse(data)
    assert [p[0] for p in program.value.problems] == ["JWT_SECRET"], program.value.problems
    assert f"[schema] {key}" in str(program.value), case
    if key != "generator":  # a field the pack does not read
        with pytest.raises(CatalogReadError, match=f"entry JWT_SECRET: {key}"):
            parse_catalog(data)


@pytest.mark.parametrize(
    ("case", "document"),
    [(c, d) for c, d, _ in BAD] + [(c, _real_catalog_with(k, v)) for c, k, v in LOOSE],
    ids=[c for c, _, _ in BAD] + [c for c, _, _ in LOOSE],
)
def test_whatever_the_program_reads_the_pack_reads(case: str, document: Any) -> None:
    from infra.catalog import CatalogError
    from infra.catalog import parse_catalog as program_parse

    try:
        program_parse(document)
    except CatalogError:
        return
    parse_catalog(document)  # must not raise: a planned catalog is one the pack can judge


@pytest.mark.parametrize("value", ["yes", 1], ids=["yes", "1"])
def test_plan_with_a_loose_boolean_is_exit_2_naming_the_entry_not_a_violation(
    value: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from nt_secrets.cli import main

    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(yaml.safe_dump(_real_catalog_with("sensitive", value)), encoding="utf-8")
    with pytest.raises(SystemExit) as exc:
        main(["plan", "--stack", "dev", "--catalog", str(catalog)])
    out, err = capsys.readouterr()
    assert exc.value.code == 2 and out == ""
    assert "JWT_SECRET: [schema] sensitive must be true or false" in err
    assert "HIGH" not in err and "Traceback" not in err
