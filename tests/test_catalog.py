"""The catalog: complete against the seed, and a broken catalog is refused with the entry and rule named."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from infra.catalog import (
    CATALOG_PATH,
    CatalogError,
    Environment,
    RotationClass,
    Scope,
    Source,
    default_catalog,
    parse_catalog,
)

from .conftest import SEED, reference_file


def seed_variables() -> set[str]:
    """Every variable assigned in the seed document's section 1 (plus DOTENV_KEY of section 3.2)."""
    text = reference_file(SEED).read_text()
    section1 = text[
        text.index("## 1. Complete Environment Variable List") : text.index(
            "## 2. Example .env Files"
        )
    ]
    names = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", section1, flags=re.M))
    names |= set(re.findall(r"\b(DOTENV_KEY)=", text))
    return names


def test_seed_has_65_variables_plus_dotenv_key() -> None:
    names = seed_variables()
    assert len(names) == 66
    assert "ALPACA_API_KEY" in names and "AIDEFENCE_ENABLED" in names and "DOTENV_KEY" in names


def test_every_seed_variable_is_in_the_catalog_and_nothing_else() -> None:
    assert set(default_catalog().names) == seed_variables()


def test_rotation_schedule_matches_the_seed() -> None:
    assert {c.value: c.max_age_days for c in RotationClass} == {
        "api_key": 90,
        "database_password": 180,
        "jwt_secret": 365,
        "encryption_key": 730,
    }


@pytest.mark.parametrize("entry", default_catalog().entries, ids=lambda e: e.name)
def test_every_entry_is_coherent(entry: Any) -> None:
    """Table-driven over all 66 entries: the facts every backend relies on."""
    if entry.stored:
        assert entry.rotation is not None and entry.strategy is not None and entry.scopes
        assert re.fullmatch(r"[a-z0-9-]+/[a-z0-9-]+", f"{entry.service}/{entry.key}")
    if entry.source is Source.WORKLOAD_IDENTITY:
        assert not entry.stored and entry.replaced_by
    if entry.generated:
        assert entry.generator is not None
    if entry.trading_mode:
        for env, mode in entry.trading_mode.items():
            scopes = entry.scopes_in(env)
            if mode.is_live:
                assert Scope.PAPER not in scopes and Scope.TEST not in scopes
            else:
                assert Scope.LIVE not in scopes


def test_long_lived_cloud_keys_are_replaced_by_workload_identity() -> None:
    cat = default_catalog()
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AZURE_CLIENT_SECRET",
        "GOOGLE_APPLICATION_CREDENTIALS",
    ):
        assert cat.get(name).source is Source.WORKLOAD_IDENTITY
        assert not cat.get(name).stored


def test_generated_secrets_are_the_ones_the_infrastructure_owns() -> None:
    generated = {e.name for e in default_catalog() if e.generated}
    assert generated == {
        "JWT_SECRET",
        "ENCRYPTION_KEY",
        "API_SIGNING_SECRET",
        "DATABASE_URL",
        "REDIS_PASSWORD",
        "TIMESCALE_URL",
    }


def test_alpaca_keys_are_paper_outside_production_and_live_in_it() -> None:
    key = default_catalog().get("ALPACA_API_KEY")
    assert key.scopes_in(Environment.DEVELOPMENT) == {Scope.PAPER}
    assert key.scopes_in(Environment.PRODUCTION) == {Scope.LIVE}


def _raw() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(CATALOG_PATH.read_text())
    return data


def _with(mutate: Any) -> dict[str, Any]:
    data = _raw()
    mutate(data["entries"])
    return data


def _entry(entries: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(e for e in entries if e["name"] == name)


BROKEN = [
    (
        "duplicate name",
        lambda es: es.append(dict(_entry(es, "JWT_SECRET"))),
        "JWT_SECRET",
        "duplicate",
    ),
    (
        "unknown rotation class",
        lambda es: _entry(es, "OPENAI_API_KEY").update(rotation="weekly"),
        "OPENAI_API_KEY",
        "schema",
    ),
    (
        # a name that does not read as one is user input (perhaps a secret): the entry is named
        # by its position instead
        "not an environment variable name",
        lambda es: _entry(es, "OPENAI_API_KEY").update(name="openai-key"),
        f"#{[e['name'] for e in _raw()['entries']].index('OPENAI_API_KEY')}",
        "schema",
    ),
    (
        "live secret in a paper-only scope",
        lambda es: _entry(es, "ALPACA_API_KEY").update(scopes=["paper"]),
        "ALPACA_API_KEY",
        "live-in-paper-scope",
    ),
    (
        "stored secret without rotation",
        lambda es: _entry(es, "SLACK_BOT_TOKEN").pop("rotation"),
        "SLACK_BOT_TOKEN",
        "rotation-required",
    ),
    (
        "generated secret without generator",
        lambda es: _entry(es, "JWT_SECRET").pop("generator"),
        "JWT_SECRET",
        "generator",
    ),
    (
        "third-party key with an automatic strategy",
        lambda es: _entry(es, "OPENAI_API_KEY").update(strategy="generated-hmac"),
        "OPENAI_API_KEY",
        "strategy-source",
    ),
    (
        "unknown field",
        lambda es: _entry(es, "LOG_LEVEL").update(colour="blue"),
        "LOG_LEVEL",
        "schema",
    ),
]


@pytest.mark.parametrize(("case", "mutate", "entry", "rule"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_catalog_names_entry_and_rule(case: str, mutate: Any, entry: str, rule: str) -> None:
    with pytest.raises(CatalogError) as err:
        parse_catalog(_with(mutate))
    assert (entry, rule) in {(p[0], p[1]) for p in err.value.problems}, err.value
    assert entry in str(err.value) and rule in str(err.value)


def test_catalog_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(CatalogError, match="entries"):
        parse_catalog(["not", "a", "catalog"])
