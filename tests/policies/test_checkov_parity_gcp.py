"""checkov parity for the GCP IDs the pack maps (issue 9, item 8, beyond AWS).

checkov's own fixtures for each mapped ``CKV_GCP_*`` check are vendored under
``tests/fixtures/checkov/gcp/<ID>/`` (Apache-2.0; ``SOURCES.md`` beside the AWS ones): an example
folder's ``main.tf`` with checkov 3.3.30's verdict on each resource, or one ``<test method>.tf``
per unit test with that test's ``CheckResult``. pulumi-gcp is bridged from the google Terraform
provider, so a resource translates directly: its type token (:data:`TF_TYPES`, each checked
against the installed pulumi-gcp), arguments snake_case to camelCase, single values unwrapped
(``members`` stays a list). A policy that bundles several IDs is judged per ID, on findings that
name what the ID is about (:data:`ABOUT`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
import pulumi_gcp
import pytest

from policies.model import ResourceRecord
from policies.runner import run
from tests.policies.parity import (
    Case,
    assert_verdict,
    cases,
    fixture_problems,
    mapped_ids,
    policies_for,
    render_section,
    unearned,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "checkov" / "gcp"
DOCS = Path(__file__).resolve().parent.parent.parent / "docs" / "checkov-parity.md"

#: Terraform type -> (pulumi-gcp type token, the pulumi-gcp module that declares it).
TF_TYPES: dict[str, tuple[str, str]] = {
    "google_kms_crypto_key": ("gcp:kms/cryptoKey:CryptoKey", "kms/crypto_key.py"),
    "google_organization_iam_binding": (
        "gcp:organizations/iAMBinding:IAMBinding",
        "organizations/iam_binding.py",
    ),
    "google_organization_iam_member": (
        "gcp:organizations/iAMMember:IAMMember",
        "organizations/iam_member.py",
    ),
    "google_folder_iam_binding": ("gcp:folder/iAMBinding:IAMBinding", "folder/iam_binding.py"),
    "google_folder_iam_member": ("gcp:folder/iAMMember:IAMMember", "folder/iam_member.py"),
    "google_project_iam_binding": ("gcp:projects/iAMBinding:IAMBinding", "projects/iam_binding.py"),
    "google_project_iam_member": ("gcp:projects/iAMMember:IAMMember", "projects/iam_member.py"),
    "google_storage_bucket_iam_member": (
        "gcp:storage/bucketIAMMember:BucketIAMMember",
        "storage/bucket_iam_member.py",
    ),
    "google_storage_bucket_iam_binding": (
        "gcp:storage/bucketIAMBinding:BucketIAMBinding",
        "storage/bucket_iam_binding.py",
    ),
}
#: Arguments that stay lists with one item.
LISTS = frozenset({"members"})
#: Per checkov ID of a policy that bundles several: words its findings use for what the ID checks.
ABOUT: dict[str, tuple[str, ...]] = {
    "CKV_GCP_41": ("acts as any service account",),
}
#: Where the pack deliberately judges otherwise, with the reason.
DIFFERENCES: dict[tuple[str, str], str] = {
    ("CKV_GCP_41", "test_success.tf#google_project_iam_member.project"): (
        "stricter on purpose: roles/editor on the project holds iam.serviceAccounts.actAs (it acts "
        "as any service account of the project) and reads every secret's payload; checkov looks "
        "only for roles/iam.serviceAccountUser and roles/iam.serviceAccountTokenCreator"
    ),
}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def _unquote(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip('"')
    if isinstance(value, list):
        return [_unquote(v) for v in value]
    if isinstance(value, dict):
        return {_camel(str(k).strip('"')): _unquote(v) for k, v in value.items()}
    return value


def _props(conf: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in conf.items():
        if key.startswith("__"):
            continue
        single = isinstance(value, list) and len(value) == 1 and key not in LISTS
        out[_camel(key)] = _unquote(value[0] if single else value)
    return out


def records(folder: Path) -> dict[str, ResourceRecord]:
    """``<file>#<type>.<name>`` -> the record of each resource of the folder's ``.tf`` files."""
    out: dict[str, ResourceRecord] = {}
    for file in sorted(folder.glob("*.tf")):
        for block in hcl2.loads(file.read_text()).get("resource", []):
            for tf_type, named in block.items():
                tf_type = tf_type.strip('"')
                for name, conf in named.items():
                    key = f"{file.name}#{tf_type}.{name.strip(chr(34))}"
                    token = TF_TYPES[tf_type][0]
                    out[key] = ResourceRecord(
                        urn=f"urn:pulumi:parity::checkov::{token}::{key}",
                        type=token,
                        name=key,
                        props=_props(conf),
                        source="fixture",
                    )
    return out


def verdicts(check: str) -> Iterator[Case]:
    folder = FIXTURES / check
    expected = json.loads((folder / "expected.json").read_text())
    recs = records(folder)
    found: dict[str, list[str]] = {key: [] for key in recs}
    words = ABOUT.get(check)
    for v in run(list(recs.values()), policies=policies_for(check)).violations:
        key = (v.urn or "").rsplit("::", 1)[-1]
        if key in found and (words is None or any(w in v.message for w in words)):
            found[key].append(v.message)
    yield from cases(check, expected, recs, found)


@cache
def all_cases() -> tuple[Case, ...]:
    return tuple(c for d in sorted(FIXTURES.iterdir()) if d.is_dir() for c in verdicts(d.name))


def test_every_mapped_gcp_id_has_vendored_fixtures() -> None:
    assert fixture_problems(FIXTURES, mapped_ids("CKV_GCP_", "CKV2_GCP_")) == []


def test_every_type_token_is_pulumi_gcps() -> None:
    root = Path(pulumi_gcp.__file__).parent
    for tf_type, (token, module) in TF_TYPES.items():
        assert f"'{token}'" in (root / module).read_text(), tf_type


@pytest.mark.parametrize("case", all_cases(), ids=lambda c: f"{c.check}:{c.resource}")
def test_verdict_agrees_with_checkov_or_is_a_listed_difference(case: Case) -> None:
    assert_verdict(case, DIFFERENCES)


def test_the_mappings_are_earned() -> None:
    assert unearned(mapped_ids("CKV_GCP_", "CKV2_GCP_"), all_cases()) == []


def test_the_differences_are_documented() -> None:
    text = DOCS.read_text().splitlines()
    for line in render_markdown().splitlines():
        assert line in text, line


def render_markdown() -> str:
    """The GCP section of docs/checkov-parity.md (written by the AWS module's main)."""
    return render_section(
        "GCP",
        (
            "checkov's own fixtures for each mapped GCP ID (vendored under "
            "`tests/fixtures/checkov/gcp/`: example folders with checkov 3.3.30's verdicts, unit "
            "tests' HCL with their results) become pulumi-gcp resource records (pulumi-gcp is "
            "bridged from the google provider: type tokens checked against the installed SDK, "
            "arguments to camelCase) and are judged by the pack's policies for that ID; asserted by "
            "`tests/policies/test_checkov_parity_gcp.py`."
        ),
        all_cases(),
        policies_for,
        DIFFERENCES,
    )
