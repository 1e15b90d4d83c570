"""The plan of both stacks against a golden capture made before the backend seam was built.

The refactor into estate → backends must declare the same AWS resources with the same inputs and
options. URNs may change only where a component moved (a resource is then found under another
parent chain), so resources are compared by ``type::name`` with every URN they mention reduced to
the same form. Regenerated once since, deliberately: when role policies were fitted into AWS's inline-policy
quota (issue 8), the only inputs that changed were the statements of ``admin-access`` (dev, prod)
and ``rotation-access`` (prod), merged where they granted on the same resources. Regenerate
deliberately, after reviewing the diff:
``nt-secrets plan --stack dev --format json > tests/fixtures/golden/plan-dev.json`` (and prod).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.backends.aws.rotation import lambda_archive
from nt_secrets.capture import Capture
from nt_secrets.plan import plan_document

from .conftest import ROOT

GOLDEN = ROOT / "tests" / "fixtures" / "golden"
#: Where the checkout was when the golden capture was made.
GOLDEN_ROOT = "/work/main"
# Components that did not exist when the golden capture was made: the split of the rotation
# component into its function and notification parts (README, "Architecture").
NEW_COMPONENTS: frozenset[str] = frozenset(
    {"neural-trader:aws:RotationFunction", "neural-trader:aws:RotationNotifications"}
)


def _short(urn: str) -> str:
    """``urn:pulumi:s::p::a$b$type::name`` -> ``type::name``."""
    qualified, _, name = urn.rpartition("::")
    return f"{qualified.rsplit('$', 1)[-1].rsplit('::', 1)[-1]}::{name}"


def _normalise(resource: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    r = dict(resource)
    key = _short(r.pop("urn"))
    r["parent"] = _short(r["parent"]) if r.get("parent") else r.get("parent")
    r["dependencies"] = sorted(_short(u) for u in r.get("dependencies", []))
    options = dict(r.get("options", {}))
    if options.get("provider"):
        options["provider"] = _short(options["provider"])
    r["options"] = options
    return key, r


#: Backends added since the golden capture: their resources are judged by their own tests.
NEW_BACKENDS = (
    "neural-trader:vault:",
    "neural-trader:gcp:",
    "neural-trader:azure:",
    "neural-trader:kubernetes:",
)


def _by_key(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    resources = [r for r in doc["resources"] if not any(b in r["urn"] for b in NEW_BACKENDS)]
    out = dict(_normalise(r) for r in resources)
    return {k: v for k, v in out.items() if v["type"] not in NEW_COMPONENTS}


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_plan_matches_the_golden_capture(name: str, dev: Capture, prod: Capture) -> None:
    capture = {"dev": dev, "prod": prod}[name]
    # The capture holds absolute paths (the Lambda archive): where the checkout and the build
    # directory are is not content.
    golden = json.loads((GOLDEN / f"plan-{name}.json").read_text().replace(GOLDEN_ROOT, "<root>"))
    built = str(lambda_archive().parent)
    now = json.loads(
        json.dumps(plan_document(capture))
        .replace(built, "<root>/build/rotation")
        .replace(str(ROOT), "<root>")
    )
    want, got = _by_key(golden), _by_key(now)
    assert sorted(got) == sorted(want), "resources added or removed"
    for key in sorted(want):
        w, g = want[key], got[key]
        # A resource re-parented under a new component is a move, not a change.
        if g["parent"] != w["parent"] and g["parent"].split("::")[0] in NEW_COMPONENTS:
            g = {**g, "parent": w["parent"]}
        assert g == w, f"{key} changed"
