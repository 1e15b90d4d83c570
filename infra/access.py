"""The access model: which role may do what to which secret. Pure data, no Pulumi imports.

Roles are the two workload roles (backtest, live-trading) and the four human roles of the seed's RBAC
table (Developer, Trader, Admin, Auditor). Each role is granted access scopes; a secret belongs to the
scopes its catalog entry gives it in an environment (``CatalogEntry.scopes_in``). The estate
(``infra/estate.py``) evaluates the grants once per stack; backends turn them into their own policy
language (IAM documents, Vault policies, Kubernetes RBAC, ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from infra.catalog import CatalogEntry, Environment, Scope

# The actions are the pack's contract (its store extractors read them back from what resources grant).
from policies.contract.access import ROLE_READ_SCOPES
from policies.contract.access import Action as Action

#: The access model's roles: two workloads and the four human roles of the RBAC table.
RoleName = Literal["backtest", "live-trading", "developer", "trader", "admin", "auditor"]
ROLE_NAMES: tuple[RoleName, ...] = (
    "backtest",
    "live-trading",
    "developer",
    "trader",
    "admin",
    "auditor",
)


@dataclass(frozen=True)
class Role:
    name: RoleName
    title: str
    description: str
    human: bool
    read_only: bool
    scopes: frozenset[Scope]
    # Secrets (catalog names) the role's application writes; workload roles only.
    can_manage: bool = False
    describe_all: bool = False
    reads_audit_trail: bool = False

    def grants(self, entry: CatalogEntry, environment: Environment) -> frozenset[Action]:
        """The actions this role has on one secret of one environment (empty: no access)."""
        if not entry.stored or not entry.needed_in(environment):
            return frozenset()
        actions: set[Action] = set()
        if self.describe_all:
            actions.add(Action.DESCRIBE)
        if entry.scopes_in(environment) & self.scopes or Scope.ADMIN in self.scopes:
            actions |= {Action.READ, Action.DESCRIBE}
            if not self.read_only and entry.name in WRITERS.get(self.name, frozenset()):
                actions.add(Action.WRITE)
            if self.can_manage:
                actions |= {Action.WRITE, Action.MANAGE}
        return frozenset(actions)


# Secrets an application writes back (none today: the platform's applications only read secrets;
# rotation writes through the rotation Lambda's own role). Listing a name here grants WRITE to the
# workload role on that one secret only.
WRITERS: Mapping[RoleName, frozenset[str]] = {
    "live-trading": frozenset(),
}


def _scopes(role: RoleName) -> frozenset[Scope]:
    """The role's scopes, from the contract's table (the pack judges the graph against it)."""
    return frozenset(Scope(s) for s in ROLE_READ_SCOPES[role])


ROLES: Mapping[RoleName, Role] = {
    "backtest": Role(
        name="backtest",
        title="Backtest",
        description="Backtest workloads: read-only, paper and test secrets only",
        human=False,
        read_only=True,
        scopes=_scopes("backtest"),
    ),
    "live-trading": Role(
        name="live-trading",
        title="Live trading",
        description="Live trading workload: reads the live secrets it uses",
        human=False,
        read_only=False,
        scopes=_scopes("live-trading"),
    ),
    "developer": Role(
        name="developer",
        title="Developer",
        description="Read test keys; paper trading only",
        human=True,
        read_only=True,
        scopes=_scopes("developer"),
    ),
    "trader": Role(
        name="trader",
        title="Trader",
        description="Read production (live) keys except admin ones; never paper and live together",
        human=True,
        read_only=True,
        scopes=_scopes("trader"),
    ),
    "admin": Role(
        name="admin",
        title="Admin",
        description="Full access to the platform's secrets and their keys",
        human=True,
        read_only=False,
        scopes=_scopes("admin"),
        can_manage=True,
        describe_all=True,
        reads_audit_trail=True,
    ),
    "auditor": Role(
        name="auditor",
        title="Auditor",
        description="No secret values: metadata and the read-only audit trail",
        human=True,
        read_only=True,
        scopes=_scopes("auditor"),
        describe_all=True,
        reads_audit_trail=True,
    ),
}

assert tuple(ROLES) == ROLE_NAMES == tuple(ROLE_READ_SCOPES)
