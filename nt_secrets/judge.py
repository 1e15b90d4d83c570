"""Judging a stack's state: the plaintext scan and the policy pack over its records, shared out
among processes when the state is large.

What is judged and what is reported do not depend on the number of processes: a resource policy
and the plaintext scan judge each record alone, so the records are cut into shares, each judged
by the resource policies and the plaintext scan in a process of its own (forked: the state is
read once and the children see it as it is in memory, nothing is sent to them); the stack
policies and the stack configuration are judged once, by the parent, over every record. The
violations are merged, each once, in one order (``tests/test_judge.py`` compares a shared-out
judgement with the single-process one, violation for violation).

Only where ``os.fork`` is safe to use (Linux), for states of at least
:data:`PARALLEL_MIN_RECORDS` resources (below that, starting a process costs more than it saves),
and never more processes than shares of :data:`RECORDS_PER_PROCESS` resources.
A share whose process fails (killed, out of memory) is judged again by the parent, so a
failure costs time, never a finding.
"""

from __future__ import annotations

import functools
import itertools
import os
import pickle
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, TypeVar

from nt_secrets.sources import disabled_offline, tune
from nt_secrets.state import (
    PLAINTEXT_POLICY_ID,
    StackState,
    config_findings,
    mask_flagged_names,
    plaintext_findings,
    stack_urn,
)
from policies.model import ResourceRecord, Violation
from policies.runner import resolve_config, run

#: Fewer resources than this are judged in one process.
PARALLEL_MIN_RECORDS: Final = 2_000
#: The fewest resources worth a process of their own: each process loads the detectors'
#: libraries and builds its caches once (about 0.3 s), which a share must outweigh.
RECORDS_PER_PROCESS: Final = 1_000
#: The pack's own plaintext scan of inputs, replaced in a state by ``state-plaintext-secret``
#: (which judges inputs and outputs alike and would otherwise report the same values twice).
STATE_PACK_CONFIG: Final[Mapping[str, Any]] = {"all-no-plaintext-credentials": "disabled"}

_T = TypeVar("_T")


def available_cpus() -> int:
    """The CPUs this process may run on (its affinity mask where the platform has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def judge_state(
    state: StackState, config: Mapping[str, Any] | None = None, *, jobs: int | None = None
) -> list[Violation]:
    """``state``'s plaintext findings and the pack's violations (``config``: a policy pack
    config, as for ``--policy-pack-config``), judged by ``jobs`` processes (default: one per
    available CPU; 1: this process alone), never more than one per :data:`RECORDS_PER_PROCESS`
    resources. PolicyConfigError for a bad ``config``, before any process starts."""
    records = state.records()
    pack_config = {**STATE_PACK_CONFIG, **(config or {})}
    # the plaintext scan is an offline source: a config may disable it (or tune its findings)
    scan = PLAINTEXT_POLICY_ID not in disabled_offline(config)
    jobs = min(available_cpus() if jobs is None else jobs, len(records) // RECORDS_PER_PROCESS)
    if jobs <= 1 or len(records) < PARALLEL_MIN_RECORDS or not sys.platform.startswith("linux"):
        found = state.plaintext_findings() if scan else []
        return mask_flagged_names(
            records, tune(found + run(records, config=pack_config).violations, config)
        )
    resolve_config(pack_config)  # a bad config is refused before any process starts
    shares = _shares(records, jobs)

    def share(i: int) -> list[Violation]:
        found = plaintext_findings(shares[i]) if scan else []
        found += run(shares[i], config=pack_config, kind="resource").violations
        if i == 0:  # the parent's: the stack policies and the configuration, over every record
            found += run(records, config=pack_config, kind="stack").violations
            if state.config and scan:
                found += config_findings(state.config, stack_urn(records))
        return found

    return mask_flagged_names(
        records, tune(_once([v for part in _forked(len(shares), share) for v in part]), config)
    )


#: The parent's share of the records, against a child's 1: the parent judges the stack policies
#: and the configuration besides (measured on the IAM-heavy benchmark: 0.3 s of 2.6 s of CPU).
PARENT_SHARE: Final = 0.8


def _shares(records: Sequence[ResourceRecord], jobs: int) -> list[Sequence[ResourceRecord]]:
    """``jobs`` consecutive shares, the first (the parent's) :data:`PARENT_SHARE` the size of
    each other."""
    unit = len(records) / (jobs - 1 + PARENT_SHARE)
    bounds = [0, *(round(unit * (PARENT_SHARE + i)) for i in range(jobs - 1)), len(records)]
    return [records[a:b] for a, b in itertools.pairwise(bounds)]


def _once(violations: list[Violation]) -> list[Violation]:
    """Each violation once (a state holding one URN twice has it judged in two shares; in one
    process the policies report a (URN, message) once)."""
    seen: set[tuple[str, str | None, str]] = set()
    out = []
    for v in violations:
        key = (v.policy, v.urn, v.message)
        if key not in seen:
            seen.add(key)
            out.append(v)
    return out


def _forked(n: int, work: Callable[[int], _T]) -> list[_T]:
    """``[work(0), ..., work(n - 1)]``: ``work(0)`` here, the others in forked children that send
    their result back pickled through a pipe. A child that fails has its ``work(i)`` done here."""
    children: list[tuple[int, int]] = []
    try:
        for i in range(1, n):
            read_end, write_end = os.pipe()
            pid = os.fork()
            if pid == 0:  # pragma: no cover - the child (coverage does not follow forks)
                os.close(read_end)
                _child(write_end, functools.partial(work, i))
            os.close(write_end)
            children.append((pid, read_end))
        results = [work(0)]
        for i, (pid, read_end) in enumerate(children, start=1):
            with os.fdopen(read_end, "rb") as pipe:
                data = pipe.read()
            _, status = os.waitpid(pid, 0)
            ok = os.waitstatus_to_exitcode(status) == 0 and data
            results.append(pickle.loads(data) if ok else work(i))  # noqa: S301 - our own child
        return results
    except BaseException:
        for pid, _ in children:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        raise


def _child(write_end: int, work: Callable[[], object]) -> None:  # pragma: no cover - in the child
    """Run ``work`` and send its result; the process ends here, whatever happens (no clean-up of
    the parent's state, no flush of its buffers: ``os._exit``)."""
    code = 1
    try:
        # nothing of the parent's terminal: a lock its other threads (a progress spinner) held
        # when it forked stays held here, and a warning written to it would wait forever
        sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - ends with the process
        data = pickle.dumps(work(), protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(data)
        code = 0
    finally:
        os._exit(code)
