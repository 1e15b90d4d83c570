"""`nt-secrets access`: selection, the four formats and bad input, on a graph whose paths are known.

The graphs here are built by hand so every rendering is checked against a known answer; the
graphers' own answers are tested per store (tests/graph/test_<store>.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from nt_secrets.access import AccessError, render, select
from policies.contract.access import Action
from policies.graph import Grant, Graph, Hop, SecretNode
from tests.plans import run_cli

from ..conftest import ROOT

R, W, M, D = Action.READ, Action.WRITE, Action.MANAGE, Action.DESCRIBE
JWT = "urn:pulumi:prod::p::aws:secretsmanager/secret:Secret::jwt"
KV = "urn:pulumi:prod::p::vault:kv/secretV2:SecretV2::jwt"
ROLE = "arn:aws:iam::111122223333:role/nt-prod-live-trading"
SA = "system:serviceaccount:trading:live"


def _graph() -> Graph:
    g = Graph()
    g.add_secret(SecretNode(JWT, "aws", "nt/prod/JWT_SECRET", "JWT_SECRET"))
    g.add_secret(SecretNode(KV, "vault", "secret/data/prod/jwt", "JWT_SECRET", revoked=True))
    g.grant(
        JWT, Grant(ROLE, frozenset({R, D}), (Hop("inline policy", "read"), Hop("statement", "0")))
    )
    g.grant(
        JWT,
        Grant(
            "arn:aws:iam::111122223333:role/dev",
            frozenset({R, D}),
            (Hop("sts:AssumeRole of", ROLE), Hop("statement", 'quote"d')),
            escalation=True,
        ),
    )
    g.grant(
        KV,
        Grant(SA, frozenset({R}), (Hop("Kubernetes auth role", "live"), Hop("policy", "reader"))),
    )
    return g


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [
        (None, [JWT, KV]),
        ("JWT_SECRET", [JWT, KV]),
        ("jwt_secret", [JWT, KV]),
        (KV, [KV]),
        ("nt/prod/JWT_SECRET", [JWT]),
        ("jwt", [KV]),  # the address's last segment
    ],
)
def test_a_secret_is_named_by_catalog_name_urn_address_or_leaf(
    wanted: str | None, expected: list[str]
) -> None:
    assert select(_graph(), wanted) == expected


def test_an_unknown_secret_is_bad_input_and_a_credential_given_as_one_is_not_echoed() -> None:
    with pytest.raises(AccessError, match="no secret of the stack"):
        select(_graph(), "NOPE")
    fake = "AKIAIOSFODNN7EXAMPLE"  # pragma: allowlist secret
    with pytest.raises(AccessError) as err:
        select(_graph(), fake)
    assert fake not in str(err.value)


def test_text_lists_every_principal_with_its_actions_paths_and_escalation() -> None:
    text = render(_graph(), "text", "JWT_SECRET", None)
    assert text.splitlines() == [
        "JWT_SECRET aws nt/prod/JWT_SECRET",
        "  arn:aws:iam::111122223333:role/dev: read, describe  (escalation)",
        '    via sts:AssumeRole of arn:aws:iam::111122223333:role/nt-prod-live-trading ← statement quote"d',
        f"  {ROLE}: read, describe",
        "    via inline policy read ← statement 0",
        "",
        "JWT_SECRET vault secret/data/prod/jwt [revoked]",
        f"  {SA}: read",
        "    via Kubernetes auth role live ← policy reader",
    ]


def test_principal_filter_keeps_only_its_paths_and_says_when_there_are_none() -> None:
    doc = json.loads(render(_graph(), "json", None, "serviceaccount"))
    assert [s["urn"] for s in doc["secrets"]] == [KV]
    assert render(_graph(), "text", None, "nobody-like-this").strip() == (
        "nobody-like-this: no access to any secret of the stack"
    )


def test_json_is_the_documented_schema() -> None:
    doc = json.loads(render(_graph(), "json", None, None))
    assert doc["schemaVersion"] == 1 and doc["complete"] is True
    first = doc["secrets"][0]
    assert set(first) == {"urn", "store", "address", "catalogName", "revoked", "principals"}
    assert {p["principal"]: p["escalation"] for p in first["principals"]} == {
        ROLE: False,
        "arn:aws:iam::111122223333:role/dev": True,
    }


def test_dot_draws_each_node_once_with_escalations_dashed_and_quotes_escaped() -> None:
    lines = render(_graph(), "dot", "JWT_SECRET", None).splitlines()
    assert lines[0] == "digraph access {" and lines[-1] == "}"
    nodes = [line for line in lines if "[label=" in line]
    labels = [re.search(r'label="((?:[^"\\]|\\.)*)"', n).group(1) for n in nodes]  # type: ignore[union-attr]
    assert len(labels) == len(set(labels))
    assert 'statement quote\\"d' in labels
    edges = [line for line in lines if "->" in line]
    assert sum("style=dashed" in e for e in edges) == 3  # principal → hop → hop → secret
    assert len(edges) == 3 + 3 + 3  # the direct path, the escalation, the Vault login


def test_mermaid_is_a_flowchart_with_entity_quoted_labels() -> None:
    lines = render(_graph(), "mermaid", None, "dev").splitlines()
    assert lines[0] == "flowchart LR"
    assert any("#quot;" in line for line in lines)
    assert all(
        '"' not in line.split('"', 1)[1].rsplit('"', 1)[0] for line in lines[1:] if '"' in line
    )
    assert sum("-.->|escalation|" in line for line in lines) == 3


def test_drawing_everything_is_refused() -> None:
    for fmt in ("dot", "mermaid"):
        with pytest.raises(AccessError, match="give --secret or --principal"):
            render(_graph(), fmt, None, None)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--stack", "prod", "--format", "dot"], "give --secret or --principal"),
        (["--stack", "prod", "--secret", "NOPE"], "--secret NOPE"),
        (["--stack", "prod", "--principal", " "], "--principal"),
        (["--stack", "nope"], "Pulumi.nope.yaml"),
        (["--state", "missing.json"], "missing.json"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str, tmp_path: Path) -> None:
    done = run_cli("access", *args, "--project-dir", str(ROOT), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""


def test_a_stack_without_secrets_says_so_and_nothing_else() -> None:
    g = Graph()
    g.gap(None, "a policy document is unknown")  # irrelevant: no secret to miss a reader of
    assert render(g, "text", None, None).splitlines() == [
        "no secret in this stack: nothing holds a value to read (looked for AWS Secrets "
        "Manager, GCP Secret Manager, Azure Key Vault, Vault KV and Kubernetes Secrets)"
    ]
    assert json.loads(render(g, "json", None, None))["secrets"] == []


@pytest.mark.parametrize(
    "state",
    sorted((ROOT / "tests" / "fixtures" / "reference" / "real-stacks").glob("*.json")),
    ids=lambda p: p.name,
)
def test_real_public_states_are_read_whole(state: Path, tmp_path: Path) -> None:
    """Foreign estates (real public state files): a report, never a crash; what could not be
    judged is listed as such."""
    done = run_cli("access", "--state", str(state), "--format", "json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["schemaVersion"] == 1
    assert doc["complete"] == (doc["gaps"] == [])


def test_the_project_stack_lists_every_stored_secret_at_its_home(tmp_path: Path) -> None:
    from infra.catalog import default_catalog
    from infra.stack import build_estate, parse_settings
    from nt_secrets.stackfile import read_stack

    done = run_cli(
        "access", "--stack", "prod", "--project-dir", str(ROOT), "--format", "json", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["complete"] is True
    config = read_stack(ROOT, "prod")
    settings = parse_settings(config.config, secret_keys=config.secret_keys)
    estate = build_estate(default_catalog(), settings)
    listed = {
        (s["catalogName"] or "").upper(): s["store"] for s in doc["secrets"] if s["catalogName"]
    }
    assert listed == {s.name: s.home for s in estate.secrets}
    for s in doc["secrets"]:
        if s["catalogName"]:
            assert any("read" in p["actions"] for p in s["principals"]), s["address"]
