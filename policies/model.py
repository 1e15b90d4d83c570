"""The data the offline runner and the reports share. Pure data: no pulumi, no pulumi_policy.

A :class:`ResourceRecord` is one resource as the policies judge it, whoever produced it: the offline
plan (``nt-secrets plan``), a stack's state (``pulumi stack export`` or an on-disk checkpoint), or a
test fixture. A :class:`Violation` is one finding of one policy, with the metadata every report needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

#: Marks a value that is not known yet (at preview). Policies see it where the engine would raise
#: an UnknownValueError; the offline runner reproduces the engine's behaviour.
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
#: Stands for a value stored encrypted in a stack's state: present, secret, and unreadable here.
CIPHERTEXT = "[ciphertext]"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return ("low", "medium", "high", "critical").index(self.value)


class Enforcement(StrEnum):
    ADVISORY = "advisory"
    MANDATORY = "mandatory"
    DISABLED = "disabled"


class Category(StrEnum):
    PLAINTEXT = "plaintext"
    OVER_PERMISSIVE = "over-permissive"
    ENCRYPTION = "encryption"
    ROTATION = "rotation"
    AUDIT = "audit"
    DELETION_PROTECTION = "deletion-protection"
    NETWORK = "network"
    PUBLIC_ACCESS = "public-access"


@dataclass(frozen=True)
class ResourceRecord:
    """One resource to judge.

    ``props`` are the resource's inputs with secret wrappers removed (the values themselves, as the
    engine hands them to a policy), unknown values as :data:`UNKNOWN`. ``secret_paths`` lists the
    property paths (``secretString``, ``tags.owner``, ``rules[0].key``) whose value was secret-marked
    (plan) or stored as ciphertext (state). ``outputs`` are the stored outputs, for state only.
    """

    urn: str
    type: str
    name: str
    props: Mapping[str, Any]
    custom: bool = True
    secret_paths: tuple[str, ...] = ()
    protect: bool = False
    retain_on_delete: bool = False
    additional_secret_outputs: tuple[str, ...] = ()
    provider: str | None = None
    parent: str | None = None
    dependencies: tuple[str, ...] = ()
    property_dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    outputs: Mapping[str, Any] | None = None
    source: Literal["plan", "state", "fixture"] = "plan"


@dataclass(frozen=True, order=True)
class Violation:
    """One finding. ``policy`` is the policy id (``aws-secretsmanager-cmk-encryption``)."""

    policy: str
    severity: Severity
    enforcement: Enforcement
    category: Category
    urn: str | None
    message: str
    checkov: tuple[str, ...] = ()

    @property
    def mandatory(self) -> bool:
        return self.enforcement is Enforcement.MANDATORY

    def to_json(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "severity": self.severity.value,
            "enforcement": self.enforcement.value,
            "category": self.category.value,
            "urn": self.urn,
            "message": self.message,
            "checkov": list(self.checkov),
        }


@dataclass(frozen=True)
class PolicyInfo:
    """Metadata of one policy, for reports (SARIF rules, Markdown tables)."""

    id: str
    description: str
    severity: Severity
    enforcement: Enforcement
    category: Category
    remediation: str
    checkov: tuple[str, ...] = ()
    frameworks: tuple[str, ...] = ()
    #: universal, project (a house rule of the project profile) or mixed (policies/profile.py)
    profile: str = "universal"
