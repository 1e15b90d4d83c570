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
    # The same for ``Pulumi.yaml``'s ``config:`` block (every default and value it declares,
    # whether or not the stack overrides it: the file is committed either way).
    project_path: Path | None = None
    project_plaintext_leaves: tuple[tuple[str, str], ...] = field(default=())
    # Keys ``Pulumi.yaml`` declares ``secret: true`` yet gives a plaintext default or value.
    project_plaintext_secrets: tuple[str, ...] = field(default=())
    # The ESC environments the stack imports (``environment:``, nt_secrets/escenv.py): their
    # files, every literal string they hold (file, path, key, text) and every ``fn::secret``
    # given a plaintext literal (file, path), for the lint.
    environment_files: tuple[Path, ...] = field(default=())
    environment_plaintext_leaves: tuple[tuple[str, str, str, str], ...] = field(default=())
    environment_plaintext_secrets: tuple[tuple[str, str], ...] = field(default=())


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


#: The attributes of a project config declaration (``ProjectConfigType`` in Pulumi's
#: ``sdk/go/common/workspace/project.go``; the JSON schema's ``configTypeDeclaration``).
PROJECT_CONFIG_ATTRS = ("type", "items", "description", "secret", "default", "value")
#: The JSON schema's ``simpleConfigType``.
PROJECT_CONFIG_TYPES = ("string", "integer", "boolean", "array")


@dataclass(frozen=True)
class ProjectConfigDecl:
    """One key of ``Pulumi.yaml``'s ``config:`` block, as Pulumi reads it."""

    name: str  # as written in Pulumi.yaml
    key: str  # namespaced, as the program sees it
    type: str | None
    items: dict[str, Any] | None
    secret: bool
    #: The value a stack that does not set the key gets (``default`` or ``value``); None: none.
    given: Any


def _check_items(items: Any, where: str) -> None:
    if not isinstance(items, dict):
        raise StackFileError(f"{where}: must be a mapping with a 'type'")
    kind = items.get("type")
    if kind not in PROJECT_CONFIG_TYPES:
        raise StackFileError(f"{where}.type: must be one of {', '.join(PROJECT_CONFIG_TYPES)}")
    if kind == "array":
        if items.get("items") is None:
            raise StackFileError(f"{where}: declares an array without 'items'")
        _check_items(items["items"], f"{where}.items")


def _conforms(kind: str, items: dict[str, Any] | None, value: Any) -> bool:
    """Pulumi's ``ValidateConfigValue``: integers and booleans may be written as text."""
    if kind == "string":
        return isinstance(value, str)
    if kind == "integer":
        if isinstance(value, bool):
            return False
        if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
            return True
        return isinstance(value, str) and re.fullmatch(r"[+-]?[0-9]+", value) is not None
    if kind == "boolean":
        return isinstance(value, bool) or value in ("true", "false")
    if not isinstance(value, list) or items is None:
        return False
    return all(_conforms(items["type"], items.get("items"), v) for v in value)


def _type_name(kind: str, items: dict[str, Any] | None) -> str:
    if items is not None:
        return f"array<{_type_name(items['type'], items.get('items'))}>"
    return kind


def project_config(project: dict[str, Any], path: Path) -> list[ProjectConfigDecl]:
    """The ``config:`` block of ``Pulumi.yaml`` checked as Pulumi checks it (``Project.Validate``
    after ``RewriteShorthandConfigValues``). Errors name the key, never a value."""
    raw = project.get("config")
    if raw is None:
        return []
    if isinstance(raw, str):  # the deprecated `config: <dir>` spelling of stackConfigDir
        return []
    if not isinstance(raw, dict):
        raise StackFileError(f"{path}: config: must be a mapping of keys to declarations")
    name: str = project["name"]
    decls: list[ProjectConfigDecl] = []
    for raw_key in sorted(raw, key=str):
        key_text = str(raw_key)
        where = f"{path}: config.{key_text}"
        own = ":" not in key_text or key_text.startswith(f"{name}:")
        body = raw[raw_key]
        if isinstance(body, float):
            raise StackFileError(
                f"{where}: a bare value must be a string, an integer, a boolean or a list"
            )
        if isinstance(body, (str, bool, int, list)):
            body = {"default": body} if own else {"value": body}
        elif body is None:
            body = {}
        elif not isinstance(body, dict):
            raise StackFileError(f"{where}: must be a value or a declaration")
        unknown = sorted(str(k) for k in body if k not in PROJECT_CONFIG_ATTRS)
        if unknown:
            raise StackFileError(
                f"{where}: unknown attribute {unknown[0]!r} "
                f"(a declaration has {', '.join(PROJECT_CONFIG_ATTRS)}; "
                "write an object value under 'default' or 'value')"
            )
        default, value = body.get("default"), body.get("value")
        if default is not None and value is not None:
            raise StackFileError(f"{where}: cannot have both a 'default' and a 'value'")
        kind = body.get("type")
        if kind is not None and kind not in PROJECT_CONFIG_TYPES:
            raise StackFileError(f"{where}.type: must be one of {', '.join(PROJECT_CONFIG_TYPES)}")
        items = body.get("items")
        secret = body.get("secret", False)
        if not isinstance(secret, bool):
            raise StackFileError(f"{where}.secret: must be true or false")
        description = body.get("description")
        if description is not None and not isinstance(description, str):
            raise StackFileError(f"{where}.description: must be text")
        if own:
            if kind == "array" and items is None:
                raise StackFileError(f"{where}: declares an array without 'items'")
            if items is not None:
                _check_items(items, f"{where}.items")
            if kind is not None and default is not None and not _conforms(kind, items, default):
                raise StackFileError(
                    f"{where}.default: not of the declared type {_type_name(kind, items)!r}"
                )
            key = key_text if ":" in key_text else f"{name}:{key_text}"
        else:
            for attr in ("type", "default", "items"):
                if body.get(attr) is not None:
                    raise StackFileError(
                        f"{where}: not namespaced by the project, so it takes only a 'value' "
                        f"(no {attr!r})"
                    )
            if value is None:
                raise StackFileError(f"{where}: not namespaced by the project: give its 'value'")
            key = key_text
        decls.append(
            ProjectConfigDecl(
                name=key_text,
                key=key,
                type=kind,
                items=items,
                secret=secret,
                given=value if value is not None else default,
            )
        )
    return decls


def _apply_project_config(
    decls: list[ProjectConfigDecl],
    written: dict[str, Any],
    config: dict[str, str],
    secret: list[str],
    path: Path,
) -> None:
    """Merge the project's declarations into the stack's config as Pulumi's ``mergeConfig``
    does: a key the stack sets keeps the stack's value (checked against the declared type and
    ``secret``); one it does not set takes the declared ``value`` or ``default``."""
    missing: list[str] = []
    for decl in decls:
        if decl.key not in config:
            if decl.given is None:
                missing.append(decl.name)
                continue
            given = decl.given
            config[decl.key] = (
                json.dumps(given) if isinstance(given, (dict, list)) else _scalar(given)
            )
            continue
        if decl.type is None:
            continue  # Pulumi checks only typed declarations (``IsExplicitlyTyped``)
        if decl.secret and decl.key not in secret:
            raise StackFileError(
                f"{path}: {decl.key}: Pulumi.yaml declares it secret: set it with "
                "`pulumi config set --secret`"
            )
        if decl.key in secret:
            continue  # ciphertext cannot be type-checked offline
        stack_value = written[decl.key]
        if not isinstance(stack_value, (list, dict)):
            stack_value = _scalar(stack_value)
        if not _conforms(decl.type, decl.items, stack_value):
            raise StackFileError(
                f"{path}: {decl.key}: must be of type {_type_name(decl.type, decl.items)!r} "
                "(declared in Pulumi.yaml)"
            )
    if missing:
        raise StackFileError(
            f"{path}: missing configuration value{'s' if len(missing) > 1 else ''} "
            f"{', '.join(repr(m) for m in missing)} (Pulumi.yaml declares "
            f"{'them' if len(missing) > 1 else 'it'} without a default)"
        )


def _given_leaves(decls: list[ProjectConfigDecl]) -> list[tuple[str, str]]:
    leaves: list[tuple[str, str]] = []
    for decl in decls:
        if decl.given is not None:
            _strip_secure(decl.given, decl.key, leaves)
    return leaves


def _stack_config_dir(project: dict[str, Any], path: Path) -> str:
    """``stackConfigDir``, or its deprecated spelling ``config: <dir>`` (Pulumi's
    ``RewriteConfigPathIntoStackConfigDir``: both at once is an error)."""
    legacy = project.get("config")
    if isinstance(legacy, str) and legacy:
        if project.get("stackConfigDir"):
            raise StackFileError(
                f"{path}: config: a directory here and stackConfigDir too; keep stackConfigDir"
            )
        return legacy
    return str(project.get("stackConfigDir") or ".")


def _shown_path(project_dir: Path, path: Path) -> str:
    try:
        return str(path.relative_to(project_dir))
    except ValueError:
        return str(path)


def read_stack(project_dir: Path, stack: str) -> StackConfig:
    """Read ``Pulumi.<stack>.yaml`` (honouring the project's ``stackConfigDir``)."""
    check_stack_name(stack)
    project = read_project(project_dir)
    name: str = project["name"]
    config_dir = project_dir / _stack_config_dir(project, project_dir / "Pulumi.yaml")
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
    written: dict[str, Any] = {}
    stack_raw: dict[str, Any] = {}
    for raw_key, raw_value in raw_config.items():
        key = str(raw_key)
        if ":" not in key:
            key = f"{name}:{key}"
        stack_raw[key] = raw_value
        _strip_secure(raw_value, key, leaves)  # the stack file's own plaintext, for the lint
    # The ESC environments the stack imports: their pulumiConfig under the stack's own config.
    from nt_secrets import escenv

    resolution = escenv.resolve(project_dir, _shown_path(project_dir, path), data)
    effective = dict(stack_raw)
    if resolution is not None:
        for env_key, env_raw in resolution.pulumi_config.items():
            key = env_key if ":" in env_key else f"{name}:{env_key}"
            effective[key] = (
                escenv.merge_config(stack_raw[key], env_raw) if key in stack_raw else env_raw
            )
    for key, raw_value in effective.items():
        value, has_secure = _strip_secure(raw_value, key, [])
        written[key] = value
        if has_secure:
            secret.append(key)
        config[key] = json.dumps(value) if isinstance(value, (dict, list)) else _scalar(value)
    project_path = project_dir / "Pulumi.yaml"
    decls = project_config(project, project_path)
    _apply_project_config(decls, written, config, secret, path)
    provider = data.get("secretsprovider")
    return StackConfig(
        project=name,
        stack=stack,
        path=path,
        config=config,
        secret_keys=tuple(sorted(secret)),
        secrets_provider=str(provider) if provider else None,
        plaintext_leaves=tuple(leaves),
        project_path=project_path,
        project_plaintext_leaves=tuple(_given_leaves(decls)),
        project_plaintext_secrets=tuple(d.key for d in decls if d.secret and d.given is not None),
        environment_files=tuple(resolution.files) if resolution else (),
        environment_plaintext_leaves=tuple(resolution.plaintext_leaves) if resolution else (),
        environment_plaintext_secrets=tuple(resolution.plaintext_secrets) if resolution else (),
    )
