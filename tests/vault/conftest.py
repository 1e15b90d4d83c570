"""Fixtures of the Vault verification harness: each stack's plan applied to its own real OpenBao.

* ``stub``: the Kubernetes TokenReview stub (session).
* ``deployments``: per stack key (``dev``, ``prod``, ``dev-revoked``) a dev-mode OpenBao started
  lazily with the plan's audit device declared in its config, and the plan's Vault resources
  applied to it (session; every server is stopped at the end).
* Tokens per role: a workload role whose Kubernetes auth role the plan declares logs in for real
  through Kubernetes auth; every other role (the human ones, whose OIDC login is out of scope, and
  workload roles the plan gives no login) gets a token made by root with exactly that role's
  policy name and no default policy. That token is the harness's "login" for humans.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import hvac
import pytest

from infra.access import RoleName
from infra.backends.vault import documents
from infra.backends.vault.settings import VaultSettings
from infra.catalog import default_catalog
from infra.estate import Estate
from infra.stack import build_estate, parse_settings
from nt_secrets.capture import Capture, CapturedResource
from nt_secrets.stackfile import read_stack
from tests.conftest import ROOT
from tests.plans import plan_config, planned_stack
from tests.vault import apply as ap
from tests.vault.report import REPORT
from tests.vault.server import BaoMissing, BaoServer, bao_executable, start_bao
from tests.vault.tokenreview import TokenReviewStub

NS = "neural-trader-secrets:"
STACKS = ("dev", "prod")
#: The revoked-secret variant of the dev stack (its own server: it shares dev's paths).
REVOKED_KEY = "dev-revoked"
REVOKED = ("ALPACA_API_KEY", "ENCRYPTION_KEY")
#: A stack's plan on a server of its own, for the rotation job to write new versions on (the
#: other tests' servers keep the values the plan wrote).
ROTATION_SUFFIX = "-rotation"


@dataclass
class Deployment:
    """One stack's plan, its estate, and the real OpenBao it was applied to."""

    key: str
    capture: Capture
    estate: Estate
    vault: VaultSettings
    server: BaoServer
    stub: TokenReviewStub
    applied: list[CapturedResource] = field(default_factory=list)
    _tokens: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def env(self) -> str:
        return self.estate.environment.value

    @property
    def mount(self) -> str:
        return documents.kv_mount(self.vault.mount_prefix, self.estate.environment)

    @property
    def transit(self) -> str:
        return documents.transit_mount(self.vault.mount_prefix, self.estate.environment)

    @property
    def root(self) -> hvac.Client:
        return self.server.client()

    def of_type(self, type_: str) -> list[CapturedResource]:
        return [r for r in self.capture.resources if r.type == type_]

    def secret_resource(self, name: str) -> CapturedResource:
        (found,) = (
            r
            for r in self.of_type(ap.KV_SECRET)
            if r.raw_inputs["customMetadata"]["data"]["catalog-name"] == name
        )
        return found

    def policy_names(self) -> list[str]:
        """The ACL policies the plan declares."""
        return [str(r.raw_inputs["name"]) for r in self.of_type(ap.POLICY)]

    def policy_name(self, role: RoleName) -> str:
        return documents.policy_name(self.vault.mount_prefix, self.estate.environment, role)

    def k8s_role(self, role: RoleName) -> CapturedResource | None:
        found = [r for r in self.of_type(ap.K8S_ROLE) if r.raw_inputs["roleName"] == role]
        assert len(found) <= 1
        return found[0] if found else None

    def capture_workloads(self) -> set[str]:
        """The roles the plan lets log in through Kubernetes."""
        return {str(r.raw_inputs["roleName"]) for r in self.of_type(ap.K8S_ROLE)}

    def k8s_jwt(self, role_resource: CapturedResource, **changes: Any) -> str:
        """A service-account JWT for what the role binds (``changes``: namespace, name,
        audiences, key, ttl to make a wrong one)."""
        i = role_resource.raw_inputs
        args: dict[str, Any] = {
            "namespace": i["boundServiceAccountNamespaces"][0],
            "name": i["boundServiceAccountNames"][0],
            "audiences": [i["audience"]],
        } | changes
        return self.stub.jwt(args.pop("namespace"), args.pop("name"), args.pop("audiences"), **args)

    def k8s_login(self, role: str, jwt: str, backend: str | None = None) -> dict[str, Any]:
        resp: dict[str, Any] = self.server.anonymous().auth.kubernetes.login(
            role, jwt, use_token=False, mount_point=backend or f"kubernetes-{self.env}"
        )
        return resp

    def human_token(self, role: RoleName) -> str:
        """HARNESS login for a role without an auth method: a root-made token carrying exactly the
        role's policy (whether or not the plan declares that policy) and no default policy."""
        resp = self.root.auth.token.create(
            policies=[self.policy_name(role)],
            no_default_policy=True,
            ttl="1h",
            display_name=f"harness-{role}",
        )
        return str(resp["auth"]["client_token"])

    def token(self, role: RoleName) -> str:
        if role not in self._tokens:
            k8s = self.k8s_role(role)
            if k8s is not None:
                auth = self.k8s_login(role, self.k8s_jwt(k8s), k8s.raw_inputs["backend"])["auth"]
                self._tokens[role] = str(auth["client_token"])
            else:
                self._tokens[role] = self.human_token(role)
        return self._tokens[role]

    def issued_tokens(self) -> list[str]:
        return list(self._tokens.values())

    def client(self, role: RoleName) -> hvac.Client:
        return self.server.client(self.token(role))


def _plan(key: str) -> tuple[Capture, dict[str, Any], tuple[str, ...]]:
    if key.removesuffix(ROTATION_SUFFIX) in STACKS:
        config, capture = planned_stack(key.removesuffix(ROTATION_SUFFIX), ROOT)
        return capture, dict(config.config), tuple(config.secret_keys)
    assert key == REVOKED_KEY
    stack = read_stack(ROOT, "dev")
    raw = dict(stack.config) | {NS + "revoked": json.dumps(list(REVOKED))}
    capture = plan_config(
        raw, stack="dev", secret_keys=tuple(stack.secret_keys), account_id="123456789012"
    )
    return capture, raw, tuple(stack.secret_keys)


class Deployments:
    """Lazily started, applied deployments; all closed at the end of the session."""

    def __init__(self, stub: TokenReviewStub, tmp: Any) -> None:
        self.stub = stub
        self.tmp = tmp
        self._by_key: dict[str, Deployment] = {}
        self._failed: dict[str, BaseException] = {}

    def get(self, key: str) -> Deployment:
        if key in self._failed:  # never hand out a half-applied server
            raise RuntimeError(f"{key}: the plan could not be applied") from self._failed[key]
        if key not in self._by_key:
            capture, raw, secret_keys = _plan(key)
            settings = parse_settings(raw, secret_keys=list(secret_keys))
            vault = settings.backend("vault")
            assert isinstance(vault, VaultSettings), f"{key}: the Vault backend is not enabled"
            # What the Vault backend was handed: the secrets Vault holds (home or replica).
            estate = build_estate(default_catalog(), settings).held_by("vault")
            server = start_bao(
                [r for r in capture.resources if r.type == ap.AUDIT],
                parent=self.tmp.mktemp(key, numbered=True),
            )
            deployment = Deployment(key, capture, estate, vault, server, self.stub)
            self._by_key[key] = deployment  # closed at teardown even if applying fails
            redirect = ap.KubernetesRedirect(
                self.stub.url, self.stub.reviewer_jwt, self.stub.ca_cert
            )
            try:
                deployment.applied = ap.apply(
                    server.client(), capture, kubernetes=redirect, written=server.written
                )
            except BaseException as exc:
                self._failed[key] = exc
                raise
        return self._by_key[key]

    def all(self) -> list[Deployment]:
        return list(self._by_key.values())

    def close(self) -> None:
        for deployment in self._by_key.values():
            deployment.server.close()


@pytest.fixture(scope="session")
def stub() -> Iterator[TokenReviewStub]:
    server = TokenReviewStub().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def deployments(
    stub: TokenReviewStub, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployments]:
    try:
        bao_executable()
    except BaoMissing as exc:
        pytest.fail(str(exc), pytrace=False)
    store = Deployments(stub, tmp_path_factory)
    yield store
    store.close()


@pytest.fixture(scope="session", params=STACKS)
def deployment(request: pytest.FixtureRequest, deployments: Deployments) -> Deployment:
    return deployments.get(request.param)


@pytest.fixture(scope="session")
def revoked(deployments: Deployments) -> Deployment:
    return deployments.get(REVOKED_KEY)


# ---- ordering and the report ---------------------------------------------------------------------


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The audit log is read last, after everything else wrote to the servers."""
    last = [i for i in items if i.nodeid.startswith("tests/vault/test_audit.py")]
    if last:
        rest = [i for i in items if i not in last]
        items[:] = rest + last


def pytest_runtest_setup(item: pytest.Item) -> None:
    if REPORT.started is None:
        REPORT.started = time.monotonic()


def pytest_runtest_teardown(item: pytest.Item) -> None:
    REPORT.finished = time.monotonic()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not REPORT.kv_checks and not REPORT.transit_checks:
        return
    write = terminalreporter.write_line
    terminalreporter.section("Vault harness (OpenBao)")
    for stack in sorted(set(REPORT.kv_checks) | set(REPORT.transit_checks)):
        write(
            f"{stack}: KV matrix {REPORT.kv_checks[stack]} role x secret x operation checks "
            f"in {REPORT.kv_seconds[stack]:.1f}s; transit {REPORT.transit_checks[stack]} "
            "role x purpose x operation checks"
        )
    if REPORT.started is not None and REPORT.finished is not None:
        write(f"tests/vault wall time: {REPORT.finished - REPORT.started:.1f}s")
