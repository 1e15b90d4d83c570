"""Issue 21 class 1 on Azure (azure-native 3; the classic pulumi-azure is not installed, its flat
names are read as before): every shape the Key Vault policies' settings take, in inputs and in a
stack's state: secret envelopes around ``properties``, a block or a value, booleans stored as
"true", a key's settings flat as azure-native's outputs hold them, ciphertext in a state.
Compliant look-alikes give no finding; the same settings written wrong still do."""

from __future__ import annotations

from typing import Any

import pytest

from tests.policies.forms import FormCase, R, cipher, env, form_params, judge

VAULT = "azure-native:keyvault:Vault"
SECRET = "azure-native:keyvault:Secret"  # pragma: allowlist secret (a type token)
KEY = "azure-native:keyvault:Key"
SUB = "00000000-0000-0000-0000-000000000000"
PROD = {"environment": "production"}

RECOVERABLE = "azure-keyvault-recoverable"
NETWORK = "azure-keyvault-network-acls"
PUBLIC = "azure-keyvault-public-network-access"
SECRET_EXPIRY = "azure-keyvault-secret-expiry"  # pragma: allowlist secret (a policy id)
CONTENT_TYPE = "azure-keyvault-secret-content-type"
KEY_EXPIRY = "azure-keyvault-key-expiry"
HSM = "azure-keyvault-key-hsm"
KEY_ROTATION = "azure-keyvault-key-rotation"
VAULT_POLICIES = (RECOVERABLE, NETWORK, PUBLIC)
SECRET_POLICIES = (SECRET_EXPIRY, CONTENT_TYPE)
KEY_POLICIES = (KEY_EXPIRY, HSM, KEY_ROTATION)

GOOD_VAULT: dict[str, Any] = {
    "tenantId": SUB,
    "sku": {"family": "A", "name": "premium"},
    "enableRbacAuthorization": True,
    "enableSoftDelete": True,
    "softDeleteRetentionInDays": 90,
    "enablePurgeProtection": True,
    "publicNetworkAccess": "Disabled",
    "networkAcls": {
        "defaultAction": "Deny",
        "bypass": "AzureServices",
        "ipRules": [{"value": "203.0.113.0/24"}],
    },
}
ROTATE = {
    "attributes": {"expiryTime": "P760D"},
    "lifetimeActions": [
        {"action": {"type": "rotate"}, "trigger": {"timeAfterCreate": "P730D"}},
        {"action": {"type": "notify"}, "trigger": {"timeBeforeExpiry": "P30D"}},
    ],
}
KEY_TAGS = {**PROD, "rotation-class": "encryption_key"}


def vault(properties: Any, tags: Any = None) -> R:
    return R(
        VAULT,
        "kv",
        {
            "vaultName": "kv-prod",
            "resourceGroupName": "rg-prod",
            "properties": properties,
            "tags": PROD if tags is None else tags,
        },
    )


def secret(properties: Any) -> R:
    return R(
        SECRET,
        "s",
        {
            "vaultName": "kv-prod",
            "secretName": "venue-api-key",  # pragma: allowlist secret (a name)
            "properties": properties,
        },
    )


def key(properties: dict[str, Any] | None = None, **flat: Any) -> R:
    inputs: dict[str, Any] = {"vaultName": "kv-prod", "keyName": "k", "tags": KEY_TAGS}
    if properties is not None:
        inputs["properties"] = properties
    return R(KEY, "k", {**inputs, **flat})


CASES: list[FormCase] = [
    # ---- vaults: compliant look-alikes
    FormCase("vault plain", (vault(GOOD_VAULT),), frozenset(), VAULT_POLICIES),
    FormCase(
        "vault: properties as one secret envelope",
        (vault(env(GOOD_VAULT)),),
        frozenset(),
        VAULT_POLICIES,
    ),
    FormCase(
        "vault: flags as strings and envelopes, network rules enveloped",
        (
            vault(
                {
                    **GOOD_VAULT,
                    "enablePurgeProtection": "true",
                    "enableSoftDelete": env(True),
                    "softDeleteRetentionInDays": env(90),
                    "publicNetworkAccess": env("Disabled"),
                    "networkAcls": env(
                        {
                            "defaultAction": env("Deny"),
                            "ipRules": [env({"value": "203.0.113.0/24"})],
                        }
                    ),
                }
            ),
        ),
        frozenset(),
        VAULT_POLICIES,
    ),
    FormCase(
        "vault: tags in an envelope (production is still recognised, and judged)",
        (vault(GOOD_VAULT, tags=env(PROD)),),
        frozenset(),
        VAULT_POLICIES,
    ),
    FormCase(
        "vault: settings stored as ciphertext",
        (vault({**GOOD_VAULT, "enablePurgeProtection": cipher(), "networkAcls": cipher()}),),
        frozenset(),
        VAULT_POLICIES,
        state_only=True,
    ),
    # ---- vaults: still findings
    FormCase(
        "vault: enveloped purge protection off, soft delete 'false'",
        (vault({**GOOD_VAULT, "enablePurgeProtection": env(False), "enableSoftDelete": "false"}),),
        frozenset({(RECOVERABLE, "kv")}),
        VAULT_POLICIES,
    ),
    FormCase(
        "vault: enveloped firewall allowing the internet",
        (
            vault(
                env(
                    {
                        **GOOD_VAULT,
                        "networkAcls": {
                            "defaultAction": "Allow",
                            "ipRules": [env({"value": "0.0.0.0/0"})],
                        },
                    }
                )
            ),
        ),
        frozenset({(NETWORK, "kv")}),
        VAULT_POLICIES,
    ),
    FormCase(
        "vault: enveloped production tags, public access enabled",
        (vault({**GOOD_VAULT, "publicNetworkAccess": env("Enabled")}, tags=env(PROD)),),
        frozenset({(PUBLIC, "kv")}),
        VAULT_POLICIES,
    ),
    # ---- secrets
    FormCase(
        "secret: attributes and content type in envelopes",
        (
            secret(
                {
                    "value": env("not-shown"),
                    "contentType": env("text/plain"),
                    "attributes": env(
                        {"enabled": True, "expires": env(1893456000), "notBefore": 0}
                    ),
                }
            ),
        ),
        frozenset(),
        SECRET_POLICIES,
    ),
    FormCase(
        "secret: properties as one envelope",
        (
            secret(
                env(
                    {
                        "value": "x",
                        "contentType": "text/plain",
                        "attributes": {"expires": 1893456000},
                    }
                )
            ),
        ),
        frozenset(),
        SECRET_POLICIES,
    ),
    FormCase(
        "secret: attributes stored as ciphertext",
        (secret({"contentType": "text/plain", "attributes": cipher()}),),
        frozenset(),
        SECRET_POLICIES,
        state_only=True,
    ),
    FormCase(
        "secret: enveloped attributes without an expiry; no content type",
        (secret({"value": env("x"), "attributes": env({"enabled": True})}),),
        frozenset({(SECRET_EXPIRY, "s"), (CONTENT_TYPE, "s")}),
        SECRET_POLICIES,
    ),
    # ---- keys
    FormCase(
        "key: properties in an envelope, rotation policy with enveloped actions",
        (
            key(
                env(
                    {
                        "kty": "RSA-HSM",
                        "rotationPolicy": {
                            "attributes": env({"expiryTime": "P760D"}),
                            "lifetimeActions": [env(a) for a in ROTATE["lifetimeActions"]],
                        },
                    }
                )
            ),
        ),
        frozenset(),
        KEY_POLICIES,
    ),
    FormCase(
        "key: settings flat, as azure-native's outputs hold them",
        (key(kty="RSA-HSM", rotationPolicy=ROTATE, attributes={"expires": 1893456000}),),
        frozenset(),
        KEY_POLICIES,
    ),
    FormCase(
        "key: rotation policy stored as ciphertext",
        (key({"kty": "RSA-HSM", "rotationPolicy": cipher()}),),
        frozenset(),
        KEY_POLICIES,
        state_only=True,
    ),
    FormCase(
        "key: enveloped software key without rotation or expiry",
        (key(env({"kty": env("RSA")})),),
        frozenset({(KEY_EXPIRY, "k"), (HSM, "k"), (KEY_ROTATION, "k")}),
        KEY_POLICIES,
    ),
    FormCase(
        "key: flat rotation policy that rotates too late and notifies nobody",
        (
            key(
                kty="EC-HSM",
                rotationPolicy={
                    "attributes": {"expiryTime": "P1200D"},
                    "lifetimeActions": [
                        {"action": {"type": "rotate"}, "trigger": {"timeAfterCreate": "P1100D"}}
                    ],
                },
            ),
        ),
        frozenset({(KEY_ROTATION, "k")}),
        KEY_POLICIES,
    ),
]


@pytest.mark.parametrize(("case", "form"), form_params(CASES))
def test_azure_forms(case: FormCase, form: str) -> None:
    assert judge(case, form) == case.expected
