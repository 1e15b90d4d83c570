"""AWS's documented size quotas for the documents this backend writes, and how a document is made
to fit them: first merge statements that grant on the same resources, then name a whole service
directory (``neural-trader/<env>/<service>/*``) instead of each of its secrets. Pure data.

Sources (AWS documentation, "IAM and AWS STS quotas", "AWS Secrets Manager quotas", "AWS KMS
quotas", "Lambda quotas"): sizes count characters without whitespace.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

#: All inline policies of one role together.
ROLE_INLINE_POLICIES: Final = 10_240
#: One customer-managed policy.
MANAGED_POLICY: Final = 6_144
#: A role's trust policy (default quota; can be raised to 4,096).
TRUST_POLICY: Final = 2_048
#: Managed policies attached to one role (default quota; can be raised to 20).
ROLE_MANAGED_ATTACHMENTS: Final = 10
#: A secret's resource-based policy.
SECRET_POLICY: Final = 20_480
#: A KMS key policy.
KEY_POLICY: Final = 32_768
#: A Lambda function's resource-based policy (all its permission statements).
FUNCTION_POLICY: Final = 20_480
#: A Lambda function's environment variables, together.
FUNCTION_ENVIRONMENT: Final = 4_096
#: Tags per resource, and the length of a tag key and value.
TAGS_PER_RESOURCE: Final = 50
TAG_KEY_LENGTH: Final = 128
TAG_VALUE_LENGTH: Final = 256
#: What one ``lambda:InvokeFunction`` permission statement for Secrets Manager takes in the
#: function's policy (measured on AWS's GetPolicy output for a per-secret source ARN: about 350).
PERMISSION_STATEMENT: Final = 400


class QuotaError(ValueError):
    """A document that no compaction fits into its quota."""


def size(document: Any) -> int:
    """A policy document's size as AWS counts it: its JSON without whitespace."""
    text = document if isinstance(document, str) else json.dumps(document)
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError:
        return len("".join(text.split()))
    return len(json.dumps(parsed, separators=(",", ":")))


def _key(statement: Mapping[str, Any]) -> str:
    rest = {k: v for k, v in statement.items() if k not in ("Sid", "Action")}
    return json.dumps(rest, sort_keys=True)


def merge_statements(document: Mapping[str, Any]) -> dict[str, Any]:
    """Statements that differ only in their actions become one (the first one's Sid, the union of
    the actions): the same grants, once."""
    merged: dict[str, dict[str, Any]] = {}
    for statement in document["Statement"]:
        if "NotAction" in statement or not isinstance(statement.get("Action"), list):
            merged[f"#{len(merged)}"] = dict(statement)
            continue
        key = _key(statement)
        if key in merged:
            actions = merged[key]["Action"] + statement["Action"]
            merged[key]["Action"] = sorted(set(actions))
        else:
            merged[key] = dict(statement)
    return {**document, "Statement": list(merged.values())}


def _compact_values(values: Sequence[str], groups: Mapping[str, frozenset[str]]) -> list[str]:
    present = set(values)
    out = set(present)
    for pattern, members in groups.items():
        if members and members <= present:
            out = (out - members) | {pattern}
    return sorted(out)


def _compact(value: Any, groups: Mapping[str, frozenset[str]]) -> Any:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return _compact_values(value, groups)
    if isinstance(value, dict):
        return {k: _compact(v, groups) for k, v in value.items()}
    return value


def compact(document: Mapping[str, Any], groups: Mapping[str, frozenset[str]]) -> dict[str, Any]:
    """Every list of ARNs (resources, encryption-context values) that holds all the members of a
    group names the group's pattern instead."""
    statements = []
    for statement in document["Statement"]:
        s = dict(statement)
        if isinstance(s.get("Resource"), list):
            s["Resource"] = _compact_values(s["Resource"], groups)
        if isinstance(s.get("Condition"), dict):
            s["Condition"] = _compact(s["Condition"], groups)
        statements.append(s)
    return {**document, "Statement": statements}


CONTEXT_KEY: Final = "kms:EncryptionContext:SecretARN"


def widen_context(document: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """Encryption-context conditions name the environment's directory (``prefix``, ending in
    ``*``) instead of each secret under it. Sound because the key is only usable through Secrets
    Manager (``kms:ViaService``), which decrypts a secret only for a caller it lets read that
    secret: the per-secret grants stay exact, the key grant stops repeating them."""
    base = prefix.rstrip("*")
    statements = []
    for statement in document["Statement"]:
        s = dict(statement)
        condition = s.get("Condition")
        if isinstance(condition, dict):
            s["Condition"] = {
                op: {
                    key: (
                        sorted({v for v in values if not v.startswith(base)} | {prefix})
                        if key == CONTEXT_KEY and isinstance(values, list)
                        else values
                    )
                    for key, values in body.items()
                }
                if isinstance(body, dict)
                else body
                for op, body in condition.items()
            }
        statements.append(s)
    return {**document, "Statement": statements}


def fit(
    document: Mapping[str, Any],
    *,
    limit: int,
    groups: Mapping[str, frozenset[str]],
    what: str,
    context_prefix: str | None = None,
) -> dict[str, Any]:
    """The document unchanged if it fits; else, step by step until it fits: statements that grant
    on the same resources merged; encryption contexts naming the environment's directory
    (``context_prefix``); whole service directories named once. QuotaError if nothing fits."""
    doc = dict(document)
    if size(doc) <= limit:
        return doc
    doc = merge_statements(doc)
    if size(doc) <= limit:
        return doc
    if context_prefix is not None:
        doc = merge_statements(widen_context(doc, context_prefix))
        if size(doc) <= limit:
            return doc
    doc = merge_statements(compact(doc, groups))
    if size(doc) <= limit:
        return doc
    raise QuotaError(
        f"{what}: {size(doc):,} characters even with every service directory named once, over "
        f"AWS's {limit:,}"
    )


def service_groups(
    arns: Iterable[str], *, secret_prefix: Mapping[str, str] | None = None
) -> dict[str, frozenset[str]]:
    """Group secret ARNs by the service directory pattern each belongs to: ``secret_prefix`` maps
    an ARN to its service directory ARN prefix (default: :func:`directory`)."""
    groups: dict[str, set[str]] = {}
    for arn in arns:
        prefix = secret_prefix[arn] if secret_prefix is not None else directory(arn)
        groups.setdefault(prefix + "*", set()).add(arn)
    return {pattern: frozenset(members) for pattern, members in groups.items()}


def directory(arn: str) -> str:
    """A secret ARN's service directory: ``...:secret:neural-trader/<env>/<service>/``."""
    return arn[: arn.rindex("/") + 1]


def fit_inline_policy(
    document: Mapping[str, Any], secret_arns: Sequence[str], *, context_prefix: str, role: str
) -> dict[str, Any]:
    """A role's inline policy over ``secret_arns`` fitted into the inline-policy quota (service
    directories of those secrets, the environment's directory for encryption contexts)."""
    return fit(
        document,
        limit=ROLE_INLINE_POLICIES,
        groups=service_groups(secret_arns),
        context_prefix=context_prefix,
        what=f"the inline policy of role {role}",
    )
