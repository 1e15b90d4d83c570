"""Names and grants of the GCP estate: pure functions of the estate and the settings block.

Layout, per environment: in each replica location a key ring ``<prefix>-<environment>`` holding
one key ``secrets`` (the CMEK of that location's replicas, and of the rotation topic in the first
location); one secret per stored secret, id ``<prefix>-<environment>-<kebab name>``; one Pub/Sub
topic ``<prefix>-<environment>-secret-rotation`` with one pull subscription of the same name.
Everything is known before anything exists, so grants and topics name each other without cycles.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Final

from infra.access import Action, RoleName
from infra.backends.gcp.settings import GcpSettings
from infra.catalog import CatalogEntry, Environment
from infra.estate import Estate, StoredSecret

KEY_NAME: Final = "secrets"
SECRET_MANAGER_API: Final = "secretmanager.googleapis.com"  # noqa: S105 (a name, not a password)
PUBSUB_API: Final = "pubsub.googleapis.com"
SECONDS_PER_DAY: Final = 86400

# Predefined roles the adapter grants (https://cloud.google.com/iam/docs/roles-permissions).
SECRET_ACCESSOR: Final = "roles/secretmanager.secretAccessor"  # noqa: S105 (a name, not a password)
SECRET_VERSION_ADDER: Final = "roles/secretmanager.secretVersionAdder"  # noqa: S105 (a name, not a password)
SECRET_VERSION_MANAGER: Final = "roles/secretmanager.secretVersionManager"  # noqa: S105 (a name, not a password)
SECRET_VIEWER: Final = "roles/secretmanager.viewer"  # noqa: S105 (a name, not a password)
SECRET_ADMIN: Final = "roles/secretmanager.admin"  # noqa: S105 (a name, not a password)
KMS_ENCRYPTER_DECRYPTER: Final = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
PUBSUB_PUBLISHER: Final = "roles/pubsub.publisher"
PUBSUB_SUBSCRIBER: Final = "roles/pubsub.subscriber"
WORKLOAD_IDENTITY_USER: Final = "roles/iam.workloadIdentityUser"
#: The event Secret Manager publishes when a secret is due (``nextRotationTime`` reached).
ROTATE_EVENT: Final = "SECRET_ROTATE"
#: The data-access audit log types Secret Manager must write (every read of a payload included).
AUDIT_LOG_TYPES: Final = ("ADMIN_READ", "DATA_READ", "DATA_WRITE")


def secret_id(entry: CatalogEntry, environment: Environment, prefix: str) -> str:
    return f"{prefix}-{environment.value}-{entry.kebab_name}"


def secret_name(project: str, secret: str) -> str:
    """The secret's resource name (what IAM conditions, audit logs and the API call it)."""
    return f"projects/{project}/secrets/{secret}"


def key_ring_name(prefix: str, environment: Environment) -> str:
    return f"{prefix}-{environment.value}"


def key_id(project: str, location: str, prefix: str, environment: Environment) -> str:
    ring = key_ring_name(prefix, environment)
    return f"projects/{project}/locations/{location}/keyRings/{ring}/cryptoKeys/{KEY_NAME}"


def topic_name(prefix: str, environment: Environment) -> str:
    return f"{prefix}-{environment.value}-secret-rotation"


def topic_id(project: str, prefix: str, environment: Environment) -> str:
    return f"projects/{project}/topics/{topic_name(prefix, environment)}"


def seconds(days: int) -> str:
    """A protobuf Duration of whole days (``"7776000s"``)."""
    return f"{days * SECONDS_PER_DAY}s"


def effective_actions(secret: StoredSecret, role: RoleName) -> frozenset[Action]:
    """What ``role`` may do to ``secret`` in this store: the estate's grants, less what a
    revocation takes away (nobody reads a revoked value; Admin keeps writing and managing it,
    the way out of the incident; nobody else changes it), as the AWS and Vault backends do."""
    actions = secret.grants.get(role, frozenset())
    if secret.revoked:
        actions = actions - {Action.READ}
        if Action.MANAGE not in actions:
            actions = actions - {Action.WRITE}
    return actions


def secret_roles(actions: frozenset[Action]) -> tuple[str, ...]:
    """The predefined roles, granted on one secret, whose permissions are exactly ``actions``
    (read: payload; write: add a version; describe: metadata; manage: everything else).

    Secret Manager Admin holds all four. A manager that may not read (Admin on a revoked secret)
    gets Secret Version Manager (add, enable, disable, destroy versions) and Viewer instead.
    """
    if Action.MANAGE in actions:
        if Action.READ in actions:
            return (SECRET_ADMIN,)
        return (SECRET_VERSION_MANAGER, SECRET_VIEWER)
    roles: list[str] = []
    if Action.READ in actions:
        roles.append(SECRET_ACCESSOR)
    if Action.WRITE in actions:
        roles.append(SECRET_VERSION_ADDER)
    if Action.DESCRIBE in actions:
        roles.append(SECRET_VIEWER)
    return tuple(roles)


def secret_grants(
    estate: Estate, settings: GcpSettings
) -> dict[str, list[tuple[RoleName, str, str]]]:
    """Catalog name -> its grants ``(access-model role, IAM role, member)``, for roles that have an
    identity in this store, in the access model's order."""
    out: dict[str, list[tuple[RoleName, str, str]]] = {}
    for secret in estate.secrets:
        grants: list[tuple[RoleName, str, str]] = []
        for role in estate.roles:
            member = settings.member(role)
            if member is None:
                continue
            for iam_role in secret_roles(effective_actions(secret, role)):
                grants.append((role, iam_role, member))
        out[secret.name] = grants
    return out


def next_rotation_time(settings: GcpSettings, period_days: int) -> str:
    """The first rotation notice of a secret rotated every ``period_days``: one period after the
    settings' anchor (RFC 3339 UTC)."""
    first = settings.rotation.anchor_time + timedelta(days=period_days)
    return first.strftime("%Y-%m-%dT%H:%M:%SZ")


def locations(estate: Estate, settings: GcpSettings) -> Mapping[str, str]:
    prefix, project = settings.secret_prefix, settings.project
    return {
        s.name: secret_name(project, secret_id(s.entry, estate.environment, prefix))
        for s in estate.secrets
    }
