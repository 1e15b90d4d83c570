"""The project's own stacks: the AWS grapher's readers (and every other action) of each Secrets
Manager secret equal what the estate intends, for prod, dev, and a dev plan with revocations.

Intent is computed here from the program's estate (``infra.estate``: the access model's grants once
revocation applies, ``Estate.rotates`` for the rotation Lambda's role, the stack settings' trust
principals); the graph is built from the plan's resources alone."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from infra.access import ROLE_NAMES, Action
from infra.backends.aws import aws_settings
from infra.backends.aws.naming import Naming
from infra.catalog import default_catalog
from infra.stack import build_estate, parse_settings
from nt_secrets.capture import Capture
from nt_secrets.plan import plan_stack, records
from nt_secrets.stackfile import read_stack
from policies.framework import resources_of
from policies.graph import Graph, build
from tests.conftest import ROOT

Matrix = dict[str, dict[str, frozenset[Action]]]  # catalog name -> principal -> actions


def _graph(capture: Capture) -> Graph:
    return build(resources_of(records(capture)))


def _intent(project: Path, stack: str) -> tuple[Matrix, dict[str, set[str]]]:
    """(catalog name -> principal -> actions of the direct grants, catalog name -> the
    principals that reach a reading role in one step: its trust policy's principals)."""
    config = read_stack(project, stack)
    settings = parse_settings(config.config, secret_keys=config.secret_keys)
    estate = build_estate(default_catalog(), settings).held_by("aws")
    aws = aws_settings(settings)
    naming = Naming(estate.environment, aws)
    created = [r for r in ROLE_NAMES if aws.principals.for_role(r)]
    direct: Matrix = {}
    stepping: dict[str, set[str]] = {}
    for s in estate.secrets:
        row = {naming.role_arn(r): s.effective(r) for r in created if s.effective(r)}
        if estate.rotates(s):
            # the rotation Lambda's role rotates what AWS is home to, revoked or not
            row[naming.rotation_role_arn] = frozenset(Action)
        direct[s.name] = row
        stepping[s.name] = {
            p if isinstance(p, str) else subject
            for r in created
            if Action.READ in s.effective(r)
            for p in aws.principals.for_role(r)
            for subject in ([p] if isinstance(p, str) else p.subjects)
            # a service principal runs what an allowed principal gives it: the PassRole
            # escalation judges that principal, not the service
            if not subject.endswith(".amazonaws.com")
        }
    return direct, stepping


def _effect(graph: Graph) -> tuple[Matrix, dict[str, set[str]]]:
    direct: Matrix = {}
    stepping: dict[str, set[str]] = {}
    for urn, node in graph.secrets.items():
        if node.store != "aws":
            continue
        assert node.catalog_name is not None
        direct[node.catalog_name] = {
            a.principal: a.actions for a in graph.access(urn) if not a.escalation
        }
        stepping[node.catalog_name] = {
            a.principal for a in graph.access(urn) if a.escalation and Action.READ in a.actions
        }
    return direct, stepping


def _revoked_project(tmp_path: Path, names: list[str]) -> Path:
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    base = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    base["config"]["neural-trader-secrets:revoked"] = names
    (tmp_path / "Pulumi.t.yaml").write_text(yaml.safe_dump(base))
    return tmp_path


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_the_project_stacks_graph_as_the_estate_intends(
    name: str, dev: Capture, prod: Capture
) -> None:
    capture = dev if name == "dev" else prod
    graph = _graph(capture)
    assert graph.complete, graph.gaps
    want_direct, want_stepping = _intent(ROOT, name)
    got_direct, got_stepping = _effect(graph)
    assert want_direct and got_direct == want_direct
    # whoever the trust policies let in reads what the role reads, one assumption away
    assert {n: s for n, s in got_stepping.items() if s} == {
        n: s for n, s in want_stepping.items() if s
    }


def test_a_revoked_secret_has_no_reader_but_its_rotation(tmp_path: Path) -> None:
    project = _revoked_project(tmp_path, ["JWT_SECRET", "DATABASE_URL"])
    _config, capture = plan_stack("t", project)
    graph = _graph(capture)
    want_direct, want_stepping = _intent(project, "t")
    got_direct, got_stepping = _effect(graph)
    assert got_direct == want_direct
    readers = {p for p, acts in got_direct["DATABASE_URL"].items() if Action.READ in acts}
    # The access roles are denied; the rotation Lambda's role still reads it, to rotate it out of
    # the incident (its policy has no revocation deny; the secret policy lists it as a reader).
    assert readers == {"arn:aws:iam::123456789012:role/neural-trader-development-secret-rotation"}
    assert got_stepping["DATABASE_URL"] == set() == want_stepping["DATABASE_URL"]
    # the admin keeps what gets it out of the incident: a new value, rotation, its metadata
    admin = got_direct["DATABASE_URL"][
        "arn:aws:iam::123456789012:role/neural-trader-development-admin"
    ]
    assert admin == {Action.WRITE, Action.MANAGE, Action.DESCRIBE}
    # the other secrets are untouched
    assert any(Action.READ in a for a in got_direct["REDIS_PASSWORD"].values())
