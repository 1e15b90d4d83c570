"""What GCP IAM lets each member do to each Secret Manager secret, read offline from a plan.

Pure: no pulumi, no pulumi_policy. Two parts:

* :data:`ROLES`, the predefined roles that matter to secrets: the Secret Manager permissions each
  includes, and whether it lets its holder act as a service account (``iam.serviceAccounts.actAs``,
  ``getAccessToken``, ``signBlob``, ``signJwt``, ``implicitDelegation``,
  ``iam.serviceAccountKeys.create``) or grant itself any role (``setIamPolicy`` of a project,
  folder, organisation or service account): derived from Google's published role data
  (``gcloud iam roles describe``) by ``scripts/build_role_tables.py`` into
  ``policies/gcp/predefined_roles.py``; the permission sets are ``policies/gcp/permissions.py``.
  One judgement is added by hand: :data:`RUNS_AS_SERVICE_ACCOUNTS`. Roles/editor holds no
  ``secretmanager.versions.access`` (it acts as any service account, which may).

* :func:`evaluate`, which turns every grant of a stack (secret level, project, folder and
  organisation level, service accounts; member, binding and policy forms; IAM conditions) into a
  member x secret x action :class:`Matrix`. The four actions are the access model's
  (``policies.contract.access.Action``): read (access a payload), write (add a version), describe (read
  metadata) and manage (update, delete, set the IAM policy, enable/disable/destroy versions).

What the evaluator does not know it says (:attr:`Matrix.unknown`) instead of guessing: a role
missing from the table granted on a secret, a custom role, an unknown member or secret.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from policies.contract.access import Action
from policies.gcp.common import (
    ABOVE_SECRET,
    PROJECT_LEVEL,
    REGIONAL_SECRET,
    RESOURCE_LEVEL,
    SECRET,
    SECRET_LEVEL,
    SERVICE_ACCOUNT_LEVEL,
    Binding,
    bindings,
    iam_level,
)
from policies.gcp.conditions import (
    ANY_CONTAINER,
    ANY_SERVICE_ACCOUNT,
    SECRET_KIND,
    Target,
    reaches,
)
from policies.gcp.permissions import (
    ACCESS,
    ADD,
    ESCALATING_PERMISSIONS,
    GET,
    MANAGING,
    RUNS_AS_SERVICE_ACCOUNTS,
    SECRET_PERMISSIONS,
)
from policies.gcp.predefined_roles import ROLES as PREDEFINED
from policies.gcp.predefined_roles import SETS_IAM_POLICY
from policies.lib.shapes import declare, pick, reveal
from policies.model import UNKNOWN

if TYPE_CHECKING:
    from policies.framework import Resource

# ---- permissions and roles -----------------------------------------------------------------------

#: Every per-secret permission the evaluator reads (roles/secretmanager.admin holds them all).
ALL_SECRET_PERMISSIONS: Final = SECRET_PERMISSIONS


@dataclass(frozen=True)
class RoleInfo:
    """What a predefined role means for secrets."""

    #: The Secret Manager permissions it includes (per secret).
    permissions: frozenset[str] = frozenset()
    #: Its holder can act as a service account it is granted on (tokens, keys, actAs).
    impersonates: bool = False
    #: Its holder can change IAM policies where it is granted, so grant itself any role.
    escalates: bool = False
    #: Which IAM policies it sets (``policies.gcp.permissions.ESCALATING_PERMISSIONS`` it holds:
    #: ``resourcemanager.projects.setIamPolicy``, ``iam.serviceAccounts.setIamPolicy``...).
    sets_policy_of: frozenset[str] = frozenset()


def _role(name: str, row: tuple[tuple[str, ...], bool, bool]) -> RoleInfo:
    perms, impersonates, escalates = row
    return RoleInfo(
        frozenset(perms),
        impersonates or name in RUNS_AS_SERVICE_ACCOUNTS,
        escalates,
        frozenset(SETS_IAM_POLICY.get(name, ())),
    )


#: Predefined role -> what it means for secrets, generated from Google's published role data
#: (``policies/gcp/predefined_roles.py``, provenance in policies/data/SOURCES.md), plus
#: :data:`RUNS_AS_SERVICE_ACCOUNTS` (``policies/gcp/permissions.py``).
ROLES: Final[Mapping[str, RoleInfo]] = {name: _role(name, row) for name, row in PREDEFINED.items()}

BASIC_ROLES: Final = ("roles/owner", "roles/editor", "roles/viewer")
#: Role name prefixes whose members the table must know to judge them (the data holds every
#: predefined role of these families; any other role missing from it holds none of the
#: permissions the evaluator reads, so a role of another service is taken to grant nothing).
_MUST_KNOW: Final = ("roles/secretmanager.", "roles/iam.", "roles/resourcemanager.")


def role_info(role: str) -> RoleInfo | None:
    """What ``role`` means for secrets; None when the evaluator cannot tell (a custom role, or a
    Secret Manager / IAM / Resource Manager role missing from the table)."""
    info = ROLES.get(role)
    if info is not None:
        return info
    if role.startswith("roles/") and not role.startswith(_MUST_KNOW):
        return RoleInfo()
    return None


def actions(permissions: Iterable[str]) -> frozenset[Action]:
    """The access model's actions a set of Secret Manager permissions allows."""
    perms = set(permissions)
    out: set[Action] = set()
    if ACCESS in perms:
        out.add(Action.READ)
    if ADD in perms:
        out.add(Action.WRITE)
    if GET in perms:
        out.add(Action.DESCRIBE)
    if perms & MANAGING:
        out.add(Action.MANAGE)
    return frozenset(out)


EVERYTHING: Final = frozenset(Action)


def reach(info: RoleInfo) -> frozenset[Action]:
    """What a role granted *above* a secret (project, folder, organisation) allows on every secret
    beneath: its own permissions, or everything when it can impersonate any service account of
    that scope or grant itself any role."""
    return EVERYTHING if info.impersonates or info.escalates else actions(info.permissions)


# ---- the secrets of a stack ------------------------------------------------------------------------


@dataclass(frozen=True)
class Secret:
    """A Secret Manager secret (global or regional) as a stack declares it."""

    urn: str
    project: str | None
    secret_id: str
    location: str | None = None

    @property
    def name(self) -> str:
        """``projects/<project>/secrets/<id>`` (or ``.../locations/<l>/secrets/<id>``)."""
        where = f"projects/{self.project or '-'}"
        if self.location:
            where += f"/locations/{self.location}"
        return f"{where}/secrets/{self.secret_id}"


def _str(value: object) -> str | None:
    """A readable, non-empty string (secret envelopes around it removed); None otherwise."""
    value = reveal(value)
    return value if isinstance(value, str) and value and value != UNKNOWN else None


def secrets_of(resources: Sequence[Resource]) -> list[Secret]:
    out = []
    for r in resources:
        if r.type not in (SECRET, REGIONAL_SECRET):
            continue
        secret_id = _str(r.get("secretId")) or r.name
        location = _str(r.get("location")) if r.type == REGIONAL_SECRET else None
        out.append(Secret(r.urn, _str(r.get("project")), secret_id, location))
    return out


_SECRET_PATH_RE = re.compile(
    r"^projects/(?P<project>[^/]+)(?:/locations/(?P<location>[^/]+))?/secrets/(?P<id>[^/]+)$"
)


class Secrets:
    """The stack's secrets, indexed once by URN, id and project."""

    def __init__(self, secrets: Sequence[Secret]) -> None:
        self.all = list(secrets)
        self.by_urn = {s.urn: s for s in self.all}
        self.by_id: dict[str, list[Secret]] = {}
        self.by_project: dict[str | None, list[Secret]] = {}
        for s in self.all:
            self.by_id.setdefault(s.secret_id, []).append(s)
            self.by_project.setdefault(s.project, []).append(s)

    def under(self, project: str | None) -> list[Secret]:
        """The secrets a grant on ``project`` reaches (None: a folder or organisation, every
        secret; a secret whose project is not known is under any)."""
        if project is None:
            return self.all
        return [*self.by_project.get(project, ()), *(self.by_project.get(None, ()))]


def _target(r: Resource, secrets: Secrets) -> Secret | None:
    """The secret a secret-level IAM resource names: by ``secretId`` in any form the provider
    accepts (``projects/p/secrets/s``, ``p/s``, ``s``), or else by the dependency the engine
    recorded for it, or its parent."""
    raw = _str(r.get("secretId"))
    if raw is not None:
        match = _SECRET_PATH_RE.match(raw)
        project: str | None
        if match:
            project, secret_id = match.group("project"), match.group("id")
        elif raw.count("/") == 1:
            project, secret_id = raw.split("/")
        else:
            project, secret_id = _str(r.get("project")), raw
        found = [
            s
            for s in secrets.by_id.get(secret_id, ())
            if project is None or s.project in (None, project)
        ]
        if len(found) == 1:
            return found[0]
    for urn in (*r.property_dependencies.get("secretId", ()), r.parent or ""):
        if urn in secrets.by_urn:
            return secrets.by_urn[urn]
    return None


def secret_target(secret: Secret) -> Target:
    return Target(SECRET_KIND, secret.secret_id, secret.project)


def condition_covers(expression: str | None, secret: Secret) -> bool:
    """May a grant with this IAM condition apply to ``secret``? Only a condition that surely
    fails for every request on it (``policies/gcp/conditions.py``: another secret's name or
    prefix, another resource type, a time window that has closed) keeps it away."""
    return reaches(expression, secret_target(secret))


def reach_under(info: RoleInfo, condition: str | None, secret: Secret) -> frozenset[Action]:
    """What a role granted *above* ``secret`` under ``condition`` allows on it: its own
    permissions where the condition may hold for the secret, and everything where it may hold
    for a service account it can act as, or for the project/folder/organisation (or service
    account) whose IAM policy it can set."""
    if (info.impersonates and reaches(condition, ANY_SERVICE_ACCOUNT)) or (
        info.escalates
        and (reaches(condition, ANY_CONTAINER) or reaches(condition, ANY_SERVICE_ACCOUNT))
    ):
        return EVERYTHING
    return actions(info.permissions) if condition_covers(condition, secret) else frozenset()


# ---- the matrix ------------------------------------------------------------------------------------


@dataclass
class Matrix:
    """Member -> secret URN -> actions, from direct grants (secret level, and above the secret);
    ``acts_as``: member -> the service accounts (``serviceAccount:<email>``) it can impersonate
    through a grant on that service account; ``unknown``: what could not be evaluated."""

    direct: dict[str, dict[str, set[Action]]] = field(default_factory=dict)
    acts_as: dict[str, set[str]] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.unknown

    def grant(self, member: str, urn: str, granted: Iterable[Action]) -> None:
        granted = set(granted)
        if granted:
            self.direct.setdefault(member, {}).setdefault(urn, set()).update(granted)

    def effective(self) -> dict[str, dict[str, set[Action]]]:
        """Direct grants plus, for every member, those of each service account it can act as
        (followed transitively)."""
        out: dict[str, dict[str, set[Action]]] = {}
        for member in set(self.direct) | set(self.acts_as):
            seen: set[str] = set()
            todo = [member]
            while todo:
                m = todo.pop()
                if m in seen:
                    continue
                seen.add(m)
                for urn, acts in self.direct.get(m, {}).items():
                    out.setdefault(member, {}).setdefault(urn, set()).update(acts)
                todo.extend(self.acts_as.get(m, ()))
        return out


_SERVICE_ACCOUNT_ID_RE = re.compile(r"^(?:projects/[^/]+/serviceAccounts/)?([^/]+@[^/]+)$")


CUSTOM_ROLE_TYPES: Final = (
    "gcp:projects/iAMCustomRole:IAMCustomRole",
    "gcp:organizations/iAMCustomRole:IAMCustomRole",
)


CUSTOM_ROLE_PERMISSIONS: Final = declare(CUSTOM_ROLE_TYPES, "permissions")
declare(CUSTOM_ROLE_TYPES[:1], "project")
declare(CUSTOM_ROLE_TYPES[1:], "orgId")
declare(CUSTOM_ROLE_TYPES, "roleId")


def custom_roles(resources: Sequence[Resource]) -> dict[str, RoleInfo]:
    """The custom roles the stack declares, by the name a binding uses
    (``projects/<p>/roles/<id>``, ``organizations/<o>/roles/<id>``), read from their permissions:
    Secret Manager permissions as granted; any ``setIamPolicy`` escalates; acting as, signing as
    or making keys or tokens of a service account impersonates. A role whose permissions are not
    known is absent (the evaluator cannot tell)."""
    out: dict[str, RoleInfo] = {}
    for r in resources:
        if r.type not in CUSTOM_ROLE_TYPES:
            continue
        # the list, in an envelope or of envelopes (unreadable: the role stays unknown)
        perms = pick(r.props, CUSTOM_ROLE_PERMISSIONS)
        role_id = _str(r.get("roleId"))
        owner = _str(r.get("project") if "projects/" in r.type else r.get("orgId"))
        if r.get("permissions") is None or not all(
            isinstance(p, str) and p != UNKNOWN for p in perms
        ):
            continue
        if role_id is None or owner is None:
            continue
        scope = "projects" if "projects/" in r.type else "organizations"
        out[f"{scope}/{owner}/roles/{role_id}"] = RoleInfo(
            permissions=frozenset(p for p in perms if p.startswith("secretmanager.")),
            impersonates=any(
                p.startswith("iam.serviceAccount")
                and p.rsplit(".", 1)[-1]
                in {
                    "actAs",
                    "getAccessToken",
                    "signBlob",
                    "signJwt",
                    "create",
                    "getOpenIdToken",
                    "implicitDelegation",
                }
                for p in perms
            ),
            escalates=any(p.endswith(".setIamPolicy") for p in perms),
            sets_policy_of=frozenset(perms) & ESCALATING_PERMISSIONS,
        )
    return out


@dataclass(frozen=True)
class Found:
    """One binding of one IAM resource that may reach a secret, read once for every reader of
    the stack's grants (:func:`evaluate`, the access graph)."""

    resource: Resource
    level: str
    binding: Binding
    #: Where it is, for messages: ``<resource name>: <place in its inputs>``.
    where: str
    #: What the role means for secrets (None: a role the evaluator does not know).
    info: RoleInfo | None
    #: Secret level: the secret it names (None: none of the stack's).
    target: Secret | None = None
    #: Project level: the project (None at folder and organisation level: every secret).
    project: str | None = None
    #: Service-account level: the account as a member (``serviceAccount:<email>``; None: not
    #: known).
    account: str | None = None


def found_grants(
    resources: Iterable[Resource], secrets: Secrets, custom: Mapping[str, RoleInfo]
) -> Iterator[Found]:
    """Every binding of the IAM resources among ``resources`` granted on a secret, a project, a
    folder, an organisation or a service account, with its role read (custom roles by
    ``custom``) and its target resolved."""
    for r in resources:
        level = iam_level(r.type)
        if level is None or level == RESOURCE_LEVEL:
            continue  # a key's, topic's... grants reach no secret
        target = _target(r, secrets) if level == SECRET_LEVEL else None
        project = _str(r.get("project")) if level == PROJECT_LEVEL else None
        account = None
        if level == SERVICE_ACCOUNT_LEVEL:
            match = _SERVICE_ACCOUNT_ID_RE.match(_str(r.get("serviceAccountId")) or "")
            account = f"serviceAccount:{match.group(1)}" if match else None
        for b in bindings(r):
            info = None if b.role == UNKNOWN else (custom.get(b.role) or role_info(b.role))
            where = f"{r.name}: {b.where}".rstrip()
            yield Found(r, level, b, where, info, target, project, account)


def evaluate(resources: Sequence[Resource]) -> Matrix:
    """Every grant of the stack on its Secret Manager secrets."""
    secrets = Secrets(secrets_of(resources))
    matrix = Matrix()
    for f in found_grants(resources, secrets, custom_roles(resources)):
        b, info, where, level = f.binding, f.info, f.where, f.level
        if b.unknown:
            matrix.unknown.append(f"{where}: a role, member or condition is not known")
        if b.role == UNKNOWN:
            continue
        if level == SECRET_LEVEL:
            target = f.target
            if target is None:
                matrix.unknown.append(f"{where}: names a secret this stack does not hold")
                continue
            if info is None:
                matrix.unknown.append(f"{where}: {b.role} is not a role the evaluator knows")
                continue
            if condition_covers(b.condition, target):
                for member in b.members:
                    matrix.grant(member, target.urn, actions(info.permissions))
        elif level in ABOVE_SECRET:
            if info is None:
                matrix.unknown.append(f"{where}: {b.role} is not a role the evaluator knows")
                continue
            for secret in secrets.under(f.project):
                granted = reach_under(info, b.condition, secret)
                for member in b.members:
                    matrix.grant(member, secret.urn, granted)
        elif level == SERVICE_ACCOUNT_LEVEL:
            if info is None:
                matrix.unknown.append(f"{where}: {b.role} is not a role the evaluator knows")
                continue
            if not (info.impersonates or info.escalates) or not reaches(
                b.condition, ANY_SERVICE_ACCOUNT
            ):
                continue
            if f.account is None:
                matrix.unknown.append(f"{where}: the service account is not known")
                continue
            for member in b.members:
                matrix.acts_as.setdefault(member, set()).add(f.account)
    return matrix
