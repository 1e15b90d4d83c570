"""The Azure Key Vault estate as the plan declares it, and its settings: every invalid setting
names its key.

The project's stack files do not enable Azure yet: these tests plan each stack with its own config
plus ``azure`` in ``backends`` and the ``neural-trader-secrets:azure`` block proposed in
``tests/fixtures/azure/stack-blocks.yaml`` (:func:`azure_config`), through the same mock engine
``nt-secrets plan`` uses. Development uses RBAC and production access policies (both models are
planned for both stacks in ``test_azure_matrix.py``, which proves the grants role x secret x
action); what only a real subscription shows is listed in docs/azure.md.
"""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.backends import registry
from infra.backends.azure import documents
from infra.backends.azure.settings import AzureSettings
from infra.catalog import default_catalog
from infra.estate import Estate, ExternalValue, GeneratedValue, SuppliedValue
from infra.program import main
from infra.settings import SettingsError
from infra.stack import parse_settings
from nt_secrets.capture import CANARY_PREFIX, Capture, CapturedResource, capture_program
from nt_secrets.capture import UNKNOWN as RPC_UNKNOWN
from nt_secrets.plan import records
from nt_secrets.stackfile import read_stack
from policies.contract.vocabulary import TAG_CATALOG_NAME, TAG_REVOKED
from policies.model import UNKNOWN, ResourceRecord
from policies.runner import run
from tests.plans import estate_and_block, plan_config, policy_view
from tests.stacks import enable_only

from .conftest import ROOT, capture_failing, of_type

NS = "neural-trader-secrets:"
STACK = "pulumi:pulumi:Stack"
VAULT = "azure-native:keyvault:Vault"
SECRET = "azure-native:keyvault:Secret"  # pragma: allowlist secret
KEY = "azure-native:keyvault:Key"
ACCESS_POLICY = "azure-native:keyvault:AccessPolicy"
ASSIGNMENT = "azure-native:authorization:RoleAssignment"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
FEDERATED = "azure-native:managedidentity:FederatedIdentityCredential"
DIAGNOSTIC = "azure-native:monitor:DiagnosticSetting"
WORKSPACE = "azure-native:operationalinsights:Workspace"
ACTION_GROUP = "azure-native:monitor:ActionGroup"
SYSTEM_TOPIC = "azure-native:eventgrid:SystemTopic"
SUBSCRIPTION = "azure-native:eventgrid:SystemTopicEventSubscription"
BLOCKS_FILE = ROOT / "tests" / "fixtures" / "azure" / "stack-blocks.yaml"
ACCOUNTS = {"dev": "123456789012", "prod": "210987654321"}


@functools.cache
def _blocks(path: Path = BLOCKS_FILE) -> dict[str, Any]:
    loaded = yaml.safe_load(path.read_text())
    assert isinstance(loaded, dict)
    return loaded


def azure_block(stack: str, **changes: Any) -> dict[str, Any]:
    """The stack's proposed Azure block with top-level keys changed (None removes one)."""
    block = {**json.loads(json.dumps(_blocks()[stack])), **changes}
    return {k: v for k, v in block.items() if v is not None}


def azure_config(
    stack: str = "dev",
    block: dict[str, Any] | None = None,
    *,
    backends: tuple[str, ...] = ("azure",),
    **settings: Any,
) -> dict[str, str]:
    """The project stack's config with Azure enabled (``block``, default the proposed one), the
    other backends' blocks dropped unless ``backends`` names them, neutral ``settings`` added."""
    config = dict(read_stack(ROOT, stack).config)
    enable_only(config, backends)
    config[NS + "azure"] = json.dumps(azure_block(stack) if block is None else block)
    for key, value in settings.items():
        config[NS + key] = json.dumps(value)
    return config


def plan(config: dict[str, str], stack: str = "dev") -> Capture:
    return plan_config(config, stack=stack, account_id=ACCOUNTS[stack])


def estate_of(config: dict[str, str]) -> tuple[Estate, AzureSettings]:
    estate, block = estate_and_block(config, "azure")
    assert isinstance(block, AzureSettings)
    return estate, block


def catalog_name(r: CapturedResource) -> str:
    return str(r.raw_inputs["tags"][TAG_CATALOG_NAME])


def props(r: CapturedResource) -> dict[str, Any]:
    value = r.raw_inputs["properties"]
    assert isinstance(value, dict)
    return value


@pytest.fixture(scope="module", params=["dev", "prod"])
def azure(request: pytest.FixtureRequest) -> tuple[str, Capture]:
    """(stack, plan) of each project stack with the Azure backend enabled."""
    stack = str(request.param)
    return stack, plan(azure_config(stack), stack)


def _unix(anchor: str, days: int) -> int:
    start = datetime.strptime(anchor, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return int((start + timedelta(days=days)).timestamp())


# ---- what the plan declares ------------------------------------------------------------------------


def test_one_secret_per_stored_entry_in_its_partitions_vault(azure: tuple[str, Capture]) -> None:
    stack, cap = azure
    estate, block = estate_of(azure_config(stack))
    secrets = of_type(cap, SECRET)
    assert sorted(catalog_name(s) for s in secrets) == sorted(estate.names)
    where = documents.partition_of(estate, block)
    for s in secrets:
        stored = estate.secret(catalog_name(s))
        assert s.raw_inputs["tags"] == stored.labels()
        assert s.raw_inputs["secretName"] == stored.entry.kebab_name
        assert s.raw_inputs["vaultName"] == f"{block.vault_prefix}-{where[stored.name]}"
        assert s.raw_inputs["resourceGroupName"] == block.resource_group
        assert props(s)["contentType"] == "text/plain"
        assert s.options["protect"] is estate.protected


def test_vaults_follow_each_stacks_authorization_model() -> None:
    dev = plan(azure_config("dev"))
    prod = plan(azure_config("prod"), "prod")
    assert {
        v.raw_inputs["vaultName"]: props(v)["enableRbacAuthorization"] for v in of_type(dev, VAULT)
    } == {"ntdev-kv-secrets": True}
    assert {
        v.raw_inputs["vaultName"]: props(v)["enableRbacAuthorization"] for v in of_type(prod, VAULT)
    } == {"ntprod-kv-live": False, "ntprod-kv-admin": False}
    admin_only = {
        catalog_name(s)
        for s in of_type(prod, SECRET)
        if s.raw_inputs["vaultName"] == "ntprod-kv-admin"
    }
    assert admin_only == {"DD_APP_KEY", "DOTENV_KEY"}
    assert of_type(prod, ACCESS_POLICY) and not of_type(prod, ASSIGNMENT)
    assert of_type(dev, ASSIGNMENT) and not of_type(dev, ACCESS_POLICY)


def test_vaults_are_recoverable_private_and_deny_by_default(azure: tuple[str, Capture]) -> None:
    stack, cap = azure
    block = azure_block(stack)
    for v in of_type(cap, VAULT):
        p = props(v)
        assert p["enablePurgeProtection"] is True and p["enableSoftDelete"] is True
        assert p["softDeleteRetentionInDays"] == 90
        acls = p["networkAcls"]
        assert acls["defaultAction"] == "Deny" and acls["bypass"] == "None"
        assert [r["value"] for r in acls["ipRules"]] == block["network"].get("ipRanges", [])
        assert [r["id"] for r in acls["virtualNetworkRules"]] == block["network"]["subnetIds"]
        assert "accessPolicies" not in p  # stand-alone AccessPolicy resources only
        assert p["publicNetworkAccess"] == ("Disabled" if stack == "prod" else "Enabled")
        assert p["sku"]["name"] == ("premium" if stack == "prod" else "standard")
        assert not (p["enabledForDeployment"] or p["enabledForTemplateDeployment"])


def test_secrets_expire_one_rotation_period_after_the_anchor(azure: tuple[str, Capture]) -> None:
    stack, cap = azure
    estate, block = estate_of(azure_config(stack))
    for s in of_type(cap, SECRET):
        rotation = estate.secret(catalog_name(s)).rotation
        assert rotation is not None
        attributes = props(s)["attributes"]
        assert attributes == {
            "enabled": True,
            "expires": _unix(block.expiry.anchor, rotation.period_days),
        }
        # the anchor sets the first expiry only; a rotation's later one is never moved back
        assert s.options["ignoreChanges"] == ["properties.attributes.expires"]


def test_every_value_path_is_secret_marked(azure: tuple[str, Capture]) -> None:
    """azure-native does not mark ``properties.value`` secret: the program wraps every value as a
    Pulumi secret and lists ``properties`` in additionalSecretOutputs; no generated material
    reaches any other input unmarked."""
    stack, cap = azure
    estate, _ = estate_of(azure_config(stack))
    valued = set()
    for s in of_type(cap, SECRET):
        assert s.options["additionalSecretOutputs"] == ["properties"]
        value = estate.secret(catalog_name(s)).value
        if "value" in props(s):
            valued.add(catalog_name(s))
            assert "properties.value" in s.secret_paths
            assert s.inputs["properties"]["value"] == "[secret]"
        assert isinstance(value, (GeneratedValue, SuppliedValue, ExternalValue))
    owned = {s.name for s in estate.secrets if not isinstance(s.value, ExternalValue)}
    assert valued == owned and owned
    for r in cap.resources:
        assert CANARY_PREFIX not in json.dumps(r.inputs), r.urn


def test_a_supplied_value_is_a_config_secret() -> None:
    config = azure_config("prod")
    config[NS + "SLACK_WEBHOOK_URL"] = (
        "https://hooks.slack.example/FAKE"  # pragma: allowlist secret
    )
    cap = capture_program(
        main,
        stack="prod",
        project="neural-trader-secrets",
        config=config,
        secret_keys=[NS + "SLACK_WEBHOOK_URL"],
    )
    (slack,) = [s for s in of_type(cap, SECRET) if catalog_name(s) == "SLACK_WEBHOOK_URL"]
    assert "properties.value" in slack.secret_paths
    assert "FAKE" not in json.dumps(slack.inputs)


def test_encryption_keys_are_rsa_with_a_rotation_policy(azure: tuple[str, Capture]) -> None:
    stack, cap = azure
    estate, block = estate_of(azure_config(stack))
    keys = {k.raw_inputs["keyName"]: k for k in of_type(cap, KEY)}
    expected = {
        f"{s.entry.kebab_name}-kek": s
        for s in estate.secrets
        if s.rotation is not None and s.rotation.rotation_class.value == "encryption_key"
    }
    assert set(keys) == set(expected) and keys
    for name, k in keys.items():
        period = expected[name].rotation.period_days  # type: ignore[union-attr]
        p = props(k)
        assert p["kty"] == ("RSA-HSM" if stack == "prod" else "RSA") and p["keySize"] == 3072
        assert p["keyOps"] == ["wrapKey", "unwrapKey"]
        assert p["attributes"]["expires"] == _unix(block.expiry.anchor, period + 30)
        assert p["rotationPolicy"] == {
            "attributes": {"expiryTime": f"P{period + 30}D"},
            "lifetimeActions": [
                {"action": {"type": "rotate"}, "trigger": {"timeAfterCreate": f"P{period}D"}},
                {"action": {"type": "notify"}, "trigger": {"timeBeforeExpiry": "P30D"}},
            ],
        }


def test_access_policies_grant_the_estate_per_vault() -> None:
    cap = plan(azure_config("prod"), "prod")
    block = azure_block("prod")
    groups = block["groups"]
    found = {}
    for p in of_type(cap, ACCESS_POLICY):
        policy = p.raw_inputs["policy"]
        who = policy["objectId"]
        if who == RPC_UNKNOWN:  # the managed identity's principal id, known once it exists
            (identity,) = p.property_dependencies["policy"]
            assert identity.endswith(f"{IDENTITY}::workloads-live-trading")
            who = "live-trading identity"
        assert policy["tenantId"] == block["tenantId"]
        assert (
            policy["permissions"]["certificates"] == [] and policy["permissions"]["storage"] == []
        )
        found[(p.raw_inputs["vaultName"], who)] = (
            policy["permissions"]["secrets"],
            policy["permissions"]["keys"],
        )
    manage = ["get", "list", "set", "delete", "recover", "backup", "restore"]
    keys = [
        "get", "list", "create", "update", "rotate", "getrotationpolicy", "setrotationpolicy",
        "recover", "backup", "restore",
    ]  # fmt: skip
    assert found == {
        ("ntprod-kv-live", "live-trading identity"): (["get"], []),
        ("ntprod-kv-live", groups["trader"]): (["get"], []),
        ("ntprod-kv-live", groups["admin"]): (manage, keys),
        ("ntprod-kv-live", groups["auditor"]): (["list"], []),
        ("ntprod-kv-admin", groups["admin"]): (manage, keys),
        ("ntprod-kv-admin", groups["auditor"]): (["list"], []),
    }


def test_rbac_assigns_built_in_roles_on_single_secrets_only() -> None:
    cap = plan(azure_config("dev"))
    block = azure_block("dev")
    prefix = f"/subscriptions/{block['subscriptionId']}/resourceGroups/{block['resourceGroup']}"
    vault = f"{prefix}/providers/Microsoft.KeyVault/vaults/ntdev-kv-secrets"
    for a in of_type(cap, ASSIGNMENT):
        scope = a.raw_inputs["scope"]
        assert scope.startswith(vault + "/secrets/") or scope.startswith(vault + "/keys/"), scope
        assert scope.count("/") == vault.count("/") + 2
        role = a.raw_inputs["roleDefinitionId"].rsplit("/", 1)[-1]
        assert role in {
            documents.SECRETS_USER,
            documents.SECRETS_OFFICER,
            documents.KEY_VAULT_READER,
            "14b46e9e-c2b7-41b4-b07b-48a6ebf60603",  # Crypto Officer, Admin, on the keys
        }
        assert a.raw_inputs["principalType"] in ("Group", "ServicePrincipal")


def test_workloads_get_managed_identities_federated_with_one_service_account(
    azure: tuple[str, Capture],
) -> None:
    stack, cap = azure
    block = azure_block(stack)
    identities = {i.raw_inputs["resourceName"]: i for i in of_type(cap, IDENTITY)}
    granted = {"dev": "backtest", "prod": "live-trading"}[stack]
    assert set(identities) == {block["workloads"][granted]["name"]}
    (cred,) = of_type(cap, FEDERATED)
    k8s = block["workloads"][granted]["kubernetes"]
    assert cred.raw_inputs["issuer"] == block["kubernetes"]["issuer"]
    assert (
        cred.raw_inputs["subject"]
        == f"system:serviceaccount:{k8s['namespace']}:{k8s['serviceAccount']}"
    )
    assert cred.raw_inputs["audiences"] == ["api://AzureADTokenExchange"]
    assert cred.raw_inputs["resourceName"] == block["workloads"][granted]["name"]


def test_every_vault_audits_to_the_workspace_and_pages_on_near_expiry(
    azure: tuple[str, Capture],
) -> None:
    stack, cap = azure
    block = azure_block(stack)
    estate, settings = estate_of(azure_config(stack))
    vault_ids = {
        documents.vault_id(settings, p.name) for p in documents.partitions(estate, settings)
    }
    (workspace,) = of_type(cap, WORKSPACE)
    assert workspace.raw_inputs["retentionInDays"] == block["audit"]["retentionDays"]
    diagnostics = of_type(cap, DIAGNOSTIC)
    assert {d.raw_inputs["resourceUri"] for d in diagnostics} == vault_ids
    for d in diagnostics:
        assert d.raw_inputs["logs"] == [{"category": "AuditEvent", "enabled": True}]
        assert d.raw_inputs["workspaceId"].endswith(f"/workspaces/{block['audit']['workspace']}")
    assert {t.raw_inputs["source"] for t in of_type(cap, SYSTEM_TOPIC)} == vault_ids
    (group,) = of_type(cap, ACTION_GROUP)
    emails = {r["emailAddress"] for r in group.raw_inputs["emailReceivers"]}
    assert emails == set(estate.notification_emails) | set(block["expiry"].get("emails", []))
    subscriptions = of_type(cap, SUBSCRIPTION)
    assert len(subscriptions) == len(vault_ids)
    for s in subscriptions:
        assert "Microsoft.KeyVault.SecretNearExpiry" in s.raw_inputs["filter"]["includedEventTypes"]
        destination = s.raw_inputs["destination"]
        assert destination["endpointType"] == "MonitorAlert"
        assert destination["actionGroups"] == [
            f"{documents.resource_group_id(settings)}/providers/Microsoft.Insights/actionGroups/"
            f"{group.raw_inputs['actionGroupName']}"
        ]


def test_the_component_exports_the_uniform_shape(azure: tuple[str, Capture]) -> None:
    stack, _ = azure
    config = azure_config(stack)
    estate, block = estate_of(config)
    backend = registry()["azure"]
    components: list[Any] = []

    def program() -> None:
        from infra.backends.values import SecretValues

        components.append(backend.deploy("azure", estate, block, SecretValues("values", estate)))

    capture_program(program, stack=stack, project="neural-trader-secrets", config=config)
    exports = components[0].exports
    assert exports["secrets"] == dict(backend.locations(estate, block))
    assert list(exports["secrets"]) == list(estate.names)
    assert all(
        u.startswith("https://") and ".vault.azure.net/secrets/" in u
        for u in exports["secrets"].values()
    )
    granted = {"dev": "backtest", "prod": "live-trading"}[stack]
    assert set(exports["clientIds"]) == {granted}
    assert set(exports["identities"]) == {granted, "developer", "trader", "admin", "auditor"}
    assert exports["vaultUris"] == {
        p.name: f"https://{block.vault_prefix}-{p.name}.vault.azure.net/"
        for p in documents.partitions(estate, block)
    }
    assert exports["authorization"] == block.authorization
    assert exports["revokedSecrets"] == []
    assert exports["expiringSecrets"] == [s.name for s in estate.rotated]


def test_an_azure_stack_beside_the_others_plans_and_passes_the_pack() -> None:
    cap = plan(azure_config("prod", backends=("aws", "vault", "gcp", "azure")), "prod")
    assert of_type(cap, SECRET) and [r for r in cap.resources if r.type.startswith("aws:")]
    found = [f"{v.policy}: {v.message}" for v in run(records(cap)).violations]
    assert [f for f in found if f.startswith(("azure-", "nt-stack-", "all-secret"))] == []


def test_a_revoked_secret_is_disabled_and_only_admin_manages_it() -> None:
    for stack in ("dev", "prod"):
        cap = plan(azure_config(stack, revoked=["ALPACA_API_KEY"]), stack)
        (secret,) = [s for s in of_type(cap, SECRET) if catalog_name(s) == "ALPACA_API_KEY"]
        assert secret.raw_inputs["tags"][TAG_REVOKED] == "true"
        assert props(secret)["attributes"]["enabled"] is False
        others = [s for s in of_type(cap, SECRET) if catalog_name(s) != "ALPACA_API_KEY"]
        assert all(props(s)["attributes"]["enabled"] for s in others)
    dev = plan(azure_config("dev", revoked=["ALPACA_API_KEY"]))
    roles = {
        a.raw_inputs["roleDefinitionId"].rsplit("/", 1)[-1]
        for a in of_type(dev, ASSIGNMENT)
        if a.raw_inputs["scope"].endswith("/secrets/alpaca-api-key")
    }
    assert roles == {documents.SECRETS_OFFICER, documents.KEY_VAULT_READER}


# ---- the pack judges the plan ---------------------------------------------------------------------


def test_the_azure_policies_pass_both_plans(azure: tuple[str, Capture]) -> None:
    _, cap = azure
    found = [f"{v.policy}: {v.message}" for v in run(records(cap)).violations]
    assert [f for f in found if f.startswith(("azure-", "nt-stack-", "all-secret"))] == []


def test_the_stack_invariants_read_the_azure_store(azure: tuple[str, Capture]) -> None:
    from policies.stack import _access
    from policies.stores import stored_secrets as _stored

    stack, cap = azure
    resources = policy_view(records(cap))
    ours = [s for s in _stored(resources) if s.backend == "azure"]
    estate, _ = estate_of(azure_config(stack))
    assert sorted(s.catalog_name or "" for s in ours) == sorted(estate.names)
    for s in ours:
        assert s.scopes == {x.value for x in estate.secret(s.catalog_name or "").scopes}
        assert s.rotated
    access = _access(resources, ours)
    assert access.complete
    readable = {u for urns in access.reads.values() for u in urns}
    assert {s.urn for s in ours} <= readable


def test_coverage_reports_a_secret_missing_from_the_azure_store() -> None:
    recs = [r for r in records(plan(azure_config("dev"))) if not r.urn.endswith("::jwt-secret")]
    found = [v.message for v in run(recs).violations if v.policy == "nt-stack-catalog-coverage"]
    assert found == ["JWT_SECRET: no store holds it for development (stores: azure)"]


def test_a_plan_without_diagnostics_fails_the_audit_policy() -> None:
    recs = [r for r in records(plan(azure_config("prod"), "prod")) if r.type != DIAGNOSTIC]
    found = [v for v in run(recs).violations if v.policy == "azure-keyvault-audit-events"]
    assert len(found) == 2


# ---- settings -------------------------------------------------------------------------------------

INVALID: list[tuple[str, dict[str, Any], str, str]] = [
    ("a subscription that is no GUID", {"subscriptionId": "my-subscription"}, "subscriptionId", "GUID"),
    ("an unknown model", {"authorization": "both"}, "authorization", "accessPolicies"),
    ("a vault prefix too long", {"vaultPrefix": "neural-trader-development"}, "vaultPrefix", "prefix"),
    ("the internet admitted", {"network": {"ipRanges": ["0.0.0.0/0"]}}, "network.ipRanges", "0.0.0.0/0"),
    ("a range with host bits", {"network": {"ipRanges": ["203.0.113.7/24"]}}, "network.ipRanges", "host bits"),
    ("a subnet that is no id", {"network": {"subnetIds": ["aks"]}}, "network.subnetIds.0", "subnet"),
    ("one group, two roles", {"groups": {"developer": "11111111-1111-4111-8111-000000000001", "trader": "11111111-1111-4111-8111-000000000001"}}, "", "stands for both"),
    ("federation without an issuer", {"kubernetes": None}, "", "kubernetes.issuer"),
    ("an issuer over http", {"kubernetes": {"issuer": "http://oidc.example"}}, "kubernetes.issuer", "https"),
    ("a short soft delete", {"softDeleteRetentionDays": 3}, "softDeleteRetentionDays", "greater than or equal to 7"),
    ("an unknown key", {"colour": "blue"}, "colour", "Extra inputs"),
    ("an anchor that is no instant", {"expiry": {"anchor": "soon", "emails": ["a@b.io"]}}, "expiry.anchor", "RFC 3339"),
    ("a credential as a group", {"groups": {"admin": "AKIAIOSFODNN7EXAMPLE"}}, "groups.admin", "GUID"),  # pragma: allowlist secret
]  # fmt: skip


@pytest.mark.parametrize(("case", "change", "key", "text"), INVALID, ids=[c[0] for c in INVALID])
def test_invalid_azure_settings_name_the_key(
    case: str, change: dict[str, Any], key: str, text: str
) -> None:
    config = azure_config("dev", azure_block("dev", **change))
    with pytest.raises(SettingsError) as err:
        parse_settings(config)
    expected = f"{NS}azure.{key}" if key else f"{NS}azure"
    assert {p[0] for p in err.value.problems} == {expected}, err.value
    assert text in str(err.value)
    assert "AKIAIOSFODNN7EXAMPLE" not in str(err.value)  # pragma: allowlist secret
    cap, exc = capture_failing(main, stack="dev", config=config)
    assert isinstance(exc, SettingsError)
    assert [r.type for r in cap.resources] == [STACK]


@pytest.mark.parametrize(
    ("change", "key", "text"),
    [
        ({"sku": "standard"}, "sku", "premium in production"),
        ({"softDeleteRetentionDays": 30}, "softDeleteRetentionDays", "90 in production"),
    ],
)
def test_production_needs_premium_vaults_and_90_day_recovery(
    change: dict[str, Any], key: str, text: str
) -> None:
    with pytest.raises(SettingsError) as err:
        parse_settings(azure_config("prod", azure_block("prod", **change)))
    assert [p[0] for p in err.value.problems] == [f"{NS}azure.{key}"]
    assert text in str(err.value)
    parse_settings(azure_config("dev", azure_block("dev", **change)))


def test_somebody_must_be_told_of_near_expiry() -> None:
    block = azure_block("dev", expiry={"anchor": "2026-12-01T00:00:00Z"})
    with pytest.raises(SettingsError) as err:
        parse_settings(azure_config("dev", block))
    assert [p[0] for p in err.value.problems] == [f"{NS}azure.expiry.emails"]
    # production's stack-wide notification e-mails are enough
    parse_settings(
        azure_config("prod", azure_block("prod", expiry={"anchor": "2026-12-01T00:00:00Z"}))
    )


def test_public_network_access_is_always_off_in_production() -> None:
    block = azure_block("prod", network={"publicNetworkAccess": True, "subnetIds": []})
    cap = plan(azure_config("prod", block), "prod")
    assert {props(v)["publicNetworkAccess"] for v in of_type(cap, VAULT)} == {"Disabled"}


def test_enabling_azure_without_its_block_names_the_required_keys() -> None:
    config = azure_config("dev")
    config.pop(NS + "azure")
    with pytest.raises(SettingsError) as err:
        parse_settings(config)
    assert {p[0] for p in err.value.problems} == {
        f"{NS}azure.{k}"
        for k in (
            "subscriptionId",
            "tenantId",
            "location",
            "resourceGroup",
            "vaultPrefix",
            "authorization",
            "expiry",
            "audit",
        )
    }


def test_every_catalog_entry_can_be_held_by_key_vault() -> None:
    backend = registry()["azure"]
    block = AzureSettings.model_validate(azure_block("dev"))
    for entry in default_catalog().entries:
        for env in entry.environments:
            assert list(backend.name_problems(entry, env, block)) == [], entry.name


def test_separation_fails_when_the_backtest_identity_reads_a_live_vault() -> None:
    """The invariant judges what the grants do: a backtest identity (paper/test only) given
    ``get`` on production's live vault reads live secrets."""
    recs = records(plan(azure_config("prod"), "prod"))
    assert _separation(recs) == []
    identity = ResourceRecord(
        urn="urn:pulumi:prod::neural-trader-secrets::" + IDENTITY + "::workloads-backtest",
        type=IDENTITY,
        name="workloads-backtest",
        props={"resourceName": "id-backtest", "resourceGroupName": "rg-neural-trader-prod"},
    )
    grant = ResourceRecord(
        urn="urn:pulumi:prod::neural-trader-secrets::" + ACCESS_POLICY + "::backtest-live",
        type=ACCESS_POLICY,
        name="backtest-live",
        props={
            "vaultName": "ntprod-kv-live",
            "resourceGroupName": "rg-neural-trader-prod",
            "policy": {"objectId": UNKNOWN, "permissions": {"secrets": ["get"]}},
        },
        property_dependencies={"policy": (identity.urn,)},
    )
    found = _separation([*recs, identity, grant])
    assert len(found) == 1 and "workloads-backtest is paper/test-only" in found[0], found


def _separation(recs: list[ResourceRecord]) -> list[str]:
    return [v.message for v in run(recs).violations if v.policy == "nt-stack-paper-live-separation"]
