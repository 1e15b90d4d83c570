"""Benchmark: building the access graph of a synthetic Vault + Kubernetes estate (issue 24).

A state of N resources (default 10,000): Vault KV v2 secrets, ACL policies (exact paths on a few
secrets each, plus a glob per team), Kubernetes auth roles, Kubernetes Secrets, service accounts,
Roles/RoleBindings (get by name, some list), a few pod creators and Deployments, in 50 teams
(namespaces/mounts). Prints resources, secrets, grants and the build's wall and CPU time (best of --runs; on a
shared machine the CPU time is the figure to compare). The first run also parses every policy
(the parser caches texts).

Not a test: nothing is asserted; the figures go to the report and the README.

    .venv/bin/python benchmarks/graph_vault_kubernetes_bench.py [--resources 10000] [--runs 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from policies.framework import Resource, resources_of
from policies.graph import build, clear_cache
from policies.model import ResourceRecord

RBAC = "kubernetes:rbac.authorization.k8s.io/v1:"


def _r(type_: str, name: str, props: dict[str, Any]) -> Resource:
    record = ResourceRecord(
        urn=f"urn:pulumi:bench::p::{type_}::{name}", type=type_, name=name, props=props
    )
    return resources_of([record])[0]


def estate(total: int, teams: int = 50) -> list[Resource]:
    out: list[Resource] = []
    per_team = max(1, total // teams // 10)  # each unit below is ~10 resources
    for t in range(teams):
        ns, mount = f"team-{t}", f"kv/team-{t}"
        for i in range(per_team):
            names = [f"svc-{i}/key-{k}" for k in range(3)]
            out += [
                _r("vault:kv/secretV2:SecretV2", f"{t}-{i}-{k}", {"mount": mount, "name": n})
                for k, n in enumerate(names)
            ]
            text = "".join(
                f'path "{mount}/data/{n}" {{\n  capabilities = ["read"]\n}}\n' for n in names
            )
            out.append(
                _r(
                    "vault:index/policy:Policy",
                    f"p-{t}-{i}",
                    {"name": f"p-{t}-{i}", "policy": text},
                )
            )
            out.append(
                _r(
                    "vault:kubernetes/authBackendRole:AuthBackendRole",
                    f"k-{t}-{i}",
                    {
                        "roleName": f"r-{t}-{i}",
                        "boundServiceAccountNames": [f"sa-{i}"],
                        "boundServiceAccountNamespaces": [ns],
                        "tokenPolicies": [f"p-{t}-{i}", f"team-{t}"],
                    },
                )
            )
            out.append(
                _r(
                    "kubernetes:core/v1:Secret",
                    f"s-{t}-{i}",
                    {"metadata": {"name": f"s-{i}", "namespace": ns}},
                )
            )
            out.append(
                _r(
                    "kubernetes:core/v1:ServiceAccount",
                    f"sa-{t}-{i}",
                    {"metadata": {"name": f"sa-{i}", "namespace": ns}},
                )
            )
            out.append(
                _r(
                    f"{RBAC}Role",
                    f"role-{t}-{i}",
                    {
                        "metadata": {"name": f"reader-{i}", "namespace": ns},
                        "rules": [
                            {
                                "apiGroups": [""],
                                "resources": ["secrets"],
                                "verbs": ["get"],
                                "resourceNames": [f"s-{i}"],
                            }
                        ],
                    },
                )
            )
            out.append(
                _r(
                    f"{RBAC}RoleBinding",
                    f"rb-{t}-{i}",
                    {
                        "metadata": {"name": f"reader-{i}", "namespace": ns},
                        "roleRef": {"kind": "Role", "name": f"reader-{i}"},
                        "subjects": [
                            {"kind": "ServiceAccount", "name": f"sa-{i}", "namespace": ns}
                        ],
                    },
                )
            )
        glob = f'path "{mount}/metadata/*" {{\n  capabilities = ["read", "list"]\n}}\n'
        out.append(
            _r("vault:index/policy:Policy", f"team-{t}", {"name": f"team-{t}", "policy": glob})
        )
        out.append(
            _r(
                f"{RBAC}Role",
                f"deployer-{t}",
                {
                    "metadata": {"name": "deployer", "namespace": ns},
                    "rules": [
                        {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["create"]}
                    ],
                },
            )
        )
        out.append(
            _r(
                f"{RBAC}RoleBinding",
                f"deployer-{t}",
                {
                    "metadata": {"name": "deployer", "namespace": ns},
                    "roleRef": {"kind": "Role", "name": "deployer"},
                    "subjects": [{"kind": "User", "name": f"dev-{t}"}],
                },
            )
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    resources = estate(args.resources)
    times, cpu = [], []
    graph = None
    for _ in range(args.runs):
        clear_cache()  # time a build, not the last build's cache
        start, start_cpu = time.perf_counter(), time.process_time()
        graph = build(resources)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    assert graph is not None
    grants = sum(len(g) for g in graph.grants.values())
    escalated = sum(1 for g in graph.grants.values() for x in g if x.escalation)
    print("| resources | secrets | grants | escalation grants | wall (best) | CPU (best) |")
    print("| --- | --- | --- | --- | --- | --- |")
    print(
        f"| {len(resources)} | {len(graph.secrets)} | {grants} | {escalated} "
        f"| {min(times):.2f} s | {min(cpu):.2f} s |"
    )


if __name__ == "__main__":
    main()
