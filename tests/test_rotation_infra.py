"""Secret rotation infrastructure (neural-trader:aws:SecretRotation), read from the same capture
`nt-secrets plan` prints: schedules, the Lambda's least privilege, invoke permissions, failure
notifications, tags per strategy, the package, and bad rotation settings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra.backends.aws import aws_settings
from infra.backends.aws.rotation import lambda_archive
from infra.backends.aws.settings import TAG_VALUE_RE
from infra.catalog import Environment, default_catalog, parse_catalog
from infra.rotation.contract import (
    ENV_ROTATION_TOPIC_ARN,
    LAMBDA_HANDLER,
    LAMBDA_RUNTIME,
    TAG_MASTER_SECRET,
    TAG_REDIS_ENDPOINT,
    TAG_REDIS_TLS,
    TAG_REDIS_USER,
    TAG_ROTATION_STRATEGY,
    RotationStrategy,
    missing_tags,
)
from infra.settings import SettingsError, StackSettings
from infra.stack import build_estate, parse_settings
from nt_secrets.capture import REDACTED, Capture, CapturedResource
from nt_secrets.stackfile import SECURE_PLACEHOLDER, read_stack
from tests.plans import plan_config
from tests.stacks import enable_only

from .conftest import ROOT, as_list, capture_failing, of_type, statements

NS = "neural-trader-secrets:"
SECRET = "aws:secretsmanager/secret:Secret"  # pragma: allowlist secret
ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"
FUNCTION = "aws:lambda/function:Function"
PERMISSION = "aws:lambda/permission:Permission"
TOPIC = "aws:sns/topic:Topic"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
MAX_PACKAGE_BYTES = 1_000_000


ACCOUNTS = {"dev": "123456789012", "prod": "210987654321"}


def aws_home_config(stack: str) -> dict[str, str]:
    """The project stack with AWS as the home of every secret (and its only store): the rotation
    Lambda is judged on every strategy and class the catalog has (the project's own stacks home
    only the databases and Redis in AWS)."""
    return enable_only(dict(read_stack(ROOT, stack).config), ["aws"], home="aws")


def aws_home_plan(stack: str) -> Capture:
    return plan_config(aws_home_config(stack), stack=stack, account_id=ACCOUNTS[stack])


@pytest.fixture(scope="module")
def dev() -> Capture:
    return aws_home_plan("dev")


@pytest.fixture(scope="module")
def prod() -> Capture:
    return aws_home_plan("prod")


@pytest.fixture(scope="module", params=["dev", "prod"])
def stack(request: pytest.FixtureRequest) -> Capture:
    return aws_home_plan(str(request.param))


def settings_of(cap: Capture) -> StackSettings:
    return parse_settings(aws_home_config(cap.stack))


def secrets_of(cap: Capture) -> dict[str, CapturedResource]:
    return {r.raw_inputs["tags"]["catalog-name"]: r for r in of_type(cap, SECRET)}


def rotation_policy(cap: Capture) -> dict[str, Any]:
    (policy,) = (
        r for r in of_type(cap, "aws:iam/rolePolicy:RolePolicy") if r.name == "rotation-access"
    )
    doc: dict[str, Any] = json.loads(policy.raw_inputs["policy"])
    return doc


def only(cap: Capture, type_: str) -> CapturedResource:
    (resource,) = of_type(cap, type_)
    return resource


# ---- schedules ----------------------------------------------------------------------------------

SCHEDULE_CASES = [
    (stack, entry.name)
    for stack, env in (("dev", Environment.DEVELOPMENT), ("prod", Environment.PRODUCTION))
    for entry in default_catalog().stored_in(env)
]


@pytest.mark.parametrize(("stack_name", "name"), SCHEDULE_CASES)
def test_every_rotatable_secret_rotates_within_its_class_maximum(
    stack_name: str, name: str, dev: Capture, prod: Capture
) -> None:
    cap = dev if stack_name == "dev" else prod
    entry = default_catalog().get(name)
    secret = secrets_of(cap)[name]
    rotations = [
        r for r in of_type(cap, ROTATION) if r.raw_inputs["secretId"] == secret.outputs["id"]
    ]
    if not entry.rotatable:
        assert rotations == []
        return
    (rotation,) = rotations
    days = rotation.raw_inputs["rotationRules"]["automaticallyAfterDays"]
    assert entry.rotation is not None
    assert days == settings_of(cap).rotation_days(entry) <= entry.rotation.max_age_days
    assert rotation.raw_inputs["rotationLambdaArn"] == only(cap, FUNCTION).outputs["arn"]
    assert rotation.raw_inputs["rotateImmediately"] is False


def test_rotations_are_exactly_the_rotatable_secrets(stack: Capture) -> None:
    env = settings_of(stack).environment
    rotatable = {e.name for e in default_catalog().stored_in(env) if e.rotatable}
    ids = {r.raw_inputs["secretId"] for r in of_type(stack, ROTATION)}
    by_id = {r.outputs["id"]: name for name, r in secrets_of(stack).items()}
    assert {by_id[i] for i in ids} == rotatable
    assert len(of_type(stack, ROTATION)) == len(rotatable)


@pytest.mark.parametrize(
    ("stack_name", "name", "days"),
    [
        ("dev", "OPENAI_API_KEY", 30),  # rotationOverrides: {api_key: 30}
        ("prod", "OPENAI_API_KEY", 90),
        ("dev", "JWT_SECRET", 365),
        ("prod", "DATABASE_URL", 180),
        ("prod", "ENCRYPTION_KEY", 730),
    ],
)
def test_stack_overrides_shorten_the_schedule(
    stack_name: str, name: str, days: int, dev: Capture, prod: Capture
) -> None:
    cap = dev if stack_name == "dev" else prod
    secret_id = secrets_of(cap)[name].outputs["id"]
    (rotation,) = (r for r in of_type(cap, ROTATION) if r.raw_inputs["secretId"] == secret_id)
    assert rotation.raw_inputs["rotationRules"]["automaticallyAfterDays"] == days


# ---- the Lambda and its least privilege ---------------------------------------------------------


def test_function_uses_the_contract_and_a_small_deterministic_package(stack: Capture) -> None:
    fn = only(stack, FUNCTION).raw_inputs
    assert fn["handler"] == LAMBDA_HANDLER and fn["runtime"] == LAMBDA_RUNTIME
    assert (
        fn["environment"]["variables"][ENV_ROTATION_TOPIC_ARN] == only(stack, TOPIC).outputs["arn"]
    )
    assert fn["reservedConcurrentExecutions"] > 0 and fn["tracingConfig"]["mode"] == "Active"
    assert fn["role"].endswith(
        f":role/neural-trader-{settings_of(stack).environment.value}-secret-rotation"
    )
    # the plan shows it ~/... under the home directory (never the user's account name)
    archive = Path(only(stack, FUNCTION).inputs["code"]["archive"]["path"]).expanduser()
    # built where the program builds (outside the checkout: tests/test_hardening.py)
    assert archive.is_file() and archive == lambda_archive()
    assert 0 < archive.stat().st_size < MAX_PACKAGE_BYTES


def test_log_group_is_encrypted_and_retained(stack: Capture) -> None:
    group = only(stack, "aws:cloudwatch/logGroup:LogGroup").raw_inputs
    key = only(stack, "aws:kms/key:Key")
    assert group["kmsKeyId"] == key.outputs["arn"] and group["retentionInDays"] >= 30
    assert only(stack, FUNCTION).raw_inputs["loggingConfig"]["logGroup"] == group["name"]
    key_doc = json.loads(key.raw_inputs["policy"])
    (logs,) = (s for s in statements(key_doc) if s["Sid"] == "RotationLogGroupEncryption")
    assert logs["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"].endswith(
        ":log-group:" + group["name"]
    )


ROTATION_ROLE_ACTIONS = {
    "secretsmanager:DescribeSecret",
    "secretsmanager:GetSecretValue",
    "secretsmanager:PutSecretValue",
    "secretsmanager:UpdateSecretVersionStage",
    "secretsmanager:GetRandomPassword",
    "kms:Decrypt",
    "kms:GenerateDataKey",
    "sns:Publish",
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
}


def test_rotation_role_grants_exactly_the_rotation_actions(stack: Capture) -> None:
    settings = settings_of(stack)
    env = settings.environment
    doc = rotation_policy(stack)
    sts = {s["Sid"]: s for s in statements(doc)}
    actions = {a for s in sts.values() for a in as_list(s["Action"])}
    assert actions == ROTATION_ROLE_ACTIONS
    assert len(json.dumps(doc, separators=(",", ":"))) <= 10_240  # AWS's inline-policy quota
    assert all(s["Effect"] == "Allow" and "NotAction" not in s for s in sts.values())

    entries = [e for e in default_catalog().stored_in(env) if e.rotatable]
    rotated = sorted(secrets_of(stack)[e.name].outputs["arn"] for e in entries)
    masters = sorted(build_estate(default_catalog(), settings).master_secrets())
    assert sts["RotateSecrets"]["Resource"] == rotated
    assert set(sts["RotateSecrets"]["Action"]) == {
        "secretsmanager:DescribeSecret",
        "secretsmanager:GetSecretValue",
        "secretsmanager:PutSecretValue",
        "secretsmanager:UpdateSecretVersionStage",
    }
    assert sts["ReadMasterSecrets"] == {
        "Sid": "ReadMasterSecrets",
        "Effect": "Allow",
        "Action": ["secretsmanager:GetSecretValue"],
        "Resource": masters,
    }
    assert masters and len(masters) == 3  # two databases and Redis
    # Resource "*" only where the action supports no resource scoping.
    star = {a for s in sts.values() if s["Resource"] == "*" for a in as_list(s["Action"])}
    assert star == {
        "secretsmanager:GetRandomPassword",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
    }
    # The key: only through Secrets Manager for these secrets, or through SNS for its own topic.
    key_arn = only(stack, "aws:kms/key:Key").outputs["arn"]
    account = aws_settings(settings).account_id
    env_directory = (
        f"arn:aws:secretsmanager:{aws_settings(settings).region}:{account}:secret:"
        f"neural-trader/{env.value}/*"
    )
    topic_arn = only(stack, TOPIC).outputs["arn"]
    region = aws_settings(settings).region
    for s in sts.values():
        if not any(a.startswith("kms:") for a in as_list(s["Action"])):
            continue
        assert s["Resource"] == [key_arn]
        via = s["Condition"]["StringEquals"]["kms:ViaService"]
        if via == f"secretsmanager.{region}.amazonaws.com":
            allowed = s["Condition"]["StringLike"]["kms:EncryptionContext:SecretARN"]
            expected = rotated + masters if "kms:Decrypt" in s["Action"] else rotated
            if allowed == [env_directory]:
                # Fitted into AWS's quota (infra/backends/aws/quotas.py): the key grant names the
                # environment's directory; Secrets Manager still decrypts only secrets the role
                # may read, which RotateSecrets/ReadMasterSecrets name exactly.
                assert all(a.startswith(env_directory[:-1]) for a in expected)
            else:
                assert sorted(allowed) == sorted(expected)
        else:
            assert via == f"sns.{region}.amazonaws.com"
            assert (
                s["Condition"]["StringEquals"]["kms:EncryptionContext:aws:sns:topicArn"]
                == topic_arn
            )
    assert sts["PublishRotationNotices"]["Resource"] == [topic_arn]
    log_group = only(stack, "aws:cloudwatch/logGroup:LogGroup").raw_inputs["name"]
    assert sts["WriteLogs"]["Resource"] == [
        f"arn:aws:logs:{region}:{aws_settings(settings).account_id}:log-group:{log_group}:*"
    ]


def test_rotation_role_trusts_only_lambda_in_this_account(stack: Capture) -> None:
    (role,) = (r for r in of_type(stack, "aws:iam/role:Role") if r.name == "rotation-role")
    (st,) = statements(json.loads(role.raw_inputs["assumeRolePolicy"]))
    assert st["Principal"] == {"Service": ["lambda.amazonaws.com"]}
    account = aws_settings(settings_of(stack)).account_id
    assert st["Condition"] == {"StringEquals": {"aws:SourceAccount": account}}


def test_secrets_manager_may_invoke_only_for_each_rotated_secret(stack: Capture) -> None:
    settings = settings_of(stack)
    fn = only(stack, FUNCTION)
    perms = of_type(stack, PERMISSION)
    rotated = {
        r.outputs["arn"] for n, r in secrets_of(stack).items() if default_catalog().get(n).rotatable
    }
    assert {p.raw_inputs["sourceArn"] for p in perms} == rotated and len(perms) == len(rotated)
    for p in perms:
        assert p.raw_inputs["principal"] == "secretsmanager.amazonaws.com"
        assert p.raw_inputs["action"] == "lambda:InvokeFunction"
        assert p.raw_inputs["sourceAccount"] == aws_settings(settings).account_id
        assert p.raw_inputs["function"] == fn.outputs["name"]


def test_rotation_waits_for_its_permission_and_policies(dev: Capture) -> None:
    by_urn = {r.urn: r for r in dev.resources}
    for rotation in of_type(dev, ROTATION):
        kinds = {by_urn[d].type for d in rotation.dependencies if d in by_urn}
        assert {
            PERMISSION,
            "aws:iam/rolePolicy:RolePolicy",
            "aws:secretsmanager/secretPolicy:SecretPolicy",
        } <= kinds, rotation.name


# ---- failures are not silent --------------------------------------------------------------------


def test_alarms_on_errors_and_throttles_notify_the_topic(stack: Capture) -> None:
    topic = only(stack, TOPIC)
    assert topic.raw_inputs["kmsMasterKeyId"] == only(stack, "aws:kms/key:Key").outputs["arn"]
    alarms = {a.raw_inputs["metricName"]: a.raw_inputs for a in of_type(stack, ALARM)}
    assert set(alarms) == {"Errors", "Throttles"}
    for alarm in alarms.values():
        assert alarm["alarmActions"] == [topic.outputs["arn"]]
        assert alarm["namespace"] == "AWS/Lambda" and alarm["threshold"] == 0
        assert alarm["dimensions"] == {"FunctionName": only(stack, FUNCTION).outputs["name"]}
    policy = json.loads(only(stack, "aws:sns/topicPolicy:TopicPolicy").raw_inputs["policy"])
    (publish,) = (s for s in statements(policy) if s["Effect"] == "Allow")
    alarm_arns = sorted(
        f"arn:aws:cloudwatch:us-east-1:{aws_settings(settings_of(stack)).account_id}:alarm:{a['name']}"
        for a in alarms.values()
    )
    assert sorted(publish["Condition"]["ArnLike"]["aws:SourceArn"]) == alarm_arns
    # The topic is encrypted with the environment key: the key lets the alarms (and, through SNS,
    # account principals for this topic only) use it.
    key_doc = json.loads(only(stack, "aws:kms/key:Key").raw_inputs["policy"])
    sts = {s["Sid"]: s for s in statements(key_doc)}
    assert sts["RotationAlarmNotices"]["Condition"]["ArnLike"]["aws:SourceArn"] == alarm_arns
    via_sns = sts["UseThroughSns"]["Condition"]["StringEquals"]
    assert via_sns["kms:EncryptionContext:aws:sns:topicArn"] == topic.outputs["arn"]
    assert via_sns["kms:ViaService"] == "sns.us-east-1.amazonaws.com"


def test_email_subscriptions_come_from_notifications(stack: Capture) -> None:
    emails = sorted(
        s.raw_inputs["endpoint"]
        for s in of_type(stack, SUBSCRIPTION)
        if s.raw_inputs["protocol"] == "email"
    )
    assert emails == sorted(settings_of(stack).notifications.emails)
    assert not [s for s in of_type(stack, SUBSCRIPTION) if s.raw_inputs["protocol"] == "https"]


def _dev_capture(**changes: Any) -> Capture:
    config = aws_home_config("dev") | changes
    secret_keys = [k for k, v in changes.items() if v == SECURE_PLACEHOLDER]
    return plan_config(
        config, stack="dev", secret_keys=tuple(secret_keys), account_id="123456789012"
    )


def test_slack_is_subscribed_only_with_a_secret_webhook() -> None:
    cap = _dev_capture(**{NS + "SLACK_WEBHOOK_URL": SECURE_PLACEHOLDER})
    (slack,) = (s for s in of_type(cap, SUBSCRIPTION) if s.raw_inputs["protocol"] == "https")
    assert slack.secret_paths == ["endpoint"] and slack.inputs["endpoint"] == REDACTED
    with pytest.raises(SettingsError, match="--secret"):
        parse_settings(dict(read_stack(ROOT, "dev").config) | {NS + "SLACK_WEBHOOK_URL": "x"})


# ---- tags per strategy --------------------------------------------------------------------------


def test_every_rotated_secret_has_the_tags_its_strategy_needs(stack: Capture) -> None:
    settings = settings_of(stack)
    checked = set()
    for name, secret in secrets_of(stack).items():
        tags = secret.raw_inputs["tags"]
        strategy = RotationStrategy(tags[TAG_ROTATION_STRATEGY])
        assert strategy is default_catalog().get(name).strategy
        assert missing_tags(strategy, tags) == [], name
        assert all(TAG_VALUE_RE.fullmatch(v) for v in tags.values()), name  # AWS accepts them
        checked.add(strategy)
    assert {RotationStrategy.POSTGRES_ALTERNATING_USERS, RotationStrategy.REDIS_ACL} <= checked
    redis = secrets_of(stack)["REDIS_PASSWORD"].raw_inputs["tags"]
    assert settings.redis is not None
    assert redis[TAG_REDIS_ENDPOINT] == f"{settings.redis.host}:{settings.redis.port}"
    assert redis[TAG_REDIS_USER] == settings.redis.username
    assert redis[TAG_REDIS_TLS] == ("true" if settings.redis.tls else "false")
    assert redis[TAG_MASTER_SECRET] == settings.redis.master_secret
    db = secrets_of(stack)["DATABASE_URL"].raw_inputs["tags"]
    assert db[TAG_MASTER_SECRET] == settings.databases["DATABASE_URL"].master_secret


def test_resource_policies_admit_the_rotation_role(stack: Capture) -> None:
    role = f"neural-trader-{settings_of(stack).environment.value}-secret-rotation"
    for policy in of_type(stack, "aws:secretsmanager/secretPolicy:SecretPolicy"):
        doc = json.loads(policy.raw_inputs["policy"])
        for st in statements(doc):
            if "ArnNotEquals" in st.get("Condition", {}):
                principals = st["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]
                assert any(p.endswith(f":role/{role}") for p in principals), policy.name


# ---- revocation ---------------------------------------------------------------------------------


def test_revoked_secrets_are_tagged_and_denied() -> None:
    cap = _dev_capture(**{NS + "revoked": json.dumps(["OPENROUTER_API_KEY"])})
    secrets = secrets_of(cap)
    assert secrets["OPENROUTER_API_KEY"].raw_inputs["tags"]["revoked"] == "true"
    assert all(
        "revoked" not in s.raw_inputs["tags"]
        for n, s in secrets.items()
        if n != "OPENROUTER_API_KEY"
    )
    arn = secrets["OPENROUTER_API_KEY"].outputs["arn"]
    for policy in of_type(cap, "aws:iam/rolePolicy:RolePolicy"):
        doc = json.loads(policy.raw_inputs["policy"])
        denies = [s for s in statements(doc) if s["Effect"] == "Deny"]
        if policy.name == "rotation-access":
            assert denies == []  # rotating a revoked secret is the way out of the incident
            continue
        deny = next(s for s in denies if arn in as_list(s["Resource"]))
        actions = set(as_list(deny["Action"]))
        assert "secretsmanager:GetSecretValue" in actions, policy.name  # nobody reads the value
        if policy.name == "admin-access":
            # ...but Admin can still rotate and put the operator's new value (the way out)
            assert not actions & {"secretsmanager:RotateSecret", "secretsmanager:PutSecretValue"}
        else:
            assert "secretsmanager:PutSecretValue" in actions, policy.name


def test_revocation_notifies_through_the_rotation_function() -> None:
    cap = _dev_capture(**{NS + "revoked": json.dumps(["OPENROUTER_API_KEY"])})
    (invocation,) = of_type(cap, "aws:lambda/invocation:Invocation")
    payload = json.loads(invocation.raw_inputs["input"])
    assert payload == {
        "NtNotice": "revoked",
        "Environment": "development",
        "Secrets": ["OPENROUTER_API_KEY"],
    }
    assert invocation.raw_inputs["triggers"] == {"revoked": "OPENROUTER_API_KEY"}
    assert of_type(_dev_capture(), "aws:lambda/invocation:Invocation") == []


# ---- bad rotation settings ----------------------------------------------------------------------


def test_a_strategy_without_its_tags_is_refused_before_anything_registers() -> None:
    """A catalog change that gives a secret a strategy no setting can serve (JWT_SECRET rotated as
    alternating PostgreSQL users, with no database to name a master secret)."""
    import yaml

    from infra.catalog import CATALOG_PATH

    data = yaml.safe_load(CATALOG_PATH.read_text())
    for raw in data["entries"]:
        if raw["name"] == "JWT_SECRET":
            raw["strategy"] = "postgres-alternating-users"
    catalog = parse_catalog(data)
    config = dict(read_stack(ROOT, "dev").config)
    with pytest.raises(SettingsError) as err:
        parse_settings(config, catalog=catalog)
    assert [p[0] for p in err.value.problems] == [NS + "(rotation of JWT_SECRET)"]
    assert "rotation-master-secret" in str(err.value)

    from infra.program import build, load_settings

    def program() -> None:
        settings = load_settings(catalog)
        build(settings, build_estate(catalog, settings))

    cap, exc = capture_failing(program, config=config)
    assert isinstance(exc, SettingsError)
    assert [r.type for r in cap.resources] == ["pulumi:pulumi:Stack"]


def test_archive_is_rebuilt_only_when_its_inputs_change(tmp_path: Path) -> None:
    from infra.rotation.package import build_package

    build = lambda_archive.__wrapped__  # bypass the per-process cache
    first = build(tmp_path)
    stamp = first.with_name(first.name + ".sha256")
    assert stamp.is_file() and first.read_bytes() == build_package(tmp_path / "ref").read_bytes()
    mtime = first.stat().st_mtime_ns
    assert build(tmp_path) == first and first.stat().st_mtime_ns == mtime  # up to date: kept
    stamp.write_text("stale\n")
    build(tmp_path)
    assert stamp.read_text().strip() != "stale"
    assert first.read_bytes() == (tmp_path / "ref" / first.name).read_bytes()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".build-")] == []
