"""``gcp-gke-metadata-server`` (checkov CKV_GCP_69; CIS GKE 5.4.2): GKE nodes run the GKE
metadata server (``workloadMetadataConfig.mode`` ``GKE_METADATA``; ``nodeMetadata``
``GKE_METADATA_SERVER`` in the provider's earlier form), so a pod reaches Google APIs as its own
Kubernetes service account (Workload Identity) and cannot fetch the node's service-account token
or the instance's kube-env credentials from the Compute metadata server.

Judged on the cluster's ``nodeConfig`` and each inline ``nodePools[].nodeConfig``, and on a
separate ``container.NodePool``'s ``nodeConfig``. A cluster whose default pool is removed
(``removeDefaultNodePool``) and that declares no inline pools is judged through its node pools;
an Autopilot cluster always runs the metadata server.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from policies.framework import PackPolicy, Resource, Spec, resource_policy
from policies.lib.shapes import declare, pick, reveal, truthy
from policies.model import UNKNOWN, Category, Severity

CLUSTER = "gcp:container/cluster:Cluster"
NODE_POOL = "gcp:container/nodePool:NodePool"
_MODE = declare((CLUSTER, NODE_POOL), "nodeConfig.workloadMetadataConfig.mode")
_POOL_MODE = declare((CLUSTER,), "nodePools.nodeConfig.workloadMetadataConfig.mode")
_GOOD = ("GKE_METADATA", "GKE_METADATA_SERVER")

SPEC = Spec(
    id="gcp-gke-metadata-server",
    description="GKE node pools run the GKE metadata server (Workload Identity): pods cannot read "
    "the node's credentials from the Compute metadata server",
    severity=Severity.MEDIUM,
    category=Category.OVER_PERMISSIVE,
    remediation="Enable Workload Identity on the cluster (workloadIdentityConfig.workloadPool) "
    "and set nodeConfig.workloadMetadataConfig.mode to GKE_METADATA on every node pool.",
    resource_types=(CLUSTER, NODE_POOL),
    checkov=("CKV_GCP_69",),
)


def _modes(config: Any) -> list[Any]:
    return [
        reveal(v)
        for w in pick(config, "workloadMetadataConfig")
        for v in (*pick(w, "mode"), *pick(w, "nodeMetadata"))
    ]


def _judge(where: str, config: Any, report: Callable[[str], None]) -> None:
    if config == UNKNOWN:
        return
    modes = _modes(config)
    if UNKNOWN in modes or any(m in _GOOD for m in modes):
        return
    report(f"{where} does not run the GKE metadata server: pods can read the node's credentials")


def _check(r: Resource, report: Callable[[str], None]) -> None:
    if r.type == NODE_POOL:
        configs = pick(r.props, "nodeConfig")
        _judge("nodeConfig", configs[0] if configs else {}, report)
        return
    if any(truthy(v) for v in pick(r.props, "enableAutopilot")):
        return
    pools = pick(r.props, "nodePools")
    for i, pool in enumerate(pools):
        configs = pick(pool, "nodeConfig")
        _judge(f"nodePools[{i}].nodeConfig", configs[0] if configs else {}, report)
    if any(truthy(v) for v in pick(r.props, "removeDefaultNodePool")) or pools:
        return
    configs = pick(r.props, "nodeConfig")
    _judge("the default node pool (nodeConfig)", configs[0] if configs else {}, report)


POLICIES: list[PackPolicy] = [resource_policy(SPEC, _check)]
