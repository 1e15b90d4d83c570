"""The backend seam: one protocol every secret store implements, and the registry of them.

Pure data at import time (no Pulumi import): the settings loader, the estate and the CLI ask the
registry which backends exist, how each validates its own settings block and names a secret, and
where each keeps what. Only :meth:`Backend.deploy` touches Pulumi, and only when the program runs.

A backend is a package ``infra/backends/<name>/`` whose ``__init__`` calls :func:`register` with
an object satisfying :class:`Backend`. The registry finds every such package by itself, so adding a
store needs that one package and no edit to the catalog, the access model or the neutral settings.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from pydantic import BaseModel

from infra.access import RoleName
from infra.catalog import CatalogEntry, Environment
from infra.settings import NAMESPACE, StackSettings

if TYPE_CHECKING:
    import pulumi

    from infra.backends.values import SecretValues
    from infra.estate import Estate


@runtime_checkable
class BackendComponent(Protocol):
    """What a backend's top-level ComponentResource offers the program: its exports, in the
    uniform shape ``{"secrets": {catalog name: address}, "identities": {role: identity}, ...}``
    (addresses and identities may be Pulumi outputs; further keys are the backend's own)."""

    @property
    def exports(self) -> Mapping[str, Any]: ...


@runtime_checkable
class Backend(Protocol):
    """One secret store."""

    #: Registry key, the name in ``backends:`` and the settings block key.
    name: str
    #: Human name ("AWS Secrets Manager").
    title: str
    #: The pydantic model of the backend's settings block (``neural-trader-secrets:<name>``).
    settings_model: type[BaseModel]

    def check(self, settings: StackSettings, block: Any) -> Iterable[tuple[str, str]]:
        """Problems ``(key, reason)`` of the neutral settings as this backend reads them (e.g. the
        form of master secret references); ``block`` is this backend's validated settings."""
        ...

    def name_problems(
        self, entry: CatalogEntry, environment: Environment, block: Any
    ) -> Iterable[str]:
        """Why this store cannot hold ``entry`` under the name it derives for it (empty: it can);
        ``block`` is this backend's validated settings (a prefix or limit may come from there)."""
        ...

    def locations(self, estate: Estate, block: Any) -> Mapping[str, str]:
        """Catalog name -> where this store keeps the secret (an ARN, a path), known before
        anything exists."""
        ...

    def identities(self, estate: Estate, block: Any) -> Mapping[RoleName, str]:
        """Access-model role -> the identity that stands for it in this store."""
        ...

    def deploy(
        self,
        name: str,
        estate: Estate,
        block: Any,
        values: SecretValues,
        opts: pulumi.ResourceOptions | None = None,
    ) -> BackendComponent:
        """Declare the store's resources (one top-level ComponentResource). ``estate`` is the
        store's view (:meth:`Estate.held_by`): only the secrets it holds, as their home or as a
        replica; ``values`` holds each secret's one value (no store generates its own)."""
        ...


@dataclass(frozen=True)
class Upstream:
    """What a backend deployed before a consumer offers it: the backend, its validated settings
    block and its component's exports (values may be Pulumi outputs)."""

    backend: Backend
    block: BaseModel
    exports: Mapping[str, Any]


@runtime_checkable
class Consumer(Protocol):
    """A backend that builds on the stores deployed before it (a delivery backend such as
    Kubernetes, which wires workloads to the stores' identities and addresses).

    The program deploys backends in ``backends`` order; a consumer names the backends whose
    exports it reads (:meth:`sources`) and receives them in :meth:`deploy_after`. Its settings
    check refuses a stack that lists it before a source, or does not enable one
    (:func:`source_problems`)."""

    def sources(self, settings: StackSettings, block: Any) -> tuple[str, ...]:
        """The enabled backends whose exports this one reads."""
        ...

    def deploy_after(
        self,
        name: str,
        estate: Estate,
        block: Any,
        upstream: Mapping[str, Upstream],
        opts: pulumi.ResourceOptions | None = None,
    ) -> BackendComponent:
        """Declare the resources, given each source's :class:`Upstream`."""
        ...

    def estate_problems(self, estate: Estate, block: Any) -> Iterable[tuple[str, str]]:
        """Problems ``(key, reason)`` of this consumer's settings against the whole estate (e.g.
        a secret it delivers whose home store it does not read)."""
        ...


@dataclass(frozen=True)
class StoreAddress:
    """How a reader reaches a store (values may be Pulumi outputs): ``address`` is the region
    (AWS), the server URL (Vault), the project (GCP) or the vault URL (Azure); Vault adds its KV
    mount (``path``), the Kubernetes auth mount and the audience of the tokens it accepts."""

    address: Any
    path: Any = None
    auth_mount: str | None = None
    audience: str | None = None


@runtime_checkable
class KubernetesReadable(Protocol):
    """A store a workload's Kubernetes service account reads from (External Secrets logs in as
    that account: Vault's Kubernetes auth, IRSA, GKE or Azure workload identity). The store alone
    knows which accounts its settings let in, where it is reached and what it calls each secret;
    a delivery backend asks it here instead of reading the store's settings itself."""

    def store_addresses(
        self, estate: Estate, block: Any, exports: Mapping[str, Any]
    ) -> Mapping[str | None, StoreAddress]:
        """Partition -> how to reach it (``None``: a store without partitions; Azure: one per
        Key Vault holding a secret); ``exports`` are the store component's exports."""
        ...

    def remote_keys(self, estate: Estate, block: Any) -> Mapping[str, tuple[str | None, str]]:
        """Catalog name -> (its partition, the store's own name for it) of each stored secret."""
        ...

    def kubernetes_login_problems(
        self, block: Any, role: RoleName, namespace: str, account: str
    ) -> Iterable[tuple[str | None, str]]:
        """Why the store's identity for ``role`` would refuse the service account
        ``namespace/account``: ``(None, reason)`` about that account (the reason reads after
        it: "has no Vault login: ... is not set"), ``(key, reason)`` about one of the store's own
        settings. Empty when the account is let in."""
        ...


@dataclass(frozen=True)
class RotationJob:
    """A scheduled rotation executor a store asks the cluster to run (Vault: its rotation job).

    The store alone knows what the job rotates, how it logs in and what its environment says;
    the delivery backend only runs it: a service account that mounts no token by default, a
    projected token for ``token_audience`` at ``token_path``, and a CronJob on ``schedule``
    running ``command`` in ``image`` with ``env`` (values may be Pulumi outputs; never a secret
    value: the job reads and writes the store with its own identity)."""

    #: The store it rotates (its backend name).
    store: str
    #: The CronJob's name, its namespace and its own service account.
    name: str
    namespace: str
    service_account: str
    schedule: str
    image: str
    command: tuple[str, ...]
    env: Mapping[str, Any]
    #: The audience of the projected service-account token the job logs in with.
    token_audience: str
    #: Where the container finds that token (a file path).
    token_path: str
    #: The catalog names of the secrets it rotates (the store is home to each).
    secrets: tuple[str, ...]
    time_zone: str | None = None


@runtime_checkable
class KubernetesRotated(Protocol):
    """A store whose rotation runs as a Kubernetes CronJob (optional beside
    :class:`KubernetesReadable`): the delivery backend asks it which jobs to run."""

    def rotation_jobs(self, estate: Estate, block: Any) -> Sequence[RotationJob]:
        """The rotation jobs of the store's view ``estate`` (:meth:`Estate.held_by`; empty when
        the store rotates nothing there or its settings ask for no job)."""
        ...


def rotation_jobs(backend: Backend, estate: Estate, block: Any) -> Sequence[RotationJob]:
    """The jobs ``backend`` asks a cluster to run (none for a store that does not answer)."""
    if isinstance(backend, KubernetesRotated):
        return backend.rotation_jobs(estate, block)
    return ()


def replica_map(estate: Estate, home_ids: Mapping[str, Any]) -> Any:
    """``NT_ROTATION_REPLICAS`` of a home store's executor (``infra/rotation/replicas.py``): its
    id of each secret it rotates (``home_ids``: catalog name -> id, may be Pulumi outputs) ->
    the replicas of that secret (``Estate.replica_addresses``), as JSON text. A plain string when
    every id is one, else a Pulumi output; ``"{}"`` without replicas."""
    import json

    wanted = {
        s.name: estate.replica_addresses[s.name]
        for s in estate.rotated
        if s.name in home_ids and estate.replica_addresses.get(s.name)
    }

    def text(ids: Mapping[str, str]) -> str:
        return json.dumps(
            {
                ids[name]: [{"store": store, "address": address} for store, address in targets]
                for name, targets in sorted(wanted.items())
            },
            sort_keys=True,
        )

    plain = {n: home_ids[n] for n in wanted}
    if all(isinstance(v, str) for v in plain.values()):
        return text(plain)
    import pulumi

    names = sorted(plain)
    return pulumi.Output.all(*[plain[n] for n in names]).apply(
        lambda ids: text(dict(zip(names, (str(i) for i in ids), strict=True)))
    )


def kubernetes_readable(backend: Backend) -> KubernetesReadable:
    """``backend`` as a store Kubernetes workloads read from. Every store the Kubernetes
    settings admit is one (``tests/test_backend_seam.py``); TypeError for any other."""
    if not isinstance(backend, KubernetesReadable):
        raise TypeError(f"backend {backend.name!r} cannot be read from Kubernetes")
    return backend


def account_binding_problems(
    bound: tuple[str, str] | None,
    namespace: str,
    account: str,
    key: str,
    identity: str,
    refusal: str,
) -> Iterator[tuple[str | None, str]]:
    """:meth:`KubernetesReadable.kubernetes_login_problems` of a store that binds its identity
    for a role to exactly one service account, ``bound`` (``(namespace, name)``; None: none),
    set at ``key``: ``identity`` names what the workload lacks, ``refusal`` what the store does."""
    if bound is None:
        yield None, f"has no {identity}: {key} is not set"
    elif bound != (namespace, account):
        yield None, f"disagrees with {key} ({bound[0]}/{bound[1]}): {refusal}"


def source_problems(
    settings: StackSettings, consumer: str, sources: Iterable[str], key: str
) -> Iterator[tuple[str, str]]:
    """Why ``consumer`` cannot read ``sources`` in this stack: a source not enabled, or listed
    after the consumer in ``backends`` (it would not be deployed yet). ``key`` is the consumer's
    setting that names the sources."""
    order = list(settings.backends)
    for source in sources:
        if source not in order:
            yield (
                key,
                f"names '{source}', which {NAMESPACE}backends does not enable",
            )
        elif consumer in order and order.index(source) > order.index(consumer):
            yield (
                f"{NAMESPACE}backends",
                f"'{consumer}' reads what '{source}' deploys ({key}): list '{source}' before "
                f"'{consumer}'",
            )


_REGISTRY: dict[str, Backend] = {}
_discovered = False


def register(backend: Backend) -> Backend:
    """Add a backend to the registry (its package's ``__init__`` does this on import)."""
    if not isinstance(backend, Backend):
        raise TypeError(f"{backend!r} does not implement the Backend protocol")
    existing = _REGISTRY.get(backend.name)
    if existing is not None and existing is not backend:
        raise ValueError(f"backend {backend.name!r} is registered twice")
    _REGISTRY[backend.name] = backend
    return backend


def unregister(name: str) -> None:
    _REGISTRY.pop(name, None)


@contextmanager
def registered(backend: Backend) -> Iterator[Backend]:
    """Register ``backend`` for the duration of a block (tests)."""
    register(backend)
    try:
        yield backend
    finally:
        unregister(backend.name)


def _discover() -> None:
    global _discovered
    if _discovered:
        return
    for module in pkgutil.iter_modules(__path__):
        if module.ispkg:
            importlib.import_module(f"{__name__}.{module.name}")
    _discovered = True


def registry() -> Mapping[str, Backend]:
    """Every registered backend, by name."""
    _discover()
    return _REGISTRY


def enabled(settings: StackSettings) -> list[tuple[Backend, Any]]:
    """The stack's enabled backends with their validated settings blocks, in ``backends`` order."""
    backends = registry()
    return [(backends[n], settings.backend(n)) for n in settings.backends]
