"""Issue 9 rules 1-2: a read-only principal's permissions are everything attached to it, judged
by what the documents grant (partial wildcards expanded, Deny and permissions boundaries
narrowing), whichever path attaches them; AWS-managed policies are judged by their documents."""

from __future__ import annotations

import json
from typing import Any

import pytest

from policies.data import aws_managed_policy, aws_managed_policy_count
from policies.lib.iam import analyze, read_only_findings
from policies.model import UNKNOWN, ResourceRecord
from policies.pack import ALL
from policies.runner import PolicyConfigError, resolve_config, run
from tests.policies.records import rec

ACCT = "123456789012"
READ_ONLY = "aws-iam-read-only-roles"
MANAGED = "aws-iam-no-broad-managed-policies"
ROLE = "aws:iam/role:Role"
USER = "aws:iam/user:User"
GROUP = "aws:iam/group:Group"
POLICY = "aws:iam/policy:Policy"
PSET = "aws:ssoadmin/permissionSet:PermissionSet"
SECRET = f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:neural-trader/paper/alpaca-key-AbCdEf"
BUCKET = "arn:aws:s3:::neural-trader-backtests/*"
PSET_ARN = "arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-1234567890abcdef"
MANAGED_ARN = "arn:aws:iam::aws:policy/"


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: Any, resource: Any = SECRET, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


READ = doc(allow(["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]))
WRITE = doc(allow(["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"]))


def urn(type_: str, name: str) -> str:
    return f"urn:pulumi:t::neural-trader-secrets::{type_}::{name}"


def role(name: str, logical: str = "role", **props: Any) -> ResourceRecord:
    return rec(ROLE, {"name": name, **props}, name=logical)


def attachment(policy_arn: str, role_name: str = "nt-prod-backtest", **kw: Any) -> ResourceRecord:
    return rec(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        {"role": role_name, "policyArn": policy_arn},
        name="att",
        **kw,
    )


def customer_policy(document: str, name: str = "writer", **kw: Any) -> ResourceRecord:
    return rec(POLICY, {"name": name, "path": "/nt/", "policy": document}, name=name, **kw)


CUSTOMER_ARN = f"arn:aws:iam::{ACCT}:policy/nt/writer"
BACKTEST = role("nt-prod-backtest")

# (id, records, violations expected?, substring every violation message contains)
CASES: list[tuple[str, list[ResourceRecord], bool, str]] = [
    # --- names and tags: which principals are read-only
    (
        "ro-name-suffix-inline-write",
        [role("nt-prod-backtest", inlinePolicies=[{"name": "p", "policy": WRITE}])],
        True,
        "PutSecretValue",
    ),
    (
        "ro-name-middle",
        [role("team-paper-trading-svc", inlinePolicies=[{"name": "p", "policy": WRITE}])],
        True,
        "role team-paper-trading-svc",
    ),
    (
        "ro-name-case-insensitive",
        [role("NT-Auditor-Access", inlinePolicies=[{"name": "p", "policy": WRITE}])],
        True,
        "PutSecretValue",
    ),
    (
        "ro-program-role-tag",
        [role("x", tags={"role": "auditor"}, inlinePolicies=[{"name": "p", "policy": WRITE}])],
        True,
        "PutSecretValue",
    ),
    (
        "ro-access-tag",
        [role("x", tags={"access": "read-only"}, inlinePolicies=[{"name": "p", "policy": WRITE}])],
        True,
        "PutSecretValue",
    ),
    (
        "not-ro-live-trading-writes",
        [
            role(
                "nt-prod-live-trading",
                tags={"role": "live-trading"},
                inlinePolicies=[{"name": "p", "policy": WRITE}],
            )
        ],
        False,
        "",
    ),
    (
        "ro-reads-only",
        [role("nt-prod-backtest", inlinePolicies=[{"name": "p", "policy": READ}])],
        False,
        "",
    ),
    # --- every attachment path
    (
        "role-policy-by-name",
        [
            BACKTEST,
            rec(
                "aws:iam/rolePolicy:RolePolicy",
                {"role": "nt-prod-backtest", "policy": WRITE},
                name="rp",
            ),
        ],
        True,
        "inline policy rp",
    ),
    (
        "role-policy-by-dependency",
        [
            BACKTEST,
            rec(
                "aws:iam/rolePolicy:RolePolicy",
                {"role": UNKNOWN, "policy": WRITE},
                name="rp",
                property_dependencies={"role": (urn(ROLE, "role"),)},
            ),
        ],
        True,
        "PutSecretValue",
    ),
    (
        "role-policy-of-another-role",
        [
            BACKTEST,
            role("nt-prod-admin", "admin"),
            rec(
                "aws:iam/rolePolicy:RolePolicy",
                {"role": "nt-prod-admin", "policy": WRITE},
                name="rp",
            ),
        ],
        False,
        "",
    ),
    (
        "aws-managed-broad",
        [BACKTEST, attachment(MANAGED_ARN + "AmazonS3FullAccess")],
        True,
        "AmazonS3FullAccess",
    ),
    (
        "aws-managed-read-only",
        [BACKTEST, attachment(MANAGED_ARN + "AWSCloudTrail_ReadOnlyAccess")],
        False,
        "",
    ),
    (
        "aws-managed-read-only-by-name-is-not",  # ReadOnlyAccess grants Write-level Get* actions
        [BACKTEST, attachment(MANAGED_ARN + "ReadOnlyAccess")],
        True,
        "ReadOnlyAccess",
    ),
    (
        "aws-managed-unknown",
        [BACKTEST, attachment(MANAGED_ARN + "NoSuchPolicyInDataset")],
        True,
        "not in the AWS managed policy dataset",
    ),
    (
        "aws-managed-wrong-path",
        [BACKTEST, attachment(MANAGED_ARN + "AWSLambdaBasicExecutionRole")],
        True,
        "not in the AWS managed policy dataset",
    ),
    (
        "customer-managed-by-arn-name",
        [BACKTEST, customer_policy(WRITE), attachment(CUSTOMER_ARN)],
        True,
        "customer-managed policy writer",
    ),
    (
        "customer-managed-by-output-arn",
        [
            BACKTEST,
            customer_policy(
                WRITE, name="w1", outputs={"arn": "arn:aws:iam::123456789012:policy/w1-abc"}
            ),
            attachment("arn:aws:iam::123456789012:policy/w1-abc"),
        ],
        True,
        "PutSecretValue",
    ),
    (
        "customer-managed-by-dependency",
        [
            BACKTEST,
            customer_policy(WRITE, name="w2"),
            attachment(UNKNOWN, property_dependencies={"policyArn": (urn(POLICY, "w2"),)}),
        ],
        True,
        "customer-managed policy w2",
    ),
    (
        "customer-managed-read",
        [BACKTEST, customer_policy(READ), attachment(CUSTOMER_ARN)],
        False,
        "",
    ),
    (
        "customer-managed-outside-stack",
        [BACKTEST, attachment(f"arn:aws:iam::{ACCT}:policy/elsewhere")],
        True,
        "not defined in this stack",
    ),
    ("customer-managed-unknown-at-preview", [BACKTEST, attachment(UNKNOWN)], False, ""),
    (
        "managed-policy-arns",
        [role("nt-prod-backtest", managedPolicyArns=[CUSTOMER_ARN]), customer_policy(WRITE)],
        True,
        "managedPolicyArns[0]",
    ),
    (
        "policy-attachment-roles",
        [
            BACKTEST,
            customer_policy(WRITE),
            rec(
                "aws:iam/policyAttachment:PolicyAttachment",
                {"name": "a", "roles": ["nt-prod-backtest"], "policyArn": CUSTOMER_ARN},
                name="pa",
            ),
        ],
        True,
        "attachment pa",
    ),
    (
        "attachments-exclusive",
        [
            BACKTEST,
            rec(
                "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
                {"roleName": "nt-prod-backtest", "policyArns": [MANAGED_ARN + "IAMFullAccess"]},
                name="ex",
            ),
        ],
        True,
        "IAMFullAccess",
    ),
    # --- users and groups
    (
        "user-attachment",
        [
            rec(USER, {"name": "auditor-bot"}, name="u"),
            rec(
                "aws:iam/userPolicyAttachment:UserPolicyAttachment",
                {"user": "auditor-bot", "policyArn": MANAGED_ARN + "AmazonS3FullAccess"},
                name="ua",
            ),
        ],
        True,
        "user auditor-bot",
    ),
    (
        "group-policy",
        [
            rec(GROUP, {"name": "readonly-team"}, name="g"),
            rec(
                "aws:iam/groupPolicy:GroupPolicy",
                {"group": "readonly-team", "policy": WRITE},
                name="gp",
            ),
        ],
        True,
        "group readonly-team",
    ),
    (
        "user-through-group-membership",
        [
            rec(USER, {"name": "paper-bot"}, name="u"),
            rec(GROUP, {"name": "ops"}, name="g"),
            rec("aws:iam/groupPolicy:GroupPolicy", {"group": "ops", "policy": WRITE}, name="gp"),
            rec(
                "aws:iam/groupMembership:GroupMembership",
                {"group": "ops", "users": ["paper-bot"]},
                name="gm",
            ),
        ],
        True,
        "user paper-bot: group ops",
    ),
    (
        "user-through-user-group-membership",
        [
            rec(USER, {"name": "paper-bot"}, name="u"),
            rec(GROUP, {"name": "ops"}, name="g"),
            rec("aws:iam/groupPolicy:GroupPolicy", {"group": "ops", "policy": WRITE}, name="gp"),
            rec(
                "aws:iam/userGroupMembership:UserGroupMembership",
                {"user": "paper-bot", "groups": ["ops"]},
                name="ugm",
            ),
        ],
        True,
        "user paper-bot: group ops",
    ),
    (
        "writer-group-without-read-only-member",
        [
            rec(USER, {"name": "deployer"}, name="u"),
            rec(GROUP, {"name": "ops"}, name="g"),
            rec("aws:iam/groupPolicy:GroupPolicy", {"group": "ops", "policy": WRITE}, name="gp"),
            rec(
                "aws:iam/groupMembership:GroupMembership",
                {"group": "ops", "users": ["deployer"]},
                name="gm",
            ),
        ],
        False,
        "",
    ),
    # --- IAM Identity Center permission sets
    (
        "sso-managed-attachment",
        [
            rec(PSET, {"name": "NeuralTraderDeveloper"}, name="ps", outputs={"arn": PSET_ARN}),
            rec(
                "aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment",
                {"permissionSetArn": PSET_ARN, "managedPolicyArn": MANAGED_ARN + "PowerUserAccess"},
                name="mpa",
            ),
        ],
        True,
        "permission set NeuralTraderDeveloper",
    ),
    (
        "sso-inline-by-dependency",
        [
            rec(PSET, {"name": "NeuralTraderAuditor"}, name="ps"),
            rec(
                "aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy",
                {"permissionSetArn": UNKNOWN, "inlinePolicy": doc(allow("iam:PutRolePolicy", "*"))},
                name="inl",
                property_dependencies={"permissionSetArn": (urn(PSET, "ps"),)},
            ),
        ],
        True,
        "PutRolePolicy",
    ),
    (
        "sso-customer-managed-reference",
        [
            rec(PSET, {"name": "NeuralTraderDeveloper"}, name="ps", outputs={"arn": PSET_ARN}),
            customer_policy(WRITE),
            rec(
                "aws:ssoadmin/customerManagedPolicyAttachment:CustomerManagedPolicyAttachment",
                {
                    "permissionSetArn": PSET_ARN,
                    "customerManagedPolicyReference": {"name": "writer", "path": "/nt/"},
                },
                name="cmpa",
            ),
        ],
        True,
        "customer-managed policy writer",
    ),
    (
        "sso-customer-managed-reference-missing",
        [
            rec(PSET, {"name": "NeuralTraderDeveloper"}, name="ps", outputs={"arn": PSET_ARN}),
            rec(
                "aws:ssoadmin/customerManagedPolicyAttachment:CustomerManagedPolicyAttachment",
                {
                    "permissionSetArn": PSET_ARN,
                    "customerManagedPolicyReference": {"name": "nowhere"},
                },
                name="cmpa",
            ),
        ],
        True,
        "not defined in this stack",
    ),
    (
        "sso-boundary-narrows",
        [
            rec(PSET, {"name": "NeuralTraderAuditor"}, name="ps", outputs={"arn": PSET_ARN}),
            rec(
                "aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment",
                {
                    "permissionSetArn": PSET_ARN,
                    "managedPolicyArn": MANAGED_ARN + "AWSCloudTrail_FullAccess",
                },
                name="mpa",
            ),
            rec(
                "aws:ssoadmin/permissionsBoundaryAttachment:PermissionsBoundaryAttachment",
                {
                    "permissionSetArn": PSET_ARN,
                    "permissionsBoundary": {
                        "managedPolicyArn": MANAGED_ARN + "AWSCloudTrail_ReadOnlyAccess"
                    },
                },
                name="pb",
            ),
        ],
        False,
        "",
    ),
    # --- rule 2: partial wildcards by expansion, NotAction, Deny
    (
        "glob-kms-key",
        [
            role(
                "nt-backtest",
                inlinePolicies=[{"name": "p", "policy": doc(allow("kms:*Key*", "*"))}],
            )
        ],
        True,
        "kms:CreateKey",
    ),
    (
        "glob-iam-policy",
        [
            role(
                "nt-backtest",
                inlinePolicies=[{"name": "p", "policy": doc(allow("iam:*Policy*", "*"))}],
            )
        ],
        True,
        "iam:",
    ),
    (
        "glob-s3-put",
        [
            role(
                "nt-backtest",
                inlinePolicies=[{"name": "p", "policy": doc(allow("s3:Put*", BUCKET))}],
            )
        ],
        True,
        "s3:Put",
    ),
    (
        "glob-secret",
        [
            role(
                "nt-backtest",
                inlinePolicies=[{"name": "p", "policy": doc(allow("secretsmanager:*Secret*"))}],
            )
        ],
        True,
        "secretsmanager:DeleteSecret",
    ),
    (
        "glob-get-every-service",
        [role("nt-backtest", inlinePolicies=[{"name": "p", "policy": doc(allow("*:Get*", "*"))}])],
        True,
        "above the Read/List",
    ),
    (
        "glob-list-is-read",
        [
            role(
                "nt-backtest",
                inlinePolicies=[{"name": "p", "policy": doc(allow("s3:List*", BUCKET))}],
            )
        ],
        False,
        "",
    ),
    (
        "tagging",
        [
            role(
                "nt-backtest",
                inlinePolicies=[{"name": "p", "policy": doc(allow("secretsmanager:TagResource"))}],
            )
        ],
        True,
        "TagResource",
    ),
    (
        "not-action-allow",
        [
            role(
                "nt-backtest",
                inlinePolicies=[
                    {
                        "name": "p",
                        "policy": doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}),
                    }
                ],
            )
        ],
        True,
        "statement 0",
    ),
    (
        "deny-in-another-policy-narrows",
        [
            role(
                "nt-backtest", inlinePolicies=[{"name": "p", "policy": doc(allow("s3:*", BUCKET))}]
            ),
            rec(
                "aws:iam/rolePolicy:RolePolicy",
                {
                    "role": "nt-backtest",
                    "policy": doc(
                        {"Effect": "Deny", "NotAction": ["s3:Get*", "s3:List*"], "Resource": "*"}
                    ),
                },
                name="guard",
            ),
        ],
        False,
        "",
    ),
    (
        "conditional-deny-does-not-narrow",
        [
            role(
                "nt-backtest", inlinePolicies=[{"name": "p", "policy": doc(allow("s3:*", BUCKET))}]
            ),
            rec(
                "aws:iam/rolePolicy:RolePolicy",
                {
                    "role": "nt-backtest",
                    "policy": doc(
                        deny("s3:Put*", Condition={"Bool": {"aws:SecureTransport": "false"}})
                    ),
                },
                name="guard",
            ),
        ],
        True,
        "s3:AbortMultipartUpload",
    ),
    (
        "deny-on-other-resource-does-not-narrow",
        [
            role(
                "nt-backtest",
                inlinePolicies=[
                    {
                        "name": "p",
                        "policy": doc(
                            allow("s3:PutObject", BUCKET),
                            deny("s3:PutObject", "arn:aws:s3:::other/*"),
                        ),
                    }
                ],
            )
        ],
        True,
        "s3:PutObject",
    ),
    (
        "boundary-narrows",
        [
            role(
                "nt-backtest",
                permissionsBoundary=MANAGED_ARN + "AWSCloudTrail_ReadOnlyAccess",
                inlinePolicies=[{"name": "p", "policy": doc(allow("s3:PutObject", BUCKET))}],
            )
        ],
        False,
        "",
    ),
]


def _judge(records: list[ResourceRecord], policy: str = READ_ONLY) -> list[str]:
    selected = [p for p in ALL if p.spec.id == policy]
    return [v.message for v in run(records, policies=selected).violations]


@pytest.mark.parametrize(
    ("records", "violates", "text"), [pytest.param(r, v, t, id=i) for i, r, v, t in CASES]
)
def test_read_only_through_every_path(
    records: list[ResourceRecord], violates: bool, text: str
) -> None:
    messages = _judge(records)
    assert bool(messages) is violates, messages
    assert all(text in m for m in messages), messages
    for m in messages:
        assert "EXAMPLE" not in m and "FAKE" not in m


def test_case_ids_unique() -> None:
    assert len({c[0] for c in CASES}) == len(CASES)


def test_read_only_names_are_tunable() -> None:
    records = [role("nt-prod-quant", inlinePolicies=[{"name": "p", "policy": WRITE}])]
    selected = [p for p in ALL if p.spec.id == READ_ONLY]
    assert not run(records, policies=selected).violations
    config = {READ_ONLY: {"readOnlyRoleNames": ["*quant*"]}}
    assert run(records, policies=selected, config=config).violations


def test_violation_is_reported_on_the_granting_resource() -> None:
    records = [BACKTEST, customer_policy(WRITE), attachment(CUSTOMER_ARN)]
    selected = [p for p in ALL if p.spec.id == READ_ONLY]
    [v] = run(records, policies=selected).violations
    assert v.urn == urn("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "att")


def test_same_arn_attached_twice_is_judged_once() -> None:
    """A role's stored managedPolicyArns repeats what its attachments attached."""
    records = [
        role("nt-prod-backtest", managedPolicyArns=[MANAGED_ARN + "AmazonS3FullAccess"]),
        attachment(MANAGED_ARN + "AmazonS3FullAccess"),
    ]
    assert len(_judge(records)) == 1


# --- the library: documents judged together --------------------------------------------------


def test_read_only_findings_deny_across_documents() -> None:
    allow_all_s3 = doc(allow("s3:*", BUCKET))
    guard = doc(deny(["s3:Put*", "s3:Delete*", "s3:*Tagging*", "s3:*Policy*", "s3:*Acl*"]))
    alone = read_only_findings([("a", allow_all_s3)])
    together = read_only_findings([("a", allow_all_s3), ("guard", guard)])
    assert alone and all(label == "a" for label, _ in alone)
    left = {a for _, f in together for a in f.actions}
    assert not any(a.startswith(("s3:Put", "s3:Delete")) for a in left), left
    assert len(left) < len({a for _, f in alone for a in f.actions})


def test_analyze_read_only_uses_the_documents_own_denies() -> None:
    narrowed = doc(
        allow("s3:*", BUCKET),
        {"Effect": "Deny", "NotAction": ["s3:Get*", "s3:List*"], "Resource": "*"},
    )
    assert {f.rule for f in analyze(narrowed, kind="identity", read_only=True)} & {
        "read-only-violation"
    } == set()
    # A Deny never makes the broad Allow itself acceptable for the other rules
    assert "service-wide-action" in {f.rule for f in analyze(narrowed, kind="identity")}


def test_kms_decrypt_denied_is_not_reported() -> None:
    d = doc(allow("kms:Decrypt", "*"), deny("kms:Decrypt"))
    assert not [
        f
        for f in analyze(d, kind="identity", read_only=True)
        if f.rule == "kms-decrypt-unconstrained"
    ]


# --- AWS-managed policies judged by their documents ----------------------------------------------

MANAGED_CASES = [
    ("AdministratorAccess", True),  # name and document
    ("AWSCodeBuildAdminAccess", True),  # document only: codebuild:*
    ("AWSDataPipeline_PowerUser", True),  # privilege escalation
    ("service-role/AWSLambdaBasicExecutionRole", False),
    ("AWSCloudTrail_ReadOnlyAccess", False),
    (
        "ReadOnlyAccess",
        False,
    ),  # read-only by design: the read-only rule judges it for read-only roles
    ("NoSuchPolicyInDataset", False),  # unknown: nothing to judge here
]


@pytest.mark.parametrize(("name", "violates"), MANAGED_CASES)
def test_managed_policy_judged_by_document(name: str, violates: bool) -> None:
    messages = _judge([attachment(MANAGED_ARN + name, role_name="any")], MANAGED)
    assert bool(messages) is violates, messages
    if name == "AWSCodeBuildAdminAccess":
        assert messages == [
            f"attaches {MANAGED_ARN}{name}: its document grants service-wide-action"
        ]


@pytest.mark.parametrize(
    ("type_", "props"),
    [
        (
            "aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment",
            {
                "permissionSetArn": PSET_ARN,
                "managedPolicyArn": MANAGED_ARN + "AWSCodeBuildAdminAccess",
            },
        ),
        (
            "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive",
            {"userName": "u", "policyArns": [MANAGED_ARN + "AWSCodeBuildAdminAccess"]},
        ),
        (ROLE, {"name": "r", "managedPolicyArns": [MANAGED_ARN + "AWSCodeBuildAdminAccess"]}),
    ],
)
def test_managed_policy_every_attachment_type(type_: str, props: dict[str, Any]) -> None:
    assert _judge([rec(type_, props)], MANAGED)


def test_dataset_is_complete_enough() -> None:
    assert aws_managed_policy_count() > 1000
    admin = aws_managed_policy("arn:aws:iam::aws:policy/AdministratorAccess")
    assert admin is not None and admin["Statement"][0]["Action"] == "*"
    assert aws_managed_policy("arn:aws-us-gov:iam::aws:policy/AdministratorAccess") == admin
    assert aws_managed_policy("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
    assert aws_managed_policy("arn:aws:iam::aws:policy/AWSLambdaBasicExecutionRole") is None
    assert aws_managed_policy(f"arn:aws:iam::{ACCT}:policy/AdministratorAccess") is None


@pytest.mark.parametrize(
    ("name", "broad"),
    [
        ("AWSLambdaFullAccess", True),  # retired 2021, still attached in real states: lambda:*
        ("AmazonEC2ContainerServiceFullAccess", True),
        ("AWSLambdaReadOnlyAccess", False),  # retired too, but reads only
    ],
)
def test_a_retired_managed_policy_is_judged_by_its_last_document(name: str, broad: bool) -> None:
    """AWS no longer lists these policies but leaves them attached: their last published
    documents (policies/data/aws_retired_managed_policies.json.gz) decide, not their names."""
    assert aws_managed_policy(MANAGED_ARN + name) is not None
    attachment = rec(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        {"role": "r", "policyArn": MANAGED_ARN + name},
    )
    assert bool(_judge([attachment], MANAGED)) is broad


@pytest.mark.parametrize(
    ("policy", "entry", "key"),
    [
        (READ_ONLY, {"readOnlyRoleTags": {"role": "backtest"}}, "readOnlyRoleTags"),
        (READ_ONLY, {"readOnlyRoleNames": "backtest"}, "readOnlyRoleNames"),
        ("aws-iam-cross-account-trust", {"allowedAccounts": ["12345"]}, "allowedAccounts"),
        ("aws-kms-key-policy-no-foreign-admin", {"ownAccountIds": [123456789012]}, "ownAccountIds"),
    ],
)
def test_bad_tunables_name_the_key(policy: str, entry: dict[str, Any], key: str) -> None:
    with pytest.raises(PolicyConfigError, match=key) as exc:
        resolve_config({policy: entry})
    assert policy in str(exc.value)


def test_program_role_tags_are_extensible() -> None:
    records = [role("x", tags={"team": "quants"}, inlinePolicies=[{"name": "p", "policy": WRITE}])]
    selected = [p for p in ALL if p.spec.id == READ_ONLY]
    assert not run(records, policies=selected).violations
    config = {READ_ONLY: {"readOnlyRoleTags": {"team": ["quants"]}}}
    assert run(records, policies=selected, config=config).violations
