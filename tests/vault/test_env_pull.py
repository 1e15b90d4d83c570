"""``nt-secrets env pull --store vault`` against a real OpenBao with the dev plan applied.

Its own server (the session's shared ones are left as the other tests expect them): the dev
stack's Vault resources applied through the harness, a fake value written at each secret's KV v2
path (``locations()``), then pulls with real tokens: the access model's Developer policy plus one
explicit ``deny`` on a secret (placeholder, exit 1), the Developer policy alone read from
``~/.vault-token`` (everything, exit 0), and a token OpenBao does not know (all denied).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import hvac
import pytest
from dotenv import dotenv_values

from infra.backends.vault import documents
from infra.backends.vault.settings import VaultSettings
from infra.catalog import Environment, default_catalog
from tests.conftest import ROOT
from tests.plans import planned_stack
from tests.test_env_pull import CONFIG_NAMES, assert_no_value_shown, mode, run
from tests.vault import apply as ap
from tests.vault.server import BaoServer, start_bao
from tests.vault.tokenreview import TokenReviewStub

pytestmark = pytest.mark.servers

DENIED = "ALPACA_SECRET_KEY"
DELETED = "JWT_SECRET"
#: Every secret the dev stack stores, wherever its home.
CATALOG_STORED_IN_DEV = [e.name for e in default_catalog().stored_in(Environment.DEVELOPMENT)]


@dataclass
class DevBao:
    server: BaoServer
    addresses: dict[str, str]  # catalog name -> KV v2 data path (locations())
    values: dict[str, str]
    developer_policy: str

    @property
    def root(self) -> hvac.Client:
        return self.server.client()


@pytest.fixture(scope="module")
def dev_bao(stub: TokenReviewStub, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevBao]:
    from nt_secrets import envpull

    _config, capture = planned_stack("dev", ROOT)
    server = start_bao(
        [r for r in capture.resources if r.type == ap.AUDIT],
        parent=tmp_path_factory.mktemp("envpull-bao"),
    )
    try:
        redirect = ap.KubernetesRedirect(stub.url, stub.reviewer_jwt, stub.ca_cert)
        ap.apply(server.client(), capture, kubernetes=redirect, written=server.written)
        plan = envpull.plan_pull(ROOT, "dev", "vault")
        assert isinstance(plan.block, VaultSettings)
        values = {n: f"fake-{n.lower().replace('_', '-')}-from-openbao" for n in plan.addresses}
        root = server.client()
        for name, address in plan.addresses.items():
            version = int(
                root.read(address.replace("/data/", "/metadata/", 1))["data"]["current_version"]
            )
            root.write_data(
                address, data={"data": {"value": values[name]}, "options": {"cas": version}}
            )
        policy = documents.policy_name(plan.block.mount_prefix, plan.environment, "developer")
        yield DevBao(server, dict(plan.addresses), values, policy)
    finally:
        server.close()


def _token(bao: DevBao, *policies: str) -> str:
    resp = bao.root.auth.token.create(
        policies=list(policies), no_default_policy=True, ttl="10m", display_name="envpull-test"
    )
    return str(resp["auth"]["client_token"])


def test_denied_and_deleted_secrets_are_placeholders_and_fail(
    dev_bao: DevBao,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    denied_path = dev_bao.addresses[DENIED]
    dev_bao.root.sys.create_or_update_policy(
        "envpull-test-deny-one", f'path "{denied_path}" {{\n  capabilities = ["deny"]\n}}\n'
    )
    token = _token(dev_bao, dev_bao.developer_policy, "envpull-test-deny-one")
    deleted = dev_bao.addresses[DELETED]
    mount, _, path = deleted.partition("/data/")
    dev_bao.root.secrets.kv.v2.delete_latest_version_of_secret(path, mount_point=mount)
    monkeypatch.setenv("VAULT_ADDR", dev_bao.server.url)
    monkeypatch.setenv("VAULT_TOKEN", token)
    out_file = tmp_path / ".env.local"
    try:
        code, out, err = run(
            capsys,
            "env",
            "pull",
            "--stack",
            "dev",
            "--store",
            "vault",
            "--project-dir",
            str(ROOT),
            "--output",
            str(out_file),
        )
    finally:
        version = dev_bao.root.secrets.kv.v2.read_secret_metadata(path, mount_point=mount)
        dev_bao.root.secrets.kv.v2.undelete_secret_versions(
            path, [int(version["data"]["current_version"])], mount_point=mount
        )
    assert code == 1, err
    assert f"not pulled: {DENIED} (denied), {DELETED} (missing)" in err  # catalog order
    held = len(dev_bao.addresses)  # what Vault holds of dev: the secrets whose home it is
    assert f"{held - 2} of {held} secrets pulled" in err
    text = out_file.read_text(encoding="utf-8")
    assert f"# {DENIED}= NOT PULLED (denied): permission denied ({denied_path})" in text
    assert f"# {DELETED}= NOT PULLED (missing): not found ({deleted})" in text
    assert mode(out_file) == 0o600
    parsed = dotenv_values(out_file, interpolate=False)
    expected = {n: v for n, v in dev_bao.values.items() if n not in {DENIED, DELETED}}
    assert {n: parsed[n] for n in expected} == expected
    assert set(parsed) == set(expected) | set(CONFIG_NAMES)
    assert_no_value_shown(dev_bao.values, out, err)


def test_developer_token_from_the_login_file_pulls_everything(
    dev_bao: DevBao,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / ".vault-token").write_text(_token(dev_bao, dev_bao.developer_policy) + "\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("VAULT_TOKEN", raising=False)
    monkeypatch.setenv("VAULT_ADDR", dev_bao.server.url)
    out_file = tmp_path / ".env.local"
    code, out, err = run(
        capsys,
        "env",
        "pull",
        "--stack",
        "dev",
        "--store",
        "vault",
        "--project-dir",
        str(ROOT),
        "--output",
        str(out_file),
    )
    assert code == 0, err
    held = len(dev_bao.addresses)
    assert f"{held} of {held} secrets pulled" in err
    parsed = dotenv_values(out_file, interpolate=False)
    assert {n: parsed[n] for n in dev_bao.values} == dev_bao.values
    assert set(parsed) == set(dev_bao.values) | set(CONFIG_NAMES)
    assert_no_value_shown(dev_bao.values, out, err)


def test_unknown_token_reads_nothing(
    dev_bao: DevBao,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VAULT_ADDR", dev_bao.server.url)
    monkeypatch.setenv("VAULT_TOKEN", "s.not-a-real-token")
    out_file = tmp_path / ".env.local"
    code, out, err = run(
        capsys,
        "env",
        "pull",
        "--stack",
        "dev",
        "--store",
        "vault",
        "--project-dir",
        str(ROOT),
        "--output",
        str(out_file),
    )
    assert code == 1
    held = len(dev_bao.addresses)
    assert f"0 of {held} secrets pulled" in err
    text = out_file.read_text(encoding="utf-8")
    assert text.count("NOT PULLED (denied)") == held
    # The others live in their home stores: named there, never read from Vault.
    assert text.count("NOT PULLED (elsewhere)") == len(CATALOG_STORED_IN_DEV) - held
    assert_no_value_shown(dev_bao.values, out, err)


def test_esc_vault_references_read_the_values_env_pull_wrote(
    dev_bao: DevBao,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``nt-secrets env esc``'s Vault-homed variables, each followed into its vault-secrets block
    and read as that provider reads (the path's read, then ``data.value`` of what it returns)
    from the same OpenBao, give the values ``env pull --store vault`` wrote (issue 22, item 5;
    ESC's own evaluation needs Pulumi Cloud)."""
    from nt_secrets import esc
    from tests.test_esc_env_pull import follow

    monkeypatch.setenv("VAULT_ADDR", dev_bao.server.url)
    monkeypatch.setenv("VAULT_TOKEN", _token(dev_bao, dev_bao.developer_policy))
    out_file = tmp_path / ".env.local"
    argv = ["env", "pull", "--stack", "dev", "--store", "vault", "--project-dir", str(ROOT)]
    code, _, err = run(capsys, *argv, "--output", str(out_file))
    assert code == 0, err
    written = dotenv_values(out_file, interpolate=False)
    values = esc.build(ROOT, "dev").env["values"]
    read = {}
    for name, ref in values["environmentVariables"].items():
        provider, inputs, rest = follow(values, ref)
        if provider != "vault-secrets":
            continue
        node = dev_bao.root.read(inputs["path"])["data"]  # what vault-secrets returns
        for part in rest:
            node = node[part]
        read[name] = node
    assert read == {n: written[n] for n in read} == dev_bao.values
