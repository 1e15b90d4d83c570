"""``nt-secrets plan``: evaluate the real program for one stack offline and describe what it declares.

The JSON document (schema in README.md, "Plan JSON") is::

    {"stack", "project", "resources": [{"urn", "type", "name", "parent", "custom", "inputs",
      "secret_paths", "options", "dependencies"}], "violations": [], "summary"}

Every secret-marked value is replaced by ``"[secret]"`` and every unknown value by ``"[unknown]"``.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from infra.catalog import catalog_at
from infra.settings import decode
from nt_secrets.capture import Capture, capture_program
from nt_secrets.stackfile import StackConfig, read_stack
from policies.model import ResourceRecord

PLAN_SCHEMA_VERSION = 1


def plan_stack(
    stack: str, project_dir: Path, *, catalog_path: Path | None = None
) -> tuple[StackConfig, Capture]:
    """Read ``Pulumi.<stack>.yaml`` and run the program of ``infra/`` against the mock engine.

    Raises StackFileError, SettingsError or CatalogError for bad input.
    """
    config = read_stack(project_dir, stack)
    from infra.program import main

    # The mocks make up ARNs in the AWS block's account and region (any string works for the
    # others; a malformed block is reported by the settings validation, not here).
    block = decode(config.config.get(config.project + ":aws"))
    block = block if isinstance(block, dict) else {}
    region = str(block.get("region") or config.config.get("aws:region") or "us-east-1")
    account = str(block.get("accountId") or "123456789012")
    if catalog_path is not None:
        catalog_at(catalog_path)  # fail on a broken catalog before anything runs

    capture = capture_program(
        lambda: main(catalog_path),
        stack=stack,
        project=config.project,
        config=config.config,
        secret_keys=config.secret_keys,
        region=region,
        account_id=account,
    )
    return config, capture


def records(capture: Capture) -> list[ResourceRecord]:
    """The capture as the policies see resources: values unwrapped, secret markers kept aside."""
    out = []
    for r in capture.resources:
        out.append(
            ResourceRecord(
                urn=r.urn,
                type=r.type,
                name=r.name,
                props=r.raw_inputs,
                custom=r.custom,
                secret_paths=tuple(r.secret_paths),
                protect=bool(r.options.get("protect")),
                retain_on_delete=bool(r.options.get("retainOnDelete")),
                additional_secret_outputs=tuple(r.options.get("additionalSecretOutputs") or ()),
                provider=r.options.get("provider"),
                parent=r.parent or None,
                dependencies=tuple(r.dependencies),
                property_dependencies={k: tuple(v) for k, v in r.property_dependencies.items()},
                source="plan",
            )
        )
    return out


def summary(capture: Capture) -> dict[str, Any]:
    by_type = Counter(r.type for r in capture.resources)
    return {
        "resources": len(capture.resources),
        "custom": sum(1 for r in capture.resources if r.custom),
        "components": sum(1 for r in capture.resources if not r.custom),
        "secretInputs": sum(len(r.secret_paths) for r in capture.resources),
        "protected": sum(1 for r in capture.resources if r.options.get("protect")),
        "byType": dict(sorted(by_type.items())),
    }


def plan_document(
    capture: Capture, violations: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {
        "schemaVersion": PLAN_SCHEMA_VERSION,
        "stack": capture.stack,
        "project": capture.project,
        "resources": [r.to_json() for r in capture.resources],
        "violations": violations or [],
        "summary": summary(capture),
    }
