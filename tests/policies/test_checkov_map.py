"""The checkov map (issue 21, class 6): every checkov check for the resource types the secret
stores and their consumers use is classified, and the classification agrees with the pack.

``tests/fixtures/checkov/catalogue.json`` lists the checks (id, title, resource types, source
path; written from a checkov clone by ``vendor.py catalogue``); ``tests/policies/checkov_map.yaml``
classifies each as implemented, deliberately different, not applicable or pending, with the
reason. An implemented ID is one a pack policy carries in its spec's ``checkov`` tuple (the map
does not repeat which: the pack is the single source) and whose checkov fixtures the parity
tests judge; every other ID says why. The mapping section of docs/checkov-parity.md is rendered
from the two files (:func:`render_markdown`).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from policies.pack import ALL
from tests.policies.parity import mapped_ids, policies_for

ROOT = Path(__file__).resolve().parent.parent.parent
CATALOGUE = ROOT / "tests" / "fixtures" / "checkov" / "catalogue.json"
MAP = Path(__file__).resolve().parent / "checkov_map.yaml"
DOCS = ROOT / "docs" / "checkov-parity.md"
FIXTURES = ROOT / "tests" / "fixtures" / "checkov"

STATUSES = ("implemented", "different", "not-applicable", "pending")
#: Where each provider's vendored fixtures live (the parity test that judges them).
FIXTURE_FOLDERS = {
    "CKV_AWS_": FIXTURES,
    "CKV2_AWS_": FIXTURES,
    "CKV_GCP_": FIXTURES / "gcp",
    "CKV2_GCP_": FIXTURES / "gcp",
    "CKV_K8S_": FIXTURES / "kubernetes",
    "CKV2_K8S_": FIXTURES / "kubernetes",
}


@cache
def catalogue() -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in json.loads(CATALOGUE.read_text())["checks"]}


@cache
def classification() -> dict[str, dict[str, Any]]:
    return dict(yaml.safe_load(MAP.read_text())["checks"])


def _fixtures_of(check: str) -> Path | None:
    for prefix, folder in FIXTURE_FOLDERS.items():
        if check.startswith(prefix):
            return folder / check
    return None


def test_the_catalogue_comes_from_the_vendored_commit() -> None:
    commit = json.loads(CATALOGUE.read_text())["commit"]
    assert len(commit) == 12
    assert f"commit `{commit}" in (FIXTURES / "SOURCES.md").read_text()


def test_every_catalogued_check_is_classified_once() -> None:
    assert sorted(set(catalogue()) - set(classification())) == []
    assert sorted(set(classification()) - set(catalogue())) == []


def test_every_entry_is_well_formed() -> None:
    ids = {p.spec.id for p in ALL}
    for check, entry in classification().items():
        assert entry.get("status") in STATUSES, check
        assert set(entry) <= {"status", "why", "see", "note"}, check
        if entry["status"] != "implemented":
            assert isinstance(entry.get("why"), str) and len(entry["why"]) > 20, check
        assert set(entry.get("see") or ()) <= ids, check


def test_implemented_means_a_policy_carries_the_id() -> None:
    for check, entry in classification().items():
        carried = bool(policies_for(check))
        assert carried == (entry["status"] == "implemented"), (
            f"{check}: {entry['status']} but {'a' if carried else 'no'} policy carries it"
        )


def test_every_id_the_pack_carries_is_catalogued() -> None:
    """(CKV_SECRET_* are the IDs of checkov's secret scanner, not resource checks.)"""
    assert sorted(mapped_ids("CKV") - set(catalogue()) - mapped_ids("CKV_SECRET_")) == []


def test_implemented_ids_have_vendored_fixtures_or_say_why_not() -> None:
    """Every implemented AWS, GCP and Kubernetes ID is judged on checkov's own fixtures (Azure IDs
    are not: azure-native is not bridged from azurerm, see the rendered section)."""
    for check, entry in classification().items():
        folder = _fixtures_of(check)
        if entry["status"] == "implemented" and folder is not None:
            assert (folder / "expected.json").is_file(), f"{check}: no vendored fixtures"


def test_the_mapping_is_published() -> None:
    text = DOCS.read_text().splitlines()
    for line in render_markdown().splitlines():
        assert line in text, line


def _escape(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def render_markdown() -> str:
    """The mapping section of docs/checkov-parity.md (written by the AWS parity module's main)."""
    entries = classification()
    counts = {s: sum(e["status"] == s for e in entries.values()) for s in STATUSES}
    commit = json.loads(CATALOGUE.read_text())["commit"]
    lines = [
        "## Mapping of every checkov check for the stores and their consumers",
        "",
        "Every checkov check (commit "
        f"`{commit}`) whose resource types are those of the secret stores "
        "and their consumers (secrets, keys, IAM, functions, clusters, automation and "
        "configuration stores, secret engines; checkov has no check for the vault provider), the "
        "Kubernetes checks about Secrets, RBAC, service accounts and the control plane's secret "
        "handling, and every ID the pack maps: listed by `tests/fixtures/checkov/vendor.py "
        "catalogue` in `catalogue.json`, classified in `tests/policies/checkov_map.yaml`, asserted "
        "by `tests/policies/test_checkov_map.py`. Implemented IDs are judged on checkov's own "
        "fixtures in the sections above, apart from the Azure IDs (checkov's Azure fixtures are "
        "azurerm Terraform; azure-native is not bridged from azurerm, so there is no mechanical "
        "translation: the pack's own cases judge them).",
        "",
        f"**{len(entries)} checks: {counts['implemented']} implemented, {counts['different']} "
        f"deliberately different, {counts['not-applicable']} not applicable, "
        f"{counts['pending']} pending.**",
        "",
        "| checkov ID | check | resource types | status | pack policies / why |",
        "|---|---|---|---|---|",
    ]
    for check, meta in catalogue().items():
        entry = entries[check]
        if entry["status"] == "implemented":
            detail = ", ".join(f"`{p.spec.id}`" for p in policies_for(check))
            if entry.get("note"):
                detail += f" ({_escape(entry['note'])})"
        else:
            detail = _escape(entry["why"])
            if entry.get("see"):
                detail += "; see " + ", ".join(f"`{p}`" for p in entry["see"])
        types = ", ".join(f"`{t}`" for t in meta["types"][:6])
        if len(meta["types"]) > 6:
            types += f" (+{len(meta['types']) - 6})"
        lines.append(
            f"| {check} | {_escape(meta['title'])} | {types} | {entry['status']} | {detail} |"
        )
    lines.append("")
    return "\n".join(lines)
