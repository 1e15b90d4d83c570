"""Issue 21 class 1 on Vault (pulumi-vault 7) and the secret-holding fields of every store: a
policy as HCL text, in a secret envelope, or as a stored ``vault.get_policy_document`` result
(``hcl``); KV v2's ``dataJson`` and write-only ``dataJsonWo``; booleans and policy lists in
envelopes; a secret value whose field, or a block on its path, is an envelope (the engine's form
of a Pulumi secret). Compliant look-alikes give no finding; the same settings written wrong still
do."""

from __future__ import annotations

import json

import pytest

from tests.policies.forms import KEY_ARN, FormCase, R, cipher, env, form_params, judge

POLICY = "vault:index/policy:Policy"
KV_SECRET = "vault:kv/secretV2:SecretV2"  # pragma: allowlist secret (a type token)
KV_MOUNT = "vault:kv/secretBackendV2:SecretBackendV2"
TRANSIT_KEY = "vault:transit/secretBackendKey:SecretBackendKey"
TOKEN_ROLE = "vault:tokenauth/authBackendRole:AuthBackendRole"
SM_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"  # pragma: allowlist secret
PARAMETER = "aws:ssm/parameter:Parameter"
AZURE_SECRET = "azure-native:keyvault:Secret"  # pragma: allowlist secret (a type token)

LEAST = "vault-policy-least-privilege"
ESCALATION = "vault-policy-no-privilege-escalation"
MARKED = "all-secret-values-marked-secret"
RETENTION = "vault-kv-version-retention"
EXPORTABLE = "vault-transit-key-not-exportable"
DELETION = "vault-transit-key-deletion-protection"
ROOT = "vault-no-root-policy"
POLICY_RULES = (LEAST, ESCALATION)

READ_HCL = 'path "secret/data/trading/venue-api-key" {\n  capabilities = ["read"]\n}\n'
ADMIN_HCL = 'path "sys/*" {\n  capabilities = ["create", "update", "sudo"]\n}\n'
PAYLOAD = json.dumps({"api_key": "not-shown"})

CASES: list[FormCase] = [
    # ---- policies: compliant look-alikes
    FormCase(
        "policy HCL in an envelope",
        (R(POLICY, "pol", {"name": "venue-reader", "policy": env(READ_HCL)}),),
        frozenset(),
        POLICY_RULES,
    ),
    FormCase(
        "policy as a stored get_policy_document result",
        (
            R(
                POLICY,
                "pol",
                {
                    "name": "venue-reader",
                    "policy": {
                        "hcl": READ_HCL,
                        "rules": [
                            {"path": "secret/data/trading/venue-api-key", "capabilities": ["read"]}
                        ],
                    },
                },
            ),
        ),
        frozenset(),
        POLICY_RULES,
    ),
    FormCase(
        "policy stored as ciphertext",
        (R(POLICY, "pol", {"name": "venue-reader", "policy": cipher()}),),
        frozenset(),
        POLICY_RULES,
        state_only=True,
    ),
    # ---- policies: still findings
    FormCase(
        "policy HCL in an envelope that writes under sys/",
        (R(POLICY, "pol", {"name": "ops", "policy": env(ADMIN_HCL)}),),
        frozenset({(ESCALATION, "pol")}),
        (ESCALATION,),
    ),
    # ---- KV, transit, token roles
    FormCase(
        "KV v2 payloads in envelopes (dataJson, write-only dataJsonWo); mount settings enveloped",
        (
            R(KV_SECRET, "kv", {"mount": "secret", "name": "venue", "dataJson": env(PAYLOAD)}),
            R(KV_SECRET, "kvwo", {"mount": "secret", "name": "venue", "dataJsonWo": env(PAYLOAD)}),
            R(KV_MOUNT, "mount", {"mount": "secret", "maxVersions": env(10)}),
        ),
        frozenset(),
        (MARKED, RETENTION),
    ),
    FormCase(
        "KV v2 write-only payload in plaintext; mount keeping one version (enveloped)",
        (
            R(KV_SECRET, "kvwo", {"mount": "secret", "name": "venue", "dataJsonWo": PAYLOAD}),
            R(KV_MOUNT, "mount", {"mount": "secret", "maxVersions": env(1)}),
        ),
        frozenset({(MARKED, "kvwo"), (RETENTION, "mount")}),
        (MARKED, RETENTION),
    ),
    FormCase(
        "transit key flags in envelopes, off",
        (
            R(
                TRANSIT_KEY,
                "tk",
                {
                    "backend": "transit",
                    "name": "k",
                    "exportable": env(False),
                    "allowPlaintextBackup": env("false"),
                    "deletionAllowed": env(False),
                },
            ),
        ),
        frozenset(),
        (EXPORTABLE, DELETION),
    ),
    FormCase(
        "transit key exportable and deletable, in envelopes",
        (
            R(
                TRANSIT_KEY,
                "tk",
                {
                    "backend": "transit",
                    "name": "k",
                    "exportable": env("true"),
                    "deletionAllowed": env(True),
                },
            ),
        ),
        frozenset({(EXPORTABLE, "tk"), (DELETION, "tk")}),
        (EXPORTABLE, DELETION),
    ),
    FormCase(
        "token role attaching root through an enveloped policy list",
        (R(TOKEN_ROLE, "tr", {"roleName": "ops", "allowedPolicies": env([env("root")])}),),
        frozenset({(ROOT, "tr")}),
        (ROOT,),
    ),
    # ---- secret-holding fields of the other stores: an envelope marks the value
    FormCase(
        "secret values in envelopes: Secrets Manager, SSM (type enveloped), Key Vault properties",
        (
            R(SM_VERSION, "sv", {"secretId": "venue", "secretString": env(PAYLOAD)}),
            R(
                PARAMETER,
                "param",
                {
                    "name": "/nt/venue",
                    "type": env("SecureString"),
                    "keyId": KEY_ARN,
                    "value": env("x"),
                },
            ),
            R(
                AZURE_SECRET,
                "kvs",
                {"vaultName": "kv", "properties": env({"value": "x", "contentType": "text/plain"})},
            ),
        ),
        frozenset(),
        (MARKED,),
    ),
    FormCase(
        "SSM SecureString (type enveloped) with a plaintext value",
        (
            R(
                PARAMETER,
                "param",
                {"name": "/nt/venue", "type": env("SecureString"), "keyId": KEY_ARN, "value": "x"},
            ),
        ),
        frozenset({(MARKED, "param")}),
        (MARKED,),
    ),
]


@pytest.mark.parametrize(("case", "form"), form_params(CASES))
def test_vault_forms(case: FormCase, form: str) -> None:
    assert judge(case, form) == case.expected
