"""A tiny Kubernetes API on loopback: just ``POST /apis/authentication.k8s.io/v1/tokenreviews``.

OpenBao's Kubernetes auth method sends every login's JWT to the cluster's TokenReview API and
trusts its answer. This stub answers like the API server does for service-account tokens: it
verifies the RS256 signature with the cluster's (here: our) key, the expiry, and the audiences the
review asks for, and answers ``authenticated`` with the service account's user info, or
``authenticated: false`` with an error. The caller (OpenBao) must present the token reviewer's own
service-account JWT as its bearer, as a real API server requires (``system:auth-delegator``).

Service-account JWTs are minted here with the claims a projected token carries (``iss``, ``sub``
``system:serviceaccount:<ns>:<name>``, ``aud``, ``exp``, the nested ``kubernetes.io`` claim) plus
the legacy ``kubernetes.io/serviceaccount/*`` claims.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import ssl
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from tests.servers import LOOPBACK

TOKENREVIEW_PATH = "/apis/authentication.k8s.io/v1/tokenreviews"
ISSUER = "https://kubernetes.default.svc.cluster.local"
REVIEWER = ("openbao", "openbao-token-reviewer")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def mint_jwt(key: rsa.RSAPrivateKey, claims: dict[str, Any], kid: str = "harness") -> str:
    header = {"alg": "RS256", "typ": "JWT", "kid": kid}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64(signature)}"


def service_account_claims(
    namespace: str, name: str, audiences: list[str], *, uid: str | None = None, ttl: int = 600
) -> dict[str, Any]:
    now = int(time.time())
    uid = uid or str(uuid.uuid5(uuid.NAMESPACE_URL, f"sa/{namespace}/{name}"))
    return {
        "iss": ISSUER,
        "sub": f"system:serviceaccount:{namespace}:{name}",
        "aud": audiences,
        "iat": now,
        "nbf": now,
        "exp": now + ttl,
        "kubernetes.io": {
            "namespace": namespace,
            "serviceaccount": {"name": name, "uid": uid},
        },
        "kubernetes.io/serviceaccount/namespace": namespace,
        "kubernetes.io/serviceaccount/service-account.name": name,
        "kubernetes.io/serviceaccount/service-account.uid": uid,
    }


def self_signed(key: rsa.RSAPrivateKey) -> tuple[str, str]:
    """A self-signed serving certificate for 127.0.0.1 (PEM cert, PEM key): the stub's "cluster
    CA", handed to OpenBao as ``kubernetes_ca_cert``."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver-stub")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(LOOPBACK))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem.decode()


class TokenInvalid(Exception):
    pass


def verify_jwt(key: rsa.RSAPublicKey, token: str) -> dict[str, Any]:
    """The claims of a valid, unexpired RS256 token signed by ``key``; else TokenInvalid."""
    try:
        head_b64, claims_b64, sig_b64 = token.split(".")
        header = json.loads(_unb64(head_b64))
        claims: dict[str, Any] = json.loads(_unb64(claims_b64))
        signature = _unb64(sig_b64)
    except (ValueError, json.JSONDecodeError) as exc:
        raise TokenInvalid("malformed token") from exc
    if header.get("alg") != "RS256":
        raise TokenInvalid(f"unexpected alg {header.get('alg')!r}")
    try:
        key.verify(
            signature, f"{head_b64}.{claims_b64}".encode(), padding.PKCS1v15(), hashes.SHA256()
        )
    except InvalidSignature as exc:
        raise TokenInvalid("invalid bearer token: bad signature") from exc
    now = time.time()
    if claims.get("exp", 0) < now or claims.get("nbf", 0) > now + 5:
        raise TokenInvalid("token has expired")
    return claims


def _audiences(claims: dict[str, Any]) -> list[str]:
    aud = claims.get("aud", [])
    return [aud] if isinstance(aud, str) else list(aud)


@dataclass
class TokenReviewStub:
    """The stub API server: its signing key, the reviewer's JWT, and every review it answered."""

    key: rsa.RSAPrivateKey = field(default_factory=new_key, repr=False)
    reviews: list[dict[str, Any]] = field(default_factory=list, repr=False)
    #: Every JWT minted (the audit test's needles).
    minted: set[str] = field(default_factory=set, repr=False)
    server: ThreadingHTTPServer | None = None
    thread: threading.Thread | None = None
    reviewer_jwt: str = field(default="", repr=False)
    #: The serving certificate (PEM): what OpenBao is given as ``kubernetes_ca_cert``.
    ca_cert: str = field(default="", repr=False)

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"https://{LOOPBACK}:{self.server.server_address[1]}"

    def jwt(
        self,
        namespace: str,
        name: str,
        audiences: list[str],
        *,
        key: rsa.RSAPrivateKey | None = None,
        ttl: int = 600,
    ) -> str:
        return mint_jwt(
            key or self.key, service_account_claims(namespace, name, audiences, ttl=ttl)
        )

    def review(self, authorization: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """The API server's answer to one TokenReview request (status code, body)."""
        public = self.key.public_key()
        bearer = authorization.removeprefix("Bearer ").strip()
        try:
            caller = verify_jwt(public, bearer)
        except TokenInvalid:
            return 401, {
                "kind": "Status",
                "status": "Failure",
                "reason": "Unauthorized",
                "code": 401,
            }
        if caller.get("sub") != "system:serviceaccount:{}:{}".format(*REVIEWER):
            return 403, {"kind": "Status", "status": "Failure", "reason": "Forbidden", "code": 403}
        spec = body.get("spec") or {}
        wanted = list(spec.get("audiences") or [])
        status: dict[str, Any]
        try:
            claims = verify_jwt(public, str(spec.get("token", "")))
            have = _audiences(claims)
            granted = [a for a in wanted if a in have] if wanted else have
            if wanted and not granted:
                raise TokenInvalid(
                    f"token audiences {have} is invalid for the target audiences {wanted}"
                )
            sa = claims["kubernetes.io"]
            namespace, name = sa["namespace"], sa["serviceaccount"]["name"]
            status = {
                "authenticated": True,
                "user": {
                    "username": f"system:serviceaccount:{namespace}:{name}",
                    "uid": sa["serviceaccount"]["uid"],
                    "groups": [
                        "system:serviceaccounts",
                        f"system:serviceaccounts:{namespace}",
                        "system:authenticated",
                    ],
                },
                "audiences": granted,
            }
        except (TokenInvalid, KeyError, TypeError) as exc:
            status = {"authenticated": False, "error": str(exc) or "invalid token"}
        self.reviews.append({"audiences": wanted, "status": status})
        return 201, {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenReview",
            "metadata": {"creationTimestamp": None},
            "spec": spec,
            "status": status,
        }

    def start(self) -> TokenReviewStub:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                del format, args

            def _send(self, code: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                if self.path.split("?")[0] != TOKENREVIEW_PATH:
                    self._send(404, {"kind": "Status", "code": 404, "reason": "NotFound"})
                    return
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except json.JSONDecodeError:
                    self._send(400, {"kind": "Status", "code": 400, "reason": "BadRequest"})
                    return
                self._send(*stub.review(self.headers.get("Authorization", ""), body))

        self.server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self.server.daemon_threads = True
        # OpenBao insists on kubernetes_ca_cert once it may not read a pod's CA: serve TLS.
        self.ca_cert, key_pem = self_signed(new_key())
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with tempfile.TemporaryDirectory() as tmp:
            cert_file, key_file = f"{tmp}/tls.crt", f"{tmp}/tls.key"
            with open(cert_file, "w") as f:
                f.write(self.ca_cert)
            with open(key_file, "w") as f:
                f.write(key_pem)
            tls.load_cert_chain(cert_file, key_file)
        self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.reviewer_jwt = self.jwt(*REVIEWER, audiences=[ISSUER], ttl=3600)
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
        if self.thread is not None:
            self.thread.join(5)
        self.server = self.thread = None
