"""Issue 9 rule 4: in a stack's state, what ``pulumi refresh`` recorded in a resource's outputs
is judged as well as its inputs: IAM documents, public-access settings and secret values, each
finding saying which side it came from (``outputs: `` / an ``outputs.`` path)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from nt_secrets.cli import main
from nt_secrets.state import parse_state
from policies.framework import OUTPUTS_MARK
from policies.model import ResourceRecord
from policies.pack import ALL
from policies.runner import outputs_view, run
from tests.policies.records import rec

ACCT = "123456789012"
ROLE = "aws:iam/role:Role"
PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
SIG = "4dabf18193072939515e22adb298388d"  # pragma: allowlist secret
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"  # pragma: allowlist secret
FAKE_KEY_ID = "AKIAIOSFODNN7EXAMPLE"  # pragma: allowlist secret


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


OWN_TRUST = doc(
    {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCT}:root"},
        "Action": "sts:AssumeRole",
    }
)
PUBLIC_TRUST = doc({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"})
READ = doc(
    {
        "Effect": "Allow",
        "Action": "secretsmanager:GetSecretValue",
        "Resource": f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:nt/*",
    }
)
WRITE = doc(
    {
        "Effect": "Allow",
        "Action": "secretsmanager:PutSecretValue",
        "Resource": f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:nt/*",
    }
)
BLOCK = {
    k: True
    for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
}


def state_rec(
    type_: str, inputs: dict[str, Any], outputs: dict[str, Any], name: str = "r"
) -> ResourceRecord:
    return rec(type_, inputs, name=name, outputs=outputs)


def judged(records: list[ResourceRecord], policy: str) -> list[str]:
    selected = [p for p in ALL if p.spec.id == policy]
    return [v.message for v in run(records, policies=selected).violations]


# (id, records, policy, expected messages' prefixes: "in" for an inputs finding, "out" for outputs)
CASES: list[tuple[str, list[ResourceRecord], str, list[str]]] = [
    (
        "trust-drifted-public",
        [
            state_rec(
                ROLE,
                {"name": "svc", "assumeRolePolicy": OWN_TRUST},
                {"name": "svc", "assumeRolePolicy": PUBLIC_TRUST},
            )
        ],
        "aws-iam-no-public-principal",
        ["out"],
    ),
    (
        "trust-public-both-sides-reported-once",
        [
            state_rec(
                ROLE,
                {"name": "svc", "assumeRolePolicy": PUBLIC_TRUST},
                {"name": "svc", "assumeRolePolicy": PUBLIC_TRUST},
            )
        ],
        "aws-iam-no-public-principal",
        ["in"],
    ),
    (
        "trust-fixed-outside-program",
        [
            state_rec(
                ROLE,
                {"name": "svc", "assumeRolePolicy": PUBLIC_TRUST},
                {"name": "svc", "assumeRolePolicy": OWN_TRUST},
            )
        ],
        "aws-iam-no-public-principal",
        ["in"],
    ),
    (
        "clean-both-sides",
        [
            state_rec(
                ROLE,
                {"name": "svc", "assumeRolePolicy": OWN_TRUST},
                {"name": "svc", "assumeRolePolicy": OWN_TRUST},
            )
        ],
        "aws-iam-no-public-principal",
        [],
    ),
    (
        "inline-policy-drifted-wildcard",
        [
            state_rec(
                ROLE,
                {"name": "svc", "inlinePolicies": [{"name": "p", "policy": READ}]},
                {
                    "name": "svc",
                    "inlinePolicies": [
                        {
                            "name": "p",
                            "policy": doc({"Effect": "Allow", "Action": "*", "Resource": "*"}),
                        }
                    ],
                },
            )
        ],
        "aws-iam-no-wildcard-actions",
        ["out"],
    ),
    (
        "public-access-block-drifted",
        [
            state_rec(
                PAB, {"bucket": "b", **BLOCK}, {"bucket": "b", **BLOCK, "blockPublicAcls": False}
            )
        ],
        "aws-s3-public-access-block",
        ["out"],
    ),
    (
        "read-only-role-drifted-write",
        [
            state_rec(
                ROLE,
                {"name": "nt-prod-backtest", "inlinePolicies": [{"name": "p", "policy": READ}]},
                {"name": "nt-prod-backtest", "inlinePolicies": [{"name": "p", "policy": WRITE}]},
            )
        ],
        "aws-iam-read-only-roles",
        ["out"],
    ),
    (
        "read-only-role-attachment-in-outputs-only",  # attached by hand, recorded by refresh
        [
            state_rec(
                ROLE,
                {"name": "nt-prod-backtest"},
                {
                    "name": "nt-prod-backtest",
                    "managedPolicyArns": ["arn:aws:iam::aws:policy/AmazonS3FullAccess"],
                },
            )
        ],
        "aws-iam-read-only-roles",
        ["out"],
    ),
    (
        "kms-rotation-judges-inputs-only",  # a policy that does not opt in keeps its behaviour
        [state_rec("aws:kms/key:Key", {"enableKeyRotation": True}, {"enableKeyRotation": False})],
        "aws-kms-key-rotation",
        [],
    ),
]


@pytest.mark.parametrize(
    ("records", "policy", "sides"), [pytest.param(r, p, s, id=i) for i, r, p, s in CASES]
)
def test_outputs_are_judged_and_say_so(
    records: list[ResourceRecord], policy: str, sides: list[str]
) -> None:
    messages = judged(records, policy)
    got = sorted("out" if m.startswith(OUTPUTS_MARK) else "in" for m in messages)
    assert got == sorted(sides), messages


def test_plan_records_have_no_outputs_pass() -> None:
    record = rec(ROLE, {"name": "svc", "assumeRolePolicy": PUBLIC_TRUST})
    assert outputs_view(record) is None
    assert judged([record], "aws-iam-no-public-principal") and not any(
        m.startswith(OUTPUTS_MARK) for m in judged([record], "aws-iam-no-public-principal")
    )


def test_outputs_view_keeps_output_secret_paths() -> None:
    record = rec(
        ROLE,
        {"name": "svc"},
        outputs={"name": "svc", "tags": {"a": "[ciphertext]"}},
        secret_paths=("description", "outputs.tags.a", 'outputs["odd.key"]'),
    )
    view = outputs_view(record)
    assert view is not None
    assert view.props == {"name": "svc", "tags": {"a": "[ciphertext]"}}
    assert view.secret_paths == ("tags.a", '["odd.key"]')
    assert view.urn == record.urn and view.type == record.type


def test_outputs_pass_is_offline_only_metadata() -> None:
    """Which policies judge outputs: those that opt in, and every public-access policy."""
    judging = {p.spec.id for p in ALL if p.spec.judges_outputs}
    assert {
        "aws-iam-no-public-principal",
        "aws-iam-no-wildcard-actions",
        "aws-iam-read-only-roles",
        "aws-iam-cross-account-trust",
        "aws-kms-key-policy-no-foreign-admin",
        "aws-s3-public-access-block",
    } <= judging
    assert "aws-kms-key-rotation" not in judging


def _export() -> dict[str, Any]:
    def res(
        type_: str, name: str, inputs: dict[str, Any], outputs: dict[str, Any]
    ) -> dict[str, Any]:
        return {
            "urn": f"urn:pulumi:prod::neural-trader-secrets::{type_}::{name}",
            "type": type_,
            "custom": True,
            "inputs": inputs,
            "outputs": outputs,
        }

    return {
        "version": 3,
        "deployment": {
            "manifest": {"time": "2026-11-30T00:00:00Z", "magic": "x", "version": "v3.200.0"},
            "resources": [
                res(
                    ROLE,
                    "backtest",
                    {"name": "nt-prod-backtest", "assumeRolePolicy": OWN_TRUST},
                    {
                        "name": "nt-prod-backtest",
                        "arn": f"arn:aws:iam::{ACCT}:role/nt-prod-backtest",
                        "assumeRolePolicy": PUBLIC_TRUST,
                        "inlinePolicies": [{"name": "p", "policy": WRITE}],
                    },
                ),
                res(
                    "aws:iam/accessKey:AccessKey",
                    "ci",
                    {"user": "ci"},
                    {
                        "user": "ci",
                        "id": FAKE_KEY_ID,
                        "secret": {SIG: SECRET_SIG, "ciphertext": "v1:AAAA"},
                    },
                ),
            ],
        },
    }


def test_state_outputs_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = parse_state(_export())
    plaintext = [v.message for v in state.plaintext_findings()]
    assert plaintext and all(m.startswith("outputs.") for m in plaintext), plaintext
    path = tmp_path / "export.json"
    path.write_text(json.dumps(_export()), encoding="utf-8")
    assert main(["check", "--state", str(path), "--format", "json"]) == 1
    out = capsys.readouterr().out
    report = json.loads(out)
    items = report if isinstance(report, list) else report.get("violations", [])
    by_policy = {(v["policy"], v["message"].startswith(OUTPUTS_MARK)) for v in items}
    assert ("aws-iam-no-public-principal", True) in by_policy
    assert ("aws-iam-read-only-roles", True) in by_policy
    assert FAKE_KEY_ID not in out
