"""The Kubernetes delivery as the plan declares it, validated against Kubernetes' own OpenAPI
schemas (``kubernetes-validate``, strict) and External Secrets' CRD schemas (vendored in
``tests/fixtures/kubernetes``), and its settings: every invalid setting names its key.

The project's stack files do not enable Kubernetes yet: these tests plan each stack with its own
config plus the blocks of ``tests/fixtures/kubernetes/stack-blocks.yaml`` (``kubernetes`` last in
``backends``, after the stores it reads), through the same mock engine ``nt-secrets plan`` uses.
Who may read which Secret is proved in ``test_kubernetes_rbac.py``. No API server runs here: what
only a real cluster with ESO shows is listed in docs/kubernetes.md.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml

from infra.access import Action, RoleName
from infra.backends.kubernetes import documents
from infra.backends.kubernetes.settings import KubernetesSettings
from infra.catalog import default_catalog
from infra.estate import Estate
from infra.program import main
from infra.settings import SettingsError
from infra.stack import build_estate, parse_settings
from nt_secrets.capture import Capture, CapturedResource
from nt_secrets.plan import records
from nt_secrets.stackfile import read_stack
from policies.runner import run
from tests.plans import plan_config
from tests.stacks import enable_only

from .conftest import ROOT, capture_failing, of_type

NS = "neural-trader-secrets:"
FIXTURES = ROOT / "tests" / "fixtures" / "kubernetes"
ACCOUNTS = {"dev": "123456789012", "prod": "210987654321"}
#: The Kubernetes minor version the manifests are validated against.
KUBERNETES_VERSION = "1.33"
SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"
NAMESPACE = "kubernetes:core/v1:Namespace"
ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role"
BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
STORE = "kubernetes:external-secrets.io/v1:SecretStore"
EXTERNAL_SECRET = "kubernetes:external-secrets.io/v1:ExternalSecret"  # pragma: allowlist secret
CRON_JOB = "kubernetes:batch/v1:CronJob"
#: Where the project stacks run the Vault rotation job (vault.rotation.namespace).
ROTATION_NAMESPACE = "neural-trader-rotation"
#: Who reads in each stack (the access model: backtests in development, live trading in production).
WORKLOAD: dict[str, tuple[RoleName, str, str]] = {
    "dev": ("backtest", "backtests", "backtest-runner"),
    "prod": ("live-trading", "live-trading", "live-trader"),
}


def stack_blocks() -> dict[str, dict[str, Any]]:
    data: dict[str, dict[str, Any]] = yaml.safe_load(
        (FIXTURES / "stack-blocks.yaml").read_text(encoding="utf-8")
    )
    return data


def kubernetes_config(
    stack: str = "dev",
    block: dict[str, Any] | None = None,
    *,
    backends: tuple[str, ...] = ("aws", "vault", "gcp", "kubernetes"),
    **settings: Any,
) -> dict[str, str]:
    """The project stack's config with the proposed kubernetes block (or ``block``), ``backends``
    as given (blocks of backends left out are dropped), neutral ``settings`` as JSON."""
    config = dict(read_stack(ROOT, stack).config)
    proposed = stack_blocks()[stack]
    enable_only(config, backends)
    config[NS + "kubernetes"] = json.dumps(proposed[NS + "kubernetes"] if block is None else block)
    for key, value in settings.items():
        config[NS + key] = json.dumps(value)
    return config


def with_block(stack: str = "dev", **changes: Any) -> dict[str, Any]:
    """The proposed block with top-level keys changed (None removes one)."""
    block = {**stack_blocks()[stack][NS + "kubernetes"], **changes}
    return {k: v for k, v in block.items() if v is not None}


def plan(config: dict[str, str], stack: str = "dev") -> Capture:
    return plan_config(config, stack=stack, account_id=ACCOUNTS[stack])


def estate_of(config: dict[str, str]) -> Estate:
    return build_estate(default_catalog(), parse_settings(config))


@pytest.fixture(scope="module", params=["dev", "prod"])
def k8s(request: pytest.FixtureRequest) -> tuple[str, Capture]:
    """(stack, plan) of each project stack with the proposed kubernetes block."""
    stack = str(request.param)
    return stack, plan(kubernetes_config(stack), stack)


def manifest(r: CapturedResource) -> dict[str, Any]:
    """A planned Kubernetes resource as the object the provider sends to the API server."""
    return {k: v for k, v in r.raw_inputs.items() if not k.startswith("__")}


def kubernetes_objects(cap: Capture) -> list[CapturedResource]:
    return [r for r in cap.resources if r.type.startswith("kubernetes:")]


def delivery_of_type(cap: Capture, type_: str) -> list[CapturedResource]:
    """The workloads' delivery objects of ``type_``: not the rotation job's (its namespace,
    service account and CronJob are judged in ``test_rotation_executors.py``)."""
    return [
        r
        for r in of_type(cap, type_)
        if "$neural-trader:kubernetes:RotationJob" not in r.urn
        and r.raw_inputs["metadata"].get("name") != ROTATION_NAMESPACE
    ]


# ---- schemas -------------------------------------------------------------------------------------


def _closed(schema: Any) -> Any:
    """``schema`` with every object that declares properties closed to unknown fields (the API
    server prunes them silently; a test must see them)."""
    if isinstance(schema, dict):
        out = {k: _closed(v) for k, v in schema.items()}
        if (
            "properties" in out
            and "additionalProperties" not in out
            and not out.get("x-kubernetes-preserve-unknown-fields")
        ):
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [_closed(v) for v in schema]
    return schema


@cache
def eso_schema(kind: str) -> dict[str, Any]:
    data = json.loads((FIXTURES / f"eso-v1-{kind.lower()}.schema.json").read_text(encoding="utf-8"))
    assert data["group"] == "external-secrets.io" and data["version"] == "v1"
    schema: dict[str, Any] = _closed(data["openAPIV3Schema"])
    # metadata is the API server's ObjectMeta (validated by kubernetes-validate's definitions).
    schema["properties"]["metadata"] = {"type": "object"}
    return schema


def schema_errors(obj: dict[str, Any]) -> list[str]:
    """Why ``obj`` is not a valid object (empty: valid)."""
    if obj["apiVersion"].startswith("external-secrets.io/"):
        validator = jsonschema.Draft7Validator(eso_schema(obj["kind"]))
        errors = [
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(obj)
        ]
        meta = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": obj["metadata"]}
        try:
            kubernetes_validate.validate(meta, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"metadata: {exc.message}")
        return errors
    try:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        return [f"{'/'.join(map(str, exc.path))}: {exc.message}"]
    return []


def test_every_object_validates_against_its_schema(k8s: tuple[str, Capture]) -> None:
    _, cap = k8s
    objects = kubernetes_objects(cap)
    assert {r.type for r in objects} == {
        NAMESPACE,
        SERVICE_ACCOUNT,
        ROLE,
        BINDING,
        STORE,
        EXTERNAL_SECRET,
        CRON_JOB,
    }
    for r in objects:
        assert schema_errors(manifest(r)) == [], r.name


def _variants(obj: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Broken copies of ``obj``: an unknown field at the top and deep down, a wrong type."""
    unknown = copy.deepcopy(obj)
    unknown["spec" if "spec" in obj else "metadata"]["bogusField"] = 1
    yield "unknown field", unknown
    if obj["kind"] == "ExternalSecret":
        deep = copy.deepcopy(obj)
        deep["spec"]["target"]["creationPolicy"] = "Owned"
        yield "enum", deep
        wrong = copy.deepcopy(obj)
        wrong["spec"]["data"][0]["remoteRef"]["key"] = 7
        yield "type", wrong
    if obj["kind"] == "SecretStore":
        deep = copy.deepcopy(obj)
        provider = deep["spec"]["provider"]
        next(iter(provider.values()))["rolle"] = "x"
        yield "unknown provider field", deep
    if obj["kind"] == "ServiceAccount":
        wrong = copy.deepcopy(obj)
        wrong["automountServiceAccountToken"] = "false"
        yield "type", wrong
    if obj["kind"] == "CronJob":
        deep = copy.deepcopy(obj)
        pod = deep["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        pod["containers"][0]["securityContext"]["dropCapabilities"] = ["ALL"]
        yield "misspelt deep field", deep
        wrong = copy.deepcopy(obj)
        wrong["spec"]["concurrencyPolicy"] = 1
        yield "type", wrong
    if obj["kind"] == "Role":
        wrong = copy.deepcopy(obj)
        wrong["rules"][0]["resourceName"] = ["x"]
        yield "misspelt field", wrong


def test_a_broken_object_fails_validation(k8s: tuple[str, Capture]) -> None:
    """The validators can fail: every planned kind, broken, is refused."""
    _, cap = k8s
    seen = set()
    for r in kubernetes_objects(cap):
        for what, broken in _variants(manifest(r)):
            assert schema_errors(broken), f"{r.name}: {what} accepted"
            seen.add(r.type)
    assert seen == {r.type for r in kubernetes_objects(cap)}


# ---- what the plan declares ----------------------------------------------------------------------


def test_one_external_secret_per_workload_with_exactly_its_secrets(
    k8s: tuple[str, Capture],
) -> None:
    stack, cap = k8s
    estate = estate_of(kubernetes_config(stack))
    role, ns, _ = WORKLOAD[stack]
    (es,) = of_type(cap, EXTERNAL_SECRET)
    spec = es.raw_inputs["spec"]
    readable = sorted(
        s.name for s in estate.secrets if Action.READ in s.grants.get(role, frozenset())
    )
    assert readable and [d["secretKey"] for d in spec["data"]] == readable
    assert es.raw_inputs["metadata"]["namespace"] == ns
    assert spec["target"]["name"] == f"neural-trader-{role}"
    assert spec["target"]["creationPolicy"] == "Owner"
    # The store most secrets live in is the default; every other entry names its home's store.
    assert spec["secretStoreRef"] == {"kind": "SecretStore", "name": f"vault-{role}"}
    env = estate.environment.value
    homes = set()
    for d in spec["data"]:
        secret = estate.secret(d["secretKey"])
        entry, home = secret.entry, secret.home
        homes.add(home)
        store = d.get("sourceRef", {}).get("storeRef", {}).get("name", f"vault-{role}")
        assert store == f"{home}-{role}", d
        # Each store's own name for the secret (Vault keeps the value under "value").
        want = {
            "vault": {"key": f"{entry.service}/{entry.key}", "property": "value"},
            "aws": {"key": f"neural-trader/{env}/{entry.service}/{entry.key}"},
            "gcp": {"key": f"neural-trader-{env}-{entry.kebab_name}"},
        }[home]
        assert d["remoteRef"] == want, d
    assert homes == {"aws", "vault", "gcp"}, "the workloads read from three home stores"


def test_refresh_follows_the_shortest_rotation(k8s: tuple[str, Capture]) -> None:
    stack, cap = k8s
    (es,) = of_type(cap, EXTERNAL_SECRET)
    minutes = int(es.raw_inputs["spec"]["refreshInterval"].removesuffix("m"))
    assert minutes == stack_blocks()[stack][NS + "kubernetes"]["refreshMinutes"]
    estate = estate_of(kubernetes_config(stack))
    shortest = min(
        estate.secret(d["secretKey"]).rotation.period_days  # type: ignore[union-attr]
        for d in es.raw_inputs["spec"]["data"]
        if estate.secret(d["secretKey"]).rotation is not None
    )
    assert minutes <= shortest * 60
    # A daily rotation bounds the refresh to an hour whatever the setting says.
    config = kubernetes_config(
        stack, with_block(stack, refreshMinutes=1440), rotationOverrides={"api_key": 1}
    )
    (es,) = of_type(plan(config, stack), EXTERNAL_SECRET)
    assert es.raw_inputs["spec"]["refreshInterval"] == "60m"


def test_the_reloader_annotation_follows_the_setting() -> None:
    (es,) = of_type(plan(kubernetes_config("dev")), EXTERNAL_SECRET)
    meta = es.raw_inputs["spec"]["target"]["template"]["metadata"]
    assert meta["annotations"] == {documents.RELOADER_MATCH: "true"}
    (es,) = of_type(plan(kubernetes_config("dev", with_block(reloader="none"))), EXTERNAL_SECRET)
    assert "annotations" not in es.raw_inputs["spec"]["target"]["template"]["metadata"]


def test_service_accounts_mount_no_token_and_carry_their_cloud_identity(
    k8s: tuple[str, Capture],
) -> None:
    stack, cap = k8s
    role, ns, name = WORKLOAD[stack]
    (account,) = delivery_of_type(cap, SERVICE_ACCOUNT)
    assert account.raw_inputs["automountServiceAccountToken"] is False
    meta = account.raw_inputs["metadata"]
    assert (meta["namespace"], meta["name"]) == (ns, name)
    project = {
        "dev": "nt-dev-backtest@neural-trader-dev",
        "prod": "nt-prod-live-trader@neural-trader-prod",
    }
    # GKE workload identity from the GCP block; IRSA from the AWS role trusting this account.
    account_id = ACCOUNTS[stack]
    env = "development" if stack == "dev" else "production"
    assert meta["annotations"] == {
        documents.GKE_ANNOTATION: f"{project[stack]}.iam.gserviceaccount.com",
        documents.IRSA_ANNOTATION: f"arn:aws:iam::{account_id}:role/neural-trader-{env}-{role}",
    }
    (namespace,) = delivery_of_type(cap, NAMESPACE)
    assert namespace.raw_inputs["metadata"]["name"] == ns
    assert (
        namespace.raw_inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]
        == "restricted"
    )
    assert namespace.options["protect"] is (stack == "prod")
    assert role in documents.target_secret(role)


def test_the_vault_store_logs_in_as_vaults_auth_role_expects(k8s: tuple[str, Capture]) -> None:
    stack, cap = k8s
    role, ns, name = WORKLOAD[stack]
    stores = {
        r.raw_inputs["metadata"]["name"]: r.raw_inputs["spec"]["provider"]
        for r in of_type(cap, STORE)
    }
    assert sorted(stores) == sorted([f"aws-{role}", f"vault-{role}", f"gcp-{role}"])
    vault = stores[f"vault-{role}"]["vault"]
    (auth,) = [
        r
        for r in of_type(cap, "vault:kubernetes/authBackendRole:AuthBackendRole")
        if r.raw_inputs["roleName"] == role
    ]
    (backend,) = [
        r
        for r in of_type(cap, "vault:index/authBackend:AuthBackend")
        if r.raw_inputs["type"] == "kubernetes"
    ]
    assert vault["auth"]["kubernetes"] == {
        "mountPath": backend.raw_inputs["path"],
        "role": auth.raw_inputs["roleName"],
        "serviceAccountRef": {"name": name, "audiences": [auth.raw_inputs["audience"]]},
    }
    assert auth.raw_inputs["boundServiceAccountNames"] == [name]
    assert auth.raw_inputs["boundServiceAccountNamespaces"] == [ns]
    (mount,) = [r for r in of_type(cap, "vault:index/mount:Mount") if r.raw_inputs["type"] == "kv"]
    assert vault["path"] == mount.raw_inputs["path"] and vault["version"] == "v2"
    assert vault["server"] == json.loads(kubernetes_config(stack)[NS + "vault"])["address"]
    gcp = stores[f"gcp-{role}"]["gcpsm"]
    assert gcp["auth"] == {"workloadIdentity": {"serviceAccountRef": {"name": name}}}


def test_no_kubernetes_secret_is_declared_by_pulumi(k8s: tuple[str, Capture]) -> None:
    _, cap = k8s
    assert not [r for r in cap.resources if r.type.startswith("kubernetes:core/v1:Secret")]
    for r in kubernetes_objects(cap):
        assert r.secret_paths == [], r.name


def test_the_delivery_adds_no_violation_to_either_plan(k8s: tuple[str, Capture]) -> None:
    """The whole pack judges the plan with and without the delivery: the same findings (other
    stores' are theirs to fix), none about a Kubernetes object."""
    stack, cap = k8s
    base = enable_only(dict(read_stack(ROOT, stack).config), ["aws", "vault", "gcp", "azure"])
    before = {(v.policy, v.message) for v in run(records(plan(base, stack))).violations}
    after = run(records(cap)).violations
    urns = {r.urn for r in kubernetes_objects(cap)}
    assert [
        f"{v.policy}: {v.message}"
        for v in after
        if v.urn in urns or v.policy.startswith("kubernetes-")
    ] == []
    assert {(v.policy, v.message) for v in after} == before


def test_irsa_when_the_aws_role_trusts_the_service_account() -> None:
    config = kubernetes_config("prod")
    aws = json.loads(config[NS + "aws"])
    aws["principals"]["live-trading"] = [
        {
            "provider": "arn:aws:iam::210987654321:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE",
            "subjects": ["system:serviceaccount:live-trading:live-trader"],
        }
    ]
    config[NS + "aws"] = json.dumps(aws)
    cap = plan(config, "prod")
    (account,) = delivery_of_type(cap, SERVICE_ACCOUNT)
    arn = account.raw_inputs["metadata"]["annotations"][documents.IRSA_ANNOTATION]
    assert arn.startswith("arn:aws:iam::210987654321:role/") and "live" in arn
    roles = [
        r
        for r in of_type(cap, "aws:iam/role:Role")
        if r.raw_inputs.get("name") and arn.endswith(r.raw_inputs["name"])
    ]
    assert roles, "the annotation names the role the AWS backend declares"
    stores = {
        r.raw_inputs["metadata"]["name"]: r.raw_inputs["spec"]["provider"]
        for r in of_type(cap, STORE)
    }
    assert stores["aws-live-trading"] == {
        "aws": {
            "service": "SecretsManager",
            "region": "us-east-1",
            "auth": {"jwt": {"serviceAccountRef": {"name": "live-trader"}}},
        }
    }
    (es,) = of_type(cap, EXTERNAL_SECRET)
    from_aws = {
        d["remoteRef"]["key"]
        for d in es.raw_inputs["spec"]["data"]
        if d.get("sourceRef", {}).get("storeRef", {}).get("name") == "aws-live-trading"
    }
    # The secrets whose home is AWS (the databases and Redis), by their Secrets Manager names.
    assert from_aws == {
        "neural-trader/production/postgres/database-url",
        "neural-trader/production/redis/password",
        "neural-trader/production/timescale/url",
    }
    for r in kubernetes_objects(cap):
        assert schema_errors(manifest(r)) == [], r.name


def test_the_backend_says_where_each_secret_lands_and_who_reads_it() -> None:
    """What ``explain`` and the component's exports show: the pod's view of each secret."""
    from infra.backends import registry

    config = kubernetes_config("prod")
    estate = estate_of(config)
    block = parse_settings(config).backend("kubernetes")
    backend = registry()["kubernetes"]
    assert backend.locations(estate, block) == {
        s.name: f"k8s://live-trading/neural-trader-live-trading#{s.name}"
        for s in estate.secrets
        if Action.READ in s.grants.get("live-trading", frozenset())
    }
    assert backend.identities(estate, block) == {
        "live-trading": "system:serviceaccount:live-trading:live-trader"
    }


# ---- settings --------------------------------------------------------------------------------------


def without_irsa(config: dict[str, str]) -> dict[str, str]:
    """``config`` whose AWS roles trust no Kubernetes service account (no OIDC principal)."""
    aws = json.loads(config[NS + "aws"])
    aws["principals"] = {
        role: [p for p in principals if not isinstance(p, dict)]
        for role, principals in aws["principals"].items()
    }
    config[NS + "aws"] = json.dumps(aws)
    return config


def problems(config: dict[str, str]) -> list[tuple[str, str]]:
    """The settings problems of ``config``: the settings' own, or (once they are valid) the
    delivery's against the estate (a secret read from a store it does not name)."""
    with pytest.raises(SettingsError) as info:
        build_estate(default_catalog(), parse_settings(config))
    return info.value.problems


def keys(config: dict[str, str]) -> set[str]:
    return {k for k, _ in problems(config)}


K = NS + "kubernetes"


@pytest.mark.parametrize(
    ("case", "config", "expected"),
    [
        (
            "kubernetes before a store it reads",
            lambda: kubernetes_config(backends=("aws", "kubernetes", "vault", "gcp")),
            {NS + "backends"},
        ),
        (
            "a store that is not enabled",
            lambda: kubernetes_config(backends=("aws", "vault", "kubernetes"), block=None),
            {K + ".stores"},
        ),
        (
            "a source store (each secret is read from its home now)",
            lambda: kubernetes_config(block=with_block(source="aws")),
            {K + ".source"},
        ),
        (
            "a store the workloads read from left out",
            lambda: kubernetes_config(block=with_block(stores=["vault", "gcp"])),
            {K + ".stores"},
        ),
        (
            "no workload",
            lambda: kubernetes_config(block=with_block(workloads={})),
            {K + ".workloads"},
        ),
        ("no store", lambda: kubernetes_config(block=with_block(stores=[])), {K + ".stores"}),
        (
            "unknown store",
            lambda: kubernetes_config(block=with_block(stores=["s3"])),
            {K + ".stores.0"},
        ),
        (
            "duplicate store",
            lambda: kubernetes_config(block=with_block(stores=["vault", "vault"])),
            {K + ".stores"},
        ),
        (
            "bad namespace",
            lambda: kubernetes_config(block=with_block(namespace="Back_Tests")),
            {K + ".namespace"},
        ),
        (
            "bad service account",
            lambda: kubernetes_config(
                block=with_block(workloads={"backtest": {"serviceAccount": "Runner!"}})
            ),
            {K + ".workloads.backtest.serviceAccount"},
        ),
        ("unknown key", lambda: kubernetes_config(block=with_block(replicas=2)), {K + ".replicas"}),
        (
            "refresh of zero",
            lambda: kubernetes_config(block=with_block(refreshMinutes=0)),
            {K + ".refreshMinutes"},
        ),
        (
            "unknown reloader",
            lambda: kubernetes_config(block=with_block(reloader="flux")),
            {K + ".reloader"},
        ),
        (
            "AWS does not trust the service account",
            lambda: without_irsa(kubernetes_config()),
            {K + ".workloads.backtest.serviceAccount"},
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_invalid_settings_name_their_key(case: str, config: Any, expected: set[str]) -> None:
    assert keys(config()) == expected, case


def test_a_service_account_vault_does_not_bind_is_refused_naming_both_keys() -> None:
    ((key, reason),) = [
        p
        for p in problems(kubernetes_config(block=with_block(namespace="research")))
        if "vault" in p[1]
    ]
    assert key == K + ".workloads.backtest.serviceAccount"
    assert NS + "vault.kubernetes.serviceAccounts.backtest" in reason
    assert "research/backtest-runner" in reason and "backtests/backtest-runner" in reason


def test_the_gcp_binding_must_agree_too() -> None:
    reasons = [r for k, r in problems(kubernetes_config(block=with_block(namespace="research")))]
    assert any(NS + "gcp.workloads.backtest.create.kubernetes" in r for r in reasons)


def test_a_credential_pasted_as_a_setting_is_refused_and_never_shown() -> None:
    fake = "AKIAIOSFODNN7EXAMPLE"  # pragma: allowlist secret
    found = problems(kubernetes_config(block=with_block(namespace=fake)))
    found += problems(
        kubernetes_config(block=with_block(workloads={"backtest": {"serviceAccount": fake}}))
    )
    assert {k for k, _ in found} == {K + ".namespace", K + ".workloads.backtest.serviceAccount"}
    assert all(fake not in r and fake.lower() not in r for _, r in found)


def test_bad_settings_register_nothing() -> None:
    cap, exc = capture_failing(
        main,
        stack="dev",
        config=kubernetes_config(backends=("kubernetes", "aws", "vault", "gcp")),
        account_id=ACCOUNTS["dev"],
    )
    assert isinstance(exc, SettingsError)
    assert [r for r in cap.resources if r.type != "pulumi:pulumi:Stack"] == []


def test_the_proposed_blocks_are_the_files_blocks() -> None:
    """The fixture is what the README and docs/kubernetes.md propose: both stacks, last in
    backends."""
    blocks = stack_blocks()
    assert set(blocks) == {"dev", "prod"}
    for stack in blocks:
        assert blocks[stack][NS + "backends"][-1] == "kubernetes"
    assert (
        Path(FIXTURES / "SOURCES.md")
        .read_text(encoding="utf-8")
        .count("cc5bfbc2234ace9cb0caff4ea89c435cf517b27b")  # pragma: allowlist secret
        == 1
    )


# ---- Azure Key Vault as the source (another helper's backend, wired through its exports) --------

#: A production Azure block (access policies: one vault per access partition).
AZURE_PROD: dict[str, Any] = {
    "subscriptionId": "00000000-0000-4000-8000-000000000002",
    "tenantId": "00000000-0000-4000-8000-0000000000aa",
    "location": "eastus",
    "resourceGroup": "rg-neural-trader-prod",
    "vaultPrefix": "ntprod-kv",
    "authorization": "accessPolicies",
    "sku": "premium",
    "softDeleteRetentionDays": 90,
    "groups": {
        "developer": "22222222-2222-4222-8222-000000000001",
        "trader": "22222222-2222-4222-8222-000000000002",
        "admin": "22222222-2222-4222-8222-000000000003",
        "auditor": "22222222-2222-4222-8222-000000000004",
    },
    "workloads": {
        "live-trading": {
            "name": "id-neural-trader-prod-live-trader",
            "kubernetes": {"namespace": "live-trading", "serviceAccount": "live-trader"},
        }
    },
    "kubernetes": {
        "issuer": "https://eastus.oic.prod-aks.azure.com/00000000-0000-4000-8000-0000000000aa/"
        "00000000-0000-4000-8000-0000000000d2/"
    },
    "network": {
        "publicNetworkAccess": False,
        "subnetIds": [
            "/subscriptions/00000000-0000-4000-8000-000000000002/resourceGroups/"
            "rg-neural-trader-prod-network/providers/Microsoft.Network/virtualNetworks/vnet-prod/"
            "subnets/aks"
        ],
    },
    "expiry": {"anchor": "2026-12-01T00:00:00Z"},
    "audit": {"workspace": "log-neural-trader-prod", "retentionDays": 365},
}


def azure_config(**changes: Any) -> dict[str, str]:
    config = kubernetes_config(
        "prod",
        with_block("prod", stores=["azure", "vault"]),
        backends=("aws", "vault", "azure", "kubernetes"),
    )
    # Key Vault is the home of every secret: the delivery reads each from its partition's vault.
    config[NS + "placement"] = json.dumps({"home": "azure"})
    config[NS + "azure"] = json.dumps({**AZURE_PROD, **changes})
    return config


def test_azure_workload_identity_and_one_store_per_key_vault() -> None:
    from infra.backends.azure import documents as azure_documents
    from infra.backends.azure.settings import AzureSettings

    config = azure_config()
    cap = plan(config, "prod")
    estate = estate_of(config)
    block = parse_settings(config).backend("azure")
    assert isinstance(block, AzureSettings)
    where = azure_documents.partition_of(estate, block)
    (account,) = delivery_of_type(cap, SERVICE_ACCOUNT)
    assert documents.AZURE_ANNOTATION in account.raw_inputs["metadata"]["annotations"]
    stores = {
        r.raw_inputs["metadata"]["name"]: r.raw_inputs["spec"]["provider"]
        for r in of_type(cap, STORE)
    }
    (es,) = of_type(cap, EXTERNAL_SECRET)
    spec = es.raw_inputs["spec"]
    used = {where[d["secretKey"]] for d in spec["data"]}
    assert used == {"live"}, "the live trader reads the live partition's vault only"
    assert {n for n in stores if n.startswith("azure-")} == {
        f"azure-{p}-live-trading" for p in used
    }
    for p in used:
        assert stores[f"azure-{p}-live-trading"] == {
            "azurekv": {
                "authType": "WorkloadIdentity",
                "vaultUrl": azure_documents.vault_uri(block, p),
                "serviceAccountRef": {"name": "live-trader"},
            }
        }
    # Each entry reads from the vault that holds it; the default store serves the rest.
    default = spec["secretStoreRef"]["name"]
    for d in spec["data"]:
        store = d.get("sourceRef", {}).get("storeRef", {}).get("name", default)
        assert store == f"azure-{where[d['secretKey']]}-live-trading", d["secretKey"]
        assert d["remoteRef"] == {"key": azure_documents.secret_name(estate.secret(d["secretKey"]))}
    for r in kubernetes_objects(cap):
        assert schema_errors(manifest(r)) == [], r.name


def test_the_azure_federation_must_name_the_same_service_account() -> None:
    workloads = {
        "live-trading": {
            "name": "id-neural-trader-prod-live-trader",
            "kubernetes": {"namespace": "live-trading", "serviceAccount": "someone-else"},
        }
    }
    ((key, reason),) = problems(azure_config(workloads=workloads))
    assert key == K + ".workloads.live-trading.serviceAccount"
    assert NS + "azure.workloads.live-trading.kubernetes" in reason


def test_secrets_in_several_vaults_read_each_from_its_own_store() -> None:
    config = kubernetes_config("prod")
    estate = estate_of(config)
    block = parse_settings(config).backend("kubernetes")
    assert isinstance(block, KubernetesSettings)
    where = {"A_KEY": "admin", "B_KEY": "live", "C_KEY": "live"}
    remotes = {
        name: documents.RemoteSecret("azure", where[name], name.lower().replace("_", "-"))
        for name in where
    }
    es = documents.external_secret(estate, "live-trading", "live-trading", remotes, block)
    spec = es["spec"]
    # The store most entries read is the default; the others name theirs.
    assert spec["secretStoreRef"] == {"kind": "SecretStore", "name": "azure-live-live-trading"}
    assert spec["data"] == [
        {
            "secretKey": "A_KEY",  # pragma: allowlist secret
            "remoteRef": {"key": "a-key"},
            "sourceRef": {"storeRef": {"kind": "SecretStore", "name": "azure-admin-live-trading"}},
        },
        {"secretKey": "B_KEY", "remoteRef": {"key": "b-key"}},  # pragma: allowlist secret
        {"secretKey": "C_KEY", "remoteRef": {"key": "c-key"}},  # pragma: allowlist secret
    ]
    assert schema_errors(es) == []
