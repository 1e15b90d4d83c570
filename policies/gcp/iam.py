"""What GCP IAM lets each member do to each Secret Manager secret, read offline from a plan.

Pure: no pulumi, no pulumi_policy. Two parts:

* :data:`ROLES`, a small table of the predefined roles that matter to secrets: the Secret Manager
  permissions each includes, and whether it lets its holder act as another identity
  (impersonation) or grant itself any role (escalation). Sources, checked when the table was
  written (re-check them when a role is added):

  - Secret Manager roles: https://cloud.google.com/iam/docs/roles-permissions/secretmanager
  - Service account roles (impersonation): https://cloud.google.com/iam/docs/service-account-permissions
    and https://cloud.google.com/iam/docs/roles-permissions/iam
  - Basic roles (owner, editor, viewer): https://cloud.google.com/iam/docs/roles-overview#basic
  - Roles that impersonate or manage service accounts when granted above a service account:
    checkov's ``AbsGoogleImpersonationRoles`` (CKV_GCP_41/44/45/49)

  The Editor basic role is read conservatively: every Secret Manager permission except setting
  IAM policies (Google lists payload access among Editor's permissions).

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
from collections.abc import Iterable, Mapping, Sequence
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
    bindings,
    iam_level,
)
from policies.model import UNKNOWN

if TYPE_CHECKING:
    from policies.framework import Resource

# ---- permissions and roles -----------------------------------------------------------------------

ACCESS: Final = "secretmanager.versions.access"
ADD: Final = "secretmanager.versions.add"
GET: Final = "secretmanager.secrets.get"
#: Permissions that change a secret, its versions' states or who may use it.
MANAGING: Final = frozenset(
    {
        "secretmanager.secrets.update",
        "secretmanager.secrets.delete",
        "secretmanager.secrets.setIamPolicy",
        "secretmanager.versions.enable",
        "secretmanager.versions.disable",
        "secretmanager.versions.destroy",
    }
)
#: Every per-secret permission of Secret Manager (roles/secretmanager.admin has ``secretmanager.*``).
ALL_SECRET_PERMISSIONS: Final = frozenset(
    {
        ACCESS,
        ADD,
        GET,
        "secretmanager.secrets.getIamPolicy",
        "secretmanager.secrets.list",
        "secretmanager.versions.get",
        "secretmanager.versions.list",
        *MANAGING,
    }
)
_METADATA: Final = frozenset(
    {
        GET,
        "secretmanager.secrets.getIamPolicy",
        "secretmanager.secrets.list",
        "secretmanager.versions.get",
        "secretmanager.versions.list",
    }
)


@dataclass(frozen=True)
class RoleInfo:
    """What a predefined role means for secrets."""

    #: The Secret Manager permissions it includes (per secret).
    permissions: frozenset[str] = frozenset()
    #: Its holder can act as a service account it is granted on (tokens, keys, actAs).
    impersonates: bool = False
    #: Its holder can change IAM policies where it is granted, so grant itself any role.
    escalates: bool = False


ROLES: Final[Mapping[str, RoleInfo]] = {
    # Secret Manager (roles-permissions/secretmanager)
    "roles/secretmanager.admin": RoleInfo(ALL_SECRET_PERMISSIONS),
    "roles/secretmanager.secretAccessor": RoleInfo(frozenset({ACCESS})),
    "roles/secretmanager.secretVersionAdder": RoleInfo(frozenset({ADD})),
    "roles/secretmanager.secretVersionManager": RoleInfo(
        frozenset(
            {
                ADD,
                "secretmanager.versions.destroy",
                "secretmanager.versions.disable",
                "secretmanager.versions.enable",
                "secretmanager.versions.get",
                "secretmanager.versions.list",
            }
        )
    ),
    "roles/secretmanager.viewer": RoleInfo(_METADATA),
    # Basic roles (roles-overview#basic)
    "roles/owner": RoleInfo(ALL_SECRET_PERMISSIONS, impersonates=True, escalates=True),
    "roles/editor": RoleInfo(
        ALL_SECRET_PERMISSIONS - {"secretmanager.secrets.setIamPolicy"}, impersonates=True
    ),
    "roles/viewer": RoleInfo(_METADATA),
    # Service accounts (service-account-permissions, roles-permissions/iam)
    "roles/iam.serviceAccountTokenCreator": RoleInfo(impersonates=True),
    "roles/iam.serviceAccountUser": RoleInfo(impersonates=True),
    "roles/iam.workloadIdentityUser": RoleInfo(impersonates=True),
    "roles/iam.serviceAccountKeyAdmin": RoleInfo(impersonates=True),
    "roles/iam.serviceAccountAdmin": RoleInfo(impersonates=True, escalates=True),
    "roles/iam.serviceAccountOpenIdTokenCreator": RoleInfo(),  # ID tokens only: no Google API
    "roles/iam.securityAdmin": RoleInfo(
        frozenset({"secretmanager.secrets.getIamPolicy", "secretmanager.secrets.setIamPolicy"}),
        impersonates=True,
        escalates=True,
    ),
    "roles/iam.securityReviewer": RoleInfo(frozenset({"secretmanager.secrets.getIamPolicy"})),
    # Resource Manager: whoever sets a project's, folder's or organisation's IAM policy can grant
    # itself any role there (checkov's impersonation list).
    "roles/resourcemanager.projectIamAdmin": RoleInfo(escalates=True),
    "roles/resourcemanager.folderAdmin": RoleInfo(escalates=True),
    "roles/resourcemanager.folderIamAdmin": RoleInfo(escalates=True),
    "roles/resourcemanager.organizationAdmin": RoleInfo(escalates=True),
    # Roles that run workloads as any service account of their scope (checkov's list).
    "roles/dataproc.editor": RoleInfo(impersonates=True),
    "roles/dataproc.admin": RoleInfo(impersonates=True),
    "roles/dataflow.developer": RoleInfo(impersonates=True),
    "roles/serverless.serviceAgent": RoleInfo(impersonates=True),
    "roles/dataproc.serviceAgent": RoleInfo(impersonates=True),
    # Roles the GCP backend grants outside Secret Manager: none reaches a secret.
    "roles/cloudkms.cryptoKeyEncrypterDecrypter": RoleInfo(),
    "roles/pubsub.publisher": RoleInfo(),
    "roles/pubsub.subscriber": RoleInfo(),
}

BASIC_ROLES: Final = ("roles/owner", "roles/editor", "roles/viewer")
#: Role name prefixes whose members the table must know to judge them (a role of another service
#: is taken to grant no Secret Manager and no impersonation permission).
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


def _target(r: Resource, secrets: Sequence[Secret], by_urn: Mapping[str, Secret]) -> Secret | None:
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
            for s in secrets
            if s.secret_id == secret_id and (project is None or s.project in (None, project))
        ]
        if len(found) == 1:
            return found[0]
    for urn in (*r.property_dependencies.get("secretId", ()), r.parent or ""):
        if urn in by_urn:
            return by_urn[urn]
    return None


_NAME_EQ_RE = re.compile(r"resource\.name\s*==\s*\"([^\"]*)\"")
_NAME_PREFIX_RE = re.compile(r"resource\.name\.startsWith\(\s*\"([^\"]*)\"\s*\)")


def condition_covers(expression: str | None, secret: Secret) -> bool:
    """May a grant with this IAM condition apply to ``secret``? Only conjunctions of
    ``resource.name == "..."`` and ``resource.name.startsWith("...")`` narrow it, compared on the
    ``secrets/<id>`` part (Secret Manager names a secret by project *number* there; a version's
    name ``.../secrets/<id>/versions/<n>`` still reaches that secret's payload); any other
    condition may hold, so the grant counts."""
    if not expression or "||" in expression or "!" in expression:
        return True

    def after_secrets(name: str) -> str | None:
        i = name.find("secrets/")
        return name[i + len("secrets/") :] if i >= 0 else None

    for name in _NAME_EQ_RE.findall(expression):
        part = after_secrets(name)
        if part is not None and part.split("/", 1)[0] != secret.secret_id:
            return False
    for prefix in _NAME_PREFIX_RE.findall(expression):
        part = after_secrets(prefix)
        if part is None:
            continue
        if "/" in part:
            if part.split("/", 1)[0] != secret.secret_id:
                return False
        elif not secret.secret_id.startswith(part):
            return False
    return True


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


def evaluate(resources: Sequence[Resource]) -> Matrix:
    """Every grant of the stack on its Secret Manager secrets."""
    secrets = secrets_of(resources)
    by_urn = {s.urn: s for s in secrets}
    matrix = Matrix()
    for r in resources:
        level = iam_level(r.type)
        if level is None or level == RESOURCE_LEVEL:
            continue  # a key's, topic's... grants reach no secret
        for b in bindings(r):
            where = f"{r.name}: {b.where}".rstrip()
            if b.unknown:
                matrix.unknown.append(f"{where}: a role, member or condition is not known")
            if b.role == UNKNOWN:
                continue
            info = role_info(b.role)
            if level == SECRET_LEVEL:
                target = _target(r, secrets, by_urn)
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
                project = _str(r.get("project")) if level == PROJECT_LEVEL else None
                for secret in secrets:
                    if project is not None and secret.project not in (None, project):
                        continue
                    if condition_covers(b.condition, secret):
                        for member in b.members:
                            matrix.grant(member, secret.urn, reach(info))
            elif level == SERVICE_ACCOUNT_LEVEL:
                if info is None:
                    matrix.unknown.append(f"{where}: {b.role} is not a role the evaluator knows")
                    continue
                if not (info.impersonates or info.escalates):
                    continue
                account = _str(r.get("serviceAccountId"))
                match = _SERVICE_ACCOUNT_ID_RE.match(account or "")
                if match is None:
                    matrix.unknown.append(f"{where}: the service account is not known")
                    continue
                for member in b.members:
                    matrix.acts_as.setdefault(member, set()).add(f"serviceAccount:{match.group(1)}")
    return matrix
