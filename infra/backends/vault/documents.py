"""Names, paths and ACL policy texts of the Vault estate: pure functions of the estate.

Layout: one KV v2 mount per environment (``<prefix>/<environment>``), each secret at
``<service>/<key>`` inside it; one transit mount per environment (``<prefix>-transit/<environment>``)
with one derived key per purpose. Every policy names exact paths (no glob), so what a role may do is
exactly what the estate grants.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from infra.access import Action, RoleName
from infra.catalog import CatalogEntry, Environment
from infra.estate import Estate, StoredSecret


@dataclass(frozen=True)
class Purpose:
    """A transit key that replaces application-side key derivation (seed §6): the catalog secret
    whose readers may use it, the key type, whether each caller's context derives its own key,
    and the endpoints they may call."""

    catalog_name: str
    key_type: str
    derived: bool
    operations: tuple[str, ...]


#: One transit key per purpose. A role may use a purpose iff it may read the catalog secret that
#: purpose stands for in the environment. Encryption and signing keys are derived per context
#: (``derived``: a caller's context selects its own sub-key). Vault's HMAC ignores context (and a
#: key of type ``hmac`` cannot verify), so the MAC key is one non-derived key per environment, as
#: JWT_SECRET is: every holder of the purpose computes the same MAC for the same input.
PURPOSES: Mapping[str, Purpose] = {
    "encryption": Purpose("ENCRYPTION_KEY", "aes256-gcm96", True, ("encrypt", "decrypt", "rewrap")),
    "signing": Purpose("API_SIGNING_SECRET", "ed25519", True, ("sign", "verify")),
    "hmac": Purpose("JWT_SECRET", "aes256-gcm96", False, ("hmac", "verify")),
}

#: Capabilities per KV v2 API path kind, for each action of the access model.
_KV_CAPABILITIES: Mapping[Action, Mapping[str, tuple[str, ...]]] = {
    Action.READ: {"data": ("read",)},
    Action.DESCRIBE: {"metadata": ("read",)},
    Action.WRITE: {"data": ("create", "update")},
    Action.MANAGE: {
        "data": ("create", "update", "delete"),
        "metadata": ("read", "update", "delete"),
        "delete": ("update",),
        "undelete": ("update",),
        "destroy": ("update",),
    },
}


def kv_mount(prefix: str, environment: Environment) -> str:
    return f"{prefix}/{environment.value}"


def transit_mount(prefix: str, environment: Environment) -> str:
    return f"{prefix}-transit/{environment.value}"


def secret_path(entry: CatalogEntry) -> str:
    """The secret's path inside its environment's mount."""
    return f"{entry.service}/{entry.key}"


def policy_name(prefix: str, environment: Environment, role: RoleName) -> str:
    return f"{prefix}-{environment.value}-{role}"


#: The Vault rotation job: its role in the access-model's naming (``<prefix>-<env>-secret-rotation``,
#: the name the pack's paper/live separation admits beside Admin), its Kubernetes auth role, and
#: the CronJob's name and where it finds its projected token.
ROTATION_ROLE = "secret-rotation"
ROTATION_JOB = "vault-secret-rotation"
ROTATION_TOKEN_DIR = "/var/run/secrets/vault"  # noqa: S105 (a path)
ROTATION_TOKEN_PATH = f"{ROTATION_TOKEN_DIR}/token"


def rotation_policy_name(prefix: str, environment: Environment) -> str:
    return f"{prefix}-{environment.value}-{ROTATION_ROLE}"


def rotated_addresses(estate: Estate, prefix: str) -> list[str]:
    """``<mount>/data/<path>`` of each secret Vault rotates (home to, with a strategy)."""
    mount = kv_mount(prefix, estate.environment)
    return [f"{mount}/data/{secret_path(s.entry)}" for s in estate.rotated]


def vault_master_secret(raw: str, mount: str) -> str | None:
    """A master secret parameter as the job reads it (``vault_store.VaultAddress.resolve``):
    ``<mount>/data/<path>``, or a path in the secret's own mount; None for another store's
    reference (an ARN, a GCP or Azure name), which the job could not read."""
    if raw.startswith(("arn:", "projects/", "https://")):
        return None
    return raw if "/data/" in raw else f"{mount}/data/{raw}"


def rotation_job_policy(estate: Estate, prefix: str) -> str | None:
    """The job's ACL policy: exactly the secrets Vault is home to and rotates, their Vault
    replicas and the master secrets they read (``vault_store.job_policy``); None: nothing to
    rotate here."""
    from infra.rotation.vault_store import VaultAddress, job_policy

    rotated = rotated_addresses(estate, prefix)
    if not rotated:
        return None
    mount = kv_mount(prefix, estate.environment)
    masters = [m for raw in estate.master_secrets() if (m := vault_master_secret(raw, mount))]
    replicas = [
        address
        for s in estate.rotated
        for store, address in estate.replica_addresses.get(s.name, ())
        if store == "vault"
    ]
    return job_policy(
        [VaultAddress.parse(a) for a in rotated],
        admin_secrets=[VaultAddress.parse(m) for m in sorted(set(masters))],
        replicas=[VaultAddress.parse(a) for a in replicas],
    )


def purposes_in(estate: Estate) -> dict[str, Purpose]:
    """The purposes whose catalog secret the environment stores."""
    return {name: p for name, p in PURPOSES.items() if p.catalog_name in estate}


def _capabilities(secret: StoredSecret, role: RoleName, mount: str) -> dict[str, set[str]]:
    rules: dict[str, set[str]] = {}
    actions = secret.grants.get(role, frozenset())
    for action in actions:
        for kind, caps in _KV_CAPABILITIES[action].items():
            rules.setdefault(f"{mount}/{kind}/{secret_path(secret.entry)}", set()).update(caps)
    if secret.revoked:
        data = f"{mount}/data/{secret_path(secret.entry)}"
        if Action.MANAGE in actions:
            # Admin keeps the way out of the incident: writing the new value, never reading.
            rules[data] = rules.get(data, set()) - {"read"}
        else:
            # Nobody else touches it: an explicit deny beats any grant from another policy.
            rules[data] = {"deny"}
    return rules


def role_rules(estate: Estate, role: RoleName, *, prefix: str) -> dict[str, list[str]]:
    """Path -> sorted capabilities of one role's policy (empty: the role gets nothing here, and a
    role granted nothing gets no policy at all, so no login either, even during a revocation)."""
    env = estate.environment
    if not estate.roles[role].secrets:
        return {}
    mount, transit = kv_mount(prefix, env), transit_mount(prefix, env)
    rules: dict[str, set[str]] = {}
    for secret in estate.secrets:
        for path, caps in _capabilities(secret, role, mount).items():
            rules.setdefault(path, set()).update(caps)
    if estate.roles[role].role.describe_all:
        # Roles that describe every secret (Admin, Auditor) may list what exists, one service
        # directory at a time (exact paths; the AWS backend's ListSecrets).
        for service in sorted({s.service for s in estate.secrets}):
            rules.setdefault(f"{mount}/metadata/{service}/", set()).add("list")
    for purpose, spec in purposes_in(estate).items():
        secret = estate.secret(spec.catalog_name)
        if Action.READ in secret.grants.get(role, frozenset()) and not secret.revoked:
            for op in spec.operations:
                rules.setdefault(f"{transit}/{op}/{purpose}", set()).add("update")
    return {path: sorted(caps) for path, caps in sorted(rules.items()) if caps}


def policy_text(rules: Mapping[str, Iterable[str]], *, comment: str) -> str:
    """An ACL policy in HCL: one ``path`` block per rule, capabilities as a JSON list."""
    lines = [f"# {comment}"]
    for path, caps in rules.items():
        lines += [f'path "{path}" {{', f"  capabilities = {json.dumps(list(caps))}", "}"]
    return "\n".join(lines) + "\n"


def role_policy(estate: Estate, role: RoleName, *, prefix: str) -> str | None:
    """The ACL policy of one role in this environment; None when it would grant nothing."""
    rules = role_rules(estate, role, prefix=prefix)
    if not rules:
        return None
    description = estate.roles[role].role.description
    return policy_text(rules, comment=f"neural-trader {estate.environment.value}: {description}")
