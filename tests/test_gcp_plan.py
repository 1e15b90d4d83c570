"""The GCP Secret Manager estate as the plan declares it, and its settings: every invalid setting
names its key.

The project's stack files do not enable GCP yet: these tests plan each stack with its own config
plus ``gcp`` in ``backends`` and a ``neural-trader-secrets:gcp`` block (:func:`gcp_config`), through
the same mock engine ``nt-secrets plan`` uses. What IAM the plan grants is proved role x secret x
action in ``test_gcp_matrix.py``; what only a real project can show is listed in the README.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from infra.backends import registry
from infra.backends.gcp import documents, labels
from infra.backends.gcp.settings import GcpSettings
from infra.catalog import Environment, default_catalog
from infra.estate import Estate, GeneratedValue, SuppliedValue
from infra.program import main
from infra.settings import SettingsError
from infra.stack import parse_settings
from nt_secrets.capture import Capture, CapturedResource, capture_program
from nt_secrets.plan import records
from nt_secrets.stackfile import read_stack
from policies.contract.vocabulary import TAG_ACCESS_SCOPES, TAG_CATALOG_NAME, TAG_REVOKED
from policies.model import ResourceRecord
from policies.runner import run
from tests.plans import estate_and_block, plan_config, policy_view
from tests.stacks import enable_only

from .conftest import ROOT, capture_failing, of_type

NS = "neural-trader-secrets:"
STACK = "pulumi:pulumi:Stack"
SECRET = "gcp:secretmanager/secret:Secret"  # pragma: allowlist secret
VERSION = "gcp:secretmanager/secretVersion:SecretVersion"
SECRET_IAM = "gcp:secretmanager/secretIamMember:SecretIamMember"  # pragma: allowlist secret
KEY_RING = "gcp:kms/keyRing:KeyRing"
CRYPTO_KEY = "gcp:kms/cryptoKey:CryptoKey"
KEY_IAM = "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"
AGENT = "gcp:projects/serviceIdentity:ServiceIdentity"
TOPIC = "gcp:pubsub/topic:Topic"
TOPIC_IAM = "gcp:pubsub/topicIAMMember:TopicIAMMember"
SUBSCRIPTION = "gcp:pubsub/subscription:Subscription"
SUBSCRIPTION_IAM = "gcp:pubsub/subscriptionIAMMember:SubscriptionIAMMember"
AUDIT_CONFIG = "gcp:projects/iAMAuditConfig:IAMAuditConfig"
ACCOUNT = "gcp:serviceaccount/account:Account"
ACCOUNT_IAM = "gcp:serviceaccount/iAMMember:IAMMember"
ENVIRONMENTS = {"dev": Environment.DEVELOPMENT, "prod": Environment.PRODUCTION}
ACCOUNTS = {"dev": "123456789012", "prod": "210987654321"}

#: The GCP blocks these tests enable (the README's examples): dev creates the backtest service
#: account (bound to one Kubernetes service account) and names the paper trader's; prod names the
#: backtest account and creates the live trader's. Every human role is one Google group.
GCP_BLOCKS: dict[str, dict[str, Any]] = {
    "dev": {
        "project": "neural-trader-dev",
        "locations": ["us-east1", "us-central1"],
        "workloads": {
            "backtest": {
                "create": {
                    "accountId": "nt-dev-backtest",
                    "kubernetes": {"namespace": "backtests", "name": "backtest-runner"},
                }
            },
            "live-trading": {
                "member": "serviceAccount:paper-trader@neural-trader-dev.iam.gserviceaccount.com"
            },
        },
        "groups": {
            "developer": "group:nt-dev-developers@neural-trader.io",
            "trader": "group:nt-dev-traders@neural-trader.io",
            "admin": "group:nt-dev-admins@neural-trader.io",
            "auditor": "group:nt-dev-auditors@neural-trader.io",
        },
        "rotation": {
            "anchor": "2026-12-01T00:00:00Z",
            "subscribers": ["group:nt-dev-admins@neural-trader.io"],
        },
    },
    "prod": {
        "project": "neural-trader-prod",
        "locations": ["us-east1", "us-west1"],
        "workloads": {
            "backtest": {
                "member": "serviceAccount:backtest-runner@neural-trader-prod.iam.gserviceaccount.com"
            },
            "live-trading": {
                "create": {
                    "accountId": "nt-prod-live-trader",
                    "kubernetes": {"namespace": "live-trading", "name": "live-trader"},
                }
            },
        },
        "groups": {
            "developer": "group:nt-prod-developers@neural-trader.io",
            "trader": "group:nt-prod-traders@neural-trader.io",
            "admin": "group:nt-prod-admins@neural-trader.io",
            "auditor": "group:nt-prod-auditors@neural-trader.io",
        },
        "rotation": {
            "anchor": "2026-12-01T00:00:00Z",
            "subscribers": [
                "group:security@neural-trader.io",
                "serviceAccount:secret-rotator@neural-trader-prod.iam.gserviceaccount.com",
            ],
        },
        "kms": {"protectionLevel": "HSM", "destroyScheduledDays": 30},
    },
}


# ---- helpers (shared with test_gcp_matrix.py) ----------------------------------------------------


def gcp_config(
    stack: str = "dev",
    block: dict[str, Any] | None = None,
    *,
    backends: tuple[str, ...] = ("aws", "vault", "gcp"),
    **settings: Any,
) -> dict[str, str]:
    """The project stack's config with GCP enabled: ``block`` (default: :data:`GCP_BLOCKS`) as
    the ``gcp`` block, neutral ``settings`` (``revoked=[...]``) added as JSON. Blocks of backends
    that ``backends`` leaves out are dropped."""
    config = dict(read_stack(ROOT, stack).config)
    # GCP is the home of every secret: its adapter is judged on every kind of secret.
    enable_only(config, backends, home="gcp")
    config[NS + "gcp"] = json.dumps(GCP_BLOCKS[stack] if block is None else block)
    for key, value in settings.items():
        config[NS + key] = json.dumps(value)
    return config


def with_block(stack: str = "dev", **changes: Any) -> dict[str, Any]:
    """The stack's GCP block with top-level keys changed (None removes one)."""
    block = {**GCP_BLOCKS[stack], **changes}
    return {k: v for k, v in block.items() if v is not None}


def plan(config: dict[str, str], stack: str = "dev") -> Capture:
    return plan_config(config, stack=stack, account_id=ACCOUNTS[stack])


def estate_of(config: dict[str, str]) -> tuple[Estate, GcpSettings]:
    estate, block = estate_and_block(config, "gcp")
    assert isinstance(block, GcpSettings)
    return estate, block


def catalog_name(r: CapturedResource) -> str:
    return labels.decode(TAG_CATALOG_NAME, r.raw_inputs["labels"][TAG_CATALOG_NAME])


@pytest.fixture(scope="module", params=["dev", "prod"])
def gcp(request: pytest.FixtureRequest) -> tuple[str, Capture]:
    """(stack, plan) of each project stack with the GCP backend enabled."""
    stack = str(request.param)
    return stack, plan(gcp_config(stack), stack)


# ---- what the plan declares ------------------------------------------------------------------------


def test_one_secret_per_stored_entry_with_the_estates_labels(gcp: tuple[str, Capture]) -> None:
    stack, cap = gcp
    estate, block = estate_of(gcp_config(stack))
    secrets = of_type(cap, SECRET)
    assert sorted(catalog_name(r) for r in secrets) == sorted(estate.names)
    (component,) = [r for r in cap.resources if r.type == "neural-trader:gcp:SecretStore"]
    for r in secrets:
        s = estate.secret(catalog_name(r))
        inputs = r.raw_inputs
        assert r.name == s.logical_name and r.parent == component.urn
        assert (
            inputs["secretId"] == f"neural-trader-{estate.environment.value}-{s.entry.kebab_name}"
        )
        assert inputs["project"] == block.project
        # Every contract label, spelled the GCP way, reads back exactly; rotation parameters are
        # annotations, verbatim.
        assert labels.contract_labels(inputs["labels"]) == {
            k: v for k, v in s.labels().items() if k in labels.LABEL_KEYS
        }
        assert all(labels.LABEL_VALUE_RE.fullmatch(v) for v in inputs["labels"].values())
        params = dict(s.rotation.params) if s.rotation else {}
        assert inputs.get("annotations", {}) == params
        # Deleted versions stay recoverable for the recovery window; production protects.
        assert inputs["versionDestroyTtl"] == f"{estate.recovery_window_days * 86400}s"
        assert inputs["deletionProtection"] is (stack == "prod")
        assert r.options["protect"] is (stack == "prod")


def test_every_replica_is_encrypted_with_its_locations_key(gcp: tuple[str, Capture]) -> None:
    stack, cap = gcp
    block = GCP_BLOCKS[stack]
    env = ENVIRONMENTS[stack].value
    expected = [
        {
            "location": loc,
            "customerManagedEncryption": {
                "kmsKeyName": f"projects/{block['project']}/locations/{loc}/keyRings/"
                f"neural-trader-{env}/cryptoKeys/secrets"
            },
        }
        for loc in block["locations"]
    ]
    for r in of_type(cap, SECRET):
        assert r.raw_inputs["replication"] == {"userManaged": {"replicas": expected}}, r.name


def test_keys_rotate_and_only_the_service_agents_use_them(gcp: tuple[str, Capture]) -> None:
    stack, cap = gcp
    block = GCP_BLOCKS[stack]
    rings, keys = of_type(cap, KEY_RING), of_type(cap, CRYPTO_KEY)
    assert sorted(r.raw_inputs["location"] for r in rings) == sorted(block["locations"])
    assert len(keys) == len(block["locations"])
    level = block.get("kms", {}).get("protectionLevel", "SOFTWARE")
    for key in keys:
        assert key.raw_inputs["rotationPeriod"] == "7776000s"  # 90 days (CKV_GCP_43)
        assert key.raw_inputs["destroyScheduledDuration"] == "2592000s"
        assert key.raw_inputs["purpose"] == "ENCRYPT_DECRYPT"
        assert key.raw_inputs["versionTemplate"]["protectionLevel"] == level
        assert key.options["protect"] is (stack == "prod")
    agents = {r.raw_inputs["service"]: r.urn for r in of_type(cap, AGENT)}
    assert set(agents) == {"secretmanager.googleapis.com", "pubsub.googleapis.com"}
    grants = of_type(cap, KEY_IAM)
    by_agent: dict[str, set[str]] = {}
    for g in grants:
        assert g.raw_inputs["role"] == "roles/cloudkms.cryptoKeyEncrypterDecrypter"
        (agent,) = g.property_dependencies["member"]
        (key_urn,) = g.property_dependencies["cryptoKeyId"]
        by_agent.setdefault(agent, set()).add(key_urn)
    # Secret Manager's agent: exactly the replica keys; Pub/Sub's: the topic's key only.
    first = next(k.urn for k in keys if f"-{block['locations'][0]}-" in k.name)
    assert by_agent == {
        agents["secretmanager.googleapis.com"]: {k.urn for k in keys},
        agents["pubsub.googleapis.com"]: {first},
    }


def test_rotation_notices_follow_the_class_schedule_from_the_anchor(
    gcp: tuple[str, Capture],
) -> None:
    stack, cap = gcp
    estate, block = estate_of(gcp_config(stack))
    env = estate.environment.value
    topic_id = f"projects/{block.project}/topics/neural-trader-{env}-secret-rotation"
    anchor = datetime(2026, 12, 1, tzinfo=UTC)
    rotated = 0
    for r in of_type(cap, SECRET):
        s = estate.secret(catalog_name(r))
        if s.rotation is None:
            assert "rotation" not in r.raw_inputs and "topics" not in r.raw_inputs
            assert r.options["ignoreChanges"] == []
            continue
        rotated += 1
        days = s.rotation.period_days
        assert days <= s.rotation.rotation_class.max_age_days
        assert r.raw_inputs["rotation"] == {
            "rotationPeriod": f"{days * 86400}s",
            "nextRotationTime": (anchor + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        assert r.raw_inputs["topics"] == [{"name": topic_id}]
        # Secret Manager advances the time after each notice: Pulumi must not move it back (nor
        # the aliases and annotations the rotation function writes: test_rotation_executors).
        assert "rotation.nextRotationTime" in r.options["ignoreChanges"]
    assert rotated == len(estate.rotated) > 0


def test_the_rotation_topic_is_cmek_encrypted_and_only_secret_manager_publishes(
    gcp: tuple[str, Capture],
) -> None:
    stack, cap = gcp
    block = GCP_BLOCKS[stack]
    (topic,) = of_type(cap, TOPIC)
    first = block["locations"][0]
    assert f"/locations/{first}/" in topic.raw_inputs["kmsKeyName"]
    assert topic.raw_inputs["messageStoragePolicy"] == {"allowedPersistenceRegions": [first]}
    (publisher,) = of_type(cap, TOPIC_IAM)
    agents = {r.raw_inputs["service"]: r.urn for r in of_type(cap, AGENT)}
    assert publisher.raw_inputs["role"] == "roles/pubsub.publisher"
    assert publisher.property_dependencies["member"] == [agents["secretmanager.googleapis.com"]]
    (subscription,) = of_type(cap, SUBSCRIPTION)
    assert subscription.property_dependencies["topic"] == [topic.urn]
    assert subscription.raw_inputs["filter"] == 'attributes.eventType = "SECRET_ROTATE"'
    assert subscription.raw_inputs["expirationPolicy"] == {"ttl": ""}
    subscribers = of_type(cap, SUBSCRIPTION_IAM)
    assert sorted(s.raw_inputs["member"] for s in subscribers) == sorted(
        block["rotation"]["subscribers"]
    )
    assert {s.raw_inputs["role"] for s in subscribers} == {"roles/pubsub.subscriber"}


def test_people_are_emailed_when_a_notice_waits_unhandled(gcp: tuple[str, Capture]) -> None:
    """Production has notification e-mails (security@...): one channel each and one alert on the
    rotation subscription's undelivered messages. Development has none, so no alert."""
    stack, cap = gcp
    estate, _ = estate_of(gcp_config(stack))
    channels = of_type(cap, "gcp:monitoring/notificationChannel:NotificationChannel")
    assert sorted(c.raw_inputs["labels"]["email_address"] for c in channels) == sorted(
        estate.notification_emails
    )
    alerts = of_type(cap, "gcp:monitoring/alertPolicy:AlertPolicy")
    if not estate.notification_emails:
        assert alerts == []
        return
    (alert,) = alerts
    (subscription,) = of_type(cap, SUBSCRIPTION)
    (condition,) = alert.raw_inputs["conditions"]
    assert (
        f'subscription_id = "{subscription.raw_inputs["name"]}"'
        in condition["conditionThreshold"]["filter"]
    )
    assert sorted(alert.property_dependencies["notificationChannels"]) == sorted(
        c.urn for c in channels
    )


def test_values_the_infrastructure_owns_are_secret_versions(gcp: tuple[str, Capture]) -> None:
    """Generated values (and values the stack config supplies) become a first version whose data
    is a Pulumi secret; a third-party key put out of band gets none."""
    stack, cap = gcp
    estate, block = estate_of(gcp_config(stack))
    owned = {
        s.logical_name
        for s in estate.secrets
        if isinstance(s.value, (GeneratedValue, SuppliedValue))
    }
    versions = of_type(cap, VERSION)
    assert {v.name.removesuffix("-value") for v in versions} == owned
    secrets = {r.urn: r for r in of_type(cap, SECRET)}
    for v in versions:
        assert v.secret_paths == ["secretData"], v.name
        parent = secrets[v.parent]
        assert v.raw_inputs["secret"] == (
            f"projects/{block.project}/secrets/{parent.raw_inputs['secretId']}"
        )
        assert parent.urn in v.dependencies


def test_data_access_audit_logs_are_on_with_nobody_exempted(gcp: tuple[str, Capture]) -> None:
    stack, cap = gcp
    (config,) = of_type(cap, AUDIT_CONFIG)
    assert config.raw_inputs == {
        "project": GCP_BLOCKS[stack]["project"],
        "service": "secretmanager.googleapis.com",
        "auditLogConfigs": [
            {"logType": "ADMIN_READ"},
            {"logType": "DATA_READ"},
            {"logType": "DATA_WRITE"},
        ],
    }


def test_nothing_is_granted_above_the_secret_and_no_key_is_created(
    gcp: tuple[str, Capture],
) -> None:
    _, cap = gcp
    types = Counter(r.type for r in cap.resources if r.type.startswith("gcp:"))
    above = [
        t for t in types if t.split("/")[0] in ("gcp:projects", "gcp:folder", "gcp:organizations")
    ]
    # The rotation function's custom role is defined on the project and bound per secret only.
    assert sorted(above) == [AUDIT_CONFIG, "gcp:projects/iAMCustomRole:IAMCustomRole", AGENT]
    assert "gcp:serviceaccount/key:Key" not in types
    for r in of_type(cap, SECRET_IAM):
        if r.name.endswith("-secret-rotation"):
            assert r.raw_inputs["role"].startswith("projects/neural-trader-")
            continue
        assert r.raw_inputs["role"].startswith("roles/secretmanager.")
        assert r.raw_inputs["secretId"] == cap_secret(cap, r).raw_inputs["secretId"]


def cap_secret(cap: Capture, member: CapturedResource) -> CapturedResource:
    (secret,) = [r for r in cap.resources if r.urn == member.parent]
    return secret


def test_created_workload_accounts_are_bound_to_one_kubernetes_service_account(
    gcp: tuple[str, Capture],
) -> None:
    stack, cap = gcp
    block = GCP_BLOCKS[stack]
    created = {role: w["create"] for role, w in block["workloads"].items() if "create" in w}
    (account,) = [r for r in of_type(cap, ACCOUNT) if r.name != "rotation-function-account"]
    ((role, spec),) = created.items()
    assert account.name == role and account.raw_inputs["accountId"] == spec["accountId"]
    (binding,) = of_type(cap, ACCOUNT_IAM)
    email = f"{spec['accountId']}@{block['project']}.iam.gserviceaccount.com"
    k8s = spec["kubernetes"]
    assert binding.raw_inputs == {
        "serviceAccountId": f"projects/{block['project']}/serviceAccounts/{email}",
        "role": "roles/iam.workloadIdentityUser",
        "member": f"serviceAccount:{block['project']}.svc.id.goog[{k8s['namespace']}/{k8s['name']}]",
    }


def test_a_workload_granted_nothing_gets_no_account() -> None:
    """Development grants live-trading nothing: asking to create its account creates none."""
    workloads = {
        **GCP_BLOCKS["dev"]["workloads"],
        "live-trading": {"create": {"accountId": "nt-dev-paper-trader"}},
    }
    cap = plan(gcp_config("dev", with_block("dev", workloads=workloads)))
    assert [r.name for r in of_type(cap, ACCOUNT)] == ["rotation-function-account", "backtest"]


def test_the_component_exports_the_uniform_shape(gcp: tuple[str, Capture]) -> None:
    stack, _ = gcp
    config = gcp_config(stack)
    estate, block = estate_of(config)
    backend = registry()["gcp"]
    components: list[Any] = []

    def program() -> None:
        from infra.backends.values import SecretValues

        components.append(backend.deploy("gcp", estate, block, SecretValues("values", estate)))

    capture_program(program, stack=stack, project="neural-trader-secrets", config=config)
    exports = components[0].exports
    assert exports["secrets"] == dict(backend.locations(estate, block))
    assert list(exports["secrets"]) == list(estate.names)
    assert exports["identities"] == dict(backend.identities(estate, block))
    assert set(exports["identities"]) == set(estate.roles)
    assert exports["project"] == block.project and exports["revokedSecrets"] == []
    assert exports["rotatedSecrets"] == [s.name for s in estate.rotated]


def test_a_gcp_only_stack_declares_no_aws_or_vault_resource() -> None:
    cap = plan(gcp_config("dev", backends=("gcp",)))
    assert of_type(cap, SECRET)
    assert not [r for r in cap.resources if r.type.startswith(("aws:", "vault:"))]


# ---- revocation ------------------------------------------------------------------------------------


def test_a_revoked_secret_is_readable_by_nobody_and_admin_keeps_the_way_out() -> None:
    cap = plan(gcp_config("prod", revoked=["ALPACA_API_KEY"], recoveryWindowDays=30), "prod")
    (secret,) = [r for r in of_type(cap, SECRET) if catalog_name(r) == "ALPACA_API_KEY"]
    assert secret.raw_inputs["labels"][TAG_REVOKED] == "true"
    grants = {
        (m.raw_inputs["member"], m.raw_inputs["role"])
        for m in of_type(cap, SECRET_IAM)
        if m.parent == secret.urn
    }
    admins = GCP_BLOCKS["prod"]["groups"]["admin"]
    assert grants == {
        (admins, "roles/secretmanager.secretVersionManager"),
        (admins, "roles/secretmanager.viewer"),
        (GCP_BLOCKS["prod"]["groups"]["auditor"], "roles/secretmanager.viewer"),
        (
            "serviceAccount:nt-prod-live-trader@neural-trader-prod.iam.gserviceaccount.com",
            "roles/secretmanager.viewer",
        ),
        (GCP_BLOCKS["prod"]["groups"]["trader"], "roles/secretmanager.viewer"),
    }


# ---- the pack judges the plan ---------------------------------------------------------------------


def test_the_whole_pack_passes_both_plans(gcp: tuple[str, Capture]) -> None:
    _, cap = gcp
    assert [f"{v.policy}: {v.message}" for v in run(records(cap)).violations] == []


def test_the_stack_invariants_read_the_gcp_store(gcp: tuple[str, Capture]) -> None:
    from policies.stack import _access
    from policies.stores import stored_secrets as _stored

    stack, cap = gcp
    resources = policy_view(records(cap))
    ours = [s for s in _stored(resources) if s.backend == "gcp"]
    estate, _ = estate_of(gcp_config(stack))
    assert sorted(s.catalog_name or "" for s in ours) == sorted(estate.names)
    for s in ours:
        assert s.scopes == {x.value for x in estate.secret(s.catalog_name or "").scopes}
        assert s.rotated is (estate.secret(s.catalog_name or "").rotation is not None)
    access = _access(resources, ours)
    assert access.complete
    readable = {u for urns in access.reads.values() for u in urns}
    assert {s.urn for s in ours} <= readable


def _stack_violations(recs: list[ResourceRecord]) -> list[str]:
    return sorted(
        f"{v.policy}: {v.message}" for v in run(recs).violations if v.policy.startswith("nt-stack-")
    )


def test_separation_fails_when_one_member_reads_paper_and_live() -> None:
    """Production stores only live secrets; a paper secret granted to the traders' group (who read
    live ones) makes that member read both, whatever its name."""
    recs = records(plan(gcp_config("prod"), "prod"))
    assert _stack_violations(recs) == []
    (live,) = [r for r in recs if r.type == SECRET and r.name == "alpaca-api-key"]
    # Another secret (its own catalog name): a second copy of ALPACA_API_KEY would be sprawl.
    paper_labels = {
        **live.props["labels"],
        TAG_ACCESS_SCOPES: "paper",
        TAG_CATALOG_NAME: "alpaca_paper_key",
    }
    paper = dataclasses.replace(
        live,
        urn=live.urn.replace("::alpaca-api-key", "::alpaca-paper-key"),
        name="alpaca-paper-key",
        props={
            **live.props,
            "secretId": "neural-trader-production-alpaca-paper-key",
            "labels": paper_labels,
        },
    )
    traders = GCP_BLOCKS["prod"]["groups"]["trader"]
    grant = ResourceRecord(
        urn=paper.urn + "-trader",
        type=SECRET_IAM,
        name="alpaca-paper-key-trader",
        props={
            "project": "neural-trader-prod",
            "secretId": "neural-trader-production-alpaca-paper-key",
            "role": "roles/secretmanager.secretAccessor",
            "member": traders,
        },
        source="fixture",
        parent=paper.urn,
    )
    every = _stack_violations([*recs, paper, grant])
    # The access model sees it too: the traders read a paper secret outside their scopes.
    assert any(
        f.startswith("nt-stack-intended-access: ALPACA_PAPER_KEY: ") and "(trader) can read" in f
        for f in every
    ), every
    found = [f for f in every if f.startswith("nt-stack-paper-live-separation")]
    assert len(found) == 1, found
    assert found[0].startswith(
        f"nt-stack-paper-live-separation: role {traders} reads paper secrets "
        "(projects/neural-trader-prod/secrets/neural-trader-production-alpaca-paper-key) and live"
    ), found


def test_coverage_reports_a_secret_missing_from_the_gcp_store() -> None:
    recs = records(plan(gcp_config("dev")))
    (jwt,) = [r for r in recs if r.type == SECRET and r.name == "jwt-secret"]
    found = _stack_violations([r for r in recs if r.urn != jwt.urn])
    assert (
        "nt-stack-catalog-coverage: JWT_SECRET: no store holds it for development (stores: gcp)"
        in found
    )


# ---- settings ---------------------------------------------------------------------------------------

INVALID: list[tuple[str, dict[str, Any], str, str]] = [
    ("no project", {"project": None}, "project", "required"),
    ("not a project id", {"project": "Neural_Trader"}, "project", "GCP project id"),
    ("no location", {"locations": []}, "locations", "at least 1 location"),
    ("not a region", {"locations": ["us"]}, "locations.0", "GCP region"),
    ("a location twice", {"locations": ["us-east1", "us-east1"]}, "locations", "duplicate"),
    ("unknown key", {"colour": "blue"}, "colour", "Extra"),
    ("no rotation anchor", {"rotation": {"subscribers": []}}, "rotation.anchor", "required"),
    (
        "an anchor that is not an instant",
        {"rotation": {"anchor": "next monday"}},
        "rotation.anchor",
        "RFC 3339",
    ),
    (
        "an anchor on no calendar",
        {"rotation": {"anchor": "2026-02-30T00:00:00Z"}},
        "rotation.anchor",
        "not a valid date",
    ),
    (
        "the public as a subscriber",
        {"rotation": {"anchor": "2026-12-01T00:00:00Z", "subscribers": ["allUsers"]}},
        "rotation.subscribers",
        "not an exact member",
    ),
    (
        "a whole identity pool as a workload",
        {
            "workloads": {
                "backtest": {
                    "member": "principalSet://iam.googleapis.com/projects/1/locations/global/"
                    "workloadIdentityPools/neural-trader-dev.svc.id.goog/*"
                }
            }
        },
        "workloads.backtest.member",
        "one exact identity",
    ),
    (
        "a group as a workload",
        {"workloads": {"live-trading": {"member": "group:traders@neural-trader.io"}}},
        "workloads.live-trading.member",
        "serviceAccount:",
    ),
    (
        "a created account with a bad id",
        {"workloads": {"backtest": {"create": {"accountId": "BT"}}}},
        "workloads.backtest.create.accountId",
        "service account id",
    ),
    (
        "both a member and an account to create",
        {
            "workloads": {
                "backtest": {
                    "member": "serviceAccount:bt@neural-trader-dev.iam.gserviceaccount.com",
                    "create": {"accountId": "nt-dev-backtest"},
                }
            }
        },
        "workloads.backtest",
        "either member",
    ),
    (
        "a user as a human role",
        {"groups": {"trader": "user:alice@neural-trader.io"}},
        "groups.trader",
        "group:<email>",
    ),
    (
        "one group for two roles",
        {
            "groups": {
                "developer": "group:everyone@neural-trader.io",
                "trader": "group:everyone@neural-trader.io",
            }
        },
        "",
        "stands for both developer and trader",
    ),
    (
        "keys rotated yearly",
        {"kms": {"rotationDays": 365}},
        "kms.rotationDays",
        "less than or equal to 90",
    ),
    (
        "keys destroyed at once",
        {"kms": {"destroyScheduledDays": 0}},
        "kms.destroyScheduledDays",
        "greater than or equal to 1",
    ),
    (
        "an unknown protection level",
        {"kms": {"protectionLevel": "EXTERNAL"}},
        "kms.protectionLevel",
        "SOFTWARE",
    ),
    ("a prefix with capitals", {"secretPrefix": "NT"}, "secretPrefix", "secret id prefix"),
]


@pytest.mark.parametrize(("case", "change", "key", "text"), INVALID, ids=[c[0] for c in INVALID])
def test_invalid_gcp_settings_name_the_key(
    case: str, change: dict[str, Any], key: str, text: str
) -> None:
    config = gcp_config("dev", with_block("dev", **change))
    with pytest.raises(SettingsError) as err:
        parse_settings(config)
    expected = f"{NS}gcp.{key}" if key else f"{NS}gcp"
    assert {p[0] for p in err.value.problems} == {expected}, err.value
    assert text in str(err.value)
    cap, exc = capture_failing(main, stack="dev", config=config)
    assert isinstance(exc, SettingsError)
    assert [r.type for r in cap.resources] == [STACK]


def test_production_keeps_destroyed_key_versions_for_30_days() -> None:
    block = with_block("prod", kms={"destroyScheduledDays": 7})
    with pytest.raises(SettingsError) as err:
        parse_settings(gcp_config("prod", block))
    assert [p[0] for p in err.value.problems] == [f"{NS}gcp.kms.destroyScheduledDays"]
    assert "at least 30 in production" in str(err.value)
    parse_settings(gcp_config("dev", with_block("dev", kms={"destroyScheduledDays": 7})))


def test_enabling_gcp_without_its_block_names_the_required_keys() -> None:
    config = gcp_config("dev")
    config.pop(NS + "gcp")
    with pytest.raises(SettingsError) as err:
        parse_settings(config)
    assert {p[0] for p in err.value.problems} == {
        f"{NS}gcp.project",
        f"{NS}gcp.locations",
        f"{NS}gcp.rotation",
    }


# ---- labels ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "label"),
    [
        (TAG_CATALOG_NAME, "JWT_SECRET", "jwt_secret"),
        (TAG_CATALOG_NAME, "OPENAI_API_KEY", "openai_api_key"),
        (TAG_ACCESS_SCOPES, "live+paper", "live_paper"),
        (TAG_ACCESS_SCOPES, "admin+live+paper+test", "admin_live_paper_test"),
        ("environment", "production", "production"),
        ("rotation-strategy", "third-party-manual", "third-party-manual"),
    ],
)
def test_labels_are_spelled_for_gcp_and_read_back(key: str, value: str, label: str) -> None:
    assert labels.encode(key, value) == label
    assert labels.decode(key, label) == value


@pytest.mark.parametrize(
    ("key", "value"),
    [
        (TAG_CATALOG_NAME, "MixedCase_Name"),  # would read back upper-cased
        ("service", "Alpaca"),  # capitals
        ("service", "a" * 64),  # too long
        ("service", "alpaca.markets"),  # a dot
    ],
)
def test_values_no_label_can_carry_are_refused(key: str, value: str) -> None:
    with pytest.raises(labels.LabelError):
        labels.encode(key, value)


def test_every_catalog_entry_can_be_held_and_labelled() -> None:
    """The backend's naming rule accepts every stored entry of every environment."""
    backend = registry()["gcp"]
    block = GcpSettings.model_validate(GCP_BLOCKS["dev"])
    for env in Environment:
        for entry in default_catalog().stored_in(env):
            assert list(backend.name_problems(entry, env, block)) == [], entry.name
            assert documents.secret_id(entry, env, block.secret_prefix).islower()
