"""One harness per store for the rotation contract suite (``test_store_contract.py``).

Each harness creates secrets the way the Pulumi program leaves them (value + parameters), reads
them the way a reader does, writes as a concurrent writer would, and delivers a rotation request
through the store's real entry point: the Lambda handler (AWS, moto), the Vault job (OpenBao),
the Pub/Sub handler (GCP) and the Event Grid handler (Azure) — the last two through the official
client libraries against ``doubles.py``.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from infra.rotation import handler
from infra.rotation.aws_transport import AWSCURRENT, AWSPENDING, AWSPREVIOUS
from infra.rotation.azure_store import AzureStore, handle_event
from infra.rotation.driver import Rotation, StoreTransport
from infra.rotation.gcp_store import ROTATION_NS as GCP_NS
from infra.rotation.gcp_store import GcpStore, handle_message
from infra.rotation.replicas import ENV_REPLICAS, Clients, ReplicaMap, ReplicaTarget
from infra.rotation.vault_job import VaultJob
from infra.rotation.vault_store import VaultAddress, VaultStore
from tests.rotation.doubles import GcpSecretManagerDouble, KeyVaultDouble

from .conftest import Aws


def _replica_json(replicas: ReplicaMap) -> str:
    return json.dumps(
        {h: [{"store": t.store, "address": t.address} for t in ts] for h, ts in replicas.items()}
    )


@dataclass
class Harness:
    """The common interface; ``request`` identifies one delivery (retries reuse it)."""

    store: str
    clients: Clients = field(default_factory=Clients)

    def create(self, name: str, value: str, params: dict[str, str]) -> str:
        raise NotImplementedError

    def transport(self, secret_id: str) -> StoreTransport:
        raise NotImplementedError

    def deliver(self, secret_id: str, request: str, replicas: ReplicaMap | None = None) -> Any:
        raise NotImplementedError

    def rotation_id(self, secret_id: str, request: str) -> str:
        raise NotImplementedError

    def current(self, secret_id: str) -> str:
        value = self.transport(secret_id).current_value()
        assert value is not None
        return value

    def previous(self, secret_id: str) -> str | None:
        return self.transport(secret_id).previous_value()

    def versions(self, secret_id: str) -> int:
        raise NotImplementedError

    def write_concurrently(self, secret_id: str, value: str) -> None:
        raise NotImplementedError

    def interrupt_after_create(self, secret_id: str, request: str) -> str:
        """A delivery that crashes right after staging; returns its rotation id."""
        rotation_id = self.rotation_id(secret_id, request)
        Rotation(self.transport(secret_id), rotation_id=rotation_id).create()
        return rotation_id

    def target(self, secret_id: str) -> ReplicaTarget:
        return ReplicaTarget(self.store, secret_id)

    def missing(self) -> ReplicaTarget:
        raise NotImplementedError


@dataclass
class AwsHarness(Harness):
    aws: Aws | None = None

    @property
    def sm(self) -> Any:
        assert self.aws is not None
        return self.aws.sm

    def create(self, name: str, value: str, params: dict[str, str]) -> str:
        assert self.aws is not None
        return self.aws.create_secret(name, value, params)

    def transport(self, secret_id: str) -> StoreTransport:
        from infra.rotation.aws_store import SecretsManagerStore

        return SecretsManagerStore(self.sm, secret_id)

    def rotation_id(self, secret_id: str, request: str) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{secret_id}#{request}"))

    def _token(self, secret_id: str, request: str) -> str:
        token = self.rotation_id(secret_id, request)
        stages = self.sm.describe_secret(SecretId=secret_id)["VersionIdsToStages"]
        if token not in stages:
            assert self.aws is not None
            self.sm.rotate_secret(
                SecretId=secret_id,
                ClientRequestToken=token,
                RotationLambdaARN=self.aws.lambda_arn,
                RotationRules={"AutomaticallyAfterDays": 30},
            )
        return token

    def deliver(self, secret_id: str, request: str, replicas: ReplicaMap | None = None) -> Any:
        assert self.aws is not None
        token = self._token(secret_id, request)
        env = dict(self.aws.env)
        if replicas:
            env[ENV_REPLICAS] = _replica_json(replicas)
        for step in ("createSecret", "setSecret", "testSecret", "finishSecret"):
            event = {"SecretId": secret_id, "ClientRequestToken": token, "Step": step}
            handler.rotate(
                event, client=self.sm, env=env, sns_factory=lambda: None, clients=self.clients
            )
        return token

    def interrupt_after_create(self, secret_id: str, request: str) -> str:
        assert self.aws is not None
        token = self._token(secret_id, request)
        event = {"SecretId": secret_id, "ClientRequestToken": token, "Step": "createSecret"}
        handler.rotate(event, client=self.sm, env=self.aws.env, clients=self.clients)
        return token

    def current(self, secret_id: str) -> str:
        return str(
            self.sm.get_secret_value(SecretId=secret_id, VersionStage=AWSCURRENT)["SecretString"]
        )

    def previous(self, secret_id: str) -> str | None:
        try:
            resp = self.sm.get_secret_value(SecretId=secret_id, VersionStage=AWSPREVIOUS)
        except self.sm.exceptions.ResourceNotFoundException:
            return None
        return str(resp["SecretString"])

    def versions(self, secret_id: str) -> int:
        stages = self.sm.describe_secret(SecretId=secret_id)["VersionIdsToStages"]
        return len(stages)

    def write_concurrently(self, secret_id: str, value: str) -> None:
        self.sm.put_secret_value(SecretId=secret_id, SecretString=value, VersionStages=[AWSCURRENT])

    def pending_count(self, secret_id: str) -> int:
        stages = self.sm.describe_secret(SecretId=secret_id)["VersionIdsToStages"]
        return sum(AWSPENDING in s for s in stages.values())

    def missing(self) -> ReplicaTarget:
        return ReplicaTarget(
            "aws", "arn:aws:secretsmanager:us-east-1:123456789012:secret:nt/absent-AbCdEf"
        )


@dataclass
class VaultHarness(Harness):
    client: Any = None  # root (the setup); the job uses ``job_client``
    job_client: Any = None
    mount: str = ""

    def create(self, name: str, value: str, params: dict[str, str]) -> str:
        kv = self.client.secrets.kv.v2
        kv.create_or_update_secret(name, secret={"value": value}, cas=0, mount_point=self.mount)
        kv.update_metadata(name, mount_point=self.mount, custom_metadata=params)
        return VaultAddress(self.mount, name).secret_id

    def transport(self, secret_id: str) -> StoreTransport:
        return VaultStore(self.job_client or self.client, VaultAddress.parse(secret_id))

    def rotation_id(self, secret_id: str, request: str) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{secret_id}#{request}"))

    def job(self, replicas: ReplicaMap | None = None) -> VaultJob:
        return VaultJob(self.job_client or self.client, [], replicas or {}, self.clients)

    def deliver(self, secret_id: str, request: str, replicas: ReplicaMap | None = None) -> Any:
        return self.job(replicas).rotate(
            VaultAddress.parse(secret_id), rotation_id=self.rotation_id(secret_id, request)
        )

    def versions(self, secret_id: str) -> int:
        a = VaultAddress.parse(secret_id)
        meta = self.client.secrets.kv.v2.read_secret_metadata(a.path, mount_point=a.mount)
        return int(meta["data"]["current_version"])

    def write_concurrently(self, secret_id: str, value: str) -> None:
        a = VaultAddress.parse(secret_id)
        kv = self.client.secrets.kv.v2
        version = kv.read_secret_metadata(a.path, mount_point=a.mount)["data"]["current_version"]
        kv.create_or_update_secret(
            a.path, secret={"value": value}, cas=version, mount_point=a.mount
        )

    def missing(self) -> ReplicaTarget:
        return ReplicaTarget("vault", f"{self.mount}/data/absent/SECRET")


@dataclass
class GcpHarness(Harness):
    double: GcpSecretManagerDouble = field(default_factory=GcpSecretManagerDouble)
    project: str = "projects/123456789"
    _client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = self.double.client()
        return self._client

    def create(self, name: str, value: str, params: dict[str, str]) -> str:
        from policies.contract.gcp_labels import LABEL_KEYS, gcp_annotations, gcp_labels

        labels = gcp_labels({k: v for k, v in params.items() if k in LABEL_KEYS})
        return self.double.create_secret(
            f"{self.project}/secrets/{name.replace('/', '-')}",
            value,
            labels,
            gcp_annotations(params),
        )

    def transport(self, secret_id: str) -> StoreTransport:
        return GcpStore(self.client, secret_id)

    def rotation_id(self, secret_id: str, request: str) -> str:
        return str(uuid.uuid5(GCP_NS, request))

    def deliver(self, secret_id: str, request: str, replicas: ReplicaMap | None = None) -> Any:
        message = {
            "attributes": {"eventType": "SECRET_ROTATE", "secretId": secret_id},
            "messageId": request,
            "publishTime": "2099-01-01T00:00:00Z",
        }
        return handle_message(
            message, client=self.client, replicas=replicas or {}, clients=self.clients
        )

    def versions(self, secret_id: str) -> int:
        return len(self.double.secrets[secret_id].versions)

    def write_concurrently(self, secret_id: str, value: str) -> None:
        # Another writer: a new version, made current by moving the alias (etag changes).
        store = GcpStore(self.client, secret_id)
        version = self.client.add_secret_version(parent=secret_id, payload={"data": value.encode()})
        number = int(version.name.rsplit("/", 1)[1])
        secret = self.double.secrets[secret_id]
        secret.aliases = {**secret.aliases, "current": number}
        secret.etag = '"concurrent"'
        store.secret(fresh=True)

    def missing(self) -> ReplicaTarget:
        return ReplicaTarget("gcp", f"{self.project}/secrets/absent")


@dataclass
class AzureHarness(Harness):
    double: KeyVaultDouble = field(default_factory=KeyVaultDouble)
    sent: dict[str, str] = field(default_factory=dict)
    _client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = self.double.client()
        return self._client

    def create(self, name: str, value: str, params: dict[str, str]) -> str:
        secret = name.replace("/", "-").replace("_", "-")
        self.double.put(secret, value, params, exp=2_000_000_000)
        return f"{self.double.url}/secrets/{secret}"

    def transport(self, secret_id: str) -> StoreTransport:
        return AzureStore(self.client, secret_id.rsplit("/", 1)[1])

    def rotation_id(self, secret_id: str, request: str) -> str:
        from infra.rotation.azure_store import ROTATION_NS

        return str(uuid.uuid5(ROTATION_NS, request))

    def event(self, secret_id: str, request: str, version: str | None = None) -> dict[str, Any]:
        name = secret_id.rsplit("/", 1)[1]
        version = version or self.double.latest(name).version
        return {
            "id": request,
            "eventType": "Microsoft.KeyVault.SecretNearExpiry",
            "subject": name,
            "data": {
                "Id": f"{secret_id}/{version}",
                "VaultName": self.double.host.split(".")[0],
                "ObjectType": "Secret",
                "ObjectName": name,
                "Version": version,
                "NBF": None,
                "EXP": self.double.latest(name).exp,
            },
        }

    def deliver(self, secret_id: str, request: str, replicas: ReplicaMap | None = None) -> Any:
        # Event Grid announces the expiring version; a redelivery carries the same event.
        name = secret_id.rsplit("/", 1)[1]
        version = self.sent.setdefault(request, self.double.latest(name).version)
        return handle_event(
            self.event(secret_id, request, version),
            client=self.client,
            replicas=replicas or {},
            clients=self.clients,
        )

    def versions(self, secret_id: str) -> int:
        return len(self.double.secrets[secret_id.rsplit("/", 1)[1]])

    def write_concurrently(self, secret_id: str, value: str) -> None:
        name = secret_id.rsplit("/", 1)[1]
        self.client.set_secret(name, value, tags=dict(self.double.latest(name).tags))

    def missing(self) -> ReplicaTarget:
        return ReplicaTarget("azure", f"{self.double.url}/secrets/absent")
