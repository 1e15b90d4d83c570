"""The Kubernetes estate as plain manifests: names, the namespace, service accounts, External
Secrets' SecretStores and ExternalSecrets, and the get-by-name RBAC of each workload.

Pure data (no Pulumi imports): every function returns a manifest (``apiVersion``, ``kind``,
``metadata``, the kind's fields) that ``components.py`` declares as it is and that the tests
validate against Kubernetes' and ESO's schemas. Values a source store only knows once deployed
(an IAM role ARN, a client id) are passed in as they come (they may be Pulumi outputs).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from infra.access import Action, RoleName
from infra.backends import RotationJob
from infra.backends.kubernetes.settings import KubernetesSettings
from infra.estate import Estate, StoredSecret

ESO_API = "external-secrets.io/v1"
RBAC_API = "rbac.authorization.k8s.io/v1"
#: The annotations that tie a service account to a cloud identity.
IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"
GKE_ANNOTATION = "iam.gke.io/gcp-service-account"
AZURE_ANNOTATION = "azure.workload.identity/client-id"
#: Stakater Reloader: a Secret so annotated restarts the workloads that opt in with
#: ``reloader.stakater.com/search: "true"`` and mount it.
RELOADER_MATCH = "reloader.stakater.com/match"
#: The key every Vault KV secret of the project keeps its value under.
VAULT_PROPERTY = "value"
#: Where a workload mounts its Secret (docs/kubernetes.md).
MOUNT_PATH = "/var/run/secrets/neural-trader"


def target_secret(role: RoleName) -> str:
    """The Secret ESO materialises for a workload: deterministic, so RBAC can name it."""
    return f"neural-trader-{role}"


def external_secret_name(role: RoleName) -> str:
    return f"{role}-secrets"


def store_name(store: str, role: RoleName, partition: str | None = None) -> str:
    """A SecretStore's name: ``<store>-<role>``, or ``azure-<vault>-<role>`` for each Key Vault
    of a partitioned Azure estate."""
    return f"{store}-{partition}-{role}" if partition else f"{store}-{role}"


def reader_name(role: RoleName) -> str:
    return f"{role}-secret-reader"


def service_account_user(namespace: str, account: str) -> str:
    """How the API server names a service account when it authorizes it."""
    return f"system:serviceaccount:{namespace}:{account}"


def delivered(estate: Estate, role: RoleName) -> tuple[StoredSecret, ...]:
    """The secrets a workload role reads in this environment (revoked ones are not delivered)."""
    return tuple(
        s
        for s in estate.secrets
        if Action.READ in s.grants.get(role, frozenset()) and not s.revoked
    )


def refresh_minutes(estate: Estate, role: RoleName, settings: KubernetesSettings) -> int:
    """How often ESO re-reads a workload's secrets: the setting, but never more than 1/24 of the
    shortest rotation period among them (a rotated value reaches the pods within an hour of a
    daily rotation, within a day of a 24-day one)."""
    periods = [s.rotation.period_days for s in delivered(estate, role) if s.rotation is not None]
    limit = min(periods) * 60 if periods else settings.refresh_minutes
    return max(1, min(settings.refresh_minutes, limit))


def _labels(estate: Estate, role: RoleName | None = None) -> dict[str, str]:
    labels = {
        "app.kubernetes.io/part-of": "neural-trader",
        "app.kubernetes.io/managed-by": "pulumi",
        "neural-trader.io/environment": estate.environment.value,
    }
    if role is not None:
        labels["neural-trader.io/role"] = role
    return labels


def _meta(
    name: str, namespace: str | None, labels: Mapping[str, str], **extra: Any
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": dict(labels)}
    if namespace is not None:
        meta["namespace"] = namespace
    meta.update({k: v for k, v in extra.items() if v})
    return meta


def namespace(estate: Estate, name: str) -> dict[str, Any]:
    """The workloads' namespace, held to the restricted Pod Security Standard."""
    labels = {
        **_labels(estate),
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/warn": "restricted",
    }
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(name, None, labels)}


def service_account(
    estate: Estate, role: RoleName, ns: str, name: str, annotations: Mapping[str, Any]
) -> dict[str, Any]:
    """A workload's service account: no token mounted into its pods (ESO asks the API server for
    short-lived tokens of it through TokenRequest; an application that calls an API itself
    mounts a projected token with an audience, docs/kubernetes.md)."""
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": _meta(name, ns, _labels(estate, role), annotations=dict(annotations)),
        "automountServiceAccountToken": False,
    }


@dataclass(frozen=True)
class StoreWiring:
    """What a SecretStore needs from its source store (values may be Pulumi outputs)."""

    #: aws: the region; vault: the server address; gcp: the project; azure: the vault URL.
    address: Any
    #: vault: the KV v2 mount; others unused.
    path: Any = None
    #: vault: the Kubernetes auth mount and the JWT audience of the tokens.
    auth_mount: str | None = None
    audience: str | None = None
    #: gcp: the GKE cluster (project, location, name), if given.
    cluster: tuple[str, str, str] | None = None


def _provider(store: str, role: RoleName, account: str, wiring: StoreWiring) -> dict[str, Any]:
    ref: dict[str, Any] = {"name": account}
    if store == "aws":
        return {
            "aws": {
                "service": "SecretsManager",
                "region": wiring.address,
                "auth": {"jwt": {"serviceAccountRef": ref}},
            }
        }
    if store == "vault":
        if wiring.audience:
            ref["audiences"] = [wiring.audience]
        return {
            "vault": {
                "server": wiring.address,
                "path": wiring.path,
                "version": "v2",
                "auth": {
                    "kubernetes": {
                        "mountPath": wiring.auth_mount,
                        "role": role,
                        "serviceAccountRef": ref,
                    }
                },
            }
        }
    if store == "gcp":
        identity: dict[str, Any] = {"serviceAccountRef": ref}
        if wiring.cluster is not None:
            project, location, cluster = wiring.cluster
            identity.update(clusterProjectID=project, clusterLocation=location, clusterName=cluster)
        return {"gcpsm": {"projectID": wiring.address, "auth": {"workloadIdentity": identity}}}
    if store == "azure":
        return {
            "azurekv": {
                "authType": "WorkloadIdentity",
                "vaultUrl": wiring.address,
                "serviceAccountRef": ref,
            }
        }
    raise ValueError(f"no SecretStore for store {store!r}")


def secret_store(
    estate: Estate,
    store: str,
    role: RoleName,
    ns: str,
    account: str,
    wiring: StoreWiring,
    partition: str | None = None,
) -> dict[str, Any]:
    """A namespaced SecretStore: ``store`` as ``role``'s service account reaches it."""
    return {
        "apiVersion": ESO_API,
        "kind": "SecretStore",
        "metadata": _meta(store_name(store, role, partition), ns, _labels(estate, role)),
        "spec": {"provider": _provider(store, role, account, wiring)},
    }


def remote_ref(store: str, key: Any) -> dict[str, Any]:
    """Where ESO reads one secret in ``store`` (``key``: the store's name for it)."""
    ref: dict[str, Any] = {"key": key}
    if store == "vault":
        ref["property"] = VAULT_PROPERTY
    return ref


@dataclass(frozen=True)
class RemoteSecret:
    """Where ESO reads one secret: its home store, the store's partition holding it (Azure: the
    Key Vault; None elsewhere) and the store's own name for it (may be a Pulumi output)."""

    store: str
    partition: str | None
    key: Any


def external_secret(
    estate: Estate,
    role: RoleName,
    ns: str,
    remotes: Mapping[str, RemoteSecret],
    settings: KubernetesSettings,
) -> dict[str, Any]:
    """A workload's ExternalSecret: exactly the secrets its role reads (``remotes``: catalog name
    -> where it lives), into one Secret owned by ESO. Each entry reads its secret's home store
    through that store's SecretStore (``sourceRef``; the most used store is the default)."""
    stores = {name: store_name(r.store, role, r.partition) for name, r in remotes.items()}
    counts: dict[str, int] = {}
    for store in stores.values():
        counts[store] = counts.get(store, 0) + 1
    default = (
        min(counts, key=lambda s: (-counts[s], s)) if counts else store_name("none", role, None)
    )

    def entry(name: str, remote: RemoteSecret) -> dict[str, Any]:
        out: dict[str, Any] = {
            "secretKey": name,
            "remoteRef": remote_ref(remote.store, remote.key),
        }
        if stores[name] != default:
            out["sourceRef"] = {"storeRef": {"kind": "SecretStore", "name": stores[name]}}
        return out

    annotations = {RELOADER_MATCH: "true"} if settings.reloader == "stakater" else {}
    template_meta: dict[str, Any] = {"labels": _labels(estate, role)}
    if annotations:
        template_meta["annotations"] = annotations
    return {
        "apiVersion": ESO_API,
        "kind": "ExternalSecret",
        "metadata": _meta(external_secret_name(role), ns, _labels(estate, role)),
        "spec": {
            "refreshInterval": f"{refresh_minutes(estate, role, settings)}m",
            "secretStoreRef": {"kind": "SecretStore", "name": default},
            "target": {
                "name": target_secret(role),
                "creationPolicy": "Owner",
                "deletionPolicy": "Retain",
                "template": {"engineVersion": "v2", "metadata": template_meta},
            },
            "data": [entry(name, remote) for name, remote in sorted(remotes.items())],
        },
    }


def reader_role(estate: Estate, role: RoleName, ns: str) -> dict[str, Any]:
    """``get`` on exactly the workload's Secret, nothing else (no list/watch, no wildcard)."""
    return {
        "apiVersion": RBAC_API,
        "kind": "Role",
        "metadata": _meta(reader_name(role), ns, _labels(estate, role)),
        "rules": [
            {
                "apiGroups": [""],
                "resources": ["secrets"],
                "resourceNames": [target_secret(role)],
                "verbs": ["get"],
            }
        ],
    }


def reader_binding(estate: Estate, role: RoleName, ns: str, account: str) -> dict[str, Any]:
    return {
        "apiVersion": RBAC_API,
        "kind": "RoleBinding",
        "metadata": _meta(reader_name(role), ns, _labels(estate, role)),
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "Role",
            "name": reader_name(role),
        },
        "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": ns}],
    }


def locations(estate: Estate, settings: KubernetesSettings) -> dict[str, str]:
    """Catalog name -> where a pod finds it: ``k8s://<namespace>/<secret>#<key>`` (the first
    workload role that reads it)."""
    ns = settings.namespace_for(estate.environment)
    out: dict[str, str] = {}
    for role in settings.roles():
        for s in delivered(estate, role):
            out.setdefault(s.name, f"k8s://{ns}/{target_secret(role)}#{s.name}")
    return out


# ---- rotation jobs a store asks the cluster to run ------------------------------------------------

#: The unprivileged user the rotation container runs as (the distroless "nonroot" uid).
ROTATION_UID = 65532
#: How long a projected token lives (the kubelet refreshes it at 80 %); the job logs in once.
ROTATION_TOKEN_SECONDS = 600
ROTATION_TOKEN_VOLUME = "store-token"  # noqa: S105 (a volume name)


def _rotation_labels(estate: Estate, job: RotationJob) -> dict[str, str]:
    return {
        **_labels(estate),
        "app.kubernetes.io/name": job.name,
        "app.kubernetes.io/component": "secret-rotation",
        "neural-trader.io/store": job.store,
    }


def rotation_service_account(estate: Estate, job: RotationJob) -> dict[str, Any]:
    """The job's own service account: no token mounted by default (the pod mounts one projected
    token, for the store's audience only)."""
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": _meta(job.service_account, job.namespace, _rotation_labels(estate, job)),
        "automountServiceAccountToken": False,
    }


def cron_job(estate: Estate, job: RotationJob) -> dict[str, Any]:
    """The store's rotation as a CronJob held to the restricted Pod Security Standard: non-root,
    no privilege escalation, every capability dropped, the runtime's seccomp profile, a read-only
    root filesystem (``/tmp`` an emptyDir), one projected token for the store's audience, never
    two runs at once, bounded retries and run time. Its environment names secrets, never holds
    one (the job reads and writes the store with its own identity)."""
    token_dir, _, token_file = job.token_path.rpartition("/")
    labels = _rotation_labels(estate, job)
    container = {
        "name": "rotation",
        "image": job.image,
        "imagePullPolicy": "IfNotPresent",
        "command": list(job.command),
        "env": [
            {"name": "PYTHONDONTWRITEBYTECODE", "value": "1"},
            *({"name": k, "value": v} for k, v in sorted(job.env.items())),
        ],
        "resources": {
            "requests": {"cpu": "50m", "memory": "128Mi"},
            "limits": {"cpu": "500m", "memory": "256Mi"},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "volumeMounts": [
            {"name": ROTATION_TOKEN_VOLUME, "mountPath": token_dir, "readOnly": True},
            {"name": "tmp", "mountPath": "/tmp"},  # noqa: S108 (the container's own emptyDir)
        ],
    }
    pod = {
        "serviceAccountName": job.service_account,
        "automountServiceAccountToken": False,
        "restartPolicy": "Never",
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": ROTATION_UID,
            "runAsGroup": ROTATION_UID,
            "fsGroup": ROTATION_UID,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [container],
        "volumes": [
            {
                "name": ROTATION_TOKEN_VOLUME,
                "projected": {
                    "defaultMode": 0o440,
                    "sources": [
                        {
                            "serviceAccountToken": {
                                "audience": job.token_audience,
                                "expirationSeconds": ROTATION_TOKEN_SECONDS,
                                "path": token_file,
                            }
                        }
                    ],
                },
            },
            {"name": "tmp", "emptyDir": {"sizeLimit": "16Mi"}},
        ],
    }
    spec: dict[str, Any] = {
        "schedule": job.schedule,
        "concurrencyPolicy": "Forbid",
        "startingDeadlineSeconds": 3600,
        "successfulJobsHistoryLimit": 3,
        "failedJobsHistoryLimit": 3,
        "jobTemplate": {
            "metadata": {"labels": labels},
            "spec": {
                "backoffLimit": 2,
                "activeDeadlineSeconds": 1800,
                "ttlSecondsAfterFinished": 7 * 86400,
                "template": {"metadata": {"labels": labels}, "spec": pod},
            },
        },
    }
    if job.time_zone:
        spec["timeZone"] = job.time_zone
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": _meta(job.name, job.namespace, labels),
        "spec": spec,
    }
