"""HashiCorp Vault policies: applications get exact paths and no sudo; read-only policies only read.

Judges ``vault:index/policy:Policy`` (the ``policy`` HCL text). The parser reads the ``path "..." {
capabilities = [...] }`` blocks the Vault policy language is made of; a policy it cannot read is a
violation (fail closed).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from policies.framework import PackPolicy, Resource, Spec, matches_any, resource_policy
from policies.model import UNKNOWN, Category, Severity

POLICY = "vault:index/policy:Policy"
_PATH_RE = re.compile(r'path\s+"([^"]+)"\s*\{(.*?)\}', re.S)
_CAPS_RE = re.compile(r"capabilities\s*=\s*\[([^\]]*)\]", re.S)
WRITE_CAPABILITIES = frozenset({"create", "update", "patch", "delete"})


def parse_policy(text: str) -> list[tuple[str, frozenset[str]]] | None:
    """(path, capabilities) of each rule in HCL or JSON policy text; None if unreadable."""
    stripped = re.sub(r"(?m)^\s*#.*$", "", text).strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
            return [
                (p, frozenset(v.get("capabilities", []))) for p, v in data.get("path", {}).items()
            ]
        except (json.JSONDecodeError, AttributeError):
            return None
    rules = []
    for path, body in _PATH_RE.findall(stripped):
        caps = _CAPS_RE.search(body)
        items = re.findall(r'"([^"]+)"', caps.group(1)) if caps else []
        rules.append((path, frozenset(items)))
    if not rules and stripped:
        return None
    return rules


SPEC = Spec(
    id="vault-policy-least-privilege",
    description="Vault policies for applications name exact paths (no '*' or '+' globs), never grant "
    "sudo or root, and read-only policies only read and list",
    severity=Severity.HIGH,
    category=Category.OVER_PERMISSIVE,
    remediation="Give each application `read` on `secret/data/neural-trader/<env>/<service>/<key>`; keep "
    "sudo and globbed paths for the admin policy.",
    resource_types=(POLICY,),
    config={
        "adminPolicyNames": {"type": "array", "items": {"type": "string"}, "default": ["*admin*"]},
        "readOnlyPolicyNames": {
            "type": "array",
            "items": {"type": "string"},
            "default": ["*backtest*", "*auditor*", "*read*"],
        },
    },
)


def _check(r: Resource, report: Callable[[str], None]) -> None:
    text = r.get("policy")
    if not isinstance(text, str) or text == UNKNOWN:
        return
    name = str(r.get("name") or r.name)
    if matches_any(name, r.config.get("adminPolicyNames") or []):
        return
    rules = parse_policy(text)
    if rules is None:
        report("the policy text cannot be read as Vault HCL or JSON")
        return
    read_only = matches_any(name, r.config.get("readOnlyPolicyNames") or [])
    for path, caps in rules:
        if "*" in path or "+" in path:
            report(f'path "{path}" is a glob: name the exact secret paths')
        for cap in sorted(caps & {"sudo", "root"}):
            report(f'path "{path}" grants {cap}')
        if read_only and caps & WRITE_CAPABILITIES:
            report(
                f'read-only policy grants {", ".join(sorted(caps & WRITE_CAPABILITIES))} on "{path}"'
            )


POLICIES: list[PackPolicy] = [resource_policy(SPEC, _check)]
