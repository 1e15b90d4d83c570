"""``gcp-gke-no-legacy-access`` (checkov CKV_GCP_7 and CKV_GCP_13; CIS GKE 5.8.1, 5.8.3): a GKE
cluster grants nothing outside Kubernetes RBAC and IAM:

* legacy ABAC (``enableLegacyAbac``) gives every service account of the cluster broad rights,
  reading Secrets included, whatever RBAC says;
* a client certificate (``masterAuth.clientCertificateConfig.issueClientCertificate``) is a
  long-lived cluster-admin credential that cannot be revoked, kept in the stack's state.

checkov fails a cluster that leaves ``issueClientCertificate`` unset; the provider's default has
been ``false`` since GKE 1.12, so an unset value issues no certificate and is not a finding here.
"""

from __future__ import annotations

from collections.abc import Callable

from policies.framework import PackPolicy, Resource, Spec, resource_policy
from policies.lib.shapes import declare, pick, truthy
from policies.model import Category, Severity

CLUSTER = "gcp:container/cluster:Cluster"
_ABAC = declare((CLUSTER,), "enableLegacyAbac")
_CERT = declare((CLUSTER,), "masterAuth.clientCertificateConfig.issueClientCertificate")

SPEC = Spec(
    id="gcp-gke-no-legacy-access",
    description="GKE clusters use neither legacy ABAC nor client certificates (access only "
    "through IAM and RBAC)",
    severity=Severity.HIGH,
    category=Category.OVER_PERMISSIVE,
    remediation="Set enableLegacyAbac to false and masterAuth.clientCertificateConfig."
    "issueClientCertificate to false (or leave both unset); grant access with IAM and RBAC.",
    resource_types=(CLUSTER,),
    checkov=("CKV_GCP_7", "CKV_GCP_13"),
)


def _check(r: Resource, report: Callable[[str], None]) -> None:
    if any(truthy(v) for v in pick(r.props, _ABAC)):
        report("enableLegacyAbac is true: legacy ABAC grants access outside RBAC")
    if any(truthy(v) for v in pick(r.props, _CERT)):
        report(
            "masterAuth issues a client certificate: a long-lived, unrevocable cluster credential"
        )


POLICIES: list[PackPolicy] = [resource_policy(SPEC, _check)]
