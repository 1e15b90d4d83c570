"""GCP IAM: judged on what each grant effectively allows (``policies/gcp/iam.py``), in every
resource form (member, binding, policy), never on names.

* ``gcp-iam-no-secret-access-above-secret``: nothing granted on a project, folder or organisation
  can read secret payloads (``secretmanager.versions.access``), act as a service account, or grant
  itself roles; a role the evaluator cannot judge there (a custom role...) fails closed. A grant
  is judged under its IAM condition (``policies/gcp/conditions.py``): one naming some secrets or
  a prefix of their names reads only those, one on secrets' names or types acts as no service
  account, a closed time window allows nothing; a condition that does not constrain (a prefix of
  every secret, a window still open, anything not understood) changes nothing.
* ``gcp-iam-no-public-members``: no grant, anywhere, to public or wildcard principals:
  ``allUsers``, ``allAuthenticatedUsers``, ``principalSet://goog/public:all``, a whole domain, a
  whole identity pool (``principalSet://.../*``) or a whole GKE cluster.
* ``gcp-iam-no-basic-roles``: no grant, anywhere, of owner, editor or viewer.
* ``gcp-iam-no-service-account-keys``: no service-account key is created (workloads authenticate
  with attached service accounts or workload identity).
"""

from __future__ import annotations

from collections.abc import Callable

from policies.framework import PackPolicy, Resource, Spec, resource_policy
from policies.gcp.common import ABOVE_SECRET, IAM_TYPES, SERVICE_ACCOUNT_KEY, bindings, iam_level
from policies.gcp.conditions import ANY_CONTAINER, ANY_SECRET, ANY_SERVICE_ACCOUNT, reaches
from policies.gcp.iam import BASIC_ROLES, role_info
from policies.gcp.permissions import ACCESS
from policies.model import UNKNOWN, Category, Severity

ABOVE = Spec(
    id="gcp-iam-no-secret-access-above-secret",
    description="Nothing granted on a project, folder or organisation (any IAM member, binding or "
    "policy) can read secret payloads, impersonate service accounts or grant itself roles: "
    "secretAccessor, secretmanager.admin, owner, editor, serviceAccountUser/TokenCreator, "
    "workloadIdentityUser, IAM admins...; unknown and custom roles fail closed",
    severity=Severity.CRITICAL,
    category=Category.OVER_PERMISSIVE,
    remediation="Grant roles/secretmanager.secretAccessor on each secret (SecretIamMember) to the "
    "identity that reads it, impersonation roles on the one service account concerned; keep "
    "project-level grants to roles that reach no secret.",
    resource_types=IAM_TYPES,
    checkov=("CKV_GCP_41", "CKV_GCP_44", "CKV_GCP_45", "CKV_GCP_49"),
)


def _above(r: Resource, report: Callable[[str], None]) -> None:
    level = iam_level(r.type)
    if level not in ABOVE_SECRET:
        return
    for b in bindings(r):
        if b.role == UNKNOWN:
            continue
        info = role_info(b.role)
        who = ", ".join(b.members) or "members"
        if info is None:
            report(
                f"{b.where}{b.role} granted on the {level} to {who}: not a role this pack can "
                "judge (custom or unknown); grant it on the resource that needs it"
            )
            continue
        # What the binding's IAM condition lets through: a secret of any name (a condition
        # naming some secrets or a prefix of them narrows the payload reads to those), service
        # accounts, the project/folder/organisation itself (a closed time window: nothing).
        cond = b.condition
        reasons = []
        if ACCESS in info.permissions and reaches(cond, ANY_SECRET):
            reasons.append("reads every secret's payload")
        if info.impersonates and reaches(cond, ANY_SERVICE_ACCOUNT):
            reasons.append("acts as any service account")
        if info.escalates and (reaches(cond, ANY_CONTAINER) or reaches(cond, ANY_SERVICE_ACCOUNT)):
            reasons.append("grants itself any role")
        if reasons:
            report(
                f"{b.where}{b.role} granted on the {level} to {who}: {' and '.join(reasons)} "
                f"of the {level}"
            )


PUBLIC = Spec(
    id="gcp-iam-no-public-members",
    description="GCP IAM grants nothing to public or wildcard principals: allUsers, "
    "allAuthenticatedUsers, principalSet://goog/public:all, domain:, a whole workload or workforce "
    "identity pool (principalSet://.../*) or a whole GKE cluster",
    severity=Severity.CRITICAL,
    category=Category.PUBLIC_ACCESS,
    remediation="Grant the role to the exact workload's service account or principal:// subject "
    "(or an attribute-scoped principalSet), never to a whole pool, domain or the public.",
    resource_types=IAM_TYPES,
    checkov=("CKV_GCP_28", "CKV_GCP_107", "CKV_GCP_112", "CKV2_GCP_6", "CKV2_GCP_8"),
)

PUBLIC_MEMBERS = ("allUsers", "allAuthenticatedUsers", "principalSet://goog/public:all")


def wildcard(member: str) -> str | None:
    """Why a member stands for more than one known identity (None: it does not)."""
    if member in PUBLIC_MEMBERS:
        return "the public"
    if member.startswith("domain:"):
        return "every account of a domain"
    if member.startswith("principalSet://"):
        if member.endswith("/*"):
            return "every identity of a pool"
        if "/kubernetes.cluster/" in member:
            return "every workload of a cluster"
    if "*" in member:
        return "a wildcard"
    return None


def _public(r: Resource, report: Callable[[str], None]) -> None:
    for b in bindings(r):
        found = [f"{m} ({why})" for m in b.members if (why := wildcard(m)) is not None]
        if found:
            report(f"{b.where}{b.role} granted to {', '.join(found)}")


BASIC = Spec(
    id="gcp-iam-no-basic-roles",
    description="GCP IAM uses predefined or custom roles, never the basic owner/editor/viewer roles "
    "(on a project, folder, organisation or any resource)",
    severity=Severity.HIGH,
    category=Category.OVER_PERMISSIVE,
    remediation="Use roles/secretmanager.secretAccessor (read) or roles/secretmanager.admin (admins) "
    "on the secret, not a basic role.",
    resource_types=IAM_TYPES,
    checkov=("CKV_GCP_115", "CKV_GCP_116", "CKV_GCP_117"),
)


def _basic(r: Resource, report: Callable[[str], None]) -> None:
    for b in bindings(r):
        if b.role in BASIC_ROLES:
            report(f"{b.where}basic role {b.role} granted to {', '.join(b.members) or 'members'}")


KEYS = Spec(
    id="gcp-iam-no-service-account-keys",
    description="No service-account key is created: a key is a long-lived credential that anyone "
    "holding it can use from anywhere",
    severity=Severity.HIGH,
    category=Category.OVER_PERMISSIVE,
    remediation="Attach the service account to the workload, or use workload identity (GKE) or "
    "workload identity federation; delete existing keys.",
    resource_types=(SERVICE_ACCOUNT_KEY,),
)


def _keys(r: Resource, report: Callable[[str], None]) -> None:
    account = r.get("serviceAccountId")
    shown = account if isinstance(account, str) and account != UNKNOWN else "a service account"
    report(f"a key of {shown}: use workload identity instead")


POLICIES: list[PackPolicy] = [
    resource_policy(ABOVE, _above),
    resource_policy(PUBLIC, _public),
    resource_policy(BASIC, _basic),
    resource_policy(KEYS, _keys),
]
