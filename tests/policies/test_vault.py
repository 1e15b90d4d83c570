"""HashiCorp Vault policies: the case table (run with every other policy's by ``test_pack.py``, and
through the engine by ``test_engine_equivalence.py``) and the rules behind it.

Each case reads as documentation: what a resource declares, which policy judges it, how many
violations. The tests below the table pin the reader (``policies.vault.acl``): how Vault policy
text is parsed, what a path pattern matches, the glob rule and the escalation paths.

Fixture tokens are obviously fake and marked for scanners.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from policies.model import UNKNOWN, ResourceRecord
from policies.other.vault import parse_policy as legacy_parse_policy
from policies.runner import run
from policies.vault.acl import PathPattern, Rule, parse
from policies.vault.common import APPROLE_ROLE as APPROLE
from policies.vault.common import (
    AUDIT,
    AUTH_BACKEND,
    JWT_ROLE,
    KV_V2,
    MOUNT,
    POLICY,
    PROVIDER,
    TOKEN,
    TOKEN_ROLE,
    TRANSIT_KEY,
    duration_seconds,
    human,
)
from policies.vault.common import KUBERNETES_CONFIG as K8S_CONFIG
from policies.vault.common import KUBERNETES_ROLE as K8S_ROLE
from policies.vault.policy import ALLOWED_PRIVILEGED_WRITES, escalation
from tests.policies.records import rec

ROOT = Path(__file__).resolve().parents[2]
FAKE_VAULT_TOKEN = "hvs.FAKEfakeFAKEfakeFAKEfake0123"  # pragma: allowlist secret
FAKE_REVIEWER_JWT = "eyJhbGciOiJSUzI1NiJ9.FAKE.FAKE"  # pragma: allowlist secret


def acl(text: str, name: str = "neural-trader-production-trader") -> ResourceRecord:
    return rec(POLICY, {"name": name, "policy": text}, name=name)


def hcl(*rules: tuple[str, list[str]]) -> str:
    """Policy HCL with one path block per (path, capabilities)."""
    return "\n".join(f'path "{p}" {{\n  capabilities = {json.dumps(c)}\n}}' for p, c in rules)


#: What an application of this project needs, and nothing more.
APP_POLICY = hcl(
    ("neural-trader/production/data/alpaca/api-key", ["read"]),
    ("neural-trader/production/data/openai/*", ["read"]),
    ("neural-trader/production/metadata/alpaca/", ["list"]),
    ("neural-trader-transit/production/encrypt/jwt", ["update"]),
    ("auth/token/renew-self", ["update"]),
    ("auth/token/create", ["update"]),
    ("sys/leases/renew", ["update"]),
    ("sys/*", ["deny"]),
)
TTLS = {"tokenTtl": 3600, "tokenMaxTtl": 14400}
GOOD_K8S = {
    "backend": "kubernetes-production",
    "roleName": "alpaca-trader",
    "boundServiceAccountNames": ["alpaca-trader"],
    "boundServiceAccountNamespaces": ["trading"],
    "audience": "vault",
    "tokenPolicies": ["neural-trader-production-trader"],
    **TTLS,
}
GOOD_APPROLE = {
    "backend": "approle-production",
    "roleName": "ci-deploy",
    "tokenPolicies": ["neural-trader-production-ci"],
    "secretIdNumUses": 1,
    "secretIdTtl": 600,
    "secretIdBoundCidrs": ["10.20.0.0/16"],
    "tokenBoundCidrs": ["10.20.0.0/16"],
    "tokenTtl": 900,
    "tokenMaxTtl": 3600,
}
GOOD_JWT = {
    "backend": "jwt-github",
    "roleName": "deploy",
    "roleType": "jwt",
    "boundAudiences": ["https://github.com/neural-trader"],
    "boundClaims": {"repository": "neural-trader/neural-trader", "ref": "refs/heads/main"},
    "userClaim": "sub",
    "tokenPolicies": ["neural-trader-production-ci"],
    **TTLS,
}
GOOD_TRANSIT = {
    "backend": "neural-trader-transit/production",
    "name": "jwt",
    "type": "aes256-gcm96",
    "derived": True,
    "autoRotatePeriod": 7776000,  # 90 days
}
GOOD_KV = {"mount": "neural-trader/production", "casRequired": True, "maxVersions": 10}

# (case id, policy id, records, expected number of violations of that policy)
VAULT_CASES: list[tuple[str, str, list[ResourceRecord], int]] = [
    # ---- ACL policies: least privilege ---------------------------------------------------------
    (
        "vault: exact read path",
        "vault-policy-least-privilege",
        [acl(hcl(("secret/data/neural-trader/dev/openai/api-key", ["read"])), name="backtest")],
        0,
    ),
    (
        "vault: an application's policy (globs confined to one service, list on its metadata)",
        "vault-policy-least-privilege",
        [acl(APP_POLICY)],
        0,
    ),
    (
        "vault: globbed path and sudo",
        "vault-policy-least-privilege",
        [acl(hcl(("secret/*", ["read", "sudo"])), name="live-trading")],
        2,
    ),
    (
        "vault: an admin-named policy is judged like any other",
        "vault-policy-least-privilege",
        [acl(hcl(("secret/*", ["sudo"])), name="nt-admin")],
        2,
    ),
    (
        "vault: a glob across environments",
        "vault-policy-least-privilege",
        [acl(hcl(("neural-trader/+/data/alpaca/*", ["read"])))],
        1,
    ),
    (
        "vault: a glob across the services of an environment",
        "vault-policy-least-privilege",
        [acl(hcl(("neural-trader/production/data/*", ["read"])))],
        1,
    ),
    (
        "vault: a glob inside the service segment",
        "vault-policy-least-privilege",
        [acl(hcl(("neural-trader/production/data/alpaca*", ["read"])))],
        1,
    ),
    (
        "vault: list on the metadata of every service",
        "vault-policy-least-privilege",
        [acl(hcl(("neural-trader/production/metadata/", ["list"])))],
        1,
    ),
    (
        "vault: a bare '+' path",
        "vault-policy-least-privilege",
        [acl(hcl(("+", ["read"])))],
        1,
    ),
    (
        "vault: deny globs are fine",
        "vault-policy-least-privilege",
        [acl(hcl(("*", ["deny"]), ("neural-trader/production/data/alpaca/api-key", ["read"])))],
        0,
    ),
    (
        "vault: repeated path blocks merge (the second one hides sudo)",
        "vault-policy-least-privilege",
        [
            acl(
                hcl(
                    ("neural-trader/production/data/alpaca/api-key", ["read"]),
                    ("neural-trader/production/data/alpaca/api-key", ["sudo"]),
                )
            )
        ],
        1,
    ),
    (
        "vault: legacy policy = sudo",
        "vault-policy-least-privilege",
        [acl('path "neural-trader/production/data/alpaca/api-key" { policy = "sudo" }')],
        1,
    ),
    (
        "vault: JSON policy with a glob",
        "vault-policy-least-privilege",
        [acl(json.dumps({"path": {"secret/data/*": {"capabilities": ["read"]}}}))],
        1,
    ),
    (
        "vault: unreadable policy",
        "vault-policy-least-privilege",
        [acl("allow everything please", name="app")],
        1,
    ),
    (
        "vault: a misspelt capability fails closed",
        "vault-policy-least-privilege",
        [acl(hcl(("neural-trader/production/data/alpaca/api-key", ["reed"])))],
        1,
    ),
    (
        "vault: capabilities that are not a list fail closed",
        "vault-policy-least-privilege",
        [acl('path "neural-trader/production/data/alpaca/api-key" { capabilities = "read" }')],
        1,
    ),
    (
        "vault: policy unknown at preview",
        "vault-policy-least-privilege",
        [rec(POLICY, {"name": "p", "policy": UNKNOWN})],
        0,
    ),
    # ---- ACL policies: privilege escalation ----------------------------------------------------
    (
        "vault: an application's policy (self-service token and lease paths)",
        "vault-policy-no-privilege-escalation",
        [acl(APP_POLICY)],
        0,
    ),
    (
        "vault: a read-only-named policy that writes its own secrets",
        "vault-policy-no-privilege-escalation",
        [
            acl(
                hcl(("neural-trader/production/data/alpaca/api-key", ["read", "update"])),
                name="backtest",
            )
        ],
        0,
    ),
    (
        "vault: policy rewriting",
        "vault-policy-no-privilege-escalation",
        [acl(hcl(("sys/policies/acl/neural-trader-production-trader", ["update"])))],
        1,
    ),
    (
        "vault: auth role rewriting",
        "vault-policy-no-privilege-escalation",
        [acl(hcl(("auth/kubernetes-production/role/alpaca-trader", ["create", "update"])))],
        1,
    ),
    (
        "vault: identity group policies",
        "vault-policy-no-privilege-escalation",
        [acl(hcl(("identity/group/name/traders", ["update"])))],
        1,
    ),
    (
        "vault: orphan token creation",
        "vault-policy-no-privilege-escalation",
        [acl(hcl(("auth/token/create-orphan", ["update"])))],
        1,
    ),
    (
        "vault: token creation from a role",
        "vault-policy-no-privilege-escalation",
        [acl(hcl(("auth/token/create/ci", ["update"])))],
        1,
    ),
    (
        "vault: disabling audit devices",
        "vault-policy-no-privilege-escalation",
        [acl(hcl(("sys/audit/file", ["delete"])))],
        1,
    ),
    # ---- auth roles ----------------------------------------------------------------------------
    (
        "vault: bound Kubernetes role",
        "vault-auth-kubernetes-role-bound",
        [rec(K8S_ROLE, GOOD_K8S)],
        0,
    ),
    (
        "vault: Kubernetes role bound by a labelled namespace selector",
        "vault-auth-kubernetes-role-bound",
        [
            rec(
                K8S_ROLE,
                {
                    **GOOD_K8S,
                    "boundServiceAccountNamespaces": [],
                    "boundServiceAccountNamespaceSelector": '{"matchLabels": {"team": "trading"}}',
                },
            )
        ],
        0,
    ),
    (
        "vault: any service account",
        "vault-auth-kubernetes-role-bound",
        [rec(K8S_ROLE, {**GOOD_K8S, "boundServiceAccountNames": ["*"]})],
        1,
    ),
    (
        "vault: any namespace",
        "vault-auth-kubernetes-role-bound",
        [rec(K8S_ROLE, {**GOOD_K8S, "boundServiceAccountNamespaces": ["*"]})],
        1,
    ),
    (
        "vault: a namespace glob",
        "vault-auth-kubernetes-role-bound",
        [rec(K8S_ROLE, {**GOOD_K8S, "boundServiceAccountNamespaces": ["trading-*"]})],
        1,
    ),
    (
        "vault: no namespaces and no audience",
        "vault-auth-kubernetes-role-bound",
        [
            rec(
                K8S_ROLE,
                {
                    k: v
                    for k, v in GOOD_K8S.items()
                    if k not in ("audience", "boundServiceAccountNamespaces")
                },
            )
        ],
        2,
    ),
    (
        "vault: Kubernetes auth over TLS, reviewing with the client's JWT",
        "vault-auth-kubernetes-config-secure",
        [
            rec(
                K8S_CONFIG,
                {
                    "backend": "kubernetes-production",
                    "kubernetesHost": "https://kubernetes.default.svc",
                },
            )
        ],
        0,
    ),
    (
        "vault: Kubernetes auth over http with a plaintext reviewer JWT",
        "vault-auth-kubernetes-config-secure",
        [
            rec(
                K8S_CONFIG,
                {
                    "backend": "kubernetes-production",
                    "kubernetesHost": "http://10.0.0.1:6443",
                    "tokenReviewerJwt": FAKE_REVIEWER_JWT,
                },
            )
        ],
        2,
    ),
    ("vault: bound AppRole", "vault-auth-approle-secret-id-bound", [rec(APPROLE, GOOD_APPROLE)], 0),
    (
        "vault: unlimited secret ID uses",
        "vault-auth-approle-secret-id-bound",
        [rec(APPROLE, {**GOOD_APPROLE, "secretIdNumUses": 0})],
        1,
    ),
    (
        "vault: secret IDs that never expire",
        "vault-auth-approle-secret-id-bound",
        [rec(APPROLE, {k: v for k, v in GOOD_APPROLE.items() if k != "secretIdTtl"})],
        1,
    ),
    (
        "vault: the role ID alone logs in",
        "vault-auth-approle-secret-id-bound",
        [rec(APPROLE, {**GOOD_APPROLE, "bindSecretId": False})],
        1,
    ),
    (
        "vault: AppRole usable from any network",
        "vault-auth-approle-secret-id-bound",
        [
            rec(
                APPROLE,
                {
                    **{k: v for k, v in GOOD_APPROLE.items() if k != "secretIdBoundCidrs"},
                    "tokenBoundCidrs": ["0.0.0.0/0"],
                },
            )
        ],
        2,
    ),
    ("vault: bound JWT role", "vault-auth-jwt-role-bound", [rec(JWT_ROLE, GOOD_JWT)], 0),
    (
        "vault: OIDC role bound by group (audience: the client ID)",
        "vault-auth-jwt-role-bound",
        [
            rec(
                JWT_ROLE,
                {
                    "roleName": "traders",
                    "roleType": "oidc",
                    "boundClaims": {"groups": "traders"},
                    "allowedRedirectUris": [
                        "https://vault.example.com/ui/vault/auth/oidc/oidc/callback"
                    ],
                    **TTLS,
                },
            )
        ],
        0,
    ),
    (
        "vault: JWT role without audiences",
        "vault-auth-jwt-role-bound",
        [rec(JWT_ROLE, {k: v for k, v in GOOD_JWT.items() if k != "boundAudiences"})],
        1,
    ),
    (
        "vault: every identity of the issuer",
        "vault-auth-jwt-role-bound",
        [rec(JWT_ROLE, {k: v for k, v in GOOD_JWT.items() if k != "boundClaims"})],
        1,
    ),
    (
        "vault: a glob claim matching everything",
        "vault-auth-jwt-role-bound",
        [
            rec(
                JWT_ROLE,
                {
                    **GOOD_JWT,
                    "boundClaimsType": "glob",
                    "boundClaims": {"repository": "neural-trader/*", "ref": "*"},
                },
            )
        ],
        1,
    ),
    ("vault: short-lived tokens", "vault-auth-role-token-ttl", [rec(K8S_ROLE, GOOD_K8S)], 0),
    (
        "vault: TTLs as duration strings",
        "vault-auth-role-token-ttl",
        [rec(JWT_ROLE, {**GOOD_JWT, "tokenTtl": "30m", "tokenMaxTtl": "4h"})],
        0,
    ),
    (
        "vault: no TTLs (the mount's 32 days)",
        "vault-auth-role-token-ttl",
        [rec(APPROLE, {k: v for k, v in GOOD_APPROLE.items() if not k.startswith("token")})],
        2,
    ),
    (
        "vault: a day-long token TTL",
        "vault-auth-role-token-ttl",
        [rec(K8S_ROLE, {**GOOD_K8S, "tokenTtl": 86400})],
        1,
    ),
    (
        "vault: periodic tokens without an explicit max TTL",
        "vault-auth-role-token-ttl",
        [rec(TOKEN_ROLE, {"roleName": "svc", "tokenPeriod": 3600, "tokenMaxTtl": 14400})],
        1,
    ),
    (
        "vault: no root policy",
        "vault-no-root-policy",
        [rec(K8S_ROLE, GOOD_K8S), rec(TOKEN, {"policies": ["neural-trader-production-ci"]})],
        0,
    ),
    (
        "vault: login role into root",
        "vault-no-root-policy",
        [rec(K8S_ROLE, {**GOOD_K8S, "tokenPolicies": ["default", "root"]})],
        1,
    ),
    (
        "vault: token with the root policy",
        "vault-no-root-policy",
        [rec(TOKEN, {"policies": ["Root"]})],
        1,
    ),
    (
        "vault: identity group with the root policy",
        "vault-no-root-policy",
        [rec("vault:identity/group:Group", {"name": "ops", "policies": ["root"]})],
        1,
    ),
    # ---- audit ---------------------------------------------------------------------------------
    (
        "vault: file audit device, HMACed",
        "vault-audit-no-raw-logging",
        [
            rec(
                AUDIT,
                {
                    "type": "file",
                    "path": "file",
                    "options": {"file_path": "/vault/audit/audit.log", "log_raw": "false"},
                },
            )
        ],
        0,
    ),
    (
        "vault: raw audit logging",
        "vault-audit-no-raw-logging",
        [rec(AUDIT, {"type": "file", "options": {"file_path": "/a.log", "log_raw": "TRUE"}})],
        1,
    ),
    (
        "vault: raw audit logging and accessors in clear",
        "vault-audit-no-raw-logging",
        [rec(AUDIT, {"type": "file", "options": {"log_raw": "1", "hmac_accessor": "false"}})],
        2,
    ),
    (
        "vault: non-HMAC fields that hold no secret",
        "vault-audit-hmac-secret-fields",
        [
            rec(
                MOUNT,
                {
                    "path": "neural-trader/production",
                    "type": "kv",
                    "auditNonHmacRequestKeys": ["ttl"],
                    "auditNonHmacResponseKeys": ["version"],
                },
            )
        ],
        0,
    ),
    (
        "vault: secret values exempt from HMAC",
        "vault-audit-hmac-secret-fields",
        [
            rec(
                MOUNT,
                {
                    "path": "neural-trader/production",
                    "type": "kv",
                    "auditNonHmacRequestKeys": ["password"],
                    "auditNonHmacResponseKeys": ["data"],
                },
            )
        ],
        2,
    ),
    (
        "vault: client tokens exempt from HMAC on an auth method",
        "vault-audit-hmac-secret-fields",
        [
            rec(
                AUTH_BACKEND,
                {"type": "approle", "tune": {"auditNonHmacResponseKeys": ["client_token"]}},
            )
        ],
        1,
    ),
    # ---- transit -------------------------------------------------------------------------------
    (
        "vault: transit key kept in Vault",
        "vault-transit-key-not-exportable",
        [rec(TRANSIT_KEY, GOOD_TRANSIT)],
        0,
    ),
    (
        "vault: exportable key with plaintext backups",
        "vault-transit-key-not-exportable",
        [rec(TRANSIT_KEY, {**GOOD_TRANSIT, "exportable": True, "allowPlaintextBackup": True})],
        2,
    ),
    (
        "vault: transit key that cannot be deleted",
        "vault-transit-key-deletion-protection",
        [rec(TRANSIT_KEY, GOOD_TRANSIT)],
        0,
    ),
    (
        "vault: deletable transit key",
        "vault-transit-key-deletion-protection",
        [rec(TRANSIT_KEY, {**GOOD_TRANSIT, "deletionAllowed": True})],
        1,
    ),
    (
        "vault: transit key rotating every 90 days",
        "vault-transit-key-rotation",
        [rec(TRANSIT_KEY, GOOD_TRANSIT)],
        0,
    ),
    (
        "vault: rotation period as a Go duration (730 days)",
        "vault-transit-key-rotation",
        [rec(TRANSIT_KEY, {**GOOD_TRANSIT, "autoRotatePeriod": "17520h"})],
        0,
    ),
    (
        "vault: transit key that never rotates",
        "vault-transit-key-rotation",
        [rec(TRANSIT_KEY, {k: v for k, v in GOOD_TRANSIT.items() if k != "autoRotatePeriod"})],
        1,
    ),
    (
        "vault: rotation period 0",
        "vault-transit-key-rotation",
        [rec(TRANSIT_KEY, {**GOOD_TRANSIT, "autoRotatePeriod": 0})],
        1,
    ),
    (
        "vault: rotation every three years",
        "vault-transit-key-rotation",
        [rec(TRANSIT_KEY, {**GOOD_TRANSIT, "autoRotatePeriod": "26280h"})],
        1,
    ),
    # ---- KV v2 ---------------------------------------------------------------------------------
    ("vault: KV v2 with check-and-set", "vault-kv-check-and-set", [rec(KV_V2, GOOD_KV)], 0),
    (
        "vault: KV v2 without check-and-set",
        "vault-kv-check-and-set",
        [rec(KV_V2, {k: v for k, v in GOOD_KV.items() if k != "casRequired"})],
        1,
    ),
    ("vault: KV v2 keeping 10 versions", "vault-kv-version-retention", [rec(KV_V2, GOOD_KV)], 0),
    (
        "vault: maxVersions 0 is Vault's default of 10",
        "vault-kv-version-retention",
        [rec(KV_V2, {**GOOD_KV, "maxVersions": 0})],
        0,
    ),
    (
        "vault: a single version (no rollback after a rotation)",
        "vault-kv-version-retention",
        [rec(KV_V2, {**GOOD_KV, "maxVersions": 1})],
        1,
    ),
    (
        "vault: a thousand versions of every secret",
        "vault-kv-version-retention",
        [rec(KV_V2, {**GOOD_KV, "maxVersions": 1000})],
        1,
    ),
    # ---- tokens --------------------------------------------------------------------------------
    (
        "vault: child token and token role",
        "vault-token-no-orphans",
        [
            rec(TOKEN, {"policies": ["neural-trader-production-ci"], "ttl": "1h"}),
            rec(TOKEN_ROLE, {"roleName": "ci", "allowedPolicies": ["neural-trader-production-ci"]}),
        ],
        0,
    ),
    (
        "vault: orphan token",
        "vault-token-no-orphans",
        [rec(TOKEN, {"policies": ["neural-trader-production-ci"], "noParent": True})],
        1,
    ),
    (
        "vault: token role minting orphans",
        "vault-token-no-orphans",
        [rec(TOKEN_ROLE, {"roleName": "ci", "orphan": True})],
        1,
    ),
    (
        "vault: token role with a prefixed policy glob",
        "vault-token-role-bounded-policies",
        [
            rec(
                TOKEN_ROLE,
                {"roleName": "ci", "allowedPoliciesGlobs": ["neural-trader-production-*"]},
            )
        ],
        0,
    ),
    (
        "vault: token role allowing every policy",
        "vault-token-role-bounded-policies",
        [rec(TOKEN_ROLE, {"roleName": "ci", "allowedPoliciesGlobs": ["*"]})],
        1,
    ),
    (
        "vault: token role glob matching root",
        "vault-token-role-bounded-policies",
        [rec(TOKEN_ROLE, {"roleName": "ci", "allowedPoliciesGlobs": ["r*"]})],
        1,
    ),
    # ---- provider ------------------------------------------------------------------------------
    (
        "vault: provider authenticating from VAULT_TOKEN",
        "vault-provider-no-static-token",
        [rec(PROVIDER, {"address": "https://vault.example.com:8200"})],
        0,
    ),
    (
        "vault: provider token passed as a secret",
        "vault-provider-no-static-token",
        [
            rec(
                PROVIDER,
                {"address": "https://vault.example.com:8200", "token": FAKE_VAULT_TOKEN},
                secret_paths=("token",),
            )
        ],
        0,
    ),
    (
        "vault: provider token unknown at preview",
        "vault-provider-no-static-token",
        [rec(PROVIDER, {"address": "https://vault.example.com:8200", "token": UNKNOWN})],
        0,
    ),
    (
        "vault: provider with a plaintext token",
        "vault-provider-no-static-token",
        [rec(PROVIDER, {"address": "https://vault.example.com:8200", "token": FAKE_VAULT_TOKEN})],
        1,
    ),
]


def _messages(records: list[ResourceRecord], policy: str, config: Any = None) -> list[str]:
    return [v.message for v in run(records, config=config).violations if v.policy == policy]


# ---- the reader ------------------------------------------------------------------------------


def test_repeated_blocks_merge_in_hcl_and_json() -> None:
    """pyhcl alone keeps only the last of two blocks for one path; Vault merges them."""
    text = hcl(("a/b", ["read"]), ("a/b", ["update"]))
    assert parse(text).rules == (Rule("a/b", frozenset({"read", "update"})),)
    pairs = '{"path": {"a/b": {"capabilities": ["read"]}, "a/b": {"capabilities": ["sudo"]}}}'
    assert parse(pairs).rules == (Rule("a/b", frozenset({"read", "sudo"})),)


@pytest.mark.parametrize(
    ("text", "capabilities"),
    [
        ('path "a" { capabilities = ["read", "deny"] }', {"deny"}),
        ('path "a" { policy = "read" }', {"read", "list"}),
        ('path "a" { policy = "write" }', {"create", "read", "update", "delete", "list"}),
        ('path "a" { capabilities = ["read"]\n allowed_parameters = { "x" = [] } }', {"read"}),
        ('path "a" {}', set()),
    ],
)
def test_effective_capabilities(text: str, capabilities: set[str]) -> None:
    document = parse(text)
    assert document.readable and document.rules == (Rule("a", frozenset(capabilities)),)


def test_leading_slash_is_dropped_as_vault_drops_it() -> None:
    assert (
        parse('path "/sys/policy/x" { capabilities = ["update"] }').rules[0].path == "sys/policy/x"
    )


def test_empty_policy_grants_nothing() -> None:
    assert parse("") == parse("# nothing\n") and parse("").rules == () and parse("").readable


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("allow everything please", "cannot be parsed"),
        ('{"path": ', "cannot be parsed"),
        ("name = 1\nrules = 2", "unknown top-level key"),
        ('path = "a"', "not an object"),
        ('path "a" "b" { capabilities = ["read"] }', "unknown key"),
        ('path "a" { capabilities = "read" }', "not a list"),
        ('path "a" { capabilities = ["Read"] }', "not a Vault capability"),
        ('path "a" { capabilities = [1] }', "not a Vault capability"),
        ('path "a" { policy = "admin" }', "is not read, write, sudo or deny"),
        ('path "a" { capabilities = ["read"]\n rules = 1 }', "unknown key"),
        ('path "a/+*" { capabilities = ["read"] }', "refused by Vault"),
        ('path "a/*/b" { capabilities = ["read"] }', "only a glob as the last character"),
        ('path "secret/\\u002a" { capabilities = ["read"] }', "backslash escape"),
        ('path "s" { capabilities = ["s\\u0075do"] }', "backslash escape"),
        ('{"path": {"a": ["read"]}}', "not a block"),
    ],
)
def test_what_is_not_understood_is_a_problem(text: str, problem: str) -> None:
    document = parse(text)
    assert not document.readable
    assert any(problem in p for p in document.problems), document.problems


def test_legacy_parse_policy_keeps_its_contract() -> None:
    assert legacy_parse_policy('path "a" { capabilities = ["read"] }') == [
        ("a", frozenset({"read"}))
    ]
    assert legacy_parse_policy("allow everything please") is None


@pytest.mark.parametrize(
    ("pattern", "literal", "glob"),
    [
        ("neural-trader/production/data/alpaca/*", 4, True),
        ("neural-trader/production/data/alpaca*", 3, True),
        ("neural-trader/production/data/*", 3, True),
        ("neural-trader/+/data/alpaca/*", 1, True),
        ("neural-trader/production/data/alpaca/+/key", 4, True),
        ("neural-trader/production/data/alpaca/api-key", 5, False),
        ("neural-trader/production/metadata/", 3, False),
        ("*", 0, True),
        ("+/*", 0, True),
    ],
)
def test_literal_segments(pattern: str, literal: int, glob: bool) -> None:
    p = PathPattern(pattern)
    assert (p.literal_segments(), p.is_glob) == (literal, glob)


@pytest.mark.parametrize(
    ("a", "b", "overlap"),
    [
        ("+/policy", "sys/policy*", True),
        ("s*", "sys/*", True),
        ("secret/*", "sys/*", False),
        ("a/+/c", "a/b/c", True),
        ("a/+/c", "a/b/x/c", False),
        ("a/+/*", "a/b", False),
        ("a/+/*", "a/b/", True),
        ("+/x", "+/y", False),
        ("*", "identity/*", True),
    ],
)
def test_overlaps(a: str, b: str, overlap: bool) -> None:
    assert PathPattern(a).overlaps(PathPattern(b)) is overlap
    assert PathPattern(b).overlaps(PathPattern(a)) is overlap


def test_matches() -> None:
    assert PathPattern("sys/tools/hash/+").matches("sys/tools/hash/sha2-256")
    assert not PathPattern("sys/tools/hash/+").matches("sys/tools/hash/a/b")
    assert PathPattern("nt/production/data/alpaca/*").matches("nt/production/data/alpaca/x/y")
    assert not PathPattern("nt/production/data/alpaca/*").matches("nt/production/data/alpacax")


# ---- the rules -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "capabilities", "flagged"),
    [
        ("auth/token/create", ["update"], False),  # children with a subset of the caller's policies
        ("auth/token/create", ["update", "sudo"], False),  # (sudo: least-privilege reports it)
        ("auth/token/create-orphan", ["update"], True),
        ("auth/token/create/ci", ["create"], True),
        ("auth/token/roles/ci", ["update"], True),
        ("auth/token/lookup-self", ["read"], False),
        ("auth/approle/role/ci/secret-id", ["update"], True),
        ("sys/policy/app", ["update"], True),
        ("sys/mounts/kv", ["create"], True),
        ("sys/auth/oidc", ["update"], True),
        ("sys/leases/renew", ["update"], False),
        ("sys/leases/*", ["update"], True),
        ("sys/tools/hash/sha2-256", ["update"], False),
        ("sys/policy/app", ["read"], False),
        ("identity/entity/id/123", ["patch"], True),
        ("+/policy/app", ["update"], True),
        ("*", ["update"], True),
        ("neural-trader/production/data/alpaca/*", ["create", "update", "delete"], False),
    ],
)
def test_escalation_paths(path: str, capabilities: list[str], flagged: bool) -> None:
    allowed = [PathPattern(a) for a in ALLOWED_PRIVILEGED_WRITES]
    assert (escalation(Rule(path, frozenset(capabilities)), allowed) is not None) is flagged


def test_allowlist_is_tunable() -> None:
    records = [acl(hcl(("auth/approle-production/role/ci/secret-id", ["update"])))]
    assert _messages(records, "vault-policy-no-privilege-escalation")
    config = {
        "vault-policy-no-privilege-escalation": {
            "allowedPrivilegedWritePaths": ["auth/approle-production/role/ci/secret-id"]
        }
    }
    assert not _messages(records, "vault-policy-no-privilege-escalation", config)


def test_minimum_literal_segments_is_tunable() -> None:
    records = [acl(hcl(("neural-trader/production/data/*", ["read"])))]
    [message] = _messages(records, "vault-policy-least-privilege")
    assert "neural-trader/production/data/*" in message and "first 4" in message
    config = {"vault-policy-least-privilege": {"minimumLiteralSegments": 3}}
    assert not _messages(records, "vault-policy-least-privilege", config)


def test_names_give_no_exemption_and_no_extra_rule() -> None:
    text = hcl(("secret/*", ["read", "update", "sudo"]), ("sys/policy/x", ["update"]))
    verdicts = {
        name: sorted((v.policy, v.message) for v in run([acl(text, name=name)]).violations)
        for name in ("nt-admin", "backtest-read-only", "live-trading")
    }
    assert verdicts["nt-admin"] == verdicts["backtest-read-only"] == verdicts["live-trading"]
    assert verdicts["nt-admin"]


def test_unreadable_text_is_reported_once() -> None:
    records = [acl("allow everything please")]
    vault = [v.policy for v in run(records).violations if v.policy.startswith("vault-policy-")]
    assert vault == ["vault-policy-least-privilege"]


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (3600, 3600),
        (3600.0, 3600),
        ("3600", 3600),
        ("720h", 2592000),
        ("1h30m", 5400),
        ("1.5h", 5400),
        ("90s", 90),
        ("300ms", 0.3),
        ("30d", 2592000),
        ("0", 0),
        ("+2h", 7200),
    ],
)
def test_durations(value: Any, seconds: float) -> None:
    assert duration_seconds(value) == pytest.approx(seconds)


@pytest.mark.parametrize("value", ["soon", "", "-1h", "1x", "h", True, -5, float("inf"), [1]])
def test_unreadable_durations(value: Any) -> None:
    with pytest.raises(ValueError, match="duration"):
        duration_seconds(value)


def test_human_durations() -> None:
    assert [human(s) for s in (90, 7200, 63072000, 0.5)] == ["90s", "2h", "730d", "0.5s"]


def test_rotation_maximum_is_tunable() -> None:
    records = [rec(TRANSIT_KEY, {**GOOD_TRANSIT, "autoRotatePeriod": "26280h"})]
    [message] = _messages(records, "vault-transit-key-rotation")
    assert message == "autoRotatePeriod is 1095d; at most 730d"
    config = {"vault-transit-key-rotation": {"maximumAutoRotatePeriod": 1095 * 86400}}
    assert not _messages(records, "vault-transit-key-rotation", config)


def test_unreadable_rotation_period_fails_closed() -> None:
    records = [rec(TRANSIT_KEY, {**GOOD_TRANSIT, "autoRotatePeriod": "soon"})]
    assert _messages(records, "vault-transit-key-rotation") == [
        "autoRotatePeriod is not a number of seconds or a duration"
    ]


def test_cidr_binding_can_be_turned_off() -> None:
    unbound = {k: v for k, v in GOOD_APPROLE.items() if not k.endswith("BoundCidrs")}
    records = [rec(APPROLE, unbound)]
    assert len(_messages(records, "vault-auth-approle-secret-id-bound")) == 2
    config = {"vault-auth-approle-secret-id-bound": {"requireCidrBinding": False}}
    assert not _messages(records, "vault-auth-approle-secret-id-bound", config)


def test_ttl_maximums_are_tunable() -> None:
    records = [rec(K8S_ROLE, {**GOOD_K8S, "tokenTtl": 7200, "tokenMaxTtl": 86400})]
    assert _messages(records, "vault-auth-role-token-ttl") == [
        "tokenTtl is 2h; at most 1h",
        "tokens live up to 1d; at most 4h",
    ]
    config = {"vault-auth-role-token-ttl": {"maximumTokenTtl": 7200, "maximumTokenMaxTtl": 86400}}
    assert not _messages(records, "vault-auth-role-token-ttl", config)


def test_secret_field_patterns_are_tunable() -> None:
    records = [rec(MOUNT, {"path": "kv", "auditNonHmacResponseKeys": ["ttl", "Private_Key"]})]
    assert _messages(records, "vault-audit-hmac-secret-fields") == [
        "auditNonHmacResponseKeys exempts 'Private_Key' from HMAC: its values reach the audit log in clear"
    ]
    config = {"vault-audit-hmac-secret-fields": {"secretFieldPatterns": ["ttl"]}}
    assert len(_messages(records, "vault-audit-hmac-secret-fields", config)) == 1


@pytest.mark.parametrize("spelling", [True, "true", "True", "1", 1, "yes"])
def test_log_raw_in_any_spelling(spelling: Any) -> None:
    records = [rec(AUDIT, {"type": "file", "options": {"log_raw": spelling}})]
    assert len(_messages(records, "vault-audit-no-raw-logging")) == 1


def test_unknown_values_are_not_judged() -> None:
    records = [
        rec(K8S_ROLE, {k: UNKNOWN for k in GOOD_K8S}),
        rec(APPROLE, {k: UNKNOWN for k in GOOD_APPROLE}),
        rec(JWT_ROLE, {**GOOD_JWT, "boundClaims": UNKNOWN, "boundAudiences": UNKNOWN}),
        rec(TRANSIT_KEY, {**GOOD_TRANSIT, "autoRotatePeriod": UNKNOWN}),
        rec(KV_V2, {"casRequired": UNKNOWN, "maxVersions": UNKNOWN}),
        rec(TOKEN_ROLE, {"allowedPoliciesGlobs": UNKNOWN, **TTLS}),
    ]
    assert [v for v in run(records).violations if v.policy.startswith("vault-")] == []


def test_no_message_quotes_the_provider_token() -> None:
    records = [rec(PROVIDER, {"token": FAKE_VAULT_TOKEN})]
    messages = [v.message for v in run(records).violations]
    assert messages and not any("FAKE" in m for m in messages)


def test_reader_libraries_do_not_import_pulumi() -> None:
    """The policy reader is usable outside the engine (e.g. by a store extractor or a CLI)."""
    code = (
        "import sys, policies.vault.acl, policies.vault.common\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('pulumi', 'pulumi_policy'))\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=120)
