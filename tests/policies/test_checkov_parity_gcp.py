"""checkov parity for the GCP IDs the pack maps (issue 9, item 8, beyond AWS).

checkov's own fixtures for each mapped ``CKV_GCP_*`` check are vendored under
``tests/fixtures/checkov/gcp/<ID>/`` (Apache-2.0; ``SOURCES.md`` beside the AWS ones): an example
folder's ``.tf`` files with checkov 3.3.30's verdict on each resource (or the passing and failing
sets its test asserts), a graph check's ``main.tf`` with its ``expected.yaml``, or one
``<test method>.tf`` (``.conf.json`` for a ``resource_conf`` dict) per unit test with that test's
``CheckResult``. pulumi-gcp is bridged from the google Terraform provider, so a resource
translates directly: its type token (:data:`TF_TYPES`, each checked against the installed
pulumi-gcp), arguments snake_case to camelCase, single values unwrapped (``members`` stays a
list), ``jsonencode(...)`` and heredoc documents to the JSON text the provider receives. A policy
that bundles several IDs is judged per ID, on findings that name what the ID is about
(:data:`ABOUT`). A graph check judging the resource a grant is on (a key, a key ring) counts a
finding on a grant as one on the resource it names (:data:`TARGETS`).
"""

from __future__ import annotations

import json
import re
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
    "google_kms_key_ring": ("gcp:kms/keyRing:KeyRing", "kms/key_ring.py"),
    "google_kms_key_ring_iam_member": (
        "gcp:kms/keyRingIAMMember:KeyRingIAMMember",
        "kms/key_ring_iam_member.py",
    ),
    "google_kms_key_ring_iam_binding": (
        "gcp:kms/keyRingIAMBinding:KeyRingIAMBinding",
        "kms/key_ring_iam_binding.py",
    ),
    "google_kms_crypto_key_iam_member": (
        "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember",
        "kms/crypto_key_iam_member.py",
    ),
    "google_kms_crypto_key_iam_binding": (
        "gcp:kms/cryptoKeyIAMBinding:CryptoKeyIAMBinding",
        "kms/crypto_key_iam_binding.py",
    ),
    "google_kms_crypto_key_iam_policy": (
        "gcp:kms/cryptoKeyIAMPolicy:CryptoKeyIAMPolicy",
        "kms/crypto_key_iam_policy.py",
    ),
    "google_container_cluster": ("gcp:container/cluster:Cluster", "container/cluster.py"),
    "google_container_node_pool": ("gcp:container/nodePool:NodePool", "container/node_pool.py"),
    "google_cloudfunctions_function": (
        "gcp:cloudfunctions/function:Function",
        "cloudfunctions/function.py",
    ),
    "google_cloudfunctions_function_iam_member": (
        "gcp:cloudfunctions/functionIamMember:FunctionIamMember",
        "cloudfunctions/function_iam_member.py",
    ),
    "google_cloudfunctions_function_iam_binding": (
        "gcp:cloudfunctions/functionIamBinding:FunctionIamBinding",
        "cloudfunctions/function_iam_binding.py",
    ),
    "google_cloudfunctions2_function": (
        "gcp:cloudfunctionsv2/function:Function",
        "cloudfunctionsv2/function.py",
    ),
    "google_cloudfunctions2_function_iam_member": (
        "gcp:cloudfunctionsv2/functionIamMember:FunctionIamMember",
        "cloudfunctionsv2/function_iam_member.py",
    ),
    "google_cloudfunctions2_function_iam_binding": (
        "gcp:cloudfunctionsv2/functionIamBinding:FunctionIamBinding",
        "cloudfunctionsv2/function_iam_binding.py",
    ),
}
#: Arguments that stay lists with one item.
LISTS = frozenset({"members"})
#: Per checkov ID of a policy that bundles several: words its findings use for what the ID checks.
ABOUT: dict[str, tuple[str, ...]] = {
    "CKV_GCP_41": ("acts as any service account",),
    "CKV_GCP_7": ("legacy ABAC",),
    "CKV_GCP_13": ("client certificate",),
}
#: Graph checks whose verdict is on the resource that IAM resources grant access to: the argument
#: by which the grant names it. A finding on a grant is a finding on what it grants access to.
TARGETS: dict[str, str] = {"CKV2_GCP_6": "cryptoKeyId", "CKV2_GCP_8": "keyRingId"}
_REF = re.compile(r"^\$\{([a-z0-9_]+\.[A-Za-z0-9_-]+)\.id\}$")
_JSONENCODE = re.compile(r"^\$\{jsonencode\((.*)\)\}$", re.S)
_HEREDOC = re.compile(r"^<<-?([A-Za-z_]+)\n(.*)\n\s*\1$", re.S)
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


def _unquote(value: Any, *, camel: bool = True) -> Any:
    """An HCL value as Pulumi holds it: quotes stripped, a ``jsonencode(...)`` or heredoc
    document as the JSON text Terraform hands the provider, block keys camelCase (a document's own
    keys kept), python-hcl2's ``__is_block__`` markers dropped."""
    if isinstance(value, str):
        encoded = _JSONENCODE.match(value)
        if encoded:
            return json.dumps(_unquote(hcl2.loads(f"x = {encoded.group(1)}\n")["x"], camel=False))
        text = value.strip('"')
        heredoc = _HEREDOC.match(text)
        return heredoc.group(2) if heredoc else text
    if isinstance(value, list):
        return [_unquote(v, camel=camel) for v in value]
    if isinstance(value, dict):
        return {
            (_camel(k) if camel else k): _unquote(v, camel=camel)
            for k, v in ((str(k).strip('"'), v) for k, v in value.items())
            if not k.startswith("__")
        }
    return value


def _props(conf: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in conf.items():
        if key.startswith("__"):
            continue
        single = isinstance(value, list) and len(value) == 1 and key not in LISTS
        out[_camel(key)] = _unquote(value[0] if single else value)
    return out


def _unwrapped(value: Any) -> Any:
    """checkov's list-wrapped ``resource_conf`` (every attribute a one-item list, every block a
    list of dicts) as python-hcl2 reads the same HCL: attributes bare, blocks lists."""
    if isinstance(value, list) and len(value) == 1 and not isinstance(value[0], dict):
        return value[0]
    if isinstance(value, list):
        return [
            {k: _unwrapped(v) for k, v in i.items()} if isinstance(i, dict) else i for i in value
        ]
    return value


def _record(key: str, tf_type: str, conf: dict[str, Any]) -> ResourceRecord:
    token = TF_TYPES[tf_type][0]
    return ResourceRecord(
        urn=f"urn:pulumi:parity::checkov::{token}::{key}",
        type=token,
        name=key,
        props=_props(conf),
        source="fixture",
    )


def records(folder: Path, types: list[str] | None = None) -> dict[str, ResourceRecord]:
    """``<file>#<type>.<name>`` -> the record of each resource of the folder's ``.tf`` files (a
    name declared twice gets a ``~<n>`` suffix), and ``<file>`` -> the record of each unit test's
    ``.conf.json`` (of the check's resource type, the first of ``types``)."""
    out: dict[str, ResourceRecord] = {}
    for file in sorted(folder.glob("*.tf")):
        for block in hcl2.loads(file.read_text()).get("resource", []):
            for tf_type, named in block.items():
                tf_type = tf_type.strip('"')
                for name, conf in named.items():
                    key = f"{file.name}#{tf_type}.{name.strip(chr(34))}"
                    n = 1
                    while key in out:
                        n += 1
                        key = f"{key.split('~')[0]}~{n}"
                    out[key] = _record(key, tf_type, conf)
    for file in sorted(folder.glob("*.conf.json")):
        raw = json.loads(file.read_text())
        conf = {k: _unwrapped(v) for k, v in raw.items()}
        out[file.name] = _record(file.name, (types or [""])[0], conf)
    return out


def verdicts(check: str) -> Iterator[Case]:
    folder = FIXTURES / check
    expected = json.loads((folder / "expected.json").read_text())
    recs = records(folder, expected.get("types"))
    found: dict[str, list[str]] = {key: [] for key in recs}
    words = ABOUT.get(check)
    target = TARGETS.get(check)
    for v in run(list(recs.values()), policies=policies_for(check)).violations:
        key = (v.urn or "").rsplit("::", 1)[-1]
        if key not in found or (words is not None and not any(w in v.message for w in words)):
            continue
        found[key].append(v.message)
        ref = _REF.match(str(recs[key].props.get(target, ""))) if target else None
        if ref and f"{key.split('#')[0]}#{ref.group(1)}" in found:
            found[f"{key.split('#')[0]}#{ref.group(1)}"].append(v.message)
    yield from cases(check, expected, recs, found)


@cache
def all_cases() -> tuple[Case, ...]:
    return tuple(c for d in sorted(FIXTURES.iterdir()) if d.is_dir() for c in verdicts(d.name))


def test_every_mapped_gcp_id_has_vendored_fixtures() -> None:
    assert fixture_problems(FIXTURES, mapped_ids("CKV_GCP_", "CKV2_GCP_")) == []


def test_every_vendored_gcp_fixture_records_its_source() -> None:
    sources = (FIXTURES.parent / "SOURCES.md").read_text()
    for spec in FIXTURES.glob("*/expected.json"):
        check = spec.parent.name
        assert f"| {check} | `{json.loads(spec.read_text())['check']}` |" in sources, check


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
            "`tests/fixtures/checkov/gcp/`: example folders with checkov 3.3.30's verdicts or "
            "their tests' passing and failing sets, graph checks' `expected.yaml`, unit tests' "
            "HCL or `resource_conf` with their results) become pulumi-gcp resource records "
            "(pulumi-gcp is bridged from the google provider: type tokens checked against the "
            "installed SDK, arguments to camelCase) and are judged by the pack's policies for that "
            "ID; a graph check's verdict on a key or key ring is the verdict on the grants that "
            "name it; asserted by `tests/policies/test_checkov_parity_gcp.py`."
        ),
        all_cases(),
        policies_for,
        DIFFERENCES,
    )
