"""Reports of policy violations: text (rich on a terminal, plain otherwise), JSON, Markdown (pull
request comments) and SARIF 2.1.0 (code scanning).

Every renderer takes the violations and, optionally, the :class:`~policies.model.PolicyInfo` of
the policies that produced them (descriptions, remediation, checkov IDs). Messages are passed
through :func:`~policies.lib.credentials.redact_text` on the way out, so a credential that slipped
into a message (or a URN) is shown as its redacted hint, never as itself.

SARIF decisions
---------------
* ``level``: ``error`` for mandatory policies, ``warning`` for advisory ones (``note`` when the
  severity is low), ``none`` when disabled. GitHub's security severity comes from
  ``properties.security-severity`` on the rule: critical 9.5, high 8.0, medium 5.5, low 2.0 (a
  numeric string, as GitHub reads it).
* ``locations``: a logical location per result (the URN as ``fullyQualifiedName``, the resource
  name as ``name``, kind ``resource``) and, when the file the resource comes from is known (the
  stack's state file, a stack settings file), a physical location with that file as
  ``artifactLocation``. Pulumi resources have no line of their own, so no ``region``.
* ``partialFingerprints``: a hash of policy, URN and message, stable across runs.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterable, Mapping, Sequence
from importlib import metadata
from io import StringIO
from pathlib import Path, PurePosixPath
from typing import IO, Any, Final
from urllib.parse import quote

import orjson
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from policies.contract.redact import printable
from policies.lib.credentials import redact_text
from policies.model import Enforcement, PolicyInfo, Severity, Violation

__all__ = [
    "FORMATS",
    "SARIF_SCHEMA",
    "SARIF_VERSION",
    "TOOL_NAME",
    "emit",
    "print_error",
    "render",
    "render_json",
    "render_markdown",
    "render_sarif",
    "render_text",
    "sarif_level",
    "sarif_log",
    "short_urn",
]

FORMATS: Final = ("text", "json", "markdown", "sarif")
TOOL_NAME: Final = "nt-secrets"
SARIF_VERSION: Final = "2.1.0"
SARIF_SCHEMA: Final = "https://json.schemastore.org/sarif-2.1.0.json"
SECURITY_SEVERITY: Final[Mapping[Severity, str]] = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "2.0",
}
#: Markdown: a severity group longer than this is collapsed in <details>
COLLAPSE_AFTER: Final = 10
_SEVERITIES: Final = sorted(Severity, key=lambda s: s.rank, reverse=True)
_STYLE: Final[Mapping[Severity, str]] = {
    Severity.CRITICAL: "bold red",
    Severity.HIGH: "red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
}

Artifact = str | Path | Mapping[str, str | Path] | None


def _tool_version() -> str:
    try:
        return metadata.version("neural-trader-secrets")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0.0.0"


def _safe(text: str) -> str:
    """``text`` fit to show: credentials redacted, and what UTF-8 cannot carry (a lone surrogate,
    from a ``"\\ud800"`` escape in a state's JSON) written as its escape, ``\\ud800``."""
    text = printable(redact_text(text))  # no escape sequence from a state reaches a terminal
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def _ordered(violations: Iterable[Violation]) -> list[Violation]:
    """Most severe first, mandatory before advisory, then by policy, URN and message."""
    return sorted(
        violations,
        key=lambda v: (
            -v.severity.rank,
            not v.mandatory,
            v.policy,
            v.urn or "",
            v.message,
        ),
    )


def _by_severity(violations: Iterable[Violation]) -> list[tuple[Severity, list[Violation]]]:
    ordered = _ordered(violations)
    return [(s, g) for s in _SEVERITIES if (g := [v for v in ordered if v.severity is s])]


def short_urn(urn: str | None) -> str:
    """``urn:pulumi:prod::proj::a:b:C$aws:s3/bucket:Bucket::logs`` -> ``aws:s3/bucket:Bucket::logs``
    (the resource's own type and name; the stack, project and parent types dropped)."""
    if not urn:
        return "(stack)"
    parts = urn.split("::", 3)
    if len(parts) != 4:
        return urn
    type_ = parts[2].rsplit("$", 1)[-1]
    return f"{type_}::{parts[3]}"


def _judged(resources: int | None, accepted: int | None) -> str:
    """``Judged N resources[; M findings accepted by the baseline].`` ("" when not known)."""
    if resources is None:
        return ""
    text = f"Judged {resources:,} resource{'' if resources == 1 else 's'}"
    if accepted is not None:
        text += f"; {accepted:,} finding{'' if accepted == 1 else 's'} accepted by the baseline"
    return text + "."


def _summary_counts(violations: Sequence[Violation]) -> str:
    counts = [
        f"{n} {s.value}" for s in _SEVERITIES if (n := sum(v.severity is s for v in violations))
    ]
    mandatory = sum(v.mandatory for v in violations)
    noun = "violation" if len(violations) == 1 else "violations"
    return f"{len(violations)} {noun} ({mandatory} mandatory): {', '.join(counts)}"


# --------------------------------------------------------------------------- text


def render_text(
    violations: Iterable[Violation],
    policies: Iterable[PolicyInfo] = (),
    *,
    color: bool = False,
    width: int = 120,
    resources: int | None = None,
    accepted: int | None = None,
) -> str:
    """Violations grouped by severity. ``color`` renders rich tables with ANSI styles (for a
    terminal); without it, plain lines that survive logs and pipes. With ``resources`` (and
    ``accepted``), a last line says how many resources were judged (and how many findings a
    baseline accepted)."""
    vs = list(violations)
    info = {p.id: p for p in policies}
    judged = _judged(resources, accepted)
    if not color:
        return _plain_text(vs, info) + (judged + "\n" if judged else "")
    out = StringIO()
    console = Console(file=out, force_terminal=True, width=width, highlight=False)
    if not vs:
        console.print(Text("No policy violations.", style="bold green"))
        if judged:
            console.print(Text(judged))
        return out.getvalue()
    console.print(Text(_summary_counts(vs), style="bold"))
    for severity, group in _by_severity(vs):
        table = Table(
            title=Text(f"{severity.value.upper()} ({len(group)})", style=_STYLE[severity]),
            title_justify="left",
            show_lines=False,
            expand=True,
        )
        table.add_column("policy", style=_STYLE[severity], no_wrap=True)
        table.add_column("resource", overflow="fold")
        table.add_column("message", overflow="fold", ratio=3)
        for v in group:
            mark = "" if v.mandatory else f" ({v.enforcement.value})"
            table.add_row(
                Text(v.policy + mark), Text(_safe(short_urn(v.urn))), Text(_safe(v.message))
            )
        console.print(table)
    for pid in sorted({v.policy for v in vs} & info.keys()):
        console.print(Text.assemble((pid, "bold"), ": ", _safe(info[pid].remediation)))
    if judged:
        console.print(Text(judged))
    return out.getvalue()


def _plain_text(vs: list[Violation], info: Mapping[str, PolicyInfo]) -> str:
    if not vs:
        return "No policy violations.\n"
    lines = [_summary_counts(vs)]
    for severity, group in _by_severity(vs):
        lines += ["", f"{severity.value.upper()} ({len(group)})"]
        for v in group:
            mark = "" if v.mandatory else f" [{v.enforcement.value}]"
            lines.append(f"  {v.policy}{mark}  {_safe(short_urn(v.urn))}")
            lines.append(f"      {_safe(v.message)}")
    fixes = sorted({v.policy for v in vs} & info.keys())
    if fixes:
        lines += ["", "Remediation:"]
        lines += [f"  {pid}: {_safe(info[pid].remediation)}" for pid in fixes]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- JSON


def _dumps(doc: Any) -> str:
    """``doc`` as JSON indented by two spaces, one line per value, and a final newline: orjson
    (C; ``json.dumps`` with an indent runs its pure-Python encoder: 0.5 s for 16,000 findings).
    Text is UTF-8 as is (``…`` stays ``…``), which every JSON reader takes."""
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode() + "\n"


def render_json(
    violations: Iterable[Violation], *, resources: int | None = None, accepted: int | None = None
) -> str:
    """``{"violations": [Violation.to_json()...], "summary": {...}}``: the entries are those of the
    plan JSON's ``violations``; the summary says how many resources were judged (``resources``)
    and how many findings a baseline accepted (``acceptedByBaseline``) when known."""
    vs = _ordered(violations)
    doc = {
        "violations": [
            {**v.to_json(), "urn": v.urn and _safe(v.urn), "message": _safe(v.message)} for v in vs
        ],
        "summary": {
            "total": len(vs),
            "mandatory": sum(v.mandatory for v in vs),
            "bySeverity": {s.value: sum(v.severity is s for v in vs) for s in _SEVERITIES},
            **({"resources": resources} if resources is not None else {}),
            **({"acceptedByBaseline": accepted} if accepted is not None else {}),
        },
    }
    return _dumps(doc)


# --------------------------------------------------------------------------- Markdown


def _md(text: str) -> str:
    """Text safe inside a Markdown table cell: no HTML, no pipes, no line breaks, no emphasis."""
    text = _safe(text)
    for char, repl in (
        ("&", "&amp;"),
        ("<", "&lt;"),
        (">", "&gt;"),
        ("|", "\\|"),
        ("`", "'"),
        ("*", "\\*"),
        ("_", "\\_"),
        ("[", "\\["),
        ("]", "\\]"),
    ):
        text = text.replace(char, repl)
    return " ".join(text.split())


def _md_code(text: str) -> str:
    """Text shown as inline code in a table cell (backticks and pipes cannot appear)."""
    text = _safe(text).replace("`", "'").replace("|", "¦")
    return f"`{' '.join(text.split())}`"


def render_markdown(
    violations: Iterable[Violation],
    policies: Iterable[PolicyInfo] = (),
    *,
    title: str = "Policy report",
    collapse_after: int = COLLAPSE_AFTER,
    resources: int | None = None,
    accepted: int | None = None,
) -> str:
    """A pull-request comment: a summary line, a table per severity (collapsed in ``<details>``
    when longer than ``collapse_after``), and the rules that fired with their remediation."""
    vs = list(violations)
    info = {p.id: p for p in policies}
    lines = [f"### {_md(title)}", ""]
    judged = _judged(resources, accepted)
    if judged:
        lines += [judged, ""]
    if not vs:
        lines.append("**No policy violations.**")
        return "\n".join(lines) + "\n"
    summary = _summary_counts(vs)
    blocking = "blocks the deployment" if any(v.mandatory for v in vs) else "advisory only"
    lines += [f"**{summary}** — {blocking}.", ""]
    for severity, group in _by_severity(vs):
        heading = f"{severity.value.capitalize()} ({len(group)})"
        table = [
            "| Policy | Resource | Message | Enforcement |",
            "|---|---|---|---|",
        ]
        for v in group:
            table.append(
                f"| {_md_code(v.policy)} | {_md_code(short_urn(v.urn))} | {_md(v.message)} "
                f"| {v.enforcement.value} |"
            )
        if len(group) > collapse_after:
            lines += [
                "<details>",
                f"<summary><b>{heading}</b></summary>",
                "",
                *table,
                "",
                "</details>",
                "",
            ]
        else:
            lines += [f"#### {heading}", "", *table, ""]
    fired = [info[pid] for pid in sorted({v.policy for v in vs}) if pid in info]
    if fired:
        lines += ["<details>", "<summary>Rules</summary>", ""]
        for p in fired:
            checkov = f" (checkov: {', '.join(p.checkov)})" if p.checkov else ""
            lines.append(f"- {_md_code(p.id)}{_md(checkov)}: {_md(p.description)}")
            lines.append(f"  *Fix:* {_md(p.remediation)}")
        lines += ["", "</details>", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


# --------------------------------------------------------------------------- SARIF


def sarif_level(enforcement: Enforcement, severity: Severity) -> str:
    """SARIF ``level`` of a result: mandatory -> error; advisory -> warning (note when low);
    disabled -> none."""
    if enforcement is Enforcement.DISABLED:
        return "none"
    if enforcement is Enforcement.MANDATORY:
        return "error"
    return "note" if severity is Severity.LOW else "warning"


def _home() -> Path | None:
    try:
        home = Path.home()
    except (RuntimeError, KeyError):
        return None
    return None if home == Path("/") else home


def _artifact_uri(path: str | Path) -> dict[str, str]:
    p = Path(path)
    if ".." in p.parts:  # outside the checkout: %SRCROOT% cannot reach it
        p = p.resolve()
    home = _home()
    if p.is_absolute():
        cwd = Path.cwd()
        above_home = home is not None and home != cwd and home.is_relative_to(cwd)
        if p.is_relative_to(cwd) and not above_home:  # in the checkout: relative to %SRCROOT%
            p = p.relative_to(cwd)
    if p.is_absolute():
        if home is not None and p.is_relative_to(home):  # not the user's account name
            rel = quote(
                PurePosixPath(*p.relative_to(home).parts).as_posix(), errors="surrogateescape"
            )
            return {"uri": rel, "uriBaseId": "HOME"}
        return {"uri": p.as_uri()}
    # a name that is not UTF-8 (its bytes kept as surrogates, os.fsdecode) keeps its bytes
    uri = quote(PurePosixPath(*p.parts).as_posix(), errors="surrogateescape")
    return {"uri": uri, "uriBaseId": "%SRCROOT%"}


def _rule(p: PolicyInfo) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": "".join(part.capitalize() for part in p.id.replace("_", "-").split("-")),
        "shortDescription": {"text": _safe(p.description)},
        "fullDescription": {"text": _safe(p.description)},
        "help": {"text": _safe(p.remediation)},
        "defaultConfiguration": {"level": sarif_level(p.enforcement, p.severity)},
        "properties": {
            "severity": p.severity.value,
            "enforcement": p.enforcement.value,
            "category": p.category.value,
            "checkov": list(p.checkov),
            "frameworks": list(p.frameworks),
            "security-severity": SECURITY_SEVERITY[p.severity],
            "tags": ["security", p.category.value],
        },
    }


def _rule_from_violation(v: Violation) -> PolicyInfo:
    return PolicyInfo(
        id=v.policy,
        description=f"Policy {v.policy}",
        severity=v.severity,
        enforcement=v.enforcement,
        category=v.category,
        remediation=f"See the documentation of policy {v.policy}.",
        checkov=v.checkov,
    )


def _artifact_for(urn: str | None, artifact: Artifact) -> str | Path | None:
    if artifact is None or isinstance(artifact, str | Path):
        return artifact
    return artifact.get(urn or "")


def sarif_log(
    violations: Iterable[Violation],
    policies: Iterable[PolicyInfo] = (),
    *,
    artifact: Artifact = None,
    tool_version: str | None = None,
    resources: int | None = None,
    accepted: int | None = None,
) -> dict[str, Any]:
    """A SARIF 2.1.0 log with one run. ``artifact`` is the file every resource comes from (a state
    file) or a mapping URN -> file; resources without one get a logical location only."""
    vs = _ordered(violations)
    info = {p.id: p for p in policies}
    for v in vs:
        info.setdefault(v.policy, _rule_from_violation(v))
    used = sorted({v.policy for v in vs} | info.keys())
    rules = [_rule(info[pid]) for pid in used]
    index = {pid: i for i, pid in enumerate(used)}
    results = []
    for v in vs:
        location: dict[str, Any] = {}
        if v.urn:
            location["logicalLocations"] = [
                {
                    "fullyQualifiedName": _safe(v.urn),
                    "name": _safe(v.urn.split("::", 3)[-1]),
                    "kind": "resource",
                }
            ]
        file = _artifact_for(v.urn, artifact)
        if file is not None:
            location["physicalLocation"] = {"artifactLocation": _artifact_uri(file)}
        fingerprint = hashlib.sha256(
            "\0".join((v.policy, v.urn or "", v.message)).encode("utf-8", "surrogatepass")
        ).hexdigest()
        results.append(
            {
                "ruleId": v.policy,
                "ruleIndex": index[v.policy],
                "level": sarif_level(v.enforcement, v.severity),
                "message": {"text": _safe(v.message)},
                "locations": [location] if location else [],
                "partialFingerprints": {"ntSecretsFinding/v1": fingerprint},
                "properties": {
                    "severity": v.severity.value,
                    "enforcement": v.enforcement.value,
                    "category": v.category.value,
                    "checkov": list(v.checkov),
                },
            }
        )
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL_NAME,
                        "version": tool_version or _tool_version(),
                        "rules": rules,
                    }
                },
                "results": results,
                **(
                    {"properties": _run_properties(resources, accepted)}
                    if resources is not None
                    else {}
                ),
            }
        ],
    }


def _run_properties(resources: int | None, accepted: int | None) -> dict[str, int]:
    """The run's property bag: resources judged, findings a baseline accepted."""
    props = {"resources": resources} if resources is not None else {}
    return {**props, **({"acceptedByBaseline": accepted} if accepted is not None else {})}


def render_sarif(
    violations: Iterable[Violation],
    policies: Iterable[PolicyInfo] = (),
    *,
    artifact: Artifact = None,
    tool_version: str | None = None,
    resources: int | None = None,
    accepted: int | None = None,
) -> str:
    log = sarif_log(
        violations,
        policies,
        artifact=artifact,
        tool_version=tool_version,
        resources=resources,
        accepted=accepted,
    )
    return _dumps(log)


# --------------------------------------------------------------------------- dispatch


def render(
    violations: Iterable[Violation],
    fmt: str,
    *,
    policies: Iterable[PolicyInfo] = (),
    artifact: Artifact = None,
    color: bool = False,
    resources: int | None = None,
    accepted: int | None = None,
) -> str:
    """Render in one of :data:`FORMATS` (``resources``: how many were judged, said by every
    format; ``accepted``: how many findings a baseline accepted)."""
    if fmt == "text":
        return render_text(
            violations, policies, color=color, resources=resources, accepted=accepted
        )
    if fmt == "json":
        return render_json(violations, resources=resources, accepted=accepted)
    if fmt == "markdown":
        return render_markdown(violations, policies, resources=resources, accepted=accepted)
    if fmt == "sarif":
        return render_sarif(
            violations, policies, artifact=artifact, resources=resources, accepted=accepted
        )
    raise ValueError(f"unknown report format {fmt!r} (one of {', '.join(FORMATS)})")


def emit(
    violations: Iterable[Violation],
    fmt: str,
    *,
    policies: Iterable[PolicyInfo] = (),
    artifact: Artifact = None,
    file: IO[str] | None = None,
    resources: int | None = None,
    accepted: int | None = None,
) -> None:
    """Write a report to ``file`` (stdout); text is rich only when that is a terminal."""
    out = file if file is not None else sys.stdout
    color = fmt == "text" and out.isatty()
    out.write(
        render(
            violations,
            fmt,
            policies=policies,
            artifact=artifact,
            color=color,
            resources=resources,
            accepted=accepted,
        )
    )


def print_error(message: str) -> None:
    """A bad-input message on stderr (markup-safe, no traceback)."""
    Console(stderr=True, highlight=False, soft_wrap=True).print(
        f"[bold red]error:[/] {escape(message)}"
    )
