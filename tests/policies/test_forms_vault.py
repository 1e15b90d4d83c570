"""Issue 21 class 1 on Vault (pulumi-vault 7) and the secret-holding fields of every store: a
policy as HCL text, in a secret envelope, or as a stored ``vault.get_policy_document`` result
(``hcl``); KV v2's ``dataJson`` and write-only ``dataJsonWo``; booleans and policy lists in
envelopes; a secret value whose field, or a block on its path, is an envelope (the engine's form
of a Pulumi secret). Compliant look-alikes give no finding; the same settings written wrong still
do."""

from __future__ import annotations

import json

import pytest

from policies.model import UNKNOWN
from tests.policies.forms import KEY_ARN, FormCase, R, cipher, env, form_params, judge

POLICY = "vault:index/policy:Policy"
KV_SECRET = "vault:kv/secretV2:SecretV2"  # pragma: allowlist secret (a type token)
KV_MOUNT = "vault:kv/secretBackendV2:SecretBackendV2"
TRANSIT_KEY = "vault:transit/secretBackendKey:SecretBackendKey"
TOKEN_ROLE = "vault:tokenauth/authBackendRole:AuthBackendRole"
K8S_ROLE = "vault:kubernetes/authBackendRole:AuthBackendRole"
K8S_CONFIG = "vault:kubernetes/authBackendConfig:AuthBackendConfig"
APPROLE = "vault:appRole/authBackendRole:AuthBackendRole"
JWT_ROLE = "vault:jwt/authBackendRole:AuthBackendRole"
TOKEN = "vault:index/token:Token"
AUDIT = "vault:index/audit:Audit"
AUTH_MOUNT = "vault:index/authBackend:AuthBackend"
MOUNT = "vault:index/mount:Mount"
GROUP_POLICIES = "vault:identity/groupPolicies:GroupPolicies"
SM_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"  # pragma: allowlist secret
PARAMETER = "aws:ssm/parameter:Parameter"
AZURE_SECRET = "azure-native:keyvault:Secret"  # pragma: allowlist secret (a type token)

LEAST = "vault-policy-least-privilege"
ESCALATION = "vault-policy-no-privilege-escalation"
MARKED = "all-secret-values-marked-secret"
RETENTION = "vault-kv-version-retention"
EXPORTABLE = "vault-transit-key-not-exportable"
DELETION = "vault-transit-key-deletion-protection"
ROOT = "vault-no-root-policy"
K8S_BOUND = "vault-auth-kubernetes-role-bound"
K8S_SECURE = "vault-auth-kubernetes-config-secure"
APPROLE_BOUND = "vault-auth-approle-secret-id-bound"
JWT_BOUND = "vault-auth-jwt-role-bound"
TTL = "vault-auth-role-token-ttl"
RAW = "vault-audit-no-raw-logging"
NON_HMAC = "vault-audit-hmac-secret-fields"
ORPHANS = "vault-token-no-orphans"
GLOBS = "vault-token-role-bounded-policies"
LOGIN_RULES = (K8S_BOUND, APPROLE_BOUND, JWT_BOUND, TTL, ROOT)
AUDIT_RULES = (RAW, NON_HMAC)
TOKEN_RULES = (ORPHANS, GLOBS, ROOT, TTL)
POLICY_RULES = (LEAST, ESCALATION)

READ_HCL = 'path "secret/data/trading/venue-api-key" {\n  capabilities = ["read"]\n}\n'
ADMIN_HCL = 'path "sys/*" {\n  capabilities = ["create", "update", "sudo"]\n}\n'
PAYLOAD = json.dumps({"api_key": "not-shown"})
#: short-lived, bounded tokens (within every profile's limits)
TTLS = {"tokenTtl": 900, "tokenMaxTtl": 3600}
CIDRS = ["10.20.0.0/16"]
REPO_CLAIMS = {"repository": "example/trading", "ref": "refs/heads/main"}


def k8s_role(**inputs: object) -> dict[str, object]:
    return {
        "roleName": "venue",
        "boundServiceAccountNames": ["venue"],
        "boundServiceAccountNamespaces": ["trading"],
        "audience": "vault",
        "tokenPolicies": ["venue-reader"],
        **TTLS,
        **inputs,
    }


def approle(**inputs: object) -> dict[str, object]:
    return {
        "roleName": "venue",
        "secretIdNumUses": 1,
        "secretIdTtl": 600,
        "secretIdBoundCidrs": CIDRS,
        "tokenBoundCidrs": CIDRS,
        "tokenPolicies": ["venue-reader"],
        **TTLS,
        **inputs,
    }


def jwt_role(**inputs: object) -> dict[str, object]:
    return {
        "roleName": "ci",
        "roleType": "jwt",
        "userClaim": "sub",
        "boundAudiences": ["vault"],
        "boundClaims": REPO_CLAIMS,
        "tokenPolicies": ["venue-reader"],
        **TTLS,
        **inputs,
    }


CASES: list[FormCase] = [
    # ---- policies: compliant look-alikes
    FormCase(
        "policy HCL in an envelope",
        (R(POLICY, "pol", {"name": "venue-reader", "policy": env(READ_HCL)}),),
        frozenset(),
        POLICY_RULES,
    ),
    FormCase(
        "policy as a stored get_policy_document result",
        (
            R(
                POLICY,
                "pol",
                {
                    "name": "venue-reader",
                    "policy": {
                        "hcl": READ_HCL,
                        "rules": [
                            {"path": "secret/data/trading/venue-api-key", "capabilities": ["read"]}
                        ],
                    },
                },
            ),
        ),
        frozenset(),
        POLICY_RULES,
    ),
    FormCase(
        "policy stored as ciphertext",
        (R(POLICY, "pol", {"name": "venue-reader", "policy": cipher()}),),
        frozenset(),
        POLICY_RULES,
        state_only=True,
    ),
    # ---- policies: still findings
    FormCase(
        "policy HCL in an envelope that writes under sys/",
        (R(POLICY, "pol", {"name": "ops", "policy": env(ADMIN_HCL)}),),
        frozenset({(ESCALATION, "pol")}),
        (ESCALATION,),
    ),
    # ---- KV, transit, token roles
    FormCase(
        "KV v2 payloads in envelopes (dataJson, write-only dataJsonWo); mount settings enveloped",
        (
            R(KV_SECRET, "kv", {"mount": "secret", "name": "venue", "dataJson": env(PAYLOAD)}),
            R(KV_SECRET, "kvwo", {"mount": "secret", "name": "venue", "dataJsonWo": env(PAYLOAD)}),
            R(KV_MOUNT, "mount", {"mount": "secret", "maxVersions": env(10)}),
        ),
        frozenset(),
        (MARKED, RETENTION),
    ),
    FormCase(
        "KV v2 write-only payload in plaintext; mount keeping one version (enveloped)",
        (
            R(KV_SECRET, "kvwo", {"mount": "secret", "name": "venue", "dataJsonWo": PAYLOAD}),
            R(KV_MOUNT, "mount", {"mount": "secret", "maxVersions": env(1)}),
        ),
        frozenset({(MARKED, "kvwo"), (RETENTION, "mount")}),
        (MARKED, RETENTION),
    ),
    FormCase(
        "transit key flags in envelopes, off",
        (
            R(
                TRANSIT_KEY,
                "tk",
                {
                    "backend": "transit",
                    "name": "k",
                    "exportable": env(False),
                    "allowPlaintextBackup": env("false"),
                    "deletionAllowed": env(False),
                },
            ),
        ),
        frozenset(),
        (EXPORTABLE, DELETION),
    ),
    FormCase(
        "transit key exportable and deletable, in envelopes",
        (
            R(
                TRANSIT_KEY,
                "tk",
                {
                    "backend": "transit",
                    "name": "k",
                    "exportable": env("true"),
                    "deletionAllowed": env(True),
                },
            ),
        ),
        frozenset({(EXPORTABLE, "tk"), (DELETION, "tk")}),
        (EXPORTABLE, DELETION),
    ),
    FormCase(
        "token role attaching root through an enveloped policy list",
        (R(TOKEN_ROLE, "tr", {"roleName": "ops", "allowedPolicies": env([env("root")])}),),
        frozenset({(ROOT, "tr")}),
        (ROOT,),
    ),
    # ---- login roles: settings in envelopes (whole lists, list items, scalars), unreadable values
    FormCase(
        "Kubernetes role: bound lists, audience, TTLs and policies in envelopes",
        (
            R(
                K8S_ROLE,
                "kr",
                k8s_role(
                    boundServiceAccountNames=env(["venue"]),
                    boundServiceAccountNamespaces=[env("trading")],
                    audience=env("vault"),
                    tokenTtl=env(900),
                    tokenMaxTtl=env("1h"),
                    tokenPolicies=env([env("venue-reader")]),
                ),
            ),
        ),
        frozenset(),
        LOGIN_RULES,
    ),
    FormCase(
        "Kubernetes role: a namespace selector with labels, in an envelope",
        (
            R(
                K8S_ROLE,
                "kr",
                k8s_role(
                    boundServiceAccountNamespaces=None,
                    boundServiceAccountNamespaceSelector=env(
                        json.dumps({"matchLabels": {"team": "trading"}})
                    ),
                ),
            ),
        ),
        frozenset(),
        LOGIN_RULES,
    ),
    FormCase(
        "Kubernetes role: bound lists and audience stored as ciphertext",
        (
            R(
                K8S_ROLE,
                "kr",
                k8s_role(
                    boundServiceAccountNames=cipher(),
                    boundServiceAccountNamespaces=[cipher()],
                    audience=cipher(),
                ),
            ),
        ),
        frozenset(),
        LOGIN_RULES,
        state_only=True,
    ),
    FormCase(
        "Kubernetes role: bound lists unknown at preview (items and whole list)",
        (
            R(
                K8S_ROLE,
                "kr",
                k8s_role(
                    boundServiceAccountNames=[UNKNOWN],
                    boundServiceAccountNamespaces=UNKNOWN,
                    tokenPolicies=[UNKNOWN, "venue-reader"],
                ),
            ),
        ),
        frozenset(),
        LOGIN_RULES,
    ),
    FormCase(
        "Kubernetes role: '*' in an enveloped list, audience empty in an envelope, root policy",
        (
            R(
                K8S_ROLE,
                "kr",
                k8s_role(
                    boundServiceAccountNames=env([env("*")]),
                    audience=env(""),
                    tokenPolicies=env(["venue-reader", env("root")]),
                ),
            ),
        ),
        frozenset({(K8S_BOUND, "kr"), (ROOT, "kr")}),
        LOGIN_RULES,
    ),
    FormCase(
        "Kubernetes role: TTL of 30 days and no bound in envelopes",
        (R(K8S_ROLE, "kr", k8s_role(tokenTtl=env(2592000), tokenMaxTtl=env(None))),),
        frozenset({(TTL, "kr")}),
        LOGIN_RULES,
    ),
    FormCase(
        "AppRole: secret ID limits, CIDRs and flags in envelopes",
        (
            R(
                APPROLE,
                "ar",
                approle(
                    bindSecretId=env(True),
                    secretIdNumUses=env(1),
                    secretIdTtl=env("10m"),
                    secretIdBoundCidrs=env(CIDRS),
                    tokenBoundCidrs=[env(CIDRS[0])],
                ),
            ),
        ),
        frozenset(),
        LOGIN_RULES,
    ),
    FormCase(
        "AppRole: CIDRs and secret ID limits stored as ciphertext",
        (
            R(
                APPROLE,
                "ar",
                approle(
                    secretIdNumUses=cipher(),
                    secretIdBoundCidrs=cipher(),
                    tokenBoundCidrs=[cipher()],
                ),
            ),
        ),
        frozenset(),
        LOGIN_RULES,
        state_only=True,
    ),
    FormCase(
        "AppRole: unlimited secret IDs and an open CIDR, in envelopes",
        (
            R(
                APPROLE,
                "ar",
                approle(secretIdNumUses=env(0), tokenBoundCidrs=env([env("0.0.0.0/0")])),
            ),
        ),
        frozenset({(APPROLE_BOUND, "ar")}),
        LOGIN_RULES,
    ),
    FormCase(
        "JWT role: role type, audiences and claims in envelopes (the map and its values)",
        (
            R(
                JWT_ROLE,
                "jr",
                jwt_role(
                    roleType=env("jwt"),
                    boundAudiences=env(["vault"]),
                    boundClaims=env({"repository": env("example/trading")}),
                ),
            ),
            R(JWT_ROLE, "jr2", jwt_role(boundClaims={"repository": env("example/trading")})),
        ),
        frozenset(),
        LOGIN_RULES,
    ),
    FormCase(
        "JWT role (type in an envelope) without audiences; glob claim in an envelope",
        (
            R(JWT_ROLE, "jr", jwt_role(roleType=env("jwt"), boundAudiences=None)),
            R(
                JWT_ROLE,
                "jr2",
                jwt_role(boundClaimsType=env("glob"), boundClaims=env({"repository": "*"})),
            ),
        ),
        frozenset({(JWT_BOUND, "jr"), (JWT_BOUND, "jr2")}),
        LOGIN_RULES,
    ),
    FormCase(
        "Kubernetes auth config: https host in an envelope",
        (R(K8S_CONFIG, "kc", {"kubernetesHost": env("https://10.0.0.1:443")}),),
        frozenset(),
        (K8S_SECURE,),
    ),
    FormCase(
        "Kubernetes auth config: plain http host in an envelope",
        (R(K8S_CONFIG, "kc", {"kubernetesHost": env("http://10.0.0.1:80")}),),
        frozenset({(K8S_SECURE, "kc")}),
        (K8S_SECURE,),
    ),
    # ---- audit devices and HMAC exemptions
    FormCase(
        "audit options and tune block in envelopes, nothing raw",
        (
            R(AUDIT, "aud", {"type": "file", "options": env({"file_path": "/var/log/a.log"})}),
            R(
                AUTH_MOUNT,
                "auth",
                {"type": "kubernetes", "tune": env({"auditNonHmacRequestKeys": env(["ttl"])})},
            ),
            R(MOUNT, "mnt", {"path": "kv", "type": "kv", "auditNonHmacResponseKeys": env([])}),
        ),
        frozenset(),
        AUDIT_RULES,
    ),
    FormCase(
        "audit options map in an envelope logs raw; tune in envelopes exempts a password",
        (
            R(AUDIT, "aud", {"type": "file", "options": env({"log_raw": "true"})}),
            R(
                AUTH_MOUNT,
                "auth",
                {"type": "userpass", "tune": [env({"auditNonHmacRequestKeys": ["password"]})]},
            ),
            R(
                MOUNT,
                "mnt",
                {"path": "kv", "type": "kv", "auditNonHmacResponseKeys": env(["data"])},
            ),
        ),
        frozenset({(RAW, "aud"), (NON_HMAC, "auth"), (NON_HMAC, "mnt")}),
        AUDIT_RULES,
    ),
    # ---- tokens and token roles
    FormCase(
        "token role and token: flags, globs and policies in envelopes, bounded",
        (
            R(
                TOKEN_ROLE,
                "tr",
                {
                    "roleName": "ci",
                    "orphan": env(False),
                    "allowedPoliciesGlobs": env(["nt-production-*"]),
                    "tokenPolicies": env(["ci"]),
                    **TTLS,
                },
            ),
            R(TOKEN, "tok", {"noParent": env("false"), "policies": env(["ci"])}),
            R(GROUP_POLICIES, "gp", {"groupId": "g", "policies": env([env("ops")])}),
        ),
        frozenset(),
        TOKEN_RULES,
    ),
    FormCase(
        "token role allowing every policy, orphan token, group holding root: in envelopes",
        (
            R(
                TOKEN_ROLE,
                "tr",
                {"roleName": "ci", "allowedPoliciesGlobs": env([env("*")]), **TTLS},
            ),
            R(TOKEN, "tok", {"noParent": env(True), "policies": ["ci"]}),
            R(GROUP_POLICIES, "gp", {"groupId": "g", "policies": env([env("root")])}),
        ),
        frozenset({(GLOBS, "tr"), (ORPHANS, "tok"), (ROOT, "gp")}),
        TOKEN_RULES,
    ),
    # ---- secret-holding fields of the other stores: an envelope marks the value
    FormCase(
        "secret values in envelopes: Secrets Manager, SSM (type enveloped), Key Vault properties",
        (
            R(SM_VERSION, "sv", {"secretId": "venue", "secretString": env(PAYLOAD)}),
            R(
                PARAMETER,
                "param",
                {
                    "name": "/nt/venue",
                    "type": env("SecureString"),
                    "keyId": KEY_ARN,
                    "value": env("x"),
                },
            ),
            R(
                AZURE_SECRET,
                "kvs",
                {"vaultName": "kv", "properties": env({"value": "x", "contentType": "text/plain"})},
            ),
        ),
        frozenset(),
        (MARKED,),
    ),
    FormCase(
        "SSM SecureString (type enveloped) with a plaintext value",
        (
            R(
                PARAMETER,
                "param",
                {"name": "/nt/venue", "type": env("SecureString"), "keyId": KEY_ARN, "value": "x"},
            ),
        ),
        frozenset({(MARKED, "param")}),
        (MARKED,),
    ),
]


@pytest.mark.parametrize(("case", "form"), form_params(CASES))
def test_vault_forms(case: FormCase, form: str) -> None:
    assert judge(case, form) == case.expected
