"""``nt-secrets env vault-build``: a dotenv-vault compatible ``.env.vault`` (seed §3.2).

Each environment's ``.env`` text is encrypted whole with AES-256-GCM under a key of its own; the
vault holds ``DOTENV_VAULT_<ENVIRONMENT>="<base64(nonce(12) + ciphertext + tag(16))>"`` lines
(safe to commit) and each key leaves only as that environment's ``DOTENV_KEY`` in the documented
URI form ``dotenv://:key_<64 hex>@dotenv.local/vault/.env.vault?environment=<name>``, written to
a keys file created 0600 (never printed), to be stored as a CI secret. Loaders such as
``python-dotenv-vault`` pick the environment from the key's ``environment`` parameter and decrypt.

Production is refused as in ``env pull``: its secrets are read from the stores at run time.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from infra.catalog import Environment
from nt_secrets.envpull import EnvPullError, check_output, refuse_git_directory, write_private

KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


def dotenv_key(key: bytes, environment: str) -> str:
    """The ``DOTENV_KEY`` of one environment (dotenv.org's documented URI form; loaders read the
    key and the ``environment`` parameter, whatever the vault file is called)."""
    return f"dotenv://:key_{key.hex()}@dotenv.local/vault/.env.vault?environment={environment}"


def encrypt(plaintext: bytes, key: bytes, nonce: bytes | None = None) -> str:
    """base64(nonce + AES-256-GCM ciphertext + tag), no associated data."""
    try:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    except ImportError as exc:  # pragma: no cover - installed with the lock
        raise EnvPullError(
            "vault-build needs the `cryptography` package (pip install cryptography)"
        ) from exc
    if len(key) != KEY_BYTES:
        raise ValueError("AES-256 needs a 32-byte key")
    nonce = nonce if nonce is not None else secrets.token_bytes(NONCE_BYTES)
    if len(nonce) != NONCE_BYTES:
        raise ValueError("AES-GCM nonce must be 12 bytes")
    return base64.b64encode(nonce + AESGCM(key).encrypt(nonce, plaintext, None)).decode("ascii")


@dataclass(frozen=True)
class VaultInput:
    environment: str
    path: Path


def parse_inputs(specs: Sequence[str]) -> list[VaultInput]:
    """``--input ENVIRONMENT=FILE`` arguments, checked (EnvPullError names the bad one)."""
    if not specs:
        raise EnvPullError(
            "--input: give at least one ENVIRONMENT=FILE (e.g. development=.env.local)"
        )
    out: list[VaultInput] = []
    seen: set[str] = set()
    known = {e.value for e in Environment}
    for spec in specs:
        environment, sep, file = spec.partition("=")
        environment = environment.strip().lower()
        if not sep or not file or not _NAME_RE.fullmatch(environment):
            raise EnvPullError("--input: expected ENVIRONMENT=FILE (e.g. development=.env.local)")
        if environment not in known:
            raise EnvPullError(
                f"--input {environment}: not an environment of the catalog ({', '.join(sorted(known))})"
            )
        if environment == Environment.PRODUCTION.value:
            raise EnvPullError(
                "--input production: production secrets are never written to a file; production "
                "reads them from the stores at run time"
            )
        if environment in seen:
            raise EnvPullError(f"--input {environment}: given twice")
        seen.add(environment)
        path = Path(file).expanduser()
        if not path.is_file():
            raise EnvPullError(f"--input {environment}: {path} is not a file")
        out.append(VaultInput(environment, path))
    return out


def render_vault(ciphertexts: Mapping[str, str]) -> str:
    lines = [
        "#/-------------------.env.vault---------------------/",
        "#/         cloud-agnostic vaulting standard         /",
        "#/   [how it works](https://dotenv.org/env-vault)   /",
        "#/--------------------------------------------------/",
        "# Built by `nt-secrets env vault-build`: AES-256-GCM, one key per environment.",
    ]
    for environment, ciphertext in ciphertexts.items():
        lines += ["", f"# {environment}", f'DOTENV_VAULT_{environment.upper()}="{ciphertext}"']
    return "\n".join(lines) + "\n"


def render_keys(keys: Mapping[str, str]) -> str:
    lines = [
        "# DOTENV_KEY per environment for the .env.vault built beside it. Secret: store each one",
        "# as a CI secret (DOTENV_KEY), never commit this file, delete it once stored.",
    ]
    lines += [f'DOTENV_KEY_{env.upper()}="{key}"' for env, key in keys.items()]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class VaultBuild:
    vault: Path
    keys_file: Path
    environments: tuple[str, ...]


def build(inputs: Sequence[VaultInput], vault: Path, keys_file: Path, *, force: bool) -> VaultBuild:
    """Encrypt each input with a fresh key; write the vault and the keys file (both 0600).
    The keys file may not be tracked or unignored by git (as ``env pull``'s output)."""
    vault_path = Path(os.path.abspath(vault.expanduser()))
    refuse_git_directory(vault_path)
    if vault_path.parent.is_dir() and os.path.lexists(vault_path) and not force:
        raise EnvPullError(f"--output: {vault_path} exists; add --force to replace it")
    if not vault_path.parent.is_dir():
        raise EnvPullError(f"--output: directory {vault_path.parent} does not exist")
    keys_path = check_output(keys_file, force=force)
    if keys_path == vault_path:
        raise EnvPullError("--keys-file: must differ from --output")
    ciphertexts: dict[str, str] = {}
    keys: dict[str, str] = {}
    for item in inputs:
        try:
            text = item.path.read_bytes()
            text.decode("utf-8")
        except OSError as exc:
            raise EnvPullError(f"--input {item.environment}: cannot read {item.path}") from exc
        except UnicodeDecodeError as exc:
            raise EnvPullError(f"--input {item.environment}: {item.path} is not UTF-8") from exc
        key = secrets.token_bytes(KEY_BYTES)
        ciphertexts[item.environment] = encrypt(text, key)
        keys[item.environment] = dotenv_key(key, item.environment)
    # The keys first: a vault whose keys were never written would be undecryptable.
    write_private(keys_path, render_keys(keys), replace=force)
    write_private(vault_path, render_vault(ciphertexts), replace=force)
    return VaultBuild(vault_path, keys_path, tuple(ciphertexts))
