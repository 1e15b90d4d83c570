"""The GCP adapter: component resources that translate the estate into Google Cloud.

One ComponentResource per concern (type tokens ``neural-trader:gcp:<Name>``), every child parented
to its component. Every question of policy (which secrets, who may do what, how each is rotated and
valued) is answered by the estate (``infra/estate.py``); the adapter only knows how Google Cloud
spells it (``documents.py``: names and grants; ``labels.py``: labels).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_gcp as gcp

from infra.backends.gcp import documents
from infra.backends.gcp.labels import gcp_annotations, gcp_labels
from infra.backends.gcp.rotation import RotationFunction
from infra.backends.gcp.settings import WORKLOAD_ROLES, GcpSettings
from infra.backends.values import SecretValues
from infra.estate import Estate
from infra.rotation.driver import BOOKKEEPING_KEYS as ROTATION_BOOKKEEPING
from policies.contract.vocabulary import (
    CONFIDENTIAL,
    RESTRICTED,
    TAG_CLASSIFICATION,
    TAG_ENVIRONMENT,
)

#: Short names of the granted roles, for logical names.
_ROLE_SUFFIX: Mapping[str, str] = {
    documents.SECRET_ACCESSOR: "accessor",
    documents.SECRET_VERSION_ADDER: "version-adder",
    documents.SECRET_VERSION_MANAGER: "version-manager",
    documents.SECRET_VIEWER: "viewer",
    documents.SECRET_ADMIN: "admin",
}


def _labels(estate: Estate, **extra: str) -> dict[str, str]:
    return gcp_labels({TAG_ENVIRONMENT: estate.environment.value}, **extra)


class ServiceAgents(pulumi.ComponentResource):
    """The Google-managed service agents that use the keys: Secret Manager's (it encrypts replicas
    and publishes rotation notices) and Pub/Sub's (it encrypts the rotation topic's messages)."""

    secret_manager: gcp.projects.ServiceIdentity
    pubsub: gcp.projects.ServiceIdentity

    def __init__(
        self, name: str, settings: GcpSettings, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("neural-trader:gcp:ServiceAgents", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.secret_manager = gcp.projects.ServiceIdentity(
            "secret-manager",
            project=settings.project,
            service=documents.SECRET_MANAGER_API,
            opts=child,
        )
        self.pubsub = gcp.projects.ServiceIdentity(
            "pubsub", project=settings.project, service=documents.PUBSUB_API, opts=child
        )
        self.register_outputs(
            {"secretManager": self.secret_manager.member, "pubsub": self.pubsub.member}
        )


class EncryptionKeys(pulumi.ComponentResource):
    """Per replica location a key ring and one symmetric key (rotated at most every 90 days,
    destroyed versions recoverable for ``destroyScheduledDays``), which the Secret Manager service
    agent may use and nobody else is granted here. The rotation topic's key (first location) is
    also granted to the Pub/Sub service agent."""

    keys: dict[str, gcp.kms.CryptoKey]
    grants: list[gcp.kms.CryptoKeyIAMMember]

    def __init__(
        self,
        name: str,
        estate: Estate,
        settings: GcpSettings,
        agents: ServiceAgents,
        *,
        topic_key: bool,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("neural-trader:gcp:EncryptionKeys", name, None, opts)
        env = estate.environment
        self.keys = {}
        self.grants = []
        labels = _labels(estate, **{TAG_CLASSIFICATION: RESTRICTED})
        for location in settings.locations:
            ring = gcp.kms.KeyRing(
                f"{name}-{location}",
                name=documents.key_ring_name(settings.secret_prefix, env),
                location=location,
                project=settings.project,
                opts=pulumi.ResourceOptions(parent=self, protect=estate.protected),
            )
            key = gcp.kms.CryptoKey(
                f"{name}-{location}-secrets",
                name=documents.KEY_NAME,
                key_ring=ring.id,
                purpose="ENCRYPT_DECRYPT",
                rotation_period=documents.seconds(settings.kms.rotation_days),
                destroy_scheduled_duration=documents.seconds(settings.kms.destroy_scheduled_days),
                version_template={
                    "algorithm": "GOOGLE_SYMMETRIC_ENCRYPTION",
                    "protection_level": settings.kms.protection_level,
                },
                labels=labels,
                opts=pulumi.ResourceOptions(parent=ring, protect=estate.protected),
            )
            self.keys[location] = key
            self.grants.append(
                gcp.kms.CryptoKeyIAMMember(
                    f"{name}-{location}-secret-manager",
                    crypto_key_id=key.id,
                    role=documents.KMS_ENCRYPTER_DECRYPTER,
                    member=agents.secret_manager.member,
                    opts=pulumi.ResourceOptions(parent=key),
                )
            )
        if topic_key:
            first = settings.locations[0]
            self.grants.append(
                gcp.kms.CryptoKeyIAMMember(
                    f"{name}-{first}-pubsub",
                    crypto_key_id=self.keys[first].id,
                    role=documents.KMS_ENCRYPTER_DECRYPTER,
                    member=agents.pubsub.member,
                    opts=pulumi.ResourceOptions(parent=self.keys[first]),
                )
            )
        self.register_outputs({"keys": {loc: k.id for loc, k in self.keys.items()}})


class RotationNotices(pulumi.ComponentResource):
    """Where Secret Manager announces that a secret is due (``SECRET_ROTATE``) or changed: a
    CMEK-encrypted topic only the Secret Manager service agent may publish to, one pull
    subscription of the rotation notices the configured subscribers may read, and, for the
    stack's notification e-mails, an alert when a notice waits unhandled. Nothing here rotates a
    value: a subscriber runs the rotation (README, "GCP")."""

    topic: gcp.pubsub.Topic
    publisher: gcp.pubsub.TopicIAMMember
    subscription: gcp.pubsub.Subscription

    def __init__(
        self,
        name: str,
        estate: Estate,
        settings: GcpSettings,
        agents: ServiceAgents,
        keys: EncryptionKeys,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("neural-trader:gcp:RotationNotices", name, None, opts)
        env = estate.environment
        first = settings.locations[0]
        topic_name = documents.topic_name(settings.secret_prefix, env)
        labels = _labels(estate, **{TAG_CLASSIFICATION: CONFIDENTIAL})
        self.topic = gcp.pubsub.Topic(
            f"{name}-topic",
            name=topic_name,
            project=settings.project,
            kms_key_name=documents.key_id(settings.project, first, settings.secret_prefix, env),
            message_storage_policy={"allowed_persistence_regions": [first]},
            labels=labels,
            opts=pulumi.ResourceOptions(
                parent=self, protect=estate.protected, depends_on=keys.grants
            ),
        )
        self.publisher = gcp.pubsub.TopicIAMMember(
            f"{name}-publisher",
            project=settings.project,
            topic=self.topic.name,
            role=documents.PUBSUB_PUBLISHER,
            member=agents.secret_manager.member,
            opts=pulumi.ResourceOptions(parent=self.topic),
        )
        self.subscription = gcp.pubsub.Subscription(
            f"{name}-subscription",
            name=topic_name,
            project=settings.project,
            topic=self.topic.id,
            # Rotation notices only; the topic also carries every other change of the secrets
            # (a second subscription can follow those).
            filter=f'attributes.eventType = "{documents.ROTATE_EVENT}"',
            ack_deadline_seconds=60,
            message_retention_duration=documents.seconds(7),
            retain_acked_messages=False,
            expiration_policy={"ttl": ""},  # never expires for inactivity
            labels=labels,
            opts=pulumi.ResourceOptions(parent=self.topic),
        )
        for i, member in enumerate(settings.rotation.subscribers):
            gcp.pubsub.SubscriptionIAMMember(
                f"{name}-subscriber-{i}",
                project=settings.project,
                subscription=self.subscription.name,
                role=documents.PUBSUB_SUBSCRIBER,
                member=member,
                opts=pulumi.ResourceOptions(parent=self.subscription),
            )
        # People are told by e-mail (notifications.emails) when a notice waits unhandled: the
        # subscription holds undelivered messages for five minutes.
        channels = [
            gcp.monitoring.NotificationChannel(
                f"{name}-email-{re.sub(r'[^a-z0-9]+', '-', address.lower()).strip('-')}",
                project=settings.project,
                type="email",
                display_name=f"neural-trader {env.value} rotation: {address}",
                labels={"email_address": address},
                opts=pulumi.ResourceOptions(parent=self),
            )
            for address in estate.notification_emails
        ]
        if channels:
            gcp.monitoring.AlertPolicy(
                f"{name}-due",
                project=settings.project,
                display_name=f"neural-trader {env.value}: a secret is due for rotation",
                combiner="OR",
                conditions=[
                    {
                        "display_name": "rotation notice not handled",
                        "condition_threshold": {
                            "filter": (
                                'resource.type = "pubsub_subscription" AND '
                                f'resource.labels.subscription_id = "{topic_name}" AND '
                                'metric.type = "pubsub.googleapis.com/subscription/'
                                'num_undelivered_messages"'
                            ),
                            "comparison": "COMPARISON_GT",
                            "threshold_value": 0,
                            "duration": "300s",
                            "aggregations": [
                                {"alignment_period": "300s", "per_series_aligner": "ALIGN_MAX"}
                            ],
                        },
                    }
                ],
                notification_channels=[c.id for c in channels],
                documentation={
                    "mime_type": "text/markdown",
                    "content": (
                        f"A secret of neural-trader {env.value} is due for rotation. Pull the "
                        f"notice from the subscription {topic_name} (it names the secret), rotate "
                        "it as docs/rotation.md says, then acknowledge the message."
                    ),
                },
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.subscription]),
            )
        self.register_outputs({"topic": self.topic.id, "subscription": self.subscription.id})


class WorkloadIdentities(pulumi.ComponentResource):
    """The service accounts the settings ask to create for workload roles (no keys, ever), each
    bound, when configured, to exactly one Kubernetes service account through GKE workload
    identity."""

    accounts: dict[str, gcp.serviceaccount.Account]

    def __init__(
        self,
        name: str,
        estate: Estate,
        settings: GcpSettings,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("neural-trader:gcp:WorkloadIdentities", name, None, opts)
        env = estate.environment.value
        self.accounts = {}
        for role in WORKLOAD_ROLES:
            workload = settings.created(role)
            if workload is None:
                continue
            if not estate.roles[role].secrets:
                pulumi.log.warn(
                    f"gcp: {role} is granted nothing in {env}; its service account "
                    f"{workload.account_id} is not created"
                )
                continue
            account = gcp.serviceaccount.Account(
                role,
                account_id=workload.account_id,
                project=settings.project,
                display_name=workload.display_name or f"neural-trader {env} {role}",
                description=f"neural-trader {env}: {estate.roles[role].role.description}",
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.accounts[role] = account
            k8s = workload.kubernetes
            if k8s is not None:
                pool = k8s.project or settings.project
                email = settings.created_email(workload)
                gcp.serviceaccount.IAMMember(
                    f"{role}-workload-identity",
                    service_account_id=f"projects/{settings.project}/serviceAccounts/{email}",
                    role=documents.WORKLOAD_IDENTITY_USER,
                    member=f"serviceAccount:{pool}.svc.id.goog[{k8s.namespace}/{k8s.name}]",
                    opts=pulumi.ResourceOptions(parent=account, depends_on=[account]),
                )
        self.register_outputs({"accounts": {r: a.email for r, a in self.accounts.items()}})


class SecretStore(pulumi.ComponentResource):
    """One secret per stored secret of the estate: user-managed replicas each encrypted with its
    location's key, the contract's labels, destroyed versions recoverable for the recovery window,
    rotation notices on the class schedule, and a first version only where the infrastructure
    owns the value."""

    secrets: dict[str, gcp.secretmanager.Secret]

    def __init__(
        self,
        name: str,
        estate: Estate,
        settings: GcpSettings,
        keys: EncryptionKeys,
        notices: RotationNotices | None,
        values: SecretValues,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("neural-trader:gcp:SecretStore", name, None, opts)
        env = estate.environment
        prefix, project = settings.secret_prefix, settings.project
        # Keys by their resource names (known before they exist, so the plan shows which key
        # encrypts which replica); the dependency on the key grants below orders them.
        replicas: list[gcp.secretmanager.SecretReplicationUserManagedReplicaArgsDict] = [
            {
                "location": location,
                "customer_managed_encryption": {
                    "kms_key_name": documents.key_id(project, location, prefix, env)
                },
            }
            for location in settings.locations
        ]
        # Secret Manager checks at creation that its agent may use the keys and publish.
        ready: list[pulumi.Resource] = list(keys.grants)
        if notices is not None:
            ready += [notices.topic, notices.publisher]
        self.secrets = {}
        for stored in estate.secrets:
            labels = stored.labels()
            rotation: gcp.secretmanager.SecretRotationArgsDict | None = None
            topics: list[gcp.secretmanager.SecretTopicArgsDict] | None = None
            if stored.rotation is not None and estate.rotates(stored) and notices is not None:
                rotation = {
                    "rotation_period": documents.seconds(stored.rotation.period_days),
                    "next_rotation_time": documents.next_rotation_time(
                        settings, stored.rotation.period_days
                    ),
                }
                topics = [{"name": documents.topic_id(project, prefix, env)}]
            sid = documents.secret_id(stored.entry, env, prefix)
            secret = gcp.secretmanager.Secret(
                stored.logical_name,
                secret_id=sid,
                project=project,
                replication={"user_managed": {"replicas": replicas}},
                labels=gcp_labels(labels),
                annotations=gcp_annotations(labels) or None,
                version_destroy_ttl=documents.seconds(estate.recovery_window_days),
                deletion_protection=estate.protected,
                rotation=rotation,
                topics=topics,
                opts=pulumi.ResourceOptions(
                    parent=self,
                    protect=estate.protected,
                    depends_on=ready,
                    # After the first notice Secret Manager advances nextRotationTime itself:
                    # the anchor only sets the first one. The rotation function moves the
                    # version aliases and writes its bookkeeping annotations (gcp_store.py).
                    ignore_changes=[
                        *(["rotation.nextRotationTime"] if rotation else []),
                        "versionAliases",
                        *(f'annotations["{k}"]' for k in ROTATION_BOOKKEEPING),
                    ],
                ),
            )
            self.secrets[stored.name] = secret
            value = values.value(stored)
            if value is not None:
                gcp.secretmanager.SecretVersion(
                    f"{stored.logical_name}-value",
                    # The secret's resource name (its id once created), known at preview.
                    secret=documents.secret_name(project, sid),
                    secret_data=value,
                    opts=pulumi.ResourceOptions(parent=secret, depends_on=[secret]),
                )
        self.register_outputs({"secrets": {n: s.id for n, s in self.secrets.items()}})


class SecretAccess(pulumi.ComponentResource):
    """IAM on each secret, from the estate: readers Secret Accessor, writers Secret Version Adder,
    managers Secret Manager Admin, metadata-only roles Viewer, on that secret only. Nothing is
    granted on the project."""

    members: list[gcp.secretmanager.SecretIamMember]

    def __init__(
        self,
        name: str,
        estate: Estate,
        settings: GcpSettings,
        secrets: Mapping[str, gcp.secretmanager.Secret],
        created: Sequence[pulumi.Resource],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("neural-trader:gcp:SecretAccess", name, None, opts)
        self.members = []
        for role in estate.roles:
            if settings.member(role) is None and estate.roles[role].secrets:
                pulumi.log.warn(f"gcp role {role}: no identity in settings; nothing is granted")
        for secret_name, grants in documents.secret_grants(estate, settings).items():
            secret = secrets[secret_name]
            logical = estate.secret(secret_name).logical_name
            for role, iam_role, member in grants:
                self.members.append(
                    gcp.secretmanager.SecretIamMember(
                        f"{logical}-{role}-{_ROLE_SUFFIX[iam_role]}",
                        project=settings.project,
                        secret_id=secret.secret_id,
                        role=iam_role,
                        member=member,
                        opts=pulumi.ResourceOptions(parent=secret, depends_on=list(created)),
                    )
                )
        self.register_outputs({})


class AuditLogs(pulumi.ComponentResource):
    """Data-access audit logs for Secret Manager in the project: every payload read (DATA_READ),
    every version added or destroyed (DATA_WRITE) and every metadata or policy read (ADMIN_READ;
    admin writes are always logged), with nobody exempted."""

    config: gcp.projects.IAMAuditConfig

    def __init__(
        self, name: str, settings: GcpSettings, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("neural-trader:gcp:AuditLogs", name, None, opts)
        self.config = gcp.projects.IAMAuditConfig(
            f"{name}-secret-manager",
            project=settings.project,
            service=documents.SECRET_MANAGER_API,
            audit_log_configs=[{"log_type": t} for t in documents.AUDIT_LOG_TYPES],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"service": documents.SECRET_MANAGER_API})


class GcpSecrets(pulumi.ComponentResource):
    """The whole GCP estate of one environment (the backend's top-level component)."""

    exports: dict[str, Any]

    def __init__(
        self,
        name: str,
        estate: Estate,
        settings: GcpSettings,
        values: SecretValues,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("neural-trader:gcp:GcpSecrets", name, None, opts)
        # Credentials come from the deployer's environment (ADC), never from an input here.
        provider = gcp.Provider(
            f"{name}-provider",
            project=settings.project,
            region=settings.locations[0],
            default_labels={"project": "neural-trader", "managed-by": "pulumi"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        child = pulumi.ResourceOptions(parent=self, providers={"gcp": provider})
        rotated = bool(estate.rotated)
        agents = ServiceAgents("agents", settings, opts=child)
        self.keys = EncryptionKeys("kms", estate, settings, agents, topic_key=rotated, opts=child)
        self.notices: RotationNotices | None = None
        if rotated:
            self.notices = RotationNotices(
                "rotation", estate, settings, agents, self.keys, opts=child
            )
        self.workloads = WorkloadIdentities("workloads", estate, settings, opts=child)
        self.store = SecretStore(
            "secrets", estate, settings, self.keys, self.notices, values, opts=child
        )
        self.access = SecretAccess(
            "access",
            estate,
            settings,
            self.store.secrets,
            list(self.workloads.accounts.values()),
            opts=child,
        )
        self.audit = AuditLogs("audit", settings, opts=child)
        # The rotation owner of the secrets GCP is home to (infra/backends/gcp/rotation.py).
        self.rotation: RotationFunction | None = None
        if self.notices is not None and estate.rotated:
            self.rotation = RotationFunction(
                "rotation-function",
                estate,
                settings,
                self.store.secrets,
                self.notices.topic,
                opts=child,
            )
        # Revocation (settings.revoked): nobody is granted the payload, only Admin may add or
        # manage versions, and the secret is labelled revoked=true.
        revoked = [s.name for s in estate.revoked]
        if revoked:
            pulumi.log.warn(
                "revoked secrets (nobody may read them; Admin rotates them, then remove them "
                f"from `revoked`): {', '.join(revoked)}"
            )
        locations = documents.locations(estate, settings)
        self.exports = {
            "secrets": dict(locations),
            "identities": {r: m for r in estate.roles if (m := settings.member(r)) is not None},
            "project": settings.project,
            "keys": {loc: k.id for loc, k in self.keys.keys.items()},
            "revokedSecrets": revoked,
        }
        if self.notices is not None:
            self.exports["rotationTopic"] = self.notices.topic.id
            self.exports["rotationSubscription"] = self.notices.subscription.id
            self.exports["rotatedSecrets"] = [s.name for s in estate.rotated]
        if self.rotation is not None:
            self.exports["rotationFunction"] = self.rotation.export(estate)
        if self.workloads.accounts:
            self.exports["serviceAccounts"] = {
                r: a.email for r, a in self.workloads.accounts.items()
            }
        self.register_outputs(self.exports)
