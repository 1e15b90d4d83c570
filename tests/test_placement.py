"""One home store per secret, replicas only where asked: the placement block's rules and errors,
the project stacks' placement, and a declared replica end to end (one value, rotated by its home
only, revoked with its home, clean under the pack)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from infra.catalog import Environment, default_catalog
from infra.settings import SettingsError
from infra.stack import build_estate, parse_settings
from nt_secrets.plan import records
from nt_secrets.stackfile import read_stack
from policies.runner import run
from tests.plans import plan_config

from .conftest import ROOT

NS = "neural-trader-secrets:"
P = NS + "placement"
ACCOUNTS = {"dev": "123456789012", "prod": "210987654321"}


#: The project's databases and Redis stay in AWS, where their master secrets and rotation are.
DATABASES = {"postgres": "aws", "timescale": "aws", "redis": "aws"}


def config_with(stack: str = "dev", **placement: Any) -> dict[str, str]:
    """The project stack with its placement block replaced by ``placement`` (the databases'
    services kept in AWS unless the block says otherwise)."""
    config = dict(read_stack(ROOT, stack).config)
    services = {**DATABASES, **placement.get("services", {})}
    config[P] = json.dumps({**placement, "services": services})
    return config


def problems(config: dict[str, str]) -> list[tuple[str, str]]:
    with pytest.raises(SettingsError) as info:
        parse_settings(config)
    return info.value.problems


# ---- the block's rules ------------------------------------------------------------------------

INVALID: list[tuple[str, dict[str, Any], set[str], str]] = [
    ("no home while several stores are enabled", {}, {P + ".home"}, "required: 4 stores"),
    (
        "a home that is not an enabled store",
        {"home": "hashicorp"},
        {P + ".home"},
        "'hashicorp' is not an enabled store (enabled stores: aws, vault, gcp, azure)",
    ),
    (
        "the delivery is not a store",
        {"home": "kubernetes"},
        {P + ".home"},
        "'kubernetes' is not an enabled store",
    ),
    (
        "several rules naming one missing store are one problem",
        {"home": "vault", "services": {"alpaca": "oracle", "binance": "oracle"}},
        {P},
        "'oracle' (services.alpaca, services.binance) is not an enabled store",
    ),
    (
        "a service the catalog does not know",
        {"home": "vault", "services": {"kraken": "aws"}},
        {P + ".services.kraken"},
        "no catalog entry belongs to this service",
    ),
    (
        "a secret the catalog does not know",
        {"home": "vault", "secrets": {"KRAKEN_API_KEY": "aws"}},
        {P + ".secrets.KRAKEN_API_KEY"},
        "not a catalog entry",
    ),
    (
        "plain configuration is never placed",
        {"home": "vault", "secrets": {"ALPACA_API_URL": "aws"}},
        {P + ".secrets.ALPACA_API_URL"},
        "never stored",
    ),
    (
        "a replica in its own home",
        {"home": "vault", "replicas": {"JWT_SECRET": ["vault"]}},
        {P + ".replicas.JWT_SECRET"},
        "'vault' is the home of JWT_SECRET",
    ),
    (
        "an empty replica list",
        {"home": "vault", "replicas": {"JWT_SECRET": []}},
        {P + ".replicas"},
        "name at least one replica store",
    ),
    (
        "a replica listed twice",
        {"home": "vault", "replicas": {"JWT_SECRET": ["aws", "aws"]}},
        {P + ".replicas"},
        "listed twice",
    ),
    (
        "scopes that send one secret to two homes",
        {"home": "vault", "scopes": {"test": "aws", "paper": "gcp"}},
        {P + ".scopes"},
        "place it under",
    ),
    ("an unknown key", {"home": "vault", "stores": ["aws"]}, {P + ".stores"}, "Extra inputs"),
]


@pytest.mark.parametrize(("case", "block", "keys", "text"), INVALID, ids=[c[0] for c in INVALID])
def test_a_bad_placement_names_its_key(
    case: str, block: dict[str, Any], keys: set[str], text: str
) -> None:
    found = problems(config_with(**block))
    assert {k for k, _ in found} == keys, found
    assert any(text in reason for _, reason in found), found


def test_the_most_specific_rule_wins() -> None:
    """secrets over services over scopes over home."""
    settings = parse_settings(
        config_with(
            home="vault",
            scopes={"test": "gcp", "paper": "gcp"},
            services={"alpaca": "azure"},
            secrets={"ALPACA_SECRET_KEY": "aws"},
        )
    )
    homes = {n: p.home for n, p in settings.placements.items()}
    assert homes["ALPACA_SECRET_KEY"] == "aws"  # by name
    assert homes["ALPACA_API_KEY"] == "azure"  # by service (alpaca is in the paper scope too)
    assert homes["JWT_SECRET"] == "gcp"  # by scope (test+paper, both gcp)
    stored = default_catalog().stored_in(Environment.DEVELOPMENT)
    assert set(homes) == {e.name for e in stored}


def test_one_store_is_the_home_of_everything_without_a_block() -> None:
    config = dict(read_stack(ROOT, "dev").config)
    config.pop(P)
    config[NS + "backends"] = json.dumps(["aws"])
    for other in ("vault", "gcp", "azure", "kubernetes"):
        config.pop(NS + other)
    settings = parse_settings(config)
    assert {p.home for p in settings.placements.values()} == {"aws"}
    assert all(p.replicas == () for p in settings.placements.values())


# ---- the project's stacks ------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_project_stacks_place_every_secret_once(stack: str) -> None:
    settings = parse_settings(read_stack(ROOT, stack).config)
    estate = build_estate(default_catalog(), settings)
    homes = Counter(s.home for s in estate.secrets)
    assert set(homes) == {"aws", "vault", "gcp", "azure"}, homes  # four homes in use
    assert all(s.replicas == () for s in estate.secrets)  # no replica unless asked
    # Each store holds exactly what it is home to; together, every stored secret once.
    held = [n for store in homes for n in estate.held_by(store).names]
    assert sorted(held) == sorted(estate.names)


# ---- a declared replica, end to end ------------------------------------------------------------


def replica_plan(**settings: Any) -> Any:
    """dev with JWT_SECRET (home Vault) replicated into Secrets Manager (a consumer that reads
    only Secrets Manager), plus neutral ``settings``."""
    config = dict(read_stack(ROOT, "dev").config)
    placement = json.loads(config[P])
    config[P] = json.dumps({**placement, "replicas": {"JWT_SECRET": ["aws"]}})
    for key, value in settings.items():
        config[NS + key] = json.dumps(value)
    return plan_config(config, stack="dev", account_id=ACCOUNTS["dev"])


def _copies(cap: Any, name: str) -> dict[str, Any]:
    out = {}
    for r in cap.resources:
        if (
            r.type == "aws:secretsmanager/secret:Secret"
            and r.raw_inputs["tags"].get("catalog-name") == name
        ):
            out["aws"] = r
        if (
            r.type == "vault:kv/secretV2:SecretV2"
            and r.raw_inputs["customMetadata"]["data"].get("catalog-name") == name
        ):
            out["vault"] = r
    return out


def test_a_replica_carries_the_homes_one_value_and_is_never_rotated_on_its_own() -> None:
    cap = replica_plan()
    copies = _copies(cap, "JWT_SECRET")
    assert set(copies) == {"aws", "vault"}
    aws_labels = copies["aws"].raw_inputs["tags"]
    assert aws_labels["home-store"] == "vault" and aws_labels["replica-of"] == "vault"
    assert "replica-of" not in copies["vault"].raw_inputs["customMetadata"]["data"]
    # One material feeds both copies (the AWS copy's value is its version's input).
    (material,) = [r.urn for r in cap.resources if r.name == "jwt-secret-material"]
    version = next(
        r
        for r in cap.resources
        if r.parent == copies["aws"].urn and r.type.endswith("SecretVersion")
    )
    assert material in version.property_dependencies["secretString"]
    assert material in copies["vault"].property_dependencies["dataJsonWo"]
    # The Lambda never rotates the replica: its home's rotation writes it.
    rotated = {
        r.raw_inputs["secretId"]
        for r in cap.resources
        if r.type == "aws:secretsmanager/secretRotation:SecretRotation"
    }
    assert copies["aws"].outputs["id"] not in rotated
    # The pack judges the relation, and the replica's missing schedule, as what they are: clean.
    assert run(records(cap)).violations == []


def test_a_replica_label_alone_exempts_nothing() -> None:
    """Without its home copy in the stack (or forged on a foreign secret), a replica-of label
    does not excuse a Secrets Manager secret from its rotation schedule."""
    cap = replica_plan()
    copies = _copies(cap, "JWT_SECRET")
    orphaned = [r for r in records(cap) if r.urn != copies["vault"].urn]
    found = {(v.policy, v.urn) for v in run(orphaned).violations}
    assert ("aws-secretsmanager-rotation-schedule", copies["aws"].urn) in found
    assert any(p == "nt-stack-single-source" for p, _ in found)


def test_revoking_a_secret_revokes_its_replica_too() -> None:
    cap = replica_plan(revoked=["JWT_SECRET"])
    copies = _copies(cap, "JWT_SECRET")
    assert copies["aws"].raw_inputs["tags"]["revoked"] == "true"
    assert copies["vault"].raw_inputs["customMetadata"]["data"]["revoked"] == "true"
    arn = copies["aws"].outputs["arn"]
    denied = set()
    for policy in (r for r in cap.resources if r.type == "aws:iam/rolePolicy:RolePolicy"):
        doc = json.loads(policy.raw_inputs["policy"])
        for st in doc["Statement"]:
            resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
            if st["Effect"] == "Deny" and arn in resources:
                denied.add(policy.name)
    assert {"backtest-access", "developer-access", "admin-access"} <= denied


def test_the_aws_rotation_writes_the_replicas_of_its_home_secrets() -> None:
    """An AWS home with a Vault replica: the Lambda is given the replica map (home ARN -> the
    Vault copy), so finishSecret writes the replica before AWSCURRENT moves."""
    config = dict(read_stack(ROOT, "dev").config)
    placement = json.loads(config[P])
    config[P] = json.dumps({**placement, "replicas": {"DATABASE_URL": ["vault"]}})
    cap = plan_config(config, stack="dev", account_id=ACCOUNTS["dev"])
    (function,) = [r for r in cap.resources if r.type == "aws:lambda/function:Function"]
    replicas = json.loads(function.raw_inputs["environment"]["variables"]["NT_ROTATION_REPLICAS"])
    (secret,) = [
        r
        for r in cap.resources
        if r.type == "aws:secretsmanager/secret:Secret"
        and r.raw_inputs["tags"]["catalog-name"] == "DATABASE_URL"
    ]
    assert replicas == {
        secret.outputs["arn"]: [
            {"store": "vault", "address": "neural-trader/development/data/postgres/database-url"}
        ]
    }
    # Without replicas the Lambda's environment is as before (the project's stacks).
    (plain,) = [
        r
        for r in plan_config(dict(read_stack(ROOT, "dev").config), stack="dev").resources
        if r.type == "aws:lambda/function:Function"
    ]
    assert "NT_ROTATION_REPLICAS" not in plain.raw_inputs["environment"]["variables"]
