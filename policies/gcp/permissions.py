"""The GCP IAM permissions the secret evaluator reads (``policies/gcp/iam.py``), apart so that
``scripts/build_role_tables.py`` derives the predefined-role table from the same sets.

Pure data: no pulumi, no pulumi_policy.
"""

from __future__ import annotations

from typing import Final

ACCESS: Final = "secretmanager.versions.access"
ADD: Final = "secretmanager.versions.add"
GET: Final = "secretmanager.secrets.get"
SET_IAM_POLICY: Final = "secretmanager.secrets.setIamPolicy"
#: Permissions that change a secret, its versions' states or who may use it.
MANAGING: Final = frozenset(
    {
        "secretmanager.secrets.update",
        "secretmanager.secrets.delete",
        SET_IAM_POLICY,
        "secretmanager.versions.enable",
        "secretmanager.versions.disable",
        "secretmanager.versions.destroy",
    }
)
METADATA: Final = frozenset(
    {
        GET,
        "secretmanager.secrets.getIamPolicy",
        "secretmanager.secrets.list",
        "secretmanager.versions.get",
        "secretmanager.versions.list",
    }
)
#: Every per-secret permission the evaluator reads.
SECRET_PERMISSIONS: Final = frozenset({ACCESS, ADD, *METADATA, *MANAGING})
#: Permissions that act as a service account: run or deploy something as it (actAs), mint its
#: access tokens, sign as it, delegate to it, or create a key of it. ``getOpenIdToken`` is not
#: among them: an ID token calls no Google API.
IMPERSONATING_PERMISSIONS: Final = frozenset(
    {
        "iam.serviceAccounts.actAs",
        "iam.serviceAccounts.getAccessToken",
        "iam.serviceAccounts.signBlob",
        "iam.serviceAccounts.signJwt",
        "iam.serviceAccounts.implicitDelegation",
        "iam.serviceAccountKeys.create",
    }
)
#: Permissions that set the IAM policy of a container or of a service account: whoever holds
#: them where they are granted can grant itself any role there.
ESCALATING_PERMISSIONS: Final = frozenset(
    {
        "resourcemanager.projects.setIamPolicy",
        "resourcemanager.folders.setIamPolicy",
        "resourcemanager.organizations.setIamPolicy",
        "iam.serviceAccounts.setIamPolicy",
    }
)

#: Roles that run code as an existing service account of their scope without holding
#: ``iam.serviceAccounts.actAs``: a Dataproc editor submits jobs to clusters that run as the
#: cluster's service account, a Dataflow developer launches jobs that run as the worker service
#: account (checkov's ``AbsGoogleImpersonationRoles``, CKV_GCP_41/44/45/49). Google's role data
#: lists no impersonating permission for them, so this is said here, apart from the data.
RUNS_AS_SERVICE_ACCOUNTS: Final = frozenset(
    {"roles/dataproc.editor", "roles/dataproc.admin", "roles/dataflow.developer"}
)
