"""The project's own stacks: each Kubernetes Secret (a workload's ExternalSecret target) is read
by the workload's service account alone, written by nobody, and nobody's RBAC is one step from
more (no pod creation, exec, token request, impersonation or bind in the project's roles), in the
prod and dev plans and in a plan that revokes secrets (a revoked secret is not delivered)."""

from __future__ import annotations

from policies.contract.access import Action
from policies.graph import Graph
from tests.graph.test_vault_stacks import SA, _holders, planned
from tests.plans import estate_and_block

__all__ = ["planned"]


def test_kubernetes_secrets_are_read_by_their_workload_only(
    planned: tuple[str, dict[str, str], Graph],
) -> None:
    from infra.backends.kubernetes import documents as k8s_documents
    from infra.backends.kubernetes.settings import KubernetesSettings

    stack, config, graph = planned
    estate, block = estate_and_block(config, "kubernetes")
    assert isinstance(block, KubernetesSettings)
    ns = block.namespace_for(estate.environment)
    intended = {
        f"{ns}/{k8s_documents.target_secret(role)}": {f"{SA}{ns}:{block.account(role)}"}
        for role in block.roles()
        if k8s_documents.delivered(estate, role)
    }
    assert intended, stack
    assert _holders(graph, "kubernetes", Action.READ) == intended
    assert all(not w for w in _holders(graph, "kubernetes", Action.WRITE).values())
    # nobody in the project's RBAC can create pods, exec or bind: no escalation at all
    escalated = [
        (graph.secrets[urn].address, g.principal)
        for urn, grants in graph.grants.items()
        if graph.secrets[urn].store in ("vault", "kubernetes")
        for g in grants
        if g.escalation
    ]
    assert escalated == []
