"""The AWS estate of each stack, read from the same capture `nt-secrets plan` prints.

The access tests are exhaustive: every role × every secret of the environment × every secret action,
evaluated from the generated IAM documents (identity policy and the secret's resource policy) and
compared with the access model.
"""

from __future__ import annotations

import fnmatch
import json
from typing import Any

import pytest

from infra.access import ROLE_NAMES, ROLES, Action
from infra.backends.aws import aws_settings
from infra.backends.aws.naming import secret_name
from infra.catalog import CatalogEntry, Environment, default_catalog
from infra.stack import parse_settings
from nt_secrets.capture import CANARY_PREFIX, REDACTED, Capture
from nt_secrets.plan import plan_stack
from nt_secrets.stackfile import read_stack
from tests.plans import planned_stack

from .conftest import ROOT, as_list, of_type, policy_documents, statements

ENVS = {"dev": Environment.DEVELOPMENT, "prod": Environment.PRODUCTION}
SECRET = "aws:secretsmanager/secret:Secret"  # pragma: allowlist secret


def env_of(cap: Capture) -> Environment:
    return ENVS[cap.stack]


def held_by_aws(stack: str) -> list[CatalogEntry]:
    """The catalog entries AWS holds in ``stack``: those its placement homes there (or
    replicates there), read from the settings, not from the estate under test."""
    settings = parse_settings(read_stack(ROOT, stack).config)
    cat = default_catalog()
    return [
        e
        for e in cat.stored_in(settings.environment)
        if "aws" in settings.placements[e.name].stores
    ]


def secret_by_entry(cap: Capture) -> dict[str, dict[str, Any]]:
    return {r.raw_inputs["tags"]["catalog-name"]: r.raw_inputs for r in of_type(cap, SECRET)}


def test_every_needed_secret_exists_exactly_once_and_nothing_else(stack: Capture) -> None:
    env = env_of(stack)
    cat = default_catalog()
    names = [r.raw_inputs["tags"]["catalog-name"] for r in of_type(stack, SECRET)]
    assert sorted(names) == sorted(e.name for e in held_by_aws(stack.stack))
    assert names, "the project's stacks home their databases and Redis in AWS"
    assert len(names) == len(set(names))
    for entry in cat:
        if not entry.needed_in(env) or not entry.stored or entry not in held_by_aws(stack.stack):
            assert entry.name not in names


def test_secret_paths_follow_the_scheme(stack: Capture) -> None:
    env = env_of(stack)
    cat = default_catalog()
    for name, inputs in secret_by_entry(stack).items():
        entry = cat.get(name)
        assert inputs["name"] == f"neural-trader/{env.value}/{entry.service}/{entry.key}"
    assert (
        secret_by_entry(stack)["DATABASE_URL"]["name"]
        == f"neural-trader/{env.value}/postgres/database-url"
    )


def test_every_secret_is_encrypted_with_the_environment_key(stack: Capture) -> None:
    (key,) = of_type(stack, "aws:kms/key:Key")
    account = aws_settings(parse_settings(read_stack(ROOT, stack.stack).config)).account_id
    key_arn = f"arn:aws:kms:us-east-1:{account}:key/"
    assert key.raw_inputs["enableKeyRotation"] is True
    arns = {inputs["kmsKeyId"] for inputs in secret_by_entry(stack).values()}
    assert len(arns) == 1 and arns.pop().startswith(key_arn)


def test_production_data_is_protected_and_recoverable(prod: Capture) -> None:
    for t in (SECRET, "aws:kms/key:Key", "aws:s3/bucket:Bucket", "aws:cloudtrail/trail:Trail"):
        resources = of_type(prod, t)
        assert resources, t
        assert all(r.options["protect"] for r in resources), t
    for r in of_type(prod, SECRET):
        assert r.raw_inputs["recoveryWindowInDays"] == 30
        assert r.raw_inputs.get("forceOverwriteReplicaSecret") is False
    assert of_type(prod, "aws:s3/bucket:Bucket")[0].raw_inputs["forceDestroy"] is False
    trail = of_type(prod, "aws:cloudtrail/trail:Trail")[0].raw_inputs
    assert trail["enableLogFileValidation"] and trail["isMultiRegionTrail"] and trail["kmsKeyId"]


def test_dev_is_unprotected_with_short_recovery(dev: Capture) -> None:
    assert not any(r.options["protect"] for r in dev.resources)
    assert {r.raw_inputs["recoveryWindowInDays"] for r in of_type(dev, SECRET)} == {7}


def test_no_policy_document_has_a_wildcard_action_or_not_action(stack: Capture) -> None:
    seen = 0
    for resource, field, doc in policy_documents(stack):
        for st in statements(doc):
            seen += 1
            assert "NotAction" not in st and "NotResource" not in st, resource.urn
            for action in as_list(st.get("Action", [])):
                assert "*" not in action and "?" not in action, f"{resource.urn} {field}: {action}"
    assert seen > 50


RESOURCE_STAR_OK = {
    "secretsmanager:ListSecrets",
    "secretsmanager:GetRandomPassword",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "cloudtrail:LookupEvents",
    "cloudtrail:DescribeTrails",
}


def test_resource_star_only_where_the_action_cannot_be_scoped(stack: Capture) -> None:
    for resource, _field, doc in policy_documents(stack):
        if resource.type == "aws:kms/key:Key":
            continue  # in a key policy, "*" means this key
        for st in statements(doc):
            if "*" in as_list(st.get("Resource", [])) and st["Effect"] == "Allow":
                assert set(as_list(st["Action"])) <= RESOURCE_STAR_OK, resource.urn


def test_wildcard_principals_only_in_conditional_denies(stack: Capture) -> None:
    for resource, _field, doc in policy_documents(stack):
        for st in statements(doc):
            principal = st.get("Principal")
            aws = (
                as_list(principal.get("AWS", []))
                if isinstance(principal, dict)
                else as_list(principal or [])
            )
            if "*" in aws:
                assert st["Effect"] == "Deny" and st.get("Condition"), resource.urn


def test_no_input_holds_an_unwrapped_generated_secret(stack: Capture) -> None:
    """Mocked generated material carries a canary; it may only appear under secret-marked paths."""

    def walk(value: Any, path: str, secret_paths: list[str], hits: list[str]) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, f"{path}.{k}" if path else k, secret_paths, hits)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, f"{path}[{i}]", secret_paths, hits)
        elif isinstance(value, str) and CANARY_PREFIX in value and path not in secret_paths:
            hits.append(path)

    versions = of_type(stack, "aws:secretsmanager/secretVersion:SecretVersion")
    assert versions
    for r in stack.resources:
        hits: list[str] = []
        walk(r.raw_inputs, "", r.secret_paths, hits)
        assert not hits, f"{r.urn}: {hits}"
        assert CANARY_PREFIX not in json.dumps(r.to_json())
    for v in versions:
        assert v.secret_paths == ["secretString"] and v.inputs["secretString"] == REDACTED


def test_urns_are_built_like_the_engine(dev: Capture) -> None:
    urns = {r.urn for r in dev.resources}
    assert (
        "urn:pulumi:dev::neural-trader-secrets::pulumi:pulumi:Stack::neural-trader-secrets-dev"
        in urns
    )
    assert (
        "urn:pulumi:dev::neural-trader-secrets::neural-trader:aws:AwsSecrets$neural-trader:aws:SecretStore"
        "$aws:secretsmanager/secret:Secret$aws:secretsmanager/secretPolicy:SecretPolicy::database-url-policy"
    ) in urns
    by_urn = {r.urn: r for r in dev.resources}
    for r in dev.resources:
        if r.parent:
            assert r.parent in by_urn, r.urn
        if r.type.startswith("aws:"):
            assert r.options["provider"] and "pulumi:providers:aws" in r.options["provider"], r.urn


def test_capture_is_deterministic() -> None:
    a = [r.to_json() for r in plan_stack("prod", ROOT)[1].resources]
    b = [r.to_json() for r in plan_stack("prod", ROOT)[1].resources]
    assert a == b


# ---- the exhaustive access test ---------------------------------------------------------------

ACTIONS: dict[str, Action | None] = {
    "secretsmanager:GetSecretValue": Action.READ,
    "secretsmanager:DescribeSecret": Action.DESCRIBE,
    "secretsmanager:PutSecretValue": Action.WRITE,
    "secretsmanager:RotateSecret": Action.MANAGE,
    "secretsmanager:DeleteSecret": Action.MANAGE,
    "secretsmanager:UpdateSecretVersionStage": Action.MANAGE,
    "secretsmanager:PutResourcePolicy": None,  # only via the admin's manage rights? never granted
}


ROTATION_ACTIONS = {
    "secretsmanager:DescribeSecret",
    "secretsmanager:GetSecretValue",
    "secretsmanager:PutSecretValue",
    "secretsmanager:UpdateSecretVersionStage",
}


def _matches(patterns: Any, value: str) -> bool:
    return any(fnmatch.fnmatchcase(value.lower(), str(p).lower()) for p in as_list(patterns))


def identity_allows(doc: dict[str, Any], action: str, resource: str) -> bool:
    allowed = False
    for st in statements(doc):
        if _matches(st.get("Action", []), action) and _matches(st.get("Resource", []), resource):
            if st["Effect"] == "Deny":
                return False
            allowed = True
    return allowed


def resource_policy_denies(
    doc: dict[str, Any], action: str, principal_arn: str, account: str
) -> bool:
    for st in statements(doc):
        if st["Effect"] != "Deny" or not _matches(st["Action"], action):
            continue
        cond = st.get("Condition", {})
        if "ArnNotEquals" in cond and principal_arn not in as_list(
            cond["ArnNotEquals"]["aws:PrincipalArn"]
        ):
            return True
        if (
            "StringNotEquals" in cond
            and cond["StringNotEquals"].get("aws:PrincipalAccount") != account
        ):
            return True
    return False


@pytest.mark.parametrize("stack_name", ["dev", "prod"])
def test_every_role_secret_action_matches_the_access_model(stack_name: str) -> None:
    cap = planned_stack(stack_name, ROOT)[1]
    settings = parse_settings(read_stack(ROOT, stack_name).config)
    env = settings.environment
    role_docs = {
        r.name.removesuffix("-access"): json.loads(r.raw_inputs["policy"])
        for r in of_type(cap, "aws:iam/rolePolicy:RolePolicy")
    }
    rotation_doc = role_docs.pop("rotation")
    # A role with nothing to grant in an environment (Developer in production) has no policy.
    for role in ROLE_NAMES:
        if role not in role_docs:
            assert not any(ROLES[role].grants(e, env) for e in held_by_aws(stack_name)), role
            role_docs[role] = {"Version": "2012-10-17", "Statement": []}
    assert set(role_docs) == set(ROLE_NAMES)
    secrets = {r.raw_inputs["tags"]["catalog-name"]: r for r in of_type(cap, SECRET)}
    policies = {
        r.parent: json.loads(r.raw_inputs["policy"])
        for r in of_type(cap, "aws:secretsmanager/secretPolicy:SecretPolicy")
    }
    checked = 0
    for role in ROLE_NAMES:
        role_arn = f"arn:aws:iam::{aws_settings(settings).account_id}:role/neural-trader-{env.value}-{role}"
        for entry in held_by_aws(stack_name):
            secret = secrets[entry.name]
            arn = secret.outputs["arn"]
            granted = ROLES[role].grants(entry, env)
            for action, needs in ACTIONS.items():
                expected = needs is not None and needs in granted
                allowed = identity_allows(
                    role_docs[role], action, arn
                ) and not resource_policy_denies(
                    policies[secret.urn], action, role_arn, aws_settings(settings).account_id
                )
                assert allowed == expected, f"{role} {action} {entry.name}: {allowed} != {expected}"
                checked += 1
    # The rotation Lambda's role: exactly the rotation actions, on exactly the rotatable secrets.
    rotation_arn = f"arn:aws:iam::{aws_settings(settings).account_id}:role/neural-trader-{env.value}-secret-rotation"
    for entry in held_by_aws(stack_name):
        secret = secrets[entry.name]
        for action in ACTIONS:
            expected = entry.rotatable and action in ROTATION_ACTIONS
            allowed = identity_allows(
                rotation_doc, action, secret.outputs["arn"]
            ) and not resource_policy_denies(
                policies[secret.urn], action, rotation_arn, aws_settings(settings).account_id
            )
            assert allowed == expected, f"rotation {action} {entry.name}: {allowed} != {expected}"
            checked += 1
    assert checked == (len(ROLE_NAMES) + 1) * len(held_by_aws(stack_name)) * len(ACTIONS)


@pytest.mark.parametrize("stack_name", ["dev", "prod"])
def test_backtest_role_reads_no_live_secret_and_writes_nothing(stack_name: str) -> None:
    cap = planned_stack(stack_name, ROOT)[1]
    env = ENVS[stack_name]
    doc = next(
        json.loads(r.raw_inputs["policy"])
        for r in of_type(cap, "aws:iam/rolePolicy:RolePolicy")
        if r.name == "backtest-access"
    )
    actions = {a for st in statements(doc) for a in as_list(st["Action"])}
    assert actions <= {
        "secretsmanager:GetSecretValue",
        "secretsmanager:DescribeSecret",
        "kms:Decrypt",
        "s3:GetObject",
        "s3:ListBucket",
    }
    decrypts = [st for st in statements(doc) if st["Action"] == ["kms:Decrypt"]]
    for decrypt in decrypts:
        assert (
            decrypt["Condition"]["StringEquals"]["kms:ViaService"]
            == "secretsmanager.us-east-1.amazonaws.com"
        )
        assert decrypt["Condition"]["StringLike"]["kms:EncryptionContext:SecretARN"]
    # Backtests read paper/test secrets: in development they do, in production there are none.
    assert bool(decrypts) == (stack_name == "dev")
    live = {
        secret_name(e, env) for e in default_catalog().stored_in(env) if "live" in e.scopes_in(env)
    }
    readable = {
        arn for st in statements(doc) for arn in as_list(st["Resource"]) if "secretsmanager" in arn
    }
    assert not any(name in arn for arn in readable for name in live)
    if stack_name == "prod":
        assert live, "production has live-only secrets"
