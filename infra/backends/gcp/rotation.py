"""The rotation owner of the secrets GCP is home to: one Cloud Functions (2nd gen) function.

``RotationFunction`` (type ``neural-trader:gcp:RotationFunction``) declares a private bucket
holding the function's source (a deterministic zip of ``infra/rotation``, ``package.py``), the
function (entry point ``cloud_function`` = ``infra.rotation.gcp_store.cloud_function``) with an
event trigger on the rotation topic (``RotationNotices``), and a dedicated service account granted
per secret exactly what the runtime needs: a custom role (``secrets.get/update``,
``versions.add/list/access/disable``) on each secret GCP is home to and rotates, Secret Accessor
on each master secret it reads there, invoker of its own function. Nothing on the project.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import pulumi
import pulumi_gcp as gcp

from infra import buildcache
from infra.backends import replica_map
from infra.backends.gcp import documents
from infra.backends.gcp.settings import GcpSettings
from infra.estate import Estate
from infra.rotation import package

#: Exactly what ``gcp_store`` calls on a secret it rotates (docs/rotation.md section 9).
ROTATOR_PERMISSIONS: Final = (
    "secretmanager.secrets.get",
    "secretmanager.secrets.update",
    "secretmanager.versions.access",
    "secretmanager.versions.add",
    "secretmanager.versions.disable",
    "secretmanager.versions.list",
)
SECRET_ACCESSOR: Final = "roles/secretmanager.secretAccessor"  # noqa: S105 (a role)
RUN_INVOKER: Final = "roles/run.invoker"
PUBSUB_EVENT: Final = "google.cloud.pubsub.topic.v1.messagePublished"
RUNTIME: Final = "python311"


@functools.cache
def function_archive(build_dir: Path | None = None) -> tuple[Path, str]:
    """The function's source zip (built once per process, only when its inputs changed) and the
    digest of its inputs (names the bucket object, so a code change deploys a new object)."""
    return buildcache.package_archive(
        Path(package.__file__),
        package.GCP_ZIP_NAME,
        package.gcp_package_entries,
        package.build_gcp_package,
        build_dir,
    )


def short_env(environment: str) -> str:
    return {"development": "dev", "production": "prod"}.get(environment, environment[:8])


def master_secret_ids(estate: Estate, settings: GcpSettings) -> list[str]:
    """The master secrets the rotated secrets read, as Secret Manager secret ids in this
    project (``projects/<project>/secrets/<id>`` or a bare id); another store's are not ours."""
    out = []
    for raw in estate.master_secrets():
        if raw.startswith(f"projects/{settings.project}/secrets/"):
            out.append(raw.split("/secrets/", 1)[1].split("/", 1)[0])
        elif "/" not in raw and ":" not in raw:
            out.append(raw)
    return sorted(set(out))


class RotationFunction(pulumi.ComponentResource):
    """The GCP executor: the function, its source, its service account and its grants."""

    function: gcp.cloudfunctionsv2.Function
    account: gcp.serviceaccount.Account

    def __init__(
        self,
        name: str,
        estate: Estate,
        settings: GcpSettings,
        secrets: Mapping[str, gcp.secretmanager.Secret],
        topic: gcp.pubsub.Topic,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("neural-trader:gcp:RotationFunction", name, None, opts)
        env = estate.environment.value
        region = settings.locations[0]
        child = pulumi.ResourceOptions(parent=self)
        rotated = [s for s in estate.rotated if s.name in secrets]
        account_id = f"nt-{short_env(env)}-secret-rotation"
        role_id = f"ntSecretRotation{short_env(env).capitalize()}"
        self.account = gcp.serviceaccount.Account(
            f"{name}-account",
            account_id=account_id,
            project=settings.project,
            display_name=f"neural-trader {env}: secret rotation function",
            description="Rotates the secrets GCP is home to (docs/rotation.md); granted per secret",
            opts=child,
        )
        # Names known before anything exists, so the plan (and the pack) can judge every grant;
        # the dependencies order the grants after the account and the role.
        email = f"{account_id}@{settings.project}.iam.gserviceaccount.com"
        member = f"serviceAccount:{email}"
        role = gcp.projects.IAMCustomRole(
            f"{name}-role",
            project=settings.project,
            role_id=role_id,
            title=f"neural-trader {env} secret rotation",
            description="What the rotation function needs on one secret; bound per secret",
            permissions=list(ROTATOR_PERMISSIONS),
            stage="GA",
            opts=child,
        )
        for stored in rotated:
            gcp.secretmanager.SecretIamMember(
                f"{stored.logical_name}-secret-rotation",
                project=settings.project,
                secret_id=secrets[stored.name].secret_id,
                role=f"projects/{settings.project}/roles/{role_id}",
                member=member,
                opts=pulumi.ResourceOptions(
                    parent=self, depends_on=[secrets[stored.name], role, self.account]
                ),
            )
        for i, master in enumerate(master_secret_ids(estate, settings)):
            gcp.secretmanager.SecretIamMember(
                f"{name}-master-{i}",
                project=settings.project,
                secret_id=master,
                role=SECRET_ACCESSOR,
                member=member,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.account]),
            )
        archive, digest = function_archive()
        bucket = gcp.storage.Bucket(
            f"{name}-source",
            name=f"{settings.project}-{short_env(env)}-rotation-source",
            project=settings.project,
            location=region.upper(),
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            versioning={"enabled": True},
            force_destroy=False,
            labels={"project": "neural-trader", "environment": env},
            opts=child,
        )
        source = gcp.storage.BucketObject(
            f"{name}-source-zip",
            bucket=bucket.name,
            name=f"rotation-{digest[:16]}.zip",
            source=pulumi.FileAsset(str(archive)),
            opts=pulumi.ResourceOptions(parent=bucket),
        )
        ids = {s.name: secrets[s.name].name for s in rotated}
        self.function = gcp.cloudfunctionsv2.Function(
            f"{name}-function",
            name=documents.topic_name(settings.secret_prefix, estate.environment),
            project=settings.project,
            location=region,
            description=f"neural-trader {env}: Secret Manager rotation (docs/rotation.md)",
            build_config={
                "runtime": RUNTIME,
                "entry_point": package.GCP_ENTRY_POINT,
                "source": {"storage_source": {"bucket": bucket.name, "object": source.name}},
            },
            service_config={
                "service_account_email": self.account.email,
                "available_memory": "256M",
                "timeout_seconds": 120,
                "max_instance_count": 3,
                "ingress_settings": "ALLOW_INTERNAL_ONLY",
                "all_traffic_on_latest_revision": True,
                "environment_variables": {"NT_ROTATION_REPLICAS": replica_map(estate, ids)},
            },
            event_trigger={
                "trigger_region": region,
                "event_type": PUBSUB_EVENT,
                "pubsub_topic": topic.id,
                "retry_policy": "RETRY_POLICY_RETRY",
                "service_account_email": self.account.email,
            },
            labels={"project": "neural-trader", "environment": env},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[source]),
        )
        # The trigger delivers as the function's own account: it may invoke this function only.
        gcp.cloudrunv2.ServiceIamMember(
            f"{name}-invoker",
            project=settings.project,
            location=region,
            name=self.function.name,
            role=RUN_INVOKER,
            member=member,
            opts=pulumi.ResourceOptions(parent=self.function),
        )
        self.register_outputs({"function": self.function.name})

    def export(self, estate: Estate) -> dict[str, Any]:
        return {
            "kind": "cloudfunctionsv2.Function",
            "name": self.function.name,
            "serviceAccount": self.account.email,
            "secrets": [s.name for s in estate.rotated],
        }
