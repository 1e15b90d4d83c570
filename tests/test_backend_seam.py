"""The backend seam: a store is one package (here the test-only "testing" backend of
tests/fixtures/backend_testing), with no edit of the catalog, the access model or the neutral
settings; its settings are validated under its own keys, its naming rule is enforced before anything
registers, and the stack policies read it through its extractor."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.access import ROLE_NAMES, ROLES, Action
from infra.backends import Backend, BackendComponent, register, registered, registry
from infra.catalog import CATALOG_PATH, CatalogError, Environment, catalog_at, default_catalog
from infra.program import main
from infra.settings import SettingsError
from infra.stack import build_estate, parse_settings
from nt_secrets.capture import Capture, capture_program
from nt_secrets.plan import records
from nt_secrets.stackfile import read_stack
from policies.contract.vocabulary import TAG_ACCESS_SCOPES, TAG_CATALOG_NAME, TAG_HOME_STORE
from policies.model import ResourceRecord
from policies.runner import run
from policies.stores import register_extractor, unregister_extractor
from tests.plans import plan_config
from tests.stacks import enable_only

from .conftest import ROOT, capture_failing, of_type
from .fixtures import backend_testing as bt
from .fixtures.backend_testing import store as bt_store

NS = "neural-trader-secrets:"
STACK = "pulumi:pulumi:Stack"
AWS_SECRET = "aws:secretsmanager/secret:Secret"  # pragma: allowlist secret
ACCOUNTS = {"dev": "123456789012", "prod": "210987654321"}
ENVIRONMENTS = {"dev": Environment.DEVELOPMENT, "prod": Environment.PRODUCTION}


@pytest.fixture
def testing() -> Iterator[bt.TestingBackend]:
    """The testing backend registered for one test (a fresh instance each time)."""
    with registered(bt.TestingBackend()) as backend:
        assert isinstance(backend, bt.TestingBackend)
        yield backend
    assert "testing" not in registry()


@pytest.fixture
def extractor() -> Iterator[bt_store.TestingExtractor]:
    """The testing store's policy extractor, registered for one test."""
    ext = bt_store.TestingExtractor()
    register_extractor(ext)
    try:
        yield ext
    finally:
        unregister_extractor(ext.backend)


@pytest.fixture
def smaller(tmp_path: Path) -> Path:
    """The project's catalog without JWT_SECRET."""
    data = yaml.safe_load(CATALOG_PATH.read_text(encoding="utf-8"))
    data["entries"] = [e for e in data["entries"] if e["name"] != "JWT_SECRET"]
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


#: The one component holding every secret's value (and the stack's only random materials).
VALUES = "neural-trader:values:SecretValues"


def stack_config(
    stack: str = "dev",
    backends: tuple[str, ...] = ("aws", "testing"),
    testing: dict[str, Any] | None = None,
    catalog_path: Path | None = None,
) -> dict[str, str]:
    """A project stack's config enabling ``backends``; ``testing`` is the testing block (None: no
    block). Without "aws" in ``backends`` the AWS block is dropped. With both AWS and the testing
    store, AWS is the home of every secret and the testing store holds a replica of each (as a
    store added for a consumer that reaches only it would); the testing store alone is home."""
    config = dict(read_stack(ROOT, stack).config)
    enable_only(config, backends)
    if "aws" in backends and "testing" in backends:
        catalog = catalog_at(catalog_path)
        stored = catalog.stored_in(ENVIRONMENTS[stack])
        config[NS + "placement"] = json.dumps(
            {"home": "aws", "replicas": {e.name: ["testing"] for e in stored}}
        )
    elif backends == ("testing",):
        config[NS + "placement"] = json.dumps({"home": "testing"})
    if testing is not None:
        config[NS + "testing"] = json.dumps(testing)
    return config


def plan(config: dict[str, str], stack: str = "dev", catalog_path: Path | None = None) -> Capture:
    return plan_config(config, stack=stack, account_id=ACCOUNTS[stack], catalog_path=catalog_path)


def labels_of(cap: Capture) -> dict[str, dict[str, str]]:
    """catalog name -> labels of the testing store's secret holding it."""
    out: dict[str, dict[str, str]] = {}
    for r in of_type(cap, bt.SECRET_TYPE):
        labels = r.raw_inputs["labels"]
        assert labels[TAG_CATALOG_NAME] not in out, labels[TAG_CATALOG_NAME]
        out[labels[TAG_CATALOG_NAME]] = labels
    return out


# ---- planning with the testing backend -----------------------------------------------------------


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_an_added_backend_plans_beside_aws_with_the_same_secrets(
    stack: str, testing: bt.TestingBackend, dev: Capture, prod: Capture
) -> None:
    env = ENVIRONMENTS[stack]
    config = stack_config(stack, testing={"prefix": "nt"})
    cap = plan(config, stack)
    stored = [e.name for e in default_catalog().stored_in(env)]

    # One testing secret per stored catalog secret, under the component, with the estate's labels
    # and readers.
    secrets = of_type(cap, bt.SECRET_TYPE)
    assert Counter(r.raw_inputs["labels"][TAG_CATALOG_NAME] for r in secrets) == Counter(stored)
    (component,) = of_type(cap, bt.COMPONENT_TYPE)
    assert component.name == "testing" and not component.custom
    assert {r.parent for r in secrets} == {component.urn}
    settings = parse_settings(config)
    estate = build_estate(default_catalog(), settings)
    for r in secrets:
        s = estate.secret(r.raw_inputs["labels"][TAG_CATALOG_NAME])
        assert r.custom and r.name == s.logical_name
        assert r.raw_inputs["name"] == f"nt-{env.value}-{s.entry.kebab_name}"
        # The testing store's view: a replica of AWS's copy, so labelled replica-of aws.
        assert r.raw_inputs["labels"] == estate.held_by("testing").secret(s.name).labels()
        assert r.raw_inputs["labels"]["replica-of"] == "aws"
        assert r.raw_inputs["readers"] == list(s.roles_with(Action.READ))
        assert r.raw_inputs["readers"] == [
            role for role in ROLE_NAMES if Action.READ in ROLES[role].grants(s.entry, env)
        ]

    # The same catalog names and access scopes as the AWS secrets.
    aws = {
        r.raw_inputs["tags"][TAG_CATALOG_NAME]: r.raw_inputs["tags"][TAG_ACCESS_SCOPES]
        for r in of_type(cap, AWS_SECRET)
    }
    ours = {n: labels[TAG_ACCESS_SCOPES] for n, labels in labels_of(cap).items()}
    assert ours == aws and sorted(ours) == sorted(stored)

    # The AWS resources (and the one value of each secret) are those of the same stack without
    # the testing store, unchanged: adding a replica store changes nothing of the home.
    baseline = plan(stack_config(stack, backends=("aws",)), stack)
    assert len(of_type(cap, AWS_SECRET)) == len(of_type(baseline, AWS_SECRET)) == len(stored)
    added = {bt.SECRET_TYPE, bt.COMPONENT_TYPE}
    # (The rotation Lambda alone learns of the replicas: it writes them before promoting.)
    lambda_type = "aws:lambda/function:Function"

    def inputs(capture: Any) -> dict[str, Any]:
        out = {}
        for r in capture.resources:
            if r.type in added:
                continue
            raw = dict(r.raw_inputs)
            if r.type == lambda_type:
                variables = dict(raw["environment"]["variables"])
                variables.pop("NT_ROTATION_REPLICAS", None)
                raw["environment"] = {**raw["environment"], "variables": variables}
            out[r.urn] = raw
        return out

    assert inputs(cap) == inputs(baseline)
    (function,) = [r for r in cap.resources if r.type == lambda_type]
    replicas = json.loads(function.raw_inputs["environment"]["variables"]["NT_ROTATION_REPLICAS"])
    rotated = {s.name for s in estate.held_by("aws").rotated}
    assert len(replicas) == len(rotated) and all(
        [t["store"] for t in targets] == ["testing"] for targets in replicas.values()
    )
    # Each replica carries the home's value: the same random material feeds both copies.
    materials = {r.urn for r in cap.resources if r.type.startswith("random:")}
    for r in secrets:
        s = estate.secret(r.raw_inputs["labels"][TAG_CATALOG_NAME])
        assert r.raw_inputs["labels"][TAG_HOME_STORE] == "aws"
        feeds = set(r.property_dependencies.get("value", [])) & materials
        assert len(feeds) == (1 if s.value_source == "generated" else 0), s.name


def test_adding_the_backend_needed_no_edit_of_the_shared_modules() -> None:
    """The testing backend lives only in tests/: the modules every backend shares never name it."""
    shared = [
        "infra/catalog.py",
        "infra/access.py",
        "infra/settings.py",
        "infra/estate.py",
        "infra/program.py",
        "infra/backends/__init__.py",
        "policies/stack.py",
        "policies/stores/__init__.py",
    ]
    for path in shared:
        text = (ROOT / path).read_text(encoding="utf-8")
        assert "testing" not in text.lower(), path
    assert not (ROOT / "infra" / "backends" / "testing").exists()


def test_the_testing_backend_alone_plans_without_any_aws_resource(
    testing: bt.TestingBackend,
) -> None:
    cap = plan(stack_config(backends=("testing",), testing={}))
    stored = [e.name for e in default_catalog().stored_in(Environment.DEVELOPMENT)]
    assert sorted(labels_of(cap)) == sorted(stored)
    generated = default_catalog().stored_in(Environment.DEVELOPMENT)
    materials = Counter(
        "random:index/randomBytes:RandomBytes"
        if e.generator is not None and e.generator.kind == "hex"
        else "random:index/randomPassword:RandomPassword"
        for e in generated
        if e.generator is not None
    )
    assert Counter(r.type for r in cap.resources) == {
        STACK: 1,
        VALUES: 1,
        **materials,
        bt.COMPONENT_TYPE: 1,
        bt.SECRET_TYPE: len(stored),
    }
    assert not [r for r in cap.resources if "aws" in r.type]


def test_the_component_exports_the_uniform_shape(testing: bt.TestingBackend) -> None:
    config = stack_config(testing={"prefix": "nts"})
    settings = parse_settings(config)
    estate = build_estate(default_catalog(), settings)
    block = settings.backend("testing")
    components: list[Any] = []

    def program() -> None:
        from infra.backends.values import SecretValues

        components.append(
            testing.deploy("testing", estate.held_by("testing"), block, SecretValues("v", estate))
        )

    capture_program(program, stack="dev", project="neural-trader-secrets", config=config)
    (component,) = components
    assert isinstance(component, BackendComponent)
    exports = component.exports
    assert set(exports) == {"secrets", "identities"}
    assert exports["secrets"] == {
        s.name: f"nts-development-{s.entry.kebab_name}" for s in estate.secrets
    }
    assert exports["identities"] == {r: f"nts-development-{r}" for r in estate.roles}
    assert list(exports["secrets"]) == list(estate.names)


# ---- the testing backend's settings and naming rule ---------------------------------------------

SETTINGS_CASES: list[tuple[str, dict[str, Any], set[str], str]] = [
    (
        "maxNameLength not a number",
        {"maxNameLength": "many"},
        {NS + "testing.maxNameLength"},
        "valid integer",
    ),
    (
        "maxNameLength below 1",
        {"maxNameLength": 0},
        {NS + "testing.maxNameLength"},
        "greater than or equal to 1",
    ),
    ("bad prefix", {"prefix": "NT!"}, {NS + "testing.prefix"}, "not a name prefix"),
    ("unknown key", {"colour": "blue"}, {NS + "testing.colour"}, "Extra inputs are not permitted"),
    (
        "two problems at once",
        {"prefix": "", "region": "x"},
        {NS + "testing.prefix", NS + "testing.region"},
        "",
    ),
]


@pytest.mark.parametrize(
    ("case", "block", "keys", "text"), SETTINGS_CASES, ids=[c[0] for c in SETTINGS_CASES]
)
def test_the_backend_block_is_validated_under_its_own_keys(
    case: str, block: dict[str, Any], keys: set[str], text: str, testing: bt.TestingBackend
) -> None:
    config = stack_config(testing=block)
    with pytest.raises(SettingsError) as err:
        parse_settings(config)
    assert {p[0] for p in err.value.problems} == keys, err.value
    assert text in str(err.value)
    cap, exc = capture_failing(main, stack="dev", config=config)
    assert isinstance(exc, SettingsError)
    assert [r.type for r in cap.resources] == [STACK]


def test_a_block_for_the_backend_it_does_not_enable_is_refused(
    testing: bt.TestingBackend,
) -> None:
    with pytest.raises(SettingsError) as err:
        parse_settings(stack_config(backends=("aws",), testing={}))
    assert err.value.problems == [
        (NS + "testing", "settings for backend 'testing', which `backends` does not enable")
    ]


def _names(prefix: str) -> dict[str, str]:
    """Catalog name -> the testing store's name for it in development (computed here, not by the
    backend)."""
    return {
        e.name: f"{prefix}-development-{e.kebab_name}"
        for e in default_catalog().stored_in(Environment.DEVELOPMENT)
    }


LONGEST = max(len(n) for n in _names("nt").values())
NAME_CASES = [
    # (block, limit): the entries whose names exceed the limit are refused
    ({"maxNameLength": LONGEST}, LONGEST, "nt"),
    ({"maxNameLength": LONGEST - 1}, LONGEST - 1, "nt"),
    ({"maxNameLength": 28}, 28, "nt"),
    (
        {"prefix": "neural-trader-secrets-store", "maxNameLength": 48},
        48,
        "neural-trader-secrets-store",
    ),
    ({"maxNameLength": 1}, 1, "nt"),
]


@pytest.mark.parametrize(("block", "limit", "prefix"), NAME_CASES)
def test_the_naming_rule_refuses_entries_before_anything_registers(
    block: dict[str, Any], limit: int, prefix: str, testing: bt.TestingBackend
) -> None:
    too_long = {n: name for n, name in _names(prefix).items() if len(name) > limit}
    config = stack_config(testing=block)
    if not too_long:
        assert of_type(plan(config), bt.SECRET_TYPE)
        return
    cap, exc = capture_failing(main, stack="dev", config=config)
    assert isinstance(exc, CatalogError), exc
    assert [r.type for r in cap.resources] == [STACK]
    assert {p[0] for p in exc.problems} == set(too_long)
    for entry, rule, message in exc.problems:
        assert rule == "backend-name"
        assert message.startswith("testing: ") and repr(too_long[entry]) in message
        assert f"longer than {limit}" in message


def test_the_cases_exercise_both_outcomes() -> None:
    """The naming table has a limit every entry fits and limits some (and all) entries exceed."""
    counts = {
        limit: sum(len(n) > limit for n in _names(prefix).values())
        for _, limit, prefix in NAME_CASES
    }
    total = len(_names("nt"))
    assert counts[LONGEST] == 0 and 0 < counts[LONGEST - 1] < total and counts[1] == total


# ---- enabling backends that are not there ----------------------------------------------------------


@pytest.mark.parametrize(
    ("backend", "reason"),
    [
        ("testing", "unknown backend 'testing' (available: aws, azure, gcp, kubernetes, vault)"),
        ("aws2", "unknown backend 'aws2' (available: aws, azure, gcp, kubernetes, vault)"),
    ],
)
def test_enabling_a_backend_that_is_not_registered_is_refused(backend: str, reason: str) -> None:
    assert "testing" not in registry()
    config = stack_config(backends=("aws", backend))
    with pytest.raises(SettingsError) as err:
        parse_settings(config)
    assert (NS + "backends", reason) in err.value.problems, err.value
    cap, exc = capture_failing(main, stack="dev", config=config)
    assert isinstance(exc, SettingsError)
    assert [r.type for r in cap.resources] == [STACK]


def test_the_testing_block_without_the_backend_is_an_unknown_setting() -> None:
    config = stack_config(testing={})
    with pytest.raises(SettingsError) as err:
        parse_settings(config)
    assert {p[0] for p in err.value.problems} == {NS + "backends", NS + "testing"}
    assert (NS + "testing", "unknown setting") in err.value.problems


# ---- the stack policies read the testing store ----------------------------------------------------


def stack_violations(recs: list[ResourceRecord], config: dict[str, Any] | None = None) -> list[str]:
    return sorted(
        f"{v.policy}: {v.message}"
        for v in run(recs, config=config).violations
        if v.policy.startswith("nt-stack-")
    )


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_stack_policies_pass_a_plan_with_the_testing_store(
    stack: str, testing: bt.TestingBackend, extractor: bt_store.TestingExtractor
) -> None:
    recs = records(plan(stack_config(stack, testing={}), stack))
    assert stack_violations(recs) == []
    # ...and they did read it: the extractor finds every testing secret with its readers.
    from policies.stack import _access
    from policies.stores import stored_secrets as _stored

    resources = _policy_view(recs)
    ours = [s for s in _stored(resources) if s.backend == "testing"]
    assert len(ours) == len(default_catalog().stored_in(ENVIRONMENTS[stack]))
    readable = {u for urns in _access(resources, ours).reads.values() for u in urns}
    assert {s.urn for s in ours} <= readable


def _policy_view(recs: list[ResourceRecord]) -> list[Any]:
    from policies.framework import resources_of

    return list(resources_of(recs))


def test_coverage_reports_a_missing_secret_in_every_store(
    smaller: Path, testing: bt.TestingBackend, extractor: bt_store.TestingExtractor
) -> None:
    """Planned with a catalog that lacks JWT_SECRET, judged against the full catalog."""
    recs = records(plan(stack_config(testing={}, catalog_path=smaller), catalog_path=smaller))
    assert "JWT_SECRET" not in {
        r.props["labels"][TAG_CATALOG_NAME] for r in recs if r.type == bt.SECRET_TYPE
    }

    # Judged with the catalog it was planned with: nothing missing.
    planned_with = {"nt-stack-catalog-coverage": {"catalogPath": str(smaller)}}
    assert stack_violations(recs, planned_with) == []
    full = {"nt-stack-catalog-coverage": {"catalogPath": str(CATALOG_PATH)}}
    assert stack_violations(recs, full) == [
        "nt-stack-catalog-coverage: JWT_SECRET: no store holds it for development "
        "(stores: aws, testing)",
    ]


def test_coverage_judges_a_stack_whose_only_store_is_the_testing_one(
    smaller: Path, testing: bt.TestingBackend, extractor: bt_store.TestingExtractor
) -> None:
    """The environment comes from the estate's own labels: a store that writes exactly
    ``labels()`` (no environment tag of its own) is judged too."""
    config = stack_config(backends=("testing",), testing={})
    recs = records(plan(config, catalog_path=smaller))
    full = {"nt-stack-catalog-coverage": {"catalogPath": str(CATALOG_PATH)}}
    assert stack_violations(recs, full) == [
        "nt-stack-catalog-coverage: JWT_SECRET: no store holds it for development "
        "(stores: testing)",
    ]


def test_coverage_does_not_see_the_testing_store_without_its_extractor(
    smaller: Path, testing: bt.TestingBackend
) -> None:
    """Control for the test above: the testing violation comes from the extractor."""
    recs = records(plan(stack_config(testing={}, catalog_path=smaller), catalog_path=smaller))
    full = {"nt-stack-catalog-coverage": {"catalogPath": str(CATALOG_PATH)}}
    assert stack_violations(recs, full) == [
        "nt-stack-catalog-coverage: JWT_SECRET: no store holds it for development (stores: aws)",
    ]


SEPARATION_CASES = [
    # (stack, catalog name, reader added to the testing secret, expected message start)
    ("prod", "ALPACA_API_KEY", "developer", "role testing-developer is paper/test-only"),
    ("prod", "ALPACA_API_KEY", "auditor", "role testing-auditor may read secret values"),
    ("dev", "ALPACA_API_KEY", "auditor", "role testing-auditor may read secret values"),
]


@pytest.mark.parametrize(("stack", "name", "reader", "message"), SEPARATION_CASES)
def test_separation_judges_the_testing_stores_readers(
    stack: str,
    name: str,
    reader: str,
    message: str,
    testing: bt.TestingBackend,
    extractor: bt_store.TestingExtractor,
) -> None:
    recs = records(plan(stack_config(stack, testing={}), stack))
    assert stack_violations(recs) == []
    (i,) = (
        i
        for i, r in enumerate(recs)
        if r.type == bt.SECRET_TYPE and r.props["labels"][TAG_CATALOG_NAME] == name
    )
    assert reader not in recs[i].props["readers"]
    props = {**recs[i].props, "readers": [*recs[i].props["readers"], reader]}
    recs[i] = dataclasses.replace(recs[i], props=props)
    (violation,) = stack_violations(recs)
    assert violation.startswith(f"nt-stack-paper-live-separation: {message}"), violation


# ---- the registry ----------------------------------------------------------------------------------


class _NoDeploy:
    """Has the data members of a backend but none of its methods."""

    name = "no-deploy"
    title = "Not a backend"
    settings_model = bt.TestingSettings


@pytest.mark.parametrize("thing", [object(), _NoDeploy(), "testing"])
def test_registering_a_non_conforming_object_is_refused(thing: object) -> None:
    with pytest.raises(TypeError, match="does not implement the Backend protocol"):
        register(thing)  # type: ignore[arg-type]
    assert "no-deploy" not in registry() and not isinstance(thing, Backend)


def test_registering_a_name_twice_is_refused() -> None:
    first, second = bt.TestingBackend(), bt.TestingBackend()
    with registered(first):
        assert register(first) is first  # the same object again is harmless
        with pytest.raises(ValueError, match="'testing' is registered twice"):
            register(second)
        assert registry()["testing"] is first
    assert "testing" not in registry()


def test_the_registry_discovers_the_aws_package_by_itself() -> None:
    """In a fresh interpreter, asking the registry is enough: nobody imports the AWS package."""
    code = (
        "import sys, infra.backends as b\n"
        "assert 'infra.backends.aws' not in sys.modules\n"
        "r = b.registry()\n"
        "from infra.backends.aws import AwsBackend\n"
        "assert isinstance(r['aws'], AwsBackend) and r['aws'].name == 'aws'\n"
        "print(sorted(r))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "['aws', 'azure', 'gcp', 'kubernetes', 'vault']"


def test_every_store_kubernetes_reads_says_which_service_accounts_it_lets_in() -> None:
    """The Kubernetes delivery asks each source store, through the KubernetesReadable seam,
    whether it lets a workload's service account in, where it is reached and what it calls each
    secret; no module of the delivery imports a store's package."""
    from infra.backends import KubernetesReadable
    from infra.backends.kubernetes.settings import STORES

    for name in STORES:
        assert isinstance(registry()[name], KubernetesReadable), name
    for module in sorted((ROOT / "infra/backends/kubernetes").glob("*.py")):
        source = module.read_text()
        for name in STORES:
            assert f"infra.backends.{name}" not in source, (module.name, name)
