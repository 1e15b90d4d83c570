"""Read a Pulumi stack's state into :class:`~policies.model.ResourceRecord` objects, and find the
credentials it stores in plaintext.

Accepted inputs (one JSON document, from a path or a stream):

* ``pulumi stack export`` output: ``{"version": N, "deployment": {...}}``;
* an on-disk checkpoint (``pulumi login --local`` / ``s3://`` backends, their ``history/`` and
  ``backups/`` copies): ``{"version": N, "checkpoint": {"stack", "config", "latest": {...}}}``;
* an unversioned pre-2018 checkpoint (``{"stack", "latest"}`` at the top level), read as version 1.

``N`` is 1 to 4, the deployment versions of Pulumi's ``apitype`` package: version 1 resources
have ``defaults`` (deprecated provider defaults, merged under the inputs) and no providers; version
2 adds first-class ``provider`` references, ``external`` and ``pending_operations``; version 3 adds
``secrets_providers``, ``propertyDependencies``, ``additionalSecretOutputs``, ``retainOnDelete``...
Every field is read as optional, the way Pulumi itself reads them. Anything newer is refused.

Version 4 is what current Pulumi writes as soon as a stack uses a feature an older CLI would
misread: the same ``DeploymentV3`` body, with a top-level ``features`` list beside ``version``
(``{"version": 4, "features": ["refreshBeforeUpdate"], "deployment": {...}}``, likewise for a
checkpoint). The features Pulumi knows (:data:`KNOWN_FEATURES`: ``refreshBeforeUpdate``,
``views``, ``hooks``, ``taint``, ``replaceWith``, ``extensionParameterization``,
``snippets-prototype`` are resource or deployment fields the checker does not need;
``byteString`` changes how values are written) are read; a state naming another feature is
refused, as the Pulumi CLI refuses it, since it may write values in a form this reader would not
scan. ``byteString``: a string that is not valid UTF-8 is written as ``{"4dabf181...":
"803fd329...", "value": "<base64 of its bytes>"}``; it is decoded (invalid bytes replaced) so that
the credential scan sees its text.

Secrets are never decrypted. A secret envelope (``{"4dabf181...": "1b470612...", "ciphertext":
...}``) becomes the opaque string :data:`CIPHERTEXT` and its path is listed in ``secret_paths``;
inputs paths as they are (``masterAuth.password``), output paths prefixed ``outputs.``
(``outputs.kubeconfig``). An envelope with ``plaintext`` (``pulumi stack export --show-secrets``)
becomes :data:`PLAINTEXT_SECRET`, is listed in ``secret_paths`` too, and is reported by
:func:`plaintext_findings`: a state file holding it holds the secret in clear. No secret value, of
either kind, is kept in a record. An envelope with ``value`` (the form the engine hands a policy
pack and the SDK serializes) is readable: its value (a scalar, or a whole map or list, itself
stripped) is kept for the policies and its path listed in ``secret_paths``; the plaintext scan
does not judge what lies under a secret path.

Resources of ``pending_operations`` (an interrupted update) are read as well: they can hold the same
values as finished resources, so the plaintext scan covers them.

A checkpoint also holds the stack's configuration (``checkpoint.config``, ``CheckpointV1..V3.Config``
of ``apitype``; ``pulumi stack export`` output has none): ``{"aws:region": "us-east-1",
"proj:dbPassword": {"secure": "v1:..."}}``. Secure values are replaced by :data:`CIPHERTEXT` when
read (:attr:`StackState.config`); plain values are scanned by :func:`plaintext_findings` like
resource properties, reported under the stack's URN (None when the state has no
``pulumi:pulumi:Stack`` resource) with the path ``config.<key>``.

Some fields hold a secret because of their resource type, whatever their name says
(``random:index/randomPassword:RandomPassword`` ``result``): :data:`KNOWN_SECRET_FIELDS` lists them,
and a plaintext string there (an input or an output, not in a secret envelope) is a finding of the
same ``state-plaintext-secret`` policy.
"""

from __future__ import annotations

import base64
import dataclasses
import fnmatch
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final, Literal

from policies.contract import redact
from policies.lib.credentials import PULUMI_SECRET_SIG, SENSITIVE_KEY_KIND, scan_value
from policies.lib.gcpause import gc_paused
from policies.model import CIPHERTEXT as MODEL_CIPHERTEXT
from policies.model import Category, Enforcement, PolicyInfo, ResourceRecord, Severity, Violation

__all__ = [
    "CIPHERTEXT",
    "KNOWN_FEATURES",
    "KNOWN_SECRET_FIELDS",
    "PLAINTEXT_POLICY",
    "PLAINTEXT_POLICY_ID",
    "PLAINTEXT_SECRET",
    "SUPPORTED_VERSIONS",
    "PendingOperation",
    "StackState",
    "StateError",
    "load_records",
    "mask_flagged_names",
    "parse_state",
    "plaintext_findings",
    "read_state",
]

#: the signature key of Pulumi's special objects (secrets, assets, archives, resource references)
SIG_KEY: Final = "4dabf18193072939515e22adb298388d"  # pragma: allowlist secret
#: what an encrypted secret becomes in ``props``/``outputs`` (never decrypted)
CIPHERTEXT: Final = MODEL_CIPHERTEXT
#: what a ``plaintext`` secret envelope becomes (the value is dropped; the path is a finding)
PLAINTEXT_SECRET: Final = "[plaintext secret]"  # noqa: S105  # pragma: allowlist secret
#: an envelope with none of ciphertext, plaintext and value (kept opaque)
OPAQUE_SECRET: Final = "[secret]"  # noqa: S105  # pragma: allowlist secret
SUPPORTED_VERSIONS: Final = (1, 2, 3, 4)
#: Features of version-4 deployments (``pkg/resource/stack/deployment.go``, supportedFeatures).
KNOWN_FEATURES: Final = frozenset(
    {
        "refreshBeforeUpdate",
        "views",
        "hooks",
        "taint",
        "replaceWith",
        "snippets-prototype",
        "extensionParameterization",
        "byteString",
    }
)
#: signature of a byte string (a string that is not valid UTF-8), with its bytes base64-encoded
BYTE_STRING_SIG: Final = "803fd3297a5875dc03ca845dda5d2a98"  # pragma: allowlist secret
#: signature of an output value (``{"value", "secret", "dependencies"}``)
OUTPUT_VALUE_SIG: Final = "d0e6a833031e9bbcd3f4e8bde6ca49a4"  # pragma: allowlist secret
OUTPUTS_PREFIX: Final = "outputs"
#: deeper property values are refused: the credential scanner stops at this depth, and a value it
#: cannot see must not pass as clean
MAX_DEPTH: Final = 100

#: Fields that are secret because of the resource type, by type glob (``fnmatch``, case-sensitive)
#: -> top-level input/output property names. A plain string there, or any string under it when
#: it is an object/list, is a plaintext secret. Providers normally mark these secret themselves
#: (so they are ciphertext in a healthy state); plaintext means an old provider, a hand-edited
#: state or ``--show-secrets`` output. Fields that the key-name rule already catches
#: (``password``, Azure's ``primaryAccessKey``/``primaryConnectionString``...) need no entry.
#: Deliberately absent: ``random:index/randomString:RandomString`` ``result``, which the random
#: provider does *not* treat as secret (it is meant for names and suffixes; programs wanting a
#: secret use RandomPassword), and PGP-encrypted fields (``encryptedSecret``).
KNOWN_SECRET_FIELDS: Final[tuple[tuple[str, frozenset[str]], ...]] = (
    ("random:index/randomPassword:RandomPassword", frozenset({"result", "bcryptHash"})),
    ("random:index/randomBytes:RandomBytes", frozenset({"base64", "hex"})),
    (
        "tls:index/privateKey:PrivateKey",
        frozenset({"privateKeyPem", "privateKeyOpenssh", "privateKeyPemPkcs8"}),
    ),
    ("aws:iam/accessKey:AccessKey", frozenset({"secret", "sesSmtpPasswordV4"})),
    ("aws:rds/*", frozenset({"password", "masterPassword"})),
    ("kubernetes:core/v1:Secret", frozenset({"data", "stringData"})),
)
#: Pulumi's marker for a value unknown during a preview (never a secret)
_UNKNOWN: Final = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
_STACK_TYPE: Final = "pulumi:pulumi:Stack"

PLAINTEXT_POLICY_ID: Final = "state-plaintext-secret"
PLAINTEXT_POLICY: Final = PolicyInfo(
    id=PLAINTEXT_POLICY_ID,
    description="Credentials in a stack's state must be stored as Pulumi secrets (ciphertext), "
    "never in plaintext.",
    severity=Severity.CRITICAL,
    enforcement=Enforcement.MANDATORY,
    category=Category.PLAINTEXT,
    remediation="Mark the value as a secret in the program (pulumi.Output.secret, "
    "additionalSecretOutputs on the resource, `pulumi config set --secret`) and run `pulumi up` "
    "so the state stores it encrypted; then rotate the credential: anyone who could read the "
    "state file has seen it. Never commit state files or `pulumi stack export --show-secrets` "
    "output.",
)

Form = Literal["export", "checkpoint"]


class StateError(ValueError):
    """The input is not a readable Pulumi state. The message names the input and the problem
    (never a value from it)."""


@dataclass(frozen=True)
class PendingOperation:
    """An operation the engine had started when the state was written (``creating``...)."""

    type: str
    record: ResourceRecord


@dataclass(frozen=True)
class StackState:
    """A stack's state: where it came from, its shape, its resources; ``config`` is a
    checkpoint's stack configuration with secure values as :data:`CIPHERTEXT` (empty for
    ``pulumi stack export`` output)."""

    source: str
    form: Form
    version: int
    stack: str | None
    secrets_provider: str | None
    resources: tuple[ResourceRecord, ...]
    pending_operations: tuple[PendingOperation, ...] = ()
    config: Mapping[str, Any] = field(default_factory=dict, compare=False)
    #: the ``features`` a version-4 state declares (empty before version 4)
    features: tuple[str, ...] = ()

    def records(self) -> list[ResourceRecord]:
        """The resources, then the resources of pending operations."""
        return [*self.resources, *(op.record for op in self.pending_operations)]

    def plaintext_findings(self) -> list[Violation]:
        """:func:`plaintext_findings` of the records and of the stack configuration."""
        return plaintext_findings(self.records(), config=self.config)


# --------------------------------------------------------------------------- reading


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "a number"
    )


def read_state(source: str | Path | IO[str] | IO[bytes], *, name: str | None = None) -> StackState:
    """Read a state from a file path or an open stream (``name`` labels a stream in messages).

    Raises :class:`StateError` for a missing/unreadable file, non-JSON input, a JSON document
    that is not a Pulumi state, or an unsupported version.
    """
    with gc_paused():
        return _read_state(source, name)


def _read_state(source: str | Path | IO[str] | IO[bytes], name: str | None) -> StackState:
    if isinstance(source, str | Path):
        label = name or str(source)
        path = Path(source)
        try:
            with path.open("rb") as fp:
                doc = _load_json(fp, label)
        except FileNotFoundError:
            raise StateError(f"{label}: no such file") from None
        except IsADirectoryError:
            raise StateError(f"{label}: is a directory, not a state file") from None
        except PermissionError:
            raise StateError(f"{label}: permission denied") from None
        except OSError as exc:
            raise StateError(
                f"{label}: cannot read ({exc.strerror or type(exc).__name__})"
            ) from None
    else:
        label = name or str(getattr(source, "name", "<stream>"))
        try:
            doc = _load_json(source, label)
        except OSError as exc:  # a closed or unreadable stream (stdin closed: EBADF)
            raise StateError(
                f"{label}: cannot read ({exc.strerror or type(exc).__name__})"
            ) from None
        except ValueError as exc:
            if "closed file" in str(exc):  # reading a stream that was closed
                raise StateError(f"{label}: cannot read (the stream is closed)") from None
            raise
    return parse_state(doc, source=label)


class _HugeNumber(ValueError):
    pass


def _bounded_int(text: str) -> int:
    """``json`` ``parse_int``: CPython refuses integers over 4300 digits with a bare ValueError."""
    digits = len(text.lstrip("-"))
    if digits > redact.MAX_INT_DIGITS:
        raise _HugeNumber(f"a number of {digits} digits; at most {redact.MAX_INT_DIGITS} are read")
    return int(text)


def _load_json(fp: IO[str] | IO[bytes], label: str) -> Any:
    try:
        return json.load(fp, parse_int=_bounded_int)
    except _HugeNumber as exc:
        raise StateError(f"{label}: not a Pulumi state ({exc})") from None
    except UnicodeDecodeError:
        raise StateError(f"{label}: not JSON (not UTF-8 text)") from None
    except json.JSONDecodeError as exc:
        if not exc.doc.strip():
            raise StateError(f"{label}: not JSON (the input is empty)") from None
        # exc.msg never quotes the document, so no value can leak through it
        raise StateError(
            f"{label}: not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None
    except RecursionError:
        raise StateError(f"{label}: not a Pulumi state (JSON nested too deeply)") from None


def load_records(source: str | Path | IO[str] | IO[bytes]) -> list[ResourceRecord]:
    """The records of a state (resources and pending operations), ``source="state"``."""
    return read_state(source).records()


_EXPECTED: Final = (
    "expected `pulumi stack export` output ({'version': 3, 'deployment': {...}}) or a state "
    "checkpoint ({'version': 3, 'checkpoint': {'stack': ..., 'latest': {...}}})"
)
_VERSIONS: Final = f"{SUPPORTED_VERSIONS[0]}-{SUPPORTED_VERSIONS[-1]}"


def parse_state(doc: Any, *, source: str = "<state>") -> StackState:
    """A state from an already parsed JSON document (see :func:`read_state`)."""
    if not isinstance(doc, dict):
        raise StateError(f"{source}: not a Pulumi state: {_EXPECTED}; found {_describe(doc)}")
    form: Form
    if "deployment" in doc:
        form, body_key = "export", "deployment"
    elif "checkpoint" in doc:
        form, body_key = "checkpoint", "checkpoint"
    elif "version" not in doc and ("latest" in doc or "stack" in doc):
        # a checkpoint from before checkpoints were versioned: the CheckpointV1 shape itself
        form, body_key, doc = "checkpoint", "checkpoint", {"version": 1, "checkpoint": doc}
    else:
        keys = ", ".join(sorted(repr(k) if redact.key(k) == k else redact.key(k) for k in doc))
        raise StateError(
            f"{source}: not a Pulumi state: {_EXPECTED}; found keys {_first(keys) or 'none'}"
        )

    version = doc.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise StateError(
            f"{source}: 'version' must be an integer ({_VERSIONS}), found {_describe(version)}"
        )
    if version not in SUPPORTED_VERSIONS:
        # a small version number is a format marker, shown; anything else is described
        shown = str(version) if -1000 < version < 1000 else redact.describe(version)
        raise StateError(
            f"{source}: unsupported state version {shown}: this reader knows versions {_VERSIONS}"
        )
    features = _features(doc.get("features"), version, source)

    body = doc[body_key]
    if not isinstance(body, dict):
        raise StateError(f"{source}: '{body_key}' must be an object, found {_describe(body)}")
    stack: str | None = None
    where = "deployment"
    config: dict[str, Any] = {}
    if form == "checkpoint":
        stack_value = body.get("stack")
        stack = stack_value if isinstance(stack_value, str) and stack_value else None
        config = _config(body.get("config"), source)
        latest = body.get("latest")
        if latest is None:  # a stack that was never deployed
            return StackState(
                source, form, version, stack, None, (), config=config, features=features
            )
        if not isinstance(latest, dict):
            raise StateError(
                f"{source}: 'checkpoint.latest' must be an object, found {_describe(latest)}"
            )
        body, where = latest, "checkpoint.latest"

    provider = body.get("secrets_providers")
    provider_type = provider.get("type") if isinstance(provider, dict) else None
    resources_json = body.get("resources")
    resources_json = [] if resources_json is None else resources_json
    if not isinstance(resources_json, list):
        raise StateError(
            f"{source}: '{where}.resources' must be a list, found {_describe(resources_json)}"
        )
    resources = tuple(
        _record(r, f"{where}.resources[{i}]", source, version) for i, r in enumerate(resources_json)
    )
    pending: list[PendingOperation] = []
    if version >= 2:
        ops = body.get("pending_operations")
        ops = [] if ops is None else ops
        if not isinstance(ops, list):
            raise StateError(
                f"{source}: '{where}.pending_operations' must be a list, found {_describe(ops)}"
            )
        for i, op in enumerate(ops):
            at = f"{where}.pending_operations[{i}]"
            if not isinstance(op, dict) or not isinstance(op.get("resource"), dict):
                raise StateError(f"{source}: '{at}' must be an object with a 'resource' object")
            op_type = op.get("type")
            pending.append(
                PendingOperation(
                    op_type if isinstance(op_type, str) else "unknown",
                    _record(op["resource"], f"{at}.resource", source, version),
                )
            )
    return StackState(
        source,
        form,
        version,
        stack,
        provider_type if isinstance(provider_type, str) else None,
        resources,
        tuple(pending),
        config=config,
        features=features,
    )


def _first(keys: str, limit: int = 6) -> str:
    parts = keys.split(", ") if keys else []
    return ", ".join(parts[:limit]) + (f" (+{len(parts) - limit})" if len(parts) > limit else "")


def _features(value: Any, version: int, source: str) -> tuple[str, ...]:
    """The ``features`` of a version-4 state (ignored before version 4, as Pulumi ignores them)."""
    if version < 4 or value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(f, str) for f in value):
        raise StateError(f"{source}: 'features' must be a list of names, found {_describe(value)}")
    unknown = sorted({f for f in value if f not in KNOWN_FEATURES})
    if unknown:
        raise StateError(
            f"{source}: the state uses features this reader does not know: "
            f"{', '.join(redact.key(f) for f in unknown)} (it knows {', '.join(sorted(KNOWN_FEATURES))}); "
            "values may be written in a form it would not scan"
        )
    return tuple(value)


def _config(value: Any, source: str) -> dict[str, Any]:
    """A checkpoint's ``config`` with secure values (``{"secure": "v1:..."}``) as CIPHERTEXT."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise StateError(
            f"{source}: 'checkpoint.config' must be an object, found {_describe(value)}"
        )
    out: dict[str, Any] = {}
    for k, v in value.items():
        try:
            out[k] = _unsecure(v, 1)
        except _TooDeep:
            raise StateError(
                f"{source}: 'checkpoint.config.{redact.key(k)}' is nested deeper than "
                f"{MAX_DEPTH} levels"
            ) from None
    return out


def _unsecure(value: Any, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise _TooDeep
    if isinstance(value, dict):
        if len(value) == 1 and isinstance(value.get("secure"), str):
            return CIPHERTEXT
        return {k: _unsecure(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_unsecure(v, depth + 1) for v in value]
    return value


def _urn_list(value: Any, at: str, source: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(u, str) for u in value):
        raise StateError(f"{source}: '{at}' must be a list of URNs")
    return tuple(value)


def _optional_str(r: Mapping[str, Any], key: str, at: str, source: str) -> str | None:
    value = r.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise StateError(f"{source}: '{at}.{key}' must be a string, found {_describe(value)}")
    return value


def _record(r: Any, at: str, source: str, version: int) -> ResourceRecord:
    if not isinstance(r, dict):
        raise StateError(f"{source}: '{at}' must be an object, found {_describe(r)}")
    urn, type_ = r.get("urn"), r.get("type")
    if not isinstance(urn, str) or not urn:
        raise StateError(f"{source}: '{at}.urn' must be a non-empty string")
    if not isinstance(type_, str) or not type_:
        raise StateError(f"{source}: '{at}.type' must be a non-empty string")
    parts = urn.split("::", 3)
    if len(parts) != 4 or not parts[0].startswith("urn:pulumi:"):
        raise StateError(
            f"{source}: '{at}.urn' is not a Pulumi URN (urn:pulumi:<stack>::<project>::<type>::<name>)"
        )
    inputs = {} if r.get("inputs") is None else r["inputs"]
    outputs = {} if r.get("outputs") is None else r["outputs"]
    for key, value in (("inputs", inputs), ("outputs", outputs)):
        if not isinstance(value, dict):
            raise StateError(f"{source}: '{at}.{key}' must be an object, found {_describe(value)}")
    if version == 1 and isinstance(r.get("defaults"), dict):
        inputs = {**r["defaults"], **inputs}

    secret_paths: list[str] = []
    props: dict[str, Any] = {}
    outs: dict[str, Any] = {}
    for tree, prefix, into, where in (
        (inputs, "", props, "inputs"),
        (outputs, OUTPUTS_PREFIX, outs, "outputs"),
    ):
        for k, v in tree.items():
            try:
                into[k] = _strip(v, _join(prefix, k), secret_paths, 1)
            except _TooDeep:
                raise StateError(
                    f"{source}: '{at}.{where}.{redact.key(k)}' is nested deeper than "
                    f"{MAX_DEPTH} levels"
                ) from None

    prop_deps_json = r.get("propertyDependencies")
    prop_deps_json = {} if prop_deps_json is None else prop_deps_json
    if not isinstance(prop_deps_json, dict):
        raise StateError(f"{source}: '{at}.propertyDependencies' must be an object")
    prop_deps = {
        str(k): _urn_list(v, f"{at}.propertyDependencies.{redact.key(k)}", source)
        for k, v in prop_deps_json.items()
    }
    aso = r.get("additionalSecretOutputs")
    aso = [] if aso is None else aso
    if not isinstance(aso, list) or not all(isinstance(k, str) for k in aso):
        raise StateError(f"{source}: '{at}.additionalSecretOutputs' must be a list of names")
    return ResourceRecord(
        urn=urn,
        type=type_,
        name=parts[3],
        props=props,
        custom=bool(r.get("custom", False)),
        secret_paths=tuple(secret_paths),
        protect=bool(r.get("protect", False)),
        retain_on_delete=bool(r.get("retainOnDelete", False)),
        additional_secret_outputs=tuple(aso),
        provider=_optional_str(r, "provider", at, source),
        parent=_optional_str(r, "parent", at, source),
        dependencies=_urn_list(r.get("dependencies"), f"{at}.dependencies", source),
        property_dependencies=prop_deps,
        outputs=outs,
        source="state",
    )


def _byte_string(encoded: str) -> str:
    """The text of a byte string (base64 of bytes that are not valid UTF-8), invalid bytes replaced:
    what the credential scan reads. Undecodable base64 stays as it is (and is scanned as such)."""
    try:
        return base64.b64decode(encoded, validate=True).decode("utf-8", errors="replace")
    except ValueError:
        return encoded


_NEEDS_QUOTING: Final = re.compile(r'[.\[\] "]')


def _join(path: str, key: str) -> str:
    """Property paths as :func:`policies.lib.credentials.scan_value` writes them."""
    if not key or _NEEDS_QUOTING.search(key):
        return f"{path}[{json.dumps(key)}]"
    return f"{path}.{key}" if path else key


class _TooDeep(Exception):
    pass


def _strip(value: Any, path: str, secret_paths: list[str], depth: int) -> Any:
    """The value with secret envelopes replaced by placeholders (paths recorded)."""
    if depth > MAX_DEPTH:
        raise _TooDeep
    if isinstance(value, dict):
        sig = value.get(SIG_KEY)
        if sig == PULUMI_SECRET_SIG:
            secret_paths.append(path)
            if "ciphertext" in value:
                return CIPHERTEXT
            if "plaintext" in value:
                return PLAINTEXT_SECRET
            if "value" in value:
                # the engine's and the SDK's form (what the analyzer is handed): the value is
                # readable, a whole map or list as much as a scalar; kept for the policies, its
                # path secret (the plaintext scan does not judge what lies under it)
                return _strip(value["value"], path, secret_paths, depth + 1)
            return OPAQUE_SECRET
        if sig == BYTE_STRING_SIG and isinstance(value.get("value"), str):
            return _byte_string(value["value"])
        if sig == OUTPUT_VALUE_SIG:
            # an output value: its element, secret if marked so (the element may be absent: an
            # unknown value)
            secret = value.get("secret") is True
            if "value" not in value:
                if secret:
                    secret_paths.append(path)
                return OPAQUE_SECRET if secret else _UNKNOWN
            if secret:
                secret_paths.append(path)
                inner = _strip(value["value"], path, [], depth + 1)
                return inner if inner in (CIPHERTEXT, OPAQUE_SECRET) else PLAINTEXT_SECRET
            return _strip(value["value"], path, secret_paths, depth + 1)
        return {k: _strip(v, _join(path, k), secret_paths, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip(v, f"{path}[{i}]", secret_paths, depth + 1) for i, v in enumerate(value)]
    return value


# --------------------------------------------------------------------------- findings


def _placeholder_paths(value: Any, path: str) -> Iterator[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _placeholder_paths(v, _join(path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _placeholder_paths(v, f"{path}[{i}]")
    elif value == PLAINTEXT_SECRET:
        yield path


_KIND_TEXT: Final = {SENSITIVE_KEY_KIND: "value of a credential-named key"}


def _violation(urn: str | None, message: str) -> Violation:
    return Violation(
        policy=PLAINTEXT_POLICY_ID,
        severity=PLAINTEXT_POLICY.severity,
        enforcement=PLAINTEXT_POLICY.enforcement,
        category=PLAINTEXT_POLICY.category,
        urn=urn,
        message=message,
        checkov=PLAINTEXT_POLICY.checkov,
    )


def known_secret_fields(type_: str) -> frozenset[str]:
    """The property names :data:`KNOWN_SECRET_FIELDS` lists for a resource type."""
    names: set[str] = set()
    for pattern, fields in KNOWN_SECRET_FIELDS:
        if fnmatch.fnmatchcase(type_, pattern):
            names |= fields
    return frozenset(names)


def _plain_strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(path, string) of every plaintext string in ``value`` (markers and unknowns skipped)."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _plain_strings(v, _join(path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _plain_strings(v, f"{path}[{i}]")
    elif isinstance(value, str) and value.strip() and value not in _MARKERS:
        yield path, value


_MARKERS: Final = frozenset({CIPHERTEXT, PLAINTEXT_SECRET, OPAQUE_SECRET, _UNKNOWN})


def _under_any(path: str, secret: set[str]) -> bool:
    """Whether ``path`` is one of the ``secret`` paths or lies under one."""
    if path in secret:
        return True
    return any(path.startswith((p + ".", p + "[")) for p in secret)


def stack_urn(records: Iterable[ResourceRecord]) -> str | None:
    """The URN of the stack resource among ``records`` (None without one)."""
    return next((r.urn for r in records if r.type == _STACK_TYPE), None)


def plaintext_findings(
    records: Iterable[ResourceRecord], *, config: Mapping[str, Any] | None = None
) -> list[Violation]:
    """Every credential a state stores without encryption, one violation per (resource, path,
    kind): values that :func:`~policies.lib.credentials.scan_value` finds in inputs and outputs
    outside secret envelopes (format detectors and sensitive key names), plaintext strings in
    the :data:`KNOWN_SECRET_FIELDS` of their resource type, and secret envelopes stored with
    their ``plaintext``. ``config`` (a checkpoint's stack configuration, ``StackState.config``) is
    scanned too (path ``config.<key>``, URN of the stack resource or None). Messages name the path, the kind and a redacted hint
    only. Ciphertext is never reported. Records that are not from a state are judged the same
    way."""
    with gc_paused():
        return _plaintext_findings(records, config)


def _plaintext_findings(
    records: Iterable[ResourceRecord], config: Mapping[str, Any] | None
) -> list[Violation]:
    records = list(records) if not isinstance(records, list) else records
    out: list[Violation] = []
    seen: set[tuple[str | None, str]] = set()

    def add(urn: str | None, message: str) -> None:
        if (urn, message) not in seen:
            seen.add((urn, message))
            out.append(_violation(urn, message))

    for r in records:
        secret = set(r.secret_paths)
        known = known_secret_fields(r.type)
        for tree, prefix in ((r.props, ""), (r.outputs or {}, OUTPUTS_PREFIX)):
            reported: set[str] = set()
            if secret:
                for path in _placeholder_paths(tree, prefix):
                    if path in secret:
                        reported.add(path)
                        add(
                            r.urn,
                            f"{path}: secret stored as a plaintext secret envelope (the form of "
                            "`pulumi stack export --show-secrets`), not as ciphertext",
                        )
            for hit in scan_value(tree, path=prefix):
                if secret and _under_any(hit.path, secret):
                    continue  # inside a readable secret envelope: marked secret, not reported
                reported.add(hit.path)
                kind = _KIND_TEXT.get(hit.kind, hit.kind)
                add(
                    r.urn, f"{hit.path}: {kind} stored in plaintext in the state (hint: {hit.hint})"
                )
            for name in sorted(known & tree.keys()):
                for path, value in _plain_strings(tree[name], _join(prefix, name)):
                    if path not in reported and not (secret and _under_any(path, secret)):
                        add(
                            r.urn,
                            f"{path}: secret field of {r.type} stored in plaintext in the state "
                            f"(hint: … ({len(value)} chars))",
                        )
    if config:
        out += config_findings(config, stack_urn(records))
    return out


def _leaves(value: Any, key: str | None, depth: int = 0) -> Iterator[tuple[str | None, str]]:
    """(key, string) of every string in a property tree, under the key that holds it."""
    if depth > 64:
        return
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from _leaves(v, str(k), depth + 1)
    elif isinstance(value, list):
        for v in value:
            yield from _leaves(v, key, depth + 1)


def mask_flagged_names(
    records: Sequence[ResourceRecord], violations: list[Violation]
) -> list[Violation]:
    """``violations`` with every URN (and message) of a resource whose plaintext finding is also
    in its name or URN (as itself or lower-/kebab-cased) shown with that value replaced by its
    hint: a value judged a credential by its key (``password: Hunter2...``), which no format
    detector recognises in a URN, must not be printed there by this or any other policy."""
    flagged = {v.urn for v in violations if v.policy == PLAINTEXT_POLICY_ID and v.urn}
    masks: dict[str, str] = {}
    for r in records:
        if r.urn not in flagged:
            continue
        masked = r.urn
        for tree in (r.props, r.outputs or {}):
            for key, value in _leaves(tree, None):
                forms = [
                    f for f in redact.derived_forms(value.strip()) if len(f) >= 4 and f in masked
                ]
                if forms and scan_value({key or "value": value}):
                    for form in sorted(forms, key=len, reverse=True):
                        masked = masked.replace(form, f"[redacted: {redact.describe(form)}]")
        if masked != r.urn:
            masks[r.urn] = masked
    if not masks:
        return violations
    out = []
    for v in violations:
        urn = v.urn
        if urn in masks:
            message = v.message.replace(urn, masks[urn])
            v = dataclasses.replace(v, urn=masks[urn], message=message)
        out.append(v)
    return out


def config_findings(config: Mapping[str, Any], stack_urn: str | None) -> list[Violation]:
    """The credentials a checkpoint's stack configuration stores in plaintext (path
    ``config.<key>``, reported against ``stack_urn``): the configuration part of
    :func:`plaintext_findings`."""
    out: list[Violation] = []
    seen: set[str] = set()
    for hit in scan_value(config, path="config"):
        kind = _KIND_TEXT.get(hit.kind, hit.kind)
        message = (
            f"{hit.path}: {kind} stored in plaintext in the stack configuration of the "
            f"checkpoint, not as a secure value (hint: {hit.hint})"
        )
        if message not in seen:
            seen.add(message)
            out.append(_violation(stack_urn, message))
    return out


# --------------------------------------------------------------------------- command line
