"""What the checkov-parity tests of the Kubernetes and GCP IDs share: a case, its judgement
against checkov's verdict, and the section of docs/checkov-parity.md that reports them."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policies.aws import ssm
from policies.framework import PackPolicy
from policies.pack import ALL

#: The pack's policies, and the SSM policies the pack does not list (judged for their IDs too).
POLICIES: list[PackPolicy] = [
    *ALL,
    *(p for p in ssm.POLICIES if p.spec.id not in {q.spec.id for q in ALL}),
]


@dataclass(frozen=True)
class Case:
    check: str
    resource: str  # as checkov names it (an address, or ``<file>#<resource>``)
    expected: str  # "pass" | "fail" (checkov)
    actual: str  # the pack's verdict, or "missing" (not translated)
    messages: tuple[str, ...]

    @property
    def agrees(self) -> bool:
        return self.expected == self.actual


def policies_for(check: str) -> list[PackPolicy]:
    """The pack's policies that list the checkov ID ``check``."""
    return [p for p in POLICIES if check in p.spec.checkov]


def mapped_ids(*prefixes: str) -> set[str]:
    """The checkov IDs the pack maps that start with one of ``prefixes``."""
    return {c for p in POLICIES for c in p.spec.checkov if c.startswith(prefixes)}


def cases(
    check: str,
    expected: Mapping[str, Any],
    translated: Iterable[str],
    found: Mapping[str, list[str]],
) -> Iterator[Case]:
    """A case per resource checkov judged (``expected``'s pass and fail lists): the pack fails it
    when ``found`` holds findings for it, and it is "missing" when it was not ``translated``."""
    known = set(translated)
    for verdict in ("pass", "fail"):
        for resource in expected[verdict]:
            messages = tuple(found.get(resource, ()))
            actual = "missing" if resource not in known else ("fail" if messages else "pass")
            yield Case(check, resource, verdict, actual, messages)


def fixture_problems(folder: Path, mapped: set[str]) -> list[str]:
    """Mapped IDs without vendored fixtures, and fixtures that do not say where they come from
    or hold no failing case."""
    vendored = {d.name for d in folder.iterdir() if (d / "expected.json").is_file()}
    out = [f"{check}: no vendored fixtures" for check in sorted(mapped - vendored)]
    for check in sorted(vendored):
        spec = json.loads((folder / check / "expected.json").read_text())
        if not (spec["check"] and spec["sources"] and spec["fail"]):
            out.append(f"{check}: expected.json lacks its check, sources or a failing case")
    return out


def assert_verdict(case: Case, differences: Mapping[tuple[str, str], str]) -> None:
    """The pack agrees with checkov, or the case is a listed difference (and still differs)."""
    assert case.actual != "missing", "fixture resource not translated"
    if (case.check, case.resource) in differences:
        assert not case.agrees, "listed as a difference but agrees: remove it"
    else:
        assert case.agrees, (
            f"checkov says {case.expected}, the pack says {case.actual}: {case.messages}"
        )


def unearned(mapped: set[str], cases: Iterable[Case]) -> list[str]:
    """Mapped IDs whose policies catch none of checkov's failing cases."""
    caught = {c.check for c in cases if c.expected == "fail" and c.actual == "fail"}
    return sorted(mapped - caught)


def render_section(
    title: str,
    intro: str,
    cases: Iterable[Case],
    policies_for: Callable[[str], list[PackPolicy]],
    differences: Mapping[tuple[str, str], str],
) -> str:
    """One section of docs/checkov-parity.md: the agreement per ID and the differences."""
    by_check: dict[str, list[Case]] = {}
    for case in cases:
        by_check.setdefault(case.check, []).append(case)
    every = [c for group in by_check.values() for c in group]
    noun = "difference" if len(differences) == 1 else "differences"
    lines = [
        f"## {title}",
        "",
        intro,
        "",
        f"**{sum(c.agrees for c in every)} of {len(every)} verdicts agree** "
        f"({len(differences)} deliberate {noun}).",
        "",
        "| checkov ID | pack policies | cases | agree |",
        "|---|---|---|---|",
    ]
    for check in sorted(by_check):
        ids = ", ".join(f"`{p.spec.id}`" for p in policies_for(check))
        group = by_check[check]
        lines.append(f"| {check} | {ids} | {len(group)} | {sum(c.agrees for c in group)} |")
    lines += [
        "",
        "| checkov ID | resource | why |",
        "|---|---|---|",
        *(f"| {c} | `{a}` | {why} |" for (c, a), why in sorted(differences.items())),
        "",
    ]
    return "\n".join(lines)
