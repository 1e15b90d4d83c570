"""The Azure rotation executor, plan-level: both project stacks declare one function app that the
near-expiry events of exactly the secrets Azure is home to and rotates reach, granted exactly
those secrets (per secret in RBAC, per vault in the access-policy model), with a package holding
the handler; and its managed-identity login, against a real local HTTP endpoint."""

from __future__ import annotations

import json
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest

from infra.backends.azure import azure_settings, documents
from infra.catalog import default_catalog
from infra.rotation import azure_identity, package
from infra.rotation.errors import ContractError
from infra.stack import build_estate, parse_settings
from nt_secrets.capture import Capture
from nt_secrets.plan import records
from nt_secrets.stackfile import read_stack
from policies.runner import run

from .conftest import ROOT, of_type

ASSIGNMENT = "azure-native:authorization:RoleAssignment"
ROLE = "azure-native:authorization:RoleDefinition"
ACCESS_POLICY = "azure-native:keyvault:AccessPolicy"
SUBSCRIPTION = "azure-native:eventgrid:SystemTopicEventSubscription"
SECRET = "azure-native:keyvault:Secret"  # pragma: allowlist secret
APP = "azure-native:web:WebApp"
S = "Microsoft.KeyVault/vaults/secrets/"

#: Per stack: the vault authorization model and the function app's name.
STACKS = {
    "dev": ("rbac", "ntdev-kv-rotation"),
    "prod": ("accessPolicies", "ntprod-kv-rotation"),
}


def _rotated(stack: str) -> tuple[Any, Any, dict[str, list[str]]]:
    config = read_stack(ROOT, stack)
    settings = parse_settings(config.config, secret_keys=config.secret_keys)
    estate = build_estate(default_catalog(), settings).held_by("azure")
    block = azure_settings(settings)
    where = documents.partition_of(estate, block)
    out: dict[str, list[str]] = {}
    for s in documents.rotated_by_function(estate):
        out.setdefault(where[s.name], []).append(documents.secret_name(s))
    return estate, block, out


def _in_rotation(r: Any) -> bool:
    return "RotationFunction" in (r.parent or "") or "RotationFunction" in r.urn


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_one_function_app_rotates_exactly_the_azure_homed_rotating_secrets(
    stack: str, dev: Capture, prod: Capture
) -> None:
    cap = {"dev": dev, "prod": prod}[stack]
    model, app_name = STACKS[stack]
    estate, block, by_vault = _rotated(stack)
    assert block.authorization == model and by_vault
    # Every catalog secret Azure is home to and that rotates is in exactly one filter.
    homed = sorted(
        documents.secret_name(s) for s in estate.secrets if s.home == "azure" and s.rotation
    )
    assert sorted(n for names in by_vault.values() for n in names) == homed
    (app,) = of_type(cap, APP)
    i = app.raw_inputs
    assert i["name"] == app_name and i["httpsOnly"] is True and i["kind"] == "functionapp,linux"
    assert i["functionAppConfig"]["runtime"] == {"name": "python", "version": "3.11"}
    assert i["identity"]["type"] == "UserAssigned"
    assert i["siteConfig"]["ftpsState"] == "Disabled"
    settings = {s["name"]: s["value"] for s in i["siteConfig"]["appSettings"]}
    assert set(settings) == {
        "AzureWebJobsStorage__accountName",
        "AzureWebJobsStorage__credential",
        "AzureWebJobsStorage__clientId",
        "AZURE_CLIENT_ID",
        "NT_ROTATION_REPLICAS",
    }
    assert json.loads(settings["NT_ROTATION_REPLICAS"]) == {}
    # The events: per vault, SecretNearExpiry of exactly its rotating secrets, to the function.
    subs = [r for r in of_type(cap, SUBSCRIPTION) if r.name.endswith("-rotation")]
    got = {}
    for r in subs:
        ri = r.raw_inputs
        assert ri["filter"]["includedEventTypes"] == ["Microsoft.KeyVault.SecretNearExpiry"]
        (advanced,) = ri["filter"]["advancedFilters"]
        assert advanced["operatorType"] == "StringIn" and advanced["key"] == "subject"
        assert ri["destination"]["endpointType"] == "AzureFunction"
        assert ri["destination"]["resourceId"].endswith(
            f"/providers/Microsoft.Web/sites/{app_name}/functions/{package.AZURE_FUNCTION}"
        )
        vault = ri["systemTopicName"].removesuffix("-events")
        got[vault.removeprefix(f"{block.vault_prefix}-")] = advanced["values"]
    assert got == by_vault
    # The grants: exactly those secrets, in the vault's model; nothing on a vault in RBAC.
    assignments = [r for r in of_type(cap, ASSIGNMENT) if "-rotation-" in r.name]
    policies = [r for r in of_type(cap, ACCESS_POLICY) if r.name.endswith("-secret-rotation")]
    if model == "rbac":
        assert policies == []
        scopes = sorted(r.raw_inputs["scope"] for r in assignments)
        want = sorted(
            f"{documents.vault_id(block, vault)}/secrets/{name}{suffix}"
            for vault, names in by_vault.items()
            for name in names
            for suffix in ("", documents.PENDING_SUFFIX)
        )
        assert scopes == want
        roles = {r.raw_inputs["roleName"]: r.raw_inputs for r in of_type(cap, ROLE)}
        actions = sorted(tuple(sorted(r["permissions"][0]["dataActions"])) for r in roles.values())
        assert actions == [
            (S + "getSecret/action", S + "readMetadata/action", S + "setSecret/action"),
            (
                S + "getSecret/action",
                S + "readMetadata/action",
                S + "setSecret/action",
                S + "update/action",
            ),
        ]
        for r in roles.values():
            assert r["permissions"][0]["actions"] == []
            assert r["assignableScopes"] == [documents.vault_id(block, v) for v in by_vault]
        pending = [r for r in of_type(cap, SECRET) if r.name.endswith("-rotation-pending")]
        assert len(pending) == len(homed)
        assert all(r.raw_inputs["properties"]["attributes"]["enabled"] is False for r in pending)
        assert all("value" not in r.raw_inputs["properties"] for r in pending)
    else:
        assert [r for r in assignments if "/vaults/" in r.raw_inputs["scope"]] == []
        assert sorted(r.raw_inputs["vaultName"] for r in policies) == sorted(
            documents.vault_name(block, v) for v in by_vault
        )
        for r in policies:
            assert r.raw_inputs["policy"]["permissions"] == {
                "secrets": ["get", "list", "set"],
                "keys": [],
                "certificates": [],
                "storage": [],
            }
    # The only other grant: blob data on the function's own storage account.
    (owner,) = [r for r in of_type(cap, ASSIGNMENT) if r.name == "rotation-storage-blob-owner"]
    assert owner.raw_inputs["scope"].endswith(
        f"/storageAccounts/{documents.storage_account_name(block)}"
    )


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_the_rotation_resources_pass_the_policy_pack(
    stack: str, dev: Capture, prod: Capture
) -> None:
    cap = {"dev": dev, "prod": prod}[stack]
    found = [(v.policy, v.urn) for v in run(records(cap)).violations if v.urn]
    assert [f for f in found if "RotationFunction" in f[1] or "rotation" in f[1]] == []


def test_the_package_holds_the_handler_and_the_azure_rotation_modules(tmp_path: Path) -> None:
    a = package.build_azure_package(tmp_path / "a").read_bytes()
    b = package.build_azure_package(tmp_path / "b").read_bytes()
    assert a == b  # deterministic
    with zipfile.ZipFile(tmp_path / "a" / package.AZURE_ZIP_NAME) as zf:
        names = set(zf.namelist())
        binding = json.loads(zf.read(f"{package.AZURE_FUNCTION}/function.json"))
        init = zf.read(f"{package.AZURE_FUNCTION}/__init__.py").decode()
        host = json.loads(zf.read("host.json"))
    assert {
        "host.json",
        "infra/rotation/azure_store.py",
        "infra/rotation/azure_identity.py",
        "infra/rotation/driver.py",
        "infra/rotation/replicas.py",
        "policies/contract/vocabulary.py",
        ".python_packages/lib/site-packages/azure/keyvault/secrets/__init__.py",
        ".python_packages/lib/site-packages/azure/core/__init__.py",
    } <= names
    assert host["version"] == "2.0"
    assert binding["bindings"] == [{"type": "eventGridTrigger", "name": "event", "direction": "in"}]
    assert binding["entryPoint"] == "main" and binding["scriptFile"] == "__init__.py"
    assert "from infra.rotation.azure_store import azure_function as main" in init
    # Pure Python only (a compiled accelerator with a pure fallback is left out).
    assert [n for n in names if n.endswith((".so", ".pyd", ".dylib"))] == []
    assert not any(n.startswith(".python_packages/lib/site-packages/msal") for n in names)


# ---- the managed-identity login, against a real HTTP endpoint ------------------------------------


class _Endpoint(BaseHTTPRequestHandler):
    calls: ClassVar[list[dict[str, Any]]] = []

    def do_GET(self) -> None:
        query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
        _Endpoint.calls.append({"query": query, "header": self.headers.get("X-IDENTITY-HEADER")})
        if self.headers.get("X-IDENTITY-HEADER") != "hdr-fake":
            self.send_response(401)
            self.end_headers()
            return
        body = json.dumps({"access_token": "tok-fake", "expires_on": "4102444800"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        del args


@pytest.fixture
def endpoint() -> Iterator[str]:
    _Endpoint.calls = []
    server = HTTPServer(("127.0.0.1", 0), _Endpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/msi/token"
    finally:
        server.shutdown()
        server.server_close()


IDENTITY_CASES = [
    ("user-assigned", {"AZURE_CLIENT_ID": "cid-fake"}, "hdr-fake", "cid-fake", None),
    ("system-assigned", {}, "hdr-fake", None, None),
    ("wrong header", {}, "other", None, "refused a token"),
]


@pytest.mark.parametrize(
    ("case", "extra", "header", "client_id", "error"),
    IDENTITY_CASES,
    ids=[c[0] for c in IDENTITY_CASES],
)
def test_the_function_logs_in_as_its_managed_identity(
    endpoint: str,
    case: str,
    extra: dict[str, str],
    header: str,
    client_id: str | None,
    error: str | None,
) -> None:
    env = {"IDENTITY_ENDPOINT": endpoint, "IDENTITY_HEADER": header, **extra}
    credential = azure_identity.ManagedIdentity(env)
    if error is not None:
        with pytest.raises(ContractError, match=error):
            credential.get_token("https://vault.azure.net/.default")
        return
    token = credential.get_token("https://vault.azure.net/.default")
    assert token.token == "tok-fake" and token.expires_on == 4102444800
    # Cached until near expiry: one call.
    credential.get_token("https://vault.azure.net/.default")
    (call,) = _Endpoint.calls
    assert call["query"].get("client_id") == client_id
    assert call["query"]["resource"] == "https://vault.azure.net"
    assert call["query"]["api-version"] == "2019-08-01"


def test_without_the_identity_endpoint_there_is_no_managed_identity() -> None:
    assert not azure_identity.available({})
    with pytest.raises(ContractError, match="IDENTITY_ENDPOINT"):
        azure_identity.ManagedIdentity({})
