"""``aws-eks-secrets-encryption`` (checkov CKV_AWS_58, CIS Amazon EKS 5.3.1): an EKS cluster
encrypts Kubernetes Secrets with a KMS key (envelope encryption of etcd): ``encryptionConfig``
lists ``secrets`` among its resources and names a key that is not AWS-managed.

Every shape is read: the block as an object (pulumi-aws 6 and 7) or a one-item list (a state
export), Pulumi secret envelopes at any depth; a value unknown at
preview is not judged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from policies.aws.secretsmanager import aws_managed_key
from policies.framework import PackPolicy, Resource, Spec, resource_policy
from policies.lib.shapes import OPAQUE, declare, pick, reveal
from policies.model import UNKNOWN, Category, Severity

CLUSTER = "aws:eks/cluster:Cluster"
_CONFIGS = declare((CLUSTER,), "encryptionConfig")

SPEC = Spec(
    id="aws-eks-secrets-encryption",
    description="EKS clusters encrypt Kubernetes Secrets with a customer-managed KMS key "
    "(encryptionConfig with resources ['secrets'])",
    severity=Severity.HIGH,
    category=Category.ENCRYPTION,
    remediation="Set encryptionConfig = {resources: ['secrets'], provider: {keyArn: <your KMS "
    "key>}} on the cluster (it can be added to a running cluster, not removed).",
    resource_types=(CLUSTER,),
    checkov=("CKV_AWS_58",),
)


def _resources(config: Any) -> list[Any]:
    return [reveal(v) for v in pick(config, "resources")]


def _check(r: Resource, report: Callable[[str], None]) -> None:
    configs = pick(r.props, _CONFIGS)
    if any(c == UNKNOWN for c in configs):
        return
    covering = [c for c in configs if "secrets" in _resources(c)]
    if not covering:
        if any(v == UNKNOWN for c in configs for v in _resources(c)):
            return
        report(
            "encryptionConfig does not cover 'secrets': Secrets sit in etcd without envelope encryption"
        )
        return
    for config in covering:
        keys = [reveal(k) for k in pick(config, "provider|providers.keyArn")]
        if any(k == UNKNOWN or k in OPAQUE for k in keys):
            return
        key = next((k for k in keys if isinstance(k, str) and k), None)
        if key is None:
            report("encryptionConfig names no provider.keyArn")
        elif aws_managed_key(key):
            report(f"encryptionConfig names the AWS-managed key {key.rsplit(':', 1)[-1]}")
        return


POLICIES: list[PackPolicy] = [resource_policy(SPEC, _check)]
