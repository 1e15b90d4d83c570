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

# ---- around the vaults: audit, platform, access (azure-native 3 shapes) -------------------------

DIAGNOSTIC = "azure-native:monitor:DiagnosticSetting"
PROVIDER = "pulumi:providers:azure-native"
FEDERATED = "azure-native:managedidentity:FederatedIdentityCredential"
WORKSPACE = "azure-native:operationalinsights:Workspace"
EVENT_SUB = "azure-native:eventgrid:SystemTopicEventSubscription"
ACCESS_POLICY = "azure-native:keyvault:AccessPolicy"
CLASSIC_ACCESS_POLICY = "azure:keyvault/accessPolicy:AccessPolicy"
ASSIGNMENT = "azure-native:authorization:RoleAssignment"

AUDIT = "azure-keyvault-audit-events"
AUDIT_OFF = "azure-keyvault-audit-not-disabled"
PROVIDER_CREDENTIALS = "azure-provider-no-static-credentials"
FEDERATION = "azure-federated-credential-exact-subject"
RETENTION = "azure-log-analytics-retention"
DELIVERY = "azure-eventgrid-delivery-https"
ACCESS = "azure-keyvault-access-policy-permissions"
ASSIGNMENTS = "azure-rbac-key-vault-assignments"
PLATFORM_POLICIES = (PROVIDER_CREDENTIALS, FEDERATION, RETENTION, DELIVERY)
ACCESS_POLICIES = (ACCESS, ASSIGNMENTS)

RG_ID = f"/subscriptions/{SUB}/resourceGroups/rg-prod"
VAULT_ID = f"{RG_ID}/providers/Microsoft.KeyVault/vaults/kv-prod"
WORKSPACE_ID = f"{RG_ID}/providers/Microsoft.OperationalInsights/workspaces/logs"
GROUP = "22222222-2222-4222-8222-000000000003"
APP = "33333333-3333-4333-8333-000000000001"
SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
SA_SUBJECT = "system:serviceaccount:trading:live-trading"
TOKEN_EXCHANGE = "api://AzureADTokenExchange"


def role_id(guid: str) -> str:
    return f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{guid}"


def diagnostic(logs: Any, **over: Any) -> R:
    return R(
        DIAGNOSTIC,
        "diag",
        {"name": "kv-audit", "resourceUri": VAULT_ID, "workspaceId": WORKSPACE_ID, "logs": logs}
        | over,
    )


def federated(**over: Any) -> R:
    inputs = {
        "resourceGroupName": "rg-prod",
        "resourceName": "id-live",
        "subject": SA_SUBJECT,
        "issuer": "https://oidc.example.test/cluster",
        "audiences": [TOKEN_EXCHANGE],
    }
    return R(FEDERATED, "fic", inputs | over)


def subscription(**over: Any) -> R:
    return R(
        EVENT_SUB, "near-expiry", {"resourceGroupName": "rg-prod", "systemTopicName": "kv"} | over
    )


def webhook(url: Any) -> dict[str, Any]:
    return {"endpointType": "WebHook", "endpointUrl": url}


def role_assignment(guid: Any, scope: Any, principal_type: Any = "ServicePrincipal") -> R:
    return R(
        ASSIGNMENT,
        "ra",
        {
            "roleDefinitionId": guid,
            "scope": scope,
            "principalId": APP,
            "principalType": principal_type,
        },
    )


def access_policy(policy: Any) -> R:
    return R(
        ACCESS_POLICY,
        "ap",
        {"resourceGroupName": "rg-prod", "vaultName": "kv-prod", "policy": policy},
    )


AUDIT_LOG = {"category": "AuditEvent", "enabled": True}

CASES += [
    # ---- diagnostic settings: logs by category or category group, envelopes at any depth
    FormCase(
        "diagnostics: logs list in an envelope, target and workspace enveloped",
        (
            vault(GOOD_VAULT),
            diagnostic(env([AUDIT_LOG]), resourceUri=env(VAULT_ID), workspaceId=env(WORKSPACE_ID)),
        ),
        frozenset(),
        (AUDIT, AUDIT_OFF),
    ),
    FormCase(
        "diagnostics: allLogs category group, entry enveloped, enabled as 'true'",
        (vault(GOOD_VAULT), diagnostic([env({"categoryGroup": "allLogs", "enabled": "true"})])),
        frozenset(),
        (AUDIT, AUDIT_OFF),
    ),
    FormCase(
        "diagnostics: audit category group enveloped, enabled enveloped",
        (vault(GOOD_VAULT), diagnostic([{"categoryGroup": env("audit"), "enabled": env(True)}])),
        frozenset(),
        (AUDIT, AUDIT_OFF),
    ),
    FormCase(
        "diagnostics: logs stored as ciphertext (not judged)",
        (vault(GOOD_VAULT), diagnostic(cipher())),
        frozenset(),
        (AUDIT, AUDIT_OFF),
        state_only=True,
    ),
    FormCase(
        "diagnostics: enveloped AuditEvent turned off with an enveloped false",
        (vault(GOOD_VAULT), diagnostic(env([{"category": "AuditEvent", "enabled": env(False)}]))),
        frozenset({(AUDIT, "kv"), (AUDIT_OFF, "diag")}),
        (AUDIT, AUDIT_OFF),
    ),
    FormCase(
        "diagnostics: audit group turned off with 'false'",
        (vault(GOOD_VAULT), diagnostic([{"categoryGroup": "audit", "enabled": "false"}])),
        frozenset({(AUDIT, "kv"), (AUDIT_OFF, "diag")}),
        (AUDIT, AUDIT_OFF),
    ),
    FormCase(
        "diagnostics: enveloped logs of another category only",
        (
            vault(GOOD_VAULT),
            diagnostic(env([env({"category": "AzurePolicyEvaluationDetails", "enabled": True})])),
        ),
        frozenset({(AUDIT, "kv")}),
        (AUDIT, AUDIT_OFF),
    ),
    # ---- the provider
    FormCase(
        "provider: OIDC, client secret empty in an envelope",
        (R(PROVIDER, "az", {"useOidc": "true", "clientId": APP, "clientSecret": env("")}),),
        frozenset(),
        (PROVIDER_CREDENTIALS,),
    ),
    FormCase(
        "provider: client secret stored as ciphertext is a static credential",
        (R(PROVIDER, "az", {"clientId": APP, "clientSecret": cipher()}),),
        frozenset({(PROVIDER_CREDENTIALS, "az")}),
        (PROVIDER_CREDENTIALS,),
        state_only=True,
    ),
    # ---- federated identity credentials
    FormCase(
        "federation: subject, issuer and audiences enveloped",
        (
            federated(
                subject=env(SA_SUBJECT),
                issuer=env("https://oidc.example.test/cluster"),
                audiences=env([env(TOKEN_EXCHANGE)]),
            ),
        ),
        frozenset(),
        (FEDERATION,),
    ),
    FormCase(
        "federation: enveloped audience list naming another audience",
        (federated(audiences=env(["api://other"])),),
        frozenset({(FEDERATION, "fic")}),
        (FEDERATION,),
    ),
    FormCase(
        "federation: enveloped wildcard subject and http issuer",
        (
            federated(
                subject=env("system:serviceaccount:trading:*"),
                issuer=env("http://oidc.example.test"),
            ),
        ),
        frozenset({(FEDERATION, "fic")}),
        (FEDERATION,),
    ),
    # ---- Log Analytics retention
    FormCase(
        "workspace: retention enveloped",
        (R(WORKSPACE, "logs", {"resourceGroupName": "rg-prod", "retentionInDays": env(365)}),),
        frozenset(),
        (RETENTION,),
    ),
    FormCase(
        "workspace: retention stored as ciphertext (not judged)",
        (R(WORKSPACE, "logs", {"resourceGroupName": "rg-prod", "retentionInDays": cipher()}),),
        frozenset(),
        (RETENTION,),
        state_only=True,
    ),
    FormCase(
        "workspace: enveloped retention too short",
        (R(WORKSPACE, "logs", {"resourceGroupName": "rg-prod", "retentionInDays": env("30")}),),
        frozenset({(RETENTION, "logs")}),
        (RETENTION,),
    ),
    # ---- Event Grid delivery
    FormCase(
        "event subscription: destination and url enveloped, https",
        (subscription(destination=env(webhook(env("https://hooks.example.test/kv")))),),
        frozenset(),
        (DELIVERY,),
    ),
    FormCase(
        "event subscription: delivery with a managed identity to an https webhook",
        (
            subscription(
                deliveryWithResourceIdentity={
                    "identity": {"type": "SystemAssigned"},
                    "destination": webhook("https://hooks.example.test/kv"),
                }
            ),
        ),
        frozenset(),
        (DELIVERY,),
    ),
    FormCase(
        "event subscription: enveloped destination to an http webhook",
        (subscription(destination=env(webhook("http://hooks.example.test/kv"))),),
        frozenset({(DELIVERY, "near-expiry")}),
        (DELIVERY,),
    ),
    FormCase(
        "event subscription: delivery with a managed identity to an http webhook",
        (
            subscription(
                deliveryWithResourceIdentity=env(
                    {
                        "identity": {"type": "SystemAssigned"},
                        "destination": webhook(env("http://hooks.example.test/kv")),
                    }
                )
            ),
        ),
        frozenset({(DELIVERY, "near-expiry")}),
        (DELIVERY,),
    ),
    # ---- access policies and role assignments
    FormCase(
        "access policy resource: policy and permissions enveloped, a reader",
        (
            access_policy(
                env(
                    {
                        "objectId": GROUP,
                        "tenantId": SUB,
                        "permissions": env({"secrets": env(["get", "list"])}),
                    }
                )
            ),
        ),
        frozenset(),
        (ACCESS,),
    ),
    FormCase(
        "access policy resource: enveloped policy granting purge",
        (
            access_policy(
                env(
                    {
                        "objectId": GROUP,
                        "tenantId": SUB,
                        "permissions": {"secrets": ["get", "purge"]},
                    }
                )
            ),
        ),
        frozenset({(ACCESS, "ap")}),
        (ACCESS,),
    ),
    FormCase(
        "access policy resource: permission list entries enveloped, all",
        (
            access_policy(
                {"objectId": GROUP, "tenantId": SUB, "permissions": {"keys": [env("all")]}}
            ),
        ),
        frozenset({(ACCESS, "ap")}),
        (ACCESS,),
    ),
    FormCase(
        "classic access policy: enveloped permission list with Purge",
        (
            R(
                CLASSIC_ACCESS_POLICY,
                "cap",
                {
                    "keyVaultId": VAULT_ID,
                    "objectId": GROUP,
                    "secretPermissions": env(["Get", "Purge"]),
                },
            ),
        ),
        frozenset({(ACCESS, "cap")}),
        (ACCESS,),
    ),
    FormCase(
        "vault: inline access policies as an envelope around the list, readers",
        (
            vault(
                {
                    **GOOD_VAULT,
                    "enableRbacAuthorization": False,
                    "accessPolicies": env(
                        [
                            env(
                                {
                                    "objectId": GROUP,
                                    "tenantId": SUB,
                                    "permissions": {"secrets": env(["get"])},
                                }
                            )
                        ]
                    ),
                }
            ),
        ),
        frozenset(),
        (ACCESS,),
    ),
    FormCase(
        "assignment: role and scope enveloped, Secrets User on one secret",
        (role_assignment(env(role_id(SECRETS_USER)), env(f"{VAULT_ID}/secrets/venue-api-key")),),
        frozenset(),
        ACCESS_POLICIES,
    ),
    FormCase(
        "assignment: enveloped Reader at subscription scope (metadata only)",
        (role_assignment(env(role_id(READER)), f"/subscriptions/{SUB}"),),
        frozenset(),
        ACCESS_POLICIES,
    ),
    FormCase(
        "assignment: role and scope stored as ciphertext (not judged)",
        (role_assignment(cipher(), cipher()),),
        frozenset(),
        ACCESS_POLICIES,
        state_only=True,
    ),
    FormCase(
        "assignment: enveloped Secrets User at an enveloped resource group scope",
        (role_assignment(env(role_id(SECRETS_USER)), env(RG_ID)),),
        frozenset({(ASSIGNMENTS, "ra")}),
        ACCESS_POLICIES,
    ),
]


@pytest.mark.parametrize(("case", "form"), form_params(CASES))
def test_azure_forms(case: FormCase, form: str) -> None:
    assert judge(case, form) == case.expected
