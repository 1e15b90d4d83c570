"""Build the pack's GCP predefined-role and Azure built-in-role tables from a published dataset.

Two steps, both deterministic:

1. ``--dataset DIR --commit SHA --date YYYY-MM-DD``: from a checkout of
   https://github.com/iann0036/iam-dataset (MIT; its data comes from ``gcloud iam roles describe``
   and ``az role definition list``), vendor the subset the pack needs, whole role entries as
   published, into ``policies/data/gcp_predefined_roles.json.gz`` and
   ``policies/data/azure_built_in_roles.json.gz`` (then update policies/data/SOURCES.md).
2. Always: derive the tables the pack reads at run time from those snapshots and write them as
   Python modules, ``policies/gcp/predefined_roles.py`` and ``policies/azure/built_in_roles.py``
   (fast to import: no JSON is read when a plan starts).

``tests/policies/test_role_tables.py`` derives the tables again from the vendored snapshots and
fails while the modules differ.

    .venv/bin/python scripts/build_role_tables.py                       # tables from snapshots
    .venv/bin/python scripts/build_role_tables.py --dataset /path/iam-dataset \\
        --commit <sha> --date <YYYY-MM-DD>                                # refresh the snapshots

Which roles are vendored (the selection is part of this script, so it is reviewed with it):

* GCP: every role whose name starts with one of :data:`GCP_FAMILIES` (Secret Manager, IAM,
  Resource Manager: the evaluator must know all of them), the basic roles, and every other
  predefined role holding a permission the evaluator reads (:func:`gcp_relevant`): a Secret
  Manager secret/version permission, a permission that acts as a service account, or one that
  sets IAM policies of projects, folders, organisations or service accounts; and the roles of
  ``policies.gcp.permissions.RUNS_AS_SERVICE_ACCOUNTS``.
* Azure: every built-in role, as ``[id, name]``; whole entries for those whose permissions grant
  an action the evaluator tests (``policies.azure.rbac.PROBE_DATA_ACTIONS`` /
  ``PROBE_CONTROL_ACTIONS``: Key Vault secret, key and certificate data actions, role assignment
  and vault writes, ARM reads of secrets).
"""

from __future__ import annotations

import argparse
import fnmatch
import gzip
import json
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from policies.azure.rbac_probes import (  # noqa: E402
    PROBE_CONTROL_ACTIONS,
    PROBE_DATA_ACTIONS,
    ROLE_ASSIGNMENT_WRITE,
)
from policies.gcp.permissions import (  # noqa: E402
    ESCALATING_PERMISSIONS,
    IMPERSONATING_PERMISSIONS,
    RUNS_AS_SERVICE_ACCOUNTS,
    SECRET_PERMISSIONS,
)

SOURCE = "https://github.com/iann0036/iam-dataset"
DATA = ROOT / "policies" / "data"
GCP_SNAPSHOT = DATA / "gcp_predefined_roles.json.gz"
AZURE_SNAPSHOT = DATA / "azure_built_in_roles.json.gz"
GCP_TABLE = ROOT / "policies" / "gcp" / "predefined_roles.py"
AZURE_TABLE = ROOT / "policies" / "azure" / "built_in_roles.py"

GCP_FAMILIES = ("roles/secretmanager.", "roles/iam.", "roles/resourcemanager.")
GCP_BASIC = ("roles/owner", "roles/editor", "roles/viewer")


# ---- snapshots ------------------------------------------------------------------------------------


def encode(snapshot: Mapping[str, Any]) -> bytes:
    raw = json.dumps(snapshot, separators=(",", ":"), sort_keys=True).encode()
    return gzip.compress(raw, 9, mtime=0)


def load(path: Path) -> dict[str, Any]:
    with gzip.open(path, "rb") as fp:
        data: dict[str, Any] = json.load(fp)
    return data


def gcp_relevant(role: Mapping[str, Any]) -> bool:
    name = str(role.get("name", ""))
    if name.startswith(GCP_FAMILIES) or name in GCP_BASIC or name in RUNS_AS_SERVICE_ACCOUNTS:
        return True
    perms = set(role.get("includedPermissions") or ())
    return bool(
        perms & (SECRET_PERMISSIONS | IMPERSONATING_PERMISSIONS | ESCALATING_PERMISSIONS)
        or any(p.startswith(("secretmanager.secrets.", "secretmanager.versions.")) for p in perms)
    )


def _grants(patterns: Iterable[str], minus: Iterable[str], action: str) -> bool:
    a = action.lower()
    return any(fnmatch.fnmatchcase(a, p.lower()) for p in patterns) and not any(
        fnmatch.fnmatchcase(a, p.lower()) for p in minus
    )


def azure_relevant(role: Mapping[str, Any]) -> bool:
    for block in role.get("permissions") or ():
        if any(
            _grants(block.get("dataActions") or (), block.get("notDataActions") or (), a)
            for a in PROBE_DATA_ACTIONS
        ) or any(
            _grants(block.get("actions") or (), block.get("notActions") or (), a)
            for a in PROBE_CONTROL_ACTIONS
        ):
            return True
    return False


def snapshot_gcp(dataset: Path, commit: str, date: str) -> dict[str, Any]:
    roles = []
    for path in sorted((dataset / "gcp" / "roles").glob("*.json")):
        role = json.loads(path.read_text())
        if gcp_relevant(role):
            roles.append(role)
    roles.sort(key=lambda r: str(r["name"]))
    return {
        "source": SOURCE,
        "commit": commit,
        "date": date,
        "files": "gcp/roles/<role>.json (gcloud iam roles describe)",
        "selection": "scripts/build_role_tables.py gcp_relevant()",
        "roles": roles,
    }


def snapshot_azure(dataset: Path, commit: str, date: str) -> dict[str, Any]:
    raw = json.loads((dataset / "azure" / "built-in-roles-raw.json").read_text())
    whole = sorted((r for r in raw if azure_relevant(r)), key=lambda r: str(r["name"]))
    names = sorted([str(r["name"]), str(r["roleName"])] for r in raw if not azure_relevant(r))
    return {
        "source": SOURCE,
        "commit": commit,
        "date": date,
        "files": "azure/built-in-roles-raw.json (az role definition list)",
        "selection": "scripts/build_role_tables.py azure_relevant()",
        "roles": whole,
        "other_roles": names,
    }


# ---- tables -------------------------------------------------------------------------------------


def derive_gcp(snapshot: Mapping[str, Any]) -> dict[str, tuple[tuple[str, ...], bool, bool]]:
    """role -> (the Secret Manager permissions the evaluator reads, impersonates, escalates)."""
    out: dict[str, tuple[tuple[str, ...], bool, bool]] = {}
    for role in snapshot["roles"]:
        perms = set(role.get("includedPermissions") or ())
        out[str(role["name"])] = (
            tuple(sorted(perms & SECRET_PERMISSIONS)),
            bool(perms & IMPERSONATING_PERMISSIONS),
            bool(perms & ESCALATING_PERMISSIONS),
        )
    return dict(sorted(out.items()))


def derive_gcp_policy_setters(snapshot: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """role -> the IAM-policy-setting permissions it holds (projects, folders, organisations,
    service accounts), for the roles holding any: which policies it can grant itself roles in."""
    out: dict[str, tuple[str, ...]] = {}
    for role in snapshot["roles"]:
        held = set(role.get("includedPermissions") or ()) & ESCALATING_PERMISSIONS
        if held:
            out[str(role["name"])] = tuple(sorted(held))
    return dict(sorted(out.items()))


AzureRow = tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]]


def _kept(patterns: Iterable[str], probes: Iterable[str]) -> tuple[str, ...]:
    """The patterns that match at least one probe: the others change no answer the evaluator
    asks of this role."""
    probes = tuple(p.lower() for p in probes)
    return tuple(p for p in patterns if any(fnmatch.fnmatchcase(a, p.lower()) for a in probes))


_ASSIGNABLE_RE = re.compile(
    r"ActionMatches\{'Microsoft\.Authorization/roleAssignments/write'\}\)\)\s*OR\s*"
    r"\(@Request\[Microsoft\.Authorization/roleAssignments:RoleDefinitionId\]\s*"
    r"ForAnyOfAnyValues:GuidEquals\s*\{([^}]*)\}",
    re.IGNORECASE,
)


def assignable_roles(condition: str | None) -> frozenset[str] | None:
    """The role ids a block's condition lets its holder assign (``roleAssignments/write``
    constrained to ``RoleDefinitionId ForAnyOfAnyValues:GuidEquals{...}``, Azure's "delegate
    role assignment management with conditions"); None: the condition does not say."""
    match = _ASSIGNABLE_RE.search(condition or "")
    if match is None:
        return None
    return frozenset(g.strip().lower() for g in match.group(1).split(",") if g.strip())


def _block_patterns(
    block: Mapping[str, Any], relevant: frozenset[str]
) -> tuple[tuple[str, ...], ...]:
    """A block's kept patterns; ``roleAssignments/write`` is dropped when the block's condition
    lets it assign only roles that touch nothing the evaluator tests (``relevant``: the ids of
    the roles that do)."""
    actions = _kept(block.get("actions") or (), PROBE_CONTROL_ACTIONS)
    assignable = assignable_roles(block.get("condition"))
    if assignable is not None and not assignable & relevant:
        actions = tuple(
            p
            for p in actions
            if not fnmatch.fnmatchcase(ROLE_ASSIGNMENT_WRITE.lower(), p.lower())
            or any(
                fnmatch.fnmatchcase(a.lower(), p.lower())
                for a in PROBE_CONTROL_ACTIONS
                if a != ROLE_ASSIGNMENT_WRITE
            )
        )
    return (
        actions,
        _kept(block.get("notActions") or (), PROBE_CONTROL_ACTIONS),
        _kept(block.get("dataActions") or (), PROBE_DATA_ACTIONS),
        _kept(block.get("notDataActions") or (), PROBE_DATA_ACTIONS),
    )


def _answers(patterns: tuple[tuple[str, ...], ...]) -> tuple[bool, ...]:
    acts, nacts, data, ndata = patterns
    return tuple(_grants(acts, nacts, a) for a in PROBE_CONTROL_ACTIONS) + tuple(
        _grants(data, ndata, a) for a in PROBE_DATA_ACTIONS
    )


def derive_azure(snapshot: Mapping[str, Any]) -> dict[str, AzureRow]:
    """role id -> (name, actions, notActions, dataActions, notDataActions), the patterns kept
    being those that match an action the evaluator tests (:func:`_kept`); a role whose
    permissions touch none of them has empty ones. A role of several permission blocks is kept
    as their union only where that answers every probe as the blocks do (else this fails)."""
    relevant = frozenset(str(r["name"]).lower() for r in snapshot["roles"])
    out: dict[str, AzureRow] = {}
    for role in snapshot["roles"]:
        blocks = [_block_patterns(b, relevant) for b in role.get("permissions") or []]
        merged = tuple(tuple(dict.fromkeys(p for b in blocks for p in b[i])) for i in range(4))
        each = [_answers(b) for b in blocks]
        if _answers(merged) != tuple(any(col) for col in zip(*each, strict=True)):
            raise SystemExit(
                f"{role['roleName']}: its permission blocks cannot be merged into one; teach "
                "derive_azure to keep them apart"
            )
        acts, nacts, data, ndata = merged
        out[str(role["name"]).lower()] = (str(role["roleName"]), acts, nacts, data, ndata)
    for guid, name in snapshot["other_roles"]:
        out[str(guid).lower()] = (str(name), (), (), (), ())
    return dict(sorted(out.items()))


_HEADER = '''"""GENERATED by scripts/build_role_tables.py from policies/data/{snapshot}
({source} at {commit}, {date}; provenance and licence in policies/data/SOURCES.md).
Do not edit: change the script or refresh the snapshot, and run it again.

{what}
"""

from __future__ import annotations

from typing import Final

'''


def render_gcp(snapshot: Mapping[str, Any]) -> str:
    table = derive_gcp(snapshot)
    head = _HEADER.format(
        snapshot=GCP_SNAPSHOT.name,
        source=snapshot["source"],
        commit=snapshot["commit"],
        date=snapshot["date"],
        what="Predefined role -> (its Secret Manager permissions the evaluator reads, whether it\n"
        "acts as a service account, whether it sets IAM policies of projects, folders,\n"
        "organisations or service accounts).",
    )
    lines = [head, "ROLES: Final[dict[str, tuple[tuple[str, ...], bool, bool]]] = {"]
    lines += [f"    {name!r}: {row!r}," for name, row in table.items()]
    lines.append("}")
    lines.append(
        "#: Role -> the IAM-policy-setting permissions it holds (which policies it can grant\n"
        "#: itself roles in), for the roles whose third element above is True."
    )
    lines.append("SETS_IAM_POLICY: Final[dict[str, tuple[str, ...]]] = {")
    setters = derive_gcp_policy_setters(snapshot)
    lines += [f"    {name!r}: {held!r}," for name, held in setters.items()]
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_azure(snapshot: Mapping[str, Any]) -> str:
    table = derive_azure(snapshot)
    head = _HEADER.format(
        snapshot=AZURE_SNAPSHOT.name,
        source=snapshot["source"],
        commit=snapshot["commit"],
        date=snapshot["date"],
        what="ROWS: built-in role id (lower case) -> (name, actions, notActions, dataActions,\n"
        "notDataActions), keeping the patterns that match an action the evaluator tests.\n"
        "OTHER_ROLES: the ids and names of the other built-in roles (none of their patterns matches\n"
        "one: they reach no Key Vault secret, key or certificate and grant no access).",
    )
    rows = {g: r for g, r in table.items() if any(r[1:])}
    lines = [
        head,
        "Row = tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]]",
        "ROWS: Final[dict[str, Row]] = {",
    ]
    lines += [f"    {guid!r}: {row!r}," for guid, row in rows.items()]
    lines += ["}", "OTHER_ROLES: Final[dict[str, str]] = {"]
    lines += [f"    {guid!r}: {row[0]!r}," for guid, row in table.items() if guid not in rows]
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_table(path: Path, text: str) -> None:
    path.write_text(text)
    ruff = Path(sys.executable).with_name("ruff")
    subprocess.run([str(ruff), "check", "--quiet", "--fix", "--select", "I", str(path)], check=True)
    subprocess.run([str(ruff), "format", "--quiet", str(path)], check=True)
    print(f"wrote {path.relative_to(ROOT)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, help="a checkout of iann0036/iam-dataset")
    parser.add_argument("--commit", help="the dataset's commit (40 hex digits)")
    parser.add_argument("--date", help="the commit's date (YYYY-MM-DD)")
    args = parser.parse_args(argv)
    if args.dataset is not None:
        if not (args.commit and args.date):
            parser.error("--dataset needs --commit and --date")
        for path, snap in (
            (GCP_SNAPSHOT, snapshot_gcp(args.dataset, args.commit, args.date)),
            (AZURE_SNAPSHOT, snapshot_azure(args.dataset, args.commit, args.date)),
        ):
            data = encode(snap)
            path.write_bytes(data)
            print(
                f"wrote {path.relative_to(ROOT)} ({len(data):,} bytes, {len(snap['roles'])} roles)"
            )
    write_table(GCP_TABLE, render_gcp(load(GCP_SNAPSHOT)))
    write_table(AZURE_TABLE, render_azure(load(AZURE_SNAPSHOT)))


if __name__ == "__main__":
    main()
