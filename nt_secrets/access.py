"""``nt-secrets access``: who can really read (write, manage, describe) each secret, and how.

The answer is the pack's access graph (``policies/graph``), built from a plan's resources or from
a deployed stack's state, so it is the same authorization truth the policies judge with. This
module only selects from it and renders it: text for a terminal, JSON for tools, and Graphviz
``dot`` or Mermaid drawings of the paths for one secret or one principal.

Never a value: secrets are named by URN and address, principals as their platform names them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

from policies.contract import redact
from policies.graph import ACTION_ORDER, Graph, Hop, PrincipalAccess, SecretNode

FORMATS = ("text", "json", "dot", "mermaid")
#: Formats that draw paths: they need one secret or one principal (a whole estate is unreadable).
DRAWINGS = ("dot", "mermaid")


class AccessError(ValueError):
    """Bad input to ``access`` (an unknown secret, a drawing of everything): exit 2."""


def select(graph: Graph, secret: str | None) -> list[str]:
    """The URNs of the secrets ``secret`` names: a URN, a catalog name (any case), a store
    address or the address's last segment. All secrets when None."""
    if secret is None:
        return sorted(graph.secrets, key=lambda u: _order(graph.secrets[u]))
    wanted = secret.strip()
    if wanted in graph.secrets:
        return [wanted]
    found = [
        node.urn
        for node in graph.secrets.values()
        if (node.catalog_name or "").upper() == wanted.upper()
        or node.address == wanted
        or _leaf(node.address) == wanted
    ]
    if not found:
        shown = redact.name(wanted, re.compile(r"^[A-Za-z0-9_./:@+=-]{1,200}$"))
        raise AccessError(
            f"--secret {shown}: no secret of the stack has that URN, catalog name or address "
            f"({len(graph.secrets)} secrets; `nt-secrets access --format json` lists them)"
        )
    return sorted(found, key=lambda u: _order(graph.secrets[u]))


def _leaf(address: str) -> str:
    return re.split(r"[/:]", address.rstrip("/"))[-1]


def _order(node: SecretNode) -> tuple[str, str, str]:
    return (node.catalog_name or "~", node.store, node.address)


def rows(graph: Graph, urn: str, principal: str | None) -> list[PrincipalAccess]:
    return [a for a in graph.access(urn) if principal is None or principal in a.principal]


def document(graph: Graph, urns: Sequence[str], principal: str | None) -> dict[str, Any]:
    """The JSON document (schemaVersion 1)."""
    return graph.to_json(urns, principal)


def render_text(graph: Graph, urns: Sequence[str], principal: str | None) -> list[str]:
    if not graph.secrets:
        return [
            "no secret in this stack: nothing holds a value to read (looked for AWS Secrets "
            "Manager, GCP Secret Manager, Azure Key Vault, Vault KV and Kubernetes Secrets)"
        ]
    lines: list[str] = []
    shown = 0
    for urn in urns:
        node = graph.secrets[urn]
        found = rows(graph, urn, principal)
        if principal is not None and not found:
            continue
        shown += 1
        title = f"{node.catalog_name} " if node.catalog_name else ""
        revoked = " [revoked]" if node.revoked else ""
        lines.append(f"{title}{node.store} {node.address}{revoked}")
        if not found:
            lines.append("  nobody")
        for a in found:
            actions = ", ".join(x.value for x in ACTION_ORDER if x in a.actions)
            mark = "  (escalation)" if a.escalation else ""
            lines.append(f"  {a.principal}: {actions}{mark}")
            for path in a.paths:
                lines.append("    via " + " ← ".join(h.text() for h in path))
        lines.append("")
    if principal is not None and not shown:
        lines.append(f"{principal}: no access to any secret of the stack")
    if not graph.complete:
        gaps = [*graph.gaps, *graph.escalation_gaps]
        lines.append(
            f"incomplete: {len(gaps)} grant(s) could not be judged (unknown at preview or "
            "unreadable); an absent grant proves nothing there:"
        )
        lines += [f"  {why}" for _urn, why in gaps[:20]]
    return lines


class _Drawing:
    """Nodes and edges of the paths drawn, each node once."""

    def __init__(self) -> None:
        self.nodes: dict[str, tuple[str, str]] = {}  # key -> (id, label)
        self.shapes: dict[str, str] = {}
        self.edges: dict[tuple[str, str], bool] = {}  # (from id, to id) -> escalation

    def node(self, key: str, label: str, shape: str) -> str:
        if key not in self.nodes:
            self.nodes[key] = (f"n{len(self.nodes)}", label)
            self.shapes[key] = shape
        return self.nodes[key][0]

    def edge(self, a: str, b: str, escalation: bool) -> None:
        self.edges[(a, b)] = self.edges.get((a, b), True) and escalation


def _drawing(graph: Graph, urns: Iterable[str], principal: str | None) -> _Drawing:
    d = _Drawing()
    for urn in urns:
        node = graph.secrets[urn]
        for a in rows(graph, urn, principal):
            secret_id = d.node(
                "secret:" + urn, f"{node.catalog_name or ''} {node.store} {node.address}", "target"
            )
            for path in a.paths:
                prev = d.node("principal:" + a.principal, a.principal, "principal")
                for hop in path:
                    here = d.node(_hop_key(hop), hop.text(), "hop")
                    d.edge(prev, here, a.escalation)
                    prev = here
                d.edge(prev, secret_id, a.escalation)
    return d


def _hop_key(hop: Hop) -> str:
    return f"hop:{hop.kind}:{hop.name}:{hop.urn or ''}"


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def render_dot(graph: Graph, urns: Sequence[str], principal: str | None) -> list[str]:
    d = _drawing(graph, urns, principal)
    shape = {"principal": "box", "hop": "ellipse", "target": "cylinder"}
    out = ["digraph access {", "  rankdir=LR;"]
    for key, (nid, label) in d.nodes.items():
        out.append(f"  {nid} [label={_dot_quote(label)}, shape={shape[d.shapes[key]]}];")
    for (a, b), esc in d.edges.items():
        style = ' [style=dashed, color=red, label="escalation"]' if esc else ""
        out.append(f"  {a} -> {b}{style};")
    out.append("}")
    return out


def _mermaid_label(text: str) -> str:
    # Mermaid labels in double quotes: a quote is written as its entity.
    return '"' + text.replace('"', "#quot;").replace("\n", " ") + '"'


def render_mermaid(graph: Graph, urns: Sequence[str], principal: str | None) -> list[str]:
    d = _drawing(graph, urns, principal)
    brackets = {"principal": ("[", "]"), "hop": ("(", ")"), "target": ("[(", ")]")}
    out = ["flowchart LR"]
    for key, (nid, label) in d.nodes.items():
        left, right = brackets[d.shapes[key]]
        out.append(f"  {nid}{left}{_mermaid_label(label)}{right}")
    for (a, b), esc in d.edges.items():
        out.append(f"  {a} -.->|escalation| {b}" if esc else f"  {a} --> {b}")
    return out


def render(graph: Graph, fmt: str, secret: str | None, principal: str | None) -> str:
    """The whole output of ``access`` in ``fmt``, redacted line by line."""
    if fmt in DRAWINGS and secret is None and principal is None:
        raise AccessError(
            f"--format {fmt} draws the paths of one secret or one principal: give --secret or "
            "--principal"
        )
    urns = select(graph, secret)
    if fmt == "json":
        text = json.dumps(document(graph, urns, principal), indent=2)
    elif fmt == "dot":
        text = "\n".join(render_dot(graph, urns, principal))
    elif fmt == "mermaid":
        text = "\n".join(render_mermaid(graph, urns, principal))
    else:
        text = "\n".join(render_text(graph, urns, principal)).rstrip("\n")
    return redact.redact_lines(text) + "\n"
