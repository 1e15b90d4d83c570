"""Google Cloud (Secret Manager, Cloud KMS, IAM): policies judged on what resources effectively
grant and declare, never on their names.

=============================  =====================================================================
module                         policies
=============================  =====================================================================
``access`` (IAM, via ``iam``)  ``gcp-iam-no-secret-access-above-secret``,
                               ``gcp-iam-no-public-members``, ``gcp-iam-no-basic-roles``,
                               ``gcp-iam-no-service-account-keys``
``secretmanager``              ``gcp-secretmanager-cmek``, ``gcp-secretmanager-rotation``,
                               ``gcp-secret-payload-marked-secret``
``kms``                        ``gcp-kms-key-rotation``
``audit``                      ``gcp-audit-config-no-exemptions``,
                               ``gcp-secretmanager-data-access-logs`` (stack)
=============================  =====================================================================

``registry`` lists them for the pack. ``common`` (resource types, the IAM readers of every form)
and ``iam`` (the cited role table and the offline member x secret x action evaluator) are pure
libraries: importing them (and this package) imports no pulumi. Credentials in any input are the
common ``all-no-plaintext-credentials``'s; payload fields it lists, ``all-secret-values-marked-secret``'s.
"""
