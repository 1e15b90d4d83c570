"""The offline runner: the pack's own policy objects, applied to resource records without the engine.

It reproduces what the Pulumi engine and ``pulumi_policy``'s analyzer do around a policy:

* configuration: each policy's schema defaults, then a ``--policy-pack-config`` document (``"all"``
  and per-policy entries, each an enforcement level or an object with ``enforcementLevel`` and
  properties), validated against the policy's schema; a policy set to ``disabled`` does not run;
* inputs: plain values behind an unknown-checking proxy like the analyzer's, so a policy that
  touches a value unknown at preview is skipped with a diagnostic, as under the engine;
* verdicts: one violation per reported message, with the policy's enforcement level.

What it adds: the exact secret markers of each record (``Resource.secret_paths``), which CrossGuard
does not expose to policies under the engine.

It never imports ``pulumi_policy`` (whose package loads the Pulumi SDK, gRPC, protobuf and
OpenTelemetry: most of a state check's start-up): each policy's validate function is called with
light argument objects of this module that carry the same attributes as the engine's
(``ResourceValidationArgs``, ``StackValidationArgs``, ``PolicyResource``, ``PolicyResourceOptions``).
``tests/policies/test_engine_equivalence.py`` proves the verdicts are the engine's.

``jsonschema`` is imported when a configuration is first validated.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

from policies.contract import redact
from policies.framework import (
    OFFLINE_RECORD,
    OFFLINE_STACK,
    OUTPUTS_MARK,
    PackPolicy,
    Spec,
    UnknownValueError,
    clear_stack_cache,
)
from policies.lib.gcpause import gc_paused
from policies.model import UNKNOWN, Enforcement, ResourceRecord, Violation
from policies.pack import ALL
from policies.profile import PROFILE_KEY, PROJECT_NAMES, Profile, project_of

#: the prefix of output paths in a state record's ``secret_paths`` (``nt_secrets/state.py``)
OUTPUTS_PREFIX = "outputs"

ENFORCEMENT_VALUES = {e.value for e in Enforcement} | {"remediate"}
#: Finding sources that ``nt-secrets`` judges beside the pack (the engine sees neither a stack's
#: settings file nor its state): a pack config may set their enforcement level and
#: ``exemptResources`` like a policy's. The engine ignores config entries of policies it does not
#: know, so one config document serves both. (``nt_secrets/sources.py`` holds their metadata; a
#: test keeps the two lists equal.)
OFFLINE_SOURCES: Final = ("pulumi-stackconfig-plaintext-credentials", "state-plaintext-secret")
_OFFLINE_SCHEMA: Final[Mapping[str, Any]] = {
    "type": "object",
    "properties": {"exemptResources": {"type": "array", "items": {"type": "string"}}},
    "additionalProperties": False,
}


class PolicyConfigError(ValueError):
    """A --policy-pack-config document that the engine would refuse."""


@dataclass(frozen=True)
class PolicySettings:
    enforcement: Enforcement
    config: Mapping[str, Any]


@dataclass
class RunResult:
    violations: list[Violation] = field(default_factory=list)
    # (policy id, urn, message): a policy that could not run on a value unknown at preview
    diagnostics: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def mandatory(self) -> list[Violation]:
        return [v for v in self.violations if v.mandatory]


def _enforcement(value: Any, where: str) -> Enforcement:
    if not isinstance(value, str) or value not in ENFORCEMENT_VALUES:
        raise PolicyConfigError(
            f"{where}: enforcement level must be one of advisory, mandatory, remediate, disabled"
        )
    # Remediation is not used by this pack: the engine reports remediate violations as mandatory.
    return Enforcement.MANDATORY if value == "remediate" else Enforcement(value)


def resolve_config(
    document: Mapping[str, Any] | None = None, policies: Sequence[PackPolicy] = ALL
) -> dict[str, PolicySettings]:
    """Enforcement level and configuration of every policy, as the engine applies them."""
    document = dict(document or {})
    by_id = {p.spec.id: p for p in policies}
    unknown = sorted(
        redact.key(k)
        for k in document
        if k != "all" and k not in by_id and k not in OFFLINE_SOURCES
    )
    if unknown:
        raise PolicyConfigError(
            f"unknown policies in the policy pack config: {', '.join(unknown)} "
            "(`nt-secrets policies` lists them)"
        )
    default_level: Enforcement | None = None
    if "all" in document:
        entry = document["all"]
        level = entry.get("enforcementLevel") if isinstance(entry, Mapping) else entry
        default_level = _enforcement(level, "all")
    out: dict[str, PolicySettings] = {}
    for pid, p in by_id.items():
        level = default_level or p.spec.enforcement
        config = p.spec.defaults()
        entry = document.get(pid)
        if isinstance(entry, str):
            level = _enforcement(entry, pid)
        elif isinstance(entry, Mapping):
            props = {k: v for k, v in entry.items() if k != "enforcementLevel"}
            if "enforcementLevel" in entry:
                level = _enforcement(entry["enforcementLevel"], pid)
            # An object-typed tunable merges with its default: tightening one rotation class
            # keeps the others (the engine path does the same, policies/framework.py).
            config = p.spec.with_defaults(props)
            schema = {"type": "object", "properties": p.spec.schema, "additionalProperties": False}
            try:
                _validate(config, schema)
            except _jsonschema().ValidationError as exc:
                where = redact.loc(exc.absolute_path) or "(config)"
                raise PolicyConfigError(f"{pid}.{where}: {_schema_message(exc)}") from None
        elif entry is not None:
            raise PolicyConfigError(f"{pid}: expected an enforcement level or an object")
        # (no entry, or a level only: the defaults, valid by construction; tests/policies/
        # test_pack.py checks every policy's defaults against its schema)
        out[pid] = PolicySettings(level, config)
    for sid in OFFLINE_SOURCES:
        out[sid] = _offline_settings(sid, document.get(sid), default_level)
    return out


def _offline_settings(sid: str, entry: Any, default_level: Enforcement | None) -> PolicySettings:
    """An offline source's settings: mandatory unless ``all`` or its entry says otherwise."""
    level = default_level or Enforcement.MANDATORY
    config: dict[str, Any] = {"exemptResources": []}
    if isinstance(entry, str):
        level = _enforcement(entry, sid)
    elif isinstance(entry, Mapping):
        if "enforcementLevel" in entry:
            level = _enforcement(entry["enforcementLevel"], sid)
        props = {k: v for k, v in entry.items() if k != "enforcementLevel"}
        try:
            _validate(props, _OFFLINE_SCHEMA)
        except _jsonschema().ValidationError as exc:
            where = redact.loc(exc.absolute_path) or "(config)"
            raise PolicyConfigError(f"{sid}.{where}: {_schema_message(exc)}") from None
        config.update(props)
    elif entry is not None:
        raise PolicyConfigError(f"{sid}: expected an enforcement level or an object")
    return PolicySettings(level, config)


def _validate(instance: Any, schema: Mapping[str, Any]) -> None:
    """``jsonschema.validate`` without its ``check_schema`` of every policy's schema against the
    JSON Schema meta-schema on every run (~10 ms a policy, most of a run's configuration time):
    the schemas are the pack's own, fixed in code, never user input, so checking them is a
    test's job rather than every run's. The same validator class, errors and best match."""
    jsonschema = _jsonschema()
    validator = jsonschema.validators.validator_for(schema)(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(instance))
    if error is not None:
        raise error


@functools.cache
def _jsonschema() -> Any:
    """``jsonschema``, imported on first use: only a config document that sets a policy's
    properties is validated (the defaults are the pack's own, checked by a test)."""
    import jsonschema
    import jsonschema.exceptions
    import jsonschema.validators

    return jsonschema


def _schema_message(exc: Any) -> str:
    """The rule a tunable breaks, never its value (jsonschema's own messages quote it)."""
    rule, expected = exc.validator, exc.validator_value
    got = redact.describe(exc.instance)
    if rule == "type":
        return f"must be of type {expected}, found {got}"
    if rule in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        word = {
            "minimum": "at least",
            "exclusiveMinimum": "more than",
            "maximum": "at most",
            "exclusiveMaximum": "less than",
        }[str(rule)]
        return f"must be {word} {expected}"
    if rule == "enum":
        return f"must be one of {', '.join(json.dumps(v) for v in expected)}"
    if rule == "additionalProperties":
        extra = sorted(
            redact.key(k)
            for k in (exc.instance if isinstance(exc.instance, dict) else {})
            if k not in (exc.schema.get("properties") or {})
        )
        return f"unknown properties: {', '.join(extra)}"
    if rule in ("minLength", "maxLength", "minItems", "maxItems"):
        return f"{rule} is {expected} ({got})"
    if rule == "required":
        return f"requires {', '.join(map(str, expected))}"
    return f"breaks the schema rule '{rule}' ({got})"


def load_config_file(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"), parse_int=_bounded_int)
    except OSError as exc:
        raise PolicyConfigError(f"{path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise PolicyConfigError(f"{path}: not JSON ({exc.msg} at line {exc.lineno})") from None
    except RecursionError:
        raise PolicyConfigError(f"{path}: nested too deeply to be a policy pack config") from None
    except UnicodeDecodeError:
        raise PolicyConfigError(f"{path}: not UTF-8 text") from None
    except _HugeNumber as exc:
        raise PolicyConfigError(f"{path}: not a policy pack config ({exc})") from None
    if not isinstance(data, dict):
        raise PolicyConfigError(f"{path}: expected a JSON object of policy settings")
    return data


class _HugeNumber(ValueError):
    pass


def _bounded_int(text: str) -> int:
    """``json`` ``parse_int``: CPython refuses integers over 4300 digits with a bare ValueError."""
    if len(text.lstrip("-")) > redact.MAX_INT_DIGITS:
        raise _HugeNumber(
            f"a number of {len(text.lstrip('-'))} digits; at most {redact.MAX_INT_DIGITS} are read"
        )
    return int(text)


class _NotApplicable(Exception):
    """``args.not_applicable()``: the policy does not apply to this resource or stack."""


@dataclass(frozen=True, slots=True)
class CustomTimeouts:
    """``pulumi_policy.PolicyCustomTimeouts``' attributes."""

    create_seconds: float = 0
    update_seconds: float = 0
    delete_seconds: float = 0


@dataclass(slots=True)
class ResourceOptions:
    """``pulumi_policy.PolicyResourceOptions``' attributes."""

    protect: bool
    ignore_changes: list[str]
    delete_before_replace: bool | None
    aliases: list[str]
    custom_timeouts: CustomTimeouts
    additional_secret_outputs: list[str]
    parent: str | None


@dataclass(slots=True)
class ResourceArgs:
    """``pulumi_policy.ResourceValidationArgs``' attributes and methods."""

    resource_type: str
    props: Mapping[str, Any]
    urn: str
    name: str
    opts: ResourceOptions
    provider: Any
    config: Mapping[str, Any]
    stack_tags: Mapping[str, str]

    def get_config(self) -> Mapping[str, Any]:
        return self.config

    def not_applicable(self, reason: str | None = None) -> None:
        raise _NotApplicable(reason)


@dataclass(slots=True, eq=False)
class StackResource:
    """``pulumi_policy.PolicyResource``' attributes."""

    resource_type: str
    props: Mapping[str, Any]
    urn: str
    name: str
    opts: ResourceOptions
    provider: Any
    parent: StackResource | None
    dependencies: list[StackResource]
    property_dependencies: dict[str, list[StackResource]]


@dataclass(slots=True)
class StackArgs:
    """``pulumi_policy.StackValidationArgs``' attributes and methods."""

    resources: list[StackResource]
    config: Mapping[str, Any]
    stack_tags: Mapping[str, str]

    def get_config(self) -> Mapping[str, Any]:
        return self.config

    def not_applicable(self, reason: str | None = None) -> None:
        raise _NotApplicable(reason)


def _options(record: ResourceRecord) -> ResourceOptions:
    return ResourceOptions(
        record.protect,
        [],
        None,
        [],
        CustomTimeouts(0, 0, 0),
        list(record.additional_secret_outputs),
        record.parent,
    )


def outputs_view(record: ResourceRecord) -> ResourceRecord | None:
    """The record as its stored outputs describe it (None without outputs): ``props`` are the
    outputs, secret paths those under ``outputs.`` without the prefix. Policies that judge
    outputs (``Spec.judge_outputs``) see the resource a second time this way."""
    if not record.outputs:
        return None
    prefix = OUTPUTS_PREFIX
    secret = tuple(
        p[len(prefix) + 1 :] if p.startswith(prefix + ".") else p[len(prefix) :]
        for p in record.secret_paths
        if p.startswith((prefix + ".", prefix + "["))
    )
    # dataclasses.replace, without its generic per-field walk (10 us a record: a state holds
    # thousands): the record's own fields, two of them replaced
    view = object.__new__(ResourceRecord)
    view.__dict__.update(record.__dict__, props=dict(record.outputs), secret_paths=secret)
    return view


def _changed(record: ResourceRecord) -> frozenset[str]:
    """Top-level properties whose stored output differs from the input (or has no input)."""
    outputs = record.outputs or {}
    props = record.props
    return frozenset(k for k, v in outputs.items() if k not in props or props[k] != v)


def run(
    records: Iterable[ResourceRecord],
    *,
    config: Mapping[str, Any] | None = None,
    policies: Sequence[PackPolicy] = ALL,
    stack_tags: Mapping[str, str] | None = None,
    kind: Literal["resource", "stack"] | None = None,
) -> RunResult:
    """Apply every enabled policy to the records; violations sorted for stable output. ``kind``
    runs the resource or the stack policies only (the config still names any of ``policies``):
    a resource policy judges each record alone, so a share of the records can be judged apart.

    Records with stored outputs (a stack's state) are judged a second time from their outputs
    by the policies whose spec sets ``judge_outputs`` (and every public-access policy): a finding that the inputs did not already
    give is reported with the message prefix :data:`~policies.framework.OUTPUTS_MARK`
    (``outputs: ...``), so drift recorded by ``pulumi refresh`` is judged and says where it is."""
    with gc_paused():
        try:
            chosen = policies if kind is None else [p for p in policies if p.kind == kind]
            return _run(list(records), resolve_config(config, policies), chosen, stack_tags)
        finally:
            clear_stack_cache()


def _run(
    records: list[ResourceRecord],
    settings: Mapping[str, PolicySettings],
    policies: Sequence[PackPolicy],
    stack_tags: Mapping[str, str] | None,
) -> RunResult:
    result = RunResult()
    types = {r.type for r in records}
    by_type: dict[tuple[int, frozenset[str]], list[ResourceRecord]] = {}

    def of_types(spec: Spec, judged: list[ResourceRecord]) -> list[ResourceRecord]:
        """The records (or outputs' views: both lists live as long as the run) a resource policy
        examines, its ``resource_types``, in their order: indexed by type once per set of types,
        not tested per policy and record."""
        wanted = frozenset(t for t in types if spec.applies_to(t))
        if len(wanted) == len(types):
            return judged
        got = by_type.get((id(judged), wanted))
        if got is None:
            got = by_type[(id(judged), wanted)] = [r for r in judged if r.type in wanted]
        return got

    by_urn = {r.urn: r for r in records}
    views: list[ResourceRecord] | None = None
    changes: dict[str, frozenset[str]] = {}
    proxies: dict[tuple[str, bool], Any] = {}
    stack_resources: dict[bool, list[StackResource]] = {}
    stack_urns: dict[bool, dict[str, ResourceRecord]] = {False: by_urn}

    def _proxy(record: ResourceRecord, outputs: bool) -> Any:
        """The engine's unknown-checking view of a record's props, built once per record (and
        only when a policy reads ``args.props``: offline checks read the record itself)."""
        proxy = proxies.get((record.urn, outputs))
        if proxy is None:
            proxy = proxies[(record.urn, outputs)] = _LazyProxy(record.props)
        return proxy

    options: dict[str, ResourceOptions] = {}

    @functools.cache
    def own_records() -> bool:
        """Some record belongs to this project (the profile's auto mode applies to it)."""
        return any(project_of(r.urn) in PROJECT_NAMES for r in records)

    def _opts(record: ResourceRecord) -> ResourceOptions:
        """A record's resource options, built once (a view shares its record's)."""
        opts = options.get(record.urn)
        if opts is None:
            opts = options[record.urn] = _options(record)
        return opts

    for p in policies:
        s = settings[p.spec.id]
        if s.enforcement is Enforcement.DISABLED:
            continue
        if p.spec.profile is Profile.PROJECT and not _profile_may_apply(s.config, own_records):
            continue  # a house rule, the project profile off for every record: nothing to judge
        seen: set[tuple[str | None, str]] = set()

        def report(
            message: str,
            urn: str | None = None,
            *,
            _p: PackPolicy = p,
            _s: PolicySettings = s,
            _seen: set[tuple[str | None, str]] = seen,
            _outputs: bool = False,
        ) -> None:
            if _outputs:
                if (urn, message) in _seen:
                    return  # the inputs said it already: no drift
                message = OUTPUTS_MARK + message
            _seen.add((urn, message))
            result.violations.append(
                Violation(
                    policy=_p.spec.id,
                    severity=_p.spec.severity,
                    enforcement=_s.enforcement,
                    category=_p.spec.category,
                    urn=urn,
                    message=message,
                    checkov=_p.spec.checkov,
                )
            )

        passes = [False]
        drifted: list[ResourceRecord] = []
        if p.spec.judges_outputs:
            if views is None:
                views = [v for v in map(outputs_view, records) if v is not None]
                changes = {v.urn: _changed(by_urn[v.urn]) for v in views}
            fields = frozenset(p.spec.output_fields)
            # a resource policy judges only its types' views: filtered by type first (an empty
            # outputs pass of a resource policy judges nothing, so it is not run)
            candidates = of_types(p.spec, views) if p.kind == "resource" else views
            drifted = [v for v in candidates if not fields or changes[v.urn] & fields]
            if drifted:
                passes.append(True)
        for outputs in passes:
            rep = functools.partial(report, _outputs=outputs)
            if p.kind == "resource":
                judged = drifted if outputs else of_types(p.spec, records)
                _resource_pass(p, s, judged, rep, result, _proxy, _opts, outputs, stack_tags)
            else:
                if outputs not in stack_resources:
                    view_by_urn = {v.urn: v for v in views or ()} if outputs else {}
                    stack_records = [view_by_urn.get(r.urn, r) for r in records]
                    stack_resources[outputs] = _policy_resources(stack_records)
                    stack_urns[outputs] = {r.urn: r for r in stack_records}
                stack_args = StackArgs(
                    stack_resources[outputs], dict(s.config), dict(stack_tags or {})
                )
                token2 = OFFLINE_STACK.set(stack_urns[outputs])
                try:
                    p.validate(stack_args, functools.partial(_report_for, rep, None))
                except UnknownValueError as exc:
                    if not outputs:
                        result.diagnostics.append((p.spec.id, "", exc.message))
                except _NotApplicable:
                    pass
                except Exception as exc:  # fail closed, as above
                    rep(f"could not evaluate the stack ({type(exc).__name__})", None)
                finally:
                    OFFLINE_STACK.reset(token2)
    result.violations.sort(key=lambda v: (-v.severity.rank, v.policy, v.urn or "", v.message))
    return result


def _profile_may_apply(config: Mapping[str, Any], own_records: Callable[[], bool]) -> bool:
    """Whether a house rule with ``config`` may judge any record: the profile is on, or in auto
    mode some record belongs to this project (``own_records``)."""
    mode = config.get(PROFILE_KEY, "auto")
    return own_records() if mode == "auto" else bool(mode == "on")


def _resource_pass(
    p: PackPolicy,
    s: PolicySettings,
    records: Sequence[ResourceRecord],
    report: Callable[..., None],
    result: RunResult,
    proxy: Callable[[ResourceRecord, bool], Any],
    options: Callable[[ResourceRecord], ResourceOptions],
    outputs: bool,
    stack_tags: Mapping[str, str] | None,
) -> None:
    """One resource policy over the records of its types (their inputs, or their outputs'
    views)."""
    config = dict(s.config)  # one object per pass: the framework merges it with defaults once
    tags = dict(stack_tags or {})
    for record in records:
        args = ResourceArgs(
            record.type,
            proxy(record, outputs),
            record.urn,
            record.name,
            options(record),
            None,
            config,
            tags,
        )
        token = OFFLINE_RECORD.set(record)
        try:
            p.validate(args, functools.partial(_report_for, report, record.urn))
        except UnknownValueError as exc:
            if not outputs:
                result.diagnostics.append((p.spec.id, record.urn, exc.message))
        except _NotApplicable:
            pass
        except Exception as exc:  # fail closed, without the exception text
            # Under the engine a crashing policy fails the preview; offline it is a
            # violation of that policy (its text could quote the odd value, so only the type).
            report(f"could not evaluate this resource ({type(exc).__name__})", record.urn)
        finally:
            OFFLINE_RECORD.reset(token)


def _report_for(
    report: Callable[..., None], default_urn: str | None, message: str, urn: str | None = None
) -> None:
    report(message, urn or default_urn)


class _LazyProxy(Mapping[str, Any]):
    """An unknown-checking view of a record's props (:class:`_UnknownChecking`, like the
    analyzer's proxy), built on first access. Offline, the framework reads a resource's plain
    values from its record (``OFFLINE_RECORD``/``OFFLINE_STACK``), so the engine-style view is
    usually never needed."""

    __slots__ = ("_props", "_proxy")

    def __init__(self, props: Mapping[str, Any]) -> None:
        self._props = props
        self._proxy: Any = None

    def _target(self) -> Any:
        if self._proxy is None:
            self._proxy = _UnknownChecking(dict(self._props), ())
        return self._proxy

    def __getitem__(self, key: str) -> Any:
        return self._target()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._target())

    def __len__(self) -> int:
        return len(self._target())


class _UnknownChecking(Mapping[str, Any]):
    """A read-only view of plain props that raises :class:`UnknownValueError` (with the engine's
    message) when a value unknown at preview is read, as ``pulumi_policy``'s proxy does."""

    __slots__ = ("_path", "_target")

    def __init__(self, target: Mapping[str, Any], path: tuple[str, ...]) -> None:
        self._target = target
        self._path = path

    def __getitem__(self, key: str) -> Any:
        return _checked(self._target[key], (*self._path, str(key)))

    def __iter__(self) -> Iterator[str]:
        return iter(self._target)

    def __len__(self) -> int:
        return len(self._target)


class _UnknownCheckingList(Sequence[Any]):
    __slots__ = ("_path", "_target")

    def __init__(self, target: list[Any], path: tuple[str, ...]) -> None:
        self._target = target
        self._path = path

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self._target)))]
        return _checked(self._target[index], (*self._path, str(index)))

    def __len__(self) -> int:
        return len(self._target)


#: the engine's unknown-value sentinels (``pulumi_policy.proxy``) and the kind each names;
#: :data:`policies.model.UNKNOWN` is the string one
_UNKNOWN_KINDS: Final = {
    "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7": "boolean",
    "3eeb2bf0-c639-47a8-9e75-3b44932eb421": "number",
    UNKNOWN: "string",
    "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2": "Array",
    "030794c1-ac77-496b-92df-f27374a8bd58": "asset",
    "e48ece36-62e2-4504-bad9-02848725956a": "archive",
    "dd056dcd-154b-4c76-9bd3-c8f88648b5ff": "Object",
}


def _checked(value: Any, path: tuple[str, ...]) -> Any:
    if isinstance(value, str) and value in _UNKNOWN_KINDS:
        kind = _UNKNOWN_KINDS[value]
        raise UnknownValueError(f"{kind} value at .{'.'.join(path)} can't be known during preview")
    if isinstance(value, dict):
        return _UnknownChecking(value, path)
    if isinstance(value, list):
        return _UnknownCheckingList(value, path)
    return value


def _policy_resources(records: Sequence[ResourceRecord]) -> list[StackResource]:
    resources = [
        StackResource(
            r.type,
            _LazyProxy(r.props),
            r.urn,
            r.name,
            _options(r),
            None,
            None,
            [],
            {},
        )
        for r in records
    ]
    by_urn = {r.urn: r for r in resources}
    for record, resource in zip(records, resources, strict=True):
        if record.parent:
            resource.parent = by_urn.get(record.parent)
        resource.dependencies = [by_urn[d] for d in record.dependencies if d in by_urn]
        resource.property_dependencies = {
            k: [by_urn[d] for d in v if d in by_urn]
            for k, v in record.property_dependencies.items()
        }
    return resources
