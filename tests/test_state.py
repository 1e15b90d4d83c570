"""Table-driven tests of nt_secrets.state: the real public state files vendored in
tests/fixtures/reference, the export and checkpoint forms, every supported version, planted
plaintext credentials found by path, and bad inputs.

Every credential-looking literal is an obviously fake value of the real shape and carries
``pragma: allowlist secret``.
"""

from __future__ import annotations

import base64
import copy
import io
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from nt_secrets import state as state_module
from nt_secrets.cli import main as cli_main
from nt_secrets.state import (
    CIPHERTEXT,
    PLAINTEXT_POLICY_ID,
    PLAINTEXT_SECRET,
    StackState,
    StateError,
    load_records,
    parse_state,
    plaintext_findings,
    read_state,
)
from policies.model import Category, Enforcement, ResourceRecord, Severity
from tests.conftest import REAL_STACKS, reference_file

TESTDATA = REAL_STACKS / "pulumi-testdata-checkpoint-secrets.json"
GKE = REAL_STACKS / "gcp-gke-dev-checkpoint.json"
AZURE = REAL_STACKS / "azure-rmq-dev-checkpoint.json"
SIG = "4dabf18193072939515e22adb298388d"  # pragma: allowlist secret
SECRET = "1b47061264138c4ac30d75fd1eb44270"  # pragma: allowlist secret


def real(path: Path) -> Path:
    return reference_file(path)


def secret_paths(state: StackState) -> dict[str, tuple[str, ...]]:
    return {f"{r.type}::{r.name}": r.secret_paths for r in state.resources if r.secret_paths}


def findings_by_name(state: StackState) -> set[tuple[str, str]]:
    """(resource name, path) of every finding."""
    out = set()
    for v in plaintext_findings(state.records()):
        assert v.urn is not None
        out.add((v.urn.split("::")[-1], v.message.split(": ", 1)[0]))
    return out


def walk_strings(value: Any, path: str = "") -> dict[str, str]:
    """path -> string value of a raw JSON tree, paths as the reader writes them."""
    out: dict[str, str] = {}
    if isinstance(value, dict):
        for k, v in value.items():
            out.update(walk_strings(v, state_module._join(path, k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.update(walk_strings(v, f"{path}[{i}]"))
    elif isinstance(value, str):
        out[path] = value
    return out


# --------------------------------------------------------------------------- the real files

AZURE_FINDINGS = {
    ("vm-service", "adminPassword"),
    ("vm-service", "outputs.adminPassword"),
    ("aci-rmq", "containers[0].environmentVariables.RABBITMQ_ERLANG_COOKIE"),
    ("aci-rmq", "outputs.containers[0].environmentVariables.RABBITMQ_ERLANG_COOKIE"),
    *(("aci-rmq", f"containers[0].volumes[{i}].storageAccountKey") for i in range(3)),
    *(("aci-rmq", f"outputs.containers[0].volumes[{i}].storageAccountKey") for i in range(3)),
    ("sarmqsa", "outputs.primaryAccessKey"),
    ("sarmqsa", "outputs.secondaryAccessKey"),
    ("sarmqsa", "outputs.primaryConnectionString"),
    ("sarmqsa", "outputs.secondaryConnectionString"),
    ("sarmqsa", "outputs.primaryBlobConnectionString"),
}

# file, stack, secrets provider, resources, custom, types, secret paths by name, findings
REAL_CASES: list[tuple[Path, str | None, str, int, int, int, dict[str, tuple[str, ...]], set[Any]]] = [
    (
        TESTDATA, None, "b64", 30, 23, 14,
        {
            "aws:iam/role:Role::countDown_watcher-iamrole": ("assumeRolePolicy", "outputs.assumeRolePolicy", "outputs.uniqueId"),
            "cloud:timer:Timer::heartbeat": ("scheduleExpression",),
            "aws:lambda/permission:Permission::countDown_watcher": ("action", "function", "sourceArn", "outputs.action"),
        },
        set(),
    ),
    (
        GKE, "dev", "passphrase", 4, 3, 4,
        {
            "pulumi:pulumi:Stack::gcp-dev": ("outputs.kubeconfig",),
            "gcp:container/cluster:Cluster::helloworld": ("masterAuth.clientKey", "masterAuth.password", "outputs.masterAuth.clientKey", "outputs.masterAuth.password"),
            "pulumi:providers:kubernetes::helloworld": ("kubeconfig", "outputs.kubeconfig"),
        },
        set(),
    ),
    (AZURE, "dev", "passphrase", 26, 25, 18, {}, AZURE_FINDINGS),
]  # fmt: skip


@pytest.mark.parametrize(
    ("path", "stack", "provider", "n", "custom", "n_types", "secrets", "findings"),
    REAL_CASES,
    ids=[c[0].stem for c in REAL_CASES],
)
def test_real_state_files(
    path: Path,
    stack: str | None,
    provider: str,
    n: int,
    custom: int,
    n_types: int,
    secrets: dict[str, tuple[str, ...]],
    findings: set[Any],
) -> None:
    s = read_state(real(path))
    assert (s.form, s.version, s.stack, s.secrets_provider) == ("checkpoint", 3, stack, provider)
    assert len(s.resources) == n and s.pending_operations == ()
    assert sum(r.custom for r in s.resources) == custom
    assert len({r.type for r in s.resources}) == n_types
    assert all(r.source == "state" for r in s.resources)
    got = secret_paths(s)
    for name, paths in secrets.items():
        assert got[name] == paths
    assert findings_by_name(s) == findings


def test_real_file_details() -> None:
    gke = read_state(real(GKE))
    types = Counter(r.type for r in gke.resources)
    assert types == {
        "pulumi:pulumi:Stack": 1,
        "pulumi:providers:gcp": 1,
        "pulumi:providers:kubernetes": 1,
        "gcp:container/cluster:Cluster": 1,
    }
    cluster = next(r for r in gke.resources if r.type == "gcp:container/cluster:Cluster")
    assert cluster.name == "helloworld" and cluster.parent is not None
    assert cluster.provider is not None and cluster.provider.startswith("urn:pulumi:dev::gcp::")
    assert cluster.props["masterAuth"]["password"] == CIPHERTEXT
    kube = next(r for r in gke.resources if r.type == "pulumi:providers:kubernetes")
    assert kube.props["kubeconfig"] == CIPHERTEXT
    assert kube.outputs is not None and kube.outputs["kubeconfig"] == CIPHERTEXT

    azure = read_state(real(AZURE))
    types = Counter(r.type for r in azure.resources)
    assert (
        types["azure:storage/share:Share"] == 3
        and types["azure:core/resourceGroup:ResourceGroup"] == 3
    )
    assert sum(r.provider is not None for r in azure.resources) == 24
    assert sum(len(r.dependencies) for r in azure.resources) == 45
    assert any(r.property_dependencies for r in azure.resources)

    countdown = read_state(real(TESTDATA))
    # 2017-style URNs: the type segment has no parent types; the name is the last segment
    topic = next(r for r in countdown.resources if r.type == "cloud:topic:Topic")
    assert topic.urn == "urn:pulumi:foo::countdown::cloud:topic:Topic::countDown"
    assert topic.name == "countDown" and not topic.custom
    assert sum(len(r.secret_paths) for r in countdown.resources) == 10


@pytest.mark.parametrize("path", [TESTDATA, GKE, AZURE], ids=lambda p: p.stem)
def test_no_envelope_or_ciphertext_survives(path: Path) -> None:
    """Every secret envelope is replaced by the placeholder, one per secret path."""
    raw = path.read_text() if path.is_file() else ""
    s = read_state(real(path))
    for r in s.resources:
        text = json.dumps([r.props, r.outputs])
        assert SECRET not in text  # no secret envelope left (assets keep their own signature)
        assert text.count(json.dumps(CIPHERTEXT)) == len(r.secret_paths)
    # the ciphertexts themselves are nowhere in the records
    ciphertexts = [v for p, v in walk_strings(json.loads(raw)).items() if p.endswith(".ciphertext")]
    assert len(ciphertexts) == sum(len(r.secret_paths) for r in s.resources)
    everything = json.dumps([[r.props, r.outputs] for r in s.resources])
    assert not [c for c in ciphertexts if c in everything]


def test_azure_findings_never_contain_the_values() -> None:
    doc = json.loads(real(AZURE).read_text())
    raw = {}
    for r in doc["checkpoint"]["latest"]["resources"]:
        name = r["urn"].split("::")[-1]
        for path, value in walk_strings(r.get("inputs") or {}).items():
            raw[(name, path)] = value
        for path, value in walk_strings(r.get("outputs") or {}, "outputs").items():
            raw[(name, path)] = value
    flagged = {raw[key] for key in AZURE_FINDINGS}
    assert len(flagged) >= 5  # keys, connection strings, password, cookie
    violations = plaintext_findings(read_state(AZURE).records())
    for v in violations:
        assert (v.policy, v.severity, v.enforcement, v.category) == (
            PLAINTEXT_POLICY_ID,
            Severity.CRITICAL,
            Enforcement.MANDATORY,
            Category.PLAINTEXT,
        )
        assert all(secret not in v.message for secret in flagged)
        assert "hint: " in v.message


# --------------------------------------------------------------------------- forms and versions


def as_export(checkpoint: dict[str, Any]) -> dict[str, Any]:
    return {"version": checkpoint["version"], "deployment": checkpoint["checkpoint"]["latest"]}


@pytest.mark.parametrize("path", [TESTDATA, GKE, AZURE], ids=lambda p: p.stem)
def test_export_and_checkpoint_give_the_same_records(path: Path, tmp_path: Path) -> None:
    doc = json.loads(real(path).read_text())
    exported = tmp_path / "export.json"
    exported.write_text(json.dumps(as_export(doc), indent=4))
    a, b = read_state(path), read_state(exported)
    assert (a.form, b.form) == ("checkpoint", "export")
    assert a.records() == b.records()
    assert plaintext_findings(a.records()) == plaintext_findings(b.records())
    # unversioned (pre-2018) checkpoints: the CheckpointV1 shape at the top level
    v1 = parse_state(doc["checkpoint"] | {"latest": doc["checkpoint"]["latest"]})
    assert v1.version == 1 and v1.records() == a.records()


def resource(
    name: str, type_: str = "aws:secretsmanager/secret:Secret", **fields: Any
) -> dict[str, Any]:
    return {
        "urn": f"urn:pulumi:prod::neural-trader-secrets::{type_}::{name}",
        "type": type_,
        "custom": True,
        **fields,
    }


def cipher(value: str) -> dict[str, str]:
    return {SIG: SECRET, "ciphertext": base64.b64encode(json.dumps(value).encode()).decode()}


def plain(value: str) -> dict[str, str]:
    return {SIG: SECRET, "plaintext": json.dumps(value)}


FAKE_AWS_KEY = "AKIAIOSFODNN7EXAMPLE"  # pragma: allowlist secret
FAKE_PASSWORD = "FAKEr3disP4ss-planted"  # pragma: allowlist secret
FAKE_ANTHROPIC = "sk-ant-api03-FAKEa1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8s9T0u1v2W3x4Y5z6-FAKEAA"  # pragma: allowlist secret
FAKE_SHOWN = "FAKE-shown-secret-value-42"  # pragma: allowlist secret

PLANTED = {
    "version": 3,
    "deployment": {
        "manifest": {"time": "2026-01-01T00:00:00Z", "magic": "", "version": "v3.200.0"},
        "secrets_providers": {"type": "awskms", "state": {"url": "awskms://alias/x"}},
        "resources": [
            resource(
                "jwt-secret",
                inputs={"name": "neural-trader/prod/auth/jwt", "tags": {"owner": cipher("team")}},
                outputs={"arn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:jwt-AbCdEf"},
                protect=True,
                additionalSecretOutputs=["secretString"],
                dependencies=["urn:pulumi:prod::neural-trader-secrets::aws:kms/key:Key::k"],
                propertyDependencies={"kmsKeyId": ["urn:pulumi:prod::neural-trader-secrets::aws:kms/key:Key::k"]},
                retainOnDelete=True,
                provider="urn:pulumi:prod::neural-trader-secrets::pulumi:providers:aws::default::id",
            ),
            resource(
                "jwt-secret-v",
                "aws:secretsmanager/secretVersion:SecretVersion",
                inputs={"secretString": cipher(FAKE_PASSWORD)},
                outputs={"secretString": plain(FAKE_SHOWN), "versionStages": ["AWSCURRENT"]},
            ),
            resource(
                "legacy-user",
                "aws:iam/accessKey:AccessKey",
                inputs={"user": "ci"},
                outputs={"id": FAKE_AWS_KEY, "nested": {"env": [{"DB_PASSWORD": FAKE_PASSWORD}]}},
            ),
            resource(
                "fn",
                "aws:lambda/function:Function",
                inputs={"environment": {"variables": {"ANTHROPIC_API_KEY": FAKE_ANTHROPIC, "LOG_LEVEL": "info"}}},
            ),
        ],
        "pending_operations": [
            {
                "type": "creating",
                "resource": resource("pending", inputs={"config": json.dumps({"apiToken": FAKE_PASSWORD})}),
            }
        ],
    },
}  # fmt: skip

PLANTED_FINDINGS = {
    ("jwt-secret-v", "outputs.secretString"),  # a plaintext envelope
    ("legacy-user", "outputs.id"),  # an AWS access key id
    ("legacy-user", "outputs.nested.env[0].DB_PASSWORD"),
    ("fn", "environment.variables.ANTHROPIC_API_KEY"),
    ("pending", "config.apiToken"),  # JSON in a string, in a pending operation
}


def test_planted_problems_are_found_by_path(tmp_path: Path) -> None:
    path = tmp_path / "stack.json"
    path.write_text(json.dumps(PLANTED))
    s = read_state(path)
    assert (s.form, s.version, s.stack, s.secrets_provider) == ("export", 3, None, "awskms")
    assert [op.type for op in s.pending_operations] == ["creating"]
    assert findings_by_name(s) == PLANTED_FINDINGS
    text = json.dumps([v.to_json() for v in plaintext_findings(s.records())])
    for value in (FAKE_AWS_KEY, FAKE_PASSWORD, FAKE_ANTHROPIC, FAKE_SHOWN):
        assert value not in text
        assert all(value not in json.dumps([r.props, r.outputs]) for r in s.records()[:2])
    envelope = next(v for v in plaintext_findings(s.records()) if "envelope" in v.message)
    assert envelope.message.startswith("outputs.secretString: secret stored as a plaintext")


def test_record_fields(tmp_path: Path) -> None:
    records = {r.name: r for r in parse_state(PLANTED).records()}
    jwt = records["jwt-secret"]
    assert jwt == ResourceRecord(
        urn="urn:pulumi:prod::neural-trader-secrets::aws:secretsmanager/secret:Secret::jwt-secret",
        type="aws:secretsmanager/secret:Secret",
        name="jwt-secret",
        props={"name": "neural-trader/prod/auth/jwt", "tags": {"owner": CIPHERTEXT}},
        custom=True,
        secret_paths=("tags.owner",),
        protect=True,
        retain_on_delete=True,
        additional_secret_outputs=("secretString",),
        provider="urn:pulumi:prod::neural-trader-secrets::pulumi:providers:aws::default::id",
        parent=None,
        dependencies=("urn:pulumi:prod::neural-trader-secrets::aws:kms/key:Key::k",),
        property_dependencies={
            "kmsKeyId": ("urn:pulumi:prod::neural-trader-secrets::aws:kms/key:Key::k",)
        },
        outputs={"arn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:jwt-AbCdEf"},
        source="state",
    )
    version = records["jwt-secret-v"]
    assert version.secret_paths == ("secretString", "outputs.secretString")
    assert version.props == {"secretString": CIPHERTEXT}
    assert version.outputs == {"secretString": PLAINTEXT_SECRET, "versionStages": ["AWSCURRENT"]}


def test_property_paths_quote_awkward_keys() -> None:
    doc = {"version": 3, "deployment": {"resources": [resource("t", inputs={"tags": {"a.b": cipher("x"), "": cipher("y")}, "list": [[cipher("z")]]})]}}  # fmt: skip
    (r,) = parse_state(doc).resources
    assert r.secret_paths == ('tags["a.b"]', 'tags[""]', "list[0][0]")


def test_versions_1_and_2(tmp_path: Path) -> None:
    v1 = {
        "version": 1,
        "checkpoint": {
            "stack": "dev",
            "latest": {
                "manifest": {"time": "2017-09-01T00:00:00Z", "magic": "", "version": ""},
                "resources": [
                    resource("db", "aws:rds/instance:Instance", defaults={"port": 5432, "password": FAKE_PASSWORD}, inputs={"port": 5433}),
                ],
            },
        },
    }  # fmt: skip
    s = parse_state(v1, source="v1.json")
    (db,) = s.resources
    assert s.version == 1 and db.props == {"port": 5433, "password": FAKE_PASSWORD}
    assert findings_by_name(s) == {("db", "password")}
    # version 1 has no pending operations: the key is ignored, as Pulumi ignores it
    v1["checkpoint"]["latest"]["pending_operations"] = [
        {"type": "creating", "resource": resource("x")}
    ]
    assert parse_state(v1).pending_operations == ()

    v2 = as_export(v1) | {"version": 2}
    v2["deployment"] = copy.deepcopy(v2["deployment"]) | {
        "pending_operations": [{"type": "deleting", "resource": resource("x")}]
    }
    s2 = parse_state(v2)
    assert s2.version == 2 and [op.type for op in s2.pending_operations] == ["deleting"]


def test_never_deployed_checkpoint_and_empty_deployment() -> None:
    s = parse_state({"version": 3, "checkpoint": {"stack": "dev"}})
    assert (s.stack, s.resources, s.records()) == ("dev", (), [])
    assert parse_state({"version": 3, "deployment": {"manifest": {}}}).resources == ()


V4 = Path(__file__).parent / "fixtures" / "state"
#: the credential the v4 fixtures hold inside a byte string (base64 of non-UTF-8 bytes)
FAKE_IN_BYTES = (
    "sk-ant-api03-FAKEv4byteString7Qm3xW9pL2vN8rT4bK6dH1jF5sY0gC"  # pragma: allowlist secret
)


@pytest.mark.parametrize(
    ("name", "form", "stack"),
    [
        ("pulumi-v4-export.json", "export", None),
        ("pulumi-v4-checkpoint.json", "checkpoint", "organization/neural-trader-secrets/dev"),
    ],
)
def test_version_4(name: str, form: str, stack: str | None) -> None:
    """What current Pulumi writes once a stack uses a feature (refreshBeforeUpdate, views, hooks,
    taint, replaceWith, byte strings...): version 4 with a `features` list, the v3 body."""
    s = read_state(V4 / name)
    assert (s.form, s.version, s.stack, s.secrets_provider) == (form, 4, stack, "passphrase")
    assert s.features == (
        "byteString",
        "hooks",
        "refreshBeforeUpdate",
        "replaceWith",
        "taint",
        "views",
    )
    assert [op.type for op in s.pending_operations] == ["creating"]
    records = {r.name: r for r in s.records()}
    assert set(records) == {
        "neural-trader-secrets-dev", "default_7_51_1", "jwt-secret", "jwt-secret-value",
        "jwt-secret-view", "legacy-rotator", "rotation",
    }  # fmt: skip
    assert records["jwt-secret-value"].secret_paths == ("secretString", "outputs.secretString")
    # the byte string is decoded so that the scan reads its text: the credential in it is found
    banner = records["legacy-rotator"].props["environment"]["variables"]["BANNER"]
    assert isinstance(banner, str) and FAKE_IN_BYTES in banner and "\ufffd" in banner
    assert findings_by_name(s) == {("legacy-rotator", "environment.variables.BANNER")}
    assert read_state(V4 / "pulumi-v4-export.json").records() == s.records()


@pytest.mark.parametrize("fmt", ["text", "json", "markdown", "sarif"])
def test_version_4_checked_by_the_cli(fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        cli_main(["check", "--state", str(V4 / "pulumi-v4-checkpoint.json"), "--format", fmt]) == 1
    )
    out, err = capsys.readouterr()
    assert "environment.variables.BANNER" in out and FAKE_IN_BYTES not in out + err


def test_output_values_are_unwrapped() -> None:
    """Output values (`{sig: d0e6a833..., value, secret}`): the element is judged, a secret one
    stored with its value in clear is a plaintext secret."""
    out = "d0e6a833031e9bbcd3f4e8bde6ca49a4"  # pragma: allowlist secret
    doc = {"version": 4, "features": [], "deployment": {"resources": [resource("c", "x:index:Component", outputs={
        "url": {SIG: out, "value": "https://example.com"},
        "token": {SIG: out, "value": FAKE_PASSWORD, "secret": True},
        "sealed": {SIG: out, "value": cipher("x"), "secret": True},
        "later": {SIG: out, "secret": True},
    })]}}  # fmt: skip
    (r,) = parse_state(doc).resources
    assert r.outputs == {
        "url": "https://example.com", "token": PLAINTEXT_SECRET, "sealed": CIPHERTEXT, "later": "[secret]",
    }  # fmt: skip
    assert set(r.secret_paths) == {"outputs.token", "outputs.sealed", "outputs.later"}
    assert findings_by_name(parse_state(doc)) == {("c", "outputs.token")}


def test_streams(tmp_path: Path) -> None:
    payload = json.dumps(PLANTED).encode()
    from_bytes = read_state(io.BytesIO(payload), name="<stdin>")
    from_text = read_state(io.StringIO(payload.decode()), name="pipe")
    assert from_bytes.source == "<stdin>" and from_text.source == "pipe"
    assert from_bytes.records() == from_text.records() == parse_state(PLANTED).records()
    path = tmp_path / "s.json"
    path.write_bytes(payload)
    assert load_records(path) == parse_state(PLANTED).records()


# --------------------------------------------------------------------------- bad input

# name, file content (None: no file; "<dir>": a directory), expected message after "<file>: "
BAD: list[tuple[str, bytes | str | None, str]] = [
    ("missing", None, "no such file"),
    ("directory", "<dir>", "is a directory, not a state file"),
    ("empty", b"", "not JSON (the input is empty)"),
    ("not-json", b"version: 3\n", "not JSON (Expecting value at line 1, column 1)"),
    ("truncated", b'{"version": 3, "deployment": {', "not JSON (Expecting property name enclosed in double quotes at line 1, column 31)"),
    ("not-utf8", b'{"version": 3, "deployment": {"x": "\xff\xfe"}}', "not JSON (not UTF-8 text)"),
    ("list", b"[]", "not a Pulumi state: expected `pulumi stack export` output"),
    ("other-json", b'{"name": "neural-trader-secrets", "runtime": "python"}', "not a Pulumi state: expected `pulumi stack export` output ({'version': 3, 'deployment': {...}}) or a state checkpoint ({'version': 3, 'checkpoint': {'stack': ..., 'latest': {...}}}); found keys 'name', 'runtime'"),
    ("version-5", b'{"version": 5, "deployment": {}}', "unsupported state version 5: this reader knows versions 1-4"),
    ("version-0", b'{"version": 0, "checkpoint": {}}', "unsupported state version 0: this reader knows versions 1-4"),
    ("version-huge", b'{"version": 100000000000000000000, "checkpoint": {}}', "unsupported state version <integer, 21 digits>: this reader knows versions 1-4"),
    ("version-5000-digits", b'{"version": ' + b"9" * 5000 + b', "checkpoint": {}}', "not a Pulumi state (a number of 5000 digits; at most 4300 are read)"),
    ("number-5000-digits", b'{"version": 3, "deployment": {"resources": [{"urn": "urn:pulumi:a::b::t::n", "type": "t", "inputs": {"n": -' + b"1" * 5000 + b'}}]}}', "not a Pulumi state (a number of 5000 digits; at most 4300 are read)"),
    ("version-string", b'{"version": "3", "deployment": {}}', "'version' must be an integer (1-4), found a string"),
    ("version-missing", b'{"deployment": {}}', "'version' must be an integer (1-4), found null"),
    ("v4-unknown-feature", b'{"version": 4, "features": ["refreshBeforeUpdate", "timeTravel"], "deployment": {}}', "the state uses features this reader does not know: timeTravel (it knows byteString, extensionParameterization, hooks, refreshBeforeUpdate, replaceWith, snippets-prototype, taint, views); values may be written in a form it would not scan"),
    ("v4-features-string", b'{"version": 4, "features": "views", "checkpoint": {}}', "'features' must be a list of names, found a string"),
    ("deployment-list", b'{"version": 3, "deployment": []}', "'deployment' must be an object, found a list"),
    ("latest-string", b'{"version": 3, "checkpoint": {"latest": "x"}}', "'checkpoint.latest' must be an object, found a string"),
    ("resources-object", b'{"version": 3, "deployment": {"resources": {}}}', "'deployment.resources' must be a list, found an object"),
    ("resource-string", b'{"version": 3, "deployment": {"resources": ["x"]}}', "'deployment.resources[0]' must be an object, found a string"),
    ("no-urn", b'{"version": 3, "deployment": {"resources": [{"type": "t"}]}}', "'deployment.resources[0].urn' must be a non-empty string"),
    ("no-type", b'{"version": 3, "deployment": {"resources": [{"urn": "urn:pulumi:a::b::t::n"}]}}', "'deployment.resources[0].type' must be a non-empty string"),
    ("bad-urn", b'{"version": 3, "deployment": {"resources": [{"urn": "arn:aws:x", "type": "t"}]}}', "'deployment.resources[0].urn' is not a Pulumi URN"),
    ("inputs-list", b'{"version": 3, "deployment": {"resources": [{"urn": "urn:pulumi:a::b::t::n", "type": "t", "inputs": []}]}}', "'deployment.resources[0].inputs' must be an object, found a list"),
    ("deps-string", b'{"version": 3, "deployment": {"resources": [{"urn": "urn:pulumi:a::b::t::n", "type": "t", "dependencies": "u"}]}}', "'deployment.resources[0].dependencies' must be a list of URNs"),
    ("parent-number", b'{"version": 3, "deployment": {"resources": [{"urn": "urn:pulumi:a::b::t::n", "type": "t", "parent": 1}]}}', "'deployment.resources[0].parent' must be a string, found a number"),
    ("too-deep", b'{"version": 3, "deployment": {"resources": [{"urn": "urn:pulumi:a::b::t::n", "type": "t", "outputs": {"doc": ' + b'[' * 150 + b']' * 150 + b'}}]}}', "'deployment.resources[0].outputs.doc' is nested deeper than 100 levels"),
    ("pending-bad", b'{"version": 3, "deployment": {"pending_operations": [{"type": "creating"}]}}', "'deployment.pending_operations[0]' must be an object with a 'resource' object"),
]  # fmt: skip


def _bad_file(tmp_path: Path, content: bytes | str | None) -> Path:
    path = tmp_path / "state.json"
    if content == "<dir>":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    return path


@pytest.mark.parametrize(("case", "content", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_input(tmp_path: Path, case: str, content: bytes | str | None, message: str) -> None:
    path = _bad_file(tmp_path, content)
    with pytest.raises(StateError) as info:
        read_state(path)
    text = str(info.value)
    assert text.startswith(f"{path}: ")
    assert message in text, text


@pytest.mark.parametrize(
    ("case", "content", "message"),
    [
        b
        for b in BAD
        if b[0] in ("missing", "not-json", "version-5", "no-urn", "version-5000-digits")
    ],
    ids=lambda x: str(x)[:12],
)
def test_cli_bad_input_exits_2_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, content: Any, message: str
) -> None:
    path = _bad_file(tmp_path, content)
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["check", "--state", str(path)])
    assert exit_info.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "Traceback" not in err and message.split(" (")[0] in " ".join(err.split())


def test_bad_input_messages_never_quote_values(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(
        '{"version": 3, "deployment": {"resources": [{"urn": "'
        + FAKE_ANTHROPIC
        + '", "type": "t"}]}}'
    )
    with pytest.raises(StateError) as info:
        read_state(path)
    assert FAKE_ANTHROPIC not in str(info.value)
    path.write_text('{"password": "' + FAKE_PASSWORD + '", "x": ')
    with pytest.raises(StateError) as info:
        read_state(path)
    assert FAKE_PASSWORD not in str(info.value)


def test_plaintext_findings_of_the_real_files() -> None:
    """`nt-secrets check --state` exit codes on these files are tested in tests/test_cli.py."""
    counts = {
        p: len(plaintext_findings(read_state(real(p)).records())) for p in (AZURE, GKE, TESTDATA)
    }
    assert counts == {AZURE: 15, GKE: 0, TESTDATA: 0}
