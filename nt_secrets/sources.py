"""Every source of findings ``nt-secrets`` reports, in one list: the pack's policies and the two
sources it judges beside the pack (the engine sees neither a stack's settings file nor its
state): the stack-file lint (``pulumi-stackconfig-plaintext-credentials``) and the state's
plaintext scan (``state-plaintext-secret``).

``nt-secrets policies`` lists them all, with the rules each belongs to (universal, project or
mixed: :mod:`policies.profile`); a pack config tunes them all (enforcement level, ``disabled``,
``exemptResources``): :func:`tune` applies a config's settings to the offline sources' findings
(the runner applies them to the pack's).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from nt_secrets.lint import STACK_FILE_POLICY
from nt_secrets.state import PLAINTEXT_POLICY
from policies.framework import exempt
from policies.model import Enforcement, PolicyInfo, Violation
from policies.pack import ALL
from policies.profile import PROFILE_KEY

#: The offline sources, with what each examines.
OFFLINE: tuple[tuple[PolicyInfo, str], ...] = (
    (STACK_FILE_POLICY, "Pulumi.<stack>.yaml (nt-secrets plan/check --stack)"),
    (
        PLAINTEXT_POLICY,
        "a stack's state: inputs, outputs, configuration (nt-secrets check --state)",
    ),
)
OFFLINE_IDS = frozenset(info.id for info, _ in OFFLINE)


def infos() -> list[PolicyInfo]:
    """Every finding source: the pack's policies, then the offline sources."""
    return [p.spec.info for p in ALL] + [info for info, _ in OFFLINE]


def source_kind(pid: str) -> str:
    return "nt-secrets" if pid in OFFLINE_IDS else "pack"


def tune(violations: Iterable[Violation], document: Mapping[str, Any] | None) -> list[Violation]:
    """The offline sources' findings under a pack config ``document``: dropped when their source
    is disabled or the resource exempt, at their source's enforcement level otherwise. Other
    findings pass as they are (the runner has applied the config to them)."""
    from policies.runner import resolve_config

    found = list(violations)
    if not document or not any(v.policy in OFFLINE_IDS for v in found):
        return found
    settings = resolve_config(document)
    out: list[Violation] = []
    for v in found:
        s = settings.get(v.policy) if v.policy in OFFLINE_IDS else None
        if s is None:
            out.append(v)
            continue
        if s.enforcement is Enforcement.DISABLED:
            continue
        name = v.urn.rsplit("::", 1)[-1] if v.urn else None
        if exempt(v.urn, name, s.config):
            continue
        out.append(v if v.enforcement is s.enforcement else replace(v, enforcement=s.enforcement))
    return out


def disabled_offline(document: Mapping[str, Any] | None) -> frozenset[str]:
    """The offline sources a pack config disables (their work can be skipped)."""
    from policies.runner import resolve_config

    if not document:
        return frozenset()
    settings = resolve_config(document)
    return frozenset(
        sid for sid in OFFLINE_IDS if settings[sid].enforcement is Enforcement.DISABLED
    )


# ---- the listing (nt-secrets policies) ----------------------------------------------------------


def policies_json() -> list[dict[str, Any]]:
    return [
        {
            "id": i.id,
            "description": i.description,
            "severity": i.severity.value,
            "enforcement": i.enforcement.value,
            "category": i.category.value,
            "remediation": i.remediation,
            "checkov": list(i.checkov),
            "profile": i.profile,
            "source": source_kind(i.id),
        }
        for i in infos()
    ]


PROFILE_SECTION = """\
## Universal rules and the project profile

Every policy is **universal** (judges any estate), **project** (a house rule of this project:
judged only with the project profile on) or **mixed** (a universal rule with a house part: the
house part only with the profile on, through tunables whose default depends on the profile).
The profile is the tunable `projectProfile` of each project and mixed policy: `auto` (default:
on for the stacks of the `neural-trader-secrets` project, i.e. `nt-secrets plan`, `check
--stack` and `pulumi preview` of this repository's stacks; off for any other estate), `on` or
`off`. Opt in for a foreign estate with `nt-secrets check --profile project` (or `profile:
project` in `.nt-secrets.yaml`), or in a pack config for the engine:
`{"<policy>": {"projectProfile": "on"}}` for each policy marked project or mixed below.
The two sources marked nt-secrets are judged by `nt-secrets` beside the pack (the engine sees
neither stack files nor state); a pack config sets their enforcement level and `exemptResources`
like a policy's.
"""


def policies_markdown() -> str:
    """The finding sources as a Markdown reference (docs/policies.md is this output)."""
    examines = {p.spec.id: ", ".join(p.spec.resource_types) or "every resource" for p in ALL}
    examines.update({info.id: what for info, what in OFFLINE})
    specs = {p.spec.id: p.spec for p in ALL}
    lines = [
        "# Policy reference",
        "",
        "Generated by `nt-secrets policies --format markdown`; a test keeps this file in sync.",
        "",
        PROFILE_SECTION,
        "| id | severity | enforcement | category | rules | examines | checkov |",
        "|---|---|---|---|---|---|---|",
    ]
    rows = infos()
    for info in rows:
        rules = info.profile + (" (nt-secrets)" if info.id in OFFLINE_IDS else "")
        lines.append(
            f"| `{info.id}` | {info.severity.value} | {info.enforcement.value} "
            f"| {info.category.value} | {rules} | {examines[info.id]} "
            f"| {', '.join(info.checkov) or '-'} |"
        )
    lines.append("")
    for info in rows:
        lines += [
            f"## `{info.id}`",
            "",
            info.description.rstrip(".") + ".",
            "",
            f"Remediation: {info.remediation}",
            "",
        ]
        spec = specs.get(info.id)
        if spec is not None and spec.house:
            what = "House rule" if info.profile == "project" else "House part"
            lines += [f"{what} (project profile): {spec.house}.", ""]
        tunables = _tunables(spec.schema if spec is not None else {})
        if tunables:
            lines += ["Tunables (`--policy-pack-config`):", "", *tunables, ""]
    return "\n".join(lines)


def _tunables(schema: Mapping[str, Mapping[str, Any]]) -> Sequence[str]:
    out = []
    for key, s in schema.items():
        if key == "exemptResources":
            continue
        if "default" in s:
            default = f"default `{json.dumps(s['default'])}`"
        else:
            default = s.get("description", "")
        if key == PROFILE_KEY:
            default += " (`on`, `off`, `auto`)"
        out.append(f"- `{key}` ({s.get('type')}), {default}")
    return out
