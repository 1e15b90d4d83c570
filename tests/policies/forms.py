"""Helpers of the provider-form tables: one fixture judged as plan-like records (raw props, secret
envelopes as the engine hands them) and as a stack's state (inputs and outputs read by
``nt_secrets.state``), findings compared as (policy, resource name)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from nt_secrets.state import parse_state
from policies.model import ResourceRecord
from policies.runner import run

SIG = "4dabf18193072939515e22adb298388d"  # pragma: allowlist secret
SECRET = "1b47061264138c4ac30d75fd1eb44270"  # pragma: allowlist secret
ACCOUNT = "123456789012"
KEY_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def env(value: Any) -> dict[str, Any]:
    """A Pulumi secret envelope around ``value`` (the engine's and the SDK's form)."""
    return {SIG: SECRET, "value": value}


def cipher() -> dict[str, Any]:
    """An encrypted secret as a stack's state stores it."""
    return {SIG: SECRET, "ciphertext": "v1:AAAAbm90LWEtcmVhbC1jaXBoZXJ0ZXh0"}


@dataclass(frozen=True)
class R:
    """A resource of a fixture: type, name, inputs, optional stored outputs (state only) and
    property dependencies."""

    type: str
    name: str
    inputs: dict[str, Any]
    outputs: dict[str, Any] | None = None
    deps: dict[str, list[str]] = field(default_factory=dict)

    @property
    def urn(self) -> str:
        return f"urn:pulumi:t::neural-trader-secrets::{self.type}::{self.name}"


def urn_of(type_: str, name: str) -> str:
    return f"urn:pulumi:t::neural-trader-secrets::{type_}::{name}"


def as_records(resources: Sequence[R]) -> list[ResourceRecord]:
    """Plan-like records: the inputs as they are (envelopes included), no outputs."""
    return [
        ResourceRecord(
            urn=r.urn,
            type=r.type,
            name=r.name,
            props=r.inputs,
            property_dependencies={k: tuple(v) for k, v in r.deps.items()},
            source="fixture",
        )
        for r in resources
    ]


def as_state(resources: Sequence[R]) -> list[ResourceRecord]:
    """The same resources read from a ``pulumi stack export`` document."""
    doc = {
        "version": 3,
        "deployment": {
            "manifest": {"time": "2024-01-01T00:00:00Z", "magic": "", "version": "v3.100.0"},
            "resources": [
                {
                    "urn": r.urn,
                    "type": r.type,
                    "custom": True,
                    "inputs": r.inputs,
                    "outputs": r.inputs if r.outputs is None else r.outputs,
                    "propertyDependencies": r.deps,
                }
                for r in resources
            ],
        },
    }
    return parse_state(doc).records()


def findings(records: Iterable[ResourceRecord], policies: Iterable[str]) -> set[tuple[str, str]]:
    """(policy, resource name) of every finding of the named policies."""
    wanted = set(policies)
    out: set[tuple[str, str]] = set()
    for v in run(records).violations:
        if v.policy in wanted:
            out.add((v.policy, (v.urn or "").rsplit("::", 1)[-1]))
    return out


@dataclass(frozen=True)
class FormCase:
    """One row of a provider-form table: resources, the (policy, resource name) findings expected
    from ``policies``; ``lookalike`` rows are compliant look-alikes (no finding expected) written
    in an alternative shape; ``state_only`` rows (ciphertext, stored outputs) are judged as a
    state only."""

    id: str
    resources: tuple[R, ...]
    expected: frozenset[tuple[str, str]]
    policies: tuple[str, ...]
    state_only: bool = False

    @property
    def lookalike(self) -> bool:
        return not self.expected


def form_params(cases: Sequence[FormCase]) -> list[Any]:
    """Each case as plan records and as a state (a ``state_only`` case as a state only)."""
    import pytest

    return [
        pytest.param(case, form, id=f"{case.id}-{form}")
        for case in cases
        for form in ("records", "state")
        if not (form == "records" and case.state_only)
    ]


def judge(case: FormCase, form: str) -> set[tuple[str, str]]:
    records = as_records(case.resources) if form == "records" else as_state(case.resources)
    return findings(records, case.policies)
