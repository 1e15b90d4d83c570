"""`check --state` judged by several processes reports exactly what one process reports.

The state is large enough to be shared out (:data:`~nt_secrets.judge.PARALLEL_MIN_RECORDS`) and
mixes what every part of the judgement sees: the IAM-heavy estate of the throughput benchmark
(documents, credentials in many shapes), a real Azure checkpoint's resources (plaintext
findings in inputs and outputs), a stack configuration holding a credential, and one URN stored
twice, in two different shares.
"""

from __future__ import annotations

import dataclasses
import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from nt_secrets.judge import PARALLEL_MIN_RECORDS, STATE_PACK_CONFIG, _forked, _shares, judge_state
from nt_secrets.state import StackState, read_state
from policies.model import ResourceRecord, Violation
from policies.runner import PolicyConfigError, run
from tests.conftest import REAL_STACKS, reference_file, script_module
from tests.plans import run_cli

FAKE_ANTHROPIC = (
    "sk-ant-api03-FAKEjudgeQ7mZ3xW9pL2vN8rT4bK6dH1jF5sY0gCc"  # pragma: allowlist secret
)


def _iam_export(n: int) -> dict[str, Any]:
    export: dict[str, Any] = script_module("benchmarks/check_bench.py").make_iam_export(n)
    return export


@cache
def _state() -> StackState:
    import json
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "iam.json"
        path.write_text(json.dumps(_iam_export(PARALLEL_MIN_RECORDS + 400)))
        iam = read_state(path)
    azure = read_state(reference_file(REAL_STACKS / "azure-rmq-dev-checkpoint.json"))
    copies = [
        dataclasses.replace(r, urn=f"{r.urn}-{i}")
        for i in range(3)
        for r in azure.records()
        if r.type != "pulumi:pulumi:Stack"
    ]
    records = [*iam.records(), *copies]
    # one URN twice, the copies far apart (in different shares for 2 and 3 processes): a
    # resource with findings (its admin password in inputs and outputs)
    twice = next(r for r in copies if r.name == "vm-service")
    records.insert(1, twice)
    return dataclasses.replace(
        iam, resources=tuple(records), config={"neural-trader-secrets:apiKey": FAKE_ANTHROPIC}
    )


def _key(v: Violation) -> tuple[str, str, str, str, str]:
    return (v.policy, v.urn or "", v.message, v.severity.value, v.enforcement.value)


@cache
def _one_process() -> list[tuple[str, str, str, str, str]]:
    return sorted(map(_key, judge_state(_state(), jobs=1)))


def test_one_process_judges_as_check_did_before_the_sharing() -> None:
    state = _state()
    records = state.records()
    assert len(records) >= PARALLEL_MIN_RECORDS
    before = state.plaintext_findings() + run(records, config=STATE_PACK_CONFIG).violations
    assert _one_process() == sorted(map(_key, before))
    kinds = {k[0] for k in _one_process()}
    assert {"state-plaintext-secret", "aws-iam-no-wildcard-actions"} <= kinds
    assert any(k[2].startswith("config.") for k in _one_process()), "the configuration is judged"


@pytest.mark.parametrize("jobs", [2, 3])
def test_shared_out_among_processes_the_findings_are_the_same(jobs: int) -> None:
    shared = judge_state(_state(), jobs=jobs)
    assert len(shared) == len(set(map(_key, shared))), "each violation once"
    assert sorted(map(_key, shared)) == _one_process()


def test_the_shares_cover_every_record_once_the_parents_the_smallest() -> None:
    records = [ResourceRecord(urn=f"u{i}", type="t", name=f"n{i}", props={}) for i in range(10)]
    for jobs in (2, 3, 4):
        shares = _shares(records, jobs)
        assert len(shares) == jobs
        assert [r for s in shares for r in s] == records
        assert len(shares[0]) <= min(len(s) for s in shares[1:])


def test_children_do_their_share_and_a_failing_child_costs_no_result() -> None:
    parent = os.getpid()
    assert _forked(3, lambda i: (i, os.getpid() == parent)) == [(0, True), (1, False), (2, False)]

    def fails_elsewhere(i: int) -> int:
        if os.getpid() != parent:
            raise MemoryError
        return i * 10

    assert _forked(3, fails_elsewhere) == [0, 10, 20]  # the parent did the failed shares again


def test_no_more_processes_than_the_state_keeps_busy(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a machine with many CPUs a 2,400-resource state still gets at most two processes (a
    process must have RECORDS_PER_PROCESS resources to be worth its start)."""
    import nt_secrets.judge as judge

    counts: list[int] = []
    real = judge._forked

    def counting(n: int, work: Any) -> Any:
        counts.append(n)
        return real(n, work)

    monkeypatch.setattr(judge, "_forked", counting)
    monkeypatch.setattr(judge, "available_cpus", lambda: 64)
    shared = judge_state(_state())
    assert counts == [len(_state().records()) // judge.RECORDS_PER_PROCESS] == [2]
    assert sorted(map(_key, shared)) == _one_process()


def test_a_bad_pack_config_is_refused_before_any_process_starts() -> None:
    with pytest.raises(PolicyConfigError, match="unknown policies"):
        judge_state(_state(), {"no-such-policy": "mandatory"}, jobs=2)


@pytest.mark.parametrize(("jobs", "says"), [("0", "expected 1 to 256"), ("two", "whole number")])
def test_jobs_is_a_whole_number_of_processes(tmp_path: Path, jobs: str, says: str) -> None:
    state = tmp_path / "empty.json"
    state.write_text('{"version": 3, "deployment": {"resources": []}}')
    proc = run_cli("check", "--state", str(state), "--jobs", jobs, cwd=tmp_path)
    assert proc.returncode == 2
    assert "--jobs" in proc.stderr and says in proc.stderr
