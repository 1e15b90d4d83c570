"""The offline runner: the pack's own policy objects, applied to resource records without the engine.

It reproduces what the Pulumi engine and ``pulumi_policy``'s analyzer do around a policy:

* configuration: each policy's schema defaults, then a ``--policy-pack-config`` document (``"all"``
  and per-policy entries, each an enforcement level or an object with ``enforcementLevel`` and
  properties), validated against the policy's schema; a policy set to ``disabled`` does not run;
* inputs: plain values behind the analyzer's unknown-checking proxy, so a policy that touches a
  value unknown at preview is skipped with a diagnostic, as under the engine;
* verdicts: one violation per reported message, with the policy's enforcement level.

What it adds: the exact secret markers of each record (``Resource.secret_paths``), which CrossGuard
does not expose to policies under the engine.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
)
from pulumi_policy.policy import _NotApplicableError
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from infra import redact
from policies.framework import OFFLINE_RECORD, OFFLINE_STACK, PackPolicy
from policies.model import Enforcement, ResourceRecord, Violation
from policies.pack import ALL

ENFORCEMENT_VALUES = {e.value for e in Enforcement} | {"remediate"}


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
    unknown = sorted(redact.key(k) for k in document if k != "all" and k not in by_id)
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
        elif entry is not None:
            raise PolicyConfigError(f"{pid}: expected an enforcement level or an object")
        schema = {"type": "object", "properties": p.spec.schema, "additionalProperties": False}
        try:
            jsonschema.validate(config, schema)
        except jsonschema.ValidationError as exc:
            where = redact.loc(exc.absolute_path) or "(config)"
            raise PolicyConfigError(f"{pid}.{where}: {_schema_message(exc)}") from None
        out[pid] = PolicySettings(level, config)
    return out


def _schema_message(exc: jsonschema.ValidationError) -> str:
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


def _options(record: ResourceRecord) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        record.protect,
        [],
        None,
        [],
        PolicyCustomTimeouts(0, 0, 0),
        list(record.additional_secret_outputs),
        record.parent,
    )


def run(
    records: Iterable[ResourceRecord],
    *,
    config: Mapping[str, Any] | None = None,
    policies: Sequence[PackPolicy] = ALL,
    stack_tags: Mapping[str, str] | None = None,
) -> RunResult:
    """Apply every enabled policy to the records; violations sorted for stable output."""
    records = list(records)
    settings = resolve_config(config, policies)
    result = RunResult()
    by_urn = {r.urn: r for r in records}
    proxies: dict[str, Any] = {}
    stack_resources: list[PolicyResource] | None = None

    def _proxy(record: ResourceRecord) -> Any:
        """The engine's unknown-checking view of a record's inputs, built once per record."""
        proxy = proxies.get(record.urn)
        if proxy is None:
            proxy = proxies[record.urn] = unknown_checking_proxy(dict(record.props))
        return proxy

    for p in policies:
        s = settings[p.spec.id]
        if s.enforcement is Enforcement.DISABLED:
            continue

        def report(
            message: str,
            urn: str | None = None,
            *,
            _p: PackPolicy = p,
            _s: PolicySettings = s,
            _default: str | None = None,
        ) -> None:
            result.violations.append(
                Violation(
                    policy=_p.spec.id,
                    severity=_p.spec.severity,
                    enforcement=_s.enforcement,
                    category=_p.spec.category,
                    urn=urn or _default,
                    message=message,
                    checkov=_p.spec.checkov,
                )
            )

        if isinstance(p.policy, ResourceValidationPolicy):
            for record in records:
                if not p.spec.applies_to(record.type):
                    continue
                args = ResourceValidationArgs(
                    record.type,
                    _proxy(record),
                    record.urn,
                    record.name,
                    _options(record),
                    None,
                    dict(s.config),
                    dict(stack_tags or {}),
                )
                token = OFFLINE_RECORD.set(record)
                try:
                    p.policy.validate(args, functools.partial(_report_for, report, record.urn))
                except UnknownValueError as exc:
                    result.diagnostics.append((p.spec.id, record.urn, exc.message))
                except _NotApplicableError:
                    pass
                except Exception as exc:  # fail closed, without the exception text
                    # Under the engine a crashing policy fails the preview; offline it is a
                    # violation of that policy (its text could quote the odd value, so only the type).
                    report(f"could not evaluate this resource ({type(exc).__name__})", record.urn)
                finally:
                    OFFLINE_RECORD.reset(token)
        else:
            if stack_resources is None:
                stack_resources = _policy_resources(records)
            stack_args = StackValidationArgs(
                stack_resources, dict(s.config), dict(stack_tags or {})
            )
            token2 = OFFLINE_STACK.set(by_urn)
            try:
                p.policy.validate(stack_args, functools.partial(_report_for, report, None))
            except UnknownValueError as exc:
                result.diagnostics.append((p.spec.id, "", exc.message))
            except _NotApplicableError:
                pass
            except Exception as exc:  # fail closed, as above
                report(f"could not evaluate the stack ({type(exc).__name__})", None)
            finally:
                OFFLINE_STACK.reset(token2)
    result.violations.sort(key=lambda v: (-v.severity.rank, v.policy, v.urn or "", v.message))
    return result


def _report_for(
    report: Callable[..., None], default_urn: str | None, message: str, urn: str | None = None
) -> None:
    report(message, urn or default_urn)


def _policy_resources(records: Sequence[ResourceRecord]) -> list[PolicyResource]:
    resources = [
        PolicyResource(
            r.type,
            unknown_checking_proxy(dict(r.props)),
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
