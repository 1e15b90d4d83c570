"""Transport doubles of GCP Secret Manager and Azure Key Vault, behind the official clients.

Neither cloud has a local server, so the official client libraries talk, through their normal
HTTP stack, to a ``requests`` adapter that implements the documented REST API of the service:

* ``GcpSecretManagerDouble``: Secret Manager v1 REST (``secrets.get``, ``secrets.patch`` with
  ``updateMask`` and etag check — a stale etag is FAILED_PRECONDITION, HTTP 400 —,
  ``secrets.addVersion``, ``versions.list``, ``versions.access`` by number, ``latest`` or alias,
  ``versions.disable``; a disabled version cannot be accessed (FAILED_PRECONDITION), an alias
  must name an existing, not destroyed version). Used by ``SecretManagerServiceClient`` with
  ``transport="rest"``, its ``AuthorizedSession`` carrying the adapter.
* ``KeyVaultDouble``: Key Vault secrets REST (PUT creates a new version, GET latest or by
  version — a disabled version is 403 "Operation get is not allowed on a disabled secret" —,
  PATCH a version's attributes/tags, GET versions), behind Key Vault's bearer challenge (401
  with ``WWW-Authenticate`` until a token is sent). Used by ``SecretClient`` with an azure-core
  ``RequestsTransport`` over a session carrying the adapter.

Faults are injected per request (``fail_next``) to make a store refuse a write.
"""

from __future__ import annotations

import base64
import io
import itertools
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import requests
import urllib3
from requests.adapters import BaseAdapter

FAKE_TOKEN = "fake-bearer-token-for-tests"  # pragma: allowlist secret


def _response(request: requests.PreparedRequest, status: int, body: Any, **headers: str) -> Any:
    resp = requests.Response()
    resp.status_code = status
    resp._content = json.dumps(body).encode() if body is not None else b""
    resp.raw = urllib3.HTTPResponse(
        body=io.BytesIO(resp._content), status=status, preload_content=False
    )
    resp.headers.update({"Content-Type": "application/json", **headers})
    resp.request = request
    resp.url = str(request.url)
    resp.reason = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden"}.get(
        status, "Error"
    )
    return resp


class _Adapter(BaseAdapter):
    def __init__(self, handle: Callable[[requests.PreparedRequest], Any]) -> None:
        super().__init__()
        self.handle = handle

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> Any:
        return self.handle(request)

    def close(self) -> None:
        return None


# --- GCP Secret Manager -------------------------------------------------------------------------


def _rfc3339(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1e6):06d}Z"


@dataclass
class _GcpVersion:
    number: int
    data: bytes
    created: float
    state: str = "ENABLED"
    etag: str = field(default_factory=lambda: f'"{secrets.token_hex(6)}"')


@dataclass
class _GcpSecret:
    name: str
    labels: dict[str, str]
    annotations: dict[str, str]
    rotation: dict[str, str] | None
    etag: str = field(default_factory=lambda: f'"{secrets.token_hex(6)}"')
    aliases: dict[str, int] = field(default_factory=dict)
    versions: dict[int, _GcpVersion] = field(default_factory=dict)
    created: float = field(default_factory=time.time)

    def json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": self.name,
            "replication": {"automatic": {}},
            "createTime": _rfc3339(self.created),
            "labels": self.labels,
            "annotations": self.annotations,
            "versionAliases": {k: str(v) for k, v in self.aliases.items()},
            "etag": self.etag,
        }
        if self.rotation:
            body["rotation"] = self.rotation
        return body


class GcpSecretManagerDouble:
    HOST = "https://secretmanager.googleapis.com"

    def __init__(self) -> None:
        self.secrets: dict[str, _GcpSecret] = {}
        self.requests: list[tuple[str, str]] = []
        self.fail_next: dict[str, int] = {}  # "<method> <suffix>" -> remaining 500s

    # -- setup (what the Pulumi program creates) --
    def create_secret(
        self,
        name: str,
        value: str,
        labels: dict[str, str],
        annotations: dict[str, str],
        rotation_period_s: int | None = 90 * 86400,
    ) -> str:
        rotation = None
        if rotation_period_s:
            rotation = {
                "rotationPeriod": f"{rotation_period_s}s",
                "nextRotationTime": _rfc3339(time.time() + rotation_period_s),
            }
        self.secrets[name] = _GcpSecret(name, dict(labels), dict(annotations), rotation)
        self._add(name, value.encode())
        return name

    def _add(self, name: str, data: bytes) -> _GcpVersion:
        secret = self.secrets[name]
        number = max(secret.versions, default=0) + 1
        secret.versions[number] = _GcpVersion(number, data, time.time())
        return secret.versions[number]

    def session_adapter(self) -> BaseAdapter:
        return _Adapter(self.handle)

    # -- REST --
    @staticmethod
    def _error(request: Any, status: int, code: str, message: str) -> Any:
        return _response(
            request, status, {"error": {"code": status, "message": message, "status": code}}
        )

    def _version_json(self, secret: _GcpSecret, v: _GcpVersion) -> dict[str, Any]:
        return {
            "name": f"{secret.name}/versions/{v.number}",
            "createTime": _rfc3339(v.created),
            "state": v.state,
            "etag": v.etag,
        }

    def _resolve(self, secret: _GcpSecret, ref: str) -> _GcpVersion | None:
        if ref == "latest":
            number = max(secret.versions, default=0)
        elif ref.isdigit():
            number = int(ref)
        else:
            number = secret.aliases.get(ref, 0)
        return secret.versions.get(number)

    def handle(self, request: requests.PreparedRequest) -> Any:
        url = urlsplit(str(request.url))
        method = str(request.method)
        path = unquote(url.path).removeprefix("/v1/")
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        self.requests.append((method, path))
        for key, remaining in list(self.fail_next.items()):
            if remaining and f"{method} {path}".endswith(key):
                self.fail_next[key] = remaining - 1
                return self._error(request, 503, "UNAVAILABLE", "injected fault")
        body = json.loads(request.body) if request.body else {}
        base, _, verb = path.partition(":")
        parts = base.split("/")
        if len(parts) < 4 or parts[0] != "projects" or parts[2] != "secrets":
            return self._error(request, 404, "NOT_FOUND", f"no route {path}")
        name = "/".join(parts[:4])
        secret = self.secrets.get(name)
        if secret is None:
            return self._error(request, 404, "NOT_FOUND", f"Secret [{name}] not found.")
        if len(parts) == 4 and not verb and method == "GET":
            return _response(request, 200, secret.json())
        if len(parts) == 4 and not verb and method == "PATCH":
            return self._patch(request, secret, body, query.get("updateMask", ""))
        if len(parts) == 4 and verb == "addVersion" and method == "POST":
            data = base64.b64decode(body["payload"]["data"])
            version = self._add(name, data)
            return _response(request, 200, self._version_json(secret, version))
        if len(parts) == 5 and parts[4] == "versions" and method == "GET":
            listed = [
                self._version_json(secret, v)
                for v in sorted(secret.versions.values(), key=lambda v: -v.number)
            ]
            return _response(request, 200, {"versions": listed, "totalSize": len(listed)})
        if len(parts) == 6 and parts[4] == "versions":
            version = self._resolve(secret, parts[5])
            if version is None:
                return self._error(request, 404, "NOT_FOUND", f"Secret Version [{base}] not found.")
            if verb == "access" and method == "GET":
                if version.state != "ENABLED":
                    return self._error(
                        request,
                        400,
                        "FAILED_PRECONDITION",
                        f"Secret Version [{base}] is in {version.state} state.",
                    )
                payload = {"data": base64.b64encode(version.data).decode()}
                return _response(
                    request, 200, {"name": f"{name}/versions/{version.number}", "payload": payload}
                )
            if verb == "disable" and method == "POST":
                if body.get("etag") and body["etag"] != version.etag:
                    return self._error(request, 400, "FAILED_PRECONDITION", "etag mismatch")
                version.state = "DISABLED"
                version.etag = f'"{secrets.token_hex(6)}"'
                return _response(request, 200, self._version_json(secret, version))
        return self._error(request, 404, "NOT_FOUND", f"no route {method} {path}")

    def _patch(self, request: Any, secret: _GcpSecret, body: dict[str, Any], mask: str) -> Any:
        if body.get("etag") and body["etag"] != secret.etag:
            return self._error(
                request,
                400,
                "FAILED_PRECONDITION",
                "The etag provided in the request does not match the current etag.",
            )
        fields = [f for f in mask.split(",") if f]
        if not fields:
            return self._error(request, 400, "INVALID_ARGUMENT", "update_mask is required")
        for f in fields:
            if f == "versionAliases":
                aliases = {k: int(v) for k, v in body.get("versionAliases", {}).items()}
                for alias, number in aliases.items():
                    v = secret.versions.get(number)
                    if alias == "latest" or v is None or v.state == "DESTROYED":
                        return self._error(
                            request, 400, "INVALID_ARGUMENT", f"alias {alias} -> {number}"
                        )
                secret.aliases = aliases
            elif f == "annotations":
                secret.annotations = dict(body.get("annotations", {}))
            elif f == "labels":
                secret.labels = dict(body.get("labels", {}))
            elif f == "rotation.nextRotationTime":
                if secret.rotation is None:
                    return self._error(request, 400, "INVALID_ARGUMENT", "no rotation")
                secret.rotation["nextRotationTime"] = body["rotation"]["nextRotationTime"]
            else:
                return self._error(request, 400, "INVALID_ARGUMENT", f"cannot update {f}")
        secret.etag = f'"{secrets.token_hex(6)}"'
        return _response(request, 200, secret.json())

    def client(self) -> Any:
        from google.api_core.client_options import ClientOptions
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import secretmanager

        client = secretmanager.SecretManagerServiceClient(
            transport="rest",
            credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
            client_options=ClientOptions(api_endpoint=self.HOST),
        )
        client._transport._session.mount(self.HOST, self.session_adapter())
        return client


# --- Azure Key Vault ------------------------------------------------------------------------------


@dataclass
class _KvVersion:
    version: str
    value: str
    tags: dict[str, str]
    content_type: str | None
    enabled: bool
    created: int
    exp: int | None = None
    nbf: int | None = None


class KeyVaultDouble:
    def __init__(self, vault: str = "nt-test") -> None:
        self.host = f"{vault}.vault.azure.net"
        self.url = f"https://{self.host}"
        self.secrets: dict[str, list[_KvVersion]] = {}
        self.requests: list[tuple[str, str]] = []
        self.fail_next: dict[str, int] = {}
        self._clock = itertools.count(int(time.time()))

    def _id(self, name: str, v: _KvVersion) -> str:
        return f"{self.url}/secrets/{name}/{v.version}"

    def _attributes(self, v: _KvVersion) -> dict[str, Any]:
        attrs: dict[str, Any] = {
            "enabled": v.enabled,
            "created": v.created,
            "updated": v.created,
            "recoveryLevel": "Recoverable+Purgeable",
            "recoverableDays": 90,
        }
        if v.exp is not None:
            attrs["exp"] = v.exp
        if v.nbf is not None:
            attrs["nbf"] = v.nbf
        return attrs

    def _bundle(self, name: str, v: _KvVersion, *, value: bool = True) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self._id(name, v),
            "attributes": self._attributes(v),
            "tags": v.tags,
        }
        if v.content_type is not None:
            body["contentType"] = v.content_type
        if value:
            body["value"] = v.value
        return body

    def put(self, name: str, value: str, tags: dict[str, str], exp: int | None = None) -> str:
        v = _KvVersion(
            secrets.token_hex(16), value, dict(tags), "text/plain", True, next(self._clock), exp
        )
        self.secrets.setdefault(name, []).append(v)
        return v.version

    def latest(self, name: str) -> _KvVersion:
        return self.secrets[name][-1]

    @staticmethod
    def _error(request: Any, status: int, code: str, message: str, inner: str | None = None) -> Any:
        error: dict[str, Any] = {"code": code, "message": message}
        if inner:
            error["innererror"] = {"code": inner}
        return _response(request, status, {"error": error})

    def handle(self, request: requests.PreparedRequest) -> Any:
        url = urlsplit(str(request.url))
        method = str(request.method)
        if request.headers.get("Authorization") != f"Bearer {FAKE_TOKEN}":
            return _response(
                request,
                401,
                {
                    "error": {
                        "code": "Unauthorized",
                        "message": "AKV10000: Request is missing a Bearer or PoP token.",
                    }
                },
                **{
                    "WWW-Authenticate": 'Bearer authorization="https://login.microsoftonline.com/'
                    '00000000-0000-0000-0000-000000000000", resource="https://vault.azure.net"'
                },
            )
        parts = [unquote(p) for p in url.path.strip("/").split("/")]
        self.requests.append((method, url.path))
        for key, remaining in list(self.fail_next.items()):
            if remaining and f"{method} {url.path}".endswith(key):
                self.fail_next[key] = remaining - 1
                return self._error(request, 503, "ServiceUnavailable", "injected fault")
        if not parts or parts[0] != "secrets" or len(parts) < 2:
            return self._error(request, 404, "NotFound", "no route")
        name = parts[1]
        body = json.loads(request.body) if request.body else {}
        if method == "PUT" and len(parts) == 2:
            attrs = body.get("attributes") or {}
            v = _KvVersion(
                secrets.token_hex(16),
                body["value"],
                dict(body.get("tags") or {}),
                body.get("contentType"),
                attrs.get("enabled", True),
                next(self._clock),
                attrs.get("exp"),
                attrs.get("nbf"),
            )
            self.secrets.setdefault(name, []).append(v)
            return _response(request, 200, self._bundle(name, v))
        versions = self.secrets.get(name)
        if not versions:
            return self._error(
                request,
                404,
                "SecretNotFound",
                f"A secret with (name/id) {name} was not found in this key vault.",
            )
        if method == "GET" and len(parts) == 3 and parts[2] == "versions":
            items = [self._bundle(name, v, value=False) for v in versions]
            return _response(request, 200, {"value": items, "nextLink": None})
        ref = parts[2] if len(parts) > 2 else ""
        found = versions[-1] if not ref else next((v for v in versions if v.version == ref), None)
        if found is None:
            return self._error(
                request,
                404,
                "SecretNotFound",
                f"A secret with (name/id) {name}/{ref} was not found.",
            )
        if method == "GET":
            if not found.enabled:
                return self._error(
                    request,
                    403,
                    "Forbidden",
                    "Operation get is not allowed on a disabled secret.",
                    "SecretDisabled",
                )
            return _response(request, 200, self._bundle(name, found))
        if method == "PATCH":
            attrs = body.get("attributes") or {}
            if "enabled" in attrs:
                found.enabled = bool(attrs["enabled"])
            if "exp" in attrs:
                found.exp = attrs["exp"]
            if "tags" in body:
                found.tags = dict(body["tags"] or {})
            if "contentType" in body:
                found.content_type = body["contentType"]
            return _response(request, 200, self._bundle(name, found, value=False))
        return self._error(request, 405, "BadRequest", f"no route {method}")

    def client(self) -> Any:
        from azure.core.credentials import AccessToken
        from azure.core.pipeline.transport import RequestsTransport
        from azure.keyvault.secrets import SecretClient

        class Credential:
            def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
                assert scopes == ("https://vault.azure.net/.default",), scopes
                return AccessToken(FAKE_TOKEN, int(time.time()) + 3600)

        session = requests.Session()
        session.mount(self.url, _Adapter(self.handle))
        return SecretClient(
            self.url,
            Credential(),  # type: ignore[arg-type]
            transport=RequestsTransport(session=session, session_owner=False),
            retry_total=0,
        )
