"""Pulumi ESC environments imported by a stack file, evaluated offline.

A stack file may take its configuration from ESC environments (``environment:`` in
``Pulumi.<stack>.yaml``: a list of names, or an inline definition; or ``mainEnvironment:``, one
name). Offline, an environment ``<project>/<env>`` is the file ``environments/<project>/<env>.yaml``
under the project directory (an unqualified ``<env>`` is ``default/<env>``, as in ESC; a pinned
``<project>/<env>@<version>`` is ``environments/<project>/<env>@<version>.yaml``, ``@latest`` the
working file).

The evaluation follows ESC's (``github.com/pulumi/esc``, ``eval``): imports are evaluated once
each, in order, and merged (objects key by key, anything else replaced; a later import wins and the
environment's own ``values`` win over its imports); ``${...}`` resolves property paths against the
environment's own values merged over its imports (``${a.b[0]["c.d"]}``, ``${imports["p/e"].x}``,
``${environments.p.e.x}``); a string that is one interpolation takes the value's type, a longer
string takes its text; ``$$`` is a literal ``$``. Builtins: ``fn::secret`` (a literal becomes a
secret; ``{ciphertext: ...}`` is unknown offline), ``fn::join``, ``fn::split``, ``fn::concat``,
``fn::toJSON``, ``fn::fromJSON``, ``fn::toString``, ``fn::toBase64``, ``fn::fromBase64``,
``fn::final`` and ``fn::validate`` (its value; the schema is not checked offline). ``fn::open`` and
``fn::rotate`` (providers) and ``${context...}`` are **unknown and secret** offline: their inputs
are evaluated (so a bad reference is still an error), their value never is.

``values.pulumiConfig`` becomes stack configuration as the Pulumi CLI merges it
(``mergeConfig`` in ``sdk/go/common/workspace/config.go``): a key without a namespace is the
project's; a key the stack file sets keeps the stack's value, merged over the environment's when
both are objects; a secret or unknown value is a secret key, which the program receives as it
receives a ``secure:`` value offline.

Every error names the file and the path in it, never a value (:class:`EscEvalError`, a
:class:`~nt_secrets.stackfile.StackFileError`: exit 2).
"""

from __future__ import annotations

import base64
import binascii
import difflib
import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

from nt_secrets.stackfile import StackFileError
from policies.contract import redact
from policies.contract.yamlio import YamlProblem, load_yaml

#: Where the environments live, under the project directory.
ENV_DIR: Final = "environments"
#: ESC project, environment and version names: letters, digits, ``-``, ``_``, ``.``.
NAME_RE: Final = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
DEFAULT_PROJECT: Final = "default"
RESERVED_KEYS: Final = ("imports", "context", "environments")
#: The builtins evaluated offline, and those whose value only ESC knows.
PURE_FUNCTIONS: Final = (
    "fn::concat",
    "fn::final",
    "fn::fromBase64",
    "fn::fromJSON",
    "fn::join",
    "fn::secret",
    "fn::split",
    "fn::toBase64",
    "fn::toJSON",
    "fn::toString",
    "fn::validate",
)
#: The value a secure marker carries once merged (never read: any secure leaf becomes the
#: stack file reader's placeholder).
SECURE_MARKER: Final = {"secure": ""}


class EscEvalError(StackFileError):
    """An environment that cannot be evaluated: the message names the file and path."""


@dataclass(frozen=True)
class V:
    """An evaluated value: ``None``, bool, int, float, str, ``list[V]`` or ``dict[str, V]``."""

    value: Any = None
    secret: bool = False
    unknown: bool = False
    final: bool = False


def _unknown(secret: bool = True) -> V:
    return V(None, secret=secret, unknown=True)


def _contains(v: V, attr: str) -> bool:
    if getattr(v, attr):
        return True
    if isinstance(v.value, list):
        return any(_contains(x, attr) for x in v.value)
    if isinstance(v.value, dict):
        return any(_contains(x, attr) for x in v.value.values())
    return False


def _combine(*vs: V) -> tuple[bool, bool]:
    """(unknown, secret) of a value computed from ``vs``."""
    return any(_contains(v, "unknown") for v in vs), any(_contains(v, "secret") for v in vs)


def _prop(base: V | None, key: str) -> V | None:
    if base is None or base.unknown or not isinstance(base.value, dict):
        return None
    got: V | None = base.value.get(key)
    return got


def merge(top: V, base: V | None) -> V:
    """``top`` over ``base`` as ESC merges: object into object key by key, otherwise ``top``."""
    if base is None or base is top:
        return top
    if base.final:
        return base  # ESC warns "cannot override final value" and keeps the base
    if top.unknown or not isinstance(top.value, dict):
        return top
    if base.unknown or not isinstance(base.value, dict):
        return top
    out = dict(base.value)
    for k, v in top.value.items():
        out[k] = merge(v, base.value.get(k))
    return replace(top, value=out)


# --- paths and property accesses --------------------------------------------------------------

_PLAIN_KEY = re.compile(r"^[^.\[\]\"\s}]+$")


def join_path(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    shown = redact.key(key)
    if shown != key:
        return f"{path}[{shown}]"
    if _PLAIN_KEY.fullmatch(key):
        return f"{path}.{key}" if path else key
    return f'{path}["{key}"]'


Accessor = tuple[str, str | int]  # ("name", key) or ("sub", key or index)


def show_access(accessors: list[Accessor]) -> str:
    out = ""
    for kind, k in accessors:
        if kind == "name" and isinstance(k, str):
            shown = redact.key(k)
            out = f"{out}.{shown}" if out else shown
        elif isinstance(k, int):
            out += f"[{k}]"
        else:
            out += f'["{redact.key(k)}"]'
    return "${" + out + "}"


class _Syntax(Exception):
    """A malformed interpolation (message only; the caller adds file and path)."""


def _terminates(c: str) -> bool:
    return c in ".[}" or c.isspace()


def parse_access(text: str, i: int) -> tuple[list[Accessor], int]:
    """The property access starting at ``text[i]`` (just past ``${``) and the index past its
    ``}``, by ESC's grammar (``ast/property.go``)."""
    accessors: list[Accessor] = []
    n = len(text)

    def name_at(j: int) -> tuple[str, int]:
        start = j
        while j < n and not _terminates(text[j]):
            j += 1
        if j == start:
            raise _Syntax("property name must not be empty")
        return text[start:j], j

    while True:
        if i >= n:
            raise _Syntax("missing closing brace '}' in interpolation")
        c = text[i]
        if c == "}":
            if not accessors:
                raise _Syntax("property name must not be empty")
            return accessors, i + 1
        if c == ".":
            key, i = name_at(i + 1)
            accessors.append(("name", key))
        elif c == "[":
            i += 1
            if i >= n:
                raise _Syntax("subscript is missing closing bracket ']'")
            if text[i] == '"':
                i += 1
                buf: list[str] = []
                while True:
                    if i >= n:
                        raise _Syntax("key subscript is missing closing quote '\"'")
                    ch = text[i]
                    i += 1
                    if ch == '"':
                        break
                    if ch == "\\" and i < n and text[i] == '"':
                        ch = '"'
                        i += 1
                    buf.append(ch)
                if not buf:
                    raise _Syntax("key subscript must not be empty")
                accessors.append(("sub", "".join(buf)))
            else:
                start = i
                while i < n and text[i] != "]" and not _terminates(text[i]):
                    i += 1
                digits = text[start:i]
                if not digits.isascii() or not digits.isdigit():
                    raise _Syntax("numeric subscript must be a positive base-10 integer")
                if not accessors:
                    raise _Syntax(
                        "the first accessor must be a property name or key subscript, not a "
                        "numeric subscript"
                    )
                accessors.append(("sub", int(digits)))
            if i >= n or text[i] != "]":
                raise _Syntax("subscript is missing closing bracket ']'")
            i += 1
        elif c.isspace():
            raise _Syntax("missing closing brace '}' in interpolation")
        else:
            key, i = name_at(i)
            accessors.append(("name", key))


def parse_interpolation(text: str) -> list[tuple[str, list[Accessor] | None]]:
    """``text`` as ESC reads a string: literal runs and property accesses; ``$$`` is ``$``."""
    parts: list[tuple[str, list[Accessor] | None]] = []
    buf: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith("$$", i):
            buf.append("$")
            i += 2
        elif text.startswith("${", i):
            access, i = parse_access(text, i + 2)
            parts.append(("".join(buf), access))
            buf = []
        else:
            buf.append(text[i])
            i += 1
    if buf:
        parts.append(("".join(buf), None))
    return parts


# --- expressions --------------------------------------------------------------------------------


@dataclass(eq=False)
class Expr:
    kind: str  # lit, interp, sym, array, object, fn
    path: str  # the document path (for errors)
    base: V | None
    data: Any
    fn: str = ""
    state: int = 0  # 0 new, 1 evaluating, 2 done
    value: V | None = None


def _plain(raw: Any) -> Any:
    """A YAML scalar ESC would read as text (a date) as its text."""
    if raw is None or isinstance(raw, (bool, int, float, str, list, dict)):
        return raw
    return str(raw)


# --- the environment loader ---------------------------------------------------------------------


@dataclass
class Resolution:
    """What the stack's environments give: their ``pulumiConfig`` (raw, secure markers for
    secrets and unknowns) and what the stack-file lint needs."""

    pulumi_config: dict[str, Any]
    files: list[Path] = field(default_factory=list)
    #: (file as shown, path, the key it is under, literal text) of every literal string, for the
    #: credential lint.
    plaintext_leaves: list[tuple[str, str, str, str]] = field(default_factory=list)
    #: (file as shown, path) of every ``fn::secret`` given a plaintext literal.
    plaintext_secrets: list[tuple[str, str]] = field(default_factory=list)


def _split_name(name: Any) -> tuple[str, str, str] | None:
    """(project, env, version) of an environment reference, or None."""
    if not isinstance(name, str):
        return None
    ref, _, version = name.partition("@")
    if "@" in name and not version:
        return None
    parts = ref.split("/")
    if len(parts) == 1:
        parts = [DEFAULT_PROJECT, parts[0]]
    if len(parts) != 2:
        return None
    if version == "latest":
        version = ""
    for p in (*parts, *([version] if version else [])):
        if not NAME_RE.fullmatch(p) or p in (".", ".."):
            return None
        if redact.credential_kind_in_forms(p) is not None:
            return None  # shown in messages and file names: never a pasted credential
    return parts[0], parts[1], version


class Loader:
    """Loads and evaluates environments for one stack; each environment once."""

    def __init__(self, project_dir: Path) -> None:
        self.project_dir = project_dir
        self.done: dict[str, V] = {}
        self.evaluating: set[str] = set()
        self.resolution = Resolution(pulumi_config={})

    def label(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.project_dir))
        except ValueError:
            return str(path)

    def load(self, name: Any, where: str) -> V:
        """The evaluated environment ``name``, imported at ``where`` ("file: path")."""
        parsed = _split_name(name)
        if parsed is None:
            raise EscEvalError(
                f"{where}: not an environment name ({redact.name(name)}; expected "
                "<project>/<environment>[@<version>], letters, digits, '-', '_', '.')"
            )
        project, env, version = parsed
        key = f"{project}/{env}" + (f"@{version}" if version else "")
        if key in self.evaluating:
            raise EscEvalError(f"{where}: cyclic import of {key}")
        if key in self.done:
            return self.done[key]
        file = self.project_dir / ENV_DIR / project / (f"{env}@{version}" if version else env)
        file = file.with_name(file.name + ".yaml")
        shown = self.label(file)
        if not file.is_file():
            extra = (
                f" (pinned to {version!r}: offline only a copy of that revision in this file can "
                "be evaluated)"
                if version
                else ""
            )
            raise EscEvalError(f"{where}: environment {key} not found: no {shown}{extra}")
        try:
            text = file.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise EscEvalError(f"{shown}: not UTF-8 text") from None
        except OSError as exc:
            raise EscEvalError(f"{shown}: {exc.strerror or type(exc).__name__}") from None
        try:
            doc = load_yaml(text)
        except YamlProblem as exc:
            raise EscEvalError(f"{shown}: {exc}") from None
        self.resolution.files.append(file)
        self.evaluating.add(key)
        try:
            value = Environment(self, key, shown, "", doc).evaluate()
        finally:
            self.evaluating.discard(key)
        self.done[key] = value
        return value


def _lint_leaves(loader: Loader, file: str, path: str, raw: Any, parent_key: str) -> None:
    """Record every literal string under ``raw`` for the credential lint; ``fn::secret`` with a
    plaintext literal is recorded as such (the file is committed: ESC would have encrypted it)."""
    res = loader.resolution
    if isinstance(raw, dict):
        if len(raw) == 1 and "fn::secret" in raw:
            arg = raw["fn::secret"]
            inner = join_path(path, "fn::secret")
            if isinstance(arg, dict) and set(arg) == {"ciphertext"}:
                return
            if isinstance(arg, str):
                res.plaintext_secrets.append((file, inner))
            _lint_leaves(loader, file, inner, arg, parent_key)
            return
        for k, v in raw.items():
            _lint_leaves(loader, file, join_path(path, str(k)), v, str(k))
    elif isinstance(raw, list):
        for i, v in enumerate(raw):
            _lint_leaves(loader, file, join_path(path, i), v, parent_key)
    elif isinstance(raw, str):
        res.plaintext_leaves.append((file, path, parent_key, raw))


class Environment:
    """One environment's evaluation (ESC's ``evalContext``)."""

    def __init__(
        self,
        loader: Loader,
        name: str,
        file: str,
        prefix: str,
        doc: Any,
        imports_path: str = "imports",
    ) -> None:
        self.loader = loader
        self.name = name
        self.file = file
        self.prefix = prefix  # the document path of the definition in its file
        #: How the import list is written in the file (a stack file's list is ``environment``).
        self.imports_path = imports_path
        if doc is None:
            doc = {}
        if not isinstance(doc, dict):
            raise self.error("", "an environment definition must be a mapping")
        self.doc = doc
        self.base: V | None = None
        self.imports: dict[str, V] = {}

    def where(self, path: str) -> str:
        full = f"{self.prefix}{'.' if self.prefix and path else ''}{path}"
        return f"{self.file}: {full}" if full else self.file

    def error(self, path: str, message: str) -> EscEvalError:
        return EscEvalError(f"{self.where(path)}: {message}")

    # -- top level --

    def evaluate(self) -> V:
        self._imports()
        values = self.doc.get("values")
        if values is None:
            values = {}
        if not isinstance(values, dict):
            raise self.error("values", "must be an object")
        _lint_leaves(self.loader, self.file, join_path(self.prefix, "values"), values, "values")
        props: dict[str, Expr] = {}
        for raw_key, raw in values.items():
            key = str(raw_key)
            path = join_path("values", key)
            if key.startswith("fn::"):
                raise self.error(
                    path, f"builtin function call {redact.key(key)!r} not allowed at the top level"
                )
            if key in RESERVED_KEYS:
                raise self.error(path, f"{key!r} is a reserved key")
            props[key] = self.declare(raw, path, _prop(self.base, key))
        self.root = Expr("object", "values", self.base, props)
        return self.eval(self.root)

    def _imports(self) -> None:
        imports = self.doc.get("imports")
        if imports is None:
            return
        if not isinstance(imports, list):
            raise self.error("imports", "must be a list")
        for i, entry in enumerate(imports):
            path = (
                self.imports_path
                if self.imports_path == "mainEnvironment"
                else f"{self.imports_path}[{i}]"
            )
            merge_it = True
            if isinstance(entry, dict):
                if len(entry) != 1:
                    raise self.error(path, "import must have a single key")
                ((name, meta),) = entry.items()
                if meta is not None:
                    if not isinstance(meta, dict) or set(meta) - {"merge"}:
                        raise self.error(path, "import options: only 'merge' (true or false)")
                    if "merge" in meta:
                        if not isinstance(meta["merge"], bool):
                            raise self.error(f"{path}.merge", "must be true or false")
                        merge_it = meta["merge"]
            elif isinstance(entry, str):
                name = entry
            else:
                raise self.error(path, "import must be a string or an object")
            value = self.loader.load(name, self.where(path))
            self.imports[str(name)] = value
            if merge_it:
                self.base = merge(value, self.base)

    # -- declaration (ESC's ``declare``) --

    def declare(self, raw: Any, path: str, base: V | None) -> Expr:
        raw = _plain(raw)
        if isinstance(raw, str):
            try:
                parts = parse_interpolation(raw)
            except _Syntax as exc:
                raise self.error(path, str(exc)) from None
            if not parts:
                return Expr("lit", path, base, "")
            if len(parts) == 1 and parts[0][1] is None:
                return Expr("lit", path, base, parts[0][0])
            if len(parts) == 1 and parts[0][0] == "":
                return Expr("sym", path, base, parts[0][1])
            return Expr("interp", path, base, parts)
        if isinstance(raw, list):
            return Expr(
                "array",
                path,
                base,
                [self.declare(x, join_path(path, i), None) for i, x in enumerate(raw)],
            )
        if isinstance(raw, dict):
            fn_keys = [str(k) for k in raw if str(k).lower().startswith("fn::")]
            if fn_keys and len(raw) != 1:
                raise self.error(
                    path,
                    f"illegal call to builtin function: {redact.key(fn_keys[0])!r} must be the only key "
                    "within its containing object",
                )
            if fn_keys:
                return self._declare_fn(fn_keys[0], raw[next(iter(raw))], path, base)
            return Expr(
                "object",
                path,
                base,
                {
                    str(k): self.declare(v, join_path(path, str(k)), _prop(base, str(k)))
                    for k, v in raw.items()
                },
            )
        return Expr("lit", path, base, raw)

    def _declare_fn(self, name: str, arg: Any, path: str, base: V | None) -> Expr:
        inner = join_path(path, name)

        def sub(raw: Any, key: str | int | None = None) -> Expr:
            return self.declare(raw, inner if key is None else join_path(inner, key), None)

        if name.startswith(("fn::open::", "fn::rotate::")) or name in ("fn::open", "fn::rotate"):
            # A provider (ESC's parseOpen/parseShortOpen/parseRotate/parseShortRotate).
            base_name = "fn::rotate" if name.startswith("fn::rotate") else "fn::open"
            if name == "fn::open::" or name == "fn::rotate::":
                raise self.error(inner, "missing provider name")
            if name.startswith("fn::open::"):
                if arg is None:
                    raise self.error(inner, "missing provider inputs")
                return Expr("fn", path, base, {"inputs": sub(arg)}, fn="fn::open")
            need = ("inputs",) if name.startswith("fn::rotate::") else ("provider", "inputs")
            if not isinstance(arg, dict):
                raise self.error(
                    inner,
                    f"the argument to {base_name} must be an object containing "
                    + " and ".join(
                        repr(k) for k in (*need, *(("state",) if base_name == "fn::rotate" else ()))
                    ),
                )
            for k in need:
                if arg.get(k) is None:
                    raise self.error(
                        inner, f"missing provider {'name' if k == 'provider' else 'inputs'} ({k!r})"
                    )
            if "provider" in need and not isinstance(arg["provider"], str):
                raise self.error(
                    join_path(inner, "provider"), "provider name must be a string literal"
                )
            state = arg.get("state")
            if base_name == "fn::rotate" and state is not None and not isinstance(state, dict):
                raise self.error(
                    join_path(inner, "state"), "rotation state must be an object literal"
                )
            parts = {k: sub(arg[k], k) for k in ("inputs", "state") if arg.get(k) is not None}
            return Expr("fn", path, base, parts, fn="fn::open")
        if name not in PURE_FUNCTIONS:
            raise self.error(
                join_path(path, name), "'fn::' is a reserved prefix (unknown function)"
            )
        if name == "fn::secret":
            if isinstance(arg, dict) and set(arg) == {"ciphertext"}:
                if not isinstance(arg["ciphertext"], str):
                    raise self.error(join_path(inner, "ciphertext"), "must be a string")
                return Expr("fn", path, base, None, fn="fn::secret-ciphertext")
            x = self.declare(arg, inner, None)
            if x.kind != "lit" or not isinstance(x.data, str):
                raise self.error(inner, "secret values must be string literals")
            return Expr("fn", path, base, x.data, fn=name)
        if name in ("fn::join", "fn::split"):
            if not isinstance(arg, list) or len(arg) != 2:
                raise self.error(inner, f"the argument to {name} must be a two-valued list")
            return Expr("fn", path, base, [sub(arg[0], 0), sub(arg[1], 1)], fn=name)
        if name == "fn::concat" and not isinstance(arg, list):
            raise self.error(inner, "the argument to fn::concat must be an array of arrays")
        if name == "fn::validate":
            if not isinstance(arg, dict) or set(arg) != {"schema", "value"}:
                raise self.error(
                    inner,
                    "the argument to fn::validate must be an object containing 'schema' and 'value'",
                )
            return Expr("fn", path, base, {k: sub(v, k) for k, v in arg.items()}, fn=name)
        return Expr("fn", path, base, sub(arg), fn=name)

    # -- evaluation --

    def eval(self, x: Expr) -> V:
        if x.state == 2:
            assert x.value is not None
            return x.value
        if x.state == 1:
            raise self.error(x.path, f"cyclic reference to {x.path}")
        x.state = 1
        # A final base cannot be overridden (ESC warns "cannot override final value").
        v = x.base if x.base is not None and x.base.final else merge(self._eval(x), x.base)
        x.state, x.value = 2, v
        return v

    def _eval(self, x: Expr) -> V:
        if x.kind == "lit":
            return V(x.data)
        if x.kind == "array":
            return V([self.eval(e) for e in x.data])
        if x.kind == "object":
            return V({k: self.eval(e) for k, e in x.data.items()})
        if x.kind == "sym":
            return self.access(x, x.data)
        if x.kind == "interp":
            out: list[str] = []
            unknown = secret = False
            for text, access in x.data:
                out.append(text)
                if access is not None:
                    s, u, sec = to_string(self.access(x, access))
                    unknown, secret = unknown or u, secret or sec
                    out.append(s)
            return _unknown(secret) if unknown else V("".join(out), secret=secret)
        return self._eval_fn(x)

    def _string(self, x: Expr, v: V, what: str) -> str | None:
        if v.unknown:
            return None
        if not isinstance(v.value, str):
            raise self.error(x.path, f"{what}: expected a string, got {_kind(v)}")
        return v.value

    def _eval_fn(self, x: Expr) -> V:
        fn = x.fn
        if fn == "fn::secret":
            return V(x.data, secret=True)
        if fn == "fn::secret-ciphertext":
            return _unknown()  # only the environment's key decrypts it
        if fn == "fn::open":
            for e in x.data.values():
                self.eval(e)  # a bad reference in the inputs is an error all the same
            return _unknown()
        if fn == "fn::validate":
            self.eval(x.data["schema"])
            return self.eval(x.data["value"])
        if fn in ("fn::join", "fn::split"):
            a, b = (self.eval(e) for e in x.data)
            unknown, secret = _combine(a, b)
            delim = self._string(x.data[0], a, f"{fn} delimiter")
            if fn == "fn::split":
                text = self._string(x.data[1], b, "fn::split string")
                if unknown or delim is None or text is None:
                    return _unknown(secret)
                pieces = list(text) if delim == "" else text.split(delim)
                return V([V(p, secret=secret) for p in pieces], secret=False)
            items = self._list(x.data[1], b, "fn::join values")
            if unknown or delim is None or items is None:
                return _unknown(secret)
            texts = [self._string(x.data[1], item, "fn::join values") for item in items]
            return V(delim.join(t or "" for t in texts), secret=secret)
        arg = self.eval(x.data)
        unknown, secret = _combine(arg)
        if fn == "fn::final":
            return replace(arg, final=True)
        if fn == "fn::toString":
            s, u, sec = to_string(arg)
            return _unknown(sec) if u else V(s, secret=sec)
        if fn == "fn::toJSON":
            return _unknown(secret) if unknown else V(to_json(arg), secret=secret)
        if fn == "fn::concat":
            arrays = self._list(x.data, arg, "fn::concat")
            if unknown or arrays is None:
                return _unknown(secret)
            out: list[V] = []
            for a in arrays:
                got = self._list(x.data, a, "fn::concat element")
                out.extend(got or [])
            return V(out)
        text = self._string(x.data, arg, fn)
        if text is None:
            return _unknown(secret)
        if fn == "fn::toBase64":
            return V(base64.b64encode(text.encode()).decode(), secret=secret)
        if fn == "fn::fromBase64":
            try:
                decoded = base64.b64decode(text.encode(), validate=True).decode("utf-8")
            except (binascii.Error, ValueError):
                raise self.error(x.path, "fn::fromBase64: not base64 of UTF-8 text") from None
            return V(decoded, secret=secret)
        # fn::fromJSON
        try:
            parsed = json.loads(text)
        except ValueError:
            raise self.error(x.path, "fn::fromJSON: decoding JSON string: not valid JSON") from None
        return from_plain(parsed, secret)

    def _list(self, x: Expr, v: V, what: str) -> list[V] | None:
        if v.unknown:
            return None
        if not isinstance(v.value, list):
            raise self.error(x.path, f"{what}: expected a list, got {_kind(v)}")
        return list(v.value)

    # -- property access (ESC's ``evaluateExprAccess``) --

    def access(self, x: Expr, accessors: list[Accessor]) -> V:
        first = accessors[0][1]
        shown = show_access(accessors)
        if isinstance(first, str):
            if first == "imports":
                return self.value_access(x, V(dict(self.imports)), accessors[1:], shown)
            if first == "context":
                return _unknown(secret=False)  # known when ESC opens the environment
            if first == "environments":
                if len(accessors) < 3 or not all(isinstance(a[1], str) for a in accessors[1:3]):
                    raise self.error(x.path, f"{shown}: expected environments.<project>.<env>")
                project, env = str(accessors[1][1]), str(accessors[2][1])
                value = self.loader.load(f"{project}/{env}", self.where(x.path))
                return self.value_access(x, value, accessors[3:], shown)
        receiver = self.root
        rest = list(accessors)
        while rest:
            key = rest[0][1]
            if receiver.kind == "array":
                receiver = receiver.data[self._index(x, key, len(receiver.data), shown)]
            elif receiver.kind == "object":
                if not isinstance(key, str):
                    raise self.error(
                        x.path, f"{shown}: cannot access an object property using an integer index"
                    )
                if key not in receiver.data:
                    base = receiver.base
                    if base is not None and (base.unknown or isinstance(base.value, dict)):
                        return self.value_access(x, base, rest, shown)
                    raise self.error(x.path, _unknown_property(key, list(receiver.data), shown))
                receiver = receiver.data[key]
            else:
                return self.value_access(x, self.eval(receiver), rest, shown)
            rest = rest[1:]
        return self.eval(receiver)

    def value_access(self, x: Expr, v: V, accessors: list[Accessor], shown: str) -> V:
        for _, key in accessors:
            if v.unknown:
                return _unknown()
            if isinstance(v.value, list):
                v = v.value[self._index(x, key, len(v.value), shown)]
            elif isinstance(v.value, dict):
                if not isinstance(key, str):
                    raise self.error(
                        x.path, f"{shown}: cannot access an object property using an integer index"
                    )
                if key not in v.value:
                    raise self.error(x.path, _unknown_property(key, list(v.value), shown))
                v = v.value[key]
            else:
                raise self.error(x.path, f"{shown}: receiver must be an array or an object")
        return v

    def _index(self, x: Expr, key: str | int, length: int, shown: str) -> int:
        if not isinstance(key, int):
            raise self.error(
                x.path, f"{shown}: cannot access an array element using a property name"
            )
        if key >= length:
            raise self.error(
                x.path, f"{shown}: array index {key} out-of-bounds for array of length {length}"
            )
        return key


def _unknown_property(key: str, keys: list[str], shown: str) -> str:
    near = difflib.get_close_matches(key, keys, n=1)
    hint = f" (did you mean {redact.key(near[0])!r}?)" if near else ""
    return f"{shown}: unknown property {redact.key(key)!r}{hint}"


def _kind(v: V) -> str:
    value = v.value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "a string"


def _go_quote(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def to_string(v: V) -> tuple[str, bool, bool]:
    """ESC's ``value.toString``: (text, unknown, secret)."""
    if v.unknown:
        return "[unknown]", True, v.secret
    value = v.value
    unknown, secret = False, v.secret
    if value is None:
        return "", False, secret
    if isinstance(value, bool):
        return ("true" if value else "false"), False, secret
    if isinstance(value, (int, float)):
        return json.dumps(value), False, secret
    if isinstance(value, str):
        return value, False, secret
    parts: list[str] = []
    if isinstance(value, list):
        for item in value:
            s, u, sec = to_string(item)
            parts.append(_go_quote(s))
            unknown, secret = unknown or u, secret or sec
    else:
        for k in sorted(value):
            s, u, sec = to_string(value[k])
            parts.append(f"{_go_quote(k)}={_go_quote(s)}")
            unknown, secret = unknown or u, secret or sec
    return ",".join(parts), unknown, secret


def to_plain(v: V) -> Any:
    if isinstance(v.value, list):
        return [to_plain(x) for x in v.value]
    if isinstance(v.value, dict):
        return {k: to_plain(x) for k, x in v.value.items()}
    return v.value


def to_json(v: V) -> str:
    """Go's ``json.Marshal`` of the plain value: sorted keys, no spaces, HTML characters escaped."""
    text = json.dumps(to_plain(v), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(ch, esc)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def from_plain(raw: Any, secret: bool) -> V:
    if isinstance(raw, list):
        return V([from_plain(x, secret) for x in raw])
    if isinstance(raw, dict):
        return V({str(k): from_plain(x, secret) for k, x in raw.items()})
    return V(raw, secret=secret)


# --- what a stack takes from its environments ------------------------------------------------


def to_config_raw(v: V, secret: bool = False) -> Any:
    """An evaluated ``pulumiConfig`` value as a stack file would hold it: secrets and unknowns as
    secure markers (the stack reader's placeholder offline), the rest as written."""
    if v.unknown:
        return dict(SECURE_MARKER)
    secret = secret or v.secret
    if isinstance(v.value, list):
        return [to_config_raw(x, secret) for x in v.value]
    if isinstance(v.value, dict):
        return {k: to_config_raw(x, secret) for k, x in v.value.items()}
    if secret:
        return dict(SECURE_MARKER)
    return v.value


def _is_secure(raw: Any) -> bool:
    return isinstance(raw, dict) and len(raw) == 1 and isinstance(raw.get("secure"), str)


def merge_config(stack_value: Any, env_value: Any) -> Any:
    """Pulumi's ``config.Value.Merge``: the stack's object merged over the environment's, key by
    key; anything else (a secure value included) is the stack's."""
    if (
        isinstance(stack_value, dict)
        and isinstance(env_value, dict)
        and not _is_secure(stack_value)
        and not _is_secure(env_value)
    ):
        out = dict(env_value)
        for k, v in stack_value.items():
            out[k] = merge_config(v, env_value[k]) if k in env_value else v
        return out
    return stack_value


def resolve(project_dir: Path, stack_label: str, data: dict[str, Any]) -> Resolution | None:
    """The environments a stack file imports, evaluated; None when it imports none.

    ``data`` is the stack file; ``stack_label`` its name as errors show it."""
    spec = data.get("environment")
    main = data.get("mainEnvironment")
    if spec is None and main is None:
        return None
    loader = Loader(project_dir)
    if main is not None:
        if spec is not None:
            raise EscEvalError(
                f"{stack_label}: both 'environment' and 'mainEnvironment' (Pulumi ignores "
                "'environment' then): keep one"
            )
        if not isinstance(main, str) or "/" not in main:
            raise EscEvalError(
                f"{stack_label}: mainEnvironment: must be one reference "
                "<project>/<environment>[@<version>]"
            )
        doc: Any = {"imports": [main]}
        prefix = "mainEnvironment"
    elif isinstance(spec, list):
        if not all(isinstance(n, str) for n in spec):
            raise EscEvalError(
                f"{stack_label}: environment: a list holds environment names only "
                "(import options belong in an inline definition's imports)"
            )
        doc, prefix = {"imports": spec}, "environment"
    elif isinstance(spec, dict):
        doc, prefix = spec, "environment"
    else:
        raise EscEvalError(
            f"{stack_label}: environment: must be a list of environment names or an "
            "environment definition (imports, values)"
        )
    if prefix == "environment" and isinstance(spec, dict):
        anonymous = Environment(loader, "<stack>", stack_label, prefix, doc)
    else:  # a list of names (or the main environment) is the import list of an anonymous one
        anonymous = Environment(loader, "<stack>", stack_label, "", doc, imports_path=prefix)
    try:
        value = anonymous.evaluate()
    except RecursionError:
        raise EscEvalError(
            f"{stack_label}: environments: imports or references chained too deeply to evaluate"
        ) from None
    config = _prop(value, "pulumiConfig")
    if config is None:
        return loader.resolution
    if config.unknown:
        raise EscEvalError(
            f"{stack_label}: values.pulumiConfig is only known when ESC opens the environment "
            "(a provider's output): offline its keys cannot be read"
        )
    if not isinstance(config.value, dict):
        return loader.resolution  # Pulumi takes pulumiConfig only when it is an object
    loader.resolution.pulumi_config = {k: to_config_raw(v) for k, v in config.value.items()}
    return loader.resolution
