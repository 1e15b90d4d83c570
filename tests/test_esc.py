"""``nt-secrets env esc``: the Pulumi ESC environments of a stack name every stored secret once,
from its home store, through OIDC logins and interpolations only, in the input shapes ESC's
provider documentation gives (docs/esc.md cites the pages)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.backends import enabled
from infra.catalog import catalog_at
from infra.stack import build_estate, parse_settings
from nt_secrets.esc import build, render
from nt_secrets.stackfile import read_stack
from policies.lib.credentials import scan_value
from tests.plans import run_cli

from .conftest import ROOT

NS = "neural-trader-secrets:"
STACKS = ("dev", "prod")

#: Input keys of each ESC provider as its documentation page gives them (pulumi.com/docs/esc/
#: providers/...: aws-login, gcp-login, azure-login, vault-login, aws-secrets, gcp-secrets,
#: azure-secrets, vault-secrets), with the keys this project must set.
DOCUMENTED: dict[str, tuple[set[str], set[str]]] = {
    # path inside the provider's input: (documented keys, required here)
    "aws-login": ({"oidc", "static"}, {"oidc"}),
    "aws-login.oidc": (
        {"roleArn", "sessionName", "duration", "policyArns", "subjectAttributes"},
        {"roleArn", "sessionName"},
    ),
    "gcp-login": ({"project", "oidc", "accessToken", "tokenLifetime"}, {"project", "oidc"}),
    "gcp-login.oidc": (
        {"workloadPoolId", "providerId", "serviceAccount", "tokenLifetime", "region"},
        {"workloadPoolId", "providerId", "serviceAccount"},
    ),
    "azure-login": (
        {"clientId", "tenantId", "subscriptionId", "oidc", "clientSecret"},
        {"clientId", "tenantId", "subscriptionId", "oidc"},
    ),
    "vault-login": ({"address", "namespace", "jwt", "token"}, {"address", "jwt"}),
    "vault-login.jwt": ({"role", "mount"}, {"role"}),
    "aws-secrets": ({"region", "login", "get"}, {"region", "login", "get"}),
    "aws-secrets.get.*": ({"secretId", "versionId", "versionStage"}, {"secretId"}),
    "gcp-secrets": ({"login", "access"}, {"login", "access"}),
    "gcp-secrets.access.*": ({"name", "version"}, {"name"}),
    "azure-secrets": ({"login", "vault", "get"}, {"login", "vault", "get"}),
    "azure-secrets.get.*": ({"name", "version"}, {"name"}),
    "vault-secrets": ({"login", "read"}, {"login", "read"}),
    "vault-secrets.read.*": ({"path", "field"}, {"path"}),
}
INTERPOLATION = re.compile(r"^\$\{([A-Za-z0-9_.-]+)\}$")


def _estate(stack: str, project_dir: Path = ROOT) -> Any:
    config = read_stack(project_dir, stack)
    catalog = catalog_at(None)
    settings = parse_settings(config.config, secret_keys=config.secret_keys, catalog=catalog)
    return settings, build_estate(catalog, settings)


def _opens(node: Any, found: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """Every ``fn::open::<provider>`` in ``node`` with its inputs."""
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(key, str) and key.startswith("fn::open::"):
                found.append((key.removeprefix("fn::open::"), value))
            else:
                _opens(value, found)
    elif isinstance(node, list):
        for item in node:
            _opens(item, found)
    return found


def _walk(values: dict[str, Any], path: str) -> Any:
    node: Any = values
    for part in path.split("."):
        assert isinstance(node, dict) and part in node, path
        node = node[part]
    return node


def _docs(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if d is not None]


@pytest.mark.parametrize("stack", STACKS)
def test_every_stored_secret_appears_once_from_its_home_through_an_interpolation(
    stack: str,
) -> None:
    settings, estate = _estate(stack)
    envs = build(ROOT, stack)
    base, env, deploy = _docs(render(envs))
    # the YAML parses back to what was built
    assert base == envs.base and env == envs.env and deploy == envs.deploy
    assert env["imports"] == ["neural-trader-secrets/base"]
    values = env["values"]
    variables = values["environmentVariables"]
    homes = {s.name: s.home for s in estate.secrets}
    assert set(variables) == set(homes)  # every stored secret, nothing else
    read: dict[str, list[str]] = {}
    for provider, inputs in _opens(values, []):
        if provider.endswith("-secrets"):
            store = provider.removesuffix("-secrets")
            names = inputs.get("get") or inputs.get("access") or inputs.get("read")
            for name in names:
                read.setdefault(name, []).append(store)
    assert read == {n: [h] for n, h in homes.items()}  # once each, from its home store
    for name, ref in variables.items():
        match = INTERPOLATION.fullmatch(ref)
        assert match, f"{name}: not a single interpolation"
        path = match.group(1).split(".")
        home = homes[name]
        assert path[0] == home and path[1] == "secrets" and name in path
        # The interpolation names the provider block that reads it and that block's key.
        block_path = ".".join(path[: path.index(name)])
        block = _walk(values, block_path)
        (provider,) = [k for k in block if k.startswith("fn::open::")]
        assert provider == f"fn::open::{home}-secrets"
        tail = path[path.index(name) + 1 :]
        assert tail == (["data", "value"] if home == "vault" else [])  # KV v2's value key
    # a login for exactly the home stores
    logins = {p.removesuffix("-login") for p, _ in _opens(values, []) if p.endswith("-login")}
    assert logins == set(homes.values())
    for store in logins:  # each secrets block logs in with its store's login
        for provider, inputs in _opens(values[store], []):
            if provider.endswith("-secrets"):
                assert inputs["login"] == f"${{{store}.login}}"
    assert settings.environment.value in envs.env_name


@pytest.mark.parametrize("stack", STACKS)
def test_each_reference_is_where_the_home_store_keeps_the_secret(stack: str) -> None:
    """The secrets blocks agree with each home's ``locations()`` (what the program creates)."""
    settings, estate = _estate(stack)
    values = build(ROOT, stack).env["values"]
    for backend, block in enabled(settings):
        if backend.name == "kubernetes":
            continue
        where = backend.locations(estate.held_by(backend.name), block)
        for provider, inputs in _opens(values.get(backend.name, {}), []):
            if not provider.endswith("-secrets"):
                continue
            for name, ref in (inputs.get("get") or inputs.get("access") or inputs["read"]).items():
                location = where[name]
                if provider == "aws-secrets":
                    assert location.endswith(f":secret:{ref['secretId']}-??????")
                    assert f":{inputs['region']}:" in location
                elif provider == "gcp-secrets":
                    assert location == f"projects/{block.project}/secrets/{ref['name']}"
                elif provider == "azure-secrets":
                    vault = inputs["vault"]
                    assert location == f"https://{vault}.vault.azure.net/secrets/{ref['name']}"
                else:
                    assert location == ref["path"]


@pytest.mark.parametrize("stack", STACKS)
def test_provider_inputs_have_the_documented_shapes(stack: str) -> None:
    seen: set[str] = set()
    for provider, inputs in _opens(build(ROOT, stack).env["values"], []):
        assert isinstance(inputs, dict), provider
        for path, (documented, required) in DOCUMENTED.items():
            head, _, rest = path.partition(".")
            if head != provider:
                continue
            nodes = [inputs]
            for part in rest.split(".") if rest else []:
                nodes = [v for n in nodes for v in (n.values() if part == "*" else [n[part]])]
            for node in nodes:
                assert isinstance(node, dict), path
                assert set(node) <= documented, f"{path}: undocumented {set(node) - documented}"
                assert required <= set(node), f"{path}: missing {required - set(node)}"
                seen.add(path)
        if provider == "azure-login":
            assert inputs["oidc"] is True
        if provider == "vault-login":
            assert re.fullmatch(r"https?://[^/]+", inputs["address"])  # no path, as documented
    assert {p.split(".")[0] for p in seen} == {
        f"{s}-{k}" for s in ("aws", "gcp", "azure", "vault") for k in ("login", "secrets")
    }


@pytest.mark.parametrize("stack", STACKS)
def test_no_value_is_ever_written(stack: str) -> None:
    text = render(build(ROOT, stack))
    assert "fn::secret" not in text and "secure:" not in text
    for doc in _docs(text):
        assert not list(scan_value(doc))
        for name, ref in doc.get("values", {}).get("environmentVariables", {}).items():
            # ARM_USE_OIDC: "true" is the one literal (a switch, ESC's azure-login page)
            assert INTERPOLATION.fullmatch(ref) or (name, ref) == ("ARM_USE_OIDC", "true"), name


def test_a_replica_is_never_the_copy_read(tmp_path: Path) -> None:
    project = tmp_path
    (project / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    stack = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    stack["config"][NS + "placement"]["replicas"] = {"SENTRY_DSN": ["aws"], "JWT_SECRET": ["gcp"]}
    (project / "Pulumi.dev.yaml").write_text(yaml.safe_dump(stack))
    values = build(project, "dev").env["values"]
    aws = _opens(values["aws"], [])
    assert all("SENTRY_DSN" not in inputs.get("get", {}) for _, inputs in aws)
    assert values["environmentVariables"]["SENTRY_DSN"].startswith("${azure.secrets.")
    assert values["environmentVariables"]["JWT_SECRET"].startswith("${vault.secrets.")


@pytest.mark.parametrize(
    ("args", "layers"),
    [
        (
            ("--stack", "prod"),
            [
                "neural-trader-secrets/base",
                "neural-trader-secrets/production",
                "neural-trader-secrets/production-deploy",
            ],
        ),
        (("--stack", "dev", "--layer", "deploy"), ["neural-trader-secrets/development-deploy"]),
        (("--stack", "dev", "--layer", "env"), ["neural-trader-secrets/development"]),
        (("--stack", "dev", "--layer", "base"), ["neural-trader-secrets/base"]),
    ],
)
def test_cli_prints_the_layers_and_allows_production(
    args: tuple[str, ...], layers: list[str]
) -> None:
    proc = run_cli("env", "esc", *args, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert re.findall(r"^# ESC environment (\S+)$", proc.stdout, re.M) == layers
    assert len(_docs(proc.stdout)) == len(layers)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--stack", "staging"), "no stack file Pulumi.staging.yaml"),
        (("--stack", "dev", "--layer", "top"), "--layer"),
        (("--layer", "env"), "--stack"),
    ],
)
def test_cli_bad_input_exits_2(args: tuple[str, ...], message: str) -> None:
    proc = run_cli("env", "esc", *args, cwd=ROOT)
    assert proc.returncode == 2 and message in proc.stderr
    assert proc.stdout == "" and "Traceback" not in proc.stderr


#: What each enabled cloud's provider takes from the deploy layer: environment variables the
#: provider reads (ESC's login pages: aws-login, gcp-login, azure-login, vault-login) and config.
DEPLOY_READS = {
    "aws": ({"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}, {"aws:region"}),
    "gcp": ({"GOOGLE_CLOUD_PROJECT", "GOOGLE_OAUTH_ACCESS_TOKEN"}, {"gcp:project"}),
    "azure": (
        {"ARM_USE_OIDC", "ARM_CLIENT_ID", "ARM_TENANT_ID", "ARM_SUBSCRIPTION_ID", "ARM_OIDC_TOKEN"},
        set(),
    ),
    "vault": ({"VAULT_TOKEN"}, {"vault:address"}),
}


@pytest.mark.parametrize("stack", STACKS)
def test_the_deploy_layer_logs_in_to_every_enabled_cloud_and_configures_its_provider(
    stack: str,
) -> None:
    """The stack itself takes its provider credentials from `<project>/<env>-deploy`: one login
    per enabled cloud as the deploying identity, never the readers' one, and pulumiConfig with
    the settings the providers need; every credential an interpolation of a login's output."""
    envs = build(ROOT, stack)
    assert envs.deploy is not None and envs.deploy["imports"] == [envs.base_name]
    values = envs.deploy["values"]
    config = read_stack(ROOT, stack)
    settings = parse_settings(config.config, secret_keys=config.secret_keys)
    clouds = [b.name for b, _ in enabled(settings) if b.name in DEPLOY_READS]
    assert [k for k in values if k in DEPLOY_READS] == clouds
    variables, pulumi_config = values["environmentVariables"], values["pulumiConfig"]
    for cloud in clouds:
        ((provider, login),) = _opens(values[cloud], [])
        assert provider == f"{cloud}-login"
        identity = f"neural-trader-{settings.environment.value}-deploy"
        assert identity in str(login) or cloud == "azure", cloud
        env_vars, config_keys = DEPLOY_READS[cloud]
        assert env_vars <= set(variables) and config_keys <= set(pulumi_config), cloud
    for name, ref in variables.items():
        assert INTERPOLATION.fullmatch(ref) or ref == "true", name
    # The readers' environment carries no deploy login, and the deploy one reads no secret.
    assert "pulumiConfig" not in envs.env["values"]
    assert not [p for p, _ in _opens(values, []) if p.endswith("-secrets")]
    assert not list(scan_value(envs.deploy))


def test_a_stack_with_an_esc_block_declares_its_environments_as_resources(tmp_path: Path) -> None:
    """`esc: {organization: ...}` makes the program declare every layer as a
    pulumiservice Environment whose YAML is what `env esc` prints; the pack judges them clean."""
    import json

    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    stack = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    stack["config"][NS + "esc"] = {"organization": "acme"}
    (tmp_path / "Pulumi.dev.yaml").write_text(yaml.safe_dump(stack))
    proc = run_cli(
        "plan", "--stack", "dev", "--project-dir", str(tmp_path), "--format", "json", cwd=ROOT
    )
    assert proc.returncode == 0, proc.stderr
    plan = json.loads(proc.stdout)
    assert plan["violations"] == []
    declared = {
        (r["inputs"]["organization"], r["inputs"]["project"], r["inputs"]["name"])
        for r in plan["resources"]
        if r["type"] == "pulumiservice:index:Environment"
    }
    envs = build(tmp_path, "dev")
    assert declared == {("acme", *name.split("/", 1)) for _, name, _ in envs.layers()}
    from nt_secrets.plan import plan_stack

    _config, capture = plan_stack("dev", tmp_path)
    texts = {
        r.raw_inputs["name"]: r.raw_inputs["yaml"]["text"]
        for r in capture.resources
        if r.type == "pulumiservice:index:Environment"
    }
    for _, name, doc in envs.layers():
        assert yaml.safe_load(texts[name.split("/", 1)[1]]) == doc


@pytest.mark.parametrize("organization", ["", "-acme", "acme corp", "a" * 101])
def test_a_bad_esc_organization_is_bad_input(tmp_path: Path, organization: str) -> None:
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    stack = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    stack["config"][NS + "esc"] = {"organization": organization}
    (tmp_path / "Pulumi.dev.yaml").write_text(yaml.safe_dump(stack))
    proc = run_cli("plan", "--stack", "dev", "--project-dir", str(tmp_path), cwd=ROOT)
    assert proc.returncode == 2 and "esc" in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stdout == ""
