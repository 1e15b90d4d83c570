"""The CI workflow can deploy what the stacks enable (issue 22): read from the YAML under .github/.

* every job that runs ``pulumi preview``/``up``/``refresh`` logs in, before its first Pulumi step
  and bound to the stack's GitHub environment, to every backend the stacks it touches enable
  (the stack files read as ``plan`` reads them, through ``scripts/ci_stack_needs.py``);
* every ``uses:`` is pinned by a 40-hex commit with its version in a comment, one pin per action;
* the SARIF upload cannot block a deploy; the Pulumi CLI version is pinned (to the lock's SDK);
* the pack is published on main after the tests; dependabot watches ``policies/`` with a cooldown;
  actionlint and zizmor (over all of ``.github/``) are clean.

Each checker is a function run on the real files and on mutated copies, so a check that could
not fail would show.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.backends import registry
from nt_secrets.stackfile import read_stack
from tests.conftest import ROOT, script_module
from tests.stacks import enable_only

GITHUB = ROOT / ".github"
WORKFLOW_PATH = GITHUB / "workflows" / "secrets-infra.yml"
ACTION_DIR = GITHUB / "actions" / "cloud-credentials"
ACTION_PATH = ACTION_DIR / "action.yml"
LOCAL_ACTION = "$/.github/actions/cloud-credentials"
needs_script = script_module("scripts/ci_stack_needs.py")

#: The composite action's input carrying each GitHub variable a login needs.
INPUT_FOR = {
    "AWS_ROLE_ARN": "aws-role-arn",
    "GCP_WORKLOAD_IDENTITY_PROVIDER": "gcp-workload-identity-provider",
    "GCP_SERVICE_ACCOUNT": "gcp-service-account",
    "AZURE_CLIENT_ID": "azure-client-id",
    "VAULT_ROLE": "vault-role",
    "EKS_CLUSTER_NAME": "eks-cluster-name",
}
#: Per backend: the composite steps that log in for it, as (predicate on the step, the output
#: its ``if:`` must test).
LOGINS: dict[str, list[tuple[str, Callable[[dict[str, Any]], bool], str]]] = {
    "aws": [
        ("aws-actions/configure-aws-credentials", lambda s: _uses(s, "aws-actions/configure-aws-credentials"), "aws-session"),
    ],
    "gcp": [
        ("google-github-actions/auth", lambda s: _uses(s, "google-github-actions/auth"), "gcp"),
    ],
    "azure": [
        ("azure/login", lambda s: _uses(s, "azure/login"), "azure"),
        ("ARM_USE_OIDC for azure-native", lambda s: "ARM_USE_OIDC=true" in str(s.get("run", "")), "azure"),
    ],
    "vault": [
        ("hashicorp/vault-action (jwt)", lambda s: _uses(s, "hashicorp/vault-action") and s.get("with", {}).get("method") == "jwt", "vault"),
    ],
    "kubernetes": [
        ("aws-actions/configure-aws-credentials", lambda s: _uses(s, "aws-actions/configure-aws-credentials"), "aws-session"),
        ("aws eks update-kubeconfig", lambda s: "aws eks update-kubeconfig" in str(s.get("run", "")), "kubernetes"),
    ],
}  # fmt: skip
PULUMI_COMMANDS = frozenset({"preview", "up", "refresh"})
SHA = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_./-]+)?@([0-9a-f]{40})$")
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(\S+)(.*)$")


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), path
    return data


def yaml_files() -> list[Path]:
    return sorted(p for p in GITHUB.rglob("*") if p.suffix in {".yml", ".yaml"})


def _uses(step: Mapping[str, Any], action: str) -> bool:
    return str(step.get("uses", "")).lower().startswith(action.lower() + "@")


def steps_of(doc: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(job id or "composite", step) for every step of a workflow or a composite action."""
    for job_id, job in (doc.get("jobs") or {}).items():
        for step in job.get("steps") or []:
            yield job_id, step
    for step in (doc.get("runs") or {}).get("steps") or []:
        yield "composite", step


def pulumi_command(step: Mapping[str, Any]) -> str | None:
    """The preview/up/refresh a step runs (pulumi/actions or a `pulumi ...` command), if any."""
    if _uses(step, "pulumi/actions"):
        command = str(step.get("with", {}).get("command", ""))
        return command if command in PULUMI_COMMANDS else None
    found = re.search(r"\bpulumi\s+(preview|up|refresh)\b", str(step.get("run", "")))
    return found.group(1) if found else None


def stacks_of(job: Mapping[str, Any], expression: str) -> list[str]:
    """The stacks a stack expression (``dev``, ``${{ matrix.stack }}``) takes in a job."""
    expression = expression.strip()
    if re.fullmatch(r"\$\{\{\s*matrix\.stack\s*\}\}", expression):
        return [str(s) for s in job["strategy"]["matrix"]["stack"]]
    assert "${{" not in expression, f"unresolvable stack expression {expression!r}"
    return [expression]


def substitute(text: str, stack: str) -> str:
    return re.sub(r"\$\{\{\s*matrix\.stack\s*\}\}", stack, text)


def enabled_backends(stack: str) -> list[str]:
    config = read_stack(ROOT, stack)
    outputs = needs_script.needs(config.config, config.secret_keys)
    return [b for b in outputs["backends"].split(",") if b]


# ---- the checkers ------------------------------------------------------------------------------


def credential_gaps(
    workflow: Mapping[str, Any],
    action: Mapping[str, Any],
    backends_of: Callable[[str], list[str]] = enabled_backends,
) -> list[str]:
    """What a Pulumi job lacks to log in to the backends of the stacks it touches."""
    gaps: list[str] = []
    composite = [s for _, s in steps_of(action)]
    needs_step = next((s for s in composite if s.get("id") == "needs"), None)
    if needs_step is None or "scripts/ci_stack_needs.py" not in str(needs_step.get("run", "")):
        gaps.append("composite: no step `needs` running scripts/ci_stack_needs.py")
    elif "--check" not in str(needs_step["run"]):
        gaps.append("composite: scripts/ci_stack_needs.py runs without --check")
    else:
        env = needs_step.get("env") or {}
        for variable, name in INPUT_FOR.items():
            if not re.fullmatch(rf"\$\{{\{{\s*inputs\.{name}\s*\}}\}}", str(env.get(variable, ""))):
                gaps.append(f"composite: needs step does not hand {variable} to --check")
    for job_id, job in (workflow.get("jobs") or {}).items():
        steps = job.get("steps") or []
        pulumi_at = [i for i, s in enumerate(steps) if pulumi_command(s)]
        if not pulumi_at:
            continue
        if (job.get("permissions") or {}).get("id-token") != "write":
            gaps.append(f"{job_id}: no `id-token: write` (no OIDC token, no login)")
        logins = [i for i, s in enumerate(steps) if str(s.get("uses", "")) == LOCAL_ACTION]
        if not logins or logins[0] > pulumi_at[0]:
            gaps.append(f"{job_id}: no {LOCAL_ACTION} step before its first Pulumi step")
            continue
        login = steps[logins[0]]
        given = login.get("with") or {}
        for i in pulumi_at:
            name = str(steps[i].get("with", {}).get("stack-name", ""))
            if name.rsplit("/", 1)[-1].strip() != str(given.get("stack", "")).strip():
                gaps.append(f"{job_id}: logs in for stack {given.get('stack')!r}, runs {name!r}")
        for stack in stacks_of(job, str(given.get("stack", ""))):
            environment = substitute(str(job.get("environment", "")), stack)
            if environment not in {stack, f"{stack}-preview"}:
                gaps.append(f"{job_id}: stack {stack} runs in environment {environment!r}")
            for backend in backends_of(stack):
                if backend not in LOGINS:
                    gaps.append(f"{job_id}: stack {stack} enables {backend}: no CI login known")
                    continue
                for variable in needs_script.REQUIRED_VARIABLES[backend]:
                    value = str(given.get(INPUT_FOR[variable], ""))
                    if not re.fullmatch(rf"\$\{{\{{\s*vars\.{variable}\s*\}}\}}", value):
                        gaps.append(f"{job_id}: {stack} enables {backend}, {variable} not passed")
                for what, matches, output in LOGINS[backend]:
                    found = [s for s in composite if matches(s)]
                    wanted = f"steps.needs.outputs.{output} == 'true'"
                    if not found:
                        gaps.append(f"{job_id}: {stack} enables {backend}: no {what} step")
                    elif any(str(s.get("if", "")).strip() != wanted for s in found):
                        gaps.append(f"{job_id}: {what} does not run on `{wanted}`")
    return gaps


def pin_problems(files: Mapping[str, str]) -> list[str]:
    """``uses:`` lines not pinned by a 40-hex commit with a ``# vX.Y.Z`` comment, local actions
    that do not exist, and actions pinned to two commits."""
    problems: list[str] = []
    pins: dict[str, set[tuple[str, str]]] = {}
    for name, text in files.items():
        parsed = [str(s["uses"]) for _, s in steps_of(yaml.safe_load(text)) if "uses" in s]
        lines = [m for m in map(USES_LINE.match, text.splitlines()) if m]
        if sorted(m.group(1) for m in lines) != sorted(parsed):
            problems.append(f"{name}: a `uses:` the line check does not see (flow style?)")
        for m in lines:
            ref, rest = m.group(1), m.group(2)
            if ref.startswith(("$/", "./")):
                target = ROOT / ref.removeprefix("$/").removeprefix("./")
                if not (target / "action.yml").is_file():
                    problems.append(f"{name}: {ref}: no action.yml there")
                continue
            pinned = SHA.match(ref)
            version = re.fullmatch(r"\s*#\s*(v\d+\.\d+\.\d+)\s*", rest)
            if not pinned:
                problems.append(f"{name}: {ref} is not pinned by a full commit")
            elif not version:
                problems.append(f"{name}: {ref} has no `# vX.Y.Z` version comment")
            else:
                action = ref.split("@")[0].split("/")[:2]
                pins.setdefault("/".join(action).lower(), set()).add(
                    (pinned.group(1), version.group(1))
                )
    problems += [f"{a}: pinned {len(p)} ways {sorted(p)}" for a, p in pins.items() if len(p) > 1]
    return problems


def needs_closure(workflow: Mapping[str, Any], job_id: str) -> set[str]:
    jobs = workflow["jobs"]
    seen: set[str] = set()
    todo = list(_as_list(jobs[job_id].get("needs")))
    while todo:
        j = todo.pop()
        if j not in seen:
            seen.add(j)
            todo += _as_list(jobs[j].get("needs"))
    return seen


def _as_list(value: Any) -> list[str]:
    return [] if value is None else [value] if isinstance(value, str) else list(value)


def sarif_blockers(workflow: Mapping[str, Any]) -> list[str]:
    """SARIF uploads that could fail a job a deploy (or preview, or publish) needs, or that run
    where code scanning is not known to be on."""
    problems = []
    jobs = workflow["jobs"]
    uploads = {
        j: [s for s in job.get("steps") or [] if _uses(s, "github/codeql-action/upload-sarif")]
        for j, job in jobs.items()
    }
    for j, steps in uploads.items():
        for s in steps:
            if "vars.CODE_SCANNING == 'true'" not in str(s.get("if", "")):
                problems.append(f"{j}: SARIF upload not gated on vars.CODE_SCANNING")
    for j, job in jobs.items():
        runs_pulumi = any(pulumi_command(s) for s in job.get("steps") or [])
        publishes = any(
            "publish-policy-pack" in str(s.get("run", "")) for s in job.get("steps") or []
        )
        if not (runs_pulumi or publishes):
            continue
        for needed in sorted(needs_closure(workflow, j) | {j}):
            for s in uploads[needed]:
                if s.get("continue-on-error") is not True:
                    problems.append(f"{j} needs {needed}, whose SARIF upload can fail it")
    return problems


def pulumi_version_problems(workflow: Mapping[str, Any], sdk: str) -> list[str]:
    problems = []
    env = workflow.get("env") or {}
    for job_id, step in steps_of(workflow):
        if not _uses(step, "pulumi/actions"):
            continue
        raw = str(step.get("with", {}).get("pulumi-version", ""))
        ref = re.fullmatch(r"\$\{\{\s*env\.(\w+)\s*\}\}", raw)
        value = str(env.get(ref.group(1), "")) if ref else raw
        if not re.fullmatch(r"3\.\d+\.\d+", value):
            problems.append(f"{job_id}: pulumi-version {raw!r} is not an exact 3.x version")
        elif value != sdk:
            problems.append(f"{job_id}: pulumi-version {value} is not the lock's SDK {sdk}")
    return problems


# ---- the real files ----------------------------------------------------------------------------

WORKFLOW = load(WORKFLOW_PATH)
ACTION = load(ACTION_PATH)


def lock_version(package: str) -> str:
    found = re.search(
        rf"^{re.escape(package)}==([^\s\\]+)", (ROOT / "requirements.lock").read_text(), re.M
    )
    assert found, package
    return found.group(1)


def test_every_pulumi_job_logs_in_to_every_backend_its_stacks_enable() -> None:
    jobs = {j for j, s in steps_of(WORKFLOW) if pulumi_command(s)}
    assert jobs == {"preview", "deploy-dev", "deploy-prod", "drift"}
    assert {b for s in ("dev", "prod") for b in enabled_backends(s)} == set(registry())
    assert credential_gaps(WORKFLOW, ACTION) == []


def test_every_registered_backend_has_a_ci_login() -> None:
    assert set(LOGINS) == set(registry()) == set(needs_script.REQUIRED_VARIABLES)
    assert set(INPUT_FOR) == {v for vs in needs_script.REQUIRED_VARIABLES.values() for v in vs}
    inputs = ACTION["inputs"]
    assert set(INPUT_FOR.values()) <= set(inputs)


def _drop_step(doc: dict[str, Any], where: str, matches: Callable[[dict[str, Any]], bool]) -> None:
    if where == "composite":
        doc["runs"]["steps"] = [s for s in doc["runs"]["steps"] if not matches(s)]
    else:
        doc["jobs"][where]["steps"] = [s for s in doc["jobs"][where]["steps"] if not matches(s)]


def _is_login(step: Mapping[str, Any]) -> bool:
    return str(step.get("uses", "")) == LOCAL_ACTION


def _mutate(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    wf, act = copy.deepcopy(WORKFLOW), copy.deepcopy(ACTION)
    if name == "no gcp login":
        _drop_step(act, "composite", lambda s: _uses(s, "google-github-actions/auth"))
    elif name == "no kubeconfig":
        _drop_step(act, "composite", lambda s: "update-kubeconfig" in str(s.get("run", "")))
    elif name == "no azure provider env":
        _drop_step(act, "composite", lambda s: "ARM_USE_OIDC" in str(s.get("run", "")))
    elif name == "vault login ungated":
        next(s for s in act["runs"]["steps"] if _uses(s, "hashicorp/vault-action"))["if"] = ""
    elif name == "aws login on aws only":
        step = next(
            s for s in act["runs"]["steps"] if _uses(s, "aws-actions/configure-aws-credentials")
        )
        step["if"] = "steps.needs.outputs.aws == 'true'"
    elif name == "drift without login":
        _drop_step(wf, "drift", _is_login)
    elif name == "login after up":
        steps = wf["jobs"]["deploy-prod"]["steps"]
        login = next(s for s in steps if _is_login(s))
        steps.remove(login)
        steps.append(login)
    elif name == "login for the wrong stack":
        next(s for s in wf["jobs"]["deploy-prod"]["steps"] if _is_login(s))["with"]["stack"] = "dev"
    elif name == "no id-token":
        del wf["jobs"]["preview"]["permissions"]["id-token"]
    elif name == "azure client id not passed":
        del next(s for s in wf["jobs"]["deploy-dev"]["steps"] if _is_login(s))["with"][
            "azure-client-id"
        ]
    elif name == "prod deployed from the dev environment":
        wf["jobs"]["deploy-prod"]["environment"] = "dev"
    elif name == "needs step without --check":
        act["runs"]["steps"][0]["run"] = act["runs"]["steps"][0]["run"].replace(" --check", "")
    elif name == "a pulumi run step":
        wf["jobs"]["test"]["steps"].append({"run": "pulumi up --yes --stack dev"})
    return wf, act


@pytest.mark.parametrize(
    ("mutation", "expected"),
    [
        ("no gcp login", "no google-github-actions/auth step"),
        ("no kubeconfig", "no aws eks update-kubeconfig step"),
        ("no azure provider env", "no ARM_USE_OIDC for azure-native step"),
        ("vault login ungated", "hashicorp/vault-action (jwt) does not run on"),
        ("aws login on aws only", "configure-aws-credentials does not run on `steps.needs.outputs.aws-session"),
        ("drift without login", "drift: no $/.github/actions/cloud-credentials step"),
        ("login after up", "deploy-prod: no $/.github/actions/cloud-credentials step before"),
        ("login for the wrong stack", "deploy-prod: logs in for stack 'dev'"),
        ("no id-token", "preview: no `id-token: write`"),
        ("azure client id not passed", "deploy-dev: dev enables azure, AZURE_CLIENT_ID not passed"),
        ("prod deployed from the dev environment", "deploy-prod: stack prod runs in environment 'dev'"),
        ("needs step without --check", "runs without --check"),
        ("a pulumi run step", "test: no $/.github/actions/cloud-credentials step"),
    ],
)  # fmt: skip
def test_a_missing_login_is_found(mutation: str, expected: str) -> None:
    wf, act = _mutate(mutation)
    gaps = credential_gaps(wf, act)
    assert any(expected in g for g in gaps), gaps


def test_a_backend_without_a_ci_login_is_found() -> None:
    gaps = credential_gaps(WORKFLOW, ACTION, lambda stack: ["aws", "nomad"])
    assert "deploy-dev: stack dev enables nomad: no CI login known" in gaps


def _files() -> dict[str, str]:
    return {str(p.relative_to(ROOT)): p.read_text(encoding="utf-8") for p in yaml_files()}


def test_every_uses_is_pinned_by_a_full_commit_with_its_version() -> None:
    files = _files()
    assert {".github/workflows/secrets-infra.yml", ".github/actions/cloud-credentials/action.yml"} <= set(files)  # fmt: skip
    assert pin_problems(files) == []
    used = {
        str(s["uses"]).split("@")[0].lower()
        for text in files.values()
        for _, s in steps_of(yaml.safe_load(text))
        if "uses" in s
    }
    assert {
        "aws-actions/configure-aws-credentials",
        "google-github-actions/auth",
        "azure/login",
        "hashicorp/vault-action",
        "pulumi/actions",
        "pulumi/auth-actions",
    } <= used


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("      - uses: pulumi/actions@v7", "not pinned by a full commit"),
        ("      - uses: pulumi/actions@8e5e406f4007fca908480587cb9893c07090f58", "not pinned"),
        ("      - uses: pulumi/actions@8e5e406f4007fca908480587cb9893c07090f58d", "no `# vX.Y.Z`"),
        ("      - uses: pulumi/actions@8e5e406f4007fca908480587cb9893c07090f58d # v7", "no `# vX.Y.Z`"),
        ("      - uses: pulumi/actions@0000000000000000000000000000000000000000 # v7.0.0", "pinned 2 ways"),
        ("      - uses: ./.github/actions/nowhere", "no action.yml there"),
    ],
)  # fmt: skip
def test_an_unpinned_uses_is_found(line: str, expected: str) -> None:
    files = _files()
    name = ".github/workflows/secrets-infra.yml"
    files[name] = files[name].replace(
        "      - run: make test\n", "      - run: make test\n" + line + "\n", 1
    )
    assert any(expected in p for p in pin_problems(files)), pin_problems(files)


def test_a_uses_in_flow_style_is_not_missed() -> None:
    files = {"x.yml": "jobs:\n  a:\n    steps: [{uses: pulumi/actions@v7}]\n"}
    assert pin_problems(files) == ["x.yml: a `uses:` the line check does not see (flow style?)"]


def test_the_sarif_upload_cannot_block_a_deploy() -> None:
    assert sarif_blockers(WORKFLOW) == []
    upload = next(s for _, s in steps_of(WORKFLOW) if _uses(s, "github/codeql-action/upload-sarif"))
    assert upload["continue-on-error"] is True
    for job in ("deploy-dev", "deploy-prod", "preview", "publish-policy-pack"):
        assert "policy-check" in needs_closure(WORKFLOW, job)  # the offline check still gates


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda s: s.pop("continue-on-error"), "deploy-dev needs policy-check, whose SARIF upload"),
        (lambda s: s.update({"if": "always()"}), "policy-check: SARIF upload not gated"),
    ],
)
def test_a_blocking_sarif_upload_is_found(
    mutate: Callable[[dict[str, Any]], Any], expected: str
) -> None:
    wf = copy.deepcopy(WORKFLOW)
    mutate(next(s for _, s in steps_of(wf) if _uses(s, "github/codeql-action/upload-sarif")))
    assert any(expected in p for p in sarif_blockers(wf)), sarif_blockers(wf)


def test_the_pulumi_cli_version_is_pinned_to_the_sdk_of_the_lock() -> None:
    sdk = lock_version("pulumi")
    assert pulumi_version_problems(WORKFLOW, sdk) == []
    assert sum(1 for _, s in steps_of(WORKFLOW) if _uses(s, "pulumi/actions")) == 7
    wf = copy.deepcopy(WORKFLOW)
    del next(s for _, s in steps_of(wf) if _uses(s, "pulumi/actions"))["with"]["pulumi-version"]
    assert pulumi_version_problems(wf, sdk) == ["preview: pulumi-version '' is not an exact 3.x version"]  # fmt: skip
    wf = copy.deepcopy(WORKFLOW)
    wf["env"]["PULUMI_CLI_VERSION"] = "3.200.0"
    assert f"is not the lock's SDK {sdk}" in pulumi_version_problems(wf, sdk)[0]


def test_the_pack_is_published_on_main_after_the_tests() -> None:
    assert WORKFLOW[True]["push"]["branches"] == ["main"]  # YAML 1.1 reads `on:` as true
    job = WORKFLOW["jobs"]["publish-policy-pack"]
    assert "github.event_name == 'push'" in job["if"]
    assert set(_as_list(job["needs"])) >= {"test", "policy-check"}
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    runs = [str(s.get("run", "")) for s in job["steps"]]
    assert ".ci/publish-policy-pack" in runs
    assert any(_uses(s, "pulumi/auth-actions") for s in job["steps"])
    script = (ROOT / ".ci" / "publish-policy-pack").read_text(encoding="utf-8")
    assert "pulumi policy publish" in script and "pulumi policy ls" in script
    deploys = {j for j, s in steps_of(WORKFLOW) if pulumi_command(s) == "up"}
    assert deploys == {"deploy-dev", "deploy-prod"}
    assert all("publish-policy-pack" not in needs_closure(WORKFLOW, j) for j in deploys)


def test_dependabot_watches_the_pack_with_the_lock_and_cools_down() -> None:
    config = load(GITHUB / "dependabot.yml")
    updates = {u["package-ecosystem"]: u for u in config["updates"]}
    assert set(updates) == {"github-actions", "pip"}
    # the pack's pins must equal the lock's (test_policy_pack_standalone): one group, both dirs
    assert updates["pip"]["directories"] == ["/", "/policies"]
    assert list(updates["pip"]["groups"].values()) == [{"patterns": ["*"]}]
    assert "/.github/actions/*" in updates["github-actions"]["directories"]
    for update in updates.values():
        assert update["cooldown"]["default-days"] >= 7, update["package-ecosystem"]


def test_make_lint_runs_zizmor_over_all_of_dot_github() -> None:
    lint = (ROOT / "Makefile").read_text(encoding="utf-8").split("\nlint:", 1)[1].split("\n\n")[0]
    assert re.search(r"zizmor .*\s\.github/$", lint, re.M), lint
    assert "actionlint .github/workflows/*.yml" in lint
    assert ".ci/publish-policy-pack" in lint  # shellcheck


@pytest.mark.parametrize("tool", ["actionlint", "zizmor"])
def test_actionlint_and_zizmor_are_clean(tool: str) -> None:
    exe = shutil.which(tool, path=str(ROOT / ".venv" / "bin")) or shutil.which(tool)
    assert exe, f"{tool} is installed from requirements.lock (make venv)"
    argv = (
        [exe, str(WORKFLOW_PATH)]
        if tool == "actionlint"
        else [exe, "--offline", "--no-progress", "--format", "json", str(GITHUB)]
    )
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    if tool == "zizmor":
        assert json.loads(proc.stdout) == []
        assert str(ACTION_PATH.relative_to(ROOT)) in proc.stderr  # the composite is audited too


# ---- scripts/ci_stack_needs.py -------------------------------------------------------------------


def _dev_config() -> dict[str, str]:
    return dict(read_stack(ROOT, "dev").config)


def _home(backends: list[str]) -> str | None:
    """Vault as the only home of the dev databases is refused (their rotation reads master secrets
    from Vault only): such variants keep every secret in another enabled store."""
    return (
        next((b for b in backends if b in {"gcp", "azure"}), None)
        if "vault" in backends and "aws" not in backends
        else None
    )


@pytest.mark.parametrize(
    ("backends", "expected"),
    [
        (
            ["aws", "vault", "gcp", "azure", "kubernetes"],
            {"aws": "true", "vault": "true", "gcp": "true", "azure": "true", "kubernetes": "true",
             "aws-session": "true", "aws-region": "us-east-1",
             "vault-address": "https://vault.dev.neural-trader.internal:8200",
             "gcp-project": "neural-trader-dev",
             "azure-tenant-id": "00000000-0000-4000-8000-0000000000aa",
             "azure-subscription-id": "00000000-0000-4000-8000-000000000001"},
        ),
        (["aws"], {"aws": "true", "vault": "false", "gcp": "false", "azure": "false",
                   "kubernetes": "false", "aws-session": "true", "aws-region": "us-east-1",
                   "vault-address": "", "gcp-project": "", "azure-tenant-id": ""}),
        (["vault", "gcp"], {"aws": "false", "vault": "true", "gcp": "true", "aws-session": "false",
                            "aws-region": "", "vault-address": "https://vault.dev.neural-trader.internal:8200"}),
        # the kubeconfig comes from EKS: an AWS session (region from aws:region) without aws
        (["gcp", "kubernetes"], {"aws": "false", "gcp": "true", "kubernetes": "true",
                                 "aws-session": "true", "aws-region": "us-east-1"}),
        (["azure"], {"azure": "true", "aws-session": "false", "gcp-project": "",
                     "azure-subscription-id": "00000000-0000-4000-8000-000000000001"}),
    ],
)  # fmt: skip
def test_needs_follow_the_stacks_backends(backends: list[str], expected: dict[str, str]) -> None:
    outputs = needs_script.needs(enable_only(_dev_config(), backends, home=_home(backends)))
    assert outputs["backends"] == ",".join(backends)
    assert {k: outputs[k] for k in expected} == expected
    assert list(outputs)[:1] == ["backends"] and set(registry()) <= set(outputs)


def test_kubernetes_without_an_aws_region_is_refused() -> None:
    config = enable_only(_dev_config(), ["gcp", "kubernetes"])
    del config["aws:region"]
    with pytest.raises(needs_script.NeedsError, match="needs an AWS region"):
        needs_script.needs(config)


@pytest.mark.parametrize(
    ("backends", "environ", "missing"),
    [
        (["aws"], {}, ["AWS_ROLE_ARN"]),
        (["aws"], {"AWS_ROLE_ARN": "  "}, ["AWS_ROLE_ARN"]),
        (["aws"], {"AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/ci"}, []),
        (["gcp", "kubernetes"], {"AWS_ROLE_ARN": "r"},
         ["GCP_WORKLOAD_IDENTITY_PROVIDER", "GCP_SERVICE_ACCOUNT", "EKS_CLUSTER_NAME"]),
        (["aws", "vault", "gcp", "azure", "kubernetes"], dict.fromkeys(INPUT_FOR, "x"), []),
        (["vault", "azure"], {"VAULT_ROLE": "r"}, ["AZURE_CLIENT_ID"]),
    ],
)  # fmt: skip
def test_check_names_the_variables_a_login_lacks(
    backends: list[str], environ: dict[str, str], missing: list[str]
) -> None:
    outputs = needs_script.needs(enable_only(_dev_config(), backends, home=_home(backends)))
    assert needs_script.missing_variables(outputs, environ) == missing


def test_the_script_prints_outputs_and_refuses_bad_input(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert needs_script.main(["--stack", "prod"], environ={}) == 0
    out, err = capsys.readouterr()
    lines = dict(line.split("=", 1) for line in out.splitlines())
    assert lines["backends"] == "aws,vault,gcp,azure,kubernetes" and err == ""
    assert lines["gcp-project"] == "neural-trader-prod"
    assert needs_script.main(["--stack", "prod", "--check"], environ={"VAULT_ROLE": "r"}) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert "AWS_ROLE_ARN, GCP_WORKLOAD_IDENTITY_PROVIDER" in err and "VAULT_ROLE" not in err
    assert needs_script.main(["--stack", "nope"], environ={}) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("error: stack nope: ") and err.count("\n") == 1
