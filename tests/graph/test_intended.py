"""Intent against effect (`nt-stack-intended-access`): the project's stacks' access graph equals
the access model's matrix, and each way a deployment can drift from it is caught — on the real
plans, changed the way a hand-made grant or a broken one would change them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from infra.access import ROLES
from infra.catalog import default_catalog
from infra.settings import SettingsError
from nt_secrets.capture import Capture
from nt_secrets.plan import records
from nt_secrets.stackfile import read_stack
from policies.contract.access import ROLE_READ_SCOPES, Action, intended_reader
from policies.framework import resources_of
from policies.graph import build
from policies.intended import DEFAULT_ROLE_IDENTITIES, _copies, judge, role_of
from policies.model import ResourceRecord
from policies.runner import run

from ..conftest import ROOT

ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"


def _findings(recs: list[ResourceRecord]) -> list[str]:
    resources = resources_of(recs)
    out: list[str] = []
    judge(
        build(resources), _copies(resources), DEFAULT_ROLE_IDENTITIES, lambda m, _u: out.append(m)
    )
    return out


def test_the_contract_table_is_the_access_model() -> None:
    """The pack judges with the contract's table; the program's roles grant from it: for every
    role and every catalog entry in every environment, read is granted exactly when the table
    says the role reads the entry's scopes."""
    assert tuple(ROLE_READ_SCOPES) == tuple(ROLES)
    for entry in default_catalog():
        for env in entry.environments:
            scopes = frozenset(s.value for s in entry.scopes_in(env))
            for name, role in ROLES.items():
                granted = Action.READ in role.grants(entry, env)
                assert granted == (
                    entry.stored and entry.needed_in(env) and intended_reader(name, scopes)
                ), (
                    entry.name,
                    env,
                    name,
                )


def test_both_stacks_graph_exactly_as_the_access_model_intends(stack: Capture) -> None:
    recs = records(stack)
    assert _findings(recs) == []
    # ...and the pack's run says so too (the invariant is registered, the profile on).
    violations = [v for v in run(recs).violations if v.policy == "nt-stack-intended-access"]
    assert violations == []


def _role_policy(role: str, statement: dict[str, object], name: str) -> ResourceRecord:
    return ResourceRecord(
        urn=f"urn:pulumi:prod::neural-trader-secrets::{ROLE_POLICY}::{name}",
        type=ROLE_POLICY,
        name=name,
        props={
            "role": role,
            "policy": json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
        },
        source="fixture",
    )


ALL_SECRETS = "arn:aws:secretsmanager:us-east-1:210987654321:secret:*"
GET = "secretsmanager:GetSecretValue"

SECRET_IAM = "gcp:secretmanager/secretIamMember:SecretIamMember"


def _secret_member(member: str, role: str, name: str) -> ResourceRecord:
    """A grant on the production OPENAI_API_KEY (a live secret) made outside the access model."""
    return ResourceRecord(
        urn=f"urn:pulumi:prod::neural-trader-secrets::{SECRET_IAM}::{name}",
        type=SECRET_IAM,
        name=name,
        props={
            "member": member,
            "secretId": "neural-trader-production-openai-api-key",
            "project": "neural-trader-prod",
            "role": role,
        },
        source="fixture",
    )


ACCESSOR = "roles/secretmanager.secretAccessor"

DRIFTS: list[tuple[str, Callable[[], ResourceRecord], str]] = [
    (
        "a hand-made grant lets the developers read a live secret",
        lambda: _secret_member(
            "group:nt-prod-developers@neural-trader.io",
            ACCESSOR,
            "openai-api-key-developer-accessor",
        ),
        "(developer) can read",
    ),
    (
        "a principal no role stands for reads a live secret",
        lambda: _secret_member(
            "user:contractor@example.com", ACCESSOR, "openai-api-key-contractor"
        ),
        "names no role it stands for",
    ),
    (
        "an explicit deny leaves the live-trading workload unable to read what it needs",
        lambda: _role_policy(
            "neural-trader-production-live-trading",
            {"Effect": "Deny", "Action": GET, "Resource": ALL_SECRETS},
            "live-trading-deny",
        ),
        "(live-trading) is meant to read",
    ),
    (
        "an AWS grant the secret's resource policy still refuses is no reader (nothing to report)",
        lambda: _role_policy(
            "neural-trader-production-developer",
            {"Effect": "Allow", "Action": [GET, "kms:Decrypt"], "Resource": "*"},
            "developer-extra",
        ),
        "",
    ),
]


@pytest.mark.parametrize(("case", "extra", "message"), DRIFTS, ids=[d[0] for d in DRIFTS])
def test_each_drift_from_the_access_model_is_a_finding(
    prod: Capture, case: str, extra: Callable[[], ResourceRecord], message: str
) -> None:
    del case
    found = _findings([*records(prod), extra()])
    if not message:
        assert found == []
        return
    assert found and all(message in f for f in found), found


@pytest.mark.parametrize(
    ("hop", "role"),
    [
        ("openai-api-key-live-trading-accessor", "live-trading"),
        ("live-trader policy", "trader"),
        ("policy neural-trader-development-backtest", "backtest"),
        ("neural-trader-production-secret-rotation", "rotation"),
        ("traders-of-the-lost-ark", None),
        ("administrator", None),  # whole words only
    ],
)
def test_a_login_or_group_stands_for_the_role_its_grant_names(hop: str, role: str | None) -> None:
    from policies.graph import Graph, Hop

    assert role_of(Graph(), "group:someone@example.com", {}, [(Hop("grant", hop),)]) == role


def test_revoked_secrets_keep_only_admin_and_rotation(tmp_path: Path) -> None:
    """With JWT_SECRET and DATABASE_URL revoked, the plan's graph still matches the model."""
    import yaml

    from nt_secrets.plan import plan_stack

    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    stack = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())
    stack["config"]["neural-trader-secrets:revoked"] = ["JWT_SECRET", "DATABASE_URL"]
    (tmp_path / "Pulumi.prod.yaml").write_text(yaml.safe_dump(stack))
    try:
        read_stack(tmp_path, "prod")
        _config, capture = plan_stack("prod", tmp_path)
    except SettingsError as exc:  # pragma: no cover - the stack file is the project's own
        raise AssertionError(exc) from exc
    assert _findings(records(capture)) == []
