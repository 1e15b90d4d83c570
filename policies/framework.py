"""How a policy of this pack is written: uniform metadata, one check function, two runtimes.

A policy is a :class:`Spec` (id, description, severity, enforcement, category, remediation, checkov
IDs, the resource types it examines, tunables) plus a check function. :func:`resource_policy` and
:func:`stack_policy` turn them into a :class:`PackPolicy`: one validate function, which the Pulumi
engine runs inside a real ``pulumi_policy`` policy object (``pulumi preview --policy-pack policies``;
:attr:`PackPolicy.policy`, built on first use) and the offline runner (``policies/runner.py``) calls
directly with light argument objects of the same shape, so a state check never imports
``pulumi_policy`` (and with it the Pulumi SDK, gRPC, protobuf and OpenTelemetry).

A check sees a :class:`Resource`: the engine's view (type, URN, name, inputs with unknown values
raising ``UnknownValueError``, resource options, policy config) plus, offline only, the exact paths
whose values were secret-marked. Under the engine ``secret_paths`` is ``None``: CrossGuard cannot
see secretness, so checks fall back to what the engine does show (unknown values at preview,
``additionalSecretOutputs``).
"""

from __future__ import annotations

import contextvars
import fnmatch
import functools
import math
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from policies.contract.vocabulary import TAG_ENVIRONMENT
from policies.lib.shapes import SIG_KEY, unwrap
from policies.model import UNKNOWN, Category, Enforcement, PolicyInfo, ResourceRecord
from policies.model import Severity as ModelSeverity
from policies.profile import PROFILE_KEY, PROFILE_SCHEMA, Profile, profile_on

if TYPE_CHECKING:  # the engine's classes, imported only where the engine path needs them
    from pulumi_policy import ResourceValidationPolicy, StackValidationPolicy

#: What a validate function is handed: ``pulumi_policy``'s argument objects under the engine, the
#: offline runner's light classes of the same shape otherwise.
ValidationArgs = Any
#: ``report_violation(message, urn)``
ReportViolation = Callable[[str, "str | None"], None]
Validate = Callable[[ValidationArgs, ReportViolation], None]


class UnknownValueError(Exception):
    """Offline: a policy touched a value unknown at preview (the runner's own counterpart of
    ``pulumi_policy.proxy.UnknownValueError``, with the same ``message``)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def is_unknown_value_error(exc: BaseException) -> bool:
    """Whether ``exc`` says a value is unknown at preview: the offline runner's error, or the
    engine's (looked up, never imported: if ``pulumi_policy.proxy`` is not loaded, nothing could
    have raised its error)."""
    if isinstance(exc, UnknownValueError):
        return True
    engine = sys.modules.get("pulumi_policy.proxy")
    return engine is not None and isinstance(exc, engine.UnknownValueError)


#: Set by the offline runner for the resource being validated (None under the engine).
OFFLINE_RECORD: contextvars.ContextVar[ResourceRecord | None] = contextvars.ContextVar(
    "nt_offline_record", default=None
)
#: Set by the offline runner for stack policies: URN -> record.
OFFLINE_STACK: contextvars.ContextVar[Mapping[str, ResourceRecord] | None] = contextvars.ContextVar(
    "nt_offline_stack", default=None
)


#: How a finding about a resource's stored outputs (not its inputs) starts its message.
OUTPUTS_MARK = "outputs: "


#: The tunable of every policy that is stricter in production: which ``environment`` tag values
#: mean production. One schema, one default, one reading (:meth:`Resource.in_production`).
PRODUCTION_ENVIRONMENTS_KEY = "productionEnvironments"
PRODUCTION_ENVIRONMENTS_DEFAULT: tuple[str, ...] = ("production", "prod")
PRODUCTION_ENVIRONMENTS_SCHEMA: Mapping[str, Any] = {
    "type": "array",
    "items": {"type": "string"},
    "default": list(PRODUCTION_ENVIRONMENTS_DEFAULT),
    "description": "values of the `environment` tag that mean production",
}


def production_environments(config: Mapping[str, Any]) -> frozenset[str]:
    return frozenset(config.get(PRODUCTION_ENVIRONMENTS_KEY) or PRODUCTION_ENVIRONMENTS_DEFAULT)


EXEMPT_SCHEMA: Mapping[str, Any] = {
    "type": "array",
    "items": {"type": "string"},
    "default": [],
    "description": "URNs or resource names (glob patterns) this policy does not judge; each "
    "exemption should name its reason in the config file's history",
}


def exempt(urn: str | None, name: str | None, config: Mapping[str, Any]) -> bool:
    patterns = config.get("exemptResources") or []
    return bool(patterns) and any(v is not None and matches_any(v, patterns) for v in (urn, name))


@functools.lru_cache(maxsize=65536)
def _type_matches(patterns: tuple[str, ...], resource_type: str) -> bool:
    return not patterns or any(fnmatch.fnmatchcase(resource_type, t) for t in patterns)


@dataclass(frozen=True)
class Spec:
    """Uniform metadata of one policy."""

    id: str
    description: str
    severity: ModelSeverity
    category: Category
    remediation: str
    resource_types: tuple[str, ...] = ()  # () = every resource type
    enforcement: Enforcement = Enforcement.MANDATORY
    checkov: tuple[str, ...] = ()
    frameworks: tuple[str, ...] = ()
    config: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: Offline, on a stack's state: judge each resource's stored outputs too (what ``pulumi
    #: refresh`` recorded: drift made outside the program). Findings from the outputs say so
    #: (:data:`OUTPUTS_MARK`). Under the engine there are no outputs to judge.
    judge_outputs: bool = False
    #: The top-level properties a check reads, when it judges outputs: a resource whose stored
    #: outputs equal its inputs on all of them cannot give an outputs finding the inputs did
    #: not, and is not judged twice. () means any property may matter.
    output_fields: tuple[str, ...] = ()
    #: Universal, a house rule of the project profile, or universal with a house part
    #: (:mod:`policies.profile`); ``house`` says why it is a house rule, or which part is.
    profile: Profile = Profile.UNIVERSAL
    house: str = ""
    #: Mixed policies: tunables whose default depends on the profile, ``key -> (value with the
    #: profile on, value with it off)``. Their schema has no default (the engine would fill it in
    #: whatever the profile): the framework fills them in per resource.
    profile_defaults: Mapping[str, tuple[Any, Any]] = field(default_factory=dict)

    def applies_to(self, resource_type: str) -> bool:
        return _type_matches(self.resource_types, resource_type)

    @property
    def judges_outputs(self) -> bool:
        """Whether the offline runner judges stored outputs too: when the spec says so, and for
        every public-access policy (a setting turned off outside the program is drift that
        matters whoever wrote the policy)."""
        return self.judge_outputs or self.category is Category.PUBLIC_ACCESS

    @property
    def info(self) -> PolicyInfo:
        return PolicyInfo(
            id=self.id,
            description=self.description,
            severity=self.severity,
            enforcement=self.enforcement,
            category=self.category,
            remediation=self.remediation,
            checkov=self.checkov,
            frameworks=self.frameworks,
            profile=self.profile.value,
        )

    @property
    def schema(self) -> dict[str, dict[str, Any]]:
        """The policy's config schema: its own tunables plus the exemptions every policy takes."""
        profiled = (
            {PROFILE_KEY: dict(PROFILE_SCHEMA)} if self.profile is not Profile.UNIVERSAL else {}
        )
        return {
            **{k: dict(v) for k, v in self.config.items()},
            **profiled,
            "exemptResources": dict(EXEMPT_SCHEMA),
        }

    def profiled(self, config: dict[str, Any], urn: str | None) -> dict[str, Any] | None:
        """``config`` as the policy judges the resource ``urn``: None when the policy is a house
        rule and the profile is off for it; a mixed policy's profile-dependent tunables filled in
        (those the config does not set) for the profile as it is."""
        if self.profile is Profile.UNIVERSAL:
            return config
        on = profile_on(config, urn)
        if self.profile is Profile.PROJECT:
            return config if on else None
        missing = {
            k: v[0 if on else 1] for k, v in self.profile_defaults.items() if k not in config
        }
        return {**config, **missing} if missing else config

    def defaults(self) -> dict[str, Any]:
        return {k: v["default"] for k, v in self.schema.items() if "default" in v}

    def with_defaults(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """``config`` over the defaults. An object-typed tunable is merged key by key with its
        default (deeply), so tightening one entry (``maximumDays: {api_key: 30}``) keeps the
        others; any other value replaces its default."""
        out = self.defaults()
        schema = self.schema
        for key, value in config.items():
            default = out.get(key)
            if (
                schema.get(key, {}).get("type") == "object"
                and isinstance(default, Mapping)
                and isinstance(value, Mapping)
            ):
                out[key] = deep_merge(default, value)
            else:
                out[key] = value
        return out


def deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``over`` merged into ``base``: nested objects key by key, anything else replaced."""
    out = dict(base)
    for key, value in over.items():
        below = out.get(key)
        if isinstance(below, Mapping) and isinstance(value, Mapping):
            out[key] = deep_merge(below, value)
        else:
            out[key] = value
    return out


def plain(value: Any) -> Any:
    """A plain copy of an engine property value; unknown leaves become :data:`UNKNOWN`, and
    integral floats (protobuf Structs carry every number as a double) become ints, so a check sees
    the same values under the engine and offline."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key in value:
            try:
                out[str(key)] = plain(value[key])
            except Exception as exc:
                if not is_unknown_value_error(exc):
                    raise
                out[str(key)] = UNKNOWN
        return out
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        items: list[Any] = []
        for i in range(len(value)):
            try:
                items.append(plain(value[i]))
            except Exception as exc:
                if not is_unknown_value_error(exc):
                    raise
                items.append(UNKNOWN)
        return items
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def number(value: Any) -> float | None:
    """A finite number from a property value (ints, floats, numeric strings); None otherwise, so a
    check can report an odd value instead of crashing on it."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            parsed = float(value)
        except ValueError:
            return None
        return parsed if math.isfinite(parsed) else None
    return None


def get_path(props: Mapping[str, Any], path: str) -> Any:
    """Value at ``a.b[0].c`` in plain props, or None when absent."""
    if path and "." not in path and "[" not in path and "]" not in path:
        # one key (what checks ask for nearly always): no splitting
        if isinstance(props, (dict, Mapping)):
            return props.get(path)
        return None
    node: Any = props
    for part in path.replace("[", ".").replace("]", "").split("."):
        if not part:
            continue
        if isinstance(node, (dict, Mapping)):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


@dataclass
class Resource:
    """What a check sees of one resource."""

    type: str
    urn: str
    name: str
    props: dict[str, Any]
    config: Mapping[str, Any]
    protect: bool
    additional_secret_outputs: tuple[str, ...]
    secret_paths: frozenset[str] | None  # None: secretness is invisible (under the engine)
    parent: str | None = None
    # input name -> URNs of the resources whose outputs flowed into it (stack policies only)
    property_dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: the stored outputs of a resource read from a stack's state (offline only; None otherwise):
    #: ARNs, ids and provider-computed names a check may use to resolve references
    outputs: Mapping[str, Any] | None = None

    @property
    def offline(self) -> bool:
        return self.secret_paths is not None

    def get(self, path: str) -> Any:
        return get_path(self.props, path)

    def tags(self) -> dict[str, str]:
        tags = self.props.get("tags") or {}
        if not isinstance(tags, Mapping):
            return {}
        if SIG_KEY in tags or not all(isinstance(v, str) for v in tags.values()):
            tags = unwrap(tags)  # secret envelopes around the map or its values
            if not isinstance(tags, Mapping):
                return {}
        return {str(k): str(v) for k, v in tags.items()}

    def in_production(self) -> bool:
        """Tagged with an environment the policy's config calls production."""
        return self.tags().get(TAG_ENVIRONMENT) in production_environments(self.config)

    def is_secret(self, path: str) -> bool | None:
        """Offline: whether the value at ``path`` (or an enclosing value) was secret-marked.
        Under the engine: None (unknowable)."""
        if self.secret_paths is None:
            return None
        return any(
            path == p or path.startswith(p + ".") or path.startswith(p + "[")
            for p in self.secret_paths
        )


Check = Callable[[Resource, Callable[[str], None]], None]
StackCheck = Callable[
    [Sequence[Resource], Mapping[str, Any], Callable[[str, str | None], None]], None
]


def _resource_from_args(args: ValidationArgs, config: Mapping[str, Any]) -> Resource:
    record = OFFLINE_RECORD.get()
    opts = args.opts
    return Resource(
        type=args.resource_type,
        urn=args.urn,
        name=args.name,
        # Offline the record already holds plain values (unknowns as UNKNOWN): no need to walk
        # the engine's proxy again for every policy.
        props=dict(record.props) if record is not None else plain(args.props),
        config=config,
        protect=bool(opts.protect),
        additional_secret_outputs=tuple(opts.additional_secret_outputs or ()),
        secret_paths=frozenset(record.secret_paths) if record is not None else None,
        parent=opts.parent,
        outputs=record.outputs if record is not None else None,
    )


def _policy_kwargs(spec: Spec) -> dict[str, Any]:
    from pulumi_policy import (
        EnforcementLevel,
        PolicyComplianceFramework,
        PolicyConfigSchema,
        Severity,
    )

    severities = {
        ModelSeverity.LOW: Severity.LOW,
        ModelSeverity.MEDIUM: Severity.MEDIUM,
        ModelSeverity.HIGH: Severity.HIGH,
        ModelSeverity.CRITICAL: Severity.CRITICAL,
    }
    levels = {
        Enforcement.ADVISORY: EnforcementLevel.ADVISORY,
        Enforcement.MANDATORY: EnforcementLevel.MANDATORY,
        Enforcement.DISABLED: EnforcementLevel.DISABLED,
    }
    schema = PolicyConfigSchema(properties=spec.schema)
    framework = None
    if spec.frameworks:
        framework = PolicyComplianceFramework(name=", ".join(spec.frameworks))
    tags = [spec.category.value, *(f"checkov:{c}" for c in spec.checkov)]
    return {
        "name": spec.id,
        "description": spec.description,
        "enforcement_level": levels[spec.enforcement],
        "config_schema": schema,
        "severity": severities[spec.severity],
        "framework": framework,
        "tags": tags,
        "remediation_steps": spec.remediation,
    }


@dataclass(frozen=True)
class PackPolicy:
    """A policy of the pack: its spec, what it validates (``"resource"``: one resource at a time;
    ``"stack"``: the whole stack) and its validate function. The ``pulumi_policy`` object the
    engine runs is built on first use (:attr:`policy`); the offline runner calls :attr:`validate`
    itself and never needs it."""

    spec: Spec
    kind: Literal["resource", "stack"]
    validate: Validate

    @functools.cached_property
    def policy(self) -> ResourceValidationPolicy | StackValidationPolicy:
        """The real ``pulumi_policy`` policy object (the engine path: ``policies/__main__.py``)."""
        from pulumi_policy import ResourceValidationPolicy, StackValidationPolicy

        if self.kind == "resource":
            return ResourceValidationPolicy(validate=self.validate, **_policy_kwargs(self.spec))
        return StackValidationPolicy(validate=self.validate, **_policy_kwargs(self.spec))


def resource_policy(spec: Spec, check: Check) -> PackPolicy:
    # (the raw config object last seen, its merged form): the offline runner hands every
    # resource of one pass the same config object, so it is merged once per pass
    merged: list[tuple[object, dict[str, Any]]] = []
    # (config, urn's project) -> the config as profiled (None: a house rule, the profile off)
    profiled: dict[tuple[int, str | None], dict[str, Any] | None] = {}
    universal = spec.profile is Profile.UNIVERSAL

    def validate(args: ValidationArgs, report_violation: ReportViolation) -> None:
        if not spec.applies_to(args.resource_type):
            return
        raw = args.get_config() or {}
        if exempt(args.urn, args.name, raw):
            return
        # The engine fills in a tunable's default only when the tunable is absent: an object
        # given in the pack config would replace its default whole. Merged here, a check sees
        # the same configuration under the engine and offline (policies/runner.py).
        if merged and merged[0][0] is raw:
            config = merged[0][1]
        else:
            config = spec.with_defaults(plain(raw))
            merged[:] = [(raw, config)]
            profiled.clear()
        if not universal:
            key = (id(config), _project(args.urn))
            if key not in profiled:
                profiled[key] = spec.profiled(config, args.urn)
            judged = profiled[key]
            if judged is None:
                return
            config = judged
        check(_resource_from_args(args, config), lambda message: report_violation(message, None))

    return PackPolicy(spec, "resource", validate)


#: Offline, every stack policy of a run sees the same resources (the runner hands them the same
#: ``args.resources`` list and record mapping): built once per (list, mapping), not per policy.
#: Entries hold their keys, so the ids stay theirs while cached; two entries: inputs and outputs.
_STACK_CACHE: list[tuple[object, object, list[Resource]]] = []


def stack_resources(args: ValidationArgs) -> list[Resource]:
    records = OFFLINE_STACK.get()
    if records is None:
        return _stack_resources(args, None)
    for resources, recs, built in _STACK_CACHE:
        if resources is args.resources and recs is records:
            return list(built)
    built = _stack_resources(args, records)
    _STACK_CACHE[:] = [*_STACK_CACHE[-1:], (args.resources, records, built)]
    return list(built)


def clear_stack_cache() -> None:
    """Forget the resources built for stack policies (the offline runner, at the end of a run)."""
    _STACK_CACHE.clear()


def _stack_resources(
    args: ValidationArgs, records: Mapping[str, ResourceRecord] | None
) -> list[Resource]:
    out: list[Resource] = []
    for r in args.resources:
        record = records.get(r.urn) if records is not None else None
        opts = r.opts
        out.append(
            Resource(
                type=r.resource_type,
                urn=r.urn,
                name=r.name,
                props=dict(record.props) if record is not None else plain(r.props),
                config={},
                protect=bool(opts.protect),
                additional_secret_outputs=tuple(opts.additional_secret_outputs or ()),
                secret_paths=frozenset(record.secret_paths) if record is not None else None,
                parent=r.parent.urn if r.parent is not None else opts.parent,
                property_dependencies={
                    k: tuple(d.urn for d in v) for k, v in (r.property_dependencies or {}).items()
                },
                outputs=record.outputs if record is not None else None,
            )
        )
    return out


def resources_of(records: Iterable[ResourceRecord]) -> list[Resource]:
    """The resources of a plan's or a state's records, as a stack check sees them (for tools that
    read a whole stack outside a policy run: ``nt-secrets access``)."""
    return [
        Resource(
            type=r.type,
            urn=r.urn,
            name=r.name,
            props=dict(r.props),
            config={},
            protect=r.protect,
            additional_secret_outputs=tuple(r.additional_secret_outputs),
            secret_paths=frozenset(r.secret_paths),
            parent=r.parent,
            property_dependencies=dict(r.property_dependencies),
            outputs=r.outputs,
        )
        for r in records
        if r.custom
    ]


def _project(urn: str | None) -> str | None:
    """The project segment of a URN (what the profile's auto mode depends on)."""
    parts = urn.split("::", 2) if urn else ()
    return parts[1] if len(parts) > 2 else None


def stack_policy(spec: Spec, check: StackCheck) -> PackPolicy:
    def validate(args: ValidationArgs, report_violation: ReportViolation) -> None:
        config = spec.with_defaults(plain(args.get_config() or {}))
        if spec.profile is not Profile.UNIVERSAL:
            # a stack is one project's: the profile of its first resource is the stack's
            first = next(iter(args.resources), None)
            judged = spec.profiled(config, first.urn if first is not None else None)
            if judged is None:
                return
            config = judged

        def report(message: str, urn: str | None = None) -> None:
            if urn is None or not exempt(urn, urn.rsplit("::", 1)[-1], config):
                report_violation(message, urn)

        check(stack_resources(args), config, report)

    return PackPolicy(spec, "stack", validate)


def walk_strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string leaf of plain props with its path."""
    if isinstance(value, Mapping):
        for k, v in value.items():
            yield from walk_strings(v, f"{path}.{k}" if path else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from walk_strings(v, f"{path}[{i}]")
    elif isinstance(value, str):
        yield path, value


def matches_any(value: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(value, p) for p in patterns)
