"""The store-neutral seams: strategy registry, context protocol, contract compatibility names."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

import pytest

from infra.rotation import aws_transport, contract
from infra.rotation.aws_context import SecretsManagerContext
from infra.rotation.contract import RotationStep, RotationStrategy
from infra.rotation.errors import ContractError, UnknownStrategyError
from infra.rotation.strategies import (
    REGISTRY,
    AdminCredentials,
    RotationContext,
    Strategy,
    StrategyFactory,
    get_strategy,
)
from infra.rotation.strategies.generated import GeneratedKeyStrategy
from infra.rotation.strategies.manual import ThirdPartyManual
from infra.rotation.strategies.postgres import PostgresAlternatingUsers, PostgresSingleUser
from infra.rotation.strategies.redis_acl import RedisAclStrategy

EXPECTED_IMPLEMENTATION: Mapping[RotationStrategy, type] = {
    RotationStrategy.GENERATED_HMAC: GeneratedKeyStrategy,
    RotationStrategy.GENERATED_AES256: GeneratedKeyStrategy,
    RotationStrategy.POSTGRES_SINGLE_USER: PostgresSingleUser,
    RotationStrategy.POSTGRES_ALTERNATING_USERS: PostgresAlternatingUsers,
    RotationStrategy.REDIS_ACL: RedisAclStrategy,
    RotationStrategy.THIRD_PARTY_MANUAL: ThirdPartyManual,
}


def test_expectation_table_covers_every_strategy() -> None:
    assert set(EXPECTED_IMPLEMENTATION) == set(RotationStrategy)


@pytest.mark.parametrize("name", list(RotationStrategy))
def test_every_strategy_is_registered_and_satisfies_the_protocol(name: RotationStrategy) -> None:
    assert name in REGISTRY
    strategy = get_strategy(name)
    assert isinstance(strategy, Strategy)
    assert type(strategy) is EXPECTED_IMPLEMENTATION[name]
    for step in RotationStep:  # the four-step protocol: one method per step
        assert callable(getattr(strategy, step.value))


def test_generated_factory_keeps_the_variant() -> None:
    hmac, aes = (
        get_strategy(RotationStrategy.GENERATED_HMAC),
        get_strategy(RotationStrategy.GENERATED_AES256),
    )
    assert isinstance(hmac, GeneratedKeyStrategy) and isinstance(aes, GeneratedKeyStrategy)
    assert (hmac.strategy, aes.strategy) == (
        RotationStrategy.GENERATED_HMAC,
        RotationStrategy.GENERATED_AES256,
    )


@pytest.mark.parametrize("name", list(RotationStrategy))
def test_an_unregistered_strategy_raises_instead_of_falling_back(name: RotationStrategy) -> None:
    partial: dict[RotationStrategy, StrategyFactory] = {
        k: v for k, v in REGISTRY.items() if k is not name
    }
    with pytest.raises(
        UnknownStrategyError, match=f"no rotation strategy is registered for '{name}'"
    ):
        get_strategy(name, partial)


def test_an_unknown_value_raises_a_contract_error() -> None:
    with pytest.raises(
        ContractError, match="'rot13'; registered: generated-aes256, generated-hmac"
    ):
        get_strategy("rot13")  # type: ignore[arg-type]


def test_registry_is_read_only() -> None:
    writable: Any = REGISTRY
    with pytest.raises(TypeError):
        writable[RotationStrategy.REDIS_ACL] = REGISTRY[RotationStrategy.GENERATED_HMAC]


def test_secrets_manager_context_satisfies_the_context_protocol() -> None:
    no_client: Any = None  # never called: only the identity and parameters are read
    ctx = SecretsManagerContext(client=no_client, arn="arn:x", token="t", tags={"k": "v"}, env={})
    assert isinstance(ctx, RotationContext)
    assert (ctx.secret_id, ctx.version_id, dict(ctx.params)) == ("arn:x", "t", {"k": "v"})


def test_strategies_depend_only_on_the_neutral_protocol() -> None:
    """No strategy module imports the AWS side (transport, context, handler, boto3)."""
    from infra.rotation.strategies import generated, manual, postgres, redis_acl

    for module in (generated, manual, postgres, redis_acl):
        source = inspect.getsource(module)
        for aws_only in ("aws_transport", "aws_context", "handler", "boto3", "ENV_", "TAG_"):
            assert aws_only not in source, (module.__name__, aws_only)


def test_steps_map_one_to_one() -> None:
    assert [RotationStep(v) for v in aws_transport.STEP_EVENTS.values()] == list(RotationStep)


#: Every public name ``infra.rotation.contract`` had before the split, with its value where
#: it is a deployed string: code outside infra/rotation keeps importing them from there.
COMPAT_STRINGS = {
    "TAG_ENVIRONMENT": "environment",
    "TAG_SERVICE": "service",
    "TAG_ROTATION_CLASS": "rotation-class",
    "TAG_CLASSIFICATION": "classification",
    "TAG_ROTATION_STRATEGY": "rotation-strategy",
    "TAG_MASTER_SECRET": "rotation-master-secret",
    "TAG_REDIS_ENDPOINT": "rotation-redis-endpoint",
    "TAG_REDIS_USER": "rotation-redis-user",
    "TAG_REDIS_TLS": "rotation-redis-tls",
    "TAG_PROVIDER": "rotation-provider",
    "ENV_ROTATION_TOPIC_ARN": "NT_ROTATION_TOPIC_ARN",
    "ENV_SECRETS_MANAGER_ENDPOINT": "SECRETS_MANAGER_ENDPOINT",
    "LAMBDA_HANDLER": "infra.rotation.handler.lambda_handler",
    "LAMBDA_RUNTIME": "python3.11",
    "AWSCURRENT": "AWSCURRENT",
    "AWSPENDING": "AWSPENDING",
    "AWSPREVIOUS": "AWSPREVIOUS",
}
COMPAT_OTHER = (
    "RotationClass",
    "ROTATION_DAYS",
    "RotationStrategy",
    "REQUIRED_TAGS",
    "HMAC_KEY_BYTES",
    "AES256_KEY_BYTES",
    "parse_strategy",
    "missing_tags",
    "redis_tls_enabled",
)


@pytest.mark.parametrize(("name", "value"), COMPAT_STRINGS.items())
def test_contract_keeps_every_old_string_name(name: str, value: str) -> None:
    assert getattr(contract, name) == value
    assert name in contract.__all__


@pytest.mark.parametrize("name", COMPAT_OTHER)
def test_contract_keeps_every_old_name(name: str) -> None:
    assert hasattr(contract, name)
    assert name in contract.__all__


def test_tag_names_are_the_parameter_keys() -> None:
    for name in COMPAT_STRINGS:
        if name.startswith("TAG_"):
            assert getattr(contract, name) == getattr(contract, "PARAM_" + name[4:])
    assert contract.REQUIRED_TAGS is contract.REQUIRED_PARAMS
    params = {contract.TAG_REDIS_USER: "u"}
    assert contract.missing_tags(RotationStrategy.REDIS_ACL, params) == contract.missing_params(
        RotationStrategy.REDIS_ACL, params
    )


def test_aws_transport_imports_nothing_of_the_package() -> None:
    """contract.py re-exports it, so it must not import contract (or anything third-party)."""
    source = inspect.getsource(aws_transport)
    imports = [line for line in source.splitlines() if line.startswith(("import ", "from "))]
    assert imports == [
        "from __future__ import annotations",
        "from collections.abc import Iterable, Mapping",
        "from typing import Any, Final",
    ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('{"username": "m", "password": "pw"}', (None, None)),
        (
            '{"username": "m", "password": "pw", "host": " DB.internal ", "port": 6432}',
            ("DB.internal", 6432),
        ),
        (
            '{"username": "m", "password": "pw", "host": "db", "port": "5432", "engine": "postgres"}',
            ("db", 5432),
        ),
        ('{"username": "m", "password": "pw", "host": null, "dbname": "nt"}', (None, None)),
    ],
)
def test_admin_credentials_optional_endpoint(
    raw: str, expected: tuple[str | None, int | None]
) -> None:
    creds = AdminCredentials.parse(raw)
    assert (creds.username, creds.password) == ("m", "pw")
    assert (creds.host, creds.port) == expected
    assert "pw" not in repr(creds)


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ('{"username": "m", "password": "sekrit", "host": ""}', "host must be a non-empty string"),
        ('{"username": "m", "password": "sekrit", "host": 5}', "host must be a non-empty string"),
        ('{"username": "m", "password": "sekrit", "port": 0}', "port must be an integer"),
        ('{"username": "m", "password": "sekrit", "port": "x5432"}', "port must be an integer"),
        ('{"username": "m", "password": "sekrit", "port": true}', "port must be an integer"),
        ('{"username": "m", "password": "sekrit", "port": 70000}', "port must be an integer"),
    ],
)
def test_admin_credentials_reject_a_bad_endpoint(raw: str, error: str) -> None:
    with pytest.raises(ValueError, match=error) as info:
        AdminCredentials.parse(raw)
    assert "sekrit" not in str(info.value)
