"""The GCP predefined-role and Azure built-in-role tables are what the vendored snapshots of the
published role data say.

``policies/data/gcp_predefined_roles.json.gz`` and ``azure_built_in_roles.json.gz`` hold whole
role entries as Google and Microsoft publish them (``gcloud iam roles describe``, ``az role
definition list``, collected by iann0036/iam-dataset; provenance in policies/data/SOURCES.md).
``scripts/build_role_tables.py`` derives the tables the pack imports from them; these tests derive
them again and fail while a table, its snapshot or SOURCES.md disagree.
"""

from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

import pytest

from policies.azure import built_in_roles
from policies.azure.rbac import BUILT_IN_ROLES, resolve_role
from policies.contract.access import Action
from policies.gcp import predefined_roles
from policies.gcp.iam import ACCESS, RUNS_AS_SERVICE_ACCOUNTS, actions, reach, role_info
from tests.conftest import ROOT, script_module

DATA = ROOT / "policies" / "data"
SCRIPT = "scripts/build_role_tables.py"


@pytest.fixture(scope="module")
def script():  # type: ignore[no-untyped-def]
    return script_module(SCRIPT)


def test_the_gcp_table_is_derived_from_its_snapshot(script) -> None:  # type: ignore[no-untyped-def]
    snapshot = script.load(script.GCP_SNAPSHOT)
    assert script.derive_gcp(snapshot) == predefined_roles.ROLES, f"run `.venv/bin/python {SCRIPT}`"
    assert script.render_gcp(snapshot).splitlines()[0] in script.GCP_TABLE.read_text()


def test_the_azure_table_is_derived_from_its_snapshot(script) -> None:  # type: ignore[no-untyped-def]
    derived = script.derive_azure(script.load(script.AZURE_SNAPSHOT))
    table = {g: r for g, r in built_in_roles.ROWS.items()} | {
        g: (n, (), (), (), ()) for g, n in built_in_roles.OTHER_ROLES.items()
    }
    assert table == derived, f"run `.venv/bin/python {SCRIPT}`"
    assert not set(built_in_roles.ROWS) & set(built_in_roles.OTHER_ROLES)


@pytest.mark.parametrize(
    "name",
    [
        "gcp_predefined_roles.json.gz",
        "azure_built_in_roles.json.gz",
        "aws_retired_managed_policies.json.gz",
    ],
)
def test_sources_md_names_each_snapshot_with_its_sha256(name: str) -> None:
    sources = (DATA / "SOURCES.md").read_text()
    digest = hashlib.sha256((DATA / name).read_bytes()).hexdigest()
    assert re.search(rf"sha256 of `{re.escape(name)}`: `{digest}`", sources), (
        f"policies/data/SOURCES.md must give {name}'s sha256 ({digest})"
    )
    assert gzip.decompress((DATA / name).read_bytes())  # a real gzip file, not a pointer


def test_the_snapshots_hold_whole_published_entries(script) -> None:  # type: ignore[no-untyped-def]
    gcp = script.load(script.GCP_SNAPSHOT)
    azure = script.load(script.AZURE_SNAPSHOT)
    for snap in (gcp, azure):
        assert snap["source"] == "https://github.com/iann0036/iam-dataset"
        assert re.fullmatch(r"[0-9a-f]{40}", snap["commit"])
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", snap["date"])
    for role in gcp["roles"]:
        assert {"name", "title", "stage", "etag"} <= set(role), role["name"]
        assert script.gcp_relevant(role)
    for role in azure["roles"]:
        assert {"name", "roleName", "permissions", "roleType"} <= set(role), role["roleName"]
        assert script.azure_relevant(role)
    names = {r["name"] for r in gcp["roles"]}
    assert names >= RUNS_AS_SERVICE_ACCOUNTS  # the hand-added judgement names real roles
    assert len(azure["roles"]) + len(azure["other_roles"]) > 900


# role, Secret Manager actions granted on a secret, impersonates, escalates
GCP_FACTS = [
    # Google's data: Editor holds no payload access (the hand-typed table said it did)
    ("roles/editor", {Action.WRITE, Action.DESCRIBE, Action.MANAGE}, True, False),
    ("roles/secretmanager.editor", {Action.WRITE, Action.DESCRIBE, Action.MANAGE}, False, False),
    ("roles/secretmanager.secretAccessor", {Action.READ}, False, False),
    ("roles/secretmanager.admin", set(Action), False, False),
    ("roles/secretmanager.viewer", {Action.DESCRIBE}, False, False),
    ("roles/owner", set(Action), True, True),
    ("roles/viewer", {Action.DESCRIBE}, False, False),
    ("roles/iam.serviceAccountTokenCreator", set(), True, False),
    ("roles/iam.workloadIdentityUser", set(), True, False),
    ("roles/iam.serviceAccountOpenIdTokenCreator", set(), False, False),  # ID tokens only
    ("roles/iam.serviceAccountAdmin", set(), False, True),  # sets service accounts' policies
    ("roles/iam.securityAdmin", {Action.MANAGE}, False, True),
    ("roles/resourcemanager.projectIamAdmin", set(), False, True),
    ("roles/iam.roleViewer", set(), False, False),  # a family role the data knows: judged
    ("roles/dataproc.editor", set(), True, False),  # RUNS_AS_SERVICE_ACCOUNTS
    ("roles/storage.objectViewer", set(), False, False),  # another service's role
]


@pytest.mark.parametrize(("role", "granted", "impersonates", "escalates"), GCP_FACTS)
def test_gcp_roles_as_google_publishes_them(
    role: str, granted: set[Action], impersonates: bool, escalates: bool
) -> None:
    info = role_info(role)
    assert info is not None
    assert set(actions(info.permissions)) == granted
    assert (info.impersonates, info.escalates) == (impersonates, escalates)
    if impersonates or escalates:
        assert reach(info) == frozenset(Action)
    assert (ACCESS in info.permissions) == (Action.READ in granted)


@pytest.mark.parametrize("role", ["roles/iam.notARole", "roles/secretmanager.secretAccesor"])
def test_an_unknown_role_of_a_family_the_data_covers_is_not_guessed(role: str) -> None:
    assert role_info(role) is None


# role name, secret actions (READ/WRITE/DESCRIBE/MANAGE strings), purge, escalates
AZURE_FACTS = [
    ("Key Vault Secrets User", {"read", "describe"}, False, False),
    ("Key Vault Secrets Officer", {"read", "write", "describe", "manage"}, True, False),
    ("Key Vault Reader", {"describe"}, False, False),
    ("Key Vault Administrator", {"read", "write", "describe", "manage"}, True, False),
    ("Key Vault Contributor", {"describe"}, False, True),  # vaults/write: sets access policies
    ("Key Vault Data Access Administrator", {"describe"}, False, True),
    ("Owner", {"describe"}, False, True),
    ("Contributor", {"describe"}, False, True),
    ("Reader", {"describe"}, False, False),
    ("User Access Administrator", {"describe"}, False, True),
    # its role assignment writes are conditioned to two roles that reach no vault
    ("Azure Migrate Execute Expert", set(), False, False),
    ("AcrPull", set(), False, False),
]


@pytest.mark.parametrize(("name", "granted", "purge", "escalates"), AZURE_FACTS)
def test_azure_built_in_roles_as_microsoft_publishes_them(
    name: str, granted: set[str], purge: bool, escalates: bool
) -> None:
    perms = resolve_role(None, name, (), {})
    assert perms is not None, name
    acts, purges = perms.secret_actions()
    assert (set(acts), purges, perms.escalates) == (granted, purge, escalates)
    guid = next(g for g, b in BUILT_IN_ROLES.items() if b.name == name)
    assert resolve_role(f"/providers/Microsoft.Authorization/roleDefinitions/{guid}", None, (), {})


CONDITIONS = [
    (None, None),
    ("", None),
    (
        "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR "
        "(@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] "
        "ForAnyOfAnyValues:GuidEquals{17D1049B-9A84-46FB-8F53-869881C3D3AB, "
        "ba92f5b4-2d11-453d-a403-e96b0029c9fe}))",
        frozenset({"17d1049b-9a84-46fb-8f53-869881c3d3ab", "ba92f5b4-2d11-453d-a403-e96b0029c9fe"}),
    ),
    # a condition on deletes only says nothing of what may be assigned
    (
        "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'})) OR "
        "(@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] "
        "ForAnyOfAnyValues:GuidEquals{17d1049b-9a84-46fb-8f53-869881c3d3ab}))",
        None,
    ),
]


@pytest.mark.parametrize(("condition", "expected"), CONDITIONS)
def test_which_roles_a_conditioned_role_assignment_writer_may_assign(
    script,  # type: ignore[no-untyped-def]
    condition: str | None,
    expected: frozenset[str] | None,
) -> None:
    assert script.assignable_roles(condition) == expected


def test_the_tables_are_python_modules_not_data_read_at_start_up() -> None:
    for module in (predefined_roles, built_in_roles):
        assert Path(module.__file__ or "").suffix == ".py"
        assert "GENERATED by scripts/build_role_tables.py" in (module.__doc__ or "")
