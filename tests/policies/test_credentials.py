"""Table-driven tests of policies.lib.credentials.

Every credential-looking literal below is an obviously fake value of the real shape (AWS's
documented example keys, FAKE-marked tokens) and carries ``pragma: allowlist secret`` so
detect-secrets skips it.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from policies.lib import credentials as credentials_module
from policies.lib.credentials import (
    EXCLUDED_PLUGINS,
    SENSITIVE_KEY_KIND,
    CredentialHit,
    is_sensitive_key,
    looks_like_placeholder,
    scan_value,
)
from tests.conftest import REAL_STACKS, SEED, reference_file

AZURE_KEY_B64 = "RkFLRUZBS0VGQUtFRkFLRUZBS0VGQUtFRkFLRUZBS0VGQUtFRkFLRUZBS0VGQUtFRkFLRUZBS0VGQUtFRkFLRQ=="  # pragma: allowlist secret
PEM_EC = (
    "-----BEGIN EC PRIVATE KEY-----\n"  # pragma: allowlist secret
    "MHcCAQEEIFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEoAoGCCqGSM49\n"
    "-----END EC PRIVATE KEY-----"
)

# (variable / field name, fake value of the real shape, expected detector kind)
# fmt: off
POSITIVE: list[tuple[str, str, str]] = [
    ("ALPACA_API_KEY", "PKFAKE7Q2LZ9R4M1XW8B", "Alpaca API Key ID"),  # pragma: allowlist secret
    ("ALPACA_SECRET_KEY", "FAKEq8Zr2Lm4Np6Tv0Xb3Dc5Fg7Hj9Kk1Mm3Pp5Rr", SENSITIVE_KEY_KIND),  # pragma: allowlist secret
    ("COINBASE_API_SECRET", PEM_EC, "Private Key"),  # pragma: allowlist secret
    ("BINANCE_API_KEY", "FAKEvmPWk2nQ8rTz5Yb7Hc1Jd3Lf6Ng9Sp0Uw4Xa", SENSITIVE_KEY_KIND),  # pragma: allowlist secret
    ("BINANCE_API_SECRET", "FAKEnr7Lq2Wz9Ty4Uc6Ib1Od3Pe5Af8Sg0Hj2Kk4M", SENSITIVE_KEY_KIND),  # pragma: allowlist secret
    ("OPENROUTER_API_KEY", "sk-or-v1-FAKEa1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0FAKE", "OpenRouter API Key"),  # pragma: allowlist secret
    ("OPENAI_API_KEY", "sk-FAKEa1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8s9T0u1", "OpenAI API Key"),  # pragma: allowlist secret
    ("OPENAI_API_KEY", "sk-proj-FAKE_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8s9T0u1-v2W3", "OpenAI API Key"),  # pragma: allowlist secret
    ("ANTHROPIC_API_KEY", "sk-ant-api03-FAKEa1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8s9T0u1v2W3x4Y5z6-FAKEAA", "Anthropic API Key"),  # pragma: allowlist secret
    ("GOOGLE_API_KEY", "AIzaSyFAKEfakeFAKEfakeFAKEfake_-1234567", "Google API Key"),  # pragma: allowlist secret
    ("E2B_API_KEY", "e2b_FAKEa1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8", "E2B API Key"),  # pragma: allowlist secret
    ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE", "AWS Access Key"),  # pragma: allowlist secret
    ("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", SENSITIVE_KEY_KIND),  # pragma: allowlist secret
    ("AZURE_CLIENT_SECRET", "FAKE8Q~r2Lm4Np6Tv0Xb3Dc5Fg7Hj9Kk1Mm3Pp5R", SENSITIVE_KEY_KIND),  # pragma: allowlist secret
    ("DATABASE_URL", "postgresql://trader:FAKEs3cr3tPw@db.internal:5432/neural_trader", "Basic Auth Credentials"),  # pragma: allowlist secret
    ("TIMESCALE_URL", "postgresql://ts:FAKEtsPassw0rd@timescale.example.com:5432/nt", "Basic Auth Credentials"),  # pragma: allowlist secret
    ("REDIS_URL", "redis://:FAKEredisPw123@cache.internal:6379/0", "URL Password"),  # pragma: allowlist secret
    ("REDIS_PASSWORD", "FAKEr3disP4ss", SENSITIVE_KEY_KIND),  # pragma: allowlist secret
    ("SENTRY_DSN", "https://f4a3c2b1e0d9c8b7a6f5e4d3c2b1a0f9@o123456.ingest.sentry.io/123456", "Sentry DSN"),  # pragma: allowlist secret
    ("DD_API_KEY", "fa4e1c2b9d8a7f6e5d4c3b2a1f9e8d7c", "Datadog API Key"),  # pragma: allowlist secret
    ("DD_APP_KEY", "fa4e1c2b9d8a7f6e5d4c3b2a1f9e8d7c6b5a4f3e", "Datadog Application Key"),  # pragma: allowlist secret
    ("datadogApiKey", "fa4e1c2b9d8a7f6e5d4c3b2a1f9e8d7c", "Datadog API Key"),  # pragma: allowlist secret
    ("SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T0FAKE123/B0FAKE456/FAKEfakeFAKEfakeFAKEfake", "Slack Token"),  # pragma: allowlist secret
    ("SLACK_BOT_TOKEN", "xoxb-1234567890-1234567890123-FAKEfakeFAKEfakeFAKEfake", "Slack Token"),  # pragma: allowlist secret
    ("TELEGRAM_BOT_TOKEN", "123456789:AAFAKEfakeFAKEfakeFAKEfakeFAKEfake1", "Telegram Bot Token"),  # pragma: allowlist secret
    ("SMTP_PASSWORD", "FAKEsmtpAppPw42", SENSITIVE_KEY_KIND),  # pragma: allowlist secret
    ("JWT_SECRET", "FAKE9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b", SENSITIVE_KEY_KIND),  # pragma: allowlist secret
    ("ENCRYPTION_KEY", "FAKE1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f", SENSITIVE_KEY_KIND),  # pragma: allowlist secret
    ("API_SIGNING_SECRET", "FAKEb2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1", SENSITIVE_KEY_KIND),  # pragma: allowlist secret
    ("value", "DefaultEndpointsProtocol=https;AccountName=ntfake;AccountKey=" + AZURE_KEY_B64 + ";EndpointSuffix=core.windows.net", "Azure Storage Account access key"),  # pragma: allowlist secret
    ("value", "Server=tcp:db.internal;Database=nt;User Id=app;Password=FAKEpassw0rd!;", "Connection String Password"),  # pragma: allowlist secret
    ("value", "Endpoint=sb://nt.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=FAKEa1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1=", "Azure Shared Access Key"),  # pragma: allowlist secret
    ("value", "ghp_FAKEfakeFAKEfakeFAKEfakeFAKEfake1234", "GitHub Token"),  # pragma: allowlist secret
    ('value', 'aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"', 'AWS Access Key'),  # pragma: allowlist secret
    ("note", "bot token is 123456789:AAFAKEfakeFAKEfakeFAKEfakeFAKEfake1 ok", "Telegram Bot Token"),  # pragma: allowlist secret
    ("note", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEFAKE\n-----END OPENSSH PRIVATE KEY-----", "Private Key"),  # pragma: allowlist secret
    ("note", "key=sk-ant-admin01-FAKEa1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8s9T0", "Anthropic API Key"),  # pragma: allowlist secret
    ("adminPassword", "Password1234!", SENSITIVE_KEY_KIND),  # pragma: allowlist secret
    ("RABBITMQ_ERLANG_COOKIE", "TGFAKEFAKEFAKEFAKEXY", SENSITIVE_KEY_KIND),  # pragma: allowlist secret
    ('secretString', '{"username":"svc","password":"FAKEpw-9z8y7x"}', SENSITIVE_KEY_KIND),  # pragma: allowlist secret
    ("client_secret", "FAKE~client~secret~value", SENSITIVE_KEY_KIND),  # pragma: allowlist secret
]
# fmt: on


@pytest.mark.parametrize(
    ("key", "value", "kind"),
    [pytest.param(k, v, kind, id=f"{i}-{k}-{kind}") for i, (k, v, kind) in enumerate(POSITIVE)],
)
def test_detects_seed_formats(key: str, value: str, kind: str) -> None:
    hits = scan_value({key: value})
    assert kind in {h.kind for h in hits}, hits
    for h in hits:
        assert h.path.startswith(key)
        assert value not in h.hint
        # the hint shows at most a public prefix and the length, never the secret's body
        body = value.splitlines()[1] if h.kind == "Private Key" else value[-8:]
        assert body not in h.hint


# fmt: off
NEGATIVE: list[tuple[str, Any]] = [
    ("arn", "arn:aws:secretsmanager:us-east-1:123456789012:secret:neural-trader/alpaca/api-key-AbCdEf"),  # pragma: allowlist secret
    ("roleArn", "arn:aws:iam::123456789012:role/neural-trader-backtest"),  # pragma: allowlist secret
    ("topic", "arn:aws:sns:us-east-2:153052954103:countDown-9d430e5-abcdefghijklmnopqrstuvwxyz123456"),  # pragma: allowlist secret
    ("urn", "urn:pulumi:dev::neural-trader-secrets::aws:secretsmanager/secret:Secret::alpaca"),  # pragma: allowlist secret
    ("sha256", "9ef8ab6fba8202a6d467a218d032b662e88ea560f26e812c77a93c0216e4dffc"),  # pragma: allowlist secret
    ("sha1", "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"),  # pragma: allowlist secret
    ("md5", "c44067f5952c0a294b673a41bacd8c17"),  # pragma: allowlist secret
    ("etag", "fa4e1c2b9d8a7f6e5d4c3b2a1f9e8d7c"),  # pragma: allowlist secret
    ("uuid", "7d9f1c2e-3b4a-4c5d-8e6f-9a0b1c2d3e4f"),  # pragma: allowlist secret
    ("kmsKeyId", "1234abcd-12ab-34cd-56ef-1234567890ab"),  # pragma: allowlist secret
    ("kmsAlias", "alias/neural-trader-secrets"),  # pragma: allowlist secret
    ("customerMasterKeySpec", "SYMMETRIC_DEFAULT"),
    ("secretKey", "neural-trader/production/alpaca/secret-key"),  # a secret's name, not the secret
    ("apiKeyHeader", "X-Api-Key"),  # an HTTP header name  # provider enum under a key-ish name
    ("masterKeyUsage", "ENCRYPT_DECRYPT"),
    ("securityGroupId", "sg-0a1b2c3d4e5f67890"),  # pragma: allowlist secret
    ("instanceId", "i-0abcdef1234567890"),  # pragma: allowlist secret
    ("bucket", "neural-trader-artifacts-7f3a9c1e"),  # pragma: allowlist secret
    ("AZURE_SUBSCRIPTION_ID", "3f2504e0-4f89-11d3-9a0c-0305e82c3301"),  # pragma: allowlist secret
    ("TELEGRAM_CHAT_ID", "123456789"),  # pragma: allowlist secret
    ("ALPACA_API_URL", "https://paper-api.alpaca.markets"),  # pragma: allowlist secret
    ("cluster", "sk-production-cluster-primary-001"),  # pragma: allowlist secret
    ("password", {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "ciphertext": "v1:WTy4M2tTZ0ro6nqY:LZLDz0BbyTEgc3LjBRWiXntu"}),  # pragma: allowlist secret
    ("ciphertext", "IntcIlZlcnNpb25cIjpcIjIwMTItMTAtMTdcIixcIlN0YXRlbWVudFwiOlt7XCJBY3Rpb"),  # pragma: allowlist secret
    ("salt", "v1:2xlKZiQG4rM=:v1:5JFXnRgRifpBG7Vs:A07dKXi1jPkp0iIMklu6wlOMTLglnQ=="),  # pragma: allowlist secret
    ('asset', {'4dabf18193072939515e22adb298388d': 'c44067f5952c0a294b673a41bacd8c17', 'hash': '9ef8ab6fba8202a6d467a218d032b662e88ea560f26e812c77a93c0216e4dffc', 'text': "exports.handler = async () => 'ok';"}),  # pragma: allowlist secret
    ("DB_PASSWORD", "${DB_PASSWORD}"),  # pragma: allowlist secret
    ("DB_PASSWORD", "$DB_PASSWORD"),  # pragma: allowlist secret
    ("password", "{{ .Values.password }}"),  # pragma: allowlist secret
    ("apiKey", "<redacted>"),  # pragma: allowlist secret
    ("apiKey", "<your-api-key>"),  # pragma: allowlist secret
    ("token", "[secret]"),  # pragma: allowlist secret
    ("token", "****"),  # pragma: allowlist secret
    ("secret", "changeme"),  # pragma: allowlist secret
    ("secret", "your-secret-here"),  # pragma: allowlist secret
    ("REDIS_PASSWORD", "xxxxxxxxxxxxxxxx"),  # pragma: allowlist secret
    ("OPENROUTER_API_KEY", "sk-or-v1-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),  # pragma: allowlist secret
    ("OPENAI_API_KEY", "sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),  # pragma: allowlist secret
    ("ANTHROPIC_API_KEY", "sk-ant-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),  # pragma: allowlist secret
    ("GOOGLE_API_KEY", "AIzaSyXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"),  # pragma: allowlist secret
    ("E2B_API_KEY", "e2b_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),  # pragma: allowlist secret
    ("AWS_ACCESS_KEY_ID", "AKIAxxxxxxxxxxxxxxxxxx"),  # pragma: allowlist secret
    ("AZURE_CLIENT_SECRET", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),  # pragma: allowlist secret
    ("DATABASE_URL", "postgresql://user:password@localhost:5432/neural_trader"),  # pragma: allowlist secret
    ("DATABASE_URL", "postgresql://user:${DB_PASSWORD}@db.internal:5432/neural_trader"),  # pragma: allowlist secret
    ("DATABASE_URL", "postgresql://localhost:5432/neural_trader"),  # pragma: allowlist secret
    ("SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"),  # pragma: allowlist secret
    ("SLACK_BOT_TOKEN", "xoxb-xxxxxxxxxx-xxxxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx"),  # pragma: allowlist secret
    ("SENTRY_DSN", "https://xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx@o123456.ingest.sentry.io/123456"),  # pragma: allowlist secret
    ("DD_API_KEY", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),  # pragma: allowlist secret
    ("COINBASE_API_KEY", "organizations/xxxxx/apiKeys/xxxxx"),  # pragma: allowlist secret
    ("COINBASE_API_SECRET", "-----BEGIN EC PRIVATE KEY-----\nMHc...\n-----END EC PRIVATE KEY-----"),  # pragma: allowlist secret
    ("TELEGRAM_BOT_TOKEN", "123456789:ABCdefGHIjklMNOpqrsTUVwxyz"),  # pragma: allowlist secret
    ("DOTENV_KEY", "dotenv://:key_xxxx@dotenv.local/vault/.env.vault?environment=production"),  # pragma: allowlist secret
    ("secretArn", "arn:aws:secretsmanager:us-east-1:123456789012:secret:nt/db-AbCdEf"),  # pragma: allowlist secret
    ("secret_name", "neural-trader/alpaca/api-key"),  # pragma: allowlist secret
    ("GOOGLE_APPLICATION_CREDENTIALS", "/path/to/service-account-key.json"),  # pragma: allowlist secret
    ("passwordLength", "32"),  # pragma: allowlist secret
    ("disablePasswordAuthentication", False),  # pragma: allowlist secret
    ("token_ttl", "3600"),  # pragma: allowlist secret
    ("apiKey", "@Microsoft.KeyVault(SecretUri=https://nt.vault.azure.net/secrets/api/)"),  # pragma: allowlist secret
    ("client_secret", "https://vault.internal/v1/secret/data/nt"),  # pragma: allowlist secret
    ("publicKey", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFAKEfakeFAKEfakeFAKEfake nt@ci"),  # pragma: allowlist secret
    ("sshPublicKey", "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQFAKE nt@ci"),  # pragma: allowlist secret
    ("IB_ACCOUNT_ID", "DU1234567"),  # pragma: allowlist secret
    ("SERVER_HOST", "0.0.0.0"),  # noqa: S104  # pragma: allowlist secret
    ("tags", {"Owner": "trading-platform", "CostCenter": "1234", "Name": "nt-secrets"}),  # pragma: allowlist secret
]
# fmt: on


@pytest.mark.parametrize(
    ("key", "value"), [pytest.param(k, v, id=f"{i}-{k}") for i, (k, v) in enumerate(NEGATIVE)]
)
def test_no_false_positives(key: str, value: Any) -> None:
    assert scan_value({key: value}) == []


FAKE_ANTHROPIC = (
    "sk-ant-api03-FAKEa1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8s9T0"  # pragma: allowlist secret
)
FAKE_OPENAI_PROJ = (
    "sk-proj-FAKE_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8s9T0u1-v2W3"  # pragma: allowlist secret
)
FAKE_OPENAI = "sk-FAKEa1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8s9T0u1"  # pragma: allowlist secret
FAKE_AKID = "AKIAIOSFODNN7EXAMPLE"  # pragma: allowlist secret
FAKE_REDIS_URL = "redis://:FAKEredisPw123@cache:6379"  # pragma: allowlist secret
FAKE_PASSWORD = "FAKEpw-42-zz"  # pragma: allowlist secret


def test_paths_through_nested_structures_and_json_strings() -> None:
    value = {
        "tags": {"Owner": "ops", "Deploy": f"token {FAKE_ANTHROPIC}"},
        "environment": {"variables": {"OPENAI_API_KEY": FAKE_OPENAI_PROJ, "LOG_LEVEL": "info"}},
        "policy": json.dumps(
            {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "s3:GetObject",
                        "Resource": "*",
                        "Condition": {"StringEquals": {"aws:userid": FAKE_AKID}},
                    }
                ]
            }
        ),
        "containers": [{"env": [{"name": "X", "value": FAKE_REDIS_URL}]}],
        "odd.key": {"password": FAKE_PASSWORD},
    }
    paths = {(h.path, h.kind) for h in scan_value(value)}
    assert paths == {
        ("tags.Deploy", "Anthropic API Key"),
        ("environment.variables.OPENAI_API_KEY", "OpenAI API Key"),
        ("policy.Statement[0].Condition.StringEquals.aws:userid", "AWS Access Key"),
        ("containers[0].env[0].value", "URL Password"),
        ('["odd.key"].password', SENSITIVE_KEY_KIND),
    }


def test_path_prefix_and_scalars() -> None:
    hits = scan_value(FAKE_AKID, path="props.accessKey")
    assert hits == [CredentialHit("props.accessKey", "AWS Access Key", "AKIA… (20 chars)")]
    for scalar in (None, 1, 2.5, True, b"bytes"):
        assert scan_value(scalar) == []


def test_one_hit_per_secret_and_no_sensitive_key_duplicate() -> None:
    hits = scan_value({"OPENAI_API_KEY": FAKE_OPENAI})
    assert [h.kind for h in hits] == ["OpenAI API Key"]


def test_deeply_nested_does_not_crash() -> None:
    value: Any = FAKE_AKID
    for _ in range(500):
        value = [value]
    assert scan_value(value) == []  # beyond the depth limit: ignored, never a RecursionError


def test_prefilter_is_active_and_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The combined pre-filter regex is only an optimisation: same hits without it."""
    assert credentials_module._prefilter() is not None
    cases = [{k: v} for k, v, _ in POSITIVE] + [{k: v} for k, v in NEGATIVE]
    with_prefilter = [scan_value(c) for c in cases]
    monkeypatch.setattr(credentials_module, "_prefilter", lambda: re.compile(""))
    assert [scan_value(c) for c in cases] == with_prefilter


def test_excluded_plugins_are_the_noisy_ones() -> None:
    assert {"KeywordDetector", "Base64HighEntropyString", "HexHighEntropyString"} <= set(
        EXCLUDED_PLUGINS
    )


SENSITIVE_NAMES = [
    "password",
    "adminPassword",
    "DB_PASSWORD",
    "db-password",
    "passwd",
    "pwd",
    "passphrase",
    "secret",
    "client_secret",
    "clientSecret",
    "JWT_SECRET",
    "secretString",
    "token",
    "authToken",
    "SLACK_BOT_TOKEN",
    "api_key",
    "apiKey",
    "API_KEY",
    "x-api-key",
    "private_key",
    "privateKey",
    "PRIVATE_KEY_PEM",
    "access_key",
    "primaryAccessKey",
    "storageAccountKey",
    "AWS_SECRET_ACCESS_KEY",
    "connection_string",
    "primaryConnectionString",
    "connectionString",
    "dsn",
    "SENTRY_DSN",
    "RABBITMQ_ERLANG_COOKIE",
    "credentials",
    "DD_APP_KEY",
    "ENCRYPTION_KEY",
    "signing_key",
    "auth",
    "sas_token",
    "masterKey",
]
NOT_SENSITIVE_NAMES = [
    "name",
    "key",
    "keys",
    "secret_arn",
    "secretArn",
    "secretName",
    "secret_id",
    "kmsKeyId",
    "kms_key_id",
    "password_length",
    "passwordLength",
    "token_ttl",
    "tokenExpiry",
    "disablePasswordAuthentication",
    "publicKey",
    "ssh_public_key",
    "AWS_ACCESS_KEY_ID",
    "TELEGRAM_CHAT_ID",
    "secret_version_stages",
    "secretRotation",
    "LOG_LEVEL",
    "Owner",
    "bucket",
    "region",
    "passwordPolicy",
    "tokenUrl",
    "oauthScopes",
    "salt",
    "hash",
    "",
]


@pytest.mark.parametrize("name", SENSITIVE_NAMES)
def test_is_sensitive_key(name: str) -> None:
    assert is_sensitive_key(name)


@pytest.mark.parametrize("name", NOT_SENSITIVE_NAMES)
def test_is_not_sensitive_key(name: str) -> None:
    assert not is_sensitive_key(name)


PLACEHOLDERS = [
    "${VAR}",
    "${DB_PASSWORD:-changeme}",
    "$API_KEY",
    "{{ secret }}",
    "%(password)s",
    "<redacted>",
    "<YOUR_API_KEY>",
    "[secret]",
    "[REDACTED]",
    "****",
    "xxxx",
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "sk-xxxxxxxxxxxxxxxxxxxxxxxx",
    "AIzaSyXXXXXXXXXXXXXXXX",
    "changeme",
    "CHANGE_ME",
    "placeholder",
    "redacted",
    "your-api-key-here",
    "insert_token",
    "password",
    "TODO",
    "",
    "   ",
    "...",
    None,
    42,
    "${{ secrets.ALPACA_TEST_API_KEY }}",
    "organizations/xxxxx/apiKeys/xxxxx",
    "-----BEGIN RSA PRIVATE KEY-----\\nMIIE...\\n-----END RSA PRIVATE KEY-----",  # pragma: allowlist secret
    "123456789:ABCdefGHIjklMNOpqrsTUVwxyz",
]
NOT_PLACEHOLDERS = [
    "Password1234!",
    "AKIAIOSFODNN7EXAMPLE",  # pragma: allowlist secret
    "FAKEr3disP4ss",
    "TGFAKEFAKEFAKEFAKEXY",  # pragma: allowlist secret
    "hunter2-but-longer",
    "0x1f2e3d",
    "x",
]


@pytest.mark.parametrize("value", PLACEHOLDERS)
def test_placeholders(value: object) -> None:
    assert looks_like_placeholder(value)


@pytest.mark.parametrize("value", NOT_PLACEHOLDERS)
def test_not_placeholders(value: str) -> None:
    assert not looks_like_placeholder(value)


def test_seed_section_1_as_written_is_all_placeholders() -> None:
    """The seed's own examples (xxxx filler, user:password@, MHc..., ABCdef...) are not
    credentials; the only hits are the dev/test DBs' default ``postgres:postgres`` URLs,
    a real (default) password that we do report."""
    env: dict[str, list[str]] = {}
    for m in re.finditer(r'^([A-Z][A-Z0-9_]+)="([^"]*)"', reference_file(SEED).read_text(), re.M):
        env.setdefault(m.group(1), []).append(m.group(2))
    assert len(env) > 50
    hits = scan_value(env)
    assert {h.path.split("[")[0] for h in hits} == {"DATABASE_URL"}
    assert {h.kind for h in hits} == {"Basic Auth Credentials"}


# --- real Pulumi states ------------------------------------------------------------------------


def _at(value: Any, path: str) -> Any:
    """Resolve a hit path (only the simple forms used in these states)."""
    for part in path.replace("[", ".[").split("."):
        if not part:
            continue
        value = value[int(part[1:-1])] if part.startswith("[") else value[part]
    return value


def test_azure_rmq_state_plaintext_credentials_found() -> None:
    state = json.loads(reference_file(REAL_STACKS / "azure-rmq-dev-checkpoint.json").read_text())
    hits = scan_value(state)
    paths = {h.path for h in hits}
    res = "checkpoint.latest.resources"
    expected = {
        f"{res}[8].outputs.primaryAccessKey",
        f"{res}[8].outputs.secondaryAccessKey",
        f"{res}[8].outputs.primaryConnectionString",
        f"{res}[8].outputs.secondaryConnectionString",
        f"{res}[8].outputs.primaryBlobConnectionString",
        f"{res}[18].inputs.adminPassword",
        f"{res}[18].outputs.adminPassword",
        f"{res}[22].inputs.containers[0].environmentVariables.RABBITMQ_ERLANG_COOKIE",
        f"{res}[22].outputs.containers[0].environmentVariables.RABBITMQ_ERLANG_COOKIE",
    } | {
        f"{res}[22].{io}.containers[0].volumes[{i}].storageAccountKey"
        for io in ("inputs", "outputs")
        for i in range(3)
    }
    assert paths == expected
    for h in hits:  # never the value itself
        secret = _at(state, h.path)
        assert secret not in h.hint
        assert secret[-6:] not in h.hint


@pytest.mark.parametrize(
    "name", ["pulumi-testdata-checkpoint-secrets.json", "gcp-gke-dev-checkpoint.json"]
)
def test_states_without_plaintext_secrets_have_no_hits(name: str) -> None:
    """ARNs, URNs, asset hashes, b64/passphrase ciphertexts and salts must not be flagged."""
    state = json.loads(reference_file(REAL_STACKS / name).read_text())
    assert scan_value(state) == []


# --- name/value pairs, word lists, deep JSON in strings ----------------------------------------

FAKE_ALPACA_SECRET = "FAKEq8Zr2Lm4Np6Tv0Xb3Dc5Fg7Hj9Kk1M"  # pragma: allowlist secret
FAKE_DD_API = "fa4e1c2b9d8a7f6e5d4c3b2a1f9e8d7c"  # pragma: allowlist secret
FAKE_BINANCE_SECRET = "FAKEnr7Lq2Wz9Ty4Uc6Ib1Od3Pe5Af8Sg0Hj"  # pragma: allowlist secret
FAKE_DB_PASSWORD = "FAKEdbPassw0rd-77"  # pragma: allowlist secret
SECRET_ARN = (
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:nt/db-AbCdEf"  # pragma: allowlist secret
)
K8S_ENV = [
    {"name": "LOG_LEVEL", "value": "info"},
    {"name": "ALPACA_API_URL", "value": "https://paper-api.alpaca.markets"},
    {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
    {"name": "ALPACA_SECRET_KEY", "value": FAKE_ALPACA_SECRET},
]
ECS_CONTAINERS = [
    {
        "name": "trader",
        "environment": [
            {"name": "DD_API_KEY", "value": FAKE_DD_API},
            {"name": "BINANCE_API_SECRET", "value": FAKE_BINANCE_SECRET},
        ],
        "secrets": [{"name": "DB_PASSWORD", "valueFrom": SECRET_ARN}],
    }
]
ECS_HITS = {
    ("containerDefinitions[0].environment[0].value", "Datadog API Key"),
    ("containerDefinitions[0].environment[1].value", SENSITIVE_KEY_KIND),
}

# value, expected {(path, kind)}
PAIRS: list[tuple[str, Any, set[tuple[str, str]]]] = [
    ("k8s-env", {"spec": {"template": {"spec": {"containers": [{"name": "t", "env": K8S_ENV}]}}}},
     {("spec.template.spec.containers[0].env[3].value", SENSITIVE_KEY_KIND)}),
    ("k8s-env-list-alone", {"env": [{"name": "ALPACA_SECRET_KEY", "value": FAKE_ALPACA_SECRET}]},
     {("env[0].value", SENSITIVE_KEY_KIND)}),
    ("ecs-list", {"containerDefinitions": ECS_CONTAINERS}, ECS_HITS),
    ("ecs-json-string", {"containerDefinitions": json.dumps(ECS_CONTAINERS)}, ECS_HITS),
    ("cloudformation", {"Parameters": [{"ParameterKey": "Env", "ParameterValue": "prod"},
                                       {"ParameterKey": "DbPassword", "ParameterValue": FAKE_DB_PASSWORD, "UsePreviousValue": False}]},
     {("Parameters[1].ParameterValue", SENSITIVE_KEY_KIND)}),
    ("capitalised", {"Environment": [{"Name": "API_TOKEN", "Value": FAKE_DB_PASSWORD}]},
     {("Environment[0].Value", SENSITIVE_KEY_KIND)}),
    ("key-value", {"settings": [{"key": "client_secret", "value": FAKE_DB_PASSWORD}]},
     {("settings[0].value", SENSITIVE_KEY_KIND)}),
    ("tag-Key-Value", {"Tags": [{"Key": "Owner", "Value": "ops"}, {"Key": "dd_api_key", "Value": FAKE_DD_API}]},
     {("Tags[1].Value", "Datadog API Key")}),
    ("beanstalk", {"settings": [{"Namespace": "aws:elasticbeanstalk:application:environment", "OptionName": "DB_PASSWORD", "Value": FAKE_DB_PASSWORD}]},
     {("settings[0].Value", SENSITIVE_KEY_KIND)}),
    ("format-detector-still-applies", {"env": [{"name": "NOTE", "value": FAKE_AKID}]},
     {("env[0].value", "AWS Access Key")}),
    # not credentials
    ("neutral-names", {"env": K8S_ENV[:3]}, set()),
    ("reference", {"env": [{"name": "DB_SECRET_ARN", "value": SECRET_ARN}]}, set()),
    ("file-path", {"env": [{"name": "DB_PASSWORD_FILE", "value": "/run/secrets/db"}]}, set()),
    ("placeholder", {"env": [{"name": "API_TOKEN", "value": "${API_TOKEN}"}]}, set()),
    ("name-not-a-string", {"env": [{"name": 7, "value": FAKE_DB_PASSWORD}]}, set()),
    ("ecs-secrets-valueFrom", {"secrets": [{"name": "DB_PASSWORD", "valueFrom": SECRET_ARN}]}, set()),
]  # fmt: skip


@pytest.mark.parametrize(("case", "value", "expected"), PAIRS, ids=[p[0] for p in PAIRS])
def test_name_value_pairs(case: str, value: Any, expected: set[tuple[str, str]]) -> None:
    hits = scan_value(value)
    assert {(h.path, h.kind) for h in hits} == expected
    for h in hits:
        for secret in (FAKE_ALPACA_SECRET, FAKE_DD_API, FAKE_BINANCE_SECRET, FAKE_DB_PASSWORD):
            assert secret not in h.hint and secret[-6:] not in h.hint


ALL_KV_PERMISSIONS = ["Get", "List", "Set", "Delete", "Purge", "Backup", "Restore", "Recover"]
# value, expected {(path, kind)}
WORD_LISTS: list[tuple[str, Any, set[tuple[str, str]]]] = [
    ("azure-native-access-policy", {"properties": {"accessPolicies": [{"objectId": "3f2504e0-4f89-11d3-9a0c-0305e82c3301", "permissions": {"secrets": ["Get", "List"], "keys": ["Get", "List", "Create"], "certificates": ["all"]}}]}}, set()),
    ("classic-secret-permissions", {"accessPolicies": [{"secretPermissions": ALL_KV_PERMISSIONS, "keyPermissions": ["GetRotationPolicy"], "storagePermissions": ["regeneratekey"]}]}, set()),
    ("as-json-string", {"policy": json.dumps({"permissions": {"secrets": ALL_KV_PERMISSIONS}})}, set()),
    ("tokens-list-of-words", {"tokenScopes": ["read", "write"]}, set()),
    # still credentials
    ("single-string", {"adminPassword": "Password1234!"}, {("adminPassword", SENSITIVE_KEY_KIND)}),  # pragma: allowlist secret
    ("list-of-passwords", {"passwords": [FAKE_DB_PASSWORD]}, {("passwords[0]", SENSITIVE_KEY_KIND)}),
    ("mixed-list", {"secrets": ["Get", FAKE_DB_PASSWORD]}, {("secrets[1]", SENSITIVE_KEY_KIND)}),
    ("word-too-long", {"secrets": ["Get", "FAKEqZrLmNpTvXbDcFgHjKk"]}, {("secrets[1]", SENSITIVE_KEY_KIND)}),  # pragma: allowlist secret
]  # fmt: skip


@pytest.mark.parametrize(("case", "value", "expected"), WORD_LISTS, ids=[w[0] for w in WORD_LISTS])
def test_word_lists_under_sensitive_keys(
    case: str, value: Any, expected: set[tuple[str, str]]
) -> None:
    assert {(h.path, h.kind) for h in scan_value(value)} == expected


def _nested_json(levels: int) -> str:
    return "[" * levels + json.dumps(FAKE_AKID) + "]" * levels


# levels of JSON inside the string, expected path of the AWS key
DEEP_JSON: list[tuple[int, str]] = [
    (3, "doc[0][0][0]"),  # walked as structure
    (150, "doc"),  # past the depth limit: scanned as text
    (100_000, "doc"),  # past the JSON parser's recursion limit: scanned as text, no RecursionError
]


@pytest.mark.parametrize(("levels", "path"), DEEP_JSON)
def test_deep_json_in_strings_is_scanned_as_text(levels: int, path: str) -> None:
    hits = scan_value({"doc": _nested_json(levels)})
    assert [(h.path, h.kind) for h in hits] == [(path, "AWS Access Key")]
