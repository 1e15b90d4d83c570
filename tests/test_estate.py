"""The estate (infra/estate.py), exhaustively over both project stacks: which secrets, in which
scopes, with which labels, rotation plan, value source, revocation and per-role grants. The expected
values are computed here from the catalog, the access model and the settings, not by the estate."""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache

import pytest

from infra.access import ROLE_NAMES, ROLES, Action
from infra.catalog import (
    CatalogEntry,
    Environment,
    PostgresUrlGenerator,
    Scope,
    Source,
    default_catalog,
)
from infra.estate import (
    Estate,
    ExternalValue,
    GeneratedValue,
    StoredSecret,
    SuppliedValue,
    rotation_params,
)
from infra.settings import StackSettings
from infra.stack import build_estate, parse_settings
from nt_secrets.stackfile import SECURE_PLACEHOLDER, read_stack
from policies.contract.vocabulary import (
    TAG_ACCESS_SCOPES,
    TAG_CATALOG_NAME,
    TAG_CLASSIFICATION,
    TAG_ENVIRONMENT,
    TAG_HOME_STORE,
    TAG_REVOKED,
    TAG_ROTATION_CLASS,
    TAG_ROTATION_STRATEGY,
    TAG_SERVICE,
    TAG_VALUE_SOURCE,
)

from .conftest import ROOT

NS = "neural-trader-secrets:"
STACKS = {"dev": Environment.DEVELOPMENT, "prod": Environment.PRODUCTION}


def config_of(stack: str) -> dict[str, str]:
    return dict(read_stack(ROOT, stack).config)


@cache
def settings_of(stack: str) -> StackSettings:
    return parse_settings(config_of(stack))


@cache
def estate_of(stack: str) -> Estate:
    return build_estate(default_catalog(), settings_of(stack))


def stored(stack: str) -> tuple[CatalogEntry, ...]:
    return default_catalog().stored_in(STACKS[stack])


CASES = [(stack, entry.name) for stack in STACKS for entry in stored(stack)]
GRANT_CASES = [(stack, name, role) for stack, name in CASES for role in ROLE_NAMES]


def test_the_cases_cover_both_stacks_and_every_kind_of_secret() -> None:
    assert {s for s, _ in CASES} == set(STACKS)
    entries = [default_catalog().get(n) for _, n in CASES]
    assert any(e.generated for e in entries) and any(not e.generated for e in entries)
    assert any(isinstance(e.generator, PostgresUrlGenerator) for e in entries)
    assert any(e.rotatable for e in entries)


@pytest.mark.parametrize("stack", STACKS)
def test_every_stored_secret_appears_once_in_catalog_order(stack: str) -> None:
    estate = estate_of(stack)
    expected = tuple(e.name for e in stored(stack))
    assert estate.names == expected
    assert len(set(estate.names)) == len(estate.names)
    assert [s.entry for s in estate.secrets] == list(stored(stack))
    assert estate.environment is STACKS[stack] and all(
        s.environment is STACKS[stack] for s in estate.secrets
    )
    # Nothing the environment does not store (not needed here, not sensitive, workload identity).
    for entry in default_catalog():
        assert (entry.name in estate) == (entry.stored and entry.needed_in(STACKS[stack]))
    assert set(estate.roles) == set(ROLE_NAMES)


@pytest.mark.parametrize(("stack", "name", "role"), GRANT_CASES)
def test_grants_are_the_access_models(stack: str, name: str, role: str) -> None:
    estate = estate_of(stack)
    entry = default_catalog().get(name)
    expected = ROLES[role].grants(entry, STACKS[stack])  # type: ignore[index]
    secret = estate.secret(name)
    assert secret.grants.get(role, frozenset()) == expected  # type: ignore[call-overload]
    # Roles without access are absent, not present with an empty set.
    assert (role in secret.grants) == bool(expected)
    grants = estate.roles[role]  # type: ignore[index]
    assert grants.role is ROLES[role] and grants.name == role  # type: ignore[index]
    assert grants.secrets.get(name, frozenset()) == expected
    assert (name in grants.secrets) == bool(expected)
    assert (role in secret.roles_with(Action.READ)) == (Action.READ in expected)


@pytest.mark.parametrize("stack", STACKS)
def test_role_grants_name_only_secrets_of_the_estate(stack: str) -> None:
    estate = estate_of(stack)
    for grants in estate.roles.values():
        assert set(grants.secrets) <= set(estate.names)
        assert all(grants.secrets.values())


def expected_labels(secret: StoredSecret, settings: StackSettings) -> dict[str, str]:
    entry, env = secret.entry, settings.environment
    scopes = entry.scopes_in(env)
    rotated = entry.rotatable and entry.rotation is not None and entry.strategy is not None
    labels = {
        TAG_ENVIRONMENT: env.value,
        TAG_SERVICE: entry.service,
        TAG_CATALOG_NAME: entry.name,
        TAG_ACCESS_SCOPES: "+".join(sorted(s.value for s in scopes)),
        TAG_ROTATION_CLASS: entry.rotation.value if rotated and entry.rotation else "none",
        TAG_ROTATION_STRATEGY: entry.strategy.value if rotated and entry.strategy else "none",
        TAG_CLASSIFICATION: "restricted" if scopes & {Scope.LIVE, Scope.ADMIN} else "confidential",
        # Read from the settings, not the estate: the home the stack's placement gives it.
        TAG_HOME_STORE: settings.placements[entry.name].home,
        TAG_VALUE_SOURCE: "generated"
        if entry.generated
        else ("supplied" if entry.name in settings.supplied_values else "external"),
    }
    if rotated:
        labels.update(rotation_params(entry, settings))
    if entry.name in settings.revoked:
        labels[TAG_REVOKED] = "true"
    return labels


@pytest.mark.parametrize(("stack", "name"), CASES)
def test_labels_carry_the_contract(stack: str, name: str) -> None:
    settings = settings_of(stack)
    secret = estate_of(stack).secret(name)
    labels = secret.labels()
    assert labels == expected_labels(secret, settings)
    assert TAG_REVOKED not in labels and not secret.revoked  # the project stacks revoke nothing
    assert secret.scopes == secret.entry.scopes_in(STACKS[stack])
    restricted = bool(secret.scopes & {Scope.LIVE, Scope.ADMIN})
    assert (labels[TAG_CLASSIFICATION] == "restricted") == restricted


def test_labels_cover_both_classifications_and_several_scopes() -> None:
    """The table above meets a restricted and a confidential secret, and a '+'-joined value."""
    labels = [estate_of(s).secret(n).labels() for s, n in CASES]
    assert {lb[TAG_CLASSIFICATION] for lb in labels} == {"restricted", "confidential"}
    assert any("+" in lb[TAG_ACCESS_SCOPES] for lb in labels)
    assert any(set(lb) - set(expected_base_keys()) for lb in labels)  # some carry params


def expected_base_keys() -> tuple[str, ...]:
    return (
        TAG_ENVIRONMENT,
        TAG_SERVICE,
        TAG_CATALOG_NAME,
        TAG_ACCESS_SCOPES,
        TAG_ROTATION_CLASS,
        TAG_ROTATION_STRATEGY,
        TAG_CLASSIFICATION,
    )


@pytest.mark.parametrize(("stack", "name"), CASES)
def test_rotation_plan(stack: str, name: str) -> None:
    settings = settings_of(stack)
    secret = estate_of(stack).secret(name)
    entry = secret.entry
    if not (entry.rotatable and entry.strategy is not None):
        assert secret.rotation is None and secret not in estate_of(stack).rotated
        return
    plan = secret.rotation
    assert plan is not None and secret in estate_of(stack).rotated
    assert plan.rotation_class is entry.rotation and plan.strategy is entry.strategy
    assert plan.period_days == settings.rotation_days(entry)
    assert dict(plan.params) == rotation_params(entry, settings)


@pytest.mark.parametrize(("stack", "name"), CASES)
def test_revoked_only_when_the_settings_revoke_it(stack: str, name: str) -> None:
    config = config_of(stack) | {NS + "revoked": json.dumps([name])}
    settings = parse_settings(config)
    estate = build_estate(default_catalog(), settings)
    assert [s.name for s in estate.revoked] == [name]
    for secret in estate.secrets:
        labels = secret.labels()
        assert secret.revoked == (secret.name == name)
        assert (TAG_REVOKED in labels) == (secret.name == name)
        assert labels == expected_labels(secret, settings)
    assert estate.secret(name).labels()[TAG_REVOKED] == "true"


@pytest.mark.parametrize(("stack", "name"), CASES)
def test_value_source(stack: str, name: str) -> None:
    settings = settings_of(stack)
    secret = estate_of(stack).secret(name)
    entry = secret.entry
    if entry.source is Source.GENERATED:
        assert isinstance(secret.value, GeneratedValue)
        assert secret.value.generator == entry.generator
    if isinstance(entry.generator, PostgresUrlGenerator):
        assert isinstance(secret.value, GeneratedValue) and secret.value.database is not None
        assert secret.value.database == settings.databases[name]
    if not entry.generated:
        # The project stacks supply nothing: every third-party value comes from outside.
        assert secret.value == ExternalValue(entry.service)


SUPPLY_CASES = [(s, n) for s, n in CASES if not default_catalog().get(n).generated]


@pytest.mark.parametrize(("stack", "name"), SUPPLY_CASES)
def test_a_value_the_config_supplies_as_a_secret(stack: str, name: str) -> None:
    key = NS + name
    settings = parse_settings(config_of(stack) | {key: SECURE_PLACEHOLDER}, secret_keys=[key])
    estate = build_estate(default_catalog(), settings)
    assert estate.secret(name).value == SuppliedValue(key)
    assert estate.supplied == (name,)
    for secret in estate.secrets:
        if secret.name != name:
            # Everything else is as without the supplied value.
            assert (
                secret.value
                == build_estate(default_catalog(), settings_of(stack)).secret(secret.name).value
            )


@pytest.mark.parametrize("stack", STACKS)
def test_master_secrets_are_the_settings_references(stack: str) -> None:
    settings = settings_of(stack)
    refs = {db.master_secret for db in settings.databases.values() if db.master_secret}
    if settings.redis is not None:
        refs.add(settings.redis.master_secret)
    assert refs, "the project stacks name master secrets"
    assert estate_of(stack).master_secrets() == tuple(sorted(refs))


@pytest.mark.parametrize("stack", STACKS)
def test_estate_wide_settings(stack: str) -> None:
    settings, estate = settings_of(stack), estate_of(stack)
    assert estate.catalog is default_catalog()
    assert estate.protected == settings.protected
    assert estate.audit_trail == settings.audit_trail_enabled
    assert estate.recovery_window_days == settings.recovery_window
    assert estate.notification_emails == settings.notifications.emails
    assert estate.is_production == (stack == "prod")


# ---- purity ---------------------------------------------------------------------------------------

NO_PULUMI = (
    "import sys\n"
    "{code}\n"
    "bad = sorted(m for m in sys.modules"
    " if m == 'pulumi' or m.startswith('pulumi.') or m.startswith('pulumi_'))\n"
    "assert not bad, bad\n"
    "print('ok')\n"
)


@pytest.mark.parametrize(
    "code",
    [
        "import infra.estate",
        "import infra.backends; infra.backends.registry()",
        "import infra.backends.aws",
        # The estate of a real stack, computed in full (registry discovery included).
        "from infra.catalog import default_catalog\n"
        "from infra.stack import build_estate, parse_settings\n"
        "from nt_secrets.stackfile import read_stack\n"
        "from pathlib import Path\n"
        "e = build_estate(default_catalog(), parse_settings(read_stack(Path('.'), 'prod').config))\n"
        "assert e.names and e.master_secrets()",
    ],
    ids=["estate", "registry", "aws-backend", "build-estate"],
)
def test_the_pure_layers_import_no_pulumi(code: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", NO_PULUMI.format(code=code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_the_purity_check_can_fail() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", NO_PULUMI.format(code="import pulumi")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode != 0 and "pulumi" in proc.stderr
