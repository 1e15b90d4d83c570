"""checkov parity for the Kubernetes IDs the pack maps (issue 9, item 8, beyond AWS).

checkov's own example manifests for each mapped ``CKV_K8S_*``/``CKV2_K8S_*`` check are vendored
under ``tests/fixtures/checkov/kubernetes/<ID>/`` (Apache-2.0; ``SOURCES.md`` beside the AWS ones
records the commit), with ``expected.json``: checkov 3.3.30's own verdict on each resource of
those files (``<file>#<Kind>.<namespace>.<name>``), which agrees with checkov's tests of them.
Each manifest becomes the Pulumi resource record the pack judges (``kubernetes:<group>/<version>:
<kind>``, the manifest's fields as its inputs: pulumi-kubernetes names them as the API does) and
the pack's policies for that ID judge it; a policy that bundles several IDs is judged per ID on
the verbs and resources that ID is about. A folder's resources are judged together, as checkov's
run over the folder judges them; a graph check that reports a binding of a ServiceAccount or Node
to a role holding a risky rule (CKV2_K8S_2, 3) gets, for that binding, the pack's verdict on the
role it refers to (the pack reports the rule on the role, once, however many bindings use it).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

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

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "checkov" / "kubernetes"

#: Per checkov ID of a policy that bundles several: the words a finding names when it is about
#: what that ID checks (the pack's messages name the verb and the resource).
ABOUT: dict[str, tuple[str, ...]] = {
    "CKV_K8S_155": ("admission webhooks",),
    "CKV_K8S_156": ("certificate signing requests",),
    "CKV_K8S_157": ("bind on",),
    "CKV_K8S_158": ("escalate on",),
    "CKV2_K8S_2": ("exec into pods", "nodes/proxy"),
    "CKV2_K8S_3": ("impersonate",),
}
#: Graph checks that report the binding of a ServiceAccount or Node to a role holding a risky
#: rule, where the pack reports the role itself (once, however many bind it): a binding's verdict
#: is the pack's verdict on the role it refers to (``roleRef``) in the same folder.
ON_THE_ROLE: frozenset[str] = frozenset({"CKV2_K8S_2", "CKV2_K8S_3"})
#: Where the pack deliberately judges otherwise, with the reason.
DIFFERENCES: dict[tuple[str, str], str] = {
    ("CKV_K8S_157", "clusterrole-failed-1.yaml#ClusterRole.test.test-should-fail-1"): (
        "checkov looks for bind on rolebindings and clusterrolebindings; the API server checks "
        "bind on the Role or ClusterRole a binding refers to (Kubernetes RBAC, restrictions on "
        "role binding creation), so bind on bindings grants nothing: the pack reports bind on "
        "roles and clusterroles (the fixture's other failing case)"
    ),
    ("CKV2_K8S_2", "Failing/4/clusterrolebinding4.yaml#ClusterRoleBinding.default.failing-crb4"): (
        "checkov matches resources '*' whatever the rule's apiGroups; this rule's '*' is of "
        "rbac.authorization.k8s.io, which holds neither pods/exec nor nodes/proxy (core group), "
        "so it grants neither: the pack reports the role for what it does grant, bind on roles "
        "and clusterroles (CKV_K8S_157)"
    ),
    ("CKV2_K8S_2", "Passing/2/clusterrolebinding2.yaml#ClusterRoleBinding.default.passing-crb2"): (
        "checkov counts only create on nodes/proxy; the kubelet authorizes a request by its HTTP "
        "method and a WebSocket exec is a GET, so get on nodes/proxy (bound here cluster-wide to "
        "a ServiceAccount) runs commands in every pod of every node, past admission control and "
        "audit (Kubernetes RBAC good practices: nodes/proxy): the pack reports it as it reports "
        "get on pods/exec (metrics scrapers use nodes/metrics)"
    ),
}
DOCS = Path(__file__).resolve().parent.parent.parent / "docs" / "checkov-parity.md"


def token(manifest: dict[str, Any]) -> str:
    """The pulumi-kubernetes type token of a manifest (``v1`` is the ``core`` group)."""
    group, _, version = str(manifest["apiVersion"]).rpartition("/")
    return f"kubernetes:{group or 'core'}/{version}:{manifest['kind']}"


def checkov_id(manifest: dict[str, Any]) -> str:
    """checkov's resource name: ``<Kind>.<namespace>.<name>`` (namespace ``default`` if none)."""
    meta = manifest.get("metadata") or {}
    return f"{manifest['kind']}.{meta.get('namespace', 'default')}.{meta.get('name')}"


def records(path: Path) -> dict[str, ResourceRecord]:
    """``<file>#<checkov id>`` -> the record of each manifest in ``path`` (a file or a folder)."""
    out: dict[str, ResourceRecord] = {}
    files = sorted(path.rglob("*.yaml")) if path.is_dir() else [path]
    for file in files:
        if file.name == "expected.yaml":
            continue
        for manifest in yaml.safe_load_all(file.read_text()):
            if not isinstance(manifest, dict) or "kind" not in manifest:
                continue
            key = (
                f"{file.relative_to(path if path.is_dir() else file.parent)}#{checkov_id(manifest)}"
            )
            urn = f"urn:pulumi:parity::checkov::{token(manifest)}::{key}"
            out[key] = ResourceRecord(
                urn=urn, type=token(manifest), name=key, props=manifest, source="fixture"
            )
    return out


def _role_key(binding: ResourceRecord, recs: dict[str, ResourceRecord]) -> str | None:
    """The key of the role a binding refers to, among ``recs`` (a RoleBinding's Role lies in the
    binding's namespace; a ClusterRole in none)."""
    ref = binding.props.get("roleRef") or {}
    meta = binding.props.get("metadata") or {}
    namespace = meta.get("namespace", "default") if ref.get("kind") == "Role" else None
    for key, rec in recs.items():
        role_meta = rec.props.get("metadata") or {}
        if (
            rec.props.get("kind") == ref.get("kind")
            and role_meta.get("name") == ref.get("name")
            and (namespace is None or role_meta.get("namespace", "default") == namespace)
        ):
            return key
    return None


def _about(check: str, message: str) -> bool:
    words = ABOUT.get(check)
    return words is None or any(w in message.lower() for w in words)


def verdicts(check: str) -> Iterator[Case]:
    folder = FIXTURES / check
    expected = json.loads((folder / "expected.json").read_text())
    recs = records(folder)
    policies = policies_for(check)
    found: dict[str, list[str]] = {key: [] for key in recs}
    # the folder's resources together, as checkov's run over the folder sees them (a graph
    # check's binding and role lie in different files)
    for v in run(list(recs.values()), policies=policies).violations:
        key = (v.urn or "").rsplit("::", 1)[-1]
        if key in found and _about(check, v.message):
            found[key].append(v.message)
    if check in ON_THE_ROLE:
        for key, rec in recs.items():
            if rec.props.get("kind") in ("RoleBinding", "ClusterRoleBinding"):
                role = _role_key(rec, recs)
                found[key] = list(found[role]) if role is not None else []
    yield from cases(check, expected, recs, found)


@cache
def all_cases() -> tuple[Case, ...]:
    return tuple(c for d in sorted(FIXTURES.iterdir()) if d.is_dir() for c in verdicts(d.name))


def test_every_mapped_kubernetes_id_has_vendored_fixtures() -> None:
    assert fixture_problems(FIXTURES, mapped_ids("CKV_K8S_", "CKV2_K8S_")) == []


@pytest.mark.parametrize("case", all_cases(), ids=lambda c: f"{c.check}:{c.resource}")
def test_verdict_agrees_with_checkov_or_is_a_listed_difference(case: Case) -> None:
    assert_verdict(case, DIFFERENCES)


def test_the_mappings_are_earned() -> None:
    """Each mapped ID's policy catches at least one of checkov's failing cases."""
    assert unearned(mapped_ids("CKV_K8S_", "CKV2_K8S_"), all_cases()) == []


def test_the_differences_are_documented() -> None:
    text = DOCS.read_text()
    for (check, resource), reason in DIFFERENCES.items():
        assert f"| {check} | `{resource}` | {reason} |" in text
    for line in render_markdown().splitlines():
        assert line in text.splitlines(), line


def render_markdown() -> str:
    """The Kubernetes section of docs/checkov-parity.md (written by the AWS module's main)."""
    return render_section(
        "Kubernetes",
        (
            "checkov's own example manifests for each mapped Kubernetes ID (vendored under "
            "`tests/fixtures/checkov/kubernetes/`, with checkov 3.3.30's verdict on each resource) "
            "become Pulumi Kubernetes resource records (type token from the manifest's apiVersion "
            "and kind, the manifest's fields as inputs) and are judged by the pack's policies for "
            "that ID, a folder's resources together (a graph check that reports the binding of a "
            "risky role, CKV2_K8S_2 and 3, is judged on the role the binding refers to: the pack "
            "reports the role); asserted by "
            "`tests/policies/test_checkov_parity_kubernetes.py`."
        ),
        all_cases(),
        policies_for,
        DIFFERENCES,
    )
