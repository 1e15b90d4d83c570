"""``esc run`` and ``nt-secrets env pull`` agree for the environments ``env pull`` allows (issue 22).

For the dev stack, the names ``nt-secrets env esc --stack dev`` exposes as
``environmentVariables`` are exactly the stored secrets ``env pull`` writes: each either with its
value (read from the store it pulls) or as a placeholder naming its home store, which is the
store ESC reads it from. ``env pull`` writes plain configuration too (empty, for the developer to
set), which an ESC environment does not carry: it holds references to stored secrets only.

Values: ESC's own evaluation needs Pulumi Cloud, so it cannot run offline. What is compared
instead is where each side reads: every ``${...}`` of ``environmentVariables`` is followed into
its ``fn::open::<store>-secrets`` block (as ESC resolves it, up to the provider call) and the
provider's documented read is made against moto's Secrets Manager; the value found is the value
``env pull`` wrote. Vault's side, against a real OpenBao, is in tests/vault/test_env_pull.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from dotenv import dotenv_values
from moto import mock_aws

from infra.catalog import Environment, Source, default_catalog
from nt_secrets import envpull
from nt_secrets.cli import main
from tests.conftest import ROOT
from tests.test_env_pull import TRICKY, assert_no_value_shown

ELSEWHERE = re.compile(r"^# (\w+)= NOT PULLED \(elsewhere\): its home store is (\w+),", re.M)


#: Per store, the input of its ``<store>-secrets`` provider that maps output keys to secrets.
LOOKUP_INPUT = {"aws": "get", "azure": "get", "gcp": "access", "vault": "read"}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code: Any = main([*argv, "--project-dir", str(ROOT)])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    assert "Traceback" not in err, err
    return int(code or 0), out, err


def esc_environment(capsys: pytest.CaptureFixture[str], stack: str) -> dict[str, Any]:
    """The per-environment layer ``nt-secrets env esc`` prints."""
    code, out, err = run(capsys, "env", "esc", "--stack", stack, "--layer", "env")
    assert code == 0, err
    doc = yaml.safe_load(out)
    assert isinstance(doc, dict)
    return doc


def follow(values: Mapping[str, Any], reference: str) -> tuple[str, dict[str, Any], list[str]]:
    """An interpolation (``${aws.secrets.X}``) followed as ESC resolves it: down the path to the
    ``fn::open::<provider>`` block it enters, then the provider's output key. Returns the
    provider, its inputs for that key (with the block's other inputs), and the rest of the path
    (into what the provider returns)."""
    found = re.fullmatch(r"\$\{([\w.-]+)\}", reference)
    assert found, f"{reference!r} is not one interpolation"
    parts = found.group(1).split(".")
    node: Any = values
    while parts:
        opened = (
            [k for k in node if str(k).startswith("fn::open::")] if isinstance(node, dict) else []
        )
        if opened:
            (key,) = opened
            provider, inputs = key.removeprefix("fn::open::"), node[key]
            name, rest = parts[0], parts[1:]
            keyed = LOOKUP_INPUT[provider.removesuffix("-secrets")]
            chosen = dict(inputs[keyed][name])
            chosen.update({k: v for k, v in inputs.items() if k != keyed})
            return provider, chosen, rest
        node = node[parts.pop(0)]
    raise AssertionError(f"{reference} reaches no fn::open:: block")


#: The store each ``fn::open::<store>-secrets`` provider reads.
HOME_OF_PROVIDER = {f"{store}-secrets": store for store in ("aws", "vault", "gcp", "azure")}


@pytest.fixture
def dev_aws_store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[dict[str, str]]:
    """moto's Secrets Manager holding a fake value for every secret the dev stack keeps in AWS,
    at the address ``env pull`` plans (``locations()``); fake ambient credentials only."""
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")  # pragma: allowlist secret
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    plan = envpull.plan_pull(ROOT, "dev", "aws")
    values = {n: TRICKY.get(n, f"fake-{n.lower().replace('_', '-')}-esc") for n in plan.addresses}
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="us-east-1")
        for name, address in plan.addresses.items():
            client.create_secret(Name=envpull.aws_secret_id(address), SecretString=values[name])
        yield values


def test_env_esc_names_are_the_stored_secrets_env_pull_writes_for_dev(
    dev_aws_store: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = esc_environment(capsys, "dev")
    variables: dict[str, str] = doc["values"]["environmentVariables"]
    homes = {
        name: HOME_OF_PROVIDER[follow(doc["values"], ref)[0]] for name, ref in variables.items()
    }
    out_file = tmp_path / ".env.local"
    code, _, err = run(capsys, "env", "pull", "--stack", "dev", "--store", "aws", "--output", str(out_file))  # fmt: skip
    assert code == 0, err
    text = out_file.read_text(encoding="utf-8")
    written = dotenv_values(out_file, interpolate=False)
    elsewhere = dict(ELSEWHERE.findall(text))
    stored = {n for n, v in written.items() if v} | set(elsewhere)
    # the same names: each stored secret once, on both sides
    assert stored == set(variables)
    assert set(written) & set(elsewhere) == set()
    # a placeholder names the store ESC reads the secret from; the pulled ones are AWS's own
    assert elsewhere == {n: h for n, h in homes.items() if h != "aws"}
    assert {n for n, v in written.items() if v} == {n for n, h in homes.items() if h == "aws"}
    # what env pull writes besides: plain configuration, empty, which ESC does not carry
    config = {n for n, v in written.items() if not v}
    development = default_catalog().needed_in(Environment.DEVELOPMENT)
    assert config == {
        e.name
        for e in development
        if e.source is not Source.WORKLOAD_IDENTITY and e.name not in variables
    }
    assert config and config.isdisjoint(variables)
    assert sorted(set(homes.values())) == ["aws", "azure", "gcp", "vault"]
    assert_no_value_shown(dev_aws_store, err)


def test_esc_references_read_the_values_env_pull_wrote(
    dev_aws_store: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each AWS-homed variable's reference, read as aws-secrets reads it (GetSecretValue on the
    block's ``secretId`` in its ``region``), gives the value ``env pull`` wrote, byte for byte."""
    doc = esc_environment(capsys, "dev")
    out_file = tmp_path / ".env.local"
    code, _, err = run(capsys, "env", "pull", "--stack", "dev", "--store", "aws", "--output", str(out_file))  # fmt: skip
    assert code == 0, err
    written = dotenv_values(out_file, interpolate=False)
    compared = 0
    for name, ref in doc["values"]["environmentVariables"].items():
        provider, inputs, rest = follow(doc["values"], ref)
        if provider != "aws-secrets":
            continue
        assert rest == []  # aws-secrets returns the secret string itself
        client = boto3.client("secretsmanager", region_name=inputs["region"])
        value = client.get_secret_value(SecretId=inputs["secretId"])["SecretString"]
        assert value == written[name] == dev_aws_store[name], name
        compared += 1
    assert compared == len(dev_aws_store) == 3


def test_esc_reads_every_secret_at_the_address_env_pull_reads_from_its_home() -> None:
    """For the stores ``env pull`` reads (AWS, Vault), ESC's read of each secret homed there is
    the same object ``env pull --store <home>`` reads: same value, by construction."""
    from nt_secrets import esc

    envs = esc.build(ROOT, "dev")
    values = envs.env["values"]
    checked = set()
    for store in envpull.SUPPORTED_STORES:
        plan = envpull.plan_pull(ROOT, "dev", store)
        for name, ref in values["environmentVariables"].items():
            provider, inputs, rest = follow(values, ref)
            if HOME_OF_PROVIDER[provider] != store:
                assert plan.elsewhere.get(name) == HOME_OF_PROVIDER[provider], name
                continue
            if store == "aws":
                assert envpull.aws_secret_id(plan.addresses[name]) == inputs["secretId"]
            else:  # vault-secrets returns the read's `data`: KV v2's value is data.value
                assert plan.addresses[name] == inputs["path"] and rest == ["data", "value"]
            checked.add(name)
    assert len(checked) == 10  # 3 in AWS, 7 in Vault; the other 10 live in GCP and Azure


def test_follow_reads_each_provider_shape() -> None:
    values = {
        "a": {"s": {"fn::open::aws-secrets": {"region": "r", "login": "l", "get": {"X": {"secretId": "x"}}}}},
        "v": {"s": {"fn::open::vault-secrets": {"login": "l", "read": {"Y": {"path": "m/data/y"}}}}},
        "z": {"s": {"kv": {"fn::open::azure-secrets": {"login": "l", "vault": "kv", "get": {"W": {"name": "w"}}}}}},
    }  # fmt: skip
    assert follow(values, "${a.s.X}") == ("aws-secrets", {"secretId": "x", "region": "r", "login": "l"}, [])  # fmt: skip
    assert follow(values, "${v.s.Y.data.value}")[2] == ["data", "value"]
    assert follow(values, "${z.s.kv.W}")[1]["vault"] == "kv"
    with pytest.raises(AssertionError, match="not one interpolation"):
        follow(values, "literal ${a.s.X}")
