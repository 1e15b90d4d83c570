"""Key derivation (transit), done for real with the roles' own tokens: a role may call exactly the
operations of the purposes its policy names (it reads the purpose's catalog secret, unrevoked);
keys are derived per context, never exportable, backed up or deleted."""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from typing import Any

import hvac
import pytest
from hvac.exceptions import Forbidden

from infra.access import ROLE_NAMES, Action, RoleName
from infra.backends.vault.documents import PURPOSES, Purpose
from tests.vault import apply as ap
from tests.vault.conftest import REVOKED_KEY, STACKS, Deployment, Deployments
from tests.vault.report import REPORT

pytestmark = pytest.mark.servers

#: The workload role that logs in (Kubernetes) in each stack.
WORKLOAD: dict[str, RoleName] = {"dev": "backtest", "prod": "live-trading"}


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


CTX_A, CTX_B = b64("tenant-a/account-1"), b64("tenant-b/account-2")
PLAIN = b64("FAKE-transit-plaintext")


class Inputs:
    """Valid inputs for one key, made by root with context A."""

    def __init__(self, d: Deployment, purpose: str) -> None:
        self.base = d.transit
        self.purpose = purpose
        root = d.root
        kind = PURPOSES[purpose].key_type
        self.ciphertext = self.signature = self.hmac = "vault:v1:AAAA"
        if kind.startswith("aes"):
            self.ciphertext = root.write_data(
                f"{d.transit}/encrypt/{purpose}", data={"plaintext": PLAIN, "context": CTX_A}
            )["data"]["ciphertext"]
        if kind == "ed25519":
            self.signature = root.write_data(
                f"{d.transit}/sign/{purpose}", data={"input": PLAIN, "context": CTX_A}
            )["data"]["signature"]
        self.hmac = root.write_data(f"{d.transit}/hmac/{purpose}", data={"input": PLAIN})["data"][
            "hmac"
        ]

    def path(self, op: str) -> str:
        return f"{self.base}/{op}/{self.purpose}"


def _post(path: str, **body: Any) -> Callable[[hvac.Client, Inputs], Any]:
    def call(c: hvac.Client, i: Inputs) -> Any:
        data = {k: getattr(i, v[1:]) if v.startswith("@") else v for k, v in body.items()}
        return c.write_data(i.path(path), data=data)

    return call


def _verify(c: hvac.Client, i: Inputs) -> Any:
    proof = {"hmac": i.hmac} if PURPOSES[i.purpose].key_type.startswith("aes") else {}
    proof = proof or {"signature": i.signature}
    return c.write_data(i.path("verify"), data={"input": PLAIN, "context": CTX_A, **proof})


#: Every transit operation on a named key. Only encrypt/decrypt/rewrap/sign/verify/hmac are ever
#: granted (``documents.PURPOSES``); the rest must be denied to every role.
OPERATIONS: Mapping[str, Callable[[hvac.Client, Inputs], Any]] = {
    "encrypt": _post("encrypt", plaintext=PLAIN, context=CTX_A),
    "decrypt": _post("decrypt", ciphertext="@ciphertext", context=CTX_A),
    "rewrap": _post("rewrap", ciphertext="@ciphertext", context=CTX_A),
    "sign": _post("sign", input=PLAIN, context=CTX_A),
    "verify": _verify,
    "hmac": _post("hmac", input=PLAIN),
    "datakey": _post("datakey/plaintext", context=CTX_A),
    "read-key": lambda c, i: c.read(i.path("keys")),
    "rotate": lambda c, i: c.write_data(i.path("keys") + "/rotate", data={}),
    "config": lambda c, i: c.write_data(i.path("keys") + "/config", data={}),
    "export": lambda c, i: c.read(f"{i.base}/export/encryption-key/{i.purpose}"),
    "backup": lambda c, i: c.read(i.path("backup")),
    "delete": lambda c, i: c.delete(i.path("keys")),
}


def expected(d: Deployment, role: RoleName, purpose: str, op: str) -> bool:
    spec: Purpose = PURPOSES[purpose]
    secret = d.estate.secret(spec.catalog_name)
    reads = Action.READ in secret.grants.get(role, frozenset()) and not secret.revoked
    return reads and op in spec.operations


def outcome(call: Callable[[hvac.Client, Inputs], Any], c: hvac.Client, i: Inputs) -> str:
    try:
        call(c, i)
    except Forbidden:
        return "denied"
    except hvac.exceptions.VaultError as exc:
        return f"error: {type(exc).__name__}: {exc}"
    return "allowed"


@pytest.fixture(scope="module", params=[*STACKS, REVOKED_KEY])
def any_deployment(request: pytest.FixtureRequest, deployments: Deployments) -> Deployment:
    return deployments.get(request.param)


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_transit_matrix(any_deployment: Deployment, role: RoleName) -> None:
    d = any_deployment
    client = d.client(role)
    wrong = []
    for purpose in sorted(PURPOSES):
        inputs = Inputs(d, purpose)
        for op, call in OPERATIONS.items():
            want = "allowed" if expected(d, role, purpose, op) else "denied"
            got = outcome(call, client, inputs)
            if got != want:
                wrong.append(f"{inputs.path(op)}: expected {want}, got {got}")
    REPORT.transit_checks[d.key] += len(PURPOSES) * len(OPERATIONS)
    assert not wrong, f"{d.key}: role {role}:\n" + "\n".join(wrong)


def test_a_role_without_a_purpose_gets_forbidden(deployment: Deployment) -> None:
    """The auditor reads no catalog secret that stands for a purpose: no transit at all."""
    auditor = deployment.client("auditor")
    for purpose, op in (("signing", "sign"), ("encryption", "encrypt"), ("hmac", "hmac")):
        assert not expected(deployment, "auditor", purpose, op)
        with pytest.raises(Forbidden):
            OPERATIONS[op](auditor, Inputs(deployment, purpose))


# ---- derivation: a context separates uses ---------------------------------------------------


@pytest.fixture(scope="module", params=STACKS)
def workload(
    request: pytest.FixtureRequest, deployments: Deployments
) -> tuple[Deployment, hvac.Client]:
    d = deployments.get(request.param)
    role = WORKLOAD[request.param]
    assert d.k8s_role(role) is not None  # the token comes from a real Kubernetes login
    return d, d.client(role)


def test_ciphertext_of_one_context_does_not_decrypt_in_another(
    workload: tuple[Deployment, hvac.Client],
) -> None:
    d, c = workload
    path = f"{d.transit}/%s/encryption"
    ct = c.write_data(path % "encrypt", data={"plaintext": PLAIN, "context": CTX_A})["data"][
        "ciphertext"
    ]
    same = c.write_data(path % "decrypt", data={"ciphertext": ct, "context": CTX_A})
    assert same["data"]["plaintext"] == PLAIN
    with pytest.raises(hvac.exceptions.InvalidRequest):
        c.write_data(path % "decrypt", data={"ciphertext": ct, "context": CTX_B})
    with pytest.raises(hvac.exceptions.InvalidRequest):
        c.write_data(path % "rewrap", data={"ciphertext": ct, "context": CTX_B})


def test_a_signature_of_one_context_does_not_verify_in_another(
    workload: tuple[Deployment, hvac.Client],
) -> None:
    d, c = workload
    path = f"{d.transit}/%s/signing"
    sig = c.write_data(path % "sign", data={"input": PLAIN, "context": CTX_A})["data"]["signature"]
    ok = c.write_data(path % "verify", data={"input": PLAIN, "context": CTX_A, "signature": sig})
    assert ok["data"]["valid"] is True
    other = c.write_data(path % "verify", data={"input": PLAIN, "context": CTX_B, "signature": sig})
    assert other["data"]["valid"] is False


def test_the_mac_key_is_one_key_per_environment(
    workload: tuple[Deployment, hvac.Client],
) -> None:
    """Vault's transit HMAC ignores ``context``, so the program declares the ``hmac`` purpose
    not derived (JWT_SECRET is one key per environment too): the same input gives the same MAC
    whatever the context, and it verifies. Were the key declared derived, this would still hold
    (OpenBao ignores it), which is why the program does not pretend otherwise."""
    d, c = workload
    assert PURPOSES["hmac"].derived is False
    path = f"{d.transit}/%s/hmac"
    mac_a = c.write_data(path % "hmac", data={"input": PLAIN, "context": CTX_A})["data"]["hmac"]
    mac_b = c.write_data(path % "hmac", data={"input": PLAIN})["data"]["hmac"]
    check = c.write_data(path % "verify", data={"input": PLAIN, "hmac": mac_a})
    assert (mac_a == mac_b, check["data"]["valid"]) == (True, True)


@pytest.mark.parametrize(
    ("purpose", "op", "body"),
    [
        pytest.param("encryption", "encrypt", {"plaintext": PLAIN}, id="encryption-encrypt"),
        pytest.param("encryption", "datakey/plaintext", {}, id="encryption-datakey"),
        pytest.param("signing", "sign", {"input": PLAIN}, id="signing-sign"),
    ],
)
def test_a_derived_key_refuses_an_operation_without_context(
    workload: tuple[Deployment, hvac.Client], purpose: str, op: str, body: dict[str, str]
) -> None:
    d, c = workload
    if op.startswith("datakey"):
        c = d.root  # no role is granted datakey; root proves the key property
    with pytest.raises(hvac.exceptions.VaultError, match="context"):
        c.write_data(f"{d.transit}/{op}/{purpose}", data=body)


# ---- never exportable, backed up or deleted (not even by root) -------------------------------


@pytest.mark.parametrize("purpose", sorted(PURPOSES))
def test_the_key_is_stored_as_planned(deployment: Deployment, purpose: str) -> None:
    (resource,) = (r for r in deployment.of_type(ap.TRANSIT_KEY) if r.raw_inputs["name"] == purpose)
    i = resource.raw_inputs
    key = deployment.root.read(f"{deployment.transit}/keys/{purpose}")["data"]
    assert key["type"] == i["type"] == PURPOSES[purpose].key_type
    assert key["derived"] is i["derived"] is PURPOSES[purpose].derived
    assert key["exportable"] is False and key["allow_plaintext_backup"] is False
    assert key["deletion_allowed"] is False
    rotation = deployment.estate.secret(PURPOSES[purpose].catalog_name).rotation
    days = rotation.period_days if rotation is not None else 90
    assert key["auto_rotate_period"] == i["autoRotatePeriod"] == days * 86400


@pytest.mark.parametrize("purpose", sorted(PURPOSES))
def test_not_even_root_exports_backs_up_or_deletes_a_key(
    deployment: Deployment, purpose: str
) -> None:
    root, base = deployment.root, deployment.transit
    kinds = ("encryption-key", "signing-key", "hmac-key", "public-key")
    for kind in kinds[:3]:
        with pytest.raises(hvac.exceptions.VaultError, match=r"not exportable|export"):
            root.read(f"{base}/export/{kind}/{purpose}")
    with pytest.raises(hvac.exceptions.VaultError, match="export"):
        root.read(f"{base}/backup/{purpose}")
    with pytest.raises(hvac.exceptions.InvalidRequest, match="deletion is not allowed"):
        root.delete(f"{base}/keys/{purpose}")
    assert root.read(f"{base}/keys/{purpose}") is not None
