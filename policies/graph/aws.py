"""AWS Secrets Manager in the access graph: who can read, write, manage or describe each secret.

Secrets are ``aws:secretsmanager/secret:Secret`` resources, addressed by ARN: the stored output
``arn`` when known, else an ARN another resource's input holds for it (a ``SecretPolicy``'s
``secretArn``, a ``SecretRotation``'s or ``SecretVersion``'s ``secretId``: the engine records that
the value came from the secret), else ``arn:aws:secretsmanager:<region>:<account>:secret:<name>``
with the region and account of the stack's other ARNs (AWS appends a random ``-XXXXXX``; an IAM
pattern ``<name>-??????``/``<name>*`` or a literal ARN of the name with a six-character suffix names
it).

Principals are the stack's roles, users (with the policies of their groups) and IAM Identity
Center permission sets, named by ARN: the stored output ``arn``, an ARN another input holds for it
(a Lambda function's ``role``, an attachment's ``permissionSetArn``), else
``arn:aws:iam::<account>:role/<path><name>`` (``user/...``) when the account is known from another
ARN of the stack, else ``role/<path><name>``, ``user/<path><name>``,
``permission-set/<name>``. Principals outside the stack that a secret's resource policy or a role's
trust policy names are named as written there (an account root means every principal that
account's administrators allow; ``*`` anyone); web-identity subjects of a trust policy as their
``sub`` (``system:serviceaccount:NS:NAME`` for EKS).

Semantics (AWS's documented policy evaluation logic), per principal, secret and action:

* **Actions**: read = ``secretsmanager:GetSecretValue`` and, for a secret encrypted with a
  customer-managed key (``kmsKeyId``), ``kms:Decrypt`` on that key; write = ``PutSecretValue`` or
  ``UpdateSecret`` (a new value) and ``kms:GenerateDataKey`` on the key; manage = the policy,
  deletion, rotation, tagging, version-stage and replication actions (``UpdateSecret`` too);
  describe = ``DescribeSecret``, ``ListSecretVersionIds``, ``GetResourcePolicy``. Statements name
  actions through the analyzer's expansion (``policies.lib.iam``: wildcards in any case,
  ``NotAction`` as the catalogue minus its patterns).
* **Identity policies** are every document ``policies.aws.iam.collect_principals`` finds for the
  principal (inline, customer- and AWS-managed through every attachment form, groups, permission
  sets); **permissions boundaries** intersect them; an explicit **Deny** anywhere (identity,
  boundary, the secret's resource policy, the key policy) wins.
* The secret's **resource policy** (``SecretPolicy.policy``, ``Secret.policy``) grants by itself to
  a principal it names in the secret's account (a role still within its boundary); a principal of
  another account needs both it and its own identity policy. An account root in it delegates to
  that account's identity policies.
* **Conditions** are judged against what the stack knows of the request: the secret's tags
  (``aws:ResourceTag/``, ``secretsmanager:ResourceTag/``), the principal's ARN, account, type and
  tags (``aws:PrincipalTag/``), ``secretsmanager:SecretId``, and for the key leg the call through
  Secrets Manager (``kms:ViaService`` = ``secretsmanager.<region>.amazonaws.com``,
  ``kms:CallerAccount``, ``kms:EncryptionContext:SecretARN``), with AWS's semantics for missing
  keys (``...IfExists``, ``Null``, negated operators, ``ForAllValues``) and for keys a service does
  not carry. A condition that fails denies the grant (an Allow) or does not apply (a Deny); one
  that depends on the request alone (source IP, MFA, time) lets an Allow grant, shown in ``via``,
  and a Deny not apply. A constraining condition that holds is shown in ``via``.
* **The key leg**: the key policy naming the principal grants ``kms:Decrypt`` by itself; naming
  the account root (AWS's default policy, or the ``kms:CallerAccount`` form) delegates to the
  principal's identity policy, which must allow ``kms:Decrypt`` on the key. A KMS grant to the
  principal also gives it. The AWS-managed key (no ``kmsKeyId``, ``alias/aws/secretsmanager``)
  serves every principal of the secret's account and no other.

Escalations (``escalation=True``), one allowed step away from a direct grant: assuming a role that
has it (``sts:AssumeRole`` allowed by the role's trust policy: naming the principal, or its
account root plus the principal's identity policy; web-identity subjects and principals outside
the stack the trust policy names); writing its own permissions (``iam:PutRolePolicy``,
``AttachRolePolicy``, ``PutUserPolicy``, ``AttachUserPolicy``, ``CreatePolicyVersion`` of a policy
attached to it, on itself or on a role it may assume): what an allow-everything identity policy
would give it under its boundary, the resource and key policies; writing the secret's resource
policy (``secretsmanager:PutResourcePolicy``): what a policy naming it would give under its
identity denies, boundary and the key; passing a role that reads (``iam:PassRole``) to a compute
service whose creation (and start) it is allowed, when the role trusts that service.

Unknowns (a document unknown at preview, a policy outside the stack and the managed-policy
dataset, a key whose policy cannot be read) are gaps of the graph, never guesses; a key outside the
stack is assumed to carry AWS's default key policy, and the gap says so.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from policies.aws.iam import (
    PRINCIPAL_KINDS,
    PathStep,
    collect_principals,
    physical_name,
    resource_tags,
)
from policies.aws.secretsmanager import (
    ROTATION,
    SECRET_TYPE,
    VERSION,
    aws_managed_key,
)
from policies.contract.access import Action
from policies.contract.vocabulary import TAG_CATALOG_NAME, TAG_REVOKED
from policies.framework import Resource
from policies.graph import Grant, Graph, Hop, Identity, Index, SecretNode, register_grapher
from policies.lib.iam import (
    ActionSet,
    RequestContext,
    Statement,
    Verdict,
    conditions_hold,
    principal_named,
    resource_matches,
    statements,
)
from policies.model import CIPHERTEXT, UNKNOWN

STORE: Final = "aws"
SECRET_POLICY: Final = "aws:secretsmanager/secretPolicy:SecretPolicy"  # pragma: allowlist secret
KEY: Final = "aws:kms/key:Key"
KEY_POLICY: Final = "aws:kms/keyPolicy:KeyPolicy"
ALIAS: Final = "aws:kms/alias:Alias"
KMS_GRANT: Final = "aws:kms/grant:Grant"
ROLE: Final = "aws:iam/role:Role"
USER: Final = "aws:iam/user:User"
GROUP: Final = "aws:iam/group:Group"
PERMISSION_SET: Final = "aws:ssoadmin/permissionSet:PermissionSet"
LAMBDA_FUNCTION: Final = "aws:lambda/function:Function"

_SM = "secretsmanager:"
READ_ACTIONS: Final = (_SM + "getsecretvalue",)
WRITE_ACTIONS: Final = (_SM + "putsecretvalue", _SM + "updatesecret")
MANAGE_ACTIONS: Final = tuple(
    _SM + a
    for a in (
        "putresourcepolicy",
        "deleteresourcepolicy",
        "deletesecret",
        "restoresecret",
        "rotatesecret",
        "cancelrotatesecret",
        "updatesecret",
        "updatesecretversionstage",
        "tagresource",
        "untagresource",
        "replicatesecrettoregions",
        "removeregionsfromreplication",
        "stopreplicationtoreplica",
    )
)
DESCRIBE_ACTIONS: Final = tuple(
    _SM + a for a in ("describesecret", "listsecretversionids", "getresourcepolicy")
)
SECRET_ACTIONS: Final = tuple(
    dict.fromkeys((*READ_ACTIONS, *WRITE_ACTIONS, *MANAGE_ACTIONS, *DESCRIBE_ACTIONS))
)
DECRYPT: Final = "kms:decrypt"
GENERATE_DATA_KEY: Final = "kms:generatedatakey"
ASSUME: Final = ("sts:assumerole",)
WEB_IDENTITY: Final = ("sts:assumerolewithwebidentity", "sts:assumerolewithsaml")
#: iam actions that let a principal write its own permissions, per principal kind.
SELF_WRITE: Final[Mapping[str, tuple[str, ...]]] = {
    "role": ("iam:putrolepolicy", "iam:attachrolepolicy"),
    "user": ("iam:putuserpolicy", "iam:attachuserpolicy"),
}
CREATE_POLICY_VERSION: Final = "iam:createpolicyversion"
PASS_ROLE: Final = "iam:passrole"
#: compute services a passed role runs under: service principal -> the action sets (any one of
#: them, every action of it) that create something running as the role (cloudsplaining's and
#: Rhino Security's documented PassRole paths).
COMPUTE: Final[Mapping[str, tuple[tuple[str, ...], ...]]] = {
    "lambda.amazonaws.com": (
        ("lambda:createfunction", "lambda:invokefunction"),
        ("lambda:createfunction", "lambda:createeventsourcemapping"),
    ),
    "ec2.amazonaws.com": (("ec2:runinstances",),),
    "ecs-tasks.amazonaws.com": (
        ("ecs:registertaskdefinition", "ecs:runtask"),
        ("ecs:registertaskdefinition", "ecs:starttask"),
    ),
    "glue.amazonaws.com": (("glue:createdevendpoint",), ("glue:createjob", "glue:startjobrun")),
    "cloudformation.amazonaws.com": (("cloudformation:createstack",),),
    "codebuild.amazonaws.com": (("codebuild:createproject", "codebuild:startbuild"),),
    "sagemaker.amazonaws.com": (
        ("sagemaker:createnotebookinstance", "sagemaker:createpresignednotebookinstanceurl"),
    ),
}

#: graph action -> what each needs (secretsmanager actions, any one; the key action on a CMK).
_NEEDS: Final[tuple[tuple[Action, tuple[str, ...], str | None], ...]] = (
    (Action.READ, READ_ACTIONS, DECRYPT),
    (Action.WRITE, WRITE_ACTIONS, GENERATE_DATA_KEY),
    (Action.MANAGE, MANAGE_ACTIONS, None),
    (Action.DESCRIBE, DESCRIBE_ACTIONS, None),
)

_ARN_RE: Final = re.compile(r"^arn:(aws[\w-]*):([a-z0-9-]+):([^:]*):(\d{12})?:(.+)$")
_TAG_PREFIXES: Final = ("aws:resourcetag/", "secretsmanager:resourcetag/", "aws:principaltag/")
_SUFFIX: Final = "AbCdEf"  # stands in for AWS's random suffix of a secret ARN not known yet


def _usable(v: Any) -> bool:
    return v not in (None, "", UNKNOWN, CIPHERTEXT)


def _str(v: Any) -> str | None:
    return v if isinstance(v, str) and _usable(v) else None


def _first(r: Resource, *keys: str) -> Any:
    """A value from the stored outputs first (state), else the inputs."""
    for key in keys:
        for tree in (r.outputs or {}, r.props):
            v = tree.get(key)
            if _usable(v):
                return v
    return None


def _lower_tags(tags: Mapping[str, str], prefixes: Iterable[str]) -> dict[str, tuple[str, ...]]:
    return {f"{p}{k.lower()}": (v,) for p in prefixes for k, v in tags.items()}


def _tags_of(r: Resource) -> tuple[dict[str, str], bool]:
    """A resource's tags (inputs, stored ``tags`` and ``tagsAll``) and whether they are known."""
    raw = r.props.get("tags")
    known = raw is None or isinstance(raw, Mapping)
    tags = resource_tags(r) if known else {}
    every = (r.outputs or {}).get("tagsAll")
    if isinstance(every, Mapping):
        tags.update({str(k): str(v) for k, v in every.items()})
    known = known and all(v not in (UNKNOWN, CIPHERTEXT) for v in tags.values())
    return tags, known


# --------------------------------------------------------------------------- the stack's parts


@dataclass
class _Doc:
    """A parsed document and the path to it."""

    hops: tuple[Hop, ...]
    statements: tuple[tuple[Statement, ActionSet], ...]
    urn: str | None


@dataclass
class _Who:
    """A principal: its name, account and tags, and the documents that decide for it."""

    arn: str
    kind: str  # role | user | permission set | account | anyone | web identity
    urn: str | None
    account: str | None
    tags: dict[str, str]
    tags_known: bool = True
    sources: list[_Doc] = field(default_factory=list)
    boundaries: list[_Doc] = field(default_factory=list)
    in_stack: bool = True

    @property
    def hop(self) -> Hop:
        return Hop(self.kind, self.arn, self.urn)

    def context(self) -> dict[str, tuple[str, ...]]:
        values: dict[str, tuple[str, ...]] = {}
        if self.arn.startswith("arn:"):
            values["aws:principalarn"] = (self.arn,)
        if self.account:
            values["aws:principalaccount"] = (self.account,)
        if self.kind == "role":
            values["aws:principaltype"] = ("AssumedRole",)
        elif self.kind == "user":
            values["aws:principaltype"] = ("User",)
            values["aws:username"] = (self.arn.rpartition("/")[2],)
        if self.in_stack and self.tags_known:
            values.update(_lower_tags(self.tags, ("aws:principaltag/",)))
        return values


@dataclass
class _Key:
    arn: str | None
    urn: str | None
    name: str
    documents: list[_Doc]
    tags: dict[str, str]
    readable: bool  # its policy is known


@dataclass
class _Secret:
    resource: Resource
    arn: str
    arn_known: bool
    name: str
    region: str | None
    account: str | None
    tags: dict[str, str]
    tags_known: bool
    policies: list[_Doc]
    key: _Key | None
    #: "aws-managed" (no CMK), "cmk", "external" (a key outside the stack), "unknown"
    key_state: str
    key_ref: str | None

    def context(self, *, kms: _Key | None = None) -> dict[str, tuple[str, ...]]:
        values: dict[str, tuple[str, ...]] = {}
        if self.arn_known:
            values["secretsmanager:secretid"] = (self.arn,)
            values["kms:encryptioncontext:secretarn"] = (self.arn,)
        if self.account:
            values["aws:resourceaccount"] = (self.account,)
        if kms is None:
            if self.tags_known:
                values.update(
                    _lower_tags(self.tags, ("aws:resourcetag/", "secretsmanager:resourcetag/"))
                )
        else:
            values.update(_lower_tags(kms.tags, ("aws:resourcetag/",)))
            if self.region:
                values["kms:viaservice"] = (f"secretsmanager.{self.region}.amazonaws.com",)
            values["kms:encryptioncontextkeys"] = ("SecretARN", "SecretVersionId")
        return values

    def matches(self, pattern: str) -> bool:
        """A Resource pattern of no variable names this secret (by ARN, or by name while the ARN
        is not known: any six-character suffix AWS will append)."""
        from policies.lib.iam import arn_like

        if not self.arn_known and (self.region is None or self.account is None):
            # Neither the secret's ARN nor the stack's region/account is known: the pattern's
            # region and account could be the secret's, so only the rest is compared.
            parts = pattern.strip().split(":", 5)
            mine = self.arn.split(":", 5)
            if len(parts) == 6 and len(mine) == 6:
                if self.region is None:
                    parts[3] = mine[3]
                if self.account is None:
                    parts[4] = mine[4]
                pattern = ":".join(parts)
        if arn_like(pattern, self.arn):
            return True
        if self.arn_known or "*" in pattern or "?" in pattern:
            return False
        head, _, suffix = pattern.strip().rpartition("-")
        return len(suffix) == 6 and arn_like(head, self.arn.rsplit("-", 1)[0])


# --------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class _Path:
    """Why one request is allowed: the hops, and whether a condition depends on the request."""

    hops: tuple[Hop, ...]


def _statement_hop(st: Statement, urn: str | None) -> Hop:
    name = f"{st.index}" + (f" (Sid {st.sid})" if st.sid else "")
    return Hop("statement", name, urn)


#: condition keys whose values the graph shows when they hold (what the grant rests on)
_SHOWN_PREFIXES: Final = (*_TAG_PREFIXES, "aws:principalarn", "aws:principalaccount")


def _condition_hops(st: Statement, verdict: Verdict, urn: str | None) -> tuple[Hop, ...]:
    """The conditions a grant rests on: those on tags and on who the principal is, and every
    constraining one when the verdict depends on the request (values shortened)."""
    out = []
    for c in st.conditions:
        shown = c.key.startswith(_SHOWN_PREFIXES) and c.constraining
        if shown or (verdict is None and c.constraining):
            values = ", ".join(c.values[:3]) + (
                f" (+{len(c.values) - 3} more)" if len(c.values) > 3 else ""
            )
            out.append(Hop("condition", f"{c.operator} {c.key} [{values}]", urn))
    return tuple(out)


def _match(
    docs: Sequence[_Doc],
    action: str,
    resource: str | None,
    ctx: RequestContext,
    *,
    who: _Who | None = None,
    resource_match: Any = None,
) -> tuple[list[tuple[Hop, ...]], bool]:
    """(paths of the Allow statements that apply, whether a Deny applies for certain).

    ``who`` given: the documents are resource/key/trust policies, whose statements apply to the
    principals they name (an Allow naming only the account root delegates and is left out here:
    see :func:`_delegates`). ``resource_match``: a custom matcher of the Resource patterns."""
    allows: list[tuple[Hop, ...]] = []
    denied = False
    for doc in docs:
        for st, actions in doc.statements:
            if action not in actions:
                continue
            if who is not None:
                how = principal_named(st, who.arn, who.account)
                if how is None or (st.allow and how == "account"):
                    continue
            if resource is None:
                where: Verdict = True
            elif resource_match is not None and not any("${" in p for p in st.resources):
                hit = any(resource_match(p) for p in st.resources)
                where = (not hit) if st.not_resource else hit
            else:
                where = resource_matches(st, resource, ctx)
            if where is False:
                continue
            verdict = conditions_hold(st, ctx)
            if verdict is False:
                continue
            if st.allow:
                if where is None:
                    verdict = None
                allows.append(
                    (
                        *doc.hops,
                        _statement_hop(st, doc.urn),
                        *_condition_hops(st, verdict, doc.urn),
                    )
                )
            elif verdict is True and where is True:
                denied = True
    return allows, denied


class _Named:
    """Per document, the statements that name some of the wanted actions (and which), computed
    once per build: a pair of principal and secret then judges each statement once."""

    @dataclass(frozen=True)
    class Entry:
        st: Statement
        actions: tuple[str, ...]
        literals: frozenset[str]  # Resource patterns without wildcards
        wild: tuple[str, ...]  # the others
        variables: bool  # some pattern has a ${...} variable

    def __init__(self) -> None:
        self._cache: dict[tuple[int, tuple[str, ...]], tuple[Any, Any]] = {}
        self._verdicts: dict[tuple[Any, ...], tuple[Any, Verdict]] = {}

    def __call__(self, doc: _Doc, wanted: tuple[str, ...]) -> tuple[_Named.Entry, ...]:
        key = (id(doc.statements), wanted)
        hit = self._cache.get(key)
        if hit is not None and hit[0] is doc.statements:
            named: tuple[_Named.Entry, ...] = hit[1]
            return named
        named = tuple(
            _Named.Entry(
                st,
                n,
                frozenset(p.strip() for p in st.resources if not _wild(p)),
                tuple(p for p in st.resources if _wild(p)),
                any("${" in p for p in st.resources),
            )
            for st, acts in doc.statements
            if (n := tuple(a for a in wanted if a in acts))
        )
        self._cache[key] = (doc.statements, named)
        return named

    def verdict(self, entry: _Named.Entry, ctx: RequestContext) -> Verdict:
        """:func:`conditions_hold`, remembered per statement and the values of the keys its
        conditions read (a resource policy's Deny on aws:PrincipalArn is judged once per
        principal, not once per principal and secret)."""
        st = entry.st
        if not st.conditions:
            return True
        if entry.variables or any("${" in v for c in st.conditions for v in c.values):
            return conditions_hold(st, ctx)
        key = (
            id(st),
            ctx.services,
            tuple(ctx.lookup(c.key) for c in st.conditions),
        )
        hit = self._verdicts.get(key)
        if hit is None or hit[0] is not st:
            hit = (st, conditions_hold(st, ctx))
            self._verdicts[key] = hit
        got: Verdict = hit[1]
        return got


@dataclass
class _Scan:
    #: action -> the shortest path of an Allow that applies (resource/key/trust policies: one
    #: naming the principal or anyone)
    allows: dict[str, tuple[Hop, ...]] = field(default_factory=dict)
    #: actions a Deny applies to for certain
    denied: set[str] = field(default_factory=set)
    #: action -> the shortest path of an Allow naming the principal's account root (delegation)
    delegated: dict[str, tuple[Hop, ...]] = field(default_factory=dict)


def _scan(
    named: _Named,
    docs: Sequence[_Doc],
    wanted: tuple[str, ...],
    resource: str | None,
    ctx: RequestContext,
    *,
    who: _Who | None = None,
    matcher: Any = None,
    fuzzy: bool = False,
) -> _Scan:
    """:func:`_match` for several actions at once (each statement judged once). ``fuzzy``: a
    literal pattern may name the resource without equalling it (a secret whose ARN is not known:
    any six-character suffix)."""
    out = _Scan()
    for doc in docs:
        for entry in named(doc, wanted):
            st, acts = entry.st, entry.actions
            how = None
            if who is not None:
                how = principal_named(st, who.arn, who.account)
                if how is None:
                    continue
            if resource is None:
                where: Verdict = True
            elif matcher is not None and not entry.variables:
                hit = (
                    resource in entry.literals
                    or any(matcher(p) for p in entry.wild)
                    or (fuzzy and any(matcher(p) for p in entry.literals))
                )
                where = (not hit) if st.not_resource else hit
            else:
                where = resource_matches(st, resource, ctx)
            if where is False:
                continue
            verdict = named.verdict(entry, ctx)
            if verdict is False:
                continue
            if st.allow:
                if where is None:
                    verdict = None
                path = (
                    *doc.hops,
                    _statement_hop(st, doc.urn),
                    *_condition_hops(st, verdict, doc.urn),
                )
                target = out.delegated if how == "account" else out.allows
                for a in acts:
                    cur = target.get(a)
                    if cur is None or len(path) < len(cur):
                        target[a] = path
            elif verdict is True and where is True:
                out.denied.update(acts)
    return out


def _delegates(
    docs: Sequence[_Doc], action: str, ctx: RequestContext, who: _Who
) -> list[tuple[Hop, ...]]:
    """Paths of the resource/key policy Allows that name the principal's account root (or id):
    they let the account's identity policies decide."""
    out: list[tuple[Hop, ...]] = []
    for doc in docs:
        for st, actions in doc.statements:
            if not st.allow or action not in actions:
                continue
            if principal_named(st, who.arn, who.account) != "account":
                continue
            verdict = conditions_hold(st, ctx)
            if verdict is False:
                continue
            out.append(
                (*doc.hops, _statement_hop(st, doc.urn), *_condition_hops(st, verdict, doc.urn))
            )
    return out


def _wild(pattern: str) -> bool:
    return "*" in pattern or "?" in pattern or "${" in pattern


def _shortest(paths: Sequence[tuple[Hop, ...]]) -> tuple[Hop, ...] | None:
    return min(paths, key=len) if paths else None


class _Estate:
    """Everything the grapher reads, indexed once."""

    def __init__(self, index: Index, graph: Graph) -> None:
        self.index = index
        self.graph = graph
        resources = index.resources
        self.learned = self._learned_arns(resources)
        self.account, self.region = self._stack_account_region(resources)
        self.principals: dict[str, _Who] = {}  # urn -> principal
        self.by_arn: dict[str, _Who] = {}
        self.keys_by_ref: dict[str, _Key] = {}
        self.keys_by_urn: dict[str, _Key] = {}
        self.secrets: list[_Secret] = []
        self.secrets_by_arn: dict[str, list[_Secret]] = {}
        self.kms_grants: dict[tuple[str, str], list[Resource]] = {}  # (key urn, grantee) -> grants
        self.trusts: dict[str, _Doc] = {}  # role urn -> trust policy
        #: principal ARN -> the secrets whose resource policy names it in an Allow
        self.named_in_resource_policies: dict[str, list[_Secret]] = {}
        #: secrets whose resource policy allows ``*``
        self.public_secrets: list[_Secret] = []
        self._keys(index)
        self._principals(index)
        self._secrets(index)

    # ---- references ----------------------------------------------------------------------------

    @staticmethod
    def _learned_arns(resources: Sequence[Resource]) -> dict[str, set[str]]:
        """URN -> the ARNs other resources' inputs hold for it (an input whose only dependency
        is that resource and whose value is an ARN)."""
        out: dict[str, set[str]] = {}
        for r in resources:
            for name, deps in r.property_dependencies.items():
                if len(deps) != 1:
                    continue
                v = r.props.get(name)
                if isinstance(v, str) and v.startswith("arn:") and _usable(v):
                    out.setdefault(deps[0], set()).add(v)
        return out

    def _arn_for(self, r: Resource, service: str, marker: str) -> str | None:
        own = _str(_first(r, "arn"))
        if own:
            return own
        for v in sorted(self.learned.get(r.urn, ())):
            m = _ARN_RE.match(v)
            if m and m.group(2) == service and m.group(5).startswith(marker):
                return v
        return None

    @staticmethod
    def _stack_account_region(resources: Sequence[Resource]) -> tuple[str | None, str | None]:
        """The account and region most of the stack's ARNs name (inputs and outputs)."""
        accounts: Counter[str] = Counter()
        regions: Counter[str] = Counter()

        def walk(v: Any, depth: int = 0) -> None:
            if isinstance(v, str):
                if v.startswith("arn:"):
                    m = _ARN_RE.match(v)
                    if m and m.group(4):
                        accounts[m.group(4)] += 1
                    if m and m.group(3):
                        regions[m.group(3)] += 1
            elif depth < 3 and isinstance(v, Mapping):
                for x in v.values():
                    walk(x, depth + 1)
            elif depth < 3 and isinstance(v, list):
                for x in v[:50]:
                    walk(x, depth + 1)

        for r in resources:
            if r.type.startswith("aws:"):
                for key in ("arn", "secretArn", "secretId", "kmsKeyId", "role", "keyId"):
                    walk(r.props.get(key))
                    walk((r.outputs or {}).get(key))
        account = accounts.most_common(1)[0][0] if accounts else None
        region = regions.most_common(1)[0][0] if regions else None
        return account, region

    # ---- keys ------------------------------------------------------------------------------------

    def _keys(self, index: Index) -> None:
        policies: dict[str, list[Resource]] = {}
        for kp in index.of(KEY_POLICY):
            for urn in kp.property_dependencies.get("keyId", ()):
                policies.setdefault(urn, []).append(kp)
            kid = _str(kp.get("keyId"))
            if kid:
                policies.setdefault(kid, []).append(kp)
        for r in index.of(KEY):
            arn = self._arn_for(r, "kms", "key/")
            key_id = _str(_first(r, "keyId", "id"))
            if arn is None and key_id and self.account and self.region:
                arn = f"arn:aws:kms:{self.region}:{self.account}:key/{key_id}"
            holders = [*policies.get(r.urn, ()), *(policies.get(key_id, ()) if key_id else ())]
            if arn:
                holders += policies.get(arn, [])
            docs: list[_Doc] = []
            readable = True
            for holder in [r, *{h.urn: h for h in holders}.values()]:
                doc = holder.get("policy")
                if holder is r and doc is None:
                    continue
                if not _usable(doc):
                    readable = readable and holder is not r and doc is None
                    if doc in (UNKNOWN, CIPHERTEXT):
                        readable = False
                    continue
                parsed = statements(doc, "key")
                if parsed is None:
                    readable = False
                    continue
                name = physical_name(holder) if holder is not r else r.name
                kind = "key policy"
                docs.append(_Doc((Hop(kind, name, holder.urn),), parsed, holder.urn))
            if not docs and r.get("policy") is None and not holders:
                # no policy given: AWS's default key policy (the account root, all of kms:*)
                docs.append(self._default_key_policy(r, arn))
            tags, _known = _tags_of(r)
            key = _Key(arn, r.urn, arn or r.name, docs, tags, readable)
            self.keys_by_urn[r.urn] = key
            for ref in (arn, key_id, r.urn):
                if ref:
                    self.keys_by_ref[ref] = key
        for a in index.of(ALIAS):
            name = _str(_first(a, "name"))
            target = None
            for urn in a.property_dependencies.get("targetKeyId", ()):
                target = self.keys_by_urn.get(urn)
            ref = _str(a.get("targetKeyId"))
            if target is None and ref:
                target = self.keys_by_ref.get(ref)
            if target is not None and name:
                self.keys_by_ref[name] = target
                if self.account and self.region:
                    self.keys_by_ref[f"arn:aws:kms:{self.region}:{self.account}:{name}"] = target
                alias_arn = _str(_first(a, "arn"))
                if alias_arn:
                    self.keys_by_ref[alias_arn] = target
        for g in index.of(KMS_GRANT):
            ops = g.get("operations")
            grantee = _str(g.get("granteePrincipal"))
            if not grantee or not isinstance(ops, list):
                continue
            for urn in (
                *g.property_dependencies.get("keyId", ()),
                *([k.urn] if (k := self.keys_by_ref.get(str(g.get("keyId")))) and k.urn else []),
            ):
                self.kms_grants.setdefault((urn, grantee), []).append(g)

    def _default_key_policy(self, r: Resource, arn: str | None) -> _Doc:
        account = self.account
        if arn:
            m = _ARN_RE.match(arn)
            account = m.group(4) if m else account
        doc = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "Enable IAM User Permissions",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account or '000000000000'}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                }
            ],
        }
        parsed = statements(doc, "key") or ()
        return _Doc((Hop("default key policy", r.name, r.urn),), parsed, r.urn)

    # ---- principals ----------------------------------------------------------------------------

    def _principal_arn(self, r: Resource, kind: str) -> str:
        if r.type == PERMISSION_SET:
            arn = self._arn_for(r, "sso", "permissionSet/")
            return arn or f"permission-set/{physical_name(r)}"
        word = "role" if r.type == ROLE else "user"
        arn = self._arn_for(r, "iam", word + "/")
        if arn:
            return arn
        path = _str(_first(r, "path")) or "/"
        tail = f"{word}{path}{physical_name(r)}"
        return f"arn:aws:iam::{self.account}:{tail}" if self.account else tail

    def _principals(self, index: Index) -> None:
        estate = collect_principals(index.resources)
        whos: dict[str, _Who] = {}
        for urn, p in estate.principals.items():
            r = p.resource
            kind = PRINCIPAL_KINDS[r.type]
            arn = self._principal_arn(r, kind)
            m = _ARN_RE.match(arn)
            tags, known = _tags_of(r)
            who = _Who(arn, kind, urn, m.group(4) if m else self.account, tags, known)
            hop = who.hop
            for s in p.sources:
                self._source(who, s.document, s.path, hop)
            for i, b in enumerate(p.boundaries):
                parsed = statements(b, "identity")
                if parsed is None:
                    self.graph.gap(urn, f"{kind} {arn}: its permissions boundary is unreadable")
                    continue
                who.boundaries.append(
                    _Doc((Hop("permissions boundary", str(i), urn),), parsed, urn)
                )
            for message, where in p.unjudged:
                self.graph.gap(where, message)
            for what, where in p.unknown:
                self.graph.gap(where, f"{kind} {arn}: {what}: what it grants is not known yet")
            whos[urn] = who
        # users take their groups' documents
        for urn, p in estate.principals.items():
            for g in p.groups:
                group = estate.principals[g]
                ghop = Hop("group", physical_name(group.resource), g)
                for s in group.sources:
                    self._source(whos[urn], s.document, (("group", "", None), *s.path), ghop)
        for urn, who in whos.items():
            if who.kind == "group":
                continue
            self.principals[urn] = who
            self.by_arn[who.arn] = who
            self.graph.add_identity(Identity(who.arn, STORE, who.kind, urn, labels=dict(who.tags)))
        for r in index.of(ROLE):
            doc = r.get("assumeRolePolicy")
            if _usable(doc):
                parsed = statements(doc, "trust")
                if parsed is not None:
                    self.trusts[r.urn] = _Doc(
                        (Hop("trust policy", physical_name(r), r.urn),), parsed, r.urn
                    )
                    continue
            self.graph.gap(
                r.urn, f"role {physical_name(r)}: its trust policy cannot be read", escalation=True
            )

    def _source(
        self, who: _Who, document: Any, path: Sequence[PathStep], first: Hop | None = None
    ) -> None:
        parsed = statements(document, "identity")
        if parsed is None:
            self.graph.gap(who.urn, f"{who.kind} {who.arn}: an identity policy is unreadable")
            return
        hops: list[Hop] = [first] if first is not None and first.kind == "group" else []
        hops += [Hop(kind, name, urn) for kind, name, urn in path if kind != "group"]
        who.sources.append(_Doc((who.hop, *hops), parsed, path[-1][2] if path else who.urn))

    # ---- secrets -------------------------------------------------------------------------------

    def _secrets(self, index: Index) -> None:
        policies: dict[str, list[Resource]] = {}
        for sp in index.of(SECRET_POLICY):
            for urn in sp.property_dependencies.get("secretArn", ()):
                policies.setdefault(urn, []).append(sp)
            ref = _str(sp.get("secretArn"))
            if ref:
                policies.setdefault(ref, []).append(sp)
        for r in index.of(SECRET_TYPE):
            name = _str(_first(r, "name"))
            arn = self._arn_for(r, "secretsmanager", "secret:")
            if name is None and arn is None:
                self.graph.gap(r.urn, f"secret {r.name}: its name is not known yet")
                continue
            if name is None and arn is not None:
                name = arn.split(":secret:", 1)[1].rsplit("-", 1)[0]
            assert name is not None
            m = _ARN_RE.match(arn) if arn else None
            region = m.group(3) if m else self.region
            account = m.group(4) if m else self.account
            known = arn is not None
            if arn is None:
                arn = (
                    f"arn:aws:secretsmanager:{region or 'us-east-1'}:{account or '000000000000'}"
                    f":secret:{name}-{_SUFFIX}"
                )
            tags, tags_known = _tags_of(r)
            holders = [*policies.get(r.urn, ()), *policies.get(arn, ())]
            docs: list[_Doc] = []
            for holder in [r, *{h.urn: h for h in holders}.values()]:
                doc = holder.get("policy")
                if doc is None and holder is r:
                    continue
                if not _usable(doc):
                    self.graph.gap(holder.urn, f"secret {name}: its resource policy is not known")
                    continue
                parsed = statements(doc, "resource")
                if parsed is None:
                    self.graph.gap(holder.urn, f"secret {name}: its resource policy is unreadable")
                    continue
                docs.append(
                    _Doc(
                        (Hop("secret policy", physical_name(holder), holder.urn),),
                        parsed,
                        holder.urn,
                    )
                )
            key, state, ref = self._key_of(r)
            secret = _Secret(
                r, arn, known, name, region, account, tags, tags_known, docs, key, state, ref
            )
            if state == "unknown":
                self.graph.gap(r.urn, f"secret {name}: its kmsKeyId is not known yet")
            elif state == "cmk" and key is not None and not key.readable:
                self.graph.gap(key.urn, f"key {key.name} of secret {name}: its policy is not known")
            elif state == "external":
                self.graph.gap(
                    r.urn,
                    f"secret {name}: its key {ref} is not in the stack: AWS's default key policy "
                    "(the account's identity policies decide) is assumed",
                )
            self.secrets.append(secret)
            named: set[str] = set()
            for d in docs:
                for st, _acts in d.statements:
                    if st.allow and st.principal is not None and not st.not_principal:
                        named.update(v.strip() for v in st.principal.get("AWS", ()))
                        named.update(st.principal.get("*", ()))
            if "*" in named:
                self.public_secrets.append(secret)
            for arn_named in named - {"*"}:
                self.named_in_resource_policies.setdefault(arn_named, []).append(secret)
            self.secrets_by_arn.setdefault(arn, []).append(secret)
            if not known:
                self.secrets_by_arn.setdefault(arn.rsplit("-", 1)[0], []).append(secret)
            self.graph.add_secret(
                SecretNode(
                    r.urn,
                    STORE,
                    arn if known else name,
                    tags.get(TAG_CATALOG_NAME),
                    tags.get(TAG_REVOKED) == "true",
                )
            )

    def _key_of(self, r: Resource) -> tuple[_Key | None, str, str | None]:
        ref = r.get("kmsKeyId")
        if ref is None or ref == "" or aws_managed_key(ref):
            return None, "aws-managed", None
        for urn in r.property_dependencies.get("kmsKeyId", ()):
            if urn in self.keys_by_urn:
                return self.keys_by_urn[urn], "cmk", str(ref)
        if ref in (UNKNOWN, CIPHERTEXT) or not isinstance(ref, str):
            return None, "unknown", None
        if ref in self.keys_by_ref:
            return self.keys_by_ref[ref], "cmk", ref
        return None, "external", ref

    def candidates(self, pattern: str) -> Iterable[_Secret]:
        """The secrets a Resource pattern may name (an index lookup for a literal ARN)."""
        p = pattern.strip()
        if "*" in p or "?" in p or "${" in p:
            return self.secrets
        hit = self.secrets_by_arn.get(p)
        if hit:
            return hit
        hit = self.secrets_by_arn.get(p.rsplit("-", 1)[0], [])
        if hit:
            return hit
        # Secrets whose ARN's region or account is not known anywhere in the stack: a literal
        # ARN of another region/account may still be theirs (``_Secret.matches`` decides).
        return [
            s for s in self.secrets if not s.arn_known and (s.region is None or s.account is None)
        ]


# --------------------------------------------------------------------------- per request


class _Judge:
    """AWS's evaluation of one principal's requests on one secret."""

    def __init__(self, estate: _Estate) -> None:
        self.estate = estate
        self.named = _Named()
        self._contexts: dict[int, tuple[Any, dict[str, tuple[str, ...]]]] = {}

    def _ctx(
        self, who: _Who, secret: _Secret, action: str, kms: _Key | None = None
    ) -> RequestContext:
        mine = self._contexts.get(id(who))
        if mine is None or mine[0] is not who:
            mine = (who, who.context())
            self._contexts[id(who)] = mine
        if kms is None:
            theirs = self._contexts.get(id(secret))
            if theirs is None or theirs[0] is not secret:
                theirs = (secret, secret.context())
                self._contexts[id(secret)] = theirs
            values = {**mine[1], **theirs[1]}
        else:
            values = {**mine[1], **secret.context(kms=kms)}
        if kms is not None and who.account:
            values["kms:calleraccount"] = (who.account,)
        complete = ["aws:principaltag/"] if who.in_stack and who.tags_known else []
        if kms is not None:
            complete.append("aws:resourcetag/")
        elif secret.tags_known:
            complete += ["aws:resourcetag/", "secretsmanager:resourcetag/"]
        return RequestContext(values, tuple(complete), frozenset({action.partition(":")[0]}))

    def identity(
        self,
        who: _Who,
        action: str,
        resource: str,
        ctx: RequestContext,
        secret: _Secret | None,
        docs: Sequence[_Doc] | None = None,
    ) -> tuple[list[tuple[Hop, ...]], bool]:
        """Paths of the identity Allows (within every boundary) and whether a Deny applies.
        ``docs``: Allows to judge instead of the principal's own (its Denies still apply)."""
        matcher = secret.matches if secret is not None else None
        allows, denied = _match(who.sources, action, resource, ctx, resource_match=matcher)
        if docs is not None:
            allows = _match(docs, action, resource, ctx, resource_match=matcher)[0]
        for b in who.boundaries:
            b_allows, b_denied = _match([b], action, resource, ctx, resource_match=matcher)
            denied = denied or b_denied
            if not b_allows:
                allows = []
        return allows, denied

    def boundary_allows(self, who: _Who, action: str, resource: str, ctx: RequestContext) -> bool:
        for b in who.boundaries:
            b_allows, b_denied = _match([b], action, resource, ctx)
            if b_denied or not b_allows:
                return False
        return True

    def key_action(
        self,
        who: _Who,
        secret: _Secret,
        action: str,
        identity_docs: Sequence[_Doc] | None = None,
    ) -> tuple[Hop, ...] | None:
        """The key leg: ``kms:Decrypt`` / ``kms:GenerateDataKey`` through Secrets Manager."""
        same = who.account is None or secret.account is None or who.account == secret.account
        if secret.key_state == "aws-managed":
            if same:
                return (Hop("AWS managed key", "aws/secretsmanager"),)
            return None
        if secret.key_state == "unknown":
            return None
        key = secret.key
        if secret.key_state == "external" or key is None:
            # AWS's default key policy assumed (the gap says so): the identity policy decides
            ref = secret.key_ref or ""
            ctx = self._ctx(who, secret, action, _Key(ref, None, ref, [], {}, False))
            allows, denied = self.identity(who, action, ref, ctx, None, identity_docs)
            if denied or not allows or not same:
                return None
            return (*(_shortest(allows) or ()), Hop("key", ref))
        if not key.readable:
            return None
        key_arn = key.arn or key.name
        ctx = self._ctx(who, secret, action, key)
        k_allows, k_denied = _match(key.documents, action, None, ctx, who=who)
        allows, denied = self.identity(who, action, key_arn, ctx, None, identity_docs)
        if k_denied or denied:
            return None
        if k_allows:
            return (who.hop, *(_shortest(k_allows) or ()))
        grants = self.estate.kms_grants.get((key.urn or "", who.arn), [])
        if grants and any(
            str(op).lower() == action.partition(":")[2]
            or (action == DECRYPT and str(op) == "Decrypt")
            for g in grants
            for op in g.get("operations") or []
        ):
            return (who.hop, Hop("KMS grant", grants[0].name, grants[0].urn))
        delegated = _delegates(key.documents, action, ctx, who)
        if delegated and not who.in_stack:
            # the other account's identity policies are not in the stack: they may allow it
            return (who.hop, *(_shortest(delegated) or ()))
        if delegated and allows:
            return (*(_shortest(allows) or ()), *(_shortest(delegated) or ()))
        return None

    def access(
        self,
        who: _Who,
        secret: _Secret,
        *,
        identity_docs: Sequence[_Doc] | None = None,
        resource_docs: Sequence[_Doc] | None = None,
        key_leg: bool = True,
    ) -> tuple[dict[Action, tuple[Hop, ...]], dict[str, tuple[Hop, ...]]]:
        """(graph action -> its path, Secrets Manager action -> its path) for one pair: every
        statement is judged once for all the actions it names. ``identity_docs``: Allows to judge
        instead of the principal's own (its Denies and boundary still apply); ``resource_docs``:
        a resource policy instead of the secret's."""
        ctx = self._ctx(who, secret, _SM)
        wanted = SECRET_ACTIONS
        own = _scan(
            self.named,
            who.sources,
            wanted,
            secret.arn,
            ctx,
            matcher=secret.matches,
            fuzzy=not secret.arn_known,
        )
        allows = own.allows
        if identity_docs is not None:
            allows = _scan(
                self.named,
                identity_docs,
                wanted,
                secret.arn,
                ctx,
                matcher=secret.matches,
                fuzzy=not secret.arn_known,
            ).allows
        denied = set(own.denied)
        ceiling: set[str] | None = None
        for b in who.boundaries:
            bs = _scan(
                self.named,
                [b],
                wanted,
                secret.arn,
                ctx,
                matcher=secret.matches,
                fuzzy=not secret.arn_known,
            )
            denied |= bs.denied
            ceiling = set(bs.allows) if ceiling is None else ceiling & set(bs.allows)
        rdocs = secret.policies if resource_docs is None else resource_docs
        rs = _scan(self.named, rdocs, wanted, secret.arn, ctx, who=who)
        denied |= rs.denied
        same = who.account is None or secret.account is None or who.account == secret.account
        per: dict[str, tuple[Hop, ...]] = {}
        for a in wanted:
            if a in denied:
                continue
            within = ceiling is None or a in ceiling
            mine = allows.get(a) if within else None
            theirs = rs.allows.get(a)
            if same:
                if mine:
                    per[a] = mine
                elif theirs and (who.kind != "role" or within):
                    per[a] = (who.hop, *theirs)
            elif not who.in_stack:
                if theirs:
                    per[a] = (who.hop, *theirs)
            else:
                # another account: both its identity policy and the resource policy
                granted = theirs or rs.delegated.get(a)
                if mine and granted:
                    per[a] = (*mine, *granted)
        out: dict[Action, tuple[Hop, ...]] = {}
        for action, needs, key_action in _NEEDS:
            paths = [per[a] for a in needs if a in per]
            if not paths:
                continue
            path = min(paths, key=len)
            if key_action is not None and key_leg:
                k = self.key_action(who, secret, key_action, identity_docs)
                if k is None:
                    continue
                path = (*path, *_leg(path, _after_principal(k, who)))
            out[action] = path
        return out, per


def _leg(path: tuple[Hop, ...], leg: tuple[Hop, ...]) -> tuple[Hop, ...]:
    """The key leg without the hops it shares with the path (the same policy)."""
    seen = set(path)
    return tuple(h for h in leg if h not in seen or h.kind == "statement")


def _after_principal(hops: tuple[Hop, ...], who: _Who) -> tuple[Hop, ...]:
    return hops[1:] if hops and hops[0] == who.hop else hops


def _grants(
    graph: Graph,
    secret: _Secret,
    principal: str,
    paths: Mapping[Action, tuple[Hop, ...]],
    *,
    escalation: bool,
) -> None:
    """One Grant per distinct path, with the actions it gives."""
    by_path: dict[tuple[Hop, ...], set[Action]] = {}
    for action, path in paths.items():
        by_path.setdefault(path, set()).add(action)
    for path, actions in by_path.items():
        graph.grant(
            secret.resource.urn,
            Grant(principal, frozenset(actions), path, escalation=escalation),
        )


# --------------------------------------------------------------------------- the grapher


def _allow_all(who: _Who, label: str, urn: str | None) -> list[_Doc]:
    doc = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
    return [
        _Doc(
            (who.hop, Hop("self-granted policy", label, urn)),
            statements(doc, "identity") or (),
            urn,
        )
    ]


def _resource_policy_naming(who: _Who, secret: _Secret) -> list[_Doc]:
    doc = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": who.arn},
                "Action": "secretsmanager:*",
                "Resource": "*",
            }
        ],
    }
    parsed = statements(doc, "resource") or ()
    return [
        _Doc(
            (Hop("secret policy written by the principal", secret.name, secret.resource.urn),),
            parsed,
            secret.resource.urn,
        )
    ]


class AwsGrapher:
    store = STORE
    resource_types: tuple[str, ...] = (
        SECRET_TYPE,
        SECRET_POLICY,
        VERSION,
        ROTATION,
        KEY,
        KEY_POLICY,
        ALIAS,
        KMS_GRANT,
        ROLE,
        USER,
        GROUP,
        PERMISSION_SET,
        *(t for t in PRINCIPAL_KINDS if t not in (ROLE, USER, GROUP, PERMISSION_SET)),
        "aws:iam/policy:Policy",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:iam/userPolicy:UserPolicy",
        "aws:iam/groupPolicy:GroupPolicy",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "aws:iam/userPolicyAttachment:UserPolicyAttachment",
        "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
        "aws:iam/policyAttachment:PolicyAttachment",
        "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
        "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive",
        "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive",
        "aws:iam/groupMembership:GroupMembership",
        "aws:iam/userGroupMembership:UserGroupMembership",
        "aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy",
        "aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment",
        "aws:ssoadmin/managedPolicyAttachmentsExclusive:ManagedPolicyAttachmentsExclusive",
        "aws:ssoadmin/customerManagedPolicyAttachment:CustomerManagedPolicyAttachment",
        "aws:ssoadmin/customerManagedPolicyAttachmentsExclusive:"
        "CustomerManagedPolicyAttachmentsExclusive",
        "aws:ssoadmin/permissionsBoundaryAttachment:PermissionsBoundaryAttachment",
        LAMBDA_FUNCTION,
    )

    def __init__(self) -> None:
        self._estates: dict[int, _Estate] = {}
        #: (graph id) -> role urn -> secret urn -> (actions -> path) of the direct grants
        self._direct: dict[int, dict[str, dict[str, dict[Action, tuple[Hop, ...]]]]] = {}
        self._per_action: dict[int, dict[tuple[str, str], dict[str, tuple[Hop, ...]]]] = {}

    def _estate(self, index: Index, graph: Graph) -> _Estate:
        key = id(graph)
        estate = self._estates.get(key)
        if estate is None or estate.index is not index:
            estate = _Estate(index, graph)
            self._estates = {key: estate}
        return estate

    def secrets(self, index: Index, graph: Graph) -> None:
        self._estate(index, graph)

    # ---- direct grants -----------------------------------------------------------------------

    def grants(self, index: Index, graph: Graph) -> None:
        estate = self._estate(index, graph)
        judge = _Judge(estate)
        direct: dict[str, dict[str, dict[Action, tuple[Hop, ...]]]] = {}
        per_action: dict[tuple[str, str], dict[str, tuple[Hop, ...]]] = {}
        actions = SECRET_ACTIONS
        for who in estate.principals.values():
            for secret in self._candidates(estate, who, actions):
                paths, per = judge.access(who, secret)
                if per:
                    per_action[(who.arn, secret.resource.urn)] = per
                if paths:
                    direct.setdefault(who.arn, {})[secret.resource.urn] = paths
                    _grants(graph, secret, who.arn, paths, escalation=False)
        for who, secret in self._outsiders(estate):
            paths, _per = judge.access(who, secret)
            if paths:
                graph.add_identity(Identity(who.arn, STORE, who.kind, None))
                _grants(graph, secret, who.arn, paths, escalation=False)
        self._direct = {id(graph): direct}
        self._per_action = {id(graph): per_action}

    @staticmethod
    def _candidates(estate: _Estate, who: _Who, actions: Sequence[str]) -> list[_Secret]:
        """The secrets some Allow of the principal's (identity, or a resource policy naming it)
        may reach: the pairs worth judging, found by index where a pattern is literal."""
        found: dict[str, _Secret] = {}
        for doc in who.sources:
            for st, acts in doc.statements:
                if not st.allow or not any(a in acts for a in actions):
                    continue
                if st.not_resource:
                    return list(estate.secrets)
                for pattern in st.resources:
                    wild = "*" in pattern or "?" in pattern
                    for s in estate.candidates(pattern):
                        if s.resource.urn in found:
                            continue
                        if wild and "${" not in pattern and not s.matches(pattern):
                            continue
                        found[s.resource.urn] = s
        for s in estate.named_in_resource_policies.get(who.arn, ()):
            found.setdefault(s.resource.urn, s)
        for s in estate.public_secrets:
            found.setdefault(s.resource.urn, s)
        return list(found.values())

    @staticmethod
    def _outsiders(estate: _Estate) -> Iterator[tuple[_Who, _Secret]]:
        """Principals outside the stack that a secret's resource policy names (another account's
        role, an account root, ``*``), with each secret naming them."""
        for secret in estate.secrets:
            seen: set[str] = set()
            for doc in secret.policies:
                for st, acts in doc.statements:
                    if not st.allow or st.principal is None or st.not_principal:
                        continue
                    if not any(a in acts for a in SECRET_ACTIONS):
                        continue
                    for value in (*st.principal.get("AWS", ()), *st.principal.get("*", ())):
                        arn = value.strip()
                        if arn in estate.by_arn or arn in seen:
                            continue
                        seen.add(arn)
                        yield _outsider(arn, estate), secret

    # ---- escalations -------------------------------------------------------------------------

    def escalations(self, index: Index, graph: Graph) -> None:
        estate = self._estate(index, graph)
        judge = _Judge(estate)
        direct = self._direct.get(id(graph), {})
        per_action = self._per_action.get(id(graph), {})
        roles_by_arn = {w.arn: w for w in estate.principals.values() if w.kind == "role"}
        readers = {arn: grants for arn, grants in direct.items() if arn in roles_by_arn}
        secrets = {s.resource.urn: s for s in estate.secrets}
        # Only a role worth assuming is looked at: one that reads, or that may rewrite its own
        # permissions (step 2); with every role, a large estate paid principals x roles.
        self_writers = {
            arn: w
            for arn, w in roles_by_arn.items()
            if arn not in readers and self._self_write(estate, judge, w, w) is not None
        }
        worth = {arn: w for arn, w in roles_by_arn.items() if arn in readers or arn in self_writers}
        assumable = self._assumable(estate, judge, worth)
        assumed_by: dict[int, list[tuple[_Who, tuple[Hop, ...]]]] = {}
        for role in roles_by_arn.values():
            for w, hops in assumable.get(role.urn or "", ()):
                assumed_by.setdefault(id(w), []).append((role, hops))
        # 1. assuming a role that has a direct grant
        for role_arn, grants in readers.items():
            role = roles_by_arn[role_arn]
            for who, hops in assumable.get(role.urn or "", ()):
                if who.arn == role_arn:
                    continue
                if not who.in_stack:
                    graph.add_identity(Identity(who.arn, STORE, who.kind, None))
                for secret_urn, paths in grants.items():
                    stepped = {a: (who.hop, *hops, *p) for a, p in paths.items()}
                    _grants(graph, secrets[secret_urn], who.arn, stepped, escalation=True)
        # 2. writing its own permissions (or those of a role it may assume)
        for who in estate.principals.values():
            targets: list[tuple[_Who, tuple[Hop, ...]]] = []
            own = self._self_write(estate, judge, who, who)
            if own is not None:
                targets.append((who, own))
            for role, via in assumed_by.get(id(who), ()):
                if role is who:
                    continue
                step = self._self_write(estate, judge, role, who)
                if step is not None:
                    targets.append((role, (*via, *step)))
            for target, step in targets:
                docs = _allow_all(target, "any", target.urn)
                for secret in estate.secrets:
                    paths, _ = judge.access(target, secret, identity_docs=docs)
                    if paths:
                        stepped = {
                            a: (who.hop, *step, *_after_principal(p, target))
                            for a, p in paths.items()
                        }
                        _grants(graph, secret, who.arn, stepped, escalation=True)
        # 3. writing the secret's resource policy
        for (arn, secret_urn), per in per_action.items():
            put = per.get(_SM + "putresourcepolicy")
            writer = estate.by_arn.get(arn)
            if put is None or writer is None:
                continue
            secret = secrets[secret_urn]
            docs = _resource_policy_naming(writer, secret)
            paths, _ = judge.access(writer, secret, resource_docs=docs)
            stepped = {a: (*put, *_after_principal(p, writer)) for a, p in paths.items()}
            _grants(graph, secret, writer.arn, stepped, escalation=True)
        # 4. passing a reading role to a compute service it may create
        for role_arn, grants in readers.items():
            role = roles_by_arn[role_arn]
            services = self._trusted_services(estate, role)
            if not services:
                continue
            for who in estate.principals.values():
                if who is role:
                    continue
                step = self._pass_role(judge, who, role, services)
                if step is None:
                    continue
                for secret_urn, paths in grants.items():
                    stepped = {a: (*step, *p) for a, p in paths.items()}
                    _grants(graph, secrets[secret_urn], who.arn, stepped, escalation=True)

    def _assumable(
        self, estate: _Estate, judge: _Judge, roles: Mapping[str, _Who]
    ) -> dict[str, list[tuple[_Who, tuple[Hop, ...]]]]:
        """Role URN -> (principal, the hops of its step: trust statement [+ its identity
        statement]) for every principal that may assume the role."""
        # who may call sts:AssumeRole on which role ARN (literal patterns), or on any (wildcards)
        by_target: dict[str, list[_Who]] = {}
        anywhere: list[_Who] = []
        for w in estate.principals.values():
            patterns = [
                p
                for d in w.sources
                for st, acts in d.statements
                if st.allow and ASSUME[0] in acts
                for p in (("*",) if st.not_resource else st.resources)
            ]
            if any(_wild(p) for p in patterns):
                anywhere.append(w)
            else:
                for p in dict.fromkeys(p.strip() for p in patterns):
                    by_target.setdefault(p, []).append(w)
        out: dict[str, list[tuple[_Who, tuple[Hop, ...]]]] = {}
        for role in roles.values():
            trust = estate.trusts.get(role.urn or "")
            if trust is None:
                continue
            named: dict[str, _Who] = {}
            # Whom the trust lets in through their own identity policy: anyone (`*`), or the
            # principals of the accounts whose root it names; nobody else but those it names.
            anyone = False
            roots: set[str] = set()
            for st, acts in trust.statements:
                if not st.allow or st.principal is None:
                    continue
                if st.not_principal:
                    anyone = True
                    continue
                if ASSUME[0] in acts:
                    for value in st.principal.get("AWS", ()):
                        v = value.strip()
                        if v == "*":
                            anyone = True
                        elif _is_root(v):
                            roots.add(v.split(":")[4] if v.startswith("arn:") else v)
                        if v in estate.by_arn:
                            named[v] = estate.by_arn[v]
                        elif not _is_root(v):
                            named[v] = _outsider(v, estate)
                if any(a in acts for a in WEB_IDENTITY):
                    for subject, hops in _web_identities(st, trust):
                        out.setdefault(role.urn or "", []).append((subject, hops))
            candidates = [*by_target.get(role.arn, ()), *anywhere]
            if not anyone:
                candidates = [
                    w for w in candidates if roots and (w.account is None or w.account in roots)
                ]
            assumers = [*candidates, *named.values()]
            for who in {w.arn: w for w in assumers}.values():
                step = self._assume(judge, who, role, trust)
                if step is not None:
                    out.setdefault(role.urn or "", []).append((who, step))
        return out

    @staticmethod
    def _assume(judge: _Judge, who: _Who, role: _Who, trust: _Doc) -> tuple[Hop, ...] | None:
        ctx = RequestContext(
            {**who.context(), "aws:resourceaccount": (role.account,) if role.account else ()},
            ("aws:principaltag/",) if who.in_stack and who.tags_known else (),
            frozenset({"sts"}),
        )
        t_allows, t_denied = _match([trust], ASSUME[0], None, ctx, who=who)
        if t_denied:
            return None
        if not who.in_stack:
            return _shortest(t_allows)
        allows, denied = judge.identity(who, ASSUME[0], role.arn, ctx, None)
        if denied:
            return None
        same = who.account is None or role.account is None or who.account == role.account
        if t_allows and same:
            return _shortest(t_allows)
        delegated = _delegates([trust], ASSUME[0], ctx, who)
        granted = t_allows or delegated
        if allows and granted:
            return (*_after_principal(_shortest(allows) or (), who), *(_shortest(granted) or ()))
        return None

    @staticmethod
    def _self_write(
        estate: _Estate, judge: _Judge, target: _Who, actor: _Who
    ) -> tuple[Hop, ...] | None:
        """The hops by which ``actor`` may write ``target``'s permissions (None: it may not)."""
        if not target.in_stack or target.kind not in SELF_WRITE:
            return None
        ctx = RequestContext(actor.context(), (), frozenset({"iam"}))
        for action in SELF_WRITE[target.kind]:
            allows, denied = judge.identity(actor, action, target.arn, ctx, None)
            if allows and not denied:
                return (
                    Hop("may write", f"{action} on {target.arn}"),
                    *_after_principal(_shortest(allows) or (), actor),
                )
        # a new version of a customer-managed policy attached to the target
        for doc in target.sources:
            policy = next((h for h in doc.hops if h.kind == "policy" and h.urn), None)
            if policy is None or policy.urn is None:
                continue
            r = estate.index.by_urn.get(policy.urn)
            arn = _str(_first(r, "arn")) if r is not None else None
            if arn is None and r is not None and estate.account:
                path = _str(_first(r, "path")) or "/"
                arn = f"arn:aws:iam::{estate.account}:policy{path}{physical_name(r)}"
            if arn is None:
                continue
            allows, denied = judge.identity(actor, CREATE_POLICY_VERSION, arn, ctx, None)
            if allows and not denied:
                return (
                    Hop("may write", f"iam:CreatePolicyVersion on {arn}"),
                    *_after_principal(_shortest(allows) or (), actor),
                )
        return None

    @staticmethod
    def _trusted_services(estate: _Estate, role: _Who) -> list[tuple[str, tuple[Hop, ...]]]:
        trust = estate.trusts.get(role.urn or "")
        if trust is None:
            return []
        out = []
        for st, acts in trust.statements:
            if not st.allow or st.principal is None or ASSUME[0] not in acts:
                continue
            for service in st.principal.get("Service", ()):
                if service in COMPUTE:
                    out.append((service, (*trust.hops, _statement_hop(st, trust.urn))))
        return out

    @staticmethod
    def _pass_role(
        judge: _Judge, who: _Who, role: _Who, services: Sequence[tuple[str, tuple[Hop, ...]]]
    ) -> tuple[Hop, ...] | None:
        for service, trust_hops in services:
            ctx = RequestContext(
                {**who.context(), "iam:passedtoservice": (service,)}, (), frozenset({"iam"})
            )
            allows, denied = judge.identity(who, PASS_ROLE, role.arn, ctx, None)
            if not allows or denied:
                continue
            for combo in COMPUTE[service]:
                steps: list[tuple[Hop, ...]] = []
                for action in combo:
                    c = RequestContext(who.context(), (), frozenset({action.partition(":")[0]}))
                    a_allows, a_denied = judge.identity(who, action, "*", c, None)
                    if not a_allows or a_denied:
                        break
                    steps.append(_after_principal(_shortest(a_allows) or (), who))
                else:
                    return (
                        who.hop,
                        Hop("may pass", f"{role.arn} to {service}"),
                        *_after_principal(_shortest(allows) or (), who),
                        *(h for s in steps for h in s),
                        *trust_hops,
                    )
        return None


def _is_root(value: str) -> bool:
    return bool(re.match(r"^(?:arn:aws[\w-]*:iam::\d{12}:root|\d{12})$", value))


def _outsider(value: str, estate: _Estate) -> _Who:
    """A principal outside the stack, as a policy names it."""
    if value == "*":
        return _Who("*", "anyone", None, None, {}, False, in_stack=False)
    m = _ARN_RE.match(value)
    if re.fullmatch(r"\d{12}", value):
        return _Who(f"arn:aws:iam::{value}:root", "account", None, value, {}, False, in_stack=False)
    account = m.group(4) if m else None
    tail = m.group(5) if m else ""
    kind = "account" if tail == "root" else tail.partition("/")[0] or "principal"
    kind = {"assumed-role": "role session"}.get(kind, kind)
    return _Who(value, kind, None, account, {}, False, in_stack=False)


def _web_identities(st: Statement, trust: _Doc) -> Iterator[tuple[_Who, tuple[Hop, ...]]]:
    """The subjects a web-identity (or SAML) trust statement lets in, each named by its ``sub``."""
    for provider in st.principal.get("Federated", ()) if st.principal else ():
        subjects = [
            v for c in st.conditions if c.key.endswith(":sub") and c.positive for v in c.values
        ]
        host = provider.rpartition(":oidc-provider/")[2] or provider
        for sub in subjects or [f"{host}:*"]:
            who = _Who(sub, "web identity", None, None, {}, False, in_stack=False)
            hops = (*trust.hops, _statement_hop(st, trust.urn), Hop("identity provider", host))
            yield who, hops


register_grapher(AwsGrapher())
