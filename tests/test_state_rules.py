"""Table-driven tests of the plaintext-in-state rules added on top of the credential scanner:
known-secret fields by resource type, the checkpoint's stack configuration, name/value pairs and
word lists inside state, and deep values (a clear StateError or a text scan, never a traceback).

Every credential-looking literal is an obviously fake value of the real shape and carries
``pragma: allowlist secret``.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from nt_secrets.cli import main as cli_main
from nt_secrets.state import (
    CIPHERTEXT,
    KNOWN_SECRET_FIELDS,
    PLAINTEXT_POLICY_ID,
    StateError,
    parse_state,
    plaintext_findings,
    read_state,
)

SIG = "4dabf18193072939515e22adb298388d"  # pragma: allowlist secret
SECRET = "1b47061264138c4ac30d75fd1eb44270"  # pragma: allowlist secret
FAKE_RANDOM_PW = "FAKE-rNd0mPw-q8Zr2Lm4"  # pragma: allowlist secret
FAKE_BCRYPT = (
    "$2a$10$FAKEfakeFAKEfakeFAKEfuQ1Xw2Ee3Rr4Tt5Yy6Uu7Ii8Oo9Pp0A"  # pragma: allowlist secret
)
FAKE_B64 = "RkFLRWJ5dGVzRkFLRWJ5dGVzRkFLRQ=="  # pragma: allowlist secret
FAKE_HEX = "46414b4562797465734641"  # pragma: allowlist secret
FAKE_PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEFAKEfakeFAKEfakeFAKEfakeFAKEfake\n-----END RSA PRIVATE KEY-----\n"  # pragma: allowlist secret
FAKE_OPENSSH = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEFAKEfakeFAKEfake\n-----END OPENSSH PRIVATE KEY-----\n"  # pragma: allowlist secret
FAKE_AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"  # pragma: allowlist secret
FAKE_SMTP = "BFAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKEfake12"  # pragma: allowlist secret
FAKE_DB_PW = "FAKEdbPassw0rd-77"  # pragma: allowlist secret
FAKE_K8S_DATA = "RkFLRWs4c3NlY3JldA=="  # pragma: allowlist secret
FAKE_AKID = "AKIAIOSFODNN7EXAMPLE"  # pragma: allowlist secret
FAKE_ALPACA_SECRET = "FAKEq8Zr2Lm4Np6Tv0Xb3Dc5Fg7Hj9Kk1M"  # pragma: allowlist secret
FAKE_ANTHROPIC = "sk-ant-api03-FAKEa1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8s9T0u1v2W3x4Y5z6-FAKEAA"  # pragma: allowlist secret
FAKES = [v for k, v in dict(globals()).items() if k.startswith("FAKE_")]

STACK = "urn:pulumi:dev::nt::pulumi:pulumi:Stack::nt-dev"


def resource(name: str, type_: str, **fields: Any) -> dict[str, Any]:
    return {"urn": f"urn:pulumi:dev::nt::{type_}::{name}", "type": type_, "custom": True, **fields}


def cipher(value: str) -> dict[str, str]:
    return {SIG: SECRET, "ciphertext": base64.b64encode(json.dumps(value).encode()).decode()}


def plain(value: str) -> dict[str, str]:
    return {SIG: SECRET, "plaintext": json.dumps(value)}


def export(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"version": 3, "deployment": {"resources": list(resources)}}


def paths(doc: dict[str, Any]) -> list[str]:
    """Finding paths (one per finding, duplicates kept), after checking no value leaks."""
    found = parse_state(doc).plaintext_findings()
    text = json.dumps([v.to_json() for v in found])
    for fake in FAKES:
        assert fake not in text
    assert all(v.policy == PLAINTEXT_POLICY_ID for v in found)
    return sorted(v.message.split(": ", 1)[0] for v in found)


# --------------------------------------------------------------------------- known-secret fields

RP = "random:index/randomPassword:RandomPassword"
# type, inputs, outputs, expected finding paths
KNOWN: list[tuple[str, str, dict[str, Any], dict[str, Any], list[str]]] = [
    ("random-password", RP, {"length": 20, "special": True}, {"result": FAKE_RANDOM_PW, "bcryptHash": FAKE_BCRYPT, "length": 20}, ["outputs.bcryptHash", "outputs.result"]),
    ("random-password-ciphertext", RP, {"length": 20}, {"result": cipher(FAKE_RANDOM_PW), "bcryptHash": cipher(FAKE_BCRYPT)}, []),
    ("random-password-shown", RP, {}, {"result": plain(FAKE_RANDOM_PW)}, ["outputs.result"]),  # envelope, once
    ("random-password-empty", RP, {}, {"result": ""}, []),
    ("random-bytes", "random:index/randomBytes:RandomBytes", {"length": 11}, {"base64": FAKE_B64, "hex": FAKE_HEX}, ["outputs.base64", "outputs.hex"]),
    ("random-string-not-secret", "random:index/randomString:RandomString", {"length": 8}, {"result": "FAKEq8Zr"}, []),
    ("tls-private-key", "tls:index/privateKey:PrivateKey", {"algorithm": "RSA"}, {"privateKeyPem": FAKE_PEM, "privateKeyPemPkcs8": FAKE_PEM, "privateKeyOpenssh": FAKE_OPENSSH, "publicKeyPem": "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n"}, ["outputs.privateKeyOpenssh", "outputs.privateKeyPem", "outputs.privateKeyPemPkcs8"]),
    ("iam-access-key", "aws:iam/accessKey:AccessKey", {"user": "ci"}, {"id": "AKIAxxxxxxxxxxxxxxxx", "secret": FAKE_AWS_SECRET, "sesSmtpPasswordV4": FAKE_SMTP, "encryptedSecret": ""}, ["outputs.secret", "outputs.sesSmtpPasswordV4"]),
    ("rds-instance", "aws:rds/instance:Instance", {"password": FAKE_DB_PW, "username": "app"}, {"password": FAKE_DB_PW}, ["outputs.password", "password"]),
    ("rds-cluster", "aws:rds/cluster:Cluster", {"masterPassword": FAKE_DB_PW}, {"masterPassword": cipher(FAKE_DB_PW)}, ["masterPassword"]),
    ("k8s-secret", "kubernetes:core/v1:Secret", {"data": {"config.json": FAKE_K8S_DATA}}, {"stringData": {"token": FAKE_DB_PW}}, ['data["config.json"]', "outputs.stringData.token"]),
    ("unlisted-type", "aws:s3/bucket:Bucket", {}, {"result": FAKE_RANDOM_PW, "hex": FAKE_HEX}, []),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "type_", "inputs", "outputs", "expected"), KNOWN, ids=[k[0] for k in KNOWN]
)
def test_known_secret_fields(
    case: str, type_: str, inputs: Any, outputs: Any, expected: list[str]
) -> None:
    assert paths(export(resource("r", type_, inputs=inputs, outputs=outputs))) == expected


def test_known_secret_field_message() -> None:
    doc = export(resource("pw", RP, outputs={"result": FAKE_RANDOM_PW}))
    (v,) = parse_state(doc).plaintext_findings()
    assert v.urn == f"urn:pulumi:dev::nt::{RP}::pw"
    assert v.message == (
        f"outputs.result: secret field of {RP} stored in plaintext in the state "
        f"(hint: … ({len(FAKE_RANDOM_PW)} chars))"
    )


def test_known_secret_fields_table_shape() -> None:
    for pattern, fields in KNOWN_SECRET_FIELDS:
        assert ":" in pattern and fields and all(f.isidentifier() for f in fields)


# --------------------------------------------------------------------------- stack config

CONFIG = {
    "aws:region": "us-east-1",
    "aws:secretKey": FAKE_AWS_SECRET,
    "nt:dbPassword": FAKE_DB_PW,
    "nt:apiToken": {"secure": "v1:FAKEnonce:FAKEciphertextAAAA"},
    "nt:db": {"host": "db.internal", "password": FAKE_DB_PW, "token": {"secure": "v1:x:y"}},
    "nt:note": f"bot key {FAKE_ANTHROPIC}",
    "nt:replicas": 3,
}
CONFIG_PATHS = [
    "config.aws:secretKey",
    "config.nt:db.password",
    "config.nt:dbPassword",
    "config.nt:note",
]


def checkpoint(config: Any, *resources: dict[str, Any], latest: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {"stack": "dev", "config": config}
    if latest:
        body["latest"] = {"resources": list(resources)}
    return {"version": 3, "checkpoint": body}


STACK_RESOURCE = {"urn": STACK, "type": "pulumi:pulumi:Stack"}
# case, document, expected urn of the config findings
CONFIG_CASES: list[tuple[str, dict[str, Any], str | None]] = [
    ("with-stack-resource", checkpoint(CONFIG, STACK_RESOURCE), STACK),
    ("no-stack-resource", checkpoint(CONFIG, resource("b", "aws:s3/bucket:Bucket")), None),
    ("never-deployed", checkpoint(CONFIG, latest=False), None),
    ("version-1", checkpoint(CONFIG, STACK_RESOURCE) | {"version": 1}, STACK),
]


@pytest.mark.parametrize(("case", "doc", "urn"), CONFIG_CASES, ids=[c[0] for c in CONFIG_CASES])
def test_checkpoint_config_is_scanned(case: str, doc: dict[str, Any], urn: str | None) -> None:
    state = parse_state(doc)
    assert state.config["nt:apiToken"] == CIPHERTEXT
    assert state.config["nt:db"]["token"] == CIPHERTEXT
    assert paths(doc) == CONFIG_PATHS
    found = state.plaintext_findings()
    assert {v.urn for v in found} == {urn}
    assert all("stack configuration" in v.message for v in found)


CLEAN_CONFIGS: list[tuple[str, Any]] = [
    ("secure-only", {"nt:dbPassword": {"secure": "v1:FAKE:FAKE"}, "aws:region": "eu-west-1"}),
    ("none", None),
    ("empty", {}),
    ("placeholders", {"nt:apiKey": "${API_KEY}", "nt:secretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:x-AbCdEf"}),  # pragma: allowlist secret
]  # fmt: skip


@pytest.mark.parametrize(("case", "config"), CLEAN_CONFIGS, ids=[c[0] for c in CLEAN_CONFIGS])
def test_clean_config_has_no_findings(case: str, config: Any) -> None:
    assert paths(checkpoint(config, STACK_RESOURCE)) == []


def test_export_has_no_config_and_plain_lists_carry_none() -> None:
    assert parse_state(export()).config == {}
    doc = checkpoint(CONFIG, STACK_RESOURCE)
    assert plaintext_findings(parse_state(doc).records()) == []  # records alone: no config


def test_cli_reports_config_findings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "cp.json"
    path.write_text(json.dumps(checkpoint(CONFIG, STACK_RESOURCE)))
    assert cli_main(["check", "--state", str(path), "--format", "json"]) == 1
    out = capsys.readouterr().out
    assert "config.aws:secretKey" in out and "config.nt:dbPassword" in out
    for fake in FAKES:
        assert fake not in out


# --------------------------------------------------------------------------- pairs and words

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
PAIR_CASES: list[tuple[str, str, dict[str, Any], list[str]]] = [
    ("k8s-env", DEPLOYMENT, {"spec": {"template": {"spec": {"containers": [{"env": [{"name": "LOG_LEVEL", "value": "info"}, {"name": "ALPACA_SECRET_KEY", "value": FAKE_ALPACA_SECRET}]}]}}}}, ["spec.template.spec.containers[0].env[1].value"]),
    ("ecs-json", "aws:ecs/taskDefinition:TaskDefinition", {"containerDefinitions": json.dumps([{"name": "t", "environment": [{"name": "DB_PASSWORD", "value": FAKE_DB_PW}]}])}, ["containerDefinitions[0].environment[0].value"]),
    ("cfn-parameters", "aws:cloudformation/stack:Stack", {"parameters": {"Env": "prod"}, "templateBody": json.dumps({"Parameters": [{"ParameterKey": "DbPassword", "ParameterValue": FAKE_DB_PW}]})}, ["templateBody.Parameters[0].ParameterValue"]),
    ("key-vault-permissions", "azure-native:keyvault:Vault", {"properties": {"accessPolicies": [{"permissions": {"secrets": ["Get", "List"], "keys": ["all"]}}]}}, []),
    ("key-vault-classic", "azure:keyvault/accessPolicy:AccessPolicy", {"secretPermissions": ["Get", "Delete", "Purge", "Backup", "Restore", "Recover", "Set", "List"]}, []),
    ("vm-admin-password", "azure:compute/linuxVirtualMachine:LinuxVirtualMachine", {"adminPassword": "Password1234!"}, ["adminPassword"]),  # pragma: allowlist secret
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "type_", "inputs", "expected"), PAIR_CASES, ids=[p[0] for p in PAIR_CASES]
)
def test_pairs_and_word_lists_in_state(
    case: str, type_: str, inputs: dict[str, Any], expected: list[str]
) -> None:
    assert paths(export(resource("r", type_, inputs=inputs))) == expected


# --------------------------------------------------------------------------- depth and odd shapes


def nested(levels: int, leaf: Any) -> Any:
    for _ in range(levels):
        leaf = [leaf]
    return leaf


BAD: list[tuple[str, dict[str, Any], str]] = [
    ("deep-output", export(resource("r", "t:m:T", outputs={"doc": nested(150, "x")})), "'deployment.resources[0].outputs.doc' is nested deeper than 100 levels"),
    ("deep-input", export(resource("r", "t:m:T", inputs={"doc": {"a": nested(120, 1)}})), "'deployment.resources[0].inputs.doc' is nested deeper than 100 levels"),
    ("deep-config", checkpoint({"nt:doc": nested(150, "x")}, STACK_RESOURCE), "'checkpoint.config.nt:doc' is nested deeper than 100 levels"),
    ("config-list", checkpoint(["x"]), "'checkpoint.config' must be an object, found a list"),
    ("config-string", checkpoint("x"), "'checkpoint.config' must be an object, found a string"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "doc", "message"), BAD, ids=[b[0] for b in BAD])
def test_odd_shapes_are_a_state_error(case: str, doc: dict[str, Any], message: str) -> None:
    with pytest.raises(StateError) as info:
        parse_state(doc, source="s.json")
    assert str(info.value) == f"s.json: {message}"


# levels of JSON nested inside a string value (not structure: the state is valid)
DEEP_STRINGS = [3, 99, 150, 100_000]


@pytest.mark.parametrize("levels", DEEP_STRINGS)
def test_deep_json_in_a_string_is_still_scanned(levels: int) -> None:
    doc = export(
        resource("r", "t:m:T", outputs={"doc": "[" * levels + json.dumps(FAKE_AKID) + "]" * levels})
    )
    found = paths(doc)
    assert len(found) == 1 and found[0].startswith("outputs.doc")


def test_cli_deep_values_exit_cleanly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text(json.dumps(checkpoint({"nt:doc": nested(150, "x")}, STACK_RESOURCE)))
    with pytest.raises(SystemExit) as info:
        cli_main(["check", "--state", str(deep)])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "nested deeper than 100 levels" in " ".join(err.split())
    text = tmp_path / "deep-string.json"
    text.write_text(json.dumps(export(resource("r", "t:m:T", outputs={"doc": "[" * 100_000}))))
    assert read_state(text).records()[0].outputs == {"doc": "[" * 100_000}
    assert cli_main(["check", "--state", str(text), "--format", "json"]) == 0
