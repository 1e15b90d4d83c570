"""What the GCP policies share: resource types, and how IAM grants are read from every resource
form that carries them.

Pure: no pulumi, no pulumi_policy. Values arrive as the engine hands them to a policy (plain JSON,
unknown values as :data:`~policies.model.UNKNOWN`); readers name what they could not read instead
of guessing, so a check can fail closed.

Every IAM resource of the provider comes in three forms: ``*IamMember`` (one role, one member),
``*IamBinding`` (one role, its members) and ``*IamPolicy`` (``policyData``: the whole policy as
JSON, bindings and audit configs). Where a grant applies follows from the module of its type:
a secret (``secretmanager``), a project, a folder, an organisation, a service account, or another
resource (a key, a topic...).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from policies.lib.shapes import document, reveal, unwrap
from policies.model import UNKNOWN

if TYPE_CHECKING:  # no runtime import: this module stays free of pulumi_policy
    from policies.framework import Resource

SECRET = "gcp:secretmanager/secret:Secret"  # pragma: allowlist secret (a type token)
REGIONAL_SECRET = "gcp:secretmanager/regionalSecret:RegionalSecret"  # pragma: allowlist secret
SECRET_VERSION = "gcp:secretmanager/secretVersion:SecretVersion"  # pragma: allowlist secret
REGIONAL_SECRET_VERSION = "gcp:secretmanager/regionalSecretVersion:RegionalSecretVersion"
SECRET_TYPES = (SECRET, REGIONAL_SECRET)
CRYPTO_KEY = "gcp:kms/cryptoKey:CryptoKey"
SERVICE_ACCOUNT_KEY = "gcp:serviceaccount/key:Key"
PROJECT_AUDIT_CONFIG = "gcp:projects/iAMAuditConfig:IAMAuditConfig"
AUDIT_CONFIG_TYPES = (
    PROJECT_AUDIT_CONFIG,
    "gcp:folder/iamAuditConfig:IamAuditConfig",
    "gcp:organizations/iamAuditConfig:IamAuditConfig",
)
#: Every IAM member, binding and policy resource of the provider (any service).
IAM_TYPES = tuple(
    f"gcp:*:*{kind}"
    for kind in ("IamMember", "IAMMember", "IamBinding", "IAMBinding", "IamPolicy", "IAMPolicy")
)
_IAM_TYPE_RE = re.compile(
    r"^gcp:([A-Za-z0-9]+)/([A-Za-z0-9]*?)(?:Iam|IAM|iAM|iam)(Member|Binding|Policy):"
)

#: Where a grant applies.
SECRET_LEVEL = "secret"  # pragma: allowlist secret
PROJECT_LEVEL = "project"
FOLDER_LEVEL = "folder"
ORGANIZATION_LEVEL = "organization"
SERVICE_ACCOUNT_LEVEL = "service account"
RESOURCE_LEVEL = "resource"
#: Levels above a secret: a grant there reaches every secret beneath.
ABOVE_SECRET = (PROJECT_LEVEL, FOLDER_LEVEL, ORGANIZATION_LEVEL)

SECRET_MANAGER_API = "secretmanager.googleapis.com"
ALL_SERVICES = "allServices"
#: The data-access audit log types (ADMIN_WRITE is always on and cannot be configured).
AUDIT_LOG_TYPES = ("ADMIN_READ", "DATA_READ", "DATA_WRITE")


def iam_level(resource_type: str) -> str | None:
    """Where the grants of an IAM resource type apply (None: not an IAM grant type)."""
    match = _IAM_TYPE_RE.match(resource_type)
    if match is None:
        return None
    module, kind = match.group(1), match.group(2)
    if module == "secretmanager" and kind in ("secret", "regionalSecret"):
        return SECRET_LEVEL
    if kind == "":
        return {
            "projects": PROJECT_LEVEL,
            "folder": FOLDER_LEVEL,
            "organizations": ORGANIZATION_LEVEL,
            "serviceaccount": SERVICE_ACCOUNT_LEVEL,
        }.get(module, RESOURCE_LEVEL)
    return RESOURCE_LEVEL


@dataclass(frozen=True)
class Binding:
    """One role granted to members by one IAM resource. ``where`` locates it in the resource's
    inputs (empty for member/binding forms); ``condition`` is its CEL expression, if any."""

    where: str
    role: str
    members: tuple[str, ...]
    condition: str | None = None
    #: Something of the binding is unknown (at preview) or unreadable.
    unknown: bool = False


def _condition(raw: Any) -> tuple[str | None, bool]:
    value = reveal(raw)
    if value == UNKNOWN:
        return None, True
    if isinstance(value, list) and len(value) == 1:  # the maxItems-1 block as a one-item list
        value = reveal(value[0])
    if not isinstance(value, Mapping):
        return None, False
    expression = reveal(value.get("expression"))
    if expression == UNKNOWN:
        return None, True
    return (expression if isinstance(expression, str) and expression.strip() else None), False


def policy_data(r: Resource) -> tuple[dict[str, Any] | None, bool]:
    """The parsed ``policyData`` of an IAM policy resource, and whether it was unreadable."""
    raw = r.get("policyData")
    if raw is None or raw == "":
        return None, False
    data = document(raw)  # a JSON text, in a secret envelope or not; a map (the SDK's types)
    if isinstance(data, Mapping):
        return dict(data), False
    if not isinstance(data, str):
        return None, True
    try:
        parsed = json.loads(data)
    except json.JSONDecodeError:
        return None, True
    return (parsed, False) if isinstance(parsed, dict) else (None, True)


def bindings(r: Resource) -> Iterator[Binding]:
    """Every role an IAM member, binding or policy resource grants, with its members."""
    role = reveal(r.get("role"))
    if role is not None:
        member, members = reveal(r.get("member")), reveal(r.get("members"))
        if isinstance(members, list):
            members = [reveal(m) for m in members]
        raw = [member] if member is not None else (members if isinstance(members, list) else [])
        known = tuple(str(m) for m in raw if isinstance(m, str) and m != UNKNOWN)
        condition, hidden = _condition(r.get("condition"))
        unknown = (
            role == UNKNOWN
            or hidden
            or members == UNKNOWN
            or len(known) != len(raw)
            or (member is None and not isinstance(members, list))
        )
        yield Binding("", str(role), known, condition, unknown)
    parsed, unreadable = policy_data(r)
    if unreadable:
        yield Binding("policyData ", UNKNOWN, (), None, True)
    if parsed is None:
        return
    raw_bindings = parsed.get("bindings") or []
    for i, b in enumerate(raw_bindings if isinstance(raw_bindings, list) else []):
        if not isinstance(b, Mapping):
            continue
        members = unwrap(b.get("members")) or []
        known = (
            tuple(str(m) for m in members if isinstance(m, str))
            if isinstance(members, list)
            else ()
        )
        condition, hidden = _condition(b.get("condition"))
        yield Binding(f"policyData.bindings[{i}] ", str(b.get("role")), known, condition, hidden)


@dataclass(frozen=True)
class AuditConfig:
    """One audit config: the service it covers, its log types and their exempted members."""

    where: str
    service: str
    log_types: frozenset[str]
    exempted: Mapping[str, tuple[str, ...]]


def audit_configs(r: Resource) -> Iterator[AuditConfig]:
    """The audit configs an ``*IAMAuditConfig`` resource or an IAM policy's ``auditConfigs``
    declare (unknown values left out)."""
    if r.type in AUDIT_CONFIG_TYPES:
        yield _audit_config("", r.get("service"), r.get("auditLogConfigs"), "logType")
        return
    parsed, _ = policy_data(r)
    configs = (parsed or {}).get("auditConfigs") or []
    for i, c in enumerate(configs if isinstance(configs, list) else []):
        if isinstance(c, Mapping):
            yield _audit_config(
                f"policyData.auditConfigs[{i}] ",
                c.get("service"),
                c.get("auditLogConfigs"),
                "logType",
            )


def _audit_config(where: str, service: Any, logs: Any, key: str) -> AuditConfig:
    types: set[str] = set()
    exempted: dict[str, tuple[str, ...]] = {}
    for log in logs if isinstance(logs, list) else []:
        if not isinstance(log, Mapping):
            continue
        log_type = log.get(key) or log.get("log_type")
        if not isinstance(log_type, str) or log_type == UNKNOWN:
            continue
        types.add(log_type)
        members = log.get("exemptedMembers") or log.get("exempted_members") or []
        if isinstance(members, list) and members:
            exempted[log_type] = tuple(str(m) for m in members)
    return AuditConfig(where, str(service), frozenset(types), exempted)


def labels(r: Resource) -> dict[str, str]:
    """A GCP resource's labels (known string values only)."""
    value = reveal(r.get("labels"))
    if not isinstance(value, Mapping):
        return {}
    out = {str(k): reveal(v) for k, v in value.items()}
    return {k: v for k, v in out.items() if isinstance(v, str) and v != UNKNOWN}


_DURATION_RE = re.compile(r"^(\d+(?:\.\d{1,9})?)s$")


def duration_seconds(value: Any) -> float:
    """Seconds of a protobuf Duration string (``"7776000s"``, ``"3.5s"``). ValueError otherwise."""
    if not isinstance(value, str):
        raise ValueError("not a duration")
    match = _DURATION_RE.fullmatch(value.strip())
    if match is None:
        raise ValueError("not a duration in seconds ('<n>s')")
    return float(match.group(1))
