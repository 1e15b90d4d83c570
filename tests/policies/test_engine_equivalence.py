"""The offline runner gives the engine's verdicts.

The same policy objects are driven through ``pulumi_policy``'s analyzer servicer — the gRPC service
the Pulumi engine calls during ``pulumi preview --policy-pack`` (Configure, Analyze per resource,
AnalyzeStack) — with requests built the way the engine builds them (secrets as secret envelopes,
configuration after defaults), and through ``policies.runner.run``. Verdicts must be identical,
except where the offline runner knows more: it sees secret markers that CrossGuard hides from
policies, so with secret-marked inputs its violations are a subset of the engine's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2 as proto
from pulumi_policy import EnforcementLevel
from pulumi_policy.policy import _PolicyAnalyzerServicer

from nt_secrets.plan import records
from policies.model import ResourceRecord
from policies.pack import ALL, PACK_NAME
from policies.runner import resolve_config, run
from tests.plans import planned_stack

from .test_pack import CASES

ROOT = Path(__file__).resolve().parents[2]
# Pulumi's secret envelope signature (public constants of the wire format, not secrets).
SIG_KEY = "4dabf18193072939515e22adb298388d"  # pragma: allowlist secret
SIG_SECRET = "1b47061264138c4ac30d75fd1eb44270"  # pragma: allowlist secret
SECRET_SIG = {SIG_KEY: SIG_SECRET}
LEVELS = {"advisory": proto.ADVISORY, "mandatory": proto.MANDATORY, "disabled": proto.DISABLED}
LEVEL_NAMES = {v: k for k, v in LEVELS.items()}

Verdict = tuple[str, str, str, str]  # policy, urn, message, enforcement


def _wrap(value: Any, path: str, secret_paths: set[str]) -> Any:
    if path in secret_paths:
        return {**SECRET_SIG, "value": value}
    if isinstance(value, dict):
        return {k: _wrap(v, f"{path}.{k}" if path else k, secret_paths) for k, v in value.items()}
    if isinstance(value, list):
        return [_wrap(v, f"{path}[{i}]", secret_paths) for i, v in enumerate(value)]
    return value


def _struct(record: ResourceRecord) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    json_format.ParseDict(_wrap(dict(record.props), "", set(record.secret_paths)), s)
    return s


def _options(record: ResourceRecord) -> proto.AnalyzerResourceOptions:
    return proto.AnalyzerResourceOptions(
        protect=record.protect,
        additionalSecretOutputs=list(record.additional_secret_outputs),
        parent=record.parent or "",
    )


def engine_verdicts(
    records: Sequence[ResourceRecord], config: dict[str, Any] | None = None
) -> set[Verdict]:
    servicer = _PolicyAnalyzerServicer(
        PACK_NAME, "0.1.0", [p.policy for p in ALL], EnforcementLevel.ADVISORY
    )
    request = proto.ConfigureAnalyzerRequest()
    for pid, settings in resolve_config(config).items():
        pc = request.policyConfig[pid]
        pc.enforcementLevel = LEVELS[settings.enforcement.value]
        if settings.config:
            json_format.ParseDict(dict(settings.config), pc.properties)
    servicer.Configure(request, None)
    descriptions = {p.spec.id: p.spec.description for p in ALL}
    out: set[Verdict] = set()

    def collect(diags: Any, urn: str) -> None:
        for d in diags:
            message = d.message.removeprefix(descriptions[d.policyName]).removeprefix("\n")
            out.add((d.policyName, d.urn or urn, message, LEVEL_NAMES[d.enforcementLevel]))

    for r in records:
        response = servicer.Analyze(
            proto.AnalyzeRequest(
                type=r.type, properties=_struct(r), urn=r.urn, name=r.name, options=_options(r)
            ),
            None,
        )
        collect(response.diagnostics, r.urn)
    stack = proto.AnalyzeStackRequest(
        resources=[
            proto.AnalyzerResource(
                type=r.type,
                properties=_struct(r),
                urn=r.urn,
                name=r.name,
                options=_options(r),
                parent=r.parent or "",
                dependencies=list(r.dependencies),
                # The engine sends which resources' outputs flowed into each input.
                propertyDependencies={
                    k: proto.AnalyzerPropertyDependencies(urns=list(v))
                    for k, v in r.property_dependencies.items()
                },
            )
            for r in records
        ]
    )
    collect(servicer.AnalyzeStack(stack, None).diagnostics, "")
    return {(p, u, m, e) for p, u, m, e in out}


def offline_verdicts(
    records: Sequence[ResourceRecord], config: dict[str, Any] | None = None
) -> set[Verdict]:
    """The offline runner's verdicts on what the engine is given: the analyzer protocol carries a
    resource's inputs, never stored outputs (those are judged by ``check --state`` only)."""
    engine_view = [dataclasses.replace(r, outputs=None) for r in records]
    return {
        (v.policy, v.urn or "", v.message, v.enforcement.value)
        for v in run(engine_view, config=config).violations
    }


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_project_stacks_same_verdicts(stack: str) -> None:
    recs = records(planned_stack(stack, ROOT)[1])
    assert offline_verdicts(recs) == engine_verdicts(recs)


def test_broken_program_same_verdicts() -> None:
    """A whole program's worth of planted problems: many verdicts, all identical."""
    from nt_secrets.capture import capture_program
    from tests.fixtures import broken_program

    recs = records(
        capture_program(broken_program.program, stack="broken", project="neural-trader-secrets")
    )
    offline = offline_verdicts(recs)
    assert len(offline) >= len(broken_program.EXPECTED)
    assert offline == engine_verdicts(recs)


#: The project profile under the engine and offline: a foreign project's stack (auto: off), the
#: same stack opted in (on), and this project's stack opted out (off).
PROFILE_CASES = [
    ("foreign project, auto", "someone-else", None, False),
    ("foreign project, opted in", "someone-else", "on", True),
    ("this project, auto", "neural-trader-secrets", None, True),
    ("this project, opted out", "neural-trader-secrets", "off", False),
]


@pytest.mark.parametrize(
    ("case", "project", "mode", "house_rules"), PROFILE_CASES, ids=[c[0] for c in PROFILE_CASES]
)
def test_project_profile_same_under_the_engine(
    case: str, project: str, mode: str | None, house_rules: bool
) -> None:
    from nt_secrets.capture import capture_program
    from policies.pack import ALL
    from policies.profile import Profile, profile_document
    from tests.fixtures import broken_program

    recs = records(capture_program(broken_program.program, stack="broken", project=project))
    config = profile_document(mode, [(p.spec.id, p.spec.profile) for p in ALL]) if mode else None
    offline = offline_verdicts(recs, config)
    assert offline == engine_verdicts(recs, config)
    house = {p.spec.id for p in ALL if p.spec.profile is Profile.PROJECT}
    assert bool({v[0] for v in offline} & house) is house_rules


@pytest.mark.parametrize(("case", "policy", "recs", "expected"), CASES, ids=[c[0] for c in CASES])
def test_fixture_same_verdicts(
    case: str, policy: str, recs: list[ResourceRecord], expected: int
) -> None:
    offline, engine = offline_verdicts(recs), engine_verdicts(recs)
    if any(r.secret_paths for r in recs):
        assert offline <= engine
    else:
        assert offline == engine


def test_config_is_applied_the_same_way() -> None:
    recs = [r for c in CASES for r in c[2] if r.type == "aws:kms/key:Key"]
    config = {
        "all": "advisory",
        "aws-kms-deletion-window": {"enforcementLevel": "mandatory", "minimumDays": 10},
    }
    offline = offline_verdicts(recs, config)
    assert offline == engine_verdicts(recs, config)
    assert {e for *_, e in offline} == {"advisory", "mandatory"}
