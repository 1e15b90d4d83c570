"""``aws-eks-audit-logging`` (checkov CKV_AWS_37, CIS Amazon EKS 2.1.1): an EKS cluster sends its
control plane's ``audit`` log (every read of a Secret, who made it) and ``authenticator`` log
(which IAM identity signed in as which Kubernetes user) to CloudWatch Logs.

checkov asks for all five log types; the scheduler's, the controller manager's and the API
server's own diagnostic logs say nothing about access to Secrets, so this policy asks for the two
that do (``requiredLogTypes``, tunable).
"""

from __future__ import annotations

from collections.abc import Callable

from policies.framework import PackPolicy, Resource, Spec, resource_policy
from policies.lib.shapes import declare, pick
from policies.model import UNKNOWN, Category, Severity

CLUSTER = "aws:eks/cluster:Cluster"
_TYPES = declare((CLUSTER,), "enabledClusterLogTypes")
REQUIRED = ("audit", "authenticator")

SPEC = Spec(
    id="aws-eks-audit-logging",
    description="EKS clusters log the control plane's audit and authenticator logs (who read "
    "which Secret, as whom)",
    severity=Severity.MEDIUM,
    category=Category.AUDIT,
    remediation="Add 'audit' and 'authenticator' to enabledClusterLogTypes (the log group "
    "/aws/eks/<cluster>/cluster should be encrypted and retained like the pack's other logs).",
    resource_types=(CLUSTER,),
    checkov=("CKV_AWS_37",),
    config={
        "requiredLogTypes": {
            "type": "array",
            "items": {"type": "string"},
            "default": list(REQUIRED),
            "description": "control plane log types every cluster must enable",
        }
    },
)


def _check(r: Resource, report: Callable[[str], None]) -> None:
    enabled = pick(r.props, _TYPES)
    if UNKNOWN in enabled:
        return
    required = r.config.get("requiredLogTypes") or list(REQUIRED)
    missing = [t for t in required if t not in enabled]
    if missing:
        report(
            f"enabledClusterLogTypes lacks {', '.join(missing)}: reads of Secrets are not audited"
        )


POLICIES: list[PackPolicy] = [resource_policy(SPEC, _check)]
