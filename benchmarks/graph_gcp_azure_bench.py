"""Benchmark: building the access graph of a large synthetic GCP + Azure state (issue 24).

Half the resources are GCP (secrets, a reader and a metadata viewer on each, one service account
per ten secrets with a token creator on it, a project-level token creator and IAM admin), half
Azure (RBAC and access-policy vaults of 50 secrets, a Secrets User assignment per secret, a
Contributor per vault, an Owner on the resource group). Prints resources, grants and the build
time (best of ``--runs``). Not a test: nothing is asserted; the figures go to the README.

    .venv/bin/python benchmarks/graph_gcp_azure_bench.py [--resources 10000] [--runs 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from policies.framework import resources_of
from policies.graph import build, clear_cache
from policies.model import ResourceRecord

P = "bench-project"
SUB = "/subscriptions/00000000-0000-4000-8000-000000000009"
RG = f"{SUB}/resourceGroups/rg"
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
USER = "4633458b-17de-408a-b874-0445c86b69e6"


def _rec(type_: str, name: str, props: dict[str, Any]) -> ResourceRecord:
    return ResourceRecord(
        urn=f"urn:pulumi:b::p::{type_}::{name}", type=type_, name=name, props=props, source="state"
    )


def gcp(n: int) -> list[ResourceRecord]:
    out = []
    secrets = n // 3
    for i in range(secrets):
        sa = f"serviceAccount:sa{i // 10}@{P}.iam.gserviceaccount.com"
        out.append(
            _rec("gcp:secretmanager/secret:Secret", f"s{i}", {"project": P, "secretId": f"s{i}"})
        )
        for role, member in (
            ("roles/secretmanager.secretAccessor", sa),
            ("roles/secretmanager.viewer", f"group:g{i % 7}@x.io"),
        ):
            out.append(
                _rec(
                    "gcp:secretmanager/secretIamMember:SecretIamMember",
                    f"m{i}-{role[-6:]}",
                    {"project": P, "secretId": f"s{i}", "role": role, "member": member},
                )
            )
    for j in range(secrets // 10):
        email = f"sa{j}@{P}.iam.gserviceaccount.com"
        out.append(
            _rec(
                "gcp:serviceaccount/iAMMember:IAMMember",
                f"tc{j}",
                {
                    "serviceAccountId": f"projects/{P}/serviceAccounts/{email}",
                    "role": "roles/iam.serviceAccountTokenCreator",
                    "member": f"user:u{j}@x.io",
                },
            )
        )
    out.append(
        _rec(
            "gcp:projects/iAMMember:IAMMember",
            "ptc",
            {
                "project": P,
                "role": "roles/iam.serviceAccountTokenCreator",
                "member": "user:ops@x.io",
            },
        )
    )
    out.append(
        _rec(
            "gcp:projects/iAMMember:IAMMember",
            "pia",
            {
                "project": P,
                "role": "roles/resourcemanager.projectIamAdmin",
                "member": "user:iam@x.io",
            },
        )
    )
    return out  # fmt: skip


def azure(n: int) -> list[ResourceRecord]:
    out = []
    secrets = n // 2
    for v in range(secrets // 50 + 1):
        out.append(
            _rec(
                "azure-native:keyvault:Vault",
                f"kv{v}",
                {
                    "vaultName": f"kv{v}",
                    "resourceGroupName": "rg",
                    "properties": {"enableRbacAuthorization": v % 2 == 0},
                },
            )
        )
        out.append(
            _rec(
                "azure-native:authorization:RoleAssignment",
                f"c{v}",
                {
                    "roleDefinitionId": CONTRIBUTOR,
                    "scope": f"{RG}/providers/Microsoft.KeyVault/vaults/kv{v}",
                    "principalId": f"contrib-{v}",
                },
            )
        )
    for i in range(secrets):
        v = i // 50
        out.append(
            _rec(
                "azure-native:keyvault:Secret",
                f"as{i}",
                {"vaultName": f"kv{v}", "resourceGroupName": "rg", "secretName": f"as{i}"},
            )
        )
        out.append(
            _rec(
                "azure-native:authorization:RoleAssignment",
                f"a{i}",
                {
                    "roleDefinitionId": USER,
                    "scope": f"{RG}/providers/Microsoft.KeyVault/vaults/kv{v}/secrets/as{i}",
                    "principalId": f"reader-{i % 13}",
                },
            )
        )
    out.append(
        _rec(
            "azure-native:authorization:RoleAssignment",
            "owner",
            {"roleDefinitionId": OWNER, "scope": RG, "principalId": "owner"},
        )
    )
    return out  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    records = [*gcp(args.resources // 2), *azure(args.resources // 2)]
    resources = resources_of(records)
    best = float("inf")
    for _ in range(args.runs):
        clear_cache()  # time a build, not the last build's cache
        start = time.perf_counter()
        graph = build(resources)
        best = min(best, time.perf_counter() - start)
    grants = sum(len(g) for g in graph.grants.values())
    escalations = sum(1 for gs in graph.grants.values() for g in gs if g.escalation)
    print("| resources | secrets | grants | of them escalations | build (best of runs) |")
    print("|---:|---:|---:|---:|---:|")
    print(
        f"| {len(resources):,} | {len(graph.secrets):,} | {grants:,} | {escalations:,} | {best:.2f} s |"
    )


if __name__ == "__main__":
    main()
