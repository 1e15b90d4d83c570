"""Baselines: findings accepted once, not reported again (``check --create-baseline FILE``, then
``check --baseline FILE``).

A finding is matched by **policy, resource and location**, never by its message text, which can
quote values (a redacted hint's length, a configured number) that change while the problem stays
the same:

* the resource is the URN (``null`` for a finding about the stack as a whole);
* the location is where in the resource the finding is: the property path a message leads with
  (``outputs.adminPassword``, ``policy``, ``Pulumi.prod.yaml: aws:secretKey``), and the kind of
  finding, the rest of the message with every value taken out (digits, quoted text, redacted
  hints, ARNs' account fields become ``#``, ``'…'``, ``(hint)``): what is wrong, not with what.

An entry accepts as many findings of its key as it counts. A run with more findings under a key
than its baseline accepted reports every one of them (which one is new cannot be told): a
baseline never hides a new finding. A finding under a key the baseline does not list is new.

The file is JSON, validated with pydantic (an unknown key, a wrong type or a bad version is bad
input, exit 2); it holds no message text and no value, only the keys and counts.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nt_secrets.outputs import write_atomically
from policies.contract import redact
from policies.framework import OUTPUTS_MARK
from policies.lib.credentials import redact_text
from policies.model import Violation

VERSION: Final = 1
MAX_BASELINE_BYTES: Final = 64 * 1024 * 1024

#: A message that leads with where it is: a property path (``a.b[0].c``, ``outputs.x``), or a
#: stack settings file and a config key (``Pulumi.prod.yaml: aws:secretKey``), then ``": "``.
_LEADING_PATH: Final = re.compile(
    r"^((?:Pulumi\.[\w.-]+\.yaml: )?[A-Za-z_$][\w$:.-]*(?:\[\d+\]|\.[\w$:-]+)*): "
)
#: Values inside a message, taken out of its kind (order matters: hints before quotes/digits).
_VALUES: Final = (
    (re.compile(r"\(hint: [^()]*(?:\([^()]*\)[^()]*)*\)"), "(hint)"),
    (re.compile(r"…\s*\(\d+ chars?\)"), "(hint)"),
    (re.compile(r"'[^']*'"), "'…'"),
    (re.compile(r'"[^"]*"'), '"…"'),
    (re.compile(r"\d+"), "#"),
)


def _kind(text: str) -> str:
    for pattern, repl in _VALUES:
        text = pattern.sub(repl, text)
    return " ".join(text.split())


def location(v: Violation) -> str:
    """Where in its resource ``v`` is, and what kind of finding it is, without values."""
    message = v.message
    drift = message.startswith(OUTPUTS_MARK)
    if drift:
        message = message[len(OUTPUTS_MARK) :]
    match = _LEADING_PATH.match(message)
    path, rest = (match.group(1), message[match.end() :]) if match else ("", message)
    where = ("outputs: " if drift else "") + path
    return redact_text(f"{where} | {_kind(rest)}" if where else _kind(rest))


Key = tuple[str, "str | None", str]


def key(v: Violation) -> Key:
    return (v.policy, v.urn, location(v))


class Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    policy: str = Field(min_length=1, max_length=200)
    resource: str | None = Field(max_length=10_000)
    location: str = Field(max_length=10_000)
    count: int = Field(1, ge=1)


class Baseline(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    version: Literal[1]
    tool: Literal["nt-secrets"] = "nt-secrets"
    findings: list[Entry]

    def counts(self) -> Counter[Key]:
        out: Counter[Key] = Counter()
        for e in self.findings:
            out[(e.policy, e.resource, e.location)] += e.count
        return out


class BaselineError(ValueError):
    """A baseline file that cannot be used (exit 2)."""


def load(path: Path) -> Baseline:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BaselineError(f"--baseline {path}: {exc.strerror or 'cannot be read'}") from None
    if len(raw) > MAX_BASELINE_BYTES:
        raise BaselineError(f"--baseline {path}: larger than {MAX_BASELINE_BYTES} bytes")
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise BaselineError(f"--baseline {path}: not a JSON document") from None
    try:
        return Baseline.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = redact.loc(err.get("loc", ())) or "(document)"
        raise BaselineError(
            f"--baseline {path}: {where}: {redact.pydantic_message(err)} "
            "(make one with --create-baseline)"
        ) from None


def build(violations: Iterable[Violation]) -> Baseline:
    counts = Counter(key(v) for v in violations)
    entries = [
        Entry(policy=p, resource=u, location=loc, count=n)
        for (p, u, loc), n in sorted(
            counts.items(), key=lambda kv: (kv[0][0], kv[0][1] or "", kv[0][2])
        )
    ]
    return Baseline(version=VERSION, findings=entries)


def write(path: Path, violations: Iterable[Violation]) -> int:
    """Write the baseline of ``violations`` to ``path`` atomically; the number of entries."""
    baseline = build(violations)
    text = json.dumps(baseline.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"
    write_atomically(path, text)
    return len(baseline.findings)


def apply(baseline: Baseline, violations: Sequence[Violation]) -> tuple[list[Violation], int]:
    """(the findings to report, how many the baseline accepted). Under a key with more findings
    than the baseline counts, every finding is reported."""
    accepted = baseline.counts()
    found = Counter(key(v) for v in violations)
    report: list[Violation] = []
    hidden = 0
    for v in violations:
        k = key(v)
        if k in accepted and found[k] <= accepted[k]:
            hidden += 1
        else:
            report.append(v)
    return report, hidden
