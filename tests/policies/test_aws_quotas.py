"""AWS's size quotas: the pack's quota policies on fixtures, the fitting of documents, and a catalog
ten times the project's that still plans inside every quota."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from infra.backends.aws import quotas as q
from infra.catalog import CATALOG_PATH
from nt_secrets.plan import plan_stack, records
from policies.aws import quotas as quota_policies
from policies.model import ResourceRecord
from policies.runner import run
from tests.policies.records import rec

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"


def arn(service: str, key: str) -> str:
    return f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:neural-trader/production/{service}/{key}-AbCdEf"


def read_policy(count: int) -> str:
    """A role policy reading ``count`` named secrets (about 100 characters each)."""
    resources = [arn(f"svc{i // 10}", f"key-{i}") for i in range(count)]
    statement = {
        "Effect": "Allow",
        "Action": ["secretsmanager:GetSecretValue"],
        "Resource": resources,
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def trust(principals: int) -> str:
    arns = [f"arn:aws:iam::{ACCOUNT}:role/principal-number-{i:04d}" for i in range(principals)]
    st = {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": arns}}
    return json.dumps({"Version": "2012-10-17", "Statement": [st]})


def permission(i: int, function: str = "rotation") -> ResourceRecord:
    return rec(
        "aws:lambda/permission:Permission",
        {
            "statementId": f"SecretsManager-secret-number-{i:04d}",
            "action": "lambda:InvokeFunction",
            "function": function,
            "principal": "secretsmanager.amazonaws.com",
            "sourceAccount": ACCOUNT,
            "sourceArn": arn("svc", f"secret-number-{i:04d}"),
        },
        name=f"p{i}",
    )


ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"

#: (case, policy, records, expected: 0 compliant, >0 violating) — read with test_pack's CASES.
QUOTA_CASES: list[tuple[str, str, list[ResourceRecord], int]] = [
    (
        "role policy naming 60 secrets",
        "aws-document-quotas",
        [rec(ROLE_POLICY, {"policy": read_policy(60)})],
        0,
    ),
    (
        "role policy naming 120 secrets",
        "aws-document-quotas",
        [rec(ROLE_POLICY, {"policy": read_policy(120)})],
        1,
    ),
    (
        "managed policy over 6,144",
        "aws-document-quotas",
        [rec("aws:iam/policy:Policy", {"policy": read_policy(70)})],
        1,
    ),
    (
        "trust policy of 60 principals",
        "aws-document-quotas",
        [rec("aws:iam/role:Role", {"assumeRolePolicy": trust(60)})],
        1,
    ),
    (
        "secret with 51 tags",
        "aws-document-quotas",
        [rec("aws:secretsmanager/secret:Secret", {"tags": {f"t{i}": "v" for i in range(51)}})],
        1,
    ),
    (
        "tag value of 300 characters",
        "aws-document-quotas",
        [rec("aws:s3/bucket:Bucket", {"tags": {"note": "x" * 300}})],
        1,
    ),
    (
        "Lambda environment over 4 KB",
        "aws-document-quotas",
        [rec("aws:lambda/function:Function", {"environment": {"variables": {"BLOB": "x" * 5000}}})],
        1,
    ),
    (
        "two inline policies of one role over 10,240 together",
        "aws-role-and-function-quotas",
        [
            rec("aws:iam/role:Role", {"name": "reader"}, name="reader"),
            rec(
                ROLE_POLICY,
                {"policy": read_policy(60), "role": "reader"},
                name="a",
                parent="urn:pulumi:t::p::aws:iam/role:Role::reader",
            ),
            rec(
                ROLE_POLICY,
                {"policy": read_policy(60), "role": "reader"},
                name="b",
                parent="urn:pulumi:t::p::aws:iam/role:Role::reader",
            ),
        ],
        1,
    ),
    (
        "eleven managed policies on one role",
        "aws-role-and-function-quotas",
        [
            rec(
                "aws:iam/role:Role",
                {
                    "name": "r",
                    "managedPolicyArns": [f"arn:aws:iam::{ACCOUNT}:policy/p{i}" for i in range(11)],
                },
            )
        ],
        1,
    ),
    (
        "sixty per-secret invoke permissions",
        "aws-role-and-function-quotas",
        [permission(i) for i in range(60)],
        1,
    ),
    (
        "twenty per-secret invoke permissions",
        "aws-role-and-function-quotas",
        [permission(i) for i in range(20)],
        0,
    ),
]


@pytest.mark.parametrize(
    ("case", "policy", "records", "expected"), QUOTA_CASES, ids=[c[0] for c in QUOTA_CASES]
)
def test_quota_case(case: str, policy: str, records: list[ResourceRecord], expected: int) -> None:
    found = [
        v for v in run(records, policies=quota_policies.POLICIES).violations if v.policy == policy
    ]
    assert (len(found) > 0) == (expected > 0), [v.message for v in found]


def test_fitting_merges_then_names_service_directories() -> None:
    arns = [arn(f"svc{i // 10}", f"key-{i}") for i in range(200)]
    groups = q.service_groups(arns, secret_prefix={a: q.directory(a) for a in arns})
    statements = [
        {
            "Sid": "Read",
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue"],
            "Resource": arns,
        },
        {
            "Sid": "Describe",
            "Effect": "Allow",
            "Action": ["secretsmanager:DescribeSecret"],
            "Resource": arns,
        },
    ]
    doc = {"Version": "2012-10-17", "Statement": statements}
    fitted = q.fit(doc, limit=q.ROLE_INLINE_POLICIES, groups=groups, what="test")
    (st,) = fitted["Statement"]
    assert st["Action"] == ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"]
    assert st["Resource"] == sorted(groups) and len(st["Resource"]) == 20
    assert q.size(fitted) <= q.ROLE_INLINE_POLICIES
    # A directory only some of whose secrets are granted keeps its exact ARNs.
    partial = [a for a in arns if not a.endswith("key-0-AbCdEf")]
    again = q.fit(
        {**doc, "Statement": [{**statements[0], "Resource": partial}]},
        limit=4000,
        groups=groups,
        what="t",
    )
    assert arn("svc0", "key-1") in again["Statement"][0]["Resource"]
    # What fits is left exactly as written.
    small = {"Version": "2012-10-17", "Statement": [statements[0] | {"Resource": arns[:3]}]}
    assert q.fit(small, limit=q.ROLE_INLINE_POLICIES, groups=groups, what="t") == small
    with pytest.raises(q.QuotaError, match="over AWS's 500"):
        q.fit(doc, limit=500, groups=groups, what="test")


def test_a_catalog_ten_times_larger_plans_inside_every_quota(tmp_path: Path) -> None:
    """500 stored secrets (the project's catalog plus 50 services of 10 keys): every role policy,
    the rotation role and the function's permissions fit AWS's quotas, and the pack agrees."""
    data = yaml.safe_load(CATALOG_PATH.read_text())
    stored = sum(
        1 for e in data["entries"] if e.get("sensitive") and e["source"] != "workload-identity"
    )
    extra = 500 - stored
    for i in range(extra):
        service = f"venue{i // 10:02d}"
        data["entries"].append(
            {
                "name": f"VENUE{i // 10:02d}_KEY_{i % 10}",
                "description": "A trading venue's API key (scale test)",
                "category": "exchange",
                "service": service,
                "sensitive": True,
                "source": "third-party",
                "rotation": "api_key",
                "strategy": "third-party-manual",
                "environments": ["development", "production"],
                "scopes": ["test", "paper", "live"],
            }
        )
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(yaml.safe_dump(data))
    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    stack = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())
    stack["config"]["neural-trader-secrets:backends"] = ["aws"]
    stack["config"]["neural-trader-secrets:placement"] = {"home": "aws"}
    for other in ("vault", "gcp", "azure", "kubernetes"):
        del stack["config"][f"neural-trader-secrets:{other}"]
    (project / "Pulumi.prod.yaml").write_text(yaml.safe_dump(stack))
    _config, capture = plan_stack("prod", project, catalog_path=catalog)
    secrets = [r for r in capture.resources if r.type == "aws:secretsmanager/secret:Secret"]
    assert len(secrets) >= 500
    sizes = {
        r.name: q.size(r.raw_inputs["policy"]) for r in capture.resources if r.type == ROLE_POLICY
    }
    assert sizes and max(sizes.values()) <= q.ROLE_INLINE_POLICIES, sizes
    permissions = [r for r in capture.resources if r.type == "aws:lambda/permission:Permission"]
    assert len(permissions) < 100  # one per service directory, not one per secret
    violations = run(records(capture), policies=quota_policies.POLICIES).violations
    assert violations == [], [v.message for v in violations]
