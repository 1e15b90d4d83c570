"""Reading ``Pulumi.yaml`` and ``Pulumi.<stack>.yaml`` the way the Pulumi CLI hands them to a program.

The CLI gives a program every config value as a string: scalars as their text, objects and lists as
JSON. Keys without a namespace belong to the project. ``secure:`` values are ciphertext that only the
stack's secrets provider can decrypt; offline they become secret values the program cannot read.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policies.contract.redact import credential_kind_in_forms, describe
from policies.contract.yamlio import YamlProblem, load_yaml

SECURE_PLACEHOLDER = "[secure]"
#: Pulumi's rule for a stack name (``tokens.ParseStackName``): letters, digits, ``-``, ``_``, ``.``;
#: at most 100 characters.
STACK_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


class StackFileError(ValueError):
    """A project or stack file that cannot be used (missing, not YAML, wrong shape)."""


@dataclass(frozen=True)
class StackConfig:
    project: str
    stack: str
    path: Path
    config: dict[str, str]
    secret_keys: tuple[str, ...]
    secrets_provider: str | None
    # Plain (non-secure) leaf values, with their dotted path, for credential linting.
    plaintext_leaves: tuple[tuple[str, str], ...] = field(default=())


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


def _strip_secure(value: Any, path: str, leaves: list[tuple[str, str]]) -> tuple[Any, bool]:
    """Replace nested ``{secure: ...}`` by the placeholder; report whether any was found."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return SECURE_PLACEHOLDER, True
        out: dict[str, Any] = {}
        found = False
        for k, v in value.items():
            out[str(k)], f = _strip_secure(v, f"{path}.{k}", leaves)
            found = found or f
        return out, found
    if isinstance(value, list):
        items: list[Any] = []
        found = False
        for i, v in enumerate(value):
            item, f = _strip_secure(v, f"{path}[{i}]", leaves)
            items.append(item)
            found = found or f
        return items, found
    if isinstance(value, str):
        leaves.append((path, value))
    return value, False


def check_stack_name(stack: str) -> str:
    """``stack`` if Pulumi accepts it as a stack name; StackFileError naming the rule otherwise
    (the name itself is shown only when it is valid: it may be anything pasted)."""
    if not STACK_NAME_RE.fullmatch(stack):
        too_long = len(stack) > 100
        raise StackFileError(
            f"--stack: not a Pulumi stack name ({describe(stack)}): "
            + (
                "at most 100 characters"
                if too_long
                else "only letters, digits, '-', '_' and '.' (at most 100 characters)"
            )
        )
    kind = credential_kind_in_forms(stack)
    if kind is not None:  # it is written into every URN
        raise StackFileError(
            f"--stack: looks like a credential ({kind}, {describe(stack)}), not a stack name"
        )
    return stack


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise StackFileError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise StackFileError(f"{path}: {exc.strerror or type(exc).__name__}") from None


def read_project(project_dir: Path) -> dict[str, Any]:
    path = project_dir / "Pulumi.yaml"
    try:
        data = load_yaml(_read_text(path))
    except YamlProblem as exc:
        raise StackFileError(f"{path}: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        raise StackFileError(f"{path}: expected a mapping with a 'name'")
    return data


def read_stack(project_dir: Path, stack: str) -> StackConfig:
    """Read ``Pulumi.<stack>.yaml`` (honouring the project's ``stackConfigDir``)."""
    check_stack_name(stack)
    project = read_project(project_dir)
    name: str = project["name"]
    config_dir = project_dir / str(project.get("stackConfigDir") or ".")
    path = config_dir / f"Pulumi.{stack}.yaml"
    try:
        found = path.is_file()
        if not found and path.is_dir():
            raise StackFileError(f"{path} is a directory, not a stack file")
        available = (
            []
            if found
            else sorted(
                p.name[len("Pulumi.") : -len(".yaml")]
                for p in config_dir.glob("Pulumi.*.yaml")
                if p.is_file()
            )
        )
    except OSError as exc:  # a stackConfigDir too long for the file system, unreadable...
        raise StackFileError(f"{config_dir}: {exc.strerror or type(exc).__name__}") from None
    if not found:
        raise StackFileError(
            f"no stack file {path.name} in {config_dir} (stacks here: {', '.join(available) or 'none'})"
        )
    try:
        data = load_yaml(_read_text(path)) or {}
    except YamlProblem as exc:
        raise StackFileError(f"{path}: {exc}") from None
    if not isinstance(data, dict):
        raise StackFileError(f"{path}: expected a mapping")
    raw_config = data.get("config") or {}
    if not isinstance(raw_config, dict):
        raise StackFileError(f"{path}: 'config' must be a mapping")
    config: dict[str, str] = {}
    secret: list[str] = []
    leaves: list[tuple[str, str]] = []
    for raw_key, raw_value in raw_config.items():
        key = str(raw_key)
        if ":" not in key:
            key = f"{name}:{key}"
        value, has_secure = _strip_secure(raw_value, key, leaves)
        if has_secure:
            secret.append(key)
        config[key] = json.dumps(value) if isinstance(value, (dict, list)) else _scalar(value)
    provider = data.get("secretsprovider")
    return StackConfig(
        project=name,
        stack=stack,
        path=path,
        config=config,
        secret_keys=tuple(sorted(secret)),
        secrets_provider=str(provider) if provider else None,
        plaintext_leaves=tuple(leaves),
    )
