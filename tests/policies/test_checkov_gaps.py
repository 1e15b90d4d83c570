"""The policies added for the checkov checks the pack lacked (issue 21, class 6): EKS, GKE and AKS
secrets encryption and access, Lambda environment keys, default service accounts, Azure
Automation variables and App Configuration stores. The case table runs with every other
policy's (``test_pack.py``); each policy is judged both ways and in every shape its provider
schema allows (singular and plural blocks, secret envelopes, unknown values, Patch and List
forms).
"""

from __future__ import annotations

from typing import Any

from policies.model import UNKNOWN, ResourceRecord
from tests.policies.records import rec

SIG = "4dabf18193072939515e22adb298388d"  # pragma: allowlist secret
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"  # pragma: allowlist secret
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
EKS = "aws:eks/cluster:Cluster"
LAMBDA = "aws:lambda/function:Function"
GKE = "gcp:container/cluster:Cluster"
GKE_POOL = "gcp:container/nodePool:NodePool"
PROJECT_MEMBER = "gcp:projects/iAMMember:IAMMember"
FOLDER_BINDING = "gcp:folder/iAMBinding:IAMBinding"
PROJECT_POLICY = "gcp:projects/iAMPolicy:IAMPolicy"
AKS = "azure-native:containerservice:ManagedCluster"
AKS_CLASSIC = "azure:containerservice/kubernetesCluster:KubernetesCluster"
VARIABLE = "azure-native:automation:Variable"
VARIABLE_CLASSIC = "azure:automation/stringVariable:StringVariable"
STORE = "azure-native:appconfiguration:ConfigurationStore"
STORE_CLASSIC = "azure:appconfiguration/configurationStore:ConfigurationStore"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
POD = "kubernetes:core/v1:Pod"
SA = "kubernetes:core/v1:ServiceAccount"
BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
DEFAULT_SA = "serviceAccount:123456789012-compute@developer.gserviceaccount.com"
GKE_KEY = "projects/p/locations/us-east1/keyRings/r/cryptoKeys/gke-secrets"
AZURE_KEY = "https://kv.vault.azure.net/keys/etcd/0123456789abcdef"


def env(value: Any) -> dict[str, Any]:
    """A Pulumi secret envelope around ``value``."""
    return {SIG: SECRET_SIG, "value": value}


def pod(spec: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {"name": "w"}, "spec": {"template": {"spec": spec}}}


Case = tuple[str, str, list[ResourceRecord], int]

GAP_CASES: list[Case] = [
    # ---- EKS secrets encryption ------------------------------------------------------------
    (
        "eks: Secrets encrypted with a CMK",
        "aws-eks-secrets-encryption",
        [rec(EKS, {"encryptionConfig": {"resources": ["secrets"], "provider": {"keyArn": KEY}}})],
        0,
    ),
    (
        "eks: block as a list in an envelope",
        "aws-eks-secrets-encryption",
        [
            rec(
                EKS,
                {
                    "encryptionConfig": env(
                        [{"resources": ["secrets"], "provider": {"keyArn": KEY}}]
                    )
                },
            )
        ],
        0,
    ),
    (
        "eks: key unknown at preview",
        "aws-eks-secrets-encryption",
        [rec(EKS, {"encryptionConfig": UNKNOWN})],
        0,
    ),
    ("eks: no encryption config", "aws-eks-secrets-encryption", [rec(EKS, {"name": "c"})], 1),
    (
        "eks: AWS-managed key",
        "aws-eks-secrets-encryption",
        [
            rec(
                EKS,
                {
                    "encryptionConfig": {
                        "resources": ["secrets"],
                        "provider": {"keyArn": "alias/aws/eks"},
                    }
                },
            )
        ],
        1,
    ),
    # ---- EKS audit logs ----------------------------------------------------------------------
    (
        "eks: audit and authenticator logs",
        "aws-eks-audit-logging",
        [rec(EKS, {"enabledClusterLogTypes": ["api", "audit", "authenticator"]})],
        0,
    ),
    (
        "eks: API log only",
        "aws-eks-audit-logging",
        [rec(EKS, {"enabledClusterLogTypes": ["api"]})],
        1,
    ),
    ("eks: no logs", "aws-eks-audit-logging", [rec(EKS, {})], 1),
    # ---- Lambda environment key ----------------------------------------------------------------
    (
        "lambda: variables under a CMK",
        "aws-lambda-env-cmk",
        [rec(LAMBDA, {"environment": {"variables": {"TOPIC": "arn:t"}}, "kmsKeyArn": KEY})],
        0,
    ),
    ("lambda: no variables", "aws-lambda-env-cmk", [rec(LAMBDA, {"environment": {}})], 0),
    (
        "lambda: variables under aws/lambda",
        "aws-lambda-env-cmk",
        [rec(LAMBDA, {"environment": [{"variables": env({"TOPIC": "arn:t"})}]})],
        1,
    ),
    # ---- GKE -----------------------------------------------------------------------------------
    (
        "gke: application-layer secrets encryption",
        "gcp-gke-secrets-encryption",
        [rec(GKE, {"databaseEncryption": {"state": "ENCRYPTED", "keyName": GKE_KEY}})],
        0,
    ),
    (
        "gke: decrypted state",
        "gcp-gke-secrets-encryption",
        [rec(GKE, {"databaseEncryption": [{"state": "DECRYPTED"}]})],
        1,
    ),
    ("gke: no database encryption", "gcp-gke-secrets-encryption", [rec(GKE, {})], 1),
    (
        "gke: RBAC only, no certificate",
        "gcp-gke-no-legacy-access",
        [
            rec(
                GKE,
                {
                    "enableLegacyAbac": False,
                    "masterAuth": {"clientCertificateConfig": {"issueClientCertificate": False}},
                },
            )
        ],
        0,
    ),
    ("gke: defaults (no ABAC, no certificate)", "gcp-gke-no-legacy-access", [rec(GKE, {})], 0),
    (
        "gke: legacy ABAC and a client certificate",
        "gcp-gke-no-legacy-access",
        [
            rec(
                GKE,
                {
                    "enableLegacyAbac": "true",
                    "masterAuth": [{"clientCertificateConfig": [{"issueClientCertificate": True}]}],
                },
            )
        ],
        2,
    ),
    (
        "gke: metadata server on the default pool",
        "gcp-gke-metadata-server",
        [rec(GKE, {"nodeConfig": {"workloadMetadataConfig": {"mode": "GKE_METADATA"}}})],
        0,
    ),
    (
        "gke: default pool removed, pools judged apart",
        "gcp-gke-metadata-server",
        [rec(GKE, {"removeDefaultNodePool": True})],
        0,
    ),
    ("gke: autopilot", "gcp-gke-metadata-server", [rec(GKE, {"enableAutopilot": True})], 0),
    (
        "gke: earlier provider spelling",
        "gcp-gke-metadata-server",
        [
            rec(
                GKE_POOL,
                {"nodeConfig": {"workloadMetadataConfig": {"nodeMetadata": "GKE_METADATA_SERVER"}}},
            )
        ],
        0,
    ),
    (
        "gke: node pool exposing node metadata",
        "gcp-gke-metadata-server",
        [rec(GKE_POOL, {"nodeConfig": {}})],
        1,
    ),
    (
        "gke: inline pool exposing node metadata",
        "gcp-gke-metadata-server",
        [
            rec(
                GKE,
                {
                    "nodePools": [
                        {"nodeConfig": {"workloadMetadataConfig": {"mode": "GCE_METADATA"}}}
                    ]
                },
            )
        ],
        1,
    ),
    # ---- GCP default service accounts ----------------------------------------------------------
    (
        "gcp: a dedicated service account granted on the project",
        "gcp-iam-no-default-service-account-grants",
        [
            rec(
                PROJECT_MEMBER,
                {
                    "project": "p",
                    "role": "roles/logging.logWriter",
                    "member": "serviceAccount:trader@p.iam.gserviceaccount.com",
                },
            )
        ],
        0,
    ),
    (
        "gcp: the Compute default service account granted on the project",
        "gcp-iam-no-default-service-account-grants",
        [
            rec(
                PROJECT_MEMBER,
                {"project": "p", "role": "roles/logging.logWriter", "member": DEFAULT_SA},
            )
        ],
        1,
    ),
    (
        "gcp: App Engine's default service account in a folder binding",
        "gcp-iam-no-default-service-account-grants",
        [
            rec(
                FOLDER_BINDING,
                {
                    "folder": "folders/1",
                    "role": "roles/viewer",
                    "members": ["serviceAccount:p@appspot.gserviceaccount.com"],
                },
            )
        ],
        1,
    ),
    # ---- AKS -------------------------------------------------------------------------------------
    (
        "aks: RBAC with local accounts disabled",
        "azure-aks-cluster-access",
        [rec(AKS, {"enableRBAC": True, "disableLocalAccounts": True})],
        0,
    ),
    (
        "aks classic: RBAC with local accounts disabled",
        "azure-aks-cluster-access",
        [rec(AKS_CLASSIC, {"roleBasedAccessControlEnabled": True, "localAccountDisabled": True})],
        0,
    ),
    (
        "aks: local accounts by default",
        "azure-aks-cluster-access",
        [rec(AKS, {"enableRBAC": True})],
        1,
    ),
    (
        "aks: RBAC disabled and local accounts",
        "azure-aks-cluster-access",
        [rec(AKS, {"enableRBAC": False, "disableLocalAccounts": False})],
        2,
    ),
    (
        "aks: KMS etcd encryption",
        "azure-aks-secrets-encryption",
        [
            rec(
                AKS,
                {"securityProfile": {"azureKeyVaultKms": {"enabled": True, "keyId": AZURE_KEY}}},
            )
        ],
        0,
    ),
    (
        "aks classic: KMS etcd encryption",
        "azure-aks-secrets-encryption",
        [rec(AKS_CLASSIC, {"keyManagementService": {"keyVaultKeyId": AZURE_KEY}})],
        0,
    ),
    ("aks: no KMS etcd encryption", "azure-aks-secrets-encryption", [rec(AKS, {})], 1),
    (
        "aks: CSI driver rotating secrets",
        "azure-aks-secret-store-rotation",
        [
            rec(
                AKS,
                {
                    "addonProfiles": {
                        "azureKeyvaultSecretsProvider": {
                            "enabled": True,
                            "config": {"enableSecretRotation": "true"},  # pragma: allowlist secret
                        }
                    }
                },
            )
        ],
        0,
    ),
    ("aks: no CSI driver", "azure-aks-secret-store-rotation", [rec(AKS, {})], 0),
    (
        "aks: CSI driver without rotation",
        "azure-aks-secret-store-rotation",
        [rec(AKS, {"addonProfiles": {"azureKeyvaultSecretsProvider": {"enabled": True}}})],
        1,
    ),
    (
        "aks classic: CSI driver without rotation",
        "azure-aks-secret-store-rotation",
        [rec(AKS_CLASSIC, {"keyVaultSecretsProvider": {"secretRotationEnabled": False}})],
        1,
    ),
    # ---- Automation variables -----------------------------------------------------------------
    (
        "automation: encrypted variable",
        "azure-automation-variable-encrypted",
        [rec(VARIABLE, {"isEncrypted": True})],
        0,
    ),
    (
        "automation classic: encrypted",
        "azure-automation-variable-encrypted",
        [rec(VARIABLE_CLASSIC, {"encrypted": True})],
        0,
    ),
    (
        "automation: plain variable",
        "azure-automation-variable-encrypted",
        [rec(VARIABLE, {"value": '"x"'})],
        1,
    ),
    (
        "automation classic: plain variable",
        "azure-automation-variable-encrypted",
        [rec(VARIABLE_CLASSIC, {"encrypted": False})],
        1,
    ),
    # ---- App Configuration ------------------------------------------------------------------------
    (
        "appconfig: Entra ID only",
        "azure-appconfig-local-auth-disabled",
        [rec(STORE, {"disableLocalAuth": True})],
        0,
    ),
    (
        "appconfig classic: Entra ID only",
        "azure-appconfig-local-auth-disabled",
        [rec(STORE_CLASSIC, {"localAuthEnabled": False})],
        0,
    ),
    (
        "appconfig: access keys by default",
        "azure-appconfig-local-auth-disabled",
        [rec(STORE, {})],
        1,
    ),
    (
        "appconfig classic: access keys by default",
        "azure-appconfig-local-auth-disabled",
        [rec(STORE_CLASSIC, {})],
        1,
    ),
    (
        "appconfig: private",
        "azure-appconfig-public-network-access",
        [rec(STORE, {"publicNetworkAccess": "Disabled"})],
        0,
    ),
    (
        "appconfig: public",
        "azure-appconfig-public-network-access",
        [rec(STORE, {"publicNetworkAccess": "Enabled"})],
        1,
    ),
    (
        "appconfig: customer-managed key",
        "azure-appconfig-cmk",
        [rec(STORE, {"encryption": {"keyVaultProperties": {"keyIdentifier": AZURE_KEY}}})],
        0,
    ),
    (
        "appconfig classic: customer-managed key",
        "azure-appconfig-cmk",
        [rec(STORE_CLASSIC, {"encryption": {"keyVaultKeyIdentifier": AZURE_KEY}})],
        0,
    ),
    ("appconfig: platform key", "azure-appconfig-cmk", [rec(STORE, {})], 1),
    (
        "appconfig: purge protection",
        "azure-appconfig-purge-protection",
        [rec(STORE, {"enablePurgeProtection": True})],
        0,
    ),
    (
        "appconfig classic: no purge protection",
        "azure-appconfig-purge-protection",
        [rec(STORE_CLASSIC, {})],
        1,
    ),
    # ---- Kubernetes default service account ------------------------------------------------------
    (
        "k8s: a workload with its own service account",
        "kubernetes-default-service-account",
        [rec(DEPLOYMENT, pod({"serviceAccountName": "trader", "containers": []}))],
        0,
    ),
    (
        "k8s: default service account without its token",
        "kubernetes-default-service-account",
        [rec(DEPLOYMENT, pod({"automountServiceAccountToken": False, "containers": []}))],
        0,
    ),
    (
        "k8s: a patch that does not touch the token",
        "kubernetes-default-service-account",
        [rec(f"{DEPLOYMENT}Patch", pod({"containers": []}))],
        0,
    ),
    (
        "k8s: a pod running as default with its token",
        "kubernetes-default-service-account",
        [rec(POD, {"spec": {"containers": []}})],
        1,
    ),
    (
        "k8s: deprecated serviceAccount alias naming default",
        "kubernetes-default-service-account",
        [rec(DEPLOYMENT, pod({"serviceAccount": "default", "containers": []}))],
        1,
    ),
    (
        "k8s: default ServiceAccount without automount",
        "kubernetes-default-service-account",
        [rec(SA, {"metadata": {"name": "default"}, "automountServiceAccountToken": False})],
        0,
    ),
    (
        "k8s: default ServiceAccount automounting",
        "kubernetes-default-service-account",
        [rec(SA, {"metadata": {"name": "default"}})],
        1,
    ),
    (
        "k8s: a pod leaving automount to its namespace's default ServiceAccount, which disables it",
        "kubernetes-default-service-account",
        [
            rec(DEPLOYMENT, {**pod({"containers": []}), "metadata": {"namespace": "trading"}}),
            rec(
                f"{SA}Patch",
                {
                    "metadata": {"name": "default", "namespace": "trading"},
                    "automountServiceAccountToken": False,
                },
            ),
        ],
        0,
    ),
    (
        "k8s: the default ServiceAccount of a List disables automount (no namespace: the default)",
        "kubernetes-default-service-account",
        [
            rec(POD, {"spec": {"containers": []}}),
            rec(
                f"{SA}List",
                {
                    "items": [
                        {
                            "metadata": {"name": "default"},
                            "automountServiceAccountToken": env(False),
                        }
                    ]
                },
            ),
        ],
        0,
    ),
    (
        "k8s: ConfigGroup objects: a pod and its namespace's default ServiceAccount without automount",
        "kubernetes-default-service-account",
        [
            rec(
                "kubernetes:yaml/v2:ConfigGroup",
                {
                    "objs": [
                        {
                            "apiVersion": "v1",
                            "kind": "ServiceAccount",
                            "metadata": {"name": "default", "namespace": "trading"},
                            "automountServiceAccountToken": False,
                        },
                        {
                            "apiVersion": "batch/v1",
                            "kind": "CronJob",
                            "metadata": {"name": "report", "namespace": "trading"},
                            "spec": {"jobTemplate": {"spec": {"template": {"spec": {}}}}},
                        },
                    ]
                },
            )
        ],
        0,
    ),
    (
        "k8s: the pod's own automount: true wins over the default ServiceAccount's false",
        "kubernetes-default-service-account",
        [
            rec(POD, {"spec": {"automountServiceAccountToken": True, "containers": []}}),
            rec(SA, {"metadata": {"name": "default"}, "automountServiceAccountToken": False}),
        ],
        1,
    ),
    (
        "k8s: a default ServiceAccount disabling automount in a namespace unknown at preview",
        "kubernetes-default-service-account",
        [
            rec(DEPLOYMENT, {**pod({"containers": []}), "metadata": {"namespace": "trading"}}),
            rec(
                SA,
                {
                    "metadata": {"name": "default", "namespace": UNKNOWN},
                    "automountServiceAccountToken": False,
                },
            ),
        ],
        0,
    ),
    (
        "k8s: the default ServiceAccount of another namespace disables automount",
        "kubernetes-default-service-account",
        [
            rec(DEPLOYMENT, {**pod({"containers": []}), "metadata": {"namespace": "trading"}}),
            rec(
                SA,
                {
                    "metadata": {"name": "default", "namespace": "ops"},
                    "automountServiceAccountToken": False,
                },
            ),
        ],
        1,
    ),
    (
        "k8s: ConfigGroup objects: a CronJob running as default, its ServiceAccount automounting",
        "kubernetes-default-service-account",
        [
            rec(
                "kubernetes:yaml/v2:ConfigGroup",
                {
                    "objs": [
                        {
                            "apiVersion": "batch/v1",
                            "kind": "CronJob",
                            "metadata": {"name": "report"},
                            "spec": {"jobTemplate": {"spec": {"template": {"spec": {}}}}},
                        },
                    ]
                },
            )
        ],
        1,
    ),
    (
        "k8s: a binding naming the default service account by its user name",
        "kubernetes-default-service-account",
        [
            rec(
                BINDING,
                {
                    "subjects": [{"kind": "User", "name": "system:serviceaccount:trading:default"}],
                    "roleRef": {},
                },
            )
        ],
        1,
    ),
    (
        "k8s: a binding naming another service account by its user name",
        "kubernetes-default-service-account",
        [
            rec(
                BINDING,
                {
                    "subjects": [
                        {"kind": "User", "name": "system:serviceaccount:trading:default-reader"}
                    ],
                    "roleRef": {},
                },
            )
        ],
        0,
    ),
    (
        "k8s: a binding to a named service account",
        "kubernetes-default-service-account",
        [rec(BINDING, {"subjects": [{"kind": "ServiceAccount", "name": "trader"}], "roleRef": {}})],
        0,
    ),
    (
        "k8s: a binding to the default service account",
        "kubernetes-default-service-account",
        [
            rec(
                BINDING,
                {
                    "subjects": [
                        {"kind": "ServiceAccount", "name": "default", "namespace": "trading"}
                    ],
                    "roleRef": {},
                },
            )
        ],
        1,
    ),
]
