"""A Pulumi ESC environment declared as code (``pulumiservice:index:Environment``) holds references
only: ``fn::open::<provider>`` blocks, interpolations and ciphertext. Its YAML is an asset of the
program, stored in the stack's state as text: a credential written into it, or a plaintext value
under ``fn::secret`` (ESC encrypts it only once it has it), is plaintext in the repository and the
state, whatever ESC does afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from policies.contract.yamlio import YamlProblem, load_yaml
from policies.framework import PackPolicy, Resource, Spec, resource_policy
from policies.lib.credentials import scan_value
from policies.model import UNKNOWN, Category, Severity

ENVIRONMENT = "pulumiservice:index:Environment"

SPEC = Spec(
    id="pulumiservice-esc-environment-references-only",
    description="A Pulumi ESC environment declared as code holds references (fn::open providers, "
    "interpolations, ciphertext), never a secret literal: a value under fn::secret or a credential "
    "anywhere in its YAML is plaintext in the program and the stack's state",
    severity=Severity.HIGH,
    category=Category.PLAINTEXT,
    remediation="Read the value where it lives (fn::open::aws-secrets, vault-secrets, gcp-secrets, "
    "azure-secrets) or set it in the environment itself with `esc env set --secret`, never in the "
    "program.",
    resource_types=(ENVIRONMENT,),
)


def definition_text(value: Any) -> str | None:
    """The YAML of an Environment's ``yaml`` input in any form it takes: a string, an asset as the
    engine serializes it (``{"text": ...}``), or an SDK asset object (``.text``)."""
    if isinstance(value, str):
        return None if value == UNKNOWN else value
    if isinstance(value, Mapping):
        text = value.get("text")
        return text if isinstance(text, str) else None
    text = getattr(value, "text", None)
    return text if isinstance(text, str) else None


def secret_literals(node: Any, path: str = "") -> Iterator[str]:
    """Paths of ``fn::secret`` whose argument is a plaintext value (not ``{ciphertext: ...}``)."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            here = f"{path}.{key}" if path else str(key)
            if key == "fn::secret":
                ciphertext = isinstance(value, Mapping) and set(value) == {"ciphertext"}
                if not ciphertext and value not in (None, ""):
                    yield here
                continue
            yield from secret_literals(value, here)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from secret_literals(value, f"{path}[{i}]")


def _check(r: Resource, report: Callable[[str], None]) -> None:
    text = definition_text(r.get("yaml"))
    if text is None:
        return
    try:
        doc = load_yaml(text)
    except YamlProblem:
        return  # ESC refuses it at `pulumi up`; nothing here is a secret to judge
    literal = list(secret_literals(doc))
    for path in literal:
        report(f"yaml: {path} holds a plaintext value (fn::secret encrypts it only inside ESC)")
    for hit in scan_value(doc):
        if not any(hit.path.startswith(p) for p in literal):
            report(f"yaml: {hit.path}: {hit.kind} ({hit.hint})")


POLICIES: list[PackPolicy] = [resource_policy(SPEC, _check)]
