"""GCP Secret Manager in the access graph: who can read, write, manage or describe each secret.

Secrets: ``gcp:secretmanager/secret:Secret`` and ``RegionalSecret``, addressed
``projects/<project>/secrets/<id>`` (``.../locations/<l>/secrets/<id>`` for a regional one).
Principals are IAM member strings exactly as granted (``serviceAccount:x@p.iam.gserviceaccount.com``,
``user:``, ``group:``, ``domain:``, ``principal://...``, ``principalSet://...``; a GKE workload as
``serviceAccount:<pool>.svc.id.goog[<namespace>/<name>]``).

Every grant is read by the pack's IAM evaluator (``policies/gcp/iam.py``: the member, binding and
policy forms of every level, the predefined-role table with its provenance, custom roles, IAM
Conditions judged by ``policies/gcp/conditions.py``); this module only orders what it finds into
paths. Semantics:

* **Direct**: a role granted on the secret, or on its project, a folder or the organisation
  (inheritance: a folder's or organisation's grant reaches every secret of the stack, whose
  folder is not known), gives the actions of its Secret Manager permissions:
  ``secretmanager.versions.access`` = read, ``versions.add`` = write, ``secrets.update`` /
  ``delete`` / ``setIamPolicy`` and version state changes = manage, ``secrets.get`` = describe.
  A binding whose condition surely fails for the secret (another secret's name or prefix, another
  resource type, a closed ``request.time`` window) gives nothing there; a condition the evaluator
  cannot decide never narrows a grant.
* **CMEK**: reading a secret whose replicas are encrypted with a customer-managed key needs
  nothing of the caller on the key: the Secret Manager service agent decrypts (it holds
  ``cloudkms.cryptoKeyEncrypterDecrypter`` on the key). The key's grants are no path to a secret,
  and a missing key grant never takes a reader away.
* **Escalations** (``escalation: true``), one allowed step away:

  - impersonating a service account that can act on the secret: ``getAccessToken``, ``actAs``,
    ``signJwt``, ``signBlob``, ``implicitDelegation``, key creation (Token Creator, Service Account
    User, Workload Identity User...), or setting the account's IAM policy (``iam.serviceAccounts.
    setIamPolicy``), granted on the account, or on its project, folder or organisation (then any
    account of that scope the graph knows of; a project-level grant reaches the accounts whose
    e-mail names the project, or names no project). Chains of impersonation are followed: the
    principal gets what the last account can do;
  - ``secretmanager.secrets.setIamPolicy`` on the secret (or above it): the principal can grant
    itself Secret Accessor there;
  - setting the IAM policy of the secret's project, folder or organisation
    (``resourcemanager.projects|folders|organizations.setIamPolicy``, as fits where it is
    granted): the principal can grant itself any role on every secret beneath.

What the evaluator cannot judge (a role or member unknown at preview, a custom role whose
permissions are unknown, an IAM policy document that cannot be read, a secret-level grant whose
secret cannot be told) is a gap of the graph, never a guess.

Not modelled: IAM deny policies (``gcp:iam/denyPolicy``) and Principal Access Boundaries are
gaps when a stack declares them (the graph then claims no completeness); VPC Service Controls
restrict where a request comes from, not who may make it.
"""

from __future__ import annotations

import re
import weakref
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Final

from policies.contract.access import Action
from policies.contract.gcp_labels import contract_labels
from policies.contract.vocabulary import TAG_CATALOG_NAME, TAG_REVOKED
from policies.framework import Resource
from policies.gcp.common import (
    ABOVE_SECRET,
    FOLDER_LEVEL,
    IAM_TYPES,
    ORGANIZATION_LEVEL,
    PROJECT_LEVEL,
    RESOURCE_LEVEL,
    SECRET_LEVEL,
    SECRET_TYPES,
    SERVICE_ACCOUNT_LEVEL,
    iam_level,
    labels,
)
from policies.gcp.conditions import ANY_CONTAINER, ANY_SERVICE_ACCOUNT, reaches
from policies.gcp.iam import (
    CUSTOM_ROLE_TYPES,
    EVERYTHING,
    Found,
    RoleInfo,
    Secret,
    Secrets,
    actions,
    condition_covers,
    custom_roles,
    found_grants,
    secrets_of,
)
from policies.gcp.permissions import ACCESS, ADD, GET, MANAGING, METADATA, SET_IAM_POLICY
from policies.graph import Grant, Graph, Hop, Identity, Index, SecretNode, register_grapher
from policies.model import UNKNOWN

STORE: Final = "gcp"
ACCOUNT: Final = "gcp:serviceaccount/account:Account"
#: Resources the graph does not evaluate but that can take a grant away: a gap when present.
DENY_TYPES: Final = (
    "gcp:iam/denyPolicy:DenyPolicy",
    "gcp:iam/principalAccessBoundaryPolicy:PrincipalAccessBoundaryPolicy",
)
SA_SET_IAM_POLICY: Final = "iam.serviceAccounts.setIamPolicy"
#: The container IAM policies a grant at each level can set (a folder's grant of
#: ``resourcemanager.projects.setIamPolicy`` sets its projects' policies).
_CONTAINER_SETTERS: Final[Mapping[str, tuple[str, ...]]] = {
    PROJECT_LEVEL: ("resourcemanager.projects.setIamPolicy",),
    FOLDER_LEVEL: (
        "resourcemanager.folders.setIamPolicy",
        "resourcemanager.projects.setIamPolicy",
    ),
    ORGANIZATION_LEVEL: (
        "resourcemanager.organizations.setIamPolicy",
        "resourcemanager.folders.setIamPolicy",
        "resourcemanager.projects.setIamPolicy",
    ),
}
_FORMS: Final = (("Member", "member"), ("Binding", "binding"), ("Policy", "policy"))
_ACCESSOR: Final = "roles/secretmanager.secretAccessor"
_SA_EMAIL_RE = re.compile(r"^serviceAccount:[^@\[\]]+@(?P<domain>[^@]+)$")


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value and value != UNKNOWN else None


def _level_kind(f: Found) -> str:
    form = next((name for token, name in _FORMS if f.resource.type.endswith(token)), "grant")
    where = f.level.replace(" ", "-")
    return f"{where}-level IAM {form}"


def _binding_hops(f: Found) -> tuple[Hop, ...]:
    """The IAM resource, the role, and the condition (if any) of a binding."""
    name = f.resource.name + (f" {f.binding.where.strip()}" if f.binding.where else "")
    hops = [Hop(_level_kind(f), name, f.resource.urn), Hop("role", f.binding.role)]
    if f.binding.condition:
        hops.append(Hop("condition", f.binding.condition))
    return tuple(hops)


def _permission(info: RoleInfo, granted: frozenset[Action]) -> str:
    """The permission behind the widest action granted."""
    if Action.READ in granted:
        return ACCESS
    if Action.WRITE in granted:
        return ADD
    if Action.MANAGE in granted:
        return min(info.permissions & MANAGING)
    return GET if GET in info.permissions else min(info.permissions & METADATA, default=GET)


def member_kind(member: str) -> str:
    """What kind of principal an IAM member string names."""
    if member.startswith("serviceAccount:"):
        return "Kubernetes service account" if ".svc.id.goog[" in member else "service account"
    prefix = member.split(":", 1)[0]
    return {
        "user": "user",
        "group": "group",
        "domain": "domain",
        "principal": "workload identity principal",
        "principalSet": "principal set",
        "deleted": "deleted principal",
    }.get(prefix, "public" if member in ("allUsers", "allAuthenticatedUsers") else "principal")


def _account_project(member: str) -> str | None:
    """The project a service account's e-mail names (``x@<project>.iam.gserviceaccount.com``,
    ``<project>@appspot.gserviceaccount.com``); None when it names none (a project number's
    default accounts, Google's service agents)."""
    match = _SA_EMAIL_RE.match(member)
    if match is None:
        return None
    domain = match.group("domain")
    if domain.endswith(".iam.gserviceaccount.com"):
        return domain.removesuffix(".iam.gserviceaccount.com")
    if domain == "appspot.gserviceaccount.com":
        return member.split(":", 1)[1].split("@", 1)[0]
    return None


def _email(r: Resource) -> str | None:
    outputs = r.outputs or {}
    email = _str(outputs.get("email")) or _str(r.get("email"))
    if email:
        return email
    account_id, project = _str(r.get("accountId")), _str(r.get("project"))
    if account_id and project:
        return f"{account_id}@{project}.iam.gserviceaccount.com"
    return None


@dataclass
class _Stack:
    """What the grapher reads of one stack, once per index."""

    secrets: Secrets
    found: list[Found]
    #: ``serviceAccount:<email>`` -> the Account resource declaring it.
    accounts: dict[str, Resource] = field(default_factory=dict)
    denies: list[Resource] = field(default_factory=list)


_STACKS: weakref.WeakKeyDictionary[Index, _Stack] = weakref.WeakKeyDictionary()


def _stack(index: Index) -> _Stack:
    known = _STACKS.get(index)
    if known is not None:
        return known
    iam = [
        r
        for t, rs in index.by_type.items()
        if iam_level(t) not in (None, RESOURCE_LEVEL)
        for r in rs
    ]
    secrets = Secrets(secrets_of(list(index.of(*SECRET_TYPES))))
    custom = custom_roles(list(index.of(*CUSTOM_ROLE_TYPES)))
    stack = _Stack(secrets, list(found_grants(iam, secrets, custom)))
    for r in index.of(ACCOUNT):
        email = _email(r)
        if email is not None:
            stack.accounts[f"serviceAccount:{email}"] = r
    stack.denies = list(index.of(*DENY_TYPES))
    _STACKS[index] = stack
    return stack


class GcpGrapher:
    store = STORE
    resource_types: tuple[str, ...] = (
        *SECRET_TYPES,
        *IAM_TYPES,
        *CUSTOM_ROLE_TYPES,
        ACCOUNT,
        *DENY_TYPES,
    )

    # ---- secrets ---------------------------------------------------------------------------

    def secrets(self, index: Index, graph: Graph) -> None:
        stack = _stack(index)
        by_urn = {r.urn: r for r in index.of(*SECRET_TYPES)}
        for s in stack.secrets.all:
            contract = contract_labels(labels(by_urn[s.urn]))
            graph.add_secret(
                SecretNode(
                    s.urn,
                    STORE,
                    s.name,
                    contract.get(TAG_CATALOG_NAME),
                    contract.get(TAG_REVOKED) == "true",
                )
            )
        for member, r in stack.accounts.items():
            graph.add_identity(Identity(member, STORE, "service account", r.urn, {}))
        for r in stack.denies:
            graph.gap(r.urn, f"{r.name}: a GCP deny or access-boundary policy is not evaluated")

    def _identity(self, graph: Graph, stack: _Stack, member: str) -> None:
        account = stack.accounts.get(member)
        graph.add_identity(
            Identity(member, STORE, member_kind(member), account.urn if account else None, {})
        )

    def _grant(self, graph: Graph, stack: _Stack, urn: str, member: str, grant: Grant) -> None:
        if grant.actions and urn in graph.secrets:
            self._identity(graph, stack, member)
            graph.grant(urn, grant)

    # ---- direct grants ---------------------------------------------------------------------

    def grants(self, index: Index, graph: Graph) -> None:
        stack = _stack(index)
        for f in stack.found:
            b = f.binding
            if b.unknown:
                graph.gap(f.resource.urn, f"{f.where}: a role, member or condition is not known")
            if b.role == UNKNOWN or f.level == SERVICE_ACCOUNT_LEVEL:
                continue
            if f.level == SECRET_LEVEL and f.target is None:
                if _str(f.resource.get("secretId")) is None:
                    graph.gap(f.resource.urn, f"{f.where}: its secret cannot be told")
                continue  # a secret of another stack
            if f.info is None:
                graph.gap(f.resource.urn, f"{f.where}: {b.role} is not a role the graph knows")
                continue
            for secret in self._reached(graph, stack, f):
                if not condition_covers(b.condition, secret):
                    continue
                granted = actions(f.info.permissions)
                if not granted:
                    continue
                via = (*_binding_hops(f), Hop("permission", _permission(f.info, granted)))
                for member in b.members:
                    self._grant(graph, stack, secret.urn, member, Grant(member, granted, via))

    def _reached(self, graph: Graph, stack: _Stack, f: Found) -> list[Secret]:
        """The secrets a binding is granted on (or above)."""
        if f.level == SECRET_LEVEL:
            return [f.target] if f.target is not None else []  # None: another stack's secret
        if f.level in ABOVE_SECRET:
            return stack.secrets.under(f.project)
        return []

    # ---- escalations -----------------------------------------------------------------------

    def escalations(self, index: Index, graph: Graph) -> None:
        stack = _stack(index)
        self._policy_setters(graph, stack)
        self._impersonation(graph, stack)

    def _policy_setters(self, graph: Graph, stack: _Stack) -> None:
        """Principals that can set the IAM policy of the secret or of a container above it."""
        for f in stack.found:
            info, b = f.info, f.binding
            if info is None or b.role == UNKNOWN or f.level == SERVICE_ACCOUNT_LEVEL:
                continue
            containers = [
                p for p in _CONTAINER_SETTERS.get(f.level, ()) if p in info.sets_policy_of
            ]
            on_container = bool(containers) and reaches(b.condition, ANY_CONTAINER)
            on_secret = SET_IAM_POLICY in info.permissions
            if not (on_container or on_secret):
                continue
            for secret in self._reached(graph, stack, f):
                if on_container:
                    step = (Hop("permission", containers[0]), Hop("grants itself", _ACCESSOR))
                elif condition_covers(b.condition, secret):
                    step = (Hop("permission", SET_IAM_POLICY), Hop("grants itself", _ACCESSOR))
                else:
                    continue
                via = (*_binding_hops(f), *step)
                for member in b.members:
                    grant = Grant(member, EVERYTHING, via, escalation=True)
                    self._grant(graph, stack, secret.urn, member, grant)

    def _impersonation(self, graph: Graph, stack: _Stack) -> None:
        """Principals that can act as a service account that can act on a secret (followed
        through chains of service accounts)."""
        # What each service account can do directly, on any secret of the graph.
        direct: dict[str, list[tuple[str, Grant]]] = {}
        for urn, grants in graph.grants.items():
            for g in grants:
                if not g.escalation and g.principal.startswith("serviceAccount:"):
                    direct.setdefault(g.principal, []).append((urn, g))
        accounts = set(direct) | set(stack.accounts)
        for f in stack.found:
            accounts.update(m for m in f.binding.members if m.startswith("serviceAccount:"))
            if f.account is not None:
                accounts.add(f.account)
        by_project: dict[str | None, list[str]] = {}
        for a in sorted(accounts):
            by_project.setdefault(_account_project(a), []).append(a)
        edges: dict[str, list[tuple[str, tuple[Hop, ...]]]] = {}
        for f, account in self._acts_as(graph, by_project, stack):
            step = Hop(
                "impersonates" if f.info is not None and f.info.impersonates else "sets IAM of",
                account,
            )
            for member in f.binding.members:
                if member != account:
                    edges.setdefault(member, []).append((account, (*_binding_hops(f), step)))
        for member in sorted(edges):
            self._follow(graph, stack, member, edges, direct)

    def _acts_as(
        self, graph: Graph, by_project: Mapping[str | None, list[str]], stack: _Stack
    ) -> Iterator[tuple[Found, str]]:
        """(binding, service account it lets its members act as)."""
        for f in stack.found:
            info, b = f.info, f.binding
            if b.role == UNKNOWN or f.level not in (SERVICE_ACCOUNT_LEVEL, *ABOVE_SECRET):
                continue
            if info is None:
                if f.level == SERVICE_ACCOUNT_LEVEL:
                    graph.gap(f.resource.urn, f"{f.where}: {b.role} is not a role the graph knows")
                continue  # above a secret: already a gap of the direct grants
            if not (info.impersonates or SA_SET_IAM_POLICY in info.sets_policy_of):
                continue
            if not reaches(b.condition, ANY_SERVICE_ACCOUNT):
                continue
            if f.level == SERVICE_ACCOUNT_LEVEL:
                if f.account is None:
                    graph.gap(f.resource.urn, f"{f.where}: the service account is not known")
                    continue
                yield f, f.account
            elif f.level == PROJECT_LEVEL:
                project = f.project
                scope = (
                    [a for p, accounts in by_project.items() for a in accounts]
                    if project is None
                    else [*by_project.get(project, ()), *by_project.get(None, ())]
                )
                for account in scope:
                    yield f, account
            else:
                for account in (a for accounts in by_project.values() for a in accounts):
                    yield f, account

    def _follow(
        self,
        graph: Graph,
        stack: _Stack,
        member: str,
        edges: Mapping[str, list[tuple[str, tuple[Hop, ...]]]],
        direct: Mapping[str, list[tuple[str, Grant]]],
    ) -> None:
        """Breadth first from ``member`` through the accounts it can act as: each account's
        direct grants become the member's, by the shortest chain."""
        seen = {member}
        todo: deque[tuple[str, tuple[Hop, ...]]] = deque(edges.get(member, ()))
        while todo:
            account, path = todo.popleft()
            if account in seen:
                continue
            seen.add(account)
            for urn, g in direct.get(account, ()):
                via = (*path, *g.via)
                self._grant(graph, stack, urn, member, Grant(member, g.actions, via, True))
            todo.extend((nxt, (*path, *hops)) for nxt, hops in edges.get(account, ()))


register_grapher(GcpGrapher())
