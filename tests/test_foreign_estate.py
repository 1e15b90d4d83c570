"""A foreign estate of compliant look-alikes across the five stores: ``check --state`` trusts it.

``tests/fixtures/foreign/compliant-estate.json`` is a ``pulumi stack export`` of another team's
project (not this one: the project profile is off) written the way such estates are: names that
*say* secret or password but hold references (a Secrets Manager ARN in a Lambda variable, an
ECS ``secrets`` entry, a Cloud Run ``secretKeyRef``, an App Service Key Vault reference, a Helm
chart's ``existingSecret``, a Kubernetes env entry naming a Secret), grants narrowed by their
conditions (a resource tag, ``kms:ViaService``, a GCP condition on the secret name), a GitHub OIDC
trust pinned to one repository and branch, ``resourceNames`` in RBAC, a Vault policy with the
token self-service paths every token needs. Nothing in it is a finding; each twin below changes
one thing into the problem it resembles, and exactly that is reported.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.plans import run_cli

FOREIGN = Path(__file__).resolve().parent / "fixtures" / "foreign"
ESTATE = FOREIGN / "compliant-estate.json"
#: The second estate: Pulumi secret envelopes standing for whole maps (a Lambda's environment, a
#: Kubernetes Secret's data, a Vault secret's JSON), deprecated and split S3 forms (pulumi-aws 6's
#: ``Bucket`` blocks, ``BucketV2`` with its V2 configuration resources), rotation by schedule
#: expression, ABAC on principal tags, secret-id prefixes and time windows, an org-restricted
#: secret policy, a KMS key policy for CloudWatch Logs, GCP conditions on tags and time, a
#: Cloud Functions v2 secret environment variable, an Azure role on one secret, App Service
#: settings with Key Vault references, a CronJob reading its Secret as files, a Vault policy
#: with the lease and wrapping endpoints every token uses.
ESTATE_2 = FOREIGN / "compliant-estate-2.json"
#: The third: a Key Vault on access policies with IP rules and an audit diagnostic setting by
#: category group, an HSM key with a rotation policy, a federated credential for one Kubernetes
#: service account, Vault with a file audit device, a GitHub JWT role bound by claims and
#: audience, a policy with a deny carve-out, database dynamic credentials, a token role, and
#: External Secrets reading Vault through a projected, audience-bound service account token.
ESTATE_3 = FOREIGN / "compliant-estate-3.json"
#: The fourth, AWS around the stores: a key policy with grants only for AWS resources, use only
#: through Secrets Manager and CloudTrail's SourceArn-bound statement; a CloudTrail bucket policy
#: with the documented statements, a TLS-only deny and a VPC-endpoint-bound read; an organisation
#: trail with advanced event selectors; an SNS topic for EventBridge rules; Lambda permissions
#: bound to an account or a rule; a secret replicated under another region's key; rotation on a
#: cron schedule with a window; a SecureString under an alias; EKS with private endpoint, Secrets
#: encryption and audit logs; IRSA for one service account; a third-party auditor with an
#: external id and SecurityAudit.
ESTATE_4 = FOREIGN / "compliant-estate-4.json"


def _by_name(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(r for r in doc["deployment"]["resources"] if r["urn"].endswith(f"::{name}"))


def _set(name: str, path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        r = _by_name(doc, name)
        for part in ("inputs", "outputs"):
            target = r[part]
            *head, last = path.split(".")
            for key in head:
                target = target[int(key)] if isinstance(target, list) else target[key]
            if isinstance(target, list):
                target[int(last)] = value
            else:
                target[last] = value

    return change


def _policy(name: str, text: str) -> Callable[[dict[str, Any]], None]:
    return _set(name, "policy", text)


_OPEN_READ = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["secretsmanager:GetSecretValue"],
                "Resource": "*",
                "Condition": {"StringLike": {"aws:ResourceTag/app": "*"}},  # constrains nothing
            }
        ],
    }
)
_WIDE_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {
                    "Federated": "arn:aws:iam::111122223333:oidc-provider/"
                    "token.actions.githubusercontent.com"
                },
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringLike": {"token.actions.githubusercontent.com:sub": "repo:acme/*"}
                },
            }
        ],
    }
)
FAKE_DB_PASSWORD = "FAKE-look-alike-Passw0rd-not-real"  # pragma: allowlist secret

TWINS: list[tuple[str, Callable[[dict[str, Any]], object], str]] = [
    ("secret without its CMK", _set("db", "kmsKeyId", None), "aws-secretsmanager-cmk-encryption"),
    (
        "condition that constrains nothing",
        _policy("apiread", _OPEN_READ),
        "aws-iam-no-resource-star",
    ),
    (
        "OIDC trust of a whole organisation",
        _set("gha", "assumeRolePolicy", _WIDE_TRUST),
        "aws-iam-no-public-principal",
    ),
    (
        "a password as a Lambda variable",
        _set("api", "environment.variables.DB_PASSWORD", FAKE_DB_PASSWORD),
        "aws-lambda-env-references-only",
    ),
    (
        "RBAC on every Secret",
        _set("reader", "rules.0.resourceNames", None),
        "kubernetes-rbac-effective-secret-access",
    ),
    (
        "vault without purge protection",
        _set("kv", "properties.enablePurgeProtection", False),
        "azure-keyvault-recoverable",
    ),
]


def _check(tmp: Path, doc: dict[str, Any]) -> tuple[int, list[str]]:
    path = tmp / "state.json"
    path.write_text(json.dumps(doc))
    done = run_cli("check", "--state", str(path), "--format", "json", cwd=tmp)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, sorted({v["policy"] for v in json.loads(done.stdout)["violations"]})


@pytest.mark.parametrize("estate", [ESTATE, ESTATE_2, ESTATE_3, ESTATE_4], ids=lambda p: p.stem)
def test_the_compliant_estate_draws_no_finding(tmp_path: Path, estate: Path) -> None:
    code, found = _check(tmp_path, json.loads(estate.read_text()))
    assert (code, found) == (0, [])


_UNTAGGED = 'resource.name.startsWith("projects/p/secrets/") || resource.matchTag("1/env", "x")'
TWINS_2: list[tuple[str, Callable[[dict[str, Any]], object], str]] = [
    (
        "tag condition widened to every secret",
        _set("pm", "condition.expression", _UNTAGGED),
        "gcp-iam-no-secret-access-above-secret",
    ),
    (
        "ABAC on a tag any value matches",
        _policy(
            "abac",
            json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "secretsmanager:GetSecretValue",
                            "Resource": "*",
                            "Condition": {
                                "StringLikeIfExists": {"secretsmanager:ResourceTag/team": "x"}
                            },
                        }
                    ],
                }
            ),
        ),
        "aws-iam-no-resource-star",
    ),
    (
        "unencrypted split bucket configuration",
        _set("b2sse", "rules.0.applyServerSideEncryptionByDefault.sseAlgorithm", "AES256"),
        "aws-s3-kms-encryption",
    ),
    (
        "a Secret read as an environment variable",
        _set(
            "cj",
            "spec.jobTemplate.spec.template.spec.containers.0.env.0",
            {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "db", "key": "token"}}},
        ),
        "kubernetes-secrets-as-files",
    ),
    (
        "a plaintext App Service setting",
        _set("was", "properties.DB_PASSWORD", FAKE_DB_PASSWORD),
        "state-plaintext-secret",
    ),
]
TWINS_3: list[tuple[str, Callable[[dict[str, Any]], object], str]] = [
    (
        "the vault's audit log turned off",
        _set("kvdiag", "logs", [{"categoryGroup": "audit", "enabled": False}]),
        "azure-keyvault-audit-not-disabled",
    ),
    (
        "a JWT role bound to nothing",
        lambda d: [_set("jwtr", "boundAudiences", None)(d), _set("jwtr", "boundClaims", None)(d)],
        "vault-auth-jwt-role-bound",
    ),
    (
        "an access policy with every secret permission",
        _set("kv2", "properties.accessPolicies.0.permissions", {"secrets": ["all"]}),
        "azure-keyvault-access-policy-permissions",
    ),
    (
        "a vault open to every network",
        _set("kv2", "properties.networkAcls", {"defaultAction": "Allow"}),
        "azure-keyvault-network-acls",
    ),
    (
        "a key that never rotates",
        _set("kvkey", "properties.rotationPolicy", None),
        "azure-keyvault-key-rotation",
    ),
    (
        "a federated credential for every service account of a namespace",
        _set("fic", "subject", "system:serviceaccount:shop:*"),
        "azure-federated-credential-exact-subject",
    ),
    (
        "sudo on sys/*",
        _set("deploy", "policy", 'path "sys/*" {\n capabilities = ["sudo", "update"]\n}\n'),
        "vault-policy-no-privilege-escalation",
    ),
    (
        "the default service account mounting its token",
        _set("defsa", "automountServiceAccountToken", True),
        "kubernetes-default-service-account",
    ),
    (
        "a viewer aggregated onto every Secret",
        _set(
            "agg",
            "rules.0",
            {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]},
        ),
        "kubernetes-rbac-secrets-by-name",
    ),
]


def _statement(name: str, field: str, index: int, change: Callable[[dict[str, Any]], Any]) -> Any:
    """A twin that changes statement ``index`` of the JSON policy in ``field`` of ``name``."""

    def edit(doc: dict[str, Any]) -> None:
        r = _by_name(doc, name)
        for part in ("inputs", "outputs"):
            policy = json.loads(r[part][field])
            change(policy["Statement"][index])
            r[part][field] = json.dumps(policy)

    return edit


_EKS_SUB = "oidc.eks.eu-west-1.amazonaws.com/id/ABC:sub"
TWINS_4: list[tuple[str, Callable[[dict[str, Any]], object], str]] = [
    (
        "a bucket read open to anyone",
        _statement("bp", "policy", 3, lambda st: st.pop("Condition")),
        "aws-iam-no-public-principal",
    ),
    ("a trail without its key", _set("t", "kmsKeyId", None), "aws-cloudtrail-secure-trail"),
    (
        "key use by anyone, from anywhere",
        _statement("k", "policy", 2, lambda st: st.update(Principal={"AWS": "*"}, Condition={})),
        "aws-iam-no-public-principal",
    ),
    (
        "EKS Secrets in plain etcd",
        _set("eks", "encryptionConfig", None),
        "aws-eks-secrets-encryption",
    ),
    (
        "a Lambda permission for any account's secret",
        _set("lp", "sourceAccount", None),
        "aws-lambda-permission-scoped",
    ),
    (
        "a topic anyone may publish to",
        _statement("tp", "policy", 0, lambda st: st.update(Principal="*", Condition={})),
        "aws-iam-no-public-principal",
    ),
    (
        "IRSA for every service account of a namespace",
        _statement(
            "app",
            "assumeRolePolicy",
            0,
            lambda st: st["Condition"].update(
                StringEquals={"oidc.eks.eu-west-1.amazonaws.com/id/ABC:aud": "sts.amazonaws.com"},
                StringLike={_EKS_SUB: "system:serviceaccount:shop:*"},
            ),
        ),
        "aws-iam-no-public-principal",
    ),
    (
        "a password as a String parameter",
        lambda d: [
            _set("pu", "name", "/shop/db/password")(d),
            _set("pu", "value", FAKE_DB_PASSWORD)(d),
        ],
        "aws-ssm-no-plaintext-credential",
    ),
    (
        "a log group kept forever, unencrypted",
        _set("lg", "retentionInDays", None),
        "aws-cloudwatch-log-group-retention-kms",
    ),
]
ALL_TWINS = (
    [(ESTATE, *t) for t in TWINS]
    + [(ESTATE_2, *t) for t in TWINS_2]
    + [(ESTATE_3, *t) for t in TWINS_3]
    + [(ESTATE_4, *t) for t in TWINS_4]
)


@pytest.mark.parametrize(
    ("estate", "name", "change", "policy"), ALL_TWINS, ids=[t[1] for t in ALL_TWINS]
)
def test_each_twin_is_reported_for_its_problem(
    tmp_path: Path, estate: Path, name: str, change: Callable[[dict[str, Any]], object], policy: str
) -> None:
    doc = copy.deepcopy(json.loads(estate.read_text()))
    change(doc)
    code, found = _check(tmp_path, doc)
    assert code == 1 and policy in found, found
