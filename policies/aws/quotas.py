"""AWS's documented size quotas, checked on any stack: a document over its quota is a deploy that
fails at AWS, or worse, a policy split by hand later. The quota values are AWS's facts, kept once in
``policies/contract/aws_quotas.py`` (pure data, which the AWS backend imports too) and read here;
the checks judge resources, whoever made them.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from policies.aws.functions import ENV_VARIABLES
from policies.aws.iam import inline_documents
from policies.contract import aws_quotas as q
from policies.framework import PackPolicy, Resource, Spec, resource_policy, stack_policy
from policies.lib.shapes import document, setting, unwrap
from policies.model import UNKNOWN, Category, Severity

ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
MANAGED_POLICY = "aws:iam/policy:Policy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
PERMISSION = "aws:lambda/permission:Permission"
#: Resource type -> (input holding a policy document, its quota).
DOCUMENTS: Mapping[str, tuple[str, int]] = {
    ROLE_POLICY: ("policy", q.ROLE_INLINE_POLICIES),
    MANAGED_POLICY: ("policy", q.MANAGED_POLICY),
    ROLE: ("assumeRolePolicy", q.TRUST_POLICY),
    "aws:secretsmanager/secretPolicy:SecretPolicy": ("policy", q.SECRET_POLICY),
    "aws:kms/key:Key": ("policy", q.KEY_POLICY),
}

DOCUMENT_QUOTAS = Spec(
    id="aws-document-quotas",
    description="Policy documents, Lambda environments and tags stay inside AWS's documented "
    "quotas (inline policy 10,240, managed policy 6,144, trust policy 2,048, secret policy "
    "20,480, key policy 32,768 characters without whitespace; 4 KB of Lambda environment; 50 "
    "tags of at most 128/256 characters)",
    severity=Severity.HIGH,
    category=Category.OVER_PERMISSIVE,
    remediation="Merge statements that grant on the same resources, name a service directory "
    "(`.../<service>/*`) instead of each secret, or split into managed policies; AWS refuses the "
    "document as it is.",
)


def _document_size(raw: Any) -> int | None:
    value = document(raw)  # secret envelopes are not part of what AWS stores
    if value is None:
        return None
    if isinstance(value, str | dict | list):
        return q.size(value if isinstance(value, str) else json.dumps(value))
    return None


def _environment_size(r: Resource) -> int:
    variables = unwrap(setting(r.props, ENV_VARIABLES))
    if not isinstance(variables, dict):
        return 0
    # AWS counts the variables' keys and values (as the JSON it stores).
    return sum(len(str(k)) + len(str(v)) for k, v in variables.items() if v != UNKNOWN)


def _document_quotas(r: Resource, report: Callable[[str], None]) -> None:
    if not r.type.startswith("aws:"):
        return
    spec = DOCUMENTS.get(r.type)
    if spec is not None:
        field, limit = spec
        n = _document_size(r.get(field))
        if n is not None and n > limit:
            report(f"{field} is {n:,} characters, over AWS's {limit:,}")
    if r.type == ROLE:
        total = sum(_document_size(doc) or 0 for _, doc in inline_documents(r))
        if total > q.ROLE_INLINE_POLICIES:
            report(
                f"inlinePolicies total {total:,} characters, over AWS's {q.ROLE_INLINE_POLICIES:,}"
            )
    if r.type == "aws:lambda/function:Function":
        n = _environment_size(r)
        if n > q.FUNCTION_ENVIRONMENT:
            report(f"environment variables take {n:,} bytes, over AWS's {q.FUNCTION_ENVIRONMENT:,}")
    tags = r.get("tags")
    if isinstance(tags, dict):
        if len(tags) > q.TAGS_PER_RESOURCE:
            report(f"{len(tags)} tags, over AWS's {q.TAGS_PER_RESOURCE}")
        for key, value in tags.items():
            if len(str(key)) > q.TAG_KEY_LENGTH:
                report(f"tag key {str(key)[:40]!r}… is over {q.TAG_KEY_LENGTH} characters")
            if isinstance(value, str) and value != UNKNOWN and len(value) > q.TAG_VALUE_LENGTH:
                report(f"tag {key!r} has a value over {q.TAG_VALUE_LENGTH} characters")


STACK_QUOTAS = Spec(
    id="aws-role-and-function-quotas",
    description="Per role, all inline policies together fit 10,240 characters and at most 10 "
    "managed policies are attached; per Lambda function, the permissions fit its 20 KB policy",
    severity=Severity.HIGH,
    category=Category.OVER_PERMISSIVE,
    remediation="Merge or compact the role's policies, or move grants to managed policies; give "
    "one invoke permission per service directory instead of one per secret.",
    resource_types=(ROLE, ROLE_POLICY, ATTACHMENT, PERMISSION, "aws:lambda/function:Function"),
)


def _role_key(r: Resource, by_urn: Mapping[str, Resource]) -> str:
    """The role a RolePolicy/attachment belongs to: its parent role's name, else its ``role``."""
    parent = by_urn.get(r.parent or "")
    if parent is not None and parent.type == ROLE:
        return str(parent.get("name") or parent.name)
    return str(r.get("role"))


def _permission_size(r: Resource) -> int:
    statement = {
        "Sid": r.get("statementId") or "",
        "Effect": "Allow",
        "Principal": {"Service": r.get("principal") or ""},
        "Action": r.get("action") or "",
        "Resource": "arn:aws:lambda:xx-xxxx-1:000000000000:function:" + str(r.get("function")),
        "Condition": {
            "StringEquals": {"AWS:SourceAccount": r.get("sourceAccount") or ""},
            "ArnLike": {"AWS:SourceArn": r.get("sourceArn") or ""},
        },
    }
    return q.size(json.dumps(statement))


def _stack_quotas(
    resources: Sequence[Resource], config: Any, report: Callable[[str, str | None], None]
) -> None:
    del config
    by_urn = {r.urn: r for r in resources}
    inline: dict[str, int] = defaultdict(int)
    attached: dict[str, int] = defaultdict(int)
    functions: dict[str, int] = defaultdict(int)
    for r in resources:
        if r.type == ROLE_POLICY:
            inline[_role_key(r, by_urn)] += _document_size(r.get("policy")) or 0
        elif r.type == ATTACHMENT:
            attached[_role_key(r, by_urn)] += 1
        elif r.type == ROLE:
            name = str(r.get("name") or r.name)
            attached[name] += len(r.get("managedPolicyArns") or [])
        elif r.type == PERMISSION:
            functions[str(r.get("function"))] += _permission_size(r)
    for role, total in sorted(inline.items()):
        if total > q.ROLE_INLINE_POLICIES:
            report(
                f"role {role}: inline policies total {total:,} characters, over AWS's "
                f"{q.ROLE_INLINE_POLICIES:,}",
                None,
            )
    for role, count in sorted(attached.items()):
        if count > q.ROLE_MANAGED_ATTACHMENTS:
            report(
                f"role {role}: {count} managed policies attached, over AWS's default "
                f"{q.ROLE_MANAGED_ATTACHMENTS}",
                None,
            )
    for function, total in sorted(functions.items()):
        if total > q.FUNCTION_POLICY:
            report(
                f"function {function}: its permissions take about {total:,} bytes of policy, "
                f"over AWS's {q.FUNCTION_POLICY:,}",
                None,
            )


POLICIES: list[PackPolicy] = [
    resource_policy(DOCUMENT_QUOTAS, _document_quotas),
    stack_policy(STACK_QUOTAS, _stack_quotas),
]
