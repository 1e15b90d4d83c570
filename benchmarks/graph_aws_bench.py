"""Benchmark: the access graph of a large synthetic AWS estate (issue 24: 10,000 resources in seconds).

The estate: ``--secrets`` Secrets Manager secrets, each with a resource policy denying reads to all
but its listed readers (the project's shape) and one CMK; ``--roles`` roles, each with an inline
policy reading five secrets by ARN (and kms:Decrypt under the Secrets Manager conditions), every
tenth role with a prefix pattern; users that may assume roles; a customer-managed policy
describing every secret attached to every 50th role (auditors). Prints resources, grants and
the build's wall and CPU time (best of ``--runs``; CPU time is what a loaded machine cannot
inflate).

Not a test: nothing is asserted; the figures go to the report and the README.

    .venv/bin/python benchmarks/graph_aws_bench.py [--secrets 2500] [--roles 1200] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from policies.framework import Resource, resources_of  # noqa: E402
from policies.graph import build, clear_cache  # noqa: E402
from policies.model import ResourceRecord  # noqa: E402

ACCT, REGION = "111122223333", "eu-west-1"
KEY = f"arn:aws:kms:{REGION}:{ACCT}:key/00000000-0000-0000-0000-000000000001"


def _r(
    type_: str, name: str, props: dict[str, Any], outputs: dict[str, Any] | None = None
) -> Resource:
    record = ResourceRecord(
        urn=f"urn:pulumi:b::p::{type_}::{name}", type=type_, name=name, props=props, outputs=outputs
    )
    return resources_of([record])[0]


def estate(secrets: int, roles: int) -> list[Resource]:
    out: list[Resource] = []
    root = f"arn:aws:iam::{ACCT}:root"
    out.append(
        _r(
            "aws:kms/key:Key",
            "cmk",
            {
                "policy": json.dumps(
                    {
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"AWS": root},
                                "Action": "kms:*",
                                "Resource": "*",
                            }
                        ]
                    }
                )
            },
            {"arn": KEY},
        )
    )
    arns = [
        f"arn:aws:secretsmanager:{REGION}:{ACCT}:secret:svc{i % 50}/s{i}-AbCdEf"
        for i in range(secrets)
    ]
    role_arns = [f"arn:aws:iam::{ACCT}:role/r{j}" for j in range(roles)]
    for i, arn in enumerate(arns):
        out.append(
            _r(
                "aws:secretsmanager/secret:Secret",
                f"s{i}",
                {"name": f"svc{i % 50}/s{i}", "kmsKeyId": KEY, "tags": {"team": f"t{i % 7}"}},
                {"arn": arn},
            )
        )
        readers = [role_arns[(i * 7 + k) % roles] for k in range(3)]
        out.append(
            _r(
                "aws:secretsmanager/secretPolicy:SecretPolicy",
                f"s{i}-policy",
                {
                    "secretArn": arn,
                    "policy": json.dumps(
                        {
                            "Statement": [
                                {
                                    "Effect": "Deny",
                                    "Principal": {"AWS": "*"},
                                    "Action": "secretsmanager:GetSecretValue",
                                    "Resource": arn,
                                    "Condition": {"ArnNotEquals": {"aws:PrincipalArn": readers}},
                                }
                            ]
                        }
                    ),
                },
            )
        )
    out.append(
        _r(
            "aws:iam/policy:Policy",
            "describe",
            {
                "name": "describe",
                "policy": json.dumps(
                    {
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": "secretsmanager:DescribeSecret",
                                "Resource": "*",
                            }
                        ]
                    }
                ),
            },
            {"arn": f"arn:aws:iam::{ACCT}:policy/describe"},
        )
    )
    trust = json.dumps(
        {"Statement": [{"Effect": "Allow", "Principal": {"AWS": root}, "Action": "sts:AssumeRole"}]}
    )
    for j, rarn in enumerate(role_arns):
        mine = [arns[(j * 5 + k) % secrets] for k in range(5)]
        resources: list[str] = (
            mine if j % 10 else [f"arn:aws:secretsmanager:*:{ACCT}:secret:svc{j % 50}/*"]
        )
        doc = {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["secretsmanager:GetSecretValue"],
                    "Resource": resources,
                },
                {
                    "Effect": "Allow",
                    "Action": "kms:Decrypt",
                    "Resource": KEY,
                    "Condition": {
                        "StringEquals": {"kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com"}
                    },
                },
            ]
        }
        out.append(
            _r(
                "aws:iam/role:Role",
                f"r{j}",
                {"name": f"r{j}", "assumeRolePolicy": trust},
                {"arn": rarn},
            )
        )
        out.append(
            _r(
                "aws:iam/rolePolicy:RolePolicy",
                f"r{j}-p",
                {"role": f"r{j}", "policy": json.dumps(doc)},
            )
        )
        if j % 50:
            continue
        out.append(
            _r(
                "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                f"r{j}-a",
                {"role": f"r{j}", "policyArn": f"arn:aws:iam::{ACCT}:policy/describe"},
            )
        )
    for u in range(roles // 10):
        doc = {
            "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arns[u]}]
        }
        out.append(
            _r(
                "aws:iam/user:User",
                f"u{u}",
                {"name": f"u{u}"},
                {"arn": f"arn:aws:iam::{ACCT}:user/u{u}"},
            )
        )
        out.append(
            _r(
                "aws:iam/userPolicy:UserPolicy",
                f"u{u}-p",
                {"user": f"u{u}", "policy": json.dumps(doc)},
            )
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--secrets", type=int, default=2500)
    parser.add_argument("--roles", type=int, default=1200)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    resources = estate(args.secrets, args.roles)
    times = []
    cpu = []
    graph = None
    for _ in range(args.runs):
        clear_cache()  # time a build, not the last build's cache
        start, start_cpu = time.perf_counter(), time.process_time()
        graph = build(resources)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    assert graph is not None
    grants = sum(len(g) for g in graph.grants.values())
    readers = sum(len(graph.holders(u)) for u in graph.secrets)
    print(
        "| resources | secrets | principals | grants | direct readers | wall (best) | CPU (best) |"
    )
    print("|---|---|---|---|---|---|---|")
    print(
        f"| {len(resources)} | {len(graph.secrets)} | {len(graph.identities)} | {grants} | "
        f"{readers} | {min(times):.2f} s | {min(cpu):.2f} s |"
    )


if __name__ == "__main__":
    main()
