"""No self-declared escape hatches (issue 9, item 5): what a resource says about itself (a tag, a
name) may tighten a check, never switch it off.

* rotation: no class means the strictest maximum (90 days); a class of ``none`` does not exempt a
  secret that is recognisably an API key, password, JWT or encryption key (by name, description,
  catalog-name tag or the shape of its value); a name may tighten a class's maximum;
* production is recognised by ``environment``/``env``/``stage`` tags in any case and spelling, by
  the stack name and by the production-environments tunable (which adds spellings, never removes);
* every store of secret values is held to the same encryption bar (Secrets Manager, SSM);
* a production audit trail records reads of secrets, not only changes.

Fixture credentials are obviously fake and marked for scanners.
"""

from __future__ import annotations

from typing import Any

import pytest

from policies.aws import ssm
from policies.contract.vocabulary import TAG_CATALOG_NAME, TAG_ROTATION_CLASS
from policies.framework import PackPolicy
from policies.model import CIPHERTEXT, ResourceRecord
from policies.pack import ALL
from policies.runner import run
from tests.policies.records import rec

ACCOUNT = "123456789012"
KEY_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
FAKE_ANTHROPIC = (
    "sk-ant-api03-FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE-FAKEFAKE"  # pragma: allowlist secret
)
FAKE_AWS_KEY = "AKIAIOSFODNN7EXAMPLE"  # pragma: allowlist secret
FAKE_DB_PASSWORD = "FAKE-pw-0123456789-Zq"  # pragma: allowlist secret

SECRET = "aws:secretsmanager/secret:Secret"  # pragma: allowlist secret (a type token)
ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"
VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
TRAIL = "aws:cloudtrail/trail:Trail"
PARAMETER = "aws:ssm/parameter:Parameter"

#: The pack plus the SSM policies (until the pack registers them itself).
POLICIES: list[PackPolicy] = [
    *ALL,
    *(p for p in ssm.POLICIES if p.spec.id not in {q.spec.id for q in ALL}),
]

SECRET_URN = f"urn:pulumi:t::neural-trader-secrets::{SECRET}::s"
#: what a rotation or version names its secret by (found through its parent here)
TARGET = "arn"


def secret(name: str, tags: dict[str, str] | None = None, **props: Any) -> ResourceRecord:
    return rec(
        SECRET,
        {
            "name": name,
            "kmsKeyId": KEY_ARN,
            "recoveryWindowInDays": 30,
            "tags": tags or {},
            **props,
        },
        name="s",
    )


def rotation(days: int) -> ResourceRecord:
    return rec(
        ROTATION,
        {"secretId": TARGET, "rotationRules": {"automaticallyAfterDays": days}},
        name="rot",
        parent=SECRET_URN,
    )


def version(value: str) -> ResourceRecord:
    return rec(
        VERSION,
        {"secretId": TARGET, "secretString": value},
        name="v",
        parent=SECRET_URN,
        secret_paths=("secretString",),
    )


def none_class(**extra: str) -> dict[str, str]:
    return {TAG_ROTATION_CLASS: "none", **extra}


def count(policy: str, records: list[ResourceRecord], config: Any = None) -> int:
    return sum(
        1 for v in run(records, config=config, policies=POLICIES).violations if v.policy == policy
    )


SCHEDULE = "aws-secretsmanager-rotation-schedule"

# (case, records, expected violations of the rotation-schedule policy)
ROTATION_CASES: list[tuple[str, list[ResourceRecord], int]] = [
    ("no class, never rotated", [secret("misc/blob")], 1),
    ("no class, rotated every 120 days (> 90)", [secret("misc/blob"), rotation(120)], 1),
    ("no class, rotated every 90 days", [secret("misc/blob"), rotation(90)], 0),
    ("class none, nothing says credential", [secret("misc/feature-flags", none_class())], 0),
    ("class none, named an API key", [secret("prod/alpaca/api-key", none_class())], 1),
    ("class none, camel-case apiKey name", [secret("prod/alpacaApiKey", none_class())], 1),
    (
        "class NONE in capitals, named a token",
        [secret("x/slack-token", {TAG_ROTATION_CLASS: "NONE"})],
        1,
    ),
    (
        "class none, description says password",
        [secret("misc/pg", none_class(), description="Postgres password for the ledger")],
        1,
    ),
    (
        "class none, catalog name says JWT",
        [secret("misc/a", none_class(**{TAG_CATALOG_NAME: "JWT_SECRET"}))],
        1,
    ),
    ("class none, named an encryption key", [secret("x/data-encryption-key", none_class())], 1),
    (
        "class none, value is an API key",
        [secret("misc/a", none_class()), version(FAKE_ANTHROPIC)],
        1,
    ),
    (
        "class none, value is an AWS access key",
        [secret("misc/a", none_class()), version(FAKE_AWS_KEY)],
        1,
    ),
    (
        "class none, value unknown (ciphertext) and neutral name",
        [secret("misc/a", none_class()), version(CIPHERTEXT)],
        0,
    ),
    (
        "class none, API key rotated every 60 days",
        [secret("x/api-key", none_class()), rotation(60)],
        0,
    ),
    (
        "class none, API key rotated every 120 days",
        [secret("x/api-key", none_class()), rotation(120)],
        1,
    ),
    (
        "class none, JWT secret rotated yearly",
        [secret("auth/jwt-secret", none_class()), rotation(365)],
        0,
    ),
    (
        "jwt_secret class, but named a token: held to 90 days",
        [secret("auth/refresh-token", {TAG_ROTATION_CLASS: "jwt_secret"}), rotation(200)],
        1,
    ),
    (
        "jwt_secret class, named a token, rotated in 80 days",
        [secret("auth/refresh-token", {TAG_ROTATION_CLASS: "jwt_secret"}), rotation(80)],
        0,
    ),
    (
        "encryption_key class, encryption-key name: no tightening",
        [secret("x/data-encryption-key", {TAG_ROTATION_CLASS: "encryption_key"}), rotation(700)],
        0,
    ),
    (
        "class in another case is still the class",
        [secret("x/k", {TAG_ROTATION_CLASS: "API_KEY"}), rotation(120)],
        1,
    ),
    ("unknown class is reported, not skipped", [secret("x/k", {TAG_ROTATION_CLASS: "never"})], 1),
]


@pytest.mark.parametrize(
    ("records", "expected"), [c[1:] for c in ROTATION_CASES], ids=[c[0] for c in ROTATION_CASES]
)
def test_rotation_class_may_tighten_never_exempt(
    records: list[ResourceRecord], expected: int
) -> None:
    assert count(SCHEDULE, records) == expected


def test_rotation_findings_never_show_the_value() -> None:
    result = run([secret("misc/a", none_class()), version(FAKE_ANTHROPIC)], policies=POLICIES)
    messages = [v.message for v in result.violations]
    assert any("recognisably api_key" in m for m in messages)
    assert not any(FAKE_ANTHROPIC in m or "FAKEFAKE" in m for m in messages)


# ---- production -------------------------------------------------------------------------------

RECOVERY = "aws-secretsmanager-recovery-window"


def short_window(tags: dict[str, str], stack: str = "t") -> ResourceRecord:
    """A secret with a 7-day recovery window: fine outside production, a finding in it."""
    return ResourceRecord(
        urn=f"urn:pulumi:{stack}::neural-trader-secrets::{SECRET}::s",
        type=SECRET,
        name="s",
        props={"name": "x", "kmsKeyId": KEY_ARN, "recoveryWindowInDays": 7, "tags": tags},
        source="fixture",
    )


# (case, record, policy config, whether it is judged as production)
PRODUCTION_CASES: list[tuple[str, ResourceRecord, Any, bool]] = [
    ("environment: production", short_window({"environment": "production"}), None, True),
    ("Environment: PROD", short_window({"Environment": "PROD"}), None, True),
    ("env: live", short_window({"env": "live"}), None, True),
    ("Stage: Prd", short_window({"Stage": "Prd"}), None, True),
    ("environment: prod-eu", short_window({"environment": "prod-eu"}), None, True),
    ("environment: nonprod", short_window({"environment": "nonprod"}), None, False),
    ("environment: preprod", short_window({"environment": "preprod"}), None, False),
    ("environment: staging", short_window({"environment": "staging"}), None, False),
    ("owner: prod (not an environment key)", short_window({"owner": "prod"}), None, False),
    ("untagged, stack prod", short_window({}, stack="prod"), None, True),
    (
        "untagged, stack trading-production",
        short_window({}, stack="trading-production"),
        None,
        True,
    ),
    ("untagged, stack preprod", short_window({}, stack="preprod"), None, False),
    ("stack dev tagged production", short_window({"env": "Production"}, stack="dev"), None, True),
    (
        "tunable adds a spelling",
        short_window({"environment": "trading"}),
        {RECOVERY: {"productionEnvironments": ["trading"]}},
        True,
    ),
    (
        "tunable cannot remove a spelling",
        short_window({"environment": "production"}),
        {RECOVERY: {"productionEnvironments": ["trading"]}},
        True,
    ),
]


@pytest.mark.parametrize(
    ("record", "config", "production"),
    [c[1:] for c in PRODUCTION_CASES],
    ids=[c[0] for c in PRODUCTION_CASES],
)
def test_production_is_recognised_robustly(
    record: ResourceRecord, config: Any, production: bool
) -> None:
    assert count(RECOVERY, [record], config) == (1 if production else 0)


@pytest.mark.parametrize(
    ("tags", "stack", "expected"),
    [({"ENV": "Live"}, "t", 1), ({}, "prd", 1), ({"env": "dev"}, "dev", 0)],
)
def test_production_data_protection_uses_the_same_recognition(
    tags: dict[str, str], stack: str, expected: int
) -> None:
    assert count("aws-protect-production-data", [short_window(tags, stack)]) == expected


# ---- one encryption bar for every store of secret values --------------------------------------

ENCRYPTION_CASES: list[tuple[str, str, ResourceRecord, int]] = [
    ("secret with a CMK", "aws-secretsmanager-cmk-encryption", secret("x", {}), 0),
    (
        "secret with the aws/ssm alias (another AWS-managed key)",
        "aws-secretsmanager-cmk-encryption",
        rec(SECRET, {"name": "x", "kmsKeyId": "alias/aws/ssm"}),
        1,
    ),
    (
        "secret with the aws/secretsmanager alias ARN",
        "aws-secretsmanager-cmk-encryption",
        rec(
            SECRET,
            {"kmsKeyId": f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/aws/secretsmanager"},
        ),
        1,
    ),
    (
        "SecureString with a CMK",
        "aws-ssm-securestring-cmk",
        rec(PARAMETER, {"name": "/p/db/password", "type": "SecureString", "keyId": KEY_ARN}),
        0,
    ),
    (
        "SecureString without keyId (aws/ssm)",
        "aws-ssm-securestring-cmk",
        rec(PARAMETER, {"name": "/p/db/password", "type": "SecureString"}),
        1,
    ),
    (
        "SecureString with alias/aws/ssm",
        "aws-ssm-securestring-cmk",
        rec(PARAMETER, {"name": "/p/x", "type": "SecureString", "keyId": "alias/aws/ssm"}),
        1,
    ),
    (
        "String parameter: not judged by the CMK rule",
        "aws-ssm-securestring-cmk",
        rec(PARAMETER, {"name": "/p/log-level", "type": "String", "value": "info"}),
        0,
    ),
    (
        "String holding an API key",
        "aws-ssm-no-plaintext-credential",
        rec(PARAMETER, {"name": "/p/config", "type": "String", "value": FAKE_ANTHROPIC}),
        1,
    ),
    (
        "StringList holding an AWS access key",
        "aws-ssm-no-plaintext-credential",
        rec(PARAMETER, {"name": "/p/list", "type": "StringList", "value": f"a,{FAKE_AWS_KEY}"}),
        1,
    ),
    (
        "String named a password",
        "aws-ssm-no-plaintext-credential",
        rec(PARAMETER, {"name": "/p/db/password", "type": "String", "value": FAKE_DB_PASSWORD}),
        1,
    ),
    (
        "String named a token, value hidden",
        "aws-ssm-no-plaintext-credential",
        rec(PARAMETER, {"name": "/p/slack/api-token", "type": "String", "value": CIPHERTEXT}),
        1,
    ),
    (
        "SecureString named a password",
        "aws-ssm-no-plaintext-credential",
        rec(
            PARAMETER,
            {"name": "/p/db/password", "type": "SecureString", "value": FAKE_DB_PASSWORD},
            secret_paths=("value",),
        ),
        0,
    ),
    (
        "String setting: log level",
        "aws-ssm-no-plaintext-credential",
        rec(PARAMETER, {"name": "/p/log-level", "type": "String", "value": "info"}),
        0,
    ),
    (
        "String setting named like a credential, numeric value",
        "aws-ssm-no-plaintext-credential",
        rec(PARAMETER, {"name": "/p/SESSION_TOKEN_LIFETIME", "type": "String", "value": "3600"}),
        0,
    ),
]


@pytest.mark.parametrize(
    ("policy", "record", "expected"),
    [c[1:] for c in ENCRYPTION_CASES],
    ids=[c[0] for c in ENCRYPTION_CASES],
)
def test_every_store_meets_the_same_encryption_bar(
    policy: str, record: ResourceRecord, expected: int
) -> None:
    assert count(policy, [record]) == expected


def test_ssm_findings_never_show_the_value() -> None:
    record = rec(PARAMETER, {"name": "/p/config", "type": "String", "value": FAKE_ANTHROPIC})
    messages = [v.message for v in run([record], policies=POLICIES).violations]
    assert messages
    assert not any("FAKEFAKE" in m for m in messages)


# ---- the audit trail records reads -------------------------------------------------------------

REQUIRED = "aws-cloudtrail-required-in-production"
SECURE_TRAIL = {
    "enableLogFileValidation": True,
    "kmsKeyId": KEY_ARN,
    "isMultiRegionTrail": True,
}
PROD_SECRET = secret("x", {"environment": "production"})


def trail(name: str = "trail", **props: Any) -> ResourceRecord:
    return rec(TRAIL, {**SECURE_TRAIL, **props}, name=name)


def fields(*selectors: dict[str, Any]) -> dict[str, Any]:
    return {"advancedEventSelectors": [{"name": "s", "fieldSelectors": list(selectors)}]}


MANAGEMENT = {"field": "eventCategory", "equals": ["Management"]}

AUDIT_CASES: list[tuple[str, list[ResourceRecord], int]] = [
    ("default selectors record everything", [PROD_SECRET, trail()], 0),
    ("no trail at all", [PROD_SECRET], 1),
    ("production by Env: PRD, no trail", [secret("x", {"Env": "PRD"})], 1),
    ("production by stack name, no trail", [short_window({}, stack="prod")], 1),
    ("no production secret, no trail", [secret("x", {"environment": "development"})], 0),
    (
        "readWriteType WriteOnly",
        [PROD_SECRET, trail(eventSelectors=[{"readWriteType": "WriteOnly"}])],
        1,
    ),
    (
        "readWriteType ReadOnly",
        [PROD_SECRET, trail(eventSelectors=[{"readWriteType": "ReadOnly"}])],
        0,
    ),
    (
        "readWriteType All",
        [
            PROD_SECRET,
            trail(eventSelectors=[{"readWriteType": "All", "includeManagementEvents": True}]),
        ],
        0,
    ),
    (
        "data events only (management events off)",
        [
            PROD_SECRET,
            trail(
                eventSelectors=[
                    {"readWriteType": "All", "includeManagementEvents": False, "dataResources": []}
                ]
            ),
        ],
        1,
    ),
    (
        "advanced: management write events only",
        [PROD_SECRET, trail(**fields(MANAGEMENT, {"field": "readOnly", "equals": ["false"]}))],
        1,
    ),
    (
        "advanced: management events except Secrets Manager",
        [
            PROD_SECRET,
            trail(
                **fields(
                    MANAGEMENT,
                    {"field": "eventSource", "notEquals": ["secretsmanager.amazonaws.com"]},
                )
            ),
        ],
        1,
    ),
    (
        "advanced: every event except GetSecretValue",
        [
            PROD_SECRET,
            trail(**fields(MANAGEMENT, {"field": "eventName", "notEquals": ["GetSecretValue"]})),
        ],
        1,
    ),
    (
        "advanced: S3 data events only",
        [
            PROD_SECRET,
            trail(
                **fields(
                    {"field": "eventCategory", "equals": ["Data"]},
                    {"field": "resources.type", "equals": ["AWS::S3::Object"]},
                )
            ),
        ],
        1,
    ),
    ("advanced: all management events", [PROD_SECRET, trail(**fields(MANAGEMENT))], 0),
    (
        "advanced: management reads only",
        [PROD_SECRET, trail(**fields(MANAGEMENT, {"field": "readOnly", "equals": ["true"]}))],
        0,
    ),
    (
        "a write-only trail next to one that records reads",
        [
            PROD_SECRET,
            trail("w", eventSelectors=[{"readWriteType": "WriteOnly"}]),
            trail("r"),
        ],
        0,
    ),
    (
        "the trail that records reads is not secure",
        [
            PROD_SECRET,
            trail("w", eventSelectors=[{"readWriteType": "WriteOnly"}]),
            rec(TRAIL, {"isMultiRegionTrail": True}, name="r"),
        ],
        1,
    ),
]


@pytest.mark.parametrize(
    ("records", "expected"), [c[1:] for c in AUDIT_CASES], ids=[c[0] for c in AUDIT_CASES]
)
def test_the_audit_trail_records_reads_of_secrets(
    records: list[ResourceRecord], expected: int
) -> None:
    assert count(REQUIRED, records) == expected


def test_a_write_only_trail_is_named_in_the_finding() -> None:
    records = [PROD_SECRET, trail(eventSelectors=[{"readWriteType": "WriteOnly"}])]
    [finding] = [v for v in run(records, policies=POLICIES).violations if v.policy == REQUIRED]
    assert finding.urn is not None and finding.urn.endswith("::trail")
    assert "readWriteType WriteOnly" in finding.message


# ---- leaving something out is no way around a rule ---------------------------------------------


def orphan_rotation(days: int) -> ResourceRecord:
    """A rotation of a secret declared in another stack (not among the records)."""
    return rec(
        ROTATION,
        {
            "secretId": f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:elsewhere/api-key-AbCdEf",
            "rotationRules": {"automaticallyAfterDays": days},
        },
        name="orphan",
    )


@pytest.mark.parametrize(("days", "expected"), [(120, 1), (90, 0), (30, 0)])
def test_a_rotation_of_a_secret_elsewhere_gets_the_strictest_maximum(
    days: int, expected: int
) -> None:
    assert count(SCHEDULE, [orphan_rotation(days)]) == expected


BUCKET = "aws:s3/bucket:Bucket"
BUCKET_URN = f"urn:pulumi:t::neural-trader-secrets::{BUCKET}::b"
KMS_RULES = [
    {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY_ARN}}
]


def bucket(**props: Any) -> ResourceRecord:
    return rec(BUCKET, {"bucket": "audit-logs", **props}, name="b")


def sse(rules: list[dict[str, Any]], by_dependency: bool = True) -> ResourceRecord:
    return rec(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        {"bucket": "audit-logs", "rules": rules},
        name="sse",
        property_dependencies={"bucket": (BUCKET_URN,)} if by_dependency else {},
    )


def versioning(status: str) -> ResourceRecord:
    return rec(
        "aws:s3/bucketVersioning:BucketVersioning",
        {"bucket": "audit-logs", "versioningConfiguration": {"status": status}},
        name="ver",
        property_dependencies={"bucket": (BUCKET_URN,)},
    )


S3_CASES: list[tuple[str, str, list[ResourceRecord], int]] = [
    ("bucket without encryption config", "aws-s3-bucket-kms-by-default", [bucket()], 1),
    ("bucket with a KMS config", "aws-s3-bucket-kms-by-default", [bucket(), sse(KMS_RULES)], 0),
    (
        "bucket with a KMS config named by bucket name",
        "aws-s3-bucket-kms-by-default",
        [bucket(), sse(KMS_RULES, by_dependency=False)],
        0,
    ),
    (
        "bucket with an AES256 config",
        "aws-s3-bucket-kms-by-default",
        [bucket(), sse([{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}])],
        1,
    ),
    (
        "bucket with inline KMS",
        "aws-s3-bucket-kms-by-default",
        [bucket(serverSideEncryptionConfiguration={"rule": KMS_RULES[0]})],
        0,
    ),
    ("bucket without versioning", "aws-s3-bucket-versioned", [bucket()], 1),
    ("bucket with versioning", "aws-s3-bucket-versioned", [bucket(), versioning("Enabled")], 0),
    (
        "bucket, versioning suspended",
        "aws-s3-bucket-versioned",
        [bucket(), versioning("Suspended")],
        1,
    ),
    (
        "bucket, inline versioning",
        "aws-s3-bucket-versioned",
        [bucket(versioning={"enabled": True})],
        0,
    ),
]


@pytest.mark.parametrize(
    ("policy", "records", "expected"), [c[1:] for c in S3_CASES], ids=[c[0] for c in S3_CASES]
)
def test_a_bucket_cannot_skip_encryption_or_versioning_by_omission(
    policy: str, records: list[ResourceRecord], expected: int
) -> None:
    assert count(policy, records) == expected


#: This module's cases in test_pack's CASES format (case id, policy id, records, expected count),
#: for the pack's table of every policy's compliant and violating cases.
PACK_CASES: list[tuple[str, str, list[ResourceRecord], int]] = [
    *S3_CASES,
    *((case, policy, [record], expected) for case, policy, record, expected in ENCRYPTION_CASES),
]
