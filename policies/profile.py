"""The project profile: the house rules of this project, apart from the universal pack.

Every policy of the pack is one of three kinds (:class:`Profile`, on its :class:`~policies.
framework.Spec`):

* **universal**: a rule every reviewer would apply to any estate (no plaintext credential, no
  wildcard grant, encryption with a customer-managed key...). Always judged.
* **project**: a house rule of this project: its own layout (Pulumi ``protect`` on production
  data, the secret catalog's coverage, its role names), or a fail-closed rule that needs
  configuration a foreign estate does not have (the accounts a role may be trusted by, an audit
  trail declared in the same stack). Judged only when the profile is on.
* **mixed**: a universal rule with a house part (the project's Vault path layout, CIDR-bound
  AppRoles, Kubernetes-only workload identity): the universal part is always judged, the house
  part only when the profile is on, through tunables whose default depends on the profile
  (:attr:`~policies.framework.Spec.profile_defaults`).

Whether the profile is on is the tunable :data:`PROFILE_KEY` (``projectProfile``) of each project
and mixed policy: ``"on"``, ``"off"`` or ``"auto"`` (the default): on for the resources of this
project's own stacks (a URN whose project is :data:`PROJECT_NAMES`: ``nt-secrets plan``, ``check
--stack`` and ``pulumi preview`` of this repository's stacks), off for anyone else's. So a foreign
estate (``nt-secrets check --state`` of another project's export, or the published pack on
another organisation's stacks) is judged only by the universal rules unless its owner opts in:
``{"<policy>": {"projectProfile": "on"}}`` in the pack config (:func:`profile_document` writes one
for every policy of the profile), ``--profile project`` or ``profile: project`` in
``.nt-secrets.yaml``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any, Final

#: The Pulumi project name(s) of this repository (``Pulumi.yaml``'s ``name``): "auto" turns the
#: profile on for their stacks (a test keeps it equal to ``Pulumi.yaml``).
PROJECT_NAMES: Final = frozenset({"neural-trader-secrets"})
#: The tunable of every project and mixed policy that turns the profile on or off.
PROFILE_KEY: Final = "projectProfile"
PROFILE_VALUES: Final = ("auto", "on", "off")
PROFILE_SCHEMA: Final[Mapping[str, Any]] = {
    "type": "string",
    "enum": list(PROFILE_VALUES),
    "default": "auto",
    "description": "the project profile (house rules): on, off, or auto (on for the stacks of "
    "the neural-trader-secrets project, off for any other estate)",
}


class Profile(StrEnum):
    """Which rules a policy belongs to (see the module docstring)."""

    UNIVERSAL = "universal"
    PROJECT = "project"
    MIXED = "mixed"


def project_of(urn: str | None) -> str | None:
    """The project inside a URN (``urn:pulumi:<stack>::<project>::...``)."""
    if not urn or not urn.startswith("urn:pulumi:"):
        return None
    parts = urn.split("::", 2)
    return parts[1] if len(parts) > 2 else None


def profile_on(config: Mapping[str, Any], urn: str | None) -> bool:
    """Whether the project profile applies to the resource ``urn`` under ``config`` (a policy's
    merged config: ``projectProfile`` missing means auto)."""
    mode = config.get(PROFILE_KEY, "auto")
    if mode == "on":
        return True
    if mode == "off":
        return False
    return project_of(urn) in PROJECT_NAMES


def profile_document(
    mode: str, policies: Iterable[tuple[str, Profile]], base: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """``base`` (a pack config document) with ``projectProfile`` set to ``mode`` on every
    project and mixed policy of ``policies`` ((id, profile) pairs). An entry that is an
    enforcement level alone becomes an object with that level; properties already set are kept
    except the profile."""
    out = dict(base or {})
    for pid, profile in policies:
        if profile is Profile.UNIVERSAL:
            continue
        entry = out.get(pid)
        if isinstance(entry, str):
            out[pid] = {"enforcementLevel": entry, PROFILE_KEY: mode}
        elif isinstance(entry, Mapping):
            out[pid] = {**entry, PROFILE_KEY: mode}
        else:
            out[pid] = {PROFILE_KEY: mode}
    return out
