"""`nt-secrets explain`: a secret's whole story, checked against the estate for every secret of both
stacks, and the verdicts it shows against the policy pack's own results."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.access import ROLE_NAMES, ROLES, Action
from infra.backends.aws import aws_settings
from infra.backends.aws.naming import secret_name
from infra.catalog import CATALOG_PATH, default_catalog
from infra.stack import build_estate, parse_settings
from nt_secrets.capture import Capture
from nt_secrets.explain import STRATEGY_STEPS, explain_document
from nt_secrets.plan import records
from nt_secrets.stackfile import read_stack
from policies.framework import resources_of
from policies.graph import build
from policies.pack import ALL
from policies.runner import resolve_config, run
from tests.plans import run_cli

from .conftest import ROOT

#: ``rotatedBy`` of a home copy, per home store (the project stacks' executors).
ROTATED_BY = {
    "aws": lambda env: f"aws rotation Lambda neural-trader-{env}-secret-rotation",
    "vault": lambda env: (
        "vault rotation job (CronJob neural-trader-rotation/vault-secret-rotation, 17 3 * * *)"
    ),
    "gcp": lambda env: f"gcp rotation function neural-trader-{env}-secret-rotation",
    "azure": lambda env: (
        f"azure rotation function nt{ {'development': 'dev'}.get(env, 'prod') }-kv-rotation"
    ),
}


def cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """``nt-secrets *args`` in this process (exit code, stdout, stderr). The program run as a process
    is tested in test_golden_plan.py, test_hardening.py and test_startup.py."""
    return run_cli(*args, cwd=cwd)


def _docs(capture: Capture) -> dict[str, dict[str, Any]]:
    """explain's document for every catalog entry, from one plan of the stack."""
    config = read_stack(ROOT, capture.stack)
    catalog = default_catalog()
    settings = parse_settings(config.config, secret_keys=config.secret_keys)
    estate = build_estate(catalog, settings)
    violations = run(records(capture)).violations
    enforcement = {pid: s.enforcement for pid, s in resolve_config(None).items()}
    graph = build(resources_of(records(capture)))
    return {
        entry.name: explain_document(
            entry,
            settings=settings,
            estate=estate,
            capture=capture,
            violations=violations,
            policies=ALL,
            enforcement=enforcement,
            graph=graph,
        )
        for entry in catalog
    }


def test_every_secret_of_both_stacks_is_explained_as_the_estate_says(stack: Capture) -> None:
    config = read_stack(ROOT, stack.stack)
    settings = parse_settings(config.config, secret_keys=config.secret_keys)
    env = settings.environment
    aws = aws_settings(settings)
    docs = _docs(stack)
    workload = "backtest" if stack.stack == "dev" else "live-trading"
    for entry in default_catalog():
        doc = docs[entry.name]
        assert doc["stored"] == (entry.stored and entry.needed_in(env)), entry.name
        if not doc["stored"]:
            assert doc["reason"] and "stores" not in doc
            continue
        stores = {store["backend"]: store for store in doc["stores"]}
        # One home per secret (the stack's placement), no replicas; Kubernetes only delivers.
        home = settings.placements[entry.name].home
        assert doc["home"] == home and doc["replicas"] == []
        assert set(stores) - {"kubernetes"} == {home}, entry.name
        assert stores[home]["role"] == "home"
        assert all(s["role"] == "delivery" for b, s in stores.items() if b != home)
        assert doc["valueSource"] == ("generated" if entry.generated else "external")
        assert stores[home]["valueSource"] == doc["valueSource"]
        # Who rotates it: the executor the plan declares for its home (none there says so).
        assert stores[home]["rotatedBy"] == ROTATED_BY[home](env.value), entry.name
        held_types = [r["type"] for r in stores[home]["resources"]]
        if home == "aws":
            store = stores["aws"]
            arn = f"arn:aws:secretsmanager:{aws.region}:{aws.account_id}:secret:{secret_name(entry, env)}"
            assert store["location"] == arn + "-??????"
            (held,) = store["resources"]
            assert held["type"] == "aws:secretsmanager/secret:Secret"
            assert held["address"].startswith(arn + "-")
        elif home == "vault":
            path = f"neural-trader/{env.value}/data/{entry.service}/{entry.key}"
            assert stores["vault"]["location"] == path
            assert held_types == ["vault:kv/secretV2:SecretV2"]
        elif home == "gcp":
            assert held_types == ["gcp:secretmanager/secret:Secret"]
        else:
            assert held_types == ["azure-native:keyvault:Secret"]
        # Who may do what: exactly the access model, role by role, in every store.
        for backend, store in stores.items():
            granted = {g["role"]: set(g["actions"]) for g in store["intended"]}
            identity = {g["role"]: g["identity"] for g in store["intended"]}
            # The delivery shows only the workload roles it runs (their service accounts).
            roles = [r for r in ROLE_NAMES if backend != "kubernetes" or r == workload]
            assert set(granted) <= set(roles), (backend, entry.name)
            for role in roles:
                expected = {a.value for a in ROLES[role].grants(entry, env)}
                assert granted.get(role, set()) == expected, (backend, entry.name, role)
                if role in granted and backend == "aws":
                    assert identity[role] == (
                        f"arn:aws:iam::{aws.account_id}:role/neural-trader-{env.value}-{role}"
                    )
                if role in granted and backend == "vault":
                    assert identity[role] == f"policy neural-trader-{env.value}-{role}"
        assert doc["intendedReaders"] == [
            r for r in ROLE_NAMES if Action.READ in ROLES[r].grants(entry, env)
        ]
        # Who can read, from the access graph (the pack's evaluators), agrees with the intent:
        # in every store, the roles whose identities read are the roles meant to read (and the
        # home's rotation); every reader stands for a role; explain's readers are the graph's.
        graph_readers: set[str] = set()
        for backend, store in stores.items():
            meant = {g["role"] for g in store["intended"] if "read" in g["actions"]}
            direct = [g for g in store["access"] if not g["escalation"]]
            reading = {g["role"] for g in direct if "read" in g["actions"]}
            assert None not in reading, (backend, entry.name, direct)
            rotation = {"rotation"} if backend == home and entry.rotation else set()
            assert reading - rotation == meant, (backend, entry.name)
            graph_readers |= {g["principal"] for g in direct if "read" in g["actions"]}
        assert doc["readers"] == sorted(graph_readers)
        rotation = doc["rotation"]
        assert entry.rotation is not None and entry.strategy is not None
        assert rotation["periodDays"] == settings.rotation_days(entry)
        assert rotation["strategy"] == entry.strategy.value
        assert list(rotation["steps"].values()) == list(STRATEGY_STEPS[entry.strategy])
        assert doc["revoked"] is False
        types = {r["type"] for r in doc["resources"]}
        if home == "aws":
            assert {
                "aws:secretsmanager/secret:Secret",
                "aws:secretsmanager/secretPolicy:SecretPolicy",
                "aws:secretsmanager/secretRotation:SecretRotation",
                "aws:lambda/permission:Permission",
            } <= types, entry.name
        # The project's stacks pass the pack: every verdict shown is a pass.
        verdicts = {v["verdict"] for v in doc["policies"]}
        assert verdicts == {"pass"}, entry.name
        ids = {v["policy"] for v in doc["policies"]}
        # The home store's own policies judged it, and the stack invariants of the estate.
        encryption = {
            "aws": "aws-secretsmanager-cmk-encryption",
            "vault": "vault-policy-least-privilege",
            "gcp": "gcp-secretmanager-cmek",
            "azure": "azure-keyvault-secret-expiry",
        }[home]
        assert {encryption, "nt-stack-catalog-coverage", "nt-stack-single-source"} <= ids, (
            entry.name,
            sorted(ids),
        )


def test_explain_json_from_the_command_line() -> None:
    proc = cli("explain", "JWT_SECRET", "--stack", "prod", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["name"] == "JWT_SECRET" and doc["environment"] == "production"
    assert doc["scopes"] == ["live"] and doc["classification"] == "restricted"
    assert doc["rotation"]["periodDays"] == 365
    assert doc["rotation"]["emergency"] == "nt-secrets rotate JWT_SECRET --now --stack prod"
    assert "nt-plan-canary" not in proc.stdout  # never a (mocked) generated value


def test_explain_text_tells_the_story() -> None:
    proc = cli("explain", "JWT_SECRET", "--stack", "prod")
    assert proc.returncode == 0, proc.stderr
    for text in (
        "JWT_SECRET",
        "neural-trader/production/auth/jwt-secret",
        "live-trading",
        "Rotation: generated-hmac, every 365 days",
        "Revocation: not revoked",
        "nt-stack-paper-live-separation",
    ):
        assert text in proc.stdout, text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("explain", "NOT_A_SECRET", "--stack", "dev"),
            "NOT_A_SECRET is not in the secret catalog",
        ),
        (("explain", "JWT_SECRET", "--stack", "nope"), "nope"),
        (("explain", "JWT_SECRET"), "--stack"),
    ],
)
def test_explain_bad_input_exits_2(args: tuple[str, ...], message: str) -> None:
    proc = cli(*args)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr and proc.stdout == ""


def _project(tmp_path: Path, config: dict[str, object]) -> Path:
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    base = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    base["config"].update(config)
    (tmp_path / "Pulumi.t.yaml").write_text(yaml.safe_dump(base))
    return tmp_path


def test_explain_shows_revocation_failures_and_disabled_policies(tmp_path: Path) -> None:
    # DATABASE_URL lives in Secrets Manager (its home), where these two policies judge it.
    project = _project(tmp_path, {"neural-trader-secrets:revoked": ["DATABASE_URL"]})
    pack_config = tmp_path / "pack.json"
    pack_config.write_text(
        json.dumps(
            {
                "aws-secretsmanager-cmk-encryption": "disabled",
                # Tighter than the schedule the stack declares: the rotation is now too slow.
                "aws-secretsmanager-rotation-schedule": {"maximumDays": {"database_password": 7}},
            }
        )
    )
    proc = cli(
        "explain",
        "DATABASE_URL",
        "--stack",
        "t",
        "--project-dir",
        str(project),
        "--format",
        "json",
        "--policy-pack-config",
        str(pack_config),
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["revoked"] is True
    verdicts = {(v["policy"], v["verdict"]) for v in doc["policies"]}
    assert ("aws-secretsmanager-cmk-encryption", "disabled") in verdicts
    assert ("aws-secretsmanager-rotation-schedule", "fail") in verdicts
    (failed,) = (v for v in doc["policies"] if v["verdict"] == "fail")
    assert failed["messages"]


def test_a_catalog_change_is_tried_offline(tmp_path: Path) -> None:
    """The README's promise: remove an entry, plan with the changed catalog, and the plan (and
    the pack, which judges against the same catalog) no longer has the secret."""
    data = yaml.safe_load(CATALOG_PATH.read_text())
    data["entries"] = [e for e in data["entries"] if e["name"] != "JWT_SECRET"]
    changed = tmp_path / "catalog.yaml"
    changed.write_text(yaml.safe_dump(data))
    proc = cli("plan", "--stack", "dev", "--catalog", str(changed), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    plan = json.loads(proc.stdout)
    # JWT_SECRET and ENCRYPTION_KEY live in Vault: its KV secrets carry their catalog names.
    names = {
        r["inputs"]["customMetadata"]["data"].get("catalog-name")
        for r in plan["resources"]
        if r["type"] == "vault:kv/secretV2:SecretV2"
    }
    assert "JWT_SECRET" not in names and "ENCRYPTION_KEY" in names
    assert plan["violations"] == []
    # explain reads the same catalog: the removed entry is unknown there.
    proc = cli("explain", "JWT_SECRET", "--stack", "dev", "--catalog", str(changed))
    assert proc.returncode == 2 and "not in the secret catalog" in proc.stderr


@pytest.mark.parametrize("name", ["JWT_SECRET", "DATABASE_URL", "OPENAI_API_KEY", "SENTRY_DSN"])
def test_a_revoked_secret_has_no_reader_in_explain(tmp_path: Path, name: str) -> None:
    """What the plan does to a revoked secret (every read denied in its home, no delivery),
    explain says: no reader, no role with read in any store, no row without an identity."""
    project = _project(tmp_path, {"neural-trader-secrets:revoked": [name]})
    proc = cli("explain", name, "--stack", "t", "--project-dir", str(project), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    # Only the rotation keeps reading it: step 3 of the incident rotates the compromised value
    # (docs/incident-response.md); every role of the access model is denied.
    assert doc["revoked"] is True and doc["intendedReaders"] == []
    assert all("rotation" in r for r in doc["readers"]), doc["readers"]
    for store in doc["stores"]:
        assert store["location"] is not None, store["backend"]
        for grant in store["access"]:
            if "read" in grant["actions"]:
                assert grant["principal"] in doc["readers"] and grant["role"] == "rotation", grant
    # The delivery drops a revoked secret: no Kubernetes row at all.
    assert "kubernetes" not in {s["backend"] for s in doc["stores"]}
    text = cli("explain", name, "--stack", "t", "--project-dir", str(project))
    assert text.returncode == 0 and "None" not in text.stdout


def test_text_names_each_principal_with_its_role_and_path() -> None:
    """The text rows carry what the JSON does: actions, the principal, the access-model role it
    stands for (in brackets, never eaten as terminal markup) and the path that grants it."""
    proc = cli("explain", "SENTRY_DSN", "--stack", "prod")
    assert proc.returncode == 0, proc.stderr
    rows = [line for line in proc.stdout.splitlines() if line.startswith("  read")]
    assert any(line.endswith("[trader]") for line in rows), rows
    assert any(line.endswith("[live-trading]") for line in rows), rows
    assert any(line.endswith("[rotation]") for line in rows), rows
    assert "    via access policy " in proc.stdout
