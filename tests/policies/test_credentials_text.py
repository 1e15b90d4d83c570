"""Credentials inside text, judged by name and value (issue 9, item 6).

Two tables, realistic for a trading platform across AWS, GCP, Azure, Vault and Kubernetes
shapes: HIDDEN credentials (encoded user data and scripts, shell text, env files under one key,
command lines, URLs, seed phrases, recognisable formats) that must be reported, and LOOK_ALIKES
(credential-like *names* with ordinary values, references, placeholders) that must not fail a
deploy. Every credential below is an obviously fake value of the real shape (AWS's documented
example keys, FAKE-marked tokens, BIP-39's published test vectors) and every line holding one
carries ``pragma: allowlist secret``.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from policies.lib import credentials
from policies.lib.credentials import SENSITIVE_KEY_KIND, scan_value
from policies.runner import run
from tests.policies.records import rec

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "credentials"

AKID = "AKIAIOSFODNN7EXAMPLE"  # pragma: allowlist secret
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"  # pragma: allowlist secret
ANTHROPIC = "sk-ant-api03-FAKEa1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8s9T0u1v2W3x4Y5z6-FAKEAA"  # pragma: allowlist secret
OPENAI = "sk-proj-FAKE_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8s9T0u1-v2W3"  # pragma: allowlist secret
DB_PW = "FAKEdbPassw0rd-77"  # pragma: allowlist secret
ALPACA_SECRET = "FAKEq8Zr2Lm4Np6Tv0Xb3Dc5Fg7Hj9Kk1Mm3Pp5Rr"  # pragma: allowlist secret
ALPACA_KEY_ID = "PKFAKE7Q2LZ9R4M1XW8B"  # pragma: allowlist secret
BINANCE_KEY = ("FAKE" + "vmPWk2nQ8rTz5Yb7Hc1Jd3Lf6Ng9Sp0Uw4Xa" * 2)[:64]  # pragma: allowlist secret
_BINANCE_SECRET_PART = "nr7Lq2Wz9Ty4Uc6Ib1Od3Pe5Af8Sg0Hj2Kk4M"  # pragma: allowlist secret
BINANCE_SECRET = ("FAKE" + _BINANCE_SECRET_PART * 2)[:64]
TELEGRAM = "123456789:AAFAKEfakeFAKEfakeFAKEfakeFAKEfake1"  # pragma: allowlist secret
VAULT_TOKEN = "hvs.FAKEa1B2c3D4e5F6g7H8i9J0k1L2m3"  # pragma: allowlist secret
AZURE_AD_SECRET = "abc8Q~FAKEa1B2c3D4e5F6g7H8i9J0k1L2m3N4o"  # pragma: allowlist secret
STRIPE_TEST = "sk_test_FAKEa1B2c3D4e5F6g7H8i9J0k1"  # pragma: allowlist secret
HF_TOKEN = "hf_FAKEa1B2c3D4e5F6g7H8i9J0k1L2m3N4o5"  # pragma: allowlist secret
SENDGRID = "SG.FAKEa1B2c3D4e5F6g7H8i9.FAKEa1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8s9T"  # pragma: allowlist secret
GITLAB = "glpat-FAKEa1B2c3D4e5F6g7H8"  # pragma: allowlist secret
TWILIO = "SKfa4e1c2b9d8a7f6e5d4c3b2a1f9e8d7c"  # pragma: allowlist secret
AZ_SAS = "Endpoint=sb://nt-prod.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=FAKEa1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1=;EntityPath=orders"  # pragma: allowlist secret
PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n"  # pragma: allowlist secret
    "MIIEpAIBAAKCAQEAFAKEFAKEkeyMATERIALnotREALq1w2e3r4t5y6u7i8o9p0FAKE\n"  # pragma: allowlist secret
    "-----END RSA PRIVATE KEY-----\n"
)
# BIP-39's published test vectors (trezor/python-mnemonic vectors.json): public, valid checksums
SEED_12 = "legal winner thank year wave sausage worth useful legal winner thank yellow"  # pragma: allowlist secret
SEED_24 = " ".join(["zoo"] * 23 + ["vote"])  # pragma: allowlist secret
SEED_NO_CHECKSUM = " ".join(["abandon"] * 12)  # 12 words, checksum invalid


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def gz_b64(text: str) -> str:
    return base64.b64encode(gzip.compress(text.encode(), mtime=0)).decode()


def jwt() -> str:
    def part(obj: dict[str, str]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part({'sub': 'FAKE-live-trader'})}.FAKEsigFAKEsig0123456789"


GCP_SA_JSON = json.dumps(
    {"type": "service_account", "project_id": "neural-trader-prod", "private_key": PEM}
)
CLOUD_INIT = f"""#cloud-config
write_files:
  - path: /etc/neural-trader/env
    content: |
      LOG_LEVEL=info
      DB_PASSWORD={DB_PW}
runcmd:
  - systemctl start trader
"""

# case, resource-ish input value, expected (path, kind) among the hits
# fmt: off
HIDDEN: list[tuple[str, dict[str, Any], tuple[str, str]]] = [
    # --- AWS: EC2 user data, launch templates, Lambda, ECS, SNS
    ("ec2-userdata-export", {"userData": f"#!/bin/bash\nexport AWS_SECRET_ACCESS_KEY={AWS_SECRET}\n/opt/nt/run"}, ("userData", SENSITIVE_KEY_KIND)),
    ("ec2-userdata-b64", {"userDataBase64": b64(f"#!/bin/bash\nexport ANTHROPIC_API_KEY={ANTHROPIC}\n")}, ("userDataBase64", "Anthropic API Key")),
    ("launch-template-gzip-b64-cloud-init", {"userData": gz_b64(CLOUD_INIT)}, ("userData", SENSITIVE_KEY_KIND)),
    ("userdata-heredoc", {"userData": f"#!/bin/sh\ncat > /opt/nt/creds <<'EOF'\nexport OPENAI_API_KEY={OPENAI}\nEOF\n"}, ("userData", "OpenAI API Key")),
    ("userdata-heredoc-env-file", {"userData": f"cat <<EOF > /etc/nt/.env\nLOG_LEVEL=info\nBINANCE_API_SECRET={ALPACA_SECRET}\nEOF"}, ("userData", SENSITIVE_KEY_KIND)),
    ("userdata-double-b64", {"userData": b64(b64(f"aws configure set aws_access_key_id {AKID}"))}, ("userData", "AWS Access Key")),
    ("userdata-vault-token", {"userData": f"export VAULT_ADDR=https://vault.internal:8200\nexport VAULT_TOKEN={VAULT_TOKEN}"}, ("userData", "Vault Token")),
    ("userdata-pgpassword", {"userData": f"PGPASSWORD={DB_PW} psql -h db.internal -U trader nt"}, ("userData", SENSITIVE_KEY_KIND)),
    ("lambda-env-url-query-token", {"environment": {"variables": {"PRICES_URL": "https://api.prices.example.com/v1/quotes?symbol=SPY&token=FAKEtok9xQ2wL7mN4"}}}, ("environment.variables.PRICES_URL", SENSITIVE_KEY_KIND)),  # pragma: allowlist secret
    ("lambda-env-telegram-url-path", {"environment": {"variables": {"ALERT_URL": f"https://api.telegram.org/bot{TELEGRAM}/sendMessage"}}}, ("environment.variables.ALERT_URL", "Telegram Bot Token")),
    ("sns-endpoint-api-key-query", {"endpoint": "https://hooks.example.com/alerts?api_key=FAKEk3y-9z8y7x6w5v"}, ("endpoint", SENSITIVE_KEY_KIND)),  # pragma: allowlist secret
    ("ecs-command-password-flag", {"containerDefinitions": json.dumps([{"name": "trader", "command": ["trader", f"--password={DB_PW}"]}])}, ("containerDefinitions[0].command[1]", SENSITIVE_KEY_KIND)),
    ("lambda-env-binance-pair-env-text", {"environment": {"variables": {"EXCHANGE_ENV": f"BINANCE_API_KEY={BINANCE_KEY}\nBINANCE_API_SECRET={BINANCE_SECRET}"}}}, ("environment.variables.EXCHANGE_ENV", "Exchange API Key")),
    ("tag-alpaca-key-id", {"tags": {"Deploy": f"alpaca {ALPACA_KEY_ID}"}}, ("tags.Deploy", "Alpaca API Key ID")),
    ("description-seed-phrase", {"description": f"cold wallet backup: {SEED_12}"}, ("description", "BIP-39 Seed Phrase")),
    ("ssm-string-param-stripe-test", {"type": "String", "value": f"STRIPE_KEY={STRIPE_TEST}"}, ("value", "Stripe Test Key")),
    ("exchange-named-key", {"environment": {"variables": {"BINANCE_KEY": BINANCE_KEY}}}, ("environment.variables.BINANCE_KEY", "Exchange API Key")),
    ("structured-passphrase", {"walletPassphrase": "correct horse battery staple"}, ("walletPassphrase", SENSITIVE_KEY_KIND)),  # pragma: allowlist secret
    # --- GCP: metadata startup-script, Cloud Run, Cloud Functions
    ("gcp-startup-script-mysql-p", {"metadata": {"startup-script": f"#!/bin/bash\nmysql -u trader -p'{DB_PW}' neural_trader < /opt/schema.sql"}}, ('metadata.startup-script', SENSITIVE_KEY_KIND)),
    ("gcp-startup-script-db-url", {"metadata": {"startup-script": "psql postgresql://trader:FAKEs3cr3tPw@10.0.0.5:5432/nt -c 'select 1'"}}, ('metadata.startup-script', "Basic Auth Credentials")),  # pragma: allowlist secret
    ("gcp-metadata-ssh-private-key", {"metadata": {"deploy-key": PEM}}, ('metadata.deploy-key', "Private Key")),
    ("gcp-env-service-account-json", {"environmentVariables": {"GOOGLE_CREDENTIALS": GCP_SA_JSON}}, ("environmentVariables.GOOGLE_CREDENTIALS.private_key", "Private Key")),
    ("cloud-run-args-token", {"template": {"containers": [{"args": ["--token", "FAKEtok3n-abcdef123", "--mode", "live"]}]}}, ("template.containers[0].args[1]", SENSITIVE_KEY_KIND)),
    ("cloud-run-command-line-token", {"template": {"containers": [{"command": ["sh", "-c", "trader --token FAKEtok3n-abcdef123 --mode live"]}]}}, ("template.containers[0].command[2]", SENSITIVE_KEY_KIND)),
    ("cloud-function-hf-token", {"buildEnvironmentVariables": {"PIP_EXTRA": f"HF_HOME=/tmp\nHUGGING_FACE_HUB_TOKEN={HF_TOKEN}"}}, ("buildEnvironmentVariables.PIP_EXTRA", "Hugging Face Token")),
    ("gcp-label-like-sendgrid", {"description": f"mail relay key {SENDGRID}"}, ("description", "SendGrid API Key")),
    # --- Azure: customData, extensions, app settings
    ("azure-custom-data-b64", {"osProfile": {"customData": b64(f"ALPACA_SECRET_KEY={ALPACA_SECRET}\n")}}, ("osProfile.customData", SENSITIVE_KEY_KIND)),
    ("azure-custom-data-windows-set", {"osProfile": {"customData": b64(f"set DB_PASSWORD={DB_PW}\r\nstart trader.exe")}}, ("osProfile.customData", SENSITIVE_KEY_KIND)),
    ("azure-extension-curl-u", {"settings": {"commandToExecute": "curl -u admin:FAKEadminPw-9 https://repo.internal/setup.sh | sh"}}, ("settings.commandToExecute", SENSITIVE_KEY_KIND)),  # pragma: allowlist secret
    ("azure-app-setting-sas", {"siteConfig": {"appSettings": [{"name": "BUS", "value": AZ_SAS}]}}, ("siteConfig.appSettings[0].value", "Azure Shared Access Key")),
    ("azure-app-setting-client-secret-shape", {"siteConfig": {"appSettings": [{"name": "SETTING_1", "value": AZURE_AD_SECRET}]}}, ("siteConfig.appSettings[0].value", "Azure AD Client Secret")),
    ("azure-connection-string-password", {"connectionStrings": [{"name": "db", "connectionString": f"Server=tcp:nt.database.windows.net;Database=nt;User Id=app;Password={DB_PW};"}]}, ("connectionStrings[0].connectionString", "Connection String Password")),
    # --- Vault
    ("vault-provider-token-in-env-text", {"dataJson": None, "description": f"VAULT_TOKEN={VAULT_TOKEN}"}, ("description", "Vault Token")),
    ("vault-jwt-bearer-in-header-text", {"headers": f"Authorization: Bearer {jwt()}"}, ("headers", "JSON Web Token")),
    # --- Kubernetes: ConfigMaps, container args/command, annotations
    ("k8s-configmap-env-file", {"data": {"application.env": f"LOG_LEVEL=info\nDB_PASSWORD={DB_PW}\n"}}, ('data["application.env"]', SENSITIVE_KEY_KIND)),
    ("k8s-configmap-yaml-password", {"data": {"config.yaml": f"database:\n  host: db.internal\n  password: {DB_PW}\n"}}, ('data["config.yaml"]', SENSITIVE_KEY_KIND)),
    ("k8s-configmap-binary-aws-creds", {"binaryData": {"credentials": b64(f"[default]\naws_access_key_id = {AKID}\naws_secret_access_key = {AWS_SECRET}\n")}}, ("binaryData.credentials", "AWS Access Key")),
    ("k8s-configmap-seed-24", {"data": {"wallet.txt": SEED_24}}, ('data["wallet.txt"]', "BIP-39 Seed Phrase")),
    ("k8s-configmap-named-mnemonic", {"data": {"WALLET_MNEMONIC": SEED_NO_CHECKSUM}}, ("data.WALLET_MNEMONIC", "BIP-39 Seed Phrase")),
    ("k8s-container-args-api-key", {"spec": {"containers": [{"args": [f"--api-key={ALPACA_SECRET}", "--paper=false"]}]}}, ("spec.containers[0].args[0]", SENSITIVE_KEY_KIND)),
    ("k8s-annotation-gitlab-token", {"metadata": {"annotations": {"ci/runner": f"register --token {GITLAB}"}}}, ('metadata.annotations.ci/runner', "GitLab Token")),
    ("k8s-configmap-docker-auth", {"data": {"config.json": json.dumps({"auths": {"ghcr.io": {"auth": b64("trader:FAKEghcrPw-42")}}})}}, ('data["config.json"].auths["ghcr.io"].auth', SENSITIVE_KEY_KIND)),
    ("k8s-configmap-redis-url", {"data": {"REDIS_URL": "redis://:FAKEredisPw123@redis.nt.svc:6379/0"}}, ("data.REDIS_URL", "URL Password")),  # pragma: allowlist secret
    ("k8s-configmap-twilio", {"data": {"notify.ini": f"[twilio]\nsid = ACfake\nkey = {TWILIO}\n"}}, ('data["notify.ini"]', "Twilio API Key")),
]
# fmt: on


@pytest.mark.parametrize(("case", "value", "expected"), HIDDEN, ids=[h[0] for h in HIDDEN])
def test_hidden_credentials_are_found(
    case: str, value: dict[str, Any], expected: tuple[str, str]
) -> None:
    hits = scan_value(value)
    assert expected in {(h.path, h.kind) for h in hits}, hits
    secrets = (
        AKID,
        AWS_SECRET,
        ANTHROPIC,
        OPENAI,
        DB_PW,
        ALPACA_SECRET,
        BINANCE_KEY,
        TELEGRAM,
        VAULT_TOKEN,
    )
    for h in hits:
        for secret in secrets:
            assert secret[-8:] not in h.hint  # the hint shows a public prefix and a length only


def test_enough_hidden_cases() -> None:
    assert len(HIDDEN) >= 40


# Settings and references that merely have credential-like names (or values) and must pass.
LOOK_ALIKE_WORDS = "your local team will review every order and trade report during market close"

# fmt: off
LOOK_ALIKES: list[tuple[str, dict[str, Any]]] = [
    # --- names about a credential, ordinary values (the issue's examples first)
    ("session-token-lifetime", {"SESSION_TOKEN_LIFETIME": "3600"}),
    ("password-min-length", {"PASSWORD_MIN_LENGTH": "12"}),
    ("jwt-issuer", {"JWT_ISSUER": "https://issuer.example.com"}),
    ("auth-mode", {"auth_mode": "oidc"}),
    ("secret-rotation-days", {"SECRET_ROTATION_DAYS": "30"}),
    ("api-key-header", {"API_KEY_HEADER": "X-Api-Key"}),  # pragma: allowlist secret
    ("auth-scheme", {"AUTH": "bearer"}),
    ("jwt-algorithm", {"JWT_ALGORITHM": "HS256"}),
    ("token-endpoint", {"TOKEN_ENDPOINT": "https://oauth2.googleapis.com/token"}),
    ("token-refresh-enabled", {"TOKEN_REFRESH_ENABLED": "true"}),
    ("cookie-secure-flag", {"cookie_secure": "true"}),
    ("session-cookie-name", {"session_cookie_name": "nt_session"}),
    ("api-key-prefix", {"API_KEY_PREFIX": "nt_live_"}),  # pragma: allowlist secret
    ("password-reset-url", {"PASSWORD_RESET_URL": "https://app.neural-trader.example/reset"}),  # pragma: allowlist secret
    ("token-scopes", {"token_scopes": ["read", "write"]}),
    ("secret-access-timeout", {"SECRET_FETCH_TIMEOUT": "5s"}),  # pragma: allowlist secret
    ("datadog-site", {"DD_SITE": "datadoghq.eu"}),
    # --- placeholders (decision: "changeme" is a placeholder, see the module docstring)
    ("placeholder-var", {"DB_PASSWORD": "${DB_PASSWORD}"}),
    ("placeholder-angle", {"ALPACA_SECRET_KEY": "<your-key>"}),
    ("placeholder-changeme", {"ADMIN_PASSWORD": "changeme"}),  # pragma: allowlist secret
    ("placeholder-generated", {"SECRET_KEY_BASE": "<generated>"}),
    # --- AWS references and settings
    ("secret-arn", {"secretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:neural-trader/production/alpaca/secret-key-AbCdEf"}),  # pragma: allowlist secret
    ("secret-name-path", {"SECRET_NAME": "neural-trader/production/alpaca/secret-key"}),  # pragma: allowlist secret
    ("kms-key-id", {"kmsKeyId": "1234abcd-12ab-34cd-56ef-1234567890ab"}),  # pragma: allowlist secret
    ("password-file", {"DB_PASSWORD_FILE": "/run/secrets/db_password"}),
    ("rotation-schedule", {"rotationRules": {"scheduleExpression": "rate(30 days)"}}),
    ("log-group", {"name": "/aws/lambda/neural-trader-rotation"}),
    ("userdata-fetches-secret", {"userData": "#!/bin/bash\nexport DB_PASSWORD=$(aws secretsmanager get-secret-value --secret-id nt/db --query SecretString --output text)\n"}),
    ("userdata-b64-settings-only", {"userDataBase64": b64("#!/bin/bash\nexport SECRET_ROTATION_DAYS=30\nexport PASSWORD_MIN_LENGTH=12\nexport JWT_ISSUER=https://issuer.example.com\nexport TOKEN_TTL=3600\n")}),
    ("userdata-gzip-placeholder", {"userData": gz_b64('#!/bin/bash\nexport DB_PASSWORD="${DB_PASSWORD}"\n')}),
    ("asset-hash-and-binary-b64", {"sourceCodeHash": base64.b64encode(hashlib.sha512(b"bundle").digest()).decode(), "etag": hashlib.sha256(b"x").hexdigest()}),
    # --- command lines that look like credential flags but are not
    ("ssh-port", {"command": "ssh -p 2222 trader@bastion.internal"}),
    ("mkdir-p", {"userData": "#!/bin/sh\nmkdir -p /opt/neural-trader/logs\n"}),
    ("docker-port", {"args": ["run", "-p", "8080:80", "nt/trader:1.4.2"]}),
    ("mysql-p-env-ref", {"command": 'mysql -u trader -p"$MYSQL_PWD" nt'}),
    ("token-ttl-flag", {"args": ["--token-ttl=3600", "--auth-mode=oidc"]}),
    # --- URLs
    ("oauth-query", {"url": "https://login.example.com/authorize?response_type=code&client_id=nt-web&redirect_uri=https%3A%2F%2Fapp.example.com"}),
    ("token-type-query", {"callback": "https://app.example.com/cb?token_type=bearer&expires_in=3600"}),
    ("authorization-header-ref", {"headers": "Authorization: Bearer ${TOKEN}"}),
    # --- GCP
    ("gcp-secret-env-ref", {"env": [{"name": "API_KEY", "valueSource": {"secretKeyRef": {"secret": "projects/neural-trader-prod/secrets/api-key", "version": "latest"}}}]}),  # pragma: allowlist secret
    ("gcp-wi-annotation", {"metadata": {"annotations": {"iam.gke.io/gcp-service-account": "live-trader@neural-trader-prod.iam.gserviceaccount.com"}}}),
    ("gcp-public-cert", {"metadata": {"ca": "-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBaMQswCQYDVQQGEwJJ\n-----END CERTIFICATE-----"}}),
    # --- Azure
    ("azure-kv-reference", {"appSettings": [{"name": "ALPACA_SECRET_KEY", "value": "@Microsoft.KeyVault(SecretUri=https://nt-prod.vault.azure.net/secrets/alpaca-secret/)"}]}),
    ("azure-managed-identity-conn", {"connectionString": "Server=tcp:nt.database.windows.net;Database=nt;Authentication=Active Directory Managed Identity"}),
    ("azure-client-id", {"AZURE_CLIENT_ID": "3f2504e0-4f89-11d3-9a0c-0305e82c3301"}),  # pragma: allowlist secret
    # --- Vault
    ("vault-policy-hcl", {"policy": 'path "secret/data/neural-trader/*" {\n  capabilities = ["read"]\n}\n'}),
    ("vault-approle-settings", {"secret_id_ttl": "24h", "secret_id_num_uses": "0", "token_policies": ["live-trader"], "token_ttl": "1h"}),
    ("vault-auth-path", {"auth_path": "auth/kubernetes/role/live-trader"}),
    ("vault-addr", {"VAULT_ADDR": "https://vault.internal:8200", "VAULT_AUTH_METHOD": "kubernetes"}),
    # --- Kubernetes
    ("k8s-secret-key-ref", {"env": [{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}]}),
    ("k8s-irsa-annotation", {"metadata": {"annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/live-trader"}}}),
    ("k8s-configmap-settings-env", {"data": {"app.env": "LOG_LEVEL=info\nSESSION_TOKEN_LIFETIME=3600\nPASSWORD_MIN_LENGTH=12\nAUTH_MODE=oidc\n"}}),  # pragma: allowlist secret
    ("k8s-configmap-settings-yaml", {"data": {"auth.yaml": "auth:\n  mode: oidc\n  issuer: https://issuer.example.com\n  token_ttl: 1h\n"}}),
    ("github-oidc-subject", {"token.actions.githubusercontent.com:sub": "repo:neural-trader/infra:environment:production"}),
    # --- words and phrases
    ("eleven-wordlist-words", {"description": "abandon ability able about above absent absorb abstract absurd abuse access"}),
    ("prose-with-wordlist-words", {"description": LOOK_ALIKE_WORDS}),
    ("catalog-style-description", {"description": "Service principal client secret: never issued, replaced by managed identity"}),
    ("invalid-jwt-shape", {"note": "eyJhbGciOi.notjson"}),
]
# fmt: on


@pytest.mark.parametrize(("case", "value"), LOOK_ALIKES, ids=[c[0] for c in LOOK_ALIKES])
def test_look_alikes_pass(case: str, value: dict[str, Any]) -> None:
    assert scan_value(value) == []


def test_enough_look_alikes() -> None:
    assert len(LOOK_ALIKES) >= 40


def test_prose_look_alike_has_no_valid_checksum_run() -> None:
    """The prose case above is meaningful only if its words are mostly wordlist words."""
    index = credentials._bip39_index()
    words = LOOK_ALIKE_WORDS.split()
    assert sum(w in index for w in words) >= 8


# The plaintext policy on whole resources: encoded user data fails, look-alikes pass.
POLICY = "all-no-plaintext-credentials"
# fmt: off
POLICY_CASES: list[tuple[str, str, dict[str, Any], int]] = [
    ("instance gzip user data", "aws:ec2/instance:Instance", {"userData": gz_b64(CLOUD_INIT)}, 1),
    ("launch template b64 user data", "aws:ec2/launchTemplate:LaunchTemplate", {"userData": b64(f"export AWS_ACCESS_KEY_ID={AKID}\n")}, 1),
    ("gcp startup script", "gcp:compute/instance:Instance", {"metadataStartupScript": f"mysql -p'{DB_PW}' nt"}, 1),
    ("azure custom data", "azure-native:compute:VirtualMachine", {"osProfile": {"customData": b64(f"ALPACA_SECRET_KEY={ALPACA_SECRET}")}}, 1),
    ("configmap env file", "kubernetes:core/v1:ConfigMap", {"data": {"app.env": f"DB_PASSWORD={DB_PW}"}}, 1),
    ("instance settings only", "aws:ec2/instance:Instance", {"userData": b64("export SECRET_ROTATION_DAYS=30\nexport AUTH_MODE=oidc\n")}, 0),
    ("configmap settings only", "kubernetes:core/v1:ConfigMap", {"data": {"SESSION_TOKEN_LIFETIME": "3600", "JWT_ISSUER": "https://issuer.example.com"}}, 0),
]
# fmt: on


@pytest.mark.parametrize(
    ("case", "type_", "props", "count"), POLICY_CASES, ids=[c[0] for c in POLICY_CASES]
)
def test_plaintext_policy_on_text(case: str, type_: str, props: dict[str, Any], count: int) -> None:
    found = [v for v in run([rec(type_, props)]).violations if v.policy == POLICY]
    assert len(found) == count, found
    for v in found:
        for secret in (AKID, DB_PW, ALPACA_SECRET):
            assert secret not in v.message


def test_decoded_hints_say_how_the_value_was_hidden() -> None:
    [hit] = scan_value({"userData": gz_b64(f"export AWS_ACCESS_KEY_ID={AKID}\n")})
    assert (hit.kind, hit.hint) == ("AWS Access Key", "AKIA… (20 chars), in base64+gzip")


def test_decoding_is_bounded_in_layers() -> None:
    """Four layers of base64 are not unwrapped (at most three): bounded work per string."""
    text = f"aws_access_key_id {AKID}"
    for _ in range(3):
        text = b64(text)
    assert [h.kind for h in scan_value({"v": text})] == ["AWS Access Key"]
    assert scan_value({"v": b64(text)}) == []


def test_embedded_wordlist_is_the_vendored_bip39_list() -> None:
    vendored = (FIXTURES / "bip39-english.txt").read_text().split()
    assert len(vendored) == 2048
    assert credentials._BIP39_ENGLISH.split() == vendored
    sources = (FIXTURES / "SOURCES.md").read_text()
    digest = hashlib.sha256((FIXTURES / "bip39-english.txt").read_bytes()).hexdigest()
    assert digest in sources


@pytest.mark.parametrize(
    ("phrase", "valid"),
    [
        (SEED_12, True),
        (SEED_24, True),
        (SEED_NO_CHECKSUM, False),
        (" ".join(["abandon"] * 11 + ["about"]), True),
    ],
)
def test_bip39_checksum(phrase: str, valid: bool) -> None:
    index = credentials._bip39_index()
    assert credentials._bip39_checksum_ok([index[w] for w in phrase.split()]) is valid
    # a valid phrase is a finding under any name; an invalid one only under a seed/secret name
    assert bool(scan_value({"note": phrase})) is valid
    assert [h.kind for h in scan_value({"mnemonic": phrase})] == ["BIP-39 Seed Phrase"]


# A Pulumi secret marker protects Pulumi's state, not the cloud's copy: container arguments and
# startup scripts stay readable by anyone who can describe the resource.
# case, type, props, secret-marked paths, violations
MARKED: list[tuple[str, str, dict[str, Any], tuple[str, ...], int]] = [
    ("k8s args marked secret", "kubernetes:apps/v1:Deployment", {"spec": {"template": {"spec": {"containers": [{"args": [f"--api-key={ALPACA_SECRET}"]}]}}}}, ("spec",), 1),
    ("cloud run env marked secret", "gcp:cloudrunv2/service:Service", {"template": {"containers": [{"envs": [{"name": "DB_PASSWORD", "value": DB_PW}]}]}}, ("template",), 1),
    ("gcp startup script marked secret", "gcp:compute/instance:Instance", {"metadataStartupScript": f"mysql -p'{DB_PW}' nt"}, ("metadataStartupScript",), 1),
    ("db password input marked secret", "aws:rds/cluster:Cluster", {"masterPassword": DB_PW}, ("masterPassword",), 0),
    ("db password input not marked", "aws:rds/cluster:Cluster", {"masterPassword": DB_PW}, (), 1),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "type_", "props", "marked", "count"), MARKED, ids=[m[0] for m in MARKED]
)
def test_secret_marker_does_not_hide_plaintext_copies(
    case: str, type_: str, props: dict[str, Any], marked: tuple[str, ...], count: int
) -> None:
    found = [
        v for v in run([rec(type_, props, secret_paths=marked)]).violations if v.policy == POLICY
    ]
    assert len(found) == count, found
