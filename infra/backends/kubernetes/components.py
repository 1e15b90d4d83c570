"""The Kubernetes adapter: component resources that deliver the estate's secrets to workloads.

``neural-trader:kubernetes:KubernetesDelivery`` holds the namespace and one
``neural-trader:kubernetes:WorkloadDelivery`` per workload role (service account, SecretStores,
ExternalSecret, Role, RoleBinding), every child parented to its component. The manifests are
``documents.py``'s, declared as they are; nothing here holds a secret value (ESO reads the values
from the stores inside the cluster, never through Pulumi).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi_kubernetes.apiextensions import CustomResource
from pulumi_kubernetes.batch.v1 import CronJob
from pulumi_kubernetes.core.v1 import Namespace, ServiceAccount
from pulumi_kubernetes.meta.v1 import ObjectMetaArgs
from pulumi_kubernetes.rbac.v1 import (
    PolicyRuleArgs,
    Role,
    RoleBinding,
    RoleRefArgs,
    SubjectArgs,
)

from infra.access import RoleName
from infra.backends import RotationJob, Upstream, kubernetes_readable, rotation_jobs
from infra.backends.kubernetes import documents
from infra.backends.kubernetes.settings import KubernetesSettings
from infra.estate import Estate


def _meta(manifest: Mapping[str, Any]) -> ObjectMetaArgs:
    meta = manifest["metadata"]
    return ObjectMetaArgs(
        name=meta["name"],
        namespace=meta.get("namespace"),
        labels=meta.get("labels"),
        annotations=meta.get("annotations"),
    )


def _custom(name: str, manifest: Mapping[str, Any], opts: pulumi.ResourceOptions) -> CustomResource:
    return CustomResource(
        name,
        api_version=manifest["apiVersion"],
        kind=manifest["kind"],
        metadata=_meta(manifest),
        spec=manifest["spec"],
        opts=opts,
    )


def wiring(
    store: str, estate: Estate, upstream: Upstream, settings: KubernetesSettings
) -> dict[str | None, documents.StoreWiring]:
    """What the SecretStores of ``store`` need from it: one wiring per partition the store
    reports (Azure: per Key Vault holding a secret; others: one, under None). The store says
    where it is reached; the GKE cluster, for GCP, is this backend's own setting."""
    gke = settings.gke if store == "gcp" else None
    cluster = (gke.project, gke.location, gke.name) if gke is not None else None
    addresses = kubernetes_readable(upstream.backend).store_addresses(
        estate, upstream.block, upstream.exports
    )
    return {
        partition: documents.StoreWiring(
            address=a.address,
            path=a.path,
            auth_mount=a.auth_mount,
            audience=a.audience,
            cluster=cluster,
        )
        for partition, a in addresses.items()
    }


def remotes(
    estate: Estate, role: RoleName, upstream: Mapping[str, Upstream]
) -> dict[str, documents.RemoteSecret]:
    """Catalog name -> where the workload reads each secret its role reads: its home store, as
    that store names it (the store answers for its own view of the estate)."""
    delivered = documents.delivered(estate, role)
    out: dict[str, documents.RemoteSecret] = {}
    keys: dict[str, Mapping[str, tuple[str | None, str]]] = {}
    for secret in delivered:
        home = upstream[secret.home]
        if secret.home not in keys:
            keys[secret.home] = kubernetes_readable(home.backend).remote_keys(
                estate.held_by(secret.home), home.block
            )
        partition, key = keys[secret.home][secret.name]
        out[secret.name] = documents.RemoteSecret(secret.home, partition, key)
    return out


def _lets_in(up: Upstream, role: RoleName, namespace: str, account: str) -> bool:
    """Whether the store ``up`` lets the service account ``namespace/account`` in for ``role``."""
    problems = kubernetes_readable(up.backend).kubernetes_login_problems(
        up.block, role, namespace, account
    )
    return not any(True for _ in problems)


def identity_annotations(
    estate: Estate, role: RoleName, upstream: Mapping[str, Upstream], ns: str, account: str
) -> dict[str, Any]:
    """The service account's cloud identities, from the stores deployed before (only those that
    trust exactly this service account)."""
    out: dict[str, Any] = {}
    # The role's ARN and GCP member are the backends' pure identities (known before anything
    # exists); whether they trust this service account, the stores say (KubernetesReadable).
    aws = upstream.get("aws")
    if aws is not None and _lets_in(aws, role, ns, account):
        arn = aws.backend.identities(estate.held_by("aws"), aws.block).get(role)
        if arn is not None:
            out[documents.IRSA_ANNOTATION] = arn
    gcp = upstream.get("gcp")
    if gcp is not None and _lets_in(gcp, role, ns, account):
        member = gcp.backend.identities(estate.held_by("gcp"), gcp.block).get(role)
        if member is not None:
            out[documents.GKE_ANNOTATION] = member.removeprefix("serviceAccount:")
    azure = upstream.get("azure")
    if azure is not None:
        client_id = azure.exports.get("clientIds", {}).get(role)
        if client_id is not None:
            out[documents.AZURE_ANNOTATION] = client_id
    return out


class WorkloadDelivery(pulumi.ComponentResource):
    """One workload role: its service account, a SecretStore per store, its ExternalSecret, and
    get on its one Secret by name."""

    def __init__(
        self,
        name: str,
        role: RoleName,
        estate: Estate,
        settings: KubernetesSettings,
        upstream: Mapping[str, Upstream],
        ns: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("neural-trader:kubernetes:WorkloadDelivery", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        account_name = settings.account(role)
        self.manifests: list[dict[str, Any]] = []
        sa = documents.service_account(
            estate,
            role,
            ns,
            account_name,
            identity_annotations(estate, role, upstream, ns, account_name),
        )
        account = ServiceAccount(
            f"{name}-account",
            metadata=_meta(sa),
            automount_service_account_token=sa["automountServiceAccountToken"],
            opts=child,
        )
        after_account = pulumi.ResourceOptions(parent=self, depends_on=[account])
        self.stores: dict[str, CustomResource] = {}
        wanted = remotes(estate, role, upstream)
        needed = {(r.store, r.partition) for r in wanted.values()}
        for store in settings.stores:
            if store not in upstream or not any(s == store for s, _ in needed):
                continue
            view = estate.held_by(store)
            for partition, wired in wiring(store, view, upstream[store], settings).items():
                if (store, partition) not in needed:
                    continue
                manifest = documents.secret_store(
                    estate, store, role, ns, account_name, wired, partition
                )
                store_id = documents.store_name(store, role, partition)
                self.stores[store_id] = _custom(
                    f"{name}-{store_id.removesuffix('-' + role)}-store", manifest, after_account
                )
                self.manifests.append(manifest)
        es = documents.external_secret(estate, role, ns, wanted, settings)
        self.external_secret = _custom(
            f"{name}-external-secret",
            es,
            pulumi.ResourceOptions(parent=self, depends_on=list(self.stores.values())),
        )
        reader = documents.reader_role(estate, role, ns)
        rule = reader["rules"][0]
        role_resource = Role(
            f"{name}-reader",
            metadata=_meta(reader),
            rules=[
                PolicyRuleArgs(
                    api_groups=rule["apiGroups"],
                    resources=rule["resources"],
                    resource_names=rule["resourceNames"],
                    verbs=rule["verbs"],
                )
            ],
            opts=child,
        )
        binding = documents.reader_binding(estate, role, ns, account_name)
        RoleBinding(
            f"{name}-reader-binding",
            metadata=_meta(binding),
            role_ref=RoleRefArgs(
                api_group=binding["roleRef"]["apiGroup"],
                kind=binding["roleRef"]["kind"],
                name=binding["roleRef"]["name"],
            ),
            subjects=[SubjectArgs(**s) for s in binding["subjects"]],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role_resource, account]),
        )
        self.manifests += [sa, es, reader, binding]
        self.register_outputs(
            {"serviceAccount": account_name, "secret": documents.target_secret(role)}
        )


class RotationJobDelivery(pulumi.ComponentResource):
    """A store's rotation job (``rotation_jobs``): its own service account and the CronJob."""

    def __init__(
        self,
        name: str,
        estate: Estate,
        job: RotationJob,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("neural-trader:kubernetes:RotationJob", name, None, opts)
        sa = documents.rotation_service_account(estate, job)
        account = ServiceAccount(
            f"{name}-account",
            metadata=_meta(sa),
            automount_service_account_token=sa["automountServiceAccountToken"],
            opts=pulumi.ResourceOptions(parent=self),
        )
        manifest = documents.cron_job(estate, job)
        self.cron_job = CronJob(
            f"{name}-cronjob",
            metadata=_meta(manifest),
            spec=manifest["spec"],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[account]),
        )
        self.manifests = [sa, manifest]
        self.register_outputs({"cronJob": f"{job.namespace}/{job.name}"})


class KubernetesDelivery(pulumi.ComponentResource):
    """The whole delivery of one environment (the backend's top-level component)."""

    exports: dict[str, Any]

    def __init__(
        self,
        name: str,
        estate: Estate,
        settings: KubernetesSettings,
        upstream: Mapping[str, Upstream],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("neural-trader:kubernetes:KubernetesDelivery", name, None, opts)
        ns = settings.namespace_for(estate.environment)
        child = pulumi.ResourceOptions(parent=self)
        after: list[pulumi.Resource] = []
        if settings.create_namespace:
            manifest = documents.namespace(estate, ns)
            after.append(
                Namespace(
                    f"{name}-namespace",
                    metadata=_meta(manifest),
                    opts=pulumi.ResourceOptions(parent=self, protect=estate.protected),
                )
            )
        self.workloads: dict[RoleName, WorkloadDelivery] = {}
        for role in settings.roles():
            if not documents.delivered(estate, role):
                pulumi.log.warn(
                    f"kubernetes: {role} reads no secret in {estate.environment.value}; "
                    "no service account, store or ExternalSecret for it"
                )
                continue
            self.workloads[role] = WorkloadDelivery(
                role,
                role,
                estate,
                settings,
                upstream,
                ns,
                opts=pulumi.ResourceOptions(parent=self, depends_on=after) if after else child,
            )
        # Each source store's rotation jobs (a store answers ``rotation_jobs``; Vault: its CronJob).
        self.rotation_jobs: dict[str, RotationJob] = {}
        namespaces = {ns: after}
        for store in settings.stores:
            up = upstream.get(store)
            if up is None:
                continue
            for job in rotation_jobs(up.backend, estate.held_by(store), up.block):
                if job.namespace not in namespaces:
                    namespaces[job.namespace] = []
                    if settings.create_namespace:
                        manifest = documents.namespace(estate, job.namespace)
                        namespaces[job.namespace].append(
                            Namespace(
                                f"{name}-{job.namespace}-namespace",
                                metadata=_meta(manifest),
                                opts=pulumi.ResourceOptions(parent=self, protect=estate.protected),
                            )
                        )
                self.rotation_jobs[store] = job
                RotationJobDelivery(
                    job.name,
                    estate,
                    job,
                    opts=pulumi.ResourceOptions(parent=self, depends_on=namespaces[job.namespace]),
                )
        delivered_names = {s.name for r in self.workloads for s in documents.delivered(estate, r)}
        self.exports = {
            "secrets": documents.locations(estate, settings),
            "identities": {
                r: documents.service_account_user(ns, settings.account(r)) for r in self.workloads
            },
            "namespace": ns,
            "homes": {s.name: s.home for s in estate.secrets if s.name in delivered_names},
            "secretStores": {r: sorted(w.stores) for r, w in self.workloads.items()},
            "targetSecrets": {r: documents.target_secret(r) for r in self.workloads},
        }
        if self.rotation_jobs:
            self.exports["rotationJobs"] = {
                store: {
                    "cronJob": f"{job.namespace}/{job.name}",
                    "serviceAccount": documents.service_account_user(
                        job.namespace, job.service_account
                    ),
                    "schedule": job.schedule,
                    "secrets": list(job.secrets),
                }
                for store, job in self.rotation_jobs.items()
            }
        self.register_outputs(self.exports)
