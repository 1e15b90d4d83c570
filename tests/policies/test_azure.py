"""Azure policies: the case table (run here, and with every other policy's by ``test_pack.py``
once it imports :data:`AZURE_CASES`) and the readers behind it.

Each case reads as documentation: what a resource declares, which policy judges it, how many
violations. Object ids and subscriptions are made-up GUIDs; fixture credentials are obviously
fake and marked for scanners.
"""

from __future__ import annotations

from typing import Any

import pytest

from policies.azure.common import access_policy_entries, vault_key_of_id
from policies.azure.secrets import iso_days
from policies.framework import Resource
from policies.model import UNKNOWN, ResourceRecord
from policies.runner import run
from tests.policies.records import rec

SUB = "00000000-0000-4000-8000-000000000009"
RG = f"/subscriptions/{SUB}/resourceGroups/rg-prod"
VAULT_ID = f"{RG}/providers/Microsoft.KeyVault/vaults/kv-prod"
GROUP = "22222222-2222-4222-8222-000000000003"
APP = "33333333-3333-4333-8333-000000000001"
FAKE_VALUE = "sk-ant-api03-FAKE0123456789abcdefFAKE"  # pragma: allowlist secret

NATIVE_VAULT = "azure-native:keyvault:Vault"
CLASSIC_VAULT = "azure:keyvault/keyVault:KeyVault"
NATIVE_POLICY = "azure-native:keyvault:AccessPolicy"
CLASSIC_POLICY = "azure:keyvault/accessPolicy:AccessPolicy"
NATIVE_SECRET = "azure-native:keyvault:Secret"  # pragma: allowlist secret
CLASSIC_SECRET = "azure:keyvault/secret:Secret"  # pragma: allowlist secret
NATIVE_KEY = "azure-native:keyvault:Key"
CLASSIC_KEY = "azure:keyvault/key:Key"
ASSIGNMENT = "azure-native:authorization:RoleAssignment"
CLASSIC_ASSIGNMENT = "azure:authorization/assignment:Assignment"
DEFINITION = "azure-native:authorization:RoleDefinition"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
DIAGNOSTIC = "azure-native:monitor:DiagnosticSetting"
CLASSIC_DIAGNOSTIC = "azure:monitoring/diagnosticSetting:DiagnosticSetting"
FEDERATED = "azure-native:managedidentity:FederatedIdentityCredential"
WORKSPACE = "azure-native:operationalinsights:Workspace"
EVENT_SUB = "azure-native:eventgrid:SystemTopicEventSubscription"

PROD = {"environment": "production"}
DEV = {"environment": "development"}
USER = "4633458b-17de-408a-b874-0445c86b69e6"
OFFICER = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"
ADMINISTRATOR = "00482a5a-887f-4fb3-b363-3b7fe8e74483"
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
KEY_VAULT_READER = "21090545-7ca7-4776-b22c-e363652d74d2"


def role(guid: str) -> str:
    return f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{guid}"


#: A production vault as the Azure backend declares it.
GOOD_VAULT_PROPS: dict[str, Any] = {
    "tenantId": SUB,
    "sku": {"family": "A", "name": "premium"},
    "enableRbacAuthorization": False,
    "enableSoftDelete": True,
    "softDeleteRetentionInDays": 90,
    "enablePurgeProtection": True,
    "publicNetworkAccess": "Disabled",
    "networkAcls": {"defaultAction": "Deny", "bypass": "None", "ipRules": []},
}


def native_vault(tags: dict[str, str] | None = None, **changes: Any) -> ResourceRecord:
    props = {k: v for k, v in {**GOOD_VAULT_PROPS, **changes}.items() if v is not None}
    return rec(
        NATIVE_VAULT,
        {
            "vaultName": "kv-prod",
            "resourceGroupName": "rg-prod",
            "properties": props,
            "tags": PROD if tags is None else tags,
        },
        name="kv-prod",
    )


def entry(object_id: str, secrets: list[str], **extra: Any) -> dict[str, Any]:
    return {"objectId": object_id, "tenantId": SUB, "permissions": {"secrets": secrets, **extra}}


def assignment(
    guid: str, scope: str, principal_type: str = "ServicePrincipal", name: str = "a"
) -> ResourceRecord:
    return rec(
        ASSIGNMENT,
        {
            "roleDefinitionId": role(guid),
            "scope": scope,
            "principalId": APP,
            "principalType": principal_type,
        },
        name=name,
    )


def custom_role(permissions: dict[str, list[str]]) -> ResourceRecord:
    return rec(
        DEFINITION,
        {
            "roleDefinitionId": "44444444-4444-4444-8444-000000000001",
            "roleName": "nt-custom",
            "scope": RG,
            "permissions": [permissions],
        },
        name="custom",
    )


IDENTITY_REC = rec(IDENTITY, {"resourceName": "id-live"}, name="live-trading")


def identity_policy(secrets: list[str], **extra: Any) -> ResourceRecord:
    """A stand-alone access policy whose object id is a managed identity's output."""
    return rec(
        NATIVE_POLICY,
        {
            "vaultName": "kv-prod",
            "resourceGroupName": "rg-prod",
            "policy": {
                "objectId": UNKNOWN,
                "tenantId": SUB,
                "permissions": {"secrets": secrets, **extra},
            },
        },
        name="p",
        property_dependencies={"policy": (IDENTITY_REC.urn,)},
    )


def native_secret(**properties: Any) -> ResourceRecord:
    return rec(NATIVE_SECRET, {"vaultName": "kv-prod", "resourceGroupName": "rg-prod", "secretName": "s", "properties": properties}, name="s")  # fmt: skip


def native_key(tags: dict[str, str] | None = None, **properties: Any) -> ResourceRecord:
    return rec(NATIVE_KEY, {"vaultName": "kv-prod", "keyName": "k", "properties": properties, "tags": PROD if tags is None else tags}, name="k")  # fmt: skip


ROTATE_730 = {
    "attributes": {"expiryTime": "P760D"},
    "lifetimeActions": [
        {"action": {"type": "rotate"}, "trigger": {"timeAfterCreate": "P730D"}},
        {"action": {"type": "notify"}, "trigger": {"timeBeforeExpiry": "P30D"}},
    ],
}


def diagnostic(**changes: Any) -> ResourceRecord:
    props = {
        "resourceUri": VAULT_ID,
        "workspaceId": f"{RG}/providers/Microsoft.OperationalInsights/workspaces/log",
        "logs": [{"category": "AuditEvent", "enabled": True}],
        **changes,
    }
    return rec(DIAGNOSTIC, {k: v for k, v in props.items() if v is not None}, name="diag")


# (case id, policy id, records, expected number of violations of that policy)
AZURE_CASES: list[tuple[str, str, list[ResourceRecord], int]] = [
    # ---- access policies, every form ------------------------------------------------------------
    ("admin group manages secrets", "azure-keyvault-access-policy-permissions", [native_vault(accessPolicies=[entry(GROUP, ["get", "list", "set", "delete", "recover", "backup", "restore"], keys=["get", "rotate"])])], 0),
    ("all secret permissions", "azure-keyvault-access-policy-permissions", [native_vault(accessPolicies=[entry(GROUP, ["all"])])], 1),
    ("purge for an admin", "azure-keyvault-access-policy-permissions", [native_vault(accessPolicies=[entry(GROUP, ["get", "purge"])])], 1),
    ("application named by its id, with a key permission", "azure-keyvault-access-policy-permissions", [native_vault(accessPolicies=[{**entry(APP, ["get"], keys=["get"]), "applicationId": APP}])], 1),
    ("managed identity reading", "azure-keyvault-access-policy-permissions", [IDENTITY_REC, identity_policy(["get", "list"])], 0),
    ("managed identity writing", "azure-keyvault-access-policy-permissions", [IDENTITY_REC, identity_policy(["get", "set"])], 1),
    ("managed identity with certificates", "azure-keyvault-access-policy-permissions", [IDENTITY_REC, identity_policy(["get"], certificates=["get"])], 1),
    ("classic access policy with Purge", "azure-keyvault-access-policy-permissions", [rec(CLASSIC_POLICY, {"keyVaultId": VAULT_ID, "objectId": GROUP, "secretPermissions": ["Get", "Purge"]})], 1),
    ("classic vault, inline certificate All", "azure-keyvault-access-policy-permissions", [rec(CLASSIC_VAULT, {"name": "kv", "resourceGroupName": "rg", "accessPolicies": [{"objectId": GROUP, "certificatePermissions": ["All"]}]})], 1),
    # ---- role assignments -------------------------------------------------------------------------
    ("secrets user on one secret", "azure-rbac-key-vault-assignments", [assignment(USER, f"{VAULT_ID}/secrets/jwt-secret")], 0),
    ("secrets user on the subscription", "azure-rbac-key-vault-assignments", [assignment(USER, f"/subscriptions/{SUB}")], 1),
    ("secrets user on the resource group", "azure-rbac-key-vault-assignments", [assignment(USER, RG)], 1),
    ("officer for the admin group on a secret", "azure-rbac-key-vault-assignments", [assignment(OFFICER, f"{VAULT_ID}/secrets/s", "Group")], 0),
    ("officer for a workload", "azure-rbac-key-vault-assignments", [assignment(OFFICER, f"{VAULT_ID}/secrets/s")], 1),
    ("key vault administrator for a workload", "azure-rbac-key-vault-assignments", [assignment(ADMINISTRATOR, VAULT_ID)], 1),
    ("owner for a workload on one secret", "azure-rbac-key-vault-assignments", [assignment(OWNER, f"{VAULT_ID}/secrets/s")], 1),
    ("owner for a group on the resource group", "azure-rbac-key-vault-assignments", [assignment(OWNER, RG, "Group")], 1),
    ("key vault reader for a workload on one secret (no key or certificate beneath it)", "azure-rbac-key-vault-assignments", [assignment(KEY_VAULT_READER, f"{VAULT_ID}/secrets/s")], 0),
    ("key vault reader for a workload on the vault reads key and certificate metadata", "azure-rbac-key-vault-assignments", [assignment(KEY_VAULT_READER, VAULT_ID)], 1),
    ("reader on the subscription sees metadata only", "azure-rbac-key-vault-assignments", [assignment(READER, f"/subscriptions/{SUB}", "Group")], 0),
    ("unknown role on a vault", "azure-rbac-key-vault-assignments", [assignment("99999999-9999-4999-8999-000000000001", VAULT_ID)], 1),
    ("unknown role on a storage account", "azure-rbac-key-vault-assignments", [assignment("99999999-9999-4999-8999-000000000001", f"{RG}/providers/Microsoft.Storage/storageAccounts/sa")], 0),
    ("managed identity granted the officer", "azure-rbac-key-vault-assignments", [IDENTITY_REC, rec(ASSIGNMENT, {"roleDefinitionId": role(OFFICER), "scope": f"{VAULT_ID}/secrets/s"}, name="a", property_dependencies={"principalId": (IDENTITY_REC.urn,)})], 1),
    ("classic assignment by name", "azure-rbac-key-vault-assignments", [rec(CLASSIC_ASSIGNMENT, {"roleDefinitionName": "Key Vault Secrets Officer", "scope": f"{VAULT_ID}/secrets/s", "principalId": APP, "principalType": "ServicePrincipal"})], 1),
    ("custom role reading secrets on the resource group", "azure-rbac-key-vault-assignments", [custom_role({"dataActions": ["Microsoft.KeyVault/vaults/secrets/getSecret/action"]}), rec(ASSIGNMENT, {"roleDefinitionId": role("44444444-4444-4444-8444-000000000001"), "scope": RG, "principalId": GROUP, "principalType": "Group"}, name="a")], 1),
    # ---- custom role definitions ------------------------------------------------------------------
    ("custom role with exact data actions", "azure-rbac-custom-role-definitions", [custom_role({"dataActions": ["Microsoft.KeyVault/vaults/secrets/getSecret/action"]})], 0),
    ("custom role with every action", "azure-rbac-custom-role-definitions", [custom_role({"actions": ["*"]})], 1),
    ("custom role writing role assignments", "azure-rbac-custom-role-definitions", [custom_role({"actions": ["Microsoft.Authorization/roleAssignments/write"]})], 1),
    ("custom role purging by wildcard", "azure-rbac-custom-role-definitions", [custom_role({"dataActions": ["Microsoft.KeyVault/vaults/secrets/*"]})], 1),
    # ---- vaults ---------------------------------------------------------------------------------
    ("vault as the backend declares it", "azure-keyvault-recoverable", [native_vault()], 0),
    ("no purge protection", "azure-keyvault-recoverable", [native_vault(enablePurgeProtection=False)], 1),
    ("soft delete disabled", "azure-keyvault-recoverable", [native_vault(enableSoftDelete=False)], 1),
    ("production keeping deleted secrets a week", "azure-keyvault-recoverable", [native_vault(softDeleteRetentionInDays=7)], 1),
    ("development keeping deleted secrets a week", "azure-keyvault-recoverable", [native_vault(DEV, softDeleteRetentionInDays=7)], 0),
    ("classic vault with purge protection", "azure-keyvault-recoverable", [rec(CLASSIC_VAULT, {"purgeProtectionEnabled": True, "softDeleteRetentionDays": 90, "tags": PROD})], 0),
    ("firewall denying by default", "azure-keyvault-network-acls", [native_vault(networkAcls={"defaultAction": "Deny", "ipRules": [{"value": "203.0.113.0/24"}]})], 0),
    ("no firewall", "azure-keyvault-network-acls", [native_vault(networkAcls=None)], 1),
    ("firewall allowing by default", "azure-keyvault-network-acls", [native_vault(networkAcls={"defaultAction": "Allow"})], 1),
    ("deny with the internet admitted", "azure-keyvault-network-acls", [native_vault(networkAcls={"defaultAction": "Deny", "ipRules": [{"value": "0.0.0.0/0"}]})], 1),
    ("classic rule admitting a /1", "azure-keyvault-network-acls", [rec(CLASSIC_VAULT, {"networkAcls": {"defaultAction": "Deny", "ipRules": ["128.0.0.0/1"]}})], 1),
    ("production vault, public access off", "azure-keyvault-public-network-access", [native_vault()], 0),
    ("production vault, public access on", "azure-keyvault-public-network-access", [native_vault(publicNetworkAccess="Enabled")], 1),
    ("development vault, public access on", "azure-keyvault-public-network-access", [native_vault(DEV, publicNetworkAccess="Enabled")], 0),
    ("classic production vault, public access on", "azure-keyvault-public-network-access", [rec(CLASSIC_VAULT, {"publicNetworkAccessEnabled": True, "tags": PROD})], 1),
    # ---- secrets and keys -------------------------------------------------------------------------
    ("secret with expiry and content type", "azure-keyvault-secret-expiry", [native_secret(contentType="text/plain", attributes={"expires": 1827619200})], 0),
    ("secret that never expires", "azure-keyvault-secret-expiry", [native_secret(contentType="text/plain")], 1),
    ("classic secret with an expiry", "azure-keyvault-secret-expiry", [rec(CLASSIC_SECRET, {"expirationDate": "2027-12-01T00:00:00Z"})], 0),
    ("secret without content type", "azure-keyvault-secret-content-type", [native_secret(attributes={"expires": 1})], 1),
    ("secret with content type", "azure-keyvault-secret-content-type", [native_secret(contentType="text/plain")], 0),
    ("plaintext secret value", "all-secret-values-marked-secret", [native_secret(value=FAKE_VALUE)], 1),
    ("secret value marked secret", "all-secret-values-marked-secret", [rec(NATIVE_SECRET, {"properties": {"value": FAKE_VALUE}}, secret_paths=("properties.value",), additional_secret_outputs=("properties",))], 0),
    ("key that never expires", "azure-keyvault-key-expiry", [native_key(kty="RSA-HSM")], 1),
    ("key expiring through its rotation policy", "azure-keyvault-key-expiry", [native_key(kty="RSA-HSM", rotationPolicy=ROTATE_730)], 0),
    ("production software key", "azure-keyvault-key-hsm", [native_key(kty="RSA")], 1),
    ("production HSM key", "azure-keyvault-key-hsm", [native_key(kty="RSA-HSM")], 0),
    ("development software key", "azure-keyvault-key-hsm", [native_key(DEV, kty="RSA")], 0),
    ("encryption key rotated every 730 days", "azure-keyvault-key-rotation", [native_key({**PROD, "rotation-class": "encryption_key"}, rotationPolicy=ROTATE_730)], 0),
    ("untagged key rotated every 730 days", "azure-keyvault-key-rotation", [native_key(rotationPolicy=ROTATE_730)], 1),
    ("key without rotation policy", "azure-keyvault-key-rotation", [native_key()], 1),
    ("rotation that notifies nobody", "azure-keyvault-key-rotation", [native_key(rotationPolicy={"lifetimeActions": [{"action": {"type": "Rotate"}, "trigger": {"timeAfterCreate": "P90D"}}]})], 1),
    ("classic key rotated every 90 days", "azure-keyvault-key-rotation", [rec(CLASSIC_KEY, {"rotationPolicy": {"automatic": {"timeAfterCreation": "P90D"}, "expireAfter": "P120D", "notifyBeforeExpiry": "P30D"}})], 0),
    # ---- audit ----------------------------------------------------------------------------------
    ("vault with AuditEvent to a workspace", "azure-keyvault-audit-events", [native_vault(), diagnostic()], 0),
    ("vault without diagnostics", "azure-keyvault-audit-events", [native_vault()], 1),
    ("diagnostics without the audit log", "azure-keyvault-audit-events", [native_vault(), diagnostic(logs=[{"category": "AzurePolicyEvaluationDetails", "enabled": True}])], 1),
    ("diagnostics with the audit log disabled", "azure-keyvault-audit-events", [native_vault(), diagnostic(logs=[{"category": "AuditEvent", "enabled": False}])], 1),
    ("diagnostics going nowhere", "azure-keyvault-audit-events", [native_vault(), diagnostic(workspaceId=None)], 1),
    ("diagnostics of another vault", "azure-keyvault-audit-events", [native_vault(), diagnostic(resourceUri=f"{RG}/providers/Microsoft.KeyVault/vaults/other")], 1),
    ("a vault's audit log on", "azure-keyvault-audit-not-disabled", [diagnostic()], 0),
    ("a vault's metrics only", "azure-keyvault-audit-not-disabled", [diagnostic(logs=[{"category": "AzurePolicyEvaluationDetails", "enabled": False}])], 0),
    ("a vault's audit log turned off", "azure-keyvault-audit-not-disabled", [diagnostic(logs=[{"category": "AuditEvent", "enabled": False}])], 1),
    ("a vault's audit group turned off, as text", "azure-keyvault-audit-not-disabled", [diagnostic(logs=[{"categoryGroup": "audit", "enabled": "false"}])], 1),
    ("audit group off, AuditEvent on", "azure-keyvault-audit-not-disabled", [diagnostic(logs=[{"categoryGroup": "allLogs", "enabled": False}, {"category": "AuditEvent", "enabled": True}])], 0),
    ("another resource's audit log off", "azure-keyvault-audit-not-disabled", [diagnostic(resourceUri=f"{RG}/providers/Microsoft.Storage/storageAccounts/s", logs=[{"categoryGroup": "audit", "enabled": False}])], 0),
    ("classic diagnostics with the audit group", "azure-keyvault-audit-events", [native_vault(), rec(CLASSIC_DIAGNOSTIC, {"targetResourceId": VAULT_ID, "logAnalyticsWorkspaceId": "w", "enabledLogs": [{"categoryGroup": "audit"}]})], 0),
    # ---- around the vaults -----------------------------------------------------------------------
    ("provider with the deployer's login", "azure-provider-no-static-credentials", [rec("pulumi:providers:azure-native", {"subscriptionId": SUB})], 0),
    ("provider with a client secret", "azure-provider-no-static-credentials", [rec("pulumi:providers:azure-native", {"clientSecret": "FAKE-not-a-real-secret"})], 1),  # pragma: allowlist secret
    ("federated with one service account", "azure-federated-credential-exact-subject", [rec(FEDERATED, {"issuer": "https://oidc.example/", "subject": "system:serviceaccount:live-trading:live-trader", "audiences": ["api://AzureADTokenExchange"]})], 0),
    ("federated with a whole namespace", "azure-federated-credential-exact-subject", [rec(FEDERATED, {"issuer": "https://oidc.example/", "subject": "system:serviceaccount:live-trading:*", "audiences": ["api://AzureADTokenExchange"]})], 1),
    ("federated over http for any audience", "azure-federated-credential-exact-subject", [rec(FEDERATED, {"issuer": "http://oidc.example/", "subject": "system:serviceaccount:a:b", "audiences": ["api://other"]})], 2),
    ("workspace keeping 90 days", "azure-log-analytics-retention", [rec(WORKSPACE, {"retentionInDays": 90})], 0),
    ("workspace keeping the default 30 days", "azure-log-analytics-retention", [rec(WORKSPACE, {})], 1),
    ("near-expiry to a monitor alert", "azure-eventgrid-delivery-https", [rec(EVENT_SUB, {"destination": {"endpointType": "MonitorAlert", "actionGroups": ["ag"]}})], 0),
    ("near-expiry to an http webhook", "azure-eventgrid-delivery-https", [rec(EVENT_SUB, {"destination": {"endpointType": "WebHook", "endpointUrl": "http://hooks.example/x"}})], 1),
    ("function app hardened", "azure-function-app-secure", [rec("azure-native:web:WebApp", {"httpsOnly": True, "identity": {"type": "UserAssigned"}, "siteConfig": {"ftpsState": "Disabled", "minTlsVersion": "1.2"}}), rec("azure-native:web:WebAppFtpAllowed", {"allow": False}), rec("azure-native:web:WebAppScmAllowed", {"allow": False})], 0),
    ("function app on defaults", "azure-function-app-secure", [rec("azure-native:web:WebApp", {})], 3),
    ("function app over http, FTP, TLS 1.0, no identity", "azure-function-app-secure", [rec("azure-native:web:WebApp", {"httpsOnly": False, "identity": {"type": "None"}, "siteConfig": {"ftpsState": "AllAllowed", "minTlsVersion": "1.0"}})], 4),
    ("basic-auth publishing allowed", "azure-function-app-secure", [rec("azure-native:web:WebAppScmAllowed", {"allow": True})], 1),
    ("flex app deploying with its identity", "azure-function-app-secure", [rec("azure-native:web:WebApp", {"httpsOnly": True, "identity": {"type": "UserAssigned"}, "siteConfig": {"ftpsState": "Disabled"}, "functionAppConfig": {"deployment": {"storage": {"type": "blobContainer", "authentication": {"type": "UserAssignedIdentity"}}}}})], 0),
    ("flex slot deploying with a connection string", "azure-function-app-secure", [rec("azure-native:web:WebAppSlot", {"httpsOnly": True, "identity": {"type": "SystemAssigned"}, "siteConfig": {"ftpsState": "Disabled"}, "functionAppConfig": {"deployment": {"storage": {"type": "blobContainer", "authentication": {"type": "StorageAccountConnectionString", "storageAccountConnectionStringName": "DEPLOYMENT_STORAGE_CONNECTION_STRING"}}}}})], 1),
    ("basic-auth publishing allowed on a slot", "azure-function-app-secure", [rec("azure-native:web:WebAppFtpAllowedSlot", {"allow": True})], 1),
    ("storage account hardened", "azure-storage-account-secure", [rec("azure-native:storage:StorageAccount", {"enableHttpsTrafficOnly": True, "minimumTlsVersion": "TLS1_2", "allowBlobPublicAccess": False}), rec("azure-native:storage:BlobContainer", {"publicAccess": "None"})], 0),
    ("storage account on defaults", "azure-storage-account-secure", [rec("azure-native:storage:StorageAccount", {})], 3),
    ("storage account over http with TLS 1.0 and public blobs", "azure-storage-account-secure", [rec("azure-native:storage:StorageAccount", {"enableHttpsTrafficOnly": False, "minimumTlsVersion": "TLS1_0", "allowBlobPublicAccess": True})], 3),
    ("public blob container", "azure-storage-account-secure", [rec("azure-native:storage:BlobContainer", {"publicAccess": "Blob"})], 1),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "policy", "records", "expected"), AZURE_CASES, ids=[c[0] for c in AZURE_CASES]
)
def test_azure_policy_case(
    case: str, policy: str, records: list[ResourceRecord], expected: int
) -> None:
    found = [v for v in run(records).violations if v.policy == policy]
    assert len(found) == expected, [v.message for v in found]
    for v in found:
        assert FAKE_VALUE not in v.message


def test_every_azure_policy_has_a_failing_and_a_passing_case() -> None:
    from policies.azure.registry import POLICIES

    ids = {p.spec.id for p in POLICIES}
    from tests.policies.test_checkov_gaps import GAP_CASES

    failing = {c[1] for c in (*AZURE_CASES, *GAP_CASES) if c[3] > 0}
    passing = {c[1] for c in (*AZURE_CASES, *GAP_CASES) if c[3] == 0}
    assert ids <= failing and ids <= passing, (ids - failing, ids - passing)


def _view(r: ResourceRecord) -> Resource:
    return Resource(r.type, r.urn, r.name, dict(r.props), {}, False, (), frozenset())


def test_access_policy_entries_are_read_from_every_form() -> None:
    forms = [
        native_vault(accessPolicies=[entry(GROUP, ["Get"])]),
        rec(NATIVE_POLICY, {"vaultName": "kv", "resourceGroupName": "rg", "policy": entry(GROUP, ["Get"])}),
        rec(CLASSIC_POLICY, {"keyVaultId": VAULT_ID, "objectId": GROUP, "secretPermissions": ["Get"]}),
        rec(CLASSIC_VAULT, {"name": "kv", "accessPolicies": [{"objectId": GROUP, "secretPermissions": ["Get"]}]}),
    ]  # fmt: skip
    for r in forms:
        (e,) = access_policy_entries(_view(r))
        assert e.object_id == GROUP and e.permissions["secrets"] == {"get"}, r.type
    assert list(access_policy_entries(_view(native_vault(accessPolicies=None)))) == []


@pytest.mark.parametrize(
    ("value", "days"), [("P90D", 90), ("P1Y", 365), ("P2Y6M", 910), ("p30d", 30)]
)
def test_iso_durations(value: str, days: int) -> None:
    assert iso_days(value) == days


@pytest.mark.parametrize("value", ["90", "PT1H", "P", "", None, 90])
def test_unreadable_durations(value: Any) -> None:
    assert iso_days(value) is None


def test_vault_ids_are_read_case_insensitively() -> None:
    assert vault_key_of_id(VAULT_ID.lower() + "/secrets/x") == "rg-prod/kv-prod"
    assert vault_key_of_id("kv-prod") is None


def test_the_reader_libraries_do_not_import_pulumi() -> None:
    import subprocess
    import sys

    code = (
        "import sys; import policies.azure.common, policies.azure.rbac; "
        "print(any(m.startswith('pulumi') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_packs_vocabulary_is_the_programs() -> None:
    """The Azure policies spell actions, tags and rotation periods themselves (the pack does not
    import the program); they must stay the program's."""
    from infra.access import Action
    from infra.rotation.contract import ROTATION_DAYS
    from policies.azure import common
    from policies.contract.vocabulary import (
        SCOPE_SEPARATOR,
        TAG_ACCESS_SCOPES,
        TAG_CATALOG_NAME,
        TAG_ENVIRONMENT,
        TAG_REVOKED,
        TAG_ROTATION_CLASS,
    )

    assert {a.value for a in Action} == common.ACTIONS
    assert (
        common.TAG_ENVIRONMENT,
        common.TAG_CATALOG_NAME,
        common.TAG_ACCESS_SCOPES,
        common.TAG_ROTATION_CLASS,
        common.TAG_REVOKED,
        common.SCOPE_SEPARATOR,
    ) == (
        TAG_ENVIRONMENT,
        TAG_CATALOG_NAME,
        TAG_ACCESS_SCOPES,
        TAG_ROTATION_CLASS,
        TAG_REVOKED,
        SCOPE_SEPARATOR,
    )
    assert {c.value: d for c, d in ROTATION_DAYS.items()} == common.ROTATION_DAYS
