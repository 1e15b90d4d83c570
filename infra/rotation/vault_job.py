"""The Vault rotation job: ``python -m infra.rotation.vault_job`` (a Kubernetes CronJob).

Vault KV has no rotation schedule, so a scheduled job finds the secrets that are due and runs
the driver on each (``vault_store.VaultStore``). Environment:

* ``VAULT_ADDR`` (required), ``VAULT_CACERT`` (optional CA bundle path);
* identity: ``NT_VAULT_K8S_ROLE`` (Kubernetes auth role) with optional ``NT_VAULT_K8S_MOUNT``
  (default ``kubernetes``) and ``NT_VAULT_K8S_TOKEN_PATH`` (default the pod's service-account
  token), or ``VAULT_TOKEN``;
* ``NT_VAULT_ROTATION_SECRETS``: JSON list of the secrets this job rotates,
  ``["<mount>/data/<path>", ...]`` — the same list ``vault_store.job_policy`` grants;
* ``NT_ROTATION_REPLICAS`` (optional): the replica map (``replicas.py``).

A secret is due when a rotation of it is staged (resume), or when its last rotation
(``rotation-last-rotated`` in custom metadata, else the secret's creation time) is at least the
rotation period old (``rotation-period-days``, else the class's period). Secrets without a
strategy (``none``) are skipped; replicas are skipped (``--secret`` refuses them).

``--secret ADDRESS`` rotates one secret now, due or not (emergency rotation); ``--dry-run``
only lists what is due. Exit 0: every due secret rotated (or none due); 3: at least one
rotation failed (each failure is logged, the others still run); 2: bad configuration.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from .contract import PARAM_REPLICA_OF, PARAM_ROTATION_STRATEGY
from .driver import META_LAST_ROTATED, Notifier, Outcome, Rotation, log_notifier, utc_now
from .driver import rotation_period_days as period_of
from .errors import ContractError
from .replicas import Clients, ReplicaMap, refuse_replica, replicas_from_env, writers_for
from .vault_store import VaultAddress, VaultStore

logger = logging.getLogger(__name__)

ENV_SECRETS: Final = "NT_VAULT_ROTATION_SECRETS"
ENV_K8S_ROLE: Final = "NT_VAULT_K8S_ROLE"
ENV_K8S_MOUNT: Final = "NT_VAULT_K8S_MOUNT"
ENV_K8S_TOKEN_PATH: Final = "NT_VAULT_K8S_TOKEN_PATH"  # noqa: S105 (a variable name)
SA_TOKEN: Final = "/var/run/secrets/kubernetes.io/serviceaccount/token"  # noqa: S105 (a path)
EXIT_FAILED: Final = 3
EXIT_CONFIG: Final = 2
NONE: Final = "none"


def vault_client_from_env(env: Mapping[str, str]) -> Any:
    """An hvac client logged in as the job's identity (Kubernetes auth, else VAULT_TOKEN)."""
    import hvac

    addr = env.get("VAULT_ADDR")
    if not addr:
        raise ContractError("VAULT_ADDR is not set")
    verify: bool | str = env.get("VAULT_CACERT") or True
    client = hvac.Client(url=addr, verify=verify)
    role = env.get(ENV_K8S_ROLE)
    if role:
        jwt = Path(env.get(ENV_K8S_TOKEN_PATH) or SA_TOKEN).read_text().strip()
        client.auth.kubernetes.login(role, jwt, mount_point=env.get(ENV_K8S_MOUNT) or "kubernetes")
    elif env.get("VAULT_TOKEN"):
        client.token = env["VAULT_TOKEN"]
    else:
        raise ContractError(f"set {ENV_K8S_ROLE} (Kubernetes auth) or VAULT_TOKEN")
    return client


def parse_secrets(raw: str | None) -> list[VaultAddress]:
    if not raw:
        raise ContractError(f"{ENV_SECRETS} is not set")
    try:
        data = json.loads(raw)
    except ValueError:
        raise ContractError(f"{ENV_SECRETS} is not JSON") from None
    if not isinstance(data, list) or not all(isinstance(a, str) for a in data):
        raise ContractError(f"{ENV_SECRETS} must be a JSON list of <mount>/data/<path>")
    return [VaultAddress.parse(a, what=f"{ENV_SECRETS} entry") for a in data]


def is_due(store: VaultStore, now: datetime) -> bool:
    """Staged (resume) or at least one period since the last rotation / creation."""
    params = store.params
    if params.get(PARAM_ROTATION_STRATEGY, NONE) == NONE or params.get(PARAM_REPLICA_OF):
        return False
    if store.state().pending_id is not None:
        return True
    last_raw = params.get(META_LAST_ROTATED) or str(store.metadata().get("created_time", ""))
    try:
        last = datetime.fromisoformat(last_raw.replace("Z", "+00:00"))
    except ValueError:
        return True  # no readable time: rotate rather than never
    return (now - last).total_seconds() >= period_of(params) * 86400


@dataclass
class VaultJob:
    client: Any
    secrets: Sequence[VaultAddress]
    replicas: ReplicaMap
    clients: Clients
    notifier: Notifier = log_notifier

    def rotate(self, address: VaultAddress, rotation_id: str | None = None) -> Outcome:
        refuse_replica(address.secret_id, self.replicas)
        store = VaultStore(self.client, address)
        writers = writers_for(address.secret_id, self.replicas, self.clients)
        return Rotation(store, writers, notifier=self.notifier, rotation_id=rotation_id).run()

    def due(self, now: datetime | None = None) -> list[VaultAddress]:
        now = now or utc_now()
        return [a for a in self.secrets if is_due(VaultStore(self.client, a), now)]

    def run(self, now: datetime | None = None) -> tuple[list[Outcome], list[str]]:
        """Rotate every due secret; returns the outcomes and the failures (one line each)."""
        done: list[Outcome] = []
        failed: list[str] = []
        for address in self.due(now):
            try:
                done.append(self.rotate(address))
            except Exception as exc:
                logger.error("rotation of %s failed: %s", address.secret_id, exc)
                failed.append(f"{address.secret_id}: {type(exc).__name__}: {exc}")
        return done, failed


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    parser = argparse.ArgumentParser(prog="python -m infra.rotation.vault_job")
    parser.add_argument("--secret", help="rotate this <mount>/data/<path> now, due or not")
    parser.add_argument("--dry-run", action="store_true", help="list the due secrets only")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        secrets = parse_secrets(env.get(ENV_SECRETS))
        replicas = replicas_from_env(env)
        job = VaultJob(vault_client_from_env(env), secrets, replicas, Clients())
        only = VaultAddress.parse(args.secret, what="--secret") if args.secret else None
        if only is not None and only not in secrets:
            raise ContractError(f"--secret {only.secret_id} is not in {ENV_SECRETS}")
    except ContractError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except Exception as exc:  # hvac's login refusal (Forbidden, InvalidRequest) or no server
        # The job's identity or address is wrong: one line, never a traceback, never a value.
        print(f"error: cannot log in to Vault: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    if args.dry_run:
        for address in job.due():
            print(address.secret_id)
        return 0
    if only is not None:
        try:
            outcome = job.rotate(only)
        except Exception as exc:
            print(f"error: {only.secret_id}: {type(exc).__name__}: {exc}", file=sys.stderr)
            return EXIT_FAILED
        print(f"{outcome.secret_id}: {outcome.result} ({outcome.rotation_id})")
        return 0
    done, failed = job.run()
    for outcome in done:
        print(f"{outcome.secret_id}: {outcome.result} ({outcome.rotation_id})")
    for line in failed:
        print(f"error: {line}", file=sys.stderr)
    return EXIT_FAILED if failed else 0


if __name__ == "__main__":
    sys.exit(main())
