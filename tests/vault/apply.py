"""Apply a plan's Vault resources to a real OpenBao, exactly as captured. NOT a deployment engine.

It supports only the resource types the program declares, applies every captured input of each
(nothing is diffed, refreshed or deleted), in dependency order, and fails loudly on any other
``vault:*`` type and on any input it does not know how to apply, so a change to the program can
never be silently ignored by the harness.

Deliberate differences from a real deployment (each one marked "HARNESS" below):

1. ``kubernetes_host`` of the Kubernetes auth config points at the local TokenReview stub
   (``tests/vault/tokenreview.py``, TLS with a self-signed certificate) instead of the cluster's
   API server, with the stub's certificate as ``kubernetes_ca_cert``, its reviewer JWT as
   ``token_reviewer_jwt`` and ``disable_local_ca_jwt=true``: OpenBao runs outside a pod, so it
   has no local service-account token or CA to read (and OpenBao then requires the CA).
2. The AppRole's CIDR bindings can be replaced (``Cidrs``) by the test that proves them: the test
   client connects from 127.0.0.1, never from CI's networks.
3. The audit device is not applied here at all: OpenBao 2.x only accepts it from its server
   configuration (``server.py`` declares it from the same resource); here it is verified.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import hvac

from nt_secrets.capture import Capture, CapturedResource

MOUNT = "vault:index/mount:Mount"
KV_CONFIG = "vault:kv/secretBackendV2:SecretBackendV2"
KV_SECRET = "vault:kv/secretV2:SecretV2"
POLICY = "vault:index/policy:Policy"
AUTH_BACKEND = "vault:index/authBackend:AuthBackend"
K8S_CONFIG = "vault:kubernetes/authBackendConfig:AuthBackendConfig"
K8S_ROLE = "vault:kubernetes/authBackendRole:AuthBackendRole"
APPROLE_ROLE = "vault:appRole/authBackendRole:AuthBackendRole"
TRANSIT_KEY = "vault:transit/secretBackendKey:SecretBackendKey"
AUDIT = "vault:index/audit:Audit"


class Unsupported(NotImplementedError):
    """A ``vault:*`` type or input the harness does not know how to apply."""


@dataclass(frozen=True)
class KubernetesRedirect:
    """HARNESS: where the Kubernetes auth method sends TokenReviews (the local stub)."""

    host: str
    reviewer_jwt: str
    ca_cert: str


@dataclass(frozen=True)
class Cidrs:
    """HARNESS: replacement CIDR bindings for the AppRole role (None: the plan's)."""

    secret_id: tuple[str, ...] | None = None
    token: tuple[str, ...] | None = None


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _check_inputs(r: CapturedResource, known: Iterable[str]) -> dict[str, Any]:
    inputs = dict(r.raw_inputs)
    unknown = sorted(set(inputs) - set(known))
    if unknown:
        raise Unsupported(f"{r.type} {r.name}: the harness cannot apply the inputs {unknown}")
    return inputs


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


# ---- one function per supported type --------------------------------------------------------


def _mount(client: hvac.Client, r: CapturedResource, ctx: _Context) -> None:
    i = _check_inputs(r, {"path", "type", "options", "description"})
    client.sys.enable_secrets_engine(
        backend_type=i["type"],
        path=i["path"],
        description=i.get("description"),
        options=i.get("options"),
    )


def _kv_config(client: hvac.Client, r: CapturedResource, ctx: _Context) -> None:
    i = _check_inputs(r, {"mount", "casRequired", "maxVersions", "deleteVersionAfter"})
    client.write_data(
        f"{i['mount']}/config",
        data={
            "cas_required": i.get("casRequired", False),
            "max_versions": i.get("maxVersions", 0),
            "delete_version_after": f"{int(i.get('deleteVersionAfter', 0))}s",
        },
    )


SECRET_INPUTS = {
    "mount",
    "name",
    "dataJsonWo",
    # Provider-side only: when to send the write-only value again; nothing reaches the API.
    "dataJsonWoVersion",
    "cas",
    "customMetadata",
    # Provider-side only: whether the provider reads the value back into state.
    "disableRead",
}


def secret_metadata(r: CapturedResource) -> dict[str, Any]:
    """The ``metadata/`` body of a planned KV v2 secret (its ``customMetadata`` block)."""
    meta = r.raw_inputs.get("customMetadata")
    if not meta:
        return {}
    unknown = sorted(set(meta) - {"maxVersions", "casRequired", "deleteVersionAfter", "data"})
    if unknown:
        raise Unsupported(f"{r.type} {r.name}: customMetadata keys {unknown}")
    return {
        "max_versions": meta.get("maxVersions", 0),
        "cas_required": meta.get("casRequired", False),
        "delete_version_after": f"{int(meta.get('deleteVersionAfter', 0))}s",
        "custom_metadata": dict(meta.get("data") or {}),
    }


def secret_value(r: CapturedResource) -> dict[str, Any]:
    """The secret's data as planned (``dataJsonWo``; the mock engine's canary for generated ones)."""
    value: dict[str, Any] = json.loads(r.raw_inputs["dataJsonWo"])
    return value


def write_secret(
    client: hvac.Client, r: CapturedResource, *, cas: int | None = None, written: set[str]
) -> int:
    """Write the planned value (check-and-set ``cas``, the plan's by default) and then its custom
    metadata, as the provider does. Returns the version written."""
    i = _check_inputs(r, SECRET_INPUTS)
    data = secret_value(r)
    written.update(_strings(data))
    options = (
        {"cas": int(i["cas"] if cas is None else cas)} if "cas" in i or cas is not None else {}
    )
    resp = client.write_data(
        f"{i['mount']}/data/{i['name']}", data={"data": data, "options": options}
    )
    metadata = secret_metadata(r)
    if metadata:
        client.write_data(f"{i['mount']}/metadata/{i['name']}", data=metadata)
    return int(resp["data"]["version"])


def _kv_secret(client: hvac.Client, r: CapturedResource, ctx: _Context) -> None:
    write_secret(client, r, written=ctx.written)


def _policy(client: hvac.Client, r: CapturedResource, ctx: _Context) -> None:
    i = _check_inputs(r, {"name", "policy"})
    client.sys.create_or_update_acl_policy(name=i["name"], policy=i["policy"])


def _auth_backend(client: hvac.Client, r: CapturedResource, ctx: _Context) -> None:
    i = _check_inputs(r, {"type", "path", "description"})
    client.sys.enable_auth_method(
        method_type=i["type"], path=i.get("path") or i["type"], description=i.get("description")
    )


def _k8s_config(client: hvac.Client, r: CapturedResource, ctx: _Context) -> None:
    i = _check_inputs(r, {"backend", "kubernetesHost"})
    if ctx.kubernetes is None:
        raise Unsupported(f"{r.name}: Kubernetes auth needs the TokenReview stub")
    client.write_data(
        f"auth/{i['backend']}/config",
        data={
            # HARNESS: the plan's kubernetesHost (the cluster's API server) is replaced by the
            # local TokenReview stub; the reviewer JWT and disable_local_ca_jwt stand in for the
            # service-account token and CA a Vault pod would read from its own filesystem.
            "kubernetes_host": ctx.kubernetes.host,
            "kubernetes_ca_cert": ctx.kubernetes.ca_cert,
            "token_reviewer_jwt": ctx.kubernetes.reviewer_jwt,
            "disable_local_ca_jwt": True,
        },
    )


K8S_ROLE_BODY = {
    "boundServiceAccountNames",
    "boundServiceAccountNamespaces",
    "audience",
    "tokenTtl",
    "tokenMaxTtl",
    "tokenPolicies",
    "tokenNoDefaultPolicy",
    "tokenType",
}


def _k8s_role(client: hvac.Client, r: CapturedResource, ctx: _Context) -> None:
    i = _check_inputs(r, {"backend", "roleName", *K8S_ROLE_BODY})
    body = {_snake(k): v for k, v in i.items() if k in K8S_ROLE_BODY}
    client.write_data(f"auth/{i['backend']}/role/{i['roleName']}", data=body)


APPROLE_BODY = {
    "bindSecretId",
    "secretIdNumUses",
    "secretIdTtl",
    "secretIdBoundCidrs",
    "tokenBoundCidrs",
    "tokenTtl",
    "tokenMaxTtl",
    "tokenPolicies",
    "tokenNoDefaultPolicy",
}


def approle_role(
    client: hvac.Client, r: CapturedResource, cidrs: Cidrs | None = None
) -> dict[str, Any]:
    """Write the AppRole role; ``cidrs`` replaces the plan's CIDR bindings (HARNESS, for the one
    test that proves them from 127.0.0.1). Returns the body written."""
    i = _check_inputs(r, {"backend", "roleName", *APPROLE_BODY})
    body = {_snake(k): v for k, v in i.items() if k in APPROLE_BODY}
    if cidrs is not None and cidrs.secret_id is not None:
        body["secret_id_bound_cidrs"] = list(cidrs.secret_id)
    if cidrs is not None and cidrs.token is not None:
        body["token_bound_cidrs"] = list(cidrs.token)
    client.write_data(f"auth/{i['backend']}/role/{i['roleName']}", data=body)
    return body


def _approle_role(client: hvac.Client, r: CapturedResource, ctx: _Context) -> None:
    approle_role(client, r)


TRANSIT_CREATE = {
    "type",
    "derived",
    "keySize",
    "exportable",
    "allowPlaintextBackup",
    "autoRotatePeriod",
}
TRANSIT_CONFIG = {"deletionAllowed", "exportable", "allowPlaintextBackup", "autoRotatePeriod"}


def _transit_key(client: hvac.Client, r: CapturedResource, ctx: _Context) -> None:
    i = _check_inputs(r, {"backend", "name", *TRANSIT_CREATE, *TRANSIT_CONFIG})
    base = f"{i['backend']}/keys/{i['name']}"
    # As the provider does: create with the immutable properties, then set the mutable ones.
    client.write_data(base, data={_snake(k): i[k] for k in TRANSIT_CREATE if k in i})
    client.write_data(f"{base}/config", data={_snake(k): i[k] for k in TRANSIT_CONFIG if k in i})


def _audit(client: hvac.Client, r: CapturedResource, ctx: _Context) -> None:
    """Declared in the server config (server.py); here only verified, every input compared."""
    i = _check_inputs(r, {"type", "path", "description", "options"})
    path = f"{str(i.get('path') or i['type']).strip('/')}/"
    devices = client.sys.list_enabled_audit_devices()["data"]
    if path not in devices:
        raise AssertionError(f"audit device {path} of {r.name} is not enabled: {sorted(devices)}")
    device = devices[path]
    planned = {k: v for k, v in (i.get("options") or {}).items() if k != "file_path"}
    actual = {k: v for k, v in (device.get("options") or {}).items() if k != "file_path"}
    mismatch = [
        (what, want, got)
        for what, want, got in (
            ("type", i["type"], device.get("type")),
            ("description", i.get("description", ""), device.get("description")),
            ("options", planned, actual),
        )
        if want != got
    ]
    if mismatch:
        raise AssertionError(f"audit device {path} differs from the plan: {mismatch}")


@dataclass
class _Context:
    kubernetes: KubernetesRedirect | None
    written: set[str]


APPLIERS: Mapping[str, Callable[[hvac.Client, CapturedResource, _Context], None]] = {
    MOUNT: _mount,
    KV_CONFIG: _kv_config,
    KV_SECRET: _kv_secret,
    POLICY: _policy,
    AUTH_BACKEND: _auth_backend,
    K8S_CONFIG: _k8s_config,
    K8S_ROLE: _k8s_role,
    APPROLE_ROLE: _approle_role,
    TRANSIT_KEY: _transit_key,
    AUDIT: _audit,
}


def vault_resources(capture: Capture) -> list[CapturedResource]:
    """The plan's ``vault:*`` resources; Unsupported for any type the harness cannot apply."""
    out = [r for r in capture.resources if r.type.startswith("vault:")]
    unknown = sorted({f"{r.type} ({r.name})" for r in out if r.type not in APPLIERS})
    if unknown:
        raise Unsupported(f"the harness supports no {', '.join(unknown)}")
    return out


def dependency_order(resources: list[CapturedResource]) -> list[CapturedResource]:
    """Resources ordered so that each comes after every resource it depends on (explicit and
    property dependencies among the given resources); ties keep the given order."""
    by_urn = {r.urn: r for r in resources}
    deps = {
        r.urn: {
            u
            for u in (*r.dependencies, *(u for us in r.property_dependencies.values() for u in us))
            if u in by_urn and u != r.urn
        }
        for r in resources
    }
    done: list[CapturedResource] = []
    placed: set[str] = set()
    pending = list(resources)
    while pending:
        ready = [r for r in pending if deps[r.urn] <= placed]
        if not ready:
            raise ValueError(f"dependency cycle among {[r.name for r in pending]}")
        for r in ready:
            done.append(r)
            placed.add(r.urn)
        pending = [r for r in pending if r.urn not in placed]
    return done


def apply(
    client: hvac.Client,
    capture: Capture,
    *,
    kubernetes: KubernetesRedirect | None,
    written: set[str],
) -> list[CapturedResource]:
    """Apply every Vault resource of the plan with ``client`` (a root token); returns them in the
    order applied. ``written`` collects every plaintext value sent."""
    ctx = _Context(kubernetes=kubernetes, written=written)
    ordered = dependency_order(vault_resources(capture))
    for r in ordered:
        try:
            APPLIERS[r.type](client, r, ctx)
        except hvac.exceptions.VaultError as exc:
            raise AssertionError(
                f"OpenBao rejected {r.type} {r.name} with inputs "
                f"{json.dumps(redacted_inputs(r), sort_keys=True)}: {exc}"
            ) from exc
    return ordered


def redacted_inputs(r: CapturedResource) -> dict[str, Any]:
    """Inputs fit for a failure message: secret-marked values stay ``[secret]``."""
    return r.inputs
